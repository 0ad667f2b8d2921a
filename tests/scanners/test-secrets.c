/*
 * test-secrets.c - secret detection: the secret never leaves in clear (message, snippet,
 * fingerprint, JSON, SARIF), redaction, entropy, keyword prefilter, the rule's and the
 * scan's allowlists, a provider rule winning over the generic one on the same secret,
 * multiline keys, and inline suppressions.
 */
#include "secrets-suite.h"

#include "util.h"

#include <stdio.h>

TestSuite(secrets, .init = setup, .fini = teardown);

static void scan(const char *text, pcre2_code **allow, size_t n_allow)
{
	struct secrets_allowlist al = { allow, n_allow };
	finding_list_release(&fl);
	cr_assert_eq(secrets_scan(sc, "conf/app.env", text, strlen(text), &al, &fl, NULL), 0);
}

static const struct finding *by_rule(const char *id)
{
	for (size_t i = 0; i < fl.n; i++) {
		if (str_eq(fl.v[i].rule_id, id)) {
			return &fl.v[i];
		}
	}
	return NULL;
}

/* A rule whose regex hits PCRE2's match limit on a file does not pass it: the file is
 * reported under that rule as not evaluated completely, at the rule's severity. */
Test(secrets, a_rule_that_gives_up_on_a_file_does_not_pass_it)
{
	const char *doc = "kind: secrets\nrules:\n"
			  "  - id: t.nested\n    title: nested\n    severity: critical\n"
			  "    message: m\n    keywords: ['token=']\n"
			  "    regex: 'token=((a+)+)$'\n";
	struct ruleset *own = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_buffer(own, "t.yml", doc, strlen(doc), &dl), 0);
	ruleset_finish(own, &dl);
	diag_list_release(&dl);
	struct secrets_scratch *s = secrets_scratch_new(own);
	size_t n = 100000;
	char *text = xcalloc(n + 16, 1);
	memcpy(text, "token=", 6);
	for (size_t i = 0; i < n; i++) {
		text[6 + i] = 'a';
	}
	memcpy(text + 6 + n, "!\n", 3);
	struct secrets_file_stats st = { 0 };
	struct finding_list out;
	finding_list_init(&out);
	cr_assert_eq(secrets_scan(s, "conf/app.env", text, strlen(text), NULL, &out, &st), 0);
	cr_assert_gt(st.regex_limits, 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.v[0].rule_id, "t.nested");
	cr_assert_eq(out.v[0].severity, SEVERITY_CRITICAL);
	cr_assert(json_is_true(json_object_get(out.v[0].extra, "incomplete")));
	/* Its fingerprint covers the file's content: the same bytes give the same one (a
	 * baseline entry holds), other bytes another (it does not). */
	char *fp = xstrdup(out.v[0].fingerprint);
	finding_list_release(&out);
	finding_list_init(&out);
	cr_assert_eq(secrets_scan(s, "conf/app.env", text, strlen(text), NULL, &out, &st), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.v[0].fingerprint, fp);
	text[6 + n / 2] = 'b';
	finding_list_release(&out);
	finding_list_init(&out);
	cr_assert_eq(secrets_scan(s, "conf/app.env", text, strlen(text), NULL, &out, &st), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_neq(out.v[0].fingerprint, fp, "a changed file kept its fingerprint");
	free(fp);
	/* The same file with the run cut short so that the regex can finish: no finding. */
	finding_list_release(&out);
	finding_list_init(&out);
	memset(&st, 0, sizeof(st));
	cr_assert_eq(secrets_scan(s, "conf/app.env", "token=aaaa!\n", 12, NULL, &out, &st), 0);
	cr_assert_eq(st.regex_limits, 0);
	cr_assert_eq(out.n, 0);
	finding_list_release(&out);
	free(text);
	secrets_scratch_free(s);
	ruleset_free(own);
}

/* A rule with `multiline: N` reaches at most N lines past its keyword's line: a command
 * continued over lines is read so far and no further. */
