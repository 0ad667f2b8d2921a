/*
 * shim.c - a stage's supervisor (the "shim") and its payload (child side: everything here
 * runs after fork or clone, in the runner's copy or in the spawner's, with raw system calls
 * and async-signal-safe code only, from a struct child_ctx prepared beforehand).
 *
 * Process layout, confined policy:
 *
 *   spawner ──clone(NEWPID|NEWNS|NEWIPC|NEWUTS[|NEWNET][|NEWUSER])──> shim = pid 1
 *            (uid/gid map, join the stage cgroup, NEWCGROUP, build the root, pivot_root,
 *             not dumpable, all signals blocked, PDEATHSIG=SIGUSR2)
 *              └──clone(VM|VFORK)──> payload (own process group, clean env, fds 0..2+n,
 *                         rlimits, no capabilities, no_new_privs, seccomp last, exec)
 *
 * Unconfined (--no-sandbox): the runner forks the shim (setsid, child subreaper) which starts
 * the payload the same way; killing walks /proc/<pid>/task/<tid>/children.
 *
 * Signals from the runner to the shim: SIGUSR1 = terminate (SIGTERM to every process of
 * the stage), SIGUSR2 = kill (SIGKILL to all of them, reap, report, exit). The shim's
 * parent-death signal is SIGUSR2, so a parent killed with SIGKILL still takes its stages
 * down (the spawner ends when the runner does). When the payload exits the shim kills
 * whatever is left and reports. As pid 1 of its namespace the shim's exit alone would kill
 * everything left (the kernel does so), and kill(-1, sig) from it reaches exactly the
 * processes of the stage.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "banned.h"

#define PAYLOAD_STACK (256u << 10)

#define _no_sanitize_ __attribute__((no_sanitize_address))

/* ---- async-signal-safe helpers ---- */

size_t safe_strlen(const char *s)
{
	size_t n = 0;
	while (s[n]) {
		n++;
	}
	return n;
}

void safe_copy(char *dst, size_t size, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < size; i++) {
		dst[i] = src[i];
	}
	dst[i] = '\0';
}

int safe_append(char *dst, size_t size, const char *src)
{
	size_t n = safe_strlen(dst);
	if (n >= size) {
		return -ENAMETOOLONG;
	}
	safe_copy(dst + n, size - n, src);
	return safe_strlen(src) < size - n ? 0 : -ENAMETOOLONG;
}

void fmt_uint(char *buf, size_t size, unsigned long v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	size_t i = 0;
	while (n && i + 1 < size) {
		buf[i++] = tmp[--n];
	}
	buf[i] = '\0';
}

int write_file_str(int dirfd, const char *path, const char *s)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	size_t n = safe_strlen(s);
	ssize_t w = write(fd, s, n);
	int e = w < 0 ? -errno : (size_t)w == n ? 0 : -EIO;
	close(fd);
	return e;
}

void shim_send(int fd, int kind, int code, int sig, int err, const char *step)
{
	struct shim_msg m;
	memset(&m, 0, sizeof(m));
	m.magic = SHIM_MAGIC;
	m.kind = kind;
	m.code = code;
	m.sig = sig;
	m.err = err;
	safe_copy(m.step, sizeof(m.step), step ? step : "");
	ssize_t r;
	do {
		r = write(fd, &m, sizeof(m));
	} while (r < 0 && errno == EINTR);
}

