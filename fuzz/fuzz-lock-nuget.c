/*
 * fuzz-lock-nuget.c - the nuget lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_NUGET_LOCK
#include "fuzz-lockfile.h"
