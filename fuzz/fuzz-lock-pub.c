/*
 * fuzz-lock-pub.c - the pub lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_PUBSPEC_LOCK
#include "fuzz-lockfile.h"
