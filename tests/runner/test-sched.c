/*
 * test-sched.c - the engine: parallelism (proved with barriers, not timings), -j limits,
 * critical-path ordering, fail-fast, retry, allow-failure, skips, timeouts that reach
 * grandchildren, artifacts, secrets and masking, clean environments, fd hygiene, and
 * the run record.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "pipeline.h"
#include "run.h"
#include "sandbox.h"
#include "secrets.h"
#include "util.h"

#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

struct fixture {
	char *dir;
	struct pipeline *p;
	struct run *r;
	struct secret_store *secrets;
};

static struct fixture setup_pipeline(const char *yaml)
{
	struct fixture f = { .dir = tu_tmpdir() };
	tu_write(f.dir, ".runner.yml", yaml);
	char *path = xasprintf("%s/.runner.yml", f.dir);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	int r = pipeline_load_file(path, &f.p, &dl);
	cr_assert_eq(r, 0, "pipeline: %s", dl.n ? dl.v[0].msg : "?");
	diag_list_release(&dl);
	free(path);
	f.secrets = secrets_new();
	return f;
}

static void run_with(struct fixture *f, struct run_options *o)
{
	struct diag_list dl;
	diag_list_init(&dl, 10);
	o->cancel_fd = o->cancel_fd ? o->cancel_fd : -1;
	o->secrets = f->secrets;
	int r = run_pipeline(f->p, o, &f->r, &dl);
	cr_assert_eq(r, 0, "run: %s", dl.n ? dl.v[0].msg : "?");
	diag_list_release(&dl);
}

static void run_jobs(struct fixture *f, unsigned jobs)
{
	struct run_options o = { .jobs = jobs, .cancel_fd = -1 };
	run_with(f, &o);
}

static void teardown(struct fixture *f)
{
	run_free(f->r);
	pipeline_free(f->p);
	secrets_free(f->secrets);
	tu_rmdir(f->dir);
	free(f->dir);
}

static struct stage_run *st(struct fixture *f, const char *name)
{
	struct pstage *p = pipeline_find(f->p, name);
	cr_assert_not_null(p, "no stage %s", name);
	return &f->r->stages[p->index];
}

/* Every stage waits until all four have started: only true parallelism passes. */
#define BARRIER_STAGE(n)                                                   \
	"  " n ":\n    timeout: 20s\n    run: |\n"                         \
	"      touch started." n "\n"                                      \
	"      i=0; while [ $(ls started.* | wc -l) -lt 4 ]; do\n"         \
	"        i=$((i+1)); [ $i -gt 300 ] && exit 7; sleep 0.02; done\n" \
	"      sleep 0.3\n"

Test(sched, four_stages_really_run_in_parallel_under_j4, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n" BARRIER_STAGE("a") BARRIER_STAGE(
		"b") BARRIER_STAGE("c") BARRIER_STAGE("d"));
	run_jobs(&f, 4);
	cr_assert_eq(f.r->result, RESULT_PASSED);
	cr_assert_eq(f.r->exit_code, 0);
	/* The recorded intervals all overlap. */
	uint64_t latest_start = 0, earliest_end = UINT64_MAX;
	for (size_t i = 0; i < 4; i++) {
		latest_start = MAX(latest_start, f.r->stages[i].attempts[0].started_ms);
		earliest_end = MIN(earliest_end, f.r->stages[i].attempts[0].finished_ms);
	}
	cr_assert_lt(latest_start, earliest_end);
	teardown(&f);
}

/* Each stage takes a lock directory; two at once would collide. */
#define LOCK_STAGE(n)                                                                   \
	"  " n ":\n    run: |\n      mkdir lock || exit 9\n      echo " n " >> order\n" \
	"      sleep 0.1\n      rmdir lock\n"

Test(sched, j1_serialises, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n" LOCK_STAGE("a") LOCK_STAGE("b")
						  LOCK_STAGE("c") LOCK_STAGE("d"));
	run_jobs(&f, 1);
	cr_assert_eq(f.r->result, RESULT_PASSED);
	for (size_t i = 0; i < 4; i++) {
		for (size_t k = 0; k < 4; k++) {
			if (i == k) {
				continue;
			}
			const struct attempt *x = &f.r->stages[i].attempts[0];
			const struct attempt *y = &f.r->stages[k].attempts[0];
			cr_assert(x->finished_ms <= y->started_ms ||
				  y->finished_ms <= x->started_ms);
		}
	}
	teardown(&f);
}

Test(sched, the_barrier_fails_with_fewer_slots_than_stages, .timeout = 60)
{
	/* The parallelism test can fail: with fewer slots than stages it must. */
	struct fixture f = setup_pipeline("version: 1\nstages:\n" BARRIER_STAGE("a") BARRIER_STAGE(
		"b") BARRIER_STAGE("c") BARRIER_STAGE("d"));
	run_jobs(&f, 3);
	/* With only 3 slots the barrier of 4 cannot be met: a stage gives up (exit 7). */
	cr_assert_eq(f.r->result, RESULT_FAILED);
	teardown(&f);
}

