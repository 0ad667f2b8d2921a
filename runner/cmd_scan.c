/*
 * cmd_scan.c - `runner scan`: the security scans outside pipelines (a pre-commit hook, an
 * editor, a one-off audit), with the exit codes of the stages: 0 passed, 3 blocked by the
 * gate, 4 scanner error; 2 for usage errors.
 *
 * Each scan is one entry of `scans` below: a name and a function taking the arguments
 * after `runner scan NAME` (the dependency scan is in cmd_scan_deps.c); its help is its
 * entry of scan_subs (cli.h, struct cli_help), deps's too. The
 * source scans share the output helper cli_scan_output() (text, json or sarif, to stdout
 * or -o FILE).
 *
 * The scans run in the stage sandbox (runner/scanbox.h): the kind's worker on the current
 * directory (or -C DIR) as its read-only workspace, every PATH inside it; this process
 * only writes the report from the worker's result. `scan test` (rule authors' fixtures)
 * runs in this process.
 */
#include "cli.h"
#include "histscan.h"
#include "output.h"
#include "scanbox.h"

#include "diag.h"
#include "finding.h"
#include "gate.h"
#include "gitexport.h"
#include "rules.h"
#include "ruletest.h"
#include "sarif.h"
#include "sbuf.h"
#include "scan.h"
#include "secscan.h"
#include "stage.h"
#include "util.h"
#include "walk.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

static int scan_sast(int argc, char **argv);
static int scan_secrets(int argc, char **argv);
static int scan_test(int argc, char **argv);

struct scan_command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct scan_command scans[] = {
	{ "sast", scan_sast },
	{ "secrets", scan_secrets },
	{ "test", scan_test },
	{ "deps", cmd_scan_deps },
};

/* ---------- help ---------- */

static const struct cli_flag scan_flags[] = {
	{ "format-sarif", "--format FORMAT",
	  "text (default), json (what --baseline reads) or sarif" },
	{ "format-json", "--format FORMAT", "text (default) or json" },
	{ "output", "-o, --output FILE", "write the report to FILE instead of standard output" },
	{ "fail-on", "--fail-on LEVEL",
	  "block at this severity or above: critical, high (default), medium, low or info" },
	{ "rules", "--rules PATH",
	  "a rules file or directory, added to the default packs (repeatable)" },
	{ "no-default-rules", "--no-default-rules", "only the rules given with --rules" },
	{ "baseline", "--baseline FILE",
	  "findings listed there (the JSON report of an earlier scan) do not block" },
	{ "exclude", "--exclude GLOB", "skip matching paths (repeatable)" },
	{ "max-file-size-sast", "--max-file-size SIZE", "do not read larger files (default 4M)" },
	{ "max-file-size-secrets", "--max-file-size SIZE",
	  "do not read larger files (default 64M); a larger text file is reported as a finding" },
	{ "no-gitignore", "--no-gitignore", "scan files .gitignore excludes too" },
	{ "vendored", "--vendored", "scan vendored directories (vendor/, node_modules/, ...)" },
	{ "generated", "--generated",
	  "scan generated files (*.min.js, `Code generated ... DO NOT EDIT`), skipped by default" },
	{ "no-generated", "--no-generated", "skip generated files (scanned by default)" },
	{ "jobs", "-j, --jobs N", "threads (default: the CPUs)" },
	{ "timeout", "--timeout DURATION", "give up (an error) after this long, e.g. 5m" },
	{ "allow-path", "--allow-path GLOB", "do not scan matching files (test fixtures)" },
	{ "allow-regex", "--allow-regex RE", "ignore secrets matching RE (placeholders)" },
	{ "history", "--history RANGE",
	  "scan the commits of BASE..TIP, or of TIP (its whole history), instead of a tree" },
	{ "not-remote", "--not-remote NAME", "leave out what refs/remotes/NAME/... reach" },
	{ "max-commits", "--max-commits N",
	  "more commits is an error (default 10000), as are more than 1000000 files or 8 GiB "
	  "to scan" },
	{ "secrets", "--secrets", "test the secrets rules instead of the SAST rules" },
	{ "db", "--db PATH",
	  "the advisory database (default: $RUNNER_DB, else $XDG_CACHE_HOME/runner/osv.db, else "
	  "~/.cache/runner/osv.db)" },
	{ "max-db-age", "--max-db-age DURATION",
	  "refuse an older database (default 7d, at least 1s; 0 = no limit)" },
	{ "unknown-severity", "--unknown-severity LEVEL",
	  "the severity of advisories that give none (default high)" },
	{ "sbom", "--sbom FILE", "also write a CycloneDX 1.5 SBOM to FILE" },
	{ "allow-no-lockfiles", "--allow-no-lockfiles",
	  "no lockfile found is a scan of nothing (said on stderr), not an error" },
	{ "maven-repository", "--maven-repository DIR",
	  "read the BOMs and parent POMs that pom.xml files name and the tree does not hold "
	  "from this local Maven repository (e.g. ~/.m2/repository; nothing is fetched)" },
	{ "C", "-C DIR",
	  "scan from DIR, as if run there: PATHs and the files the options name are relative "
	  "to it, and PATHs must be inside" },
	{ "no-sandbox", "--no-sandbox",
	  "run the scanner WITHOUT isolation (debugging only; the report says so)" },
	{ NULL, NULL, NULL },
};

