/*
 * fuzz-lock-uv.c - the uv.lock parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_UV_LOCK
#include "fuzz-lockfile.h"
