/*
 * fuzz-lock-pip.c - the pip lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_REQUIREMENTS
#include "fuzz-lockfile.h"
