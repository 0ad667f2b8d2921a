/*
 * dispatch.c - the dispatcher thread.
 *
 * One epoll loop over: an eventfd (new jobs or cancellations were committed; stop), one
 * pidfd per child, and a timeout (1 s, or 50 ms while a recovery waits for a lock or a
 * shutdown is under way). Children are started with posix_spawn() (no code of ours runs
 * between fork and exec), in their own session so that a terminal's Ctrl-C reaches only
 * the server, which then shuts down in order.
 */
#include "dispatch.h"

#include "config.h"
#include "jobrun.h"
#include "live.h"
#include "record.h"
#include "retention.h"
#include "slog.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "banned.h"

#define HARD_KILL_AFTER_MS 60000 /* after the shutdown deadline, a child that did not stop */
/* A run's process stops itself at run_timeout; one that has not a while later (blocked in
 * a fetch, which libgit2 gives no timeout) is killed here: a tenth of the timeout later,
 * at least 5 s (stopping its stages takes their kill grace) and at most a minute. */
static uint64_t overdue_grace_ms(uint64_t max_run_ms)
{
	return MIN(MAX(max_run_ms / 10, 5000ull), 60000ull);
}

extern char **environ;

struct child {
	pid_t pid;
	int pidfd;
	int cancel_w; /* write end of the cancel pipe */
	struct job job;
	char *repo_key; /* its run directory's; the repository may be gone after a reload */
	bool cancel_sent, shutdown_sent;
	uint64_t started_mono; /* ms */
	bool overdue_killed;   /* killed here for running past run_timeout */
	bool resolved;	       /* its peel is recorded (job.peel: store_resolve()) */
};

struct dispatcher {
	struct live *live;
	const struct server_config *c; /* for one turn of the loop (live.h) */
	char *self_exe;
	struct store *store;
	pthread_t thread;
	int ep, wake_fd, reporter_wake;
	struct child **children;
	size_t n_children, cap_children;
	struct job *recover;
	size_t n_recover, cap_recover;
	uint64_t recover_after; /* mono ms: after a failed finish, retried once a second */
	atomic_uint running;
	atomic_bool stopping;
	uint64_t grace_ms;
	uint64_t stop_deadline; /* mono ms, set by the thread when it sees `stopping` */
	bool shutdown_sent;
	/* Retention: a pass runs one batch per turn of the loop, so runs are still started
	 * and reaped while it goes. */
	struct retention_pass prune;
	bool pruning;
	uint64_t next_prune; /* mono ms */
	atomic_uint_fast64_t pruned_runs;
};

static void poke(int fd)
{
	uint64_t one = 1;
	if (fd >= 0) {
		ssize_t w = write(fd, &one, sizeof(one));
		(void)w;
	}
}

static const struct repo_config *repo_of(const struct dispatcher *d, const struct job *j)
{
	enum forge f;
	if (forge_from_name(j->forge, &f) < 0) {
		return NULL;
	}
	return config_find_repo(d->c, f, j->repo);
}

static void remove_lock(const struct dispatcher *d, int64_t job)
{
	_cleanup_free_ char *path = jobrun_lock_path(d->c->data_dir, job);
	unlink(path);
}

/* Record a run's end. Returns false when the store could not (the run is then retried
 * through the recovery list, which reads its outcome again, rather than left `running`
 * until the next restart). */
static bool finish_at(struct dispatcher *d, const struct job *j, enum job_state st, int code,
		      const char *msg, const char *notify, const char *commit)
{
	struct slog_ctx ctx = { .run = j->id, .repo = j->repo, .delivery = j->delivery };
	if (notify && !d->c->notify_url) {
		slog(LOG_WARN, "notify.skipped", &ctx, NULL,
		     "a security gate blocked run %lld; no notification target is configured "
		     "(notifications.security)",
		     (long long)j->id);
		notify = NULL;
	}
	int r = store_finish(d->store, j->id, j->attempts, st, code, msg, notify, commit,
			     (int64_t)now_real_ms());
	if (r < 0) {
		slog(LOG_ERROR, "store.error", &ctx, NULL,
		     "cannot record the end of run %lld: %s (retried in a second)",
		     (long long)j->id, strerror(-r));
		d->recover_after = now_mono_ms() + 1000;
		return false;
	}
	remove_lock(d, j->id);
	poke(d->reporter_wake);
	slog(st == JOB_ERROR ? LOG_WARN : LOG_INFO, "run.finished", &ctx,
	     json_pack("{s:s, s:i, s:i, s:s}", "result", job_state_name(st), "exit_code", code,
		       "attempt", (int)j->attempts, "sha", str_empty(commit) ? j->sha : commit),
	     "run %lld %s%s%s", (long long)j->id, job_state_name(st), msg ? ": " : "",
	     msg ? msg : "");
	return true;
}

