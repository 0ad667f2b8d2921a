/*
 * fuzz-lex-dockerfile.c - the dockerfile tokenizer and the SAST engine on arbitrary bytes
 * (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_DOCKERFILE
#include "fuzz-lex.h"