Test(sched, a_stage_starts_as_soon_as_its_needs_are_done, .timeout = 60)
{
	/* slow does not hold back c, which only needs fast. */
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  slow:\n    run: sleep 1.5; echo slow >> order\n"
					  "  fast:\n    run: echo fast >> order\n"
					  "  c:\n    needs: [fast]\n    run: echo c >> order\n");
	run_jobs(&f, 4);
	cr_assert_eq(f.r->result, RESULT_PASSED);
	char *order = tu_readf("%s/order", f.dir);
	cr_assert_str_eq(order, "fast\nc\nslow\n");
	free(order);
	teardown(&f);
}

Test(sched, ready_stages_ordered_by_longest_remaining_path, .timeout = 60)
{
	const char *yaml = "version: 1\nstages:\n"
			   "  b: { run: echo b >> order }\n"
			   "  c: { run: echo c >> order }\n"
			   "  a1: { run: echo a1 >> order }\n"
			   "  a2: { needs: [a1], run: echo a2 >> order }\n"
			   "  a3: { needs: [a2], run: echo a3 >> order }\n";
	struct fixture f = setup_pipeline(yaml);
	run_jobs(&f, 1);
	char *order = tu_readf("%s/order", f.dir);
	/*
	 * Unknown durations count 1 each: the chain a1-a2-a3 is the critical path, so a1 and
	 * a2 go before b and c; a3 then ties with them and ties go in file order.
	 */
	cr_assert_str_eq(order, "a1\na2\nb\nc\na3\n");
	free(order);
	/* With recorded durations (c long, b longer than the whole chain), c then b go first. */
	tu_write(f.dir, ".runner/durations.json", "{\"c\": 50000, \"b\": 10}");
	char *order_path = xasprintf("%s/order", f.dir);
	unlink(order_path);
	free(order_path);
	run_free(f.r);
	run_jobs(&f, 1);
	order = tu_readf("%s/order", f.dir);
	cr_assert_str_eq(order, "c\nb\na1\na2\na3\n");
	free(order);
	teardown(&f);
}

Test(sched, failure_skips_dependents_and_other_branches_go_on, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  bad: { run: exit 3 }\n"
					  "  after: { needs: [bad], run: \"true\" }\n"
					  "  later: { needs: [after], run: \"true\" }\n"
					  "  other: { run: sleep 0.3 }\n");
	run_jobs(&f, 4);
	cr_assert_eq(f.r->result, RESULT_FAILED);
	cr_assert_eq(f.r->exit_code, 1);
	cr_assert_eq(st(&f, "bad")->status, STATUS_FAILED);
	cr_assert_eq(st(&f, "bad")->attempts[0].exit_code, 3);
	cr_assert_str_eq(st(&f, "bad")->message, "exit code 3");
	cr_assert_eq(st(&f, "after")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "after")->skip, SKIP_NEEDS_FAILED);
	cr_assert_eq(st(&f, "later")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "later")->skip, SKIP_NEEDS_FAILED);
	cr_assert_eq(st(&f, "other")->status, STATUS_PASSED);
	teardown(&f);
}

Test(sched, fail_fast_cancels_running_stages, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  bad: { run: sleep 0.2; exit 1 }\n"
					  "  long: { run: sleep 30, kill-grace: 1s }\n"
					  "  waiting: { needs: [long], run: \"true\" }\n");
	struct run_options o = { .jobs = 4, .fail_fast = true, .cancel_fd = -1 };
	run_with(&f, &o);
	cr_assert_eq(f.r->result, RESULT_FAILED);
	cr_assert_eq(f.r->exit_code, 1);
	cr_assert_eq(st(&f, "long")->status, STATUS_CANCELLED);
	cr_assert_eq(st(&f, "waiting")->status, STATUS_CANCELLED);
	cr_assert_lt(f.r->duration_ms, 10000);
	teardown(&f);
}

/* Under --fail-fast the stages that need the failed one are skipped, as without it (the
 * reason is their need, not the cancellation); the others are cancelled. */
Test(sched, fail_fast_skips_what_needs_the_failed_stage, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  bad: { run: exit 2 }\n"
					  "  after: { needs: [bad], run: \"true\" }\n"
					  "  later: { needs: [after], run: \"true\" }\n"
					  "  long: { run: sleep 30, kill-grace: 1s }\n"
					  "  waiting: { needs: [long], run: \"true\" }\n");
	struct run_options o = { .jobs = 4, .fail_fast = true, .cancel_fd = -1 };
	run_with(&f, &o);
	cr_assert_eq(f.r->result, RESULT_FAILED);
	cr_assert_eq(f.r->exit_code, 1);
	cr_assert_eq(st(&f, "bad")->status, STATUS_FAILED);
	cr_assert_eq(st(&f, "after")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "after")->skip, SKIP_NEEDS_FAILED);
	cr_assert_str_eq(st(&f, "after")->message, "it needs 'bad', which did not succeed");
	cr_assert_eq(st(&f, "later")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "later")->skip, SKIP_NEEDS_FAILED);
	cr_assert_eq(st(&f, "long")->status, STATUS_CANCELLED);
	cr_assert_eq(st(&f, "waiting")->status, STATUS_CANCELLED);
	teardown(&f);
}

