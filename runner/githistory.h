/*
 * githistory.h - what a range of commits brings into a repository's history: the blobs
 * that its commits add or change, each once, with the commits and paths that brought it.
 *
 * For `runner scan secrets --history` (and the pre-push hook): a secret committed and
 * removed again within one push is in none of the pushed trees' tips, but it is in the
 * history the remote keeps. The range is TIP, minus everything reachable from BASE (when
 * given), from the remote-tracking refs of one remote (refs/remotes/NAME/..., when
 * given) and from every ref under a prefix (when given). A commit's new blobs are those of its
 * tree that differ from its parent's at the same path (every file of a root commit); for a merge,
 * those that differ from every parent's (what the merge itself wrote: a conflict resolution, an
 * "evil" merge). Blobs of regular files, executables and symbolic links (a link's target is its
 * blob) count; submodules do not (their content is another repository's). A blob is listed once
 * however many commits or paths bring it.
 *
 * A shallow repository (a clone made with --depth, as CI checkouts usually are) is taken
 * as git takes it: a commit its shallow file lists (`shallow` in the common git directory)
 * has no parents here. In the range, such a boundary commit is scanned as a root commit
 * (every file of its tree: more than its own change, never less) and counted in
 * n_shallow; in the history left out, the walk stops there. A missing parent of a commit
 * the file does not list is an error (an incomplete repository), as is a shallow file
 * that is not a list of commit ids.
 *
 * The walk is the repository's own, not libgit2's revwalk (which, before libgit2 1.7,
 * reads the parents of a shallow boundary and fails): commits come off a queue newest
 * first by commit date, the hidden side marking what it reaches, and the walk stops once
 * everything left in the queue is hidden (as git does, with a few more steps for clocks
 * that were wrong). Commits a wrong clock keeps in the range are scanned: more, not less.
 *
 * Caps: commits, blobs and their total size (from object headers: nothing is inflated to
 * count), and the commits the walk reads on both sides (the history left out can be far
 * larger than the range). Past one the collection stops with -E2BIG and a diagnostic
 * naming the cap: the caller fails closed, it never scans part of the range. Commit
 * objects and trees are checked against the export's caps (gitexport.h) before they are
 * read, and so is the nesting of directories (GITEXPORT_MAX_DEPTH). A commit's tree is
 * compared with its parent's directory by directory; a directory whose tree is the same on
 * both sides is not read.
 */
#ifndef RUNNER_GITHISTORY_H
#define RUNNER_GITHISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag_list;
struct hmap;

/* Default caps: commits per range; blobs and bytes as for one exported commit. */
#define GITHISTORY_MAX_COMMITS 10000
/* Commits the walk may read beyond the range's cap, to tell the range from the history
 * left out (about 200 bytes of memory each). */
#define GITHISTORY_MAX_WALK 1000000
/* A shallow file larger than this is refused (about 400,000 boundary commits). */
#define GITHISTORY_MAX_SHALLOW_BYTES (16u << 20)
/* Places (commit and path) remembered per blob, for reports; more are only counted. */
#define GITHISTORY_MAX_PLACES 8

struct githistory_range {
	const char *tip;	/* a revision (a commit id, a branch, a tag) */
	const char *base;	/* NULL, or a revision whose history is left out */
	const char *not_remote; /* NULL, or a remote whose tracking refs' history is left out */
	/* NULL, or a ref prefix ending in '/' (refs/runner/scanned/): the history of every
	 * ref under it is left out. For a server's mirror, whose refs under a prefix mark
	 * what earlier scans covered. */
	const char *not_under;
};

struct githistory_limits {
	size_t max_commits;
	size_t max_blobs;
	uint64_t max_bytes;
	/* Commits the walk may read, both sides; 0: max_commits + GITHISTORY_MAX_WALK. */
	size_t max_walk;
};

struct githistory_place {
	char commit[41];
	char *path; /* as the tree has it: any bytes but NUL and '/' as the separator */
};

struct githistory_blob {
	char id[41];
	uint64_t size;
	struct githistory_place places[GITHISTORY_MAX_PLACES];
	size_t n_places;
	size_t more_places; /* places beyond GITHISTORY_MAX_PLACES */
};

struct githistory {
	char *repo_dir; /* the repository's git directory (for githistory_write) */
	char tip[41], base[41];
	size_t n_commits;
	/* The range's commits at a shallow boundary (their parents are not in the repository:
	 * scanned as root commits), and the newest of them. */
	size_t n_shallow;
	char shallow[41];
	struct githistory_blob **blobs; /* in the order they were found, oldest commit first */
	size_t n_blobs, cap_blobs;
	uint64_t bytes;
	struct hmap *by_id;
};

/*
 * Collect the blobs of range r in the repository containing dir (searched upwards).
 * skip (may be NULL) leaves out a place by its path (an allowlisted or excluded one): a
 * blob with no other place is not listed. Returns 0; -ENOENT when dir is not in a
 * repository or a revision does not name a commit (usage errors); -E2BIG past a cap;
 * -EIO when an object cannot be read. A diagnostic says what went wrong.
 */
int githistory_collect(const char *dir, const struct githistory_range *r,
		       const struct githistory_limits *lim,
		       bool (*skip)(void *ud, const char *path), void *ud, struct githistory *out,
		       struct diag_list *dl);

/*
 * Write every blob of h to dest (an existing empty directory), byte for byte, in a
 * directory named after its id, dest/ab/cdef... (the first two hex digits a directory),
 * under each distinct name its places give it (the last component of their paths; the
 * first a regular file, the others hard links to it): dest/ab/cdef.../docker-compose.yml.
 * Returns 0 or -errno with a diagnostic.
 */
int githistory_write(const struct githistory *h, const char *dest, struct diag_list *dl);

/*
 * The same blobs as one pack (stages/blobpack.h) written to fd, for the worker to lay out
 * as githistory_write() does: one file to write instead of a directory and a file per
 * blob. Returns 0 or -errno with a diagnostic.
 */
int githistory_write_pack(const struct githistory *h, int fd, struct diag_list *dl);

/* The blob a file written by githistory_write() (or unpacked from its pack) holds
 * ("ab/cdef.../name", or its directory "ab/cdef..."), or NULL. */
const struct githistory_blob *githistory_blob_of_file(const struct githistory *h, const char *rel);

void githistory_release(struct githistory *h);

#endif
