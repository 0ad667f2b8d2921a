/*
 * lex_clike.c - the tokenizers of the brace languages: C and C++, JavaScript and
 * TypeScript, Go, Java. They share comments, identifiers, numbers and most operators;
 * they differ in string syntax:
 *   C/C++  "..", '..' (a number-like char), prefixes L u U u8, raw R"d(..)d"
 *   JS/TS  '..', "..", `template ${expr}` (one token; each ${ } a region of code), /regex/,
 *          JSX elements (tags and { } as code, their text left out)
 *   Go     "..", `raw`, 'rune'
 *   Java   "..", """text block""", 'c'
 * Every loop advances pos, every nested construct has a depth cap, and an unterminated
 * string or comment ends at the end of the input (or of the line, for one-line strings)
 * with TOKF_UNTERMINATED.
 */
#include "lex_impl.h"
#include "util.h"

#include "banned.h"

#define TEMPLATE_MAX_DEPTH 32

struct oplist {
	const char *const *ops; /* longest first */
	size_t n;
};

static const char *const ops_c[] = {
	"<<=", ">>=", "...", "->*", "<=>", "::", "->", "++", "--", "<<", ">>", "<=", ">=",
	"==",  "!=",  "&&",  "||",  "+=",  "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##",
};
static const char *const ops_js[] = {
	">>>=", "...", "===", "!==", "**=", "&&=", "||=", "?\?=", "<<=", ">>=", ">>>",
	"=>",	"??",  "?.",  "**",  "++",  "--",  "<<",  ">>",	  "<=",	 ">=",	"==",
	"!=",	"&&",  "||",  "+=",  "-=",  "*=",  "/=",  "%=",	  "&=",	 "|=",	"^=",
};
static const char *const ops_go[] = {
	"<<=", ">>=", "&^=", "...", ":=", "<-", "&^", "++", "--", "<<", ">>", "<=", ">=",
	"==",  "!=",  "&&",  "||",  "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
};
static const char *const ops_java[] = {
	">>>=", "<<=", ">>=", ">>>", "...", "::", "->", "++", "--", "<<", ">>", "<=", ">=",
	"==",	"!=",  "&&",  "||",  "+=",  "-=", "*=", "/=", "%=", "&=", "|=", "^=",
};

static struct oplist ops_for(enum lexer f)
{
	switch (f) {
	case LEXER_JS:
		return (struct oplist){ ops_js, ARRAY_SIZE(ops_js) };
	case LEXER_GO:
		return (struct oplist){ ops_go, ARRAY_SIZE(ops_go) };
	case LEXER_JAVA:
		return (struct oplist){ ops_java, ARRAY_SIZE(ops_java) };
	default:
		return (struct oplist){ ops_c, ARRAY_SIZE(ops_c) };
	}
}

static size_t match_op(const struct lexst *L, size_t p, const struct oplist *ol)
{
	unsigned char c = (unsigned char)L->s[p];
	/* Most punctuation is one character: only these start longer operators. */
	static const bool starts_op[256] = {
		['<'] = true, ['>'] = true, ['='] = true, ['!'] = true, ['&'] = true, ['|'] = true,
		['+'] = true, ['-'] = true, ['*'] = true, ['/'] = true, ['%'] = true, ['^'] = true,
		['.'] = true, [':'] = true, ['#'] = true, ['?'] = true,
	};
	if (!starts_op[c] || p + 1 >= L->end) {
		return 1;
	}
	for (size_t i = 0; i < ol->n; i++) {
		const char *op = ol->ops[i];
		if ((unsigned char)op[0] != c || op[1] != L->s[p + 1]) {
			continue;
		}
		size_t n = 2;
		while (op[n] && p + n < L->end && op[n] == L->s[p + n]) {
			n++;
		}
		if (op[n] == '\0') {
			return n;
		}
	}
	return 1;
}

/* A quoted string from p (at the quote) that ends at an unescaped q; one line unless
 * multiline. Returns the end and sets *unterminated. */
static size_t scan_quoted(const struct lexst *L, size_t p, char q, bool multiline,
			  bool *unterminated)
{
	size_t i = p + 1;
	*unterminated = false;
	while (i < L->end) {
		char c = L->s[i];
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == q) {
			return i + 1;
		}
		if (c == '\n' && !multiline) {
			*unterminated = true;
			return i;
		}
		i++;
	}
	*unterminated = true;
	return L->end;
}

static size_t scan_block_comment(struct lexst *L, size_t p)
{
	const char *e = NULL;
	if (p + 2 < L->end) {
		e = memmem(L->s + p + 2, L->end - p - 2, "*/", 2);
	}
	size_t end = e ? (size_t)(e - L->s) + 2 : L->end;
	lex_comment(L, p, end);
	return end;
}

/* Is the character at p, after start, escaped: preceded by an odd run of backslashes? */
static bool odd_backslashes_before(const char *start, const char *p)
{
	size_t n = 0;
	while (p - n > start && p[-1 - (ptrdiff_t)n] == '\\') {
		n++;
	}
	return n % 2 == 1;
}

