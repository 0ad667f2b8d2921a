/*
 * registry.h - the OCI distribution client (distribution-spec v1.0, on libcurl): push an
 * image from a layout to one or more references, and pull an image pinned by digest
 * (a base image) into a layout.
 *
 * Security and robustness properties the callers rely on:
 *   - TLS is verified; plain HTTP is used only for loopback registries and those the user
 *     names as insecure (and then only after HTTPS failed at the TLS level);
 *   - credentials (Basic, or exchanged for a Bearer token) are sent only to the registry's
 *     own origin and to the token service it names (over HTTPS unless that is loopback or
 *     insecure); no redirect is ever followed with credentials to another origin;
 *   - every reply is size-capped and parsed by reply.h; blobs and manifests are checked
 *     against their digests, and the Docker-Content-Digest a registry echoes must be ours;
 *   - a push uploads every blob, then the manifest by digest, and only then the tags: a
 *     push that fails part-way never leaves a tag on an incomplete image;
 *   - secrets (password, tokens) are masked in every line handed to the log callback,
 *     debug lines included.
 */
#ifndef RUNNER_OCI_REGISTRY_H
#define RUNNER_OCI_REGISTRY_H

#include "layout.h"
#include "ref.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oci_err;

/* One line of progress or debug text (no newline), secrets already masked. */
typedef void (*oci_log_fn)(void *userdata, const char *line);

struct oci_registry_opts {
	const char *username; /* NULL: anonymous */
	const char *password;
	const char *const *insecure; /* hosts ("host:port") that may be reached over HTTP */
	size_t n_insecure;
	unsigned jobs;		  /* blobs transferred at once (default 4, at most 16) */
	unsigned retries;	  /* further attempts after a retryable failure (0: the
				   * default, 4; OCI_NO_RETRIES: none) */
	unsigned backoff_ms;	  /* first retry delay, doubled each time (default 500) */
	uint64_t chunk_size;	  /* blobs above this go up in PATCH chunks of this size
				   * (default 64 MiB) */
	unsigned stall_timeout_s; /* a transfer without progress for this long fails (60) */
	unsigned small_timeout_s; /* a request carrying no blob (a manifest, a token, a
				   * HEAD) fails after this long in all, however busy (300) */
	bool debug;		  /* log HTTP request and response headers */
	oci_log_fn log;		  /* may be NULL */
	void *log_ud;
};

#define OCI_JOBS_MAX   16
#define OCI_NO_RETRIES 0xffffffffu

struct oci_push_result {
	char digest[OCI_DIGEST_SIZE];		  /* of the manifest */
	size_t blobs, skipped, mounted, uploaded; /* per repository, summed */
	uint64_t bytes_uploaded;
	char **pushed; /* "host/repo@sha256:..." for each repository */
	size_t n_pushed;
	char **tagged; /* "host/repo:tag" */
	size_t n_tagged;
};

void oci_push_result_release(struct oci_push_result *r);

/*
 * Push the image manifest `manifest` of layout l, with its config and layers, to every
 * reference in refs (a reference without a tag is pushed by digest only). Returns 0 or a
 * negative errno with err explaining: -EACCES (authentication refused), -EPROTO (the
 * registry answered something wrong), -EIO (the registry could not be reached or kept
 * failing), -EINVAL (the layout is incomplete or invalid).
 */
int oci_push(const struct oci_layout *l, const struct oci_descriptor *manifest,
	     const struct oci_ref *refs, size_t n_refs, const struct oci_registry_opts *o,
	     struct oci_push_result *res, struct oci_err *err);

struct oci_pulled {
	struct oci_descriptor desc; /* the image manifest (not an index) */
	bool from_index;	    /* chosen from the index the reference pinned */
	json_t *manifest;
	json_t *config;
};

void oci_pulled_release(struct oci_pulled *p);

/*
 * Split a credentials secret "user:password" at its first ':' (a user name cannot hold
 * one). *user and *password are heap strings the caller frees (and should wipe).
 * Returns 0 or -EINVAL (no ':' or an empty user name).
 */
int oci_parse_credentials(const char *value, char **user, char **password);

/*
 * Pull the image ref (which must carry a digest) into layout l: its manifest (from an
 * index, the one for platform "os/arch[/variant]", chosen as index.h says), config and
 * layers, every one checked against its digest. Same errors as oci_push(), and -ENOENT
 * or -EINVAL when the index has no single image for the platform.
 */
int oci_pull(const struct oci_ref *ref, const char *platform, struct oci_layout *l,
	     const struct oci_registry_opts *o, struct oci_pulled *out, struct oci_err *err);

#endif
