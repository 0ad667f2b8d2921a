#include <limits.h>
#include <stdlib.h>

void canon(const char *p)
{
	char buf[PATH_MAX];
	// ruleid: c.realpath-buffer
	realpath(p, buf);
	// ok: c.realpath-buffer
	char *r = realpath(p, NULL);
	free(r);
}
