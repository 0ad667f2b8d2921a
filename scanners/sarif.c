/*
 * sarif.c - building the SARIF 2.1.0 log with jansson.
 */
#include "sarif.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>

#include "banned.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

double sarif_security_severity(const struct finding *f)
{
	if (f->score > 0 && f->score <= 10) {
		return f->score;
	}
	switch (f->severity) {
	case SEVERITY_CRITICAL:
		return 9.5;
	case SEVERITY_HIGH:
		return 8.0;
	case SEVERITY_MEDIUM:
		return 5.5;
	case SEVERITY_LOW:
		return 3.0;
	default:
		return 0.0;
	}
}

static const char *level_of(const struct finding *f)
{
	switch (f->severity) {
	case SEVERITY_CRITICAL:
	case SEVERITY_HIGH:
		return "error";
	case SEVERITY_MEDIUM:
		return "warning";
	default:
		return "note";
	}
}

/* A relative URI reference: unreserved characters and '/' as they are, the rest %XX. */
static char *uri_encode(const char *prefix, const char *path)
{
	struct sbuf sb;
	sbuf_init(&sb, 1u << 20);
	const char *parts[2] = { prefix ? prefix : "", path ? path : "" };
	for (int k = 0; k < 2; k++) {
		for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
			if (isalnum(*p) || strchr("-._~/", *p)) {
				sbuf_putc(&sb, (char)*p);
			} else {
				sbuf_printf(&sb, "%%%02X", *p);
			}
		}
	}
	return sbuf_steal(&sb);
}

static char *file_uri(const char *abs)
{
	_cleanup_free_ char *enc = uri_encode(NULL, abs);
	size_t n = strlen(enc);
	return xasprintf("file://%s%s", enc, n && enc[n - 1] == '/' ? "" : "/");
}

static json_t *text(const char *s)
{
	char *clean = utf8_sanitize(s ? s : "", strlen(s ? s : ""));
	json_t *o = json_pack("{s:s}", "text", clean);
	free(clean);
	return o;
}

static json_t *jstr(const char *s)
{
	char *clean = utf8_sanitize(s ? s : "", strlen(s ? s : ""));
	json_t *j = json_string(clean);
	free(clean);
	return j;
}

static json_t *rule_json(const struct finding *f)
{
	json_t *r = json_object();
	json_object_set_new(r, "id", jstr(f->rule_id));
	json_object_set_new(r, "name", jstr(f->rule_id));
	json_object_set_new(r, "shortDescription", text(f->title ? f->title : f->rule_id));
	json_object_set_new(r, "fullDescription",
			    text(f->kind == FINDING_SAST || !f->message
					 ? (f->title ? f->title : f->rule_id)
					 : f->message));
	if (f->fix) {
		json_object_set_new(r, "help", text(f->fix));
	}
	const char *uri = json_string_value(json_object_get(f->extra, "help_uri"));
	if (uri) {
		json_object_set_new(r, "helpUri", jstr(uri));
	}
	json_object_set_new(r, "defaultConfiguration", json_pack("{s:s}", "level", level_of(f)));
	json_t *props = json_object();
	char sev[16];
	snprintf(sev, sizeof(sev), "%.1f", sarif_security_severity(f));
	json_object_set_new(props, "security-severity", json_string(sev));
	json_t *tags = json_array();
	json_array_append_new(tags, json_string("security"));
	json_array_append_new(tags, json_string(finding_kind_name(f->kind)));
	for (size_t i = 0; i < f->n_cwe; i++) {
		_cleanup_free_ char *tag = xasprintf("external/cwe/%s", f->cwe[i]);
		for (char *p = tag; *p; p++) {
			*p = (char)tolower((unsigned char)*p);
		}
		json_array_append_new(tags, jstr(tag));
	}
	json_object_set_new(props, "tags", tags);
	if (f->confidence) {
		/* SARIF's precision vocabulary: very-high, high, medium, low. */
		json_object_set_new(props, "precision", jstr(f->confidence));
	}
	json_object_set_new(props, "severity", json_string(severity_name(f->severity)));
	json_object_set_new(r, "properties", props);
	return r;
}