static bool finish(struct dispatcher *d, const struct job *j, enum job_state st, int code,
		   const char *msg, const char *notify)
{
	return finish_at(d, j, st, code, msg, notify, NULL);
}

/* Put j back in the queue; why is the reason ("the server stopped while it ran"), which
 * the run's message gives as "re-queued: <why>" until it starts again, and so does a
 * `pending` commit status (it showed "running"); at a stop, it adds when the run goes on. */
static void requeue(struct dispatcher *d, const struct job *j, const char *why)
{
	struct slog_ctx ctx = { .run = j->id, .repo = j->repo, .delivery = j->delivery };
	_cleanup_free_ char *msg = xasprintf("re-queued: %s", why);
	_cleanup_free_ char *status =
		atomic_load(&d->stopping)
			? xasprintf("%s; it runs again when the server starts", msg)
			: NULL;
	int r = store_requeue(d->store, j->id, j->attempts, msg, status, (int64_t)now_real_ms());
	if (r > 0) {
		poke(d->reporter_wake);
	}
	slog(r < 0 ? LOG_ERROR : LOG_INFO, "run.requeued", &ctx, NULL, "run %lld %s: %s",
	     (long long)j->id, r < 0 ? "could not be re-queued" : "re-queued", why);
}

/* ---------- recovery ---------- */

/* Returns true when the job was dealt with, false when its old process still holds it. */
/* Returns true when the job was dealt with, false when its old process still holds it or
 * its end could not be recorded (it is tried again). */
static bool recover_one(struct dispatcher *d, struct job *j)
{
	_cleanup_free_ char *lock = jobrun_lock_path(d->c->data_dir, j->id);
	_cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		return false;
	}
	const struct repo_config *r = repo_of(d, j);
	if (!r) {
		return finish(d, j, JOB_ERROR, 4, "the repository is no longer configured", NULL);
	}
	_cleanup_free_ char *run_dir = jobrun_run_dir(d->c->data_dir, r->key, j->run_id);
	struct job_outcome o;
	bool done = true;
	int rr = *j->run_id ? jobrun_read_outcome(run_dir, j->started_ms, &o) : -ENOENT;
	if (rr == 0 && !o.interrupted) {
		/* The attempt had finished; the server died before recording it. */
		done = finish_at(d, j, o.state, o.exit_code, o.message, o.notify, o.commit);
	} else if (j->cancel_requested) {
		done = finish(d, j, JOB_CANCELLED, 143, j->message, NULL);
	} else if (j->attempts >= d->c->max_attempts) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "gave up after %u attempts: the server stopped during each", j->attempts);
		done = finish(d, j, JOB_ERROR, 4, msg, NULL);
	} else {
		requeue(d, j, "the server stopped while it ran");
	}
	if (rr == 0) {
		job_outcome_release(&o);
	}
	return done;
}

static void recover(struct dispatcher *d)
{
	size_t k = 0;
	for (size_t i = 0; i < d->n_recover; i++) {
		if (recover_one(d, &d->recover[i])) {
			job_release(&d->recover[i]);
		} else {
			d->recover[k++] = d->recover[i];
		}
	}
	d->n_recover = k;
	if (k == 0) {
		free(d->recover);
		d->recover = NULL;
		d->cap_recover = 0;
	}
}

/* ---------- children ---------- */

