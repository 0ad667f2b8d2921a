#include <stdlib.h>

int port(const char *s)
{
	// ruleid: c.atoi
	int p = atoi(s);
	char *end;
	// ok: c.atoi
	long q = strtol(s, &end, 10);
	return p;
}