Test(secrets, multiline_lines_bound_a_match)
{
	const char *doc = "kind: secrets\nrules:\n"
			  "  - id: t.lines\n    title: lines\n    severity: high\n"
			  "    message: m\n    keywords: ['begin']\n    multiline: 2\n"
			  "    regex: 'begin(?:[^\\n]*\\n)*?end=(\\w{10})'\n";
	struct ruleset *own = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_buffer(own, "t.yml", doc, strlen(doc), &dl), 0);
	cr_assert_eq(ruleset_finish(own, &dl), 0);
	diag_list_release(&dl);
	cr_assert_eq(ruleset_rule(own, 0)->max_lines, 2);
	struct secrets_scratch *s = secrets_scratch_new(own);
	const char *text = "begin x\n"
			   "a\n"
			   "end=Zk8Lp3Qw9X\n"
			   "begin y\n"
			   "a\n"
			   "b\n"
			   "end=Gx4Tm7Qc2W\n";
	struct finding_list out;
	finding_list_init(&out);
	cr_assert_eq(secrets_scan(s, "conf/app.env", text, strlen(text), NULL, &out, NULL), 0);
	cr_assert_eq(out.n, 1, "%zu findings", out.n);
	cr_assert_eq(out.v[0].line, 3);
	finding_list_release(&out);
	secrets_scratch_free(s);
	ruleset_free(own);
}

/* (?C"yaml") in a rule's regex goes on in a YAML file's text (.yaml, .yml) and fails
 * elsewhere: the same text is a match in one and none in the other. */
Test(secrets, yaml_callout_knows_the_file)
{
	const char *doc = "kind: secrets\nrules:\n"
			  "  - id: t.yaml\n    title: yaml\n    severity: high\n"
			  "    message: m\n    keywords: ['key:']\n"
			  "    regex: 'key: (?:(?C\"yaml\")|(?!\\w+\\.))([\\w.]{10,})'\n";
	struct ruleset *own = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_buffer(own, "t.yml", doc, strlen(doc), &dl), 0);
	cr_assert_eq(ruleset_finish(own, &dl), 0);
	diag_list_release(&dl);
	struct secrets_scratch *s = secrets_scratch_new(own);
	const char *text = "key: Gx4Tm7.Qc2Wz9Lk5R\n";
	static const struct {
		const char *path;
		size_t n;
	} cases[] = {
		{ "deploy/app.yaml", 1 }, { "app.yml", 1 },	 { "app.js", 0 },
		{ "yaml/app.py", 0 },	  { "app.yaml.txt", 0 }, { ".yaml", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct finding_list out;
		finding_list_init(&out);
		cr_assert_eq(secrets_scan(s, cases[i].path, text, strlen(text), NULL, &out, NULL),
			     0);
		cr_assert_eq(out.n, cases[i].n, "%s: %zu findings", cases[i].path, out.n);
		finding_list_release(&out);
	}
	secrets_scratch_free(s);
	ruleset_free(own);
}

/* (?C"code") goes on in a source file of a language with member access (by its name, or
 * its #! line) and fails elsewhere: in YAML, .env, .properties, a shell script, a
 * Dockerfile, a CI file and a file of no known kind, an unquoted value is a literal. */
