/*
 * test-depscan.c - the dependency scan end to end, through the real runner binary:
 *   - examples/log4shell: `runner run` blocks (exit 3) with GHSA-jfh8-c2jx-5f7m /
 *     CVE-2021-44228, critical, version 2.14.1, the pom.xml line and the fixed versions;
 *     sast and secrets pass; the image is never pushed to the real registry the test
 *     starts (docker-registry: nothing arrives there); the SBOM is in the run record;
 *     bumping to 2.17.1 passes and pushes, checked with skopeo;
 *   - fail closed: no database, a stale one, a malformed lockfile, no lockfile => exit 4
 *     with the command that fixes it;
 *   - `runner scan deps` (text, json, exit codes), `runner sbom` (CycloneDX 1.5), both in the
 *     stage sandbox; both fail alike on a tree without a lockfile, unless
 *     --allow-no-lockfiles;
 *   - a vulnerable Go module only in the go.sum of a go 1.16 module is reported (go.sum:line),
 *     and go.sum is not read from go 1.17 on;
 *   - a pom.xml version the file cannot resolve is an `unresolved-version` finding (high,
 *     or as severe as the package's worst advisory: log4j-core's is critical, so even
 *     --fail-on critical blocks), resolved once the property is defined or through
 *     dependencyManagement; a
 *     requirements.txt line without a version is `unpinned-requirement` (medium: in the
 *     JSON output, exit 0 at the default threshold, 3 at --fail-on medium);
 *   - log4j-core 2.14.1 managed by a BOM in the tree (tests/fixtures/maven-bom) is
 *     CVE-2021-44228 on the module's line, the finding saying where the BOM manages it;
 *     a BOM outside the tree leaves versions unresolved, naming it; BOMs and parents in
 *     a local Maven repository (--maven-repository, `maven-repository:`) are read;
 *   - a symlinked lockfile fails the scan (exit 4); a comment ending in a backslash does not
 *     swallow the requirement below it;
 *   - a requirements file found by its name and included by another is reported once; a
 *     local project (`-e ./pkg`) that is not a directory of the tree fails both commands;
 *     `runner sbom` names the file:line of a lockfile it cannot read, as scan deps does;
 *   - `runner db import` of directories and zip exports, and the refusal of malicious zips
 *     (path traversal, symbolic links, a zip bomb) with the old database left intact;
 *   - `runner db update` from a local HTTP server (libmicrohttpd on 127.0.0.1: osv.dev
 *     cannot be reached from here): conditional requests (304 keeps the data: every id
 *     the unchanged export held, even one whose kept copy came from an export that has
 *     dropped it), and a failed download leaves the old database intact;
 *   - `runner validate` rejects bad `with:` keys of the stage with file:line;
 *   - a package two entries of a yarn.lock resolve to is one finding, with both lines;
 *   - log4j-core 2.14.1 as Maven projects write it (properties, dependencyManagement,
 *     parents, BOMs, ranges, modules/, profiles) blocks a gate at critical.
 */
#include <criterion/criterion.h>

#include "regtest.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char *ws, *db;

static void setup(void)
{
	ws = tu_tmpdir();
	if (asprintf(&db, "%s/osv.db", ws) < 0) {
		abort();
	}
	setenv("RUNNER_DB", db, 1);
	setenv("CI", "true", 1);
}

static void teardown(void)
{
	tu_rmdir(ws);
	free(ws);
	free(db);
}

static void copy_example(const char *dest)
{
	char *cmd;
	const char *src = getenv("RUNNER_SOURCE_ROOT");
	cr_assert_not_null(src);
	cr_assert_geq(asprintf(&cmd,
			       "mkdir -p '%s' && cp -r '%s/examples/log4shell/.' '%s/' && rm -rf "
			       "'%s/.runner'",
			       dest, src, dest, dest),
		      0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

static void import_fixture(const char *rel)
{
	char *path = tu_fixture(rel);
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, path, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	free(path);
}

/*
 * import_fixture(), and one placeholder advisory for every ecosystem, for a package no
 * test uses: a scan refuses a database without advisories for an ecosystem its lockfiles
 * use (every package of it would pass), and these tests are about something else.
 */
static void import_fixture_all_ecosystems(const char *rel)
{
	static const char *const ecos[][2] = {
		{ "npm", "runner-test-placeholder" },
		{ "PyPI", "runner-test-placeholder" },
		{ "Go", "example.com/runner-test-placeholder" },
		{ "crates.io", "runner-test-placeholder" },
		{ "RubyGems", "runner-test-placeholder" },
		{ "Packagist", "example/runner-test-placeholder" },
		{ "Maven", "org.example:runner-test-placeholder" },
		{ "NuGet", "Runner.Test.Placeholder" },
		{ "ConanCenter", "runner-test-placeholder" },
		{ "Pub", "runner_test_placeholder" },
		{ "Hex", "runner_test_placeholder" },
	};
	char *dir = tu_strf("%s/placeholders", ws);
	for (size_t i = 0; i < sizeof(ecos) / sizeof(ecos[0]); i++) {
		char *name = tu_strf("P%zu.json", i);
		char *rec =
			tu_strf("{\"id\": \"RUNNER-TEST-%zu\", \"modified\": "
				"\"2024-01-01T00:00:00Z\", \"summary\": \"placeholder\", "
				"\"affected\": [{\"package\": {\"ecosystem\": \"%s\", \"name\": "
				"\"%s\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": "
				"[{\"introduced\": \"0\"}, {\"fixed\": \"1\"}]}]}]}",
				i, ecos[i][0], ecos[i][1]);
		tu_write(dir, name, rec);
		free(name);
		free(rec);
	}
	char *path = tu_fixture(rel);
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, path, dir, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	free(path);
	free(dir);
}

static void sed_file(const char *path, const char *from, const char *to)
{
	char *text = tu_read(path);
	cr_assert_not_null(text);
	char *at = strstr(text, from);
	cr_assert_not_null(at, "%s not in %s", from, path);
	char *out;
	cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)), 0);
	FILE *f = fopen(path, "w");
	fputs(out, f);
	fclose(f);
	free(out);
	free(text);
}

TestSuite(depscan, .init = setup, .fini = teardown);

Test(depscan, log4shell_blocks_before_push_and_bump_passes)
{
	char *proj;
	cr_assert_geq(asprintf(&proj, "%s/log4shell", ws), 0);
	copy_example(proj);
	import_fixture("osv/maven");
	struct tr_registry reg;
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	char *regenv, *ref;
	cr_assert_geq(asprintf(&regenv, "REGISTRY=%s", reg.addr), 0);
	cr_assert_geq(asprintf(&ref, "%s/acme/greeter:latest", reg.addr), 0);

	struct tu_result r = tu_runner_run(proj, "run", "--env", regenv, NULL);
	cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
	/* The stage's log says what the example's README shows: the finding, then its fix. */
	cr_assert_not_null(strstr(r.out, ": critical GHSA-jfh8-c2jx-5f7m: "
					 "org.apache.logging.log4j:log4j-core 2.14.1 (Maven) is "
					 "affected by GHSA-jfh8-c2jx-5f7m (CVE-2021-44228)"),
			   "%s", r.out);
	cr_assert_not_null(strstr(r.out, "dependency-scan:     fix: upgrade "
					 "org.apache.logging.log4j:log4j-core to 2.15.0 or later "
					 "(fixed in: 2.3.1, 2.12.2, 2.15.0)\n"),
			   "%s", r.out);
	json_t *rep = tu_latest_report(proj);
	cr_assert_str_eq(tu_stage_status(rep, "sast"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "secrets"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "dependency-scan"), "blocked");
	cr_assert_str_eq(tu_stage_status(rep, "image"), "blocked");
	/* The push was never started: no attempt, no process. */
	cr_assert_eq(json_array_size(json_object_get(tu_report_stage(rep, "image"), "attempts")),
		     0);
	/* Nothing reached the registry. */
	char *none = tr_skopeo_digest(ref, NULL);
	cr_assert_null(none, "an image was pushed despite the gate: %s", none);
	json_t *res = json_object_get(tu_report_stage(rep, "dependency-scan"), "result");
	json_t *findings = json_object_get(res, "findings");
	cr_assert_eq(json_array_size(findings), 1);
	json_t *f = json_array_get(findings, 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "rule_id")), "GHSA-jfh8-c2jx-5f7m");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(f, "aliases"), 0)),
			 "CVE-2021-44228");
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "critical");
	cr_assert_float_eq(json_number_value(json_object_get(f, "score")), 10.0, 1e-9);
	cr_assert_str_eq(json_string_value(json_object_get(f, "file")), "pom.xml");
	/* The line of <version>2.14.1</version> in the example's pom.xml. */
	char *pom_path;
	cr_assert_geq(asprintf(&pom_path, "%s/pom.xml", proj), 0);
	char *pom = tu_read(pom_path);
	unsigned line = 1;
	for (const char *p = pom; p < strstr(pom, "<version>2.14.1</version>"); p++) {
		line += *p == '\n';
	}
	cr_assert_eq(json_integer_value(json_object_get(f, "line")), line);
	free(pom);
	json_t *pkg = json_object_get(f, "package");
	cr_assert_str_eq(json_string_value(json_object_get(pkg, "name")),
			 "org.apache.logging.log4j:log4j-core");
	cr_assert_str_eq(json_string_value(json_object_get(pkg, "version")), "2.14.1");
	cr_assert_str_eq(json_string_value(json_object_get(f, "nearest_fixed")), "2.15.0");
	json_t *fixed = json_object_get(f, "fixed_versions");
	cr_assert_eq(json_array_size(fixed), 3);
	cr_assert_str_eq(json_string_value(json_array_get(fixed, 2)), "2.15.0");
	cr_assert_str_eq(json_string_value(json_object_get(f, "disposition")), "blocking");
	/* The summary (the commit status's description, the notification) names the CVE that
	 * people search for beside the advisory's own id. */
	cr_assert_str_eq(
		json_string_value(json_object_get(res, "summary")),
		"blocked: 1 finding at or above high (GHSA-jfh8-c2jx-5f7m aka CVE-2021-44228)");
	/* The SBOM is in the run record. */
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "sbom"), "path")),
			 "artifacts/dependency-scan/sbom.cdx.json");
	char *sbom_text =
		tu_readf("%s/.runner/runs/latest/artifacts/dependency-scan/sbom.cdx.json", proj);
	cr_assert_not_null(sbom_text);
	char *sbom_path =
		tu_strf("%s/.runner/runs/latest/artifacts/dependency-scan/sbom.cdx.json", proj);
	char *bom_problem = tu_cyclonedx_problem(sbom_path);
	cr_assert_null(bom_problem, "the stage's SBOM is not valid CycloneDX 1.5: %s", bom_problem);
	free(sbom_path);
	json_error_t jerr;
	json_t *sbom = json_loads(sbom_text, 0, &jerr);
	cr_assert_str_eq(json_string_value(json_object_get(sbom, "bomFormat")), "CycloneDX");
	cr_assert_str_eq(json_string_value(json_object_get(sbom, "specVersion")), "1.5");
	json_t *comp = json_array_get(json_object_get(sbom, "components"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(comp, "purl")),
			 "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
	cr_assert_eq(json_array_size(json_object_get(sbom, "vulnerabilities")), 1);
	json_decref(sbom);
	free(sbom_text);
	/* The findings are in the run record as SARIF too, with the CVE as an alias. */
	char *sarif_path = NULL;
	const char *rel = ".runner/runs/latest/sarif/dependency-scan.sarif";
	cr_assert_geq(asprintf(&sarif_path, "%s/%s", proj, rel), 0);
	char *problem = tu_sarif_problem(sarif_path);
	cr_assert_null(problem, "%s", problem);
	char *sarif = tu_read(sarif_path);
	cr_assert_not_null(strstr(sarif, "GHSA-jfh8-c2jx-5f7m"));
	cr_assert_not_null(strstr(sarif, "CVE-2021-44228"));
	free(sarif);
	free(sarif_path);
	json_decref(rep);
	tu_result_free(&r);

	/* Bump to 2.17.1: the pipeline passes and the image is pushed. */
	sed_file(pom_path, "<version>2.14.1</version>", "<version>2.17.1</version>");
	r = tu_runner_run(proj, "run", "--env", regenv, NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
	rep = tu_latest_report(proj);
	cr_assert_str_eq(tu_stage_status(rep, "dependency-scan"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "image"), "passed");
	char *pushed = tr_skopeo_digest(ref, NULL);
	cr_assert_not_null(pushed, "skopeo does not find %s", ref);
	const char *reported = json_string_value(json_object_get(
		json_object_get(tu_report_stage(rep, "image"), "result"), "digest"));
	cr_assert_not_null(reported);
	cr_assert_str_eq(pushed, reported);
	free(pushed);
	json_decref(rep);
	tu_result_free(&r);
	tr_registry_stop(&reg);
	free(regenv);
	free(ref);
	free(pom_path);
	free(proj);
}

Test(depscan, an_allow_entry_for_the_cve_covers_the_ghsa)
{
	char *proj, *yml;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	import_fixture("osv/maven");
	cr_assert_geq(asprintf(&yml, "%s/.runner.yml", proj), 0);
	sed_file(yml, "      max-db-age: 7d\n",
		 "      max-db-age: 7d\n      allow:\n        - id: CVE-2021-44228\n"
		 "          reason: not reachable, JNDI lookups disabled\n"
		 "          expires: 2099-12-31\n");
	struct tu_result r = tu_runner_run(proj, "run", NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
	json_t *rep = tu_latest_report(proj);
	json_t *f = json_array_get(
		json_object_get(json_object_get(tu_report_stage(rep, "dependency-scan"), "result"),
				"findings"),
		0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "rule_id")), "GHSA-jfh8-c2jx-5f7m");
	cr_assert_str_eq(json_string_value(json_object_get(f, "disposition")), "suppressed");
	/* The stage's log says so too, with the reason, and gives no fix for it. */
	cr_assert_not_null(strstr(r.out, "(CVE-2021-44228): Remote code injection in Log4j "
					 "(suppressed, allow: not reachable, JNDI lookups "
					 "disabled)\n"),
			   "%s", r.out);
	cr_assert_null(strstr(r.out, "fix: upgrade"), "%s", r.out);
	/* No registry given (REGISTRY is empty): the image stage's condition skips it. */
	cr_assert_str_eq(tu_stage_status(rep, "image"), "skipped");
	json_decref(rep);
	tu_result_free(&r);
	free(yml);
	free(proj);
}

/* The database where examples/log4shell/README.md puts it: in the project's .runner/,
 * which stages do not see (the run record's directory is hidden in the sandbox), and as a
 * `db:` path relative to the workspace: the stage finds it read-only either way. */
Test(depscan, a_database_in_the_run_records_directory_or_the_workspace)
{
	char *proj, *in_record, *yml;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	cr_assert_geq(asprintf(&in_record, "%s/.runner/osv.db", proj), 0);
	char *path = tu_fixture("osv/maven");
	struct tu_result r = tu_runner_run(proj, "db", "import", "--db", in_record, path, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	free(path);
	setenv("RUNNER_DB", in_record, 1);
	r = tu_runner_run(proj, "run", NULL);
	cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
	json_t *rep = tu_latest_report(proj);
	cr_assert_str_eq(tu_stage_status(rep, "dependency-scan"), "blocked");
	json_decref(rep);
	tu_result_free(&r);

	/* `db:` relative to the workspace, the variable pointing elsewhere. */
	setenv("RUNNER_DB", db, 1);
	cr_assert_geq(asprintf(&yml, "%s/.runner.yml", proj), 0);
	sed_file(yml, "      max-db-age: 7d\n", "      max-db-age: 7d\n      db: .runner/osv.db\n");
	r = tu_runner_run(proj, "run", NULL);
	cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
	tu_result_free(&r);
	free(yml);
	free(in_record);
	free(proj);
}

static void expect_error(const char *proj, const char *needle)
{
	struct tu_result r = tu_runner_run(proj, "run", NULL);
	cr_assert_eq(r.status, 4, "exit %d\n%s\n%s", r.status, r.out, r.err);
	json_t *rep = tu_latest_report(proj);
	cr_assert_str_eq(tu_stage_status(rep, "dependency-scan"), "error");
	/* The push never starts after a scanner error. */
	const char *img = tu_stage_status(rep, "image");
	cr_assert(strcmp(img, "error") == 0 || strcmp(img, "skipped") == 0, "image: %s", img);
	cr_assert_eq(json_array_size(json_object_get(tu_report_stage(rep, "image"), "attempts")),
		     0);
	const char *summary = json_string_value(json_object_get(
		json_object_get(tu_report_stage(rep, "dependency-scan"), "result"), "summary"));
	cr_assert_not_null(summary);
	cr_assert_not_null(strstr(summary, needle), "'%s' not in '%s'", needle, summary);
	json_decref(rep);
	tu_result_free(&r);
}

Test(depscan, fails_closed_without_a_database)
{
	char *proj;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	expect_error(proj, "runner db update");
	/* Not a database of ours. */
	tu_write(ws, "osv.db", "not sqlite");
	expect_error(proj, "runner db update");
	free(proj);
}

Test(depscan, fails_closed_on_a_stale_database)
{
	char *proj, *yml;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	import_fixture("osv/maven");
	cr_assert_geq(asprintf(&yml, "%s/.runner.yml", proj), 0);
	sed_file(yml, "max-db-age: 7d", "max-db-age: 1s");
	sleep(2);
	expect_error(proj, "older than max-db-age");
	free(yml);
	free(proj);
}

Test(depscan, fails_closed_on_a_malformed_lockfile_and_on_no_lockfile)
{
	char *proj, *pom;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	import_fixture("osv/maven");
	cr_assert_geq(asprintf(&pom, "%s/pom.xml", proj), 0);
	sed_file(pom, "</project>", "</projetc>");
	expect_error(proj, "pom.xml");
	/* A path that does not exist, and a directory without any lockfile. */
	char *yml;
	cr_assert_geq(asprintf(&yml, "%s/.runner.yml", proj), 0);
	sed_file(yml, "paths: [pom.xml]", "paths: [gone/pom.xml]");
	expect_error(proj, "gone/pom.xml");
	sed_file(yml, "paths: [gone/pom.xml]", "paths: [src]");
	expect_error(proj, "no lockfile");
	free(yml);
	free(pom);
	free(proj);
}

Test(depscan, validate_rejects_bad_with_keys)
{
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n  deps:\n    uses: dependency-scan\n    with:\n"
		 "      pahts: [.]\n      max-db-age: soon\n      paths: [../elsewhere]\n"
		 "      unknown-severity: dire\n");
	struct tu_result r = tu_runner_run(ws, "validate", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, ".runner.yml:6:7"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "did you mean `paths`"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "max-db-age"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "outside the workspace"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "unknown-severity"), "%s", r.err);
	tu_result_free(&r);
	/* Below a second, a maximum age would be 0 seconds: no limit. Refused. */
	static const char *const short_ages[] = { "999ms", "0s" };
	for (size_t i = 0; i < 2; i++) {
		char *yml = tu_strf("version: 1\nstages:\n  deps:\n    uses: dependency-scan\n"
				    "    with:\n      max-db-age: %s\n",
				    short_ages[i]);
		tu_write(ws, ".runner.yml", yml);
		free(yml);
		r = tu_runner_run(ws, "validate", NULL);
		cr_assert_eq(r.status, 2, "%s: %s", short_ages[i], r.err);
		cr_assert_not_null(strstr(r.err, "at least 1s"), "%s", r.err);
		tu_result_free(&r);
		r = tu_runner_run(ws, "scan", "deps", "--max-db-age", short_ages[i], NULL);
		cr_assert_eq(r.status, 2, "%s: %s", short_ages[i], r.err);
		tu_result_free(&r);
	}
	/* The keys `runner scan deps` gives the kind's worker are not a pipeline's. */
	static const char *const runner_only[] = { "max_db_age_s: 0", "sbom_result: true",
						   "sbom_only: true", "sbom_name: x" };
	for (size_t i = 0; i < sizeof(runner_only) / sizeof(runner_only[0]); i++) {
		char *yml = tu_strf("version: 1\nstages:\n  deps:\n    uses: dependency-scan\n"
				    "    with:\n      %s\n",
				    runner_only[i]);
		tu_write(ws, ".runner.yml", yml);
		free(yml);
		r = tu_runner_run(ws, "validate", NULL);
		cr_assert_eq(r.status, 2, "%s: %s", runner_only[i], r.err);
		cr_assert_not_null(strstr(r.err, "unknown key"), "%s", r.err);
		tu_result_free(&r);
	}
}

