/*
 * image.c - reproducible image builds (see image.h).
 *
 * A build runs in four steps: (1) the base is resolved into the output layout (its
 * layers copied or pulled, its config and manifest read and checked); (2) the `add`
 * sources are collected into a list of entries, with implicit parent directories and
 * the whiteouts the base makes necessary, then sorted and checked for conflicts;
 * (3) the layer is written in one pass: an inner libarchive writer produces the PAX tar,
 * whose bytes are hashed (the DiffID) and handed to an outer writer in "raw" format with
 * the gzip filter, whose output is hashed (the blob digest) and stored; (4) the config,
 * manifest and index are written.
 */
#include "image.h"

#include "err.h"
#include "hmap.h"
#include "index.h"
#include "sbuf.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "banned.h"

#define COPY_CHUNK	 (256u << 10)
#define TAR_BLOCK	 (64u << 10)
#define OPAQUE		 ".wh..wh..opq"
#define WH_PREFIX	 ".wh."
#define MAX_BASE_ENTRIES 20000000ull

enum etype {
	E_DIR,
	E_FILE,
	E_LINK,
	E_WHITEOUT, /* also the opaque marker */
};

struct entry {
	char *path; /* in the image, no leading '/': "usr/local/bin/app" */
	enum etype type;
	unsigned mode;
	char *src;    /* E_FILE: path below the context's real path */
	char *target; /* E_LINK */
	bool implicit;
	/* An implicit directory the base has (as a directory, after all its layers): not
	 * written, so the base's mode and owner stay. base_kind records what the base has. */
	bool in_base;
	char base_kind; /* 0 nothing, 'd' a directory, 'o' something else */
};

/* The top of each `add`, for whiteouts: what it puts there, and what the base has. */
enum bstate {
	BASE_NONE,
	BASE_DIR,
	BASE_OTHER,
};

struct top {
	char *path;
	enum etype type;
	enum bstate base;
	bool set_here; /* set by the layer being scanned */
};

struct collect {
	struct entry *v;
	size_t n, cap;
	struct top *tops;
	size_t n_tops, cap_tops;
	int rootfd;
	const char *root; /* real path of the context */
	struct oci_err *err;
};

/* ---------- small helpers ---------- */

const char *oci_host_platform(void)
{
	static char buf[160];
	struct utsname u;
	const char *arch = "amd64", *variant = NULL;
	if (uname(&u) == 0) {
		const char *m = u.machine;
		if (str_eq(m, "x86_64")) {
			arch = "amd64";
		} else if (str_eq(m, "aarch64") || str_eq(m, "arm64")) {
			arch = "arm64";
		} else if (str_has_prefix(m, "armv7")) {
			arch = "arm", variant = "v7";
		} else if (str_has_prefix(m, "armv6")) {
			arch = "arm", variant = "v6";
		} else if (str_eq(m, "i386") || str_eq(m, "i686")) {
			arch = "386";
		} else if (str_eq(m, "ppc64le") || str_eq(m, "s390x") || str_eq(m, "riscv64")) {
			arch = m;
		}
	}
	snprintf(buf, sizeof(buf), "linux/%s%s%s", arch, variant ? "/" : "",
		 variant ? variant : "");
	return buf;
}

bool oci_platform_valid(const char *s)
{
	size_t parts = 1, len = 0;
	if (!s || !*s || strlen(s) > 64) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (*p == '/') {
			if (len == 0) {
				return false;
			}
			parts++;
			len = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
			len++;
		} else {
			return false;
		}
	}
	return len > 0 && (parts == 2 || parts == 3);
}

bool oci_dest_valid(const char *dest)
{
	size_t n = strlen(dest);
	if (n == 0 || dest[0] != '/' || n > OCI_BUILD_MAX_PATH) {
		return false;
	}
	const char *p = dest + 1;
	while (*p) {
		size_t c = strcspn(p, "/");
		if (c == 0 && p[0] == '/') {
			return false; /* "//" */
		}
		if ((c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.') ||
		    (c >= 4 && memcmp(p, WH_PREFIX, 4) == 0)) {
			return false;
		}
		p += c;
		if (*p == '/') {
			p++;
		}
	}
	return true;
}

static void rfc3339(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Open rel (below rootfd) without following any symbolic link on the way. */
static int open_beneath(int rootfd, const char *rel, int flags)
{
	if (!*rel || str_eq(rel, ".")) {
		return openat(rootfd, ".", flags | O_CLOEXEC);
	}
	_cleanup_free_ char *buf = xstrdup(rel);
	int dir = rootfd;
	char *p = buf;
	for (;;) {
		char *slash = strchr(p, '/');
		if (!slash) {
			int fd = openat(dir, p, flags | O_NOFOLLOW | O_CLOEXEC);
			int saved = errno;
			if (dir != rootfd) {
				close(dir);
			}
			errno = saved;
			return fd;
		}
		*slash = '\0';
		int next = openat(dir, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		if (dir != rootfd) {
			close(dir);
		}
		if (next < 0) {
			errno = saved;
			return -1;
		}
		dir = next;
		p = slash + 1;
	}
}

/* ---------- ordering ---------- */

static int comp_rank(const char *s, size_t n)
{
	if (n == strlen(OPAQUE) && memcmp(s, OPAQUE, n) == 0) {
		return 0;
	}
	if (n >= 4 && memcmp(s, WH_PREFIX, 4) == 0) {
		return 1;
	}
	return 2;
}

/* Tree order: a directory before what is in it, whiteouts before their siblings, else
 * byte order of names. */
static int path_cmp(const char *a, const char *b)
{
	for (;;) {
		size_t na = strcspn(a, "/"), nb = strcspn(b, "/");
		if (na != nb || memcmp(a, b, na) != 0) {
			int ra = comp_rank(a, na), rb = comp_rank(b, nb);
			if (ra != rb) {
				return ra - rb;
			}
			int c = memcmp(a, b, MIN(na, nb));
			if (c) {
				return c;
			}
			return na < nb ? -1 : 1;
		}
		a += na;
		b += nb;
		if (!*a || !*b) {
			return *a ? 1 : *b ? -1 : 0;
		}
		a++;
		b++;
	}
}

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	return path_cmp(a->path, b->path);
}

/* Whether p lies strictly below dir ("" is the root). */
static bool below(const char *p, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 0) {
		return *p != '\0';
	}
	return strncmp(p, dir, n) == 0 && p[n] == '/';
}

/* ---------- collecting entries ---------- */

static int add_entry(struct collect *c, const char *path, enum etype t, unsigned mode,
		     const char *src, const char *target, bool implicit)
{
	if (c->n >= OCI_BUILD_MAX_ENTRIES) {
		return oci_errf(c->err, -E2BIG, "more than %d files to add", OCI_BUILD_MAX_ENTRIES);
	}
	if (strlen(path) > OCI_BUILD_MAX_PATH) {
		return oci_errf(c->err, -ENAMETOOLONG, "path too long in the image: /%.100s...",
				path);
	}
	/* A layer names its files in UTF-8 (PAX headers), whatever this process's locale. */
	if (!utf8_valid(path, strlen(path)) || (target && !utf8_valid(target, strlen(target)))) {
		_cleanup_free_ char *shown = utf8_sanitize(path, strlen(path));
		return oci_errf(c->err, -EILSEQ,
				"/%s: %s is not UTF-8, which image layers name files in", shown,
				target && utf8_valid(path, strlen(path)) ? "its link target"
									 : "the name");
	}
	GROW(c->v, c->cap, c->n + 1);
	c->v[c->n++] = (struct entry){
		.path = xstrdup(path),
		.type = t,
		.mode = mode,
		.src = src ? xstrdup(src) : NULL,
		.target = target ? xstrdup(target) : NULL,
		.implicit = implicit,
	};
	return 0;
}

static int add_parents(struct collect *c, const char *path)
{
	_cleanup_free_ char *buf = xstrdup(path);
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = add_entry(c, buf, E_DIR, 0755, NULL, NULL, true);
		*p = '/';
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static unsigned file_mode(mode_t m)
{
	return (m & 0111) ? 0755 : 0644;
}

static char *join(const char *a, const char *b)
{
	if (!*a || str_eq(a, ".")) {
		return xstrdup(b);
	}
	return xasprintf("%s/%s", a, b);
}

static int walk(struct collect *c, const char *rel, const char *dest, unsigned depth)
{
	if (depth > OCI_BUILD_MAX_DEPTH) {
		return oci_errf(c->err, -ELOOP, "%s: directories nested deeper than %d", rel,
				OCI_BUILD_MAX_DEPTH);
	}
	int fd = open_beneath(c->rootfd, rel, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		return oci_errf(c->err, -errno, "%s: %s (did it change while the image was built?)",
				rel, strerror(errno));
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return oci_errf(c->err, r, "%s: %s", rel, strerror(-r));
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		if (str_eq(name, ".") || str_eq(name, "..")) {
			continue;
		}
		_cleanup_free_ char *crel = join(rel, name);
		_cleanup_free_ char *cdest = join(dest, name);
		if (str_has_prefix(name, WH_PREFIX)) {
			r = oci_errf(c->err, -EINVAL,
				     "%s: a name starting with .wh. would be read as a whiteout",
				     crel);
			break;
		}
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = oci_errf(c->err, -errno, "%s: %s", crel, strerror(errno));
			break;
		}
		if (S_ISREG(st.st_mode)) {
			r = add_entry(c, cdest, E_FILE, file_mode(st.st_mode), crel, NULL, false);
		} else if (S_ISDIR(st.st_mode)) {
			r = add_entry(c, cdest, E_DIR, 0755, NULL, NULL, false);
			if (r == 0) {
				r = walk(c, crel, cdest, depth + 1);
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), name, target, sizeof(target) - 1);
			if (n < 0) {
				r = oci_errf(c->err, -errno, "%s: %s", crel, strerror(errno));
				break;
			}
			target[n] = '\0';
			r = add_entry(c, cdest, E_LINK, 0777, NULL, target, false);
		} else {
			r = oci_errf(c->err, -EINVAL,
				     "%s: not a regular file, directory or symbolic link", crel);
		}
	}
	if (r == 0 && errno) {
		r = oci_errf(c->err, -errno, "%s: %s", rel, strerror(errno));
	}
	closedir(d);
	return r;
}

