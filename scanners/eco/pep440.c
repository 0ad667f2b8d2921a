/*
 * pep440.c - PyPI version order (PEP 440), as the `packaging` library orders versions.
 *
 * A version is parsed (case-insensitively, with the spelling variants PEP 440 allows:
 * alpha/beta/c/pre/preview/rev/r, optional separators, implicit numbers, the implicit
 * post-release `1.0-1`) into epoch, release, pre, post, dev and local parts, and compared
 * by the key `packaging` uses: epoch; release with trailing zeros ignored; pre-release (a
 * dev-only release sorts before every pre-release of its release); post-release (none
 * first); dev-release (none last); local version (none first; numeric segments above
 * alphanumeric ones).
 *
 * A string that is not a PEP 440 version is a "legacy" version: it sorts below every
 * PEP 440 version, and legacy versions compare by setuptools' old parse_version keys.
 */
#include "eco.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>

#include "banned.h"

#define MAX_RELEASE 64
#define MAX_LOCAL   32

struct span {
	const char *p;
	size_t n;
};

struct pep440 {
	struct span epoch;
	struct span release[MAX_RELEASE];
	unsigned n_release;
	char pre_letter; /* 'a', 'b', 'r' (rc) or 0 */
	struct span pre_n;
	bool has_post;
	struct span post_n;
	bool has_dev;
	struct span dev_n;
	struct span local[MAX_LOCAL];
	unsigned n_local;
};

/* The parser works on a lower-cased copy; positions index into it. */
struct cursor {
	const char *s;
	size_t i, n;
};

static bool peek_is(const struct cursor *c, size_t at, const char *word)
{
	size_t k = strlen(word);
	return at + k <= c->n && memcmp(c->s + at, word, k) == 0;
}

static size_t digits_at(const struct cursor *c, size_t at)
{
	size_t k = at;
	while (k < c->n && isdigit((unsigned char)c->s[k])) {
		k++;
	}
	return k - at;
}

static bool is_sep(char ch)
{
	return ch == '-' || ch == '_' || ch == '.';
}

/* Parse the local part and the end of the string from `at`. */
static bool parse_tail(const struct cursor *c, size_t at, struct pep440 *v)
{
	v->n_local = 0;
	if (at < c->n && c->s[at] == '+') {
		at++;
		for (;;) {
			size_t k = at;
			while (k < c->n && isalnum((unsigned char)c->s[k])) {
				k++;
			}
			if (k == at || v->n_local >= MAX_LOCAL) {
				return false;
			}
			v->local[v->n_local++] = (struct span){ c->s + at, k - at };
			at = k;
			if (at < c->n && is_sep(c->s[at]) && at + 1 < c->n &&
			    isalnum((unsigned char)c->s[at + 1])) {
				at++;
				continue;
			}
			break;
		}
	}
	while (at < c->n && isspace((unsigned char)c->s[at])) {
		at++;
	}
	return at == c->n;
}

typedef bool (*next_fn)(const struct cursor *c, size_t at, struct pep440 *v);

/* Which part a segment sets: letter 0 clears it. */
enum part { PART_PRE, PART_POST, PART_DEV };

static void set_part(struct pep440 *v, enum part p, char letter, struct span num)
{
	switch (p) {
	case PART_PRE:
		v->pre_letter = letter;
		v->pre_n = num;
		break;
	case PART_POST:
		v->has_post = letter != 0;
		v->post_n = num;
		break;
	case PART_DEV:
		v->has_dev = letter != 0;
		v->dev_n = num;
		break;
	}
}

struct word {
	const char *word;
	char letter;
};

/*
 * `[-_.]? WORD [-_.]? DIGITS?` at `at`, for each spelling, the regular expression's way:
 * separators taken before left out, longer spellings before their prefixes; each
 * candidate is set and the rest continues with `next`. Without a match the part is
 * cleared and `next` continues at `at`.
 */
