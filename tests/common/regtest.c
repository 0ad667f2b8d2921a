/*
 * regtest.c - a real registry and the small HTTP stand-ins around it (see regtest.h).
 */
#include "regtest.h"

#include "testutil.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("registry helper: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---------- docker-registry ---------- */

static void write_config(struct tr_registry *r, const char *realm)
{
	char *path, *auth = NULL;
	switch (r->auth) {
	case TR_ANON:
		auth = strdup("");
		break;
	case TR_BASIC:
		if (asprintf(&auth,
			     "auth:\n  htpasswd:\n    realm: runner-test\n    path: %s/htpasswd\n",
			     r->dir) < 0) {
			die("asprintf");
		}
		break;
	case TR_TOKEN:
		if (asprintf(&auth,
			     "auth:\n  silly:\n    realm: %s\n    service: runner-test-registry\n",
			     realm) < 0) {
			die("asprintf");
		}
		break;
	}
	char *cfg;
	if (asprintf(&cfg,
		     "version: 0.1\n"
		     "log:\n  level: info\n  accesslog:\n    disabled: true\n"
		     "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
		     "  delete:\n    enabled: true\n"
		     "  maintenance:\n    uploadpurging:\n      enabled: false\n"
		     "http:\n  addr: 127.0.0.1:0\n  secret: runner-test-secret\n"
		     "%s",
		     r->dir, auth) < 0 ||
	    asprintf(&path, "%s/config.yml", r->dir) < 0) {
		die("asprintf");
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		die("%s: %s", path, strerror(errno));
	}
	fputs(cfg, f);
	fclose(f);
	free(cfg);
	free(auth);
	free(path);
}

static void launch(struct tr_registry *r)
{
	char *cfg, *log;
	if (asprintf(&cfg, "%s/config.yml", r->dir) < 0 ||
	    asprintf(&log, "%s/registry.log", r->dir) < 0) {
		die("asprintf");
	}
	unlink(log);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		die("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) {
			_exit(1);
		}
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0) {
			_exit(127);
		}
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/bin/docker-registry", "docker-registry", "serve", cfg, (char *)NULL);
		_exit(127);
	}
	r->pid = pid;
	/* It says where it listens once it does. */
	for (int i = 0; i < 200; i++) {
		char *text = tu_read(log);
		const char *at = text ? strstr(text, "listening on ") : NULL;
		if (at) {
			sscanf(at + 13, "%63[0-9.:]", r->addr);
			free(text);
			if (r->addr[0]) {
				break;
			}
		}
		free(text);
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char *t = tu_read(log);
			r->pid = 0;
			die("docker-registry exited at start:\n%s", t ? t : "");
		}
		sleep_ms(50);
	}
	if (!r->addr[0]) {
		die("docker-registry did not start listening within 10 s");
	}
	free(cfg);
	free(log);
}

void tr_registry_start(struct tr_registry *r, enum tr_auth auth, const char *user, const char *pass,
		       const char *realm)
{
	memset(r, 0, sizeof(*r));
	r->auth = auth;
	r->dir = tu_tmpdir();
	char *data;
	if (asprintf(&data, "%s/data", r->dir) < 0) {
		die("asprintf");
	}
	mkdir(data, 0755);
	free(data);
	if (auth == TR_BASIC) {
		/* htpasswd -Bbn user pass > dir/htpasswd */
		const char *argv[] = { "/usr/bin/htpasswd", "-Bbn", user, pass, NULL };
		struct tu_result res = tu_run(NULL, argv, NULL, 30);
		if (res.status != 0) {
			die("htpasswd failed (%d): %s", res.status, res.err);
		}
		tu_write(r->dir, "htpasswd", res.out);
		tu_result_free(&res);
	}
	write_config(r, realm);
	launch(r);
}