/* U+2028 LINE SEPARATOR or U+2029 PARAGRAPH SEPARATOR at s[i]: line ends in JavaScript. */
static bool js_line_separator(const struct lexst *L, size_t i)
{
	const unsigned char *s = (const unsigned char *)L->s;
	return s[i] == 0xE2 && i + 2 < L->end && s[i + 1] == 0x80 &&
	       (s[i + 2] == 0xA8 || s[i + 2] == 0xA9);
}

/*
 * Where a line comment ends: at the end of its line as the language has it. For C, C++,
 * Java and JavaScript that is a line feed or a lone carriage return too (gcc, javac and
 * JavaScript engines end a line there: code after `// x\r` is compiled); for JavaScript
 * also U+2028 and U+2029. (Java's Unicode escapes of either, `// \u000d code`, are
 * translated before lexing: lex_java_unescape.) Go ends lines at a line feed only.
 */
static size_t line_comment_end(const struct lexst *L, size_t p)
{
	const char *s = L->s;
	const char *e = memchr(s + p, '\n', L->end - p);
	size_t end = e ? (size_t)(e - s) : L->end;
	if (L->lang != LANG_GO && (e = memchr(s + p, '\r', end - p))) {
		end = (size_t)(e - s);
	}
	if (L->lang == LANG_JAVA && (e = memchr(s + p, LEX_JAVA_LINE_END, end - p))) {
		end = (size_t)(e - s);
	}
	if (L->lang == LANG_JAVASCRIPT || L->lang == LANG_TYPESCRIPT) {
		for (size_t i = p; (e = memchr(s + i, 0xE2, end - i)); i = (size_t)(e - s) + 1) {
			if (js_line_separator(L, (size_t)(e - s))) {
				return (size_t)(e - s);
			}
		}
	}
	return end;
}

static size_t scan_line_comment(struct lexst *L, size_t p)
{
	size_t end = line_comment_end(L, p);
	lex_comment(L, p, end);
	return end;
}

/* Keywords after which a '/' starts a regular expression literal, not a division. */
static const char *const js_regex_keywords[] = { "return", "typeof", "case",	   "do",
						 "else",   "in",     "instanceof", "new",
						 "delete", "void",   "throw",	   "yield",
						 "await",  "of",     "default" };

