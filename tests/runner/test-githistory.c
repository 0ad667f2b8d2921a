/*
 * test-githistory.c - the blobs a range of commits brings, from real repositories made
 * with git: each blob once with every commit and path that brought it, ranges and the
 * remote-tracking refs left out, merges (only what the merge itself wrote), links in and
 * submodules out, shallow boundaries (a root in the range, an end in the history left out),
 * dates out of order, each cap failing the whole collection (the walk's too), and the
 * files written back (as a tree, and as a pack unpacked to the same tree).
 */
#include <criterion/criterion.h>

#include "blobpack.h"
#include "diag.h"
#include "githistory.h"
#include "testserve.h"
#include "util.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GIT "git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main"

/* Write file in repo and commit everything; returns the commit. */
static char *commit(const char *repo, const char *file, const char *content, const char *msg)
{
	if (file) {
		tu_write(repo, file, content);
	}
	ts_sh("cd '%s' && " GIT " add -A && " GIT " commit -q --allow-empty -m '%s'", repo, msg);
	return ts_sh_out("git -C '%s' rev-parse HEAD", repo);
}

static char *blob_id(const char *repo, const char *content)
{
	return ts_sh_out("printf '%%s' '%s' | git -C '%s' hash-object --stdin", content, repo);
}

static const struct githistory_limits roomy = { 1000, 1000, 1u << 20 };

static int collect(const char *repo, const char *tip, const char *base, const char *remote,
		   const struct githistory_limits *lim, struct githistory *h, struct diag_list *dl)
{
	struct githistory_range r = { .tip = tip, .base = base, .not_remote = remote };
	return githistory_collect(repo, &r, lim ? lim : &roomy, NULL, NULL, h, dl);
}

static const struct githistory_blob *find(const struct githistory *h, const char *id)
{
	for (size_t i = 0; i < h->n_blobs; i++) {
		if (strcmp(h->blobs[i]->id, id) == 0) {
			return h->blobs[i];
		}
	}
	return NULL;
}

static bool has_place(const struct githistory_blob *b, const char *commit, const char *path)
{
	for (size_t i = 0; b && i < b->n_places; i++) {
		if (strcmp(b->places[i].commit, commit) == 0 &&
		    strcmp(b->places[i].path, path) == 0) {
			return true;
		}
	}
	return false;
}

static const char *msg(const struct diag_list *dl)
{
	return dl->n ? dl->v[0].msg : "";
}

struct repo {
	char *dir;
	char *c1, *c2, *c3, *c4;
};

/* c1: a.txt (one), b.txt; c2: a.txt (two); c3: a.txt back to one; c4: c.txt, a copy of
 * one, and b.txt removed. */
static struct repo make_repo(void)
{
	struct repo r;
	r.dir = tu_tmpdir();
	ts_sh(GIT " init -q '%s'", r.dir);
	tu_write(r.dir, "b.txt", "bee");
	r.c1 = commit(r.dir, "a.txt", "one", "c1");
	r.c2 = commit(r.dir, "a.txt", "two", "c2");
	r.c3 = commit(r.dir, "a.txt", "one", "c3");
	ts_sh("rm '%s/b.txt'", r.dir);
	r.c4 = commit(r.dir, "c.txt", "one", "c4");
	return r;
}

static void repo_free(struct repo *r)
{
	tu_rmdir(r->dir);
	free(r->dir);
	free(r->c1);
	free(r->c2);
	free(r->c3);
	free(r->c4);
}

