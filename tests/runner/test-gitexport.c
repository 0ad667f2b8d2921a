/*
 * test-gitexport.c - exporting a commit's tree with libgit2 from real repositories made
 * with git: exact bytes (no CRLF or other filters), symlinks, executable bits, the exact
 * commit (not the working tree), and clear errors for missing or malformed commits.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "gitexport.h"
#include "util.h"
#include "testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIT "git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main"

static char *sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char buf[256] = "";
	cr_assert_not_null(p);
	if (!fgets(buf, sizeof(buf), p)) {
		buf[0] = '\0';
	}
	cr_assert_eq(pclose(p), 0, "%s", cmd);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
}

/* The first line a shell command prints (formatted like sh()). */
static char *ts_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *ts_out(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	char *out = sh_out(cmd);
	free(cmd);
	return out;
}

static char *make_repo(char **first)
{
	char *dir = tu_tmpdir();
	sh(GIT " init -q '%s'", dir);
	tu_write(dir, "a.txt", "line one\nline two\n");
	tu_write(dir, "sub/dir/b.bin", "\x01\x02\r\n\x03");
	tu_write(dir, "crlf.txt", "unix\nlines\n");
	tu_write(dir, ".gitattributes", "crlf.txt text eol=crlf\n");
	tu_write(dir, "run.sh", "#!/bin/sh\necho hi\n");
	sh("chmod +x '%s/run.sh' && ln -s a.txt '%s/link'", dir, dir);
	sh(GIT " -C '%s' add -A && " GIT " -C '%s' commit -qm one", dir, dir);
	char *cmd;
	cr_assert_geq(asprintf(&cmd, "git -C '%s' rev-parse HEAD", dir), 0);
	*first = sh_out(cmd);
	free(cmd);
	/* A second commit, and a dirty working tree on top. */
	tu_write(dir, "a.txt", "changed in the second commit\n");
	sh(GIT " -C '%s' commit -qam two", dir);
	tu_write(dir, "a.txt", "dirty, not committed\n");
	return dir;
}

Test(gitexport, exports_the_exact_tree_of_a_commit)
{
	char *first;
	char *repo = make_repo(&first);
	char *dest = tu_tmpdir();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(repo, first, dest, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	char *a = tu_readf("%s/a.txt", dest);
	cr_assert_str_eq(a, "line one\nline two\n", "the commit, not the working tree");
	char *crlf = tu_readf("%s/crlf.txt", dest);
	cr_assert_str_eq(crlf, "unix\nlines\n", "no eol conversion: the bytes in git");
	char *bin = tu_readf("%s/sub/dir/b.bin", dest);
	cr_assert_eq(memcmp(bin, "\x01\x02\r\n\x03", 5), 0);
	struct stat st;
	char *p;
	cr_assert_geq(asprintf(&p, "%s/run.sh", dest), 0);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert(st.st_mode & S_IXUSR, "executable bit kept");
	free(p);
	cr_assert_geq(asprintf(&p, "%s/link", dest), 0);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	char target[64] = "";
	cr_assert_eq(readlink(p, target, sizeof(target) - 1), 5);
	cr_assert_str_eq(target, "a.txt");
	free(p);
	cr_assert_not(tu_exists("%s/.git", dest), "an export, not a clone");

	char *buf;
	size_t len;
	cr_assert_eq(gitexport_read_file(repo, first, "sub/dir/b.bin", 100, &buf, &len), 0);
	cr_assert_eq(len, 5);
	free(buf);
	cr_assert_eq(gitexport_read_file(repo, first, "nope.txt", 100, &buf, &len), -ENOENT);
	cr_assert_eq(gitexport_read_file(repo, first, "a.txt", 4, &buf, &len), -EFBIG);

	/* The list of its files (what the scans take as tracked): every blob, links too, no
	 * directories, each ended by a NUL; never over an existing file. */
	char *list = tu_strf("%s/files", dest);
	cr_assert_eq(gitexport_write_file_list(repo, first, list), 0);
	cr_assert_eq(read_file_capped(list, 4096, &buf, &len), 0);
	static const char want[] = ".gitattributes\0a.txt\0crlf.txt\0link\0run.sh\0"
				   "sub/dir/b.bin\0";
	cr_assert_eq(len, sizeof(want) - 1);
	cr_assert_eq(memcmp(buf, want, len), 0);
	free(buf);
	cr_assert_eq(gitexport_write_file_list(repo, first, list), -EEXIST);
	free(list);

	free(a);
	free(crlf);
	free(bin);
	diag_list_release(&dl);
	tu_rmdir(repo);
	tu_rmdir(dest);
	free(repo);
	free(dest);
	free(first);
}

/* A commit of trees nested deeper than GITEXPORT_MAX_DEPTH is refused before anything is
 * written (a hundred thousand levels, a few MB of objects, overflowed libgit2's stack). */
Test(gitexport, trees_nested_too_deep_are_refused)
{
	char *first;
	char *repo = make_repo(&first);
	char *cmd = tu_strf("cd '%s' && echo x | git hash-object -w --stdin", repo);
	char *blob = sh_out(cmd);
	free(cmd);
	cmd = tu_strf("cd '%s' && printf '100644 blob %s\\tf\\n' | git mktree", repo, blob);
	char *tree = sh_out(cmd);
	free(cmd);
	free(blob);
	for (unsigned i = 0; i < GITEXPORT_MAX_DEPTH + 10; i++) {
		cmd = tu_strf("cd '%s' && printf '040000 tree %s\\td\\n' | git mktree", repo, tree);
		char *t = sh_out(cmd);
		free(cmd);
		free(tree);
		tree = t;
	}
	cmd = tu_strf("cd '%s' && " GIT " commit-tree %s -m deep", repo, tree);
	char *commit = sh_out(cmd);
	free(cmd);
	char *dest = tu_tmpdir();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(repo, commit, dest, &dl), -EFBIG);
	cr_assert(dl.n && strstr(dl.v[0].msg, "levels deep"), "%s", dl.n ? dl.v[0].msg : "");
	diag_list_release(&dl);
	char *d = tu_strf("%s/d", dest);
	struct stat st;
	cr_assert_neq(stat(d, &st), 0, "nothing was written");
	free(d);
	free(commit);
	free(tree);
	free(first);
	tu_rmdir(repo);
	tu_rmdir(dest);
	free(repo);
	free(dest);
}

