/*
 * sandbox.c - starting and supervising stage processes (runner side).
 *
 * A stage's supervisor, the shim (shim.c), owns every process of the stage and reports how
 * it ended through a pipe. A confined stage's shim is started by the spawner (spawner.c),
 * a small helper process, in new PID, mount, IPC, UTS [, network] [, user] namespaces; an
 * unconfined one (--no-sandbox) is forked by the runner itself. Either way the runner
 * holds a pidfd of the shim to signal it: SIGUSR1 = terminate, SIGUSR2 = kill. The stage
 * has ended when the shim reports; the shim's own exit (its namespaces torn down) follows
 * and is waited for in sandbox_proc_free().
 *
 * Everything the shim needs is prepared here, before it starts, as a struct child_ctx: the
 * shim runs only async-signal-safe code and raw system calls (the runner may be
 * multi-threaded: the server), and never execs.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "banned.h"

struct sandbox_proc {
	pid_t pid;
	int pidfd;
	int status_fd; /* non-blocking; readable once the shim reports */
	bool spawned;  /* started by the spawner: not this process's child */
	bool reaped;   /* the report was read: the stage has ended */
	bool exited;   /* the shim itself is gone */
	int wstatus;   /* when it was this process's child */
	struct stage_cgroup cg;
	struct sandbox_result result;
};

void set_text(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 && size) {
		dst[0] = '\0';
	}
}

/* ---- runner side ---- */

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static bool clean_abs_path(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) >= PATH_MAX / 2) {
		return false;
	}
	for (const char *s = p; *s; s++) {
		if (s[0] == '/' && s[1] == '.' &&
		    (s[2] == '/' || s[2] == '\0' ||
		     (s[2] == '.' && (s[3] == '/' || s[3] == '\0')))) {
			return false;
		}
	}
	return true;
}

static int check_confined_args(const struct sandbox_spawn *a, size_t n_paths)
{
	if (!clean_abs_path(a->workspace) || str_eq(a->workspace, "/") ||
	    path_under(a->workspace, "/proc") || path_under(a->workspace, "/dev") ||
	    path_under(a->workspace, "/sys") || !clean_abs_path(a->cwd) ||
	    !path_under(a->cwd, a->workspace) || a->n_mounts + n_paths > ROOT_MAX_PATHS) {
		return -EINVAL;
	}
	for (size_t i = 0; i < a->n_mounts; i++) {
		const struct sandbox_mount *m = &a->mounts[i];
		if (!clean_abs_path(m->path) || str_eq(m->path, a->workspace) ||
		    str_eq(m->path, "/") || path_under(m->path, "/proc") ||
		    path_under(m->path, "/dev") || (m->source && !clean_abs_path(m->source))) {
			return -EINVAL;
		}
	}
	return 0;
}

static size_t depth_of(const char *rel)
{
	size_t d = 1;
	for (; *rel; rel++) {
		d += *rel == '/';
	}
	return d;
}

static void add_rlimit(struct child_ctx *c, int res, rlim_t soft, rlim_t hard)
{
	c->rl_res[c->n_rl] = res;
	c->rl[c->n_rl].rlim_cur = soft;
	c->rl[c->n_rl].rlim_max = hard;
	c->n_rl++;
}

/* The confined part of the supervisor's instructions; returns the clone flags. */
static unsigned long plan_confined(const struct sandbox_policy *pol,
				   const struct sandbox_spawn *args, struct policy_path *sorted,
				   struct child_ctx *c)
{
	/* The policy's paths, shallowest first, so that a deeper one is mounted on top. */
	size_t n = 0;
	for (size_t d = 1; n < pol->n_paths; d++) {
		for (size_t i = 0; i < pol->n_paths; i++) {
			if (depth_of(pol->paths[i].rel) == d) {
				sorted[n++] = pol->paths[i];
			}
		}
	}
	c->rp = (struct root_plan){
		.workspace = args->workspace,
		.ws_ro = pol->ws_ro,
		.rootfs = pol->rootfs,
		.etc = pol->rootfs ? NULL : pol->etc,
		.paths = sorted,
		.n_paths = pol->n_paths,
		.mounts = args->mounts,
		.n_mounts = args->n_mounts,
		.stage_root = "/tmp",
	};
	snprintf(c->rp.tmp_opts, sizeof(c->rp.tmp_opts), "size=%llu,mode=1777",
		 (unsigned long long)pol->limit[SANDBOX_LIMIT_TMP]);
	c->userns = pol->userns;
	c->last_cap = pol->last_cap;
	c->filter = pol->filter;
	c->filter_len = pol->filter_len;
	snprintf(c->uid_map, sizeof(c->uid_map), "%u %u 1\n", pol->uid, pol->uid);
	snprintf(c->gid_map, sizeof(c->gid_map), "%u %u 1\n", pol->gid, pol->gid);
	add_rlimit(c, RLIMIT_CORE, 0, 0);
	add_rlimit(c, RLIMIT_NOFILE, pol->limit[SANDBOX_LIMIT_NOFILE],
		   pol->limit[SANDBOX_LIMIT_NOFILE]);
	add_rlimit(c, RLIMIT_FSIZE, pol->limit[SANDBOX_LIMIT_FSIZE],
		   pol->limit[SANDBOX_LIMIT_FSIZE]);
	/* SIGXCPU at the limit, SIGKILL a little later if it is ignored. */
	add_rlimit(c, RLIMIT_CPU, pol->limit[SANDBOX_LIMIT_CPU], pol->limit[SANDBOX_LIMIT_CPU] + 5);
	if (pol->pids_by_userns) {
		add_rlimit(c, RLIMIT_NPROC, pol->limit[SANDBOX_LIMIT_PIDS],
			   pol->limit[SANDBOX_LIMIT_PIDS]);
	}
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
	if (pol->userns) {
		flags |= CLONE_NEWUSER;
	}
	/* The supervisor makes its network namespace itself, not the spawner's clone: a
	 * warm one ahead of its stage, and a burst of cold ones in parallel. */
	c->own_netns = pol->net == SANDBOX_NET_NONE;
	return flags;
}