static bool is_js_regex_keyword(const char *s, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(js_regex_keywords); i++) {
		if (n == strlen(js_regex_keywords[i]) && memcmp(s, js_regex_keywords[i], n) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * A `/` where an expression starts opens a regular expression literal if one closes on its
 * line; one that does not was read to the line's end for nothing. A long line of them
 * (`[/[/[/...`) would be read again at each, in time quadratic in the line: past 16 times
 * the text (and a floor) such reading, a `/` divides, and the file counts as not evaluated
 * completely (regions_dropped), so that it cannot pass. regex_budget(L, 0) tells whether
 * the budget is left.
 */
static bool regex_budget(const struct lexst *L, size_t n)
{
	struct tokens *t = L->t;
	t->regex_steps += n;
	if (t->regex_steps > 16 * (uint64_t)t->len + (1u << 20)) {
		t->regions_dropped = true;
		return false;
	}
	return true;
}

/*
 * Does an expression start at i, by what precedes it from `from` on: nothing, an operator
 * or opening punctuation, or a keyword such as `typeof` or `return` (not a property name:
 * `.in`), as the lexer decides outside templates? There a `/` starts a regular expression
 * literal and a `<` a JSX element.
 */
static bool js_expr_starts(const struct lexst *L, size_t from, size_t i)
{
	size_t b = i;
	while (b > from && isspace((unsigned char)L->s[b - 1])) {
		b--;
	}
	size_t w = b;
	while (w > from && lex_is_ident_char((unsigned char)L->s[w - 1])) {
		w--;
	}
	bool keyword =
		w < b && is_js_regex_keyword(L->s + w, b - w) && !(w > from && L->s[w - 1] == '.');
	return b == from || keyword ||
	       (L->s[b - 1] != '\0' && strchr("(,=:[!&|?{};+-*%<>~^", L->s[b - 1]));
}

/*
 * Inside a template's ${ } or a JSX expression: is the '/' at i the start of a regular
 * expression literal (a quote, backquote or brace in it would otherwise be taken for
 * code's)? By what precedes it (js_expr_starts()). Returns the position after the literal
 * (and its flags), or 0 when it is a division (or no literal closes on the line).
 */
static size_t template_regex_end(const struct lexst *L, size_t expr_start, size_t i)
{
	if (!js_expr_starts(L, expr_start, i) || !regex_budget(L, 0)) {
		return 0;
	}
	bool in_class = false;
	for (size_t j = i + 1; j < L->end; j++) {
		char c = L->s[j];
		if (c == '\\') {
			j++;
		} else if (c == '\n') {
			regex_budget(L, j - i);
			return 0;
		} else if (c == '[') {
			in_class = true;
		} else if (c == ']') {
			in_class = false;
		} else if (c == '/' && !in_class) {
			j++;
			while (j < L->end && isalpha((unsigned char)L->s[j])) {
				j++;
			}
			return j;
		}
	}
	regex_budget(L, L->end - i);
	return 0;
}

/*
 * A JS template literal from p (at the backquote): its end. Expressions inside ${ } are
 * skipped with their strings, regular expression literals, comments and nested templates;
 * *interp says whether there was one. Templates nested deeper than TEMPLATE_MAX_DEPTH are
 * not read: the file counts as not evaluated completely.
 */
static size_t scan_template(struct lexst *L, size_t p, unsigned depth, bool *interp,
			    bool *unterminated)
{
	size_t i = p + 1;
	while (i < L->end) {
		char c = L->s[i];
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == '`') {
			return i + 1;
		}
		if (c == '$' && i + 1 < L->end && L->s[i + 1] == '{') {
			*interp = true;
			i += 2;
			size_t expr_start = i;
			unsigned braces = 1;
			bool closed = false;
			while (i < L->end && braces > 0) {
				char d = L->s[i];
				bool u = false;
				size_t re_end = 0;
				if (d == '{') {
					braces++;
					i++;
				} else if (d == '}') {
					braces--;
					i++;
					closed = braces == 0;
				} else if (d == '\'' || d == '"') {
					i = scan_quoted(L, i, d, false, &u);
				} else if (d == '`') {
					if (depth >= TEMPLATE_MAX_DEPTH) {
						/* Too deep to read: the file is not passed. */
						L->t->regions_dropped = true;
						i++;
					} else {
						i = scan_template(L, i, depth + 1, interp, &u);
					}
				} else if (d == '/' && i + 1 < L->end && L->s[i + 1] == '*') {
					const char *e =
						memmem(L->s + i + 2, L->end - i - 2, "*/", 2);
					i = e ? (size_t)(e - L->s) + 2 : L->end;
				} else if (d == '/' && i + 1 < L->end && L->s[i + 1] == '/') {
					const char *e = memchr(L->s + i, '\n', L->end - i);
					i = e ? (size_t)(e - L->s) : L->end;
				} else if (d == '/' &&
					   (re_end = template_regex_end(L, expr_start, i)) != 0) {
					i = re_end;
				} else {
					i++;
				}
			}
			/* The expression is code: lexed again as a region of its own (a
			 * template inside it records its own). */
			if (closed && depth == 0 && !L->pattern) {
				lex_region(L, expr_start, i - 1, L->lang);
			}
			continue;
		}
		i++;
	}
	*unterminated = true;
	return L->end;
}

/*
 * JavaScript: does the `{` about to be pushed open a block (a statement's body, after `)`,
 * `=>`, `else`, `try`, `finally`, `do`, or at a statement's start) rather than an object
 * literal? After a block's `}` a `/` starts a regular expression.
 */
static bool js_brace_opens_block(const struct lexst *L, size_t first_tok)
{
	if (L->t->n <= first_tok) {
		return true;
	}
	const struct token *k = &L->t->v[L->t->n - 1];
	const char *s = L->s + k->off;
	if (k->kind == TOK_PUNCT) {
		return (k->len == 1 && strchr(");{}", s[0])) ||
		       (k->len == 2 && !memcmp(s, "=>", 2));
	}
	if (k->kind == TOK_IDENT) {
		static const char *const kw[] = { "else", "try", "finally", "do" };
		for (size_t i = 0; i < ARRAY_SIZE(kw); i++) {
			if (k->len == strlen(kw[i]) && memcmp(s, kw[i], k->len) == 0) {
				return true;
			}
		}
	}
	return false;
}

static bool js_regex_allowed(const struct lexst *L, size_t first_tok, bool after_block)
{
	if (L->t->n <= first_tok) {
		return true;
	}
	const struct token *k = &L->t->v[L->t->n - 1];
	const char *s = L->s + k->off;
	switch (k->kind) {
	case TOK_NUMBER:
	case TOK_STRING:
		return false;
	case TOK_IDENT: {
		/* A keyword is a property name after `.` (`it.return / 2` divides), and `of` is
		 * one only after the loop's binding (`for (x of /re/)`, not `of = 8; of / 2`). */
		const struct token *b = L->t->n >= first_tok + 2 ? &L->t->v[L->t->n - 2] : NULL;
		const char *bs = b ? L->s + b->off : "";
		if (b && b->kind == TOK_PUNCT && bs[b->len - 1] == '.') {
			return false;
		}
		if (k->len == 2 && memcmp(s, "of", 2) == 0) {
			return b && (b->kind == TOK_IDENT || (b->kind == TOK_PUNCT && b->len == 1 &&
							      (bs[0] == ']' || bs[0] == '}')));
		}
		return is_js_regex_keyword(s, k->len);
	}
	case TOK_PUNCT:
		if (k->len == 1 && s[0] == '}') {
			return after_block;
		}
		if (k->len == 1 && (s[0] == ')' || s[0] == ']')) {
			return false;
		}
		if (k->len == 2 && (memcmp(s, "++", 2) == 0 || memcmp(s, "--", 2) == 0)) {
			return false;
		}
		return true;
	default:
		return true;
	}
}

/* A regex literal from p (at '/'): its end, or p when this is not one (no closing '/'). */
static size_t scan_regex(const struct lexst *L, size_t p)
{
	size_t i = p + 1;
	bool cls = false;
	if ((i < L->end && (L->s[i] == '*' || L->s[i] == '/')) || !regex_budget(L, 0)) {
		return p;
	}
	while (i < L->end) {
		char c = L->s[i];
		if (c == '\n') {
			regex_budget(L, i - p);
			return p;
		}
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == '[') {
			cls = true;
		} else if (c == ']') {
			cls = false;
		} else if (c == '/' && !cls) {
			i++;
			while (i < L->end && isalpha((unsigned char)L->s[i])) {
				i++;
			}
			return i;
		}
		i++;
	}
	regex_budget(L, L->end - p);
	return p;
}

