/*
 * pattern.c - compiling patterns into element lists and matching them against a file's
 * tokens by bounded backtracking.
 *
 * The search: element by element from a start token; a metavariable tries the expressions
 * that start at the current token (shortest first, or longest first when it is the last
 * element), an ellipsis tries every stopping point (shortest first; only points where the
 * next literal element matches), and each candidate is followed by the rest of the
 * pattern. A metavariable's condition is checked as soon as it is bound, so conditions
 * prune the search. Every step counts against PATTERN_STEP_BUDGET; an attempt that
 * exhausts it fails and is counted in the context.
 */
#include "pattern.h"

#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "banned.h"

/* How far an ellipsis may reach, in tokens. */
#define ELLIPSIS_MAX_TOKENS 20000
/* How many tokens a metavariable may bind at most (balanced groups count as one step). */
#define METAVAR_MAX_STEPS 512
/* How far back from an anchor a start position is looked for. */
#define LEAD_MAX_TOKENS 256

/* ---------- language facts ---------- */

static bool word_language(enum lexer x)
{
	return x == LEXER_SHELL || x == LEXER_DOCKERFILE || x == LEXER_YAML;
}

static bool line_language(enum lexer x)
{
	return x == LEXER_PYTHON || word_language(x);
}

static bool text_in(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++) {
		/* The first character first: most tokens differ there, and strlen is avoided. */
		if ((*list)[0] == s[0] && strlen(*list) == n && memcmp(s, *list, n) == 0) {
			return true;
		}
	}
	return false;
}

/* The shell: a pipe between two commands, `|` or `|&`. */
static bool is_pipe(const struct tokens *t, const struct token *k)
{
	const char *s = t->src + k->off;
	return k->kind == TOK_PUNCT && s[0] == '|' && (k->len == 1 || (k->len == 2 && s[1] == '&'));
}

static const char *const assign_ops[] = { "=",	"+=",  "-=",  "*=",   "/=",   "%=",  "&=",
					  "|=", "^=",  "<<=", ">>=",  ">>>=", "**=", "//=",
					  ":=", "&&=", "||=", "?\?=", "&^=",  "@=",  NULL };

static const char *const kw_c[] = { "return",	"if",	  "else", "for",     "while",
				    "do",	"switch", "case", "default", "break",
				    "continue", "goto",	  NULL };
static const char *const kw_js[] = { "return", "if",	  "else",    "for",    "while",	   "do",
				     "switch", "case",	  "default", "break",  "continue", "throw",
				     "const",  "let",	  "var",     "import", "export",   "try",
				     "catch",  "finally", NULL };
static const char *const kw_go[] = { "return",	"if",	   "else",   "for",	    "switch",
				     "case",	"default", "break",  "continue",    "goto",
				     "go",	"defer",   "var",    "const",	    "type",
				     "package", "import",  "select", "fallthrough", NULL };
static const char *const kw_java[] = { "return", "if",	  "else",    "for",    "while",	   "do",
				       "switch", "case",  "default", "break",  "continue", "throw",
				       "try",	 "catch", "finally", "import", "package",  NULL };
static const char *const kw_py_start[] = { "return", "if",	 "elif",  "else",   "for",  "while",
					   "with",   "def",	 "class", "import", "from", "try",
					   "except", "finally",	 "raise", "assert", "del",  "pass",
					   "global", "nonlocal", "as",	  "lambda", NULL };
/* `lambda` too: its body is past the `:` a metavariable stops at, so a run holding it is
 * never one expression. */
static const char *const kw_py_inside[] = { "return",  "elif",	   "while",  "with",   "def",
					    "class",   "import",   "from",   "try",    "except",
					    "finally", "raise",	   "assert", "del",    "pass",
					    "global",  "nonlocal", "as",     "lambda", NULL };
static const char *const kw_none[] = { NULL };

static const char *const *kw_start(enum lexer x)
{
	switch (x) {
	case LEXER_C:
		return kw_c;
	case LEXER_JS:
		return kw_js;
	case LEXER_GO:
		return kw_go;
	case LEXER_JAVA:
		return kw_java;
	case LEXER_PYTHON:
		return kw_py_start;
	default:
		return kw_none;
	}
}

static const char *const *kw_inside(enum lexer x)
{
	return x == LEXER_PYTHON ? kw_py_inside : kw_start(x);
}

/* A token a metavariable cannot contain at its own level. */
static bool is_separator(const struct tokens *t, const struct token *k, enum lexer x)
{
	const char *s = t->src + k->off;
	switch (k->kind) {
	case TOK_EOL:
	case TOK_INDENT:
	case TOK_DEDENT:
		return true;
	case TOK_PUNCT:
		if (k->len == 1 && (s[0] == ',' || s[0] == ';')) {
			return true;
		}
		if (k->len == 1 && s[0] == ':' && (x == LEXER_PYTHON || x == LEXER_YAML)) {
			return true;
		}
		if (word_language(x)) {
			return true; /* | && ; ( ) ... */
		}
		return text_in(s, k->len, assign_ops);
	case TOK_IDENT:
		return text_in(s, k->len, kw_inside(x));
	default:
		return false;
	}
}

/*
 * A token after which an expression runs on to its end: an arrow function's `=>` (Java's
 * `->`), whose body is everything up to the next `,` `;` or closing bracket, and the `?` and
 * `:` of a conditional (Python's `if` and `else` in `a if c else b`). A metavariable may
 * bind a run that holds one only whole, to where the expression ends: never
 * `(req, res) => cp` out of `(req, res) => cp.exec(cmd)`, nor `flag ? cp` out of
 * `flag ? cp.exec(cmd) : null`. Nor may it start at one.
 */
static bool runs_to_end(const struct tokens *t, const struct token *k, enum lexer x)
{
	const char *s = t->src + k->off;
	if (k->kind == TOK_IDENT) {
		return x == LEXER_PYTHON && ((k->len == 2 && memcmp(s, "if", 2) == 0) ||
					     (k->len == 4 && memcmp(s, "else", 4) == 0));
	}
	if (k->kind != TOK_PUNCT) {
		return false;
	}
	if (k->len == 1 && (s[0] == '?' || s[0] == ':')) {
		return x == LEXER_JS || x == LEXER_JAVA || x == LEXER_C;
	}
	if (k->len == 2 && memcmp(s, "=>", 2) == 0) {
		return x == LEXER_JS;
	}
	if (k->len == 2 && memcmp(s, "->", 2) == 0) {
		return x == LEXER_JAVA; /* in C it is a member access */
	}
	return false;
}

/*
 * Operators, so that a metavariable binds an operand whole or not at all: never
 * `flag && cp` out of `flag && cp.exec(cmd)`, nor `x + cp` out of `x + cp.exec(cmd)`, nor
 * `!cp` out of `!cp.exec(cmd)`. The levels are shared by the languages (higher binds
 * tighter); each language's table puts its operators on them.
 */
enum {
	PREC_NONE = 0,
	PREC_YIELD,	 /* JavaScript's and Python's yield: the operand runs to the end */
	PREC_COND,	 /* a conditional, `? :` or `if else` (as what follows a run) */
	PREC_OR,	 /* || ?? or; Go's send <- */
	PREC_AND,	 /* && and */
	PREC_NOT,	 /* Python's not */
	PREC_CMP,	 /* Python's comparisons: < == in, not in, is ... */
	PREC_BOR,	 /* |; Python's * and ** unpacking (their operand is an or_expr) */
	PREC_BXOR,	 /* ^ */
	PREC_BAND,	 /* & */
	PREC_EQ,	 /* == != === !==; Go's comparisons */
	PREC_REL,	 /* < > <= >= instanceof in */
	PREC_SHIFT,	 /* << >> >>> */
	PREC_ADD,	 /* + -; Go's | ^ */
	PREC_MUL,	 /* * / % // @; Go's << >> & &^ */
	PREC_PY_UNARY,	 /* Python's unary - + ~, below ** (-a ** b is -(a ** b)) */
	PREC_POW,	 /* ** */
	PREC_UNARY,	 /* ! ~ - + ++ -- typeof void delete await; C's * & sizeof; Go's <- ^ */
	PREC_AWAIT,	 /* Python's await, above ** */
	PREC_ATOM = 255, /* a run that holds no operator */
};

/* A level whose operators group to the right (a ** b ** c is a ** (b ** c)). */
static bool prec_right(unsigned prec)
{
	return prec == PREC_YIELD || prec == PREC_COND || prec == PREC_POW;
}

struct opdef {
	const char *text;
	uint8_t binary; /* its level as an infix operator, or PREC_NONE */
	uint8_t prefix; /* its level as a prefix operator, or PREC_NONE */
};

/* The operator tables, by level from the loosest: punctuation, then words. After an
 * operand, `!` is TypeScript's non-null assertion and `++` `--` are postfix: with no infix
 * level, they are no operator there. In Python, `not` after an operand is the first word
 * of `not in`. */
