/*
 * expr.h - the `if:` condition language.
 *
 *   expr    := or
 *   or      := and ( "||" and )*
 *   and     := unary ( "&&" unary )*
 *   unary   := "!" unary | cmp
 *   cmp     := primary ( ("==" | "!=" | "=~" | "!~") primary )?
 *   primary := "(" expr ")" | STRING | "true" | "false" | VAR
 *   VAR     := branch | tag | event | commit | env.NAME
 *
 * Every operand is a string; a string on its own is true when it is not empty. `=~` matches
 * the left side against a glob on the right: `*` matches within one path segment, `**`
 * across segments, `?` one character, `[...]` a class. Parsing happens once, when the
 * pipeline is loaded. Evaluation fails only when a glob match would cost more than
 * GLOB_MAX_CELLS (pattern length x subject length: both may come from `env:`).
 */
#ifndef RUNNER_EXPR_H
#define RUNNER_EXPR_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct expr;

struct expr_error {
	size_t offset; /* byte offset in the source where the problem is */
	char msg[160];
	const char *hint; /* static string or NULL */
};

/* Parse src. Nodes live in arena. Returns 0 or -EINVAL with *err filled. */
int expr_parse(struct arena *arena, const char *src, struct expr **out, struct expr_error *err);

typedef const char *(*expr_env_fn)(void *userdata, const char *name);

struct expr_vars {
	const char *branch, *tag, *event, *commit;
	expr_env_fn env; /* returns NULL for an unset name (treated as "") */
	void *userdata;
};

/* 1 true, 0 false, or -E2BIG (a glob match too large). */
int expr_eval(const struct expr *e, const struct expr_vars *vars);

/* Call fn for each env.NAME the expression reads, with the name's byte offset in the
 * source (the "env." included). */
void expr_each_env(const struct expr *e, void (*fn)(void *ud, const char *name, size_t offset),
		   void *ud);

#define GLOB_MAX_CELLS (64u << 20)

/* Glob match as used by `=~`: 1, 0, or -E2BIG when the pattern's length times the
 * subject's passes GLOB_MAX_CELLS. */
int glob_match(const char *pattern, const char *s);

#endif
