#include <stdio.h>

void read_name(void)
{
	char buf[64];
	// ruleid: c.gets
	gets(buf);
	// ok: c.gets
	fgets(buf, sizeof(buf), stdin);
	// ok: c.gets
	fgets_wrapper(buf);
}
