/*
 * spawner-main.c - the spawner program: starts confined stages' supervisors for the
 * runner that started it (see spawner.c for why, and for how it is started).
 *
 * It is small on purpose: libc, the child side of sandbox/ (shim.c, root.c, wire.c) and
 * base/, so that the supervisors it forks are cheap copies. It reads nothing but its
 * socket: fd 3, a SOCK_SEQPACKET socket to the runner, and fd 4, a pidfd of the runner.
 * For each request (clone flags and descriptors, the first a memfd with the supervisor's
 * instructions) it clones a supervisor with those flags (only namespace flags are
 * accepted), answers with its pid and a pidfd of it, and closes its copies of the
 * descriptors. The supervisor decodes its instructions (wire.c) and runs shim_main();
 * instructions that do not decode are reported to the runner as a setup failure of the
 * stage. Supervisors that end are reaped here.
 *
 * It ends when the runner ends (its pidfd becomes readable, or the socket closes); its
 * supervisors then get their parent-death signal and kill their stages. It blocks every
 * signal (the runner's session gets a terminal's; it is in a session of its own anyway)
 * and prints nothing. It stays dumpable like the runner, whose user may inspect it anyway,
 * because a supervisor forked from a non-dumpable process could not write its own user
 * namespace's uid map (its /proc files would belong to root); each supervisor makes itself
 * non-dumpable once its stage's root is built, before the payload starts.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "banned.h"

#define SOCK_FD	  3
#define RUNNER_FD 4

static void reply(int pid, int pidfd)
{
	struct spawner_reply rep = { SPAWNER_MAGIC, pid };
	if (wire_send_fds(SOCK_FD, &rep, sizeof(rep), &pidfd, pidfd >= 0, 0) < 0) {
		_exit(0); /* the runner is gone */
	}
}

/*
 * Warm supervisors: after a request, when no other is waiting, the spawner starts
 * supervisors for the next stages of the same policy (same key and clone flags), up to
 * WARM_DEPTH of them, and lets each prepare everything that depends on the policy alone
 * (shim_prepare(): its namespaces, the network namespace, the root but for the workspace)
 * while the current stage runs, at the lowest scheduling priority where the stage's can be
 * restored (warm_main()). The next matching request hands the oldest its stage's
 * descriptors over a socket of its own, and it finishes as a cold one would (shim_run()),
 * checking first that the stage's policy is the one it was prepared for. Two are kept
 * because preparing one (a network namespace above all) costs about as much CPU as a short
 * stage: with only one, a stage of `true` found it not yet ready about half the time on
 * two cores and waited for it (docs/benchmarks.md). A warm supervisor is used once, for one
 * stage; its namespaces, /tmp, /proc and devpts are new and nothing else has been in them.
 * It is dropped (killed) when its policy has not been asked for in WARM_MAX_AGE, so that a
 * host mount made since it was cloned is not missed for long.
 */
#define WARM_MAX	8
#define WARM_DEPTH	2
#define WARM_MAX_AGE_MS 5000

struct warm {
	pid_t pid; /* 0: free slot */
	int pidfd;
	int hand; /* the stage's descriptors go through this socket */
	uint64_t key, flags, born_ms;
	uint64_t seq; /* the order they were started in */
};
static struct warm warm[WARM_MAX];
static uint64_t warm_seq;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void warm_drop(struct warm *w)
{
	if (!w->pid) {
		return;
	}
	syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
	close(w->pidfd);
	close(w->hand);
	memset(w, 0, sizeof(*w));
}

/* In a new child: nothing of the spawner's own descriptors but what it keeps. */
static void close_spawner_fds(int sigfd, int keep_hand)
{
	close(SOCK_FD);
	close(RUNNER_FD);
	close(sigfd);
	for (size_t i = 0; i < WARM_MAX; i++) {
		if (warm[i].pid) {
			close(warm[i].pidfd);
			if (warm[i].hand != keep_hand) {
				close(warm[i].hand);
			}
		}
	}
}

/* Instructions that do not decode: the stage fails, told through its status pipe (the
 * second descriptor of every request, wire_encode()). */
static _Noreturn void undecodable(const int *fds, size_t n_fds, int err)
{
	if (n_fds > 1) {
		shim_send(fds[1], SHIM_SETUP_FAILED, 0, 0, err, "read the stage's instructions");
	}
	_exit(1);
}

