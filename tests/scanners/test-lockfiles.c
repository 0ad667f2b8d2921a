/*
 * test-lockfiles.c - every lockfile/manifest parser against the conformance goldens in
 * tests/fixtures/lockfiles (each fixture X with X.expected.json: the packages as a
 * multiset of name, version, ecosystem and commit, or an expected error; `deviations`
 * lists where we differ on purpose), plus what the goldens do not cover:
 *   - lines: the exact file:line of named packages in npm (v1, v2), yarn (v1, berry),
 *     requirements.txt (a -r include, a continued line), Cargo.lock, pom.xml and
 *     Gemfile.lock fixtures;
 *   - detection by file name: every supported name gives its format, others none;
 *   - directory walks: exactly the lockfiles outside node_modules, vendor and
 *     dot-directories (.git), symbolic links not followed, paths relative to the root;
 *   - errors that name the file: malformed JSON, TOML and XML give one error with the
 *     file and line, and no packages from that file;
 *   - Maven versions: an undefined or self-referring ${property} is kept as written and
 *     marked unresolved with a note, defined properties and dependencyManagement resolve;
 *     what Maven 3's model builder keeps of repeated properties and dependencies, a
 *     written version over a managed one, and the builds that profiles make; versions
 *     from BOMs in the tree (tests/fixtures/maven-bom), in Maven's order, and what a BOM
 *     the scan cannot read leaves unresolved, with why;
 *   - go.mod with its go.sum (tests/fixtures/gosum): below go 1.17 only, lines, errors;
 *   - pnpm dependency paths of lockfile 5.x, 6.0 and 9.0, scoped, with peer suffixes
 *     ('_', and several nested parenthesised groups naming scoped packages);
 *   - requirements.txt specifiers: only one exact clause with a valid PEP 440 version pins
 *     it, a lone >= or ~= is a lower bound, anything else pins nothing ("0.0.0");
 *   - positions: an error about a lockfile's structure at the line of what it names (never
 *     line 0), an option's argument and the package past the cap at their columns;
 *   - each (ecosystem, name, version, commit) once per lockfile (yarn 1 alias blocks, pnpm
 *     peer copies, Gemfile platforms, conan requires and build_requires), with the other
 *     entries' lines and the groups of all.
 */
#include <criterion/criterion.h>

#include "deps.h"
#include "diag.h"
#include "testutil.h"
#include "sbuf.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *dir;
	enum dep_format format;
} folders[] = {
	{ "npm", DEP_NPM_LOCK },
	{ "yarn", DEP_YARN_LOCK },
	{ "pnpm", DEP_PNPM_LOCK },
	{ "pip", DEP_REQUIREMENTS },
	{ "poetry", DEP_POETRY_LOCK },
	{ "pipenv", DEP_PIPFILE_LOCK },
	{ "go", DEP_GO_MOD },
	{ "cargo", DEP_CARGO_LOCK },
	{ "bundler", DEP_GEMFILE_LOCK },
	{ "composer", DEP_COMPOSER_LOCK },
	{ "maven", DEP_POM_XML },
	{ "gradle", DEP_GRADLE_LOCK },
	{ "nuget", DEP_NUGET_LOCK },
	{ "conan", DEP_CONAN_LOCK },
	{ "pub", DEP_PUBSPEC_LOCK },
	{ "mix", DEP_MIX_LOCK },
};

static char *key_of(const char *name, const char *version, const char *eco, const char *commit)
{
	char *k;
	if (asprintf(&k, "%s|%s|%s|%s", eco, name, version, commit ? commit : "") < 0) {
		abort();
	}
	return k;
}

/*
 * Where we differ from a golden on purpose (docs/dependency-scan.md, "Conformance"): the
 * package the golden expects, and the version we give it instead.
 */
static const struct {
	const char *folder, *file;
	const char *name, *golden_version, *our_version;
} deviations[] = {
	/* "bar == 4.5\\" then ".6": pip's join_lines drops every backslash at the end of a
	 * continued line, and installs 4.5.6. */
	{ "pip", "line-continuation.txt", "bar", "4.5\\\\", "4.5.6" },
};

/* Packages we report that a golden leaves out (name, version, ecosystem). */
static const struct {
	const char *folder, *file;
	const char *name, *version, *eco;
} additions[] = {
	/* Wheels pip installs, named by their file names: direct references, at the
	 * version the file name gives (pip refuses a wheel whose metadata says another). */
	{ "pip", "file-format-example.txt", "numpy", "1.9.2", "PyPI" },
	{ "pip", "file-format-example.txt", "wxpython-phoenix", "3.0.3.dev1820+49a8884", "PyPI" },
};

static const char *folder_of(const char *dir)
{
	const char *folder = strrchr(dir, '/');
	return folder ? folder + 1 : dir;
}

static const char *expected_version(const char *dir, const char *file, const char *name,
				    const char *version)
{
	const char *folder = strrchr(dir, '/');
	folder = folder ? folder + 1 : dir;
	for (size_t i = 0; i < ARRAY_SIZE(deviations); i++) {
		if (str_eq(folder, deviations[i].folder) && str_eq(file, deviations[i].file) &&
		    str_eq(name, deviations[i].name) &&
		    str_eq(version, deviations[i].golden_version)) {
			return deviations[i].our_version;
		}
	}
	return version;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Check one fixture; returns true when it conforms (and logs why not). */
static bool check_fixture(const char *dir, const char *file, enum dep_format f)
{
	char *path, *golden_path, *display;
	if (asprintf(&path, "%s/%s", dir, file) < 0 ||
	    asprintf(&golden_path, "%s.expected.json", path) < 0 ||
	    asprintf(&display, "%s", file) < 0) {
		abort();
	}
	json_error_t jerr;
	json_t *golden = json_load_file(golden_path, 0, &jerr);
	cr_assert_not_null(golden, "%s: %s", golden_path, jerr.text);
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	int r = deps_parse_file(&l, path, display, f, &dl);
	bool ok = true;
	if (json_is_true(json_object_get(golden, "error"))) {
		if (r >= 0) {
			cr_log_error("%s: expected an error, parsed %zu packages", path, l.n);
			ok = false;
		} else if (dl.n == 0 || !strstr(dl.v[0].file ? dl.v[0].file : "", file)) {
			cr_log_error("%s: the error does not name the file", path);
			ok = false;
		}
	} else if (r < 0) {
		cr_log_error("%s: unexpected error: %s", path, dl.n ? dl.v[0].msg : "?");
		ok = false;
	} else {
		json_t *pkgs = json_object_get(golden, "packages");
		size_t n = json_array_size(pkgs);
		char **want = calloc(n + ARRAY_SIZE(additions) + 1, sizeof(char *)),
		     **got = calloc(l.n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			json_t *p = json_array_get(pkgs, i);
			const char *name = json_string_value(json_object_get(p, "name"));
			want[i] = key_of(
				name,
				expected_version(dir, file, name,
						 json_string_value(json_object_get(p, "version"))),
				json_string_value(json_object_get(p, "ecosystem")),
				json_string_value(json_object_get(p, "commit")));
		}
		for (size_t i = 0; i < ARRAY_SIZE(additions); i++) {
			if (str_eq(folder_of(dir), additions[i].folder) &&
			    str_eq(file, additions[i].file)) {
				want[n++] = key_of(additions[i].name, additions[i].version,
						   additions[i].eco, NULL);
			}
		}
		for (size_t i = 0; i < l.n; i++) {
			got[i] = key_of(l.v[i].name, l.v[i].version, eco_name(l.v[i].eco),
					l.v[i].commit);
		}
		qsort(want, n, sizeof(char *), cmp_str);
		qsort(got, l.n, sizeof(char *), cmp_str);
		size_t i = 0, k = 0;
		while (i < n || k < l.n) {
			int c = i >= n ? 1 : k >= l.n ? -1 : strcmp(want[i], got[k]);
			if (c == 0) {
				i++, k++;
				continue;
			}
			ok = false;
			if (c < 0) {
				cr_log_error("%s: missing %s", path, want[i++]);
			} else {
				cr_log_error("%s: unexpected %s", path, got[k++]);
			}
		}
		for (i = 0; i < n; i++) {
			free(want[i]);
		}
		for (i = 0; i < l.n; i++) {
			free(got[i]);
			/* Every package knows where it comes from: a file and a line. */
			if (!l.v[i].file || !*l.v[i].file || l.v[i].line == 0) {
				cr_log_error("%s: package %s has no file:line", path, l.v[i].name);
				ok = false;
			}
		}
		free(want);
		free(got);
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	json_decref(golden);
	free(path);
	free(golden_path);
	free(display);
	return ok;
}

static void check_folder(const char *name, enum dep_format f)
{
	char *rel;
	if (asprintf(&rel, "lockfiles/%s", name) < 0) {
		abort();
	}
	char *dir = tu_fixture(rel);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	struct dirent *de;
	size_t checked = 0, failed = 0;
	while ((de = readdir(d))) {
		const char *s = strstr(de->d_name, ".expected.json");
		if (!s || s[14] != '\0') {
			continue;
		}
		char *fixture = strndup(de->d_name, (size_t)(s - de->d_name));
		checked++;
		if (!check_fixture(dir, fixture, f)) {
			failed++;
		}
		free(fixture);
	}
	closedir(d);
	cr_expect_gt(checked, 0, "%s: no fixtures", name);
	cr_expect_eq(failed, 0, "%s: %zu of %zu fixtures do not match their goldens", name, failed,
		     checked);
	free(dir);
	free(rel);
}

#define GOLDEN_TEST(id, idx)                                         \
	Test(lockfiles, golden_##id)                                 \
	{                                                            \
		check_folder(folders[idx].dir, folders[idx].format); \
	}

GOLDEN_TEST(npm, 0)
GOLDEN_TEST(yarn, 1)
GOLDEN_TEST(pnpm, 2)
GOLDEN_TEST(pip, 3)
GOLDEN_TEST(poetry, 4)
GOLDEN_TEST(pipenv, 5)
GOLDEN_TEST(go, 6)
GOLDEN_TEST(cargo, 7)
GOLDEN_TEST(bundler, 8)
GOLDEN_TEST(composer, 9)
GOLDEN_TEST(maven, 10)
GOLDEN_TEST(gradle, 11)
GOLDEN_TEST(nuget, 12)
GOLDEN_TEST(conan, 13)
GOLDEN_TEST(pub, 14)
GOLDEN_TEST(mix, 15)

/*
 * Lockfiles the package managers wrote themselves (tests/fixtures/npm-tools: npm 11 in
 * lockfile versions 1 to 3, yarn 1 and 4, pnpm 7 to 9, bun 1), one project a directory;
 * each lockfile's golden is what the tool installed for it (its README).
 */
Test(lockfiles, golden_npm_tools)
{
	char *root = tu_fixture("npm-tools");
	DIR *d = opendir(root);
	cr_assert_not_null(d, "%s", root);
	struct dirent *de;
	size_t checked = 0, failed = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.') {
			continue;
		}
		char *dir;
		if (asprintf(&dir, "%s/%s", root, de->d_name) < 0) {
			abort();
		}
		static const char *const locks[] = { "package-lock.json", "yarn.lock",
						     "pnpm-lock.yaml", "bun.lock" };
		for (size_t i = 0; i < ARRAY_SIZE(locks); i++) {
			char *golden;
			enum dep_format f;
			if (asprintf(&golden, "%s/%s.expected.json", dir, locks[i]) < 0) {
				abort();
			}
			if (access(golden, F_OK) == 0) {
				cr_assert_eq(dep_format_detect(locks[i], &f), 0);
				checked++;
				if (!check_fixture(dir, locks[i], f)) {
					cr_log_error("in %s", de->d_name);
					failed++;
				}
			}
			free(golden);
		}
		free(dir);
	}
	closedir(d);
	cr_expect_geq(checked, 30, "only %zu lockfiles", checked);
	cr_expect_eq(failed, 0, "%zu of %zu lockfiles do not match their goldens", failed, checked);
	free(root);
}

/* ---------- go.mod and go.sum (fixtures of our own: tests/fixtures/gosum) ---------- */

/* The package name@version of a list, or NULL. */
static const struct dep *find_dep(const struct dep_list *l, const char *name, const char *version)
{
	for (size_t i = 0; i < l->n; i++) {
		if (str_eq(l->v[i].name, name) && str_eq(l->v[i].version, version)) {
			return &l->v[i];
		}
	}
	return NULL;
}

static bool has_name(const struct dep_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (str_eq(l->v[i].name, name)) {
			return true;
		}
	}
	return false;
}

