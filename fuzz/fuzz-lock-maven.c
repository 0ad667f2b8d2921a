/*
 * fuzz-lock-maven.c - the maven lockfile parser on arbitrary bytes (see fuzz-lockfile.h).
 */
#define FUZZ_FORMAT DEP_POM_XML
#include "fuzz-lockfile.h"
