/*
 * test-runlock.c - runs of one workspace go one at a time: `runner run` holds the lock of
 * the workspace's run record (.runner/lock) for the whole run. A second run started
 * meanwhile stops at once (exit 4, naming the first's pid) and leaves the first's record
 * alone, or waits for it with --wait; a run killed with SIGKILL leaves no stale lock; the
 * read-only commands take no lock; stages neither see the lock file nor inherit it; runs of
 * commits (--rev, the pre-push hook's) take the working tree's lock; a lock file that is a
 * link is refused; the lock file is ignored by git like the rest of .runner/.
 *
 * Runs are synchronised on files, never on time: the first run's stage creates `started`
 * and then waits (bounded) for `release` to appear, which the test creates.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* hold: the first run's stage waits for `release`; a later run, which finds `started`
 * there, only says that it ran. `started` appears whole (renamed into place): the test
 * reads the run id in it as soon as it exists. */
static const char PIPELINE[] =
	"version: 1\n"
	"stages:\n"
	"  hold:\n"
	"    run: |\n"
	"      if [ -e started ]; then echo \"$RUNNER_RUN_ID\" >> later-ran; exit 0; fi\n"
	"      echo \"$RUNNER_RUN_ID\" > started.tmp && mv started.tmp started\n"
	"      i=0\n"
	"      while [ ! -e release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n"
	"      test -e release\n";

/* Wait (bounded: the suite's timeout is the real bound) until path exists. */
static void await_file(const char *path)
{
	for (int i = 0; i < 6000 && access(path, F_OK) < 0; i++) {
		usleep(10000);
	}
	cr_assert_eq(access(path, F_OK), 0, "%s never appeared", path);
}

/* Start `runner run --no-color ARGS...` in dir (args ends with NULL), stdout and stderr
 * to the file log. */
static pid_t start_run_v(const char *dir, const char *log, const char *const *args)
{
	const char *argv[16] = { "runner", "run", "--no-color" };
	size_t n = 3;
	for (size_t i = 0; args[i]; i++) {
		cr_assert_lt(n + 1, sizeof(argv) / sizeof(argv[0]));
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(dir) < 0) {
			_exit(99);
		}
		execv(tu_runner(), (char *const *)argv);
		_exit(98);
	}
	return pid;
}

static pid_t start_run(const char *dir, const char *log, const char *arg1, const char *arg2)
{
	const char *args[] = { arg1, arg2, NULL };
	return start_run_v(dir, log, args);
}

static int wait_exit(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "the run did not exit (status %#x)", st);
	return WEXITSTATUS(st);
}

/* The run directories under dir/.runner/runs (not `latest`). */
static int count_runs(const char *dir)
{
	char *runs = tu_strf("%s/.runner/runs", dir);
	DIR *d = opendir(runs);
	cr_assert_not_null(d, "%s: %s", runs, strerror(errno));
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		n += de->d_name[0] != '.' && strcmp(de->d_name, "latest") != 0;
	}
	closedir(d);
	free(runs);
	return n;
}

static char *latest_id(const char *dir)
{
	char *link = tu_strf("%s/.runner/runs/latest", dir);
	char buf[256];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0, "no latest link");
	free(link);
	return strndup(buf, (size_t)n);
}

