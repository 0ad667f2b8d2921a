/*
 * test-options.c - every command's options through the real runner binary, GNU style:
 * options after operands (`runner scan deps . --format json`), mixed with them, also with
 * POSIXLY_CORRECT set (which would make glibc's getopt stop at the first operand); `--`
 * ends the options, so a path named `--x` can be given after it; long options by
 * unambiguous prefix and as --name=value; and usage errors exit 2 with a message that
 * names the option (unknown, ambiguous, a missing value, a value for one that takes
 * none) and the command's help; --help is an option too, never an option's value.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *db;

static void setup(void)
{
	dir = tu_tmpdir();
	db = tu_strf("%s/osv.db", dir);
	setenv("CI", "true", 1);
	unsetenv("RUNNER_DB");
}

static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
	free(db);
}

TestSuite(options, .init = setup, .fini = teardown, .timeout = 120);

static void expect_in(const char *hay, const char *needle, const char *what)
{
	cr_expect_not_null(strstr(hay, needle), "%s: expected '%s' in:\n%s", what, needle, hay);
}

/* `runner db import` with its option after the operands: the advisories of the fixtures. */
static void import_db(void)
{
	char *osv = tu_fixture("osv");
	struct tu_result r = tu_runner_run(dir, "db", "import", osv, "--db", db, NULL);
	cr_assert_eq(r.status, 0, "db import PATH --db: %s%s", r.out, r.err);
	tu_result_free(&r);
	r = tu_runner_run(dir, "db", "status", "--json", "--db", db, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_expect(json_is_object(j), "%s", r.out);
	json_decref(j);
	tu_result_free(&r);
	free(osv);
}

/* stdout parsed as JSON (the test fails when it is not), caller decrefs. */
static json_t *json_of(const struct tu_result *r, const char *what)
{
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);
	cr_assert_not_null(j, "%s: not JSON (%s):\n%s\n%s", what, e.text, r->out, r->err);
	return j;
}

static json_int_t lockfiles_of(const json_t *doc)
{
	return json_integer_value(json_object_get(json_object_get(doc, "stats"), "lockfiles"));
}

