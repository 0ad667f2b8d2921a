#include <fcntl.h>
#include <unistd.h>

int write_log(const char *path)
{
	if (access(path, W_OK) == 0) {
		// ruleid: c.toctou-access
		int fd = open(path, O_WRONLY | O_APPEND);
		return fd;
	}
	return -1;
}

int read_conf(const char *conf, const char *other)
{
	if (access(conf, R_OK) != 0) {
		return -1;
	}
	// ok: c.toctou-access
	int a = open(other, O_RDONLY);
	// ruleid: c.toctou-access
	FILE *f = fopen(conf, "r");
	return a;
}

int fresh(const char *path)
{
	// ok: c.toctou-access
	return open(path, O_RDONLY);
}
