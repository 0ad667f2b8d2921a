/*
 * fuzz-lock-go.c - the go lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_GO_MOD
#include "fuzz-lockfile.h"