static int spec_fd(json_t *spec)
{
	_cleanup_free_ char *s = json_dumps(spec, JSON_COMPACT);
	if (!s) {
		return -ENOMEM;
	}
	int fd = memfd_create("runner-job-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return -errno;
	}
	size_t len = strlen(s);
	int r = write_all(fd, s, len);
	explicit_bzero(s, len); /* it may hold credentials and secrets */
	if (r == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		r = -errno;
	}
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0) {
		r = -errno;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Move fd above the low numbers the child's layout uses. */
static int high_fd(int fd)
{
	if (fd < 0) {
		return fd;
	}
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	int e = errno;
	close(fd);
	return h < 0 ? -e : h;
}

static int spawn_child(struct dispatcher *d, const struct repo_config *r, struct job *j)
{
	json_t *spec = jobrun_spec(d->c, r, j);
	int sfd = high_fd(spec_fd(spec));
	json_decref(spec);
	int p[2] = { -1, -1 };
	if (sfd < 0) {
		return sfd;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(sfd);
		return -errno;
	}
	p[0] = high_fd(p[0]);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sfd, JOBRUN_SPEC_FD);
	posix_spawn_file_actions_adddup2(&fa, p[0], JOBRUN_CANCEL_FD);
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &defaults);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	char *const argv[] = { d->self_exe, (char *)"__job", NULL };
	pid_t pid;
	int rc = p[0] < 0 ? -p[0] : posix_spawn(&pid, d->self_exe, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sfd);
	if (p[0] >= 0) {
		close(p[0]);
	}
	if (rc != 0) {
		close(p[1]);
		return -rc;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		/* Cannot watch it: stop it now rather than lose track of it. */
		int e = -errno;
		close(p[1]);
		waitpid(pid, NULL, 0);
		return e;
	}
	struct child *ch = xcalloc(1, sizeof(*ch));
	ch->pid = pid;
	ch->pidfd = pidfd;
	ch->cancel_w = p[1];
	ch->started_mono = now_mono_ms();
	ch->job = *j;
	ch->repo_key = xstrdup(r->key);
	memset(j, 0, sizeof(*j)); /* moved */
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ch };
	epoll_ctl(d->ep, EPOLL_CTL_ADD, pidfd, &ev);
	GROW(d->children, d->cap_children, d->n_children + 1);
	d->children[d->n_children++] = ch;
	atomic_store(&d->running, (unsigned)d->n_children);
	return 0;
}

/* A tag's run whose id may be a tag object holds its commit statuses until its process has
 * fetched and peeled it (live.json says the commit): then they go to the commit, its
 * running status first. */
static void resolve_peel(struct dispatcher *d, struct child *ch)
{
	char sha[41];
	if (!ch->job.peel || ch->resolved) {
		return;
	}
	_cleanup_free_ char *run_dir = jobrun_run_dir(d->c->data_dir, ch->repo_key, ch->job.run_id);
	if (jobrun_read_commit(run_dir, ch->job.started_ms, sha) < 0) {
		return;
	}
	int r = store_resolve(d->store, ch->job.id, ch->job.attempts, sha, (int64_t)now_real_ms());
	if (r < 0) {
		return; /* tried again at the next turn */
	}
	ch->resolved = true;
	if (r > 0) {
		poke(d->reporter_wake);
	}
}

static void tell(struct child *ch, char what)
{
	ssize_t w = write(ch->cancel_w, &what, 1);
	(void)w;
}

static void reap(struct dispatcher *d, struct child *ch)
{
	int status = 0;
	while (waitpid(ch->pid, &status, 0) < 0 && errno == EINTR) {
	}
	epoll_ctl(d->ep, EPOLL_CTL_DEL, ch->pidfd, NULL);
	close(ch->pidfd);
	close(ch->cancel_w);
	struct job *j = &ch->job;
	/* A tag's run that ended before the loop's turn read its commit: the commit is told
	 * that it ran before it is told how it ended, as every other run's is. */
	resolve_peel(d, ch);
	_cleanup_free_ char *run_dir = jobrun_run_dir(d->c->data_dir, ch->repo_key, j->run_id);
	struct job_outcome o;
	bool done = true;
	int rr = jobrun_read_outcome(run_dir, j->started_ms, &o);
	if (rr == 0 && o.interrupted) {
		requeue(d, j, "the server shut down while it ran");
	} else if (rr == 0) {
		const char *msg = o.message;
		struct job now;
		/* A cancelled run says why in the store (superseded by which run). */
		if (o.state == JOB_CANCELLED && store_get(d->store, j->id, &now) == 1) {
			done = finish_at(d, j, o.state, o.exit_code,
					 str_empty(now.message) ? msg : now.message, NULL,
					 o.commit);
			job_release(&now);
		} else {
			done = finish_at(d, j, o.state, o.exit_code, msg, o.notify, o.commit);
		}
	} else if (ch->shutdown_sent) {
		requeue(d, j, "the server shut down while it ran");
	} else if (ch->overdue_killed) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "the run did not stop at its run_timeout (%llu ms) and was killed %llu ms "
			 "later",
			 (unsigned long long)d->c->max_run_ms,
			 (unsigned long long)overdue_grace_ms(d->c->max_run_ms));
		done = finish(d, j, JOB_ERROR, 4, msg, NULL);
	} else {
		char msg[200];
		if (WIFSIGNALED(status)) {
			snprintf(msg, sizeof(msg), "the run process was killed by signal %d",
				 WTERMSIG(status));
		} else {
			snprintf(msg, sizeof(msg),
				 "the run process ended without a result (exit %d)",
				 WEXITSTATUS(status));
		}
		done = finish(d, j, JOB_ERROR, 4, msg, NULL);
	}
	if (rr == 0) {
		job_outcome_release(&o);
	}
	for (size_t i = 0; i < d->n_children; i++) {
		if (d->children[i] == ch) {
			d->children[i] = d->children[--d->n_children];
			break;
		}
	}
	atomic_store(&d->running, (unsigned)d->n_children);
	if (done) {
		job_release(&ch->job);
	} else {
		/* Its end is recorded from its outcome through the recovery list. */
		GROW(d->recover, d->cap_recover, d->n_recover + 1);
		d->recover[d->n_recover++] = ch->job;
	}
	free(ch->repo_key);
	free(ch);
}

