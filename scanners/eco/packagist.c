/*
 * packagist.c - Packagist (Composer) version order: PHP's version_compare() as Composer
 * uses it, with a leading `v`/`V` removed.
 *
 * The version is canonicalised like version_compare does: '-', '_' and '+' become '.',
 * and a '.' is put between a digit and another character (other than '.'). The parts
 * between dots then compare left to right: two numbers numerically (of any size);
 * otherwise by their special form, matched by prefix: dev (and any unknown word) <
 * alpha = a < beta = b < RC = rc < a number ("#") < pl = p. When one version has more
 * parts, the first extra part decides: a number makes that version greater, otherwise
 * the extra parts are compared with a number.
 *
 * Two deliberate departures from PHP, shared with the reference implementation behind the
 * conformance vectors: numbers are not capped at the size of a C long, and characters
 * such as '#' are kept as (unknown) words instead of being dropped.
 */
#include "eco.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

struct part {
	const char *p;
	size_t n;
};

struct pver {
	char *buf;
	struct part *v;
	size_t n, cap;
};

static bool is_digit(char c)
{
	return isdigit((unsigned char)c);
}

static void pver_parse(const char *s, struct pver *pv)
{
	memset(pv, 0, sizeof(*pv));
	if (*s == 'v') {
		s++;
	}
	if (*s == 'V') {
		s++;
	}
	size_t n = strlen(s);
	char *q = pv->buf = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-' || c == '_' || c == '+') {
			c = '.';
		}
		if (i > 0 && c != '.' && q[-1] != '.' && is_digit(c) != is_digit(q[-1])) {
			*q++ = '.';
		}
		*q++ = c;
	}
	*q = '\0';
	for (char *p = pv->buf;;) {
		char *dot = strchr(p, '.');
		GROW(pv->v, pv->cap, pv->n + 1);
		pv->v[pv->n++] = (struct part){ p, dot ? (size_t)(dot - p) : strlen(p) };
		if (!dot) {
			break;
		}
		p = dot + 1;
	}
}

static bool part_is_num(const struct part *x)
{
	if (x->n == 0) {
		return false;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (!is_digit(x->p[i])) {
			return false;
		}
	}
	return true;
}

static bool part_has_prefix(const struct part *x, const char *prefix)
{
	size_t k = strlen(prefix);
	return x->n >= k && memcmp(x->p, prefix, k) == 0;
}

static int weight(const struct part *x)
{
	static const char *const forms[] = { "dev", "a", "b", "rc", "#", "p" };
	if (part_is_num(x)) {
		return 4;
	}
	if (part_has_prefix(x, "RC")) {
		return 3;
	}
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		if (part_has_prefix(x, forms[i])) {
			return (int)i;
		}
	}
	return 0;
}

static const struct part number_part = { "#", 1 };

static int compare_parts(const struct part *a, size_t an, const struct part *b, size_t bn)
{
	for (;;) {
		size_t n = MIN(an, bn);
		for (size_t i = 0; i < n; i++) {
			int c;
			if (part_is_num(&a[i]) && part_is_num(&b[i])) {
				c = digits_compare(a[i].p, a[i].n, b[i].p, b[i].n);
			} else {
				int wa = weight(&a[i]), wb = weight(&b[i]);
				c = wa < wb ? -1 : wa > wb;
			}
			if (c) {
				return c;
			}
		}
		/* The longer side's remaining parts are compared with a number. */
		if (an > bn) {
			if (part_is_num(&a[bn])) {
				return 1;
			}
			a += bn;
			an -= bn;
			b = &number_part;
			bn = 1;
		} else if (an < bn) {
			if (part_is_num(&b[an])) {
				return -1;
			}
			b += an;
			bn -= an;
			a = &number_part;
			an = 1;
		} else {
			return 0;
		}
	}
}

int packagist_compare(const char *a, const char *b)
{
	int long_c;
	if (eco_compare_long(a, b, &long_c)) {
		return long_c;
	}
	struct pver va, vb;
	pver_parse(a, &va);
	pver_parse(b, &vb);
	int c = compare_parts(va.v, va.n, vb.v, vb.n);
	free(va.v);
	free(va.buf);
	free(vb.v);
	free(vb.buf);
	return c;
}
