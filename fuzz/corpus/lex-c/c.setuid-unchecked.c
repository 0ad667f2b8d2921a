#include <unistd.h>

void drop(uid_t uid, gid_t gid)
{
	// ruleid: c.setuid-unchecked
	setgid(gid);
	// ruleid: c.setuid-unchecked
	setuid(uid);
	// ok: c.setuid-unchecked
	if (setuid(uid) != 0)
		abort();
	// ok: c.setuid-unchecked
	int r = setuid(uid);
}
