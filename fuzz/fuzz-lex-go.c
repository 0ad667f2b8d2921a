/*
 * fuzz-lex-go.c - the go tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_GO
#include "fuzz-lex.h"
