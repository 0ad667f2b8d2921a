/*
 * secrets.c - keyword prefilter, per-line regex evaluation, entropy and allowlists,
 * redaction, findings; the values of Kubernetes Secrets (k8s.h), the provider rules
 * over what their data decodes to, and the files of kustomize secretGenerators (read
 * through the caller's reader, never opened here).
 */
#include "secrets.h"

#include "filefind.h"
#include "k8s.h"
#include "lex.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>

#include "banned.h"

#define SNIPPET_CONTEXT 100

struct kw {
	const char *text; /* lower case */
	size_t len;
	uint32_t *rules; /* rule indices that list it */
	size_t n_rules;
};

struct span {
	uint32_t off, len; /* the secret */
	uint32_t match_off, match_len;
	uint32_t rule;
	char redacted[64];
	double entropy;
	/* A secret in what a Kubernetes Secret's data value decodes to: off and len are the
	 * value's text in the file, dec_off and dec_len the secret's bytes in the decoded
	 * value (two secrets in one value are two spans). */
	bool decoded;
	uint32_t dec_off, dec_len;
	char where[112]; /* in a Kubernetes Secret: "in data 'password'", ...; or "" */
	/* The secret is in the file that the text names (a secretGenerator's file): the
	 * text is no secret, and a snippet shows it. */
	bool elsewhere;
};

/* The text a keyword pass reads when it is not the file: a Secret's decoded data value,
 * whose secrets are reported at the value's place in the file. */
struct origin {
	uint32_t off, len;
	const char *where;
};

struct secrets_scratch {
	const struct ruleset *rs;
	struct kw *kw;
	size_t n_kw;
	/* For each byte pair (lower-cased): the first keyword index with that prefix + 1, and
	 * keywords are sorted so that those sharing a prefix are adjacent. */
	uint16_t pair_first[65536];
	uint16_t pair_count[65536];
	uint8_t lower[256];
	size_t *last_line; /* per rule: start of the last line evaluated + 1 */
	bool *gave_up;	   /* per rule: an evaluation on the current file was given up */
	struct span *spans;
	size_t n_spans, cap_spans;
	int min_sev; /* the least severe kept span's rule severity; -1: not known */
	struct regex_ctx rx;
	bool k8s_line;	      /* the file has a `kind: Secret` line */
	const char *k8s_why;  /* why its Secrets were not read completely, or NULL */
	secrets_read_fn read; /* the files a secretGenerator names, or NULL */
	void *read_ud;
	/* A keyword pass that only asks whether a rule finds a secret (probe_hit), and
	 * keeps no span. */
	bool probing, probe_hit;
	/* The text a keyword pass reads is a YAML file (the rules' (?C"yaml") callout): the
	 * file's name says so, and the text is the file's, not a value decoded from it. */
	bool yaml;
	/* The same for a source file of a language with member access ((?C"code")). */
	bool code;
	/* The same for a Lisp's source file ((?C"lisp")). */
	bool lisp;
	/* The text a keyword pass reads, all of it (a rule's match sees up to a line's end,
	 * and lisp_context() reads on past it). */
	const char *text;
	size_t text_len;
};

/* How far back lisp_context() reads: lines and bytes before the form's line. */
#define LISP_CONTEXT_LINES 16
#define LISP_CONTEXT_BYTES 1024
#define LISP_CONTEXT_DEPTH 32

enum lisp_ctx {
	LISP_CTX_UNKNOWN,  /* no open list in the lines read (or too deep) */
	LISP_CTX_LET,	   /* directly in a let's binding list (let_head()) */
	LISP_CTX_COND,	   /* directly in a cond's, condp's or case's clauses */
	LISP_CTX_OTHER,	   /* in another list */
	LISP_CTX_LET_HEAD, /* in a let, after its head (and name), before its binding list */
	LISP_CTX_LET_NAME, /* in a let that may be named, after its head, before its name */
};

static bool lisp_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' ||
	       c == '[' || c == ']' || c == '{' || c == '}' || c == '"' || c == ';';
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(w, lit, n) == 0;
}

/* Is the word [w, w + n) the head of a form whose first list is bindings of names: let,
 * let*, letrec, letrec* (Scheme), if-let, when-let, their * forms, and-let* (Emacs Lisp,
 * SRFI 2), pcase-let and pcase-let* (Emacs Lisp: a name is a pattern too)? *named: a
 * let, which may be named (Scheme's `(let loop ((i 0)) ...)`), or Emacs Lisp's
 * named-let, which is. */
static bool let_head(const char *w, size_t n, bool *named)
{
	static const char *const heads[] = { "let*",	  "letrec",	"letrec*",   "if-let",
					     "if-let*",	  "when-let",	"when-let*", "and-let*",
					     "pcase-let", "pcase-let*", NULL };
	*named = word_is(w, n, "let") || word_is(w, n, "named-let");
	for (const char *const *p = heads; *p && !*named; p++) {
		if (word_is(w, n, *p)) {
			return true;
		}
	}
	return *named;
}

/* What lisp_read() read: a string spanning a line's end, one running to pos (as the end
 * of a string opened before lo, read as its start, would make them), the end of a block
 * comment opened before lo. */
enum { LISP_READ_LINES = 1, LISP_READ_TO_POS = 2, LISP_READ_COMMENT_END = 4 };

/* The list that pos is directly in, read forward from lo (taken to be outside a string),
 * skipping strings, `;` and `#| |#` comments and character literals (`#\(`, `?(`); a list
 * opened before lo, or nested deeper than LISP_CONTEXT_DEPTH, is not known. A `|#` that
 * no `#|` read opened ends a block comment that lo is in: what was read before it was
 * the comment's, and the reading starts again after it. *strs: what was read
 * (LISP_READ_*) after the last such `|#`. */
static enum lisp_ctx lisp_read(const char *buf, size_t lo, size_t pos, unsigned *strs)
{
	*strs = 0;
	enum lisp_ctx stack[LISP_CONTEXT_DEPTH];
	size_t depth = 0, lost = 0; /* lost: lists open deeper than the stack holds */
	for (size_t i = lo; i < pos; i++) {
		char c = buf[i];
		if (c == '|' && i + 1 < pos && buf[i + 1] == '#') {
			depth = lost = 0;
			*strs = LISP_READ_COMMENT_END;
			i++;
			continue;
		}
		enum lisp_ctx *top = depth > 0 && lost == 0 ? &stack[depth - 1] : NULL;
		if (top && *top == LISP_CTX_LET_NAME && !lisp_delim(c) && c != '\'' && c != '#' &&
		    c != '`' && c != ',') {
			/* A named let's name, on the head's line or a later one (not nil: Emacs
			 * Lisp's `(let nil ...)` binds nothing, its body follows). */
			size_t e = i;
			while (e < pos && !lisp_delim(buf[e])) {
				e++;
			}
			*top = word_is(buf + i, e - i, "nil") ? LISP_CTX_OTHER : LISP_CTX_LET_HEAD;
			i = e - 1;
			continue;
		}
		if (top && (*top == LISP_CTX_LET_HEAD || *top == LISP_CTX_LET_NAME) && c != '(' &&
		    c != ';' && !isspace((unsigned char)c) &&
		    !(c == '#' && i + 1 < pos && buf[i + 1] == '|')) {
			/* `(let [`, `(let nil`: no binding list of a let (a comment before one,
			 * `;` or `#| |#`, leaves the head as it is) */
			*top = LISP_CTX_OTHER;
		}
		if (c == '"') {
			for (i++; i < pos && buf[i] != '"'; i++) {
				*strs |= buf[i] == '\n' ? LISP_READ_LINES : 0;
				i += buf[i] == '\\';
			}
			*strs |= i >= pos ? LISP_READ_LINES | LISP_READ_TO_POS : 0;
		} else if (c == ';') {
			while (i < pos && buf[i] != '\n') {
				i++;
			}
		} else if (c == '#' && i + 1 < pos && buf[i + 1] == '|') {
			/* A block comment (Common Lisp's, Scheme's, Racket's), nested ones in it.
			 */
			size_t nest = 1;
			for (i += 2; i + 1 < pos && nest > 0; i++) {
				if (buf[i] == '|' && buf[i + 1] == '#') {
					nest--, i++;
				} else if (buf[i] == '#' && buf[i + 1] == '|') {
					nest++, i++;
				}
			}
			if (nest > 0) {
				return LISP_CTX_UNKNOWN; /* pos is in the comment */
			}
			i--; /* the loop steps past the comment's last character */
		} else if ((c == '#' || c == '?') && i + 1 < pos &&
			   (i == lo || lisp_delim(buf[i - 1])) &&
			   (c == '?' || buf[i + 1] == '\\')) {
			i += buf[i + 1] == '\\' ? 2 : 1; /* a character literal */
		} else if (c == '\\') {
			i++; /* Clojure's character literal (`\"`, `\(`), a symbol's escape */
		} else if (c == '(' || c == '[' || c == '{') {
			if (lost > 0 || depth == LISP_CONTEXT_DEPTH) {
				lost++;
				continue;
			}
			size_t h = i + 1, e = h;
			while (e < pos && e - h < 16 && !lisp_delim(buf[e])) {
				e++;
			}
			enum lisp_ctx k = LISP_CTX_OTHER;
			bool named = false;
			if (top && (*top == LISP_CTX_LET_HEAD || *top == LISP_CTX_LET_NAME)) {
				k = LISP_CTX_LET;
				*top = LISP_CTX_OTHER;
			} else if (c == '(' && let_head(buf + h, e - h, &named)) {
				k = named ? LISP_CTX_LET_NAME : LISP_CTX_LET_HEAD;
				i = e - 1; /* past the head */
			} else if (c == '(' && (word_is(buf + h, e - h, "cond") ||
						word_is(buf + h, e - h, "condp") ||
						word_is(buf + h, e - h, "case"))) {
				k = LISP_CTX_COND;
				i = e - 1;
			}
			stack[depth++] = k;
		} else if (c == ')' || c == ']' || c == '}') {
			if (lost > 0) {
				lost--;
			} else if (depth > 0) {
				depth--;
			}
		}
	}
	if (lost > 0 || depth == 0) {
		return LISP_CTX_UNKNOWN;
	}
	return stack[depth - 1] == LISP_CTX_LET_NAME ? LISP_CTX_LET_HEAD : stack[depth - 1];
}

