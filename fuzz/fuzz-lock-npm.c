/*
 * fuzz-lock-npm.c - the npm lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_NPM_LOCK
#include "fuzz-lockfile.h"
