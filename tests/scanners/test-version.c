/*
 * test-version.c - version ordering per ecosystem against the conformance vectors in
 * tests/fixtures/version-order (every assertion, both ways round), plus the cases the
 * matching relies on (Go's v prefix, +incompatible, pseudo-versions; PEP 440 spellings;
 * Maven qualifiers) and name normalisation.
 */
#include <criterion/criterion.h>

#include "eco.h"
#include "testutil.h"
#include "util.h"

#include <stdio.h>

static int sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

/* Check every assertion of a vector file with cmp; returns the number checked. */
static size_t check_file(const char *name, int (*cmp)(const char *, const char *))
{
	char *path = tu_fixture(name);
	char *text = tu_read(path);
	cr_assert_not_null(text, "cannot read %s", path);
	size_t checked = 0, failed = 0;
	unsigned lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next) {
			*next++ = '\0';
		}
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r') {
			line[--len] = '\0';
		}
		if (len == 0 || strncmp(line, "# ", 2) == 0 || strncmp(line, "// ", 3) == 0) {
			continue;
		}
		char a[512], op[4], b[512];
		if (sscanf(line, "%511s %3s %511s", a, op, b) != 3) {
			cr_assert_fail("%s:%u: cannot read the assertion '%s'", name, lineno, line);
		}
		int want = op[0] == '<' ? -1 : op[0] == '>' ? 1 : 0;
		int got = sign(cmp(a, b)), back = sign(cmp(b, a));
		if (got != want || back != -want) {
			if (failed++ < 20) {
				cr_log_error("%s:%u: %s %s %s, but compare gives %d and %d back",
					     name, lineno, a, op, b, got, back);
			}
		}
		checked++;
	}
	cr_expect_eq(failed, 0, "%s: %zu of %zu assertions fail", name, failed, checked);
	free(text);
	free(path);
	return checked;
}

static int cmp_npm(const char *a, const char *b)
{
	return eco_compare(ECO_NPM, a, b);
}
static int cmp_go(const char *a, const char *b)
{
	return eco_compare(ECO_GO, a, b);
}
static int cmp_crates(const char *a, const char *b)
{
	return eco_compare(ECO_CRATES, a, b);
}
static int cmp_hex(const char *a, const char *b)
{
	return eco_compare(ECO_HEX, a, b);
}
static int cmp_pypi(const char *a, const char *b)
{
	return eco_compare(ECO_PYPI, a, b);
}
static int cmp_maven(const char *a, const char *b)
{
	return eco_compare(ECO_MAVEN, a, b);
}
static int cmp_gems(const char *a, const char *b)
{
	return eco_compare(ECO_RUBYGEMS, a, b);
}
static int cmp_packagist(const char *a, const char *b)
{
	return eco_compare(ECO_PACKAGIST, a, b);
}
static int cmp_nuget(const char *a, const char *b)
{
	return eco_compare(ECO_NUGET, a, b);
}
static int cmp_conan(const char *a, const char *b)
{
	return eco_compare(ECO_CONAN, a, b);
}

Test(version, semver_vectors)
{
	cr_assert_geq(check_file("version-order/semver.txt", cmp_npm), 80);
	check_file("version-order/semver.txt", cmp_go);
	check_file("version-order/semver.txt", cmp_crates);
	check_file("version-order/semver.txt", cmp_hex);
}

Test(version, pypi_vectors)
{
	cr_assert_geq(check_file("version-order/pypi.txt", cmp_pypi), 30);
	cr_assert_geq(check_file("version-order/pypi-generated.txt", cmp_pypi), 12000);
}

Test(version, maven_vectors)
{
	cr_assert_geq(check_file("version-order/maven.txt", cmp_maven), 100);
	cr_assert_geq(check_file("version-order/maven-generated.txt", cmp_maven), 14000);
}

Test(version, rubygems_vectors)
{
	cr_assert_geq(check_file("version-order/rubygems.txt", cmp_gems), 20);
}

Test(version, packagist_vectors)
{
	cr_assert_geq(check_file("version-order/packagist.txt", cmp_packagist), 90);
}

Test(version, nuget_vectors)
{
	cr_assert_geq(check_file("version-order/nuget.txt", cmp_nuget), 30);
}

/* ConanCenter follows Conan's own Version order, not SemVer: OpenSSL's letter releases
 * (1.1.1k) sort above 1.1.1 and below 1.1.1t. */
Test(version, conan_vectors)
{
	cr_assert_geq(check_file("version-order/conan.txt", cmp_conan), 45);
}