static const char *const sast_flags[] = {
	"format-sarif",	    "output",	"fail-on",    "rules",
	"no-default-rules", "baseline", "exclude",    "max-file-size-sast",
	"no-gitignore",	    "vendored", "generated",  "jobs",
	"timeout",	    "C",	"no-sandbox", NULL,
};

static const char *const secrets_flags[] = {
	"format-sarif",
	"output",
	"fail-on",
	"rules",
	"no-default-rules",
	"baseline",
	"exclude",
	"max-file-size-secrets",
	"no-gitignore",
	"vendored",
	"no-generated",
	"jobs",
	"timeout",
	"allow-path",
	"allow-regex",
	"history",
	"not-remote",
	"max-commits",
	"C",
	"no-sandbox",
	NULL,
};

static const char *const test_flags[] = { "rules", "no-default-rules", "secrets", "format-json",
					  NULL };

static const char *const deps_flags[] = {
	"db",	"max-db-age", "fail-on",    "unknown-severity",	  "baseline",	      "format-json",
	"sbom", "C",	      "no-sandbox", "allow-no-lockfiles", "maven-repository", NULL,
};

#define SUPPRESS                                                                                   \
	"Findings are suppressed inline with a comment `runner:ignore RULE-ID -- reason` on the\n" \
	"line or the line above.\n"

#define SOURCE_EXITS                                                                         \
	"Exit codes: 0 nothing at or above the threshold, 3 blocked, 4 scanner or sandbox\n" \
	"error (unreadable path, invalid rules, nothing scanned), 2 usage.\n"

