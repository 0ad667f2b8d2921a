/*
 * client.c - one registry's HTTP session: scheme, ping, authentication, requests and the
 * retry policy (see client.h).
 */
#include "client.h"

#include "err.h"
#include "mask.h"
#include "util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "banned.h"

#define USER_AGENT	"runner/" RUNNER_OCI_VERSION
#define CONNECT_TIMEOUT 20L
/* Seconds for a request that carries no blob (xfer_arm). */
#define SMALL_REQUEST_TIMEOUT 300L
#define TOKEN_MARGIN_MS	      10000
#define TOKEN_REPLY_MAX	      (256u << 10)
#define BACKOFF_CAP_MS	      30000

#ifndef RUNNER_OCI_VERSION
#define RUNNER_OCI_VERSION "0"
#endif

/* ---------- logging ---------- */

void client_log(struct oci_client *c, const char *fmt, ...)
{
	if (!c->o->log) {
		return;
	}
	char *line;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	char *masked = mask_redact_str(c->mask, line);
	c->o->log(c->o->log_ud, masked ? masked : "");
	free(masked);
	explicit_bzero(line, (size_t)n);
	free(line);
}

char *format_bytes(uint64_t n, char *buf, size_t size)
{
	if (n < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	} else if (n < (1u << 20)) {
		snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
	} else if (n < (1ull << 30)) {
		snprintf(buf, size, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	} else {
		snprintf(buf, size, "%.2f GiB", (double)n / (1024.0 * 1024.0 * 1024.0));
	}
	return buf;
}

/* curl's debug output: headers in and out, and informational text, masked line by line. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *ud)
{
	struct oci_client *c = ud;
	const char *prefix;
	(void)easy;
	switch (type) {
	case CURLINFO_TEXT:
		prefix = "* ";
		break;
	case CURLINFO_HEADER_IN:
		prefix = "< ";
		break;
	case CURLINFO_HEADER_OUT:
		prefix = "> ";
		break;
	default:
		return 0; /* bodies are never logged */
	}
	size_t outlen;
	char *masked = mask_redact(c->mask, data, size, &outlen);
	if (!masked) {
		return 0;
	}
	char *p = masked, *end = masked + outlen;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r') {
			n--;
		}
		if (n) {
			char *clean = utf8_sanitize(p, n);
			for (char *q = clean; *q; q++) {
				if ((unsigned char)*q < 0x20) {
					*q = '?';
				}
			}
			client_log(c, "%s%s", prefix, clean);
			free(clean);
		}
		p += (nl ? (size_t)(nl - p) + 1 : n);
		if (!nl) {
			break;
		}
	}
	free(masked);
	return 0;
}

/* ---------- transfers ---------- */

static void set_header(char **slot, const char *v, size_t n, bool append)
{
	if (*slot && append) {
		size_t old = strlen(*slot);
		if (old + 2 + n > OCI_HEADER_MAX) {
			return;
		}
		char *s = xmalloc(old + 2 + n + 1);
		memcpy(s, *slot, old);
		memcpy(s + old, ", ", 2);
		memcpy(s + old + 2, v, n);
		s[old + 2 + n] = '\0';
		free(*slot);
		*slot = s;
		return;
	}
	free(*slot);
	*slot = xstrndup(v, n);
}

