/*
 * eco.c - ecosystem names, name normalisation and the comparator dispatch.
 */
#include "eco.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

static const struct {
	const char *name;
	const char *purl;
	enum vscheme scheme;
} ecos[ECO_COUNT] = {
	[ECO_NPM] = { "npm", "npm", VSCHEME_SEMVER },
	[ECO_PYPI] = { "PyPI", "pypi", VSCHEME_PEP440 },
	[ECO_GO] = { "Go", "golang", VSCHEME_SEMVER },
	[ECO_CRATES] = { "crates.io", "cargo", VSCHEME_SEMVER },
	[ECO_RUBYGEMS] = { "RubyGems", "gem", VSCHEME_RUBYGEMS },
	[ECO_PACKAGIST] = { "Packagist", "composer", VSCHEME_PACKAGIST },
	[ECO_MAVEN] = { "Maven", "maven", VSCHEME_MAVEN },
	[ECO_NUGET] = { "NuGet", "nuget", VSCHEME_NUGET },
	[ECO_CONAN] = { "ConanCenter", "conan", VSCHEME_CONAN },
	[ECO_PUB] = { "Pub", "pub", VSCHEME_SEMVER },
	[ECO_HEX] = { "Hex", "hex", VSCHEME_SEMVER },
};

const char *eco_name(enum eco e)
{
	return (unsigned)e < ECO_COUNT ? ecos[e].name : "unknown";
}

const char *eco_purl_type(enum eco e)
{
	return (unsigned)e < ECO_COUNT ? ecos[e].purl : "generic";
}

enum vscheme eco_scheme(enum eco e)
{
	return (unsigned)e < ECO_COUNT ? ecos[e].scheme : VSCHEME_SEMVER;
}

int eco_parse(const char *s, enum eco *out)
{
	for (unsigned i = 0; s && i < ECO_COUNT; i++) {
		if (strcmp(s, ecos[i].name) == 0) {
			*out = (enum eco)i;
			return 0;
		}
	}
	return -EINVAL;
}

char *eco_normalize_name(enum eco e, const char *name)
{
	size_t n = strlen(name);
	char *out = xmalloc(n + 1);
	size_t k = 0;
	switch (e) {
	case ECO_PYPI:
		/* PEP 503: lower case, every run of -, _ and . becomes a single -. */
		for (size_t i = 0; i < n; i++) {
			char c = name[i];
			if (c == '-' || c == '_' || c == '.') {
				if (k == 0 || out[k - 1] != '-') {
					out[k++] = '-';
				}
			} else {
				out[k++] = (char)tolower((unsigned char)c);
			}
		}
		break;
	case ECO_CRATES:
	case ECO_NUGET:
	case ECO_PACKAGIST:
	case ECO_PUB:
		for (size_t i = 0; i < n; i++) {
			out[k++] = (char)tolower((unsigned char)name[i]);
		}
		break;
	default:
		memcpy(out, name, n);
		k = n;
		break;
	}
	out[k] = '\0';
	return out;
}

bool eco_version_too_long(const char *v)
{
	return strnlen(v, ECO_MAX_VERSION + 1) > ECO_MAX_VERSION;
}

bool eco_compare_long(const char *a, const char *b, int *c)
{
	bool la = eco_version_too_long(a), lb = eco_version_too_long(b);
	if (!la && !lb) {
		return false;
	}
	if (la && lb) {
		int r = strcmp(a, b);
		*c = r < 0 ? -1 : r > 0;
	} else {
		*c = la ? -1 : 1;
	}
	return true;
}

bool eco_version_understood(enum eco e, const char *v)
{
	if (eco_version_too_long(v)) {
		return false;
	}
	switch (e) {
	case ECO_PYPI:
		return pep440_is_valid(v);
	case ECO_NPM:
	case ECO_CRATES:
	case ECO_GO:
	case ECO_PUB:
	case ECO_HEX:
	case ECO_NUGET:
	case ECO_RUBYGEMS:
		return isdigit((unsigned char)v[*v == 'v']);
	default:
		return true;
	}
}

