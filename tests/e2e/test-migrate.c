/*
 * test-migrate.c - what a pipeline moved from GitHub Actions or GitLab CI relies on, end to
 * end through the runner binary: `shell: bash` and its pipefail, `needs:` as one name, the
 * JUnit report as CI servers read it (valid against the Ant JUnit schema), what a skipped
 * stage says, and the sizes in the message of the free-space floor.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void assert_contains(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

static json_t *latest_report(const char *dir)
{
	char *text = tu_readf("%s/.runner/runs/latest/report.json", dir);
	cr_assert_not_null(text);
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	cr_assert_not_null(j, "report.json: %s", err.text);
	free(text);
	return j;
}

/* `false | cat` passes under /bin/sh -e (the pipeline's status is cat's), and fails under
 * `shell: bash`, which runs with -o pipefail as GitHub's `shell: bash` does. */
Test(migrate, shell_bash_fails_a_pipeline_whose_first_command_fails, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  plain:\n    run: false | cat\n"
		 "  strict:\n    shell: bash\n    run: false | cat\n"
		 "  fine:\n    shell: bash\n    run: true | cat; echo \"bash $BASH_VERSION\"\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "strict | -- failed");
	tu_result_free(&r);
	json_t *rep = latest_report(dir);
	json_t *plain = tu_report_stage(rep, "plain"), *strict = tu_report_stage(rep, "strict");
	json_t *fine = tu_report_stage(rep, "fine");
	cr_assert_str_eq(json_string_value(json_object_get(plain, "status")), "passed");
	cr_assert_str_eq(json_string_value(json_object_get(strict, "status")), "failed");
	cr_assert_str_eq(json_string_value(json_object_get(fine, "status")), "passed");
	/* The shell is recorded beside the stage's other settings. */
	cr_assert_str_eq(json_string_value(json_object_get(plain, "shell")), "sh");
	cr_assert_str_eq(json_string_value(json_object_get(strict, "shell")), "bash");
	json_decref(rep);
	char *log = tu_readf("%s/.runner/runs/latest/logs/fine.log", dir);
	assert_contains(log, "bash ");
	cr_assert_null(strstr(log, "bash \n"), "not run by bash: %s", log);
	free(log);

	/* defaults: { shell: bash } applies to every script stage; a stage can go back. */
	tu_write(dir, ".runner.yml",
		 "version: 1\ndefaults: { shell: bash }\nstages:\n  strict:\n    run: false | cat\n"
		 "  plain:\n    shell: sh\n    run: false | cat\n");
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_result_free(&r);
	rep = latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "strict"), "failed");
	cr_assert_str_eq(tu_stage_status(rep, "plain"), "passed");
	json_decref(rep);
	tu_rmdir(dir);
	free(dir);
}

/* Only the named shells are accepted, with the value's position and the list. */
Test(migrate, an_unknown_shell_is_refused_with_its_position, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    shell: zsh\n    run: \"true\"\n");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, ".runner.yml:4:12: error: unknown shell 'zsh'");
	assert_contains(r.err, "hint: shell is one of: sh, bash");
	tu_result_free(&r);
	tu_write(dir, ".runner.yml",
		 "version: 1\ndefaults:\n  shell: /bin/bash\nstages:\n  a:\n    run: \"true\"\n");
	r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, ".runner.yml:3:10: error: unknown shell '/bin/bash'");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A root filesystem without bash: the stage fails saying so; it is never run by sh. */
Test(migrate, shell_bash_in_a_rootfs_without_bash_says_so, .timeout = 120)
{
	char *dir = tu_tmpdir();
	char *cmd =
		tu_strf("cd '%s' && mkdir -p rootfs/bin rootfs/lib/x86_64-linux-gnu rootfs/lib64 "
			"rootfs/etc && cp -L /bin/sh rootfs/bin/sh && "
			"cp -L /lib/x86_64-linux-gnu/libc.so.6 rootfs/lib/x86_64-linux-gnu/ && "
			"cp -L /lib64/ld-linux-x86-64.so.2 rootfs/lib64/",
			dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  img:\n    sandbox: { rootfs: rootfs }\n    shell: bash\n"
		 "    run: echo ran-anyway\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "ran-anyway"), "%s", r.out);
	assert_contains(r.out, "shell: bash: /bin/bash cannot be run in the stage's root "
			       "filesystem");
	tu_result_free(&r);
	/* The same root runs the default shell: what was missing is bash. */
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  img:\n    sandbox: { rootfs: rootfs }\n"
		 "    run: echo ran-with-sh\n");
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "ran-with-sh");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/*
 * junit.xml of the latest run, read by a real XML parser (Python's), as JSON:
 * {"suite": {attributes}, "cases": {name: {"attrs": {…}, "children": [{"tag": …, "text": …,
 * attributes}]}}, "properties": {name: value}, "order": [the suite's children's tags],
 * "system-out": text, "system-err": text}.
 */
