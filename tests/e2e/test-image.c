/*
 * test-image.c - the runner binary with images, end to end, against a real registry
 * (Debian's docker-registry on a free 127.0.0.1 port, stopped after each test):
 * `runner image build` and `runner image push`, and pipelines with a container-push
 * stage (`runner run`, `runner validate`): results in report.json, the loud `ungated`
 * warning, credentials from the secret store that never reach a log, exit codes; the
 * source annotation taken from the origin of a git workspace, without its credentials.
 * Every pushed image is checked with skopeo.
 */
#include <criterion/criterion.h>

#include "regtest.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct tr_registry reg;
static struct tr_proxy proxy;
static char *work;

static void setup(void)
{
	work = tu_tmpdir();
	tu_write(work, "ctx/build/app", "#!/bin/sh\necho hello from the image\n");
	tu_write(work, "ctx/assets/index.html", "<h1>hi</h1>\n");
	char *p;
	cr_assert_geq(asprintf(&p, "%s/ctx/build/app", work), 0);
	chmod(p, 0755);
	free(p);
	unsetenv("RUNNER_SECRET_REGISTRY");
	unsetenv("SOURCE_DATE_EPOCH");
}

static void teardown(void)
{
	tr_proxy_stop(&proxy);
	tr_registry_stop(&reg);
	tu_rmdir(work);
	free(work);
}

TestSuite(image, .init = setup, .fini = teardown, .timeout = 180);

static void assert_contains(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

static char *path(const char *rel)
{
	char *p;
	cr_assert_geq(asprintf(&p, "%s/%s", work, rel), 0);
	return p;
}

/* The manifest digest printed by `runner image build` ("DIR sha256:..."). */
static char *built_digest(const char *out)
{
	const char *sp = strrchr(out, ' ');
	cr_assert_not_null(sp, "%s", out);
	char *d = strndup(sp + 1, 71);
	cr_assert_eq(strncmp(d, "sha256:", 7), 0, "%s", out);
	return d;
}

static void verify(const char *name, const char *creds, const char *digest)
{
	char *d = tr_skopeo_digest(name, creds);
	cr_assert_not_null(d, "skopeo inspect %s failed", name);
	cr_assert_str_eq(d, digest);
	free(d);
	char *dir = path("skopeo-copy");
	tu_rmdir(dir);
	d = tr_skopeo_copy(name, creds, dir);
	cr_assert_not_null(d, "skopeo copy %s failed", name);
	cr_assert_str_eq(d, digest);
	free(d);
	free(dir);
}

Test(image, build_then_push_from_the_command_line)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	char *ctx = path("ctx"), *out = path("oci");
	setenv("SOURCE_DATE_EPOCH", "1234", 1);
	struct tu_result r =
		tu_runner_run(NULL, "image", "build", "-C", ctx, "--output", out, "--add",
			      "build/app:/usr/local/bin/app", "--add", "assets/:/srv/www/",
			      "--entrypoint", "[\"/usr/local/bin/app\"]", "--env", "PORT=8080",
			      "--user", "65532", "--label", "team=web", "--tag", "v1", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *digest = built_digest(r.out);
	tu_result_free(&r);
	/* SOURCE_DATE_EPOCH is the creation time. */
	char *text = tu_readf("%s/blobs/sha256/%s", out, digest + 7);
	assert_contains(text, "\"org.opencontainers.image.created\":\"1970-01-01T00:20:34Z\"");
	free(text);
	/* The same build again gives the same digest. */
	char *out2 = path("oci2");
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "--output", out2, "--add",
			  "build/app:/usr/local/bin/app", "--add", "assets/:/srv/www/",
			  "--entrypoint", "[\"/usr/local/bin/app\"]", "--env", "PORT=8080",
			  "--user", "65532", "--label", "team=web", "--tag", "v1", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *digest2 = built_digest(r.out);
	cr_assert_str_eq(digest, digest2);
	tu_result_free(&r);

	char t1[128], t2[128];
	snprintf(t1, sizeof(t1), "%s/acme/web:v1", reg.addr);
	snprintf(t2, sizeof(t2), "%s/acme/web:latest", reg.addr);
	r = tu_runner_run(NULL, "image", "push", "--json", out, t1, t2, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	json_error_t e;
	json_t *j = json_loads(r.out, 0, &e);
	cr_assert_not_null(j, "%s", r.out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "digest")), digest);
	cr_assert_eq(json_array_size(json_object_get(j, "tagged")), 2);
	cr_assert_eq(json_integer_value(json_object_get(j, "uploaded")), 2);
	json_decref(j);
	assert_contains(r.err, "using plain HTTP"); /* loopback only */
	tu_result_free(&r);
	verify(t1, NULL, digest);
	verify(t2, NULL, digest);
	/* Pushing again changes nothing and uploads nothing. */
	r = tu_runner_run(NULL, "image", "push", "--json", out, t1, NULL);
	cr_assert_eq(r.status, 0);
	j = json_loads(r.out, 0, &e);
	cr_assert_eq(json_integer_value(json_object_get(j, "uploaded")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "skipped")), 2);
	json_decref(j);
	tu_result_free(&r);
	free(digest);
	free(digest2);
	free(ctx);
	free(out);
	free(out2);
}

