/*
 * test-scan.c - the security scans end to end, through the runner binary: `runner scan`
 * (exit codes 0/2/3/4, text/json/sarif, --fail-on, --baseline, --rules), the sast and
 * secrets stages blocking a push stage in a pipeline, allow entries and their expiry, the
 * SARIF logs of the run record validated against the SARIF 2.1.0 schema (python3-jsonschema),
 * secrets never reaching output, and every fail-closed fault mode: invalid rules, an
 * unreadable path, nothing scanned, a timeout and a crash of the scanner all make the stage
 * an error (exit 4) and the push never starts; and `runner scan secrets --history`, which
 * scans every commit of a range (each finding naming its commit), with its caps, and stops
 * at a shallow clone's boundary.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char bad_c[] = "#include <string.h>\n"
			    "void copy(char *dst, char **argv)\n{\n\tstrcpy(dst, argv[1]);\n}\n";
static const char good_c[] = "int add(int a, int b)\n{\n\treturn a + b;\n}\n";
static const char secret[] = "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo";

static void has(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

static void lacks(const char *hay, const char *needle)
{
	cr_assert_null(strstr(hay, needle), "did not expect '%s' in:\n%s", needle, hay);
}

/* Validate a SARIF file against the SARIF 2.1.0 schema. */
static void valid_sarif(const char *path)
{
	char *problem = tu_sarif_problem(path);
	cr_assert_null(problem, "%s is not valid SARIF 2.1.0:\n%s", path, problem);
}

Test(scan_cli, exit_codes_and_text_output)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "src/bad.c", bad_c);
	tu_write(dir, "lib/good.c", good_c);
	struct tu_result r = tu_runner_run(dir, "scan", "sast", NULL);
	cr_assert_eq(r.status, 3, "a high finding blocks: %s%s", r.out, r.err);
	has(r.out, "src/bad.c:4:2: high c.unbounded-copy-from-input: ");
	has(r.out, "4 | strcpy(dst, argv[1]);");
	has(r.out, "2 files scanned");
	has(r.out, "blocked: 1 finding at or above high (c.unbounded-copy-from-input)");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sast", "--fail-on", "critical", NULL);
	cr_assert_eq(r.status, 0, "%s", r.out);
	has(r.out, "(below the threshold)");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sast", "lib", NULL);
	cr_assert_eq(r.status, 0);
	has(r.out, "passed: no finding at or above high");
	tu_result_free(&r);
	/* Usage errors. */
	r = tu_runner_run(dir, "scan", "sast", "--fail-on", "severe", NULL);
	cr_assert_eq(r.status, 2);
	has(r.err, "--fail-on takes critical, high, medium, low or info");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sats", NULL);
	cr_assert_eq(r.status, 2);
	has(r.err, "did you mean 'runner scan sast'?");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sast", "--format", "xml", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	/* Scanner errors. */
	r = tu_runner_run(dir, "scan", "sast", "nope", NULL);
	cr_assert_eq(r.status, 4);
	has(r.out, "error: sast scan failed: cannot read nope: No such file or directory");
	tu_result_free(&r);
	tu_write(dir, "docs/a.md", "# docs\n");
	r = tu_runner_run(dir, "scan", "sast", "docs", NULL);
	cr_assert_eq(r.status, 4, "a scan that sees nothing cannot pass");
	has(r.out, "nothing was scanned");
	tu_result_free(&r);
	tu_write(dir, "rules/bad.yml",
		 "kind: sast\nrules:\n  - id: x\n    languages: [c]\n"
		 "    severity: hihg\n    message: m\n    pattern: f()\n");
	r = tu_runner_run(dir, "scan", "sast", "--rules", "rules", "src", NULL);
	cr_assert_eq(r.status, 4);
	has(r.out, "invalid rules: ");
	has(r.out, "rules/bad.yml:5:15: invalid severity 'hihg'");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* Option values runner scan parses are usage errors (2, on stderr, naming the option), as a
 * missing baseline is, not scanner errors (4); so are values and PATHs that are not UTF-8,
 * which the scan's settings cannot carry. */
Test(scan_cli, bad_option_values_are_usage_errors)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "src/bad.c", bad_c);
	tu_write(dir, "notes.txt", "not a baseline\n");
	tu_write(dir, "other.json", "{\"findings\": 3}\n");
	static const struct {
		const char *scan, *opt, *val, *msg;
	} cases[] = {
		{ "sast", "--max-file-size", "abc", "--max-file-size takes a size" },
		{ "sast", "--max-file-size", "0", "--max-file-size takes a size" },
		{ "secrets", "--max-file-size", "-1", "--max-file-size takes a size" },
		{ "secrets", "--allow-regex", "(", "--allow-regex '(' is invalid" },
		{ "sast", "--baseline", "notes.txt", "--baseline: cannot read the baseline" },
		{ "sast", "--baseline", "other.json",
		  "--baseline: the baseline other.json is not" },
		{ "sast", "--baseline", "missing.json", "cannot read the baseline missing.json" },
		/* Never dropped as a value JSON cannot hold (the scan went on without them). */
		{ "sast", "--rules", "team\xff.yml", "is not UTF-8" },
		{ "sast", "--exclude", "src/\xff*", "is not UTF-8" },
		{ "secrets", "--allow-path", "src/\xff*", "is not UTF-8" },
		{ "sast", "src/\xff", "src", "the path src/\xef\xbf\xbd is not UTF-8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tu_result r = tu_runner_run(dir, "scan", cases[i].scan, cases[i].opt,
						   cases[i].val, "src", NULL);
		cr_assert_eq(r.status, 2, "%s %s: %s%s", cases[i].opt, cases[i].val, r.out, r.err);
		has(r.err, cases[i].msg);
		cr_assert_str_eq(r.out, "", "%s %s", cases[i].opt, cases[i].val);
		tu_result_free(&r);
	}
	struct tu_result r =
		tu_runner_run(dir, "scan", "sast", "--max-file-size", "4M", "src", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--allow-regex", "^EXAMPLE", "src", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(scan_cli, custom_rules_json_baseline_and_sarif)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "src/a.c", "void f(void) { legacy_unsafe(1); }\n");
	tu_write(dir, "rules/team.yml",
		 "kind: sast\nrules:\n  - id: team.legacy-unsafe\n    languages: [c, cpp]\n"
		 "    severity: high\n    cwe: CWE-676\n    message: legacy_unsafe is deprecated\n"
		 "    fix: call modern_safe\n    pattern: legacy_unsafe(...)\n");
	struct tu_result r = tu_runner_run(dir, "scan", "sast", "--no-default-rules", "--rules",
					   "rules", "--format", "json", "-o", "base.json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *path = tu_readf("%s/base.json", dir);
	cr_assert_not_null(path);
	json_error_t je;
	json_t *j = json_loads(path, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	json_t *f0 = json_array_get(json_object_get(j, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f0, "rule_id")), "team.legacy-unsafe");
	cr_assert_str_eq(json_string_value(json_object_get(f0, "kind")), "sast");
	cr_assert_eq(strlen(json_string_value(json_object_get(f0, "fingerprint"))), 64);
	json_decref(j);
	free(path);
	/* The baseline lets the existing finding pass, even after the code moved. */
	tu_write(dir, "src/a.c", "\n\n// moved\nvoid f(void)\n{\n    legacy_unsafe(1);\n}\n");
	r = tu_runner_run(dir, "scan", "sast", "--no-default-rules", "--rules", "rules",
			  "--baseline", "base.json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.out);
	has(r.out, "(suppressed, baseline: in the baseline)");
	tu_result_free(&r);
	/* A new one still blocks. */
	tu_write(dir, "src/b.c", "void g(void) { legacy_unsafe(2); }\n");
	r = tu_runner_run(dir, "scan", "sast", "--no-default-rules", "--rules", "rules",
			  "--baseline", "base.json", NULL);
	cr_assert_eq(r.status, 3);
	has(r.out, "src/b.c:1:16: high team.legacy-unsafe");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sast", "--baseline", "missing.json", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	/* SARIF, valid against the schema. */
	r = tu_runner_run(dir, "scan", "sast", "--rules", "rules", "--format", "sarif", "-o",
			  "out.sarif", NULL);
	cr_assert_eq(r.status, 3);
	tu_result_free(&r);
	char *sarif_path = NULL;
	cr_assert_geq(asprintf(&sarif_path, "%s/out.sarif", dir), 0);
	valid_sarif(sarif_path);
	char *sarif = tu_read(sarif_path);
	has(sarif, "\"runnerFingerprint/v1\"");
	has(sarif, "\"security-severity\": \"8.0\"");
	has(sarif, "\"uri\": \"src/a.c\"");
	has(sarif, "\"uriBaseId\": \"%SRCROOT%\"");
	free(sarif);
	free(sarif_path);
	tu_rmdir(dir);
	free(dir);
}

/* A file that exhausts a rule's matcher is not passed: the scan blocks on it under that
 * rule, saying it could not be evaluated completely, and the SARIF stays valid. */
Test(scan_cli, a_file_that_exhausts_the_matcher_blocks)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "rules/team.yml",
		 "kind: sast\nrules:\n  - id: team.slow\n    languages: [c]\n"
		 "    severity: high\n    message: m\n"
		 "    pattern: a(...) ... a(...) ... a(...) ... zzz\n");
	size_t n = 20000;
	char *src = calloc(n * 5 + 1, 1);
	cr_assert_not_null(src);
	for (size_t i = 0; i < n; i++) {
		memcpy(src + i * 5, "a(x);", 5);
	}
	tu_write(dir, "src/crafted.c", src);
	free(src);
	struct tu_result r =
		tu_runner_run(dir, "scan", "sast", "--no-default-rules", "--rules", "rules", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "src/crafted.c:1:1: high team.slow");
	has(r.out, "not evaluated completely on this file");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sast", "--no-default-rules", "--rules", "rules", "--format",
			  "sarif", "-o", "out.sarif", NULL);
	cr_assert_eq(r.status, 3);
	tu_result_free(&r);
	char *sarif_path = tu_strf("%s/out.sarif", dir);
	valid_sarif(sarif_path);
	free(sarif_path);
	/* Excluding the file, a decision someone makes and can be asked about, passes. */
	tu_write(dir, "src/ok.c", "int main(void) { return 0; }\n");
	r = tu_runner_run(dir, "scan", "sast", "--no-default-rules", "--rules", "rules",
			  "--exclude", "src/crafted.c", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

Test(scan_cli, secrets_are_never_printed)
{
	char *dir = tu_tmpdir();
	char *conf = NULL;
	cr_assert_geq(asprintf(&conf, "GITHUB_TOKEN=%s\n", secret), 0);
	tu_write(dir, "deploy/.env", conf);
	tu_write(dir, "tests/fixtures/token.txt", conf);
	const char *formats[] = { "text", "json", "sarif" };
	for (size_t i = 0; i < 3; i++) {
		struct tu_result r = tu_runner_run(dir, "scan", "secrets", "--format", formats[i],
						   "--allow-path", "tests/fixtures/*", NULL);
		cr_assert_eq(r.status, 3, "%s: %s%s", formats[i], r.out, r.err);
		lacks(r.out, secret);
		lacks(r.err, secret);
		lacks(r.out, "R8tA3kPq7ZxW1mNv");
		has(r.out, "ghp_...(sha256:");
		has(r.out, "deploy/.env");
		lacks(r.out, "tests/fixtures/token.txt");
		tu_result_free(&r);
	}
	struct tu_result r =
		tu_runner_run(dir, "scan", "secrets", "--format", "sarif", "-o", "s.sarif", NULL);
	cr_assert_eq(r.status, 3);
	tu_result_free(&r);
	char *p = NULL;
	cr_assert_geq(asprintf(&p, "%s/s.sarif", dir), 0);
	valid_sarif(p);
	free(p);
	free(conf);
	tu_rmdir(dir);
	free(dir);
}

/* One finding is one line of the text report: a file name with a line break in it cannot
 * forge another finding (or a "passed" line). */
Test(scan_cli, file_names_cannot_forge_report_lines)
{
	char *dir = tu_tmpdir();
	char *conf = NULL;
	cr_assert_geq(asprintf(&conf, "GITHUB_TOKEN=%s\n", secret), 0);
	tu_write(dir, "x\ndeploy/fake.env:1:1: info forged: nothing to see\n.txt", conf);
	/* Nor start an escape sequence (an unterminated one hid what followed it). */
	tu_write(dir, "y\x1b]0;T.txt", conf);
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, "\ndeploy/fake.env:1:1");
	has(r.out, "x\\ndeploy/fake.env");
	lacks(r.out, "\x1b");
	has(r.out, "y\\x1b]0;T.txt");
	tu_result_free(&r);
	free(conf);
	tu_rmdir(dir);
	free(dir);
}

