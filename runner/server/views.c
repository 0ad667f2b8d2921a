/*
 * views.c - run objects, HTML status pages and Prometheus metrics.
 *
 * Everything shown comes from the store or from files the runs wrote (report.json,
 * live.json), both untrusted as far as rendering goes: HTML output escapes every string,
 * and the pages carry no script at all.
 */
#include "views.h"

#include "config.h"
#include "jobrun.h"
#include "notify.h"
#include "sbuf.h"
#include "util.h"

#include <stdio.h>

#include "banned.h"

#define REPORT_MAX (64u << 20)
#define PAGE_MAX   (32u << 20)

const int views_response_codes[6] = { 200, 400, 401, 404, 413, 500 };

static const char *const severity_names[5] = { "critical", "high", "medium", "low", "info" };

char *views_run_dir(const struct server_config *c, const struct job *j)
{
	enum forge f;
	const struct repo_config *r =
		forge_from_name(j->forge, &f) == 0 ? config_find_repo(c, f, j->repo) : NULL;
	if (!r || str_empty(j->run_id)) {
		return NULL;
	}
	return jobrun_run_dir(c->data_dir, r->key, j->run_id);
}

static json_t *load_json(const char *dir, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_file_capped(path, REPORT_MAX, &buf, &len) < 0) {
		return NULL;
	}
	json_t *o = json_loadb(buf, len, 0, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *time_json(int64_t ms)
{
	char buf[40];
	return ms > 0 ? json_string(format_rfc3339((uint64_t)ms, buf, sizeof(buf))) : json_null();
}

/* Stages from the report: name, kind, status, duration, message, finding counts. */
static json_t *report_stages(const json_t *report, int64_t id, bool detail)
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
			json_object_set(o, "message", json_object_get(st, "message"));
			json_t *res = json_object_get(st, "result");
			if (json_is_string(json_object_get(res, "summary"))) {
				json_object_set(o, "summary", json_object_get(res, "summary"));
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

json_t *views_run_json(const struct server_config *c, const struct job *j, bool detail)
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
	_cleanup_free_ char *dir = views_run_dir(c, j);
	json_t *report = dir ? load_json(dir, "report.json") : NULL;
	json_t *live = dir && !report ? load_json(dir, "live.json") : NULL;
	if (live) {
		json_object_set(o, "phase", json_object_get(live, "phase"));
	}
	json_object_set_new(o, "stages",
			    report ? report_stages(report, j->id, detail)
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
	if (detail && report) {
		json_object_set(o, "pipeline", json_object_get(report, "pipeline"));
	}
	json_decref(report);
	json_decref(live);
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
		sbuf_printf(&sb, "</td><td><code>%.12s</code></td><td>", j->sha);
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

char *views_run_html(const struct server_config *c, const struct job *j)
{
	struct sbuf sb;
	sbuf_init(&sb, PAGE_MAX);
	json_t *run = views_run_json(c, j, true);
	_cleanup_free_ char *title = xasprintf("runner: run %lld", (long long)j->id);
	page_head(&sb, title, !job_state_final(j->state));
	sbuf_printf(&sb, "<p><a href=\"/\">all runs</a></p><h1>Run %lld ", (long long)j->id);
	badge(&sb, job_state_name(j->state), job_state_name(j->state));
	sbuf_puts(&sb, "</h1><table><tr><th>Repository</th><td>");
	esc(&sb, j->repo);
	sbuf_puts(&sb, "</td></tr><tr><th>Ref</th><td>");
	run_ref(&sb, j);
	sbuf_printf(&sb, "</td></tr><tr><th>Commit</th><td><code>%s</code></td></tr>", j->sha);
	sbuf_puts(&sb, "<tr><th>Event</th><td>");
	esc(&sb, j->event);
	sbuf_printf(&sb, "</td></tr><tr><th>Attempts</th><td>%u</td></tr>", j->attempts);
	if (!str_empty(j->message)) {
		sbuf_puts(&sb, "<tr><th>Message</th><td>");
		esc(&sb, j->message);
		sbuf_puts(&sb, "</td></tr>");
	}
	sbuf_puts(&sb, "<tr><th>Gate</th><td>");
	gate_cell(&sb, run);
	sbuf_puts(&sb, "</td></tr></table><h2>Stages</h2><table><tr><th>Stage</th><th>Status</th>"
		       "<th>Duration</th><th>Details</th><th>Log</th></tr>");
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
	sbuf_puts(&sb, "</table></body></html>\n");
	json_decref(run);
	return sbuf_steal(&sb);
}

/* ---------- metrics ---------- */

char *views_metrics(const struct store_counts *sc, const struct http_stats *hs, unsigned running,
		    uint64_t pruned_runs)
{
	static const char *const delivery_names[4] = { "accepted", "duplicate", "ignored",
						       "rejected" };
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
	for (int k = 0; k < 4; k++) {
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
