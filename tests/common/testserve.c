/*
 * testserve.c - helpers for the server tests (see testserve.h).
 */
#include "testserve.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double ts_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void ts_sleep(double s)
{
	struct timespec t = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&t, &t) < 0 && errno == EINTR) {
	}
}

static char *xfmt(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0) {
		abort();
	}
	return s;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = xfmt(f, ap);
	va_end(ap);
	return s;
}

/* ---------- server process ---------- */

static void spawn(struct ts_server *s)
{
	char *addr_file = fmt("%s/address", s->dir);
	unlink(addr_file);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* If the test process dies, so does its server. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) {
			_exit(127);
		}
		int log = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(null, 1);
		dup2(log, 2);
		execl(tu_runner(), tu_runner(), "serve", "--config", s->config, "--address-file",
		      addr_file, (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	double t0 = ts_now();
	for (;;) {
		char *a = tu_read(addr_file);
		if (a && *a) {
			a[strcspn(a, "\n")] = '\0';
			free(s->addr);
			s->addr = a;
			break;
		}
		free(a);
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			s->pid = 0;
			char *log = tu_read(s->log);
			cr_assert_fail("runner serve exited (status %d) before listening:\n%s", st,
				       log ? log : "");
		}
		if (ts_now() - t0 > 60) {
			cr_assert_fail("runner serve did not start listening within 60 s");
		}
		ts_sleep(0.01);
	}
	free(addr_file);
}

void ts_start(struct ts_server *s, const char *dir, const char *config)
{
	memset(s, 0, sizeof(*s));
	s->dir = strdup(dir);
	s->config = fmt("%s/server.yml", dir);
	s->log = fmt("%s/server.log", dir);
	int fd = open(s->config, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, config, strlen(config)), (ssize_t)strlen(config));
	close(fd);
	spawn(s);
}

void ts_restart(struct ts_server *s)
{
	cr_assert_eq(s->pid, 0, "the server is still running");
	spawn(s);
}

int ts_stop(struct ts_server *s, double timeout_s)
{
	if (s->pid <= 0) {
		return -1;
	}
	kill(s->pid, SIGTERM);
	double t0 = ts_now();
	int st = 0;
	for (;;) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);
		if (r == s->pid) {
			break;
		}
		if (ts_now() - t0 > timeout_s) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			break;
		}
		ts_sleep(0.01);
	}
	s->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void ts_kill(struct ts_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

void ts_release(struct ts_server *s)
{
	ts_kill(s);
	free(s->dir);
	free(s->config);
	free(s->addr);
	free(s->log);
	memset(s, 0, sizeof(*s));
}

/* ---------- HTTP client ---------- */

struct buf {
	char *p;
	size_t n;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, ptr, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *client_auth;

void ts_client_auth(const char *authorization)
{
	free(client_auth);
	client_auth = NULL;
	if (authorization && asprintf(&client_auth, "Authorization: %s", authorization) < 0) {
		abort();
	}
}

static struct ts_response request(const char *url, const char *const *headers, const char *body,
				  size_t len, bool post, struct buf *hb)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, curl_init_once);
	struct ts_response r = { 0 };
	struct buf b = { calloc(1, 1), 0 };
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	for (size_t i = 0; headers && headers[i]; i++) {
		h = curl_slist_append(h, headers[i]);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (hb) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, hb);
	}
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r.body = b.p;
	return r;
}

struct ts_response ts_post(const char *url, const char *const *headers, const char *body,
			   size_t len)
{
	return request(url, headers, body, len, true, NULL);
}

struct ts_response ts_get(const char *url)
{
	const char *h[] = { client_auth, NULL };
	return request(url, h, NULL, 0, false, NULL);
}

struct ts_response ts_get_with(const char *url, const char *const *headers, char **resp_headers)
{
	struct buf hb = { calloc(1, 1), 0 };
	struct ts_response r = request(url, headers, NULL, 0, false, &hb);
	if (resp_headers) {
		*resp_headers = hb.p;
	} else {
		free(hb.p);
	}
	return r;
}

