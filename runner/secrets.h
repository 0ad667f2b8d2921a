/*
 * secrets.h - the secret store: named values that only the stages which list them in
 * `secrets:` receive, as environment variables, and that are masked everywhere the
 * runner writes (live output, logs, reports).
 *
 * Sources, later ones overriding earlier ones: a secrets file (YAML mapping of name to
 * value; refused unless it is a regular file owned by the user with no group or other
 * permission bits), then RUNNER_SECRET_<NAME> environment variables. The server adds its
 * own source through secrets_put(). Names compare case-insensitively.
 */
#ifndef RUNNER_SECRETS_H
#define RUNNER_SECRETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct diag_list;
struct mask;
struct secret_store;

struct secret_store *secrets_new(void);
void secrets_free(struct secret_store *s);

/*
 * Add or replace a secret. Returns 0, or -EINVAL (bad name, or a value too short to be
 * masked reliably), -E2BIG (value too long).
 */
int secrets_put(struct secret_store *s, const char *name, const char *value, const char *source);

/* Whether name is a valid secret name (letters, digits and '_', starting with a letter, at
 * most 64 bytes). Only such a name is ever quoted in an error: anything else in a name's
 * place may be a secret written in the wrong place (`sk-live-...: DEPLOY_KEY`). */
bool secrets_valid_name(const char *name);

/* Take RUNNER_SECRET_<NAME>=value entries from an environment block. */
int secrets_load_env(struct secret_store *s, char *const *envp, struct diag_list *dl);

/*
 * Load a secrets file. A missing file is an error only when `required` (it was named
 * explicitly); permissions are always checked. Returns 0 or -errno with diagnostics.
 */
int secrets_load_file(struct secret_store *s, const char *path, bool required,
		      struct diag_list *dl);

/* Value of a secret, or NULL. */
const char *secrets_get(const struct secret_store *s, const char *name);
size_t secrets_count(const struct secret_store *s);

/* The mask holding every secret value (owned by the store). */
const struct mask *secrets_mask(const struct secret_store *s);

/* Every string in j (objects and arrays, at most 64 deep; deeper ones become the
 * replacement) redacted with m, in place. m NULL: nothing is done. */
void secrets_mask_json(const struct mask *m, json_t *j);

/* Mask value in the run's output without making it a secret any stage can ask for (a
 * clone URL's credential). Returns 0, or mask_add()'s error (too short to mask). */
int secrets_mask_add(struct secret_store *s, const char *value);

/* Default secrets file: $XDG_CONFIG_HOME/runner/secrets.yml or ~/.config/... Caller frees. */
char *secrets_default_path(void);

#endif
