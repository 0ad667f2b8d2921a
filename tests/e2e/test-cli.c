/*
 * test-cli.c - the runner binary end to end: commands, exit codes, diagnostics as users
 * see them, the examples, JSON output, secrets files, interrupts.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *copy_example(const char *name)
{
	char *dir = tu_tmpdir();
	char *cmd;
	const char *root = getenv("RUNNER_SOURCE_ROOT");
	cr_assert_not_null(root);
	/* Without what earlier runs left in the source tree (records, build output). */
	cr_assert_geq(asprintf(&cmd,
			       "cp -r '%s/examples/%s/.' '%s/' && rm -rf '%s/.runner' '%s/build' "
			       "'%s/dist'",
			       root, name, dir, dir, dir, dir),
		      0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	return dir;
}

static void assert_contains(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

/*
 * The Mermaid id of stage NAME in OUT: a line `  ID["NAME (kind)"]`. The id must be
 * s<digits>, never the name itself (stage names include Mermaid's keywords).
 */
static char *mermaid_id(const char *out, const char *name)
{
	char *label = NULL;
	cr_assert_geq(asprintf(&label, "[\"%s (", name), 0);
	const char *at = strstr(out, label);
	cr_assert_not_null(at, "no node for '%s' in:\n%s", name, out);
	free(label);
	const char *start = at;
	while (start > out && start[-1] != ' ') {
		start--;
	}
	cr_assert(at - start >= 2 && start[0] == 's', "node id of '%s' in:\n%s", name, out);
	for (const char *c = start + 1; c < at; c++) {
		cr_assert(*c >= '0' && *c <= '9', "node id of '%s' in:\n%s", name, out);
	}
	return strndup(start, (size_t)(at - start));
}

static bool mermaid_has_edge(const char *out, const char *from, const char *to)
{
	char *a = mermaid_id(out, from), *b = mermaid_id(out, to), *line = NULL;
	cr_assert_geq(asprintf(&line, "  %s --> %s\n", a, b), 0);
	bool found = strstr(out, line) != NULL;
	free(a);
	free(b);
	free(line);
	return found;
}

Test(cli, version_help_and_usage_errors)
{
	struct tu_result r = tu_runner_run(NULL, "--version", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(strncmp(r.out, "runner ", 7), 0);
	tu_result_free(&r);
	r = tu_runner_run(NULL, "--help", NULL);
	cr_assert_eq(r.status, 0);
	assert_contains(r.out, "validate");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "run", "--help", NULL);
	cr_assert_eq(r.status, 0);
	assert_contains(r.out, "usage: runner run");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "vaildate", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "did you mean 'runner validate'?");
	tu_result_free(&r);
	r = tu_runner_run(NULL, NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	r = tu_runner_run(NULL, "run", "-j", "0", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "-j takes a number from 1 to 1024");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "graph", "--format", "png", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
}

Test(cli, no_pipeline_file_is_a_usage_error)
{
	char *dir = tu_tmpdir();
	struct tu_result r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "no pipeline file");
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	/* runner.yml is the second choice. */
	tu_write(dir, "runner.yml", "version: 1\nstages:\n  a: { run: \"true\" }\n");
	r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 0);
	assert_contains(r.out, "runner.yml: pipeline 'pipeline' is valid: 1 stage");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, validate_prints_position_excerpt_caret_and_hint)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  build:\n    run: make\n  test:\n    need: [build]\n"
		 "    run: make check\n");
	struct tu_result r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, ".runner.yml:6:5: error: unknown key 'need' in stage 'test'\n"
			       "    6 |     need: [build]\n"
			       "      |     ^\n"
			       "  hint: did you mean `needs`?\n");
	cr_assert_str_eq(r.out, "");
	tu_result_free(&r);
	/* Several problems are all reported. */
	tu_write(dir, "bad.yml",
		 "version: 1\nstages:\n  a:\n    run: x\n    timeout: 5\n  b:\n    needs: [c]\n"
		 "    run: y\n");
	r = tu_runner_run(dir, "validate", "-f", "bad.yml", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "bad.yml:5:14: error: bad duration '5' for timeout");
	assert_contains(r.err, "bad.yml:7:13: error: stage 'b' needs unknown stage 'c'");
	tu_result_free(&r);
	/* A warning does not make the file invalid, but it is shown, by validate and run. */
	tu_write(dir, "warn.yml",
		 "version: 1\nstages:\n  a:\n    run: echo \"$P\"\n    env: { P: $HOME/bin }\n");
	r = tu_runner_run(dir, "validate", "-f", "warn.yml", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_contains(r.err, "warn.yml:5:15: warning: $HOME is not expanded in an env value");
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "-f", "warn.yml", "--no-sandbox", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_contains(r.err, "warn.yml:5:15: warning: $HOME is not expanded in an env value");
	assert_contains(r.out, "a | $HOME/bin\n");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, cycle_is_printed_as_a_path)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a: { needs: [b], run: x }\n  b: { needs: [c], run: x }\n"
		 "  c: { needs: [a], run: x }\n");
	struct tu_result r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "error: dependency cycle: a -> b -> c -> a");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* ${...} expansion is capped per value, per stage and for all stages together: a few
 * kilobytes of pipeline made the runner hold hundreds of megabytes before any stage ran
 * (and gigabytes with more stages). Refused as invalid input, before anything runs. */
Test(cli, interpolation_cannot_blow_up, .timeout = 60)
{
	char *dir = tu_tmpdir();
	static char y[64 << 10];
	size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(y + n, sizeof(y) - n, __VA_ARGS__))
	PUT("version: 1\nenv:\n  A: \"%01000d\"\n  B: \"", 0);
	for (int i = 0; i < 200; i++) {
		PUT("${A}");
	}
	PUT("\"\nstages:\n");
	for (int st = 0; st < 4; st++) {
		PUT("  s%d:\n    run: \"true\"\n    env:\n", st);
		for (int k = 0; k < 32; k++) {
			PUT("      E%d: \"${B}${B}${B}${B}\"\n", k);
		}
	}
#undef PUT
	cr_assert_lt(n, sizeof(y));
	tu_write(dir, ".runner.yml", y);
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "expands to more than");
	cr_assert(!tu_exists("%s/.runner/runs/latest/report.json", dir), "a stage ran");
	tu_result_free(&r);
	/* The same through a container-push's with: (and a stage env within its cap). */
	tu_write(dir, ".runner.yml",
		 "version: 1\nenv:\n  A: "
		 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
		 "  B: \"${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}\"\n"
		 "  C: \"${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}\"\n"
		 "  D: \"${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}\"\n"
		 "stages:\n  image:\n    ungated: test\n    uses: container-push\n"
		 "    with:\n      image: 127.0.0.1:1/a\n"
		 "      labels: { a: \"${D}\", b: \"${D}\", c: \"${D}\", d: \"${D}\",\n"
		 "                e: \"${D}\", f: \"${D}\", g: \"${D}\", h: \"${D}\" }\n");
	r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "expands to more than");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A run record that cannot be written is an error, which outranks a failed stage (and a
 * block): exit 4, not 1. */
Test(cli, a_record_that_cannot_be_written_is_an_error, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    run: mkdir \"$(dirname \"$RUNNER_ARTIFACTS\")/"
		 "report.json\"; exit 1\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-sandbox", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "cannot write the run record") ||
			  strstr(r.err, "cannot write the run record"),
		  "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A stage that fills the disk is stopped before the host's disk is full, and the next stage
 * does not start while it stays full. The workspace lives on a 256 MiB tmpfs of its own
 * (mounted as root, as CI runs), so that other tests' writes cannot move the free space
 * the test counts on: the floor there is 5% of it, 12.8 MiB; the stage leaves about 6.
 */
