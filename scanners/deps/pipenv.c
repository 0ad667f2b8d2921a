/*
 * pipenv.c - Pipfile.lock (JSON): packages under "default", in the dev group "develop",
 * and under every other top-level object but "_meta": the custom package categories
 * (pipenv 2022.10 and later, `pipenv install --categories`), each in the group of its
 * name. Each package has a "version" of the form "==1.2.3". Entries without a version (a
 * git or path dependency) carry nothing to check and are left out. The same name@version
 * in several sections is one package, of the first: "default", then the others in the
 * file's order. A top-level member that is neither an object nor null is an error: where
 * pipenv writes packages, a section that is not read would pass them unchecked.
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
		return dep_error(c, jpos_key(jp, section, jpos_opener(pkgs)), 0,
				 "\"%s\" is not an object", section);
	}
	jpos_key(jp, section, '{');
	const char *name;
	json_t *pkg;
	json_object_foreach((json_t *)pkgs, name, pkg)
	{
		unsigned line = jpos_key(jp, name, jpos_opener(pkg));
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
	json_t *root = dep_json_load(c, buf, len);
	if (!root) {
		return -EINVAL;
	}
	struct jpos jp;
	jpos_init(&jp, buf, len);
	int r = json_is_object(root) ? 0 : dep_error(c, 1, 1, "the top level is not an object");
	if (r == 0) {
		r = add_section(c, root, "default", NULL, &jp);
	}
	const char *section;
	json_t *v;
	json_object_foreach(r == 0 ? root : NULL, section, v)
	{
		if (str_eq(section, "_meta") || str_eq(section, "default")) {
			continue;
		}
		r = add_section(c, root, section, str_eq(section, "develop") ? "dev" : section,
				&jp);
		if (r < 0) {
			break;
		}
	}
	jpos_release(&jp);
	json_decref(root);
	return r;
}
