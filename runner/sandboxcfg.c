/*
 * sandboxcfg.c - the `sandbox:` block: parse, validate, merge over defaults, apply.
 *
 * Every value is checked where it is written (file:line:col), with a hint where one helps:
 * an unknown key, a network mode other than none or host, a size or duration without a
 * unit or out of range, a path that is absolute, climbs out with "..", is listed twice, or
 * is both read-only and read-write.
 */
#include "sandboxcfg.h"

#include "arena.h"
#include "diag.h"
#include "pipeline.h"
#include "sandbox.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

static const char *const keys[] = { "network",	 "memory",    "pids",	    "cpu-time", "tmp-size",
				    "workspace", "read-only", "read-write", "rootfs" };

#define MAX_CPU_S (7ull * 24 * 3600)

struct ctx {
	struct arena *a;
	const char *file;
	struct diag_list *dl;
	bool ok;
};

#define err_at(c, n, hint, ...)                                                           \
	do {                                                                              \
		diag_error((c)->dl, (c)->file, (n)->line, (n)->col, (hint), __VA_ARGS__); \
		(c)->ok = false;                                                          \
	} while (0)

static const char *text(struct ctx *c, const struct ynode *n, const char *what, const char *hint)
{
	const char *s = ynode_str(n);
	if (!s || n->kind != YNODE_SCALAR) {
		err_at(c, n, hint, "sandbox.%s must be a string, not %s", what, ynode_type_name(n));
		return NULL;
	}
	return s;
}

static bool valid_rel(const char *s)
{
	if (!*s || s[0] == '/' || strlen(s) > PATH_MAX / 4) {
		return false;
	}
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.')) {
			return false;
		}
		p += n;
		p += strspn(p, "/");
	}
	return true;
}

static const char **paths(struct ctx *c, const struct ynode *n, const char *what, size_t *count)
{
	char hint[96];
	snprintf(hint, sizeof(hint), "write %s: [build, .git]", what);
	if (n->kind != YNODE_SEQ) {
		err_at(c, n, hint, "sandbox.%s must be a sequence of paths, not %s", what,
		       ynode_type_name(n));
		return NULL;
	}
	if (n->seq.n > SANDBOXCFG_MAX_PATHS) {
		err_at(c, n, NULL, "sandbox.%s has more than %d entries", what,
		       SANDBOXCFG_MAX_PATHS);
		return NULL;
	}
	const char **v = arena_alloc_array(c->a, n->seq.n ? n->seq.n : 1, sizeof(char *));
	if (!v) {
		err_at(c, n, NULL, "pipeline too large (memory cap reached)");
		return NULL;
	}
	for (size_t i = 0; i < n->seq.n; i++) {
		const struct ynode *e = n->seq.v[i];
		const char *s = text(c, e, what, hint);
		if (!s) {
			return NULL;
		}
		if (!valid_rel(s)) {
			err_at(c, e, "paths are relative to the workspace, without '.' or '..'",
			       "sandbox.%s path '%.100s' is not inside the workspace", what, s);
			return NULL;
		}
		for (size_t k = 0; k < i; k++) {
			if (str_eq(v[k], s)) {
				err_at(c, e, "remove the repeated entry",
				       "'%.100s' is listed twice in sandbox.%s", s, what);
				return NULL;
			}
		}
		v[i] = s;
	}
	*count = n->seq.n;
	return v;
}

static uint64_t size_value(struct ctx *c, const struct ynode *n, const char *what, uint64_t min)
{
	const char *s = ynode_str(n);
	uint64_t v = 0;
	int r = s && n->kind == YNODE_SCALAR ? parse_size(s, SANDBOXCFG_MAX_BYTES, false, &v)
					     : -EINVAL;
	if (r == -ERANGE || (r == 0 && v > SANDBOXCFG_MAX_BYTES)) {
		err_at(c, n, NULL, "sandbox.%s '%.60s' is above the maximum of 1T", what, s);
		return 0;
	}
	if (r < 0) {
		int64_t i;
		err_at(c, n,
		       n->kind == YNODE_SCALAR && ynode_int(n, &i) == 0
			       ? "add a unit, for example 512M or 2G"
			       : "write a number with a unit: 512K, 64M, 2G (binary units)",
		       "bad size '%.60s' for sandbox.%s", s ? s : ynode_type_name(n), what);
		return 0;
	}
	if (v < min) {
		err_at(c, n, NULL, "sandbox.%s '%.60s' is below the minimum of %lluM", what, s,
		       (unsigned long long)(min >> 20));
		return 0;
	}
	return v;
}

