/*
 * layout.c - reading and writing OCI image layouts (see layout.h).
 */
#include "layout.h"

#include "err.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define LAYOUT_FILE "{\"imageLayoutVersion\":\"1.0.0\"}"
#define INDEX_MAX   (4u << 20)
#define COPY_CHUNK  (256u << 10)

struct oci_layout {
	char *dir;
	int dirfd;   /* the layout directory */
	int blobsfd; /* blobs/sha256 */
};

struct oci_blob_writer {
	struct oci_layout *l;
	int fd;
	char tmpname[64];
	struct oci_sha256 hash;
	uint64_t size;
};

/* ---------- descriptors ---------- */

bool oci_mt_is_manifest(const char *mt)
{
	return str_eq(mt, OCI_MT_MANIFEST) || str_eq(mt, DOCKER_MT_MANIFEST);
}

bool oci_mt_is_index(const char *mt)
{
	return str_eq(mt, OCI_MT_INDEX) || str_eq(mt, DOCKER_MT_LIST);
}

static bool media_type_valid(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(((struct oci_descriptor *)0)->media_type)) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

int oci_layers_check(const struct oci_descriptor *ds, size_t n, const char *what,
		     struct oci_err *err)
{
	if (n > OCI_LAYERS_MAX) {
		return oci_errf(err, -E2BIG, "%s has %zu layers, more than the %d allowed", what, n,
				OCI_LAYERS_MAX);
	}
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		/* Each size is at most OCI_BLOB_MAX, so 256 of them cannot overflow. */
		total += ds[i].size;
	}
	if (total > OCI_LAYERS_BYTES_MAX) {
		return oci_errf(err, -E2BIG,
				"%s has %" PRIu64 " bytes of layers, more than the %llu allowed",
				what, total, (unsigned long long)OCI_LAYERS_BYTES_MAX);
	}
	return 0;
}

int oci_descriptor_parse(const json_t *j, struct oci_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	json_t *mt = json_object_get(j, "mediaType");
	const char *digest = json_string_value(json_object_get(j, "digest"));
	json_t *size = json_object_get(j, "size");
	if (!json_is_string(mt) ||
	    !media_type_valid(json_string_value(mt), json_string_length(mt)) ||
	    !oci_digest_valid(digest) || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    (uint64_t)json_integer_value(size) > OCI_BLOB_MAX) {
		return -EINVAL;
	}
	memcpy(d->media_type, json_string_value(mt), json_string_length(mt) + 1);
	memcpy(d->digest, digest, OCI_DIGEST_SIZE);
	d->size = (uint64_t)json_integer_value(size);
	return 0;
}

json_t *oci_descriptor_json(const struct oci_descriptor *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
			 (json_int_t)d->size);
}

/* ---------- opening ---------- */

