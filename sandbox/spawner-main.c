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
 * Warm supervisors: after a request, when no other is waiting, the spawner starts a
 * supervisor for the next stage of the same policy (same key and clone flags) and lets it
 * prepare everything that depends on the policy alone (shim_prepare(): its namespaces, the
 * network namespace, the root but for the workspace) while the current stage runs. The
 * next matching request hands it the stage's descriptors over a socket of its own, and it
 * finishes as a cold one would (shim_run()), checking first that the stage's policy is the
 * one it was prepared for. A warm supervisor is used once, for one stage; its namespaces,
 * /tmp, /proc and devpts are new and nothing else has been in them. It is dropped (killed)
 * when its policy has not been asked for in WARM_MAX_AGE, so that a host mount made since
 * it was cloned is not missed for long.
 *
 * When the stages of a policy last long enough it is started once the current stage's
 * payload has started, not at once: cloning it and preparing it (a mount namespace copy,
 * the network namespace, mounts) contend for the CPUs and the kernel's mount and network
 * locks with that stage's own start. The current stage's supervisor holds the write end of
 * a pipe ("go") until its payload has executed (it closes every descriptor then,
 * shim_run()); the spawner waits for the read end's EOF. Whether they last long enough is
 * told by the warm supervisor taken for the stage: it says when it was prepared (a message
 * on its socket). One started late that was not ready in time means short stages: the next
 * is started at once; one started at once that then waited for its stage more than four
 * times as long as it took to prepare means long ones: the next is started late (it then
 * has that time less the stage's own start, which is shorter than a preparation, and a
 * late one not ready in time costs more than starting at once does).
 */
#define WARM_MAX	4
#define WARM_MAX_AGE_MS 5000
/* The hand-over to a warm supervisor: a stage's descriptors and its "go" pipe. */
#define HAND_MAX_FDS WIRE_PASS_MAX_FDS

struct warm {
	pid_t pid; /* 0: free slot */
	int pidfd;
	int hand; /* the stage's descriptors go through this socket */
	uint64_t key, flags, born_ns;
	bool late; /* started once the previous stage's payload had started */
};
static struct warm warm[WARM_MAX];

/* Policies whose warm supervisors are started late (least recently told first). */
struct late_key {
	uint64_t key, flags;
};
static struct late_key late_keys[WARM_MAX];
static size_t n_late;

static bool start_late(uint64_t key, uint64_t flags)
{
	for (size_t i = 0; i < n_late; i++) {
		if (late_keys[i].key == key && late_keys[i].flags == flags) {
			return true;
		}
	}
	return false;
}

static void set_late(uint64_t key, uint64_t flags, bool late)
{
	size_t i = 0;
	while (i < n_late && (late_keys[i].key != key || late_keys[i].flags != flags)) {
		i++;
	}
	if (i < n_late) {
		memmove(&late_keys[i], &late_keys[i + 1], (n_late - i - 1) * sizeof(late_keys[0]));
		n_late--;
	}
	if (late) {
		if (n_late == WARM_MAX) {
			memmove(&late_keys[0], &late_keys[1],
				(WARM_MAX - 1) * sizeof(late_keys[0]));
			n_late--;
		}
		late_keys[n_late++] = (struct late_key){ key, flags };
	}
}

/* A warm supervisor to start once a stage has started. */
struct pending {
	int go;	  /* read end of the stage's "go" pipe; -1: free slot */
	int blob; /* the stage's instructions */
	uint64_t key, flags;
};
static struct pending pending[WARM_MAX];