Test(gitexport, missing_and_malformed_commits)
{
	char *first;
	char *repo = make_repo(&first);
	char *dest = tu_tmpdir();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(repo, "0123456789012345678901234567890123456789", dest, &dl),
		     -ENOENT);
	cr_assert_not_null(strstr(dl.v[0].msg, "does not exist"));
	diag_list_release(&dl);
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(repo, "HEAD", dest, &dl), -EINVAL, "names are not ids");
	cr_assert_eq(gitexport_commit(repo, "0123456", dest, &dl), -EINVAL, "nor short ids");
	diag_list_release(&dl);
	cr_assert(gitexport_is_full_sha(first));
	cr_assert_not(gitexport_is_full_sha("0123456"));
	cr_assert_not(gitexport_is_full_sha("g123456789012345678901234567890123456789"));
	/* resolve() takes any revision, from inside the working tree. */
	char commit[41];
	char *wd = NULL;
	diag_list_init(&dl, 10);
	char *sub;
	cr_assert_geq(asprintf(&sub, "%s/sub", repo), 0);
	cr_assert_eq(gitexport_resolve(sub, "HEAD~1", commit, &wd, &dl), 0);
	cr_assert_str_eq(commit, first);
	cr_assert_not_null(wd);
	cr_assert_eq(gitexport_resolve(sub, "no-such-branch", commit, NULL, &dl), -ENOENT);
	diag_list_release(&dl);
	free(sub);
	free(wd);
	tu_rmdir(repo);
	tu_rmdir(dest);
	free(repo);
	free(dest);
	free(first);
}

/* A file larger than the caller's cap is refused from its object's header, before anything
 * of it is inflated: 192 MiB of zeros is a git object of about 200 KiB, and `runner serve`
 * reads the pipeline file of any pushed commit this way. Measured in a child by its peak
 * resident size. */
