/*
 * test-mirror.c - bare mirrors with libgit2 against real repositories: a local path, and
 * git's own smart HTTP server (git http-backend, run as CGI behind a small HTTP server in
 * this test) that demands HTTP basic authentication, to check token credentials, clear
 * errors when they are wrong or missing, incremental and cached fetches, and
 * cancellation.
 *
 * TLS is not exercised here (libgit2 verifies certificates itself); the credential flow
 * is the same over plain HTTP.
 *
 * SSH: a real SSH server (dropbear, Debian's dropbear-bin), started by the test on
 * 127.0.0.1 for each connection, serving the bare repository through git-upload-pack, to
 * check key credentials and that only the configured host key is accepted.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "mirror.h"
#include "testserve.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN "ghs_test-token-0123456789"

/* In a sanitizer build: full stacks for allocations (libgit2 is built without frame
 * pointers), so that tests/lsan.supp can name the libgit2 call in which its SSH transport
 * leaks, and nothing else of libgit2 is excused. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

static const char pipeline[] = "version: 1\nstages:\n  a: { run: \"true\" }\n";

/* ---------- git http-backend behind HTTP basic authentication ---------- */

struct githttp {
	struct MHD_Daemon *d;
	char *root;	/* GIT_PROJECT_ROOT */
	char auth[400]; /* the Authorization header it wants */
	char url[128];
	unsigned requests, refused;
	pthread_mutex_t mu;
};

struct body {
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
static enum MHD_Result cgi(struct githttp *g, struct MHD_Connection *c, const char *url,
			   const char *method, struct body *b)
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
	struct body o = { NULL, 0 };
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
	struct githttp *g = cls;
	struct body *b = *con_cls;
	(void)version;
	if (!b) {
		*con_cls = calloc(1, sizeof(struct body));
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
	struct body *b = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (b) {
		free(b->p);
		free(b);
	}
}

static struct githttp *githttp_start(const char *root, const char *user, const char *token)
{
	struct githttp *g = calloc(1, sizeof(*g));
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

static void githttp_stop(struct githttp *g)
{
	MHD_stop_daemon(g->d);
	free(g->root);
	free(g);
}

/* ---------- tests ---------- */

struct fx {
	char *dir, *repo, *bare, *mirror, *sha;
};

static struct fx setup_fx(void)
{
	struct fx f;
	f.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&f.repo, "%s/work", f.dir), 0);
	cr_assert_geq(asprintf(&f.bare, "%s/srv/repo.git", f.dir), 0);
	cr_assert_geq(asprintf(&f.mirror, "%s/mirror.git", f.dir), 0);
	f.sha = ts_git_init(f.repo, pipeline);
	ts_sh("git clone -q --bare '%s' '%s'", f.repo, f.bare);
	return f;
}

static void release_fx(struct fx *f)
{
	tu_rmdir(f->dir);
	free(f->dir);
	free(f->repo);
	free(f->bare);
	free(f->mirror);
	free(f->sha);
}

static const char *const main_spec[] = { "+refs/heads/main:refs/heads/main" };

