/*
 * mix.c - Elixir's mix.lock: an Elixir map, one package per line:
 *   "plug": {:hex, :plug, "1.11.1", "<checksum>", [...], ...},
 *   "foo": {:git, "https://...", "<commit>", [...]},
 * Hex packages give their version (and the checksum is kept as the commit field, as the
 * reference parser does); git packages give only a commit. Other sources (path) carry no
 * version. A line that starts an entry but cannot be read is an error.
 */
#include "parsers.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

/* The next double-quoted string at or after *p (before end); false when none. */
static bool next_quoted(const char **p, const char *end, const char **s, size_t *n)
{
	const char *q = memchr(*p, '"', (size_t)(end - *p));
	if (!q) {
		return false;
	}
	const char *e = memchr(q + 1, '"', (size_t)(end - q - 1));
	if (!e) {
		return false;
	}
	*s = q + 1;
	*n = (size_t)(e - q - 1);
	*p = e + 1;
	return true;
}

int parse_mix_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	struct lines ln;
	const char *s;
	size_t n;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &s, &n)) {
		const char *le = s + n;
		unsigned lineno = ln.no;
		while (s < le && isspace((unsigned char)*s)) {
			s++;
		}
		if (s >= le || *s != '"') {
			continue; /* "%{", "}", blank lines */
		}
		const char *q = s, *name, *type, *a, *b;
		size_t nn, an, bn;
		if (!next_quoted(&q, le, &name, &nn)) {
			return dep_error(c, lineno, 0, "cannot read the package name");
		}
		const char *brace = memmem(q, (size_t)(le - q), ": {:", 4);
		if (!brace) {
			return dep_error(c, lineno, 0, "expected \"name\": {:source, ...}");
		}
		type = brace + 4;
		size_t tn = 0;
		while (type + tn < le && (isalnum((unsigned char)type[tn]) || type[tn] == '_')) {
			tn++;
		}
		q = type + tn;
		const char *version = "", *commit = NULL;
		const char *pkg = name;
		size_t pn = nn;
		if (tn == 3 && memcmp(type, "hex", 3) == 0) {
			/* {:hex, :package, "version", ...}: the package is the atom, which a
			 * dependency renamed in mix.exs (`{:my_plug, hex: :plug}`) keys by its own
			 * name. */
			const char *p = q;
			while (p < le && (*p == ',' || *p == ' ')) {
				p++;
			}
			if (p < le && *p == ':') {
				size_t k = 1;
				while (p + k < le &&
				       (isalnum((unsigned char)p[k]) || p[k] == '_')) {
					k++;
				}
				if (k > 1) {
					pkg = p + 1;
					pn = k - 1;
					q = p + k;
				}
			}
			if (!next_quoted(&q, le, &a, &an)) {
				return dep_error(c, lineno, 0, "a hex package without a version");
			}
			version = dep_strndup(c, a, an);
			if (next_quoted(&q, le, &b, &bn)) {
				commit = dep_strndup(c, b, bn);
			}
		} else if (tn == 3 && memcmp(type, "git", 3) == 0) {
			if (!next_quoted(&q, le, &a, &an) || !next_quoted(&q, le, &b, &bn)) {
				return dep_error(c, lineno, 0, "a git package without a commit");
			}
			commit = dep_strndup(c, b, bn);
		}
		struct dep *d = dep_add(c, ECO_HEX, dep_strndup(c, pkg, pn), version, lineno);
		if (!d) {
			return dep_error(c, lineno, 0, "too many packages");
		}
		d->commit = commit;
	}
	return 0;
}
