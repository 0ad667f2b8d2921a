/*
 * test-hook.c - `runner run --rev` and the pre-push hook, end to end with real git
 * repositories and real `git push` to a local bare remote: what is pushed is what is
 * tested (never the dirty working tree), a failing pipeline stops the push, every pushed
 * commit is scanned for secrets (not only the tip; from a shallow clone too, up to its
 * boundary), deletions pass, and a hook runner did not write is never overwritten or
 * removed without --force.
 */
#include <criterion/criterion.h>

#include "testserve.h"
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIT "git -c user.email=t@example.com -c user.name=t"

static const char passing[] = "version: 1\n"
			      "stages:\n"
			      "  check:\n"
			      "    run: |\n"
			      "      test \"$(cat state)\" = good\n"
			      "      echo \"branch=$RUNNER_BRANCH commit=$RUNNER_COMMIT_SHA\"\n";

struct fixture {
	char *dir;
	char *repo;
	char *remote;
};

static struct fixture setup_repo(void)
{
	struct fixture f;
	f.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&f.repo, "%s/work", f.dir), 0);
	cr_assert_geq(asprintf(&f.remote, "%s/remote.git", f.dir), 0);
	free(ts_git_init(f.repo, passing));
	free(ts_git_commit(f.repo, "state", "good\n"));
	ts_sh("git init -q --bare '%s' && git -C '%s' remote add origin '%s'", f.remote, f.repo,
	      f.remote);
	return f;
}

static void release(struct fixture *f)
{
	tu_rmdir(f->dir);
	free(f->dir);
	free(f->repo);
	free(f->remote);
}

static int push(const struct fixture *f, const char *args, char **err)
{
	char *cmd;
	cr_assert_geq(asprintf(&cmd, "git -C '%s' push %s 2>'%s/push.err'", f->repo, args, f->dir),
		      0);
	int r = system(cmd);
	free(cmd);
	if (err) {
		*err = tu_readf("%s/push.err", f->dir);
	}
	return r;
}

static char *remote_head(const struct fixture *f, const char *branch)
{
	return ts_sh_out("git -C '%s' rev-parse --verify -q refs/heads/%s || true", f->remote,
			 branch);
}

/* Start `runner ARGS...` in cwd (with TMPDIR set when tmpdir is given), its output thrown
 * away; the caller waits for it. */
static pid_t spawn_quiet(const char *cwd, const char *tmpdir, const char *const *args)
{
	const char *argv[16] = { "runner" };
	for (size_t i = 0; args[i] && i + 2 < 16; i++) {
		argv[i + 1] = args[i];
	}
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || chdir(cwd) < 0 || (tmpdir && setenv("TMPDIR", tmpdir, 1) < 0)) {
			_exit(99);
		}
		dup2(null, 1);
		dup2(null, 2);
		execv(tu_runner(), (char *const *)argv);
		_exit(98);
	}
	return pid;
}

Test(hook, a_failing_commit_is_not_pushed, .timeout = 120)
{
	struct fixture f = setup_repo();
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *hook = tu_readf("%s/.git/hooks/pre-push", f.repo);
	cr_assert_not_null(strstr(hook, "runner-managed pre-push hook"));
	free(hook);

	char *good = ts_sh_out("git -C '%s' rev-parse HEAD", f.repo);
	cr_assert_eq(push(&f, "origin main", NULL), 0);
	char *head = remote_head(&f, "main");
	cr_assert_str_eq(head, good);
	free(head);

	/* A commit whose pipeline fails does not reach the remote... */
	char *bad = ts_git_commit(f.repo, "state", "bad\n");
	char *err = NULL;
	cr_assert_neq(push(&f, "origin main", &err), 0);
	cr_assert_not_null(strstr(err, "not pushed (exit 1)"), "%s", err);
	free(err);
	head = remote_head(&f, "main");
	cr_assert_str_eq(head, good);
	free(head);

	/* ...even when the working tree is fixed but not committed: the commit is tested. */
	tu_write(f.repo, "state", "good\n");
	cr_assert_neq(push(&f, "origin main", NULL), 0);
	/* --no-verify skips the hook (git's own escape hatch). */
	cr_assert_eq(push(&f, "--no-verify origin main", NULL), 0);
	head = remote_head(&f, "main");
	cr_assert_str_eq(head, bad);
	free(head);

	/* The reverse: a good commit with a broken working tree is pushed. */
	ts_sh("git -C '%s' checkout -q -- state", f.repo);
	char *fixed = ts_git_commit(f.repo, "state", "good\n");
	tu_write(f.repo, "state", "broken in the working tree\n");
	cr_assert_eq(push(&f, "origin main", NULL), 0);
	head = remote_head(&f, "main");
	cr_assert_str_eq(head, fixed);
	free(head);

	/* Deleting a branch runs nothing and is not blocked. */
	cr_assert_eq(push(&f, "--no-verify origin main:doomed", NULL), 0);
	cr_assert_eq(push(&f, "origin :doomed", NULL), 0);
	head = remote_head(&f, "doomed");
	cr_assert_str_eq(head, "");
	free(head);
	free(good);
	free(bad);
	free(fixed);
	release(&f);
}

