/* SPDX-License-Identifier: MIT */
/*
 * dirpool.c - empty directories kept for reuse while a run lasts (see dirpool.h).
 *
 * A spare is only ever a directory this process made and found, when its stage had ended,
 * empty and with the mode, owner, size and (absent) extended attributes it was made with:
 * what a stage can change about the directory it was given is its contents, its mode, its
 * extended attributes (an ACL is one), its size (a directory that held many entries stays
 * large) and its times, and a directory with any of the first four changed is not reused;
 * the times are reset when it is. Spares wait in the run record's own directory, which no
 * stage can see. That a stage's outbox was left empty, which its inode number being reused
 * tells, the next stage can see anyway: the run's artifacts are visible to it.
 */
#include "dirpool.h"

#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "banned.h"

void dirpool_init(struct dirpool *p, const char *dir)
{
	memset(p, 0, sizeof(*p));
	p->dir = xstrdup(dir);
}

int dirpool_take(struct dirpool *p, const char *path)
{
	while (p->n > 0) {
		char *spare = p->v[--p->n];
		if (rename(spare, path) == 0) {
			free(spare);
			/* Its times are new too (the rename gave it a new ctime): what the
			 * stage before did to it shows nowhere. */
			utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
			return 0;
		}
		struct stat st;
		if (errno == EEXIST || errno == ENOTEMPTY) {
			p->n++; /* a directory is there already (a retried stage): keep both */
			return 0;
		}
		if (errno == ENOENT && lstat(spare, &st) == 0) {
			p->n++; /* path's parent is missing: made below, the spare kept */
			break;
		}
		rmdir(spare); /* gone, or not ours to rename: it is not used */
		free(spare);
	}
	int r = mkdir_p(path, 0755);
	struct stat st;
	if (r == 0 && !p->have_ref && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		p->have_ref = true;
		p->mode = st.st_mode & 07777;
		p->uid = st.st_uid;
		p->gid = st.st_gid;
		p->size = st.st_size;
	}
	return r;
}

/* Nothing in the directory (fd is consumed). */
static bool dir_empty(int fd)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	bool empty = true;
	struct dirent *de;
	errno = 0;
	while (empty && (de = readdir(d))) {
		empty = str_eq(de->d_name, ".") || str_eq(de->d_name, "..");
	}
	empty = empty && errno == 0;
	closedir(d);
	return empty;
}

bool dirpool_give(struct dirpool *p, const char *path)
{
	if (!p->have_ref) {
		return false;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (st.st_mode & 07777) != p->mode || st.st_uid != p->uid ||
	    st.st_gid != p->gid || st.st_size != p->size || flistxattr(fd, NULL, 0) != 0) {
		close(fd);
		return false;
	}
	if (!dir_empty(fd)) {
		return false;
	}
	char *spare = xasprintf("%s/.spare-%u", p->dir, p->seq++);
	if (rename(path, spare) < 0) {
		free(spare);
		return false;
	}
	GROW(p->v, p->cap, p->n + 1);
	p->v[p->n++] = spare;
	return true;
}

void dirpool_release(struct dirpool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		rmdir(p->v[i]);
		free(p->v[i]);
	}
	free(p->v);
	free(p->dir);
	memset(p, 0, sizeof(*p));
}
