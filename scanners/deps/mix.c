/*
 * mix.c - Elixir's mix.lock: an Elixir map, one package per entry:
 *   %{
 *     "plug": {:hex, :plug, "1.11.1", "<checksum>", [...], ...},
 *     "foo": {:git, "https://...", "<commit>", [...]},
 *   }
 * Mix evaluates the file as Elixir; what is read here is the map as Mix writes it and
 * the spellings Elixir gives the same map: a key quoted ("plug":) or an atom (plug:),
 * entries one to a line or several on one (a one-line map, `%{"plug": {...}}`). Each entry
 * must lie on one line. Hex packages give their version (and the checksum is kept as the
 * commit field, as the reference parser does); git packages give only a commit. Other
 * sources (path) carry no version. Anything else that is not blank or an Elixir comment is
 * an error: an entry that is not read must not pass unnoticed.
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

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p)) {
		p++;
	}
	return p;
}

static bool atom_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* The end of the term that opens at p ('{' or '['), strings skipped; NULL when it does not
 * close before end. */
static const char *term_end(const char *p, const char *end)
{
	char stack[64];
	size_t depth = 0;
	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				p += *p == '\\';
			}
			if (p >= end) {
				return NULL;
			}
		} else if (*p == '{' || *p == '[') {
			if (depth == sizeof(stack)) {
				return NULL;
			}
			stack[depth++] = *p == '{' ? '}' : ']';
		} else if (*p == '}' || *p == ']') {
			if (depth == 0 || stack[--depth] != *p) {
				return NULL;
			}
			if (depth == 0) {
				return p + 1;
			}
		}
	}
	return NULL;
}

/* The package of the tuple q..le (after its '{'), keyed name (nn bytes). */
static int add_entry(struct dep_ctx *c, const char *name, size_t nn, const char *q, const char *le,
		     unsigned lineno)
{
	const char *a, *b;
	size_t an, bn;
	q = skip_space(q, le);
	if (q >= le || *q != ':') {
		return dep_error(c, lineno, 0, "expected \"name\": {:source, ...}");
	}
	const char *type = q + 1;
	size_t tn = 0;
	while (type + tn < le && atom_char(type[tn])) {
		tn++;
	}
	q = type + tn;
	const char *version = "", *commit = NULL;
	const char *pkg = name;
	size_t pn = nn;
	if (tn == 3 && memcmp(type, "hex", 3) == 0) {
		/* {:hex, :package, "version", ...}: the package is the atom, which a dependency
		 * renamed in mix.exs (`{:my_plug, hex: :plug}`) keys by its own name. */
		const char *p = q;
		while (p < le && (*p == ',' || *p == ' ')) {
			p++;
		}
		if (p < le && *p == ':') {
			size_t k = 1;
			while (p + k < le && atom_char(p[k])) {
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
	return 0;
}

/* Read the entry at *p (a key, then its tuple), all before end; moves *p past it. */
static int read_entry(struct dep_ctx *c, const char **p, const char *end, unsigned lineno)
{
	const char *s = *p, *name, *after;
	size_t nn;
	if (*s == '"') {
		const char *e = memchr(s + 1, '"', (size_t)(end - s - 1));
		if (!e || memchr(s + 1, '\\', (size_t)(e - s - 1)) || e + 1 >= end || e[1] != ':') {
			return dep_error(c, lineno, 0, "expected \"name\": {:source, ...}");
		}
		name = s + 1;
		nn = (size_t)(e - s - 1);
		after = e + 2;
	} else {
		/* An atom key, `plug: {...}`: the same map to Elixir. */
		size_t k = 0;
		while (s + k < end && atom_char(s[k])) {
			k++;
		}
		if (k == 0 || isdigit((unsigned char)s[0]) || s + k >= end || s[k] != ':') {
			return dep_error(
				c, lineno, 0,
				"expected an entry (\"name\": {:source, ...}), '%%{' or '}'");
		}
		name = s;
		nn = k;
		after = s + k + 1;
	}
	if (after >= end || !isspace((unsigned char)*after)) {
		return dep_error(c, lineno, 0, "expected a space after the key");
	}
	const char *t = skip_space(after, end);
	const char *te = t < end && *t == '{' ? term_end(t, end) : NULL;
	if (!te) {
		return dep_error(c, lineno, 0,
				 "expected a {:source, ...} tuple that ends on the same line");
	}
	*p = te;
	return add_entry(c, name, nn, t + 1, te - 1, lineno);
}

int parse_mix_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	enum { BEFORE, IN_MAP, AFTER } state = BEFORE;
	unsigned open_line = 0;
	struct lines ln;
	const char *s;
	size_t n;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &s, &n)) {
		const char *le = s + n;
		unsigned lineno = ln.no;
		if (memchr(s, '\0', n)) {
			return dep_error(c, lineno, 0, "NUL byte");
		}
		const char *p = skip_space(s, le);
		while (p < le && *p != '#') {
			if (state == BEFORE) {
				if (le - p < 2 || p[0] != '%' || p[1] != '{') {
					return dep_error(c, lineno, 0, "expected the map's '%%{'");
				}
				state = IN_MAP;
				open_line = lineno;
				p += 2;
			} else if (state == AFTER) {
				return dep_error(c, lineno, 0, "text after the map's '}'");
			} else if (*p == '}') {
				state = AFTER;
				p++;
			} else {
				int r = read_entry(c, &p, le, lineno);
				if (r < 0) {
					return r;
				}
				p = skip_space(p, le);
				if (p < le && *p == ',') {
					p++;
				} else if (p < le && *p != '}' && *p != '#') {
					return dep_error(c, lineno, 0,
							 "expected ',' or '}' after an entry");
				}
			}
			p = skip_space(p, le);
		}
	}
	if (state == IN_MAP) {
		return dep_error(c, open_line, 0, "the map's '%%{' is never closed");
	}
	return 0;
}