void tr_registry_kill(struct tr_registry *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

void tr_registry_restart(struct tr_registry *r)
{
	tr_registry_kill(r);
	r->addr[0] = '\0';
	launch(r);
}

void tr_registry_stop(struct tr_registry *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
				r->pid = 0;
				break;
			}
			sleep_ms(20);
		}
		tr_registry_kill(r);
	}
	if (r->dir) {
		tu_rmdir(r->dir);
		free(r->dir);
		r->dir = NULL;
	}
}

/* ---------- token endpoint ---------- */

static enum MHD_Result token_handler(void *cls, struct MHD_Connection *c, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_size, void **ctx)
{
	struct tr_token_server *t = cls;
	(void)version;
	(void)upload_data;
	(void)upload_size;
	if (!*ctx) {
		*ctx = (void *)1;
		return MHD_YES;
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *service = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");
	const char *scope = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "scope");
	pthread_mutex_lock(&t->lock);
	t->requests++;
	snprintf(t->last_query, sizeof(t->last_query), "service=%s scope=%s",
		 service ? service : "", scope ? scope : "");
	snprintf(t->last_auth, sizeof(t->last_auth), "%s", auth ? auth : "");
	pthread_mutex_unlock(&t->lock);
	unsigned code = 200;
	char body[512];
	if (strcmp(method, "GET") != 0 || strcmp(url, "/token") != 0) {
		code = 404;
		snprintf(body, sizeof(body), "{}");
	} else if (t->need_basic && (!auth || strcmp(auth, t->need_basic) != 0)) {
		code = 401;
		snprintf(body, sizeof(body), "{\"details\":\"bad credentials\"}");
	} else if (t->garbage) {
		snprintf(body, sizeof(body), "<html>\x01\x02 not json {{{");
	} else {
		snprintf(body, sizeof(body), "{\"token\":\"%s\",\"expires_in\":%d}", t->token,
			 t->expires_in);
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result r = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return r;
}

static int daemon_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	return info ? (int)info->port : 0;
}

void tr_token_start(struct tr_token_server *t, const char *token)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->token = token;
	t->expires_in = 300;
	t->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
				NULL, NULL, token_handler, t, MHD_OPTION_SOCK_ADDR,
				&(struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
				MHD_OPTION_END);
	if (!t->d) {
		die("cannot start the token endpoint");
	}
	t->port = daemon_port(t->d);
	snprintf(t->realm, sizeof(t->realm), "http://127.0.0.1:%d/token", t->port);
}

void tr_token_stop(struct tr_token_server *t)
{
	if (t->d) {
		MHD_stop_daemon(t->d);
		t->d = NULL;
	}
}

/* ---------- fault proxy ---------- */

struct preq {
	char *uri;
	char *body;
	size_t len, cap;
	bool started;
};

struct fwd {
	long status;
	char *body;
	size_t len;
	struct curl_slist *headers; /* "Name: value" of the response */
	CURLcode cc;
};

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	struct preq *r = calloc(1, sizeof(*r));
	r->uri = strdup(uri);
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **ctx,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct preq *r = *ctx;
	if (r) {
		free(r->uri);
		free(r->body);
		free(r);
		*ctx = NULL;
	}
}

static size_t fwd_body(char *d, size_t s, size_t n, void *ud)
{
	struct fwd *f = ud;
	f->body = realloc(f->body, f->len + s * n + 1);
	memcpy(f->body + f->len, d, s * n);
	f->len += s * n;
	return s * n;
}

static size_t fwd_header(char *d, size_t s, size_t n, void *ud)
{
	struct fwd *f = ud;
	size_t len = s * n;
	if (len >= 5 && memcmp(d, "HTTP/", 5) == 0) {
		curl_slist_free_all(f->headers);
		f->headers = NULL;
		return len;
	}
	char *line = strndup(d, len);
	size_t l = strlen(line);
	while (l && (line[l - 1] == '\r' || line[l - 1] == '\n')) {
		line[--l] = '\0';
	}
	if (l && strchr(line, ':')) {
		f->headers = curl_slist_append(f->headers, line);
	}
	free(line);
	return len;
}