static void load_key(struct ctx *c, struct psandbox *ps, const char *k, const struct ynode *v)
{
	if (str_eq(k, "network")) {
		const char *s = text(c, v, "network", "write network: none, or network: host");
		if (str_eq(s, "none") || str_eq(s, "host")) {
			ps->network = str_eq(s, "host");
		} else if (s) {
			err_at(c, v, "the modes are none (the default: only loopback) and host",
			       "unknown network mode '%.60s'", s);
		}
	} else if (str_eq(k, "memory")) {
		ps->memory = size_value(c, v, "memory", 16ull << 20);
	} else if (str_eq(k, "tmp-size")) {
		ps->tmp = size_value(c, v, "tmp-size", 1ull << 20);
	} else if (str_eq(k, "pids")) {
		int64_t i;
		if (ynode_int(v, &i) < 0 || i < 8 || i > SANDBOXCFG_MAX_PIDS) {
			err_at(c, v, NULL,
			       "sandbox.pids must be a whole number from 8 to %d, not %.60s",
			       SANDBOXCFG_MAX_PIDS,
			       ynode_str(v) ? ynode_str(v) : ynode_type_name(v));
		} else {
			ps->pids = (uint64_t)i;
		}
	} else if (str_eq(k, "cpu-time")) {
		const char *s = ynode_str(v);
		uint64_t ms = 0;
		int r = s && v->kind == YNODE_SCALAR ? parse_duration(s, MAX_CPU_S * 1000, &ms)
						     : -EINVAL;
		if (r < 0 || ms < 1000) {
			err_at(c, v, "use a duration of at least 1s: 30s, 10m, 2h (at most 7d)",
			       "bad duration '%.60s' for sandbox.cpu-time",
			       s ? s : ynode_type_name(v));
		} else {
			ps->cpu_s = (ms + 999) / 1000;
		}
	} else if (str_eq(k, "workspace")) {
		const char *s = text(c, v, "workspace", "write workspace: read-only");
		if (str_eq(s, "read-only") || str_eq(s, "read-write")) {
			ps->workspace_ro = str_eq(s, "read-only");
		} else if (s) {
			err_at(c, v, "write read-only or read-write",
			       "unknown workspace mode '%.60s'", s);
		}
	} else if (str_eq(k, "read-only")) {
		ps->ro = paths(c, v, "read-only", &ps->n_ro);
		ps->has_ro = true;
	} else if (str_eq(k, "read-write")) {
		ps->rw = paths(c, v, "read-write", &ps->n_rw);
		ps->has_rw = true;
	} else if (str_eq(k, "rootfs")) {
		const char *s = text(c, v, "rootfs", "write rootfs: /srv/rootfs/debian-12");
		if (s && (strlen(s) > PATH_MAX / 4 || str_eq(s, "/") ||
			  (s[0] != '/' && !valid_rel(s)))) {
			err_at(c, v,
			       "give a directory other than /: absolute, or relative to the "
			       "workspace",
			       "sandbox.rootfs '%.100s' cannot be used as a root filesystem", s);
		} else {
			ps->rootfs = s;
		}
	}
}

