/*
 * composer.c - composer.lock (JSON): the arrays "packages" and, in the dev group,
 * "packages-dev", each entry with "name" and "version"; the commit is the dist (else
 * source) reference.
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
	if (!json_is_array(pkgs)) {
		return dep_error(c, jpos_key(jp, section, jpos_opener(pkgs)), 0,
				 "\"%s\" is not an array", section);
	}
	size_t from = jp->pos;
	unsigned section_line = jpos_key(jp, section, '[');
	/* The array's '[', where the lookup moved the cursor when it found it. */
	size_t open = jp->pos != from ? jp->pos : SIZE_MAX;
	size_t i;
	json_t *pkg;
	json_array_foreach(pkgs, i, pkg)
	{
		const char *name = json_string_value(json_object_get(pkg, "name"));
		const char *version = json_string_value(json_object_get(pkg, "version"));
		if (!json_is_object(pkg) || !name) {
			unsigned at = jpos_element_line(jp, open, i);
			return dep_error(c, at ? at : section_line, 0, "%s[%zu] has no \"name\"",
					 section, i);
		}
		unsigned line = jpos_key_value(jp, "name", name);
		struct dep *d = dep_add(c, ECO_PACKAGIST, name, version ? version : "", line);
		if (!d) {
			return dep_error(c, line, 0, "too many packages");
		}
		const char *ref = json_string_value(
			json_object_get(json_object_get(pkg, "dist"), "reference"));
		if (!ref || !*ref) {
			ref = json_string_value(
				json_object_get(json_object_get(pkg, "source"), "reference"));
		}
		d->commit = ref && *ref ? dep_strdup(c, ref) : NULL;
		dep_add_group(c, d, group);
	}
	return 0;
}

int parse_composer_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	return dep_json_sections(c, buf, len, "packages", "packages-dev", add_section);
}