Test(cli, a_stage_filling_the_disk_is_stopped_at_the_floor, .timeout = 120)
{
	if (geteuid() != 0) {
		cr_skip_test("needs root to mount a tmpfs of its own");
	}
	/* In a mount namespace of the test's own: the tmpfs goes away with the test, whatever
	 * its outcome, and the runner started from here sees it. */
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	char *dir = tu_tmpdir();
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=0755"), 0,
		     "mount: %s", strerror(errno));
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  fill:\n"
		 "    run: dd if=/dev/zero of=big bs=1M count=250 2>/dev/null; sleep 10\n"
		 "  other:\n    run: trap '' TERM; sleep 3\n");
	/* Every running stage is stopped, and keeps that reason when --fail-fast cancels
	 * the run after the first one ends (`other` outlives `fill` by ignoring SIGTERM). */
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "-j2", "--fail-fast", NULL);
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "fill   failed");
	assert_contains(r.out, "other  failed");
	assert_contains(r.out, "stopped: the file system of the workspace has");
	assert_contains(r.out, "less than the 12 MiB it keeps free (min-free)");
	cr_expect_null(strstr(r.out, "cancelled"), "%s", r.out);
	tu_result_free(&r);
	/* The disk is still full (`big` stays): the stage is not started. */
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	assert_contains(r.out, "not started: the file system of the workspace has");
	tu_result_free(&r);
	/* With the floor turned off, the same run is the stage's own business. */
	r = tu_runner_run(dir, "run", "--no-color", "--min-free", "0", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "--min-free", "lots", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_assert_eq(umount2(dir, MNT_DETACH), 0);
	tu_rmdir(dir); /* the mount point, in the namespace the test shares with the others */
	free(dir);
}

/* A run record on a mount of its own inside the workspace (a tmpfs at .runner) is out of
 * sandboxed stages' reach, since they see the workspace without the mounts below it: the
 * run says so before any stage starts (it used to be "could not start: open a runner
 * path" for each stage). Unsandboxed, it works. */
Test(cli, a_run_record_on_a_mount_of_its_own_is_refused_clearly, .timeout = 60)
{
	if (geteuid() != 0) {
		cr_skip_test("needs root to mount a tmpfs of its own");
	}
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  a: { run: 'true' }\n");
	char *rec = tu_strf("%s/.runner", dir);
	cr_assert_eq(mkdir(rec, 0755), 0);
	cr_assert_eq(mount("tmpfs", rec, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m"), 0, "mount: %s",
		     strerror(errno));
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	assert_contains(r.err, "is on a mount of its own inside the workspace");
	cr_expect_null(strstr(r.out, "could not start"), "%s", r.out);
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "--no-color", "--no-sandbox", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_assert_eq(umount2(rec, MNT_DETACH), 0);
	/* On the workspace's own mount, as usual: runs. */
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(rec);
	free(dir);
}

/*
 * `--rev` runs on an export of the commit, which has no index: the runner lists the
 * commit's files, and the scans read each of them whatever .gitignore says, as in a
 * working tree: a force-added file (also one a negated rule does not bring back, in a
 * directory a rule ignores), and a committed file that a stage's change to .gitignore
 * matches; with the pipeline in a subdirectory. What a stage builds into an ignored
 * directory stays ignored. The same in the working tree.
 */
Test(cli, a_committed_file_that_gitignore_matches_is_scanned_under_rev, .timeout = 60)
{
	char *repo = tu_tmpdir();
	tu_write(repo, "svc/.runner.yml",
		 "version: 1\nstages:\n"
		 "  build: { run: \"mkdir -p dist && echo 'token: glpat-Wd6ClT5pS4yU7wX1bO4r' "
		 "> dist/out.txt && echo keys.txt >> .gitignore\" }\n"
		 "  secrets: { uses: secrets, needs: [build] }\n");
	tu_write(repo, "svc/.gitignore", "*.env\ndist/\nconf/deep/\n!conf/deep/*.env\n");
	tu_write(repo, "svc/deploy/prod.env", "token: glpat-Xa9ZkQ2mP7vR4tW8yL1n\n");
	tu_write(repo, "svc/conf/deep/x.env", "token: glpat-Yb8AjR3nQ6wS5uV9zM2p\n");
	tu_write(repo, "svc/keys.txt", "token: glpat-Zc7BkS4oR5xT6vW0aN3q\n");
	char *cmd = tu_strf("cd '%s' && git init -q . && git add svc/.runner.yml svc/.gitignore "
			    "svc/keys.txt && git add -f svc/deploy/prod.env svc/conf/deep/x.env && "
			    "git -c user.email=t@e -c user.name=t commit -qm c",
			    repo);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	/* The export, then the working tree, where the sandbox shows the scan svc/ and not
	 * the .git above it (the runner hands it the index's list). */
	for (int wt = 0; wt < 2; wt++) {
		struct tu_result r =
			wt ? tu_runner_run(repo, "run", "--no-color", "-f", "svc/.runner.yml", NULL)
			   : tu_runner_run(repo, "run", "--no-color", "--rev", "HEAD", "-f",
					   "svc/.runner.yml", NULL);
		cr_expect_eq(r.status, 3, "%s%s", r.out, r.err);
		tu_result_free(&r);
		char *report = tu_readf("%s/%s/runs/latest/report.json", repo,
					wt ? "svc/.runner" : ".runner");
		cr_assert_not_null(report);
		static const char *const found[] = { "deploy/prod.env", "conf/deep/x.env",
						     "keys.txt" };
		for (size_t i = 0; i < 3; i++) {
			char *want = tu_strf("\"file\": \"%s\"", found[i]);
			cr_expect_not_null(strstr(report, want), "%s not found (%s):\n%s", found[i],
					   wt ? "working tree" : "--rev", report);
			free(want);
		}
		cr_expect_null(strstr(report, "\"file\": \"dist/out.txt\""), "%s", report);
		free(report);
	}
	/* Whatever TMPDIR is (relative, inside the workspace where a stage could rewrite the
	 * list, not UTF-8), and whoever owns the repository, the committed file is scanned
	 * (the exit code alone says little: the pipeline file holds a token too). */
	char *inside = tu_strf("%s/svc/tmp", repo), *odd = tu_strf("%s/t\xff", repo);
	cr_assert_eq(mkdir(inside, 0755), 0);
	cr_assert_eq(mkdir(odd, 0755), 0);
	const char *tmpdirs[] = { "reltmp", inside, odd };
	for (size_t i = 0; i < 4; i++) {
		if (i < 3) {
			setenv("TMPDIR", tmpdirs[i], 1);
		} else {
			unsetenv("TMPDIR");
			if (geteuid() != 0) {
				break; /* (CI runs as root) */
			}
			/* (Writable for the build stage, which runs without capabilities.) */
			char *own = tu_strf("chown -R 1000:1000 '%s' && chmod -R a+rwX '%s/svc'",
					    repo, repo);
			cr_assert_eq(system(own), 0);
			free(own);
		}
		struct tu_result r =
			tu_runner_run(repo, "run", "--no-color", "-f", "svc/.runner.yml", NULL);
		cr_expect_eq(r.status, 3, "case %zu: %s%s", i, r.out, r.err);
		tu_result_free(&r);
		char *report = tu_readf("%s/svc/.runner/runs/latest/report.json", repo);
		cr_assert_not_null(report);
		cr_expect_not_null(strstr(report, "\"file\": \"deploy/prod.env\""),
				   "case %zu: deploy/prod.env not found:\n%s", i, report);
		free(report);
	}
	unsetenv("TMPDIR");
	free(inside);
	free(odd);
	tu_rmdir(repo);
	free(repo);
}

/* An output of the whole workspace (`.`) is copied without the run record that lies in
 * it (which it used to copy into itself until the nesting cap failed the stage). */
Test(cli, an_output_of_the_whole_workspace_leaves_the_record_out, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    run: echo hi > f\n    outputs: [\".\"]\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_expect(tu_exists("%s/.runner/runs/latest/artifacts/a/f", dir));
	cr_expect(tu_exists("%s/.runner/runs/latest/artifacts/a/.runner.yml", dir));
	cr_expect_not(tu_exists("%s/.runner/runs/latest/artifacts/a/.runner", dir));
	tu_rmdir(dir);
	free(dir);
}

/* The runner's own lines in a stage log start a line of their own, also after output that
 * did not end with a line break ("partial[runner] failed: ..." read as the stage's). */
Test(cli, runner_notes_in_a_log_start_their_own_line, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    run: printf partial; exit 3\n"
		 "  b:\n    run: printf 'whole\\n'; exit 3\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *log = tu_readf("%s/.runner/runs/latest/logs/a.log", dir);
	cr_assert_str_eq(log, "partial\n[runner] failed: exit code 3\n");
	free(log);
	log = tu_readf("%s/.runner/runs/latest/logs/b.log", dir);
	cr_assert_str_eq(log, "whole\n[runner] failed: exit code 3\n");
	free(log);
	char *junit = tu_readf("%s/.runner/runs/latest/junit.xml", dir);
	assert_contains(junit, "type=\"failed\">partial\n[runner] failed: exit code 3\n</failure>");
	assert_contains(junit, "==&gt; a &lt;==\npartial\n[runner] failed: exit code 3\n==&gt; b");
	free(junit);
	tu_rmdir(dir);
	free(dir);
}

/* The record holds what docs/pipeline.md lists, and not the scheduler's directory of
 * sandboxed stages' outboxes, empty once the run is over. */
Test(cli, the_record_keeps_no_outbox_directory, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    run: echo hi > \"$RUNNER_ARTIFACTS/a/f\"\n"
		 "  b:\n    run: echo b\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_expect(tu_exists("%s/.runner/runs/latest/artifacts/a/f", dir));
	cr_expect(tu_exists("%s/.runner/runs/latest/report.json", dir));
	cr_expect_not(tu_exists("%s/.runner/runs/latest/outbox", dir));
	tu_rmdir(dir);
	free(dir);
}

/* A run refused before its first stage (here its gate: expands to more than 1 MiB) leaves
 * no run directory behind: neither its logs/ nor its artifacts/ keep one that has no
 * report. */
Test(cli, a_run_refused_before_it_starts_leaves_no_run_directory, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nenv: { X: \"\" }\n"
		 "gate: { baseline: \"${X}${X}${X}${X}${X}${X}${X}${X}${X}${X}\" }\n"
		 "stages:\n  a: { run: \"true\" }\n");
	char *big = malloc(120001);
	cr_assert_not_null(big);
	memcpy(big, "X=", 2);
	memset(big + 2, 'a', 119998);
	big[120000] = '\0';
	struct tu_result r = tu_runner_run(dir, "run", "--env", big, NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "gate: expands to more than 1 MiB");
	tu_result_free(&r);
	char *runs = tu_strf("%s/.runner/runs", dir);
	DIR *d = opendir(runs);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			cr_expect(de->d_name[0] == '.', "a run directory was left: %s", de->d_name);
		}
		closedir(d);
	}
	free(runs);
	free(big);
	tu_rmdir(dir);
	free(dir);
}

