/*
 * eco.h - package ecosystems: their OSV names, how package names are normalised, and how
 * their versions are ordered.
 *
 * Every comparator is total: any two strings compare, however malformed (the advisory
 * database and lockfiles are untrusted input, and a comparator that failed would have to
 * guess). Numbers of any length compare exactly (as digit strings, never as machine
 * integers). The comparators run in time linear in the length of their inputs.
 *
 * A version longer than ECO_MAX_VERSION bytes is not read (a hostile one would cost
 * memory in proportion to its length on every comparison): every comparator sorts it
 * below every version it reads (such versions among themselves bytewise), it is not a
 * valid PEP 440 version, and eco_version_understood is false for it in every ecosystem,
 * so that the scan reports it as a version it does not understand. The OSV loader refuses
 * range events that long.
 *
 * Schemes (and what follows each):
 *   semver    npm, crates.io, Go, Hex, Pub: SemVer 2.0 precedence, read leniently
 *             (a leading `v`, any number of numeric components; components past the third
 *             and anything after the first other character form the pre-release; build
 *             metadata after `+` is ignored, so Go's `+incompatible` is too; pseudo-versions
 *             order as the pre-releases they are).
 *   pep440    PyPI: epochs, pre/post/dev releases, local versions, the normalisations of
 *             PEP 440, and a setuptools-style ordering for legacy versions (below all
 *             PEP 440 ones).
 *   maven     Maven: ComparableVersion order (qualifier order alpha < beta < milestone <
 *             rc = cr < snapshot < "" = ga = final = release < sp; numeric padding).
 *   rubygems  RubyGems: Gem::Version order.
 *   packagist Packagist: PHP's version_compare after Composer's removal of a leading `v`.
 *   nuget     NuGet: four numeric parts, case-insensitive SemVer pre-releases.
 *   conan     ConanCenter: Conan 2's Version order (items split at `.`, integers or
 *             strings, trailing zeros ignored, a `-` pre-release before the release, a
 *             `+` build after it; see eco.c). `1.1.1k` > `1.1.1`.
 */
#ifndef RUNNER_SCANNERS_ECO_H
#define RUNNER_SCANNERS_ECO_H

#include <stdbool.h>
#include <stddef.h>

enum eco {
	ECO_NPM,
	ECO_PYPI,
	ECO_GO,
	ECO_CRATES,
	ECO_RUBYGEMS,
	ECO_PACKAGIST,
	ECO_MAVEN,
	ECO_NUGET,
	ECO_CONAN,
	ECO_PUB,
	ECO_HEX,
	ECO_COUNT,
};

/* The longest version (bytes) the comparators read. */
#define ECO_MAX_VERSION 256

enum vscheme {
	VSCHEME_SEMVER,
	VSCHEME_PEP440,
	VSCHEME_MAVEN,
	VSCHEME_RUBYGEMS,
	VSCHEME_PACKAGIST,
	VSCHEME_CONAN,
	VSCHEME_NUGET, /* the last: loops over the schemes run to it */
};

/* The OSV ecosystem name ("npm", "PyPI", "crates.io", ...). */
const char *eco_name(enum eco e);
/* Parse an OSV ecosystem name (exact, case-sensitive as OSV defines them; a ":suffix" as in
 * "Debian:11" is not one of ours). Returns 0 or -EINVAL. */
int eco_parse(const char *s, enum eco *out);
/* The package-URL type (npm, pypi, golang, cargo, gem, composer, maven, nuget, conan, pub,
 * hex). */
const char *eco_purl_type(enum eco e);
enum vscheme eco_scheme(enum eco e);

/*
 * The name under which a package is looked up: PEP 503 for PyPI (lower case, runs of
 * `-_.` become `-`), lower case for ecosystems whose registries are case-insensitive
 * (crates.io, NuGet, Packagist, Pub), unchanged otherwise (npm scopes stay `@scope/name`,
 * Maven stays `groupId:artifactId`, Go module paths are case-sensitive). Heap string.
 */
char *eco_normalize_name(enum eco e, const char *name);

/* Whether v is longer than ECO_MAX_VERSION bytes. */
bool eco_version_too_long(const char *v);

/*
 * When a or b is longer than ECO_MAX_VERSION: true, with *c their order (a long version
 * below every other, long ones bytewise). Each comparator starts with it.
 */
bool eco_compare_long(const char *a, const char *b, int *c);

/* Compare two versions: < 0, 0 or > 0. */
int vers_compare(enum vscheme s, const char *a, const char *b);
static inline int eco_compare(enum eco e, const char *a, const char *b)
{
	return vers_compare(eco_scheme(e), a, b);
}

int semver_compare(const char *a, const char *b);
int pep440_compare(const char *a, const char *b);
int maven_compare(const char *a, const char *b);
int rubygems_compare(const char *a, const char *b);
int packagist_compare(const char *a, const char *b);
int nuget_compare(const char *a, const char *b);
int conan_compare(const char *a, const char *b);

/* Whether s is a valid PEP 440 version (not a legacy one). */
bool pep440_is_valid(const char *s);

/*
 * Whether v reads as a version of e at all, rather than as text the comparator would
 * place below every real version: valid PEP 440 for PyPI; for ecosystems whose registries
 * take only numbered versions (npm, crates.io, Go, Pub, Hex, NuGet, RubyGems) a digit
 * first (after one `v`). Maven, Packagist and ConanCenter take any text as a version
 * (`dev-main`, `cci.20230101`): true there. False in every ecosystem for a version longer
 * than ECO_MAX_VERSION.
 */
bool eco_version_understood(enum eco e, const char *v);

/*
 * The version at which go.mod's `go` directive (or a `toolchain` name, `go1.21.3`) puts the
 * Go distribution (the package "stdlib"), as the Go vulnerability database writes its
 * versions. A pre-release is converted as golang.org/x/vuln converts Go release tags
 * (go(\d+\.\d+)(\.\d+)?((beta|rc|-pre)(\d+))?): `1.21rc2` is `1.21.0-rc.2`, `1.19beta1`
 * `1.19.0-beta.1`, `1.20-pre4` `1.20.0-pre.4`; verbatim, `1.21rc2` would sort above
 * `1.21.0-rc.4` ("rc2" > "rc" as identifiers). A release is kept as written (`1.21`, as the
 * OSV scanner's goldens report it, already compares equal to x/vuln's `1.21.0`; `1.21.3`
 * is unchanged), with a leading `go` removed; anything else is returned as it is. Heap
 * string.
 */
char *eco_go_version(const char *v);

/*
 * Compare SemVer pre-release texts (dot-separated identifiers; empty = no pre-release,
 * which sorts last). fold_case compares letters case-insensitively (NuGet).
 */
int semver_prerelease_compare(const char *a, size_t an, const char *b, size_t bn, bool fold_case);

/* Compare two byte strings (memcmp, then length): -1, 0 or 1. */
int bytes_compare(const char *a, size_t an, const char *b, size_t bn);

/* Compare two runs of ASCII digits as numbers of any size (leading zeros ignored). */
int digits_compare(const char *a, size_t an, const char *b, size_t bn);

#endif
