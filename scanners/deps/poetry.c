/*
 * poetry.c - poetry.lock (TOML): every [[package]] with its name and version; an
 * optional package is in the "optional" group, and a git source pins
 * package.source.resolved_reference.
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

static void poetry_package(struct dep_ctx *c, const json_t *pkg, struct dep *d)
{
	const char *commit = json_string_value(
		json_object_get(json_object_get(pkg, "source"), "resolved_reference"));
	d->commit = commit && *commit ? dep_strdup(c, commit) : NULL;
	if (json_is_true(json_object_get(pkg, "optional"))) {
		dep_add_group(c, d, "optional");
	}
}

int parse_poetry_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	return toml_each_package(c, buf, len, ECO_PYPI, poetry_package);
}