/*
 * `runner scan deps` runs the scan in the stage sandbox: its worker, held on the leased
 * database while the test looks at it from outside, has the seccomp filter, the scanned
 * tree read-only and the database (outside the tree) bound read-only; --sbom is written
 * by the runner from the worker's result; --no-sandbox warns and marks the report; a PATH
 * outside the tree is a usage error.
 */
Test(depscan, scan_deps_runs_in_the_sandbox, .timeout = 120)
{
	import_fixture("osv");
	tu_write(ws, "app/requirements.txt", "jinja2==2.8\n");
	char *app = tu_strf("%s/app", ws), *out = tu_strf("%s/deps.out", ws);
	char *sbom = tu_strf("%s/sbom.cdx.json", ws);
	signal(SIGIO, SIG_IGN); /* the lease-break notification */
	int fd = open(db, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fcntl(fd, F_SETLEASE, F_WRLCK), 0, "lease: %s", strerror(errno));
	pid_t runner = fork();
	cr_assert_geq(runner, 0);
	if (runner == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o < 0 || chdir(app) < 0) {
			_exit(127);
		}
		dup2(o, 1);
		execl(tu_runner(), "runner", "scan", "deps", "--db", db, "--format", "json",
		      "--sbom", sbom, (char *)NULL);
		_exit(127);
	}
	int worker = tu_worker_in(app, 20);
	char *status = worker > 0 ? tu_readf("/proc/%d/status", worker) : NULL;
	char *mounts = worker > 0 ? tu_readf("/proc/%d/mountinfo", worker) : NULL;
	close(fd); /* the scan goes on */
	int st;
	cr_assert_eq(waitpid(runner, &st, 0), runner);
	char *text = tu_read(out);
	cr_assert_gt(worker, 0, "no worker process scanned the tree:\n%s", text);
	cr_assert_not_null(strstr(status, "NoNewPrivs:\t1"), "%s", status);
	cr_assert_not_null(strstr(status, "Seccomp:\t2"), "%s", status);
	char *real_app = realpath(app, NULL), *real_db = realpath(db, NULL);
	char *ro_app = tu_strf(" %s ro,", real_app), *ro_db = tu_strf(" %s ro,", real_db);
	free(real_app);
	free(real_db);
	cr_assert_not_null(strstr(mounts, ro_app), "the tree is not read-only:\n%s", mounts);
	cr_assert_not_null(strstr(mounts, ro_db), "the database is not bound:\n%s", mounts);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "%s", text);
	json_t *doc = json_loads(text, 0, NULL);
	cr_assert_not_null(doc, "%s", text);
	json_t *f0 = json_array_get(json_object_get(doc, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f0, "file")), "requirements.txt");
	cr_assert_null(json_object_get(doc, "no_sandbox"));
	json_decref(doc);
	char *problem = tu_cyclonedx_problem(sbom);
	cr_assert_null(problem, "--sbom did not write a valid CycloneDX 1.5 SBOM: %s", problem);
	char *sbom_text = tu_read(sbom);
	cr_assert_not_null(strstr(sbom_text, "pkg:pypi/jinja2@2.8"), "%s", sbom_text);
	free(sbom_text);

	struct tu_result r = tu_runner_run(app, "scan", "deps", "--db", db, "--no-sandbox",
					   "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, "WARNING: --no-sandbox"), "%s", r.err);
	doc = json_loads(r.out, 0, NULL);
	cr_assert(json_is_true(json_object_get(doc, "no_sandbox")), "%s", r.out);
	json_decref(doc);
	tu_result_free(&r);
	r = tu_runner_run(app, "scan", "deps", "--db", db, "..", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, "is outside the scanned tree"), "%s", r.err);
	tu_result_free(&r);
	/* A sandbox the host refuses (root without capabilities may not make namespaces) is an
	 * error, and nothing is scanned in the runner's process instead. */
	if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0 &&
	    system("/usr/bin/setpriv --bounding-set=-all --inh-caps=-all true") == 0) {
		const char *argv[] = { "/usr/bin/setpriv",
				       "--bounding-set=-all",
				       "--inh-caps=-all",
				       tu_runner(),
				       "scan",
				       "deps",
				       "--db",
				       db,
				       NULL };
		r = tu_run(app, argv, NULL, 60);
		cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
		cr_assert_not_null(strstr(r.err, "dependency scan failed: could not start the scan "
						 "in the sandbox: Operation not permitted"),
				   "%s", r.err);
		cr_assert_str_eq(r.out, "");
		tu_result_free(&r);
	}
	free(ro_app);
	free(ro_db);
	free(text);
	free(status);
	free(mounts);
	free(sbom);
	free(out);
	free(app);
}

/*
 * `runner sbom` reads the lockfiles in the stage sandbox, as `runner scan deps` does: its
 * worker, held on a leased lockfile while the test looks at it from outside, has the
 * seccomp filter and no_new_privs, the tree read-only and, without --db, no database bound
 * (RUNNER_DB names one); the SBOM is written by the runner from the worker's result;
 * --no-sandbox warns and marks the SBOM (still valid CycloneDX); a PATH outside the tree is
 * a usage error.
 */
Test(depscan, sbom_runs_in_the_sandbox, .timeout = 120)
{
	import_fixture("osv");
	tu_write(ws, "app/go.mod",
		 "module example.com/m\n\ngo 1.17\n\n"
		 "require golang.org/x/crypto v0.0.0-20190308221718-c2843e01d9a2\n");
	char *app = tu_strf("%s/app", ws), *err = tu_strf("%s/sbom.err", ws);
	char *sbom = tu_strf("%s/sbom.cdx.json", ws);
	int fd = tu_lease(app, "requirements.txt", "jinja2==2.8\n");
	cr_assert_geq(fd, 0, "lease: %s", strerror(errno));
	pid_t runner = fork();
	cr_assert_geq(runner, 0);
	if (runner == 0) {
		int o = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o < 0 || chdir(app) < 0) {
			_exit(127);
		}
		dup2(o, 2);
		execl(tu_runner(), "runner", "sbom", "-o", sbom, (char *)NULL);
		_exit(127);
	}
	int worker = tu_worker_in(app, 20);
	char *status = worker > 0 ? tu_readf("/proc/%d/status", worker) : NULL;
	char *mounts = worker > 0 ? tu_readf("/proc/%d/mountinfo", worker) : NULL;
	close(fd); /* the worker goes on */
	int st;
	cr_assert_eq(waitpid(runner, &st, 0), runner);
	char *text = tu_read(err);
	cr_assert_gt(worker, 0, "no worker process read the lockfiles:\n%s", text);
	cr_assert_str_eq(tu_status_field(status, "NoNewPrivs:"), "1", "%s", status);
	cr_assert_str_eq(tu_status_field(status, "Seccomp:"), "2", "%s", status);
	char *real_app = realpath(app, NULL), *real_db = realpath(db, NULL);
	char *ro_app = tu_strf(" %s ro,", real_app);
	cr_assert_not_null(strstr(mounts, ro_app), "the tree is not read-only:\n%s", mounts);
	cr_assert_null(strstr(mounts, real_db), "a database is bound without --db:\n%s", mounts);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", text);
	char *problem = tu_cyclonedx_problem(sbom);
	cr_assert_null(problem, "runner sbom did not write a valid CycloneDX 1.5 SBOM: %s",
		       problem);
	char *sbom_text = tu_read(sbom);
	cr_assert_not_null(strstr(sbom_text, "pkg:pypi/jinja2@2.8"), "%s", sbom_text);
	cr_assert_not_null(strstr(sbom_text, "pkg:golang/golang.org/x/crypto@"), "%s", sbom_text);
	cr_assert_null(strstr(sbom_text, "runner:no-sandbox"), "%s", sbom_text);
	free(sbom_text);

	struct tu_result r = tu_runner_run(app, "sbom", "--no-sandbox", "-o", sbom, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, "WARNING: --no-sandbox"), "%s", r.err);
	tu_result_free(&r);
	problem = tu_cyclonedx_problem(sbom);
	cr_assert_null(problem, "the marked SBOM is not valid CycloneDX 1.5: %s", problem);
	json_t *doc = json_load_file(sbom, 0, NULL);
	json_t *prop =
		json_array_get(json_object_get(json_object_get(doc, "metadata"), "properties"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(prop, "name")), "runner:no-sandbox");
	json_decref(doc);
	r = tu_runner_run(app, "sbom", "..", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, "is outside the scanned tree"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	tu_result_free(&r);
	r = tu_runner_run(app, "sbom", ws, NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	/* -C DIR is the tree, as for runner scan; a name JSON cannot hold is a usage error. */
	r = tu_runner_run(ws, "sbom", "-C", app, "--name", "my-app", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "pkg:pypi/jinja2@2.8"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"name\": \"my-app\""), "%s", r.out);
	tu_result_free(&r);
	r = tu_runner_run(app, "sbom", "--name", "a\xff", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	/* A sandbox the host refuses is an error, and nothing is read in the runner's process
	 * instead. */
	if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0 &&
	    system("/usr/bin/setpriv --bounding-set=-all --inh-caps=-all true") == 0) {
		const char *argv[] = { "/usr/bin/setpriv",
				       "--bounding-set=-all",
				       "--inh-caps=-all",
				       tu_runner(),
				       "sbom",
				       NULL };
		r = tu_run(app, argv, NULL, 60);
		cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
		cr_assert_not_null(strstr(r.err, "sbom failed: could not start the scan in the "
						 "sandbox: Operation not permitted"),
				   "%s", r.err);
		cr_assert_str_eq(r.out, "");
		tu_result_free(&r);
	}
	free(ro_app);
	free(real_app);
	free(real_db);
	free(text);
	free(status);
	free(mounts);
	free(sbom);
	free(err);
	free(app);
}

Test(depscan, scan_deps_and_sbom_commands)
{
	import_fixture("osv");
	tu_write(ws, "app/requirements.txt", "# pinned\njinja2==2.8\nrequests>=2.0\nflask\n");
	tu_write(ws, "app/node_modules/x/package-lock.json", "this is skipped");
	tu_write(ws, "app/go.mod",
		 "module example.com/m\n\ngo 1.17\n\n"
		 "require golang.org/x/crypto v0.0.0-20190308221718-c2843e01d9a2\n");
	char *app;
	cr_assert_geq(asprintf(&app, "%s/app", ws), 0);
	struct tu_result r =
		tu_runner_run(app, "scan", "deps", "--db", db, "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	json_t *findings = json_object_get(doc, "findings");
	bool jinja = false, unpinned = false, text = false;
	size_t i;
	json_t *f;
	json_array_foreach(findings, i, f)
	{
		const char *file = json_string_value(json_object_get(f, "file"));
		const char *rule = json_string_value(json_object_get(f, "rule_id"));
		const char *name =
			json_string_value(json_object_get(json_object_get(f, "package"), "name"));
		cr_assert(strncmp(file, "node_modules", 12) != 0);
		jinja |= strcmp(name, "jinja2") == 0 && strncmp(rule, "PYSEC-", 6) == 0;
		unpinned |= strcmp(rule, "unpinned-requirement") == 0 && strcmp(name, "flask") == 0;
		text |= strcmp(name, "golang.org/x/crypto") == 0 && strncmp(rule, "GO-", 3) == 0;
	}
	cr_assert(jinja, "jinja2 2.8 has PYSEC advisories in the fixtures:\n%s", r.out);
	cr_assert(unpinned, "flask without a version is reported:\n%s", r.out);
	cr_assert(text, "golang.org/x/crypto (2019-03) has GO advisories in the fixtures:\n%s",
		  r.out);
	cr_assert_eq(
		json_integer_value(json_object_get(json_object_get(doc, "stats"), "lockfiles")), 2);
	json_decref(doc);
	tu_result_free(&r);

	/* Below the threshold: exit 0. */
	r = tu_runner_run(app, "scan", "deps", "--db", db, "--fail-on", "critical", "go.mod", NULL);
	cr_assert(r.status == 0 || r.status == 3, "%s", r.err);
	tu_result_free(&r);

	/* A file that is not a lockfile, and a missing database: exit 4 with a hint. */
	r = tu_runner_run(app, "scan", "deps", "--db", "/nonexistent/osv.db", NULL);
	cr_assert_eq(r.status, 4);
	cr_assert_not_null(strstr(r.err, "runner db update"), "%s", r.err);
	tu_result_free(&r);

	r = tu_runner_run(app, "sbom", "--name", "app", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	doc = json_loads(r.out, 0, &jerr);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "specVersion")), "1.5");
	cr_assert_str_eq(
		json_string_value(json_object_get(
			json_object_get(json_object_get(doc, "metadata"), "component"), "name")),
		"app");
	bool has_text = false;
	json_array_foreach(json_object_get(doc, "components"), i, f)
	{
		has_text |= strcmp(json_string_value(json_object_get(f, "purl")),
				   "pkg:golang/golang.org/x/"
				   "crypto@v0.0.0-20190308221718-c2843e01d9a2") == 0;
	}
	cr_assert(has_text, "%s", r.out);
	json_decref(doc);
	/* Valid against the CycloneDX 1.5 schema, also with every ecosystem of the fixtures. */
	char *out = tu_strf("%s/sbom.cdx.json", ws);
	FILE *fo = fopen(out, "w");
	cr_assert_not_null(fo);
	fputs(r.out, fo);
	fclose(fo);
	char *problem = tu_cyclonedx_problem(out);
	cr_assert_null(problem, "runner sbom's output is not valid CycloneDX 1.5: %s", problem);
	free(out);
	tu_result_free(&r);
	free(app);
}

/*
 * -C DIR is the scanned tree, as for runner sbom and runner scan sast: the scan is the
 * one run in DIR, its PATHs and what --db and --sbom name are relative to it, a PATH
 * outside it is a usage error, and so is a DIR that cannot be entered.
 */
