/*
 * fuzz-lock-poetry.c - the poetry lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_POETRY_LOCK
#include "fuzz-lockfile.h"
