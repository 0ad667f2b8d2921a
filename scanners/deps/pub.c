/*
 * pub.c - Dart's pubspec.lock (YAML, read with base/ydoc): the `packages` mapping gives
 * each package's `version`; `dependency: "direct dev"` puts it in the dev group, and a
 * git source pins `description.resolved-ref`.
 */
#include "parsers.h"

#include "arena.h"
#include "util.h"
#include "ydoc.h"

#include "banned.h"

static const struct ydoc_limits pub_limits = {
	.max_depth = 64,
	.max_nodes = 5000000,
};

int parse_pubspec_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	struct arena *a = arena_new(0);
	struct ynode *root = NULL;
	int r = ydoc_parse(a, c->file, buf, len, &pub_limits, &root, c->dl);
	if (r < 0) {
		arena_free(a);
		return -EINVAL;
	}
	if (root && root->kind != YNODE_MAP) {
		unsigned line = root->line, col = root->col;
		arena_free(a);
		return dep_error(c, line, col, "the top level is not a mapping");
	}
	const struct ynode *pkgs = root ? ynode_get(root, "packages") : NULL;
	if (pkgs && !ynode_is_null(pkgs) && pkgs->kind != YNODE_MAP) {
		unsigned line = pkgs->line, col = pkgs->col;
		arena_free(a);
		return dep_error(c, line, col, "packages is not a mapping");
	}
	for (size_t i = 0; pkgs && pkgs->kind == YNODE_MAP && i < pkgs->map.n; i++) {
		const struct ypair *pr = &pkgs->map.v[i];
		const struct ynode *pkg = pr->value;
		if (!pkg || pkg->kind != YNODE_MAP) {
			r = dep_error(c, pr->key->line, pr->key->col, "package %s is not a mapping",
				      pr->key->scalar.s);
			break;
		}
		const char *version = ynode_str(ynode_get(pkg, "version"));
		struct dep *d = dep_add(c, ECO_PUB, pr->key->scalar.s, version ? version : "",
					pr->key->line);
		if (!d) {
			r = dep_error(c, pr->key->line, 0, "too many packages");
			break;
		}
		const struct ynode *desc = ynode_get(pkg, "description");
		const char *ref = desc && desc->kind == YNODE_MAP
					  ? ynode_str(ynode_get(desc, "resolved-ref"))
					  : NULL;
		d->commit = ref && *ref ? dep_strdup(c, ref) : NULL;
		const char *dependency = ynode_str(ynode_get(pkg, "dependency"));
		if (dependency && str_eq(dependency, "direct dev")) {
			dep_add_group(c, d, "dev");
		}
	}
	arena_free(a);
	return r;
}
