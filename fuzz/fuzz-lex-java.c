/*
 * fuzz-lex-java.c - the java tokenizer and the SAST engine on arbitrary bytes (fuzz-lex.h);
 * and the translation of Unicode escapes: never longer than the text, and the same line
 * ends (LF, CR) as the text, so that findings keep the file's lines.
 */
#include <stdlib.h>
#include <string.h>

#include "lex.h"

static size_t count_line_ends(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c += s[i] == '\n' || s[i] == '\r';
	}
	return c;
}

static void check_unescape(const char *buf, size_t size)
{
	size_t n = 0;
	char *out = lex_java_unescape(buf, size, &n);
	if (!out) {
		return;
	}
	if (n > size || count_line_ends(out, n) != count_line_ends(buf, size)) {
		__builtin_trap();
	}
	free(out);
}

#define FUZZ_EXTRA check_unescape
#define FUZZ_LANG  LANG_JAVA
#include "fuzz-lex.h"