/* clang-format off */
static const struct opdef ops_js[] = {
	{ "??", PREC_OR, 0 }, { "||", PREC_OR, 0 }, { "&&", PREC_AND, 0 },
	{ "|", PREC_BOR, 0 }, { "^", PREC_BXOR, 0 }, { "&", PREC_BAND, 0 },
	{ "==", PREC_EQ, 0 }, { "!=", PREC_EQ, 0 }, { "===", PREC_EQ, 0 }, { "!==", PREC_EQ, 0 },
	{ "<", PREC_REL, 0 }, { ">", PREC_REL, 0 }, { "<=", PREC_REL, 0 }, { ">=", PREC_REL, 0 },
	{ "<<", PREC_SHIFT, 0 }, { ">>", PREC_SHIFT, 0 }, { ">>>", PREC_SHIFT, 0 },
	{ "+", PREC_ADD, PREC_UNARY }, { "-", PREC_ADD, PREC_UNARY },
	{ "*", PREC_MUL, 0 }, { "/", PREC_MUL, 0 }, { "%", PREC_MUL, 0 }, { "**", PREC_POW, 0 },
	{ "!", 0, PREC_UNARY }, { "~", 0, PREC_UNARY }, { "++", 0, PREC_UNARY },
	{ "--", 0, PREC_UNARY },
	{ NULL, 0, 0 },
};
static const struct opdef words_js[] = {
	{ "instanceof", PREC_REL, 0 }, { "in", PREC_REL, 0 }, { "typeof", 0, PREC_UNARY },
	{ "void", 0, PREC_UNARY }, { "delete", 0, PREC_UNARY }, { "await", 0, PREC_UNARY },
	{ "yield", 0, PREC_YIELD },
	{ NULL, 0, 0 },
};
static const struct opdef ops_c[] = {
	{ "||", PREC_OR, 0 }, { "&&", PREC_AND, 0 },
	{ "|", PREC_BOR, 0 }, { "^", PREC_BXOR, 0 }, { "&", PREC_BAND, PREC_UNARY },
	{ "==", PREC_EQ, 0 }, { "!=", PREC_EQ, 0 },
	{ "<", PREC_REL, 0 }, { ">", PREC_REL, 0 }, { "<=", PREC_REL, 0 }, { ">=", PREC_REL, 0 },
	{ "<=>", PREC_REL, 0 }, { "<<", PREC_SHIFT, 0 }, { ">>", PREC_SHIFT, 0 },
	{ "+", PREC_ADD, PREC_UNARY }, { "-", PREC_ADD, PREC_UNARY },
	{ "*", PREC_MUL, PREC_UNARY }, { "/", PREC_MUL, 0 }, { "%", PREC_MUL, 0 },
	{ "!", 0, PREC_UNARY }, { "~", 0, PREC_UNARY }, { "++", 0, PREC_UNARY },
	{ "--", 0, PREC_UNARY },
	{ NULL, 0, 0 },
};
static const struct opdef words_c[] = {
	{ "sizeof", 0, PREC_UNARY },
	{ NULL, 0, 0 },
};
static const struct opdef ops_java[] = {
	{ "||", PREC_OR, 0 }, { "&&", PREC_AND, 0 },
	{ "|", PREC_BOR, 0 }, { "^", PREC_BXOR, 0 }, { "&", PREC_BAND, 0 },
	{ "==", PREC_EQ, 0 }, { "!=", PREC_EQ, 0 },
	{ "<", PREC_REL, 0 }, { ">", PREC_REL, 0 }, { "<=", PREC_REL, 0 }, { ">=", PREC_REL, 0 },
	{ "<<", PREC_SHIFT, 0 }, { ">>", PREC_SHIFT, 0 }, { ">>>", PREC_SHIFT, 0 },
	{ "+", PREC_ADD, PREC_UNARY }, { "-", PREC_ADD, PREC_UNARY },
	{ "*", PREC_MUL, 0 }, { "/", PREC_MUL, 0 }, { "%", PREC_MUL, 0 },
	{ "!", 0, PREC_UNARY }, { "~", 0, PREC_UNARY }, { "++", 0, PREC_UNARY },
	{ "--", 0, PREC_UNARY },
	{ NULL, 0, 0 },
};
static const struct opdef words_java[] = {
	{ "instanceof", PREC_REL, 0 },
	{ NULL, 0, 0 },
};
static const struct opdef ops_go[] = {
	{ "||", PREC_OR, 0 }, { "<-", PREC_OR, PREC_UNARY }, { "&&", PREC_AND, 0 },
	{ "==", PREC_EQ, 0 }, { "!=", PREC_EQ, 0 }, { "<", PREC_EQ, 0 }, { ">", PREC_EQ, 0 },
	{ "<=", PREC_EQ, 0 }, { ">=", PREC_EQ, 0 },
	{ "+", PREC_ADD, PREC_UNARY }, { "-", PREC_ADD, PREC_UNARY }, { "|", PREC_ADD, 0 },
	{ "^", PREC_ADD, PREC_UNARY },
	{ "*", PREC_MUL, PREC_UNARY }, { "/", PREC_MUL, 0 }, { "%", PREC_MUL, 0 },
	{ "<<", PREC_MUL, 0 }, { ">>", PREC_MUL, 0 }, { "&", PREC_MUL, PREC_UNARY },
	{ "&^", PREC_MUL, 0 }, { "!", 0, PREC_UNARY },
	{ NULL, 0, 0 },
};
static const struct opdef ops_py[] = {
	{ "<", PREC_CMP, 0 }, { ">", PREC_CMP, 0 }, { "==", PREC_CMP, 0 }, { ">=", PREC_CMP, 0 },
	{ "<=", PREC_CMP, 0 }, { "!=", PREC_CMP, 0 },
	{ "|", PREC_BOR, 0 }, { "^", PREC_BXOR, 0 }, { "&", PREC_BAND, 0 },
	{ "<<", PREC_SHIFT, 0 }, { ">>", PREC_SHIFT, 0 },
	{ "+", PREC_ADD, PREC_PY_UNARY }, { "-", PREC_ADD, PREC_PY_UNARY },
	{ "*", PREC_MUL, PREC_BOR }, { "/", PREC_MUL, 0 }, { "//", PREC_MUL, 0 },
	{ "%", PREC_MUL, 0 }, { "@", PREC_MUL, 0 }, { "~", 0, PREC_PY_UNARY },
	{ "**", PREC_POW, PREC_BOR },
	{ NULL, 0, 0 },
};
static const struct opdef words_py[] = {
	{ "or", PREC_OR, 0 }, { "and", PREC_AND, 0 }, { "not", PREC_CMP, PREC_NOT },
	{ "in", PREC_CMP, 0 }, { "is", PREC_CMP, 0 }, { "await", 0, PREC_AWAIT },
	{ "yield", 0, PREC_YIELD },
	{ NULL, 0, 0 },
};
static const struct opdef words_none[] = { { NULL, 0, 0 } };
/* clang-format on */

/* x's operators written with punctuation (word: with letters), or NULL. */
static const struct opdef *operators(enum lexer x, bool word)
{
	switch (x) {
	case LEXER_JS:
		return word ? words_js : ops_js;
	case LEXER_C:
		return word ? words_c : ops_c;
	case LEXER_JAVA:
		return word ? words_java : ops_java;
	case LEXER_GO:
		return word ? words_none : ops_go;
	case LEXER_PYTHON:
		return word ? words_py : ops_py;
	default:
		return NULL;
	}
}

/* Token k as an operator of x's expressions, or NULL. */
static const struct opdef *operator_of(const struct tokens *t, const struct token *k, enum lexer x)
{
	const char *s = t->src + k->off;
	if (k->kind == TOK_PUNCT) {
		/* Most punctuation a run holds is no operator: `.` `(` `[` `:` ... */
		if (s[0] == '\0' || !strchr("?|&^=!<>+-*/%~@", s[0])) {
			return NULL;
		}
	} else if (k->kind != TOK_IDENT || k->len < 2 || k->len > 10 || s[0] < 'a' || s[0] > 'z') {
		return NULL;
	}
	const struct opdef *d = operators(x, k->kind == TOK_IDENT);
	for (; d && d->text; d++) {
		if (d->text[0] == s[0] && strlen(d->text) == k->len &&
		    memcmp(d->text, s, k->len) == 0) {
			return d;
		}
	}
	return NULL;
}

/*
 * Does the operand before token k go on at k: a member (`.x`, `?.x`; C's `->x`; C++'s and
 * Java's `::x`), a call or an index? Nothing binds tighter.
 */
static bool continues_operand(const struct tokens *t, const struct token *k, enum lexer x)
{
	const char *s = t->src + k->off;
	if (k->kind != TOK_PUNCT) {
		return false;
	}
	if (k->len == 1) {
		return s[0] == '.' || s[0] == '(' || s[0] == '[';
	}
	if (k->len != 2) {
		return false;
	}
	if (memcmp(s, "?.", 2) == 0) {
		return x == LEXER_JS;
	}
	if (memcmp(s, "->", 2) == 0) {
		return x == LEXER_C;
	}
	return memcmp(s, "::", 2) == 0 && (x == LEXER_C || x == LEXER_JAVA);
}

/*
 * The level of what follows a run at token k, read as an infix operator (the run ends with
 * an operand): a binary operator's, PREC_COND for a conditional's `?` (Python's `if`), or
 * PREC_NONE.
 */
static unsigned infix_prec(const struct tokens *t, const struct token *k, enum lexer x)
{
	const char *s = t->src + k->off;
	if (k->len == 1 && s[0] == '?' && k->kind == TOK_PUNCT) {
		return x == LEXER_JS || x == LEXER_JAVA || x == LEXER_C ? PREC_COND : PREC_NONE;
	}
	if (x == LEXER_PYTHON && k->kind == TOK_IDENT && k->len == 2 && memcmp(s, "if", 2) == 0) {
		return PREC_COND;
	}
	const struct opdef *d = operator_of(t, k, x);
	return d ? d->binary : PREC_NONE;
}

/*
 * May a run whose loosest operator is at level prec (PREC_ATOM: none) end before token k
 * and be an operand of what follows? Not when k continues the last operand (`x + cp` before
 * `.exec`), nor when k is an operator that binds tighter than the run's (`a + b` before
 * `* c`), or as tight and grouping to the right.
 */
static bool may_end_before(const struct tokens *t, const struct token *k, enum lexer x,
			   unsigned prec)
{
	if (prec == PREC_ATOM) {
		return true;
	}
	if (continues_operand(t, k, x)) {
		return false;
	}
	unsigned q = infix_prec(t, k, x);
	return q == PREC_NONE || prec > q || (prec == q && !prec_right(q));
}

/* How far type arguments are looked for after a `<` (bracketed groups count as one). */
#define TYPE_ARGS_MAX_TOKENS 32

/*
 * TypeScript, Java and C++ write type arguments in angle brackets: `f<T>(x)`,
 * `new Map<string, number>()`, `std::make_unique<Shell>(x)`. At a `<` after a name: the
 * token after the closing `>` when the tokens up to it can be types and a `(` follows (as
 * TypeScript reads `f<T>(x)`), else TOK_NONE. *looked counts the tokens looked at.
 */
static uint32_t type_args_end(const struct tokens *t, uint32_t x, size_t *looked)
{
	static const char *const in_types[] = {
		".", ",", "|", "&", "?", ":", "=>", "*", "::", NULL
	};
	int depth = 0;
	uint32_t y = x;
	for (size_t n = 0; n < TYPE_ARGS_MAX_TOKENS && y < t->n; n++) {
		const struct token *k = &t->v[y];
		const char *s = t->src + k->off;
		++*looked;
		if (k->flags & TOKF_CLOSE) {
			return TOK_NONE;
		}
		if (k->flags & TOKF_OPEN) {
			if (k->pair == TOK_NONE) {
				return TOK_NONE;
			}
			y = k->pair + 1;
			continue;
		}
		y++;
		if (k->kind == TOK_IDENT || k->kind == TOK_NUMBER || k->kind == TOK_STRING) {
			continue;
		}
		if (k->kind != TOK_PUNCT) {
			return TOK_NONE;
		}
		if (s[0] == '<' && k->len == 1) {
			depth++;
		} else if (s[0] == '>' && k->len <= 3 && memcmp(s, ">>>", k->len) == 0) {
			depth -= (int)k->len;
			if (depth < 0) {
				return TOK_NONE;
			}
			if (depth == 0) {
				return y < t->n && t->v[y].kind == TOK_PUNCT && t->v[y].len == 1 &&
						       t->src[t->v[y].off] == '('
					       ? y
					       : TOK_NONE;
			}
		} else if (!text_in(s, k->len, in_types)) {
			return TOK_NONE;
		}
	}
	return TOK_NONE;
}

/* Is token k (at index i of t) a member's name: right after `.` `?.` `->` `::`? */
static bool member_name(const struct tokens *t, uint32_t i, enum lexer x)
{
	if (i == 0 || t->v[i].kind != TOK_IDENT) {
		return false;
	}
	const struct token *p = &t->v[i - 1];
	return p->kind == TOK_PUNCT && ((p->len == 1 && t->src[p->off] == '.') ||
					(p->len == 2 && continues_operand(t, p, x)));
}

/* ---------- compiling ---------- */

void mvtab_release(struct mvtab *mv)
{
	for (size_t i = 0; i < mv->n; i++) {
		free(mv->name[i]);
	}
	mv->n = 0;
}

int mvtab_find(const struct mvtab *mv, const char *name, size_t len)
{
	for (size_t i = 0; i < mv->n; i++) {
		if (strlen(mv->name[i]) == len && memcmp(mv->name[i], name, len) == 0) {
			return (int)i;
		}
	}
	return -1;
}

void pattern_free(struct pattern *p)
{
	if (!p) {
		return;
	}
	free(p->el);
	free(p->src);
	free(p);
}

static bool is_metavar_text(const char *s, size_t n)
{
	if (n < 2 || s[0] != '$' || !(isupper((unsigned char)s[1]) || s[1] == '_')) {
		return false;
	}
	for (size_t i = 2; i < n; i++) {
		if (!(isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '_')) {
			return false;
		}
	}
	return true;
}

static bool is_ellipsis(const struct tokens *t, const struct token *k)
{
	return (k->kind == TOK_PUNCT || k->kind == TOK_IDENT) && k->len == 3 &&
	       memcmp(t->src + k->off, "...", 3) == 0;
}

static bool el_is_text(const struct pattern *p, const struct pel *e, const char *s)
{
	return e->kind == PEL_TOKEN && e->len == strlen(s) &&
	       memcmp(p->src + e->off, s, e->len) == 0;
}

