/*
 * cgroup.c - per-stage cgroups for the memory and pids limits (runner side).
 *
 * The runner makes one cgroup per stage under its own (so a runner confined by its service
 * manager confines its stages further), writes the limits, and opens each cgroup.procs for
 * writing (v1: "tasks"); the shim, first thing after it starts, writes "0" there to move itself
 * (and so every process it will start) into the stage's cgroup before it forks anything. When the
 * stage has ended the directories are removed. cgroup v1 (separate memory and pids
 * hierarchies) and v2 (one hierarchy whose controllers are delegated to the runner's
 * cgroup) are both understood; with neither, the limits that need a cgroup are
 * unavailable, which the policy reports or, for a required limit, refuses.
 */
#include "internal.h"

#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define CGROUP_FS "/sys/fs/cgroup"

/* The runner's own cgroup path for a v1 controller or v2 ("" for v2), from /proc/self/cgroup. */
static bool own_cgroup(const char *controller, char *out, size_t size)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_file_capped("/proc/self/cgroup", 64u << 10, &buf, &len) < 0) {
		return false;
	}
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
		}
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = '\0';
			const char *ctrls = c1 + 1, *path = c2 + 1;
			bool match = false;
			if (!*controller) {
				match = !*ctrls && str_eq(line, "0");
			} else {
				for (const char *p = ctrls; *p;) {
					const char *e = strchr(p, ',');
					size_t n = e ? (size_t)(e - p) : strlen(p);
					match |= n == strlen(controller) &&
						 strncmp(p, controller, n) == 0;
					p += n + (e ? 1 : 0);
				}
			}
			if (match) {
				return (size_t)snprintf(out, size, "%s", path) < size;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

static bool writable_dir(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
}

static bool file_has_word(const char *path, const char *word)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_file_capped(path, 4096, &buf, &len) < 0) {
		return false;
	}
	for (char *tok = buf; *tok;) {
		size_t n = strcspn(tok, " \n");
		if (n == strlen(word) && strncmp(tok, word, n) == 0) {
			return true;
		}
		tok += n;
		tok += strspn(tok, " \n");
	}
	return false;
}

/* Stage cgroups left behind by runners that were killed: runner-<pid>-<n>, pid gone,
 * empty (a cgroup with processes cannot be removed, and is left alone). */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid = 0, n = 0;
		if (sscanf(de->d_name, "runner-%d-%*u%n", &pid, &n) != 1 || n == 0 || pid <= 0 ||
		    de->d_name[n] != '\0') {
			continue;
		}
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			char path[PATH_MAX + 300];
			set_text(path, sizeof(path), "%s/%s", base, de->d_name);
			rmdir(path);
		}
	}
	if (d) {
		closedir(d);
	}
}

int cgroup_detect(struct cgroup_host *h)
{
	char own[PATH_MAX];
	memset(h, 0, sizeof(*h));
	/* v1: separate hierarchies for memory and pids, as on most hosts with systemd's
	 * "hybrid" layout and on this project's CI machine. */
	if (own_cgroup("memory", own, sizeof(own))) {
		set_text(h->memory, sizeof(h->memory), CGROUP_FS "/memory%s", own);
		h->memory_ok = writable_dir(h->memory);
		h->version = 1;
	}
	if (own_cgroup("pids", own, sizeof(own))) {
		set_text(h->pids, sizeof(h->pids), CGROUP_FS "/pids%s", own);
		h->pids_ok = writable_dir(h->pids);
		h->version = 1;
	}
	if (h->memory_ok) {
		remove_stale(h->memory);
	}
	if (h->pids_ok) {
		remove_stale(h->pids);
	}
	if (h->version == 1) {
		if (!h->memory_ok || !h->pids_ok) {
			set_text(h->why, sizeof(h->why),
				 "cgroup v1: %s is not writable by this user",
				 !h->memory_ok ? (h->memory[0] ? h->memory : "memory")
					       : (h->pids[0] ? h->pids : "pids"));
		}
		return 0;
	}
	/* v2: the controllers must be enabled for the runner's cgroup's children. */
	if (own_cgroup("", own, sizeof(own))) {
		char ctl[PATH_MAX + 32];
		set_text(h->unified, sizeof(h->unified), CGROUP_FS "%s", own);
		set_text(ctl, sizeof(ctl), "%s/cgroup.subtree_control", h->unified);
		if (writable_dir(h->unified)) {
			h->version = 2;
			h->memory_ok = file_has_word(ctl, "memory");
			h->pids_ok = file_has_word(ctl, "pids");
			remove_stale(h->unified);
			if (!h->memory_ok || !h->pids_ok) {
				set_text(h->why, sizeof(h->why),
					 "cgroup v2: memory and pids are not delegated to %.100s",
					 h->unified);
			}
			return 0;
		}
		set_text(h->why, sizeof(h->why), "cgroup v2: %.100s is not writable by this user",
			 h->unified);
		return 0;
	}
	set_text(h->why, sizeof(h->why), "no cgroup hierarchy found");
	return 0;
}