Test(sched, retry_reruns_failures_until_one_passes, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nstages:\n"
		"  flaky:\n    retry: 2\n    run: |\n"
		"      n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\n"
		"      [ $n -ge 2 ]\n"
		"  hopeless:\n    retry: 1\n    run: exit 5\n"
		"  once:\n    run: exit 5\n");
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "flaky")->status, STATUS_PASSED);
	cr_assert_eq(st(&f, "flaky")->n_attempts, 2);
	cr_assert_eq(st(&f, "hopeless")->status, STATUS_FAILED);
	cr_assert_eq(st(&f, "hopeless")->n_attempts, 2);
	cr_assert_eq(st(&f, "once")->n_attempts, 1);
	teardown(&f);
}

/* A failed attempt's artifacts and message are not the stage's: a dependent sees what
 * the attempt that passed kept, and the passed stage has no failure message. */
Test(sched, a_retried_stage_keeps_only_the_passing_attempts_artifacts, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nstages:\n"
		"  build:\n    retry: 1\n    run: |\n"
		"      n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\n"
		"      echo \"from attempt $n\" > \"$RUNNER_ARTIFACTS/$RUNNER_STAGE/result.txt\"\n"
		"      [ $n -eq 1 ] && echo stale > "
		"\"$RUNNER_ARTIFACTS/$RUNNER_STAGE/only-1.txt\"\n"
		"      [ $n -ge 2 ]\n"
		"  use:\n    needs: [build]\n    run: |\n"
		"      cat \"$RUNNER_ARTIFACTS/build/result.txt\" > seen\n"
		"      ! test -e \"$RUNNER_ARTIFACTS/build/only-1.txt\"\n");
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "build")->status, STATUS_PASSED);
	cr_assert_eq(st(&f, "build")->n_attempts, 2);
	cr_assert_null(st(&f, "build")->message, "%s", st(&f, "build")->message);
	cr_assert_eq(st(&f, "use")->status, STATUS_PASSED, "%s", st(&f, "use")->message);
	char *seen = tu_readf("%s/seen", f.dir);
	cr_assert_str_eq(seen, "from attempt 2\n");
	free(seen);
	teardown(&f);
}

Test(sched, timeouts_are_retried_only_when_asked, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nstages:\n"
		"  plain:\n    retry: 2\n    timeout: 300ms\n    run: sleep 5\n"
		"  asked:\n    retry: { max: 1, when: [timeout] }\n    timeout: 300ms\n"
		"    run: sleep 5\n");
	run_jobs(&f, 2);
	cr_assert_eq(st(&f, "plain")->status, STATUS_FAILED);
	cr_assert_eq(st(&f, "plain")->n_attempts, 1);
	cr_assert(st(&f, "plain")->attempts[0].timed_out);
	cr_assert_str_eq(st(&f, "plain")->message, "timed out after 300ms");
	cr_assert_eq(st(&f, "asked")->n_attempts, 2);
	teardown(&f);
}

Test(sched, allow_failure_lets_dependents_run_and_the_run_pass, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  lint: { run: exit 1, allow-failure: true }\n"
					  "  next: { needs: [lint], run: \"true\" }\n");
	run_jobs(&f, 2);
	cr_assert_eq(f.r->result, RESULT_PASSED);
	cr_assert_eq(f.r->exit_code, 0);
	cr_assert_eq(st(&f, "lint")->status, STATUS_FAILED);
	cr_assert(st(&f, "lint")->allowed_failure);
	cr_assert_eq(st(&f, "next")->status, STATUS_PASSED);
	json_t *rep = tu_latest_report(f.dir);
	cr_assert(json_is_true(json_object_get(tu_report_stage(rep, "lint"), "allowed_failure")));
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(rep, "summary"), "allowed_failures")),
		     1);
	json_decref(rep);
	teardown(&f);
}

Test(sched, skipped_needs_skip_dependents_unless_they_opt_in, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nstages:\n"
		"  deploy: { if: branch == \"main\", run: \"true\" }\n"
		"  notify: { needs: [deploy], run: \"true\" }\n"
		"  report: { needs: [notify], run: \"true\", allow-skipped-needs: true }\n"
		"  broken: { run: exit 1 }\n"
		"  cleanup: { needs: [broken], run: \"true\", allow-skipped-needs: true }\n");
	struct run_options o = { .jobs = 2, .branch = "feature/x", .cancel_fd = -1 };
	run_with(&f, &o);
	cr_assert_eq(st(&f, "deploy")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "deploy")->skip, SKIP_CONDITION);
	cr_assert_eq(st(&f, "notify")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "notify")->skip, SKIP_NEEDS_SKIPPED);
	cr_assert_eq(st(&f, "report")->status, STATUS_PASSED);
	/* Opting in to skipped needs does not run after a failure. */
	cr_assert_eq(st(&f, "cleanup")->status, STATUS_SKIPPED);
	cr_assert_eq(st(&f, "cleanup")->skip, SKIP_NEEDS_FAILED);
	teardown(&f);
}

