/*
 * http.c - routes, webhook intake and the read-only API, on libmicrohttpd.
 *
 * Each connection has its own thread (MHD_USE_THREAD_PER_CONNECTION): a webhook handler
 * blocks while its delivery is committed (group commit in intake.c) and answers after.
 * Request state lives in a per-request struct freed by the completion callback. Reads for
 * the API share one store connection under a mutex: they are rare and short.
 */
#include "http.h"

#include "config.h"
#include "dispatch.h"
#include "intake.h"
#include "live.h"
#include "sbuf.h"
#include "slog.h"
#include "store.h"
#include "util.h"
#include "views.h"
#include "webhook.h"

#include <ctype.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "banned.h"

#define LIST_DEFAULT 50
#define LIST_MAX     500
#define DELIVERY_MAX 128
#define AUTH_MAX     4096 /* an Authorization header longer than this is refused */

enum route {
	R_NONE,
	R_HOOK,
	R_HEALTH,
	R_METRICS,
	R_API_LIST,
	R_API_RUN,
	R_API_LOG,
	R_API_FINDINGS,
	R_INDEX,
	R_RUN_PAGE,
};

enum delivery_result {
	D_ACCEPTED = VIEWS_DELIVERY_ACCEPTED,
	D_DUPLICATE = VIEWS_DELIVERY_DUPLICATE,
	D_IGNORED = VIEWS_DELIVERY_IGNORED,
	D_REJECTED = VIEWS_DELIVERY_REJECTED,
	D_QUEUE_FULL = VIEWS_DELIVERY_QUEUE_FULL,
	D_BUSY = VIEWS_DELIVERY_BUSY,
	D_ERROR = VIEWS_DELIVERY_ERROR,
};

struct http_server {
	struct live *live;
	struct MHD_Daemon *d;
	struct intake *intake;
	const struct dispatcher *disp;
	struct store *api;
	pthread_mutex_t api_mu;
	atomic_bool stopping;
	_Atomic uint64_t inflight; /* body bytes buffered by all requests together */
	uint64_t inflight_max;
	/* What a reload cannot change (config_restart_only): copied at start. */
	size_t max_body;
	uint64_t request_timeout_ms;
	_Atomic uint64_t responses[6];
	_Atomic uint64_t deliveries[VIEWS_DELIVERY_COUNT];
	_Atomic int64_t previous_token_said; /* when api.previous_token was last logged */
	unsigned port;
	/* The request deadline (limits.request_timeout): libmicrohttpd's timeout counts idle
	 * time only, so a client sending a byte now and then could hold a connection, or its
	 * share of max_inflight, for ever. Every connection is watched from its start (and
	 * again after each request it completes); one past the deadline is shut down. */
	pthread_mutex_t watch_mu;
	pthread_cond_t watch_cv;
	struct conn_watch *watched;
	pthread_t watchdog;
	bool watchdog_started, watchdog_stop;
};

struct conn_watch {
	int fd;		/* a duplicate of the connection's socket: shut down past the deadline */
	uint64_t since; /* monotonic ms: connection start, or end of its last request */
	bool shut;
	struct conn_watch *prev, *next;
};

struct request {
	/* The configuration in force when the request came, until it is answered (live.h):
	 * its secrets, access token and repositories. */
	const struct server_config *c;
	enum route route;
	enum forge forge;
	const struct repo_config *only; /* /hooks/<forge>/<repository>: that one's secret */
	int64_t id;
	char stage[72];
	struct sbuf body;
	uint64_t counted; /* bytes of body counted in inflight */
	bool too_big;
	bool overloaded;
	bool answered;
};

/* ---------- responses ---------- */

static void count_response(struct http_server *h, unsigned code)
{
	int k = code < 300		     ? 0
		: code == 400		     ? 1
		: code == 401		     ? 2
		: code == 404		     ? 3
		: code == 413 || code == 415 ? 4
		: code >= 500		     ? 5
					     : -1;
	if (k >= 0) {
		atomic_fetch_add(&h->responses[k], 1);
	}
}

/* Queue r with the headers every answer carries, count it, and let go of r. */
static enum MHD_Result queue(struct http_server *h, struct MHD_Connection *conn, unsigned code,
			     const char *ctype, struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (str_has_prefix(ctype, "text/html")) {
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; style-src 'unsafe-inline'; "
					"frame-ancestors 'none'");
	}
	count_response(h, code);
	enum MHD_Result ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* A response made from body (taken). NULL when it cannot be made (body freed). */
static struct MHD_Response *from_body(char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
	}
	return r;
}

static enum MHD_Result respond(struct http_server *h, struct MHD_Connection *conn, unsigned code,
			       const char *ctype, char *body)
{
	struct MHD_Response *r = from_body(body);
	return r ? queue(h, conn, code, ctype, r) : MHD_NO;
}

