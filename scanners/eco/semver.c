/*
 * semver.c - SemVer 2.0 precedence, read leniently (see eco.h).
 *
 * A version is read as: an optional leading `v`; numeric components separated by dots;
 * from the first character that is neither a digit nor a dot, the rest is the
 * "pre-release" text. Only the first three components are the version core; further
 * numeric components are appended to the pre-release text as `.N` (so 1.2.3.4 sorts as a
 * pre-release of 1.2.3, and 1.1.3.4.5 equals itself). Build metadata (from the first `+`
 * of the pre-release text) is ignored, and a leading `-` is not part of the pre-release.
 * Pre-release identifiers compare as SemVer says: numeric ones as numbers and below
 * alphanumeric ones, others in ASCII order, more identifiers sort higher.
 *
 * NuGet versions use the same reading with four core parts and case-insensitive labels.
 */
#include "eco.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>

#include "banned.h"

#define SEMVER_CORE 4 /* room for NuGet's four parts */

struct semver {
	const char *core[SEMVER_CORE];
	size_t core_len[SEMVER_CORE];
	struct sbuf pre; /* effective pre-release text */
};

/* A numeric component: into the core, or (normalised) onto the extra pre-release text. */
static void push_component(struct semver *v, unsigned max_core, unsigned *ncore, struct sbuf *extra,
			   const char *run, size_t n)
{
	if (*ncore < max_core) {
		v->core[*ncore] = run;
		v->core_len[(*ncore)++] = n;
		return;
	}
	while (n > 1 && *run == '0') {
		run++;
		n--;
	}
	sbuf_putc(extra, '.');
	sbuf_append(extra, run, n);
}

static void semver_parse(const char *s, unsigned max_core, struct semver *v)
{
	memset(v, 0, sizeof(*v));
	sbuf_init(&v->pre, SIZE_MAX / 2);
	if (*s == 'v') {
		s++;
	}
	unsigned ncore = 0;
	const char *run = NULL;
	const char *build = NULL;
	/* Components past the core, appended to the pre-release text afterwards. */
	struct sbuf extra;
	sbuf_init(&extra, SIZE_MAX / 2);
	const char *p = s;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (!run) {
				run = p;
			}
			continue;
		}
		if (run) {
			push_component(v, max_core, &ncore, &extra, run, (size_t)(p - run));
			run = NULL;
		}
		if (*p == '.') {
			continue;
		}
		build = p;
		break;
	}
	if (!build && run) {
		push_component(v, max_core, &ncore, &extra, run, (size_t)(p - run));
	}
	if (build) {
		sbuf_puts(&v->pre, build);
	}
	if (extra.len) {
		sbuf_append(&v->pre, extra.data, extra.len);
	}
	sbuf_release(&extra);
	/* Build metadata does not take part in precedence. */
	char *plus = v->pre.len ? memchr(v->pre.data, '+', v->pre.len) : NULL;
	if (plus) {
		v->pre.len = (size_t)(plus - v->pre.data);
		v->pre.data[v->pre.len] = '\0';
	}
	if (v->pre.len && v->pre.data[0] == '-') {
		sbuf_consume(&v->pre, 1);
	}
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Compare dot-separated pre-release identifiers by SemVer's rules. */
static int compare_identifiers(const char *a, size_t an, const char *b, size_t bn, bool fold_case)
{
	const char *ae = a + an, *be = b + bn;
	for (;;) {
		bool a_end = a > ae, b_end = b > be;
		if (a_end || b_end) {
			return a_end == b_end ? 0 : a_end ? -1 : 1;
		}
		const char *ad = memchr(a, '.', (size_t)(ae - a));
		const char *bd = memchr(b, '.', (size_t)(be - b));
		size_t al = (size_t)((ad ? ad : ae) - a), bl = (size_t)((bd ? bd : be) - b);
		bool anum = all_digits(a, al), bnum = all_digits(b, bl);
		int c;
		if (anum && bnum) {
			c = digits_compare(a, al, b, bl);
		} else if (anum) {
			c = -1;
		} else if (bnum) {
			c = 1;
		} else {
			c = 0;
			for (size_t i = 0; i < al && i < bl && c == 0; i++) {
				unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
				if (fold_case) {
					x = (unsigned char)tolower(x);
					y = (unsigned char)tolower(y);
				}
				c = x < y ? -1 : x > y;
			}
			if (c == 0 && al != bl) {
				c = al < bl ? -1 : 1;
			}
		}
		if (c) {
			return c;
		}
		a += al + 1;
		b += bl + 1;
	}
}

int semver_prerelease_compare(const char *a, size_t an, const char *b, size_t bn, bool fold_case)
{
	if (an == 0 || bn == 0) {
		/* A version without a pre-release sorts after one with. */
		return an == bn ? 0 : an == 0 ? 1 : -1;
	}
	return compare_identifiers(a, an, b, bn, fold_case);
}

static int semver_like_compare(const char *a, const char *b, unsigned max_core, bool fold_case)
{
	int c;
	if (eco_compare_long(a, b, &c)) {
		return c;
	}
	struct semver va, vb;
	semver_parse(a, max_core, &va);
	semver_parse(b, max_core, &vb);
	c = 0;
	for (unsigned i = 0; i < max_core && c == 0; i++) {
		c = digits_compare(va.core[i], va.core_len[i], vb.core[i], vb.core_len[i]);
	}
	if (c == 0) {
		c = semver_prerelease_compare(va.pre.data, va.pre.len, vb.pre.data, vb.pre.len,
					      fold_case);
	}
	sbuf_release(&va.pre);
	sbuf_release(&vb.pre);
	return c;
}

int semver_compare(const char *a, const char *b)
{
	return semver_like_compare(a, b, 3, false);
}

/*
 * NuGet: the same reading with four numeric parts (1.0 = 1.0.0.0), and pre-release labels
 * compared without regard to case, as NuGet.Versioning does.
 */
int nuget_compare(const char *a, const char *b)
{
	return semver_like_compare(a, b, 4, true);
}
