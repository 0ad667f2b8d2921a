/*
 * githistory.c - the blobs a range of commits brings (see githistory.h), with libgit2.
 *
 * Two passes: the walk lists the range's commits (its own walk, which knows shallow
 * boundaries: see githistory.h), then each commit is compared with its parents, oldest
 * first (tree against tree, skipping the directories that did not change, in the path
 * order a diff of the two trees lists them in), and its new blobs are looked up by id (a
 * hash map) and counted against the caps from their headers. Nothing is written until
 * githistory_write() (or its pack), which inflates each blob once.
 */
#include "githistory.h"

#include "blobpack.h"
#include "diag.h"
#include "gitexport.h"
#include "hmap.h"
#include "util.h"

#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(GITHISTORY_MAX_PLACES <= BLOBPACK_MAX_NAMES, "a pack names every place");

#include "banned.h"

struct ctx {
	git_repository *repo;
	git_odb *odb;
	const struct githistory_limits *lim;
	bool (*skip)(void *ud, const char *path);
	void *ud;
	struct githistory *h;
	struct diag_list *dl;
	/* The commits the shallow file lists (keys and values in shallow_buf), or NULL. */
	struct hmap *shallow;
	char *shallow_buf;
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

/* ---------- the shallow file ---------- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* The repository's shallow file, if it has one: a commit id a line, as git writes it.
 * Anything else in it is an error: which commits end the history would be a guess. */
static int load_shallow(struct ctx *c)
{
	const char *common = git_repository_commondir(c->repo);
	size_t cl = strlen(common);
	_cleanup_free_ char *path =
		xasprintf("%s%sshallow", common, cl && common[cl - 1] == '/' ? "" : "/");
	char *buf = NULL;
	size_t len = 0;
	int r = read_regular_capped(path, GITHISTORY_MAX_SHALLOW_BYTES, &buf, &len);
	if (r == -ENOENT) {
		return 0;
	}
	if (r == -EFBIG) {
		diag_error(c->dl, NULL, 0, 0, NULL,
			   "--history: the repository's shallow file %s is larger than %u MiB: "
			   "refused",
			   path, GITHISTORY_MAX_SHALLOW_BYTES >> 20);
		return -E2BIG;
	}
	if (r < 0) {
		diag_error(c->dl, NULL, 0, 0, NULL,
			   "--history: cannot read the repository's shallow file %s: %s", path,
			   r == -EINVAL ? "it is not a regular file" : strerror(-r));
		return -EIO;
	}
	c->shallow_buf = buf;
	c->shallow = hmap_new(len / (GIT_OID_HEXSZ + 1) + 1);
	size_t line = 0;
	for (char *p = buf; p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
		line++;
		if (n != GIT_OID_HEXSZ || !is_hex(p, n)) {
			diag_error(c->dl, NULL, 0, 0,
				   "git writes it: the commits where a shallow clone's history "
				   "ends, one id a line",
				   "--history: the repository's shallow file %s: line %zu is not a "
				   "commit id",
				   path, line);
			return -EIO;
		}
		for (size_t i = 0; i < n; i++) {
			p[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 'a' : p[i]);
		}
		p[n] = '\0'; /* the newline, or the buffer's own NUL */
		hmap_put(c->shallow, p, p);
		p += n + 1;
	}
	return 0;
}

/* Whether the shallow file lists commit hex (it has no parents here). */
static bool is_shallow(const struct ctx *c, const char *hex)
{
	return c->shallow && hmap_get(c->shallow, hex);
}

/* ---------- the walk ---------- */

/* Hidden commits taken off the queue, once it holds nothing else, before the walk stops:
 * a commit dated later than its child (a wrong clock) can still be reached (git's SLOP). */
#define WALK_SLOP 5

enum {
	W_HIDDEN = 1u << 0, /* the history left out reaches it */
	W_QUEUED = 1u << 1,
	W_DONE = 1u << 2,  /* taken off the queue: its parents are nodes */
	W_RANGE = 1u << 3, /* taken off the queue while not hidden */
	W_CUT = 1u << 4,   /* a shallow boundary: its parents are left out */
};

struct wnode {
	git_oid id;
	char hex[41]; /* the key of walk.nodes */
	int64_t time; /* committer date */
	uint64_t seq; /* order of queueing, among equal dates */
	unsigned flags;
	unsigned n_parents;
	size_t children;	/* for the output's order: children in the range not yet listed */
	git_oid *pids;		/* the parents' ids, until W_DONE */
	struct wnode **parents; /* once W_DONE */
};

struct walk {
	struct ctx *c;
	const char *tip; /* for messages */
	size_t max;	 /* nodes the walk may read */
	struct hmap *nodes;
	struct wnode **all;
	size_t n_all, cap_all;
	struct wnode **heap; /* newest first */
	size_t n_heap, cap_heap, n_heap_hidden;
	struct wnode **stack; /* for mark_hidden() */
	size_t cap_stack;
	uint64_t seq;
	size_t n_range; /* nodes W_RANGE and not W_HIDDEN */
};

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n_all; i++) {
		free(w->all[i]->pids);
		free(w->all[i]->parents);
		free(w->all[i]);
	}
	free(w->all);
	free(w->heap);
	free(w->stack);
	hmap_free(w->nodes);
}