void ts_response_free(struct ts_response *r)
{
	free(r->body);
	r->body = NULL;
}

static void hmac_hex(const char *secret, const char *body, size_t len, char out[65])
{
	unsigned char mac[32];
	unsigned int n = sizeof(mac);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &n);
	for (unsigned i = 0; i < 32; i++) {
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	}
}

struct ts_response ts_deliver(const char *addr, const char *forge, const char *event,
			      const char *delivery, const char *secret, const char *body)
{
	char *url = fmt("http://%s/hooks/%s", addr, forge);
	char *h[6] = { 0 };
	size_t n = 0;
	char mac[65];
	h[n++] = strdup("Content-Type: application/json");
	/* forge may be followed by /<repository> (the per-repository URL). */
	if (strncmp(forge, "github", 6) == 0) {
		h[n++] = fmt("X-GitHub-Event: %s", event);
		h[n++] = fmt("X-GitHub-Delivery: %s", delivery);
		if (secret) {
			hmac_hex(secret, body, strlen(body), mac);
			h[n++] = fmt("X-Hub-Signature-256: sha256=%s", mac);
		}
	} else if (strncmp(forge, "gitea", 5) == 0) {
		h[n++] = fmt("X-Gitea-Event: %s", event);
		h[n++] = fmt("X-Gitea-Delivery: %s", delivery);
		if (secret) {
			hmac_hex(secret, body, strlen(body), mac);
			h[n++] = fmt("X-Gitea-Signature: %s", mac);
		}
	} else {
		h[n++] = fmt("X-Gitlab-Event: %s", event);
		h[n++] = fmt("X-Gitlab-Webhook-UUID: %s", delivery);
		if (secret) {
			h[n++] = fmt("X-Gitlab-Token: %s", secret);
		}
	}
	struct ts_response r = ts_post(url, (const char *const *)h, body, strlen(body));
	for (size_t i = 0; i < n; i++) {
		free(h[i]);
	}
	free(url);
	return r;
}

json_t *ts_run(const char *addr, long id)
{
	char *url = fmt("http://%s/api/runs/%ld", addr, id);
	struct ts_response r = ts_get(url);
	free(url);
	json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
	ts_response_free(&r);
	return j;
}

json_t *ts_wait_run(const char *addr, long id, double timeout_s)
{
	double t0 = ts_now();
	for (;;) {
		json_t *j = ts_run(addr, id);
		const char *st = json_string_value(json_object_get(j, "state"));
		if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0) {
			return j;
		}
		if (ts_now() - t0 > timeout_s) {
			return j;
		}
		json_decref(j);
		ts_sleep(0.05);
	}
}

/* ---------- payloads ---------- */

json_t *ts_payload(const char *rel)
{
	char *p = fmt("webhooks/%s", rel);
	char *path = tu_fixture(p);
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	cr_assert_not_null(j, "%s: %s", path, err.text);
	free(p);
	free(path);
	return j;
}

void ts_set(json_t *root, const char *path, const char *value)
{
	char *copy = strdup(path);
	json_t *o = root;
	char *save = NULL;
	char *tok = strtok_r(copy, ".", &save);
	while (tok) {
		char *next = strtok_r(NULL, ".", &save);
		if (!next) {
			json_object_set_new(o, tok, json_string(value));
			break;
		}
		json_t *child = json_object_get(o, tok);
		if (!json_is_object(child)) {
			child = json_object();
			json_object_set_new(o, tok, child);
		}
		o = child;
		tok = next;
	}
	free(copy);
}

char *ts_dump(json_t *root)
{
	return json_dumps(root, JSON_COMPACT);
}

/* ---------- git ---------- */

void ts_sh(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *cmd = xfmt(f, ap);
	va_end(ap);
	int r = system(cmd);
	cr_assert_eq(r, 0, "command failed (%d): %s", r, cmd);
	free(cmd);
}

