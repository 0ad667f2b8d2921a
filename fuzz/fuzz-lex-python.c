/*
 * fuzz-lex-python.c - the python tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_PYTHON
#include "fuzz-lex.h"
