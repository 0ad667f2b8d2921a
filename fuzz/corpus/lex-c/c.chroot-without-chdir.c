#include <unistd.h>

void jail(const char *dir)
{
	// ruleid: c.chroot-without-chdir
	chroot(dir);
}

void jail_well(const char *dir)
{
	// ok: c.chroot-without-chdir
	if (chroot(dir) < 0 || chdir("/") < 0)
		abort();
}

void jail_before(const char *dir)
{
	chdir(dir);
	// ok: c.chroot-without-chdir
	chroot(".");
}
