/*
 * githistory.c - the blobs a range of commits brings (see githistory.h), with libgit2.
 *
 * Two passes: the walk lists the range's commits (stopping one past the cap), then each
 * commit is compared with its parents, oldest first, and its new blobs are looked up by
 * id (a hash map) and counted against the caps from their headers. Nothing is written
 * until githistory_write(), which inflates each blob once.
 */
#include "githistory.h"

#include "diag.h"
#include "gitexport.h"
#include "hmap.h"
#include "util.h"

#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

struct ctx {
	git_repository *repo;
	git_odb *odb;
	const struct githistory_limits *lim;
	bool (*skip)(void *ud, const char *path);
	void *ud;
	struct githistory *h;
	struct diag_list *dl;
};

static const char *git_err(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

/* A revision of the range as a commit id: -ENOENT with a diagnostic when it names none. */
static int resolve(git_repository *repo, const char *what, const char *rev, git_oid *out,
		   struct diag_list *dl)
{
	git_object *obj = NULL, *peeled = NULL;
	int r = 0;
	if (git_revparse_single(&obj, repo, rev) < 0) {
		diag_error(dl, NULL, 0, 0, "give a commit id, a branch or a tag",
			   "--history: %s '%s' is not in the repository (%s)", what, rev,
			   git_err());
		r = -ENOENT;
	} else if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "--history: %s '%s' does not name a commit", what,
			   rev);
		r = -ENOENT;
	} else {
		git_oid_cpy(out, git_object_id(peeled));
	}
	git_object_free(peeled);
	git_object_free(obj);
	return r;
}

/* Leave out the history of the refs that `hide` says so of. A ref that does not lead to a
 * commit hides nothing: more is scanned, not less. */
static int hide_refs(git_repository *repo, git_revwalk *walk,
		     bool (*hide)(const char *ref, const char *arg), const char *arg,
		     struct diag_list *dl)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int r = 0;
	if (git_reference_iterator_new(&it, repo) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot list the repository's refs: %s",
			   git_err());
		return -EIO;
	}
	while ((r = git_reference_next(&ref, it)) == 0) {
		git_object *obj = NULL;
		if (hide(git_reference_name(ref), arg) &&
		    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0 &&
		    git_revwalk_hide(walk, git_object_id(obj)) < 0) {
			git_object_free(obj);
			git_reference_free(ref);
			r = -1;
			break;
		}
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (r != GIT_ITEROVER) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot read the repository's refs: %s",
			   git_err());
		return -EIO;
	}
	return 0;
}

/* A ref under `prefix` (refs/remotes/<name>/: a prefix, not a pattern). */
static bool is_under(const char *ref, const char *prefix)
{
	return str_has_prefix(ref, prefix);
}