Test(image, command_line_errors_and_exit_codes)
{
	char *ctx = path("ctx"), *out = path("oci");
	struct tu_result r = tu_runner_run(NULL, "image", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "build", "--add", "x:/y", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "needs --output");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", out, "--add", "x:relative",
			  NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	/* A source that leads out of the context through a symbolic link. */
	char *link = path("ctx/escape");
	cr_assert_eq(symlink("/etc", link), 0);
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", out, "--add",
			  "escape/hostname:/etc/hostname", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	assert_contains(r.err, "leads outside the workspace");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "push", out, "127.0.0.1:1/a:b", NULL);
	cr_assert_eq(r.status, 2, "no layout there");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", out, "--add", "build/app:/app",
			  "--created", "0", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "push", out, "Not A Reference", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	/* One registry's credentials are not sent to another named beside it. */
	r = tu_runner_run(NULL, "image", "push", "--credentials", "reg", out, "127.0.0.1:1/a:b",
			  "127.0.0.2:2/c:d", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	assert_contains(r.err, "push to one registry per command");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "push", out,
			  "127.0.0.1:1/a@sha256:"
			  "0000000000000000000000000000000000000000000000000000000000000000",
			  NULL);
	cr_assert_eq(r.status, 2, "the digest comes from the image");
	tu_result_free(&r);
	/* Nobody listens on port 1: the push fails (exit 1), it does not hang. */
	r = tu_runner_run(NULL, "image", "push", "--retries", "0", out, "127.0.0.1:1/a:b", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	assert_contains(r.err, "push failed");
	tu_result_free(&r);
	/* A UTF-8 name is built (the runner runs in the "C" locale); one that is not UTF-8 is
	 * invalid input. */
	tu_write(work, "ctx/intl/caf\xc3\xa9.txt", "x\n");
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", out, "--add", "intl/:/srv/",
			  NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_result_free(&r);
	tu_write(work, "ctx/intl/x\xff", "x\n");
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", out, "--add", "intl/:/srv/",
			  NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	assert_contains(r.err, "is not UTF-8");
	tu_result_free(&r);
	free(link);
	free(ctx);
	free(out);
}

/* A copy of layout dir's index.json whose one manifest is listed twice, named a and b. */
static void list_twice(const char *dir, const char *a, const char *b)
{
	char *index = tu_strf("%s/index.json", dir);
	json_error_t e;
	json_t *j = json_load_file(index, 0, &e);
	cr_assert_not_null(j, "%s: %s", index, e.text);
	json_t *ms = json_object_get(j, "manifests");
	cr_assert_eq(json_array_size(ms), 1);
	json_t *second = json_deep_copy(json_array_get(ms, 0));
	json_array_append_new(ms, second);
	const char *names[] = { a, b };
	for (size_t i = 0; i < 2; i++) {
		json_t *m = json_array_get(ms, i);
		json_object_set_new(
			m, "annotations",
			json_pack("{s:s}", "org.opencontainers.image.ref.name", names[i]));
	}
	cr_assert_eq(json_dump_file(j, index, JSON_COMPACT), 0);
	json_decref(j);
	free(index);
}

/* What `runner image build` says of the layer it made counts in the singular for one
 * entry, whiteout or base layer. A layout of several images is pushed only with
 * --ref-name choosing one, which the refusal names. */