/* Is pos in a block comment that opened before the lines lisp_context() reads: read
 * forward from pos, at most LISP_CONTEXT_LINES lines and LISP_CONTEXT_BYTES bytes of
 * buf[0, len), skipping strings, `;` comments, character literals and block comments
 * opened after pos, is there a `|#` that none of them opened? */
static bool lisp_in_comment(const char *buf, size_t pos, size_t len)
{
	size_t end = MIN(len, pos + LISP_CONTEXT_BYTES);
	unsigned lines = 0;
	size_t nest = 0;
	for (size_t i = pos; i < end && lines <= LISP_CONTEXT_LINES; i++) {
		char c = buf[i];
		lines += c == '\n';
		if (c == '"' && nest == 0) {
			for (i++; i < end && buf[i] != '"'; i++) {
				lines += buf[i] == '\n';
				i += buf[i] == '\\';
			}
		} else if (c == ';' && nest == 0) {
			while (i + 1 < end && buf[i + 1] != '\n') {
				i++;
			}
		} else if ((c == '#' || c == '?') && nest == 0 && i + 1 < end &&
			   (i == pos || lisp_delim(buf[i - 1])) &&
			   (c == '?' || buf[i + 1] == '\\')) {
			i += buf[i + 1] == '\\' ? 2 : 1; /* a character literal */
		} else if (c == '\\' && nest == 0) {
			i++; /* Clojure's character literal, a symbol's escape */
		} else if (c == '#' && i + 1 < end && buf[i + 1] == '|') {
			nest++, i++;
		} else if (c == '|' && i + 1 < end && buf[i + 1] == '#') {
			if (nest == 0) {
				return true;
			}
			nest--, i++;
		}
	}
	return false;
}

/* The list that pos (on a line of a Lisp source file) is directly in (lisp_read()), read
 * from at most LISP_CONTEXT_LINES lines and LISP_CONTEXT_BYTES bytes before pos's line.
 * Those lines may start inside a string (a long docstring's end): when a string read
 * spans a line's end, they are read again from after the first quote that could end such
 * a string. A reading that puts the form in a string is wrong when the other does not
 * (the quote after the form's name would have ended that string); else the form is in a
 * let's binding list (or its head) if either reading says so (a binding is reported
 * rather than missed), in a cond's clauses only if both do. A reading that read the end
 * of a block comment opened before the lines (lisp_read()) read what follows it from
 * outside a string and a comment, and is the one taken. The lines may also start inside
 * a block comment that pos is in: a form that the readings put in a let (a binding, or
 * its binding list) is in none when a `|#` that nothing opened follows it
 * (lisp_in_comment(), in buf[0, len)). The work is bounded by those bytes, read three
 * times at most. */
static enum lisp_ctx lisp_context(const char *buf, size_t pos, size_t len)
{
	size_t ls = pos;
	while (ls > 0 && buf[ls - 1] != '\n') {
		ls--;
	}
	size_t lo = ls;
	for (unsigned n = 0; n < LISP_CONTEXT_LINES && lo > 0; n++) {
		size_t p = lo - 1; /* the newline that ends the line before */
		while (p > 0 && buf[p - 1] != '\n') {
			p--;
		}
		if (ls - p > LISP_CONTEXT_BYTES) {
			break;
		}
		lo = p;
	}
	if (lo == 0) {
		unsigned st;
		return lisp_read(buf, lo, pos, &st); /* from the file's start */
	}
	unsigned sa, sb;
	enum lisp_ctx a = lisp_read(buf, lo, pos, &sa), r = a;
	size_t q = lo;
	while (q < pos && buf[q] != '"') {
		q += buf[q] == '\\' ? 2 : 1;
	}
	if ((sa & LISP_READ_COMMENT_END) || !(sa & (LISP_READ_LINES | LISP_READ_TO_POS)) ||
	    q >= pos) {
		/* no string that could be misread */
	} else {
		enum lisp_ctx b = lisp_read(buf, q + 1, pos, &sb);
		if (sb & LISP_READ_COMMENT_END) {
			r = b;
		} else if ((sa ^ sb) & LISP_READ_TO_POS) {
			r = sa & LISP_READ_TO_POS ? b : a;
		} else if (a == LISP_CTX_LET || b == LISP_CTX_LET) {
			r = LISP_CTX_LET;
		} else if (a == LISP_CTX_LET_HEAD || b == LISP_CTX_LET_HEAD) {
			r = LISP_CTX_LET_HEAD;
		} else {
			r = a == LISP_CTX_COND && b == LISP_CTX_COND ? LISP_CTX_COND
								     : LISP_CTX_OTHER;
		}
		sa |= sb & LISP_READ_COMMENT_END;
	}
	if ((r == LISP_CTX_LET || r == LISP_CTX_LET_HEAD) && !(sa & LISP_READ_COMMENT_END) &&
	    lisp_in_comment(buf, pos, len)) {
		return LISP_CTX_UNKNOWN;
	}
	return r;
}

/* A rule's callouts (rules.h): (?C"yaml") goes on in a YAML file's text, (?C"code") in a
 * source file's (code_path()), (?C"lisp") in a Lisp's (lisp_path()); each fails
 * elsewhere. In a Lisp's, (?C"lisp-let") goes on where the form at that place is
 * directly in a let's binding list (lisp_context()), (?C"lisp-let-head") where it is in
 * a let after its head (and its name), before its binding list, and (?C"lisp-pair")
 * unless it is in a cond's or case's clauses (a name and a string there are a test and a
 * result).
 * The loader accepts no other. */
