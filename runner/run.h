/*
 * run.h - run a pipeline: the engine shared by `runner run` and `runner serve`.
 *
 * run_pipeline() evaluates conditions, then schedules the selected stages on one event
 * loop (epoll over each stage's pidfd and output pipe, a timerfd for timeouts and kill
 * grace periods, a signalfd or the caller's cancel fd for cancellation). A stage starts as
 * soon as every stage it needs has finished well; among ready stages the one with the
 * longest remaining critical path goes first; at most `jobs` run at once. Output is masked
 * (every secret), split into lines, written to the stage log and handed to the observer.
 * At the end the run record is written: <record>/runs/<id>/{report.json,junit.xml,logs/}.
 *
 * Result and exit code (the contract of the CLI):
 *   error (4)   a stage could not run or a built-in kind failed to do its job
 *   blocked (3) a security gate blocked
 *   failed (1)  a stage failed (and was not allowed to)
 *   passed (0)
 *   cancelled   interrupted: 130 for SIGINT, 143 for SIGTERM or a cancel request
 * The first matching line wins.
 */
#ifndef RUNNER_RUN_H
#define RUNNER_RUN_H

#include "gitinfo.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag_list;
struct pipeline;
struct pstage;
struct secret_store;
struct sandbox_policy;

enum stage_status {
	STATUS_PENDING,
	STATUS_RUNNING,
	STATUS_PASSED,
	STATUS_FAILED,
	STATUS_BLOCKED,
	STATUS_ERROR,
	STATUS_SKIPPED,
	STATUS_CANCELLED,
};

enum skip_reason {
	SKIP_NONE,
	SKIP_CONDITION,	    /* its `if:` was false */
	SKIP_NEEDS_SKIPPED, /* a need was skipped (and it did not opt in) */
	SKIP_NEEDS_FAILED,  /* a need failed, was blocked, errored or was cancelled */
};

enum run_result {
	RESULT_PASSED,
	RESULT_FAILED,
	RESULT_BLOCKED,
	RESULT_ERROR,
	RESULT_CANCELLED,
};

struct attempt {
	uint64_t started_ms, finished_ms; /* wall clock, ms since the epoch */
	uint64_t duration_ms;		  /* from the monotonic clock */
	int exit_code;			  /* -1 when it did not exit normally */
	int sig;			  /* 0, or the signal that ended it */
	bool timed_out;
};

struct stage_run {
	const struct pstage *def;
	bool selected;
	bool requested; /* named by --stage, or selected when there was none */
	enum stage_status status;
	enum skip_reason skip;
	const char *skip_need; /* the need that caused the skip */
	bool allowed_failure;  /* failed, but allow-failure */
	unsigned n_attempts;
	struct attempt *attempts;
	char *message;	  /* masked, human-readable; NULL when there is nothing to say */
	json_t *result;	  /* built-in kinds: their (masked) result object */
	char *log_path;	  /* relative to the run directory */
	bool log_written; /* the stage printed something: log_path exists */
	int log_error;	  /* errno when the log could not be created */
	uint64_t log_dropped;
	uint64_t priority;	 /* remaining critical path (ms) */
	struct stage_exec *exec; /* runtime state while running; NULL otherwise */
	bool sandboxed;		 /* runs confined (false with --no-sandbox) */
	bool network_host;	 /* sandbox network mode: host (else none) */
};

struct run {
	char *id;
	char *dir; /* absolute run directory */
	const struct pipeline *pipeline;
	struct git_info git;
	const char *event;
	enum run_result result;
	int exit_code;
	int signal; /* the signal that cancelled the run, or 0 */
	uint64_t started_ms, finished_ms, duration_ms;
	unsigned jobs;
	bool fail_fast;
	bool no_sandbox;	  /* --no-sandbox: stages ran unconfined (local debugging only) */
	struct stage_run *stages; /* index = pipeline stage index */
	size_t n_stages;
	size_t n_selected;
	char *record_error; /* set when the record could not be written */
	char *record_root;  /* where the record went */
	int lock_fd;	    /* the record root's lock (run_options.lock), held until run_free() */
	uint64_t shared_wait_ms; /* run_options.shared_wait_ms */
	/* An error of the run's own, found after its stages ended (run_set_error); in
	 * report.json as "error". */
	char *error;
};

/* Callbacks for live output. Any may be NULL. Called from the event loop. */
struct run_observer {
	void *userdata;
	void (*started)(void *ud, const struct run *r);
	void (*stage_started)(void *ud, const struct run *r, size_t stage, unsigned attempt);
	void (*stage_line)(void *ud, const struct run *r, size_t stage, const char *line,
			   size_t len);
	void (*stage_finished)(void *ud, const struct run *r, size_t stage);
	void (*tick)(void *ud, const struct run *r); /* about once a second */
	bool want_ticks;
};