/* Unconfined: fork the shim here. */
static int fork_shim(const struct child_ctx *c, int status_rd, pid_t *pid)
{
	pid_t r = fork();
	if (r < 0) {
		return -errno;
	}
	if (r == 0) {
		close(status_rd);
		shim_main(c);
	}
	*pid = r;
	return 0;
}

/* Confined: the spawner starts the shim from the instructions in one block; with warm, it
 * then prepares supervisors for the next stages of the policy (not for a one-shot one). */
static int spawn_shim(const struct child_ctx *c, unsigned long flags, bool warm, pid_t *pid,
		      int *pidfd)
{
	int fds[WIRE_MAX_FDS], blob;
	size_t n_fds;
	int r = wire_encode(c, &blob, fds, &n_fds);
	if (r < 0) {
		return r;
	}
	r = spawner_start(flags, warm ? wire_policy_key(c) : 0, fds, n_fds, pid, pidfd);
	close(blob);
	return r;
}

int sandbox_spawn(const struct sandbox_policy *pol, const struct sandbox_spawn *args,
		  struct sandbox_proc **out)
{
	int sp[2];
	if (!args->argv || !args->argv[0] || !args->envp || !args->cwd || args->stdout_fd < 0 ||
	    args->stderr_fd < 0 || args->n_fds > SHIM_MAX_FDS || !pol->compiled) {
		return -EINVAL;
	}
	struct child_ctx c = {
		.argv = args->argv,
		.envp = args->envp,
		.cwd = args->cwd,
		.exec_fd = args->exec_fd,
		.stdin_fd = args->stdin_fd,
		.stdout_fd = args->stdout_fd,
		.stderr_fd = args->stderr_fd,
		.fds = args->fds,
		.n_fds = args->n_fds,
		.confined = pol->confined,
		.parent = getpid(),
		.parent_pidfd = -1,
	};
	struct sandbox_proc *p = xcalloc(1, sizeof(*p));
	p->cg.procs_fd[0] = p->cg.procs_fd[1] = -1;
	p->pidfd = p->status_fd = -1;
	unsigned long flags = 0;
	struct policy_path sorted[ROOT_MAX_PATHS];
	char cgerr[200] = "";
	int r;

