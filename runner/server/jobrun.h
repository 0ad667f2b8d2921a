/*
 * jobrun.h - one attempt of one job, in its own process: `runner __job`.
 *
 * The server starts an attempt as a child process (the runner binary itself), so that a
 * run is isolated from the HTTP side and from the other runs, and so that its stage
 * supervisors are tied to a process that lives exactly as long as the run. The child
 * gets:
 *   fd 3  the job spec, JSON in a sealed memfd (repository, commit, credentials, the
 *         secrets of a trusted run, limits);
 *   fd 4  the read end of the cancel pipe: a byte 'c' means cancel (superseded), 's' means
 *         the server is shutting down, and end-of-file means the server is gone (it was
 *         killed): all three cancel the run, which then stops every stage and writes its
 *         record.
 * It takes the job's lock (so that two attempts of one job never overlap, even across a
 * server crash), syncs the mirror, exports and verifies the commit into a fresh
 * workspace, loads the pipeline, runs it with run_pipeline() (the engine of `runner run`),
 * and writes outcome.json into the run directory last, atomically. The workspace is
 * removed afterwards (kept after a failure when configured).
 *
 * Untrusted runs (pull requests from forks): no secrets; the pipeline comes from the base
 * branch, not from the pull request (its own copy could drop or weaken the gates); stages
 * that need secrets, and what depends on them, are left out, and if that would leave out
 * a security stage the run is an error; the strictest sandbox policy is used.
 */
#ifndef RUNNER_SERVER_JOBRUN_H
#define RUNNER_SERVER_JOBRUN_H

#include "store.h"

#include <jansson.h>
#include <stdbool.h>

struct server_config;
struct repo_config;

#define JOBRUN_SPEC_FD	 3
#define JOBRUN_CANCEL_FD 4

enum {
	JOBRUN_CANCEL = 'c',   /* superseded or cancelled */
	JOBRUN_SHUTDOWN = 's', /* graceful shutdown: the job goes back to the queue */
};

/* Where things live under the data directory. Heap strings. */
char *jobrun_repo_dir(const char *data_dir, const char *repo_key);
char *jobrun_run_dir(const char *data_dir, const char *repo_key, const char *run_id);
char *jobrun_workspace(const char *data_dir, const char *run_id);
char *jobrun_lock_path(const char *data_dir, int64_t job);

/* The spec for an attempt of job j (already claimed: j->attempts and run_id are set). */
json_t *jobrun_spec(const struct server_config *c, const struct repo_config *r,
		    const struct job *j);

struct job_outcome {
	enum job_state state;
	int exit_code;
	char *message;	  /* or NULL */
	char *notify;	  /* security notification body when blocked, or NULL */
	bool interrupted; /* cancelled because the server stopped or died: run it again */
	char commit[41];  /* the commit the run's tag object points to, or "" */
};

/* Read outcome.json of an attempt, the one claimed at claimed_ms (the job's started_ms,
 * which the attempt's spec carries and its outcome repeats). Returns 0, -ENOENT (no
 * outcome: the attempt did not finish), -ESTALE (an outcome of another attempt with the
 * same run id, left from before the queue was reset: never taken for this one's), or
 * -EINVAL. */
int jobrun_read_outcome(const char *run_dir, int64_t claimed_ms, struct job_outcome *o);
void job_outcome_release(struct job_outcome *o);

/* The commit a running attempt (claimed at claimed_ms) found it is, once its fetch and
 * peel are done (live.json), into out (41 bytes). Returns 0, or -ENOENT while it is not
 * known. */
int jobrun_read_commit(const char *run_dir, int64_t claimed_ms, char out[41]);

/*
 * Whether run_dir is the record of the attempt run_id of job `job`, claimed at claimed_ms:
 * the attempt makes its directory new with JOBRUN_CLAIM_FILE in it, naming the three
 * (record_make_claimed_dir(): the directory takes its name with the file in it). A
 * directory without that file (made before claim files existed) counts as the attempt's
 * only when its outcome.json names the claim too. Returns 0, -ENOENT (no such directory),
 * or -ESTALE (the directory was not made by this attempt: an earlier queue.db's run with
 * the same id, or put there; nothing in it is this attempt's).
 */
#define JOBRUN_CLAIM_FILE "claim.json"
int jobrun_run_dir_is_own(const char *run_dir, int64_t job, const char *run_id, int64_t claimed_ms);

/* Entry point of `runner __job`. Returns the process exit code. */
int jobrun_main(void);

#endif