static int parse_pid(const char *s, size_t n, pid_t *out)
{
	long v = 0;
	if (n == 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (s[i] - '0');
		if (v > 0x3fffffff) {
			return -1;
		}
	}
	*out = (pid_t)v;
	return 0;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Unconfined mode: signal every descendant of pid (not pid itself), depth first, using
 * /proc/<pid>/task/<tid>/children. Returns how many processes were signalled.
 */
static int signal_descendants(pid_t pid, int sig, int depth)
{
	char path[64], num[24];
	int count = 0;
	if (depth > 64) {
		return 0;
	}
	safe_copy(path, sizeof(path), "/proc/");
	fmt_uint(num, sizeof(num), (unsigned long)pid);
	safe_append(path, sizeof(path), num);
	safe_append(path, sizeof(path), "/task");
	int tfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0) {
		return 0;
	}
	char dents[2048];
	for (;;) {
		long nread = syscall(SYS_getdents64, tfd, dents, sizeof(dents));
		if (nread <= 0) {
			break;
		}
		for (long off = 0; off < nread;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(dents + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.') {
				continue;
			}
			char cpath[128];
			safe_copy(cpath, sizeof(cpath), d->d_name);
			safe_append(cpath, sizeof(cpath), "/children");
			int cfd = openat(tfd, cpath, O_RDONLY | O_CLOEXEC);
			if (cfd < 0) {
				continue;
			}
			char buf[4096];
			ssize_t n = read(cfd, buf, sizeof(buf) - 1);
			close(cfd);
			if (n <= 0) {
				continue;
			}
			size_t start = 0;
			for (ssize_t i = 0; i <= n; i++) {
				if (i == n || buf[i] == ' ' || buf[i] == '\n') {
					pid_t child;
					if (parse_pid(buf + start, (size_t)i - start, &child) ==
					    0) {
						/* Stop the child first so it cannot fork while we
						 * walk below it, then recurse, then signal it. */
						if (sig == SIGKILL) {
							kill(child, SIGSTOP);
						}
						count += signal_descendants(child, sig, depth + 1);
						kill(child, sig);
						count++;
					}
					start = (size_t)i + 1;
				}
			}
		}
	}
	close(tfd);
	return count;
}

/* Kill every process of the stage and reap them all. As pid 1 of the stage's namespace,
 * kill(-1) reaches exactly the stage; otherwise walk the tree. */
static void kill_all_and_reap(bool pid1, pid_t payload, int *payload_status, bool *payload_done)
{
	pid_t self = getpid();
	for (;;) {
		if (pid1) {
			kill(-1, SIGKILL);
		} else {
			kill(-payload, SIGKILL);
			signal_descendants(self, SIGKILL, 0);
		}
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, pid1 ? 0 : WNOHANG)) > 0) {
			if (r == payload && !*payload_done) {
				*payload_status = st;
				*payload_done = true;
			}
		}
		if (r < 0 && errno == ECHILD) {
			return;
		}
		/* Children remain (dying, or just forked): wait a moment for SIGCHLD. */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		sigtimedwait(&set, NULL, &ts);
	}
}

/* Place the payload's fds at 0, 1, 2, 3.. and close everything else but the report pipe
 * and the exec fd, which are moved above and stay close-on-exec. */
static int setup_fds(const struct child_ctx *c, int devnull, int *report_fd, int *exec_fd,
		     const char **step)
{
	int n = 3 + (int)c->n_fds;
	int src[3 + SHIM_MAX_FDS];
	src[0] = c->stdin_fd >= 0 ? c->stdin_fd : devnull;
	src[1] = c->stdout_fd;
	src[2] = c->stderr_fd;
	for (size_t i = 0; i < c->n_fds; i++) {
		src[3 + i] = c->fds[i];
	}
	/* Move every source above the target range first, so no dup2 clobbers a source. */
	int base = n + 3;
	int rfd = fcntl(*report_fd, F_DUPFD_CLOEXEC, base);
	int efd = *exec_fd >= 0 ? fcntl(*exec_fd, F_DUPFD_CLOEXEC, base) : -1;
	if (rfd < 0 || (*exec_fd >= 0 && efd < 0)) {
		*step = "move the report pipe";
		return -errno;
	}
	int high[3 + SHIM_MAX_FDS];
	for (int i = 0; i < n; i++) {
		high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base);
		if (high[i] < 0) {
			*step = "dup stage fd";
			return -errno;
		}
	}
	for (int i = 0; i < n; i++) {
		if (dup2(high[i], i) < 0) {
			*step = "place stage fd";
			return -errno;
		}
	}
	/* Close everything but the payload's fds, the report pipe and the exec fd. */
	int lo = efd >= 0 ? MIN(rfd, efd) : rfd, hi = MAX(rfd, efd);
	if (lo > n) {
		syscall(SYS_close_range, (unsigned)n, (unsigned)lo - 1, 0u);
	}
	if (hi > lo + 1) {
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u);
	}
	syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
	int r2 = rfd, e2 = efd;
	*report_fd = r2;
	*exec_fd = e2;
	return 0;
}

