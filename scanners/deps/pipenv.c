/*
 * pipenv.c - Pipfile.lock (JSON): packages under "default" and, in the dev group,
 * "develop", each with a "version" of the form "==1.2.3". Entries without a version (a
 * git or path dependency) carry nothing to check and are left out. The same name@version
 * in both sections is one package (the default one).
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

static int add_section(struct dep_ctx *c, const json_t *root, const char *section,
		       const char *group, struct jpos *jp)
{
	const json_t *pkgs = json_object_get(root, section);
	if (!pkgs || json_is_null(pkgs)) {
		return 0;
	}
	if (!json_is_object(pkgs)) {
		return dep_error(c, 0, 0, "\"%s\" is not an object", section);
	}
	jpos_key(jp, section, '{');
	const char *name;
	json_t *pkg;
	json_object_foreach((json_t *)pkgs, name, pkg)
	{
		unsigned line = jpos_key(jp, name, '{');
		if (!json_is_object(pkg)) {
			return dep_error(c, line, 0, "%s[\"%s\"] is not an object", section, name);
		}
		const char *version = json_string_value(json_object_get(pkg, "version"));
		if (!version || !*version) {
			continue;
		}
		bool pinned = str_has_prefix(version, "==");
		if (pinned) {
			version += str_has_prefix(version, "===") ? 3 : 2;
		}
		const char *key = dep_printf(c, "%s@%s", name, version);
		bool added;
		struct dep *d = dep_add_unique(c, key, ECO_PYPI, name, version, line, &added);
		if (!d) {
			return dep_error(c, line, 0, "too many packages");
		}
		if (added) {
			if (!pinned) {
				d->flags |= DEP_UNPINNED;
				d->note = "the lockfile gives no exact version";
			}
			dep_add_group(c, d, group);
		}
	}
	return 0;
}

int parse_pipfile_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	return dep_json_sections(c, buf, len, "default", "develop", add_section);
}
