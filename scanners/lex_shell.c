/*
 * lex_shell.c - the shell and Dockerfile tokenizers.
 *
 * Shell: one token per word. A word without quotes or expansions is a TOK_IDENT (`rm`,
 * `-rf`, `/tmp/x`); a word with quotes or expansions is a TOK_STRING whose flags say
 * whether it expands something unquoted (TOKF_EXPANSION: `$dir/x`, `$(cmd)`) or inside
 * double quotes (TOKF_INTERP: "$dir"). An assignment word `NAME=value` becomes NAME, `=`
 * and the value. Operators (| || && ; & ( ) < > >> ...) are TOK_PUNCT, a newline is TOK_EOL,
 * a heredoc body is one TOK_STRING. Nested $( ), ${ }, quotes and backquotes are skipped
 * with a depth cap.
 *
 * Dockerfile: parser directives (escape), comment lines, and logical lines joined by the
 * escape character; each instruction is its keyword (compared case-insensitively) and
 * then either a JSON array (exec form) or shell words, and ends with TOK_EOL. Heredocs
 * (RUN <<EOF) extend the instruction to their terminator. The body of a RUN heredoc that a
 * shell runs is the RUN's commands (BuildKit: a bare `RUN <<EOF` runs its body in the
 * shell unless it starts with a #! of another program; `<<EOF bash`, `<<EOF sudo -E sh`,
 * `<<EOF env X=1 sh`, `<<EOF sudo -s` and `cat <<EOF | tee log | sh` give it to a shell as
 * its input; ONBUILD RUN as RUN): the RUN's line
 * ends before it, and each line of it is a RUN of its own, an empty TOKF_IMPLIED token
 * standing for the keyword, so that `RUN ...` patterns match in it and report its line. Other
 * bodies (COPY's files, `<<EOF python3`, cat's input) stay one string; a COPY or ADD body's
 * $( ) is text, not a shell region. Only the RUN's own heredocs are read so, each body
 * once: linear. A Dockerfile's command substitution, lexed again as a region for the
 * Dockerfile's rules (lex_dockerfile_commands()), is read as such a body's lines.
 */
#include "lex_impl.h"
#include "util.h"

#include "banned.h"

#define SHELL_MAX_NEST	   64
#define SHELL_MAX_HEREDOCS 16
/* Commands followed after a heredoc's reader towards a shell (`cat <<EOF | sed .. | sh`);
 * a longer pipe is taken to reach one (fail closed: its body is read as commands). */
#define SHELL_MAX_PIPE_STAGES 32

/* A heredoc's terminator word, quotes removed (E"O"F, 'EOF' and \EOF are EOF). */
struct hdelim {
	char w[128];
	size_t len;  /* 0: none, or too long to keep (then no heredoc is taken) */
	bool quoted; /* any quote in the word: the body expands nothing */
};

struct heredoc {
	struct hdelim d;
	bool strip_tabs;
	uint32_t op_tok;  /* its << token */
	uint32_t cmd_tok; /* the first token of the command it is in */
};

struct shst {
	struct lexst *L;
	size_t to;
	bool dockerfile;
	char cont;
	struct heredoc hd[SHELL_MAX_HEREDOCS];
	size_t n_hd;
	/* A Dockerfile RUN's words: its keyword token, the first token after it, and the first
	 * token of the current command (TOK_NONE: not a RUN). */
	uint32_t run_tok, args_tok, cmd_tok;
	/* A RUN heredoc body read as commands: each line starts with a TOKF_IMPLIED token. */
	bool implied;
	bool line_start;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\0';
}

static bool is_op_char(char c)
{
	return c == '|' || c == '&' || c == ';' || c == '(' || c == ')' || c == '<' || c == '>';
}

static size_t skip_nested(const struct shst *S, size_t i, char open, char close, unsigned nest);
static void body_regions(const struct shst *S, size_t b, size_t e, unsigned nest);

/*
 * The delimiter word of a heredoc, from i (after << or <<-), into *d with the shell's quote
 * removal; *start is where the word starts. Returns the end of the word.
 */
static size_t delim_word(const struct shst *S, size_t i, size_t *start, struct hdelim *d)
{
	const char *s = S->L->s;
	bool too_long = false;
#define PUT(ch)                                  \
	do {                                     \
		if (d->len + 1 < sizeof(d->w)) { \
			d->w[d->len++] = (ch);   \
		} else {                         \
			too_long = true;         \
		}                                \
	} while (0)
	while (i < S->to && (s[i] == ' ' || s[i] == '\t')) {
		i++;
	}
	*start = i;
	d->len = 0;
	d->quoted = false;
	while (i < S->to && !is_blank(s[i]) && s[i] != '\n' && !is_op_char(s[i])) {
		char c = s[i];
		if (c == '\'' || c == '"') {
			d->quoted = true;
			size_t j = i + 1;
			for (; j < S->to && s[j] != c && s[j] != '\n'; j++) {
				PUT(s[j]);
			}
			i = j < S->to && s[j] == c ? j + 1 : j;
		} else if (c == '\\' && i + 1 < S->to && s[i + 1] != '\n') {
			d->quoted = true;
			PUT(s[i + 1]);
			i += 2;
		} else {
			PUT(c);
			i++;
		}
	}
#undef PUT
	if (too_long) {
		d->len = 0;
	}
	return i;
}

/*
 * A heredoc body from i (the line after its command): *body_end is where its terminator
 * line (the delimiter d, leading blanks ignored: <<- strips tabs, and YAML scripts are
 * indented) starts, or S->to; *interp when an unquoted body expands something. Returns the
 * index after the terminator line.
 */
static size_t heredoc_end(const struct shst *S, size_t i, const struct hdelim *d, size_t *body_end,
			  bool *interp)
{
	const char *s = S->L->s;
	*interp = false;
	while (i < S->to) {
		const char *nl = memchr(s + i, '\n', S->to - i);
		size_t le = nl ? (size_t)(nl - s) : S->to;
		size_t ls = i;
		while (ls < le && (s[ls] == '\t' || s[ls] == ' ')) {
			ls++;
		}
		size_t te = le;
		while (te > ls && s[te - 1] == '\r') {
			te--;
		}
		if (te - ls == d->len && memcmp(s + ls, d->w, d->len) == 0) {
			*body_end = i;
			return nl ? le + 1 : le;
		}
		if (!d->quoted && (memchr(s + i, '$', le - i) || memchr(s + i, '`', le - i))) {
			*interp = true;
		}
		i = nl ? le + 1 : le;
	}
	*body_end = S->to;
	return S->to;
}

