/*
 * sandbox.h - the only way the runner starts a process for a stage, and the confinement
 * it runs in.
 *
 * sandbox_spawn() starts a small supervisor (the "shim") that owns every descendant of the
 * stage. Under a confined policy (the default) the shim is process 1 of fresh PID, mount,
 * IPC, UTS, cgroup and network namespaces (and a user namespace when the runner is not
 * root); it builds a minimal root (host /usr and /etc essentials or a configured root
 * filesystem, read-only; the workspace read-write; a size-capped /tmp; a fresh /proc with
 * sensitive entries covered; a minimal /dev), pivots into it and starts the payload with
 * resource limits, no capabilities, no_new_privs and a seccomp filter loaded last before
 * exec. Because the shim is process 1, killing it (or the runner dying: its parent-death
 * signal) takes every process of the stage with it, double-forked daemons included.
 *
 * An unconfined policy (`runner run --no-sandbox`, local debugging only) keeps the
 * supervision (own session, process-tree kill, exact environment and fds) and nothing else.
 *
 * Fail closed: every step between fork and exec that fails (a namespace, a mount, a limit,
 * the filter) is reported as SANDBOX_SETUP_FAILED naming the step and errno; the payload
 * never runs with less confinement than its policy asks for.
 *
 * A policy is built once (setters below), compiled once with sandbox_policy_compile() (the
 * seccomp filter is generated then, not per stage) and may then be shared by any number of
 * concurrent spawns; a compiled policy is immutable.
 */
#ifndef RUNNER_SANDBOX_H
#define RUNNER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sandbox_policy;
struct sandbox_proc;

enum sandbox_network {
	SANDBOX_NET_NONE, /* a new network namespace with only a loopback interface */
	SANDBOX_NET_HOST, /* the host's network (opt-in; reported) */
};

enum sandbox_limit {
	SANDBOX_LIMIT_MEMORY, /* bytes (cgroup memory controller) */
	SANDBOX_LIMIT_PIDS,   /* processes and threads (cgroup pids, or a per-stage user ns) */
	SANDBOX_LIMIT_CPU,    /* CPU seconds per process (RLIMIT_CPU) */
	SANDBOX_LIMIT_TMP,    /* bytes of the /tmp tmpfs */
	SANDBOX_LIMIT_NOFILE, /* open files per process (RLIMIT_NOFILE) */
	SANDBOX_LIMIT_FSIZE,  /* largest file a process may write, bytes (RLIMIT_FSIZE) */
	SANDBOX_LIMIT_COUNT,
};

/*
 * The default policy: confined, network none, default limits (see docs/sandbox.md). Limits
 * left at their defaults are applied where the host allows; limits set explicitly with
 * sandbox_policy_set_limit() are required (a host that cannot apply one fails the spawn).
 * Caller owns the result; sandbox_policy_free() accepts NULL.
 */
struct sandbox_policy *sandbox_policy_new(void);
/* Supervision only, for `runner run --no-sandbox`. */
struct sandbox_policy *sandbox_policy_new_unconfined(void);
/* An uncompiled copy (to derive a stage's policy from a base). */
struct sandbox_policy *sandbox_policy_copy(const struct sandbox_policy *pol);
void sandbox_policy_free(struct sandbox_policy *pol);

/* Setters; only on a policy that is not compiled yet. Return 0 or -errno. */
int sandbox_policy_set_network(struct sandbox_policy *pol, enum sandbox_network net);
int sandbox_policy_set_limit(struct sandbox_policy *pol, enum sandbox_limit which, uint64_t v);
/*
 * A policy for one process of the runner's own binary outside a run (`runner scan`'s
 * worker): no supervisor is prepared ahead for a next stage that will not come, and /etc
 * holds only what the runner's binary reads (the dynamic linker's files, users, name
 * service, time zone), not the thousand entries a build's tools may need.
 */
int sandbox_policy_set_oneshot(struct sandbox_policy *pol, bool oneshot);
/* Mount the workspace read-only (paths added writable stay writable). */
int sandbox_policy_set_workspace_readonly(struct sandbox_policy *pol, bool ro);
/*
 * A path relative to the workspace (no "..", no leading "/") mounted read-only or
 * read-write on top of the workspace. It must exist and must not be reached through a
 * symbolic link when the stage starts, or the stage fails to start.
 */
int sandbox_policy_add_path(struct sandbox_policy *pol, const char *rel, bool writable);
/*
 * Use the directory `dir` (absolute) as the root filesystem instead of the host's /usr and
 * /etc essentials. Its top-level entries are mounted read-only, nosuid, nodev.
 */
int sandbox_policy_set_rootfs(struct sandbox_policy *pol, const char *dir);
/* Refuse (at combination) policies that bring their own rootfs: for enforced policies. */
int sandbox_policy_forbid_rootfs(struct sandbox_policy *pol);

/*
 * The stricter combination of an enforced policy and a requested one: confined if either
 * is, network none unless both say host, the smaller of each limit, read-only wherever
 * either says so (a requested writable path does not loosen an enforced read-only
 * workspace). Returns NULL with *err set when they cannot be combined (a requested rootfs
 * under an enforced policy that forbids it). Caller owns the (uncompiled) result.
 */