static void add_top(struct collect *c, const char *path, enum etype t)
{
	GROW(c->tops, c->cap_tops, c->n_tops + 1);
	c->tops[c->n_tops++] = (struct top){ .path = xstrdup(path), .type = t };
}

static int collect_add(struct collect *c, const struct oci_add *a)
{
	if (!oci_dest_valid(a->dest)) {
		return oci_errf(
			c->err, -EINVAL,
			"add %s: the destination '%s' must be an absolute path without '.', "
			"'..', empty or .wh.* components",
			a->src, a->dest);
	}
	_cleanup_free_ char *joined =
		a->src[0] == '/' ? xstrdup(a->src) : xasprintf("%s/%s", c->root, a->src);
	_cleanup_free_ char *real = realpath(joined, NULL);
	if (!real) {
		return oci_errf(c->err, errno == ENOENT ? -EINVAL : -errno, "add source '%s' %s",
				a->src, errno == ENOENT ? "does not exist" : strerror(errno));
	}
	size_t rl = strlen(c->root);
	bool inside = str_eq(c->root, "/") ||
		      (strncmp(real, c->root, rl) == 0 && (real[rl] == '\0' || real[rl] == '/'));
	if (!inside) {
		return oci_errf(c->err, -EPERM,
				"add source '%s' leads outside the workspace (it resolves to %s); "
				"refused",
				a->src, real);
	}
	const char *rel = str_eq(c->root, "/") ? real + 1 : real + rl;
	if (*rel == '/') {
		rel++;
	}
	if (!*rel) {
		rel = ".";
	}
	struct stat st;
	if (fstatat(c->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return oci_errf(c->err, -errno, "add source '%s': %s", a->src, strerror(errno));
	}
	/* The destination without the leading '/' and any trailing '/'. */
	size_t dl = strlen(a->dest);
	bool into = a->dest[dl - 1] == '/';
	_cleanup_free_ char *dest = xstrndup(a->dest + 1, dl - 1 - (into && dl > 1 ? 1 : 0));
	int r;
	if (S_ISREG(st.st_mode)) {
		_cleanup_free_ char *path = NULL;
		if (into || !*dest) {
			/* Into a directory: keep the source's name. */
			_cleanup_free_ char *s = xstrdup(a->src);
			size_t n = strlen(s);
			while (n > 1 && s[n - 1] == '/') {
				s[--n] = '\0';
			}
			const char *base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
			if (str_has_prefix(base, WH_PREFIX)) {
				return oci_errf(c->err, -EINVAL,
						"%s: a name starting with .wh. would be read as a "
						"whiteout",
						a->src);
			}
			path = join(dest, base);
		} else {
			path = xstrdup(dest);
		}
		if ((r = add_parents(c, path)) < 0 ||
		    (r = add_entry(c, path, E_FILE, file_mode(st.st_mode), rel, NULL, false)) < 0) {
			return r;
		}
		add_top(c, path, E_FILE);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (*dest) {
			if ((r = add_parents(c, dest)) < 0 ||
			    (r = add_entry(c, dest, E_DIR, 0755, NULL, NULL, false)) < 0) {
				return r;
			}
			add_top(c, dest, E_DIR);
		}
		return walk(c, rel, dest, 0);
	}
	return oci_errf(c->err, -EINVAL, "add source '%s' is not a regular file or directory",
			a->src);
}

/* Sort, merge repeated directories, refuse real conflicts, check every parent is a
 * directory. */
static int settle(struct collect *c)
{
	if (c->n == 0) {
		return 0;
	}
	qsort(c->v, c->n, sizeof(*c->v), entry_cmp);
	size_t w = 0, i;
	int r = 0;
	for (i = 0; i < c->n; i++) {
		struct entry *e = &c->v[i];
		if (w > 0 && str_eq(c->v[w - 1].path, e->path)) {
			struct entry *prev = &c->v[w - 1];
			bool same_dir = prev->type == E_DIR && e->type == E_DIR;
			bool same_wh = prev->type == E_WHITEOUT && e->type == E_WHITEOUT;
			if (!same_dir && !same_wh) {
				r = oci_errf(c->err, -EINVAL,
					     "two `add` entries write /%s; each path may come from "
					     "one source only",
					     e->path);
				break;
			}
			prev->implicit &= e->implicit;
			free(e->path);
			free(e->src);
			free(e->target);
			continue;
		}
		c->v[w++] = *e;
	}
	/* After a conflict, the entries not looked at yet move down too: the merged ones
	 * are freed already and the moved ones are now below w, so that collect_release()
	 * frees each entry once. */
	for (; i < c->n; i++) {
		c->v[w++] = c->v[i];
	}
	c->n = w;
	if (r < 0) {
		return r;
	}
	struct hmap *by_path = hmap_new(c->n);
	for (size_t k = 0; k < c->n; k++) {
		hmap_put(by_path, c->v[k].path, &c->v[k]);
	}
	for (i = 0; i < c->n && r == 0; i++) {
		const char *slash = strrchr(c->v[i].path, '/');
		if (!slash) {
			continue;
		}
		_cleanup_free_ char *parent =
			xstrndup(c->v[i].path, (size_t)(slash - c->v[i].path));
		const struct entry *pe = hmap_get(by_path, parent);
		if (!pe || pe->type != E_DIR) {
			r = oci_errf(c->err, -EINVAL,
				     "/%s is added as a file or link, and also as a directory (for "
				     "/%s)",
				     parent, c->v[i].path);
		}
	}
	hmap_free(by_path);
	return r;
}

static void collect_release(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].src);
		free(c->v[i].target);
	}
	free(c->v);
	for (size_t i = 0; i < c->n_tops; i++) {
		free(c->tops[i].path);
	}
	free(c->tops);
}

