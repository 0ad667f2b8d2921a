#include <stdio.h>

void parse(FILE *f)
{
	char key[16], value[64];
	// ruleid: c.fscanf-unbounded-string
	fscanf(f, "%s = %s", key, value);
	// ok: c.fscanf-unbounded-string
	fscanf(f, "%15s = %63s", key, value);
}
