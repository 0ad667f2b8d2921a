/*
 * internal.h - shared between the files of sandbox/ only; nothing outside includes it
 * (sandbox.h is the module's one public header).
 *
 * The pieces, runner side: policy.c (the policy object and its compilation), filter.c (the
 * seccomp filter, generated with libseccomp once per policy), cgroup.c (per-stage
 * cgroups), etc.c (the stages' /etc, prepared once per process), spawner.c (the small helper
 * process that starts confined stages), sandbox.c (spawn, wait, kill) and posture.c (what the host
 * offers).
 *
 * Child side (the stage's supervisor, "shim", and its payload): shim.c (supervision, the
 * payload's confinement), root.c (building the stage's root filesystem) and wire.c (the
 * supervisor's instructions as one relocatable block, for the spawner). spawner-main.c is
 * the helper program itself; it links only the child side and base/.
 *
 * Code marked "child side" runs between fork and exec: raw system calls and
 * async-signal-safe helpers only, every string prepared before the fork.
 */
#ifndef RUNNER_SANDBOX_INTERNAL_H
#define RUNNER_SANDBOX_INTERNAL_H

#include "sandbox.h"

#include <limits.h>
#include <linux/filter.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* ---- the policy ---- */

struct policy_path {
	char *rel;
	bool writable;
};

/* What the host offers for cgroups, found once per policy at compile time. */
struct cgroup_host {
	int version;		/* 1, 2, or 0: none usable */
	char memory[PATH_MAX];	/* v1: directory under which stage cgroups are made */
	char pids[PATH_MAX];	/* v1 */
	char unified[PATH_MAX]; /* v2: directory under which stage cgroups are made */
	bool memory_ok, pids_ok;
	char why[160]; /* when a controller is not usable */
};

/* The stages' /etc (etc.c): a private directory prepared once per policy. */
struct etc_bind {
	char *name; /* relative to /etc */
	char *host; /* the host path to bind there */
	bool dir, follow;
};

struct etc_view {
	char *dir;   /* the view; NULL when none */
	pid_t owner; /* the process that made it (and removes it) */
	struct etc_bind *binds;
	size_t n_binds;
};

/* The view (shared by the policies of this process; made on first use). NULL with err set
 * on failure. etc_view_put() accepts NULL. minimal: the view of one-shot policies (what
 * the runner's own binary needs: the dynamic linker's files, users, name service, time
 * zone), a few copies instead of a thousand. */
struct etc_view *etc_view_get(bool minimal, char *err, size_t errsize);
void etc_view_put(struct etc_view *v);

struct sandbox_policy {
	bool confined;
	bool compiled;
	bool forbid_rootfs;
	enum sandbox_network net;
	uint64_t limit[SANDBOX_LIMIT_COUNT];
	unsigned required; /* bit (1u << limit) per explicitly set limit */
	bool ws_ro;
	bool oneshot; /* sandbox_policy_set_oneshot() */
	struct policy_path *paths;
	size_t n_paths;
	char *rootfs;

	/* Set by sandbox_policy_compile(). */
	struct sock_filter *filter;
	unsigned short filter_len;
	bool userns; /* not root: a user namespace maps the runner's uid and gid */
	uid_t uid;
	gid_t gid;
	int last_cap;
	bool pids_by_userns; /* pids limit enforced by RLIMIT_NPROC in the stage's own user ns */
	struct cgroup_host cg;
	struct etc_view *etc; /* without a rootfs */
};

/* Limits below which a stage could not even start its shell. */
#define SANDBOX_MIN_MEMORY (16ull << 20)
#define SANDBOX_MIN_PIDS   8
#define SANDBOX_MIN_TMP	   (1ull << 20)

/* ---- filter.c ---- */

/* Generate the BPF program for a policy. Returns 0 or -errno with err set. */
int filter_build(const struct sandbox_policy *pol, struct sock_filter **out, unsigned short *len,
		 char *err, size_t errsize);

/* ---- cgroup.c (runner side) ---- */

int cgroup_detect(struct cgroup_host *h);

struct stage_cgroup {
	int n;
	char *dirs[2];
	int procs_fd[2];    /* cgroup.procs (v1: tasks), open for writing; the shim writes "0" */
	uint64_t mem, pids; /* the limits it was made with */
	uint64_t oom_base, pids_base; /* its counters when the stage started */
	/* Its event counter files, open for reading (read again at each stage's start and
	 * end): memory.oom_control or memory.events ("oom_kill"), pids.events ("max"). */
	int n_ev;
	int ev_fd[6];
	bool ev_pids[6];
};