static bool before(const struct wnode *a, const struct wnode *b)
{
	return a->time > b->time || (a->time == b->time && a->seq < b->seq);
}

static void heap_push(struct walk *w, struct wnode *n)
{
	n->flags |= W_QUEUED;
	n->seq = w->seq++;
	w->n_heap_hidden += (n->flags & W_HIDDEN) != 0;
	GROW(w->heap, w->cap_heap, w->n_heap + 1);
	size_t i = w->n_heap++;
	while (i > 0 && before(n, w->heap[(i - 1) / 2])) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = n;
}

static struct wnode *heap_pop(struct walk *w)
{
	struct wnode *top = w->heap[0], *last = w->heap[--w->n_heap];
	size_t i = 0;
	for (;;) {
		size_t k = 2 * i + 1;
		if (k >= w->n_heap) {
			break;
		}
		if (k + 1 < w->n_heap && before(w->heap[k + 1], w->heap[k])) {
			k++;
		}
		if (!before(w->heap[k], last)) {
			break;
		}
		w->heap[i] = w->heap[k];
		i = k;
	}
	if (w->n_heap > 0) {
		w->heap[i] = last;
	}
	top->flags &= ~W_QUEUED;
	w->n_heap_hidden -= (top->flags & W_HIDDEN) != 0;
	return top;
}

/* n and what it is known to reach are hidden: a commit taken off the queue already has
 * its parents, which are marked too (and theirs); the others pass it on when taken. */
static void mark_hidden(struct walk *w, struct wnode *n)
{
	size_t top = 0;
	GROW(w->stack, w->cap_stack, 1);
	w->stack[top++] = n;
	while (top > 0) {
		struct wnode *x = w->stack[--top];
		if (x->flags & W_HIDDEN) {
			continue;
		}
		x->flags |= W_HIDDEN;
		w->n_range -= (x->flags & W_RANGE) != 0;
		w->n_heap_hidden += (x->flags & W_QUEUED) != 0;
		if (x->flags & W_DONE) {
			GROW(w->stack, w->cap_stack, top + x->n_parents);
			for (unsigned i = 0; i < x->n_parents; i++) {
				w->stack[top++] = x->parents[i];
			}
		}
	}
}

static int too_many_commits(const struct ctx *c)
{
	diag_error(c->dl, NULL, 0, 0,
		   "push fewer commits at a time, or raise the cap with --max-commits N (for "
		   "the pre-push hook: runner hook install --max-commits N)",
		   "--history: more than %zu commits to scan (the --max-commits cap): nothing "
		   "was scanned",
		   c->lim->max_commits);
	return -E2BIG;
}

/* The node of commit id, read (its date and parents) when it is new. child: the commit
 * whose parent it is, or NULL for a start. */