/* What no process of the stage may hold again, dropped by the supervisor once its root is
 * prepared (a warm one, before its stage is known): the securebits locked, the bounding and
 * ambient sets emptied. Those limit what an execve can give, not what the supervisor holds:
 * its effective capabilities stay for the stage's own mounts (shim_finish()), and the
 * payload drops them (confine()). */
static int confine_bounds(const struct child_ctx *c, const char **step)
{
	*step = "lock securebits";
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED |
					     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
					     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0) {
		return -errno;
	}
	*step = "drop the capability bounding set";
	for (int cap = 0; cap <= c->last_cap; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			return -errno;
		}
	}
	*step = "clear ambient capabilities";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		return -errno;
	}
	return 0;
}

/* Confined payload: limits, then capabilities, no_new_privs and the filter, in that order
 * (the bounding and ambient sets are empty already: confine_bounds()). */
static int confine(const struct child_ctx *c, const char **step)
{
	*step = "set resource limits";
	for (size_t i = 0; i < c->n_rl; i++) {
		if (setrlimit(c->rl_res[i], &c->rl[i]) < 0) {
			return -errno;
		}
	}
	if (!c->userns) {
		*step = "drop supplementary groups";
		if (setgroups(0, NULL) < 0) {
			return -errno;
		}
	}
	*step = "drop capabilities";
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		return -errno;
	}
	*step = "set no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		return -errno;
	}
	*step = "load the seccomp filter";
	struct sock_fprog prog = { .len = c->filter_len,
				   .filter = (struct sock_filter *)c->filter };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		return -errno;
	}
	return 0;
}

/* Runs on a stack of its own, sharing memory with the (waiting) shim: nothing here may
 * use the sanitizers' per-thread state, which belongs to the shim's thread. */
static _noreturn_ _no_sanitize_ void payload_main(const struct child_ctx *c, int devnull,
						  int report_fd)
{
	const char *step = "";
	int err = 0;
	int exec_fd = c->exec_fd;

	/* The runner blocks and handles some signals; the payload starts clean: every
	 * disposition is the default since shim_begin(), only the mask is left. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setpgid(0, 0) < 0) {
		step = "setpgid";
		err = errno;
		goto fail;
	}
	int r = setup_fds(c, devnull, &report_fd, &exec_fd, &step);
	if (r < 0) {
		err = -r;
		goto fail;
	}
	/* The working directory, without following magic links (a /proc/self/fd/N working
	 * directory would lead out of the root: CVE-2024-21626). */
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = c->confined ? RESOLVE_NO_MAGICLINKS : 0 };
	int cwd = (int)syscall(SYS_openat2, AT_FDCWD, c->cwd, &how, sizeof(how));
	if (cwd < 0 || fchdir(cwd) < 0) {
		step = "chdir to the working directory";
		err = errno;
		goto fail;
	}
	close(cwd);
	if (c->confined) {
		r = confine(c, &step);
		if (r < 0) {
			err = -r;
			goto fail;
		}
	}
	if (exec_fd >= 0) {
		syscall(SYS_execveat, exec_fd, "", c->argv, c->envp, AT_EMPTY_PATH);
	} else {
		execve(c->argv[0], (char *const *)c->argv, (char *const *)c->envp);
	}
	step = "exec";
	err = errno;
fail:
	shim_send(report_fd, SHIM_SETUP_FAILED, 0, 0, err, step);
	_exit(127);
}

struct payload_start {
	const struct child_ctx *c;
	int devnull, report_fd;
};

static _no_sanitize_ int payload_thunk(void *arg)
{
	const struct payload_start *ps = arg;
	payload_main(ps->c, ps->devnull, ps->report_fd);
	return 127; /* not reached */
}

/* Bring up lo in a network namespace this process is in. */
static int loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		return -errno;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	safe_copy(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	r = r < 0 ? -errno : 0;
	close(s);
	return r;
}