/* The commits of the range, newest first as the walk gives them: at most max. */
static int walk_range(struct ctx *c, const struct githistory_range *r, git_oid **out, size_t *n)
{
	git_revwalk *walk = NULL;
	git_oid tip, base, id;
	size_t cap = 0;
	int ret = resolve(c->repo, "the tip", r->tip, &tip, c->dl);
	*out = NULL;
	*n = 0;
	if (ret == 0 && r->base) {
		ret = resolve(c->repo, "the base", r->base, &base, c->dl);
	}
	if (ret < 0) {
		return ret;
	}
	git_oid_tostr(c->h->tip, sizeof(c->h->tip), &tip);
	if (r->base) {
		git_oid_tostr(c->h->base, sizeof(c->h->base), &base);
	}
	if (git_revwalk_new(&walk, c->repo) < 0 || git_revwalk_push(walk, &tip) < 0 ||
	    (r->base && git_revwalk_hide(walk, &base) < 0)) {
		diag_error(c->dl, NULL, 0, 0, NULL, "cannot walk the history of %s: %s", r->tip,
			   git_err());
		git_revwalk_free(walk);
		return -EIO;
	}
	if (r->not_remote) {
		_cleanup_free_ char *prefix = xasprintf("refs/remotes/%s/", r->not_remote);
		ret = hide_refs(c->repo, walk, is_under, prefix, c->dl);
	}
	if (ret == 0 && r->not_under) {
		ret = hide_refs(c->repo, walk, is_under, r->not_under, c->dl);
	}
	if (ret < 0) {
		git_revwalk_free(walk);
		return ret;
	}
	while ((ret = git_revwalk_next(&id, walk)) == 0) {
		if (*n >= c->lim->max_commits) {
			diag_error(c->dl, NULL, 0, 0,
				   "push fewer commits at a time, or raise the cap with "
				   "--max-commits N (for the pre-push hook: runner hook install "
				   "--max-commits N)",
				   "--history: more than %zu commits to scan (the --max-commits "
				   "cap): nothing was scanned",
				   c->lim->max_commits);
			git_revwalk_free(walk);
			return -E2BIG;
		}
		GROW(*out, cap, *n + 1);
		(*out)[(*n)++] = id;
	}
	git_revwalk_free(walk);
	if (ret != GIT_ITEROVER) {
		diag_error(c->dl, NULL, 0, 0, "the repository may be shallow or incomplete",
			   "cannot walk the history of %s: %s", r->tip, git_err());
		return -EIO;
	}
	return 0;
}

/* A commit and its tree, their sizes checked from their headers first (as an export
 * checks them). */
static int load_commit(struct ctx *c, const git_oid *id, git_commit **commit, git_tree **tree)
{
	char hex[41];
	git_oid_tostr(hex, sizeof(hex), id);
	*commit = NULL;
	*tree = NULL;
	if (!gitexport_object_fits(c->repo, id, GIT_OBJECT_COMMIT, SIZE_MAX) ||
	    git_commit_lookup(commit, c->repo, id) < 0) {
		diag_error(c->dl, NULL, 0, 0, "the repository may be shallow or incomplete",
			   "commit %s is missing", hex);
		return -EIO;
	}
	if (!gitexport_object_fits(c->repo, id, GIT_OBJECT_COMMIT, GITEXPORT_MAX_COMMIT_BYTES)) {
		diag_error(c->dl, NULL, 0, 0, NULL, "commit %s is larger than %u MiB: refused", hex,
			   GITEXPORT_MAX_COMMIT_BYTES >> 20);
		return -E2BIG;
	}
	const git_oid *tid = git_commit_tree_id(*commit);
	if (!gitexport_object_fits(c->repo, tid, GIT_OBJECT_TREE, GITEXPORT_MAX_TREE_BYTES)) {
		diag_error(c->dl, NULL, 0, 0, NULL,
			   "commit %s: its tree is missing or larger than %u MiB", hex,
			   GITEXPORT_MAX_TREE_BYTES >> 20);
		return -EIO;
	}
	if (git_tree_lookup(tree, c->repo, tid) < 0) {
		diag_error(c->dl, NULL, 0, 0, NULL, "commit %s: cannot read its tree: %s", hex,
			   git_err());
		return -EIO;
	}
	return 0;
}

