/*
 * fuzz-lex-shell.c - the shell tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_SHELL
#include "fuzz-lex.h"