static bool el_is_close(const struct pattern *p, const struct pel *e)
{
	return el_is_text(p, e, ")") || el_is_text(p, e, "]") || el_is_text(p, e, "}");
}

static unsigned anchor_score(const struct pattern *p, const struct pel *e)
{
	static const char *const common[] = { "(", ")", ",", ";", ".", "=", "[",
					      "]", "{", "}", ":", "-", "|", NULL };
	switch (e->kind) {
	case PEL_TOKEN:
		if (e->tok_kind == TOK_IDENT) {
			return 100 + MIN(e->len, 50u);
		}
		if (e->tok_kind == TOK_NUMBER) {
			return 40 + MIN(e->len, 20u);
		}
		if (e->tok_kind == TOK_PUNCT) {
			return text_in(p->src + e->off, e->len, common) ? 1 : 10 + e->len;
		}
		return 0;
	case PEL_STRING:
		return 60 + MIN(e->len, 50u);
	default:
		return 0;
	}
}

static int block_edge(const struct tokens *t, const struct token *k);

static int compile_error(struct pattern_error *err, size_t off, const char *msg)
{
	err->offset = off;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -EINVAL;
}

static bool el_is_open(const struct pattern *p, const struct pel *e)
{
	return el_is_text(p, e, "(") || el_is_text(p, e, "[") || el_is_text(p, e, "{");
}

/*
 * The `{ }` groups whose ellipses reach into the body they match, in the languages whose
 * blocks are braced: an ellipsis right inside a `{ }` of the pattern (not `..., ` nor
 * `, ...`) is PEL_BODY_ELLIPSIS, with its group's `{` (PEL_BODY_OPEN) and `}`
 * (PEL_BODY_CLOSE). deep[i]: element i follows such an ellipsis in its body, at a depth
 * the match may have reached anywhere in it. The pattern's brackets balance (checked
 * before).
 */
static void mark_bodies(struct pattern *p, enum lexer lx, bool *deep)
{
	memset(deep, 0, p->n * sizeof(*deep));
	if (lx == LEXER_NONE || line_language(lx)) {
		return;
	}
	uint16_t stack[PATTERN_MAX_ELEMENTS];
	bool reached[PATTERN_MAX_ELEMENTS];
	size_t sp = 0, active = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct pel *e = &p->el[i];
		deep[i] = active > 0;
		if (el_is_open(p, e)) {
			reached[sp] = false;
			stack[sp++] = (uint16_t)i;
		} else if (el_is_close(p, e) && sp > 0) {
			uint16_t o = stack[--sp];
			active -= reached[sp];
			if (p->el[o].body == PEL_BODY_OPEN) {
				e->body = PEL_BODY_CLOSE;
				e->open = o;
			}
		} else if (e->kind == PEL_ELLIPSIS && !e->top && sp > 0 &&
			   el_is_text(p, &p->el[stack[sp - 1]], "{")) {
			e->body = PEL_BODY_ELLIPSIS;
			e->open = stack[sp - 1];
			p->el[e->open].body = PEL_BODY_OPEN;
			active += !reached[sp - 1];
			reached[sp - 1] = true;
		}
	}
}

/* The `{ }` body that ends the pattern, and what its head is (struct pattern.tail_body,
 * tail_head). After mark_bodies(). */
static void tail_shape(struct pattern *p)
{
	p->tail_body = PATTERN_NO_TAIL;
	p->tail_head = PATTERN_NO_TAIL;
	const struct pel *last = &p->el[p->n - 1];
	if (last->body != PEL_BODY_CLOSE) {
		return;
	}
	p->tail_body = last->open;
	size_t items = 0, depth = 0;
	for (size_t i = 0; i < p->tail_body; i++) {
		const struct pel *e = &p->el[i];
		bool lit =
			e->kind == PEL_TOKEN || e->kind == PEL_STRING || e->kind == PEL_STRING_ANY;
		if (depth == 0 && !lit) {
			return;
		}
		items += depth == 0;
		if (el_is_open(p, e)) {
			depth++;
		} else if (el_is_close(p, e)) {
			depth--;
		}
	}
	p->tail_head = items;
}

/* The metavariables each element's searches may look at (struct pel.used_upto, seg_used,
 * rest_used, seg_end). */
static void mark_uses(struct pattern *p)
{
	uint32_t upto = 0;
	for (size_t i = 0; i < p->n; i++) {
		upto |= p->el[i].kind == PEL_METAVAR ? 1u << p->el[i].mv : 0;
		p->el[i].used_upto = upto;
	}
	uint32_t rest = 0, seg = 0;
	size_t seg_end = p->n;
	for (size_t i = p->n; i-- > 0;) {
		struct pel *e = &p->el[i];
		uint32_t mine = e->kind == PEL_METAVAR ? 1u << e->mv : 0;
		e->rest_used = rest;
		e->seg_used = seg;
		e->seg_end = (uint16_t)seg_end;
		rest |= mine;
		if (e->kind == PEL_ELLIPSIS && e->top) {
			seg = 0;
			seg_end = i;
		} else {
			seg |= mine;
		}
	}
}

int pattern_compile(const char *src, size_t len, enum lang lang, struct mvtab *mv,
		    struct pattern **out, struct pattern_error *err)
{
	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (len > PATTERN_MAX_BYTES) {
		return compile_error(err, 0, "the pattern is too long");
	}
	struct pattern *p = xcalloc(1, sizeof(*p));
	p->src = xstrndup(src, len);
	p->lang = lang;
	struct tokens t;
	tokens_init(&t);
	int r = lex_run(lang, p->src, len, LEX_PATTERN, &t);
	if (r < 0) {
		tokens_release(&t);
		pattern_free(p);
		return compile_error(err, 0, "the pattern cannot be tokenized");
	}
	/* Line structure at the ends does not count. */
	size_t b = 0, e = t.n;
	while (b < e && (t.v[b].kind == TOK_EOL || t.v[b].kind == TOK_INDENT)) {
		b++;
	}
	while (e > b && (t.v[e - 1].kind == TOK_EOL || t.v[e - 1].kind == TOK_DEDENT)) {
		e--;
	}
	if (b == e) {
		tokens_release(&t);
		pattern_free(p);
		return compile_error(err, 0, "the pattern is empty");
	}
	if (e - b > PATTERN_MAX_ELEMENTS) {
		tokens_release(&t);
		pattern_free(p);
		return compile_error(err, 0, "the pattern has too many tokens");
	}
	/* Brackets must balance within the pattern (INDENT/DEDENT may be cut at the end). */
	for (size_t i = b; i < e; i++) {
		const struct token *k = &t.v[i];
		bool bracket = (k->flags & (TOKF_OPEN | TOKF_CLOSE)) && k->kind == TOK_PUNCT;
		if (bracket && (k->pair == TOK_NONE || k->pair < b || k->pair >= e)) {
			size_t off = k->off;
			tokens_release(&t);
			pattern_free(p);
			return compile_error(err, off, "unbalanced bracket in the pattern");
		}
	}
	p->el = xcalloc(e - b, sizeof(struct pel));
	enum lexer lx = lang_lexer(lang);
	unsigned base_depth = t.v[b].depth;
	for (size_t i = b; i < e; i++) {
		const struct token *k = &t.v[i];
		struct pel *el = &p->el[p->n];
		const char *s = p->src + k->off;
		el->off = k->off;
		el->len = k->len;
		el->top = k->depth <= base_depth;
		if (k->kind == TOK_IDENT && is_metavar_text(s, k->len)) {
			int idx = mvtab_find(mv, s, k->len);
			if (idx < 0) {
				if (mv->n >= PATTERN_MAX_MV) {
					tokens_release(&t);
					pattern_free(p);
					return compile_error(err, k->off, "too many metavariables");
				}
				mv->name[mv->n] = xstrndup(s, k->len);
				idx = (int)mv->n++;
			}
			el->kind = PEL_METAVAR;
			el->mv = (uint8_t)idx;
			p->mv_used |= 1u << idx;
		} else if (is_ellipsis(&t, k)) {
			el->kind = PEL_ELLIPSIS;
			/* In the shell, an ellipsis among a command's words is that command's
			 * (`rm ... $V`, `curl ... | $SH`); one on a line of its own stands
			 * for any commands. In a Dockerfile likewise, and the one right after
			 * the instruction stands for any commands before (`RUN ... chmod ...
			 * $MODE`: a chmod anywhere in the RUN, its mode among its own words,
			 * not `useradd -u 1002` after a `&&`). */
			bool alone = (i == b || t.v[i - 1].kind == TOK_EOL) &&
				     (i + 1 == e || t.v[i + 1].kind == TOK_EOL);
			bool after_instruction =
				i > b && (i - 1 == b || t.v[i - 2].kind == TOK_EOL);
			el->cmd = el->top && !alone &&
				  (lx == LEXER_SHELL ||
				   (lx == LEXER_DOCKERFILE && !after_instruction));
			/* A stage of its own between two pipes (`curl ... | ... | $SH`): the
			 * commands a download goes through to the shell, any number of them
			 * (`| sed s/x/y/ | tr -d x |`). */
			el->pipe = el->cmd && i > b && i + 1 < e && is_pipe(&t, &t.v[i - 1]) &&
				   is_pipe(&t, &t.v[i + 1]);
		} else if (k->kind == TOK_STRING) {
			const char *cs;
			size_t cn;
			tok_string_content(&t, k, &cs, &cn);
			if (cn == 3 && memcmp(cs, "...", 3) == 0) {
				el->kind = PEL_STRING_ANY;
			} else {
				el->kind = PEL_STRING;
				el->off = (uint32_t)(cs - p->src);
				el->len = (uint32_t)cn;
				el->hash = lex_hash(cs, cn, false) ^ 0x5bd1e995u;
			}
		} else {
			el->kind = PEL_TOKEN;
			el->tok_kind = k->kind;
			el->hash = k->hash;
			el->instr = lx == LEXER_DOCKERFILE && k->kind == TOK_IDENT &&
				    (i == b || t.v[i - 1].kind == TOK_EOL);
			if (k->kind == TOK_EOL && el->top) {
				p->multiline = true;
			}
			p->block_edges |= block_edge(&t, k) != 0;
		}
		p->n++;
	}
	tokens_release(&t);