/* Register a heredoc (its << is token op) whose delimiter word starts at i; returns the end
 * of the word. */
static size_t heredoc_word(struct shst *S, size_t i, bool strip_tabs, uint32_t op)
{
	size_t start;
	struct heredoc h = { .strip_tabs = strip_tabs, .op_tok = op, .cmd_tok = S->cmd_tok };
	i = delim_word(S, i, &start, &h.d);
	if (i > start) {
		lex_push(S->L, TOK_IDENT, start, i - start, 0);
	}
	if (h.d.len && S->n_hd < SHELL_MAX_HEREDOCS) {
		S->hd[S->n_hd++] = h;
	}
	return i;
}

static void shell_words(struct shst *S, size_t from);

/* The shell words of [from, to) of a Dockerfile, each line a RUN of its own: a heredoc
 * body that a shell runs, a command substitution read again for the Dockerfile rules. */
static void implied_run_words(struct lexst *L, size_t from, size_t to)
{
	struct shst S = { .L = L,
			  .to = to,
			  .cont = '\\',
			  .run_tok = TOK_NONE,
			  .args_tok = TOK_NONE,
			  .cmd_tok = TOK_NONE,
			  .implied = true,
			  .line_start = true };
	shell_words(&S, from);
}

static bool tok_is(const struct lexst *L, const struct token *k, const char *const *list)
{
	for (; *list; list++) {
		if (k->len == strlen(*list) && memcmp(L->s + k->off, *list, k->len) == 0) {
			return true;
		}
	}
	return false;
}

static const char *const command_ends[] = { ";", "&", "&&", "||", "|", "|&", ";;", "(", ")", NULL };
static const char *const redirections[] = { "<",  ">",	">>", "<<", "<<-", "<<<",
					    ">&", "<&", "&>", ">|", "<>",  NULL };

static bool all_digits(const char *w, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		if (!isdigit((unsigned char)w[j])) {
			return false;
		}
	}
	return n > 0;
}

/* A shell's name (a path's last component): what runs its standard input as commands. */
static bool is_shell_name(const char *w, size_t n)
{
	static const char *const shells[] = { "sh",  "bash", "dash", "ash",
					      "zsh", "ksh",  "mksh", NULL };
	for (size_t j = n; j > 0; j--) {
		if (w[j - 1] == '/') {
			w += j;
			n -= j;
			break;
		}
	}
	for (const char *const *p = shells; *p; p++) {
		if (strlen(*p) == n && memcmp(w, *p, n) == 0) {
			return true;
		}
	}
	return false;
}

static bool word_is(const struct lexst *L, const struct token *k, const char *w)
{
	return k->kind == TOK_IDENT && k->len == strlen(w) && memcmp(L->s + k->off, w, k->len) == 0;
}

/*
 * A text filter: what it reads from its input (a heredoc) goes on, changed or not, to its
 * output (tee copies it, sed and tr edit it, gunzip and base64 -d decode it). Its operands
 * are not read: `sed s/x/y/ f <<EOF | sh` is taken to pass the body on.
 */
static bool is_filter_name(const char *w, size_t n)
{
	static const char *const filters[] = {
		"tee",	   "sed",      "tr",	 "grep",     "egrep",  "fgrep",	   "head",
		"tail",	   "awk",      "gawk",	 "mawk",     "cut",    "sort",	   "uniq",
		"rev",	   "envsubst", "iconv",	 "zcat",     "gunzip", "gzip",	   "xz",
		"unxz",	   "xzcat",    "bzip2",	 "bunzip2",  "bzcat",  "zstd",	   "unzstd",
		"zstdcat", "base64",   "base32", "dos2unix", "expand", "unexpand", "fold",
		"fmt",	   "nl",       NULL
	};
	for (const char *const *p = filters; *p; p++) {
		if (strlen(*p) == n && memcmp(w, *p, n) == 0) {
			return true;
		}
	}
	return false;
}

/* A sudo option that takes the next word as its value (-u app, -Eu app, --user app). */
static bool sudo_option_arg(const char *w, size_t n)
{
	static const char *const longs[] = {
		"--user", "--group",	       "--close-from", "--chdir",
		"--host", "--prompt",	       "--chroot",     "--role",
		"--type", "--command-timeout", "--other-user", NULL
	};
	if (n >= 2 && w[1] == '-') {
		for (const char *const *p = longs; *p; p++) {
			if (strlen(*p) == n && memcmp(w, *p, n) == 0) {
				return true;
			}
		}
		return false;
	}
	return n >= 2 && strchr("CDghpRrtTUu", w[n - 1]) != NULL;
}

/* One command of a RUN's first line, as read by read_command(). */
struct reader {
	bool words;	   /* a word, an assignment or a redirection besides the heredoc's own */
	bool shell;	   /* a shell (under sudo too) that reads its input as commands */
	bool cat;	   /* cat copying its input: no operand but `-` */
	bool filter;	   /* tee, sed, tr ...: its output is made from its input */
	bool stdin_redir;  /* a redirection of its input after the heredoc's (`< f`, `<<X`) */
	bool stdout_redir; /* of its output (`> f`, `>&2`, `&> f`) */
	uint32_t end;	   /* the token that ends it (`|`, `&&` ...), or hdr_end */
};

/*
 * An env option word that takes the next word as its value: -u NAME, -C dir, -P path (BSD),
 * -a NAME (GNU's argv0), also at the end of other letters (-iu NAME), and --unset,
 * --chdir, --argv0 without `=`. A letter that takes a value takes the rest of the word when
 * there is one (-uHOME, -iuHOME).
 */
static bool env_option_arg(const char *w, size_t n)
{
	static const char *const longs[] = { "--unset", "--chdir", "--argv0", NULL };
	if (n >= 2 && w[1] == '-') {
		for (const char *const *p = longs; *p; p++) {
			if (strlen(*p) == n && memcmp(w, *p, n) == 0) {
				return true;
			}
		}
		return false;
	}
	for (size_t j = 1; j < n; j++) {
		if (strchr("uCPa", w[j])) {
			return j + 1 == n;
		}
	}
	return false;
}

/* What the words of an `env -S STRING` leave env at (split_string()). */
enum env_split {
	SPLIT_ENV,	  /* options still: the next word may be one */
	SPLIT_VARS,	  /* after a NAME=value: the next word is the program */
	SPLIT_PROG,	  /* after `--`: the next word is the program */
	SPLIT_SHELL,	  /* a shell, reading its input so far */
	SPLIT_SHELL_END,  /* a shell after `-` or `--`: a word after is a script */
	SPLIT_SHELL_ARGS, /* a shell after -s: the words after are its arguments */
	SPLIT_OTHER,	  /* another program, or a shell given -c or a script */
};