static int write_value(const char *dir, const char *file, uint64_t v, bool optional)
{
	char path[PATH_MAX + 64], num[32];
	set_text(path, sizeof(path), "%s/%s", dir, file);
	set_text(num, sizeof(num), "%llu", (unsigned long long)v);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return optional && errno == ENOENT ? 0 : -errno;
	}
	int r = write_all(fd, num, strlen(num));
	close(fd);
	return r;
}

static int add_dir(struct stage_cgroup *cg, const char *base, const char *name, bool v1, char *err,
		   size_t errsize)
{
	char *dir = xasprintf("%s/%s", base, name);
	if (mkdir(dir, 0755) < 0) {
		int e = -errno;
		errf(err, errsize, 0, "create cgroup %s: %s", dir, strerror(errno));
		free(dir);
		return e;
	}
	cg->dirs[cg->n] = dir;
	cg->procs_fd[cg->n] = -1;
	cg->n++;
	/* v1: the shim moves itself (a single thread) through "tasks": moving one thread
	 * skips the global threadgroup lock that moving a whole process through cgroup.procs
	 * takes, and with it an RCU grace period, milliseconds on a busy machine. */
	char procs[PATH_MAX + 32];
	set_text(procs, sizeof(procs), "%s/%s", dir, v1 ? "tasks" : "cgroup.procs");
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		return errf(err, errsize, e, "open %s: %s", procs, strerror(errno));
	}
	cg->procs_fd[cg->n - 1] = fd;
	/* The counters it has (which depends on the version and the controller). */
	static const char *const events[] = { "memory.oom_control", "memory.events",
					      "pids.events" };
	for (size_t i = 0; i < ARRAY_SIZE(events) && cg->n_ev < (int)ARRAY_SIZE(cg->ev_fd); i++) {
		char path[PATH_MAX + 32];
		set_text(path, sizeof(path), "%s/%s", dir, events[i]);
		int efd = open(path, O_RDONLY | O_CLOEXEC);
		if (efd >= 0) {
			cg->ev_fd[cg->n_ev] = efd;
			cg->ev_pids[cg->n_ev] = i == 2;
			cg->n_ev++;
		}
	}
	return 0;
}

/*
 * Empty stage cgroups kept for reuse. Making a cgroup and removing it again is a large
 * part of a stage's setup cost (the memory controller allocates and frees per-CPU state,
 * removal waits for the kernel to offline it); an emptied cgroup holds no process and no
 * limit of anyone else, so the next stage with the same limits takes it. Its counters
 * are read when a stage starts, so that the limits a stage hit are its own. What stays
 * charged to it is page cache of files an earlier stage touched, which the kernel
 * reclaims under the limit like any other. Only the process that made them removes them,
 * when it exits.
 */
#define POOL_MAX 8
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stage_cgroup pool[POOL_MAX];
static size_t pool_n;
static pid_t pool_owner;

static void remove_dirs(struct stage_cgroup *cg)
{
	for (int i = 0; i < cg->n_ev; i++) {
		close(cg->ev_fd[i]);
	}
	cg->n_ev = 0;
	for (int i = 0; i < cg->n; i++) {
		/* Every process has been reaped by now; a freshly emptied cgroup can still be
		 * busy for a moment while the kernel finishes with the last task. */
		for (int tries = 0; tries < 50 && rmdir(cg->dirs[i]) < 0 && errno == EBUSY;
		     tries++) {
			usleep(1000);
		}
		free(cg->dirs[i]);
		cg->dirs[i] = NULL;
	}
	cg->n = 0;
}

static void pool_cleanup(void)
{
	pthread_mutex_lock(&pool_lock);
	if (pool_owner == getpid()) {
		for (size_t i = 0; i < pool_n; i++) {
			remove_dirs(&pool[i]);
		}
		pool_n = 0;
	}
	pthread_mutex_unlock(&pool_lock);
}

/* The sum of the oom_kill (pids: max) counts of the cgroup's counter files, each read
 * afresh from its start. */
static uint64_t count_events(const struct stage_cgroup *cg, bool pids)
{
	uint64_t sum = 0;
	const char *key = pids ? "max" : "oom_kill";
	size_t kl = strlen(key);
	for (int i = 0; i < cg->n_ev; i++) {
		char buf[4096];
		ssize_t n =
			cg->ev_pids[i] == pids ? pread(cg->ev_fd[i], buf, sizeof(buf) - 1, 0) : -1;
		if (n <= 0) {
			continue;
		}
		buf[n] = '\0';
		for (char *line = buf; line && *line;) {
			if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
				sum += strtoull(line + kl + 1, NULL, 10);
				break;
			}
			line = strchr(line, '\n');
			line = line ? line + 1 : NULL;
		}
	}
	return sum;
}

static void read_baselines(struct stage_cgroup *cg)
{
	cg->oom_base = count_events(cg, false);
	cg->pids_base = count_events(cg, true);
}

