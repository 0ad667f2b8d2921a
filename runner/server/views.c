/*
 * views.c - run objects, HTML status pages and Prometheus metrics.
 *
 * Everything shown comes from the store or from files the runs wrote (report.json,
 * live.json), both untrusted as far as rendering goes: HTML output escapes every string,
 * and the pages carry no script at all.
 *
 * Findings (GET /api/runs/<id>/findings, and the blocking ones on a run's page) are
 * copied from report.json member by member, never whole: what identifies a finding and
 * what to do about it (rule, severity, place, commit, fingerprint, suppression), never
 * the snippet, the redacted value or a kind's extra members. Every string is masked again
 * with the secrets of the run's repository and the server's credentials (the history
 * scan's result is not stage output, and the run did not mask it), and cut to a bounded
 * length. A run without a readable report gets an error, never an empty list.
 */
#include "views.h"

#include "config.h"
#include "diag.h"
#include "jobrun.h"
#include "mask.h"
#include "notify.h"
#include "sbuf.h"
#include "secrets.h"
#include "slog.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>

#include "banned.h"

#define REPORT_MAX (64u << 20)
#define PAGE_MAX   (32u << 20)

/* Bounds of what a finding shows, in bytes: a cut string ends with "…". */
#define FINDING_TEXT_MAX 1024 /* title, message, suppression reason */
#define STAGE_TEXT_MAX	 4096 /* a stage's message and summary */
#define FINDING_PATH_MAX 4096 /* file, and the paths of places */
#define FINDING_ID_MAX	 128  /* rule, severity, commit, blob, fingerprint, ... */
#define FINDING_PLACES	 8    /* places listed; more are counted in more_places */
#define PAGE_FINDINGS	 100  /* blocking findings listed on a run's page */

const int views_response_codes[6] = { 200, 400, 401, 404, 413, 500 };

static const char *const severity_names[5] = { "critical", "high", "medium", "low", "info" };

static const struct repo_config *repo_of(const struct server_config *c, const struct job *j)
{
	enum forge f;
	return forge_from_name(j->forge, &f) == 0 ? config_find_repo(c, f, j->repo) : NULL;
}

char *views_run_dir(const struct server_config *c, const struct job *j, bool *foreign)
{
	const struct repo_config *r = repo_of(c, j);
	if (foreign) {
		*foreign = false;
	}
	if (!r || str_empty(j->run_id)) {
		return NULL;
	}
	char *dir = jobrun_run_dir(c->data_dir, r->key, j->run_id);
	/* Only what the attempt wrote into the directory it made is its record: one that was
	 * there before it (an earlier queue.db's run of the same id, or put there) is never
	 * shown as this run's, whatever it holds. */
	if (jobrun_run_dir_is_own(dir, j->id, j->run_id, j->started_ms) == -ESTALE) {
		free(dir);
		if (foreign) {
			*foreign = true;
		}
		return NULL;
	}
	return dir;
}

/* dir/name as a JSON object into *out: 0, -ENOENT when there is no such file, another
 * -errno when it cannot be read, -EINVAL when it is not a JSON object. */
