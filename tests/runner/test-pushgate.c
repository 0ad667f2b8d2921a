/*
 * test-pushgate.c - the security gate in front of push stages: the validation rule (every
 * container-push stage depends on sast, secrets and dependency-scan stages, or says
 * `ungated:`), the credentials rule, and the run-time rule (a push starts only when every
 * security stage upstream passed), down to the engine: a blocked push is never launched.
 *
 * The security kinds are built in parallel by other issues; where a test needs one, it
 * stands in with a kind of the same name and flags (a script that can pass or fail), set
 * on the loaded model. The lead adds end-to-end tests with the real kinds.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "pushgate.h"
#include "pipeline.h"
#include "run.h"
#include "secrets.h"
#include "stage.h"
#include "util.h"

#include "testutil.h"

#include <stdio.h>
#include <string.h>

static const struct stage_kind fake_sast = { .name = "sast",
					     .flags = STAGE_KIND_SCRIPT | STAGE_KIND_SECURITY };
static const struct stage_kind fake_secrets = { .name = "secrets",
						.flags = STAGE_KIND_SCRIPT | STAGE_KIND_SECURITY };
static const struct stage_kind fake_deps = { .name = "dependency-scan",
					     .flags = STAGE_KIND_SCRIPT | STAGE_KIND_SECURITY };

static int load(const char *yaml, struct pipeline **p, struct diag_list *dl)
{
	diag_list_init(dl, 50);
	return pipeline_load_buffer(".runner.yml", "/tmp", yaml, strlen(yaml), p, dl);
}

static bool has_error(const struct diag_list *dl, const char *needle)
{
	for (size_t i = 0; i < dl->n; i++) {
		if (strstr(dl->v[i].msg, needle)) {
			return true;
		}
	}
	return false;
}

static void dump(const struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++) {
		fprintf(stderr, "%u:%u: %s\n", dl->v[i].line, dl->v[i].col, dl->v[i].msg);
	}
}

#define PUSH_WITH "    uses: container-push\n    with: { image: 127.0.0.1:1/acme/app }\n"

Test(pushgate, a_push_without_security_stages_is_refused_naming_them)
{
	struct pipeline *p;
	struct diag_list dl;
	int r = load("version: 1\nstages:\n  build: { run: make }\n"
		     "  image:\n    needs: [build]\n" PUSH_WITH,
		     &p, &dl);
	cr_assert_eq(r, -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "push stage 'image' is not behind the security gates: it does not "
				 "depend on a stage of kind `sast`, `secrets`, `dependency-scan`"));
	cr_assert_eq(dl.v[0].line, 4, "points at the stage");
	cr_assert(strstr(dl.v[0].hint, "ungated"));
	diag_list_release(&dl);
}

Test(pushgate, ungated_lets_it_load_with_a_reason)
{
	struct pipeline *p;
	struct diag_list dl;
	int r = load("version: 1\nstages:\n  image:\n    ungated: \"no scanners for this "
		     "demo\"\n" PUSH_WITH,
		     &p, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(pipeline_find(p, "image")->ungated, "no scanners for this demo");
	pipeline_free(p);
	diag_list_release(&dl);

	cr_assert_eq(
		load("version: 1\nstages:\n  image:\n    ungated: \"  \"\n" PUSH_WITH, &p, &dl),
		-EINVAL);
	cr_assert(has_error(&dl, "`ungated:` needs a reason"));
	diag_list_release(&dl);
	cr_assert_eq(load("version: 1\nstages:\n  image:\n    ungated: true\n" PUSH_WITH, &p, &dl),
		     0, "a YAML boolean is read as the string \"true\": still a reason");
	pipeline_free(p);
	diag_list_release(&dl);

	cr_assert_eq(
		load("version: 1\nstages:\n  build:\n    run: make\n    ungated: why\n", &p, &dl),
		-EINVAL);
	cr_assert(has_error(&dl, "`ungated:` only applies to stages that push"));
	cr_assert_eq(dl.v[0].line, 5);
	diag_list_release(&dl);
}

Test(pushgate, credentials_must_be_the_stages_own_secret)
{
	struct pipeline *p;
	struct diag_list dl;
	cr_assert_eq(load("version: 1\nstages:\n  image:\n    ungated: demo\n"
			  "    uses: container-push\n"
			  "    with: { image: 127.0.0.1:1/a, credentials: registry }\n",
			  &p, &dl),
		     -EINVAL);
	cr_assert(has_error(&dl, "credentials 'registry' is not one of the stage's secrets"));
	diag_list_release(&dl);
	/* Listed: fine. Also given to a script stage: refused, pointing at that entry. */
	cr_assert_eq(load("version: 1\nstages:\n  image:\n    ungated: demo\n"
			  "    uses: container-push\n    secrets: [registry]\n"
			  "    with: { image: 127.0.0.1:1/a, credentials: registry }\n",
			  &p, &dl),
		     0);
	pipeline_free(p);
	diag_list_release(&dl);
	cr_assert_eq(load("version: 1\nstages:\n  test:\n    run: make test\n"
			  "    secrets: [npm, registry]\n"
			  "  image:\n    ungated: demo\n"
			  "    uses: container-push\n    secrets: [registry]\n"
			  "    with: { image: 127.0.0.1:1/a, credentials: registry }\n",
			  &p, &dl),
		     -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "secret 'registry' holds the registry credentials of push stage "
				 "'image'; stage 'test' may not receive it"));
	cr_assert_eq(dl.v[0].line, 5);
	cr_assert_eq(dl.v[0].col, 20);
	diag_list_release(&dl);
	/* Secret names are not case-sensitive: another spelling is the same secret. */
	cr_assert_eq(load("version: 1\nstages:\n  leak:\n    run: env\n"
			  "    secrets: [REGISTRY]\n"
			  "  image:\n    ungated: demo\n"
			  "    uses: container-push\n    secrets: [registry]\n"
			  "    with: { image: 127.0.0.1:1/a, credentials: registry }\n",
			  &p, &dl),
		     -EINVAL);
	cr_assert(has_error(&dl, "secret 'registry' holds the registry credentials of push stage "
				 "'image'; stage 'leak' may not receive it"));
	diag_list_release(&dl);
}