Test(githistory, each_blob_once_with_every_place_that_brought_it)
{
	struct repo r = make_repo();
	char *one = blob_id(r.dir, "one"), *two = blob_id(r.dir, "two"),
	     *bee = blob_id(r.dir, "bee");
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(r.dir, "HEAD", NULL, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 4);
	cr_expect_eq(h.n_blobs, 3, "one, two and bee, each once: %zu", h.n_blobs);
	const struct githistory_blob *b = find(&h, one);
	cr_assert_not_null(b);
	cr_expect_eq(b->n_places, 3);
	cr_expect(has_place(b, r.c1, "a.txt"));
	cr_expect(has_place(b, r.c3, "a.txt"), "brought back by c3");
	cr_expect(has_place(b, r.c4, "c.txt"), "copied by c4");
	cr_expect_str_eq(b->places[0].commit, r.c1, "the oldest first");
	cr_expect(has_place(find(&h, two), r.c2, "a.txt"));
	cr_expect(has_place(find(&h, bee), r.c1, "b.txt"));
	cr_expect_eq(h.bytes, 3 + 3 + 3);
	cr_expect_str_eq(h.tip, r.c4);
	githistory_release(&h);

	/* BASE..TIP: what BASE reaches is left out; a removal brings nothing. */
	cr_assert_eq(collect(r.dir, r.c4, r.c2, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 2);
	cr_expect_eq(h.n_blobs, 1);
	b = find(&h, one);
	cr_assert_not_null(b);
	cr_expect_eq(b->n_places, 2);
	cr_expect(has_place(b, r.c3, "a.txt"));
	cr_expect(has_place(b, r.c4, "c.txt"));
	cr_expect_str_eq(h.base, r.c2);
	githistory_release(&h);

	/* An empty range brings nothing. */
	cr_assert_eq(collect(r.dir, r.c4, r.c4, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 0);
	cr_expect_eq(h.n_blobs, 0);
	githistory_release(&h);
	diag_list_release(&dl);
	free(one);
	free(two);
	free(bee);
	repo_free(&r);
}

/* --not-remote NAME leaves out what refs/remotes/NAME/... reach, and nothing else: a
 * remote whose name starts the same is another remote. */
Test(githistory, the_tracking_refs_of_one_remote_are_left_out)
{
	struct repo r = make_repo();
	ts_sh("git -C '%s' update-ref refs/remotes/origin/main '%s'", r.dir, r.c2);
	ts_sh("git -C '%s' update-ref refs/remotes/origin-old/main '%s'", r.dir, r.c4);
	ts_sh("git -C '%s' update-ref refs/heads/origin/trap '%s'", r.dir, r.c4);
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(r.dir, "HEAD", NULL, "origin", NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 2, "c3 and c4: %zu", h.n_commits);
	githistory_release(&h);
	cr_assert_eq(collect(r.dir, "HEAD", NULL, "origin-old", NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 0);
	githistory_release(&h);
	/* A remote without tracking refs leaves out nothing. */
	cr_assert_eq(collect(r.dir, "HEAD", NULL, "elsewhere", NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 4);
	githistory_release(&h);
	diag_list_release(&dl);
	repo_free(&r);
}

/* A server's mirror: what the refs under a prefix reach is left out (the tips earlier
 * scans covered), and nothing else: no other branch, tag, remote-tracking ref or pull
 * request head; a tag's annotated object under the prefix is peeled to its commit. */
Test(githistory, what_refs_under_a_prefix_reach_is_left_out)
{
	struct repo r = make_repo();
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct githistory_range rg = { .tip = r.c4, .not_under = "refs/runner/scanned/" };
	ts_sh("git -C '%s' update-ref refs/remotes/origin/main '%s'", r.dir, r.c3);
	ts_sh("git -C '%s' update-ref refs/pull/7/head '%s'", r.dir, r.c3);
	ts_sh("git -C '%s' update-ref refs/heads/old '%s'", r.dir, r.c2);
	ts_sh("cd '%s' && " GIT " tag -a -m t v1 '%s'", r.dir, r.c3);
	ts_sh("git -C '%s' update-ref refs/runner/scannedX '%s'", r.dir, r.c3);
	cr_assert_eq(githistory_collect(r.dir, &rg, &roomy, NULL, NULL, &h, &dl), 0, "%s",
		     msg(&dl));
	cr_expect_eq(h.n_commits, 4, "only refs under the prefix hide: %zu", h.n_commits);
	githistory_release(&h);
	ts_sh("git -C '%s' update-ref refs/runner/scanned/heads/old '%s'", r.dir, r.c1);
	cr_assert_eq(githistory_collect(r.dir, &rg, &roomy, NULL, NULL, &h, &dl), 0, "%s",
		     msg(&dl));
	cr_expect_eq(h.n_commits, 3, "c2, c3 and c4: %zu", h.n_commits);
	githistory_release(&h);
	ts_sh("cd '%s' && " GIT
	      " tag -a -m t v2 '%s' && git update-ref refs/runner/scanned/tags/v2 "
	      "refs/tags/v2",
	      r.dir, r.c2);
	cr_assert_eq(githistory_collect(r.dir, &rg, &roomy, NULL, NULL, &h, &dl), 0, "%s",
		     msg(&dl));
	cr_expect_eq(h.n_commits, 2, "c3 and c4: %zu", h.n_commits);
	githistory_release(&h);
	ts_sh("git -C '%s' update-ref refs/runner/scanned/heads/main '%s'", r.dir, r.c4);
	cr_assert_eq(githistory_collect(r.dir, &rg, &roomy, NULL, NULL, &h, &dl), 0, "%s",
		     msg(&dl));
	cr_expect_eq(h.n_commits, 0, "the tip itself: %zu", h.n_commits);
	githistory_release(&h);
	diag_list_release(&dl);
	repo_free(&r);
}

/* A merge brings what it wrote itself (a conflict's resolution), not what one of its
 * parents already had. */
Test(githistory, a_merge_brings_only_what_it_wrote)
{
	char *dir = tu_tmpdir();
	ts_sh(GIT " init -q '%s'", dir);
	char *base = commit(dir, "a.txt", "base", "base");
	ts_sh("git -C '%s' checkout -q -b side", dir);
	free(commit(dir, "side.txt", "side", "side"));
	ts_sh("git -C '%s' checkout -q main", dir);
	free(commit(dir, "main.txt", "main", "main"));
	ts_sh("cd '%s' && " GIT " merge -q --no-edit side", dir);
	char *clean = ts_sh_out("git -C '%s' rev-parse HEAD", dir);
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	char *range_base = strdup(base);
	cr_assert_eq(collect(dir, clean, range_base, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 3);
	cr_expect_eq(h.n_blobs, 2, "side.txt and main.txt: %zu", h.n_blobs);
	for (size_t i = 0; i < h.n_blobs; i++) {
		const struct githistory_blob *b = h.blobs[i];
		cr_expect_eq(b->n_places, 1, "%s: %zu places", b->places[0].path, b->n_places);
		for (size_t k = 0; k < b->n_places; k++) {
			cr_expect_str_neq(b->places[k].commit, clean, "the merge brought %s",
					  b->places[k].path);
		}
	}
	githistory_release(&h);

	/* A merge that writes a file of its own: that file is the merge's. */
	ts_sh("git -C '%s' checkout -q -b other '%s'", dir, base);
	free(commit(dir, "o.txt", "o", "other"));
	ts_sh("cd '%s' && git checkout -q main && " GIT " merge -q --no-commit other && "
	      "printf evil > evil.txt && " GIT " add evil.txt && " GIT " commit -q --no-edit",
	      dir);
	char *evil = ts_sh_out("git -C '%s' rev-parse HEAD", dir);
	cr_assert_eq(collect(dir, evil, clean, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	char *evil_id = blob_id(dir, "evil");
	const struct githistory_blob *b = find(&h, evil_id);
	cr_expect(has_place(b, evil, "evil.txt"));
	char *o_id = blob_id(dir, "o");
	cr_expect_not(has_place(find(&h, o_id), evil, "o.txt"), "o.txt came with its own commit");
	free(o_id);
	cr_expect_eq(h.n_blobs, 2, "o.txt (its commit) and evil.txt (the merge): %zu", h.n_blobs);
	githistory_release(&h);
	diag_list_release(&dl);
	free(evil_id);
	free(evil);
	free(range_base);
	free(clean);
	free(base);
	tu_rmdir(dir);
	free(dir);
}

/* A symbolic link's target is a blob of the history too; a submodule's commit is not. */
Test(githistory, links_count_and_submodules_do_not)
{
	char *dir = tu_tmpdir();
	ts_sh(GIT " init -q '%s'", dir);
	char *first = commit(dir, "a.txt", "a", "first");
	ts_sh("ln -s target-text '%s/link' && cd '%s' && git update-index --add --cacheinfo "
	      "160000,%s,sub",
	      dir, dir, first);
	ts_sh("cd '%s' && git add link && " GIT " commit -qm second", dir);
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(dir, "HEAD", first, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_blobs, 1, "the link alone: %zu", h.n_blobs);
	char *target = blob_id(dir, "target-text");
	cr_expect_not_null(find(&h, target));
	githistory_release(&h);
	diag_list_release(&dl);
	free(target);
	free(first);
	tu_rmdir(dir);
	free(dir);
}

/* Each cap stops the collection with an error that names it: nothing is listed in part. */
Test(githistory, every_cap_fails_the_whole_range)
{
	struct repo r = make_repo();
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct githistory_limits lim = { 3, 1000, 1u << 20 };
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, &lim, &h, &dl), -E2BIG);
	cr_expect_not_null(strstr(msg(&dl), "more than 3 commits"), "%s", msg(&dl));
	githistory_release(&h);
	lim = (struct githistory_limits){ 4, 1000, 1u << 20 };
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, &lim, &h, &dl), 0);
	githistory_release(&h);

	diag_list_release(&dl);
	diag_list_init(&dl, 10);
	lim = (struct githistory_limits){ 1000, 2, 1u << 20 };
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, &lim, &h, &dl), -E2BIG);
	cr_expect_not_null(strstr(msg(&dl), "more than 2 files"), "%s", msg(&dl));
	githistory_release(&h);

	diag_list_release(&dl);
	diag_list_init(&dl, 10);
	lim = (struct githistory_limits){ 1000, 1000, 8 };
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, &lim, &h, &dl), -E2BIG);
	cr_expect_not_null(strstr(msg(&dl), "cap on their size"), "%s", msg(&dl));
	githistory_release(&h);
	lim = (struct githistory_limits){ 1000, 3, 9 };
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, &lim, &h, &dl), 0, "exactly at the caps");
	githistory_release(&h);

	/* The walk's cap: c4, c3, c2 and the base c1 are four commits to read. */
	diag_list_release(&dl);
	diag_list_init(&dl, 10);
	lim = (struct githistory_limits){ 1000, 1000, 1u << 20, 3 };
	cr_expect_eq(collect(r.dir, "HEAD", r.c1, NULL, &lim, &h, &dl), -E2BIG);
	cr_expect_not_null(strstr(msg(&dl), "more than 3 commits to read"), "%s", msg(&dl));
	cr_expect_not_null(strstr(msg(&dl), "the walk's cap"), "%s", msg(&dl));
	githistory_release(&h);
	lim = (struct githistory_limits){ 1000, 1000, 1u << 20, 4 };
	cr_expect_eq(collect(r.dir, "HEAD", r.c1, NULL, &lim, &h, &dl), 0, "%s", msg(&dl));
	githistory_release(&h);

	/* Not a repository, or a revision that names no commit: usage errors. */
	char *elsewhere = tu_tmpdir();
	cr_expect_eq(collect(elsewhere, "HEAD", NULL, NULL, NULL, &h, &dl), -ENOENT);
	githistory_release(&h);
	cr_expect_eq(collect(r.dir, "HEAD", "no-such-rev", NULL, NULL, &h, &dl), -ENOENT);
	githistory_release(&h);
	char *tree = ts_sh_out("git -C '%s' rev-parse HEAD^{tree}", r.dir);
	cr_expect_eq(collect(r.dir, tree, NULL, NULL, NULL, &h, &dl), -ENOENT);
	githistory_release(&h);
	diag_list_release(&dl);
	free(tree);
	tu_rmdir(elsewhere);
	free(elsewhere);
	repo_free(&r);
}