static size_t scan_number(const struct lexst *L, size_t p)
{
	size_t i = p;
	bool hex = i + 1 < L->end && L->s[i] == '0' && (L->s[i + 1] == 'x' || L->s[i + 1] == 'X');
	while (i < L->end) {
		unsigned char c = (unsigned char)L->s[i];
		if (isalnum(c) || c == '_' || c == '.' || (c == '\'' && L->lang == LANG_CPP)) {
			i++;
		} else if ((c == '+' || c == '-') && i > p &&
			   (((L->s[i - 1] == 'e' || L->s[i - 1] == 'E') && !hex) ||
			    L->s[i - 1] == 'p' || L->s[i - 1] == 'P')) {
			i++;
		} else {
			break;
		}
	}
	return i;
}

/* C string prefixes: the identifier [s, s+n) followed by a quote starts a literal. */
static bool c_string_prefix(const char *s, size_t n, bool *raw)
{
	static const char *const pre[] = { "L", "u", "U", "u8" };
	static const char *const rawpre[] = { "R", "LR", "uR", "UR", "u8R" };
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++) {
		if (n == strlen(pre[i]) && memcmp(s, pre[i], n) == 0) {
			*raw = false;
			return true;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(rawpre); i++) {
		if (n == strlen(rawpre[i]) && memcmp(s, rawpre[i], n) == 0) {
			*raw = true;
			return true;
		}
	}
	return false;
}

/* C++ raw string from q (at the quote after R): R"delim( ... )delim". */
static size_t scan_raw_string(const struct lexst *L, size_t q, bool *unterminated)
{
	size_t i = q + 1;
	char delim[20];
	size_t dn = 0;
	while (i < L->end && L->s[i] != '(' && dn < 16) {
		char c = L->s[i];
		if (c == ' ' || c == ')' || c == '\\' || c == '\n' || c == '"') {
			break;
		}
		delim[dn++] = c;
		i++;
	}
	if (i >= L->end || L->s[i] != '(') {
		/* Not a valid raw string: treat as an ordinary one. */
		return scan_quoted(L, q, '"', false, unterminated);
	}
	i++;
	while (i < L->end) {
		const char *e = memchr(L->s + i, ')', L->end - i);
		if (!e) {
			break;
		}
		size_t j = (size_t)(e - L->s) + 1;
		if (j + dn < L->end && memcmp(L->s + j, delim, dn) == 0 && L->s[j + dn] == '"') {
			*unterminated = false;
			return j + dn + 1;
		}
		i = j;
	}
	*unterminated = true;
	return L->end;
}

/*
 * Go inserts a semicolon at a line break after an identifier, a literal, `)`, `]`, `}`,
 * `++` or `--`; JavaScript written without semicolons relies on the same line breaks. Mark
 * the last token so that a metavariable does not run into the next statement, unless the
 * next line starts by continuing the expression (`.x`, `+ y`, `? a : b`).
 */
static void mark_statement_end(struct lexst *L, size_t next)
{
	struct token *k = lex_last(L);
	if (!k) {
		return;
	}
	const char *s = L->s + k->off;
	bool ends = k->kind == TOK_IDENT || k->kind == TOK_NUMBER || k->kind == TOK_STRING;
	if (k->kind == TOK_PUNCT) {
		ends = (k->len == 1 && (s[0] == ')' || s[0] == ']' || s[0] == '}')) ||
		       (k->len == 2 && (memcmp(s, "++", 2) == 0 || memcmp(s, "--", 2) == 0));
	}
	while (next < L->end && (L->s[next] == ' ' || L->s[next] == '\t' || L->s[next] == '\r' ||
				 L->s[next] == '\n')) {
		next++;
	}
	if (next < L->end && strchr(".+-*/%&|^<>=!?:,", L->s[next]) && L->s[next] != '\0') {
		/* A comment is not a continuation. */
		bool comment = L->s[next] == '/' && next + 1 < L->end &&
			       (L->s[next + 1] == '/' || L->s[next + 1] == '*');
		if (!comment) {
			ends = false;
		}
	}
	if (ends) {
		k->flags |= TOKF_STMT_END;
	}
}

/* ---------- JSX ---------- */

#define JSX_MAX_DEPTH 64

