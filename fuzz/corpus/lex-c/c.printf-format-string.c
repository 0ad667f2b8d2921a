#include <stdio.h>
#define GREETING "hi %s\n"

void say(const char *msg, const char *name)
{
	// ruleid: c.printf-format-string
	printf(msg);
	// ruleid: c.printf-format-string
	printf(msg, name);
	// ok: c.printf-format-string
	printf("%s", msg);
	// ok: c.printf-format-string
	printf("hello\n");
	// ok: c.printf-format-string
	printf(_("hello %s\n"), name);
	// ok: c.printf-format-string
	printf(GREETING, name);
}
