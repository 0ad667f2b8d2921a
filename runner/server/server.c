/*
 * server.c - start the parts of the server in dependency order, wait for a stop signal,
 * and stop them in the reverse order.
 *
 * Stop and interrupt signals are blocked before any thread starts (threads inherit the
 * mask), so they reach only the main thread's signalfd. SIGHUP reloads the configuration
 * there: the new one is loaded and checked in full, and put in force (live.h) only if it
 * is valid and changes nothing that needs a restart; otherwise the one in force stays.
 */
#include "server.h"

#include "config.h"
#include "diag.h"
#include "dispatch.h"
#include "http.h"
#include "intake.h"
#include "live.h"
#include "reporter.h"
#include "slog.h"
#include "store.h"
#include "util.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <git2.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/signalfd.h>

#include "banned.h"

static int prepare_data_dir(const char *dir)
{
	static const char *const subdirs[] = { "repos", "work", "locks" };
	int r = mkdir_p(dir, 0700);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, subdirs[i]);
		r = mkdir_p(p, 0700);
	}
	return r;
}

static int lock_data_dir(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/server.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* As `runner serve --check` says them: file:line:col and the message, never the line (it
 * may hold a secret). */
static void log_diags(struct diag_list *dl, const char *path, const char *event)
{
	diag_list_sort(dl);
	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];
		char at[32] = ""; /* ":line:col", none for the file as a whole */
		if (d->line) {
			snprintf(at, sizeof(at), ":%u:%u", d->line, d->col);
		}
		slog(d->level == DIAG_ERROR ? LOG_ERROR : LOG_WARN, event, NULL,
		     json_pack("{s:s, s:i, s:i}", "file", d->file ? d->file : path, "line",
			       (int)d->line, "column", (int)d->col),
		     "%s%s: %s%s%s", d->file ? d->file : path, at, d->msg, d->hint ? "; " : "",
		     d->hint ? d->hint : "");
	}
}

/* SIGHUP: the file the server was started with, read again. */
static void reload(struct live *live, const char *path)
{
	struct diag_list dl;
	diag_list_init(&dl, 50);
	struct server_config *next = NULL;
	int r = config_load(path, &next, &dl);
	if (r < 0) {
		log_diags(&dl, path, "config.invalid");
		diag_list_release(&dl);
		if (r == -EINVAL || r == -EPERM) {
			slog(LOG_ERROR, "server.reload_failed", NULL, NULL,
			     "SIGHUP: %s is %s; the configuration in force stays", path,
			     r == -EINVAL ? "invalid" : "not safe to use (permissions)");
		} else {
			slog(LOG_ERROR, "server.reload_failed", NULL, NULL,
			     "SIGHUP: cannot read %s (%s); the configuration in force stays", path,
			     strerror(-r));
		}
		return;
	}
	log_diags(&dl, path, "config.warning"); /* what is valid but deserves a look */
	diag_list_release(&dl);
	const struct server_config *cur = live_get(live);
	char keys[256];
	unsigned n = config_restart_only(cur, next, keys, sizeof(keys));
	live_put(live, cur);
	if (n) {
		slog(LOG_ERROR, "server.reload_failed", NULL, json_pack("{s:s}", "keys", keys),
		     "SIGHUP: %s changes %s, which take%s a restart; the configuration in "
		     "force stays",
		     path, keys, n == 1 ? "s" : "");
		config_free(next);
		return;
	}
	size_t repos = next->n_repos;
	slog_set_level(next->log_level);
	live_replace(live, next);
	slog(LOG_INFO, "server.reloaded", NULL,
	     json_pack("{s:I, s:I}", "repositories", (json_int_t)repos, "generation",
		       (json_int_t)live_generation(live)),
	     "SIGHUP: configuration reloaded from %s (%zu repositories); runs already "
	     "started keep the settings they started with",
	     path, repos);
}

