/*
 * rubygems.c - RubyGems version order, as Gem::Version#<=> defines it.
 *
 * The version (surrounding whitespace removed, each '-' read as ".pre.") is split into
 * segments: runs of digits (numbers) and runs of letters (strings); anything else only
 * separates. Canonical segments drop trailing zeros from the numeric part before the
 * first string and from the part from it on. Segments compare pairwise, a missing one
 * counting as 0: numbers numerically, strings in byte order, and a string sorts before a
 * number (so 1.0.a < 1.0 < 1.0.1).
 */
#include "eco.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

struct seg {
	const char *p;
	size_t n;
	bool num;
};

struct gemver {
	struct seg *v;
	size_t n, cap;
};

static const char pre_word[] = "pre";

static void push(struct gemver *g, const char *p, size_t n, bool num)
{
	GROW(g->v, g->cap, g->n + 1);
	g->v[g->n++] = (struct seg){ p, n, num };
}

static bool seg_zero(const struct seg *s)
{
	if (!s->num) {
		return false;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->p[i] != '0') {
			return false;
		}
	}
	return true;
}

static void gem_parse(const char *s, struct gemver *g)
{
	memset(g, 0, sizeof(*g));
	while (isspace((unsigned char)*s)) {
		s++;
	}
	const char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1])) {
		end--;
	}
	for (const char *p = s; p < end;) {
		if (isdigit((unsigned char)*p)) {
			const char *q = p;
			while (q < end && isdigit((unsigned char)*q)) {
				q++;
			}
			push(g, p, (size_t)(q - p), true);
			p = q;
		} else if (isalpha((unsigned char)*p)) {
			const char *q = p;
			while (q < end && isalpha((unsigned char)*q)) {
				q++;
			}
			push(g, p, (size_t)(q - p), false);
			p = q;
		} else {
			if (*p == '-') {
				push(g, pre_word, 3, false);
			}
			p++;
		}
	}
	/* Canonical segments: trailing zeros dropped from both parts. */
	size_t first_str = g->n;
	for (size_t i = 0; i < g->n; i++) {
		if (!g->v[i].num) {
			first_str = i;
			break;
		}
	}
	size_t num_end = first_str;
	while (num_end > 0 && seg_zero(&g->v[num_end - 1])) {
		num_end--;
	}
	size_t str_end = g->n;
	while (str_end > first_str && seg_zero(&g->v[str_end - 1])) {
		str_end--;
	}
	if (str_end > first_str) {
		memmove(g->v + num_end, g->v + first_str, (str_end - first_str) * sizeof(g->v[0]));
	}
	g->n = num_end + (str_end - first_str);
}

static const struct seg zero = { "0", 1, true };

int rubygems_compare(const char *a, const char *b)
{
	int long_c;
	if (eco_compare_long(a, b, &long_c)) {
		return long_c;
	}
	struct gemver ga, gb;
	gem_parse(a, &ga);
	gem_parse(b, &gb);
	int c = 0;
	size_t n = MAX(ga.n, gb.n);
	for (size_t i = 0; i < n && c == 0; i++) {
		const struct seg *x = i < ga.n ? &ga.v[i] : &zero;
		const struct seg *y = i < gb.n ? &gb.v[i] : &zero;
		if (x->num && y->num) {
			c = digits_compare(x->p, x->n, y->p, y->n);
		} else if (x->num != y->num) {
			c = x->num ? 1 : -1;
		} else {
			c = bytes_compare(x->p, x->n, y->p, y->n);
		}
	}
	free(ga.v);
	free(gb.v);
	return c;
}
