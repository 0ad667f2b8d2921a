#include <err.h>

void die(const char *why)
{
	// ruleid: c.err-format-string
	warnx(why);
	// ruleid: c.err-format-string
	errx(1, why);
	// ok: c.err-format-string
	errx(1, "%s", why);
}