/*
 * The JSX reader tries an element where one may start, and falls back when it is none:
 * hostile text (thousands of unclosed elements) would have it read the rest of the file
 * again at each. Past 16 times the text (and a floor), it stops: the elements after are
 * lexed as plain code, and the file counts as not evaluated completely (as past the
 * region cap), so that it cannot pass.
 */
static bool jsx_budget(struct lexst *L, size_t n)
{
	struct tokens *t = L->t;
	t->jsx_steps += n;
	if (t->jsx_steps > 16 * (uint64_t)t->len + (1u << 20)) {
		t->regions_dropped = true;
		return false;
	}
	return true;
}

static size_t jsx_element(struct lexst *L, size_t p, unsigned depth, bool emit);

static bool jsx_name_char(char c)
{
	return lex_is_ident_char((unsigned char)c) || c == '$' || c == '.' || c == ':' || c == '-';
}

static size_t jsx_blanks(const struct lexst *L, size_t q)
{
	while (q < L->end && isspace((unsigned char)L->s[q])) {
		q++;
	}
	return q;
}

/* Does a JSX element (or fragment) start at p, its `<`: a name or `>` after it? */
static bool jsx_starts(const struct lexst *L, size_t p)
{
	size_t q = jsx_blanks(L, p + 1);
	return q < L->end && (lex_is_ident_start((unsigned char)L->s[q]) || L->s[q] == '>');
}

/* Past the blanks and comments of a tag from q (`<div // c` + LF + `id="a">`); with emit,
 * the comments are recorded. */
static size_t jsx_tag_space(struct lexst *L, size_t q, bool emit)
{
	const char *s = L->s;
	for (;;) {
		q = jsx_blanks(L, q);
		if (q + 1 >= L->end || s[q] != '/' || (s[q + 1] != '*' && s[q + 1] != '/')) {
			return q;
		}
		size_t e;
		if (s[q + 1] == '*') {
			const char *c = memmem(s + q + 2, L->end - q - 2, "*/", 2);
			e = c ? (size_t)(c - s) + 2 : L->end;
		} else {
			e = line_comment_end(L, q);
		}
		if (emit) {
			lex_comment(L, q, e);
		}
		q = e;
	}
}

/*
 * A JSX expression container from p (at `{`): its end (past the `}`), or 0. Strings,
 * templates, comments, regular expressions and elements inside it are skipped whole, an
 * element where an expression starts (after `(`, `&&`, `return`...).
 */
static size_t jsx_expr_end(struct lexst *L, size_t p, unsigned depth)
{
	const char *s = L->s;
	unsigned braces = 0;
	for (size_t i = p; i < L->end;) {
		if (!jsx_budget(L, 1)) {
			return 0;
		}
		char c = s[i];
		bool u = false, interp = false;
		size_t e;
		if (c == '{') {
			braces++;
			i++;
		} else if (c == '}') {
			i++;
			if (--braces == 0) {
				return i;
			}
		} else if (c == '\'' || c == '"') {
			i = scan_quoted(L, i, c, false, &u);
		} else if (c == '`') {
			i = scan_template(L, i, 1, &interp, &u); /* records no region */
		} else if (c == '/' && i + 1 < L->end && s[i + 1] == '*') {
			const char *t = memmem(s + i + 2, L->end - i - 2, "*/", 2);
			i = t ? (size_t)(t - s) + 2 : L->end;
		} else if (c == '/' && i + 1 < L->end && s[i + 1] == '/') {
			i = line_comment_end(L, i);
		} else if (c == '/' && (e = template_regex_end(L, p + 1, i)) != 0) {
			i = e;
		} else if (c == '<' && jsx_starts(L, i) && js_expr_starts(L, p + 1, i)) {
			e = jsx_element(L, i, depth + 1, false);
			i = e ? e : i + 1;
		} else {
			i++;
		}
	}
	return 0;
}

/* Lex [from, to) as JavaScript code, into the same tokens. */
static void jsx_code(struct lexst *L, size_t from, size_t to)
{
	struct lexst S = *L;
	S.pos = from;
	S.end = to;
	lex_clike(&S, LEXER_JS);
	L->line_cur = S.line_cur;
	L->err = S.err;
}

/* TypeScript's type arguments of an element from q (at `<`: `<Select<Opt> v={v}>`): past
 * their `>`, or 0. */
static size_t jsx_type_args_end(struct lexst *L, size_t q)
{
	const char *s = L->s;
	unsigned angles = 0;
	for (size_t i = q; i < L->end; i++) {
		if (!jsx_budget(L, 1)) {
			return 0;
		}
		char c = s[i];
		bool u = false;
		if (c == '<') {
			angles++;
		} else if (c == '>' && s[i - 1] != '=' && --angles == 0) {
			return i + 1; /* (the `>` of a function type's `=>` closes nothing) */
		} else if (c == '\'' || c == '"') {
			i = scan_quoted(L, i, c, false, &u) - 1;
		}
	}
	return 0;
}

/*
 * Does the text at q, after `<T>`, start a generic function's parameters: `(x: T) =>`, or
 * `(x): T =>` with the return type on the line? Then `<T>(x: T) => x` is a function
 * (TypeScript, Flow), not an element: read as one, its body was taken for text. A closing
 * tag `</` ends the search: no parameter list holds one.
 */