/* A shallow clone: a commit its shallow file lists has no parents here (as git takes it).
 * In the range, it is scanned as a root commit (every file of its tree); in the history
 * left out, the walk stops there. The walk used to read the missing parents and fail. */
Test(githistory, a_shallow_boundary_is_a_root)
{
	struct repo r = make_repo();
	char *clone = tu_strf("%s/clone", r.dir);
	ts_sh("git clone -q --depth 2 'file://%s' '%s'", r.dir, clone);
	char *one = blob_id(r.dir, "one"), *bee = blob_id(r.dir, "bee");
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(clone, "HEAD", NULL, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 2, "c3 and c4: %zu", h.n_commits);
	cr_expect_eq(h.n_blobs, 2, "one and bee (c3's whole tree): %zu", h.n_blobs);
	cr_expect_eq(h.n_shallow, 1);
	cr_expect_str_eq(h.shallow, r.c3);
	cr_expect(has_place(find(&h, one), r.c3, "a.txt"));
	cr_expect(has_place(find(&h, bee), r.c3, "b.txt"));
	cr_expect(has_place(find(&h, one), r.c4, "c.txt"));
	githistory_release(&h);
	/* The boundary in the history left out: the walk stops there too. */
	cr_assert_eq(collect(clone, "HEAD", r.c3, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 1);
	cr_expect_eq(h.n_shallow, 0, "the range does not stop there");
	githistory_release(&h);
	cr_assert_eq(collect(clone, "HEAD", NULL, "origin", NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 0);
	githistory_release(&h);

	/* git takes the file as it is: a full repository whose file lists c2 stops there. */
	char *list = tu_strf("%s\n", r.c2);
	tu_write(r.dir, ".git/shallow", list);
	free(list);
	cr_assert_eq(collect(r.dir, "HEAD", NULL, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 3, "c2, c3 and c4: %zu", h.n_commits);
	cr_expect(has_place(find(&h, bee), r.c2, "b.txt"), "c2 is a root");
	cr_expect_eq(h.n_shallow, 1);
	githistory_release(&h);
	diag_list_release(&dl);
	free(one);
	free(bee);
	free(clone);
	repo_free(&r);
}

/* A shallow file that is not a list of commit ids, or is too large, stops the walk with
 * an error that names it; a missing parent of a commit it does not list is an error (an
 * incomplete repository), not a boundary. */
Test(githistory, a_bad_shallow_file_or_a_missing_parent_is_an_error)
{
	struct repo r = make_repo();
	struct githistory h;
	struct diag_list dl;
	static const char *const bad[] = {
		"zz23456789012345678901234567890123456789\n",
		"0123456789012345678901234567890123456789\r\n",
		"012345678901234567890123456789012345678\n",
		"\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_list_init(&dl, 10);
		tu_write(r.dir, ".git/shallow", bad[i]);
		cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, NULL, &h, &dl), -EIO, "%zu", i);
		cr_expect_not_null(strstr(msg(&dl), "shallow file"), "%s", msg(&dl));
		cr_expect_not_null(strstr(msg(&dl), "line 1 is not a commit id"), "%s", msg(&dl));
		githistory_release(&h);
		diag_list_release(&dl);
	}
	/* Too large: refused before it is parsed. */
	diag_list_init(&dl, 10);
	char *line = tu_strf("%s\n", r.c2);
	size_t n = (16u << 20) / strlen(line) + 1;
	char *big = malloc(n * strlen(line) + 1);
	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i++) {
		memcpy(big + i * strlen(line), line, strlen(line));
	}
	big[n * strlen(line)] = '\0';
	tu_write(r.dir, ".git/shallow", big);
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, NULL, &h, &dl), -E2BIG);
	cr_expect_not_null(strstr(msg(&dl), "shallow file"), "%s", msg(&dl));
	githistory_release(&h);
	diag_list_release(&dl);
	free(big);
	free(line);
	ts_sh("rm '%s/.git/shallow'", r.dir);

	diag_list_init(&dl, 10);
	ts_sh("rm '%s/.git/objects/%.2s/%s'", r.dir, r.c1, r.c1 + 2);
	cr_expect_eq(collect(r.dir, "HEAD", NULL, NULL, NULL, &h, &dl), -EIO);
	cr_expect_not_null(strstr(msg(&dl), r.c1), "%s", msg(&dl));
	cr_expect_not_null(strstr(msg(&dl), "is not in the repository"), "%s", msg(&dl));
	githistory_release(&h);
	diag_list_release(&dl);
	repo_free(&r);
}

