#include <stdio.h>

void fmt(char *buf, const char *name, int n)
{
	// ruleid: c.sprintf-unbounded-string
	sprintf(buf, "hello %s", name);
	// ruleid: c.sprintf-unbounded-string
	sprintf(buf, "%d: %-10s", n, name);
	// ok: c.sprintf-unbounded-string
	sprintf(buf, "%d", n);
	// ok: c.sprintf-unbounded-string
	sprintf(buf, "%.32s", name);
	// ok: c.sprintf-unbounded-string
	snprintf(buf, 64, "hello %s", name);
}
