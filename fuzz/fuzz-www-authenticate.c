/*
 * fuzz-www-authenticate.c - WWW-Authenticate challenges as a registry sends them
 * (oci_parse_challenge). Untrusted: any bytes, any length. Checks the invariants callers
 * rely on: a Bearer result has a realm, every field is NUL-terminated within its array
 * and free of control characters.
 */
#include "reply.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap) {
		__builtin_trap();
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
			__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_challenge c;
	int r = oci_parse_challenge((const char *)data, size, &c);
	if (r == 0) {
		if (c.scheme == OCI_AUTH_NONE || (c.scheme == OCI_AUTH_BEARER && !c.realm[0])) {
			__builtin_trap();
		}
		check_field(c.realm, sizeof(c.realm));
		check_field(c.service, sizeof(c.service));
		check_field(c.scope, sizeof(c.scope));
		check_field(c.error, sizeof(c.error));
	} else if (r != -ENOENT && r != -EINVAL && r != -E2BIG) {
		__builtin_trap();
	}
	return 0;
}
