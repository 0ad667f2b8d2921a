/*
 * pnpm.c - pnpm-lock.yaml (lockfile versions 5.x, 6.x and 9.x), read with base/ydoc.
 *
 * Every installed package is a key of the top-level `packages` mapping: a dependency path
 * "/name/1.2.3_peerhash" (5.x), "/name@1.2.3(peer@1)(@scope/peer@2(dep@3))" (6.x) or
 * "name@1.2.3" (9.x), with scoped names keeping their "@scope/"; peer suffixes are not part
 * of the version. A `name` or `version` member overrides what the path says (git, tarball
 * and file dependencies name themselves that way). A local dependency ("file:dir" before
 * 9.x, "name@file:dir" in 9.x) is reported without a version when no `version` member
 * gives one (pnpm 8 and 9 write none for a directory), as package-lock.json v1 and bun.lock
 * report theirs: unchecked, never read as the version "file:dir"; one without a name (a
 * nameless local directory) is not a package, nor is any other entry without a version.
 * A path that cannot be read as a
 * dependency path is an error. A package's `bundledDependencies` are reported without a
 * version and unresolved (add_bundled). The commit of a git dependency comes from
 * `resolution.commit` or a codeload.github.com tarball URL.
 */
#include "parsers.h"

#include "arena.h"
#include "util.h"
#include "ydoc.h"

#include "banned.h"

static const struct ydoc_limits pnpm_limits = {
	.max_depth = 64,
	.max_nodes = 20000000,
};

/*
 * The length of a dependency path without its peer suffixes: the parenthesised groups at
 * its end (6.x and 9.x, "(react@18.2.0)(@types/react@18.0.0)"), which may nest and name
 * scoped packages with '/' and '@' of their own. The first '(' starts them; the rest must
 * be whole groups. Returns -1 when it is not.
 */
static ptrdiff_t without_peer_groups(const char *path)
{
	const char *open = strchr(path, '(');
	if (!open) {
		return (ptrdiff_t)strlen(path);
	}
	size_t depth = 0;
	for (const char *p = open; *p; p++) {
		if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (depth == 0) {
				return -1;
			}
			depth--;
		} else if (depth == 0) {
			return -1; /* text between or after the groups */
		}
	}
	return depth == 0 ? open - path : -1;
}

/*
 * The name and version of a dependency path. Registry packages are "/name/1.2.3" (5.x,
 * with a "_peer@1+peer@2" or "_hash" suffix), "/name@1.2.3(peer@1)" (6.x) and
 * "name@1.2.3" (9.x, whose peers are only in the snapshots); a name may be scoped
 * ("@scope/name"). Before 9.x, what precedes the first '/' is a host ("" for the default
 * registry, "github.com" for git packages, which name themselves with members).
 */
static int name_and_version(struct dep_ctx *c, const char *path, bool v9, unsigned line,
			    unsigned col, const char **name, const char **version)
{
	*name = *version = "";
	if (str_has_prefix(path, "file:")) {
		return 0; /* named by its `name` member, if at all */
	}
	ptrdiff_t len = without_peer_groups(path);
	if (len < 0) {
		return dep_error(c, line, col,
				 "invalid dependency path '%s' (unbalanced peer suffix)", path);
	}
	const char *p = dep_strndup(c, path, (size_t)len);
	if (!v9) {
		const char *slash = strchr(p, '/');
		if (!slash) {
			return dep_error(c, line, col, "invalid dependency path '%s' (no '/')",
					 path);
		}
		p = slash + 1;
	}
	/* The name ends at the '@' (6.x, 9.x) or the '/' (5.x) that follows it. */
	const char *bare = p;
	if (*p == '@') {
		const char *scope_end = strchr(p, '/');
		bare = scope_end ? scope_end + 1 : p + strlen(p);
	}
	const char *name_end = bare + strcspn(bare, "/@");
	const char *v = name_end + (*name_end ? 1 : 0);
	/* 5.x: the version ends at the next '/' or its peer suffix ('_'; versions have none). */
	size_t vlen = strcspn(v, *name_end == '/' ? "/_" : "_");
	if (name_end == bare || vlen == 0) {
		return dep_error(c, line, col, "invalid dependency path '%s' (no %s)", path,
				 name_end == bare ? "name" : "version");
	}
	*name = dep_strndup(c, p, (size_t)(name_end - p));
	/* 9.x: "name@file:dir" is a local directory or tarball, whose version only a
	 * `version` member gives. */
	*version = v9 && str_has_prefix(v, "file:") ? "" : dep_strndup(c, v, vlen);
	return 0;
}

/* One bundled entry: name without a version, unresolved, with note (a dep_printf() text). */
static int add_unresolved(struct dep_ctx *c, const char *name, unsigned line, char *note, bool dev)
{
	struct dep *d = dep_add(c, ECO_NPM, dep_strdup(c, name), "", line);
	if (!d) {
		return dep_error(c, line, 0, "too many packages");
	}
	d->flags |= DEP_UNRESOLVED;
	d->note = note;
	if (dev) {
		dep_add_group(c, d, "dev");
	}
	return 0;
}