Test(image, messages_say_one_in_the_singular_and_name_the_option_that_chooses)
{
	char *ctx = path("ctx"), *base = path("base"), *out = path("oci");
	struct tu_result r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", base, "--add",
					   "build/app:/app", "--created", "0", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_contains(r.err, ": 1 entry in the new layer (0 whiteouts) on 0 base layers\n");
	tu_result_free(&r);
	/* A directory where the base has a file: one whiteout. */
	r = tu_runner_run(NULL, "image", "build", "-C", ctx, "-o", out, "--base", base, "--add",
			  "assets/:/app/", "--created", "0", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_contains(r.err, " entries in the new layer (1 whiteout) on 1 base layer\n");
	tu_result_free(&r);

	list_twice(base, "one", "two");
	r = tu_runner_run(NULL, "image", "push", "--retries", "0", base, "127.0.0.1:1/a:b", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	assert_contains(r.err, "holds 2 image manifests; choose the one to push with --ref-name");
	assert_contains(r.err, "'one', 'two'");
	tu_result_free(&r);
	/* Named, it is chosen: the push goes on (and fails: nobody listens on port 1). */
	r = tu_runner_run(NULL, "image", "push", "--retries", "0", "--ref-name", "two", base,
			  "127.0.0.1:1/a:b", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	assert_contains(r.err, "push failed");
	tu_result_free(&r);
	/* Two of the same name: no name chooses. */
	char *index = tu_strf("%s/index.json", base);
	json_t *j = json_load_file(index, 0, NULL);
	json_array_remove(json_object_get(j, "manifests"), 1);
	cr_assert_eq(json_dump_file(j, index, JSON_COMPACT), 0);
	json_decref(j);
	free(index);
	list_twice(base, "same", "same");
	r = tu_runner_run(NULL, "image", "push", "--retries", "0", "--ref-name", "same", base,
			  "127.0.0.1:1/a:b", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	assert_contains(r.err, "holds 2 image manifests named 'same'");
	tu_result_free(&r);
	free(ctx);
	free(base);
	free(out);
}

/* `runner image --help` gives the exit codes of both subcommands: a build that fails (a
 * base that cannot be fetched, an I/O error) exits 1 too, as docs/image.md says. */
Test(image, the_overview_gives_the_exit_codes_of_build_and_push)
{
	struct tu_result r = tu_runner_run(NULL, "image", "--help", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_contains(r.out, "1 the build or the push failed");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "build", "--help", NULL);
	assert_contains(r.out, "1 the build failed");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "push", "--help", NULL);
	assert_contains(r.out, "1 the push failed");
	tu_result_free(&r);
}

Test(image, credentials_come_from_the_secret_store_and_stay_secret)
{
	tr_registry_start(&reg, TR_BASIC, "deployer", "Tr0ub4dor-and-3", NULL);
	char *ctx = path("ctx"), *out = path("oci");
	struct tu_result r = tu_runner_run(NULL, "image", "build", "-q", "-C", ctx, "-o", out,
					   "--add", "build/app:/app", "--created", "7", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *digest = built_digest(r.out);
	tu_result_free(&r);
	char t[128];
	snprintf(t, sizeof(t), "%s/team/private:1", reg.addr);

	r = tu_runner_run(NULL, "image", "push", out, t, NULL);
	cr_assert_eq(r.status, 1);
	assert_contains(r.err, "asks for a user name and password");
	tu_result_free(&r);
	r = tu_runner_run(NULL, "image", "push", "--credentials", "registry", out, t, NULL);
	cr_assert_eq(r.status, 2, "the secret is not set");
	tu_result_free(&r);

	setenv("RUNNER_SECRET_REGISTRY", "deployer:Tr0ub4dor-and-3", 1);
	r = tu_runner_run(NULL, "image", "push", "--debug", "--credentials", "registry", out, t,
			  NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_contains(r.err, "> Authorization: Basic ***");
	cr_assert_null(strstr(r.err, "Tr0ub4dor-and-3"));
	cr_assert_null(strstr(r.err, "ZGVwbG95ZXI6VHIwdWI0ZG9yLWFuZC0z")); /* base64 */
	tu_result_free(&r);
	verify(t, "deployer:Tr0ub4dor-and-3", digest);
	free(digest);
	free(ctx);
	free(out);
}

static void write_pipeline(const char *extra_with, const char *ungated)
{
	char *yaml;
	cr_assert_geq(
		asprintf(&yaml,
			 "version: 1\n"
			 "name: webapp\n"
			 "env:\n  REGISTRY_ADDR: \"\"\n"
			 "stages:\n"
			 "  build:\n"
			 "    run: mkdir -p build && printf '#!/bin/sh\\necho app\\n' > build/app "
			 "&& chmod +x build/app\n"
			 "  image:\n"
			 "    needs: [build]\n"
			 "    uses: container-push\n"
			 "%s"
			 "    secrets: [registry]\n"
			 "    with:\n"
			 "      base: scratch\n"
			 "      add: { build/app: /usr/local/bin/app, assets/: /srv/assets/ }\n"
			 "      entrypoint: [/usr/local/bin/app]\n"
			 "      env: { PORT: 8080 }\n"
			 "      user: 65532\n"
			 "      labels: { team: web }\n"
			 "      image: ${REGISTRY_ADDR}/acme/webapp\n"
			 "      tags: [\"${RUNNER_COMMIT_SHORT}\", latest]\n"
			 "      credentials: registry\n"
			 "%s",
			 ungated, extra_with) >= 0,
		1);
	tu_write(work, "ws/.runner.yml", yaml);
	tu_write(work, "ws/assets/app.css", "body{}\n");
	free(yaml);
}

Test(image, a_pipeline_pushes_through_its_container_push_stage)
{
	tr_registry_start(&reg, TR_BASIC, "ci", "pipeline-Secret-42", NULL);
	write_pipeline("      retries: 1\n", "    ungated: \"the scanners are not built yet\"\n");
	setenv("RUNNER_SECRET_REGISTRY", "ci:pipeline-Secret-42", 1);
	char *ws = path("ws");
	char env[128];
	snprintf(env, sizeof(env), "REGISTRY_ADDR=%s", reg.addr);
	struct tu_result r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	/* Loud: the warning is in the live output. */
	assert_contains(r.out, "WARNING: stage 'image' pushes WITHOUT the security gates");
	assert_contains(r.out, "ungated: the scanners are not built yet");
	assert_contains(r.out, "tag 1 is empty after interpolation; skipped"); /* not in git */
	cr_assert_null(strstr(r.out, "pipeline-Secret-42"));
	tu_result_free(&r);

	json_t *rep = tu_latest_report(ws);
	json_t *st = tu_report_stage(rep, "image");
	cr_assert_str_eq(json_string_value(json_object_get(st, "status")), "passed");
	cr_assert_str_eq(json_string_value(json_object_get(st, "ungated")),
			 "the scanners are not built yet");
	json_t *res = json_object_get(st, "result");
	const char *digest = json_string_value(json_object_get(res, "digest"));
	cr_assert_not_null(digest);
	char want[256];
	snprintf(want, sizeof(want), "%s/acme/webapp@%s", reg.addr, digest);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(res, "pushed"), 0)),
			 want);
	snprintf(want, sizeof(want), "%s/acme/webapp:latest", reg.addr);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(res, "tags"), 0)), want);
	assert_contains(json_string_value(json_object_get(res, "summary")), "pushed ");
	verify(want, "ci:pipeline-Secret-42", digest);
	char *log = tu_readf("%s/.runner/runs/latest/logs/image.log", ws);
	cr_assert_not_null(log);
	assert_contains(log, "uploaded");
	assert_contains(log, "WARNING: stage 'image' pushes WITHOUT the security gates");
	cr_assert_null(strstr(log, "pipeline-Secret-42"));
	free(log);
	char *all = tu_readf("%s/.runner/runs/latest/report.json", ws);
	cr_assert_null(strstr(all, "pipeline-Secret-42"));
	free(all);
	json_decref(rep);

	/* Wrong credentials: the stage fails (exit 1), nothing is tagged. */
	setenv("RUNNER_SECRET_REGISTRY", "ci:not-the-password", 1);
	tu_write(work, "ws/assets/app.css", "body{color:red}\n");
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "push failed (no tag was moved)");
	assert_contains(r.out, "refused the credentials");
	cr_assert_null(strstr(r.out, "not-the-password"));
	tu_result_free(&r);
	free(ws);
}

