/*
 * sandbox.c - process supervision for stages.
 *
 * Process layout:
 *
 *   runner ──fork──> shim (setsid, subreaper, PDEATHSIG=SIGUSR2, all signals blocked)
 *                     └──fork──> payload (own process group, clean env, fds 0..2+n, exec)
 *
 * Signals from the runner to the shim: SIGUSR1 = terminate (SIGTERM to every descendant),
 * SIGUSR2 = kill (SIGKILL to every descendant until none is left, then exit). The shim's
 * parent-death signal is SIGUSR2, so a runner killed with SIGKILL still takes its stages
 * down. When the payload exits the shim kills whatever is left and reports.
 *
 * Everything after fork() runs only async-signal-safe code and raw system calls: the
 * runner may be multi-threaded (the server), and the shim never execs.
 */
#include "sandbox.h"

#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "banned.h"

#define SHIM_MAGIC 0x52554e52u /* "RUNR" */

enum shim_kind {
	SHIM_EXITED = 1,
	SHIM_SIGNALED = 2,
	SHIM_SETUP_FAILED = 3,
};

/* One message from the shim to the runner; smaller than PIPE_BUF, so written atomically. */
struct shim_msg {
	uint32_t magic;
	int32_t kind;
	int32_t code;
	int32_t sig;
	int32_t err;
	char step[112];
};

struct sandbox_policy {
	int reserved; /* filled in by the sandbox issue: namespaces, seccomp, limits */
};

struct sandbox_proc {
	pid_t pid;
	int pidfd;
	int status_fd;
	bool reaped;
	struct sandbox_result result;
};

struct sandbox_policy *sandbox_policy_new(void)
{
	return xcalloc(1, sizeof(struct sandbox_policy));
}

void sandbox_policy_free(struct sandbox_policy *pol)
{
	free(pol);
}

/* ---- async-signal-safe helpers for the child side ---- */

static size_t safe_strlen(const char *s)
{
	size_t n = 0;
	while (s[n]) {
		n++;
	}
	return n;
}

static void safe_copy(char *dst, size_t size, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < size; i++) {
		dst[i] = src[i];
	}
	dst[i] = '\0';
}

static void send_msg(int fd, int kind, int code, int sig, int err, const char *step)
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