/* Commit dates out of order (a clock that was wrong) do not lose a commit of the range:
 * the walk leaves out only what the history left out reaches. */
Test(githistory, skewed_dates_lose_no_commit)
{
	char *dir = tu_tmpdir();
	ts_sh(GIT " init -q '%s'", dir);
	ts_sh("cd '%s' && GIT_COMMITTER_DATE='@100 +0000' " GIT " commit -q --allow-empty -m z",
	      dir);
	ts_sh("cd '%s' && echo b > b.txt && git add b.txt && GIT_COMMITTER_DATE='@4000 +0000' " GIT
	      " commit -q -m b",
	      dir);
	char *b = ts_sh_out("git -C '%s' rev-parse HEAD", dir);
	ts_sh("cd '%s' && echo h > h.txt && git add h.txt && GIT_COMMITTER_DATE='@4500 +0000' " GIT
	      " commit -q -m h",
	      dir);
	char *hidden = ts_sh_out("git -C '%s' rev-parse HEAD", dir);
	ts_sh("cd '%s' && git checkout -q -b tip '%s' && echo a > a.txt && git add a.txt && "
	      "GIT_COMMITTER_DATE='@1000 +0000' " GIT " commit -q -m a && echo a2 > a.txt && "
	      "GIT_COMMITTER_DATE='@5000 +0000' " GIT " commit -qam t",
	      dir, b);
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(dir, "tip", hidden, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 2, "a and t: %zu", h.n_commits);
	cr_expect_eq(h.n_blobs, 2, "a.txt twice: %zu", h.n_blobs);
	githistory_release(&h);
	diag_list_release(&dl);
	free(hidden);
	free(b);
	tu_rmdir(dir);
	free(dir);
}