/* A run of ASCII digits at s: its length. */
static size_t digits(const char *s)
{
	size_t n = 0;
	while (isdigit((unsigned char)s[n])) {
		n++;
	}
	return n;
}

char *eco_go_version(const char *v)
{
	const char *s = strncmp(v, "go", 2) == 0 ? v + 2 : v;
	/* major.minor, an optional .patch, an optional beta/rc/-pre and its number. */
	size_t major = digits(s);
	if (major == 0 || s[major] != '.') {
		return xstrdup(v);
	}
	const char *p = s + major + 1;
	size_t minor = digits(p);
	if (minor == 0) {
		return xstrdup(v);
	}
	p += minor;
	size_t patch = 0;
	if (*p == '.') {
		patch = digits(p + 1);
		if (patch == 0) {
			return xstrdup(v);
		}
		p += 1 + patch;
	}
	const char *core_end = p;
	if (!*p) {
		return xstrdup(s); /* a release */
	}
	static const char *const kinds[] = { "beta", "rc", "-pre" };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t k = strlen(kinds[i]);
		if (strncmp(p, kinds[i], k) != 0) {
			continue;
		}
		size_t num = digits(p + k);
		if (num == 0 || p[k + num]) {
			break;
		}
		return xasprintf("%.*s%s-%s.%s", (int)(core_end - s), s, patch ? "" : ".0",
				 kinds[i][0] == '-' ? kinds[i] + 1 : kinds[i], p + k);
	}
	return xstrdup(v);
}

int digits_compare(const char *a, size_t an, const char *b, size_t bn)
{
	while (an > 0 && *a == '0') {
		a++;
		an--;
	}
	while (bn > 0 && *b == '0') {
		b++;
		bn--;
	}
	if (an != bn) {
		return an < bn ? -1 : 1;
	}
	if (an == 0) {
		return 0;
	}
	int c = memcmp(a, b, an);
	return c < 0 ? -1 : c > 0;
}

int bytes_compare(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = MIN(an, bn);
	int c = n ? memcmp(a, b, n) : 0;
	if (c == 0) {
		return an == bn ? 0 : an < bn ? -1 : 1;
	}
	return c < 0 ? -1 : 1;
}

/* ---------- ConanCenter ---------- */

/*
 * ConanCenter version order: Conan 2's Version class (conan/internal/model/version.py).
 *
 * A version is split at its last `+` into the version and a build, then the version at
 * its first `-` into the main part and a pre-release; the main part, the pre-release and
 * the build are each split at `.` into items. An item that is a number (ASCII digits) is
 * an integer, any other (the empty one too) a string; trailing items that are the integer
 * 0 do not count (4 = 4.0 = 4.0.0). Items compare as integers when both are, as strings
 * (bytewise) when both are, and otherwise as the strings they read as (an integer without
 * its leading zeros: 1.1.1k > 1.1.1, since "1k" > "1"). Lists of items compare item by
 * item, a list that is a prefix of the other one sorting first.
 *
 * The main parts decide first. Of equal main parts, one with a pre-release sorts before
 * one without (whatever their builds); two pre-releases then compare, and last the builds,
 * none sorting before any.
 *
 * Python's int() also takes a sign, underscores, surrounding whitespace and non-ASCII
 * digits; such items are strings here.
 */

struct citems {
	const char *p; /* the text, items separated by '.' */
	size_t n;
	bool present; /* (a pre-release or a build) there is one */
};

static bool is_int(const char *p, size_t n)
{
	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i])) {
			return false;
		}
	}
	return true;
}

/*
 * The length of the text without its trailing integer-0 items (and their dots); *none is
 * set when no item is left. An empty text is one empty item, a string.
 */