/* Load with the push ungated, then swap in security kinds and check the real rule. */
static struct pipeline *with_fake_kinds(const char *yaml)
{
	struct pipeline *p;
	struct diag_list dl;
	int r = load(yaml, &p, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	diag_list_release(&dl);
	for (size_t i = 0; i < p->n_stages; i++) {
		struct pstage *s = p->stages[i];
		if (str_has_prefix(s->name, "sast")) {
			s->kind = &fake_sast;
		} else if (str_has_prefix(s->name, "secrets")) {
			s->kind = &fake_secrets;
		} else if (str_has_prefix(s->name, "deps")) {
			s->kind = &fake_deps;
		}
		if (s->kind->flags & STAGE_KIND_PUSH) {
			s->ungated = NULL;
		}
	}
	return p;
}

#define SCANS "  sast: { run: \"true\" }\n  secrets: { run: \"true\" }\n  deps: { run: \"true\" }\n"

Test(pushgate, security_stages_upstream_satisfy_it_directly_or_not)
{
	struct pipeline *p = with_fake_kinds("version: 1\nstages:\n" SCANS
					     "  test: { needs: [deps], run: \"true\" }\n"
					     "  image:\n    needs: [test, sast, secrets]\n"
					     "    ungated: x\n" PUSH_WITH);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	pushgate_validate(p, NULL, &dl);
	dump(&dl);
	cr_assert_eq(dl.n, 0, "dependency-scan is upstream through test");
	diag_list_release(&dl);
	pipeline_free(p);

	/* A security stage that is not upstream does not count. */
	p = with_fake_kinds("version: 1\nstages:\n" SCANS
			    "  image:\n    needs: [sast, secrets]\n    ungated: x\n" PUSH_WITH);
	diag_list_init(&dl, 10);
	pushgate_validate(p, NULL, &dl);
	cr_assert_eq(dl.n, 1);
	cr_assert(strstr(dl.v[0].msg, "does not depend on a stage of kind `dependency-scan`"), "%s",
		  dl.v[0].msg);
	cr_assert_null(strstr(dl.v[0].msg, "`sast`"));
	diag_list_release(&dl);
	pipeline_free(p);
}

static struct stage_run *runs_for(const struct pipeline *p)
{
	struct stage_run *v = xcalloc(p->n_stages, sizeof(*v));
	for (size_t i = 0; i < p->n_stages; i++) {
		v[i].def = p->stages[i];
		v[i].status = STATUS_PASSED;
	}
	return v;
}

Test(pushgate, the_push_waits_for_every_security_stage_to_pass)
{
	struct pipeline *p =
		with_fake_kinds("version: 1\nstages:\n" SCANS "  sast-extra: { run: \"true\" }\n"
				"  test: { needs: [deps], run: \"true\" }\n"
				"  image:\n    needs: [test, sast, secrets]\n"
				"    ungated: x\n" PUSH_WITH);
	struct stage_run *v = runs_for(p);
	size_t image = pipeline_find(p, "image")->index;
	size_t deps = pipeline_find(p, "deps")->index;
	size_t sast = pipeline_find(p, "sast")->index;
	char msg[400];
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_OPEN);

