#include <unistd.h>

void link_target(const char *path)
{
	char buf[256];
	// ruleid: c.readlink-unterminated
	ssize_t n = readlink(path, buf, sizeof(buf));
	// ok: c.readlink-unterminated
	ssize_t m = readlink(path, buf, sizeof(buf) - 1);
}
