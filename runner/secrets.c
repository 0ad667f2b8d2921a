/*
 * secrets.c - the secret store.
 */
#include "secrets.h"

#include "arena.h"
#include "diag.h"
#include "mask.h"
#include "output.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define SECRETS_FILE_MAX (1u << 20)
#define SECRETS_MAX	 1024

struct secret {
	char *name; /* upper case */
	char *value;
	char *source;
};

struct secret_store {
	struct secret *v;
	size_t n, cap;
	struct mask *mask;
};

struct secret_store *secrets_new(void)
{
	struct secret_store *s = xcalloc(1, sizeof(*s));
	s->mask = mask_new();
	return s;
}

void secrets_free(struct secret_store *s)
{
	if (!s) {
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		explicit_bzero(s->v[i].value, strlen(s->v[i].value));
		free(s->v[i].name);
		free(s->v[i].value);
		free(s->v[i].source);
	}
	free(s->v);
	mask_free(s->mask);
	free(s);
}

static char *upper(const char *name)
{
	char *u = xstrdup(name);
	for (char *p = u; *p; p++) {
		*p = (char)toupper((unsigned char)*p);
	}
	return u;
}

static bool valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 64 || !isalpha((unsigned char)name[0])) {
		return false;
	}
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			return false;
		}
	}
	return true;
}

bool secrets_valid_name(const char *name)
{
	return valid_name(name);
}

/*
 * A value and the forms the runner's own output filters make of it: a stage's output
 * reaches the masker without its control characters and escape sequences, a lone CR made
 * a line break (output_clean), and a message or a terminal line without either
 * (output_clean_line). "abc123\x1bdef456" is printed "abc123ef456", and must be masked
 * so. A form too short to mask is left out: the value's other forms still are.
 */
static int mask_value(struct mask *m, const char *value)
{
	int r = mask_add(m, value, strlen(value));
	if (r < 0) {
		return r;
	}
	char *forms[] = { output_clean(value), output_clean_line(value) };
	for (size_t k = 0; k < ARRAY_SIZE(forms); k++) {
		if (!str_eq(forms[k], value)) {
			mask_add(m, forms[k], strlen(forms[k]));
		}
		explicit_bzero(forms[k], strlen(forms[k]));
		free(forms[k]);
	}
	return 0;
}

int secrets_put(struct secret_store *s, const char *name, const char *value, const char *source)
{
	if (!valid_name(name)) {
		return -EINVAL;
	}
	if (s->n >= SECRETS_MAX) {
		return -E2BIG;
	}
	int r = mask_value(s->mask, value);
	if (r < 0) {
		return r;
	}
	char *u = upper(name);
	for (size_t i = 0; i < s->n; i++) {
		if (str_eq(s->v[i].name, u)) {
			free(u);
			explicit_bzero(s->v[i].value, strlen(s->v[i].value));
			free(s->v[i].value);
			free(s->v[i].source);
			/* The old value stays in the mask: it may still be in someone's output. */
			s->v[i].value = xstrdup(value);
			s->v[i].source = xstrdup(source);
			return 0;
		}
	}
	GROW(s->v, s->cap, s->n + 1);
	s->v[s->n].name = u;
	s->v[s->n].value = xstrdup(value);
	s->v[s->n].source = xstrdup(source);
	s->n++;
	return 0;
}

static void put_error(struct diag_list *dl, const char *file, unsigned line, unsigned col,
		      const char *name, int r)
{
	if (!valid_name(name)) {
		/* Not quoted: what is in a name's place may be a secret (name and value
		 * swapped); the position says where. */
		diag_error(dl, file, line, col,
			   "write `NAME: value`; a name has letters, digits and '_', starting with "
			   "a letter",
			   "invalid secret name (not quoted: it may be a value)");
	} else if (r == -EINVAL) {
		diag_error(dl, file, line, col,
			   "a value this short would mask unrelated output; use a real secret",
			   "secret '%.64s' is shorter than %d characters and cannot be masked",
			   name, MASK_MIN_SECRET);
	} else {
		diag_error(dl, file, line, col, NULL,
			   "secret '%.64s' is too long or too many secrets", name);
	}
}

int secrets_load_env(struct secret_store *s, char *const *envp, struct diag_list *dl)
{
	static const char prefix[] = "RUNNER_SECRET_";
	int ret = 0;
	for (size_t i = 0; envp && envp[i]; i++) {
		if (!str_has_prefix(envp[i], prefix)) {
			continue;
		}
		const char *eq = strchr(envp[i], '=');
		if (!eq) {
			continue;
		}
		_cleanup_free_ char *name = xstrndup(envp[i] + sizeof(prefix) - 1,
						     (size_t)(eq - envp[i]) - (sizeof(prefix) - 1));
		int r = secrets_put(s, name, eq + 1, "environment");
		if (r < 0) {
			char where[128];
			snprintf(where, sizeof(where), "environment variable %s%s", prefix,
				 valid_name(name) ? name : "...");
			put_error(dl, where, 0, 0, name, r);
			ret = r;
		}
	}
	return ret;
}

