/*
 * xml.c - a small, safe XML reader for pom.xml: it builds a tree of elements with their
 * text and line, and nothing else.
 *
 * It reads what POM files contain: the XML declaration and processing instructions,
 * comments, elements with attributes (checked, not kept), character data with the five
 * predefined entities and numeric character references, and CDATA sections. It refuses
 * what a POM never needs and attackers love: a DOCTYPE (so no DTD, no entity definitions,
 * no external entities), any other entity reference, and malformed markup (bad names,
 * mismatched end tags, text outside the root element). Depth and node counts are capped.
 */
#include "parsers.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

struct xp {
	const char *p, *end, *line_start;
	unsigned line;
	size_t nodes;
	char *err;
	size_t errlen;
	unsigned err_line, err_col;
	bool failed;
};

static void xerr(struct xp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xerr(struct xp *x, const char *fmt, ...)
{
	if (x->failed) {
		return;
	}
	x->failed = true;
	x->err_line = x->line;
	x->err_col = (unsigned)(x->p - x->line_start) + 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
}

static void adv(struct xp *x, size_t n)
{
	for (size_t i = 0; i < n && x->p < x->end; i++) {
		if (*x->p == '\n') {
			x->line++;
			x->line_start = x->p + 1;
		}
		x->p++;
	}
}

static bool starts(struct xp *x, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* Skip past `term`; false (with an error) when it never comes. */
static bool skip_past(struct xp *x, const char *term, const char *what)
{
	size_t n = strlen(term);
	const char *hit = memmem(x->p, (size_t)(x->end - x->p), term, n);
	if (!hit) {
		xerr(x, "unterminated %s", what);
		return false;
	}
	adv(x, (size_t)(hit - x->p) + n);
	return true;
}

static void skip_space(struct xp *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')) {
		adv(x, 1);
	}
}

static bool name_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
	return name_start(c) || isdigit(c) || c == '-' || c == '.';
}

static char *read_name(struct xp *x)
{
	const char *s = x->p;
	if (x->p >= x->end || !name_start((unsigned char)*x->p)) {
		xerr(x, "XML syntax error: invalid name");
		return NULL;
	}
	while (x->p < x->end && name_char((unsigned char)*x->p)) {
		x->p++;
	}
	return xstrndup(s, (size_t)(x->p - s));
}

/* Character data up to '<' (or an attribute value up to quote), entities decoded. */
static bool read_text(struct xp *x, struct sbuf *sb, char stop)
{
	while (x->p < x->end && *x->p != stop) {
		char c = *x->p;
		if (c == '<' && stop != '<') {
			xerr(x, "XML syntax error: '<' in an attribute value");
			return false;
		}
		if (c == '\0') {
			xerr(x, "NUL byte");
			return false;
		}
		if (c != '&') {
			if (sbuf_putc(sb, c) < 0) {
				xerr(x, "text too long");
				return false;
			}
			adv(x, 1);
			continue;
		}
		const char *semi = memchr(x->p, ';', (size_t)MIN(x->end - x->p, 16));
		if (!semi) {
			xerr(x, "XML syntax error: invalid entity reference");
			return false;
		}
		size_t n = (size_t)(semi - x->p - 1);
		const char *e = x->p + 1;
		static const struct {
			const char *name;
			char c;
		} ents[] = { { "lt", '<' },
			     { "gt", '>' },
			     { "amp", '&' },
			     { "quot", '"' },
			     { "apos", '\'' } };
		bool done = false;
		for (size_t i = 0; i < ARRAY_SIZE(ents) && !done; i++) {
			if (strlen(ents[i].name) == n && memcmp(e, ents[i].name, n) == 0) {
				sbuf_putc(sb, ents[i].c);
				done = true;
			}
		}
		if (!done && n >= 2 && e[0] == '#') {
			unsigned long cp = 0;
			bool hex = e[1] == 'x';
			size_t k = hex ? 2 : 1;
			bool ok = k < n;
			for (; ok && k < n; k++) {
				int d = hex ? (isxdigit((unsigned char)e[k])
						       ? (isdigit((unsigned char)e[k])
								  ? e[k] - '0'
								  : (tolower((unsigned char)e[k]) -
								     'a' + 10))
						       : -1)
					    : (isdigit((unsigned char)e[k]) ? e[k] - '0' : -1);
				ok = d >= 0 && cp < 0x110000;
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
			}
			if (ok && cp > 0 && cp < 0x110000 && !(cp >= 0xD800 && cp <= 0xDFFF)) {
				char b[4];
				size_t bn;
				if (cp < 0x80) {
					b[0] = (char)cp;
					bn = 1;
				} else if (cp < 0x800) {
					b[0] = (char)(0xC0 | (cp >> 6));
					b[1] = (char)(0x80 | (cp & 0x3F));
					bn = 2;
				} else if (cp < 0x10000) {
					b[0] = (char)(0xE0 | (cp >> 12));
					b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
					b[2] = (char)(0x80 | (cp & 0x3F));
					bn = 3;
				} else {
					b[0] = (char)(0xF0 | (cp >> 18));
					b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
					b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
					b[3] = (char)(0x80 | (cp & 0x3F));
					bn = 4;
				}
				sbuf_append(sb, b, bn);
				done = true;
			}
		}
		if (!done) {
			xerr(x, "entity references other than the predefined ones are refused");
			return false;
		}
		adv(x, n + 2);
	}
	return true;
}

