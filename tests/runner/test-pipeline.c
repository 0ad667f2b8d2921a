/*
 * test-pipeline.c - loading pipelines: the model of valid files, and every validation
 * error with its exact message, position and hint.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "expr.h"
#include "pipeline.h"
#include "sandboxcfg.h"
#include "stage.h"
#include "util.h"

#include <stdio.h>
#include <time.h>

static struct pipeline *load_ok(const char *text)
{
	struct diag_list dl;
	struct pipeline *p;
	diag_list_init(&dl, 20);
	int r = pipeline_load_buffer("p.yml", "/ws", text, strlen(text), &p, &dl);
	cr_assert_eq(r, 0, "unexpected error: %s (%u:%u)", dl.n ? dl.v[0].msg : "?",
		     dl.n ? dl.v[0].line : 0, dl.n ? dl.v[0].col : 0);
	diag_list_release(&dl);
	return p;
}

/* One of the errors must be exactly msg at line:col, with the given hint. */
static void expect(const char *text, unsigned line, unsigned col, const char *msg, const char *hint)
{
	struct diag_list dl;
	struct pipeline *p = NULL;
	diag_list_init(&dl, 20);
	int r = pipeline_load_buffer("p.yml", "/ws", text, strlen(text), &p, &dl);
	cr_assert_lt(r, 0, "accepted:\n%s", text);
	cr_assert_null(p);
	cr_assert_geq(dl.n, 1);
	const struct diag *d = NULL;
	for (size_t i = 0; i < dl.n && !d; i++) {
		d = str_eq(dl.v[i].msg, msg) ? &dl.v[i] : NULL;
	}
	cr_assert_not_null(d, "no error '%s'; first was '%s' at %u:%u", msg, dl.v[0].msg,
			   dl.v[0].line, dl.v[0].col);
	cr_assert_str_eq(d->file, "p.yml");
	cr_assert_eq(d->line, line, "'%s' at line %u, expected %u", d->msg, d->line, line);
	cr_assert_eq(d->col, col, "'%s' at col %u, expected %u", d->msg, d->col, col);
	if (hint) {
		cr_assert_not_null(d->hint, "'%s' has no hint", d->msg);
		cr_assert_str_eq(d->hint, hint);
	}
	diag_list_release(&dl);
}

/* No error may be msg. */
static void expect_not(const char *text, const char *msg)
{
	struct diag_list dl;
	struct pipeline *p = NULL;
	diag_list_init(&dl, 20);
	pipeline_load_buffer("p.yml", "/ws", text, strlen(text), &p, &dl);
	for (size_t i = 0; i < dl.n; i++) {
		cr_assert_str_neq(dl.v[i].msg, msg, "unexpected error at %u:%u", dl.v[i].line,
				  dl.v[i].col);
	}
	pipeline_free(p);
	diag_list_release(&dl);
}

#define HEAD "version: 1\nstages:\n"

Test(pipeline, full_model)
{
	struct pipeline *p = load_ok("version: 1\n"
				     "name: webapp\n"
				     "env: { CC: gcc, V: \"${RUNNER_COMMIT_SHORT}\" }\n"
				     "defaults: { timeout: 10m, retry: 0, kill-grace: 3s }\n"
				     "stages:\n"
				     "  build:\n"
				     "    run: |\n"
				     "      make -j2\n"
				     "    outputs: [build/app]\n"
				     "  test:\n"
				     "    needs: [build]\n"
				     "    run: make check\n"
				     "    timeout: 5m\n"
				     "    retry: 1\n"
				     "    allow-failure: false\n"
				     "  lint:\n"
				     "    if: branch == \"main\" && event != \"pull_request\"\n"
				     "    run: ./lint.sh\n"
				     "    env: { LEVEL: strict, FULL: \"${CC}-${LEVEL}\" }\n"
				     "    secrets: [npm_token]\n"
				     "    workdir: src\n"
				     "    retry: { max: 2, when: [failure, timeout] }\n"
				     "    allow-skipped-needs: true\n");
	cr_assert_str_eq(p->name, "webapp");
	cr_assert_str_eq(p->dir, "/ws");
	cr_assert_eq(p->n_stages, 3);
	cr_assert_eq(p->n_env, 2);
	struct pstage *build = pipeline_find(p, "build"), *test = pipeline_find(p, "test");
	struct pstage *lint = pipeline_find(p, "lint");
	cr_assert_str_eq(build->script, "make -j2\n");
	cr_assert_eq(build->kind, &stage_kind_script);
	cr_assert_eq(build->timeout_ms, 600000);
	cr_assert_eq(build->kill_grace_ms, 3000);
	cr_assert_eq(build->n_outputs, 1);
	cr_assert_str_eq(build->outputs[0], "build/app");
	cr_assert_eq(test->n_needs, 1);
	cr_assert_eq(test->needs[0], build->index);
	cr_assert_eq(test->timeout_ms, 300000);
	cr_assert_eq(test->retry, 1);
	cr_assert_eq(test->retry_when, RETRY_ON_FAILURE);
	cr_assert_not_null(lint->cond);
	cr_assert_eq(lint->retry, 2);
	cr_assert_eq(lint->retry_when, RETRY_ON_FAILURE | RETRY_ON_TIMEOUT);
	cr_assert_str_eq(lint->workdir, "src");
	cr_assert_eq(lint->n_secrets, 1);
	cr_assert(lint->allow_skipped_needs);
	cr_assert_eq(lint->n_env, 2);
	cr_assert_str_eq(lint->env[1].value, "${CC}-${LEVEL}");
	/* Topological order: build before test. */
	size_t pb = 9, pt = 9;
	for (size_t i = 0; i < 3; i++) {
		pb = p->order[i] == build->index ? i : pb;
		pt = p->order[i] == test->index ? i : pt;
	}
	cr_assert_lt(pb, pt);
	pipeline_free(p);
}