static size_t trim_zeros(const char *p, size_t n, bool *none)
{
	*none = false;
	for (;;) {
		size_t start = n;
		while (start > 0 && p[start - 1] != '.') {
			start--;
		}
		size_t k = start;
		while (k < n && p[k] == '0') {
			k++;
		}
		if (k < n || k == start) {
			return n; /* not digits that are all 0 */
		}
		if (start == 0) {
			*none = true;
			return 0;
		}
		n = start - 1;
	}
}

static int item_compare(const char *a, size_t an, const char *b, size_t bn)
{
	bool ai = is_int(a, an), bi = is_int(b, bn);
	if (ai && bi) {
		return digits_compare(a, an, b, bn);
	}
	/* A string with an integer: the integer as Python's str() writes it. */
	if (ai) {
		while (an > 1 && *a == '0') {
			a++;
			an--;
		}
	}
	if (bi) {
		while (bn > 1 && *b == '0') {
			b++;
			bn--;
		}
	}
	return bytes_compare(a, an, b, bn);
}

static int items_compare(const struct citems *a, const struct citems *b)
{
	bool a_none, b_none;
	size_t an = trim_zeros(a->p, a->n, &a_none), bn = trim_zeros(b->p, b->n, &b_none);
	const char *x = a->p, *xe = a->p + an, *y = b->p, *ye = b->p + bn;
	for (;;) {
		if (a_none || b_none) {
			return a_none == b_none ? 0 : a_none ? -1 : 1;
		}
		const char *xd = memchr(x, '.', (size_t)(xe - x));
		const char *yd = memchr(y, '.', (size_t)(ye - y));
		size_t xl = (size_t)((xd ? xd : xe) - x), yl = (size_t)((yd ? yd : ye) - y);
		int c = item_compare(x, xl, y, yl);
		if (c) {
			return c;
		}
		a_none = !xd;
		b_none = !yd;
		x += xl + 1;
		y += yl + 1;
	}
}

struct cver {
	struct citems main, pre, build;
};

static void cver_parse(const char *s, struct cver *v)
{
	size_t n = strlen(s);
	const char *plus = memrchr(s, '+', n);
	memset(v, 0, sizeof(*v));
	if (plus) {
		v->build = (struct citems){ plus + 1, n - (size_t)(plus + 1 - s), true };
		n = (size_t)(plus - s);
	}
	const char *dash = memchr(s, '-', n);
	if (dash) {
		v->pre = (struct citems){ dash + 1, n - (size_t)(dash + 1 - s), true };
		n = (size_t)(dash - s);
	}
	v->main = (struct citems){ s, n, true };
}

int conan_compare(const char *sa, const char *sb)
{
	int c;
	if (eco_compare_long(sa, sb, &c)) {
		return c;
	}
	struct cver a, b;
	cver_parse(sa, &a);
	cver_parse(sb, &b);
	c = items_compare(&a.main, &b.main);
	if (c || a.pre.present != b.pre.present) {
		return c ? c : a.pre.present ? -1 : 1;
	}
	if (a.pre.present && (c = items_compare(&a.pre, &b.pre))) {
		return c;
	}
	if (a.build.present != b.build.present) {
		return a.build.present ? 1 : -1;
	}
	return a.build.present ? items_compare(&a.build, &b.build) : 0;
}

int vers_compare(enum vscheme s, const char *a, const char *b)
{
	switch (s) {
	case VSCHEME_PEP440:
		return pep440_compare(a, b);
	case VSCHEME_MAVEN:
		return maven_compare(a, b);
	case VSCHEME_RUBYGEMS:
		return rubygems_compare(a, b);
	case VSCHEME_PACKAGIST:
		return packagist_compare(a, b);
	case VSCHEME_NUGET:
		return nuget_compare(a, b);
	case VSCHEME_CONAN:
		return conan_compare(a, b);
	case VSCHEME_SEMVER:
	default:
		return semver_compare(a, b);
	}
}