static const char *stage_time(json_t *rep, const char *stage, const char *key)
{
	const char *t = json_string_value(json_object_get(tu_report_stage(rep, stage), key));
	cr_assert_not_null(t, "%s has no %s", stage, key);
	return t;
}

/* A push runs alone. It scans the files it will put into the image, then reads them again
 * to build it: a stage running beside it (one it does not need) could write a secret into
 * them in between. So it waits for the stages running when it is ready, and nothing starts
 * while it runs. (Times are RFC 3339 UTC with milliseconds: they compare as strings.) */
Test(image, a_push_runs_alone)
{
	tr_registry_start(&reg, TR_BASIC, "ci", "pipeline-Secret-42", NULL);
	tu_write(work, "ws/.runner.yml",
		 "version: 1\n"
		 "env:\n  REGISTRY_ADDR: \"\"\n"
		 "stages:\n"
		 "  build:\n"
		 "    run: mkdir -p build && echo app > build/app\n"
		 "  racer:\n"
		 "    run: sleep 3 && mkdir -p build && echo late > build/late.txt\n"
		 "  image:\n"
		 "    needs: [build]\n"
		 "    uses: container-push\n"
		 "    ungated: \"the test is about scheduling\"\n"
		 "    secrets: [registry]\n"
		 "    with:\n"
		 "      add: { build/: /app/ }\n"
		 "      image: ${REGISTRY_ADDR}/acme/alone\n"
		 "      tags: [latest]\n"
		 "      credentials: registry\n"
		 "  tail:\n"
		 "    needs: [build]\n"
		 "    run: sleep 0.3\n");
	setenv("RUNNER_SECRET_REGISTRY", "ci:pipeline-Secret-42", 1);
	char *ws = path("ws");
	char env[128];
	snprintf(env, sizeof(env), "REGISTRY_ADDR=%s", reg.addr);
	struct tu_result r = tu_runner_run(ws, "run", "-j", "4", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	json_t *rep = tu_latest_report(ws);
	const char *img_start = stage_time(rep, "image", "started_at");
	const char *img_end = stage_time(rep, "image", "finished_at");
	/* It waited for the racer, which started with the build and was still running. */
	cr_assert_geq(strcmp(img_start, stage_time(rep, "racer", "finished_at")), 0,
		      "the push started at %s, before the racer ended at %s", img_start,
		      stage_time(rep, "racer", "finished_at"));
	/* And the stage that became ready with it ran before or after it, not during. */
	const char *tail_start = stage_time(rep, "tail", "started_at");
	const char *tail_end = stage_time(rep, "tail", "finished_at");
	cr_assert(strcmp(tail_end, img_start) <= 0 || strcmp(tail_start, img_end) >= 0,
		  "tail ran %s..%s, the push %s..%s", tail_start, tail_end, img_start, img_end);
	json_t *res = json_object_get(tu_report_stage(rep, "image"), "result");
	cr_assert_str_eq(
		json_string_value(json_object_get(tu_report_stage(rep, "image"), "status")),
		"passed");
	cr_assert_not_null(json_object_get(res, "digest"));
	json_decref(rep);
	free(ws);
}

/* What the image carries is scanned for secrets before it is built, every file of it: a
 * key in a `.env` the repository ignores (so the repository's secrets scan never sees it)
 * but that an `add` copies into the image blocks the push, and nothing is pushed. */
Test(image, a_secret_in_the_image_files_blocks_the_push)
{
	static const char key[] = "AKIAQ3RZ7TWL5MXK4PHD";
	tr_registry_start(&reg, TR_BASIC, "ci", "pipeline-Secret-42", NULL);
	write_pipeline("", "    ungated: \"the scanners are not built yet\"\n");
	setenv("RUNNER_SECRET_REGISTRY", "ci:pipeline-Secret-42", 1);
	tu_write(work, "ws/.gitignore", "assets/.env\n");
	char *dotenv = tu_strf("AWS_ACCESS_KEY_ID=%s\n", key);
	tu_write(work, "ws/assets/.env", dotenv);
	free(dotenv);
	char *ws = path("ws");
	char env[128], tag[160];
	snprintf(env, sizeof(env), "REGISTRY_ADDR=%s", reg.addr);
	snprintf(tag, sizeof(tag), "%s/acme/webapp:latest", reg.addr);
	struct tu_result r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	assert_contains(r.out, "not pushed: the image's files hold secrets");
	cr_assert_null(strstr(r.out, key), "the key is printed: %s", r.out);
	tu_result_free(&r);
	json_t *rep = tu_latest_report(ws);
	json_t *st = tu_report_stage(rep, "image");
	cr_assert_str_eq(json_string_value(json_object_get(st, "status")), "blocked");
	json_t *cs = json_object_get(json_object_get(st, "result"), "content_scan");
	json_t *f0 = json_array_get(json_object_get(cs, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f0, "rule_id")),
			 "secret.aws-access-key-id");
	cr_assert_str_eq(json_string_value(json_object_get(f0, "file")), "assets/.env");
	json_decref(rep);
	char *all = tu_readf("%s/.runner/runs/latest/report.json", ws);
	cr_assert_null(strstr(all, key), "the key is in the report");
	free(all);
	char *d = tr_skopeo_digest(tag, "ci:pipeline-Secret-42");
	cr_assert_null(d, "an image was pushed: %s", d);

	/* A token in a .git directory the add copies (a checkout's remote URL) blocks too:
	 * the build copies .git, .hg, .svn and .runner like any directory, and the scan
	 * enters them. */
	char *envpath = tu_strf("%s/ws/assets/.env", work);
	cr_assert_eq(unlink(envpath), 0);
	free(envpath);
	static const char pat[] = "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo";
	char *gitcfg =
		tu_strf("[remote \"origin\"]\n\turl = https://x:%s@github.com/acme/w.git\n", pat);
	tu_write(work, "ws/assets/.git/config", gitcfg);
	free(gitcfg);
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, pat), "the token is printed: %s", r.out);
	tu_result_free(&r);
	rep = tu_latest_report(ws);
	cs = json_object_get(json_object_get(tu_report_stage(rep, "image"), "result"),
			     "content_scan");
	f0 = json_array_get(json_object_get(cs, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f0, "file")), "assets/.git/config");
	json_decref(rep);
	d = tr_skopeo_digest(tag, "ci:pipeline-Secret-42");
	cr_assert_null(d, "an image was pushed: %s", d);
	char *gitdir = tu_strf("%s/ws/assets/.git", work);
	tu_rmdir(gitdir);
	free(gitdir);

	/* Without them, the image is pushed. */
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	d = tr_skopeo_digest(tag, "ci:pipeline-Secret-42");
	cr_assert_not_null(d, "not pushed");
	free(d);

	/* A source that is not there is the build's to report: the stage fails (exit 1). */
	char *assets = tu_strf("%s/ws/assets", work);
	tu_rmdir(assets);
	free(assets);
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "image build failed");
	tu_result_free(&r);
	free(ws);
}

