#include <stdio.h>

void temp(void)
{
	char name[L_tmpnam];
	// ruleid: c.tmpnam
	tmpnam(name);
	// ok: c.tmpnam
	FILE *f = tmpfile();
}
