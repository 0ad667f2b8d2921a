#include <string.h>

void add(char *unused, const char *src)
{
	char dst[64] = "x";
	// ruleid: c.strncat-size
	strncat(dst, src, sizeof(dst));
	// ok: c.strncat-size
	strncat(dst, src, sizeof(dst) - strlen(dst) - 1);
}
