/*
 * interp.h - `${NAME}` interpolation in `env:` and `with:` values.
 *
 * NAME is [A-Za-z_][A-Za-z0-9_]*. `$${` stands for a literal `${`. A `$` not followed by
 * `{` is left alone (shell scripts keep their own `$VAR`). An unknown name is an error at
 * validation time, so expansion at run time cannot meet one.
 */
#ifndef RUNNER_INTERP_H
#define RUNNER_INTERP_H

#include <stdbool.h>
#include <stddef.h>

#define INTERP_MAX (1u << 20)

typedef const char *(*interp_lookup_fn)(void *userdata, const char *name);

/* The longest variable name (an env: entry's name is refused above it). */
#define INTERP_NAME_MAX 128

struct interp_error {
	size_t offset; /* of the `$` that starts the bad reference */
	char name[INTERP_NAME_MAX + 1];
	char msg[160];
};

/*
 * Check every reference in s. lookup returns non-NULL for known names. Returns 0, or
 * -EINVAL for a malformed reference, -ENOENT for an unknown name (err->name holds it).
 */
int interp_check(const char *s, interp_lookup_fn lookup, void *userdata, struct interp_error *err);

/*
 * Expand s; unknown names expand to "" (they were refused at validation). Returns a heap
 * string (caller frees), or NULL when the result would pass INTERP_MAX bytes.
 */
char *interp_expand(const char *s, interp_lookup_fn lookup, void *userdata);

/* Does s contain anything to expand (a `${` or `$${`)? */
bool interp_needed(const char *s);

#endif
