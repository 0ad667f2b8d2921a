/*
 * histscan.c - the secrets scan of a range of commits (see histscan.h): collect, write
 * into a private temporary directory (as one pack of blobs that the worker unpacks into
 * its own /tmp, or, for a larger history, as a tree of files), scan in the sandbox, map
 * back.
 *
 * The scan is the `secrets` kind's worker (`runner __worker`), started by scanbox_run()
 * as a pipeline's stage is, under the default sandbox policy with the temporary directory
 * as its read-only workspace and no network. The directory is removed afterwards, also
 * when SIGINT, SIGTERM or SIGHUP ends the process first.
 */
#include "histscan.h"
#include "scanbox.h"

#include "diag.h"
#include "sbuf.h"
#include "secscan.h"
#include "stage.h"
#include "util.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "banned.h"

static int fail(json_t *result, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether o->cancel_fd says to stop. */
static bool stopped(const struct histscan_options *o)
{
	struct pollfd p = { .fd = o->cancel_fd, .events = POLLIN };
	return o->cancel_fd > 0 && poll(&p, 1, 0) > 0;
}

static int fail(json_t *result, const char *fmt, ...)
{
	char msg[1500];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return scanbox_fail(result, msg);
}

/* The diagnostics of dl as one line ("message (hint)"; ...). */
static void diags_line(const struct diag_list *dl, char *out, size_t n)
{
	size_t w = 0;
	out[0] = '\0';
	for (size_t i = 0; i < dl->n && i < 3 && w < n; i++) {
		int k = snprintf(out + w, n - w, "%s%s%s%s%s", i ? "; " : "", dl->v[i].msg,
				 dl->v[i].hint ? " (" : "", dl->v[i].hint ? dl->v[i].hint : "",
				 dl->v[i].hint ? ")" : "");
		if (k < 0) {
			break;
		}
		w += (size_t)k;
	}
}

struct skip_globs {
	const char *const *v;
	size_t n;
};

static bool skip_path(void *ud, const char *path)
{
	const struct skip_globs *g = ud;
	for (size_t i = 0; i < g->n; i++) {
		if (fnmatch(g->v[i], path, 0) == 0) {
			return true;
		}
	}
	return false;
}

/* A private directory for the blobs, removed by the signal handlers until untracked. */
static char *make_tree(char *err, size_t errlen)
{
	char *dir = tmp_dir_tracked("runner-history");
	if (!dir) {
		errf(err, errlen, 0, "cannot create a temporary directory in %s: %s (set TMPDIR)",
		     tmp_dir_parent(), strerror(errno));
	}
	return dir;
}

/* The pack's name in the private directory (stages/blobpack.h). */
#define PACK_NAME "blobs.pack"

/* Whether the blobs go to the worker as one pack, which it unpacks into its own /tmp (a
 * tmpfs: see HISTSCAN_PACK_MAX), rather than as a tree of files written here. */
static bool use_pack(const struct githistory *h)
{
	return h->n_blobs <= HISTSCAN_PACK_MAX / HISTSCAN_PACK_PER_BLOB &&
	       h->bytes <= HISTSCAN_PACK_MAX - h->n_blobs * HISTSCAN_PACK_PER_BLOB;
}

static int write_pack(const struct githistory *h, const char *dir, struct diag_list *dl)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, PACK_NAME);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		diag_error(dl, NULL, 0, 0, "set TMPDIR to a directory with room",
			   "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	int r = githistory_write_pack(h, fd, dl);
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		diag_error(dl, NULL, 0, 0, "set TMPDIR to a directory with room",
			   "cannot write %s: %s", path, strerror(-r));
	}
	return r;
}

static json_t *place_json(const struct githistory_place *p)
{
	_cleanup_free_ char *path = utf8_sanitize(p->path, strlen(p->path));
	return json_pack("{s:s, s:s}", "commit", p->commit, "path", path);
}

/* Each finding's file (a blob's name in the tree) as the commits and paths that brought
 * it. A finding that maps to no blob is an error: its place would go unreported. */
