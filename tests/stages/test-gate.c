/*
 * test-gate.c - the gate: threshold, allow entries (ids, aliases, fingerprints, paths,
 * reasons, expiry), baselines, configuration errors with positions, the stage result.
 */
#include <criterion/criterion.h>

#include "arena.h"
#include "diag.h"
#include "gate.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include "testutil.h"

static void add(struct finding_list *fl, const char *rule, enum severity s, const char *file,
		const char *alias)
{
	struct finding *f = finding_list_add(fl);
	f->kind = FINDING_DEPENDENCY;
	f->severity = s;
	finding_set(&f->rule_id, rule);
	finding_set(&f->file, file);
	if (alias) {
		finding_add_alias(f, alias);
	}
	finding_fingerprint(f, rule, strlen(rule), 0);
}

static int64_t day(const char *s)
{
	int64_t d;
	cr_assert_eq(gate_parse_date(s, &d), 0, "%s", s);
	return d;
}

static void policy(struct gate_policy *p, const char *json)
{
	json_error_t e;
	json_t *j = json_loads(json, 0, &e);
	cr_assert_not_null(j, "%s", e.text);
	char err[200];
	gate_policy_init(p);
	cr_assert_eq(gate_policy_add_json(p, j, "/", err, sizeof(err)), 0, "%s", err);
	json_decref(j);
}

Test(gate, dates)
{
	cr_assert_eq(day("1970-01-01"), 0);
	cr_assert_eq(day("2000-03-01"), 11017);
	cr_assert_eq(day("2024-02-29") + 1, day("2024-03-01"));
	int64_t d;
	cr_assert_eq(gate_parse_date("2023-02-29", &d), -EINVAL);
	cr_assert_eq(gate_parse_date("2023-13-01", &d), -EINVAL);
	cr_assert_eq(gate_parse_date("2023-1-01", &d), -EINVAL);
	cr_assert_eq(gate_parse_date("2023-01-01x", &d), -EINVAL);
	/* Exactly four, two and two digits: no blank, no sign. */
	static const char *const bad[] = { "2027- 1- 1", "2027-+1-+1", "2027--1-01",
					   " 202-01-01", "+202-01-01", "2027-01- 1",
					   "2027-01-1 ", "2027/01/01", "２０２７-1-1" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(gate_parse_date(bad[i], &d), -EINVAL, "%s", bad[i]);
	}
}

Test(gate, threshold_default_high)
{
	struct gate_policy p;
	gate_policy_init(&p);
	struct finding_list fl;
	finding_list_init(&fl);
	add(&fl, "A", SEVERITY_MEDIUM, "a", NULL);
	add(&fl, "B", SEVERITY_HIGH, "b", NULL);
	add(&fl, "C", SEVERITY_CRITICAL, "c", NULL);
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &fl, day("2026-01-01"), &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(o.blocking, 2);
	cr_assert_eq(o.below, 1);
	cr_assert_eq(fl.v[0].disposition, DISPOSITION_BELOW);
	cr_assert_eq(fl.v[1].disposition, DISPOSITION_BLOCKING);
	gate_outcome_release(&o);
	/* fail-on critical: only C blocks; fail-on info: everything does. */
	p.fail_on = SEVERITY_CRITICAL;
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(o.blocking, 1);
	gate_outcome_release(&o);
	finding_list_release(&fl);
	finding_list_init(&fl);
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_PASSED);
	gate_outcome_release(&o);
	finding_list_release(&fl);
	gate_policy_release(&p);
}

