/*
 * test-record.c - the run record on disk: a run's directory is its own (claimed with an
 * exclusive mkdir, a taken id drawn again), and the files runs of one record root share
 * (durations.json, runs/latest) are updated under the root's lock.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "pipeline.h"
#include "record.h"
#include "run.h"
#include "sbuf.h"
#include "secrets.h"
#include "util.h"

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct ids {
	const char *const *v; /* the ids to hand out, in turn; the last one for ever */
	size_t n, next;
};

static char *next_id(void *userdata)
{
	struct ids *ids = userdata;
	size_t k = ids->next < ids->n ? ids->next : ids->n - 1;
	ids->next++;
	return xstrdup(ids->v[k]);
}

Test(record, run_dir_is_new)
{
	char *root = tu_tmpdir();
	const char *v[] = { "20261128-004000-abcdef" };
	struct ids ids = { v, 1, 0 };
	char *id = NULL;
	cr_assert_eq(record_create_run_dir(root, next_id, &ids, &id), 0);
	cr_assert_str_eq(id, v[0]);
	cr_expect(tu_exists("%s/runs/%s", root, id));
	cr_expect(tu_exists("%s/.gitignore", root));
	free(id);
	tu_rmdir(root);
	free(root);
}

/* An id whose directory exists (another run's, which drew the same second and bits) is
 * never written into: the next id is drawn, and what the other run wrote stays its own. */
Test(record, existing_run_dir_draws_another_id)
{
	char *root = tu_tmpdir();
	tu_write(root, "runs/20261128-004000-abcdef/report.json", "{\"theirs\": true}\n");
	const char *v[] = { "20261128-004000-abcdef", "20261128-004000-123456" };
	struct ids ids = { v, 2, 0 };
	char *id = NULL;
	cr_assert_eq(record_create_run_dir(root, next_id, &ids, &id), 0);
	cr_expect_str_eq(id, "20261128-004000-123456");
	cr_expect_eq(ids.next, 2);
	char *theirs = tu_readf("%s/runs/20261128-004000-abcdef/report.json", root);
	cr_expect_str_eq(theirs, "{\"theirs\": true}\n");
	free(theirs);
	free(id);
	tu_rmdir(root);
	free(root);
}

/* Bounded: an id source that only gives taken ids is given up on, with -EEXIST. */
Test(record, taken_ids_give_up)
{
	char *root = tu_tmpdir();
	tu_write(root, "runs/same/report.json", "{}\n");
	const char *v[] = { "same" };
	struct ids ids = { v, 1, 0 };
	char *id = (char *)"unset";
	cr_assert_eq(record_create_run_dir(root, next_id, &ids, &id), -EEXIST);
	cr_expect_null(id);
	cr_expect_eq(ids.next, RECORD_ID_TRIES);
	tu_rmdir(root);
	free(root);
}

/* Whether the file err says that its run waits for the lock (record_write says so once). */
static bool says_waiting(const char *err)
{
	char *text = tu_read(err);
	bool found = text && strstr(text, "waiting up to");
	free(text);
	return found;
}

/*
 * Runs that do not hold the record root's lock for the whole run (the server's: every run
 * has a workspace of its own, and runs of other branches of the repository go at once)
 * still update the files they share, durations.json (read, changed, written back) and
 * runs/latest, one at a time under the lock: a run that finishes while another writes them
 * waits, and then keeps what the other wrote.
 */
