/*
 * fuzz-lock-pip.c - the pip lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_REQUIREMENTS
#define FUZZ_LINES  FUZZ_LINES_PY
#include "fuzz-lockfile.h"