Test(secrets, code_callout_knows_the_file)
{
	const char *doc = "kind: secrets\nrules:\n"
			  "  - id: t.code\n    title: code\n    severity: high\n"
			  "    message: m\n    keywords: ['key:']\n"
			  "    regex: 'key: (?:(?!(?C\"code\"))|(?!\\w+\\.))([\\w.]{10,})'\n";
	struct ruleset *own = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_buffer(own, "t.yml", doc, strlen(doc), &dl), 0);
	cr_assert_eq(ruleset_finish(own, &dl), 0);
	diag_list_release(&dl);
	struct secrets_scratch *s = secrets_scratch_new(own);
	static const struct {
		const char *path, *text;
		size_t n;
	} cases[] = {
		{ "src/config.js", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "app.ts", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "settings.py", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "main.go", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "App.java", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "lib/x.rb", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "Cfg.cs", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "main.tf", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/tool.pl", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "lib/App/Config.pm", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "R/analysis.R", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "R/analysis.r", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "View.m", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "View.mm", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/main.jl", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/app/core.clj", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/app/core.cljs", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/app/core.cljc", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/Main.hs", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/main.ml", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/Main.elm", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/main.nim", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/main.zig", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "src/app.cr", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/tool", "#!/usr/bin/env node\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		/* Scripts without an extension, by their #! line. */
		{ "bin/deploy", "#!/usr/bin/perl -w\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/deploy", "#!/usr/bin/env -S perl5.36 -w\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/setup", "\xEF\xBB\xBF#!/usr/bin/env ruby\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/report", "#!/usr/bin/Rscript\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/tool", "#!/usr/bin/env php\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 0 },
		{ "bin/tool", "#!/usr/bin/env awk -f\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "bin/tool", "#!/usr/bin/perlish\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "app.yaml", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ ".env", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "app.properties", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "run.sh", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "Dockerfile", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ ".github/workflows/ci.yml", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "notes.txt", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		/* Not code in that sense: a .t file is a Perl test or a cram test (a shell
		 * transcript); EDN is data; an Erlang word is an atom, a literal; PowerShell's
		 * bare words are strings in a command's arguments. */
		{ "t/basic.t", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "deps.edn", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "src/app.erl", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "deploy.ps1", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "App.psm1", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "App.psd1", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "README.Rmd", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "js", "key: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
		{ "bin/tool", "#!/bin/sh\nkey: Gx4Tm7.Qc2Wz9Lk5R\n", 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct finding_list out;
		finding_list_init(&out);
		const char *t = cases[i].text;
		cr_assert_eq(secrets_scan(s, cases[i].path, t, strlen(t), NULL, &out, NULL), 0);
		cr_assert_eq(out.n, cases[i].n, "%s: %zu findings", cases[i].path, out.n);
		finding_list_release(&out);
	}
	secrets_scratch_free(s);
	ruleset_free(own);
}

/* (?C"lisp") goes on in a Lisp's source file, by its name, and fails elsewhere: in EDN
 * (data), in `.cl` and `.bb` files (OpenCL's C and BitBake's recipes as often as Lisp), in
 * another language's code and in a file of no known kind. */
Test(secrets, lisp_callout_knows_the_file)
{
	const char *doc = "kind: secrets\nrules:\n"
			  "  - id: t.lisp\n    title: lisp\n    severity: high\n"
			  "    message: m\n    keywords: ['key']\n"
			  "    regex: '(?m:^)[ \\t]+(?C\"lisp\")key \"(\\w{10,})\"'\n";
	struct ruleset *own = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_buffer(own, "t.yml", doc, strlen(doc), &dl), 0);
	cr_assert_eq(ruleset_finish(own, &dl), 0);
	diag_list_release(&dl);
	struct secrets_scratch *s = secrets_scratch_new(own);
	static const char *const lisp[] = {
		"src/app/core.clj", "src/app/core.cljs", "src/app/core.cljc", "src/main.fnl",
		"init.el",	    "src/app.lisp",	 "src/app.lsp",	      "app.asd",
		"main.scm",	    "lib/main.ss",	 "lib/main.sld",      "main.rkt"
	};
	static const char *const other[] = { "deps.edn", "kernel.cl",	   "recipe.bb", "main.go",
					     "app.py",	 "notes.txt",	   "app.yaml",	".env",
					     "clj",	 "src/app.clj.txt" };
	const char *t = "(let [user \"app\"\n      key \"Gx4Tm7Qc2Wz9Lk5R\"]\n  (go))\n";
	for (size_t i = 0; i < ARRAY_SIZE(lisp) + ARRAY_SIZE(other); i++) {
		bool is_lisp = i < ARRAY_SIZE(lisp);
		const char *path = is_lisp ? lisp[i] : other[i - ARRAY_SIZE(lisp)];
		struct finding_list out;
		finding_list_init(&out);
		cr_assert_eq(secrets_scan(s, path, t, strlen(t), NULL, &out, NULL), 0);
		cr_assert_eq(out.n, is_lisp ? 1u : 0u, "%s: %zu findings", path, out.n);
		finding_list_release(&out);
	}
	secrets_scratch_free(s);
	ruleset_free(own);
}

/* A let's binding on a later line of its binding list is read back to the let, at most
 * 16 lines and 1 KiB before it: a binding 15 lines after the let is one, one 21 lines
 * after it, or 3 lines of 400 bytes, is not known for one (a call on a line of its own
 * looks the same). */
Test(secrets, a_lisp_let_is_read_back_a_bounded_way)
{
	static const struct {
		size_t lines, width;
		bool found;
	} cases[] = { { 14, 0, true }, { 20, 0, false }, { 2, 400, true }, { 3, 400, false } };
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		char text[4096];
		size_t w = (size_t)sprintf(text, "(let ((a 1)\n");
		for (size_t i = 0; i < cases[c].lines; i++) {
			w += (size_t)sprintf(text + w, "      (b%zu \"%0*d\")\n", i,
					     (int)cases[c].width, 0);
		}
		sprintf(text + w, "      (password \"Gx4Tm7Qc2Wz9Lk5R\"))\n  (go))\n");
		finding_list_release(&fl);
		cr_assert_eq(secrets_scan(sc, "init.el", text, strlen(text), NULL, &fl, NULL), 0);
		cr_expect_eq(by_rule("secret.generic-secret-assignment") != NULL, cases[c].found,
			     "a binding %zu lines of %zu bytes after the let", cases[c].lines + 1,
			     cases[c].width);
	}
}

/* A long line of many flow items (a minified JSON or source map) with a keyword on it: the
 * flow forms of the unquoted assignment rule are tried from each item, each try its own
 * search, so the line does not add up to the matcher's step limit (it did when one search
 * read the whole line). */
Test(secrets, a_long_line_of_flow_items_is_read_to_its_end)
{
	size_t n = 60000, w = 0;
	char *text = xmalloc(n * 5 + 64);
	w += (size_t)sprintf(text, "{\"token_count\": [\"ab\"");
	for (size_t i = 1; i < n; i++) {
		memcpy(text + w, ",\"ab\"", 5);
		w += 5;
	}
	w += (size_t)sprintf(text + w, "]}\n");
	struct secrets_file_stats st = { 0 };
	finding_list_release(&fl);
	cr_assert_eq(secrets_scan(sc, "dist/app.json", text, w, NULL, &fl, &st), 0);
	cr_assert_eq(st.regex_limits, 0);
	cr_assert_eq(fl.n, 0, "%zu findings", fl.n);
	free(text);
}

/* Long lines of the assignment forms that read words to the name (a Clojure binding
 * vector, a Lisp let, a named let, when-let*, Tcl's dict set and dict create) are read to
 * their end: the words and bindings skipped before the name are bounded, so that a line
 * of a hundred thousand does not add up to the matcher's step limit (it did, and the file
 * was not evaluated completely). */
Test(secrets, long_lines_of_binding_forms_are_read_to_their_end)
{
	static const struct {
		const char *path, *head, *item, *tail;
	} cases[] = {
		{ "src/core.clj", "(let [", "a ", "token \"Gx4Tm7Qc2Wz9Lk5R\"]" },
		{ "init.el", "(let (", "(a b) ", "(token \"Gx4Tm7Qc2Wz9Lk5R\")))" },
		{ "app.scm", "(let loop (", "(a b) ", "(token \"Gx4Tm7Qc2Wz9Lk5R\")))" },
		{ "init.el", "(when-let* (", "(a b) ", "(token \"Gx4Tm7Qc2Wz9Lk5R\")))" },
		{ "app.tcl", "", "dict set a b ", "token Gx4Tm7Qc2Wz9Lk5R" },
		{ "app.tcl", "set x [dict create ", "a b ", "token \"Gx4Tm7Qc2Wz9Lk5R\"]" },
	};
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		size_t n = 100000, il = strlen(cases[c].item), w = 0;
		char *text = xmalloc(n * il + 256);
		w += (size_t)sprintf(text, "%s", cases[c].head);
		for (size_t i = 0; i < n; i++) {
			memcpy(text + w, cases[c].item, il);
			w += il;
		}
		w += (size_t)sprintf(text + w, "%s\n", cases[c].tail);
		struct secrets_file_stats st = { 0 };
		finding_list_release(&fl);
		cr_assert_eq(secrets_scan(sc, cases[c].path, text, w, NULL, &fl, &st), 0);
		cr_assert_eq(st.regex_limits, 0, "%s: %zu", cases[c].path, (size_t)st.regex_limits);
		free(text);
	}
}

