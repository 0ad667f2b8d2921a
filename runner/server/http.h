/*
 * http.h - the HTTP side of `runner serve` (libmicrohttpd, one thread per connection).
 *
 *   POST /hooks/github | /hooks/gitlab | /hooks/gitea    webhook deliveries
 *   POST /hooks/<forge>/<owner>/<name>                   the same, one repository's secret
 *   GET  /healthz                                        200 "ok", 503 while stopping
 *   GET  /metrics                                        Prometheus text
 *   GET  /api/runs[?limit=N]  /api/runs/<id>  /api/runs/<id>/logs/<stage>
 *   GET  /  and  /runs/<id>                              HTML status pages
 *
 * With access.token set, every GET but /healthz (and /metrics with access.public_metrics)
 * needs `Authorization: Bearer <token>` or HTTP Basic with the token as password (any
 * user name: browsers ask for it); anything else gets 401 with WWW-Authenticate and no
 * detail. Webhooks carry their own signatures and need no token.
 *
 * A delivery is checked in this order, and answered at the first failure:
 *   415 not application/json; 413 body over limits.max_body (from Content-Length before
 *   reading, or while reading); 401 signature missing or not matching any repository
 *   secret of that forge (verified on the raw body, before any parsing); 400 malformed
 *   JSON, missing fields or missing delivery id; 200 ping; 404 a valid signature but the
 *   payload names a repository not configured with that secret; 202 ignored (with the
 *   reason: deletions, actions and events that are not run, disabled event types, forks
 *   when untrusted runs are off); 202 duplicate (the replay guard, with the run id);
 *   202 accepted with the run id, sent only after the job is committed to the queue;
 *   503 when the queue cannot commit.
 */
#ifndef RUNNER_SERVER_HTTP_H
#define RUNNER_SERVER_HTTP_H

struct dispatcher;
struct http_server;
struct intake;
struct live;

/* Each request is served with the configuration in force when it came (live.h); the
 * listening address and the connection limits are the ones at start. */
int http_start(struct live *live, struct intake *in, const char *db_path,
	       const struct dispatcher *disp, struct http_server **out);
/* The port it listens on (resolves port 0). */
unsigned http_port(const struct http_server *h);
/* Stop accepting connections; requests in progress complete. */
void http_quiesce(struct http_server *h);
/* Wait for every request and release. Accepts NULL. */
void http_stop(struct http_server *h);

#endif
