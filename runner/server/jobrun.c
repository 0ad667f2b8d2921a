/*
 * jobrun.c - one attempt of a job (`runner __job`), and the server-side helpers that
 * build its spec and read its outcome.
 *
 * The child waits on a single fd for "stop now": an epoll set holding the cancel pipe and
 * a timerfd for the run's time limit, handed to run_pipeline() as its cancel fd. What the
 * pipe says afterwards (a byte or end-of-file) tells why the run was cancelled.
 */
#include "jobrun.h"

#include "config.h"
#include "diag.h"
#include "gitexport.h"
#include "histscan.h"
#include "mirror.h"
#include "mask.h"
#include "notify.h"
#include "pipeline.h"
#include "record.h"
#include "run.h"
#include "sandbox.h"
#include "sbuf.h"
#include "scanbox.h"
#include "secrets.h"
#include "secscan.h"
#include "slog.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "banned.h"

#define SPEC_MAX    (4u << 20)
#define OUTCOME_MAX (4u << 20)
#define MESSAGE_MAX 2000
#define PIPELINE_NAMES                      \
	{                                   \
		".runner.yml", "runner.yml" \
	}

/* ---------- paths ---------- */

char *jobrun_repo_dir(const char *data_dir, const char *repo_key)
{
	return xasprintf("%s/repos/%s", data_dir, repo_key);
}

char *jobrun_run_dir(const char *data_dir, const char *repo_key, const char *run_id)
{
	return xasprintf("%s/repos/%s/runs/%s", data_dir, repo_key, run_id);
}

char *jobrun_workspace(const char *data_dir, const char *run_id)
{
	return xasprintf("%s/work/%s", data_dir, run_id);
}

char *jobrun_lock_path(const char *data_dir, int64_t job)
{
	return xasprintf("%s/locks/%lld.lock", data_dir, (long long)job);
}

/* ---------- server side ---------- */

static const char *default_username(enum forge f)
{
	return f == FORGE_GITHUB ? "x-access-token" : f == FORGE_GITLAB ? "oauth2" : "token";
}

static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

json_t *jobrun_spec(const struct server_config *c, const struct repo_config *r, const struct job *j)
{
	json_t *s = json_object();
	json_object_set_new(s, "job", json_integer(j->id));
	json_object_set_new(s, "attempt", json_integer(j->attempts));
	json_object_set_new(s, "claimed_ms", json_integer((json_int_t)j->started_ms));
	set_str(s, "run_id", j->run_id);
	set_str(s, "repo", r->name);
	set_str(s, "repo_key", r->key);
	set_str(s, "clone_url", r->clone_url);
	set_str(s, "event", j->event);
	set_str(s, "ref", j->ref);
	set_str(s, "branch", j->branch);
	set_str(s, "tag", j->tag);
	set_str(s, "sha", j->sha);
	set_str(s, "base_branch", j->base_branch);
	set_str(s, "base_sha", j->base_sha);
	set_str(s, "before", j->before_sha);
	json_object_set_new(s, "trusted", json_boolean(j->trusted));
	set_str(s, "pipeline", r->pipeline);
	set_str(s, "data_dir", c->data_dir);
	json_object_set_new(s, "jobs", json_integer(c->jobs_per_run));
	json_object_set_new(s, "keep_failed_workspace", json_boolean(c->keep_failed_workspaces));
	json_object_set_new(s, "max_run_ms", json_integer((json_int_t)c->max_run_ms));
	json_object_set_new(s, "min_free", json_integer((json_int_t)c->min_free));
	if (c->public_url) {
		char *url = xasprintf("%s/runs/%lld", c->public_url, (long long)j->id);
		set_str(s, "run_url", url);
		free(url);
	}
	json_t *auth = json_object();
	set_str(auth, "username", r->username ? r->username : default_username(r->forge));
	set_str(auth, "token", r->token);
	set_str(auth, "ssh_key", r->ssh_key);
	set_str(auth, "ssh_public_key", r->ssh_public_key);
	set_str(auth, "ssh_passphrase", r->ssh_passphrase);
	set_str(auth, "ssh_host_key", r->ssh_host_key);
	json_object_set_new(s, "auth", auth);
	/* Untrusted runs get no secrets: they are not even handed to the process. */
	json_t *secrets = json_object();
	if (j->trusted) {
		for (size_t i = 0; i < r->n_secrets; i++) {
			set_str(secrets, r->secrets[i].name, r->secrets[i].value);
		}
		set_str(s, "secrets_file", r->secrets_file);
	}
	json_object_set_new(s, "secrets", secrets);
	json_t *allow = json_array();
	for (size_t i = 0; i < r->n_history_allow; i++) {
		const struct config_allow *a = &r->history_allow[i];
		json_t *e = json_object();
		set_str(e, a->id ? "id" : "fingerprint", a->id ? a->id : a->fingerprint);
		set_str(e, "reason", a->reason);
		set_str(e, "expires", a->expires);
		json_array_append_new(allow, e);
	}
	json_object_set_new(s, "history_allow", allow);
	return s;
}

int jobrun_read_outcome(const char *run_dir, int64_t claimed_ms, struct job_outcome *o)
{
	memset(o, 0, sizeof(*o));
	_cleanup_free_ char *path = xasprintf("%s/outcome.json", run_dir);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_capped(path, OUTCOME_MAX, &buf, &len);
	if (r < 0) {
		return r == -ENOENT ? -ENOENT : -EINVAL;
	}
	json_t *root = json_loadb(buf, len, 0, NULL);
	const char *state = json_string_value(json_object_get(root, "state"));
	if (!root || !state || job_state_from_name(state, &o->state) < 0 ||
	    !job_state_final(o->state)) {
		json_decref(root);
		return -EINVAL;
	}
	json_t *claimed = json_object_get(root, "claimed_ms");
	if (!json_is_integer(claimed) || json_integer_value(claimed) != claimed_ms) {
		json_decref(root);
		return -ESTALE;
	}
	o->exit_code = (int)json_integer_value(json_object_get(root, "exit_code"));
	const char *msg = json_string_value(json_object_get(root, "message"));
	const char *notify = json_string_value(json_object_get(root, "notify"));
	o->message = msg ? xstrdup(msg) : NULL;
	o->notify = notify ? xstrdup(notify) : NULL;
	o->interrupted = json_is_true(json_object_get(root, "interrupted"));
	const char *commit = json_string_value(json_object_get(root, "commit"));
	if (commit && gitexport_is_full_sha(commit)) {
		memcpy(o->commit, commit, sizeof(o->commit));
	}
	json_decref(root);
	return 0;
}

int jobrun_read_commit(const char *run_dir, int64_t claimed_ms, char out[41])
{
	_cleanup_free_ char *path = xasprintf("%s/live.json", run_dir);
	json_error_t e;
	json_t *root = json_load_file(path, 0, &e);
	json_t *c = json_object_get(root, "commit");
	const char *sha = json_string_value(json_object_get(c, "sha"));
	json_t *claimed = json_object_get(c, "claimed_ms");
	int r = -ENOENT;
	if (sha && gitexport_is_full_sha(sha) && json_is_integer(claimed) &&
	    json_integer_value(claimed) == claimed_ms) {
		memcpy(out, sha, 41);
		r = 0;
	}
	json_decref(root);
	return r;
}