/* The history left out is walked only as far as the range needs (commits dated before
 * the range's oldest are not read), and a range that needs it all (a commit dated 1970)
 * stops at the walk's cap: an error, not a range that is cut short. */
Test(githistory, the_walk_of_the_history_left_out_is_bounded)
{
	char *dir = tu_tmpdir();
	ts_sh(GIT " init -q '%s' && cd '%s' && for i in $(seq 1 30); do "
		  "GIT_COMMITTER_DATE=\"@$((1000 + i * 10)) +0000\" " GIT
		  " commit -q --allow-empty -m $i; done && git update-ref refs/remotes/origin/main "
		  "HEAD",
	      dir, dir);
	ts_sh("cd '%s' && echo n > n.txt && git add n.txt && GIT_COMMITTER_DATE='@5000 +0000' " GIT
	      " commit -q -m new",
	      dir);
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct githistory_limits lim = { 1000, 1000, 1u << 20, 10 };
	cr_expect_eq(collect(dir, "HEAD", NULL, "origin", &lim, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 1);
	githistory_release(&h);

	ts_sh("cd '%s' && git reset -q --hard origin/main && echo o > o.txt && git add o.txt && "
	      "GIT_COMMITTER_DATE='@1 +0000' " GIT " commit -q -m old",
	      dir);
	cr_expect_eq(collect(dir, "HEAD", NULL, "origin", &lim, &h, &dl), -E2BIG);
	cr_expect_not_null(strstr(msg(&dl), "the walk's cap"), "%s", msg(&dl));
	githistory_release(&h);
	diag_list_release(&dl);
	diag_list_init(&dl, 10);
	cr_expect_eq(collect(dir, "HEAD", NULL, "origin", NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_commits, 1);
	githistory_release(&h);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);
}

static bool skip_b(void *ud, const char *path)
{
	(void)ud;
	return strcmp(path, "b.txt") == 0;
}

/* Places can be left out by path (allowlisted ones); the blobs are written back byte for
 * byte in a directory named by their id, under each name their places give them, and
 * found again by the file names. */
Test(githistory, skipped_places_and_written_blobs)
{
	struct repo r = make_repo();
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct githistory_range range = { .tip = "HEAD" };
	cr_assert_eq(githistory_collect(r.dir, &range, &roomy, skip_b, NULL, &h, &dl), 0, "%s",
		     msg(&dl));
	cr_expect_eq(h.n_blobs, 2, "b.txt left out: %zu", h.n_blobs);
	char *dest = tu_tmpdir();
	cr_assert_eq(githistory_write(&h, dest, &dl), 0, "%s", msg(&dl));
	char *two = blob_id(r.dir, "two");
	char *file = tu_strf("%.2s/%s/a.txt", two, two + 2);
	char *text = tu_readf("%s/%s", dest, file);
	cr_expect_str_eq(text, "two");
	const struct githistory_blob *b = githistory_blob_of_file(&h, file);
	cr_assert_not_null(b);
	cr_expect_str_eq(b->id, two);
	file[41] = '\0'; /* the blob's directory names it too */
	cr_expect_eq(githistory_blob_of_file(&h, file), b);
	file[41] = 'x';
	cr_expect_null(githistory_blob_of_file(&h, file));
	cr_expect_null(githistory_blob_of_file(&h, "xx"));
	cr_expect_null(githistory_blob_of_file(&h, two));
	githistory_release(&h);
	diag_list_release(&dl);
	free(text);
	free(file);
	free(two);
	tu_rmdir(dest);
	free(dest);
	repo_free(&r);
}

/* The blobs as one pack (what the scan's worker unpacks into its /tmp) lay out the same
 * tree as githistory_write(): every blob under each of its names, byte for byte, names
 * the file system cannot take as "blob", and the same name of two places once. */
Test(githistory, a_pack_unpacks_to_the_written_tree)
{
	struct repo r = make_repo();
	ts_sh("mkdir '%s/sub'", r.dir);
	free(commit(r.dir, "sub/a.txt", "one", "c5"));	  /* one again, the same name */
	free(commit(r.dir, "sub/d.yml", "two", "c6"));	  /* two under a second name */
	free(commit(r.dir, "e.bin", "\001\002\n", "c7")); /* bytes as they are */
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(r.dir, "HEAD", NULL, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	char *tree = tu_tmpdir(), *unpacked = tu_tmpdir(), *dir = tu_tmpdir();
	char *pack = tu_strf("%s/blobs.pack", dir);
	cr_assert_eq(githistory_write(&h, tree, &dl), 0, "%s", msg(&dl));
	int fd = open(pack, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(githistory_write_pack(&h, fd, &dl), 0, "%s", msg(&dl));
	close(fd);
	char err[300] = "";
	cr_assert_eq(blobpack_unpack(pack, unpacked, err, sizeof(err)), (long)h.n_blobs, "%s", err);
	/* Names, kinds, link counts and contents: the same listing. */
#define LIST                                                                                \
	"cd '%s' && find . -printf '%%p %%y %%n %%s\\n' | sort && find . -type f | sort | " \
	"xargs md5sum"
	char *want = ts_sh_out(LIST, tree), *got = ts_sh_out(LIST, unpacked);
#undef LIST
	cr_expect_str_eq(got, want);
	char *two = blob_id(r.dir, "two");
	cr_expect(tu_exists("%s/%.2s/%s/a.txt", unpacked, two, two + 2));
	cr_expect(tu_exists("%s/%.2s/%s/d.yml", unpacked, two, two + 2));
	free(two);
	free(want);
	free(got);
	free(pack);
	githistory_release(&h);
	diag_list_release(&dl);
	tu_rmdir(tree);
	tu_rmdir(unpacked);
	tu_rmdir(dir);
	free(tree);
	free(unpacked);
	free(dir);
	repo_free(&r);
}

/* Each commit's tree is compared with its parent's directory by directory: what changed
 * deep down is found with its whole path, a mode changed alone brings its blob again (as
 * a diff of the trees lists it), a directory become a file (and back) brings what is
 * new, and a tree nested deeper than an export takes is refused, not walked. */
Test(githistory, trees_compared_directory_by_directory)
{
	char *dir = tu_tmpdir();
	ts_sh(GIT " init -q '%s' && mkdir -p '%s/a/b/c' '%s/x'", dir, dir, dir);
	tu_write(dir, "x/keep.txt", "keep");
	char *c1 = commit(dir, "a/b/c/deep.txt", "deep", "c1");
	char *c2 = commit(dir, "a/b/c/deep.txt", "deeper", "c2");
	ts_sh("chmod +x '%s/a/b/c/deep.txt'", dir);
	char *c3 = commit(dir, NULL, NULL, "c3");
	ts_sh("rm -r '%s/x'", dir);
	char *c4 = commit(dir, "x", "keep", "c4"); /* the directory x now a file */
	char *deeper = blob_id(dir, "deeper"), *keep = blob_id(dir, "keep");
	struct githistory h;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(collect(dir, "HEAD", NULL, NULL, NULL, &h, &dl), 0, "%s", msg(&dl));
	cr_expect_eq(h.n_blobs, 3, "deep, deeper, keep: %zu", h.n_blobs);
	const struct githistory_blob *b = find(&h, deeper);
	cr_assert_not_null(b);
	cr_expect_eq(b->n_places, 2);
	cr_expect(has_place(b, c2, "a/b/c/deep.txt"));
	cr_expect(has_place(b, c3, "a/b/c/deep.txt"), "the mode alone changed");
	b = find(&h, keep);
	cr_assert_not_null(b);
	cr_expect_eq(b->n_places, 2);
	cr_expect(has_place(b, c1, "x/keep.txt"));
	cr_expect(has_place(b, c4, "x"), "a directory become a file");
	githistory_release(&h);
	diag_list_release(&dl);
	/* 300 levels: refused with the cap in the message. */
	ts_sh("cd '%s' && p=. && for i in $(seq 300); do p=$p/d; done && mkdir -p $p && "
	      "echo x >$p/f && " GIT " add -A && " GIT " commit -q -m deep",
	      dir);
	diag_list_init(&dl, 10);
	cr_expect_eq(collect(dir, "HEAD", NULL, NULL, NULL, &h, &dl), -E2BIG);
	cr_expect(strstr(msg(&dl), "deeper than 256"), "%s", msg(&dl));
	githistory_release(&h);
	diag_list_release(&dl);
	free(c1);
	free(c2);
	free(c3);
	free(c4);
	free(deeper);
	free(keep);
	tu_rmdir(dir);
	free(dir);
}