static void pending_drop(struct pending *p)
{
	if (p->go >= 0) {
		close(p->go);
		close(p->blob);
	}
	p->go = p->blob = -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
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
		if (pending[i].go >= 0) {
			close(pending[i].go);
			close(pending[i].blob);
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
static _Noreturn void supervise(const int *fds, size_t n_fds, int self, int sigfd, int go_rd)
{
	close_spawner_fds(sigfd, -1);
	if (go_rd >= 0) {
		close(go_rd); /* the write end stays open until the payload has started */
	}
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
	if (pr == 0) {
		pr = shim_prepare(pol, &step);
	}
	/* Prepared (or failed to be): when, for the spawner to judge how early it was started. */
	uint64_t ready = now_ns();
	ssize_t w = send(hand, &ready, sizeof(ready), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	char byte;
	int fds[HAND_MAX_FDS];
	size_t n_fds;
	bool trunc = false;
	ssize_t n = wire_recv_fds(hand, &byte, 1, fds, HAND_MAX_FDS, &n_fds, &trunc);
	if (n <= 0 || n_fds < 2) {
		_exit(0); /* the spawner dropped it, or ended */
	}
	close(hand);
	/* The "go" pipe, when there is one, comes last; it stays open until the payload has
	 * started (shim_run() closes every descriptor then). */
	if (byte == 'g') {
		n_fds--;
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
static void warm_make(const struct spawner_req *req, const int *fds, size_t n_fds, bool late,
		      int self, int sigfd)
{
	size_t slot = 0;
	for (size_t i = 0; i < WARM_MAX; i++) {
		if (!warm[i].pid) {
			slot = i;
			break;
		}
		if (warm[i].born_ns < warm[slot].born_ns) {
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
	warm[slot] =
		(struct warm){ (pid_t)r, pidfd, hv[0], req->key, req->clone_flags, now_ns(), late };
}

/* The stage's "go" pipe, when the warm supervisor to follow it is to start late. */
static void make_go(const struct spawner_req *req, int go[2])
{
	if (req->key && start_late(req->key, req->clone_flags) && pipe2(go, O_CLOEXEC) < 0) {
		go[0] = go[1] = -1;
	}
}

/* A warm supervisor for this request, if one is ready: it gets the descriptors and the
 * "go" pipe's write end (made here, go[], once it is known how the next one starts).
 * Returns its pid (its pidfd in *pidfd), or 0. */
static int warm_take(const struct spawner_req *req, const int *fds, size_t n_fds, int go[2],
		     int *pidfd)
{
	int hand_fds[HAND_MAX_FDS];
	memcpy(hand_fds, fds, n_fds * sizeof(int));
	uint64_t now = now_ns();
	for (size_t i = 0; i < WARM_MAX; i++) {
		struct warm *w = &warm[i];
		if (w->pid && now - w->born_ns > WARM_MAX_AGE_MS * 1000000ull) {
			warm_drop(w);
		}
		if (!w->pid || !req->key || w->key != req->key || w->flags != req->clone_flags) {
			continue;
		}
		/* When it was prepared, if it was (see above). */
		uint64_t ready = 0;
		bool was_ready = recv(w->hand, &ready, sizeof(ready), MSG_DONTWAIT) ==
					 (ssize_t)sizeof(ready) &&
				 ready >= w->born_ns && ready <= now;
		set_late(w->key, w->flags,
			 w->late ? was_ready : was_ready && now - ready > 4 * (ready - w->born_ns));
		make_go(req, go);
		hand_fds[n_fds] = go[1];
		char byte = go[1] >= 0 ? 'g' : 'w';
		if (wire_send_fds(w->hand, &byte, 1, hand_fds, n_fds + (go[1] >= 0), MSG_DONTWAIT) <
		    0) {
			warm_drop(w); /* it died: a cold one instead */
			if (go[0] >= 0) {
				close(go[0]);
				close(go[1]);
				go[0] = go[1] = -1;
			}
			continue;
		}
		int pid = w->pid;
		*pidfd = w->pidfd;
		close(w->hand);
		memset(w, 0, sizeof(*w));
		return pid;
	}
	return 0;
}

/* A warm supervisor for this policy, ready or to be started. */
static bool have_warm(uint64_t key, uint64_t flags)
{
	for (size_t i = 0; i < WARM_MAX; i++) {
		if ((warm[i].pid && warm[i].key == key && warm[i].flags == flags) ||
		    (pending[i].go >= 0 && pending[i].key == key && pending[i].flags == flags)) {
			return true;
		}
	}
	return false;
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
	/* The stage's supervisor tells when its payload has started (EOF), if a warm one
	 * may follow it. */
	int go[2] = { -1, -1 };
	if (ok) {
		pid = warm_take(&req, fds, n_fds, go, &pidfd);
	}
	if (ok && !pid) {
		make_go(&req, go);
		long r = syscall(SYS_clone, (unsigned long)req.clone_flags | SIGCHLD, NULL, NULL,
				 NULL, 0);
		if (r == 0) {
			supervise(fds, n_fds, self, sigfd, go[0]);
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
	if (go[1] >= 0) {
		close(go[1]);
	}
	/* The next stage of this policy finds a warm supervisor, started once this one's
	 * payload has, unless a request is already waiting: that one comes first. */
	size_t keep = 0;
	bool want = ok && pid > 0 && req.key && !have_warm(req.key, req.clone_flags) &&
		    !request_waiting();
	if (want && go[0] < 0) {
		warm_make(&req, fds, n_fds, false, self, sigfd);
	} else if (want) {
		struct pending *p = &pending[WARM_MAX - 1]; /* it goes when none is free */
		for (size_t i = 0; i < WARM_MAX; i++) {
			if (pending[i].go < 0) {
				p = &pending[i];
				break;
			}
		}
		pending_drop(p);
		*p = (struct pending){ go[0], fds[0], req.key, req.clone_flags };
		go[0] = -1;
		keep = 1;
	}
	if (go[0] >= 0) {
		close(go[0]);
	}
	for (size_t i = keep; i < n_fds; i++) {
		close(fds[i]);
	}
	return true;
}

/* A stage has started: the warm supervisor for the next one of its policy, from its
 * instructions. */
static void pending_start(struct pending *p, int self, int sigfd)
{
	struct pending q = *p;
	p->go = p->blob = -1;
	close(q.go);
	if (!have_warm(q.key, q.flags)) {
		struct spawner_req req = { SPAWNER_MAGIC, 1, q.flags, q.key };
		warm_make(&req, &q.blob, 1, true, self, sigfd);
	}
	close(q.blob);
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
	for (size_t i = 0; i < WARM_MAX; i++) {
		pending[i].go = pending[i].blob = -1;
	}
	reply(0, -1); /* ready */
	for (;;) {
		struct pollfd pfd[3 + WARM_MAX] = { { .fd = SOCK_FD, .events = POLLIN },
						    { .fd = RUNNER_FD, .events = POLLIN },
						    { .fd = sigfd, .events = POLLIN } };
		for (size_t i = 0; i < WARM_MAX; i++) {
			pfd[3 + i] = (struct pollfd){ .fd = pending[i].go, .events = POLLIN };
		}
		if (poll(pfd, 3 + WARM_MAX, -1) < 0) {
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
		/* Requests first: a stage waiting to start comes before a warm supervisor. */
		for (size_t i = 0; i < WARM_MAX && !pfd[0].revents; i++) {
			if (pfd[3 + i].revents && pending[i].go == pfd[3 + i].fd) {
				pending_start(&pending[i], self, sigfd);
			}
		}
	}
}