Test(depscan, scan_deps_takes_dash_C_as_sbom_and_scan_do)
{
	import_fixture("osv");
	tu_write(ws, "app/requirements.txt", "jinja2==2.8\n");
	tu_write(ws, "app/sub/requirements.txt", "six==1.16.0\n");
	tu_write(ws, "other/requirements.txt", "flask==0.1\n");
	/* --db ../osv.db is the database only when read from app/. */
	struct tu_result r = tu_runner_run(ws, "scan", "deps", "-C", "app", "--db", "../osv.db",
					   "--format", "json", "--sbom", "out.cdx.json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc, "%s", r.out);
	cr_expect_eq(
		json_integer_value(json_object_get(json_object_get(doc, "stats"), "lockfiles")), 2);
	json_t *first = json_array_get(json_object_get(doc, "findings"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(first, "file")), "requirements.txt");
	json_decref(doc);
	tu_result_free(&r);
	char *sbom = tu_strf("%s/app/out.cdx.json", ws);
	char *text = tu_read(sbom);
	cr_assert_not_null(text, "--sbom is written relative to -C DIR");
	cr_expect_not_null(strstr(text, "pkg:pypi/six@1.16.0"), "%s", text);
	cr_expect_null(strstr(text, "flask"), "%s", text);
	free(text);
	free(sbom);

	/* A PATH relative to DIR; the options after it. */
	r = tu_runner_run(ws, "scan", "deps", "sub", "-C", "app", "--db", db, "--format", "json",
			  NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	doc = json_loads(r.out, 0, NULL);
	cr_expect_eq(
		json_integer_value(json_object_get(json_object_get(doc, "stats"), "lockfiles")), 1);
	json_decref(doc);
	tu_result_free(&r);

	r = tu_runner_run(ws, "scan", "deps", "-C", "app", "--db", db, "../other", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "outside the scanned tree"), "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(ws, "scan", "deps", "-C", "nowhere", "--db", db, NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "cannot change to nowhere"), "%s", r.err);
	cr_expect_str_eq(r.out, "");
	tu_result_free(&r);
}

static json_t *scan_json(const char *dir, const char *extra, int *status);

/*
 * A requirements file found by its name and included by another (-r, -c, also through a
 * file that includes it) is read once: each finding once, on the file and line that
 * declare the package, in the report and in the SBOM.
 */
Test(depscan, a_requirements_file_found_and_included_is_reported_once)
{
	import_fixture("osv");
	tu_write(ws, "app/requirements.txt",
		 "-r requirements/production.txt\n-c requirements/constraints.txt\n");
	tu_write(ws, "app/requirements/production.txt", "-r base.txt\n");
	tu_write(ws, "app/requirements/base.txt", "jinja2==2.8\n");
	tu_write(ws, "app/requirements/constraints.txt", "flask==0.12\n");
	char *app = tu_strf("%s/app", ws);
	int status;
	json_t *doc = scan_json(app, NULL, &status);
	char *out = json_dumps(doc, JSON_INDENT(1));
	cr_assert_eq(status, 3, "exit %d\n%s", status, out);
	json_t *findings = json_object_get(doc, "findings");
	size_t jinja = 0, flask = 0, i, k;
	json_t *f, *g;
	json_array_foreach(findings, i, f)
	{
		const char *file = json_string_value(json_object_get(f, "file"));
		const char *rule = json_string_value(json_object_get(f, "rule_id"));
		json_int_t line = json_integer_value(json_object_get(f, "line"));
		jinja += strcmp(rule, "PYSEC-2019-220") == 0;
		flask += strcmp(rule, "PYSEC-2019-179") == 0;
		if (strcmp(rule, "PYSEC-2019-220") == 0) {
			cr_expect_str_eq(file, "requirements/base.txt");
			cr_expect_eq(line, 1);
			/* PYSEC records have no summary: the details' first sentence. */
			cr_expect_str_eq(json_string_value(json_object_get(f, "title")),
					 "In Pallets Jinja before 2.8.1, str.format allows a "
					 "sandbox escape.");
		}
		if (strcmp(rule, "PYSEC-2019-179") == 0) {
			cr_expect_str_eq(file, "requirements/constraints.txt");
			cr_expect_eq(line, 1);
		}
		json_array_foreach(findings, k, g)
		{
			cr_expect(k == i ||
					  strcmp(rule, json_string_value(json_object_get(
							       g, "rule_id"))) != 0 ||
					  strcmp(file, json_string_value(
							       json_object_get(g, "file"))) != 0,
				  "%s at %s listed twice:\n%s", rule, file, out);
		}
	}
	cr_expect_eq(jinja, 1, "%zu times:\n%s", jinja, out);
	cr_expect_eq(flask, 1, "%zu times:\n%s", flask, out);
	/* A database imported before titles came from the details has no summary stored:
	 * the title is taken from the record then. */
	sqlite3 *sq;
	cr_assert_eq(sqlite3_open(db, &sq), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(sq, "UPDATE vulns SET summary = NULL", NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(sq));
	sqlite3_close(sq);
	json_t *again = scan_json(app, NULL, &status);
	bool titled = false;
	json_array_foreach(json_object_get(again, "findings"), i, f)
	{
		if (strcmp(json_string_value(json_object_get(f, "rule_id")), "PYSEC-2019-220") ==
		    0) {
			titled = strcmp(json_string_value(json_object_get(f, "title")),
					"In Pallets Jinja before 2.8.1, str.format allows a "
					"sandbox escape.") == 0;
		}
	}
	cr_expect(titled, "%s", out);
	json_decref(again);
	json_t *stats = json_object_get(doc, "stats");
	cr_expect_eq(json_integer_value(json_object_get(stats, "lockfiles")), 4, "%s", out);
	cr_expect_eq(json_integer_value(json_object_get(stats, "packages")), 2, "%s", out);
	json_decref(doc);
	free(out);

	struct tu_result r = tu_runner_run(app, "sbom", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_error_t jerr;
	doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	json_array_foreach(json_object_get(doc, "components"), i, f)
	{
		if (strcmp(json_string_value(json_object_get(f, "purl")), "pkg:pypi/jinja2@2.8")) {
			continue;
		}
		size_t locations = 0;
		json_array_foreach(json_object_get(f, "properties"), k, g)
		{
			if (strcmp(json_string_value(json_object_get(g, "name")),
				   "runner:location") == 0) {
				locations++;
				cr_expect_str_eq(json_string_value(json_object_get(g, "value")),
						 "requirements/base.txt:1");
			}
		}
		cr_expect_eq(locations, 1, "%s", r.out);
	}
	json_decref(doc);
	tu_result_free(&r);
	free(app);
}

/* The reason of a failed command's first stderr line (after "<what> failed: "), heap. */
static char *failure_reason(const char *err, const char *what)
{
	char *marker = tu_strf("runner: %s failed: ", what);
	const char *at = strstr(err, marker);
	cr_assert_not_null(at, "no '%s' in:\n%s", marker, err);
	at += strlen(marker);
	char *reason = strndup(at, strcspn(at, "\n"));
	free(marker);
	return reason;
}

/*
 * `runner scan deps` in dir fails (exit 4), and `runner sbom` there, with and without --db,
 * fails with the same reason, nothing on standard output. Returns the reason (caller
 * frees).
 */
static char *expect_sbom_fails_as_scan_deps(const char *dir, const char *what)
{
	struct tu_result scan = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_assert_eq(scan.status, 4, "%s: %s%s", what, scan.out, scan.err);
	char *want = failure_reason(scan.err, "dependency scan");
	tu_result_free(&scan);
	for (int with_db = 0; with_db < 2; with_db++) {
		struct tu_result r = with_db ? tu_runner_run(dir, "sbom", "--db", db, NULL)
					     : tu_runner_run(dir, "sbom", NULL);
		cr_assert_eq(r.status, 4, "%s: %s%s", what, r.out, r.err);
		cr_expect_str_eq(r.out, "");
		char *got = failure_reason(r.err, "sbom");
		cr_expect_str_eq(got, want, "%s%s: sbom says\n  %s\nscan deps says\n  %s", what,
				 with_db ? " (--db)" : "", got, want);
		free(got);
		tu_result_free(&r);
	}
	return want;
}

/*
 * `runner sbom` names the place of a lockfile it cannot read as `runner scan deps` does,
 * file:line:column as far as it is known, with or without --db: a bare "malformed npm
 * file" does not say which of a tree's lockfiles to fix, nor where.
 */
Test(depscan, sbom_names_the_file_and_line_of_a_lockfile_it_cannot_read)
{
	import_fixture_all_ecosystems("osv");
	static const struct {
		const char *file, *text, *where;
	} bad[] = {
		{ "app/web/package-lock.json", "{\n  \"lockfileVersion\": 2,\n  \"packages\": {\n",
		  "web/package-lock.json:4" },
		{ "app/requirements.txt", "jinja2==2.8\ngit+https://example.com/x.git\n",
		  "requirements.txt:2:1: " },
		/* A line of an included file: that file's. */
		{ "app/requirements.txt", "-r lib/base.txt\n", "lib/base.txt:2:1: " },
	};
	tu_write(ws, "app/lib/base.txt", "six==1.16.0\ngit+https://example.com/y.git\n");
	char *app = tu_strf("%s/app", ws);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tu_write(ws, bad[i].file, bad[i].text);
		char *want = expect_sbom_fails_as_scan_deps(app, bad[i].file);
		cr_expect(strncmp(want, bad[i].where, strlen(bad[i].where)) == 0,
			  "case %zu: scan deps: %s", i, want);
		free(want);
		char *path = tu_strf("%s/%s", ws, bad[i].file);
		cr_assert_eq(unlink(path), 0);
		free(path);
	}
	free(app);
}

/*
 * `runner sbom` in a tree without any lockfile fails as `runner scan deps` does (exit 4,
 * the same reason): an SBOM that lists nothing because nothing was found is an inventory
 * gone wrong unnoticed. --allow-no-lockfiles (both commands) asks for the empty result,
 * said on stderr. A lockfile that lists no package is no such case: an SBOM without
 * components, exit 0.
 */
Test(depscan, sbom_without_a_lockfile_fails_as_scan_deps_does, .timeout = 120)
{
	import_fixture_all_ecosystems("osv");
	char *app = tu_strf("%s/app", ws);
	tu_write(app, "README.md", "no dependencies here\n");
	tu_write(app, "src/main.c", "int main(void) { return 0; }\n");
	char *want = expect_sbom_fails_as_scan_deps(app, "no lockfile");
	cr_expect(strstr(want, "no lockfile or manifest found under .: ") == want &&
			  strstr(want, "--allow-no-lockfiles"),
		  "%s", want);
	/* Named paths are shown as given, relative to the tree. */
	struct tu_result scan = tu_runner_run(app, "sbom", "src", ".", NULL);
	cr_assert_eq(scan.status, 4, "%s%s", scan.out, scan.err);
	cr_expect_not_null(strstr(scan.err, "no lockfile or manifest found under src, .: "), "%s",
			   scan.err);
	tu_result_free(&scan);
	free(want);

	/* Asked for: an empty SBOM, valid CycloneDX, and a scan of nothing; said. */
	char *out = tu_strf("%s/empty.cdx.json", ws);
	struct tu_result r = tu_runner_run(app, "sbom", "--allow-no-lockfiles", "-o", out, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "no lockfile or manifest found: the SBOM lists no "
					 "package (--allow-no-lockfiles)"),
			   "%s", r.err);
	tu_result_free(&r);
	char *problem = tu_cyclonedx_problem(out);
	cr_assert_null(problem, "not valid CycloneDX 1.5: %s", problem);
	json_t *doc = json_load_file(out, 0, NULL);
	cr_assert_not_null(doc);
	cr_expect_eq(json_array_size(json_object_get(doc, "components")), 0);
	json_decref(doc);
	r = tu_runner_run(app, "scan", "deps", "--db", db, "--allow-no-lockfiles", "--format",
			  "json", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "nothing was checked (--allow-no-lockfiles)"), "%s",
			   r.err);
	doc = json_loads(r.out, 0, NULL);
	cr_expect_eq(
		json_integer_value(json_object_get(json_object_get(doc, "stats"), "lockfiles")), 0,
		"%s", r.out);
	json_decref(doc);
	tu_result_free(&r);

	/* A lockfile without packages is found: no error, nothing said. */
	tu_write(app, "requirements.txt", "# nothing yet\n");
	r = tu_runner_run(app, "sbom", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_null(strstr(r.err, "no lockfile"), "%s", r.err);
	tu_result_free(&r);
	free(out);
	free(app);
}

/*
 * A repository whose root has a package-lock.json and whose second service has only a
 * package.json of dependencies: the scan read the root's lockfile and passed, and the
 * service's dependencies went unchecked. Now `runner scan deps`, `runner sbom` and the
 * stage fail (exit 4) naming the service's package.json and the lockfile to generate,
 * as a tree of manifests alone fails, and --allow-no-lockfiles does not pass it: the
 * project has dependencies, which no lockfile gives.
 */
Test(depscan, a_service_without_its_lockfile_fails_the_scan, .timeout = 120)
{
	import_fixture("osv/npm");
	char *repo = tu_strf("%s/repo", ws);
	tu_write(repo, "package.json", "{\"name\": \"shop\", \"dependencies\": {\"ms\": \"2\"}}\n");
	tu_write(repo, "package-lock.json",
		 "{\"name\": \"shop\", \"lockfileVersion\": 3, \"packages\": {\"\": "
		 "{\"name\": \"shop\"}, \"node_modules/ms\": {\"version\": \"2.1.3\"}}}\n");
	tu_write(repo, "services/billing/package.json",
		 "{\"name\": \"billing\", \"dependencies\": {\"lodash\": \"4.17.15\"}}\n");
	const char *const says = "services/billing/package.json declares dependencies and there "
				 "is no lockfile for it that the scan reads";
	static const char *const cmds[][4] = {
		{ "scan", "deps", NULL },
		{ "scan", "deps", "--allow-no-lockfiles", NULL },
		{ "sbom", NULL },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct tu_result r = tu_runner_run(repo, cmds[i][0], cmds[i][1], cmds[i][2],
						   cmds[i][2] ? cmds[i][3] : NULL, NULL);
		cr_expect_eq(r.status, 4, "%s %s: %s%s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			     r.out, r.err);
		cr_expect(strstr(r.err, says) && strstr(r.err, "npm install --package-lock-only"),
			  "%s", r.err);
		tu_result_free(&r);
	}
	/* The stage: an error, with the same reason. */
	tu_write(repo, ".runner.yml",
		 "version: 1\nstages:\n  dependency-scan:\n    uses: dependency-scan\n");
	struct tu_result r = tu_runner_run(repo, "run", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	json_t *rep = tu_latest_report(repo);
	const char *summary = json_string_value(json_object_get(
		json_object_get(tu_report_stage(rep, "dependency-scan"), "result"), "summary"));
	cr_expect(summary && strstr(summary, says), "%s", summary ? summary : "(none)");
	json_decref(rep);
	tu_result_free(&r);
	/* Without the root's lockfile: the same error, rather than "no lockfile found". */
	char *lock = tu_strf("%s/package-lock.json", repo);
	cr_assert_eq(unlink(lock), 0);
	r = tu_runner_run(repo, "scan", "deps", "--allow-no-lockfiles", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "package.json declares dependencies"), "%s", r.err);
	tu_result_free(&r);
	/* Its lockfile generated (and the root's back): the scan runs. */
	tu_write(repo, "package-lock.json",
		 "{\"name\": \"shop\", \"lockfileVersion\": 3, \"packages\": {\"\": "
		 "{\"name\": \"shop\"}}}\n");
	tu_write(repo, "services/billing/package-lock.json",
		 "{\"name\": \"billing\", \"lockfileVersion\": 3, \"packages\": {\"\": "
		 "{\"name\": \"billing\"}, \"node_modules/lodash\": {\"version\": "
		 "\"4.17.15\"}}}\n");
	r = tu_runner_run(repo, "scan", "deps", NULL);
	cr_expect_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "services/billing/package-lock.json:"), "%s", r.out);
	tu_result_free(&r);
	free(lock);
	free(repo);
}

/*
 * A local directory a requirements file installs (`-e ./pkg`, `-e File://...`) is the
 * project's own code when the sandboxed worker finds it in the tree; one that is not there,
 * or that a symbolic link leads out of the tree, fails `runner scan deps` and `runner sbom`
 * alike (exit 4) at its file:line:column, never a pass that skipped it; so does a local
 * archive that is not there, and a path with a #egg= (pip looks for `pkg#egg=pkg`).
 */
Test(depscan, a_local_project_must_be_a_directory_of_the_tree, .timeout = 120)
{
	import_fixture_all_ecosystems("osv");
	char *app = tu_strf("%s/app", ws);
	tu_write(app, "pkg/setup.py", "");
	tu_write(ws, "outside/setup.py", "");
	char *outside = tu_strf("%s/outside", ws), *link = tu_strf("%s/out", app);
	cr_assert_eq(symlink(outside, link), 0);
	tu_write(app, "wheels/six-1.16.0-py2.py3-none-any.whl", "");
	char *good = tu_strf("-e ./pkg\n-e File://%s/pkg\njinja2==2.8\n"
			     "wheels/six-1.16.0-py2.py3-none-any.whl\n",
			     app);
	tu_write(app, "requirements.txt", good);
	struct tu_result r = tu_runner_run(app, "sbom", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "pkg:pypi/jinja2@2.8"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "pkg:pypi/six@1.16.0"), "%s", r.out);
	tu_result_free(&r);
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "-e ./pkg\n  ./gone\n",
		  "requirements.txt:2:3: the local project './gone' does not exist" },
		{ "jinja2==2.8\n-e ./out\n",
		  "requirements.txt:2:4: the local project './out' lies outside the scanned tree" },
		/* Named by its file name, or by a #egg= that pip reads as part of the path. */
		{ "jinja2==2.8\n./wheels/six-1.17.0-py2.py3-none-any.whl\n",
		  "requirements.txt:2:1: the local archive "
		  "'./wheels/six-1.17.0-py2.py3-none-any.whl' does not exist" },
		{ "./pkg#egg=pkg\n", "requirements.txt:1:1: the local project './pkg#egg=pkg' does "
				     "not exist" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tu_write(app, "requirements.txt", bad[i].text);
		char *why = expect_sbom_fails_as_scan_deps(app, bad[i].text);
		cr_expect(strncmp(why, bad[i].says, strlen(bad[i].says)) == 0, "%s", why);
		free(why);
	}
	free(good);
	free(link);
	free(outside);
	free(app);
}

/* Whether `runner scan deps --format json` in dir reports advisory id for name in file:line. */
static bool reports(const char *dir, const char *id, const char *name, const char *file,
		    unsigned line)
{
	struct tu_result r =
		tu_runner_run(dir, "scan", "deps", "--db", db, "--format", "json", NULL);
	cr_assert(r.status == 0 || r.status == 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	bool found = false;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "findings"), i, f)
	{
		json_t *pkg = json_object_get(f, "package");
		found |= strcmp(json_string_value(json_object_get(f, "rule_id")), id) == 0 &&
			 strcmp(json_string_value(json_object_get(pkg, "name")), name) == 0 &&
			 strcmp(json_string_value(json_object_get(f, "file")), file) == 0 &&
			 json_integer_value(json_object_get(f, "line")) == line;
	}
	json_decref(doc);
	tu_result_free(&r);
	return found;
}

Test(depscan, an_indirect_go_module_only_in_go_sum_is_reported_below_go_1_17)
{
	/* GO-2025-3488 (golang.org/x/oauth2 before 0.27.0), reached only through go.sum. */
	import_fixture("osv/go");
	tu_write(ws, "mod/go.mod",
		 "module example.com/m\n\ngo 1.16\n\nrequire example.com/lib v1.0.0\n");
	tu_write(ws, "mod/go.sum",
		 "example.com/lib v1.0.0 h1:AAAA=\n"
		 "example.com/lib v1.0.0/go.mod h1:BBBB=\n"
		 "golang.org/x/oauth2 v0.26.0 h1:CCCC=\n"
		 "golang.org/x/oauth2 v0.26.0/go.mod h1:DDDD=\n");
	char *dir, *mod;
	cr_assert_geq(asprintf(&dir, "%s/mod", ws), 0);
	cr_assert_geq(asprintf(&mod, "%s/mod/go.mod", ws), 0);
	cr_assert(reports(dir, "GO-2025-3488", "golang.org/x/oauth2", "go.sum", 3));
	/* From go 1.17, go.mod is the whole build list: go.sum is not read. */
	sed_file(mod, "go 1.16", "go 1.17");
	cr_assert(!reports(dir, "GO-2025-3488", "golang.org/x/oauth2", "go.sum", 3));
	free(mod);
	free(dir);
}

/* `runner scan deps --format json [extra]` in dir: the exit status and the parsed output. */
static json_t *scan_json(const char *dir, const char *extra, int *status)
{
	struct tu_result r =
		extra ? tu_runner_run(dir, "scan", "deps", "--db", db, "--format", "json", extra,
				      NULL)
		      : tu_runner_run(dir, "scan", "deps", "--db", db, "--format", "json", NULL);
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "exit %d: %s\n%s\n%s", r.status, jerr.text, r.out, r.err);
	*status = r.status;
	tu_result_free(&r);
	return doc;
}

/* The only finding of a scan's output is rule on name@version at file:line. */
static void expect_only_finding(json_t *doc, const char *rule, const char *severity,
				const char *disposition, const char *name, const char *version,
				const char *file, unsigned line)
{
	json_t *findings = json_object_get(doc, "findings");
	char *text = json_dumps(findings, JSON_INDENT(2));
	cr_assert_eq(json_array_size(findings), 1, "%s", text);
	json_t *f = json_array_get(findings, 0);
	json_t *pkg = json_object_get(f, "package");
	cr_expect_str_eq(json_string_value(json_object_get(f, "rule_id")), rule, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(f, "severity")), severity, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(f, "disposition")), disposition, "%s",
			 text);
	cr_expect_str_eq(json_string_value(json_object_get(pkg, "name")), name, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(pkg, "version")), version, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(f, "file")), file, "%s", text);
	cr_expect_eq(json_integer_value(json_object_get(f, "line")), line, "%s", text);
	free(text);
}