/* A runner:ignore marker in a string literal suppresses nothing, in a file read as text (the
 * secrets scan) or tokenized (SAST: only a comment token counts, a triple-quoted string
 * whose line starts with '#' included); one in a comment of a script embedded in CI YAML
 * does. */
Test(scan_cli, markers_in_strings_suppress_nothing)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "s/config.json",
		 "{\"aws_access_key_id\": \"AKIAZ7Q3MFXR2LHQ5KTB\", \"aws_secret_access_key\": "
		 "\"q8Vb3Xr9Lm2Np7Tz4Wk6Yc1Hd5Fg0Js8Ae3Ru7Io\", \"note\": \"# runner:ignore * -- "
		 "vendor sample values\"}\n");
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", "s", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, "suppressed");
	tu_result_free(&r);
	tu_write(dir, "c/x.c",
		 "#include <stdio.h>\n#include <string.h>\n"
		 "void f(char **argv)\n{\n\tchar buf[8];\n"
		 "\tstrcpy(buf, argv[1]); puts(\"# runner:ignore * -- x y z\");\n}\n");
	r = tu_runner_run(dir, "scan", "sast", "c", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "c/x.c:6:2: high c.unbounded-copy-from-input");
	lacks(r.out, "suppressed");
	tu_result_free(&r);
	tu_write(dir, "py/x.py",
		 "import os\nx = \"\"\"\n# runner:ignore * -- not a comment, a string\n"
		 "\"\"\"; os.system(x)\n");
	r = tu_runner_run(dir, "scan", "sast", "py", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "py/x.py:4:6: high py.os-system");
	lacks(r.out, "suppressed");
	tu_result_free(&r);
	/* Comments still suppress, in a script embedded in YAML too. */
	tu_write(dir, "ci/.github/workflows/ci.yml",
		 "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: |\n"
		 "          # runner:ignore * -- a pinned vendor script\n"
		 "          curl -s https://x.example/i.sh | sh\n");
	tu_write(dir, "ci/y.py", "import os\nos.system(x)  # runner:ignore * -- a fixed command\n");
	r = tu_runner_run(dir, "scan", "sast", "ci", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "(suppressed, inline: a pinned vendor script)");
	has(r.out, "(suppressed, inline: a fixed command)");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* Lines end at LF, CRLF or a lone CR for the scanners' line numbers and for inline markers
 * alike: in a file with CR line ends, a marker does not cover the whole file. */
Test(scan_cli, markers_in_cr_files_cover_their_line_only)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "s/c.txt",
		 "x = 1\rtoken = \"AKIAZ7Q3MFXR2LHQ5KTB\"\r\r# runner:ignore * -- far below\r");
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", "s", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "s/c.txt:2:10: critical secret.aws-access-key-id");
	lacks(r.out, "suppressed");
	tu_result_free(&r);
	tu_write(dir, "c/x.c",
		 "#include <string.h>\rvoid f(char *d, char **argv)\r{\r\tstrcpy(d, argv[1]);\r}\r"
		 "// runner:ignore * -- two lines below\r");
	r = tu_runner_run(dir, "scan", "sast", "c", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "c/x.c:4:2: high c.unbounded-copy-from-input");
	lacks(r.out, "suppressed");
	tu_result_free(&r);
	tu_write(dir, "c/x.c",
		 "#include <string.h>\r\nvoid f(char *d, char **argv)\r{\r"
		 "\t/* runner:ignore c.unbounded-copy-from-input -- the line below */\r"
		 "\tstrcpy(d, argv[1]);\r}\r");
	r = tu_runner_run(dir, "scan", "sast", "c", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "c/x.c:5:2: high c.unbounded-copy-from-input");
	has(r.out, "(suppressed, inline: the line below)");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* The secrets scan looks into generated files by default (a bundled key in a *.min.js, a
 * rendered manifest marked DO NOT EDIT); the sast scan does not. */
Test(scan_cli, secrets_are_found_in_generated_files)
{
	char *dir = tu_tmpdir();
	char *text = NULL;
	cr_assert_geq(asprintf(&text, "!function(){var k=\"%s\";fetch(k)}();\n", secret), 0);
	tu_write(dir, "dist/app.min.js", text);
	free(text);
	cr_assert_geq(
		asprintf(&text, "# Code generated by render. DO NOT EDIT.\ntoken: %s\n", secret),
		0);
	tu_write(dir, "deploy/rendered.yaml", text);
	free(text);
	tu_write(dir, "README.md", "nothing here\n");
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "dist/app.min.js:1:");
	has(r.out, "deploy/rendered.yaml:2:");
	lacks(r.out, secret);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--no-generated", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A bundle above the sast scan's 4 MiB is still read for secrets (up to 64 MiB by
 * default): a key at its end is found; with a smaller cap the file is not read, and that
 * blocks as a finding of its own rather than pass. */
Test(scan_cli, secrets_are_found_in_large_files)
{
	char *dir = tu_tmpdir();
	size_t n = 5u << 20;
	char *text = calloc(n + 200, 1);
	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i++) {
		text[i] = i % 80 == 79 ? '\n' : 'x';
	}
	snprintf(text + n, 200, "\nvar k=\"%s\";\n", secret);
	tu_write(dir, "dist/bundle.js", text);
	free(text);
	tu_write(dir, "README.md", "nothing here\n");
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "dist/bundle.js:");
	lacks(r.out, secret);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--max-file-size", "4M", "--format", "json",
			  NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "\"too_large\": 1");
	has(r.out, "\"rule_id\": \"secret.file-too-large\"");
	has(r.out, "\"file\": \"dist/bundle.js\"");
	lacks(r.out, secret);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--max-file-size", "4M", "--allow-path", "dist/*",
			  NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* A file too large to scan, accepted in a baseline, is accepted as it is: once its bytes
 * change (a key written into it, the size kept), it is reported again and blocks. The same
 * for a file a secrets rule gave up on (the matcher's limits). */
