/*
 * fuzz-lock-go.c - the go.mod parser, and the go.sum reader behind it, on arbitrary bytes
 * (see fuzz-lockfile.h). An input with a line "-- go.sum --" is a go.mod (before it) and
 * its go.sum (after it), as in Go's txtar archives; any other input is a go.mod alone.
 */
#define FUZZ_FORMAT DEP_GO_MOD
#define FUZZ_PARSE  parse_go
#include "fuzz-lockfile.h"

#define GOSUM_SEPARATOR "-- go.sum --\n"

static int parse_go(struct dep_list *l, const uint8_t *data, size_t size, struct diag_list *dl,
		    struct fuzz_texts *texts)
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
	size_t mod_len = (size_t)(sep - buf), sum_len = (size_t)(buf + size - sep - n);
	*texts = (struct fuzz_texts){
		.v = { { "go.mod", buf, mod_len }, { "go.sum", sep + n, sum_len } },
		.n = 2,
	};
	return deps_parse_go_buffers(l, "go.mod", buf, mod_len, "go.sum", sep + n, sum_len, dl);
}
