/*
 * gitexport.c - export a commit's tree into a directory with libgit2 and verify it.
 *
 * Three passes over the tree: a census (entry count and blob sizes from object headers,
 * against the caps, before anything is written), the checkout itself (libgit2, forced,
 * into the target directory, with filters disabled and an empty baseline so that every
 * file is written and nothing is converted), and the verification (every blob re-hashed
 * from disk, symlink targets re-hashed, executable bits compared). libgit2 errors are
 * translated into diagnostics here and go no further.
 */
#include "gitexport.h"

#include "diag.h"
#include "sbuf.h"
#include "util.h"

#include <fcntl.h>
#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

bool gitexport_is_full_sha(const char *s)
{
	if (!s || strlen(s) != 40) {
		return false;
	}
	for (size_t i = 0; i < 40; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

static const char *last_git_error(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

int gitexport_resolve(const char *dir, const char *rev, char commit[41], char **workdir,
		      struct diag_list *dl)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	int ret = 0;
	if (workdir) {
		*workdir = NULL;
	}
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		diag_error(dl, NULL, 0, 0, "run it inside a git repository, or use -C DIR",
			   "%s is not inside a git repository", dir);
		ret = -ENOENT;
		goto out;
	}
	if (git_revparse_single(&obj, repo, rev) < 0) {
		diag_error(dl, NULL, 0, 0, "give a branch, a tag or a commit id",
			   "--rev %s: no such revision (%s)", rev, last_git_error());
		ret = -ENOENT;
		goto out;
	}
	git_object *peeled = NULL;
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "--rev %s does not name a commit", rev);
		ret = -ENOENT;
		goto out;
	}
	git_oid_tostr(commit, 41, git_object_id(peeled));
	git_object_free(peeled);
	if (workdir && git_repository_workdir(repo)) {
		*workdir = xstrdup(git_repository_workdir(repo));
		size_t n = strlen(*workdir);
		if (n > 1 && (*workdir)[n - 1] == '/') {
			(*workdir)[n - 1] = '\0';
		}
	}
out:
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

struct census {
	git_odb *odb;
	size_t entries;
	uint64_t bytes;
	int err;
};

static int census_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct census *c = payload;
	if (++c->entries > GITEXPORT_MAX_ENTRIES) {
		c->err = -EFBIG;
		return -1;
	}
	/* root is "a/b/" for an entry at depth 2: stop before going any deeper. */
	unsigned depth = 0;
	for (const char *p = root; *p; p++) {
		depth += *p == '/';
	}
	if (depth >= GITEXPORT_MAX_DEPTH) {
		c->err = -ELOOP;
		return -1;
	}
	git_object_t kind = git_tree_entry_type(e);
	if (kind == GIT_OBJECT_TREE || kind == GIT_OBJECT_BLOB) {
		/* From the header alone: a tree before the walk goes into it (and inflates it). */
		size_t size;
		git_object_t type;
		if (git_odb_read_header(&size, &type, c->odb, git_tree_entry_id(e)) < 0) {
			c->err = -ENOENT;
			return -1;
		}
		if (kind == GIT_OBJECT_BLOB) {
			c->bytes += size;
		}
		if (kind == GIT_OBJECT_TREE ? size > GITEXPORT_MAX_TREE_BYTES
					    : c->bytes > GITEXPORT_MAX_BYTES) {
			c->err = -EFBIG;
			return -1;
		}
	}
	(void)root;
	return 0;
}

struct verify {
	const char *dest;
	git_repository *repo;
	char *bad; /* first problem found (heap) */
};

static int verify_fail(struct verify *v, const char *path, const char *what)
{
	v->bad = xasprintf("%s: %s", path, what);
	return -1;
}