Test(scan_cli, a_baselined_unscanned_file_blocks_again_once_changed)
{
	char *dir = tu_tmpdir();
	size_t n = 2u << 20;
	char *text = calloc(n + 1, 1);
	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i++) {
		text[i] = i % 80 == 79 ? '\n' : 'x';
	}
	tu_write(dir, "dist/bundle.js", text);
	tu_write(dir, "README.md", "nothing here\n");
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", "--max-file-size", "1M",
					   "--format", "json", "-o", "base.json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--max-file-size", "1M", "--baseline",
			  "base.json", NULL);
	cr_assert_eq(r.status, 0, "the unchanged file is accepted: %s%s", r.out, r.err);
	tu_result_free(&r);
	static const char key[] = "\nk=\"AKIAQ3RZ7TWL5MXK4PHD\";\n";
	memcpy(text + n / 2, key, sizeof(key) - 1);
	tu_write(dir, "dist/bundle.js", text);
	r = tu_runner_run(dir, "scan", "secrets", "--max-file-size", "1M", "--baseline",
			  "base.json", NULL);
	cr_assert_eq(r.status, 3, "the changed file passed on its old baseline entry: %s%s", r.out,
		     r.err);
	has(r.out, "dist/bundle.js:");
	tu_result_free(&r);
	free(text);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- pipelines ---------- */

static char *workspace(const char *pipeline)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml", pipeline);
	tu_write(dir, "src/bad.c", bad_c);
	tu_write(dir, "src/good.c", good_c);
	return dir;
}

static json_t *stage_result(json_t *rep, const char *name)
{
	return json_object_get(tu_report_stage(rep, name), "result");
}

static const char *stage_message(json_t *rep, const char *name)
{
	const char *m = json_string_value(json_object_get(tu_report_stage(rep, name), "message"));
	return m ? m : "";
}

Test(scan_pipeline, gate_blocks_the_push)
{
	char *dir = workspace("version: 1\nname: app\ngate:\n  fail-on: high\nstages:\n"
			      "  sast:\n    uses: sast\n    with: { paths: [src] }\n"
			      "  secrets:\n    uses: secrets\n"
			      "  push:\n    needs: [sast, secrets]\n    run: touch pushed\n");
	char *conf = NULL;
	cr_assert_geq(asprintf(&conf, "token = \"%s\"\n", secret), 0);
	tu_write(dir, "config/app.ini", conf);
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, secret);
	tu_result_free(&r);
	cr_assert(!tu_exists("%s/pushed", dir), "the push must not start");
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "sast"), "blocked");
	cr_assert_str_eq(tu_stage_status(rep, "secrets"), "blocked");
	cr_assert_str_eq(tu_stage_status(rep, "push"), "skipped");
	json_t *res = stage_result(rep, "sast");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(res, "gate"), "blocking")),
		     1);
	cr_assert_eq(
		json_integer_value(json_object_get(json_object_get(res, "stats"), "files_scanned")),
		2);
	cr_assert_str_eq(json_string_value(json_object_get(tu_report_stage(rep, "sast"), "sarif")),
			 "sarif/sast.sarif");
	json_decref(rep);
	/* The record: SARIF per security stage, valid; no secret anywhere. */
	char *p = NULL;
	cr_assert_geq(asprintf(&p, "%s/.runner/runs/latest/sarif/sast.sarif", dir), 0);
	valid_sarif(p);
	free(p);
	cr_assert_geq(asprintf(&p, "%s/.runner/runs/latest/sarif/secrets.sarif", dir), 0);
	valid_sarif(p);
	char *s = tu_read(p);
	lacks(s, secret);
	has(s, "config/app.ini");
	free(s);
	free(p);
	const char *files[] = { "report.json", "junit.xml", "logs/secrets.log", "logs/sast.log" };
	for (size_t i = 0; i < 4; i++) {
		char *t = tu_readf("%s/.runner/runs/latest/%s", dir, files[i]);
		cr_assert_not_null(t, "%s", files[i]);
		lacks(t, secret);
		free(t);
	}
	char *log = tu_readf("%s/.runner/runs/latest/logs/sast.log", dir);
	has(log, "src/bad.c:4:2: high c.unbounded-copy-from-input:");
	/* The outcome once: the gate's summary says "blocked: ..." itself. */
	has(log, "[runner] blocked: 1 finding at or above high");
	lacks(log, "blocked: blocked");
	free(log);
	free(conf);
	tu_rmdir(dir);
	free(dir);
}

/* A scan and a script never run side by side, and a scan that needs nothing runs before
 * any script: the code a pipeline runs (the change under review) cannot move a file out of
 * a scan's way and put it back. Both runs passed before. */
Test(scan_pipeline, scripts_cannot_hide_files_from_a_scan, .timeout = 60)
{
	char *dir = tu_tmpdir();
	char *conf = NULL;
	cr_assert_geq(asprintf(&conf, "token = \"%s\"\n", secret), 0);
	/* At -j1 the script, first in the file, ran first. */
	tu_write(dir, "config.py", conf);
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  hide:\n    run: mv config.py /tmp/\n"
		 "  secrets:\n    uses: secrets\n");
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "-j1", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "config.py:1:");
	tu_result_free(&r);
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "hide"), "passed");
	json_decref(rep);
	/* A scan that needs a stage waits for the scripts running beside it to end. */
	tu_write(dir, "config.py", conf);
	tu_write(dir, ".runner.yml",
		 "version: 1\nstages:\n  prep:\n    run: sleep 0.3\n"
		 "  secrets:\n    needs: [prep]\n    uses: secrets\n"
		 "  test:\n    run: mv config.py /tmp/c; sleep 2; mv /tmp/c config.py\n");
	r = tu_runner_run(dir, "run", "--no-color", "-j2", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "config.py:1:");
	tu_result_free(&r);
	rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "test"), "passed");
	json_decref(rep);
	free(conf);
	tu_rmdir(dir);
	free(dir);
}

/* A secrets finding's snippet is a window around it on a long line: a pipeline secret that
 * the window's edge falls in is left out whole (the masker only knows it whole), nowhere
 * quoted in part: not in the live output, the stage's log, report.json, junit.xml or SARIF. */
Test(scan_pipeline, snippets_quote_no_pipeline_secret_in_part)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  secrets:\n    uses: secrets\n");
	tu_write(dir, "sec.yml", "dbpass: Zebra7Quartz9Lemon4Violet\n");
	char *conf = NULL;
	cr_assert_geq(asprintf(&conf,
			       "other: %s%88sZebra7Quartz9Lemon4Violet x\n"
			       "head Zebra7Quartz9Lemon4Violet%80s%s\n",
			       secret, "", "", secret),
		      0);
	tu_write(dir, "conf.txt", conf);
	char *sf = NULL;
	cr_assert_geq(asprintf(&sf, "%s/sec.yml", dir), 0);
	chmod(sf, 0600);
	struct tu_result r = tu_runner_run(dir, "run", "--no-color", "--secrets", sf, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "conf.txt:1:8: critical secret.github-pat");
	has(r.out, "conf.txt:2:");
	const char *parts[] = { "Zebra", "Quartz", "Lemon", "Violet", secret };
	for (size_t k = 0; k < 5; k++) {
		lacks(r.out, parts[k]);
	}
	tu_result_free(&r);
	const char *files[] = { "report.json", "junit.xml", "logs/secrets.log",
				"sarif/secrets.sarif" };
	for (size_t i = 0; i < 4; i++) {
		char *t = tu_readf("%s/.runner/runs/latest/%s", dir, files[i]);
		cr_assert_not_null(t, "%s", files[i]);
		for (size_t k = 0; k < 5; k++) {
			lacks(t, parts[k]);
		}
		free(t);
	}
	free(sf);
	free(conf);
	tu_rmdir(dir);
	free(dir);
}

#define ALLOW_PIPELINE                                                                  \
	"version: 1\nstages:\n  sast:\n    uses: sast\n    with:\n"                     \
	"      paths: [src]\n      allow:\n        - id: c.unbounded-copy-from-input\n" \
	"          path: src/bad.c\n          reason: dst is sized by the caller\n"     \
	"          expires: %s\n  push:\n    needs: [sast]\n    run: touch pushed\n"

Test(scan_pipeline, allow_entries_suppress_until_they_expire)
{
	char *yml = NULL;
	cr_assert_geq(asprintf(&yml, ALLOW_PIPELINE, "2999-12-31"), 0);
	char *dir = workspace(yml);
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	cr_assert(tu_exists("%s/pushed", dir));
	free(yml);
	cr_assert_geq(asprintf(&yml, ALLOW_PIPELINE, "2001-01-01"), 0);
	tu_write(dir, ".runner.yml", yml);
	char *pushed = NULL;
	cr_assert_geq(asprintf(&pushed, "%s/pushed", dir), 0);
	unlink(pushed);
	r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 3, "an expired entry stops suppressing");
	tu_result_free(&r);
	cr_assert(!tu_exists("%s", pushed));
	json_t *rep = tu_latest_report(dir);
	json_t *notes =
		json_object_get(json_object_get(stage_result(rep, "sast"), "gate"), "notes");
	has(json_string_value(json_array_get(notes, 0)), "expired on 2001-01-01");
	json_decref(rep);
	free(pushed);
	free(yml);
	tu_rmdir(dir);
	free(dir);
}