static int callout(pcre2_callout_block *b, void *ud)
{
	const struct secrets_scratch *s = ud;
	const char *cs = (const char *)b->callout_string;
	size_t cl = b->callout_string ? b->callout_string_length : 0;
	if (cl == 4) {
		if (memcmp(cs, "yaml", 4) == 0) {
			return s->yaml ? 0 : 1;
		}
		if (memcmp(cs, "code", 4) == 0) {
			return s->code ? 0 : 1;
		}
		if (memcmp(cs, "lisp", 4) == 0) {
			return s->lisp ? 0 : 1;
		}
	}
	bool let = cl == 8 && memcmp(cs, "lisp-let", 8) == 0;
	bool head = cl == 13 && memcmp(cs, "lisp-let-head", 13) == 0;
	bool pair = cl == 9 && memcmp(cs, "lisp-pair", 9) == 0;
	if (!let && !head && !pair) {
		return 0;
	}
	if (!s->lisp) {
		return 1;
	}
	const char *subject = (const char *)b->subject;
	size_t len = subject == s->text ? s->text_len : b->subject_length;
	enum lisp_ctx c = lisp_context(subject, b->current_position, len);
	if (pair) {
		return c != LISP_CTX_COND ? 0 : 1;
	}
	return c == (let ? LISP_CTX_LET : LISP_CTX_LET_HEAD) ? 0 : 1;
}

/* Does path's base name end in one of exts (".rb": a name that starts with its only dot,
 * ".profile", has none)? */
static bool ext_in(const char *path, const char *const *exts, size_t n)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (str_eq(dot, exts[i])) {
			return true;
		}
	}
	return false;
}

/* Is path a YAML file's (its name ends in .yaml or .yml, as lang_detect() reads it)? */
static bool yaml_path(const char *path)
{
	static const char *const exts[] = { ".yaml", ".yml" };
	return ext_in(path, exts, ARRAY_SIZE(exts));
}

/*
 * Is the file at path (buf its text) source code of a language in which an unquoted
 * `a.b` is a member access, not a literal? The languages the SAST engine reads, by name
 * or #! line, but the shell, Dockerfiles and CI YAML, whose unquoted words are literals;
 * and others its name says, whose configuration is code too (C#, Ruby, Kotlin, Rust,
 * Terraform, Perl, R, ...): a bare word there names a variable, a constant or a function.
 * YAML, .env, .properties, INI and any other file are not: an unquoted value is a literal
 * there.
 */
static bool code_path(const char *path, const char *buf, size_t len)
{
	switch (lang_detect(path, buf, MIN(len, (size_t)256))) {
	case LANG_C:
	case LANG_CPP:
	case LANG_PYTHON:
	case LANG_JAVASCRIPT:
	case LANG_TYPESCRIPT:
	case LANG_GO:
	case LANG_JAVA:
		return true;
	default:
		break;
	}
	/* C#, F#, VB, Ruby, Kotlin, Scala, Groovy, PHP, Rust, Swift, Dart, Elixir, Lua, Vue,
	 * Svelte, Terraform; Perl, R, Objective-C (and MATLAB: .m), Julia, Clojure, Haskell,
	 * OCaml, Elm, Nim, Zig, Crystal. Not .t (a Perl test, or a cram test: a shell
	 * transcript), .edn (data), Erlang (a bare word is an atom, a literal) nor PowerShell
	 * (a bare word among a command's arguments is a string; its variables and members
	 * start with `$` or `[`, which no value the rules take for a literal does). */
	static const char *const exts[] = {
		".cs",	   ".fs",     ".vb",	 ".rb",	 ".rake",  ".kt",   ".kts",  ".scala",
		".groovy", ".gradle", ".php",	 ".rs",	 ".swift", ".dart", ".ex",   ".exs",
		".lua",	   ".vue",    ".svelte", ".tf",	 ".hcl",   ".pl",   ".pm",   ".r",
		".R",	   ".m",      ".mm",	 ".jl",	 ".clj",   ".cljs", ".cljc", ".hs",
		".ml",	   ".elm",    ".nim",	 ".zig", ".cr",
	};
	/* The same languages by their #! line (a script without an extension). */
	static const char *const interps[] = { "perl",	     "ruby",  "php",	 "Rscript",
					       "julia",	     "lua",   "elixir",	 "groovy",
					       "kotlin",     "swift", "crystal", "runghc",
					       "runhaskell", "ocaml", "scala",	 "dart" };
	char interp[64];
	if (lex_shebang_interpreter(buf, MIN(len, (size_t)256), interp, sizeof(interp))) {
		size_t n = strcspn(interp, "0123456789."); /* perl5.36, ruby3.1 */
		for (size_t i = 0; i < ARRAY_SIZE(interps); i++) {
			if (n == strlen(interps[i]) && strncmp(interp, interps[i], n) == 0) {
				return true;
			}
		}
	}
	return ext_in(path, exts, ARRAY_SIZE(exts));
}

/*
 * Is path a Lisp's source file, where a line of a form may hold a name and its value with
 * no operator between them (a Clojure `let` vector's bindings, `setq`'s pairs)? Clojure
 * and ClojureScript, Fennel, Emacs Lisp, Common Lisp, Scheme and Racket, by name. Not EDN
 * (data: a name before a string there is no binding), nor `.cl` (OpenCL's C as often as
 * Common Lisp) or `.bb` (BitBake's recipes as often as Babashka's scripts).
 */
static bool lisp_path(const char *path)
{
	static const char *const exts[] = { ".clj", ".cljs", ".cljc", ".fnl", ".el",  ".lisp",
					    ".lsp", ".asd",  ".scm",  ".ss",  ".sld", ".rkt" };
	return ext_in(path, exts, ARRAY_SIZE(exts));
}

static int cmp_kw(const void *a, const void *b)
{
	const struct kw *x = a, *y = b;
	int c = memcmp(x->text, y->text, 2);
	return c ? c : strcmp(x->text, y->text);
}

struct secrets_scratch *secrets_scratch_new(const struct ruleset *rs)
{
	struct secrets_scratch *s = xcalloc(1, sizeof(*s));
	s->rs = rs;
	for (int c = 0; c < 256; c++) {
		s->lower[c] = (uint8_t)tolower(c);
	}
	size_t cap = 0;
	for (size_t ri = 0; ri < ruleset_count(rs); ri++) {
		const struct rule *r = ruleset_rule(rs, ri);
		for (size_t k = 0; k < r->n_keywords; k++) {
			const char *t = r->keywords[k];
			struct kw *found = NULL;
			for (size_t j = 0; j < s->n_kw && !found; j++) {
				if (strcmp(s->kw[j].text, t) == 0) {
					found = &s->kw[j];
				}
			}
			if (!found) {
				GROW(s->kw, cap, s->n_kw + 1);
				found = &s->kw[s->n_kw++];
				*found = (struct kw){ .text = t, .len = strlen(t) };
			}
			found->rules =
				xreallocarray(found->rules, found->n_rules + 1, sizeof(uint32_t));
			found->rules[found->n_rules++] = (uint32_t)ri;
		}
	}
	if (s->n_kw > 1) {
		qsort(s->kw, s->n_kw, sizeof(*s->kw), cmp_kw);
	}
	for (size_t j = 0; j < s->n_kw && j < UINT16_MAX; j++) {
		unsigned key = (unsigned)s->kw[j].text[0] << 8 | (unsigned char)s->kw[j].text[1];
		if (s->pair_count[key] == 0) {
			s->pair_first[key] = (uint16_t)j;
		}
		s->pair_count[key]++;
	}
	s->last_line = xcalloc(ruleset_count(rs) ? ruleset_count(rs) : 1, sizeof(size_t));
	s->gave_up = xcalloc(ruleset_count(rs) ? ruleset_count(rs) : 1, sizeof(bool));
	regex_ctx_init(&s->rx);
	pcre2_set_callout(s->rx.mctx, callout, s);
	return s;
}

void secrets_scratch_set_reader(struct secrets_scratch *s, secrets_read_fn fn, void *ud)
{
	s->read = fn;
	s->read_ud = ud;
}

void secrets_scratch_free(struct secrets_scratch *s)
{
	if (!s) {
		return;
	}
	for (size_t j = 0; j < s->n_kw; j++) {
		free(s->kw[j].rules);
	}
	free(s->kw);
	free(s->last_line);
	free(s->gave_up);
	free(s->spans);
	regex_ctx_release(&s->rx);
	free(s);
}

double secrets_entropy(const char *str, size_t n)
{
	size_t counts[256] = { 0 };
	if (n == 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		counts[(unsigned char)str[i]]++;
	}
	double h = 0;
	for (int c = 0; c < 256; c++) {
		if (counts[c]) {
			double p = (double)counts[c] / (double)n;
			h -= p * log2(p);
		}
	}
	return h;
}

