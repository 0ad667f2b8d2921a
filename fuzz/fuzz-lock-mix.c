/*
 * fuzz-lock-mix.c - the mix lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_MIX_LOCK
#include "fuzz-lockfile.h"
