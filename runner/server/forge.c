/*
 * forge.c - commit status requests and the HTTP POST that sends them (libcurl).
 *
 * Responses are read into a small capped buffer and discarded: nothing a forge answers
 * changes what the runner does, except whether the call counts as delivered.
 */
#include "forge.h"

#include "sbuf.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>

#include "banned.h"

#define DESCRIPTION_MAX 140 /* GitHub's limit */
#define RESPONSE_MAX	(64u << 10)

static char *url_encode_path(const char *s)
{
	struct sbuf sb;
	sbuf_init(&sb, 4096);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.') {
			sbuf_putc(&sb, (char)*p);
		} else {
			sbuf_printf(&sb, "%%%02X", *p);
		}
	}
	return sbuf_steal(&sb);
}

static char *trim_slash(const char *s)
{
	char *t = xstrdup(s);
	size_t n = strlen(t);
	while (n > 0 && t[n - 1] == '/') {
		t[--n] = '\0';
	}
	return t;
}

static const char *gitlab_state(const char *state, const char *description)
{
	if (str_eq(state, "pending")) {
		return str_eq(description, "running") ? "running" : "pending";
	}
	if (str_eq(state, "success")) {
		return "success";
	}
	if (str_eq(state, "error") && str_has_prefix(description, "cancelled")) {
		return "canceled";
	}
	return "failed";
}

/* Cut to at most max bytes on a UTF-8 character boundary. */
static char *cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
			n--;
		}
	}
	return utf8_sanitize(s, n);
}

int forge_status_request(const struct repo_config *r, const char *sha, const char *state,
			 const char *description, const char *target_url, struct forge_request *out)
{
	memset(out, 0, sizeof(*out));
	if (str_empty(r->api_token) || str_empty(r->api_url)) {
		return -ENOENT;
	}
	_cleanup_free_ char *base = trim_slash(r->api_url);
	_cleanup_free_ char *desc = cut_utf8(description ? description : "", DESCRIPTION_MAX);
	json_t *body = json_object();
	switch (r->forge) {
	case FORGE_GITHUB:
		out->url = xasprintf("%s/repos/%s/statuses/%s", base, r->name, sha);
		out->headers[0] = xasprintf("Authorization: Bearer %s", r->api_token);
		out->headers[1] = xstrdup("Accept: application/vnd.github+json");
		json_object_set_new(body, "state", json_string(state));
		json_object_set_new(body, "context", json_string(r->status_context));
		break;
	case FORGE_GITEA:
		out->url = xasprintf("%s/api/v1/repos/%s/statuses/%s", base, r->name, sha);
		out->headers[0] = xasprintf("Authorization: token %s", r->api_token);
		out->headers[1] = xstrdup("Accept: application/json");
		json_object_set_new(body, "state", json_string(state));
		json_object_set_new(body, "context", json_string(r->status_context));
		break;
	case FORGE_GITLAB: {
		_cleanup_free_ char *proj = url_encode_path(r->name);
		out->url = xasprintf("%s/api/v4/projects/%s/statuses/%s", base, proj, sha);
		out->headers[0] = xasprintf("PRIVATE-TOKEN: %s", r->api_token);
		out->headers[1] = xstrdup("Accept: application/json");
		json_object_set_new(body, "state", json_string(gitlab_state(state, description)));
		json_object_set_new(body, "name", json_string(r->status_context));
		break;
	}
	}
	out->headers[2] = xstrdup("Content-Type: application/json");
	out->headers[3] = xstrdup("User-Agent: runner/" RUNNER_VERSION);
	json_object_set_new(body, "description", json_string(desc));
	if (target_url) {
		json_object_set_new(body, "target_url", json_string(target_url));
	}
	out->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return 0;
}

void forge_json_request(const char *url, const char *body, struct forge_request *out)
{
	memset(out, 0, sizeof(*out));
	out->url = xstrdup(url);
	out->body = xstrdup(body);
	out->headers[0] = xstrdup("Content-Type: application/json");
	out->headers[1] = xstrdup("User-Agent: runner/" RUNNER_VERSION);
}

void forge_request_release(struct forge_request *req)
{
	free(req->url);
	if (req->body) {
		free(req->body);
	}
	for (size_t i = 0; i < FORGE_MAX_HEADERS; i++) {
		if (req->headers[i]) {
			/* Headers carry tokens. */
			explicit_bzero(req->headers[i], strlen(req->headers[i]));
			free(req->headers[i]);
		}
	}
	memset(req, 0, sizeof(*req));
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sbuf *sb = ud;
	size_t n = size * nmemb;
	if (sb->len + n <= sb->max) {
		sbuf_append(sb, ptr, n);
	}
	return n;
}

/* libcurl's progress callback: non-zero aborts the transfer. */
static int abort_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		    curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((const atomic_bool *)ud) ? 1 : 0;
}

int forge_send(const struct forge_request *req, uint64_t timeout_ms, char *err, size_t errsize)
{
	return forge_send_until(req, timeout_ms, NULL, err, errsize);
}

int forge_send_until(const struct forge_request *req, uint64_t timeout_ms, const atomic_bool *abort,
		     char *err, size_t errsize)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct sbuf resp;
	if (!c) {
		return errf(err, errsize, -ENOMEM, "cannot initialise libcurl");
	}
	sbuf_init(&resp, RESPONSE_MAX);
	for (size_t i = 0; i < FORGE_MAX_HEADERS && req->headers[i]; i++) {
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MIN(timeout_ms, 10000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	if (abort) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_cb);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)abort);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	CURLcode rc = curl_easy_perform(c);
	/* The final status (1xx are not): once it came, the forge has taken the call, whatever
	 * happens to the rest of its answer. A call stopped or cut after it is not sent again
	 * (a status twice, a security notification twice): only one with no answer is not
	 * sent. */
	long code = 0;
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code < 200 ||
	    code > 999) {
		code = 0;
	}
	int ret;
	if (code > 0) {
		errf(err, errsize, 0, "HTTP %ld", code);
		ret = (int)code;
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		ret = errf(err, errsize, -ECANCELED, "stopped: the server is shutting down");
	} else if (rc != CURLE_OK) {
		errf(err, errsize, 0, "%s", curl_easy_strerror(rc));
		ret = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	} else {
		ret = errf(err, errsize, -EPROTO, "no final answer");
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	sbuf_release(&resp);
	return ret;
}