Test(record, shared_files_updated_under_the_lock, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *root = tu_strf("%s/record", dir);
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  mine:\n    run: \"true\"\n");
	char *path = tu_strf("%s/.runner.yml", dir);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct pipeline *p = NULL;
	cr_assert_eq(pipeline_load_file(path, &p, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	tu_write(root, "durations.json", "{}");
	/* Another run's update of the shared files, under way. */
	struct record_lock_holder h;
	int lock = record_lock(root, 0, &h);
	cr_assert_geq(lock, 0);

	char *err = tu_strf("%s/run.err", dir);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(lock); /* the lock is the parent's, not shared with this copy */
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0) {
			_exit(99);
		}
		struct secret_store *ss = secrets_new();
		struct run_options o = { .jobs = 1,
					 .cancel_fd = -1,
					 .record_root = root,
					 .secrets = ss,
					 .no_sandbox = true };
		struct run *r = NULL;
		int rr = run_pipeline(p, &o, &r, &dl);
		_exit(rr == 0 && r->exit_code == 0 ? 0 : 1);
	}
	int status;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		cr_assert_eq(w, 0,
			     "the run wrote the shared files of the record while another "
			     "held its lock");
		if (says_waiting(err)) {
			break;
		}
		usleep(10000);
	}
	/* The other run's update, which the waiting run must not overwrite. */
	tu_write(root, "durations.json", "{\"theirs\": 7}");
	close(lock);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	free(err);
	char *d = tu_readf("%s/durations.json", root);
	cr_assert_not_null(d);
	cr_expect(strstr(d, "\"theirs\":7") && strstr(d, "\"mine\":"), "%s", d);
	free(d);
	diag_list_release(&dl);
	pipeline_free(p);
	free(path);
	free(root);
	tu_rmdir(dir);
	free(dir);
}

/*
 * The wait for the shared files' lock is bounded: a `runner run` started by hand in the
 * record root's directory (the server's repos/<key>) holds the lock for its whole run, and
 * a server run that ends meanwhile does not hang on it. After shared_wait_ms it is an
 * error (exit 4) whose message names the holder; the record it wrote (report.json,
 * junit.xml) stays complete, and durations.json and runs/latest are left as they were.
 */