static const struct cli_sub scan_subs[] = {
	{ "sast",
	  "static analysis of source code (C/C++, Python, JS/TS, Go, Java, shell, Dockerfiles, "
	  "CI YAML)",
	  "runner scan sast [PATH...] [options]\n",
	  "Scan the files under each PATH (default: the current directory, which they must be\n"
	  "inside) as the pipeline's sast stage does: in the stage sandbox, with the same gate.\n"
	  "\n" SUPPRESS,
	  sast_flags, SOURCE_EXITS },
	{ "secrets", "secret detection (tokens, keys, passwords), reported redacted",
	  "runner scan secrets [PATH...] [options]\n"
	  "runner scan secrets --history [BASE..]TIP [--not-remote NAME] [--max-commits N]\n"
	  "                    [options]\n",
	  "Scan the files under each PATH (default: the current directory, which they must be\n"
	  "inside) for secrets as the pipeline's secrets stage does: in the stage sandbox, with\n"
	  "the same gate; a secret is never printed, only its first characters and a hash.\n"
	  "\n" SUPPRESS "\n"
	  "With --history, scan instead, in the stage sandbox, every file the commits of a range\n"
	  "add or change (each blob once), naming each finding's commit and path. The range is\n"
	  "TIP without what BASE reaches (and what remote NAME's tracking refs reach). All files\n"
	  "are read; --allow-path and --exclude match the commits' paths. Not with PATHs,\n"
	  "--rules, --no-default-rules, --baseline, --no-gitignore, --vendored, --[no-]generated\n"
	  "or --format sarif.\n",
	  secrets_flags, SOURCE_EXITS },
	{ "test", "check rules against labelled fixtures (ruleid: / ok: comments)",
	  "runner scan test [--rules PATH]... [--no-default-rules] [--secrets]\n"
	  "                 [--format text|json] FIXTURES...\n",
	  "Check the rules (the default packs unless --no-default-rules, and each --rules; the\n"
	  "secrets rules with --secrets) against labelled fixtures (ruleid: ID and ok: ID\n"
	  "comments), in this process.\n",
	  test_flags,
	  "Exit codes: 0 every rule passes, 1 a rule fails or lacks a ruleid: or an ok: case,\n"
	  "2 usage or a fixture that cannot be read, 4 rules that do not load.\n" },
	{ "deps", "vulnerable dependencies (lockfiles against the offline OSV database)",
	  "runner scan deps [--db PATH] [--max-db-age DURATION] [--fail-on LEVEL]\n"
	  "                 [--unknown-severity LEVEL] [--baseline FILE]\n"
	  "                 [--format text|json] [--sbom FILE] [-C DIR] [--no-sandbox]\n"
	  "                 [--allow-no-lockfiles] [--maven-repository DIR] [PATH...]\n",
	  "Check the lockfiles and manifests under each PATH (default: .) against the offline\n"
	  "OSV database (see 'runner db --help') as the pipeline's dependency-scan stage does:\n"
	  "in the stage sandbox, with the same gate. Directories are walked; node_modules,\n"
	  "vendor and .git are skipped.\n",
	  deps_flags,
	  "Exit codes: 0 nothing at or above the threshold, 3 blocked, 4 the scan could not\n"
	  "be done (no or stale database, malformed lockfile, no lockfile found, a sandbox\n"
	  "that cannot start), 2 usage.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_help cmd_scan_help = {
	"scan",
	"Scan files the way the pipeline's security stages do, in the stage sandbox, with the\n"
	"same gates (`runner scan test` checks rules, in this process).\n",
	scan_flags,
	scan_subs,
	"Exit codes: 0 nothing at or above the threshold, 3 blocked, 4 scanner or sandbox\n"
	"error, 2 usage; scan test: 1 a rule fails.\n",
};

/* The subcommand being run, "scan sast" ..., for usage errors to name (their hint is to
 * its help). */
static const char *scan_cmd = "scan";

/* ---------- output shared by the security scans ---------- */

int cli_scan_output(const char *what, const char *root, json_t *result, int code,
		    const char *format, const char *output)
{
	char *text = NULL;
	size_t len = 0;
	if (str_eq(format, "text")) {
		FILE *m = open_memstream(&text, &len);
		if (!m) {
			return EXIT_INTERNAL;
		}
		secscan_print_text(m, what, result, 0);
		fclose(m);
		/* File names, messages and source lines are the scanned tree's: their escape
		 * sequences reach neither the terminal nor the report file. */
		char *clean = text ? output_clean(text) : NULL;
		free(text);
		text = clean;
	} else if (str_eq(format, "json")) {
		json_t *o = json_deep_copy(result);
		json_object_set_new(o, "scan", json_string(what));
		json_object_set_new(o, "runner_version", json_string(RUNNER_VERSION));
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
	} else {
		char *prefix = NULL, *top = NULL;
		walk_repo_prefix(root, &prefix, &top);
		char category[64];
		snprintf(category, sizeof(category), "runner/%s/", what);
		struct sarif_run_info ri = {
			.tool_version = RUNNER_VERSION,
			.category = category,
			.uri_prefix = prefix,
			.srcroot = top,
			.execution_successful = code != STAGE_EXIT_ERROR,
			.error_message = json_string_value(json_object_get(result, "error")),
			.warning_message = json_string_value(json_object_get(result, "warning")),
		};
		json_t *log = sarif_from_findings_json(json_object_get(result, "findings"), &ri);
		text = json_dumps(log, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(log);
		free(prefix);
		free(top);
	}
	if (!text) {
		return EXIT_INTERNAL;
	}
	len = strlen(text);
	if (!str_eq(format, "text")) {
		text = xrealloc(text, len + 2);
		text[len++] = '\n';
		text[len] = '\0';
	}
	int exit = code == STAGE_EXIT_PASSED	? EXIT_OK
		   : code == STAGE_EXIT_BLOCKED ? EXIT_BLOCKED
						: EXIT_INTERNAL;
	if (output) {
		int r = write_file_atomic(output, text, len, 0644);
		if (r < 0) {
			fprintf(stderr, "runner: cannot write %s: %s\n", output, strerror(-r));
			free(text);
			return EXIT_INTERNAL;
		}
		fprintf(stderr, "%s: %s (report in %s)\n", what,
			json_string_value(json_object_get(result, "summary")), output);
	} else {
		/* A report that cannot be written is an error: main's finish_stdout() makes
		 * the exit code 4 and says why. */
		output_write(stdout, text, len);
	}
	if (code == STAGE_EXIT_ERROR && !str_eq(format, "text") && !output) {
		fprintf(stderr, "runner: %s\n",
			json_string_value(json_object_get(result, "summary")));
	}
	free(text);
	return exit;
}

/* ---------- options of sast and secrets ---------- */

enum {
	OPT_FORMAT = 256,
	OPT_FAIL_ON,
	OPT_RULES,
	OPT_NO_DEFAULT_RULES,
	OPT_BASELINE,
	OPT_EXCLUDE,
	OPT_MAX_FILE_SIZE,
	OPT_NO_GITIGNORE,
	OPT_VENDORED,
	OPT_GENERATED,
	OPT_NO_GENERATED,
	OPT_TIMEOUT,
	OPT_ALLOW_PATH,
	OPT_ALLOW_REGEX,
	OPT_SECRETS,
	OPT_HISTORY,
	OPT_NOT_REMOTE,
	OPT_MAX_COMMITS,
	OPT_NO_SANDBOX,
};

static const struct option scan_opts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "no-default-rules", no_argument, NULL, OPT_NO_DEFAULT_RULES },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE },
	{ "no-gitignore", no_argument, NULL, OPT_NO_GITIGNORE },
	{ "vendored", no_argument, NULL, OPT_VENDORED },
	{ "generated", no_argument, NULL, OPT_GENERATED },
	{ "no-generated", no_argument, NULL, OPT_NO_GENERATED },
	{ "jobs", required_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "allow-path", required_argument, NULL, OPT_ALLOW_PATH },
	{ "allow-regex", required_argument, NULL, OPT_ALLOW_REGEX },
	{ "secrets", no_argument, NULL, OPT_SECRETS },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "not-remote", required_argument, NULL, OPT_NOT_REMOTE },
	{ "max-commits", required_argument, NULL, OPT_MAX_COMMITS },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ NULL, 0, NULL, 0 },
};

/* The long name of scan option c (for an option a scan does not take), or "?". */
static const char *option_name(int c)
{
	for (size_t i = 0; scan_opts[i].name; i++) {
		if (scan_opts[i].val == c) {
			return scan_opts[i].name;
		}
	}
	return "?";
}

/* A string into a with: array; a string JSON cannot hold (not UTF-8) is an error, never
 * a setting silently dropped. */
static int put_string(json_t *arr, const char *s)
{
	json_t *j = json_string(s);
	return j && json_array_append_new(arr, j) == 0 ? 0 : -EINVAL;
}

