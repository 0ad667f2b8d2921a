/*
 * views.h - what the server shows: run objects for /api/runs, the self-contained HTML
 * status pages (no scripts, no external assets; every string escaped), and the Prometheus
 * text of /metrics.
 *
 * A run's stages come from its report.json once it has one, else from live.json (written
 * by the running attempt as stages start and finish). Gate results are the blocked stages
 * and the count of blocking findings by severity.
 */
#ifndef RUNNER_SERVER_VIEWS_H
#define RUNNER_SERVER_VIEWS_H

#include "store.h"

#include <jansson.h>
#include <stdint.h>

struct server_config;

/* Counters kept by the HTTP side since the server started. */
struct http_stats {
	uint64_t responses[6];	/* by code: see views_response_codes */
	uint64_t deliveries[4]; /* accepted, duplicate, ignored, rejected */
};
extern const int views_response_codes[6]; /* 2xx, 400, 401, 404, 413/415, 5xx buckets */

/* The run object (detail: with stages and findings). Caller owns it. */
json_t *views_run_json(const struct server_config *c, const struct job *j, bool detail);

/* HTML pages (heap strings). */
char *views_index_html(const struct server_config *c, const struct job *jobs, size_t n,
		       unsigned running);
char *views_run_html(const struct server_config *c, const struct job *j);

/* Prometheus text format (heap string). pruned_runs: removed by retention (dispatch.h). */
char *views_metrics(const struct store_counts *sc, const struct http_stats *hs, unsigned running,
		    uint64_t pruned_runs);

/* The run directory of a job's current attempt (heap), or NULL if its repository is gone. */
char *views_run_dir(const struct server_config *c, const struct job *j);

#endif