static json_t *latest_junit(const char *dir)
{
	static const char code[] =
		"import json, sys, xml.etree.ElementTree as ET\n"
		"root = ET.parse(sys.argv[1]).getroot()\n"
		"assert root.tag == 'testsuites', root.tag\n"
		"suites = root.findall('testsuite')\n"
		"assert len(suites) == 1\n"
		"cases = {}\n"
		"for c in suites[0].findall('testcase'):\n"
		"    kids = [dict(k.attrib, tag=k.tag, text=k.text or '') for k in c]\n"
		"    cases[c.get('name')] = {'attrs': dict(c.attrib), 'children': kids}\n"
		"props = {p.get('name'): p.get('value') for p in suites[0].iter('property')}\n"
		"out = {'suite': dict(suites[0].attrib), 'cases': cases, 'properties': props,\n"
		"       'order': [k.tag for k in suites[0]]}\n"
		"for t in ('system-out', 'system-err'):\n"
		"    e = suites[0].find(t)\n"
		"    if e is not None:\n"
		"        out[t] = e.text or ''\n"
		"print(json.dumps(out))\n";
	char *path = tu_strf("%s/.runner/runs/latest/junit.xml", dir);
	const char *argv[] = { "/usr/bin/python3", "-c", code, path, NULL };
	struct tu_result r = tu_run(NULL, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "junit.xml does not parse: %s", r.err);
	json_error_t err;
	json_t *j = json_loads(r.out, 0, &err);
	cr_assert_not_null(j, "%s: %s", err.text, r.out);
	tu_result_free(&r);
	free(path);
	return j;
}

/* The one element of testcase NAME that says how it ended (failure, error, skipped), or
 * NULL for a passing one. */
static json_t *junit_outcome(json_t *junit, const char *name)
{
	json_t *c = json_object_get(json_object_get(junit, "cases"), name);
	cr_assert_not_null(c, "no testcase '%s'", name);
	json_t *found = NULL, *k;
	size_t i;
	json_array_foreach(json_object_get(c, "children"), i, k)
	{
		const char *tag = json_string_value(json_object_get(k, "tag"));
		if (strcmp(tag, "failure") == 0 || strcmp(tag, "error") == 0 ||
		    strcmp(tag, "skipped") == 0) {
			cr_assert_null(found, "testcase '%s' has two outcomes", name);
			found = k;
		}
	}
	return found;
}

static const char *attr(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	return v ? v : "(none)";
}

/* What xmllint (libxml2-utils) finds wrong in junit.xml of the latest run against the Ant
 * JUnit schema (windyroad's JUnit.xsd, tests/fixtures/junit-schema), or NULL when the file
 * is valid. */
static char *junit_schema_problem(const char *dir)
{
	static const char xmllint[] = "/usr/bin/xmllint";
	cr_assert_eq(access(xmllint, X_OK), 0, "%s (Debian's libxml2-utils) is needed", xmllint);
	char *schema = tu_fixture("junit-schema/JUnit.xsd");
	char *path = tu_strf("%s/.runner/runs/latest/junit.xml", dir);
	const char *argv[] = { xmllint, "--noout", "--nonet", "--schema", schema, path, NULL };
	struct tu_result r = tu_run(NULL, argv, NULL, 60);
	char *problem = r.status == 0 ? NULL : tu_strf("%s%s", r.out, r.err);
	tu_result_free(&r);
	free(schema);
	free(path);
	return problem;
}

static void assert_junit_valid(const char *dir)
{
	char *problem = junit_schema_problem(dir);
	cr_assert_null(problem, "junit.xml is not valid against the Ant JUnit schema:\n%s",
		       problem);
}