/* v (an option's value) into with[key]; a value that is not UTF-8 is a usage error (said
 * here): the option would otherwise be dropped, a rules file with it. */
static int append(json_t *with, const char *key, const char *v)
{
	json_t *a = json_object_get(with, key);
	if (!a) {
		a = json_array();
		json_object_set_new(with, key, a);
	}
	if (put_string(a, v) < 0) {
		_cleanup_free_ char *shown = utf8_sanitize(v, strlen(v));
		cli_usage_error(scan_cmd,
				"'%s' is not UTF-8: runner scan takes its paths, globs and "
				"patterns in UTF-8",
				shown);
		return -EINVAL;
	}
	return 0;
}

/* ---------- secrets --history ---------- */

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* The text form of a history scan's result: each finding's file as COMMIT:PATH (twelve
 * digits of the commit), its blob's other places after its message, the commits and
 * files counted in the summary, and what to do about a secret in the history. */
static json_t *history_text_view(const json_t *result, int code)
{
	json_t *v = json_deep_copy(result);
	json_t *findings = json_object_get(v, "findings");
	for (size_t i = 0; i < json_array_size(findings); i++) {
		json_t *f = json_array_get(findings, i);
		_cleanup_free_ char *loc =
			xasprintf("%.12s:%s", jstr(f, "commit"), jstr(f, "file"));
		const json_t *places = json_object_get(f, "places");
		json_int_t more = json_integer_value(json_object_get(f, "more_places"));
		if (json_array_size(places) > 1 || more) {
			struct sbuf sb;
			sbuf_init(&sb, 64u << 10);
			sbuf_printf(&sb, "%s (also ", jstr(f, "message"));
			for (size_t k = 1; k < json_array_size(places); k++) {
				const json_t *p = json_array_get(places, k);
				sbuf_printf(&sb, "%s%.12s:%s", k > 1 ? ", " : "", jstr(p, "commit"),
					    jstr(p, "path"));
			}
			if (more) {
				sbuf_printf(&sb, "%s%lld more place%s",
					    json_array_size(places) > 1 ? ", and " : "",
					    (long long)more, more == 1 ? "" : "s");
			}
			sbuf_puts(&sb, ")");
			char *msg = sbuf_steal(&sb);
			json_object_set_new(f, "message", json_string(msg ? msg : ""));
			free(msg);
		}
		json_object_set_new(f, "file", json_string(loc));
	}
	const json_t *h = json_object_get(v, "history");
	json_int_t commits = json_integer_value(json_object_get(h, "commits"));
	json_int_t files = json_integer_value(json_object_get(h, "files"));
	if (h && !json_object_get(v, "error")) {
		_cleanup_free_ char *summary =
			xasprintf("%lld commit%s, %lld new file%s: %s", (long long)commits,
				  commits == 1 ? "" : "s", (long long)files, files == 1 ? "" : "s",
				  jstr(v, "summary"));
		json_object_set_new(v, "summary", json_string(summary));
	}
	json_t *stats = json_object_get(v, "stats");
	if (code == STAGE_EXIT_BLOCKED && json_is_object(stats)) {
		json_t *notes = json_object_get(stats, "notes");
		if (!json_is_array(notes)) {
			notes = json_array();
			json_object_set_new(stats, "notes", notes);
		}
		json_array_append_new(
			notes, json_string("a secret in any of these commits reaches the history "
					   "the remote keeps, even when a later commit removes it: "
					   "take it out of the commits that brought it (git rebase "
					   "-i, git commit --amend) and revoke it"));
	}
	return v;
}

/* Add the strings of o[key] (an array, if any) to *v (borrowed from o). */
static void take_strings(json_t *o, const char *key, const char ***v, size_t *n)
{
	json_t *a = json_object_get(o, key);
	for (size_t i = 0; i < json_array_size(a); i++) {
		*v = xreallocarray(*v, *n + 1, sizeof(char *));
		(*v)[(*n)++] = json_string_value(json_array_get(a, i));
	}
}