Test(gate, allow_by_alias_until_expiry)
{
	struct gate_policy p;
	policy(&p, "{\"allow\": [{\"id\": \"CVE-2021-44228\", \"reason\": \"WAF rule, SEC-1\","
		   " \"expires\": \"2026-06-30\"}]}");
	struct finding_list fl;
	finding_list_init(&fl);
	add(&fl, "GHSA-jfh8-c2jx-5f7m", SEVERITY_CRITICAL, "pom.xml", "CVE-2021-44228");
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &fl, day("2026-06-30"), &o), STAGE_EXIT_PASSED);
	cr_assert_eq(fl.v[0].suppression, SUPPRESSION_ALLOW);
	cr_assert_str_eq(fl.v[0].suppression_reason, "WAF rule, SEC-1");
	cr_assert_eq(json_array_size(o.notes), 0);
	gate_outcome_release(&o);
	/* The day after: it blocks again and says why. */
	cr_assert_eq(gate_apply(&p, &fl, day("2026-07-01"), &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(fl.v[0].disposition, DISPOSITION_BLOCKING);
	cr_assert_str_eq(json_string_value(json_array_get(o.notes, 0)),
			 "the allow entry for CVE-2021-44228 expired on 2026-06-30 and no longer "
			 "suppresses");
	gate_outcome_release(&o);
	finding_list_release(&fl);
	gate_policy_release(&p);
}

Test(gate, allow_by_fingerprint_and_path)
{
	struct finding_list fl;
	finding_list_init(&fl);
	add(&fl, "R", SEVERITY_HIGH, "legacy/x.c", NULL);
	add(&fl, "R", SEVERITY_HIGH, "src/x.c", NULL);
	char *json =
		xasprintf("{\"allow\": [{\"id\": \"R\", \"path\": \"legacy/*\", \"reason\": "
			  "\"old code\", \"expires\": \"2099-01-01\"}, {\"fingerprint\": \"%s\","
			  " \"reason\": \"reviewed\", \"expires\": \"2099-01-01\"}]}",
			  "0000");
	struct gate_policy p;
	policy(&p, json);
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(fl.v[0].disposition, DISPOSITION_SUPPRESSED);
	cr_assert_eq(fl.v[1].disposition, DISPOSITION_BLOCKING);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	free(json);
	json = xasprintf("{\"allow\": [{\"fingerprint\": \"%s\", \"reason\": \"reviewed\","
			 " \"expires\": \"2099-01-01\"}]}",
			 fl.v[1].fingerprint);
	policy(&p, json);
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(fl.v[1].disposition, DISPOSITION_SUPPRESSED);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	free(json);
	finding_list_release(&fl);
}

/* An allow entry's path: '*' and '?' stay within a directory; a "**" component spans any
 * number of them. */
Test(gate, path_globs_do_not_cross_directories)
{
	static const struct {
		const char *pat, *path;
		bool match;
	} cases[] = {
		{ "src/legacy/*.c", "src/legacy/a.c", true },
		{ "src/legacy/*.c", "src/legacy/deep/b.c", false },
		{ "src/legacy/*", "src/legacy/deep/b.c", false },
		{ "src/?/b.c", "src/x/b.c", true },
		{ "src/?b.c", "src/ab.c", true },
		{ "src?b.c", "src/b.c", false },
		{ "*.c", "src/a.c", false },
		{ "*.c", "a.c", true },
		{ "src/[a-z]/b.c", "src/q/b.c", true },
		{ "src/**/*.c", "src/a.c", true },
		{ "src/**/*.c", "src/legacy/deep/b.c", true },
		{ "src/**/*.c", "lib/src/a.c", false },
		{ "**/x.c", "x.c", true },
		{ "**/x.c", "a/b/c/x.c", true },
		{ "**/x.c", "a/b/c/y.c", false },
		{ "src/**", "src/a/b.c", true },
		{ "src/**", "srcx/a.c", false },
		{ "a/**/b/**/c", "a/x/b/y/z/c", true },
		{ "a/**/b/**/c", "a/x/y/z/c", false },
		{ "src/a**.c", "src/ab/c.c", false },
		{ "src/legacy/a.c", "src/legacy/a.c", true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cr_assert_eq(gate_path_glob(cases[i].pat, cases[i].path), cases[i].match, "%s %s",
			     cases[i].pat, cases[i].path);
	}
	/* Through the gate. */
	struct finding_list fl;
	finding_list_init(&fl);
	add(&fl, "R", SEVERITY_HIGH, "src/legacy/a.c", NULL);
	add(&fl, "R", SEVERITY_HIGH, "src/legacy/deep/b.c", NULL);
	struct gate_policy p;
	policy(&p, "{\"allow\": [{\"id\": \"R\", \"path\": \"src/legacy/*.c\", \"reason\": "
		   "\"old code\", \"expires\": \"2099-01-01\"}]}");
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(fl.v[0].disposition, DISPOSITION_SUPPRESSED);
	cr_assert_eq(fl.v[1].disposition, DISPOSITION_BLOCKING);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	finding_list_release(&fl);
}

/* In a fork's run, an allow entry that names a path does not cover a file the pull request
 * changed (it chose where the file lies); one for the rule everywhere still does. */
Test(gate, path_allow_entries_do_not_cover_what_a_fork_changed)
{
	struct finding_list fl;
	finding_list_init(&fl);
	add(&fl, "R", SEVERITY_HIGH, "legacy/old.c", NULL);
	add(&fl, "R", SEVERITY_HIGH, "legacy/new.c", NULL);
	add(&fl, "S", SEVERITY_HIGH, "legacy/new.c", NULL);
	struct gate_policy p;
	policy(&p, "{\"allow\": [{\"id\": \"R\", \"path\": \"legacy/*\", \"reason\": \"old\","
		   " \"expires\": \"2099-01-01\"}, {\"id\": \"S\", \"reason\": \"accepted\","
		   " \"expires\": \"2099-01-01\"}],"
		   " \"changed_files\": [\"legacy/new.c\", \"src/a.c\"]}");
	cr_assert(gate_policy_changed(&p, "legacy/new.c"));
	cr_assert_not(gate_policy_changed(&p, "legacy/old.c"));
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(fl.v[0].disposition, DISPOSITION_SUPPRESSED, "the base's own file");
	cr_assert_eq(fl.v[1].disposition, DISPOSITION_BLOCKING, "the fork's file");
	cr_assert_eq(fl.v[2].disposition, DISPOSITION_SUPPRESSED, "allowed everywhere");
	char *notes = json_dumps(o.notes, 0);
	cr_assert(strstr(notes, "do not cover files a pull request from a fork changed"), "%s",
		  notes);
	free(notes);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	/* Without the changed files (a trusted run), the entry covers both. */
	policy(&p, "{\"allow\": [{\"id\": \"R\", \"path\": \"legacy/*\", \"reason\": \"old\","
		   " \"expires\": \"2099-01-01\"}, {\"id\": \"S\", \"reason\": \"accepted\","
		   " \"expires\": \"2099-01-01\"}]}");
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_PASSED);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	finding_list_release(&fl);
}

Test(gate, baseline_blocks_only_new_findings)
{
	char *dir = tu_tmpdir();
	struct finding_list old;
	finding_list_init(&old);
	add(&old, "OLD", SEVERITY_CRITICAL, "a.c", NULL);
	json_t *j = json_pack("{s:o}", "findings", finding_list_to_json(&old));
	char *path = xasprintf("%s/baseline.json", dir);
	cr_assert_eq(json_dump_file(j, path, 0), 0);
	json_decref(j);
	struct finding_list now;
	finding_list_init(&now);
	add(&now, "OLD", SEVERITY_CRITICAL, "a.c", NULL);
	add(&now, "NEW", SEVERITY_HIGH, "a.c", NULL);
	struct gate_policy p;
	gate_policy_init(&p);
	char err[200];
	cr_assert_eq(gate_policy_load_baseline(&p, path, err, sizeof(err)), 0, "%s", err);
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &now, 0, &o), STAGE_EXIT_BLOCKED);
	cr_assert_eq(now.v[0].suppression, SUPPRESSION_BASELINE);
	cr_assert_eq(now.v[1].disposition, DISPOSITION_BLOCKING);
	cr_assert_eq(o.blocking, 1);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	/* A file that is not a baseline fails closed. */
	tu_write(dir, "bad.json", "{\"something\": 1}");
	char *bad = xasprintf("%s/bad.json", dir);
	gate_policy_init(&p);
	cr_assert_eq(gate_policy_load_baseline(&p, bad, err, sizeof(err)), -EINVAL);
	gate_policy_release(&p);
	finding_list_release(&old);
	finding_list_release(&now);
	free(bad);
	free(path);
	tu_rmdir(dir);
	free(dir);
}