Test(mirror, local_fetch_is_incremental_and_cached, .timeout = 60)
{
	struct fx f = setup_fx();
	struct diag_list dl;
	bool fetched;
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     0);
	cr_assert(fetched);
	/* The commit is there: nothing to fetch. */
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     0);
	cr_assert_not(fetched);
	/* A new commit: fetched, and the ref follows. */
	char *second = ts_git_commit(f.repo, "x.txt", "x\n");
	ts_sh("git -C '%s' push -q '%s' main", f.repo, f.bare);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, second, -1, &fetched, &dl),
		     0);
	cr_assert(fetched);
	char head[41];
	cr_assert_eq(mirror_resolve(f.mirror, "refs/heads/main", head), 0);
	cr_assert_str_eq(head, second);
	/* A commit the remote does not have. */
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL,
				 "0123456789abcdef0123456789abcdef01234567", -1, &fetched, &dl),
		     -ENOENT);
	cr_assert_not_null(strstr(dl.v[dl.n - 1].msg, "does not exist"));
	/* A remote that is not there. */
	cr_assert_eq(mirror_sync(f.mirror, "/nonexistent/repo.git", main_spec, 1, NULL,
				 "0123456789abcdef0123456789abcdef01234568", -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(strstr(dl.v[dl.n - 1].msg, "cannot fetch"));
	diag_list_release(&dl);
	free(second);
	release_fx(&f);
}

Test(mirror, https_token_credentials, .timeout = 60)
{
	struct fx f = setup_fx();
	char *root;
	cr_assert_geq(asprintf(&root, "%s/srv", f.dir), 0);
	struct githttp *g = githttp_start(root, "x-access-token", TOKEN);
	struct diag_list dl;
	bool fetched;

	/* No credentials configured: refused, and the message says what to do. */
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, g->url, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(strstr(dl.v[0].msg, "cannot fetch"), "%s", dl.v[0].msg);
	cr_assert_not_null(dl.v[0].hint);
	cr_assert_not_null(strstr(dl.v[0].hint, "credentials"));
	diag_list_release(&dl);

	/* A wrong token: refused once, not retried in a loop. */
	struct mirror_auth bad = { .username = "x-access-token", .token = "ghs_wrong-token" };
	diag_list_init(&dl, 10);
	unsigned before = g->refused;
	cr_assert_eq(mirror_sync(f.mirror, g->url, main_spec, 1, &bad, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_lt(g->refused - before, 5, "credentials are offered once");
	cr_assert_null(strstr(dl.v[0].msg, "ghs_wrong-token"), "no token in messages");
	diag_list_release(&dl);

	/* The right token: fetched over smart HTTP. */
	struct mirror_auth good = { .username = "x-access-token", .token = TOKEN };
	diag_list_init(&dl, 10);
	int r = mirror_sync(f.mirror, g->url, main_spec, 1, &good, f.sha, -1, &fetched, &dl);
	cr_assert_eq(r, 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_assert(fetched);
	char head[41];
	cr_assert_eq(mirror_resolve(f.mirror, "refs/heads/main", head), 0);
	cr_assert_str_eq(head, f.sha);
	diag_list_release(&dl);

	/* Cancelled: a readable cancel fd stops a fetch that has to transfer something. */
	char *second = ts_git_commit(f.repo, "y.txt", "y\n");
	ts_sh("git -C '%s' push -q '%s' main", f.repo, f.bare);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	close(p[1]); /* end of file: readable */
	diag_list_init(&dl, 10);
	r = mirror_sync(f.mirror, g->url, main_spec, 1, &good, second, p[0], &fetched, &dl);
	cr_assert_eq(r, -ECANCELED, "%d %s", r, dl.n ? dl.v[0].msg : "");
	close(p[0]);
	diag_list_release(&dl);

	char *red = mirror_redact_url("https://user:pa55@example.com/x.git");
	cr_assert_str_eq(red, "https://***@example.com/x.git");
	free(red);
	red = mirror_redact_url("https://example.com/a@b");
	cr_assert_str_eq(red, "https://example.com/a@b");
	free(red);
	free(second);
	githttp_stop(g);
	free(root);
	release_fx(&f);
}

Test(mirror, ssh_host_keys_must_be_the_configured_one)
{
	/* SSH over libgit2 1.5 trusts any host key unless told otherwise: the configured
	 * fingerprint is the only one accepted (the comparison itself, here; against a real
	 * server in mirror::ssh_key_credentials_and_the_configured_host_key). */
	unsigned char digest[32];
	for (int i = 0; i < 32; i++) {
		digest[i] = (unsigned char)i;
	}
	char actual[80];
	const char *fp = "SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	cr_assert(mirror_host_key_matches(fp, digest, actual, sizeof(actual)));
	cr_assert_str_eq(actual, fp);
	cr_assert(mirror_host_key_matches("SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
					  digest, actual, sizeof(actual)),
		  "base64 padding does not matter");
	digest[31] ^= 1;
	cr_assert_not(mirror_host_key_matches(fp, digest, actual, sizeof(actual)));
	cr_assert_not(mirror_host_key_matches(NULL, digest, actual, sizeof(actual)),
		      "no configured key: nothing is trusted");
}

/* ---------- an SSH server: dropbear, one process per connection ---------- */

struct sshd {
	pid_t pid; /* the accepting process; dropbear processes are in its process group */
	int port;
	char *hostkey, *fingerprint, *log;
};

/*
 * Start dropbear (inetd mode, one process per connection accepted here, so no port is
 * picked and then raced for; it logs to syslog only in that mode, and the log file gets
 * what fails before it runs) for the user the test runs as, root: its home is replaced by `home` in
 * a mount namespace of the server's own, so it reads this test's authorized_keys and the real home
 * is untouched.
 */
static struct sshd sshd_start(const char *dir, const char *home)
{
	struct sshd d = { 0 };
	cr_assert_geq(asprintf(&d.hostkey, "%s/ssh_host_ed25519_key", dir), 0);
	cr_assert_geq(asprintf(&d.log, "%s/dropbear.log", dir), 0);
	ts_sh("dropbearkey -t ed25519 -f '%s' >/dev/null 2>&1", d.hostkey);
	d.fingerprint =
		ts_sh_out("dropbearkey -y -f '%s' | sed -n 's/^Fingerprint: //p'", d.hostkey);
	cr_assert(strncmp(d.fingerprint, "SHA256:", 7) == 0, "%s", d.fingerprint);
	const struct passwd *pw = getpwuid(geteuid());
	cr_assert_not_null(pw);
	char *pw_dir = strdup(pw->pw_dir);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 8), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
	d.port = ntohs(a.sin_port);
	int logfd = open(d.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(logfd, 0);
	pid_t parent = getpid();
	d.pid = fork();
	cr_assert_geq(d.pid, 0);
	if (d.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		if (getppid() != parent) {
			_exit(1);
		}
		for (;;) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0) {
				continue;
			}
			if (fork() == 0) {
				if (unshare(CLONE_NEWNS) < 0 ||
				    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
				    mount(home, pw_dir, NULL, MS_BIND, NULL) < 0) {
					dprintf(logfd, "mount namespace: %s\n", strerror(errno));
					_exit(126);
				}
				dup2(c, 0);
				dup2(c, 1);
				dup2(logfd, 2);
				execl("/usr/sbin/dropbear", "dropbear", "-i", "-s", "-r", d.hostkey,
				      (char *)NULL);
				dprintf(logfd, "exec dropbear: %s\n", strerror(errno));
				_exit(127);
			}
			close(c);
			while (waitpid(-1, NULL, WNOHANG) > 0) {
			}
		}
	}
	setpgid(d.pid, d.pid);
	close(lfd);
	close(logfd);
	free(pw_dir);
	return d;
}

static void sshd_stop(struct sshd *d)
{
	kill(-d->pid, SIGKILL);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	free(d->hostkey);
	free(d->fingerprint);
	free(d->log);
}

/* A client key pair made with dropbear's tools, the private key in OpenSSH's format. */
static void make_key(const char *dir, const char *name, char **key, char **pub)
{
	cr_assert_geq(asprintf(key, "%s/%s", dir, name), 0);
	cr_assert_geq(asprintf(pub, "%s/%s.pub", dir, name), 0);
	ts_sh("dropbearkey -t ed25519 -f '%s.db' >/dev/null 2>&1 && "
	      "dropbearconvert dropbear openssh '%s.db' '%s' >/dev/null 2>&1 && "
	      "dropbearkey -y -f '%s.db' | grep '^ssh-ed25519 ' > '%s' && chmod 600 '%s'",
	      *key, *key, *key, *key, *pub, *key);
}

Test(mirror, ssh_key_credentials_and_the_configured_host_key, .timeout = 60)
{
	if (geteuid() != 0) {
		/* The server's user must read this test's authorized_keys without the test
		 * touching a real home: that takes a mount namespace, so root. CI runs as root. */
		cr_skip_test("the SSH server needs root for its mount namespace");
	}
	struct fx f = setup_fx();
	char *home, *key, *pub, *other, *other_pub, *url, *wrong_fp;
	cr_assert_geq(asprintf(&home, "%s/home", f.dir), 0);
	ts_sh("mkdir -p '%s/.ssh' && chmod 700 '%s' '%s/.ssh'", home, home, home);
	make_key(f.dir, "id_ed25519", &key, &pub);
	make_key(f.dir, "other_ed25519", &other, &other_pub);
	ts_sh("cp '%s' '%s/.ssh/authorized_keys' && chmod 600 '%s/.ssh/authorized_keys'", pub, home,
	      home);
	struct sshd d = sshd_start(f.dir, home);
	const struct passwd *pw = getpwuid(geteuid());
	cr_assert_geq(asprintf(&url, "ssh://%s@127.0.0.1:%d%s", pw->pw_name, d.port, f.bare), 0);
	/* Another key's fingerprint: the server's must not be accepted in its place. */
	wrong_fp = ts_sh_out("dropbearkey -y -f '%s.db' | sed -n 's/^Fingerprint: //p'", other);
	struct diag_list dl;
	bool fetched;

	/* Not the configured host key: refused before any credential is offered. */
	struct mirror_auth wrong_host = { .ssh_key = key,
					  .ssh_public_key = pub,
					  .ssh_host_key = wrong_fp };
	diag_list_init(&dl, 10);
	cr_assert_eq(
		mirror_sync(f.mirror, url, main_spec, 1, &wrong_host, f.sha, -1, &fetched, &dl),
		-EIO);
	char *log = tu_read(d.log);
	cr_assert_not_null(strstr(dl.v[0].msg, "is not the configured ssh_host_key"),
			   "%s\ndropbear:\n%s", dl.v[0].msg, log ? log : "");
	free(log);
	cr_assert_not_null(strstr(dl.v[0].msg, d.fingerprint), "the server's key is named: %s",
			   dl.v[0].msg);
	diag_list_release(&dl);

	/* The right host, no key configured: refused, and the hint says what to do. */
	struct mirror_auth no_key = { .ssh_host_key = d.fingerprint };
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, url, main_spec, 1, &no_key, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(dl.v[0].hint);
	cr_assert_not_null(strstr(dl.v[0].hint, "credentials"), "%s", dl.v[0].hint);
	diag_list_release(&dl);

	/* A key the server does not know: refused once. */
	struct mirror_auth unknown = { .ssh_key = other,
				       .ssh_public_key = other_pub,
				       .ssh_host_key = d.fingerprint };
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, url, main_spec, 1, &unknown, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(strstr(dl.v[0].msg, "cannot fetch"), "%s", dl.v[0].msg);
	diag_list_release(&dl);
	char head[41];
	cr_assert_neq(mirror_resolve(f.mirror, "refs/heads/main", head), 0, "nothing fetched yet");

	/* The right key and host key: fetched over SSH, the exact commit. */
	struct mirror_auth good = { .ssh_key = key,
				    .ssh_public_key = pub,
				    .ssh_host_key = d.fingerprint };
	diag_list_init(&dl, 10);
	int r = mirror_sync(f.mirror, url, main_spec, 1, &good, f.sha, -1, &fetched, &dl);
	log = tu_read(d.log);
	cr_assert_eq(r, 0, "%s\ndropbear:\n%s", dl.n ? dl.v[0].msg : "", log ? log : "");
	cr_assert(fetched);
	cr_assert_eq(mirror_resolve(f.mirror, "refs/heads/main", head), 0);
	cr_assert_str_eq(head, f.sha);
	diag_list_release(&dl);
	free(log);

	sshd_stop(&d);
	free(home);
	free(key);
	free(pub);
	free(other);
	free(other_pub);
	free(url);
	free(wrong_fp);
	release_fx(&f);
}