Test(pipeline, defaults_when_nothing_is_set)
{
	struct pipeline *p = load_ok(HEAD "  a:\n    run: \"true\"\n");
	struct pstage *a = pipeline_find(p, "a");
	cr_assert_str_eq(p->name, "pipeline");
	cr_assert_eq(a->timeout_ms, PIPELINE_DEFAULT_TIMEOUT_MS);
	cr_assert_eq(a->kill_grace_ms, PIPELINE_DEFAULT_GRACE_MS);
	cr_assert_eq(a->retry, 0);
	cr_assert_not(a->allow_failure);
	cr_assert_str_eq(a->workdir, ".");
	pipeline_free(p);
}

Test(pipeline, templates_merge_keys_and_extension_fields)
{
	struct pipeline *p = load_ok("version: 1\n"
				     "x-common: &common { timeout: 2m, retry: 2 }\n"
				     "stages:\n"
				     "  .tpl: &tpl { run: make, allow-failure: true }\n"
				     "  a:\n"
				     "    <<: [*tpl, *common]\n"
				     "  b:\n"
				     "    <<: *tpl\n"
				     "    run: make b\n");
	cr_assert_eq(p->n_stages, 2);
	struct pstage *a = pipeline_find(p, "a"), *b = pipeline_find(p, "b");
	cr_assert_str_eq(a->script, "make");
	cr_assert(a->allow_failure);
	cr_assert_eq(a->timeout_ms, 120000);
	cr_assert_eq(a->retry, 2);
	cr_assert_str_eq(b->script, "make b");
	cr_assert_null(pipeline_find(p, ".tpl"));
	pipeline_free(p);
}

Test(pipeline, yaml_syntax_error)
{
	expect(HEAD "  a:\n    run: [make\n  b:\n    run: x\n", 5, 4,
	       "YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence",
	       NULL);
}

Test(pipeline, unknown_keys_with_suggestions)
{
	expect(HEAD "  a:\n    run: make\n  test:\n    need: [a]\n    run: x\n", 6, 5,
	       "unknown key 'need' in stage 'test'", "did you mean `needs`?");
	expect("version: 1\nstage:\n  a: { run: x }\n", 2, 1,
	       "unknown key 'stage' at the top level", "did you mean `stages`?");
	expect("version: 1\ndefaults: { timout: 1m }\nstages:\n  a: { run: x }\n", 2, 13,
	       "unknown key 'timout' in defaults", "did you mean `timeout`?");
	expect(HEAD "  a:\n    run: x\n    banana: 1\n", 5, 5, "unknown key 'banana' in stage 'a'",
	       "valid keys are: run, uses, with, needs, if, env, timeout, retry, kill-grace, "
	       "allow-failure, allow-skipped-needs, outputs, secrets, workdir, ungated, sandbox, "
	       "shell");
}

Test(pipeline, duplicate_keys)
{
	expect(HEAD "  a:\n    run: x\n  a:\n    run: y\n", 5, 3,
	       "duplicate key 'a' (first defined at line 3)", "remove one of the two entries");
	expect(HEAD "  a:\n    run: x\n    run: y\n", 5, 5,
	       "duplicate key 'run' (first defined at line 4)", NULL);
}

Test(pipeline, wrong_types)
{
	expect(HEAD "  a: { run: x }\n  b:\n    needs: { a: 1 }\n    run: y\n", 5, 12,
	       "needs must be a sequence, not a mapping",
	       "write needs: build, or needs: [build, test]");
	expect(HEAD "  a:\n    run: x\n    allow-failure: yes\n", 5, 20,
	       "allow-failure must be a boolean, not a string", "write true or false");
	expect(HEAD "  a:\n    run: x\n    retry: many\n", 5, 12,
	       "retry must be a whole number from 0 to 10, not many", NULL);
	expect(HEAD "  a:\n    run: x\n    retry: 11\n", 5, 12,
	       "retry must be a whole number from 0 to 10, not 11", NULL);
	expect(HEAD "  a:\n    run: [x]\n", 4, 10, "run must be a string, not a sequence",
	       "write the commands as one block: `run: |`, then one command per line, indented");
	/* A quoted number is a string: the message says so rather than "not 2". */
	expect(HEAD "  a:\n    run: x\n    retry: \"2\"\n", 5, 12,
	       "retry must be a whole number from 0 to 10, not a string",
	       "write the number without quotes: retry: 2");
	expect(HEAD "  a:\n    run: x\n    retry: { max: '3' }\n", 5, 19,
	       "retry must be a whole number from 0 to 10, not a string",
	       "write the number without quotes: max: 3");
	expect("version: 1\nstages: [a, b]\n", 2, 9,
	       "stages must be a mapping from stage names to stages, not a sequence", NULL);
	expect(HEAD "  a: make\n", 3, 6, "stage 'a' must be a mapping, not a string", NULL);
	expect("version: 1\nenv: { A: [1] }\nstages:\n  a: { run: x }\n", 2, 11,
	       "value of A must be a string, not a sequence", NULL);
	expect(HEAD "  a:\n    run: x\n    retry: { max: 1, when: [failure, crash] }\n", 5, 38,
	       "unknown retry condition 'crash'", "the values are failure and timeout");
}