static void clear_headers(struct oci_xfer *x)
{
	char **all[] = { &x->h_location, &x->h_digest,	    &x->h_auth,
			 &x->h_range,	 &x->h_retry_after, &x->h_content_type };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct oci_xfer *x = ud;
	size_t n = size * nmemb;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): forget the previous one's headers. */
		clear_headers(x);
		return n;
	}
	const char *colon = memchr(data, ':', n);
	if (!colon || n > OCI_HEADER_MAX) {
		return n;
	}
	size_t nl = (size_t)(colon - data);
	const char *v = colon + 1;
	size_t vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++, vl--;
	}
	while (vl &&
	       (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
		vl--;
	}
	if (memchr(v, '\0', vl)) {
		return n;
	}
	static const struct {
		const char *name;
		size_t off;
		bool append;
	} known[] = {
		{ "location", offsetof(struct oci_xfer, h_location), false },
		{ "docker-content-digest", offsetof(struct oci_xfer, h_digest), false },
		{ "www-authenticate", offsetof(struct oci_xfer, h_auth), true },
		{ "range", offsetof(struct oci_xfer, h_range), false },
		{ "retry-after", offsetof(struct oci_xfer, h_retry_after), false },
		{ "content-type", offsetof(struct oci_xfer, h_content_type), false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		if (strlen(known[i].name) == nl && strncasecmp(data, known[i].name, nl) == 0) {
			set_header((char **)((char *)x + known[i].off), v, vl, known[i].append);
		}
	}
	return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct oci_xfer *x = ud;
	size_t n = size * nmemb;
	if (x->sink) {
		if (x->sink_n + n > x->sink_max || oci_blob_write(x->sink, data, n) < 0) {
			x->body_too_big = x->sink_n + n > x->sink_max;
			return 0;
		}
		x->sink_n += n;
		return n;
	}
	if (sbuf_append(&x->body, data, n) < 0) {
		x->body_too_big = true;
		return 0;
	}
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct oci_xfer *x = ud;
	size_t want = size * nmemb;
	if (x->mem || !x->has_body || x->fd < 0) {
		size_t left = x->mem_len - (size_t)x->pos;
		size_t n = MIN(want, left);
		if (n) {
			memcpy(buf, x->mem + x->pos, n);
		}
		x->pos += n;
		return n;
	}
	uint64_t left = x->len - x->pos;
	size_t n = (size_t)MIN((uint64_t)want, left);
	if (n == 0) {
		return 0;
	}
	ssize_t r;
	do {
		r = pread(x->fd, buf, n, (off_t)(x->off + x->pos));
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		return CURL_READFUNC_ABORT; /* the file shrank or failed: never send short */
	}
	x->pos += (uint64_t)r;
	return (size_t)r;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct oci_xfer *x = ud;
	uint64_t total = x->mem ? x->mem_len : x->len;
	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > total) {
		return CURL_SEEKFUNC_CANTSEEK;
	}
	x->pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

void xfer_init(struct oci_xfer *x, struct oci_client *c, CURL *easy, const char *method,
	       const char *url)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->easy = easy ? easy : c->sync;
	x->method = method;
	x->url = xstrdup(url);
	x->fd = -1;
	sbuf_init(&x->body, OCI_REPLY_MAX);
}

void xfer_header(struct oci_xfer *x, const char *line)
{
	x->headers = curl_slist_append(x->headers, line);
}

void xfer_body_mem(struct oci_xfer *x, const char *data, size_t len)
{
	x->mem = data;
	x->mem_len = len;
	x->has_body = true;
}

void xfer_body_file(struct oci_xfer *x, int fd, uint64_t off, uint64_t len)
{
	x->fd = fd;
	x->off = off;
	x->len = len;
	x->has_body = true;
}

static void free_slist_wiped(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next) {
		explicit_bzero(p->data, strlen(p->data));
	}
	curl_slist_free_all(l);
}

static void refresh_token_if_needed(struct oci_client *c);

void xfer_arm(struct oci_xfer *x)
{
	struct oci_client *c = x->c;
	CURL *e = x->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)c->stall_s);
	/* Everything but a blob's bytes (which may be gigabytes on a slow link: the stall
	 * limit above, and the stage's timeout, bound those) is small: a registry that
	 * trickles a manifest, a token or an error a byte at a time is given up on. */
	if (x->fd < 0 && !x->sink) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)c->small_s);
	}
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (c->o->debug && c->o->log) {
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(e, CURLOPT_DEBUGDATA, c);
	}
	if (str_eq(x->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (str_eq(x->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	} else if (str_eq(x->method, "PUT") || str_eq(x->method, "PATCH")) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, x);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(x->mem	    ? x->mem_len
					      : x->has_body ? x->len
							    : 0));
		if (str_eq(x->method, "PATCH")) {
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PATCH");
		}
	} else if (!str_eq(x->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
	}
	/* The headers actually sent: the request's own, "Expect:" off, and credentials, but
	 * only for the registry's own origin. */
	struct curl_slist *sent = NULL;
	for (struct curl_slist *p = x->headers; p; p = p->next) {
		sent = curl_slist_append(sent, p->data);
	}
	sent = curl_slist_append(sent, "Expect:");
	if (!x->no_auth && oci_url_same_origin(x->url, c->base)) {
		if (c->scheme == OCI_AUTH_BEARER) {
			refresh_token_if_needed(c);
		}
		char *auth = NULL;
		if (c->scheme == OCI_AUTH_BASIC && c->basic) {
			auth = xasprintf("Authorization: Basic %s", c->basic);
		} else if (c->scheme == OCI_AUTH_BEARER && c->token) {
			auth = xasprintf("Authorization: Bearer %s", c->token);
		}
		if (auth) {
			sent = curl_slist_append(sent, auth);
			explicit_bzero(auth, strlen(auth));
			free(auth);
		}
	}
	/* Kept in the xfer until the next arm or release (curl reads it during the transfer). */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, sent);
	free_slist_wiped(x->sent_headers);
	x->sent_headers = sent;
	x->pos = 0;
}