static int read_json(const char *dir, const char *name, json_t **out)
{
	*out = NULL;
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_capped(path, REPORT_MAX, &buf, &len);
	if (r < 0) {
		return r;
	}
	json_t *o = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

static json_t *load_json(const char *dir, const char *name)
{
	json_t *o;
	return read_json(dir, name, &o) == 0 ? o : NULL;
}

/* Why run directory dir's report is not shown (e: from read_json, not -ENOENT), naming the
 * file in the data directory: a new string. */
static char *report_problem(const struct server_config *c, const char *dir, int e)
{
	size_t n = strlen(c->data_dir);
	const char *rel = strncmp(dir, c->data_dir, n) == 0 && dir[n] == '/' ? dir + n + 1 : dir;
	if (e == -EFBIG) {
		return xasprintf("the report is too large to show (larger than %u MiB): it is "
				 "%s/report.json in the data directory",
				 REPORT_MAX >> 20, rel);
	}
	return xasprintf("the report cannot be read (%s): it is %s/report.json in the data "
			 "directory",
			 e == -EINVAL ? "not a report" : strerror(-e), rel);
}

/*
 * The report of run directory dir (NULL: none) into *report, and when there is no
 * report.json, its live.json into *live. A report.json that cannot be read (larger than
 * REPORT_MAX, not a report) is said in *problem (NULL when there is none; to be freed):
 * the run is never shown as one without a report, nor with what it showed while it went.
 */
static void load_run_files(const struct server_config *c, const char *dir, json_t **report,
			   json_t **live, char **problem)
{
	*report = *live = NULL;
	*problem = NULL;
	if (!dir) {
		return;
	}
	int e = read_json(dir, "report.json", report);
	if (e == -ENOENT) {
		*live = load_json(dir, "live.json");
	} else if (e < 0) {
		*problem = report_problem(c, dir, e);
	}
}

static json_t *time_json(int64_t ms)
{
	char buf[40];
	return ms > 0 ? json_string(format_rfc3339((uint64_t)ms, buf, sizeof(buf))) : json_null();
}

static int finding_mask(const struct server_config *c, const struct repo_config *r,
			struct secret_store **out);
static json_t *safe_string(const struct mask *m, const char *s, size_t max);

/*
 * Stages from the report: name, kind, status, duration, message, finding counts. A stage's
 * message and summary are shown masked with m, as findings are (the run masked them with
 * its own secrets, not with the repository's credentials); without m (the secrets file
 * cannot be read) they are not shown.
 */
static json_t *report_stages(const json_t *report, int64_t id, bool detail, const struct mask *m)
{
	json_t *out = json_array();
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(report, "stages"), i, st)
	{
		const char *name = json_string_value(json_object_get(st, "name"));
		if (!name) {
			continue;
		}
		json_t *o = json_object();
		json_object_set(o, "name", json_object_get(st, "name"));
		json_object_set(o, "kind", json_object_get(st, "kind"));
		json_object_set(o, "status", json_object_get(st, "status"));
		json_object_set(o, "duration_ms", json_object_get(st, "duration_ms"));
		json_object_set(o, "started_at", json_object_get(st, "started_at"));
		if (detail) {
			const char *msg = json_string_value(json_object_get(st, "message"));
			json_t *res = json_object_get(st, "result");
			const char *sum = json_string_value(json_object_get(res, "summary"));
			if (!m && (msg || sum)) {
				json_object_set_new(o, "message",
						    json_string("not shown: the repository's "
								"secrets file cannot be read"));
			} else {
				json_object_set_new(o, "message",
						    msg ? safe_string(m, msg, STAGE_TEXT_MAX)
							: json_null());
				if (sum) {
					json_object_set_new(o, "summary",
							    safe_string(m, sum, STAGE_TEXT_MAX));
				}
			}
			/* A history scan's range: its tip, base, commits, files and bytes. */
			json_t *hist = json_object_get(res, "history");
			if (json_is_object(hist)) {
				json_object_set_new(o, "history", json_deep_copy(hist));
			}
			json_t *f = json_object_get(res, "findings");
			if (json_is_array(f)) {
				json_object_set_new(o, "findings",
						    json_integer((json_int_t)json_array_size(f)));
			}
			char *log = xasprintf("/api/runs/%lld/logs/%s", (long long)id, name);
			json_object_set_new(o, "log", json_string(log));
			free(log);
		}
		json_array_append_new(out, o);
	}
	return out;
}

static json_t *live_stages(const json_t *live, int64_t id, bool detail)
{
	json_t *out = json_array();
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(live, "stages"), name, v)
	{
		json_t *o = json_pack("{s:s, s:O}", "name", name, "status", v);
		if (detail) {
			char *log = xasprintf("/api/runs/%lld/logs/%s", (long long)id, name);
			json_object_set_new(o, "log", json_string(log));
			free(log);
		}
		json_array_append_new(out, o);
	}
	return out;
}

/* The run object of views_run_json, from the report and live.json already read (either
 * may be NULL), its stages' texts masked with m (see report_stages). */
static json_t *run_json(const struct job *j, bool detail, const json_t *report, const json_t *live,
			const struct mask *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(j->id));
	json_object_set_new(o, "repository", json_string(j->repo));
	json_object_set_new(o, "forge", json_string(j->forge));
	json_object_set_new(o, "event", json_string(j->event));
	json_object_set_new(o, "ref", json_string(j->ref));
	json_object_set_new(o, "branch", json_string(j->branch));
	json_object_set_new(o, "tag", json_string(j->tag));
	json_object_set_new(o, "sha", json_string(j->sha));
	/* A tag push that named its tag object: sha is the commit it points to. */
	json_object_set_new(o, "tag_object",
			    *j->tag_object ? json_string(j->tag_object) : json_null());
	if (j->number) {
		json_object_set_new(o, "number", json_integer(j->number));
	}
	json_object_set_new(o, "trusted", json_boolean(j->trusted));
	json_object_set_new(o, "state", json_string(job_state_name(j->state)));
	json_object_set_new(o, "attempts", json_integer(j->attempts));
	json_object_set_new(o, "exit_code",
			    job_state_final(j->state) ? json_integer(j->exit_code) : json_null());
	json_object_set_new(o, "message",
			    str_empty(j->message) ? json_null() : json_string(j->message));
	json_object_set_new(o, "run_id",
			    str_empty(j->run_id) ? json_null() : json_string(j->run_id));
	json_object_set_new(o, "delivery", json_string(j->delivery));
	json_object_set_new(o, "created_at", time_json(j->created_ms));
	json_object_set_new(o, "started_at", time_json(j->started_ms));
	json_object_set_new(o, "finished_at", time_json(j->finished_ms));
	if (j->finished_ms > 0 && j->started_ms > 0) {
		json_object_set_new(o, "duration_ms", json_integer(j->finished_ms - j->started_ms));
	}
	if (live) {
		json_object_set(o, "phase", json_object_get(live, "phase"));
	}
	json_object_set_new(o, "stages",
			    report ? report_stages(report, j->id, detail, m)
			    : live ? live_stages(live, j->id, detail)
				   : json_array());
	json_t *gate = json_array();
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(report, "stages"), i, st)
	{
		if (json_is_string(json_object_get(st, "status")) &&
		    str_eq(json_string_value(json_object_get(st, "status")), "blocked")) {
			json_array_append(gate, json_object_get(st, "name"));
		}
	}
	json_object_set_new(o, "blocked_by", gate);
	uint64_t counts[5] = { 0 };
	if (report) {
		notify_count_findings(report, counts);
	}
	json_t *fc = json_object();
	for (int k = 0; k < 5; k++) {
		json_object_set_new(fc, severity_names[k], json_integer((json_int_t)counts[k]));
	}
	json_object_set_new(o, "blocking_findings", fc);
	/* Where the findings themselves are (every stage's, with their fingerprints). */
	if (report) {
		char *url = xasprintf("/api/runs/%lld/findings", (long long)j->id);
		json_object_set_new(o, "findings_url", json_string(url));
		free(url);
	} else {
		json_object_set_new(o, "findings_url", json_null());
	}
	if (detail && report) {
		json_object_set(o, "pipeline", json_object_get(report, "pipeline"));
	}
	return o;
}