Test(sched, conditions_see_branch_event_and_env, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nenv: { TARGET: prod }\nstages:\n"
		"  a: { if: branch =~ \"release/*\" && event == \"push\", run: \"true\" }\n"
		"  b: { if: env.TARGET == \"prod\" && env.LEVEL == \"x\", env: { LEVEL: x }, run: "
		"\"true\" }\n"
		"  c: { if: event == \"local\", run: \"true\" }\n");
	struct run_options o = {
		.jobs = 2, .branch = "release/2.0", .event = "push", .cancel_fd = -1
	};
	run_with(&f, &o);
	cr_assert_eq(st(&f, "a")->status, STATUS_PASSED);
	cr_assert_eq(st(&f, "b")->status, STATUS_PASSED);
	cr_assert_eq(st(&f, "c")->status, STATUS_SKIPPED);
	teardown(&f);
}

Test(sched, timeout_kills_a_grandchild_that_ignores_sigterm, .timeout = 60)
{
	/* Stages have their own PID namespace: their processes are found on the host by a
	 * unique argument rather than by the pids they see. */
	char *gcm = xasprintf("100.%d1", (int)getpid()), *dmm = xasprintf("100.%d2", (int)getpid());
	char *yml = xasprintf("version: 1\nstages:\n"
			      "  stuck:\n    timeout: 500ms\n    kill-grace: 500ms\n    run: |\n"
			      "      trap '' TERM\n"
			      "      sh -c 'trap \"\" TERM; echo $$ > gc.pid; exec sleep %s' &\n"
			      "      setsid sh -c 'echo $$ > daemon.pid; exec sleep %s' &\n"
			      "      while :; do sleep 0.05; done\n",
			      gcm, dmm);
	struct fixture f = setup_pipeline(yml);
	free(yml);
	run_jobs(&f, 1);
	struct stage_run *s = st(&f, "stuck");
	cr_assert_eq(s->status, STATUS_FAILED);
	cr_assert(s->attempts[0].timed_out);
	cr_assert_eq(s->attempts[0].sig, SIGKILL);
	/* It took the grace period: SIGTERM was ignored, SIGKILL ended it. */
	cr_assert_geq(s->attempts[0].duration_ms, 1000);
	char *gc = tu_readf("%s/gc.pid", f.dir), *dm = tu_readf("%s/daemon.pid", f.dir);
	cr_assert_not_null(gc);
	cr_assert_not_null(dm);
	cr_assert_eq(tu_procs_matching(gcm), 0, "grandchild survived");
	cr_assert_eq(tu_procs_matching(dmm), 0, "daemon survived");
	free(gc);
	free(dm);
	free(gcm);
	free(dmm);
	teardown(&f);
}

Test(sched, background_processes_die_with_the_stage, .timeout = 60)
{
	char *marker = xasprintf("100.%d3", (int)getpid());
	char *yml = xasprintf("version: 1\nstages:\n"
			      "  a:\n    run: |\n"
			      "      (sleep %s & echo $! > bg.pid) &\n"
			      "      sleep 0.2\n",
			      marker);
	struct fixture f = setup_pipeline(yml);
	free(yml);
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "a")->status, STATUS_PASSED);
	cr_assert_lt(f.r->duration_ms, 5000);
	char *bg = tu_readf("%s/bg.pid", f.dir);
	cr_assert_not_null(bg);
	cr_assert_eq(tu_procs_matching(marker), 0, "a background process survived its stage");
	free(bg);
	free(marker);
	teardown(&f);
}

Test(sched, outputs_are_kept_and_missing_ones_fail_the_stage, .timeout = 60)
{
	struct fixture f =
		setup_pipeline("version: 1\nstages:\n"
			       "  build:\n    outputs: [build/app, dist/]\n    run: |\n"
			       "      mkdir -p build dist/sub && echo binary > build/app && echo "
			       "doc > dist/sub/x\n"
			       "      ln -s /etc/passwd dist/link\n"
			       "  use:\n    needs: [build]\n    run: test -f "
			       "\"$RUNNER_ARTIFACTS/build/build/app\"\n"
			       "  forgetful:\n    outputs: [missing.txt]\n    run: \"true\"\n"
			       "  after:\n    needs: [forgetful]\n    run: \"true\"\n");
	run_jobs(&f, 2);
	cr_assert_eq(st(&f, "build")->status, STATUS_PASSED);
	cr_assert_eq(st(&f, "use")->status, STATUS_PASSED);
	char *app = tu_readf("%s/artifacts/build/build/app", f.r->dir);
	cr_assert_str_eq(app, "binary\n");
	free(app);
	char *x = tu_readf("%s/artifacts/build/dist/sub/x", f.r->dir);
	cr_assert_str_eq(x, "doc\n");
	free(x);
	/* A symlink is kept as a symlink: the record does not get /etc/passwd's contents. */
	char *link = xasprintf("%s/artifacts/build/dist/link", f.r->dir);
	struct stat sb;
	cr_assert_eq(lstat(link, &sb), 0);
	cr_assert(S_ISLNK(sb.st_mode));
	free(link);
	cr_assert_eq(st(&f, "forgetful")->status, STATUS_FAILED);
	cr_assert_str_eq(st(&f, "forgetful")->message,
			 "declared output 'missing.txt' was not produced");
	cr_assert_eq(st(&f, "after")->status, STATUS_SKIPPED);
	teardown(&f);
}

/* What a stage leaves in the run record keeps its permission bits but never setuid,
 * setgid or sticky: the record is on the host. (A sandboxed stage cannot set those bits
 * itself, the filter denies it; the file here was made so before the run.) */