	/* Not upstream: does not matter. */
	v[pipeline_find(p, "sast-extra")->index].status = STATUS_FAILED;
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_OPEN);

	v[deps].status = STATUS_FAILED;
	v[deps].allowed_failure = true;
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_BLOCKED);
	cr_assert(strstr(msg, "security stage 'deps' (dependency-scan) failed (allow-failure does "
			      "not open the gate)"),
		  "%s", msg);
	v[deps].status = STATUS_SKIPPED;
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_BLOCKED);
	cr_assert(strstr(msg, "'deps' (dependency-scan) was skipped"), "%s", msg);
	v[deps].status = STATUS_BLOCKED;
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_BLOCKED);
	v[deps].status = STATUS_CANCELLED;
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_BLOCKED);
	/* An error outranks a block, and is named. */
	v[sast].status = STATUS_ERROR;
	cr_assert_eq(pushgate_upstream(p, v, image, msg, sizeof(msg)), PUSHGATE_ERROR);
	cr_assert(strstr(msg, "'sast' (sast) ended in an error"), "%s", msg);
	free(v);
	pipeline_free(p);
}

/* ---------- through the engine ---------- */

struct engine_fixture {
	char *dir;
	struct pipeline *p;
	struct run *r;
	struct secret_store *secrets;
};