void secrets_redact(const char *secret, size_t n, char *out, size_t outlen)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];
	EVP_Digest(secret, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, sizeof(md), hex);
	size_t show = MIN(n / 4, (size_t)4);
	char head[5];
	for (size_t i = 0; i < show; i++) {
		unsigned char c = (unsigned char)secret[i];
		head[i] = isprint(c) && c != '"' && c != '\\' ? (char)c : '?';
	}
	head[show] = '\0';
	if (n < REDACT_HASH_MIN) {
		/* A short secret is found again from any function of it alone: 2^32 values of
		 * a hash prefix single out every password of up to 4 characters, and most of a
		 * human-chosen one's dictionary. It gets no hash. */
		snprintf(out, outlen, "%s...(short)", head);
		return;
	}
	snprintf(out, outlen, "%s...(sha256:%.8s)", head, hex);
}

/* Does the secret itself hit an allow pattern (the rule's, or the scan's allowlist)? Not
 * the text around it: a key name such as AWS_SECRET_ACCESS_KEY_FOR_EXAMPLE_APP must not
 * let a real key through an allowlist entry meant for placeholder values. */
static bool allowed(struct secrets_scratch *s, const struct rule *r,
		    const struct secrets_allowlist *al, const char *sec, size_t sn)
{
	for (size_t i = 0; i < r->n_allow; i++) {
		if (pcre2_match(r->allow[i], (PCRE2_SPTR)sec, sn, 0, 0, s->rx.md, s->rx.mctx) >=
		    0) {
			return true;
		}
	}
	for (size_t i = 0; al && i < al->n; i++) {
		if (pcre2_match(al->regex[i], (PCRE2_SPTR)sec, sn, 0, 0, s->rx.md, s->rx.mctx) >=
		    0) {
			return true;
		}
	}
	return false;
}

static int least_severe(struct secrets_scratch *s)
{
	if (s->min_sev < 0) {
		s->min_sev = SEVERITY_CRITICAL;
		for (size_t k = 0; k < s->n_spans; k++) {
			s->min_sev = MIN(s->min_sev,
					 (int)ruleset_rule(s->rs, s->spans[k].rule)->severity);
		}
	}
	return s->min_sev;
}

static struct span *least_severe_span(struct secrets_scratch *s)
{
	int min = least_severe(s);
	for (size_t k = 0; k < s->n_spans; k++) {
		if ((int)ruleset_rule(s->rs, s->spans[k].rule)->severity == min) {
			return &s->spans[k];
		}
	}
	return NULL;
}

/*
 * A new span for rule ri, or NULL when the file's spans are at their cap and this one is
 * dropped. Full, a more severe match takes the place of one of the least severe kept, so
 * that a file flooded with lesser matches cannot hide a worse one below the gate's
 * threshold.
 */
static struct span *new_span(struct secrets_scratch *s, uint32_t ri, struct secrets_file_stats *st)
{
	const struct rule *r = ruleset_rule(s->rs, ri);
	struct span *sp;
	if (s->n_spans >= SECRETS_MAX_PER_FILE) {
		st->truncated++;
		sp = (int)r->severity > least_severe(s) ? least_severe_span(s) : NULL;
		/* What is dropped is not passed: its rule reports the file as not evaluated
		 * completely (a flood of matches suppressed inline would otherwise fill the
		 * cap and push an unsuppressed one out). */
		if (!sp) {
			s->gave_up[ri] = true;
			return NULL;
		}
		s->gave_up[sp->rule] = true;
		s->min_sev = -1;
	} else {
		GROW(s->spans, s->cap_spans, s->n_spans + 1);
		sp = &s->spans[s->n_spans++];
	}
	memset(sp, 0, sizeof(*sp));
	sp->rule = ri;
	return sp;
}

static void eval_rule(struct secrets_scratch *s, uint32_t ri, const char *buf, size_t len,
		      size_t ls, size_t le, const struct secrets_allowlist *al,
		      struct secrets_file_stats *st, const struct origin *o)
{
	const struct rule *r = ruleset_rule(s->rs, ri);
	if (r->structure) {
		/* Not matched line by line: the file is read as a whole if it has a
		 * `kind: Secret` line or a `secretGenerator:` key (and never what a
		 * Secret's value decodes to). */
		if (!o && !s->k8s_line) {
			s->k8s_line = k8s_secret_line(buf + ls, le - ls);
		}
		return;
	}
	/* A multiline match starts on this line, which may be long (a minified file holds a
	 * key anywhere in it), and may reach SECRETS_MULTILINE_MAX past the line's end, and
	 * no further than the end of the rule's max_lines-th line after it. */
	size_t end = r->multiline ? MIN(len, le + MIN(len - le, SECRETS_MULTILINE_MAX)) : le;
	if (r->max_lines) {
		size_t e = le;
		for (unsigned k = 0; k < r->max_lines && e < end; k++) {
			const char *nl = memchr(buf + e + 1, '\n', end - e - 1);
			e = nl ? (size_t)(nl - buf) : end;
		}
		end = MIN(end, e);
	}
	size_t pos = ls;
	/* Without a limit, each line with the keyword would search up to the whole window
	 * for a start: a file of such lines took seconds a megabyte. */
	while (pos <= end) {
		pcre2_set_offset_limit(s->rx.mctx, r->multiline ? le : PCRE2_UNSET);
		int rc = pcre2_match(r->regex, (PCRE2_SPTR)buf, end, pos, 0, s->rx.md, s->rx.mctx);
		pcre2_set_offset_limit(s->rx.mctx, PCRE2_UNSET); /* the allowlists' have none */
		if (rc < 0) {
			if (rc != PCRE2_ERROR_NOMATCH) {
				st->regex_limits++;
				s->gave_up[ri] = true;
			}
			return;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->rx.md);
		size_t ms = ov[0], me = ov[1];
		size_t so = ms, se = me;
		if (r->secret_group && (int)r->secret_group < rc &&
		    ov[2 * r->secret_group] != PCRE2_UNSET) {
			so = ov[2 * r->secret_group];
			se = ov[2 * r->secret_group + 1];
		}
		pos = me > ms ? me : ms + 1;
		if (r->multiline && ms > le) {
			return; /* only matches that start on the keyword's line */
		}
		if (se <= so) {
			continue;
		}
		double h = secrets_entropy(buf + so, se - so);
		if (r->entropy > 0 && h < r->entropy) {
			st->low_entropy++;
			continue;
		}
		if (allowed(s, r, al, buf + so, se - so)) {
			st->allowlisted++;
			continue;
		}
		if (s->probing) {
			s->probe_hit = true;
			continue;
		}
		struct span *sp = new_span(s, ri, st);
		if (!sp) {
			continue;
		}
		if (o) {
			sp->off = sp->match_off = o->off;
			sp->len = sp->match_len = o->len;
			sp->decoded = true;
			sp->dec_off = (uint32_t)so;
			sp->dec_len = (uint32_t)(se - so);
			snprintf(sp->where, sizeof(sp->where), "%s", o->where);
		} else {
			sp->off = (uint32_t)so;
			sp->len = (uint32_t)(se - so);
			sp->match_off = (uint32_t)ms;
			sp->match_len = (uint32_t)(me - ms);
		}
		sp->entropy = h;
		secrets_redact(buf + so, se - so, sp->redacted, sizeof(sp->redacted));
	}
}

static int confidence_rank(const char *c)
{
	return str_eq(c, "high") ? 2 : str_eq(c, "medium") ? 1 : 0;
}

/* Does rule a report a secret that rule b also found, rather than b? The more confident,
 * then the more severe; then one that knows what the secret is over one that only knows
 * where it is (a Kubernetes Secret's value). */
static bool rule_beats(const struct rule *a, const struct rule *b)
{
	int ca = confidence_rank(a->confidence), cb = confidence_rank(b->confidence);
	if (ca != cb) {
		return ca > cb;
	}
	if (a->severity != b->severity) {
		return a->severity > b->severity;
	}
	return !a->structure && b->structure;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->off != y->off) {
		return x->off < y->off ? -1 : 1;
	}
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Do two spans whose text in the file overlaps hold the same secret? Not two secrets
 * found in one decoded value. */