/* Every testcase of junit.xml passes if and only if its stage passed in report.json. */
static void assert_junit_passes_only_what_passed(const char *dir)
{
	json_t *rep = latest_report(dir);
	json_t *j = latest_junit(dir);
	json_t *st;
	size_t i;
	json_array_foreach(json_object_get(rep, "stages"), i, st)
	{
		const char *name = json_string_value(json_object_get(st, "name"));
		const char *status = json_string_value(json_object_get(st, "status"));
		json_t *outcome = junit_outcome(j, name);
		if (strcmp(status, "passed") == 0) {
			cr_assert_null(outcome, "stage '%s' passed, its testcase has <%s>", name,
				       attr(outcome, "tag"));
		} else {
			cr_assert_not_null(outcome, "stage '%s' is %s, its testcase passes", name,
					   status);
		}
	}
	json_decref(j);
	json_decref(rep);
}

/*
 * How CI servers read junit.xml: an allowed failure is a failure a UI shows (its type says
 * it was allowed; the run still passes), a stage stopped while running is an error, a
 * stage that never ran is <skipped> with a message (the schemas give <skipped> no `type`),
 * and the timestamp is the Ant schema's: no fraction, no zone.
 */
Test(migrate, junit_shows_allowed_failures_and_cancelled_stages, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: ci\nstages:\n"
		 "  flaky:\n    allow-failure: true\n    run: exit 3\n"
		 "  ok:\n    needs: [flaky]\n    run: \"true\"\n"
		 "  off:\n    if: branch == \"never\"\n    run: \"true\"\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	assert_junit_valid(dir);
	json_t *j = latest_junit(dir);
	json_t *suite = json_object_get(j, "suite");
	json_t *flaky = junit_outcome(j, "flaky");
	cr_assert_not_null(flaky, "an allowed failure is written as a pass");
	cr_assert_str_eq(attr(flaky, "tag"), "failure");
	cr_assert_str_eq(attr(flaky, "type"), "allowed-failure");
	cr_assert_str_eq(attr(flaky, "message"), "allowed to fail: exit code 3");
	cr_assert_null(junit_outcome(j, "ok"));
	json_t *off = junit_outcome(j, "off");
	cr_assert_not_null(off);
	cr_assert_str_eq(attr(off, "tag"), "skipped");
	cr_assert_null(json_object_get(off, "type"), "<skipped> has no type in the schemas");
	cr_assert_str_eq(attr(suite, "tests"), "3");
	cr_assert_str_eq(attr(suite, "failures"), "1");
	cr_assert_str_eq(attr(suite, "errors"), "0");
	cr_assert_str_eq(attr(suite, "skipped"), "1");
	/* xs:dateTime restricted to [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}. */
	const char *ts = attr(suite, "timestamp");
	cr_assert_eq(strlen(ts), 19, "timestamp '%s'", ts);
	for (size_t i = 0; i < 19; i++) {
		char want = i == 4 || i == 7 ? '-' : i == 10 ? 'T' : i == 13 || i == 16 ? ':' : '0';
		cr_assert(want == '0' ? (ts[i] >= '0' && ts[i] <= '9') : ts[i] == want,
			  "timestamp '%s'", ts);
	}
	json_decref(j);

	/* --fail-fast: the stage running beside the failure is stopped (an error: it did not
	 * finish), the one that had not started is skipped, saying it was cancelled. */
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: ci\nstages:\n"
		 "  slow:\n    run: sleep 60\n"
		 "  bad:\n    run: exit 1\n"
		 "  queued:\n    run: \"true\"\n"
		 "  after:\n    needs: [slow]\n    run: \"true\"\n");
	r = tu_runner_run(dir, "run", "--no-color", "--fail-fast", "-j", "2", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_result_free(&r);
	assert_junit_valid(dir);
	assert_junit_passes_only_what_passed(dir);
	json_t *rep = latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "slow"), "cancelled");
	json_decref(rep);
	j = latest_junit(dir);
	json_t *slow = junit_outcome(j, "slow");
	cr_assert_not_null(slow);
	cr_assert_str_eq(attr(slow, "tag"), "error");
	cr_assert_str_eq(attr(slow, "type"), "cancelled");
	json_t *queued = junit_outcome(j, "queued");
	cr_assert_not_null(queued);
	cr_assert_str_eq(attr(queued, "tag"), "skipped");
	cr_assert_null(json_object_get(queued, "type"));
	cr_assert_str_eq(attr(queued, "message"), "cancelled before it started");
	json_t *after = junit_outcome(j, "after");
	cr_assert_not_null(after);
	cr_assert_str_eq(attr(after, "tag"), "skipped");
	cr_assert_null(json_object_get(after, "type"));
	suite = json_object_get(j, "suite");
	cr_assert_str_eq(attr(suite, "failures"), "1");
	cr_assert_str_eq(attr(suite, "errors"), "1");
	cr_assert_str_eq(attr(suite, "skipped"), "2");
	json_decref(j);
	tu_rmdir(dir);
	free(dir);
}