/* The mask for the texts of run j's stages, or NULL (the secrets file cannot be read, or
 * the repository is no longer configured). *ss is to be freed. */
static const struct mask *stage_mask(const struct server_config *c, const struct job *j,
				     struct secret_store **ss)
{
	const struct repo_config *r = repo_of(c, j);
	*ss = NULL;
	if (!r || finding_mask(c, r, ss) < 0) {
		return NULL;
	}
	return secrets_mask(*ss);
}

json_t *views_run_json(const struct server_config *c, const struct job *j, bool detail)
{
	bool foreign;
	_cleanup_free_ char *dir = views_run_dir(c, j, &foreign);
	json_t *report, *live;
	_cleanup_free_ char *problem = NULL;
	load_run_files(c, dir, &report, &live, &problem);
	struct secret_store *ss = NULL;
	const struct mask *m = detail && report ? stage_mask(c, j, &ss) : NULL;
	json_t *o = run_json(j, detail, report, live, m);
	if (foreign) {
		json_object_set_new(o, "record", json_string(VIEWS_NO_RECORD));
	}
	if (problem) {
		json_object_set_new(o, "report_error", json_string(problem));
	}
	secrets_free(ss);
	json_decref(report);
	json_decref(live);
	return o;
}

/* ---------- findings ---------- */

/*
 * What a finding's strings are masked with: the secrets a run of repository r gets (its
 * secrets file, read again as each run reads it, and its inline secrets), the credentials
 * of the repository (webhook secret, fetch and API tokens, SSH passphrase, the clone
 * URL's), and the server's own (access token, notification URL). Returns 0 or -errno
 * (the secrets file cannot be read: nothing is shown unmasked then).
 */
static int finding_mask(const struct server_config *c, const struct repo_config *r,
			struct secret_store **out)
{
	struct secret_store *s = secrets_new();
	if (!str_empty(r->secrets_file)) {
		struct diag_list dl;
		diag_list_init(&dl, 4);
		int e = secrets_load_file(s, r->secrets_file, true, &dl);
		diag_list_release(&dl);
		if (e < 0) {
			secrets_free(s);
			return e;
		}
	}
	for (size_t i = 0; i < r->n_secrets; i++) {
		if (secrets_put(s, r->secrets[i].name, r->secrets[i].value,
				"server configuration") < 0) {
			secrets_mask_add(s, r->secrets[i].value);
		}
	}
	const char *creds[] = { r->secret,
				r->previous_secret.value,
				r->token,
				r->api_token,
				r->ssh_passphrase,
				c->access_token,
				c->previous_access_token.value,
				c->notify_url };
	for (size_t i = 0; i < ARRAY_SIZE(creds); i++) {
		if (!str_empty(creds[i])) {
			secrets_mask_add(s, creds[i]);
		}
	}
	char *cred = url_credential(r->clone_url);
	if (cred) {
		secrets_mask_add(s, cred);
		explicit_bzero(cred, strlen(cred));
		free(cred);
	}
	*out = s;
	return 0;
}

/* s masked, cut to max bytes on a character boundary ("…" marks a cut), valid UTF-8. */
static json_t *safe_string(const struct mask *m, const char *s, size_t max)
{
	bool cut;
	_cleanup_free_ char *clean = mask_redact_cut(m, s, max, &cut);
	if (!cut) {
		return json_string(clean);
	}
	_cleanup_free_ char *marked = xasprintf("%s…", clean);
	return json_string(marked);
}

static void copy_str(json_t *to, const json_t *from, const char *key, const struct mask *m,
		     size_t max)
{
	const char *s = json_string_value(json_object_get(from, key));
	if (s) {
		json_object_set_new(to, key, safe_string(m, s, max));
	}
}

static void copy_count(json_t *to, const json_t *from, const char *key)
{
	const json_t *v = json_object_get(from, key);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		json_object_set_new(to, key, json_integer(json_integer_value(v)));
	}
}

