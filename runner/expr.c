/*
 * expr.c - recursive-descent parser and evaluator for `if:` conditions. Recursion depth
 * is bounded (MAX_DEPTH) so a condition of a thousand parentheses is an error, not a
 * stack overflow; so is the number of && and || (MAX_OPS): a chain of them is a tree as
 * deep as it is long, which evaluation walks recursively.
 */
#include "expr.h"

#include "arena.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

#define MAX_DEPTH 64
#define MAX_OPS	  1024

enum op {
	OP_STR, /* literal */
	OP_VAR, /* branch/tag/event/commit */
	OP_ENV, /* env.NAME */
	OP_NOT,
	OP_AND,
	OP_OR,
	OP_EQ,
	OP_NE,
	OP_MATCH,
	OP_NOMATCH,
	OP_TRUTH, /* a string used as a condition */
};

enum var {
	VAR_BRANCH,
	VAR_TAG,
	VAR_EVENT,
	VAR_COMMIT,
};

struct expr {
	enum op op;
	const char *str; /* OP_STR value, OP_ENV name */
	size_t off;	 /* OP_ENV: where "env." starts in the source */
	enum var var;
	struct expr *a, *b;
	bool is_bool; /* result is a condition, not a string */
};

struct parser {
	struct arena *arena;
	const char *src, *p;
	struct expr_error *err;
	int depth;
	int ops;  /* && and || so far */
	bool rhs; /* parsing the right side of a comparison */
};

static int error_at(struct parser *ps, const char *at, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int error_at(struct parser *ps, const char *at, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	ps->err->offset = (size_t)(at - ps->src);
	ps->err->hint = hint;
	return -EINVAL;
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') {
		ps->p++;
	}
}

static bool accept(struct parser *ps, const char *tok)
{
	skip_ws(ps);
	size_t n = strlen(tok);
	if (strncmp(ps->p, tok, n) == 0) {
		ps->p += n;
		return true;
	}
	return false;
}

static struct expr *node(struct parser *ps, enum op op, struct expr *a, struct expr *b)
{
	struct expr *e = arena_alloc(ps->arena, sizeof(*e));
	if (e) {
		e->op = op;
		e->a = a;
		e->b = b;
		e->is_bool = op != OP_STR && op != OP_VAR && op != OP_ENV;
	}
	return e;
}

static int parse_or(struct parser *ps, struct expr **out);

static struct expr *as_bool(struct parser *ps, struct expr *e)
{
	return e->is_bool ? e : node(ps, OP_TRUTH, e, NULL);
}