/* A line holding an AWS access key id, put together at run time (this file holds none). */
static char *aws_key_line(void)
{
	return tu_strf("aws_access_key_id = %s%s\n", "AKIA", "Z7QWERTYUIOPASDF");
}

/* Commit the key in key.txt and remove it again in the next commit; returns the commit
 * that brought it. */
static char *commit_and_remove_key(const struct fixture *f)
{
	char *key = aws_key_line();
	char *leak = ts_git_commit(f->repo, "key.txt", key);
	ts_sh(GIT " -C '%s' rm -q key.txt && " GIT " -C '%s' commit -qm 'remove the key'", f->repo,
	      f->repo);
	free(key);
	return leak;
}

/* Every commit a push brings is scanned for secrets, not only its tip: a key committed
 * and removed again within the push would stay in the remote's history. The hook used to
 * test the tip alone and let it through. */
Test(hook, a_secret_below_the_tip_is_not_pushed, .timeout = 120)
{
	struct fixture f = setup_repo();
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *good = ts_sh_out("git -C '%s' rev-parse HEAD", f.repo);
	cr_assert_eq(push(&f, "origin main", NULL), 0);

	char *leak = commit_and_remove_key(&f);
	char *tip = ts_git_commit(f.repo, "notes.txt", "clean tip\n");
	char *err = NULL;
	cr_assert_neq(push(&f, "origin main", &err), 0, "pushed a key in the history: %s", err);
	cr_expect_not_null(strstr(err, "not pushed (exit 3)"), "%s", err);
	char *where = tu_strf("%.12s:key.txt:1:", leak);
	cr_expect_not_null(strstr(err, where), "the commit is not named: %s", err);
	cr_expect_not_null(strstr(err, "AKIA...(sha256:"), "not redacted as the scan does: %s",
			   err);
	cr_expect_null(strstr(err, "Z7QWERTYUIOPASDF"), "the secret was printed: %s", err);
	free(err);
	char *head = remote_head(&f, "main");
	cr_expect_str_eq(head, good);
	free(head);

	/* The same push without the key goes through. */
	ts_sh("git -C '%s' reset -q --hard '%s'", f.repo, good);
	free(ts_git_commit(f.repo, "key.txt", "aws_region = eu-west-1\n"));
	ts_sh(GIT " -C '%s' rm -q key.txt && " GIT " -C '%s' commit -qm 'remove it'", f.repo,
	      f.repo);
	char *clean = ts_git_commit(f.repo, "notes.txt", "clean tip\n");
	cr_expect_eq(push(&f, "origin main", &err), 0, "%s", err);
	free(err);
	head = remote_head(&f, "main");
	cr_expect_str_eq(head, clean);
	free(head);
	free(clean);
	free(tip);
	free(leak);
	free(where);
	free(good);
	release(&f);
}

/* A new ref (git says the remote has zeros) is scanned for the commits no tracking ref of
 * that remote reaches: a key the remote already has (pushed with --no-verify) does not
 * stop a new branch on top of it, a key in the branch's own commits does. */
Test(hook, a_new_branch_is_scanned_for_what_the_remote_lacks, .timeout = 120)
{
	struct fixture f = setup_repo();
	char *old = commit_and_remove_key(&f);
	cr_assert_eq(push(&f, "-q --no-verify origin main", NULL), 0);
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);

	ts_sh("git -C '%s' checkout -q -b feature", f.repo);
	char *feature = ts_git_commit(f.repo, "feature.txt", "one\n");
	char *err = NULL;
	cr_expect_eq(push(&f, "origin feature", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "1 commit, 1 new file: passed"), "%s", err);
	free(err);
	char *head = remote_head(&f, "feature");
	cr_expect_str_eq(head, feature);
	free(head);

	ts_sh("git -C '%s' checkout -q -b other main", f.repo);
	char *leak = commit_and_remove_key(&f);
	cr_expect_neq(push(&f, "origin other", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "not pushed (exit 3)"), "%s", err);
	char *where = tu_strf("%.12s:key.txt:1:", leak);
	cr_expect_not_null(strstr(err, where), "%s", err);
	char *was = tu_strf("%.12s:", old);
	cr_expect_null(strstr(err, was), "a commit the remote has was scanned: %s", err);
	free(err);
	head = remote_head(&f, "other");
	cr_expect_str_empty(head);
	free(head);

	/* The remote's old tip is a commit this repository lacks (pushed from elsewhere): what
	 * no tracking ref of the remote reaches is scanned, not a range from an unknown base. */
	ts_sh("git clone -q -b main '%s' '%s/elsewhere' && cd '%s/elsewhere' && echo x > x.txt "
	      "&& " GIT " add x.txt && " GIT " commit -qm elsewhere && git push -q origin main",
	      f.remote, f.dir, f.dir);
	ts_sh("git -C '%s' checkout -q main", f.repo);
	char *forced = ts_git_commit(f.repo, "forced.txt", "forced\n");
	cr_expect_eq(push(&f, "-f origin main", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "1 commit, 1 new file: passed"), "%s", err);
	free(err);
	head = remote_head(&f, "main");
	cr_expect_str_eq(head, forced);
	free(head);
	free(forced);
	free(was);
	free(where);
	free(leak);
	free(feature);
	free(old);
	release(&f);
}

