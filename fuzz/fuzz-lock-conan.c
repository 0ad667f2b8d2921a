/*
 * fuzz-lock-conan.c - the conan lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_CONAN_LOCK
#include "fuzz-lockfile.h"