static bool jsx_arrow_params(struct lexst *L, size_t q)
{
	const char *s = L->s;
	if (q >= L->end || s[q] != '(') {
		return false;
	}
	unsigned parens = 0;
	size_t i = q;
	for (;; i++) {
		if (i >= L->end || !jsx_budget(L, 1) ||
		    (s[i] == '<' && i + 1 < L->end && s[i + 1] == '/')) {
			return false;
		}
		if (s[i] == '(') {
			parens++;
		} else if (s[i] == ')' && --parens == 0) {
			break;
		}
	}
	i = jsx_blanks(L, i + 1);
	if (i + 1 < L->end && s[i] == '=' && s[i + 1] == '>') {
		return true;
	}
	if (i >= L->end || s[i] != ':') {
		return false;
	}
	for (i++; i + 1 < L->end && s[i] != '\n' && s[i] != '{' && s[i] != '}' && s[i] != '\'' &&
		  s[i] != '"' && s[i] != '`';
	     i++) {
		if (s[i] == '=' && s[i + 1] == '>') {
			return true;
		}
	}
	return false;
}

/*
 * A JSX element from p (at `<`): its end, or 0 when it is none (then `<` is read as an
 * operator, as before: a TypeScript type argument, a comparison). With emit, its tags are
 * pushed as tokens and its expression containers lexed as code, and its text is left out:
 * an apostrophe in `<p>don't {eval(u)}</p>` is text, not the start of a string that hides
 * the expression. An attribute's string is JSX's, one token: no escapes (`"C:\"` ends at
 * its second quote), line breaks allowed.
 */
static size_t jsx_element(struct lexst *L, size_t p, unsigned depth, bool emit)
{
	const char *s = L->s;
	if (depth >= JSX_MAX_DEPTH) {
		L->t->regions_dropped = true; /* too deep to read: the file is not passed */
		return 0;
	}
	if (!jsx_budget(L, 1)) {
		return 0;
	}
	if (emit) {
		lex_push(L, TOK_PUNCT, p, 1, 0);
	}
	size_t q = jsx_tag_space(L, p + 1, emit);
	size_t name = q;
	while (q < L->end && jsx_name_char(s[q])) {
		q++;
	}
	size_t name_len = q - name;
	bool fragment = name_len == 0;
	if (emit && !fragment) {
		jsx_code(L, name, q);
	}
	if (!fragment && L->lang == LANG_TYPESCRIPT && q < L->end && s[q] == '<' &&
	    !(q = jsx_type_args_end(L, q))) {
		return 0;
	}
	/* Attributes, to `>` or `/>`. */
	bool self_closing = false, attrs = false;
	for (;;) {
		q = jsx_tag_space(L, q, emit);
		if (q >= L->end) {
			return 0;
		}
		if (s[q] == '>') {
			if (emit) {
				lex_push(L, TOK_PUNCT, q, 1, 0);
			}
			q++;
			break;
		}
		if (s[q] == '/' && q + 1 < L->end && s[q + 1] == '>') {
			if (emit) {
				lex_push(L, TOK_PUNCT, q, 1, 0);
				lex_push(L, TOK_PUNCT, q + 1, 1, 0);
			}
			q += 2;
			self_closing = true;
			break;
		}
		if (fragment) {
			return 0;
		}
		if (s[q] == '{') {
			size_t e = jsx_expr_end(L, q, depth);
			if (!e) {
				return 0;
			}
			if (emit) {
				jsx_code(L, q, e);
			}
			q = e;
			attrs = true;
			continue;
		}
		if (!lex_is_ident_start((unsigned char)s[q])) {
			return 0;
		}
		size_t a = q;
		while (q < L->end && jsx_name_char(s[q])) {
			q++;
		}
		/* `<T extends U>(x: T) => x` declares a type parameter: no element. */
		if (!attrs && q - a == 7 && memcmp(s + a, "extends", 7) == 0) {
			return 0;
		}
		attrs = true;
		if (emit) {
			jsx_code(L, a, q);
		}
		q = jsx_tag_space(L, q, emit);
		if (q >= L->end || s[q] != '=') {
			continue; /* a boolean attribute */
		}
		if (emit) {
			lex_push(L, TOK_PUNCT, q, 1, 0);
		}
		q = jsx_tag_space(L, q + 1, emit);
		if (q < L->end && (s[q] == '"' || s[q] == '\'')) {
			const char *e = memchr(s + q + 1, s[q], L->end - q - 1);
			if (!e) {
				return 0;
			}
			if (emit) {
				lex_push(L, TOK_STRING, q, (size_t)(e - s) + 1 - q, 0);
			}
			q = (size_t)(e - s) + 1;
		} else if (q < L->end && s[q] == '{') {
			size_t e = jsx_expr_end(L, q, depth);
			if (!e) {
				return 0;
			}
			if (emit) {
				jsx_code(L, q, e);
			}
			q = e;
		} else if (q < L->end && s[q] == '<') {
			if (!(q = jsx_element(L, q, depth + 1, emit))) {
				return 0;
			}
		} else {
			return 0;
		}
	}
	if (self_closing) {
		return q;
	}
	if (!attrs && !fragment && jsx_arrow_params(L, q)) {
		return 0;
	}
	/* Children: text (left out), {expressions}, elements, to the closing tag. */
	while (q < L->end) {
		if (!jsx_budget(L, 1)) {
			return 0;
		}
		char c = s[q];
		size_t k = c == '<' ? jsx_blanks(L, q + 1) : q;
		if (c == '{') {
			size_t e = jsx_expr_end(L, q, depth);
			if (!e) {
				return 0;
			}
			if (emit) {
				jsx_code(L, q, e);
			}
			q = e;
		} else if (c == '<' && k < L->end && s[k] == '/') {
			/* The closing tag names the element (a TypeScript `<T>(x) => x` or `<any>x`
			 * has none: not JSX). */
			size_t n = jsx_blanks(L, k + 1);
			if (L->end - n < name_len || memcmp(s + n, s + name, name_len) != 0 ||
			    (n + name_len < L->end && jsx_name_char(s[n + name_len]))) {
				return 0;
			}
			const char *e = memchr(s + n + name_len, '>', L->end - n - name_len);
			if (!e) {
				return 0;
			}
			if (emit) {
				lex_push(L, TOK_PUNCT, q, 1, 0);
				lex_push(L, TOK_PUNCT, k, 1, 0);
				if (name_len) {
					jsx_code(L, n, n + name_len);
				}
				lex_push(L, TOK_PUNCT, (size_t)(e - s), 1, 0);
			}
			return (size_t)(e - s) + 1;
		} else if (c == '<') {
			/* (With emit, the element was read whole already: its children are.) */
			size_t e = jsx_element(L, q, depth + 1, emit);
			if (!e) {
				return 0;
			}
			q = e;
		} else {
			q++;
		}
	}
	return 0;
}