Test(pipeline, unknown_stage_in_needs)
{
	expect(HEAD "  build: { run: x }\n  test:\n    needs: [biuld]\n    run: y\n", 5, 13,
	       "stage 'test' needs unknown stage 'biuld'", "did you mean `build`?");
	expect(HEAD "  build: { run: x }\n  test:\n    needs: [deploy]\n    run: y\n", 5, 13,
	       "stage 'test' needs unknown stage 'deploy'", "needs lists names of other stages");
	/* The stage itself is never the suggestion: it cannot need itself. */
	expect(HEAD "  build:\n    needs: [biuld]\n    run: x\n  test: { run: y }\n", 4, 13,
	       "stage 'build' needs unknown stage 'biuld'", "needs lists names of other stages");
	expect(HEAD "  build:\n    needs: [bilt]\n    run: x\n  built: { run: y }\n", 4, 13,
	       "stage 'build' needs unknown stage 'bilt'", "did you mean `built`?");
}

/* `$NAME` in an env value is taken as written (only `${NAME}` is replaced, and the shell
 * does not see the value again): a pipeline moved from GitLab CI, where `$HOME` expands,
 * would run with PATH=$HOME/bin:$PATH literally. The file loads, with a warning there. */
Test(pipeline, shell_variable_in_env_warns)
{
	const char *text = "version: 1\nenv:\n  BIN: \"${RUNNER_WORKSPACE}/bin\"\n"
			   "stages:\n  a:\n    run: x\n    env:\n"
			   "      PATH: \"$HOME/.local/bin:$PATH\"\n"
			   "      PRICE: \"5$\"\n      LIT: \"$${HOME} $$\"\n";
	struct diag_list dl;
	struct pipeline *p = NULL;
	diag_list_init(&dl, 20);
	cr_assert_eq(pipeline_load_buffer("p.yml", "/ws", text, strlen(text), &p, &dl), 0);
	cr_assert_eq(dl.n, 1, "%zu diagnostics", dl.n);
	cr_assert_eq(dl.v[0].level, DIAG_WARNING);
	cr_assert_str_eq(dl.v[0].msg,
			 "$HOME is not expanded in an env value: the stage gets it as written");
	cr_assert_eq(dl.v[0].line, 8);
	cr_assert_eq(dl.v[0].col, 14);
	cr_assert_str_eq(dl.v[0].hint,
			 "${NAME} expands the pipeline's env and the RUNNER_* variables; for the "
			 "shell's, set it in the script: export PATH=\"$HOME/...\"");
	pipeline_free(p);
	diag_list_release(&dl);
}

/* `shell:` names what runs a script: sh by default, bash on request, in defaults or per
 * stage; nothing else, and not on a built-in stage. */
Test(pipeline, shell)
{
	struct pipeline *p = load_ok("version: 1\ndefaults: { shell: bash }\nstages:\n"
				     "  a: { run: x }\n  b: { run: y, shell: sh }\n"
				     "  c: { uses: secrets }\n");
	cr_assert_eq(pipeline_find(p, "a")->shell, STAGE_SHELL_BASH);
	cr_assert_eq(pipeline_find(p, "b")->shell, STAGE_SHELL_SH);
	pipeline_free(p);
	p = load_ok(HEAD "  a: { run: x }\n  b: { run: y, shell: bash }\n");
	cr_assert_eq(pipeline_find(p, "a")->shell, STAGE_SHELL_SH);
	cr_assert_eq(pipeline_find(p, "b")->shell, STAGE_SHELL_BASH);
	pipeline_free(p);
	expect(HEAD "  a:\n    run: x\n    shell: pwsh\n", 5, 12, "unknown shell 'pwsh'",
	       "shell is one of: sh, bash");
	expect("version: 1\ndefaults: { shell: Bash }\nstages:\n  a: { run: x }\n", 2, 20,
	       "unknown shell 'Bash'", "shell is one of: sh, bash");
	expect(HEAD "  a:\n    run: x\n    shell: [bash]\n", 5, 12,
	       "shell must be a string, not a sequence", NULL);
	expect(HEAD "  a:\n    uses: secrets\n    shell: bash\n", 5, 12,
	       "stage 'a' has `shell:` but no `run:`",
	       "`shell:` applies to `run:` scripts; remove it");
}

/* `needs: build`, one name without brackets (GitHub Actions accepts it), is a list of one,
 * checked as one: an unknown name with a suggestion, the stage itself, a cycle, each at
 * the value's position. */
Test(pipeline, needs_as_one_name)
{
	struct pipeline *p = load_ok(HEAD "  build: { run: x }\n  test:\n    needs: build\n"
					  "    run: y\n");
	struct pstage *build = pipeline_find(p, "build"), *test = pipeline_find(p, "test");
	cr_assert_eq(test->n_needs, 1);
	cr_assert_eq(test->needs[0], build->index);
	pipeline_free(p);
	expect(HEAD "  build: { run: x }\n  test:\n    needs: biuld\n    run: y\n", 5, 12,
	       "stage 'test' needs unknown stage 'biuld'", "did you mean `build`?");
	expect(HEAD "  build: { run: x }\n  test:\n    needs: test\n    run: y\n", 5, 12,
	       "stage 'test' needs itself", "remove it from needs");
	expect(HEAD "  a:\n    run: x\n    needs: b\n  b:\n    needs: [a]\n    run: y\n", 5, 12,
	       "dependency cycle: a -> b -> a", "remove one of these needs to break the cycle");
	expect(HEAD "  a:\n    run: x\n    needs: \"b c\"\n  b: { run: y }\n", 5, 12,
	       "stage 'a' needs unknown stage 'b c'", NULL);
}

