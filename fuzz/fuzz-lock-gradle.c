/*
 * fuzz-lock-gradle.c - the gradle lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_GRADLE_LOCK
#include "fuzz-lockfile.h"
