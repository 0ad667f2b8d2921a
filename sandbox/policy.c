/*
 * policy.c - sandbox policies: defaults, setters, the stricter combination of two, and
 * compilation.
 *
 * A policy is mutable until sandbox_policy_compile(), which generates its seccomp filter
 * and records what the host offers (user namespaces, cgroups); after that it is read-only
 * and may be shared by concurrent spawns. Limits carry a "required" bit: a limit the user
 * or an enforced policy set explicitly must be applied or the stage fails to start; a
 * default limit is applied where the host allows it.
 */
#include "internal.h"

#include "util.h"

#include <stdio.h>
#include <sys/resource.h>

#include "banned.h"

#define MAX_PATHS ROOT_MAX_PATHS

/* Defaults: generous for builds, firm against runaways. See docs/sandbox.md. */
static const uint64_t default_limit[SANDBOX_LIMIT_COUNT] = {
	[SANDBOX_LIMIT_MEMORY] = 4ull << 30, [SANDBOX_LIMIT_PIDS] = 1024,
	[SANDBOX_LIMIT_CPU] = 24ull * 3600,  [SANDBOX_LIMIT_TMP] = 1ull << 30,
	[SANDBOX_LIMIT_NOFILE] = 4096,	     [SANDBOX_LIMIT_FSIZE] = 16ull << 30,
};

static const char *const limit_names[SANDBOX_LIMIT_COUNT] = {
	[SANDBOX_LIMIT_MEMORY] = "memory", [SANDBOX_LIMIT_PIDS] = "pids",
	[SANDBOX_LIMIT_CPU] = "cpu-time",  [SANDBOX_LIMIT_TMP] = "tmp-size",
	[SANDBOX_LIMIT_NOFILE] = "nofile", [SANDBOX_LIMIT_FSIZE] = "fsize",
};

const char *sandbox_limit_name(enum sandbox_limit which)
{
	return which < SANDBOX_LIMIT_COUNT ? limit_names[which] : "?";
}

const char *sandbox_network_name(enum sandbox_network net)
{
	return net == SANDBOX_NET_HOST ? "host" : "none";
}

struct sandbox_policy *sandbox_policy_new(void)
{
	struct sandbox_policy *pol = xcalloc(1, sizeof(*pol));
	pol->confined = true;
	pol->net = SANDBOX_NET_NONE;
	memcpy(pol->limit, default_limit, sizeof(pol->limit));
	return pol;
}

struct sandbox_policy *sandbox_policy_new_unconfined(void)
{
	struct sandbox_policy *pol = sandbox_policy_new();
	pol->confined = false;
	pol->net = SANDBOX_NET_HOST;
	return pol;
}

struct sandbox_policy *sandbox_policy_copy(const struct sandbox_policy *src)
{
	struct sandbox_policy *pol = xcalloc(1, sizeof(*pol));
	pol->confined = src->confined;
	pol->forbid_rootfs = src->forbid_rootfs;
	pol->net = src->net;
	memcpy(pol->limit, src->limit, sizeof(pol->limit));
	pol->required = src->required;
	pol->ws_ro = src->ws_ro;
	pol->oneshot = src->oneshot;
	pol->rootfs = src->rootfs ? xstrdup(src->rootfs) : NULL;
	if (src->n_paths) {
		pol->paths = xcalloc(src->n_paths, sizeof(*pol->paths));
		for (size_t i = 0; i < src->n_paths; i++) {
			pol->paths[i].rel = xstrdup(src->paths[i].rel);
			pol->paths[i].writable = src->paths[i].writable;
		}
		pol->n_paths = src->n_paths;
	}
	return pol;
}

void sandbox_policy_free(struct sandbox_policy *pol)
{
	if (!pol) {
		return;
	}
	for (size_t i = 0; i < pol->n_paths; i++) {
		free(pol->paths[i].rel);
	}
	free(pol->paths);
	free(pol->rootfs);
	free(pol->filter);
	etc_view_put(pol->etc);
	free(pol);
}

int sandbox_policy_set_network(struct sandbox_policy *pol, enum sandbox_network net)
{
	if (pol->compiled || (net != SANDBOX_NET_NONE && net != SANDBOX_NET_HOST)) {
		return -EINVAL;
	}
	pol->net = net;
	return 0;
}

int sandbox_policy_set_limit(struct sandbox_policy *pol, enum sandbox_limit which, uint64_t v)
{
	static const uint64_t min[SANDBOX_LIMIT_COUNT] = {
		[SANDBOX_LIMIT_MEMORY] = SANDBOX_MIN_MEMORY,
		[SANDBOX_LIMIT_PIDS] = SANDBOX_MIN_PIDS,
		[SANDBOX_LIMIT_CPU] = 1,
		[SANDBOX_LIMIT_TMP] = SANDBOX_MIN_TMP,
		[SANDBOX_LIMIT_NOFILE] = 16,
		[SANDBOX_LIMIT_FSIZE] = 1 << 20,
	};
	if (pol->compiled || which >= SANDBOX_LIMIT_COUNT) {
		return -EINVAL;
	}
	if (v < min[which] || v > (1ull << 50)) {
		return -ERANGE;
	}
	pol->limit[which] = v;
	pol->required |= 1u << which;
	return 0;
}