/* A repository that commits .runner (or .runner/runs) as a symbolic link does not get the
 * run record, with its stage logs, written where the link points: the run is refused
 * (exit 2) before anything is written. */
Test(cli, a_runner_directory_that_is_a_link_is_refused, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *elsewhere = tu_strf("%s/elsewhere", dir);
	char *ws = tu_strf("%s/ws", dir);
	tu_write(ws, ".runner.yml", "version: 1\nstages:\n  a: { run: echo hello }\n");
	cr_assert_eq(mkdir(elsewhere, 0755), 0);
	char *link = tu_strf("%s/.runner", ws);
	cr_assert_eq(symlink("../elsewhere", link), 0);
	struct tu_result r = tu_runner_run(ws, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "is not a directory (a symbolic link)");
	tu_result_free(&r);
	DIR *d = opendir(elsewhere);
	cr_assert_not_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		cr_assert(de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")),
			  "written through the link: %s", de->d_name);
	}
	closedir(d);
	/* The same one level down. */
	cr_assert_eq(unlink(link), 0);
	cr_assert_eq(mkdir(link, 0755), 0);
	char *runs = tu_strf("%s/runs", link);
	cr_assert_eq(symlink("../../elsewhere", runs), 0);
	r = tu_runner_run(ws, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	free(runs);
	free(link);
	free(ws);
	free(elsewhere);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, quickstart_example_passes, .timeout = 120)
{
	char *dir = copy_example("quickstart");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 0, "stdout:\n%s\nstderr:\n%s", r.out, r.err);
	/* Not a terminal: plain output without escape sequences. */
	cr_assert_null(strchr(r.out, '\033'));
	assert_contains(r.out, "unit-test | ok   'one' -> 1");
	assert_contains(r.out, "passed in");
	tu_result_free(&r);
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	for (const char *const *s = (const char *const[]){ "build", "lint", "unit-test", "smoke",
							   "package", NULL };
	     *s; s++) {
		cr_assert_str_eq(tu_stage_status(rep, *s), "passed", "%s", *s);
	}
	/* Without a registry (runner run --env REGISTRY=...) the image stage is skipped. */
	cr_assert_str_eq(tu_stage_status(rep, "image"), "skipped");
	json_decref(rep);
	cr_assert(tu_exists("%s/.runner/runs/latest/artifacts/build/build/wc", dir));
	cr_assert(tu_exists("%s/.runner/runs/latest/junit.xml", dir));
	tu_rmdir(dir);
	free(dir);
}

Test(cli, conditions_example_with_and_without_a_deploy, .timeout = 120)
{
	char *dir = copy_example("conditions");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "deploy"), "skipped");
	cr_assert_str_eq(tu_stage_status(rep, "announce"), "skipped");
	cr_assert_str_eq(tu_stage_status(rep, "summary"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "style"), "failed");
	json_decref(rep);
	r = tu_runner_run(dir, "run", "--branch", "main", "--event", "push", NULL);
	cr_assert_eq(r.status, 0);
	tu_result_free(&r);
	rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "deploy"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "announce"), "passed");
	json_decref(rep);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, failing_stage_exits_1_and_stage_selection, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  ok: { run: echo fine }\n  broken: { run: echo oops; exit "
		 "4 }\n");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 1, "%s", r.out);
	assert_contains(r.out, "broken | -- failed");
	assert_contains(r.out, "(exit code 4)");
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "--stage", "ok", NULL);
	cr_assert_eq(r.status, 0);
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", "--stage", "brokn", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "--stage brokn: no such stage");
	assert_contains(r.err, "did you mean `broken`?");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* Hundreds of short sandboxed stages in a row, one at a time and two at a time: every one
 * starts and passes. Each stage's supervisor is prepared while the one before runs and
 * handed over when its stage starts; a race in that hand-over failed about one stage in a
 * few hundred with "stage supervisor ended without a report". */
Test(cli, hundreds_of_short_stages_all_start, .timeout = 300)
{
	char *dir = tu_tmpdir();
	char *yml = strdup("version: 1\nstages:\n");
	for (int i = 0; i < 400; i++) {
		char *next;
		cr_assert_geq(asprintf(&next, "%s  s%d: { run: \"true\" }\n", yml, i), 0);
		free(yml);
		yml = next;
	}
	tu_write(dir, ".runner.yml", yml);
	free(yml);
	const char *jobs[] = { "1", "2" };
	for (size_t k = 0; k < 2; k++) {
		struct tu_result r = tu_runner_run(dir, "run", "-j", jobs[k], NULL);
		cr_assert_eq(r.status, 0, "-j%s: exit %d\n%s", jobs[k], r.status, r.out);
		json_t *rep = tu_latest_report(dir);
		size_t i;
		json_t *st;
		size_t passed = 0;
		json_array_foreach(json_object_get(rep, "stages"), i, st)
		{
			passed += strcmp(json_string_value(json_object_get(st, "status")),
					 "passed") == 0;
		}
		cr_assert_eq(passed, 400, "-j%s: %zu of 400 passed", jobs[k], passed);
		json_decref(rep);
		tu_result_free(&r);
	}
	tu_rmdir(dir);
	free(dir);
}