/* Make the stage's cgroup(s) with the policy's limits, or take an empty one with the same
 * limits that an earlier stage of this process left. Returns 0 (cg->n may be 0 when no
 * limit needs a cgroup) or -errno with err set. */
int cgroup_create(const struct sandbox_policy *pol, struct stage_cgroup *cg, char *err,
		  size_t errsize);
/* After the stage ended: which limit it hit, if any ("" when none). */
const char *cgroup_limit_hit(const struct stage_cgroup *cg);
/* After the stage ended: keep the (empty) cgroup for a later stage, or remove it. */
void cgroup_release(struct stage_cgroup *cg);
/* Close fds and remove the directories (the stage must have ended). */
void cgroup_destroy(struct stage_cgroup *cg);

/* ---- root.c (child side) ---- */

#define ROOT_MAX_PATHS 64

/* Everything the shim needs to build the root, prepared before the fork. */
struct root_plan {
	const char *workspace;
	uint64_t ws_dev, ws_ino; /* the directory it must be (a workspace made anew is not) */
	bool ws_ro;
	const char *rootfs; /* NULL: the host's system directories and the /etc view */
	const struct etc_view *etc;
	const struct policy_path *paths;
	size_t n_paths;
	const struct sandbox_mount *mounts;
	size_t n_mounts;
	char tmp_opts[64];	/* "size=NNN,mode=1777": the /tmp tmpfs's options */
	const char *stage_root; /* where the new root is assembled before pivot_root */
};

/*
 * The stage's root in two parts. root_prepare() builds what depends on the policy and the
 * workspace directory alone (system directories, /etc, /tmp, /proc, /dev, the workspace
 * bound at its path), pivots into it and drops the host's tree (unless a source of the
 * caller's mounts lies outside the workspace); root_finish() makes the mounts inside the
 * workspace (the policy's paths, the caller's mounts), looked up as they are then, drops
 * the host's tree if it is still there and makes the root read-only. The first part may
 * run before the stage is known (a warm supervisor, spawner-main.c). Each returns 0, or
 * -errno with *step naming what failed.
 */
int root_prepare(const struct root_plan *rp, bool host_net, const char **step);
/* Whether a source of the caller's mounts lies outside the workspace: the host's tree is
 * then kept until root_finish(). */
bool root_needs_host(const struct root_plan *rp);
int root_finish(const struct root_plan *rp, const char **step);

/* ---- shim.c (child side) ---- */

#define SHIM_MAX_FDS 64 /* extra fds a payload may get */
#define SHIM_MAX_RL  5

/*
 * Everything a stage's supervisor needs, prepared before it starts; it reads nothing
 * else. Built by sandbox_spawn(); for a confined stage it travels to the spawner as a
 * relocatable block (wire.c), with every descriptor passed alongside.
 */
struct child_ctx {
	/* The payload. */
	const char *const *argv;
	const char *const *envp;
	const char *cwd;
	int exec_fd;  /* -1: execute argv[0] */
	int stdin_fd; /* -1: /dev/null */
	int stdout_fd, stderr_fd;
	const int *fds; /* placed at 3, 4, ... */
	size_t n_fds;
	/* The supervisor. */
	int status_fd; /* its reports to the runner */
	bool confined;
	pid_t parent;	       /* unconfined: the runner, which must still be the parent */
	int parent_pidfd;      /* confined: the process that started it; readable once that died */
	const char *fail_step; /* set: report this failure at once (runner-side setup failed) */
	int fail_err;
	/* Confined only. */
	bool userns;	/* write the uid and gid maps of a new user namespace */
	bool own_netns; /* make a network namespace (and bring lo up) */
	int last_cap;
	const struct sock_filter *filter;
	unsigned short filter_len;
	int cg_fds[2]; /* cgroup.procs (v1: tasks) of the stage's cgroups, written "0" */
	int n_cg;
	char uid_map[48], gid_map[48];
	int rl_res[SHIM_MAX_RL];
	struct rlimit rl[SHIM_MAX_RL];
	size_t n_rl;
	struct root_plan rp;
};

/* Messages from the supervisor to the runner; smaller than PIPE_BUF, so atomic. */
#define SHIM_MAGIC 0x52554e52u /* "RUNR" */
enum shim_kind {
	SHIM_EXITED = 1,
	SHIM_SIGNALED = 2,
	SHIM_SETUP_FAILED = 3,
};
struct shim_msg {
	uint32_t magic;
	int32_t kind;
	int32_t code;
	int32_t sig;
	int32_t err;
	char step[112];
};
void shim_send(int fd, int kind, int code, int sig, int err, const char *step);

