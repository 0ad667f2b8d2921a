/*
 * views.h - what the server shows: run objects for /api/runs, the self-contained HTML
 * status pages (no scripts, no external assets; every string escaped), and the Prometheus
 * text of /metrics.
 *
 * A run's stages come from its report.json once it has one, else from live.json (written
 * by the running attempt as stages start and finish). Gate results are the blocked stages
 * and the count of blocking findings by severity; the findings themselves are a resource
 * of their own (views_findings_json), and a run's page lists the blocking ones.
 */
#ifndef RUNNER_SERVER_VIEWS_H
#define RUNNER_SERVER_VIEWS_H

#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct server_config;

/* What became of webhook deliveries: the result label of runner_webhook_deliveries_total.
 * Deliveries refused for what they are (a bad signature, a bad request: a sender's fault)
 * are counted apart from those refused with 503 for the server's capacity (the queue is
 * full: limits.max_queued, untrusted.max_queued; too many large bodies at once:
 * limits.max_inflight) and from those the server failed to queue (its own fault). */
enum views_delivery {
	VIEWS_DELIVERY_ACCEPTED,
	VIEWS_DELIVERY_DUPLICATE,
	VIEWS_DELIVERY_IGNORED,
	VIEWS_DELIVERY_REJECTED,
	VIEWS_DELIVERY_QUEUE_FULL,
	VIEWS_DELIVERY_BUSY,
	VIEWS_DELIVERY_ERROR,
	VIEWS_DELIVERY_COUNT
};

/* Counters kept by the HTTP side since the server started. */
struct http_stats {
	uint64_t responses[6]; /* by code: see views_response_codes */
	uint64_t deliveries[VIEWS_DELIVERY_COUNT];
};
extern const int views_response_codes[6]; /* 2xx, 400, 401, 404, 413/415, 5xx buckets */

/* The run object (detail: with stages and findings). Caller owns it. */
json_t *views_run_json(const struct server_config *c, const struct job *j, bool detail);

/* Pages of GET /api/runs/<id>/findings: the default size and the largest (a larger limit
 * gives the largest). */
#define VIEWS_FINDINGS_DEFAULT 100
#define VIEWS_FINDINGS_MAX     500

/*
 * The findings of a finished run's report, every stage's in report order, for GET
 * /api/runs/<id>/findings: {run, state, total, offset, limit, next, findings} where
 * `next` is the next page's path (null on the last), and each finding has only members
 * that are safe to show (views.c), masked. offset_arg and limit_arg: the query's values
 * as sent (NULL: absent). *status (OUT): 200, or the error's status with {"error": ...}:
 * 400 (offset or limit not a count), 409 (the run has not finished), 404 (no report), 500
 * (a report that cannot be read, a secrets file that cannot be read to mask with).
 * Caller owns the object.
 */
json_t *views_findings_json(const struct server_config *c, const struct job *j,
			    const char *offset_arg, const char *limit_arg, unsigned *status);

/* HTML pages (heap strings). */
char *views_index_html(const struct server_config *c, const struct job *jobs, size_t n,
		       unsigned running);
char *views_run_html(const struct server_config *c, const struct job *j);

/* Prometheus text format (heap string). pruned_runs: removed by retention (dispatch.h). */
char *views_metrics(const struct store_counts *sc, const struct http_stats *hs, unsigned running,
		    uint64_t pruned_runs);

/* What a run whose directory it did not make shows instead of its record. */
#define VIEWS_NO_RECORD "no record (the directory was not made by this run)"

/* The run directory of a job's current attempt (heap), or NULL if its repository is gone,
 * or if the directory is not the attempt's (jobrun_run_dir_is_own(): *foreign is set
 * then, when foreign is not NULL): nothing in such a directory is shown as the run's. */
char *views_run_dir(const struct server_config *c, const struct job *j, bool *foreign);

#endif