void xfer_reset_response(struct oci_xfer *x)
{
	x->cc = CURLE_OK;
	x->status = 0;
	x->errbuf[0] = '\0';
	sbuf_reset(&x->body);
	x->body_too_big = false;
	x->sink_n = 0;
	x->pos = 0;
	clear_headers(x);
}

void xfer_release(struct oci_xfer *x)
{
	if (!x->c) {
		return;
	}
	clear_headers(x);
	free_slist_wiped(x->headers);
	free_slist_wiped(x->sent_headers);
	free(x->url);
	sbuf_release(&x->body);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

/* ---------- outcome classification and retries ---------- */

bool xfer_retryable(const struct oci_xfer *x)
{
	switch (x->cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
	long s = x->status;
	return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505);
}

uint64_t client_backoff_ms(const struct oci_client *c, const struct oci_xfer *x, unsigned attempt)
{
	uint64_t d = c->backoff_ms;
	for (unsigned i = 1; i < attempt && d < BACKOFF_CAP_MS; i++) {
		d *= 2;
	}
	d = MIN(d, (uint64_t)BACKOFF_CAP_MS);
	/* Jitter: somewhere between half and all of it, so parallel retries spread out. */
	uint32_t rnd = 0;
	random_bytes(&rnd, sizeof(rnd));
	d = d / 2 + (d / 2 ? rnd % (d / 2 + 1) : 0);
	unsigned ra;
	if (x && x->h_retry_after &&
	    oci_parse_retry_after(x->h_retry_after, (int64_t)time(NULL), &ra) == 0 &&
	    (uint64_t)ra * 1000 > d) {
		d = (uint64_t)ra * 1000;
	}
	return d;
}

void client_multi_add(struct oci_client *c, struct oci_xfer *x)
{
	curl_multi_add_handle(c->multi, x->easy);
}

struct oci_xfer *client_multi_done(struct oci_client *c)
{
	int running, q;
	curl_multi_perform(c->multi, &running);
	CURLMsg *m;
	while ((m = curl_multi_info_read(c->multi, &q))) {
		if (m->msg != CURLMSG_DONE) {
			continue;
		}
		struct oci_xfer *x = NULL;
		CURLcode cc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(c->multi, m->easy_handle);
		if (!x) {
			continue;
		}
		x->cc = cc;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		if (cc != CURLE_OK) {
			x->status = 0;
		}
		return x;
	}
	return NULL;
}

void client_multi_wait(struct oci_client *c, int timeout_ms)
{
	curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

void xfer_describe(const struct oci_xfer *x, char *buf, size_t size)
{
	if (x->cc != CURLE_OK) {
		snprintf(buf, size, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->cc));
		return;
	}
	char detail[400];
	detail[0] = '\0';
	if (x->body.len &&
	    oci_parse_errors(x->body.data, x->body.len, detail, sizeof(detail)) <= 0) {
		detail[0] = '\0';
	}
	snprintf(buf, size, "HTTP %ld%s%s", x->status, detail[0] ? ": " : "", detail);
}

static void perform_sync(struct oci_xfer *x)
{
	xfer_reset_response(x);
	xfer_arm(x);
	x->cc = curl_easy_perform(x->easy);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->cc != CURLE_OK) {
		x->status = 0;
	}
}