static int verify_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct verify *v = payload;
	_cleanup_free_ char *rel = xasprintf("%s%s", root, git_tree_entry_name(e));
	_cleanup_free_ char *path = xasprintf("%s/%s", v->dest, rel);
	struct stat st;
	git_oid oid;
	git_filemode_t mode = git_tree_entry_filemode(e);
	switch (git_tree_entry_type(e)) {
	case GIT_OBJECT_TREE:
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			return verify_fail(v, rel, "directory missing");
		}
		return 0;
	case GIT_OBJECT_COMMIT:
		/* A submodule: its content is not part of this commit. */
		if (lstat(path, &st) < 0 && mkdir(path, 0755) < 0) {
			return verify_fail(v, rel, "cannot create the submodule directory");
		}
		return 0;
	case GIT_OBJECT_BLOB:
		break;
	default:
		return verify_fail(v, rel, "unexpected object type in tree");
	}
	if (lstat(path, &st) < 0) {
		return verify_fail(v, rel, "file missing");
	}
	if (mode == GIT_FILEMODE_LINK) {
		char target[4096];
		if (!S_ISLNK(st.st_mode)) {
			return verify_fail(v, rel, "not a symbolic link");
		}
		ssize_t n = readlink(path, target, sizeof(target));
		if (n < 0 || (size_t)n >= sizeof(target) ||
		    git_odb_hash(&oid, target, (size_t)n, GIT_OBJECT_BLOB) < 0) {
			return verify_fail(v, rel, "cannot read the symbolic link");
		}
	} else {
		if (!S_ISREG(st.st_mode)) {
			return verify_fail(v, rel, "not a regular file");
		}
		bool exec = (st.st_mode & S_IXUSR) != 0;
		if (exec != (mode == GIT_FILEMODE_BLOB_EXECUTABLE)) {
			return verify_fail(v, rel, "executable bit differs from the commit");
		}
		if (git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB) < 0) {
			return verify_fail(v, rel, "cannot hash the file");
		}
	}
	if (!git_oid_equal(&oid, git_tree_entry_id(e))) {
		return verify_fail(v, rel, "content differs from the commit");
	}
	return 0;
}

bool gitexport_object_fits(git_repository *repo, const git_oid *oid, int type, size_t max)
{
	git_odb *odb = NULL;
	size_t size;
	git_object_t t;
	bool ok = git_repository_odb(&odb, repo) == 0 &&
		  git_odb_read_header(&size, &t, odb, oid) == 0 &&
		  (type == GIT_OBJECT_ANY || (int)t == type) && size <= max;
	git_odb_free(odb);
	return ok;
}

/* A tree, its size checked from its header first (a tree of a million long, alike names
 * is a few megabytes in a repository and gigabytes inflated). */
static int lookup_tree(git_repository *repo, const git_oid *id, git_tree **out)
{
	*out = NULL;
	if (!gitexport_object_fits(repo, id, GIT_OBJECT_TREE, SIZE_MAX)) {
		return -ENOENT;
	}
	if (!gitexport_object_fits(repo, id, GIT_OBJECT_TREE, GITEXPORT_MAX_TREE_BYTES)) {
		return -EFBIG;
	}
	return git_tree_lookup(out, repo, id) < 0 ? -ENOENT : 0;
}

/* The entry at path in the commit's tree, each tree on the way looked up with
 * lookup_tree(). */
static int entry_bypath(git_repository *repo, const git_commit *c, const char *path,
			git_tree_entry **out)
{
	git_tree *tree = NULL;
	int r = lookup_tree(repo, git_commit_tree_id(c), &tree);
	const char *p = path;
	while (r == 0) {
		const char *slash = strchr(p, '/');
		_cleanup_free_ char *name = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
		const git_tree_entry *e = *name ? git_tree_entry_byname(tree, name) : NULL;
		if (!e) {
			r = -ENOENT;
		} else if (!slash) {
			r = git_tree_entry_dup(out, e) < 0 ? -ENOMEM : 0;
			break;
		} else if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			r = -ENOENT;
		} else {
			git_tree *sub = NULL;
			r = lookup_tree(repo, git_tree_entry_id(e), &sub);
			git_tree_free(tree);
			tree = sub;
			p = slash + 1;
		}
	}
	git_tree_free(tree);
	return r;
}

static int lookup_commit(git_repository *repo, const char *hex, git_commit **out,
			 struct diag_list *dl)
{
	git_oid oid;
	if (!gitexport_is_full_sha(hex) || git_oid_fromstr(&oid, hex) < 0) {
		diag_error(dl, NULL, 0, 0, "give the full 40-digit commit id",
			   "'%s' is not a full commit id", hex ? hex : "");
		return -EINVAL;
	}
	if (gitexport_object_fits(repo, &oid, GIT_OBJECT_COMMIT, SIZE_MAX) &&
	    !gitexport_object_fits(repo, &oid, GIT_OBJECT_COMMIT, GITEXPORT_MAX_COMMIT_BYTES)) {
		diag_error(dl, NULL, 0, 0, NULL, "commit %s is larger than %u MiB", hex,
			   GITEXPORT_MAX_COMMIT_BYTES >> 20);
		return -EFBIG;
	}
	if (git_commit_lookup(out, repo, &oid) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "commit %s does not exist in the repository", hex);
		return -ENOENT;
	}
	/* Belt and braces: the object we got is the one we asked for. */
	if (!git_oid_equal(git_commit_id(*out), &oid)) {
		git_commit_free(*out);
		*out = NULL;
		diag_error(dl, NULL, 0, 0, NULL,
			   "commit %s: the repository returned another object", hex);
		return -EIO;
	}
	return 0;
}