Test(options, options_after_operands_in_every_command)
{
	import_db();
	tu_write(dir, "app/requirements.txt", "six==1.16.0\n");
	tu_write(dir, "app/main.py", "print('hello')\n");
	tu_write(dir, ".runner.yml", "version: 1\nstages:\n  a: { run: \"true\" }\n");

	/* The example of the issue: --db before, --format after the path. */
	struct tu_result r =
		tu_runner_run(dir, "scan", "deps", "--db", db, "app", "--format", "json", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	json_t *doc = json_of(&r, "scan deps PATH --format json");
	cr_expect_eq(lockfiles_of(doc), 1);
	json_decref(doc);
	tu_result_free(&r);
	/* Everything after, the =VALUE form, a prefix, and POSIXLY_CORRECT. */
	setenv("POSIXLY_CORRECT", "1", 1);
	r = tu_runner_run(dir, "scan", "deps", "app", "--form=json", "--db", db, NULL);
	unsetenv("POSIXLY_CORRECT");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	doc = json_of(&r, "scan deps PATH --form=json --db DB, POSIXLY_CORRECT");
	cr_expect_eq(lockfiles_of(doc), 1);
	json_decref(doc);
	tu_result_free(&r);

	/* sbom: operands between options, the operands in their order. */
	char *out = tu_strf("%s/sbom.json", dir);
	r = tu_runner_run(dir, "sbom", "app", "--name", "demo", "-o", out, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "");
	char *sbom = tu_read(out);
	cr_assert_not_null(sbom);
	expect_in(sbom, "\"name\": \"demo\"", "sbom --name after PATH");
	expect_in(sbom, "pkg:pypi/six@1.16.0", "sbom PATH");
	free(sbom);
	tu_result_free(&r);

	/* scan sast and secrets. */
	const char *const scans[] = { "sast", "secrets" };
	for (size_t i = 0; i < 2; i++) {
		r = tu_runner_run(dir, "scan", scans[i], "app", "--format", "json", NULL);
		cr_assert_eq(r.status, 0, "scan %s: %s%s", scans[i], r.out, r.err);
		json_decref(json_of(&r, scans[i]));
		tu_result_free(&r);
	}

	/* Commands without operands: an option after anything is an option, an operand is
	 * still an unexpected argument (exit 2), wherever it stands. The hook's action and
	 * image push's operands may come after options too. */
	static const struct {
		const char *args[7];
		int status;
		const char *says;
	} cases[] = {
		{ { "validate", "-f", ".runner.yml", "-q" }, 0, NULL },
		{ { "validate", "extra", "-q" }, 2, "unexpected argument 'extra'" },
		{ { "graph", "--format", "json", "-f", ".runner.yml" }, 0, NULL },
		{ { "run", "--json", "extra" }, 2, "unexpected argument 'extra'" },
		{ { "image", "build", "ctx", "--output", "out" }, 2, "unexpected argument 'ctx'" },
		{ { "serve", "x", "--check" }, 2, "unexpected argument 'x'" },
		{ { "hook", "--force", "install", "-C", "/" },
		  2,
		  "is not inside a git repository" },
		{ { "image", "push", "layout", "-q", "localhost:1/x:1", "--retries", "0" },
		  2,
		  "cannot open the image layout layout" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[9] = { tu_runner() };
		for (size_t k = 0; k < 7 && cases[i].args[k]; k++) {
			argv[k + 1] = cases[i].args[k];
		}
		r = tu_run(dir, argv, NULL, 60);
		cr_expect_eq(r.status, cases[i].status, "case %zu: %s%s", i, r.out, r.err);
		if (cases[i].says) {
			expect_in(r.err, cases[i].says, cases[i].args[0]);
		}
		tu_result_free(&r);
	}
	free(out);
}

/* `--` ends the options: a path named --x (or -o) after it is a path, never an option;
 * without it, --x is an unknown option. */
Test(options, double_dash_ends_the_options)
{
	import_db();
	tu_write(dir, "--x/requirements.txt", "six==1.16.0\n");
	tu_write(dir, "-o/requirements.txt", "six==1.16.0\n");
	struct tu_result r = tu_runner_run(dir, "scan", "deps", "--db", db, "--x", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	expect_in(r.err, "unknown option '--x'", "scan deps --x");
	tu_result_free(&r);
	r = tu_runner_run(dir, "scan", "deps", "--format", "json", "--db", db, "--", "--x", "-o",
			  NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	json_t *doc = json_of(&r, "scan deps -- --x -o");
	cr_expect_eq(lockfiles_of(doc), 2);
	json_decref(doc);
	tu_result_free(&r);
	r = tu_runner_run(dir, "sbom", "--", "-o", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	expect_in(r.out, "pkg:pypi/six@1.16.0", "sbom -- -o");
	tu_result_free(&r);
	r = tu_runner_run(dir, "db", "import", "--db", db, "--", "--missing", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	expect_in(r.err, "--missing", "db import -- --missing");
	tu_result_free(&r);
	/* `--help` after `--` is an operand, not a request for help. */
	r = tu_runner_run(dir, "scan", "deps", "--db", db, "--", "--help", NULL);
	cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
	cr_expect_null(strstr(r.out, "usage:"), "%s", r.out);
	tu_result_free(&r);
}

/* A usage error is exit 2 with a message that names what is wrong, and the hint to the
 * command's help; nothing on standard output. */
Test(options, usage_errors_name_the_option)
{
	static const struct {
		const char *args[6];
		const char *says;
	} cases[] = {
		{ { "scan", "deps", ".", "--bogus" }, "unknown option '--bogus'" },
		{ { "scan", "deps", ".", "--format" }, "option '--format' needs a value" },
		{ { "scan", "deps", "--f", "json" }, "option '--f' is ambiguous: it begins" },
		{ { "scan", "deps", "--no-sandbox=yes" }, "option '--no-sandbox' takes no value" },
		{ { "sbom", ".", "-z" }, "unknown option '-z'" },
		{ { "sbom", ".", "-o" }, "option '-o' needs a value" },
		{ { "sbom", "--output=x", "--allowed" }, "unknown option '--allowed'" },
		{ { "run", "--nope=1" }, "unknown option '--nope'" },
		{ { "run", "-j" }, "option '-j' needs a value" },
		{ { "validate", "--quiet=1" }, "option '--quiet' takes no value" },
		{ { "graph", "--format" }, "option '--format' needs a value" },
		{ { "hook", "install", "--max" }, "option '--max-commits' needs a value" },
		{ { "db", "status", "--nope" }, "unknown option '--nope'" },
		{ { "scan", "sast", ".", "--no" }, "option '--no' is ambiguous" },
		{ { "scan", "sast", "--secrets" }, "--secrets is not an option of scan sast" },
		{ { "scan", "test", "--exclude", "x", "." },
		  "--exclude is not an option of scan test" },
		{ { "image", "build", "--nope" }, "unknown option '--nope'" },
		{ { "image", "push", "--jobs" }, "option '--jobs' needs a value" },
		{ { "serve", "--config" }, "option '--config' needs a value" },
		{ { "sandbox", "check", "--nope" }, "unknown option '--nope'" },
		/* In a cluster of short options after a `--x=y` word, the letter is named,
		 * not the word before the cluster. */
		{ { "run", "--env=A=1", "-Zq" }, "unknown option '-Z'" },
		{ { "sbom", "--output=x", "-qz" }, "unknown option '-q'" },
		{ { "run", "--env=A=1", "-j" }, "option '-j' needs a value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[9] = { tu_runner() };
		size_t n = 1;
		for (size_t k = 0; k < 6 && cases[i].args[k]; k++) {
			argv[n++] = cases[i].args[k];
		}
		struct tu_result r = tu_run(dir, argv, NULL, 60);
		cr_expect_eq(r.status, 2, "case %zu: %s%s", i, r.out, r.err);
		expect_in(r.err, cases[i].says, cases[i].args[0]);
		char *hint = tu_strf("hint: see 'runner %s", cases[i].args[0]);
		expect_in(r.err, hint, cases[i].args[0]);
		cr_expect_str_eq(r.out, "", "case %zu", i);
		free(hint);
		tu_result_free(&r);
	}
}

/*
 * --help and -h ask for the command's help where the options read them as options, as
 * getopt_long and git take them: among the options and operands, in a cluster of short
 * options, right after the command (before a subcommand's word). An option that takes a
 * value takes the next argument whatever it is: `--name --help` names the SBOM
 * "--help", and `-o -h` writes it to the file "-h". After `--` it is an operand (above).
 */
Test(options, help_is_an_option_never_an_options_value)
{
	tu_write(dir, "app/requirements.txt", "six==1.16.0\n");
	static const struct {
		const char *args[6];
		const char *usage;
	} help[] = {
		{ { "sbom", "app", "--help" }, "usage: runner sbom" },
		{ { "sbom", "--name", "x", "-h", "app" }, "usage: runner sbom" },
		{ { "scan", "--help" }, "usage: runner scan" },
		{ { "scan", "deps", "--format", "json", "app", "--help" },
		  "usage: runner scan deps" },
		{ { "scan", "sast", "-o", "out", "--help" }, "usage: runner scan sast" },
		{ { "db", "status", "-h" }, "usage: runner db status" },
		{ { "validate", "-qh" }, "usage: runner validate" },
		{ { "image", "push", "--help" }, "usage: runner image push" },
		{ { "hook", "--force", "install", "-h" }, "usage: runner hook install" },
	};
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		const char *argv[9] = { tu_runner() };
		for (size_t k = 0; k < 6 && help[i].args[k]; k++) {
			argv[k + 1] = help[i].args[k];
		}
		struct tu_result r = tu_run(dir, argv, NULL, 60);
		cr_expect_eq(r.status, 0, "case %zu: %s%s", i, r.out, r.err);
		cr_expect(strncmp(r.out, help[i].usage, strlen(help[i].usage)) == 0, "case %zu: %s",
			  i, r.out);
		cr_expect_str_eq(r.err, "", "case %zu", i);
		tu_result_free(&r);
	}

	/* As a value: the SBOM's name, the output file, a pipeline file. */
	struct tu_result r = tu_runner_run(dir, "sbom", "--name", "--help", "app", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_null(strstr(r.out, "usage:"), "%s", r.out);
	json_t *doc = json_of(&r, "sbom --name --help");
	cr_expect_str_eq(
		json_string_value(json_object_get(
			json_object_get(json_object_get(doc, "metadata"), "component"), "name")),
		"--help");
	json_decref(doc);
	tu_result_free(&r);
	r = tu_runner_run(dir, "sbom", "app", "-o", "-h", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_str_eq(r.out, "");
	char *written = tu_strf("%s/-h", dir);
	char *sbom = tu_read(written);
	cr_expect(sbom && strstr(sbom, "pkg:pypi/six@1.16.0"), "-o -h wrote no SBOM to -h");
	free(sbom);
	free(written);
	tu_result_free(&r);
	r = tu_runner_run(dir, "validate", "-f", "--help", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	expect_in(r.err, "--help", "validate -f --help");
	cr_expect_null(strstr(r.out, "usage:"), "%s", r.out);
	tu_result_free(&r);

	/* Options are read in order: a usage error before it is said, as getopt's
	 * callers and git say it; --help takes no value. */
	r = tu_runner_run(dir, "scan", "deps", "--bogus", "--help", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	expect_in(r.err, "unknown option '--bogus'", "scan deps --bogus --help");
	tu_result_free(&r);
	r = tu_runner_run(dir, "sbom", "--help=yes", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	expect_in(r.err, "option '--help' takes no value", "sbom --help=yes");
	tu_result_free(&r);
}

/*
 * `runner CMD SUB --help` is the subcommand's own help, as git, cargo and docker give
 * it: its usage, what it does, the options it takes and no other's, its exit codes, and
 * the way to the overview; `runner CMD --help` is that overview, every subcommand's
 * synopsis. `runner help CMD SUB` is the same help.
 */
Test(options, a_subcommands_help_is_its_own)
{
	static const struct {
		const char *args[5];
		const char *usage;
		const char *has[3];
		const char *lacks[4];
	} cases[] = {
		{ { "db", "import", "--help" },
		  "usage: runner db import [--db PATH] PATH...\n",
		  { "--db PATH", "Exit codes: 0 done" },
		  { "--url", "--json", "--timeout", "runner db update" } },
		{ { "db", "update", "-h" },
		  "usage: runner db update",
		  { "--url URL", "--timeout DURATION", "--db PATH" },
		  { "--json", "runner db import" } },
		{ { "db", "status", "--help" },
		  "usage: runner db status",
		  { "--json", "Exit codes: 0 shown" },
		  { "--url", "--timeout" } },
		{ { "scan", "deps", "--help" },
		  "usage: runner scan deps",
		  { "--maven-repository DIR", "--max-db-age" },
		  { "--allow-regex", "--history", "--rules", "runner scan sast" } },
		{ { "scan", "secrets", "--help" },
		  "usage: runner scan secrets",
		  { "--allow-regex RE", "--history RANGE", "--not-remote" },
		  { "--maven-repository", "--db", "--sbom" } },
		{ { "scan", "sast", "--help" },
		  "usage: runner scan sast",
		  { "--generated", "--rules PATH" },
		  { "--allow-regex", "--allow-path", "--history", "--maven-repository" } },
		{ { "scan", "test", "--help" },
		  "usage: runner scan test",
		  { "--secrets", "Exit codes: 0 every rule passes, 1" },
		  { "--exclude", "--fail-on", "--baseline" } },
		{ { "hook", "uninstall", "--help" },
		  "usage: runner hook uninstall",
		  { "--force", "-C DIR" },
		  { "--max-commits", "--file", "runner hook install [" } },
		{ { "hook", "install", "--help" },
		  "usage: runner hook install",
		  { "--max-commits N", "-f, --file FILE" },
		  { "runner hook uninstall" } },
		{ { "image", "push", "--help" },
		  "usage: runner image push",
		  { "--retries N", "--credentials NAME" },
		  { "--entrypoint", "--base", "runner image build" } },
		{ { "image", "build", "--help" },
		  "usage: runner image build",
		  { "--entrypoint JSON", "--credentials NAME" },
		  { "--retries", "--chunk-size", "runner image push" } },
		{ { "sandbox", "check", "--help" },
		  "usage: runner sandbox check",
		  { "--json", "Exit codes: 0 stages can run confined here" },
		  { NULL } },
		{ { "help", "db", "import" },
		  "usage: runner db import",
		  { "--db PATH" },
		  { "--url", "--json" } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[8] = { tu_runner() };
		for (size_t k = 0; k < 5 && cases[i].args[k]; k++) {
			argv[k + 1] = cases[i].args[k];
		}
		struct tu_result r = tu_run(dir, argv, NULL, 60);
		char *what = tu_strf("runner %s %s %s", cases[i].args[0], cases[i].args[1],
				     cases[i].args[2] ? cases[i].args[2] : "");
		cr_expect_eq(r.status, 0, "%s: %s%s", what, r.out, r.err);
		cr_expect(strncmp(r.out, cases[i].usage, strlen(cases[i].usage)) == 0, "%s:\n%s",
			  what, r.out);
		for (size_t k = 0; k < 3 && cases[i].has[k]; k++) {
			expect_in(r.out, cases[i].has[k], what);
		}
		for (size_t k = 0; k < 4 && cases[i].lacks[k]; k++) {
			cr_expect_null(strstr(r.out, cases[i].lacks[k]), "%s: '%s' in:\n%s", what,
				       cases[i].lacks[k], r.out);
		}
		/* The way to the overview. */
		const char *cmd =
			strcmp(cases[i].args[0], "help") == 0 ? cases[i].args[1] : cases[i].args[0];
		char *overview = tu_strf("'runner %s --help'", cmd);
		expect_in(r.out, overview, what);
		free(overview);
		cr_expect_str_eq(r.err, "", "%s", what);
		free(what);
		tu_result_free(&r);
	}

	/* The overview: every subcommand's synopsis, and the way to each one's help. */
	static const struct {
		const char *cmd;
		const char *subs[4];
	} overviews[] = {
		{ "db", { "import", "update", "status" } },
		{ "scan", { "sast", "secrets", "test", "deps" } },
		{ "hook", { "install", "uninstall" } },
		{ "image", { "build", "push" } },
		{ "sandbox", { "check" } },
	};
	for (size_t i = 0; i < sizeof(overviews) / sizeof(overviews[0]); i++) {
		struct tu_result r = tu_runner_run(dir, overviews[i].cmd, "--help", NULL);
		cr_expect_eq(r.status, 0, "%s: %s", overviews[i].cmd, r.err);
		for (size_t k = 0; k < 4 && overviews[i].subs[k]; k++) {
			char *syn =
				tu_strf("runner %s %s ", overviews[i].cmd, overviews[i].subs[k]);
			expect_in(r.out, syn, overviews[i].cmd);
			free(syn);
		}
		char *more = tu_strf("Run 'runner %s SUBCOMMAND --help'", overviews[i].cmd);
		expect_in(r.out, more, overviews[i].cmd);
		free(more);
		tu_result_free(&r);
	}
	struct tu_result r = tu_runner_run(dir, "help", "db", "bogus", NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	expect_in(r.err, "'runner db' has no subcommand 'bogus'", "help db bogus");
	tu_result_free(&r);
}

/* An option a subcommand does not take is a usage error, exit 2, whose hint is that
 * subcommand's help, as is every other usage error of it: another subcommand's option
 * is not taken silently (`runner db import --json`). */
Test(options, a_subcommands_usage_errors_point_to_its_help)
{
	/* A runner that took the option would read and write this database, never the
	 * user's. */
	setenv("RUNNER_DB", db, 1);
	static const struct {
		const char *args[6];
		const char *says, *help;
	} cases[] = {
		{ { "db", "import", "--json", "x" }, "unknown option '--json'", "db import" },
		{ { "db", "import", "--url", "u", "x" }, "unknown option '--url'", "db import" },
		{ { "db", "status", "--timeout", "1m" },
		  "unknown option '--timeout'",
		  "db status" },
		{ { "db", "update", "--bogus" }, "unknown option '--bogus'", "db update" },
		{ { "scan", "deps", "--allow-regex", "x" },
		  "unknown option '--allow-regex'",
		  "scan deps" },
		{ { "scan", "sast", "--allow-regex", "x" },
		  "are for the secrets scan",
		  "scan sast" },
		{ { "scan", "secrets", "--format", "xml" },
		  "unknown format 'xml'",
		  "scan secrets" },
		{ { "scan", "test", "--exclude", "x", "." },
		  "--exclude is not an option of scan test",
		  "scan test" },
		{ { "hook", "uninstall", "--bogus" },
		  "unknown option '--bogus'",
		  "hook uninstall" },
		{ { "image", "push", "--entrypoint", "x" },
		  "unknown option '--entrypoint'",
		  "image push" },
		{ { "image", "build", "--retries", "1" },
		  "unknown option '--retries'",
		  "image build" },
		{ { "sandbox", "check", "--nope" }, "unknown option '--nope'", "sandbox check" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[9] = { tu_runner() };
		for (size_t k = 0; k < 6 && cases[i].args[k]; k++) {
			argv[k + 1] = cases[i].args[k];
		}
		struct tu_result r = tu_run(dir, argv, NULL, 60);
		cr_expect_eq(r.status, 2, "case %zu: %s%s", i, r.out, r.err);
		expect_in(r.err, cases[i].says, cases[i].help);
		char *hint = tu_strf("hint: see 'runner %s --help'", cases[i].help);
		expect_in(r.err, hint, cases[i].help);
		free(hint);
		cr_expect_str_eq(r.out, "", "case %zu", i);
		tu_result_free(&r);
	}
}
