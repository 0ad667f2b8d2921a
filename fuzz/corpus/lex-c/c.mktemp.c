#include <stdlib.h>

void temp(void)
{
	char t1[] = "/tmp/xXXXXXX", t2[] = "/tmp/yXXXXXX";
	// ruleid: c.mktemp
	mktemp(t1);
	// ok: c.mktemp
	int fd = mkstemp(t2);
}