/* `runner run --stage b`, b skipped because the stage it needs was: the run's last line
 * says skipped, not passed (the exit code stays 0: nothing failed). A run whose stages
 * asked for partly ran still passes. */
Test(migrate, a_run_whose_asked_stage_was_skipped_says_skipped, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    if: branch == \"never\"\n    run: \"true\"\n"
		 "  b:\n    needs: [a]\n    run: echo hi\n  c: { run: \"true\" }\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "--stage", "b", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "\nskipped in ");
	assert_contains(r.out, "(exit 0)");
	cr_assert_null(strstr(r.out, "\npassed in "), "%s", r.out);
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "\npassed in ");
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "--no-color", "--stage", "c", "--stage", "b", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "\npassed in ");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* report.json's `message` says why a stage did not pass: null for a stage that passed,
 * a built-in one included (its summary is in its result). */
Test(migrate, a_passed_stage_has_no_message, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "src/ok.c", "int main(void) { return 0; }\n");
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  scan:\n    uses: secrets\n  s: { run: \"true\" }\n"
		 "  bad: { run: exit 2 }\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_result_free(&r);
	json_t *rep = latest_report(dir);
	json_t *scan = tu_report_stage(rep, "scan");
	cr_assert_str_eq(tu_stage_status(rep, "scan"), "passed");
	cr_assert(json_is_null(json_object_get(scan, "message")), "message: %s",
		  json_string_value(json_object_get(scan, "message")));
	const char *sum =
		json_string_value(json_object_get(json_object_get(scan, "result"), "summary"));
	cr_assert_not_null(sum);
	cr_assert_eq(strncmp(sum, "passed: ", 8), 0, "%s", sum);
	cr_assert(json_is_null(json_object_get(tu_report_stage(rep, "s"), "message")));
	cr_assert_str_eq(json_string_value(json_object_get(tu_report_stage(rep, "bad"), "message")),
			 "exit code 2");
	json_decref(rep);
	/* The stage's log still says how it passed. */
	char *log = tu_readf("%s/.runner/runs/latest/logs/scan.log", dir);
	assert_contains(log, "[runner] passed: no finding at or above high");
	free(log);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A run interrupted by SIGTERM while a stage runs: in junit.xml only the stages that passed
 * pass (one of them after a failed attempt); the one stopped while it ran is an error, the
 * ones that never started are skipped, an allowed failure is a failure. The stage writes a
 * file once it runs, which the test waits for before it sends the signal.
 */
Test(migrate, junit_of_an_interrupted_run_passes_only_what_passed, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: ci\nstages:\n"
		 "  flaky:\n    retry: 1\n    run: test -e once || { touch once; exit 1; }\n"
		 "  allowed:\n    allow-failure: true\n    run: exit 3\n"
		 "  slow:\n    needs: [flaky, allowed]\n    run: touch started; exec sleep 60\n"
		 "  quick:\n    needs: [flaky, allowed]\n    run: \"true\"\n"
		 "  after:\n    needs: [slow]\n    run: \"true\"\n");
	char *started = tu_strf("%s/started", dir);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		if (chdir(dir) < 0) {
			_exit(99);
		}
		execl(tu_runner(), "runner", "run", "--no-color", "-j", "2", NULL);
		_exit(98);
	}
	/* Bounded by the test's timeout, not timed. */
	while (!tu_exists("%s", started)) {
		int st;
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the run ended before 'slow' started");
		usleep(20000);
	}
	cr_assert_eq(kill(pid, SIGTERM), 0);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d", st);
	json_t *rep = latest_report(dir);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "cancelled");
	cr_assert_str_eq(tu_stage_status(rep, "flaky"), "passed");
	cr_assert_eq(json_array_size(json_object_get(tu_report_stage(rep, "flaky"), "attempts")),
		     2);
	cr_assert_str_eq(tu_stage_status(rep, "slow"), "cancelled");
	cr_assert_str_eq(tu_stage_status(rep, "after"), "cancelled");
	json_decref(rep);
	assert_junit_valid(dir);
	assert_junit_passes_only_what_passed(dir);
	json_t *j = latest_junit(dir);
	cr_assert_str_eq(attr(json_object_get(j, "properties"), "result"), "cancelled");
	cr_assert_str_eq(attr(json_object_get(j, "properties"), "exit_code"), "143");
	cr_assert_null(junit_outcome(j, "flaky"));
	json_t *slow = junit_outcome(j, "slow");
	cr_assert_str_eq(attr(slow, "tag"), "error");
	cr_assert_str_eq(attr(slow, "type"), "cancelled");
	cr_assert_str_eq(attr(junit_outcome(j, "after"), "tag"), "skipped");
	json_t *allowed = junit_outcome(j, "allowed");
	cr_assert_str_eq(attr(allowed, "tag"), "failure");
	cr_assert_str_eq(attr(allowed, "type"), "allowed-failure");
	json_decref(j);
	free(started);
	tu_rmdir(dir);
	free(dir);
}