/* More commits than the cap stop the push (exit 4) with the cap named: never a scan of
 * part of them. */
Test(hook, a_push_past_the_commit_cap_is_stopped, .timeout = 120)
{
	struct fixture f = setup_repo(); /* two commits */
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", "--max-commits", "2", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *err = NULL;
	cr_expect_eq(push(&f, "origin main", &err), 0, "%s", err);
	free(err);
	char *good = ts_sh_out("git -C '%s' rev-parse HEAD", f.repo);
	for (int i = 0; i < 3; i++) {
		char *line = tu_strf("line %d\n", i);
		free(ts_git_commit(f.repo, "notes.txt", line));
		free(line);
	}
	cr_expect_neq(push(&f, "origin main", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "more than 2 commits"), "%s", err);
	cr_expect_not_null(strstr(err, "--max-commits"), "%s", err);
	cr_expect_not_null(strstr(err, "not pushed (exit 4)"), "%s", err);
	free(err);
	char *head = remote_head(&f, "main");
	cr_expect_str_eq(head, good);
	free(head);
	free(good);
	release(&f);
}

/* A clone of depth 1 of the remote's main (its own fixture: the same dir and remote), with
 * the hook installed. The clone's one commit is a shallow boundary: its parents are not in
 * it (.git/shallow lists it). */
