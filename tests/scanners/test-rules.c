/*
 * test-rules.c - the rule packs and their loader: the default packs load, are big enough
 * (120+ SAST rules covering every language, 40+ secret rules) and pass their labelled
 * fixtures with a must-match and a must-not-match case for every rule; rules files with
 * mistakes are refused with the rules file's line and column.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "rules.h"
#include "ruletest.h"
#include "util.h"

#include "testutil.h"

#include <stdio.h>

static struct ruleset *defaults(enum rule_kind kind)
{
	struct ruleset *rs = ruleset_new(kind);
	struct diag_list dl;
	diag_list_init(&dl, 20);
	int r = ruleset_load_defaults(rs, &dl);
	for (size_t i = 0; i < dl.n; i++) {
		fprintf(stderr, "%s:%u:%u: %s\n", dl.v[i].file, dl.v[i].line, dl.v[i].col,
			dl.v[i].msg);
	}
	cr_assert_eq(r, 0);
	cr_assert_eq(dl.errors, 0);
	ruleset_finish(rs, &dl);
	diag_list_release(&dl);
	return rs;
}

Test(rules, default_packs_are_complete)
{
	struct ruleset *rs = defaults(RULE_SAST);
	cr_assert_geq(ruleset_count(rs), 120, "%zu SAST rules", ruleset_count(rs));
	size_t per_lang[LANG_COUNT] = { 0 };
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);
		cr_assert(r->n_cwe > 0, "%s has a CWE", r->id);
		cr_assert(r->fix && *r->fix, "%s has a fix", r->id);
		for (int l = 1; l < LANG_COUNT; l++) {
			per_lang[l] += r->lang[l];
		}
	}
	for (int l = 1; l < LANG_COUNT; l++) {
		cr_assert_gt(per_lang[l], 0, "no rule for %s", lang_name((enum lang)l));
	}
	/* Rules the issue names, by id. */
	static const char *const named[] = {
		"c.gets",
		"c.strcpy",
		"c.scanf-unbounded-string",
		"c.printf-format-string",
		"c.syslog-format-string",
		"c.system",
		"c.popen",
		"c.exec-path-search",
		"c.mktemp",
		"c.tmpnam",
		"c.tempnam",
		"c.rand-for-secret",
		"c.alloca",
		"c.realpath-buffer",
		"c.toctou-access",
		"c.chroot-without-chdir",
		"c.signal-handler-unsafe-call",
		"py.eval",
		"py.exec",
		"py.pickle-load",
		"py.marshal-load",
		"py.yaml-unsafe-load",
		"py.subprocess-shell",
		"py.os-system",
		"py.weak-password-hash",
		"py.requests-verify-disabled",
		"py.sql-percent-format",
		"py.tempfile-mktemp",
		"py.assert-authorization",
		"js.eval",
		"js.new-function",
		"js.child-process-exec",
		"js.inner-html",
		"js.outer-html",
		"js.document-write",
		"js.sql-concat",
		"js.math-random-secret",
		"js.tls-reject-unauthorized",
		"go.exec-shell",
		"go.sql-sprintf",
		"go.tls-insecure-skip-verify",
		"go.math-rand-secret",
		"go.weak-hash",
		"java.runtime-exec",
		"java.sql-statement-concat",
		"java.xxe-documentbuilder",
		"java.object-input-stream",
		"java.weak-cipher",
		"sh.curl-pipe-shell",
		"sh.eval-expansion",
		"sh.rm-rf-unquoted",
		"docker.base-image-unpinned",
		"docker.add-remote-url",
		"docker.curl-pipe-shell",
		"docker.no-user",
		"docker.secret-in-env",
		"docker.secret-in-arg",
		"gha.script-injection",
		"gha.pull-request-target-checkout",
		"gha.unpinned-action",
	};
	for (size_t i = 0; i < ARRAY_SIZE(named); i++) {
		cr_assert_not_null(ruleset_find(rs, named[i]), "missing %s", named[i]);
	}
	ruleset_free(rs);

	rs = defaults(RULE_SECRET);
	cr_assert_geq(ruleset_count(rs), 40, "%zu secret rules", ruleset_count(rs));
	static const char *const secrets[] = {
		"secret.aws-access-key-id",
		"secret.aws-secret-access-key",
		"secret.github-pat",
		"secret.github-oauth-token",
		"secret.github-app-token",
		"secret.github-fine-grained-pat",
		"secret.gitlab-pat",
		"secret.slack-token",
		"secret.stripe-secret-key",
		"secret.stripe-restricted-key",
		"secret.google-api-key",
		"secret.azure-storage-account-key",
		"secret.twilio-api-key",
		"secret.sendgrid-api-key",
		"secret.npm-token",
		"secret.pypi-token",
		"secret.private-key",
		"secret.jwt",
		"secret.database-url-password",
		"secret.generic-secret-assignment",
	};
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++) {
		cr_assert_not_null(ruleset_find(rs, secrets[i]), "missing %s", secrets[i]);
	}
	ruleset_free(rs);
}