struct run_options {
	unsigned jobs; /* 0: number of CPUs */
	bool fail_fast;
	const char *const *only; /* --stage names (with what they need); NULL: all */
	size_t n_only;
	const char *event;	      /* default "local" */
	const char *branch;	      /* overrides the repository's */
	const char *record_root;      /* default <workspace>/.runner */
	struct secret_store *secrets; /* may be NULL */
	/* An enforced policy (the server's, for untrusted changes): each stage runs under the
	 * stricter of it and the pipeline's `sandbox:`. NULL: the pipeline's alone. */
	const struct sandbox_policy *policy;
	bool no_sandbox; /* run every stage unconfined (local debugging only) */
	const struct run_observer *observer;
	bool handle_signals;	    /* SIGINT/SIGTERM cancel the run (CLI) */
	int cancel_fd;		    /* readable => cancel (server); -1 for none */
	const char *run_id;	    /* NULL: generate */
	size_t log_cap;		    /* per-stage log cap; 0: LOGFILE_DEFAULT_CAP */
	const struct git_info *git; /* commit, branch, tag; NULL: read from the workspace
				     * (an exported tree has no .git of its own) */
	/* "NAME=VALUE": replaces the value of the pipeline's env entry NAME (taken as is,
	 * not interpolated); cmd_run checks that the pipeline declares NAME. */
	const char *const *env_overrides;
	size_t n_env_overrides;
	/* A host directory holding the files that configure the gates (a relative `baseline`)
	 * as the pipeline's own commit has them, read from there instead of the workspace and
	 * bound read-only into built-in stages: the server's untrusted runs, whose workspace
	 * is the pull request's tree (a pull request could otherwise rewrite the baseline to
	 * list its own findings). NULL: the workspace. */
	const char *gate_root;
	/* Also untrusted runs: the files the pull request changed, in whose inline
	 * suppressions the gates do not trust (changed_all: all files, when there were too many
	 * to list). */
	const char *const *changed_files;
	size_t n_changed_files;
	bool changed_all;
	/* A workspace exported from a commit (`--rev`, the server), which has no index: the
	 * file listing the commit's files (gitexport_write_file_list), which the scans read
	 * whatever .gitignore says, and the directory the commit was exported into (the
	 * workspace, or a directory above it when the pipeline lies deeper). tracked_unknown:
	 * the list could not be made, so the scans do not read .gitignore at all. */
	const char *tracked_list;
	const char *tracked_root;
	bool tracked_unknown;
	/* Bytes the file systems of the workspace and of the run record keep free: a stage
	 * does not start below it, and running stages are stopped when it is crossed (checked
	 * every second). 0: RUN_MIN_FREE_DEFAULT or 5% of the file system, whichever is less;
	 * RUN_MIN_FREE_OFF: no floor. */
	uint64_t min_free;
	/* Hold the record root's lock (record_lock) from before anything is read or written
	 * there until run_free(), so that the runs of one workspace go one at a time (`runner
	 * run`; the server, which gives each run a workspace of its own, does not). Another
	 * run holding it stops this one before it starts (-EBUSY, said in dl), after waiting
	 * up to lock_wait_ms for it to end; lock_waiting, if not NULL, is called once when
	 * the wait begins with what is said of the holder ("another run (pid N, started at
	 * T)"). */
	bool lock;
	uint64_t lock_wait_ms;
	void (*lock_waiting)(const char *holder);
	/* Without lock: how long the run waits for the record root's lock to update the files
	 * runs of the root share (durations.json, runs/latest) once its record is written;
	 * after that the run is an error (exit 4). 0: RECORD_SHARED_WAIT_MS. */
	uint64_t shared_wait_ms;
};

#define RUN_MIN_FREE_DEFAULT (1ull << 30)
#define RUN_MIN_FREE_OFF     UINT64_MAX

/*
 * Run the pipeline. Problems that stop the run before any stage starts (an unknown
 * --stage, a missing secret, an unwritable record directory, another run holding the
 * lock) are reported in dl and return -EINVAL (usage/config: exit 2) or another -errno
 * (internal, or -EBUSY for the lock: exit 4). Otherwise
 * returns 0 and *out describes the run, whatever its result.
 */
int run_pipeline(const struct pipeline *p, const struct run_options *o, struct run **out,
		 struct diag_list *dl);
void run_free(struct run *r);
/*
 * An error found once the run is over, such as live output or a summary that could not be
 * written (`runner run | head`, a full disk): the run becomes an error, exit 4 (a
 * cancellation keeps its code), and its record is written again to say so, so that the
 * report never says "passed" for a command that exited 4. Returns record_write()'s result.
 */
int run_set_error(struct run *r, const char *msg);

const char *stage_status_name(enum stage_status s);
const char *run_result_name(enum run_result r);
const char *skip_reason_text(enum skip_reason s);

/* Build the report object (the schema of docs/report.md). Caller owns the result. */
json_t *run_report_json(const struct run *r);

#endif
