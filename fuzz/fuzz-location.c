/*
 * fuzz-location.c - Location headers (oci_resolve_location) and the helpers that judge
 * where a request may go (oci_url_origin, Retry-After, upload ranges). The first byte
 * picks the base URL; a resolved location is an absolute http(s) URL of visible ASCII,
 * without user information, of bounded length, and its origin can be computed.
 */
#include "reply.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const bases[] = {
	"http://127.0.0.1:5000/v2/acme/app/blobs/uploads/",
	"https://registry.example.com/v2/a/b/blobs/uploads/abc?_state=xyz",
	"http://[::1]:5000/v2/",
	"https://r.io",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	const char *base = bases[data[0] % (sizeof(bases) / sizeof(bases[0]))];
	const char *loc = (const char *)data + 1;
	size_t len = size - 1;
	char *out = NULL;
	int r = oci_resolve_location(base, loc, len, &out);
	if (r == 0) {
		size_t n = strlen(out);
		if (n == 0 || n > OCI_URL_MAX ||
		    (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)) {
			__builtin_trap();
		}
		for (size_t i = 0; i < n; i++) {
			if (out[i] <= 0x20 || out[i] >= 0x7f) {
				__builtin_trap();
			}
		}
		char origin[OCI_URL_MAX + 32];
		if (oci_url_origin(out, origin, sizeof(origin)) < 0 || strchr(origin, '@')) {
			__builtin_trap();
		}
		(void)oci_url_same_origin(out, base);
	} else if (out) {
		__builtin_trap();
	}
	free(out);
	/* The same bytes as header values of other kinds. */
	char *s = malloc(len + 1);
	if (s) {
		memcpy(s, loc, len);
		s[len] = '\0';
		unsigned secs;
		uint64_t last;
		if (oci_parse_retry_after(s, 1700000000, &secs) == 0 && secs > OCI_RETRY_MAX_S) {
			__builtin_trap();
		}
		(void)oci_parse_upload_range(s, &last);
		free(s);
	}
	return 0;
}
