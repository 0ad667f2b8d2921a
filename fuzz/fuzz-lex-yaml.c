/*
 * fuzz-lex-yaml.c - the yaml tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_GITHUB_ACTIONS
#include "fuzz-lex.h"
