#include <stdio.h>

void build(char *buf, size_t n, const char *user_fmt, int v)
{
	// ruleid: c.snprintf-format-string
	snprintf(buf, n, user_fmt, v);
	// ruleid: c.snprintf-format-string
	sprintf(buf, user_fmt);
	// ok: c.snprintf-format-string
	snprintf(buf, n, "%d", v);
}