/* A file flooded with more lesser matches than a file may keep cannot hide a worse one
 * behind them: the critical key at the end is kept in place of a medium match. */
Test(secrets, a_flood_of_lesser_matches_does_not_hide_a_critical_one)
{
	size_t n = SECRETS_MAX_PER_FILE + 200, w = 0;
	char *text = xcalloc(n * 120 + 200, 1);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)sprintf(text + w,
				     "t%zu=eyJhbGciOiJIUzI1NiJ9%06zu.eyJzdWIiOiIxMjM0NTY3%06zu."
				     "SflKxwRJSMeKKF2QT4fwpMeJf36P%06zu\n",
				     i, i, i, i);
	}
	sprintf(text + w, "aws=AKIAQ3RZ7TWL5MXK4PHD\n");
	scan(text, NULL, 0);
	/* The cap's worth, and the JWT rule's report that it dropped some. */
	cr_assert_eq(fl.n, SECRETS_MAX_PER_FILE + 1);
	const struct finding *aws = by_rule("secret.aws-access-key-id");
	cr_assert_not_null(aws, "the critical key was dropped behind the flood");
	cr_assert_eq(aws->severity, SEVERITY_CRITICAL);
	cr_assert_eq(aws->line, n + 1);
	size_t incomplete = 0;
	for (size_t i = 0; i < fl.n; i++) {
		incomplete += json_is_true(json_object_get(fl.v[i].extra, "incomplete"));
	}
	cr_assert_eq(incomplete, 1);
	free(text);
}

