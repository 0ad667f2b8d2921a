/*
 * fuzz-lock-go.c - the go.mod parser, and the go.sum reader behind it, on arbitrary bytes
 * (see fuzz-lockfile.h). An input with a line "-- go.sum --" is a go.mod (before it) and
 * its go.sum (after it), as in Go's txtar archives; any other input is a go.mod alone.
 */
#include "deps.h"
#include "diag.h"

#include <stdint.h>
#include <string.h>

#define GOSUM_SEPARATOR "-- go.sum --\n"

static int parse_go(struct dep_list *l, const uint8_t *data, size_t size, struct diag_list *dl)
{
	const char *buf = (const char *)data;
	const char *sep = NULL;
	size_t n = strlen(GOSUM_SEPARATOR);
	for (const char *p = buf; p + n <= buf + size; p++) {
		p = memchr(p, '-', (size_t)(buf + size - p));
		if (!p || p + n > buf + size) {
			break;
		}
		if ((p == buf || p[-1] == '\n') && memcmp(p, GOSUM_SEPARATOR, n) == 0) {
			sep = p;
			break;
		}
	}
	if (!sep) {
		return deps_parse_buffer(l, DEP_GO_MOD, "fuzz", buf, size, dl);
	}
	return deps_parse_go_buffers(l, "go.mod", buf, (size_t)(sep - buf), "go.sum", sep + n,
				     (size_t)(buf + size - sep - n), dl);
}

#define FUZZ_FORMAT DEP_GO_MOD
#define FUZZ_PARSE  parse_go
#include "fuzz-lockfile.h"
