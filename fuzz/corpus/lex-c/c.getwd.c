#include <unistd.h>

void where(void)
{
	char buf[256];
	// ruleid: c.getwd
	getwd(buf);
	// ok: c.getwd
	getcwd(buf, sizeof(buf));
}