Test(record, the_wait_for_the_shared_files_is_bounded, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *root = tu_strf("%s/record", dir);
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  mine:\n    run: \"true\"\n");
	char *path = tu_strf("%s/.runner.yml", dir);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct pipeline *p = NULL;
	cr_assert_eq(pipeline_load_file(path, &p, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	tu_write(root, "durations.json", "{\"theirs\":7}");
	/* The lock of a run that does not end (flock() locks belong to the open file, so the
	 * run below, which opens the file again, finds it taken). */
	struct record_lock_holder h;
	int lock = record_lock(root, 0, &h);
	cr_assert_geq(lock, 0);

	struct secret_store *ss = secrets_new();
	struct run_options o = { .jobs = 1,
				 .cancel_fd = -1,
				 .record_root = root,
				 .secrets = ss,
				 .no_sandbox = true,
				 .run_id = "20261128-030000-abcdef",
				 .shared_wait_ms = 50 };
	struct run *r = NULL;
	cr_assert_eq(run_pipeline(p, &o, &r, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	cr_expect_eq(r->exit_code, 4);
	cr_expect_eq(r->result, RESULT_ERROR);
	cr_assert_not_null(r->record_error);
	char *who = tu_strf("another run (pid %ld, started at ", (long)getpid());
	cr_expect_not_null(strstr(r->record_error, who), "%s", r->record_error);
	cr_expect_not_null(strstr(r->record_error, "/record/lock for longer than"), "%s",
			   r->record_error);
	free(who);
	run_free(r);

	char *report = tu_strf("%s/runs/20261128-030000-abcdef/report.json", root);
	json_t *rep = json_load_file(report, 0, NULL);
	free(report);
	cr_assert_not_null(rep, "the report is not complete");
	cr_expect_str_eq(tu_stage_status(rep, "mine"), "passed");
	/* The run exited 4: its report says so, not "passed", and why. */
	cr_expect_str_eq(json_string_value(json_object_get(rep, "result")), "error");
	cr_expect_eq(json_integer_value(json_object_get(rep, "exit_code")), 4);
	const char *err = json_string_value(json_object_get(rep, "error"));
	cr_expect(err && strstr(err, "for longer than"), "%s", err ? err : "(no error)");
	json_decref(rep);
	char *junit = tu_readf("%s/runs/20261128-030000-abcdef/junit.xml", root);
	cr_assert_not_null(junit);
	cr_expect_not_null(strstr(junit, "for longer than"), "%s", junit);
	free(junit);
	char *d = tu_readf("%s/durations.json", root);
	cr_expect_str_eq(d, "{\"theirs\":7}");
	free(d);
	cr_expect_not(tu_exists("%s/runs/latest", root), "latest was updated");
	close(lock);
	secrets_free(ss);
	diag_list_release(&dl);
	pipeline_free(p);
	free(path);
	free(root);
	tu_rmdir(dir);
	free(dir);
}

/* Run the one-stage pipeline at path with record root root and run id id: with the root's
 * lock for the whole run (`runner run`) or only for the update of the shared files (the
 * server's runs). Returns its exit code. */
static int run_one(const char *path, const char *root, const char *id, bool lock)
{
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct pipeline *p = NULL;
	cr_assert_eq(pipeline_load_file(path, &p, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	struct secret_store *ss = secrets_new();
	struct run_options o = { .jobs = 1,
				 .cancel_fd = -1,
				 .record_root = root,
				 .secrets = ss,
				 .no_sandbox = true,
				 .run_id = lock ? NULL : id,
				 .lock = lock };
	struct run *r = NULL;
	cr_assert_eq(run_pipeline(p, &o, &r, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	int code = r->exit_code;
	run_free(r);
	secrets_free(ss);
	diag_list_release(&dl);
	pipeline_free(p);
	return code;
}

static char *latest_target(const char *root)
{
	char *link = tu_strf("%s/runs/latest", root);
	char buf[256];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	free(link);
	cr_assert_gt(n, 0, "no latest link");
	return strndup(buf, (size_t)n);
}

/*
 * runs/latest is the newest run, the one started last, for the runs that share a record
 * root and go at once (the server's) as for `runner run`'s, which go one at a time: a run
 * that started before the one latest points at and ends after it leaves latest alone; one
 * that started after it takes it; a `runner run` (the root's lock for its whole run) is
 * always the newest.
 */
Test(record, latest_is_the_run_that_started_last, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *root = tu_strf("%s/record", dir);
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  mine:\n    run: \"true\"\n");
	char *path = tu_strf("%s/.runner.yml", dir);
	/* The run latest points at started after this test's runs start (it is running
	 * still, as far as they know). */
	tu_write(root, "runs/9.1/report.json", "{}\n");
	char *link = tu_strf("%s/runs/latest", root);
	cr_assert_eq(symlink("9.1", link), 0);
	free(link);
	tu_write(root, "runs/.latest-started", "32503680000000 9.1\n");

	cr_assert_eq(run_one(path, root, "3.1", false), 0);
	cr_assert(tu_exists("%s/runs/3.1/report.json", root));
	char *t = latest_target(root);
	cr_expect_str_eq(t, "9.1", "a run that started earlier took latest");
	free(t);

	/* It started long ago: the next run is the newest. */
	tu_write(root, "runs/.latest-started", "1000 9.1\n");
	cr_assert_eq(run_one(path, root, "4.1", false), 0);
	t = latest_target(root);
	cr_expect_str_eq(t, "4.1");
	free(t);
	char *info = tu_readf("%s/runs/.latest-started", root);
	cr_expect(info && strstr(info, " 4.1\n"), "%s", info ? info : "(none)");
	free(info);

	/* A record of unknown start (no .latest-started, or one naming another run): the run
	 * that ends is the newest. */
	tu_write(root, "runs/.latest-started", "32503680000000 2.1\n");
	cr_assert_eq(run_one(path, root, "5.1", false), 0);
	t = latest_target(root);
	cr_expect_str_eq(t, "5.1");
	free(t);

	/* `runner run`: always the newest. */
	tu_write(root, "runs/.latest-started", "32503680000000 5.1\n");
	cr_assert_eq(run_one(path, root, NULL, true), 0);
	t = latest_target(root);
	cr_expect_neq(strcmp(t, "5.1"), 0, "a `runner run` did not take latest");
	cr_expect(tu_exists("%s/runs/%s/report.json", root, t));
	free(t);

	free(path);
	free(root);
	tu_rmdir(dir);
	free(dir);
}

/*
 * In junit.xml only a stage that passed is a passing testcase: a status that is no final
 * one (a stage written down while it was still running) is an error, never a pass, for a
 * merge gate that reads the file. The engine writes the record once every stage has ended;
 * the state is made here by hand on a run that did.
 */
Test(record, junit_never_passes_a_stage_that_did_not_pass, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *root = tu_strf("%s/record", dir);
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  mine:\n    run: \"true\"\n  other:\n    run: \"true\"\n");
	char *path = tu_strf("%s/.runner.yml", dir);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct pipeline *p = NULL;
	cr_assert_eq(pipeline_load_file(path, &p, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	struct secret_store *ss = secrets_new();
	struct run_options o = {
		.jobs = 1, .cancel_fd = -1, .record_root = root, .secrets = ss, .no_sandbox = true
	};
	struct run *r = NULL;
	cr_assert_eq(run_pipeline(p, &o, &r, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	cr_assert_eq(r->exit_code, 0);
	r->stages[0].status = STATUS_RUNNING;
	char *x = record_junit(r);
	const char *mine = strstr(x, "name=\"mine\"");
	const char *other = strstr(x, "name=\"other\"");
	cr_assert(mine && other && mine < other, "%s", x);
	const char *err = strstr(mine, "<error ");
	cr_expect(err && err < other, "a running stage is a passing testcase:\n%s", x);
	cr_expect(strstr(mine, "type=\"running\""), "%s", x);
	cr_expect(strstr(x, "errors=\"1\""), "%s", x);
	cr_expect_null(strstr(other, "<error"), "%s", x);
	free(x);
	run_free(r);
	secrets_free(ss);
	diag_list_release(&dl);
	pipeline_free(p);
	free(path);
	free(root);
	tu_rmdir(dir);
	free(dir);
}

/* What xmllint (libxml2-utils) finds wrong in the junit.xml at path against the Ant JUnit
 * schema (tests/fixtures/junit-schema), or NULL when the file is valid. */
static char *junit_schema_problem(const char *path)
{
	static const char xmllint[] = "/usr/bin/xmllint";
	cr_assert_eq(access(xmllint, X_OK), 0, "%s (Debian's libxml2-utils) is needed", xmllint);
	char *schema = tu_fixture("junit-schema/JUnit.xsd");
	const char *argv[] = { xmllint, "--noout", "--nonet", "--schema", schema, path, NULL };
	struct tu_result r = tu_run(NULL, argv, NULL, 120);
	char *problem = r.status == 0 ? NULL : tu_strf("%s%s", r.out, r.err);
	tu_result_free(&r);
	free(schema);
	return problem;
}

#define MANY_STAGES 160

/* Write y's pipeline into dir, run it (jobs 2, unsandboxed) with its record under root;
 * it fails. Returns the path of its junit.xml. */
static char *run_failing_pipeline(const char *dir, const char *root, struct sbuf *y)
{
	char *yaml = sbuf_steal(y);
	tu_write(dir, ".runner.yml", yaml);
	free(yaml);
	char *path = tu_strf("%s/.runner.yml", dir);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct pipeline *p = NULL;
	cr_assert_eq(pipeline_load_file(path, &p, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	struct secret_store *ss = secrets_new();
	struct run_options o = { .jobs = 2,
				 .cancel_fd = -1,
				 .record_root = root,
				 .secrets = ss,
				 .no_sandbox = true,
				 .run_id = "20261128-050000-abcdef" };
	struct run *r = NULL;
	cr_assert_eq(run_pipeline(p, &o, &r, &dl), 0, "%s", dl.n ? dl.v[0].msg : "?");
	cr_assert_eq(r->exit_code, 1);
	run_free(r);
	secrets_free(ss);
	diag_list_release(&dl);
	pipeline_free(p);
	free(path);
	return tu_strf("%s/runs/20261128-050000-abcdef/junit.xml", root);
}

/*
 * junit.xml holds the ends of the stages' logs (64 KiB each, twice for a stage that did
 * not pass) within a cap for the whole file (8 MiB, docs/report.md): 160 stages that print
 * 68 KiB each made a file of over 10 MiB, and thousands of them one of hundreds. The
 * stage that failed keeps its log, although it comes last; every other stage's log is
 * either there or named on the line that says which were left out, and the file stays
 * valid against the Ant JUnit schema.
 */
Test(record, junit_log_text_is_capped_and_what_is_left_out_is_named, .timeout = 300)
{
	char *dir = tu_tmpdir();
	char *root = tu_strf("%s/record", dir);
	struct sbuf y;
	sbuf_init(&y, SIZE_MAX / 2);
	sbuf_puts(&y, "version: 1\nname: chatty\nstages:\n");
	const char *print = "yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
			    " | head -c 70000";
	for (int k = 0; k < MANY_STAGES; k++) {
		sbuf_printf(&y, "  s%03d:\n    run: %s\n", k, print);
	}
	sbuf_printf(&y, "  zbad:\n    run: %s; echo; echo the-end-of-zbad; exit 3\n", print);
	char *jpath = run_failing_pipeline(dir, root, &y);
	char *x = tu_read(jpath);
	cr_assert_not_null(x);
	size_t size = strlen(x);
	cr_expect_leq(size, (size_t)(8u << 20) + (64u << 10), "junit.xml is %zu bytes", size);
	/* The failed stage's testcase carries its log, and <system-out> its part. */
	const char *bad = strstr(x, "name=\"zbad\"");
	cr_assert_not_null(bad);
	const char *fail = strstr(bad, "<failure ");
	cr_assert_not_null(fail);
	const char *end = strstr(fail, "</failure>");
	const char *marker = strstr(fail, "the-end-of-zbad");
	cr_expect(end && marker && marker < end, "the failed stage's log is left out");
	const char *out = strstr(x, "<system-out>");
	cr_assert_not_null(out);
	cr_expect_not_null(strstr(out, "==&gt; zbad &lt;==\n"));
	/* The stages left out are named, and each other one has its part. */
	const char *line = strstr(out, "log of stages ");
	cr_assert_not_null(line, "no line names the logs left out");
	const char *tail = strstr(line, " left out: junit.xml log cap of 8 MiB reached; see the "
					"run record (logs/)\n");
	cr_assert_not_null(tail, "%.300s", line);
	char *names = strndup(line + strlen("log of stages "), (size_t)(tail - line) - 14);
	size_t left_out = 0, shown = 0;
	for (int k = 0; k < MANY_STAGES; k++) {
		char name[8], heading[32];
		snprintf(name, sizeof(name), "s%03d", k);
		snprintf(heading, sizeof(heading), "==&gt; %s &lt;==\n", name);
		bool named = strstr(names, name) != NULL, has = strstr(out, heading) != NULL;
		cr_expect(named != has, "stage %s: named %d, its log there %d", name, named, has);
		left_out += named;
		shown += has;
	}
	cr_expect_gt(left_out, 0);
	cr_expect_gt(shown, 100);
	cr_expect_null(strstr(names, "zbad"));
	free(names);
	free(x);
	char *problem = junit_schema_problem(jpath);
	cr_expect_null(problem, "junit.xml is not valid against the Ant JUnit schema:\n%s",
		       problem);
	free(problem);
	free(jpath);
	free(root);
	tu_rmdir(dir);
	free(dir);
}

/* Stages that failed each write the end of their log twice: past the cap, the failure of
 * one whose log is left out says where its log is, and the stage is named as left out. */
Test(record, junit_failures_past_the_log_cap_say_where_their_log_is, .timeout = 300)
{
	char *dir = tu_tmpdir();
	char *root = tu_strf("%s/record", dir);
	struct sbuf y;
	sbuf_init(&y, SIZE_MAX / 2);
	sbuf_puts(&y, "version: 1\nstages:\n");
	for (int k = 0; k < 70; k++) {
		sbuf_printf(
			&y,
			"  f%03d:\n    run: yes 0123456789abcdef0123456789abcdef | head -c 70000; "
			"exit 1\n",
			k);
	}
	char *jpath = run_failing_pipeline(dir, root, &y);
	char *x = tu_read(jpath);
	cr_assert_not_null(x);
	cr_expect_leq(strlen(x), (size_t)(8u << 20) + (64u << 10), "junit.xml is %zu bytes",
		      strlen(x));
	const char *last = strstr(x, "name=\"f069\"");
	cr_assert_not_null(last);
	cr_expect_not_null(strstr(last,
				  "<failure message=\"exit code 1\" type=\"failed\">log left "
				  "out: junit.xml log cap of 8 MiB reached; see logs/f069.log "
				  "in the run record</failure>"),
			   "%.400s", last);
	const char *line = strstr(x, "<system-out>log of stages ");
	cr_assert_not_null(line);
	const char *nl = strchr(line, '\n');
	const char *f069 = strstr(line, "f069");
	cr_expect(f069 && f069 < nl, "%.300s", line);
	char *problem = junit_schema_problem(jpath);
	cr_expect_null(problem, "junit.xml is not valid against the Ant JUnit schema:\n%s",
		       problem);
	free(problem);
	free(x);
	free(jpath);
	free(root);
	tu_rmdir(dir);
	free(dir);
}

/* Whether dir holds an entry whose name starts with RECORD_NEW_PREFIX. */
static bool has_unclaimed(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	bool found = false;
	struct dirent *e;
	while ((e = readdir(d))) {
		found |= strncmp(e->d_name, RECORD_NEW_PREFIX, strlen(RECORD_NEW_PREFIX)) == 0;
	}
	closedir(d);
	return found;
}

/* A directory made with its first file takes its name with the file in it (built under a
 * temporary name beside it, then renamed without replacing anything): nothing is left
 * under the temporary name, and one that exists is neither replaced nor written into. */
Test(record, a_claimed_dir_takes_its_name_with_its_file)
{
	char *root = tu_tmpdir();
	char *dir = tu_strf("%s/runs/7.1", root);
	tu_write(root, "runs/.keep", "");
	cr_assert_eq(record_make_claimed_dir(dir, "claim.json", "{\"job\":7}"), 0);
	char *claim = tu_readf("%s/claim.json", dir);
	cr_expect_str_eq(claim, "{\"job\":7}");
	free(claim);
	struct stat st;
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
	char *runs = tu_strf("%s/runs", root);
	cr_expect_not(has_unclaimed(runs));

	/* Taken: -EEXIST, what is there stays, and nothing is left beside it. */
	tu_write(root, "runs/8.1/report.json", "{\"theirs\": true}\n");
	char *theirs = tu_strf("%s/runs/8.1", root);
	cr_expect_eq(record_make_claimed_dir(theirs, "claim.json", "{\"job\":8}"), -EEXIST);
	cr_expect_not(tu_exists("%s/runs/8.1/claim.json", root));
	cr_expect(tu_exists("%s/runs/8.1/report.json", root));
	cr_expect_eq(record_make_claimed_dir(dir, "claim.json", "{\"job\":9}"), -EEXIST);
	claim = tu_readf("%s/claim.json", dir);
	cr_expect_str_eq(claim, "{\"job\":7}");
	free(claim);
	cr_expect_not(has_unclaimed(runs));
	free(theirs);
	free(runs);
	free(dir);
	tu_rmdir(root);
	free(root);
}

/* What a process that died between the two steps left (a directory under the temporary
 * name) is removed by the sweep, and nothing else is: runs, latest, its start. */
Test(record, the_sweep_removes_only_half_made_dirs)
{
	char *root = tu_tmpdir();
	tu_write(root, "runs/" RECORD_NEW_PREFIX "7.1.a1b2c3/claim.json", "{\"job\":7}");
	tu_write(root, "runs/" RECORD_NEW_PREFIX "8.1.d4e5f6/claim.json", "{\"job\":8}");
	tu_write(root, "runs/7.1/claim.json", "{\"job\":7}");
	tu_write(root, "runs/.latest-started", "1000 7.1\n");
	char *latest = tu_strf("%s/runs/latest", root);
	cr_assert_eq(symlink("7.1", latest), 0);
	free(latest);
	char *runs = tu_strf("%s/runs", root);
	cr_expect_eq(record_sweep_unclaimed(runs), 2);
	cr_expect_not(has_unclaimed(runs));
	cr_expect(tu_exists("%s/runs/7.1/claim.json", root));
	cr_expect(tu_exists("%s/runs/latest/claim.json", root));
	cr_expect(tu_exists("%s/runs/.latest-started", root));
	cr_expect_eq(record_sweep_unclaimed(runs), 0);
	char *none = tu_strf("%s/none", root);
	cr_expect_eq(record_sweep_unclaimed(none), 0);
	free(none);
	free(runs);
	tu_rmdir(root);
	free(root);
}

/* Where renameat2() has no RENAME_NOREPLACE (EINVAL: a filesystem without it), the name is
 * claimed with an exclusive mkdir() and the built directory replaces only that empty one:
 * a directory that exists, even an empty one (which a plain rename() would replace), is
 * never taken. The lack is made with a seccomp filter, in a process of its own. */
Test(record, without_rename_noreplace_the_claim_is_an_exclusive_mkdir)
{
	char *root = tu_tmpdir();
	tu_write(root, "runs/8.1/report.json", "{\"theirs\": true}\n");
	char *empty = tu_strf("%s/runs/9.1", root);
	cr_assert_eq(mkdir(empty, 0755), 0);
	char *dir = tu_strf("%s/runs/7.1", root);
	char *theirs = tu_strf("%s/runs/8.1", root);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx ||
		    seccomp_rule_add(
			    ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(renameat2), 1,
			    SCMP_A4(SCMP_CMP_MASKED_EQ, RENAME_NOREPLACE, RENAME_NOREPLACE)) < 0 ||
		    seccomp_load(ctx) < 0) {
			_exit(90);
		}
		if (renameat2(AT_FDCWD, "/nonexistent-a", AT_FDCWD, "/nonexistent-b",
			      RENAME_NOREPLACE) == 0 ||
		    errno != EINVAL) {
			_exit(91); /* the filter is not in force */
		}
		if (record_make_claimed_dir(dir, "claim.json", "{\"job\":7}") != 0) {
			_exit(92);
		}
		if (record_make_claimed_dir(theirs, "claim.json", "{\"job\":8}") != -EEXIST) {
			_exit(93);
		}
		if (record_make_claimed_dir(empty, "claim.json", "{\"job\":9}") != -EEXIST) {
			_exit(94);
		}
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	char *claim = tu_readf("%s/claim.json", dir);
	cr_expect_str_eq(claim, "{\"job\":7}");
	free(claim);
	cr_expect_not(tu_exists("%s/runs/8.1/claim.json", root));
	cr_expect(tu_exists("%s/runs/8.1/report.json", root));
	cr_expect_not(tu_exists("%s/runs/9.1/claim.json", root), "an empty directory was taken");
	char *runs = tu_strf("%s/runs", root);
	cr_expect_not(has_unclaimed(runs));
	free(runs);
	free(theirs);
	free(dir);
	free(empty);
	tu_rmdir(root);
	free(root);
}
