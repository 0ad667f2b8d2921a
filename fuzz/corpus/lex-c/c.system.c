#include <stdlib.h>

void run(const char *cmd, const char *file)
{
	char line[256];
	snprintf(line, sizeof(line), "gzip %s", file);
	// ruleid: c.system
	system(line);
	// ruleid: c.system
	system(cmd);
	// ok: c.system
	system("clear");
}