/* The members of finding f of stage st that are safe to show (see the top of the file). */
static json_t *safe_finding(const json_t *st, const json_t *f, const struct mask *m)
{
	json_t *o = json_object();
	const char *stage = json_string_value(json_object_get(st, "name"));
	json_object_set_new(o, "stage", safe_string(m, stage ? stage : "", FINDING_ID_MAX));
	copy_str(o, f, "kind", m, FINDING_ID_MAX);
	copy_str(o, f, "rule_id", m, FINDING_ID_MAX);
	copy_str(o, f, "severity", m, FINDING_ID_MAX);
	copy_str(o, f, "title", m, FINDING_TEXT_MAX);
	copy_str(o, f, "message", m, FINDING_TEXT_MAX);
	copy_str(o, f, "file", m, FINDING_PATH_MAX);
	copy_count(o, f, "line");
	copy_count(o, f, "column");
	/* A history scan's finding: the commit that brought it first, its blob, and every
	 * commit and path that brought it. */
	copy_str(o, f, "commit", m, FINDING_ID_MAX);
	copy_str(o, f, "blob", m, FINDING_ID_MAX);
	const json_t *places = json_object_get(f, "places");
	if (json_is_array(places)) {
		json_t *pl = json_array();
		size_t i;
		const json_t *p;
		json_array_foreach(places, i, p)
		{
			if (i == FINDING_PLACES) {
				break;
			}
			json_t *q = json_object();
			copy_str(q, p, "commit", m, FINDING_ID_MAX);
			copy_str(q, p, "path", m, FINDING_PATH_MAX);
			json_array_append_new(pl, q);
		}
		json_object_set_new(o, "places", pl);
		const json_t *more = json_object_get(f, "more_places");
		json_int_t n = json_is_integer(more) && json_integer_value(more) > 0
				       ? json_integer_value(more)
				       : 0;
		n += (json_int_t)(json_array_size(places) - json_array_size(pl));
		if (n > 0) {
			json_object_set_new(o, "more_places", json_integer(n));
		}
	}
	copy_str(o, f, "fingerprint", m, FINDING_ID_MAX);
	copy_str(o, f, "disposition", m, FINDING_ID_MAX);
	json_object_set_new(o, "blocking", json_boolean(notify_finding_blocks(st, f)));
	const json_t *sup = json_object_get(f, "suppression");
	if (json_is_object(sup)) {
		json_t *s = json_object();
		copy_str(s, sup, "kind", m, FINDING_ID_MAX);
		copy_str(s, sup, "reason", m, FINDING_TEXT_MAX);
		copy_str(s, sup, "expires", m, FINDING_ID_MAX);
		json_object_set_new(o, "suppression", s);
	}
	return o;
}

/* How many findings the report's stages hold: 0, or -EINVAL when it is not what a run
 * writes (stages not a list, a stage's findings not a list of objects), which must not
 * be shown as fewer findings than there are. */
static int count_findings(const json_t *report, size_t *total)
{
	const json_t *stages = json_object_get(report, "stages");
	if (!json_is_array(stages)) {
		return -EINVAL;
	}
	size_t n = 0, i;
	const json_t *st;
	json_array_foreach(stages, i, st)
	{
		if (!json_is_object(st)) {
			return -EINVAL;
		}
		const json_t *fl = json_object_get(json_object_get(st, "result"), "findings");
		if (!fl) {
			continue;
		}
		if (!json_is_array(fl) || !json_is_string(json_object_get(st, "name"))) {
			return -EINVAL;
		}
		size_t k;
		const json_t *f;
		json_array_foreach(fl, k, f)
		{
			if (!json_is_object(f)) {
				return -EINVAL;
			}
		}
		n += json_array_size(fl);
	}
	*total = n;
	return 0;
}

static json_t *error_json(unsigned *status, unsigned code, const char *msg)
{
	*status = code;
	return json_pack("{s:s}", "error", msg);
}

