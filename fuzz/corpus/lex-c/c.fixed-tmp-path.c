#include <stdio.h>

void save(const char *path)
{
	// ruleid: c.fixed-tmp-path
	FILE *f = fopen("/tmp/app.lock", "w");
	// ok: c.fixed-tmp-path
	FILE *g = fopen(path, "w");
	// ok: c.fixed-tmp-path
	FILE *h = fopen("/etc/app.conf", "r");
}