	/* ", ..." before a closing bracket, then "..., " inside brackets. */
	size_t w = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct pel *el = &p->el[i];
		if (el_is_text(p, el, ",") && i + 2 < p->n && p->el[i + 1].kind == PEL_ELLIPSIS &&
		    el_is_close(p, &p->el[i + 2])) {
			p->el[w] = *el;
			p->el[w].kind = PEL_COMMA_ELLIPSIS;
			w++;
			i++;
			continue;
		}
		/* "...", a line of its own between statements (Python, shell): its line end is
		 * not one more the text must have. Any statements, or none, then the next. */
		if (el->kind == PEL_ELLIPSIS && el->top && i + 1 < p->n &&
		    p->el[i + 1].kind == PEL_TOKEN && p->el[i + 1].tok_kind == TOK_EOL) {
			p->el[w++] = *el;
			i++;
			continue;
		}
		if (el->kind == PEL_ELLIPSIS && !el->top && i + 1 < p->n &&
		    el_is_text(p, &p->el[i + 1], ",")) {
			p->el[w] = *el;
			p->el[w].kind = PEL_ELLIPSIS_COMMA;
			w++;
			i++;
			continue;
		}
		p->el[w++] = *el;
	}
	p->n = w;
	/* Two ellipses in a row mean one. */
	w = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (w > 0 && p->el[i].kind == PEL_ELLIPSIS && p->el[w - 1].kind == PEL_ELLIPSIS) {
			p->el[w - 1].cmd &= p->el[i].cmd; /* the one that reaches further */
			continue;
		}
		p->el[w++] = p->el[i];
	}
	p->n = w;

	bool *deep = xcalloc(p->n, sizeof(*deep));
	mark_bodies(p, lx, deep);
	tail_shape(p);
	mark_uses(p);

	/* The anchor: the most selective literal. Before a top-level ellipsis when there is a
	 * good one there, because a start position is looked for only within the statement of
	 * the anchor; and not after the ellipsis of a `{ }` body in that body (deep[]), which
	 * may have gone down any number of brackets a start could not be found back out of,
	 * unless there is no other. */
	unsigned best = 0;
	size_t limit = p->n;
	for (size_t i = 0; i < p->n; i++) {
		if (p->el[i].kind == PEL_ELLIPSIS && p->el[i].top) {
			limit = i;
			break;
		}
	}
	for (int pass = 0; pass < 3 && best < PATTERN_STRONG_ANCHOR; pass++) {
		/* Statements apart, an anchor after the ellipsis could not lead back to a
		 * start (looked for within the anchor's statement): a weak one before it, tried
		 * more often, is the one that works. */
		if (pass >= 1 && best > 0 && p->multiline) {
			break;
		}
		if (pass == 2 && best > 0) {
			break;
		}
		size_t to = pass == 0 ? limit : p->n;
		for (size_t i = 0; i < to; i++) {
			if (deep[i] && pass < 2) {
				continue;
			}
			unsigned sc = anchor_score(p, &p->el[i]);
			if (sc > best) {
				best = sc;
				p->anchor = i;
			}
		}
	}
	free(deep);
	if (best == 0) {
		pattern_free(p);
		return compile_error(err, 0,
				     "the pattern needs at least one literal token (an identifier, "
				     "a keyword, a string or an operator) besides metavariables");
	}
	p->anchor_score = best;
	p->anchor_depth = 0;
	for (size_t i = 0; i < p->anchor; i++) {
		const struct pel *pe = &p->el[i];
		if (pe->kind != PEL_TOKEN || pe->tok_kind != TOK_PUNCT || pe->len != 1) {
			continue;
		}
		char c = p->src[pe->off];
		if (c == '(' || c == '[' || c == '{') {
			p->anchor_depth++;
		} else if ((c == ')' || c == ']' || c == '}') && p->anchor_depth > 0) {
			p->anchor_depth--;
			p->lead_braces += c == '}' && p->anchor_depth == 0;
		}
	}
	p->lead_fixed = true;
	for (size_t i = 0; i < p->anchor; i++) {
		uint8_t k = p->el[i].kind;
		if (k != PEL_TOKEN && k != PEL_STRING && k != PEL_STRING_ANY) {
			p->lead_fixed = false;
		}
	}
	*out = p;
	return 0;
}

void pattern_anchor(const struct pattern *p, const char **text, size_t *len, uint8_t *tok_kind)
{
	const struct pel *e = &p->el[p->anchor];
	*text = p->src + e->off;
	*len = e->len;
	*tok_kind = e->kind == PEL_STRING ? TOK_STRING : e->tok_kind;
}

/* ---------- a token stream's index ---------- */

/*
 * The shell: a token that ends a command, which an ellipsis among a command's words does
 * not step over (struct pel.cmd): `;` `&` `&&` `||` `|` `|&` `;;`, a subshell's `(` and
 * `)`, a line end. Redirections (`2>&1`, `>$log`) are the command's own.
 */
static bool shell_command_end(const struct tokens *t, const struct token *k)
{
	static const char *const ends[] = { ";", "&", "&&", "||", "|", "|&", ";;", "(", ")", NULL };
	if (k->kind == TOK_EOL) {
		return true;
	}
	return k->kind == TOK_PUNCT && text_in(t->src + k->off, k->len, ends);
}

/* A token that opens or closes a block as a top-level ellipsis counts them: +1, -1, or 0. */
static int block_edge(const struct tokens *t, const struct token *k)
{
	if (k->kind == TOK_INDENT) {
		return 1;
	}
	if (k->kind == TOK_DEDENT) {
		return -1;
	}
	if (k->kind == TOK_PUNCT && k->len == 1) {
		char ch = t->src[k->off];
		return ch == '{' ? 1 : ch == '}' ? -1 : 0;
	}
	return 0;
}

struct pattern_index {
	const struct tokens *t;
	/* Tokens that top-level ellipses stepped over on t before it was built. */
	size_t walked;
	bool built;
	uint32_t *pos;	     /* the positions of the tokens, by hash (then position) */
	uint32_t *next_edge; /* n + 1 entries: the first block edge at i or after (n: none) */
	uint32_t *next_line; /* n + 1: the first line end or block edge at i or after */
	int32_t *depth;	     /* n + 1: block_edge() of the tokens before i, summed */
	int32_t *low;	     /* n + 1: the least of depth[i..n] */
	size_t cap;	     /* entries of each */
};

/* The index is built once its walks have stepped over this many tokens of a stream of n. */
#define INDEX_AFTER(n) (2 * (size_t)(n) + 4096)

struct pattern_index *pattern_index_new(void)
{
	return xcalloc(1, sizeof(struct pattern_index));
}

void pattern_index_free(struct pattern_index *x)
{
	if (!x) {
		return;
	}
	free(x->pos);
	free(x->next_edge);
	free(x->next_line);
	free(x->depth);
	free(x->low);
	free(x);
}

void pattern_index_reset(struct pattern_index *x, const struct tokens *t)
{
	x->t = t;
	x->walked = 0;
	x->built = false;
}

bool pattern_index_built(const struct pattern_index *x, const struct tokens *t)
{
	return x && x->built && x->t == t;
}

static void index_build(struct pattern_index *x)
{
	const struct tokens *t = x->t;
	size_t n = t->n;
	if (x->cap < n + 1) {
		free(x->pos);
		free(x->next_edge);
		free(x->next_line);
		free(x->depth);
		free(x->low);
		x->pos = xreallocarray(NULL, n + 1, sizeof(*x->pos));
		x->next_edge = xreallocarray(NULL, n + 1, sizeof(*x->next_edge));
		x->next_line = xreallocarray(NULL, n + 1, sizeof(*x->next_line));
		x->depth = xreallocarray(NULL, n + 1, sizeof(*x->depth));
		x->low = xreallocarray(NULL, n + 1, sizeof(*x->low));
		x->cap = n + 1;
	}
	/* The positions by hash: a radix sort on the hashes, 8 bits a pass, which is stable,
	 * so that the positions of each hash stay in order. */
	uint32_t *a = x->pos, *b = xreallocarray(NULL, n + 1, sizeof(*b));
	for (size_t i = 0; i < n; i++) {
		a[i] = (uint32_t)i;
	}
	for (unsigned shift = 0; shift < 32; shift += 8) {
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++) {
			count[((t->v[a[i]].hash >> shift) & 0xff) + 1]++;
		}
		for (size_t d = 1; d < 257; d++) {
			count[d] += count[d - 1];
		}
		for (size_t i = 0; i < n; i++) {
			b[count[(t->v[a[i]].hash >> shift) & 0xff]++] = a[i];
		}
		uint32_t *tmp = a;
		a = b;
		b = tmp;
	}
	free(b); /* four passes: the sorted positions are back in x->pos */
	x->depth[0] = 0;
	for (size_t i = 0; i < n; i++) {
		x->depth[i + 1] = x->depth[i] + block_edge(t, &t->v[i]);
	}
	x->low[n] = x->depth[n];
	for (size_t i = n; i-- > 0;) {
		x->low[i] = MIN(x->depth[i], x->low[i + 1]);
	}
	x->next_edge[n] = x->next_line[n] = (uint32_t)n;
	for (size_t i = n; i-- > 0;) {
		bool edge = block_edge(t, &t->v[i]) != 0;
		x->next_edge[i] = edge ? (uint32_t)i : x->next_edge[i + 1];
		x->next_line[i] =
			edge || t->v[i].kind == TOK_EOL ? (uint32_t)i : x->next_line[i + 1];
	}
	x->built = true;
}

/* The first token at from or after it whose hash is h (n: none). */
static uint32_t index_next(const struct pattern_index *x, uint32_t h, uint32_t from)
{
	const struct token *v = x->t->v;
	size_t lo = 0, hi = x->t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t at = x->pos[mid];
		if (v[at].hash < h || (v[at].hash == h && at < from)) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < x->t->n && v[x->pos[lo]].hash == h ? x->pos[lo] : (uint32_t)x->t->n;
}

/* ---------- failures remembered ---------- */

struct memo_entry {
	const void *tag;
	uint32_t slot, bound, texts, hash;
	int32_t base;
	uint32_t rep; /* the bindings its texts are of: memo.rep[rep...], one per metavariable */
	struct pattern_memo_run *run; /* sorted, apart */
	uint32_t n_run;
	size_t cap_run;
};

struct pattern_memo {
	const struct tokens *t; /* the stream of the bindings in rep */
	struct memo_entry *e;
	size_t n, n_init, cap; /* n_init: entries whose run arrays are allocated */
	uint32_t *slot;	       /* open addressing: entry + 1, 0 for none; a power of 2 of them */
	size_t n_slot;
	uint32_t (*rep)[2];
	size_t n_rep, cap_rep;
	size_t runs;
};

struct pattern_memo *pattern_memo_new(void)
{
	return xcalloc(1, sizeof(struct pattern_memo));
}

void pattern_memo_free(struct pattern_memo *m)
{
	if (!m) {
		return;
	}
	for (size_t i = 0; i < m->n_init; i++) {
		free(m->e[i].run);
	}
	free(m->e);
	free(m->slot);
	free(m->rep);
	free(m);
}

void pattern_memo_clear(struct pattern_memo *m)
{
	if (!m || (m->n == 0 && m->t == NULL)) {
		return;
	}
	if (m->n) {
		memset(m->slot, 0, m->n_slot * sizeof(*m->slot));
	}
	m->n = 0;
	m->n_rep = 0;
	m->runs = 0;
	m->t = NULL;
}

static uint32_t mix(uint32_t h, uint32_t v)
{
	h = (h ^ v) * 0x9e3779b1u;
	return h ^ (h >> 15);
}

/* A key's hash: its fields, and of each text its length and (at most) first 16 tokens. */
static uint32_t memo_hash(const struct pattern_memo_key *k)
{
	uint64_t tag = (uint64_t)(uintptr_t)k->tag;
	uint32_t h = mix(mix((uint32_t)tag, (uint32_t)(tag >> 32)), k->slot);
	h = mix(mix(mix(h, (uint32_t)k->base), k->bound), k->texts);
	for (int mv = 0; mv < PATTERN_MAX_MV; mv++) {
		if (!(k->texts & (1u << mv))) {
			continue;
		}
		uint32_t s = k->b->start[mv], e = k->b->end[mv];
		h = mix(h, e - s);
		for (uint32_t i = s; i < e && i < s + 16; i++) {
			h = mix(mix(h, k->t->v[i].kind), k->t->v[i].hash);
		}
	}
	return h;
}

static bool memo_same(const struct pattern_memo *m, const struct memo_entry *e,
		      const struct pattern_memo_key *k, uint32_t h)
{
	if (e->hash != h || e->tag != k->tag || e->slot != k->slot || e->base != k->base ||
	    e->bound != k->bound || e->texts != k->texts) {
		return false;
	}
	uint32_t r = e->rep;
	for (int mv = 0; mv < PATTERN_MAX_MV; mv++) {
		if (!(k->texts & (1u << mv))) {
			continue;
		}
		if (!binds_same(m->t, m->rep[r][0], m->rep[r][1], k->t, k->b->start[mv],
				k->b->end[mv])) {
			return false;
		}
		r++;
	}
	return true;
}

static void memo_place(struct pattern_memo *m, uint32_t id)
{
	size_t i = m->e[id].hash & (m->n_slot - 1);
	while (m->slot[i]) {
		i = (i + 1) & (m->n_slot - 1);
	}
	m->slot[i] = id + 1;
}