int psandbox_load(struct arena *a, const char *file, const struct ynode *n,
		  const struct psandbox *base, const struct psandbox **out, struct diag_list *dl)
{
	struct ctx c = { .a = a, .file = file, .dl = dl, .ok = true };
	if (!n || n->kind != YNODE_MAP) {
		diag_error(dl, file, n ? n->line : 0, n ? n->col : 0,
			   "write sandbox: { network: none, memory: 2G }",
			   "sandbox must be a mapping, not %s", ynode_type_name(n));
		return -EINVAL;
	}
	struct psandbox *ps = arena_alloc(a, sizeof(*ps));
	if (!ps) {
		return -ENOMEM;
	}
	if (base) {
		*ps = *base;
	} else {
		memset(ps, 0, sizeof(*ps));
		ps->network = -1;
		ps->workspace_ro = -1;
	}
	ps->line = n->line;
	ps->col = n->col;
	for (size_t i = 0; i < n->map.n; i++) {
		const struct ynode *k = n->map.v[i].key, *v = n->map.v[i].value;
		bool known = false;
		for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
			known |= str_eq(k->scalar.s, keys[j]);
		}
		if (!known) {
			const char *near = closest_word(k->scalar.s, keys, ARRAY_SIZE(keys));
			char hint[300];
			if (near) {
				snprintf(hint, sizeof(hint), "did you mean `%s`?", near);
			} else {
				snprintf(hint, sizeof(hint),
					 "valid keys are: network, memory, pids, cpu-time, "
					 "tmp-size, "
					 "workspace, read-only, read-write, rootfs");
			}
			err_at(&c, k, hint, "unknown key '%.100s' in sandbox", k->scalar.s);
			continue;
		}
		if (!v || ynode_is_null(v)) {
			err_at(&c, k, "give it a value or remove the key",
			       "sandbox.%s has no value", k->scalar.s);
			continue;
		}
		load_key(&c, ps, k->scalar.s, v);
	}
	for (size_t i = 0; c.ok && i < ps->n_ro; i++) {
		for (size_t j = 0; j < ps->n_rw; j++) {
			if (str_eq(ps->ro[i], ps->rw[j])) {
				const struct ynode *at = ynode_get(n, "read-write");
				err_at(&c, at ? at : n, "list it in one of them",
				       "'%.100s' is both read-only and read-write", ps->ro[i]);
			}
		}
	}
	if (!c.ok) {
		return -EINVAL;
	}
	*out = ps;
	return 0;
}

int psandbox_apply(const struct psandbox *ps, const char *workspace, struct sandbox_policy *pol,
		   char *err, size_t errsize)
{
	int r = 0;
	if (ps->network >= 0) {
		r = sandbox_policy_set_network(pol,
					       ps->network ? SANDBOX_NET_HOST : SANDBOX_NET_NONE);
	}
	static const enum sandbox_limit which[] = { SANDBOX_LIMIT_MEMORY, SANDBOX_LIMIT_TMP,
						    SANDBOX_LIMIT_PIDS, SANDBOX_LIMIT_CPU };
	const uint64_t vals[] = { ps->memory, ps->tmp, ps->pids, ps->cpu_s };
	for (size_t i = 0; i < ARRAY_SIZE(which) && r == 0; i++) {
		if (vals[i]) {
			r = sandbox_policy_set_limit(pol, which[i], vals[i]);
		}
	}
	if (r == 0 && ps->workspace_ro >= 0) {
		r = sandbox_policy_set_workspace_readonly(pol, ps->workspace_ro == 1);
	}
	for (size_t i = 0; i < ps->n_ro && r == 0; i++) {
		r = sandbox_policy_add_path(pol, ps->ro[i], false);
	}
	for (size_t i = 0; i < ps->n_rw && r == 0; i++) {
		r = sandbox_policy_add_path(pol, ps->rw[i], true);
	}
	if (r == 0 && ps->rootfs) {
		_cleanup_free_ char *abs = ps->rootfs[0] == '/'
						   ? xstrdup(ps->rootfs)
						   : xasprintf("%s/%s", workspace, ps->rootfs);
		r = sandbox_policy_set_rootfs(pol, abs);
	}
	if (r < 0) {
		errf(err, errsize, 0, "the stage's sandbox settings cannot be applied: %s",
		     strerror(-r));
	}
	return r;
}