void lex_clike(struct lexst *L, enum lexer family)
{
	struct oplist ol = ops_for(family);
	size_t first_tok = L->t->n;
	/* Identifier characters; `$` too except in Go. */
	bool ident[256];
	for (int k = 0; k < 256; k++) {
		ident[k] = lex_is_ident_char((unsigned char)k) || (k == '$' && family != LEXER_GO);
	}
	size_t i = L->pos;
	bool line_start = true;
	/* JavaScript: which open braces are blocks (js_brace_opens_block), and whether the
	 * last `}` closed one. */
	bool brace_block[LEX_MAX_DEPTH];
	size_t brace_depth = 0;
	bool after_block = false;
	/* A shebang line in a script. */
	if (i == 0 && L->end >= 2 && L->s[0] == '#' && L->s[1] == '!' && family == LEXER_JS) {
		i = scan_line_comment(L, 0);
	}
	while (i < L->end && L->err == 0) {
		unsigned char c = (unsigned char)L->s[i];
		if (c == '\n') {
			if ((family == LEXER_GO || family == LEXER_JS) && L->t->n > first_tok) {
				mark_statement_end(L, i + 1);
			}
			line_start = true;
			i++;
			continue;
		}
		if (family == LEXER_JAVA && c == LEX_JAVA_LINE_END) {
			/* An escaped line end (lex_java_unescape): a blank here. */
			line_start = true;
			i++;
			continue;
		}
		if (family == LEXER_JS && js_line_separator(L, i)) {
			/* U+2028, U+2029: line terminators in JavaScript, not identifier text. */
			if (L->t->n > first_tok) {
				mark_statement_end(L, i + 3);
			}
			line_start = true;
			i += 3;
			continue;
		}
		size_t nb = lex_skip_blank(L, i);
		if (nb > i) {
			i = nb; /* a blank, or a line continuation */
			continue;
		}
		bool at_line_start = line_start;
		line_start = false;
		if (c == '/' && i + 1 < L->end && L->s[i + 1] == '/') {
			i = scan_line_comment(L, i);
			continue;
		}
		if (c == '/' && i + 1 < L->end && L->s[i + 1] == '*') {
			i = scan_block_comment(L, i);
			continue;
		}
		size_t mv = L->pattern ? lex_metavar_end(L, i) : i;
		if (mv > i) {
			lex_push(L, TOK_IDENT, i, mv - i, 0);
			i = mv;
			continue;
		}
		if (lex_is_ident_start(c) ||
		    (c == '$' && family != LEXER_GO && family != LEXER_C)) {
			size_t j = i + 1;
			while (j < L->end && ident[(unsigned char)L->s[j]]) {
				j++;
			}
			bool raw;
			if (family == LEXER_C && j < L->end &&
			    (L->s[j] == '"' || L->s[j] == '\'') &&
			    c_string_prefix(L->s + i, j - i, &raw)) {
				bool u = false;
				size_t e;
				if (raw && L->s[j] == '"') {
					e = scan_raw_string(L, j, &u);
				} else {
					e = scan_quoted(L, j, L->s[j], false, &u);
				}
				lex_push(L, L->s[j] == '\'' ? TOK_NUMBER : TOK_STRING, i, e - i,
					 u ? TOKF_UNTERMINATED : 0);
				i = e;
				continue;
			}
			lex_push(L, TOK_IDENT, i, j - i, 0);
			i = j;
			continue;
		}
		if (isdigit(c) ||
		    (c == '.' && i + 1 < L->end && isdigit((unsigned char)L->s[i + 1]))) {
			size_t j = scan_number(L, i);
			lex_push(L, TOK_NUMBER, i, j - i, 0);
			i = j;
			continue;
		}
		bool u = false;
		if (c == '"') {
			size_t e;
			if (family == LEXER_JAVA && i + 2 < L->end && L->s[i + 1] == '"' &&
			    L->s[i + 2] == '"') {
				/* A text block: """ ... """ */
				const char *t = i + 3 < L->end ? memmem(L->s + i + 3,
									L->end - i - 3, "\"\"\"", 3)
							       : NULL;
				/* Skip escaped quotes inside: \""" does not end it, \\""" does (an
				 * odd run of backslashes escapes the quote). */
				while (t && odd_backslashes_before(L->s + i + 3, t)) {
					size_t from = (size_t)(t - L->s) + 1;
					t = from < L->end ? memmem(L->s + from, L->end - from,
								   "\"\"\"", 3)
							  : NULL;
				}
				e = t ? (size_t)(t - L->s) + 3 : L->end;
				u = !t;
			} else {
				e = scan_quoted(L, i, '"', false, &u);
			}
			lex_push(L, TOK_STRING, i, e - i, u ? TOKF_UNTERMINATED : 0);
			i = e;
			continue;
		}
		if (c == '\'') {
			size_t e = scan_quoted(L, i, '\'', false, &u);
			enum tok_kind k = family == LEXER_JS ? TOK_STRING : TOK_NUMBER;
			lex_push(L, k, i, e - i, u ? TOKF_UNTERMINATED : 0);
			i = e;
			continue;
		}
		if (c == '`' && (family == LEXER_JS || family == LEXER_GO)) {
			bool interp = false;
			size_t e;
			if (family == LEXER_GO) {
				const char *t = memchr(L->s + i + 1, '`', L->end - i - 1);
				e = t ? (size_t)(t - L->s) + 1 : L->end;
				u = !t;
			} else {
				e = scan_template(L, i, 0, &interp, &u);
			}
			lex_push(L, TOK_STRING, i, e - i,
				 (interp ? TOKF_INTERP : 0) | (u ? TOKF_UNTERMINATED : 0));
			i = e;
			continue;
		}
		/* A JSX element where an expression starts. */
		if (c == '<' && family == LEXER_JS && !L->pattern && !L->t->no_jsx &&
		    jsx_starts(L, i) && !L->t->regions_dropped &&
		    js_regex_allowed(L, first_tok, after_block)) {
			size_t e = jsx_element(L, i, 0, false);
			if (e) {
				jsx_element(L, i, 0, true);
				i = e;
				continue;
			}
		}
		if (c == '/' && family == LEXER_JS && !L->pattern &&
		    js_regex_allowed(L, first_tok, after_block)) {
			size_t e = scan_regex(L, i);
			if (e > i) {
				lex_push(L, TOK_STRING, i, e - i, TOKF_REGEX);
				i = e;
				continue;
			}
		}
		if (c == '#' && family == LEXER_C && at_line_start) {
			/* A preprocessor line: `#` and the directive are ordinary tokens; the rest
			 * of an #include <...> is one string. */
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
			while (i < L->end && (L->s[i] == ' ' || L->s[i] == '\t')) {
				i++;
			}
			size_t j = i;
			while (j < L->end && isalpha((unsigned char)L->s[j])) {
				j++;
			}
			if (j > i) {
				lex_push(L, TOK_IDENT, i, j - i, 0);
				bool inc = (j - i == 7 && memcmp(L->s + i, "include", 7) == 0);
				i = j;
				while (inc && i < L->end && (L->s[i] == ' ' || L->s[i] == '\t')) {
					i++;
				}
				if (inc && i < L->end && L->s[i] == '<') {
					size_t e = i + 1;
					while (e < L->end && L->s[e] != '>' && L->s[e] != '\n') {
						e++;
					}
					if (e < L->end && L->s[e] == '>') {
						lex_push(L, TOK_STRING, i, e + 1 - i, 0);
						i = e + 1;
					}
				}
			}
			continue;
		}
		size_t n = match_op(L, i, &ol);
		if (family == LEXER_JS && n == 1 && c == '{') {
			bool block = js_brace_opens_block(L, first_tok);
			if (brace_depth < sizeof(brace_block)) {
				brace_block[brace_depth] = block;
			}
			brace_depth++;
		} else if (family == LEXER_JS && n == 1 && c == '}') {
			/* A `}` with no `{` open before it in this stream (the one that ends a
			 * template's `${`, or a stray one) closes no block. */
			after_block = brace_depth > 0 && --brace_depth < sizeof(brace_block) &&
				      brace_block[brace_depth];
		}
		lex_push(L, TOK_PUNCT, i, n, 0);
		i += n;
	}
}