struct hdr_ctx {
	struct curl_slist *list;
};

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct hdr_ctx *h = cls;
	(void)kind;
	static const char *const skip[] = { "Content-Length", "Transfer-Encoding", "Connection",
					    "Expect", "Accept-Encoding" };
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		if (strcasecmp(key, skip[i]) == 0) {
			return MHD_YES;
		}
	}
	char *line;
	if (asprintf(&line, "%s: %s", key, value ? value : "") >= 0) {
		h->list = curl_slist_append(h->list, line);
		free(line);
	}
	return MHD_YES;
}

static void forward(struct tr_proxy *p, struct MHD_Connection *c, const char *method,
		    struct preq *r, struct fwd *f)
{
	char url[2048];
	pthread_mutex_lock(&p->lock);
	snprintf(url, sizeof(url), "http://%s%s", p->upstream->addr, r->uri);
	pthread_mutex_unlock(&p->lock);
	CURL *e = curl_easy_init();
	struct hdr_ctx h = { NULL };
	MHD_get_connection_values(c, MHD_HEADER_KIND, copy_header, &h);
	h.list = curl_slist_append(h.list, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h.list);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fwd_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fwd_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "DELETE") != 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
		}
	}
	f->cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_cleanup(e);
	curl_slist_free_all(h.list);
}

static enum MHD_Result proxy_handler(void *cls, struct MHD_Connection *c, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_size, void **ctx)
{
	struct tr_proxy *p = cls;
	struct preq *r = *ctx;
	(void)url;
	(void)version;
	if (!r->started) {
		r->started = true;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->len + *upload_size + 1 > r->cap) {
			r->cap = (r->len + *upload_size + 1) * 2;
			r->body = realloc(r->body, r->cap);
		}
		memcpy(r->body + r->len, upload_data, *upload_size);
		r->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&p->lock);
	int n = ++p->requests;
	pthread_mutex_unlock(&p->lock);
	enum tr_action a = p->rule ? p->rule(p, method, r->uri, n) : TR_FORWARD;
	pthread_mutex_lock(&p->lock);
	p->counts[a]++;
	pthread_mutex_unlock(&p->lock);
	switch (a) {
	case TR_DROP:
		return MHD_NO;
	case TR_KILL:
		pthread_mutex_lock(&p->lock);
		tr_registry_kill(p->upstream);
		pthread_mutex_unlock(&p->lock);
		return MHD_NO;
	case TR_KILL_RESTART: {
		pthread_mutex_lock(&p->lock);
		int want = ++p->restarts_asked;
		pthread_cond_broadcast(&p->cond);
		while (p->restarts_done < want && !p->stopping) {
			pthread_cond_wait(&p->cond, &p->lock);
		}
		pthread_mutex_unlock(&p->lock);
		return MHD_NO;
	}
	case TR_REDIRECT:
	case TR_UPLOAD_ELSEWHERE: {
		struct MHD_Response *resp =
			MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Location", p->redirect_to);
		if (a == TR_UPLOAD_ELSEWHERE) {
			MHD_add_response_header(resp, "Range", "0-0");
			MHD_add_response_header(resp, "Docker-Upload-UUID", "elsewhere");
		}
		enum MHD_Result res = MHD_queue_response(c, a == TR_REDIRECT ? 307 : 202, resp);
		MHD_destroy_response(resp);
		return res;
	}
	case TR_FAIL_500:
	case TR_FAIL_401: {
		const char *body = "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"injected "
				   "fault\"}]}";
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
		if (a == TR_FAIL_401) {
			MHD_add_response_header(resp, "WWW-Authenticate",
						p->challenge[0] ? p->challenge
								: "Basic realm=\"runner-test\"");
		}
		enum MHD_Result res = MHD_queue_response(c, a == TR_FAIL_500 ? 500 : 401, resp);
		MHD_destroy_response(resp);
		return res;
	}
	default:
		break;
	}
	struct fwd f = { 0 };
	forward(p, c, method, r, &f);
	if (f.cc != CURLE_OK) {
		const char *body = "upstream unreachable";
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result res = MHD_queue_response(c, 502, resp);
		MHD_destroy_response(resp);
		curl_slist_free_all(f.headers);
		free(f.body);
		return res;
	}
	if (a == TR_GARBAGE_JSON) {
		free(f.body);
		f.body = strdup("\x7f{\"errors\": [garbage \x01\x02");
		f.len = strlen(f.body);
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		f.len, f.body ? f.body : (void *)"", MHD_RESPMEM_MUST_COPY);
	for (struct curl_slist *s = f.headers; s; s = s->next) {
		char *colon = strchr(s->data, ':');
		*colon = '\0';
		const char *v = colon + 1;
		while (*v == ' ') {
			v++;
		}
		if (strcasecmp(s->data, "Content-Length") == 0 ||
		    strcasecmp(s->data, "Transfer-Encoding") == 0 ||
		    strcasecmp(s->data, "Connection") == 0) {
			continue;
		}
		if (a == TR_WRONG_DIGEST && strcasecmp(s->data, "Docker-Content-Digest") == 0) {
			v = "sha256:"
			    "0000000000000000000000000000000000000000000000000000000000000000";
		}
		MHD_add_response_header(resp, s->data, v);
	}
	enum MHD_Result res = MHD_queue_response(c, (unsigned)f.status, resp);
	MHD_destroy_response(resp);
	curl_slist_free_all(f.headers);
	free(f.body);
	return res;
}

