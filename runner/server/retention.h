/*
 * retention.h - pruning what `runner serve` no longer needs (the `retention` setting):
 *   - finished runs (passed, failed, blocked, error, cancelled) that ended before
 *     retention.runs: their job row, their outbox rows, and the run directory of every
 *     attempt (repos/<key>/runs/<id>.<attempt>/);
 *   - replay-guard entries received before retention.deliveries whose job is finished or
 *     gone.
 * Queued and running jobs, and jobs with commit statuses or notifications still to
 * deliver, are never touched, and neither are their files.
 *
 * A pass works in batches (one transaction each), so that the queue's write lock, which
 * every 202 waits for, is only ever held briefly. Within a batch, directories are removed
 * first and rows deleted after: a finished job never changes again, so a crash in between
 * leaves a job that the next pass prunes, where the other order could leave directories
 * that no row points to any more. A job whose directory cannot be removed keeps its row,
 * and is tried again by the next pass.
 */
#ifndef RUNNER_SERVER_RETENTION_H
#define RUNNER_SERVER_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server_config;
struct store;

#define RETENTION_BATCH	      500	       /* rows per transaction */
#define RETENTION_INTERVAL_MS (3600ull * 1000) /* between passes */

struct retention_pass {
	int64_t runs_before_ms;	      /* finished before this: pruned; 0: runs are kept */
	int64_t deliveries_before_ms; /* received before this: pruned; 0: all are kept */
	int64_t cursor_ms, cursor_id; /* the last job looked at: its finished_ms and id */
	bool runs_done, deliveries_done;
	/* Totals of the pass so far. */
	uint64_t runs, deliveries;
	uint64_t kept;	      /* finished jobs kept: a run directory could not be removed */
	int dir_error;	      /* the first error removing a run directory (-errno), or 0 */
	uint64_t latest_kept; /* finished jobs kept: runs/latest of their repository is theirs */
	int error;	      /* the store error that ended the pass (-errno), or 0 */
};

/* Start a pass with the cutoffs of configuration c at wall-clock time now_ms. */
void retention_begin(struct retention_pass *p, const struct server_config *c, int64_t now_ms);

/*
 * One batch: at most `batch` jobs and `batch` replay-guard entries. Returns 1 while there
 * is more to do, 0 when the pass is complete, or -errno when the store failed (the pass
 * ends; p->error says why).
 */
int retention_step(struct retention_pass *p, struct store *s, const struct server_config *c,
		   size_t batch);

#endif