/* A sandboxed stage's own directory of the run's artifacts (its outbox) is new: empty, with
 * the mode the runner makes directories with (that of the artifacts directory), whatever
 * the stages before it left in theirs or changed about them (the runner reuses empty,
 * untouched ones: runner/dirpool.c). The ones left empty are not kept in the record, and
 * nothing of the reuse is left behind. Every stage runs at the runner's own scheduling
 * priority (supervisors are prepared ahead at the lowest one). */
Test(cli, each_stage_gets_a_new_outbox_and_the_runners_priority, .timeout = 120)
{
	char *dir = tu_tmpdir();
	errno = 0;
	int nice0 = getpriority(PRIO_PROCESS, 0);
	cr_assert_eq(errno, 0);
	const char *check =
		"d=$RUNNER_ARTIFACTS/$RUNNER_STAGE; echo \"$RUNNER_STAGE nice=$(nice)\"; "
		"[ -z \"$(ls -A $d)\" ] && [ $(stat -c %a $d) = $(stat -c %a $RUNNER_ARTIFACTS) ] "
		"|| "
		"{ ls -la $d; exit 1; }";
	char *yml = tu_strf("version: 1\nstages:\n"
			    "  a: { run: '%s; echo kept > $d/f' }\n"
			    "  b: { needs: [a], run: '%s; chmod 700 $d' }\n"
			    "  c: { needs: [b], run: '%s; mkdir $d/sub' }\n"
			    "  d: { needs: [c], run: '%s; touch $d/.hidden; rm $d/.hidden' }\n"
			    "  e: { needs: [d], run: '%s; touch $d/.hidden' }\n"
			    "  f: { needs: [e], run: '%s' }\n"
			    "  g: { needs: [f], run: '%s' }\n",
			    check, check, check, check, check, check, check);
	tu_write(dir, ".runner.yml", yml);
	free(yml);
	struct tu_result r = tu_runner_run(dir, "run", "-j1", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	for (const char *s = "abcdefg"; *s; s++) {
		char want[64];
		snprintf(want, sizeof(want), "%c nice=%d", *s, nice0);
		assert_contains(r.out, want);
	}
	tu_result_free(&r);
	char *kept = tu_readf("%s/.runner/runs/latest/artifacts/a/f", dir);
	cr_assert_str_eq(kept, "kept\n");
	free(kept);
	cr_assert(tu_exists("%s/.runner/runs/latest/artifacts/c/sub", dir));
	cr_assert(tu_exists("%s/.runner/runs/latest/artifacts/e/.hidden", dir));
	for (const char *s = "dfg"; *s; s++) {
		cr_assert_not(tu_exists("%s/.runner/runs/latest/artifacts/%c", dir, *s),
			      "stage %c kept nothing", *s);
	}
	char *outbox = tu_strf("%s/.runner/runs/latest/outbox", dir);
	DIR *od = opendir(outbox);
	struct dirent *de;
	while (od && (de = readdir(od))) {
		cr_assert(de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")),
			  "left in the outbox: %s", de->d_name);
	}
	if (od) {
		closedir(od);
	}
	free(outbox);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, json_output_is_one_event_per_line, .timeout = 120)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a: { run: printf 'caf\\303\\251 \\377 bytes\\n' }\n");
	struct tu_result r = tu_runner_run(dir, "run", "--json", NULL);
	cr_assert_eq(r.status, 0);
	char *save, *line = strtok_r(r.out, "\n", &save);
	int events = 0;
	const char *last = NULL;
	bool saw_log = false;
	while (line) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);
		cr_assert_not_null(j, "not JSON: %s", line);
		last = json_string_value(json_object_get(j, "event"));
		cr_assert_not_null(last);
		if (strcmp(last, "log") == 0) {
			cr_assert_str_eq(json_string_value(json_object_get(j, "line")),
					 "caf\xc3\xa9 \xef\xbf\xbd bytes");
			saw_log = true;
		}
		last = strcmp(last, "run_finished") == 0 ? "run_finished" : "other";
		json_decref(j);
		events++;
		line = strtok_r(NULL, "\n", &save);
	}
	cr_assert(saw_log);
	cr_assert_geq(events, 4);
	cr_assert_str_eq(last, "run_finished");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* The repository holds .runner/: a durations cache there that is a link to a FIFO (or a
 * device) is neither read (a FIFO would block the runner for ever) nor written into; it is
 * replaced by a file. */
Test(cli, a_linked_durations_cache_is_replaced_not_followed, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *fifo = tu_strf("%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	char *cache = tu_strf("%s/.runner", dir);
	cr_assert_eq(mkdir(cache, 0755), 0);
	char *link = tu_strf("%s/.runner/durations.json", dir);
	cr_assert_eq(symlink(fifo, link), 0);
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  a: { run: \"true\" }\n");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	struct stat st;
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISREG(st.st_mode), "the cache is still a link");
	cr_assert_eq(lstat(fifo, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
	free(link);
	free(cache);
	free(fifo);
	tu_rmdir(dir);
	free(dir);
}

/* Output that cannot be written is an error, never a pass: a stage log that stops
 * growing (here past the runner's file size limit, 4 MiB, as on a full disk) makes the stage an
 * error (exit 4), and so does a command's standard output that cannot be written. */
Test(cli, output_that_cannot_be_written_is_an_error, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a: { run: \"head -c 9000000 /dev/zero | tr '\\\\0' x\" "
		 "}\n");
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 4u << 20, RLIM_INFINITY };
		int null = open("/dev/null", O_WRONLY);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0 || null < 0 || chdir(dir) < 0) {
			_exit(99);
		}
		signal(SIGXFSZ, SIG_IGN);
		dup2(null, 1);
		execl(tu_runner(), "runner", "run", "--no-color", NULL);
		_exit(98);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 4, "a run whose log could not be written exited %d",
		     WEXITSTATUS(st));
	json_t *rep = tu_latest_report(dir);
	cr_assert_not_null(rep);
	const char *msg = json_string_value(json_object_get(tu_report_stage(rep, "a"), "message"));
	cr_assert(msg && strstr(msg, "cannot write the stage log"), "%s", msg ? msg : "(none)");
	json_decref(rep);
	/* runner scan's report to a full device. */
	tu_write(dir, "src/a.c", "int main(void) { return 0; }\n");
	char *cmd =
		tu_strf("cd '%s' && '%s' scan sast src --format json >/dev/full", dir, tu_runner());
	int rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "scan to /dev/full exited %d",
		  WEXITSTATUS(rc));
	free(cmd);
	tu_rmdir(dir);
	free(dir);
}

/* A pipeline's name is the file's: its escape sequences and line breaks reach neither the
 * run's output nor validate's. */
Test(cli, a_pipeline_name_cannot_drive_the_terminal)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: \"x\\e]0;PWNED\\a\\e[2J\\ny\\rz\"\nstages:\n"
		 "  a: { run: \"true\" }\n");
	const char *const cmds[] = { "run", "validate" };
	for (size_t i = 0; i < 2; i++) {
		struct tu_result r = tu_runner_run(dir, cmds[i], "--no-color", NULL);
		if (i == 1) {
			tu_result_free(&r);
			r = tu_runner_run(dir, cmds[i], NULL);
		}
		cr_assert_eq(r.status, 0, "%s: %s%s", cmds[i], r.out, r.err);
		cr_assert_null(strchr(r.out, 0x1b), "%s: an escape reached the output:\n%s",
			       cmds[i], r.out);
		cr_assert_null(strchr(r.out, '\a'), "%s: %s", cmds[i], r.out);
		cr_assert_null(strchr(r.out, '\r'), "%s: %s", cmds[i], r.out);
		cr_assert_null(strstr(r.out, "\ny"), "%s: the name broke the line:\n%s", cmds[i],
			       r.out);
		tu_result_free(&r);
	}
	tu_rmdir(dir);
	free(dir);
}