#define CLAIM_MAX 4096

int jobrun_run_dir_is_own(const char *run_dir, int64_t job, const char *run_id, int64_t claimed_ms)
{
	struct stat st;
	if (lstat(run_dir, &st) < 0) {
		return errno == ENOENT ? -ENOENT : -ESTALE;
	}
	if (!S_ISDIR(st.st_mode)) {
		return -ESTALE; /* the attempt makes a directory, never a link */
	}
	_cleanup_free_ char *path = xasprintf("%s/" JOBRUN_CLAIM_FILE, run_dir);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_regular_capped(path, CLAIM_MAX, &buf, &len);
	if (r == -ENOENT) {
		/* A record from before claim files: the outcome says which claim it ends. */
		struct job_outcome o;
		r = jobrun_read_outcome(run_dir, claimed_ms, &o);
		job_outcome_release(&o);
		return r == 0 ? 0 : -ESTALE;
	}
	if (r < 0) {
		return -ESTALE;
	}
	json_t *root = json_loadb(buf, len, 0, NULL);
	json_t *j = json_object_get(root, "job"), *c = json_object_get(root, "claimed_ms");
	const char *id = json_string_value(json_object_get(root, "run_id"));
	bool own = json_is_integer(j) && json_integer_value(j) == job && json_is_integer(c) &&
		   json_integer_value(c) == claimed_ms && id && str_eq(id, run_id);
	json_decref(root);
	return own ? 0 : -ESTALE;
}

void job_outcome_release(struct job_outcome *o)
{
	free(o->message);
	free(o->notify);
	memset(o, 0, sizeof(*o));
}

/* ---------- child side ---------- */

struct jobctx {
	json_t *spec;
	const char *data_dir, *repo_key, *run_id, *sha, *event, *branch, *tag, *ref;
	const char *base_branch, *base_sha, *pipeline_path;
	const char *before; /* push: the ref's old tip, or "" */
	bool trusted;
	int64_t job;
	int64_t claimed_ms; /* when the attempt was claimed: repeated in its outcome */
	char *repo_dir, *run_dir, *ws, *mirror;
	bool own_dir;	      /* run_dir was made by this attempt (and claimed): written into */
	char base_commit[41]; /* untrusted runs: the commit their pipeline comes from */
	char commit[41];      /* a tag's run: the commit its tag object points to, or "" */
	int cancel_fd;	      /* the pipe from the server */
	int stop_fd;	      /* epoll: pipe + timer */
	int timer_fd;
	struct secret_store *secrets;
	struct diag_list dl;
	char *tracked_list; /* <ws>.files: the commit's files (run_options.tracked_list) */
	bool tracked_unknown;
	/* live status */
	json_t *live;
	/* push: the history scan as a stage of the report ("secrets-history"), and its
	 * STAGE_EXIT_* code; NULL for other events */
	json_t *history;
	int history_code;
};

static const char *spec_str(json_t *spec, const char *key)
{
	const char *v = json_string_value(json_object_get(spec, key));
	return v ? v : "";
}

/* Join diagnostics into one bounded line. */
static char *diag_text(struct diag_list *dl, const char *fallback)
{
	struct sbuf sb;
	sbuf_init(&sb, MESSAGE_MAX);
	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];
		if (sb.len) {
			sbuf_puts(&sb, "; ");
		}
		if (d->file && d->line) {
			sbuf_printf(&sb, "%s:%u:%u: ", d->file, d->line, d->col);
		}
		sbuf_puts(&sb, d->msg);
		if (d->hint) {
			sbuf_printf(&sb, " (hint: %s)", d->hint);
		}
	}
	if (!sb.len) {
		sbuf_puts(&sb, fallback);
	}
	return sbuf_steal(&sb);
}

static void write_live(struct jobctx *jc)
{
	if (!jc->own_dir) {
		return; /* never into a directory the attempt did not make */
	}
	_cleanup_free_ char *path = xasprintf("%s/live.json", jc->run_dir);
	_cleanup_free_ char *s = json_dumps(jc->live, JSON_COMPACT);
	if (s) {
		write_file_atomic(path, s, strlen(s), 0644);
	}
}

static void set_phase(struct jobctx *jc, const char *phase)
{
	json_object_set_new(jc->live, "phase", json_string(phase));
	write_live(jc);
}

static void live_stage(void *ud, const struct run *r, size_t stage)
{
	struct jobctx *jc = ud;
	json_t *stages = json_object_get(jc->live, "stages");
	if (!stages) {
		stages = json_object();
		json_object_set_new(jc->live, "stages", stages);
	}
	json_object_set_new(stages, r->stages[stage].def->name,
			    json_string(stage_status_name(r->stages[stage].status)));
	write_live(jc);
}

static void live_started(void *ud, const struct run *r, size_t stage, unsigned attempt)
{
	(void)attempt;
	live_stage(ud, r, stage);
}

/* Why the run was stopped: the byte on the pipe, EOF, or the timer. */
static int stop_reason(struct jobctx *jc)
{
	struct pollfd p = { .fd = jc->cancel_fd, .events = POLLIN };
	if (poll(&p, 1, 0) > 0) {
		char c;
		ssize_t n = read(jc->cancel_fd, &c, 1);
		return n == 1 ? c : 0; /* 0: end of file, the server is gone */
	}
	uint64_t ticks;
	if (read(jc->timer_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks)) {
		return 't';
	}
	return 0;
}

static int write_outcome(struct jobctx *jc, enum job_state state, int exit_code,
			 const char *message, const char *notify, bool interrupted)
{
	json_t *o = json_pack("{s:s, s:i, s:b, s:I}", "state", job_state_name(state), "exit_code",
			      exit_code, "interrupted", interrupted, "claimed_ms",
			      (json_int_t)jc->claimed_ms);
	if (message) {
		/* The message goes to the forge's commit status, which anyone who can see the
		 * commit reads, and may quote the pipeline or a stage (a key of the pipeline
		 * that is a secret's value): masked with the run's secrets. */
		_cleanup_free_ char *masked =
			jc->secrets ? mask_redact_str(secrets_mask(jc->secrets), message) : NULL;
		json_object_set_new(o, "message", json_string(masked ? masked : message));
	}
	if (notify) {
		json_object_set_new(o, "notify", json_string(notify));
	}
	if (*jc->commit) {
		/* The run's sha was a tag object: the server reports on the commit. */
		json_object_set_new(o, "commit", json_string(jc->commit));
	}
	_cleanup_free_ char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	/* Never into a directory the attempt did not make (jobrun_main()). */
	if (jc->own_dir) {
		_cleanup_free_ char *path = xasprintf("%s/outcome.json", jc->run_dir);
		write_file_atomic(path, s, strlen(s), 0644);
	}
	return exit_code;
}

/* The security notification of a report with a blocked stage (NULL when none is). */
static char *security_notify(struct jobctx *jc, const json_t *report,
			     const struct secret_store *mask)
{
	struct notify_ctx nc = {
		.repo = spec_str(jc->spec, "repo"),
		.sha = jc->sha,
		.ref = jc->ref,
		.run = jc->job,
		.run_url = json_string_value(json_object_get(jc->spec, "run_url")),
		.mask = mask ? secrets_mask(mask) : NULL,
	};
	return notify_security_body(report, &nc);
}