Test(depscan, unresolved_pom_version_blocks_as_its_worst_advisory)
{
	import_fixture("osv/maven");
	/* log4j-core's version is a property of a parent POM this file does not define. */
	tu_write(ws, "svc/pom.xml",
		 "<project>\n"
		 "  <properties>\n"
		 "    <other.version>1.0</other.version>\n"
		 "  </properties>\n"
		 "  <dependencies>\n"
		 "    <dependency>\n"
		 "      <groupId>org.apache.logging.log4j</groupId>\n"
		 "      <artifactId>log4j-core</artifactId>\n"
		 "      <version>${log4j.version}</version>\n"
		 "    </dependency>\n"
		 "  </dependencies>\n"
		 "</project>\n");
	char *dir = tu_strf("%s/svc", ws), *pom = tu_strf("%s/svc/pom.xml", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3, "it blocks at the default threshold");
	/* It could be any version: as severe as the worst advisory of any of them. */
	expect_only_finding(doc, "unresolved-version", "critical", "blocking",
			    "org.apache.logging.log4j:log4j-core", "${log4j.version}", "pom.xml",
			    9);
	json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(f, "message")),
			 "org.apache.logging.log4j:log4j-core (Maven): the property "
			 "${log4j.version} is not defined in this file; some version of it has "
			 "advisory GHSA-jfh8-c2jx-5f7m (critical)");
	/* Why the version is not known is the package's note, as an advisory's finding
	 * gives it (it was only in the message). */
	cr_expect_str_eq(json_string_value(json_object_get(f, "version_note")),
			 "the property ${log4j.version} is not defined in this file");
	/* Not looked up: no version to check. */
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(doc, "stats"), "checked")),
		     0);
	json_decref(doc);

	/* The text output says the same, why included; no parent POM or BOM is missing:
	 * no Maven repository would help. */
	struct tu_result r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 3);
	cr_expect_not_null(strstr(r.out,
				  "pom.xml:9: critical unresolved-version "
				  "org.apache.logging.log4j:log4j-core ${log4j.version} "
				  "[blocking]\n"
				  "    the property ${log4j.version} is not defined in this "
				  "file; some version of it has advisory GHSA-jfh8-c2jx-5f7m "
				  "(critical)\n"
				  "    fix: pin the version in this file (or scan the effective "
				  "POM, e.g. from `mvn help:effective-pom`)\n"),
			   "%s", r.out);
	tu_result_free(&r);
	/* So a gate at critical does not let it through. */
	doc = scan_json(dir, "--fail-on=critical", &status);
	cr_expect_eq(status, 3, "an unresolved log4j-core passed --fail-on critical");
	json_decref(doc);
	/* A package no advisory names stays at high. */
	tu_write(ws, "svc/pom.xml",
		 "<project>\n"
		 "  <dependencies>\n"
		 "    <dependency>\n"
		 "      <groupId>org.example</groupId>\n"
		 "      <artifactId>nothing-known</artifactId>\n"
		 "      <version>${x.version}</version>\n"
		 "    </dependency>\n"
		 "  </dependencies>\n"
		 "</project>\n");
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	expect_only_finding(doc, "unresolved-version", "high", "blocking",
			    "org.example:nothing-known", "${x.version}", "pom.xml", 6);
	json_decref(doc);
	tu_write(ws, "svc/pom.xml",
		 "<project>\n"
		 "  <properties>\n"
		 "    <other.version>1.0</other.version>\n"
		 "  </properties>\n"
		 "  <dependencies>\n"
		 "    <dependency>\n"
		 "      <groupId>org.apache.logging.log4j</groupId>\n"
		 "      <artifactId>log4j-core</artifactId>\n"
		 "      <version>${log4j.version}</version>\n"
		 "    </dependency>\n"
		 "  </dependencies>\n"
		 "</project>\n");

	/* Defined in the file (as a parent would): resolved, and the advisory is found. */
	sed_file(pom, "<other.version>1.0</other.version>",
		 "<log4j.version>2.14.1</log4j.version>");
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	expect_only_finding(doc, "GHSA-jfh8-c2jx-5f7m", "critical", "blocking",
			    "org.apache.logging.log4j:log4j-core", "2.14.1", "pom.xml", 9);
	json_decref(doc);

	/* Through dependencyManagement: resolved, at the managed <version>. */
	tu_write(ws, "svc/pom.xml",
		 "<project>\n"
		 "  <dependencies>\n"
		 "    <dependency>\n"
		 "      <groupId>org.apache.logging.log4j</groupId>\n"
		 "      <artifactId>log4j-core</artifactId>\n"
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
		 "</project>\n");
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 0);
	cr_expect_eq(json_array_size(json_object_get(doc, "findings")), 0);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(doc, "stats"), "checked")),
		     1);
	json_decref(doc);

	/* A module of a multi-module project: the version is its parent's, which the scan
	 * reads from the tree (it used to be unresolved in every module). */
	tu_write(ws, "svc/pom.xml",
		 "<project>\n"
		 "  <groupId>com.example</groupId><artifactId>parent</artifactId>\n"
		 "  <version>1.0</version><packaging>pom</packaging>\n"
		 "  <properties><log4j.version>2.14.1</log4j.version></properties>\n"
		 "  <dependencyManagement><dependencies><dependency>\n"
		 "    <groupId>org.apache.logging.log4j</groupId>\n"
		 "    <artifactId>log4j-core</artifactId><version>${log4j.version}</version>\n"
		 "  </dependency></dependencies></dependencyManagement>\n"
		 "</project>\n");
	tu_write(ws, "svc/app/pom.xml",
		 "<project>\n"
		 "  <parent><groupId>com.example</groupId><artifactId>parent</artifactId>\n"
		 "    <version>1.0</version></parent>\n"
		 "  <artifactId>app</artifactId>\n"
		 "  <dependencies><dependency>\n"
		 "    <groupId>org.apache.logging.log4j</groupId>\n"
		 "    <artifactId>log4j-core</artifactId>\n"
		 "  </dependency></dependencies>\n"
		 "</project>\n");
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	json_t *findings = json_object_get(doc, "findings");
	bool module_found = false;
	size_t fi;
	json_t *fv;
	json_array_foreach(findings, fi, fv)
	{
		const char *file = json_string_value(json_object_get(fv, "file"));
		const char *rule = json_string_value(json_object_get(fv, "rule_id"));
		cr_expect_str_eq(rule, "GHSA-jfh8-c2jx-5f7m", "%s: %s", file, rule);
		module_found |= file && strcmp(file, "app/pom.xml") == 0 &&
				json_integer_value(json_object_get(fv, "line")) == 5;
	}
	cr_expect(module_found, "no finding on app/pom.xml:5");
	json_decref(doc);
	free(pom);
	free(dir);
}

/*
 * A multi-module project whose versions come from BOMs in the tree
 * (tests/fixtures/maven-bom): log4j-core 2.14.1, managed by the BOM the parent imports,
 * is Log4Shell in the module that uses it, on the module's line, and the finding says
 * where the BOM manages it (it used to be `unresolved-version` in every module, whatever
 * the BOM said); the module that imports a newer log4j first passes; a BOM that is not in
 * the tree leaves what it may manage unresolved, naming it. After `mvn package`, the
 * copies of the modules' pom.xml in their target/ are not scanned (each finding of a
 * module was reported again for the copy, where its parent is not found). The text output
 * says what the JSON says: where a version comes from, why one is not resolved, and that a
 * local Maven repository may hold the BOM the scan cannot find.
 */
Test(depscan, versions_managed_by_a_bom_in_the_tree_are_checked)
{
	import_fixture("osv/maven");
	char *src = tu_fixture("maven-bom");
	char *dir = tu_strf("%s/shop", ws);
	char *cmd = tu_strf("cp -r '%s' '%s'", src, dir);
	cr_assert_eq(system(cmd), 0);
	static const char *const modules[][2] = { { "app", "shop-app" },
						  { "shop-bom", "shop-bom" },
						  { "reports", "shop-reports" } };
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		char *copy = tu_strf("mkdir -p '%s/%s/target/classes/META-INF/maven/com.acme.shop/"
				     "%s' && cp '%s/%s/pom.xml' '%s/%s/target/classes/META-INF/"
				     "maven/com.acme.shop/%s/pom.xml'",
				     dir, modules[i][0], modules[i][1], dir, modules[i][0], dir,
				     modules[i][0], modules[i][1]);
		cr_assert_eq(system(copy), 0);
		free(copy);
	}
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	json_t *findings = json_object_get(doc, "findings");
	char *text = json_dumps(findings, JSON_INDENT(2));
	static const struct {
		const char *rule, *severity, *name, *version, *file;
		unsigned line;
		const char *note;
	} want[] = {
		{ "GHSA-jfh8-c2jx-5f7m", "critical", "org.apache.logging.log4j:log4j-core",
		  "2.14.1", "app/pom.xml", 22,
		  "managed by the BOM com.acme.shop:shop-bom:1.4.0 at shop-bom/pom.xml:28" },
		{ "unresolved-version", "high", "org.springframework.boot:spring-boot-starter-web",
		  "", "reports/pom.xml", 24,
		  "the BOM org.springframework.boot:spring-boot-dependencies:3.2.0 is not in the "
		  "scanned tree" },
		{ "unresolved-version", "high", "org.apache.logging.log4j:log4j-api", "",
		  "reports/pom.xml", 28,
		  "spring-boot-dependencies:3.2.0 is not in the scanned tree" },
		/* The BOM's own entry. */
		{ "GHSA-jfh8-c2jx-5f7m", "critical", "org.apache.logging.log4j:log4j-core",
		  "2.14.1", "shop-bom/pom.xml", 28, NULL },
	};
	cr_expect_eq(json_array_size(findings), sizeof(want) / sizeof(want[0]), "%s", text);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		json_t *found = NULL, *f;
		size_t i;
		json_array_foreach(findings, i, f)
		{
			if (strcmp(json_string_value(json_object_get(f, "file")), want[k].file) ==
				    0 &&
			    json_integer_value(json_object_get(f, "line")) == want[k].line) {
				found = f;
			}
		}
		cr_assert_not_null(found, "%s:%u\n%s", want[k].file, want[k].line, text);
		json_t *pkg = json_object_get(found, "package");
		cr_expect_str_eq(json_string_value(json_object_get(found, "rule_id")),
				 want[k].rule);
		cr_expect_str_eq(json_string_value(json_object_get(found, "severity")),
				 want[k].severity);
		cr_expect_str_eq(json_string_value(json_object_get(pkg, "name")), want[k].name);
		cr_expect_str_eq(json_string_value(json_object_get(pkg, "version")),
				 want[k].version);
		const char *where = json_string_value(json_object_get(found, "message"));
		if (strcmp(want[k].rule, "unresolved-version") != 0) {
			/* Where the version comes from, with the finding. */
			where = json_string_value(json_object_get(found, "version_note"));
		}
		if (want[k].note) {
			cr_expect(where && strstr(where, want[k].note), "%s:%u: %s", want[k].file,
				  want[k].line, where ? where : "(none)");
		}
	}
	free(text);
	json_decref(doc);
	/* The text output: the module's line, where the version comes from; why one is not
	 * resolved, and what may resolve it. */
	struct tu_result r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 3);
	cr_expect_not_null(
		strstr(r.out,
		       "app/pom.xml:22: critical GHSA-jfh8-c2jx-5f7m (CVE-2021-44228) "
		       "org.apache.logging.log4j:log4j-core 2.14.1 [blocking]\n"
		       "    Remote code injection in Log4j\n"
		       "    version: managed by the BOM com.acme.shop:shop-bom:1.4.0 at "
		       "shop-bom/pom.xml:28\n"
		       "    fix: upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later"),
		"%s", r.out);
	cr_expect_not_null(
		strstr(r.out,
		       "reports/pom.xml:24: high unresolved-version "
		       "org.springframework.boot:spring-boot-starter-web [blocking]\n"
		       "    no version in this file or its parents, and it may come from a BOM the "
		       "scan cannot read: the BOM "
		       "org.springframework.boot:spring-boot-dependencies:3.2.0 is not in the "
		       "scanned tree\n"
		       "    fix: pin the version in this file, or give the scan the local Maven "
		       "repository that holds the parent POM or BOM it names (`--maven-repository "
		       "~/.m2/repository`, or the stage's `maven-repository:`)"),
		"%s", r.out);
	cr_expect_null(strstr(r.out, "target/"), "%s", r.out);
	tu_result_free(&r);
	free(cmd);
	free(dir);
	free(src);
}

/*
 * A module whose parent and BOM are not in the tree but in a local Maven repository
 * (tests/fixtures/maven-repository): unresolved without it; with `--maven-repository DIR`
 * (outside the tree: bound read-only into the sandbox) or a stage's `maven-repository:`
 * (inside the workspace), log4j-core 2.14.1 from the BOM is Log4Shell on the module's
 * line, and the parent's version (through its own parent, read from the repository too)
 * is resolved. A repository that is not a directory is a usage error, or the stage's
 * error; one outside the workspace is refused by validation.
 */
Test(depscan, versions_from_a_local_maven_repository, .timeout = 120)
{
	import_fixture("osv/maven");
	char *src = tu_fixture("maven-repository");
	char *proj = tu_strf("%s/proj", ws);
	char *cmd = tu_strf("cp -r '%s' '%s'", src, proj);
	cr_assert_eq(system(cmd), 0);
	char *svc = tu_strf("%s/service", proj);
	int status;
	json_t *doc = scan_json(svc, NULL, &status);
	cr_expect_eq(status, 3);
	/* log4j-core and jackson-databind. */
	json_t *findings = json_object_get(doc, "findings");
	cr_expect_eq(json_array_size(findings), 2);
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i);
		const char *msg = json_string_value(json_object_get(f, "message"));
		cr_expect_str_eq(json_string_value(json_object_get(f, "rule_id")),
				 "unresolved-version");
		cr_expect(msg && strstr(msg, "its parent POM com.acme:acme-parent:1.0 is not in "
					     "the scanned tree"),
			  "%s", msg ? msg : "(none)");
		/* A local Maven repository would hold them. */
		const char *fix = json_string_value(json_object_get(f, "fix"));
		cr_expect(fix && strstr(fix, "`--maven-repository ~/.m2/repository`, or the "
					     "stage's `maven-repository:`"),
			  "%s", fix ? fix : "(none)");
	}
	json_decref(doc);
	/* One that does not hold them: have a build put them there. */
	tu_write(proj, "empty-m2/README", "nothing\n");
	struct tu_result r = tu_runner_run(svc, "scan", "deps", "--db", db, "--format", "json",
					   "--maven-repository", "../empty-m2", NULL);
	cr_expect_eq(r.status, 3, "%s", r.err);
	doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc, "%s\n%s", r.out, r.err);
	findings = json_object_get(doc, "findings");
	cr_expect_eq(json_array_size(findings), 2);
	for (size_t i = 0; i < json_array_size(findings); i++) {
		const char *fix =
			json_string_value(json_object_get(json_array_get(findings, i), "fix"));
		cr_expect(fix && strstr(fix, "build the project with the Maven repository the scan "
					     "reads as its local repository first (`mvn "
					     "-Dmaven.repo.local=DIR validate`"),
			  "%s", fix ? fix : "(none)");
	}
	json_decref(doc);
	tu_result_free(&r);

	r = tu_runner_run(svc, "scan", "deps", "--db", db, "--format", "json", "--maven-repository",
			  "../repository", NULL);
	cr_expect_eq(r.status, 3, "%s", r.err);
	json_error_t jerr;
	doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "%s\n%s", r.out, r.err);
	expect_only_finding(doc, "GHSA-jfh8-c2jx-5f7m", "critical", "blocking",
			    "org.apache.logging.log4j:log4j-core", "2.14.1", "pom.xml", 25);
	char *real = realpath(proj, NULL);
	char *note = tu_strf("managed by the BOM org.example.platform:platform-bom:5.0 at "
			     "%s/repository/org/example/platform/platform-bom/5.0/"
			     "platform-bom-5.0.pom:18",
			     real);
	const char *vn = json_string_value(json_object_get(
		json_array_get(json_object_get(doc, "findings"), 0), "version_note"));
	cr_expect(vn && strcmp(vn, note) == 0, "%s", vn ? vn : "(none)");
	/* jackson-databind from the parent's parent: every package checked (the import is
	 * none). */
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(doc, "stats"), "checked")),
		     2);
	json_decref(doc);
	tu_result_free(&r);
	free(note);
	free(real);
	static const char *const bad[][2] = { { "../gone", "No such file" },
					      { "pom.xml", "is not a directory" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = tu_runner_run(svc, "scan", "deps", "--db", db, "--maven-repository", bad[i][0],
				  NULL);
		cr_expect_eq(r.status, 2, "%s: %s", bad[i][0], r.err);
		cr_expect(strstr(r.err, "--maven-repository") && strstr(r.err, bad[i][1]), "%s",
			  r.err);
		tu_result_free(&r);
	}

	/* A pipeline's stage, with the repository inside the workspace. */
	tu_write(proj, ".runner.yml",
		 "version: 1\nstages:\n  deps:\n    uses: dependency-scan\n    with:\n"
		 "      paths: [service]\n      maven-repository: repository\n");
	r = tu_runner_run(proj, "run", NULL);
	cr_expect_eq(r.status, 3, "%s\n%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "service/pom.xml:25: critical GHSA-jfh8-c2jx-5f7m"), "%s",
			   r.out);
	/* The stage's log says where the version comes from, as `runner scan deps` does. */
	cr_expect_not_null(strstr(r.out, "dependency-scan:     version: managed by the BOM "
					 "org.example.platform:platform-bom:5.0 at "),
			   "%s", r.out);
	tu_result_free(&r);
	tu_write(proj, ".runner.yml",
		 "version: 1\nstages:\n  deps:\n    uses: dependency-scan\n    with:\n"
		 "      paths: [service]\n      maven-repository: gone\n");
	r = tu_runner_run(proj, "run", NULL);
	cr_expect_eq(r.status, 4, "%s\n%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "the Maven repository gone cannot be read"), "%s", r.out);
	tu_result_free(&r);
	/* Validation: outside the workspace, and the runner's own key. */
	static const char *const refused[][2] = {
		{ "maven-repository: ../repository", "outside the workspace" },
		{ "maven-repository: /root/.m2/repository", "outside the workspace" },
		{ "maven_repository: /root/.m2/repository", "unknown key" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *yml = tu_strf("version: 1\nstages:\n  deps:\n    uses: dependency-scan\n"
				    "    with:\n      %s\n",
				    refused[i][0]);
		tu_write(proj, ".runner.yml", yml);
		free(yml);
		r = tu_runner_run(proj, "validate", NULL);
		cr_expect_eq(r.status, 2, "%s: %s", refused[i][0], r.err);
		cr_expect_not_null(strstr(r.err, refused[i][1]), "%s", r.err);
		tu_result_free(&r);
	}
	free(svc);
	free(cmd);
	free(proj);
	free(src);
}

/* The findings of rule_id for package name, with their severity (a new string: "name=sev
 * ..."), in the order of the report. */
static char *severities_of(json_t *doc, const char *rule_id)
{
	char *out = strdup("");
	json_t *findings = json_object_get(doc, "findings");
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i);
		if (strcmp(json_string_value(json_object_get(f, "rule_id")), rule_id) != 0) {
			continue;
		}
		const char *name =
			json_string_value(json_object_get(json_object_get(f, "package"), "name"));
		char *next = tu_strf("%s%s%s=%s", out, *out ? " " : "", name,
				     json_string_value(json_object_get(f, "severity")));
		free(out);
		out = next;
	}
	return out;
}