/* Matches suppressed inline fill the cap like any: one that is not suppressed, dropped
 * past it, must not pass. Its rule reports the file as not evaluated completely, which no
 * comment suppresses. */
Test(secrets, a_flood_of_suppressed_matches_does_not_hide_one_that_is_not)
{
	size_t n = SECRETS_MAX_PER_FILE, w = 0;
	char *text = xcalloc(n * 80 + 200, 1);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)sprintf(text + w,
				     "k%zu=AKIAQ3RZ7TWL%08zu # runner:ignore * -- test fixture\n",
				     i, i);
	}
	sprintf(text + w, "t=ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\n");
	scan(text, NULL, 0);
	bool blocked = false;
	for (size_t i = 0; i < fl.n; i++) {
		const struct finding *f = &fl.v[i];
		if (f->severity == SEVERITY_CRITICAL && f->disposition != DISPOSITION_SUPPRESSED) {
			blocked = true;
		}
	}
	cr_assert(blocked, "everything left is suppressed: the token passed");
	free(text);
}

/* A short password's hash prefix would give it away (2^32 values single out every
 * password of up to 4 characters): its redacted form has none, in the finding or the
 * fingerprint's input. */
Test(secrets, a_short_secret_is_redacted_without_its_hash)
{
	char red[64];
	secrets_redact("pw", 2, red, sizeof(red));
	cr_assert_str_eq(red, "...(short)");
	secrets_redact("Tr0ub4dor&3", 11, red, sizeof(red));
	cr_assert_str_eq(red, "Tr...(short)");
	secrets_redact("Tr0ub4dor&3-horse", 17, red, sizeof(red));
	cr_assert(str_has_prefix(red, "Tr0u...(sha256:"), "%s", red);
	scan("DATABASE_URL=postgres://app:pw@db.internal:5432/app\n", NULL, 0);
	const struct finding *f = by_rule("secret.database-url-password");
	cr_assert_not_null(f);
	cr_assert_null(strstr(f->message, "sha256:"), "%s", f->message);
	cr_assert_null(strstr(f->snippet, "sha256:"), "%s", f->snippet);
	cr_assert_not_null(strstr(f->snippet, "...(short)"), "%s", f->snippet);
}