int gitexport_commit(const char *repo_dir, const char *commit, const char *dest,
		     struct diag_list *dl)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_index *baseline = NULL;
	git_odb *odb = NULL;
	int ret = 0;

	git_libgit2_init();
	if (git_repository_open(&repo, repo_dir) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot open the repository %s: %s", repo_dir,
			   last_git_error());
		ret = -ENOENT;
		goto out;
	}
	ret = lookup_commit(repo, commit, &c, dl);
	if (ret < 0) {
		goto out;
	}
	ret = lookup_tree(repo, git_commit_tree_id(c), &tree);
	if (ret == -EFBIG) {
		diag_error(dl, NULL, 0, 0, NULL, "commit %s: a tree object is larger than %u MiB",
			   commit, GITEXPORT_MAX_TREE_BYTES >> 20);
		goto out;
	}
	if (ret < 0 || git_repository_odb(&odb, repo) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "commit %s: cannot read its tree: %s", commit,
			   last_git_error());
		ret = -EIO;
		goto out;
	}
	struct census cen = { .odb = odb };
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, census_cb, &cen) < 0) {
		if (cen.err == -EFBIG) {
			diag_error(dl, NULL, 0, 0, NULL,
				   "commit %s is too large to check out (more than %u files, "
				   "%llu GiB, or a tree object above %u MiB)",
				   commit, GITEXPORT_MAX_ENTRIES,
				   (unsigned long long)(GITEXPORT_MAX_BYTES >> 30),
				   GITEXPORT_MAX_TREE_BYTES >> 20);
			ret = -EFBIG;
		} else if (cen.err == -ELOOP) {
			diag_error(dl, NULL, 0, 0, NULL,
				   "commit %s nests directories more than %u levels deep: refused",
				   commit, GITEXPORT_MAX_DEPTH);
			ret = -EFBIG;
		} else {
			diag_error(dl, NULL, 0, 0, "the mirror may be incomplete: fetch again",
				   "commit %s: objects of its tree are missing", commit);
			ret = -ENOENT;
		}
		goto out;
	}
	if (git_index_new(&baseline) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	co.checkout_strategy =
		GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX | GIT_CHECKOUT_DONT_WRITE_INDEX;
	co.target_directory = dest;
	co.disable_filters = 1;
	co.baseline_index = baseline;
	co.dir_mode = 0755;
	co.file_mode = 0; /* 0644 or 0755 from the tree */
	if (git_checkout_tree(repo, (const git_object *)tree, &co) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot check out commit %s into %s: %s", commit,
			   dest, last_git_error());
		ret = -EIO;
		goto out;
	}
	struct verify v = { .dest = dest, .repo = repo };
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, verify_cb, &v) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "checkout of commit %s does not match it: %s",
			   commit, v.bad ? v.bad : last_git_error());
		free(v.bad);
		ret = -EIO;
		goto out;
	}
out:
	git_index_free(baseline);
	git_odb_free(odb);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/* The repository at repo_dir and its commit (full hex id), checked as lookup_commit does. */
static int open_commit(const char *repo_dir, const char *commit, git_repository **repo,
		       git_commit **c, struct diag_list *dl)
{
	if (git_repository_open(repo, repo_dir) < 0) {
		return -ENOENT;
	}
	return lookup_commit(*repo, commit, c, dl);
}

/* Write the NUL-terminated strings of sb to a new file at out (0600), or nothing. */
static int write_list(const struct sbuf *sb, const char *out)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	int ret = write_all(fd, sb->data ? sb->data : "", sb->len);
	if (close(fd) < 0 && ret == 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlink(out);
	}
	return ret;
}

struct list_walk {
	struct sbuf sb;
	int err;
};

static int list_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct list_walk *lw = payload;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		return 0;
	}
	if (sbuf_printf(&lw->sb, "%s%s", root, git_tree_entry_name(e)) < 0 ||
	    sbuf_append(&lw->sb, "", 1) < 0) {
		lw->err = -EFBIG;
		return -1;
	}
	return 0;
}

