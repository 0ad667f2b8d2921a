/*
 * spawner.c - the runner's end of the spawner, the helper process that starts confined
 * stages' supervisors (runner side).
 *
 * Why a helper: a supervisor started with clone() from the runner is a copy of the
 * runner's address space, and the runner maps some fifty shared libraries (git, curl, TLS,
 * SQLite, ...): copying those mappings and tearing them down again cost about 0.7 ms of CPU
 * per stage, a third of it before the stage could even start. The spawner is a small
 * program (spawner-main.c, embedded in this library and executed from a sealed memfd, so
 * no path has to be found or trusted) whose copies are cheap. It is started once per
 * process, on first use, double-forked (it is never the runner's child to wait for), in a
 * session of its own (a terminal's ^C reaches the runner, which cancels its stages as it
 * means to, not the spawner), with an empty environment (it never sees the runner's), and
 * ends when the runner does (it watches a pidfd of the runner): its supervisors then get
 * their parent-death signal and kill their stages, as they would have with the runner as
 * their parent.
 *
 * One request per stage on a SOCK_SEQPACKET socket: the clone flags and the descriptors
 * the supervisor needs (SCM_RIGHTS), the first of them a memfd holding its instructions
 * (wire.c). The reply carries the supervisor's pid and a pidfd of it, made by the spawner
 * while the process could not have been reaped yet. Requests are serialised by a mutex (the
 * server spawns from several threads). A process forked from one that started a spawner
 * starts its own.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "banned.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010u
#endif

/* The helper program, built and embedded by meson (sandbox/embed.py). */
extern const unsigned char spawner_image[];
extern const size_t spawner_image_size;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static pid_t owner; /* the process that started it */