static void resolve_peels(struct dispatcher *d)
{
	for (size_t i = 0; i < d->n_children; i++) {
		resolve_peel(d, d->children[i]);
	}
}

/* Pass cancellation requests (superseded runs) on to their processes. */
static void pass_cancels(struct dispatcher *d)
{
	struct job *v;
	size_t n;
	if (d->n_children == 0 || store_running(d->store, true, &v, &n) < 0) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < d->n_children; k++) {
			struct child *ch = d->children[k];
			if (ch->job.id == v[i].id && !ch->cancel_sent) {
				ch->cancel_sent = true;
				tell(ch, JOBRUN_CANCEL);
				struct slog_ctx ctx = { .run = v[i].id, .repo = v[i].repo };
				slog(LOG_INFO, "run.cancelling", &ctx, NULL,
				     "cancelling run %lld: %s", (long long)v[i].id, v[i].message);
			}
		}
	}
	jobs_free(v, n);
}

static void claim_more(struct dispatcher *d)
{
	while (!d->c->paused && d->n_children < d->c->concurrency) {
		unsigned untrusted = 0;
		for (size_t i = 0; i < d->n_children; i++) {
			untrusted += !d->children[i]->job.trusted;
		}
		struct job j;
		int r = store_claim(d->store, untrusted < d->c->untrusted_concurrency,
				    (int64_t)now_real_ms(), &j);
		if (r <= 0) {
			if (r < 0) {
				slog(LOG_ERROR, "store.error", NULL, NULL, "cannot claim a job: %s",
				     strerror(-r));
			}
			return;
		}
		poke(d->reporter_wake);
		struct slog_ctx ctx = { .run = j.id, .repo = j.repo, .delivery = j.delivery };
		const struct repo_config *repo = repo_of(d, &j);
		if (!repo) {
			finish(d, &j, JOB_ERROR, 4, "the repository is no longer configured", NULL);
			job_release(&j);
			continue;
		}
		slog(LOG_INFO, "run.started", &ctx,
		     json_pack("{s:i, s:s, s:s, s:b}", "attempt", (int)j.attempts, "sha", j.sha,
			       "ref", j.ref, "trusted", j.trusted),
		     "run %lld attempt %u: %s %s", (long long)j.id, j.attempts, j.ref, j.sha);
		struct job copy = j;
		r = spawn_child(d, repo, &j);
		if (r < 0) {
			char msg[160];
			snprintf(msg, sizeof(msg), "cannot start the run process: %s",
				 strerror(-r));
			finish(d, &copy, JOB_ERROR, 4, msg, NULL);
			job_release(&j);
		}
	}
}