static void xnode_free(struct xnode *n)
{
	if (!n) {
		return;
	}
	for (size_t i = 0; i < n->n_children; i++) {
		xnode_free(n->children[i]);
	}
	free(n->children);
	free(n->name);
	free(n->text);
	free(n);
}

void xml_free(struct xnode *root)
{
	xnode_free(root);
}

/* Misc between markup: comments, processing instructions, whitespace. */
static bool skip_misc(struct xp *x, bool *doctype)
{
	for (;;) {
		skip_space(x);
		if (starts(x, "<!--")) {
			if (!skip_past(x, "-->", "comment")) {
				return false;
			}
		} else if (starts(x, "<?")) {
			if (!skip_past(x, "?>", "processing instruction")) {
				return false;
			}
		} else if (starts(x, "<!DOCTYPE") || starts(x, "<!doctype")) {
			*doctype = true;
			return true;
		} else {
			return true;
		}
	}
}

static struct xnode *parse_element(struct xp *x, unsigned depth)
{
	if (depth > XML_MAX_DEPTH) {
		xerr(x, "elements nested more than %u levels deep", XML_MAX_DEPTH);
		return NULL;
	}
	if (++x->nodes > XML_MAX_NODES) {
		xerr(x, "more than %u elements", XML_MAX_NODES);
		return NULL;
	}
	unsigned line = x->line;
	adv(x, 1); /* < */
	char *name = read_name(x);
	if (!name) {
		return NULL;
	}
	struct xnode *n = xcalloc(1, sizeof(*n));
	n->name = name;
	n->line = line;
	/* Attributes: name="value" or name='value'. */
	for (;;) {
		skip_space(x);
		if (x->p >= x->end) {
			xerr(x, "XML syntax error: unexpected end of file in a tag");
			goto fail;
		}
		if (*x->p == '/' || *x->p == '>') {
			break;
		}
		char *an = read_name(x);
		if (!an) {
			goto fail;
		}
		free(an);
		skip_space(x);
		if (x->p >= x->end || *x->p != '=') {
			xerr(x, "XML syntax error: expected '=' after an attribute name");
			goto fail;
		}
		adv(x, 1);
		skip_space(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\'')) {
			xerr(x, "XML syntax error: expected a quoted attribute value");
			goto fail;
		}
		char q = *x->p;
		adv(x, 1);
		struct sbuf sb;
		sbuf_init(&sb, DEPS_MAX_FILE_BYTES);
		bool ok = read_text(x, &sb, q);
		sbuf_release(&sb);
		if (!ok || x->p >= x->end) {
			xerr(x, "XML syntax error: unterminated attribute value");
			goto fail;
		}
		adv(x, 1);
	}
	if (*x->p == '/') {
		adv(x, 1);
		if (x->p >= x->end || *x->p != '>') {
			xerr(x, "XML syntax error: expected '>'");
			goto fail;
		}
		adv(x, 1);
		n->text = xstrdup("");
		return n;
	}
	adv(x, 1); /* > */
	struct sbuf text;
	sbuf_init(&text, DEPS_MAX_FILE_BYTES);
	size_t cap = 0;
	for (;;) {
		if (!read_text(x, &text, '<')) {
			sbuf_release(&text);
			goto fail;
		}
		if (x->p >= x->end) {
			xerr(x, "XML syntax error: element <%s> is never closed", n->name);
			sbuf_release(&text);
			goto fail;
		}
		if (starts(x, "<!--")) {
			if (!skip_past(x, "-->", "comment")) {
				sbuf_release(&text);
				goto fail;
			}
		} else if (starts(x, "<![CDATA[")) {
			adv(x, 9);
			const char *s = x->p;
			if (!skip_past(x, "]]>", "CDATA section")) {
				sbuf_release(&text);
				goto fail;
			}
			sbuf_append(&text, s, (size_t)(x->p - s - 3));
		} else if (starts(x, "<?")) {
			if (!skip_past(x, "?>", "processing instruction")) {
				sbuf_release(&text);
				goto fail;
			}
		} else if (starts(x, "</")) {
			adv(x, 2);
			char *end = read_name(x);
			skip_space(x);
			if (!end || x->p >= x->end || *x->p != '>') {
				free(end);
				xerr(x, "XML syntax error: malformed end tag");
				sbuf_release(&text);
				goto fail;
			}
			bool match = str_eq(end, n->name);
			free(end);
			if (!match) {
				xerr(x, "XML syntax error: end tag does not match <%s>", n->name);
				sbuf_release(&text);
				goto fail;
			}
			adv(x, 1);
			n->text = sbuf_steal(&text);
			return n;
		} else if (starts(x, "<!")) {
			xerr(x, "XML syntax error: unexpected markup declaration");
			sbuf_release(&text);
			goto fail;
		} else {
			struct xnode *child = parse_element(x, depth + 1);
			if (!child) {
				sbuf_release(&text);
				goto fail;
			}
			GROW(n->children, cap, n->n_children + 1);
			n->children[n->n_children++] = child;
		}
	}