static int parse_string(struct parser *ps, struct expr **out)
{
	char q = *ps->p;
	const char *start = ps->p++;
	char buf[1024];
	size_t n = 0;
	while (*ps->p && *ps->p != q) {
		char c = *ps->p++;
		if (c == '\\' && q == '"' && *ps->p) {
			c = *ps->p++;
		}
		if (n + 1 >= sizeof(buf)) {
			return error_at(ps, start, NULL, "string literal longer than %zu bytes",
					sizeof(buf) - 1);
		}
		buf[n++] = c;
	}
	if (*ps->p != q) {
		return error_at(ps, start, "close the string with a matching quote",
				"unterminated string literal");
	}
	ps->p++;
	*out = node(ps, OP_STR, NULL, NULL);
	if (!*out) {
		return -ENOMEM;
	}
	(*out)->str = arena_strndup(ps->arena, buf, n);
	return 0;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int parse_primary(struct parser *ps, struct expr **out)
{
	skip_ws(ps);
	const char *at = ps->p;
	if (*ps->p == '(') {
		ps->p++;
		if (++ps->depth > MAX_DEPTH) {
			return error_at(ps, at, NULL, "condition nested too deeply");
		}
		/* A condition of its own: its words are read as on a comparison's left. */
		bool rhs = ps->rhs;
		ps->rhs = false;
		int r = parse_or(ps, out);
		ps->rhs = rhs;
		ps->depth--;
		if (r < 0) {
			return r;
		}
		if (!accept(ps, ")")) {
			return error_at(ps, ps->p, "add the missing ')'", "expected ')'");
		}
		return 0;
	}
	if (*ps->p == '"' || *ps->p == '\'') {
		return parse_string(ps, out);
	}
	if (!isalpha((unsigned char)*ps->p)) {
		if (!*ps->p) {
			return error_at(ps, at, NULL, "condition ends where a value was expected");
		}
		return error_at(ps, at,
				"compare a variable with a quoted string: branch == \"main\"",
				"unexpected '%c'", *ps->p);
	}
	const char *s = ps->p;
	while (ident_char(*ps->p) || *ps->p == '.') {
		ps->p++;
	}
	size_t n = (size_t)(ps->p - s);
	static const struct {
		const char *name;
		enum var var;
	} vars[] = {
		{ "branch", VAR_BRANCH },
		{ "tag", VAR_TAG },
		{ "event", VAR_EVENT },
		{ "commit", VAR_COMMIT },
	};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		if (strlen(vars[i].name) == n && strncmp(s, vars[i].name, n) == 0) {
			*out = node(ps, OP_VAR, NULL, NULL);
			if (!*out) {
				return -ENOMEM;
			}
			(*out)->var = vars[i].var;
			return 0;
		}
	}
	if ((n == 4 && strncmp(s, "true", 4) == 0) || (n == 5 && strncmp(s, "false", 5) == 0)) {
		*out = node(ps, OP_STR, NULL, NULL);
		if (!*out) {
			return -ENOMEM;
		}
		(*out)->str = n == 4 ? "true" : "";
		return 0;
	}
	if (n > 4 && strncmp(s, "env.", 4) == 0) {
		for (size_t i = 4; i < n; i++) {
			if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) {
				return error_at(ps, s + i, NULL,
						"invalid character in variable name");
			}
		}
		*out = node(ps, OP_ENV, NULL, NULL);
		if (!*out) {
			return -ENOMEM;
		}
		(*out)->str = arena_strndup(ps->arena, s + 4, n - 4);
		(*out)->off = (size_t)(s - ps->src);
		return 0;
	}
	char word[64];
	snprintf(word, sizeof(word), "%.*s", (int)MIN(n, 60), s);
	static const char *const known[] = { "branch", "tag", "event", "commit", "true", "false" };
	if (ps->rhs) {
		/* `branch == main`: a string left unquoted, not a variable misspelt. */
		char *hint = arena_printf(ps->arena, "a string is written in quotes: \"%s\"", word);
		return error_at(ps, s, hint, "unknown variable '%s'", word);
	}
	const char *near = closest_word(word, known, ARRAY_SIZE(known));
	if (near) {
		char *hint = arena_printf(ps->arena, "did you mean `%s`?", near);
		return error_at(ps, s, hint, "unknown variable '%s'", word);
	}
	return error_at(ps, s, "variables are branch, tag, event, commit and env.NAME",
			"unknown variable '%s'", word);
}

static int parse_cmp(struct parser *ps, struct expr **out)
{
	struct expr *a, *b;
	int r = parse_primary(ps, &a);
	if (r < 0) {
		return r;
	}
	skip_ws(ps);
	static const struct {
		const char *tok;
		enum op op;
	} ops[] = { { "==", OP_EQ }, { "!=", OP_NE }, { "=~", OP_MATCH }, { "!~", OP_NOMATCH } };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		const char *at = ps->p;
		if (accept(ps, ops[i].tok)) {
			if (a->is_bool) {
				return error_at(ps, at, "compare a variable with a string",
						"'%s' needs a string on its left", ops[i].tok);
			}
			const char *bat = ps->p;
			ps->rhs = true;
			r = parse_primary(ps, &b);
			ps->rhs = false;
			if (r < 0) {
				return r;
			}
			if (b->is_bool) {
				return error_at(ps, bat, NULL, "'%s' needs a string on its right",
						ops[i].tok);
			}
			*out = node(ps, ops[i].op, a, b);
			return *out ? 0 : -ENOMEM;
		}
	}
	if (*ps->p == '=' && ps->p[1] != '=' && ps->p[1] != '~') {
		return error_at(ps, ps->p, "use '==' to compare", "unexpected '='");
	}
	*out = a;
	return 0;
}