static struct fixture shallow_clone(const struct fixture *f)
{
	struct fixture s = { .dir = f->dir, .remote = f->remote };
	free(ts_git_commit(f->repo, "third.txt", "three\n"));
	cr_assert_eq(push(f, "-q --no-verify origin main", NULL), 0);
	cr_assert_geq(asprintf(&s.repo, "%s/shallow", f->dir), 0);
	ts_sh("git clone -q --depth 1 -b main 'file://%s' '%s'", f->remote, s.repo);
	cr_assert(tu_exists("%s/.git/shallow", s.repo), "the clone is not shallow");
	struct tu_result r = tu_runner_run(s.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	return s;
}

/* A shallow clone (what CI checkouts usually are) pushes its new commits: the history the
 * remote has stops at the clone's boundary, whose parents the clone lacks. The hook used
 * to fail closed there (exit 4, "object not found") on the most ordinary push, because
 * the walk that leaves the remote's history out read the boundary's missing parents. */
Test(hook, a_shallow_clone_pushes_what_it_brings, .timeout = 180)
{
	struct fixture f = setup_repo();
	struct fixture s = shallow_clone(&f);
	char *mine = ts_git_commit(s.repo, "new.txt", "x\n");
	char *err = NULL;
	cr_expect_eq(push(&s, "origin HEAD:main", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "1 commit, 1 new file: passed"), "%s", err);
	/* The boundary is in the history left out, not in the range: nothing was cut. */
	cr_expect_null(strstr(err, "shallow boundary"), "%s", err);
	free(err);
	char *head = remote_head(&f, "main");
	cr_expect_str_eq(head, mine);
	free(head);

	/* A new branch: what no tracking ref of origin reaches, the boundary left out too. */
	ts_sh("git -C '%s' checkout -q -b topic", s.repo);
	char *topic = ts_git_commit(s.repo, "topic.txt", "topic\n");
	cr_expect_eq(push(&s, "origin topic", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "1 commit, 1 new file: passed"), "%s", err);
	free(err);
	head = remote_head(&f, "topic");
	cr_expect_str_eq(head, topic);
	free(head);

	/* And a key committed and removed again on another new branch is still found. */
	ts_sh("git -C '%s' checkout -q -b leaky main", s.repo);
	char *leak = commit_and_remove_key(&s);
	cr_expect_neq(push(&s, "origin leaky", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "not pushed (exit 3)"), "%s", err);
	char *where = tu_strf("%.12s:key.txt:1:", leak);
	cr_expect_not_null(strstr(err, where), "%s", err);
	free(err);
	head = remote_head(&f, "leaky");
	cr_expect_str_empty(head);
	free(head);
	free(where);
	free(leak);
	free(topic);
	free(mine);
	free(s.repo);
	release(&f);
}

/* A shallow boundary inside the range (a branch fetched with --depth 1 from elsewhere,
 * which the remote does not have yet): the boundary commit is scanned as a root commit,
 * all of its files, so a key that an earlier commit (not in this clone) brought into its
 * tree is found; a note says that the range stops there. */
Test(hook, a_shallow_boundary_in_the_range_is_scanned_whole, .timeout = 180)
{
	struct fixture f = setup_repo();
	struct fixture s = shallow_clone(&f);
	ts_sh("git -C '%s' checkout -q -b feature", f.repo);
	char *key = aws_key_line();
	free(ts_git_commit(f.repo, "key.txt", key));
	char *boundary = ts_git_commit(f.repo, "feature.txt", "feature\n");
	ts_sh("git -C '%s' fetch -q --depth 1 'file://%s' feature:feature", s.repo, f.repo);
	char *shallow = tu_readf("%s/.git/shallow", s.repo);
	cr_assert_not_null(strstr(shallow, boundary), "%s", shallow);
	char *err = NULL;
	cr_expect_neq(push(&s, "origin feature", &err), 0, "%s", err);
	cr_expect_not_null(strstr(err, "not pushed (exit 3)"), "%s", err);
	char *where = tu_strf("%.12s:key.txt:1:", boundary);
	cr_expect_not_null(strstr(err, where), "not scanned as a root commit: %s", err);
	char *note = tu_strf("note: the range stops at a shallow boundary: %.12s", boundary);
	cr_expect_not_null(strstr(err, note), "%s", err);
	cr_expect_null(strstr(err, "Z7QWERTYUIOPASDF"), "the secret was printed: %s", err);
	free(err);
	char *head = remote_head(&f, "feature");
	cr_expect_str_empty(head);
	free(head);
	free(note);
	free(where);
	free(shallow);
	free(boundary);
	free(key);
	free(s.repo);
	release(&f);
}

/* The hook runs the runner it was installed with: when that is gone, the push is stopped
 * (not handed to whatever `runner` comes first on PATH, which could pass it untested). */
Test(hook, a_missing_runner_stops_the_push, .timeout = 60)
{
	struct fixture f = setup_repo();
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *path = tu_strf("%s/.git/hooks/pre-push", f.repo);
	char *hook = tu_readf("%s", path);
	char *at = strstr(hook, "\nrunner=");
	cr_assert_not_null(at);
	char *eol = strchr(at + 1, '\n');
	char *moved = tu_strf("%.*s\nrunner='/nonexistent/runner'%s", (int)(at - hook), hook, eol);
	tu_write(f.repo, ".git/hooks/pre-push", moved);
	cr_assert_eq(chmod(path, 0755), 0);
	tu_write(f.dir, "fakebin/runner", "#!/bin/sh\nexit 0\n");
	char *fake = tu_strf("%s/fakebin/runner", f.dir);
	cr_assert_eq(chmod(fake, 0755), 0);
	char *cmd =
		tu_strf("PATH='%s/fakebin':\"$PATH\" git -C '%s' push origin main 2>'%s/push.err'",
			f.dir, f.repo, f.dir);
	cr_assert_neq(system(cmd), 0, "pushed with the runner gone");
	char *err = tu_readf("%s/push.err", f.dir);
	cr_assert_not_null(strstr(err, "is gone"), "%s", err);
	char *head = remote_head(&f, "main");
	cr_assert_str_eq(head, "");
	free(head);
	free(err);
	free(cmd);
	free(fake);
	free(moved);
	free(hook);
	free(path);
	release(&f);
}

Test(hook, a_foreign_hook_is_left_alone_without_force, .timeout = 60)
{
	struct fixture f = setup_repo();
	static const char mine[] = "#!/bin/sh\necho my own hook\n";
	tu_write(f.repo, ".git/hooks/pre-push", mine);
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "was not written by runner"), "%s", r.err);
	tu_result_free(&r);
	char *now = tu_readf("%s/.git/hooks/pre-push", f.repo);
	cr_assert_str_eq(now, mine);
	free(now);
	r = tu_runner_run(f.repo, "hook", "uninstall", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	cr_assert(tu_exists("%s/.git/hooks/pre-push", f.repo));

	r = tu_runner_run(f.repo, "hook", "install", "--force", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *backup = tu_readf("%s/.git/hooks/pre-push.runner-backup", f.repo);
	cr_assert_str_eq(backup, mine);
	free(backup);
	/* Installing again over our own hook is fine; uninstall removes it. */
	r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0);
	tu_result_free(&r);
	r = tu_runner_run(f.repo, "hook", "uninstall", NULL);
	cr_assert_eq(r.status, 0);
	tu_result_free(&r);
	cr_assert_not(tu_exists("%s/.git/hooks/pre-push", f.repo));
	r = tu_runner_run(f.repo, "hook", "uninstall", NULL);
	cr_assert_eq(r.status, 0, "nothing to remove is not an error");
	tu_result_free(&r);
	/* Outside a repository. */
	r = tu_runner_run(f.dir, "hook", "install", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	release(&f);
}

Test(hook, run_rev_tests_the_commit_in_a_temporary_workspace, .timeout = 60)
{
	struct fixture f = setup_repo();
	char *first = ts_sh_out("git -C '%s' rev-parse HEAD", f.repo);
	free(ts_git_commit(f.repo, "state", "bad\n"));
	ts_sh(GIT " -C '%s' tag v1 '%s'", f.repo, first);
	tu_write(f.repo, "state", "good\n"); /* dirty working tree */

	struct tu_result r = tu_runner_run(f.repo, "run", "--rev", "HEAD", "--no-color", NULL);
	cr_assert_eq(r.status, 1, "HEAD has state=bad: %s", r.out);
	tu_result_free(&r);
	r = tu_runner_run(f.repo, "run", "--rev", "v1", "--branch", "release", "--no-color", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want;
	cr_assert_geq(asprintf(&want, "branch=release commit=%s", first), 0);
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	tu_result_free(&r);
	json_t *report = tu_latest_report(f.repo);
	cr_assert_not_null(report, "the record is in the working tree's .runner");
	json_t *git = json_object_get(report, "git");
	cr_assert_str_eq(json_string_value(json_object_get(git, "commit")), first);
	cr_assert_str_eq(json_string_value(json_object_get(git, "tag")), "v1");
	const char *ws = json_string_value(json_object_get(report, "workspace"));
	cr_assert_neq(strcmp(ws, f.repo), 0, "not the working tree");
	cr_assert_not(tu_exists("%s", ws), "the temporary workspace is removed");
	json_decref(report);

	r = tu_runner_run(f.repo, "run", "--rev", "no-such-rev", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "no such revision"));
	tu_result_free(&r);

	/* A commit without a pipeline: said of the commit, not of the temporary directory
	 * it was written to, with what to do about it. */
	ts_sh("cd '%s' && git rm -q .runner.yml && " GIT " commit -qm 'no pipeline'", f.repo);
	char *bare = ts_sh_out("git -C '%s' rev-parse --short=7 HEAD", f.repo);
	r = tu_runner_run(f.repo, "run", "--rev", "HEAD", "--no-color", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	char *said = tu_strf("commit %s (HEAD) has neither .runner.yml nor runner.yml", bare);
	cr_assert_not_null(strstr(r.err, said), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "--no-verify"), "%s", r.err);
	cr_assert_null(strstr(r.err, "in this directory"), "%s", r.err);
	tu_result_free(&r);
	free(said);
	free(bare);
	free(want);
	free(first);
	release(&f);
}

/* A hook in a repository whose HEAD has no pipeline stops every push: install says so
 * (a warning, exit 0: the pipeline may be committed next), and is quiet once it is
 * committed. */
Test(hook, install_warns_when_head_has_no_pipeline, .timeout = 60)
{
	char *dir = tu_tmpdir();
	ts_sh("git init -q '%s'", dir);
	struct tu_result r = tu_runner_run(dir, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "warning: neither HEAD nor the working tree has a "
					 "pipeline (.runner.yml or runner.yml)"),
			   "%s", r.err);
	tu_result_free(&r);

	tu_write(dir, "runner.yml", passing);
	r = tu_runner_run(dir, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "warning: runner.yml is not committed yet"), "%s", r.err);
	tu_result_free(&r);

	ts_sh("cd '%s' && git add runner.yml && " GIT " commit -qm pipeline", dir);
	r = tu_runner_run(dir, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.err, "warning"), "%s", r.err);
	tu_result_free(&r);

	/* -f names another file: HEAD's runner.yml is not the one the hook runs. */
	r = tu_runner_run(dir, "hook", "install", "-f", "ci/pipeline.yml", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "neither HEAD nor the working tree has "
					 "ci/pipeline.yml"),
			   "%s", r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* The run's tag is found from object headers and tag objects only: a tag may point at a
 * blob of 512 MiB of zeros (about 2 MiB in the repository), which looking up would
 * inflate whole. The tag of a tag counts; the runner's peak resident size stays small. */
