/*
 * yarn.c - yarn.lock, both the v1 format and the YAML-like format of Yarn 2+ ("berry").
 *
 * Both are blocks: an unindented header listing the specifiers that resolved to one
 * package ("a@^1.0.0, a@~1.2.0:"), then indented fields. v1 writes `version "1.2.3"` and
 * `resolved "url"`; berry writes `version: 1.2.3` and `resolution: "name@npm:1.2.3"`, and
 * a `__metadata` block that is not a package. The name comes from berry's resolution, else
 * from the first specifier, where an alias ("alias@npm:real@^1") names the real package.
 * A git dependency's commit comes from the resolution / resolved URL. Deeper-indented
 * lines (dependency lists) are not needed.
 */
#include "parsers.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

struct block {
	unsigned line;
	char *spec; /* the first specifier, unquoted */
	char *version;
	char *resolution; /* berry */
	char *resolved;	  /* v1 */
	bool metadata;
};

/* "@scope/name@range" or "name@range" -> the name part. */
static char *spec_name(struct dep_ctx *c, const char *spec)
{
	const char *start = spec;
	const char *p = spec[0] == '@' ? spec + 1 : spec;
	const char *at = strchr(p, '@');
	return dep_strndup(c, start, at ? (size_t)(at - start) : strlen(start));
}

static char *unquote(struct dep_ctx *c, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\''))) {
		s++;
		n -= 2;
	}
	return dep_strndup(c, s, n);
}

static int finish(struct dep_ctx *c, struct block *b)
{
	if (!b->spec || b->metadata) {
		return 0;
	}
	const char *name;
	if (b->resolution) {
		name = spec_name(c, b->resolution);
	} else {
		name = spec_name(c, b->spec);
		const char *rest = b->spec + strlen(name);
		if (str_has_prefix(rest, "@npm:")) {
			name = spec_name(c, rest + 5);
		}
	}
	if (!*name) {
		return dep_error(c, b->line, 1, "cannot tell the package name from '%s'", b->spec);
	}
	struct dep *d = dep_add(c, ECO_NPM, name, b->version ? b->version : "", b->line);
	if (!d) {
		return dep_error(c, b->line, 0, "too many packages");
	}
	d->commit = dep_extract_commit(c, b->resolution ? b->resolution : b->resolved);
	return 0;
}

int parse_yarn_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	struct block b = { 0 };
	struct lines ln;
	const char *p;
	size_t n;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &p, &n)) {
		unsigned lineno = ln.no;
		if (memchr(p, '\0', n)) {
			return dep_error(c, lineno, 0, "NUL byte");
		}
		size_t indent = 0;
		while (indent < n && p[indent] == ' ') {
			indent++;
		}
		const char *s = p + indent;
		size_t sn = n - indent;
		if (sn == 0 || s[0] == '#') {
			/* blank or comment */
		} else if (indent == 0) {
			int r = finish(c, &b);
			if (r < 0) {
				return r;
			}
			memset(&b, 0, sizeof(b));
			if (s[sn - 1] != ':') {
				return dep_error(c, lineno, 1,
						 "expected a package header ending in ':'");
			}
			b.line = lineno;
			/* The first specifier: up to the first ", " outside quotes, or the ':'. */
			size_t k = 0;
			bool q = false;
			for (; k < sn - 1; k++) {
				if (s[k] == '"') {
					q = !q;
				} else if (!q && s[k] == ',') {
					break;
				}
			}
			b.spec = unquote(c, s, k);
			b.metadata = str_eq(b.spec, "__metadata");
		} else if (indent == 2 && b.spec) {
			/* key value, key: value, or "key": value */
			size_t k = 0;
			if (s[0] == '"') {
				const char *q = memchr(s + 1, '"', sn - 1);
				k = q ? (size_t)(q - s) + 1 : sn;
			} else {
				while (k < sn && s[k] != ' ' && s[k] != ':') {
					k++;
				}
			}
			char *key = unquote(c, s, k);
			const char *v = s + k;
			size_t vn = sn - k;
			if (vn && *v == ':') {
				v++;
				vn--;
			}
			if (vn == 0) {
				/* a nested list follows (dependencies...): not needed */
			} else if (str_eq(key, "version")) {
				b.version = unquote(c, v, vn);
			} else if (str_eq(key, "resolution")) {
				b.resolution = unquote(c, v, vn);
			} else if (str_eq(key, "resolved")) {
				b.resolved = unquote(c, v, vn);
			}
		}
	}
	return finish(c, &b);
}