/* ---------- what the base has where we add ---------- */

static void normalize_tar_path(const char *in, char *out, size_t size)
{
	while (in[0] == '.' && in[1] == '/') {
		in += 2;
	}
	while (*in == '/') {
		in++;
	}
	snprintf(out, size, "%s", str_eq(in, ".") ? "" : in);
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/') {
		out[--n] = '\0';
	}
}

/* What the base's layers have given so far, against the caps. */
struct base_scan {
	uint64_t entries;
	uint64_t tar_bytes; /* uncompressed tar read, all layers so far */
	uint64_t max_tar;
	size_t *implicit; /* indexes of the implicit directories in the collection */
	size_t n_implicit;
};

/*
 * A layer is read in two archives: `outer` only decompresses (any filter, raw format), and
 * the tar reader takes its bytes through tar_read(), which counts them. libarchive reads as
 * much as a header needs within one call (a GNU sparse map, a chain of sparse extension
 * blocks: without end, and keeping every entry in memory), so besides the cap on all the
 * tar, one call may read at most TAR_CALL_MAX (far above a real header: paths are at most
 * 4 KiB, extended attributes 64 KiB each; a sparse map of 4 MiB has a million extents).
 */
#define TAR_CALL_MAX (4u << 20)

struct tar_feed {
	struct archive *outer;
	struct base_scan *bs;
	uint64_t call; /* bytes read within the current call into the tar reader */
	int why;       /* 0, -E2BIG (a cap), or -EINVAL (the outer stream failed) */
	char buf[TAR_BLOCK];
};

static la_ssize_t tar_read(struct archive *a, void *ud, const void **out)
{
	struct tar_feed *f = ud;
	la_ssize_t n = archive_read_data(f->outer, f->buf, sizeof(f->buf));
	if (n < 0) {
		f->why = -EINVAL;
		archive_set_error(a, EINVAL, "%s",
				  archive_error_string(f->outer) ? archive_error_string(f->outer)
								 : "cannot decompress");
		return -1;
	}
	f->bs->tar_bytes += (uint64_t)n;
	f->call += (uint64_t)n;
	if (f->bs->tar_bytes > f->bs->max_tar || f->call > TAR_CALL_MAX) {
		f->why = -E2BIG;
		archive_set_error(a, E2BIG, "too much tar");
		return -1;
	}
	*out = f->buf;
	return n;
}

/* The error of a failed call into the tar reader. */
static int tar_error(struct collect *c, struct archive *a, const struct tar_feed *f,
		     const char *digest)
{
	if (f->why == -E2BIG && f->bs->tar_bytes > f->bs->max_tar) {
		return oci_errf(c->err, -E2BIG,
				"the base image's layers hold more than %" PRIu64
				" bytes of tar (at layer %s)",
				f->bs->max_tar, digest);
	}
	if (f->why == -E2BIG) {
		return oci_errf(c->err, -E2BIG,
				"base layer %s: one tar header takes more than %u MiB (a sparse "
				"map without end?)",
				digest, TAR_CALL_MAX >> 20);
	}
	const char *e = archive_error_string(a);
	return oci_errf(c->err, -EINVAL, "base layer %s: %s", digest, e ? e : "not a valid tar");
}

/* Read past an entry's data (libarchive would skip it by reading it all the same). */
static int skip_data(struct collect *c, struct archive *a, struct tar_feed *f, const char *digest)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		f->call = 0;
		int ar = archive_read_data_block(a, &buf, &len, &off);
		if (ar == ARCHIVE_EOF) {
			return 0;
		}
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			return tar_error(c, a, f, digest);
		}
	}
}

static int scan_layer(struct collect *c, const struct oci_layout *l, const char *digest,
		      struct base_scan *bs)
{
	uint64_t size;
	int fd = oci_layout_open_blob(l, digest, &size);
	if (fd < 0) {
		return oci_errf(c->err, fd, "base layer %s: %s", digest, strerror(-fd));
	}
	struct tar_feed *f = xcalloc(1, sizeof(*f));
	f->bs = bs;
	f->outer = archive_read_new();
	archive_read_support_filter_all(f->outer);
	archive_read_support_format_raw(f->outer);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct archive_entry *raw;
	int r = 0;
	if (archive_read_open_fd(f->outer, fd, TAR_BLOCK) != ARCHIVE_OK ||
	    archive_read_next_header(f->outer, &raw) != ARCHIVE_OK) {
		const char *e = archive_error_string(f->outer);
		r = oci_errf(c->err, -EINVAL, "base layer %s: %s", digest,
			     e ? e : "cannot decompress");
	} else if (archive_read_open(a, f, NULL, tar_read, NULL) != ARCHIVE_OK) {
		r = tar_error(c, a, f, digest);
	}
	for (size_t k = 0; k < c->n_tops; k++) {
		c->tops[k].set_here = false;
	}
	char *path = xmalloc(OCI_BUILD_MAX_PATH * 2);
	struct archive_entry *ae;
	bool in_entry = false;
	while (r == 0) {
		if (in_entry && (r = skip_data(c, a, f, digest)) < 0) {
			break;
		}
		f->call = 0;
		int ar = archive_read_next_header(a, &ae);
		if (ar == ARCHIVE_EOF) {
			break;
		}
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			r = tar_error(c, a, f, digest);
			break;
		}
		in_entry = true;
		if (++bs->entries > MAX_BASE_ENTRIES) {
			r = oci_errf(c->err, -E2BIG, "the base image has too many files");
			break;
		}
		const char *name = archive_entry_pathname(ae);
		if (!name) {
			continue;
		}
		normalize_tar_path(name, path, OCI_BUILD_MAX_PATH * 2);
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		size_t plen = slash ? (size_t)(slash - path) : 0;
		if (str_has_prefix(base, WH_PREFIX)) {
			/* Whiteouts hide lower layers only, not what this layer adds. */
			char target[OCI_BUILD_MAX_PATH * 2];
			bool opaque = str_eq(base, OPAQUE);
			if (opaque) {
				snprintf(target, sizeof(target), "%.*s", (int)plen, path);
			} else {
				snprintf(target, sizeof(target), "%.*s%s%s", (int)plen, path,
					 plen ? "/" : "", base + 4);
			}
			/* A lower layer's directory (or its parent) deleted here. */
			for (size_t k = 0; k < bs->n_implicit; k++) {
				struct entry *e = &c->v[bs->implicit[k]];
				if ((opaque ? below(e->path, target)
					    : (str_eq(e->path, target) ||
					       below(e->path, target)))) {
					e->base_kind = 0;
				}
			}
			for (size_t k = 0; k < c->n_tops; k++) {
				struct top *t = &c->tops[k];
				if (t->set_here) {
					continue;
				}
				if (opaque ? below(t->path, target)
					   : (str_eq(t->path, target) || below(t->path, target))) {
					t->base = BASE_NONE;
				}
			}
			continue;
		}
		bool is_dir = archive_entry_filetype(ae) == AE_IFDIR;
		for (size_t k = 0; k < bs->n_implicit; k++) {
			struct entry *e = &c->v[bs->implicit[k]];
			if (str_eq(e->path, path)) {
				e->base_kind = is_dir ? 'd' : 'o';
			}
		}
		for (size_t k = 0; k < c->n_tops; k++) {
			struct top *t = &c->tops[k];
			if (str_eq(path, t->path)) {
				t->base = is_dir ? BASE_DIR : BASE_OTHER;
				t->set_here = true;
			} else if (below(path, t->path)) {
				t->base = BASE_DIR;
				t->set_here = true;
			} else if (below(t->path, path) && !is_dir) {
				t->base = BASE_NONE;
				t->set_here = true;
			}
		}
	}
	free(path);
	archive_read_free(a);
	archive_read_free(f->outer);
	free(f);
	close(fd);
	return r;
}