int client_send(struct oci_client *c, struct oci_xfer *x, const char *what, struct oci_err *err)
{
	for (unsigned attempt = 1;; attempt++) {
		perform_sync(x);
		if (x->cc == CURLE_OK && x->status == 401 && !x->no_auth && !x->auth_retried) {
			int r = client_reauth(c, x, err);
			if (r < 0) {
				return r;
			}
			x->auth_retried = true;
			attempt--;
			continue;
		}
		if (xfer_retryable(x) && attempt <= c->retries) {
			char why[512];
			xfer_describe(x, why, sizeof(why));
			uint64_t d = client_backoff_ms(c, x, attempt);
			client_log(c, "%s: %s; retrying in %llu ms (attempt %u of %u)", what, why,
				   (unsigned long long)d, attempt + 1, c->retries + 1);
			sleep_ms(d);
			continue;
		}
		if (x->cc != CURLE_OK) {
			char why[512];
			xfer_describe(x, why, sizeof(why));
			return oci_errf(err, -EIO, "%s: %s", what, why);
		}
		if (x->body_too_big) {
			return oci_errf(err, -EPROTO, "%s: the reply is larger than %u bytes", what,
					OCI_REPLY_MAX);
		}
		return 0;
	}
}

/* ---------- authentication ---------- */

static bool host_http_allowed(const struct oci_client *c, const char *host)
{
	if (oci_host_is_loopback(host)) {
		return true;
	}
	for (size_t i = 0; i < c->o->n_insecure; i++) {
		if (strcasecmp(c->o->insecure[i], host) == 0) {
			return true;
		}
	}
	return false;
}

/* The host[:port] part of an absolute URL. */
static void url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	snprintf(out, size, "%.*s", (int)MIN(n, size - 1), p);
}

bool client_location_ok(const struct oci_client *c, const char *from, const char *to)
{
	if (strncmp(to, "http://", 7) != 0) {
		return true;
	}
	if (strncmp(from, "https://", 8) == 0) {
		return false;
	}
	char host[300];
	url_host(to, host, sizeof(host));
	/* host[:port] as --insecure names a registry on a port of its own, else the name
	 * without the port ([v6]:port likewise). */
	if (host_http_allowed(c, host)) {
		return true;
	}
	char *end = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
	if (end && host[0] == '[') {
		end[1] = '\0';
	} else if (end) {
		*end = '\0';
	}
	return host_http_allowed(c, host);
}

static bool has_scope(const struct oci_client *c, const char *scope)
{
	for (size_t i = 0; i < c->n_scopes; i++) {
		if (str_eq(c->scopes[i], scope)) {
			return true;
		}
	}
	return false;
}

static void add_scope(struct oci_client *c, const char *scope)
{
	if (has_scope(c, scope) || c->n_scopes >= 64) {
		return;
	}
	c->scopes = xreallocarray(c->scopes, c->n_scopes + 1, sizeof(char *));
	c->scopes[c->n_scopes++] = xstrdup(scope);
}

