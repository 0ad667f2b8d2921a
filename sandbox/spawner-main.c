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

#include "banned.h"

#define SOCK_FD	  3
#define RUNNER_FD 4

static void reply(int pid, int pidfd)
{
	struct spawner_reply rep = { SPAWNER_MAGIC, pid };
	struct iovec iov = { &rep, sizeof(rep) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (pidfd >= 0) {
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pidfd, sizeof(int));
	}
	while (sendmsg(SOCK_FD, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR) {
			_exit(0); /* the runner is gone */
		}
	}
}

/* The new supervisor: its instructions, then shim_main(). */
static _Noreturn void supervise(const int *fds, size_t n_fds, int self, int sigfd)
{
	close(SOCK_FD);
	close(RUNNER_FD);
	close(sigfd);
	const struct child_ctx *c;
	int r = wire_decode(fds[0], fds, n_fds, self, &c);
	if (r < 0) {
		/* The status pipe is the second descriptor of every request (wire_encode). */
		if (n_fds > 1) {
			shim_send(fds[1], SHIM_SETUP_FAILED, 0, 0, -r,
				  "read the stage's instructions");
		}
		_exit(1);
	}
	close(fds[0]);
	shim_main(c);
}

/* One request: returns false when the runner is gone. */
static bool serve_one(int self, int sigfd)
{
	struct spawner_req req;
	struct iovec iov = { &req, sizeof(req) };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(SOCK_FD, &msg, MSG_CMSG_CLOEXEC);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		return false;
	}
	if (n < 0) {
		return true;
	}
	int fds[WIRE_MAX_FDS];
	size_t n_fds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (n_fds < ARRAY_SIZE(fds)) {
				fds[n_fds++] = fd;
			} else {
				close(fd);
			}
		}
	}
	int pid = -EBADMSG, pidfd = -1;
	if (n == (ssize_t)sizeof(req) && req.magic == SPAWNER_MAGIC && req.n_fds == n_fds &&
	    n_fds >= 2 && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
	    !(req.clone_flags & ~(uint64_t)SPAWNER_CLONE_FLAGS)) {
		long r = syscall(SYS_clone, (unsigned long)req.clone_flags | SIGCHLD, NULL, NULL,
				 NULL, 0);
		if (r == 0) {
			supervise(fds, n_fds, self, sigfd);
		}
		pid = r < 0 ? -errno : (int)r;
		/* A pidfd now, while the supervisor cannot have been reaped: its pid is this
		 * process's to reuse only after the waitpid() below. */
		pidfd = r > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)r, 0) : -1;
		if (r > 0 && pidfd < 0) {
			kill((pid_t)r, SIGKILL);
			pid = -errno;
		}
	}
	reply(pid, pidfd);
	if (pidfd >= 0) {
		close(pidfd);
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
