/*
 * test-migrate.c - what a pipeline moved from GitHub Actions or GitLab CI relies on, end to
 * end through the runner binary: `shell: bash` and its pipefail.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	cr_assert_neq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "ran-anyway"), "%s", r.out);
	assert_contains(r.out, "shell: bash: /bin/bash cannot be run in the stage's root "
			       "filesystem");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