static int add_whiteouts(struct collect *c, const struct oci_layout *l,
			 const struct oci_descriptor *layers, size_t n, uint64_t max_tar,
			 size_t *whiteouts)
{
	struct base_scan bs = { .max_tar = max_tar ? max_tar : OCI_BUILD_MAX_BASE_TAR };
	/* Every base entry is compared with the implicit directories only (the parents of
	 * what is added: few), never with the whole collection. */
	bs.implicit = xcalloc(c->n ? c->n : 1, sizeof(*bs.implicit));
	for (size_t k = 0; k < c->n; k++) {
		if (c->v[k].implicit && c->v[k].type == E_DIR) {
			bs.implicit[bs.n_implicit++] = k;
		}
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0 && c->n_tops; i++) {
		r = scan_layer(c, l, layers[i].digest, &bs);
	}
	free(bs.implicit);
	/* The directories an add needs on its way: one the base has stays the base's (its
	 * mode and owner: /tmp's 1777, a home directory's owner); where the base has
	 * something else (merged /usr's bin -> usr/bin), writing a directory there would
	 * replace it and everything it leads to: refused. */
	for (size_t k = 0; k < c->n && r == 0; k++) {
		struct entry *e = &c->v[k];
		if (!e->implicit || e->type != E_DIR) {
			continue;
		}
		if (e->base_kind == 'o') {
			r = oci_errf(
				c->err, -EINVAL,
				"/%s is not a directory in the base image (a symbolic link?): an "
				"add cannot go below it; add to the directory it leads to",
				e->path);
		}
		e->in_base = e->base_kind == 'd';
	}
	for (size_t k = 0; k < c->n_tops && r == 0; k++) {
		struct top *t = &c->tops[k];
		_cleanup_free_ char *wh = NULL;
		if (t->type == E_DIR && t->base == BASE_DIR) {
			wh = xasprintf("%s/%s", t->path, OPAQUE);
		} else if ((t->type == E_DIR && t->base == BASE_OTHER) ||
			   (t->type != E_DIR && t->base == BASE_DIR)) {
			const char *slash = strrchr(t->path, '/');
			wh = slash ? xasprintf("%.*s/%s%s", (int)(slash - t->path), t->path,
					       WH_PREFIX, slash + 1)
				   : xasprintf("%s%s", WH_PREFIX, t->path);
		}
		if (wh) {
			r = add_entry(c, wh, E_WHITEOUT, 0644, NULL, NULL, false);
			(*whiteouts)++;
		}
	}
	return r;
}

/* ---------- writing the layer ---------- */

struct layer_sink {
	struct oci_blob_writer *w;
	struct oci_sha256 diff;
	struct archive *outer;
	uint64_t tar_bytes;
	int error;
};

static la_ssize_t outer_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct layer_sink *s = ud;
	(void)a;
	int r = oci_blob_write(s->w, buf, n);
	if (r < 0) {
		s->error = r;
		return -1;
	}
	return (la_ssize_t)n;
}

static la_ssize_t inner_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct layer_sink *s = ud;
	(void)a;
	oci_sha256_update(&s->diff, buf, n);
	s->tar_bytes += n;
	la_ssize_t w = archive_write_data(s->outer, buf, n);
	if (w < 0 || (size_t)w != n) {
		return -1;
	}
	return (la_ssize_t)n;
}

static int write_file_data(struct archive *in, struct archive_entry *ae, const struct collect *c,
			   const struct entry *e, char *buf, struct oci_err *err)
{
	/* O_NONBLOCK: a file swapped for a named pipe since it was collected must not block
	 * the open until a writer comes; the check below refuses it at once. */
	int fd = open_beneath(c->rootfd, e->src, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		return oci_errf(err, -errno,
				"%s: %s (it changed, or became a symbolic link, during the build)",
				e->src, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return oci_errf(err, -EINVAL, "%s: no longer a regular file", e->src);
	}
	archive_entry_set_size(ae, st.st_size);
	int r = 0;
	if (archive_write_header(in, ae) != ARCHIVE_OK) {
		r = oci_errf(err, -EIO, "writing the layer: %s", archive_error_string(in));
	}
	uint64_t left = (uint64_t)st.st_size;
	while (r == 0 && left > 0) {
		ssize_t n = read(fd, buf, (size_t)MIN(left, (uint64_t)COPY_CHUNK));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			r = oci_errf(err, n < 0 ? -errno : -EIO, "%s: %s", e->src,
				     n < 0 ? strerror(errno) : "it shrank while being read");
			break;
		}
		if (archive_write_data(in, buf, (size_t)n) != n) {
			r = oci_errf(err, -EIO, "writing the layer: %s", archive_error_string(in));
			break;
		}
		left -= (uint64_t)n;
	}
	if (r == 0 && read(fd, buf, 1) > 0) {
		r = oci_errf(err, -EIO, "%s: it grew while being read", e->src);
	}
	close(fd);
	return r;
}