/* A requirement that allows more than one version (none at all, a range) is reported as
 * `unpinned-requirement`, medium (below the default threshold) unless an advisory affects a
 * version it allows: then as severe as the worst of them. A range is also checked at its
 * least version. */
Test(depscan, unpinned_requirement_is_medium_and_does_not_block_by_default)
{
	import_fixture_all_ecosystems("osv/maven");
	tu_write(ws, "py/requirements.txt", "jinja2==3.1.4\nflask\nrequests>=2.0\n");
	char *dir = tu_strf("%s/py", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 0, "medium is below the default threshold (high)");
	char *sev = severities_of(doc, "unpinned-requirement");
	cr_expect_str_eq(sev, "flask=medium requests=medium");
	free(sev);
	json_decref(doc);
	/* At --fail-on medium it blocks. */
	doc = scan_json(dir, "--fail-on=medium", &status);
	cr_expect_eq(status, 3);
	json_decref(doc);
	free(dir);
}

/* A baseline accepts a finding at the severity it had: one taken while an unpinned
 * package was medium does not hide it once an advisory for it is critical (the package's
 * version is unknown, so no finding per advisory would show it). It hid it before. */
Test(depscan, a_baseline_does_not_hide_an_unpinned_package_made_worse)
{
	import_fixture_all_ecosystems("osv/maven");
	tu_write(ws, "py/requirements.txt", "flask\n");
	char *dir = tu_strf("%s/py", ws);
	struct tu_result r =
		tu_runner_run(dir, "scan", "deps", "--db", db, "--format", "json", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_write(ws, "baseline.json", r.out);
	tu_result_free(&r);
	char *baseline = tu_strf("%s/baseline.json", ws);
	/* The baseline holds the medium finding. */
	r = tu_runner_run(dir, "scan", "deps", "--db", db, "--fail-on", "medium", "--baseline",
			  baseline, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_write(
		ws, "adv/flask.json",
		"{\"id\": \"TEST-FLASK\", \"modified\": \"2024-01-01T00:00:00Z\", "
		"\"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", \"name\": \"flask\"}, "
		"\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}]}]}], "
		"\"database_specific\": {\"severity\": \"CRITICAL\"}}");
	char *adv = tu_strf("%s/adv", ws);
	r = tu_runner_run(ws, "db", "import", "--db", db, adv, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "deps", "--db", db, "--baseline", baseline, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "critical unpinned-requirement"), "%s", r.out);
	cr_assert_null(strstr(r.out, "suppressed"), "%s", r.out);
	tu_result_free(&r);
	free(adv);
	free(baseline);
	free(dir);
}

/* More than 20,000 findings is an error, at once: 1,200 copies of a package that 20
 * advisories affect at every version (the scan of 30,000 copies of Django ran a minute and
 * died of its memory limit). */
Test(depscan, a_lockfile_of_too_many_findings_is_refused)
{
	import_fixture_all_ecosystems("osv/maven");
	for (int k = 0; k < 20; k++) {
		char *name = tu_strf("many/A%d.json", k);
		char *rec = tu_strf(
			"{\"id\": \"TEST-MANY-%d\", \"modified\": \"2024-01-01T00:00:00Z\", "
			"\"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", \"name\": "
			"\"many\"}, "
			"\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": "
			"\"0\"}]}]}]}",
			k);
		tu_write(ws, name, rec);
		free(name);
		free(rec);
	}
	char *adv = tu_strf("%s/many", ws);
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, adv, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	char *lines = calloc(1200, 20);
	cr_assert_not_null(lines);
	for (int v = 0, n = 0; v < 1200; v++) {
		n += sprintf(lines + n, "many==1.0.%d\n", v);
	}
	tu_write(ws, "py/requirements.txt", lines);
	free(lines);
	char *dir = tu_strf("%s/py", ws);
	r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, "more than 20000 findings (after 1001 of 1200 packages)"),
			   "%s", r.err);
	tu_result_free(&r);
	/* One copy, 20 findings: a list, and a block. */
	tu_write(ws, "py/requirements.txt", "many==1.0.0\n");
	r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	free(dir);
	free(adv);
}

/* Maven resolves a version range (and LATEST or RELEASE) to the newest version it allows:
 * log4j-core [1.0,2.16) installs 2.15.0, and is as severe as Log4Shell; so are RELEASE and
 * LATEST, whose note says what Maven does with them. A range whose versions are all past
 * every advisory stays medium. */
Test(depscan, a_maven_range_is_as_severe_as_the_versions_it_allows)
{
	import_fixture("osv/maven");
	static const char pom[] = "<project>\n  <dependencies>\n    <dependency>\n"
				  "      <groupId>org.apache.logging.log4j</groupId>\n"
				  "      <artifactId>log4j-core</artifactId>\n"
				  "      <version>%s</version>\n    </dependency>\n"
				  "  </dependencies>\n</project>\n";
	const char *versions[] = { "[1.0,2.16)", "RELEASE", "(,2.16.0)", "[2.17.1,)", "LATEST" };
	const char *want[] = { "critical", "critical", "critical", "medium", "critical" };
	const char *notes[] = {
		"version range [1.0,2.16)",
		"RELEASE: Maven resolves it to the newest release at build time, so any version "
		"may be built",
		"version range (,2.16.0)",
		"version range [2.17.1,)",
		"LATEST: Maven resolves it to the newest version (a snapshot too) at build time, "
		"so "
		"any version may be built",
	};
	for (size_t k = 0; k < 5; k++) {
		char *text = tu_strf(pom, versions[k]);
		tu_write(ws, "mvn/pom.xml", text);
		free(text);
		char *dir = tu_strf("%s/mvn", ws);
		int status;
		json_t *doc = scan_json(dir, NULL, &status);
		char *sev = severities_of(doc, "unpinned-requirement");
		char *expect = tu_strf("org.apache.logging.log4j:log4j-core=%s", want[k]);
		cr_expect_str_eq(sev, expect, "%s", versions[k]);
		/* The range, as the package's note (the unpinned finding comes first). */
		json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
		cr_expect_str_eq(json_string_value(json_object_get(f, "rule_id")),
				 "unpinned-requirement");
		cr_expect_str_eq(json_string_value(json_object_get(f, "version_note")), notes[k]);
		cr_expect_eq(status, strcmp(want[k], "critical") == 0 ? 3 : 0, "%s", versions[k]);
		free(expect);
		free(sev);
		json_decref(doc);
		free(dir);
	}
}

/* ---------- zip exports ---------- */

struct zentry {
	const char *path;
	const char *data; /* NULL with size > 0: that many zero bytes */
	size_t size;
	const char *symlink;
};