/*
 * The report of a run whose pipeline could not start after the history scan: the scan as
 * its one stage, so that what the push brought is shown (`/api/runs/<id>/findings`, the
 * run page) and its fingerprints can be accepted, as when the pipeline ran. Returns 0 or
 * -errno.
 */
static int write_early_report(struct jobctx *jc, const char *msg)
{
	json_t *report =
		json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:i, s:s, s:[O]}", "schema",
			  RECORD_REPORT_SCHEMA, "run_id", jc->run_id, "runner_version",
			  RUNNER_VERSION, "git", "commit", jc->sha, "branch", jc->branch, "tag",
			  jc->tag, "event", jc->event, "result", job_state_name(JOB_ERROR),
			  "exit_code", 4, "error", msg, "stages", jc->history);
	if (!report) {
		return -ENOMEM;
	}
	json_t *sum = json_object();
	for (int st = STATUS_PASSED; st <= STATUS_CANCELLED; st++) {
		const char *name = stage_status_name((enum stage_status)st);
		const char *status = json_string_value(json_object_get(jc->history, "status"));
		json_object_set_new(sum, name, json_integer(str_eq(name, status)));
	}
	json_object_set_new(sum, "allowed_failures", json_integer(0));
	json_object_set_new(report, "summary", sum);
	/* The message may quote what the pipeline or the checkout said: masked as a run's
	 * report is. */
	secrets_mask_json(secrets_mask(jc->secrets), report);
	int r = record_write_report(jc->run_dir, report);
	json_decref(report);
	return r;
}

/* An error before or outside the pipeline: the run is an error (or cancelled). */
/*
 * The run ends before its pipeline runs: cancelled, timed out, or an error, whose exit
 * code is `code`: 2 for what `runner run` calls invalid input (the pipeline, its
 * secrets), else 4.
 */
static int fail_early_code(struct jobctx *jc, int err, const char *fallback, int code)
{
	if (err == -ECANCELED) {
		int why = stop_reason(jc);
		if (why == JOBRUN_CANCEL) {
			return write_outcome(jc, JOB_CANCELLED, 143, "cancelled", NULL, false);
		}
		if (why == 't') {
			return write_outcome(jc, JOB_ERROR, 4,
					     "the run took longer than run_timeout", NULL, false);
		}
		return write_outcome(jc, JOB_CANCELLED, 143, "interrupted: the server stopped",
				     NULL, true);
	}
	_cleanup_free_ char *msg = diag_text(&jc->dl, fallback);
	/* The pipeline could not run, but what the push brought was scanned: a secret found
	 * there is still reported, and kept in the run's report. Without that report the
	 * run's record would not show what it found: fail closed with a message saying so. */
	if (jc->history && write_early_report(jc, msg) < 0) {
		free(msg);
		msg = xstrdup("cannot write the report with the history scan");
	}
	json_t *report = jc->history ? json_pack("{s:[O]}", "stages", jc->history) : NULL;
	_cleanup_free_ char *notify = report ? security_notify(jc, report, jc->secrets) : NULL;
	json_decref(report);
	set_phase(jc, "error");
	return write_outcome(jc, JOB_ERROR, code, msg, notify, false);
}

static int fail_early(struct jobctx *jc, int err, const char *fallback)
{
	return fail_early_code(jc, err, fallback, 4);
}

static bool stop_requested(struct jobctx *jc)
{
	struct pollfd p = { .fd = jc->stop_fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

/* Wait for the job's lock: the previous attempt (if any) and all its stages are gone. */
static int take_lock(struct jobctx *jc)
{
	_cleanup_free_ char *path = jobrun_lock_path(jc->data_dir, jc->job);
	_cleanup_free_ char *dir = xasprintf("%s/locks", jc->data_dir);
	mkdir_p(dir, 0700);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		diag_error(&jc->dl, NULL, 0, 0, NULL, "cannot open the job lock %s: %s", path,
			   strerror(errno));
		return -errno;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			close(fd);
			return -errno;
		}
		struct pollfd p = { .fd = jc->stop_fd, .events = POLLIN };
		if (poll(&p, 1, 50) > 0) {
			close(fd);
			return -ECANCELED;
		}
	}
	return fd; /* held until the process exits */
}

static int load_secrets(struct jobctx *jc)
{
	jc->secrets = secrets_new();
	const char *file = spec_str(jc->spec, "secrets_file");
	if (*file) {
		/* What is wrong with the file goes to the server log only: the run's message
		 * reaches the commit status, /api/runs and the run page, and is no place for
		 * anything read from a secrets file. */
		struct diag_list dl;
		diag_list_init(&dl, 20);
		int r = secrets_load_file(jc->secrets, file, true, &dl);
		if (r < 0) {
			_cleanup_free_ char *detail = diag_text(&dl, "cannot load it");
			struct slog_ctx ctx = { .run = jc->job,
						.repo = spec_str(jc->spec, "repo") };
			slog(LOG_ERROR, "run.secrets_invalid", &ctx, NULL,
			     "run %lld: the secrets file is invalid: %s", (long long)jc->job,
			     detail);
			diag_error(&jc->dl, NULL, 0, 0,
				   "fix secrets_file in the server configuration; runs read it "
				   "again each time",
				   "the secrets file is invalid (see the server log)");
		}
		diag_list_release(&dl);
		if (r < 0) {
			return -EINVAL;
		}
	}
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(jc->spec, "secrets"), name, v)
	{
		if (!json_is_string(v) || secrets_put(jc->secrets, name, json_string_value(v),
						      "server configuration") < 0) {
			diag_error(&jc->dl, NULL, 0, 0, NULL, "invalid secret '%s'", name);
			return -EINVAL;
		}
	}
	return 0;
}

static int sync_mirror(struct jobctx *jc)
{
	json_t *auth = json_object_get(jc->spec, "auth");
	const char *token = json_string_value(json_object_get(auth, "token"));
	struct mirror_auth ma = {
		.username = json_string_value(json_object_get(auth, "username")),
		.token = token,
		.ssh_key = json_string_value(json_object_get(auth, "ssh_key")),
		.ssh_public_key = json_string_value(json_object_get(auth, "ssh_public_key")),
		.ssh_passphrase = json_string_value(json_object_get(auth, "ssh_passphrase")),
		.ssh_host_key = json_string_value(json_object_get(auth, "ssh_host_key")),
	};
	_cleanup_free_ char *spec1 = xasprintf("+%s:%s", jc->ref, jc->ref);
	_cleanup_free_ char *spec2 =
		xasprintf("+refs/heads/%s:refs/heads/%s", jc->base_branch, jc->base_branch);
	const char *specs[2] = { spec1, spec2 };
	bool fetched;
	const char *url = spec_str(jc->spec, "clone_url");
	int r = mirror_sync(jc->mirror, url, specs, 1, &ma, jc->sha, jc->stop_fd, &fetched,
			    &jc->dl);
	if (r == 0 && !jc->trusted && *jc->base_branch) {
		/* Untrusted runs take their pipeline from the base branch: fetch it too. */
		r = mirror_sync(jc->mirror, url, specs + 1, 1, &ma, NULL, jc->stop_fd, &fetched,
				&jc->dl);
	}
	return r;
}

