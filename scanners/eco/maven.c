/*
 * maven.c - Maven version order (ComparableVersion), following the "Version Order
 * Specification" of the Maven POM reference.
 *
 * A version is split into tokens at '.', at '-', and at every transition between digits
 * and other characters (a transition counts as '-'); each token remembers the separator
 * before it. Empty tokens are "0"; case is ignored; "cr" is "rc"; "ga", "final" and
 * "release" are the empty qualifier; "a", "b" and "m" directly followed by a number are
 * alpha, beta and milestone. Trailing "null" tokens (0, "", final, ga) are trimmed from
 * the end and before every remaining '-'.
 *
 * Versions are compared token by token; the shorter is padded with null tokens carrying
 * the other side's separator. With equal separators: numbers compare numerically and sort
 * after qualifiers; qualifiers in the order alpha < beta < milestone < rc < snapshot < ""
 * < sp < any other (those alphabetically). With different separators:
 * ".qualifier" < "-qualifier" < "-number" < ".number".
 */
#include "eco.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

struct mtok {
	char sep; /* '.' or '-' */
	const char *v;
	size_t n;
	bool num;
	bool pad; /* a padding null token */
};

struct mver {
	char *low;
	struct mtok *t;
	size_t n;
};

static bool tok_is(const struct mtok *t, const char *s)
{
	size_t k = strlen(s);
	return t->n == k && memcmp(t->v, s, k) == 0;
}

static bool tok_null(const struct mtok *t)
{
	if (t->num) {
		size_t i = 0;
		while (i < t->n && t->v[i] == '0') {
			i++;
		}
		return i == t->n;
	}
	return t->n == 0 || tok_is(t, "final") || tok_is(t, "ga");
}

static void add_tok(struct mver *mv, size_t *cap, char sep, const char *v, size_t n,
		    bool next_is_digit)
{
	GROW(mv->t, *cap, mv->n + 1);
	struct mtok *t = &mv->t[mv->n++];
	t->sep = sep;
	t->pad = false;
	t->v = v;
	t->n = n;
	if (n == 0) {
		t->v = "0";
		t->n = 1;
	}
	t->num = isdigit((unsigned char)t->v[0]);
	if (!t->num) {
		if (tok_is(t, "cr")) {
			t->v = "rc";
			t->n = 2;
		} else if (tok_is(t, "ga") || tok_is(t, "final") || tok_is(t, "release")) {
			t->v = "";
			t->n = 0;
		} else if (next_is_digit && t->n == 1) {
			if (t->v[0] == 'a') {
				t->v = "alpha";
				t->n = 5;
			} else if (t->v[0] == 'b') {
				t->v = "beta";
				t->n = 4;
			} else if (t->v[0] == 'm') {
				t->v = "milestone";
				t->n = 9;
			}
		}
	}
}

static void mver_parse(const char *s, struct mver *mv)
{
	size_t len = strlen(s), cap = 0;
	memset(mv, 0, sizeof(*mv));
	mv->low = xmalloc(len + 1);
	for (size_t i = 0; i <= len; i++) {
		mv->low[i] = (char)tolower((unsigned char)s[i]);
	}
	const char *p = mv->low;
	char sep = '.';
	for (;;) {
		/* One raw token up to the next '.' or '-', split at digit transitions. */
		const char *end = p;
		while (*end && *end != '.' && *end != '-') {
			end++;
		}
		const char *q = p;
		char psep = sep;
		if (q == end) {
			add_tok(mv, &cap, psep, q, 0, false);
		}
		while (q < end) {
			bool digit = isdigit((unsigned char)*q);
			const char *r = q;
			while (r < end && (bool)isdigit((unsigned char)*r) == digit) {
				r++;
			}
			add_tok(mv, &cap, psep, q, (size_t)(r - q), r < end);
			psep = '-';
			q = r;
		}
		if (!*end) {
			break;
		}
		sep = *end;
		p = end + 1;
	}
	/* Trim null tokens at the end and before each remaining '-', from the end. */
	size_t i = mv->n - 1;
	while (i > 0) {
		if (tok_null(&mv->t[i])) {
			memmove(&mv->t[i], &mv->t[i + 1], (mv->n - i - 1) * sizeof(mv->t[0]));
			mv->n--;
			i--;
			continue;
		}
		while (i > 0 && mv->t[i].sep != '-') {
			i--;
		}
		if (i == 0) {
			break;
		}
		i--;
	}
}

static int num_cmp(const struct mtok *a, const struct mtok *b)
{
	return digits_compare(a->v, a->n, b->v, b->n);
}

static int qualifier_rank(const struct mtok *t)
{
	static const char *const order[] = { "alpha",	 "beta", "milestone", "rc",
					     "snapshot", "",	 "sp" };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (tok_is(t, order[i])) {
			return (int)i;
		}
	}
	return (int)ARRAY_SIZE(order);
}

static bool tok_equal(const struct mtok *a, const struct mtok *b)
{
	if (a->sep != b->sep) {
		return false;
	}
	if (a->num && b->num) {
		return num_cmp(a, b) == 0;
	}
	return a->n == b->n && memcmp(a->v, b->v, a->n) == 0;
}

static int sep_rank(const struct mtok *t)
{
	if (t->num) {
		return t->sep == '-' ? 2 : 3;
	}
	return t->sep == '-' ? 1 : 0;
}

/* Tokens known to differ: -1 or 1. */
static int tok_cmp(const struct mtok *a, const struct mtok *b)
{
	if (a->sep != b->sep) {
		return sep_rank(a) < sep_rank(b) ? -1 : 1;
	}
	if (a->num && b->num) {
		return num_cmp(a, b);
	}
	if (a->num && !a->pad) {
		return 1;
	}
	if (b->num && !b->pad) {
		return -1;
	}
	int ra = qualifier_rank(a), rb = qualifier_rank(b);
	const int unknown = 7;
	if (ra == unknown && rb == unknown) {
		return bytes_compare(a->v, a->n, b->v, b->n);
	}
	return ra < rb ? -1 : ra > rb;
}

static struct mtok pad_for(const struct mtok *other)
{
	struct mtok t = { .sep = other->sep, .pad = true };
	if (other->sep == '.') {
		/* "sp" is the one qualifier that sorts after the empty one. */
		if (tok_is(other, "sp")) {
			t.v = "";
			t.n = 0;
			t.num = false;
		} else {
			t.v = "0";
			t.n = 1;
			t.num = true;
		}
	} else {
		t.v = "";
		t.n = 0;
		t.num = false;
	}
	return t;
}

int maven_compare(const char *sa, const char *sb)
{
	int long_c;
	if (eco_compare_long(sa, sb, &long_c)) {
		return long_c;
	}
	struct mver a, b;
	mver_parse(sa, &a);
	mver_parse(sb, &b);
	int c = 0;
	size_t n = MAX(a.n, b.n);
	for (size_t i = 0; i < n && c == 0; i++) {
		struct mtok x = i < a.n ? a.t[i] : pad_for(&b.t[i]);
		struct mtok y = i < b.n ? b.t[i] : pad_for(&a.t[i]);
		if (!tok_equal(&x, &y)) {
			c = tok_cmp(&x, &y);
		}
	}
	free(a.t);
	free(a.low);
	free(b.t);
	free(b.low);
	return c;
}