Test(sched, kept_files_lose_setuid_and_setgid, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  build:\n    outputs: [tool]\n    run: test -u tool\n");
	char *tool = xasprintf("%s/tool", f.dir);
	tu_write(f.dir, "tool", "x\n");
	cr_assert_eq(chmod(tool, 06755), 0);
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "build")->status, STATUS_PASSED, "%s", st(&f, "build")->message);
	char *p = xasprintf("%s/artifacts/build/tool", f.r->dir);
	struct stat sb;
	cr_assert_eq(stat(p, &sb), 0, "%s", p);
	cr_assert_eq(sb.st_mode & (S_ISUID | S_ISGID | S_ISVTX), 0u, "%o",
		     (unsigned)(sb.st_mode & 07777));
	cr_assert(sb.st_mode & S_IXUSR, "the permission bits are kept");
	free(p);
	free(tool);
	teardown(&f);
}

/* A key printed in base64 by `base64` (76 columns), `base64 -w 64` (openssl, PEM), and
 * after a prefix, which puts it at another alignment and place in the lines. */
Test(sched, secrets_printed_as_wrapped_base64_are_masked, .timeout = 60)
{
	struct fixture f =
		setup_pipeline("version: 1\nstages:\n"
			       "  show:\n    secrets: [key]\n    run: |\n"
			       "      printf '%s' \"$KEY\" | base64\n"
			       "      printf '%s' \"$KEY\" | base64 -w 64\n"
			       "      printf 'data=%s' \"$KEY\" | base64 | sed 's/^/    /'\n"
			       "      echo done\n");
	const char *key = "pem-client-key-data:MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
			  "VJTUt9Us8cKjMzEfYyjiWA4R4";
	cr_assert_eq(secrets_put(f.secrets, "key", key, "test"), 0);
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "show")->status, STATUS_PASSED);
	char *log = tu_readf("%s/logs/show.log", f.r->dir);
	/* Pieces of each line `base64` prints of the key alone. */
	static const char *const pieces[] = { "cGVtLWNsaWVudC1r", "QUFTQ0JLY3dn",
					      "Z1NqQWdFQUFv",	  "VXM4Y0tqTXpF",
					      "QUFTQ0JLY3dnZ1Nq", "OEJna3Foa2lH",
					      "Qktjd2dnU2pB",	  "U2pBZ0VBQW9J" };
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
		cr_assert_null(strstr(log, pieces[i]), "%s in\n%s", pieces[i], log);
	}
	cr_assert_not_null(strstr(log, "***"), "%s", log);
	cr_assert_not_null(strstr(log, "done"), "%s", log);
	free(log);
	teardown(&f);
}

Test(sched, secrets_go_only_to_stages_that_ask_and_are_masked, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nstages:\n"
		"  push:\n    secrets: [registry]\n    run: |\n"
		"      echo \"token=$REGISTRY\"\n"
		"      printf '%s' \"robot:$REGISTRY\" | base64\n"
		"      printf 'x%s' \"$REGISTRY\" | base64\n"
		"      printf 'half1=%.8s' \"$REGISTRY\"; printf '%s\\n' \"${REGISTRY#????????}\"\n"
		"      exit 1\n"
		"  other:\n    run: |\n"
		"      echo \"registry=[${REGISTRY:-}]\"\n"
		"      env | grep -c s3cr3t-registry-value || true\n");
	cr_assert_eq(secrets_put(f.secrets, "registry", "s3cr3t-registry-value", "test"), 0);
	run_jobs(&f, 1);
	char *log = tu_readf("%s/logs/push.log", f.r->dir);
	cr_assert_not_null(strstr(log, "token=***"), "%s", log);
	cr_assert_null(strstr(log, "s3cr3t"), "%s", log);
	cr_assert_null(strstr(log, "czNjcjN0"), "%s", log);  /* base64 at one alignment */
	cr_assert_null(strstr(log, "zM2NyM3Qt"), "%s", log); /* and another */
	cr_assert_not_null(strstr(log, "half1=***"), "%s", log);
	free(log);
	char *other = tu_readf("%s/logs/other.log", f.r->dir);
	cr_assert_not_null(strstr(other, "registry=[]"), "%s", other);
	cr_assert_not_null(strstr(other, "0\n"), "%s", other);
	free(other);
	char *report = tu_readf("%s/report.json", f.r->dir);
	char *junit = tu_readf("%s/junit.xml", f.r->dir);
	cr_assert_null(strstr(report, "s3cr3t"));
	cr_assert_null(strstr(junit, "s3cr3t"));
	cr_assert_not_null(strstr(junit, "token=***"));
	free(report);
	free(junit);
	teardown(&f);
}

/* Names the stage chose reach the log in the runner's own lines ("cannot keep artifact
 * 'NAME'"): masked, and made one line without escape sequences, so that a file name can
 * neither show a secret nor forge a "[runner]" line. */
