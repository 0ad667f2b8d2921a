/*
 * store.h - the durable job queue of `runner serve`: SQLite in WAL mode with full
 * synchronous commits, one connection per thread (a struct store is not shared).
 *
 * Tables: deliveries (the replay guard), jobs, and an outbox of calls to make to the
 * outside (commit statuses, security notifications). Every state change of a job and the
 * outbox rows it causes are written in one transaction, so a crash leaves either both or
 * neither.
 *
 * Job life: queued -> running -> passed | failed | blocked | error | cancelled.
 *   - store_enqueue() commits a batch of deliveries at once (group commit); a delivery id
 *     or a body already seen is a duplicate and is not queued again; a new job whose
 *     repository (forge and name) and supersede key match older queued jobs cancels them,
 *     and marks older running ones for cancellation; a push that supersedes others takes
 *     the oldest one's before_sha, so that the commits they brought are still scanned.
 *   - store_claim() takes the oldest queued job, counts an attempt and makes it running;
 *   - store_finish() ends a running attempt (only the attempt that is current: a late
 *     report from an older attempt changes nothing);
 *   - store_requeue() puts a running job back (after a crash, or a graceful shutdown).
 *
 * Commit statuses: every run of a commit posts to one context, so the state queued for a
 * change is the commit's: the worst of the latest run of each (event, ref) of the commit
 * (failure > error > pending > success), and they are delivered in order per commit.
 *
 * All functions return >= 0 or -errno (SQLite errors become -EIO, busy -EBUSY).
 */
#ifndef RUNNER_SERVER_STORE_H
#define RUNNER_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_PASSED,
	JOB_FAILED,
	JOB_BLOCKED,
	JOB_ERROR,
	JOB_CANCELLED,
};
#define JOB_STATE_COUNT 7

struct job {
	int64_t id;
	char *repo; /* repository name, as in the configuration */
	char *forge;
	char *delivery;	     /* delivery id */
	char *event;	     /* "push" or "pull_request" (what `if:` conditions see) */
	char *ref;	     /* the ref to fetch: refs/heads/x, refs/tags/v1, refs/pull/7/head */
	char *branch;	     /* push: the branch; pull request: the source branch; or "" */
	char *tag;	     /* or "" */
	char sha[41];	     /* the commit (once a peel is done) */
	bool peel;	     /* sha may be a tag object, not peeled yet: no statuses till then */
	char tag_object[41]; /* the tag object the payload named, once peeled to sha; or "" */
	int64_t number;	     /* pull/merge request number, or 0 */
	char *base_branch;   /* pull request: target branch, or "" */
	char base_sha[41];   /* pull request: target commit if known, or "" */
	char before_sha[41]; /* push: the ref's old tip, or "" (a new ref, or not sent) */
	bool trusted;	     /* false for pull requests from forks */
	char *supersede_key; /* "branch:NAME", "pr:N", or "" (never superseded) */
	enum job_state state;
	unsigned attempts;
	bool cancel_requested;
	int exit_code; /* -1 until finished */
	char *message; /* why it errored or was cancelled, or "" */
	char *run_id;  /* run id of the current or last attempt: "<id>.<attempt>", or "" */
	int64_t created_ms, started_ms, finished_ms;
	bool statuses; /* commit statuses are reported for it (the forge API is configured) */
};

/* What the webhook layer queues. */
struct job_new {
	const char *repo, *forge, *delivery, *event, *ref, *branch, *tag, *sha;
	bool peel; /* a tag push whose sha may be the tag object (struct job) */
	int64_t number;
	const char *base_branch, *base_sha;
	const char *before_sha; /* push: the ref's old tip; NULL or "": none */
	bool trusted;
	const char *supersede_key;  /* NULL or "": never superseded */
	bool statuses;		    /* report commit statuses (outbox rows) */
	unsigned char body_sha[32]; /* SHA-256 of the body: the same body twice is a replay */
	/* The queue's caps (limits.max_queued, untrusted.max_queued; 0: none): a job is not
	 * queued while as many jobs (untrusted ones, for an untrusted job) are queued already,
	 * unless it supersedes one of them (it takes that one's place). */
	unsigned max_queued, max_queued_untrusted;
	/* OUT: */
	int64_t job_id;	     /* the new job, or the job of the earlier delivery */
	bool duplicate;	     /* a replay: nothing was queued */
	bool full;	     /* the queue is at its cap: nothing was queued */
	unsigned superseded; /* queued jobs cancelled plus running jobs marked */
	int error;	     /* < 0: this item failed (the batch is rolled back) */
};

enum outbox_kind {
	OUTBOX_STATUS, /* a commit status: state + description */
	OUTBOX_NOTIFY, /* a security notification: body */
};

struct outbox_item {
	int64_t id;
	int64_t job;
	enum outbox_kind kind;
	char *state;	   /* status: pending, success, failure, error */
	char *description; /* status */
	char *body;	   /* notification JSON */
	unsigned attempts;
	int64_t link_job; /* status: the run its target_url links to (0: job) */
};

