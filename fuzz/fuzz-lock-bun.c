/*
 * fuzz-lock-bun.c - the bun.lock parser (JSONC) on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_BUN_LOCK
#include "fuzz-lockfile.h"