static enum tr_action fail_the_latest_tag(struct tr_proxy *p, const char *method, const char *uri,
					  int n)
{
	(void)p;
	(void)n;
	return strcmp(method, "PUT") == 0 && strstr(uri, "/manifests/latest") ? TR_FAIL_500
									      : TR_FORWARD;
}

/* Tags are moved one after another once the image is complete: when a later one fails,
 * the stage says which were moved already (and lists them in its result), not that none
 * was. */
Test(image, a_push_that_fails_after_moving_a_tag_says_so)
{
	tr_registry_start(&reg, TR_BASIC, "ci", "pipeline-Secret-42", NULL);
	tr_proxy_start(&proxy, &reg, fail_the_latest_tag);
	write_pipeline("      retries: 0\n", "    ungated: \"the scanners are not built yet\"\n");
	/* Two tags that do not depend on a commit (this workspace is no repository). */
	char *yml = tu_readf("%s/ws/.runner.yml", work);
	char *at = strstr(yml, "tags: [");
	cr_assert_not_null(at);
	char *end = strchr(at, ']');
	char *fixed = tu_strf("%.*stags: [v1, latest]%s", (int)(at - yml), yml, end + 1);
	tu_write(work, "ws/.runner.yml", fixed);
	free(fixed);
	free(yml);
	setenv("RUNNER_SECRET_REGISTRY", "ci:pipeline-Secret-42", 1);
	char *ws = path("ws");
	char env[128];
	snprintf(env, sizeof(env), "REGISTRY_ADDR=%s", proxy.addr);
	struct tu_result r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	assert_contains(r.out, "push failed after 1 of the tags were moved");
	cr_assert_null(strstr(r.out, "no tag was moved"), "%s", r.out);
	tu_result_free(&r);
	json_t *rep = tu_latest_report(ws);
	json_t *res = json_object_get(tu_report_stage(rep, "image"), "result");
	cr_assert_eq(json_array_size(json_object_get(res, "tags")), 1);
	cr_assert_eq(json_array_size(json_object_get(res, "pushed")), 1);
	json_decref(rep);
	free(ws);
}

