/*
 * layout.h - OCI image layouts on disk: `oci-layout`, `index.json` and content-addressed
 * blobs under `blobs/sha256/<hex>` (image-spec, image-layout.md).
 *
 * Invariants:
 *   - a blob file only ever appears under its final name once its whole content has been
 *     written and its digest checked (written to a temporary name, then renamed);
 *   - blob names are built from validated digests only, and blobs are opened without
 *     following symbolic links, so a layout cannot make us read outside it;
 *   - index.json is replaced atomically;
 *   - everything read back (index, manifests, configs) is size-capped and, for blobs,
 *     digest-checked before it is used.
 */
#ifndef RUNNER_OCI_LAYOUT_H
#define RUNNER_OCI_LAYOUT_H

#include "digest.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oci_err;

#define OCI_MT_INDEX	   "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST	   "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG	   "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER	   "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST	   "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_CONFIG   "application/vnd.docker.container.image.v1+json"
#define DOCKER_MT_LAYER	   "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Largest manifest, index or config we read (the distribution spec suggests 4 MiB). */
#define OCI_MANIFEST_MAX (4u << 20)
#define OCI_CONFIG_MAX	 (8u << 20)
/* Largest single blob we handle: far above real layers, below overflow trouble. */
#define OCI_BLOB_MAX (64ull << 30)
/* Most layers an image we pull or build on may have, and their compressed bytes in all
 * (Docker's overlay storage stops at 128 layers; the largest public images are far below
 * these). */
#define OCI_LAYERS_MAX	     256
#define OCI_LAYERS_BYTES_MAX OCI_BLOB_MAX

struct oci_descriptor {
	char media_type[256];
	char digest[OCI_DIGEST_SIZE];
	uint64_t size;
};

/*
 * Whether n layer descriptors stay within OCI_LAYERS_MAX and OCI_LAYERS_BYTES_MAX: 0, or
 * -E2BIG with a message naming what (an image reference) in err.
 */
int oci_layers_check(const struct oci_descriptor *ds, size_t n, const char *what,
		     struct oci_err *err);
/* Fill *d from a descriptor object (mediaType, digest, size), checking each. 0/-EINVAL. */
int oci_descriptor_parse(const json_t *j, struct oci_descriptor *d);
/* A new descriptor object {mediaType, digest, size}. */
json_t *oci_descriptor_json(const struct oci_descriptor *d);

/* Whether a media type names an image manifest / an index (OCI or Docker). */
bool oci_mt_is_manifest(const char *mt);
bool oci_mt_is_index(const char *mt);

struct oci_layout;

/*
 * Open the layout in dir, creating it when dir does not exist or is empty. A non-empty
 * directory that is not a layout is refused (-ENOTEMPTY), so a wrong --output cannot
 * scatter files over someone's directory.
 */
int oci_layout_init(const char *dir, struct oci_layout **out, struct oci_err *err);
/* Open an existing layout (-ENOENT when dir holds none). */
int oci_layout_open(const char *dir, struct oci_layout **out, struct oci_err *err);
void oci_layout_free(struct oci_layout *l);
const char *oci_layout_dir(const struct oci_layout *l);

/* Streaming blob writer: the digest is computed as the data goes by. */
struct oci_blob_writer;
int oci_blob_begin(struct oci_layout *l, struct oci_blob_writer **out);
int oci_blob_write(struct oci_blob_writer *w, const void *data, size_t len);
/*
 * Finish the blob: if expect is not NULL the content must have that digest (-EBADMSG
 * otherwise, and nothing is kept). Fills d->digest and d->size (not the media type).
 * Frees w in every case.
 */
int oci_blob_commit(struct oci_blob_writer *w, const char *expect, struct oci_descriptor *d);
/* Drop an unfinished blob. Accepts NULL. */
void oci_blob_abort(struct oci_blob_writer *w);

/* Store a blob held in memory; fills d->digest and d->size. */
int oci_layout_put_blob(struct oci_layout *l, const void *data, size_t len,
			struct oci_descriptor *d);
/* Whether the blob is present with this size. */
bool oci_layout_has_blob(const struct oci_layout *l, const char *digest, uint64_t size);
/* Open a blob for reading; *size is its size on disk. Returns the fd or -errno. */
int oci_layout_open_blob(const struct oci_layout *l, const char *digest, uint64_t *size);
/* Read a whole blob of at most max bytes and check its digest (-EBADMSG on mismatch). */
int oci_layout_read_blob(const struct oci_layout *l, const char *digest, size_t max, char **data,
			 size_t *len, struct oci_err *err);
/* Put the blob of src into dst (a hard link when possible, else a checked copy). */
int oci_layout_copy_blob(struct oci_layout *dst, const struct oci_layout *src, const char *digest,
			 struct oci_err *err);

/* Replace index.json with one manifest, annotated with ref_name when not NULL. */
int oci_layout_write_index(struct oci_layout *l, const struct oci_descriptor *manifest,
			   const char *ref_name, struct oci_err *err);
/* index.json, parsed (size-capped, an object with a "manifests" array); the caller
 * owns *out. */
int oci_layout_read_index(const struct oci_layout *l, json_t **out, struct oci_err *err);
/*
 * The image manifest of the layout: the one whose org.opencontainers.image.ref.name is
 * ref_name, or, when ref_name is NULL, the only one. Returns 0, -ENOENT or -EINVAL.
 */
int oci_layout_find(const struct oci_layout *l, const char *ref_name, struct oci_descriptor *d,
		    struct oci_err *err);

#endif