int secrets_load_file(struct secret_store *s, const char *path, bool required, struct diag_list *dl)
{
	/* O_NONBLOCK: a named pipe is refused below, not waited on for a writer. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		if (errno == ENOENT && !required) {
			return 0;
		}
		int e = -errno;
		diag_error(dl, path, 0, 0, NULL, "cannot open the secrets file: %s", strerror(-e));
		return e;
	}
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	char why[200], hint[300];
	int bad = check_private_file(&st, why, sizeof(why));
	if (bad < 0) {
		if (bad == -EINVAL) {
			snprintf(hint, sizeof(hint), "point it at a regular file");
		} else if (st.st_uid != geteuid()) {
			snprintf(hint, sizeof(hint),
				 "the file must belong to the user running the runner");
		} else {
			snprintf(hint, sizeof(hint), "run: chmod 600 %s", path);
		}
		diag_error(dl, path, 0, 0, hint, "refusing the secrets file: %s", why);
		return bad;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_fd_capped(fd, SECRETS_FILE_MAX, &buf, &len);
	if (r < 0) {
		diag_error(dl, path, 0, 0, NULL, "cannot read the secrets file: %s", strerror(-r));
		return r;
	}
	struct arena *a = arena_new(16u << 20);
	/* A key may be a secret in the wrong place: never quoted, not even as a duplicate. */
	static const struct ydoc_limits lim = { .max_depth = 4,
						.max_nodes = 10000,
						.unquoted_keys = true };
	struct ynode *root;
	r = ydoc_parse(a, path, buf, len, &lim, &root, dl);
	if (r == 0 && root && root->kind != YNODE_MAP) {
		diag_error(dl, path, root->line, root->col, "write one `name: value` per line",
			   "the secrets file must be a mapping of names to values");
		r = -EINVAL;
	}
	for (size_t i = 0; r == 0 && root && i < root->map.n; i++) {
		const struct ynode *k = root->map.v[i].key, *v = root->map.v[i].value;
		if (ynode_is_null(v)) {
			/* Not quoted: a name without a value may be a value without its name. */
			diag_error(dl, path, k->line, k->col, "write one `name: value` per line",
				   "a secret name without a value");
			r = -EINVAL;
			break;
		}
		if (v->kind != YNODE_SCALAR && !valid_name(k->scalar.s)) {
			put_error(dl, path, k->line, k->col, k->scalar.s, -EINVAL);
			r = -EINVAL;
			break;
		}
		if (v->kind != YNODE_SCALAR) {
			diag_error(dl, path, v->line, v->col, NULL,
				   "the value of secret '%.64s' must be a string", k->scalar.s);
			r = -EINVAL;
			break;
		}
		int q = secrets_put(s, k->scalar.s, v->scalar.s, path);
		if (q < 0) {
			put_error(dl, path, k->line, k->col, k->scalar.s, q);
			r = q;
		}
	}
	explicit_bzero(buf, len);
	arena_free(a);
	return r;
}

const char *secrets_get(const struct secret_store *s, const char *name)
{
	if (!s) {
		return NULL;
	}
	_cleanup_free_ char *u = upper(name);
	for (size_t i = 0; i < s->n; i++) {
		if (str_eq(s->v[i].name, u)) {
			return s->v[i].value;
		}
	}
	return NULL;
}

size_t secrets_count(const struct secret_store *s)
{
	return s ? s->n : 0;
}

const struct mask *secrets_mask(const struct secret_store *s)
{
	return s ? s->mask : NULL;
}

int secrets_mask_add(struct secret_store *s, const char *value)
{
	return mask_value(s->mask, value);
}

char *secrets_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/') {
		return xasprintf("%s/runner/secrets.yml", xdg);
	}
	const char *home = getenv("HOME");
	if (!home || !*home) {
		return NULL;
	}
	return xasprintf("%s/.config/runner/secrets.yml", home);
}

/* ---------- JSON ---------- */

static json_t *masked_value(const struct mask *m, const json_t *v, unsigned depth)
{
	if (json_is_string(v)) {
		char *red = mask_redact(m, json_string_value(v), json_string_length(v), NULL);
		json_t *s = json_string(red);
		free(red);
		return s ? s : json_string(MASK_REPLACEMENT);
	}
	if ((json_is_object(v) || json_is_array(v)) && depth >= 64) {
		return json_string(MASK_REPLACEMENT);
	}
	return NULL;
}

static void mask_json(const struct mask *m, json_t *j, unsigned depth)
{
	if (!m || !j) {
		return;
	}
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
		{
			json_t *nv = masked_value(m, v, depth + 1);
			if (nv) {
				json_object_set_new(j, k, nv);
			} else {
				mask_json(m, v, depth + 1);
			}
		}
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			json_t *v = json_array_get(j, i);
			json_t *nv = masked_value(m, v, depth + 1);
			if (nv) {
				json_array_set_new(j, i, nv);
			} else {
				mask_json(m, v, depth + 1);
			}
		}
	}
}

void secrets_mask_json(const struct mask *m, json_t *j)
{
	mask_json(m, j, 0);
}