Test(sched, names_a_stage_chose_are_masked_and_one_line_in_its_log, .timeout = 60)
{
	struct fixture f =
		setup_pipeline("version: 1\nstages:\n"
			       "  a:\n    secrets: [registry]\n    run: |\n"
			       "      mkfifo \"$RUNNER_ARTIFACTS/$RUNNER_STAGE/fifo-$REGISTRY\"\n"
			       "      mkfifo \"$RUNNER_ARTIFACTS/$RUNNER_STAGE/$(printf "
			       "'y\\033[31mRED\\n[runner] a: "
			       "forged')\"\n");
	cr_assert_eq(secrets_put(f.secrets, "registry", "s3cr3t-registry-value", "test"), 0);
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "a")->status, STATUS_PASSED, "%s", st(&f, "a")->message);
	char *log = tu_readf("%s/logs/a.log", f.r->dir);
	cr_assert_not_null(strstr(log, "cannot keep artifact 'fifo-***'"), "%s", log);
	cr_assert_not_null(strstr(log, "cannot keep artifact 'yRED[runner] a: forged'"), "%s", log);
	cr_assert_null(strstr(log, "s3cr3t"), "%s", log);
	cr_assert_null(strchr(log, '\033'), "%s", log);
	cr_assert_null(strstr(log, "\n[runner] a: forged"), "%s", log);
	char *junit = tu_readf("%s/junit.xml", f.r->dir);
	cr_assert_null(strstr(junit, "s3cr3t"), "%s", junit);
	cr_assert_null(strchr(junit, '\033'), "%s", junit);
	free(junit);
	free(log);
	teardown(&f);
}

/* A secret with a control character in it reaches the masker as the output filter leaves
 * it (a lone CR a line break, an escape sequence or DEL removed): masked in that form. */
Test(sched, secrets_with_control_characters_are_masked_as_printed, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  a:\n    secrets: [cr, esc, del]\n    run: |\n"
					  "      printf '%s\\n' \"$CR\" \"$ESC\" \"$DEL\"\n");
	cr_assert_eq(secrets_put(f.secrets, "cr", "Alpha1234\rBravo5678", "test"), 0);
	cr_assert_eq(secrets_put(f.secrets, "esc", "Charlie99\033Delta8877", "test"), 0);
	cr_assert_eq(secrets_put(f.secrets, "del", "Echo4455\177Foxtrot66", "test"), 0);
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "a")->status, STATUS_PASSED, "%s", st(&f, "a")->message);
	char *log = tu_readf("%s/logs/a.log", f.r->dir);
	const char *parts[] = { "Alpha", "Bravo", "Charlie", "elta8877", "Echo", "Foxtrot" };
	for (size_t k = 0; k < ARRAY_SIZE(parts); k++) {
		cr_assert_null(strstr(log, parts[k]), "%s in %s", parts[k], log);
	}
	cr_assert_not_null(strstr(log, "***"), "%s", log);
	free(log);
	teardown(&f);
}

Test(sched, a_missing_secret_stops_the_run_before_it_starts, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  push:\n    secrets: [registry]\n    run: \"true\"\n");
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct run_options o = { .jobs = 1, .cancel_fd = -1, .secrets = f.secrets };
	cr_assert_eq(run_pipeline(f.p, &o, &f.r, &dl), -EINVAL);
	cr_assert_str_eq(dl.v[0].msg, "stage 'push' needs secret 'registry', which is not set");
	cr_assert_eq(dl.v[0].line, 3);
	cr_assert_not_null(strstr(dl.v[0].hint, "RUNNER_SECRET_REGISTRY"));
	diag_list_release(&dl);
	cr_assert_null(f.r);
	teardown(&f);
}

Test(sched, environment_is_clean_and_declared, .timeout = 60)
{
	setenv("LEAKY_HOST_VARIABLE", "should-not-pass", 1);
	setenv("RUNNER_SECRET_FROM_HOST", "host-secret-value", 1);
	struct fixture f = setup_pipeline(
		"version: 1\nname: envtest\nenv: { A: alpha, AB: \"${A}-b\" }\nstages:\n"
		"  e:\n    env: { C: \"${AB}-c\", D: \"$${LITERAL}\" }\n    run: env | sort > "
		"env.txt\n");
	struct run_options o = { .jobs = 1, .event = "push", .branch = "main", .cancel_fd = -1 };
	run_with(&f, &o);
	cr_assert_eq(st(&f, "e")->status, STATUS_PASSED);
	char *raw = tu_readf("%s/env.txt", f.dir);
	char *env = xasprintf("\n%s", raw);
	free(raw);
	cr_assert_null(strstr(env, "LEAKY_HOST_VARIABLE"));
	cr_assert_null(strstr(env, "host-secret-value"));
	cr_assert_not_null(strstr(env, "\nA=alpha\n"));
	cr_assert_not_null(strstr(env, "AB=alpha-b\n"));
	cr_assert_not_null(strstr(env, "C=alpha-b-c\n"));
	cr_assert_not_null(strstr(env, "D=${LITERAL}\n"));
	cr_assert_not_null(strstr(env, "CI=true\n"));
	cr_assert_not_null(strstr(env, "RUNNER_EVENT=push\n"));
	cr_assert_not_null(strstr(env, "RUNNER_BRANCH=main\n"));
	cr_assert_not_null(strstr(env, "RUNNER_STAGE=e\n"));
	cr_assert_not_null(strstr(env, "RUNNER_PIPELINE=envtest\n"));
	char *ws = xasprintf("RUNNER_WORKSPACE=%s\n", f.p->dir);
	cr_assert_not_null(strstr(env, ws));
	char *id = xasprintf("RUNNER_RUN_ID=%s\n", f.r->id);
	cr_assert_not_null(strstr(env, id));
	cr_assert_not_null(strstr(env, "PATH="));
	free(ws);
	free(id);
	free(env);
	unsetenv("LEAKY_HOST_VARIABLE");
	unsetenv("RUNNER_SECRET_FROM_HOST");
	teardown(&f);
}

