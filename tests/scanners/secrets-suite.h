/*
 * secrets-suite.h - what the secrets scan's test files share: a scratch over the default
 * secret rules, set up before each test and torn down after it (a suite's .init and
 * .fini), the findings of the last scan, and the check that nothing a user sees (the
 * findings as JSON, and as SARIF) holds a text in clear. Included once per test file.
 */
#ifndef RUNNER_TESTS_SECRETS_SUITE_H
#define RUNNER_TESTS_SECRETS_SUITE_H

#include <criterion/criterion.h>

#include "diag.h"
#include "rules.h"
#include "sarif.h"
#include "secrets.h"

static struct ruleset *rs;
static struct secrets_scratch *sc;
static struct finding_list fl;

static void setup(void)
{
	struct diag_list dl;
	diag_list_init(&dl, 10);
	rs = ruleset_new(RULE_SECRET);
	cr_assert_eq(ruleset_load_defaults(rs, &dl), 0);
	ruleset_finish(rs, &dl);
	diag_list_release(&dl);
	sc = secrets_scratch_new(rs);
	finding_list_init(&fl);
}

static void teardown(void)
{
	finding_list_release(&fl);
	secrets_scratch_free(sc);
	ruleset_free(rs);
}

/* Nothing a user sees contains the secret. */
static void never_in_clear(const char *secret)
{
	json_t *j = finding_list_to_json(&fl);
	char *s = json_dumps(j, 0);
	cr_assert_null(strstr(s, secret), "the secret leaked into the findings: %s", s);
	struct sarif_run_info ri = { .tool_version = "t", .execution_successful = true };
	json_t *log = sarif_from_findings(&fl, &ri);
	char *sarif = json_dumps(log, 0);
	cr_assert_null(strstr(sarif, secret), "the secret leaked into SARIF");
	free(sarif);
	json_decref(log);
	free(s);
	json_decref(j);
}

#endif