static bool segment(const struct cursor *c, size_t at, struct pep440 *v, enum part part,
		    const struct word *words, size_t n_words, next_fn next)
{
	for (int sep = 1; sep >= 0; sep--) {
		size_t k = at;
		if (sep) {
			if (k >= c->n || !is_sep(c->s[k])) {
				continue;
			}
			k++;
		}
		for (size_t w = 0; w < n_words; w++) {
			if (!peek_is(c, k, words[w].word)) {
				continue;
			}
			size_t m0 = k + strlen(words[w].word);
			for (int sep2 = 1; sep2 >= 0; sep2--) {
				size_t m = m0;
				if (sep2) {
					if (m >= c->n || !is_sep(c->s[m])) {
						continue;
					}
					m++;
				}
				size_t d = digits_at(c, m);
				set_part(v, part, words[w].letter, (struct span){ c->s + m, d });
				if (next(c, m + d, v)) {
					return true;
				}
			}
		}
	}
	set_part(v, part, 0, (struct span){ NULL, 0 });
	return next(c, at, v);
}

static const struct word dev_words[] = { { "dev", 'd' } };
static const struct word post_words[] = { { "post", 'p' }, { "rev", 'p' }, { "r", 'p' } };
static const struct word pre_words[] = {
	{ "preview", 'r' }, { "alpha", 'a' }, { "beta", 'b' }, { "pre", 'r' },
	{ "rc", 'r' },	    { "a", 'a' },     { "b", 'b' },    { "c", 'r' },
};

/* [-_.]?dev[-_.]?N? then the tail. */
static bool parse_dev(const struct cursor *c, size_t at, struct pep440 *v)
{
	return segment(c, at, v, PART_DEV, dev_words, ARRAY_SIZE(dev_words), parse_tail);
}

/* -N, or [-_.]?(post|rev|r)[-_.]?N?, then dev. */
static bool parse_post(const struct cursor *c, size_t at, struct pep440 *v)
{
	if (at < c->n && c->s[at] == '-' && digits_at(c, at + 1)) {
		size_t d = digits_at(c, at + 1);
		set_part(v, PART_POST, 'p', (struct span){ c->s + at + 1, d });
		if (parse_dev(c, at + 1 + d, v)) {
			return true;
		}
	}
	return segment(c, at, v, PART_POST, post_words, ARRAY_SIZE(post_words), parse_dev);
}

/* [-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?N?, then post. */
static bool parse_pre(const struct cursor *c, size_t at, struct pep440 *v)
{
	return segment(c, at, v, PART_PRE, pre_words, ARRAY_SIZE(pre_words), parse_post);
}

/* Parse a lower-cased version. Returns false for a legacy (non-PEP 440) version. */
static bool pep440_parse(const char *s, size_t n, struct pep440 *v)
{
	struct cursor c = { s, 0, n };
	memset(v, 0, sizeof(*v));
	while (c.i < n && isspace((unsigned char)s[c.i])) {
		c.i++;
	}
	if (c.i < n && s[c.i] == 'v') {
		c.i++;
	}
	size_t d = digits_at(&c, c.i);
	if (d == 0) {
		return false;
	}
	if (c.i + d < n && s[c.i + d] == '!') {
		v->epoch = (struct span){ s + c.i, d };
		c.i += d + 1;
		d = digits_at(&c, c.i);
		if (d == 0) {
			return false;
		}
	}
	for (;;) {
		if (v->n_release >= MAX_RELEASE) {
			return false;
		}
		v->release[v->n_release++] = (struct span){ s + c.i, d };
		c.i += d;
		if (c.i < n && s[c.i] == '.' && digits_at(&c, c.i + 1)) {
			c.i++;
			d = digits_at(&c, c.i);
			continue;
		}
		break;
	}
	return parse_pre(&c, c.i, v);
}

