#include <alloca.h>

void tmp(size_t n)
{
	// ruleid: c.alloca
	char *p = alloca(n);
	// ok: c.alloca
	char *q = malloc(n);
}