/* The supervisor: sets itself up, runs the payload, reports, exits. */
_Noreturn void shim_main(const struct child_ctx *c);
/*
 * The same in parts, for a warm supervisor (spawner-main.c), prepared before its stage is
 * known. shim_begin(): signals blocked, the parent-death signal set and the parent checked
 * (exits if it is gone). shim_prepare() (confined only): what depends on the policy alone,
 * from any instructions of that policy; returns 0 or -errno with *step set. shim_run():
 * from the stage's own instructions, the rest of the setup, the payload, its supervision.
 */
void shim_begin(bool confined, pid_t parent, int parent_pidfd);
int shim_prepare(const struct child_ctx *c, const char **step);
_Noreturn void shim_run(const struct child_ctx *c);

/* ---- wire.c ---- */

/*
 * Runner side: copy c into one block (written to a new memfd, returned in *blob_fd) in
 * which pointers are offsets and descriptors are indexes into fds (filled with the
 * descriptors to pass, *n_fds of them, fds[0] being the block itself). Returns 0 or
 * -errno.
 */
#define WIRE_MAX_FDS (SHIM_MAX_FDS + 12)
int wire_encode(const struct child_ctx *c, int *blob_fd, int *fds, size_t *n_fds);
/*
 * Child side: map the block of blob_fd, check it and turn offsets into pointers and
 * indexes into the descriptors received (fds, n_fds); parent_pidfd is the spawner's.
 * Returns 0 with *out pointing into the (private) mapping, or -errno.
 */
int wire_decode(int blob_fd, const int *fds, size_t n_fds, int parent_pidfd,
		const struct child_ctx **out);

/*
 * What a warm supervisor is prepared from (shim_prepare(): the policy's parts and the
 * workspace directory): a key for the spawner to match requests with (0: never warm, e.g.
 * with a root filesystem), and the check a warm supervisor makes that the stage it is
 * handed is one it was prepared for. Child side.
 */
uint64_t wire_policy_key(const struct child_ctx *c);
bool wire_same_policy(const struct child_ctx *a, const struct child_ctx *b);

/*
 * Descriptor passing on the spawner's SOCK_SEQPACKET sockets (SCM_RIGHTS), both sides: a
 * message of len bytes with n_fds (at most WIRE_PASS_MAX_FDS) descriptors. wire_send_fds()
 * returns 0 once the whole message is sent, or -errno (flags are added to MSG_NOSIGNAL).
 * wire_recv_fds() returns the message's length (0 at the end) or -errno; the descriptors
 * received are close-on-exec, those beyond max_fds are closed, and *trunc says whether
 * the message or its descriptors were cut.
 */
#define WIRE_PASS_MAX_FDS (WIRE_MAX_FDS + 1)
int wire_send_fds(int s, const void *data, size_t len, const int *fds, size_t n_fds, int flags);
ssize_t wire_recv_fds(int s, void *data, size_t len, int *fds, size_t max_fds, size_t *n_fds,
		      bool *trunc);

/* ---- spawner.c (runner side) ---- */

/*
 * Start a confined stage's supervisor through the spawner: a small helper process (its
 * program is embedded in this library) that forks supervisors with the given clone flags,
 * so that a stage does not start as a copy of the runner's large address space. fds are
 * passed to it (fds[0] the block of wire_encode). On success *pid and *pidfd are the
 * supervisor's (not a child of the caller). Returns 0 or -errno.
 */
int spawner_start(unsigned long clone_flags, uint64_t key, const int *fds, size_t n_fds, pid_t *pid,
		  int *pidfd);

/* The request and reply between the runner and the spawner. */
#define SPAWNER_MAGIC 0x53504e52u /* "RNPS" */
struct spawner_req {
	uint32_t magic;
	uint32_t n_fds;
	uint64_t clone_flags;
	uint64_t key; /* wire_policy_key() */
};
struct spawner_reply {
	uint32_t magic;
	int32_t pid; /* > 0, or -errno */
};
/* Clone flags a request may carry. */
#define SPAWNER_CLONE_FLAGS \
	(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWUSER)

/* Format into a fixed buffer, cutting what does not fit (messages and paths already
 * checked for length). Not async-signal-safe. */
void set_text(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- async-signal-safe helpers (sandbox.c) ---- */

size_t safe_strlen(const char *s);
void safe_copy(char *dst, size_t size, const char *src);
/* Append src to dst (NUL-terminated, capacity size). Returns -ENAMETOOLONG if cut. */
int safe_append(char *dst, size_t size, const char *src);
void fmt_uint(char *buf, size_t size, unsigned long v);
/* Write a whole string to a file (for /proc and cgroup files). Returns 0 or -errno. */
int write_file_str(int dirfd, const char *path, const char *s);

#endif