static void fixtures_pass(enum rule_kind kind)
{
	struct ruleset *rs = defaults(kind);
	char *dir = tu_fixture("rules");
	const char *paths[] = { dir };
	struct ruletest_report rep;
	char err[300];
	cr_assert_eq(ruletest_run(rs, paths, 1, &rep, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < rep.n; i++) {
		const struct ruletest_rule *r = &rep.rules[i];
		cr_expect_gt(r->must_match, 0, "%s has no must-match fixture", r->rule->id);
		cr_expect_gt(r->must_not_match, 0, "%s has no must-not-match fixture", r->rule->id);
		cr_expect_eq(r->fp + r->fn, 0, "%s: %zu false positives, %zu false negatives: %s",
			     r->rule->id, r->fp, r->fn, r->first_problem ? r->first_problem : "");
	}
	cr_assert(ruletest_ok(&rep));
	json_t *j = ruletest_json(&rep);
	cr_assert_eq(json_real_value(json_object_get(json_object_get(j, "total"), "precision")),
		     1.0);
	json_decref(j);
	ruletest_report_release(&rep);
	ruleset_free(rs);
	free(dir);
}

Test(rules, sast_fixtures_match_and_do_not_match)
{
	fixtures_pass(RULE_SAST);
}

Test(rules, secret_fixtures_match_and_do_not_match)
{
	fixtures_pass(RULE_SECRET);
}

/* A label applies to the next unlabelled line and to the lines that continue it (a
 * backslash at its end): a finding there is the labelled one; past them it is not. */
Test(rules, labels_cover_continued_lines)
{
	static const char pack[] = "kind: secrets\nrules:\n"
				   "  - {id: secret.t-pw, title: t, severity: high, "
				   "keywords: ['-p '], regex: '-p ([A-Za-z0-9]{16})'}\n";
	struct ruleset *rs = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_buffer(rs, "t.yml", pack, strlen(pack), &dl), 0);
	cr_assert_eq(ruleset_finish(rs, &dl), 0);
	diag_list_release(&dl);
	char *dir = tu_tmpdir();
	tu_write(dir, "f.sh",
		 "# ruleid: secret.t-pw\n"
		 "login -u app \\\n"
		 "  --server x \\\n"
		 "  -p Zk8Lp3Qw9Xr2Tm6Y\n"
		 "# ok: secret.t-pw\n"
		 "login -u app\n"
		 "  -p Zk8Lp3Qw9Xr2Tm6Y\n");
	const char *paths[] = { dir };
	struct ruletest_report rep;
	char err[300];
	cr_assert_eq(ruletest_run(rs, paths, 1, &rep, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rep.n, 1);
	const struct ruletest_rule *r = &rep.rules[0];
	cr_expect_eq(r->tp, 1, "the finding on the second continued line is the labelled one");
	cr_expect_eq(r->fn, 0);
	cr_expect_eq(r->tn, 1);
	cr_expect_eq(r->fp, 1, "a line that is not continued is not labelled");
	ruletest_report_release(&rep);
	ruleset_free(rs);
	tu_rmdir(dir);
	free(dir);
}

/* Load a rules document; return the diagnostics as "line:col: msg" lines. */
static char *load_errors(const char *doc, enum rule_kind kind)
{
	struct ruleset *rs = ruleset_new(kind);
	struct diag_list dl;
	diag_list_init(&dl, 50);
	int r = ruleset_load_buffer(rs, "bad.yml", doc, strlen(doc), &dl);
	cr_assert_eq(r<0, dl.errors> 0, "an error comes with diagnostics");
	static char buf[4096];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < dl.n && n < sizeof(buf) - 300; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%u:%u: %s%s%s\n", dl.v[i].line,
				      dl.v[i].col, dl.v[i].msg, dl.v[i].hint ? " | " : "",
				      dl.v[i].hint ? dl.v[i].hint : "");
	}
	diag_list_release(&dl);
	ruleset_free(rs);
	return buf;
}

