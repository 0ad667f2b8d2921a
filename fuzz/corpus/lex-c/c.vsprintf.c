#include <stdarg.h>
#include <stdio.h>

void logf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	// ruleid: c.vsprintf
	vsprintf(buf, fmt, ap);
	// ok: c.vsprintf
	vsnprintf(buf, 128, fmt, ap);
	va_end(ap);
}
