/*
 * fuzz-lock-pub.c - the pub lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_PUBSPEC_LOCK
#define FUZZ_LINES  FUZZ_LINES_YAML
#include "fuzz-lockfile.h"
