/*
 * fuzz-token.c - token responses of the Bearer flow (oci_parse_token): a token is either
 * refused or is visible ASCII of bounded length with a sane lifetime.
 */
#include "reply.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *tok = NULL;
	int64_t exp = -1;
	int r = oci_parse_token((const char *)data, size, &tok, &exp);
	if (r == 0) {
		size_t n = strlen(tok);
		if (n == 0 || n > OCI_TOKEN_MAX || exp < 60 || exp > 86400) {
			__builtin_trap();
		}
		for (size_t i = 0; i < n; i++) {
			if (tok[i] <= 0x20 || tok[i] >= 0x7f) {
				__builtin_trap();
			}
		}
	} else if (tok) {
		__builtin_trap();
	}
	free(tok);
	return 0;
}