static int scan_history(const char *spec, const char *not_remote, uint64_t max_commits,
			json_t *with, json_t *allowlist, const char *format, const char *output,
			const char *cwd, bool no_sandbox)
{
	const char *dots = strstr(spec, "..");
	_cleanup_free_ char *base = dots ? xstrndup(spec, (size_t)(dots - spec)) : NULL;
	const char *tip = dots ? dots + 2 : spec;
	if (!*tip || *tip == '.' || (base && !*base) || (dots && strstr(tip, ".."))) {
		return cli_usage_error(scan_cmd, "--history takes BASE..TIP or TIP, not '%s'",
				       spec);
	}
	if (not_remote && !*not_remote) {
		return cli_usage_error(scan_cmd, "--not-remote takes a remote's name");
	}
	/* Paths are the commits' (a blob's place), not the scanned tree's: --exclude and
	 * --allow-path leave places out before anything is written. */
	const char **skip = NULL;
	size_t n_skip = 0;
	take_strings(with, "exclude", &skip, &n_skip);
	take_strings(allowlist, "paths", &skip, &n_skip);
	json_t *hw = json_deep_copy(with);
	json_object_del(hw, "exclude");
	json_object_del(hw, "allowlist");
	if (json_object_get(allowlist, "regexes")) {
		json_object_set_new(
			hw, "allowlist",
			json_pack("{s:O}", "regexes", json_object_get(allowlist, "regexes")));
	}
	struct histscan_options ho = {
		.range = { .tip = tip, .base = base, .not_remote = not_remote },
		.limits = { .max_commits = (size_t)max_commits,
			    .max_blobs = GITEXPORT_MAX_ENTRIES,
			    .max_bytes = GITEXPORT_MAX_BYTES },
		.with = hw,
		.skip_paths = skip,
		.n_skip_paths = n_skip,
		.unconfined = no_sandbox,
	};
	struct diag_list dl;
	diag_list_init(&dl, 10);
	json_t *result = json_object();
	int ret, code = histscan_run(".", &ho, result, &dl);
	if (no_sandbox) {
		cli_scan_mark_unconfined(result);
	}
	if (code < 0) {
		output_diags(stderr, &dl, NULL, 0, cli_color_stderr());
		ret = EXIT_USAGE;
	} else if (str_eq(format, "text")) {
		json_t *view = history_text_view(result, code);
		ret = cli_scan_output("secrets", cwd, view, code, format, output);
		json_decref(view);
	} else {
		ret = cli_scan_output("secrets", cwd, result, code, format, output);
	}
	json_decref(result);
	json_decref(hw);
	diag_list_release(&dl);
	free(skip);
	return ret;
}

/* ---------- sast and secrets ---------- */

void cli_scan_warn_unconfined(void)
{
	fprintf(stderr, "runner: WARNING: --no-sandbox: the scanner runs WITHOUT isolation: no "
			"namespaces, no\n"
			"runner: WARNING: seccomp filter, no limits; a file that exploits a "
			"scanner bug can read\n"
			"runner: WARNING: and change anything you can. For debugging only; json "
			"and sarif are marked.\n");
}

void cli_scan_mark_unconfined(json_t *result)
{
	json_object_set_new(result, "no_sandbox", json_true());
	json_object_set_new(result, "warning",
			    json_string("--no-sandbox: the scanner ran without isolation "
					"(debugging only; not a valid result)"));
}

/* p (relative to dir, or absolute) as an absolute path with its "." and ".." components
 * taken by name: for a path that does not exist, which has no links to follow. */
static char *lexical_path(const char *dir, const char *p)
{
	_cleanup_free_ char *full = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
	char *out = xmalloc(strlen(full) + 2);
	size_t n = 0;
	for (const char *c = full; *c;) {
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			while (n > 0 && out[--n] != '/') {
			}
		} else if (len && !(len == 1 && c[0] == '.')) {
			out[n++] = '/';
			memcpy(out + n, c, len);
			n += len;
		}
		c += len + (c[len] == '/');
	}
	if (n == 0) {
		out[n++] = '/';
	}
	out[n] = '\0';
	return out;
}

/* with's rules as absolute paths (from "/", rules_root), those outside root bound into the
 * sandbox; one that cannot be resolved is passed on for the worker to say so. */
static int rules_into_box(struct scanbox *sb, json_t *with, char *err, size_t errlen)
{
	json_t *rules = json_object_get(with, "rules");
	if (!rules) {
		return 0;
	}
	json_t *abs = json_array();
	int r = 0;
	for (size_t i = 0; r == 0 && i < json_array_size(rules); i++) {
		const char *p = json_string_value(json_array_get(rules, i));
		_cleanup_free_ char *real = NULL;
		_cleanup_free_ char *given = lexical_path(sb->root, p);
		r = scanbox_input(sb, p, &real, err, errlen);
		if (r == -EXDEV || r == -E2BIG) {
			break;
		}
		r = put_string(abs, (real ? real : given) + 1);
		if (r < 0) {
			_cleanup_free_ char *shown = utf8_sanitize(p, strlen(p));
			errf(err, errlen, 0, "the rules path %s is not UTF-8 once resolved", shown);
		}
	}
	json_object_set_new(with, "rules", abs);
	json_object_set_new(with, "rules_root", json_string("/"));
	return r;
}