static bool same_secret(const struct span *a, const struct span *b)
{
	if (!a->decoded || !b->decoded) {
		return true;
	}
	return a->dec_off < b->dec_off + b->dec_len && b->dec_off < a->dec_off + a->dec_len;
}

/* Drop spans that overlap a span of a more confident rule (a provider rule beats the
 * generic assignment rule on the same secret). */
static void dedupe(struct secrets_scratch *s)
{
	if (s->n_spans > 1) {
		qsort(s->spans, s->n_spans, sizeof(*s->spans), cmp_span);
	}
	for (size_t i = 0; i < s->n_spans; i++) {
		struct span *a = &s->spans[i];
		if (a->len == 0) {
			continue;
		}
		for (size_t j = i + 1; j < s->n_spans && s->spans[j].off < a->off + a->len; j++) {
			struct span *b = &s->spans[j];
			if (b->len == 0 || !same_secret(a, b)) {
				continue;
			}
			const struct rule *ra = ruleset_rule(s->rs, a->rule);
			const struct rule *rb = ruleset_rule(s->rs, b->rule);
			if (a->off == b->off && a->len == b->len && a->rule == b->rule &&
			    a->decoded == b->decoded) {
				b->len = 0;
			} else if (rule_beats(rb, ra)) {
				a->len = 0;
				break;
			} else {
				b->len = 0;
			}
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < s->n_spans; i++) {
		if (s->spans[i].len) {
			s->spans[w++] = s->spans[i];
		}
	}
	s->n_spans = w;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The line around a secret with every secret found on it replaced by its redacted form. */
static char *redacted_snippet(const struct secrets_scratch *s, const char *buf, size_t len,
			      const struct span *sp)
{
	size_t ls = sp->off, le;
	while (ls > 0 && buf[ls - 1] != '\n') {
		ls--;
	}
	const char *nl = memchr(buf + sp->off, '\n', len - sp->off);
	le = nl ? (size_t)(nl - buf) : len;
	/* A window around the secret on a long line. */
	size_t se = sp->off + sp->len;
	size_t b = sp->off > ls + SNIPPET_CONTEXT ? sp->off - SNIPPET_CONTEXT : ls;
	size_t e = se + SNIPPET_CONTEXT < le ? se + SNIPPET_CONTEXT : le;
	if (e < se && se <= le) {
		e = se;
	}
	/*
	 * The window is cut at a blank, as filefind_excerpt() cuts quoted code: the part of
	 * a word on this side of a cut would be the start or the end of whatever the word
	 * is, a token or a pipeline secret, which the masking of the pipeline's secrets no
	 * longer recognizes. A word that a cut falls in is left out whole (never the secret
	 * itself: a word that runs into it is left out up to it), and a cut is marked with
	 * "...".
	 */
	bool cut_b = false, cut_e = false;
	if (b > ls && !is_blank(buf[b - 1])) {
		while (b < sp->off && !is_blank(buf[b])) {
			b++;
		}
	}
	for (size_t k = ls; k < b && !cut_b; k++) {
		cut_b = !is_blank(buf[k]);
	}
	if (e < le && e > se && !is_blank(buf[e])) {
		while (e > se && !is_blank(buf[e - 1])) {
			e--;
		}
	}
	while (b < e && is_blank(buf[b])) {
		b++;
	}
	struct sbuf_lite {
		char *d;
		size_t n, cap;
	} o = { NULL, 0, 0 };
	if (cut_b) {
		GROW(o.d, o.cap, 4);
		memcpy(o.d, "...", 3);
		o.n = 3;
	}
	size_t i = b;
	while (i < e) {
		/* The secret itself, where the value of a Kubernetes Secret holds several. */
		const struct span *hit =
			!sp->elsewhere && sp->off <= i && i < sp->off + sp->len ? sp : NULL;
		for (size_t k = 0; k < s->n_spans && !hit; k++) {
			const struct span *q = &s->spans[k];
			if (!q->elsewhere && q->off <= i && i < q->off + q->len) {
				hit = q;
			}
		}
		if (hit) {
			size_t rl = strlen(hit->redacted);
			GROW(o.d, o.cap, o.n + rl + 1);
			memcpy(o.d + o.n, hit->redacted, rl);
			o.n += rl;
			i = hit->off + hit->len;
			continue;
		}
		char c = buf[i] == '\r' || buf[i] == '\n' ? ' ' : buf[i];
		GROW(o.d, o.cap, o.n + 2);
		o.d[o.n++] = c;
		i++;
	}
	GROW(o.d, o.cap, o.n + 1);
	o.d[o.n] = '\0';
	while (o.n > 0 && (o.d[o.n - 1] == ' ' || o.d[o.n - 1] == '\t')) {
		o.d[--o.n] = '\0';
	}
	/* What is left of the line after the last byte quoted (past e when a secret on the
	 * line runs over it, and is quoted redacted whole). */
	for (size_t k = i; k < le && !cut_e; k++) {
		cut_e = !is_blank(buf[k]);
	}
	if (cut_e) {
		GROW(o.d, o.cap, o.n + 4);
		memcpy(o.d + o.n, "...", 4);
		o.n += 3;
	}
	char *clean = utf8_sanitize(o.d, o.n);
	free(o.d);
	return clean;
}

static uint32_t line_of(const char *buf, size_t off, size_t *cursor_off, uint32_t *cursor_line)
{
	/* Findings come in increasing offset order: count newlines from the last one. */
	if (off < *cursor_off) {
		*cursor_off = 0;
		*cursor_line = 1;
	}
	/* Lines end at LF, CRLF or a lone CR (text_line_end()); off < the buffer's length,
	 * so buf[i + 1] can be read. */
	for (size_t i = *cursor_off; i < off; i++) {
		if (text_is_line_end(buf, off + 1, i)) {
			(*cursor_line)++;
		}
	}
	*cursor_off = off;
	return *cursor_line;
}

static uint32_t column_of(const char *buf, size_t off)
{
	size_t ls = off;
	while (ls > 0 && buf[ls - 1] != '\n' && buf[ls - 1] != '\r') {
		ls--;
	}
	uint32_t col = 1;
	for (size_t i = ls; i < off; i++) {
		col += ((unsigned char)buf[i] & 0xC0) != 0x80;
	}
	return col;
}

/* Does keyword w (lower case) start at p, whose first two bytes are known to match it? In
 * place, through the scratch's table: a libc call per candidate costs more than most
 * comparisons, which end at the third byte. */
static bool keyword_at(const uint8_t *lo, const char *p, const struct kw *w)
{
	for (size_t k = 2; k < w->len; k++) {
		if (lo[(uint8_t)p[k]] != (uint8_t)w->text[k]) {
			return false;
		}
	}
	return true;
}

/* One pass over buf for the rules' keywords, each rule's regex run on the lines that have
 * one of them (once per line). o: buf is a Secret's decoded value, not the file. */
static void keyword_pass(struct secrets_scratch *s, const char *buf, size_t len,
			 const struct secrets_allowlist *al, struct secrets_file_stats *st,
			 const struct origin *o)
{
	memset(s->last_line, 0, ruleset_count(s->rs) * sizeof(size_t));
	bool yaml = s->yaml, code = s->code, lisp = s->lisp;
	s->yaml = yaml && !o; /* a decoded value is no YAML file, nor source code */
	s->code = code && !o;
	s->lisp = lisp && !o;
	const char *text = s->text;
	size_t text_len = s->text_len;
	s->text = buf;
	s->text_len = len;
	/* The line's end is looked for once, at its first keyword: a long line holds many
	 * (a minified file), and looking from each to the end was quadratic in its length. */
	size_t line_start = 0, line_end = SIZE_MAX;
	const uint8_t *lo = s->lower;
	for (size_t i = 0; i + 1 < len; i++) {
		uint8_t c0 = lo[(uint8_t)buf[i]];
		if (c0 == '\n') {
			line_start = i + 1;
			line_end = SIZE_MAX;
			continue;
		}
		unsigned key = (unsigned)c0 << 8 | lo[(uint8_t)buf[i + 1]];
		unsigned cnt = s->pair_count[key];
		if (!cnt) {
			continue;
		}
		for (unsigned k = s->pair_first[key]; k < s->pair_first[key] + cnt; k++) {
			const struct kw *w = &s->kw[k];
			if (i + w->len > len || !keyword_at(lo, buf + i, w)) {
				continue;
			}
			if (line_end == SIZE_MAX) {
				const char *nl = memchr(buf + i, '\n', len - i);
				line_end = nl ? (size_t)(nl - buf) : len;
			}
			for (size_t q = 0; q < w->n_rules; q++) {
				uint32_t ri = w->rules[q];
				if (s->last_line[ri] == line_start + 1) {
					continue;
				}
				s->last_line[ri] = line_start + 1;
				eval_rule(s, ri, buf, len, line_start, line_end, al, st, o);
			}
		}
	}
	s->yaml = yaml;
	s->code = code;
	s->lisp = lisp;
	s->text = text;
	s->text_len = text_len;
}

/* Every structure rule gives up on the file, for this reason. */
static void k8s_give_up(struct secrets_scratch *s, const char *why)
{
	if (!s->k8s_why) {
		s->k8s_why = why;
	}
	for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		if (ruleset_rule(s->rs, ri)->structure) {
			s->gave_up[ri] = true;
		}
	}
}

/* Ranges of the file, sorted by their start, with the furthest end of each prefix: does
 * one of them overlap [off, end)? Does one hold it? In O(log n). */
struct ranges {
	struct range {
		size_t off, end, max_end;
	} * v;
	size_t n, cap;
};

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void ranges_add(struct ranges *rg, size_t off, size_t end)
{
	GROW(rg->v, rg->cap, rg->n + 1);
	rg->v[rg->n++] = (struct range){ off, end, 0 };
}

static void ranges_sort(struct ranges *rg)
{
	if (rg->n > 1) {
		qsort(rg->v, rg->n, sizeof(*rg->v), cmp_range);
	}
	for (size_t i = 0; i < rg->n; i++) {
		rg->v[i].max_end = MAX(rg->v[i].end, i ? rg->v[i - 1].max_end : 0);
	}
}

/* How many ranges start before off. */
static size_t ranges_before(const struct ranges *rg, size_t off)
{
	size_t lo = 0, hi = rg->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rg->v[mid].off < off) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static bool ranges_overlap(const struct ranges *rg, size_t off, size_t end)
{
	size_t k = ranges_before(rg, end);
	return k > 0 && rg->v[k - 1].max_end > off;
}

/* Ranges that do not overlap one another (or are the same). */
static bool ranges_hold(const struct ranges *rg, size_t off, size_t end)
{
	size_t k = ranges_before(rg, off + 1);
	return k > 0 && rg->v[k - 1].end >= end;
}

/* The key of a Secret's entry as a message may quote it: "?" for what is not a key
 * Kubernetes allows, cut at 64 bytes; withheld when a rule found a secret in it (found:
 * the spans of the file's text). */
static void key_shown(const struct ranges *found, const struct k8s_value *v, char *out,
		      size_t outlen)
{
	if (ranges_overlap(found, v->key_off, v->key_off + v->key_len)) {
		snprintf(out, outlen, "(a key that holds a secret)");
		return;
	}
	size_t n = 0;
	out[n++] = '\'';
	for (size_t i = 0; v->key[i] && n + 6 < outlen; i++) {
		unsigned char c = (unsigned char)v->key[i];
		if (i == 64) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		out[n++] = isalnum(c) || c == '-' || c == '.' || c == '_' ? (char)c : '?';
	}
	out[n++] = '\'';
	out[n] = '\0';
}

/* The path of a secretGenerator's file as a message may quote it: as a key is quoted
 * (key_shown), with its '/' kept. */
static void path_shown(const struct ranges *found, const struct k8s_value *v, char *out,
		       size_t outlen)
{
	if (ranges_overlap(found, v->off, v->off + v->len)) {
		snprintf(out, outlen, "(a path that holds a secret)");
		return;
	}
	size_t n = 0;
	out[n++] = '\'';
	for (size_t i = 0; i < v->text_len && n + 6 < outlen; i++) {
		unsigned char c = (unsigned char)v->text[i];
		if (i == 64) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		out[n++] =
			isalnum(c) || c == '-' || c == '.' || c == '_' || c == '/' ? (char)c : '?';
	}
	out[n++] = '\'';
	out[n] = '\0';
}

/* Is the decoded value text a rule can read (UTF-8 without NULs)? */
static bool readable_text(const char *t, size_t n)
{
	return !memchr(t, '\0', n) && utf8_valid(t, n);
}

/*
 * One value of a Kubernetes Secret. A data value is decoded (what does not decode is
 * judged as written) and the other rules are run over what it decodes to; a value that
 * is not empty, not a template and not what a structure rule's allow entries (or the
 * scan's allowlist) take for a placeholder is a span of each structure rule. Returns
 * whether it is one (false: the value is no secret).
 */
static bool k8s_value(struct secrets_scratch *s, const struct k8s_value *v,
		      const struct ranges *found, const struct secrets_allowlist *al,
		      struct secrets_file_stats *st, size_t *decoded_total)
{
	if (v->templated) {
		return false;
	}
	const char *field = v->field == K8S_DATA      ? "data"
			    : v->field == K8S_LITERAL ? "secretGenerator literal"
						      : "stringData";
	char key[80], where[112];
	key_shown(found, v, key, sizeof(key));
	const char *t = v->text;
	size_t tl = v->text_len;
	_cleanup_free_ unsigned char *dec = NULL;
	const char *note = "";
	if (v->field == K8S_DATA) {
		dec = xmalloc(tl / 4 * 3 + 3);
		size_t dl = 0;
		if (k8s_base64_decode(t, tl, dec, &dl) < 0) {
			note = " (not valid base64)";
		} else if (*decoded_total + dl > K8S_MAX_DECODED) {
			k8s_give_up(s, "more than 8 MiB of decoded Secret values in the file");
			return true;
		} else {
			*decoded_total += dl;
			t = (const char *)dec;
			tl = dl;
			if (readable_text(t, tl)) {
				snprintf(where, sizeof(where), "in %s %s (base64-decoded)", field,
					 key);
				struct origin o = { (uint32_t)v->off, (uint32_t)v->len, where };
				keyword_pass(s, t, tl, al, st, &o);
			}
		}
	}
	while (tl && isspace((unsigned char)*t)) {
		t++;
		tl--;
	}
	while (tl && isspace((unsigned char)t[tl - 1])) {
		tl--;
	}
	if (!tl) {
		return false;
	}
	snprintf(where, sizeof(where), "in %s %s%s", field, key, note);
	bool reported = false;
	for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		const struct rule *r = ruleset_rule(s->rs, ri);
		if (!r->structure) {
			continue;
		}
		if (allowed(s, r, al, t, tl)) {
			st->allowlisted++;
			continue;
		}
		struct span *sp = new_span(s, (uint32_t)ri, st);
		reported = true; /* a span the cap dropped still says the value is one */
		if (!sp) {
			continue;
		}
		sp->off = sp->match_off = (uint32_t)v->off;
		sp->len = sp->match_len = (uint32_t)v->len;
		sp->entropy = secrets_entropy(t, tl);
		secrets_redact(t, tl, sp->redacted, sizeof(sp->redacted));
		snprintf(sp->where, sizeof(sp->where), "%s", where);
	}
	return reported;
}

