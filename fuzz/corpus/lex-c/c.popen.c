#include <stdio.h>

FILE *open_list(const char *dir)
{
	// ok: c.popen
	FILE *a = popen("ls -l", "r");
	// ruleid: c.popen
	return popen(dir, "r");
}
