/*
 * fuzz-lock-yarn.c - the yarn lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_YARN_LOCK
#define FUZZ_LINES  (FUZZ_LINES_LF | FUZZ_LINES_YAML)
#include "fuzz-lockfile.h"