int gitexport_write_file_list(const char *repo_dir, const char *commit, const char *out)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	struct diag_list dl;
	diag_list_init(&dl, 4);
	struct list_walk lw = { .err = 0 };
	/* At most the export's entries, each at most a path's length. */
	sbuf_init(&lw.sb, (size_t)GITEXPORT_MAX_ENTRIES * 4097);
	git_libgit2_init();
	int ret = open_commit(repo_dir, commit, &repo, &c, &dl);
	if (ret == 0) {
		ret = lookup_tree(repo, git_commit_tree_id(c), &tree);
	}
	if (ret == 0 && git_tree_walk(tree, GIT_TREEWALK_PRE, list_cb, &lw) < 0) {
		ret = lw.err ? lw.err : -EIO;
	}
	if (ret == 0) {
		ret = write_list(&lw.sb, out);
	}
	sbuf_release(&lw.sb);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	diag_list_release(&dl);
	return ret;
}

int gitexport_write_index_list(const char *dir, const char *out, char **workdir)
{
	git_repository *repo = NULL;
	git_index *index = NULL;
	struct sbuf sb;
	sbuf_init(&sb, (size_t)GITEXPORT_MAX_ENTRIES * 4097);
	*workdir = NULL;
	git_libgit2_init();
	int ret = 0;
	/* Whoever owns the repository (a checkout of another user's, as in many CI jobs): the
	 * scans read it all the same (scanners/walk.c turns the check off as well), so its
	 * list must not be left out for that. */
	int owner_check = 1;
	git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &owner_check);
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	int opened = git_repository_open_ext(&repo, dir, 0, NULL);
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, owner_check);
	if (opened < 0 || git_repository_is_bare(repo) || !git_repository_workdir(repo)) {
		ret = -ENOENT;
	} else if (git_repository_index(&index, repo) < 0) {
		ret = -EIO;
	}
	for (size_t i = 0; ret == 0 && i < git_index_entrycount(index); i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		if (e && (sbuf_puts(&sb, e->path) < 0 || sbuf_append(&sb, "", 1) < 0)) {
			ret = -EFBIG;
		}
	}
	if (ret == 0) {
		ret = write_list(&sb, out);
	}
	if (ret == 0) {
		*workdir = realpath(git_repository_workdir(repo), NULL);
		ret = *workdir ? 0 : -errno;
	}
	sbuf_release(&sb);
	git_index_free(index);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

int gitexport_changed_files(const char *repo_dir, const char *base, const char *head, size_t max,
			    char ***out, size_t *n)
{
	git_repository *repo = NULL;
	git_commit *cb = NULL, *ch = NULL;
	git_tree *tb = NULL, *th = NULL;
	git_diff *diff = NULL;
	struct diag_list dl;
	diag_list_init(&dl, 4);
	*out = NULL;
	*n = 0;
	git_libgit2_init();
	int ret = git_repository_open(&repo, repo_dir) < 0 ? -ENOENT : 0;
	if (ret == 0) {
		ret = lookup_commit(repo, base, &cb, &dl);
	}
	if (ret == 0) {
		ret = lookup_commit(repo, head, &ch, &dl);
	}
	if (ret == 0) {
		ret = lookup_tree(repo, git_commit_tree_id(cb), &tb);
	}
	if (ret == 0) {
		ret = lookup_tree(repo, git_commit_tree_id(ch), &th);
	}
	if (ret == 0 && git_diff_tree_to_tree(&diff, repo, tb, th, NULL) < 0) {
		ret = -EIO;
	}
	for (size_t i = 0; ret == 0 && i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_DELETED || !d->new_file.path) {
			continue;
		}
		if (*n >= max) {
			ret = -E2BIG;
			break;
		}
		*out = xreallocarray(*out, *n + 1, sizeof(char *));
		(*out)[(*n)++] = xstrdup(d->new_file.path);
	}
	git_diff_free(diff);
	git_tree_free(tb);
	git_tree_free(th);
	git_commit_free(cb);
	git_commit_free(ch);
	git_repository_free(repo);
	git_libgit2_shutdown();
	diag_list_release(&dl);
	return ret;
}

struct copy_walk {
	git_repository *repo;
	git_odb *odb;
	const char *dest;
	uint64_t left;
	int err;
};