struct sandbox_policy *sandbox_policy_stricter(const struct sandbox_policy *enforced,
					       const struct sandbox_policy *requested,
					       const char **err);

/* Whether two policies would confine a stage identically (to compile each once). */
bool sandbox_policy_equal(const struct sandbox_policy *a, const struct sandbox_policy *b);

/*
 * Prepare the policy for spawning: generate the seccomp filter and look at what this host
 * offers (user namespaces, cgroups). On failure returns -errno and describes the failing
 * step in err. Compiling twice is a no-op.
 */
int sandbox_policy_compile(struct sandbox_policy *pol, char *err, size_t errsize);

bool sandbox_policy_confined(const struct sandbox_policy *pol);
enum sandbox_network sandbox_policy_network(const struct sandbox_policy *pol);
/* The limit's value (0: none), and whether it was set explicitly (and so is required). */
uint64_t sandbox_policy_limit(const struct sandbox_policy *pol, enum sandbox_limit which,
			      bool *required);
const char *sandbox_policy_rootfs(const struct sandbox_policy *pol);
bool sandbox_policy_workspace_readonly(const struct sandbox_policy *pol);
/* The i-th extra path (NULL past the end); *writable tells its mode. */
const char *sandbox_policy_path(const struct sandbox_policy *pol, size_t i, bool *writable);
const char *sandbox_network_name(enum sandbox_network net);
const char *sandbox_limit_name(enum sandbox_limit which);

/* A mount the caller adds (the run record, artifacts, a kind's input). */
struct sandbox_mount {
	const char *path;   /* absolute path inside the sandbox (under the workspace, where it
			     * must exist, or one the sandbox creates in its own root) */
	const char *source; /* absolute host directory or file bound there (read-only unless
			     * writable); NULL: hide the workspace directory under an empty
			     * read-only one */
	bool writable;
};

struct sandbox_spawn {
	const char *const *argv; /* argv[0] is an absolute path unless exec_fd >= 0 */
	const char *const *envp; /* the complete environment: nothing is inherited */
	const char *cwd;	 /* absolute working directory (inside the workspace) */
	int exec_fd;		 /* >= 0: execute this fd (execveat) instead of argv[0] */
	int stdin_fd;		 /* -1 for /dev/null */
	int stdout_fd;		 /* required */
	int stderr_fd;		 /* required (may equal stdout_fd) */
	const int *fds;		 /* extra fds, placed at 3, 4, ... in the payload */
	size_t n_fds;
	/* Confined policies: the workspace (absolute, canonical), mounted read-write at the
	 * same path, and the caller's extra mounts, applied in order after it. */
	const char *workspace;
	const struct sandbox_mount *mounts;
	size_t n_mounts;
};

enum sandbox_outcome {
	SANDBOX_EXITED,	      /* code holds the exit status */
	SANDBOX_SIGNALED,     /* sig holds the signal that ended the payload */
	SANDBOX_SETUP_FAILED, /* message says which step failed and why */
};

struct sandbox_result {
	enum sandbox_outcome outcome;
	int code;
	int sig;
	char message[256]; /* setup failures; for a signal, a limit that explains it, if any */
};

/*
 * Start a process. The policy must be compiled (or unconfined). On success *out is a
 * handle (free it with sandbox_proc_free) and the caller may close its copies of the fds it
 * passed. Returns 0 or -errno (bad arguments, fork failed, no cgroup could be created for
 * a required limit). Failures inside the new process come back through sandbox_reap().
 */
int sandbox_spawn(const struct sandbox_policy *pol, const struct sandbox_spawn *args,
		  struct sandbox_proc **out);

/* pid (in the caller's namespace) of the stage's supervisor, and an fd to poll for POLLIN
 * to learn that the stage ended: every process of the stage is gone then (the supervisor
 * itself finishes tearing the stage's namespaces down afterwards, and sandbox_proc_free
 * waits for that, so a caller may start other stages first). */
pid_t sandbox_proc_pid(const struct sandbox_proc *p);
int sandbox_proc_pidfd(const struct sandbox_proc *p);

/* Ask every process of the stage to terminate (SIGTERM to each). Returns 0 or -errno. */
int sandbox_terminate(struct sandbox_proc *p);
/* Kill every process of the stage now (SIGKILL). Returns 0 or -errno. */
int sandbox_kill(struct sandbox_proc *p);

/*
 * Collect the result once sandbox_proc_pidfd() is readable. Returns 0 with *res filled,
 * -EAGAIN if the stage is still running, or -errno.
 */
int sandbox_reap(struct sandbox_proc *p, struct sandbox_result *res);

/* Block until the stage ends; fills *res. Returns 0 or -errno. */
int sandbox_wait(struct sandbox_proc *p, struct sandbox_result *res);

/* Kill (if still running), wait for the supervisor to be gone, release. Accepts NULL. */
void sandbox_proc_free(struct sandbox_proc *p);

/*
 * Posture: what this host gives the sandbox. Each item names a protection, whether it is
 * available, and a detail (why not, or what is used). Returns the number of items written
 * to items (at most max). Runs checks in short-lived child processes; prints nothing.
 */
struct sandbox_posture_item {
	char name[48];
	bool available;
	bool essential; /* without it no confined stage can start */
	char detail[160];
};
size_t sandbox_posture(struct sandbox_posture_item *items, size_t max);

#endif