static bool scope_valid(const char *s)
{
	/* repository:<name>:<actions>, or registry:catalog:* and the like: visible ASCII. */
	size_t n = strlen(s);
	if (n == 0 || n > 512) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

static int fetch_token(struct oci_client *c, struct oci_err *err)
{
	const char *realm = c->challenge.realm;
	char origin[512];
	if (oci_url_origin(realm, origin, sizeof(origin)) < 0) {
		return oci_errf(err, -EPROTO,
				"%s: the registry names a token service that is not an http(s) URL",
				c->host);
	}
	char rhost[300];
	url_host(realm, rhost, sizeof(rhost));
	if (strncmp(origin, "http://", 7) == 0 && !host_http_allowed(c, rhost)) {
		return oci_errf(
			err, -EACCES,
			"%s: the token service %s is plain HTTP; refusing to send credentials "
			"(name it as insecure to allow this)",
			c->host, rhost);
	}
	struct sbuf url;
	sbuf_init(&url, OCI_URL_MAX);
	sbuf_puts(&url, realm);
	char sep = strchr(realm, '?') ? '&' : '?';
	if (c->challenge.service[0]) {
		char *esc = curl_easy_escape(NULL, c->challenge.service, 0);
		sbuf_printf(&url, "%cservice=%s", sep, esc ? esc : "");
		curl_free(esc);
		sep = '&';
	}
	for (size_t i = 0; i < c->n_scopes; i++) {
		char *esc = curl_easy_escape(NULL, c->scopes[i], 0);
		sbuf_printf(&url, "%cscope=%s", sep, esc ? esc : "");
		curl_free(esc);
		sep = '&';
	}
	if (c->o->username) {
		char *esc = curl_easy_escape(NULL, c->o->username, 0);
		sbuf_printf(&url, "%caccount=%s", sep, esc ? esc : "");
		curl_free(esc);
	}
	CURL *easy = curl_easy_init();
	if (!easy) {
		sbuf_release(&url);
		return -ENOMEM;
	}
	struct oci_xfer x;
	xfer_init(&x, c, easy, "GET", url.data);
	sbuf_release(&url);
	x.no_auth = true; /* not the registry's credentials header: the token service's */
	if (c->basic) {
		char *h = xasprintf("Authorization: Basic %s", c->basic);
		xfer_header(&x, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	int r = 0;
	for (unsigned attempt = 1;; attempt++) {
		perform_sync(&x);
		if (xfer_retryable(&x) && attempt <= c->retries) {
			sleep_ms(client_backoff_ms(c, &x, attempt));
			continue;
		}
		break;
	}
	char why[512];
	if (x.cc != CURLE_OK) {
		xfer_describe(&x, why, sizeof(why));
		r = oci_errf(err, -EIO, "%s: token service %s: %s", c->host, rhost, why);
	} else if (x.status == 401 || x.status == 403) {
		r = oci_errf(err, -EACCES, "%s: the token service %s refused %s (HTTP %ld)",
			     c->host, rhost, c->basic ? "the credentials" : "anonymous access",
			     x.status);
	} else if (x.status != 200) {
		xfer_describe(&x, why, sizeof(why));
		r = oci_errf(err, -EPROTO, "%s: token service %s: %s", c->host, rhost, why);
	} else if (x.body.len > TOKEN_REPLY_MAX) {
		r = oci_errf(err, -EPROTO, "%s: token service %s: reply too large", c->host, rhost);
	} else {
		char *token;
		int64_t expires;
		if (oci_parse_token(x.body.data, x.body.len, &token, &expires) < 0) {
			r = oci_errf(err, -EPROTO, "%s: token service %s: the reply holds no token",
				     c->host, rhost);
		} else {
			mask_add(c->mask, token, strlen(token));
			if (c->token) {
				explicit_bzero(c->token, strlen(c->token));
				free(c->token);
			}
			c->token = token;
			uint64_t life = (uint64_t)expires * 1000;
			c->token_expires =
				now_mono_ms() +
				(life > 2 * TOKEN_MARGIN_MS ? life - TOKEN_MARGIN_MS : life / 2);
			client_log(c, "%s: token from %s, valid %llds", c->host, rhost,
				   (long long)expires);
		}
	}
	if (x.body.data) {
		explicit_bzero(x.body.data, x.body.len);
	}
	xfer_release(&x);
	curl_easy_cleanup(easy);
	return r;
}

static void refresh_token_if_needed(struct oci_client *c)
{
	if (c->token && now_mono_ms() < c->token_expires) {
		return;
	}
	struct oci_err e = { { 0 } };
	if (fetch_token(c, &e) < 0) {
		client_log(c, "%s", e.msg);
	}
}

/* Take a challenge from a 401 as the session's way to authenticate. */
static int adopt_challenge(struct oci_client *c, const struct oci_challenge *ch,
			   struct oci_err *err)
{
	if (ch->scheme == OCI_AUTH_BASIC) {
		if (!c->basic) {
			return oci_errf(err, -EACCES,
					"%s: the registry asks for a user name and password (HTTP "
					"Basic); no credentials were given",
					c->host);
		}
		c->scheme = OCI_AUTH_BASIC;
		return 0;
	}
	c->scheme = OCI_AUTH_BEARER;
	c->challenge = *ch;
	return fetch_token(c, err);
}

int client_reauth(struct oci_client *c, const struct oci_xfer *x, struct oci_err *err)
{
	/* Only the registry's own answers say how to authenticate to it: a 401 from another
	 * host (where the registry sent an upload, or redirected a download) is not followed,
	 * or its challenge could name any token service, and the credentials would go there. */
	if (!x->url || !oci_url_same_origin(x->url, c->base)) {
		char origin[512] = "";
		if (x->url) {
			oci_url_origin(x->url, origin, sizeof(origin));
		}
		return oci_errf(err, -EACCES,
				"%s: HTTP 401 from %s, which is not the registry: its challenge is "
				"not followed and no credentials are offered there",
				c->host, origin[0] ? origin : "another host");
	}
	struct oci_challenge ch;
	bool have = x->h_auth && oci_parse_challenge(x->h_auth, strlen(x->h_auth), &ch) == 0;
	if (c->scheme == OCI_AUTH_BASIC) {
		return oci_errf(err, -EACCES, "%s: the registry refused the credentials (HTTP 401)",
				c->host);
	}
	if (c->scheme == OCI_AUTH_NONE) {
		if (!have) {
			return oci_errf(err, -EACCES,
					"%s: HTTP 401 without a usable WWW-Authenticate challenge",
					c->host);
		}
		return adopt_challenge(c, &ch, err);
	}
	/* Bearer: a fresh token, with any scope the registry says is missing. The realm of
	 * the ping stays: a reply cannot redirect the credentials elsewhere mid-session. */
	if (have && ch.scheme == OCI_AUTH_BEARER && ch.scope[0]) {
		char *scopes = xstrdup(ch.scope), *save = NULL;
		for (char *s = strtok_r(scopes, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
			if (scope_valid(s)) {
				add_scope(c, s);
			}
		}
		free(scopes);
	}
	return fetch_token(c, err);
}

/* ---------- opening a session ---------- */

char *client_url(const struct oci_client *c, const char *repo, const char *rest)
{
	return xasprintf("%s/v2/%s/%s", c->base, repo, rest);
}

static bool tls_level_failure(CURLcode cc)
{
	switch (cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return true; /* a refused connection is not: plain HTTP would be refused too */
	default:
		return false;
	}
}

static char *base64(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

int client_open(struct oci_client *c, const char *host, const char *const *scopes, size_t n_scopes,
		const struct oci_registry_opts *o, struct oci_err *err)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->mask = mask_new();
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->jobs = o->jobs ? MIN(o->jobs, (unsigned)OCI_JOBS_MAX) : 4;
	c->retries = o->retries == OCI_NO_RETRIES ? 0 : o->retries ? MIN(o->retries, 20u) : 4;
	c->backoff_ms = o->backoff_ms ? o->backoff_ms : 500;
	c->chunk = o->chunk_size ? o->chunk_size : (64ull << 20);
	c->stall_s = o->stall_timeout_s ? o->stall_timeout_s : 60;
	c->small_s = o->small_timeout_s ? o->small_timeout_s : SMALL_REQUEST_TIMEOUT;
	c->sync = curl_easy_init();
	c->multi = curl_multi_init();
	if (!c->sync || !c->multi) {
		return oci_errf(err, -ENOMEM, "cannot set up libcurl");
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->jobs);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->jobs);
	if (o->username) {
		const char *pw = o->password ? o->password : "";
		char *up = xasprintf("%s:%s", o->username, pw);
		c->basic = base64(up);
		mask_add(c->mask, up, strlen(up));
		explicit_bzero(up, strlen(up));
		free(up);
		if (strlen(pw) >= MASK_MIN_SECRET) {
			mask_add(c->mask, pw, strlen(pw));
		}
		mask_add(c->mask, c->basic, strlen(c->basic));
	}
	for (size_t i = 0; i < n_scopes; i++) {
		add_scope(c, scopes[i]);
	}
	c->http_allowed = host_http_allowed(c, host);
	const char *endpoint = oci_host_endpoint(host);

	/* HTTPS first; HTTP only where it is allowed and HTTPS failed below HTTP. */
	struct oci_xfer x;
	snprintf(c->base, sizeof(c->base), "https://%s", endpoint);
	_cleanup_free_ char *url = xasprintf("%s/v2/", c->base);
	xfer_init(&x, c, NULL, "GET", url);
	x.no_auth = true;
	perform_sync(&x);
	if (x.cc != CURLE_OK && c->http_allowed && tls_level_failure(x.cc)) {
		client_log(c, "%s: no HTTPS (%s); using plain HTTP", host,
			   x.errbuf[0] ? x.errbuf : curl_easy_strerror(x.cc));
		snprintf(c->base, sizeof(c->base), "http://%s", endpoint);
		xfer_release(&x);
		free(url);
		url = xasprintf("%s/v2/", c->base);
		xfer_init(&x, c, NULL, "GET", url);
		x.no_auth = true;
		perform_sync(&x);
	}
	if (xfer_retryable(&x)) {
		/* A registry that is starting up or briefly overloaded: the usual retries. */
		char what[OCI_NAME_MAX + 32];
		snprintf(what, sizeof(what), "%s: ping", host);
		int r = client_send(c, &x, what, err);
		if (r < 0) {
			xfer_release(&x);
			return oci_errf(err, r, "%s: cannot reach the registry", host);
		}
	}
	int r = 0;
	char why[512];
	if (x.cc != CURLE_OK) {
		xfer_describe(&x, why, sizeof(why));
		r = oci_errf(err, -EIO, "%s: cannot reach the registry: %s", host, why);
	} else if (x.status == 200) {
		c->scheme = OCI_AUTH_NONE;
	} else if (x.status == 401) {
		struct oci_challenge ch;
		int pr = x.h_auth ? oci_parse_challenge(x.h_auth, strlen(x.h_auth), &ch) : -ENOENT;
		if (pr < 0) {
			r = oci_errf(err, -EPROTO,
				     "%s: HTTP 401 without a usable WWW-Authenticate challenge",
				     host);
		} else {
			r = adopt_challenge(c, &ch, err);
			if (r == 0 && c->scheme == OCI_AUTH_BASIC) {
				/* Check the credentials now, so a typo fails before any upload. */
				x.no_auth = false;
				x.auth_retried = true;
				perform_sync(&x);
				if (x.cc != CURLE_OK || x.status != 200) {
					xfer_describe(&x, why, sizeof(why));
					r = oci_errf(
						err, x.status == 401 ? -EACCES : -EIO,
						"%s: the registry refused the credentials (%s)",
						host, why);
				}
			}
		}
	} else if (x.status == 404) {
		r = oci_errf(err, -EPROTO, "%s: not a registry (no /v2/ API; HTTP 404)", host);
	} else {
		xfer_describe(&x, why, sizeof(why));
		r = oci_errf(err, -EIO, "%s: the registry answered the ping with %s", host, why);
	}
	xfer_release(&x);
	if (r == 0) {
		client_log(c, "%s: %s, %s", host, c->base,
			   c->scheme == OCI_AUTH_NONE	 ? "anonymous"
			   : c->scheme == OCI_AUTH_BASIC ? "basic authentication"
							 : "token authentication");
	}
	return r;
}

void client_close(struct oci_client *c)
{
	if (c->sync) {
		curl_easy_cleanup(c->sync);
	}
	if (c->multi) {
		curl_multi_cleanup(c->multi);
	}
	if (c->basic) {
		explicit_bzero(c->basic, strlen(c->basic));
		free(c->basic);
	}
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	for (size_t i = 0; i < c->n_scopes; i++) {
		free(c->scopes[i]);
	}
	free(c->scopes);
	mask_free(c->mask);
	memset(c, 0, sizeof(*c));
}

int oci_parse_credentials(const char *value, char **user, char **password)
{
	const char *colon = value ? strchr(value, ':') : NULL;
	if (!colon || colon == value) {
		return -EINVAL;
	}
	*user = xstrndup(value, (size_t)(colon - value));
	*password = xstrdup(colon + 1);
	return 0;
}