/* A suppression's reason is printed on the finding's line like the rest of it: a line
 * break in an allow entry's reason, or a CR in a source line, forges no report line. */
Test(scan_pipeline, reasons_and_source_lines_stay_on_one_line)
{
	char *dir = workspace(
		"version: 1\nstages:\n  sast:\n    uses: sast\n    with:\n"
		"      paths: [src]\n      allow:\n        - id: c.unbounded-copy-from-input\n"
		"          path: src/bad.c\n"
		"          reason: \"sized by the caller\\rsrc/x.c:1:1: forged\"\n"
		"          expires: 2999-12-31\n");
	tu_write(dir, "src/cr.c", "void f(char *d, char **argv)\r{\r\tstrcpy(d, argv[1]);\r}\r");
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *log = tu_readf("%s/.runner/runs/latest/logs/sast.log", dir);
	has(log, "(suppressed, allow: sized by the caller\\rsrc/x.c:1:1: forged)");
	has(log, "src/cr.c:3:2: high c.unbounded-copy-from-input");
	has(log, "3 | strcpy(d, argv[1]);"); /* a snippet stops at a lone CR */
	lacks(log, "\r");
	free(log);
	tu_rmdir(dir);
	free(dir);
}

Test(scan_pipeline, configuration_errors_point_at_the_pipeline)
{
	char *dir =
		workspace("version: 1\nstages:\n  sast:\n    uses: sast\n    with:\n"
			  "      path: [src]\n      max-file-size: huge\n"
			  "  secrets:\n    uses: secrets\n    with:\n"
			  "      allowlist: { regexes: ['a('] }\n      paths: [../elsewhere]\n");
	struct tu_result r = tu_runner_run(dir, "validate", NULL);
	cr_assert_eq(r.status, 2);
	has(r.err, ".runner.yml:6:7: error: unknown key 'path' for a sast stage in stage 'sast'");
	has(r.err, "did you mean `paths`?");
	has(r.err, ".runner.yml:7:22: error: invalid max-file-size 'huge'");
	has(r.err, "invalid regular expression at offset 2");
	has(r.err, "leads outside the workspace");
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- fault modes: every one is an error, and the push never starts ---------- */

static void expect_error(const char *dir, const char *stage, const char *why)
{
	struct tu_result r = tu_runner_run(dir, "run", NULL);
	cr_assert_eq(r.status, 4, "%s: %s%s", why, r.out, r.err);
	tu_result_free(&r);
	cr_assert(!tu_exists("%s/pushed", dir), "%s: the push started", why);
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, stage), "error", "%s", why);
	cr_assert_str_eq(tu_stage_status(rep, "push"), "skipped");
	json_decref(rep);
}

#define FAULT_PIPELINE                                                                  \
	"version: 1\nstages:\n  scan:\n    uses: sast\n    timeout: 20s\n    with:\n%s" \
	"  push:\n    needs: [scan]\n    run: touch pushed\n"

static char *fault_workspace(const char *with)
{
	char *yml = NULL;
	cr_assert_geq(asprintf(&yml, FAULT_PIPELINE, with), 0);
	char *dir = workspace(yml);
	free(yml);
	return dir;
}

Test(scan_faults, invalid_rules_file)
{
	char *dir = fault_workspace("      rules: team-rules.yml\n");
	tu_write(dir, "team-rules.yml",
		 "kind: sast\nrules:\n  - id: t\n    languages: [c]\n"
		 "    severity: high\n    message: m\n    pattern: 'f('\n");
	expect_error(dir, "scan", "invalid rules");
	json_t *rep = tu_latest_report(dir);
	has(stage_message(rep, "scan"), "invalid rules:");
	has(stage_message(rep, "scan"), "team-rules.yml:7:");
	json_decref(rep);
	tu_rmdir(dir);
	free(dir);
}

Test(scan_faults, unreadable_path)
{
	char *dir = fault_workspace("      paths: [src, generated]\n");
	expect_error(dir, "scan", "missing path");
	json_t *rep = tu_latest_report(dir);
	has(stage_message(rep, "scan"), "cannot read generated: No such file or directory");
	json_decref(rep);
	tu_rmdir(dir);
	free(dir);
}