Test(secrets, provider_token_found_and_redacted)
{
	const char *tok = "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo";
	char *text = xasprintf("GITHUB_TOKEN=%s other=%s\n", tok, tok);
	scan(text, NULL, 0);
	cr_assert_eq(fl.n, 2);
	const struct finding *f = by_rule("secret.github-pat");
	cr_assert_not_null(f);
	cr_assert_eq(f->kind, FINDING_SECRET);
	cr_assert_eq(f->line, 1);
	cr_assert_eq(f->column, 14);
	cr_assert_eq(f->end_column, 14 + strlen(tok));
	char red[64];
	secrets_redact(tok, strlen(tok), red, sizeof(red));
	cr_assert(str_has_prefix(red, "ghp_..."), "%s", red);
	cr_assert_eq(strlen(red), strlen("ghp_...(sha256:12345678)"));
	cr_assert_not_null(strstr(f->snippet, red), "%s", f->snippet);
	cr_assert_not_null(strstr(f->message, red));
	/* Both occurrences on the line are redacted in each snippet, and fingerprints differ. */
	cr_assert_str_neq(fl.v[0].fingerprint, fl.v[1].fingerprint);
	never_in_clear(tok);
	never_in_clear("R8tA3kPq7ZxW");
	free(text);
}

Test(secrets, redaction_of_short_secrets_shows_less)
{
	char red[64];
	secrets_redact("abcdefgh", 8, red, sizeof(red));
	cr_assert(str_has_prefix(red, "ab..."), "a quarter of a short secret at most: %s", red);
	secrets_redact("\"x\\y\"zzzzzzzzzzzz", 17, red, sizeof(red));
	cr_assert(str_has_prefix(red, "?x?y..."), "quotes and backslashes are masked: %s", red);
	cr_assert_lt(secrets_entropy("aaaaaaaa", 8), 0.01);
	cr_assert_gt(secrets_entropy("k9Gv2QpLx7", 10), 3.0);
}

Test(secrets, entropy_and_placeholders)
{
	scan("password = \"aaaaaaaaaaaa\"\n"
	     "password = \"changeme\"\n"
	     "password = \"${DB_PASSWORD}\"\n"
	     "api_key: \"your-api-key-here\"\n"
	     "secret = \"Xq7Lm2Pv9Rt4Kw8N\"\n",
	     NULL, 0);
	cr_assert_eq(fl.n, 1, "only the real-looking one");
	cr_assert_eq(fl.v[0].line, 5);
	never_in_clear("Xq7Lm2Pv9Rt4Kw8N");
}

Test(secrets, allowlists)
{
	const char *text = "key1 = AKIAIOSFODNN7EXAMPLE\nkey2 = AKIAZ4MQXB7TLW3RVC5K\n"
			   "key3 = AKIAQ2RZ6YT3LN5WPX7D\n";
	scan(text, NULL, 0);
	cr_assert_eq(fl.n, 2, "the rule's own allow entry drops AWS's documentation key");
	char err[100];
	size_t off;
	pcre2_code *re = rules_regex_compile("^AKIAZ4", err, sizeof(err), &off);
	cr_assert_not_null(re);
	scan(text, &re, 1);
	cr_assert_eq(fl.n, 1, "the scan's allowlist regex drops one more");
	cr_assert_eq(fl.v[0].line, 3);
	pcre2_code_free(re);
	/* It is matched against the secret, not the text around it: a key name that happens
	 * to match does not let a real key through. */
	re = rules_regex_compile("EXAMPLE", err, sizeof(err), &off);
	cr_assert_not_null(re);
	scan("AWS_SECRET_ACCESS_KEY_FOR_EXAMPLE_APP = "
	     "\"q8Zr3TfLw2Xv9NkPb5HcJ7sYd4GmR1tUe6VaW0oQ\"\n",
	     &re, 1);
	cr_assert_not_null(by_rule("secret.aws-secret-access-key"));
	pcre2_code_free(re);
}

