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
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

size_t ts_log_count(const struct ts_server *s, const char *needle)
{
	char *log = tu_read(s->log);
	size_t n = 0;
	for (const char *p = log ? log : ""; (p = strstr(p, needle)); p += strlen(needle)) {
		n++;
	}
	free(log);
	return n;
}

void ts_wait_log(const struct ts_server *s, const char *needle, size_t n, double timeout_s)
{
	double t0 = ts_now();
	while (ts_log_count(s, needle) < n) {
		if (ts_now() - t0 > timeout_s) {
			char *log = tu_read(s->log);
			cr_assert_fail("%zu x '%s' not in the log: %s", n, needle, log ? log : "");
		}
		ts_sleep(0.05);
	}
	cr_assert_eq(ts_log_count(s, needle), n, "'%s'", needle);
}

void ts_reload(struct ts_server *s, const char *config)
{
	/* Written aside and renamed over, as an editor or a configuration tool would: the
	 * server never reads half a file. */
	char *tmp = fmt("%s.new", s->config);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, config, strlen(config)), (ssize_t)strlen(config));
	close(fd);
	cr_assert_eq(rename(tmp, s->config), 0);
	free(tmp);
	cr_assert_gt(s->pid, 0, "the server is not running");
	cr_assert_eq(kill(s->pid, SIGHUP), 0);
}

void ts_restart(struct ts_server *s)
{
	cr_assert_eq(s->pid, 0, "the server is still running");
	spawn(s);
}

int ts_stop(struct ts_server *s, double timeout_s)
{
	return ts_stop_with(s, SIGTERM, timeout_s);
}

int ts_stop_with(struct ts_server *s, int sig, double timeout_s)
{
	if (s->pid <= 0) {
		return -1;
	}
	kill(s->pid, sig);
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
	pthread_cond_t released;
	json_t *requests;
	unsigned fail_first;
	bool hold; /* under mu: requests are recorded and not answered */
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
	while (r->hold) {
		pthread_cond_wait(&r->released, &r->mu);
	}
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
	pthread_cond_init(&r->released, NULL);
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

void ts_recorder_hold(struct ts_recorder *r, bool hold)
{
	pthread_mutex_lock(&r->mu);
	r->hold = hold;
	pthread_cond_broadcast(&r->released);
	pthread_mutex_unlock(&r->mu);
}

void ts_recorder_stop(struct ts_recorder *r)
{
	if (!r) {
		return;
	}
	ts_recorder_hold(r, false);
	MHD_stop_daemon(r->d);
	json_decref(r->requests);
	pthread_cond_destroy(&r->released);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* ---------- a server that answers and holds the end of its answer ---------- */

#define HALFANS_MAX_HELD 16

struct ts_halfans {
	int lfd;
	unsigned code;
	size_t body; /* bytes of the body sent before the hold */
	pthread_t thread;
	pthread_mutex_t mu;
	unsigned requests, held; /* under mu */
	int fds[HALFANS_MAX_HELD];
	size_t nfds;
	char url[64];
};

/* Number which (from 0) of a /proc/sys file of numbers (0: not readable). */
static size_t proc_number(const char *path, int which)
{
	size_t v[3] = { 0 };
	FILE *f = fopen(path, "re");
	if (!f) {
		return 0;
	}
	int n = fscanf(f, "%zu %zu %zu", &v[0], &v[1], &v[2]);
	fclose(f);
	return n > which ? v[which] : 0;
}

static size_t zmin(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Read a request: its headers and a Content-Length body. Returns false on a short read. */
static bool halfans_read_request(int fd)
{
	char buf[65536];
	size_t n = 0;
	char *end = NULL;
	while (!end) {
		if (n == sizeof(buf) - 1) {
			return false;
		}
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0) {
			return false;
		}
		n += (size_t)r;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	size_t want = 0;
	for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, "Content-Length:", 15) == 0) {
			want = strtoul(l + 2 + 15, NULL, 10);
		}
	}
	size_t have = n - (size_t)(end + 4 - buf);
	while (have < want) {
		ssize_t r = read(fd, buf, zmin(sizeof(buf), want - have));
		if (r <= 0) {
			return false;
		}
		have += (size_t)r;
	}
	return true;
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *halfans_loop(void *arg)
{
	struct ts_halfans *h = arg;
	static char chunk[65536];
	memset(chunk, 'x', sizeof(chunk));
	for (;;) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			return NULL; /* shut down by ts_halfans_stop */
		}
		bool ok = halfans_read_request(fd);
		pthread_mutex_lock(&h->mu);
		h->requests += ok;
		bool room = h->nfds < HALFANS_MAX_HELD;
		if (room) {
			h->fds[h->nfds++] = fd;
		}
		pthread_mutex_unlock(&h->mu);
		if (!room) {
			close(fd);
			continue;
		}
		if (!ok) {
			continue;
		}
		/* A small send buffer: what is written past the client's receive buffer and
		 * this one, the client has read, from the first byte (the status line) on. */
		int small = 4096;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		char head[160];
		int hn = snprintf(head, sizeof(head),
				  "HTTP/1.1 %u Created\r\nContent-Type: text/plain\r\n"
				  "Content-Length: %zu\r\n\r\n",
				  h->code, h->body + 1);
		ok = send_all(fd, head, (size_t)hn);
		for (size_t sent = 0; ok && sent < h->body; sent += sizeof(chunk)) {
			ok = send_all(fd, chunk, zmin(sizeof(chunk), h->body - sent));
		}
		pthread_mutex_lock(&h->mu);
		h->held += ok;
		pthread_mutex_unlock(&h->mu);
	}
}

