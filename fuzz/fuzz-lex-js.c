/*
 * fuzz-lex-js.c - the js tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_JAVASCRIPT
#include "fuzz-lex.h"