static int map_findings(const struct githistory *h, json_t *findings)
{
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i);
		const char *file = json_string_value(json_object_get(f, "file"));
		const struct githistory_blob *b = githistory_blob_of_file(h, file);
		if (!b || !b->n_places) {
			return -EINVAL;
		}
		json_t *places = json_array();
		for (size_t k = 0; k < b->n_places; k++) {
			json_array_append_new(places, place_json(&b->places[k]));
		}
		_cleanup_free_ char *path =
			utf8_sanitize(b->places[0].path, strlen(b->places[0].path));
		json_object_set_new(f, "file", json_string(path));
		json_object_set_new(f, "commit", json_string(b->places[0].commit));
		json_object_set_new(f, "blob", json_string(b->id));
		json_object_set_new(f, "places", places);
		if (b->more_places) {
			json_object_set_new(f, "more_places",
					    json_integer((json_int_t)b->more_places));
		}
	}
	return 0;
}

/* A note of the scan names a blob's file ("ab/cdef...:3"): it names the first commit and
 * path that brought it instead. */
static void map_notes(const struct githistory *h, json_t *notes)
{
	for (size_t i = 0; i < json_array_size(notes); i++) {
		const char *note = json_string_value(json_array_get(notes, i));
		struct sbuf sb;
		bool changed = false;
		sbuf_init(&sb, 64u << 10);
		for (size_t k = 0; note && note[k];) {
			char name[42] = "";
			snprintf(name, sizeof(name), "%s", note + k);
			const struct githistory_blob *b = githistory_blob_of_file(h, name);
			if (b && b->n_places) {
				sbuf_printf(&sb, "%.12s:%s", b->places[0].commit,
					    b->places[0].path);
				k += 41;
				changed = true;
			} else {
				sbuf_putc(&sb, note[k++]);
			}
		}
		char *text = sbuf_steal(&sb);
		if (changed && text) {
			_cleanup_free_ char *clean = utf8_sanitize(text, strlen(text));
			json_array_set_new(notes, i, json_string(clean));
		}
		free(text);
	}
}

/* What a user needs to know when the range stops at a shallow clone's boundary: which
 * commit, and that it was scanned whole while what lies beyond it was not. */
static char *shallow_note(const struct githistory *h)
{
	if (h->n_shallow == 1) {
		return xasprintf("the range stops at a shallow boundary: %.12s, whose parents this "
				 "shallow clone lacks, was scanned as a root commit, all of its "
				 "files; nothing older was",
				 h->shallow);
	}
	return xasprintf("the range stops at a shallow boundary: %.12s and %zu more commits, "
			 "whose parents this shallow clone lacks, were scanned as root commits, "
			 "all of their files; nothing older was",
			 h->shallow, h->n_shallow - 1);
}

/* The note in the result's stats, where the scan's own notes are. */
static void add_shallow_note(const struct githistory *h, json_t *result)
{
	json_t *stats = json_object_get(result, "stats");
	if (!h->n_shallow || !json_is_object(stats)) {
		return;
	}
	json_t *notes = json_object_get(stats, "notes");
	if (!json_is_array(notes)) {
		notes = json_array();
		json_object_set_new(stats, "notes", notes);
	}
	_cleanup_free_ char *note = shallow_note(h);
	json_array_append_new(notes, json_string(note));
}

static json_t *history_json(const struct githistory *h, const struct githistory_range *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "tip", json_string(h->tip));
	if (r->base) {
		json_object_set_new(o, "base", json_string(h->base));
	}
	if (r->not_remote) {
		_cleanup_free_ char *name = utf8_sanitize(r->not_remote, strlen(r->not_remote));
		json_object_set_new(o, "not_remote", json_string(name));
	}
	json_object_set_new(o, "commits", json_integer((json_int_t)h->n_commits));
	if (h->n_shallow) {
		json_object_set_new(o, "shallow", json_integer((json_int_t)h->n_shallow));
	}
	json_object_set_new(o, "files", json_integer((json_int_t)h->n_blobs));
	json_object_set_new(o, "bytes", json_integer((json_int_t)h->bytes));
	return o;
}