static char *lower_copy(const char *s, size_t *n)
{
	*n = strlen(s);
	char *out = xmalloc(*n + 1);
	for (size_t i = 0; i < *n; i++) {
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[*n] = '\0';
	return out;
}

bool pep440_is_valid(const char *s)
{
	if (eco_version_too_long(s)) {
		return false;
	}
	size_t n;
	char *low = lower_copy(s, &n);
	struct pep440 v;
	bool ok = pep440_parse(low, n, &v);
	free(low);
	return ok;
}

static int span_num_cmp(struct span a, struct span b)
{
	return digits_compare(a.p, a.n, b.p, b.n);
}

static bool span_is_num(struct span s)
{
	for (size_t i = 0; i < s.n; i++) {
		if (!isdigit((unsigned char)s.p[i])) {
			return false;
		}
	}
	return s.n > 0;
}

static int compare_valid(const struct pep440 *a, const struct pep440 *b)
{
	int c = span_num_cmp(a->epoch, b->epoch);
	if (c) {
		return c;
	}
	unsigned n = MAX(a->n_release, b->n_release);
	for (unsigned i = 0; i < n; i++) {
		struct span x = i < a->n_release ? a->release[i] : (struct span){ NULL, 0 };
		struct span y = i < b->n_release ? b->release[i] : (struct span){ NULL, 0 };
		c = span_num_cmp(x, y);
		if (c) {
			return c;
		}
	}
	/* Pre-release: a dev-only release sorts before every pre-release of its release. */
	int ka, kb;
	ka = (!a->pre_letter && !a->has_post && a->has_dev) ? -1 : !a->pre_letter ? 1 : 0;
	kb = (!b->pre_letter && !b->has_post && b->has_dev) ? -1 : !b->pre_letter ? 1 : 0;
	if (ka != kb) {
		return ka < kb ? -1 : 1;
	}
	if (ka == 0) {
		if (a->pre_letter != b->pre_letter) {
			return a->pre_letter < b->pre_letter ? -1 : 1;
		}
		c = span_num_cmp(a->pre_n, b->pre_n);
		if (c) {
			return c;
		}
	}
	if (a->has_post != b->has_post) {
		return a->has_post ? 1 : -1;
	}
	c = span_num_cmp(a->post_n, b->post_n);
	if (c) {
		return c;
	}
	if (a->has_dev != b->has_dev) {
		return a->has_dev ? -1 : 1;
	}
	c = span_num_cmp(a->dev_n, b->dev_n);
	if (c) {
		return c;
	}
	/* Local versions: none sorts first; numeric segments above alphanumeric ones. */
	n = MIN(a->n_local, b->n_local);
	for (unsigned i = 0; i < n; i++) {
		struct span x = a->local[i], y = b->local[i];
		bool xn = span_is_num(x), yn = span_is_num(y);
		if (xn && yn) {
			c = span_num_cmp(x, y);
		} else if (xn != yn) {
			c = xn ? 1 : -1;
		} else {
			c = bytes_compare(x.p, x.n, y.p, y.n);
		}
		if (c) {
			return c;
		}
	}
	return a->n_local == b->n_local ? 0 : a->n_local < b->n_local ? -1 : 1;
}

/*
 * setuptools' legacy key: split into runs of digits, runs of letters, '.' and '-'; digit
 * runs are zero-padded to 8 characters, words get a '*' prefix (pre/preview/rc -> c,
 * '-' -> final-, dev -> @), and a final "*final" is appended; before a word that sorts
 * below "*final", trailing "*final-" parts are dropped, and before any word trailing
 * zero-number parts are dropped. Keys compare as the concatenation of their parts.
 */
static void legacy_key(const char *s, struct sbuf *key)
{
	/* Parts live in a buffer of NUL-separated strings, with offsets in offs[]. */
	struct sbuf parts;
	size_t offs[512];
	size_t n = 0;
	sbuf_init(&parts, SIZE_MAX / 2);
	const char *p = s;
	bool done = false;
	while (!done) {
		const char *tok;
		size_t tl;
		if (*p == '\0') {
			tok = "final";
			tl = 5;
			done = true;
		} else if (isdigit((unsigned char)*p)) {
			tok = p;
			while (isdigit((unsigned char)*p)) {
				p++;
			}
			tl = (size_t)(p - tok);
		} else if (islower((unsigned char)*p)) {
			tok = p;
			while (islower((unsigned char)*p)) {
				p++;
			}
			tl = (size_t)(p - tok);
		} else if (*p == '.') {
			p++;
			continue;
		} else if (*p == '-') {
			tok = p++;
			tl = 1;
		} else {
			p++;
			continue;
		}
		/* Normalise the part. */
		const char *word = NULL;
		if (tl == 3 && memcmp(tok, "pre", 3) == 0) {
			word = "*c";
		} else if (tl == 7 && memcmp(tok, "preview", 7) == 0) {
			word = "*c";
		} else if (tl == 1 && tok[0] == '-') {
			word = "*final-";
		} else if (tl == 2 && memcmp(tok, "rc", 2) == 0) {
			word = "*c";
		} else if (tl == 3 && memcmp(tok, "dev", 3) == 0) {
			word = "*@";
		}
		const char *part;
		size_t pl;
		struct sbuf tmpb;
		sbuf_init(&tmpb, SIZE_MAX / 2);
		if (word) {
			part = word;
			pl = strlen(word);
		} else if (isdigit((unsigned char)tok[0])) {
			for (size_t k = tl; k < 8; k++) {
				sbuf_putc(&tmpb, '0');
			}
			sbuf_append(&tmpb, tok, tl);
			part = tmpb.data;
			pl = tmpb.len;
		} else {
			sbuf_putc(&tmpb, '*');
			sbuf_append(&tmpb, tok, tl);
			part = tmpb.data;
			pl = tmpb.len;
		}
		if (part[0] == '*') {
			if (strcmp(part, "*final") < 0) {
				while (n > 0 && strcmp(parts.data + offs[n - 1], "*final-") == 0) {
					parts.len = offs[--n];
				}
			}
			while (n > 0 && strcmp(parts.data + offs[n - 1], "00000000") == 0) {
				parts.len = offs[--n];
			}
		}
		if (n < ARRAY_SIZE(offs)) {
			offs[n++] = parts.len;
			sbuf_append(&parts, part, pl);
			sbuf_putc(&parts, '\0');
		}
		sbuf_release(&tmpb);
	}
	for (size_t i = 0; i < n; i++) {
		sbuf_puts(key, parts.data + offs[i]);
	}
	sbuf_release(&parts);
}

int pep440_compare(const char *sa, const char *sb)
{
	int long_c;
	if (eco_compare_long(sa, sb, &long_c)) {
		return long_c;
	}
	size_t na, nb;
	char *la = lower_copy(sa, &na), *lb = lower_copy(sb, &nb);
	struct pep440 *va = xmalloc(sizeof(*va)), *vb = xmalloc(sizeof(*vb));
	bool oka = pep440_parse(la, na, va), okb = pep440_parse(lb, nb, vb);
	int c;
	if (oka && okb) {
		c = compare_valid(va, vb);
	} else if (oka != okb) {
		c = oka ? 1 : -1;
	} else {
		struct sbuf ka, kb;
		sbuf_init(&ka, SIZE_MAX / 2);
		sbuf_init(&kb, SIZE_MAX / 2);
		legacy_key(la, &ka);
		legacy_key(lb, &kb);
		c = strcmp(ka.data ? ka.data : "", kb.data ? kb.data : "");
		c = c < 0 ? -1 : c > 0;
		sbuf_release(&ka);
		sbuf_release(&kb);
	}
	free(va);
	free(vb);
	free(la);
	free(lb);
	return c;
}