static void has(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

/* A secret rule's regex may be a list of pieces, joined: rules share a piece through a
 * YAML anchor and its aliases. A piece that is no string, or pieces longer than a regex
 * may be together, are refused. */
Test(rules, secret_regex_pieces_are_joined)
{
	static const char pack[] = "kind: secrets\nrules:\n"
				   "  - id: secret.a\n    severity: high\n    keywords: [ka]\n"
				   "    regex: [ 'ka=', &v '(\\d{3})', &e '(?=;)' ]\n"
				   "  - id: secret.b\n    severity: high\n    keywords: [kb]\n"
				   "    regex: [ 'kb:', *v, *e ]\n";
	struct ruleset *rs = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 20);
	cr_assert_eq(ruleset_load_buffer(rs, "p.yml", pack, strlen(pack), &dl), 0, "%s",
		     dl.n ? dl.v[0].msg : "");
	cr_assert_eq(ruleset_count(rs), 2);
	static const char *const hits[] = { "ka=123;", "kb:456;" };
	static const char *const misses[] = { "ka=12;", "kb:456" };
	for (size_t i = 0; i < 2; i++) {
		const struct rule *r = ruleset_rule(rs, i);
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->regex, NULL);
		cr_expect_gt(
			pcre2_match(r->regex, (PCRE2_SPTR)hits[i], strlen(hits[i]), 0, 0, md, NULL),
			1, "%s", hits[i]);
		cr_expect_eq(pcre2_match(r->regex, (PCRE2_SPTR)misses[i], strlen(misses[i]), 0, 0,
					 md, NULL),
			     PCRE2_ERROR_NOMATCH, "%s", misses[i]);
		pcre2_match_data_free(md);
	}
	diag_list_release(&dl);
	ruleset_free(rs);

	char *e = load_errors("kind: secrets\nrules:\n  - id: secret.x\n    severity: high\n"
			      "    keywords: [kk]\n    regex: [ 'k', [ 'x' ] ]\n",
			      RULE_SECRET);
	has(e, "6:19: each piece of `regex` must be a string, not a sequence");
	char *doc = xmalloc(RULE_REGEX_MAX + 200);
	snprintf(doc, RULE_REGEX_MAX + 200,
		 "kind: secrets\nrules:\n  - id: secret.x\n    severity: high\n"
		 "    keywords: [kk]\n    regex: [ 'k', '%0*d' ]\n",
		 RULE_REGEX_MAX, 0);
	e = load_errors(doc, RULE_SECRET);
	free(doc);
	has(e, "6:12: `regex` is longer than 4096 bytes");
}