/*
 * A tag's run may name the tag object (GitHub's `after` of an annotated tag, when the
 * payload has no head_commit): from here on the run is the commit it points to, which its
 * workspace, history scan, RUNNER_COMMIT_SHA and commit statuses (through the outcome) name.
 * Any other run names a commit (mirror_sync() lets a tag object through).
 */
static int peel_tag(struct jobctx *jc)
{
	char commit[41];
	int r = mirror_peel(jc->mirror, jc->sha, commit, &jc->dl);
	if (r == 0 && !str_eq(commit, jc->sha) && !*jc->tag) {
		diag_error(&jc->dl, NULL, 0, 0, NULL, "object %.12s of %s is a tag, not a commit",
			   jc->sha, jc->ref);
		return -EINVAL;
	}
	if (r == 0 && !str_eq(commit, jc->sha)) {
		memcpy(jc->commit, commit, sizeof(jc->commit));
		jc->sha = jc->commit;
	}
	return r;
}

/* The push's tip passed its history scan: a new ref's scan leaves out what it reaches.
 * Failing to mark it only makes later scans longer; it is logged (a cancelled run's
 * wait for the lock is not a failure). */
static void mark_scanned(struct jobctx *jc)
{
	struct diag_list dl;
	diag_list_init(&dl, 4);
	int r = mirror_mark_scanned(jc->mirror, jc->ref, jc->sha, jc->stop_fd, &dl);
	if (r < 0 && r != -ECANCELED) {
		_cleanup_free_ char *why = diag_text(&dl, "cannot mark it");
		struct slog_ctx ctx = { .run = jc->job, .repo = spec_str(jc->spec, "repo") };
		slog(LOG_WARN, "run.history_unmarked", &ctx, NULL,
		     "run %lld: the scanned history of %s is not marked: %s", (long long)jc->job,
		     jc->ref, why);
	}
	diag_list_release(&dl);
}

/*
 * The history scan's log, logs/secrets-history.log, as a stage has one (the run's page and
 * /api/runs/<id> link every stage's log; this one was a 404): the range, then the result
 * as a secrets stage prints it, each finding at COMMIT:PATH (twelve digits of the commit
 * that brought it). result is masked already, and secrets are only ever in it redacted.
 * Best effort: the report holds the result whatever happens here.
 */
static void write_history_log(struct jobctx *jc, const json_t *result)
{
	_cleanup_free_ char *dir = xasprintf("%s/logs", jc->run_dir);
	_cleanup_free_ char *path = xasprintf("%s/secrets-history.log", dir);
	if (mkdir_p(dir, 0755) < 0) {
		return;
	}
	FILE *f = fopen(path, "we");
	if (!f) {
		return;
	}
	json_t *view = json_deep_copy(result);
	json_t *findings = json_object_get(view, "findings");
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *fi = json_array_get(findings, i);
		const char *commit = json_string_value(json_object_get(fi, "commit"));
		const char *file = json_string_value(json_object_get(fi, "file"));
		if (commit && file) {
			_cleanup_free_ char *at = xasprintf("%.12s:%s", commit, file);
			json_object_set_new(fi, "file", json_string(at));
		}
	}
	const json_t *h = json_object_get(result, "history");
	if (json_is_object(h)) {
		json_int_t commits = json_integer_value(json_object_get(h, "commits"));
		json_int_t files = json_integer_value(json_object_get(h, "files"));
		const char *base = json_string_value(json_object_get(h, "base"));
		fprintf(f, "secrets-history: %lld commit%s up to %.12s", (long long)commits,
			commits == 1 ? "" : "s", jc->sha);
		if (base) {
			fprintf(f, " (from %.12s)", base);
		}
		fprintf(f, ", %lld new file%s\n", (long long)files, files == 1 ? "" : "s");
	}
	secscan_print_text(f, "secrets-history", view, 500);
	json_decref(view);
	fclose(f);
}

/*
 * The secrets scan of every commit a push brought (runner/histscan.h), on the mirror
 * after the fetch: a secret committed and removed again within the push is in the forge's
 * history, though not in the tip the pipeline runs on. The range is the tip's history
 * without what earlier passing scans covered (MIRROR_SCANNED_PREFIX), and without the
 * ref's base (MIRROR_BASE_PREFIX: its old tip when the server first scanned it), and
 * nothing else. Not without `before`: the ref's previous push may have been blocked, have
 * failed or never ended, and its commits, still in the ref's history, would turn green
 * with the next push. Nor without every ref the mirror has fetched: that would hide a
 * branch whose own scan is still running (two new branches pushed at once with the same
 * commit would each hide it from the other), failed or blocked. Pull requests are not
 * scanned here: their commits are scanned when a push brings them to a branch. The result
 * becomes jc->history, the report's "secrets-history" stage: a finding blocks the run, a
 * scan that fails (a cap, an object the mirror lacks, a sandbox that cannot start, a
 * mark that cannot be written) makes it an error.
 */
static void scan_history(struct jobctx *jc)
{
	if (!str_eq(jc->event, "push")) {
		return;
	}
	set_phase(jc, "history");
	char base[41];
	/* What the server's configuration accepts (history_allow): an allow entry of the gate
	 * each, expiring as the pipeline's do. */
	json_t *with = json_object();
	json_t *allow = json_object_get(jc->spec, "history_allow");
	if (json_is_array(allow)) {
		json_object_set(with, "allow", allow);
	}
	struct histscan_options o = {
		.range = { .tip = jc->sha, .not_under = MIRROR_SCANNED_PREFIX },
		.with = with,
		.cancel_fd = jc->stop_fd,
		.limits = { .max_commits = GITHISTORY_MAX_COMMITS,
			    .max_blobs = GITEXPORT_MAX_ENTRIES,
			    .max_bytes = GITEXPORT_MAX_BYTES },
	};
	struct diag_list dl;
	diag_list_init(&dl, 10);
	json_t *result = json_object();
	uint64_t t0 = now_mono_ms();
	int code =
		mirror_begin_scan(jc->mirror, jc->ref, jc->before, jc->sha, jc->stop_fd, base, &dl);
	if (code == 0) {
		o.range.base = *base ? base : NULL;
		code = histscan_run(jc->mirror, &o, result, &dl);
	}
	bool cancelled = code == -ECANCELED;
	if (code < 0) {
		_cleanup_free_ char *why =
			diag_text(&dl, cancelled ? "cancelled" : "the commits cannot be listed");
		json_decref(result);
		result = json_object();
		code = scanbox_fail(result, why);
	}
	diag_list_release(&dl);
	json_decref(with);
	if (code == STAGE_EXIT_PASSED) {
		mark_scanned(jc);
	}
	/* A cancel (or the run_timeout) stops the scan where it is: the run then ends
	 * cancelled (or as an error) without waiting for the rest of it. */
	const char *status = cancelled			  ? "cancelled"
			     : code == STAGE_EXIT_PASSED  ? "passed"
			     : code == STAGE_EXIT_BLOCKED ? "blocked"
							  : "error";
	const char *summary = json_string_value(json_object_get(result, "summary"));
	_cleanup_free_ char *message =
		code == STAGE_EXIT_PASSED
			? NULL
			: xasprintf("secrets-history: %s", summary ? summary : status);
	jc->history_code =
		code == STAGE_EXIT_PASSED || code == STAGE_EXIT_BLOCKED ? code : STAGE_EXIT_ERROR;
	/* Masked as a stage's result is: the scan reads what the push brought, and a
	 * suppression's reason or a snippet may quote one of the run's secrets. */
	secrets_mask_json(secrets_mask(jc->secrets), result);
	write_history_log(jc, result);
	jc->history = json_pack("{s:s, s:s, s:s, s:b, s:o, s:I, s:o}", "name", "secrets-history",
				"kind", "secrets", "status", status, "allowed_failure", 0,
				"message", message ? json_string(message) : json_null(),
				"duration_ms", (json_int_t)(now_mono_ms() - t0), "result", result);
	json_t *stages = json_object_get(jc->live, "stages");
	if (!stages) {
		stages = json_object();
		json_object_set_new(jc->live, "stages", stages);
	}
	json_object_set_new(stages, "secrets-history", json_string(status));
	write_live(jc);
}

