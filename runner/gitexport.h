/*
 * gitexport.h - put the exact tree of one commit into a fresh directory, with libgit2, and
 * prove that it is there.
 *
 * Used where "what is tested is what was pushed" matters: `runner run --rev REV` (the
 * pre-push hook) and every run of `runner serve`. The export writes the blobs of the
 * commit's tree byte for byte (no CRLF or other filters, no index, no .git), then walks
 * the tree again and hashes every file, symlink and executable bit it wrote; a difference
 * is an error, never a warning. Submodules (gitlinks) become empty directories.
 *
 * Revisions from untrusted sources (webhook payloads) must be full 40-digit hex commit ids:
 * gitexport_commit() accepts nothing else, so a payload cannot name a branch or an
 * abbreviated id that happens to resolve to something else.
 */
#ifndef RUNNER_GITEXPORT_H
#define RUNNER_GITEXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag_list;
struct git_oid;
struct git_repository;

/* Caps on what one export may write (a hostile repository cannot fill the disk forever). */
#define GITEXPORT_MAX_ENTRIES 1000000
#define GITEXPORT_MAX_BYTES   (8ull << 30)
/* Directory levels: libgit2 walks a tree recursively, and a crafted commit of a few MB can
 * nest trees a hundred thousand deep (a stack overflow). */
#define GITEXPORT_MAX_DEPTH 256

/* Whether s is a full lower- or upper-case hex SHA-1 (40 digits). */
bool gitexport_is_full_sha(const char *s);

/*
 * Resolve rev (anything `git rev-parse` understands: a branch, a tag, HEAD~2, an id) in the
 * repository containing dir (searched upwards) to a commit. Fills commit (41 bytes, hex),
 * and *workdir with the repository's working directory (heap, NULL for a bare repository;
 * may be NULL if not wanted). Returns 0, or -ENOENT with a diagnostic.
 */
int gitexport_resolve(const char *dir, const char *rev, char commit[41], char **workdir,
		      struct diag_list *dl);

/*
 * Write the tree of commit (full hex id) of the repository at repo_dir (bare or not) into
 * dest, which must be an existing empty directory, and verify it. Returns 0; -ENOENT when
 * the commit does not exist; -EINVAL for a malformed id; -EFBIG past the caps; -EIO when
 * verification found a difference; another -errno. A diagnostic says what went wrong.
 */
int gitexport_commit(const char *repo_dir, const char *commit, const char *dest,
		     struct diag_list *dl);

/* Commit objects larger than this are refused (a commit whose message inflates to
 * gigabytes is a few megabytes in a repository). */
#define GITEXPORT_MAX_COMMIT_BYTES (16u << 20)
/* Likewise tree objects (a million entries with names of 30 bytes are about 60 MiB). */
#define GITEXPORT_MAX_TREE_BYTES (128u << 20)

/*
 * Whether the object oid exists, is of type `type` (a git_object_t; GIT_OBJECT_ANY for
 * any) and is at most max bytes, from its header alone: nothing of it is inflated.
 */
bool gitexport_object_fits(struct git_repository *repo, const struct git_oid *oid, int type,
			   size_t max);

/*
 * Write the path of every file (blob: regular file or symbolic link) of commit's tree,
 * each followed by a NUL byte, to a new file at out (mode 0600; it must not exist). An
 * export has no index: this list is what says which of its files are tracked (a scan must
 * read them whatever .gitignore says). Returns 0 or -errno.
 */
int gitexport_write_file_list(const char *repo_dir, const char *commit, const char *out);

/*
 * The same for a working tree: the paths of the index of the repository that contains dir
 * (searched upwards), written to out likewise; *workdir (heap) is its working directory,
 * which the paths are relative to. For a workspace below the repository's root, whose
 * .git a sandboxed scan does not see. Returns 0, -ENOENT outside a repository (or a bare
 * one), or another -errno.
 */
int gitexport_write_index_list(const char *dir, const char *out, char **workdir);

/*
 * The paths of the files that the tree of commit head has and that differ from (or are
 * not in) the tree of commit base: added, modified, renamed (as added), of another type.
 * At most max of them: -E2BIG beyond. *out is a heap array of heap strings (*n of them).
 * Returns 0 or -errno.
 */
int gitexport_changed_files(const char *repo_dir, const char *base, const char *head, size_t max,
			    char ***out, size_t *n);

/*
 * Copy the file or directory at rel in commit's tree to dest/rel: regular files only
 * (symbolic links and submodules are left out), at most max_bytes in all (-EFBIG beyond).
 * -ENOENT when the commit has nothing there. For the files a run takes from another
 * commit than its own (a fork's run: the base branch's rule packs).
 */
int gitexport_copy_path(const char *repo_dir, const char *commit, const char *rel, const char *dest,
			uint64_t max_bytes);

/*
 * Read one file of a commit's tree (e.g. the pipeline of a base branch) into a heap
 * buffer, refusing files above max bytes (from the object's header, before anything of it
 * is inflated). Returns 0, -ENOENT (no such commit or path),
 * -EFBIG, or another -errno.
 */
int gitexport_read_file(const char *repo_dir, const char *commit, const char *path, size_t max,
			char **out, size_t *len);

#endif