Test(hook, a_tag_on_a_huge_blob_is_not_inflated, .timeout = 120)
{
	struct fixture f = setup_repo();
	ts_sh("git -C '%s' tag bomb \"$(head -c 536870912 /dev/zero | git -C '%s' hash-object -w "
	      "--stdin)\"",
	      f.repo, f.repo);
	ts_sh(GIT " -C '%s' tag -a v2 -m two HEAD && " GIT " -C '%s' tag -a v3 -m three v2", f.repo,
	      f.repo);
	static const char *const run_argv[] = { "run", "--no-color", NULL };
	pid_t pid = spawn_quiet(f.repo, NULL, run_argv);
	int st;
	struct rusage ru;
	cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "runner status 0x%x", st);
	cr_assert_lt(ru.ru_maxrss, 256 * 1024, "the runner grew to %ld KiB", ru.ru_maxrss);
	json_t *report = tu_latest_report(f.repo);
	cr_assert_not_null(report);
	json_t *git = json_object_get(report, "git");
	cr_assert_str_eq(json_string_value(json_object_get(git, "tag")), "v3");
	json_decref(report);
	release(&f);
}

/* A foreign hook is recognised as foreign even when it mentions runner's marker in a
 * comment (uninstall leaves it alone), and replacing two foreign hooks in turn keeps both
 * as backups (the second does not overwrite the first's). */