static void write_zip(const char *path, const struct zentry *e, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ent = archive_entry_new();
		archive_entry_set_pathname(ent, e[i].path);
		if (e[i].symlink) {
			archive_entry_set_filetype(ent, AE_IFLNK);
			archive_entry_set_symlink(ent, e[i].symlink);
			archive_entry_set_size(ent, 0);
		} else {
			archive_entry_set_filetype(ent, AE_IFREG);
			archive_entry_set_size(ent, (la_int64_t)e[i].size);
		}
		archive_entry_set_perm(ent, 0644);
		cr_assert_eq(archive_write_header(a, ent), ARCHIVE_OK);
		if (!e[i].symlink) {
			if (e[i].data) {
				archive_write_data(a, e[i].data, e[i].size);
			} else {
				static char zeros[65536];
				for (size_t k = 0; k < e[i].size; k += sizeof(zeros)) {
					size_t m = e[i].size - k < sizeof(zeros) ? e[i].size - k
										 : sizeof(zeros);
					archive_write_data(a, zeros, m);
				}
			}
		}
		archive_entry_free(ent);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static char *fixture_text(const char *rel)
{
	char *p = tu_fixture(rel);
	char *t = tu_read(p);
	free(p);
	cr_assert_not_null(t);
	return t;
}

static long long db_records(void)
{
	struct tu_result r = tu_runner_run(ws, "db", "status", "--db", db, "--json", NULL);
	long long n = -1;
	if (r.status == 0) {
		json_error_t jerr;
		json_t *st = json_loads(r.out, 0, &jerr);
		n = json_integer_value(json_object_get(st, "records"));
		json_decref(st);
	}
	tu_result_free(&r);
	return n;
}

Test(depscan, db_import_zip_and_refusals)
{
	char *log4 = fixture_text("osv/maven/GHSA-jfh8-c2jx-5f7m.json");
	char *zip;
	cr_assert_geq(asprintf(&zip, "%s/all.zip", ws), 0);
	struct zentry good[] = { { "GHSA-jfh8-c2jx-5f7m.json", log4, strlen(log4), NULL },
				 { "README.txt", "not a record", 12, NULL } };
	write_zip(zip, good, 2);
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, zip, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	cr_assert_eq(db_records(), 1);

	struct {
		const char *what;
		struct zentry e[2];
		const char *needle;
	} bad[] = {
		{ "traversal", { { "../../evil.json", log4, strlen(log4), NULL } }, "unsafe path" },
		{ "absolute", { { "/etc/evil.json", log4, strlen(log4), NULL } }, "unsafe path" },
		{ "symlink", { { "link.json", NULL, 0, "/etc/passwd" } }, "link" },
		{ "bomb", { { "bomb.json", NULL, 64u << 20, NULL } }, "zip bomb" },
		{ "not json", { { "x.json", "{not json", 9, NULL } }, "x.json" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *bz;
		cr_assert_geq(asprintf(&bz, "%s/bad-%zu.zip", ws, i), 0);
		write_zip(bz, bad[i].e, 1);
		r = tu_runner_run(ws, "db", "import", "--db", db, bz, NULL);
		cr_assert_eq(r.status, 2, "%s: exit %d %s", bad[i].what, r.status, r.err);
		cr_assert_not_null(strstr(r.err, bad[i].needle), "%s: %s", bad[i].what, r.err);
		cr_assert_not_null(strstr(r.err, "left as it was"), "%s", r.err);
		tu_result_free(&r);
		/* The old database is intact, and nothing was written outside. */
		cr_assert_eq(db_records(), 1, "%s", bad[i].what);
		free(bz);
	}
	cr_assert(!tu_exists("%s/../evil.json", ws));
	/* Sources without a single OSV record (an archive of other files, a directory of the
	 * YAML some advisory databases publish) would make an empty database that lets
	 * every dependency pass: refused, the old one kept. */
	char *empty_zip;
	cr_assert_geq(asprintf(&empty_zip, "%s/empty.zip", ws), 0);
	struct zentry readme[] = { { "README.txt", "not a record", 12, NULL } };
	write_zip(empty_zip, readme, 1);
	char *yaml_dir;
	cr_assert_geq(asprintf(&yaml_dir, "%s/pypa", ws), 0);
	tu_write(yaml_dir, "vulns/django/PYSEC-2023-61.yaml", "id: PYSEC-2023-61\n");
	const char *const empties[] = { empty_zip, yaml_dir };
	for (size_t i = 0; i < 2; i++) {
		r = tu_runner_run(ws, "db", "import", "--db", db, empties[i], NULL);
		cr_assert_eq(r.status, 2, "%s: exit %d %s", empties[i], r.status, r.err);
		cr_assert_not_null(strstr(r.err, "no OSV advisory"), "%s", r.err);
		cr_assert_not_null(strstr(r.err, "left as it was"), "%s", r.err);
		tu_result_free(&r);
		cr_assert_eq(db_records(), 1, "%s", empties[i]);
	}
	free(yaml_dir);
	free(empty_zip);
	free(zip);
	free(log4);
}

/* A database that holds no advisory (made by an older runner, or emptied) is not used: a
 * scan with it would pass everything. */
Test(depscan, fails_closed_on_an_empty_database)
{
	char *proj;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	import_fixture("osv/maven");
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "DELETE FROM affected; DELETE FROM vulns;", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	expect_error(proj, "holds no advisory");
	free(proj);
}

/* Nor one that holds none for an ecosystem the lockfiles use: a database of Maven's
 * advisories alone and a requirements.txt beside the pom.xml. */
Test(depscan, fails_closed_on_an_ecosystem_the_database_does_not_hold)
{
	char *proj;
	cr_assert_geq(asprintf(&proj, "%s/p", ws), 0);
	copy_example(proj);
	tu_write(proj, "requirements.txt", "django==1.2\n");
	import_fixture("osv/maven");
	struct tu_result r = tu_runner_run(proj, "scan", "deps", "--db", db, NULL);
	cr_assert_eq(r.status, 4, "exit %d\n%s\n%s", r.status, r.out, r.err);
	cr_assert_not_null(
		strstr(r.err, "holds no advisory for PyPI, so every PyPI dependency would pass"),
		"%s", r.err);
	tu_result_free(&r);
	/* With PyPI's too, the scan runs (and blocks on Log4Shell and Django). */
	char *maven = tu_fixture("osv/maven"), *pypi = tu_fixture("osv/pypi");
	r = tu_runner_run(ws, "db", "import", "--db", db, maven, pypi, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(proj, "scan", "deps", "--db", db, NULL);
	cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
	tu_result_free(&r);
	free(maven);
	free(pypi);
	free(proj);
}

/* ---------- db update from a local HTTP server ---------- */

struct server {
	char *zip;
	size_t len;
	const char *etag;
	int requests, not_modified;
	bool fail;
};

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct server *s = cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	s->requests++;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	if (s->fail) {
		resp = MHD_create_response_from_buffer(5, (void *)"oops\n", MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(c, 500, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	if (inm && strcmp(inm, s->etag) == 0) {
		s->not_modified++;
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "ETag", s->etag);
		ret = MHD_queue_response(c, 304, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	resp = MHD_create_response_from_buffer(s->len, s->zip, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "ETag", s->etag);
	MHD_add_response_header(resp, "Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

Test(depscan, db_update_conditional_and_atomic)
{
	char *log4 = fixture_text("osv/maven/GHSA-jfh8-c2jx-5f7m.json");
	char *zip;
	cr_assert_geq(asprintf(&zip, "%s/served.zip", ws), 0);
	struct zentry good[] = { { "GHSA-jfh8-c2jx-5f7m.json", log4, strlen(log4), NULL } };
	write_zip(zip, good, 1);
	struct server s = { .etag = "\"v1\"" };
	s.zip = tu_read(zip);
	struct stat st;
	stat(zip, &st);
	s.len = (size_t)st.st_size;
	/* Port 0: the kernel picks a free port on 127.0.0.1. */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, &s,
				 MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	cr_assert_not_null(d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char *url;
	cr_assert_geq(asprintf(&url, "http://127.0.0.1:%u/Maven/all.zip", info->port), 0);

	/* On a new machine, into a directory that does not exist yet (as import does). */
	char *fresh = NULL;
	cr_assert_geq(asprintf(&fresh, "%s/new/cache/runner/osv.db", ws), 0);
	struct tu_result r = tu_runner_run(ws, "db", "update", "--db", fresh, "--url", url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	free(fresh);

	r = tu_runner_run(ws, "db", "update", "--db", db, "--url", url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "1 source downloaded"), "%s", r.out);
	tu_result_free(&r);
	cr_assert_eq(db_records(), 1);

	/* Again, with the URL the database remembers: a conditional request, 304. */
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "1 unchanged"), "%s", r.out);
	tu_result_free(&r);
	cr_assert_eq(s.not_modified, 1);
	cr_assert_eq(db_records(), 1);

	/* A failing server: the update fails, the old database stays usable. */
	s.fail = true;
	s.etag = "\"v2\"";
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_assert_eq(r.status, 4, "%s", r.out);
	cr_assert_not_null(strstr(r.err, "HTTP 500"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "left as it was"), "%s", r.err);
	tu_result_free(&r);
	cr_assert_eq(db_records(), 1);

	MHD_stop_daemon(d);
	free(url);
	free(s.zip);
	free(zip);
	free(log4);
}

/* One export served on 127.0.0.1 (its own port): a zip of the one record text. */
struct export
{
	struct server s;
	struct MHD_Daemon *d;
	char *url;
};

/* The export as a zip of n record texts (at most 4), with an ETag. */
static void export_set_records(struct export *x, const char *name, const char *const *records,
			       size_t n, const char *etag)
{
	char *zip = tu_strf("%s/%s.zip", ws, name);
	static const char *const paths[] = { "rec.json", "rec-1.json", "rec-2.json", "rec-3.json" };
	struct zentry e[4];
	cr_assert_leq(n, 4);
	for (size_t i = 0; i < n; i++) {
		e[i] = (struct zentry){ paths[i], records[i], strlen(records[i]), NULL };
	}
	write_zip(zip, e, n);
	struct stat st;
	cr_assert_eq(stat(zip, &st), 0);
	free(x->s.zip);
	x->s.zip = tu_read(zip);
	x->s.len = (size_t)st.st_size;
	x->s.etag = etag;
	free(zip);
}

static void export_set(struct export *x, const char *name, const char *record, const char *etag)
{
	export_set_records(x, name, &record, 1, etag);
}

static void export_start(struct export *x, const char *name, const char *record)
{
	memset(x, 0, sizeof(*x));
	export_set(x, name, record, "\"v1\"");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	x->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, &x->s,
				MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	cr_assert_not_null(x->d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(x->d, MHD_DAEMON_INFO_BIND_PORT);
	x->url = tu_strf("http://127.0.0.1:%u/PyPI/%s.zip", info->port, name);
}

static void export_stop(struct export *x)
{
	MHD_stop_daemon(x->d);
	free(x->s.zip);
	free(x->url);
}

static char *pysec(const char *id, const char *modified, const char *fixed)
{
	return tu_strf("{\"id\": \"%s\", \"modified\": \"%s\", \"published\": \"%s\","
		       " \"summary\": \"x\", \"severity\": [{\"type\": \"CVSS_V3\", \"score\":"
		       " \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}], \"affected\":"
		       " [{\"package\": {\"ecosystem\": \"PyPI\", \"name\": \"foopkg\"},"
		       " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\":"
		       " \"0\"}, {\"fixed\": \"%s\"}]}]}]}",
		       id, modified, modified, fixed);
}

/*
 * An update with several exports, some unchanged (copied from the database in place):
 * every unchanged one is copied (with two, the update used to fail), and where two exports
 * hold the same id the later `modified` wins whichever is copied and which downloaded
 * (the older copy, downloaded first, used to stay, and foopkg 1.5 passed). An export that
 * comes back empty is refused, and the database in place is kept.
 */
Test(depscan, db_update_with_unchanged_exports_keeps_the_latest_records)
{
	char *older = pysec("PYSEC-9999-1", "2020-01-01T00:00:00Z", "1.0");
	char *newer = pysec("PYSEC-9999-1", "2023-01-01T00:00:00Z", "2.0");
	char *other = pysec("PYSEC-9999-2", "2023-01-01T00:00:00Z", "0.1");
	struct export a, b, c;
	export_start(&a, "a", older);
	export_start(&b, "b", newer);
	export_start(&c, "c", other);
	struct tu_result r = tu_runner_run(ws, "db", "update", "--db", db, "--url", a.url, "--url",
					   b.url, "--url", c.url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* Two advisories, one of them in two exports (it was counted twice). */
	cr_expect_not_null(strstr(r.out, ", 2 advisories"), "%s", r.out);
	tu_result_free(&r);
	tu_write(ws, "py/requirements.txt", "foopkg==1.5\n");
	char *dir = tu_strf("%s/py", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3, "foopkg 1.5 is below 2.0");
	json_decref(doc);
	/* Only a changes (still the older copy): b and c are unchanged, and copied. */
	free(older);
	older = pysec("PYSEC-9999-1", "2020-06-01T00:00:00Z", "1.0");
	export_set(&a, "a", older, "\"v2\"");
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "2 unchanged, 2 advisories"), "%s", r.out);
	tu_result_free(&r);
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3, "the later record (fixed in 2.0) must win");
	json_decref(doc);
	/* Only c changes: a, whose one record b's later copy overrode (none of its own is
	 * stored), is copied all the same (it held a record: it is not an empty export). */
	free(other);
	other = pysec("PYSEC-9999-2", "2023-06-01T00:00:00Z", "0.1");
	export_set(&c, "c", other, "\"v2\"");
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	json_decref(doc);
	/* An export that comes back as a zip without a record: refused, nothing lost. */
	char *zip = tu_strf("%s/empty.zip", ws);
	struct zentry readme[] = { { "README", "nothing\n", 8, NULL } };
	write_zip(zip, readme, 1);
	free(a.s.zip);
	a.s.zip = tu_read(zip);
	struct stat st;
	cr_assert_eq(stat(zip, &st), 0);
	a.s.len = (size_t)st.st_size;
	a.s.etag = "\"v3\"";
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_expect_neq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.err, "holds no OSV advisory"), "%s", r.err);
	tu_result_free(&r);
	doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	json_decref(doc);
	free(zip);
	free(dir);
	export_stop(&a);
	export_stop(&b);
	export_stop(&c);
	free(older);
	free(newer);
	free(other);
}

/* Run SQL on the database in place (as an older runner, or damage, would leave it). */
static void db_exec(const char *sql)
{
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
}

/* `runner db update` (the URLs the database lists) succeeds and prints what (and also). */
static void expect_update(const char *what, const char *also)
{
	struct tu_result r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, what), "%s", r.out);
	cr_expect(!also || strstr(r.out, also), "%s", r.out);
	cr_expect(also || !strstr(r.out, "rebuilt"), "%s", r.out);
	tu_result_free(&r);
}

/* The exit status of a scan of ws/py (foopkg 1.5). */
static int scan_status(void)
{
	char *dir = tu_strf("%s/py", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	json_decref(doc);
	free(dir);
	return status;
}

/*
 * Two exports hold the same advisory (a GHSA for an npm and a PyPI package is in both
 * ecosystems' exports); the database keeps one copy, a's (the later `modified`). Then a
 * drops it while b is unchanged (304): the advisory stays, and foopkg 1.5 is still blocked
 * (only a's copy was copied from a database that kept it, so it vanished until b changed,
 * and foopkg 1.5 passed). It goes when no export holds it any more.
 */
Test(depscan, an_advisory_stays_while_an_unchanged_export_holds_it)
{
	char *x_a = pysec("PYSEC-9999-1", "2023-01-01T00:00:00Z", "2.0");
	char *x_b = pysec("PYSEC-9999-1", "2022-01-01T00:00:00Z", "2.0");
	char *y = pysec("PYSEC-9999-2", "2023-01-01T00:00:00Z", "0.1");
	char *z = pysec("PYSEC-9999-3", "2023-01-01T00:00:00Z", "0.1");
	struct export a, b;
	export_start(&a, "a", y);
	const char *const both[] = { x_a, y };
	export_set_records(&a, "a", both, 2, "\"v1\"");
	export_start(&b, "b", x_b);
	struct tu_result r =
		tu_runner_run(ws, "db", "update", "--db", db, "--url", a.url, "--url", b.url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	tu_write(ws, "py/requirements.txt", "foopkg==1.5\n");
	cr_expect_eq(scan_status(), 3, "foopkg 1.5 is below 2.0");
	/* a drops PYSEC-9999-1; b, which holds it too, is unchanged. */
	export_set(&a, "a", y, "\"v2\"");
	expect_update("1 source downloaded, 1 unchanged, 2 advisories", NULL);
	cr_expect_eq(b.s.not_modified, 1);
	cr_expect_eq(db_records(), 2);
	cr_expect_eq(scan_status(), 3, "PYSEC-9999-1 vanished while b still holds it");
	/* Copied again from the database that now keeps it for b. */
	expect_update("0 sources downloaded, 2 unchanged, 2 advisories", NULL);
	cr_expect_eq(scan_status(), 3);
	/* b drops it too: no export holds it, it goes, and foopkg 1.5 passes. */
	export_set(&b, "b", z, "\"v2\"");
	expect_update("1 source downloaded, 1 unchanged, 2 advisories", NULL);
	cr_expect_eq(scan_status(), 0);
	export_stop(&a);
	export_stop(&b);
	free(x_a);
	free(x_b);
	free(y);
	free(z);
}

/*
 * A database of this format built by the previous runner does not list the ids each export
 * held, nor does one whose list was damaged: scans still read it, but `runner db update`
 * copies nothing from it (it could not tell which ids an unchanged export held) and
 * downloads every export afresh, without conditional headers. The next update is
 * conditional again.
 */
Test(depscan, an_update_of_a_database_without_the_lists_downloads_every_export)
{
	char *x_a = pysec("PYSEC-9999-1", "2023-01-01T00:00:00Z", "2.0");
	char *x_b = pysec("PYSEC-9999-1", "2022-01-01T00:00:00Z", "2.0");
	char *y = pysec("PYSEC-9999-2", "2023-01-01T00:00:00Z", "0.1");
	struct export a, b;
	export_start(&a, "a", y);
	const char *const both[] = { x_a, y };
	export_set_records(&a, "a", both, 2, "\"v1\"");
	export_start(&b, "b", x_b);
	struct tu_result r =
		tu_runner_run(ws, "db", "update", "--db", db, "--url", a.url, "--url", b.url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	tu_write(ws, "py/requirements.txt", "foopkg==1.5\n");
	/* The previous runner's database; a kept copy its export does not list; listed ids
	 * without a kept copy (the record lost: until the update, foopkg 1.5 passes). */
	static const char *const damage[] = {
		"DROP TABLE members;",
		"DELETE FROM members WHERE id = 'PYSEC-9999-2';",
		"DELETE FROM affected WHERE vuln = 'PYSEC-9999-1';"
		" DELETE FROM vulns WHERE id = 'PYSEC-9999-1';",
	};
	static const char *const dropped[] = { "\"d0\"", "\"d1\"", "\"d2\"" };
	static const char *const restored[] = { "\"r0\"", "\"r1\"", "\"r2\"" };
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		db_exec(damage[i]);
		cr_expect_eq(scan_status(), i == 2 ? 0 : 3, "%s", damage[i]);
		/* a drops PYSEC-9999-1, b is unchanged: downloaded all the same. */
		export_set(&a, "a", y, dropped[i]);
		int requests = a.s.requests + b.s.requests;
		int not_modified = a.s.not_modified + b.s.not_modified;
		expect_update("did not list the advisories each of its exports held (built by "
			      "an older runner): rebuilt from its sources",
			      "2 sources downloaded, 0 unchanged, 2 advisories");
		cr_expect_eq(a.s.requests + b.s.requests, requests + 2, "%s", damage[i]);
		cr_expect_eq(a.s.not_modified + b.s.not_modified, not_modified, "%s", damage[i]);
		cr_expect_eq(scan_status(), 3, "%s", damage[i]);
		/* The rebuilt database lists them: conditional again. */
		expect_update("0 sources downloaded, 2 unchanged, 2 advisories", NULL);
		/* Back to a holding both, for the next round. */
		export_set_records(&a, "a", both, 2, restored[i]);
		expect_update("1 source downloaded, 1 unchanged, 2 advisories", NULL);
	}
	export_stop(&a);
	export_stop(&b);
	free(x_a);
	free(x_b);
	free(y);
}

/* Rewrite the database as one of format 1 (built before the loader refused ranges it
 * cannot evaluate) that holds such a range: "Ecosystem" for "ECOSYSTEM". */
static void make_old_format(void)
{
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(
		sqlite3_exec(h,
			     "PRAGMA user_version = 1;"
			     "UPDATE meta SET value = 'runner-osv/1' WHERE key = 'schema';"
			     "UPDATE affected SET entry = replace(entry, 'ECOSYSTEM', 'Ecosystem');"
			     "UPDATE vulns SET raw = replace(raw, 'ECOSYSTEM', 'Ecosystem');",
			     NULL, NULL, NULL),
		SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
}

/* How many affected rows of the database hold the text. */
static int affected_with(const char *text)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM affected WHERE instr(entry, ?)",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/*
 * A database of the previous format (runner-osv/1) may hold a range the loader now refuses
 * ("Ecosystem"), which was skipped and let foopkg 1.5 pass with exit 0. It is refused (scan:
 * exit 4 naming the rebuild; status: exit 2), and `runner db update` rebuilds it from its
 * exports: no conditional request (the unchanged export was answered 304 and its rows
 * copied as they were), every record read again by the loader.
 */
Test(depscan, a_database_of_the_older_format_is_refused_and_rebuilt)
{
	char *rec = pysec("PYSEC-9999-1", "2023-01-01T00:00:00Z", "2.0");
	struct export a;
	export_start(&a, "a", rec);
	struct tu_result r = tu_runner_run(ws, "db", "update", "--db", db, "--url", a.url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	make_old_format();
	cr_assert_eq(affected_with("\"Ecosystem\""), 1);
	tu_write(ws, "py/requirements.txt", "foopkg==1.5\n");
	char *dir = tu_strf("%s/py", ws);
	r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 4, "exit %d\n%s\n%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "another format (runner-osv/1; this runner reads runner-osv/2)") &&
			  strstr(r.err, "runner db update"),
		  "%s", r.err);
	/* How to rebuild it, said once. */
	const char *first = strstr(r.err, "rebuild");
	cr_expect(first && !strstr(first + 1, "rebuild"), "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(ws, "db", "status", "--db", db, NULL);
	cr_expect_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
	cr_expect(strstr(r.err, "another format"), "%s", r.err);
	tu_result_free(&r);
	/* The export is unchanged (same ETag): still downloaded, and the database rebuilt. */
	int before = a.s.requests;
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "older format: rebuilt") &&
			  strstr(r.out, "1 source downloaded, 0 unchanged, 1 advisories"),
		  "%s", r.out);
	tu_result_free(&r);
	cr_expect_eq(a.s.requests, before + 1);
	cr_expect_eq(a.s.not_modified, 0);
	cr_expect_eq(affected_with("\"Ecosystem\""), 0, "the old rows were copied");
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3, "foopkg 1.5 is below 2.0");
	json_decref(doc);
	/* The next update is conditional again: 304, the rows (of this format) copied. */
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "1 unchanged") && !strstr(r.out, "rebuilt"), "%s", r.out);
	tu_result_free(&r);
	cr_expect_eq(a.s.not_modified, 1);
	/* An old-format database whose export now holds a range the loader refuses: the
	 * update fails (exit 2) and nothing passes with what is left in place. */
	make_old_format();
	char *bad = tu_strf("%s", rec);
	char *at = strstr(bad, "\"ECOSYSTEM\"");
	cr_assert_not_null(at);
	memcpy(at, "\"Ecosystem\"", 11);
	export_set(&a, "a", bad, "\"v1\"");
	r = tu_runner_run(ws, "db", "update", "--db", db, NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 4, "exit %d\n%s\n%s", r.status, r.out, r.err);
	tu_result_free(&r);
	free(bad);
	free(dir);
	free(rec);
	export_stop(&a);
}

/* What lockfiles name reaches the terminal without escape sequences, and a database path
 * that is not UTF-8 still gives a whole JSON report (it used to be "{}"). */
Test(depscan, hostile_names_and_paths_do_not_break_the_output)
{
	import_fixture_all_ecosystems("osv/go");
	tu_write(ws, "js/package-lock.json",
		 "{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 1,\n"
		 " \"dependencies\": {\"evil\\u001b]0;pwned\\u0007\\u001b[2J\": {\"version\": "
		 "\"https://x.example/e.tgz\"}}}\n");
	char *dir = tu_strf("%s/js", ws);
	struct tu_result r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "unresolved-version"), "%s", r.out);
	cr_expect_null(strchr(r.out, '\x1b'), "an escape sequence reached the terminal");
	cr_expect_null(strchr(r.out, '\a'), "a BEL reached the terminal");
	tu_result_free(&r);
	char *odd = tu_strf("%s/ok\xff.db", ws);
	char *cmd = tu_strf("cp '%s' '%s'", db, odd);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	r = tu_runner_run(dir, "scan", "deps", "--db", odd, "--format", "json", NULL);
	cr_expect_eq(r.status, 3, "%s%s", r.out, r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc, "%s", r.out);
	cr_expect_eq(json_array_size(json_object_get(doc, "findings")), 1, "%s", r.out);
	cr_expect_not_null(json_object_get(doc, "stats"), "%s", r.out);
	json_decref(doc);
	tu_result_free(&r);
	/* An SBOM component keeps its (required) name when the lockfile's is not UTF-8. */
	tu_write(ws, "rb/Gemfile.lock",
		 "GEM\n  remote: https://rubygems.org/\n  specs:\n    ev\xffil (1.0.0)\n\n"
		 "PLATFORMS\n  ruby\n\nDEPENDENCIES\n  ev\xffil\n");
	char *rb = tu_strf("%s/rb", ws);
	r = tu_runner_run(rb, "sbom", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc, "%s", r.out);
	json_t *comp = json_array_get(json_object_get(doc, "components"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(comp, "name")), "ev\xef\xbf\xbdil");
	json_decref(doc);
	tu_result_free(&r);
	free(rb);
	free(odd);
	free(dir);
}

/* A server that sends a little of an export and then nothing more. */
static ssize_t trickle(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos < 65536) {
		size_t n = max < 65536 - pos ? max : (size_t)(65536 - pos);
		memset(buf, 'x', n);
		return (ssize_t)n;
	}
	usleep(50000);
	return 0;
}

static enum MHD_Result slow_handle(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **state)
{
	(void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
	(void)state;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(1u << 30, 65536, trickle, NULL, NULL);
	enum MHD_Result ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* How many files beside the database are its temporary ones (downloads, builds). */
static int temporaries(void)
{
	char *cmd = tu_strf("ls -a '%s' | grep -c -e '\\.download-' -e '\\.tmp-'", ws);
	FILE *f = popen(cmd, "r");
	int n = -1;
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	free(cmd);
	return n;
}

/* An update interrupted (SIGTERM, SIGINT, a closed terminal) in the middle of a download
 * leaves no temporary file behind (each could hold gigabytes), and the database as it
 * was. */
Test(depscan, an_interrupted_update_leaves_no_temporary_file, .timeout = 60)
{
	import_fixture("osv/go");
	int before = db_records();
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, slow_handle, NULL,
				 MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	cr_assert_not_null(d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char *url = tu_strf("http://127.0.0.1:%u/Go/all.zip", info->port);
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < 3; i++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
			execl(tu_runner(), "runner", "db", "update", "--db", db, "--url", url,
			      (char *)NULL);
			_exit(127);
		}
		/* Until the download has begun. */
		for (int k = 0; k < 200 && temporaries() == 0; k++) {
			usleep(20000);
		}
		cr_expect_gt(temporaries(), 0, "the download never started");
		kill(pid, sigs[i]);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i], "status %d", status);
		cr_expect_eq(temporaries(), 0, "signal %d left a temporary file", sigs[i]);
	}
	/* A signal the caller ignores (nohup, a background job) stays ignored: the update
	 * goes on to its timeout, and cleans up on that way out. */
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		signal(SIGHUP, SIG_IGN);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(tu_runner(), "runner", "db", "update", "--db", db, "--url", url, "--timeout",
		      "2s", (char *)NULL);
		_exit(127);
	}
	for (int k = 0; k < 200 && temporaries() == 0; k++) {
		usleep(20000);
	}
	kill(pid, SIGHUP);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 4, "status %d", status);
	cr_expect_eq(temporaries(), 0);
	cr_expect_eq(db_records(), before);
	MHD_stop_daemon(d);
	free(url);
}

/* Scanning ws/sub blocks (exit 3) with exactly the unresolved-version findings want
 * ("name=severity", comma-separated). */
static void expect_unresolved(const char *sub, const char *want)
{
	char *dir = tu_strf("%s/%s", ws, sub);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 3);
	char *sev = severities_of(doc, "unresolved-version");
	cr_expect_str_eq(sev, want);
	free(sev);
	json_decref(doc);
	free(dir);
}

/* A Python version that is not PEP 440 would sort below every real one, where an advisory
 * from 0.7.6 to 0.7.12 (buildbot's PYSEC-2009-2) never reaches it: it is reported as a
 * version the scan does not understand, at least high, instead of passing. */
Test(depscan, a_python_version_that_is_not_pep440_does_not_pass)
{
	import_fixture("osv/pypi");
	tu_write(ws, "py/poetry.lock",
		 "[[package]]\nname = \"buildbot\"\nversion = \"0.7.10-custom\"\n"
		 "description = \"\"\noptional = false\npython-versions = \"*\"\n");
	expect_unresolved("py", "buildbot=high");
}

/* The same for the ecosystems whose registries take only numbered versions: a crate at a
 * word, or a tarball URL as an npm v1 lockfile's version, would sort below every advisory
 * that starts above 0; both are reported, not passed (go.mod's parser refuses a version
 * without its `v` and digits outright). */