json_t *views_findings_json(const struct server_config *c, const struct job *j,
			    const char *offset_arg, const char *limit_arg, unsigned *status)
{
	uint64_t offset = 0, limit = VIEWS_FINDINGS_DEFAULT;
	if (offset_arg && parse_uint(offset_arg, INT64_MAX, &offset) < 0) {
		return error_json(status, 400, "offset must be a whole number, 0 or more");
	}
	if (limit_arg && (parse_uint(limit_arg, UINT64_MAX, &limit) < 0 || limit == 0)) {
		return error_json(status, 400,
				  "limit must be a whole number, 1 or more (at most "
				  "500 are given at once)");
	}
	limit = MIN(limit, VIEWS_FINDINGS_MAX);
	if (!job_state_final(j->state)) {
		json_t *o = error_json(status, 409,
				       "the run has not finished: its findings are not known yet");
		json_object_set_new(o, "state", json_string(job_state_name(j->state)));
		return o;
	}
	const struct repo_config *r = repo_of(c, j);
	if (!r) {
		return error_json(status, 404,
				  "this run has no record: its repository is no longer configured");
	}
	if (str_empty(j->run_id)) {
		return error_json(status, 404,
				  "this run has no report: it ended before its stages ran (see "
				  "its message)");
	}
	bool foreign;
	_cleanup_free_ char *dir = views_run_dir(c, j, &foreign);
	if (foreign) {
		return error_json(status, 404, "this run has " VIEWS_NO_RECORD);
	}
	if (!dir) {
		return error_json(status, 404,
				  "this run has no report: its record was removed, or it ended "
				  "before its directory was made (see its message)");
	}
	struct slog_ctx ctx = { .run = j->id, .repo = j->repo };
	json_t *report;
	size_t total = 0;
	int e = read_json(dir, "report.json", &report);
	if (e == -ENOENT) {
		return error_json(status, 404,
				  "this run has no report: it ended before its stages ran (see "
				  "its message), or its record was removed");
	}
	if (e == 0) {
		e = count_findings(report, &total);
	}
	if (e < 0) {
		json_decref(report);
		slog(LOG_WARN, "api.report_unreadable", &ctx, NULL,
		     "run %lld: its report.json cannot be read (%s): its findings are not shown",
		     (long long)j->id, e == -EINVAL ? "not a report" : strerror(-e));
		if (e == -EFBIG) {
			_cleanup_free_ char *problem = report_problem(c, dir, e);
			return error_json(status, 500, problem);
		}
		return error_json(status, 500, "the run's report cannot be read");
	}
	struct secret_store *ss;
	e = finding_mask(c, r, &ss);
	if (e < 0) {
		json_decref(report);
		slog(LOG_WARN, "api.secrets_invalid", &ctx, NULL,
		     "run %lld: the repository's secrets file cannot be read (%s): its findings "
		     "are not shown",
		     (long long)j->id, strerror(-e));
		return error_json(status, 500,
				  "the findings cannot be masked: the repository's secrets file "
				  "cannot be read (see the server log)");
	}
	const struct mask *m = secrets_mask(ss);
	json_t *list = json_array();
	uint64_t at = 0;
	size_t i;
	const json_t *st;
	json_array_foreach(json_object_get(report, "stages"), i, st)
	{
		size_t k;
		const json_t *f;
		json_array_foreach(json_object_get(json_object_get(st, "result"), "findings"), k, f)
		{
			if (at >= offset && at - offset < limit) {
				json_array_append_new(list, safe_finding(st, f, m));
			}
			at++;
		}
	}
	json_t *next = json_null();
	if (offset < total && total - offset > limit) {
		char *url = xasprintf("/api/runs/%lld/findings?offset=%llu&limit=%llu",
				      (long long)j->id, (unsigned long long)(offset + limit),
				      (unsigned long long)limit);
		next = json_string(url);
		free(url);
	}
	*status = 200;
	json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:o, s:o}", "run", (json_int_t)j->id,
			      "state", job_state_name(j->state), "total", (json_int_t)total,
			      "offset", (json_int_t)offset, "limit", (json_int_t)limit, "next",
			      next, "findings", list);
	secrets_free(ss);
	json_decref(report);
	return o;
}

/* ---------- HTML ---------- */

