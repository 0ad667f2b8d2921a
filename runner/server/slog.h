/*
 * slog.h - the server's structured log: one JSON object per line on stderr (journald and
 * log shippers take it as it is), with at least time, level and event, and the run id,
 * repository and delivery id when there is one. Lines below the configured level are
 * dropped. Safe to call from any thread; a line is written with one write(2).
 *
 * This is the server's top level: the only place in runner/server/ that prints.
 */
#ifndef RUNNER_SERVER_SLOG_H
#define RUNNER_SERVER_SLOG_H

#include "config.h"

#include <jansson.h>
#include <stdint.h>

struct slog_ctx {
	int64_t run;	      /* 0: none */
	const char *repo;     /* may be NULL */
	const char *delivery; /* may be NULL */
};

void slog_set_level(enum log_level level);
void slog_set_fd(int fd);
enum log_level slog_level(void);

/*
 * Log event (a short dotted name: "delivery.accepted", "run.finished") with a message.
 * extra (may be NULL) is an object of further fields; it is consumed.
 */
void slog(enum log_level level, const char *event, const struct slog_ctx *ctx, json_t *extra,
	  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
