/*
 * fuzz-version.c - every version comparator on arbitrary pairs: the input is split at
 * the first newline into two versions (and a third after the second newline). Each
 * comparator must be total and consistent: compare(a, a) = 0, compare(a, b) =
 * -compare(b, a), and transitive on the three.
 */
#include "cvss.h"
#include "eco.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096) {
		return 0;
	}
	char *buf = malloc(size + 1);
	if (!buf) {
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* NULs end the strings early; that is fine. */
	char *b = strchr(buf, '\n');
	if (b) {
		*b++ = '\0';
	} else {
		b = buf;
	}
	char *c = strchr(b, '\n');
	if (c) {
		*c++ = '\0';
	} else {
		c = b;
	}
	for (int s = VSCHEME_SEMVER; s <= VSCHEME_NUGET; s++) {
		int ab = sign(vers_compare((enum vscheme)s, buf, b));
		int ba = sign(vers_compare((enum vscheme)s, b, buf));
		if (ab != -ba || vers_compare((enum vscheme)s, buf, buf) != 0) {
			__builtin_trap();
		}
		if (vers_compare((enum vscheme)s, b, c) + vers_compare((enum vscheme)s, c, b) !=
		    0) {
			__builtin_trap();
		}
	}
	double score;
	if (cvss_base_score(buf, &score) == 0 && !(score >= 0.0 && score <= 10.0)) {
		__builtin_trap();
	}
	free(buf);
	return 0;
}