/* The text of a word without the quotes around it ('sh -e', "sh"). */
static void unquote(const char **w, size_t *n)
{
	if (*n >= 2 && ((*w)[0] == '\'' || (*w)[0] == '"') && (*w)[*n - 1] == (*w)[0]) {
		(*w)++;
		*n -= 2;
	}
}

/*
 * The words of env -S's string [v, v + n), split at blanks, read as env reads them: its
 * options, NAME=value words, the program, and a shell's options (as read_command() reads
 * them); an escape or a quote inside the string is not undone (a word so written is taken
 * for what it shows). Returns where that leaves env.
 */
static enum env_split split_string(const char *v, size_t n)
{
	enum env_split st = SPLIT_ENV;
	bool skip = false; /* the value of the option before */
	unquote(&v, &n);
	for (size_t i = 0; i < n;) {
		while (i < n && is_blank(v[i])) {
			i++;
		}
		size_t b = i;
		while (i < n && !is_blank(v[i])) {
			i++;
		}
		if (i == b) {
			break;
		}
		const char *w = v + b;
		size_t wn = i - b;
		unquote(&w, &wn);
		bool opt = wn >= 2 && w[0] == '-';
		if (skip) {
			skip = false;
			continue;
		}
		switch (st) {
		case SPLIT_ENV:
			if (wn == 2 && memcmp(w, "--", 2) == 0) {
				st = SPLIT_PROG;
				continue;
			}
			if (opt) {
				if (w[1] != '-' && memchr(w, 'S', wn)) {
					return SPLIT_OTHER; /* another string in it: not read */
				}
				skip = env_option_arg(w, wn);
				continue;
			}
			if (wn == 1 && w[0] == '-') {
				continue;
			}
			/* fall through */
		case SPLIT_VARS:
			if (wn > 1 && w[0] != '=' && memchr(w, '=', wn)) {
				st = SPLIT_VARS;
				continue;
			}
			/* fall through */
		case SPLIT_PROG:
			st = is_shell_name(w, wn) ? SPLIT_SHELL : SPLIT_OTHER;
			break;
		case SPLIT_SHELL:
			if ((wn == 2 && memcmp(w, "--", 2) == 0) || (wn == 1 && w[0] == '-')) {
				st = SPLIT_SHELL_END;
			} else if (opt && w[1] != '-') {
				if (memchr(w, 'c', wn)) {
					return SPLIT_OTHER;
				}
				if (memchr(w, 's', wn)) {
					return SPLIT_SHELL_ARGS;
				}
				skip = (w[1] == 'o' || w[1] == 'O') && wn == 2; /* -o pipefail */
			} else if (!opt) {
				return SPLIT_OTHER; /* a script */
			}
			break;
		case SPLIT_SHELL_END:
		case SPLIT_SHELL_ARGS:
		case SPLIT_OTHER:
			return st == SPLIT_SHELL_END ? SPLIT_OTHER : st;
		}
		if (st == SPLIT_OTHER) {
			return st;
		}
	}
	return st;
}

/* Where -S stands among the letters of an env option word w (before a letter that takes a
 * value: -uS is -u's value S), or n: none. */
static size_t env_split_at(const char *w, size_t n)
{
	if (n < 2 || w[0] != '-' || w[1] == '-') {
		return n;
	}
	for (size_t j = 1; j < n && !strchr("uCPa", w[j]); j++) {
		if (w[j] == 'S') {
			return j;
		}
	}
	return n;
}

/* Is token i (before end) NAME followed by an `=` that touches it: an assignment word? */
static bool assignment_at(const struct lexst *L, uint32_t i, uint32_t end)
{
	const struct token *k = &L->t->v[i];
	return k->kind == TOK_IDENT && i + 1 < end && L->t->v[i + 1].kind == TOK_PUNCT &&
	       L->t->v[i + 1].len == 1 && L->s[L->t->v[i + 1].off] == '=' &&
	       L->t->v[i + 1].off == k->off + k->len;
}

/*
 * The command from token i to the next command end before hdr_end, op its heredoc's <<
 * (TOK_NONE: none). A shell reads its input as commands given options other than -c (-e,
 * -eux, -o pipefail, -s and its arguments), not a script file; sudo, with its options, may
 * run it, and so may env, with its options and NAME=value words; `sudo -s` and `sudo -i`
 * with no command (`sudo -s --` too) run a shell themselves (the invoking or target
 * user's), which reads it. tee copies it to its output, also under sudo (`sudo tee log`).
 */