Test(hook, foreign_hooks_are_never_lost, .timeout = 60)
{
	struct fixture f = setup_repo();
	char *hook = tu_strf("%s/.git/hooks/pre-push", f.repo);
	static const char a[] = "#!/bin/sh\n# mentions # runner-managed pre-push hook\nexit 0\n";
	tu_write(f.repo, ".git/hooks/pre-push", a);
	struct tu_result r = tu_runner_run(f.repo, "hook", "uninstall", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *now = tu_read(hook);
	cr_assert_str_eq(now, a, "the foreign hook was removed");
	free(now);
	r = tu_runner_run(f.repo, "hook", "install", "--force", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	/* Another tool writes its own hook again; a second forced install keeps both. */
	static const char b[] = "#!/bin/sh\necho other tool\n";
	tu_write(f.repo, ".git/hooks/pre-push", b);
	r = tu_runner_run(f.repo, "hook", "install", "--force", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *first = tu_readf("%s/.git/hooks/pre-push.runner-backup", f.repo);
	char *second = tu_readf("%s/.git/hooks/pre-push.runner-backup.2", f.repo);
	cr_assert_not_null(first);
	cr_assert_not_null(second, "the second foreign hook was not kept");
	cr_assert_str_eq(first, a);
	cr_assert_str_eq(second, b);
	free(first);
	free(second);
	free(hook);
	release(&f);
}

/* What git writes as <local ref> is the source as the user typed it, spaces included
 * (`HEAD^{/wip 0 broken}`): the hook reads the line from its end. It used to split on
 * spaces, so a "0" in the message made the push look like a deletion (passed untested),
 * and a word that names a revision was tested in place of the pushed commit. */
Test(hook, a_pushed_source_with_spaces_is_tested, .timeout = 120)
{
	struct fixture f = setup_repo();
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	cr_assert_eq(push(&f, "-q origin main", NULL), 0);
	free(ts_git_commit(f.repo, "state", "bad\n"));
	ts_sh(GIT " -C '%s' commit -q --amend -m 'wip 0 broken'", f.repo);
	ts_sh(GIT " -C '%s' commit -q --allow-empty -m 'try main again'", f.repo);
	char *err = NULL;
	cr_expect_neq(push(&f, "origin 'HEAD^{/wip 0 broken}:refs/heads/a'", &err), 0, "%s", err);
	cr_expect_not_null(err && strstr(err, "testing "), "the commit was not tested: %s", err);
	free(err);
	cr_expect_neq(push(&f, "origin 'HEAD^{/try main again}:refs/heads/b'", &err), 0, "%s", err);
	free(err);
	char *a = remote_head(&f, "a"), *b = remote_head(&f, "b");
	cr_expect_str_empty(a, "the broken commit reached the remote as a");
	cr_expect_str_empty(b, "the broken commit reached the remote as b");
	free(a);
	free(b);
	release(&f);
}

/* With --rev, -f names a file of the commit: not through '..', nor through a directory the
 * commit replaced with a symbolic link to elsewhere (whose pipeline, and workspace, used
 * to be used instead); `hook install -f` refuses '..' too. */
Test(hook, run_rev_file_stays_in_the_commit, .timeout = 60)
{
	struct fixture f = setup_repo();
	char *elsewhere = tu_strf("%s/elsewhere", f.dir);
	tu_write(elsewhere, "p.yml", "version: 1\nstages:\n  s: { run: 'true' }\n");
	tu_write(f.dir, "p.yml", "version: 1\nstages:\n  s: { run: 'true' }\n");
	ts_sh("cd '%s' && mkdir ci && printf 'version: 1\\nstages:\\n  s: { run: \"false\" }\\n' "
	      "> ci/p.yml && " GIT " add ci && " GIT " commit -qm ci",
	      f.repo);
	struct tu_result r =
		tu_runner_run(f.repo, "run", "--rev", "HEAD", "-f", "ci/p.yml", "--no-color", NULL);
	cr_expect_eq(r.status, 1, "the commit's own pipeline fails: %s%s", r.out, r.err);
	tu_result_free(&r);
	ts_sh("cd '%s' && git rm -rq ci && ln -s '%s' ci && " GIT " add ci && " GIT
	      " commit -qm swap",
	      f.repo, elsewhere);
	r = tu_runner_run(f.repo, "run", "--rev", "HEAD", "-f", "ci/p.yml", "--no-color", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "leads out of the commit"), "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(f.repo, "run", "--rev", "HEAD", "-f", "../p.yml", "--no-color", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(f.repo, "hook", "install", "-f", "../p.yml", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	free(elsewhere);
	release(&f);
}

/* An interrupt while the commit is being written out leaves no copy of it behind (the
 * handling that stops stages starts later; the export used to stay in TMPDIR). */
Test(hook, an_interrupted_export_leaves_nothing, .timeout = 120)
{
	struct fixture f = setup_repo();
	ts_sh("cd '%s' && head -c 300000000 /dev/zero > big.bin && " GIT " add big.bin && " GIT
	      " commit -qm big",
	      f.repo);
	char *tmp = tu_strf("%s/tmp", f.dir);
	cr_assert_eq(mkdir(tmp, 0755), 0);
	static const char *const rev_argv[] = { "run", "--rev", "HEAD", "--no-color", NULL };
	pid_t pid = spawn_quiet(f.repo, tmp, rev_argv);
	/* As soon as the export's directory exists: the commit is being written out. */
	bool seen = false;
	for (int i = 0; i < 20000 && !seen; i++) {
		char *out = ts_sh_out("ls -A '%s'", tmp);
		seen = out && *out;
		free(out);
		if (!seen) {
			usleep(1000);
		}
	}
	cr_assert(seen, "no export appeared in TMPDIR");
	kill(pid, SIGINT);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "status 0x%x", st);
	cr_expect_not(tu_exists("%s/.runner/runs", f.repo), "the run had started: too late");
	char *left = ts_sh_out("ls -A '%s'", tmp);
	cr_expect_str_empty(left, "left in TMPDIR: %s", left);
	free(left);
	free(tmp);
	release(&f);
}

/* core.hooksPath as git reads it: relative to the git directory of a bare repository (the
 * hook went under the caller's directory, where git never looks); an empty one is
 * refused (git would look for /pre-push). A pre-push that is a symbolic link, even one
 * whose target is missing, is someone else's: kept without --force. */
Test(hook, hooks_path_and_linked_hooks_as_git_sees_them, .timeout = 60)
{
	struct fixture f = setup_repo();
	char *hook = tu_strf("%s/.git/hooks/pre-push", f.repo);
	char *backup = tu_strf("%s.runner-backup", hook);
	ts_sh("git -C '%s' config core.hooksPath ''", f.repo);
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "core.hooksPath is set but empty"), "%s", r.err);
	tu_result_free(&r);
	ts_sh("git -C '%s' config --unset core.hooksPath", f.repo);

	ts_sh("git -C '%s' config core.hooksPath myhooks", f.remote);
	char *cwd = tu_strf("%s/elsewhere", f.dir);
	cr_assert_eq(mkdir(cwd, 0755), 0);
	r = tu_runner_run(cwd, "hook", "install", "-C", f.remote, NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_expect(tu_exists("%s/myhooks/pre-push", f.remote), "not where git looks");
	cr_expect_not(tu_exists("%s/myhooks", cwd), "written under the caller's directory");

	cr_assert_eq(symlink("../../tools/pre-push", hook), 0);
	r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(f.repo, "hook", "uninstall", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	struct stat st;
	cr_expect(lstat(hook, &st) == 0 && S_ISLNK(st.st_mode), "the linked hook was replaced");
	r = tu_runner_run(f.repo, "hook", "install", "--force", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_expect(lstat(backup, &st) == 0 && S_ISLNK(st.st_mode), "the link is kept as the backup");
	free(backup);
	free(hook);
	free(cwd);
	release(&f);
}

/* The hook's run waits for another run of the working tree (--wait, 30m by default): the
 * script says so, install takes another duration, and refuses one that is not. */
Test(hook, the_hook_waits_for_the_working_trees_lock, .timeout = 60)
{
	struct fixture f = setup_repo();
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *hook = tu_readf("%s/.git/hooks/pre-push", f.repo);
	cr_expect_not_null(strstr(hook, "\nwait='30m'\n"), "%s", hook);
	cr_expect_not_null(strstr(hook, "--wait \"$wait\""), "%s", hook);
	free(hook);
	r = tu_runner_run(f.repo, "hook", "install", "--wait", "2h", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	hook = tu_readf("%s/.git/hooks/pre-push", f.repo);
	cr_expect_not_null(strstr(hook, "\nwait='2h'\n"), "%s", hook);
	free(hook);
	static const char *const bad[] = { "soon", "25h", "1m'; rm -rf /; '" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = tu_runner_run(f.repo, "hook", "install", "--wait", bad[i], NULL);
		cr_expect_eq(r.status, 2, "--wait %s: %s", bad[i], r.err);
		cr_expect_not_null(strstr(r.err, "--wait takes a duration"), "%s", r.err);
		tu_result_free(&r);
	}
	hook = tu_readf("%s/.git/hooks/pre-push", f.repo);
	cr_expect_not_null(strstr(hook, "\nwait='2h'\n"), "a refused install changed the hook");
	free(hook);
	r = tu_runner_run(f.repo, "hook", "uninstall", "--wait", "1m", NULL);
	cr_expect_eq(r.status, 2, "%s", r.err);
	tu_result_free(&r);
	release(&f);
}

/* Start `git push ARGS` in f's clone, TMPDIR set to tmpdir (where `runner run --rev` exports
 * the commit), its stderr to the file err. */
static pid_t start_push(const struct fixture *f, const char *tmpdir, const char *err,
			const char *refspec)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || null < 0 || dup2(null, 1) < 0 || dup2(fd, 2) < 0 ||
		    setenv("TMPDIR", tmpdir, 1) < 0) {
			_exit(99);
		}
		execlp("git", "git", "-C", f->repo, "push", "origin", refspec, (char *)NULL);
		_exit(98);
	}
	return pid;
}

/* The one directory under dir whose name starts with prefix and that holds name (NULL when
 * none does yet). */
static char *find_in_subdir(const char *dir, const char *prefix, const char *name)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	char *found = NULL;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    tu_exists("%s/%s/%s", dir, de->d_name, name)) {
			found = tu_strf("%s/%s", dir, de->d_name);
		}
	}
	closedir(d);
	return found;
}