int pattern_memo_key(struct pattern_memo *m, const struct pattern_memo_key *k, bool create)
{
	if (!m) {
		return -1;
	}
	if (!m->t) {
		m->t = k->t;
	} else if (m->t != k->t) {
		return -1; /* about another stream until cleared */
	}
	uint32_t h = memo_hash(k);
	for (size_t i = h & (m->n_slot - 1); m->n_slot && m->slot[i];
	     i = (i + 1) & (m->n_slot - 1)) {
		if (memo_same(m, &m->e[m->slot[i] - 1], k, h)) {
			return (int)(m->slot[i] - 1);
		}
	}
	size_t texts = (size_t)__builtin_popcount(k->texts);
	if (!create || m->n >= PATTERN_MEMO_MAX_KEYS ||
	    m->n_rep + texts > PATTERN_MEMO_MAX_BOUND_TEXTS) {
		return -1;
	}
	if ((m->n + 1) * 2 > m->n_slot) {
		m->n_slot = m->n_slot ? m->n_slot * 2 : 64;
		free(m->slot);
		m->slot = xcalloc(m->n_slot, sizeof(*m->slot));
		for (uint32_t id = 0; id < m->n; id++) {
			memo_place(m, id);
		}
	}
	if (m->n == m->n_init) {
		GROW(m->e, m->cap, m->n_init + 1);
		m->e[m->n_init++] = (struct memo_entry){ 0 };
	}
	GROW(m->rep, m->cap_rep, m->n_rep + texts);
	struct memo_entry *e = &m->e[m->n];
	e->tag = k->tag;
	e->slot = k->slot;
	e->base = k->base;
	e->bound = k->bound;
	e->texts = k->texts;
	e->hash = h;
	e->rep = (uint32_t)m->n_rep;
	e->n_run = 0;
	for (int mv = 0; mv < PATTERN_MAX_MV; mv++) {
		if (k->texts & (1u << mv)) {
			m->rep[m->n_rep][0] = k->b->start[mv];
			m->rep[m->n_rep][1] = k->b->end[mv];
			m->n_rep++;
		}
	}
	memo_place(m, (uint32_t)m->n);
	return (int)m->n++;
}

bool pattern_memo_find(const struct pattern_memo *m, int id, uint32_t x, uint32_t min_end,
		       struct pattern_memo_run *run)
{
	if (!m || id < 0) {
		return false;
	}
	const struct memo_entry *e = &m->e[id];
	/* The last run that starts at x or before it. */
	size_t lo = 0, hi = e->n_run;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->run[mid].lo <= x) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == 0 || e->run[lo - 1].hi < x || e->run[lo - 1].min_end > min_end) {
		return false;
	}
	*run = e->run[lo - 1];
	return true;
}

void pattern_memo_add(struct pattern_memo *m, int id, const struct pattern_memo_run *run)
{
	if (!m || id < 0) {
		return;
	}
	struct memo_entry *e = &m->e[id];
	struct pattern_memo_run r = *run;
	/* The runs it overlaps or touches: [j, k). */
	size_t j = 0;
	while (j < e->n_run && (uint64_t)e->run[j].hi + 1 < r.lo) {
		j++;
	}
	size_t k = j;
	for (; k < e->n_run && e->run[k].lo <= (uint64_t)r.hi + 1; k++) {
		const struct pattern_memo_run *o = &e->run[k];
		if (o->hi > r.hi || (o->hi == r.hi && o->terminal)) {
			r.terminal = o->terminal;
		}
		r.lo = MIN(r.lo, o->lo);
		r.hi = MAX(r.hi, o->hi);
		r.min_end = MAX(r.min_end, o->min_end);
	}
	if (k == j) {
		if (e->n_run >= PATTERN_MEMO_MAX_KEY_RUNS || m->runs >= PATTERN_MEMO_MAX_RUNS) {
			return; /* forgotten: searched again when needed */
		}
		GROW(e->run, e->cap_run, e->n_run + 1);
		memmove(e->run + j + 1, e->run + j, (e->n_run - j) * sizeof(*e->run));
		e->n_run++;
		m->runs++;
	} else if (k > j + 1) {
		memmove(e->run + j + 1, e->run + k, (e->n_run - k) * sizeof(*e->run));
		e->n_run -= (uint32_t)(k - j - 1);
		m->runs -= k - j - 1;
	}
	e->run[j] = r;
}

/* ---------- matching ---------- */

struct mstate {
	const struct pattern *p;
	struct pattern_ctx *c;
	const struct tokens *t;
	enum lexer lx;
	struct binds b;
	uint32_t start;
	uint32_t end; /* OUT */
	size_t steps, budget;
	bool exhausted;
	/* The last group_close(): from gc_from, the closer at gc_close (TOK_NONE: none yet). */
	uint32_t gc_from, gc_close;
	/* Blocks the top-level ellipses so far have entered and not left: a later one may
	 * leave them again, never the block the match started in. */
	int blocks;
	/* PEL_BODY_OPEN elements: the token each matched, in the current attempt (set before
	 * any element of its body is matched). */
	uint32_t *at;
	/* The stream's index, when it is built. */
	const struct pattern_index *ix;
	/* What the search so far depended on (struct pattern_failure): the furthest element it
	 * looked at, whether it got to the end of the pattern, the min_end it was held to. */
	size_t hw;
	bool poison;
	uint32_t need_end;
	/* The metavariables pre bound that must stay at their tokens (pattern_ctx.pre_in_place). */
	uint32_t pre_set;
	/* Under a walk whose memo key holds no block level (m_top_walk()): its level. */
	bool flat;
	int32_t flat_base;
};

/* Does source token k match the literal element e? */
static bool tok_matches(const struct pattern *p, const struct pel *e, const struct tokens *t,
			const struct token *k, enum lexer lx)
{
	const char *es = p->src + e->off;
	if (e->kind == PEL_STRING_ANY) {
		return k->kind == TOK_STRING;
	}
	if (e->kind == PEL_STRING) {
		if (k->kind != TOK_STRING || k->hash != e->hash) {
			return false;
		}
		const char *s;
		size_t n;
		tok_string_content(t, k, &s, &n);
		return n == e->len && memcmp(s, es, n) == 0;
	}
	switch (e->tok_kind) {
	case TOK_EOL:
	case TOK_INDENT:
	case TOK_DEDENT:
		return k->kind == e->tok_kind;
	default:
		break;
	}
	if (k->kind == e->tok_kind) {
		return k->hash == e->hash && tok_text_eq(t, k, es, e->len);
	}
	/* In word languages a word is text whatever its quoting: sh matches "sh". */
	if (word_language(lx) && e->tok_kind == TOK_IDENT && k->kind == TOK_STRING &&
	    tok_is_constant(t, k)) {
		const char *s;
		size_t n;
		tok_string_content(t, k, &s, &n);
		return n == e->len && memcmp(s, es, n) == 0;
	}
	return false;
}

static bool m_el(struct mstate *m, size_t pi, uint32_t ti);

/*
 * Dockerfile: is token ti an instruction? The first token of a logical line (a heredoc
 * line's implied RUN too), or the one after an ONBUILD that is: not a word of a RUN's
 * commands (`git remote add origin URL` holds no ADD, `env TOKEN=x` no ENV).
 */
static bool instruction_at(const struct tokens *t, uint32_t ti)
{
	if (ti == 0 || t->v[ti - 1].kind == TOK_EOL) {
		return true;
	}
	const struct token *p = &t->v[ti - 1];
	return p->kind == TOK_IDENT && (ti == 1 || t->v[ti - 2].kind == TOK_EOL) &&
	       tok_text_eq(t, p, "ONBUILD", 7);
}

static bool step(struct mstate *m)
{
	if (++m->steps > m->budget) {
		m->exhausted = true;
		return false;
	}
	return true;
}

/* The next element is a literal, or a metavariable bound already: a quick test of the token
 * at position x before recursing there. */
static bool next_could_match(struct mstate *m, size_t pi, uint32_t x)
{
	if (pi >= m->p->n) {
		return true;
	}
	m->hw = MAX(m->hw, pi);
	const struct pel *e = &m->p->el[pi];
	if (e->kind == PEL_METAVAR) {
		if (!(m->b.set & (1u << e->mv))) {
			return true;
		}
		/* Its tokens must follow (m_metavar()): the first one first. */
		const struct token *a = &m->t->v[m->b.start[e->mv]];
		return x < m->t->n && m->t->v[x].kind == a->kind && m->t->v[x].hash == a->hash;
	}
	if (e->kind != PEL_TOKEN && e->kind != PEL_STRING && e->kind != PEL_STRING_ANY) {
		return true;
	}
	return x < m->t->n && tok_matches(m->p, e, m->t, &m->t->v[x], m->lx);
}

static bool bind_ok(struct mstate *m, int mv, uint32_t s, uint32_t e)
{
	if (!m->c->cond) {
		return true;
	}
	return m->c->cond(m->c->cond_ud, mv, m->t, s, e);
}

/*
 * Token i as an operator: its level (PREC_NONE when it is none there), read as an infix
 * one when an operand comes before it (after_operand), else as a prefix one. After an
 * operand, `x++` and TypeScript's `x!` are postfix: no level, the operand goes on. A
 * member's name (`map.delete`) is no operator.
 */
static unsigned operator_at(const struct tokens *t, uint32_t i, enum lexer x, bool after_operand)
{
	const struct opdef *d = operator_of(t, &t->v[i], x);
	if (!d || member_name(t, i, x)) {
		return PREC_NONE;
	}
	if (after_operand) {
		return d->binary;
	}
	if (x == LEXER_PYTHON && i > 0 && tok_text_eq(t, &t->v[i], "not", 3) &&
	    tok_text_eq(t, &t->v[i - 1], "is", 2)) {
		return PREC_NONE; /* `is not`: one comparison, counted at `is` */
	}
	/* An infix operator with no operand before it is one all the same. */
	return d->prefix != PREC_NONE ? d->prefix : d->binary;
}

/* Does token i end an operand: a name, a literal, a closing bracket? */
static bool ends_operand(const struct tokens *t, uint32_t i, enum lexer x)
{
	const struct token *k = &t->v[i];
	switch (k->kind) {
	case TOK_NUMBER:
	case TOK_STRING:
		return true;
	case TOK_IDENT:
		if (member_name(t, i, x)) {
			return true;
		}
		return !operator_of(t, k, x) && !text_in(t->src + k->off, k->len, kw_start(x)) &&
		       !text_in(t->src + k->off, k->len, kw_inside(x));
	case TOK_PUNCT:
		return (k->flags & TOKF_CLOSE) != 0;
	default:
		return false;
	}
}

/*
 * In C, a `{ }` group right after a call's brackets, `f(...) { ... }`, is a function's body
 * (or a statement's: `FOREACH(x) { ... }`), never part of an expression: a compound
 * literal's `(T){ ... }` has no name before its `(`, a C++ lambda's `[](...) { ... }` a `]`.
 * A metavariable's run stops before it, rather than go on through the functions after it
 * (at the top level of a file nothing else stops it). Token x is an opener.
 */
static bool body_after_call(const struct tokens *t, uint32_t x, enum lexer lx)
{
	if (lx != LEXER_C || x < 2 || t->v[x].kind != TOK_PUNCT || t->src[t->v[x].off] != '{') {
		return false;
	}
	const struct token *c = &t->v[x - 1];
	if (!(c->flags & TOKF_CLOSE) || c->kind != TOK_PUNCT || t->src[c->off] != ')' ||
	    c->pair == TOK_NONE || c->pair == 0) {
		return false;
	}
	const struct token *f = &t->v[c->pair - 1];
	return f->kind == TOK_IDENT && !operator_of(t, f, lx) &&
	       !text_in(t->src + f->off, f->len, kw_c);
}

