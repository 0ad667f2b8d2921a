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
 * pipeline is loaded; evaluation cannot fail.
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

bool expr_eval(const struct expr *e, const struct expr_vars *vars);

/* Glob match as used by `=~`. */
bool glob_match(const char *pattern, const char *s);

#endif