static int write_layer(const struct collect *c, struct oci_layout *out, int64_t mtime,
		       struct oci_descriptor *layer, char diff_id[OCI_DIGEST_SIZE],
		       struct oci_err *err)
{
	struct layer_sink s = { 0 };
	int r = oci_blob_begin(out, &s.w);
	if (r < 0) {
		return oci_errf(err, r, "cannot write into %s: %s", oci_layout_dir(out),
				strerror(-r));
	}
	if ((r = oci_sha256_init(&s.diff)) < 0) {
		oci_blob_abort(s.w);
		return r;
	}
	s.outer = archive_write_new();
	struct archive *in = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char *buf = xmalloc(COPY_CHUNK);
	/* The gzip header's timestamp must be off, or no two builds would be identical. */
	if (!s.outer || !in || !ae || archive_write_set_format_raw(s.outer) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(s.outer) != ARCHIVE_OK ||
	    archive_write_set_options(s.outer, "gzip:!timestamp") != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(s.outer, 0) != ARCHIVE_OK ||
	    archive_write_open(s.outer, &s, NULL, outer_write, NULL) != ARCHIVE_OK) {
		r = oci_errf(err, -EIO, "cannot set up the gzip writer: %s",
			     s.outer ? archive_error_string(s.outer) : "out of memory");
	}
	if (r == 0) {
		archive_entry_set_pathname(ae, "layer.tar");
		archive_entry_set_filetype(ae, AE_IFREG);
		if (archive_write_header(s.outer, ae) != ARCHIVE_OK) {
			r = oci_errf(err, -EIO, "cannot start the layer: %s",
				     archive_error_string(s.outer));
		}
	}
	if (r == 0 && (archive_write_set_format_pax_restricted(in) != ARCHIVE_OK ||
		       archive_write_set_bytes_per_block(in, TAR_BLOCK) != ARCHIVE_OK ||
		       archive_write_set_bytes_in_last_block(in, 1) != ARCHIVE_OK ||
		       archive_write_open(in, &s, NULL, inner_write, NULL) != ARCHIVE_OK)) {
		r = oci_errf(err, -EIO, "cannot set up the tar writer: %s",
			     archive_error_string(in));
	}
	for (size_t i = 0; r == 0 && i < c->n; i++) {
		const struct entry *e = &c->v[i];
		if (e->in_base) {
			continue; /* the base's directory, as it is */
		}
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e->path);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		archive_entry_set_mtime(ae, (time_t)mtime, 0);
		archive_entry_set_perm(ae, e->mode);
		switch (e->type) {
		case E_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case E_LINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e->target);
			break;
		case E_FILE:
		case E_WHITEOUT:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, 0);
			break;
		}
		if (e->type == E_FILE) {
			r = write_file_data(in, ae, c, e, buf, err);
		} else if (archive_write_header(in, ae) != ARCHIVE_OK) {
			r = oci_errf(err, -EIO, "writing the layer: %s", archive_error_string(in));
		}
	}
	if (r == 0 && archive_write_close(in) != ARCHIVE_OK) {
		r = oci_errf(err, -EIO, "finishing the tar: %s", archive_error_string(in));
	}
	if (r == 0 && archive_write_close(s.outer) != ARCHIVE_OK) {
		r = oci_errf(err, s.error ? s.error : -EIO, "finishing the layer: %s",
			     archive_error_string(s.outer));
	}
	archive_write_free(in);
	archive_write_free(s.outer);
	archive_entry_free(ae);
	free(buf);
	if (r == 0) {
		oci_sha256_final(&s.diff, diff_id);
		r = oci_blob_commit(s.w, NULL, layer);
		if (r < 0) {
			oci_errf(err, r, "cannot store the layer: %s", strerror(-r));
		}
		snprintf(layer->media_type, sizeof(layer->media_type), "%s", OCI_MT_LAYER_GZIP);
	} else {
		oci_blob_abort(s.w);
	}
	oci_sha256_release(&s.diff);
	return r;
}

/* ---------- the base ---------- */

struct base {
	json_t *config; /* NULL for scratch */
	struct oci_descriptor *layers;
	size_t n_layers;
	char digest[OCI_DIGEST_SIZE];	/* what was pinned: "" for scratch */
	char manifest[OCI_DIGEST_SIZE]; /* the image manifest used (from an index: chosen) */
	bool from_index;
	char *name; /* a registry base: "host/repo@sha256:..." */
};

static void base_release(struct base *b)
{
	json_decref(b->config);
	free(b->layers);
	free(b->name);
	memset(b, 0, sizeof(*b));
}

/* The layer descriptors of a base manifest, with Docker media types made OCI (same bytes). */
static int take_layers(const json_t *manifest, struct base *b, struct oci_err *err)
{
	json_t *layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers)) {
		return oci_errf(err, -EINVAL, "base image: the manifest has no layers array");
	}
	b->layers = xcalloc(json_array_size(layers) + 1, sizeof(*b->layers));
	for (size_t i = 0; i < json_array_size(layers); i++) {
		struct oci_descriptor *d = &b->layers[b->n_layers];
		if (oci_descriptor_parse(json_array_get(layers, i), d) < 0) {
			return oci_errf(err, -EINVAL,
					"base image: layer %zu is not a valid descriptor", i);
		}
		if (str_eq(d->media_type, DOCKER_MT_LAYER)) {
			snprintf(d->media_type, sizeof(d->media_type), "%s", OCI_MT_LAYER_GZIP);
		}
		if (!str_eq(d->media_type, OCI_MT_LAYER_GZIP) &&
		    !str_eq(d->media_type, OCI_MT_LAYER) &&
		    !str_eq(d->media_type, OCI_MT_LAYER_ZSTD)) {
			return oci_errf(
				err, -EINVAL,
				"base image: layer %s has media type %s, which cannot be "
				"reused (foreign or non-distributable layers are not supported)",
				d->digest, d->media_type);
		}
		b->n_layers++;
	}
	return oci_layers_check(b->layers, b->n_layers, "the base image", err);
}