Test(sched, stages_get_only_fds_0_1_2, .timeout = 60)
{
	/* A descriptor the runner's process has open (not close-on-exec) must not leak. */
	int leak = open("/dev/null", O_RDONLY);
	cr_assert_geq(leak, 0);
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  fds:\n    run: |\n"
					  /* What a program the stage runs inherits: ls's own fds
					   * (3 is the directory it reads). Not the shell's: while
					   * it sets up pipes and redirections it holds fds of its
					   * own for a moment, and a listing could catch them. */
					  "      ls /proc/self/fd > fds.raw\n"
					  "      sort -n fds.raw | tr '\\n' ' ' > fds.txt\n");
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "fds")->status, STATUS_PASSED);
	char *fds = tu_readf("%s/fds.txt", f.dir);
	cr_assert_str_eq(fds, "0 1 2 3 ");
	free(fds);
	close(leak);
	teardown(&f);
}

Test(sched, stage_selection_runs_what_is_needed_only, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  a: { run: echo a >> order }\n"
					  "  b: { needs: [a], run: echo b >> order }\n"
					  "  c: { needs: [b], run: echo c >> order }\n"
					  "  x: { run: echo x >> order }\n");
	const char *only[] = { "b" };
	struct run_options o = { .jobs = 2, .only = only, .n_only = 1, .cancel_fd = -1 };
	run_with(&f, &o);
	char *order = tu_readf("%s/order", f.dir);
	cr_assert_str_eq(order, "a\nb\n");
	free(order);
	cr_assert_eq(f.r->n_selected, 2);
	json_t *rep = tu_latest_report(f.dir);
	cr_assert_eq(json_array_size(json_object_get(rep, "stages")), 2);
	json_decref(rep);
	teardown(&f);
}

Test(sched, workdir_must_exist_and_stay_inside, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  ok: { workdir: sub, run: pwd > where }\n"
					  "  missing: { workdir: nope, run: \"true\" }\n"
					  "  escape: { workdir: out, run: \"true\" }\n");
	char *sub = xasprintf("%s/sub", f.dir), *out = xasprintf("%s/out", f.dir);
	mkdir(sub, 0755);
	symlink("/tmp", out);
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "ok")->status, STATUS_PASSED);
	cr_assert_eq(st(&f, "missing")->status, STATUS_FAILED);
	cr_assert_str_eq(st(&f, "missing")->message, "workdir 'nope' does not exist");
	cr_assert_eq(st(&f, "escape")->status, STATUS_FAILED);
	cr_assert_not_null(strstr(st(&f, "escape")->message, "outside the workspace"));
	free(sub);
	free(out);
	teardown(&f);
}

Test(sched, logs_keep_the_tail_under_their_cap, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nstages:\n"
					  "  loud:\n    run: |\n      i=0; while [ $i -lt 20000 ]; "
					  "do echo \"line $i\"; i=$((i+1)); done\n"
					  "      echo LAST-LINE\n");
	struct run_options o = { .jobs = 1, .log_cap = 32768, .cancel_fd = -1 };
	run_with(&f, &o);
	char *path = xasprintf("%s/logs/loud.log", f.r->dir);
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_leq(sb.st_size, 32768);
	char *log = tu_read(path);
	cr_assert_not_null(strstr(log, "LAST-LINE"));
	cr_assert_not_null(strstr(log, "earlier bytes dropped"));
	cr_assert_null(strstr(log, "line 0\n"));
	cr_assert_gt(st(&f, "loud")->log_dropped, 100000);
	free(log);
	free(path);
	teardown(&f);
}

Test(sched, run_record_is_complete, .timeout = 60)
{
	struct fixture f = setup_pipeline("version: 1\nname: rec\nstages:\n"
					  "  a: { run: echo hello }\n"
					  "  b: { needs: [a], run: \"exit 2\" }\n");
	run_jobs(&f, 1);
	cr_assert(tu_exists("%s/.runner/.gitignore", f.dir));
	cr_assert(tu_exists("%s/.runner/runs/latest", f.dir));
	cr_assert(tu_exists("%s/.runner/durations.json", f.dir));
	char *log = tu_readf("%s/logs/a.log", f.r->dir);
	cr_assert_str_eq(log, "hello\n");
	free(log);
	json_t *rep = tu_latest_report(f.dir);
	cr_assert_not_null(rep);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "schema")), "runner.report/v1");
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "failed");
	cr_assert_eq(json_integer_value(json_object_get(rep, "exit_code")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "run_id")), f.r->id);
	json_t *b = tu_report_stage(rep, "b");
	cr_assert_str_eq(json_string_value(json_object_get(b, "status")), "failed");
	cr_assert_eq(json_integer_value(json_object_get(b, "exit_code")), 2);
	cr_assert_eq(json_array_size(json_object_get(b, "attempts")), 1);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(b, "needs"), 0)), "a");
	json_decref(rep);
	char *junit = tu_readf("%s/junit.xml", f.r->dir);
	cr_assert_not_null(strstr(junit, "<testsuite name=\"rec\" tests=\"2\" failures=\"1\""));
	cr_assert_not_null(strstr(junit, "<testcase classname=\"rec\" name=\"b\""));
	cr_assert_not_null(strstr(junit, "<failure message=\"exit code 2\""));
	free(junit);
	teardown(&f);
}