int sandbox_policy_set_oneshot(struct sandbox_policy *pol, bool oneshot)
{
	if (pol->compiled) {
		return -EINVAL;
	}
	pol->oneshot = oneshot;
	return 0;
}

int sandbox_policy_set_workspace_readonly(struct sandbox_policy *pol, bool ro)
{
	if (pol->compiled) {
		return -EINVAL;
	}
	pol->ws_ro = ro;
	return 0;
}

/* Relative, no "..", no empty or "." components, no NUL tricks; at most PATH_MAX/4. */
static bool valid_rel(const char *rel)
{
	size_t n = strlen(rel);
	if (n == 0 || n > PATH_MAX / 4 || rel[0] == '/') {
		return false;
	}
	for (const char *p = rel; *p;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if ((len == 2 && p[0] == '.' && p[1] == '.') || (len == 1 && p[0] == '.') ||
		    (len == 0 && e && e[1] != '\0')) {
			return false;
		}
		p += len;
		if (*p == '/') {
			p++;
		}
	}
	return true;
}

int sandbox_policy_add_path(struct sandbox_policy *pol, const char *rel, bool writable)
{
	if (pol->compiled || !valid_rel(rel)) {
		return -EINVAL;
	}
	if (pol->n_paths >= MAX_PATHS) {
		return -E2BIG;
	}
	size_t n = strlen(rel);
	while (n > 1 && rel[n - 1] == '/') {
		n--;
	}
	for (size_t i = 0; i < pol->n_paths; i++) {
		if (strlen(pol->paths[i].rel) == n && strncmp(pol->paths[i].rel, rel, n) == 0) {
			return -EEXIST;
		}
	}
	pol->paths = xreallocarray(pol->paths, pol->n_paths + 1, sizeof(*pol->paths));
	pol->paths[pol->n_paths].rel = xstrndup(rel, n);
	pol->paths[pol->n_paths].writable = writable;
	pol->n_paths++;
	return 0;
}

int sandbox_policy_set_rootfs(struct sandbox_policy *pol, const char *dir)
{
	if (pol->compiled || !dir || dir[0] != '/' || strlen(dir) > PATH_MAX / 4) {
		return -EINVAL;
	}
	free(pol->rootfs);
	pol->rootfs = xstrdup(dir);
	return 0;
}

int sandbox_policy_forbid_rootfs(struct sandbox_policy *pol)
{
	if (pol->compiled) {
		return -EINVAL;
	}
	pol->forbid_rootfs = true;
	return 0;
}

struct sandbox_policy *sandbox_policy_stricter(const struct sandbox_policy *enf,
					       const struct sandbox_policy *req, const char **err)
{
	*err = NULL;
	if (req->rootfs && enf->forbid_rootfs && !str_eq(req->rootfs, enf->rootfs)) {
		*err = "the runner's policy does not allow a stage to choose its root filesystem";
		return NULL;
	}
	struct sandbox_policy *pol = sandbox_policy_copy(enf);
	pol->confined = enf->confined || req->confined;
	pol->net = enf->net == SANDBOX_NET_HOST && req->net == SANDBOX_NET_HOST ? SANDBOX_NET_HOST
										: SANDBOX_NET_NONE;
	for (int i = 0; i < SANDBOX_LIMIT_COUNT; i++) {
		uint64_t a = enf->limit[i], b = req->limit[i];
		pol->limit[i] = a && b ? MIN(a, b) : MAX(a, b);
	}
	pol->required = enf->required | req->required;
	pol->ws_ro = enf->ws_ro || req->ws_ro;
	if (!pol->rootfs && req->rootfs) {
		pol->rootfs = xstrdup(req->rootfs);
	}
	/* Requested paths: read-only ones always apply (they only take away); writable ones
	 * only where the enforced policy leaves the workspace writable. */
	for (size_t i = 0; i < req->n_paths; i++) {
		if (req->paths[i].writable && enf->ws_ro) {
			continue;
		}
		bool clash = false;
		for (size_t k = 0; k < pol->n_paths; k++) {
			if (str_eq(pol->paths[k].rel, req->paths[i].rel)) {
				clash = true;
				pol->paths[k].writable &= req->paths[i].writable;
			}
		}
		if (!clash) {
			sandbox_policy_add_path(pol, req->paths[i].rel, req->paths[i].writable);
		}
	}
	return pol;
}

bool sandbox_policy_equal(const struct sandbox_policy *a, const struct sandbox_policy *b)
{
	if (a->confined != b->confined || a->net != b->net || a->ws_ro != b->ws_ro ||
	    a->oneshot != b->oneshot || a->required != b->required ||
	    a->forbid_rootfs != b->forbid_rootfs ||
	    memcmp(a->limit, b->limit, sizeof(a->limit)) != 0 || a->n_paths != b->n_paths ||
	    !!a->rootfs != !!b->rootfs || (a->rootfs && !str_eq(a->rootfs, b->rootfs))) {
		return false;
	}
	for (size_t i = 0; i < a->n_paths; i++) {
		if (!str_eq(a->paths[i].rel, b->paths[i].rel) ||
		    a->paths[i].writable != b->paths[i].writable) {
			return false;
		}
	}
	return true;
}