/* The first line of a file, without its newline. */
static char *first_line(const char *path)
{
	char *s = tu_read(path);
	cr_assert_not_null(s, "cannot read %s", path);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* Whether process pid holds a descriptor of path, and with it close-on-exec: fdinfo's
 * "flags:" (octal) of each of its descriptors that links there. */
static void assert_holds_cloexec(pid_t pid, const char *path)
{
	char *fds = tu_strf("/proc/%ld/fd", (long)pid);
	DIR *d = opendir(fds);
	cr_assert_not_null(d, "%s: %s", fds, strerror(errno));
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *link = tu_strf("%s/%s", fds, de->d_name), buf[4096];
		ssize_t n = readlink(link, buf, sizeof(buf) - 1);
		free(link);
		if (n <= 0 || (size_t)n != strlen(path) || strncmp(buf, path, (size_t)n) != 0) {
			continue;
		}
		char *info = tu_readf("/proc/%ld/fdinfo/%s", (long)pid, de->d_name);
		cr_assert_not_null(info);
		const char *flags = strstr(info, "flags:");
		cr_assert_not_null(flags, "%s", info);
		unsigned long f = strtoul(flags + 6, NULL, 8);
		cr_assert(f & O_CLOEXEC, "the lock is not close-on-exec (flags 0%lo)", f);
		free(info);
		found++;
	}
	closedir(d);
	free(fds);
	cr_assert_eq(found, 1, "pid %ld holds %d descriptors of %s", (long)pid, found, path);
}

static void assert_contains(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

TestSuite(runlock, .timeout = 120);

Test(runlock, second_run_stops_with_exit_4_and_leaves_the_first_alone)
{
	char *dir = tu_tmpdir(), *logdir = tu_tmpdir();
	tu_write(dir, ".runner.yml", PIPELINE);
	char *log = tu_strf("%s/first.log", logdir), *started = tu_strf("%s/started", dir);
	pid_t first = start_run(dir, log, NULL, NULL);
	await_file(started);
	char *first_id = first_line(started);
	/* Held by the runner alone: stages, which it execs, do not inherit it. */
	char *real = realpath(dir, NULL), *lock = tu_strf("%s/.runner/lock", real);
	assert_holds_cloexec(first, lock);
	free(lock);
	free(real);

	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 4, "exit %d; stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
	char *who = tu_strf("another run (pid %ld, started at ", (long)first);
	assert_contains(r.err, who);
	assert_contains(r.err, "is using this workspace");
	assert_contains(r.err, "--wait DURATION");
	cr_assert_str_eq(r.out, "", "the refused run printed:\n%s", r.out);
	free(who);
	tu_result_free(&r);
	cr_assert(!tu_exists("%s/later-ran", dir), "the second run ran its stage");

	/* The read-only commands do not wait for the lock, nor take it. */
	r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "graph", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);

	tu_write(dir, "release", "");
	cr_assert_eq(wait_exit(first), 0, "%s", tu_read(log));
	/* The first run's record is whole, and the only one; latest is it. */
	cr_assert_eq(count_runs(dir), 1);
	char *latest = latest_id(dir);
	cr_assert_str_eq(latest, first_id);
	json_t *rep = tu_latest_report(dir);
	cr_assert_not_null(rep);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	cr_assert_str_eq(json_string_value(json_object_get(rep, "run_id")), first_id);
	cr_assert_str_eq(tu_stage_status(rep, "hold"), "passed");
	json_decref(rep);

	/* Once the first is over, the next run goes. */
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	cr_assert_eq(count_runs(dir), 2);
	cr_assert(tu_exists("%s/later-ran", dir));

	free(latest);
	free(first_id);
	free(started);
	free(log);
	tu_rmdir(logdir);
	tu_rmdir(dir);
	free(logdir);
	free(dir);
}