static void esc(struct sbuf *sb, const char *s)
{
	if (s) {
		_cleanup_free_ char *clean = utf8_sanitize(s, strlen(s));
		sbuf_put_escaped(sb, clean, true);
	}
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
	"h1{font-size:1.3em}table{border-collapse:collapse;width:100%;background:#fff}"
	"th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}"
	"th{background:#f0f0f0}code{font-size:.9em}.s{display:inline-block;border-radius:3px;"
	"padding:0 .4em;margin:1px;font-size:.85em;color:#fff;background:#888}"
	".passed{background:#2a7d2a}.failed{background:#c0392b}.blocked{background:#8e44ad}"
	".error{background:#d35400}.cancelled,.skipped{background:#7f8c8d}"
	".running{background:#2471a3}.queued,.pending{background:#aab}"
	".muted{color:#777}a{color:#2471a3}";

static void page_head(struct sbuf *sb, const char *title, bool refresh)
{
	sbuf_puts(sb, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
	if (refresh) {
		sbuf_puts(sb, "<meta http-equiv=\"refresh\" content=\"10\">");
	}
	sbuf_puts(sb, "<title>");
	esc(sb, title);
	sbuf_printf(sb, "</title><style>%s</style></head><body>", css);
}

static void badge(struct sbuf *sb, const char *label, const char *status)
{
	sbuf_puts(sb, "<span class=\"s ");
	esc(sb, status);
	sbuf_puts(sb, "\">");
	esc(sb, label);
	sbuf_puts(sb, "</span>");
}

static void stage_badges(struct sbuf *sb, const json_t *run)
{
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(run, "stages"), i, st)
	{
		const char *name = json_string_value(json_object_get(st, "name"));
		const char *status = json_string_value(json_object_get(st, "status"));
		_cleanup_free_ char *label =
			xasprintf("%s: %s", name ? name : "?", status ? status : "?");
		badge(sb, label, status ? status : "pending");
	}
}

static void gate_cell(struct sbuf *sb, const json_t *run)
{
	const json_t *by = json_object_get(run, "blocked_by");
	const char *problem = json_string_value(json_object_get(run, "report_error"));
	if (problem) {
		/* Not "—": whether the gate blocked it is in the report not shown. */
		sbuf_puts(sb, "<b>not known</b><br><span class=\"muted\">");
		esc(sb, problem);
		sbuf_puts(sb, "</span>");
		return;
	}
	if (json_array_size(by) == 0) {
		sbuf_puts(sb, "<span class=\"muted\">—</span>");
		return;
	}
	sbuf_puts(sb, "<b>blocked</b> by ");
	size_t i;
	json_t *v;
	json_array_foreach(by, i, v)
	{
		if (i) {
			sbuf_puts(sb, ", ");
		}
		esc(sb, json_string_value(v));
	}
	const json_t *fc = json_object_get(run, "blocking_findings");
	sbuf_puts(sb, "<br><span class=\"muted\">");
	for (int k = 0; k < 5; k++) {
		json_int_t n = json_integer_value(json_object_get(fc, severity_names[k]));
		if (n) {
			sbuf_printf(sb, "%lld %s ", (long long)n, severity_names[k]);
		}
	}
	sbuf_puts(sb, "</span>");
}

static void run_ref(struct sbuf *sb, const struct job *j)
{
	if (j->number) {
		sbuf_printf(sb, "#%lld ", (long long)j->number);
		esc(sb, j->branch);
		sbuf_puts(sb, " → ");
		esc(sb, j->base_branch);
	} else if (!str_empty(j->tag)) {
		sbuf_puts(sb, "tag ");
		esc(sb, j->tag);
	} else {
		esc(sb, j->branch);
	}
	if (!j->trusted) {
		sbuf_puts(sb, " <span class=\"muted\">(fork)</span>");
	}
}

/* Why queued runs do not start, when they do not: without it a paused server (a
 * maintenance that was never ended) showed its runs queued for ever, and nothing else. */
static void paused_note(struct sbuf *sb, const struct server_config *c)
{
	if (c->paused) {
		sbuf_puts(sb, "<p><strong>Paused</strong>: deliveries are accepted and queued, and "
			      "no run starts until the configuration says <code>paused: "
			      "false</code> (docs/server.md).</p>");
	}
}

char *views_index_html(const struct server_config *c, const struct job *jobs, size_t n,
		       unsigned running)
{
	struct sbuf sb;
	sbuf_init(&sb, PAGE_MAX);
	page_head(&sb, "runner", true);
	sbuf_printf(&sb,
		    "<h1>runner</h1><p class=\"muted\">%u running · showing the %zu most recent "
		    "runs · <a href=\"/api/runs\">JSON</a> · <a href=\"/metrics\">metrics</a></p>",
		    running, n);
	paused_note(&sb, c);
	sbuf_puts(&sb, "<table><tr><th>Run</th><th>Repository</th><th>Ref</th><th>Commit</th>"
		       "<th>State</th><th>Stages</th><th>Gate</th><th>Created</th></tr>");
	for (size_t i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		json_t *run = views_run_json(c, j, false);
		char ts[40];
		sbuf_printf(&sb, "<tr><td><a href=\"/runs/%lld\">%lld</a></td><td>",
			    (long long)j->id, (long long)j->id);
		esc(&sb, j->repo);
		sbuf_puts(&sb, "</td><td>");
		run_ref(&sb, j);
		if (j->peel) { /* sha may be the tag object (views_run_html) */
			sbuf_puts(&sb, "</td><td><span class=\"muted\">not resolved yet</span>"
				       "</td><td>");
		} else {
			sbuf_printf(&sb, "</td><td><code>%.12s</code></td><td>", j->sha);
		}
		badge(&sb, job_state_name(j->state), job_state_name(j->state));
		sbuf_puts(&sb, "</td><td>");
		stage_badges(&sb, run);
		sbuf_puts(&sb, "</td><td>");
		gate_cell(&sb, run);
		sbuf_printf(&sb, "</td><td class=\"muted\">%s</td></tr>",
			    format_rfc3339((uint64_t)j->created_ms, ts, sizeof(ts)));
		json_decref(run);
	}
	sbuf_puts(&sb, "</table></body></html>\n");
	return sbuf_steal(&sb);
}

/* The blocking findings of the report's blocked stages (at most PAGE_FINDINGS of them),
 * as the API shows them (masked with m; NULL: not shown), and a link to all of them. */
static void findings_section(struct sbuf *sb, const struct server_config *c, const struct job *j,
			     const json_t *report, const struct mask *m)
{
	size_t total;
	if (!report || !repo_of(c, j) || count_findings(report, &total) < 0) {
		return;
	}
	if (!m) {
		sbuf_puts(sb, "<h2>Blocking findings</h2><p class=\"muted\">Not shown: the "
			      "repository's secrets file cannot be read.</p>");
		return;
	}
	struct sbuf rows;
	sbuf_init(&rows, PAGE_MAX);
	size_t shown = 0, blocking = 0, i;
	const json_t *st;
	json_array_foreach(json_object_get(report, "stages"), i, st)
	{
		size_t k;
		const json_t *f;
		json_array_foreach(json_object_get(json_object_get(st, "result"), "findings"), k, f)
		{
			if (!notify_finding_blocks(st, f) || blocking++ >= PAGE_FINDINGS) {
				continue;
			}
			shown++;
			json_t *o = safe_finding(st, f, m);
			const char *commit = json_string_value(json_object_get(o, "commit"));
			json_t *line = json_object_get(o, "line");
			sbuf_puts(&rows, "<tr><td>");
			esc(&rows, json_string_value(json_object_get(o, "stage")));
			sbuf_puts(&rows, "</td><td>");
			esc(&rows, json_string_value(json_object_get(o, "severity")));
			sbuf_puts(&rows, "</td><td><code>");
			esc(&rows, json_string_value(json_object_get(o, "rule_id")));
			sbuf_puts(&rows, "</code></td><td><code>");
			if (commit) {
				_cleanup_free_ char *c12 = xasprintf("%.12s:", commit);
				esc(&rows, c12);
			}
			esc(&rows, json_string_value(json_object_get(o, "file")));
			if (json_integer_value(line) > 0) {
				sbuf_printf(&rows, ":%lld", (long long)json_integer_value(line));
			}
			sbuf_puts(&rows, "</code></td><td>");
			esc(&rows, json_string_value(json_object_get(o, "message")));
			sbuf_puts(&rows, "</td><td><code>");
			esc(&rows, json_string_value(json_object_get(o, "fingerprint")));
			sbuf_puts(&rows, "</code></td></tr>");
			json_decref(o);
		}
	}
	if (blocking > 0) {
		sbuf_puts(sb,
			  "<h2>Blocking findings</h2><table><tr><th>Stage</th><th>Severity</th>"
			  "<th>Rule</th><th>Where</th><th>Message</th><th>Fingerprint</th></tr>");
		sbuf_append(sb, rows.data, rows.len);
		sbuf_puts(sb, "</table>");
	}
	sbuf_puts(sb, "<p class=\"muted\">");
	if (blocking > shown) {
		sbuf_printf(sb, "…and %zu more blocking findings. ", blocking - shown);
	}
	sbuf_printf(sb,
		    "%zu finding%s in all, suppressed ones too: <a "
		    "href=\"/api/runs/%lld/findings\">JSON</a></p>",
		    total, total == 1 ? "" : "s", (long long)j->id);
	sbuf_release(&rows);
}

char *views_run_html(const struct server_config *c, const struct job *j)
{
	struct sbuf sb;
	sbuf_init(&sb, PAGE_MAX);
	bool foreign;
	_cleanup_free_ char *dir = views_run_dir(c, j, &foreign);
	json_t *report, *live;
	_cleanup_free_ char *problem = NULL;
	load_run_files(c, dir, &report, &live, &problem);
	struct secret_store *ss = NULL;
	const struct mask *m = report ? stage_mask(c, j, &ss) : NULL;
	json_t *run = run_json(j, true, report, live, m);
	if (problem) {
		json_object_set_new(run, "report_error", json_string(problem));
	}
	_cleanup_free_ char *title = xasprintf("runner: run %lld", (long long)j->id);
	page_head(&sb, title, !job_state_final(j->state));
	sbuf_printf(&sb, "<p><a href=\"/\">all runs</a></p><h1>Run %lld ", (long long)j->id);
	badge(&sb, job_state_name(j->state), job_state_name(j->state));
	sbuf_puts(&sb, "</h1>");
	if (j->state == JOB_QUEUED) {
		paused_note(&sb, c);
	}
	sbuf_puts(&sb, "<table><tr><th>Repository</th><td>");
	esc(&sb, j->repo);
	sbuf_puts(&sb, "</td></tr><tr><th>Ref</th><td>");
	run_ref(&sb, j);
	if (j->peel) {
		/* A tag's run that has not read its tag yet: the id the push named may be the
		 * tag object, not the commit. */
		sbuf_printf(&sb,
			    "</td></tr><tr><th>Commit</th><td>not resolved yet (the push named "
			    "<code>%s</code>, which may be the tag object)</td></tr>",
			    j->sha);
	} else {
		sbuf_printf(&sb, "</td></tr><tr><th>Commit</th><td><code>%s</code></td></tr>",
			    j->sha);
	}
	if (*j->tag_object) {
		sbuf_printf(&sb, "<tr><th>Tag object</th><td><code>%s</code></td></tr>",
			    j->tag_object);
	}
	sbuf_puts(&sb, "<tr><th>Event</th><td>");
	esc(&sb, j->event);
	sbuf_printf(&sb, "</td></tr><tr><th>Attempts</th><td>%u</td></tr>", j->attempts);
	if (!str_empty(j->message)) {
		sbuf_puts(&sb, "<tr><th>Message</th><td>");
		esc(&sb, j->message);
		sbuf_puts(&sb, "</td></tr>");
	}
	if (foreign) {
		sbuf_puts(&sb, "<tr><th>Record</th><td>" VIEWS_NO_RECORD "</td></tr>");
	}
	sbuf_puts(&sb, "<tr><th>Gate</th><td>");
	gate_cell(&sb, run);
	sbuf_puts(&sb, "</td></tr></table><h2>Stages</h2>");
	if (problem) {
		sbuf_puts(&sb, "<p><b>Not shown: ");
		esc(&sb, problem);
		sbuf_puts(&sb, ".</b></p>");
	}
	sbuf_puts(&sb, "<table><tr><th>Stage</th><th>Status</th><th>Duration</th><th>Details</th>"
		       "<th>Log</th></tr>");
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(run, "stages"), i, st)
	{
		const char *status = json_string_value(json_object_get(st, "status"));
		char dur[32] = "";
		json_t *d = json_object_get(st, "duration_ms");
		if (json_is_integer(d)) {
			format_duration((uint64_t)json_integer_value(d), dur, sizeof(dur));
		}
		sbuf_puts(&sb, "<tr><td>");
		esc(&sb, json_string_value(json_object_get(st, "name")));
		sbuf_puts(&sb, "</td><td>");
		badge(&sb, status ? status : "?", status ? status : "pending");
		sbuf_printf(&sb, "</td><td>%s</td><td>", dur);
		esc(&sb, json_string_value(json_object_get(st, "summary")));
		if (json_is_string(json_object_get(st, "message"))) {
			sbuf_puts(&sb, " ");
			esc(&sb, json_string_value(json_object_get(st, "message")));
		}
		sbuf_puts(&sb, "</td><td><a href=\"");
		esc(&sb, json_string_value(json_object_get(st, "log")));
		sbuf_puts(&sb, "\">log</a></td></tr>");
	}
	sbuf_puts(&sb, "</table>");
	findings_section(&sb, c, j, report, m);
	sbuf_puts(&sb, "</body></html>\n");
	secrets_free(ss);
	json_decref(run);
	json_decref(report);
	json_decref(live);
	return sbuf_steal(&sb);
}

