/*
 * fuzz-lock-pipenv.c - the pipenv lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_PIPFILE_LOCK
#include "fuzz-lockfile.h"