static json_t *result_json(const struct finding *f, size_t rule_index,
			   const struct sarif_run_info *ri)
{
	json_t *res = json_object();
	json_object_set_new(res, "ruleId", jstr(f->rule_id));
	json_object_set_new(res, "ruleIndex", json_integer((json_int_t)rule_index));
	json_object_set_new(res, "kind", json_string("fail"));
	json_object_set_new(res, "level", json_string(level_of(f)));
	json_object_set_new(res, "message", text(f->message ? f->message : f->title));
	json_t *phys = json_object();
	_cleanup_free_ char *uri = uri_encode(ri->uri_prefix, f->file ? f->file : "");
	json_t *art = json_pack("{s:s}", "uri", uri);
	if (ri->srcroot) {
		json_object_set_new(art, "uriBaseId", json_string("%SRCROOT%"));
	}
	json_object_set_new(phys, "artifactLocation", art);
	if (f->line > 0) {
		json_t *region = json_pack("{s:I}", "startLine", (json_int_t)f->line);
		if (f->column > 0) {
			json_object_set_new(region, "startColumn", json_integer(f->column));
		}
		if (f->end_line >= f->line) {
			json_object_set_new(region, "endLine", json_integer(f->end_line));
			if (f->end_column > 0 &&
			    (f->end_line > f->line || f->end_column >= f->column)) {
				json_object_set_new(region, "endColumn",
						    json_integer(f->end_column));
			}
		}
		if (f->snippet && *f->snippet) {
			json_object_set_new(region, "snippet", text(f->snippet));
		}
		json_object_set_new(phys, "region", region);
	}
	json_t *loc = json_object();
	json_object_set_new(loc, "physicalLocation", phys);
	json_object_set_new(res, "locations", json_pack("[o]", loc));
	if (f->fingerprint) {
		json_object_set_new(res, "partialFingerprints",
				    json_pack("{s:s}", "runnerFingerprint/v1", f->fingerprint));
	}
	if (f->suppression != SUPPRESSION_NONE) {
		json_t *s = json_object();
		json_object_set_new(s, "kind",
				    json_string(f->suppression == SUPPRESSION_INLINE ? "inSource"
										     : "external"));
		json_object_set_new(s, "status", json_string("accepted"));
		const char *why = f->suppression_reason ? f->suppression_reason : "";
		_cleanup_free_ char *just = NULL;
		if (f->suppression == SUPPRESSION_ALLOW && f->suppression_expires) {
			just = xasprintf("%s (allowed until %s)", why, f->suppression_expires);
		} else if (f->suppression == SUPPRESSION_BASELINE) {
			just = xasprintf("in the baseline");
		} else {
			just = xstrdup(why);
		}
		json_object_set_new(s, "justification", jstr(just));
		json_object_set_new(res, "suppressions", json_pack("[o]", s));
	}
	json_t *props = json_object();
	json_object_set_new(props, "severity", json_string(severity_name(f->severity)));
	json_object_set_new(props, "findingKind", json_string(finding_kind_name(f->kind)));
	if (f->confidence) {
		json_object_set_new(props, "confidence", jstr(f->confidence));
	}
	static const char *const disp[] = { "blocking", "suppressed", "below-threshold" };
	json_object_set_new(props, "disposition", json_string(disp[f->disposition % 3]));
	if (f->n_aliases) {
		json_t *a = json_array();
		for (size_t i = 0; i < f->n_aliases; i++) {
			json_array_append_new(a, jstr(f->aliases[i]));
		}
		json_object_set_new(props, "aliases", a);
	}
	if (f->fix) {
		json_object_set_new(props, "fix", jstr(f->fix));
	}
	json_object_set_new(res, "properties", props);
	return res;
}

json_t *sarif_from_findings(const struct finding_list *fl, const struct sarif_run_info *ri)
{
	json_t *rules = json_array(), *results = json_array();
	/* Rules in order of first appearance; a small linear index is fine for the counts a
	 * scan reports (the findings of one scan are capped). */
	const char **ids = xcalloc(fl->n ? fl->n : 1, sizeof(char *));
	size_t n_ids = 0;
	for (size_t i = 0; i < fl->n; i++) {
		const struct finding *f = &fl->v[i];
		size_t idx = n_ids;
		for (size_t k = 0; k < n_ids; k++) {
			if (str_eq(ids[k], f->rule_id)) {
				idx = k;
				break;
			}
		}
		if (idx == n_ids) {
			ids[n_ids++] = f->rule_id ? f->rule_id : "";
			json_array_append_new(rules, rule_json(f));
		}
		json_array_append_new(results, result_json(f, idx, ri));
	}
	free(ids);
	json_t *driver = json_object();
	json_object_set_new(driver, "name", json_string("runner"));
	if (ri->tool_version) {
		json_object_set_new(driver, "version", jstr(ri->tool_version));
		json_object_set_new(driver, "semanticVersion", jstr(ri->tool_version));
	}
	json_object_set_new(driver, "rules", rules);
	json_t *run = json_object();
	json_object_set_new(run, "tool", json_pack("{s:o}", "driver", driver));
	if (ri->category) {
		json_object_set_new(run, "automationDetails",
				    json_pack("{s:s}", "id", ri->category));
	}
	if (ri->srcroot) {
		_cleanup_free_ char *u = file_uri(ri->srcroot);
		json_object_set_new(run, "originalUriBaseIds",
				    json_pack("{s:{s:s}}", "%SRCROOT%", "uri", u));
	}
	json_t *inv = json_object();
	json_object_set_new(inv, "executionSuccessful", json_boolean(ri->execution_successful));
	json_t *notes = json_array();
	if (ri->warning_message) {
		json_array_append_new(notes, json_pack("{s:s, s:o}", "level", "warning", "message",
						       text(ri->warning_message)));
	}
	if (!ri->execution_successful) {
		json_t *note = json_object();
		json_object_set_new(note, "level", json_string("error"));
		json_object_set_new(
			note, "message",
			text(ri->error_message ? ri->error_message : "the scan failed"));
		json_array_append_new(notes, note);
	}
	if (json_array_size(notes)) {
		json_object_set_new(inv, "toolExecutionNotifications", notes);
	} else {
		json_decref(notes);
	}
	json_object_set_new(run, "invocations", json_pack("[o]", inv));
	json_object_set_new(run, "columnKind", json_string("unicodeCodePoints"));
	json_object_set_new(run, "results", results);
	json_t *log = json_object();
	json_object_set_new(log, "$schema", json_string(SARIF_SCHEMA));
	json_object_set_new(log, "version", json_string("2.1.0"));
	json_object_set_new(log, "runs", json_pack("[o]", run));
	return log;
}

json_t *sarif_from_findings_json(const json_t *findings, const struct sarif_run_info *ri)
{
	struct finding_list fl;
	finding_list_init(&fl);
	for (size_t i = 0; json_is_array(findings) && i < json_array_size(findings); i++) {
		struct finding f;
		if (finding_from_json(json_array_get(findings, i), &f) == 0) {
			*finding_list_add(&fl) = f;
		}
	}
	json_t *log = sarif_from_findings(&fl, ri);
	finding_list_release(&fl);
	return log;
}
