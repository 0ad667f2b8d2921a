/*
 * nuget.c - NuGet packages.lock.json (lock file version 1): "dependencies" maps each
 * target framework to its packages, each with a "resolved" version. A package resolved to
 * the same version for several frameworks is one package. An entry of "type": "Project"
 * (a ProjectReference to another project of the solution) has no "resolved": it is the
 * solution's own code, not a package, and is left out; any other entry without a
 * "resolved" version is an error. Other lock file versions are refused rather than
 * guessed at.
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

int parse_nuget_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	json_t *root = dep_json_load(c, buf, len);
	if (!root) {
		return -EINVAL;
	}
	struct jpos jp;
	jpos_init(&jp, buf, len);
	int r = 0;
	const json_t *ver = json_object_get(root, "version");
	const json_t *fws = json_object_get(root, "dependencies");
	if (!json_is_object(root)) {
		r = dep_error(c, 1, 1, "the top level is not an object");
	} else if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
		r = dep_error(c, ver ? jpos_key(&jp, "version", jpos_opener(ver)) : 1, ver ? 0 : 1,
			      "unsupported lock file version (only version 1 is known)");
	} else if (fws && !json_is_object(fws)) {
		r = dep_error(c, jpos_key(&jp, "dependencies", jpos_opener(fws)), 0,
			      "\"dependencies\" is not an object");
	}
	const char *fw;
	json_t *pkgs;
	if (r == 0 && fws) {
		jpos_key(&jp, "dependencies", '{');
		json_object_foreach((json_t *)fws, fw, pkgs)
		{
			unsigned fw_line = jpos_key(&jp, fw, jpos_opener(pkgs));
			if (!json_is_object(pkgs)) {
				r = dep_error(c, fw_line, 0, "framework \"%s\" is not an object",
					      fw);
				break;
			}
			const char *name;
			json_t *pkg;
			json_object_foreach(pkgs, name, pkg)
			{
				unsigned line = jpos_key(&jp, name, jpos_opener(pkg));
				const char *type = json_string_value(json_object_get(pkg, "type"));
				if (json_is_object(pkg) && type && str_eq(type, "Project")) {
					continue; /* another project of the solution */
				}
				const char *v = json_string_value(json_object_get(pkg, "resolved"));
				if (!json_is_object(pkg) || !v) {
					r = dep_error(c, line, 0,
						      "package \"%s\" has no resolved version",
						      name);
					break;
				}
				bool added;
				const char *key = dep_printf(c, "%s@%s", name, v);
				if (!dep_add_unique(c, key, ECO_NUGET, name, v, line, &added)) {
					r = dep_error(c, line, 0, "too many packages");
					break;
				}
			}
			if (r < 0) {
				break;
			}
		}
	}
	jpos_release(&jp);
	json_decref(root);
	return r;
}