static void read_command(const struct shst *S, uint32_t i, uint32_t hdr_end, uint32_t op,
			 struct reader *r)
{
	const struct lexst *L = S->L;
	const struct tokens *t = L->t;
	enum {
		PROG,
		SUDO,
		SUDO_PROG,
		ENV,
		ENV_VARS,
		ENV_PROG,
		SHELL,
		SHELL_END,
		SHELL_ARGS,
		CAT,
		FILTER,
		OTHER
	} st = PROG;
	bool sudo_shell = false; /* sudo -s or -i: with no command, it runs a shell */
	bool in_sudo = false, in_env = false;
	*r = (struct reader){ .end = hdr_end };
	for (; i < hdr_end; i++) {
		const struct token *k = &t->v[i];
		const char *w = L->s + k->off;
		if (k->kind == TOK_PUNCT && tok_is(L, k, command_ends)) {
			r->end = i;
			break;
		}
		if (i == op) {
			i += i + 1 < hdr_end && t->v[i + 1].kind != TOK_PUNCT; /* its delimiter */
			continue;
		}
		if (k->kind == TOK_PUNCT && tok_is(L, k, redirections)) {
			/* Its descriptor: the digits right before it (2>/dev/null), or none. */
			const struct token *fd = i > 0 ? &t->v[i - 1] : NULL;
			bool dflt = !fd || fd->off + fd->len != k->off || fd->kind != TOK_IDENT ||
				    !all_digits(L->s + fd->off, fd->len);
			r->words = true;
			if (w[0] == '<' && (op == TOK_NONE || i > op) &&
			    (dflt || word_is(L, fd, "0"))) {
				r->stdin_redir = true;
			} else if (w[0] != '<' && (dflt || word_is(L, fd, "1"))) {
				r->stdout_redir = true;
			}
			i += i + 1 < hdr_end && t->v[i + 1].kind != TOK_PUNCT; /* its target */
			continue;
		}
		if (k->kind == TOK_IDENT && i + 1 < hdr_end && t->v[i + 1].off == k->off + k->len &&
		    t->v[i + 1].kind == TOK_PUNCT && tok_is(L, &t->v[i + 1], redirections) &&
		    all_digits(w, k->len)) {
			continue; /* 2>/dev/null: the descriptor */
		}
		if (st == PROG && k->kind == TOK_IDENT && i + 2 < hdr_end &&
		    t->v[i + 1].kind == TOK_PUNCT && t->v[i + 1].len == 1 &&
		    L->s[t->v[i + 1].off] == '=') {
			i += 2; /* NAME=value before the command */
			r->words = true;
			continue;
		}
		r->words = true;
		bool opt = k->len >= 2 && w[0] == '-';
		switch (st) {
		case PROG:
		case SUDO_PROG:
		case ENV_PROG:
			if (k->kind == TOK_IDENT && is_shell_name(w, k->len)) {
				st = SHELL;
			} else if (!in_sudo && word_is(L, k, "sudo")) {
				st = SUDO;
				in_sudo = true;
			} else if (!in_env && word_is(L, k, "env")) {
				st = ENV;
				in_env = true;
			} else if (word_is(L, k, "cat")) {
				st = CAT; /* also under sudo or env */
			} else if (k->kind == TOK_IDENT && is_filter_name(w, k->len)) {
				st = FILTER;
			} else {
				st = OTHER;
			}
			break;
		case SUDO:
			if (k->len == 2 && memcmp(w, "--", 2) == 0) {
				st = SUDO_PROG;
			} else if (opt) {
				if (w[1] == '-') {
					sudo_shell |=
						(k->len == 7 && memcmp(w, "--shell", 7) == 0) ||
						(k->len == 7 && memcmp(w, "--login", 7) == 0);
				} else {
					/* -s, -i, also among other letters (-Es, -iu app),
					 * before one that takes a value (-uspare: not -s) */
					for (size_t j = 1; j < k->len; j++) {
						if (w[j] == 's' || w[j] == 'i') {
							sudo_shell = true;
						} else if (strchr("CDghpRrtTUu", w[j])) {
							break;
						}
					}
				}
				i += sudo_option_arg(w, k->len) && memchr(w, '=', k->len) == NULL;
			} else {
				st = SUDO_PROG;
				i--; /* the program */
			}
			break;
		case SHELL:
			/* Options: -e, -eux, -o pipefail, -s (its arguments follow), -- or -
			 * (a script may follow); not -c (its command is its argument) nor a
			 * script file. */
			if ((k->len == 2 && memcmp(w, "--", 2) == 0) ||
			    (k->len == 1 && w[0] == '-')) {
				st = SHELL_END;
			} else if (opt && w[1] != '-') {
				if (memchr(w, 'c', k->len)) {
					st = OTHER;
				} else if (memchr(w, 's', k->len)) {
					st = SHELL_ARGS;
				} else if ((w[1] == 'o' || w[1] == 'O') && k->len == 2) {
					i++; /* -o pipefail */
				}
			} else if (!(k->len > 2 && w[0] == '-')) {
				st = OTHER; /* a script: the shell does not read its input */
			}
			break;
		case ENV:
		case ENV_VARS:
			/* Its options (-i, -, -u NAME, -C dir, --), then NAME=value words, then
			 * the program; -S splits a string into one, not read. env's getopt stops
			 * at the first word that is not an option: after a NAME=value, `-u` is
			 * the program (`env A=1 -u X sh` runs one named -u). */
			if (assignment_at(L, i, hdr_end)) {
				i += 1 + (i + 2 < hdr_end &&
					  t->v[i + 2].off == k->off + k->len + 1 &&
					  t->v[i + 2].kind != TOK_PUNCT);
				st = ENV_VARS;
			} else if (st == ENV_VARS) {
				st = ENV_PROG;
				i--; /* the program, whatever it looks like */
			} else if (k->len == 2 && memcmp(w, "--", 2) == 0) {
				st = ENV_PROG;
			} else if (opt && (w[1] == '-' || env_split_at(w, k->len) < k->len)) {
				/* -S STRING, -SSTRING, --split-string[=]STRING: its words are
				 * read as env's (split_string()), the words after it follow */
				const char *v = NULL;
				size_t vn = 0, j = env_split_at(w, k->len);
				if (j < k->len && j + 1 < k->len) {
					v = w + j + 1;
					vn = k->len - j - 1;
				} else if (k->len > 15 && memcmp(w, "--split-string=", 15) == 0) {
					v = w + 15;
					vn = k->len - 15;
				} else if ((j < k->len || (k->len == 14 &&
							   memcmp(w, "--split-string", 14) == 0)) &&
					   i + 1 < hdr_end && t->v[i + 1].kind != TOK_PUNCT) {
					i++;
					v = L->s + t->v[i].off;
					vn = t->v[i].len;
				} else if (w[1] == '-') {
					i += env_option_arg(w, k->len); /* --unset NAME */
					break;
				}
				static const uint8_t to_state[] = {
					[SPLIT_ENV] = ENV,
					[SPLIT_VARS] = ENV_VARS,
					[SPLIT_PROG] = ENV_PROG,
					[SPLIT_SHELL] = SHELL,
					[SPLIT_SHELL_END] = SHELL_END,
					[SPLIT_SHELL_ARGS] = SHELL_ARGS,
					[SPLIT_OTHER] = OTHER,
				};
				st = v ? to_state[split_string(v, vn)] : OTHER;
			} else if (opt) {
				i += env_option_arg(w, k->len);
			} else if (!(k->len == 1 && w[0] == '-')) {
				st = ENV_PROG;
				i--; /* the program */
			}
			break;
		case FILTER:
			break; /* its options and files: its input goes on to its output */
		case CAT:
			if (!opt && !(k->len == 1 && w[0] == '-')) {
				st = OTHER; /* a file: cat -v, cat - copy their input */
			}
			break;
		case SHELL_END:
			st = OTHER; /* bash -- x.sh: a script */
			break;
		case SHELL_ARGS:
		case OTHER:
			break;
		}
	}
	/* sudo -s or -i and no program, also after a `--` (`sudo -s --`) */
	r->shell = st == SHELL || st == SHELL_END || st == SHELL_ARGS ||
		   ((st == SUDO || st == SUDO_PROG) && sudo_shell);
	r->cat = st == CAT;
	r->filter = st == FILTER;
}