/*
 * The dependencies a package bundles (in its tarball's node_modules), which pnpm does not
 * resolve and whose versions its lockfile does not record: `bundledDependencies` lists
 * their names, each reported without a version and unresolved (the scan's
 * `unresolved-version` finding), so that nothing in the tarball passes unchecked. pnpm 8
 * and 9 write `true` for a package.json's `bundleDependencies: true` and name none of
 * them: the bundling package is reported once more, without a version and unresolved,
 * for all of them. Anything else there is an error.
 */
static int add_bundled(struct dep_ctx *c, const struct ynode *bundled, const char *parent,
		       const char *parent_version, bool dev, unsigned parent_line)
{
	if (bundled->kind != YNODE_SEQ) {
		bool all = false;
		if (ynode_bool(bundled, &all) < 0) {
			return dep_error(c, bundled->line, bundled->col,
					 "%s@%s: bundledDependencies is not a list of names",
					 parent, parent_version);
		}
		/* Every dependency is bundled and none is named: the package itself stands for
		 * them, unresolved, so that the scan blocks until someone has looked at its
		 * tarball (and allows the finding, by its fingerprint, with a reason), rather
		 * than failing with no way on. */
		return !all ? 0
			    : add_unresolved(
				      c, parent, bundled->line ? bundled->line : parent_line,
				      dep_printf(c,
						 "the dependencies bundled in %s@%s "
						 "(bundledDependencies: true): pnpm-lock.yaml "
						 "names none of them and records no version",
						 parent, parent_version),
				      dev);
	}
	for (size_t i = 0; i < bundled->seq.n; i++) {
		const struct ynode *n = bundled->seq.v[i];
		const char *name = ynode_str(n);
		if (!name || !*name) {
			return dep_error(c, n->line, n->col,
					 "%s@%s: a bundled dependency that is not a name", parent,
					 parent_version);
		}
		int r = add_unresolved(c, name, n->line ? n->line : parent_line,
				       dep_printf(c,
						  "bundled in %s@%s, whose tarball holds it at a "
						  "version pnpm-lock.yaml does not record",
						  parent, parent_version),
				       dev);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

int parse_pnpm_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	struct arena *a = arena_new(0);
	struct ynode *root = NULL;
	int r = ydoc_parse(a, c->file, buf, len, &pnpm_limits, &root, c->dl);
	if (r < 0) {
		arena_free(a);
		return -EINVAL;
	}
	if (!root) {
		arena_free(a);
		return 0; /* an empty file */
	}
	if (root->kind != YNODE_MAP) {
		unsigned line = root->line, col = root->col;
		arena_free(a);
		return dep_error(c, line, col, "the top level is not a mapping");
	}
	const char *ver = ynode_str(ynode_get(root, "lockfileVersion"));
	bool v9 = ver && strtod(ver, NULL) >= 9.0;
	const struct ynode *pkgs = ynode_get(root, "packages");
	if (pkgs && !ynode_is_null(pkgs) && pkgs->kind != YNODE_MAP) {
		unsigned line = pkgs->line, col = pkgs->col;
		arena_free(a);
		return dep_error(c, line, col, "packages is not a mapping");
	}
	for (size_t i = 0; pkgs && pkgs->kind == YNODE_MAP && i < pkgs->map.n && r == 0; i++) {
		const struct ypair *pr = &pkgs->map.v[i];
		const char *path = pr->key->scalar.s;
		unsigned line = pr->key->line;
		const struct ynode *pkg = pr->value;
		const char *name, *version;
		r = name_and_version(c, path, v9, line, pr->key->col, &name, &version);
		if (r < 0) {
			break;
		}
		bool local = str_has_prefix(path, "file:") || (v9 && !*version);
		if (pkg && pkg->kind == YNODE_MAP) {
			const char *n = ynode_str(ynode_get(pkg, "name"));
			const char *v = ynode_str(ynode_get(pkg, "version"));
			if (n && *n) {
				name = n;
			}
			if (v && *v) {
				version = v;
			}
		}
		if (!*name) {
			continue; /* a nameless local directory */
		}
		if (!*version && !local) {
			continue;
		}
		struct dep *d = dep_add(c, ECO_NPM, name, version, line);
		if (!d) {
			r = dep_error(c, line, 0, "too many packages");
			break;
		}
		const struct ynode *res =
			pkg && pkg->kind == YNODE_MAP ? ynode_get(pkg, "resolution") : NULL;
		if (res && res->kind == YNODE_MAP) {
			const char *commit = ynode_str(ynode_get(res, "commit"));
			const char *tarball = ynode_str(ynode_get(res, "tarball"));
			if (tarball && str_has_prefix(tarball, "https://codeload.github.com")) {
				const char *t = dep_extract_commit(c, tarball);
				commit = t ? t : commit;
			}
			d->commit = commit && *commit ? dep_strdup(c, commit) : NULL;
		}
		bool dev = false;
		const struct ynode *devn =
			pkg && pkg->kind == YNODE_MAP ? ynode_get(pkg, "dev") : NULL;
		if (devn && ynode_bool(devn, &dev) == 0 && dev) {
			dep_add_group(c, d, "dev");
		}
		const struct ynode *bundled = pkg && pkg->kind == YNODE_MAP
						      ? ynode_get(pkg, "bundledDependencies")
						      : NULL;
		if (bundled) {
			r = add_bundled(c, bundled, name, version, dev, line);
		}
	}
	arena_free(a);
	return r;
}