/* Whether s is text an XML 1.0 parser accepts: valid UTF-8, no C0 control but tab, line
 * feed and carriage return, no U+FFFE or U+FFFF. */
static bool xml_text_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n = c < 0x80		  ? 0
				     : (c & 0xE0) == 0xC0 ? 1
				     : (c & 0xF0) == 0xE0 ? 2
				     : (c & 0xF8) == 0xF0 ? 3
							  : 9;
		if (n == 9 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
			return false;
		}
		uint32_t cp = n ? c & (0x3F >> n) : c;
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80) {
				return false;
			}
			cp = cp << 6 | (s[i] & 0x3F);
		}
		if (cp == 0xFFFE || cp == 0xFFFF) {
			return false;
		}
		s += n + 1;
	}
	return true;
}

/* A failing stage's log tail goes into junit.xml: whatever bytes it printed, the file stays
 * well-formed XML (an invalid byte or U+FFFE made consumers reject it). */
Test(sched, junit_stays_well_formed_whatever_a_stage_prints, .timeout = 60)
{
	struct fixture f =
		setup_pipeline("version: 1\nname: rec\nstages:\n"
			       "  b:\n    run: |\n"
			       "      printf 'caf\\351 \\357\\277\\276 \\001 <&> ok\\n'\n"
			       "      exit 3\n");
	run_jobs(&f, 1);
	cr_assert_eq(st(&f, "b")->status, STATUS_FAILED);
	char *junit = tu_readf("%s/junit.xml", f.r->dir);
	cr_assert_not_null(junit);
	cr_assert_not_null(strstr(junit, "&lt;&amp;&gt; ok"), "%s", junit);
	cr_assert(xml_text_ok((const unsigned char *)junit), "%s", junit);
	free(junit);
	teardown(&f);
}

Test(sched, a_long_chain_of_skips_does_not_recurse, .timeout = 120)
{
	size_t n = 3000, cap = n * 64 + 64, len = 0;
	char *buf = xmalloc(cap);
	len += (size_t)snprintf(buf, cap, "version: 1\nstages:\n  s0: { run: exit 1 }\n");
	for (size_t i = 1; i < n; i++) {
		len += (size_t)snprintf(buf + len, cap - len,
					"  s%zu: { needs: [s%zu], run: \"true\" }\n", i, i - 1);
	}
	struct fixture f = setup_pipeline(buf);
	free(buf);
	run_jobs(&f, 2);
	cr_assert_eq(f.r->result, RESULT_FAILED);
	cr_assert_eq(st(&f, "s2999")->status, STATUS_SKIPPED);
	teardown(&f);
}

/* An enforced policy (the server's, for untrusted changes) wins over what the pipeline
 * asks for: the stricter of the two applies, and a pipeline cannot loosen it. */
Test(sched, an_enforced_policy_cannot_be_loosened, .timeout = 60)
{
	struct fixture f = setup_pipeline(
		"version: 1\nstages:\n"
		"  wants-net:\n    sandbox: { network: host, pids: 4096 }\n"
		"    run: test \"$(wc -l < /proc/net/dev)\" = 3\n"
		"  wants-rootfs:\n    sandbox: { rootfs: /srv/rootfs }\n    run: \"true\"\n"
		"  writes:\n    sandbox: { read-write: [out] }\n    run: touch out/x\n");
	char *out = xasprintf("%s/out", f.dir);
	mkdir(out, 0755);
	struct sandbox_policy *enforced = sandbox_policy_new();
	cr_assert_eq(sandbox_policy_set_workspace_readonly(enforced, true), 0);
	cr_assert_eq(sandbox_policy_forbid_rootfs(enforced), 0);
	cr_assert_eq(sandbox_policy_set_limit(enforced, SANDBOX_LIMIT_PIDS, 256), 0);
	struct run_options o = { .jobs = 1, .cancel_fd = -1, .policy = enforced };
	run_with(&f, &o);
	/* network: host was not granted (only lo is there: two header lines and lo). */
	cr_assert_eq(st(&f, "wants-net")->status, STATUS_PASSED, "%s",
		     st(&f, "wants-net")->message);
	cr_assert_not(st(&f, "wants-net")->network_host);
	cr_assert_eq(st(&f, "wants-rootfs")->status, STATUS_ERROR);
	cr_assert_not_null(strstr(st(&f, "wants-rootfs")->message, "root filesystem"));
	/* The workspace is read-only, and a requested read-write path does not undo that. */
	cr_assert_eq(st(&f, "writes")->status, STATUS_FAILED);
	cr_assert_not(tu_exists("%s/x", out));
	sandbox_policy_free(enforced);
	free(out);
	teardown(&f);
}