/* `runner validate` reports every problem: an error in one stage's keys does not hide
 * the needs of another that name no stage, or a cycle. */
Test(pipeline, needs_checked_beside_other_errors)
{
	expect(HEAD "  build:\n    run: x\n    env: { E: }\n  test:\n    needs: [biuld]\n"
		    "    run: y\n",
	       7, 13, "stage 'test' needs unknown stage 'biuld'", "did you mean `build`?");
	expect(HEAD "  a:\n    run: x\n    timeout: 5\n    needs: [b]\n  b:\n    needs: [a]\n"
		    "    run: y\n",
	       6, 13, "dependency cycle: a -> b -> a",
	       "remove one of these needs to break the cycle");
	expect(HEAD "  a:\n    run: x\n    retry: many\n  b:\n    needs: [b]\n    run: y\n", 7, 13,
	       "stage 'b' needs itself", "remove it from needs");
	/* A stage whose name was refused is still a stage the file has: needing it is not
	 * "unknown" on top of the name's own error. */
	expect(HEAD "  \"b c\": { run: x }\n  d:\n    needs: [\"b c\"]\n    run: y\n", 3, 3,
	       "invalid stage name 'b c'", NULL);
	expect_not(HEAD "  \"b c\": { run: x }\n  d:\n    needs: [\"b c\"]\n    run: y\n",
		   "stage 'd' needs unknown stage 'b c'");
	/* A hidden template is no stage to need. */
	expect(HEAD "  .t: &t { run: x }\n  d:\n    needs: [.t]\n    run: y\n", 5, 13,
	       "stage 'd' needs unknown stage '.t'", NULL);
}

Test(pipeline, self_dependency_and_repeats)
{
	expect(HEAD "  a:\n    needs: [a]\n    run: x\n", 4, 13, "stage 'a' needs itself",
	       "remove it from needs");
	expect(HEAD "  a: { run: x }\n  b:\n    needs: [a, a]\n    run: x\n", 5, 16,
	       "'a' is listed twice in the needs of stage 'b'", NULL);
}

Test(pipeline, cycle_with_its_path)
{
	expect(HEAD "  a:\n    needs: [c]\n    run: x\n"
		    "  b:\n    needs: [a]\n    run: x\n"
		    "  c:\n    needs: [b]\n    run: x\n"
		    "  d:\n    needs: [a]\n    run: x\n",
	       4, 13, "dependency cycle: a -> c -> b -> a",
	       "remove one of these needs to break the cycle");
}

/* One validation lists the graph's problems and the variables' together: a cycle was
 * reported only once an unknown `needs` entry was fixed, and an unknown variable only once
 * the graph was valid. */
Test(pipeline, needs_errors_cycles_and_variables_are_reported_together)
{
	const char *text = HEAD "  a:\n    needs: [b]\n    run: x\n"
				"  b:\n    needs: [a, nope]\n    run: x\n"
				"    env: { A: \"${UNDEFINED_X}\" }\n";
	expect(text, 7, 16, "stage 'b' needs unknown stage 'nope'", NULL);
	expect(text, 4, 13, "dependency cycle: a -> b -> a",
	       "remove one of these needs to break the cycle");
	expect(text, 9, 16, "unknown variable '${UNDEFINED_X}'", NULL);
}

Test(pipeline, bad_durations)
{
	expect(HEAD "  a:\n    run: x\n    timeout: 10 minutes\n", 5, 14,
	       "bad duration '10 minutes' for timeout",
	       "use a number with a unit: 30s, 10m, 1h30m (units: ms, s, m, h, d)");
	expect(HEAD "  a:\n    run: x\n    timeout: 600\n", 5, 14, "bad duration '600' for timeout",
	       "add a unit, for example 600s or 10m");
	expect(HEAD "  a:\n    run: x\n    timeout: 0s\n", 5, 14, "bad duration '0s' for timeout",
	       "a duration must be longer than zero");
	expect(HEAD "  a:\n    run: x\n    kill-grace: 0ms\n", 5, 17,
	       "bad duration '0ms' for kill-grace", "a duration must be longer than zero");
	expect(HEAD "  a:\n    run: x\n    timeout: 8d\n", 5, 14,
	       "timeout '8d' is longer than the maximum of 168h00m", NULL);
}

Test(pipeline, empty_pipelines)
{
	expect("", 1, 1, "the pipeline file is empty",
	       "start with `version: 1` and a `stages:` mapping");
	expect("# nothing\n", 1, 1, "the pipeline file is empty", NULL);
	expect("version: 1\nstages: {}\n", 2, 9, "the pipeline has no stages", NULL);
	expect("version: 1\nstages:\n", 2, 8, "the pipeline has no stages", NULL);
	expect("version: 1\nname: x\n", 1, 1, "the pipeline has no `stages`", NULL);
	expect("- a\n- b\n", 1, 1, "the pipeline must be a mapping, not a sequence", NULL);
	expect(HEAD "  a:\n", 3, 3, "stage 'a' is empty",
	       "give it `run: <script>` or `uses: <kind>`");
}