Test(scan_faults, unreadable_file_as_another_user)
{
	/*
	 * Root reads every file, so run the runner as an unprivileged user over a file only
	 * root can read. Not uid 65534: the sandbox's rootless test runs as nobody, and the
	 * processes of one uid share RLIMIT_NPROC.
	 */
	if (geteuid() != 0) {
		cr_skip_test("needs root to switch to an unprivileged user");
	}
	char *dir = fault_workspace("      paths: [src]\n");
	tu_write(dir, "src/secret.c", bad_c);
	char *cmd = NULL;
	/* Only the workspace's own modes change (never its parent's: that is $TMPDIR). */
	cr_assert_geq(
		asprintf(&cmd, "chmod -R a+rwX '%s' && chmod 000 '%s/src/secret.c'", dir, dir), 0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	/* A copy of the runner beside the workspace, and no secrets file: the build directory
	 * (and the tests' configuration directory in it) may be where the user cannot go (a
	 * clone in /root, as on a fresh machine). */
	char *runner = NULL;
	cr_assert_geq(asprintf(&runner, "%s.runner", dir), 0);
	cr_assert_geq(asprintf(&cmd, "cp '%s' '%s' && chmod 755 '%s'", tu_runner(), runner, runner),
		      0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	cr_assert_geq(asprintf(&cmd,
			       "setpriv --reuid=64123 --regid=64123 --clear-groups "
			       "sh -c 'test -x \"$1\" && test -x \"$2\"' sh '%s' '%s'",
			       dir, runner),
		      0);
	int reach = system(cmd);
	free(cmd);
	if (reach != 0) {
		unlink(runner);
		free(runner);
		tu_rmdir(dir);
		free(dir);
		cr_skip_test("an unprivileged user cannot reach the temporary directory");
	}
	cr_assert_geq(asprintf(&cmd,
			       "cd '%s' && XDG_CONFIG_HOME='%s.no-config' setpriv --reuid=64123 "
			       "--regid=64123 --clear-groups '%s' run > out.txt 2>&1; "
			       "echo $? > status.txt",
			       dir, dir, runner),
		      0);
	int st = system(cmd);
	free(cmd);
	cr_assert_eq(st, 0);
	char *status = tu_readf("%s/status.txt", dir), *out = tu_readf("%s/out.txt", dir);
	cr_assert_str_eq(status, "4\n", "%s", out);
	has(out, "cannot read src/secret.c: Permission denied");
	cr_assert(!tu_exists("%s/pushed", dir));
	free(status);
	free(out);
	unlink(runner);
	free(runner);
	tu_rmdir(dir);
	free(dir);
}

Test(scan_faults, nothing_scanned)
{
	char *dir = fault_workspace("      paths: [docs]\n");
	tu_write(dir, "docs/guide.md", "# guide\n");
	expect_error(dir, "scan", "nothing scanned");
	json_t *rep = tu_latest_report(dir);
	has(stage_message(rep, "scan"), "nothing was scanned");
	json_decref(rep);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A file under a write lease held by the test: the scanner's open() blocks until the lease
 * is released (or the kernel's lease-break-time, 45 s by default, passes), which makes the
 * scan hang deterministically while the test times it out or kills it.
 */
static int lease_file(const char *dir, const char *name)
{
	int fd = tu_lease(dir, name, good_c);
	cr_assert_geq(fd, 0, "lease: %s", strerror(errno));
	return fd;
}

Test(scan_faults, timeout)
{
	char *dir = NULL;
	char *yml = NULL;
	cr_assert_geq(asprintf(&yml,
			       "version: 1\nstages:\n  scan:\n    uses: sast\n    timeout: 2s\n"
			       "    kill-grace: 1s\n    with: { paths: [src] }\n"
			       "  push:\n    needs: [scan]\n    run: touch pushed\n"),
		      0);
	dir = workspace(yml);
	free(yml);
	int fd = lease_file(dir, "src/slow.c");
	expect_error(dir, "scan", "timeout");
	json_t *rep = tu_latest_report(dir);
	has(stage_message(rep, "scan"), "timed out after 2");
	json_decref(rep);
	close(fd);
	tu_rmdir(dir);
	free(dir);
}

/* The pid of the worker process of stage `stage`, waiting up to 20 s for it to appear. */
static pid_t find_worker(const char *stage)
{
	for (int tries = 0; tries < 400; tries++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char path[300], buf[512];
			snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				continue;
			}
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0) {
				continue;
			}
			buf[n] = '\0';
			/* argv: runner \0 __worker \0 sast \0 <stage> */
			size_t a0 = strlen(buf);
			if ((size_t)n > a0 + 1 && strcmp(buf + a0 + 1, "__worker") == 0) {
				const char *kind = buf + a0 + 1 + 9;
				const char *name = kind + strlen(kind) + 1;
				if (name < buf + n && strcmp(name, stage) == 0) {
					pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
					closedir(d);
					return pid;
				}
			}
		}
		if (d) {
			closedir(d);
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

Test(scan_faults, crash)
{
	char stage[64];
	snprintf(stage, sizeof(stage), "crash%d", (int)getpid());
	char *yml = NULL;
	cr_assert_geq(asprintf(&yml,
			       "version: 1\nstages:\n  %s:\n    uses: sast\n    timeout: 60s\n"
			       "    with: { paths: [src] }\n"
			       "  push:\n    needs: [%s]\n    run: touch pushed\n",
			       stage, stage),
		      0);
	char *dir = workspace(yml);
	free(yml);
	int fd = lease_file(dir, "src/slow.c");
	/* Start the run, find the scanner blocked on the leased file, crash it. */
	pid_t runner = fork();
	cr_assert_geq(runner, 0);
	if (runner == 0) {
		if (chdir(dir) < 0) {
			_exit(127);
		}
		int out = open("run.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(out, 1);
		dup2(out, 2);
		execl(tu_runner(), "runner", "run", (char *)NULL);
		_exit(127);
	}
	pid_t worker = find_worker(stage);
	cr_assert_gt(worker, 0, "the scanner never started");
	/* SIGABRT: ASan turns SIGSEGV into exit code 1, not a signal. */
	cr_assert_eq(kill(worker, SIGABRT), 0);
	int st;
	cr_assert_eq(waitpid(runner, &st, 0), runner);
	cr_assert(WIFEXITED(st));
	char *out = tu_readf("%s/run.out", dir);
	cr_assert_eq(WEXITSTATUS(st), 4, "%s", out);
	free(out);
	cr_assert(!tu_exists("%s/pushed", dir));
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, stage), "error");
	has(stage_message(rep, stage), "killed by signal 6");
	json_decref(rep);
	char *p = NULL;
	cr_assert_geq(asprintf(&p, "%s/.runner/runs/latest/sarif/%s.sarif", dir, stage), 0);
	valid_sarif(p);
	char *sarif = tu_read(p);
	has(sarif, "\"executionSuccessful\": false");
	free(sarif);
	free(p);
	close(fd);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- secrets --history ---------- */

#define GIT "git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main"

static void git_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void git_sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
}

/* Write file (NULL: none) in repo, commit everything, return the commit's id. */
static char *git_commit(const char *repo, const char *file, const char *content)
{
	if (file) {
		tu_write(repo, file, content);
	}
	git_sh("cd '%s' && " GIT " add -A && " GIT " commit -q --allow-empty -m change", repo);
	char *path = tu_strf("%s/.git/head.txt", repo);
	git_sh("git -C '%s' rev-parse HEAD > '%s'", repo, path);
	char *id = tu_read(path);
	id[strcspn(id, "\n")] = '\0';
	free(path);
	return id;
}

/* A repository whose second commit adds a token in conf/.env, the third removes it and
 * the fourth is clean: no tip holds it, the history does. */
static char *history_repo(char **leak)
{
	char *dir = tu_tmpdir();
	git_sh(GIT " init -q '%s'", dir);
	free(git_commit(dir, "README", "hello\n"));
	char *conf = tu_strf("GITHUB_TOKEN=%s\n", secret);
	*leak = git_commit(dir, "conf/.env", conf);
	git_sh("cd '%s' && git rm -q conf/.env", dir);
	free(git_commit(dir, NULL, NULL));
	free(git_commit(dir, "README", "hello again\n"));
	free(conf);
	return dir;
}

Test(scan_history, every_commit_is_scanned_and_named)
{
	char *leak;
	char *dir = history_repo(&leak);
	char *where = tu_strf("%.12s:conf/.env:1:14: critical secret.github-pat: ", leak);
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 0, "the tip holds no token: %s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD~3..HEAD", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, where);
	has(r.out, "ghp_...(sha256:");
	lacks(r.out, secret);
	lacks(r.err, secret);
	has(r.out, "3 commits, 2 new files: blocked: 1 finding at or above high");
	has(r.out, "note: a secret in any of these commits reaches the history");
	tu_result_free(&r);
	/* TIP alone: its whole history. */
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "4 commits");
	tu_result_free(&r);
	/* After the commit that removed it, nothing is left to find. */
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD~2..HEAD", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "2 commits, 1 new file: passed");
	tu_result_free(&r);

	/* JSON: the full commit, the path, the blob's places and the range. */
	char *other = tu_tmpdir();
	r = tu_runner_run(other, "scan", "secrets", "-C", dir, "--history", "HEAD~3..HEAD",
			  "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, secret);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	json_t *f = json_array_get(json_object_get(j, "findings"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(f, "commit")), leak);
	cr_expect_str_eq(json_string_value(json_object_get(f, "file")), "conf/.env");
	cr_expect_eq(json_integer_value(json_object_get(f, "line")), 1);
	json_t *place = json_array_get(json_object_get(f, "places"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(place, "commit")), leak);
	json_t *h = json_object_get(j, "history");
	cr_expect_eq(json_integer_value(json_object_get(h, "commits")), 3);
	cr_expect_str_eq(json_string_value(json_object_get(j, "scan")), "secrets");
	json_decref(j);
	tu_result_free(&r);
	tu_rmdir(other);
	free(other);
	free(where);
	free(leak);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A commit's file is read as its name says, as the tree scan reads it: the rules that
 * read YAML only find a compose file's flow mapping in the history too, a member access
 * in JavaScript is no secret there either, and a blob brought under two names is read as
 * each (what one name finds is reported, once, with both places). Fingerprints stay those
 * of the blob, whatever its names.
 */
Test(scan_history, a_blob_is_read_as_its_name_says)
{
	char *dir = tu_tmpdir();
	git_sh(GIT " init -q '%s'", dir);
	free(git_commit(dir, "README", "hello\n"));
	static const char compose[] = "services:\n"
				      "  db:\n"
				      "    environment: { POSTGRES_PASSWORD: Xq9vT2mLr8sKw4Zp }\n";
	char *leak = git_commit(dir, "docker-compose.yml", compose);
	free(git_commit(dir, "config.js",
			"const config = {\n  user: 'app',\n  password: process.env.DB_PASSWORD\n"
			"};\n"));
	free(git_commit(dir, "notes/compose.txt", compose));
	git_sh("cd '%s' && git rm -q docker-compose.yml notes/compose.txt", dir);
	free(git_commit(dir, NULL, NULL));

	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 0, "the tip holds none: %s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD", "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, "Xq9vT2mLr8sKw4Zp");
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	json_t *all = json_object_get(j, "findings");
	cr_assert_eq(json_array_size(all), 1, "one finding, for one blob: %s", r.out);
	json_t *f = json_array_get(all, 0);
	cr_expect_str_eq(json_string_value(json_object_get(f, "file")), "docker-compose.yml");
	cr_expect_str_eq(json_string_value(json_object_get(f, "commit")), leak);
	cr_expect_eq(json_array_size(json_object_get(f, "places")), 2, "%s", r.out);
	json_t *stats = json_object_get(j, "stats");
	cr_expect_eq(json_integer_value(json_object_get(stats, "files_scanned")), 4,
		     "README, config.js, and the compose blob as each of its two names: %s", r.out);
	const char *fp = json_string_value(json_object_get(f, "fingerprint"));
	cr_assert_not_null(fp);
	char *want = tu_strf("%s", fp);
	json_decref(j);
	tu_result_free(&r);

	/* The blob under its first name alone: the same finding, the same fingerprint, which
	 * is the blob's: SHA-256 of the kind, the rule, the blob as "ab/cdef..." and the
	 * redacted match, as every earlier version computed it (history_allow entries name
	 * findings by it). */
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD~4..HEAD~2", "--format", "json",
			  NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	f = json_array_get(json_object_get(j, "findings"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(f, "fingerprint")), want, "%s", r.out);
	const char *blob = json_string_value(json_object_get(f, "blob"));
	const char *redacted = json_string_value(json_object_get(f, "redacted"));
	cr_assert_not_null(blob, "%s", r.out);
	cr_assert_not_null(redacted, "%s", r.out);
	char *fp_file = tu_strf("%s/fp.in", dir);
	FILE *in = fopen(fp_file, "w");
	cr_assert_not_null(in);
	fprintf(in, "secret%c%s%c%.2s/%s%c%s%c#0", 0,
		json_string_value(json_object_get(f, "rule_id")), 0, blob, blob + 2, 0, redacted,
		0);
	fclose(in);
	char *sum = tu_strf("%s/fp.out", dir);
	git_sh("sha256sum < '%s' | cut -c1-64 > '%s'", fp_file, sum);
	char *expect = tu_read(sum);
	expect[strcspn(expect, "\n")] = '\0';
	cr_expect_str_eq(want, expect, "the blob's fingerprint");
	free(expect);
	free(sum);
	free(fp_file);
	json_decref(j);
	tu_result_free(&r);
	free(want);
	free(leak);
	tu_rmdir(dir);
	free(dir);
}

/* The same blob brought twice under one name is scanned once and reported with both
 * places (under two names, once per name: a_blob_is_read_as_its_name_says); inline
 * suppressions in the blob, --allow-path (on the commits' paths) and --allow-regex apply;
 * a path with a line break cannot forge a report line; commits of binaries alone pass. */
Test(scan_history, places_suppressions_and_allowlists)
{
	char *dir = tu_tmpdir();
	git_sh(GIT " init -q '%s'", dir);
	char *base = git_commit(dir, "README", "hello\n");
	char *conf = tu_strf("GITHUB_TOKEN=%s\n", secret);
	char *first = git_commit(dir, "fixtures/a.env", conf);
	char *second = git_commit(dir, "deploy/a.env", conf);
	char *range = tu_strf("%s..HEAD", base);
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", "--history", range, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "1 file scanned");
	char *also = tu_strf("(also %.12s:deploy/a.env)", second);
	has(r.out, also);
	char *at = tu_strf("%.12s:fixtures/a.env:1:", first);
	has(r.out, at);
	tu_result_free(&r);
	/* Allowlisting one path leaves the other. */
	r = tu_runner_run(dir, "scan", "secrets", "--history", range, "--allow-path", "fixtures/*",
			  NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	char *only = tu_strf("%.12s:deploy/a.env:1:", second);
	has(r.out, only);
	lacks(r.out, "fixtures/a.env");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", range, "--allow-path", "*.env",
			  NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", range, "--exclude", "*.env", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", range, "--allow-regex", "^ghp_R8tA",
			  NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);

	/* An inline suppression in the blob itself. */
	char *quiet = git_commit(dir, NULL, NULL);
	char *ignored = tu_strf("# runner:ignore secret.github-pat -- a revoked test token\n"
				"GITHUB_TOKEN=%s\n",
				secret);
	free(git_commit(dir, "test/c.env", ignored));
	char *since = tu_strf("%s..HEAD", quiet);
	r = tu_runner_run(dir, "scan", "secrets", "--history", since, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "(suppressed, inline: a revoked test token)");
	tu_result_free(&r);
	/* Without a reason it suppresses nothing, and the note names the commit and path. */
	char *bare = tu_strf("# runner:ignore secret.github-pat\nGITHUB_TOKEN=%s\n", secret);
	char *unexplained = git_commit(dir, "test/d.env", bare);
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD~1..HEAD", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	char *first_at = tu_strf("(first at %.12s:test/d.env:2)", unexplained);
	has(r.out, first_at);
	tu_result_free(&r);
	free(first_at);
	free(unexplained);
	free(bare);

	/* A forged report line in a path. */
	free(git_commit(dir, "x\ndeploy/fake.env:1:1: info forged: nothing to see\n.txt", conf));
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD~1..HEAD", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, "\ndeploy/fake.env:1:1");
	has(r.out, ":x\\ndeploy/fake.env");
	tu_result_free(&r);

	/* Binaries alone: nothing to read, and nothing missed. */
	tu_write(dir, "logo.bin", "PNG\x01");
	git_sh("printf 'a\\000b' >> '%s/logo.bin'", dir);
	free(git_commit(dir, NULL, NULL));
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD~1..HEAD", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "binary 1");
	tu_result_free(&r);
	free(since);
	free(ignored);
	free(quiet);
	free(only);
	free(at);
	free(also);
	free(range);
	free(second);
	free(first);
	free(conf);
	free(base);
	tu_rmdir(dir);
	free(dir);
}

/* More commits than --max-commits: an error (exit 4) that names the cap, with nothing
 * scanned; bad ranges and options that are for trees are usage errors. */
Test(scan_history, caps_and_usage_errors)
{
	char *leak;
	char *dir = history_repo(&leak);
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD",
					   "--max-commits", "3", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	has(r.out, "more than 3 commits to scan (the --max-commits cap): nothing was scanned");
	lacks(r.out, "conf/.env");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD", "--max-commits", "4", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD", "--max-commits", "3",
			  "--format", "json", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	has(r.out, "\"error\": \"--history: more than 3 commits");
	tu_result_free(&r);

	static const char *const bad[][6] = {
		{ "sast", "--history", "HEAD" },
		{ "secrets", "--history", "HEAD", "conf" },
		{ "secrets", "--history", "HEAD", "--rules", "r.yml" },
		{ "secrets", "--history", "HEAD", "--format", "sarif" },
		{ "secrets", "--history", "HEAD~1...HEAD" },
		{ "secrets", "--history", "..HEAD" },
		{ "secrets", "--history", "HEAD.." },
		{ "secrets", "--history", "no-such-rev" },
		{ "secrets", "--history", "no-such-rev..HEAD" },
		{ "secrets", "--not-remote", "origin" },
		{ "secrets", "--history", "HEAD", "--not-remote", "" },
		{ "secrets", "--history", "HEAD", "--max-commits", "0" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = tu_runner_run(dir, "scan", bad[i][0], bad[i][1], bad[i][2], bad[i][3],
				  bad[i][4], bad[i][5], NULL);
		cr_expect_eq(r.status, 2, "%s %s %s: %s%s", bad[i][0], bad[i][1], bad[i][2], r.out,
			     r.err);
		tu_result_free(&r);
	}
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD", "--rules", "r.yml", NULL);
	has(r.err, "--history scans commits, not a tree: --rules does not go with it");
	tu_result_free(&r);
	char *outside = tu_tmpdir();
	r = tu_runner_run(outside, "scan", "secrets", "--history", "HEAD", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	has(r.err, "is not inside a git repository");
	tu_result_free(&r);
	tu_rmdir(outside);
	free(outside);
	free(leak);
	tu_rmdir(dir);
	free(dir);
}

/* A shallow clone: a commit its shallow file lists has no parents here (as git takes it):
 * the range stops there, the commit is scanned as a root (all its files) and a note says
 * so. It used to be an error (exit 4, "object not found"), the parents being missing. A
 * shallow file that is not a list of commit ids is an error (exit 4); so is a missing
 * parent of a commit the file does not list (an incomplete repository). */
Test(scan_history, a_shallow_clone_stops_at_its_boundary)
{
	char *leak;
	char *dir = history_repo(&leak);
	char *clone = tu_strf("%s/clone", dir);
	git_sh("git clone -q --depth 2 'file://%s' '%s'", dir, clone);
	/* The clone holds the last two commits: the third is its boundary. */
	char *boundary = tu_strf("%s/.git/head.txt", clone);
	git_sh("git -C '%s' rev-parse HEAD~1 > '%s'", clone, boundary);
	char *id = tu_read(boundary);
	id[strcspn(id, "\n")] = '\0';
	struct tu_result r = tu_runner_run(clone, "scan", "secrets", "--history", "HEAD", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	/* The boundary's README (all of its tree) and the tip's. */
	has(r.out, "2 commits, 2 new files: passed");
	char *note = tu_strf("note: the range stops at a shallow boundary: %.12s", id);
	has(r.out, note);
	tu_result_free(&r);
	r = tu_runner_run(clone, "scan", "secrets", "--history", "HEAD", "--format", "json", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	json_t *h = json_object_get(j, "history");
	cr_expect_eq(json_integer_value(json_object_get(h, "commits")), 2);
	cr_expect_eq(json_integer_value(json_object_get(h, "shallow")), 1, "%s", r.out);
	json_decref(j);
	tu_result_free(&r);
	/* HEAD~1..HEAD leaves the boundary out: nothing is cut, and no note. */
	r = tu_runner_run(clone, "scan", "secrets", "--history", "HEAD~1..HEAD", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "1 commit, 1 new file: passed");
	lacks(r.out, "shallow boundary");
	tu_result_free(&r);

	/* A shallow file that is not a list of commit ids. */
	static const char *const bad[] = {
		"not a commit id\n",
		"0123456789012345678901234567890123456789 \n",
		"01234567890123456789012345678901234567\n",
		"0123456789012345678901234567890123456789\n\n",
	};
	char *shallow_path = tu_strf("%s/.git/shallow", clone);
	char *shallow = tu_read(shallow_path);
	cr_assert_not_null(shallow);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tu_write(clone, ".git/shallow", bad[i]);
		r = tu_runner_run(clone, "scan", "secrets", "--history", "HEAD", NULL);
		cr_expect_eq(r.status, 4, "%zu: %s%s", i, r.out, r.err);
		has(r.out, "shallow file");
		has(r.out, "is not a commit id");
		tu_result_free(&r);
	}
	tu_write(clone, ".git/shallow", shallow);

	/* A full repository that lacks a commit: an error, not a boundary. */
	char *first = tu_strf("%s/.git/head.txt", dir);
	git_sh("git -C '%s' rev-parse HEAD~3 > '%s'", dir, first);
	char *gone = tu_read(first);
	gone[strcspn(gone, "\n")] = '\0';
	git_sh("rm '%s/.git/objects/%.2s/%s'", dir, gone, gone + 2);
	r = tu_runner_run(dir, "scan", "secrets", "--history", "HEAD", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	char *missing = tu_strf("commit %s", gone);
	has(r.out, missing);
	has(r.out, "is not in the repository");
	lacks(r.out, "shallow boundary");
	tu_result_free(&r);
	free(missing);
	free(gone);
	free(first);
	free(shallow);
	free(shallow_path);
	free(note);
	free(id);
	free(boundary);
	free(clone);
	free(leak);
	tu_rmdir(dir);
	free(dir);
}

/* ---------- the sandbox ---------- */

/* Whether the mountinfo text has a read-only mount at path. */
static bool mounted_ro(const char *mountinfo, const char *path)
{
	char *needle = tu_strf(" %s ro,", path);
	bool found = mountinfo && strstr(mountinfo, needle);
	free(needle);
	return found;
}

static char *ns_of(int pid, const char *ns)
{
	char *path = pid ? tu_strf("/proc/%d/ns/%s", pid, ns) : tu_strf("/proc/self/ns/%s", ns);
	char buf[128];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	free(path);
	return n > 0 ? strndup(buf, (size_t)n) : strdup("?");
}

/* The parent of process pid (0 when it cannot be read). */
static int parent_of(int pid)
{
	char *status = pid > 0 ? tu_readf("/proc/%d/status", pid) : NULL;
	int ppid = status ? atoi(tu_status_field(status, "PPid:")) : 0;
	free(status);
	return ppid;
}

/* How many processes have pid as their parent. */
static size_t children_of(int pid)
{
	size_t n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int p = atoi(de->d_name);
		n += p > 0 && parent_of(p) == pid;
	}
	if (d) {
		closedir(d);
	}
	return n;
}

/*
 * `runner scan sast|secrets` runs the scanner in the stage sandbox, not in its own process:
 * its worker, held on a leased file while the test looks at it from outside, has the
 * seccomp filter and no_new_privs, mount and network namespaces of its own, the scanned
 * tree read-only and nothing beside it; once the lease is released the scan reports as
 * before.
 */
Test(scan_sandbox, the_scanner_runs_confined, .timeout = 120)
{
	static const char *const kinds[] = { "sast", "secrets" };
	for (size_t i = 0; i < 2; i++) {
		char *dir = tu_tmpdir();
		char *real = realpath(dir, NULL);
		cr_assert_not_null(real);
		tu_write(dir, "src/good.c", good_c);
		int fd = lease_file(dir, "src/slow.c");
		char *out = tu_strf("%s.out", real);
		pid_t runner = fork();
		cr_assert_geq(runner, 0);
		if (runner == 0) {
			int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (o < 0 || chdir(dir) < 0) {
				_exit(127);
			}
			dup2(o, 1);
			dup2(o, 2);
			execl(tu_runner(), "runner", "scan", kinds[i], (char *)NULL);
			_exit(127);
		}
		int worker = tu_worker_in(real, 20);
		char *status = worker > 0 ? tu_readf("/proc/%d/status", worker) : NULL;
		char *mounts = worker > 0 ? tu_readf("/proc/%d/mountinfo", worker) : NULL;
		char *net = ns_of(worker, "net"), *mnt = ns_of(worker, "mnt");
		char *own_net = ns_of(0, "net"), *own_mnt = ns_of(0, "mnt");
		bool sees_tree =
			worker > 0 && tu_exists("/proc/%d/root%s/src/good.c", worker, real);
		bool sees_beside = worker > 0 && tu_exists("/proc/%d/root%s", worker, out);
		/* One worker, then the process ends (a one-shot policy): a small /etc (the
		 * dynamic linker's cache, not the thousand links of alternatives and
		 * certificates, which cost the scan 15 ms to copy and remove), and no
		 * supervisor prepared ahead beside the worker's (two were, 6 ms). */
		bool small_etc = worker > 0 && tu_exists("/proc/%d/root/etc/ld.so.cache", worker) &&
				 !tu_exists("/proc/%d/root/etc/alternatives", worker);
		int spawner = parent_of(parent_of(worker));
		usleep(300000); /* time enough for supervisors made ahead to show */
		size_t supervisors = spawner > 1 ? children_of(spawner) : 0;
		close(fd); /* the scan goes on */
		int st;
		cr_assert_eq(waitpid(runner, &st, 0), runner);
		char *text = tu_read(out);
		cr_assert_gt(worker, 0, "%s: no worker process scanned the tree:\n%s", kinds[i],
			     text);
		cr_assert_str_eq(tu_status_field(status, "NoNewPrivs:"), "1", "%s", kinds[i]);
		cr_assert_str_eq(tu_status_field(status, "Seccomp:"), "2", "%s", kinds[i]);
		cr_assert_str_neq(net, own_net, "%s: the host's network namespace", kinds[i]);
		cr_assert_str_neq(mnt, own_mnt, "%s: the host's mount namespace", kinds[i]);
		cr_assert(mounted_ro(mounts, real), "%s: the tree is not read-only:\n%s", kinds[i],
			  mounts);
		cr_assert(sees_tree, "%s", kinds[i]);
		cr_assert(!sees_beside, "%s: the worker sees a file beside the tree", kinds[i]);
		cr_assert(small_etc, "%s: the worker's /etc is a stage's, not the small one",
			  kinds[i]);
		cr_assert_eq(supervisors, 1, "%s: the spawner has %zu supervisors", kinds[i],
			     supervisors);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", kinds[i], text);
		has(text, "2 files scanned");
		has(text, "passed: no finding at or above high");
		free(text);
		free(status);
		free(mounts);
		free(net);
		free(mnt);
		free(own_net);
		free(own_mnt);
		unlink(out);
		free(out);
		free(real);
		tu_rmdir(dir);
		free(dir);
	}
}

/* --no-sandbox scans without isolation, for debugging: loudly on stderr, and the JSON and
 * SARIF reports say so; the findings and the exit code are the sandboxed scan's. */
Test(scan_sandbox, no_sandbox_is_loud_and_marked)
{
	char *dir = tu_tmpdir();
	char *conf = tu_strf("GITHUB_TOKEN=%s\n", secret);
	tu_write(dir, "deploy/.env", conf);
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	lacks(r.out, "no_sandbox");
	lacks(r.err, "WARNING");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--no-sandbox", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.err, "WARNING: --no-sandbox: the scanner runs WITHOUT isolation");
	has(r.out, "deploy/.env:1:14: critical secret.github-pat");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "secrets", "--no-sandbox", "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert_not_null(j, "%s", r.out);
	cr_assert(json_is_true(json_object_get(j, "no_sandbox")), "%s", r.out);
	has(json_string_value(json_object_get(j, "warning")), "--no-sandbox");
	cr_assert_eq(json_array_size(json_object_get(j, "findings")), 1);
	json_decref(j);
	tu_result_free(&r);
	char *sarif_path = tu_strf("%s.sarif", dir);
	r = tu_runner_run(dir, "scan", "secrets", "--no-sandbox", "--format", "sarif", "-o",
			  sarif_path, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.err, "WARNING: --no-sandbox");
	tu_result_free(&r);
	valid_sarif(sarif_path);
	char *sarif = tu_read(sarif_path);
	has(sarif, "\"level\": \"warning\"");
	has(sarif, "--no-sandbox: the scanner ran without isolation");
	free(sarif);
	unlink(sarif_path);
	free(sarif_path);
	free(conf);
	tu_rmdir(dir);
	free(dir);
}

/*
 * A sandbox the host refuses is an error, exit 4, saying which step failed, and nothing is
 * scanned in the runner's own process instead. Here the runner is root without any
 * capability (as in a container without CAP_SYS_ADMIN), which may not make namespaces.
 * --no-sandbox still scans there (that is what it is for).
 */
Test(scan_sandbox, a_sandbox_that_cannot_start_is_an_error, .timeout = 60)
{
	if (geteuid() != 0) {
		cr_skip_test("needs root, to drop every capability");
	}
	if (system("setpriv --bounding-set=-all --inh-caps=-all true") != 0) {
		cr_skip_test("setpriv cannot drop the capabilities");
	}
	char *dir = tu_tmpdir();
	tu_write(dir, "src/bad.c", bad_c);
	static const char *const args[] = { "", "--format json", "--no-sandbox" };
	static const int want[] = { 4, 4, 3 };
	for (size_t i = 0; i < 3; i++) {
		char *cmd = tu_strf("cd '%s' && setpriv --bounding-set=-all --inh-caps=-all '%s' "
				    "scan sast %s > '%s.out' 2> '%s.err'; echo $? > '%s.st'",
				    dir, tu_runner(), args[i], dir, dir, dir);
		cr_assert_eq(system(cmd), 0);
		free(cmd);
		char *st = tu_readf("%s.st", dir), *out = tu_readf("%s.out", dir),
		     *err = tu_readf("%s.err", dir);
		cr_assert_eq(atoi(st), want[i], "%s: %s%s", args[i], out, err);
		if (want[i] == 4) {
			has(out,
			    "could not start the scan in the sandbox: Operation not permitted");
			lacks(out, "c.unbounded-copy-from-input");
		} else {
			has(out, "c.unbounded-copy-from-input");
			has(err, "WARNING: --no-sandbox");
		}
		free(st);
		free(out);
		free(err);
	}
	char *cmd = tu_strf("rm -f '%s.out' '%s.err' '%s.st'", dir, dir, dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	tu_rmdir(dir);
	free(dir);
}

/* The scanned tree is the current directory (or -C DIR): a PATH is shown relative to it as
 * before, and one that leads outside it (.., an absolute path, a symbolic link) is a usage
 * error before anything starts. */
Test(scan_sandbox, paths_lie_inside_the_scanned_tree)
{
	char *parent = tu_tmpdir();
	char *tree = tu_strf("%s/tree", parent);
	tu_write(tree, "src/bad.c", bad_c);
	tu_write(parent, "other/bad.c", bad_c);
	char *link = tu_strf("%s/link", tree), *target = tu_strf("%s/other", parent);
	cr_assert_eq(symlink(target, link), 0);
	char *abs_src = tu_strf("%s/src", tree), *abs_other = tu_strf("%s/other", parent);
	const char *outside[] = { "../other", "link", abs_other, "/" };
	for (size_t i = 0; i < 4; i++) {
		struct tu_result r = tu_runner_run(tree, "scan", "sast", outside[i], NULL);
		cr_assert_eq(r.status, 2, "%s: %s%s", outside[i], r.out, r.err);
		has(r.err, "is outside the scanned tree");
		cr_assert_str_eq(r.out, "");
		tu_result_free(&r);
	}
	const char *inside[] = { abs_src, "./src/../src", "src/bad.c" };
	for (size_t i = 0; i < 3; i++) {
		struct tu_result r = tu_runner_run(tree, "scan", "sast", inside[i], NULL);
		cr_assert_eq(r.status, 3, "%s: %s%s", inside[i], r.out, r.err);
		has(r.out, "\nsrc/bad.c:4:2: high c.unbounded-copy-from-input");
		tu_result_free(&r);
	}
	struct tu_result r = tu_runner_run(parent, "scan", "sast", "-C", "tree", "src", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "\nsrc/bad.c:4:2: high c.unbounded-copy-from-input");
	tu_result_free(&r);
	r = tu_runner_run(tree, "scan", "sast", "../nope", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	has(r.err, "cannot read ../nope: No such file or directory");
	tu_result_free(&r);
	free(abs_src);
	free(abs_other);
	free(link);
	free(target);
	free(tree);
	tu_rmdir(parent);
	free(parent);
}

/* Rules and a baseline named outside the scanned tree are read (bound into the sandbox
 * read-only); a rules path that does not exist is the scanner's error, as before. */
Test(scan_sandbox, rules_and_a_baseline_outside_the_tree_are_read)
{
	char *parent = tu_tmpdir();
	char *tree = tu_strf("%s/tree", parent);
	tu_write(tree, "src/a.c", "void f(void) { legacy_unsafe(1); }\n");
	tu_write(parent, "rules/team.yml",
		 "kind: sast\nrules:\n  - id: team.legacy-unsafe\n    languages: [c, cpp]\n"
		 "    severity: high\n    message: legacy_unsafe is deprecated\n"
		 "    pattern: legacy_unsafe(...)\n");
	char *abs_rules = tu_strf("%s/rules/team.yml", parent);
	const char *rules[] = { "../rules/team.yml", abs_rules, "../rules" };
	for (size_t i = 0; i < 3; i++) {
		struct tu_result r = tu_runner_run(tree, "scan", "sast", "--no-default-rules",
						   "--rules", rules[i], NULL);
		cr_assert_eq(r.status, 3, "%s: %s%s", rules[i], r.out, r.err);
		has(r.out, "src/a.c:1:16: high team.legacy-unsafe");
		tu_result_free(&r);
	}
	struct tu_result r =
		tu_runner_run(tree, "scan", "sast", "--no-default-rules", "--rules", "../rules",
			      "--format", "json", "-o", "../base.json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(tree, "scan", "sast", "--no-default-rules", "--rules", "../rules",
			  "--baseline", "../base.json", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "(suppressed, baseline: in the baseline)");
	tu_result_free(&r);
	r = tu_runner_run(tree, "scan", "sast", "--rules", "../rules/nope.yml", NULL);
	cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
	has(r.out, "rules/nope.yml:0:0: cannot read the rules: No such file or directory");
	tu_result_free(&r);
	free(abs_rules);
	free(tree);
	tu_rmdir(parent);
	free(parent);
}

/* Rules and a baseline given through a pipe (`--rules <(...)`, /dev/stdin), which cannot
 * be bound into the sandbox, are read and handed on as a private copy (removed when the
 * scan ends); messages still name the pipe's path. */
Test(scan_sandbox, rules_and_a_baseline_from_a_pipe_are_read)
{
	char *tree = tu_tmpdir();
	tu_write(tree, "src/a.c", "void f(void) { legacy_unsafe(1); }\n");
	tu_write(tree, "team.yml",
		 "kind: sast\nrules:\n  - id: team.legacy-unsafe\n    languages: [c, cpp]\n"
		 "    severity: high\n    message: legacy_unsafe is deprecated\n"
		 "    pattern: legacy_unsafe(...)\n");
	tu_write(tree, "broken.yml", "kind: sast\nrules: [\n");
	char *tmp = tu_tmpdir();
	char *tmpdir = tu_strf("TMPDIR=%s", tmp);
	const char *env[] = { tmpdir, "PATH=/usr/bin:/bin", NULL };
	char *cmd =
		tu_strf("cat team.yml | '%s' scan sast --no-default-rules --rules /dev/stdin "
			"src --format json -o base.json; echo $?; "
			"'%s' scan sast --no-default-rules --rules <(cat team.yml) src "
			"--baseline <(cat base.json); echo $?; "
			"'%s' scan sast --no-default-rules --rules <(cat broken.yml) src; echo $?",
			tu_runner(), tu_runner(), tu_runner());
	const char *argv[] = { "/bin/bash", "-c", cmd, NULL };
	struct tu_result r = tu_run(tree, argv, env, 60);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "3\n");
	has(r.out, "(suppressed, baseline: in the baseline)");
	has(r.out, "0\n");
	has(r.out, "/dev/fd/63:3:1: YAML syntax error");
	has(r.out, "4\n");
	char *json = tu_readf("%s/base.json", tree);
	has(json, "team.legacy-unsafe");
	free(json);
	struct tu_result left =
		tu_run(tmp, (const char *[]){ "/bin/ls", "-A", ".", NULL }, NULL, 10);
	cr_assert_str_eq(left.out, "", "the copies are removed: %s", left.out);
	tu_result_free(&left);
	tu_result_free(&r);
	free(cmd);
	free(tmpdir);
	tu_rmdir(tmp);
	free(tmp);
	tu_rmdir(tree);
	free(tree);
}

/*
 * From a subdirectory of a repository, or in a worktree (whose .git is a file naming a
 * git directory elsewhere), the scan reads the repository's ignore rules (the .gitignore
 * above the tree, .git/info/exclude) and its index (a force-added file is scanned) as it
 * did in the runner's own process: they are bound into the sandbox, read-only.
 */
Test(scan_sandbox, a_subdirectory_or_worktree_keeps_the_repositorys_ignore_rules, .timeout = 60)
{
	char *repo = tu_tmpdir();
	char *conf = tu_strf("GITHUB_TOKEN=%s\n", secret);
	git_sh(GIT " init -q '%s'", repo);
	tu_write(repo, ".gitignore", "*.env\n");
	tu_write(repo, "sub/keys/forced.env", conf);
	git_sh("cd '%s' && " GIT " add -f sub/keys/forced.env", repo);
	free(git_commit(repo, "sub/README", "hello\n"));
	tu_write(repo, "sub/deploy/local.env", conf);
	tu_write(repo, "sub/notes.txt", conf);
	tu_write(repo, ".git/info/exclude", "sub/notes.txt\n");
	char *wt = tu_strf("%s.wt", repo);
	git_sh("cd '%s' && " GIT " worktree add -q '%s'", repo, wt);
	tu_write(wt, "sub/deploy/local.env", conf);
	const char *trees[][2] = { { repo, "sub" }, { wt, "sub" }, { wt, "." } };
	for (size_t i = 0; i < 3; i++) {
		char *dir = tu_strf("%s/%s", trees[i][0], trees[i][1]);
		struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
		cr_assert_eq(r.status, 3, "%s: %s%s", dir, r.out, r.err);
		has(r.out, "keys/forced.env:1:14: critical secret.github-pat");
		lacks(r.out, "local.env");
		lacks(r.out, "notes.txt");
		tu_result_free(&r);
		free(dir);
	}
	git_sh("cd '%s' && git worktree remove --force '%s'", repo, wt);
	free(wt);
	free(conf);
	tu_rmdir(repo);
	free(repo);
}

/*
 * A tree that is not a git repository (a `git archive` output, a CI tarball checkout, a
 * Docker build context without .git) has no index to say which files were committed with
 * --force: `runner scan secrets` and a pipeline's secrets stage read what its .gitignore
 * lists (a key, a .env), as they would in the checkout the files came from, where both are
 * tracked. The sast scan keeps skipping it.
 */
Test(scan_cli, a_tree_without_git_is_scanned_for_secrets_whatever_gitignore_says, .timeout = 60)
{
	char *dir = tu_tmpdir();
	tu_write(dir, ".gitignore", "*.pem\n.env\nbuild/\n");
	tu_write(dir, "deploy/key.pem",
		 "-----BEGIN RSA PRIVATE KEY-----\n"
		 "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n"
		 "-----END RSA PRIVATE KEY-----\n");
	char *conf = tu_strf("GITHUB_TOKEN=%s\n", secret);
	tu_write(dir, ".env", conf);
	free(conf);
	tu_write(dir, "app.py", "print(1)\n");
	tu_write(dir, "build/tool.py", "import os, sys\nos.system(\"make \" + sys.argv[1])\n");
	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	has(r.out, "deploy/key.pem:1:1: critical secret.private-key");
	has(r.out, ".env:1:14: critical secret.github-pat");
	lacks(r.out, "ignored");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "sast", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	has(r.out, "ignored 3");
	tu_result_free(&r);
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  secrets:\n    uses: secrets\n");
	r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *report = tu_readf("%s/.runner/runs/latest/report.json", dir);
	cr_assert_not_null(report);
	has(report, "\"file\": \"deploy/key.pem\"");
	has(report, "\"file\": \".env\"");
	free(report);
	tu_rmdir(dir);
	free(dir);
}
