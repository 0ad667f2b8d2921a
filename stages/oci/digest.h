/*
 * digest.h - content digests of OCI blobs: SHA-256 only, written "sha256:<64 hex>".
 *
 * Every blob this code writes, reads back or receives from a registry is named by such a
 * digest; a digest string that does not match the grammar exactly (lower-case hex, the
 * right length, the sha256 algorithm) is refused before it reaches a path or a URL, so a
 * digest can safely name a file under blobs/sha256/.
 */
#ifndef RUNNER_OCI_DIGEST_H
#define RUNNER_OCI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCI_DIGEST_PREFIX "sha256:"
#define OCI_DIGEST_LEN	  71 /* "sha256:" + 64 hex digits */
#define OCI_DIGEST_SIZE	  72 /* with the NUL */

struct oci_sha256 {
	void *ctx; /* OpenSSL EVP_MD_CTX, owned */
};

/* Start a hash. Returns 0 or -ENOMEM. */
int oci_sha256_init(struct oci_sha256 *h);
void oci_sha256_update(struct oci_sha256 *h, const void *data, size_t len);
/* Finish: writes "sha256:<hex>" into out (OCI_DIGEST_SIZE bytes). h can be reused after. */
void oci_sha256_final(struct oci_sha256 *h, char out[OCI_DIGEST_SIZE]);
void oci_sha256_release(struct oci_sha256 *h);

/* Digest of a buffer into out. Returns 0 or -ENOMEM. */
int oci_digest_buffer(const void *data, size_t len, char out[OCI_DIGEST_SIZE]);

/* Whether the file open at fd holds exactly size bytes (read from offset 0, whatever its
 * position) whose digest is digest. */
bool oci_fd_matches(int fd, uint64_t size, const char *digest);

/* Whether s is exactly "sha256:" followed by 64 lower-case hex digits. */
bool oci_digest_valid(const char *s);

/* The hex part of a valid digest. */
static inline const char *oci_digest_hex(const char *digest)
{
	return digest + sizeof(OCI_DIGEST_PREFIX) - 1;
}

#endif