static int read_int_file(const char *path, long *out)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_capped(path, 64, &buf, &len);
	if (r < 0) {
		return r;
	}
	char *end;
	errno = 0;
	*out = strtol(buf, &end, 10);
	return errno || end == buf ? -EINVAL : 0;
}

int sandbox_policy_compile(struct sandbox_policy *pol, char *err, size_t errsize)
{
	err[0] = '\0';
	if (pol->compiled) {
		return 0;
	}
	if (!pol->confined) {
		pol->compiled = true;
		return 0;
	}
	long last_cap;
	if (read_int_file("/proc/sys/kernel/cap_last_cap", &last_cap) < 0 || last_cap < 0 ||
	    last_cap > 63) {
		last_cap = 63; /* dropping unknown capabilities fails harmlessly */
	}
	pol->last_cap = (int)last_cap;
	pol->uid = geteuid();
	pol->gid = getegid();
	pol->userns = pol->uid != 0;

	int r = filter_build(pol, &pol->filter, &pol->filter_len, err, errsize);
	if (r < 0) {
		return r;
	}
	cgroup_detect(&pol->cg);
	/* Without a cgroup, a stage in its own user namespace still gets a per-stage process
	 * count: RLIMIT_NPROC is counted per user namespace. As root there is no such
	 * fallback (root is exempt from RLIMIT_NPROC). */
	pol->pids_by_userns = !pol->cg.pids_ok && pol->userns;
	if ((pol->required & (1u << SANDBOX_LIMIT_MEMORY)) && !pol->cg.memory_ok) {
		return errf(err, errsize, -EOPNOTSUPP,
			    "memory limit: no usable cgroup memory controller (%s)", pol->cg.why);
	}
	if ((pol->required & (1u << SANDBOX_LIMIT_PIDS)) && !pol->cg.pids_ok &&
	    !pol->pids_by_userns) {
		return errf(err, errsize, -EOPNOTSUPP,
			    "pids limit: no usable cgroup pids controller (%s)", pol->cg.why);
	}
	/* Without CAP_SYS_RESOURCE in the initial user namespace (not root), a hard limit
	 * cannot be raised: a default above this user's own comes down to it, an explicit
	 * one is refused. */
	static const struct {
		enum sandbox_limit which;
		int resource;
	} rl_limits[] = { { SANDBOX_LIMIT_NOFILE, RLIMIT_NOFILE },
			  { SANDBOX_LIMIT_FSIZE, RLIMIT_FSIZE },
			  { SANDBOX_LIMIT_CPU, RLIMIT_CPU } };
	for (size_t i = 0; pol->userns && i < ARRAY_SIZE(rl_limits); i++) {
		struct rlimit rl;
		enum sandbox_limit w = rl_limits[i].which;
		/* RLIMIT_CPU's hard limit is set a few seconds above the soft one. */
		uint64_t need = pol->limit[w] + (w == SANDBOX_LIMIT_CPU ? 5 : 0);
		if (getrlimit(rl_limits[i].resource, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
		    need <= rl.rlim_max) {
			continue;
		}
		if (pol->required & (1u << w)) {
			return errf(err, errsize, -EPERM,
				    "%s limit: %llu is above this user's hard limit of %llu",
				    limit_names[w], (unsigned long long)pol->limit[w],
				    (unsigned long long)rl.rlim_max);
		}
		uint64_t slack = w == SANDBOX_LIMIT_CPU ? 5 : 0;
		pol->limit[w] = rl.rlim_max > slack ? rl.rlim_max - slack : 1;
	}
	if (!pol->rootfs) {
		pol->etc = etc_view_get(pol->oneshot, err, errsize);
		if (!pol->etc) {
			return -EIO;
		}
	}
	pol->compiled = true;
	return 0;
}

bool sandbox_policy_confined(const struct sandbox_policy *pol)
{
	return pol->confined;
}

enum sandbox_network sandbox_policy_network(const struct sandbox_policy *pol)
{
	return pol->net;
}

uint64_t sandbox_policy_limit(const struct sandbox_policy *pol, enum sandbox_limit which,
			      bool *required)
{
	if (which >= SANDBOX_LIMIT_COUNT) {
		return 0;
	}
	if (required) {
		*required = pol->required & (1u << which);
	}
	return pol->limit[which];
}

const char *sandbox_policy_rootfs(const struct sandbox_policy *pol)
{
	return pol->rootfs;
}

bool sandbox_policy_workspace_readonly(const struct sandbox_policy *pol)
{
	return pol->ws_ro;
}

const char *sandbox_policy_path(const struct sandbox_policy *pol, size_t i, bool *writable)
{
	if (i >= pol->n_paths) {
		return NULL;
	}
	if (writable) {
		*writable = pol->paths[i].writable;
	}
	return pol->paths[i].rel;
}
