/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * dirpool.h - empty directories kept for reuse while a run lasts.
 *
 * A sandboxed stage needs two new directories (its outbox and the mount point for it in
 * the run's artifacts) which most stages leave empty. On ext4, making a directory right
 * after others were removed scans past every recently freed inode, sometimes reading the
 * inode table: measured at 30 to 550 us per mkdir on the reference machine, on the path of
 * every stage. A directory found empty and untouched when its stage ends is instead moved
 * aside (one rename) and moved into place for the next stage (one rename).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dirpool {
	char *dir; /* where spares wait: inside the run record, which stages never see */
	char **v;
	size_t n, cap;
	unsigned seq;
	bool have_ref; /* what a directory of ours looks like, from the first one made */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
};

/* Spares wait in dir (created when needed). */
void dirpool_init(struct dirpool *p, const char *dir);

/* Make path a new, empty directory (a spare moved there, or mkdir -p); an existing
 * directory at path is kept. Returns 0 or -errno. */
int dirpool_take(struct dirpool *p, const char *path);

/* If path is an empty directory exactly as this pool makes them (mode, owner, size, no
 * extended attributes or ACL), move it aside for reuse and return true: path is then gone.
 * Otherwise leave it and return false. */
bool dirpool_give(struct dirpool *p, const char *path);

/* Remove the spares. */
void dirpool_release(struct dirpool *p);
