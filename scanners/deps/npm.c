/*
 * npm.c - package-lock.json / npm-shrinkwrap.json, lockfile versions 1, 2 and 3.
 *
 * Versions 2 and 3 list every installed package under "packages", keyed by its path
 * ("node_modules/a/node_modules/@s/b"); the name is the last path component (with its
 * scope), or the "name" member for aliases. Version 1 nests "dependencies" objects; an
 * alias's version reads "npm:real-name@1.2.3". The root package ("") and links to local
 * packages are not dependencies. A git dependency keeps its commit (from "resolved" in
 * v2+, from the version in v1, where the version itself is then unknown); "file:"
 * dependencies have no version. Copies of one name@version (or name@commit) are reported
 * once; their groups (dev, optional) merge, and a copy in no group makes it a production
 * dependency.
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

#define NPM_MAX_DEPTH 256

static void set_groups(struct dep_ctx *c, struct dep *d, bool added, bool dev, bool optional)
{
	if (!added) {
		/* Merge: a copy in no group makes the package a production dependency. */
		if (!d->groups) {
			return;
		}
		if (!dev && !optional) {
			d->groups = NULL;
			return;
		}
	}
	if (dev) {
		dep_add_group(c, d, "dev");
	}
	if (optional) {
		dep_add_group(c, d, "optional");
	}
}

static bool jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static int add_pkg(struct dep_ctx *c, const char *name, const char *version, const char *commit,
		   unsigned line, bool dev, bool optional)
{
	const char *key = dep_printf(c, "%s@%s", name, commit ? commit : version);
	bool added;
	struct dep *d = dep_add_unique(c, key, ECO_NPM, name, version, line, &added);
	if (!d) {
		return dep_error(c, line, 0, "too many packages");
	}
	if (added) {
		d->commit = commit;
	}
	set_groups(c, d, added, dev, optional);
	return 0;
}

/* The package name at the end of a node_modules path. */
static const char *name_from_path(struct dep_ctx *c, const char *path)
{
	const char *base = strrchr(path, '/');
	if (!base) {
		return path;
	}
	const char *prev = base;
	while (prev > path && prev[-1] != '/') {
		prev--;
	}
	if (*prev == '@') {
		return dep_strdup(c, prev);
	}
	return base + 1;
}

static int parse_packages(struct dep_ctx *c, const json_t *packages, struct jpos *jp)
{
	const char *path;
	json_t *pkg;
	json_object_foreach((json_t *)packages, path, pkg)
	{
		unsigned line = jpos_key(jp, path, jpos_opener(pkg));
		if (!*path) {
			continue; /* the project itself */
		}
		if (!json_is_object(pkg)) {
			return dep_error(c, line, 0, "packages[\"%s\"] is not an object", path);
		}
		if (jbool(pkg, "link")) {
			continue; /* a symbolic link to a local package, listed under its target */
		}
		const char *name = json_string_value(json_object_get(pkg, "name"));
		if (!name || !*name) {
			name = name_from_path(c, path);
		}
		const char *version = json_string_value(json_object_get(pkg, "version"));
		const char *commit =
			dep_extract_commit(c, json_string_value(json_object_get(pkg, "resolved")));
		bool dev = jbool(pkg, "dev"), optional = jbool(pkg, "optional");
		if (jbool(pkg, "devOptional")) {
			dev = optional = true;
		}
		int r = add_pkg(c, name, version ? version : "", commit, line, dev, optional);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int parse_dependencies(struct dep_ctx *c, const json_t *deps, struct jpos *jp,
			      unsigned depth)
{
	if (depth > NPM_MAX_DEPTH) {
		return dep_error(c, jpos_key(jp, "dependencies", '{'), 0,
				 "dependencies nested more than %u levels deep", NPM_MAX_DEPTH);
	}
	const char *name;
	json_t *dep;
	json_object_foreach((json_t *)deps, name, dep)
	{
		unsigned line = jpos_key(jp, name, jpos_opener(dep));
		if (!json_is_object(dep)) {
			return dep_error(c, line, 0, "dependencies[\"%s\"] is not an object", name);
		}
		const char *version = json_string_value(json_object_get(dep, "version"));
		version = version ? version : "";
		const char *real = name;
		const char *commit = NULL, *tarball;
		if (str_has_prefix(version, "npm:")) {
			/* An alias: npm:real-name@version. */
			const char *at = strrchr(version, '@');
			if (at && at > version + 4) {
				real = dep_strndup(c, version + 4, (size_t)(at - version - 4));
				version = at + 1;
			}
		}
		if (str_has_prefix(version, "file:")) {
			version = "";
		} else if ((commit = dep_extract_commit(c, version))) {
			version = "";
		} else if ((tarball = dep_npm_tarball_version(c, real, version))) {
			/* A registry tarball's URL, which v1 writes as the version. */
			version = tarball;
		}
		int r = add_pkg(c, real, version, commit, line, jbool(dep, "dev"),
				jbool(dep, "optional"));
		if (r < 0) {
			return r;
		}
		const json_t *nested = json_object_get(dep, "dependencies");
		if (json_is_object(nested)) {
			r = parse_dependencies(c, nested, jp, depth + 1);
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

int parse_npm_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	json_t *root = dep_json_load(c, buf, len);
	if (!root) {
		return -EINVAL;
	}
	int r = 0;
	struct jpos jp;
	jpos_init(&jp, buf, len);
	const json_t *packages = json_object_get(root, "packages");
	const json_t *deps = json_object_get(root, "dependencies");
	if (!json_is_object(root)) {
		r = dep_error(c, 1, 1, "the top level is not an object");
	} else if (packages) {
		if (!json_is_object(packages)) {
			r = dep_error(c, jpos_key(&jp, "packages", jpos_opener(packages)), 0,
				      "\"packages\" is not an object");
		} else {
			jpos_key(&jp, "packages", '{');
			r = parse_packages(c, packages, &jp);
		}
	} else if (deps) {
		if (!json_is_object(deps)) {
			r = dep_error(c, jpos_key(&jp, "dependencies", jpos_opener(deps)), 0,
				      "\"dependencies\" is not an object");
		} else {
			jpos_key(&jp, "dependencies", '{');
			r = parse_dependencies(c, deps, &jp, 0);
		}
	}
	jpos_release(&jp);
	json_decref(root);
	return r;
}