/* A password with an `@` left unencoded is read up to the authority's last `@` (as Go's
 * net/url and libpq split it), never past the `/`, `?` or `#` that ends the authority;
 * and two URLs with no blank between them are two findings, neither in clear. */
Test(secrets, url_password_is_read_to_the_last_at_of_the_authority)
{
	const char *line = "DATABASE_URL=postgres://app:p@ssw0rd-Xy9@db.example.com:5432/app\n";
	scan(line, NULL, 0);
	const struct finding *f = by_rule("secret.database-url-password");
	cr_assert_not_null(f);
	size_t col = (size_t)(strstr(line, "p@ssw0rd") - line) + 1;
	cr_assert_eq(f->column, col);
	cr_assert_eq(f->end_column, col + strlen("p@ssw0rd-Xy9"));
	never_in_clear("ssw0rd-Xy9");

	line = "git clone https://deploy:Gx4Tm7Qc2Wz9@git.example.com?notify=ops@example.com\n";
	scan(line, NULL, 0);
	f = by_rule("secret.url-basic-auth-password");
	cr_assert_not_null(f);
	col = (size_t)(strstr(line, "Gx4T") - line) + 1;
	cr_assert_eq(f->column, col);
	cr_assert_eq(f->end_column, col + strlen("Gx4Tm7Qc2Wz9"));

	scan("DBS=postgres://a:Gx4Tm7Qc2Wz9@h1.example,postgres://b:Hq7vW2xLp9Tz@h2.example/db\n",
	     NULL, 0);
	cr_assert_eq(fl.n, 2);
	never_in_clear("Gx4Tm7Qc2Wz9");
	never_in_clear("Hq7vW2xLp9Tz");
}

Test(secrets, provider_rule_beats_generic_rule)
{
	scan("token = \"glpat-Xa9ZkQ2mP7vR4tW8yL1n\"\n", NULL, 0);
	cr_assert_eq(fl.n, 1, "one secret, one finding");
	cr_assert_str_eq(fl.v[0].rule_id, "secret.gitlab-pat");
}

Test(secrets, private_key_block)
{
	const char *key = "-----BEGIN RSA PRIVATE KEY-----\n"
			  "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8NnpQzDKxJCHDNiv8fXfr4Lq1\n"
			  "q8h2Lg4r7eJm0E5sXq2h8PzYcT1bN6mQ3vW9kR2dJf5LpA8sX3uG7yH1oI4nM6aB\n"
			  "-----END RSA PRIVATE KEY-----\n";
	char *text = xasprintf("# key\n%s", key);
	scan(text, NULL, 0);
	const struct finding *f = by_rule("secret.private-key");
	cr_assert_not_null(f);
	cr_assert_eq(f->line, 2);
	cr_assert_eq(f->end_line, 5);
	never_in_clear("MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8NnpQzDKxJCHDNiv8fXfr4Lq1");
	free(text);
	scan("-----BEGIN RSA PRIVATE KEY-----\n(truncated)\n", NULL, 0);
	cr_assert_eq(fl.n, 0, "a header alone is not a key");
	/* Thousands of headers without an end: each attempt stops at the next one (a lazy
	 * search to the end of the window for each took minutes; the test's timeout would
	 * catch that), and a key after them is still found. */
	size_t n = 8000, w = 0;
	char *many = xmalloc(n * 32 + strlen(key) + 1);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)sprintf(many + w, "-----BEGIN PRIVATE KEY-----\n");
	}
	strcpy(many + w, key);
	scan(many, NULL, 0);
	cr_assert_not_null(by_rule("secret.private-key"));
	free(many);
	/* A key far into a long line (a minified bundle) is found: the window runs from the
	 * line's end, not its start. */
	size_t pad = SECRETS_MULTILINE_MAX + 4096;
	char *lng = xmalloc(pad + strlen(key) + 8);
	memset(lng, 'x', pad);
	lng[pad] = ' ';
	strcpy(lng + pad + 1, key);
	scan(lng, NULL, 0);
	f = by_rule("secret.private-key");
	cr_assert_not_null(f, "a key after %zu bytes of its line was missed", pad);
	cr_assert_eq(f->line, 1);
	free(lng);
}