int histscan_run(const char *dir, const struct histscan_options *o, json_t *result,
		 struct diag_list *dl)
{
	struct githistory h;
	struct diag_list own;
	struct skip_globs globs = { o->skip_paths, o->n_skip_paths };
	char err[1200] = "";
	char *tree = NULL;
	json_t *with = NULL, *res = NULL;
	int code = STAGE_EXIT_ERROR;
	diag_list_init(&own, 10);
	int r = githistory_collect(dir, &o->range, &o->limits, globs.n ? skip_path : NULL, &globs,
				   &h, &own);
	if (r == -ENOENT) {
		for (size_t i = 0; i < own.n; i++) {
			diag_error(dl, NULL, 0, 0, own.v[i].hint, "%s", own.v[i].msg);
		}
		code = -ENOENT;
		goto out;
	}
	if (r < 0) {
		diags_line(&own, err, sizeof(err));
		code = fail(result, "%s", err);
		goto out;
	}
	if (h.n_blobs == 0) {
		/* Nothing new reaches the history: no commit, or only deletions. */
		_cleanup_free_ char *note = h.n_shallow ? shallow_note(&h) : NULL;
		_cleanup_free_ char *summary =
			xasprintf("passed: the commits bring no file to scan%s%s%s",
				  note ? " (" : "", note ? note : "", note ? ")" : "");
		json_object_set_new(result, "summary", json_string(summary));
		json_object_set_new(result, "findings", json_array());
		code = STAGE_EXIT_PASSED;
		goto out;
	}
	tree = make_tree(err, sizeof(err));
	if (!tree) {
		code = fail(result, "%s", err);
		goto out;
	}
	/* The sandbox binds the workspace at its own path: it must be canonical. */
	char *real = realpath(tree, NULL);
	if (!real) {
		code = fail(result, "cannot resolve %s: %s", tree, strerror(errno));
		goto out;
	}
	if (stopped(o)) {
		free(real);
		code = -ECANCELED;
		goto out;
	}
	bool pack = use_pack(&h);
	r = pack ? write_pack(&h, real, &own) : githistory_write(&h, real, &own);
	if (r < 0) {
		free(real);
		diags_line(&own, err, sizeof(err));
		code = fail(result, "%s", err);
		goto out;
	}
	with = o->with ? json_deep_copy(o->with) : json_object();
	json_object_set_new(with, "paths", json_string("."));
	json_object_set_new(with, "gitignore", json_false());
	json_object_set_new(with, "vendored", json_true());
	json_object_set_new(with, "generated", json_true());
	json_object_set_new(with, "nothing_ok", json_true());
	json_object_set_new(with, "blob_names", json_true());
	if (pack) {
		json_object_set_new(with, "blob_pack", json_string(PACK_NAME));
	}
	struct scanbox sb;
	scanbox_init(&sb, real, o->unconfined);
	sb.cancel_fd = o->cancel_fd > 0 ? o->cancel_fd : -1;
	code = scanbox_run(&sb, "secrets", "secrets-history", with, NULL, &res, err, sizeof(err));
	bool cancelled = sb.cancelled; /* scanbox_release() clears sb */
	scanbox_release(&sb);
	free(real);
	if (cancelled) {
		code = -ECANCELED;
		goto out;
	}
	if (!res) {
		code = fail(result, "%s", err);
		goto out;
	}
	if (map_findings(&h, json_object_get(res, "findings")) < 0) {
		code = fail(result, "the scan reported a file that is not one of the commits' "
				    "blobs");
		goto out;
	}
	map_notes(&h, json_object_get(json_object_get(res, "stats"), "notes"));
	json_object_update(result, res);
	add_shallow_note(&h, result);
out:
	if (code != -ENOENT) {
		json_object_set_new(result, "history", history_json(&h, &o->range));
	}
	if (tree) {
		rm_rf(tree);
		tmp_untrack(tree);
		free(tree);
	}
	json_decref(res);
	json_decref(with);
	githistory_release(&h);
	diag_list_release(&own);
	return code;
}
