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
	[ECO_CONAN] = { "ConanCenter", "conan", VSCHEME_SEMVER },
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

bool eco_version_understood(enum eco e, const char *v)
{
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
	case VSCHEME_SEMVER:
	default:
		return semver_compare(a, b);
	}
}
