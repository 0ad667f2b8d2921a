#include <stdio.h>

void split(const char *line)
{
	char word[16];
	// ruleid: c.sscanf-unbounded-string
	sscanf(line, "%s", word);
	// ok: c.sscanf-unbounded-string
	sscanf(line, "%15s", word);
}
