/*
 * walk.h - which files a scan reads: the given paths, walked recursively, minus what
 * should not or cannot be scanned, each skip counted by its reason.
 *
 *   ignored    matched by .gitignore (libgit2: the repository's ignore rules, including
 *              nested .gitignore files and .git/info/exclude; outside a repository the
 *              .gitignore files of the tree still apply, unless gitignore_needs_index)
 *              and not tracked: a file in the
 *              repository's index, or in `tracked` (an export's), is scanned whatever
 *              .gitignore says. Global git
 *              configuration is never read, so a scan gives the same answer on every
 *              machine.
 *   excluded   matched by an exclude glob (fnmatch, `*` also matches `/`)
 *   vendored   under vendor/, node_modules/, third_party/, ... (unless scan_vendored)
 *   generated  *.min.js, *.pb.go, *_pb2.py, ... (content markers are checked by the scan)
 *   too-large  larger than the size cap (listed too when keep_too_large is set: a secrets
 *              scan reports such a file rather than pass it unread)
 *   symlink    never followed (a link could lead outside the workspace)
 *   special    FIFOs, sockets, devices
 * .git, .hg, .svn and .runner directories are not entered and not counted, unless
 * enter_vcs is set (a scan of what an image will hold: its build copies them too).
 *
 * A path that does not exist or cannot be read, or a directory that cannot be listed, is
 * an error: the caller fails closed rather than report a partial scan as complete.
 */
#ifndef RUNNER_SCANNERS_WALK_H
#define RUNNER_SCANNERS_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum walk_skip {
	SKIP_IGNORED,
	SKIP_EXCLUDED,
	SKIP_VENDORED,
	SKIP_GENERATED,
	SKIP_TOO_LARGE,
	SKIP_SYMLINK,
	SKIP_SPECIAL,
	SKIP_BINARY,	  /* counted by the scan (content) */
	SKIP_UNSUPPORTED, /* counted by the scan: not a language the SAST engine knows */
	SKIP_ALLOWLISTED, /* counted by the scan: a secrets allowlist path */
	SKIP_TOO_COMPLEX, /* counted by the scan: more tokens than the lexer allows */
	SKIP_COUNT,
};

const char *walk_skip_name(enum walk_skip s);

#define WALK_MAX_FILES 2000000
#define WALK_MAX_DEPTH 256

struct walk_options {
	const char *root;	  /* absolute; reported paths are relative to it */
	const char *const *paths; /* relative to root (or absolute); NULL/0: root itself */
	size_t n_paths;
	const char *const *exclude; /* globs on root-relative paths */
	size_t n_exclude;
	uint64_t max_file_size;
	bool no_gitignore;
	bool scan_vendored;
	bool scan_generated;
	bool keep_too_large; /* list the files above max_file_size in walk_result.large */
	bool enter_vcs;	     /* enter .git, .hg, .svn and .runner directories too */
	/* Root-relative paths, sorted, that .gitignore does not hide (nor the directories
	 * above them): tracked files of an exported commit, which has no index to say so. */
	const char *const *tracked;
	size_t n_tracked;
	/* Read .gitignore only where it is known what is tracked: in a repository whose index
	 * can be read, or with `tracked`. Outside a repository and without `tracked` (a `git
	 * archive`, a tarball checkout, a build context without .git), or with an index that
	 * cannot be read, .gitignore is not read: nothing says which files were committed
	 * with --force (a key, a .env), and a secrets scan must not pass them as ignored. */
	bool gitignore_needs_index;
	/* Root-relative paths, sorted, scanned whatever exclude globs, the vendored and
	 * generated heuristics and .gitignore say (the directories above them are entered
	 * for them alone): what a fork's pull request changed, since it chose where its
	 * files lie and what they look like. Size caps, links and special files still
	 * apply. */
	const char *const *must_scan;
	size_t n_must_scan;
	/* The repository whose ignore rules and index apply, by its git directory (absolute),
	 * opened there rather than looked for from root upwards: a sandboxed scan sees the
	 * git directory of a repository above its workspace only where it is bound, and the
	 * search for it stops at the workspace's mount (walk_repo_find). NULL: look. */
	const char *git_dir;
};

/* Is rel one of o->must_scan (a directory: does it hold one)? */
bool walk_must_scan(const struct walk_options *o, const char *rel, bool dir);
/* Is rel in the sorted list v (a directory: does it hold one)? */
bool walk_listed(const char *const *v, size_t nv, const char *rel, bool dir);

struct walk_file {
	char *path; /* root-relative, '/'-separated */
	uint64_t size;
};

struct walk_result {
	struct walk_file *files;
	size_t n, cap;
	size_t skipped[SKIP_COUNT];
	struct walk_file *large; /* keep_too_large: the files skipped as too large */
	size_t n_large, cap_large;
};

/*
 * Walk. Returns 0, or -errno with a message in err (a missing or unreadable path, a path
 * outside root, too many files). The result is owned by the caller (walk_result_release).
 */
int walk_run(const struct walk_options *o, struct walk_result *res, char *err, size_t errlen);
void walk_result_release(struct walk_result *res);

/*
 * Where dir (absolute) lies in the git repository that contains it: *prefix gets "" (the
 * top of the working tree, or no repository) or "sub/dir/", *top the working tree's top
 * (or dir itself outside a repository). Both are heap strings. Returns 0 or -errno.
 */
int walk_repo_prefix(const char *dir, char **prefix, char **top);

/*
 * The repository a walk of root (absolute, canonical) reads the ignore rules and index of,
 * found as walk_run() finds it: *top its working tree's top, *git_dir its git directory
 * and *common_dir the directory of its objects and shared files (a worktree's main .git;
 * the git directory itself otherwise), each canonical, without a trailing slash, on the
 * heap. Returns 0, or -ENOENT when root is not in a repository's working tree (a walk then
 * reads the tree's own .gitignore files).
 */
int walk_repo_find(const char *root, char **top, char **git_dir, char **common_dir);

/* Is this file name one of the generated kinds (by name)? */
bool walk_generated_name(const char *base);
/*
 * Does the header of a file (head: its first n bytes, of which the first 1 KiB are read)
 * say it is generated? Only by the conventions: a comment line
 * `Code generated ... DO NOT EDIT.` (Go's, in any language's comment syntax) or a comment
 * holding the word `@generated` (Facebook's), among the comment and blank lines that open
 * the file. "DO NOT EDIT" or "@generated" elsewhere (in a string, after code) does not.
 */
bool walk_generated_content(const char *head, size_t n);

#endif