/* Output that cannot be written is an error (4) whatever the command's own verdict: it
 * outranks a block (3) and a failed stage (1), and the message gives the write's errno. */
Test(cli, unwritable_output_outranks_blocked_and_failed, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(
		dir, "src/bad.c",
		"#include <string.h>\nvoid f(char *d, char **argv)\n{\n\tstrcpy(d, argv[1]);\n}\n");
	static const char *const formats[] = { "sarif", "json", "text" };
	for (size_t i = 0; i < 3; i++) {
		char *cmd = tu_strf("cd '%s' && '%s' scan sast src --format %s >/dev/full "
				    "2>err.txt",
				    dir, tu_runner(), formats[i]);
		int rc = system(cmd);
		cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 4,
			  "%s: a blocking scan to /dev/full "
			  "exited %d",
			  formats[i], WEXITSTATUS(rc));
		free(cmd);
		char *err = tu_readf("%s/err.txt", dir);
		assert_contains(err, "cannot write the output: No space left on device");
		free(err);
	}
	/* A run, failed or passed: its record says what the command said (it said "passed",
	 * exit 0, for a command that exited 4). */
	static const char *const scripts[] = { "false", "true" };
	for (size_t i = 0; i < 2; i++) {
		char *yml = tu_strf("version: 1\nstages:\n  a: { run: \"%s\" }\n", scripts[i]);
		tu_write(dir, ".runner.yml", yml);
		free(yml);
		char *cmd = tu_strf("cd '%s' && '%s' run --no-color >/dev/full 2>err.txt", dir,
				    tu_runner());
		int rc = system(cmd);
		cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "%s: a run to /dev/full exited %d",
			  scripts[i], WEXITSTATUS(rc));
		free(cmd);
		char *err = tu_readf("%s/err.txt", dir);
		assert_contains(err, "cannot write the output: No space left on device");
		free(err);
		json_t *rep = tu_latest_report(dir);
		cr_assert_not_null(rep);
		cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "error");
		cr_assert_eq(json_integer_value(json_object_get(rep, "exit_code")), 4);
		cr_assert_str_eq(json_string_value(json_object_get(rep, "error")),
				 "cannot write the output: No space left on device");
		const char *status =
			json_string_value(json_object_get(tu_report_stage(rep, "a"), "status"));
		cr_assert_str_eq(status, i == 0 ? "failed" : "passed");
		json_decref(rep);
	}
	tu_rmdir(dir);
	free(dir);
}

/* --version and --help print to standard output like any command: when it cannot be
 * written (a full device, a closed descriptor) they exit 4 with the reason, never 0. */
/* Starting the runner loads neither libcurl nor libmicrohttpd (and their thirty
 * libraries, about 3.6 ms of every start, a scan's worker's too): they are loaded when
 * first called (base/lazy_curl.c, runner/server/lazy_mhd.c). The dynamic linker lists what
 * a start loads when LD_TRACE_LOADED_OBJECTS is set, as ldd does. */
Test(cli, a_start_loads_neither_libcurl_nor_libmicrohttpd)
{
	const char *const argv[] = { tu_runner(), "--version", NULL };
	const char *const env[] = { "LD_TRACE_LOADED_OBJECTS=1", NULL };
	struct tu_result r = tu_run(NULL, argv, env, 30);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "libc.so.6");
	cr_assert_null(strstr(r.out, "libcurl"), "%s", r.out);
	cr_assert_null(strstr(r.out, "libmicrohttpd"), "%s", r.out);
	cr_assert_null(strstr(r.out, "libgnutls"), "%s", r.out);
	tu_result_free(&r);
}

/* And when they cannot be loaded, what needs them fails (exit 4) and changes nothing: a
 * download of the advisory database with libcurl hidden (a mount namespace of the test's,
 * /dev/null bound over the library). */
Test(cli, without_libcurl_a_download_fails_closed, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *lib = NULL;
	static const char *const libdirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					       "/lib64", "/usr/lib64", "/usr/lib" };
	for (size_t i = 0; i < sizeof(libdirs) / sizeof(libdirs[0]) && !lib; i++) {
		if (tu_exists("%s/libcurl.so.4", libdirs[i])) {
			lib = tu_strf("%s/libcurl.so.4", libdirs[i]);
		}
	}
	cr_assert_not_null(lib, "libcurl.so.4 not found");
	char *cmd = tu_strf("unshare --mount sh -c 'mount --bind /dev/null %s && "
			    "\"$0\" db update --db \"$1\"/osv.db --url http://127.0.0.1:9/all.zip' "
			    "'%s' '%s' >'%s/out.txt' 2>&1",
			    lib, tu_runner(), dir, dir);
	int rc = system(cmd);
	char *out = tu_readf("%s/out.txt", dir);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "exit %d: %s", WEXITSTATUS(rc), out);
	assert_contains(out, "libcurl");
	cr_assert(!tu_exists("%s/osv.db", dir), "a database was written");
	free(out);
	free(cmd);
	free(lib);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, version_and_help_fail_when_output_cannot_be_written, .timeout = 60)
{
	char *dir = tu_tmpdir();
	static const char *const args[] = { "--version", "-V",	     "--help",	   "-h",
					    "help",	 "help run", "run --help", "scan -h" };
	static const char *const redirs[] = { ">/dev/full", ">&-" };
	static const char *const why[] = { "No space left on device", "Bad file descriptor" };
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		char *cmd =
			tu_strf("cd '%s' && '%s' %s >out.txt 2>err.txt", dir, tu_runner(), args[i]);
		int rc = system(cmd);
		cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "runner %s exited %d", args[i],
			  WEXITSTATUS(rc));
		free(cmd);
		for (size_t k = 0; k < 2; k++) {
			cmd = tu_strf("cd '%s' && '%s' %s %s 2>err.txt", dir, tu_runner(), args[i],
				      redirs[k]);
			rc = system(cmd);
			cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "runner %s %s exited %d",
				  args[i], redirs[k], WEXITSTATUS(rc));
			free(cmd);
			char *err = tu_readf("%s/err.txt", dir);
			char *want = tu_strf("cannot write the output: %s", why[k]);
			assert_contains(err, want);
			free(want);
			free(err);
		}
	}
	tu_rmdir(dir);
	free(dir);
}

/* The pipeline file is read without leaving its directory (which is the workspace): a
 * link out of it (a cloned repository's `.runner.yml -> /elsewhere/p.yml`) is refused,
 * also in a commit tested with --rev (the pre-push hook), where it would have tested
 * another directory's pipeline and files; a FIFO does not hang the runner; a link inside
 * the directory is followed. */
