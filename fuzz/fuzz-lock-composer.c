/*
 * fuzz-lock-composer.c - the composer lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_COMPOSER_LOCK
#include "fuzz-lockfile.h"