/*
 * The repository's .git is read-only unless the stage asks for it read-write: a stage that
 * could write it could plant a hook or a config entry (core.fsmonitor, core.hooksPath)
 * that runs on the host, outside any sandbox, the next time someone uses git there. Also
 * when it is a file (a worktree's or a submodule's "gitdir: ..."), which a stage could
 * point at a directory of its own; a symbolic link cannot be bound read-only, and the
 * stage then does not start (its read-only path is refused as a link).
 */
static void protect_git(struct sandbox_policy *pol, const char *workspace)
{
	struct stat st;
	_cleanup_free_ char *git = xasprintf("%s/.git", workspace);
	if (sandbox_policy_workspace_readonly(pol) || lstat(git, &st) < 0) {
		return;
	}
	const char *rel;
	for (size_t i = 0; (rel = sandbox_policy_path(pol, i, NULL)); i++) {
		if (str_eq(rel, ".git")) {
			return; /* the stage said how it wants it */
		}
	}
	sandbox_policy_add_path(pol, ".git", false);
}

/* One stage's policy, uncompiled, or NULL with *err set. */
static struct sandbox_policy *stage_policy(const struct pstage *st, const char *workspace,
					   const struct sandbox_policy *enforced, char **err)
{
	char msg[300];
	struct sandbox_policy *pol = sandbox_policy_new();
	if (st->kind && (st->kind->flags & STAGE_KIND_NETWORK)) {
		sandbox_policy_set_network(pol, SANDBOX_NET_HOST);
	}
	/* A built-in kind never runs in a root filesystem (pipeline.c refuses one on the stage
	 * itself; the defaults' is for scripts). */
	struct psandbox own;
	const struct psandbox *ps = st->sandbox;
	if (ps && ps->rootfs && st->kind && !(st->kind->flags & STAGE_KIND_SCRIPT)) {
		own = *ps;
		own.rootfs = NULL;
		ps = &own;
	}
	if (ps && psandbox_apply(ps, workspace, pol, msg, sizeof(msg)) < 0) {
		*err = xstrdup(msg);
		sandbox_policy_free(pol);
		return NULL;
	}
	protect_git(pol, workspace);
	if (enforced) {
		const char *why;
		struct sandbox_policy *both = sandbox_policy_stricter(enforced, pol, &why);
		sandbox_policy_free(pol);
		if (!both) {
			*err = xstrdup(why);
			return NULL;
		}
		pol = both;
	}
	return pol;
}

void run_policies_build(struct run_policies *rp, const struct pipeline *p, const bool *selected,
			const struct sandbox_policy *enforced, bool no_sandbox)
{
	memset(rp, 0, sizeof(*rp));
	rp->of_stage = xcalloc(p->n_stages ? p->n_stages : 1, sizeof(size_t));
	rp->v = xcalloc(p->n_stages + 1, sizeof(*rp->v));
	rp->err = xcalloc(p->n_stages + 1, sizeof(*rp->err));
	for (size_t i = 0; i < p->n_stages; i++) {
		rp->of_stage[i] = SIZE_MAX;
		if (!selected[i]) {
			continue;
		}
		char *err = NULL;
		struct sandbox_policy *pol =
			no_sandbox ? sandbox_policy_new_unconfined()
				   : stage_policy(p->stages[i], p->dir, enforced, &err);
		size_t k = 0;
		while (pol && k < rp->n && !(rp->v[k] && sandbox_policy_equal(rp->v[k], pol))) {
			k++;
		}
		if (pol && k < rp->n) {
			sandbox_policy_free(pol);
			rp->of_stage[i] = k;
			continue;
		}
		if (pol) {
			char cerr[256];
			if (sandbox_policy_compile(pol, cerr, sizeof(cerr)) < 0) {
				err = xstrdup(cerr);
			}
		}
		rp->v[rp->n] = pol;
		rp->err[rp->n] = err;
		rp->of_stage[i] = rp->n++;
	}
}

void run_policies_release(struct run_policies *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		sandbox_policy_free(rp->v[i]);
		free(rp->err[i]);
	}
	free(rp->v);
	free(rp->err);
	free(rp->of_stage);
	memset(rp, 0, sizeof(*rp));
}