/* A cold supervisor: its instructions, then shim_main(). */
static _Noreturn void supervise(const int *fds, size_t n_fds, int self, int sigfd)
{
	close_spawner_fds(sigfd, -1);
	const struct child_ctx *c;
	int r = wire_decode(fds[0], fds, n_fds, self, &c);
	if (r < 0) {
		undecodable(fds, n_fds, -r);
	}
	close(fds[0]);
	shim_main(c);
}

/* A warm supervisor: prepared from a policy's instructions (blob, decoded without its
 * descriptors), then handed a stage of that policy through hand. */
static _Noreturn void warm_main(int blob, int hand, int self)
{
	const struct child_ctx *pol = NULL;
	const char *step = "read the stage's instructions";
	int pr = wire_decode(blob, NULL, 0, self, &pol);
	close(blob);
	shim_begin(true, 0, self);
	/* Preparing ahead is background work: it runs at the lowest priority, so that it does
	 * not hold up the stage that is running, when the priority can be restored for the
	 * stage (lowering a nice value takes CAP_SYS_NICE: root has it, a user does not, and
	 * then nothing changes). */
	errno = 0;
	int nice0 = getpriority(PRIO_PROCESS, 0);
	bool niced = errno == 0 && nice0 > -20 && setpriority(PRIO_PROCESS, 0, nice0 - 1) == 0 &&
		     setpriority(PRIO_PROCESS, 0, 19) == 0;
	if (pr == 0) {
		pr = shim_prepare(pol, &step);
	}
	char byte;
	int fds[WIRE_MAX_FDS];
	size_t n_fds;
	bool trunc = false;
	ssize_t n = wire_recv_fds(hand, &byte, 1, fds, WIRE_MAX_FDS, &n_fds, &trunc);
	if (n <= 0 || n_fds < 2) {
		_exit(0); /* the spawner dropped it, or ended */
	}
	close(hand);
	if (niced && setpriority(PRIO_PROCESS, 0, nice0) < 0 && pr == 0) {
		pr = -errno;
		step = "restore the scheduling priority";
	}
	const struct child_ctx *c;
	int r = trunc ? -EBADMSG : wire_decode(fds[0], fds, n_fds, self, &c);
	if (r < 0) {
		undecodable(fds, n_fds, -r);
	}
	close(fds[0]);
	if (pr < 0) {
		shim_send(c->status_fd, SHIM_SETUP_FAILED, 0, 0, -pr, step);
		_exit(1);
	}
	if (!wire_same_policy(pol, c)) {
		shim_send(c->status_fd, SHIM_SETUP_FAILED, 0, 0, EINVAL,
			  "the prepared supervisor does not fit the stage's policy");
		_exit(1);
	}
	if (c->fail_step) {
		shim_send(c->status_fd, SHIM_SETUP_FAILED, 0, 0, c->fail_err, c->fail_step);
		_exit(1);
	}
	shim_run(c);
}

/* Start a warm supervisor for requests like req, from its instructions (fds[0]). */
static void warm_make(const struct spawner_req *req, const int *fds, size_t n_fds, int self,
		      int sigfd)
{
	size_t slot = 0;
	for (size_t i = 0; i < WARM_MAX; i++) {
		if (!warm[i].pid) {
			slot = i;
			break;
		}
		if (warm[i].seq < warm[slot].seq) {
			slot = i; /* the oldest goes when none is free */
		}
	}
	warm_drop(&warm[slot]);
	int hv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hv) < 0) {
		return;
	}
	long r = syscall(SYS_clone, (unsigned long)req->clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (r == 0) {
		/* Nothing of the request but its instructions: its pipes belong to its stage. */
		close_spawner_fds(sigfd, -1);
		close(hv[0]);
		for (size_t i = 1; i < n_fds; i++) {
			close(fds[i]);
		}
		warm_main(fds[0], hv[1], self);
	}
	close(hv[1]);
	int pidfd = r > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)r, 0) : -1;
	if (pidfd < 0) {
		if (r > 0) {
			kill((pid_t)r, SIGKILL);
		}
		close(hv[0]);
		return;
	}
	warm[slot] = (struct warm){ .pid = (pid_t)r,
				    .pidfd = pidfd,
				    .hand = hv[0],
				    .key = req->key,
				    .flags = req->clone_flags,
				    .born_ms = now_ms(),
				    .seq = ++warm_seq };
}

/* A warm supervisor for this request, if one is ready: it gets the descriptors. Returns
 * its pid (its pidfd in *pidfd), or 0. */
