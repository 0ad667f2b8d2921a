/*
 * fuzz-lex-c.c - the c tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_C
#include "fuzz-lex.h"