/*
 * junit.xml is valid against the Ant JUnit schema (windyroad's JUnit.xsd, which xmllint
 * checks from tests/fixtures/junit-schema): the suite has the `id`, `package` and
 * `hostname` it requires, <properties> first (the run's result, exit code, id, commit...)
 * and <system-out> and <system-err> last; a testcase holds at most its outcome, which
 * carries the end of the stage's log as its text (what GitLab shows of a failed test and
 * Jenkins as its stack trace), and the suite's <system-out> has every stage's log.
 */
Test(migrate, junit_is_valid_against_the_ant_junit_schema, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: web app\nstages:\n"
		 "  build:\n    run: echo built it\n"
		 "  test:\n    needs: [build]\n    run: echo 'expected <1> & got 2'; exit 2\n"
		 "  lint:\n    allow-failure: true\n    run: echo lint says no; exit 3\n"
		 "  deploy:\n    needs: [test]\n    run: \"true\"\n"
		 "  off:\n    if: branch == \"never\"\n    run: \"true\"\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_result_free(&r);
	assert_junit_valid(dir);
	assert_junit_passes_only_what_passed(dir);
	json_t *j = latest_junit(dir);
	json_t *suite = json_object_get(j, "suite");
	cr_assert_str_eq(attr(suite, "name"), "web app");
	cr_assert_str_eq(attr(suite, "package"), "web app");
	cr_assert_str_eq(attr(suite, "id"), "0");
	cr_assert_gt(strlen(attr(suite, "hostname")), 0);
	cr_assert_str_eq(attr(suite, "tests"), "5");
	cr_assert_str_eq(attr(suite, "failures"), "2");
	cr_assert_str_eq(attr(suite, "errors"), "0");
	cr_assert_str_eq(attr(suite, "skipped"), "2");
	json_t *order = json_object_get(j, "order");
	cr_assert_eq(json_array_size(order), 8);
	cr_assert_str_eq(json_string_value(json_array_get(order, 0)), "properties");
	cr_assert_str_eq(json_string_value(json_array_get(order, 6)), "system-out");
	cr_assert_str_eq(json_string_value(json_array_get(order, 7)), "system-err");
	json_t *props = json_object_get(j, "properties");
	cr_assert_str_eq(attr(props, "result"), "failed");
	cr_assert_str_eq(attr(props, "exit_code"), "1");
	json_t *rep = latest_report(dir);
	cr_assert_str_eq(attr(props, "run_id"), json_string_value(json_object_get(rep, "run_id")));
	json_decref(rep);
	/* A testcase holds its outcome only (the schema has no <system-out> in a testcase). */
	const char *names[] = { "build", "test", "lint", "deploy", "off" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *c = json_object_get(json_object_get(j, "cases"), names[i]);
		size_t n = json_array_size(json_object_get(c, "children"));
		cr_assert_leq(n, 1, "testcase '%s' has %zu children", names[i], n);
	}
	json_t *test = junit_outcome(j, "test");
	cr_assert_str_eq(attr(test, "tag"), "failure");
	cr_assert_str_eq(attr(test, "message"), "exit code 2");
	assert_contains(attr(test, "text"), "expected <1> & got 2\n");
	assert_contains(attr(junit_outcome(j, "lint"), "text"), "lint says no\n");
	const char *out = attr(j, "system-out");
	assert_contains(out, "built it\n");
	assert_contains(out, "expected <1> & got 2\n");
	cr_assert_str_eq(attr(j, "system-err"), "");
	json_decref(j);
	tu_rmdir(dir);
	free(dir);
}