/*
 * The path of a file a secretGenerator names (entry, n bytes), as the reader takes it:
 * the directory of the scanned file's path joined with entry, whose empty and `.`
 * components are dropped. NULL when entry is absolute, has a `..` component (kustomize
 * reads no file outside the kustomization's directory unless told to), a NUL or a URL's
 * `://`, or the path would be longer than PATH_MAX.
 */
static char *generator_file_path(const char *path, const char *entry, size_t n)
{
	if (!n || entry[0] == '/' || memchr(entry, '\0', n) || memmem(entry, n, "://", 3)) {
		return NULL;
	}
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
	if (dl + n + 1 > PATH_MAX) {
		return NULL;
	}
	char *out = xmalloc(dl + n + 1);
	memcpy(out, path, dl);
	size_t w = dl;
	for (size_t i = 0; i < n;) {
		const char *e = memchr(entry + i, '/', n - i);
		size_t cl = e ? (size_t)(e - entry) - i : n - i;
		if (cl == 2 && entry[i] == '.' && entry[i + 1] == '.') {
			free(out);
			return NULL;
		}
		if (cl && !(cl == 1 && entry[i] == '.')) {
			if (w > dl) {
				out[w++] = '/';
			}
			memcpy(out + w, entry + i, cl);
			w += cl;
		}
		i += cl + 1;
	}
	if (w == dl) {
		free(out);
		return NULL;
	}
	out[w] = '\0';
	return out;
}

