/*
 * pnpm.c - pnpm-lock.yaml (lockfile versions 5.x, 6.x and 9.x), read with base/ydoc.
 *
 * Every installed package is a key of the top-level `packages` mapping: a dependency path
 * "/name/1.2.3_peerhash" (5.x), "/name@1.2.3(peer@1)" (6.x) or "name@1.2.3" (9.x), with
 * scoped names keeping their "@scope/". A `name` or `version` member overrides what the
 * path says (git, tarball and file dependencies name themselves that way); entries left
 * without a name or version (a nameless local directory) are not packages. A path that
 * cannot be read as a dependency path is an error. The commit of a git dependency comes
 * from `resolution.commit` or a codeload.github.com tarball URL.
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

/* Split "name@version" where name may start with "@scope/". */
static bool split_at_version(struct dep_ctx *c, const char *s, const char **name,
			     const char **version)
{
	const char *p = s[0] == '@' ? s + 1 : s;
	const char *at = strchr(p, '@');
	if (!at || at == s || !at[1]) {
		return false;
	}
	*name = dep_strndup(c, s, (size_t)(at - s));
	*version = at + 1;
	return true;
}

/* Version text without peer suffixes ("_hash", "(peer@1)"). */
static const char *strip_peers(struct dep_ctx *c, const char *v)
{
	size_t n = strcspn(v, "_(");
	return dep_strndup(c, v, n);
}

static int name_and_version(struct dep_ctx *c, const char *path, bool v9, unsigned line,
			    const char **name, const char **version)
{
	*name = *version = "";
	if (str_has_prefix(path, "file:")) {
		return 0; /* named by its `name` member, if at all */
	}
	if (v9) {
		if (!split_at_version(c, path, name, version)) {
			return dep_error(c, line, 3, "invalid dependency path '%s'", path);
		}
		*version = strip_peers(c, *version);
		return 0;
	}
	const char *slash = strchr(path, '/');
	if (!slash) {
		return dep_error(c, line, 3, "invalid dependency path '%s' (no '/')", path);
	}
	/* parts after the first: [@scope/]name[/version] */
	const char *p = slash + 1;
	const char *name_end;
	if (*p == '@') {
		const char *s2 = strchr(p, '/');
		name_end = s2 ? strchr(s2 + 1, '/') : NULL;
	} else {
		name_end = strchr(p, '/');
	}
	const char *n = name_end ? dep_strndup(c, p, (size_t)(name_end - p)) : p;
	const char *v = "";
	if (name_end) {
		const char *ve = strchr(name_end + 1, '/');
		v = ve ? dep_strndup(c, name_end + 1, (size_t)(ve - name_end - 1)) : name_end + 1;
	}
	if (!*v && !split_at_version(c, n, &n, &v)) {
		return dep_error(c, line, 3, "invalid dependency path '%s' (no version)", path);
	}
	*name = n;
	*version = strip_peers(c, v);
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
		r = name_and_version(c, path, v9, line, &name, &version);
		if (r < 0) {
			break;
		}
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
		if (!*name || !*version) {
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
	}
	arena_free(a);
	return r;
}