/* `with:` keys are interpolated like its values (an `add:` source may be templated, as
 * validation allows); two keys that expand to the same are refused before anything runs. */
Test(image, templated_add_sources_are_expanded)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	char *yml = tu_strf(
		"version: 1\nenv: { SRC: build }\nstages:\n"
		"  build: { run: \"mkdir -p build && echo hi > build/app\" }\n"
		"  image:\n    needs: [build]\n    uses: container-push\n"
		"    ungated: test\n"
		"    with: { image: %s/acme/t, tags: [v1], add: { \"${SRC}/app\": /app } }\n",
		reg.addr);
	tu_write(work, "ws2/.runner.yml", yml);
	free(yml);
	char *ws = path("ws2");
	struct tu_result r = tu_runner_run(ws, "run", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *tag = tu_strf("%s/acme/t:v1", reg.addr);
	char *d = tr_skopeo_digest(tag, NULL);
	cr_assert_not_null(d, "not pushed");
	free(d);
	free(tag);
	yml = tu_strf(
		"version: 1\nenv: { SRC: build }\nstages:\n"
		"  image:\n    uses: container-push\n    ungated: test\n"
		"    with: { image: %s/acme/t, add: { \"${SRC}/app\": /a, build/app: /b } }\n",
		reg.addr);
	tu_write(work, "ws2/.runner.yml", yml);
	free(yml);
	r = tu_runner_run(ws, "run", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "two keys that expand to the same");
	tu_result_free(&r);
	free(ws);
}