/*
 * The ends of the runs a metavariable may bind from token ti, in order, into ends (*ne of
 * them). The run stays at its level and stops before a separator or a closing bracket; a
 * run that holds a token after which the expression runs to its end (runs_to_end) ends
 * only there; and a run ends only where it is an operand whole: never right after an
 * operator, nor inside an operand of its loosest operator (`flag && cp` before `.exec`,
 * may_end_before), nor holding an operator looser than one right before it (`b + c` after
 * `a *`; as loose is allowed: `b + c` after `a +`, so that `$Q + $X` still splits a
 * concatenation anywhere). Returns false when the step budget ran out.
 */
static bool metavar_ends(struct mstate *m, uint32_t ti, uint32_t *ends, size_t *ne)
{
	const struct tokens *t = m->t;
	enum lexer lx = m->lx;
	bool generics = lx == LEXER_JS || lx == LEXER_JAVA || lx == LEXER_C;
	/* The operator right before the run binds the run's first operand at least this
	 * tight. */
	unsigned left = PREC_NONE;
	if (ti > 0 && operator_of(t, &t->v[ti - 1], lx)) {
		left = operator_at(t, ti - 1, lx, ti > 1 && ends_operand(t, ti - 2, lx));
	}
	/* operand: the last token ends an operand; prec: the loosest operator so far. */
	bool to_end = false, cut = true, operand = false;
	unsigned prec = PREC_ATOM;
	size_t looked = 0;
	uint32_t x = ti;
	for (size_t n = 0; n < METAVAR_MAX_STEPS && prec >= left; n++) {
		if (x >= t->n) {
			cut = false;
			break;
		}
		const struct token *k = &t->v[x];
		if ((k->flags & TOKF_CLOSE) || (x > ti && is_separator(t, k, lx)) ||
		    (x > ti && (t->v[x - 1].flags & TOKF_STMT_END))) {
			cut = false;
			break;
		}
		unsigned op = PREC_NONE;
		uint32_t next = x + 1, targs;
		if (runs_to_end(t, k, lx)) {
			to_end = true;
			prec = MIN(prec, PREC_COND);
			operand = false;
		} else if (k->flags & TOKF_OPEN) {
			if (k->pair == TOK_NONE || body_after_call(t, x, lx)) {
				cut = false;
				break;
			}
			next = k->pair + 1;
			operand = true;
		} else if (generics && operand && k->kind == TOK_PUNCT && k->len == 1 &&
			   t->src[k->off] == '<' && t->v[x - 1].kind == TOK_IDENT &&
			   (targs = type_args_end(t, x, &looked)) != TOK_NONE) {
			next = targs; /* `f<T>(x)`: the type arguments are part of the operand */
		} else if ((op = operator_at(t, x, lx, operand)) != PREC_NONE) {
			prec = MIN(prec, op);
			operand = false;
		} else if (!operand || !operator_of(t, k, lx)) {
			/* (a postfix operator leaves the operand as it is) */
			operand = k->kind == TOK_IDENT || k->kind == TOK_NUMBER ||
				  k->kind == TOK_STRING;
		}
		x = next;
		if (to_end || op != PREC_NONE || prec < left ||
		    (x < t->n && !may_end_before(t, &t->v[x], lx, prec))) {
			continue;
		}
		ends[(*ne)++] = x;
	}
	/* The end of the expression, unless the run was cut at METAVAR_MAX_STEPS. */
	if (to_end && !cut && prec >= left) {
		ends[(*ne)++] = x;
	}
	/* The type arguments looked at count as steps. */
	m->steps += looked;
	if (m->steps > m->budget) {
		m->exhausted = true;
		return false;
	}
	return true;
}

/* Is element pi the first use of its metavariable in p? */
static bool first_use(const struct pattern *p, size_t pi)
{
	for (size_t j = 0; j < pi; j++) {
		if (p->el[j].kind == PEL_METAVAR && p->el[j].mv == p->el[pi].mv) {
			return false;
		}
	}
	return true;
}

static bool m_metavar(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct pel *e = &m->p->el[pi];
	const struct tokens *t = m->t;
	int mv = e->mv;
	if (m->b.set & (1u << mv)) {
		/* Bound already: the same tokens must follow; pre's first use at pre's own tokens
		 * (pattern_ctx.pre_in_place). */
		if ((m->pre_set & (1u << mv)) && ti != m->b.start[mv] && first_use(m->p, pi)) {
			return false;
		}
		uint32_t n = m->b.end[mv] - m->b.start[mv];
		if (ti + (uint64_t)n > t->n ||
		    !binds_same(t, m->b.start[mv], m->b.end[mv], t, ti, ti + n)) {
			return false;
		}
		return m_el(m, pi + 1, ti + n);
	}
	if (ti >= t->n) {
		return false;
	}
	const struct token *k0 = &t->v[ti];
	if ((k0->flags & TOKF_CLOSE) || is_separator(t, k0, m->lx)) {
		return false;
	}
	if (k0->kind == TOK_PUNCT && k0->len == 1 && t->src[k0->off] == '.') {
		return false;
	}
	if (runs_to_end(t, k0, m->lx)) {
		return false;
	}
	if (k0->kind == TOK_IDENT && text_in(t->src + k0->off, k0->len, kw_start(m->lx))) {
		return false;
	}
	/* Nor at an operator, unless it is a prefix one there: not at one that joins two
	 * operands (`&&`, `in`; `-` after an operand) or ends one (`x++`). */
	const struct opdef *d0 = member_name(t, ti, m->lx) ? NULL : operator_of(t, k0, m->lx);
	if (d0 && (d0->prefix == PREC_NONE || (ti > 0 && ends_operand(t, ti - 1, m->lx)) ||
		   operator_at(t, ti, m->lx, false) == PREC_NONE)) {
		return false;
	}
	/* The possible ends, in order. */
	uint32_t ends[METAVAR_MAX_STEPS];
	size_t ne = 0;
	if (word_language(m->lx)) {
		if (k0->kind == TOK_PUNCT) {
			return false;
		}
		ends[ne++] = ti + 1;
	} else if (!metavar_ends(m, ti, ends, &ne)) {
		return false;
	}
	bool last = pi + 1 == m->p->n;
	for (size_t j = 0; j < ne; j++) {
		uint32_t end = ends[last ? ne - 1 - j : j];
		if (!step(m)) {
			return false;
		}
		if (!next_could_match(m, pi + 1, end)) {
			continue;
		}
		if (!bind_ok(m, mv, ti, end)) {
			continue;
		}
		m->b.start[mv] = ti;
		m->b.end[mv] = end;
		m->b.set |= 1u << mv;
		if (m_el(m, pi + 1, end)) {
			return true;
		}
		m->b.set &= ~(1u << mv);
		if (m->exhausted) {
			return false;
		}
	}
	return false;
}

/*
 * Step over the token at *x, or the whole bracketed group it opens, staying at the same
 * level. Returns false (and leaves *x) at a closing bracket, an unpaired opener or the end.
 */
static bool skip_balanced(const struct tokens *t, uint32_t *x)
{
	if (*x >= t->n) {
		return false;
	}
	const struct token *k = &t->v[*x];
	if (k->flags & TOKF_CLOSE) {
		return false;
	}
	if (k->flags & TOKF_OPEN) {
		if (k->pair == TOK_NONE) {
			return false;
		}
		*x = k->pair + 1;
	} else {
		(*x)++;
	}
	return true;
}

/*
 * The hash of the token the element after an ellipsis must match there, when there is one
 * (a literal, or a metavariable bound already: its first token), into *h. In the shell,
 * Dockerfiles and YAML a word also matches a quoted one: none there.
 */
static bool target_hash(const struct mstate *m, size_t pi, uint32_t *h)
{
	if (pi >= m->p->n || word_language(m->lx)) {
		return false;
	}
	const struct pel *e = &m->p->el[pi];
	switch (e->kind) {
	case PEL_TOKEN:
		if (e->tok_kind == TOK_EOL || e->tok_kind == TOK_INDENT ||
		    e->tok_kind == TOK_DEDENT) {
			return false; /* compared by kind */
		}
		*h = e->hash;
		return true;
	case PEL_STRING:
		*h = e->hash;
		return true;
	case PEL_METAVAR:
		if (!(m->b.set & (1u << e->mv)) || m->b.end[e->mv] <= m->b.start[e->mv]) {
			return false;
		}
		*h = m->t->v[m->b.start[e->mv]].hash;
		return true;
	default:
		return false;
	}
}

/* A run of stopping points a walk found failing, growing as it goes. */
struct walk_run {
	bool on;
	struct pattern_memo_run r;
};

/* Positions [lo, hi] failed too, for a match that ends at need or later. */
static void walk_run_add(struct walk_run *w, uint32_t lo, uint32_t hi, uint32_t need)
{
	if (!w->on) {
		w->on = true;
		w->r = (struct pattern_memo_run){ lo, hi, need, false };
		return;
	}
	w->r.hi = hi;
	w->r.min_end = MAX(w->r.min_end, need);
}

/* Positions [lo, x) failed too (none when x is lo). */
static void walk_run_upto(struct walk_run *w, uint32_t lo, uint32_t x)
{
	if (x > lo) {
		walk_run_add(w, lo, x - 1, 0);
	}
}

/* The run ends (at a stop when terminal): remember it under key (id: its id, or -1). */
static void walk_run_end(struct pattern_memo *memo, const struct pattern_memo_key *key, int *id,
			 struct walk_run *w, bool terminal)
{
	if (!w->on) {
		return;
	}
	w->on = false;
	w->r.terminal = terminal;
	if (*id < 0) {
		*id = pattern_memo_key(memo, key, true);
	}
	pattern_memo_add(memo, *id, &w->r);
}

/*
 * A top-level ellipsis with the stream's index: every stopping point from ti on, as
 * m_ellipsis() tries them, in the same order, but from each straight to the next where the
 * element after the ellipsis can match or the walk may stop (a line end, a block edge),
 * and past the stopping points known to fail: from each of them a walk under the same key
 * failed before. The key is the pattern and element, the block level the walk stays in,
 * and the bindings the rest of the pattern looks at: those of the elements up to the next
 * top-level ellipsis (tier 0: what a stopping point whose search got no further than them
 * depended on), or those of all the elements after it (tier 1). What this walk finds
 * failing is remembered likewise, as runs of stopping points, in both tiers.
 */
