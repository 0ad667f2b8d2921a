/*
 * test-lockfiles.c - every lockfile/manifest parser against the conformance goldens in
 * tests/fixtures/lockfiles (each fixture X with X.expected.json: the packages as a
 * multiset of name, version, ecosystem and commit, or an expected error), plus what the
 * goldens do not cover: lines, detection by file name, directory walks that skip
 * node_modules/vendor/.git, errors that name the file, unresolved Maven properties.
 */
#include <criterion/criterion.h>

#include "deps.h"
#include "diag.h"
#include "testutil.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>

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
		char **want = calloc(n + 1, sizeof(char *)),
		     **got = calloc(l.n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			json_t *p = json_array_get(pkgs, i);
			want[i] = key_of(json_string_value(json_object_get(p, "name")),
					 json_string_value(json_object_get(p, "version")),
					 json_string_value(json_object_get(p, "ecosystem")),
					 json_string_value(json_object_get(p, "commit")));
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
