/*
 * image.h - building an image reproducibly into an OCI layout.
 *
 * A build takes a base (nothing, a local layout, or a registry image pinned by digest),
 * adds one layer made of files from a context directory, writes a new config and
 * manifest, and points index.json at it. The same inputs give the same bytes, hence the
 * same manifest digest, on any day:
 *
 *   - the layer is a PAX-restricted tar written with libarchive: entries sorted (parents
 *     before children, whiteouts before their siblings), every mtime = `created`, uid and
 *     gid 0 without names, no atime/ctime/xattrs/ACLs, modes normalised (0755 for
 *     directories and executables, 0644 for other files, 0777 for symbolic links);
 *   - it is gzip-compressed without a timestamp or file name in the gzip header;
 *   - the DiffID (SHA-256 of the uncompressed tar) and the blob digest are computed while
 *     the layer is written, in one pass;
 *   - config and manifest are JSON with sorted keys; `created` is given by the caller
 *     (SOURCE_DATE_EPOCH or the commit time), never the clock.
 *
 * Where an `add` replaces something the base has at the same path, the layer carries a
 * whiteout (a directory replacing a directory gets an opaque whiteout, so nothing of the
 * base's directory shows through).
 *
 * `add` sources must stay inside the context: a source that leads outside through a
 * symbolic link is refused, files are opened without following symbolic links below the
 * context, symbolic links inside added directories are stored as links (never followed),
 * and devices, FIFOs and sockets are refused.
 */
#ifndef RUNNER_OCI_IMAGE_H
#define RUNNER_OCI_IMAGE_H

#include "layout.h"
#include "registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oci_err;

/* Caps on what a build may collect. */
#define OCI_BUILD_MAX_ENTRIES 1000000
#define OCI_BUILD_MAX_DEPTH   256
#define OCI_BUILD_MAX_PATH    4096
/* Most uncompressed tar read from a base's layers, all of them together, to learn what an
 * `add` replaces (a layer that inflates without end is refused, not read to the end). */
#define OCI_BUILD_MAX_BASE_TAR (64ull << 30)

struct oci_add {
	const char *src;  /* relative to the context (or absolute inside it) */
	const char *dest; /* absolute path in the image; a trailing '/' means "into" */
};

struct oci_kv {
	const char *name;
	const char *value;
};

struct oci_build_spec {
	const char *context; /* directory the sources are taken from */
	/* "scratch" (or NULL), a directory holding an OCI layout (relative to the context or
	 * absolute; confined to the context when base_confined), or a registry reference
	 * pinned by digest (name@sha256:...). */
	const char *base;
	bool base_confined;
	const struct oci_add *adds;
	size_t n_adds;
	const char *const *entrypoint; /* set_entrypoint: replace (and reset cmd) */
	size_t n_entrypoint;
	bool set_entrypoint;
	const char *const *cmd;
	size_t n_cmd;
	bool set_cmd;
	const struct oci_kv *env; /* merged into the base's Env */
	size_t n_env;
	const char *user;    /* NULL: keep the base's */
	const char *workdir; /* NULL: keep the base's */
	const struct oci_kv *labels;
	size_t n_labels;
	const struct oci_kv *annotations; /* on the manifest */
	size_t n_annotations;
	const char *platform; /* "os/arch[/variant]" for scratch and for choosing in a base's
			       * index; NULL: linux/<this machine> */
	int64_t created;      /* seconds since the epoch */
	const char *revision; /* org.opencontainers.image.revision, or NULL */
	const char *source;   /* org.opencontainers.image.source, or NULL */
	const char *ref_name; /* org.opencontainers.image.ref.name in index.json, or NULL */
	const struct oci_registry_opts *registry; /* to pull a registry base (NULL: defaults) */
	uint64_t max_base_tar; /* 0: OCI_BUILD_MAX_BASE_TAR (a caller may set a lower cap) */
};

struct oci_build_result {
	struct oci_descriptor manifest;
	struct oci_descriptor config;
	struct oci_descriptor layer; /* when has_layer */
	bool has_layer;
	char diff_id[OCI_DIGEST_SIZE];
	size_t entries; /* in the new layer, whiteouts included */
	size_t whiteouts;
	size_t base_layers;
	char base_digest[OCI_DIGEST_SIZE];   /* what was pinned (an index's digest when the
					      * base is an index), "" for scratch */
	char base_manifest[OCI_DIGEST_SIZE]; /* the base's image manifest (chosen from the
					      * index for the platform), "" for scratch */
};

/*
 * Build into the layout at out_dir (created, or an existing layout). Returns 0, or
 * -EINVAL (bad input: a source missing or escaping, conflicting adds, a bad base),
 * -EACCES/-EIO/-EPROTO (pulling the base failed), another -errno; err says what.
 */
int oci_build(const struct oci_build_spec *spec, const char *out_dir, struct oci_build_result *res,
	      struct oci_err *err);

/* "os/arch[/variant]" of this machine, Go style ("linux/amd64", "linux/arm/v7"). */
const char *oci_host_platform(void);

/* Whether s is "os/arch" or "os/arch/variant" of lower-case letters and digits. */
bool oci_platform_valid(const char *s);

/*
 * Whether an `add` destination is acceptable: absolute, without "." or ".." components
 * or empty ones, no component named like a whiteout (".wh.*"), at most OCI_BUILD_MAX_PATH.
 */
bool oci_dest_valid(const char *dest);

#endif
