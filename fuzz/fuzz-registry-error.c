/*
 * fuzz-registry-error.c - JSON error bodies (oci_parse_errors): the text made from them
 * fits the buffer and holds only printable ASCII, whatever the body.
 */
#include "reply.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];
	memset(out, 'X', sizeof(out));
	int r = oci_parse_errors((const char *)data, size, out, sizeof(out));
	size_t n = strnlen(out, sizeof(out));
	if (n == sizeof(out)) {
		__builtin_trap();
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i] < 0x20 || out[i] >= 0x7f) {
			__builtin_trap();
		}
	}
	if (r < 0 && r != -EINVAL) {
		__builtin_trap();
	}
	return 0;
}