/*
 * Does a shell run the body [b, e) of RUN heredoc h as commands? Its command is read from
 * h->cmd_tok to the next command end among the tokens before hdr_end (the RUN's first
 * line): `<<EOF` alone as the whole RUN (after its --flags) runs the body in the shell,
 * unless a #! names another program; a shell reads it as its input (read_command():
 * `<<EOF bash`, `sh -e <<EOF`, `<<EOF sudo -E sh`, `<<EOF env X=1 sh`, `<<EOF sudo -s`),
 * also through cat or a filter (tee, sed, tr ...: is_filter_name()) and pipes, through
 * any commands between (`cat <<EOF | tee log | sh`, `<<EOF sed s/x/y/ | tr -d x | sh`);
 * anything else (`python3 <<EOF`, `cat <<EOF`, `<<EOF > file`, where nothing reads
 * it) does not run it as shell.
 */
static bool body_is_shell(const struct shst *S, const struct heredoc *h, uint32_t hdr_end, size_t b,
			  size_t e)
{
	const struct lexst *L = S->L;
	const struct tokens *t = L->t;
	uint32_t i = h->cmd_tok;
	if (i == S->args_tok) {
		while (i < hdr_end && t->v[i].len > 2 && memcmp(L->s + t->v[i].off, "--", 2) == 0) {
			i++; /* RUN --mount=... --network=... */
		}
	}
	struct reader r;
	read_command(S, i, hdr_end, h->op_tok, &r);
	if (r.shell) {
		return !r.stdin_redir; /* <<A <<B bash, bash <<A < f: another input, read last */
	}
	if (r.cat || r.filter) {
		/* The filter's output through pipes, each command after it read once: any
		 * command between passes it on (what it prints cannot be known), up to a
		 * shell; past SHELL_MAX_PIPE_STAGES a shell is taken to read it. */
		struct reader p = r;
		unsigned stages = 0;
		while (!p.stdin_redir && !p.stdout_redir && p.end < hdr_end &&
		       t->v[p.end].kind == TOK_PUNCT && L->s[t->v[p.end].off] == '|' &&
		       (t->v[p.end].len == 1 || L->s[t->v[p.end].off + 1] == '&')) {
			if (++stages > SHELL_MAX_PIPE_STAGES) {
				return true;
			}
			read_command(S, p.end + 1, hdr_end, TOK_NONE, &p);
			if (p.shell) {
				return !p.stdin_redir;
			}
		}
		return false;
	}
	if (h->cmd_tok != S->args_tok || r.words || r.end < hdr_end) {
		return false;
	}
	char interp[32];
	while (h->strip_tabs && b < e && L->s[b] == '\t') {
		b++; /* <<- strips the tabs before #! too */
	}
	if (e - b >= 2 && memcmp(L->s + b, "#!", 2) == 0) {
		return lex_shebang_interpreter(L->s + b, e - b, interp, sizeof(interp)) &&
		       is_shell_name(interp, strlen(interp));
	}
	return true;
}

/* A zero-length line end at i, unless one ends the tokens already. */
static void eol_here(struct shst *S, size_t i)
{
	struct token *last = lex_last(S->L);
	if (last && last->kind != TOK_EOL) {
		lex_push(S->L, TOK_EOL, i, 0, 0);
	}
}

/* After the newline at i - 1: read the bodies of pending heredocs; returns the new i. */
static size_t heredoc_bodies(struct shst *S, size_t i)
{
	uint32_t hdr_end = (uint32_t)S->L->t->n;
	for (size_t h = 0; h < S->n_hd; h++) {
		const struct heredoc *d = &S->hd[h];
		size_t body = i, body_end;
		bool interp;
		i = heredoc_end(S, i, &d->d, &body_end, &interp);
		if (body_end > body && S->run_tok != TOK_NONE &&
		    body_is_shell(S, d, hdr_end, body, body_end)) {
			/* The RUN's commands: its line ends, each line of the body is a RUN. */
			eol_here(S, body);
			implied_run_words(S->L, body, body_end);
			continue;
		}
		if (body_end > body) {
			lex_push(S->L, TOK_STRING, body, body_end - body,
				 (interp ? TOKF_INTERP : 0) |
					 (body_end == S->to && i >= S->to ? TOKF_UNTERMINATED : 0));
			/* A shell expands it; a Dockerfile's COPY or ADD heredoc is a file's
			 * content, which BuildKit writes as it is (nothing runs its $( )). */
			if (interp && !(S->dockerfile && S->run_tok == TOK_NONE)) {
				body_regions(S, body, body_end, 0);
			}
		}
	}
	S->n_hd = 0;
	return i;
}

/* Single quotes from i (at '): end after the closing quote. */
static size_t skip_single(const struct shst *S, size_t i)
{
	const char *e = memchr(S->L->s + i + 1, '\'', S->to - i - 1);
	return e ? (size_t)(e - S->L->s) + 1 : S->to;
}

/* $'...' ANSI-C quotes from i (at the quote): backslash escapes. */
static size_t skip_ansi(const struct shst *S, size_t i)
{
	for (i++; i < S->to; i++) {
		if (S->L->s[i] == '\\') {
			i++;
		} else if (S->L->s[i] == '\'') {
			return i + 1;
		}
	}
	return S->to;
}

static size_t skip_backquote(const struct shst *S, size_t i)
{
	size_t b = i + 1;
	for (i++; i < S->to; i++) {
		if (S->L->s[i] == '\\') {
			i++;
		} else if (S->L->s[i] == '`') {
			lex_region(S->L, b, i, LANG_SHELL);
			return i + 1;
		}
	}
	return S->to;
}

/* An expansion at i (at '$'): its end. */
static size_t skip_dollar(const struct shst *S, size_t i, unsigned nest)
{
	const char *s = S->L->s;
	if (i + 1 >= S->to) {
		return i + 1;
	}
	char c = s[i + 1];
	if (c == '(') {
		size_t e = skip_nested(S, i + 1, '(', ')', nest + 1);
		/* A command substitution holds commands: the scan looks at them as shell. */
		if (i + 2 < S->to && s[i + 2] != '(' && e > i + 2 && s[e - 1] == ')') {
			lex_region(S->L, i + 2, e - 1, LANG_SHELL);
		}
		return e;
	}
	if (c == '{') {
		return skip_nested(S, i + 1, '{', '}', nest + 1);
	}
	if (c == '\'') {
		return skip_ansi(S, i + 1);
	}
	if (isalpha((unsigned char)c) || c == '_') {
		size_t j = i + 2;
		while (j < S->to && (isalnum((unsigned char)s[j]) || s[j] == '_')) {
			j++;
		}
		return j;
	}
	if (isdigit((unsigned char)c) || (c && strchr("@*#?$!-", c))) {
		return i + 2;
	}
	return i + 1;
}

/* An unquoted heredoc body [b, e) runs what its $( ) and backquotes hold: those become
 * shell regions, as anywhere else. Quotes in a body are plain text. */