/* Two pushes at once from one clone (real `git push`es to a local bare remote, each through
 * the hook): the second's run waits for the first's to end (they share the working tree's
 * record and its lock) and both are pushed, rather than the second being stopped with exit
 * 4. Synchronised on files: the first's stage, in the workspace its commit was exported to,
 * creates `started` and waits (bounded) for `release`, which the test creates once the
 * second push says it is waiting (or has ended, which the test then reports). */
Test(hook, two_pushes_at_once_from_one_clone_both_go_through, .timeout = 180)
{
	struct fixture f = setup_repo();
	tu_write(f.repo, ".runner.yml",
		 "version: 1\n"
		 "stages:\n"
		 "  check:\n"
		 "    run: |\n"
		 "      if [ \"$RUNNER_BRANCH\" = first ]; then\n"
		 "        echo > started\n"
		 "        i=0\n"
		 "        while [ ! -e release ] && [ $i -lt 2400 ]; do sleep 0.05; "
		 "i=$((i+1)); done\n"
		 "        test -e release\n"
		 "      fi\n");
	ts_sh("cd '%s' && git add .runner.yml && " GIT " commit -qm hold", f.repo);
	struct tu_result r = tu_runner_run(f.repo, "hook", "install", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	char *tmp1 = tu_tmpdir(), *tmp2 = tu_tmpdir();
	char *err1 = tu_strf("%s/push1.err", f.dir), *err2 = tu_strf("%s/push2.err", f.dir);

	pid_t first = start_push(&f, tmp1, err1, "HEAD:refs/heads/first");
	char *ws = NULL;
	for (int i = 0; i < 12000 && !ws; i++) {
		int st;
		cr_assert_eq(waitpid(first, &st, WNOHANG), 0, "the first push ended:\n%s",
			     tu_read(err1));
		ws = find_in_subdir(tmp1, "runner-rev", "started");
		if (!ws) {
			usleep(10000);
		}
	}
	cr_assert_not_null(ws, "the first push's stage never started:\n%s", tu_read(err1));

	pid_t second = start_push(&f, tmp2, err2, "HEAD:refs/heads/second");
	int st2 = -1;
	for (int i = 0; i < 12000; i++) {
		char *e = tu_read(err2);
		bool waiting = e && strstr(e, "waiting for it to end");
		free(e);
		if (waiting || waitpid(second, &st2, WNOHANG) == second) {
			break;
		}
		usleep(10000);
	}
	tu_write(ws, "release", "");
	int st1;
	cr_assert_eq(waitpid(first, &st1, 0), first);
	if (st2 == -1) {
		cr_assert_eq(waitpid(second, &st2, 0), second);
	}
	char *e1 = tu_read(err1), *e2 = tu_read(err2);
	cr_expect(WIFEXITED(st1) && WEXITSTATUS(st1) == 0, "first push:\n%s", e1);
	cr_expect(WIFEXITED(st2) && WEXITSTATUS(st2) == 0, "second push:\n%s", e2);
	cr_expect_not_null(strstr(e2, "is using this workspace; waiting for it to end"), "%s", e2);
	char *head = ts_sh_out("git -C '%s' rev-parse HEAD", f.repo);
	char *h1 = remote_head(&f, "first"), *h2 = remote_head(&f, "second");
	cr_expect_str_eq(h1, head);
	cr_expect_str_eq(h2, head);
	free(h1);
	free(h2);
	free(head);
	free(e1);
	free(e2);
	free(ws);
	free(err1);
	free(err2);
	tu_rmdir(tmp1);
	tu_rmdir(tmp2);
	free(tmp1);
	free(tmp2);
	release(&f);
}
