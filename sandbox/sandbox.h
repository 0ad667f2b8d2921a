/*
 * sandbox.h - the only way the runner starts a process for a stage.
 *
 * sandbox_spawn() forks a small supervisor (the "shim") that becomes a session leader
 * and child subreaper, starts the payload in its own process group with exactly the
 * environment and file descriptors it is given, and owns every descendant: when the
 * payload exits, anything it left behind (background jobs, double-forked daemons) is
 * killed; when the runner dies, the shim's parent-death signal makes it kill the whole
 * tree. The runner talks to the shim only through signals and a status pipe, and learns
 * that the stage ended when the shim's pidfd becomes readable.
 *
 * Everything that can go wrong between fork and exec (a bad working directory, a missing
 * interpreter) is reported as SANDBOX_SETUP_FAILED with the step and errno, never as an
 * ordinary exit code, so that callers can fail closed.
 */
#ifndef RUNNER_SANDBOX_H
#define RUNNER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sandbox_policy;
struct sandbox_proc;

/* The default policy. Caller owns the result; sandbox_policy_free() accepts NULL. */
struct sandbox_policy *sandbox_policy_new(void);
void sandbox_policy_free(struct sandbox_policy *pol);

struct sandbox_spawn {
	const char *const *argv; /* argv[0] is an absolute path unless exec_fd >= 0 */
	const char *const *envp; /* the complete environment: nothing is inherited */
	const char *cwd;         /* absolute working directory */
	int exec_fd;             /* >= 0: execute this fd (execveat) instead of argv[0] */
	int stdin_fd;            /* -1 for /dev/null */
	int stdout_fd;           /* required */
	int stderr_fd;           /* required (may equal stdout_fd) */
	const int *fds;          /* extra fds, placed at 3, 4, ... in the payload */
	size_t n_fds;
};

enum sandbox_outcome {
	SANDBOX_EXITED,       /* code holds the exit status */
	SANDBOX_SIGNALED,     /* sig holds the signal that ended the payload */
	SANDBOX_SETUP_FAILED, /* message says which step failed and why */
};

struct sandbox_result {
	enum sandbox_outcome outcome;
	int code;
	int sig;
	char message[256];
};

/*
 * Start a process. On success *out is a handle (free it with sandbox_proc_free) and the
 * caller may close its copies of the fds it passed. Returns 0 or -errno (fork failed).
 */
int sandbox_spawn(const struct sandbox_policy *pol, const struct sandbox_spawn *args,
		  struct sandbox_proc **out);

/* pid and pidfd of the stage's supervisor: poll the pidfd for POLLIN to learn it ended. */
pid_t sandbox_proc_pid(const struct sandbox_proc *p);
int sandbox_proc_pidfd(const struct sandbox_proc *p);

/* Ask every process of the stage to terminate (SIGTERM to each). Returns 0 or -errno. */
int sandbox_terminate(struct sandbox_proc *p);
/* Kill every process of the stage now (SIGKILL). Returns 0 or -errno. */
int sandbox_kill(struct sandbox_proc *p);

/*
 * Collect the result once the pidfd is readable. Returns 0 with *res filled, -EAGAIN if the
 * stage is still running, or -errno.
 */
int sandbox_reap(struct sandbox_proc *p, struct sandbox_result *res);

/* Block until the stage ends; fills *res. Returns 0 or -errno. */
int sandbox_wait(struct sandbox_proc *p, struct sandbox_result *res);

/* Kill (if still running), reap and release. Accepts NULL. */
void sandbox_proc_free(struct sandbox_proc *p);

#endif