static void fmt_uint(char *buf, size_t size, unsigned long v)
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

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Signal every descendant of pid (not pid itself), depth first, using
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
	size_t pl = safe_strlen(path);
	safe_copy(path + pl, sizeof(path) - pl, num);
	pl = safe_strlen(path);
	safe_copy(path + pl, sizeof(path) - pl, "/task");
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
			struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.') {
				continue;
			}
			char cpath[128];
			safe_copy(cpath, sizeof(cpath), d->d_name);
			size_t cl = safe_strlen(cpath);
			safe_copy(cpath + cl, sizeof(cpath) - cl, "/children");
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
					if (parse_pid(buf + start, (size_t)i - start, &child) == 0) {
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

static void kill_all_and_reap(pid_t payload, int *payload_status, bool *payload_done)
{
	pid_t self = getpid();
	for (;;) {
		kill(-payload, SIGKILL);
		signal_descendants(self, SIGKILL, 0);
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
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

/* Close every fd from lo up, except keep_a and keep_b (either may be -1). */
static void close_from_except(int lo, int keep_a, int keep_b)
{
	int k1 = MIN(keep_a, keep_b), k2 = MAX(keep_a, keep_b);
	int keeps[2] = { k1, k2 };
	for (int i = 0; i < 2; i++) {
		if (keeps[i] < lo) {
			continue;
		}
		if (keeps[i] > lo) {
			syscall(SYS_close_range, (unsigned)lo, (unsigned)keeps[i] - 1, 0u);
		}
		lo = keeps[i] + 1;
	}
	syscall(SYS_close_range, (unsigned)lo, ~0u, 0u);
}

/*
 * Place the payload's fds at 0, 1, 2, 3.. and close everything else but the report pipe
 * and, when the payload is executed from an fd, that fd (moved above the payload's fds;
 * both close on exec). Returns the report fd; *exec_fd is updated.
 */
static int setup_fds(const struct sandbox_spawn *a, int devnull, int report_fd, int *exec_fd,
		     const char **step)
{
	int n = 3 + (int)a->n_fds;
	int src[3 + 64];
	if (a->n_fds > 64) {
		*step = "too many fds";
		return -E2BIG;
	}
	src[0] = a->stdin_fd >= 0 ? a->stdin_fd : devnull;
	src[1] = a->stdout_fd;
	src[2] = a->stderr_fd;
	for (size_t i = 0; i < a->n_fds; i++) {
		src[3 + i] = a->fds[i];
	}
	/* Move every source above the target range first, so no dup2 clobbers a source. */
	int base = n + 3;
	if (report_fd < base) {
		int nfd = fcntl(report_fd, F_DUPFD_CLOEXEC, base + n);
		if (nfd < 0) {
			*step = "dup report fd";
			return -errno;
		}
		report_fd = nfd;
	}
	if (*exec_fd >= 0) {
		*exec_fd = fcntl(*exec_fd, F_DUPFD_CLOEXEC, base + n + 1);
		if (*exec_fd < 0) {
			*step = "dup exec fd";
			return -errno;
		}
	}
	int high[3 + 64];
	for (int i = 0; i < n; i++) {
		high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base + n + 1);
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
	/* Close everything above the payload's fds except the report pipe and the exec fd
	 * (both close-on-exec). */
	close_from_except(n, report_fd, *exec_fd);
	return report_fd;
}

static _noreturn_ void payload_main(const struct sandbox_spawn *a, int devnull, int report_fd)
{
	const char *step = "";
	int err = 0;

	/* The runner blocks and handles some signals; the payload starts clean. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP) {
			sigaction(sig, &sa, NULL);
		}
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setpgid(0, 0) < 0) {
		step = "setpgid";
		err = errno;
		goto fail;
	}
	int exec_fd = a->exec_fd;
	int r = setup_fds(a, devnull, report_fd, &exec_fd, &step);
	if (r < 0) {
		err = -r;
		goto fail;
	}
	report_fd = r;
	if (chdir(a->cwd) < 0) {
		step = "chdir to the working directory";
		err = errno;
		goto fail;
	}
	if (exec_fd >= 0) {
		syscall(SYS_execveat, exec_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
	} else {
		execve(a->argv[0], (char *const *)a->argv, (char *const *)a->envp);
	}
	step = "exec";
	err = errno;
fail:
	send_msg(report_fd, SHIM_SETUP_FAILED, 0, 0, err, step);
	_exit(127);
}

static _noreturn_ void shim_main(const struct sandbox_spawn *a, pid_t runner, int status_fd)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	/* Die (kill the tree) with the runner; close the race where it died before prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) < 0 || getppid() != runner) {
		_exit(1);
	}
	if (setsid() < 0) {
		send_msg(status_fd, SHIM_SETUP_FAILED, 0, 0, errno, "setsid");
		_exit(1);
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		send_msg(status_fd, SHIM_SETUP_FAILED, 0, 0, errno, "become child subreaper");
		_exit(1);
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int rp[2];
	if (devnull < 0 || pipe2(rp, O_CLOEXEC) < 0) {
		send_msg(status_fd, SHIM_SETUP_FAILED, 0, 0, errno, "open /dev/null or pipe");
		_exit(1);
	}
	pid_t payload = fork();
	if (payload < 0) {
		send_msg(status_fd, SHIM_SETUP_FAILED, 0, 0, errno, "fork");
		_exit(1);
	}
	if (payload == 0) {
		close(rp[0]);
		close(status_fd);
		payload_main(a, devnull, rp[1]);
	}
	/* The shim keeps only what it needs: the status pipe and the report pipe. */
	close(rp[1]);
	setpgid(payload, payload); /* also done by the child; whoever runs first wins */
	int keep_lo = MIN(status_fd, rp[0]), keep_hi = MAX(status_fd, rp[0]);
	syscall(SYS_close_range, 0u, (unsigned)keep_lo - 1, 0u);
	if (keep_hi > keep_lo + 1) {
		syscall(SYS_close_range, (unsigned)keep_lo + 1, (unsigned)keep_hi - 1, 0u);
	}
	syscall(SYS_close_range, (unsigned)keep_hi + 1, ~0u, 0u);

	int status = 0;
	bool done = false;
	struct shim_msg report;
	ssize_t n;
	do {
		n = read(rp[0], &report, sizeof(report));
	} while (n < 0 && errno == EINTR);
	close(rp[0]);
	if (n == (ssize_t)sizeof(report) && report.magic == SHIM_MAGIC) {
		kill_all_and_reap(payload, &status, &done);
		send_msg(status_fd, SHIM_SETUP_FAILED, 0, 0, report.err, report.step);
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
		int sig = sigwaitinfo(&wait_set, NULL);
		if (sig == SIGUSR1 || sig == SIGTERM) {
			kill(-payload, SIGTERM);
			signal_descendants(getpid(), SIGTERM, 0);
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
	kill_all_and_reap(payload, &status, &done);
	if (done && WIFEXITED(status)) {
		send_msg(status_fd, SHIM_EXITED, WEXITSTATUS(status), 0, 0, NULL);
	} else if (done && WIFSIGNALED(status)) {
		send_msg(status_fd, SHIM_SIGNALED, 0, WTERMSIG(status), 0, NULL);
	} else {
		send_msg(status_fd, SHIM_SIGNALED, 0, SIGKILL, 0, NULL);
	}
	_exit(0);
}

int sandbox_spawn(const struct sandbox_policy *pol, const struct sandbox_spawn *args,
		  struct sandbox_proc **out)
{
	(void)pol;
	int sp[2];
	if (!args->argv || !args->argv[0] || !args->envp || !args->cwd || args->stdout_fd < 0 ||
	    args->stderr_fd < 0 || args->n_fds > 64) {
		return -EINVAL;
	}
	if (pipe2(sp, O_CLOEXEC) < 0) {
		return -errno;
	}
	pid_t runner = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sp[0]);
		close(sp[1]);
		return e;
	}
	if (pid == 0) {
		close(sp[0]);
		shim_main(args, runner, sp[1]);
	}
	close(sp[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int e = -errno;
		kill(pid, SIGUSR2);
		waitpid(pid, NULL, 0);
		close(sp[0]);
		return e;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	struct sandbox_proc *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->pidfd = pidfd;
	p->status_fd = sp[0];
	*out = p;
	return 0;
}

pid_t sandbox_proc_pid(const struct sandbox_proc *p)
{
	return p->pid;
}

int sandbox_proc_pidfd(const struct sandbox_proc *p)
{
	return p->pidfd;
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

static void fill_result(struct sandbox_proc *p, int wstatus)
{
	struct shim_msg m;
	struct sandbox_result *res = &p->result;
	memset(res, 0, sizeof(*res));
	ssize_t n;
	do {
		n = read(p->status_fd, &m, sizeof(m));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m) || m.magic != SHIM_MAGIC) {
		res->outcome = SANDBOX_SETUP_FAILED;
		snprintf(res->message, sizeof(res->message),
			 "stage supervisor ended without a report (wait status 0x%x)", wstatus);
		return;
	}
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
		snprintf(res->message, sizeof(res->message), "%s: %s", m.step, strerror(m.err));
	}
}

int sandbox_reap(struct sandbox_proc *p, struct sandbox_result *res)
{
	if (!p->reaped) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0) {
			return -errno;
		}
		if (si.si_pid == 0) {
			return -EAGAIN;
		}
		p->reaped = true;
		fill_result(p, si.si_status);
	}
	*res = p->result;
	return 0;
}

int sandbox_wait(struct sandbox_proc *p, struct sandbox_result *res)
{
	if (!p->reaped) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED) < 0) {
			if (errno != EINTR) {
				return -errno;
			}
		}
		p->reaped = true;
		fill_result(p, si.si_status);
	}
	*res = p->result;
	return 0;
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
	close(p->pidfd);
	close(p->status_fd);
	free(p);
}