/*
 * Does what a secretGenerator's file holds (trimmed, t, n bytes) look like a credential by
 * itself? One token: no blank or line break inside (a public key's line, a config file, a
 * passphrase of words are not read so), at least 8 bytes; not one character repeated or
 * two alternating (entropy at least 2); not digits and punctuation alone (a number, a date,
 * an address, a version); not a word of letters alone unless it has the entropy of a random
 * one (3.5: `production` has not); not a name of lower-case words (`app_user`,
 * `db.internal`), a URL or a path. Placeholders are the rule's allow entries.
 */
static bool bare_credential(const char *t, size_t n)
{
	if (n < 8) {
		return false;
	}
	bool letters_only = true, lower_name = true, no_letter = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (isspace(c)) {
			return false;
		}
		bool letter = isalpha(c);
		letters_only &= letter;
		no_letter &= !letter;
		lower_name &= islower(c) || ((c == '-' || c == '_' || c == '.') && i > 0 &&
					     i + 1 < n && islower((unsigned char)t[i - 1]));
	}
	double h = secrets_entropy(t, n);
	if (h < 2.0 || no_letter || lower_name || (letters_only && h < 3.5)) {
		return false;
	}
	size_t k = 0;
	while (k < n &&
	       (isalnum((unsigned char)t[k]) || t[k] == '+' || t[k] == '.' || t[k] == '-')) {
		k++;
	}
	bool url =
		k > 0 && isalpha((unsigned char)t[0]) && n - k >= 3 && memcmp(t + k, "://", 3) == 0;
	bool file = t[0] == '/' || t[0] == '~' ||
		    (t[0] == '.' && (t[1] == '/' || (t[1] == '.' && t[2] == '/')));
	return !url && !file;
}

/*
 * A file of a kustomize secretGenerator (v: its entry in the kustomization): its content is
 * the value of a Secret the build makes, committed as surely as a literal. The scanned
 * file is path; the file is read through the reader when it is one the scan reads
 * (generator_file_path: below the kustomization's directory), and its content, when it is a
 * bare credential (bare_credential) that no other rule finds (that rule reports it where
 * the file is, which the scan reads too) and no placeholder, is a span of each structure
 * rule at the entry. Past SECRETS_MAX_FILES_READ bytes read, or a file the reader cannot
 * read, the rules give up on the scanned file.
 */
static void k8s_file_value(struct secrets_scratch *s, const char *path, const struct k8s_value *v,
			   const struct ranges *found, const struct secrets_allowlist *al,
			   struct secrets_file_stats *st, size_t *read_total)
{
	if (!s->read || v->templated) {
		return;
	}
	_cleanup_free_ char *fp = generator_file_path(path, v->text, v->text_len);
	if (!fp) {
		return;
	}
	if (*read_total >= SECRETS_MAX_FILES_READ) {
		k8s_give_up(s, "more than 8 MiB of the secretGenerator files it names");
		return;
	}
	_cleanup_free_ char *data = NULL;
	size_t n = 0;
	int r = s->read(s->read_ud, fp, SECRETS_MAX_FILE_VALUE, &data, &n);
	if (r == -ENOENT || r == -EFBIG) {
		return;
	}
	if (r < 0) {
		k8s_give_up(s, "a secretGenerator file it names could not be read");
		return;
	}
	*read_total += n;
	size_t bom = lex_bom_len(data, n);
	const char *t = data + bom;
	size_t tl = n - bom;
	while (tl && isspace((unsigned char)*t)) {
		t++;
		tl--;
	}
	while (tl && isspace((unsigned char)t[tl - 1])) {
		tl--;
	}
	if (!readable_text(t, tl) || !bare_credential(t, tl)) {
		return;
	}
	char shown[80], where[112];
	path_shown(found, v, shown, sizeof(shown));
	snprintf(where, sizeof(where), "in secretGenerator file %s", shown);
	struct origin o = { (uint32_t)v->off, (uint32_t)v->len, where };
	s->probing = true;
	s->probe_hit = false;
	keyword_pass(s, t, tl, al, st, &o);
	s->probing = false;
	if (s->probe_hit) {
		return;
	}
	for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		const struct rule *rule = ruleset_rule(s->rs, ri);
		if (!rule->structure) {
			continue;
		}
		if (allowed(s, rule, al, t, tl)) {
			st->allowlisted++;
			continue;
		}
		struct span *sp = new_span(s, (uint32_t)ri, st);
		if (!sp) {
			continue;
		}
		sp->off = sp->match_off = (uint32_t)v->off;
		sp->len = sp->match_len = (uint32_t)v->len;
		sp->elsewhere = true;
		sp->entropy = secrets_entropy(t, tl);
		secrets_redact(t, tl, sp->redacted, sizeof(sp->redacted));
		snprintf(sp->where, sizeof(sp->where), "%s", where);
	}
}

/* Does a SealedSecret's value look like what kubeseal writes: the base64 of at least 64
 * bytes that are no text (an RSA-encrypted session key, then the AES-GCM ciphertext)? */
static bool sealed_ciphertext(const struct k8s_value *v)
{
	_cleanup_free_ unsigned char *dec = xmalloc(v->text_len / 4 * 3 + 3);
	size_t dl = 0;
	return k8s_base64_decode(v->text, v->text_len, dec, &dl) == 0 && dl >= 64 &&
	       !readable_text((const char *)dec, dl);
}

/* Drop the spans of the file's text that a veto range holds, of rules of at most that
 * confidence. */
static void drop_vetoed(struct secrets_scratch *s, const struct ranges *veto, int max_rank)
{
	size_t w = 0;
	for (size_t k = 0; k < s->n_spans; k++) {
		const struct span *q = &s->spans[k];
		if (veto->n && !q->decoded &&
		    confidence_rank(ruleset_rule(s->rs, q->rule)->confidence) <= max_rank &&
		    ranges_hold(veto, q->off, q->off + q->len)) {
			continue;
		}
		s->spans[w++] = *q;
	}
	if (w != s->n_spans) {
		s->n_spans = w;
		s->min_sev = -1;
	}
}

/*
 * The values of the file's Kubernetes Secrets (k8s_read_secrets), each judged by
 * k8s_value(). A data value that is no secret vetoes the spans of rules not highly
 * confident found in its text: the generic rules' matches of the base64 of "changeme".
 * A stringData value of one line that is no secret vetoes the generic rules' (low
 * confidence): `api_token: CHANGE_ME_PLEASE`. Not the others': a connection string with
 * a password and a `${VAR}` is a placeholder to this rule, and a secret to theirs.
 */
