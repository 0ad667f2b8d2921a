#include <stdio.h>

void report(FILE *out, const char *text)
{
	// ruleid: c.fprintf-format-string
	fprintf(out, text);
	// ruleid: c.fprintf-format-string
	dprintf(2, text);
	// ok: c.fprintf-format-string
	fprintf(out, "%s\n", text);
	// ok: c.fprintf-format-string
	fputs(text, out);
}