static int parse_unary(struct parser *ps, struct expr **out)
{
	skip_ws(ps);
	if (*ps->p == '!' && ps->p[1] != '=' && ps->p[1] != '~') {
		const char *at = ps->p++;
		if (++ps->depth > MAX_DEPTH) {
			return error_at(ps, at, NULL, "condition nested too deeply");
		}
		struct expr *a;
		int r = parse_unary(ps, &a);
		ps->depth--;
		if (r < 0) {
			return r;
		}
		*out = node(ps, OP_NOT, as_bool(ps, a), NULL);
		return *out ? 0 : -ENOMEM;
	}
	return parse_cmp(ps, out);
}

/* One more && or || (just accepted, at `at`): an error past MAX_OPS. */
static int count_op(struct parser *ps, const char *at)
{
	if (++ps->ops > MAX_OPS) {
		return error_at(ps, at, "split the condition, or move its logic into the script",
				"more than %d && and || operators in one condition", MAX_OPS);
	}
	return 0;
}

static int parse_and(struct parser *ps, struct expr **out)
{
	struct expr *a, *b;
	int r = parse_unary(ps, &a);
	while (r == 0 && accept(ps, "&&")) {
		r = count_op(ps, ps->p - 2);
		r = r < 0 ? r : parse_unary(ps, &b);
		if (r == 0) {
			a = node(ps, OP_AND, as_bool(ps, a), as_bool(ps, b));
			r = a ? 0 : -ENOMEM;
		}
	}
	*out = a;
	return r;
}

static int parse_or(struct parser *ps, struct expr **out)
{
	struct expr *a, *b;
	int r = parse_and(ps, &a);
	while (r == 0 && accept(ps, "||")) {
		r = count_op(ps, ps->p - 2);
		r = r < 0 ? r : parse_and(ps, &b);
		if (r == 0) {
			a = node(ps, OP_OR, as_bool(ps, a), as_bool(ps, b));
			r = a ? 0 : -ENOMEM;
		}
	}
	*out = a;
	return r;
}

int expr_parse(struct arena *arena, const char *src, struct expr **out, struct expr_error *err)
{
	struct parser ps = { .arena = arena, .src = src, .p = src, .err = err };
	struct expr *e;
	memset(err, 0, sizeof(*err));
	int r = parse_or(&ps, &e);
	if (r < 0) {
		return r;
	}
	skip_ws(&ps);
	if (*ps.p) {
		if (*ps.p == '&' || *ps.p == '|') {
			return error_at(&ps, ps.p, "use '&&' and '||'", "unexpected '%c'", *ps.p);
		}
		return error_at(&ps, ps.p, "join conditions with && or ||",
				"unexpected text after the condition");
	}
	*out = as_bool(&ps, e);
	return *out ? 0 : -ENOMEM;
}

static const char *value_of(const struct expr *e, const struct expr_vars *v)
{
	const char *s = NULL;
	switch (e->op) {
	case OP_STR:
		s = e->str;
		break;
	case OP_VAR:
		switch (e->var) {
		case VAR_BRANCH:
			s = v->branch;
			break;
		case VAR_TAG:
			s = v->tag;
			break;
		case VAR_EVENT:
			s = v->event;
			break;
		case VAR_COMMIT:
			s = v->commit;
			break;
		}
		break;
	case OP_ENV:
		s = v->env ? v->env(v->userdata, e->str) : NULL;
		break;
	default:
		break;
	}
	return s ? s : "";
}