Test(secrets, inline_suppression_and_no_keyword_no_scan)
{
	scan("# runner:ignore secret.stripe-secret-key -- the test account's key, revoked\n"
	     "STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dcABC\n"
	     "nothing to see here, sk_test_ only\n",
	     NULL, 0);
	cr_assert_eq(fl.n, 1);
	cr_assert_eq(fl.v[0].suppression, SUPPRESSION_INLINE);
	cr_assert_str_eq(fl.v[0].suppression_reason, "the test account's key, revoked");
}

/* Does the snippet hold a part of word, cut (a blank-separated piece of it, "..." taken off
 * its ends, that is a piece of word but not all of it)? */
static bool holds_part_of(const char *snippet, const char *word)
{
	char *copy = xstrdup(snippet);
	bool part = false;
	for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t && !part;
	     t = strtok_r(NULL, " \t", &save)) {
		while (str_has_prefix(t, "...")) {
			t += 3;
		}
		size_t n = strlen(t);
		while (n >= 3 && memcmp(t + n - 3, "...", 3) == 0) {
			n -= 3;
		}
		t[n] = '\0';
		part = n > 0 && !str_eq(t, word) && strstr(word, t) != NULL;
	}
	free(copy);
	return part;
}

/* A snippet is a window around the secret on a long line: it is cut at a blank, the word
 * the cut would split (a pipeline secret, which the masker only knows whole) left out, and
 * the cut marked with "..." — whatever the distance between the word and the secret. */
Test(secrets, snippet_window_never_cuts_a_word)
{
	const char *tok = "ghp_Qz3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ3b5D";
	const char *word = "Zebra7Quartz9Lemon4Violet";
	for (int pad = 60; pad <= 140; pad++) {
		char *text = xasprintf("other: %s%*s%s ##\n"
				       "head %s%*s%s\n",
				       tok, pad, "", word, word, pad, "", tok);
		scan(text, NULL, 0);
		cr_assert_eq(fl.n, 2, "pad %d: %zu findings", pad, fl.n);
		for (size_t i = 0; i < fl.n; i++) {
			const char *sn = fl.v[i].snippet;
			cr_assert_not_null(strstr(sn, "ghp_...(sha256:"), "%s", sn);
			cr_assert_not(holds_part_of(sn, word),
				      "pad %d: the snippet quotes a part of a word: '%s'", pad, sn);
			/* Where the word is left out, the cut is marked. */
			if (!strstr(sn, word)) {
				cr_assert(str_has_prefix(sn, "...") || str_has_suffix(sn, "..."),
					  "pad %d: '%s'", pad, sn);
			}
		}
		never_in_clear(tok);
		free(text);
	}
	/* No blank at all: the text around the secret is left out up to it. */
	char dashes[151];
	memset(dashes, '-', 150);
	dashes[150] = '\0';
	char *text = xasprintf("k=%s%s%s\n", dashes, tok, dashes);
	scan(text, NULL, 0);
	cr_assert_eq(fl.n, 1);
	cr_assert(str_has_prefix(fl.v[0].snippet, "...ghp_...(sha256:"), "%s", fl.v[0].snippet);
	cr_assert(str_has_suffix(fl.v[0].snippet, ")..."), "%s", fl.v[0].snippet);
	cr_assert_null(strstr(fl.v[0].snippet, "--"), "%s", fl.v[0].snippet);
	free(text);
	/* A short line is quoted whole, unmarked. */
	text = xasprintf("  token: %s # %s\n", tok, word);
	scan(text, NULL, 0);
	cr_assert_eq(fl.n, 1);
	char *want = xasprintf(
		"token: %s # %s",
		fl.v[0].extra ? json_string_value(json_object_get(fl.v[0].extra, "redacted")) : "",
		word);
	cr_assert_str_eq(fl.v[0].snippet, want);
	free(want);
	free(text);
}