Test(pipeline, stage_name_charset)
{
	expect(HEAD "  \"bad name!\":\n    run: x\n", 3, 3, "invalid stage name 'bad name!'",
	       "use letters, digits, '-' and '_' (at most 64), starting with a letter or digit");
	expect(HEAD "  -lead:\n    run: x\n", 3, 3, "invalid stage name '-lead'", NULL);
	char name[80];
	memset(name, 'a', 65);
	name[65] = '\0';
	char buf[200];
	snprintf(buf, sizeof(buf), HEAD "  %s:\n    run: x\n", name);
	char msg[120];
	snprintf(msg, sizeof(msg), "invalid stage name '%s'", name);
	expect(buf, 3, 3, msg, NULL);
}

Test(pipeline, version_checks)
{
	expect("stages:\n  a: { run: x }\n", 1, 1, "missing `version`",
	       "add `version: 1` at the top of the file");
	expect("version: 2\nstages:\n  a: { run: x }\n", 1, 10, "unsupported pipeline version '2'",
	       "this runner reads `version: 1`");
	expect("version: \"1\"\nstages:\n  a: { run: x }\n", 1, 10,
	       "version must be the number 1, not a string",
	       "write the number without quotes: version: 1");
}

/* A script with no command in it would pass having done nothing: `run:` left empty, or a
 * `run: |` block whose lines ended up elsewhere. */
Test(pipeline, empty_script)
{
	const char *hint = "write the commands after `run:`, or a block: `run: |`, then one "
			   "command per line, indented";
	expect(HEAD "  a:\n    run:\n", 4, 9, "stage 'a' has an empty `run:` script", hint);
	expect(HEAD "  a:\n    run: \"  \"\n", 4, 10, "stage 'a' has an empty `run:` script", hint);
	expect(HEAD "  a:\n    run: |\n  b: { run: x }\n", 4, 10,
	       "stage 'a' has an empty `run:` script", hint);
	/* A script of comments only is still a script someone wrote. */
	struct pipeline *p = load_ok(HEAD "  a:\n    run: \"# nothing yet\"\n");
	pipeline_free(p);
}

Test(pipeline, kinds)
{
	expect(HEAD "  a:\n    uses: dast\n", 4, 11, "unknown stage kind 'dast'", NULL);
	expect(HEAD "  a:\n    uses: script\n", 4, 11, "unknown stage kind 'script'", NULL);
	expect(HEAD "  a:\n    run: x\n    uses: y\n", 5, 11,
	       "stage 'a' has both `run:` and `uses:`", NULL);
	expect(HEAD "  a:\n    needs: []\n", 4, 5, "stage 'a' has neither `run:` nor `uses:`",
	       "add `run: <script>` or `uses: <kind>`");
	expect(HEAD "  a:\n    run: x\n    with: { a: 1 }\n", 5, 11,
	       "stage 'a' has `with:` but no `uses:`", NULL);
}

Test(pipeline, unknown_kind_names_the_known_kinds)
{
	struct diag_list dl;
	struct pipeline *p;
	const char *text = HEAD "  a:\n    uses: secrets-scan\n";
	diag_list_init(&dl, 20);
	cr_assert_lt(pipeline_load_buffer("p.yml", "/ws", text, strlen(text), &p, &dl), 0);
	cr_assert_not_null(strstr(dl.v[0].hint, "known kinds: "));
	char known[400];
	cr_assert_not_null(strstr(dl.v[0].hint, stage_kind_names(known, sizeof(known))));
	diag_list_release(&dl);
}

Test(pipeline, variables)
{
	expect("version: 1\nenv: { A: \"x-${RUNNER_COMIT_SHA}\" }\nstages:\n  a: { run: x }\n", 2,
	       14, "unknown variable '${RUNNER_COMIT_SHA}'",
	       "did you mean `${RUNNER_COMMIT_SHA}`?");
	expect(HEAD "  a:\n    run: x\n    env: { A: \"${B}\", B: y }\n", 5, 16,
	       "unknown variable '${B}'", NULL);
	expect(HEAD "  a:\n    run: x\n    env: { A: \"${B\" }\n", 5, 16, "unterminated '${'",
	       "write $${ for a literal ${");
	expect(HEAD "  a:\n    run: x\n    env: { RUNNER_X: y }\n", 5, 12,
	       "environment variable names starting with RUNNER_ are reserved", NULL);
	expect(HEAD "  a:\n    run: x\n    env: { 1A: y }\n", 5, 12,
	       "invalid environment variable name '1A'", NULL);
	/* Escapes and runner variables are fine; a stage sees the pipeline env. */
	struct pipeline *p = load_ok("version: 1\nenv: { A: \"$${NOT} ${RUNNER_RUN_ID}\" }\n"
				     "stages:\n  a:\n    run: x\n    env: { B: \"${A}\" }\n");
	pipeline_free(p);
}

Test(pipeline, conditions)
{
	expect(HEAD "  a:\n    run: x\n    if: branch = \"main\"\n", 5, 16,
	       "invalid condition: unexpected '='", "use '==' to compare");
	expect(HEAD "  a:\n    run: x\n    if: \"brnch == 'main'\"\n", 5, 10,
	       "invalid condition: unknown variable 'brnch'", "did you mean `branch`?");
}