int expr_eval(const struct expr *e, const struct expr_vars *v)
{
	int r;
	switch (e->op) {
	case OP_NOT:
		r = expr_eval(e->a, v);
		return r < 0 ? r : !r;
	case OP_AND:
		r = expr_eval(e->a, v);
		return r <= 0 ? r : expr_eval(e->b, v);
	case OP_OR:
		r = expr_eval(e->a, v);
		return r != 0 ? r : expr_eval(e->b, v);
	case OP_EQ:
		return strcmp(value_of(e->a, v), value_of(e->b, v)) == 0;
	case OP_NE:
		return strcmp(value_of(e->a, v), value_of(e->b, v)) != 0;
	case OP_MATCH:
		return glob_match(value_of(e->b, v), value_of(e->a, v));
	case OP_NOMATCH:
		r = glob_match(value_of(e->b, v), value_of(e->a, v));
		return r < 0 ? r : !r;
	case OP_TRUTH:
		return *value_of(e->a, v) != '\0';
	default:
		return *value_of(e, v) != '\0';
	}
}

void expr_each_env(const struct expr *e, void (*fn)(void *ud, const char *name, size_t offset),
		   void *ud)
{
	if (!e) {
		return;
	}
	if (e->op == OP_ENV) {
		fn(ud, e->str, e->off);
	}
	expr_each_env(e->a, fn, ud);
	expr_each_env(e->b, fn, ud);
}

/* Match a bracket class at p against c; returns the position after ']' or NULL. */
static const char *match_class(const char *p, char c, bool *matched)
{
	bool neg = false, ok = false;
	p++;
	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	const char *start = p;
	while (*p && (*p != ']' || p == start)) {
		char lo = *p, hi = *p;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			p += 2;
		}
		if (c >= lo && c <= hi) {
			ok = true;
		}
		p++;
	}
	if (*p != ']') {
		return NULL;
	}
	*matched = ok != neg;
	return p + 1;
}

/*
 * Glob match: '*' any run of characters but '/', '**' any run, '?' one character but '/',
 * [...] a class (not '/'), '\\' quotes the next character. Dynamic programming over the
 * subject's positions, pattern token by pattern token: time pattern length x subject
 * length, whatever the pattern (a backtracking matcher with one backtrack point missed
 * matches that mix '**' and '*', and one with many can take exponential time).
 */
int glob_match(const char *pat, const char *s)
{
	size_t n = strlen(s), plen = strlen(pat);
	if (plen && (n + 1) > GLOB_MAX_CELLS / plen) {
		return -E2BIG;
	}
	bool *cur = xcalloc(n + 1, sizeof(bool)), *next = xcalloc(n + 1, sizeof(bool));
	cur[0] = true; /* the empty pattern matches the empty prefix */
	bool alive = true;
	while (*pat && alive) {
		if (*pat == '*') {
			bool any = pat[1] == '*';
			while (*pat == '*') {
				pat++;
			}
			next[0] = cur[0];
			for (size_t j = 1; j <= n; j++) {
				next[j] = cur[j] || (next[j - 1] && (any || s[j - 1] != '/'));
			}
		} else {
			const char *tok = pat;
			const char *after = NULL;
			if (*pat == '[') {
				bool dummy;
				after = match_class(pat, 'x', &dummy);
			}
			if (!after) {
				after = pat + (*pat == '\\' && pat[1] ? 2 : 1);
			}
			next[0] = false;
			for (size_t j = 1; j <= n; j++) {
				char c = s[j - 1];
				bool ok;
				if (*tok == '?') {
					ok = c != '/';
				} else if (*tok == '[' && after != tok + 1) {
					bool m = false;
					match_class(tok, c, &m);
					ok = m && c != '/';
				} else {
					ok = c == (*tok == '\\' && tok[1] ? tok[1] : *tok);
				}
				next[j] = cur[j - 1] && ok;
			}
			pat = after;
		}
		bool *t = cur;
		cur = next;
		next = t;
		/* No prefix matches any more: nothing later can match. */
		alive = memchr(cur, true, n + 1) != NULL;
	}
	bool r = alive && cur[n];
	free(cur);
	free(next);
	return r;
}