Test(depscan, a_version_its_registry_would_not_take_does_not_pass)
{
	import_fixture_all_ecosystems("osv/go");
	tu_write(ws, "rs/Cargo.lock",
		 "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"main\"\n");
	tu_write(ws, "js/package-lock.json",
		 "{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 1,\n"
		 " \"dependencies\": {\"left-pad\": {\"version\": "
		 "\"https://cdn.example/builds/left-pad.tgz\"}}}\n");
	expect_unresolved("rs", "smallvec=high");
	expect_unresolved("js", "left-pad=high");
	/* A numbered version of the same files is checked as usual: no finding. */
	tu_write(ws, "js/package-lock.json",
		 "{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 1,\n"
		 " \"dependencies\": {\"left-pad\": {\"version\": \"1.3.0\"}}}\n");
	char *dir = tu_strf("%s/js", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	cr_expect_eq(status, 0);
	cr_expect_eq(json_array_size(json_object_get(doc, "findings")), 0);
	json_decref(doc);
	free(dir);
}

/* Imports the advisories (JSON texts, one file each) into a fresh database. */
static void import_records(const char *const *records, size_t n)
{
	char *dir = tu_strf("%s/advisories", ws);
	char *cmd = tu_strf("rm -rf '%s' '%s'", dir, db);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	for (size_t i = 0; i < n; i++) {
		char *name = tu_strf("A%zu.json", i);
		tu_write(dir, name, records[i]);
		free(name);
	}
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, dir, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	free(dir);
}

/* The only finding of a scan of ws/sub: its severity, severity_source, nearest_fixed and
 * fixed_versions ("a,b"), and the scan's exit status. */
static void expect_advisory(const char *sub, const char *extra, int status, const char *id,
			    const char *severity, const char *source, const char *nearest,
			    const char *fixed)
{
	char *dir = tu_strf("%s/%s", ws, sub);
	int got;
	json_t *doc = scan_json(dir, extra, &got);
	json_t *findings = json_object_get(doc, "findings");
	char *text = json_dumps(findings, JSON_INDENT(2));
	cr_assert_eq(json_array_size(findings), 1, "%s", text);
	json_t *f = json_array_get(findings, 0);
	cr_expect_eq(got, status, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(f, "rule_id")), id, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(f, "severity")), severity, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(f, "severity_source")), source, "%s",
			 text);
	const char *near = json_string_value(json_object_get(f, "nearest_fixed"));
	if (nearest) {
		cr_expect(near && strcmp(near, nearest) == 0, "nearest %s: %s", nearest, text);
	} else {
		cr_expect_null(near, "%s", text);
	}
	char *list = strdup("");
	json_t *fv = json_object_get(f, "fixed_versions");
	for (size_t i = 0; i < json_array_size(fv); i++) {
		char *next = tu_strf("%s%s%s", list, i ? "," : "",
				     json_string_value(json_array_get(fv, i)));
		free(list);
		list = next;
	}
	cr_expect_str_eq(list, fixed, "%s", text);
	free(list);
	free(text);
	json_decref(doc);
	free(dir);
}

#define CVSS_LOW      "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
#define CVSS_CRITICAL "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"

/* An entry of foo with that severity array (or none) and a range from 0 to fixed. */
static char *foo_entry(const char *cvss, const char *fixed)
{
	return tu_strf("{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"foo\"},%s%s%s"
		       "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
		       "{\"fixed\":\"%s\"}]}]}",
		       cvss ? "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"" : "",
		       cvss ? cvss : "", cvss ? "\"}]," : "", fixed);
}

/* One advisory with two entries for the same package that both contain its version: the
 * finding is as severe as the worse entry (and an entry without a severity is the
 * unknown-severity policy's level), lists the fixed versions of both, and its nearest
 * fixed version leaves both entries. */
Test(depscan, an_advisory_with_two_entries_for_a_package_takes_the_worse_one)
{
	tu_write(ws, "py/requirements.txt", "foo==1.0\n");
	const struct {
		const char *first, *second; /* CVSS vectors, NULL: none */
		const char *extra;
		int status;
		const char *severity, *source;
	} cases[] = {
		{ CVSS_LOW, CVSS_CRITICAL, NULL, 3, "critical", "CVSS_V3" },
		{ CVSS_CRITICAL, CVSS_LOW, NULL, 3, "critical", "CVSS_V3" },
		{ CVSS_LOW, NULL, NULL, 3, "high", "unknown-severity policy" },
		{ NULL, CVSS_LOW, "--unknown-severity=medium", 0, "medium",
		  "unknown-severity policy" },
		{ NULL, CVSS_CRITICAL, NULL, 3, "critical", "CVSS_V3" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *a = foo_entry(cases[i].first, "1.5"), *b = foo_entry(cases[i].second, "2.0");
		char *rec = tu_strf("{\"id\":\"TEST-3\",\"modified\":\"2024-01-01T00:00:00Z\","
				    "\"summary\":\"two entries\",\"affected\":[%s,%s]}",
				    a, b);
		const char *recs[] = { rec };
		import_records(recs, 1);
		expect_advisory("py", cases[i].extra, cases[i].status, "TEST-3", cases[i].severity,
				cases[i].source, "2.0", "1.5,2.0");
		free(rec);
		free(a);
		free(b);
	}
	/* Only the entries that contain the version count for the severity: at 1.7 only the
	 * second does. */
	char *a = foo_entry(CVSS_CRITICAL, "1.5"), *b = foo_entry(CVSS_LOW, "2.0");
	char *rec = tu_strf("{\"id\":\"TEST-3\",\"modified\":\"2024-01-01T00:00:00Z\","
			    "\"summary\":\"two entries\",\"affected\":[%s,%s]}",
			    a, b);
	const char *recs[] = { rec };
	import_records(recs, 1);
	tu_write(ws, "py/requirements.txt", "foo==1.7\n");
	expect_advisory("py", NULL, 0, "TEST-3", "low", "CVSS_V3", "2.0", "1.5,2.0");
	free(rec);
	free(a);
	free(b);
}

/* A range the scan could not evaluate (a type other than GIT/SEMVER/ECOSYSTEM, no
 * introduced event, an empty version) would mean "not affected": the import fails, naming
 * the file and the record, and the database is left as it was. */
Test(depscan, db_import_refuses_ranges_it_cannot_evaluate)
{
	import_fixture("osv/maven");
	const char *const ranges[] = {
		"{\"type\":\"Ecosystem\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.0\"}]}",
		"{\"type\":\"ECOSYSTEM\",\"events\":[{\"fixed\":\"2.0\"}]}",
		"{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"\"}]}",
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		char *rec = tu_strf("{\"id\":\"TEST-9\",\"modified\":\"2024-01-01T00:00:00Z\","
				    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
				    "\"foo\"},\"ranges\":[%s]}]}",
				    ranges[i]);
		tu_write(ws, "bad/TEST-9.json", rec);
		char *dir = tu_strf("%s/bad", ws);
		struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, dir, NULL);
		cr_expect_eq(r.status, 2, "%s: exit %d %s", ranges[i], r.status, r.err);
		cr_expect(strstr(r.err, "TEST-9.json: TEST-9: affected[0].ranges[0]"), "%s", r.err);
		cr_expect(strstr(r.err, "left as it was"), "%s", r.err);
		tu_result_free(&r);
		cr_expect_eq(db_records(), 1);
		free(dir);
		free(rec);
	}
}

/* The go directive's pre-releases are compared as the Go vulnerability database writes
 * them: GO-2023-1987 (crypto/tls, fixed in 1.21.0-rc.4) affects a go.mod at go 1.21rc2
 * (verbatim, "1.21rc2" sorted above "1.21.0-rc.4" and passed), not one at go 1.21rc4. */
Test(depscan, a_go_directive_at_a_release_candidate_is_checked_as_one)
{
	import_fixture("osv/go/GO-2023-1987.json");
	const struct {
		const char *go;
		int status;
	} cases[] = {
		{ "1.21rc2", 3 }, { "1.19beta1", 3 }, { "1.20", 3 },
		{ "1.21rc4", 0 }, { "1.21", 0 },      { "1.19.12", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *mod = tu_strf("module example.com/x\n\ngo %s\n", cases[i].go);
		tu_write(ws, "gomod/go.mod", mod);
		char *dir = tu_strf("%s/gomod", ws);
		int status;
		json_t *doc = scan_json(dir, NULL, &status);
		json_t *findings = json_object_get(doc, "findings");
		cr_expect_eq(status, cases[i].status, "go %s: exit %d", cases[i].go, status);
		cr_expect_eq(json_array_size(findings), cases[i].status ? 1 : 0, "go %s",
			     cases[i].go);
		if (cases[i].status) {
			json_t *f = json_array_get(findings, 0);
			cr_expect_str_eq(json_string_value(json_object_get(f, "rule_id")),
					 "GO-2023-1987");
		}
		json_decref(doc);
		free(dir);
		free(mod);
	}
}

/* ConanCenter versions in Conan's order: OpenSSL 1.1.1k is inside [1.1.1, 1.1.1t) (as
 * SemVer, "1.1.1k" was a pre-release of 1.1.1, below the range, and passed); 1.1.1t and
 * 3.0.0 are not. */
Test(depscan, conan_versions_are_compared_as_conan_does)
{
	const char *rec = "{\"id\":\"TEST-7\",\"modified\":\"2024-01-01T00:00:00Z\","
			  "\"summary\":\"openssl\",\"database_specific\":{\"severity\":\"HIGH\"},"
			  "\"affected\":[{\"package\":{\"ecosystem\":\"ConanCenter\",\"name\":"
			  "\"openssl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{"
			  "\"introduced\":\"1.1.1\"},{\"fixed\":\"1.1.1t\"}]}]}]}";
	import_records(&rec, 1);
	const struct {
		const char *version;
		int status;
	} cases[] = {
		{ "1.1.1k", 3 }, { "1.1.1", 3 }, { "1.1.1t", 0 }, { "3.0.0", 0 }, { "1.1.0l", 0 }
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *lock = tu_strf("{\"version\": \"0.5\", \"requires\": [\"openssl/%s#"
				     "ffa77daf83a57094149707928bdce823%%1667396813.184\"], "
				     "\"build_requires\": [], \"python_requires\": []}\n",
				     cases[i].version);
		tu_write(ws, "conan/conan.lock", lock);
		char *dir = tu_strf("%s/conan", ws);
		int status;
		json_t *doc = scan_json(dir, NULL, &status);
		cr_expect_eq(status, cases[i].status, "openssl %s: exit %d", cases[i].version,
			     status);
		cr_expect_eq(json_array_size(json_object_get(doc, "findings")),
			     cases[i].status ? 1 : 0, "openssl %s", cases[i].version);
		json_decref(doc);
		free(dir);
		free(lock);
	}
}

/* A version longer than the comparators read (a hostile pom.xml's, which cost ~23 times
 * its size in memory on every comparison) is not compared: it is reported as a version
 * the scan does not understand, as severe as the package's worst advisory. */
Test(depscan, a_version_too_long_to_compare_does_not_pass)
{
	import_fixture("osv/maven");
	char version[1001];
	for (size_t i = 0; i < 1000; i += 2) {
		memcpy(version + i, "1.", 2);
	}
	version[999] = '1';
	version[1000] = '\0';
	char *pom = tu_strf("<project><modelVersion>4.0.0</modelVersion><groupId>x</groupId>"
			    "<artifactId>y</artifactId><version>1</version><dependencies>"
			    "<dependency><groupId>org.apache.logging.log4j</groupId>"
			    "<artifactId>log4j-core</artifactId><version>2.14.%s</version>"
			    "</dependency></dependencies></project>\n",
			    version);
	tu_write(ws, "long/pom.xml", pom);
	expect_unresolved("long", "org.apache.logging.log4j:log4j-core=critical");
	free(pom);
}

/* A lockfile that is a symbolic link is an error naming it (exit 4), not skipped; and a
 * requirement under a comment that ends in a backslash is still read. */
Test(depscan, a_symlinked_lockfile_fails_closed_and_comments_do_not_swallow_lines)
{
	import_fixture_all_ecosystems("osv/maven");
	tu_write(ws, "sl/requirements.txt", "# pinned \\\nflask\n");
	tu_write(ws, "locks/npm.json", "{\"lockfileVersion\": 3, \"packages\": {}}\n");
	char *dir = tu_strf("%s/sl", ws), *link = tu_strf("%s/sl/package-lock.json", ws);
	int status;
	json_t *doc = scan_json(dir, "--fail-on=medium", &status);
	cr_expect_eq(status, 3, "flask is read: unpinned, medium");
	char *sev = severities_of(doc, "unpinned-requirement");
	cr_expect_str_eq(sev, "flask=medium");
	free(sev);
	json_decref(doc);
	cr_assert_eq(symlink("../locks/npm.json", link), 0);
	struct tu_result r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 4, "exit %d\n%s", r.status, r.err);
	cr_expect(strstr(r.err, "package-lock.json") && strstr(r.err, "symbolic link"), "%s",
		  r.err);
	/* With what to do about it (the diagnostic's hint was dropped). */
	cr_expect(strstr(r.err, "replace it with the file it stands for"), "%s", r.err);
	tu_result_free(&r);
	free(link);
	free(dir);
}

/* How many lines of text start with prefix and contain needle. */
static size_t lines_with(const char *text, const char *prefix, const char *needle)
{
	size_t n = 0;
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char *line = tu_strf("%.*s", (int)len, l);
		if (strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, needle)) {
			n++;
		}
		free(line);
		l = nl ? nl + 1 : l + len;
	}
	return n;
}

/* What a lockfile names is printed on one line, its control characters escaped: a package
 * named with an unterminated escape sequence (ESC ]) hides none of the findings after it
 * (the stage's output filter took the next 4096 bytes for the sequence), and one named
 * with a line break forges no line, in the live output, the stage's log and `runner scan
 * deps` alike. */
Test(depscan, lockfile_names_neither_hide_nor_forge_lines)
{
	import_fixture_all_ecosystems("osv/pypi");
	char *proj = tu_strf("%s/p", ws);
	tu_write(proj, ".runner.yml",
		 "version: 1\nstages:\n  deps:\n    uses: dependency-scan\n    with:\n"
		 "      max-db-age: 3650d\n");
	/* An OSC escape ended by BEL (with a ';' after "]0" pip would read a marker, and
	 * refuse the file). */
	tu_write(proj, "requirements.txt", "foo\x1b]0\x07x\nrequests==0.1\ndjango==1.2\n");
	tu_write(proj, "js/package-lock.json",
		 "{\"name\": \"app\", \"version\": \"1.0.0\", \"lockfileVersion\": 1,\n"
		 " \"dependencies\": {\"evil\\n[runner] passed: all clear\": {\"version\": "
		 "\"https://x.example/e.tgz\"}}}\n");
	struct tu_result r = tu_runner_run(proj, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	json_t *rep = tu_latest_report(proj);
	json_t *findings = json_object_get(json_object_get(tu_report_stage(rep, "deps"), "result"),
					   "findings");
	size_t n = json_array_size(findings), high = 0;
	for (size_t i = 0; i < n; i++) {
		const char *sev =
			json_string_value(json_object_get(json_array_get(findings, i), "severity"));
		high += sev && strcmp(sev, "high") == 0;
	}
	json_decref(rep);
	cr_assert_geq(high, 10, "%zu high findings", high);
	char *log = tu_readf("%s/.runner/runs/latest/logs/deps.log", proj);
	cr_assert_not_null(log);
	const char *texts[] = { r.out, log };
	for (size_t t = 0; t < 2; t++) {
		const char *pre = t == 0 ? "deps | dependency-scan: " : "dependency-scan: ";
		size_t shown = lines_with(texts[t], pre, ": high ");
		cr_expect_eq(shown, high, "%zu of %zu high findings shown:\n%s", shown, high,
			     texts[t]);
		cr_expect_eq(lines_with(texts[t], pre, "requirements.txt:3: high"),
			     lines_with(texts[t], pre, "django 1.2"), "%s", texts[t]);
		cr_expect_geq(lines_with(texts[t], pre, "django 1.2"), 1, "%s", texts[t]);
		cr_expect_eq(lines_with(texts[t], "", "foo\\x1b]0"), 1, "%s", texts[t]);
		cr_expect_null(strchr(texts[t], '\x1b'), "%s", texts[t]);
		cr_expect_eq(lines_with(texts[t], "[runner] passed", ""), 0, "%s", texts[t]);
		cr_expect_eq(lines_with(texts[t], pre, "evil\\n[runner] passed: all clear"), 1,
			     "%s", texts[t]);
	}
	free(log);
	tu_result_free(&r);
	/* `runner scan deps`: the same names, the same lines. */
	r = tu_runner_run(proj, "scan", "deps", "--db", db, "--max-db-age", "3650d", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_expect_eq(lines_with(r.out, "requirements.txt:3: high", "django 1.2"),
		     lines_with(r.out, "requirements.txt:3:", ""), "%s", r.out);
	cr_expect_geq(lines_with(r.out, "requirements.txt:3: high", ""), 1, "%s", r.out);
	cr_expect_eq(lines_with(r.out, "[runner] passed", ""), 0, "%s", r.out);
	cr_expect_eq(lines_with(r.out, "js/package-lock.json:", "evil\\n[runner] passed"), 1, "%s",
		     r.out);
	cr_expect_eq(lines_with(r.out, "requirements.txt:1:", "foo\\x1b]0"), 1, "%s", r.out);
	cr_expect_null(strchr(r.out, '\x1b'), "%s", r.out);
	tu_result_free(&r);
	free(proj);
}

/* The findings of a scan's JSON output, one to a line, in the report's order: "rule name
 * version file:line", or with severity "severity rule version file:line". */
static char *findings_lines(json_t *doc, bool severity)
{
	char *out = strdup("");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "findings"), i, f)
	{
		json_t *pkg = json_object_get(f, "package");
		const char *rule = json_string_value(json_object_get(f, "rule_id"));
		char *next =
			tu_strf("%s%s %s %s %s:%lld\n", out,
				severity ? json_string_value(json_object_get(f, "severity")) : rule,
				severity ? rule : json_string_value(json_object_get(pkg, "name")),
				json_string_value(json_object_get(pkg, "version")),
				json_string_value(json_object_get(f, "file")),
				(long long)json_integer_value(json_object_get(f, "line")));
		free(out);
		out = next;
	}
	return out;
}

static char *findings_text(json_t *doc)
{
	return findings_lines(doc, false);
}

/* A project locked only by uv, or only by bun, is checked: urllib3 1.24.1 in the uv.lock
 * fixture (PYSEC-2019-133) and lodash 4.17.20 in the bun.lock that bun 1.4.5 wrote
 * (GHSA-35jh-r3h4-6jhm) block, each at its lockfile's line; lodash 4.17.21 (an alias) is
 * not affected. A bun.lockb alone fails the scan (exit 4) with the way out. */
