/*
 * fuzz-lockfile.h - the body shared by the lockfile fuzz targets (fuzz-lock-*.c): each
 * defines FUZZ_FORMAT and includes this. A parser must return packages or an error with a
 * diagnostic naming the file, never crash, hang or leak, and every package it returns must
 * have a name, a version string and a line. A target may define FUZZ_PARSE(l, data, size,
 * dl) to parse the input otherwise than as one buffer of FUZZ_FORMAT.
 */
#include "deps.h"
#include "diag.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
#ifdef FUZZ_PARSE
	int r = FUZZ_PARSE(&l, data, size, &dl);
#else
	int r = deps_parse_buffer(&l, FUZZ_FORMAT, "fuzz", (const char *)data, size, &dl);
#endif
	if (r < 0 && (dl.errors == 0 || l.n != 0)) {
		__builtin_trap();
	}
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		if (!l.v[i].name || !l.v[i].version || !l.v[i].file) {
			__builtin_trap();
		}
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	return 0;
}
