/*
 * fuzz-lex-java.c - the java tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h).
 */
#define FUZZ_LANG LANG_JAVA
#include "fuzz-lex.h"