Test(cli, a_pipeline_file_is_read_without_leaving_its_directory, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "outside/p.yml", "version: 1\nstages:\n  a: { run: \"touch marker\" }\n");
	tu_write(dir, "repo/ci.yml", "version: 1\nstages:\n  a: { run: \"true\" }\n");
	char *repo = tu_strf("%s/repo", dir);
	char *cmd = tu_strf("cd '%s' && ln -s '%s/outside/p.yml' .runner.yml", repo, dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	struct tu_result r = tu_runner_run(repo, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "leads out of its directory");
	tu_result_free(&r);
	cr_assert_not(tu_exists("%s/outside/marker", dir), "the outside pipeline ran");
	cr_assert_not(tu_exists("%s/outside/.runner", dir), "the record went outside");
	/* The same link committed, and tested with --rev. */
	cmd = tu_strf("cd '%s' && git init -q . && git add -A && git -c user.email=t@e -c "
		      "user.name=t commit -qm link",
		      repo);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	r = tu_runner_run(repo, "run", "--rev", "HEAD", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_assert_not(tu_exists("%s/outside/marker", dir), "the outside pipeline ran");
	/* A link inside the directory is followed. */
	cmd = tu_strf("cd '%s' && rm .runner.yml && ln -s ci.yml .runner.yml", repo);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	r = tu_runner_run(repo, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	/* A FIFO is not read (it would block for ever). */
	cmd = tu_strf("cd '%s' && rm .runner.yml && mkfifo .runner.yml", repo);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	r = tu_runner_run(repo, "validate", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "not a regular file");
	tu_result_free(&r);
	free(repo);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, escape_sequences_from_stages_do_not_reach_the_terminal, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a: { run: \"printf "
		 "'x\\\\033]0;title\\\\007y\\\\033[2Jz\\\\n'\" }\n");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_null(strchr(r.out, '\033'));
	assert_contains(r.out, "a | xyz\n");
	tu_result_free(&r);
	/* Nor from a stage's message, which quotes what the pipeline or the workspace holds
	 * (here a working directory's name). */
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    workdir: \"no\\x1b]0;T\\x07pe\"\n"
		 "    run: \"true\"\n");
	r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_null(strchr(r.out, '\033'), "%s", r.out);
	cr_assert_null(strchr(r.out, '\007'), "%s", r.out);
	assert_contains(r.out, "workdir 'nope' does not exist");
	tu_result_free(&r);
	/* Nor from a problem in the pipeline (a stage's name), nor from `runner scan`'s text,
	 * which quotes file names and source lines (an OSC 52 writes the clipboard), nor C1
	 * controls written in UTF-8 (U+009B is CSI to some terminals). */
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  \"a\\e]0;OWNED\\a\\u009b2J\": { run: \"true\" }\n");
	r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert_null(strchr(r.err, '\033'), "%s", r.err);
	cr_assert_null(strstr(r.err, "\xc2\x9b"), "%s", r.err);
	assert_contains(r.err, "invalid stage name 'a2J'");
	tu_result_free(&r);
	tu_write(dir, "src/a\x1b[31mRED.py",
		 "import hashlib\nh = hashlib.md5(b\"x\")  # \x1b]52;c;ZXZpbA==\x07\x1b[2J\n");
	r = tu_runner_run(dir, "scan", "sast", "src", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "py.weak-hash");
	cr_assert_null(strchr(r.out, '\033'), "%s", r.out);
	cr_assert_null(strchr(r.out, '\007'), "%s", r.out);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* An escape sequence ends at a line break, which is kept: one left unterminated (an OSC,
 * a CSI, a bare ESC) hides no later line of the stage's output (the filter took up to 4096
 * bytes after it for the sequence), in the live output and the log alike. */
Test(cli, an_unterminated_escape_sequence_hides_no_later_line, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    run: |\n"
		 "      printf 'osc\\033]0;x\\nline two\\nline three\\n'\n"
		 "      printf 'csi\\033[12\\nline four\\n'\n"
		 "      printf 'esc\\033\\nline five\\n'\n"
		 "      printf 'cr\\033]0;y\\rline six\\n'\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *log = tu_readf("%s/.runner/runs/latest/logs/a.log", dir);
	cr_assert_not_null(log);
	const char *texts[] = { r.out, log };
	for (size_t t = 0; t < 2; t++) {
		const char *x = texts[t];
		cr_assert_null(strchr(x, '\033'), "%s", x);
		const char *want[] = { "osc\n",	      "line two\n",  "line three\n",
				       "csi\n",	      "line four\n", "esc\n",
				       "line five\n", "cr\n",	     "line six\n" };
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			char *line = NULL;
			cr_assert_geq(asprintf(&line, "%s%s", t == 0 ? "a | " : "", want[i]), 0);
			cr_assert_not_null(strstr(x, line), "'%s' is missing:\n%s", want[i], x);
			free(line);
		}
	}
	free(log);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A stage that cannot start in its working directory: a script fails (and allow-failure
 * applies to it); a built-in stage (here the secrets scanner) is an error, exit 4. */
Test(cli, a_missing_workdir_fails_a_script_and_errors_a_scanner, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    workdir: nope\n    allow-failure: true\n"
		 "    run: \"true\"\n");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  secrets:\n    uses: secrets\n    workdir: nope\n");
	r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "secrets"), "error");
	json_decref(rep);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, graph_formats, .timeout = 60)
{
	char *dir = copy_example("quickstart");
	struct tu_result r = tu_runner_run(dir, "graph", NULL);
	cr_assert_eq(r.status, 0);
	assert_contains(r.out, "digraph \"quickstart\" {");
	assert_contains(r.out, "\"build\" -> \"unit-test\";");
	/* The label's line break is DOT's escape: every statement on one line. */
	assert_contains(r.out, "  \"build\" [label=\"build\\n(script)\"];\n");
	tu_result_free(&r);
	r = tu_runner_run(dir, "graph", "--format", "mermaid", NULL);
	cr_assert_eq(r.status, 0);
	assert_contains(r.out, "flowchart LR\n");
	cr_assert(mermaid_has_edge(r.out, "smoke", "package"), "%s", r.out);
	tu_result_free(&r);
	r = tu_runner_run(dir, "graph", "--format", "json", NULL);
	cr_assert_eq(r.status, 0);
	json_error_t err;
	json_t *j = json_loads(r.out, 0, &err);
	cr_assert_not_null(j);
	cr_assert_eq(json_array_size(json_object_get(j, "stages")), 8);
	cr_assert_eq(json_array_size(json_object_get(j, "edges")), 8);
	cr_assert_eq(json_integer_value(json_object_get(j, "critical_path")), 4);
	json_decref(j);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, transitive_edges_are_left_out_of_the_graph, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a: { run: x }\n  b: { needs: [a], run: x }\n"
		 "  c: { needs: [a, b], run: x }\n");
	struct tu_result r = tu_runner_run(dir, "graph", "--format", "mermaid", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(mermaid_has_edge(r.out, "a", "b"), "%s", r.out);
	cr_assert(mermaid_has_edge(r.out, "b", "c"), "%s", r.out);
	cr_assert_not(mermaid_has_edge(r.out, "a", "c"), "%s", r.out);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* Stage names that are Mermaid keywords, or read as an edge, are labels, not ids. */
Test(cli, mermaid_ids_are_not_stage_names, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  graph: { run: x }\n  end: { needs: [graph], run: x }\n"
		 "  a--b: { needs: [end], run: x }\n  style: { needs: [a--b], run: x }\n");
	struct tu_result r = tu_runner_run(dir, "graph", "--format", "mermaid", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(mermaid_has_edge(r.out, "graph", "end"), "%s", r.out);
	cr_assert(mermaid_has_edge(r.out, "end", "a--b"), "%s", r.out);
	cr_assert(mermaid_has_edge(r.out, "a--b", "style"), "%s", r.out);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, secrets_file_must_be_private, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    secrets: [api_key]\n    run: echo \"key is "
		 "$API_KEY\"\n");
	tu_write(dir, "secrets.yml", "api_key: sup3r-s3cret-api-key\n");
	char *sf = NULL;
	cr_assert_geq(asprintf(&sf, "%s/secrets.yml", dir), 0);
	chmod(sf, 0644);
	struct tu_result r = tu_runner_run(dir, "run", "--secrets", sf, NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "refusing the secrets file: its mode is 0644");
	assert_contains(r.err, "hint: run: chmod 600");
	tu_result_free(&r);
	chmod(sf, 0600);
	r = tu_runner_run(dir, "run", "--secrets", sf, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "a | key is ***\n");
	cr_assert_null(strstr(r.out, "sup3r"));
	tu_result_free(&r);
	/* A missing named file is an error; a missing secret too. */
	r = tu_runner_run(dir, "run", "--secrets", "/nonexistent.yml", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "stage 'a' needs secret 'api_key', which is not set");
	tu_result_free(&r);
	free(sf);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, secrets_from_the_environment, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    secrets: [api_key]\n    run: echo \"key is "
		 "$API_KEY\"\n");
	const char *argv[] = { tu_runner(), "run", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "RUNNER_SECRET_API_KEY=env-s3cret-value",
			      "XDG_CONFIG_HOME=/nonexistent", NULL };
	struct tu_result r = tu_run(dir, argv, env, 60);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "key is ***");
	tu_result_free(&r);
	/* Too short to be masked: refused. */
	const char *env2[] = { "PATH=/usr/bin:/bin", "RUNNER_SECRET_API_KEY=abc",
			       "XDG_CONFIG_HOME=/nonexistent", NULL };
	r = tu_run(dir, argv, env2, 60);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "shorter than 4 characters");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* An invalid pipeline's errors quote the pipeline: a secret's value written in it (here a
 * key, and on its source line) is masked there too, as in a stage's output; a line of the
 * file without a secret keeps its caret. */