static void *supervise(void *ud)
{
	struct tr_proxy *p = ud;
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		if (p->restarts_done < p->restarts_asked) {
			tr_registry_restart(p->upstream);
			p->restarts_done = p->restarts_asked;
			pthread_cond_broadcast(&p->cond);
			continue;
		}
		pthread_cond_wait(&p->cond, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void tr_proxy_start(struct tr_proxy *p, struct tr_registry *upstream, tr_rule_fn rule)
{
	/* The caller may have set userdata and redirect_to before. */
	void *ud = p->userdata;
	char to[sizeof(p->redirect_to)];
	memcpy(to, p->redirect_to, sizeof(to));
	memset(p, 0, sizeof(*p));
	p->userdata = ud;
	memcpy(p->redirect_to, to, sizeof(to));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->upstream = upstream;
	p->rule = rule;
	if (pthread_create(&p->supervisor, NULL, supervise, p) != 0) {
		die("pthread_create");
	}
	p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
				NULL, NULL, proxy_handler, p, MHD_OPTION_URI_LOG_CALLBACK,
				uri_logger, p, MHD_OPTION_NOTIFY_COMPLETED, completed, p,
				MHD_OPTION_SOCK_ADDR,
				&(struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
				MHD_OPTION_END);
	if (!p->d) {
		die("cannot start the proxy");
	}
	p->port = daemon_port(p->d);
	snprintf(p->addr, sizeof(p->addr), "127.0.0.1:%d", p->port);
}

void tr_proxy_stop(struct tr_proxy *p)
{
	if (p->d) {
		pthread_mutex_lock(&p->lock);
		p->stopping = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		MHD_stop_daemon(p->d);
		p->d = NULL;
		/* The registry was started by the supervisor: the caller stops it before the
		 * supervisor's end would kill it. */
		pthread_join(p->supervisor, NULL);
	}
}

/* ---------- garbage server ---------- */

static void *garbage_loop(void *ud)
{
	struct tr_garbage *g = ud;
	static const char junk[] =
		"\x16\x03\x01\xff\xfe garbage \x00\x01\x02 not HTTP at all\r\n\r\n";
	for (;;) {
		int c = accept(g->fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR) {
				continue;
			}
			return NULL;
		}
		char buf[4096];
		ssize_t n = read(c, buf, sizeof(buf));
		(void)n;
		if (g->trickle) {
			static const char head[] =
				"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				"Content-Length: 4000000\r\n\r\n";
			bool ok = send(c, head, sizeof(head) - 1, MSG_NOSIGNAL) > 0;
			while (ok && !g->stopping) {
				usleep(200000);
				ok = send(c, "{", 1, MSG_NOSIGNAL) == 1;
			}
		} else {
			n = write(c, junk, sizeof(junk) - 1);
		}
		close(c);
	}
}

static void garbage_start(struct tr_garbage *g, bool trickle)
{
	memset(g, 0, sizeof(*g));
	g->trickle = trickle;
	g->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(g->fd, 16) < 0 || getsockname(g->fd, (struct sockaddr *)&a, &len) < 0) {
		die("garbage server: %s", strerror(errno));
	}
	g->port = ntohs(a.sin_port);
	snprintf(g->addr, sizeof(g->addr), "127.0.0.1:%d", g->port);
	if (pthread_create(&g->thread, NULL, garbage_loop, g) != 0) {
		die("pthread_create");
	}
	g->running = true;
}