/* The report with the history scan as its first stage, the run's result and exit code
 * the worse of the two; written over the report.json the run wrote. Returns 0 or -errno. */
static int add_history(struct jobctx *jc, json_t *report, enum job_state st, int exit_code)
{
	json_t *stages = json_object_get(report, "stages");
	if (!json_is_array(stages)) {
		stages = json_array();
		json_object_set_new(report, "stages", stages);
	}
	json_array_insert(stages, 0, jc->history);
	json_t *sum = json_object_get(report, "summary");
	const char *status = json_string_value(json_object_get(jc->history, "status"));
	json_t *n = json_object_get(sum, status);
	if (json_is_integer(n)) {
		json_integer_set(n, json_integer_value(n) + 1);
	}
	json_object_set_new(report, "result", json_string(job_state_name(st)));
	json_object_set_new(report, "exit_code", json_integer(exit_code));
	return record_write_report(jc->run_dir, report);
}

/* Files of a fork's pull request listed for the gates; beyond, none of its files' inline
 * suppressions is trusted. */
#define CHANGED_FILES_MAX 100000

/* Baseline files are capped like this when taken from the base commit. */
#define BASE_GATE_FILE_MAX (64u << 20)

/* One relative `baseline` of the pipeline, copied from the base commit into dir. */
static int copy_base_gate_file(struct jobctx *jc, const struct ynode *gate, const char *dir)
{
	const struct ynode *bl = gate ? ynode_get(gate, "baseline") : NULL;
	const char *rel = bl ? ynode_str(bl) : NULL;
	if (!rel || rel[0] == '/') {
		return 0;
	}
	if (strstr(rel, "${") || strstr(rel, "..")) {
		diag_error(&jc->dl, NULL, bl->line, bl->col, NULL,
			   "baseline '%.100s' cannot be taken from the base branch for a pull "
			   "request from a fork (interpolated, or with '..')",
			   rel);
		return -EINVAL;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = gitexport_read_file(jc->mirror, jc->base_commit, rel, BASE_GATE_FILE_MAX, &buf,
				    &len);
	if (r == -ENOENT) {
		return 0; /* the stage finds no baseline there and fails, as it would in the base */
	}
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
	_cleanup_free_ char *parent = xstrdup(path);
	*strrchr(parent, '/') = '\0';
	if (r == 0 && mkdir_p(parent, 0755) < 0) {
		r = -errno;
	}
	if (r == 0) {
		r = write_file_atomic(path, buf, len, 0644);
	}
	if (r < 0) {
		diag_error(&jc->dl, NULL, 0, 0, NULL,
			   "cannot take the baseline %s from the base branch: %s", rel,
			   strerror(-r));
	}
	return r;
}

/*
 * An untrusted run's gate files: the base commit's copy of every relative `baseline` (the
 * pipeline's `gate:` and the stages' `with:`), in a directory of the run that stages cannot
 * write, which the engine reads them from (run_options.gate_root). The pull request's tree
 * has its own copies, which it may have rewritten to list its own findings.
 */
static int base_gate_files(struct jobctx *jc, const struct pipeline *p, char **root)
{
	*root = xasprintf("%s/base-gate", jc->run_dir);
	rm_rf(*root);
	if (mkdir_p(*root, 0755) < 0) {
		return -errno;
	}
	int r = copy_base_gate_file(jc, p->gate, *root);
	for (size_t i = 0; r == 0 && i < p->n_stages; i++) {
		r = copy_base_gate_file(jc, p->stages[i]->with, *root);
	}
	/* The stages' own rule packs (`rules:` files or directories) too. */
	for (size_t i = 0; r == 0 && i < p->n_stages; i++) {
		const struct ynode *rules =
			p->stages[i]->with ? ynode_get(p->stages[i]->with, "rules") : NULL;
		for (size_t k = 0; r == 0 && rules && rules->kind == YNODE_SEQ && k < rules->seq.n;
		     k++) {
			const char *rel = ynode_str(rules->seq.v[k]);
			if (!rel || rel[0] == '/') {
				continue;
			}
			if (strstr(rel, "${") || strstr(rel, "..")) {
				diag_error(
					&jc->dl, NULL, rules->seq.v[k]->line, rules->seq.v[k]->col,
					NULL,
					"rules '%.100s' cannot be taken from the base branch for a "
					"pull request from a fork (interpolated, or with '..')",
					rel);
				r = -EINVAL;
				break;
			}
			r = gitexport_copy_path(jc->mirror, jc->base_commit, rel, *root,
						BASE_GATE_FILE_MAX);
			if (r == -ENOENT) {
				r = 0; /* missing there: the stage fails to load it, as in the base
					*/
			} else if (r < 0) {
				diag_error(&jc->dl, NULL, 0, 0, NULL,
					   "cannot take the rules %s from the base branch: %s", rel,
					   strerror(-r));
			}
		}
	}
	return r;
}

/* The pipeline of an untrusted run: the base branch's, never the pull request's. */
static int load_base_pipeline(struct jobctx *jc, struct pipeline **p)
{
	char base[41];
	_cleanup_free_ char *ref = xasprintf("refs/heads/%s", jc->base_branch);
	/* The base commit the forge named, if the mirror has it; else the branch's head. */
	if (!(gitexport_is_full_sha(jc->base_sha) &&
	      mirror_resolve(jc->mirror, jc->base_sha, base) == 0) &&
	    mirror_resolve(jc->mirror, ref, base) < 0) {
		diag_error(&jc->dl, NULL, 0, 0, NULL,
			   "the base branch '%s' of this pull request is not in the mirror",
			   jc->base_branch);
		return -ENOENT;
	}
	static const char *const names[] = PIPELINE_NAMES;
	const char *one[] = { jc->pipeline_path };
	const char *const *cands = *jc->pipeline_path ? one : names;
	size_t nc = *jc->pipeline_path ? 1 : ARRAY_SIZE(names);
	for (size_t i = 0; i < nc; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		int r = gitexport_read_file(jc->mirror, base, cands[i], PIPELINE_MAX_BYTES, &buf,
					    &len);
		if (r == -ENOENT) {
			continue;
		}
		if (r < 0) {
			diag_error(&jc->dl, NULL, 0, 0, NULL,
				   "cannot read %s of the base branch: %s", cands[i], strerror(-r));
			return r;
		}
		_cleanup_free_ char *name = xasprintf("%s (from %s)", cands[i], jc->base_branch);
		memcpy(jc->base_commit, base, sizeof(base));
		return pipeline_load_buffer(name, jc->ws, buf, len, p, &jc->dl);
	}
	diag_error(&jc->dl, NULL, 0, 0,
		   "pull requests from forks run the pipeline of their base branch",
		   "the base branch '%s' has no pipeline file", jc->base_branch);
	return -ENOENT;
}

/*
 * The pipeline file of the commit, from its workspace: a committed symbolic link is
 * followed only as long as it stays inside the workspace (this process runs outside any
 * sandbox: `.runner.yml -> /etc/shadow` put that file's lines into the run's error
 * message), and only a regular file is read (a FIFO would hang the run). -ENOENT when
 * there is none.
 */
static int load_workspace_pipeline(struct jobctx *jc, const char *rel, struct pipeline **p)
{
	_cleanup_close_ int ws = open(jc->ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int fd =
		ws < 0 ? -1 : (int)syscall(SYS_openat2, ws, rel, &how, sizeof(how));
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			return -ENOENT;
		}
		diag_error(&jc->dl, rel, 0, 0, "keep the pipeline file a file of the repository",
			   "cannot open the pipeline file %s: %s", rel,
			   e == EXDEV ? "it leads outside the repository" : strerror(e));
		return -EINVAL;
	}
	struct stat st;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = fstat(fd, &st) < 0     ? -errno
		: !S_ISREG(st.st_mode) ? -EINVAL
		: st.st_size > PIPELINE_MAX_BYTES
			? -EFBIG
			: read_fd_capped(fd, PIPELINE_MAX_BYTES, &buf, &len);
	if (r < 0) {
		diag_error(&jc->dl, rel, 0, 0, NULL, "cannot read the pipeline file %s: %s", rel,
			   r == -EINVAL ? "not a regular file" : strerror(-r));
		return r == -EFBIG ? r : -EINVAL;
	}
	return pipeline_load_buffer(rel, jc->ws, buf, len, p, &jc->dl);
}