static int node_get(struct walk *w, const git_oid *id, const struct wnode *child,
		    struct wnode **out)
{
	char hex[41];
	git_oid_tostr(hex, sizeof(hex), id);
	*out = hmap_get(w->nodes, hex);
	if (*out) {
		return 0;
	}
	struct ctx *c = w->c;
	if (w->n_all >= w->max) {
		diag_error(c->dl, NULL, 0, 0,
			   "give a base nearer the tip (BASE..TIP), or leave out less history",
			   "--history: more than %zu commits to read to tell the range of %s from "
			   "the history left out (the walk's cap): nothing was scanned",
			   w->max, w->tip);
		return -E2BIG;
	}
	size_t size;
	git_object_t type;
	if (git_odb_read_header(&size, &type, c->odb, id) < 0 || type != GIT_OBJECT_COMMIT) {
		char of[64] = "";
		if (child) {
			snprintf(of, sizeof(of), ", a parent of %.12s,", child->hex);
		}
		diag_error(c->dl, NULL, 0, 0,
			   "the repository is incomplete (git fsck says what it lacks); a "
			   "shallow clone lists where its history ends in its shallow file",
			   "cannot walk the history of %s: commit %s%s is not in the repository",
			   w->tip, hex, of);
		return -EIO;
	}
	if (size > GITEXPORT_MAX_COMMIT_BYTES) {
		diag_error(c->dl, NULL, 0, 0, NULL, "commit %s is larger than %u MiB: refused", hex,
			   GITEXPORT_MAX_COMMIT_BYTES >> 20);
		return -E2BIG;
	}
	git_commit *commit = NULL;
	if (git_commit_lookup(&commit, c->repo, id) < 0) {
		diag_error(c->dl, NULL, 0, 0, NULL, "cannot read commit %s: %s", hex, git_err());
		return -EIO;
	}
	struct wnode *n = xcalloc(1, sizeof(*n));
	git_oid_cpy(&n->id, id);
	memcpy(n->hex, hex, sizeof(hex));
	n->time = (int64_t)git_commit_time(commit);
	unsigned np = git_commit_parentcount(commit);
	if (is_shallow(c, hex)) {
		n->flags |= np ? W_CUT : 0;
		np = 0;
	}
	n->n_parents = np;
	n->pids = xcalloc(np ? np : 1, sizeof(git_oid));
	for (unsigned i = 0; i < np; i++) {
		git_oid_cpy(&n->pids[i], git_commit_parent_id(commit, i));
	}
	git_commit_free(commit);
	GROW(w->all, w->cap_all, w->n_all + 1);
	w->all[w->n_all++] = n;
	hmap_put(w->nodes, n->hex, n);
	*out = n;
	return 0;
}

/* A start of the walk: the tip, or a commit whose history is left out. */
static int walk_start(struct walk *w, const git_oid *id, bool hidden)
{
	struct wnode *n;
	int r = node_get(w, id, NULL, &n);
	if (r < 0) {
		return r;
	}
	if (hidden) {
		mark_hidden(w, n);
	}
	if (!(n->flags & W_QUEUED)) {
		heap_push(w, n);
	}
	return 0;
}

/* n, taken off the queue: its parents become nodes, hidden when n is, and are queued. */
static int expand(struct walk *w, struct wnode *n)
{
	n->parents = xcalloc(n->n_parents ? n->n_parents : 1, sizeof(*n->parents));
	for (unsigned i = 0; i < n->n_parents; i++) {
		struct wnode *p;
		int r = node_get(w, &n->pids[i], n, &p);
		if (r < 0) {
			return r;
		}
		n->parents[i] = p;
		if (n->flags & W_HIDDEN) {
			mark_hidden(w, p);
		}
		if (!(p->flags & (W_QUEUED | W_DONE))) {
			heap_push(w, p);
		}
	}
	free(n->pids);
	n->pids = NULL;
	n->flags |= W_DONE;
	return 0;
}

/* Take commits off the queue, newest first, until what is left of it is hidden: those
 * taken while not hidden (and not hidden since) are the range. */
static int walk_limit(struct walk *w)
{
	int64_t last = INT64_MAX; /* the date of the last commit of the range taken */
	int slop = WALK_SLOP;
	while (w->n_heap > 0) {
		struct wnode *n = heap_pop(w);
		int r = expand(w, n);
		if (r < 0) {
			return r;
		}
		if (!(n->flags & W_HIDDEN)) {
			n->flags |= W_RANGE;
			w->n_range++;
			last = n->time;
			/* Nothing hidden is left to mark it: past the cap already. */
			if (w->n_heap_hidden == 0 && w->n_range > w->c->lim->max_commits) {
				return too_many_commits(w->c);
			}
			continue;
		}
		if (w->n_heap == 0) {
			break;
		}
		if (w->n_heap_hidden < w->n_heap || w->heap[0]->time >= last) {
			slop = WALK_SLOP;
		} else if (--slop == 0) {
			break;
		}
	}
	return 0;
}