char *ts_sh_out(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *cmd = xfmt(f, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *out = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&out, &cap, '\0', p);
	int r = pclose(p);
	cr_assert_eq(r, 0, "command failed: %s", cmd);
	if (n < 0) {
		free(out);
		out = strdup("");
	}
	out[strcspn(out, "\n")] = '\0';
	free(cmd);
	return out;
}

#define GIT "git -c user.email=test@example.com -c user.name=test -c init.defaultBranch=main"

char *ts_git_init(const char *path, const char *pipeline)
{
	ts_sh(GIT " init -q '%s'", path);
	return ts_git_commit(path, ".runner.yml", pipeline);
}

char *ts_git_commit(const char *repo, const char *file, const char *content)
{
	tu_write(repo, file, content);
	ts_sh(GIT " -C '%s' add -A && " GIT " -C '%s' commit -q --allow-empty -m 'change %s'", repo,
	      repo, file);
	return ts_sh_out("git -C '%s' rev-parse HEAD", repo);
}

/* ---------- recording server ---------- */

struct ts_recorder {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	json_t *requests;
	unsigned fail_first;
	char url[64];
};

struct rec_req {
	char *body;
	size_t n;
};

static enum MHD_Result rec_handler(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct ts_recorder *r = cls;
	struct rec_req *q = *con_cls;
	(void)version;
	if (!q) {
		*con_cls = calloc(1, sizeof(struct rec_req));
		return MHD_YES;
	}
	if (*upload_size) {
		q->body = realloc(q->body, q->n + *upload_size + 1);
		memcpy(q->body + q->n, upload, *upload_size);
		q->n += *upload_size;
		q->body[q->n] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "PRIVATE-TOKEN");
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	pthread_mutex_lock(&r->mu);
	size_t i = json_array_size(r->requests);
	json_array_append_new(r->requests,
			      json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "method", method,
					"url", url, "body", q->body ? q->body : "", "authorization",
					auth, "private_token", tok, "content_type", ct));
	pthread_mutex_unlock(&r->mu);
	unsigned code = i < r->fail_first ? 500 : 201;
	const char *msg = code == 500 ? "{\"message\":\"try again\"}" : "{}";
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void rec_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		     enum MHD_RequestTerminationCode toe)
{
	struct rec_req *q = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (q) {
		free(q->body);
		free(q);
	}
}

/* Keep the URL as it was sent (%2F stays %2F): the test checks what a forge would get. */
static size_t raw_url(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

struct ts_recorder *ts_recorder_start(unsigned fail_first)
{
	struct ts_recorder *r = calloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->requests = json_array();
	r->fail_first = fail_first;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0,
		NULL, NULL, rec_handler, r, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
		rec_done, r, MHD_OPTION_UNESCAPE_CALLBACK, raw_url, NULL, MHD_OPTION_END);
	cr_assert_not_null(r->d, "cannot start the recording server");
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%u", (unsigned)info->port);
	return r;
}

const char *ts_recorder_url(struct ts_recorder *r)
{
	return r->url;
}

size_t ts_recorder_count(struct ts_recorder *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = json_array_size(r->requests);
	pthread_mutex_unlock(&r->mu);
	return n;
}

json_t *ts_recorder_get(struct ts_recorder *r, size_t i)
{
	pthread_mutex_lock(&r->mu);
	json_t *j = json_deep_copy(json_array_get(r->requests, i));
	pthread_mutex_unlock(&r->mu);
	return j;
}

size_t ts_recorder_wait(struct ts_recorder *r, size_t n, double timeout_s)
{
	double t0 = ts_now();
	size_t c;
	while ((c = ts_recorder_count(r)) < n && ts_now() - t0 < timeout_s) {
		ts_sleep(0.02);
	}
	return c;
}

void ts_recorder_stop(struct ts_recorder *r)
{
	if (!r) {
		return;
	}
	MHD_stop_daemon(r->d);
	json_decref(r->requests);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