/* The program in a sealed memfd, to execute. */
static int image_fd(void)
{
	int fd = memfd_create("runner-spawner", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) { /* kernels before 6.3 know no MFD_EXEC */
		fd = memfd_create("runner-spawner", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	}
	if (fd < 0) {
		return -errno;
	}
	for (size_t done = 0; done < spawner_image_size;) {
		ssize_t k = write(fd, spawner_image + done, spawner_image_size - done);
		if (k < 0 && errno != EINTR) {
			int e = -errno;
			close(fd);
			return e;
		}
		done += k > 0 ? (size_t)k : 0;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* A reply, with the pidfd it may carry (-1 when none). */
static int recv_reply(int s, struct spawner_reply *rep, int *fd)
{
	size_t n_fds;
	bool trunc;
	ssize_t n = wire_recv_fds(s, rep, sizeof(*rep), fd, 1, &n_fds, &trunc);
	if (n_fds == 0) {
		*fd = -1;
	}
	if (n != (ssize_t)sizeof(*rep) || rep->magic != SPAWNER_MAGIC || trunc) {
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
		return n < 0 ? (int)n : -EPIPE;
	}
	return 0;
}

/* Child side of the start: place the socket at 3 and the runner's pidfd at 4, /dev/null at
 * 0-2, nothing else, and execute the program. */
static _Noreturn void exec_helper(int s, int runner, int img, const char *const *envp)
{
	int hs = fcntl(s, F_DUPFD_CLOEXEC, 10), hr = fcntl(runner, F_DUPFD_CLOEXEC, 10),
	    hi = fcntl(img, F_DUPFD_CLOEXEC, 10);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (hs < 0 || hr < 0 || hi < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0 || dup2(hs, 3) < 0 || dup2(hr, 4) < 0) {
		_exit(127);
	}
	/* Nothing else of the runner's descriptors reaches the program. */
	syscall(SYS_close_range, 5u, ~0u, CLOSE_RANGE_CLOEXEC);
	const char *const argv[] = { "runner-spawner", NULL };
	syscall(SYS_execveat, hi, "", argv, envp, AT_EMPTY_PATH);
	struct spawner_reply rep = { SPAWNER_MAGIC, -errno };
	ssize_t w = write(3, &rep, sizeof(rep));
	(void)w;
	_exit(127);
}

/* Start the spawner; returns the runner's end of its socket, or -errno. */
static int start(void)
{
	/* Only what a sanitizer build's runtime reads: the helper gets nothing else of the
	 * runner's environment. */
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS" };
	char *envbuf[ARRAY_SIZE(pass)];
	const char *envp[ARRAY_SIZE(pass) + 1];
	size_t ne = 0;
	for (size_t i = 0; i < ARRAY_SIZE(pass); i++) {
		const char *v = getenv(pass[i]);
		if (v) {
			envbuf[ne] = xasprintf("%s=%s", pass[i], v);
			envp[ne] = envbuf[ne];
			ne++;
		}
	}
	envp[ne] = NULL;

	int sv[2] = { -1, -1 }, img = image_fd(), self = -1, r = 0;
	if (img < 0) {
		r = img;
	} else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
	} else if ((self = (int)syscall(SYS_pidfd_open, getpid(), 0)) < 0) {
		r = -errno;
	}
	pid_t mid = r < 0 ? -1 : fork();
	if (r == 0 && mid < 0) {
		r = -errno;
	}
	if (mid == 0) {
		setsid();
		pid_t h = fork();
		if (h == 0) {
			exec_helper(sv[1], self, img, envp);
		}
		_exit(h < 0 ? 1 : 0);
	}
	for (size_t i = 0; i < ne; i++) {
		free(envbuf[i]);
	}
	if (sv[1] >= 0) {
		close(sv[1]);
	}
	if (self >= 0) {
		close(self);
	}
	if (img >= 0) {
		close(img);
	}
	if (mid > 0) {
		int st;
		while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			r = -ECHILD;
		}
	}
	/* It says it is ready (pid 0), or why it could not start. */
	struct spawner_reply rep;
	int fd;
	if (r == 0) {
		r = recv_reply(sv[0], &rep, &fd);
		if (fd >= 0) {
			close(fd);
		}
		if (r == 0 && rep.pid != 0) {
			r = rep.pid < 0 ? rep.pid : -EPROTO;
		}
	}
	if (r < 0) {
		if (sv[0] >= 0) {
			close(sv[0]);
		}
		return r;
	}
	return sv[0];
}

int spawner_start(unsigned long clone_flags, uint64_t key, const int *fds, size_t n_fds, pid_t *pid,
		  int *pidfd)
{
	if ((clone_flags & ~(unsigned long)SPAWNER_CLONE_FLAGS) || n_fds > WIRE_MAX_FDS) {
		return -EINVAL;
	}
	struct spawner_req req = { SPAWNER_MAGIC, (uint32_t)n_fds, clone_flags, key };
	struct spawner_reply rep;
	int r = 0;
	pthread_mutex_lock(&lock);
	/* A second attempt with a new spawner if the first one is gone before it got the
	 * request (once it has it, a lost reply is an error: the stage may have started). */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (sock >= 0 && owner != getpid()) {
			close(sock); /* the parent's, inherited through fork */
			sock = -1;
		}
		if (sock < 0) {
			sock = start();
			if (sock < 0) {
				r = sock;
				sock = -1;
				break;
			}
			owner = getpid();
		}
		r = wire_send_fds(sock, &req, sizeof(req), fds, n_fds, 0);
		if (r == 0) {
			r = recv_reply(sock, &rep, pidfd);
			if (r < 0) {
				close(sock);
				sock = -1;
			}
			break;
		}
		close(sock);
		sock = -1;
		if (r != -EPIPE && r != -ECONNRESET) {
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (r < 0) {
		return r;
	}
	if (rep.pid <= 0 || *pidfd < 0) {
		if (*pidfd >= 0) {
			close(*pidfd);
		}
		return rep.pid < 0 ? rep.pid : -EPROTO;
	}
	*pid = rep.pid;
	return 0;
}