static int load_pipeline(struct jobctx *jc, struct pipeline **p)
{
	if (!jc->trusted) {
		return load_base_pipeline(jc, p);
	}
	static const char *const names[] = PIPELINE_NAMES;
	if (*jc->pipeline_path) {
		int r = load_workspace_pipeline(jc, jc->pipeline_path, p);
		if (r == -ENOENT) {
			diag_error(&jc->dl, NULL, 0, 0, NULL,
				   "commit %.12s has no pipeline file %s", jc->sha,
				   jc->pipeline_path);
		}
		return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int r = load_workspace_pipeline(jc, names[i], p);
		if (r != -ENOENT) {
			return r;
		}
	}
	diag_error(&jc->dl, NULL, 0, 0, "add .runner.yml to the repository",
		   "commit %.12s has no pipeline file (.runner.yml or runner.yml)", jc->sha);
	return -ENOENT;
}

/*
 * Untrusted runs have no secrets: leave out the stages that need one and everything
 * that depends on them. A security stage left out would open the gate: that is an
 * error instead. Fills only/n_only (NULL: all stages).
 */
static int select_untrusted(struct jobctx *jc, const struct pipeline *p, const char ***only,
			    size_t *n_only)
{
	bool *out = xcalloc(p->n_stages, sizeof(bool));
	size_t n_out = 0;
	int ret = 0;
	*only = NULL;
	*n_only = 0;
	for (size_t k = 0; k < p->n_stages; k++) {
		size_t i = p->order[k];
		const struct pstage *s = p->stages[i];
		out[i] = s->n_secrets > 0;
		for (size_t j = 0; j < s->n_needs && !out[i]; j++) {
			out[i] = out[s->needs[j]];
		}
		if (out[i]) {
			n_out++;
			if (s->kind && (s->kind->flags & STAGE_KIND_SECURITY)) {
				diag_error(&jc->dl, p->path, s->pos.line, s->pos.col, NULL,
					   "security stage '%s' needs a secret (or a stage that "
					   "does); pull requests from forks get no secrets, so the "
					   "gate cannot run",
					   s->name);
				ret = -EPERM;
			}
		}
	}
	if (ret == 0 && n_out == p->n_stages) {
		diag_error(&jc->dl, p->path, 0, 0, NULL,
			   "every stage needs a secret; pull requests from forks get none");
		ret = -EPERM;
	}
	if (ret == 0 && n_out > 0) {
		*only = xcalloc(p->n_stages, sizeof(char *));
		for (size_t i = 0; i < p->n_stages; i++) {
			if (!out[i]) {
				(*only)[(*n_only)++] = p->stages[i]->name;
			}
		}
	}
	free(out);
	return ret;
}

static enum job_state state_of(enum run_result r)
{
	switch (r) {
	case RESULT_PASSED:
		return JOB_PASSED;
	case RESULT_FAILED:
		return JOB_FAILED;
	case RESULT_BLOCKED:
		return JOB_BLOCKED;
	case RESULT_CANCELLED:
		return JOB_CANCELLED;
	default:
		return JOB_ERROR;
	}
}