static bool m_top_walk(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct pel *e = &m->p->el[pi];
	const struct tokens *t = m->t;
	const struct pattern_index *ix = m->ix;
	bool stop_at_eol = line_language(m->lx) && !m->p->multiline;
	const uint32_t *stops = stop_at_eol ? ix->next_line : ix->next_edge;
	int outer = m->blocks;
	int32_t base = ix->depth[ti] - outer; /* a stopping point x is depth[x] - base deep */
	uint32_t h = 0, cap = ti + ELLIPSIS_MAX_TOKENS;
	bool jump = target_hash(m, pi + 1, &h);
	/* The block level in the key: none when the block the walk stays in never closes
	 * (no token from ti on takes the depth below base) and the pattern's own tokens open
	 * or close no block, so that the walks after it (depth[x] - base deep at x) stay at
	 * base too: then no walk from here on stops at the level, whichever it is, and walks
	 * one block deeper are alike (a file of `{` left open in every copy, each import's
	 * walk one level deeper: the memo did not carry from one to the next, the square of
	 * the file in steps). A walk after a group stepped over whole that holds a `{` left
	 * open (`( { )`) is at another level: what a search that made one finds failing is
	 * not remembered (m->poison), for it depended on the level. */
	int32_t level = base;
	if (!m->p->block_edges && ix->low[MIN((size_t)ti + 1, t->n)] >= base) {
		level = INT32_MIN;
	}
	if (m->flat && base != m->flat_base) {
		m->poison = true;
	}
	struct pattern_memo *memo = m->c->memo;
	struct pattern_memo_key key[2] = {
		{ m->p, (uint32_t)pi * 2, level, m->b.set & e->seg_used, m->b.set & e->seg_used, t,
		  &m->b },
		{ m->p, (uint32_t)pi * 2 + 1, level, m->b.set & e->rest_used,
		  m->b.set & e->rest_used, t, &m->b },
	};
	int id[2] = { pattern_memo_key(memo, &key[0], false),
		      pattern_memo_key(memo, &key[1], false) };
	struct walk_run run[2] = { { 0 }, { 0 } };
	size_t hw = MAX(m->hw, pi + 1);
	bool poison = m->poison, ok = false, terminal = false;
	uint32_t need = m->need_end, x = ti, from = ti; /* from: the first not in a run yet */
	for (;;) {
		if (x > cap) {
			walk_run_upto(&run[0], from, cap + 1);
			walk_run_upto(&run[1], from, cap + 1);
			break;
		}
		struct pattern_memo_run known;
		int tier = -1;
		for (int k = 0; k < 2 && tier < 0; k++) {
			tier = pattern_memo_find(memo, id[k], x, m->c->min_end, &known) ? k : -1;
		}
		if (tier >= 0) {
			if (!step(m)) {
				goto out;
			}
			uint32_t hi = MIN(known.hi, cap);
			if (tier == 0) {
				walk_run_add(&run[0], from, hi, known.min_end);
			} else {
				walk_run_upto(&run[0], from, x);
				walk_run_end(memo, &key[0], &id[0], &run[0], false);
			}
			walk_run_add(&run[1], from, hi, known.min_end);
			hw = MAX(hw, tier == 0 ? e->seg_end - 1u : m->p->n - 1);
			need = MAX(need, known.min_end);
			if (known.hi >= cap) {
				break;
			}
			if (known.terminal) {
				terminal = true;
				break;
			}
			from = x = known.hi + 1;
			if (jump) {
				x = MIN(index_next(ix, h, x), stops[x]);
			}
			continue;
		}
		if (!step(m)) {
			goto out;
		}
		/* What the search from x depends on. */
		m->hw = pi;
		m->poison = false;
		m->need_end = 0;
		if (next_could_match(m, pi + 1, x)) {
			bool flat = m->flat;
			int32_t flat_base = m->flat_base;
			if (level == INT32_MIN) {
				m->flat = true;
				m->flat_base = base;
			}
			m->blocks = ix->depth[x] - base;
			ok = m_el(m, pi + 1, x);
			m->blocks = outer;
			m->flat = flat;
			m->flat_base = flat_base;
		}
		hw = MAX(hw, m->hw);
		poison |= m->poison;
		need = MAX(need, m->need_end);
		if (ok || m->exhausted) {
			goto out;
		}
		if (m->poison) {
			/* It got to the end of the pattern: not to be taken for failing again. */
			for (int k = 0; k < 2; k++) {
				walk_run_upto(&run[k], from, x);
				walk_run_end(memo, &key[k], &id[k], &run[k], false);
			}
		} else {
			if (m->hw < e->seg_end) {
				walk_run_add(&run[0], from, x, m->need_end);
			} else {
				walk_run_upto(&run[0], from, x);
				walk_run_end(memo, &key[0], &id[0], &run[0], false);
			}
			walk_run_add(&run[1], from, x, m->need_end);
		}
		from = x + 1;
		if (x >= t->n) {
			terminal = true;
			break;
		}
		const struct token *k = &t->v[x];
		if ((stop_at_eol && k->kind == TOK_EOL) || (e->cmd && shell_command_end(t, k)) ||
		    (block_edge(t, k) < 0 && ix->depth[x] == base)) {
			terminal = true;
			break;
		}
		x++;
		if (jump) {
			x = MIN(index_next(ix, h, x), stops[x]);
		}
	}
	for (int k = 0; k < 2; k++) {
		walk_run_end(memo, &key[k], &id[k], &run[k], terminal);
	}
out:
	m->hw = hw;
	m->poison = poison;
	m->need_end = need;
	return ok;
}

/* An ellipsis: try every stopping point x from ti on. */
static bool m_ellipsis(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct pel *e = &m->p->el[pi];
	const struct tokens *t = m->t;
	bool top = e->top;
	struct pattern_index *ix = m->c->index && m->c->index->t == t ? m->c->index : NULL;
	/* A pipeline stage counts the pipes it crosses: the walk with the index skips them. */
	if (top && ix && !e->pipe) {
		if (!m->ix && !ix->built && ix->walked >= INDEX_AFTER(t->n)) {
			index_build(ix);
		}
		if (ix->built) {
			m->ix = ix;
			return m_top_walk(m, pi, ti);
		}
	}
	bool stop_at_eol = top && line_language(m->lx) && !m->p->multiline;
	int block = top ? m->blocks : 0, outer = m->blocks;
	unsigned pipes = 0;
	uint32_t x = ti;
	for (size_t span = 0; span <= ELLIPSIS_MAX_TOKENS; span++) {
		if (!step(m)) {
			return false;
		}
		if (top && ix) {
			ix->walked++;
		}
		if (next_could_match(m, pi + 1, x)) {
			m->blocks = top ? block : outer;
			bool ok = m_el(m, pi + 1, x);
			m->blocks = outer;
			if (ok) {
				return true;
			}
		}
		if (m->exhausted || x >= t->n) {
			return false;
		}
		const struct token *k = &t->v[x];
		if (!top) {
			if (!skip_balanced(t, &x)) {
				return false;
			}
			continue;
		}
		/* Top level: cross statements and brackets, enter blocks, never leave the block
		 * the match is in (`$Q = $S` / `...` / `$Q += $T` / `...` / `f($Q)` follows
		 * `$Q += $T` into an `if` and back out of it). */
		if ((stop_at_eol && k->kind == TOK_EOL) || (e->cmd && shell_command_end(t, k))) {
			if (!e->pipe || !is_pipe(t, k)) {
				return false;
			}
			if (++pipes >= PATTERN_MAX_PIPE_STAGES) {
				m->exhausted = true; /* fail closed: given up, not passed */
				return false;
			}
		}
		int edge = block_edge(t, k);
		if (edge < 0 && block == 0) {
			return false;
		}
		block += edge;
		x++;
	}
	return false;
}

/*
 * An ellipsis in a `{ }` body: every stopping point from ti on, into any brackets and
 * blocks and back out of them, up to the `}` of the body (the pair of the token its `{`
 * matched), never past it. Right before the body's `}`, that `}` is the only point.
 */
static bool m_body_ellipsis(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct pel *e = &m->p->el[pi];
	const struct tokens *t = m->t;
	uint32_t close = t->v[m->at[e->open]].pair;
	if (close == TOK_NONE || ti > close) {
		return false;
	}
	const struct pel *next = pi + 1 < m->p->n ? &m->p->el[pi + 1] : NULL;
	if (next && next->body == PEL_BODY_CLOSE && next->open == e->open) {
		return step(m) && m_el(m, pi + 1, close);
	}
	uint32_t x = ti;
	for (size_t span = 0; span <= ELLIPSIS_MAX_TOKENS; span++) {
		if (!step(m)) {
			return false;
		}
		if (next_could_match(m, pi + 1, x) && m_el(m, pi + 1, x)) {
			return true;
		}
		if (m->exhausted || x >= close) {
			return false;
		}
		x++;
	}
	return false;
}

/* "..., ": nothing, or a balanced run followed by a comma (consumed). */
static bool m_ellipsis_comma(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct tokens *t = m->t;
	if (next_could_match(m, pi + 1, ti) && m_el(m, pi + 1, ti)) {
		return true;
	}
	uint32_t x = ti;
	while (x < t->n && !m->exhausted) {
		if (!step(m)) {
			return false;
		}
		const struct token *k = &t->v[x];
		if (k->kind == TOK_PUNCT && k->len == 1 && t->src[k->off] == ',' &&
		    next_could_match(m, pi + 1, x + 1) && m_el(m, pi + 1, x + 1)) {
			return true;
		}
		if (!skip_balanced(t, &x)) {
			return false;
		}
	}
	return false;
}

/*
 * The closing bracket that ends the group token x is in, stepping over the groups at x's
 * level; TOK_NONE when an unpaired opener or the end of the tokens comes first. The last
 * answer is kept: `{ ..., $X, ... }` asks again from every element of the same group, and
 * a token of that group at the same depth after the last start has the same closer (a
 * nested group's tokens are deeper).
 */
static uint32_t group_close(struct mstate *m, uint32_t x)
{
	const struct tokens *t = m->t;
	if (m->gc_close != TOK_NONE && x >= m->gc_from && x < m->gc_close &&
	    t->v[x].depth == t->v[m->gc_from].depth) {
		return step(m) ? m->gc_close : TOK_NONE;
	}
	uint32_t y = x;
	do {
		if (!step(m)) {
			return TOK_NONE;
		}
	} while (skip_balanced(t, &y));
	if (y >= t->n || !(t->v[y].flags & TOKF_CLOSE)) {
		return TOK_NONE;
	}
	m->gc_from = x;
	m->gc_close = y;
	return y;
}

/* ", ..." before a closer: nothing, or a comma and a balanced run up to the closer. */
static bool m_comma_ellipsis(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct tokens *t = m->t;
	if (next_could_match(m, pi + 1, ti) && m_el(m, pi + 1, ti)) {
		return true;
	}
	if (m->exhausted || ti >= t->n || t->v[ti].kind != TOK_PUNCT || t->v[ti].len != 1 ||
	    t->src[t->v[ti].off] != ',') {
		return false;
	}
	/* The closer (what follows in the pattern) can only be the group's own. */
	uint32_t y = group_close(m, ti + 1);
	return y != TOK_NONE && next_could_match(m, pi + 1, y) && m_el(m, pi + 1, y);
}

static bool m_el(struct mstate *m, size_t pi, uint32_t ti)
{
	if (!step(m)) {
		return false;
	}
	if (pi == m->p->n) {
		if (ti <= m->start) {
			m->poison = true;
			return false; /* a match covers at least one token */
		}
		if (m->c->min_end) {
			/* Refused by it, the search fails for any later one too. */
			m->need_end = MAX(m->need_end, m->c->min_end);
			if (ti < m->c->min_end) {
				return false;
			}
		}
		m->poison |= !m->c->collects;
		if (m->c->accept && !m->c->accept(m->c->accept_ud, &m->b, m->start, ti)) {
			/* The acceptance test may match other patterns (refinements) on the same
			 * shared budget: what it took is not this attempt's to take again. */
			if (m->c->steps_left) {
				m->budget = MIN(m->budget, *m->c->steps_left);
			}
			return false;
		}
		m->end = ti;
		return true;
	}
	const struct pel *e = &m->p->el[pi];
	m->hw = MAX(m->hw, pi);
	switch (e->kind) {
	case PEL_TOKEN:
	case PEL_STRING:
	case PEL_STRING_ANY:
		if (ti >= m->t->n || !tok_matches(m->p, e, m->t, &m->t->v[ti], m->lx) ||
		    (e->instr && !instruction_at(m->t, ti))) {
			return false;
		}
		if (e->body == PEL_BODY_OPEN) {
			/* The body that ends the pattern ends the match: one that closes before
			 * where the match must reach is given up before its ellipses walk it. */
			if (pi == m->p->tail_body && m->c->min_end) {
				m->need_end = MAX(m->need_end, m->c->min_end);
				if (m->t->v[ti].pair + 1ull < m->c->min_end) {
					return false;
				}
			}
			m->at[pi] = ti;
		} else if (e->body == PEL_BODY_CLOSE && m->t->v[m->at[e->open]].pair != ti) {
			return false; /* a `}` inside the body its ellipses went into */
		}
		return m_el(m, pi + 1, ti + 1);
	case PEL_METAVAR:
		return m_metavar(m, pi, ti);
	case PEL_ELLIPSIS:
		if (e->body == PEL_BODY_ELLIPSIS) {
			return m_body_ellipsis(m, pi, ti);
		}
		return m_ellipsis(m, pi, ti);
	case PEL_ELLIPSIS_COMMA:
		return m_ellipsis_comma(m, pi, ti);
	case PEL_COMMA_ELLIPSIS:
		return m_comma_ellipsis(m, pi, ti);
	default:
		return false;
	}
}