static int check_base_config(const struct base *b, struct oci_err *err)
{
	json_t *ids = json_object_get(json_object_get(b->config, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != b->n_layers) {
		return oci_errf(err, -EINVAL,
				"base image: its config lists %zu layers (rootfs.diff_ids), its "
				"manifest %zu",
				json_is_array(ids) ? json_array_size(ids) : 0, b->n_layers);
	}
	for (size_t i = 0; i < json_array_size(ids); i++) {
		if (!oci_digest_valid(json_string_value(json_array_get(ids, i)))) {
			return oci_errf(err, -EINVAL,
					"base image: diff_id %zu is not a sha256 digest", i);
		}
	}
	return 0;
}

static const char *build_platform(const struct oci_build_spec *spec)
{
	return spec->platform ? spec->platform : oci_host_platform();
}

/*
 * The image manifest of a base layout, and what the user pinned (b->digest). index.json
 * is read in the three shapes tools write:
 *   - one image manifest: that one, whatever its platform (as before indexes);
 *   - one entry that is an index (skopeo copy --all, buildx): that index blob is read
 *     (capped, checked against its digest and size) and the platform's manifest chosen
 *     from it; the index's digest is what was pinned;
 *   - several entries: the platform's manifest is chosen among them; index.json is no
 *     blob, so the chosen manifest's digest is what was pinned.
 */
static int layout_base_manifest(const struct oci_build_spec *spec, const struct oci_layout *src,
				struct base *b, struct oci_descriptor *md, struct oci_err *err)
{
	json_t *idx = NULL, *inner = NULL;
	int r = oci_layout_read_index(src, &idx, err);
	if (r < 0) {
		return r;
	}
	json_t *ms = json_object_get(idx, "manifests");
	struct oci_descriptor only;
	bool one =
		json_array_size(ms) == 1 && oci_descriptor_parse(json_array_get(ms, 0), &only) == 0;
	char what[PATH_MAX + 200];
	if (one && oci_mt_is_index(only.media_type)) {
		char *body = NULL;
		size_t len = 0;
		json_error_t je;
		snprintf(what, sizeof(what), "base %s: index %s", spec->base, only.digest);
		r = oci_layout_read_blob(src, only.digest, OCI_MANIFEST_MAX, &body, &len, err);
		if (r == 0 && len != only.size) {
			r = oci_errf(err, -EINVAL, "%s: not the size index.json says", what);
		}
		if (r == 0 && !(inner = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je))) {
			r = oci_errf(err, -EINVAL, "%s: not JSON", what);
		}
		const char *mt = json_string_value(json_object_get(inner, "mediaType"));
		if (r == 0 && mt && !oci_mt_is_index(mt)) {
			r = oci_errf(err, -EINVAL,
				     "%s: index.json calls it an index, it says %.100s", what, mt);
		}
		if (r == 0) {
			r = oci_index_select(inner, build_platform(spec), md, what, err);
		}
		if (r == 0) {
			memcpy(b->digest, only.digest, OCI_DIGEST_SIZE);
			b->from_index = true;
		}
		free(body);
	} else if (one || json_array_size(ms) == 0) {
		r = oci_layout_find(src, NULL, md, err);
		if (r == 0) {
			memcpy(b->digest, md->digest, OCI_DIGEST_SIZE);
		}
	} else {
		snprintf(what, sizeof(what), "base %s: index.json", spec->base);
		r = oci_index_select(idx, build_platform(spec), md, what, err);
		if (r == 0) {
			memcpy(b->digest, md->digest, OCI_DIGEST_SIZE);
			b->from_index = true;
		}
	}
	if (r == 0) {
		memcpy(b->manifest, md->digest, OCI_DIGEST_SIZE);
	}
	json_decref(inner);
	json_decref(idx);
	return r;
}

/* The new image's os and architecture are the base config's, and must be what was asked:
 * a manifest chosen from an index must carry a config for the platform it was chosen for,
 * and a base that is one image must be for the platform given with --platform (`platform:`)
 * when one is (without one, it is used whatever its platform, as the host's is no choice). */
static int check_base_platform(const struct oci_build_spec *spec, const struct base *b,
			       struct oci_err *err)
{
	if ((!b->from_index && !spec->platform) ||
	    oci_config_is_platform(b->config, build_platform(spec))) {
		return 0;
	}
	const char *os = json_string_value(json_object_get(b->config, "os"));
	const char *arch = json_string_value(json_object_get(b->config, "architecture"));
	if (!b->from_index) {
		return oci_errf(err, -EINVAL,
				"base %s is an image for %.64s/%.64s, not for %s as asked (a "
				"multi-platform base, an image index, can hold both)",
				spec->base, os ? os : "?", arch ? arch : "?", spec->platform);
	}
	return oci_errf(err, -EINVAL,
			"base %s: the index lists %s for %s, but its config is for %.64s/%.64s",
			spec->base, b->manifest[0] ? b->manifest : "a manifest",
			build_platform(spec), os ? os : "?", arch ? arch : "?");
}

/* A base that is no directory but reads as a registry image not pinned by digest:
 * "debian:12" (a tag) or "registry.example.com/name" (a host). */
static bool looks_like_registry_image(const char *base)
{
	struct oci_ref ref;
	if (oci_ref_parse(base, &ref, NULL) < 0) {
		return false;
	}
	size_t hl = strlen(ref.host);
	return ref.tag[0] || (strncmp(base, ref.host, hl) == 0 && base[hl] == '/');
}

static int base_from_layout(const struct oci_build_spec *spec, const char *root,
			    struct oci_layout *out, struct base *b, struct oci_err *err)
{
	_cleanup_free_ char *joined =
		spec->base[0] == '/' ? xstrdup(spec->base) : xasprintf("%s/%s", root, spec->base);
	_cleanup_free_ char *real = realpath(joined, NULL);
	if (!real) {
		int e = errno;
		if (e == ENOENT && looks_like_registry_image(spec->base)) {
			return oci_errf(err, -EINVAL,
					"base '%s': no such layout directory, and a registry image "
					"must be pinned by digest (host/name@sha256:...), since a "
					"tag can move",
					spec->base);
		}
		return oci_errf(err, -EINVAL, "base '%s': %s", spec->base, strerror(e));
	}
	size_t rl = strlen(root);
	if (spec->base_confined && !str_eq(root, "/") &&
	    !(strncmp(real, root, rl) == 0 && (real[rl] == '\0' || real[rl] == '/'))) {
		return oci_errf(err, -EPERM, "base '%s' leads outside the workspace; refused",
				spec->base);
	}
	struct oci_layout *src;
	int r = oci_layout_open(real, &src, err);
	if (r < 0) {
		return r == -ENOENT ? -EINVAL : r;
	}
	struct oci_descriptor md;
	char *body = NULL, *cfg = NULL;
	size_t len, clen;
	json_t *m = NULL;
	r = layout_base_manifest(spec, src, b, &md, err);
	if (r == 0) {
		r = oci_layout_read_blob(src, md.digest, OCI_MANIFEST_MAX, &body, &len, err);
	}
	if (r == 0 && b->from_index && len != md.size) {
		r = oci_errf(err, -EINVAL, "base %s: manifest %s is not the size its index says",
			     spec->base, md.digest);
	}
	json_error_t je;
	if (r == 0 && !(m = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je))) {
		r = oci_errf(err, -EINVAL, "base %s: the manifest is not JSON", spec->base);
	}
	struct oci_descriptor cd;
	if (r == 0 && oci_descriptor_parse(json_object_get(m, "config"), &cd) < 0) {
		r = oci_errf(err, -EINVAL, "base %s: bad config descriptor", spec->base);
	}
	if (r == 0) {
		r = oci_layout_read_blob(src, cd.digest, OCI_CONFIG_MAX, &cfg, &clen, err);
	}
	if (r == 0 && (!(b->config = json_loadb(cfg, clen, JSON_REJECT_DUPLICATES, &je)) ||
		       !json_is_object(b->config))) {
		r = oci_errf(err, -EINVAL, "base %s: the config is not a JSON object", spec->base);
	}
	if (r == 0) {
		r = check_base_platform(spec, b, err);
	}
	if (r == 0) {
		r = take_layers(m, b, err);
	}
	for (size_t i = 0; r == 0 && i < b->n_layers; i++) {
		r = oci_layout_copy_blob(out, src, b->layers[i].digest, err);
	}
	json_decref(m);
	free(body);
	free(cfg);
	oci_layout_free(src);
	return r;
}