Test(pipeline, paths_and_secrets)
{
	expect(HEAD "  a:\n    run: x\n    outputs: [../x]\n", 5, 15,
	       "output '../x' is outside the workspace", NULL);
	expect(HEAD "  a:\n    run: x\n    outputs: [/etc/passwd]\n", 5, 15,
	       "output '/etc/passwd' is outside the workspace", NULL);
	expect(HEAD "  a:\n    run: x\n    workdir: a/../../b\n", 5, 14,
	       "workdir 'a/../../b' is outside the workspace", NULL);
	expect(HEAD "  a:\n    run: x\n    secrets: [npm-token]\n", 5, 15,
	       "invalid secret name 'npm-token'", NULL);
	expect(HEAD "  a:\n    run: x\n    env: { TOKEN: x }\n    secrets: [token]\n", 6, 15,
	       "secret 'token' is given to the stage as TOKEN, which `env:` also sets", NULL);
	expect(HEAD "  a:\n    run: x\n    secrets: [a, a]\n", 5, 18,
	       "'a' is listed twice in secrets", NULL);
}

Test(pipeline, every_error_is_reported_not_just_the_first)
{
	struct diag_list dl;
	struct pipeline *p;
	const char *text = HEAD "  a:\n    rn: x\n  b:\n    run: y\n    timeout: forever\n";
	diag_list_init(&dl, 20);
	cr_assert_lt(pipeline_load_buffer("p.yml", "/ws", text, strlen(text), &p, &dl), 0);
	cr_assert_geq(dl.errors, 3); /* unknown key, missing run, bad duration */
	diag_list_release(&dl);
}

Test(pipeline, caps_on_untrusted_input)
{
	/* Too many stages. */
	size_t n = PIPELINE_MAX_STAGES + 1, cap = n * 24 + 64, len = 0;
	char *buf = xmalloc(cap);
	len += (size_t)snprintf(buf, cap, HEAD);
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, cap - len, "  s%zu: {run: x}\n", i);
	}
	expect(buf, 3, 3, "too many stages: 10001 (the limit is 10000)", NULL);
	free(buf);
	/* Too large. */
	size_t big = PIPELINE_MAX_BYTES + 10;
	buf = xmalloc(big + 1);
	memset(buf, '#', big);
	buf[big] = '\0';
	expect(buf, 0, 0, "pipeline file too large: 8388618 bytes (the limit is 8388608)", NULL);
	free(buf);
}

Test(pipeline, alias_bomb_is_refused_quickly)
{
	const char *bomb = "version: 1\n"
			   "x-a: &a [x,x,x,x,x,x,x,x,x,x]\n"
			   "x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			   "x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			   "x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			   "x-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
			   "x-f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			   "x-g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
			   "stages:\n  a:\n    run: x\n    env: { A: y }\n";
	expect(bomb, 8, 6, "document too large: more than 2000000 nodes with aliases expanded",
	       "this looks like an alias bomb (\"billion laughs\"); use fewer aliases");
}

Test(pipeline, missing_file_is_a_clear_error)
{
	struct diag_list dl;
	struct pipeline *p;
	diag_list_init(&dl, 5);
	cr_assert_eq(pipeline_load_file("/nonexistent/.runner.yml", &p, &dl), -ENOENT);
	cr_assert_str_eq(dl.v[0].msg, "cannot read the pipeline file: No such file or directory");
	diag_list_release(&dl);
}

Test(pipeline, sandbox_blocks_merge_over_defaults)
{
	struct pipeline *p = load_ok(
		"version: 1\ndefaults:\n  sandbox: { memory: 2G, pids: 128, read-only: [.git] }\n"
		"stages:\n"
		"  a: { run: x }\n"
		"  b:\n    run: x\n    sandbox:\n      network: host\n      pids: 512\n"
		"      cpu-time: 1h30m\n      tmp-size: 256m\n      workspace: read-only\n"
		"      read-write: [build, out/bin]\n      rootfs: images/debian\n");
	const struct psandbox *a = p->stages[0]->sandbox, *b = p->stages[1]->sandbox;
	cr_assert_not_null(a);
	cr_assert_eq(a->memory, 2ull << 30);
	cr_assert_eq(a->pids, 128);
	cr_assert_eq(a->network, -1);
	cr_assert_eq(a->n_ro, 1);
	cr_assert_str_eq(a->ro[0], ".git");
	cr_assert_eq(b->memory, 2ull << 30, "a key the stage does not set comes from defaults");
	cr_assert_eq(b->pids, 512);
	cr_assert_eq(b->network, 1);
	cr_assert_eq(b->cpu_s, 5400);
	cr_assert_eq(b->tmp, 256ull << 20);
	cr_assert_eq(b->workspace_ro, 1);
	cr_assert_eq(b->n_rw, 2);
	cr_assert_str_eq(b->rw[1], "out/bin");
	cr_assert_str_eq(b->rootfs, "images/debian");
	pipeline_free(p);
	p = load_ok(HEAD "  plain: { run: x }\n");
	cr_assert_null(p->stages[0]->sandbox);
	pipeline_free(p);
}