Test(version, go_specifics)
{
	/* The v prefix is not part of the order. */
	cr_assert_eq(cmp_go("v1.2.3", "1.2.3"), 0);
	/* +incompatible is build metadata. */
	cr_assert_eq(cmp_go("v2.0.0+incompatible", "2.0.0"), 0);
	cr_assert_lt(cmp_go("v2.0.0+incompatible", "v2.0.1"), 0);
	/* Pseudo-versions sort as pre-releases of the next patch, by time. */
	cr_assert_lt(
		cmp_go("0.0.0-20210101000000-abcdef123456", "0.0.0-20220101000000-123456abcdef"),
		0);
	cr_assert_lt(cmp_go("v1.2.4-0.20210101000000-abcdef123456", "1.2.4"), 0);
	cr_assert_gt(cmp_go("v1.2.4-0.20210101000000-abcdef123456", "1.2.3"), 0);
	cr_assert_lt(cmp_go("0", "0.0.1"), 0);
}

/* go.mod's `go` and `toolchain` versions as the Go vulnerability database writes them. */
Test(version, go_toolchain_versions)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "1.21rc2", "1.21.0-rc.2" },
		{ "1.19beta1", "1.19.0-beta.1" },
		{ "1.20-pre4", "1.20.0-pre.4" },
		{ "1.21.1rc1", "1.21.1-rc.1" },
		{ "go1.21rc3", "1.21.0-rc.3" },
		{ "go1.21.3", "1.21.3" },
		{ "1.21.3", "1.21.3" },
		{ "1.21", "1.21" },
		/* Not a Go version: as it is. */
		{ "1.21.0-rc.2", "1.21.0-rc.2" },
		{ "1.21rc", "1.21rc" },
		{ "1.21rc2x", "1.21rc2x" },
		{ "1.21alpha1", "1.21alpha1" },
		{ "1", "1" },
		{ "", "" },
		{ "go", "go" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = eco_go_version(cases[i].in);
		cr_expect_str_eq(got, cases[i].out, "%s", cases[i].in);
		free(got);
	}
	/* A release as written is x/vuln's form already. */
	cr_assert_eq(cmp_go("1.21", "1.21.0"), 0);
	/* GO-2023-1987 was fixed in 1.21.0-rc.4: rc3 is before, rc4 not. */
	char *rc3 = eco_go_version("1.21rc3"), *rc4 = eco_go_version("1.21rc4");
	cr_assert_lt(cmp_go(rc3, "1.21.0-rc.4"), 0);
	cr_assert_eq(cmp_go(rc4, "1.21.0-rc.4"), 0);
	cr_assert_gt(cmp_go(rc3, "1.21.0-0"), 0);
	cr_assert_lt(cmp_go(rc4, "1.21"), 0);
	free(rc3);
	free(rc4);
}

Test(version, pep440_specifics)
{
	cr_assert_eq(cmp_pypi("1.0", "1.0.0"), 0);
	cr_assert_eq(cmp_pypi("1.0alpha1", "1.0a1"), 0);
	cr_assert_eq(cmp_pypi("1.0-1", "1.0.post1"), 0);
	cr_assert_eq(cmp_pypi("1.0.RC1", "1.0rc1"), 0);
	cr_assert_lt(cmp_pypi("1.0.dev0", "1.0a0"), 0);
	cr_assert_lt(cmp_pypi("1.0a1", "1.0b1"), 0);
	cr_assert_lt(cmp_pypi("1.0rc1", "1.0"), 0);
	cr_assert_lt(cmp_pypi("1.0", "1.0+local"), 0);
	cr_assert_lt(cmp_pypi("1.0", "1.0.post1"), 0);
	cr_assert_lt(cmp_pypi("1!0.1", "2!0.0"), 0);
	cr_assert_gt(cmp_pypi("1!0.1", "9.9"), 0);
	cr_assert_lt(cmp_pypi("1.0+abc", "1.0+5"), 0);
	cr_assert_lt(cmp_pypi("1.0.post1.dev1", "1.0.post1"), 0);
	/* Legacy versions sort below every PEP 440 version. */
	cr_assert_lt(cmp_pypi("not a version", "0.0.1"), 0);
	cr_assert(pep440_is_valid("v1.0.post2.dev3+ubuntu.1"));
	cr_assert(!pep440_is_valid("1.0-beta-gamma"));
}