Test(image, validation_refuses_an_ungated_push_without_the_security_stages)
{
	write_pipeline("", "");
	char *ws = path("ws");
	struct tu_result r = tu_runner_run(ws, "validate", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	assert_contains(r.err, "push stage 'image' is not behind the security gates: it does not "
			       "depend on a stage of kind `sast`, `secrets`, `dependency-scan`");
	assert_contains(r.err, "ungated");
	tu_result_free(&r);
	r = tu_runner_run(ws, "run", NULL);
	cr_assert_eq(r.status, 2, "nothing runs");
	cr_assert_not(tu_exists("%s/.runner/runs/latest", ws));
	tu_result_free(&r);

	/* Mistakes in `with:` are found at validation, with their position. */
	tu_write(work, "ws/.runner.yml",
		 "version: 1\nstages:\n  image:\n    uses: container-push\n    ungated: demo\n"
		 "    with:\n      image: 127.0.0.1:5000/acme/app:v1\n      tag: [x]\n"
		 "      tags: [007, 1.10, \"0x10\"]\n"
		 "      base: debian:12\n      add: { ../etc/passwd: /x, a: relative }\n"
		 "      credentials: registry\n");
	r = tu_runner_run(ws, "validate", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, ".runner.yml:7:14: error: stage 'image': image "
			       "'127.0.0.1:5000/acme/app:v1' must not carry a tag or digest");
	assert_contains(r.err, "unknown key 'tag' in with");
	assert_contains(r.err, "did you mean `tags`?");
	assert_contains(r.err, "looks like an image reference without a digest");
	assert_contains(r.err, "add source '../etc/passwd' is outside the workspace");
	assert_contains(r.err, "add destination 'relative' is not a valid absolute path");
	assert_contains(r.err, "credentials 'registry' is not one of the stage's secrets");
	assert_contains(r.err, "with.tags: YAML reads 007 as the number 7");
	cr_assert_null(strstr(r.err, "YAML reads 1.10"), "floats stay text: %s", r.err);
	cr_assert_null(strstr(r.err, "YAML reads 0x10"), "quoted: a string");
	tu_result_free(&r);

	/* A secret may not hide behind a pipeline env entry of the same name. */
	tu_write(work, "ws/.runner.yml",
		 "version: 1\nenv: { REGISTRY: x }\nstages:\n  a: { run: \"true\", secrets: "
		 "[registry] }\n");
	r = tu_runner_run(ws, "validate", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "secret 'registry' is given to the stage as REGISTRY, which the "
			       "pipeline's `env:` also sets");
	tu_result_free(&r);

	/* --env only sets what the pipeline declares. */
	write_pipeline("", "    ungated: demo\n");
	r = tu_runner_run(ws, "run", "--env", "NOPE=1", NULL);
	cr_assert_eq(r.status, 2);
	assert_contains(r.err, "the pipeline's env has no entry NOPE");
	tu_result_free(&r);
	free(ws);
}

/* Run a shell command in dir; it must succeed. */
static void sh_in(const char *dir, const char *cmd)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct tu_result r = tu_run(dir, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "%s: %s%s", cmd, r.out, r.err);
	tu_result_free(&r);
}

/* The manifest of ref as the registry has it (skopeo inspect --raw). */
static json_t *raw_manifest(const char *ref)
{
	char *dref;
	cr_assert_geq(asprintf(&dref, "docker://%s", ref), 0);
	const char *argv[] = { "/usr/bin/skopeo", "inspect", "--tls-verify=false",
			       "--raw",		  dref,	     NULL };
	struct tu_result r = tu_run(NULL, argv, NULL, 120);
	cr_assert_eq(r.status, 0, "skopeo inspect --raw %s: %s", ref, r.err);
	json_error_t e;
	json_t *m = json_loads(r.out, 0, &e);
	cr_assert_not_null(m, "%s", r.out);
	tu_result_free(&r);
	free(dref);
	return m;
}

static const char *annotation(json_t *manifest, const char *name)
{
	return json_string_value(json_object_get(json_object_get(manifest, "annotations"), name));
}

/* A repository whose origin carries credentials, with a pipeline pushing one image. */
static void write_git_pipeline(const char *tag, const char *extra_with)
{
	char *yaml = tu_strf("version: 1\n"
			     "name: app\n"
			     "env:\n  REGISTRY_ADDR: \"\"\n"
			     "stages:\n"
			     "  show:\n"
			     "    run: echo \"repo=[$RUNNER_REPO_URL]\"\n"
			     "  image:\n"
			     "    needs: [show]\n"
			     "    uses: container-push\n"
			     "    ungated: demo\n"
			     "    with:\n"
			     "      add: { app.txt: /app.txt }\n"
			     "      image: ${REGISTRY_ADDR}/acme/app\n"
			     "      tags: [%s]\n"
			     "%s",
			     tag, extra_with);
	tu_write(work, "git/.runner.yml", yaml);
	free(yaml);
}