/* One more place of blob id (a new blob: its header against the caps). */
static int add_place(struct ctx *c, const git_oid *id, const char *commit, const char *path)
{
	struct githistory *h = c->h;
	if (c->skip && c->skip(c->ud, path)) {
		return 0;
	}
	char hex[41];
	git_oid_tostr(hex, sizeof(hex), id);
	struct githistory_blob *b = hmap_get(h->by_id, hex);
	if (!b) {
		size_t size;
		git_object_t type;
		if (git_odb_read_header(&size, &type, c->odb, id) < 0 || type != GIT_OBJECT_BLOB) {
			diag_error(c->dl, NULL, 0, 0, "the repository may be incomplete",
				   "commit %s: the file %s (blob %s) cannot be read", commit, path,
				   hex);
			return -EIO;
		}
		if (h->n_blobs >= c->lim->max_blobs) {
			diag_error(c->dl, NULL, 0, 0, "push fewer commits at a time",
				   "--history: the commits bring more than %zu files to scan (the "
				   "cap on files): nothing was scanned",
				   c->lim->max_blobs);
			return -E2BIG;
		}
		if (size > c->lim->max_bytes - h->bytes) {
			diag_error(c->dl, NULL, 0, 0, "push fewer commits at a time",
				   "--history: the commits bring more than %llu MiB of files to "
				   "scan (the cap on their size): nothing was scanned",
				   (unsigned long long)(c->lim->max_bytes >> 20));
			return -E2BIG;
		}
		b = xcalloc(1, sizeof(*b));
		memcpy(b->id, hex, sizeof(hex));
		b->size = size;
		h->bytes += size;
		GROW(h->blobs, h->cap_blobs, h->n_blobs + 1);
		h->blobs[h->n_blobs++] = b;
		hmap_put(h->by_id, b->id, b);
	}
	if (b->n_places < GITHISTORY_MAX_PLACES) {
		struct githistory_place *p = &b->places[b->n_places++];
		memcpy(p->commit, commit, sizeof(p->commit));
		p->path = xstrdup(path);
	} else {
		b->more_places++;
	}
	return 0;
}

static bool is_file_mode(uint16_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
	       mode == GIT_FILEMODE_LINK;
}

/* Whether tree has blob id at path. */
static bool tree_has(git_tree *tree, const char *path, const git_oid *id)
{
	git_tree_entry *e = NULL;
	bool same = git_tree_entry_bypath(&e, tree, path) == 0 &&
		    git_oid_equal(git_tree_entry_id(e), id);
	git_tree_entry_free(e);
	return same;
}