Test(runlock, wait_lets_the_second_run_go_after_the_first)
{
	char *dir = tu_tmpdir(), *logdir = tu_tmpdir();
	tu_write(dir, ".runner.yml", PIPELINE);
	char *log1 = tu_strf("%s/first.log", logdir), *log2 = tu_strf("%s/second.log", logdir);
	char *started = tu_strf("%s/started", dir);
	pid_t first = start_run(dir, log1, NULL, NULL);
	await_file(started);
	char *first_id = first_line(started);

	/* A wait that ends before the first run does: exit 4, said so. */
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "--wait", "200ms", NULL);
	cr_assert_eq(r.status, 4, "exit %d; stderr:\n%s", r.status, r.err);
	assert_contains(r.err, "waiting for it to end");
	assert_contains(r.err, "is using this workspace after waiting 200ms");
	tu_result_free(&r);

	pid_t second = start_run(dir, log2, "--wait", "10m");
	/* Synchronised on what it says: it waits, and its stage has not run. */
	char *said = NULL;
	for (int i = 0; i < 6000; i++) {
		free(said);
		said = tu_read(log2);
		if (said && strstr(said, "waiting for it to end")) {
			break;
		}
		usleep(10000);
	}
	cr_assert_not_null(said);
	assert_contains(said, "waiting for it to end");
	cr_assert(!tu_exists("%s/later-ran", dir), "the second run did not wait");
	tu_write(dir, "release", "");
	cr_assert_eq(wait_exit(first), 0, "%s", tu_read(log1));
	cr_assert_eq(wait_exit(second), 0, "%s", tu_read(log2));

	/* Each run has its record; latest is the one that started last. */
	cr_assert_eq(count_runs(dir), 2);
	char *later = tu_strf("%s/later-ran", dir);
	char *second_id = first_line(later);
	free(later);
	cr_assert_str_neq(second_id, first_id);
	char *latest = latest_id(dir);
	cr_assert_str_eq(latest, second_id);

	free(latest);
	free(second_id);
	free(said);
	free(first_id);
	free(started);
	free(log1);
	free(log2);
	tu_rmdir(logdir);
	tu_rmdir(dir);
	free(logdir);
	free(dir);
}

Test(runlock, a_killed_run_leaves_no_stale_lock)
{
	char *dir = tu_tmpdir(), *logdir = tu_tmpdir();
	tu_write(dir, ".runner.yml", PIPELINE);
	char *log = tu_strf("%s/first.log", logdir), *started = tu_strf("%s/started", dir);
	pid_t first = start_run(dir, log, NULL, NULL);
	await_file(started);
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 4, "the lock was not held: %s", r.err);
	tu_result_free(&r);

	kill(first, SIGKILL);
	int st;
	cr_assert_eq(waitpid(first, &st, 0), first);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* The lock file stays, naming the dead run; the lock itself went with it. */
	cr_assert(tu_exists("%s/.runner/lock", dir));
	tu_write(dir, "release", ""); /* for a stage the kill left behind, if any */
	unlink(started);
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	tu_result_free(&r);
	json_t *rep = tu_latest_report(dir);
	cr_assert_not_null(rep);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	json_decref(rep);

	free(started);
	free(log);
	tu_rmdir(logdir);
	tu_rmdir(dir);
	free(logdir);
	free(dir);
}

/* The lock is the runner's: a stage, sandboxed or not, holds no descriptor of it, and a
 * sandboxed one does not see the file (the record is hidden from it). */
