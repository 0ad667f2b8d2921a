/*
 * test-notify.c - the security notification built from a report fixture: blocking
 * findings only, most severe first, masked and escaped, nothing from logs or snippets,
 * bounded, and a body Slack-compatible webhooks accept (`text`, `blocks`).
 */
#include <criterion/criterion.h>

#include "mask.h"
#include "notify.h"
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_t *fixture(void)
{
	char *path = tu_fixture("reports/blocked.json");
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	cr_assert_not_null(j, "%s: %s", path, err.text);
	free(path);
	return j;
}

static struct notify_ctx ctx(struct mask *m)
{
	return (struct notify_ctx){
		.repo = "acme/webapp",
		.sha = "4f2c9d1e0b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
		.ref = "refs/heads/main",
		.run = 42,
		.run_url = "https://ci.example.com/runs/42",
		.mask = m,
	};
}

Test(notify, blocked_run_notification)
{
	json_t *report = fixture();
	struct mask *m = mask_new();
	cr_assert_eq(mask_add(m, "hunter2-registry-token", strlen("hunter2-registry-token")), 0);
	struct notify_ctx c = ctx(m);
	char *body = notify_security_body(report, &c);
	cr_assert_not_null(body);
	json_t *j = json_loads(body, 0, NULL);
	cr_assert_not_null(j, "valid JSON");
	const char *text = json_string_value(json_object_get(j, "text"));
	cr_assert_not_null(text);
	cr_assert(json_is_array(json_object_get(j, "blocks")));
	cr_assert_gt(json_array_size(json_object_get(j, "blocks")), 0);

	/* What must be there. */
	cr_assert_not_null(strstr(text, "acme/webapp"));
	cr_assert_not_null(strstr(text, "4f2c9d1e0b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d"));
	cr_assert_not_null(strstr(text, "refs/heads/main"));
	cr_assert_not_null(strstr(text, "webapp"));
	cr_assert_not_null(strstr(text, "CVE-2021-44228"));
	cr_assert_not_null(strstr(text, "pom.xml:12"));
	cr_assert_not_null(strstr(text, "js.innerHTML"));
	cr_assert_not_null(strstr(text, "<https://ci.example.com/runs/42|Run 42>"));
	cr_assert_not_null(strstr(text, "Blocking findings (2)"));
	/* Most severe first. */
	cr_assert_lt(strstr(text, "CVE-2021-44228"), strstr(text, "js.innerHTML"));

	/* What must not: findings below the threshold, suppressed ones, findings of stages
	 * that did not block, snippets, stage messages (log content), secrets, raw HTML. */
	cr_assert_null(strstr(body, "GHSA-xxxx-medium"));
	cr_assert_null(strstr(body, "CVE-2099-0001"));
	cr_assert_null(strstr(body, "NOT_BLOCKING_FINDING"));
	cr_assert_null(strstr(body, "SNIPPET_MUST_NOT_APPEAR"));
	cr_assert_null(strstr(body, "SECRET_FROM_LOG_LINE"));
	cr_assert_null(strstr(body, "hunter2-registry-token"));
	cr_assert_not_null(strstr(text, "***"), "the secret is masked");
	cr_assert_null(strstr(text, "<script>"));
	cr_assert_not_null(strstr(text, "&lt;script&gt;"));
	cr_assert_not_null(strstr(text, "&amp; innerHTML"));
	json_decref(j);
	free(body);
	mask_free(m);
	json_decref(report);
}

Test(notify, nothing_blocked_nothing_sent)
{
	json_t *report = fixture();
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(report, "stages"), i, st)
	{
		if (strcmp(json_string_value(json_object_get(st, "status")), "blocked") == 0) {
			json_object_set_new(st, "status", json_string("passed"));
		}
	}
	struct notify_ctx c = ctx(NULL);
	cr_assert_null(notify_security_body(report, &c));
	uint64_t counts[5];
	notify_count_findings(report, counts);
	for (int k = 0; k < 5; k++) {
		cr_assert_eq(counts[k], 0);
	}
	json_decref(report);
}

Test(notify, counts_and_unknown_severity_fails_closed)
{
	json_t *report = fixture();
	uint64_t counts[5];
	notify_count_findings(report, counts);
	cr_assert_eq(counts[0], 1, "critical");
	cr_assert_eq(counts[1], 1, "high");
	cr_assert_eq(counts[2], 0, "the medium one is below the gate");
	/* A finding of an unknown severity in a blocked stage counts as critical. */
	json_t *deps = json_array_get(json_object_get(report, "stages"), 2);
	json_t *findings = json_object_get(json_object_get(deps, "result"), "findings");
	json_array_append_new(findings,
			      json_pack("{s:s, s:s, s:s}", "kind", "dependency", "rule_id",
					"WEIRD-1", "severity", "catastrophic"));
	notify_count_findings(report, counts);
	cr_assert_eq(counts[0], 2);
	json_decref(report);
}

Test(notify, long_lists_are_cut)
{
	json_t *report = fixture();
	json_t *deps = json_array_get(json_object_get(report, "stages"), 2);
	json_t *findings = json_object_get(json_object_get(deps, "result"), "findings");
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 200; i++) {
		char id[32];
		snprintf(id, sizeof(id), "CVE-2000-%04d", i);
		json_array_append_new(findings,
				      json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "dependency",
						"rule_id", id, "severity", "high", "message", big,
						"file", "pom.xml"));
	}
	struct notify_ctx c = ctx(NULL);
	char *body = notify_security_body(report, &c);
	cr_assert_not_null(body);
	cr_assert_lt(strlen(body), 64u << 10, "bounded");
	cr_assert_not_null(strstr(body, "more"));
	cr_assert_not_null(strstr(body, "Blocking findings (202)"));
	free(body);
	json_decref(report);
}

Test(notify, the_gates_disposition_is_the_verdict)
{
	json_t *report = fixture();
	json_t *deps = json_array_get(json_object_get(report, "stages"), 2);
	json_t *findings = json_object_get(json_object_get(deps, "result"), "findings");
	/* A medium finding the gate blocked (its fail-on was lower) is listed; a critical one
	 * it suppressed is not. */
	json_object_set_new(json_array_get(findings, 0), "disposition", json_string("blocking"));
	json_object_set_new(json_array_get(findings, 1), "disposition", json_string("suppressed"));
	struct notify_ctx c = ctx(NULL);
	char *body = notify_security_body(report, &c);
	cr_assert_not_null(body);
	cr_assert_not_null(strstr(body, "GHSA-xxxx-medium"));
	cr_assert_null(strstr(body, "CVE-2021-44228"));
	free(body);
	json_decref(report);
}
