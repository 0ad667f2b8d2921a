/*
 * digest.c - SHA-256 through OpenSSL's EVP interface, and digest strings.
 */
#include "digest.h"

#include "util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "banned.h"

int oci_sha256_init(struct oci_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		return -ENOMEM;
	}
	h->ctx = ctx;
	return 0;
}

void oci_sha256_update(struct oci_sha256 *h, const void *data, size_t len)
{
	if (len) {
		EVP_DigestUpdate(h->ctx, data, len);
	}
}

void oci_sha256_final(struct oci_sha256 *h, char out[OCI_DIGEST_SIZE])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, OCI_DIGEST_PREFIX, sizeof(OCI_DIGEST_PREFIX) - 1);
	hex_encode(md, sizeof(md), out + sizeof(OCI_DIGEST_PREFIX) - 1);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void oci_sha256_release(struct oci_sha256 *h)
{
	if (h && h->ctx) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

int oci_digest_buffer(const void *data, size_t len, char out[OCI_DIGEST_SIZE])
{
	struct oci_sha256 h;
	int r = oci_sha256_init(&h);
	if (r < 0) {
		return r;
	}
	oci_sha256_update(&h, data, len);
	oci_sha256_final(&h, out);
	oci_sha256_release(&h);
	return 0;
}

bool oci_digest_valid(const char *s)
{
	if (!s || strncmp(s, OCI_DIGEST_PREFIX, sizeof(OCI_DIGEST_PREFIX) - 1) != 0) {
		return false;
	}
	const char *h = oci_digest_hex(s);
	size_t n = 0;
	for (; h[n]; n++) {
		if (!((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f'))) {
			return false;
		}
	}
	return n == 64;
}

bool oci_fd_matches(int fd, uint64_t size, const char *digest)
{
	struct oci_sha256 h;
	if (fd < 0 || oci_sha256_init(&h) < 0) {
		return false;
	}
	char *buf = xmalloc(1u << 20);
	uint64_t got = 0;
	bool ok = true;
	while (ok) {
		ssize_t n = pread(fd, buf, 1u << 20, (off_t)got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		ok = n >= 0 && got + (uint64_t)n <= size;
		if (n <= 0) {
			break;
		}
		oci_sha256_update(&h, buf, (size_t)n);
		got += (uint64_t)n;
	}
	char actual[OCI_DIGEST_SIZE];
	oci_sha256_final(&h, actual);
	oci_sha256_release(&h);
	free(buf);
	return ok && got == size && str_eq(actual, digest);
}