static bool in_range(const struct wnode *n)
{
	return (n->flags & (W_RANGE | W_HIDDEN)) == W_RANGE;
}

/* The range newest first, each commit before its parents (a child dated before its
 * parent too), into out; its shallow boundaries counted into c->h. */
static int walk_order(struct walk *w, git_oid **out, size_t *n)
{
	struct githistory *h = w->c->h;
	if (w->n_range > w->c->lim->max_commits) {
		return too_many_commits(w->c);
	}
	for (size_t i = 0; i < w->n_all; i++) {
		const struct wnode *x = w->all[i];
		for (unsigned k = 0; in_range(x) && k < x->n_parents; k++) {
			x->parents[k]->children += in_range(x->parents[k]);
		}
	}
	w->n_heap = w->n_heap_hidden = 0;
	for (size_t i = 0; i < w->n_all; i++) {
		if (in_range(w->all[i]) && w->all[i]->children == 0) {
			heap_push(w, w->all[i]);
		}
	}
	*out = xcalloc(w->n_range ? w->n_range : 1, sizeof(git_oid));
	while (w->n_heap > 0) {
		struct wnode *x = heap_pop(w);
		git_oid_cpy(&(*out)[(*n)++], &x->id);
		if ((x->flags & W_CUT) && h->n_shallow++ == 0) {
			memcpy(h->shallow, x->hex, sizeof(h->shallow));
		}
		for (unsigned k = 0; k < x->n_parents; k++) {
			struct wnode *p = x->parents[k];
			if (in_range(p) && --p->children == 0) {
				heap_push(w, p);
			}
		}
	}
	return 0;
}

/* Leave out the history of the refs that `hide` says so of. A ref that does not lead to a
 * commit hides nothing: more is scanned, not less. */
static int hide_refs(struct walk *w, bool (*hide)(const char *ref, const char *arg),
		     const char *arg)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	struct diag_list *dl = w->c->dl;
	int r = 0;
	if (git_reference_iterator_new(&it, w->c->repo) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot list the repository's refs: %s",
			   git_err());
		return -EIO;
	}
	while ((r = git_reference_next(&ref, it)) == 0) {
		git_object *obj = NULL;
		int h = 0;
		if (hide(git_reference_name(ref), arg) &&
		    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
			h = walk_start(w, git_object_id(obj), true);
		}
		git_object_free(obj);
		git_reference_free(ref);
		if (h < 0) {
			git_reference_iterator_free(it);
			return h;
		}
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

/* The commits of the range, newest first (each before its parents): at most max. */
static int walk_range(struct ctx *c, const struct githistory_range *r, git_oid **out, size_t *n)
{
	git_oid tip, base;
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
	struct walk w = {
		.c = c,
		.tip = r->tip,
		.max = c->lim->max_walk ? c->lim->max_walk
					: c->lim->max_commits + GITHISTORY_MAX_WALK,
		.nodes = hmap_new(256),
	};
	ret = walk_start(&w, &tip, false);
	if (ret == 0 && r->base) {
		ret = walk_start(&w, &base, true);
	}
	if (ret == 0 && r->not_remote) {
		_cleanup_free_ char *prefix = xasprintf("refs/remotes/%s/", r->not_remote);
		ret = hide_refs(&w, is_under, prefix);
	}
	if (ret == 0 && r->not_under) {
		ret = hide_refs(&w, is_under, r->not_under);
	}
	if (ret == 0) {
		ret = walk_limit(&w);
	}
	if (ret == 0) {
		ret = walk_order(&w, out, n);
	}
	walk_release(&w);
	return ret;
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

/* A file of a commit's tree that its first parent's has not: path and blob. */
struct change {
	char *path;
	git_oid id;
};

struct changes {
	struct change *v;
	size_t n, cap;
};

static void changes_release(struct changes *ch)
{
	for (size_t i = 0; i < ch->n; i++) {
		free(ch->v[i].path);
	}
	free(ch->v);
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct change *)a)->path, ((const struct change *)b)->path);
}

