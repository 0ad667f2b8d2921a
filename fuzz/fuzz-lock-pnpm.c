/*
 * fuzz-lock-pnpm.c - the pnpm lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_PNPM_LOCK
#include "fuzz-lockfile.h"