Test(pipeline, sandbox_errors)
{
	expect(HEAD "  a:\n    run: x\n    sandbox: { netwrok: none }\n", 5, 16,
	       "unknown key 'netwrok' in sandbox", "did you mean `network`?");
	expect(HEAD "  a:\n    run: x\n    sandbox: { network: bridge }\n", 5, 25,
	       "unknown network mode 'bridge'",
	       "the modes are none (the default: only loopback) and host");
	expect(HEAD "  a:\n    run: x\n    sandbox: { memory: 512 }\n", 5, 24,
	       "bad size '512' for sandbox.memory", "add a unit, for example 512M or 2G");
	expect(HEAD "  a:\n    run: x\n    sandbox: { memory: 4M }\n", 5, 24,
	       "sandbox.memory '4M' is below the minimum of 16M", NULL);
	expect(HEAD "  a:\n    run: x\n    sandbox: { tmp-size: 2T }\n", 5, 26,
	       "sandbox.tmp-size '2T' is above the maximum of 1T", NULL);
	expect(HEAD "  a:\n    run: x\n    sandbox: { pids: 3 }\n", 5, 22,
	       "sandbox.pids must be a whole number from 8 to 65536, not 3", NULL);
	expect(HEAD "  a:\n    run: x\n    sandbox: { cpu-time: 600 }\n", 5, 26,
	       "bad duration '600' for sandbox.cpu-time",
	       "use a duration of at least 1s: 30s, 10m, 2h (at most 7d)");
	expect(HEAD "  a:\n    run: x\n    sandbox: { read-only: [../up] }\n", 5, 28,
	       "sandbox.read-only path '../up' is not inside the workspace",
	       "paths are relative to the workspace, without '.' or '..'");
	expect(HEAD "  a:\n    run: x\n    sandbox: { read-write: [/etc] }\n", 5, 29,
	       "sandbox.read-write path '/etc' is not inside the workspace", NULL);
	expect(HEAD "  a:\n    run: x\n    sandbox: { read-only: [a], read-write: [a] }\n", 5, 44,
	       "'a' is both read-only and read-write", "list it in one of them");
	expect(HEAD "  a:\n    run: x\n    sandbox: { read-only: [a, a] }\n", 5, 31,
	       "'a' is listed twice in sandbox.read-only", "remove the repeated entry");
	expect(HEAD "  a:\n    run: x\n    sandbox: { workspace: rw }\n", 5, 27,
	       "unknown workspace mode 'rw'", "write read-only or read-write");
	expect(HEAD "  a:\n    run: x\n    sandbox: { rootfs: / }\n", 5, 24,
	       "sandbox.rootfs '/' cannot be used as a root filesystem", NULL);
	expect(HEAD "  a:\n    run: x\n    sandbox: none\n", 5, 14,
	       "sandbox must be a mapping, not a string", NULL);
	expect("version: 1\ndefaults: { sandbox: { pids: lots } }\nstages:\n  a: { run: x }\n", 2,
	       30, "sandbox.pids must be a whole number from 8 to 65536, not lots", NULL);
}

Test(pipeline, gate_configuration)
{
	struct pipeline *p = load_ok(
		"version: 1\n"
		"gate:\n  fail-on: critical\n  allow:\n"
		"    - { id: CVE-2021-44228, reason: \"not reachable\", expires: 2027-01-31 }\n"
		"stages:\n  a: { run: x }\n");
	cr_assert_not_null(p->gate);
	pipeline_free(p);
	expect("version: 1\ngate: { fail-on: severe }\nstages:\n  a: { run: x }\n", 2, 18,
	       "invalid fail-on level 'severe'",
	       "the levels are critical, high, medium, low and info");
	expect("version: 1\ngate: { fial-on: high }\nstages:\n  a: { run: x }\n", 2, 9,
	       "unknown key 'fial-on' in gate", "did you mean `fail-on`?");
	expect("version: 1\ngate:\n  allow:\n    - { id: X, expires: 2027-01-01 }\nstages:\n"
	       "  a: { run: x }\n",
	       4, 7, "an allow entry needs a reason", NULL);
}

/* An `if:` reads env names the stage's environment can hold: the pipeline's and the
 * stage's env, the RUNNER_* variables, CI, RUNNER_ARTIFACTS and what is passed through.
 * Anything else would always read "" (a security stage under `if: env.CI == "true"`
 * was skipped in silence before CI was visible to conditions); a secret is never shown
 * to a condition. */
Test(pipeline, conditions_read_only_names_the_stage_can_have)
{
	struct pipeline *p =
		load_ok("version: 1\nenv: { DEPLOY: yes }\nstages:\n"
			"  a:\n    env: { MINE: x }\n"
			"    if: env.CI == \"true\" && env.DEPLOY != \"\" && env.MINE != \"\""
			" && env.RUNNER_STAGE == \"a\" && env.HOME != \"\" && "
			"env.RUNNER_ARTIFACTS != \"\" && env.PATH != \"\"\n"
			"    run: 'true'\n");
	pipeline_free(p);
	expect(HEAD "  a:\n    if: env.DEPLOI == \"yes\"\n    run: 'true'\n", 4, 9,
	       "env.DEPLOI is not in the stage's environment: the condition would always see "
	       "\"\"",
	       NULL);
	expect("version: 1\nenv: { DEPLOY: yes }\nstages:\n  a:\n    if: branch == \"main\" && "
	       "env.DEPLOI == \"yes\"\n    run: 'true'\n",
	       5, 29,
	       "env.DEPLOI is not in the stage's environment: the condition would always see "
	       "\"\"",
	       "did you mean `env.DEPLOY`?");
	expect(HEAD
	       "  a:\n    secrets: [registry]\n    if: env.REGISTRY != \"\"\n    run: 'true'\n",
	       5, 9, "env.REGISTRY is a secret of the stage: conditions do not see secrets",
	       "decide on a variable of the pipeline's env instead");
}

/* Every ${...} that is expanded is checked when the pipeline is loaded: in `gate:` (which
 * sees the pipeline's env), and in the keys of `with:` mappings, not only their values.
 * RUNNER_STAGE is a stage's own: not in the pipeline's env. */
