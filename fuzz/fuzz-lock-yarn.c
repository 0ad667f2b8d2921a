/*
 * fuzz-lock-yarn.c - the yarn lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_YARN_LOCK
#include "fuzz-lockfile.h"