static void engine_run(struct engine_fixture *f, const char *yaml)
{
	f->dir = tu_tmpdir();
	tu_write(f->dir, ".runner.yml", yaml);
	tu_write(f->dir, "a-file", "not a directory\n");
	char *path = xasprintf("%s/.runner.yml", f->dir);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	int r = pipeline_load_file(path, &f->p, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	free(path);
	for (size_t i = 0; i < f->p->n_stages; i++) {
		if (str_has_prefix(f->p->stages[i]->name, "scan")) {
			f->p->stages[i]->kind = &fake_sast;
		}
	}
	f->secrets = secrets_new();
	struct run_options o = { .jobs = 2, .cancel_fd = -1, .secrets = f->secrets };
	r = run_pipeline(f->p, &o, &f->r, &dl);
	cr_assert_eq(r, 0);
	diag_list_release(&dl);
}

static void engine_done(struct engine_fixture *f)
{
	run_free(f->r);
	pipeline_free(f->p);
	secrets_free(f->secrets);
	tu_rmdir(f->dir);
	free(f->dir);
}

static const struct stage_run *stage(struct engine_fixture *f, const char *name)
{
	return &f->r->stages[pipeline_find(f->p, name)->index];
}

#define ENGINE_PUSH                                                                  \
	"  image:\n    needs: [scan]\n    ungated: test\n    uses: container-push\n" \
	"    with: { image: 127.0.0.1:1/acme/app, retries: 0 }\n"

Test(pushgate, a_failed_scan_blocks_the_push_which_never_starts, .timeout = 60)
{
	struct engine_fixture f = { 0 };
	engine_run(&f, "version: 1\nstages:\n  scan: { run: \"exit 1\" }\n" ENGINE_PUSH);
	cr_assert_eq(stage(&f, "scan")->status, STATUS_FAILED);
	const struct stage_run *img = stage(&f, "image");
	cr_assert_eq(img->status, STATUS_BLOCKED, "not merely skipped");
	cr_assert_eq(img->n_attempts, 0, "the push was not attempted");
	cr_assert(strstr(img->message, "security stage 'scan'"), "%s", img->message);
	cr_assert_eq(f.r->exit_code, 3);
	engine_done(&f);
}

Test(pushgate, allow_failure_on_a_scan_does_not_open_the_gate, .timeout = 60)
{
	struct engine_fixture f = { 0 };
	engine_run(&f, "version: 1\nstages:\n  scan: { run: \"exit 1\", allow-failure: true "
		       "}\n" ENGINE_PUSH);
	cr_assert(stage(&f, "scan")->allowed_failure);
	cr_assert_eq(stage(&f, "image")->status, STATUS_BLOCKED);
	cr_assert_eq(stage(&f, "image")->n_attempts, 0);
	cr_assert_eq(f.r->exit_code, 3);
	engine_done(&f);
}

Test(pushgate, a_skipped_scan_blocks_and_an_errored_scan_errors, .timeout = 60)
{
	struct engine_fixture f = { 0 };
	engine_run(&f, "version: 1\nstages:\n  scan: { run: \"true\", if: branch == \"never\" "
		       "}\n" ENGINE_PUSH);
	cr_assert_eq(stage(&f, "scan")->status, STATUS_SKIPPED);
	cr_assert_eq(stage(&f, "image")->status, STATUS_BLOCKED);
	cr_assert_eq(stage(&f, "image")->n_attempts, 0);
	engine_done(&f);

	/* A scan that cannot even start (its workdir is a file): an error, exit 4. */
	struct engine_fixture g = { 0 };
	engine_run(&g,
		   "version: 1\nstages:\n  scan: { run: \"true\", workdir: a-file }\n" ENGINE_PUSH);
	cr_assert_eq(stage(&g, "scan")->status, STATUS_ERROR);
	cr_assert_eq(stage(&g, "image")->status, STATUS_ERROR);
	cr_assert_eq(stage(&g, "image")->n_attempts, 0);
	cr_assert(strstr(stage(&g, "image")->message, "ended in an error"));
	cr_assert_eq(g.r->exit_code, 4);
	engine_done(&g);
}

Test(pushgate, the_push_s_own_condition_comes_first, .timeout = 60)
{
	struct engine_fixture f = { 0 };
	engine_run(&f, "version: 1\nstages:\n  scan: { run: \"exit 1\" }\n"
		       "  image:\n    needs: [scan]\n    ungated: test\n    uses: container-push\n"
		       "    if: branch == \"release\"\n"
		       "    with: { image: 127.0.0.1:1/acme/app }\n");
	cr_assert_eq(stage(&f, "image")->status, STATUS_SKIPPED);
	cr_assert_eq(stage(&f, "image")->skip, SKIP_CONDITION);
	cr_assert_eq(f.r->exit_code, 1, "the scan failed; nothing was blocked");
	engine_done(&f);
}