static int base_from_registry(const struct oci_build_spec *spec, const struct oci_ref *ref,
			      struct oci_layout *out, struct base *b, struct oci_err *err)
{
	struct oci_registry_opts defaults = { 0 };
	struct oci_pulled p;
	int r = oci_pull(ref, build_platform(spec), out,
			 spec->registry ? spec->registry : &defaults, &p, err);
	if (r < 0) {
		return r;
	}
	b->config = json_incref(p.config);
	b->from_index = p.from_index;
	memcpy(b->manifest, p.desc.digest, OCI_DIGEST_SIZE);
	r = check_base_platform(spec, b, err);
	if (r == 0) {
		r = take_layers(p.manifest, b, err);
	}
	if (r == 0) {
		/* What the user pinned (for an index, the index: the same for every platform,
		 * and what a tool that checks for base updates compares with). */
		memcpy(b->digest, ref->digest, OCI_DIGEST_SIZE);
		char name[2 * OCI_NAME_MAX + 2];
		b->name = xasprintf("%s@%s", oci_ref_name(ref, name, sizeof(name)), ref->digest);
	}
	oci_pulled_release(&p);
	return r;
}

static int resolve_base(const struct oci_build_spec *spec, const char *root, struct oci_layout *out,
			struct base *b, struct oci_err *err)
{
	if (!spec->base || !*spec->base || str_eq(spec->base, "scratch")) {
		return 0;
	}
	int r;
	if (strchr(spec->base, '@')) {
		struct oci_ref ref;
		const char *why;
		if (oci_ref_parse(spec->base, &ref, &why) < 0) {
			return oci_errf(err, -EINVAL, "base '%s': %s", spec->base, why);
		}
		r = base_from_registry(spec, &ref, out, b, err);
	} else {
		r = base_from_layout(spec, root, out, b, err);
	}
	if (r == 0) {
		r = check_base_config(b, err);
	}
	return r;
}

/* ---------- config and manifest ---------- */

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_string(v[i]));
	}
	return a;
}

static bool utf8_ok(const char *s)
{
	json_t *t = s ? json_string(s) : NULL;
	json_decref(t);
	return !s || t;
}

/* Every string that goes into the config or manifest must be UTF-8 (JSON text). */
static int check_text(const struct oci_build_spec *spec, struct oci_err *err)
{
	const char *single[] = { spec->user, spec->workdir, spec->revision, spec->source,
				 spec->ref_name };
	bool ok = true;
	for (size_t i = 0; i < ARRAY_SIZE(single); i++) {
		ok &= utf8_ok(single[i]);
	}
	for (size_t i = 0; i < spec->n_env; i++) {
		ok &= utf8_ok(spec->env[i].name) && utf8_ok(spec->env[i].value) &&
		      !strchr(spec->env[i].name, '=') && spec->env[i].name[0];
	}
	for (size_t i = 0; i < spec->n_labels; i++) {
		ok &= utf8_ok(spec->labels[i].name) && utf8_ok(spec->labels[i].value);
	}
	for (size_t i = 0; i < spec->n_annotations; i++) {
		ok &= utf8_ok(spec->annotations[i].name) && utf8_ok(spec->annotations[i].value);
	}
	for (size_t i = 0; i < spec->n_entrypoint; i++) {
		ok &= utf8_ok(spec->entrypoint[i]);
	}
	for (size_t i = 0; i < spec->n_cmd; i++) {
		ok &= utf8_ok(spec->cmd[i]);
	}
	for (size_t i = 0; i < spec->n_adds; i++) {
		ok &= utf8_ok(spec->adds[i].src) && utf8_ok(spec->adds[i].dest);
	}
	return ok ? 0 : oci_errf(err, -EINVAL, "image settings must be UTF-8 text");
}

static int make_config(const struct oci_build_spec *spec, const struct base *b, const char *diff_id,
		       const char *created_by, json_t **out, struct oci_err *err)
{
	(void)err;
	char created[40];
	rfc3339(spec->created, created, sizeof(created));
	json_t *cfg = b->config ? json_deep_copy(b->config) : json_object();
	if (!b->config) {
		char plat[64];
		snprintf(plat, sizeof(plat), "%s",
			 spec->platform ? spec->platform : oci_host_platform());
		char *arch = strchr(plat, '/'), *variant;
		*arch++ = '\0';
		if ((variant = strchr(arch, '/'))) {
			*variant++ = '\0';
		}
		json_object_set_new(cfg, "os", json_string(plat));
		json_object_set_new(cfg, "architecture", json_string(arch));
		if (variant) {
			json_object_set_new(cfg, "variant", json_string(variant));
		}
	}
	json_object_set_new(cfg, "created", json_string(created));
	json_t *c = json_object_get(cfg, "config");
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(cfg, "config", c);
	}
	if (spec->n_env) {
		json_t *env = json_object_get(c, "Env");
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(c, "Env", env);
		}
		for (size_t i = 0; i < spec->n_env; i++) {
			size_t nl = strlen(spec->env[i].name);
			_cleanup_free_ char *kv =
				xasprintf("%s=%s", spec->env[i].name, spec->env[i].value);
			bool replaced = false;
			for (size_t k = 0; k < json_array_size(env) && !replaced; k++) {
				const char *e = json_string_value(json_array_get(env, k));
				if (e && strncmp(e, spec->env[i].name, nl) == 0 && e[nl] == '=') {
					json_array_set_new(env, k, json_string(kv));
					replaced = true;
				}
			}
			if (!replaced) {
				json_array_append_new(env, json_string(kv));
			}
		}
	}
	if (spec->set_entrypoint) {
		json_object_set_new(c, "Entrypoint", strings(spec->entrypoint, spec->n_entrypoint));
		if (!spec->set_cmd) {
			json_object_del(c, "Cmd");
		}
	}
	if (spec->set_cmd) {
		json_object_set_new(c, "Cmd", strings(spec->cmd, spec->n_cmd));
	}
	if (spec->user) {
		json_object_set_new(c, "User", json_string(spec->user));
	}
	if (spec->workdir) {
		json_object_set_new(c, "WorkingDir", json_string(spec->workdir));
	}
	if (spec->n_labels) {
		json_t *labels = json_object_get(c, "Labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(c, "Labels", labels);
		}
		for (size_t i = 0; i < spec->n_labels; i++) {
			json_object_set_new(labels, spec->labels[i].name,
					    json_string(spec->labels[i].value));
		}
	}
	json_t *rootfs = json_object_get(cfg, "rootfs");
	json_t *ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_object(rootfs) || !json_is_array(ids)) {
		rootfs = json_object();
		ids = json_array();
		json_object_set_new(rootfs, "diff_ids", ids);
		json_object_set_new(cfg, "rootfs", rootfs);
	}
	json_object_set_new(rootfs, "type", json_string("layers"));
	if (diff_id) {
		json_array_append_new(ids, json_string(diff_id));
	}
	json_t *hist = json_object_get(cfg, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(cfg, "history", hist);
	}
	json_t *h = json_pack("{s:s, s:s}", "created", created, "created_by", created_by);
	if (!diff_id) {
		json_object_set_new(h, "empty_layer", json_true());
	}
	json_array_append_new(hist, h);
	*out = cfg;
	return 0;
}

/* Set an annotation unless the user set it already or there is nothing to say. */
static void annotate(json_t *ann, const char *key, const char *value)
{
	if (value && *value && !json_object_get(ann, key)) {
		json_object_set_new(ann, key, json_string(value));
	}
}

