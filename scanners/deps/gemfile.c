/*
 * gemfile.c - Bundler's Gemfile.lock / gems.locked.
 *
 * Sections start with an unindented name. In the source sections (GEM, GIT, PATH,
 * PLUGIN SOURCE) the `specs:` list names every gem at four spaces of indentation as
 * "name (version[-platform])"; deeper lines are that gem's own requirements. A GIT
 * section's `revision:` is the commit of its gems. The platform suffix of a version
 * ("1.13.3-x86_64-linux") is not part of the version.
 *
 * A UTF-8 byte order mark at the start is dropped (an editor's, which would hide the first
 * section's name). A file with something in it but none of Bundler's sections (the
 * source sections, PLATFORMS, DEPENDENCIES, RUBY VERSION, BUNDLED WITH, CHECKSUMS) is
 * not a lockfile this reads, and an error: it would pass with no gem at all.
 */
#include "parsers.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

/* Whether an unindented line names one of the sections Bundler writes. */
static bool known_section(const char *name)
{
	static const char *const sections[] = {
		"GEM",		"GIT",		"PATH",		"PLUGIN SOURCE", "PLATFORMS",
		"DEPENDENCIES", "RUBY VERSION", "BUNDLED WITH", "CHECKSUMS",
	};
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		if (str_eq(name, sections[i])) {
			return true;
		}
	}
	return false;
}

int parse_gemfile_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3; /* a byte order mark */
		len -= 3;
	}
	unsigned first_line = 0; /* of the first line that is not blank */
	bool known = false;
	bool source_section = false, in_specs = false;
	const char *revision = NULL;
	struct lines ln;
	const char *line;
	size_t n;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &line, &n)) {
		unsigned lineno = ln.no;
		if (memchr(line, '\0', n)) {
			return dep_error(c, lineno, 0, "NUL byte");
		}
		size_t indent = 0;
		while (indent < n && line[indent] == ' ') {
			indent++;
		}
		if (indent == n) {
			continue;
		}
		first_line = first_line ? first_line : lineno;
		if (indent == 0) {
			char *name = dep_strndup(c, line, n);
			known = known || known_section(name);
			source_section = str_eq(name, "GEM") || str_eq(name, "GIT") ||
					 str_eq(name, "PATH") || str_eq(name, "PLUGIN SOURCE");
			in_specs = false;
			revision = NULL;
			continue;
		}
		if (!source_section) {
			continue;
		}
		if (indent == 2) {
			if (n - 2 >= 6 && memcmp(line + 2, "specs:", 6) == 0) {
				in_specs = true;
			} else if (n - 2 > 9 && memcmp(line + 2, "revision:", 9) == 0) {
				const char *v = line + 11;
				while (v < line + n && isspace((unsigned char)*v)) {
					v++;
				}
				revision = dep_strndup(c, v, (size_t)(line + n - v));
			}
			continue;
		}
		if (indent != 4 || !in_specs) {
			continue;
		}
		/* name (version) */
		const char *s = line + 4, *e = line + n;
		const char *sp = memchr(s, ' ', (size_t)(e - s));
		if (!sp || sp + 2 >= e || sp[1] != '(' || e[-1] != ')') {
			return dep_error(c, lineno, 5, "expected 'name (version)' in specs");
		}
		const char *v = sp + 2;
		size_t vn = (size_t)(e - 1 - v);
		const char *dash = memchr(v, '-', vn);
		if (dash) {
			vn = (size_t)(dash - v);
		}
		struct dep *d = dep_add(c, ECO_RUBYGEMS, dep_strndup(c, s, (size_t)(sp - s)),
					dep_strndup(c, v, vn), lineno);
		if (!d) {
			return dep_error(c, lineno, 0, "too many packages");
		}
		d->commit = revision;
	}
	if (first_line && !known) {
		return dep_error(c, first_line, 0,
				 "%s has none of the sections of a Gemfile.lock (GEM, GIT, PATH, "
				 "PLUGIN SOURCE, PLATFORMS, DEPENDENCIES, RUBY VERSION, BUNDLED "
				 "WITH, CHECKSUMS): not a lockfile Bundler wrote",
				 c->file);
	}
	return 0;
}