Test(pipeline, references_in_gate_and_with_keys_are_checked)
{
	expect(HEAD "  a: { run: 'true' }\ngate:\n  allow:\n    - id: x.y\n"
		    "      reason: \"${WHY}\"\n      expires: 2099-01-01\n",
	       7, 16, "unknown variable '${WHY}'", NULL);
	struct pipeline *p = load_ok("version: 1\nenv: { WHY: tested }\nstages:\n"
				     "  a: { run: 'true' }\ngate:\n  allow:\n    - id: x.y\n"
				     "      reason: \"${WHY}\"\n      expires: 2099-01-01\n");
	pipeline_free(p);
	expect(HEAD "  a:\n    uses: container-push\n    ungated: tested\n    with:\n"
		    "      image: 127.0.0.1:5000/a/b\n      add: { \"${OUTZ}\": /x }\n",
	       8, 15, "unknown variable '${OUTZ}'", NULL);
	expect("version: 1\nenv: { X: \"${RUNNER_STAGE}\" }\nstages:\n  a: { run: 'true' }\n", 2,
	       12, "unknown variable '${RUNNER_STAGE}'",
	       "RUNNER_STAGE is a stage's own: use it in a stage's env or with:");
	p = load_ok(HEAD "  a:\n    env: { L: \"${RUNNER_STAGE}\" }\n    run: 'true'\n");
	pipeline_free(p);
}

/* A name as long as an env: name may be (128) can be referenced. */
Test(pipeline, the_longest_env_name_can_be_referenced)
{
	char name[129];
	memset(name, 'V', 128);
	name[128] = '\0';
	char *text = xasprintf("version: 1\nenv:\n  %s: hello\n  USE: \"${%s}\"\nstages:\n"
			       "  a: { run: 'true' }\n",
			       name, name);
	struct pipeline *p = load_ok(text);
	pipeline_free(p);
	free(text);
}

/* Text that is not UTF-8, or holds control characters, is an error at its line and
 * column (it was reported by byte offset alone). */
Test(pipeline, bad_text_has_a_line_and_column)
{
	expect(HEAD "  a:\n    run: \"echo \xff hi\"\n", 4, 16,
	       "invalid text at byte 39: invalid leading UTF-8 octet", NULL);
	expect(HEAD "  a:\n    run: \"\xc3\xa9\xc3\xa9 \x1b[31m\"\n", 4, 14,
	       "invalid text at byte 39: control characters are not allowed", NULL);
}

/* An error inside a scalar points at its text: after escapes (\" \u00e9 \t), multibyte
 * characters (columns count characters), and the folding of a plain scalar over lines
 * (the column used to be the byte offset in the value added to the scalar's start: past
 * the end of the line, or on the wrong one). */
Test(pipeline, errors_inside_scalars_point_at_their_text)
{
	expect(HEAD "  a:\n    if: \"branch == \\\"main\\\" && \\\"a\\\" == \\\"b\\\" && bogus\"\n"
		    "    run: x\n",
	       4, 50, "invalid condition: unknown variable 'bogus'", NULL);
	expect(HEAD "  c:\n    if: branch == \"main\"\n      && bogus3\n    run: x\n", 5, 10,
	       "invalid condition: unknown variable 'bogus3'", NULL);
	expect(HEAD "  c:\n    if: branch == \"main\"\n\n      && bogus4\n    run: x\n", 6, 10,
	       "invalid condition: unknown variable 'bogus4'", NULL);
	expect(HEAD "  d:\n    env:\n      X: \"\\u00e9\\u00e9\\u00e9\\u00e9\\t ${NOPE}\"\n"
		    "    run: x\n",
	       5, 38, "unknown variable '${NOPE}'", NULL);
	expect(HEAD "  d:\n    env:\n      Y: \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 ${NOPE2}\"\n"
		    "    run: x\n",
	       5, 16, "unknown variable '${NOPE2}'", NULL);
	expect(HEAD "  d:\n    env:\n      Z: 'it''s ${NOPE3}'\n    run: x\n", 5, 17,
	       "unknown variable '${NOPE3}'", NULL);
}

/* A secret named like a variable the stage also gets (CI here) is still a secret to
 * conditions; positions after an escaped line break, a BOM, and lines that end in CR. */
Test(pipeline, conditions_on_secrets_and_more_positions)
{
	expect(HEAD "  b:\n    secrets: [ci]\n    if: env.CI == \"true\"\n    run: x\n", 5, 9,
	       "env.CI is a secret of the stage: conditions do not see secrets", NULL);
	/* Names are compared as the stage gets them: env.Ci is not the secret CI. */
	expect(HEAD "  b:\n    secrets: [ci]\n    if: env.Ci == \"true\"\n    run: x\n", 5, 9,
	       "env.Ci is not in the stage's environment: the condition would always see \"\"",
	       NULL);
	expect(HEAD "  a:\n    run: x\n    if: \"branch == \\\n   )\"\n", 6, 4,
	       "invalid condition: unexpected ')'", NULL);
	expect("\xef\xbb\xbfname: x\x01y\n", 1, 8,
	       "invalid text at byte 10: control characters are not allowed", NULL);
	expect("version: 1\rname: x\rstages:\r  a:\r    run: ec\xffho\r", 5, 12,
	       "invalid text at byte 43: invalid leading UTF-8 octet", NULL);
}