Test(gate, inline_suppression_survives_the_gate)
{
	struct finding_list fl;
	finding_list_init(&fl);
	add(&fl, "R", SEVERITY_CRITICAL, "x", NULL);
	fl.v[0].suppression = SUPPRESSION_INLINE;
	finding_set(&fl.v[0].suppression_reason, "constant input");
	struct gate_policy p;
	gate_policy_init(&p);
	struct gate_outcome o;
	cr_assert_eq(gate_apply(&p, &fl, 0, &o), STAGE_EXIT_PASSED);
	cr_assert_eq(o.suppressed, 1);
	gate_outcome_release(&o);
	gate_policy_release(&p);
	finding_list_release(&fl);
}

static void config_error(const char *yaml, unsigned line, unsigned col, const char *msg)
{
	struct arena *a = arena_new(0);
	struct diag_list dl;
	struct ynode *root;
	static const struct ydoc_limits lim = { 64, 10000 };
	diag_list_init(&dl, 10);
	cr_assert_eq(ydoc_parse(a, "p.yml", yaml, strlen(yaml), &lim, &root, &dl), 0);
	cr_assert_eq(gate_config_check(root, "p.yml", &dl), -EINVAL, "accepted: %s", yaml);
	bool found = false;
	for (size_t i = 0; i < dl.n; i++) {
		if (str_eq(dl.v[i].msg, msg)) {
			found = true;
			cr_assert_eq(dl.v[i].line, line, "%s: line %u", msg, dl.v[i].line);
			cr_assert_eq(dl.v[i].col, col, "%s: col %u", msg, dl.v[i].col);
		}
	}
	cr_assert(found, "no '%s' (first: %s)", msg, dl.n ? dl.v[0].msg : "-");
	diag_list_release(&dl);
	arena_free(a);
}