struct store_counts {
	uint64_t by_state[JOB_STATE_COUNT];
	uint64_t finished;     /* with a duration */
	double duration_sum_s; /* of finished jobs that ran */
	uint64_t buckets[10];  /* finished durations <= 1, 5, 10, 30, 60, 300, 600, 1800, 3600, +Inf
				  s */
	uint64_t outbox_pending, outbox_failed;
};

extern const double store_duration_buckets[10];

int store_open(const char *path, struct store **out);
void store_close(struct store *s);

/*
 * WAL checkpoints: a connection on the hot path (the committer) turns automatic
 * checkpoints off, and another thread runs passive ones (which never block writers).
 */
void store_set_autocheckpoint(struct store *s, bool on);
int store_checkpoint(struct store *s);

/* Commit a batch of deliveries; per-item results in items[i]. Returns 0 or -errno. */
int store_enqueue(struct store *s, struct job_new *items, size_t n, int64_t now_ms);

/*
 * Claim the oldest queued job (skipping untrusted ones when !allow_untrusted): running,
 * attempts + 1. Returns 1 with *job filled, 0 when there is none, or -errno.
 */
int store_claim(struct store *s, bool allow_untrusted, int64_t now_ms, struct job *job);

/*
 * Finish attempt `attempt` of job id with a final state. notify_body (may be NULL) queues
 * a security notification. peeled (NULL or "": none) is the commit the job's sha turned
 * out to point to (a tag object): the job takes it as its sha, and its statuses not yet
 * sent go to it. Returns 1 if the job changed, 0 if that attempt was no longer current,
 * or -errno.
 */
int store_finish(struct store *s, int64_t id, unsigned attempt, enum job_state state, int exit_code,
		 const char *message, const char *notify_body, const char *peeled, int64_t now_ms);

/*
 * A running job whose sha may be a tag object (peel) found its commit, sha (attempt
 * `attempt` of it): the job takes it as its sha (keeping the tag object's id), and, reporting
 * statuses, queues the commit's `pending` status for it, the first it posts: its queued
 * and running ones were held, a forge attaches statuses to commits only. Returns 1, 0
 * (not running that attempt, or not waiting for a peel), or -errno.
 */
int store_resolve(struct store *s, int64_t id, unsigned attempt, const char *sha, int64_t now_ms);

/*
 * Put a running job back in the queue (attempt counts are kept), its message why; a job
 * that reports statuses queues a `pending` one saying status_desc (NULL: why) in the same
 * transaction. Returns 1, 0 (that attempt is no longer current), -errno.
 */
int store_requeue(struct store *s, int64_t id, unsigned attempt, const char *why,
		  const char *status_desc, int64_t now_ms);

/* Mark a job for cancellation (it stays running until its process ends). */
int store_request_cancel(struct store *s, int64_t id, const char *why);

/* Running jobs (all of them, or only those marked for cancellation). Caller frees. */
int store_running(struct store *s, bool only_cancel_requested, struct job **out, size_t *n);

/* One job (returns 1, or 0 if there is no such job), the newest `limit` jobs. */
int store_get(struct store *s, int64_t id, struct job *out);
int store_list(struct store *s, size_t limit, struct job **out, size_t *n);
int store_counts(struct store *s, struct store_counts *out);

void job_release(struct job *j);
void jobs_free(struct job *v, size_t n);

/* Outbox: the next items due (at most max, in order per job, and statuses in order per
 * commit), and their outcome. */
int store_outbox_due(struct store *s, int64_t now_ms, size_t max, struct outbox_item **out,
		     size_t *n);
/* done: delivered or given up (error kept); else retried at next_ms. */
int store_outbox_update(struct store *s, int64_t id, bool done, bool failed, const char *error,
			int64_t next_ms);
/* Earliest next_ms of a pending item, or -1 when there is none. */
int64_t store_outbox_next_due(struct store *s);
void outbox_items_free(struct outbox_item *v, size_t n);

/*
 * Retention. A finished job never changes again, so one found old enough stays prunable
 * and the caller can remove its files before deleting its rows.
 *
 * store_prune_pick: finished jobs with finished_ms < finished_before_ms that have no
 * outbox rows left to deliver, in (finished_ms, id) order after (after_ms, after_id) (0, 0:
 * from the start), at most max; an index walk, read only; the caller frees. store_prune_jobs:
 * delete those jobs (only if still finished) and all their outbox rows in one transaction; returns
 * the number of jobs deleted. store_prune_deliveries: delete at most max replay-guard entries
 * received before received_before_ms whose job is finished or gone, in one transaction; returns how
 * many. Callers keep max small: each call holds the write lock that store_enqueue() waits for.
 */
int store_prune_pick(struct store *s, int64_t finished_before_ms, int64_t after_ms,
		     int64_t after_id, size_t max, struct job **out, size_t *n);
int store_prune_jobs(struct store *s, const int64_t *ids, size_t n);
int store_prune_deliveries(struct store *s, int64_t received_before_ms, size_t max);

const char *job_state_name(enum job_state s);
int job_state_from_name(const char *s, enum job_state *out);
bool job_state_final(enum job_state s);

#endif
