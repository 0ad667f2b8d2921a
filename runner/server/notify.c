/*
 * notify.c - build the security notification from a report.
 *
 * A finding blocks when its stage is blocked and the gate's verdict on it, its
 * `disposition`, is "blocking". Without a disposition: when it is not suppressed and its
 * severity is at or above the stage gate's threshold (`fail_on` in the stage's `gate`
 * object; `high` when the gate does not say).
 */
#include "notify.h"

#include "mask.h"
#include "sbuf.h"
#include "util.h"

#include <stdio.h>
#include <strings.h>

#include "banned.h"

#define FIELD_MAX   300
#define TEXT_MAX    (48u << 10)
#define SECTION_MAX 2900 /* Slack's limit for a section is 3000 characters */

static const char *const severities[] = { "critical", "high", "medium", "low", "info" };

/* 0 = critical ... 4 = info; unknown severities count as critical (fail closed). */
static int severity_rank(const char *s)
{
	for (int i = 0; i < 5; i++) {
		if (s && strcasecmp(s, severities[i]) == 0) {
			return i;
		}
	}
	return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct blocking {
	const json_t *finding;
	int rank;
	size_t order;
};

static int threshold_of(const json_t *result)
{
	const json_t *gate = json_object_get(result, "gate");
	const char *t = jstr(gate, "fail_on");
	if (!t) {
		t = jstr(gate, "threshold");
	}
	return t ? severity_rank(t) : 1; /* default: high */
}

static bool is_blocking(const json_t *f, int threshold, int rank)
{
	/* The gate's own verdict, when the finding carries it. */
	const char *disp = jstr(f, "disposition");
	if (disp) {
		return str_eq(disp, "blocking");
	}
	const json_t *b = json_object_get(f, "blocking");
	if (json_is_boolean(b)) {
		return json_is_true(b);
	}
	if (json_is_true(json_object_get(f, "suppressed"))) {
		return false;
	}
	return rank <= threshold;
}

bool notify_finding_blocks(const json_t *st, const json_t *f)
{
	if (!json_is_object(f) || !str_eq(jstr(st, "status"), "blocked")) {
		return false;
	}
	return is_blocking(f, threshold_of(json_object_get(st, "result")),
			   severity_rank(jstr(f, "severity")));
}

static size_t collect(const json_t *report, struct blocking **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	const json_t *stages = json_object_get(report, "stages");
	size_t i;
	const json_t *st;
	json_array_foreach(stages, i, st)
	{
		size_t k;
		const json_t *f;
		json_array_foreach(json_object_get(json_object_get(st, "result"), "findings"), k, f)
		{
			if (!notify_finding_blocks(st, f)) {
				continue;
			}
			GROW(*out, cap, n + 1);
			(*out)[n] = (struct blocking){ f, severity_rank(jstr(f, "severity")), n };
			n++;
		}
	}
	return n;
}

static int by_severity(const void *a, const void *b)
{
	const struct blocking *x = a, *y = b;
	if (x->rank != y->rank) {
		return x->rank - y->rank;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

void notify_count_findings(const json_t *report, uint64_t counts[5])
{
	struct blocking *v;
	size_t n = collect(report, &v);
	memset(counts, 0, 5 * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		counts[v[i].rank]++;
	}
	free(v);
}

/* Mask, cut to max bytes (on a character boundary), make valid UTF-8, escape mrkdwn. */
static void put_field(struct sbuf *sb, const struct mask *m, const char *s, size_t max)
{
	if (!s) {
		s = "";
	}
	bool cut;
	_cleanup_free_ char *clean = mask_redact_cut(m, s, max, &cut);
	/* One line each, and no code spans that a value could close. */
	for (char *p = clean; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			*p = ' ';
		} else if (*p == '`') {
			*p = '\'';
		}
	}
	sbuf_put_escaped(sb, clean, false);
	if (cut) {
		sbuf_puts(sb, "…");
	}
}

static void finding_line(struct sbuf *sb, const struct mask *m, const json_t *f)
{
	const json_t *line = json_object_get(f, "line");
	sbuf_puts(sb, "• *");
	put_field(sb, m, jstr(f, "severity") ? jstr(f, "severity") : "critical", 20);
	sbuf_puts(sb, "* `");
	put_field(sb, m, jstr(f, "rule_id") ? jstr(f, "rule_id") : "?", 100);
	sbuf_puts(sb, "` (");
	put_field(sb, m, jstr(f, "kind") ? jstr(f, "kind") : "finding", 20);
	sbuf_puts(sb, ")");
	if (jstr(f, "file")) {
		sbuf_puts(sb, " ");
		/* A finding of the history scan: the commit that brought it (its tip no longer
		 * has to hold it). */
		if (jstr(f, "commit")) {
			char commit[13];
			snprintf(commit, sizeof(commit), "%s", jstr(f, "commit"));
			put_field(sb, m, commit, sizeof(commit));
			sbuf_puts(sb, ":");
		}
		put_field(sb, m, jstr(f, "file"), 200);
		if (json_is_integer(line)) {
			sbuf_printf(sb, ":%lld", (long long)json_integer_value(line));
		}
	}
	if (jstr(f, "message")) {
		sbuf_puts(sb, " — ");
		put_field(sb, m, jstr(f, "message"), FIELD_MAX);
	}
	sbuf_putc(sb, '\n');
}

static json_t *mrkdwn(const char *text)
{
	return json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text);
}

char *notify_security_body(const json_t *report, const struct notify_ctx *ctx)
{
	bool blocked = false;
	size_t i;
	const json_t *st;
	json_array_foreach(json_object_get(report, "stages"), i, st)
	{
		blocked |= str_eq(jstr(st, "status"), "blocked");
	}
	if (!blocked) {
		return NULL;
	}
	struct blocking *v;
	size_t n = collect(report, &v);
	qsort(v, n, sizeof(*v), by_severity);
	const struct mask *m = ctx->mask;
	const char *pipeline = jstr(json_object_get(report, "pipeline"), "name");

	struct sbuf head, facts, list, link;
	sbuf_init(&head, TEXT_MAX);
	sbuf_init(&facts, TEXT_MAX);
	sbuf_init(&list, TEXT_MAX);
	sbuf_init(&link, TEXT_MAX);

	sbuf_puts(&head, ":no_entry: Security gate blocked ");
	put_field(&head, m, ctx->repo, 200);
	sbuf_printf(&head, " at %.12s", ctx->sha ? ctx->sha : "");

	sbuf_puts(&facts, "*Repository:* ");
	put_field(&facts, m, ctx->repo, 200);
	sbuf_puts(&facts, "\n*Commit:* `");
	put_field(&facts, m, ctx->sha, 64);
	sbuf_puts(&facts, "`\n*Ref:* ");
	put_field(&facts, m, ctx->ref, 200);
	sbuf_puts(&facts, "\n*Pipeline:* ");
	put_field(&facts, m, pipeline ? pipeline : "?", 100);
	sbuf_putc(&facts, '\n');

	sbuf_printf(&list, "*Blocking findings (%zu):*\n", n);
	size_t shown = 0;
	for (; shown < n && shown < NOTIFY_MAX_FINDINGS; shown++) {
		size_t before = list.len;
		finding_line(&list, m, v[shown].finding);
		if (list.len > SECTION_MAX) {
			list.len = before;
			list.data[before] = '\0';
			break;
		}
	}
	if (shown < n) {
		sbuf_printf(&list, "…and %zu more\n", n - shown);
	}
	if (n == 0) {
		sbuf_puts(&list, "(a blocked stage reported no findings: see the run)\n");
	}
	if (ctx->run_url) {
		sbuf_puts(&link, "<");
		put_field(&link, NULL, ctx->run_url, 500);
		sbuf_printf(&link, "|Run %lld>", (long long)ctx->run);
	} else {
		sbuf_printf(&link, "Run %lld", (long long)ctx->run);
	}

	_cleanup_free_ char *text =
		xasprintf("%s\n%s%s%s", head.data, facts.data, list.data, link.data);
	json_t *blocks = json_array();
	json_array_append_new(
		blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(head.data)));
	json_array_append_new(
		blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(facts.data)));
	json_array_append_new(
		blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(list.data)));
	json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "context", "elements",
						mrkdwn(link.data)));
	json_t *body = json_pack("{s:s, s:o}", "text", text, "blocks", blocks);
	char *out = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	sbuf_release(&head);
	sbuf_release(&facts);
	sbuf_release(&list);
	sbuf_release(&link);
	free(v);
	return out;
}
