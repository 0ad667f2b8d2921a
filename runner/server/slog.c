/*
 * slog.c - JSON-lines logging for the server.
 */
#include "slog.h"

#include "util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "banned.h"

#define LINE_MAX_BYTES (64u << 10)
#define MSG_MAX	       2047 /* bytes of a message; longer ones are cut */

/* Set again by a reload while other threads log. */
static _Atomic enum log_level min_level = LOG_INFO;
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

/* Every string in v (the extra fields, nested objects and arrays too), masked as the
 * message is. Depth is the caller's: extra fields are built by the server, not input. */
static void mask_strings(json_t *v)
{
	if (json_is_string(v) && strstr(json_string_value(v), "://")) {
		char *m = text_mask_userinfo(json_string_value(v));
		json_string_set(v, m);
		free(m);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			mask_strings(e);
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e)
		{
			mask_strings(e);
		}
	}
}

void slog(enum log_level level, const char *event, const struct slog_ctx *ctx, json_t *extra,
	  const char *fmt, ...)
{
	if (level < min_level) {
		json_decref(extra);
		return;
	}
	char ts[40];
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
	}
	va_end(ap);
	/* Messages quote remotes, registries and errors that quote them: no URL's
	 * credential reaches the log, whatever path the message took. Masked whole, then
	 * cut, so that a cut cannot leave a credential's start without its '@'. */
	_cleanup_free_ char *masked = text_mask_userinfo(msg ? msg : "(message lost)");
	size_t ml = strlen(masked);
	_cleanup_free_ char *clean = utf8_sanitize(masked, ml < MSG_MAX ? ml : MSG_MAX);
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
		mask_strings(extra);
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