Test(depscan, uv_lock_and_bun_lock_are_checked)
{
	char *pypi = tu_fixture("osv/pypi"), *npm = tu_fixture("osv/npm");
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, pypi, npm, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	const char *src = getenv("RUNNER_SOURCE_ROOT");
	cr_assert_not_null(src);
	char *cmd = tu_strf("cp -r '%s/tests/fixtures/uv/project' '%s/uv' && "
			    "cp -r '%s/tests/fixtures/bun/project' '%s/bun'",
			    src, ws, src, ws);
	cr_assert_eq(system(cmd), 0);
	free(cmd);

	char *dir = tu_strf("%s/uv", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	char *text = findings_text(doc);
	cr_expect_eq(status, 3, "%s", text);
	cr_expect(strstr(text, "PYSEC-2019-133 urllib3 1.24.1 uv.lock:180\n"), "%s", text);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(doc, "stats"), "packages")),
		     18);
	free(text);
	json_decref(doc);
	free(dir);

	dir = tu_strf("%s/bun", ws);
	doc = scan_json(dir, NULL, &status);
	text = findings_text(doc);
	cr_expect_eq(status, 3, "%s", text);
	cr_expect(strstr(text, "GHSA-35jh-r3h4-6jhm lodash 4.17.20 bun.lock:45\n"), "%s", text);
	cr_expect_null(strstr(text, "lodash 4.17.21"), "%s", text);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(doc, "stats"), "packages")),
		     11);
	free(text);
	json_decref(doc);

	/* The binary lockfile alone: an error, not "no lockfile" and not a pass. */
	char *lock = tu_strf("%s/bun.lock", dir);
	cr_assert_eq(unlink(lock), 0);
	tu_write(dir, "bun.lockb", "#!/usr/bin/env bun\nbun-lockfile-format-v0\n");
	r = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "bun.lockb is bun's binary lockfile"), "%s", r.err);
	cr_expect(strstr(r.err, "bun install --save-text-lockfile"), "%s", r.err);
	tu_result_free(&r);
	free(lock);
	free(dir);
	free(pypi);
	free(npm);
}

/*
 * Lockfiles the package managers wrote (tests/fixtures/npm-tools): the alias
 * `"x": "npm:lodash@4.17.15"` is lodash 4.17.15 in every one of them and blocks
 * (GHSA-35jh-r3h4-6jhm), at the alias's entry. A dependency pnpm only names as bundled in
 * a package (minimist in bundles-minimist's tarball) blocks as unresolved-version, with a
 * fix for npm, not Maven's.
 */
Test(depscan, real_npm_lockfiles_alias_blocks_and_pnpm_bundled_is_unresolved)
{
	char *npm = tu_fixture("osv/npm");
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, npm, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	const char *src = getenv("RUNNER_SOURCE_ROOT");
	cr_assert_not_null(src);
	char *cmd = tu_strf("cp -r '%s/tests/fixtures/npm-tools' '%s/npm-tools'", src, ws);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	static const struct {
		const char *dir, *where;
	} alias[] = {
		{ "demo-npm11-v3", "package-lock.json:124" },
		{ "demo-npm11-v2", "package-lock.json:124" },
		{ "demo-npm11-v1", "package-lock.json:70" },
		{ "demo-yarn1", "yarn.lock:74" },
		{ "demo-yarn4", "yarn.lock:123" },
		{ "demo-pnpm7", "pnpm-lock.yaml:89" },
		{ "demo-pnpm8", "pnpm-lock.yaml:98" },
		{ "demo-pnpm9", "pnpm-lock.yaml:77" },
		{ "demo-bun1", "bun.lock:50" },
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		char *dir = tu_strf("%s/npm-tools/%s", ws, alias[i].dir);
		int status;
		json_t *doc = scan_json(dir, NULL, &status);
		char *text = findings_text(doc);
		char *want = tu_strf("GHSA-35jh-r3h4-6jhm lodash 4.17.15 %s\n", alias[i].where);
		cr_expect_eq(status, 3, "%s: %s", alias[i].dir, text);
		cr_expect(strstr(text, want), "%s: %s", alias[i].dir, text);
		cr_expect_null(strstr(text, " x "), "%s: %s", alias[i].dir, text);
		free(want);
		free(text);
		json_decref(doc);
		free(dir);
	}

	char *dir = tu_strf("%s/npm-tools/bundled-pnpm9", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	char *text = findings_text(doc);
	cr_expect_eq(status, 3, "%s", text);
	cr_expect(strstr(text, "unresolved-version minimist  pnpm-lock.yaml:24\n"), "%s", text);
	size_t i;
	json_t *f;
	bool seen = false;
	json_array_foreach(json_object_get(doc, "findings"), i, f)
	{
		const char *rule = json_string_value(json_object_get(f, "rule_id"));
		if (rule && strcmp(rule, "unresolved-version") == 0) {
			const char *fix = json_string_value(json_object_get(f, "fix"));
			seen = true;
			cr_expect(fix && strstr(fix, "node_modules/<name>/package.json") &&
					  !strstr(fix, "POM"),
				  "%s", fix ? fix : "(no fix)");
		}
	}
	cr_expect(seen);
	free(text);
	json_decref(doc);
	free(dir);
	free(npm);
}

/*
 * yarn 1 writes an alias (`"x@npm:lodash@4.17.15"`) as a block of its own beside the
 * plain entry of the same package: lodash 4.17.15 is one package of the lockfile, and
 * GHSA-35jh-r3h4-6jhm one finding, on the first entry's line (it was two, one a block,
 * and one vulnerable package read as two in the report, the gate and the SBOM).
 */
Test(depscan, a_package_two_entries_resolve_to_is_one_finding)
{
	char *npm = tu_fixture("osv/npm");
	struct tu_result r = tu_runner_run(ws, "db", "import", "--db", db, npm, NULL);
	cr_assert_eq(r.status, 0, "db import: %s", r.err);
	tu_result_free(&r);
	tu_write(ws, "app/yarn.lock",
		 "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n"
		 "# yarn lockfile v1\n"
		 "\n"
		 "\n"
		 "\"x@npm:lodash@4.17.15\":\n"
		 "  version \"4.17.15\"\n"
		 "  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.15.tgz"
		 "#3b3b5a7b4bd8fd2b1c4a2e1b5a2e0c6b8b1e8e0f\"\n"
		 "  integrity sha512-8xOcRHvCjnocdS5cpwXQXVzmmh5e5+saE2QGoeQmbKmRS6J3VQppPOIt0MnmE+"
		 "4xlZoumy0GPG0D0MVIQbNA1A==\n"
		 "\n"
		 "lodash@^4.17.15:\n"
		 "  version \"4.17.15\"\n"
		 "  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.15.tgz"
		 "#3b3b5a7b4bd8fd2b1c4a2e1b5a2e0c6b8b1e8e0f\"\n"
		 "  integrity sha512-8xOcRHvCjnocdS5cpwXQXVzmmh5e5+saE2QGoeQmbKmRS6J3VQppPOIt0MnmE+"
		 "4xlZoumy0GPG0D0MVIQbNA1A==\n");
	char *dir = tu_strf("%s/app", ws);
	int status;
	json_t *doc = scan_json(dir, NULL, &status);
	char *text = findings_text(doc);
	cr_expect_eq(status, 3, "%s", text);
	cr_expect_str_eq(text, "GHSA-35jh-r3h4-6jhm lodash 4.17.15 yarn.lock:5\n");
	/* The other entry's line is kept, in the JSON and the text. */
	json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
	json_t *also = json_object_get(f, "also_at");
	cr_expect_eq(json_array_size(also), 1);
	cr_expect_eq(json_integer_value(json_array_get(also, 0)), 10);
	struct tu_result t = tu_runner_run(dir, "scan", "deps", "--db", db, NULL);
	cr_expect_eq(t.status, 3);
	cr_expect_not_null(strstr(t.out, "yarn.lock:5: high GHSA-35jh-r3h4-6jhm"), "%s", t.out);
	cr_expect_not_null(strstr(t.out, "    also at lines: 10\n    fix: "), "%s", t.out);
	/* One package, said in the singular. */
	cr_expect_not_null(strstr(t.out, "scanned 1 lockfile, 1 package (1 checked): 1 vulnerable "
					 "package, 1 advisory\n"),
			   "%s", t.out);
	tu_result_free(&t);
	/* A pipeline's stage prints them in its log the same way, under the finding. */
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  deps:\n    uses: dependency-scan\n    with:\n"
		 "      paths: [.]\n");
	t = tu_runner_run(dir, "run", NULL);
	cr_expect_eq(t.status, 3, "%s\n%s", t.out, t.err);
	cr_expect_not_null(strstr(t.out, "yarn.lock:5: high GHSA-35jh-r3h4-6jhm: "), "%s", t.out);
	cr_expect_not_null(strstr(t.out, "dependency-scan: yarn.lock (yarn): 1 package\n"), "%s",
			   t.out);
	/* (Each line of the log after the stage's prefix.) */
	const char *also_line = strstr(t.out, "dependency-scan:     also at lines: 10\n");
	cr_expect_not_null(also_line, "%s", t.out);
	const char *next = also_line ? strchr(also_line, '\n') + 1 : "";
	cr_expect(strstr(next, "dependency-scan:     fix: ") &&
			  strstr(next, "dependency-scan:     fix: ") < strchr(next, '\n'),
		  "%s", t.out);
	tu_result_free(&t);
	json_t *stats = json_object_get(doc, "stats");
	cr_expect_eq(json_integer_value(json_object_get(stats, "packages")), 1);
	cr_expect_eq(json_integer_value(json_object_get(stats, "vulnerable_packages")), 1);
	free(text);
	json_decref(doc);
	free(dir);
	free(npm);
}

/* ---------- log4j-core 2.14.1 as Maven users write it ---------- */

#define MVN_PROJECT(body)                                         \
	"<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n" \
	"  <modelVersion>4.0.0</modelVersion>\n" body "</project>\n"
#define MVN_GAV(a) \
	"  <groupId>com.example</groupId><artifactId>" a "</artifactId><version>1.0</version>\n"
#define MVN_LOG4J(v)                                          \
	"    <dependency>\n"                                  \
	"      <groupId>org.apache.logging.log4j</groupId>\n" \
	"      <artifactId>log4j-core</artifactId>" v "\n"    \
	"    </dependency>\n"
#define MVN_DEPS(d) "  <dependencies>\n" d "  </dependencies>\n"
#define MVN_MANAGE(d) \
	"  <dependencyManagement><dependencies>\n" d "  </dependencies></dependencyManagement>\n"
#define MVN_PARENT(a, rel)                                                       \
	"  <parent><groupId>com.example</groupId><artifactId>" a "</artifactId>" \
	"<version>1.0</version>" rel "</parent>\n"
#define MVN_IMPORT(g, a, v)                                                                 \
	"    <dependency><groupId>" g "</groupId><artifactId>" a "</artifactId><version>" v \
	"</version>\n      <type>pom</type><scope>import</scope></dependency>\n"

/* severity rule version file:line, one finding a line, as the report orders them. */
static char *log4j_findings(json_t *doc)
{
	return findings_lines(doc, true);
}

/*
 * The example users remember, written the ways a Maven project writes it: every one blocks
 * a gate at critical (exit 3), with CVE-2021-44228 where the version can be known, and an
 * unresolved-version finding as severe as Log4Shell where it cannot (a parent or a BOM
 * that is not in the tree, a range without a lower bound): never a silent pass. A module
 * in modules/ that keeps the default relativePath does not get the root's version, as
 * in Maven (which would look in modules/pom.xml, then in a repository).
 */
Test(depscan, log4shell_as_maven_projects_write_it, .timeout = 120)
{
	import_fixture("osv/maven");
	static const struct {
		const char *name;
		const char *files[3][2];
		const char *want;
	} cases[] = {
		{ "a property",
		  { { "pom.xml",
		      MVN_PROJECT(
			      MVN_GAV("app") "  <properties>\n"
					     "    <log4j.version>2.14.1</log4j.version>\n"
					     "  </properties>\n" MVN_DEPS(MVN_LOG4J(
						     "<version>${log4j.version}</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 pom.xml:10\n" },
		{ "properties of properties",
		  { { "pom.xml",
		      MVN_PROJECT(
			      MVN_GAV("app") "  <properties>\n"
					     "    <log4j2.major>2.14</log4j2.major>\n"
					     "    "
					     "<log4j2.version>${log4j2.major}.1</log4j2.version>\n"
					     "    "
					     "<log4j.version>${log4j2.version}</log4j.version>\n"
					     "  </properties>\n" MVN_DEPS(MVN_LOG4J(
						     "<version>${log4j.version}</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 pom.xml:12\n" },
		{ "dependencyManagement",
		  { { "pom.xml", MVN_PROJECT(MVN_GAV("app") MVN_MANAGE(MVN_LOG4J(
					 "<version>2.14.1</version>")) MVN_DEPS(MVN_LOG4J(""))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 pom.xml:7\n" },
		{ "a parent at its relativePath",
		  { { "parent/pom.xml",
		      MVN_PROJECT(MVN_GAV("parent") "  <packaging>pom</packaging>\n"
						    "  <properties><log4j.version>2.14.1</"
						    "log4j.version></properties>\n") },
		    { "app/pom.xml",
		      MVN_PROJECT(
			      MVN_PARENT("parent", "<relativePath>../parent/pom.xml</"
						   "relativePath>") "  "
								    "<artifactId>app</"
								    "artifactId>\n" MVN_DEPS(
									    MVN_LOG4J("<"
										      "v"
										      "e"
										      "r"
										      "s"
										      "i"
										      "o"
										      "n"
										      ">"
										      "$"
										      "{"
										      "l"
										      "o"
										      "g"
										      "4"
										      "j"
										      "."
										      "v"
										      "e"
										      "r"
										      "s"
										      "i"
										      "o"
										      "n"
										      "}"
										      "<"
										      "/"
										      "v"
										      "e"
										      "r"
										      "s"
										      "i"
										      "o"
										      "n"
										      ">"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 app/pom.xml:8\n" },
		{ "a parent's dependencyManagement, relativePath a directory",
		  { { "parent/pom.xml",
		      MVN_PROJECT(MVN_GAV("parent") "  <packaging>pom</packaging>\n" MVN_MANAGE(
			      MVN_LOG4J("<version>2.14.1</version>"))) },
		    { "app/pom.xml",
		      MVN_PROJECT(MVN_PARENT("parent",
					     "<relativePath>../parent</"
					     "relativePath>") "  "
							      "<artifactId>"
							      "app</"
							      "artifactId>"
							      "\n" MVN_DEPS(MVN_LOG4J(""))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 app/pom.xml:6\n"
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 parent/pom.xml:8\n" },
		{ "a BOM in the tree, imported by the parent",
		  { { "bom/pom.xml",
		      MVN_PROJECT(MVN_GAV("platform-bom") "  "
							  "<packaging>pom</"
							  "packaging>\n" MVN_MANAGE(
								  MVN_LOG4J("<version>2.14.1</"
									    "version>"))) },
		    { "parent/pom.xml",
		      MVN_PROJECT(MVN_GAV("parent") "  <packaging>pom</packaging>\n" MVN_MANAGE(
			      MVN_IMPORT("com.example", "platform-bom", "1.0"))) },
		    { "app/pom.xml",
		      MVN_PROJECT(MVN_PARENT("parent",
					     "<relativePath>../parent</"
					     "relativePath>") "  "
							      "<artifactId>"
							      "app</"
							      "artifactId>"
							      "\n" MVN_DEPS(MVN_LOG4J(""))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 app/pom.xml:6\n"
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 bom/pom.xml:8\n" },
		{ "log4j's own BOM, not in the tree",
		  { { "pom.xml", MVN_PROJECT(MVN_GAV("app") MVN_MANAGE(MVN_IMPORT(
					 "org.apache.logging.log4j", "log4j-bom", "2.14.1"))
						     MVN_DEPS(MVN_LOG4J(""))) } },
		  "critical unresolved-version  pom.xml:9\n" },
		{ "a parent that is not in the tree",
		  { { "pom.xml",
		      MVN_PROJECT(MVN_PARENT("corp-parent", "") "  "
								"<artifactId>app</"
								"artifactId>\n" MVN_DEPS(MVN_LOG4J(
									"<version>${log4j.version}<"
									"/version>"))) } },
		  "critical unresolved-version ${log4j.version} pom.xml:8\n" },
		{ "a range",
		  { { "pom.xml", MVN_PROJECT(MVN_GAV("app") MVN_DEPS(
					 MVN_LOG4J("<version>[2.0,2.15)</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.0 pom.xml:7\n"
		  "critical unpinned-requirement 2.0 pom.xml:7\n" },
		{ "a range without a lower bound",
		  { { "pom.xml", MVN_PROJECT(MVN_GAV("app") MVN_DEPS(
					 MVN_LOG4J("<version>(,2.15)</version>"))) } },
		  "critical unpinned-requirement 0 pom.xml:7\n" },
		{ "an exact version in brackets",
		  { { "pom.xml", MVN_PROJECT(MVN_GAV("app") MVN_DEPS(
					 MVN_LOG4J("<version>[2.14.1]</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 pom.xml:7\n" },
		{ "modules in modules/",
		  { { "pom.xml",
		      MVN_PROJECT(MVN_GAV("root") "  <packaging>pom</packaging>\n"
						  "  <modules><module>modules/core</module>"
						  "<module>modules/web</module></modules>\n"
						  "  <properties><log4j.version>2.14.1</"
						  "log4j.version></properties>\n") },
		    { "modules/core/pom.xml",
		      MVN_PROJECT(MVN_PARENT("root", "<relativePath>../../pom.xml</"
						     "relativePath>") "  "
								      "<artifactId>core</"
								      "artifactId>\n" MVN_DEPS(
									      MVN_LOG4J("<version"
											">${"
											"log4j."
											"version}"
											"</"
											"version"
											">"))) },
		    { "modules/web/pom.xml",
		      MVN_PROJECT(MVN_PARENT("root", "") "  "
							 "<artifactId>web</"
							 "artifactId>\n" MVN_DEPS(MVN_LOG4J(
								 "<version>${log4j.version}"
								 "</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 modules/core/pom.xml:8\n"
		  "critical unresolved-version ${log4j.version} modules/web/pom.xml:8\n" },
		{ "the project's own version",
		  { { "pom.xml",
		      MVN_PROJECT("  <groupId>com.example</groupId><artifactId>app</artifactId>"
				  "<version>${revision}</version>\n"
				  "  "
				  "<properties><revision>2.14.1</revision></"
				  "properties>\n" MVN_DEPS(
					  MVN_LOG4J("<version>${project.version}</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 pom.xml:8\n" },
		{ "a profile's property",
		  { { "pom.xml",
		      MVN_PROJECT(
			      MVN_GAV("app") "  <profiles><profile><id>legacy</id>\n"
					     "    <properties><log4j.version>2.14.1</"
					     "log4j.version></properties>\n"
					     "  </profile></profiles>\n"
					     "  <properties><log4j.version>2.17.1</"
					     "log4j.version></properties>\n" MVN_DEPS(MVN_LOG4J(
						     "<version>${log4j.version}</version>"))) } },
		  "critical GHSA-jfh8-c2jx-5f7m 2.14.1 pom.xml:11\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = tu_strf("%s/mvn%zu", ws, i);
		for (size_t k = 0; k < 3 && cases[i].files[k][0]; k++) {
			tu_write(dir, cases[i].files[k][0], cases[i].files[k][1]);
		}
		int status;
		json_t *doc = scan_json(dir, "--fail-on=critical", &status);
		char *got = log4j_findings(doc);
		cr_expect_eq(status, 3, "%s: exit %d\n%s", cases[i].name, status, got);
		cr_expect_str_eq(got, cases[i].want, "%s:\n%s", cases[i].name, got);
		free(got);
		json_decref(doc);
		free(dir);
	}
}