static enum MHD_Result respond_json(struct http_server *h, struct MHD_Connection *conn,
				    unsigned code, json_t *o)
{
	/* A body that could not be built (text that is not UTF-8 in it) still gets an
	 * answer, with its status, rather than a closed connection. */
	if (!o) {
		o = json_pack("{s:s}", "error", "the reply could not be encoded");
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s) {
		return MHD_NO;
	}
	size_t n = strlen(s);
	char *body = xrealloc(s, n + 2);
	body[n] = '\n';
	body[n + 1] = '\0';
	return respond(h, conn, code, "application/json", body);
}

static enum MHD_Result respond_error(struct http_server *h, struct MHD_Connection *conn,
				     unsigned code, const char *msg)
{
	return respond_json(h, conn, code, json_pack("{s:s}", "error", msg));
}

/* ---------- webhooks ---------- */

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static bool json_content_type(const char *ct)
{
	if (!ct) {
		return false;
	}
	size_t n = strcspn(ct, ";");
	while (n > 0 && ct[n - 1] == ' ') {
		n--;
	}
	return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

static bool valid_delivery(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > DELIVERY_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isgraph((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static enum MHD_Result hook_reply(struct http_server *h, struct MHD_Connection *conn,
				  enum delivery_result dr, unsigned code, json_t *body)
{
	atomic_fetch_add(&h->deliveries[dr], 1);
	return respond_json(h, conn, code, body);
}

/* A refusal, counted as dr (D_REJECTED, D_QUEUE_FULL). */
static enum MHD_Result refuse(struct http_server *h, struct MHD_Connection *conn,
			      enum delivery_result dr, unsigned code, const struct slog_ctx *ctx,
			      const char *msg)
{
	slog(LOG_WARN, "delivery.rejected", ctx, json_pack("{s:i}", "status", code), "%s", msg);
	return hook_reply(h, conn, dr, code, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result reject(struct http_server *h, struct MHD_Connection *conn, unsigned code,
			      const struct slog_ctx *ctx, const char *msg)
{
	return refuse(h, conn, D_REJECTED, code, ctx, msg);
}

static enum MHD_Result ignored(struct http_server *h, struct MHD_Connection *conn,
			       const struct slog_ctx *ctx, const char *reason)
{
	slog(LOG_INFO, "delivery.ignored", ctx, NULL, "%s", reason);
	return hook_reply(h, conn, D_IGNORED, 202,
			  json_pack("{s:s, s:s}", "status", "ignored", "reason", reason));
}

/* Whether r accepts the secret a delivery was verified with at `now`. */
static bool accepts(const struct repo_config *r, const char *secret, int64_t now)
{
	const char *s[2];
	size_t n = repo_webhook_secrets(r, now, s);
	for (size_t j = 0; j < n; j++) {
		if (strcmp(s[j], secret) == 0) {
			return true;
		}
	}
	return false;
}

/* Whether an earlier repository of the forge than c->repos[i] accepts secret at `now`: a
 * secret shared by several repositories is tried once. */
static bool tried_before(const struct server_config *c, enum forge f, size_t i, const char *secret,
			 int64_t now)
{
	for (size_t k = 0; k < i; k++) {
		if (c->repos[k].forge == f && accepts(&c->repos[k], secret, now)) {
			return true;
		}
	}
	return false;
}

/* The repository whose secret verifies the delivery, or NULL; *used is the secret that
 * did. The body names its repository only once it is parsed, and it is not parsed before
 * it is verified: so each distinct secret of the forge's repositories is tried (once,
 * however many repositories share it), unless the URL named the repository. A previous
 * secret (a rotation) counts until it expires. */
static const struct repo_config *verify(const struct server_config *c, enum forge f,
					const struct repo_config *only, const char *sig,
					const char *body, size_t len, int64_t now,
					const char **used)
{
	for (size_t i = 0; i < c->n_repos; i++) {
		const struct repo_config *r = only ? only : &c->repos[i];
		const char *s[2];
		size_t n = r->forge == f ? repo_webhook_secrets(r, now, s) : 0;
		for (size_t j = 0; j < n; j++) {
			if ((only || !tried_before(c, f, i, s[j], now)) &&
			    webhook_verify(f, sig, body, len, s[j])) {
				*used = s[j];
				return r;
			}
		}
		if (only) {
			break;
		}
	}
	return NULL;
}

static const char *delivery_id(struct MHD_Connection *conn, enum forge f)
{
	for (const char *const *hn = webhook_delivery_headers(f); *hn; hn++) {
		const char *v = header(conn, *hn);
		if (v) {
			return v;
		}
	}
	return NULL;
}

static enum MHD_Result handle_hook(struct http_server *h, struct MHD_Connection *conn,
				   struct request *rq)
{
	const struct server_config *c = rq->c;
	enum forge f = rq->forge;
	const char *delivery = delivery_id(conn, f);
	struct slog_ctx ctx = { .delivery = valid_delivery(delivery) ? delivery : NULL };
	const char *body = rq->body.data ? rq->body.data : "";
	size_t len = rq->body.len;

	if (rq->too_big) {
		return reject(h, conn, 413, &ctx, "the body is larger than limits.max_body");
	}
	if (rq->overloaded) {
		slog(LOG_WARN, "delivery.overloaded", &ctx, NULL,
		     "too many large deliveries at once (limits.max_inflight); refused with 503");
		return hook_reply(h, conn, D_BUSY, 503,
				  json_pack("{s:s}", "error", "too busy; deliver again later"));
	}
	int64_t now = time(NULL);
	const char *used = NULL;
	const struct repo_config *r = verify(
		c, f, rq->only, header(conn, webhook_signature_header(f)), body, len, now, &used);
	if (!r) {
		/* The header is named: GitLab's is a token, not a signature. */
		char why[160];
		const char *hn = webhook_signature_header(f);
		if (header(conn, hn)) {
			snprintf(why, sizeof(why),
				 "the %s (%s) does not match any repository's secret",
				 f == FORGE_GITLAB ? "token" : "signature", hn);
		} else {
			snprintf(why, sizeof(why), "the %s header is missing", hn);
		}
		return reject(h, conn, 401, &ctx, why);
	}
	struct hook_event ev;
	char err[256];
	if (webhook_parse(f, header(conn, webhook_event_header(f)), body, len, &ev, err,
			  sizeof(err)) < 0) {
		ctx.repo = r->name;
		return reject(h, conn, 400, &ctx, err);
	}
	enum MHD_Result ret;
	if (ev.kind == HOOK_PING) {
		ctx.repo = ev.repo;
		slog(LOG_INFO, "delivery.ping", &ctx, NULL, "ping");
		ret = hook_reply(h, conn, D_IGNORED, 200, json_pack("{s:s}", "status", "pong"));
		goto out;
	}
	/* The signature proves the sender knows r's secret; the payload must be about r, or
	 * about another repository configured with the same secret. */
	const struct repo_config *named = ev.repo ? config_find_repo(c, f, ev.repo) : r;
	if (!ev.repo && ev.kind != HOOK_IGNORED) {
		named = NULL;
	}
	if (!named || !accepts(named, used, now)) {
		ctx.repo = ev.repo;
		char msg[320];
		snprintf(msg, sizeof(msg), "repository '%.200s' is not configured on this server",
			 ev.repo ? ev.repo : "");
		ret = reject(h, conn, 404, &ctx, msg);
		goto out;
	}
	r = named;
	ctx.repo = r->name;
	if (r->previous_secret.value && strcmp(used, r->previous_secret.value) == 0) {
		/* Accepted; the forge has not been given the new secret yet. */
		slog(LOG_WARN, "delivery.previous_secret", &ctx,
		     json_pack("{s:s}", "expires", r->previous_secret.expires),
		     "signed with the previous webhook secret of '%s', accepted until %s: give "
		     "the forge the new one",
		     r->name, r->previous_secret.expires);
	}
	if (ev.kind == HOOK_IGNORED) {
		ret = ignored(h, conn, &ctx, ev.reason);
		goto out;
	}
	unsigned need = ev.kind == HOOK_PUSH  ? EVENTS_PUSH
			: ev.kind == HOOK_TAG ? EVENTS_TAG
					      : EVENTS_PULL_REQUEST;
	if (!(r->events & need)) {
		ret = ignored(h, conn, &ctx,
			      ev.kind == HOOK_PUSH ? "push events are not run for this repository"
			      : ev.kind == HOOK_TAG
				      ? "tag events are not run for this repository"
				      : "pull requests are not run for this repository");
		goto out;
	}
	if (ev.kind == HOOK_PULL_REQUEST && ev.fork && !c->untrusted_run) {
		ret = ignored(
			h, conn, &ctx,
			"pull requests from forks are not run on this server (untrusted.run)");
		goto out;
	}
	if (!valid_delivery(delivery)) {
		ret = reject(h, conn, 400, &ctx, "the delivery id header is missing or invalid");
		goto out;
	}
	char key[WEBHOOK_MAX_NAME + 32] = "";
	if (ev.kind == HOOK_PUSH && r->supersede) {
		snprintf(key, sizeof(key), "branch:%s", ev.branch);
	} else if (ev.kind == HOOK_PULL_REQUEST && r->supersede) {
		snprintf(key, sizeof(key), "pr:%lu", ev.number);
	}
	struct job_new jn = {
		.repo = r->name,
		.forge = forge_name(f),
		.delivery = delivery,
		.event = ev.kind == HOOK_PULL_REQUEST ? "pull_request" : "push",
		.ref = ev.ref,
		.branch = ev.branch ? ev.branch : "",
		.tag = ev.tag ? ev.tag : "",
		.sha = ev.sha,
		.peel = ev.peel,
		.number = (int64_t)ev.number,
		.base_branch = ev.base_branch ? ev.base_branch : "",
		.base_sha = ev.base_sha,
		.before_sha = ev.before,
		.trusted = !(ev.kind == HOOK_PULL_REQUEST && ev.fork),
		.supersede_key = key,
		/* No API configured: no statuses to send, so none are queued. */
		.statuses = !str_empty(r->api_token) && !str_empty(r->api_url),
		.max_queued = c->max_queued,
		.max_queued_untrusted = c->untrusted_max_queued,
	};
	SHA256((const unsigned char *)body, len, jn.body_sha);
	int rr = intake_submit(h->intake, &jn);
	if (rr < 0) {
		slog(LOG_ERROR, "delivery.failed", &ctx, NULL, "cannot queue the delivery: %s",
		     strerror(-rr));
		ret = hook_reply(h, conn, D_ERROR, 503,
				 json_pack("{s:s}", "error", "the queue is unavailable; retry"));
		goto out;
	}
	if (jn.full) {
		/* Not remembered as delivered: redelivered once the queue has room, it runs. */
		ret = refuse(h, conn, D_QUEUE_FULL, 503, &ctx,
			     jn.trusted
				     ? "the queue is full (limits.max_queued); deliver again later"
				     : "the queue of pull requests from forks is full "
				       "(untrusted.max_queued); deliver again later");
		goto out;
	}
	ctx.run = jn.job_id;
	if (jn.duplicate) {
		slog(LOG_INFO, "delivery.duplicate", &ctx, NULL,
		     "already accepted as run %lld: not run again", (long long)jn.job_id);
		ret = hook_reply(h, conn, D_DUPLICATE, 202,
				 json_pack("{s:s, s:I}", "status", "duplicate", "run_id",
					   (json_int_t)jn.job_id));
	} else {
		slog(LOG_INFO, "delivery.accepted", &ctx,
		     json_pack("{s:s, s:s, s:b, s:i}", "ref", ev.ref, "sha", ev.sha, "trusted",
			       jn.trusted, "superseded", (int)jn.superseded),
		     "queued run %lld for %s at %.12s", (long long)jn.job_id, ev.ref, ev.sha);
		ret = hook_reply(h, conn, D_ACCEPTED, 202,
				 json_pack("{s:s, s:I}", "status", "accepted", "run_id",
					   (json_int_t)jn.job_id));
	}
out:
	hook_event_release(&ev);
	return ret;
}

/* ---------- access to the read side ---------- */

/* Whether the candidate is the token: digests compared in constant time, so that neither
 * the content nor the length of the token shows in the timing. */
static bool token_matches(const char *token, const char *cand, size_t len)
{
	unsigned char d[SHA256_DIGEST_LENGTH], t[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)cand, len, d);
	SHA256((const unsigned char *)token, strlen(token), t);
	bool ok = CRYPTO_memcmp(d, t, sizeof(d)) == 0;
	explicit_bzero(d, sizeof(d));
	explicit_bzero(t, sizeof(t));
	return ok;
}

/* Which token the credentials sent are: 1 the access token, 2 the previous one while a
 * rotation lasts, 0 neither. */
static int token_of(const struct server_config *c, const char *sent, size_t len)
{
	if (token_matches(c->access_token, sent, len)) {
		return 1;
	}
	const struct config_previous *p = &c->previous_access_token;
	return config_previous_valid(p, time(NULL)) && token_matches(p->value, sent, len) ? 2 : 0;
}

/* `Authorization: Bearer <token>`, or `Basic base64(<any user>:<token>)` (what a browser
 * sends once it has asked for a user name and password): as token_of(). */
static int authorized(const struct server_config *c, struct MHD_Connection *conn)
{
	const char *a = header(conn, "Authorization");
	size_t n = a ? strlen(a) : 0;
	if (n == 0 || n > AUTH_MAX) {
		return 0;
	}
	if (strncasecmp(a, "Bearer ", 7) == 0) {
		a += 7;
		while (*a == ' ') {
			a++;
		}
		return *a ? token_of(c, a, strlen(a)) : 0;
	}
	if (strncasecmp(a, "Basic ", 6) != 0) {
		return 0;
	}
	a += 6;
	while (*a == ' ') {
		a++;
	}
	size_t bl = strlen(a);
	if (bl == 0 || bl % 4 != 0) {
		return 0;
	}
	unsigned char buf[AUTH_MAX];
	int dn = EVP_DecodeBlock(buf, (const unsigned char *)a, (int)bl);
	int ok = 0;
	if (dn > 0) {
		/* EVP_DecodeBlock counts the bytes of the padding too. */
		size_t len = (size_t)dn - (a[bl - 1] == '=') - (a[bl - 2] == '=');
		const unsigned char *colon = memchr(buf, ':', len);
		if (colon) {
			const char *pw = (const char *)colon + 1;
			size_t pl = len - (size_t)(pw - (const char *)buf);
			ok = pl > 0 ? token_of(c, pw, pl) : 0;
		}
		explicit_bzero(buf, (size_t)dn);
	}
	return ok;
}

/* A client still reads with the previous access token: said at most once a minute (a
 * dashboard polls), so that whoever rotates it sees whether every client has the new one. */
static void previous_token_used(struct http_server *h, const struct server_config *c,
				const char *method, const char *url)
{
	int64_t now = time(NULL);
	int64_t last = atomic_load(&h->previous_token_said);
	if (now - last < 60 ||
	    !atomic_compare_exchange_strong(&h->previous_token_said, &last, now)) {
		return;
	}
	slog(LOG_WARN, "api.previous_token", NULL,
	     json_pack("{s:s}", "expires", c->previous_access_token.expires),
	     "%s %.200s: read with the previous access token, accepted until %s: give the "
	     "client the new one",
	     method, url, c->previous_access_token.expires);
}

/* 401: the same answer whatever was wrong, and never what was sent. */
static enum MHD_Result unauthorized(struct http_server *h, struct MHD_Connection *conn,
				    const char *method, const char *url)
{
	slog(LOG_INFO, "api.unauthorized", NULL,
	     json_pack("{s:b}", "credentials", header(conn, "Authorization") != NULL),
	     "%s %.200s: refused with 401 (%s)", method, url,
	     header(conn, "Authorization") ? "wrong credentials" : "no credentials");
	struct MHD_Response *r = from_body(xstrdup("{\"error\":\"authentication required\"}\n"));
	if (!r) {
		return MHD_NO;
	}
	MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"runner\"");
	MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"runner\", charset=\"UTF-8\"");
	return queue(h, conn, 401, "application/json", r);
}

/* ---------- API and pages ---------- */

static int get_job(struct http_server *h, int64_t id, struct job *j)
{
	pthread_mutex_lock(&h->api_mu);
	int r = store_get(h->api, id, j);
	pthread_mutex_unlock(&h->api_mu);
	return r;
}

static int list_jobs(struct http_server *h, size_t limit, struct job **v, size_t *n)
{
	pthread_mutex_lock(&h->api_mu);
	int r = store_list(h->api, limit, v, n);
	pthread_mutex_unlock(&h->api_mu);
	return r;
}

static const char *query(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ?limit=N of /api/runs, read as the findings' is: a larger N than LIST_MAX gives LIST_MAX,
 * and what is not a whole number of 1 or more is refused (-EINVAL), not taken for the
 * default. */
static int list_limit(struct MHD_Connection *conn, size_t *out)
{
	const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	uint64_t v = 0;
	*out = LIST_DEFAULT;
	if (!s) {
		return 0;
	}
	int r = parse_uint(s, UINT64_MAX, &v);
	if (r == -ERANGE) {
		*out = LIST_MAX; /* more digits than a uint64_t: a large number all the same */
		return 0;
	}
	if (r < 0 || v == 0) {
		return -EINVAL;
	}
	*out = (size_t)MIN(v, (uint64_t)LIST_MAX);
	return 0;
}

/* Whether stage is one of j's stages as its page shows them (report.json, or live.json
 * while it runs). */
static bool run_has_stage(const struct server_config *c, const struct job *j, const char *stage)
{
	json_t *run = views_run_json(c, j, false);
	size_t i;
	json_t *st;
	bool found = false;
	json_array_foreach(json_object_get(run, "stages"), i, st)
	{
		found |= str_eq(json_string_value(json_object_get(st, "name")), stage);
	}
	json_decref(run);
	return found;
}

static enum MHD_Result serve_log(struct http_server *h, struct MHD_Connection *conn,
				 const struct server_config *c, const struct job *j,
				 const char *stage)
{
	bool foreign;
	_cleanup_free_ char *dir = views_run_dir(c, j, &foreign);
	if (!dir) {
		return respond_error(h, conn, 404,
				     foreign ? "this run has " VIEWS_NO_RECORD
					     : "this run has no record");
	}
	_cleanup_free_ char *path = xasprintf("%s/logs/%s.log", dir, stage);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		bool missing = fd < 0 && errno == ENOENT;
		if (fd >= 0) {
			close(fd);
		}
		/* The engine creates a stage's log on its first byte: a stage of the run that
		 * has printed nothing (yet) has an empty log, which the run's page links as
		 * any other. */
		if (missing && run_has_stage(c, j, stage)) {
			return respond(h, conn, 200, "text/plain; charset=utf-8", xstrdup(""));
		}
		return respond_error(h, conn, 404,
				     missing ? "no such stage in this run (or it has not started)"
					     : "no log for this stage");
	}
	struct MHD_Response *r = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	/* Logs are stage output: never let a browser take them for anything but text. */
	return queue(h, conn, 200, "text/plain; charset=utf-8", r);
}

static enum MHD_Result handle_get(struct http_server *h, struct MHD_Connection *conn,
				  struct request *rq)
{
	switch (rq->route) {
	case R_HEALTH:
		if (atomic_load(&h->stopping)) {
			return respond(h, conn, 503, "text/plain", xstrdup("stopping\n"));
		}
		return respond(h, conn, 200, "text/plain", xstrdup("ok\n"));
	case R_METRICS: {
		struct store_counts sc;
		struct http_stats hs;
		pthread_mutex_lock(&h->api_mu);
		int r = store_counts(h->api, &sc);
		pthread_mutex_unlock(&h->api_mu);
		if (r < 0) {
			return respond_error(h, conn, 500, "the store is unavailable");
		}
		for (int k = 0; k < 6; k++) {
			hs.responses[k] = atomic_load(&h->responses[k]);
		}
		for (int k = 0; k < VIEWS_DELIVERY_COUNT; k++) {
			hs.deliveries[k] = atomic_load(&h->deliveries[k]);
		}
		return respond(h, conn, 200, "text/plain; version=0.0.4",
			       views_metrics(&sc, &hs, dispatcher_running(h->disp),
					     dispatcher_pruned_runs(h->disp)));
	}
	case R_API_LIST:
	case R_INDEX: {
		struct job *v;
		size_t n, limit = LIST_DEFAULT;
		if (rq->route == R_API_LIST && list_limit(conn, &limit) < 0) {
			return respond_error(h, conn, 400,
					     "limit must be a whole number, 1 or more (at most 500 "
					     "are given at once)");
		}
		if (list_jobs(h, limit, &v, &n) < 0) {
			return respond_error(h, conn, 500, "the store is unavailable");
		}
		enum MHD_Result ret;
		if (rq->route == R_INDEX) {
			ret = respond(h, conn, 200, "text/html; charset=utf-8",
				      views_index_html(rq->c, v, n, dispatcher_running(h->disp)));
		} else {
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++) {
				json_array_append_new(arr, views_run_json(rq->c, &v[i], false));
			}
			ret = respond_json(h, conn, 200, json_pack("{s:o}", "runs", arr));
		}
		jobs_free(v, n);
		return ret;
	}
	case R_API_RUN:
	case R_API_LOG:
	case R_API_FINDINGS:
	case R_RUN_PAGE: {
		struct job j;
		int r = get_job(h, rq->id, &j);
		if (r < 0) {
			return respond_error(h, conn, 500, "the store is unavailable");
		}
		if (r == 0) {
			return respond_error(h, conn, 404, "no such run");
		}
		if (rq->route == R_API_FINDINGS) {
			unsigned code = 500;
			json_t *o = views_findings_json(rq->c, &j, query(conn, "offset"),
							query(conn, "limit"), &code);
			job_release(&j);
			return respond_json(h, conn, code, o);
		}
		enum MHD_Result ret =
			rq->route == R_API_RUN
				? respond_json(h, conn, 200, views_run_json(rq->c, &j, true))
			: rq->route == R_API_LOG ? serve_log(h, conn, rq->c, &j, rq->stage)
						 : respond(h, conn, 200, "text/html; charset=utf-8",
							   views_run_html(rq->c, &j));
		job_release(&j);
		return ret;
	}
	default:
		return respond_error(h, conn, 404, "not found");
	}
}

/* ---------- routing ---------- */

static bool parse_id(const char *s, size_t n, int64_t *out)
{
	char buf[24];
	uint64_t v;
	if (n == 0 || n >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_uint(buf, INT64_MAX, &v) < 0) {
		return false;
	}
	*out = (int64_t)v;
	return true;
}

static bool valid_stage(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') {
			return false;
		}
	}
	return true;
}