struct ts_halfans *ts_halfans_start(unsigned code)
{
	struct ts_halfans *h = calloc(1, sizeof(*h));
	cr_assert_not_null(h);
	h->code = code;
	pthread_mutex_init(&h->mu, NULL);
	/* More than the largest receive buffer a client's socket can have (the kernel's
	 * autotuning bound, or a buffer set by the client), and a margin. */
	size_t rcv = proc_number("/proc/sys/net/ipv4/tcp_rmem", 2);
	size_t set = 2 * proc_number("/proc/sys/net/core/rmem_max", 0);
	rcv = rcv > set ? rcv : set;
	h->body = (rcv ? rcv : (size_t)64 << 20) + ((size_t)8 << 20);
	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(h->lfd, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	cr_assert_eq(bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(h->lfd, 16), 0);
	cr_assert_eq(getsockname(h->lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	cr_assert_eq(pthread_create(&h->thread, NULL, halfans_loop, h), 0);
	return h;
}

const char *ts_halfans_url(struct ts_halfans *h)
{
	return h->url;
}

unsigned ts_halfans_requests(struct ts_halfans *h)
{
	pthread_mutex_lock(&h->mu);
	unsigned n = h->requests;
	pthread_mutex_unlock(&h->mu);
	return n;
}

unsigned ts_halfans_wait_held(struct ts_halfans *h, unsigned n, double timeout_s)
{
	double t0 = ts_now();
	unsigned c;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		c = h->held;
		pthread_mutex_unlock(&h->mu);
		if (c >= n || ts_now() - t0 >= timeout_s) {
			return c;
		}
		ts_sleep(0.02);
	}
}

void ts_halfans_stop(struct ts_halfans *h)
{
	if (!h) {
		return;
	}
	/* Wakes the accept (EINVAL). A connection being answered ends when its client goes. */
	shutdown(h->lfd, SHUT_RDWR);
	pthread_join(h->thread, NULL);
	close(h->lfd);
	for (size_t i = 0; i < h->nfds; i++) {
		close(h->fds[i]);
	}
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* ---------- git smart HTTP (git http-backend behind HTTP basic authentication) ---------- */

struct cgi_body {
	char *p;
	size_t n;
};

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	char *q = cls;
	(void)kind;
	size_t n = strlen(q);
	snprintf(q + n, 512 - n, "%s%s=%s", n ? "&" : "", key, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result respond_raw(struct MHD_Connection *c, unsigned code, const char *body,
				   size_t len, char **headers, size_t nh)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	for (size_t i = 0; i < nh; i++) {
		char *colon = strchr(headers[i], ':');
		if (colon) {
			*colon = '\0';
			const char *v = colon + 1;
			while (*v == ' ') {
				v++;
			}
			MHD_add_response_header(r, headers[i], v);
		}
	}
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Run git http-backend for one request (CGI), and relay its answer. */
static enum MHD_Result cgi(struct ts_githttp *g, struct MHD_Connection *c, const char *url,
			   const char *method, struct cgi_body *b)
{
	char query[512] = "";
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_query, query);
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
	char in_path[] = "/tmp/runner-cgi-in-XXXXXX";
	int in = mkstemp(in_path);
	cr_assert_geq(in, 0);
	unlink(in_path);
	if (b->n) {
		cr_assert_eq(write(in, b->p, b->n), (ssize_t)b->n);
	}
	lseek(in, 0, SEEK_SET);
	int out[2];
	cr_assert_eq(pipe(out), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in, 0);
		dup2(out[1], 1);
		char len[32];
		snprintf(len, sizeof(len), "%zu", b->n);
		setenv("GIT_PROJECT_ROOT", g->root, 1);
		setenv("GIT_HTTP_EXPORT_ALL", "1", 1);
		setenv("REQUEST_METHOD", method, 1);
		setenv("PATH_INFO", url, 1);
		setenv("QUERY_STRING", query, 1);
		setenv("CONTENT_LENGTH", len, 1);
		setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
		setenv("SERVER_PROTOCOL", "HTTP/1.1", 1);
		setenv("REMOTE_USER", "runner", 1);
		setenv("REMOTE_ADDR", "127.0.0.1", 1);
		if (ct) {
			setenv("CONTENT_TYPE", ct, 1);
		}
		if (ce) {
			setenv("HTTP_CONTENT_ENCODING", ce, 1);
		}
		execl("/usr/lib/git-core/git-http-backend", "git-http-backend", (char *)NULL);
		_exit(127);
	}
	close(in);
	close(out[1]);
	struct cgi_body o = { NULL, 0 };
	char buf[65536];
	ssize_t r;
	while ((r = read(out[0], buf, sizeof(buf))) > 0) {
		o.p = realloc(o.p, o.n + (size_t)r + 1);
		memcpy(o.p + o.n, buf, (size_t)r);
		o.n += (size_t)r;
	}
	close(out[0]);
	waitpid(pid, NULL, 0);
	/* Split CGI headers from the body. */
	unsigned code = 200;
	char *headers[16];
	size_t nh = 0;
	size_t pos = 0;
	while (o.p && pos < o.n) {
		char *eol = memchr(o.p + pos, '\n', o.n - pos);
		if (!eol) {
			break;
		}
		size_t l = (size_t)(eol - (o.p + pos));
		if (l > 0 && o.p[pos + l - 1] == '\r') {
			o.p[pos + l - 1] = '\0';
			l--;
		}
		*eol = '\0';
		char *line = o.p + pos;
		pos = (size_t)(eol - o.p) + 1;
		if (l == 0) {
			break;
		}
		if (strncasecmp(line, "Status:", 7) == 0) {
			code = (unsigned)strtoul(line + 7, NULL, 10);
		} else if (strncasecmp(line, "Content-Length:", 15) == 0) {
			continue; /* MHD sets it from the body */
		} else if (nh < 16) {
			headers[nh++] = line;
		}
	}
	enum MHD_Result ret =
		respond_raw(c, code, o.p ? o.p + pos : "", o.p ? o.n - pos : 0, headers, nh);
	free(o.p);
	return ret;
}

static enum MHD_Result on_git(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct ts_githttp *g = cls;
	struct cgi_body *b = *con_cls;
	(void)version;
	if (!b) {
		*con_cls = calloc(1, sizeof(struct cgi_body));
		return MHD_YES;
	}
	if (*upload_size) {
		b->p = realloc(b->p, b->n + *upload_size);
		memcpy(b->p + b->n, upload, *upload_size);
		b->n += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	pthread_mutex_lock(&g->mu);
	g->requests++;
	bool ok = auth && strcmp(auth, g->auth) == 0;
	g->refused += !ok;
	pthread_mutex_unlock(&g->mu);
	if (!ok) {
		/* With a content type, as forges send it: libgit2 1.5 misreads the next
		 * response on the connection after a 401 body without one. */
		char *h[] = { strdup("WWW-Authenticate: Basic realm=\"git\""),
			      strdup("Content-Type: text/plain") };
		enum MHD_Result r = respond_raw(c, 401, "authentication required\n", 24, h, 2);
		free(h[0]);
		free(h[1]);
		return r;
	}
	return cgi(g, c, url, method, b);
}

static void on_git_done(void *cls, struct MHD_Connection *c, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct cgi_body *b = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (b) {
		free(b->p);
		free(b);
	}
}

struct ts_githttp *ts_githttp_start(const char *root, const char *user, const char *token)
{
	struct ts_githttp *g = calloc(1, sizeof(*g));
	g->root = strdup(root);
	pthread_mutex_init(&g->mu, NULL);
	char cred[200];
	unsigned char b64[300];
	snprintf(cred, sizeof(cred), "%s:%s", user, token);
	EVP_EncodeBlock(b64, (const unsigned char *)cred, (int)strlen(cred));
	snprintf(g->auth, sizeof(g->auth), "Basic %s", b64);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
					MHD_USE_POLL,
				0, NULL, NULL, on_git, g, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_git_done, g, MHD_OPTION_END);
	cr_assert_not_null(g->d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(g->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(g->url, sizeof(g->url), "http://127.0.0.1:%u/repo.git", (unsigned)info->port);
	return g;
}

void ts_githttp_stop(struct ts_githttp *g)
{
	MHD_stop_daemon(g->d);
	free(g->root);
	free(g);
}