static int run_it(struct jobctx *jc)
{
	struct pipeline *p = NULL;
	struct run *r = NULL;
	const char **only = NULL;
	char *left_out = NULL, *gate_root = NULL;
	char **changed = NULL;
	size_t n_changed = 0;
	bool changed_all = false;
	size_t n_only = 0;
	struct git_info gi;
	_cleanup_free_ char *notify = NULL;
	int ret;

	set_phase(jc, "loading");
	if (load_pipeline(jc, &p) < 0 ||
	    (!jc->trusted && select_untrusted(jc, p, &only, &n_only) < 0)) {
		pipeline_free(p);
		return fail_early_code(jc, -EINVAL, "invalid pipeline", 2);
	}
	if (!jc->trusted && base_gate_files(jc, p, &gate_root) < 0) {
		free(gate_root);
		free(only);
		pipeline_free(p);
		return fail_early(jc, -EINVAL,
				  "the gate's files cannot be taken from the base branch");
	}
	/* Inline suppressions in what the pull request changed are its own: not trusted.
	 * When the changes cannot be listed, none is. */
	if (!jc->trusted && gitexport_changed_files(jc->mirror, jc->base_commit, jc->sha,
						    CHANGED_FILES_MAX, &changed, &n_changed) < 0) {
		changed_all = true;
	}
	git_info_for_commit(jc->mirror, jc->sha, jc->branch, &gi);
	if (*jc->tag) {
		free(gi.tag);
		gi.tag = xstrdup(jc->tag);
	}
	/* The configured clone URL, not the mirror's: without its credentials. Those are
	 * masked in the run's output as a secret is, whatever the run's trust (no stage gets
	 * them; this is for one that finds them some other way). */
	free(gi.repo_url);
	gi.repo_url = url_public(spec_str(jc->spec, "clone_url"));
	_cleanup_free_ char *cred = url_credential(spec_str(jc->spec, "clone_url"));
	struct secret_store *url_mask = NULL;
	if (cred) {
		if (!jc->trusted) {
			url_mask = secrets_new();
		}
		secrets_mask_add(jc->trusted ? jc->secrets : url_mask, cred);
		explicit_bzero(cred, strlen(cred));
	}
	/*
	 * Untrusted runs (forks) get a policy their pipeline cannot loosen (docs/sandbox.md,
	 * "Enforced policies"): no network, no root filesystem of their choosing, and the
	 * default memory and pids limits as required ones (a host that cannot enforce them
	 * fails the stage rather than run a fork's code without them). Trusted runs get what
	 * their pipeline asks for.
	 */
	struct sandbox_policy *policy = NULL;
	if (!jc->trusted) {
		policy = sandbox_policy_new();
		sandbox_policy_set_network(policy, SANDBOX_NET_NONE);
		sandbox_policy_forbid_rootfs(policy);
		sandbox_policy_set_limit(policy, SANDBOX_LIMIT_MEMORY,
					 sandbox_policy_limit(policy, SANDBOX_LIMIT_MEMORY, NULL));
		sandbox_policy_set_limit(policy, SANDBOX_LIMIT_PIDS,
					 sandbox_policy_limit(policy, SANDBOX_LIMIT_PIDS, NULL));
	}
	struct run_observer obs = {
		.userdata = jc,
		.stage_started = live_started,
		.stage_finished = live_stage,
	};
	struct run_options ro = {
		.jobs = (unsigned)json_integer_value(json_object_get(jc->spec, "jobs")),
		.min_free = (uint64_t)json_integer_value(json_object_get(jc->spec, "min_free")),
		.only = only,
		.n_only = n_only,
		.event = jc->event,
		.branch = jc->branch,
		.record_root = jc->repo_dir,
		.secrets = jc->trusted ? jc->secrets : url_mask, /* untrusted: a mask, no secret */
		.policy = policy,
		.observer = &obs,
		.handle_signals = false,
		.cancel_fd = jc->stop_fd,
		.run_id = jc->run_id,
		.git = &gi,
		.gate_root = gate_root,
		.changed_files = (const char *const *)changed,
		.n_changed_files = n_changed,
		.changed_all = changed_all,
		.tracked_list = jc->tracked_unknown ? NULL : jc->tracked_list,
		.tracked_root = jc->ws,
		.tracked_unknown = jc->tracked_unknown,
	};
	set_phase(jc, "running");
	int rr = run_pipeline(p, &ro, &r, &jc->dl);
	if (rr < 0) {
		/* The engine's hints speak to `runner run` users; say where the server's are. */
		for (size_t i = 0; i < jc->dl.n; i++) {
			struct diag *d = &jc->dl.v[i];
			if (strstr(d->msg, "needs secret") && d->hint) {
				free(d->hint);
				d->hint = xstrdup(
					jc->trusted ? "add it under the repository's `secrets:` or "
						      "`secrets_file` in the server configuration"
						    : "runs of pull requests from forks get no "
						      "secrets");
			}
		}
		ret = fail_early(jc, -EINVAL, "the run could not start");
		goto out;
	}
	enum job_state st = state_of(r->result);
	const char *msg = r->record_error;
	bool interrupted = false;
	/* A fork's run that passed without the stages that need secrets says so, in the
	 * forge's status too: a reviewer must not read it as the whole pipeline passing. */
	if (st == JOB_PASSED && !msg && only && n_only < p->n_stages) {
		size_t n = p->n_stages - n_only;
		left_out = xasprintf("%zu stage%s that need%s secrets left out (pull request from "
				     "a fork)",
				     n, n == 1 ? "" : "s", n == 1 ? "s" : "");
		msg = left_out;
	}
	if (st == JOB_CANCELLED) {
		int reason = stop_reason(jc);
		if (reason == 't') {
			st = JOB_ERROR;
			msg = "the run took longer than run_timeout and was stopped";
		} else if (reason == JOBRUN_CANCEL) {
			msg = "cancelled";
		} else {
			interrupted = true;
			msg = reason == JOBRUN_SHUTDOWN ? "interrupted: the server shut down"
							: "interrupted: the server stopped";
		}
	}
	int exit_code = st == JOB_ERROR && r->exit_code == 0 ? 4 : r->exit_code;
	/* The pipeline's own block is notified whatever the history scan makes the run. */
	bool pipeline_blocked = st == JOB_BLOCKED;
	json_t *report = run_report_json(r);
	/* What the push brought counts as the pipeline's stages do: the worse result wins
	 * (a cancelled run stays cancelled). */
	if (jc->history && st != JOB_CANCELLED) {
		if (jc->history_code > exit_code) {
			exit_code = jc->history_code;
			st = exit_code == STAGE_EXIT_BLOCKED ? JOB_BLOCKED : JOB_ERROR;
			if (!msg || msg == left_out) {
				msg = json_string_value(json_object_get(jc->history, "message"));
			}
		}
		if (add_history(jc, report, st, exit_code) < 0) {
			/* The record would not show what blocked or failed it: fail closed. */
			st = JOB_ERROR;
			exit_code = 4;
			msg = "cannot write the report with the history scan";
		}
	}
	if (pipeline_blocked || st == JOB_BLOCKED ||
	    (jc->history && st != JOB_CANCELLED && jc->history_code == STAGE_EXIT_BLOCKED)) {
		notify = security_notify(jc, report, url_mask ? url_mask : jc->secrets);
	}
	json_decref(report);
	set_phase(jc, job_state_name(st));
	ret = write_outcome(jc, st, exit_code, msg, notify, interrupted);
out:
	free(left_out);
	free(gate_root);
	for (size_t i = 0; i < n_changed; i++) {
		free(changed[i]);
	}
	free(changed);
	run_free(r);
	secrets_free(url_mask);
	sandbox_policy_free(policy);
	git_info_release(&gi);
	free(only);
	pipeline_free(p);
	return ret;
}

/* The first file of the directory the attempt makes, there as soon as the directory is:
 * which attempt made it, so that the server shows it as this attempt's record
 * (jobrun_run_dir_is_own()). A new string, or NULL. */
