/*
 * test-dirpool.c - the run's pool of empty directories (runner/dirpool.c): a directory is
 * reused only when it comes back empty and exactly as it was made; anything a stage could
 * have changed about it (contents, mode, an extended attribute or ACL, the path made a
 * symlink) keeps it out of the pool, and nothing is left behind.
 */
#include <criterion/criterion.h>

#include "dirpool.h"
#include "util.h"

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static ino_t inode(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s", path);
	return st.st_ino;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

struct fixture {
	char *root, *spares, *a, *b;
	struct dirpool pool;
};

static void setup(struct fixture *f)
{
	f->root = tu_tmpdir();
	f->spares = tu_strf("%s/spares", f->root);
	f->a = tu_strf("%s/out/a", f->root);
	f->b = tu_strf("%s/art/b", f->root);
	cr_assert_eq(mkdir(f->spares, 0755), 0);
	dirpool_init(&f->pool, f->spares);
}

static void teardown(struct fixture *f)
{
	dirpool_release(&f->pool);
	tu_rmdir(f->root);
	free(f->root);
	free(f->spares);
	free(f->a);
	free(f->b);
}

Test(dirpool, an_empty_untouched_directory_is_reused_and_nothing_is_left)
{
	struct fixture f;
	setup(&f);
	cr_assert_eq(dirpool_take(&f.pool, f.a), 0); /* made, with its parents */
	ino_t ino = inode(f.a);
	/* Its times, which a stage may change, do not keep it out, and do not follow it. */
	struct timespec old[2] = { { 1, 0 }, { 1, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, f.a, old, 0), 0);
	cr_assert(dirpool_give(&f.pool, f.a));
	cr_assert_not(tu_exists("%s", f.a), "given back: the path is gone");
	cr_assert_eq(entries(f.spares), 1);
	/* Where the new place's parent is missing, it is made and the spare kept. */
	cr_assert_eq(dirpool_take(&f.pool, f.b), 0);
	cr_assert_neq(inode(f.b), ino);
	cr_assert_eq(entries(f.spares), 1);
	cr_assert_eq(rmdir(f.b), 0);
	struct timespec before;
	clock_gettime(CLOCK_REALTIME, &before);
	cr_assert_eq(dirpool_take(&f.pool, f.b), 0);
	cr_assert_eq(inode(f.b), ino, "the same directory, moved to its new place");
	struct stat st;
	cr_assert_eq(stat(f.b, &st), 0);
	cr_assert_geq(st.st_mtim.tv_sec, before.tv_sec, "its times are reset");
	cr_assert_eq(entries(f.spares), 0);
	/* A directory already there (a retried stage) is kept, and so is the spare. */
	cr_assert(dirpool_give(&f.pool, f.b));
	cr_assert_eq(mkdir(f.a, 0755), 0);
	char path[4096];
	snprintf(path, sizeof(path), "%s/kept", f.a);
	int fd = creat(path, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(dirpool_take(&f.pool, f.a), 0);
	cr_assert(tu_exists("%s/kept", f.a));
	cr_assert_eq(entries(f.spares), 1);
	dirpool_release(&f.pool);
	cr_assert_eq(entries(f.spares), 0, "release removes the spares");
	dirpool_init(&f.pool, f.spares);
	teardown(&f);
}

Test(dirpool, a_directory_a_stage_changed_is_never_reused)
{
	struct fixture f;
	setup(&f);
	cr_assert_eq(dirpool_take(&f.pool, f.a), 0);

	/* Not empty. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/left-behind", f.a);
	int fd = creat(path, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_not(dirpool_give(&f.pool, f.a));
	cr_assert(tu_exists("%s/left-behind", f.a));
	tu_rmdir(f.a);

	/* Its mode changed. */
	cr_assert_eq(mkdir(f.a, 0755), 0);
	cr_assert_eq(chmod(f.a, 0700), 0);
	cr_assert_not(dirpool_give(&f.pool, f.a));
	cr_assert_eq(rmdir(f.a), 0);

	/* An extended attribute (an ACL is one). */
	cr_assert_eq(mkdir(f.a, 0755), 0);
	if (setxattr(f.a, "user.left", "x", 1, 0) == 0) {
		cr_assert_not(dirpool_give(&f.pool, f.a));
	} else {
		cr_log_warn("no user xattrs on this file system: %s", strerror(errno));
	}
	cr_assert_eq(rmdir(f.a), 0);

	/* Grown by many entries, then emptied: its size tells, so it is not reused. */
	cr_assert_eq(mkdir(f.a, 0755), 0);
	struct stat st0, st1;
	cr_assert_eq(stat(f.a, &st0), 0);
	for (int i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "%s/entry-with-a-long-name-%04d", f.a, i);
		fd = creat(path, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	for (int i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "%s/entry-with-a-long-name-%04d", f.a, i);
		cr_assert_eq(unlink(path), 0);
	}
	cr_assert_eq(stat(f.a, &st1), 0);
	if (st1.st_size != st0.st_size) {
		cr_assert_not(dirpool_give(&f.pool, f.a));
	} else {
		cr_log_warn("this file system does not grow directories");
	}
	cr_assert_eq(rmdir(f.a), 0);

	/* The path made a symbolic link to an empty directory: not followed. */
	char *elsewhere = tu_strf("%s/elsewhere", f.root);
	cr_assert_eq(mkdir(elsewhere, 0755), 0);
	cr_assert_eq(symlink(elsewhere, f.a), 0);
	cr_assert_not(dirpool_give(&f.pool, f.a));
	cr_assert(tu_exists("%s", elsewhere));
	cr_assert_eq(unlink(f.a), 0);

	/* Nothing: no pool entry was made by any of these. */
	cr_assert_eq(entries(f.spares), 0);
	free(elsewhere);
	teardown(&f);
}

Test(dirpool, nothing_is_given_back_before_one_was_made)
{
	struct fixture f;
	setup(&f);
	char out[4096];
	snprintf(out, sizeof(out), "%s/out", f.root);
	cr_assert_eq(mkdir(out, 0755), 0);
	cr_assert_eq(mkdir(f.a, 0755), 0);
	cr_assert_not(dirpool_give(&f.pool, f.a), "what it looks like is not known yet");
	cr_assert(tu_exists("%s", f.a));
	teardown(&f);
}