Test(version, maven_specifics)
{
	cr_assert_lt(cmp_maven("2.0-beta9", "2.0"), 0);
	cr_assert_lt(cmp_maven("2.0-beta9", "2.0-rc1"), 0);
	cr_assert_eq(cmp_maven("1.0-cr1", "1.0-rc1"), 0);
	cr_assert_eq(cmp_maven("1.0.0", "1-ga"), 0);
	cr_assert_eq(cmp_maven("1.0.FINAL", "1"), 0);
	cr_assert_lt(cmp_maven("1-SNAPSHOT", "1"), 0);
	cr_assert_lt(cmp_maven("1", "1-sp1"), 0);
	cr_assert_lt(cmp_maven("1-alpha1", "1-a2"), 0);
	cr_assert_lt(cmp_maven("1-milestone1", "1-rc1"), 0);
	cr_assert_lt(cmp_maven("2.14.1", "2.15.0"), 0);
	cr_assert_lt(cmp_maven("2.12.1", "2.12.2"), 0);
	cr_assert_gt(cmp_maven("2.17.1", "2.15.0"), 0);
}

Test(version, compare_is_total_on_junk)
{
	const char *junk[] = { "",	  "v",	 "...",
			       "-",	  "+",	 "a..b--c",
			       "1.2.3-+", "!",	 "0!",
			       "\t",	  "V1",	 "99999999999999999999999999999999999999",
			       "1.0a.",	  "1.0-" };
	for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(junk); j++) {
			for (int s = VSCHEME_SEMVER; s <= VSCHEME_NUGET; s++) {
				int a = sign(vers_compare((enum vscheme)s, junk[i], junk[j]));
				int b = sign(vers_compare((enum vscheme)s, junk[j], junk[i]));
				cr_assert_eq(a, -b, "scheme %d: '%s' vs '%s' is not antisymmetric",
					     s, junk[i], junk[j]);
			}
		}
	}
}

/* A version longer than ECO_MAX_VERSION is not read (a hostile one cost memory in
 * proportion to its length on every comparison: ~23 bytes a byte in Maven's): it sorts
 * below every version that is, and no ecosystem understands it, so the scan reports it. */
Test(version, versions_too_long_to_read)
{
	/* 1111...1: a number of ECO_MAX_VERSION digits, then one more; 0111...1 sorts below
	 * the longer one bytewise. */
	char *at_cap = xmalloc(ECO_MAX_VERSION + 1), *over = xmalloc(ECO_MAX_VERSION + 2);
	memset(at_cap, '1', ECO_MAX_VERSION);
	at_cap[ECO_MAX_VERSION] = '\0';
	memset(over, '1', ECO_MAX_VERSION + 1);
	over[ECO_MAX_VERSION + 1] = '\0';
	char *over2 = xstrdup(over);
	over2[0] = '0';
	for (int s = VSCHEME_SEMVER; s <= VSCHEME_NUGET; s++) {
		enum vscheme sc = (enum vscheme)s;
		cr_expect_gt(vers_compare(sc, at_cap, "0"), 0, "scheme %d: read at the cap", s);
		cr_expect_lt(vers_compare(sc, over, "0"), 0, "scheme %d", s);
		cr_expect_gt(vers_compare(sc, "0", over), 0, "scheme %d", s);
		cr_expect_lt(vers_compare(sc, over, at_cap), 0, "scheme %d", s);
		cr_expect_eq(vers_compare(sc, over, over), 0, "scheme %d", s);
		cr_expect_lt(vers_compare(sc, over2, over), 0, "scheme %d", s);
		cr_expect_gt(vers_compare(sc, over, over2), 0, "scheme %d", s);
	}
	for (int e = 0; e < ECO_COUNT; e++) {
		cr_expect(eco_version_understood((enum eco)e, at_cap), "%s", eco_name((enum eco)e));
		cr_expect(!eco_version_understood((enum eco)e, over), "%s", eco_name((enum eco)e));
	}
	cr_expect(pep440_is_valid(at_cap));
	cr_expect(!pep440_is_valid(over));
	free(over2);
	free(over);
	free(at_cap);
}

Test(version, names)
{
	char *n = eco_normalize_name(ECO_PYPI, "Zope.Interface__x");
	cr_assert_str_eq(n, "zope-interface-x");
	free(n);
	n = eco_normalize_name(ECO_NPM, "@Babel/Code-Frame");
	cr_assert_str_eq(n, "@Babel/Code-Frame");
	free(n);
	n = eco_normalize_name(ECO_NUGET, "Newtonsoft.Json");
	cr_assert_str_eq(n, "newtonsoft.json");
	free(n);
	n = eco_normalize_name(ECO_MAVEN, "org.apache.logging.log4j:log4j-core");
	cr_assert_str_eq(n, "org.apache.logging.log4j:log4j-core");
	free(n);
	enum eco e;
	cr_assert_eq(eco_parse("crates.io", &e), 0);
	cr_assert_eq(e, ECO_CRATES);
	cr_assert_eq(eco_parse("pypi", &e), -EINVAL);
	cr_assert_str_eq(eco_purl_type(ECO_GO), "golang");
}
