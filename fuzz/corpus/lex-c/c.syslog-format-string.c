#include <syslog.h>

void note(const char *what)
{
	// ruleid: c.syslog-format-string
	syslog(LOG_INFO, what);
	// ok: c.syslog-format-string
	syslog(LOG_INFO, "%s", what);
}
