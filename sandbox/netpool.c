/*
 * netpool.c - network namespaces made ahead of time.
 *
 * Making a network namespace costs about half a millisecond of kernel work (every
 * per-namespace subsystem initialises), far more than every other namespace together.
 * Instead of paying it while a stage waits, a helper process makes them in the background:
 * for each credit the runner sends it, it creates a fresh namespace, brings its loopback
 * interface up, returns to its own namespace and passes the namespace's fd to the runner
 * (SCM_RIGHTS). A stage that wants network `none` takes one with a non-blocking receive
 * and the shim joins it with setns(); when none is ready the shim makes its own, so the
 * pool only ever saves time. Each namespace is handed out once and never reused, so
 * stages stay exactly as isolated as with a namespace of their own.
 *
 * Only for a root runner: joining a namespace owned by the initial user namespace needs
 * CAP_SYS_ADMIN there. The helper is detached (double fork, so it is never the runner's
 * child to wait for) and exits when the runner's end of the socket closes.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "banned.h"

#define POOL_SIZE 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int pool_sock = -1;
static bool pool_failed;

/* Child side: make one namespace and send it. Returns 0 or -errno. */
static int make_one(int sock, int home)
{
	if (unshare(CLONE_NEWNET) < 0) {
		return -errno;
	}
	int r = 0, ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	safe_copy(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ns < 0 || s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
	}
	if (s >= 0) {
		close(s);
	}
	if (setns(home, CLONE_NEWNET) < 0) {
		_exit(1); /* never stay in a stage's namespace */
	}
	if (r == 0) {
		char byte = 'n';
		struct iovec iov = { &byte, 1 };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		memset(&u, 0, sizeof(u));
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = u.buf,
				      .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &ns, sizeof(int));
		r = sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
	}
	if (ns >= 0) {
		close(ns);
	}
	return r;
}

static _noreturn_ void helper_main(int sock)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	syscall(SYS_close_range, 0u, (unsigned)sock - 1, 0u);
	syscall(SYS_close_range, (unsigned)sock + 1, ~0u, 0u);
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		_exit(1);
	}
	for (;;) {
		char credit;
		ssize_t n = read(sock, &credit, 1);
		if (n <= 0) {
			_exit(0); /* the runner is gone */
		}
		if (make_one(sock, home) < 0) {
			_exit(1);
		}
	}
}

static int start_helper(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	pid_t mid = fork();
	if (mid < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if (mid == 0) {
		setsid();
		pid_t h = fork();
		if (h == 0) {
			helper_main(sv[1]);
		}
		_exit(h < 0 ? 1 : 0);
	}
	close(sv[1]);
	int st;
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		close(sv[0]);
		return -ECHILD;
	}
	char credits[POOL_SIZE];
	memset(credits, 'c', sizeof(credits));
	if (write(sv[0], credits, sizeof(credits)) != (ssize_t)sizeof(credits)) {
		close(sv[0]);
		return -EIO;
	}
	return sv[0];
}

static int receive(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0) {
		return n == 0 ? -EPIPE : -errno;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		return -EBADMSG;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

bool netpool_running(void)
{
	pthread_mutex_lock(&lock);
	bool up = pool_sock >= 0;
	pthread_mutex_unlock(&lock);
	return up;
}

int netpool_take(void)
{
	if (geteuid() != 0) {
		return -1;
	}
	pthread_mutex_lock(&lock);
	int fd = -1;
	if (pool_sock < 0 && !pool_failed) {
		pool_sock = start_helper();
		pool_failed = pool_sock < 0;
	}
	if (pool_sock >= 0) {
		fd = receive(pool_sock);
		if (fd >= 0) {
			char credit = 'c';
			if (write(pool_sock, &credit, 1) != 1) {
				close(fd);
				fd = -1;
			}
		} else if (fd != -EAGAIN) {
			/* The helper is gone: stop using the pool, make namespaces inline. */
			close(pool_sock);
			pool_sock = -1;
			pool_failed = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return fd < 0 ? -1 : fd;
}