/* The subtree of entry e, its size checked from its header first. */
static int subtree(struct ctx *c, const char *commit, const git_tree_entry *e, git_tree **out)
{
	const git_oid *id = git_tree_entry_id(e);
	*out = NULL;
	if (!gitexport_object_fits(c->repo, id, GIT_OBJECT_TREE, GITEXPORT_MAX_TREE_BYTES) ||
	    git_tree_lookup(out, c->repo, id) < 0) {
		diag_error(c->dl, NULL, 0, 0, "the repository may be incomplete",
			   "commit %s: the directory %s is missing or larger than %u MiB", commit,
			   git_tree_entry_name(e), GITEXPORT_MAX_TREE_BYTES >> 20);
		return -EIO;
	}
	return 0;
}

/*
 * The files (regular files, executables, symbolic links) of tree, below prefix, that old
 * (NULL: none) has not at the same path with the same id and mode: what a diff of the two
 * trees lists as added, modified or changed in type. A directory whose tree is the same on
 * both sides is not read (the diff's time went into reading every one at every commit);
 * nesting deeper than GITEXPORT_MAX_DEPTH is refused, as an export refuses it.
 */
static int tree_changes(struct ctx *c, const char *commit, git_tree *old, git_tree *tree,
			const char *prefix, unsigned depth, struct changes *out)
{
	if (depth > GITEXPORT_MAX_DEPTH) {
		diag_error(c->dl, NULL, 0, 0, NULL,
			   "commit %s: directories nested deeper than %d levels (%.200s...): "
			   "refused",
			   commit, GITEXPORT_MAX_DEPTH, prefix);
		return -E2BIG;
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		const git_tree_entry *o = old ? git_tree_entry_byname(old, name) : NULL;
		git_filemode_t mode = git_tree_entry_filemode(e);
		bool was_tree = o && git_tree_entry_type(o) == GIT_OBJECT_TREE;
		bool same_id = o && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e));
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			if (was_tree && same_id) {
				continue;
			}
			git_tree *sub = NULL, *osub = NULL;
			_cleanup_free_ char *path = xasprintf("%s%s/", prefix, name);
			r = subtree(c, commit, e, &sub);
			if (r == 0 && was_tree) {
				r = subtree(c, commit, o, &osub);
			}
			if (r == 0) {
				r = tree_changes(c, commit, osub, sub, path, depth + 1, out);
			}
			git_tree_free(osub);
			git_tree_free(sub);
			continue;
		}
		if (!is_file_mode((uint16_t)mode) ||
		    (o && !was_tree && same_id && git_tree_entry_filemode(o) == mode)) {
			continue;
		}
		GROW(out->v, out->cap, out->n + 1);
		out->v[out->n].path = xasprintf("%s%s", prefix, name);
		git_oid_cpy(&out->v[out->n].id, git_tree_entry_id(e));
		out->n++;
	}
	return r;
}

/* The new blobs of one commit. */
static int commit_blobs(struct ctx *c, const git_oid *id)
{
	git_commit *commit = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	struct changes ch = { 0 };
	char hex[41];
	bool *gone = NULL;
	git_oid_tostr(hex, sizeof(hex), id);
	int ret = load_commit(c, id, &commit, &tree);
	/* A shallow boundary is a root here: all of its files are new. */
	unsigned np = ret == 0 && !is_shallow(c, hex) ? git_commit_parentcount(commit) : 0;
	if (ret == 0 && np > 0) {
		ret = load_commit(c, git_commit_parent_id(commit, 0), &parent, &ptree);
	}
	/* Tree against tree: no content is read, binary or not. In path order, as a diff
	 * lists them (a blob's first place is the first path that brought it). */
	if (ret == 0) {
		ret = tree_changes(c, hex, ptree, tree, "", 0, &ch);
	}
	if (ch.n > 1) {
		qsort(ch.v, ch.n, sizeof(*ch.v), cmp_change);
	}
	gone = xcalloc(ch.n + 1, sizeof(bool));
	/* A merge: what one of the other parents already has at that path is not new. */
	for (unsigned k = 1; ret == 0 && k < np; k++) {
		git_commit_free(parent);
		git_tree_free(ptree);
		ret = load_commit(c, git_commit_parent_id(commit, k), &parent, &ptree);
		for (size_t i = 0; ret == 0 && i < ch.n; i++) {
			gone[i] = gone[i] || tree_has(ptree, ch.v[i].path, &ch.v[i].id);
		}
	}
	for (size_t i = 0; ret == 0 && i < ch.n; i++) {
		if (!gone[i]) {
			ret = add_place(c, &ch.v[i].id, hex, ch.v[i].path);
		}
	}
	free(gone);
	changes_release(&ch);
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
	ret = load_shallow(&c);
	if (ret < 0) {
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
	hmap_free(c.shallow);
	free(c.shallow_buf);
	git_odb_free(c.odb);
	git_repository_free(c.repo);
	git_libgit2_shutdown();
	return ret;
}

static const char *place_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t n = strlen(name);
	return n == 0 || n > NAME_MAX || str_eq(name, ".") || str_eq(name, "..") ? "blob" : name;
}