/* A free-space floor from 1 TiB up is given in TiB, not as thousands of GiB. */
Test(migrate, a_min_free_of_terabytes_is_said_in_tib, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  s: { run: \"true\" }\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "--min-free", "100T", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	assert_contains(r.out, "less than the 100.0 TiB it keeps free (min-free)");
	cr_assert_null(strstr(r.out, "102400"), "%s", r.out);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* Whether the file at path has a line that starts with start and holds has. */
static bool has_line(const char *path, const char *start, const char *has)
{
	char *text = tu_read(path);
	bool found = false;
	for (char *line = text; line && *line && !found;) {
		char *nl = strchr(line, '\n');
		if (!nl) {
			break; /* a line still being written */
		}
		*nl = '\0';
		found = strncmp(line, start, strlen(start)) == 0 && strstr(line, has);
		line = nl + 1;
	}
	free(text);
	return found;
}

/*
 * A stage whose retry waits in the queue when the run is cancelled did run, and its
 * attempt failed: report.json, junit.xml and the terminal say so, not that it was cancelled
 * before it started. The retry is held by a security scan that became ready while the
 * scripts ran (a scan goes first and never runs beside a script, and `long` runs until the
 * run is stopped). Each step waits for the one before: the scan is ready once `prep`'s end
 * is printed, `flaky` fails once the test makes the file it waits for, and the signal goes
 * once the retry is announced.
 */
Test(migrate, a_stage_cancelled_while_its_retry_waits_says_its_attempt_failed, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: ci\nstages:\n"
		 "  flaky:\n    retry: 1\n"
		 "    run: while [ ! -e go ]; do sleep 0.05; done; echo it failed; exit 1\n"
		 "  prep:\n    run: \"true\"\n"
		 "  scan:\n    uses: secrets\n    needs: [prep]\n"
		 "  long:\n    run: touch long-started; exec sleep 600\n");
	char *out = tu_strf("%s/out.txt", dir);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_WRONLY);
		if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(null, 2) < 0 || chdir(dir) < 0) {
			_exit(99);
		}
		execl(tu_runner(), "runner", "run", "--no-color", "-j", "3", NULL);
		_exit(98);
	}
	/* Bounded by the test's timeout, not timed. */
	int st;
	while (!tu_exists("%s/long-started", dir) || !has_line(out, "prep ", "| -- passed")) {
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the run ended early");
		usleep(20000);
	}
	tu_write(dir, "go", "");
	while (!has_line(out, "flaky ", "attempt 1 failed (exit code 1); retrying")) {
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the run ended early");
		usleep(20000);
	}
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d", st);

	const char *want = "cancelled while waiting to retry; attempt 1 failed: exit code 1";
	cr_expect(has_line(out, "flaky ", want), "the terminal does not say '%s'", want);
	json_t *rep = latest_report(dir);
	json_t *flaky = tu_report_stage(rep, "flaky");
	cr_assert_str_eq(tu_stage_status(rep, "flaky"), "cancelled");
	cr_expect_str_eq(json_string_value(json_object_get(flaky, "message")), want);
	cr_expect_eq(json_array_size(json_object_get(flaky, "attempts")), 1);
	cr_expect_eq(json_integer_value(json_object_get(flaky, "exit_code")), 1);
	cr_expect_str_eq(
		json_string_value(json_object_get(tu_report_stage(rep, "scan"), "message")),
		"cancelled before it started");
	json_decref(rep);
	char *log = tu_readf("%s/.runner/runs/latest/logs/flaky.log", dir);
	assert_contains(log, "it failed\n");
	assert_contains(log, want);
	free(log);
	assert_junit_valid(dir);
	assert_junit_passes_only_what_passed(dir);
	json_t *j = latest_junit(dir);
	json_t *o = junit_outcome(j, "flaky");
	cr_assert_not_null(o);
	cr_expect_str_eq(attr(o, "tag"), "error");
	cr_expect_str_eq(attr(o, "type"), "cancelled");
	cr_expect_str_eq(attr(o, "message"), want);
	assert_contains(attr(o, "text"), "it failed\n");
	cr_expect_str_eq(attr(junit_outcome(j, "scan"), "tag"), "skipped");
	json_decref(j);
	free(out);
	tu_rmdir(dir);
	free(dir);
}
