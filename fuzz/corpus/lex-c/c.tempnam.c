#include <stdio.h>

char *temp(void)
{
	// ruleid: c.tempnam
	char *n = tempnam("/tmp", "app");
	// ok: c.tempnam
	char *d = mkdtemp(template);
	return n;
}