fail:
	xnode_free(n);
	return NULL;
}

struct xnode *xml_parse(const char *buf, size_t len, unsigned *line, unsigned *col, char *err,
			size_t errlen)
{
	struct xp x = { .p = buf,
			.end = buf + len,
			.line_start = buf,
			.line = 1,
			.err = err,
			.errlen = errlen };
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		x.p += 3;
	}
	bool doctype = false;
	struct xnode *root = NULL;
	/* A UTF-16 or UTF-32 file (a byte order mark, or a NUL in the first two bytes that
	 * an XML declaration or element would start with) is refused as what it is. */
	if (len >= 2 && (memcmp(buf, "\xFF\xFE", 2) == 0 || memcmp(buf, "\xFE\xFF", 2) == 0 ||
			 buf[0] == '\0' || buf[1] == '\0')) {
		xerr(&x, "not UTF-8 text (UTF-16 or UTF-32, or a NUL byte at its start): only "
			 "UTF-8 is read (save it as UTF-8)");
		goto out;
	}
	if (!skip_misc(&x, &doctype)) {
		goto out;
	}
	if (doctype) {
		xerr(&x, "a DOCTYPE is not accepted (no DTDs or entity definitions)");
		goto out;
	}
	if (x.p >= x.end || *x.p != '<') {
		xerr(&x, "XML syntax error: expected the root element");
		goto out;
	}
	root = parse_element(&x, 0);
	if (!root) {
		goto out;
	}
	if (!skip_misc(&x, &doctype) || doctype || x.p < x.end) {
		xerr(&x, "XML syntax error: content after the root element");
		xnode_free(root);
		root = NULL;
	}
out:
	if (!root) {
		*line = x.err_line;
		*col = x.err_col;
	}
	return root;
}

const struct xnode *xml_child(const struct xnode *n, const char *name)
{
	for (size_t i = 0; n && i < n->n_children; i++) {
		if (str_eq(n->children[i]->name, name)) {
			return n->children[i];
		}
	}
	return NULL;
}
