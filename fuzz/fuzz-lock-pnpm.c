/*
 * fuzz-lock-pnpm.c - the pnpm lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_PNPM_LOCK
#define FUZZ_LINES  FUZZ_LINES_YAML
#include "fuzz-lockfile.h"
