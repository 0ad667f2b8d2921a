#include <sys/stat.h>

void setup(void)
{
	// ruleid: c.umask-zero
	umask(0);
	// ok: c.umask-zero
	umask(077);
}