/* The new blobs of one commit. */
static int commit_blobs(struct ctx *c, const git_oid *id)
{
	git_commit *commit = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	char hex[41];
	bool *gone = NULL;
	git_oid_tostr(hex, sizeof(hex), id);
	int ret = load_commit(c, id, &commit, &tree);
	unsigned np = ret == 0 ? git_commit_parentcount(commit) : 0;
	if (ret == 0 && np > 0) {
		ret = load_commit(c, git_commit_parent_id(commit, 0), &parent, &ptree);
	}
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	/* Tree against tree: no content is read, binary or not. */
	o.flags = GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_INCLUDE_TYPECHANGE;
	if (ret == 0 && git_diff_tree_to_tree(&diff, c->repo, ptree, tree, &o) < 0) {
		diag_error(c->dl, NULL, 0, 0, NULL,
			   "commit %s: cannot compare it with its parent: %s", hex, git_err());
		ret = -EIO;
	}
	size_t nd = ret == 0 ? git_diff_num_deltas(diff) : 0;
	gone = xcalloc(nd + 1, sizeof(bool));
	/* A merge: what one of the other parents already has at that path is not new. */
	for (unsigned k = 1; ret == 0 && k < np; k++) {
		git_commit_free(parent);
		git_tree_free(ptree);
		ret = load_commit(c, git_commit_parent_id(commit, k), &parent, &ptree);
		for (size_t i = 0; ret == 0 && i < nd; i++) {
			const git_diff_delta *d = git_diff_get_delta(diff, i);
			gone[i] = gone[i] || tree_has(ptree, d->new_file.path, &d->new_file.id);
		}
	}
	for (size_t i = 0; ret == 0 && i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (gone[i] || d->status == GIT_DELTA_DELETED || !d->new_file.path ||
		    !is_file_mode(d->new_file.mode)) {
			continue;
		}
		ret = add_place(c, &d->new_file.id, hex, d->new_file.path);
	}
	free(gone);
	git_diff_free(diff);
	git_tree_free(ptree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(commit);
	return ret;
}

int githistory_collect(const char *dir, const struct githistory_range *r,
		       const struct githistory_limits *lim,
		       bool (*skip)(void *ud, const char *path), void *ud, struct githistory *out,
		       struct diag_list *dl)
{
	memset(out, 0, sizeof(*out));
	out->by_id = hmap_new(64);
	struct ctx c = { .lim = lim, .skip = skip, .ud = ud, .h = out, .dl = dl };
	git_oid *ids = NULL;
	size_t n = 0;
	int ret = 0;
	git_libgit2_init();
	if (git_repository_open_ext(&c.repo, dir, 0, NULL) < 0) {
		diag_error(dl, NULL, 0, 0, "run it inside a git repository, or use -C DIR",
			   "%s is not inside a git repository", dir);
		ret = -ENOENT;
		goto out;
	}
	out->repo_dir = xstrdup(git_repository_path(c.repo));
	if (git_repository_odb(&c.odb, c.repo) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot open the object database: %s", git_err());
		ret = -EIO;
		goto out;
	}
	ret = walk_range(&c, r, &ids, &n);
	out->n_commits = n;
	/* Oldest first, so that a blob's first place is (about) the commit that brought it. */
	for (size_t i = n; ret == 0 && i-- > 0;) {
		ret = commit_blobs(&c, &ids[i]);
	}
out:
	free(ids);
	git_odb_free(c.odb);
	git_repository_free(c.repo);
	git_libgit2_shutdown();
	return ret;
}

int githistory_write(const struct githistory *h, const char *dest, struct diag_list *dl)
{
	git_repository *repo = NULL;
	int ret = 0;
	git_libgit2_init();
	if (git_repository_open(&repo, h->repo_dir) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot open the repository %s: %s", h->repo_dir,
			   git_err());
		ret = -EIO;
		goto out;
	}
	for (size_t i = 0; ret == 0 && i < h->n_blobs; i++) {
		const struct githistory_blob *b = h->blobs[i];
		git_blob *blob = NULL;
		git_oid id;
		_cleanup_free_ char *sub = xasprintf("%s/%.2s", dest, b->id);
		_cleanup_free_ char *path = xasprintf("%s/%s", sub, b->id + 2);
		if (git_oid_fromstr(&id, b->id) < 0 || git_blob_lookup(&blob, repo, &id) < 0 ||
		    git_blob_rawsize(blob) != b->size) {
			diag_error(dl, NULL, 0, 0, NULL, "cannot read blob %s (%s): %s", b->id,
				   b->places[0].path, git_err());
			git_blob_free(blob);
			ret = -EIO;
			break;
		}
		if (mkdir(sub, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
		}
		int fd = ret < 0 ? -1
				 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					0644);
		if (ret == 0 && fd < 0) {
			ret = -errno;
		}
		if (ret == 0) {
			ret = write_all(fd, git_blob_rawcontent(blob), (size_t)b->size);
		}
		if (fd >= 0 && close(fd) < 0 && ret == 0) {
			ret = -errno;
		}
		git_blob_free(blob);
		if (ret < 0) {
			diag_error(dl, NULL, 0, 0, "set TMPDIR to a directory with room",
				   "cannot write %s: %s", path, strerror(-ret));
		}
	}
out:
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

const struct githistory_blob *githistory_blob_of_file(const struct githistory *h, const char *rel)
{
	char hex[41];
	if (!rel || strlen(rel) != 41 || rel[2] != '/') {
		return NULL;
	}
	memcpy(hex, rel, 2);
	memcpy(hex + 2, rel + 3, 39);
	return hmap_get(h->by_id, hex);
}

void githistory_release(struct githistory *h)
{
	for (size_t i = 0; i < h->n_blobs; i++) {
		for (size_t k = 0; k < h->blobs[i]->n_places; k++) {
			free(h->blobs[i]->places[k].path);
		}
		free(h->blobs[i]);
	}
	free(h->blobs);
	hmap_free(h->by_id);
	free(h->repo_dir);
	memset(h, 0, sizeof(*h));
}