static bool reuse(struct stage_cgroup *cg, int version, uint64_t mem, uint64_t pids)
{
	bool found = false;
	pthread_mutex_lock(&pool_lock);
	for (size_t i = 0; i < pool_n && !found; i++) {
		if (pool[i].mem == mem && pool[i].pids == pids) {
			*cg = pool[i];
			pool[i] = pool[--pool_n];
			found = true;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	for (int i = 0; found && i < cg->n; i++) {
		char procs[PATH_MAX + 32];
		set_text(procs, sizeof(procs), "%s/%s", cg->dirs[i],
			 version == 1 ? "tasks" : "cgroup.procs");
		cg->procs_fd[i] = open(procs, O_WRONLY | O_CLOEXEC);
		found = cg->procs_fd[i] >= 0;
	}
	if (!found && cg->n) {
		cgroup_destroy(cg);
	}
	return found;
}

int cgroup_create(const struct sandbox_policy *pol, struct stage_cgroup *cg, char *err,
		  size_t errsize)
{
	static atomic_uint seq;
	const struct cgroup_host *h = &pol->cg;
	uint64_t mem = h->memory_ok ? pol->limit[SANDBOX_LIMIT_MEMORY] : 0;
	uint64_t pids = h->pids_ok ? pol->limit[SANDBOX_LIMIT_PIDS] : 0;
	char name[64];
	int r = 0;

	memset(cg, 0, sizeof(*cg));
	cg->procs_fd[0] = cg->procs_fd[1] = -1;
	if (!mem && !pids) {
		return 0;
	}
	if (reuse(cg, h->version, mem, pids)) {
		read_baselines(cg);
		return 0;
	}
	memset(cg, 0, sizeof(*cg));
	cg->procs_fd[0] = cg->procs_fd[1] = -1;
	cg->mem = mem;
	cg->pids = pids;
	set_text(name, sizeof(name), "runner-%d-%u", (int)getpid(), atomic_fetch_add(&seq, 1));
	if (h->version == 2) {
		r = add_dir(cg, h->unified, name, false, err, errsize);
		if (r == 0 && mem) {
			r = write_value(cg->dirs[0], "memory.max", mem, false);
			if (r == 0) {
				r = write_value(cg->dirs[0], "memory.swap.max", 0, true);
			}
		}
		if (r == 0 && pids) {
			r = write_value(cg->dirs[0], "pids.max", pids, false);
		}
	} else {
		if (mem) {
			r = add_dir(cg, h->memory, name, true, err, errsize);
			if (r == 0) {
				r = write_value(cg->dirs[cg->n - 1], "memory.limit_in_bytes", mem,
						false);
			}
			if (r == 0) {
				/* Swap counts too, where the kernel accounts it. */
				r = write_value(cg->dirs[cg->n - 1], "memory.memsw.limit_in_bytes",
						mem, true);
			}
		}
		if (r == 0 && pids) {
			r = add_dir(cg, h->pids, name, true, err, errsize);
			if (r == 0) {
				r = write_value(cg->dirs[cg->n - 1], "pids.max", pids, false);
			}
		}
	}
	if (r < 0) {
		if (!err[0]) {
			errf(err, errsize, 0, "set cgroup limits in %s: %s", cg->dirs[cg->n - 1],
			     strerror(-r));
		}
		cgroup_destroy(cg);
	}
	return r;
}

/* Whether a cgroup has no process left (its procs file reads empty). */
static bool is_empty(const char *dir)
{
	char path[PATH_MAX + 32];
	char c;
	set_text(path, sizeof(path), "%s/cgroup.procs", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, &c, 1) : -1;
	if (fd >= 0) {
		close(fd);
	}
	return n == 0;
}

void cgroup_release(struct stage_cgroup *cg)
{
	for (int i = 0; i < cg->n; i++) {
		if (cg->procs_fd[i] >= 0) {
			close(cg->procs_fd[i]);
			cg->procs_fd[i] = -1;
		}
	}
	bool keep = cg->n > 0;
	for (int i = 0; keep && i < cg->n; i++) {
		keep = is_empty(cg->dirs[i]);
	}
	pthread_mutex_lock(&pool_lock);
	if (keep && pool_n < POOL_MAX && (pool_owner == 0 || pool_owner == getpid())) {
		if (pool_owner == 0) {
			pool_owner = getpid();
			atexit(pool_cleanup);
		}
		pool[pool_n++] = *cg;
		memset(cg, 0, sizeof(*cg));
		keep = true;
	} else {
		keep = false;
	}
	pthread_mutex_unlock(&pool_lock);
	if (!keep) {
		remove_dirs(cg);
	}
}

const char *cgroup_limit_hit(const struct stage_cgroup *cg)
{
	uint64_t oom = count_events(cg, false), pids = count_events(cg, true);
	if (oom > cg->oom_base) {
		return "the memory limit was reached and the kernel killed a process";
	}
	if (pids > cg->pids_base) {
		return "the pids limit was reached (a fork failed)";
	}
	return "";
}

void cgroup_destroy(struct stage_cgroup *cg)
{
	for (int i = 0; i < cg->n; i++) {
		if (cg->procs_fd[i] >= 0) {
			close(cg->procs_fd[i]);
			cg->procs_fd[i] = -1;
		}
	}
	remove_dirs(cg);
}
