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
			if (k->kind == TOK_EOL && el->top) {
				p->multiline = true;
			}
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
			continue;
		}
		p->el[w++] = p->el[i];
	}
	p->n = w;

	bool *deep = xcalloc(p->n, sizeof(*deep));
	mark_bodies(p, lx, deep);
	tail_shape(p);

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

static bool m_metavar(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct pel *e = &m->p->el[pi];
	const struct tokens *t = m->t;
	int mv = e->mv;
	if (m->b.set & (1u << mv)) {
		/* Bound already: the same tokens must follow. */
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

/* An ellipsis: try every stopping point x from ti on. */
static bool m_ellipsis(struct mstate *m, size_t pi, uint32_t ti)
{
	const struct pel *e = &m->p->el[pi];
	const struct tokens *t = m->t;
	bool top = e->top;
	bool stop_at_eol = top && line_language(m->lx) && !m->p->multiline;
	int block = top ? m->blocks : 0, outer = m->blocks;
	uint32_t x = ti;
	for (size_t span = 0; span <= ELLIPSIS_MAX_TOKENS; span++) {
		if (!step(m)) {
			return false;
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
		if (stop_at_eol && k->kind == TOK_EOL) {
			return false;
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
			return false; /* a match covers at least one token */
		}
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
	switch (e->kind) {
	case PEL_TOKEN:
	case PEL_STRING:
	case PEL_STRING_ANY:
		if (ti >= m->t->n || !tok_matches(m->p, e, m->t, &m->t->v[ti], m->lx)) {
			return false;
		}
		if (e->body == PEL_BODY_OPEN) {
			/* The body that ends the pattern ends the match: one that closes before
			 * where the match must reach is given up before its ellipses walk it. */
			if (pi == m->p->tail_body && m->c->min_end &&
			    m->t->v[ti].pair + 1ull < m->c->min_end) {
				return false;
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
	if (start >= c->t->n) {
		return false;
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
	}
	bool ok = (!c->min_end || p->tail_head == PATTERN_NO_TAIL || tail_reaches(&m)) &&
		  m_el(&m, 0, start);
	if (c->steps_left) {
		*c->steps_left -= MIN(m.steps, *c->steps_left);
	}
	if (m.exhausted) {
		c->budget_exceeded++;
		return false;
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
	for (uint32_t s = lo; s <= a; s++) {
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