/* Route a GET path. */
static enum route route_get(const char *url, struct request *rq)
{
	if (str_eq(url, "/healthz")) {
		return R_HEALTH;
	}
	if (str_eq(url, "/metrics")) {
		return R_METRICS;
	}
	if (str_eq(url, "/") || str_eq(url, "/index.html")) {
		return R_INDEX;
	}
	if (str_eq(url, "/api/runs") || str_eq(url, "/api/runs/")) {
		return R_API_LIST;
	}
	if (str_has_prefix(url, "/runs/")) {
		return parse_id(url + 6, strlen(url + 6), &rq->id) ? R_RUN_PAGE : R_NONE;
	}
	if (str_has_prefix(url, "/api/runs/")) {
		const char *p = url + 10;
		const char *slash = strchr(p, '/');
		if (!slash) {
			return parse_id(p, strlen(p), &rq->id) ? R_API_RUN : R_NONE;
		}
		if (!parse_id(p, (size_t)(slash - p), &rq->id)) {
			return R_NONE;
		}
		if (str_eq(slash, "/findings")) {
			return R_API_FINDINGS;
		}
		if (!str_has_prefix(slash, "/logs/")) {
			return R_NONE;
		}
		const char *stage = slash + 6;
		if (!valid_stage(stage)) {
			return R_NONE;
		}
		snprintf(rq->stage, sizeof(rq->stage), "%s", stage);
		return R_API_LOG;
	}
	return R_NONE;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *h = cls;
	struct request *rq = *con_cls;
	(void)version;
	if (!rq) {
		rq = xcalloc(1, sizeof(*rq));
		*con_cls = rq;
		rq->c = live_get(h->live);
		sbuf_init(&rq->body, h->max_body);
		bool post = str_eq(method, "POST");
		if (str_has_prefix(url, "/hooks/")) {
			/* /hooks/<forge> or /hooks/<forge>/<repository name> */
			char fname[16];
			const char *slash = strchr(url + 7, '/');
			size_t fl = slash ? (size_t)(slash - (url + 7)) : strlen(url + 7);
			snprintf(fname, sizeof(fname), "%.*s", (int)MIN(fl, sizeof(fname) - 1),
				 url + 7);
			if (fl >= sizeof(fname) || forge_from_name(fname, &rq->forge) < 0) {
				rq->answered = true;
				return respond_error(h, conn, 404,
						     "unknown hook: use /hooks/github, "
						     "/hooks/gitlab or /hooks/gitea");
			}
			/* Every answer to a delivery is logged with its id. */
			const char *delivery = delivery_id(conn, rq->forge);
			struct slog_ctx ctx = { .delivery = valid_delivery(delivery) ? delivery
										     : NULL };
			if (slash && !(rq->only = config_find_repo(rq->c, rq->forge, slash + 1))) {
				rq->answered = true;
				char msg[320];
				snprintf(msg, sizeof(msg),
					 "no such repository on this server: '%.200s' (the URL is "
					 "/hooks/%s/<repository>)",
					 slash + 1, forge_name(rq->forge));
				return reject(h, conn, 404, &ctx, msg);
			}
			if (!post) {
				rq->answered = true;
				return respond_error(h, conn, 405, "webhooks are POSTed");
			}
			rq->route = R_HOOK;
			if (!json_content_type(header(conn, "Content-Type"))) {
				rq->answered = true;
				return reject(h, conn, 415, &ctx,
					      "the content type must be application/json");
			}
			const char *cl = header(conn, "Content-Length");
			uint64_t n;
			if (cl && parse_uint(cl, UINT64_MAX, &n) == 0 && n > h->max_body) {
				rq->answered = true;
				return reject(h, conn, 413, &ctx,
					      "the body is larger than limits.max_body");
			}
			return MHD_YES;
		}
		rq->route = route_get(url, rq);
		if (rq->route != R_NONE && !str_eq(method, "GET") && !str_eq(method, "HEAD")) {
			rq->answered = true;
			return respond_error(h, conn, 405, "method not allowed");
		}
		if (rq->route != R_NONE && rq->route != R_HEALTH && rq->c->access_token &&
		    !(rq->route == R_METRICS && rq->c->public_metrics)) {
			int who = authorized(rq->c, conn);
			if (!who) {
				rq->answered = true;
				return unauthorized(h, conn, method, url);
			}
			if (who == 2) {
				previous_token_used(h, rq->c, method, url);
			}
		}
		if (rq->route != R_NONE) {
			return MHD_YES;
		}
		rq->answered = true;
		return respond_error(h, conn, 404, "not found");
	}
	if (rq->answered) {
		*upload_size = 0; /* discard the rest of a rejected body */
		return MHD_YES;
	}
	if (*upload_size) {
		/* Bodies are read before they can be verified: each has a cap, and all of them
		 * together another one, so that unsigned junk cannot exhaust memory. */
		if (rq->route == R_HOOK && !rq->too_big && !rq->overloaded) {
			uint64_t n = *upload_size;
			if (atomic_fetch_add(&h->inflight, n) + n > h->inflight_max) {
				atomic_fetch_sub(&h->inflight, n);
				rq->overloaded = true;
				sbuf_release(&rq->body);
			} else if (sbuf_append(&rq->body, upload, *upload_size) < 0) {
				atomic_fetch_sub(&h->inflight, n);
				rq->too_big = true;
				sbuf_release(&rq->body);
			} else {
				rq->counted += n;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	rq->answered = true;
	return rq->route == R_HOOK ? handle_hook(h, conn, rq) : handle_get(h, conn, rq);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		int fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 3) : -1;
		if (fd < 0) {
			*socket_context = NULL; /* unwatched: the idle timeout still applies */
			return;
		}
		struct conn_watch *w = xcalloc(1, sizeof(*w));
		w->fd = fd;
		w->since = now_mono_ms();
		pthread_mutex_lock(&h->watch_mu);
		w->next = h->watched;
		if (w->next) {
			w->next->prev = w;
		}
		h->watched = w;
		pthread_mutex_unlock(&h->watch_mu);
		*socket_context = w;
		return;
	}
	struct conn_watch *w = *socket_context;
	if (!w) {
		return;
	}
	pthread_mutex_lock(&h->watch_mu);
	if (w->prev) {
		w->prev->next = w->next;
	} else {
		h->watched = w->next;
	}
	if (w->next) {
		w->next->prev = w->prev;
	}
	pthread_mutex_unlock(&h->watch_mu);
	close(w->fd);
	free(w);
	*socket_context = NULL;
}

static void *watchdog_main(void *arg)
{
	struct http_server *h = arg;
	uint64_t deadline = h->request_timeout_ms;
	pthread_mutex_lock(&h->watch_mu);
	while (!h->watchdog_stop) {
		uint64_t now = now_mono_ms();
		for (struct conn_watch *w = h->watched; w; w = w->next) {
			if (!w->shut && now - w->since > deadline) {
				shutdown(w->fd, SHUT_RDWR);
				w->shut = true;
				slog(LOG_WARN, "http.deadline", NULL, NULL,
				     "a connection took longer than request_timeout (%llu ms) for "
				     "one request: closed",
				     (unsigned long long)deadline);
			}
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&h->watch_cv, &h->watch_mu, &ts);
	}
	pthread_mutex_unlock(&h->watch_mu);
	return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *h = cls;
	struct request *rq = *con_cls;
	(void)toe;
	/* The next request on this connection has its own deadline. */
	const union MHD_ConnectionInfo *ci =
		conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	struct conn_watch *w = ci ? ci->socket_context : NULL;
	if (w) {
		pthread_mutex_lock(&h->watch_mu);
		w->since = now_mono_ms();
		pthread_mutex_unlock(&h->watch_mu);
	}
	if (rq) {
		atomic_fetch_sub(&h->inflight, rq->counted);
		live_put(h->live, rq->c);
		sbuf_release(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

int http_start(struct live *live, struct intake *in, const char *db_path,
	       const struct dispatcher *disp, struct http_server **out)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	const struct server_config *c = live_get(live);
	h->live = live;
	h->intake = in;
	h->disp = disp;
	h->inflight_max = c->max_inflight;
	h->max_body = c->max_body;
	h->request_timeout_ms = c->request_timeout_ms;
	pthread_mutex_init(&h->api_mu, NULL);
	pthread_mutex_init(&h->watch_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->watch_cv, &ca);
	pthread_condattr_destroy(&ca);
	int r = store_open(db_path, &h->api);
	if (r < 0) {
		free(h);
		live_put(live, c);
		return r;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", c->listen_port);
	if (getaddrinfo(c->listen_host, port, &hints, &ai) != 0 || !ai) {
		store_close(h->api);
		free(h);
		live_put(live, c);
		return -EADDRNOTAVAIL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
	}
	h->d = MHD_start_daemon(
		flags, (uint16_t)c->listen_port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MAX(1, c->connection_timeout_ms / 1000),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)c->max_connections_per_ip,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		store_close(h->api);
		free(h);
		live_put(live, c);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : c->listen_port;
	if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
		MHD_stop_daemon(h->d);
		store_close(h->api);
		free(h);
		live_put(live, c);
		return -EAGAIN;
	}
	h->watchdog_started = true;
	live_put(live, c);
	*out = h;
	return 0;
}

unsigned http_port(const struct http_server *h)
{
	return h->port;
}

void http_quiesce(struct http_server *h)
{
	atomic_store(&h->stopping, true);
	MHD_socket s = MHD_quiesce_daemon(h->d);
	if (s != MHD_INVALID_SOCKET) {
		close(s);
	}
}

void http_stop(struct http_server *h)
{
	if (!h) {
		return;
	}
	MHD_stop_daemon(h->d);
	if (h->watchdog_started) {
		pthread_mutex_lock(&h->watch_mu);
		h->watchdog_stop = true;
		pthread_cond_signal(&h->watch_cv);
		pthread_mutex_unlock(&h->watch_mu);
		pthread_join(h->watchdog, NULL);
	}
	pthread_cond_destroy(&h->watch_cv);
	pthread_mutex_destroy(&h->watch_mu);
	store_close(h->api);
	pthread_mutex_destroy(&h->api_mu);
	free(h);
}