Test(gate, configuration_errors)
{
	config_error("fail-on: severe\n", 1, 10, "invalid fail-on level 'severe'");
	config_error("allow:\n  - id: X\n    expires: 2027-01-01\n", 2, 5,
		     "an allow entry needs a reason");
	config_error("allow:\n  - id: X\n    reason: because\n", 2, 5,
		     "an allow entry needs an expiry date");
	config_error("allow:\n  - id: X\n    reason: because\n    expires: 2027-02-30\n", 4, 14,
		     "invalid expiry date '2027-02-30'");
	config_error("allow:\n  - id: X\n    reason: because\n    expires: \"2027-+1-+1\"\n", 4, 14,
		     "invalid expiry date '2027-+1-+1'");
	config_error("allow:\n  - reason: because\n    expires: 2027-01-01\n", 2, 5,
		     "an allow entry needs exactly one of `id` and `fingerprint`");
	config_error(
		"allow:\n  - id: X\n    reason: because\n    expires: 2027-01-01\n    pth: x\n", 5,
		5, "unknown key 'pth' in an allow entry");
	config_error("allow: CVE-1\n", 1, 8, "allow must be a sequence, not a string");
	/* A path that is not a glob would read as none: every file. */
	static const char *const not_globs[][2] = {
		{ "[src/legacy/old.py]", "a sequence" },
		{ "~", "null" },
		{ "{glob: x}", "a mapping" },
		{ "123", "a number" },
		{ "true", "a boolean" },
		{ "\"\"", "an empty string" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(not_globs); i++) {
		char *y = xasprintf("allow:\n  - id: X\n    reason: because\n    expires: "
				    "2027-01-01\n    path: %s\n",
				    not_globs[i][0]);
		char *msg =
			xasprintf("an allow entry's path must be a glob, not %s", not_globs[i][1]);
		config_error(y, 5, 11, msg);
		free(y);
		free(msg);
	}
}

/* At run time too (the configuration as the stage gets it): a path that is there but not
 * a string, or that came to nothing, refuses the policy rather than covering every file. */
Test(gate, an_allow_path_that_is_not_a_glob_is_refused)
{
	static const char *const paths[] = { "[\"a.c\"]", "null", "123", "true", "\"\"", "{}" };
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char *json = xasprintf("{\"allow\": [{\"id\": \"R\", \"path\": %s, \"reason\": "
				       "\"old code\", \"expires\": \"2099-01-01\"}]}",
				       paths[i]);
		json_error_t je;
		json_t *cfg = json_loads(json, 0, &je);
		cr_assert_not_null(cfg, "%s", json);
		struct gate_policy p;
		gate_policy_init(&p);
		char err[256] = "";
		cr_assert_eq(gate_policy_add_json(&p, cfg, "/", err, sizeof(err)), -EINVAL, "%s",
			     paths[i]);
		gate_policy_release(&p);
		json_decref(cfg);
		free(json);
	}
}