Test(rules, invalid_rules_are_refused_with_positions)
{
	char *e = load_errors("kind: sast\nrules:\n  - id: a.b\n    languages: [c]\n"
			      "    severity: hihg\n    mesage: x\n    pattern: f($X\n",
			      RULE_SAST);
	has(e, "5:15: invalid severity 'hihg'");
	has(e, "6:5: unknown key 'mesage' in a SAST rule | did you mean `message`?");
	has(e, "3:5: the rule has no `message`");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [c]\n    severity: low\n"
			"    message: m\n    pattern: f($X\n",
			RULE_SAST);
	has(e, "unbalanced bracket in the pattern (as c) in rule 'x'");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [cobol]\n"
			"    severity: low\n    message: m\n    regex: 'a('\n",
			RULE_SAST);
	has(e, "4:17: unknown language 'cobol'");
	has(e, "7:12: invalid regular expression in `regex` at offset 2");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [c]\n    severity: low\n"
			"    message: uses $Y\n    pattern: f($X)\n    conditions:\n"
			"      - metavariable: $Z\n        literal: true\n",
			RULE_SAST);
	has(e, "no pattern of rule 'x' has the metavariable $Z");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [c]\n    severity: low\n"
			"    message: uses $Y\n    pattern: f($X)\n",
			RULE_SAST);
	has(e, "names $Y, which no pattern binds");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [c]\n    severity: low\n"
			"    message: m\n    pattern: $A($B)\n",
			RULE_SAST);
	has(e, "needs a literal identifier");
	/* A metavariable to anchor on must be one a bound-by condition binds, with patterns
	 * that bind it and have a literal to anchor on themselves. */
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [javascript]\n"
			"    severity: low\n    message: m\n    pattern: $F($B)\n"
			"    conditions:\n      - metavariable: $F\n        regex: f\n",
			RULE_SAST);
	has(e, "7:14: the pattern needs a literal identifier");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [javascript]\n"
			"    severity: low\n    message: m\n    pattern: $F($B)\n"
			"    conditions:\n      - metavariable: $F\n"
			"        bound-by: [ '$F = require(\"m\")', '$F = $G' ]\n",
			RULE_SAST);
	has(e, "10:42: the pattern needs a literal identifier");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [javascript]\n"
			"    severity: low\n    message: m\n    pattern: $F($B)\n"
			"    conditions:\n      - metavariable: $F\n"
			"        bound-by: [ '$F = require(\"m\")', '$G = require(\"m\")' ]\n",
			RULE_SAST);
	has(e, "10:42: the bound-by pattern does not bind $F, in rule 'x'");
	/* Without any metavariable, it binds every name (Python's star import). */
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [python]\n"
			"    severity: low\n    message: m\n    pattern: $F(shell=True)\n"
			"    conditions:\n      - metavariable: $F\n"
			"        bound-by: [ 'from m import $F', 'from m import *' ]\n",
			RULE_SAST);
	cr_assert_str_eq(e, "");
	e = load_errors("kind: sast\nrules:\n  - id: x\n    languages: [javascript]\n"
			"    severity: low\n    message: m\n    pattern: $F($B)\n"
			"    conditions:\n      - metavariable: $F\n        bound-by: f($F\n",
			RULE_SAST);
	has(e, "unbalanced bracket in the pattern (as javascript) in rule 'x'");
	e = load_errors(
		"kind: sast\nrules:\n  - id: x\n    languages: [javascript]\n"
		"    severity: low\n    message: m\n    pattern: $F($B)\n"
		"    conditions:\n      - metavariable: $F\n        bound-by: $F = require()\n"
		"      - metavariable: $H\n        regex: h\n",
		RULE_SAST);
	has(e, "no pattern of rule 'x' has the metavariable $H");
	e = load_errors(
		"kind: sast\nrules:\n  - {id: d, languages: [c], severity: low, message: m, "
		"pattern: f()}\n  - {id: d, languages: [c], severity: low, message: m, "
		"pattern: g()}\n",
		RULE_SAST);
	has(e, "4:10: duplicate rule id 'd' | the first is at bad.yml:3");
	e = load_errors("kind: secrets\nrules:\n  - id: secret.x\n    severity: high\n"
			"    regex: 'k(e)y'\n    secret-group: 3\n",
			RULE_SECRET);
	has(e, "needs `keywords`");
	has(e, "6:19: the regex has only 1 capture groups");
	e = load_errors("kind: secrets\nrules:\n  - id: secret.x\n    severity: high\n"
			"    keywords: [k]\n    regex: 'k'\n    multiline: 65\n"
			"  - id: secret.y\n    severity: high\n"
			"    keywords: [k]\n    regex: 'k'\n    multiline: 0\n",
			RULE_SECRET);
	has(e, "7:16: `multiline` must be true, false or a number of lines from 1 to 64");
	has(e, "12:16: `multiline` must be true");
	e = load_errors(
		"kind: secrets\nrules:\n  - id: secret.x\n    severity: high\n"
		"    keywords: [kk]\n    regex: 'kk(?C\"yaml\")(?C1)'\n"
		"  - id: secret.y\n    severity: high\n"
		"    keywords: [kk]\n    regex: 'kk(?C{json})'\n"
		"  - id: secret.z\n    severity: high\n"
		"    keywords: [kk]\n    regex: 'kk(?C\"yaml\")'\n"
		"  - id: secret.w\n    severity: high\n"
		"    keywords: [kk]\n    regex: 'kk(?!(?C\"code\"))'\n"
		"  - id: secret.v\n    severity: high\n"
		"    keywords: [kk]\n    regex: 'kk(?C\"Code\")'\n"
		"  - id: secret.u\n    severity: high\n"
		"    keywords: [kk]\n    regex: '^[ \\t]+(?C\"lisp\")kk'\n"
		"  - id: secret.t\n    severity: high\n"
		"    keywords: [kk]\n    regex: '(?C\"lisp-let\")\\(kk|(?C\"lisp-pair\")kk'\n"
		"  - id: secret.s\n    severity: high\n"
		"    keywords: [kk]\n    regex: '(?C\"lisp-lett\")kk'\n"
		"  - id: secret.r\n    severity: high\n"
		"    keywords: [kk]\n    regex: '(?C\"lisp-let-head\")kk'\n",
		RULE_SECRET);
	has(e, "6:12: unknown callout (?C1) in `regex` | a secret rule's regex may ask");
	has(e, "10:12: unknown callout (?C{json}) in `regex`");
	cr_assert_null(strstr(e, "14:"), "(?C\"yaml\") is known:\n%s", e);
	cr_assert_null(strstr(e, "18:"), "(?C\"code\") is known:\n%s", e);
	has(e, "22:12: unknown callout (?C\"Code\") in `regex`");
	cr_assert_null(strstr(e, "26:"), "(?C\"lisp\") is known:\n%s", e);
	cr_assert_null(strstr(e, "30:"), "(?C\"lisp-let\"), (?C\"lisp-pair\") are known:\n%s", e);
	has(e, "34:12: unknown callout (?C\"lisp-lett\") in `regex`");
	cr_assert_null(strstr(e, "38:"), "(?C\"lisp-let-head\") is known:\n%s", e);
	e = load_errors("rules: [\n", RULE_SAST);
	has(e, "YAML");
	e = load_errors("kind: lint\nrules: []\n", RULE_SAST);
	has(e, "invalid rules kind 'lint'");
}

Test(rules, files_and_directories)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "pack/a.yml",
		 "kind: sast\nrules:\n  - {id: my.a, languages: [c], severity: low, message: m, "
		 "pattern: danger()}\n");
	tu_write(dir, "pack/b.yaml", "kind: secrets\nrules: []\n");
	tu_write(dir, "pack/notes.txt", "not rules");
	tu_write(dir, "empty/readme.md", "nothing");
	char *pack = xasprintf("%s/pack", dir), *empty = xasprintf("%s/empty", dir);
	char *missing = xasprintf("%s/missing", dir);
	struct ruleset *rs = ruleset_new(RULE_SAST);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(ruleset_load_path(rs, pack, &dl), 0);
	cr_assert_eq(ruleset_count(rs), 1);
	cr_assert_lt(ruleset_load_path(rs, empty, &dl), 0, "a directory without rules is an error");
	cr_assert_lt(ruleset_load_path(rs, missing, &dl), 0);
	cr_assert_eq(dl.errors, 2);
	diag_list_release(&dl);
	ruleset_free(rs);
	free(pack);
	free(empty);
	free(missing);
	tu_rmdir(dir);
	free(dir);
}
