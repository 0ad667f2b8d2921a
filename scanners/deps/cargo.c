/*
 * cargo.c - Cargo.lock (TOML): every [[package]] with its name and version, including
 * the workspace's own crates (which have no `source`). Also the [[package]] walk shared
 * with poetry.c.
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

int toml_each_package(struct dep_ctx *c, const char *buf, size_t len, enum eco e,
		      void (*each)(struct dep_ctx *c, const json_t *pkg, struct dep *d))
{
	char err[256];
	unsigned line = 0, col = 0;
	json_t *root = toml_parse(buf, len, &line, &col, err, sizeof(err));
	if (!root) {
		return dep_error(c, line, col, "not valid TOML: %s", err);
	}
	const json_t *pkgs = json_object_get(root, "package");
	/* The line of `package`: of its tables that no header opens (`package = [{...}]`). */
	unsigned key_line = pkgs ? toml_root_key_line(buf, len, "package") : 0;
	key_line = key_line ? key_line : 1;
	int r = 0;
	if (pkgs && !json_is_array(pkgs)) {
		r = dep_error(c, key_line, 0, "\"package\" is not an array of tables");
	}
	size_t i;
	json_t *pkg;
	json_array_foreach(r == 0 ? pkgs : NULL, i, pkg)
	{
		unsigned at = (unsigned)json_integer_value(json_object_get(pkg, TOML_LINE_KEY));
		at = at ? at : key_line;
		const char *name = json_string_value(json_object_get(pkg, "name"));
		const char *version = json_string_value(json_object_get(pkg, "version"));
		if (!name || !version) {
			r = dep_error(c, at, 0, "a [[package]] without a name or version");
			break;
		}
		struct dep *d = dep_add(c, e, name, version, at);
		if (!d) {
			r = dep_error(c, at, 0, "too many packages");
			break;
		}
		if (each) {
			each(c, pkg, d);
		}
	}
	json_decref(root);
	return r;
}

int parse_cargo_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	return toml_each_package(c, buf, len, ECO_CRATES, NULL);
}
