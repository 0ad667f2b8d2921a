/*
 * scanbox.h - a built-in scan kind's worker started outside a run (`runner scan
 * sast|secrets|deps`, `runner scan secrets --history`), confined as a pipeline's stage is.
 *
 * The worker (`runner __worker KIND NAME`) is started through stage_launch() under the
 * default sandbox policy with the scan's root as its workspace, read-only, and as its
 * working directory; no network. What it reads outside the root (rules or a baseline
 * named on the command line, the repository's git directory above the root, the kind's
 * host file such as the advisory database) is bound read-only at its own path; nothing is
 * writable but the sandbox's own /tmp. Its result comes back as the stage's result object;
 * whatever it would write (a report, an SBOM) the caller writes from that result.
 *
 * Fail closed: a policy that does not compile, a spawn that fails, a setup step the host
 * refuses, or a worker that ends without a result is an error naming the step; the scan is
 * never run in the caller's process instead. `unconfined` (`--no-sandbox`, for debugging)
 * keeps the worker and its supervision and drops the confinement, as `runner run
 * --no-sandbox` does.
 */
#ifndef RUNNER_SCANBOX_H
#define RUNNER_SCANBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Host paths outside the root one scan may bind (the sandbox takes 64 mounts in all). */
#define SCANBOX_MAX_BINDS 48

struct scanbox {
	const char *root; /* absolute, canonical, not "/" (borrowed) */
	bool unconfined;
	char *binds[SCANBOX_MAX_BINDS]; /* canonical host paths bound read-only */
	size_t n_binds;
	/* The kind's host file (stage.h) when the caller names it (a path JSON cannot hold
	 * need not pass through with:); NULL: the kind's host_file() says. */
	const char *host_file;
	/* A private temporary directory with the copies of inputs that are pipes, removed by
	 * scanbox_release() (or a fatal signal); NULL until one is made. */
	char *copies;
	/* Readable: stop the scan (its worker is killed, scanbox_run() returns an error and
	 * sets cancelled). -1 (scanbox_init's): none. */
	int cancel_fd;
	bool cancelled;
};

void scanbox_init(struct scanbox *sb, const char *root, bool unconfined);
void scanbox_release(struct scanbox *sb);

/*
 * A PATH argument of the scan (relative to the current directory, which is the root, or
 * absolute) as the worker takes it: itself when it is relative and has no "..", else the
 * path it resolves to relative to the root ("." for the root). A path that resolves
 * outside the root, or one that does not exist and cannot be said relative to the root, is
 * an error (-EXDEV, -errno) with a message in err: a usage error for the caller. A
 * relative path that does not exist is passed on: the worker says it cannot read it.
 */
int scanbox_path(const struct scanbox *sb, const char *arg, char **out, char *err, size_t errlen);

/*
 * A file or directory the worker reads (rules, a baseline): *out gets its canonical
 * absolute path, bound read-only at that path when it lies outside the root. A pipe
 * (`--rules <(...)`, /dev/stdin), which cannot be bound, is read here (at most
 * SCANBOX_PIPE_MAX bytes) into a private copy at sb->copies + path, and *out names that.
 * Returns 0, or -errno with a message in err: from realpath() when it cannot be resolved,
 * -EXDEV when it cannot be bound (under /proc, /dev or /sys), -E2BIG when too many paths
 * are, -EFBIG when a pipe gives more.
 */
#define SCANBOX_PIPE_MAX (64u << 20)

/*
 * A --baseline FILE, as scanbox_input() gives it (*out), read once here as the worker will
 * read it (a pipe's copy: the pipe itself can be read only once). Returns 0;
 * -EBADMSG when it cannot be read or is not a baseline (a usage error for the caller); or
 * scanbox_input()'s other errors. err says why.
 */
int scanbox_baseline(struct scanbox *sb, const char *path, char **out, char *err, size_t errlen);
int scanbox_input(struct scanbox *sb, const char *path, char **out, char *err, size_t errlen);

/*
 * The repository the scan of the root reads the ignore rules and index of
 * (walk_repo_find), when its git directory is not inside the root (the root is below the
 * top of its working tree, or the top's .git is a worktree's or submodule's file): its git
 * and common directories and the .gitignore files of the directories between its top and
 * the root are bound read-only, and gate gets "git_dir" for the worker to open it there.
 * Returns 0 (also when there is no repository), or -errno with a message in err.
 */
int scanbox_repository(struct scanbox *sb, json_t *gate, char *err, size_t errlen);

/* Make result a scan's error result ({summary "error: MSG", error, findings []}), as the
 * kinds do; returns STAGE_EXIT_ERROR. */
int scanbox_fail(json_t *result, const char *msg);

/*
 * Run kind's worker, named stage_name, on the root with with and gate (borrowed; gate may
 * be NULL). Returns its STAGE_EXIT_* code with *out its result (caller decrefs), or
 * STAGE_EXIT_ERROR with *out NULL and the reason, naming the step, in err.
 */
int scanbox_run(struct scanbox *sb, const char *kind, const char *stage_name, json_t *with,
		json_t *gate, json_t **out, char *err, size_t errlen);

#endif
