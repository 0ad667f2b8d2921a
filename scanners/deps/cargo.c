/*
 * cargo.c - Cargo.lock (TOML): every [[package]] with its name and version, including
 * the workspace's own crates (which have no `source`).
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

/* Shared by cargo.c and poetry.c: the [[package]] tables of a TOML lockfile. */
int toml_packages(struct dep_ctx *c, const char *buf, size_t len, json_t **root_out,
		  const json_t **pkgs_out);
int toml_packages(struct dep_ctx *c, const char *buf, size_t len, json_t **root_out,
		  const json_t **pkgs_out)
{
	char err[256];
	unsigned line = 0, col = 0;
	json_t *root = toml_parse(buf, len, &line, &col, err, sizeof(err));
	if (!root) {
		return dep_error(c, line, col, "not valid TOML: %s", err);
	}
	const json_t *pkgs = json_object_get(root, "package");
	if (pkgs && !json_is_array(pkgs)) {
		json_decref(root);
		return dep_error(c, 0, 0, "\"package\" is not an array of tables");
	}
	*root_out = root;
	*pkgs_out = pkgs;
	return 0;
}

int parse_cargo_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	json_t *root;
	const json_t *pkgs;
	int r = toml_packages(c, buf, len, &root, &pkgs);
	if (r < 0) {
		return r;
	}
	size_t i;
	json_t *pkg;
	json_array_foreach(pkgs, i, pkg)
	{
		unsigned line = (unsigned)json_integer_value(json_object_get(pkg, TOML_LINE_KEY));
		const char *name = json_string_value(json_object_get(pkg, "name"));
		const char *version = json_string_value(json_object_get(pkg, "version"));
		if (!name || !version) {
			r = dep_error(c, line, 0, "a [[package]] without a name or version");
			break;
		}
		if (!dep_add(c, ECO_CRATES, name, version, line)) {
			r = dep_error(c, line, 0, "too many packages");
			break;
		}
	}
	json_decref(root);
	return r;
}