Test(lockfiles, go_mod_replace_before_require)
{
	/* Go reads the whole file before applying replace: its place does not matter. */
	static const char mod[] = "module m\n\ngo 1.21\n\n"
				  "replace a.example/x => b.example/y v1.0.0\n\n"
				  "require a.example/x v0.1.0\n";
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	cr_assert_eq(deps_parse_buffer(&l, DEP_GO_MOD, "go.mod", mod, strlen(mod), &dl), 0);
	const struct dep *d = find_dep(&l, "b.example/y", "1.0.0");
	cr_assert_not_null(d);
	cr_expect_eq(d->line, 5);
	cr_expect(!has_name(&l, "a.example/x"));
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* Parse tests/fixtures/gosum/<dir>/go.mod as the walk would (display "<dir>/go.mod"). */
static int parse_gosum_fixture(struct dep_list *l, struct diag_list *dl, const char *dir)
{
	char *rel, *path, *display;
	if (asprintf(&rel, "gosum/%s/go.mod", dir) < 0 ||
	    asprintf(&display, "%s/go.mod", dir) < 0) {
		abort();
	}
	path = tu_fixture(rel);
	dep_list_init(l);
	diag_list_init(dl, 20);
	int r = deps_parse_file(l, path, display, DEP_GO_MOD, dl);
	free(rel);
	free(path);
	free(display);
	return r;
}

static void expect_dep(const struct dep_list *l, const char *name, const char *version,
		       const char *file, unsigned line)
{
	const struct dep *d = find_dep(l, name, version);
	cr_assert_not_null(d, "%s@%s is missing", name, version);
	cr_expect_eq(d->eco, ECO_GO);
	cr_expect_str_eq(d->file, file, "%s@%s", name, version);
	cr_expect_eq(d->line, line, "%s@%s: line %u, not %u", name, version, d->line, line);
}

Test(lockfiles, go_sum_completes_a_go_mod_below_1_17)
{
	struct dep_list l;
	struct diag_list dl;
	int r = parse_gosum_fixture(&l, &dl, "go116");
	cr_assert_eq(r, 0, "%s", dl.n ? dl.v[0].msg : "?");
	/* go.mod's own packages, its version winning over go.sum's. */
	expect_dep(&l, "github.com/gin-gonic/gin", "1.7.7", "go116/go.mod", 6);
	expect_dep(&l, "golang.org/x/text", "0.3.7", "go116/go.mod", 7);
	expect_dep(&l, "stdlib", "1.16", "go116/go.mod", 3);
	/* Indirect modules from go.sum: the highest version with a content hash, its line. */
	expect_dep(&l, "github.com/gin-contrib/sse", "0.1.0", "go116/go.sum", 1);
	expect_dep(&l, "github.com/go-playground/validator/v10", "10.10.0", "go116/go.sum", 8);
	expect_dep(&l, "golang.org/x/sys", "0.0.0-20210806184541-e5e7981a1069", "go116/go.sum", 18);
	expect_dep(&l, "gopkg.in/yaml.v2", "2.4.0", "go116/go.sum", 22);
	/* A replaced module is not built: its replacement is, as go.mod reports it. */
	expect_dep(&l, "example.com/codec-fork", "1.2.8", "go116/go.mod", 10);
	cr_expect(!has_name(&l, "github.com/ugorji/go/codec"));
	/* Only /go.mod hashes: read for the module graph, not built. */
	cr_expect(!has_name(&l, "github.com/golang/protobuf"));
	cr_expect_eq(l.n, 8, "%zu packages", l.n);
	/* One file read: the go.mod (go.sum is part of it). */
	cr_expect_eq(l.n_files, 1);
	cr_expect_eq(l.files[0].packages, 8);
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, go_sum_is_not_read_from_go_1_17)
{
	struct dep_list l;
	struct diag_list dl;
	int r = parse_gosum_fixture(&l, &dl, "go121");
	cr_assert_eq(r, 0, "%s", dl.n ? dl.v[0].msg : "?");
	expect_dep(&l, "github.com/gin-gonic/gin", "1.9.1", "go121/go.mod", 5);
	expect_dep(&l, "stdlib", "1.21", "go121/go.mod", 3);
	cr_expect(!has_name(&l, "gopkg.in/yaml.v2"));
	cr_expect_eq(l.n, 2);
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, go_sum_malformed_line_names_go_sum_and_line)
{
	struct dep_list l;
	struct diag_list dl;
	int r = parse_gosum_fixture(&l, &dl, "malformed");
	cr_assert_eq(r, -EINVAL);
	cr_assert_eq(dl.errors, 1);
	cr_expect_str_eq(dl.v[0].file, "malformed/go.sum");
	cr_expect_eq(dl.v[0].line, 3);
	cr_expect_eq(l.n, 0, "a failed file contributes nothing");
	cr_expect_eq(l.n_files, 0);
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* go.mod and go.sum as buffers: r, and the packages or the first error's line. */
static int parse_go_pair(struct dep_list *l, struct diag_list *dl, const char *mod, const char *sum)
{
	dep_list_init(l);
	diag_list_init(dl, 20);
	return deps_parse_go_buffers(l, "go.mod", mod, strlen(mod), "go.sum", sum,
				     sum ? strlen(sum) : 0, dl);
}

Test(lockfiles, go_sum_rules)
{
	static const char sum[] = "a.example/x v1.0.0 h1:AAAA=\n\n"
				  "a.example/x v1.0.0/go.mod h1:BBBB=\r\n"
				  "a.example/y\tv2.0.0+incompatible  h1:CCCC=\n";
	struct dep_list l;
	struct diag_list dl;
	/* No go directive: the build list may be incomplete, go.sum is read. */
	cr_assert_eq(parse_go_pair(&l, &dl, "module m\n", sum), 0);
	expect_dep(&l, "a.example/x", "1.0.0", "go.sum", 1);
	expect_dep(&l, "a.example/y", "2.0.0+incompatible", "go.sum", 4);
	cr_expect_eq(l.n, 2);
	dep_list_release(&l);
	diag_list_release(&dl);
	/* go 1.17 exactly, and a later release candidate: go.mod is complete. */
	static const char *const complete[] = { "go 1.17\n", "go 1.17.0\n", "go 1.21rc1\n",
						"go 1.100\n" };
	for (size_t i = 0; i < ARRAY_SIZE(complete); i++) {
		cr_assert_eq(parse_go_pair(&l, &dl, complete[i], sum), 0);
		cr_expect(!has_name(&l, "a.example/x"), "%s", complete[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	/* Below 1.17 (a release candidate of 1.17 included), or not a version: read. */
	static const char *const partial[] = { "go 1.16\n", "go 1.9\n", "go 1.17rc1\n",
					       "go devel\n" };
	for (size_t i = 0; i < ARRAY_SIZE(partial); i++) {
		cr_assert_eq(parse_go_pair(&l, &dl, partial[i], sum), 0);
		cr_expect(has_name(&l, "a.example/x"), "%s", partial[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	/* A replace of one version only: another version in go.sum is built as it is. */
	cr_assert_eq(parse_go_pair(&l, &dl, "go 1.16\nreplace a.example/x v0.9.0 => ./x\n", sum),
		     0);
	expect_dep(&l, "a.example/x", "1.0.0", "go.sum", 1);
	dep_list_release(&l);
	diag_list_release(&dl);
	/* An excluded version is never the one chosen: the next highest in go.sum is. */
	static const char two[] = "a.example/x v1.0.0 h1:AAAA=\na.example/x v1.1.0 h1:DDDD=\n";
	cr_assert_eq(parse_go_pair(&l, &dl, "go 1.16\nexclude a.example/x v1.1.0\n", two), 0);
	expect_dep(&l, "a.example/x", "1.0.0", "go.sum", 1);
	cr_expect_eq(l.n, 2, "a.example/x once, and stdlib");
	dep_list_release(&l);
	diag_list_release(&dl);
	cr_assert_eq(parse_go_pair(&l, &dl, "go 1.16\nexclude (\n\ta.example/x v1.1.0\n)\n", two),
		     0);
	expect_dep(&l, "a.example/x", "1.0.0", "go.sum", 1);
	dep_list_release(&l);
	diag_list_release(&dl);
	cr_assert_eq(parse_go_pair(&l, &dl, "go 1.16\nexclude a.example/x v1.0.0\n", two), 0);
	expect_dep(&l, "a.example/x", "1.1.0", "go.sum", 2);
	dep_list_release(&l);
	diag_list_release(&dl);
	cr_assert_eq(parse_go_pair(&l, &dl, "go 1.16\nexclude a.example/x\n", two), -EINVAL);
	dep_list_release(&l);
	diag_list_release(&dl);
	/* A local replacement has no version (unchecked), as for a required module. */
	cr_assert_eq(parse_go_pair(&l, &dl, "go 1.16\nreplace a.example/x => ../x\n", sum), 0);
	expect_dep(&l, "../x", "", "go.mod", 2);
	cr_expect(!has_name(&l, "a.example/x"));
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, go_sum_malformed_lines)
{
	static const struct {
		const char *sum;
		unsigned line;
	} bad[] = {
		{ "a.example/x v1.0.0 h1:AAAA=\na.example/x v1.0.0\n", 2 },
		{ "a.example/x v1.0.0 h1:AAAA= extra\n", 1 },
		{ "\n\na.example/x 1.0.0 h1:AAAA=\n", 3 },
		{ "a.example/x /go.mod h1:AAAA=\n", 1 },
		{ "a.example/x v1.0.0 AAAA\n", 1 },
		{ "a.example/x v1.0.0 h1:\n", 1 },
		{ "a.example/x v1.0.0 h1:AA\0A=\n", 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		/* sizeof: the NUL byte case has one inside. */
		size_t n = i + 1 == ARRAY_SIZE(bad) ? sizeof("a.example/x v1.0.0 h1:AA\0A=\n") - 1
						    : strlen(bad[i].sum);
		int r = deps_parse_go_buffers(&l, "m/go.mod", "go 1.16\n", 8, "m/go.sum",
					      bad[i].sum, n, &dl);
		cr_expect_eq(r, -EINVAL, "case %zu", i);
		cr_expect(dl.n > 0 && str_eq(dl.v[0].file, "m/go.sum"), "case %zu", i);
		cr_expect(dl.n > 0 && dl.v[0].line == bad[i].line, "case %zu: line %u", i,
			  dl.n ? dl.v[0].line : 0);
		cr_expect_eq(l.n, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* A lockfile is named the same however its path was spelled ("./svc", "svc/", "svc//"):
 * the name is compared byte for byte with others (a fork's changed files). */
Test(lockfiles, lockfile_names_do_not_depend_on_the_spelling_of_paths)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "svc/go.mod", "module m\n\ngo 1.21\n");
	char *spellings[] = { tu_strf("%s/svc", dir), tu_strf("%s/./svc", dir),
			      tu_strf("%s/svc/", dir), tu_strf("%s//svc//", dir),
			      tu_strf("%s/svc/./go.mod", dir) };
	for (size_t i = 0; i < 5; i++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		const char *paths[] = { spellings[i] };
		cr_assert_eq(deps_scan_paths(&l, dir, paths, 1, &dl), 0, "%s",
			     dl.n ? dl.v[0].msg : "");
		cr_assert_eq(l.n_files, 1, "%s", spellings[i]);
		cr_expect_str_eq(l.files[0].path, "svc/go.mod", "%s", spellings[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(spellings[i]);
	}
	tu_rmdir(dir);
	free(dir);
}

Test(lockfiles, go_sum_on_disk_found_only_through_go_mod)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "a/go.mod", "module m\n\ngo 1.16\n");
	tu_write(dir, "a/go.sum", "a.example/x v1.0.0 h1:AAAA=\n");
	tu_write(dir, "b/go.sum", "a.example/z v1.0.0 h1:AAAA=\n");
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	/* The walk: one lockfile (a/go.mod, with its go.sum); b/go.sum alone is nothing. */
	const char *paths[] = { dir };
	cr_assert_eq(deps_scan_paths(&l, dir, paths, 1, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n_files, 1);
	cr_expect_str_eq(l.files[0].path, "a/go.mod");
	expect_dep(&l, "a.example/x", "1.0.0", "a/go.sum", 1);
	cr_expect(!has_name(&l, "a.example/z"));
	cr_expect_eq(dl.n, 0);
	dep_list_release(&l);
	diag_list_release(&dl);

	/* Named on its own, a go.sum is an error that says to name its go.mod. */
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *p;
	cr_assert_geq(asprintf(&p, "%s/a/go.sum", dir), 0);
	const char *one[] = { p };
	cr_expect_eq(deps_scan_paths(&l, dir, one, 1, &dl), -EINVAL);
	cr_assert_eq(dl.n, 1);
	cr_expect_str_eq(dl.v[0].file, "a/go.sum");
	cr_expect_not_null(strstr(dl.v[0].hint, "go.mod"));
	cr_expect_eq(l.n, 0);
	free(p);
	dep_list_release(&l);
	diag_list_release(&dl);

	/* A go.sum that is a symbolic link or a FIFO is refused, never followed or waited on. */
	static const char *const kinds[] = { "symlink", "fifo" };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *gs;
		cr_assert_geq(asprintf(&gs, "%s/a/go.sum", dir), 0);
		unlink(gs);
		if (i == 0) {
			cr_assert_eq(symlink("/etc/hostname", gs), 0);
		} else {
			cr_assert_eq(mkfifo(gs, 0600), 0);
		}
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), -EINVAL, "%s", kinds[i]);
		cr_expect(dl.n == 1 && str_eq(dl.v[0].file, "a/go.sum"), "%s", kinds[i]);
		cr_expect_eq(l.n, 0, "%s", kinds[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(gs);
	}
	tu_rmdir(dir);
	free(dir);
}

/* ---------- lines ---------- */

/* Parse tests/fixtures/lockfiles/<rel> (display: rel). */
static int parse_lockfile_fixture(struct dep_list *l, struct diag_list *dl, const char *rel,
				  enum dep_format f)
{
	char *frel = tu_strf("lockfiles/%s", rel);
	char *path = tu_fixture(frel);
	dep_list_init(l);
	diag_list_init(dl, 20);
	int r = deps_parse_file(l, path, rel, f, dl);
	free(frel);
	free(path);
	return r;
}

static void expect_line(const struct dep_list *l, const char *name, const char *version,
			const char *file, unsigned line)
{
	const struct dep *d = find_dep(l, name, version);
	cr_assert_not_null(d, "%s@%s is missing", name, version);
	cr_expect_str_eq(d->file, file, "%s@%s: file %s, not %s", name, version, d->file, file);
	cr_expect_eq(d->line, line, "%s@%s: line %u, not %u", name, version, d->line, line);
}

/*
 * Each expected line was read off the fixture with grep -n: the line that declares the
 * package (npm: its key, yarn: its entry's header, pip: the requirement, Cargo: the
 * [[package]] header, Maven: <version>, Gemfile.lock: its spec under specs:).
 */
static const struct line_case {
	const char *fixture;
	enum dep_format format;
	const char *name, *version, *file;
	unsigned line;
} line_cases[] = {
	{ "npm/two-packages.v2.json", DEP_NPM_LOCK, "wrappy", "1.0.2", NULL, 13 },
	{ "npm/two-packages.v2.json", DEP_NPM_LOCK, "supports-color", "5.5.0", NULL, 18 },
	{ "npm/scoped-packages.v1.json", DEP_NPM_LOCK, "@babel/code-frame", "7.0.0", NULL, 5 },
	{ "npm/scoped-packages.v1.json", DEP_NPM_LOCK, "wrappy", "1.0.2", NULL, 13 },
	{ "yarn/two-packages.v1.lock", DEP_YARN_LOCK, "concat-map", "0.0.1", NULL, 5 },
	{ "yarn/two-packages.v1.lock", DEP_YARN_LOCK, "concat-stream", "1.6.2", NULL, 10 },
	{ "yarn/scoped-packages.v2.lock", DEP_YARN_LOCK, "@babel/cli", "7.16.8", NULL, 8 },
	{ "yarn/scoped-packages.v2.lock", DEP_YARN_LOCK, "@babel/code-frame", "7.16.7", NULL, 35 },
	{ "pip/file-format-example.txt", DEP_REQUIREMENTS, "docopt", "0.6.1", NULL, 9 },
	{ "pip/file-format-example.txt", DEP_REQUIREMENTS, "keyring", "4.1.1", NULL, 10 },
	{ "pip/file-format-example.txt", DEP_REQUIREMENTS, "rejected", "0.0.0", NULL, 23 },
	/* From the -r include (line 15): its own file and line. */
	{ "pip/file-format-example.txt", DEP_REQUIREMENTS, "django", "2.2.24", "pip/other-file.txt",
	  1 },
	/* A continued line is reported at its first physical line. */
	{ "pip/line-continuation.txt", DEP_REQUIREMENTS, "foo", "1.2.3", NULL, 2 },
	{ "pip/line-continuation.txt", DEP_REQUIREMENTS, "qux", "10.11.12", NULL, 17 },
	{ "cargo/two-packages.lock", DEP_CARGO_LOCK, "addr2line", "0.15.2", NULL, 5 },
	{ "cargo/two-packages.lock", DEP_CARGO_LOCK, "syn", "1.0.73", NULL, 14 },
	{ "maven/two-packages.xml", DEP_POM_XML, "io.netty:netty-all", "4.1.42.Final", NULL, 10 },
	{ "maven/two-packages.xml", DEP_POM_XML, "org.slf4j:slf4j-log4j12", "1.7.25", NULL, 15 },
	{ "maven/interpolation.xml", DEP_POM_XML, "org.mine:mypackage", "1.0.0", NULL, 21 },
	{ "maven/interpolation.xml", DEP_POM_XML, "org.mine:ranged-package", "9.4.35.v20201120",
	  NULL, 36 },
	/* pry's own requirement "coderay (~> 1.1)" (line 7) is not coderay's line. */
	{ "bundler/some-gems.lock", DEP_GEMFILE_LOCK, "coderay", "1.1.3", NULL, 4 },
	{ "bundler/some-gems.lock", DEP_GEMFILE_LOCK, "pry", "0.14.1", NULL, 6 },
};

Test(lockfiles, lines_of_named_packages)
{
	for (size_t i = 0; i < ARRAY_SIZE(line_cases); i++) {
		const struct line_case *c = &line_cases[i];
		struct dep_list l;
		struct diag_list dl;
		int r = parse_lockfile_fixture(&l, &dl, c->fixture, c->format);
		cr_assert_eq(r, 0, "%s: %s", c->fixture, dl.n ? dl.v[0].msg : "?");
		expect_line(&l, c->name, c->version, c->file ? c->file : c->fixture, c->line);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* ---------- detection by file name ---------- */

/* No name of names is taken for a lockfile, and nothing is written to the format. */
static void expect_undetected(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum dep_format f = DEP_FORMAT_COUNT;
		cr_expect_eq(dep_format_detect(names[i], &f), -ENOENT, "'%s' detected as %s",
			     names[i], dep_format_name(f));
		cr_expect_eq(f, DEP_FORMAT_COUNT, "'%s': out written", names[i]);
	}
}

Test(lockfiles, detect_by_file_name)
{
	static const struct {
		const char *name;
		enum dep_format f;
	} known[] = {
		{ "package-lock.json", DEP_NPM_LOCK },
		{ "npm-shrinkwrap.json", DEP_NPM_LOCK },
		{ "yarn.lock", DEP_YARN_LOCK },
		{ "pnpm-lock.yaml", DEP_PNPM_LOCK },
		{ "requirements.txt", DEP_REQUIREMENTS },
		{ "requirements-dev.txt", DEP_REQUIREMENTS },
		{ "requirements_test.txt", DEP_REQUIREMENTS },
		{ "requirements.prod.txt", DEP_REQUIREMENTS },
		{ "poetry.lock", DEP_POETRY_LOCK },
		{ "Pipfile.lock", DEP_PIPFILE_LOCK },
		{ "go.mod", DEP_GO_MOD },
		{ "Cargo.lock", DEP_CARGO_LOCK },
		{ "Gemfile.lock", DEP_GEMFILE_LOCK },
		{ "gems.locked", DEP_GEMFILE_LOCK },
		{ "composer.lock", DEP_COMPOSER_LOCK },
		{ "pom.xml", DEP_POM_XML },
		{ "gradle.lockfile", DEP_GRADLE_LOCK },
		{ "buildscript-gradle.lockfile", DEP_GRADLE_LOCK },
		{ "packages.lock.json", DEP_NUGET_LOCK },
		{ "conan.lock", DEP_CONAN_LOCK },
		{ "pubspec.lock", DEP_PUBSPEC_LOCK },
		{ "mix.lock", DEP_MIX_LOCK },
		{ "uv.lock", DEP_UV_LOCK },
		{ "bun.lock", DEP_BUN_LOCK },
		/* The last path component decides. */
		{ "web/app/package-lock.json", DEP_NPM_LOCK },
		{ "/abs/path/to/Cargo.lock", DEP_CARGO_LOCK },
		{ "svc/requirements-ci.txt", DEP_REQUIREMENTS },
		/* pip's requirements files by other names: a name that says so, or a *.txt
		 * directly inside a directory named requirements (cookiecutter-django). */
		{ "dev-requirements.txt", DEP_REQUIREMENTS },
		{ "test-requirements.txt", DEP_REQUIREMENTS },
		{ "requirements/base.txt", DEP_REQUIREMENTS },
		{ "requirements/production.txt", DEP_REQUIREMENTS },
		{ "/srv/app/requirements/local.txt", DEP_REQUIREMENTS },
		{ "py/requirements/requirements-ci.txt", DEP_REQUIREMENTS },
	};
	bool covered[DEP_FORMAT_COUNT] = { false };
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		enum dep_format f = DEP_FORMAT_COUNT;
		cr_expect_eq(dep_format_detect(known[i].name, &f), 0, "%s", known[i].name);
		cr_expect_eq(f, known[i].f, "%s: %s, not %s", known[i].name, dep_format_name(f),
			     dep_format_name(known[i].f));
		covered[known[i].f] = true;
	}
	for (unsigned i = 0; i < DEP_FORMAT_COUNT; i++) {
		cr_expect(covered[i], "format %s has no file name in this test",
			  dep_format_name((enum dep_format)i));
	}
	/* Manifests that are not lockfiles, near misses, and what go.sum is (read only
	 * through its go.mod). */
	static const char *const none[] = {
		"package.json",
		"Package-Lock.json",
		"package-lock.json.bak",
		"Gemfile",
		"Cargo.toml",
		"Pipfile",
		"pyproject.toml",
		"composer.json",
		"build.gradle",
		"go.sum",
		"bun.lockb", /* bun's binary lockfile: refused by the walk, never parsed */
		"uv.toml",
		"requirements.in",
		"requirements/base.in",
		"requirements/sub/base.txt",
		"requirements/",
		"requirements",
		"requirements-txt",
		"my-requirements/base.txt",
		"docs/base.txt",
		"base.txt",
		"requirements.txt/x",
		"pom.xml.orig",
		"README.md",
		"",
		"lockfiles/",
		"yarn.lock.d/readme",
	};
	expect_undetected(none, ARRAY_SIZE(none));
	/* Short names round-trip. */
	for (unsigned i = 0; i < DEP_FORMAT_COUNT; i++) {
		enum dep_format f = DEP_FORMAT_COUNT;
		cr_expect_eq(dep_format_parse(dep_format_name((enum dep_format)i), &f), 0);
		cr_expect_eq(f, (enum dep_format)i);
	}
	enum dep_format f;
	cr_expect_eq(dep_format_parse("npm-lock", &f), -EINVAL);
}

/*
 * pip reads a requirements file by any name, and its names are a convention that people
 * type: on the case-insensitive file systems of macOS and Windows `Requirements.txt` or
 * `requirements-DEV.txt` works as well, and reaches the repository so. Those are found in
 * any case. The other lockfiles are named by the tools that write and read them, in one
 * case (npm, Cargo, Bundler... read `package-lock.json`, `Cargo.lock`, `Gemfile.lock` and
 * nothing else on Linux): another case is another file, not theirs.
 */
static void scan_tree(const char *dir, struct dep_list *l);

Test(lockfiles, detect_requirements_files_in_any_case_and_lockfiles_exactly)
{
	static const char *const requirements[] = {
		"Requirements.txt",
		"REQUIREMENTS.TXT",
		"requirements.TXT",
		"requirements-DEV.txt",
		"Dev-Requirements.txt",
		"svc/Test-Requirements.Txt",
		"Requirements/base.txt",
		"REQUIREMENTS/Production.TXT",
		"/srv/app/Requirements/local.txt",
	};
	for (size_t i = 0; i < ARRAY_SIZE(requirements); i++) {
		enum dep_format f = DEP_FORMAT_COUNT;
		cr_expect_eq(dep_format_detect(requirements[i], &f), 0, "%s", requirements[i]);
		cr_expect_eq(f, DEP_REQUIREMENTS, "%s: %s", requirements[i], dep_format_name(f));
	}
	static const char *const none[] = {
		"PACKAGE-LOCK.JSON",
		"Npm-Shrinkwrap.json",
		"Yarn.lock",
		"PNPM-LOCK.YAML",
		"Poetry.lock",
		"pipfile.lock",
		"PIPFILE.LOCK",
		"Go.mod",
		"GO.MOD",
		"cargo.lock",
		"CARGO.LOCK",
		"gemfile.lock",
		"Gems.locked",
		"Composer.lock",
		"POM.xml",
		"Pom.xml",
		"Gradle.lockfile",
		"Packages.lock.json",
		"Conan.lock",
		"Pubspec.lock",
		"Mix.lock",
		"UV.lock",
		"Bun.lock",
		"Requirements.in",
		"REQUIREMENTS.IN",
		"Requirements/sub/base.txt",
		"My-Requirements/base.txt",
		"Requirements/base.in",
	};
	expect_undetected(none, ARRAY_SIZE(none));

	/* A walk finds them so, and so does a path named (its directory's name too). */
	char *dir = tu_tmpdir();
	tu_write(dir, "Requirements.txt", "jinja2==2.8\n");
	tu_write(dir, "Requirements/Base.TXT", "six==1.16.0\n");
	tu_write(dir, "svc/requirements-DEV.txt", "flask==0.12\n");
	tu_write(dir, "svc/CARGO.LOCK", "not a lockfile\n");
	struct dep_list l;
	scan_tree(dir, &l);
	cr_expect_eq(l.n_files, 3, "%zu files", l.n_files);
	expect_line(&l, "jinja2", "2.8", "Requirements.txt", 1);
	expect_line(&l, "six", "1.16.0", "Requirements/Base.TXT", 1);
	expect_line(&l, "flask", "0.12", "svc/requirements-DEV.txt", 1);
	dep_list_release(&l);
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *named = tu_strf("%s/Requirements/Base.TXT", dir);
	const char *paths[] = { named };
	cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	expect_line(&l, "six", "1.16.0", "Requirements/Base.TXT", 1);
	dep_list_release(&l);
	diag_list_release(&dl);
	free(named);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- directory walks ---------- */

static const char npm_lock[] =
	"{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {},\n"
	"    \"node_modules/left-pad\": {\n      \"version\": \"1.3.0\"\n    }\n  }\n}\n";
static const char yarn_lock[] = "# yarn lockfile v1\n\n\nconcat-map@0.0.1:\n"
				"  version \"0.0.1\"\n";
static const char cargo_lock[] = "version = 3\n\n[[package]]\nname = \"syn\"\n"
				 "version = \"1.0.73\"\n";
static const char requirements[] = "# pinned\njinja2==2.8\n";
static const char gemfile_lock[] = "GEM\n  remote: https://rubygems.org/\n  specs:\n"
				   "    rake (13.0.6)\n";
static const char pom_xml[] = "<project>\n  <dependencies>\n    <dependency>\n"
			      "      <groupId>g</groupId>\n      <artifactId>a</artifactId>\n"
			      "      <version>1.0</version>\n    </dependency>\n"
			      "  </dependencies>\n</project>\n";

Test(lockfiles, walk_skips_node_modules_vendor_and_dot_directories)
{
	char *dir = tu_tmpdir();
	/* Found: at the top and nested. */
	tu_write(dir, "package-lock.json", npm_lock);
	tu_write(dir, "requirements.txt", requirements);
	tu_write(dir, "sub/yarn.lock", yarn_lock);
	tu_write(dir, "sub/deeper/Cargo.lock", cargo_lock);
	tu_write(dir, "sub/deeper/er/pom.xml", pom_xml);
	/* Not lockfiles. */
	tu_write(dir, "package.json", "{}\n");
	tu_write(dir, "sub/README.md", "yarn.lock\n");
	/* Skipped: copies under node_modules, vendor and dot-directories, at any depth. */
	tu_write(dir, "node_modules/x/package-lock.json", npm_lock);
	tu_write(dir, "node_modules/yarn.lock", yarn_lock);
	tu_write(dir, "vendor/y/Gemfile.lock", gemfile_lock);
	tu_write(dir, "vendor/requirements.txt", requirements);
	tu_write(dir, ".git/z/pom.xml", pom_xml);
	tu_write(dir, ".git/Cargo.lock", cargo_lock);
	tu_write(dir, ".venv/requirements.txt", requirements);
	tu_write(dir, "sub/node_modules/pkg/package-lock.json", npm_lock);
	tu_write(dir, "sub/vendor/Gemfile.lock", gemfile_lock);
	tu_write(dir, "sub/deeper/.git/yarn.lock", yarn_lock);
	/* A symbolic link to a directory is not followed (one with a lockfile's name is an
	 * error: walk_errs_on_lockfiles_that_are_links), nor is any other link. */
	char *link = tu_strf("%s/link", dir), *flink = tu_strf("%s/sub/notes.txt", dir),
	     *target = tu_strf("%s/vendor/y/Gemfile.lock", dir);
	cr_assert_eq(symlink("vendor", link), 0);
	cr_assert_eq(symlink(target, flink), 0);

	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	const char *paths[] = { dir };
	cr_assert_eq(deps_scan_paths(&l, dir, paths, 1, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(dl.n, 0);
	/* Exactly these, in the walk's (sorted) order, relative to the root. */
	static const struct {
		const char *path;
		enum dep_format f;
	} want[] = {
		{ "package-lock.json", DEP_NPM_LOCK },
		{ "requirements.txt", DEP_REQUIREMENTS },
		{ "sub/deeper/Cargo.lock", DEP_CARGO_LOCK },
		{ "sub/deeper/er/pom.xml", DEP_POM_XML },
		{ "sub/yarn.lock", DEP_YARN_LOCK },
	};
	cr_assert_eq(l.n_files, ARRAY_SIZE(want), "%zu lockfiles", l.n_files);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cr_expect_str_eq(l.files[i].path, want[i].path);
		cr_expect_eq(l.files[i].format, want[i].f, "%s", want[i].path);
		cr_expect_eq(l.files[i].packages, 1, "%s", want[i].path);
	}
	cr_expect_eq(l.n, 5);
	expect_line(&l, "left-pad", "1.3.0", "package-lock.json", 5);
	expect_line(&l, "jinja2", "2.8", "requirements.txt", 2);
	expect_line(&l, "syn", "1.0.73", "sub/deeper/Cargo.lock", 3);
	expect_line(&l, "g:a", "1.0", "sub/deeper/er/pom.xml", 6);
	expect_line(&l, "concat-map", "0.0.1", "sub/yarn.lock", 4);
	cr_expect(!has_name(&l, "rake"));
	dep_list_release(&l);
	diag_list_release(&dl);

	/* A subdirectory as the path: displayed relative to the root all the same. */
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *sub = tu_strf("%s/sub", dir);
	const char *subs[] = { sub };
	cr_assert_eq(deps_scan_paths(&l, dir, subs, 1, &dl), 0);
	cr_assert_eq(l.n_files, 3);
	cr_expect_str_eq(l.files[0].path, "sub/deeper/Cargo.lock");
	cr_expect_str_eq(l.files[1].path, "sub/deeper/er/pom.xml");
	cr_expect_str_eq(l.files[2].path, "sub/yarn.lock");
	dep_list_release(&l);
	diag_list_release(&dl);

	/* Named explicitly, a lockfile under node_modules is read: only walks skip. */
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *nm = tu_strf("%s/node_modules/x/package-lock.json", dir);
	const char *one[] = { nm };
	cr_assert_eq(deps_scan_paths(&l, dir, one, 1, &dl), 0);
	cr_assert_eq(l.n_files, 1);
	cr_expect_str_eq(l.files[0].path, "node_modules/x/package-lock.json");
	dep_list_release(&l);
	diag_list_release(&dl);

	/* A fork's changes are read wherever they lie, and only they: the rest of a skipped
	 * directory stays skipped, .git too. */
	static const char *const changed[] = { ".git/Cargo.lock", ".venv/requirements.txt",
					       "sub/vendor/Gemfile.lock", "vendor/y/Gemfile.lock" };
	struct deps_walk_opts wo = { .must_scan = changed, .n_must_scan = ARRAY_SIZE(changed) };
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	cr_assert_eq(deps_scan_paths_opts(&l, dir, paths, 1, &wo, &dl), 0);
	static const char *const with_changes[] = {
		".venv/requirements.txt", "package-lock.json",	   "requirements.txt",
		"sub/deeper/Cargo.lock",  "sub/deeper/er/pom.xml", "sub/vendor/Gemfile.lock",
		"sub/yarn.lock",	  "vendor/y/Gemfile.lock",
	};
	cr_assert_eq(l.n_files, ARRAY_SIZE(with_changes), "%zu lockfiles", l.n_files);
	for (size_t i = 0; i < ARRAY_SIZE(with_changes); i++) {
		cr_expect_str_eq(l.files[i].path, with_changes[i]);
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	/* Changes that cannot be listed: every skipped directory is walked but .git. */
	struct deps_walk_opts all = { .enter_skipped = true };
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	cr_assert_eq(deps_scan_paths_opts(&l, dir, paths, 1, &all, &dl), 0);
	for (size_t i = 0; i < l.n_files; i++) {
		cr_expect(strstr(l.files[i].path, ".git/") == NULL, "%s", l.files[i].path);
	}
	cr_expect_eq(l.n_files, ARRAY_SIZE(want) + 7, "%zu lockfiles", l.n_files);
	dep_list_release(&l);
	diag_list_release(&dl);

	free(nm);
	free(sub);
	free(link);
	free(flink);
	free(target);
	tu_rmdir(dir);
	free(dir);
}

static size_t count_dep(const struct dep_list *l, const char *name, const char *version);

/* A walk reads pip's requirements files by every name detect_by_file_name gives them, in
 * the directory named requirements too, also when the walk starts inside it ("."). */
static void scan_tree(const char *dir, struct dep_list *l);

Test(lockfiles, walk_finds_requirements_files_by_other_names)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "requirements/base.txt", "django==4.2.1\n");
	tu_write(dir, "requirements/production.txt", "-r base.txt\ngunicorn==21.2.0\n");
	tu_write(dir, "requirements/sub/notes.txt", "not==1.0\n");
	tu_write(dir, "test-requirements.txt", "pytest==7.4.0\n");
	tu_write(dir, "dev-requirements.txt", "black==23.7.0\n");
	tu_write(dir, "requirements-dev.txt", "ruff==0.0.280\n");
	tu_write(dir, "docs/base.txt", "sphinx==7.1.0\n");
	tu_write(dir, "requirements.in", "django\n");
	/* In the walk's order: a directory's entries sorted by name. */
	static const char *const want[] = {
		"dev-requirements.txt", "requirements/base.txt", "requirements/production.txt",
		"requirements-dev.txt", "test-requirements.txt",
	};
	struct dep_list l;
	scan_tree(dir, &l);
	cr_assert_eq(l.n_files, ARRAY_SIZE(want), "%zu files", l.n_files);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cr_expect_str_eq(l.files[i].path, want[i]);
		cr_expect_eq(l.files[i].format, DEP_REQUIREMENTS, "%s", want[i]);
	}
	expect_line(&l, "django", "4.2.1", "requirements/base.txt", 1);
	expect_line(&l, "gunicorn", "21.2.0", "requirements/production.txt", 2);
	expect_line(&l, "pytest", "7.4.0", "test-requirements.txt", 1);
	expect_line(&l, "black", "23.7.0", "dev-requirements.txt", 1);
	expect_line(&l, "ruff", "0.0.280", "requirements-dev.txt", 1);
	cr_expect(!has_name(&l, "not") && !has_name(&l, "sphinx"));
	/* production.txt includes base.txt, which the walk read already: once, on its line
	 * (a_requirements_file_reached_twice_is_read_once). */
	cr_expect_eq(count_dep(&l, "django", "4.2.1"), 1);
	dep_list_release(&l);

	/* From inside the directory, and naming one of its files alone. */
	char *reqs = tu_strf("%s/requirements", dir);
	cr_assert_eq(chdir(reqs), 0);
	struct diag_list dl;
	for (int i = 0; i < 2; i++) {
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		const char *paths[] = { i ? "base.txt" : "." };
		cr_assert_eq(deps_scan_paths(&l, ".", paths, 1, &dl), 0, "%s",
			     dl.n ? dl.v[0].msg : "");
		cr_expect_eq(l.n_files, i ? 1 : 2, "%s: %zu files", paths[0], l.n_files);
		expect_line(&l, "django", "4.2.1", "base.txt", 1);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	free(reqs);
	tu_rmdir(dir);
	free(dir);
}

/* How many packages name@version l lists. */
static size_t count_dep(const struct dep_list *l, const char *name, const char *version)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++) {
		n += str_eq(l->v[i].name, name) && str_eq(l->v[i].version, version);
	}
	return n;
}

/*
 * A requirements file that a scan reaches more than once (found by its name and included
 * by another with -r or -c, directly or through a file that includes it, or named twice)
 * is read once: each of its packages is listed once, on its own file and line, and the
 * file once, with the packages it declares; whichever way the scan reaches it first.
 */
Test(lockfiles, a_requirements_file_reached_twice_is_read_once)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "requirements.txt",
		 "-r requirements/production.txt\n-c requirements/constraints.txt\nflask==0.12\n");
	tu_write(dir, "requirements/production.txt", "-r ./base.txt\ngunicorn==21.2.0\n");
	tu_write(dir, "requirements/base.txt", "# shared\ndjango==4.2.1\n");
	tu_write(dir, "requirements/constraints.txt", "urllib3==1.26.0\n");
	tu_write(dir, "requirements/local.txt", "--requirement=base.txt\n-cconstraints.txt\n");
	static const struct {
		const char *name, *version, *file;
		unsigned line;
	} want[] = {
		{ "flask", "0.12", "requirements.txt", 3 },
		{ "gunicorn", "21.2.0", "requirements/production.txt", 2 },
		{ "django", "4.2.1", "requirements/base.txt", 2 },
		{ "urllib3", "1.26.0", "requirements/constraints.txt", 1 },
	};
	static const struct {
		const char *path;
		size_t packages;
	} files[] = {
		{ "requirements.txt", 1 },	 { "requirements/production.txt", 1 },
		{ "requirements/base.txt", 1 },	 { "requirements/constraints.txt", 1 },
		{ "requirements/local.txt", 0 },
	};
	/* The walk alone (it reads requirements/ first), the including file first, a file
	 * that includes from the middle first, and a file named again after the walk. */
	static const char *const orders[][3] = {
		{ ".", NULL },
		{ "requirements.txt", ".", NULL },
		{ "requirements/local.txt", ".", NULL },
		{ ".", "requirements/base.txt", "requirements.txt" },
	};
	for (size_t o = 0; o < ARRAY_SIZE(orders); o++) {
		const char *paths[3];
		size_t n = 0;
		for (; n < 3 && orders[o][n]; n++) {
			paths[n] = tu_strf("%s/%s", dir, orders[o][n]);
		}
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_assert_eq(deps_scan_paths(&l, dir, paths, n, &dl), 0, "%s",
			     dl.n ? dl.v[0].msg : "");
		cr_expect_eq(l.n, ARRAY_SIZE(want), "order %zu: %zu packages", o, l.n);
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			cr_expect_eq(count_dep(&l, want[i].name, want[i].version), 1,
				     "order %zu: %s listed %zu times", o, want[i].name,
				     count_dep(&l, want[i].name, want[i].version));
			expect_line(&l, want[i].name, want[i].version, want[i].file, want[i].line);
		}
		cr_expect_eq(l.n_files, ARRAY_SIZE(files), "order %zu: %zu files", o, l.n_files);
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			size_t seen = 0, packages = 0;
			for (size_t k = 0; k < l.n_files; k++) {
				if (str_eq(l.files[k].path, files[i].path)) {
					seen++;
					packages = l.files[k].packages;
				}
			}
			cr_expect_eq(seen, 1, "order %zu: %s listed %zu times", o, files[i].path,
				     seen);
			cr_expect_eq(packages, files[i].packages, "order %zu: %s: %zu packages", o,
				     files[i].path, packages);
		}
		for (size_t i = 0; i < n; i++) {
			free((char *)paths[i]);
		}
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	tu_rmdir(dir);
	free(dir);
}

/* A lockfile that is a symbolic link is not followed, and not passed over either: the
 * scan fails, naming it, as it does for a go.sum that is one. */
Test(lockfiles, walk_errs_on_lockfiles_that_are_links)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "requirements.txt", requirements);
	tu_write(dir, "locks/npm.json", npm_lock);
	tu_write(dir, "node_modules/x/README", "x\n");
	char *flink = tu_strf("%s/sub/package-lock.json", dir),
	     *skipped = tu_strf("%s/node_modules/x/yarn.lock", dir),
	     *other = tu_strf("%s/sub/notes.json", dir), *fifo = tu_strf("%s/sub/yarn.lock", dir);
	tu_write(dir, "sub/Cargo.lock", cargo_lock);
	cr_assert_eq(symlink("../locks/npm.json", flink), 0);
	cr_assert_eq(symlink("../../locks/npm.json", skipped), 0);
	cr_assert_eq(symlink("../locks/npm.json", other), 0);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	const char *paths[] = { dir };
	cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), -EINVAL);
	cr_assert_eq(dl.n, 2, "%zu diagnostics", dl.n);
	cr_expect_eq(dl.errors, 2);
	cr_expect_str_eq(dl.v[0].file, "sub/package-lock.json");
	cr_expect(strstr(dl.v[0].msg, "is a symbolic link"), "%s", dl.v[0].msg);
	cr_expect_str_eq(dl.v[1].file, "sub/yarn.lock");
	cr_expect(strstr(dl.v[1].msg, "not a regular file"), "%s", dl.v[1].msg);
	/* The others are read all the same (the scan fails on the diagnostics). */
	cr_expect_eq(l.n_files, 2, "%zu lockfiles", l.n_files);
	cr_expect(!has_name(&l, "left-pad"));
	dep_list_release(&l);
	diag_list_release(&dl);
	free(flink);
	free(skipped);
	free(other);
	free(fifo);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- errors name the file ---------- */

/* A pom.xml saved as UTF-16 (with or without a byte order mark) is refused saying so, not
 * as "expected the root element". */
Test(lockfiles, pom_in_utf16_is_refused_as_utf16)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
		{ "\xFF\xFE<\0p\0r\0o\0j\0e\0c\0t\0/\0>\0\n\0", 24 },
		{ "\xFE\xFF\0<\0p\0r\0o\0j\0e\0c\0t\0/\0>\0\n", 24 },
		{ "<\0?\0x\0m\0l\0 \0?\0>\0", 16 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_expect_eq(
			deps_parse_buffer(&l, DEP_POM_XML, "pom.xml", bad[i].text, bad[i].len, &dl),
			-EINVAL, "case %zu", i);
		cr_assert_eq(dl.n, 1, "case %zu", i);
		cr_expect_not_null(strstr(dl.v[0].msg, "UTF-16"), "case %zu: %s", i, dl.v[0].msg);
		cr_expect_eq(l.n, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

Test(lockfiles, malformed_files_are_errors_that_name_the_file_and_line)
{
	static const struct {
		const char *path;
		const char *text;
		unsigned line;
		const char *says; /* in the message */
	} bad[] = {
		/* JSON: a trailing comma, seen at the '}' on line 7. */
		{ "web/package-lock.json",
		  "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {},\n"
		  "    \"node_modules/a\": {\n      \"version\": \"1.0.0\",\n    }\n  }\n}\n",
		  7, "malformed npm file: not valid JSON" },
		/* TOML: an unterminated string on line 8. */
		{ "crate/Cargo.lock",
		  "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n"
		  "[[package]]\nname = \"b\nversion = \"2.0.0\"\n",
		  8, "malformed cargo file: not valid TOML" },
		/* XML: a closing tag that does not match, on line 9. */
		{ "svc/pom.xml",
		  "<project>\n  <dependencies>\n    <dependency>\n"
		  "      <groupId>g</groupId>\n      <artifactId>a</artifactId>\n"
		  "      <version>1.0</version>\n    </dependency>\n  </dependencies>\n"
		  "</projetc>\n",
		  9, "malformed maven file" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *dir = tu_tmpdir();
		tu_write(dir, bad[i].path, bad[i].text);
		/* A good lockfile beside it is still read. */
		tu_write(dir, "ok/requirements.txt", requirements);
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		const char *paths[] = { dir };
		cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), -EINVAL, "%s", bad[i].path);
		cr_assert_eq(dl.n, 1, "%s: %zu diagnostics", bad[i].path, dl.n);
		cr_expect_eq(dl.errors, 1);
		cr_expect_str_eq(dl.v[0].file, bad[i].path);
		cr_expect_eq(dl.v[0].line, bad[i].line, "%s: line %u (%s)", bad[i].path,
			     dl.v[0].line, dl.v[0].msg);
		cr_expect_not_null(strstr(dl.v[0].msg, bad[i].says), "%s: %s", bad[i].path,
				   dl.v[0].msg);
		/* The malformed file contributes nothing, the good one its package. */
		cr_expect_eq(l.n_files, 1, "%s", bad[i].path);
		cr_expect_eq(l.n, 1, "%s", bad[i].path);
		cr_expect(!has_name(&l, "a") && !has_name(&l, "g:a"), "%s", bad[i].path);
		dep_list_release(&l);
		diag_list_release(&dl);

		/* The same as a buffer: the display name is the one given. */
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		enum dep_format f;
		cr_assert_eq(dep_format_detect(bad[i].path, &f), 0);
		cr_expect_eq(deps_parse_buffer(&l, f, bad[i].path, bad[i].text, strlen(bad[i].text),
					       &dl),
			     -EINVAL);
		cr_expect(dl.n == 1 && str_eq(dl.v[0].file, bad[i].path) &&
				  dl.v[0].line == bad[i].line,
			  "%s", bad[i].path);
		cr_expect_eq(l.n, 0);
		cr_expect_eq(l.n_files, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
		tu_rmdir(dir);
		free(dir);
	}
}

/*
 * An error about what a lockfile holds is at the line (and, where it is known, the
 * column) of what it names, never at line 0: a member of the wrong type, an entry
 * without its name, an array element of the wrong type, a key of a TOML root written
 * otherwise than as a table's header, text YAML cannot decode. Something missing is at
 * line 1, column 1. (Each was reported without a line, line 0, or at a made-up column.)
 */
Test(lockfiles, structural_errors_are_where_they_are)
{
	static const struct {
		enum dep_format f;
		const char *text;
		size_t len; /* 0: strlen(text) */
		unsigned line, col;
		const char *says;
	} bad[] = {
		{ DEP_NPM_LOCK,
		  "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": 1\n"
		  "  }\n}\n",
		  0, 4, 0, "packages[\"node_modules/a\"] is not an object" },
		{ DEP_NPM_LOCK, "{\n  \"dependencies\": {\n    \"a\": \"1.0.0\"\n  }\n}\n", 0, 3, 0,
		  "dependencies[\"a\"] is not an object" },
		{ DEP_NPM_LOCK, "{\n  \"packages\": []\n}\n", 0, 2, 0,
		  "\"packages\" is not an object" },
		{ DEP_NPM_LOCK, "{\n  \"dependencies\": 1\n}\n", 0, 2, 0,
		  "\"dependencies\" is not an object" },
		{ DEP_NUGET_LOCK, "{\n  \"dependencies\": {}\n}\n", 0, 1, 1,
		  "unsupported lock file version" },
		{ DEP_NUGET_LOCK, "{\n  \"version\": 1,\n  \"dependencies\": []\n}\n", 0, 3, 0,
		  "\"dependencies\" is not an object" },
		{ DEP_NUGET_LOCK,
		  "{\n  \"version\": 1,\n  \"dependencies\": {\n    \"net8.0\": []\n  }\n}\n", 0, 4,
		  0, "framework \"net8.0\" is not an object" },
		{ DEP_NUGET_LOCK,
		  "{\"version\": 1, \"dependencies\": {\"net8.0\": {\n  \"A\": 1\n}}}\n", 0, 2, 0,
		  "package \"A\" has no resolved version" },
		{ DEP_PIPFILE_LOCK, "{\n  \"default\": {\n    \"six\": \"==1.0\"\n  }\n}\n", 0, 3,
		  0, "default[\"six\"] is not an object" },
		{ DEP_COMPOSER_LOCK, "{\n  \"packages\": {}\n}\n", 0, 2, 0,
		  "\"packages\" is not an array" },
		{ DEP_COMPOSER_LOCK,
		  "{\n  \"packages\": [\n    {\"name\": \"a/b\", \"version\": \"1.0\"},\n"
		  "    {\"version\": \"2.0\"}\n  ]\n}\n",
		  0, 4, 0, "packages[1] has no \"name\"" },
		{ DEP_COMPOSER_LOCK,
		  "{\n  \"packages\": [],\n  \"packages-dev\": [\n    1\n  ]\n}\n", 0, 4, 0,
		  "packages-dev[0] has no \"name\"" },
		{ DEP_CONAN_LOCK,
		  "{\n  \"version\": \"0.5\",\n  \"requires\": [\n    \"zlib/1.3#abc\",\n"
		  "    [\"x\"]\n  ]\n}\n",
		  0, 5, 0, "requires[1] is not a string" },
		{ DEP_CONAN_LOCK, "{\n  \"requires\": {}\n}\n", 0, 2, 0,
		  "\"requires\" is not an array" },
		{ DEP_CONAN_LOCK, "{\n  \"graph_lock\": {\n    \"nodes\": []\n  }\n}\n", 0, 3, 0,
		  "graph_lock.nodes is not an object" },
		{ DEP_CONAN_LOCK,
		  "{\n  \"graph_lock\": {\n    \"nodes\": {\n      \"0\": {\"ref\": \"a/1.0\"},\n"
		  "      \"1\": 5\n    }\n  }\n}\n",
		  0, 5, 0, "node \"1\" is not an object" },
		{ DEP_CARGO_LOCK, "version = 3\npackage = \"x\"\n", 0, 2, 0,
		  "\"package\" is not an array of tables" },
		{ DEP_POETRY_LOCK, "[metadata]\nx = 1\n\n[package]\nname = \"a\"\n", 0, 4, 0,
		  "\"package\" is not an array of tables" },
		{ DEP_UV_LOCK, "version = 1\n'package' = 5\n", 0, 2, 0,
		  "\"package\" is not an array of tables" },
		{ DEP_UV_LOCK, "version = 1\nmanifest = { members = 1 }\n", 0, 2, 0,
		  "[manifest] members is not an array of names" },
		{ DEP_UV_LOCK, "version = 1\npackage = [\n  { name = \"a\" },\n]\n", 0, 2, 0,
		  "package a has no source table" },
		/* The column of the package's key, wherever it is. */
		{ DEP_PNPM_LOCK, "lockfileVersion: '6.0'\npackages: {bad: {}}\n", 0, 2, 12,
		  "invalid dependency path 'bad' (no '/')" },
		/* Text that is not UTF-8 (0xff 0xff is no UTF-16 byte order mark either). */
		{ DEP_PNPM_LOCK, "\xff\xff\n", 0, 1, 1, "invalid text at byte 0" },
		/* After yarn's UTF-8 byte order mark, bytes that would be UTF-16's are not
		 * UTF-8, for YAML as for yarn 1 (they were read as UTF-16 text, whose
		 * positions are nowhere in the file). */
		{ DEP_YARN_LOCK,
		  "\xef\xbb\xbf\xff\xfe"
		  "a\0:\0 \0b\0\x01\0",
		  15, 1, 1, "invalid text at byte 3: invalid leading UTF-8 octet" },
		/* UTF-16 (a byte order mark), counted in its characters: a control character
		 * at line 2, column 2. */
		{ DEP_PUBSPEC_LOCK,
		  "\xff\xfe"
		  "a\0:\0 \0b\0\n\0c\0\x01\0",
		  16, 2, 2, "control characters are not allowed" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		cr_expect_eq(deps_parse_buffer(&l, bad[i].f, "lockfile", bad[i].text, len, &dl),
			     -EINVAL, "case %zu", i);
		cr_expect(dl.n == 1 && dl.v[0].line == bad[i].line && dl.v[0].col == bad[i].col &&
				  strstr(dl.v[0].msg, bad[i].says),
			  "case %zu: %u:%u, not %u:%u: %s", i, dl.n ? dl.v[0].line : 0,
			  dl.n ? dl.v[0].col : 0, bad[i].line, bad[i].col,
			  dl.n ? dl.v[0].msg : "(no error)");
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* The packages of TOML tables that no header opens (`package = [{ ... }]`) are on the
 * line of their key (they were on line 0). */
Test(lockfiles, toml_inline_package_tables_are_on_their_key_line)
{
	static const struct {
		enum dep_format f;
		const char *text;
	} ok[] = {
		{ DEP_CARGO_LOCK, "version = 3\n\npackage = [\n  { name = \"a\", version = \"1.0\" "
				  "},\n]\n" },
		{ DEP_POETRY_LOCK, "\n\npackage = [{ name = \"a\", version = \"1.0\" }]\n" },
		{ DEP_UV_LOCK, "version = 1\n\npackage = [\n  { name = \"a\", version = \"1.0\", "
			       "source = { registry = \"https://pypi.org/simple\" } },\n]\n" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_expect_eq(deps_parse_buffer(&l, ok[i].f, "lockfile", ok[i].text,
					       strlen(ok[i].text), &dl),
			     0, "case %zu: %s", i, dl.n ? dl.v[0].msg : "");
		cr_expect(l.n == 1 && str_eq(l.v[0].name, "a") && l.v[0].line == 3,
			  "case %zu: %zu packages, line %u", i, l.n, l.n ? l.v[0].line : 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* ---------- Maven: unresolved properties ---------- */

static int parse_pom(struct dep_list *l, struct diag_list *dl, const char *xml)
{
	dep_list_init(l);
	diag_list_init(dl, 20);
	return deps_parse_buffer(l, DEP_POM_XML, "pom.xml", xml, strlen(xml), dl);
}

static const struct dep *find_name(const struct dep_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (str_eq(l->v[i].name, name)) {
			return &l->v[i];
		}
	}
	return NULL;
}

/* name has exactly this version, line, flags and note (NULL: none). */
static void expect_pom_dep(const struct dep_list *l, const char *name, const char *version,
			   unsigned line, unsigned flags, const char *note)
{
	const struct dep *d = find_name(l, name);
	cr_assert_not_null(d, "%s is missing", name);
	cr_expect_eq(d->eco, ECO_MAVEN, "%s", name);
	cr_expect_str_eq(d->version, version, "%s: version '%s'", name, d->version);
	cr_expect_eq(d->line, line, "%s: line %u, not %u", name, d->line, line);
	cr_expect_eq(d->flags, flags, "%s: flags %#x, not %#x", name, d->flags, flags);
	if (note) {
		cr_expect(d->note && str_eq(d->note, note), "%s: note '%s', not '%s'", name,
			  d->note ? d->note : "(null)", note);
	} else {
		cr_expect_null(d->note, "%s: note '%s'", name, d->note);
	}
}

Test(lockfiles, pom_undefined_property_is_unresolved_and_kept_as_written)
{
	static const char xml[] = "<project>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>lib</artifactId>\n"
				  "      <version>${undefined.prop}</version>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(dl.n, 0, "not an error: reported by the scan");
	cr_assert_eq(l.n, 1);
	expect_pom_dep(&l, "org.example:lib", "${undefined.prop}", 6, DEP_UNRESOLVED,
		       "the property ${undefined.prop} is not defined in this file");
	cr_expect_str_eq(l.v[0].file, "pom.xml");
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_property_defined_in_the_file_is_resolved)
{
	static const char xml[] = "<project>\n"
				  "  <version>3.1.0</version>\n"
				  "  <properties>\n"
				  "    <jackson.version>2.13.0</jackson.version>\n"
				  "    <base>1.2</base>\n"
				  "    <derived>${base}.3</derived>\n"
				  "  </properties>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>com.fasterxml.jackson.core</groupId>\n"
				  "      <artifactId>jackson-databind</artifactId>\n"
				  "      <version>${jackson.version}</version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>chained</artifactId>\n"
				  "      <version>${derived}</version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>sibling</artifactId>\n"
				  "      <version>${project.version}</version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>half</artifactId>\n"
				  "      <version>${base}-${nowhere}</version>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_assert_eq(l.n, 4);
	expect_pom_dep(&l, "com.fasterxml.jackson.core:jackson-databind", "2.13.0", 12, 0, NULL);
	/* A property defined in terms of another one. */
	expect_pom_dep(&l, "org.example:chained", "1.2.3", 17, 0, NULL);
	expect_pom_dep(&l, "org.example:sibling", "3.1.0", 22, 0, NULL);
	/* One property of two undefined: unresolved, with what could be resolved. */
	expect_pom_dep(&l, "org.example:half", "1.2-${nowhere}", 27, DEP_UNRESOLVED,
		       "the property ${nowhere} is not defined in this file");
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_version_from_dependency_management_is_resolved)
{
	static const char xml[] = "<project>\n"
				  "  <properties>\n"
				  "    <netty.version>4.1.42.Final</netty.version>\n"
				  "  </properties>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>io.netty</groupId>\n"
				  "      <artifactId>netty-all</artifactId>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>from-parent</artifactId>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "  <dependencyManagement>\n"
				  "    <dependencies>\n"
				  "      <dependency>\n"
				  "        <groupId>io.netty</groupId>\n"
				  "        <artifactId>netty-all</artifactId>\n"
				  "        <version>${netty.version}</version>\n"
				  "      </dependency>\n"
				  "      <dependency>\n"
				  "        <groupId>org.example</groupId>\n"
				  "        <artifactId>managed-only</artifactId>\n"
				  "        <version>2.0</version>\n"
				  "      </dependency>\n"
				  "    </dependencies>\n"
				  "  </dependencyManagement>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	/* netty-all once, at the managed version and its line. */
	cr_assert_eq(l.n, 3);
	expect_pom_dep(&l, "io.netty:netty-all", "4.1.42.Final", 20, 0, NULL);
	/* A managed entry is a package of its own. */
	expect_pom_dep(&l, "org.example:managed-only", "2.0", 25, 0, NULL);
	/* Neither a version nor a managed one in this file: unresolved, no version. */
	expect_pom_dep(&l, "org.example:from-parent", "", 10, DEP_UNRESOLVED,
		       "no version in this file (inherited from a parent POM or a BOM?)");
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_property_defined_in_terms_of_itself_is_unresolved)
{
	static const char xml[] = "<project>\n"
				  "  <properties>\n"
				  "    <loop>${loop}</loop>\n"
				  "    <ping>${pong}</ping>\n"
				  "    <pong>${ping}</pong>\n"
				  "  </properties>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>self</artifactId>\n"
				  "      <version>${loop}</version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>cycle</artifactId>\n"
				  "      <version>${ping}</version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>open</artifactId>\n"
				  "      <version>${ping</version>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_assert_eq(l.n, 3);
	/* Every name is defined, none resolves: the note names the property. */
	expect_pom_dep(&l, "org.example:self", "${loop}", 11, DEP_UNRESOLVED,
		       "the property ${loop} does not resolve within 16 expansions (is it defined "
		       "in terms of itself?)");
	expect_pom_dep(&l, "org.example:cycle", "${ping}", 16, DEP_UNRESOLVED,
		       "the property ${ping} does not resolve within 16 expansions (is it defined "
		       "in terms of itself?)");
	expect_pom_dep(&l, "org.example:open", "${ping", 21, DEP_UNRESOLVED,
		       "an unterminated ${ in '${ping'");
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* ---------- pnpm: dependency paths of each lockfile version ---------- */

static int parse_text(struct dep_list *l, struct diag_list *dl, enum dep_format f,
		      const char *display, const char *text)
{
	dep_list_init(l);
	diag_list_init(dl, 20);
	return deps_parse_buffer(l, f, display, text, strlen(text), dl);
}

struct name_version_line {
	const char *name, *version;
	unsigned line;
};

/* The file gives exactly these packages (name, version, line), in any order. */
static void expect_exactly(const struct dep_list *l, const struct name_version_line *want, size_t n,
			   const char *what)
{
	cr_expect_eq(l->n, n, "%s: %zu packages, not %zu", what, l->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct dep *d = find_dep(l, want[i].name, want[i].version);
		cr_expect_not_null(d, "%s: %s@%s is missing", what, want[i].name, want[i].version);
		cr_expect(!d || d->line == want[i].line, "%s: %s@%s on line %u, not %u", what,
			  want[i].name, want[i].version, d ? d->line : 0, want[i].line);
	}
}

/* text, read as f, gives exactly these packages (expect_exactly()). */
static void parse_exactly(enum dep_format f, const char *display, const char *text,
			  const struct name_version_line *want, size_t n, const char *what)
{
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, f, display, text), 0, "%s: %s", what,
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, n, what);
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pnpm_v5_paths_name_slash_version_with_peer_suffixes)
{
	/* As pnpm 7 writes them: '/'-separated, peers after '_' ('/' in peers as '+'). */
	static const char lock[] = "lockfileVersion: 5.4\n"
				   "\n"
				   "packages:\n"
				   "\n"
				   "  /react-dom/17.0.2_react@17.0.2:\n"
				   "    resolution: {integrity: sha512-AAAA}\n"
				   "\n"
				   "  /@testing-library/react/12.1.5_biqbaboplfbrettd7655fr4n2y:\n"
				   "    resolution: {integrity: sha512-BBBB}\n"
				   "    dev: true\n"
				   "\n"
				   "  /@types/react-dom/17.0.2_@types+react@17.0.0+react@17.0.2:\n"
				   "    resolution: {integrity: sha512-CCCC}\n"
				   "\n"
				   "  /@types/node/18.15.11:\n"
				   "    resolution: {integrity: sha512-DDDD}\n";
	static const struct name_version_line want[] = {
		{ "react-dom", "17.0.2", 5 },
		{ "@testing-library/react", "12.1.5", 8 },
		{ "@types/react-dom", "17.0.2", 12 },
		{ "@types/node", "18.15.11", 15 },
	};
	parse_exactly(DEP_PNPM_LOCK, "pnpm-lock.yaml", lock, want, ARRAY_SIZE(want), "5.4");
}

Test(lockfiles, pnpm_v6_paths_name_at_version_with_peer_suffixes)
{
	/* As pnpm 8 writes them: peers in parentheses, several, nested, scoped (with '/'). */
	static const char lock[] =
		"lockfileVersion: '6.0'\n"
		"\n"
		"packages:\n"
		"\n"
		"  /vite@4.3.0(@types/node@18.15.11):\n"
		"    resolution: {integrity: sha512-AAAA}\n"
		"    dev: false\n"
		"\n"
		"  /@storybook/react@7.0.0(react-dom@18.2.0)(react@18.2.0)(typescript@5.0.4):\n"
		"    resolution: {integrity: sha512-BBBB}\n"
		"    dev: false\n"
		"\n"
		"  "
		"/@typescript-eslint/eslint-plugin@5.62.0(@typescript-eslint/parser@5.62.0(eslint@"
		"8.57.0)(typescript@4.9.5))(eslint@8.57.0)(typescript@4.9.5):\n"
		"    resolution: {integrity: sha512-CCCC}\n"
		"    dev: true\n"
		"\n"
		"  /@types/node@18.15.11:\n"
		"    resolution: {integrity: sha512-DDDD}\n"
		"\n"
		"  /acorn@8.7.0:\n"
		"    resolution: {integrity: sha512-EEEE}\n";
	static const struct name_version_line want[] = {
		{ "vite", "4.3.0", 5 },
		{ "@storybook/react", "7.0.0", 9 },
		{ "@typescript-eslint/eslint-plugin", "5.62.0", 13 },
		{ "@types/node", "18.15.11", 17 },
		{ "acorn", "8.7.0", 20 },
	};
	parse_exactly(DEP_PNPM_LOCK, "pnpm-lock.yaml", lock, want, ARRAY_SIZE(want), "6.0");
}

Test(lockfiles, pnpm_v9_paths_without_leading_slash)
{
	/* pnpm 9 writes `packages` keys without peers (they are in `snapshots`, which is not
	 * read); one with a suffix all the same is read as a 6.x path would be. */
	static const char lock[] =
		"lockfileVersion: '9.0'\n"
		"\n"
		"packages:\n"
		"\n"
		"  vite@4.3.0:\n"
		"    resolution: {integrity: sha512-AAAA}\n"
		"\n"
		"  '@storybook/react@7.0.0':\n"
		"    resolution: {integrity: sha512-BBBB}\n"
		"\n"
		"  '@mui/material@5.14.0(@emotion/react@11.11.1(@types/react@18.2.15)"
		"(react@18.2.0))(react@18.2.0)':\n"
		"    resolution: {integrity: sha512-CCCC}\n"
		"\n"
		"snapshots:\n"
		"\n"
		"  vite@4.3.0(@types/node@18.15.11): {}\n"
		"\n"
		"  '@storybook/react@7.0.0(react@18.2.0)': {}\n";
	static const struct name_version_line want[] = {
		{ "vite", "4.3.0", 5 },
		{ "@storybook/react", "7.0.0", 8 },
		{ "@mui/material", "5.14.0", 11 },
	};
	parse_exactly(DEP_PNPM_LOCK, "pnpm-lock.yaml", lock, want, ARRAY_SIZE(want), "9.0");
}

Test(lockfiles, pnpm_paths_that_do_not_parse_are_errors)
{
	static const char *const bad[] = {
		"lockfileVersion: '6.0'\npackages:\n  /vite@4.3.0(@types/node@18.15.11:\n"
		"    resolution: {integrity: sha512-AAAA}\n",
		"lockfileVersion: '6.0'\npackages:\n  /vite@4.3.0(react@18.2.0)x:\n"
		"    resolution: {integrity: sha512-AAAA}\n",
		"lockfileVersion: '6.0'\npackages:\n  /vite(react@18.2.0):\n"
		"    resolution: {integrity: sha512-AAAA}\n",
		"lockfileVersion: '6.0'\npackages:\n  /@storybook(react@18.2.0):\n"
		"    resolution: {integrity: sha512-AAAA}\n",
		"lockfileVersion: '9.0'\npackages:\n  '@storybook/react':\n"
		"    resolution: {integrity: sha512-AAAA}\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(parse_text(&l, &dl, DEP_PNPM_LOCK, "pnpm-lock.yaml", bad[i]), -EINVAL,
			     "case %zu", i);
		cr_expect(dl.n == 1 && dl.v[0].line == 3, "case %zu", i);
		cr_expect_eq(l.n, 0, "case %zu", i);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

Test(lockfiles, pnpm_bundled_dependencies_are_unresolved)
{
	/* pnpm writes a bundled dependency's name only (`bundledDependencies: [minimist]`):
	 * the copy inside the tarball is installed at a version the lockfile does not say. */
	static const char *const dirs[] = { "npm-tools/bundled-pnpm8", "npm-tools/bundled-pnpm9" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *dir = tu_fixture(dirs[i]), *path;
		if (asprintf(&path, "%s/pnpm-lock.yaml", dir) < 0) {
			abort();
		}
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_assert_eq(deps_parse_file(&l, path, "pnpm-lock.yaml", DEP_PNPM_LOCK, &dl), 0,
			     "%s: %s", dirs[i], dl.n ? dl.v[0].msg : "");
		const struct dep *d = find_dep(&l, "minimist", "");
		cr_assert_not_null(d, "%s: the bundled minimist is missing", dirs[i]);
		cr_expect(d->flags & DEP_UNRESOLVED, "%s: not unresolved", dirs[i]);
		cr_expect(d->note && strstr(d->note, "bundles-minimist@1.0.0"), "%s: note %s",
			  dirs[i], d->note ? d->note : "(none)");
		cr_expect_gt(d->line, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(path);
		free(dir);
	}
}

/* `bundledDependencies: true` (pnpm 8 and 9) names none of them: the bundling package is
 * reported once more, without a version and unresolved, for all of them, so the scan
 * blocks and the finding can be allowed with a reason; it is no error without a way on. */
Test(lockfiles, pnpm_all_bundled_dependencies_are_one_unresolved_entry)
{
	static const char *const dirs[] = { "npm-tools/bundled-all-pnpm8",
					    "npm-tools/bundled-all-pnpm9" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *dir = tu_fixture(dirs[i]), *path;
		if (asprintf(&path, "%s/pnpm-lock.yaml", dir) < 0) {
			abort();
		}
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_assert_eq(deps_parse_file(&l, path, "pnpm-lock.yaml", DEP_PNPM_LOCK, &dl), 0,
			     "%s: %s", dirs[i], dl.n ? dl.v[0].msg : "");
		cr_assert_not_null(find_dep(&l, "bundles-all", "1.0.0"), "%s", dirs[i]);
		const struct dep *d = find_dep(&l, "bundles-all", "");
		cr_assert_not_null(d, "%s: no entry stands for the bundled dependencies", dirs[i]);
		cr_expect(d->flags & DEP_UNRESOLVED, "%s: not unresolved", dirs[i]);
		cr_expect(d->note &&
				  strstr(d->note, "bundles-all@1.0.0 (bundledDependencies: true)"),
			  "%s: note %s", dirs[i], d->note ? d->note : "(none)");
		cr_expect_gt(d->line, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(path);
		free(dir);
	}
	/* Anything but a list or a boolean is still an error. */
	static const char bad[] = "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n"
				  "    resolution: {integrity: sha512-x}\n"
				  "    bundledDependencies: {x: 1}\n";
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	cr_assert_lt(
		deps_parse_buffer(&l, DEP_PNPM_LOCK, "pnpm-lock.yaml", bad, sizeof(bad) - 1, &dl),
		0);
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* ---------- requirements.txt: what a specifier pins ---------- */

Test(lockfiles, requirements_only_an_exact_valid_version_is_a_pin)
{
	static const char txt[] = "exact==1.0.0\n"
				  "arbitrary===3.4.6\n"
				  "wildcard==9.2.*\n"
				  "range>=3.2,<3.3\n"
				  "lower>=3.2\n"
				  "compatible ~= 1.4.2\n"
				  "below<2.0\n"
				  "excluded!=1.5\n"
				  "exact-in-range>=1.0, ==1.2.3, !=1.2.4\n"
				  "two-exacts==1.0,==2.0\n"
				  "not-a-version==1.0-beta-gamma\n"
				  "wild-lower>=3.*\n"
				  "parenthesised (==2.0)\n"
				  "Extras_Name[security,socks] == 2.31.0 --hash=sha256:abcd\n"
				  "empty-clause==1.0,\n"
				  "no-version==\n"
				  "direct @ https://example.com/direct-1.0.tar.gz\n"
				  "hashed --hash=sha256:abcd\n";
	static const struct {
		const char *name, *version;
		bool pinned;
	} want[] = {
		{ "exact", "1.0.0", true },
		/* Arbitrary equality: exactly that version. */
		{ "arbitrary", "3.4.6", true },
		/* A prefix wildcard and a range with a lower bound: checked at the least version
		 * they allow, and unpinned. An upper bound, an exclusion: no version at all, as
		 * a line without one ("0.0.0", which the scan reports as unpinned). */
		{ "wildcard", "9.2", false },
		{ "range", "3.2", false },
		/* A lone lower bound is checked as before. */
		{ "lower", "3.2", false },
		{ "compatible", "1.4.2", false },
		{ "below", "0.0.0", false },
		{ "excluded", "0.0.0", false },
		/* One exact clause: nothing else can be installed. */
		{ "exact-in-range", "1.2.3", true },
		{ "two-exacts", "0.0.0", false },
		{ "not-a-version", "0.0.0", false },
		{ "wild-lower", "0.0.0", false },
		{ "parenthesised", "2.0", true },
		{ "extras-name", "2.31.0", true },
		{ "empty-clause", "0.0.0", false },
		{ "no-version", "0.0.0", false },
		/* Named all the same: a URL, and options, are not part of the name. */
		{ "direct", "1.0", true },
		{ "hashed", "0.0.0", false },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", txt), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, ARRAY_SIZE(want), "%zu packages", l.n);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct dep *d = find_dep(&l, want[i].name, want[i].version);
		cr_expect_not_null(d, "%s@%s is missing", want[i].name, want[i].version);
		if (!d) {
			continue;
		}
		cr_expect_eq(d->line, i + 1, "%s: line %u", want[i].name, d->line);
		if (want[i].pinned) {
			cr_expect_eq(d->flags, 0, "%s is a pin", want[i].name);
			cr_expect_null(d->note, "%s: note '%s'", want[i].name, d->note);
		} else {
			cr_expect_eq(d->flags, DEP_UNPINNED, "%s is not a pin", want[i].name);
			cr_expect_not_null(d->note, "%s: no note", want[i].name);
		}
	}
	const struct dep *d = find_dep(&l, "range", "3.2");
	cr_expect(d && d->note &&
			  str_eq(d->note, "the specifier '>=3.2,<3.3' does not pin a version "
					  "(checked at its least, 3.2)"),
		  "note '%s'", d && d->note ? d->note : "(null)");
	d = find_dep(&l, "below", "0.0.0");
	cr_expect(d && d->note && str_eq(d->note, "the specifier '<2.0' does not pin a version"),
		  "note '%s'", d && d->note ? d->note : "(null)");
	d = find_dep(&l, "lower", "3.2");
	cr_expect(d && d->note && str_eq(d->note, "only a lower bound (>= 3.2) is given"),
		  "note '%s'", d && d->note ? d->note : "(null)");
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* ---------- go.mod: the standard library's version ---------- */

/* The standard library is checked at the higher of the go line's and the toolchain's
 * versions: the go command switches to the toolchain a go.mod names when the local one is
 * older. Only the go line's version made a go.mod with `toolchain go1.22.5` look exposed
 * to every standard library advisory fixed since 1.21. */
Test(lockfiles, go_mod_stdlib_is_at_the_toolchain_when_it_is_higher)
{
	static const struct {
		const char *mod;
		const char *version;
		unsigned line;
	} cases[] = {
		{ "module m\ngo 1.21\ntoolchain go1.22.5\n", "1.22.5", 3 },
		{ "module m\ngo 1.21.4\ntoolchain go1.21.1\n", "1.21.4", 2 },
		{ "module m\ntoolchain go1.23.0-corp\ngo 1.22\n", "1.23.0", 2 },
		{ "module m\ngo 1.21\ntoolchain go1.22rc1+auto\n", "1.22.0-rc.1", 3 },
		{ "module m\ngo 1.21\ntoolchain default\n", "1.21", 2 },
		{ "module m\ngo 1.21\ntoolchain (\n\tgo1.22.1\n)\n", "1.22.1", 4 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct dep_list l;
		struct diag_list dl;
		cr_assert_eq(parse_text(&l, &dl, DEP_GO_MOD, "go.mod", cases[i].mod), 0,
			     "case %zu: %s", i, dl.n ? dl.v[0].msg : "");
		cr_expect_eq(l.n, 1, "case %zu: %zu packages", i, l.n);
		cr_expect(l.n == 1 && str_eq(l.v[0].name, "stdlib") &&
				  str_eq(l.v[0].version, cases[i].version) &&
				  l.v[0].line == cases[i].line,
			  "case %zu: %s@%s line %u", i, l.n ? l.v[0].name : "",
			  l.n ? l.v[0].version : "", l.n ? l.v[0].line : 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	struct dep_list l;
	struct diag_list dl;
	cr_expect_eq(parse_text(&l, &dl, DEP_GO_MOD, "go.mod", "go 1.21\ntoolchain\n"), -EINVAL);
	cr_expect(dl.n == 1 && dl.v[0].line == 2, "%s", dl.n ? dl.v[0].msg : "no error");
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* ---------- go.mod: quoted strings as the go command reads them ---------- */

Test(lockfiles, go_mod_quoted_strings_are_unquoted_as_go_does)
{
	static const char mod[] =
		"module \"example.com/m\"\n"
		"go 1.21\n"
		"require \"github.com/gin-gonic/gi\\u006e\" v1.0.0\n" /* 3 */
		"require (\n"
		"\t\"github.com/\\x61/\\142\" \"v1.2.3\"\n"	      /* 5 */
		"\t\"github.com/\\U00000063/d\" v2.0.0 // indirect\n" /* 6 */
		"\t\"github.com/e/f\\\"g\" v3.0.0\n"		      /* 7 */
		"\tgithub.com/h/i v4.0.0\n"			      /* 8 */
		")\n"
		"replace \"github.com/h/\\x69\" => \"github.com/j/k\" \"v4.0.1\"\n"; /* 10 */
	static const struct name_version_line want[] = {
		{ "github.com/gin-gonic/gin", "1.0.0", 3 }, { "github.com/a/b", "1.2.3", 5 },
		{ "github.com/c/d", "2.0.0", 6 },	    { "github.com/e/f\"g", "3.0.0", 7 },
		{ "github.com/j/k", "4.0.1", 10 },	    { "stdlib", "1.21", 2 },
	};
	parse_exactly(DEP_GO_MOD, "go.mod", mod, want, ARRAY_SIZE(want), "go.mod");

	/* What the go command refuses is an error, on its line. */
	static const char *const bad[] = {
		"require `github.com/a/b` v1.0.0\n",	  /* a raw string: a token with a quote */
		"require github.com/a/'b' v1.0.0\n",	  /* a quote in an unquoted token */
		"require github.com/a/b\" v1.0.0\n",	  /* ...of any kind */
		"require \"github.com/a/\\'b\" v1.0.0\n", /* \' is not an escape of "..." */
		"require \"github.com/a/\\qb\" v1.0.0\n",
		"require \"github.com/a/\\400\" v1.0.0\n",
		"require \"github.com/a/\\x6\" v1.0.0\n",
		"require \"github.com/a/\\ud800\" v1.0.0\n",
		"require \"github.com/a/\\U00110000\" v1.0.0\n",
		"require \"github.com/a/\\x00\" v1.0.0\n",
		"require \"github.com/a/\xff\" v1.0.0\n",
		"require \"github.com/a/b v1.0.0\n",
		"exclude \"github.com/a/\\z\" v1.0.0\n",
		"replace github.com/a/b => \"github.com/\\c/d\" v1.0.0\n",
	};
	struct dep_list l;
	struct diag_list dl;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = tu_strf("module m\ngo 1.21\n%s", bad[i]);
		cr_expect_eq(parse_text(&l, &dl, DEP_GO_MOD, "go.mod", text), -EINVAL, "%s",
			     bad[i]);
		cr_expect(dl.n == 1 && dl.v[0].line == 3, "%s: %s", bad[i],
			  dl.n ? dl.v[0].msg : "no error");
		cr_expect_eq(l.n, 0, "%s", bad[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
	}
}

/* ---------- go.mod: replace and exclude, many of them ---------- */

Test(lockfiles, go_mod_many_replaces_and_excludes_apply_as_go_applies_them)
{
	enum { N = 3000 };
	struct sbuf mod, sum;
	sbuf_init(&mod, SIZE_MAX / 2);
	sbuf_init(&sum, SIZE_MAX / 2);
	sbuf_puts(&mod, "module m\ngo 1.16\nrequire (\n");
	for (int i = 0; i < N; i++) {
		sbuf_printf(&mod, "\tex.com/m%d v1.0.%d\n", i, i);
	}
	sbuf_puts(&mod, ")\n");
	for (int i = 0; i < N; i++) {
		/* One version's replace wins over every version's, written before or after. */
		if (i % 4 == 0 && i % 8 == 0) {
			sbuf_printf(&mod, "replace ex.com/m%d v1.0.%d => ex.com/x%d v3.0.%d\n", i,
				    i, i, i);
		}
		if (i % 2 == 0) {
			sbuf_printf(&mod, "replace ex.com/m%d => ex.com/r%d v2.0.%d\n", i, i, i);
		}
		if (i % 4 == 0 && i % 8 != 0) {
			sbuf_printf(&mod, "replace ex.com/m%d v1.0.%d => ex.com/x%d v3.0.%d\n", i,
				    i, i, i);
		}
		/* Of two replaces of every version, the last. */
		if (i % 6 == 0) {
			sbuf_printf(&mod, "replace ex.com/m%d => ex.com/z%d v4.0.%d\n", i, i, i);
		}
		/* Another version's replace does not apply. */
		if (i % 5 == 0) {
			sbuf_printf(&mod, "replace ex.com/m%d v9.9.9 => ex.com/no%d v0.0.1\n", i,
				    i);
		}
		/* go.sum: the highest version not excluded. */
		sbuf_printf(&sum, "ex.com/s%d v1.0.0 h1:a=\nex.com/s%d v1.1.0 h1:b=\n", i, i);
		if (i % 2 == 0) {
			sbuf_printf(&mod, "exclude ex.com/s%d v1.1.0\n", i);
		}
		if (i % 3 == 0) {
			sbuf_printf(&mod, "exclude ex.com/s%d v1.0.9\n", i);
		}
	}
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_go_pair(&l, &dl, mod.data, sum.data), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 2 * N + 1, "%zu packages", l.n);
	for (int i = 0; i < N; i++) {
		char *name, *version;
		if (i % 4 == 0) {
			name = tu_strf("ex.com/x%d", i), version = tu_strf("3.0.%d", i);
		} else if (i % 6 == 0) {
			name = tu_strf("ex.com/z%d", i), version = tu_strf("4.0.%d", i);
		} else if (i % 2 == 0) {
			name = tu_strf("ex.com/r%d", i), version = tu_strf("2.0.%d", i);
		} else {
			name = tu_strf("ex.com/m%d", i), version = tu_strf("1.0.%d", i);
		}
		cr_expect_not_null(find_dep(&l, name, version), "%s@%s is missing", name, version);
		free(name);
		free(version);
		name = tu_strf("ex.com/s%d", i);
		const char *want = i % 2 == 0 ? "1.0.0" : "1.1.0";
		cr_expect_not_null(find_dep(&l, name, want), "%s@%s is missing", name, want);
		free(name);
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	sbuf_release(&mod);
	sbuf_release(&sum);
}

/* ---------- mix.lock: the map as Elixir reads it ---------- */

Test(lockfiles, mix_lock_atom_keys_and_one_line_maps_are_read)
{
	static const struct {
		const char *text;
		struct name_version_line want[3];
		size_t n;
	} ok[] = {
		{ "%{\n  plug: {:hex, :plug, \"1.11.0\", \"abc\", [:mix], [], \"hexpm\", "
		  "\"def\"},\n}\n",
		  { { "plug", "1.11.0", 2 } },
		  1 },
		{ "%{\"plug\": {:hex, :plug, \"1.11.0\", \"abc\", [:mix], [], \"hexpm\", "
		  "\"def\"}}\n",
		  { { "plug", "1.11.0", 1 } },
		  1 },
		{ "# a comment\n%{\"a\": {:hex, :a, \"1.0.0\", \"x\", [:mix], [{:b, \"~> 1.0\", "
		  "[hex: :b, repo: \"hexpm\", optional: false]}], \"hexpm\", \"y\"}, b_2: {:hex, "
		  ":b, \"2.0.0\", \"x\", [:mix], [], \"hexpm\", \"y\"},\n"
		  "  \"c\": {:git, \"https://example.com/c.git\", \"abc\", []}}\n",
		  { { "a", "1.0.0", 2 }, { "b", "2.0.0", 2 }, { "c", "", 3 } },
		  3 },
		{ "%{}\n", { { 0 } }, 0 },
		{ "", { { 0 } }, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(parse_text(&l, &dl, DEP_MIX_LOCK, "mix.lock", ok[i].text), 0,
			     "case %zu: %s", i, dl.n ? dl.v[0].msg : "");
		expect_exactly(&l, ok[i].want, ok[i].n, ok[i].text);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	/* A line that is not an entry, the map's braces, blank or a comment is an error. */
	static const char *const bad[] = {
		"%{\n  \"plug\" => {:hex, :plug, \"1.11.0\", \"abc\", [:mix], [], \"hexpm\", "
		"\"def\"},\n}\n",
		"%{\n  'plug': {:hex, :plug, \"1.11.0\"},\n}\n",
		"%{\n  \"plug\": {:hex, :plug, \"1.11.0\",\n    \"abc\"},\n}\n",
		"%{\n  \"plug\": {:hex, :plug, \"1.11.0\"} \"x\": {:hex, :x, \"1.0.0\"},\n}\n",
		"%{\n  \"plug\": {:hex, :plug, \"1.11.0\"},\n}\n\"x\": {:hex, :x, \"1.0.0\"}\n",
		"%{\n  \"plug\": {:hex, :plug, \"1.11.0\"},\n",
		"plug: {:hex, :plug, \"1.11.0\"}\n",
		"%{\n  Plug.Lock.entry(\"plug\"),\n}\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(parse_text(&l, &dl, DEP_MIX_LOCK, "mix.lock", bad[i]), -EINVAL, "%s",
			     bad[i]);
		cr_expect(dl.n == 1 && dl.v[0].line > 0, "%s: %s", bad[i],
			  dl.n ? dl.v[0].msg : "no error");
		cr_expect_eq(l.n, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* ---------- lines in JSON lockfiles: names written with escapes ---------- */

Test(lockfiles, json_lines_of_names_written_with_escapes)
{
	enum { N = 5000 };
	struct sbuf t;
	sbuf_init(&t, SIZE_MAX / 2);
	sbuf_puts(&t, "{\"lockfileVersion\": 3, \"packages\": {\n"
		      "\"\": {\"name\": \"root\", \"version\": \"0.0.1\"},\n");
	/* Line 3 on: escaped names, as some writers write them, between plain ones. */
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0) {
			sbuf_printf(&t,
				    "\"node_modules\\/\\u0061%d\": {\"version\": \"1.0.%d\"},\n", i,
				    i);
		} else if (i % 3 == 1) {
			sbuf_printf(&t, "\"node_modules/a%d\": {\"version\": \"1.0.%d\"},\n", i, i);
		} else {
			sbuf_printf(&t,
				    "\"node_modules/a%d\\u00e9\\ud83d\\ude00\": "
				    "{\"version\": \"1.0.%d\"},\n",
				    i, i);
		}
	}
	sbuf_puts(&t, "\"node_modules/last\": {\"version\": \"9.9.9\"}\n}}\n");
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_NPM_LOCK, "package-lock.json", t.data), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, N + 1, "%zu packages", l.n);
	for (int i = 0; i < N; i++) {
		char *name = tu_strf(i % 3 == 2 ? "a%d\xc3\xa9\xf0\x9f\x98\x80" : "a%d", i),
		     *version = tu_strf("1.0.%d", i);
		const struct dep *d = find_dep(&l, name, version);
		cr_expect(d && d->line == (unsigned)i + 3, "%s@%s: line %u, not %d", name, version,
			  d ? d->line : 0, i + 3);
		free(name);
		free(version);
	}
	expect_line(&l, "last", "9.9.9", "package-lock.json", N + 3);
	dep_list_release(&l);
	diag_list_release(&dl);
	sbuf_release(&t);

	/* A string value written with escapes (composer writes "vendor\/name"). */
	static const char composer[] = "{\n  \"packages\": [\n    {\n"
				       "      \"name\": \"mon\\/log\",\n"
				       "      \"version\": \"1.0.0\"\n    },\n    {\n"
				       "      \"name\": \"sym\\u0066ony/yaml\",\n"
				       "      \"version\": \"2.0.0\"\n    }\n  ],\n"
				       "  \"packages-dev\": []\n}\n";
	cr_assert_eq(parse_text(&l, &dl, DEP_COMPOSER_LOCK, "composer.lock", composer), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_line(&l, "mon/log", "1.0.0", "composer.lock", 4);
	expect_line(&l, "symfony/yaml", "2.0.0", "composer.lock", 8);
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* ---------- yarn.lock: v1 strings are JSON, berry is YAML ---------- */

Test(lockfiles, yarn_lock_strings_and_yaml_as_yarn_reads_them)
{
	static const char v1[] =
		"# yarn lockfile v1\n\n\n"
		"\"lod\\u0061sh@^4.17.0\", lodash@^4.0.0:\n" /* 4 */
		"  version \"4.17.\\u0030\"\n"
		"  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.0.tgz\"\n"
		"\n"
		"\"al@npm:real-pkg@^1.0.0\":\n" /* 8 */
		"  \"version\" \"1.0.0\"\n";
	static const struct name_version_line v1_want[] = {
		{ "lodash", "4.17.0", 4 },
		{ "real-pkg", "1.0.0", 8 },
	};
	parse_exactly(DEP_YARN_LOCK, "yarn.lock", v1, v1_want, ARRAY_SIZE(v1_want), "v1");

	/* Berry: any YAML spelling of the same mapping. */
	static const char berry[] = "__metadata:\n  version: 6\n  cacheKey: 8\n\n"
				    "\"four@npm:^1.0.0\":\n" /* 5 */
				    "    version: 1.0.0\n"
				    "    resolution: \"four@npm:1.0.0\"\n\n"
				    "\"next-line@npm:^2.0.0\":\n" /* 9 */
				    "  version:\n    2.0.0\n"
				    "  resolution: \"next-line@npm:2.0.0\"\n\n"
				    "\"escaped@npm:^3.0.0\":\n" /* 14 */
				    "  version: \"3.0.\\x30\"\n"
				    "  resolution: \"escaped@npm:3.0.0\"\n\n"
				    "\"spaced@npm:^4.0.0\":\n" /* 18 */
				    "  version : 4.0.0\n"
				    "  \"resolution\": \"spaced@npm:4.0.0\"\n\n"
				    "? \"complex@npm:^5.0.0\"\n" /* 22 */
				    ": { version: 5.0.0, resolution: \"complex@npm:5.0.0\" }\n\n"
				    "\"alias@npm:real@^6.0.0\":\n" /* 25 */
				    "  version: 6.0.0\n"
				    "  resolution: \"real@npm:6.0.0\"\n\n"
				    "\"plain@npm:7.0.0, plain@npm:^7.0.0\":\n" /* 29 */
				    "  version: 7.0.0\n"
				    "  resolution: \"plain@npm:7.0.0\"\n";
	static const struct name_version_line berry_want[] = {
		{ "four", "1.0.0", 5 },	   { "next-line", "2.0.0", 9 }, { "escaped", "3.0.0", 14 },
		{ "spaced", "4.0.0", 18 }, { "complex", "5.0.0", 22 },	{ "real", "6.0.0", 25 },
		{ "plain", "7.0.0", 29 },
	};
	parse_exactly(DEP_YARN_LOCK, "yarn.lock", berry, berry_want, ARRAY_SIZE(berry_want),
		      "berry");

	/* What cannot be read as yarn reads it is an error, never an unchecked package. */
	static const char *const bad[] = {
		/* v1: a string JSON does not read, a block with no version two spaces in */
		"# yarn lockfile v1\n\n\"a@^1\":\n  version \"1.0.\\x30\"\n",
		"# yarn lockfile v1\n\n\"a@^1\":\n  version \"1.0.0\\\\\"\"\n",
		"# yarn lockfile v1\n\na@^1:\n    version \"1.0.0\"\n",
		/* berry: no version, no resolution, not a mapping, not YAML */
		"__metadata:\n  version: 6\n\n\"a@npm:^1\":\n  resolution: \"a@npm:1.0.0\"\n",
		"__metadata:\n  version: 6\n\n\"a@npm:^1\":\n  version: 1.0.0\n",
		"__metadata:\n  version: 6\n\n\"a@npm:^1\": 1.0.0\n",
		"__metadata:\n  version: 6\n\n\"a@npm:^1\":\n  version: 1.0.0\n   x: [\n",
	};
	struct dep_list l;
	struct diag_list dl;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_expect_eq(parse_text(&l, &dl, DEP_YARN_LOCK, "yarn.lock", bad[i]), -EINVAL, "%s",
			     bad[i]);
		cr_expect(dl.n >= 1, "%s: no error", bad[i]);
		cr_expect_eq(l.n, 0, "%s", bad[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/*
 * yarn 1 reads a yarn.lock with its own parser whatever its first comment says, and as
 * YAML when that parser refuses it. Each case was checked against yarn 1.22.22's parser
 * (src/lockfile/parse.js, run on the same bytes): the packages it reads, and the files it
 * leaves partly unread or refuses, which are errors here.
 */
Test(lockfiles, yarn_v1_is_read_as_yarn_1_reads_it)
{
	/* No header: yarn 1's format all the same. */
	static const char headerless[] = "\"a@^1.0.0\", b@1:\n" /* 1 */
					 "  version \"1.0.0\"\n"
					 "  resolved \"https://r/a/-/a-1.0.0.tgz\"\n";
	static const struct name_version_line headerless_want[] = { { "a", "1.0.0", 1 } };
	parse_exactly(DEP_YARN_LOCK, "yarn.lock", headerless, headerless_want,
		      ARRAY_SIZE(headerless_want), "headerless");

	/* Escaped quotes in a header's specifiers, a field's name and a value. */
	static const char escapes[] = "# yarn lockfile v1\n\n"
				      "\"a@file:./x\\\"y\", \"b@^1\":\n" /* 3 */
				      "  version \"1.0.\\\"0\"\n"
				      "  \"res\\\"olved\" \"x\"\n"
				      "\"c\\\\\":\n" /* 6: the string is c\ */
				      "  version \"2.0.0\"\n";
	static const struct name_version_line escapes_want[] = { { "a", "1.0.\"0", 3 },
								 { "c\\", "2.0.0", 6 } };
	parse_exactly(DEP_YARN_LOCK, "yarn.lock", escapes, escapes_want, ARRAY_SIZE(escapes_want),
		      "escapes");

	/* "\n\n" is one line break to yarn 1: the blank line's spaces are the block's
	 * indentation, and the block goes on; CRLF; a specifier given again names the later
	 * entry (the earlier one, without a version, is dropped); a comment after a value. */
	static const char quirks[] = "a@^1:\r\n  version \"1.0.0\"\n\n  \n"
				     "b@^2:\n  version \"2.0.0\" # pinned\n"
				     "c@^3:\n  resolved \"x\"\n"
				     "c@^3:\n  version \"3.0.0\"\n";
	static const struct name_version_line quirks_want[] = { { "a", "1.0.0", 1 },
								{ "b", "2.0.0", 5 },
								{ "c", "3.0.0", 9 } };
	parse_exactly(DEP_YARN_LOCK, "yarn.lock", quirks, quirks_want, ARRAY_SIZE(quirks_want),
		      "quirks");

	/* What yarn 1's parser refuses is read as YAML, header or not; without berry's
	 * __metadata, with v1's fields (no resolution). */
	static const char yaml[] = "# yarn lockfile v1\n"
				   "f@1 :\n" /* 2 */
				   "  version: \"5\\\\\\\"x\"\n"
				   "g@^1:\n" /* 4 */
				   "  version: 1.0.0\n"
				   "  resolved: \"https://r/g/-/g-1.0.0.tgz\"\n";
	static const struct name_version_line yaml_want[] = { { "f", "5\\\"x", 2 },
							      { "g", "1.0.0", 4 } };
	parse_exactly(DEP_YARN_LOCK, "yarn.lock", yaml, yaml_want, ARRAY_SIZE(yaml_want), "yaml");

	/* Errors, at their lines: where yarn 1 stops reading (the rest would be resolved
	 * again, unchecked; "\r\n\r\n" is two line breaks), a later lockfile version, a comment
	 * over lone CRs, a merge conflict, a version that is no string, a top-level value, and what
	 * neither yarn 1's format nor YAML reads (a tab). */
	static const struct {
		const char *text;
		unsigned line;
		const char *says;
	} bad[] = {
		{ "a@^1:\n  version \"1.0.0\"\n\n\n  \nb@^2:\n  version \"2.0.0\"\n", 5,
		  "stops reading" },
		{ "a@^1:\r\n  version \"1.0.0\"\r\n\r\n  \r\nb@^2:\n  version \"2.0.0\"\n", 4,
		  "stops reading" },
		{ "a@^1:\n  version \"1.0.0\"\n    deeper \"x\"\n  resolved \"r\"\n", 3,
		  "stops reading" },
		{ "# yarn lockfile v2\n\na@^1:\n  version \"1.0.0\"\n", 1, "a later version" },
		{ "# yarn lockfile v1\ra@^1:\r  version \"1.0.0\"\r", 1, "lone CR" },
		{ "a@^1:\n  version \"1.0.0\"\n<<<<<<< HEAD\nb@^2:\n  version \"2.0.0\"\n"
		  "=======\nb@^2:\n  version \"2.1.0\"\n>>>>>>> x\n",
		  3, "merge conflict" },
		{ "a@^1:\n  version true\n", 1, "not a string" },
		{ "a@^1:\n  version:\n    x \"1\"\n", 1, "not a string" },
		{ "a@^1:\n  version \"1.0.0\"\nfoo \"bar\"\n", 3, "a value, not a package" },
		{ "a@^1:\n\tversion \"1.0.0\"\n", 2, "nor does yarn 1's format read it" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(parse_text(&l, &dl, DEP_YARN_LOCK, "yarn.lock", bad[i].text), -EINVAL,
			     "case %zu", i);
		cr_expect(dl.n >= 1 && dl.v[0].line == bad[i].line &&
				  strstr(dl.v[0].msg, bad[i].says),
			  "case %zu: %u: %s", i, dl.n ? dl.v[0].line : 0,
			  dl.n ? dl.v[0].msg : "(no error)");
		cr_expect_eq(l.n, 0, "case %zu", i);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* ---------- requirements.txt: lines as pip's preprocess reads them ---------- */

/* Checked against pip's own preprocess (pip._internal.req.req_file, on the same bytes):
 * the packages and lines it gives. */
Test(lockfiles, requirements_lines_are_split_and_joined_as_pip_does)
{
	static const char txt[] = "\xef\xbb\xbf"
				  "django==2.0.0\n" /* 1: after a UTF-8 byte order mark */
				  "# pinned \\\n"   /* 2: a comment is never continued */
				  "flask==1.0\n"    /* 3 */
				  "foo==1.0 \\\n"   /* 4: continued... */
				  "  # why \\\n"    /* 5: ...up to a comment line, which ends it */
				  "bar==2.0\n"	    /* 6 */
				  "ba\\\n"	    /* 7: continued */
				  "z==3.0\n"	    /* 8 */
				  "\xc2\xa0# after a no-break space: a comment too \\\n" /* 9 */
				  "qux==1.0\n"						 /* 10 */
				  /* 11-21: the line breaks of str.splitlines */
				  "a1==1.0\fa2==1.0\va3==1.0\x1c"
				  "a4==1.0\x1d"
				  "a5==1.0\x1e"
				  "a6==1.0\xc2\x85"
				  "a7==1.0\xe2\x80\xa8"
				  "a8==1.0\xe2\x80\xa9"
				  "a9==1.0\ra10==1.0\r\na11==1.0\n";
	static const struct name_version_line want[] = {
		{ "django", "2.0.0", 1 }, { "flask", "1.0", 3 }, { "foo", "1.0", 4 },
		{ "bar", "2.0", 6 },	  { "baz", "3.0", 7 },	 { "qux", "1.0", 10 },
		{ "a1", "1.0", 11 },	  { "a2", "1.0", 12 },	 { "a3", "1.0", 13 },
		{ "a4", "1.0", 14 },	  { "a5", "1.0", 15 },	 { "a6", "1.0", 16 },
		{ "a7", "1.0", 17 },	  { "a8", "1.0", 18 },	 { "a9", "1.0", 19 },
		{ "a10", "1.0", 20 },	  { "a11", "1.0", 21 },
	};
	parse_exactly(DEP_REQUIREMENTS, "requirements.txt", txt, want, ARRAY_SIZE(want),
		      "requirements.txt");

	/* What the scan cannot split as pip would is an error, with its line. */
	static const struct {
		const char *text;
		size_t len;
		unsigned line;
		const char *says;
	} bad[] = {
		{ "\xff\xfe"
		  "d\0j\0",
		  6, 1, "UTF-16 or UTF-32 byte order mark" },
		{ "\xfe\xff\0d", 4, 1, "UTF-16 or UTF-32 byte order mark" },
		{ "six==1.0\nlatin==1.0\x85"
		  "django==2.0.0\n",
		  34, 2, "not UTF-8" },
		{ "six==1.0\ndjango==2.0.0\0\n", 24, 2, "NUL byte" },
	};
	struct dep_list l;
	struct diag_list dl;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_expect_eq(deps_parse_buffer(&l, DEP_REQUIREMENTS, "requirements.txt",
					       bad[i].text, bad[i].len, &dl),
			     -EINVAL, "case %zu", i);
		cr_expect(dl.n == 1 && dl.v[0].line == bad[i].line &&
				  strstr(dl.v[0].msg, bad[i].says),
			  "case %zu: %s", i, dl.n ? dl.v[0].msg : "");
		cr_expect_eq(l.n, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* ---------- requirements.txt: URLs, VCS and editable requirements ---------- */

Test(lockfiles, requirements_urls_are_named_as_pip_names_them)
{
	static const char txt[] =
		"https://github.com/django/django/archive/2.0.tar.gz#egg=Django\n"
		"-e git+https://github.com/pallets/flask.git@2.0#egg=Flask\n"
		"git+https://github.com/psf/requests.git@v2.0#subdirectory=x&egg=requests[socks]\n"
		"--editable=hg+https://hg.example/Pkg_One#egg=Pkg_One\n"
		"https://files.example/simple/Jinja2-2.8-py2.py3-none-any.whl --hash=sha256:ab\n"
		"./wheels/six-1.16.0-py2.py3-none-any.whl\n"
		"https://files.example/urllib3-1.26.0.tar.gz ; python_version > '3'\n"
		"-e .\n"
		"./local/project\n"
		"-e file:///srv/src/project\n"
		"name-at @ https://example.com/name_at.zip\n"
		"Pillow @ "
		"https://files.example/pillow-9.0.0-cp311-cp311-linux_x86_64.whl#sha256=ab "
		"; python_version > '3'\n"
		"pyyaml @ file:///srv/wheels/PyYAML-5.3-1-cp39-cp39-linux_x86_64.whl\n"
		"lxml @ https://files.example/lxml-4.0.tar.gz?raw=1\n"
		"other @ https://files.example/notother-1.0-py3-none-any.whl\n"
		"https://files.example/odd-version-0.1.x-py3-none-any.whl#egg=odd-version\n";
	/* The version a wheel's or an sdist's file name gives is what pip installs: it
	 * refuses a distribution whose metadata says otherwise. */
	static const struct name_version_line want[] = {
		{ "django", "0.0.0", 1 },	{ "flask", "0.0.0", 2 },
		{ "requests", "0.0.0", 3 },	{ "pkg-one", "0.0.0", 4 },
		{ "jinja2", "2.8", 5 },		{ "six", "1.16.0", 6 },
		{ "urllib3", "1.26.0", 7 },	{ "name-at", "0.0.0", 11 },
		{ "pillow", "9.0.0", 12 },	{ "pyyaml", "5.3", 13 },
		{ "lxml", "4.0", 14 },		{ "other", "0.0.0", 15 },
		{ "odd-version", "0.0.0", 16 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", txt), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "requirements.txt");
	for (size_t i = 0; i < l.n; i++) {
		bool from_file = !str_eq(l.v[i].version, "0.0.0");
		cr_expect(from_file == !(l.v[i].flags & DEP_UNPINNED), "%s@%s: pinned or not",
			  l.v[i].name, l.v[i].version);
		cr_expect(from_file ? !l.v[i].note
				    : l.v[i].note && strstr(l.v[i].note, "pins no version"),
			  "%s: note %s", l.v[i].name, l.v[i].note ? l.v[i].note : "(null)");
	}
	dep_list_release(&l);
	diag_list_release(&dl);

	/* A URL whose package cannot be named is an error, never nothing. */
	static const char *const bad[] = {
		"git+https://github.com/django/django.git@2.0\n",
		"-e git+https://github.com/django/django.git\n",
		"https://github.com/django/django/archive/2.0.tar.gz\n",
		"https://files.example/some-odd-name-1.0.tar.gz\n",
		"./vendor/thing.zip\n",
		"git+https://example.com/x.git#egg=\n",
		"git+https://example.com/x.git#egg=bad/name\n",
		"--editable\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = tu_strf("six==1.16.0\n%s", bad[i]);
		cr_expect_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", text),
			     -EINVAL, "%s", bad[i]);
		cr_expect(dl.n == 1 && dl.v[0].line == 2, "%s: %s", bad[i],
			  dl.n ? dl.v[0].msg : "no error");
		cr_expect_eq(l.n, 0, "%s", bad[i]);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
	}
}

/* A line whose first word contains a '/', starts with '.' or ends with an archive's suffix
 * is a path to pip, with or without "./": named and versioned from its file name, never
 * read as a project called "wheels/django-2-2-py3-none-any-whl". */
Test(lockfiles, requirements_paths_without_dot_slash_are_paths)
{
	static const char txt[] =
		"wheels/Django-2.2-py3-none-any.whl\n"
		"dist/urllib3-1.24.1.tar.gz\n"
		"six-1.16.0-py2.py3-none-any.whl\n"
		"wheels/Jinja2-2.8-py2.py3-none-any.whl[i18n] --hash=sha256:ab\n"
		"./wheels/PyYAML-5.3-cp39-cp39-linux_x86_64.whl[x] ; os_name == 'a/b'\n"
		"src/mypkg\n"
		"pkg @ https://files.example/dist/pkg-1.0.tar.gz\n"
		"other@https://files.example/other-2.0-py3-none-any.whl\n";
	static const struct name_version_line want[] = {
		{ "django", "2.2", 1 }, { "urllib3", "1.24.1", 2 }, { "six", "1.16.0", 3 },
		{ "jinja2", "2.8", 4 }, { "pyyaml", "5.3", 5 },	    { "pkg", "1.0", 7 },
		{ "other", "2.0", 8 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", txt), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "requirements.txt");
	for (size_t i = 0; i < l.n; i++) {
		cr_expect(!strchr(l.v[i].name, '/'), "%s", l.v[i].name);
		cr_expect(!(l.v[i].flags & DEP_UNPINNED), "%s: pinned by its file name",
			  l.v[i].name);
	}
	dep_list_release(&l);
	diag_list_release(&dl);

	/* An archive whose file name gives no name, and a "name" with a '/', are errors. */
	static const struct {
		const char *line, *says;
	} bad[] = {
		{ "vendor/thing.zip\n", "cannot tell the name" },
		{ "thing.tar.gz\n", "cannot tell the name" },
		{ "lib/some-odd-name-1.0.tar.gz\n", "cannot tell the name" },
		{ "foo /bar\n", "'foo /bar' is not a project name" },
		{ "foo[a /b]==1.0\n", "is not a project name" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = tu_strf("six==1.16.0\n%s", bad[i].line);
		cr_expect_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", text),
			     -EINVAL, "%s", bad[i].line);
		cr_expect(dl.n == 1 && dl.v[0].line == 2 && strstr(dl.v[0].msg, bad[i].says),
			  "%s: %s", bad[i].line, dl.n ? dl.v[0].msg : "no error");
		cr_expect_eq(l.n, 0, "%s", bad[i].line);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
	}
}

/*
 * pip tells an archive by its suffix in any case (is_archive_file lowers it): a line that
 * ends in `.WHL` or `.Tar.Gz` is a path like one in `.whl` or `.tar.gz`, named and
 * versioned by its file name. Not a project named after the path, and not a local
 * directory of the project's own (which the scan does not report): either would let the
 * package pass unchecked.
 */
Test(lockfiles, requirements_archive_suffixes_in_any_case)
{
	static const char txt[] = "dist/Jinja2-2.8-py2.py3-none-any.WHL\n"
				  "./pkgs/urllib3-1.26.0.Tar.Gz\n"
				  "six-1.16.0-py2.py3-none-any.Whl\n"
				  "requests-2.0.0.TGZ\n"
				  "https://files.example/Django-2.0.TAR.GZ\n"
				  "pkg @ https://files.example/pkg-1.0.ZIP\n"
				  "wheels/PyYAML-5.3-cp39-cp39-linux_x86_64.WHL[x]\n"
				  "lxml-4.0.Tar.Bz2\n";
	static const struct name_version_line want[] = {
		{ "jinja2", "2.8", 1 },	    { "urllib3", "1.26.0", 2 }, { "six", "1.16.0", 3 },
		{ "requests", "2.0.0", 4 }, { "django", "2.0", 5 },	{ "pkg", "1.0", 6 },
		{ "pyyaml", "5.3", 7 },	    { "lxml", "4.0", 8 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", txt), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "requirements.txt");
	for (size_t i = 0; i < l.n; i++) {
		cr_expect(!(l.v[i].flags & DEP_UNPINNED), "%s: pinned by its file name",
			  l.v[i].name);
	}
	dep_list_release(&l);
	diag_list_release(&dl);

	/* One whose file name gives no name is an error, as in lower case. */
	static const char *const bad[] = { "dist/thing.ZIP\n", "Thing.TAR.GZ\n",
					   "lib/some-odd-name-1.0.Tar.Gz\n" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = tu_strf("six==1.16.0\n%s", bad[i]);
		cr_expect_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", text),
			     -EINVAL, "%s", bad[i]);
		cr_expect(dl.n == 1 && dl.v[0].line == 2 &&
				  strstr(dl.v[0].msg, "cannot tell the name"),
			  "%s: %s", bad[i], dl.n ? dl.v[0].msg : "no error");
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
	}
}

/* ---------- requirements.txt: includes in every spelling pip reads ---------- */

Test(lockfiles, requirements_includes_in_every_spelling_are_followed)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "requirements.txt",
		 "-rbase/attached.txt\n"
		 "--requirement=base/long-equals.txt\n"
		 "--requirement base/long-space.txt\n"
		 "-r base/short-space.txt\n"
		 "-cbase/c-attached.txt\n"
		 "-c base/c-space.txt\n"
		 "--constraint=base/c-long.txt\n"
		 "--requirem base/abbreviated.txt\n"
		 "--cons=base/c-abbreviated.txt\n"
		 "-r \"base/quoted name.txt\" --index-url https://pypi.example/simple\n"
		 "six==1.16.0\n");
	static const char *const included[] = {
		"attached", "long-equals", "long-space",  "short-space",   "c-attached",
		"c-space",  "c-long",	   "abbreviated", "c-abbreviated", "quoted name",
	};
	for (size_t i = 0; i < ARRAY_SIZE(included); i++) {
		char *name = tu_strf("base/%s.txt", included[i]);
		char *text = tu_strf("# %s\npkg-%zu==1.0.%zu\n", included[i], i, i);
		tu_write(dir, name, text);
		free(name);
		free(text);
	}
	/* An attached include back to the top: a cycle, read once. */
	tu_write(dir, "base/attached.txt", "-r../requirements.txt\npkg-0==1.0.0\n");
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *path = tu_strf("%s/requirements.txt", dir);
	cr_assert_eq(deps_parse_file(&l, path, "requirements.txt", DEP_REQUIREMENTS, &dl), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, ARRAY_SIZE(included) + 1, "%zu packages", l.n);
	expect_line(&l, "six", "1.16.0", "requirements.txt", 11);
	expect_line(&l, "pkg-0", "1.0.0", "base/attached.txt", 2);
	for (size_t i = 1; i < ARRAY_SIZE(included); i++) {
		char *name = tu_strf("pkg-%zu", i), *version = tu_strf("1.0.%zu", i),
		     *file = tu_strf("base/%s.txt", included[i]);
		expect_line(&l, name, version, file, 2);
		const struct dep *d = find_dep(&l, name, version);
		cr_expect(d && d->groups && str_eq(d->groups, included[i]), "%s: groups %s", name,
			  d && d->groups ? d->groups : "(null)");
		free(name);
		free(version);
		free(file);
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	free(path);
	tu_rmdir(dir);
	free(dir);
}

Test(lockfiles, requirements_includes_fail_closed)
{
	static const struct {
		const char *text;
		const char *says;
	} bad[] = {
		/* A file that is not there, in the attached spellings too. */
		{ "six==1.16.0\n-rmissing.txt\n", "cannot read the included requirements file" },
		{ "six==1.16.0\n-cmissing.txt\n", "cannot read the included requirements file" },
		{ "six==1.16.0\n--requirement=missing.txt\n",
		  "cannot read the included requirements file" },
		/* An include option without its file. */
		{ "six==1.16.0\n-r\n", "names no file" },
		{ "six==1.16.0\n--constraint=\n", "names no file" },
		{ NULL, "more than 100 included requirement files" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *dir = tu_tmpdir();
		char *text = NULL;
		if (bad[i].text) {
			text = tu_strf("%s", bad[i].text);
		} else {
			/* The cap counts the files includes read, however they are spelt. */
			text = tu_strf("six==1.16.0\n");
			for (unsigned k = 0; k < 101; k++) {
				char *name = tu_strf("inc/%u.txt", k);
				tu_write(dir, name, "");
				char *more = tu_strf("%s%s%s\n", text, k % 2 ? "-r" : "-c", name);
				free(text);
				free(name);
				text = more;
			}
		}
		tu_write(dir, "requirements.txt", text);
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		char *path = tu_strf("%s/requirements.txt", dir);
		cr_expect_eq(deps_parse_file(&l, path, "requirements.txt", DEP_REQUIREMENTS, &dl),
			     -EINVAL, "case %zu", i);
		cr_expect(dl.n == 1 && strstr(dl.v[0].msg, bad[i].says), "case %zu: %s", i,
			  dl.n ? dl.v[0].msg : "(no diagnostic)");
		cr_expect(dl.n == 1 && dl.v[0].line >= 2, "case %zu", i);
		cr_expect_eq(l.n, 0, "case %zu: a failed file contributes nothing", i);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(path);
		free(text);
		tu_rmdir(dir);
		free(dir);
	}
}

/* Parse dir/requirements.txt as a walk of dir would (inside the tree dir). */
static int scan_requirements(const char *dir, struct dep_list *l, struct diag_list *dl)
{
	char *path = tu_strf("%s/requirements.txt", dir);
	const char *paths[] = { path };
	dep_list_init(l);
	diag_list_init(dl, 20);
	int r = deps_scan_paths(l, dir, paths, 1, dl);
	free(path);
	return r;
}

/*
 * The cap of 100 included files counts the files includes read: an include of a file
 * read already (a constraints file every file of a set names, a cycle, a file included
 * again and again) reads nothing and counts for nothing. What it stops is what reads:
 * more than 100 different files, side by side or in a chain. Cycles and a fan of
 * includes that would read the same files over and over end because each file is read
 * once.
 */
Test(lockfiles, requirements_includes_of_files_read_already_do_not_count)
{
	/* 80 files that each name the same constraints file: 160 include options, 81 files
	 * read. */
	char *dir = tu_tmpdir();
	char *top = tu_strf("django==4.2.1\n");
	for (unsigned k = 0; k < 80; k++) {
		char *name = tu_strf("reqs/part-%u.txt", k);
		char *text = tu_strf("-c constraints.txt\npkg-%u==1.0\n", k);
		tu_write(dir, name, text);
		char *more = tu_strf("%s-r %s\n", top, name);
		free(top);
		top = more;
		free(name);
		free(text);
	}
	tu_write(dir, "reqs/constraints.txt", "six==1.16.0\n");
	tu_write(dir, "requirements.txt", top);
	free(top);
	struct dep_list l;
	struct diag_list dl;
	cr_expect_eq(scan_requirements(dir, &l, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 82, "%zu packages", l.n);
	cr_expect_eq(count_dep(&l, "six", "1.16.0"), 1);
	cr_expect_eq(l.n_files, 82, "%zu files", l.n_files);
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);

	/* A cycle of two files, each naming the other 1000 times, and a file that names
	 * itself 1000 times: each read once. */
	dir = tu_tmpdir();
	char *a = tu_strf("six==1.16.0\n"), *b = tu_strf("django==4.2.1\n");
	for (unsigned k = 0; k < 1000; k++) {
		char *na = tu_strf("%s-r b.txt\n-r requirements.txt\n", a);
		char *nb = tu_strf("%s-c requirements.txt\n-r ./b.txt\n", b);
		free(a);
		free(b);
		a = na;
		b = nb;
	}
	tu_write(dir, "requirements.txt", a);
	tu_write(dir, "b.txt", b);
	free(a);
	free(b);
	cr_expect_eq(scan_requirements(dir, &l, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 2, "%zu packages", l.n);
	cr_expect_eq(l.n_files, 2, "%zu files", l.n_files);
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);

	/* A fan: each of 30 levels names both files of the next one 50 times (2^30 reads
	 * if every include read its file): 60 files, each read once. */
	dir = tu_tmpdir();
	for (unsigned level = 0; level < 30; level++) {
		for (unsigned side = 0; side < 2; side++) {
			char *text = tu_strf("pkg-%u-%u==1.0\n", level, side);
			for (unsigned k = 0; level + 1 < 30 && k < 50; k++) {
				char *more = tu_strf("%s-r %u-a.txt\n-c %u-b.txt\n", text,
						     level + 1, level + 1);
				free(text);
				text = more;
			}
			char *name = tu_strf("%u-%c.txt", level, side ? 'b' : 'a');
			tu_write(dir, name, text);
			free(name);
			free(text);
		}
	}
	tu_write(dir, "requirements.txt", "-r 0-a.txt\n-r 0-b.txt\n");
	cr_expect_eq(scan_requirements(dir, &l, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 60, "%zu packages", l.n);
	cr_expect_eq(l.n_files, 61, "%zu files", l.n_files);
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);

	/* A chain of 101 different files, each including the next (and the first again):
	 * the cap stops it, at the include of the 101st, in the file that names it. */
	dir = tu_tmpdir();
	for (unsigned k = 0; k <= 101; k++) {
		char *name = tu_strf("chain/%u.txt", k);
		char *text = tu_strf("-r 0.txt\n-r %u.txt\npkg-%u==1.0\n", k + 1, k);
		tu_write(dir, name, k == 101 ? "six==1.16.0\n" : text);
		free(name);
		free(text);
	}
	tu_write(dir, "requirements.txt", "-r chain/0.txt\n");
	cr_expect_eq(scan_requirements(dir, &l, &dl), -EINVAL);
	cr_expect(dl.n == 1 && strstr(dl.v[0].msg, "more than 100 included requirement files") &&
			  str_eq(dl.v[0].file, "chain/99.txt") && dl.v[0].line == 2,
		  "%s:%u: %s", dl.n ? dl.v[0].file : "", dl.n ? dl.v[0].line : 0,
		  dl.n ? dl.v[0].msg : "(no diagnostic)");
	cr_expect_eq(l.n, 0, "a failed file contributes nothing");
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);
}

/* A scan reads includes inside the tree it scans only: an include naming a file outside
 * (absolute, or through ..) is an error, not a file whose lines become package names in
 * the report and the SBOM. Inside, also in another directory, it is followed. */
Test(lockfiles, requirements_includes_stay_inside_the_scanned_tree)
{
	char *top = tu_tmpdir();
	char *dir = tu_strf("%s/ws", top);
	tu_write(top, "outside.txt", "leaked==1.0\n");
	tu_write(dir, "requirements/base.txt", "six==1.16.0\n");
	static const char *const bad[] = { "-r /etc/passwd\n", "-r ../../outside.txt\n",
					   "--constraint=../../outside.txt\n" };
	for (size_t i = 0; i < ARRAY_SIZE(bad) + 1; i++) {
		bool ok = i == ARRAY_SIZE(bad);
		tu_write(dir, "app/requirements.txt",
			 ok ? "-r ../requirements/base.txt\n" : bad[i]);
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		const char *paths[] = { dir };
		int r = deps_scan_paths(&l, dir, paths, 1, &dl);
		if (ok) {
			cr_expect_eq(r, 0, "%s", dl.n ? dl.v[0].msg : "");
			cr_expect(find_dep(&l, "six", "1.16.0"), "the include inside was followed");
		} else {
			cr_expect_eq(r, -EINVAL, "%s", bad[i]);
			cr_expect(dl.n && strstr(dl.v[0].msg, "outside the scanned tree"), "%s: %s",
				  bad[i], dl.n ? dl.v[0].msg : "(none)");
			cr_expect_null(find_dep(&l, "leaked", "1.0"));
		}
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	free(dir);
	tu_rmdir(top);
	free(top);
}

/* A scan of the whole tree ws succeeds (l and dl initialised; the caller releases). */
static void expect_tree_read(const char *ws, struct dep_list *l, struct diag_list *dl)
{
	dep_list_init(l);
	diag_list_init(dl, 20);
	const char *paths[] = { ws };
	cr_expect_eq(deps_scan_paths(l, ws, paths, 1, dl), 0, "%s:%u:%u: %s",
		     dl->n ? dl->v[0].file : "", dl->n ? dl->v[0].line : 0,
		     dl->n ? dl->v[0].col : 0, dl->n ? dl->v[0].msg : "");
}

/* requirements.txt of the tree ws, a pinned package then line: a scan of it fails, with
 * one error at line 2, column col, that says says. */
static void expect_line_2_refused(const char *ws, const char *line, unsigned col, const char *says)
{
	char *text = tu_strf("six==1.16.0\n%s", line);
	tu_write(ws, "requirements.txt", text);
	free(text);
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *path = tu_strf("%s/requirements.txt", ws);
	const char *one[] = { path };
	cr_expect_eq(deps_scan_paths(&l, ws, one, 1, &dl), -EINVAL, "%s", line);
	cr_expect(dl.n == 1 && str_eq(dl.v[0].file, "requirements.txt") && dl.v[0].line == 2 &&
			  dl.v[0].col == col && strstr(dl.v[0].msg, says),
		  "%s-> %s:%u:%u: %s", line, dl.n ? dl.v[0].file : "", dl.n ? dl.v[0].line : 0,
		  dl.n ? dl.v[0].col : 0, dl.n ? dl.v[0].msg : "(no error)");
	cr_expect_eq(l.n, 0, "%s", line);
	dep_list_release(&l);
	diag_list_release(&dl);
	free(path);
}

/*
 * A local directory pip installs (`.`, `src/mypkg`, `./libs/x`, `-e ../shared/pkg`, a
 * file: URL) is the project's own code when it is a project's directory (setup.py or
 * pyproject.toml) of the scanned tree: pip reads it relative to the directory it runs in
 * (the requirements file's, or one above it). One that is no project's directory there,
 * or lies or leads outside the tree, is an error at
 * its file, line and column: pip fails on a missing one, and what one outside installs
 * could not be checked.
 */
Test(lockfiles, requirements_local_projects_are_directories_of_the_tree)
{
	char *top = tu_tmpdir();
	char *ws = tu_strf("%s/ws", top);
	tu_write(ws, "pyproject.toml", "[project]\nname = \"app\"\n");
	tu_write(ws, "src/mypkg/pyproject.toml", "");
	tu_write(ws, "src/my pkg/setup.py", "");
	tu_write(ws, "libs/x/setup.py", "");
	tu_write(ws, "libs/file.txt", "not a project\n");
	char *empty = tu_strf("%s/libs/empty", ws);
	cr_assert_eq(mkdir(empty, 0755), 0);
	free(empty);
	tu_write(ws, "shared/pkg/setup.py", "");
	tu_write(ws, "services/api/app/setup.py", "");
	tu_write(top, "outside-pkg/setup.py", "");
	char *link_target = tu_strf("%s/outside-pkg", top);
	char *link = tu_strf("%s/libs/escape", ws);
	cr_assert_eq(symlink(link_target, link), 0);
	char *inner = tu_strf("%s/libs/inner", ws);
	cr_assert_eq(symlink("x", inner), 0);
	/* What a link out of the tree looks like in the sandbox, where nothing outside is. */
	char *dangling = tu_strf("%s/libs/dangling", ws);
	cr_assert_eq(symlink("../../nothing-here/pkg", dangling), 0);
	char *dangling_abs = tu_strf("%s/libs/dangling-abs", ws);
	cr_assert_eq(symlink("/nonexistent/pkg", dangling_abs), 0);
	char *dangling_in = tu_strf("%s/libs/dangling-in", ws);
	cr_assert_eq(symlink("../src/gone", dangling_in), 0);

	/* Relative to the file's directory, to one above it (services/api, where pip runs
	 * for it; the top), absolute or as a file: URL inside the tree, in any case. */
	char *good = tu_strf(".\n"
			     "-e .\n"
			     "src/mypkg\n"
			     "./libs/x\n"
			     "-e ./libs/x[dev]\n"
			     "--editable=src/mypkg\n"
			     "./libs/inner\n"
			     "-e %s/libs/x\n"
			     "-e File://%s/src/mypkg\n"
			     "-e FILE:src/mypkg\n"
			     "file://localhost%s/libs/x\n"
			     "-e file:%s/src/my%%20pkg\n"
			     "six==1.16.0\n",
			     ws, ws, ws, ws);
	tu_write(ws, "requirements.txt", good);
	tu_write(ws, "services/api/requirements/dev.txt",
		 "-e .\n-e ./app\n../shared/pkg\n-e src/mypkg\ndjango==4.2.1\n");
	struct dep_list l;
	struct diag_list dl;
	expect_tree_read(ws, &l, &dl);
	cr_expect_eq(l.n, 2, "only the packages: %zu", l.n);
	cr_expect(find_dep(&l, "six", "1.16.0") && find_dep(&l, "django", "4.2.1"));
	dep_list_release(&l);
	diag_list_release(&dl);
	free(good);

	/* Each on line 2 of requirements.txt, at its column. */
	struct {
		const char *line;
		unsigned col;
		const char *says;
	} bad[] = {
		{ "src/missing\n", 1, "does not exist" },
		{ "  ./libs/nothere\n", 3, "does not exist" },
		{ "-e ./libs/nothere\n", 4, "does not exist" },
		{ "--editable=libs/nothere\n", 12, "does not exist" },
		{ "-e mypkg\n", 4, "does not exist" },
		{ "-e FILE:src/missing\n", 4, "does not exist" },
		{ "libs/file.txt\n", 1, "is not a directory" },
		{ "./libs/empty\n", 1, "without setup.py or pyproject.toml" },
		{ "-e libs\n", 4, "without setup.py or pyproject.toml" },
		{ "-e /etc\n", 4, "outside the scanned tree" },
		{ "-e /nonexistent/pkg\n", 4, "outside the scanned tree" },
		{ "../outside-pkg\n", 1, "outside the scanned tree" },
		{ "../../../../../../../../../nothing/pkg\n", 1, "outside the scanned tree" },
		{ "./libs/escape\n", 1, "outside the scanned tree" },
		{ "./libs/dangling\n", 1, "outside the scanned tree" },
		{ "-e libs/dangling-abs/sub\n", 4, "outside the scanned tree" },
		{ "./libs/dangling-in\n", 1, "does not exist" },
		{ "-e file:///etc\n", 4, "outside the scanned tree" },
		{ "-e file://otherhost/srv/pkg\n", 4, "names no local directory" },
		{ "-e file:///srv/%00x\n", 4, "names no local directory" },
		{ "-e ${PKG_DIR}/x\n", 4, "environment variable" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_line_2_refused(ws, bad[i].line, bad[i].col, bad[i].says);
	}

	/* In an included file, relative to where pip runs too (not the included file's
	 * directory only), and its error names that file. */
	tu_write(ws, "requirements.txt", "-r services/api/requirements/dev.txt\n");
	tu_write(ws, "services/api/requirements/dev.txt", "-e ./app\n./nothing\n");
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	const char *paths[] = { ws };
	cr_expect_eq(deps_scan_paths(&l, ws, paths, 1, &dl), -EINVAL);
	cr_expect(dl.n == 1 && str_eq(dl.v[0].file, "services/api/requirements/dev.txt") &&
			  dl.v[0].line == 2 && dl.v[0].col == 1 &&
			  strstr(dl.v[0].msg, "'./nothing' does not exist"),
		  "%s:%u: %s", dl.n ? dl.v[0].file : "", dl.n ? dl.v[0].line : 0,
		  dl.n ? dl.v[0].msg : "(no error)");
	dep_list_release(&l);
	diag_list_release(&dl);

	free(dangling_in);
	free(dangling_abs);
	free(dangling);
	free(inner);
	free(link);
	free(link_target);
	free(ws);
	tu_rmdir(top);
	free(top);
}

/*
 * A local path that names its package is checked as an unnamed one is: an archive named
 * by its file name (`wheels/six-1.16.0-py2.py3-none-any.whl`, `dist/pkg-1.0.tar.gz`, a
 * file: URL, `name @ file:...`) must be a file of the scanned tree, a directory named by
 * `#egg=` (a file: URL) or by `name @ file:...` a project's directory there; looked for
 * where pip may run (the file's directory and each above it). A plain path takes no
 * #egg=: pip 23.2 reads `./pkg#egg=x` as the path `pkg#egg=x` (checked with pip's own
 * parser), which is missing. Missing, of the wrong kind, or outside the tree is an error at
 * file:line:column.
 */
Test(lockfiles, requirements_local_archives_and_named_paths_are_checked)
{
	char *top = tu_tmpdir();
	char *ws = tu_strf("%s/ws", top);
	tu_write(ws, "wheels/six-1.16.0-py2.py3-none-any.whl", "");
	tu_write(ws, "dist/pkg-1.0.tar.gz", "");
	tu_write(ws, "libs/x/setup.py", "");
	tu_write(ws, "wheels/dir-1.0-py3-none-any.whl/setup.py", "");
	tu_write(top, "outside-1.0-py3-none-any.whl", "");
	char *target = tu_strf("%s/outside-1.0-py3-none-any.whl", top);
	char *link = tu_strf("%s/wheels/escape-1.0-py3-none-any.whl", ws);
	cr_assert_eq(symlink(target, link), 0);

	char *good = tu_strf("wheels/six-1.16.0-py2.py3-none-any.whl\n"
			     "./dist/pkg-1.0.tar.gz[extra]\n"
			     "file://%s/dist/pkg-1.0.tar.gz\n"
			     "named @ file://%s/dist/pkg-1.0.tar.gz\n"
			     "-e file://%s/libs/x#egg=xlib\n"
			     "xpkg @ file://%s/libs/x\n",
			     ws, ws, ws, ws);
	tu_write(ws, "requirements.txt", good);
	/* pip runs at the top for this one: the wheel is found there. */
	tu_write(ws, "services/api/requirements/dev.txt",
		 "wheels/six-1.16.0-py2.py3-none-any.whl\n");
	struct dep_list l;
	struct diag_list dl;
	expect_tree_read(ws, &l, &dl);
	cr_expect(find_dep(&l, "six", "1.16.0") && find_dep(&l, "pkg", "1.0") &&
			  find_dep(&l, "named", "0.0.0") && find_dep(&l, "xlib", "0.0.0") &&
			  find_dep(&l, "xpkg", "0.0.0"),
		  "%zu packages", l.n);
	dep_list_release(&l);
	diag_list_release(&dl);
	free(good);
	tu_write(ws, "services/api/requirements/dev.txt", "six==1.16.0\n");

	/* Each on line 2 of requirements.txt, at its column. */
	struct {
		char *line;
		unsigned col;
		const char *says;
	} bad[] = {
		{ tu_strf("./wheels/missing-1.0-py3-none-any.whl\n"), 1, "does not exist" },
		{ tu_strf("dist/gone-2.0.tar.gz\n"), 1, "does not exist" },
		{ tu_strf("  wheels/missing-1.0-py3-none-any.whl[x]\n"), 3, "does not exist" },
		{ tu_strf("./libs/x#egg=xlib\n"), 1, "'./libs/x#egg=xlib' does not exist" },
		{ tu_strf("-e ./libs/x#egg=xlib\n"), 4, "does not exist" },
		{ tu_strf("file://%s/wheels/missing-1.0-py3-none-any.whl\n", ws), 1,
		  "does not exist" },
		{ tu_strf("missing @ file://%s/wheels/missing-1.0-py3-none-any.whl\n", ws), 11,
		  "does not exist" },
		{ tu_strf("xpkg @ file://%s/libs/nothere\n", ws), 8, "does not exist" },
		{ tu_strf("-e file://%s/libs/nothere#egg=x\n", ws), 4, "does not exist" },
		{ tu_strf("../outside-1.0-py3-none-any.whl\n"), 1, "outside the scanned tree" },
		{ tu_strf("%s/outside-1.0-py3-none-any.whl\n", top), 1,
		  "outside the scanned tree" },
		{ tu_strf("wheels/escape-1.0-py3-none-any.whl\n"), 1, "outside the scanned tree" },
		{ tu_strf("wheels/dir-1.0-py3-none-any.whl\n"), 1, "is not a file" },
		{ tu_strf("${WHEELS}/six-1.16.0-py2.py3-none-any.whl\n"), 1,
		  "environment variable" },
		{ tu_strf("x @ file://otherhost/srv/x-1.0.tar.gz\n"), 5, "names no local file" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_line_2_refused(ws, bad[i].line, bad[i].col, bad[i].says);
		free(bad[i].line);
	}
	free(link);
	free(target);
	free(ws);
	tu_rmdir(top);
	free(top);
}

/* Each local project is looked for in every directory from its file's up to the top of
 * the tree: a line repeated is looked for once, and more than 1000 of them (here one
 * directory spelt 1001 ways) are an error, which bounds the look-ups a file can ask for. */
Test(lockfiles, requirements_local_projects_are_capped)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "x/setup.py", "");
	struct sbuf sb;
	sbuf_init(&sb, SIZE_MAX / 2);
	for (unsigned k = 0; k < 5000; k++) {
		sbuf_puts(&sb, "-e ./x\n");
	}
	sbuf_puts(&sb, "six==1.16.0\n");
	tu_write(dir, "requirements.txt", sb.data);
	struct dep_list l;
	struct diag_list dl;
	cr_expect_eq(scan_requirements(dir, &l, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 1);
	dep_list_release(&l);
	diag_list_release(&dl);
	sbuf_release(&sb);

	sbuf_init(&sb, SIZE_MAX / 2);
	for (unsigned k = 0; k <= 1000; k++) {
		sbuf_puts(&sb, "./x/");
		for (unsigned i = 0; i < k; i++) {
			sbuf_puts(&sb, "./");
		}
		sbuf_puts(&sb, "\n");
	}
	tu_write(dir, "requirements.txt", sb.data);
	cr_expect_eq(scan_requirements(dir, &l, &dl), -EINVAL);
	cr_expect(dl.n == 1 && dl.v[0].line == 1001 &&
			  strstr(dl.v[0].msg, "more than 1000 local projects"),
		  "%u: %s", dl.n ? dl.v[0].line : 0, dl.n ? dl.v[0].msg : "(no error)");
	dep_list_release(&l);
	diag_list_release(&dl);
	sbuf_release(&sb);
	tu_rmdir(dir);
	free(dir);
}

/*
 * Environment markers are cut off as pip 23.2's parse_req_from_line cuts them (each case
 * checked with pip's own parser, pip._internal.req): a URL line at its first "; ", so
 * that a ';' inside the URL stays in it (with or without blanks before the ';'); any
 * other requirement at its first ';', also inside the URL of a `name @ URL`; only before
 * the options (the first word after a space that starts with '-'). An option line is
 * split into words (shlex), a ';' inside one staying in it. What follows the cut must be
 * a marker, or pip refuses the file: an error at its line and column.
 */
Test(lockfiles, requirements_markers_are_cut_as_pip_cuts_them)
{
	static const char txt[] =
		"https://host/p;x=1/pkg-1.0.tar.gz ; python_version >= \"3.8\"\n"
		"https://host/q;v=2/other-2.0.tar.gz; python_version >= \"3.8\"\n"
		"https://host/r/third-3.0.tar.gz\t; python_version >= \"3.8\"\n"
		"pkg4 @ https://h/x;python_version>\"3\"\n"
		"-e git+https://host/p;x=1#egg=five\n"
		"six==1.16.0;os_name==\"posix\" and (python_version>\"3\" or extra=='x')\n"
		"seven==1.0 ; os.name == \"posix\"\n"
		"eight==1.0; \"linux\" in sys_platform and \"x\" not in platform_machine\n"
		"nine==1.0 ;\n"
		"ten==1.0;platform.python_implementation==\"CPython\"or(implementation_name=="
		"\"cpython\")\n"
		"eleven==1.0 --hash=sha256:ab ; not a marker: after the options\n"
		"https://h/x;y/twelve-1.0.tar.gz --hash=sha256:ab ; python_version>\"3\"\n";
	static const struct name_version_line want[] = {
		{ "pkg", "1.0", 1 },	{ "other", "2.0", 2 },	 { "third", "3.0", 3 },
		{ "pkg4", "0.0.0", 4 }, { "five", "0.0.0", 5 },	 { "six", "1.16.0", 6 },
		{ "seven", "1.0", 7 },	{ "eight", "1.0", 8 },	 { "nine", "1.0", 9 },
		{ "ten", "1.0", 10 },	{ "eleven", "1.0", 11 }, { "twelve", "1.0", 12 },
	};
	parse_exactly(DEP_REQUIREMENTS, "requirements.txt", txt, want, ARRAY_SIZE(want),
		      "requirements.txt");

	/* pip: "Invalid marker". Each on line 2, the column where the marker starts. */
	static const struct {
		const char *line;
		unsigned col;
	} bad[] = {
		{ "pkg @ https://host/p;x=1/pkg-1.0.tar.gz ; python_version >= \"3.8\"\n", 22 },
		{ "pkg>=1.0; garbage\n", 11 },
		{ "pkg; os_namex == \"posix\"\n", 6 },
		{ "./wheels/a;b/pkg-1.0-py3-none-any.whl\n", 12 },
		{ "pkg; python_version > \"3\" and\n", 6 },
		{ "pkg; (python_version > \"3\"\n", 6 },
		{ "pkg; python_version > '3\"\n", 6 },
		{ "pkg; python_version\n", 6 },
		{ "pkg==1.0\t--hash=sha256:ab ; garbage\n", 29 }, /* a tab splits no options */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dep_list l;
		struct diag_list dl;
		char *text = tu_strf("six==1.16.0\n%s", bad[i].line);
		cr_expect_eq(parse_text(&l, &dl, DEP_REQUIREMENTS, "requirements.txt", text),
			     -EINVAL, "%s", bad[i].line);
		cr_expect(dl.n == 1 && dl.v[0].line == 2 && dl.v[0].col == bad[i].col &&
				  strstr(dl.v[0].msg, "is not an environment marker"),
			  "%s-> %u:%u: %s", bad[i].line, dl.n ? dl.v[0].line : 0,
			  dl.n ? dl.v[0].col : 0, dl.n ? dl.v[0].msg : "(no error)");
		cr_expect_eq(l.n, 0, "%s", bad[i].line);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
	}
}

/*
 * pip joins a line that ends in a backslash with the next (dropping the backslashes at
 * both ends of the continued line, and a comment line ends it): an error in such a
 * logical line is reported where the offending text is in the file, on its own physical
 * line and at its column there (in bytes), not at the first line with a column counted in
 * the joined line. Line 1 of each file is six==1.16.0.
 */
Test(lockfiles, requirements_continued_lines_report_physical_positions)
{
	static const struct {
		const char *text; /* after line 1 */
		unsigned line, col;
		const char *says;
	} bad[] = {
		/* On the second physical line: the marker starts at 'p'. */
		{ "requests==2.0 \\\n    ; python_version < \"3\" garbage\n", 3, 7,
		  "is not an environment marker" },
		/* On the third. */
		{ "pkg \\\n  >=1.0 \\\n  ; garbage\n", 4, 5, "is not an environment marker" },
		/* On the first, as without a continuation. */
		{ "pkg; garbage \\\n  and more\n", 2, 6, "is not an environment marker" },
		/* Backslashes at the start of a continued line are dropped, not their columns:
		 * on the first line, and on a later one. */
		{ "\\\\pkg; garbage \\\n  and more\n", 2, 8, "is not an environment marker" },
		{ "pkg \\\n\\\\\\>=1.0 ; garbage \\\n  and more\n", 3, 12,
		  "is not an environment marker" },
		/* Columns count bytes, as on any line: a no-break space is two. */
		{ "pkg \\\n\xc2\xa0; garbage\n", 3, 5, "is not an environment marker" },
		/* A line of backslashes adds nothing: the name starts on the next one. */
		{ "\\\n  foo /bar\n", 3, 3, "'foo /bar' is not a project name" },
		/* A comment line ends the continuation; the lines after it count on. */
		{ "pkg==1.0 \\\n  ; garbage \\\n  # why\n", 3, 5, "is not an environment marker" },
		{ "pkg==1.0 \\\n  # why \\\nother; garbage\n", 4, 8,
		  "is not an environment marker" },
		/* Option lines: the file (or project) an option names, where it is. */
		{ "-r \\\n  missing.txt\n", 3, 3, "cannot read the included requirements file" },
		{ "--index-url https://pypi.example/simple \\\n  --constraint \\\n    "
		  "missing.txt\n",
		  4, 5, "cannot read the included requirements file" },
		{ "-c \\\n  base/\\\n\\missing.txt\n", 3, 3,
		  "cannot read the included requirements file" },
		{ "--index-url https://pypi.example/simple \\\n -e \\\n ./nothere\n", 4, 2,
		  "the local project './nothere' does not exist" },
		{ "--index-url https://pypi.example/simple \\\n  -r\n", 3, 3, "names no file" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *dir = tu_tmpdir();
		char *text = tu_strf("six==1.16.0\n%s", bad[i].text);
		tu_write(dir, "requirements.txt", text);
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(scan_requirements(dir, &l, &dl), -EINVAL, "case %zu", i);
		cr_expect(dl.n == 1 && dl.v[0].line == bad[i].line && dl.v[0].col == bad[i].col &&
				  strstr(dl.v[0].msg, bad[i].says),
			  "case %zu: %u:%u, not %u:%u: %s", i, dl.n ? dl.v[0].line : 0,
			  dl.n ? dl.v[0].col : 0, bad[i].line, bad[i].col,
			  dl.n ? dl.v[0].msg : "(no error)");
		cr_expect_eq(l.n, 0, "case %zu", i);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
		tu_rmdir(dir);
		free(dir);
	}
}

/*
 * The file (or project) an option names is reported where its text is in the file: the
 * quotes pip's shlex takes off it, before it or inside the option, take their columns
 * (the column is that of the argument's first character, not of a quote before it).
 */
Test(lockfiles, requirements_option_arguments_are_reported_where_they_are)
{
	static const struct {
		const char *text; /* after line 1 */
		unsigned line, col;
		const char *says;
	} bad[] = {
		{ "-r \"a b.txt\"\n", 2, 5, "cannot read the included requirements file a b.txt" },
		{ "-r 'a.txt'\n", 2, 5, "cannot read the included requirements file a.txt" },
		{ "-r ''\"a.txt\"\n", 2, 7, "cannot read the included requirements file a.txt" },
		{ "-r'a.txt'\n", 2, 4, "cannot read the included requirements file a.txt" },
		{ "--constraint='x.txt'\n", 2, 15,
		  "cannot read the included requirements file x.txt" },
		{ "--con\"straint\"=x.txt\n", 2, 16,
		  "cannot read the included requirements file x.txt" },
		{ "--requirement=\"\"x.txt\n", 2, 17,
		  "cannot read the included requirements file x.txt" },
		{ "-e \"./no where\"\n", 2, 5, "the local project './no where' does not exist" },
		{ "--editable='./nothere'\n", 2, 13,
		  "the local project './nothere' does not exist" },
		/* Quotes inside the argument come after its first character. */
		{ "-r a\"b c\".txt\n", 2, 4,
		  "cannot read the included requirements file ab c.txt" },
		/* On a continued line too. */
		{ "-r \\\n  \"missing.txt\"\n", 3, 4,
		  "cannot read the included requirements file missing.txt" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *dir = tu_tmpdir();
		char *text = tu_strf("six==1.16.0\n%s", bad[i].text);
		tu_write(dir, "requirements.txt", text);
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(scan_requirements(dir, &l, &dl), -EINVAL, "case %zu", i);
		cr_expect(dl.n == 1 && dl.v[0].line == bad[i].line && dl.v[0].col == bad[i].col &&
				  strstr(dl.v[0].msg, bad[i].says),
			  "case %zu: %u:%u, not %u:%u: %s", i, dl.n ? dl.v[0].line : 0,
			  dl.n ? dl.v[0].col : 0, bad[i].line, bad[i].col,
			  dl.n ? dl.v[0].msg : "(no error)");
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
		tu_rmdir(dir);
		free(dir);
	}
}

/*
 * The requirement that takes a scan past its cap of packages is an error at its line and
 * column. The list counts the packages of every file the scan read: it is filled here to
 * one below the cap, as earlier lockfiles would have filled it (the array is calloc'd,
 * its pages untouched but the last).
 */
Test(lockfiles, requirements_the_package_past_the_cap_is_an_error_where_it_is)
{
	static const char *const texts[] = {
		"six==1.16.0\n  requests==2.0\n",
		"six==1.16.0\n  pkg-1.0-py3-none-any.whl\n",
		"six==1.16.0\npkg \\\n \\\n   >=1.0\n",
	};
	static const unsigned cols[] = { 3, 3, 1 };
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		l.v = calloc(DEPS_MAX_PACKAGES, sizeof(*l.v));
		cr_assert_not_null(l.v);
		l.cap = DEPS_MAX_PACKAGES;
		l.n = DEPS_MAX_PACKAGES - 1;
		cr_expect_eq(deps_parse_buffer(&l, DEP_REQUIREMENTS, "requirements.txt", texts[i],
					       strlen(texts[i]), &dl),
			     -EINVAL, "case %zu", i);
		cr_expect(dl.n == 1 && dl.v[0].line == 2 && dl.v[0].col == cols[i] &&
				  strstr(dl.v[0].msg, "too many packages"),
			  "case %zu: %u:%u: %s", i, dl.n ? dl.v[0].line : 0, dl.n ? dl.v[0].col : 0,
			  dl.n ? dl.v[0].msg : "(no error)");
		cr_expect_eq(l.n, DEPS_MAX_PACKAGES - 1, "case %zu: the file adds nothing", i);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/*
 * URL schemes are case-insensitive (RFC 3986 3.1), and pip lowers them: `File:`, `FILE:`,
 * `GIT+HTTPS:`, `Hg+Https:`, `HTTPS:` are read like their lower-case spellings, a file: URL
 * as a local directory (`-e File:///src/pkg` was an error), the others named and versioned
 * as they would be.
 */
Test(lockfiles, requirements_url_schemes_in_any_case)
{
	static const char txt[] = "-e GIT+HTTPS://github.com/pallets/flask.git@2.0#egg=Flask\n"
				  "HTTPS://files.example/Django-2.0.tar.gz\n"
				  "Git+Ssh://git@github.com/psf/requests.git@v2.0#egg=requests\n"
				  "--editable=Hg+Https://hg.example/Pkg_One#egg=Pkg_One\n"
				  "pkg @ HTTPS://files.example/pkg-1.0.tar.gz\n"
				  "-e File:///srv/src/project\n"
				  "FILE:///srv/wheels/six-1.16.0-py2.py3-none-any.whl\n"
				  "Svn+Http://svn.example/repo/trunk#egg=svnpkg\n"
				  "-e fIlE:.\n";
	static const struct name_version_line want[] = {
		{ "flask", "0.0.0", 1 },   { "django", "2.0", 2 }, { "requests", "0.0.0", 3 },
		{ "pkg-one", "0.0.0", 4 }, { "pkg", "1.0", 5 },	   { "six", "1.16.0", 7 },
		{ "svnpkg", "0.0.0", 8 },
	};
	parse_exactly(DEP_REQUIREMENTS, "requirements.txt", txt, want, ARRAY_SIZE(want),
		      "requirements.txt");

	/* Read from a file: the file: URL is a directory of the tree, in any case; one
	 * that is not there is the error it is in lower case. */
	char *dir = tu_tmpdir();
	tu_write(dir, "src/pkg/setup.py", "");
	char *text = tu_strf("-e File://%s/src/pkg\n-e FILE:./src/pkg\nfile:src/pkg\n", dir);
	tu_write(dir, "requirements.txt", text);
	free(text);
	struct dep_list l;
	struct diag_list dl;
	cr_expect_eq(scan_requirements(dir, &l, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 0);
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_write(dir, "requirements.txt", "-e File:./src/nothing\n");
	cr_expect_eq(scan_requirements(dir, &l, &dl), -EINVAL);
	cr_expect(dl.n == 1 && strstr(dl.v[0].msg, "does not exist"), "%s",
		  dl.n ? dl.v[0].msg : "(no error)");
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);
}

/* A line an included file cannot be read at is that file's error, at its own line: not
 * the including file's, where that line number points at something else (or nothing). */
Test(lockfiles, an_error_in_an_included_requirements_file_names_that_file)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
#define BAD(s) { s, sizeof(s) - 1 }
		BAD("django==4.2.1\ngit+https://example.com/x.git\n"), /* no name to tell */
		BAD("django==4.2.1\npkg==1.0\0x\n"),		       /* a NUL byte */
		BAD("django==4.2.1\n-r\n"), /* an include option without its file */
#undef BAD
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *dir = tu_tmpdir();
		tu_write(dir, "requirements.txt", "six==1.16.0\n-r sub/base.txt\n");
		tu_write(dir, "sub/base.txt", "");
		char *base = tu_strf("%s/sub/base.txt", dir);
		FILE *f = fopen(base, "w");
		cr_assert_not_null(f);
		cr_assert_eq(fwrite(bad[i].text, 1, bad[i].len, f), bad[i].len);
		fclose(f);
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		const char *paths[] = { dir };
		cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), -EINVAL, "case %zu", i);
		cr_expect(dl.n >= 1, "case %zu: no diagnostic", i);
		for (size_t k = 0; k < dl.n; k++) {
			cr_expect_str_eq(dl.v[k].file, "sub/base.txt", "case %zu: %s:%u: %s", i,
					 dl.v[k].file, dl.v[k].line, dl.v[k].msg);
			cr_expect_eq(dl.v[k].line, 2, "case %zu: %s:%u: %s", i, dl.v[k].file,
				     dl.v[k].line, dl.v[k].msg);
		}
		cr_expect_null(find_dep(&l, "django", "4.2.1"), "case %zu", i);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(base);
		tu_rmdir(dir);
		free(dir);
	}
}

/* ---------- Maven: what Maven's model keeps ---------- */

Test(lockfiles, pom_property_given_twice_takes_the_last)
{
	/* Maven reads <properties> into a java.util.Properties: the last value wins. */
	static const char xml[] = "<project>\n"
				  "  <properties>\n"
				  "    <log4j.version>2.17.1</log4j.version>\n"
				  "    <log4j.version>2.14.1</log4j.version>\n"
				  "  </properties>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>org.apache.logging.log4j</groupId>\n"
				  "      <artifactId>log4j-core</artifactId>\n"
				  "      <version>${log4j.version}</version>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_assert_eq(l.n, 1);
	expect_pom_dep(&l, "org.apache.logging.log4j:log4j-core", "2.14.1", 10, 0, NULL);
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_explicit_version_wins_over_management_even_unresolved)
{
	/* ${log4j.version} is a parent's property (Maven builds 2.14.1 with it): the managed
	 * 2.17.1 must not stand in for it. */
	static const char xml[] = "<project>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>org.apache.logging.log4j</groupId>\n"
				  "      <artifactId>log4j-core</artifactId>\n"
				  "      <version>${log4j.version}</version>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "  <dependencyManagement>\n"
				  "    <dependencies>\n"
				  "      <dependency>\n"
				  "        <groupId>org.apache.logging.log4j</groupId>\n"
				  "        <artifactId>log4j-core</artifactId>\n"
				  "        <version>2.17.1</version>\n"
				  "      </dependency>\n"
				  "    </dependencies>\n"
				  "  </dependencyManagement>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 1);
	expect_pom_dep(&l, "org.apache.logging.log4j:log4j-core", "${log4j.version}", 6,
		       DEP_UNRESOLVED, "the property ${log4j.version} is not defined in this file");
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_empty_version_is_unresolved_not_unchecked)
{
	/* Maven refuses an empty version (it fails the build rather than take the managed
	 * one); left empty here, the package would be counted unchecked and pass unseen. */
	static const char xml[] = "<project>\n"
				  "  <properties>\n"
				  "    <nothing></nothing>\n"
				  "  </properties>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>blank</artifactId>\n"
				  "      <version> </version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>empty-property</artifactId>\n"
				  "      <version>${nothing}</version>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "  <dependencyManagement>\n"
				  "    <dependencies>\n"
				  "      <dependency>\n"
				  "        <groupId>org.example</groupId>\n"
				  "        <artifactId>blank</artifactId>\n"
				  "        <version>1.0</version>\n"
				  "      </dependency>\n"
				  "    </dependencies>\n"
				  "  </dependencyManagement>\n"
				  "</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 2);
	expect_pom_dep(&l, "org.example:blank", "", 9, DEP_UNRESOLVED, "an empty <version>");
	expect_pom_dep(&l, "org.example:empty-property", "", 14, DEP_UNRESOLVED,
		       "an empty <version>");
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_repeated_dependency_as_maven_keeps_it)
{
	/*
	 * What Maven 3's model builder gives for this file (checked with it): a dependency is
	 * groupId:artifactId:type:classifier; declared twice in <dependencies>, the last one
	 * is kept; twice in <dependencyManagement>, the first; another classifier or type is
	 * another dependency.
	 */
	static const char xml[] = "<project>\n"
				  "  <dependencies>\n"
				  "    <dependency>\n"
				  "      <groupId>org.apache.logging.log4j</groupId>\n"
				  "      <artifactId>log4j-core</artifactId>\n"
				  "      <version>2.17.1</version>\n"
				  "      <classifier>tests</classifier>\n"
				  "      <scope>test</scope>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.apache.logging.log4j</groupId>\n"
				  "      <artifactId>log4j-core</artifactId>\n"
				  "      <version>2.17.1</version>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.apache.logging.log4j</groupId>\n"
				  "      <artifactId>log4j-core</artifactId>\n"
				  "      <version>2.14.1</version>\n"
				  "      <type>jar</type>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>lib</artifactId>\n"
				  "      <version>3.0</version>\n"
				  "      <type>test-jar</type>\n"
				  "    </dependency>\n"
				  "    <dependency>\n"
				  "      <groupId>org.example</groupId>\n"
				  "      <artifactId>lib</artifactId>\n"
				  "    </dependency>\n"
				  "  </dependencies>\n"
				  "  <dependencyManagement>\n"
				  "    <dependencies>\n"
				  "      <dependency>\n"
				  "        <groupId>org.example</groupId>\n"
				  "        <artifactId>lib</artifactId>\n"
				  "        <version>1.0</version>\n"
				  "      </dependency>\n"
				  "      <dependency>\n"
				  "        <groupId>org.example</groupId>\n"
				  "        <artifactId>lib</artifactId>\n"
				  "        <version>2.0</version>\n"
				  "      </dependency>\n"
				  "    </dependencies>\n"
				  "  </dependencyManagement>\n"
				  "</project>\n";
	static const struct name_version_line want[] = {
		{ "org.apache.logging.log4j:log4j-core", "2.17.1", 6 },
		{ "org.apache.logging.log4j:log4j-core", "2.14.1", 18 },
		{ "org.example:lib", "3.0", 24 },
		{ "org.example:lib", "1.0", 37 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "pom.xml");
	const struct dep *d = find_dep(&l, "org.apache.logging.log4j:log4j-core", "2.14.1");
	cr_expect(d && d->flags == 0 && !d->groups, "log4j-core 2.14.1: compile scope, pinned");
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* ---------- Maven: profiles ---------- */

/* The package name@version has exactly these groups (NULL: none). */
static void expect_groups(const struct dep_list *l, const char *name, const char *version,
			  const char *groups)
{
	const struct dep *d = find_dep(l, name, version);
	cr_assert_not_null(d, "%s@%s is missing", name, version);
	if (groups) {
		cr_expect(d->groups && str_eq(d->groups, groups), "%s@%s: groups '%s', not '%s'",
			  name, version, d->groups ? d->groups : "(null)", groups);
	} else {
		cr_expect_null(d->groups, "%s@%s: groups '%s'", name, version, d->groups);
	}
}

Test(lockfiles, pom_profiles_every_build_the_file_can_make)
{
	/*
	 * Maven 3's model builder gives: by default (q is active: -Dskip is not set, which
	 * turns the activeByDefault def off) a 1.0, b 1.0, m 1.0, q 1.0; with -Dskip also d 1.0
	 * instead of q; with -P p, a 2.0, b 2.0, m 2.0, c 1.0 and q 1.0. All of them are
	 * reported, those of p and q in the group of their profile.
	 */
	static const char xml[] =
		"<project>\n"
		"  <properties><v>1.0</v></properties>\n"
		"  <dependencies>\n"
		"    <dependency><groupId>g</groupId><artifactId>a</artifactId>\n"
		"      <version>${v}</version></dependency>\n"
		"    <dependency><groupId>g</groupId><artifactId>b</artifactId>\n"
		"      <version>1.0</version></dependency>\n"
		"    <dependency><groupId>g</groupId><artifactId>m</artifactId>\n"
		"    </dependency>\n"
		"  </dependencies>\n"
		"  <dependencyManagement><dependencies>\n"
		"    <dependency><groupId>g</groupId><artifactId>m</artifactId>\n"
		"      <version>1.0</version></dependency>\n"
		"  </dependencies></dependencyManagement>\n"
		"  <profiles>\n"
		"    <profile><id>def</id>\n"
		"      <activation><activeByDefault> TRUE </activeByDefault></activation>\n"
		"      <dependencies>\n"
		"        <dependency><groupId>g</groupId><artifactId>d</artifactId>\n"
		"          <version>1.0</version></dependency>\n"
		"      </dependencies>\n"
		"    </profile>\n"
		"    <profile><id>p</id>\n"
		"      <properties><v>2.0</v></properties>\n"
		"      <dependencies>\n"
		"        <dependency><groupId>g</groupId><artifactId>b</artifactId>\n"
		"          <version>2.0</version></dependency>\n"
		"        <dependency><groupId>g</groupId><artifactId>c</artifactId>\n"
		"          <version>1.0</version><scope>runtime</scope></dependency>\n"
		"      </dependencies>\n"
		"      <dependencyManagement><dependencies>\n"
		"        <dependency><groupId>g</groupId><artifactId>m</artifactId>\n"
		"          <version>2.0</version></dependency>\n"
		"      </dependencies></dependencyManagement>\n"
		"    </profile>\n"
		"    <profile><id>q</id>\n"
		"      <activation><property><name>!skip</name></property></activation>\n"
		"      <dependencies>\n"
		"        <dependency><groupId>g</groupId><artifactId>q</artifactId>\n"
		"          <version>1.0</version></dependency>\n"
		"      </dependencies>\n"
		"    </profile>\n"
		"    <profile><id>plugins-only</id><build/></profile>\n"
		"  </profiles>\n"
		"</project>\n";
	static const struct name_version_line want[] = {
		{ "g:a", "1.0", 5 },  { "g:b", "1.0", 7 },  { "g:m", "1.0", 13 },
		{ "g:d", "1.0", 20 }, { "g:a", "2.0", 5 },  { "g:b", "2.0", 27 },
		{ "g:c", "1.0", 29 }, { "g:m", "2.0", 33 }, { "g:q", "1.0", 40 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "pom.xml");
	/* The default build's, without a profile group (d is in it: activeByDefault). */
	expect_groups(&l, "g:a", "1.0", NULL);
	expect_groups(&l, "g:m", "1.0", NULL);
	expect_groups(&l, "g:d", "1.0", NULL);
	/* Only with a profile: in its group, with their scope. */
	expect_groups(&l, "g:a", "2.0", "profile:p");
	expect_groups(&l, "g:b", "2.0", "profile:p");
	expect_groups(&l, "g:c", "1.0", "profile:p,runtime");
	expect_groups(&l, "g:m", "2.0", "profile:p");
	expect_groups(&l, "g:q", "1.0", "profile:q");
	for (size_t i = 0; i < l.n; i++) {
		cr_expect_eq(l.v[i].flags, 0, "%s@%s", l.v[i].name, l.v[i].version);
	}
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_profile_active_by_default_is_the_default_build)
{
	/* The reviewer's case: log4j-core only in an activeByDefault profile. */
	static const char xml[] =
		"<project>\n"
		"  <profiles><profile><id>default</id>\n"
		"    <activation><activeByDefault>true</activeByDefault></activation>\n"
		"    <properties><log4j.version>2.14.1</log4j.version></properties>\n"
		"    <dependencies>\n"
		"      <dependency>\n"
		"        <groupId>org.apache.logging.log4j</groupId>\n"
		"        <artifactId>log4j-core</artifactId>\n"
		"        <version>${log4j.version}</version>\n"
		"      </dependency>\n"
		"    </dependencies>\n"
		"  </profile></profiles>\n"
		"  <dependencies>\n"
		"    <dependency><groupId>junit</groupId><artifactId>junit</artifactId>\n"
		"      <version>4.13.2</version></dependency>\n"
		"  </dependencies>\n"
		"</project>\n";
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_pom(&l, &dl, xml), 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n, 2);
	expect_pom_dep(&l, "org.apache.logging.log4j:log4j-core", "2.14.1", 9, 0, NULL);
	expect_pom_dep(&l, "junit:junit", "4.13.2", 15, 0, NULL);
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, pom_profiles_beyond_the_budget_are_an_error)
{
	/* 1,000 dependencies read again for each of 250 profiles: past the cap, the file is
	 * an error rather than half read. */
	char *xml = tu_strf("<project>\n<dependencies>\n");
	for (unsigned i = 0; i < 1000; i++) {
		char *more =
			tu_strf("%s<dependency><groupId>g</groupId><artifactId>a%u</artifactId>"
				"<version>1.0</version></dependency>\n",
				xml, i);
		free(xml);
		xml = more;
	}
	char *more = tu_strf("%s</dependencies>\n<profiles>\n", xml);
	free(xml);
	xml = more;
	for (unsigned i = 0; i < 250; i++) {
		more = tu_strf(
			"%s<profile><id>p%u</id><properties><x>%u</x></properties></profile>\n",
			xml, i, i);
		free(xml);
		xml = more;
	}
	more = tu_strf("%s</profiles>\n</project>\n", xml);
	free(xml);
	xml = more;
	struct dep_list l;
	struct diag_list dl;
	cr_expect_eq(parse_pom(&l, &dl, xml), -EINVAL);
	cr_expect(dl.n == 1 && strstr(dl.v[0].msg, "too many profiles"), "%s",
		  dl.n ? dl.v[0].msg : "(no diagnostic)");
	cr_expect_eq(l.n, 0);
	dep_list_release(&l);
	diag_list_release(&dl);
	free(xml);
}

/* A registry credential in a URL given as a version (an npm v1 tarball dependency) goes
 * into no package: the userinfo becomes "***", so neither reports, the SBOM nor a purl
 * carries it. */
Test(lockfiles, credentials_in_url_versions_are_removed)
{
	static const char lock[] =
		"{\"name\":\"x\",\"version\":\"1.0.0\",\"lockfileVersion\":1,\"dependencies\":{"
		"\"private-lib\":{\"version\":\"https://deploy:s3cr3tPassw0rd@npm.acme.internal/"
		"private-lib-1.0.0.tgz\",\"integrity\":\"sha512-aaaa\"}}}";
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	cr_assert_eq(
		deps_parse_buffer(&l, DEP_NPM_LOCK, "package-lock.json", lock, strlen(lock), &dl),
		0);
	const struct dep *d =
		find_dep(&l, "private-lib", "https://***@npm.acme.internal/private-lib-1.0.0.tgz");
	cr_assert_not_null(d, "the version kept its credential or was lost");
	for (size_t i = 0; i < l.n; i++) {
		cr_assert_null(strstr(l.v[i].version, "s3cr3t"));
		cr_assert_null(strstr(l.v[i].name, "s3cr3t"));
	}
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* A mix.lock entry is the Hex package its tuple names: a dependency renamed in mix.exs
 * (`{:my_plug, hex: :plug}`) is keyed by its own name, and an advisory for `plug` must
 * find it. */
Test(lockfiles, mix_lock_entries_are_the_hex_package_they_name)
{
	static const char lock[] =
		"%{\n"
		"  \"my_plug\": {:hex, :plug, \"1.12.0\", \"abc\", [:mix], [], \"hexpm\", "
		"\"def\"},\n"
		"  \"jason\": {:hex, :jason, \"1.4.0\", \"aaa\", [:mix], [], \"hexpm\", \"bbb\"},\n"
		"}\n";
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	cr_assert_eq(deps_parse_buffer(&l, DEP_MIX_LOCK, "mix.lock", lock, strlen(lock), &dl), 0);
	cr_assert_not_null(find_dep(&l, "plug", "1.12.0"), "the renamed package was not plug");
	cr_assert_null(find_dep(&l, "my_plug", "1.12.0"));
	cr_assert_not_null(find_dep(&l, "jason", "1.4.0"));
	dep_list_release(&l);
	diag_list_release(&dl);
}

/*
 * Each (ecosystem, name, version, commit) once per lockfile: entries of one file that
 * resolve to the same package are one package, or every advisory of it is reported
 * twice. Each lockfile is shaped as its tool writes it.
 */
static const struct {
	enum dep_format format;
	const char *file, *text;
	const char *name, *version;
	unsigned line;	    /* the first entry's */
	const char *groups; /* merged */
	unsigned also;	    /* the other entry's line */
} dup_cases[] = {
	/* yarn 1 writes an alias (@isaacs/cliui's string-width-cjs) as its own block. */
	{ DEP_YARN_LOCK, "yarn.lock",
	  "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n"
	  "# yarn lockfile v1\n\n\n"
	  "\"string-width-cjs@npm:string-width@^4.2.0\":\n"
	  "  version \"4.2.3\"\n"
	  "  resolved \"https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz\"\n"
	  "  integrity sha512-wKyQRQpjJ0sIp62ErSZdGsjMJWsap5oRNihHhu6G7JVO/9jIB6UyevL+tXuOqrng8j/"
	  "cxKTWyWUwvSTriiZz/g==\n"
	  "  dependencies:\n"
	  "    strip-ansi \"^6.0.1\"\n\n"
	  "string-width@^4.1.0, string-width@^4.2.0:\n"
	  "  version \"4.2.3\"\n"
	  "  resolved \"https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz\"\n"
	  "  integrity sha512-wKyQRQpjJ0sIp62ErSZdGsjMJWsap5oRNihHhu6G7JVO/9jIB6UyevL+tXuOqrng8j/"
	  "cxKTWyWUwvSTriiZz/g==\n"
	  "  dependencies:\n"
	  "    strip-ansi \"^6.0.1\"\n",
	  "string-width", "4.2.3", 5, NULL, 12 },
	/* pnpm 8 writes a package once per set of peers it is resolved with. */
	{ DEP_PNPM_LOCK, "pnpm-lock.yaml",
	  "lockfileVersion: '6.0'\n\n"
	  "packages:\n\n"
	  "  /ajv-keywords@3.5.2(ajv@6.12.6):\n"
	  "    resolution: {integrity: "
	  "sha512-5p6WTN0DdTGVQk6VjcEju19IgaHudalcfabD7yhDGeA6bcQnmL+CpveLJq/"
	  "3hvfwd1aof6L386Ougkx6RfyMIQ==}\n"
	  "    peerDependencies:\n"
	  "      ajv: ^6.9.1\n"
	  "    dependencies:\n"
	  "      ajv: 6.12.6\n"
	  "    dev: true\n\n"
	  "  /ajv-keywords@3.5.2(ajv@8.12.0):\n"
	  "    resolution: {integrity: "
	  "sha512-5p6WTN0DdTGVQk6VjcEju19IgaHudalcfabD7yhDGeA6bcQnmL+CpveLJq/"
	  "3hvfwd1aof6L386Ougkx6RfyMIQ==}\n"
	  "    peerDependencies:\n"
	  "      ajv: ^6.9.1\n"
	  "    dependencies:\n"
	  "      ajv: 8.12.0\n"
	  "    dev: false\n",
	  "ajv-keywords", "3.5.2", 5, NULL, 13 },
	/* Bundler lists a gem once per platform it has a build for. */
	{ DEP_GEMFILE_LOCK, "Gemfile.lock",
	  "GEM\n"
	  "  remote: https://rubygems.org/\n"
	  "  specs:\n"
	  "    nokogiri (1.13.10-arm64-darwin)\n"
	  "      racc (~> 1.4)\n"
	  "    nokogiri (1.13.10-x86_64-linux)\n"
	  "      racc (~> 1.4)\n"
	  "    racc (1.6.2)\n\n"
	  "PLATFORMS\n"
	  "  arm64-darwin-22\n"
	  "  x86_64-linux\n\n"
	  "DEPENDENCIES\n"
	  "  nokogiri\n\n"
	  "BUNDLED WITH\n"
	  "   2.4.10\n",
	  "nokogiri", "1.13.10", 4, NULL, 6 },
	/* Conan 2: a package that is a requirement and a tool requirement. */
	{ DEP_CONAN_LOCK, "conan.lock",
	  "{\n"
	  "    \"version\": \"0.5\",\n"
	  "    \"requires\": [\n"
	  "        \"zlib/1.2.13#97d5730b529b4224045fe7090592d4c1%1692672717.68\"\n"
	  "    ],\n"
	  "    \"build_requires\": [\n"
	  "        \"zlib/1.2.13#97d5730b529b4224045fe7090592d4c1%1692672717.68\",\n"
	  "        \"cmake/3.27.7#1e0a1e7b6a0d1dc3f9e8c6a4d2f1b0c9%1698662440.99\"\n"
	  "    ],\n"
	  "    \"python_requires\": []\n"
	  "}\n",
	  "zlib", "1.2.13", 4, "build-requires,requires", 7 },
};

Test(lockfiles, one_package_per_name_and_version_of_a_lockfile)
{
	for (size_t t = 0; t < ARRAY_SIZE(dup_cases); t++) {
		struct dep_list l;
		struct diag_list dl;
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		cr_assert_eq(deps_parse_buffer(&l, dup_cases[t].format, dup_cases[t].file,
					       dup_cases[t].text, strlen(dup_cases[t].text), &dl),
			     0, "%s: %s", dup_cases[t].file, dl.n ? dl.v[0].msg : "?");
		size_t n = 0;
		const struct dep *d = NULL;
		for (size_t i = 0; i < l.n; i++) {
			if (str_eq(l.v[i].name, dup_cases[t].name) &&
			    str_eq(l.v[i].version, dup_cases[t].version)) {
				n++;
				d = d ? d : &l.v[i];
			}
		}
		cr_expect_eq(n, 1, "%s: %s %s reported %zu times", dup_cases[t].file,
			     dup_cases[t].name, dup_cases[t].version, n);
		if (d) {
			cr_expect_eq(d->line, dup_cases[t].line, "%s: line %u", dup_cases[t].file,
				     d->line);
			cr_expect_str_eq(d->groups ? d->groups : "(none)",
					 dup_cases[t].groups ? dup_cases[t].groups : "(none)", "%s",
					 dup_cases[t].file);
			cr_expect_eq(d->n_also, 1, "%s: %zu other lines", dup_cases[t].file,
				     d->n_also);
			cr_expect(d->n_also && d->also[0] == dup_cases[t].also, "%s: also at %u",
				  dup_cases[t].file, d->n_also ? d->also[0] : 0);
		}
		dep_list_release(&l);
		diag_list_release(&dl);
	}
}

/* ---------- Maven: parents ---------- */

/* A dependency of file named name (NULL when there is none). */
static const struct dep *find_in(const struct dep_list *l, const char *file, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (str_eq(l->v[i].file, file) && str_eq(l->v[i].name, name)) {
			return &l->v[i];
		}
	}
	return NULL;
}

static const char *note_of(const struct dep *d)
{
	return d && d->note ? d->note : "(none)";
}

/* Scan dir (the root) and return the packages; every file must parse. */
static void scan_tree(const char *dir, struct dep_list *l)
{
	struct diag_list dl;
	dep_list_init(l);
	diag_list_init(&dl, 20);
	const char *paths[] = { dir };
	cr_assert_eq(deps_scan_paths(l, dir, paths, 1, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	diag_list_release(&dl);
}

#define POM_DEP(g, a, v) \
	"<dependency><groupId>" g "</groupId><artifactId>" a "</artifactId>" v "</dependency>\n"

/*
 * A multi-module project: the child's versions come from its parents (in the scanned
 * tree, where relativePath says), as Maven inherits them: properties (the nearest parent
 * first, the child's own over all), dependencyManagement (the child's own first), and the
 * parents' dependencies, which are the child's packages too, on its <parent> line.
 */
Test(lockfiles, pom_parents_in_the_tree_give_versions_and_dependencies)
{
	char *dir = tu_tmpdir();
	tu_write(
		dir, "pom.xml",
		"<project><groupId>g</groupId><artifactId>root</artifactId><version>1</version>\n"
		"<properties><log4j.version>2.14.1</log4j.version><guava.version>1"
		"</guava.version></properties>\n"
		"<dependencyManagement><dependencies>\n" POM_DEP(
			"org.apache.logging.log4j", "log4j-core",
			"<version>${log4j.version}</version>")
			POM_DEP("x", "own",
				"<version>9</version>") "</dependencies></dependencyManagement>\n"
							"<dependencies>" POM_DEP(
								"junit", "junit",
								"<version>4.12</version>") "</"
											   "depende"
											   "ncies><"
											   "/projec"
											   "t>\n");
	/* The middle one names the root by its default relativePath, ../pom.xml. */
	tu_write(dir, "mid/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version></parent>\n<artifactId>mid</artifactId>\n"
		 "<properties><guava.version>31.1-jre</guava.version></properties></project>\n");
	/* The child names the middle one as a directory. */
	tu_write(dir, "mid/app/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>mid</artifactId>"
		 "<version>1</version><relativePath>..</relativePath></parent>\n"
		 "<artifactId>app</artifactId>\n"
		 "<dependencyManagement><dependencies>" POM_DEP(
			 "x", "own",
			 "<version>2</version>") "</dependencies></dependencyManagement>\n"
						 "<dependencies>\n" POM_DEP(
							 "org.apache.logging.log4j", "log4j-core",
							 "") POM_DEP("com.google.guava", "guava",
								     "<version>${guava.version}</"
								     "version>")
							 POM_DEP("x", "own",
								 "") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const char *app = "mid/app/pom.xml";
	const struct dep *d = find_in(&l, app, "org.apache.logging.log4j:log4j-core");
	cr_assert_not_null(d);
	cr_expect_str_eq(d->version, "2.14.1");
	cr_expect_eq(d->flags, 0, "%s", note_of(d));
	cr_expect_eq(d->line, 7, "on the child's own line");
	d = find_in(&l, app, "com.google.guava:guava");
	cr_assert_not_null(d);
	cr_expect_str_eq(d->version, "31.1-jre", "the nearest parent's property");
	d = find_in(&l, app, "x:own");
	cr_assert_not_null(d);
	cr_expect_str_eq(d->version, "2", "the child's own managed version");
	d = find_in(&l, app, "junit:junit");
	cr_assert_not_null(d, "the root's dependency is the child's too");
	cr_expect_str_eq(d->version, "4.12");
	cr_expect_eq(d->line, 2, "on the line of <parent>");
	cr_expect_str_eq(note_of(d), "inherited from the ancestor POM pom.xml (2 levels up)");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* What the scan cannot read leaves the child's references unresolved, with why: a parent
 * outside the scanned tree, one that is not the parent named (Maven would take it from a
 * repository), an empty relativePath, parents that form a cycle. */
Test(lockfiles, pom_parents_that_cannot_be_read_leave_versions_unresolved)
{
	char *top = tu_tmpdir();
	char *dir = tu_strf("%s/ws", top);
	static const char parent_pom[] =
		"<project><groupId>g</groupId><artifactId>p</artifactId><version>1</version>\n"
		"<dependencyManagement><dependencies>" POM_DEP(
			"a", "b", "<version>1</version>") "</dependencies></dependencyManagement></"
							  "project>\n";
	tu_write(top, "pom.xml", parent_pom);
	tu_write(dir, "other/pom.xml", parent_pom);
	/* DEP_POM_NOT_FOUND: where Maven takes the parent from a repository (the file
	 * relativePath names is not that parent, or it names none), which may hold it. */
	static const struct {
		const char *parent, *why;
		unsigned flags;
	} cases[] = {
		{ "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>",
		  "is not in the scanned tree: outside it", DEP_UNRESOLVED },
		{ "<groupId>g</groupId><artifactId>p</artifactId><version>2</version>"
		  "<relativePath>other/pom.xml</relativePath>",
		  "its parent POM g:p:2 is not the one at other/pom.xml",
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND },
		{ "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>"
		  "<relativePath/>",
		  "its parent POM g:p:1 is not in the scanned tree)",
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND },
		{ "<groupId>g</groupId><artifactId>p</artifactId><version>1-SNAPSHOT</version>"
		  "<relativePath/>",
		  "its parent POM g:p:1-SNAPSHOT is not in the scanned tree)", DEP_UNRESOLVED },
		{ "<groupId>g</groupId><artifactId>c</artifactId><version>1</version>"
		  "<relativePath>pom.xml</relativePath>",
		  "the parent POMs form a cycle at g:c:1", DEP_UNRESOLVED },
		{ "<groupId>g</groupId><artifactId>q</artifactId><version>1</version>"
		  "<relativePath>profiled/pom.xml</relativePath>",
		  "its parent POM g:q:1 has profiles that change what it gives", DEP_UNRESOLVED },
	};
	/* A parent whose profile (active by default, or not) changes a version: which one
	 * Maven uses the file does not say (its default 2.17.1 was taken, and Maven used
	 * the profile's 2.14.1). */
	tu_write(dir, "profiled/pom.xml",
		 "<project><groupId>g</groupId><artifactId>q</artifactId><version>1</version>\n"
		 "<dependencyManagement><dependencies>" POM_DEP(
			 "a", "b",
			 "<version>1</version>") "</dependencies></dependencyManagement>\n"
						 "<profiles><profile><id>old</"
						 "id><activation><activeByDefault>true"
						 "</activeByDefault></activation><properties><x>1</"
						 "x></properties>"
						 "</profile></profiles></project>\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *xml = tu_strf("<project>\n<parent>%s</parent>\n<groupId>g</groupId>"
				    "<artifactId>c</artifactId><version>1</version>\n"
				    "<dependencies>" POM_DEP("a", "b", "") "</dependencies>"
									   "</project>\n",
				    cases[i].parent);
		tu_write(dir, "pom.xml", xml);
		free(xml);
		struct dep_list l;
		scan_tree(dir, &l);
		const struct dep *d = find_in(&l, "pom.xml", "a:b");
		cr_assert_not_null(d, "%zu", i);
		cr_expect_eq(d->flags, cases[i].flags, "%zu: %s %s", i, d->version, note_of(d));
		cr_expect(strstr(note_of(d), cases[i].why), "%zu: %s", i, note_of(d));
		dep_list_release(&l);
	}
	/* The parent at the right place: resolved. */
	tu_write(dir, "pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>p</artifactId>"
		 "<version>1</version><relativePath>other</relativePath></parent>\n"
		 "<artifactId>c</artifactId>\n<dependencies>" POM_DEP(
			 "a", "b", "") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, 0, "%s", note_of(d));
	cr_expect_str_eq(d->version, "1");
	dep_list_release(&l);
	free(dir);
	tu_rmdir(top);
	free(top);
}

/* A parent above the module's own that cannot be read is named as what it is to the
 * module, as the other notes name it: its ancestor, so many levels up. */
Test(lockfiles, pom_an_ancestor_that_cannot_be_read_is_named_as_one)
{
	char *dir = tu_tmpdir();
	/* app -> mid (../pom.xml) -> top (../pom.xml) -> root (relativePath empty: from a
	 * repository, which the scan has none of). */
	tu_write(dir, "pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version><relativePath/></parent>\n<artifactId>top</artifactId>"
		 "</project>\n");
	tu_write(dir, "mid/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>top</artifactId>"
		 "<version>1</version></parent>\n<artifactId>mid</artifactId></project>\n");
	tu_write(dir, "mid/app/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>mid</artifactId>"
		 "<version>1</version></parent>\n<artifactId>app</artifactId>\n"
		 "<dependencies>" POM_DEP("a", "b", "") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "mid/app/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, DEP_UNRESOLVED | DEP_POM_NOT_FOUND, "%s", note_of(d));
	cr_expect(strstr(note_of(d), "(its ancestor g:root:1 (3 levels up) is not in the scanned "
				     "tree)"),
		  "%s", note_of(d));
	cr_expect_null(strstr(note_of(d), "parent POM g:root:1"), "%s", note_of(d));
	dep_list_release(&l);
	tu_write(dir, "mid/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>top</artifactId>"
		 "<version>1</version><relativePath/></parent>\n<artifactId>mid</artifactId>"
		 "</project>\n");
	scan_tree(dir, &l);
	d = find_in(&l, "mid/app/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect(strstr(note_of(d), "(its ancestor g:top:1 (2 levels up) is not in the scanned "
				     "tree)"),
		  "%s", note_of(d));
	dep_list_release(&l);
	/* The module's own parent, one level up, is its parent POM. */
	tu_write(dir, "mid/app/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>mid</artifactId>"
		 "<version>1</version><relativePath/></parent>\n<artifactId>app</artifactId>\n"
		 "<dependencies>" POM_DEP("a", "b", "") "</dependencies></project>\n");
	scan_tree(dir, &l);
	d = find_in(&l, "mid/app/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect(strstr(note_of(d), "(its parent POM g:mid:1 is not in the scanned tree)"), "%s",
		  note_of(d));
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* LATEST and RELEASE are no range: the note says what Maven makes of them (it resolves
 * them when it builds, from the repositories' metadata, to the newest version, a snapshot
 * too, or the newest release), and the package stays unpinned, from version 0. */
Test(lockfiles, pom_latest_and_release_say_what_maven_does)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 "<project>\n<groupId>g</groupId><artifactId>app</artifactId><version>1</version>\n"
		 "<dependencies>\n" POM_DEP("a", "rel", "<version>RELEASE</version>")
			 POM_DEP("a", "latest", "<version>LATEST</version>") POM_DEP(
				 "a", "range", "<version>[1.0,2.0)</version>") "</dependencies>"
									       "</project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	static const struct {
		const char *name, *version, *note;
	} want[] = {
		{ "a:rel", "0",
		  "RELEASE: Maven resolves it to the newest release at build time, so any version "
		  "may be built" },
		{ "a:latest", "0",
		  "LATEST: Maven resolves it to the newest version (a snapshot too) at build time, "
		  "so any version may be built" },
		{ "a:range", "1.0", "version range [1.0,2.0)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct dep *d = find_in(&l, "pom.xml", want[i].name);
		cr_assert_not_null(d, "%s", want[i].name);
		cr_expect_eq(d->flags, DEP_UNPINNED, "%s", want[i].name);
		cr_expect_str_eq(d->version, want[i].version, "%s", want[i].name);
		cr_expect_str_eq(note_of(d), want[i].note, "%s", want[i].name);
	}
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* `[1.0]` is Maven's hard requirement of exactly 1.0 (its only way to demand a version):
 * pinned, as `1.0` is, and no `unpinned-requirement` (it was one, "version range [1.0]").
 * `[1.0,1.0]` says the same in two bounds and stays a range, as do two sets. */
Test(lockfiles, pom_an_exact_version_in_brackets_is_pinned)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 "<project>\n<groupId>g</groupId><artifactId>app</artifactId><version>1</version>\n"
		 "<dependencies>\n" POM_DEP("a", "exact", "<version>[2.17.1]</version>") POM_DEP(
			 "a", "spaced", "<version> [ 2.17.1 ] </version>")
			 POM_DEP("a", "two", "<version>[1.0],[1.2]</version>") POM_DEP(
				 "a", "open",
				 "<version>(2.17.1]</version>") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	static const struct {
		const char *name, *version;
		unsigned flags;
		const char *note;
	} want[] = {
		{ "a:exact", "2.17.1", 0, "(none)" },
		{ "a:spaced", "2.17.1", 0, "(none)" },
		{ "a:two", "1.0", DEP_UNPINNED, "version range [1.0],[1.2]" },
		{ "a:open", "2.17.1", DEP_UNPINNED, "version range (2.17.1]" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct dep *d = find_in(&l, "pom.xml", want[i].name);
		cr_assert_not_null(d, "%s", want[i].name);
		cr_expect_eq(d->flags, want[i].flags, "%s: flags %u", want[i].name, d->flags);
		cr_expect_str_eq(d->version, want[i].version, "%s", want[i].name);
		cr_expect_str_eq(note_of(d), want[i].note, "%s", want[i].name);
	}
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A multi-module project with its modules in modules/: Maven reads a module's parent
 * from its relativePath (../pom.xml by default, here modules/pom.xml, which is not
 * there), else from a repository, never from elsewhere in the tree. The module that says
 * ../../pom.xml gets its version from the root; the one that does not stays unresolved,
 * and its note says where the tree has its parent and what relativePath reaches it.
 */
Test(lockfiles, pom_a_parent_elsewhere_in_the_tree_says_which_relative_path_reaches_it)
{
	char *dir = tu_tmpdir();
	tu_write(
		dir, "pom.xml",
		"<project>\n<groupId>g</groupId><artifactId>root</artifactId><version>1</version>\n"
		"<packaging>pom</packaging>\n"
		"<modules><module>modules/core</module><module>modules/web</module></modules>\n"
		"<properties><log4j.version>2.14.1</log4j.version></properties>\n"
		"</project>\n");
	tu_write(dir, "modules/core/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version>\n<relativePath>../../pom.xml</relativePath></parent>\n"
		 "<artifactId>core</artifactId>\n"
		 "<dependencies>\n" POM_DEP("org.apache.logging.log4j", "log4j-core",
					    "<version>${log4j.version}</version>") "</dependencies>"
										   "</project>\n");
	tu_write(dir, "modules/web/pom.xml",
		 "<project>\n<parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version></parent>\n"
		 "<artifactId>web</artifactId>\n"
		 "<dependencies>\n" POM_DEP("org.apache.logging.log4j", "log4j-api",
					    "<version>${log4j.version}</version>") "</dependencies>"
										   "</project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *core =
		find_in(&l, "modules/core/pom.xml", "org.apache.logging.log4j:log4j-core");
	cr_assert_not_null(core);
	cr_expect_str_eq(core->version, "2.14.1");
	cr_expect_eq(core->flags, 0);
	const struct dep *web =
		find_in(&l, "modules/web/pom.xml", "org.apache.logging.log4j:log4j-api");
	cr_assert_not_null(web);
	cr_expect(web->flags & DEP_UNRESOLVED);
	cr_expect_str_eq(note_of(web),
			 "the property ${log4j.version} is not defined in this file (its parent "
			 "POM g:root:1 is not at ../pom.xml; the tree has it at pom.xml, but Maven "
			 "reads a parent where <relativePath> says (by default ../pom.xml), else "
			 "from a repository: set <relativePath>../../pom.xml</relativePath> in "
			 "<parent>)");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* A chain longer than POM_MAX_PARENTS stops there, unresolved, in bounded work. */
Test(lockfiles, pom_parent_chains_are_capped)
{
	char *dir = tu_tmpdir();
	char path[512] = "";
	/* d0/pom.xml is the top; d0/d1/.../d20/pom.xml the child of them all. */
	for (int i = 0; i <= 20; i++) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%sd%d", i ? "/" : "",
			 i);
		char *rel = tu_strf("%s/pom.xml", path);
		char *xml =
			i == 0 ? tu_strf("<project><groupId>g</groupId><artifactId>p0</artifactId>"
					 "<version>1</"
					 "version><dependencyManagement><dependencies>" POM_DEP(
						 "a", "b",
						 "<version>1</version>") "</dependencies></"
									 "dependencyManagement></"
									 "project>\n")
			       : tu_strf("<project><parent><groupId>g</groupId><artifactId>p%d"
					 "</artifactId><version>1</version></parent>"
					 "<artifactId>p%d</artifactId><dependencies>" POM_DEP(
						 "a", "b", "") "</dependencies></project>\n",
					 i - 1, i);
		tu_write(dir, rel, xml);
		free(xml);
		free(rel);
	}
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *near = find_in(&l, "d0/d1/pom.xml", "a:b");
	cr_assert_not_null(near);
	cr_expect_eq(near->flags, 0, "%s", note_of(near));
	char *deep = tu_strf("%s/pom.xml", path);
	const struct dep *far = find_in(&l, deep, "a:b");
	cr_assert_not_null(far);
	cr_expect_eq(far->flags, DEP_UNRESOLVED);
	cr_expect(strstr(note_of(far), "more than 16 parent POMs"), "%s", note_of(far));
	free(deep);
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* What one scan reads, lockfiles and the files they name, is capped (a parent POM read
 * again for each of many modules multiplies it): past the cap a lockfile is an error, and
 * a parent is left unread (its references unresolved). The budget starts almost spent. */
Test(lockfiles, the_bytes_a_scan_reads_are_capped)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 "<project><groupId>g</groupId><artifactId>p</artifactId><version>1</version>"
		 "<dependencyManagement><dependencies>" POM_DEP(
			 "a", "b", "<version>1</version>") "</dependencies></"
							   "dependencyManagement></project>\n");
	char *child = tu_strf("<project><parent><groupId>g</groupId><artifactId>p</artifactId>"
			      "<version>1</version></parent><artifactId>c</artifactId>"
			      "<dependencies>" POM_DEP("a", "b", "") "</dependencies></project>\n");
	tu_write(dir, "c/pom.xml", child);
	char *path = tu_strf("%s/c/pom.xml", dir);
	struct dep_list l;
	struct diag_list dl;
	/* Room for the module, not for its parent. */
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	l.root = dir;
	l.bytes_read = DEPS_MAX_SCAN_BYTES - strlen(child);
	cr_assert_eq(deps_parse_file(&l, path, "c/pom.xml", DEP_POM_XML, &dl), 0);
	const struct dep *d = find_in(&l, "c/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, DEP_UNRESOLVED);
	cr_expect(strstr(note_of(d), "read too much"), "%s", note_of(d));
	dep_list_release(&l);
	diag_list_release(&dl);
	/* No room for the module: an error. */
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	l.bytes_read = DEPS_MAX_SCAN_BYTES - 1;
	cr_expect_eq(deps_parse_file(&l, path, "c/pom.xml", DEP_POM_XML, &dl), -E2BIG);
	cr_expect(dl.n && strstr(dl.v[0].msg, "GiB of lockfiles"), "%s",
		  dl.n ? dl.v[0].msg : "(none)");
	dep_list_release(&l);
	diag_list_release(&dl);
	free(path);
	free(child);
	tu_rmdir(dir);
	free(dir);
}

/* Of two declarations in a parent's <dependencies>, the child inherits the last, as the
 * parent's own build reads them (it inherited the first: a vulnerable version declared
 * second passed, in a parent under a directory the walk skips); and the parents'
 * declarations count against the budget of the builds with profiles (a child of 500
 * profiles under a parent of 20,000 dependencies took gigabytes). */
Test(lockfiles, pom_parents_last_declaration_and_budget)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".parent/pom.xml",
		 "<project><groupId>g</groupId><artifactId>p</artifactId><version>1</version>"
		 "<dependencies>" POM_DEP("a", "b", "<version>2</version>")
			 POM_DEP("a", "b", "<version>1</version>") "</dependencies></project>\n");
	tu_write(dir, "app/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>p</artifactId>"
		 "<version>1</version><relativePath>../.parent/pom.xml</relativePath></parent>"
		 "<artifactId>app</artifactId></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "app/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect_str_eq(d->version, "1", "the last declaration");
	dep_list_release(&l);
	struct sbuf sb;
	sbuf_init(&sb, 64u << 20);
	sbuf_puts(&sb, "<project><groupId>g</groupId><artifactId>big</artifactId><version>1"
		       "</version><dependencies>");
	for (int i = 0; i < 20000; i++) {
		sbuf_printf(&sb, POM_DEP("g%d", "a%d", "<version>1</version>"), i, i);
	}
	sbuf_puts(&sb, "</dependencies></project>\n");
	tu_write(dir, "big/pom.xml", sb.data);
	sbuf_release(&sb);
	sbuf_init(&sb, 64u << 20);
	sbuf_puts(&sb, "<project><parent><groupId>g</groupId><artifactId>big</artifactId>"
		       "<version>1</version></parent><artifactId>c</artifactId><profiles>");
	for (int i = 0; i < 10; i++) {
		sbuf_printf(&sb, "<profile><id>p%d</id><properties/></profile>", i);
	}
	sbuf_puts(&sb, "</profiles></project>\n");
	tu_write(dir, "big/c/pom.xml", sb.data);
	sbuf_release(&sb);
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	char *big = tu_strf("%s/big", dir);
	const char *paths[] = { big };
	cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), -EINVAL);
	cr_expect(dl.n && strstr(dl.v[0].msg, "too many profiles to read"), "%s",
		  dl.n ? dl.v[0].msg : "(none)");
	dep_list_release(&l);
	diag_list_release(&dl);
	free(big);
	tu_rmdir(dir);
	free(dir);
}

/* What a parent with profiles gives is unresolved, its own unconditional dependencies
 * included: they were dropped with the parent, so a module scan passed with the
 * parent's vulnerable log4j-core. */
Test(lockfiles, pom_a_parent_with_profiles_gives_unresolved_packages)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 "<project><groupId>g</groupId><artifactId>p</artifactId><version>1</version>"
		 "<dependencies>" POM_DEP(
			 "a", "b",
			 "<version>1</version>") "</dependencies><profiles><profile><id>ci</"
						 "id><properties><x>1</x>"
						 "</properties></profile></profiles></project>\n");
	tu_write(dir, "child/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>p</artifactId>"
		 "<version>1</version></parent><artifactId>c</artifactId><dependencies>" POM_DEP(
			 "j", "k", "<version>4</version>") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "child/pom.xml", "a:b");
	cr_assert_not_null(d, "the parent's dependency is the module's too");
	cr_expect_eq(d->flags, DEP_UNRESOLVED);
	cr_expect(strstr(note_of(d), "has profiles that change what it gives"), "%s", note_of(d));
	d = find_in(&l, "child/pom.xml", "j:k");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, 0, "the module's own, written version stands");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* A profiled parent's profiles may give the child dependencies (an activeByDefault one
 * with log4j-core 2.14.1): they are the child's packages too, unresolved (they were not
 * read, and a module scan passed). */
Test(lockfiles, pom_a_parent_profile_gives_unresolved_dependencies)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 "<project><groupId>g</groupId><artifactId>p</artifactId><version>1</version>"
		 "<profiles><profile><id>def</id><activation><activeByDefault>true"
		 "</activeByDefault></activation><dependencies>" POM_DEP(
			 "a", "b", "<version>1</version>") "</dependencies></profile></profiles>"
							   "</project>\n");
	tu_write(dir, "child/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>p</artifactId>"
		 "<version>1</version></parent><artifactId>c</artifactId></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "child/pom.xml", "a:b");
	cr_assert_not_null(d, "the parent's profile's dependency is the module's too");
	cr_expect_eq(d->flags, DEP_UNRESOLVED);
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- Maven: imported BOMs ---------- */

/* name in file has this version, line and flags, and a note that contains `note` (NULL:
 * none at all). */
static void expect_in(const struct dep_list *l, const char *file, const char *name,
		      const char *version, unsigned line, unsigned flags, const char *note)
{
	const struct dep *d = find_in(l, file, name);
	cr_assert_not_null(d, "%s: %s is missing", file, name);
	cr_expect_str_eq(d->version, version, "%s: %s", file, name);
	cr_expect_eq(d->line, line, "%s: %s on line %u, not %u", file, name, d->line, line);
	cr_expect_eq(d->flags, flags, "%s: %s: flags %#x (%s)", file, name, d->flags, note_of(d));
	if (note) {
		cr_expect(strstr(note_of(d), note), "%s: %s: note '%s', not '%s'", file, name,
			  note_of(d), note);
	} else {
		cr_expect_null(d->note, "%s: %s: note '%s'", file, name, note_of(d));
	}
}

/*
 * tests/fixtures/maven-bom: a multi-module project whose versions come from BOMs in the
 * tree (the parent imports shop-bom, which has a parent of its own and imports another
 * BOM). As Maven builds the modules: the module's own dependencyManagement and its
 * parents' win over every import, the module's imports come before its parents', and of
 * two imports the first declared wins; a BOM-managed version keeps the module's line and
 * says where it is managed. A BOM the scan cannot read leaves what it might manage
 * unresolved, naming it. (Every one of these versions was unresolved.)
 */
Test(lockfiles, pom_boms_in_the_tree_manage_versions)
{
	char *dir = tu_fixture("maven-bom");
	struct dep_list l;
	scan_tree(dir, &l);
	const char *log4j = "org.apache.logging.log4j:log4j-core";
	expect_in(&l, "app/pom.xml", log4j, "2.14.1", 22, 0,
		  "managed by the BOM com.acme.shop:shop-bom:1.4.0 at shop-bom/pom.xml:28");
	expect_in(&l, "app/pom.xml", "com.fasterxml.jackson.core:jackson-databind", "2.16.1", 16, 0,
		  NULL);
	expect_in(&l, "app/pom.xml", "com.google.guava:guava", "31.1-jre", 30, 0,
		  "managed by the BOM com.acme.shop:shop-third-party-bom:1.4.0 at "
		  "third-party-bom/pom.xml:19 (imported through com.acme.shop:shop-bom:1.4.0)");
	/* The parent's dependencyManagement: where, as for a BOM. */
	expect_in(&l, "app/pom.xml", "org.junit.jupiter:junit-jupiter", "5.10.0", 34, 0,
		  "managed by the parent com.acme.shop:shop-parent:1.4.0 at pom.xml:36");
	/* Its own import comes first. */
	expect_in(&l, "billing/pom.xml", log4j, "2.17.1", 24, 0,
		  "managed by the BOM com.acme.legacy:legacy-bom:2.0.0 at legacy-bom/pom.xml:19");
	expect_in(&l, "billing/pom.xml", "org.apache.commons:commons-text", "1.10.0", 28, 0,
		  "at third-party-bom/pom.xml:24");
	/* Spring Boot's BOM is not in the tree: it might manage either (it does manage
	 * log4j-api, which shop-bom, imported after it, manages too). */
	expect_in(&l, "reports/pom.xml", "org.springframework.boot:spring-boot-starter-web", "", 24,
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND,
		  "the BOM org.springframework.boot:spring-boot-dependencies:3.2.0 is not in the "
		  "scanned tree");
	expect_in(&l, "reports/pom.xml", "org.apache.logging.log4j:log4j-api", "", 28,
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND,
		  "spring-boot-dependencies:3.2.0 is not in the scanned tree");
	/* The BOM itself, with its parent's property. */
	expect_in(&l, "shop-bom/pom.xml", log4j, "2.14.1", 28, 0, NULL);
	/* An import is not a package (Maven replaces it with what its BOM manages), in the
	 * file that imports it or anywhere else. */
	static const char *const boms[] = {
		"com.acme.shop:shop-bom",
		"com.acme.shop:shop-third-party-bom",
		"com.acme.legacy:legacy-bom",
		"org.springframework.boot:spring-boot-dependencies",
	};
	for (size_t i = 0; i < ARRAY_SIZE(boms); i++) {
		cr_expect(!has_name(&l, boms[i]), "%s is listed as a package", boms[i]);
	}
	dep_list_release(&l);
	free(dir);
}

/* A module that imports a BOM (nothing in the tree manages the BOM itself). */
static const char importer_pom[] =
	"<project><groupId>g</groupId><artifactId>m</artifactId><version>1</version>\n"
	"<dependencyManagement><dependencies>\n"
	"<dependency><groupId>g</groupId><artifactId>bom</artifactId><version>1</version>"
	"<type>pom</type><scope>import</scope></dependency>\n"
	"<dependency><groupId>g</groupId><artifactId>gone</artifactId><version>${nowhere}"
	"</version><type>pom</type><scope>import</scope></dependency>\n"
	"</dependencies></dependencyManagement>\n"
	"<dependencies>\n"
	"<dependency><groupId>a</groupId><artifactId>b</artifactId></dependency>\n"
	"<dependency><groupId>g</groupId><artifactId>bom</artifactId><type>pom</type>"
	"</dependency>\n"
	"</dependencies></project>\n";

/*
 * An import (<type>pom</type><scope>import</scope> in <dependencyManagement>) is not a
 * package of the module: Maven replaces it with what its BOM manages, and the BOM, a POM
 * without code, is no dependency of the artifact (the reference parser lists it). Nor is
 * it a managed entry: a dependency of its key takes no version from it. What the BOM
 * manages, the module uses at the BOM's versions; an import whose version the scan
 * cannot resolve leaves what the module may take from it unresolved, saying why.
 */
Test(lockfiles, pom_an_import_is_not_a_package)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "m/pom.xml", importer_pom);
	tu_write(dir, "bom/pom.xml",
		 "<project><groupId>g</groupId><artifactId>bom</artifactId><version>1</version>\n"
		 "<packaging>pom</packaging><dependencyManagement><dependencies>\n"
		 "<dependency><groupId>y</groupId><artifactId>z</artifactId>"
		 "<version>1</version></dependency>\n"
		 "</dependencies></dependencyManagement></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	cr_expect(!has_name(&l, "g:gone"), "the import of g:gone is listed as a package");
	/* The BOM's own entry, in its own file; a:b, which it does not manage, might come
	 * from the import the scan cannot read. */
	expect_in(&l, "bom/pom.xml", "y:z", "1", 3, 0, NULL);
	expect_in(&l, "m/pom.xml", "a:b", "", 7, DEP_UNRESOLVED,
		  "the version of the BOM g:gone:${nowhere} is not resolved");
	/* A dependency on the BOM (of type pom, without the import scope) is one, and takes
	 * no version from the import. */
	expect_in(&l, "m/pom.xml", "g:bom", "", 8, DEP_UNRESOLVED, "no version in this file");
	size_t n = 0;
	for (size_t i = 0; i < l.n; i++) {
		n += str_eq(l.v[i].name, "g:bom");
	}
	cr_expect_eq(n, 1, "g:bom is listed %zu times", n);
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

#define POM_PROJECT(g, a, v, body)                                                   \
	"<project><groupId>" g "</groupId><artifactId>" a "</artifactId><version>" v \
	"</version>\n" body "</project>\n"
#define POM_MANAGED(deps) \
	"<dependencyManagement><dependencies>\n" deps "</dependencies></dependencyManagement>\n"
#define POM_IMPORT(g, a, v) \
	POM_DEP(g, a, "<version>" v "</version><type>pom</type><scope>import</scope>")
#define POM_V(v) "<version>" v "</version>"

/*
 * A version that a parent's dependencyManagement gives stays on the module's line, and
 * its note says where it is managed, as a BOM-managed one's does: the parent's
 * coordinates, file and line (after a range's note, or the note of a dependency the
 * module inherits). The module's own dependencyManagement needs no note: the package is
 * on its line.
 */
Test(lockfiles, pom_a_version_a_parent_manages_says_where)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 "<project><groupId>g</groupId><artifactId>root</artifactId><version>1</version>\n"
		 "<dependencyManagement><dependencies>\n"
		 "<dependency><groupId>a</groupId><artifactId>b</artifactId>"
		 "<version>1.0</version></dependency>\n"
		 "<dependency><groupId>c</groupId><artifactId>d</artifactId>"
		 "<version>[2.0,3.0)</version></dependency>\n"
		 "<dependency><groupId>e</groupId><artifactId>f</artifactId>"
		 "<version>3.1</version></dependency>\n"
		 "</dependencies></dependencyManagement>\n"
		 "<dependencies>\n"
		 "<dependency><groupId>e</groupId><artifactId>f</artifactId></dependency>\n"
		 "</dependencies></project>\n");
	tu_write(dir, "m/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version></parent><artifactId>m</artifactId>\n"
		 "<dependencyManagement><dependencies>\n"
		 "<dependency><groupId>x</groupId><artifactId>own</artifactId>"
		 "<version>4</version></dependency>\n"
		 "</dependencies></dependencyManagement>\n"
		 "<dependencies>\n"
		 "<dependency><groupId>a</groupId><artifactId>b</artifactId></dependency>\n"
		 "<dependency><groupId>c</groupId><artifactId>d</artifactId></dependency>\n"
		 "<dependency><groupId>x</groupId><artifactId>own</artifactId></dependency>\n"
		 "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	expect_in(&l, "m/pom.xml", "a:b", "1.0", 6, 0,
		  "managed by the parent g:root:1 at pom.xml:3");
	expect_in(&l, "m/pom.xml", "c:d", "2.0", 7, DEP_UNPINNED,
		  "version range [2.0,3.0) (managed by the parent g:root:1 at pom.xml:4)");
	/* The parent's dependency, on the line of <parent>. */
	expect_in(&l, "m/pom.xml", "e:f", "3.1", 1, 0,
		  "inherited from the parent POM pom.xml, managed by the parent g:root:1 at "
		  "pom.xml:5");
	expect_in(&l, "m/pom.xml", "x:own", "4", 3, 0, NULL);
	/* The parent's own, on its own lines. */
	expect_in(&l, "pom.xml", "e:f", "3.1", 5, 0, NULL);
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/*
 * An entry of the module's own dependencyManagement without a version manages none, as in
 * Maven: it takes the place of a parent's entry of the same groupId:artifactId:type:
 * classifier whole (Maven merges dependencyManagement by that key and keeps the child's
 * entry, never a field of the parent's), and of an import's, so a dependency it manages
 * has no version and Maven refuses the build ("'dependencies.dependency.version' ... is
 * missing", as Maven 3.8.7 says of this tree). Unresolved, and the note says why, naming
 * the parent's entry it replaces. (The note said "no version in this file or its parents
 * (from a BOM they import?)", while the parent had one.)
 */
Test(lockfiles, pom_an_own_managed_entry_without_a_version_manages_none)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 POM_PROJECT("g", "root", "1",
			     POM_MANAGED(POM_DEP("a", "b", POM_V("1.0"))
						 POM_DEP("c", "d", POM_V("[2.0,3.0)")))));
	tu_write(dir, "bom/pom.xml",
		 POM_PROJECT(
			 "g", "bom", "1",
			 POM_MANAGED(POM_DEP("a", "b", POM_V("9")) POM_DEP("x", "y", POM_V("9")))));
	tu_write(dir, "m/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version></parent><artifactId>m</artifactId>\n" POM_MANAGED(
			 POM_DEP("a", "b", "<scope>runtime</scope>") POM_DEP("c", "d", "")
				 POM_DEP("x", "y", "") POM_IMPORT(
					 "g", "bom", "1")) "<dependencies>\n" POM_DEP("a", "b", "")
			 POM_DEP("x", "y", "") "</dependencies></project>\n");
	/* A module whose parent the scan does not find: its own entry wins all the same, and
	 * no Maven repository would give it a version. */
	tu_write(dir, "n/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>gone</artifactId>"
		 "<version>1</version><relativePath/></parent><artifactId>n</"
		 "artifactId>\n" POM_MANAGED(POM_DEP("a", "b", "")) "<dependencies>\n" POM_DEP(
			 "a", "b", "") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "m/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect_str_eq(d->version, "");
	cr_expect_eq(d->line, 9, "on its own line, not %u", d->line);
	cr_expect_eq(d->flags, DEP_UNRESOLVED, "%#x", d->flags);
	cr_expect_str_eq(
		note_of(d),
		"no version: this file's dependencyManagement lists it without one (line "
		"3), and that entry replaces the one of the parent g:root:1 at pom.xml:3 "
		"(version 1.0) whole, as Maven inherits dependencyManagement: Maven refuses "
		"a dependency without a version");
	/* Nor does the import give one. */
	expect_in(&l, "m/pom.xml", "x:y", "", 10, DEP_UNRESOLVED,
		  "no version: this file's dependencyManagement lists it without one (line 5): "
		  "Maven refuses a dependency without a version");
	/* A managed entry no dependency uses: a package that may be any version. */
	d = find_in(&l, "m/pom.xml", "c:d");
	cr_assert_not_null(d);
	cr_expect_str_eq(d->version, "");
	cr_expect_eq(d->line, 4);
	cr_expect_eq(d->flags, DEP_UNRESOLVED, "%#x", d->flags);
	cr_expect_str_eq(
		note_of(d),
		"managed without a version in this file, an entry that replaces the one of "
		"the parent g:root:1 at pom.xml:4 (version range [2.0,3.0)) whole, as Maven "
		"inherits dependencyManagement");
	expect_in(&l, "n/pom.xml", "a:b", "", 6, DEP_UNRESOLVED,
		  "no version: this file's dependencyManagement lists it without one (line 3): "
		  "Maven refuses a dependency without a version");
	/* The parent's entries are its own packages, at their versions. */
	expect_in(&l, "pom.xml", "a:b", "1.0", 3, 0, NULL);
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A dependency the module inherits from its parent keeps saying so wherever its version
 * comes from. Its version from the module's own dependencyManagement is reported on that
 * entry's line, where the module changes it (the dependency itself is the parent's), and
 * the note says both (it said nothing, on a line of dependencyManagement); from a BOM,
 * on the line of <parent>, with the BOM's note after it (which replaced it); a range or a
 * property the parent writes, after it too.
 */
Test(lockfiles, pom_an_inherited_dependency_says_so_wherever_its_version_comes_from)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 POM_PROJECT("g", "root", "1",
			     POM_MANAGED(POM_DEP("a", "b", POM_V("1.0")) POM_IMPORT(
				     "g", "bom", "1")) "<dependencies>\n" POM_DEP("a", "b", "")
				     POM_DEP("c", "d", "") POM_DEP("e", "f", "")
					     POM_DEP("r", "s", POM_V("[1.0,2.0)")) POM_DEP(
						     "u", "v",
						     POM_V("${nowhere}")) "</dependencies>\n"));
	tu_write(dir, "bom/pom.xml",
		 POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("e", "f", POM_V("5")))));
	tu_write(dir, "m/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version></parent><artifactId>m</artifactId>\n" POM_MANAGED(
			 POM_DEP("a", "b", POM_V("2.0"))
				 POM_DEP("c", "d", POM_V("[3.0,4.0)"))) "</project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	expect_in(&l, "m/pom.xml", "a:b", "2.0", 3, 0,
		  "inherited from the parent POM pom.xml, managed by this file at line 3");
	const struct dep *d = find_in(&l, "m/pom.xml", "c:d");
	cr_assert_not_null(d);
	cr_expect_eq(d->line, 4);
	cr_expect_str_eq(note_of(d), "inherited from the parent POM pom.xml, version range "
				     "[3.0,4.0) (managed by this file at line 4)");
	d = find_in(&l, "m/pom.xml", "e:f");
	cr_assert_not_null(d);
	cr_expect_eq(d->line, 1);
	cr_expect_str_eq(note_of(d), "inherited from the parent POM pom.xml, managed by the BOM "
				     "g:bom:1 at bom/pom.xml:3");
	d = find_in(&l, "m/pom.xml", "r:s");
	cr_assert_not_null(d);
	cr_expect_str_eq(note_of(d), "inherited from the parent POM pom.xml, version range "
				     "[1.0,2.0)");
	d = find_in(&l, "m/pom.xml", "u:v");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, DEP_UNRESOLVED);
	cr_expect_str_eq(note_of(d), "inherited from the parent POM pom.xml, the property "
				     "${nowhere} is not defined in this file or its parents");
	/* The parent's own, on its own lines and without such a note. */
	expect_in(&l, "pom.xml", "a:b", "1.0", 3, 0, NULL);
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A parent's parent is no parent: what an ancestor above the parent manages or declares
 * says so, and how far up it is (it said "managed by the parent g:root:1", of the
 * module's grandparent).
 */
Test(lockfiles, pom_an_ancestor_is_named_as_one)
{
	char *dir = tu_tmpdir();
	tu_write(
		dir, "pom.xml",
		POM_PROJECT("g", "root", "1",
			    POM_MANAGED(POM_DEP("a", "b", POM_V("1.0"))) "<dependencies>\n" POM_DEP(
				    "c", "d", POM_V("2.0")) "</dependencies>\n"));
	tu_write(dir, "mid/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>root</artifactId>"
		 "<version>1</version></parent><artifactId>mid</artifactId>\n"
		 "<dependencies>\n" POM_DEP("e", "f", POM_V("3.0")) "</dependencies></project>\n");
	tu_write(dir, "mid/m/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>mid</artifactId>"
		 "<version>1</version></parent><artifactId>m</artifactId>\n"
		 "<dependencies>\n" POM_DEP("a", "b", "") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	expect_in(&l, "mid/m/pom.xml", "a:b", "1.0", 3, 0,
		  "managed by the ancestor g:root:1 (2 levels up) at pom.xml:3");
	const struct dep *d = find_in(&l, "mid/m/pom.xml", "c:d");
	cr_assert_not_null(d);
	cr_expect_str_eq(note_of(d), "inherited from the ancestor POM pom.xml (2 levels up)");
	d = find_in(&l, "mid/m/pom.xml", "e:f");
	cr_assert_not_null(d);
	cr_expect_str_eq(note_of(d), "inherited from the parent POM mid/pom.xml");
	/* From the middle one, the root is its parent. */
	d = find_in(&l, "mid/pom.xml", "c:d");
	cr_assert_not_null(d);
	cr_expect_str_eq(note_of(d), "inherited from the parent POM pom.xml");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* Maven's order: the module's own dependencyManagement, then its parents', then its own
 * imports in the order declared, then its parents' imports. */
Test(lockfiles, pom_bom_imports_in_mavens_order)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pom.xml",
		 POM_PROJECT("g", "parent", "1",
			     POM_MANAGED(POM_DEP("l", "log4j", POM_V("1"))
						 POM_IMPORT("g", "bom-a", "1"))));
	tu_write(dir, "boms/a/pom.xml",
		 POM_PROJECT(
			 "g", "bom-a", "1",
			 POM_MANAGED(POM_DEP("c", "d", POM_V("7")) POM_DEP("e", "f", POM_V("8")))));
	tu_write(dir, "boms/b/pom.xml",
		 POM_PROJECT("g", "bom-b", "1",
			     POM_MANAGED(POM_DEP("a", "b", POM_V("2")) POM_DEP(
				     "x", "own", POM_V("9")) POM_DEP("l", "log4j", POM_V("9")))));
	tu_write(dir, "boms/c/pom.xml",
		 POM_PROJECT(
			 "g", "bom-c", "1",
			 POM_MANAGED(POM_DEP("a", "b", POM_V("3")) POM_DEP("c", "d", POM_V("4")))));
	tu_write(dir, "m/pom.xml",
		 "<project><parent><groupId>g</groupId><artifactId>parent</artifactId>"
		 "<version>1</version></parent><artifactId>m</artifactId>\n" POM_MANAGED(
			 POM_IMPORT("g", "bom-b", "1") POM_IMPORT("g", "bom-c", "1") POM_DEP(
				 "x", "own", POM_V("5"))) "<dependencies>\n" POM_DEP("a", "b", "")
			 POM_DEP("c", "d", "") POM_DEP("e", "f", "") POM_DEP("x", "own", "")
				 POM_DEP("l", "log4j", "") "</dependencies></project>\n");
	struct dep_list l;
	scan_tree(dir, &l);
	expect_in(&l, "m/pom.xml", "a:b", "2", 8, 0, "the BOM g:bom-b:1 at boms/b/pom.xml:3");
	expect_in(&l, "m/pom.xml", "c:d", "4", 9, 0, "the BOM g:bom-c:1 at boms/c/pom.xml:4");
	expect_in(&l, "m/pom.xml", "e:f", "8", 10, 0, "the BOM g:bom-a:1 at boms/a/pom.xml:4");
	expect_in(&l, "m/pom.xml", "x:own", "5", 5, 0, NULL);
	expect_in(&l, "m/pom.xml", "l:log4j", "1", 12, 0,
		  "managed by the parent g:parent:1 at pom.xml:3");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* Scan the module m of dir, which imports the BOM g:bom:1 (after `before`, other imports
 * or nothing) and depends on a:b and c:d without a version. */
static void scan_importer(const char *dir, const char *before, struct dep_list *l)
{
	char *xml = tu_strf("<project><groupId>g</groupId><artifactId>m</artifactId><version>1"
			    "</version>\n<dependencyManagement><dependencies>\n%s" POM_IMPORT(
				    "g", "bom", "1") "</dependencies></dependencyManagement>\n"
						     "<dependencies>\n" POM_DEP("a", "b", "")
							     POM_DEP("c", "d", "") "</dependencies>"
										   "</project>\n",
			    before);
	tu_write(dir, "m/pom.xml", xml);
	free(xml);
	/* The module alone (the BOMs are found in the whole tree, the scan's root). */
	struct diag_list dl;
	dep_list_init(l);
	diag_list_init(&dl, 20);
	char *path = tu_strf("%s/m", dir);
	const char *paths[] = { path };
	int r = deps_scan_paths(l, dir, paths, 1, &dl);
	cr_expect_eq(r, 0, "%s", dl.n ? dl.v[0].msg : "");
	free(path);
	diag_list_release(&dl);
}

/* What the scan cannot read leaves what the BOM might manage unresolved, saying which BOM
 * and why: one not in the tree, twice in it with different contents, imports that form
 * a cycle or nest too deep, a BOM whose profiles change what it manages, an import whose
 * version is not resolved, a malformed BOM. An import that the scan cannot read hides
 * what the imports after it manage, not what those before it do. */
Test(lockfiles, pom_bom_imports_that_cannot_be_read_leave_versions_unresolved)
{
	static const struct {
		const char *files[4][2];
		const char *before, *why;
		unsigned flags; /* DEP_POM_NOT_FOUND: a repository may hold the BOM */
	} cases[] = {
		{ { { NULL } },
		  "",
		  "the BOM g:bom:1 is not in the scanned tree",
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND },
		{ { { "x/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("1")))) },
		    { "y/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("2")))) } },
		  "",
		  "the BOM g:bom:1 is in the scanned tree twice, with different contents: "
		  "x/pom.xml, y/pom.xml",
		  DEP_UNRESOLVED },
		{ { { "x/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_IMPORT("g", "other", "1"))) },
		    { "y/pom.xml",
		      POM_PROJECT("g", "other", "1", POM_MANAGED(POM_IMPORT("g", "bom", "1"))) } },
		  "",
		  "the BOM imports form a cycle at g:bom:1",
		  DEP_UNRESOLVED },
		{ { { "x/pom.xml",
		      POM_PROJECT(
			      "g", "bom", "1",
			      POM_MANAGED(POM_DEP(
				      "a", "b", POM_V("1"))) "<profiles><profile><id>old</"
							     "id><properties><v>0</v></properties>"
							     "</profile></profiles>") } },
		  "",
		  "the BOM g:bom:1 has profiles that change what it manages",
		  DEP_UNRESOLVED },
		{ { { "x/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("1")))) } },
		  POM_DEP("g", "first",
			  POM_V("${nowhere}") "<type>pom</type><scope>import</scope>"),
		  "the version of the BOM g:first:${nowhere} is not resolved: the property "
		  "${nowhere} is not defined in this file",
		  DEP_UNRESOLVED },
		{ { { "x/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "", POM_V("1")))) } },
		  "",
		  "the BOM g:bom:1 cannot be read: x/pom.xml:3: a <dependency> without groupId or "
		  "artifactId",
		  DEP_UNRESOLVED },
		/* What a BOM lacks that a repository may hold: its import, its parent. */
		{ { { "x/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_IMPORT("g", "inner", "1"))) } },
		  "",
		  "the BOM g:inner:1 is not in the scanned tree, imported by g:bom:1",
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND },
		{ { { "x/pom.xml",
		      "<project><parent><groupId>g</groupId><artifactId>up</artifactId>"
		      "<version>1</version></parent><artifactId>bom</artifactId>\n" POM_MANAGED(
			      POM_DEP("y", "z", POM_V("1"))) "</project>\n" } },
		  "",
		  "the BOM g:bom:1 is not read whole (its parent POM g:up:1 is not in the scanned "
		  "tree",
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND },
		/* A SNAPSHOT, which the scan does not take from a repository. */
		{ { { NULL } },
		  POM_IMPORT("g", "nightly", "1-SNAPSHOT"),
		  "the BOM g:nightly:1-SNAPSHOT is not in the scanned tree",
		  DEP_UNRESOLVED },
		{ { { "x/pom.xml",
		      POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("1")))) },
		    { "y/pom.xml", POM_PROJECT("g", "first", "1",
					       POM_MANAGED(POM_DEP("c", "d", POM_V("1")))) } },
		  POM_IMPORT("g", "first", "1") POM_IMPORT("g", "missing", "1"),
		  "the BOM g:missing:1 is not in the scanned tree",
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *dir = tu_tmpdir();
		for (size_t k = 0; k < ARRAY_SIZE(cases[i].files) && cases[i].files[k][0]; k++) {
			tu_write(dir, cases[i].files[k][0], cases[i].files[k][1]);
		}
		struct dep_list l;
		scan_importer(dir, cases[i].before, &l);
		const struct dep *d = find_in(&l, "m/pom.xml", "a:b");
		cr_assert_not_null(d, "%zu", i);
		cr_expect_eq(d->flags, cases[i].flags, "%zu: %s %s", i, d->version, note_of(d));
		cr_expect(strstr(note_of(d), cases[i].why), "%zu: %s", i, note_of(d));
		if (i == ARRAY_SIZE(cases) - 1) {
			/* Managed by the import before the one the scan cannot read. */
			expect_in(&l, "m/pom.xml", "c:d", "1", 9, 0, "at y/pom.xml:3");
		}
		dep_list_release(&l);
		tu_rmdir(dir);
		free(dir);
	}
	/* The same BOM twice, byte for byte (a copy of a module's pom.xml, as a build whose
	 * <directory> is not target/ leaves one under staging/classes/META-INF/maven/): it is
	 * one BOM. An import whose BOM is
	 * not in the tree after one that manages the version does not hide it. */
	char *dir = tu_tmpdir();
	const char *bom = POM_PROJECT(
		"g", "bom", "1",
		POM_MANAGED(POM_DEP("a", "b", POM_V("1")) POM_DEP("c", "d", POM_V("2"))));
	tu_write(dir, "bom/pom.xml", bom);
	tu_write(dir, "bom/staging/classes/META-INF/maven/g/bom/pom.xml", bom);
	struct dep_list l;
	scan_importer(dir, "", &l);
	expect_in(&l, "m/pom.xml", "a:b", "1", 6, 0, "at bom/pom.xml:3");
	dep_list_release(&l);
	tu_write(dir, "m/pom.xml",
		 POM_PROJECT(
			 "g", "m", "1",
			 POM_MANAGED(POM_IMPORT("g", "bom", "1") POM_IMPORT(
				 "g", "gone",
				 "1")) "<dependencies>\n" POM_DEP("a", "b", "") "</dependencies>"));
	scan_tree(dir, &l);
	expect_in(&l, "m/pom.xml", "a:b", "1", 7, 0, "at bom/pom.xml:3");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* The paths of the lockfiles l read are exactly want, in the walk's order. */
static void expect_files(const struct dep_list *l, const char *const *want, size_t n)
{
	for (size_t i = 0; i < l->n_files; i++) {
		cr_log_info("read %s", l->files[i].path);
	}
	cr_assert_eq(l->n_files, n, "%zu lockfiles, not %zu", l->n_files, n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_str_eq(l->files[i].path, want[i]);
	}
}

/*
 * After `mvn package`, a module's target/ holds copies of its pom.xml
 * (target/classes/META-INF/maven/<g>/<a>/pom.xml): the walk passes over a target/ beside
 * a pom.xml, Maven's build output (its default <build><directory>), as it passes over
 * node_modules and vendor, so that a module's findings are not reported twice, once for
 * the build's copy; nor does the index of the tree's pom.xml files look there for BOMs (a
 * copy left by an older build is no second BOM). A directory named target without a
 * pom.xml beside it is walked. A pom.xml that sets another <directory> is not read for
 * it: target/ is passed over all the same, and the other directory walked. A fork's
 * changes under target/ are read, and every target/ when they cannot be listed.
 */
Test(lockfiles, walk_skips_the_build_output_of_a_maven_module)
{
	char *dir = tu_tmpdir();
	const char *app = POM_PROJECT(
		"g", "app", "1",
		POM_MANAGED(POM_IMPORT("g", "bom", "1")) "<dependencies>\n" POM_DEP("a", "b", "")
			POM_DEP("c", "d", POM_V("2")) "</dependencies>\n");
	tu_write(dir, "pom.xml", app);
	tu_write(dir, "target/classes/META-INF/maven/g/app/pom.xml", app);
	tu_write(dir, "target/classes/requirements.txt", requirements);
	tu_write(dir, "bom/pom.xml",
		 POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("1")))));
	/* An older build's copy, with other contents. */
	tu_write(dir, "bom/target/classes/META-INF/maven/g/bom/pom.xml",
		 POM_PROJECT("g", "bom", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("0.9")))));
	/* No pom.xml beside it: not a Maven module's output. */
	tu_write(dir, "tools/target/pom.xml", pom_xml);
	tu_write(dir, "tools/target/requirements.txt", requirements);
	/* Another build directory. */
	const char *custom =
		POM_PROJECT("g", "custom", "1",
			    "<build><directory>out</directory></build>\n<dependencies>\n" POM_DEP(
				    "e", "f", POM_V("3")) "</dependencies>\n");
	tu_write(dir, "custom/pom.xml", custom);
	tu_write(dir, "custom/out/classes/META-INF/maven/g/custom/pom.xml", custom);
	tu_write(dir, "custom/target/yarn.lock", yarn_lock);

	struct dep_list l;
	scan_tree(dir, &l);
	static const char *const want[] = {
		"bom/pom.xml",		"custom/out/classes/META-INF/maven/g/custom/pom.xml",
		"custom/pom.xml",	"pom.xml",
		"tools/target/pom.xml", "tools/target/requirements.txt",
	};
	expect_files(&l, want, ARRAY_SIZE(want));
	/* Once each, the module's own. */
	expect_in(&l, "pom.xml", "a:b", "1", 6, 0, "at bom/pom.xml:3");
	expect_in(&l, "pom.xml", "c:d", "2", 7, 0, NULL);
	size_t n = 0;
	for (size_t i = 0; i < l.n; i++) {
		n += str_eq(l.v[i].name, "c:d");
	}
	cr_expect_eq(n, 1, "c:d is listed %zu times", n);
	expect_in(&l, "tools/target/pom.xml", "g:a", "1.0", 6, 0, NULL);
	dep_list_release(&l);

	/* A fork's change under target/ is read; every target/ when changes are unknown. */
	static const char *const changed[] = { "target/classes/requirements.txt" };
	struct deps_walk_opts wo = { .must_scan = changed, .n_must_scan = ARRAY_SIZE(changed) };
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	const char *paths[] = { dir };
	cr_assert_eq(deps_scan_paths_opts(&l, dir, paths, 1, &wo, &dl), 0);
	static const char *const with_change[] = {
		"bom/pom.xml",
		"custom/out/classes/META-INF/maven/g/custom/pom.xml",
		"custom/pom.xml",
		"pom.xml",
		"target/classes/requirements.txt",
		"tools/target/pom.xml",
		"tools/target/requirements.txt",
	};
	expect_files(&l, with_change, ARRAY_SIZE(with_change));
	dep_list_release(&l);
	diag_list_release(&dl);
	struct deps_walk_opts all = { .enter_skipped = true };
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	deps_scan_paths_opts(&l, dir, paths, 1, &all, &dl);
	cr_expect_eq(l.n_files, ARRAY_SIZE(want) + 4, "%zu lockfiles", l.n_files);
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);
}

/* Imports nested deeper than the cap, and more BOMs than a scan reads, stop there:
 * unresolved, in bounded work. */
Test(lockfiles, pom_bom_imports_are_capped)
{
	char *dir = tu_tmpdir();
	/* bom0 imports bom1 ... imports bom20, which manages a:b. */
	for (int i = 0; i <= 20; i++) {
		char *rel = tu_strf("b%d/pom.xml", i);
		char *xml =
			i < 20 ? tu_strf(POM_PROJECT("g", "bom%d", "1",
						     POM_MANAGED(POM_IMPORT("g", "bom%d", "1"))),
					 i, i + 1)
			       : tu_strf(POM_PROJECT("g", "bom%d", "1",
						     POM_MANAGED(POM_DEP("a", "b", POM_V("1")))),
					 i);
		tu_write(dir, rel, xml);
		free(xml);
		free(rel);
	}
	tu_write(dir, "m/pom.xml",
		 POM_PROJECT("g", "m", "1",
			     POM_MANAGED(POM_IMPORT("g", "bom0", "1")) "<dependencies>\n" POM_DEP(
				     "a", "b", "") "</dependencies>"));
	tu_write(dir, "n/pom.xml",
		 POM_PROJECT("g", "n", "1",
			     POM_MANAGED(POM_IMPORT("g", "bom10", "1")) "<dependencies>\n" POM_DEP(
				     "a", "b", "") "</dependencies>"));
	struct dep_list l;
	scan_tree(dir, &l);
	expect_in(&l, "m/pom.xml", "a:b", "", 6, DEP_UNRESOLVED, "nest more than 16 levels deep");
	expect_in(&l, "n/pom.xml", "a:b", "1", 6, 0, "at b20/pom.xml:3");
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);

	/* A module that imports 1,001 BOMs, the last of which manages a:b. */
	dir = tu_tmpdir();
	struct sbuf sb;
	sbuf_init(&sb, 1u << 20);
	sbuf_puts(&sb, "<project><groupId>g</groupId><artifactId>m</artifactId><version>1"
		       "</version>\n<dependencyManagement><dependencies>");
	for (int i = 0; i <= 1000; i++) {
		char *rel = tu_strf("b/%d/pom.xml", i);
		char *xml = tu_strf(POM_PROJECT("g", "bom%d", "1", "%s"), i,
				    i == 1000 ? POM_MANAGED(POM_DEP("a", "b", POM_V("1"))) : "");
		tu_write(dir, rel, xml);
		free(xml);
		free(rel);
		sbuf_printf(&sb, POM_IMPORT("g", "bom%d", "1"), i);
	}
	sbuf_puts(&sb, "</dependencies></dependencyManagement>\n<dependencies>" POM_DEP(
			       "a", "b", "") "</dependencies></project>\n");
	tu_write(dir, "m/pom.xml", sb.data);
	sbuf_release(&sb);
	scan_tree(dir, &l);
	const struct dep *d = find_in(&l, "m/pom.xml", "a:b");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, DEP_UNRESOLVED, "%s", note_of(d));
	cr_expect(strstr(note_of(d), "the scan has read 1000 BOMs"), "%s", note_of(d));
	dep_list_release(&l);
	tu_rmdir(dir);
	free(dir);
}

/* Scan dir/app with root dir and the Maven repository repo (NULL: none). */
static void scan_with_repo(const char *dir, const char *repo, struct dep_list *l)
{
	struct diag_list dl;
	dep_list_init(l);
	diag_list_init(&dl, 20);
	if (repo) {
		cr_assert_eq(deps_maven_repository(l, repo), 0);
	}
	char *app = tu_strf("%s/app", dir);
	const char *paths[] = { app };
	cr_assert_eq(deps_scan_paths(l, dir, paths, 1, &dl), 0, "%s", dl.n ? dl.v[0].msg : "");
	free(app);
	diag_list_release(&dl);
}

/*
 * A local Maven repository the scan is given holds what the tree does not: a parent (and
 * its parent, read from the repository only, as Maven reads a POM of it) and BOMs (and
 * the BOMs they import). The parents' dependencyManagement wins over the module's
 * imports. A SNAPSHOT is not read from it (Maven may use a newer build), nor a file that
 * coordinates name outside it. Without the repository, all of it is unresolved.
 */
Test(lockfiles, pom_boms_and_parents_from_a_local_maven_repository)
{
	char *top = tu_tmpdir();
	char *ws = tu_strf("%s/ws", top), *m2 = tu_strf("%s/m2", top);
	tu_write(ws, "app/pom.xml",
		 "<project>\n<parent><groupId>org.example.boot</groupId><artifactId>starter-parent"
		 "</artifactId><version>3.2.0</version><relativePath/></parent>\n"
		 "<artifactId>app</artifactId>\n" POM_MANAGED(
			 POM_IMPORT("com.acme", "platform-bom", "2.0") POM_IMPORT(
				 "com.acme", "nightly-bom",
				 "1.0-SNAPSHOT")) "<dependencies>\n" POM_DEP("org.apache.logging."
									     "log4j",
									     "log4j-core", "")
			 POM_DEP("com.google.guava", "guava", "")
				 POM_DEP("x", "later", "") "</dependencies></project>\n");
	/* Its relativePath (the directory above the file) is not where Maven looks. */
	tu_write(m2, "org/example/boot/starter-parent/3.2.0/starter-parent-3.2.0.pom",
		 "<project><parent><groupId>org.example.boot</groupId><artifactId>boot-dependencies"
		 "</artifactId><version>3.2.0</version></parent>\n"
		 "<artifactId>starter-parent</artifactId></project>\n");
	tu_write(m2, "org/example/boot/starter-parent/3.2.0/pom.xml",
		 POM_PROJECT("org.example.boot", "boot-dependencies", "3.2.0",
			     POM_MANAGED(POM_DEP("org.apache.logging.log4j", "log4j-core",
						 POM_V("1.0")))));
	tu_write(m2, "org/example/boot/boot-dependencies/3.2.0/boot-dependencies-3.2.0.pom",
		 POM_PROJECT("org.example.boot", "boot-dependencies", "3.2.0",
			     "<properties><log4j2.version>2.21.1</log4j2.version></"
			     "properties>\n" POM_MANAGED(POM_DEP("org.apache.logging.log4j",
								 "log4j-core",
								 POM_V("${log4j2.version}")))));
	tu_write(m2, "com/acme/platform-bom/2.0/platform-bom-2.0.pom",
		 POM_PROJECT("com.acme", "platform-bom", "2.0",
			     POM_MANAGED(POM_DEP("org.apache.logging.log4j", "log4j-core",
						 POM_V("2.14.1"))
						 POM_IMPORT("com.acme", "base-bom", "1"))));
	tu_write(m2, "com/acme/base-bom/1/base-bom-1.pom",
		 POM_PROJECT("com.acme", "base-bom", "1",
			     POM_MANAGED(POM_DEP("com.google.guava", "guava", POM_V("32.0.0")))));
	tu_write(m2, "com/acme/nightly-bom/1.0-SNAPSHOT/nightly-bom-1.0-SNAPSHOT.pom",
		 POM_PROJECT("com.acme", "nightly-bom", "1.0-SNAPSHOT",
			     POM_MANAGED(POM_DEP("x", "later", POM_V("1")))));
	char *real_m2 = realpath(m2, NULL);
	const struct dep *d;
	struct dep_list l;
	scan_with_repo(ws, m2, &l);
	/* (The parent's parent: an ancestor.) */
	char *note = tu_strf("managed by the ancestor org.example.boot:boot-dependencies:3.2.0 (2 "
			     "levels up) at %s/org/example/boot/boot-dependencies/3.2.0/"
			     "boot-dependencies-3.2.0.pom:4",
			     real_m2);
	expect_in(&l, "app/pom.xml", "org.apache.logging.log4j:log4j-core", "2.21.1", 9, 0, note);
	free(note);
	note = tu_strf("managed by the BOM com.acme:base-bom:1 at "
		       "%s/com/acme/base-bom/1/base-bom-1.pom:3 (imported through "
		       "com.acme:platform-bom:2.0)",
		       real_m2);
	expect_in(&l, "app/pom.xml", "com.google.guava:guava", "32.0.0", 10, 0, note);
	free(note);
	note = tu_strf("the BOM com.acme:nightly-bom:1.0-SNAPSHOT is not in the scanned tree, nor "
		       "in the Maven repository %s: a SNAPSHOT, of which the Maven repository "
		       "may hold an older build than the build's",
		       real_m2);
	expect_in(&l, "app/pom.xml", "x:later", "", 11, DEP_UNRESOLVED, note);
	free(note);
	dep_list_release(&l);
	/* Without the repository. */
	scan_with_repo(ws, NULL, &l);
	expect_in(&l, "app/pom.xml", "org.apache.logging.log4j:log4j-core", "", 9,
		  DEP_UNRESOLVED | DEP_POM_NOT_FOUND,
		  "its parent POM org.example.boot:starter-parent:3.2.0 is not in the scanned "
		  "tree");
	d = find_in(&l, "app/pom.xml", "com.google.guava:guava");
	cr_assert_not_null(d);
	cr_expect_eq(d->flags, DEP_UNRESOLVED | DEP_POM_NOT_FOUND, "%s", note_of(d));
	dep_list_release(&l);
	/* Coordinates that would name a file outside the repository; a link out of it. */
	tu_write(ws, "app/pom.xml",
		 POM_PROJECT("g", "app", "1",
			     POM_MANAGED(POM_IMPORT("..", "x", "1")) "<dependencies>\n" POM_DEP(
				     "a", "b", "") "</dependencies>"));
	scan_with_repo(ws, m2, &l);
	note = tu_strf("the BOM ..:x:1 is not in the scanned tree, nor in the Maven repository %s: "
		       "its coordinates do not name a file of the Maven repository",
		       real_m2);
	expect_in(&l, "app/pom.xml", "a:b", "", 6, DEP_UNRESOLVED, note);
	free(note);
	dep_list_release(&l);
	tu_write(top, "outside.pom",
		 POM_PROJECT("com.acme", "evil", "1", POM_MANAGED(POM_DEP("a", "b", POM_V("9")))));
	char *dir = tu_strf("%s/com/acme/evil/1", m2);
	char *link = tu_strf("%s/evil-1.pom", dir);
	char *target = tu_strf("%s/outside.pom", top);
	char *mkdir = tu_strf("mkdir -p '%s'", dir);
	cr_assert_eq(system(mkdir), 0);
	free(mkdir);
	cr_assert_eq(symlink(target, link), 0);
	tu_write(
		ws, "app/pom.xml",
		POM_PROJECT(
			"g", "app", "1",
			POM_MANAGED(POM_IMPORT("com.acme", "evil", "1")) "<dependencies>\n" POM_DEP(
				"a", "b", "") "</dependencies>"));
	scan_with_repo(ws, m2, &l);
	expect_in(&l, "app/pom.xml", "a:b", "", 6, DEP_UNRESOLVED,
		  "its file in the Maven repository leads out of it");
	dep_list_release(&l);
	free(target);
	free(link);
	free(dir);
	free(real_m2);
	free(ws);
	free(m2);
	tu_rmdir(top);
	free(top);
}

/* ---------- uv.lock and bun.lock (fixtures of our own: tests/fixtures/uv, bun) ---------- */

/* Parse tests/fixtures/<rel> as f (display: its base name). */
static int parse_own_fixture(struct dep_list *l, struct diag_list *dl, const char *rel,
			     enum dep_format f)
{
	char *path = tu_fixture(rel);
	const char *base = strrchr(rel, '/');
	dep_list_init(l);
	diag_list_init(dl, 20);
	int r = deps_parse_file(l, path, base ? base + 1 : rel, f, dl);
	free(path);
	return r;
}

/* The first diagnostic of a parse that must fail: at line, saying says. */
static void expect_parse_error(enum dep_format f, const char *display, const char *text,
			       unsigned line, unsigned col, const char *says)
{
	struct dep_list l;
	struct diag_list dl;
	cr_expect_eq(parse_text(&l, &dl, f, display, text), -EINVAL, "%s", text);
	cr_assert_geq(dl.n, 1, "%s", text);
	cr_expect_str_eq(dl.v[0].file, display);
	cr_expect_eq(dl.v[0].line, line, "line %u, not %u: %s\n%s", dl.v[0].line, line, dl.v[0].msg,
		     text);
	if (col) {
		cr_expect_eq(dl.v[0].col, col, "col %u, not %u: %s", dl.v[0].col, col, dl.v[0].msg);
	}
	cr_expect(strstr(dl.v[0].msg, says), "'%s' not in '%s'", says, dl.v[0].msg);
	cr_expect_eq(l.n, 0, "a file that fails contributes nothing");
	dep_list_release(&l);
	diag_list_release(&dl);
}

/* Every package of the uv fixture at its [[package]] line (grep -n), with the git one's
 * commit; the project and its workspace member (editable) are not packages. */
Test(lockfiles, uv_lock_fixture)
{
	static const struct name_version_line want[] = {
		{ "attrs", "24.2.0", 15 },
		{ "certifi", "2024.8.30", 20 },
		{ "charset-normalizer", "3.3.2", 29 },
		{ "colorama", "0.4.6", 39 },
		{ "exceptiongroup", "1.2.2", 48 },
		{ "idna", "3.10", 57 },
		{ "iniconfig", "2.0.0", 66 },
		{ "local-plugin", "0.1.0", 75 },
		{ "numpy", "2.0.2", 86 },
		{ "numpy", "2.1.3", 98 },
		{ "packaging", "24.1", 110 },
		{ "pluggy", "1.5.0", 119 },
		{ "pytest", "8.3.3", 128 },
		{ "requests", "2.32.3", 145 },
		{ "six", "1.16.0", 160 },
		{ "tomli", "2.0.1", 171 },
		{ "urllib3", "1.24.1", 180 },
		{ "vendored-lib", "0.3.0", 240 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_own_fixture(&l, &dl, "uv/project/uv.lock", DEP_UV_LOCK), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "uv.lock");
	for (size_t i = 0; i < l.n; i++) {
		const struct dep *d = &l.v[i];
		cr_expect_eq(d->eco, ECO_PYPI, "%s", d->name);
		cr_expect_str_eq(d->file, "uv.lock");
		if (str_eq(d->name, "attrs")) {
			cr_expect(d->commit && str_eq(d->commit,
						      "8d0c6b6b5f6a1c0e2b7a9f3e4d5c6b7a8f9e0d1c"),
				  "%s", d->commit ? d->commit : "(none)");
		} else {
			cr_expect_null(d->commit, "%s", d->name);
		}
	}
	cr_expect(!has_name(&l, "uv-fixture") && !has_name(&l, "uv-fixture-cli"));
	cr_assert_eq(l.n_files, 1);
	cr_expect_eq(l.files[0].format, DEP_UV_LOCK);
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, uv_lock_sources_names_and_duplicates)
{
	static const char lock[] = "version = 1\n"
				   "requires-python = \">=3.12\"\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"Typing_Extensions\"\n"
				   "version = \"4.12.2\"\n"
				   "source = { registry = \"https://pypi.org/simple\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"typing-extensions\"\n"
				   "version = \"4.12.2\"\n"
				   "source = { registry = \"https://mirror.example/simple\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"app\"\n"
				   "source = { virtual = \".\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"tool\"\n"
				   "source = { directory = \"tools/tool\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"jinja2\"\n"
				   "version = \"2.8\"\n"
				   "\n"
				   "[package.source]\n"
				   "registry = \"https://pypi.org/simple\"\n";
	static const struct name_version_line want[] = {
		{ "typing-extensions", "4.12.2", 4 },
		{ "tool", "", 18 },
		{ "jinja2", "2.8", 22 },
	};
	parse_exactly(DEP_UV_LOCK, "uv.lock", lock, want, ARRAY_SIZE(want), "uv.lock");
}

/* An editable source is the project's own code only when it is the project (".") or a
 * member of its workspace ([manifest] members); any other editable package (a path
 * dependency declared editable) is reported at its version, like a directory. */
Test(lockfiles, uv_lock_editable_path_dependencies_are_packages)
{
	static const char lock[] = "version = 1\n"
				   "revision = 2\n"
				   "requires-python = \">=3.12\"\n"
				   "\n"
				   "[manifest]\n"
				   "members = [\n"
				   "    \"app\",\n"
				   "    \"Member_Pkg\",\n"
				   "]\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"app\"\n"
				   "version = \"0.1.0\"\n"
				   "source = { editable = \".\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"member-pkg\"\n"
				   "version = \"0.2.0\"\n"
				   "source = { editable = \"packages/member\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"django\"\n"
				   "version = \"2.2.0\"\n"
				   "source = { editable = \"third_party/django\" }\n"
				   "\n"
				   "[[package]]\n"
				   "name = \"tool\"\n"
				   "source = { editable = \"tools/tool\" }\n";
	static const struct name_version_line want[] = {
		{ "django", "2.2.0", 21 },
		{ "tool", "", 26 },
	};
	parse_exactly(DEP_UV_LOCK, "uv.lock", lock, want, ARRAY_SIZE(want), "uv.lock");

	/* Without [manifest] (a project alone), only "." is the project. */
	static const char alone[] = "version = 1\n\n"
				    "[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n"
				    "source = { editable = \".\" }\n\n"
				    "[[package]]\nname = \"member-pkg\"\nversion = \"0.2.0\"\n"
				    "source = { editable = \"packages/member\" }\n";
	static const struct name_version_line want_alone[] = { { "member-pkg", "0.2.0", 8 } };
	parse_exactly(DEP_UV_LOCK, "uv.lock", alone, want_alone, ARRAY_SIZE(want_alone),
		      "uv.lock alone");
}

Test(lockfiles, uv_lock_errors_fail_closed)
{
#define PKG(body) "[[package]]\nname = \"a\"\n" body
#define REG	  "source = { registry = \"https://pypi.org/simple\" }\n"
	static const struct {
		const char *text;
		unsigned line, col;
		const char *says;
	} bad[] = {
		/* Another lockfile version: uv bumps it for what older readers must not read. */
		{ "# written by a future uv\nversion = 2\nrevision = 1\n\n" PKG(
			  "version = \"1\"\n" REG),
		  2, 0, "lockfile version 2, which runner does not read" },
		{ "version = \"1\"\n", 1, 0, "not an integer" },
		/* Written otherwise: a dotted key (a table), a quoted key. */
		{ "version.1 = 2\n", 1, 0, "not an integer" },
		{ "# uv\n\"version\" = \"1\"\n", 2, 0, "not an integer" },
		{ "requires-python = \">=3.12\"\n\n" PKG("version = \"1\"\n" REG), 1, 0,
		  "no lockfile version" },
		{ "version = 1\nrevision = \"3\"\n", 2, 0, "revision is not" },
		{ "version = 1\n\n[[distribution]]\nname = \"a\"\nversion = \"1\"\n", 3, 0,
		  "[[distribution]]" },
		/* Packages that would not be read. */
		{ "version = 1\n\n" PKG(REG), 3, 0, "has no version" },
		{ "version = 1\n\n" PKG("version = \"1\"\n"), 3, 0, "no source table" },
		{ "version = 1\n\n" PKG("version = \"1\"\nsource = { forge = \"x\" }\n"), 3, 0,
		  "a kind runner does not read: forge" },
		{ "version = 1\n\n" PKG("version = \"1\"\nsource = { registry = \"r\", git = "
					"\"g\" }\n"),
		  3, 0, "two sources" },
		{ "version = 1\n\n[[package]]\nversion = \"1\"\n" REG, 3, 0, "without a name" },
		{ "version = 1\n\n" PKG("version = 1\n" REG), 3, 0, "not a string" },
		{ "version = 1\npackage = 3\n", 2, 0, "not an array of tables" },
		/* Editable sources and workspace members that cannot be read. */
		{ "version = 1\n\n" PKG("version = \"1\"\nsource = { editable = 1 }\n"), 3, 0,
		  "the editable path is not a string" },
		{ "version = 1\n\n[manifest]\nmembers = \"a\"\n", 3, 0,
		  "[manifest] members is not an array of names" },
		{ "version = 1\n\n[manifest]\nmembers = [\"a\", 1]\n", 3, 0,
		  "[manifest] members is not an array of names" },
		/* TOML errors: line and column. */
		{ "version = 1\n\n[[package]]\nname = \"a\nversion = \"1\"\n", 4, 0,
		  "not valid TOML" },
	};
#undef PKG
#undef REG
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_parse_error(DEP_UV_LOCK, "py/uv.lock", bad[i].text, bad[i].line, bad[i].col,
				   bad[i].says);
	}
}

/* Every package of the bun fixture (written by bun 1.4.5) at its key's line: the alias
 * as the package it names, the nested copy of ms, the registry tarball at the version its
 * URL gives, the file: directory without a version; the workspace is not a package. */
Test(lockfiles, bun_lock_fixture)
{
	static const struct name_version_line want[] = {
		{ "@sindresorhus/is", "4.6.0", 33 },
		{ "debug", "2.6.9", 37 },
		{ "is-number", "7.0.0", 39 },
		{ "left-pad", "1.3.0", 41 },
		{ "local-lib", "", 43 },
		{ "lodash", "4.17.20", 45 },
		{ "lodash", "4.17.21", 47 },
		{ "minimist", "1.2.5", 49 },
		{ "ms", "2.1.3", 51 },
		{ "left-pad", "1.1.3", 53 },
		{ "ms", "2.0.0", 55 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_own_fixture(&l, &dl, "bun/project/bun.lock", DEP_BUN_LOCK), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "bun.lock");
	for (size_t i = 0; i < l.n; i++) {
		cr_expect_eq(l.v[i].eco, ECO_NPM, "%s", l.v[i].name);
		cr_expect_null(l.v[i].commit, "%s", l.v[i].name);
	}
	cr_expect(!has_name(&l, "app") && !has_name(&l, "lodash-latest") &&
		  !has_name(&l, "pad-tarball"));
	dep_list_release(&l);
	diag_list_release(&dl);
}

/*
 * A tarball URL in the npm registry's layout (HOST[/PREFIX]/NAME/-/BASENAME-VERSION.tgz,
 * which publishing ties to the package's name and version) gives its version, in bun.lock
 * and as a package-lock.json v1 version; any other URL stays the version (an unresolved
 * one for the scan): another package's path, a query or fragment, no version, a file
 * elsewhere.
 */
Test(lockfiles, a_registry_tarball_url_gives_its_version)
{
	static const char bun[] =
		"{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n"
		"    \"a\": "
		"[\"left-pad@https://registry.npmjs.org/left-pad/-/left-pad-1.1.3.tgz\"],\n"
		"    \"b\": [\"@babel/core@https://npm.corp.example/api/npm/npm/@babel/core/-/"
		"core-7.0.0.tgz\"],\n"
		"    \"c\": [\"ms@https://registry.npmjs.org/left-pad/-/left-pad-1.1.3.tgz\"],\n"
		"    \"d\": "
		"[\"is-number@https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz?x=1"
		"\"],\n"
		"    \"e\": [\"minimist@https://cdn.example/minimist.tgz\"],\n"
		"    \"f\": [\"lodash@https://registry.npmjs.org/lodash/-/lodash-latest.tgz\"],\n"
		"    \"g\": [\"debug@https://registry.npmjs.org/debug/-/debug-2.6.9.tar.gz\"]\n"
		"  }\n}\n";
	static const struct name_version_line want[] = {
		{ "left-pad", "1.1.3", 4 },
		{ "@babel/core", "7.0.0", 5 },
		{ "ms", "https://registry.npmjs.org/left-pad/-/left-pad-1.1.3.tgz", 6 },
		{ "is-number", "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz?x=1",
		  7 },
		{ "minimist", "https://cdn.example/minimist.tgz", 8 },
		{ "lodash", "https://registry.npmjs.org/lodash/-/lodash-latest.tgz", 9 },
		{ "debug", "https://registry.npmjs.org/debug/-/debug-2.6.9.tar.gz", 10 },
	};
	parse_exactly(DEP_BUN_LOCK, "bun.lock", bun, want, ARRAY_SIZE(want), "bun.lock");

	static const char npm[] =
		"{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 1,\n"
		" \"dependencies\": {\n"
		"  \"left-pad\": {\"version\": "
		"\"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\"},\n"
		"  \"ms\": {\"version\": \"http://mirror.example/ms/-/ms-2.0.0.tgz#frag\"}\n"
		" }}\n";
	static const struct name_version_line want_npm[] = {
		{ "left-pad", "1.3.0", 3 },
		{ "ms", "http://mirror.example/ms/-/ms-2.0.0.tgz#frag", 4 },
	};
	parse_exactly(DEP_NPM_LOCK, "package-lock.json", npm, want_npm, ARRAY_SIZE(want_npm),
		      "package-lock.json v1");
}

/* bun.lock is JSONC: comments (with quotes, commas and brackets in them) and trailing
 * commas are read as bun reads them, "//" in a string stays; git packages keep their
 * commit; copies of one name@version are one package, on the first line. */
Test(lockfiles, bun_lock_jsonc_git_aliases_and_copies)
{
	static const char lock[] =
		"// bun.lock, \"edited\" by hand, {\n"
		"{\n"
		"  \"lockfileVersion\": 1, /* \"packages\": { \"evil\": [\"evil@1.0.0\"] }, */\n"
		"  \"workspaces\": { \"\": { \"name\": \"w\", }, },\n"
		"  \"packages\": {\n"
		"    \"os\": [\"os@0.1.2\", \"\", { \"os\": [\"linux\",], \"cpu\": [\"x64\"] }, "
		"\"sha512-x\",],\n"
		"    /* a comment over\n"
		"       two lines ] */\n"
		"    \"cpu\": [\"cpu@1.0.0\", \"https://npm.example//registry/\", {}, "
		"\"sha512-y\"],\n"
		"    \"a/os\": [\"os@0.1.2\", \"\", {}, \"sha512-x\"], // the same package\n"
		"    \"g\": [\"g@github:owner/g#1a2b3c4\", {}, \"owner-g-1a2b3c4\"],\n"
		"    \"h\": "
		"[\"@s/h@git+https://git.example/h.git#0123456789abcdef0123456789abcdef01234567\", "
		"{}, \"0123456789abcdef0123456789abcdef01234567\"],\n"
		"    \"old\": [\"old@npm:@s/real@2.0.0\", \"\", {}, \"sha512-z\"],\n"
		"    \"w\": [\"w@root:\", {}],\n"
		"    \"l\": [\"l@link:../l\", {}],\n"
		"    \"t\": [\"t@./vendor/t-1.0.0.tgz\", {}],\n"
		"  },\n"
		"}\n";
	static const struct name_version_line want[] = {
		{ "os", "0.1.2", 6 }, { "cpu", "1.0.0", 9 },	  { "g", "", 11 },
		{ "@s/h", "", 12 },   { "@s/real", "2.0.0", 13 }, { "l", "", 15 },
		{ "t", "", 16 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_BUN_LOCK, "bun.lock", lock), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "bun.lock");
	cr_expect(!has_name(&l, "evil") && !has_name(&l, "w"));
	const struct dep *g = find_dep(&l, "g", ""), *h = find_dep(&l, "@s/h", "");
	cr_expect(g && g->commit && str_eq(g->commit, "1a2b3c4"));
	cr_expect(h && h->commit && str_eq(h->commit, "0123456789abcdef0123456789abcdef01234567"));
	dep_list_release(&l);
	diag_list_release(&dl);
}

Test(lockfiles, bun_lock_errors_fail_closed)
{
	static const struct {
		const char *text;
		unsigned line, col;
		const char *says;
	} bad[] = {
		/* Versions bun has not written (yet). */
		{ "{\n  \"lockfileVersion\": 4,\n  \"packages\": {},\n}\n", 2, 0,
		  "lockfileVersion 4, which runner does not read" },
		{ "{\n  \"packages\": {},\n  \"lockfileVersion\": \"1\",\n}\n", 3, 0,
		  "lockfileVersion that is not an integer" },
		{ "{\n  \"packages\": {},\n}\n", 1, 1, "no lockfileVersion" },
		{ "{ \"lockfileVersion\": 1 }\n", 1, 1, "no \"packages\" object" },
		{ "{ \"lockfileVersion\": 1,\n  \"packages\": [] }\n", 2, 0,
		  "\"packages\" is not an object" },
		{ "[1]\n", 1, 1, "the top level is not an object" },
		/* Entries that cannot be read. */
		{ "{ \"lockfileVersion\": 1, \"packages\": {\n  \"a\": [\"a@1.0.0\"],\n"
		  "  \"b\": {\"version\": \"1.0.0\"},\n} }\n",
		  3, 0, "packages[\"b\"] is not an array" },
		{ "{ \"lockfileVersion\": 1, \"packages\": {\n\n  \"a\": [\"a\", \"\", {}],\n} }\n",
		  3, 0, "is not name@version" },
		{ "{ \"lockfileVersion\": 1, \"packages\": {\n  \"a\": [\"a@\"],\n} }\n", 2, 0,
		  "is not name@version" },
		{ "{ \"lockfileVersion\": 1, \"packages\": {\n  \"a\": [\"a@npm:b\"],\n} }\n", 2, 0,
		  "the alias" },
		/* A key given twice: jansson would keep one of them. */
		{ "{ \"lockfileVersion\": 1, \"packages\": {\n  \"a\": [\"a@1.0.0\"],\n"
		  "  \"a\": [\"a@0.0.1\"],\n} }\n",
		  3, 0, "duplicate object key" },
		/* JSONC: an unclosed comment at its start, JSON errors at theirs, and only a
		 * comma after a value is a trailing one. */
		{ "{ \"lockfileVersion\": 1,\n  \"packages\": {} /* no end\n}\n", 2, 18,
		  "a comment that is not closed" },
		{ "{ \"lockfileVersion\": 1,\n  // \"x\" \n  \"packages\": {,},\n}\n", 3, 0,
		  "not valid JSON" },
		{ "{ \"lockfileVersion\": 1,\n  \"packages\": { \"a\": [\"a@1.0.0\",,], },\n}\n", 2,
		  0, "not valid JSON" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_parse_error(DEP_BUN_LOCK, "web/bun.lock", bad[i].text, bad[i].line,
				   bad[i].col, bad[i].says);
	}
}

/* bun's binary bun.lockb is not read: alone it is an error (every package of the project
 * would pass unchecked), beside a bun.lock (which bun reads then) it is passed over. */
Test(lockfiles, bun_lockb_alone_fails_closed)
{
	static const char bun_lock[] =
		"{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n"
		"    \"ms\": [\"ms@2.1.3\", \"\", {}, \"sha512-x\"],\n  }\n}\n";
	char *dir = tu_tmpdir();
	tu_write(dir, "old/bun.lockb", "#!/usr/bin/env bun\nbun-lockfile-format-v0\n");
	tu_write(dir, "old/package.json", "{}\n");
	tu_write(dir, "both/bun.lockb", "#!/usr/bin/env bun\nbun-lockfile-format-v0\n");
	tu_write(dir, "both/bun.lock", bun_lock);
	tu_write(dir, "node_modules/x/bun.lockb", "\n");
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	const char *paths[] = { dir };
	cr_expect_eq(deps_scan_paths(&l, dir, paths, 1, &dl), -EINVAL);
	cr_assert_eq(dl.n, 1, "%zu diagnostics", dl.n);
	cr_expect_str_eq(dl.v[0].file, "old/bun.lockb");
	cr_expect(strstr(dl.v[0].msg, "bun's binary lockfile"), "%s", dl.v[0].msg);
	cr_expect(strstr(dl.v[0].msg, "--save-text-lockfile"), "%s", dl.v[0].msg);
	cr_assert_eq(l.n_files, 1);
	cr_expect_str_eq(l.files[0].path, "both/bun.lock");
	expect_line(&l, "ms", "2.1.3", "both/bun.lock", 4);
	dep_list_release(&l);
	diag_list_release(&dl);

	/* Named explicitly: an error too, which says where the text lockfile is. */
	for (int i = 0; i < 2; i++) {
		dep_list_init(&l);
		diag_list_init(&dl, 20);
		char *p = tu_strf("%s/%s/bun.lockb", dir, i ? "both" : "old");
		const char *one[] = { p };
		cr_expect_eq(deps_scan_paths(&l, dir, one, 1, &dl), -EINVAL);
		cr_assert_eq(dl.n, 1);
		cr_expect(strstr(dl.v[0].msg, i ? "reads the bun.lock beside it"
						: "there is no bun.lock beside it"),
			  "%s", dl.v[0].msg);
		cr_expect_eq(l.n_files, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
		free(p);
	}
	tu_rmdir(dir);
	free(dir);
}

/* ---------- packages.lock.json: project references ---------- */

/* A ProjectReference ("type": "Project") is another project of the solution: it has no
 * "resolved" version and is not a package. Any other entry without one stays an error. */
Test(lockfiles, nuget_lock_project_references_are_not_packages)
{
	static const char lock[] = "{\n"
				   "  \"version\": 1,\n"
				   "  \"dependencies\": {\n"
				   "    \"net8.0\": {\n"
				   "      \"Serilog\": {\n"
				   "        \"type\": \"Direct\",\n"
				   "        \"requested\": \"[3.1.1, )\",\n"
				   "        \"resolved\": \"3.1.1\",\n"
				   "        \"contentHash\": \"x\"\n"
				   "      },\n"
				   "      \"MyLib\": {\n"
				   "        \"type\": \"Project\",\n"
				   "        \"dependencies\": {\n"
				   "          \"Newtonsoft.Json\": \"[13.0.1, )\"\n"
				   "        }\n"
				   "      },\n"
				   "      \"Newtonsoft.Json\": {\n"
				   "        \"type\": \"Transitive\",\n"
				   "        \"resolved\": \"13.0.1\",\n"
				   "        \"contentHash\": \"y\"\n"
				   "      }\n"
				   "    }\n"
				   "  }\n"
				   "}\n";
	static const struct name_version_line want[] = {
		{ "Serilog", "3.1.1", 5 },
		{ "Newtonsoft.Json", "13.0.1", 17 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_NUGET_LOCK, "packages.lock.json", lock), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "packages.lock.json");
	cr_expect(!has_name(&l, "MyLib"));
	dep_list_release(&l);
	diag_list_release(&dl);

	/* Only "Project", spelt so: any other entry without "resolved" is not read. */
	static const char *const types[] = { "\"project\"", "\"Direct\"", "\"Transitive\"",
					     "\"CentralTransitive\"", "[\"Project\"]" };
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		char *text = tu_strf("{\n  \"version\": 1,\n  \"dependencies\": {\n"
				     "    \"net8.0\": {\n      \"MyLib\": {\n"
				     "        \"type\": %s\n      }\n    }\n  }\n}\n",
				     types[i]);
		expect_parse_error(DEP_NUGET_LOCK, "packages.lock.json", text, 5, 0,
				   "package \"MyLib\" has no resolved version");
		free(text);
	}
}

/* ---------- Pipfile.lock: custom package categories ---------- */

/* pipenv (2022.10 and later) writes the categories of `pipenv install --categories` as
 * top-level objects beside "default" and "develop": every one but "_meta" is read, in
 * the group of its name; what is neither an object nor null is an error. */
Test(lockfiles, pipfile_lock_custom_categories_are_read)
{
	static const char lock[] = "{\n"
				   "  \"_meta\": {\n"
				   "    \"hash\": {\"sha256\": \"ab\"},\n"
				   "    \"pipfile-spec\": 6,\n"
				   "    \"requires\": {\"python_version\": \"3.11\"},\n"
				   "    \"sources\": [{\"name\": \"pypi\", \"url\": \"u\"}]\n"
				   "  },\n"
				   "  \"default\": {\n"
				   "    \"requests\": {\"version\": \"==2.31.0\"}\n"
				   "  },\n"
				   "  \"develop\": {\n"
				   "    \"pytest\": {\"version\": \"==7.4.0\"}\n"
				   "  },\n"
				   "  \"tests\": {\n"
				   "    \"jinja2\": {\"version\": \"==2.10\"},\n"
				   "    \"requests\": {\"version\": \"==2.31.0\"}\n"
				   "  },\n"
				   "  \"docs\": {\n"
				   "    \"sphinx\": {\"version\": \"==7.1.0\"},\n"
				   "    \"pytest\": {\"version\": \"==7.4.0\"}\n"
				   "  },\n"
				   "  \"empty\": null\n"
				   "}\n";
	static const struct name_version_line want[] = {
		{ "requests", "2.31.0", 9 },
		{ "pytest", "7.4.0", 12 },
		{ "jinja2", "2.10", 15 },
		{ "sphinx", "7.1.0", 19 },
	};
	struct dep_list l;
	struct diag_list dl;
	cr_assert_eq(parse_text(&l, &dl, DEP_PIPFILE_LOCK, "Pipfile.lock", lock), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	expect_exactly(&l, want, ARRAY_SIZE(want), "Pipfile.lock");
	/* A package in several sections is the first one's. */
	expect_groups(&l, "requests", "2.31.0", NULL);
	expect_groups(&l, "pytest", "7.4.0", "dev");
	expect_groups(&l, "jinja2", "2.10", "tests");
	expect_groups(&l, "sphinx", "7.1.0", "docs");
	dep_list_release(&l);
	diag_list_release(&dl);

	static const char *const bad[] = { "[]", "\"x\"", "3" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *text = tu_strf("{\n  \"default\": {},\n  \"tests\": %s\n}\n", bad[i]);
		expect_parse_error(DEP_PIPFILE_LOCK, "Pipfile.lock", text, 3, 0,
				   "\"tests\" is not an object");
		free(text);
	}
}

/* ---------- Gemfile.lock: byte order marks, and files that are no Gemfile.lock ---------- */

/* A byte order mark (an editor's) does not hide the first section; a file with text but
 * no section Bundler writes is an error on its first line, not a lockfile without gems. */
Test(lockfiles, gemfile_lock_bom_and_no_section)
{
	static const char lock[] = "GEM\n  remote: https://rubygems.org/\n  specs:\n"
				   "    rake (13.0.6)\n\nPLATFORMS\n  ruby\n";
	static const struct name_version_line want[] = { { "rake", "13.0.6", 4 } };
	for (int bom = 0; bom < 2; bom++) {
		char *text = tu_strf("%s%s", bom ? "\xef\xbb\xbf" : "", lock);
		struct dep_list l;
		struct diag_list dl;
		cr_assert_eq(parse_text(&l, &dl, DEP_GEMFILE_LOCK, "Gemfile.lock", text), 0, "%s",
			     dl.n ? dl.v[0].msg : "");
		expect_exactly(&l, want, ARRAY_SIZE(want), bom ? "with a BOM" : "without");
		dep_list_release(&l);
		diag_list_release(&dl);
		free(text);
	}
	/* Sections without gems, and a file with nothing in it, are read (no gems). */
	static const char *const none[] = { "",
					    "\n\n   \n",
					    "\xef\xbb\xbf",
					    "PLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.5.3\n",
					    "CHECKSUMS\n",
					    "RUBY VERSION\n   ruby 3.3.0p0\n" };
	for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
		struct dep_list l;
		struct diag_list dl;
		cr_expect_eq(parse_text(&l, &dl, DEP_GEMFILE_LOCK, "Gemfile.lock", none[i]), 0,
			     "case %zu: %s", i, dl.n ? dl.v[0].msg : "");
		cr_expect_eq(l.n, 0);
		dep_list_release(&l);
		diag_list_release(&dl);
	}
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{ "\xef\xbb\xbf\xef\xbb\xbfGEM\n  specs:\n    rake (13.0.6)\n", 1 },
		{ "gem (1.0)\n", 1 },
		{ "\n\n  specs:\n    rake (13.0.6)\n", 3 },
		{ "\xfe\xff\nGEM \n  specs:\n    rake (13.0.6)\n", 1 },
		{ "[GEM]\nrake = \"13.0.6\"\n", 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_parse_error(DEP_GEMFILE_LOCK, "app/Gemfile.lock", bad[i].text, bad[i].line,
				   0,
				   "app/Gemfile.lock has none of the sections of a Gemfile.lock");
	}
}

/* ---------- manifests without a lockfile ---------- */

/* Scan dir; the messages of its errors, one a line (heap), and the scan's return. */
static char *manifest_errors(const char *dir, int *rc)
{
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 100);
	const char *paths[] = { dir };
	*rc = deps_scan_paths(&l, dir, paths, 1, &dl);
	char *out = xstrdup("");
	for (size_t i = 0; i < dl.n; i++) {
		if (dl.v[i].level == DIAG_ERROR) {
			char *next = tu_strf("%s%s: %s (%s)\n", out, dl.v[i].file, dl.v[i].msg,
					     dl.v[i].hint ? dl.v[i].hint : "");
			free(out);
			out = next;
		}
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	return out;
}

static const char npm_lock_v3[] = "{\"name\": \"shop\", \"lockfileVersion\": 3, \"packages\": "
				  "{\"\": {\"name\": \"shop\"}}}\n";

/*
 * A repository with a package-lock.json at its root and a second service with only a
 * package.json of dependencies: the service's dependencies were never read, and the scan
 * passed on the root's lockfile alone. Its manifest is an error that names it and the
 * lockfile to generate; a package.json that declares no dependency is not.
 */
Test(lockfiles, a_manifest_without_a_lockfile_beside_another_lockfile_is_an_error)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "package.json",
		 "{\"name\": \"shop\", \"dependencies\": {\"left-pad\": \"1\"}}");
	tu_write(dir, "package-lock.json", npm_lock_v3);
	tu_write(dir, "services/billing/package.json",
		 "{\"name\": \"billing\", \"dependencies\": {\"lodash\": \"^4.17.0\"}}\n");
	tu_write(dir, "services/docs/package.json",
		 "{\"name\": \"docs\", \"private\": true, \"scripts\": {\"build\": \"x\"}}\n");
	int rc;
	char *errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect_str_eq(errs, "services/billing/package.json: services/billing/package.json "
			       "declares dependencies and there is no lockfile for it that the "
			       "scan reads: its dependencies would pass unchecked (generate its "
			       "lockfile (`npm install --package-lock-only`, or yarn's, pnpm's or "
			       "bun's) and commit it, or list its directory in the `workspaces` "
			       "of the workspace root that holds the lockfile)\n");
	free(errs);
	/* With its own lockfile, the tree passes. */
	tu_write(dir, "services/billing/yarn.lock", "# yarn lockfile v1\n\n");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, 0, "%s", errs);
	cr_expect_str_eq(errs, "");
	free(errs);
	/* A manifest that is a symbolic link is not read: taken to declare dependencies. */
	char *target = tu_strf("%s/services/docs/package.json", dir);
	char *link = tu_strf("%s/services/site/package.json", dir);
	tu_write(dir, "services/site/README.md", "the site\n");
	cr_assert_eq(symlink(target, link), 0);
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect_not_null(strstr(errs, "services/site/package.json cannot be read (taken to "
					"declare dependencies)"),
			   "%s", errs);
	free(errs);
	tu_write(dir, "services/site/package-lock.json", npm_lock_v3);
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, 0, "%s", errs);
	free(errs);
	free(link);
	free(target);
	/* Installed packages are not projects: node_modules' manifests are not looked at,
	 * also when the walk enters it (a fork's run whose changes could not be listed). */
	tu_write(dir, "node_modules/lodash/package.json",
		 "{\"name\": \"lodash\", \"dependencies\": {\"x\": \"1\"}}\n");
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 100);
	const char *paths[] = { dir };
	struct deps_walk_opts wo = { .enter_skipped = true };
	cr_expect_eq(deps_scan_paths_opts(&l, dir, paths, 1, &wo, &dl), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	cr_expect_eq(l.n_files, 3);
	dep_list_release(&l);
	diag_list_release(&dl);
	tu_rmdir(dir);
	free(dir);
}

/* Every manifest the scan does not read, with dependencies and without a lockfile: an
 * error; the same manifest with no dependency, or beside its lockfile: none. */
Test(lockfiles, each_kind_of_manifest_without_its_lockfile_is_an_error)
{
	static const struct {
		const char *file, *with, *without, *lock, *lock_text, *says;
	} cases[] = {
		{ "Cargo.toml", "[package]\nname = \"a\"\n\n[dependencies]\nserde = \"1\"\n",
		  "[package]\nname = \"a\"\n\n[dependencies]\n\n[features]\nx = []\n", "Cargo.lock",
		  "version = 3\n", "cargo generate-lockfile" },
		{ "pyproject.toml",
		  "[project]\nname = \"a\"\ndependencies = [\n  \"flask>=2\",\n]\n",
		  "[project]\nname = \"a\"\ndependencies = []\n\n[tool.ruff]\nline-length = 99\n",
		  "uv.lock", "version = 1\n", "uv lock" },
		/* An array's line that starts with `[` is no table header. */
		{ "pyproject.toml",
		  "[project]\nname = \"a\"\n[project.optional-dependencies]\nm = [\n  [1, 2],\n  "
		  "[3]\n]\nweb = [\"flask\"]\n",
		  "[project]\nname = \"a\"\n", "uv.lock", "version = 1\n", "uv lock" },
		{ "pyproject.toml",
		  "[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^2\"\n",
		  "[tool.poetry.dependencies]\npython = \"^3.11\"\n", "poetry.lock", "",
		  "poetry lock" },
		{ "Pipfile",
		  "[[source]]\nurl = \"https://pypi.org/simple\"\n\n[packages]\nflask = \"*\"\n",
		  "[[source]]\nurl = \"https://pypi.org/simple\"\n\n[packages]\n", "Pipfile.lock",
		  "{\"_meta\": {}, \"default\": {}, \"develop\": {}}\n", "pipenv lock" },
		{ "build.gradle",
		  "plugins { id 'java' }\ndependencies {\n  implementation 'a:b:1'\n}\n",
		  "plugins { id 'java' }\ndependencies {\n  // none yet\n}\n", "gradle.lockfile",
		  "empty=\n", "--write-locks" },
		{ "build.gradle.kts", "dependencies { implementation(\"a:b:1\") }\n",
		  "plugins { java }\n", "gradle.lockfile", "empty=\n", "--write-locks" },
		/* The subprojects' dependencies are theirs (each has its own lockfile); the
		 * buildscript's and allprojects' are the project's too. */
		{ "build.gradle",
		  "buildscript {\n  repositories { mavenCentral() }\n  dependencies {\n"
		  "    classpath 'a:plugin:1' // {\n  }\n}\n",
		  "subprojects {\n  apply plugin: 'java'\n  dependencies {\n    testImplementation "
		  "'junit:junit:4.13.2'\n  }\n}\nproject(':app') {\n  dependencies { "
		  "implementation 'a:b:1' }\n}\n",
		  "buildscript-gradle.lockfile", "empty=\n", "--write-locks" },
		{ "build.gradle.kts",
		  "allprojects {\n  dependencies {\n    implementation(\"a:b:1\")\n  }\n}\n",
		  "val s = \"dependencies {\"\n", "gradle.lockfile", "empty=\n", "--write-locks" },
		{ "Gemfile", "source 'https://rubygems.org'\ngem 'rails', '~> 7.0'\n",
		  "source 'https://rubygems.org'\n", "Gemfile.lock",
		  "GEM\n  remote: https://rubygems.org/\n  specs:\n", "bundle lock" },
		{ "composer.json",
		  "{\"require\": {\"php\": \">=8.1\", \"monolog/monolog\": \"^3\"}}",
		  "{\"require\": {\"php\": \">=8.1\", \"ext-json\": \"*\"}}", "composer.lock",
		  "{\"packages\": [], \"packages-dev\": []}\n", "composer update" },
		{ "pubspec.yaml", "name: a\ndependencies:\n  http: ^1.0.0\n",
		  "name: a\nenvironment:\n  sdk: ^3.0.0\n", "pubspec.lock", "packages: {}\n",
		  "dart pub get" },
		{ "mix.exs", "defp deps do\n  [{:plug, \"~> 1.0\"}]\nend\n",
		  "defp deps do\n  []\nend\n", "mix.lock", "%{}\n", "mix deps.get" },
		{ "Api.csproj",
		  "<Project><ItemGroup><PackageReference Include=\"Newtonsoft.Json\" "
		  "Version=\"12.0.1\" /></ItemGroup></Project>\n",
		  "<Project><PropertyGroup /></Project>\n", "packages.lock.json",
		  "{\"version\": 1, \"dependencies\": {}}\n", "dotnet restore" },
		{ "conanfile.txt", "[requires]\nzlib/1.2.13\n", "[generators]\nCMakeDeps\n",
		  "conan.lock", "{\"version\": \"0.5\", \"requires\": []}\n", "conan lock create" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *dir = tu_tmpdir();
		tu_write(dir, "requirements.txt", "six==1.16.0\n"); /* another lockfile */
		char *rel = tu_strf("svc/%s", cases[i].file);
		tu_write(dir, rel, cases[i].with);
		int rc;
		char *errs = manifest_errors(dir, &rc);
		cr_expect_eq(rc, -EINVAL, "%s: %s", cases[i].file, errs);
		cr_expect(strstr(errs, rel) && strstr(errs, "declares dependencies") &&
				  strstr(errs, cases[i].says),
			  "%s: %s", cases[i].file, errs);
		free(errs);
		tu_write(dir, rel, cases[i].without);
		errs = manifest_errors(dir, &rc);
		cr_expect_eq(rc, 0, "%s without dependencies: %s", cases[i].file, errs);
		free(errs);
		tu_write(dir, rel, cases[i].with);
		char *lock = tu_strf("svc/%s", cases[i].lock);
		tu_write(dir, lock, cases[i].lock_text);
		errs = manifest_errors(dir, &rc);
		cr_expect_eq(rc, 0, "%s beside %s: %s", cases[i].file, cases[i].lock, errs);
		free(errs);
		free(lock);
		free(rel);
		tu_rmdir(dir);
		free(dir);
	}
}

/* npm's (and yarn's, bun's) and pnpm's workspaces: a member's lockfile is the root's. A
 * package.json of the tree that no workspace names is not a member. */
Test(lockfiles, a_workspace_member_is_locked_at_the_workspace_root)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "package.json",
		 "{\"name\": \"mono\", \"private\": true, \"workspaces\": [\"packages/*\", "
		 "\"apps/**\", \"!apps/legacy\"], \"devDependencies\": {\"turbo\": \"2\"}}\n");
	tu_write(dir, "package-lock.json", npm_lock_v3);
	tu_write(dir, "packages/ui/package.json", "{\"dependencies\": {\"react\": \"18\"}}");
	tu_write(dir, "apps/web/site/package.json", "{\"dependencies\": {\"next\": \"14\"}}");
	int rc;
	char *errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, 0, "%s", errs);
	free(errs);
	/* Excluded by `!`, and one no pattern names. */
	tu_write(dir, "apps/legacy/package.json", "{\"dependencies\": {\"jquery\": \"1\"}}");
	tu_write(dir, "tools/gen/package.json", "{\"dependencies\": {\"yargs\": \"17\"}}");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect(strstr(errs, "apps/legacy/package.json declares") &&
			  strstr(errs, "tools/gen/package.json declares") &&
			  !strstr(errs, "packages/ui") && !strstr(errs, "apps/web"),
		  "%s", errs);
	free(errs);
	tu_rmdir(dir);
	free(dir);

	/* pnpm's, in pnpm-workspace.yaml. */
	dir = tu_tmpdir();
	tu_write(dir, "package.json", "{\"name\": \"mono\", \"private\": true}\n");
	tu_write(dir, "pnpm-workspace.yaml",
		 "packages:\n  - 'libs/*'  # the libraries\n"
		 "  - \"services/api\"\n");
	tu_write(dir, "pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
	tu_write(dir, "libs/core/package.json", "{\"dependencies\": {\"zod\": \"3\"}}");
	tu_write(dir, "services/api/package.json", "{\"dependencies\": {\"fastify\": \"4\"}}");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, 0, "%s", errs);
	free(errs);
	tu_write(dir, "services/worker/package.json", "{\"dependencies\": {\"bullmq\": \"4\"}}");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect(strstr(errs, "services/worker/package.json declares") && !strstr(errs, "libs/"),
		  "%s", errs);
	free(errs);
	tu_rmdir(dir);
	free(dir);
}

/* A Cargo workspace: its members' Cargo.lock is the one at its root. A crate beside the
 * workspace, outside it, has none. */
Test(lockfiles, a_cargo_workspace_member_is_locked_at_the_workspace_root)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "Cargo.toml",
		 "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n"
		 "[workspace.dependencies]\nserde = \"1\"\n");
	tu_write(dir, "Cargo.lock", "version = 3\n");
	tu_write(dir, "crates/core/Cargo.toml",
		 "[package]\nname = \"core\"\n\n[dependencies]\nserde.workspace = true\n"
		 "\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n");
	int rc;
	char *errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, 0, "%s", errs);
	free(errs);
	tu_rmdir(dir);
	free(dir);

	dir = tu_tmpdir();
	tu_write(dir, "ws/Cargo.toml", "[workspace]\nmembers = [\"a\"]\n");
	tu_write(dir, "ws/Cargo.lock", "version = 3\n");
	tu_write(dir, "ws/a/Cargo.toml",
		 "[package]\nname = \"a\"\n[dependencies]\nrand = \"0.8\"\n");
	tu_write(dir, "tool/Cargo.toml",
		 "[package]\nname = \"tool\"\n\n[dependencies.clap]\nversion = \"4\"\n");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect(strstr(errs, "tool/Cargo.toml declares") && !strstr(errs, "ws/a"), "%s", errs);
	free(errs);
	/* A workspace without its Cargo.lock: the member is reported. */
	tu_write(dir, "tool/Cargo.lock", "version = 3\n");
	char *lock = tu_strf("%s/ws/Cargo.lock", dir);
	cr_assert_eq(unlink(lock), 0);
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect(strstr(errs, "ws/a/Cargo.toml declares") && !strstr(errs, "tool/"), "%s", errs);
	free(errs);
	free(lock);
	tu_rmdir(dir);
	free(dir);

	/* A crate the workspace's `exclude` names (or one below such a path) is a project of
	 * its own: the workspace's Cargo.lock does not lock it. */
	dir = tu_tmpdir();
	tu_write(dir, "Cargo.toml",
		 "[workspace]\nmembers = [\"crates/*\"]\n"
		 "exclude = [\n  \"crates/legacy\", # not built with the rest\n"
		 "  \"./tools/\",\n]\n\n[workspace.dependencies]\nserde = \"1\"\n");
	tu_write(dir, "Cargo.lock", "version = 3\n");
	tu_write(dir, "crates/core/Cargo.toml",
		 "[package]\nname = \"core\"\n[dependencies]\nserde.workspace = true\n");
	tu_write(dir, "crates/legacy/Cargo.toml",
		 "[package]\nname = \"legacy\"\n[dependencies]\nrand = \"0.7\"\n");
	tu_write(dir, "tools/gen/Cargo.toml",
		 "[package]\nname = \"gen\"\n[dependencies]\nclap = \"4\"\n");
	tu_write(dir, "crates/legacy-two/Cargo.toml",
		 "[package]\nname = \"legacy-two\"\n[dependencies]\nrand = \"0.8\"\n");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, -EINVAL, "%s", errs);
	cr_expect(strstr(errs, "crates/legacy/Cargo.toml declares") ||
			  strstr(errs, "tools/gen/Cargo.toml declares"),
		  "%s", errs);
	cr_expect(!strstr(errs, "crates/core") && !strstr(errs, "legacy-two"), "%s", errs);
	free(errs);
	/* Each of them with its own Cargo.lock: nothing is left unlocked. */
	tu_write(dir, "crates/legacy/Cargo.lock", "version = 3\n");
	errs = manifest_errors(dir, &rc);
	cr_expect(rc == -EINVAL && strstr(errs, "tools/gen/Cargo.toml declares"), "%s", errs);
	free(errs);
	tu_write(dir, "tools/gen/Cargo.lock", "version = 3\n");
	errs = manifest_errors(dir, &rc);
	cr_expect_eq(rc, 0, "%s", errs);
	free(errs);
	tu_rmdir(dir);
	free(dir);
}