/* ---------- metrics ---------- */

char *views_metrics(const struct store_counts *sc, const struct http_stats *hs, unsigned running,
		    uint64_t pruned_runs)
{
	static const char *const delivery_names[VIEWS_DELIVERY_COUNT] = {
		[VIEWS_DELIVERY_ACCEPTED] = "accepted",
		[VIEWS_DELIVERY_DUPLICATE] = "duplicate",
		[VIEWS_DELIVERY_IGNORED] = "ignored",
		[VIEWS_DELIVERY_REJECTED] = "rejected",
		[VIEWS_DELIVERY_QUEUE_FULL] = "queue_full",
		[VIEWS_DELIVERY_BUSY] = "busy",
		[VIEWS_DELIVERY_ERROR] = "error",
	};
	struct sbuf sb;
	sbuf_init(&sb, 1u << 20);
	sbuf_printf(&sb,
		    "# HELP runner_queue_depth Jobs waiting in the queue.\n"
		    "# TYPE runner_queue_depth gauge\nrunner_queue_depth %llu\n"
		    "# HELP runner_runs_running Runs going now.\n"
		    "# TYPE runner_runs_running gauge\nrunner_runs_running %u\n"
		    "# HELP runner_runs_total Finished runs by result.\n"
		    "# TYPE runner_runs_total counter\n",
		    (unsigned long long)sc->by_state[JOB_QUEUED], running);
	for (int s = JOB_PASSED; s < JOB_STATE_COUNT; s++) {
		sbuf_printf(&sb, "runner_runs_total{result=\"%s\"} %llu\n",
			    job_state_name((enum job_state)s), (unsigned long long)sc->by_state[s]);
	}
	sbuf_puts(&sb, "# HELP runner_run_duration_seconds Time from start to end of runs.\n"
		       "# TYPE runner_run_duration_seconds histogram\n");
	for (int b = 0; b < 10; b++) {
		if (store_duration_buckets[b] < 0) {
			sbuf_printf(&sb, "runner_run_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				    (unsigned long long)sc->buckets[b]);
		} else {
			sbuf_printf(&sb, "runner_run_duration_seconds_bucket{le=\"%g\"} %llu\n",
				    store_duration_buckets[b], (unsigned long long)sc->buckets[b]);
		}
	}
	sbuf_printf(
		&sb,
		"runner_run_duration_seconds_sum %.3f\nrunner_run_duration_seconds_count %llu\n",
		sc->duration_sum_s, (unsigned long long)sc->finished);
	sbuf_puts(&sb, "# HELP runner_webhook_deliveries_total Webhook deliveries by outcome.\n"
		       "# TYPE runner_webhook_deliveries_total counter\n");
	for (int k = 0; k < VIEWS_DELIVERY_COUNT; k++) {
		sbuf_printf(&sb, "runner_webhook_deliveries_total{result=\"%s\"} %llu\n",
			    delivery_names[k], (unsigned long long)hs->deliveries[k]);
	}
	sbuf_puts(&sb, "# HELP runner_http_responses_total HTTP responses by status class.\n"
		       "# TYPE runner_http_responses_total counter\n");
	static const char *const code_labels[6] = { "2xx", "400", "401", "404", "413_415", "5xx" };
	for (int k = 0; k < 6; k++) {
		sbuf_printf(&sb, "runner_http_responses_total{code=\"%s\"} %llu\n", code_labels[k],
			    (unsigned long long)hs->responses[k]);
	}
	sbuf_printf(&sb,
		    "# HELP runner_outbox_pending Commit statuses and notifications not yet sent.\n"
		    "# TYPE runner_outbox_pending gauge\nrunner_outbox_pending %llu\n"
		    "# HELP runner_outbox_failed Outgoing calls given up after retries.\n"
		    "# TYPE runner_outbox_failed gauge\nrunner_outbox_failed %llu\n",
		    (unsigned long long)sc->outbox_pending, (unsigned long long)sc->outbox_failed);
	sbuf_printf(&sb,
		    "# HELP runner_runs_pruned_total Finished runs removed by retention since the "
		    "server started.\n"
		    "# TYPE runner_runs_pruned_total counter\nrunner_runs_pruned_total %llu\n",
		    (unsigned long long)pruned_runs);
	return sbuf_steal(&sb);
}