void tr_garbage_start(struct tr_garbage *g)
{
	garbage_start(g, false);
}

void tr_trickle_start(struct tr_garbage *g)
{
	garbage_start(g, true);
}

void tr_garbage_stop(struct tr_garbage *g)
{
	g->stopping = true;
	if (g->running) {
		shutdown(g->fd, SHUT_RDWR);
		close(g->fd);
		pthread_join(g->thread, NULL);
		g->running = false;
	}
}

/* ---------- skopeo ---------- */

char *tr_skopeo_digest(const char *ref, const char *creds)
{
	char *dref;
	if (asprintf(&dref, "docker://%s", ref) < 0) {
		die("asprintf");
	}
	const char *argv[8] = { "/usr/bin/skopeo", "inspect", "--tls-verify=false" };
	int n = 3;
	if (creds) {
		argv[n++] = "--creds";
		argv[n++] = creds;
	}
	argv[n++] = dref;
	argv[n] = NULL;
	struct tu_result res = tu_run(NULL, argv, NULL, 120);
	free(dref);
	char *digest = NULL;
	if (res.status == 0) {
		json_error_t e;
		json_t *j = json_loads(res.out, 0, &e);
		const char *d = json_string_value(json_object_get(j, "Digest"));
		digest = d ? strdup(d) : NULL;
		json_decref(j);
	}
	tu_result_free(&res);
	return digest;
}

char *tr_skopeo_copy(const char *ref, const char *creds, const char *dir)
{
	char *src, *dst;
	if (asprintf(&src, "docker://%s", ref) < 0 || asprintf(&dst, "oci:%s:copy", dir) < 0) {
		die("asprintf");
	}
	const char *argv[10] = { "/usr/bin/skopeo", "copy", "--src-tls-verify=false", "-q" };
	int n = 4;
	if (creds) {
		argv[n++] = "--src-creds";
		argv[n++] = creds;
	}
	argv[n++] = src;
	argv[n++] = dst;
	argv[n] = NULL;
	struct tu_result res = tu_run(NULL, argv, NULL, 120);
	free(src);
	free(dst);
	char *digest = NULL;
	if (res.status == 0) {
		char *idx = tu_readf("%s/index.json", dir);
		json_error_t e;
		json_t *j = idx ? json_loads(idx, 0, &e) : NULL;
		const char *d = json_string_value(json_object_get(
			json_array_get(json_object_get(j, "manifests"), 0), "digest"));
		digest = d ? strdup(d) : NULL;
		json_decref(j);
		free(idx);
	} else {
		fprintf(stderr, "skopeo copy failed: %s\n", res.err);
	}
	tu_result_free(&res);
	return digest;
}