/* One blob to dir/name (dir made first). */
static int copy_blob(struct copy_walk *cw, const git_oid *id, const char *dir, const char *name)
{
	size_t size;
	git_object_t type;
	if (git_odb_read_header(&size, &type, cw->odb, id) < 0 || type != GIT_OBJECT_BLOB) {
		return -ENOENT;
	}
	if (size > cw->left) {
		return -EFBIG;
	}
	cw->left -= size;
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, cw->repo, id) < 0) {
		return -ENOENT;
	}
	int r = mkdir_p(dir, 0755);
	if (r == 0) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
		r = write_file_replace(path, git_blob_rawcontent(blob), size, 0644);
	}
	git_blob_free(blob);
	return r;
}

static int copy_walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct copy_walk *cw = payload;
	if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB_EXECUTABLE) {
		return 0; /* trees are walked into; links and submodules left out */
	}
	_cleanup_free_ char *dir = xasprintf("%s/%s", cw->dest, root);
	cw->err = copy_blob(cw, git_tree_entry_id(e), dir, git_tree_entry_name(e));
	return cw->err < 0 ? -1 : 0;
}

int gitexport_copy_path(const char *repo_dir, const char *commit, const char *rel, const char *dest,
			uint64_t max_bytes)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree_entry *te = NULL;
	git_tree *sub = NULL;
	git_odb *odb = NULL;
	struct diag_list dl;
	diag_list_init(&dl, 4);
	git_libgit2_init();
	int ret = open_commit(repo_dir, commit, &repo, &c, &dl);
	if (ret == 0) {
		ret = entry_bypath(repo, c, rel, &te);
	}
	if (ret == 0 && git_repository_odb(&odb, repo) < 0) {
		ret = -EIO;
	}
	struct copy_walk cw = { repo, odb, NULL, max_bytes, 0 };
	_cleanup_free_ char *target = xasprintf("%s/%s", dest, rel);
	if (ret == 0 && git_tree_entry_type(te) == GIT_OBJECT_TREE) {
		cw.dest = target;
		ret = lookup_tree(repo, git_tree_entry_id(te), &sub);
		if (ret == 0 && git_tree_walk(sub, GIT_TREEWALK_PRE, copy_walk_cb, &cw) < 0) {
			ret = cw.err < 0 ? cw.err : -EIO;
		}
		if (ret == 0) {
			ret = mkdir_p(target, 0755); /* an empty directory is one too */
		}
	} else if (ret == 0 && (git_tree_entry_filemode(te) == GIT_FILEMODE_BLOB ||
				git_tree_entry_filemode(te) == GIT_FILEMODE_BLOB_EXECUTABLE)) {
		_cleanup_free_ char *parent = xstrdup(target);
		char *slash = strrchr(parent, '/');
		*slash = '\0';
		ret = copy_blob(&cw, git_tree_entry_id(te), parent, slash + 1);
	} else if (ret == 0) {
		ret = -ENOENT;
	}
	git_tree_free(sub);
	git_tree_entry_free(te);
	git_odb_free(odb);
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	diag_list_release(&dl);
	return ret;
}

int gitexport_read_file(const char *repo_dir, const char *commit, const char *path, size_t max,
			char **out, size_t *len)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	git_odb *odb = NULL;
	struct diag_list dl;
	int ret = 0;
	*out = NULL;
	*len = 0;
	diag_list_init(&dl, 4);
	git_libgit2_init();
	if (git_repository_open(&repo, repo_dir) < 0) {
		ret = -ENOENT;
		goto out;
	}
	ret = lookup_commit(repo, commit, &c, &dl);
	if (ret < 0) {
		goto out;
	}
	ret = entry_bypath(repo, c, path, &te);
	if (ret < 0) {
		goto out;
	}
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		ret = -ENOENT;
		goto out;
	}
	/* The size from the object's header first: looking the blob up inflates all of it,
	 * and a small object can inflate to gigabytes (zeros compress about 1000:1). */
	size_t hsize;
	git_object_t htype;
	if (git_repository_odb(&odb, repo) < 0 ||
	    git_odb_read_header(&hsize, &htype, odb, git_tree_entry_id(te)) < 0 ||
	    htype != GIT_OBJECT_BLOB) {
		ret = -ENOENT;
		goto out;
	}
	if (hsize > max) {
		ret = -EFBIG;
		goto out;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
		ret = -ENOENT;
		goto out;
	}
	git_object_size_t size = git_blob_rawsize(blob);
	if (size > max) {
		ret = -EFBIG;
		goto out;
	}
	*out = xmalloc((size_t)size + 1);
	memcpy(*out, git_blob_rawcontent(blob), (size_t)size);
	(*out)[size] = '\0';
	*len = (size_t)size;
out:
	git_blob_free(blob);
	git_odb_free(odb);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	diag_list_release(&dl);
	return ret;
}