static void body_regions(const struct shst *S, size_t b, size_t e, unsigned nest)
{
	struct shst sub = *S;
	sub.to = e;
	for (size_t i = b; i < e;) {
		char c = S->L->s[i];
		if (c == '\\') {
			i += 2;
		} else if (c == '$' && nest < SHELL_MAX_NEST) {
			i = skip_dollar(&sub, i, nest + 1);
		} else if (c == '`') {
			i = skip_backquote(&sub, i);
		} else {
			i++;
		}
	}
}

/* Double quotes from i (at "): end after the closing quote; *exp when it expands. */
static size_t skip_double(const struct shst *S, size_t i, bool *exp, unsigned nest)
{
	const char *s = S->L->s;
	for (i++; i < S->to;) {
		char c = s[i];
		if (c == '\\') {
			i += 2;
		} else if (c == '"') {
			return i + 1;
		} else if (c == '$' && i + 1 < S->to &&
			   (isalnum((unsigned char)s[i + 1]) ||
			    (s[i + 1] && strchr("_({@*#?$!-", s[i + 1])))) {
			*exp = true;
			i = skip_dollar(S, i, nest); /* past SHELL_MAX_NEST: skip_nested() */
		} else if (c == '`') {
			*exp = true;
			i = skip_backquote(S, i);
		} else {
			i++;
		}
	}
	return S->to;
}

/* A balanced open..close group from i (at open), with quotes inside. */
static size_t skip_nested(const struct shst *S, size_t i, char open, char close, unsigned nest)
{
	const char *s = S->L->s;
	unsigned depth = 0;
	if (nest >= SHELL_MAX_NEST) {
		S->L->t->regions_dropped = true; /* too deep to read: the file is not passed */
		return i + 1;
	}
	/*
	 * Inside $( ), << starts a heredoc whose body (a quote, a parenthesis in it) is skipped
	 * whole after its line, and # at the start of a word a comment to the end of the line.
	 * Not within (( )) or $(( )), arithmetic, where << shifts and # is a base (16#ff).
	 * When in doubt the text is looked at as code: a heredoc without its terminator line
	 * is not one, and # after an escaped blank is part of a word.
	 */
	unsigned arith = 0; /* the depth at which an arithmetic (( )) opened, or 0 */
	bool word_start = false;
	struct hdelim hd[SHELL_MAX_HEREDOCS];
	size_t n_hd = 0;
	while (i < S->to) {
		char c = s[i];
		bool e = false, next_start = false;
		if (c == '\\') {
			i += 2;
		} else if (c == '<' && !arith && open == '(' && i + 1 < S->to && s[i + 1] == '<' &&
			   !(i + 2 < S->to && s[i + 2] == '<')) {
			i += 2 + (i + 2 < S->to && s[i + 2] == '-');
			size_t start;
			struct hdelim d;
			i = delim_word(S, i, &start, &d);
			if (d.len && n_hd < SHELL_MAX_HEREDOCS) {
				hd[n_hd++] = d;
			}
		} else if (c == '\n' && n_hd) {
			size_t after = ++i;
			for (size_t h = 0; h < n_hd && i < S->to; h++) {
				size_t body_end;
				bool interp;
				/* (What the body's $( ) hold is found when the substitution's
				 * text is lexed as a region of its own.) */
				i = heredoc_end(S, i, &hd[h], &body_end, &interp);
				if (body_end == S->to) {
					i = after; /* no terminator: read on as code */
					break;
				}
			}
			n_hd = 0;
			next_start = true;
		} else if (c == '#' && open == '(' && !arith && word_start) {
			/* A comment, to the end of its line (an apostrophe in it is no quote). */
			const char *nl = memchr(s + i, '\n', S->to - i);
			i = nl ? (size_t)(nl - s) : S->to;
		} else if (c == open) {
			depth++;
			if (open == '(' && !arith && i + 1 < S->to && s[i + 1] == '(') {
				arith = depth; /* (( or $((: arithmetic until this one closes */
			}
			i++;
			next_start = true;
		} else if (c == close) {
			i++;
			if (arith == depth) {
				arith = 0;
			}
			if (--depth == 0) {
				return i;
			}
		} else if (c == '\'') {
			i = skip_single(S, i);
		} else if (c == '"') {
			i = skip_double(S, i, &e, nest + 1);
		} else if (c == '`') {
			i = skip_backquote(S, i);
		} else if (c == '$') {
			i = skip_dollar(S, i, nest + 1);
		} else {
			next_start = is_blank(c) || c == '\n' || c == ';' || c == '&' || c == '|';
			i++;
		}
		word_start = next_start;
	}
	return S->to;
}

/* Emit the word [b, e) with its kind and flags. */
static void emit_word(struct shst *S, size_t b, size_t e, bool quoted, bool expansion, bool interp)
{
	struct lexst *L = S->L;
	if (e <= b) {
		return;
	}
	/* Pattern syntax: $X is a metavariable (an identifier), not an expansion. */
	if (L->pattern && lex_metavar_end(L, b) == e) {
		lex_push(L, TOK_IDENT, b, e - b, 0);
		return;
	}
	if (!quoted && !expansion) {
		if (e - b == 1 && (L->s[b] == '{' || L->s[b] == '}' || L->s[b] == '=')) {
			lex_push(L, TOK_PUNCT, b, 1, 0);
		} else {
			lex_push(L, TOK_IDENT, b, e - b, 0);
		}
		return;
	}
	lex_push(L, TOK_STRING, b, e - b,
		 (expansion ? TOKF_EXPANSION : 0) | (interp ? TOKF_INTERP : 0));
}

static void eol(struct shst *S, size_t at)
{
	struct token *last = lex_last(S->L);
	if (last && last->kind != TOK_EOL) {
		lex_push(S->L, TOK_EOL, at, 1, 0);
	}
}

/* Before the first token of a line of a RUN heredoc body: the RUN it stands for. */
static void line_token(struct shst *S, size_t i)
{
	if (S->implied && S->line_start) {
		lex_push(S->L, TOK_IDENT, i, 0, TOKF_IMPLIED);
	}
	S->line_start = false;
}

