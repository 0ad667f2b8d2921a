#include <string.h>

void copy(char *dst, const char *src, struct user *u, char **argv)
{
	// ruleid: c.strcpy
	strcpy(dst, src);
	// ruleid: c.strcpy
	strcpy(u->name, argv[1]);
	// ruleid: c.strcpy
	wcscpy(wdst, get_name(u));
	// ok: c.strcpy
	strcpy(dst, "fixed");
	// ok: c.strcpy
	strcpy(dst, "a" "b");
	// ok: c.strcpy
	strncpy_safe(dst, src, sizeof(dst));
	/* strcpy(dst, src) in a comment is not code */
	// ok: c.strcpy
	puts("strcpy(dst, src)");
}