Test(gitexport, an_oversized_file_is_refused_before_it_is_inflated, .timeout = 120)
{
	char *dir = tu_tmpdir();
	sh(GIT " init -q '%s' && head -c 201326592 /dev/zero >'%s/.runner.yml' && " GIT
	       " -C '%s' add -A && " GIT " -C '%s' commit -qm big",
	   dir, dir, dir, dir);
	char *cmd;
	cr_assert_geq(asprintf(&cmd, "git -C '%s' rev-parse HEAD", dir), 0);
	char *head = sh_out(cmd);
	free(cmd);
	sh("rm '%s/.runner.yml'", dir); /* only the object is left */
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rusage before, after;
		getrusage(RUSAGE_SELF, &before);
		char *buf = NULL;
		size_t len = 0;
		int r = gitexport_read_file(dir, head, ".runner.yml", 1 << 20, &buf, &len);
		getrusage(RUSAGE_SELF, &after);
		long grew_mib = (after.ru_maxrss - before.ru_maxrss) / 1024;
		_exit(r != -EFBIG ? 10 : grew_mib >= 64 ? 11 : 0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_neq(WEXITSTATUS(st), 10, "the oversized file was not refused");
	cr_assert_neq(WEXITSTATUS(st), 11, "the oversized file was inflated before it was refused");
	cr_assert_eq(WEXITSTATUS(st), 0);
	tu_rmdir(dir);
	free(dir);
	free(head);
}

/* A commit object above GITEXPORT_MAX_COMMIT_BYTES (here a 64 MiB message, a few hundred
 * KiB in the repository) is refused from its header, for the export and for a file of it,
 * before it is inflated; one just under the cap is exported. */
Test(gitexport, an_oversized_commit_is_refused, .timeout = 120)
{
	char *first;
	char *repo = make_repo(&first);
	char *big = ts_out("head -c 67108864 /dev/zero | tr '\\0' x | " GIT
			   " -C '%s' commit-tree '%s^{tree}' -F -",
			   repo, first);
	char *fine = ts_out("head -c 1048576 /dev/zero | tr '\\0' x | " GIT
			    " -C '%s' commit-tree '%s^{tree}' -F -",
			    repo, first);
	char *dest = tu_tmpdir();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(repo, big, dest, &dl), -EFBIG);
	cr_assert_not_null(strstr(dl.v[0].msg, "larger than 16 MiB"), "%s", dl.v[0].msg);
	diag_list_release(&dl);
	char *buf = NULL;
	size_t len;
	cr_assert_eq(gitexport_read_file(repo, big, "a.txt", 100, &buf, &len), -EFBIG);
	cr_assert_null(buf);
	char *dest2 = tu_tmpdir();
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(repo, fine, dest2, &dl), 0);
	diag_list_release(&dl);
	tu_rmdir(repo);
	tu_rmdir(dest);
	tu_rmdir(dest2);
	free(repo);
	free(dest);
	free(dest2);
	free(big);
	free(fine);
	free(first);
}

/* Tree objects above GITEXPORT_MAX_TREE_BYTES (here 1.5 million entries with 80-byte names:
 * 162 MB inflated, 4 MB in the repository) are refused from their header, at the root or
 * below it, for the export and for a file under them, before they are inflated: measured
 * in a child by its peak resident size. */
Test(gitexport, an_oversized_tree_is_refused_before_it_is_inflated, .timeout = 240)
{
	char *dir = tu_tmpdir();
	sh(GIT " init -q '%s'", dir);
	char *blob = ts_out("echo x | git -C '%s' hash-object -w --stdin", dir);
	char *big = ts_out("awk 'BEGIN { for (i = 0; i < 1500000; i++) printf \"100644 blob "
			   "%s\\t%%080d\\n\", i }' "
			   "| git -C '%s' mktree",
			   blob, dir);
	char *root = ts_out(
		"printf '100644 blob %s\\ta.txt\\n040000 tree %s\\tsub\\n' | git -C '%s' mktree",
		blob, big, dir);
	char *below = ts_out(GIT " -C '%s' commit-tree %s -m below", dir, root);
	char *top = ts_out(GIT " -C '%s' commit-tree %s -m top", dir, big);
	char *dest = tu_tmpdir();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(gitexport_commit(dir, top, dest, &dl), -EFBIG);
	cr_assert_not_null(strstr(dl.v[0].msg, "a tree object is larger than 128 MiB"), "%s",
			   dl.v[0].msg);
	diag_list_release(&dl);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rusage before, after;
		getrusage(RUSAGE_SELF, &before);
		struct diag_list cdl;
		diag_list_init(&cdl, 10);
		int r1 = gitexport_commit(dir, below, dest, &cdl);
		char *buf = NULL;
		size_t len = 0;
		int r2 = gitexport_read_file(dir, below,
					     "sub/"
					     "00000000000000000000000000000000000000000000000000000"
					     "000000000000000000000000001",
					     100, &buf, &len);
		int r3 = gitexport_read_file(dir, below, "a.txt", 100, &buf, &len);
		getrusage(RUSAGE_SELF, &after);
		long grew_mib = (after.ru_maxrss - before.ru_maxrss) / 1024;
		_exit(r1 != -EFBIG     ? 10
		      : r2 != -EFBIG   ? 11
		      : r3 != 0	       ? 12
		      : grew_mib >= 64 ? 13
				       : 0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0,
		     "10: export not refused, 11: file under it not refused, 12: a file beside it "
		     "not read, 13: the tree was inflated; got %d",
		     WEXITSTATUS(st));
	tu_rmdir(dir);
	tu_rmdir(dest);
	free(dir);
	free(dest);
	free(blob);
	free(big);
	free(root);
	free(below);
	free(top);
}