	if (pol->confined) {
		r = check_confined_args(args, pol->n_paths);
		if (r < 0) {
			free(p);
			return r;
		}
		flags = plan_confined(pol, args, sorted, &c);
		/* Which directory the workspace is now (a missing one fails in the shim, with
		 * the step named). */
		struct stat ws_st;
		if (stat(args->workspace, &ws_st) == 0) {
			c.rp.ws_dev = ws_st.st_dev;
			c.rp.ws_ino = ws_st.st_ino;
		}
		r = cgroup_create(pol, &p->cg, cgerr, sizeof(cgerr));
		if (r < 0) {
			c.fail_step = cgerr;
			c.fail_err = -r;
		}
		c.n_cg = p->cg.n;
		for (int i = 0; i < p->cg.n; i++) {
			c.cg_fds[i] = p->cg.procs_fd[i];
		}
	}
	if (pipe2(sp, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	c.status_fd = sp[1];
	pid_t pid = -1;
	if (pol->confined) {
		p->spawned = true;
		r = spawn_shim(&c, flags, !pol->oneshot, &pid, &p->pidfd);
	} else {
		r = fork_shim(&c, sp[0], &pid);
		if (r == 0) {
			p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (p->pidfd < 0) {
				r = -errno;
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			}
		}
	}
	close(sp[1]);
	if (r < 0) {
		close(sp[0]);
		goto fail;
	}
	p->pid = pid;
	p->status_fd = sp[0];
	fd_set_nonblock(p->status_fd, true);
	fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
	/* The shim has its own copies now. */
	for (int i = 0; i < p->cg.n; i++) {
		close(p->cg.procs_fd[i]);
		p->cg.procs_fd[i] = -1;
	}
	*out = p;
	return 0;
fail:
	cgroup_destroy(&p->cg);
	free(p);
	return r;
}

pid_t sandbox_proc_pid(const struct sandbox_proc *p)
{
	return p->pid;
}

int sandbox_proc_pidfd(const struct sandbox_proc *p)
{
	/* The stage has ended when the shim reports: every process of the stage is gone by
	 * then. The shim's own exit (its namespaces torn down) follows and is waited for in
	 * sandbox_proc_free, so a caller can start its next stage meanwhile. */
	return p->status_fd;
}

static int send_signal(struct sandbox_proc *p, int sig)
{
	if (p->reaped) {
		return 0;
	}
	if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0 && errno != ESRCH) {
		return -errno;
	}
	return 0;
}

int sandbox_terminate(struct sandbox_proc *p)
{
	return send_signal(p, SIGUSR1);
}

int sandbox_kill(struct sandbox_proc *p)
{
	return send_signal(p, SIGUSR2);
}

/* Wait for the shim itself to be gone (it has reported, or died). A shim the spawner
 * started is not this process's child: its pidfd becomes readable when it has exited. */
static int wait_exit(struct sandbox_proc *p)
{
	if (p->exited) {
		return 0;
	}
	if (p->spawned) {
		struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
		while (poll(&pfd, 1, -1) < 0) {
			if (errno != EINTR) {
				return -errno;
			}
		}
	} else {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED) < 0) {
			if (errno != EINTR) {
				return -errno;
			}
		}
		p->wstatus = si.si_status;
	}
	p->exited = true;
	return 0;
}

/* Read the shim's report; block for it or return -EAGAIN. */
static int collect(struct sandbox_proc *p, bool block)
{
	struct shim_msg m;
	struct sandbox_result *res = &p->result;
	ssize_t n;
	if (p->reaped) {
		return 0;
	}
	for (;;) {
		n = read(p->status_fd, &m, sizeof(m));
		if (n >= 0 || errno == EINTR) {
			if (n >= 0) {
				break;
			}
			continue;
		}
		if (errno != EAGAIN) {
			return -errno;
		}
		if (!block) {
			return -EAGAIN;
		}
		struct pollfd pfd = { .fd = p->status_fd, .events = POLLIN };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			return -errno;
		}
	}
	memset(res, 0, sizeof(*res));
	if (n != (ssize_t)sizeof(m) || m.magic != SHIM_MAGIC) {
		wait_exit(p);
		res->outcome = SANDBOX_SETUP_FAILED;
		if (p->spawned) {
			snprintf(res->message, sizeof(res->message),
				 "stage supervisor ended without a report");
		} else {
			snprintf(res->message, sizeof(res->message),
				 "stage supervisor ended without a report (wait status 0x%x)",
				 p->wstatus);
		}
	} else {
		m.step[sizeof(m.step) - 1] = '\0';
		switch (m.kind) {
		case SHIM_EXITED:
			res->outcome = SANDBOX_EXITED;
			res->code = m.code;
			break;
		case SHIM_SIGNALED:
			res->outcome = SANDBOX_SIGNALED;
			res->sig = m.sig;
			break;
		default:
			res->outcome = SANDBOX_SETUP_FAILED;
			snprintf(res->message, sizeof(res->message), "%s: %s", m.step,
				 strerror(m.err));
		}
	}
	if (res->outcome != SANDBOX_SETUP_FAILED) {
		snprintf(res->message, sizeof(res->message), "%s", cgroup_limit_hit(&p->cg));
	}
	p->reaped = true;
	return 0;
}

int sandbox_reap(struct sandbox_proc *p, struct sandbox_result *res)
{
	int r = collect(p, false);
	if (r == 0) {
		*res = p->result;
	}
	return r;
}

int sandbox_wait(struct sandbox_proc *p, struct sandbox_result *res)
{
	int r = collect(p, true);
	if (r == 0) {
		*res = p->result;
	}
	return r;
}

void sandbox_proc_free(struct sandbox_proc *p)
{
	if (!p) {
		return;
	}
	if (!p->reaped) {
		struct sandbox_result r;
		sandbox_kill(p);
		sandbox_wait(p, &r);
	}
	/* The shim is in the stage's cgroup until it exits. */
	wait_exit(p);
	cgroup_release(&p->cg);
	close(p->pidfd);
	close(p->status_fd);
	free(p);
}