static void k8s_pass(struct secrets_scratch *s, const char *path, const char *buf, size_t len,
		     const struct secrets_allowlist *al, struct secrets_file_stats *st)
{
	struct k8s_values kv = { 0 };
	if (k8s_read_secrets(buf, len, &kv) < 0) {
		k8s_give_up(s, "out of memory reading its YAML");
	}
	if (kv.incomplete) {
		k8s_give_up(s, kv.incomplete);
	}
	if (kv.docs_unparsed) {
		size_t off = 0;
		uint32_t line = 1;
		st->k8s_unparsed += kv.docs_unparsed;
		st->first_k8s_unparsed_line = line_of(buf, kv.first_unparsed, &off, &line);
	}
	struct ranges found = { 0 }, veto = { 0 }, veto_low = { 0 };
	for (size_t k = 0; k < s->n_spans; k++) {
		ranges_add(&found, s->spans[k].off, s->spans[k].off + s->spans[k].len);
	}
	ranges_sort(&found);
	size_t decoded_total = 0, read_total = 0;
	for (size_t i = 0; i < kv.n; i++) {
		if (kv.v[i].field == K8S_FILE) {
			k8s_file_value(s, path, &kv.v[i], &found, al, st, &read_total);
			continue;
		}
		if (kv.v[i].field == K8S_ENCRYPTED) {
			/* A SealedSecret's ciphertext, meant to be committed: what the line
			 * rules took for a secret in it is not one. Unless it is no
			 * ciphertext (a value in clear written there by mistake). */
			if (sealed_ciphertext(&kv.v[i])) {
				ranges_add(&veto, kv.v[i].off, kv.v[i].off + kv.v[i].len);
			}
			continue;
		}
		/* What the line rules matched in a data value is its encoding: no secret when
		 * what it decodes to is none. A block of several lines in stringData (or a
		 * literal) may hold a secret beside a placeholder (`${VAR}`): there every
		 * rule's judgement stands. */
		const struct k8s_value *v = &kv.v[i];
		if (!k8s_value(s, v, &found, al, st, &decoded_total)) {
			if (v->field == K8S_DATA) {
				ranges_add(&veto, v->off, v->off + v->len);
			} else if (!memchr(v->text, '\n', v->text_len)) {
				ranges_add(&veto_low, v->off, v->off + v->len);
			}
		}
	}
	ranges_sort(&veto);
	ranges_sort(&veto_low);
	drop_vetoed(s, &veto, 1);
	drop_vetoed(s, &veto_low, 0);
	free(found.v);
	free(veto.v);
	free(veto_low.v);
	k8s_values_release(&kv);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Is the text a ConfigMap's value decodes to (trimmed) no secret to rule r: below its
 * entropy, or one of its (or the scan's) allow entries, or a placeholder to a structure
 * rule? */
static bool decoded_no_secret(struct secrets_scratch *s, const struct rule *r,
			      const struct secrets_allowlist *al, const char *t, size_t n)
{
	if (r->entropy > 0 && secrets_entropy(t, n) < r->entropy) {
		return true;
	}
	if (allowed(s, r, al, t, n)) {
		return true;
	}
	for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		const struct rule *q = ruleset_rule(s->rs, ri);
		if (q->structure && allowed(s, q, NULL, t, n)) {
			return true;
		}
	}
	return false;
}

/*
 * A ConfigMap holds configuration in clear, so a credential there is a finding, and the
 * generic rules (low confidence) report it by its key. But its values are also where
 * base64 of what is no secret is kept (`session_secret: ZGV2ZWxvcG1lbnQ=`, "development"):
 * what those rules found in a ConfigMap's data or binaryData value that is base64 of text
 * is judged as that text, by the rule's own entropy and allow entries and the structure
 * rules' placeholders; the match goes when the text is no secret to them. Base64 of
 * bytes that are no text (a key), a value that is not base64 and the other rules'
 * matches stay. Only the documents that hold such a match are read.
 */
static void configmap_pass(struct secrets_scratch *s, const char *buf, size_t len,
			   const struct secrets_allowlist *al, struct secrets_file_stats *st)
{
	_cleanup_free_ size_t *at = NULL;
	size_t n_at = 0, cap_at = 0;
	for (size_t k = 0; k < s->n_spans; k++) {
		const struct span *q = &s->spans[k];
		if (!q->decoded && confidence_rank(ruleset_rule(s->rs, q->rule)->confidence) == 0) {
			GROW(at, cap_at, n_at + 1);
			at[n_at++] = q->off;
		}
	}
	if (!n_at) {
		return;
	}
	qsort(at, n_at, sizeof(*at), cmp_size);
	struct k8s_values kv = { 0 };
	if (k8s_read_configmaps(buf, len, at, n_at, &kv) < 0) {
		k8s_values_release(&kv);
		return; /* the matches stay */
	}
	for (size_t i = 0; i < kv.n; i++) {
		const struct k8s_value *v = &kv.v[i];
		_cleanup_free_ unsigned char *dec = xmalloc(v->text_len / 4 * 3 + 3);
		size_t dl = 0;
		if (k8s_base64_decode(v->text, v->text_len, dec, &dl) < 0 ||
		    !readable_text((const char *)dec, dl)) {
			continue;
		}
		const char *t = (const char *)dec;
		while (dl && isspace((unsigned char)*t)) {
			t++;
			dl--;
		}
		while (dl && isspace((unsigned char)t[dl - 1])) {
			dl--;
		}
		for (size_t k = 0; k < s->n_spans; k++) {
			struct span *q = &s->spans[k];
			const struct rule *r = ruleset_rule(s->rs, q->rule);
			if (q->len && !q->decoded && confidence_rank(r->confidence) == 0 &&
			    q->off >= v->off && q->off + q->len <= v->off + v->len &&
			    (!dl || decoded_no_secret(s, r, al, t, dl))) {
				q->len = 0; /* dropped by dedupe() */
				s->min_sev = -1;
				st->allowlisted++;
			}
		}
	}
	k8s_values_release(&kv);
}

int secrets_scan(struct secrets_scratch *s, const char *path, const char *buf, size_t len,
		 const struct secrets_allowlist *al, struct finding_list *out,
		 struct secrets_file_stats *st)
{
	return secrets_scan_named(s, path, path, buf, len, al, out, st);
}

int secrets_scan_named(struct secrets_scratch *s, const char *path, const char *name,
		       const char *buf, size_t len, const struct secrets_allowlist *al,
		       struct finding_list *out, struct secrets_file_stats *st)
{
	static struct secrets_file_stats dummy;
	if (!st) {
		st = &dummy;
	}
	/* A UTF-8 byte order mark is no part of the text: columns of line 1 count after it,
	 * as the SAST scan's do. */
	size_t bom = lex_bom_len(buf, len);
	buf += bom;
	len -= bom;
	s->n_spans = 0;
	s->min_sev = -1;
	s->k8s_line = false;
	s->k8s_why = NULL;
	s->yaml = yaml_path(name);
	s->code = code_path(name, buf, len);
	s->lisp = lisp_path(name);
	memset(s->gave_up, 0, ruleset_count(s->rs) * sizeof(bool));
	keyword_pass(s, buf, len, al, st, NULL);
	if (s->k8s_line) {
		k8s_pass(s, path, buf, len, al, st);
	}
	configmap_pass(s, buf, len, al, st);
	dedupe(s);
	size_t first = out->n, cur_off = 0;
	uint32_t cur_line = 1;
	for (size_t k = 0; k < s->n_spans; k++) {
		const struct span *sp = &s->spans[k];
		const struct rule *r = ruleset_rule(s->rs, sp->rule);
		struct finding *f = filefind_add(out, r, FINDING_SECRET, path);
		f->line = line_of(buf, sp->off, &cur_off, &cur_line);
		f->column = column_of(buf, sp->off);
		size_t last = sp->off + sp->len - 1;
		size_t c2 = cur_off;
		uint32_t l2 = cur_line;
		f->end_line = line_of(buf, last, &c2, &l2);
		f->end_column = column_of(buf, last) + 1;
		f->message = sp->where[0]
				     ? xasprintf("%s %s: %s", r->message, sp->where, sp->redacted)
				     : xasprintf("%s: %s", r->message, sp->redacted);
		f->snippet = redacted_snippet(s, buf, len, sp);
		if (r->fix) {
			finding_set(&f->fix, r->fix);
		}
		f->extra = json_pack("{s:s, s:f}", "redacted", sp->redacted, "entropy",
				     floor(sp->entropy * 100.0 + 0.5) / 100.0);
		finding_fingerprint(f, sp->redacted, strlen(sp->redacted), 0);
	}
	/* A rule that gave up on the file may hide a secret there: it is not passed. */
	char sha[65] = "";
	for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		if (s->gave_up[ri]) {
			if (!sha[0]) {
				finding_sha256_hex(buf, len, sha);
			}
			const struct rule *r = ruleset_rule(s->rs, ri);
			struct finding *f = filefind_incomplete(out, r, FINDING_SECRET, path, sha);
			if (r->structure && s->k8s_why) {
				free(f->message);
				f->message = xasprintf(
					"%s: not evaluated completely on this file: its Kubernetes "
					"Secrets were not read to the end (%s), so a secret may be "
					"hidden here",
					f->title ? f->title : r->id, s->k8s_why);
			}
		}
	}
	st->no_reason += filefind_finish(out, first, buf, len, NULL, &st->first_no_reason_line,
					 &st->too_many_ids, &st->first_too_many_ids_line);
	return 0;
}