int server_run(struct server_config *c, const char *address_file)
{
	struct reporter *rep = NULL;
	struct dispatcher *disp = NULL;
	struct intake *in = NULL;
	struct http_server *http = NULL;
	struct store *st = NULL;
	int ret = 4, sfd = -1, lock = -1;
	char self[4096];
	_cleanup_free_ char *db = xasprintf("%s/queue.db", c->data_dir);
	_cleanup_free_ char *path = xstrdup(c->path);
	/* c is live's now, freed with it; read here only until the threads start. */
	struct live *live = live_new(c);

	int r = prepare_data_dir(c->data_dir);
	if (r < 0) {
		slog(LOG_ERROR, "server.error", NULL, NULL,
		     "cannot create the data directory %s: %s", c->data_dir, strerror(-r));
		live_free(live);
		return 4;
	}
	lock = lock_data_dir(c->data_dir);
	if (lock < 0) {
		slog(LOG_ERROR, "server.error", NULL, NULL, "%s: %s", c->data_dir,
		     lock == -EBUSY ? "another runner serve uses this data directory"
				    : strerror(-lock));
		live_free(live);
		return 4;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		slog(LOG_ERROR, "server.error", NULL, NULL, "cannot find the runner binary");
		goto out;
	}
	self[n] = '\0';
	/* Creates the schema before the threads open their own connections. */
	if ((r = store_open(db, &st)) < 0) {
		slog(LOG_ERROR, "server.error", NULL, NULL, "cannot open the queue %s: %s", db,
		     strerror(-r));
		goto out;
	}
	store_close(st);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	git_libgit2_init();

	if ((r = reporter_start(live, db, &rep)) < 0 ||
	    (r = dispatcher_start(live, db, self, reporter_wake_fd(rep), &disp)) < 0 ||
	    (r = intake_start(db, dispatcher_wake_fd(disp), reporter_wake_fd(rep), &in)) < 0) {
		slog(LOG_ERROR, "server.error", NULL, NULL, "cannot start: %s", strerror(-r));
		goto stop;
	}
	if ((r = http_start(live, in, db, disp, &http)) < 0) {
		slog(LOG_ERROR, "server.error", NULL, NULL, "cannot listen on %s:%u: %s",
		     c->listen_host, c->listen_port, strerror(-r));
		goto stop;
	}
	char addr[300];
	bool v6 = strchr(c->listen_host, ':') != NULL;
	snprintf(addr, sizeof(addr), "%s%s%s:%u", v6 ? "[" : "", c->listen_host, v6 ? "]" : "",
		 http_port(http));
	slog(LOG_INFO, "server.listening", NULL,
	     json_pack("{s:s, s:i, s:s, s:s}", "address", addr, "port", (int)http_port(http),
		       "data_dir", c->data_dir, "access",
		       c->access_token	  ? "token"
		       : c->access_public ? "public"
					  : "loopback"),
	     "runner %s listening on %s (%zu repositories, %u runs at once)", RUNNER_VERSION, addr,
	     c->n_repos, c->concurrency);
	if (address_file) {
		char line[320];
		snprintf(line, sizeof(line), "%s\n", addr);
		if ((r = write_file_atomic(address_file, line, strlen(line), 0644)) < 0) {
			slog(LOG_ERROR, "server.error", NULL, NULL, "cannot write %s: %s",
			     address_file, strerror(-r));
			goto stop;
		}
	}

	struct signalfd_siginfo si = { 0 };
	for (;;) {
		ssize_t got = read(sfd, &si, sizeof(si));
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got == (ssize_t)sizeof(si) && si.ssi_signo == SIGHUP) {
			reload(live, path);
			continue;
		}
		break;
	}
	slog(LOG_INFO, "server.stopping", NULL, json_pack("{s:i}", "signal", (int)si.ssi_signo),
	     "signal %u: stopping (a second one stops at once)", si.ssi_signo);
	/* A second signal takes the default action: the process ends, and the next start
	 * recovers whatever was running. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	ret = 0;
stop:
	if (http) {
		http_quiesce(http);
		http_stop(http);
	}
	intake_stop(in);
	const struct server_config *now = live_get(live);
	uint64_t grace_ms = now->shutdown_grace_ms; /* the value in force when it stops */
	live_put(live, now);
	dispatcher_stop(disp, grace_ms);
	reporter_stop(rep);
	if (sfd >= 0) {
		close(sfd);
	}
	git_libgit2_shutdown();
	curl_global_cleanup();
	slog(ret == 0 ? LOG_INFO : LOG_ERROR, "server.stopped", NULL, NULL, "stopped");
out:
	close(lock);
	live_free(live);
	return ret;
}
