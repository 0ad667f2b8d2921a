/*
 * fuzz-lock-cargo.c - the cargo lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_CARGO_LOCK
#include "fuzz-lockfile.h"