static void prune_step(struct dispatcher *d)
{
	if (!d->pruning) {
		retention_begin(&d->prune, d->c, (int64_t)now_real_ms());
		d->pruning = true;
	}
	int r = retention_step(&d->prune, d->store, d->c, RETENTION_BATCH);
	if (r > 0) {
		return;
	}
	const struct retention_pass *p = &d->prune;
	d->pruning = false;
	d->next_prune = now_mono_ms() + RETENTION_INTERVAL_MS;
	atomic_fetch_add(&d->pruned_runs, p->runs);
	if (r < 0) {
		slog(LOG_ERROR, "store.error", NULL, NULL,
		     "retention: cannot prune old runs: %s (next pass in an hour)", strerror(-r));
	}
	if (p->kept) {
		slog(LOG_WARN, "retention.kept", NULL,
		     json_pack("{s:I}", "runs", (json_int_t)p->kept),
		     "retention: kept %llu old run(s) whose run directory could not be removed: "
		     "%s",
		     (unsigned long long)p->kept, strerror(-p->dir_error));
	}
	/* Runs past the period kept because runs/latest points at them are counted apart:
	 * they are not pruned, nor kept for an error. */
	char kept[96] = "";
	if (p->latest_kept) {
		snprintf(kept, sizeof(kept), "; kept %llu old run(s) that runs/latest points at",
			 (unsigned long long)p->latest_kept);
	}
	slog(p->runs || p->deliveries ? LOG_INFO : LOG_DEBUG, "retention.pruned", NULL,
	     json_pack("{s:I, s:I, s:I}", "runs", (json_int_t)p->runs, "deliveries",
		       (json_int_t)p->deliveries, "latest_kept", (json_int_t)p->latest_kept),
	     "retention: pruned %llu finished run(s) and %llu replay-guard entr%s%s",
	     (unsigned long long)p->runs, (unsigned long long)p->deliveries,
	     p->deliveries == 1 ? "y" : "ies", kept);
}

static void stopping_step(struct dispatcher *d)
{
	uint64_t now = now_mono_ms();
	if (!d->stop_deadline) {
		d->stop_deadline = now + d->grace_ms;
		slog(LOG_INFO, "server.draining", NULL, NULL,
		     "no new runs; %zu running may finish within %llu ms", d->n_children,
		     (unsigned long long)d->grace_ms);
	}
	if (now >= d->stop_deadline && !d->shutdown_sent) {
		d->shutdown_sent = true;
		for (size_t i = 0; i < d->n_children; i++) {
			d->children[i]->shutdown_sent = true;
			tell(d->children[i], JOBRUN_SHUTDOWN);
		}
	}
	if (d->shutdown_sent && now >= d->stop_deadline + HARD_KILL_AFTER_MS) {
		for (size_t i = 0; i < d->n_children; i++) {
			kill(d->children[i]->pid, SIGKILL);
		}
	}
}

/* Kill the process of a run that is past its run_timeout by far: its own timer could not
 * stop it. reap() then ends the run as an error. */
static void kill_overdue(struct dispatcher *d)
{
	if (!d->c->max_run_ms) {
		return;
	}
	uint64_t now = now_mono_ms();
	for (size_t i = 0; i < d->n_children; i++) {
		struct child *ch = d->children[i];
		if (!ch->overdue_killed && now >= ch->started_mono + d->c->max_run_ms +
							   overdue_grace_ms(d->c->max_run_ms)) {
			struct slog_ctx ctx = { .run = ch->job.id, .repo = ch->job.repo };
			slog(LOG_ERROR, "run.overdue", &ctx, NULL,
			     "run %lld is past its run_timeout and did not stop: killing it",
			     (long long)ch->job.id);
			ch->overdue_killed = true;
			/* Its session: the run's process and whatever it started outside the
			 * sandbox (stages die with it: their supervisors' parent-death signal). */
			kill(-ch->pid, SIGKILL);
			kill(ch->pid, SIGKILL);
		}
	}
}

/* Remove what attempts of an earlier server left half made: a run directory built under
 * a temporary name (record_make_claimed_dir()) by a process that died before the
 * directory took its name. No run of this server has started yet; that of an earlier one
 * still under way there fails its claim, closed, and is recovered as a run that stopped.
 * Every repository's runs/, configured or not. */
static void sweep_unclaimed(const struct server_config *c)
{
	_cleanup_free_ char *repos = xasprintf("%s/repos", c->data_dir);
	DIR *dir = opendir(repos);
	if (!dir) {
		return;
	}
	uint64_t removed = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.') {
			continue;
		}
		_cleanup_free_ char *runs = xasprintf("%s/%s/runs", repos, e->d_name);
		int n = record_sweep_unclaimed(runs);
		if (n < 0) {
			slog(LOG_WARN, "server.unclaimed", NULL, NULL,
			     "cannot remove the half-made run directories in %s: %s", runs,
			     strerror(-n));
		}
		removed += n > 0 ? (uint64_t)n : 0;
	}
	closedir(dir);
	if (removed) {
		slog(LOG_INFO, "server.unclaimed", NULL,
		     json_pack("{s:I}", "removed", (json_int_t)removed),
		     "removed %llu half-made run director%s (" RECORD_NEW_PREFIX
		     "*: their process stopped before they took their names)",
		     (unsigned long long)removed, removed == 1 ? "y" : "ies");
	}
}

