#include <string.h>

void join(char *path, const char *name)
{
	// ruleid: c.strcat
	strcat(path, name);
	// ok: c.strcat
	strcat(path, "/");
	// ok: c.strcat
	strlcat(path, name, sizeof(path));
}