static int warm_take(const struct spawner_req *req, const int *fds, size_t n_fds, int *pidfd)
{
	uint64_t now = now_ms();
	for (size_t i = 0; i < WARM_MAX; i++) {
		if (warm[i].pid && now - warm[i].born_ms > WARM_MAX_AGE_MS) {
			warm_drop(&warm[i]);
		}
	}
	for (;;) {
		/* The oldest first: it has had the longest to get ready. */
		struct warm *w = NULL;
		for (size_t i = 0; req->key && i < WARM_MAX; i++) {
			if (warm[i].pid && warm[i].key == req->key &&
			    warm[i].flags == req->clone_flags && (!w || warm[i].seq < w->seq)) {
				w = &warm[i];
			}
		}
		if (!w) {
			return 0;
		}
		char byte = 'w';
		if (wire_send_fds(w->hand, &byte, 1, fds, n_fds, MSG_DONTWAIT) < 0) {
			warm_drop(w); /* it died: another, or a cold one instead */
			continue;
		}
		int pid = w->pid;
		*pidfd = w->pidfd;
		close(w->hand);
		memset(w, 0, sizeof(*w));
		return pid;
	}
}

static bool request_waiting(void)
{
	struct pollfd pfd = { .fd = SOCK_FD, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0;
}

/* One request: returns false when the runner is gone. */
static bool serve_one(int self, int sigfd)
{
	struct spawner_req req;
	int fds[WIRE_MAX_FDS];
	size_t n_fds;
	bool trunc = false;
	ssize_t n = wire_recv_fds(SOCK_FD, &req, sizeof(req), fds, WIRE_MAX_FDS, &n_fds, &trunc);
	if (n == 0 || (n < 0 && n != -EINTR && n != -EAGAIN)) {
		return false;
	}
	int pid = -EBADMSG, pidfd = -1;
	bool ok = n == (ssize_t)sizeof(req) && req.magic == SPAWNER_MAGIC && req.n_fds == n_fds &&
		  n_fds >= 2 && !trunc && !(req.clone_flags & ~(uint64_t)SPAWNER_CLONE_FLAGS);
	if (ok) {
		pid = warm_take(&req, fds, n_fds, &pidfd);
	}
	if (ok && !pid) {
		long r = syscall(SYS_clone, (unsigned long)req.clone_flags | SIGCHLD, NULL, NULL,
				 NULL, 0);
		if (r == 0) {
			supervise(fds, n_fds, self, sigfd);
		}
		pid = r < 0 ? -errno : (int)r;
		/* A pidfd now, while the supervisor cannot have been reaped: its pid is this
		 * process's to reuse only after the waitpid() in main(). */
		pidfd = r > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)r, 0) : -1;
		if (r > 0 && pidfd < 0) {
			pid = -errno;
			kill((pid_t)r, SIGKILL);
		}
	}
	reply(pid, pidfd);
	if (pidfd >= 0) {
		close(pidfd);
	}
	/* The next stage of this policy finds a warm supervisor, unless a request is already
	 * waiting: that one comes first. */
	if (ok && pid > 0 && req.key) {
		size_t have = 0;
		for (size_t i = 0; i < WARM_MAX; i++) {
			have += warm[i].pid && warm[i].key == req.key &&
				warm[i].flags == req.clone_flags;
		}
		while (have++ < WARM_DEPTH && !request_waiting()) {
			warm_make(&req, fds, n_fds, self, sigfd);
		}
	}
	for (size_t i = 0; i < n_fds; i++) {
		close(fds[i]);
	}
	return true;
}

int main(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (sigfd < 0 || self < 0 || fcntl(SOCK_FD, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(RUNNER_FD, F_SETFD, FD_CLOEXEC) < 0) {
		reply(-errno, -1);
		return 1;
	}
	fcntl(self, F_SETFD, FD_CLOEXEC);
	prctl(PR_SET_NAME, "runner-spawner", 0, 0, 0); /* executed from a memfd, it has no name */
	reply(0, -1);				       /* ready */
	for (;;) {
		struct pollfd pfd[3] = { { .fd = SOCK_FD, .events = POLLIN },
					 { .fd = RUNNER_FD, .events = POLLIN },
					 { .fd = sigfd, .events = POLLIN } };
		if (poll(pfd, 3, -1) < 0) {
			continue;
		}
		if (pfd[1].revents) {
			_exit(0); /* the runner ended */
		}
		if (pfd[2].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) > 0) {
			}
			while (waitpid(-1, NULL, WNOHANG) > 0) {
			}
		}
		if (pfd[0].revents && !serve_one(self, sigfd)) {
			_exit(0);
		}
	}
}