int shim_prepare(const struct child_ctx *c, const char **step)
{
	*step = "setsid";
	if (setsid() < 0) {
		return -errno;
	}
	if (c->userns) {
		*step = "write the user namespace's uid and gid maps";
		int r = write_file_str(AT_FDCWD, "/proc/self/setgroups", "deny");
		if (r == 0) {
			r = write_file_str(AT_FDCWD, "/proc/self/uid_map", c->uid_map);
		}
		if (r == 0) {
			r = write_file_str(AT_FDCWD, "/proc/self/gid_map", c->gid_map);
		}
		if (r < 0) {
			return r;
		}
	}
	if (c->own_netns) {
		*step = "create the network namespace";
		if (unshare(CLONE_NEWNET) < 0) {
			return -errno;
		}
		*step = "bring up the loopback interface";
		int r = loopback_up();
		if (r < 0) {
			return r;
		}
	}
	mode_t old = umask(0);
	int r = root_prepare(&c->rp, !c->own_netns, step);
	umask(old);
	return r < 0 ? r : confine_bounds(c, step);
}

/* Confined, from the stage's own instructions: its cgroup, its mounts, and no way back in. */
static int shim_finish(const struct child_ctx *c, const char **step)
{
	*step = "join the stage's cgroup";
	for (int i = 0; i < c->n_cg; i++) {
		if (write(c->cg_fds[i], "0", 1) != 1) {
			return -errno;
		}
	}
	*step = "create the cgroup namespace";
	if (unshare(CLONE_NEWCGROUP) < 0) {
		return -errno;
	}
	mode_t old = umask(0);
	int r = root_finish(&c->rp, step);
	umask(old);
	if (r < 0) {
		return r;
	}
	/* The shim is a copy of the runner or the spawner: nothing of its memory,
	 * environment or binary may be reachable through /proc by the payload
	 * (ptrace_may_access denies a process without CAP_SYS_PTRACE access to a non-dumpable
	 * one). */
	*step = "make the supervisor non-dumpable";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		return -errno;
	}
	return 0;
}

void shim_begin(bool confined, pid_t parent, int parent_pidfd)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Every disposition to its default, for the payload to inherit (the supervisor itself
	 * waits for signals blocked and installs no handler): done here, a warm supervisor
	 * does it before its stage is known. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP) {
			sigaction(sig, &sa, NULL);
		}
	}

	/* Die (kill the tree) with the parent (the runner, or the spawner, which ends with
	 * the runner); close the race where it died before prctl. As pid 1 of a new PID
	 * namespace the shim cannot ask getppid(), so a pidfd of the parent tells. */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) < 0) {
		_exit(1);
	}
	if (confined) {
		struct pollfd pfd = { .fd = parent_pidfd, .events = POLLIN };
		if (poll(&pfd, 1, 0) != 0) {
			_exit(1);
		}
	} else if (getppid() != parent) {
		_exit(1);
	}
}

_Noreturn void shim_main(const struct child_ctx *c)
{
	shim_begin(c->confined, c->parent, c->parent_pidfd);
	if (c->fail_step) {
		shim_send(c->status_fd, SHIM_SETUP_FAILED, 0, 0, c->fail_err, c->fail_step);
		_exit(1);
	}
	const char *step = "";
	int r;
	if (c->confined) {
		r = shim_prepare(c, &step);
	} else {
		step = "setsid";
		r = setsid() < 0 ? -errno : 0;
		if (r == 0) {
			step = "become child subreaper";
			r = prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ? -errno : 0;
		}
	}
	if (r < 0) {
		shim_send(c->status_fd, SHIM_SETUP_FAILED, 0, 0, -r, step);
		_exit(1);
	}
	shim_run(c);
}