static json_t *make_manifest(const struct oci_build_spec *spec, const struct base *b,
			     const struct oci_descriptor *config,
			     const struct oci_descriptor *layer)
{
	json_t *layers = json_array();
	for (size_t i = 0; i < b->n_layers; i++) {
		json_array_append_new(layers, oci_descriptor_json(&b->layers[i]));
	}
	if (layer) {
		json_array_append_new(layers, oci_descriptor_json(layer));
	}
	json_t *ann = json_object();
	for (size_t i = 0; i < spec->n_annotations; i++) {
		json_object_set_new(ann, spec->annotations[i].name,
				    json_string(spec->annotations[i].value));
	}
	char created[40];
	rfc3339(spec->created, created, sizeof(created));
	annotate(ann, "org.opencontainers.image.created", created);
	annotate(ann, "org.opencontainers.image.revision", spec->revision);
	annotate(ann, "org.opencontainers.image.source", spec->source);
	annotate(ann, "org.opencontainers.image.base.digest", b->digest);
	annotate(ann, "org.opencontainers.image.base.name", b->name);
	return json_pack("{s:i, s:s, s:o, s:o, s:o}", "schemaVersion", 2, "mediaType",
			 OCI_MT_MANIFEST, "config", oci_descriptor_json(config), "layers", layers,
			 "annotations", ann);
}

/* The config's history line. Sources as the context sees them: an absolute source (inside
 * the context, collect_add() made sure) is written relative to it, so that neither the
 * host's paths nor where the checkout lives get into the image or its digest. */
static char *describe_adds(const struct oci_build_spec *spec)
{
	struct sbuf sb;
	sbuf_init(&sb, 2000);
	sbuf_puts(&sb, "runner image build");
	_cleanup_free_ char *ctx = realpath(spec->context ? spec->context : ".", NULL);
	for (size_t i = 0; i < spec->n_adds; i++) {
		const char *src = spec->adds[i].src;
		_cleanup_free_ char *real = src[0] == '/' ? realpath(src, NULL) : NULL;
		size_t cl = ctx ? strlen(ctx) : 0;
		if (src[0] == '/') {
			src = real && ctx && strncmp(real, ctx, cl) == 0 && real[cl] == '/'
				      ? real + cl + 1
			      : real && ctx && str_eq(real, ctx) ? "."
								 : "(a path)";
		}
		if (sbuf_printf(&sb, "%s %s %s", i ? ";" : ": add", src, spec->adds[i].dest) < 0) {
			sbuf_puts(&sb, " ...");
			break;
		}
	}
	return sbuf_steal(&sb);
}

static int put_json(struct oci_layout *out, json_t *j, const char *media_type,
		    struct oci_descriptor *d, struct oci_err *err)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		return oci_errf(err, -EINVAL, "a value is not valid UTF-8 text");
	}
	int r = oci_layout_put_blob(out, text, strlen(text), d);
	free(text);
	if (r < 0) {
		return oci_errf(err, r, "cannot write into %s: %s", oci_layout_dir(out),
				strerror(-r));
	}
	snprintf(d->media_type, sizeof(d->media_type), "%s", media_type);
	return 0;
}

/* What a build makes stays within what a base may hold, so that it can be built on in turn
 * and pushed: the base's layers and the new one (layer may be NULL, or its size not yet
 * known, 0). */
static int check_result_layers(const struct base *b, const struct oci_descriptor *layer,
			       struct oci_err *err)
{
	size_t n = b->n_layers + (layer != NULL);
	struct oci_descriptor *all = xcalloc(n ? n : 1, sizeof(*all));
	if (b->n_layers) {
		memcpy(all, b->layers, b->n_layers * sizeof(*all));
	}
	if (layer) {
		all[b->n_layers] = *layer;
	}
	int r = oci_layers_check(all, n, "the image built (its base's layers and the new one)",
				 err);
	free(all);
	return r;
}

static int build(const struct oci_build_spec *spec, const char *out_dir,
		 struct oci_build_result *res, struct oci_err *err)
{
	memset(res, 0, sizeof(*res));
	if (spec->platform && !oci_platform_valid(spec->platform)) {
		return oci_errf(err, -EINVAL, "platform '%s' is not os/arch[/variant]",
				spec->platform);
	}
	if (spec->created < 0) {
		return oci_errf(err, -EINVAL, "the creation time is before 1970");
	}
	if (check_text(spec, err) < 0) {
		return -EINVAL;
	}
	_cleanup_free_ char *root = realpath(spec->context ? spec->context : ".", NULL);
	if (!root) {
		return oci_errf(err, -errno, "context %s: %s", spec->context, strerror(errno));
	}
	struct collect c = { .root = root, .err = err };
	c.rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c.rootfd < 0) {
		return oci_errf(err, -errno, "context %s: %s", root, strerror(errno));
	}
	struct oci_layout *out = NULL;
	struct base b = { 0 };
	json_t *cfg = NULL, *man = NULL;
	_cleanup_free_ char *created_by = describe_adds(spec);
	int r = 0;
	/* Collect first: a wrong source fails before anything is pulled or written. */
	for (size_t i = 0; r == 0 && i < spec->n_adds; i++) {
		r = collect_add(&c, &spec->adds[i]);
	}
	if (r == 0) {
		r = settle(&c); /* conflicts, before anything is written */
	}
	if (r == 0) {
		r = oci_layout_init(out_dir, &out, err);
	}
	if (r == 0) {
		r = resolve_base(spec, root, out, &b, err);
	}
	if (r == 0 && c.n) {
		/* Before the base's layers are read: one more layer must fit. */
		struct oci_descriptor none = { .size = 0 };
		r = check_result_layers(&b, &none, err);
	}
	if (r == 0 && b.n_layers && c.n_tops) {
		r = add_whiteouts(&c, out, b.layers, b.n_layers, spec->max_base_tar,
				  &res->whiteouts);
		if (r == 0) {
			r = settle(&c);
		}
	}
	if (r == 0 && c.n) {
		r = write_layer(&c, out, spec->created, &res->layer, res->diff_id, err);
		res->has_layer = r == 0;
		res->entries = c.n;
		if (r == 0) {
			r = check_result_layers(&b, &res->layer, err);
		}
	}
	if (r == 0) {
		r = make_config(spec, &b, res->has_layer ? res->diff_id : NULL, created_by, &cfg,
				err);
	}
	if (r == 0) {
		r = put_json(out, cfg, OCI_MT_CONFIG, &res->config, err);
	}
	if (r == 0) {
		man = make_manifest(spec, &b, &res->config, res->has_layer ? &res->layer : NULL);
		r = put_json(out, man, OCI_MT_MANIFEST, &res->manifest, err);
	}
	if (r == 0) {
		r = oci_layout_write_index(out, &res->manifest, spec->ref_name, err);
	}
	if (r == 0) {
		res->base_layers = b.n_layers;
		memcpy(res->base_digest, b.digest, OCI_DIGEST_SIZE);
		memcpy(res->base_manifest, b.manifest, OCI_DIGEST_SIZE);
	}
	json_decref(cfg);
	json_decref(man);
	base_release(&b);
	oci_layout_free(out);
	collect_release(&c);
	close(c.rootfd);
	return r;
}

/*
 * Layers name their files in UTF-8 (PAX headers), and libarchive converts names from the
 * locale's character set: the build runs in C.UTF-8 (this thread only), so that the bytes
 * of a UTF-8 name go into the layer as they are, whatever the caller's locale.
 */
int oci_build(const struct oci_build_spec *spec, const char *out_dir, struct oci_build_result *res,
	      struct oci_err *err)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	int r = build(spec, out_dir, res, err);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	return r;
}
