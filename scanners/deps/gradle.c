/*
 * gradle.c - gradle.lockfile: one `group:artifact:version=configurations` line per
 * package (Maven coordinates). Comments (#) and the `empty=` line are skipped, and so
 * are lines that are not coordinates, as Gradle itself ignores them.
 */
#include "parsers.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

int parse_gradle_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	struct lines ln;
	const char *p;
	size_t len_line;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &p, &len_line)) {
		const char *le = p + len_line;
		unsigned lineno = ln.no;
		while (p < le && isspace((unsigned char)*p)) {
			p++;
		}
		const char *e = le;
		while (e > p && isspace((unsigned char)e[-1])) {
			e--;
		}
		size_t n = (size_t)(e - p);
		if (n && p[0] != '#' && !(n >= 6 && memcmp(p, "empty=", 6) == 0)) {
			const char *c1 = memchr(p, ':', n);
			const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) : NULL;
			const char *eq = c2 ? memchr(c2 + 1, '=', (size_t)(e - c2 - 1)) : NULL;
			if (eq && c1 > p && c2 > c1 + 1 && eq > c2 + 1) {
				char *name = dep_strndup(c, p, (size_t)(c2 - p));
				char *version = dep_strndup(c, c2 + 1, (size_t)(eq - c2 - 1));
				if (!dep_add(c, ECO_MAVEN, name, version, lineno)) {
					return dep_error(c, lineno, 0, "too many packages");
				}
			}
		}
	}
	return 0;
}