_Noreturn void shim_run(const struct child_ctx *c)
{
	int status_fd = c->status_fd;
	if (c->confined) {
		const char *step = "";
		int r = shim_finish(c, &step);
		if (r < 0) {
			shim_send(status_fd, SHIM_SETUP_FAILED, 0, 0, -r, step);
			_exit(1);
		}
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int rp[2];
	if (devnull < 0 || pipe2(rp, O_CLOEXEC) < 0) {
		shim_send(status_fd, SHIM_SETUP_FAILED, 0, 0, errno, "open /dev/null or pipe");
		_exit(1);
	}
	/* Like posix_spawn: the payload shares the shim's memory until it execs (the shim
	 * waits meanwhile, CLONE_VFORK), so the shim's address space is not copied a second
	 * time. It runs on a stack of its own and writes nothing the shim uses; file
	 * descriptors, signal handlers, limits and credentials are its own. */
	void *stack = mmap(NULL, PAYLOAD_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		shim_send(status_fd, SHIM_SETUP_FAILED, 0, 0, errno, "map the payload's stack");
		_exit(1);
	}
	struct payload_start ps = { c, devnull, rp[1] };
	pid_t payload = clone(payload_thunk, (char *)stack + PAYLOAD_STACK,
			      CLONE_VM | CLONE_VFORK | SIGCHLD, &ps);
	int clone_err = errno;
	munmap(stack, PAYLOAD_STACK);
	if (payload < 0) {
		shim_send(status_fd, SHIM_SETUP_FAILED, 0, 0, clone_err, "start the payload");
		_exit(1);
	}
	/* The shim keeps only what it needs: the status pipe and the report pipe. */
	close(rp[1]);
	setpgid(payload, payload); /* also done by the child; whoever runs first wins */
	int keep_lo = MIN(status_fd, rp[0]), keep_hi = MAX(status_fd, rp[0]);
	if (keep_lo > 0) {
		syscall(SYS_close_range, 0u, (unsigned)keep_lo - 1, 0u);
	}
	if (keep_hi > keep_lo + 1) {
		syscall(SYS_close_range, (unsigned)keep_lo + 1, (unsigned)keep_hi - 1, 0u);
	}
	syscall(SYS_close_range, (unsigned)keep_hi + 1, ~0u, 0u);

	bool pid1 = c->confined;
	int status = 0;
	bool done = false;
	struct shim_msg report;
	ssize_t n;
	do {
		n = read(rp[0], &report, sizeof(report));
	} while (n < 0 && errno == EINTR);
	close(rp[0]);
	if (n == (ssize_t)sizeof(report) && report.magic == SHIM_MAGIC) {
		kill_all_and_reap(pid1, payload, &status, &done);
		shim_send(status_fd, SHIM_SETUP_FAILED, 0, 0, report.err, report.step);
		_exit(1);
	}

	sigset_t wait_set;
	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	sigaddset(&wait_set, SIGUSR1);
	sigaddset(&wait_set, SIGUSR2);
	sigaddset(&wait_set, SIGTERM);
	sigaddset(&wait_set, SIGHUP);
	while (!done) {
		siginfo_t si;
		int sig = sigwaitinfo(&wait_set, &si);
		/* As pid 1, signals from inside the stage reach the shim too (they are blocked,
		 * so not dropped). Only the runner may ask for a kill: a signal from an
		 * ancestor namespace arrives with si_pid 0, and SI_USER cannot be forged with
		 * rt_sigqueueinfo. */
		if (pid1 && sig != SIGCHLD && sig > 0 &&
		    (si.si_code != SI_USER || si.si_pid != 0)) {
			continue;
		}
		if (sig == SIGUSR1 || sig == SIGTERM) {
			if (pid1) {
				kill(-1, SIGTERM);
			} else {
				kill(-payload, SIGTERM);
				signal_descendants(getpid(), SIGTERM, 0);
			}
		} else if (sig == SIGUSR2 || sig == SIGHUP) {
			break;
		}
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r == payload) {
				status = st;
				done = true;
			}
		}
	}
	/* The payload is gone (or we were told to kill): nothing of the stage survives it. */
	kill_all_and_reap(pid1, payload, &status, &done);
	if (done && WIFEXITED(status)) {
		shim_send(status_fd, SHIM_EXITED, WEXITSTATUS(status), 0, 0, NULL);
	} else if (done && WIFSIGNALED(status)) {
		shim_send(status_fd, SHIM_SIGNALED, 0, WTERMSIG(status), 0, NULL);
	} else {
		shim_send(status_fd, SHIM_SIGNALED, 0, SIGKILL, 0, NULL);
	}
	/* What is left is tearing the stage's namespaces down as the shim exits: background
	 * work, at the lowest priority (raising a nice value needs no privilege). */
	setpriority(PRIO_PROCESS, 0, 19);
	_exit(0);
}