/*
 * The name blob b is written under for its place k (the last component of its path), or
 * NULL when an earlier place gave the same name. A name the file system cannot take as
 * one component ("", ".", "..", longer than NAME_MAX) is "blob": read as no kind of file
 * in particular, as a name without an extension would be.
 */
static const char *blob_name(const struct githistory_blob *b, size_t k)
{
	const char *name = place_name(b->places[k].path);
	for (size_t i = 0; i < k; i++) {
		if (str_eq(place_name(b->places[i].path), name)) {
			return NULL;
		}
	}
	return name;
}

/* Each blob of h, read from the repository, with the names it is written under, to fn;
 * stops at the first error (fn's, which says it in dl, or -EIO said here). */
static int each_blob(const struct githistory *h, struct diag_list *dl,
		     int (*fn)(const struct githistory_blob *b, const char *const *names, size_t n,
			       const void *data, void *ud, struct diag_list *dl),
		     void *ud)
{
	git_repository *repo = NULL;
	int ret = 0;
	git_libgit2_init();
	if (git_repository_open(&repo, h->repo_dir) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot open the repository %s: %s", h->repo_dir,
			   git_err());
		ret = -EIO;
	}
	for (size_t i = 0; repo && ret == 0 && i < h->n_blobs; i++) {
		const struct githistory_blob *b = h->blobs[i];
		const char *names[GITHISTORY_MAX_PLACES];
		size_t n = 0;
		git_blob *blob = NULL;
		git_oid id;
		if (git_oid_fromstr(&id, b->id) < 0 || git_blob_lookup(&blob, repo, &id) < 0 ||
		    git_blob_rawsize(blob) != b->size) {
			diag_error(dl, NULL, 0, 0, NULL, "cannot read blob %s (%s): %s", b->id,
				   b->places[0].path, git_err());
			git_blob_free(blob);
			ret = -EIO;
			break;
		}
		for (size_t k = 0; k < b->n_places; k++) {
			const char *name = blob_name(b, k);
			if (name) {
				names[n++] = name;
			}
		}
		ret = fn(b, names, n, git_blob_rawcontent(blob), ud, dl);
		git_blob_free(blob);
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

static int write_one(const struct githistory_blob *b, const char *const *names, size_t n,
		     const void *data, void *ud, struct diag_list *dl)
{
	char err[PATH_MAX + 256];
	int r = blobpack_write_blob(ud, b->id, names, n, data, b->size, err, sizeof(err));
	if (r < 0) {
		diag_error(dl, NULL, 0, 0, "set TMPDIR to a directory with room", "%s", err);
	}
	return r;
}

int githistory_write(const struct githistory *h, const char *dest, struct diag_list *dl)
{
	return each_blob(h, dl, write_one, (void *)dest);
}

struct pack_ctx {
	int fd;
	uint64_t at;
};

static int pack_one(const struct githistory_blob *b, const char *const *names, size_t n,
		    const void *data, void *ud, struct diag_list *dl)
{
	struct pack_ctx *c = ud;
	int r = blobpack_add(c->fd, &c->at, b->id, names, n, data, b->size);
	if (r < 0) {
		diag_error(dl, NULL, 0, 0, "set TMPDIR to a directory with room",
			   "cannot write blob %s: %s", b->id, strerror(-r));
	}
	return r;
}

int githistory_write_pack(const struct githistory *h, int fd, struct diag_list *dl)
{
	struct pack_ctx c = { fd, 0 };
	return each_blob(h, dl, pack_one, &c);
}

const struct githistory_blob *githistory_blob_of_file(const struct githistory *h, const char *rel)
{
	char hex[41];
	if (!rel || strnlen(rel, 42) < 41 || rel[2] != '/' || (rel[41] && rel[41] != '/')) {
		return NULL;
	}
	memcpy(hex, rel, 2);
	memcpy(hex + 2, rel + 3, 38);
	hex[40] = '\0';
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