static int layout_new(const char *dir, int dirfd, struct oci_layout **out, struct oci_err *err)
{
	/* Component by component, following no symbolic link: a blobs -> elsewhere link would
	 * send every blob there. */
	int pfd = openat(dirfd, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int bfd = pfd < 0 ? -1
			  : openat(pfd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (pfd >= 0) {
		int e = errno;
		close(pfd);
		errno = e;
	}
	if (bfd < 0) {
		int r = -errno;
		close(dirfd);
		return oci_errf(err, r, "%s: cannot open blobs/sha256: %s", dir, strerror(-r));
	}
	struct oci_layout *l = xcalloc(1, sizeof(*l));
	l->dir = xstrdup(dir);
	l->dirfd = dirfd;
	l->blobsfd = bfd;
	*out = l;
	return 0;
}

static int check_layout_file(int dirfd, const char *dir, struct oci_err *err)
{
	int fd = openat(dirfd, "oci-layout", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int r = -errno;
		return oci_errf(err, r, "%s is not an OCI image layout (no oci-layout file)", dir);
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_fd_capped(fd, 4096, &buf, &len);
	close(fd);
	if (r < 0) {
		return oci_errf(err, r, "%s/oci-layout: %s", dir, strerror(-r));
	}
	json_error_t je;
	json_t *j = json_loadb(buf, len, 0, &je);
	const char *v = json_string_value(json_object_get(j, "imageLayoutVersion"));
	r = v && strncmp(v, "1.", 2) == 0 ? 0 : -EINVAL;
	json_decref(j);
	if (r < 0) {
		return oci_errf(err, r, "%s/oci-layout: not an image layout of version 1.x", dir);
	}
	return 0;
}

int oci_layout_open(const char *dir, struct oci_layout **out, struct oci_err *err)
{
	*out = NULL;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		int r = -errno;
		return oci_errf(err, r, "cannot open the image layout %s: %s", dir, strerror(-r));
	}
	int r = check_layout_file(dirfd, dir, err);
	if (r < 0) {
		close(dirfd);
		return r;
	}
	return layout_new(dir, dirfd, out, err);
}

static bool dir_is_empty(int dirfd)
{
	int fd = dup(dirfd);
	if (fd < 0) {
		return false;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	bool empty = true;
	struct dirent *e;
	while (empty && (e = readdir(d))) {
		empty = str_eq(e->d_name, ".") || str_eq(e->d_name, "..");
	}
	closedir(d);
	return empty;
}

int oci_layout_init(const char *dir, struct oci_layout **out, struct oci_err *err)
{
	*out = NULL;
	int r = mkdir_p(dir, 0755);
	if (r < 0) {
		return oci_errf(err, r, "cannot create %s: %s", dir, strerror(-r));
	}
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		return oci_errf(err, r, "cannot open %s: %s", dir, strerror(-r));
	}
	struct stat st;
	if (fstatat(dirfd, "oci-layout", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = check_layout_file(dirfd, dir, err);
	} else if (!dir_is_empty(dirfd)) {
		r = oci_errf(
			err, -ENOTEMPTY,
			"%s is neither empty nor an OCI image layout; refusing to write into it",
			dir);
	} else {
		_cleanup_free_ char *path = xasprintf("%s/oci-layout", dir);
		r = write_file_atomic(path, LAYOUT_FILE, strlen(LAYOUT_FILE), 0644);
		if (r < 0) {
			oci_errf(err, r, "cannot write %s: %s", path, strerror(-r));
		}
	}
	if (r == 0 && (mkdirat(dirfd, "blobs", 0755) < 0 && errno != EEXIST)) {
		r = oci_errf(err, -errno, "cannot create %s/blobs: %s", dir, strerror(errno));
	}
	if (r == 0 && (mkdirat(dirfd, "blobs/sha256", 0755) < 0 && errno != EEXIST)) {
		r = oci_errf(err, -errno, "cannot create %s/blobs/sha256: %s", dir,
			     strerror(errno));
	}
	if (r < 0) {
		close(dirfd);
		return r;
	}
	return layout_new(dir, dirfd, out, err);
}

void oci_layout_free(struct oci_layout *l)
{
	if (!l) {
		return;
	}
	close(l->blobsfd);
	close(l->dirfd);
	free(l->dir);
	free(l);
}

const char *oci_layout_dir(const struct oci_layout *l)
{
	return l->dir;
}

/* ---------- blobs ---------- */

int oci_blob_begin(struct oci_layout *l, struct oci_blob_writer **out)
{
	struct oci_blob_writer *w = xcalloc(1, sizeof(*w));
	unsigned char rnd[8];
	char hex[17];
	int r;
	w->l = l;
	w->fd = -1;
	if ((r = oci_sha256_init(&w->hash)) < 0) {
		free(w);
		return r;
	}
	if ((r = random_bytes(rnd, sizeof(rnd))) < 0) {
		oci_blob_abort(w);
		return r;
	}
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(w->tmpname, sizeof(w->tmpname), ".tmp-%s", hex);
	w->fd = openat(l->blobsfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0644);
	if (w->fd < 0) {
		r = -errno;
		w->tmpname[0] = '\0';
		oci_blob_abort(w);
		return r;
	}
	*out = w;
	return 0;
}

int oci_blob_write(struct oci_blob_writer *w, const void *data, size_t len)
{
	if (w->size + len > OCI_BLOB_MAX) {
		return -EFBIG;
	}
	oci_sha256_update(&w->hash, data, len);
	w->size += len;
	return write_all(w->fd, data, len);
}

void oci_blob_abort(struct oci_blob_writer *w)
{
	if (!w) {
		return;
	}
	if (w->fd >= 0) {
		close(w->fd);
	}
	if (w->tmpname[0]) {
		unlinkat(w->l->blobsfd, w->tmpname, 0);
	}
	oci_sha256_release(&w->hash);
	free(w);
}

int oci_blob_commit(struct oci_blob_writer *w, const char *expect, struct oci_descriptor *d)
{
	char digest[OCI_DIGEST_SIZE];
	oci_sha256_final(&w->hash, digest);
	int r = 0;
	if (expect && strcmp(expect, digest) != 0) {
		r = -EBADMSG;
	}
	if (r == 0 && close(w->fd) < 0) {
		r = -errno;
	}
	w->fd = -1;
	if (r == 0 &&
	    renameat(w->l->blobsfd, w->tmpname, w->l->blobsfd, oci_digest_hex(digest)) < 0) {
		r = -errno;
	}
	if (r == 0) {
		w->tmpname[0] = '\0';
		memcpy(d->digest, digest, OCI_DIGEST_SIZE);
		d->size = w->size;
	}
	oci_blob_abort(w);
	return r;
}

int oci_layout_put_blob(struct oci_layout *l, const void *data, size_t len,
			struct oci_descriptor *d)
{
	char digest[OCI_DIGEST_SIZE];
	int r = oci_digest_buffer(data, len, digest);
	if (r < 0) {
		return r;
	}
	if (oci_layout_has_blob(l, digest, len)) {
		memcpy(d->digest, digest, OCI_DIGEST_SIZE);
		d->size = len;
		return 0;
	}
	struct oci_blob_writer *w;
	if ((r = oci_blob_begin(l, &w)) < 0) {
		return r;
	}
	if ((r = oci_blob_write(w, data, len)) < 0) {
		oci_blob_abort(w);
		return r;
	}
	return oci_blob_commit(w, NULL, d);
}

/* A blob already there is taken only when its bytes hash to its name: a layout written
 * before (or by someone else) may hold a file of the right name and size and other bytes,
 * which an index pointing at it would then vouch for. One that does not match is replaced
 * by whoever asked. */
bool oci_layout_has_blob(const struct oci_layout *l, const char *digest, uint64_t size)
{
	struct stat st;
	if (!oci_digest_valid(digest)) {
		return false;
	}
	int fd = openat(l->blobsfd, oci_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return false;
	}
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size &&
		  oci_fd_matches(fd, size, digest);
	close(fd);
	return ok;
}

int oci_layout_open_blob(const struct oci_layout *l, const char *digest, uint64_t *size)
{
	struct stat st;
	if (!oci_digest_valid(digest)) {
		return -EINVAL;
	}
	int fd = openat(l->blobsfd, oci_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int oci_layout_read_blob(const struct oci_layout *l, const char *digest, size_t max, char **data,
			 size_t *len, struct oci_err *err)
{
	uint64_t size;
	*data = NULL;
	int fd = oci_layout_open_blob(l, digest, &size);
	if (fd < 0) {
		return oci_errf(err, fd, "%s: blob %s: %s", l->dir, digest, strerror(-fd));
	}
	int r = read_fd_capped(fd, max, data, len);
	close(fd);
	if (r < 0) {
		return oci_errf(err, r, "%s: blob %s: %s", l->dir, digest,
				r == -EFBIG ? "too large" : strerror(-r));
	}
	char actual[OCI_DIGEST_SIZE];
	if ((r = oci_digest_buffer(*data, *len, actual)) < 0 || strcmp(actual, digest) != 0) {
		free(*data);
		*data = NULL;
		return oci_errf(err, r < 0 ? r : -EBADMSG,
				"%s: blob %s does not match its digest (the layout is corrupt)",
				l->dir, digest);
	}
	return 0;
}

int oci_layout_copy_blob(struct oci_layout *dst, const struct oci_layout *src, const char *digest,
			 struct oci_err *err)
{
	uint64_t size;
	int fd = oci_layout_open_blob(src, digest, &size);
	if (fd < 0) {
		return oci_errf(err, fd, "%s: blob %s: %s", src->dir, digest, strerror(-fd));
	}
	if (oci_layout_has_blob(dst, digest, size)) {
		close(fd);
		return 0;
	}
	/* Always copy and check: a hard link would share a file the source can still change. */
	struct oci_blob_writer *w;
	int r = oci_blob_begin(dst, &w);
	if (r < 0) {
		close(fd);
		return oci_errf(err, r, "%s: cannot write a blob: %s", dst->dir, strerror(-r));
	}
	char *buf = xmalloc(COPY_CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		if ((r = oci_blob_write(w, buf, (size_t)n)) < 0) {
			break;
		}
	}
	free(buf);
	close(fd);
	if (r < 0) {
		oci_blob_abort(w);
		return oci_errf(err, r, "copying blob %s: %s", digest, strerror(-r));
	}
	struct oci_descriptor d;
	r = oci_blob_commit(w, digest, &d);
	if (r == -EBADMSG) {
		return oci_errf(err, r, "%s: blob %s does not match its digest", src->dir, digest);
	}
	return r < 0 ? oci_errf(err, r, "writing blob %s: %s", digest, strerror(-r)) : 0;
}

/* ---------- index ---------- */

int oci_layout_write_index(struct oci_layout *l, const struct oci_descriptor *manifest,
			   const char *ref_name, struct oci_err *err)
{
	json_t *desc = oci_descriptor_json(manifest);
	if (ref_name) {
		json_object_set_new(
			desc, "annotations",
			json_pack("{s:s}", "org.opencontainers.image.ref.name", ref_name));
	}
	json_t *index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType",
				  OCI_MT_INDEX, "manifests", desc);
	char *text = json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(index);
	if (!text) {
		return -ENOMEM;
	}
	_cleanup_free_ char *path = xasprintf("%s/index.json", l->dir);
	int r = write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	if (r < 0) {
		return oci_errf(err, r, "cannot write %s: %s", path, strerror(-r));
	}
	return 0;
}

int oci_layout_read_index(const struct oci_layout *l, json_t **out, struct oci_err *err)
{
	*out = NULL;
	int fd = openat(l->dirfd, "index.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int r = -errno;
		return oci_errf(err, r, "%s/index.json: %s", l->dir, strerror(-r));
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_fd_capped(fd, INDEX_MAX, &buf, &len);
	close(fd);
	if (r < 0) {
		return oci_errf(err, r, "%s/index.json: %s", l->dir,
				r == -EFBIG ? "too large" : strerror(-r));
	}
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j) || !json_is_array(json_object_get(j, "manifests"))) {
		json_decref(j);
		return oci_errf(err, -EINVAL, "%s/index.json: not an image index", l->dir);
	}
	*out = j;
	return 0;
}

#define NAMES_SHOWN_MAX 200
#define NAME_SHOWN_MAX	64

/* Add name (an image's org.opencontainers.image.ref.name, or NULL) to names, the list a
 * message shows ("names: 'a', 'b'"), while it fits: only a name of printable ASCII without
 * quotes, of at most NAME_SHOWN_MAX bytes (the index is not the runner's to trust). */
static void add_name(char names[NAMES_SHOWN_MAX], const char *name)
{
	if (!name || !*name || strlen(name) > NAME_SHOWN_MAX) {
		return;
	}
	for (const char *c = name; *c; c++) {
		if (*c < 0x20 || *c > 0x7e || *c == '\'') {
			return;
		}
	}
	size_t len = strlen(names);
	if (len + strlen(name) + sizeof("names: ''") + 2 >= NAMES_SHOWN_MAX) {
		return;
	}
	snprintf(names + len, NAMES_SHOWN_MAX - len, "%s'%s'", len ? ", " : "names: ", name);
}

int oci_layout_find(const struct oci_layout *l, const char *ref_name, struct oci_descriptor *d,
		    struct oci_err *err)
{
	json_t *j;
	int r = oci_layout_read_index(l, &j, err);
	if (r < 0) {
		return r;
	}
	json_t *ms = json_object_get(j, "manifests");
	size_t found = 0, images = 0;
	char names[NAMES_SHOWN_MAX] = "";
	for (size_t i = 0; i < json_array_size(ms) && r == 0; i++) {
		json_t *m = json_array_get(ms, i);
		struct oci_descriptor cand;
		if (oci_descriptor_parse(m, &cand) < 0) {
			r = oci_errf(err, -EINVAL,
				     "%s/index.json: manifest %zu is not a valid descriptor",
				     l->dir, i);
			break;
		}
		if (!oci_mt_is_manifest(cand.media_type)) {
			continue;
		}
		images++;
		const char *name = json_string_value(json_object_get(
			json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
		add_name(names, name);
		if (ref_name && !str_eq(name, ref_name)) {
			continue;
		}
		if (found++ == 0) {
			*d = cand;
		}
	}
	json_decref(j);
	if (r < 0) {
		return r;
	}
	if (found == 0) {
		return oci_errf(err, -ENOENT, "%s: no image manifest%s%s%s", l->dir,
				ref_name ? " named '" : "", ref_name ? ref_name : "",
				ref_name ? "'" : "");
	}
	/* Only `runner image push` gets here: a base layout of several images is chosen from
	 * by platform (image.c). Its --ref-name chooses. */
	if (found > 1 && ref_name) {
		return oci_errf(err, -EINVAL,
				"%s holds %zu image manifests named '%s': --ref-name cannot choose "
				"among them",
				l->dir, found, ref_name);
	}
	if (found > 1) {
		return oci_errf(err, -EINVAL,
				"%s holds %zu image manifests; choose the one to push with "
				"--ref-name NAME (%s)",
				l->dir, images,
				names[0] ? names
					 : "it matches their org.opencontainers.image.ref.name "
					   "annotation; none has one it could give");
	}
	return 0;
}
