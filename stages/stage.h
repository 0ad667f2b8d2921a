/*
 * stage.h - stage kinds: what a stage of the pipeline does.
 *
 * A stage is either a shell script (`run:`, the "script" kind) or a built-in kind named by
 * `uses:` and configured by `with:`. Each built-in kind is one file in stages/ that defines
 * a `const struct stage_kind` and is listed in registry.c; nothing else needs to change to
 * add one.
 *
 * Life of a stage:
 *   1. validation: kind->validate() checks the raw `with:` mapping (positions available);
 *   2. launch (runner side): stage_launch() starts the stage through the sandbox: a script
 *      runs as `/bin/sh -e -c SCRIPT`, or with `shell: bash` as
 *      `/bin/bash --noprofile --norc -e -o pipefail -c SCRIPT`; a built-in kind runs as the runner
 * binary itself in worker mode (`runner __worker`), which receives its interpolated configuration
 * as JSON on fd 3 ({kind, stage, workspace, with, gate}) and writes its result object as JSON to fd
 * 4;
 *   3. worker side: stage_worker_main() finds the kind and calls kind->run().
 *
 * Exit-code contract of a built-in kind's run(): STAGE_EXIT_PASSED (0), STAGE_EXIT_FAILED
 * (1), STAGE_EXIT_BLOCKED (3, a security gate blocked), STAGE_EXIT_ERROR (4, the kind could
 * not do its job: fail closed). Any other ending of a worker (a signal, another code, a
 * missing result) counts as an error, never as a pass.
 */
#ifndef RUNNER_STAGES_STAGE_H
#define RUNNER_STAGES_STAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct diag_list;
struct ynode;
struct sandbox_policy;
struct sandbox_mount;

enum {
	STAGE_EXIT_PASSED = 0,
	STAGE_EXIT_FAILED = 1,
	STAGE_EXIT_BLOCKED = 3,
	STAGE_EXIT_ERROR = 4,
};

enum stage_kind_flags {
	STAGE_KIND_SCRIPT = 1u << 0,   /* the `run:` kind; not usable with `uses:` */
	STAGE_KIND_SECURITY = 1u << 1, /* reports findings into the security gate */
	STAGE_KIND_PUSH = 1u << 2,     /* publishes artifacts: must sit behind the gates */
	STAGE_KIND_NETWORK = 1u << 3,  /* needs the network: its sandbox defaults to network
					* host unless the stage's `sandbox:` says otherwise */
};

/* What validate() gets besides the `with:` node. */
struct stage_check {
	const char *file; /* pipeline file, for diagnostics */
	const char *stage_name;
	const struct ynode *stage; /* the stage's whole mapping */
	struct diag_list *dl;
};

/* What run() gets inside the worker. */
struct stage_worker {
	const char *stage_name;
	const char *workspace; /* absolute path; also the working directory */
	json_t *with;	       /* interpolated `with:` (an object; {} when absent) */
	json_t *gate;	       /* the pipeline's top-level `gate:` (an object), or NULL */
	json_t *result;	       /* object the kind fills; written to the result fd */
};

struct stage_kind {
	const char *name;
	const char *summary;
	unsigned flags;
	/* Check the raw `with:` mapping (NULL when absent). Returns 0 or -EINVAL. */
	int (*validate)(const struct ynode *with, const struct stage_check *chk);
	/* Do the work, inside the worker process. Returns a STAGE_EXIT_* code. */
	int (*run)(struct stage_worker *w);
	/*
	 * Runner side, optional: a file of the host the kind reads (an advisory database),
	 * as an absolute path, given the interpolated `with:` and the runner's environment;
	 * NULL for none. The sandbox binds it read-only at the same path, also when it is in
	 * the workspace (it may be under the run record's directory, which stages do not
	 * see, and a stage before this one must not have been able to replace it), and the
	 * worker's environment names it in host_file_env. Caller frees.
	 */
	char *(*host_file)(json_t *with, const char *workspace);
	const char *host_file_env;
};

/* The registry. stage_kind_find() returns NULL for unknown names. */
const struct stage_kind *stage_kind_find(const char *name);
size_t stage_kind_count(void);
const struct stage_kind *stage_kind_at(size_t i);
/* Comma-separated names of the kinds usable with `uses:`, for messages, into buf. */
char *stage_kind_names(char *buf, size_t size);

extern const struct stage_kind stage_kind_script;
extern const struct stage_kind stage_kind_container_push;

/* ---- launching (runner side) ---- */

/* The interpreter of a script stage (`shell:`). The path is looked up in the stage's own
 * root (the sandbox's, or a `sandbox.rootfs`): a root without it fails the stage, it is
 * never run by another shell. */
enum stage_shell {
	STAGE_SHELL_SH,	  /* /bin/sh -e -c SCRIPT */
	STAGE_SHELL_BASH, /* /bin/bash --noprofile --norc -e -o pipefail -c SCRIPT */
	STAGE_SHELL_COUNT,
};

/* "sh", "bash": the value of `shell:` and of the report's `shell` field. */
const char *stage_shell_name(enum stage_shell sh);

struct stage_launch {
	const struct stage_kind *kind;
	const char *stage_name;
	const char *script;	 /* script kind: the shell script */
	enum stage_shell shell;	 /* script kind: what runs it */
	json_t *with;		 /* built-in kinds: the interpolated `with:` (borrowed) */
	json_t *gate;		 /* built-in kinds: the pipeline's `gate:` (borrowed), or NULL */
	const char *const *envp; /* complete environment */
	const char *workspace;	 /* absolute */
	const char *cwd;	 /* absolute; inside the workspace */
	int output_fd;		 /* receives stdout and stderr */
	int self_exe_fd;	 /* the runner binary (O_PATH), for built-in kinds */
	const struct sandbox_policy *policy; /* compiled */
	const struct sandbox_mount *mounts;  /* the runner's mounts (record, artifacts) */
	size_t n_mounts;
};

struct stage_proc;

enum stage_end {
	STAGE_END_EXITED,   /* code valid */
	STAGE_END_SIGNALED, /* sig valid */
	STAGE_END_SETUP,    /* the process could not be started; message says why */
};

struct stage_outcome {
	enum stage_end end;
	int code;
	int sig;
	char message[256];
	json_t *result; /* built-in kinds: the parsed result object, or NULL; caller owns */
};

/* Start a stage. Returns 0 or -errno. *out is freed with stage_proc_free(). */
int stage_launch(const struct stage_launch *l, struct stage_proc **out);
int stage_proc_pidfd(const struct stage_proc *p);
int stage_proc_pid(const struct stage_proc *p);
int stage_proc_terminate(struct stage_proc *p);
int stage_proc_kill(struct stage_proc *p);
/* After the pidfd is readable: fill *o. Returns 0, -EAGAIN (still running) or -errno. */
int stage_proc_reap(struct stage_proc *p, struct stage_outcome *o);
void stage_proc_free(struct stage_proc *p);

/* Largest result object a worker may return. */
#define STAGE_RESULT_MAX (64u << 20)

/* ---- worker side ---- */

/* Entry point of `runner __worker`: reads fd 3, runs the kind, writes fd 4. Returns exit code. */
int stage_worker_main(void);

#endif