/* The scan of the tree at root (the current directory) by kind's worker in the sandbox. */
static int scan_tree(enum rule_kind kind, const char *root, json_t *with, const char *baseline,
		     char **paths, size_t n_paths, bool no_sandbox, const char *format,
		     const char *output)
{
	const char *what = kind == RULE_SAST ? "sast" : "secrets";
	struct scanbox sb;
	char err[PATH_MAX + 400];
	json_t *gate = json_object(), *result = NULL;
	int ret = EXIT_USAGE, code = STAGE_EXIT_ERROR;
	scanbox_init(&sb, root, no_sandbox);
	if (n_paths) {
		json_object_set_new(with, "paths", json_array());
	}
	for (size_t i = 0; i < n_paths; i++) {
		_cleanup_free_ char *p = NULL;
		if (scanbox_path(&sb, paths[i], &p, err, sizeof(err)) < 0) {
			cli_usage_error(scan_cmd, "%s", err);
			goto out;
		}
		if (put_string(json_object_get(with, "paths"), p) < 0) {
			_cleanup_free_ char *shown = utf8_sanitize(paths[i], strlen(paths[i]));
			cli_usage_error(scan_cmd, "the path %s is not UTF-8", shown);
			goto out;
		}
	}
	/* What the worker reads outside the tree: the rules and the baseline named here, and
	 * the repository above it (for .gitignore and the index), bound read-only. */
	int r = rules_into_box(&sb, with, err, sizeof(err));
	if (r == -EINVAL) {
		cli_usage_error(scan_cmd, "%s", err);
		goto out;
	}
	if (r == 0 && baseline) {
		_cleanup_free_ char *real = NULL;
		r = scanbox_baseline(&sb, baseline, &real, err, sizeof(err));
		if (r == -EBADMSG) {
			/* Not a baseline: invalid input, as a missing one is. */
			cli_usage_error(scan_cmd, "--baseline: %s", err);
			goto out;
		}
		if (r == 0) {
			json_object_set_new(with, "baseline", json_string(real));
		}
	}
	if (r == 0 && !json_is_false(json_object_get(with, "gitignore"))) {
		r = scanbox_repository(&sb, gate, err, sizeof(err));
	}
	if (r == 0) {
		code = scanbox_run(&sb, what, "scan", with, gate, &result, err, sizeof(err));
	}
	if (!result) {
		result = json_object();
		code = scanbox_fail(result, err);
	}
	if (no_sandbox) {
		cli_scan_mark_unconfined(result);
	}
	ret = cli_scan_output(what, root, result, code, format, output);
out:
	json_decref(result);
	json_decref(gate);
	scanbox_release(&sb);
	return ret;
}

