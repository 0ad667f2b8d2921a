/*
 * slog.c - JSON-lines logging for the server.
 */
#include "slog.h"

#include "util.h"

#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

#define LINE_MAX_BYTES (64u << 10)

static enum log_level min_level = LOG_INFO;
static int log_fd = 2;

void slog_set_level(enum log_level level)
{
	min_level = level;
}

void slog_set_fd(int fd)
{
	log_fd = fd;
}

enum log_level slog_level(void)
{
	return min_level;
}

void slog(enum log_level level, const char *event, const struct slog_ctx *ctx, json_t *extra,
	  const char *fmt, ...)
{
	if (level < min_level) {
		json_decref(extra);
		return;
	}
	char ts[40], msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	_cleanup_free_ char *clean = utf8_sanitize(msg, strlen(msg));
	json_t *o = json_object();
	json_object_set_new(o, "time", json_string(format_rfc3339(now_real_ms(), ts, sizeof(ts))));
	json_object_set_new(o, "level", json_string(log_level_name(level)));
	json_object_set_new(o, "event", json_string(event));
	if (ctx && ctx->run > 0) {
		json_object_set_new(o, "run_id", json_integer(ctx->run));
	}
	if (ctx && ctx->repo) {
		_cleanup_free_ char *r = utf8_sanitize(ctx->repo, strlen(ctx->repo));
		json_object_set_new(o, "repository", json_string(r));
	}
	if (ctx && ctx->delivery) {
		_cleanup_free_ char *d = utf8_sanitize(ctx->delivery, strlen(ctx->delivery));
		json_object_set_new(o, "delivery", json_string(d));
	}
	json_object_set_new(o, "msg", json_string(clean));
	if (extra) {
		json_object_update_missing(o, extra);
		json_decref(extra);
	}
	char *line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line) {
		size_t n = strlen(line);
		if (n < LINE_MAX_BYTES) {
			line[n] = '\n';
			/* One write per line: lines from different threads never interleave. */
			write_all(log_fd, line, n + 1);
		}
		free(line);
	}
}
