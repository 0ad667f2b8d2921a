/*
 * poetry.c - poetry.lock (TOML): every [[package]] with its name and version; an
 * optional package is in the "optional" group, and a git source pins
 * package.source.resolved_reference.
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

int toml_packages(struct dep_ctx *c, const char *buf, size_t len, json_t **root_out,
		  const json_t **pkgs_out);

int parse_poetry_lock(struct dep_ctx *c, const char *buf, size_t len)
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
		struct dep *d = dep_add(c, ECO_PYPI, name, version, line);
		if (!d) {
			r = dep_error(c, line, 0, "too many packages");
			break;
		}
		const char *commit = json_string_value(
			json_object_get(json_object_get(pkg, "source"), "resolved_reference"));
		d->commit = commit && *commit ? dep_strdup(c, commit) : NULL;
		if (json_is_true(json_object_get(pkg, "optional"))) {
			dep_add_group(c, d, "optional");
		}
	}
	json_decref(root);
	return r;
}
