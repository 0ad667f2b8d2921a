#include <sys/stat.h>

void perms(const char *p)
{
	// ruleid: c.world-writable
	chmod(p, 0777);
	// ruleid: c.world-writable
	mkdir(p, 0666);
	// ok: c.world-writable
	chmod(p, 0755);
	// ok: c.world-writable
	chmod(p, 0644);
}