/* The shell words of S->L->s[from, S->to). */
static void shell_words(struct shst *S0, size_t from)
{
	struct shst S = *S0;
	struct lexst *L = S.L;
	size_t to = S.to;
	bool dockerfile = S.dockerfile;
	char cont = S.cont;
	const char *s = L->s;
	size_t i = from;
	while (i < to && L->err == 0) {
		char c = s[i];
		if (c == '\n') {
			i++;
			if (!dockerfile) {
				eol(&S, i - 1);
				S.line_start = true;
			}
			if (S.n_hd) {
				i = heredoc_bodies(&S, i);
				if (S.implied) {
					/* The next line is a RUN of its own after the bodies. */
					eol_here(&S, i);
				}
			}
			continue;
		}
		if (is_blank(c)) {
			i++;
			continue;
		}
		if (c == cont && i + 1 < to && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
			i += 2;
			if (i < to && s[i - 1] == '\r' && s[i] == '\n') {
				i++;
			}
			continue;
		}
		/* A CR is no blank to the shell: `echo hi\r# x` passes `hi\r#` and `x` to echo
		 * (a Dockerfile's parser drops a CR at a line's end, so there it is one). */
		if (c == '#' && !(!dockerfile && i > from && s[i - 1] == '\r')) {
			/* A comment starts a word; in a Dockerfile a line starting with # is
			 * dropped. */
			const char *e = memchr(s + i, '\n', to - i);
			size_t end = e ? (size_t)(e - s) : to;
			lex_comment(L, i, end);
			i = end;
			continue;
		}
		if (is_op_char(c)) {
			line_token(&S, i);
			static const char *const ops[] = { "<<<", "<<-", "&&", "||", ";;",
							   "|&",  "<<",	 ">>", ">&", "<&",
							   "&>",  ">|",	 "<>" };
			size_t n = 1;
			for (size_t k = 0; k < ARRAY_SIZE(ops); k++) {
				size_t m = strlen(ops[k]);
				if (i + m <= to && memcmp(s + i, ops[k], m) == 0) {
					n = m;
					break;
				}
			}
			/* Process substitution <( ... ) is part of a word. */
			if ((c == '<' || c == '>') && n == 1 && i + 1 < to && s[i + 1] == '(') {
				size_t e = skip_nested(&S, i + 1, '(', ')', 0);
				if (e > i + 2 && s[e - 1] == ')') {
					lex_region(L, i + 2, e - 1, LANG_SHELL);
				}
				emit_word(&S, i, e, false, true, false);
				i = e;
				continue;
			}
			uint32_t op = lex_push(L, TOK_PUNCT, i, n, 0);
			if (op != TOK_NONE && S.run_tok != TOK_NONE &&
			    tok_is(L, &L->t->v[op], command_ends)) {
				S.cmd_tok = op + 1;
			}
			bool is_heredoc = (n == 2 && memcmp(s + i, "<<", 2) == 0) ||
					  (n == 3 && memcmp(s + i, "<<-", 3) == 0);
			i += n;
			if (is_heredoc) {
				i = heredoc_word(&S, i, n == 3, op);
			}
			continue;
		}
		/* A word. */
		line_token(&S, i);
		size_t b = i;
		bool quoted = false, expansion = false, interp = false;
		/* NAME= at the start of a word is an assignment (in a pattern, $NAME= too). */
		size_t mv = lex_metavar_end(L, i);
		if (isalpha((unsigned char)c) || c == '_' || mv > i) {
			size_t j = mv > i ? mv : i + 1;
			while (mv == i && j < to && (isalnum((unsigned char)s[j]) || s[j] == '_')) {
				j++;
			}
			size_t eq = j;
			if (j + 1 < to && s[j] == '+' && s[j + 1] == '=') {
				eq = j + 1;
			}
			if (eq < to && s[eq] == '=') {
				lex_push(L, TOK_IDENT, b, j - b, 0);
				lex_push(L, TOK_PUNCT, j, eq + 1 - j, 0);
				i = eq + 1;
				b = i;
				if (i >= to || is_blank(s[i]) || s[i] == '\n') {
					continue;
				}
			}
		}
		while (i < to) {
			char d = s[i];
			if (is_blank(d) || d == '\n' || is_op_char(d)) {
				break;
			}
			if (d == cont && i + 1 < to && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
				break;
			}
			if (d == '\\') {
				i += 2;
				quoted = true;
			} else if (d == '\'') {
				quoted = true;
				i = skip_single(&S, i);
			} else if (d == '"') {
				quoted = true;
				bool e = false;
				i = skip_double(&S, i, &e, 0);
				interp |= e;
			} else if (d == '$' && i + 1 < to && s[i + 1] == '\'') {
				quoted = true;
				i = skip_ansi(&S, i + 1);
			} else if (d == '$' && i + 1 < to && s[i + 1] == '"') {
				i++; /* $"..." locale quotes */
			} else if (d == '$') {
				size_t e = skip_dollar(&S, i, 0);
				expansion |= e > i + 1;
				i = e;
			} else if (d == '`') {
				expansion = true;
				i = skip_backquote(&S, i);
			} else {
				i++;
			}
		}
		if (i > to) {
			i = to;
		}
		emit_word(&S, b, i, quoted, expansion, interp);
	}
	if (!dockerfile) {
		struct token *last = lex_last(L);
		if (last && last->kind != TOK_EOL) {
			lex_push(L, TOK_EOL, to, 0, 0);
		}
	} else if (S.n_hd) {
		/* The Dockerfile lexer includes heredoc bodies in the range: a final newline. */
		heredoc_bodies(&S, i);
	}
}

void lex_shell_range(struct lexst *L, size_t from, size_t to, bool dockerfile, char cont)
{
	struct shst S = { .L = L,
			  .to = to,
			  .dockerfile = dockerfile,
			  .cont = cont,
			  .run_tok = TOK_NONE,
			  .args_tok = TOK_NONE,
			  .cmd_tok = TOK_NONE };
	shell_words(&S, from);
}

/* A RUN instruction's shell words (its keyword is token run): heredocs a shell runs are
 * read as its commands. */
static void run_words(struct lexst *L, size_t from, size_t to, char esc, uint32_t run)
{
	uint32_t n = (uint32_t)L->t->n;
	struct shst S = { .L = L,
			  .to = to,
			  .dockerfile = true,
			  .cont = esc,
			  .run_tok = run,
			  .args_tok = n,
			  .cmd_tok = n };
	shell_words(&S, from);
}

void lex_shell(struct lexst *L)
{
	lex_shell_range(L, L->pos, L->end, false, '\\');
}

void lex_dockerfile_commands(struct lexst *L)
{
	implied_run_words(L, L->pos, L->end);
}

/* ---------- Dockerfile ---------- */