Test(cli, a_pipeline_error_does_not_quote_a_secret, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a: { run: 'true', env-s3cret-value-42: 1 }\n"
		 "  b: { run: 'true', bogus: 1 }\n");
	const char *argv[] = { tu_runner(), "run", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "RUNNER_SECRET_API_KEY=env-s3cret-value-42",
			      "XDG_CONFIG_HOME=/nonexistent", NULL };
	struct tu_result r = tu_run(dir, argv, env, 60);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "unknown key '***'");
	assert_contains(r.err, "a: { run: 'true', ***: 1 }");
	assert_contains(r.err, "unknown key 'bogus'");
	assert_contains(r.err, "      | "
			       "                    ^"); /* column 21 */
	cr_assert_null(strstr(r.out, "s3cret"), "%s", r.out);
	cr_assert_null(strstr(r.err, "s3cret"), "%s", r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A secret cut by an escape sequence or a control character, which the terminal (or a
 * log viewer) does not show, is masked all the same: those are removed before the masker
 * sees the output, in the live output and in the log alike; a lone carriage return ends
 * a line. */
Test(cli, secrets_cut_by_escape_sequences_are_masked, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    secrets: [tok]\n    run: |\n"
		 "      printf 'csi supers\\033[0mecret123\\n'\n"
		 "      printf 'osc supers\\033]0;x\\007ecret123\\n'\n"
		 "      printf 'nul supers\\000ecret123\\n'\n"
		 "      printf 'del supers\\177ecret123\\n'\n"
		 "      printf 'cr supers\\recret123\\n'\n"
		 "      printf 'split supers\\033['\n      sleep 0.2\n"
		 "      printf '31mecret123\\n'\n");
	const char *argv[] = { tu_runner(), "run", "--no-color", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "RUNNER_SECRET_TOK=supersecret123",
			      "XDG_CONFIG_HOME=/nonexistent", NULL };
	struct tu_result r = tu_run(dir, argv, env, 60);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "supersecret"), "%s", r.out);
	assert_contains(r.out, "a | csi ***\n");
	assert_contains(r.out, "a | osc ***\n");
	assert_contains(r.out, "a | nul ***\n");
	assert_contains(r.out, "a | del ***\n");
	assert_contains(r.out, "a | split ***\n");
	assert_contains(r.out, "a | cr supers\na | ecret123\n");
	tu_result_free(&r);
	char *log = tu_readf("%s/.runner/runs/latest/logs/a.log", dir);
	cr_assert_not_null(log);
	cr_assert_null(strstr(log, "supersecret"), "%s", log);
	cr_assert_null(strchr(log, '\033'), "%s", log);
	free(log);
	tu_rmdir(dir);
	free(dir);
}

/* A secret that starts inside a multi-byte character (here the second byte of "ä"):
 * masking a finding's snippet leaves bytes that are not UTF-8, which JSON cannot carry;
 * the string becomes "***" in report.json rather than staying unmasked. */
Test(cli, a_secret_cut_inside_a_character_is_masked_in_the_report, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "src/a.py",
		 "import hashlib\nh = hashlib.md5(b\"x\").hexdigest()  # "
		 "p\xc3\xa4ssw\xc3\xb6rd-1234\n");
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  sast: { uses: sast, with: { paths: [src] } }\n"
		 "  t: { secrets: [tok], run: \"true\" }\n");
	const char *argv[] = { tu_runner(), "run", "--no-color", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "RUNNER_SECRET_TOK=\xa4ssw\xc3\xb6rd-1234",
			      "XDG_CONFIG_HOME=/nonexistent", NULL };
	struct tu_result r = tu_run(dir, argv, env, 60);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *rep = tu_readf("%s/.runner/runs/latest/report.json", dir);
	cr_assert_not_null(rep);
	cr_assert_null(strstr(rep, "rd-1234"), "the secret is in report.json");
	cr_assert_not_null(strstr(rep, "py.weak-hash"), "no finding to mask");
	free(rep);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, secrets_split_across_writes_or_overlapping_are_masked_whole, .timeout = 60)
{
	/* One secret the prefix of another, printed in two writes; and two secrets where the
	 * end of one is the start of the other, printed in one. */
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  s:\n    secrets: [registry_user, registry, left, right]\n"
		 "    run: |\n      printf 'deploybot:'\n      sleep 0.3\n"
		 "      printf 'password123\\n'\n      echo abcXYZdef\n");
	const char *argv[] = { tu_runner(), "run", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin",
			      "RUNNER_SECRET_REGISTRY_USER=deploybot",
			      "RUNNER_SECRET_REGISTRY=deploybot:password123",
			      "RUNNER_SECRET_LEFT=abcXYZ",
			      "RUNNER_SECRET_RIGHT=XYZdef",
			      "XDG_CONFIG_HOME=/nonexistent",
			      NULL };
	struct tu_result r = tu_run(dir, argv, env, 60);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	assert_contains(r.out, "s | ***\ns | ***\n");
	char *log = tu_readf("%s/.runner/runs/latest/logs/s.log", dir);
	cr_assert_str_eq(log, "***\n***\n");
	char *junit = tu_readf("%s/.runner/runs/latest/junit.xml", dir);
	assert_contains(junit, "<system-out>==&gt; s &lt;==\n***\n***\n</system-out>");
	char *report = tu_readf("%s/.runner/runs/latest/report.json", dir);
	const char *outputs[] = { r.out, r.err, log, junit, report };
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		cr_assert_null(strstr(outputs[i], "password123"), "%s", outputs[i]);
		cr_assert_null(strstr(outputs[i], "***:"), "%s", outputs[i]);
		cr_assert_null(strstr(outputs[i], "***def"), "%s", outputs[i]);
	}
	free(report);
	free(junit);
	free(log);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

static void interrupt_run(int sig, int expect_status)
{
	char *dir = tu_tmpdir();
	/* Stages have their own PID namespace: the daemon is found on the host by a unique
	 * argument rather than by the pid it sees. */
	char *marker = NULL, *yml = NULL;
	cr_assert_geq(asprintf(&marker, "100.%d%d", (int)getpid(), sig), 0);
	cr_assert_geq(
		asprintf(&yml,
			 "version: 1\nstages:\n  long:\n    run: |\n      echo $$ > long.pid\n"
			 "      setsid sh -c 'echo $$ > daemon.pid; exec sleep %s' &\n"
			 "      sleep 100\n  after:\n    needs: [long]\n    run: \"true\"\n",
			 marker),
		0);
	tu_write(dir, ".runner.yml", yml);
	free(yml);
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (chdir(dir) < 0) {
			_exit(99);
		}
		execl(tu_runner(), "runner", "run", NULL);
		_exit(98);
	}
	close(pfd[1]);
	char *pidfile = NULL;
	cr_assert_geq(asprintf(&pidfile, "%s/daemon.pid", dir), 0);
	for (int i = 0; i < 500 && !tu_exists("%s", pidfile); i++) {
		usleep(10000);
	}
	usleep(50000);
	char *dp = tu_read(pidfile);
	cr_assert_not_null(dp);
	cr_assert_eq(tu_procs_matching(marker), 1, "the daemon is not running");
	kill(pid, sig);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), expect_status);
	json_t *rep = tu_latest_report(dir);
	cr_assert_not_null(rep, "no report after an interrupt");
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "cancelled");
	cr_assert_str_eq(tu_stage_status(rep, "long"), "cancelled");
	cr_assert_str_eq(tu_stage_status(rep, "after"), "cancelled");
	json_decref(rep);
	/* Every process of the stage is gone. */
	usleep(100000);
	cr_assert_eq(tu_procs_matching(marker), 0, "the daemon survived");
	free(marker);
	free(dp);
	free(pidfile);
	close(pfd[0]);
	tu_rmdir(dir);
	free(dir);
}