/*
 * A match that must end at c->min_end or later, of a pattern that ends with a `{ }` body
 * after a head of literals (tail_head): the body starts after as many tokens and bracketed
 * groups from the start (a literal bracket of the pattern matches a group of the source
 * whole). Can it reach min_end, with the body's `}`? Answered without walking the body
 * (nor matching the head: when the tokens there are not the head's, no match starts here
 * anyway).
 */
static bool tail_reaches(struct mstate *m)
{
	const struct tokens *t = m->t;
	uint32_t x = m->start;
	for (size_t i = 0; i < m->p->tail_head; i++) {
		if (!step(m) || !skip_balanced(t, &x)) {
			return false;
		}
	}
	if (x >= t->n || !(t->v[x].flags & TOKF_OPEN) || t->v[x].pair == TOK_NONE) {
		return false;
	}
	return t->v[x].pair + 1ull >= m->c->min_end;
}

bool pattern_match_at(const struct pattern *p, struct pattern_ctx *c, uint32_t start,
		      const struct binds *pre, struct pattern_match *out)
{
	uint32_t at[PATTERN_MAX_ELEMENTS];
	struct mstate m = {
		.p = p,
		.c = c,
		.t = c->t,
		.lx = lang_lexer(c->t->lang),
		.start = start,
		.gc_close = TOK_NONE,
		.at = at,
	};
	c->failure = (struct pattern_failure){ 0 };
	if (start >= c->t->n) {
		return false;
	}
	if (pattern_index_built(c->index, c->t)) {
		m.ix = c->index;
	}
	m.budget = PATTERN_STEP_BUDGET;
	if (c->steps_left) {
		if (*c->steps_left == 0) {
			c->budget_exceeded++;
			return false;
		}
		m.budget = MIN(m.budget, *c->steps_left);
	}
	if (pre) {
		m.b = *pre;
		/* Only the metavariables this pattern uses constrain it. */
		m.b.set &= p->mv_used;
		if (c->pre_in_place) {
			m.pre_set = m.b.set;
		}
	}
	bool reaches = true;
	if (c->min_end && p->tail_head != PATTERN_NO_TAIL) {
		m.need_end = c->min_end;
		reaches = tail_reaches(&m);
	}
	bool ok = reaches && m_el(&m, 0, start);
	if (c->steps_left) {
		*c->steps_left -= MIN(m.steps, *c->steps_left);
	}
	if (m.exhausted) {
		c->budget_exceeded++;
		return false;
	}
	if (!ok) {
		c->failure.clean = !m.poison;
		c->failure.needs =
			(pre ? pre->set & p->mv_used : 0) & p->el[MIN(m.hw, p->n - 1)].used_upto;
		c->failure.min_end = m.need_end;
	}
	if (ok && out) {
		out->start = start;
		out->end = m.end;
		out->b = m.b;
		if (pre) {
			/* Keep the caller's other bindings. */
			for (int i = 0; i < PATTERN_MAX_MV; i++) {
				if ((pre->set & (1u << i)) && !(out->b.set & (1u << i))) {
					out->b.start[i] = pre->start[i];
					out->b.end[i] = pre->end[i];
					out->b.set |= 1u << i;
				}
			}
		}
	}
	return ok;
}

void pattern_blocks(const struct tokens *t, uint32_t *in, uint32_t *close)
{
	/* The open blocks are a stack linked through in[]: an opener's in[] is the block
	 * around it. A closer with no block open is in none (the ellipsis stops there too). */
	uint32_t cur = PATTERN_NO_BLOCK;
	for (uint32_t i = 0; i < t->n; i++) {
		int e = block_edge(t, &t->v[i]);
		if (e < 0 && cur != PATTERN_NO_BLOCK) {
			close[cur] = i;
			cur = in[cur];
			in[i] = cur;
			continue;
		}
		in[i] = cur;
		if (e > 0) {
			close[i] = (uint32_t)t->n;
			cur = i;
		}
	}
}

void pattern_groups(const struct tokens *t, uint32_t *in)
{
	uint32_t cur = TOK_NONE;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct token *k = &t->v[i];
		if ((k->flags & TOKF_CLOSE) && k->pair != TOK_NONE && k->pair == cur) {
			cur = in[cur];
			in[i] = cur;
			continue;
		}
		in[i] = cur;
		if ((k->flags & TOKF_OPEN) && k->pair != TOK_NONE) {
			cur = i;
		}
	}
}

bool pattern_tail_starts(const struct pattern *p, const struct tokens *t, const uint32_t *in,
			 uint32_t x, bool (*fn)(void *ud, uint32_t start), void *ud)
{
	enum lexer lx = lang_lexer(t->lang);
	for (; x != TOK_NONE && x < t->n; x = in[x]) {
		uint32_t y = x;
		for (size_t j = 0;; j++) {
			if (tok_matches(p, &p->el[0], t, &t->v[y], lx) && fn(ud, y)) {
				return true;
			}
			if (j == p->tail_head || y == 0) {
				break;
			}
			/* The token or group before y at its level; the group's opener ends it. */
			const struct token *k = &t->v[y - 1];
			if ((k->flags & TOKF_OPEN) && k->pair != TOK_NONE) {
				break;
			}
			y = (k->flags & TOKF_CLOSE) && k->pair != TOK_NONE ? k->pair : y - 1;
		}
	}
	return false;
}

bool pattern_same_starts(const struct pattern *p, const struct pattern *q)
{
	if (p->lang != q->lang || p->anchor != q->anchor || p->lead_fixed != q->lead_fixed ||
	    p->anchor_depth != q->anchor_depth || p->lead_braces != q->lead_braces) {
		return false;
	}
	for (size_t i = 0; i <= p->anchor; i++) {
		const struct pel *a = &p->el[i], *b = &q->el[i];
		if (a->kind != b->kind) {
			return false;
		}
		if ((a->kind == PEL_TOKEN || a->kind == PEL_STRING) &&
		    (a->tok_kind != b->tok_kind || a->hash != b->hash || a->len != b->len ||
		     memcmp(p->src + a->off, q->src + b->off, a->len) != 0)) {
			return false;
		}
	}
	return true;
}

bool pattern_is_anchor(const struct pattern *p, const struct tokens *t, const struct token *k)
{
	return tok_matches(p, &p->el[p->anchor], t, k, lang_lexer(t->lang));
}

bool pattern_starts(const struct pattern *p, const struct tokens *t, uint32_t a,
		    bool (*fn)(void *ud, uint32_t start), void *ud)
{
	enum lexer lx = lang_lexer(t->lang);
	if (p->lead_fixed) {
		if (a < p->anchor) {
			return false;
		}
		/* The tokens before the anchor are literals: a start where they are not there
		 * (`from os import` at `from re import`) is not worth a match. */
		uint32_t s = a - (uint32_t)p->anchor;
		for (size_t i = 0; i < p->anchor; i++) {
			if (!tok_matches(p, &p->el[i], t, &t->v[s + i], lx)) {
				return false;
			}
		}
		return fn(ud, s);
	}
	/* Walk back over the statement (jumping over bracketed groups) to a boundary. An
	 * anchor nested in brackets of the pattern first leaves as many enclosing groups. */
	uint32_t lo = a;
	unsigned exits = 0, braces = 0;
	for (size_t n = 0; lo > 0 && n < LEAD_MAX_TOKENS; n++) {
		const struct token *k = &t->v[lo - 1];
		bool inside = exits < p->anchor_depth;
		if (!inside && (k->flags & TOKF_STMT_END)) {
			break;
		}
		/* A `}` ends a block, which the match cannot start before; unless the pattern
		 * has `{ }` groups before its anchor (`{ ..., $X, ... } = require(...)`): as
		 * many are stepped over. */
		if ((k->flags & TOKF_CLOSE) && k->kind == TOK_PUNCT && k->pair != TOK_NONE &&
		    (inside || t->src[k->off] != '}' || braces < p->lead_braces)) {
			braces += !inside && t->src[k->off] == '}';
			lo = k->pair;
			continue;
		}
		if (k->flags & TOKF_OPEN) {
			if (!inside || k->kind != TOK_PUNCT) {
				break;
			}
			exits++;
			lo--;
			continue;
		}
		if (inside) {
			lo--;
			continue;
		}
		if (k->kind == TOK_EOL || k->kind == TOK_INDENT || k->kind == TOK_DEDENT ||
		    (k->flags & (TOKF_CLOSE | TOKF_STMT_END))) {
			break;
		}
		if (k->kind == TOK_PUNCT && k->len == 1 &&
		    (t->src[k->off] == ';' || t->src[k->off] == ',')) {
			break;
		}
		if (word_language(lx) && k->kind == TOK_PUNCT) {
			break;
		}
		lo--;
	}
	/* A pattern that starts with a literal can only start where it occurs. */
	const struct pel *e0 = &p->el[0];
	bool lit = e0->kind == PEL_TOKEN || e0->kind == PEL_STRING || e0->kind == PEL_STRING_ANY;
	/* One that starts with a metavariable and a literal before the anchor (`$FN =
	 * $SP.run`, `$X.innerHTML = ...`) only before the literal's last occurrence ahead of
	 * the anchor: the metavariable binds a token at least, so the literal comes after
	 * the start. (From every token of a long statement, seven such patterns of a rule
	 * took 20 steps a token.) */
	uint32_t end = a + 1; /* the starts: [lo, end) */
	if (e0->kind == PEL_METAVAR && p->anchor > 1 &&
	    (p->el[1].kind == PEL_TOKEN || p->el[1].kind == PEL_STRING)) {
		uint32_t l = a;
		while (l > lo && !tok_matches(p, &p->el[1], t, &t->v[l - 1], lx)) {
			l--;
		}
		end = l > lo ? l - 1 : lo; /* before the literal's last occurrence, l - 1 */
	}
	for (uint32_t s = lo; s < end; s++) {
		if (lit && !tok_matches(p, e0, t, &t->v[s], lx)) {
			continue;
		}
		if (fn(ud, s)) {
			return true;
		}
	}
	return false;
}

void binds_text(const struct tokens *t, const struct binds *b, int mv, const char **s, size_t *n)
{
	if (mv < 0 || mv >= PATTERN_MAX_MV || !(b->set & (1u << mv)) ||
	    b->end[mv] <= b->start[mv]) {
		*s = "";
		*n = 0;
		return;
	}
	const struct token *first = &t->v[b->start[mv]], *last = &t->v[b->end[mv] - 1];
	*s = t->src + first->off;
	*n = last->off + last->len - first->off;
}

bool binds_same(const struct tokens *ta, uint32_t sa, uint32_t ea, const struct tokens *tb,
		uint32_t sb, uint32_t eb)
{
	if (ea - sa != eb - sb) {
		return false;
	}
	for (uint32_t i = 0; i < ea - sa; i++) {
		const struct token *x = &ta->v[sa + i], *y = &tb->v[sb + i];
		if (x->kind != y->kind || x->len != y->len || x->hash != y->hash ||
		    memcmp(ta->src + x->off, tb->src + y->off, x->len) != 0) {
			return false;
		}
	}
	return true;
}