/* JSON-ish exec form: [ "a", "b" ] */
static size_t exec_form(struct lexst *L, size_t i, size_t to)
{
	const char *s = L->s;
	while (i < to && L->err == 0) {
		char c = s[i];
		if (c == '"') {
			size_t j = i + 1;
			while (j < to && s[j] != '"' && s[j] != '\n') {
				j += s[j] == '\\' ? 2 : 1;
			}
			bool u = j >= to || s[j] != '"';
			size_t e = u ? MIN(j, to) : j + 1;
			lex_push(L, TOK_STRING, i, e - i, u ? TOKF_UNTERMINATED : 0);
			i = e;
		} else if (c == '[' || c == ']' || c == ',') {
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
		} else if (is_blank(c) || c == '\n' || c == '\\') {
			i++;
		} else {
			size_t j = i;
			while (j < to && !is_blank(s[j]) && s[j] != '\n' && s[j] != ',' &&
			       s[j] != ']') {
				j++;
			}
			lex_push(L, TOK_IDENT, i, j - i, 0);
			i = j;
		}
	}
	return i;
}

/* End of the physical line at i (the '\n' or to). */
static size_t line_end(const char *s, size_t i, size_t to)
{
	const char *e = memchr(s + i, '\n', to - i);
	return e ? (size_t)(e - s) : to;
}

/* Does the physical line [b, e) end with the escape character (a continuation)? */
static bool continues(const char *s, size_t b, size_t e, char esc)
{
	while (e > b && is_blank(s[e - 1])) {
		e--;
	}
	return e > b && s[e - 1] == esc;
}

/* If the instruction text [b, e) starts heredocs, the delimiter of the last one. */
static bool find_heredoc(const char *s, size_t b, size_t e, size_t *db, size_t *dn)
{
	bool found = false;
	for (size_t i = b; i + 2 < e; i++) {
		if (s[i] == '<' && s[i + 1] == '<' && s[i + 2] != '<') {
			size_t j = i + 2;
			if (j < e && s[j] == '-') {
				j++;
			}
			while (j < e && (s[j] == ' ' || s[j] == '\t')) {
				j++; /* << EOF, as delim_word() reads it */
			}
			if (j < e && (s[j] == '"' || s[j] == '\'' || s[j] == '\\')) {
				j++; /* <<"EOF", <<'EOF', <<\EOF */
			}
			/* The word as the shell takes it (robots.txt, my-file, EOF), its quotes
			 * left out: cut at a dot, the terminator line was never found and the
			 * instruction ran to the end of the file. */
			size_t w = j;
			while (j < e && !is_blank(s[j]) && s[j] != '\n' && !is_op_char(s[j]) &&
			       s[j] != '"' && s[j] != '\'') {
				j++;
			}
			if (j > w) {
				*db = w;
				*dn = j - w;
				found = true;
			}
			i = j;
		}
	}
	return found;
}

void lex_dockerfile(struct lexst *L)
{
	const char *s = L->s;
	size_t i = L->pos, to = L->end;
	char esc = '\\';
	bool directives = true;
	while (i < to && L->err == 0) {
		size_t le = line_end(s, i, to);
		size_t b = i;
		while (b < le && is_blank(s[b])) {
			b++;
		}
		if (b == le) {
			i = le + 1;
			continue;
		}
		if (s[b] == '#') {
			/* Parser directives come first: # escape=` */
			if (directives) {
				size_t k = b + 1;
				while (k < le && is_blank(s[k])) {
					k++;
				}
				if (le - k >= 8 && strncasecmp(s + k, "escape", 6) == 0) {
					size_t v = k + 6;
					while (v < le && (is_blank(s[v]) || s[v] == '=')) {
						v++;
					}
					if (v < le && (s[v] == '`' || s[v] == '\\')) {
						esc = s[v];
					}
				}
			}
			lex_comment(L, b, le);
			i = le + 1;
			continue;
		}
		directives = false;
		/* The logical line: continuation lines, with comment lines among them dropped. */
		size_t end = le, cont_from = i;
		while (end < to && continues(s, cont_from, end, esc)) {
			/* The next line that is neither blank nor a comment continues it. */
			size_t nb = end + 1;
			size_t ne = line_end(s, nb, to);
			while (nb < to) {
				size_t q = nb;
				while (q < ne && is_blank(s[q])) {
					q++;
				}
				if (q < ne && s[q] != '#') {
					break;
				}
				if (ne >= to) {
					break;
				}
				nb = ne + 1;
				ne = line_end(s, nb, to);
			}
			end = ne;
			cont_from = nb;
			if (nb >= to) {
				break;
			}
		}
		size_t db, dn;
		if (find_heredoc(s, b, end, &db, &dn)) {
			/* Up to and including the line that holds only the last delimiter. */
			size_t p = end + 1;
			while (p < to) {
				size_t pe = line_end(s, p, to);
				size_t ps = p;
				while (ps < pe && (s[ps] == '\t' || s[ps] == ' ')) {
					ps++;
				}
				size_t te = pe;
				while (te > ps && (s[te - 1] == '\r' || is_blank(s[te - 1]))) {
					te--;
				}
				end = pe;
				if (te - ps == dn && memcmp(s + ps, s + db, dn) == 0) {
					break;
				}
				p = pe + 1;
			}
		}
		/* The instruction keyword. */
		size_t k = b;
		while (k < end && (isalpha((unsigned char)s[k]) || s[k] == '_')) {
			k++;
		}
		size_t mv = lex_metavar_end(L, b);
		if (mv > b) {
			k = mv;
		}
		if (k == b) {
			k = b + 1;
		}
		uint32_t kw = lex_push(L, TOK_IDENT, b, k - b, 0);
		size_t a = k;
		while (a < end && is_blank(s[a])) {
			a++;
		}
		if (!L->pattern && k - b == 7 && strncasecmp(s + b, "ONBUILD", 7) == 0 &&
		    end - a > 3 && strncasecmp(s + a, "RUN", 3) == 0 && is_blank(s[a + 3])) {
			/* ONBUILD RUN: the RUN (its heredocs too) as after the trigger. */
			b = a;
			k = a + 3;
			kw = lex_push(L, TOK_IDENT, b, k - b, 0);
			for (a = k; a < end && is_blank(s[a]);) {
				a++;
			}
		}
		if (a < end && s[a] == '[') {
			exec_form(L, a, end);
		} else if (kw != TOK_NONE && !L->pattern && k - b == 3 &&
			   strncasecmp(s + b, "RUN", 3) == 0) {
			run_words(L, a, end, esc, kw);
		} else {
			lex_shell_range(L, a, end, true, esc);
		}
		struct token *last = lex_last(L);
		if (last && last->kind != TOK_EOL) {
			lex_push(L, TOK_EOL, end, end < to ? 1 : 0, 0);
		}
		i = end + 1;
	}
}