static void *loop(void *arg)
{
	struct dispatcher *d = arg;
	struct job *v;
	size_t n;
	d->c = live_get(d->live);
	sweep_unclaimed(d->c);
	live_put(d->live, d->c);
	d->c = NULL;
	if (store_running(d->store, false, &v, &n) == 0) {
		d->recover = v;
		d->n_recover = d->cap_recover = n;
		if (n) {
			slog(LOG_INFO, "server.recovery", NULL, NULL,
			     "%zu run(s) were running when the server stopped", n);
		}
	}
	uint64_t next_checkpoint = 0;
	for (;;) {
		/* One configuration for the whole turn: a reload takes effect at the next. */
		d->c = live_get(d->live);
		bool stopping = atomic_load(&d->stopping);
		if (now_mono_ms() >= next_checkpoint) {
			/* The committer does not checkpoint the WAL; this thread does, passively.
			 */
			store_checkpoint(d->store);
			next_checkpoint = now_mono_ms() + 1000;
		}
		if (d->n_recover && !stopping && now_mono_ms() >= d->recover_after) {
			recover(d);
		}
		if (stopping) {
			stopping_step(d);
			if (d->n_children == 0) {
				live_put(d->live, d->c);
				d->c = NULL;
				break;
			}
		} else {
			kill_overdue(d);
			resolve_peels(d);
			pass_cancels(d);
			claim_more(d);
			if (d->pruning || now_mono_ms() >= d->next_prune) {
				prune_step(d);
			}
		}
		struct epoll_event evs[16];
		int timeout = d->n_recover || stopping ? 50 : d->pruning ? 0 : 500;
		int ne = epoll_wait(d->ep, evs, 16, timeout);
		for (int i = 0; i < ne; i++) {
			if (evs[i].data.ptr == NULL) {
				uint64_t x;
				ssize_t rr = read(d->wake_fd, &x, sizeof(x));
				(void)rr;
			} else {
				reap(d, evs[i].data.ptr);
			}
		}
		live_put(d->live, d->c);
		d->c = NULL;
	}
	jobs_free(d->recover, d->n_recover);
	d->recover = NULL;
	d->n_recover = 0;
	return NULL;
}

int dispatcher_start(struct live *live, const char *db_path, const char *self_exe,
		     int reporter_wake, struct dispatcher **out)
{
	struct dispatcher *d = xcalloc(1, sizeof(*d));
	d->live = live;
	d->self_exe = xstrdup(self_exe);
	d->reporter_wake = reporter_wake;
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int r = d->ep < 0 || d->wake_fd < 0 ? -errno : 0;
	if (r == 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
		r = epoll_ctl(d->ep, EPOLL_CTL_ADD, d->wake_fd, &ev) < 0 ? -errno : 0;
	}
	if (r == 0) {
		r = store_open(db_path, &d->store);
	}
	if (r == 0) {
		r = -pthread_create(&d->thread, NULL, loop, d);
	}
	if (r < 0) {
		store_close(d->store);
		if (d->ep >= 0) {
			close(d->ep);
		}
		if (d->wake_fd >= 0) {
			close(d->wake_fd);
		}
		free(d->self_exe);
		free(d);
		return r;
	}
	*out = d;
	return 0;
}

int dispatcher_wake_fd(const struct dispatcher *d)
{
	return d->wake_fd;
}

unsigned dispatcher_running(const struct dispatcher *d)
{
	return atomic_load(&((struct dispatcher *)d)->running);
}

uint64_t dispatcher_pruned_runs(const struct dispatcher *d)
{
	return atomic_load(&((struct dispatcher *)d)->pruned_runs);
}

void dispatcher_stop(struct dispatcher *d, uint64_t grace_ms)
{
	if (!d) {
		return;
	}
	d->grace_ms = grace_ms;
	atomic_store(&d->stopping, true);
	poke(d->wake_fd);
	pthread_join(d->thread, NULL);
	store_close(d->store);
	close(d->ep);
	close(d->wake_fd);
	free(d->children);
	free(d->self_exe);
	free(d);
}
