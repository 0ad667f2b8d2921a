/*
 * fuzz-lock-bundler.c - the bundler lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_GEMFILE_LOCK
#include "fuzz-lockfile.h"