static char *claim_text(const struct jobctx *jc)
{
	json_t *o = json_pack("{s:I, s:s, s:I}", "job", (json_int_t)jc->job, "run_id", jc->run_id,
			      "claimed_ms", (json_int_t)jc->claimed_ms);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static int setup_stop(struct jobctx *jc)
{
	jc->stop_fd = epoll_create1(EPOLL_CLOEXEC);
	jc->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (jc->stop_fd < 0 || jc->timer_fd < 0) {
		return -errno;
	}
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.fd = jc->cancel_fd;
	if (epoll_ctl(jc->stop_fd, EPOLL_CTL_ADD, jc->cancel_fd, &ev) < 0) {
		return -errno;
	}
	ev.data.fd = jc->timer_fd;
	if (epoll_ctl(jc->stop_fd, EPOLL_CTL_ADD, jc->timer_fd, &ev) < 0) {
		return -errno;
	}
	uint64_t ms = (uint64_t)json_integer_value(json_object_get(jc->spec, "max_run_ms"));
	if (ms) {
		struct itimerspec its = { .it_value = { (time_t)(ms / 1000),
							(long)(ms % 1000) * 1000000 } };
		timerfd_settime(jc->timer_fd, 0, &its, NULL);
	}
	return 0;
}

int jobrun_main(void)
{
	struct jobctx jc = { .cancel_fd = JOBRUN_CANCEL_FD, .stop_fd = -1, .timer_fd = -1 };
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int ret = 4;
	diag_list_init(&jc.dl, 20);
	if (read_fd_capped(JOBRUN_SPEC_FD, SPEC_MAX, &buf, &len) < 0 ||
	    !(jc.spec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)) ||
	    !json_is_object(jc.spec)) {
		fprintf(stderr, "runner __job: no job spec on fd 3 (this command is for the "
				"server only)\n");
		json_decref(jc.spec);
		return 4;
	}
	explicit_bzero(buf, len);
	close(JOBRUN_SPEC_FD);
	jc.data_dir = spec_str(jc.spec, "data_dir");
	jc.repo_key = spec_str(jc.spec, "repo_key");
	jc.run_id = spec_str(jc.spec, "run_id");
	jc.sha = spec_str(jc.spec, "sha");
	jc.event = spec_str(jc.spec, "event");
	jc.branch = spec_str(jc.spec, "branch");
	jc.tag = spec_str(jc.spec, "tag");
	jc.ref = spec_str(jc.spec, "ref");
	jc.base_branch = spec_str(jc.spec, "base_branch");
	jc.base_sha = spec_str(jc.spec, "base_sha");
	jc.before = spec_str(jc.spec, "before");
	jc.pipeline_path = spec_str(jc.spec, "pipeline");
	jc.trusted = json_is_true(json_object_get(jc.spec, "trusted"));
	jc.job = json_integer_value(json_object_get(jc.spec, "job"));
	jc.claimed_ms = json_integer_value(json_object_get(jc.spec, "claimed_ms"));
	if (jc.data_dir[0] != '/' || !*jc.repo_key || !*jc.run_id || strchr(jc.run_id, '/') ||
	    !gitexport_is_full_sha(jc.sha) || !*jc.ref) {
		fprintf(stderr, "runner __job: incomplete job spec\n");
		json_decref(jc.spec);
		return 4;
	}
	jc.repo_dir = jobrun_repo_dir(jc.data_dir, jc.repo_key);
	jc.run_dir = jobrun_run_dir(jc.data_dir, jc.repo_key, jc.run_id);
	jc.ws = jobrun_workspace(jc.data_dir, jc.run_id);
	jc.mirror = xasprintf("%s/mirror.git", jc.repo_dir);
	jc.live = json_pack("{s:s}", "phase", "starting");

	int lock = -1;
	if (setup_stop(&jc) < 0) {
		goto out;
	}
	/* The attempt's directory is made new, as `runner run` claims its own: one that is
	 * there already (left by the runs of an earlier queue.db, whose ids started at 1.1 too,
	 * or put there) is never written into, where its logs, artifacts or outcome would pass
	 * for this attempt's. The attempt fails without a word in it. The directory takes its
	 * name with its claim in it: the server's page of the run never finds it without. */
	char *runs = xasprintf("%s/runs", jc.repo_dir);
	int made = mkdir_p(runs, 0755);
	free(runs);
	char *claim = made == 0 ? claim_text(&jc) : NULL;
	if (made == 0) {
		made = claim ? record_make_claimed_dir(jc.run_dir, JOBRUN_CLAIM_FILE, claim)
			     : -ENOMEM;
	}
	free(claim);
	if (made < 0) {
		fprintf(stderr, "runner __job: cannot create the run directory %s: %s%s\n",
			jc.run_dir, strerror(-made),
			made == -EEXIST ? " (an earlier run's, or put there: it is not written "
					  "into; move it away)"
					: "");
		goto out;
	}
	jc.own_dir = true;
	/* Only now: what the attempt says when it cannot take the lock (or is cancelled
	 * while it waits) goes into the directory it made, never into one it found. */
	lock = take_lock(&jc);
	if (lock < 0) {
		ret = fail_early(&jc, lock, "cannot lock the job");
		goto out;
	}
	if (load_secrets(&jc) < 0) {
		ret = fail_early_code(&jc, -EINVAL, "invalid secrets", 2);
		goto out;
	}
	set_phase(&jc, "fetching");
	/* A ref that names no commit (a tag of a tree, a branch at a tag object) is what
	 * `runner run --rev` calls invalid input: exit 2, as an invalid pipeline. */
	int r = sync_mirror(&jc);
	if (r < 0) {
		ret = fail_early_code(&jc, r, "fetch failed", r == -EINVAL ? 2 : 4);
		goto out;
	}
	if ((r = peel_tag(&jc)) < 0) {
		ret = fail_early_code(&jc, r, "the tag cannot be run", r == -EINVAL ? 2 : 4);
		goto out;
	}
	/* The commit the run is, for the server (jobrun_read_commit()): a tag's run that
	 * holds its statuses until it knows it posts them now, to the commit. */
	json_object_set_new(
		jc.live, "commit",
		json_pack("{s:s, s:I}", "sha", jc.sha, "claimed_ms", (json_int_t)jc.claimed_ms));
	write_live(&jc);
	scan_history(&jc);
	set_phase(&jc, "checkout");
	rm_rf(jc.ws);
	if ((r = mkdir_p(jc.ws, 0755)) < 0) {
		diag_error(&jc.dl, NULL, 0, 0, NULL, "cannot create the workspace %s: %s", jc.ws,
			   strerror(-r));
		ret = fail_early(&jc, r, "workspace");
		goto out;
	}
	if (stop_requested(&jc)) {
		ret = fail_early(&jc, -ECANCELED, "");
		goto out;
	}
	r = gitexport_commit(jc.mirror, jc.sha, jc.ws, &jc.dl);
	if (r < 0) {
		ret = fail_early(&jc, r, "checkout failed");
		goto out;
	}
	/* Beside the workspace, not in it. Failing to list the files reads no .gitignore: more
	 * is scanned, not less. */
	jc.tracked_list = xasprintf("%s.files", jc.ws);
	unlink(jc.tracked_list); /* an earlier attempt's */
	jc.tracked_unknown = gitexport_write_file_list(jc.mirror, jc.sha, jc.tracked_list) < 0;
	ret = run_it(&jc);
out:
	if (jc.ws &&
	    !(ret != 0 && json_is_true(json_object_get(jc.spec, "keep_failed_workspace")))) {
		rm_rf(jc.ws);
	}
	if (lock >= 0) {
		close(lock);
	}
	if (jc.stop_fd >= 0) {
		close(jc.stop_fd);
	}
	if (jc.timer_fd >= 0) {
		close(jc.timer_fd);
	}
	secrets_free(jc.secrets);
	diag_list_release(&jc.dl);
	json_decref(jc.live);
	json_decref(jc.history);
	free(jc.repo_dir);
	free(jc.run_dir);
	free(jc.ws);
	if (jc.tracked_list) {
		unlink(jc.tracked_list);
	}
	free(jc.tracked_list);
	free(jc.mirror);
	json_decref(jc.spec);
	return ret;
}