Test(cli, sigint_cancels_and_exits_130, .timeout = 60)
{
	interrupt_run(SIGINT, 130);
}

Test(cli, sigterm_cancels_and_exits_143, .timeout = 60)
{
	interrupt_run(SIGTERM, 143);
}

/* A closed terminal (SIGHUP) stops the run the same way: record written, exit 129. */
Test(cli, sighup_cancels_and_exits_129, .timeout = 60)
{
	interrupt_run(SIGHUP, 129);
}

#include <pty.h>

/* Run the runner on a pseudo-terminal and return everything it wrote. */
static char *run_on_tty(const char *dir, const char *const *env)
{
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (chdir(dir) < 0) {
			_exit(99);
		}
		const char *argv[] = { tu_runner(), "run", NULL };
		execve(argv[0], (char *const *)argv, (char *const *)env);
		_exit(98);
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		ssize_t r = read(master, buf + n, cap - n - 1);
		if (r <= 0) {
			break; /* EIO once the child has gone */
		}
		n += (size_t)r;
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[n] = '\0';
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d:\n%s", st, buf);
	close(master);
	return buf;
}

Test(cli, a_terminal_gets_colour_and_a_progress_line, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  slow: { run: sleep 1.6; echo done-slow }\n"
		 "  quick: { run: echo hi }\n");
	const char *env[] = { "PATH=/usr/bin:/bin", "TERM=xterm", "XDG_CONFIG_HOME=/nonexistent",
			      NULL };
	char *out = run_on_tty(dir, env);
	assert_contains(out, "\033[");	  /* colour */
	assert_contains(out, "\r\033[K"); /* the progress line is redrawn in place */
	assert_contains(out, "1/2 done, 1 running | slow ");
	assert_contains(out, "STAGE");
	free(out);
	/* NO_COLOR: still the progress line, no colour codes other than line clearing. */
	const char *env2[] = { "PATH=/usr/bin:/bin", "TERM=xterm", "NO_COLOR=1",
			       "XDG_CONFIG_HOME=/nonexistent", NULL };
	out = run_on_tty(dir, env2);
	cr_assert_null(strstr(out, "\033[3"), "colour despite NO_COLOR:\n%s", out);
	assert_contains(out, "running | slow ");
	free(out);
	tu_rmdir(dir);
	free(dir);
}

/*
 * What a stage's `if:` and ${...} see is the stage's environment: `env.CI` in a condition
 * is "true" (a SAST stage under `if: env.CI == "true"` used to be skipped, and the run
 * passed), ${RUNNER_STAGE} in its env is its name (it expanded to ""), and a name given
 * by both the pipeline's env and the stage's reaches the process once, the stage's
 * value (getenv took the pipeline's).
 */
Test(cli, a_stage_sees_its_environment_in_conditions_and_interpolation, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "app.c",
		 "#include <string.h>\nvoid f(char *d, char **argv) "
		 "{ strcpy(d, argv[1]); }\n");
	tu_write(dir, ".runner.yml",
		 "version: 1\nenv: { X: pipeline }\nstages:\n"
		 "  sast:\n    if: env.CI == \"true\" && env.RUNNER_STAGE == \"sast\"\n"
		 "    uses: sast\n"
		 "  show:\n    env: { LABEL: \"stage=${RUNNER_STAGE}\", X: stage }\n"
		 "    run: |\n      echo \"label=$LABEL\"\n"
		 "      echo \"copies=$(tr '\\0' '\\n' < /proc/$$/environ | grep -c '^X=')\"\n"
		 "      echo \"x=$(tr '\\0' '\\n' < /proc/$$/environ | grep '^X=')\"\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 3, "the SAST stage ran and blocked: %s%s", r.out, r.err);
	assert_contains(r.out, "show | label=stage=show");
	assert_contains(r.out, "show | copies=1");
	assert_contains(r.out, "show | x=X=stage");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* What expands at run time may still be wrong: an allow entry whose reason comes to
 * nothing does not suppress (it did, with an empty reason), and an `if:` glob too large to
 * match fails its stage at once (it ran for minutes, deaf to signals). Both exit 4. */
Test(cli, expanded_values_that_cannot_work_fail_the_stage, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "app.c",
		 "#include <string.h>\nvoid f(char *d, char **argv) "
		 "{ strcpy(d, argv[1]); }\n");
	tu_write(dir, ".runner.yml",
		 "version: 1\nenv: { WHY: \"\" }\ngate:\n  allow:\n    - id: "
		 "c.unbounded-copy-from-input\n"
		 "      reason: \"${WHY}\"\n      expires: 2099-01-01\n"
		 "stages:\n  sast: { uses: sast }\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	assert_contains(r.out, "invalid allow entry 1");
	cr_expect_null(strstr(r.out, "suppressed"), "%s", r.out);
	tu_result_free(&r);
	tu_write(dir, ".runner.yml",
		 "version: 1\nenv:\n  A: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
		 "  B: \"${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}\"\n"
		 "  C: \"${B}${B}${B}${B}${B}${B}${B}${B}${B}${B}\"\n"
		 "  D: \"${C}${C}${C}${C}${C}${C}${C}${C}${C}${C}\"\n"
		 "  P: \"${D}${D}\"\n  S: \"${D}${D}b\"\n"
		 "stages:\n  a:\n    if: env.S =~ env.P\n    run: echo ran\n");
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	assert_contains(r.out, "its if: cannot be evaluated");
	cr_expect_null(strstr(r.out, "a | ran"), "%s", r.out);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A built-in stage does not get the pipeline's variables that change what it loads
 * (GIT_*, HOME...), but its `if:` reads them as written (a SAST stage under
 * `if: env.GIT_SCAN == "yes"` was skipped); and the pipeline's HOME does not move a
 * dependency scan to a database the repository supplies (unsandboxed, it used to). */
Test(cli, a_builtin_stage_condition_and_home, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "a.sh", "curl -s http://x | sh\n");
	tu_write(dir, ".runner.yml",
		 "version: 1\nenv: { GIT_SCAN: \"yes\" }\nstages:\n"
		 "  sast:\n    uses: sast\n    if: env.GIT_SCAN == \"yes\"\n"
		 "    with: { paths: [a.sh] }\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_expect_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);

	char *home = tu_strf("%s/home", dir), *db = tu_strf("%s/.cache/runner/osv.db", home);
	char *fake = tu_strf("%s/ws/fakehome/.cache/runner/osv.db", dir);
	char *maven = tu_fixture("osv/maven"), *go = tu_fixture("osv/go");
	r = tu_runner_run(dir, "db", "import", "--db", db, maven, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "db", "import", "--db", fake, go, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *ws = tu_strf("%s/ws", dir), *src = getenv("RUNNER_SOURCE_ROOT");
	cr_assert_not_null(src);
	char *pom = tu_readf("%s/examples/log4shell/pom.xml", src);
	tu_write(ws, "pom.xml", pom);
	tu_write(ws, ".runner.yml",
		 "version: 1\nenv: { HOME: \"${RUNNER_WORKSPACE}/fakehome\" }\nstages:\n"
		 "  deps: { uses: dependency-scan, with: { paths: [pom.xml] } }\n");
	setenv("HOME", home, 1);
	unsetenv("RUNNER_DB");
	unsetenv("XDG_CACHE_HOME");
	r = tu_runner_run(ws, "run", "--no-color", "--no-sandbox", NULL);
	cr_expect_eq(r.status, 3, "the host's database, which knows log4j: %s%s", r.out, r.err);
	tu_result_free(&r);
	free(pom);
	free(ws);
	free(maven);
	free(go);
	free(fake);
	free(db);
	free(home);
	tu_rmdir(dir);
	free(dir);
}