static void assert_no_s3cret(const char *ws)
{
	char *all = tu_readf("%s/.runner/runs/latest/report.json", ws);
	cr_assert_not_null(all);
	cr_assert_null(strstr(all, "s3cret"), "%s", all);
	free(all);
	const char *logs[] = { "show", "image" };
	for (size_t i = 0; i < 2; i++) {
		char *log = tu_readf("%s/.runner/runs/latest/logs/%s.log", ws, logs[i]);
		cr_assert_not_null(log);
		cr_assert_null(strstr(log, "s3cret"), "%s", log);
		free(log);
	}
}

Test(image, the_source_annotation_is_the_origin_without_its_credentials)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	char *ws = path("git");
	tu_write(work, "git/app.txt", "app\n");
	write_git_pipeline("origin", "");
	sh_in(ws, "git init -q . && git remote add origin "
		  "https://user:s3cret@example.com/acme/app.git && git add -A && "
		  "git -c user.name=t -c user.email=t@example.com commit -q -m init");
	char env[128];
	snprintf(env, sizeof(env), "REGISTRY_ADDR=%s", reg.addr);
	struct tu_result r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "s3cret"), "%s", r.out);
	cr_assert_null(strstr(r.err, "s3cret"), "%s", r.err);
	tu_result_free(&r);
	char *log = tu_readf("%s/.runner/runs/latest/logs/show.log", ws);
	assert_contains(log, "repo=[https://example.com/acme/app.git]");
	free(log);
	assert_no_s3cret(ws);
	char ref[160];
	snprintf(ref, sizeof(ref), "%s/acme/app:origin", reg.addr);
	json_t *m = raw_manifest(ref);
	cr_assert_str_eq(annotation(m, "org.opencontainers.image.source"),
			 "https://example.com/acme/app.git");
	cr_assert_not_null(annotation(m, "org.opencontainers.image.revision"));
	json_decref(m);

	/* `source:` wins; an empty one means no annotation at all. */
	write_git_pipeline("given", "      source: \"https://x/y\"\n");
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	assert_no_s3cret(ws);
	snprintf(ref, sizeof(ref), "%s/acme/app:given", reg.addr);
	m = raw_manifest(ref);
	cr_assert_str_eq(annotation(m, "org.opencontainers.image.source"), "https://x/y");
	json_decref(m);
	write_git_pipeline("none", "      source: \"\"\n");
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	snprintf(ref, sizeof(ref), "%s/acme/app:none", reg.addr);
	m = raw_manifest(ref);
	cr_assert_null(annotation(m, "org.opencontainers.image.source"));
	json_decref(m);

	/* `runner image build` defaults --source the same way; `--source ""` means none. */
	char *out = path("oci-git");
	r = tu_runner_run(NULL, "image", "build", "-C", ws, "--output", out, "--add",
			  "app.txt:/app.txt", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *digest = built_digest(r.out);
	tu_result_free(&r);
	char *text = tu_readf("%s/blobs/sha256/%s", out, digest + 7);
	assert_contains(text,
			"\"org.opencontainers.image.source\":\"https://example.com/acme/app.git\"");
	cr_assert_null(strstr(text, "s3cret"));
	free(text);
	free(digest);
	tu_rmdir(out);
	r = tu_runner_run(NULL, "image", "build", "-C", ws, "--output", out, "--add",
			  "app.txt:/app.txt", "--source", "", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	digest = built_digest(r.out);
	tu_result_free(&r);
	text = tu_readf("%s/blobs/sha256/%s", out, digest + 7);
	cr_assert_null(strstr(text, "org.opencontainers.image.source"), "%s", text);
	free(text);
	free(digest);
	free(out);

	/* A workspace whose origin is a local path: no source. */
	sh_in(ws, "git remote set-url origin /srv/git/app.git");
	write_git_pipeline("local", "");
	r = tu_runner_run(ws, "run", "--env", env, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	tu_result_free(&r);
	snprintf(ref, sizeof(ref), "%s/acme/app:local", reg.addr);
	m = raw_manifest(ref);
	cr_assert_null(annotation(m, "org.opencontainers.image.source"));
	json_decref(m);
	log = tu_readf("%s/.runner/runs/latest/logs/show.log", ws);
	assert_contains(log, "repo=[]");
	free(log);
	free(ws);
}