static int scan_security(enum rule_kind kind, int argc, char **argv)
{
	const char *format = "text", *output = NULL, *dir = NULL, *baseline = NULL;
	json_t *with = json_object();
	json_t *allowlist = json_object();
	/* --history: its range and settings, and the first option that is for trees only. */
	const char *history = NULL, *not_remote = NULL, *tree_only = NULL;
	uint64_t max_commits = GITHISTORY_MAX_COMMITS;
	bool max_commits_set = false, no_sandbox = false;
	int c, ret = EXIT_USAGE;
	struct cli_getopt g;
	scan_cmd = kind == RULE_SAST ? "scan sast" : "scan secrets";
	cli_getopt_init(&g, scan_cmd, "o:j:C:");
	while ((c = cli_getopt(&g, argc, argv, scan_opts)) != -1) {
		switch (c) {
		case OPT_RULES:
		case OPT_NO_DEFAULT_RULES:
		case OPT_BASELINE:
		case OPT_NO_GITIGNORE:
		case OPT_VENDORED:
		case OPT_GENERATED:
		case OPT_NO_GENERATED:
			for (size_t i = 0; !tree_only && scan_opts[i].name; i++) {
				if (scan_opts[i].val == c) {
					tree_only = scan_opts[i].name;
				}
			}
			break;
		default:
			break;
		}
		switch (c) {
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'C':
			dir = optarg;
			break;
		case OPT_FAIL_ON: {
			enum severity s;
			if (severity_parse(optarg, &s) < 0) {
				cli_usage_error(scan_cmd,
						"--fail-on takes critical, high, medium, low or "
						"info, not '%s'",
						optarg);
				goto out;
			}
			json_object_set_new(with, "fail-on", json_string(optarg));
			break;
		}
		case OPT_RULES:
			if (append(with, "rules", optarg) < 0) {
				goto out;
			}
			break;
		case OPT_NO_DEFAULT_RULES:
			json_object_set_new(with, "default-rules", json_false());
			break;
		case OPT_BASELINE:
			baseline = optarg;
			break;
		case OPT_EXCLUDE:
			if (append(with, "exclude", optarg) < 0) {
				goto out;
			}
			break;
		case OPT_MAX_FILE_SIZE: {
			/* Checked here, as the pipeline's max-file-size is when it is loaded:
			 * a bad value is a usage error (2), not a failed scan (4). */
			uint64_t sz;
			if (parse_size(optarg, 1ull << 40, true, &sz) < 0 || sz == 0) {
				cli_usage_error(scan_cmd,
						"--max-file-size takes a size such as 512k, 4M or "
						"1G, or a number of bytes, not '%s'",
						optarg);
				goto out;
			}
			json_object_set_new(with, "max-file-size", json_string(optarg));
			break;
		}
		case OPT_NO_GITIGNORE:
			json_object_set_new(with, "gitignore", json_false());
			break;
		case OPT_VENDORED:
			json_object_set_new(with, "vendored", json_true());
			break;
		case OPT_GENERATED:
			json_object_set_new(with, "generated", json_true());
			break;
		case OPT_NO_GENERATED:
			json_object_set_new(with, "generated", json_false());
			break;
		case 'j': {
			uint64_t j;
			if (parse_uint(optarg, SCAN_MAX_JOBS, &j) < 0 || j == 0) {
				cli_usage_error(scan_cmd, "-j takes a number from 1 to %d",
						SCAN_MAX_JOBS);
				goto out;
			}
			json_object_set_new(with, "jobs", json_integer((json_int_t)j));
			break;
		}
		case OPT_TIMEOUT: {
			uint64_t ms;
			if (parse_duration(optarg, 7ull * 24 * 3600 * 1000, &ms) < 0) {
				cli_usage_error(scan_cmd,
						"--timeout takes a duration such as 90s or 10m");
				goto out;
			}
			json_object_set_new(with, "timeout", json_string(optarg));
			break;
		}
		case OPT_ALLOW_PATH:
		case OPT_ALLOW_REGEX:
			if (kind != RULE_SECRET) {
				cli_usage_error(scan_cmd,
						"--allow-path and --allow-regex are for the "
						"secrets scan; use --exclude");
				goto out;
			}
			if (c == OPT_ALLOW_REGEX) {
				char rerr[200];
				size_t off = 0;
				pcre2_code *re =
					rules_regex_compile(optarg, rerr, sizeof(rerr), &off);
				if (!re) {
					cli_usage_error(scan_cmd,
							"--allow-regex '%s' is invalid: %s", optarg,
							rerr);
					goto out;
				}
				pcre2_code_free(re);
			}
			if (append(allowlist, c == OPT_ALLOW_PATH ? "paths" : "regexes", optarg) <
			    0) {
				goto out;
			}
			break;
		case OPT_HISTORY:
		case OPT_NOT_REMOTE:
		case OPT_MAX_COMMITS:
			if (kind != RULE_SECRET) {
				cli_usage_error(scan_cmd,
						"--history, --not-remote and --max-commits "
						"are for the secrets scan");
				goto out;
			}
			if (c == OPT_HISTORY) {
				history = optarg;
			} else if (c == OPT_NOT_REMOTE) {
				not_remote = optarg;
			} else if (parse_uint(optarg, 10000000, &max_commits) < 0 ||
				   max_commits == 0) {
				cli_usage_error(scan_cmd,
						"--max-commits takes a number from 1 to 10000000");
				goto out;
			} else {
				max_commits_set = true;
			}
			break;
		case OPT_NO_SANDBOX:
			no_sandbox = true;
			break;
		default:
			if (c != '?') { /* else said */
				cli_usage_error(scan_cmd, "--%s is not an option of scan %s",
						option_name(c), argv[0]);
			}
			goto out;
		}
	}
	if (!history && (not_remote || max_commits_set)) {
		cli_usage_error(scan_cmd, "--not-remote and --max-commits go with --history");
		goto out;
	}
	if (history && (tree_only || optind < argc || str_eq(format, "sarif"))) {
		cli_usage_error(scan_cmd,
				"--history scans commits, not a tree: %s%s does not go with it",
				tree_only ? "--" : "",
				tree_only	? tree_only
				: optind < argc ? "a PATH"
						: "--format sarif");
		goto out;
	}
	if (!str_eq(format, "text") && !str_eq(format, "json") && !str_eq(format, "sarif")) {
		cli_usage_error(scan_cmd, "unknown format '%s' (text, json or sarif)", format);
		goto out;
	}
	if (dir && chdir(dir) < 0) {
		cli_usage_error(scan_cmd, "cannot change to %s: %s", dir, strerror(errno));
		goto out;
	}
	/* The scanned tree, canonical: the sandbox binds it at its own path. */
	char cwd[PATH_MAX];
	if (!realpath(".", cwd)) {
		fprintf(stderr, "runner: cannot tell the current directory: %s\n", strerror(errno));
		ret = EXIT_INTERNAL;
		goto out;
	}
	if (baseline) {
		struct stat st;
		if (stat(baseline, &st) < 0) {
			cli_usage_error(scan_cmd, "cannot read the baseline %s: %s", baseline,
					strerror(errno));
			goto out;
		}
	}
	if (no_sandbox) {
		cli_scan_warn_unconfined();
	}
	if (history) {
		ret = scan_history(history, not_remote, max_commits, with, allowlist, format,
				   output, cwd, no_sandbox);
		goto out;
	}
	if (json_object_size(allowlist)) {
		json_object_set(with, "allowlist", allowlist);
	}
	ret = scan_tree(kind, cwd, with, baseline, argv + optind, (size_t)(argc - optind),
			no_sandbox, format, output);
out:
	json_decref(with);
	json_decref(allowlist);
	return ret;
}

static int scan_sast(int argc, char **argv)
{
	return scan_security(RULE_SAST, argc, argv);
}

static int scan_secrets(int argc, char **argv)
{
	return scan_security(RULE_SECRET, argc, argv);
}

/* ---------- rule tests ---------- */