Test(runlock, stages_do_not_inherit_or_see_the_lock)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\n"
		 "stages:\n"
		 "  look:\n"
		 "    run: |\n"
		 "      for f in /proc/$$/fd/*; do readlink \"$f\" || true; done > fds\n"
		 "      if grep -q 'runner/lock' fds; then echo inherited; exit 1; fi\n"
		 "      if [ -e .runner/lock ]; then echo visible; exit 1; fi\n"
		 "      echo ok\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	tu_result_free(&r);
	cr_assert(tu_exists("%s/.runner/lock", dir));

	tu_write(dir, ".runner.yml",
		 "version: 1\n"
		 "stages:\n"
		 "  look:\n"
		 "    run: |\n"
		 "      for f in /proc/$$/fd/*; do readlink \"$f\" || true; done > fds\n"
		 "      if grep -q 'runner/lock' fds; then echo inherited; exit 1; fi\n"
		 "      echo ok\n");
	r = tu_runner_run(dir, "run", "--no-color", "--no-sandbox", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A lock file that is not a regular file (a link a repository committed) is neither
 * followed nor replaced: exit 2, and nothing is made where it points. */
Test(runlock, a_lock_that_is_a_symbolic_link_is_refused)
{
	char *dir = tu_tmpdir(), *elsewhere = tu_tmpdir();
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  a: { run: \"true\" }\n");
	char *runner_dir = tu_strf("%s/.runner", dir), *lock = tu_strf("%s/.runner/lock", dir);
	char *target = tu_strf("%s/target", elsewhere);
	cr_assert_eq(mkdir(runner_dir, 0755), 0);
	cr_assert_eq(symlink(target, lock), 0);
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	assert_contains(r.err, "lock is not a regular file");
	tu_result_free(&r);
	cr_assert(!tu_exists("%s", target), "the lock was made through the link");
	cr_assert(!tu_exists("%s/.runner/runs", dir));
	free(target);
	free(lock);
	free(runner_dir);
	tu_rmdir(elsewhere);
	tu_rmdir(dir);
	free(elsewhere);
	free(dir);
}

/* `runner run --rev` (the pre-push hook's) runs in a workspace exported from the commit but
 * writes its record to the working tree's .runner/, and takes that lock: two pushes at once
 * from one clone test one commit, and the other stops (exit 4). The stage, unsandboxed,
 * synchronises through a directory outside the exported workspace. */
Test(runlock, runs_on_commits_take_the_working_trees_lock)
{
	char *dir = tu_tmpdir(), *sync = tu_tmpdir(), *logdir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\n"
		 "env:\n"
		 "  SYNC: \"\"\n"
		 "stages:\n"
		 "  hold:\n"
		 "    run: |\n"
		 "      touch \"$SYNC/started\"\n"
		 "      i=0\n"
		 "      while [ ! -e \"$SYNC/release\" ] && [ $i -lt 1200 ]; do sleep 0.05; "
		 "i=$((i+1)); done\n"
		 "      test -e \"$SYNC/release\"\n");
	char *cmd = tu_strf("cd '%s' && git init -q && git add .runner.yml && git -c "
			    "user.email=t@example.com -c user.name=t commit -q -m pipeline",
			    dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	char *env = tu_strf("SYNC=%s", sync), *log = tu_strf("%s/first.log", logdir);
	char *started = tu_strf("%s/started", sync);
	const char *args[] = { "--no-sandbox", "--rev", "HEAD", "--env", env, NULL };
	pid_t first = start_run_v(dir, log, args);
	await_file(started);

	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "--no-sandbox", "--rev",
					   "HEAD", "--env", env, NULL);
	cr_assert_eq(r.status, 4, "exit %d; stderr:\n%s", r.status, r.err);
	char *who = tu_strf("another run (pid %ld, started at ", (long)first);
	assert_contains(r.err, who);
	assert_contains(r.err, "/.runner/lock");
	free(who);
	tu_result_free(&r);

	tu_write(sync, "release", "");
	cr_assert_eq(wait_exit(first), 0, "%s", tu_read(log));
	cr_assert_eq(count_runs(dir), 1);
	json_t *rep = tu_latest_report(dir);
	cr_assert_not_null(rep);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	json_decref(rep);

	free(started);
	free(log);
	free(env);
	tu_rmdir(logdir);
	tu_rmdir(sync);
	tu_rmdir(dir);
	free(logdir);
	free(sync);
	free(dir);
}

/* A run stopped before its record is made (an unknown --stage) leaves the lock file behind,
 * in a .runner/ that ignores itself: `git status` shows nothing of it. */
Test(runlock, the_lock_file_is_ignored_by_git)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  a: { run: \"true\" }\n");
	char *cmd = tu_strf("cd '%s' && git init -q && git add .runner.yml && git -c "
			    "user.email=t@example.com -c user.name=t commit -q -m pipeline",
			    dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "--stage", "nosuch", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	tu_result_free(&r);
	cr_assert(tu_exists("%s/.runner/lock", dir));
	const char *const git[] = { "/usr/bin/git", "status", "--porcelain", NULL };
	r = tu_run(dir, git, NULL, 30);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "", "git status shows:\n%s", r.out);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}