static void print_test_text(const json_t *j)
{
	const json_t *rules = json_object_get(j, "rules");
	size_t bad = 0;
	for (size_t i = 0; i < json_array_size(rules); i++) {
		const json_t *r = json_array_get(rules, i);
		json_int_t fp = json_integer_value(json_object_get(r, "fp"));
		json_int_t fn = json_integer_value(json_object_get(r, "fn"));
		json_int_t mm = json_integer_value(json_object_get(r, "must_match"));
		json_int_t mn = json_integer_value(json_object_get(r, "must_not_match"));
		const char *id = json_string_value(json_object_get(r, "id"));
		if (fp || fn) {
			bad++;
			printf("FAIL %s: %lld false positive%s, %lld false negative%s (%s)\n", id,
			       (long long)fp, fp == 1 ? "" : "s", (long long)fn, fn == 1 ? "" : "s",
			       json_string_value(json_object_get(r, "problem")));
		} else if (!mm || !mn) {
			bad++;
			printf("FAIL %s: no %s fixture\n", id,
			       !mm ? "must-match (ruleid:)" : "must-not-match (ok:)");
		}
	}
	printf("%-16s %6s %5s %5s %5s %5s %10s %7s\n", "language", "rules", "tp", "fp", "fn", "tn",
	       "precision", "recall");
	const char *k;
	json_t *v;
	json_t *langs = json_object_get(j, "languages");
	json_t *total = json_object_get(j, "total");
	json_object_foreach(langs, k, v)
	{
		printf("%-16s %6lld %5lld %5lld %5lld %5lld %10.3f %7.3f\n", k,
		       (long long)json_integer_value(json_object_get(v, "rules")),
		       (long long)json_integer_value(json_object_get(v, "tp")),
		       (long long)json_integer_value(json_object_get(v, "fp")),
		       (long long)json_integer_value(json_object_get(v, "fn")),
		       (long long)json_integer_value(json_object_get(v, "tn")),
		       json_real_value(json_object_get(v, "precision")),
		       json_real_value(json_object_get(v, "recall")));
	}
	printf("%-16s %6lld %5lld %5lld %5lld %5lld %10.3f %7.3f\n", "total",
	       (long long)json_integer_value(json_object_get(total, "rules")),
	       (long long)json_integer_value(json_object_get(total, "tp")),
	       (long long)json_integer_value(json_object_get(total, "fp")),
	       (long long)json_integer_value(json_object_get(total, "fn")),
	       (long long)json_integer_value(json_object_get(total, "tn")),
	       json_real_value(json_object_get(total, "precision")),
	       json_real_value(json_object_get(total, "recall")));
	printf("%s: %zu rule%s failed\n", bad ? "FAILED" : "ok", bad, bad == 1 ? "" : "s");
}

static int scan_test(int argc, char **argv)
{
	const char *format = "text";
	bool defaults = true;
	enum rule_kind kind = RULE_SAST;
	const char **rules = NULL;
	size_t n_rules = 0;
	int c, ret = EXIT_USAGE;
	struct cli_getopt g;
	scan_cmd = "scan test";
	cli_getopt_init(&g, scan_cmd, "");
	while ((c = cli_getopt(&g, argc, argv, scan_opts)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_RULES:
			rules = xreallocarray(rules, n_rules + 1, sizeof(char *));
			rules[n_rules++] = optarg;
			break;
		case OPT_NO_DEFAULT_RULES:
			defaults = false;
			break;
		case OPT_SECRETS:
			kind = RULE_SECRET;
			break;
		default:
			if (c != '?') { /* else said */
				cli_usage_error(scan_cmd, "--%s is not an option of scan test",
						option_name(c));
			}
			free(rules);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		free(rules);
		return cli_usage_error(scan_cmd, "name the fixtures: runner scan test DIR...");
	}
	if (!str_eq(format, "text") && !str_eq(format, "json")) {
		free(rules);
		return cli_usage_error(scan_cmd, "scan test writes text or json");
	}
	struct ruleset *rs = ruleset_new(kind);
	struct diag_list dl;
	diag_list_init(&dl, 50);
	int r = defaults ? ruleset_load_defaults(rs, &dl) : 0;
	for (size_t i = 0; r == 0 && i < n_rules; i++) {
		r = ruleset_load_path(rs, rules[i], &dl);
	}
	if (r < 0 || dl.errors) {
		for (size_t i = 0; i < dl.n; i++) {
			fprintf(stderr, "%s:%u:%u: error: %s\n", dl.v[i].file ? dl.v[i].file : "",
				dl.v[i].line, dl.v[i].col, dl.v[i].msg);
		}
		ret = EXIT_INTERNAL;
		goto out;
	}
	ruleset_finish(rs, &dl);
	struct ruletest_report rep;
	char err[600];
	if (ruletest_run(rs, (const char *const *)argv + optind, (size_t)(argc - optind), &rep, err,
			 sizeof(err)) < 0) {
		fprintf(stderr, "runner: %s\n", err);
		ret = EXIT_USAGE;
		goto out;
	}
	json_t *j = ruletest_json(&rep);
	if (str_eq(format, "json")) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s) {
			puts(s);
		}
		free(s);
	} else {
		print_test_text(j);
	}
	json_decref(j);
	ret = ruletest_ok(&rep) ? EXIT_OK : EXIT_FAILED;
	ruletest_report_release(&rep);
out:
	diag_list_release(&dl);
	ruleset_free(rs);
	free(rules);
	return ret;
}

/* ---------- dispatch ---------- */

int cmd_scan(int argc, char **argv)
{
	if (argc < 2) {
		cli_help_print(stderr, &cmd_scan_help, NULL);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(scans); i++) {
		if (str_eq(argv[1], scans[i].name)) {
			return scans[i].fn(argc - 1, argv + 1);
		}
	}
	const char *names[ARRAY_SIZE(scans)];
	for (size_t i = 0; i < ARRAY_SIZE(scans); i++) {
		names[i] = scans[i].name;
	}
	const char *near = closest_word(argv[1], names, ARRAY_SIZE(scans));
	if (near) {
		fprintf(stderr,
			"runner: unknown scan '%s'\n  hint: did you mean 'runner scan %s'?\n",
			argv[1], near);
		return EXIT_USAGE;
	}
	return cli_usage_error(scan_cmd, "unknown scan '%s' (sast, secrets, deps or test)",
			       argv[1]);
}
