/*
 * test-serve.c - `runner serve` end to end: a real server process on 127.0.0.1, real git
 * repositories made by the test, the real example payloads (tests/fixtures/webhooks)
 * patched to point at them and signed here, and real HTTP.
 *
 * The forges' commit status APIs cannot run here: a small recording HTTP server in this
 * test stands in for them (ts_recorder) and checks what they would receive.
 */
#include <criterion/criterion.h>

#include "testserve.h"
#include "testutil.h"

#include <sqlite3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_GH "github-webhook-secret-0123456789"
#define SECRET_GL "gitlab-webhook-token-0123456789"
#define SECRET_GT "gitea-webhook-secret-0123456789"
#define DEPLOY	  "deploy-key-value-not-for-forks"
/* The GitHub repository's entry in a server config: its clone URL and API URL follow. */
#define GITHUB_REPO_ENTRY                               \
	"  - name: acme/app\n"                          \
	"    forge: github\n"                           \
	"    secret: " SECRET_GH "\n"                   \
	"    clone_url: %s\n"                           \
	"    api: { url: '%s', token: gh-api-token }\n" \
	"    secrets: { deploy_key: " DEPLOY " }\n"

static const char pipeline[] =
	"version: 1\n"
	"name: app\n"
	"stages:\n"
	"  test:\n"
	"    run: |\n"
	"      echo \"event=$RUNNER_EVENT branch=$RUNNER_BRANCH commit=$RUNNER_COMMIT_SHA "
	"repo=[$RUNNER_REPO_URL]\"\n"
	"      if [ \"$(cat mode 2>/dev/null)\" = slow ]; then\n"
	"        case \"$RUNNER_RUN_ID\" in *.1) sleep 60.7173 & echo \"sleeper=$!\"; wait ;; "
	"esac\n"
	"      fi\n"
	"      test \"$(cat mode 2>/dev/null)\" != fail\n"
	"  publish:\n"
	"    needs: [test]\n"
	"    secrets: [deploy_key]\n"
	"    run: echo \"publishing with [$DEPLOY_KEY]\"\n";

struct env {
	char *dir;
	char *repo;
	char *main_sha;
	struct ts_recorder *rec;
	struct ts_server srv;
};

static void start_limits(struct env *e, const char *limits, const char *extra, unsigned fail_first);

static void start(struct env *e, const char *extra, unsigned fail_first)
{
	start_limits(e, "{ max_body: 64KiB, max_inflight: 64KiB, concurrency: 2 }", extra,
		     fail_first);
}

static void start_limits(struct env *e, const char *limits, const char *extra, unsigned fail_first)
{
	e->dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e->repo, "%s/repo", e->dir), 0);
	e->main_sha = ts_git_init(e->repo, pipeline);
	e->rec = ts_recorder_start(fail_first);
	char *cfg;
	const char *url = ts_recorder_url(e->rec);
	cr_assert_geq(
		asprintf(&cfg,
			 "listen: 127.0.0.1:0\n"
			 "data_dir: %s/data\n"
			 "public_url: http://ci.example\n"
			 "log_level: debug\n"
			 "limits: %s\n"
			 "shutdown_grace: 200ms\n"
			 "retry: { attempts: 3, backoff: 50ms, max_backoff: 200ms, timeout: 5s }\n"
			 "%s"
			 "repositories:\n" GITHUB_REPO_ENTRY "  - name: org/app\n"
			 "    forge: gitlab\n"
			 "    secret: " SECRET_GL "\n"
			 "    clone_url: %s\n"
			 "    api: { url: '%s', token: gl-api-token }\n"
			 "    secrets: { deploy_key: " DEPLOY " }\n"
			 "  - name: acme/tea\n"
			 "    forge: gitea\n"
			 "    secret: " SECRET_GT "\n"
			 "    clone_url: %s\n"
			 "    api: { url: '%s', token: gitea-api-token }\n"
			 "    secrets: { deploy_key: " DEPLOY " }\n",
			 e->dir, limits, extra ? extra : "", e->repo, url, e->repo, url, e->repo,
			 url),
		0);
	ts_start(&e->srv, e->dir, cfg);
	free(cfg);
}

static void stop(struct env *e)
{
	cr_assert_eq(ts_stop(&e->srv, 30), 0, "the server stops cleanly on SIGTERM");
	ts_release(&e->srv);
	ts_recorder_stop(e->rec);
	tu_rmdir(e->dir);
	free(e->dir);
	free(e->repo);
	free(e->main_sha);
}

static char *push_body(const char *repo, const char *ref, const char *sha)
{
	json_t *p = ts_payload("github/push/with-new-branch.payload.json");
	ts_set(p, "ref", ref);
	ts_set(p, "after", sha);
	ts_set(p, "repository.full_name", repo);
	ts_set(p, "repository.clone_url", "https://example.invalid/not-used.git");
	char *s = ts_dump(p);
	json_decref(p);
	return s;
}

static long accepted(struct ts_response r)
{
	cr_assert_eq(r.status, 202, "status %ld: %s", r.status, r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "accepted", "%s", r.body);
	long id = (long)json_integer_value(json_object_get(j, "run_id"));
	json_decref(j);
	ts_response_free(&r);
	return id;
}

static long push(struct env *e, const char *delivery, const char *branch, const char *sha)
{
	char ref[256];
	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	char *body = push_body("acme/app", ref, sha);
	long id = accepted(ts_deliver(e->srv.addr, "github", "push", delivery, SECRET_GH, body));
	free(body);
	return id;
}

static const char *state_of(json_t *run)
{
	const char *s = json_string_value(json_object_get(run, "state"));
	return s ? s : "(none)";
}

static void expect_state(json_t *run, const char *want)
{
	char *dump = json_dumps(run, 0);
	cr_assert_str_eq(state_of(run), want, "%s", dump ? dump : "(no run)");
	free(dump);
}

static char *stage_log(struct env *e, long id, const char *stage)
{
	char *url;
	cr_assert_geq(asprintf(&url, "http://%s/api/runs/%ld/logs/%s", e->srv.addr, id, stage), 0);
	struct ts_response r = ts_get(url);
	free(url);
	cr_assert_eq(r.status, 200, "log of %s: %ld", stage, r.status);
	return r.body;
}

static json_t *stage_of(json_t *run, const char *name)
{
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(run, "stages"), i, st)
	{
		if (strcmp(json_string_value(json_object_get(st, "name")), name) == 0) {
			return st;
		}
	}
	return NULL;
}

static void expect(struct ts_response r, long status, const char *needle)
{
	cr_assert_eq(r.status, status, "expected %ld for '%s', got %ld: %s", status, needle,
		     r.status, r.body);
	cr_assert_not_null(strstr(r.body, needle), "'%s' not in %s", needle, r.body);
	ts_response_free(&r);
}

Test(serve, deliveries_that_are_refused_or_ignored, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	const char *a = e.srv.addr;
	char *body = push_body("acme/app", "refs/heads/main", e.main_sha);
	char *url;
	cr_assert_geq(asprintf(&url, "http://%s/hooks/github", a), 0);

	/* The answer names the header to look at (GitLab's is a token, not a signature). */
	expect(ts_deliver(a, "github", "push", "d-1", NULL, body), 401,
	       "the X-Hub-Signature-256 header is missing");
	expect(ts_deliver(a, "github", "push", "d-2", "not-the-secret-0123456789", body), 401,
	       "the signature (X-Hub-Signature-256) does not match");
	expect(ts_deliver(a, "gitea", "push", "d-3", SECRET_GH, body), 401,
	       "the signature (X-Gitea-Signature) does not match");
	expect(ts_deliver(a, "gitlab", "Push Hook", "d-4", SECRET_GH, body), 401,
	       "the token (X-Gitlab-Token) does not match");
	expect(ts_deliver(a, "gitlab", "Push Hook", "d-4b", NULL, body), 401,
	       "the X-Gitlab-Token header is missing");
	const char *form[] = { "Content-Type: application/x-www-form-urlencoded",
			       "X-GitHub-Event: push", "X-GitHub-Delivery: d-5", NULL };
	expect(ts_post(url, form, "payload=x", 9), 415, "application/json");
	char *big = malloc(100000);
	memset(big, ' ', 99999);
	big[0] = '{';
	big[99998] = '}';
	big[99999] = '\0';
	expect(ts_deliver(a, "github", "push", "d-6", SECRET_GH, big), 413, "max_body");
	expect(ts_deliver(a, "github", "push", "d-7", SECRET_GH, "{\"ref\": "), 400,
	       "malformed JSON");
	char *other = push_body("acme/other", "refs/heads/main", e.main_sha);
	expect(ts_deliver(a, "github", "push", "d-8", SECRET_GH, other), 404, "acme/other");
	expect(ts_deliver(a, "github", "push", "", SECRET_GH, body), 400, "delivery id");
	char *tag_deleted =
		push_body("acme/app", "refs/tags/v1", "0000000000000000000000000000000000000000");
	expect(ts_deliver(a, "github", "push", "d-9", SECRET_GH, tag_deleted), 202, "deleted");
	json_t *p = ts_payload("github/pull_request/closed.payload.json");
	ts_set(p, "repository.full_name", "acme/app");
	char *closed = ts_dump(p);
	json_decref(p);
	expect(ts_deliver(a, "github", "pull_request", "d-10", SECRET_GH, closed), 202,
	       "action 'closed' is not run");
	p = ts_payload("github/create/payload.json");
	ts_set(p, "repository.full_name", "acme/app");
	char *create = ts_dump(p);
	json_decref(p);
	expect(ts_deliver(a, "github", "create", "d-11", SECRET_GH, create), 202,
	       "event 'create' is not run");
	p = ts_payload("github/ping/with-organization.payload.json");
	char *ping = ts_dump(p);
	json_decref(p);
	expect(ts_deliver(a, "github", "ping", "d-12", SECRET_GH, ping), 200, "pong");

	/* Bodies are buffered before they can be verified: all of them together are capped
	 * too. Hold 40 KB of one delivery open; another 40 KB one does not fit (503). */
	{
		char host[64];
		snprintf(host, sizeof(host), "%s", a);
		char *colon = strrchr(host, ':');
		*colon = '\0';
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)atoi(colon + 1)) };
		inet_pton(AF_INET, host, &sa.sin_addr);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		const char *head =
			"POST /hooks/github HTTP/1.1\r\nHost: x\r\n"
			"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n";
		cr_assert_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
		char *part = malloc(40000);
		memset(part, ' ', 40000);
		cr_assert_eq(write(fd, part, 40000), 40000);
		ts_sleep(0.5);
		char *second = malloc(40001);
		memset(second, ' ', 40000);
		second[0] = '{';
		second[39999] = '}';
		second[40000] = '\0';
		expect(ts_deliver(a, "github", "push", "d-13", SECRET_GH, second), 503, "too busy");
		close(fd); /* the held body is released */
		ts_sleep(0.3);
		expect(ts_deliver(a, "github", "push", "d-14", NULL, second), 401, "missing");
		free(part);
		free(second);
	}

	/* The per-repository form of the URL: only that repository's secret is tried. */
	{
		char *ru;
		const char *hdr[] = { "Content-Type: application/json", "X-GitHub-Event: create",
				      "X-GitHub-Delivery: d-15", NULL };
		cr_assert_geq(asprintf(&ru, "http://%s/hooks/github/acme/nope", a), 0);
		expect(ts_post(ru, hdr, create, strlen(create)), 404, "no such repository");
		free(ru);
		cr_assert_geq(asprintf(&ru, "http://%s/hooks/gitea/acme/tea", a), 0);
		expect(ts_post(ru, hdr, create, strlen(create)), 401, "missing");
		free(ru);
		/* Signed for acme/app, sent to acme/tea's URL: refused. */
		struct ts_response r0 =
			ts_deliver(a, "gitea/acme/tea", "create", "d-16", SECRET_GH, create);
		expect(r0, 401, "does not match");
		r0 = ts_deliver(a, "gitea/acme/tea", "create", "d-17", SECRET_GT, create);
		expect(r0, 404, "acme/app");
	}

	char *u2;
	cr_assert_geq(asprintf(&u2, "http://%s/hooks/bitbucket", a), 0);
	expect(ts_post(u2, form, "{}", 2), 404, "unknown hook");
	free(u2);
	expect(ts_get(url), 405, "POSTed");
	/* Nothing of that was queued. */
	cr_assert_geq(asprintf(&u2, "http://%s/api/runs", a), 0);
	expect(ts_get(u2), 200, "{\"runs\":[]}");
	free(u2);
	cr_assert_geq(asprintf(&u2, "http://%s/healthz", a), 0);
	expect(ts_get(u2), 200, "ok");
	free(u2);
	cr_assert_geq(asprintf(&u2, "http://%s/metrics", a), 0);
	expect(ts_get(u2), 200, "runner_webhook_deliveries_total{result=\"rejected\"} 15");
	/* The body refused for too many large ones at once (d-13) is the server's capacity,
	 * not the sender's fault. */
	expect(ts_get(u2), 200, "runner_webhook_deliveries_total{result=\"busy\"} 1\n");
	/* The counter of pruned runs is there (nothing here is old enough). */
	expect(ts_get(u2), 200, "runner_runs_pruned_total 0");
	free(u2);
	/* Every refusal is in the log, with its delivery id: also those answered from the
	 * headers alone, before the body (the wrong content type, a Content-Length above
	 * max_body, a repository URL this server does not have), which were logged without
	 * it, so that a refused delivery the forge shows could not be found in the log. */
	char *log = tu_read(e.srv.log);
	const char *ids[] = { "d-2", "d-5", "d-6", "d-15" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char *line = tu_strf("\"event\":\"delivery.rejected\",\"delivery\":\"%s\"", ids[i]);
		cr_assert_not_null(strstr(log, line), "no %s in %s", line, log);
		free(line);
	}
	cr_assert_not_null(strstr(log, "no such repository on this server: 'acme/nope'"), "%s",
			   log);
	/* No refusal quotes a secret. */
	cr_assert_null(strstr(log, SECRET_GH), "%s", log);
	cr_assert_null(strstr(log, SECRET_GT), "%s", log);
	cr_assert_null(strstr(log, SECRET_GL), "%s", log);
	free(log);

	free(big);
	free(body);
	free(other);
	free(tag_deleted);
	free(closed);
	free(create);
	free(ping);
	free(url);
	stop(&e);
}

/* A run stops itself at run_timeout, but a fetch from a server that accepts the
 * connection and never answers blocks it (libgit2 has no timeout): the server kills such
 * a run a while after its timeout (here 5 s) and ends it as an error, freeing its slot. */
Test(serve, a_run_stuck_past_its_timeout_is_killed, .timeout = 120)
{
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	e.rec = ts_recorder_start(0);
	int silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	cr_assert_eq(bind(silent, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(silent, 16), 0, "connections complete, and nothing ever answers");
	cr_assert_eq(getsockname(silent, (struct sockaddr *)&sa, &sl), 0);
	char *clone, *cfg;
	cr_assert_geq(asprintf(&clone, "http://127.0.0.1:%d/acme/app.git", ntohs(sa.sin_port)), 0);
	cr_assert_geq(asprintf(&cfg,
			       "listen: 127.0.0.1:0\n"
			       "data_dir: %s/data\n"
			       "limits: { run_timeout: 2s, concurrency: 1 }\n"
			       "shutdown_grace: 200ms\n"
			       "repositories:\n" GITHUB_REPO_ENTRY,
			       e.dir, clone, ts_recorder_url(e.rec)),
		      0);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	long id = push(&e, "d-stuck", "main", "0123456789abcdef0123456789abcdef01234567");
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	const char *msg = json_string_value(json_object_get(run, "message"));
	cr_assert_not_null(msg);
	cr_assert_not_null(strstr(msg, "did not stop at its run_timeout"), "%s", msg);
	json_decref(run);
	close(silent);
	free(clone);
	e.repo = NULL;
	e.main_sha = NULL;
	stop(&e);
}

Test(serve, a_push_runs_once_and_reports_statuses, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	long id = push(&e, "delivery-1", "main", e.main_sha);
	/* A redelivery (same id) and a replayed body (new id) are acknowledged, not run. */
	char *body = push_body("acme/app", "refs/heads/main", e.main_sha);
	expect(ts_deliver(e.srv.addr, "github", "push", "delivery-1", SECRET_GH, body), 202,
	       "\"duplicate\"");
	expect(ts_deliver(e.srv.addr, "github", "push", "delivery-other", SECRET_GH, body), 202,
	       "\"duplicate\"");
	free(body);

	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert_eq(json_integer_value(json_object_get(run, "attempts")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(stage_of(run, "publish"), "status")),
			 "passed");
	char *log = stage_log(&e, id, "test");
	char *want;
	cr_assert_geq(asprintf(&want, "event=push branch=main commit=%s", e.main_sha), 0);
	cr_assert_not_null(strstr(log, want), "%s", log);
	/* The clone URL is a local path: not a public URL, so none (and no path shown). */
	cr_assert_not_null(strstr(log, " repo=[]"), "%s", log);
	free(log);
	free(want);
	/* A trusted run gets its secret, masked in the log. */
	log = stage_log(&e, id, "publish");
	cr_assert_not_null(strstr(log, "publishing with [***]"), "%s", log);
	cr_assert_null(strstr(log, DEPLOY));
	free(log);
	json_decref(run);

	/* Statuses: pending (queued), pending (running), success; in that order. */
	cr_assert_geq(ts_recorder_wait(e.rec, 3, 30), 3);
	const char *states[3][2] = { { "pending", "queued" },
				     { "pending", "running" },
				     { "success", "passed" } };
	char *path;
	cr_assert_geq(asprintf(&path, "/repos/acme/app/statuses/%s", e.main_sha), 0);
	for (int i = 0; i < 3; i++) {
		json_t *q = ts_recorder_get(e.rec, (size_t)i);
		cr_assert_str_eq(json_string_value(json_object_get(q, "url")), path);
		cr_assert_str_eq(json_string_value(json_object_get(q, "authorization")),
				 "Bearer gh-api-token");
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		cr_assert_str_eq(json_string_value(json_object_get(b, "state")), states[i][0]);
		cr_assert_str_eq(json_string_value(json_object_get(b, "description")),
				 states[i][1]);
		char *target;
		cr_assert_geq(asprintf(&target, "http://ci.example/runs/%ld", id), 0);
		cr_assert_str_eq(json_string_value(json_object_get(b, "target_url")), target);
		free(target);
		json_decref(b);
		json_decref(q);
	}
	free(path);
	ts_sleep(0.3);
	cr_assert_eq(ts_recorder_count(e.rec), 3, "one run, one set of statuses");

	/* The pages: HTML with the run, and the run's own page. */
	char *u;
	cr_assert_geq(asprintf(&u, "http://%s/", e.srv.addr), 0);
	struct ts_response r = ts_get(u);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body, "acme/app"));
	cr_assert_not_null(strstr(r.body, "test: passed"));
	cr_assert_null(strstr(r.body, "<script"), "no scripts, no external assets");
	cr_assert_null(strstr(r.body, "src=\"http"));
	ts_response_free(&r);
	free(u);
	cr_assert_geq(asprintf(&u, "http://%s/runs/%ld", e.srv.addr, id), 0);
	expect(ts_get(u), 200, "/api/runs/1/logs/publish");
	free(u);
	cr_assert_geq(asprintf(&u, "http://%s/api/runs/999", e.srv.addr), 0);
	expect(ts_get(u), 404, "no such run");
	free(u);
	cr_assert_geq(asprintf(&u, "http://%s/api/runs/1/logs/..%%2F..%%2Fqueue.db", e.srv.addr),
		      0);
	r = ts_get(u);
	cr_assert_eq(r.status, 404, "stage names are checked before they become paths");
	ts_response_free(&r);
	free(u);
	stop(&e);
}

Test(serve, failures_and_missing_commits_are_reported, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	ts_sh("git -C '%s' checkout -q -b feature", e.repo);
	char *bad = ts_git_commit(e.repo, "mode", "fail\n");
	long failed = push(&e, "d-fail", "feature", bad);
	long missing = push(&e, "d-missing", "main", "0123456789abcdef0123456789abcdef01234567");
	json_t *run = ts_wait_run(e.srv.addr, failed, 60);
	expect_state(run, "failed");
	cr_assert_eq(json_integer_value(json_object_get(run, "exit_code")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(stage_of(run, "publish"), "status")),
			 "skipped");
	json_decref(run);
	run = ts_wait_run(e.srv.addr, missing, 60);
	expect_state(run, "error");
	const char *msg = json_string_value(json_object_get(run, "message"));
	cr_assert_not_null(strstr(msg, "does not exist"), "%s", msg);
	json_decref(run);
	/* Their final statuses: failure and error. */
	cr_assert_geq(ts_recorder_wait(e.rec, 6, 30), 6);
	int failures = 0, errors = 0;
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		const char *st = json_string_value(json_object_get(b, "state"));
		failures += strcmp(st, "failure") == 0;
		errors += strcmp(st, "error") == 0;
		json_decref(b);
		json_decref(q);
	}
	cr_assert_eq(failures, 1);
	cr_assert_eq(errors, 1);
	free(bad);
	stop(&e);
}

/* A pipeline that is not valid is the run's error with the exit code `runner run` gives
 * it, 2 (invalid input), and its file:line:col; a commit the forge names but the
 * repository lacks is 4. */
Test(serve, an_invalid_pipeline_is_an_error_with_the_exit_code_of_invalid_input, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *bad = ts_git_commit(e.repo, ".runner.yml",
				  "version: 1\nstages:\n  a: { run: x, needs: [nope] }\n");
	long id = push(&e, "d-invalid", "main", bad);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	cr_assert_eq(json_integer_value(json_object_get(run, "exit_code")), 2, "%s",
		     json_string_value(json_object_get(run, "message")));
	const char *msg = json_string_value(json_object_get(run, "message"));
	cr_assert_not_null(strstr(msg, ".runner.yml:3:"), "%s", msg);
	json_decref(run);
	id = push(&e, "d-missing", "main", "0123456789abcdef0123456789abcdef01234567");
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	cr_assert_eq(json_integer_value(json_object_get(run, "exit_code")), 4);
	json_decref(run);
	free(bad);
	stop(&e);
}

/* Whether the forge stand-in got, within timeout_s, a status of `state` whose description
 * holds `needle`. */
static bool got_status(struct env *e, const char *state, const char *needle, double timeout_s)
{
	double t0 = ts_now();
	do {
		for (size_t i = 0; i < ts_recorder_count(e->rec); i++) {
			json_t *q = ts_recorder_get(e->rec, i);
			json_t *b =
				json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
			const char *st = json_string_value(json_object_get(b, "state"));
			const char *d = json_string_value(json_object_get(b, "description"));
			bool hit = st && d && !strcmp(st, state) && strstr(d, needle);
			json_decref(b);
			json_decref(q);
			if (hit) {
				return true;
			}
		}
		usleep(50000);
	} while (ts_now() - t0 < timeout_s);
	return false;
}

static char *pr_body(const char *head_repo, const char *head_sha, const char *head_ref,
		     const char *base_sha)
{
	json_t *p = ts_payload("github/pull_request/opened.payload.json");
	json_object_set_new(p, "number", json_integer(7));
	ts_set(p, "repository.full_name", "acme/app");
	ts_set(p, "pull_request.head.sha", head_sha);
	ts_set(p, "pull_request.head.ref", head_ref);
	ts_set(p, "pull_request.head.repo.full_name", head_repo);
	ts_set(p, "pull_request.base.ref", "main");
	ts_set(p, "pull_request.base.sha", base_sha);
	ts_set(p, "pull_request.base.repo.full_name", "acme/app");
	char *s = ts_dump(p);
	json_decref(p);
	return s;
}

static const char evil_pipeline[] = "version: 1\n"
				    "stages:\n"
				    "  test:\n"
				    "    run: echo EVIL_PIPELINE_RAN\n"
				    "  steal:\n"
				    "    secrets: [deploy_key]\n"
				    "    run: echo \"stolen [$DEPLOY_KEY]\"\n";

Test(serve, a_pull_request_from_a_fork_gets_no_secrets_and_the_base_pipeline, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	/* The fork's branch replaces the pipeline; the forge publishes it as refs/pull/7/head. */
	ts_sh("git -C '%s' checkout -q -b feature", e.repo);
	char *head = ts_git_commit(e.repo, ".runner.yml", evil_pipeline);
	ts_sh("git -C '%s' update-ref refs/pull/7/head %s && git -C '%s' checkout -q main", e.repo,
	      head, e.repo);

	char *body = pr_body("mallory/app", head, "feature", e.main_sha);
	long id =
		accepted(ts_deliver(e.srv.addr, "github", "pull_request", "pr-1", SECRET_GH, body));
	free(body);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert_not(json_is_true(json_object_get(run, "trusted")));
	cr_assert_str_eq(json_string_value(json_object_get(run, "ref")), "refs/pull/7/head");
	/* The base branch's pipeline ran on the pull request's tree... */
	char *log = stage_log(&e, id, "test");
	cr_assert_null(strstr(log, "EVIL_PIPELINE_RAN"), "%s", log);
	cr_assert_not_null(strstr(log, "event=pull_request branch=feature"), "%s", log);
	cr_assert_not_null(strstr(log, head), "the pull request's commit: %s", log);
	free(log);
	/* ...without the stage that needs a secret, and without any secret; and the forge's
	 * status says that stages were left out, not just "passed". */
	cr_assert_null(stage_of(run, "publish"));
	cr_assert_null(stage_of(run, "steal"));
	json_decref(run);
	cr_assert(got_status(&e, "success", "secrets left out (pull request from a fork)", 30),
		  "no success status saying that stages were left out");
	char *spec = ts_sh_out("grep -rl '" DEPLOY "' '%s/data/repos' || true", e.dir);
	cr_assert_str_eq(spec, "", "the secret is nowhere in the run record: %s", spec);
	free(spec);

	/* The same pull request from a branch of the repository itself is trusted: its own
	 * pipeline, with secrets (masked). */
	body = pr_body("acme/app", head, "feature", e.main_sha);
	id = accepted(ts_deliver(e.srv.addr, "github", "pull_request", "pr-2", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert(json_is_true(json_object_get(run, "trusted")));
	log = stage_log(&e, id, "steal");
	cr_assert_not_null(strstr(log, "stolen [***]"), "%s", log);
	free(log);
	json_decref(run);

	/* GitLab: a merge request from another project is a fork as well. */
	ts_sh("git -C '%s' update-ref refs/merge-requests/3/head %s", e.repo, head);
	json_t *p = ts_payload("gitlab/merge_request.json");
	ts_set(p, "project.path_with_namespace", "org/app");
	ts_set(p, "object_attributes.last_commit.id", head);
	ts_set(p, "object_attributes.source_branch", "feature");
	ts_set(p, "object_attributes.target_branch", "main");
	json_object_set_new(json_object_get(p, "object_attributes"), "iid", json_integer(3));
	json_object_set_new(json_object_get(p, "object_attributes"), "source_project_id",
			    json_integer(99));
	char *mr = ts_dump(p);
	json_decref(p);
	id = accepted(
		ts_deliver(e.srv.addr, "gitlab", "Merge Request Hook", "mr-1", SECRET_GL, mr));
	free(mr);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert_not(json_is_true(json_object_get(run, "trusted")));
	cr_assert_str_eq(json_string_value(json_object_get(run, "ref")),
			 "refs/merge-requests/3/head");
	log = stage_log(&e, id, "test");
	cr_assert_null(strstr(log, "EVIL_PIPELINE_RAN"), "%s", log);
	free(log);
	json_decref(run);
	free(head);
	stop(&e);
}

#define GIT "git -c user.email=t@example.com -c user.name=t"

/* A committed pipeline file that is a symbolic link out of the repository is not read
 * (the run process is not sandboxed: its lines came back in the run's error message, and
 * from there in the forge's status), nor a link to a FIFO (the run would hang); a link
 * inside the repository is followed. */
Test(serve, a_pipeline_file_linked_out_of_the_repository_is_not_read, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *outside = tu_strf("%s/outside.yml", e.dir);
	tu_write(e.dir, "outside.yml", "TOPSECRET_KEY: x\n");
	ts_sh("cd '%s' && rm .runner.yml && ln -s '%s' .runner.yml && " GIT " add -A && " GIT
	      " commit -qm link",
	      e.repo, outside);
	char *sha = ts_sh_out("git -C '%s' rev-parse HEAD", e.repo);
	long id = push(&e, "link-1", "main", sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	char *dump = json_dumps(run, 0);
	cr_assert_null(strstr(dump, "TOPSECRET"), "the outside file was read: %s", dump);
	cr_assert_not_null(strstr(dump, "leads outside the repository"), "%s", dump);
	free(dump);
	json_decref(run);
	free(sha);
	/* Inside the repository: followed. */
	ts_sh("cd '%s' && git show HEAD~1:.runner.yml >ci.yml && rm .runner.yml && "
	      "ln -s ci.yml .runner.yml && " GIT " add -A && " GIT " commit -qm inside",
	      e.repo);
	sha = ts_sh_out("git -C '%s' rev-parse HEAD", e.repo);
	id = push(&e, "link-2", "main", sha);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	free(sha);
	free(outside);
	stop(&e);
}

/* The base branch's pipeline reads its gate's baseline from the base branch too: a fork's
 * pull request that adds a token and rewrites `.runner-baseline.json` to list it is
 * blocked; the same change from a branch of the repository (trusted, its own pipeline and
 * files) passes on its baseline. */
Test(serve, a_fork_cannot_baseline_its_own_findings, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	tu_write(e.repo, ".runner-baseline.json", "{\"findings\": []}\n");
	char *base = ts_git_commit(e.repo, ".runner.yml",
				   "version: 1\n"
				   "gate: { baseline: .runner-baseline.json }\n"
				   "stages:\n"
				   "  secrets: { uses: secrets, with: { paths: [src] } }\n");
	ts_sh("git -C '%s' checkout -q -b feature", e.repo);
	tu_write(e.repo, "src/config.py", "TOKEN = \"ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\"\n");
	struct tu_result r = tu_runner_run(e.repo, "scan", "secrets", "src", "--format", "json",
					   "-o", ".runner-baseline.json", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	tu_result_free(&r);
	char *head = ts_git_commit(e.repo, "src/config.py",
				   "TOKEN = \"ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\"\n");
	ts_sh("git -C '%s' update-ref refs/pull/7/head %s && git -C '%s' checkout -q main", e.repo,
	      head, e.repo);
	char *body = pr_body("mallory/app", head, "feature", base);
	long id =
		accepted(ts_deliver(e.srv.addr, "github", "pull_request", "bl-1", SECRET_GH, body));
	free(body);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "blocked");
	json_decref(run);
	body = pr_body("acme/app", head, "feature", base);
	id = accepted(ts_deliver(e.srv.addr, "github", "pull_request", "bl-2", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	free(base);
	free(head);
	stop(&e);
}

/* A connection to the server's port, from 127.0.0.1. */
static int connect_server(const struct env *e)
{
	const char *colon = strrchr(e->srv.addr, ':');
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(colon + 1)) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s, 0);
	cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0, "%s", strerror(errno));
	return s;
}

/* Whether the server closed s within timeout_s (a read gives end of file or an error). */
static bool closed_within(int s, double timeout_s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0) {
		return false;
	}
	char c;
	return recv(s, &c, 1, MSG_DONTWAIT) <= 0;
}

/* A client that sends a byte now and then, never idle for connection_timeout, is cut off
 * at request_timeout (it would hold its connection, and its share of the body budget, for
 * ever); and one address holds at most connections_per_ip connections at once. */
Test(serve, slow_clients_are_cut_off_and_capped_per_address, .timeout = 60)
{
	struct env e;
	start_limits(&e,
		     "{ max_body: 64KiB, max_inflight: 64KiB, concurrency: 2, connections: 16, "
		     "connections_per_ip: 2, connection_timeout: 30s, request_timeout: 2s }",
		     NULL, 0);
	int slow = connect_server(&e);
	static const char head[] = "POST /hooks/github HTTP/1.1\r\nHost: x\r\n";
	cr_assert_eq(send(slow, head, sizeof(head) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
	bool cut = false;
	double t0 = ts_now();
	while (!cut && ts_now() - t0 < 15) {
		cut = send(slow, "X-A: b\r\n", 8, MSG_NOSIGNAL) < 0 || closed_within(slow, 0.4);
	}
	cr_assert(cut, "a client trickling its headers kept its connection for 15 s");
	close(slow);
	/* Two connections from one address; a third is closed at once, and /healthz answers
	 * again once they are gone. */
	int a = -1, b = -1;
	bool both = false;
	/* (The server counts the trickling client's connection until it has cleaned it up,
	 * which may come just after the close: tried again for a few seconds.) */
	for (int i = 0; i < 30 && !both; i++) {
		if (a >= 0) {
			close(a);
			close(b);
			usleep(100000);
		}
		a = connect_server(&e);
		b = connect_server(&e);
		both = !closed_within(a, 0.3) && !closed_within(b, 0.3);
	}
	cr_assert(both, "two connections from one address were not both kept");
	int c = connect_server(&e);
	/* (Well before request_timeout, which closes every connection after 2 s.) */
	cr_assert(closed_within(c, 1), "a third connection from the same address was kept");
	close(c);
	close(a);
	close(b);
	char *url = tu_strf("http://%s/healthz", e.srv.addr);
	struct ts_response r = { 0 };
	for (int i = 0; i < 50 && r.status != 200; i++) {
		ts_response_free(&r);
		r = ts_get(url);
		if (r.status != 200) {
			usleep(100000);
		}
	}
	cr_assert_eq(r.status, 200);
	ts_response_free(&r);
	free(url);
	stop(&e);
}

/*
 * On top of base (main's head), a benign change (branch `docs`, README) and an evil one
 * (branch `feature`, evil_text at evil_path), each delivered as the pull request: from a
 * fork with the benign change (passes on the base's own exemptions), from a fork with the
 * evil one (blocked: the exemption it wrote or chose is not trusted), and from a branch of
 * the repository with the evil one (trusted: passes). tag names the deliveries and makes
 * the commits new.
 */
static void expect_fork_exemptions(struct env *e, const char *base, const char *evil_path,
				   const char *evil_text, const char *tag)
{
	ts_sh("git -C '%s' checkout -q -B docs %s", e->repo, base);
	char *benign = ts_git_commit(e->repo, "src/README.md", tag);
	ts_sh("git -C '%s' checkout -q -B feature %s", e->repo, base);
	char *evil = ts_git_commit(e->repo, evil_path, evil_text);
	ts_sh("git -C '%s' checkout -q main", e->repo);
	static const struct {
		const char *repo, *want;
		bool evil;
	} cases[] = {
		{ "mallory/app", "passed", false },
		{ "mallory/app", "blocked", true },
		{ "acme/app", "passed", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *head = cases[i].evil ? evil : benign;
		ts_sh("git -C '%s' update-ref refs/pull/7/head %s", e->repo, head);
		char *body = pr_body(cases[i].repo, head, cases[i].evil ? "feature" : "docs", base);
		char *delivery = tu_strf("%s-%zu", tag, i);
		long id = accepted(ts_deliver(e->srv.addr, "github", "pull_request", delivery,
					      SECRET_GH, body));
		free(delivery);
		free(body);
		json_t *run = ts_wait_run(e->srv.addr, id, 60);
		expect_state(run, cases[i].want);
		json_decref(run);
	}
	free(benign);
	free(evil);
}

/* Inline suppressions in the files a fork's pull request changed are the pull request's
 * own, and not trusted: a token it adds with a `runner:ignore` beside it blocks. One in a
 * file it did not change (the base branch's own fixture) still suppresses. The same change
 * from a branch of the repository (trusted) passes on its suppression. */
Test(serve, a_fork_cannot_suppress_its_own_findings_inline, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	static const char ignored[] = "TOKEN = \"ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\"  # "
				      "runner:ignore secret.github-pat -- test fixture\n";
	tu_write(e.repo, "src/fixture.py", ignored);
	char *base = ts_git_commit(e.repo, ".runner.yml",
				   "version: 1\nstages:\n"
				   "  secrets: { uses: secrets, with: { paths: [src] } }\n");
	expect_fork_exemptions(&e, base, "src/new.py", ignored, "in");
	free(base);
	stop(&e);
}

/* The same for paths: the secrets scan's `allowlist.paths`, the gate's allow entries that
 * name a path, and the places a scan skips (vendored directories, here) do not cover a file
 * a fork's pull request changed (it chose where the file lies); the base branch's own
 * files there stay covered. */
Test(serve, a_fork_cannot_place_its_findings_under_exempted_paths, .timeout = 180)
{
	struct env e;
	start(&e, NULL, 0);
	static const char token[] = "TOKEN = \"ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\"\n";
	static const char weak[] = "import hashlib\nh = hashlib.md5(b\"x\")\n";
	tu_write(e.repo, "src/fixtures/base.py", token);
	tu_write(e.repo, "src/legacy/old.py", weak);
	tu_write(e.repo, "src/vendor/lib/old.py", token);
	char *base = ts_git_commit(
		e.repo, ".runner.yml",
		"version: 1\nstages:\n"
		"  secrets: { uses: secrets, with: { paths: [src],"
		" allowlist: { paths: [src/fixtures/*] } } }\n"
		"  sast:\n    uses: sast\n    with:\n      paths: [src]\n      fail-on: low\n"
		"      allow: [{ id: py.weak-hash, path: src/legacy/*, reason: old,"
		" expires: 2099-01-01 }]\n");
	/* One change for each kind of path exemption. */
	expect_fork_exemptions(&e, base, "src/fixtures/new.py", token, "ap");
	expect_fork_exemptions(&e, base, "src/legacy/new.py", weak, "al");
	expect_fork_exemptions(&e, base, "src/vendor/lib/new.py", token, "vd");
	free(base);
	stop(&e);
}

static const char pom_fmt[] =
	"<project><modelVersion>4.0.0</modelVersion><groupId>x</groupId><artifactId>%s</artifactId>"
	"<version>1</version><dependencies><dependency><groupId>org.apache.logging.log4j</groupId>"
	"<artifactId>log4j-core</artifactId><version>%s</version></dependency></dependencies>"
	"</project>\n";

/* The dependency scan does not walk into vendor/ (nor node_modules/ or dot-directories),
 * but a lockfile a fork's pull request put there is read: it chose the place. The base
 * branch's own vendored copy stays skipped. */
Test(serve, a_fork_cannot_place_a_lockfile_where_the_dependency_scan_skips, .timeout = 180)
{
	struct env e;
	char *dir = tu_tmpdir();
	char *db = tu_strf("%s/osv.db", dir), *adv = tu_fixture("osv/maven");
	struct tu_result ir = tu_runner_run(dir, "db", "import", "--db", db, adv, NULL);
	cr_assert_eq(ir.status, 0, "%s", ir.err);
	tu_result_free(&ir);
	setenv("RUNNER_DB", db, 1);
	start(&e, NULL, 0);
	char *fixed = tu_strf(pom_fmt, "app", "2.17.1");
	char *vuln = tu_strf(pom_fmt, "lib", "2.14.1");
	tu_write(e.repo, "src/pom.xml", fixed);
	tu_write(e.repo, "src/vendor/lib/pom.xml", vuln);
	char *base = ts_git_commit(e.repo, ".runner.yml",
				   "version: 1\nstages:\n"
				   "  deps: { uses: dependency-scan, with: { paths: [src] } }\n");
	expect_fork_exemptions(&e, base, "src/vendor/new/pom.xml", vuln, "dv");
	free(base);
	free(fixed);
	free(vuln);
	stop(&e);
	unsetenv("RUNNER_DB");
	free(db);
	free(adv);
	free(dir);
}

/* The server runs on an export of the commit, which has no index: a file the commit holds
 * although a later .gitignore matches it is scanned (it used to be skipped as ignored, and
 * the push passed with the secret in it). */
Test(serve, a_committed_file_that_gitignore_matches_is_scanned, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	tu_write(e.repo, "deploy/prod.env", "TOKEN=ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\n");
	free(ts_git_commit(e.repo, ".runner.yml",
			   "version: 1\nstages:\n  secrets: { uses: secrets }\n"));
	char *sha = ts_git_commit(e.repo, ".gitignore", "*.env\n");
	long id = push(&e, "gi-1", "main", sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "blocked");
	json_decref(run);
	free(sha);
	stop(&e);
}

/* A fork's run loads the stages' own rule packs (`rules:`) from the base branch: a pull
 * request that rewrites the team's rule so that it no longer matches, and adds a call it
 * used to catch, is blocked; from a branch of the repository (trusted) its own rules
 * apply. */
Test(serve, a_fork_cannot_rewrite_the_rules, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	static const char rule[] = "kind: sast\nrules:\n  - id: team.legacy-unsafe\n"
				   "    languages: [c, cpp]\n    severity: high\n"
				   "    message: legacy_unsafe is deprecated\n"
				   "    pattern: %s(...)\n";
	char *good = tu_strf(rule, "legacy_unsafe");
	tu_write(e.repo, "rules/team.yml", good);
	tu_write(e.repo, "src/ok.c", "void f(void) { modern_safe(1); }\n");
	char *base =
		ts_git_commit(e.repo, ".runner.yml",
			      "version: 1\nstages:\n  sast:\n    uses: sast\n"
			      "    with: { paths: [src], rules: [rules], default-rules: false }\n");
	ts_sh("git -C '%s' checkout -q -b feature", e.repo);
	char *weak = tu_strf(rule, "never_called_anywhere");
	tu_write(e.repo, "rules/team.yml", weak);
	char *head = ts_git_commit(e.repo, "src/a.c", "void g(void) { legacy_unsafe(2); }\n");
	ts_sh("git -C '%s' update-ref refs/pull/7/head %s && git -C '%s' checkout -q main", e.repo,
	      head, e.repo);
	char *body = pr_body("mallory/app", head, "feature", base);
	long id =
		accepted(ts_deliver(e.srv.addr, "github", "pull_request", "ru-1", SECRET_GH, body));
	free(body);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "blocked");
	json_decref(run);
	body = pr_body("acme/app", head, "feature", base);
	id = accepted(ts_deliver(e.srv.addr, "github", "pull_request", "ru-2", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	free(good);
	free(weak);
	free(base);
	free(head);
	stop(&e);
}

/* A run whose end cannot be recorded (the queue locked by another writer for longer than
 * the store waits, as a full disk or a stuck backup would) is recorded once the store can
 * take it again, from the run's outcome: it does not stay `running` until a restart. */
Test(serve, a_run_end_the_store_could_not_take_is_recorded_later, .timeout = 180)
{
	struct env e;
	start(&e, NULL, 0);
	char *sha = ts_git_commit(e.repo, ".runner.yml",
				  "version: 1\nstages:\n  s: { run: \"sleep 3\" }\n");
	long id = push(&e, "late-1", "main", sha);
	double t0 = ts_now();
	for (;;) {
		json_t *run = ts_run(e.srv.addr, id);
		bool running = !strcmp(state_of(run), "running");
		json_decref(run);
		if (running) {
			break;
		}
		cr_assert_lt(ts_now() - t0, 30, "the run never started");
		ts_sleep(0.05);
	}
	/* Lock the queue for longer than the store's busy wait (about 20 s) while the run
	 * ends. */
	char *db_path = tu_strf("%s/data/queue.db", e.dir);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	cr_assert_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	/* Until the server says it could not record the end (its log is its stderr). */
	bool failed = false;
	for (t0 = ts_now(); !failed && ts_now() - t0 < 90; ts_sleep(0.2)) {
		char *log = tu_read(e.srv.log);
		failed = log && strstr(log, "cannot record the end of run");
		free(log);
	}
	cr_assert(failed, "the store never gave up waiting for the lock");
	cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	json_t *run = ts_wait_run(e.srv.addr, id, 20);
	expect_state(run, "passed");
	json_decref(run);
	free(db_path);
	free(sha);
	stop(&e);
}

Test(serve, a_newer_push_cancels_the_older_run_of_the_branch, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *slow = ts_git_commit(e.repo, "mode", "slow\n");
	char *fast = ts_git_commit(e.repo, "mode", "fast\n");
	long first = push(&e, "d-slow", "main", slow);
	/* Wait until its stage has started the long sleep (the log says so). */
	double t0 = ts_now();
	char *u;
	cr_assert_geq(asprintf(&u, "http://%s/api/runs/%ld/logs/test", e.srv.addr, first), 0);
	for (;;) {
		struct ts_response r = ts_get(u);
		bool sleeping = r.status == 200 && strstr(r.body, "sleeper=");
		ts_response_free(&r);
		if (sleeping) {
			break;
		}
		cr_assert_lt(ts_now() - t0, 60, "the first run never started its stage");
		ts_sleep(0.05);
	}
	free(u);
	long second = push(&e, "d-fast", "main", fast);
	json_t *run = ts_wait_run(e.srv.addr, first, 60);
	expect_state(run, "cancelled");
	char *why;
	cr_assert_geq(asprintf(&why, "superseded by run %ld", second), 0);
	cr_assert_str_eq(json_string_value(json_object_get(run, "message")), why);
	json_decref(run);
	run = ts_wait_run(e.srv.addr, second, 60);
	expect_state(run, "passed");
	json_decref(run);
	/* The cancelled run's status says so. */
	bool seen = false;
	ts_recorder_wait(e.rec, 6, 30);
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		const char *b = json_string_value(json_object_get(q, "body"));
		seen |= strstr(b, "\"error\"") && strstr(b, why);
		json_decref(q);
	}
	cr_assert(seen, "a status for the superseded run");
	/* No process of the cancelled run is still around. Stages have their own PID
	 * namespace, so the pid the stage printed is not the host's: the sleep is found by its
	 * unique argument. */
	char *log = stage_log(&e, first, "test");
	cr_assert_not_null(strstr(log, "sleeper="), "%s", log);
	cr_assert_eq(tu_procs_matching("60.7173"), 0, "the cancelled stage's sleep is gone");
	free(log);
	free(why);
	free(slow);
	free(fast);
	stop(&e);
}

Test(serve, shutdown_puts_running_runs_back_and_a_restart_runs_them, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *slow = ts_git_commit(e.repo, "mode", "slow\n");
	long id = push(&e, "d-slow", "main", slow);
	double t0 = ts_now();
	for (;;) {
		json_t *run = ts_run(e.srv.addr, id);
		bool running = strcmp(state_of(run), "running") == 0 && stage_of(run, "test");
		json_decref(run);
		if (running) {
			break;
		}
		cr_assert_lt(ts_now() - t0, 60);
		ts_sleep(0.05);
	}
	cr_assert_eq(ts_stop(&e.srv, 30), 0, "SIGTERM: an orderly stop");
	cr_assert_lt(ts_now() - t0, 30, "the grace period is short here");
	char *log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "\"event\":\"run.requeued\""), "%s", log);
	/* Said once ("re-queued: re-queued: ..." before). */
	cr_assert_not_null(strstr(log, "\"msg\":\"run 1 re-queued: the server shut down while it "
				       "ran\""),
			   "%s", log);
	free(log);
	ts_restart(&e.srv);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert_eq(json_integer_value(json_object_get(run, "attempts")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(run, "run_id")), "1.2");
	json_decref(run);
	free(slow);
	/* SIGINT (Ctrl-C) stops it the same way (SIGHUP reloads: below). */
	cr_assert_eq(ts_stop_with(&e.srv, SIGINT, 30), 0, "SIGINT: an orderly stop");
	log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "\"msg\":\"signal 2: stopping"), "%s", log);
	free(log);
	ts_restart(&e.srv);
	stop(&e);
}

/* Wait until the log has line `needle` (the server writes it from another thread). */
static void wait_log(struct env *e, const char *needle, double timeout_s)
{
	double t0 = ts_now();
	for (;;) {
		char *log = tu_read(e->srv.log);
		bool found = log && strstr(log, needle);
		if (found || ts_now() - t0 > timeout_s) {
			cr_assert(found, "'%s' not in the log: %s", needle, log ? log : "");
			free(log);
			return;
		}
		free(log);
		ts_sleep(0.05);
	}
}

#define SECRET_NEW "rotated-webhook-secret-9876543210"

/* A server configuration with one repository, acme/app, whose webhook secret is secret;
 * extra goes at line 6. */
static char *reload_config(struct env *e, const char *listen, const char *extra, const char *secret)
{
	char *cfg;
	cr_assert_geq(asprintf(&cfg,
			       "listen: %s\n"
			       "data_dir: %s/data\n"
			       "log_level: debug\n"
			       "shutdown_grace: 200ms\n"
			       "supersede: false\n"
			       "%s"
			       "repositories:\n"
			       "  - name: acme/app\n"
			       "    forge: github\n"
			       "    secret: %s\n"
			       "    clone_url: %s\n"
			       "    api: { url: '%s', token: gh-api-token }\n"
			       "    secrets: { deploy_key: " DEPLOY " }\n",
			       listen, e->dir, extra, secret, e->repo, ts_recorder_url(e->rec)),
		      0);
	return cfg;
}

/* A push of a new commit (the replay guard takes the same body twice for a replay). */
static long push_signed(struct env *e, const char *delivery, const char *secret, long status)
{
	char *sha = ts_git_commit(e->repo, "delivery", delivery);
	char *body = push_body("acme/app", "refs/heads/main", sha);
	free(sha);
	struct ts_response r = ts_deliver(e->srv.addr, "github", "push", delivery, secret, body);
	free(body);
	if (status != 202) {
		cr_assert_eq(r.status, status, "%s: %ld %s", delivery, r.status, r.body);
		ts_response_free(&r);
		return 0;
	}
	return accepted(r);
}

/* Wait until run id has left the queue (started, or already done). */
static void wait_started(struct env *e, long id, double timeout_s)
{
	double t0 = ts_now();
	for (;;) {
		json_t *run = ts_run(e->srv.addr, id);
		bool queued = strcmp(state_of(run), "queued") == 0;
		json_decref(run);
		if (!queued) {
			return;
		}
		cr_assert_lt(ts_now() - t0, timeout_s, "run %ld did not start", id);
		ts_sleep(0.02);
	}
}

static void expect_queued_for(struct env *e, long id, double s)
{
	ts_sleep(s);
	json_t *run = ts_run(e->srv.addr, id);
	expect_state(run, "queued");
	json_decref(run);
}

/* GET http://addr<path> (open on 127.0.0.1): 200, with or without needle in it. */
static void expect_page(struct env *e, const char *path, const char *needle, bool there)
{
	char *url = tu_strf("http://%s%s", e->srv.addr, path);
	struct ts_response r = ts_get(url);
	cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
	cr_assert_eq(strstr(r.body, needle) != NULL, there, "'%s' %s in %s: %s", needle,
		     there ? "not" : "", path, r.body);
	ts_response_free(&r);
	free(url);
}

Test(serve, sighup_reloads_a_valid_configuration_and_keeps_the_one_in_force_otherwise,
     .timeout = 120)
{
	struct env e = { .dir = tu_tmpdir() };
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, pipeline);
	e.rec = ts_recorder_start(0);
	char *cfg = reload_config(&e, "127.0.0.1:0", "", SECRET_GH);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	long first = push_signed(&e, "d-1", SECRET_GH, 202);
	wait_started(&e, first, 60);

	/* The webhook secret rotated and the server paused, while a run may be going: the
	 * run is not disturbed, the old secret is refused from then on, and new deliveries
	 * are queued without starting. */
	cfg = reload_config(&e, "127.0.0.1:0", "paused: true\n", SECRET_NEW);
	ts_reload(&e.srv, cfg);
	free(cfg);
	ts_wait_log(&e.srv, "\"event\":\"server.reloaded\"", 1, 30);
	json_t *run = ts_wait_run(e.srv.addr, first, 60);
	expect_state(run, "passed");
	json_decref(run);
	push_signed(&e, "d-2", SECRET_GH, 401);
	long second = push_signed(&e, "d-3", SECRET_NEW, 202);
	expect_queued_for(&e, second, 1.5);
	/* The pages say why queued runs do not start (they only showed them queued). */
	expect_page(&e, "/", "Paused", true);
	char *page = tu_strf("/runs/%ld", second);
	expect_page(&e, page, "Paused", true);

	/* An invalid file: said with file:line:col, and the configuration in force stays. */
	cfg = reload_config(&e, "127.0.0.1:0", "paused: false\nlimitz: { concurrency: 2 }\n",
			    SECRET_GH);
	ts_reload(&e.srv, cfg);
	free(cfg);
	ts_wait_log(&e.srv, "\"event\":\"server.reload_failed\"", 1, 30);
	char *log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "server.yml:7:1: unknown key 'limitz'"), "%s", log);
	free(log);
	push_signed(&e, "d-4", SECRET_GH, 401);
	long third = push_signed(&e, "d-5", SECRET_NEW, 202);
	expect_queued_for(&e, third, 1.0);

	/* What needs a restart (the listening address): refused whole, the key named. */
	cfg = reload_config(&e, "127.0.0.1:1", "paused: false\n", SECRET_NEW);
	ts_reload(&e.srv, cfg);
	free(cfg);
	ts_wait_log(&e.srv, "\"event\":\"server.reload_failed\"", 2, 30);
	log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "changes listen, which takes a restart"), "%s", log);
	free(log);
	expect_queued_for(&e, second, 1.0);

	/* The file gone (a deployment that moved it): said in words, without a position it
	 * does not have ("SIGHUP: server.yml is No such file or directory", "server.yml:0:0"
	 * before). */
	cr_assert_eq(unlink(e.srv.config), 0);
	cr_assert_eq(kill(e.srv.pid, SIGHUP), 0);
	ts_wait_log(&e.srv, "\"event\":\"server.reload_failed\"", 3, 30);
	log = tu_read(e.srv.log);
	char *said = tu_strf("\"msg\":\"SIGHUP: cannot read %s (No such file or directory); the "
			     "configuration in force stays\"",
			     e.srv.config);
	cr_assert_not_null(strstr(log, said), "%s", log);
	free(said);
	said = tu_strf("\"msg\":\"%s: cannot open the configuration", e.srv.config);
	cr_assert_not_null(strstr(log, said), "%s", log);
	free(said);
	cr_assert_null(strstr(log, ":0:0:"), "%s", log);
	free(log);

	/* Unpaused: the queued runs start. */
	cfg = reload_config(&e, "127.0.0.1:0", "paused: false\n", SECRET_NEW);
	ts_reload(&e.srv, cfg);
	free(cfg);
	ts_wait_log(&e.srv, "\"event\":\"server.reloaded\"", 2, 30);
	long ids[] = { second, third };
	for (size_t i = 0; i < 2; i++) {
		run = ts_wait_run(e.srv.addr, ids[i], 60);
		expect_state(run, "passed");
		json_decref(run);
	}
	expect_page(&e, "/", "Paused", false);
	expect_page(&e, page, "Paused", false);
	free(page);
	log = tu_read(e.srv.log);
	cr_assert_null(strstr(log, SECRET_NEW), "a secret in the log");
	cr_assert_null(strstr(log, SECRET_GH), "a secret in the log");
	free(log);
	stop(&e);
}

/* The secret lines of a rotation in reload_config's `secret`: the new secret, and the old
 * one accepted until `expires`. */
static char *rotation(const char *expires)
{
	char *s;
	cr_assert_geq(asprintf(&s,
			       SECRET_NEW "\n"
					  "    previous_secret: " SECRET_GH "\n"
					  "    previous_secret_expires: %s",
			       expires),
		      0);
	return s;
}

Test(serve, a_rotated_webhook_secret_is_accepted_until_the_previous_one_expires, .timeout = 120)
{
	struct env e = { .dir = tu_tmpdir() };
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, pipeline);
	e.rec = ts_recorder_start(0);
	/* Paused: what is accepted is queued, and nothing needs to run. */
	char *until = tu_utc(3600, true);
	char *secret = rotation(until);
	char *cfg = reload_config(&e, "127.0.0.1:0", "paused: true\n", secret);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	free(secret);

	/* The forge still signs with the old secret: accepted, and the log says so (with
	 * the end, never a secret); the new one is accepted quietly; any other is refused. */
	cr_assert_gt(push_signed(&e, "d-1", SECRET_GH, 202), 0);
	ts_wait_log(&e.srv, "\"event\":\"delivery.previous_secret\"", 1, 30);
	cr_assert_gt(push_signed(&e, "d-2", SECRET_NEW, 202), 0);
	push_signed(&e, "d-3", "another-webhook-secret-000000000", 401);
	cr_assert_eq(ts_log_count(&e.srv, "\"event\":\"delivery.previous_secret\""), 1);
	char *log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, until), "%s", log);
	free(log);

	/* The rotation's end has passed (a reload): a warning, and the old secret is refused. */
	char *yesterday = tu_utc(-86400, false);
	secret = rotation(yesterday);
	cfg = reload_config(&e, "127.0.0.1:0", "paused: true\n", secret);
	ts_reload(&e.srv, cfg);
	free(cfg);
	free(secret);
	ts_wait_log(&e.srv, "\"event\":\"server.reloaded\"", 1, 30);
	cr_assert_eq(ts_log_count(&e.srv, "\"event\":\"config.warning\""), 1);
	push_signed(&e, "d-4", SECRET_GH, 401);
	cr_assert_gt(push_signed(&e, "d-5", SECRET_NEW, 202), 0);
	log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "server.yml:12:30: the previous webhook secret of "
				       "'acme/app' expired"),
			   "%s", log);
	cr_assert_null(strstr(log, SECRET_NEW), "a secret in the log");
	cr_assert_null(strstr(log, SECRET_GH), "a secret in the log");
	free(log);
	free(yesterday);
	free(until);
	stop(&e);
}

Test(serve, retention_prunes_finished_runs_at_start, .timeout = 120)
{
	struct env e;
	start(&e, "retention: { runs: 1d }\n", 0);
	long id = push(&e, "d-1", "main", e.main_sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	cr_assert(tu_exists("%s/data/repos/github-acme+app/runs/%ld.1/outcome.json", e.dir, id));
	/* The newest run of the repository (runs/latest) is kept whatever its age: a later
	 * one makes the first prunable. */
	char *sha2 = ts_git_commit(e.repo, "later.txt", "later\n");
	long later = push(&e, "d-2", "main", sha2);
	free(sha2);
	run = ts_wait_run(e.srv.addr, later, 60);
	expect_state(run, "passed");
	json_decref(run);
	/* A run with statuses still to send is not pruned: let them all go out first. */
	char *u;
	cr_assert_geq(asprintf(&u, "http://%s/metrics", e.srv.addr), 0);
	double t0 = ts_now();
	for (;;) {
		struct ts_response r = ts_get(u);
		bool sent = r.body && strstr(r.body, "runner_outbox_pending 0");
		ts_response_free(&r);
		if (sent) {
			break;
		}
		cr_assert_lt(ts_now() - t0, 30);
		ts_sleep(0.05);
	}
	free(u);
	cr_assert_eq(ts_stop(&e.srv, 30), 0);
	/* A day is the shortest period: the run ended two days ago, as far as the queue
	 * knows. */
	char *db_path = tu_strf("%s/data/queue.db", e.dir);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
				  "UPDATE jobs SET created_ms = created_ms - 172800000,"
				  " started_ms = started_ms - 172800000,"
				  " finished_ms = finished_ms - 172800000",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	free(db_path);
	/* A run directory an attempt was building when it died, under its temporary name: the
	 * server removes it as it starts, and only it. */
	tu_write(e.dir, "data/repos/github-acme+app/runs/.new-99.1.a1b2c3/claim.json", "{}");
	ts_restart(&e.srv);
	/* The first start's pass found nothing; the second one prunes the run (counts only),
	 * and counts the newest run, which latest points at, as kept. */
	wait_log(&e, "\"event\":\"retention.pruned\",\"msg\":\"retention: pruned 1 finished run(s)",
		 30);
	wait_log(&e,
		 "retention: pruned 1 finished run(s) and 0 replay-guard entries; kept 1 old "
		 "run(s) that runs/latest points at\"",
		 30);
	wait_log(&e, "\"latest_kept\":1", 30);
	wait_log(&e, "\"event\":\"server.unclaimed\"", 30);
	cr_assert_not(tu_exists("%s/data/repos/github-acme+app/runs/.new-99.1.a1b2c3", e.dir),
		      "a half-made run directory is left");
	cr_assert_not(tu_exists("%s/data/repos/github-acme+app/runs/%ld.1", e.dir, id),
		      "the run directory is gone");
	cr_assert(tu_exists("%s/data/repos/github-acme+app/runs/latest/outcome.json", e.dir),
		  "the newest run is kept, and latest points at it");
	cr_assert_geq(asprintf(&u, "http://%s/api/runs/%ld", e.srv.addr, id), 0);
	struct ts_response r = ts_get(u);
	cr_assert_eq(r.status, 404, "the run is gone: %ld %s", r.status, r.body);
	ts_response_free(&r);
	free(u);
	cr_assert_geq(asprintf(&u, "http://%s/metrics", e.srv.addr), 0);
	expect(ts_get(u), 200, "runner_runs_pruned_total 1");
	free(u);
	/* The replay guard has its own period (90 days): the delivery is still known. */
	char *body = push_body("acme/app", "refs/heads/main", e.main_sha);
	expect(ts_deliver(e.srv.addr, "github", "push", "d-1", SECRET_GH, body), 202, "duplicate");
	free(body);
	stop(&e);
}

Test(serve, status_failures_are_retried_and_never_change_the_result, .timeout = 120)
{
	struct env e;
	/* The first four calls fail with 500: the first status gives up after three
	 * attempts, the second needs two. */
	start(&e, NULL, 4);
	long id = push(&e, "d-1", "main", e.main_sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	cr_assert_geq(ts_recorder_wait(e.rec, 6, 30), 6);
	ts_sleep(0.5);
	run = ts_run(e.srv.addr, id);
	expect_state(run, "passed");
	json_decref(run);
	char *u;
	cr_assert_geq(asprintf(&u, "http://%s/metrics", e.srv.addr), 0);
	expect(ts_get(u), 200, "runner_outbox_failed 1");
	free(u);
	char *log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "\"event\":\"outbox.retry\""));
	cr_assert_not_null(strstr(log, "\"event\":\"outbox.failed\""));
	free(log);
	stop(&e);
}

Test(serve, gitea_and_gitlab_pushes, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *body = push_body("acme/tea", "refs/heads/main", e.main_sha);
	long id = accepted(ts_deliver(e.srv.addr, "gitea", "push", "tea-1", SECRET_GT, body));
	free(body);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);

	json_t *p = ts_payload("gitlab/push.json");
	ts_set(p, "project.path_with_namespace", "org/app");
	ts_set(p, "after", e.main_sha);
	ts_set(p, "checkout_sha", e.main_sha);
	ts_set(p, "ref", "refs/heads/main");
	char *gl = ts_dump(p);
	json_decref(p);
	id = accepted(ts_deliver(e.srv.addr, "gitlab", "Push Hook", "gl-1", SECRET_GL, gl));
	free(gl);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);

	cr_assert_geq(ts_recorder_wait(e.rec, 6, 30), 6);
	bool tea = false, lab = false;
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		const char *auth = json_string_value(json_object_get(q, "authorization"));
		const char *tok = json_string_value(json_object_get(q, "private_token"));
		tea |= strstr(url, "/api/v1/repos/acme/tea/statuses/") && auth &&
		       strcmp(auth, "token gitea-api-token") == 0;
		lab |= strstr(url, "/api/v4/projects/org%2Fapp/statuses/") && tok &&
		       strcmp(tok, "gl-api-token") == 0;
		json_decref(q);
	}
	cr_assert(tea, "Gitea statuses");
	cr_assert(lab, "GitLab statuses");
	stop(&e);
}

/* What the recorder received for one blocked run: its one security notification (the
 * only call to /security-hook), and in *last_status the last commit status. */
static json_t *one_notification(struct ts_recorder *rec, json_t **last_status)
{
	json_t *note = NULL;
	*last_status = NULL;
	for (size_t i = 0; i < ts_recorder_count(rec); i++) {
		json_t *q = ts_recorder_get(rec, i);
		const char *u = json_string_value(json_object_get(q, "url"));
		if (u && strcmp(u, "/security-hook") == 0) {
			cr_assert_null(note, "one notification per blocked run");
			note = q;
		} else {
			json_decref(*last_status);
			*last_status = q;
		}
	}
	cr_assert_not_null(note, "no security notification");
	return note;
}

/*
 * The headline case through the server: a push of the log4shell example (pom.xml on
 * log4j-core 2.14.1) runs sast, secrets and the dependency scan from a real repository;
 * the scan blocks, the image is not pushed, the commit status says failure, and the
 * security team's webhook (the recording server stands in for Slack) gets the blocking
 * finding with a link to the run — and nothing of the repository's secrets.
 */
Test(serve, a_blocked_gate_notifies_the_security_team, .timeout = 180)
{
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	const char *root = getenv("RUNNER_SOURCE_ROOT");
	cr_assert_not_null(root);
	char *l4pipe = tu_readf("%s/examples/log4shell/.runner.yml", root);
	cr_assert_not_null(l4pipe);
	/* The example's pipeline, with the secret the deploy would use. */
	char *pipe;
	cr_assert_geq(
		asprintf(
			&pipe,
			"%s  notify-deploy:\n    needs: [dependency-scan]\n"
			"    secrets: [deploy_key]\n    run: echo \"deploying with $DEPLOY_KEY\"\n",
			l4pipe),
		0);
	free(e.main_sha);
	e.main_sha = ts_git_init(e.repo, pipe);
	ts_sh("cp -r '%s/examples/log4shell/pom.xml' '%s/examples/log4shell/src' '%s/' && cd '%s' "
	      "&& git add -A && git -c user.name=t -c user.email=t@t commit -qm sources",
	      root, root, e.repo, e.repo);
	free(e.main_sha);
	e.main_sha = ts_sh_out("git -C '%s' rev-parse HEAD", e.repo);
	/* The offline advisory database the server's runs use. */
	char *db, *adv = tu_fixture("osv/maven");
	cr_assert_geq(asprintf(&db, "%s/osv.db", e.dir), 0);
	struct tu_result ir = tu_runner_run(e.dir, "db", "import", "--db", db, adv, NULL);
	cr_assert_eq(ir.status, 0, "%s", ir.err);
	tu_result_free(&ir);
	setenv("RUNNER_DB", db, 1);

	e.rec = ts_recorder_start(0);
	const char *url = ts_recorder_url(e.rec);
	char *cfg;
	cr_assert_geq(
		asprintf(&cfg,
			 "listen: 127.0.0.1:0\n"
			 "data_dir: %s/data\n"
			 "public_url: http://ci.example\n"
			 "retry: { attempts: 3, backoff: 50ms, max_backoff: 200ms, timeout: 5s }\n"
			 "notifications:\n  security:\n    url: '%s/security-hook'\n"
			 "repositories:\n" GITHUB_REPO_ENTRY,
			 e.dir, url, e.repo, url),
		0);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);

	long id = push(&e, "delivery-log4shell", "main", e.main_sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "blocked");
	cr_assert_str_eq(
		json_string_value(json_object_get(stage_of(run, "dependency-scan"), "status")),
		"blocked");
	cr_assert_str_eq(json_string_value(json_object_get(stage_of(run, "sast"), "status")),
			 "passed");
	const char *img = json_string_value(json_object_get(stage_of(run, "image"), "status"));
	cr_assert(img && strcmp(img, "passed") != 0, "the image stage %s", img ? img : "?");
	json_decref(run);

	/* pending, pending, failure, and the notification, in some order. */
	cr_assert_geq(ts_recorder_wait(e.rec, 4, 30), 4);
	json_t *last_status = NULL;
	json_t *note = one_notification(e.rec, &last_status);
	const char *body = json_string_value(json_object_get(note, "body"));
	json_t *b = json_loads(body, 0, NULL);
	cr_assert_not_null(b, "the notification is JSON: %s", body);
	const char *text = json_string_value(json_object_get(b, "text"));
	cr_assert_not_null(text, "%s", body);
	cr_assert_not_null(strstr(body, "GHSA-jfh8-c2jx-5f7m"), "%s", body);
	/* The CVE id, which is what a security team searches by. */
	cr_assert_not_null(strstr(text, "CVE-2021-44228"), "%s", body);
	cr_assert_not_null(strstr(body, "critical"), "%s", body);
	cr_assert_not_null(strstr(body, "pom.xml"), "%s", body);
	cr_assert_not_null(strstr(body, "acme/app"), "%s", body);
	cr_assert_not_null(strstr(body, e.main_sha), "%s", body);
	char *link;
	cr_assert_geq(asprintf(&link, "http://ci.example/runs/%ld", id), 0);
	cr_assert_not_null(strstr(body, link), "%s", body);
	cr_assert_null(strstr(body, DEPLOY), "a secret in the notification");
	cr_assert_null(strstr(body, SECRET_GH));
	cr_assert_null(strstr(body, "gh-api-token"), "the forge's API token in the notification");
	cr_assert_null(strstr(body, "/security-hook"), "the notification's own URL in it");
	json_t *sb = json_loads(json_string_value(json_object_get(last_status, "body")), 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(sb, "state")), "failure");
	json_decref(sb);
	json_decref(b);
	json_decref(note);
	json_decref(last_status);
	free(link);
	unsetenv("RUNNER_DB");
	free(db);
	free(adv);
	free(pipe);
	free(l4pipe);
	stop(&e);
}

/* A push of ref from before to after, as GitHub sends it. */
static long push_ref(struct env *e, const char *delivery, const char *ref, const char *before,
		     const char *after)
{
	json_t *p = ts_payload("github/push/with-new-branch.payload.json");
	ts_set(p, "ref", ref);
	ts_set(p, "before", before);
	ts_set(p, "after", after);
	ts_set(p, "repository.full_name", "acme/app");
	ts_set(p, "repository.clone_url", "https://example.invalid/not-used.git");
	char *body = ts_dump(p);
	json_decref(p);
	long id = accepted(ts_deliver(e->srv.addr, "github", "push", delivery, SECRET_GH, body));
	free(body);
	return id;
}

/* A push of main from before to after. */
static long push_range(struct env *e, const char *delivery, const char *before, const char *after)
{
	return push_ref(e, delivery, "refs/heads/main", before, after);
}

/* Commit an AWS key at path, then its removal: the new tip (the key is in its history). */
static char *add_and_remove_key(const char *repo, const char *path)
{
	char *line = tu_strf("aws_access_key_id = %s%s\n", "AKIA", "Z7QWERTYUIOPASDF");
	free(ts_git_commit(repo, path, line));
	ts_sh("cd '%s' && git rm -q '%s' && git -c user.name=t -c user.email=t@t commit -qm "
	      "'remove the key'",
	      repo, path);
	free(line);
	return ts_sh_out("git -C '%s' rev-parse HEAD", repo);
}

/* Wait for run id (a push of ref): its state and its history stage's must be `state`,
 * and the stage must have scanned `commits` commits. */
static void expect_history(struct env *e, long id, const char *ref, const char *state,
			   json_int_t commits, const char *why)
{
	json_t *run = ts_wait_run(e->srv.addr, id, 120);
	json_t *st = stage_of(run, "secrets-history");
	cr_assert_not_null(st, "%s: no history stage", ref);
	cr_assert_str_eq(json_string_value(json_object_get(st, "status")), state, "%s: %s", ref,
			 why);
	json_t *h = json_object_get(st, "history");
	cr_assert(json_is_object(h), "the run shows the range it scanned");
	json_int_t n = json_integer_value(json_object_get(h, "commits"));
	cr_assert_eq(n, commits, "%s: %lld commits scanned: %s", ref, (long long)n, why);
	expect_state(run, state);
	json_decref(run);
}

/* Push main from before to after and wait for its run: its state and its history stage's
 * must be `state`, and the stage must have scanned `commits` commits. */
static void pushed_range(struct env *e, const char *delivery, const char *before, const char *after,
			 const char *state, json_int_t commits, const char *why)
{
	long id = push_range(e, delivery, before, after);
	expect_history(e, id, "refs/heads/main", state, commits, why);
}

/*
 * A push scans every commit it brings, not only its tip: three commits that add a key,
 * change something else and remove the key again leave a tip without it, and the run is
 * blocked all the same (the pipeline itself passes), with a failure status and a security
 * notification that names the commit and the file. The next push, clean, passes: only its
 * own commits are scanned.
 */
Test(serve, a_secret_added_and_removed_within_a_push_blocks_it, .timeout = 180)
{
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, pipeline);
	e.rec = ts_recorder_start(0);
	const char *url = ts_recorder_url(e.rec);
	char *cfg;
	cr_assert_geq(
		asprintf(&cfg,
			 "listen: 127.0.0.1:0\n"
			 "data_dir: %s/data\n"
			 "public_url: http://ci.example\n"
			 "retry: { attempts: 3, backoff: 50ms, max_backoff: 200ms, timeout: 5s }\n"
			 "notifications:\n  security:\n    url: '%s/security-hook'\n"
			 "repositories:\n" GITHUB_REPO_ENTRY,
			 e.dir, url, e.repo, url),
		0);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	char *before = e.main_sha;
	char *line = tu_strf("aws_access_key_id = %s%s\n", "AKIA", "Z7QWERTYUIOPASDF");
	char *with_key = ts_git_commit(e.repo, "config/aws.txt", line);
	free(ts_git_commit(e.repo, "README", "an app\n"));
	ts_sh("cd '%s' && git rm -q config/aws.txt && git -c user.name=t -c user.email=t@t "
	      "commit -qm 'remove the key'",
	      e.repo);
	char *tip = ts_sh_out("git -C '%s' rev-parse HEAD", e.repo);
	long id = push_range(&e, "delivery-history-1", before, tip);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "blocked");
	cr_assert_str_eq(
		json_string_value(json_object_get(stage_of(run, "secrets-history"), "status")),
		"blocked");
	cr_assert_str_eq(json_string_value(json_object_get(stage_of(run, "publish"), "status")),
			 "passed", "the pipeline runs on the tip as before");
	json_decref(run);
	/* The scan has a log as every stage has (its "log" link gave a 404, "no log for this
	 * stage (yet)"): the range, each finding at the commit that brought it, redacted. */
	char *hlog = stage_log(&e, id, "secrets-history");
	char *at = tu_strf("%.12s:config/aws.txt:1:", with_key);
	cr_assert_not_null(strstr(hlog, at), "%s", hlog);
	cr_assert_not_null(strstr(hlog, "secret.aws-access-key-id"), "%s", hlog);
	cr_assert_not_null(strstr(hlog, "3 commits"), "%s", hlog);
	cr_assert_not_null(strstr(hlog, "blocked: 1 finding at or above high"), "%s", hlog);
	cr_assert_null(strstr(hlog, "Z7QWERTYUIOPASDF"), "the key itself: %s", hlog);
	free(at);
	free(hlog);
	/* pending, pending, failure, and the notification. */
	cr_assert_geq(ts_recorder_wait(e.rec, 4, 30), 4);
	json_t *last_status = NULL;
	json_t *note = one_notification(e.rec, &last_status);
	const char *body = json_string_value(json_object_get(note, "body"));
	char *where = tu_strf("%.12s:config/aws.txt:1", with_key);
	cr_assert_not_null(strstr(body, where), "the commit that brought it: %s", body);
	cr_assert_not_null(strstr(body, "secret.aws-access-key-id"), "%s", body);
	cr_assert_null(strstr(body, "Z7QWERTYUIOPASDF"), "the key itself: %s", body);
	json_t *sb = json_loads(json_string_value(json_object_get(last_status, "body")), 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(sb, "state")), "failure");
	json_decref(sb);
	json_decref(note);
	json_decref(last_status);

	/* A clean push after it does not turn the branch green: the key is still in its
	 * history, and the blocked push's commits are scanned again with the new one. */
	char *clean = ts_git_commit(e.repo, "README", "an app, documented\n");
	pushed_range(&e, "delivery-history-2", tip, clean, "blocked", 4,
		     "the blocked push's three commits and the new one");

	/* The history rewritten without the key (a force push): its own commit only, the
	 * range reaching back to main's history when the server first scanned it. */
	ts_sh("git -C '%s' reset -q --hard '%s'", e.repo, before);
	char *rewritten = ts_git_commit(e.repo, "README", "an app, rewritten\n");
	pushed_range(&e, "delivery-history-3", clean, rewritten, "passed", 1,
		     "the rewritten commit");
	char *next = ts_git_commit(e.repo, "README", "an app, next\n");
	pushed_range(&e, "delivery-history-4", rewritten, next, "passed", 1,
		     "what passed is left out");
	free(next);
	free(rewritten);
	free(clean);
	free(where);
	free(tip);
	free(with_key);
	free(line);
	stop(&e);
}

/*
 * Whoever runs the server accepts a finding of the history scan in its configuration
 * (history_allow: the finding's fingerprint, a reason, an expiry date): the push passes,
 * the finding shown as suppressed. The fingerprint is the one `runner scan secrets
 * --history` prints for the same commits. An entry that expired suppresses nothing.
 */
Test(serve, the_server_configuration_accepts_a_history_finding, .timeout = 180)
{
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, pipeline);
	char *tip = add_and_remove_key(e.repo, "tests/fixture.txt");
	char *range = tu_strf("%s..%s", e.main_sha, tip);
	struct tu_result r = tu_runner_run(e.repo, "scan", "secrets", "--history", range,
					   "--format", "json", NULL);
	cr_assert_eq(r.status, 3, "%s", r.err);
	json_t *scan = json_loads(r.out, 0, NULL);
	cr_assert_not_null(scan, "%s", r.out);
	const char *fp = json_string_value(json_object_get(
		json_array_get(json_object_get(scan, "findings"), 0), "fingerprint"));
	cr_assert_not_null(fp);

	e.rec = ts_recorder_start(0);
	const char *url = ts_recorder_url(e.rec);
	char *cfg = tu_strf("listen: 127.0.0.1:0\n"
			    "data_dir: %s/data\n"
			    "repositories:\n" GITHUB_REPO_ENTRY "    history_allow:\n"
			    "      - fingerprint: %s\n"
			    "        reason: a made-up key in a test fixture\n"
			    "        expires: 2099-12-31\n"
			    "      - id: secret.aws-access-key-id\n"
			    "        reason: expired, suppresses nothing\n"
			    "        expires: 2020-01-01\n",
			    e.dir, e.repo, url, fp);
	ts_start(&e.srv, e.dir, cfg);
	pushed_range(&e, "delivery-accepted-1", e.main_sha, tip, "passed", 2,
		     "the finding is accepted");
	json_t *run = ts_wait_run(e.srv.addr, 1, 30);
	cr_assert_str_eq(
		json_string_value(json_object_get(stage_of(run, "secrets-history"), "summary")),
		"passed: no finding at or above high; 1 suppressed");
	json_decref(run);
	char *path = ts_sh_out("ls '%s'/data/repos/*/runs/*/report.json", e.dir);
	char *text = tu_read(path);
	json_t *report = json_loads(text, 0, NULL);
	cr_assert_not_null(report, "%s", text);
	json_t *res = json_object_get(stage_of(report, "secrets-history"), "result");
	json_t *f = json_array_get(json_object_get(res, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "fingerprint")), fp);
	cr_assert_str_eq(json_string_value(json_object_get(f, "disposition")), "suppressed");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(f, "suppression"), "reason")),
		"a made-up key in a test fixture");
	json_decref(report);
	free(text);
	free(path);

	/* The same key in another commit is another blob of the same content: the same
	 * fingerprint, accepted. A different key is not. */
	char *other = tu_strf("aws_access_key_id = %s%s\n", "AKIA", "Q2WERTYUIOPASDFZ");
	char *next = ts_git_commit(e.repo, "tests/other.txt", other);
	pushed_range(&e, "delivery-accepted-2", tip, next, "blocked", 1,
		     "another key, and the expired entry suppresses nothing");
	free(next);
	free(other);
	free(cfg);
	json_decref(scan);
	tu_result_free(&r);
	free(range);
	free(tip);
	stop(&e);
}

#define NEW_REF "0000000000000000000000000000000000000000"

/* Push a new ref at sha and wait for its run: its state and its history stage's must be
 * `state`, and the stage must have scanned `commits` commits. */
static void push_new_ref(struct env *e, const char *delivery, const char *ref, const char *sha,
			 const char *state, json_int_t commits, const char *why)
{
	expect_history(e, push_ref(e, delivery, ref, NEW_REF, sha), ref, state, commits, why);
}

/*
 * A new branch's scan leaves out only what earlier scans passed. A branch whose scan was
 * blocked (or failed, or is still running: two new branches pushed at once with the same
 * commit) hides nothing, so a second branch built on its commits is blocked too; it was
 * passed when every branch the mirror had fetched hid its history. What passed is left
 * out: a branch off a passed one scans its own commit.
 */
Test(serve, a_new_branch_leaves_out_only_what_passed_a_scan, .timeout = 180)
{
	struct env e = { 0 };
	start(&e, NULL, 0);
	push_new_ref(&e, "delivery-new-1", "refs/heads/main", e.main_sha, "passed", 1,
		     "main's one commit");

	/* leak: a key added and removed again, on main. */
	ts_sh("git -C '%s' checkout -q -b leak", e.repo);
	char *leak = add_and_remove_key(e.repo, "config/aws.txt");
	push_new_ref(&e, "delivery-new-2", "refs/heads/leak", leak, "blocked", 2,
		     "main's commit passed before");

	/* leak2: one clean commit on leak. The mirror has leak's commits, unscanned. */
	ts_sh("git -C '%s' checkout -q -b leak2", e.repo);
	char *leak2 = ts_git_commit(e.repo, "README", "clean\n");
	push_new_ref(&e, "delivery-new-3", "refs/heads/leak2", leak2, "blocked", 3,
		     "a blocked branch must not hide the key from the next one");

	/* fine: a clean branch off main, then fine2 off fine. */
	ts_sh("git -C '%s' checkout -q -b fine main", e.repo);
	char *fine = ts_git_commit(e.repo, "README", "fine\n");
	push_new_ref(&e, "delivery-new-4", "refs/heads/fine", fine, "passed", 1,
		     "main's commit passed before");
	ts_sh("git -C '%s' checkout -q -b fine2", e.repo);
	char *fine2 = ts_git_commit(e.repo, "README", "fine, twice\n");
	push_new_ref(&e, "delivery-new-5", "refs/heads/fine2", fine2, "passed", 1,
		     "fine's commit passed before");
	free(fine2);
	free(fine);
	free(leak2);
	free(leak);
	stop(&e);
}

#define API_TOKEN "api-token-0123456789abcdef-not-in-logs"

/* GET path with an Authorization header (NULL: none): the response, its headers in *hdrs. */
static struct ts_response get_as(struct env *e, const char *path, const char *authorization,
				 char **hdrs)
{
	char *url, *h = NULL;
	cr_assert_geq(asprintf(&url, "http://%s%s", e->srv.addr, path), 0);
	if (authorization) {
		cr_assert_geq(asprintf(&h, "Authorization: %s", authorization), 0);
	}
	const char *hv[] = { h, NULL };
	struct ts_response r = ts_get_with(url, hv, hdrs);
	free(url);
	free(h);
	return r;
}

static void expect_401(struct env *e, const char *path, const char *authorization)
{
	char *hdrs = NULL;
	struct ts_response r = get_as(e, path, authorization, &hdrs);
	cr_assert_eq(r.status, 401, "%s with '%s': %ld %s", path,
		     authorization ? authorization : "(none)", r.status, r.body);
	cr_assert_not_null(strstr(hdrs, "WWW-Authenticate: Bearer realm=\"runner\""), "%s", hdrs);
	cr_assert_not_null(strstr(hdrs, "WWW-Authenticate: Basic realm=\"runner\""), "%s", hdrs);
	cr_assert_str_eq(r.body, "{\"error\":\"authentication required\"}\n");
	free(hdrs);
	ts_response_free(&r);
}

static void expect_200(struct env *e, const char *path, const char *authorization)
{
	struct ts_response r = get_as(e, path, authorization, NULL);
	cr_assert_eq(r.status, 200, "%s with '%s': %ld %s", path,
		     authorization ? authorization : "(none)", r.status, r.body);
	ts_response_free(&r);
}

static char *basic(const char *user, const char *password)
{
	char *s = ts_sh_out("printf '%%s:%%s' '%s' '%s' | base64 -w0", user, password);
	char *h;
	cr_assert_geq(asprintf(&h, "Basic %s", s), 0);
	free(s);
	return h;
}

Test(serve, the_read_side_needs_the_token, .timeout = 120)
{
	struct env e;
	start(&e, "access: { token: " API_TOKEN " }\n", 0);
	/* Webhooks have their own signatures: no token needed, and a wrong signature is still
	 * refused. */
	long id = push(&e, "d-1", "main", e.main_sha);
	char *body = push_body("acme/app", "refs/heads/main", e.main_sha);
	expect(ts_deliver(e.srv.addr, "github", "push", "d-2", "not-the-secret-0123456789", body),
	       401, "does not match");
	free(body);

	char run[64], log[96], findings[96];
	snprintf(run, sizeof(run), "/api/runs/%ld", id);
	snprintf(log, sizeof(log), "/api/runs/%ld/logs/test", id);
	snprintf(findings, sizeof(findings), "/api/runs/%ld/findings", id);
	const char *guarded[] = { "/api/runs", "/api/runs?limit=1",
				  run,	       log,
				  "/",	       "/runs/1",
				  "/metrics",  "/api/runs/999",
				  findings,    "/api/runs/999/findings?limit=1" };
	char *wrong_basic = basic("admin", "api-token-0123456789abcdef-not-in-log");
	char *right_basic = basic("anyone", API_TOKEN);
	char *empty_user = basic("", API_TOKEN);
	char *token_as_user = basic(API_TOKEN, "x");
	for (size_t i = 0; i < sizeof(guarded) / sizeof(*guarded); i++) {
		expect_401(&e, guarded[i], NULL);
		expect_401(&e, guarded[i], "Bearer wrong-token-0123456789abcdef");
		expect_401(&e, guarded[i], "Bearer " API_TOKEN "x");
		expect_401(&e, guarded[i], "Bearer api-token-0123456789abcdef");
		expect_401(&e, guarded[i], "Bearer ");
		expect_401(&e, guarded[i], "Token " API_TOKEN);
		expect_401(&e, guarded[i], API_TOKEN);
		expect_401(&e, guarded[i], wrong_basic);
		expect_401(&e, guarded[i], token_as_user);
		expect_401(&e, guarded[i], "Basic !!!!");
	}
	/* The right token: Bearer, or Basic with any user (browsers ask for one). */
	expect_200(&e, "/api/runs", "Bearer " API_TOKEN);
	expect_200(&e, "/api/runs", "bearer " API_TOKEN);
	expect_200(&e, "/api/runs", right_basic);
	expect_200(&e, "/api/runs", empty_user);
	expect_200(&e, "/", right_basic);
	expect_200(&e, "/metrics", "Bearer " API_TOKEN);
	/* Health checks need no token. */
	expect_200(&e, "/healthz", NULL);
	expect_200(&e, "/healthz", "Bearer wrong");
	/* Unknown paths are 404 either way. */
	struct ts_response r = get_as(&e, "/nothing-here", NULL, NULL);
	cr_assert_eq(r.status, 404);
	ts_response_free(&r);

	ts_client_auth("Bearer " API_TOKEN);
	json_t *done = ts_wait_run(e.srv.addr, id, 60);
	expect_state(done, "passed");
	json_decref(done);
	char *out = stage_log(&e, id, "test");
	cr_assert_not_null(strstr(out, "event=push"), "%s", out);
	free(out);
	expect_200(&e, log, right_basic);
	expect_200(&e, findings, right_basic);
	cr_assert_geq(asprintf(&out, "http://%s/metrics", e.srv.addr), 0);
	expect(ts_get(out), 200, "runner_http_responses_total{code=\"401\"}");
	free(out);
	ts_client_auth(NULL);

	free(wrong_basic);
	free(right_basic);
	free(empty_user);
	free(token_as_user);
	cr_assert_eq(ts_stop(&e.srv, 30), 0);
	/* Refusals are logged (at debug level here), and nothing of the token is. */
	char *slog = tu_read(e.srv.log);
	cr_assert_not_null(strstr(slog, "\"event\":\"api.unauthorized\""), "%s", slog);
	cr_assert_not_null(strstr(slog, "\"access\":\"token\""), "%s", slog);
	cr_assert_null(strstr(slog, "0123456789abcdef-not"), "the token is in the log: %s", slog);
	char *b64 = ts_sh_out("printf '%%s' 'anyone:%s' | base64 -w0", API_TOKEN);
	cr_assert_null(strstr(slog, b64), "%s", slog);
	free(b64);
	free(slog);
	ts_release(&e.srv);
	ts_recorder_stop(e.rec);
	tu_rmdir(e.dir);
	free(e.dir);
	free(e.repo);
	free(e.main_sha);
}

#define API_TOKEN_OLD "previous-read-token-9876543210"

/* A rotated access token: the previous one reads until its end, said once a minute in the
 * log; after the end (a reload) it is refused. */
Test(serve, a_rotated_access_token_reads_until_the_previous_one_expires, .timeout = 120)
{
	struct env e;
	char *until = tu_utc(3600, true);
	char *extra;
	cr_assert_geq(asprintf(&extra,
			       "access:\n"
			       "  token: " API_TOKEN "\n"
			       "  previous_token: " API_TOKEN_OLD "\n"
			       "  previous_token_expires: %s\n",
			       until),
		      0);
	start(&e, extra, 0);
	free(extra);
	char *old_basic = basic("anyone", API_TOKEN_OLD);
	expect_200(&e, "/api/runs", "Bearer " API_TOKEN_OLD);
	expect_200(&e, "/api/runs", old_basic);
	expect_200(&e, "/metrics", "Bearer " API_TOKEN_OLD);
	expect_200(&e, "/api/runs", "Bearer " API_TOKEN);
	expect_401(&e, "/api/runs", "Bearer " API_TOKEN_OLD "x");
	expect_401(&e, "/api/runs", "Bearer previous-read-token-987654321");
	/* Three reads with the old token within a minute: said once. */
	cr_assert_eq(ts_log_count(&e.srv, "\"event\":\"api.previous_token\""), 1);
	char *log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, until), "%s", log);
	free(log);

	/* Its end has passed: refused, and the reload warns until the key is removed. */
	char *yesterday = tu_utc(-86400, false);
	char *cfg = tu_read(e.srv.config);
	char *at = strstr(cfg, until);
	cr_assert_not_null(at);
	memcpy(at, yesterday, strlen(yesterday));
	memmove(at + strlen(yesterday), at + strlen(until), strlen(at + strlen(until)) + 1);
	ts_reload(&e.srv, cfg);
	free(cfg);
	ts_wait_log(&e.srv, "\"event\":\"server.reloaded\"", 1, 30);
	cr_assert_eq(ts_log_count(&e.srv, "\"event\":\"config.warning\""), 1);
	expect_401(&e, "/api/runs", "Bearer " API_TOKEN_OLD);
	expect_401(&e, "/api/runs", old_basic);
	expect_200(&e, "/api/runs", "Bearer " API_TOKEN);
	log = tu_read(e.srv.log);
	cr_assert_null(strstr(log, API_TOKEN_OLD), "a token in the log");
	cr_assert_null(strstr(log, API_TOKEN), "a token in the log");
	free(log);
	free(old_basic);
	free(yesterday);
	free(until);
	stop(&e);
}

Test(serve, public_metrics_and_no_token_on_loopback, .timeout = 120)
{
	struct env e;
	start(&e, "access: { token: " API_TOKEN ", public_metrics: true }\n", 0);
	expect_200(&e, "/metrics", NULL);
	expect_401(&e, "/api/runs", NULL);
	stop(&e);
	/* No access block on 127.0.0.1: open, as before. */
	start(&e, NULL, 0);
	expect_200(&e, "/api/runs", NULL);
	expect_200(&e, "/metrics", NULL);
	stop(&e);
}

/* GET http://addr<path>: the status, and the number of runs when it is a list. */
static long list_runs(struct env *e, const char *path, size_t *n)
{
	char *url;
	cr_assert_geq(asprintf(&url, "http://%s%s", e->srv.addr, path), 0);
	struct ts_response r = ts_get(url);
	free(url);
	long status = r.status;
	json_t *j = status == 200 ? json_loads(r.body, 0, NULL) : NULL;
	*n = j ? json_array_size(json_object_get(j, "runs")) : 0;
	cr_assert(status != 200 || json_is_array(json_object_get(j, "runs")), "%s", r.body);
	json_decref(j);
	ts_response_free(&r);
	return status;
}

/* `limit` of /api/runs is read as the findings' is: above 500 gives 500 (it gave the
 * default 50, fewer than asked for and fewer than there were), and what is not a whole
 * number of 1 or more is a 400 (it silently gave 50). */
Test(serve, the_run_list_limit_is_checked_and_capped, .timeout = 120)
{
	struct env e;
	start(&e, "paused: true\n", 0);
	for (int i = 0; i < 52; i++) {
		char ref[64], delivery[64];
		snprintf(ref, sizeof(ref), "refs/tags/t%d", i);
		snprintf(delivery, sizeof(delivery), "d-list-%d", i);
		char *body = push_body("acme/app", ref, e.main_sha);
		accepted(ts_deliver(e.srv.addr, "github", "push", delivery, SECRET_GH, body));
		free(body);
	}
	size_t n;
	cr_assert_eq(list_runs(&e, "/api/runs", &n), 200);
	cr_assert_eq(n, 50, "the default");
	cr_assert_eq(list_runs(&e, "/api/runs?limit=51", &n), 200);
	cr_assert_eq(n, 51);
	cr_assert_eq(list_runs(&e, "/api/runs?limit=1000", &n), 200);
	cr_assert_eq(n, 52, "a limit above 500 gives 500, here all of them");
	const char *bad[] = { "abc", "0", "-1", "2x", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/api/runs?limit=%s", bad[i]);
		cr_assert_eq(list_runs(&e, path, &n), 400, "%s", path);
	}
	stop(&e);
}

/* A stage that prints nothing has no log file (the engine creates it on the first byte),
 * but the run's page and /api/runs/<id> link its log as every stage's: the link answered
 * 404, "no log for this stage (yet)", for ever. It is an empty log; a stage the run does
 * not have is still a 404. */
Test(serve, a_quiet_stage_has_an_empty_log, .timeout = 120)
{
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, "version: 1\n"
					 "stages:\n"
					 "  quiet:\n"
					 "    run: 'true'\n"
					 "  loud:\n"
					 "    run: echo said\n");
	e.rec = ts_recorder_start(0);
	char *cfg = reload_config(&e, "127.0.0.1:0", "", SECRET_GH);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	char *body = push_body("acme/app", "refs/heads/main", e.main_sha);
	long id = accepted(ts_deliver(e.srv.addr, "github", "push", "d-quiet", SECRET_GH, body));
	free(body);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	char *link = tu_strf("/api/runs/%ld/logs/quiet", id);
	cr_assert_str_eq(json_string_value(json_object_get(stage_of(run, "quiet"), "log")), link);
	free(link);
	json_decref(run);
	char *log = stage_log(&e, id, "quiet");
	cr_assert_str_eq(log, "");
	free(log);
	log = stage_log(&e, id, "loud");
	cr_assert_str_eq(log, "said\n");
	free(log);
	char *url = tu_strf("http://%s/api/runs/%ld/logs/nope", e.srv.addr, id);
	expect(ts_get(url), 404, "no such stage");
	free(url);
	stop(&e);
}

/* ---------- a clone URL with credentials in it ---------- */

#define CLONE_TOKEN "ghs_clone-url-token-0123456789-not-for-stages"

static const char url_pipeline[] = "version: 1\n"
				   "stages:\n"
				   "  url:\n"
				   "    run: echo \"repo=[$RUNNER_REPO_URL]\"\n"
				   "  env:\n"
				   "    run: env\n"
				   /* The token, which the stage has no way to know, printed as if
				    * it had found it: masked all the same. */
				   "  found:\n"
				   "    run: echo \"tok=ghs_clone-url-token-$(printf 0123456789)"
				   "-not-for-stages\"\n";

/* GET http://addr<path> (open on 127.0.0.1): 200, and the body does not hold the token. */
static void expect_no_token_at(struct env *e, const char *path)
{
	char *url;
	cr_assert_geq(asprintf(&url, "http://%s%s", e->srv.addr, path), 0);
	struct ts_response r = ts_get(url);
	cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
	cr_assert_null(strstr(r.body, CLONE_TOKEN), "the clone URL's token is in %s: %s", path,
		       r.body);
	ts_response_free(&r);
	free(url);
}

Test(serve, stages_get_the_clone_url_without_its_credentials, .timeout = 120)
{
	/* The repository is served by git's smart HTTP server, which wants the token; the
	 * configured clone URL carries it as its userinfo (no `credentials:`), so the fetch
	 * works only if that URL, secret and all, is the one fetched from. */
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e.repo, "%s/work", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, url_pipeline);
	ts_sh("git clone -q --bare '%s' '%s/srv/repo.git'", e.repo, e.dir);
	char *root;
	cr_assert_geq(asprintf(&root, "%s/srv", e.dir), 0);
	struct ts_githttp *g = ts_githttp_start(root, "x-access-token", CLONE_TOKEN);
	const char *hostpath = g->url + strlen("http://"); /* 127.0.0.1:PORT/repo.git */
	char *clone_url, *public_url;
	cr_assert_geq(asprintf(&clone_url, "http://x-access-token:%s@%s", CLONE_TOKEN, hostpath),
		      0);
	cr_assert_geq(asprintf(&public_url, "http://%s", hostpath), 0);
	e.rec = ts_recorder_start(0);
	char *cfg;
	cr_assert_geq(asprintf(&cfg,
			       "listen: 127.0.0.1:0\n"
			       "data_dir: %s/data\n"
			       "public_url: http://ci.example\n"
			       "log_level: debug\n"
			       "shutdown_grace: 200ms\n"
			       "retry: { attempts: 3, backoff: 50ms, max_backoff: 200ms, "
			       "timeout: 5s }\n"
			       "repositories:\n" GITHUB_REPO_ENTRY,
			       e.dir, clone_url, ts_recorder_url(e.rec)),
		      0);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);

	long id = push(&e, "d-1", "main", e.main_sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	pthread_mutex_lock(&g->mu);
	unsigned requests = g->requests, refused = g->refused;
	pthread_mutex_unlock(&g->mu);
	cr_assert_gt(requests - refused, 0, "fetched over HTTP with the URL's credentials");

	/* The stage sees the URL without its userinfo. */
	char *log = stage_log(&e, id, "url");
	char *want;
	cr_assert_geq(asprintf(&want, "repo=[%s]\n", public_url), 0);
	cr_assert_not_null(strstr(log, want), "'%s' not in: %s", want, log);
	free(want);
	free(log);
	/* A stage that prints it anyway gets it masked. */
	log = stage_log(&e, id, "found");
	cr_assert_not_null(strstr(log, "tok=***"), "%s", log);
	cr_assert_null(strstr(log, CLONE_TOKEN), "%s", log);
	free(log);
	/* Nor anywhere else in its environment. */
	log = stage_log(&e, id, "env");
	cr_assert_not_null(strstr(log, "RUNNER_REPO_URL="), "%s", log);
	cr_assert_null(strstr(log, CLONE_TOKEN), "the token is in a stage's environment: %s", log);
	free(log);

	/* No API answer or page of the run shows the token. */
	char path[128];
	const char *fixed[] = { "/api/runs", "/", "/metrics" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
		expect_no_token_at(&e, fixed[i]);
	}
	snprintf(path, sizeof(path), "/api/runs/%ld", id);
	expect_no_token_at(&e, path);
	snprintf(path, sizeof(path), "/runs/%ld", id);
	expect_no_token_at(&e, path);
	snprintf(path, sizeof(path), "/api/runs/%ld/logs/url", id);
	expect_no_token_at(&e, path);
	snprintf(path, sizeof(path), "/api/runs/%ld/logs/env", id);
	expect_no_token_at(&e, path);
	/* Nor what went to the forge's status API. */
	cr_assert_geq(ts_recorder_wait(e.rec, 3, 30), 3);
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		char *dump = json_dumps(q, 0);
		cr_assert_null(strstr(dump, CLONE_TOKEN), "%s", dump);
		free(dump);
		json_decref(q);
	}

	cr_assert_eq(ts_stop(&e.srv, 30), 0, "the server stops cleanly on SIGTERM");
	/* Nor anything in the data directory: stage logs, the report, the run's records, the
	 * queue, the mirror. */
	char *found = ts_sh_out("grep -rlF -e '%s' '%s/data' || true", CLONE_TOKEN, e.dir);
	cr_assert_str_eq(found, "", "the token is in: %s", found);
	free(found);
	found = ts_sh_out(
		"cat '%s'/data/repos/*/runs/*/logs/url.log '%s'/data/repos/*/runs/*/report.json",
		e.dir, e.dir);
	cr_assert_not_null(strstr(found, "repo=[http://127.0.0.1:"),
			   "the run's files are there: %s", found);
	free(found);
	/* Nor the server's log, even as the Basic credentials it sent. */
	char *slog = tu_read(e.srv.log);
	cr_assert_null(strstr(slog, CLONE_TOKEN), "the token is in the server's log: %s", slog);
	char *b64 = ts_sh_out("printf '%%s' 'x-access-token:%s' | base64 -w0", CLONE_TOKEN);
	cr_assert_null(strstr(slog, b64), "%s", slog);
	free(b64);
	free(slog);

	ts_release(&e.srv);
	ts_recorder_stop(e.rec);
	ts_githttp_stop(g);
	tu_rmdir(e.dir);
	free(root);
	free(clone_url);
	free(public_url);
	free(e.dir);
	free(e.repo);
	free(e.main_sha);
}

/*
 * A secrets file that stopped loading after the server started (`deploy_key: !Zq8y...`
 * reads as a YAML tag, the value as its text): the run is an error whose message, commit
 * status, /api/runs entry and run page say only that the secrets file is invalid; the
 * server log says what and where, without the value.
 */
Test(serve, an_invalid_secrets_file_is_not_quoted_in_the_run_or_its_status, .timeout = 120)
{
	static const char value[] = "Zq8yT3kP9wLmN2vB5xR7";
	struct env e = { 0 };
	e.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, pipeline);
	e.rec = ts_recorder_start(0);
	char *sfile;
	cr_assert_geq(asprintf(&sfile, "%s/secrets.yml", e.dir), 0);
	tu_write(e.dir, "secrets.yml", "deploy_key: " DEPLOY "\n");
	cr_assert_eq(chmod(sfile, 0600), 0);
	char *cfg;
	cr_assert_geq(asprintf(&cfg,
			       "listen: 127.0.0.1:0\n"
			       "data_dir: %s/data\n"
			       "public_url: http://ci.example\n"
			       "log_level: debug\n"
			       "shutdown_grace: 200ms\n"
			       "retry: { attempts: 3, backoff: 50ms, max_backoff: 200ms,"
			       " timeout: 5s }\n"
			       "repositories:\n"
			       "  - name: acme/app\n"
			       "    forge: github\n"
			       "    secret: " SECRET_GH "\n"
			       "    clone_url: %s\n"
			       "    api: { url: '%s', token: gh-api-token }\n"
			       "    secrets_file: %s\n",
			       e.dir, e.repo, ts_recorder_url(e.rec), sfile),
		      0);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	/* Broken after the start (the server checked it then): runs read it again. */
	tu_write(e.dir, "secrets.yml", "deploy_key: !Zq8yT3kP9wLmN2vB5xR7\n");
	cr_assert_eq(chmod(sfile, 0600), 0);
	long id = push(&e, "d-secrets", "main", e.main_sha);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	const char *msg = json_string_value(json_object_get(run, "message"));
	cr_assert_not_null(msg);
	cr_assert_not_null(strstr(msg, "the secrets file is invalid (see the server log)"), "%s",
			   msg);
	cr_assert_null(strstr(msg, value), "%s", msg);
	cr_assert_null(strstr(msg, "YAML"), "the file's diagnostics stay in the log: %s", msg);
	json_decref(run);
	cr_assert(got_status(&e, "error", "the secrets file is invalid", 30));
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		const char *b = json_string_value(json_object_get(q, "body"));
		cr_assert_null(strstr(b, value), "a status carries the value: %s", b);
		cr_assert_null(strstr(b, "YAML"), "a status carries the diagnostics: %s", b);
		json_decref(q);
	}
	char *u;
	cr_assert_geq(asprintf(&u, "http://%s/api/runs", e.srv.addr), 0);
	struct ts_response r = ts_get(u);
	cr_assert_eq(r.status, 200);
	cr_assert_null(strstr(r.body, value), "%s", r.body);
	ts_response_free(&r);
	free(u);
	cr_assert_geq(asprintf(&u, "http://%s/runs/%ld", e.srv.addr, id), 0);
	r = ts_get(u);
	cr_assert_eq(r.status, 200);
	cr_assert_null(strstr(r.body, value), "%s", r.body);
	ts_response_free(&r);
	free(u);
	char *log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "run.secrets_invalid"), "%s", log);
	cr_assert_not_null(strstr(log, "unsupported YAML tag"), "the log says what: %s", log);
	cr_assert_not_null(strstr(log, "secrets.yml:1:13"), "and where: %s", log);
	cr_assert_null(strstr(log, value), "the value is in the server log: %s", log);
	free(log);
	/* Name and value swapped, twice (a duplicate key): the secret is in the key's place,
	 * and run.secrets_invalid says where, never what. */
	static const char swapped[] = "sk-live-4f9a8b7c6d5e";
	tu_write(e.dir, "secrets.yml",
		 "deploy_key: " DEPLOY "\nsk-live-4f9a8b7c6d5e: DEPLOY_KEY\n"
		 "sk-live-4f9a8b7c6d5e: DEPLOY_KEY\n");
	cr_assert_eq(chmod(sfile, 0600), 0);
	char *sha2 = ts_git_commit(e.repo, "swapped", "x\n");
	id = push(&e, "d-secrets-2", "main", sha2);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	cr_assert_null(strstr(json_string_value(json_object_get(run, "message")), swapped));
	json_decref(run);
	tu_write(e.dir, "secrets.yml",
		 "deploy_key: " DEPLOY "\nsk-live-4f9a8b7c6d5e: DEPLOY_KEY\n");
	cr_assert_eq(chmod(sfile, 0600), 0);
	char *sha3 = ts_git_commit(e.repo, "swapped", "y\n");
	id = push(&e, "d-secrets-3", "main", sha3);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	json_decref(run);
	log = tu_read(e.srv.log);
	cr_assert_not_null(strstr(log, "duplicate key (first defined at line 2, column 1)"), "%s",
			   log);
	cr_assert_not_null(strstr(log, "secrets.yml:3:1"), "%s", log);
	cr_assert_not_null(strstr(log, "invalid secret name (not quoted"), "%s", log);
	cr_assert_not_null(strstr(log, "secrets.yml:2:1"), "%s", log);
	cr_assert_null(strstr(log, swapped), "the secret is in the server log: %s", log);
	free(log);
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		const char *b = json_string_value(json_object_get(q, "body"));
		cr_assert_null(strstr(b, swapped), "a status carries the secret: %s", b);
		json_decref(q);
	}
	free(sha2);
	free(sha3);
	free(sfile);
	stop(&e);
}

/* The state of the newest status the forge stand-in got for sha, or NULL. */
static char *latest_status(struct env *e, const char *sha)
{
	char *state = NULL;
	for (size_t i = 0; i < ts_recorder_count(e->rec); i++) {
		json_t *q = ts_recorder_get(e->rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		if (url && strstr(url, sha)) {
			free(state);
			state = strdup(json_string_value(json_object_get(b, "state")));
		}
		json_decref(b);
		json_decref(q);
	}
	return state;
}

/* A push of tag v1 at sha (for tags, GitHub's head_commit.id is the commit). */
static char *tag_body(const char *sha, const char *message)
{
	json_t *p = ts_payload("github/push/with-new-branch.payload.json");
	ts_set(p, "ref", "refs/tags/v1");
	ts_set(p, "after", sha);
	ts_set(p, "head_commit.id", sha);
	ts_set(p, "head_commit.message", message);
	ts_set(p, "repository.full_name", "acme/app");
	ts_set(p, "repository.clone_url", "https://example.invalid/not-used.git");
	char *s = ts_dump(p);
	json_decref(p);
	return s;
}

/*
 * A tag push and a branch push of one commit, both reporting to the one status context:
 * the tag's run fails, the branch's passes after it. The commit must not end at success
 * (the last run to finish used to decide). A re-run of the tag that passes clears it.
 */
Test(serve, a_passing_run_does_not_hide_another_refs_failure_on_the_commit, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *sha = ts_git_commit(
		e.repo, ".runner.yml",
		"version: 1\n"
		"stages:\n"
		"  test:\n"
		"    run: |\n"
		"      if [ -z \"$RUNNER_BRANCH\" ] && [ \"$RUNNER_RUN_ID\" = 2.1 ]; then\n"
		"        exit 1\n"
		"      fi\n"
		"      sleep 1\n");
	ts_sh("git -C '%s' tag v1 %s", e.repo, sha);
	long branch = push(&e, "d-branch", "main", sha);
	char *body = tag_body(sha, "first");
	long tag = accepted(ts_deliver(e.srv.addr, "github", "push", "d-tag", SECRET_GH, body));
	free(body);
	cr_assert_eq(tag, 2);
	json_t *run = ts_wait_run(e.srv.addr, tag, 60);
	expect_state(run, "failed");
	json_decref(run);
	run = ts_wait_run(e.srv.addr, branch, 60);
	expect_state(run, "passed");
	json_decref(run);
	/* queued, running and the end of each run */
	cr_assert_geq(ts_recorder_wait(e.rec, 6, 30), 6);
	ts_sleep(0.5);
	char *last = latest_status(&e, sha);
	cr_assert_str_eq(last, "failure", "the commit shows %s", last);
	free(last);
	cr_assert(got_status(&e, "failure", "run 2 for refs/tags/v1 failed (this run: passed)", 5));

	/* The tag again (a redelivery under a new id is a new run): it passes this time. */
	body = tag_body(sha, "again");
	long again = accepted(ts_deliver(e.srv.addr, "github", "push", "d-tag-2", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, again, 60);
	expect_state(run, "passed");
	json_decref(run);
	cr_assert_geq(ts_recorder_wait(e.rec, 9, 30), 9);
	ts_sleep(0.5);
	last = latest_status(&e, sha);
	cr_assert_str_eq(last, "success", "the commit shows %s", last);
	free(last);
	free(sha);
	stop(&e);
}

/* A cancel stops a push's history scan where it is: the scanning worker is killed, not
 * waited for. A push of a large file (about 55 MB of lines that every assignment rule
 * looks at: seconds of scanning in this build), superseded by a newer push while its
 * history scan runs: the run ends cancelled, and its history stage says it was cancelled.
 * Before, the scan ran to its end ("passed"), and only then was the run cancelled. */
Test(serve, a_cancel_stops_a_history_scan_where_it_is, .timeout = 180)
{
	struct env e;
	start(&e, NULL, 0);
	ts_sh("cd '%s' && seq 1 2000000 | sed 's/.*/secret_& = \"x&y\"/' > big.txt && git add "
	      "big.txt && git -c user.name=t -c user.email=t@t commit -qm big",
	      e.repo);
	char *sha = ts_sh_out("git -C '%s' rev-parse HEAD", e.repo);
	long id = push(&e, "d-big", "main", sha);
	for (double t0 = ts_now();; ts_sleep(0.02)) {
		json_t *run = ts_run(e.srv.addr, id);
		const char *phase = json_string_value(json_object_get(run, "phase"));
		bool scanning = phase && !strcmp(phase, "history");
		cr_assert(strcmp(state_of(run), "running") == 0 ||
				  strcmp(state_of(run), "queued") == 0,
			  "the run ended before its history scan was seen: %s", state_of(run));
		json_decref(run);
		if (scanning) {
			break;
		}
		cr_assert_lt(ts_now() - t0, 120, "the history scan never started");
	}
	char *next = ts_git_commit(e.repo, "mode", "fast\n");
	long second = push(&e, "d-next", "main", next);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "cancelled");
	char *dump = json_dumps(run, 0);
	json_t *st = json_array_get(json_object_get(run, "stages"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(st, "name")), "secrets-history", "%s",
			 dump);
	char *log = tu_read(e.srv.log);
	cr_assert_str_eq(json_string_value(json_object_get(st, "status")), "cancelled",
			 "%s\nthe server's log:\n%s", dump, log);
	free(log);
	free(dump);
	json_decref(run);
	run = ts_wait_run(e.srv.addr, second, 150);
	expect_state(run, "passed");
	json_decref(run);
	free(next);
	free(sha);
	stop(&e);
}

/* A push of tag `name` whose `after` is what the tag ref points to (for an annotated tag,
 * the tag object) and whose head_commit is null, as GitHub sends for some tag pushes. */
static char *tag_object_body(const char *name, const char *after)
{
	json_t *p = ts_payload("github/push/with-new-branch.payload.json");
	char ref[128];
	snprintf(ref, sizeof(ref), "refs/tags/%s", name);
	ts_set(p, "ref", ref);
	ts_set(p, "after", after);
	json_object_set_new(p, "head_commit", json_null());
	ts_set(p, "repository.full_name", "acme/app");
	ts_set(p, "repository.clone_url", "https://example.invalid/not-used.git");
	char *s = ts_dump(p);
	json_decref(p);
	return s;
}

/* Whether the forge stand-in got a status of state for sha. */
static bool status_for(struct env *e, const char *sha, const char *state)
{
	bool hit = false;
	for (size_t i = 0; i < ts_recorder_count(e->rec) && !hit; i++) {
		json_t *q = ts_recorder_get(e->rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		const char *st = json_string_value(json_object_get(b, "state"));
		hit = url && st && strstr(url, sha) && !strcmp(st, state);
		json_decref(b);
		json_decref(q);
	}
	return hit;
}

/*
 * An annotated tag pushed with `after` = the tag object and no head_commit: the run peels
 * the tag in the mirror and runs the commit (it failed with "commit ... does not exist ...
 * a force push"), a tag of a tag too, and its end is reported on the commit. A tag of a
 * tree is an error that says so.
 */
Test(serve, an_annotated_tag_without_head_commit_runs_its_commit, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *sha = ts_git_commit(e.repo, ".runner.yml",
				  "version: 1\n"
				  "stages:\n"
				  "  test:\n"
				  "    run: echo \"commit=$RUNNER_COMMIT_SHA tag=$RUNNER_TAG\"\n");
	/* Tags carry a tagger: GIT names one (a fresh machine's git has none of its own). */
	ts_sh(GIT " -C '%s' tag -a v1 -m 'release 1' %s", e.repo, sha);
	ts_sh(GIT " -C '%s' -c advice.nestedTag=false tag -a v1-again -m 'a tag of a tag' v1",
	      e.repo);
	ts_sh(GIT " -C '%s' tag -a v1-tree -m 'a tag of a tree' '%s^{tree}'", e.repo, sha);
	char *tag_obj = ts_sh_out("git -C '%s' rev-parse v1", e.repo);
	char *chain_obj = ts_sh_out("git -C '%s' rev-parse v1-again", e.repo);
	char *tree_obj = ts_sh_out("git -C '%s' rev-parse v1-tree", e.repo);
	cr_assert_str_neq(tag_obj, sha, "v1 is an annotated tag");

	char *body = tag_object_body("v1", tag_obj);
	long id = accepted(ts_deliver(e.srv.addr, "github", "push", "d-at-1", SECRET_GH, body));
	free(body);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert_str_eq(json_string_value(json_object_get(run, "sha")), sha,
			 "the run names the tagged commit");
	json_decref(run);
	char *log = stage_log(&e, id, "test");
	char *want = tu_strf("commit=%s tag=v1", sha);
	cr_assert(strstr(log, want), "the stage ran the commit: %s", log);
	free(want);
	free(log);
	double t0 = ts_now();
	while (!status_for(&e, sha, "success") && ts_now() - t0 < 30) {
		ts_sleep(0.1);
	}
	cr_assert(status_for(&e, sha, "success"), "the end is reported on the commit");
	/* Its pending status too (it went to the tag object, which a forge refuses), and
	 * nothing to the tag object. */
	cr_assert(status_for(&e, sha, "pending"), "running is reported on the commit");
	for (size_t i = 0; i < ts_recorder_count(e.rec); i++) {
		json_t *q = ts_recorder_get(e.rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		cr_assert_null(strstr(url, tag_obj), "a status posted to the tag object: %s", url);
		json_decref(q);
	}
	/* The run shows both: the commit it ran, and the tag object the push named. */
	run = ts_run(e.srv.addr, id);
	cr_assert_str_eq(json_string_value(json_object_get(run, "tag_object")), tag_obj);
	json_decref(run);
	char *page = tu_strf("/runs/%ld", id);
	expect_page(&e, page, tag_obj, true);
	free(page);

	body = tag_object_body("v1-again", chain_obj);
	id = accepted(ts_deliver(e.srv.addr, "github", "push", "d-at-2", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	cr_assert_str_eq(json_string_value(json_object_get(run, "sha")), sha);
	json_decref(run);

	body = tag_object_body("v1-tree", tree_obj);
	id = accepted(ts_deliver(e.srv.addr, "github", "push", "d-at-3", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	const char *msg = json_string_value(json_object_get(run, "message"));
	cr_assert(msg && strstr(msg, "points to a tree, not a commit"), "%s", msg ? msg : "");
	cr_assert_null(strstr(msg, "force push"), "%s", msg);
	cr_assert_eq(json_integer_value(json_object_get(run, "exit_code")), 2, "invalid input");
	json_decref(run);

	/* A branch names commits (git refuses to point one at a tag): a payload that names a
	 * tag object the mirror has for one is an error that says so. */
	body = push_body("acme/app", "refs/heads/main", tag_obj);
	id = accepted(ts_deliver(e.srv.addr, "github", "push", "d-at-4", SECRET_GH, body));
	free(body);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	msg = json_string_value(json_object_get(run, "message"));
	cr_assert(msg && strstr(msg, "is a tag, not a commit"), "%s", msg ? msg : "");
	cr_assert_eq(json_integer_value(json_object_get(run, "exit_code")), 2, "invalid input");
	json_decref(run);

	free(tag_obj);
	free(chain_obj);
	free(tree_obj);
	free(sha);
	stop(&e);
}

/*
 * A lightweight tag can name a tree or a blob (`git tag t HEAD^{tree}`): its push's `after`
 * is that object, which no fetch turns into a commit. The run is an error that says what
 * the tag names, with the exit code of invalid input (2), not "commit ... does not exist
 * ... (a force push)" and 4.
 */
Test(serve, a_lightweight_tag_of_a_tree_or_blob_is_invalid_input, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	ts_sh("git -C '%s' tag t-tree 'HEAD^{tree}' && git -C '%s' tag t-blob 'HEAD:.runner.yml'",
	      e.repo, e.repo);
	static const char *const tags[][2] = { { "t-tree", "names a tree (" },
					       { "t-blob", "names a blob (" } };
	for (size_t i = 0; i < 2; i++) {
		char *obj = ts_sh_out("git -C '%s' rev-parse %s", e.repo, tags[i][0]);
		char *body = tag_object_body(tags[i][0], obj);
		char delivery[32];
		snprintf(delivery, sizeof(delivery), "d-lw-%zu", i);
		long id = accepted(
			ts_deliver(e.srv.addr, "github", "push", delivery, SECRET_GH, body));
		free(body);
		json_t *run = ts_wait_run(e.srv.addr, id, 60);
		expect_state(run, "error");
		const char *msg = json_string_value(json_object_get(run, "message"));
		char *want = tu_strf("tag %s %s%.12s), not a commit", tags[i][0], tags[i][1], obj);
		cr_assert(msg && strstr(msg, want), "%s", msg ? msg : "");
		cr_assert_null(strstr(msg, "force push"), "%s", msg);
		cr_assert_eq(json_integer_value(json_object_get(run, "exit_code")), 2,
			     "invalid input");
		free(want);
		json_decref(run);
		free(obj);
	}
	stop(&e);
}

/* Whether the forge stand-in got a status of state for sha whose description has needle. */
static bool status_says(struct env *e, const char *sha, const char *state, const char *needle)
{
	bool hit = false;
	for (size_t i = 0; i < ts_recorder_count(e->rec) && !hit; i++) {
		json_t *q = ts_recorder_get(e->rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		const char *st = json_string_value(json_object_get(b, "state"));
		const char *d = json_string_value(json_object_get(b, "description"));
		hit = url && st && d && strstr(url, sha) && !strcmp(st, state) && strstr(d, needle);
		json_decref(b);
		json_decref(q);
	}
	return hit;
}

/* Wait until run id's stage `test` is running. */
static void wait_running(struct env *e, long id)
{
	double t0 = ts_now();
	for (;;) {
		json_t *run = ts_run(e->srv.addr, id);
		bool running = strcmp(state_of(run), "running") == 0 && stage_of(run, "test");
		json_decref(run);
		if (running) {
			return;
		}
		cr_assert_lt(ts_now() - t0, 60);
		ts_sleep(0.05);
	}
}

/*
 * A run put back in the queue says so on the forge: a `pending` status "re-queued", not
 * the "running" it showed while the server was down. At an orderly stop it is sent
 * before the server exits; after a crash, by the next start, which re-queues the run.
 */
Test(serve, a_requeued_run_posts_a_pending_status_saying_so, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *slow = ts_git_commit(e.repo, "mode", "slow\n");
	long id = push(&e, "d-slow", "main", slow);
	wait_running(&e, id);
	cr_assert(got_status(&e, "pending", "running", 30));
	cr_assert_eq(ts_stop(&e.srv, 30), 0, "SIGTERM: an orderly stop");
	cr_assert(status_says(&e, slow, "pending", "re-queued: the server shut down while it ran"),
		  "the forge was told before the server exited");
	ts_restart(&e.srv);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);

	/* A crash: the next start re-queues the run, and says so first. */
	char *again = ts_git_commit(e.repo, "again", "a new commit, still slow\n");
	id = push(&e, "d-slow-2", "main", again);
	wait_running(&e, id);
	ts_kill(&e.srv);
	cr_assert(!status_says(&e, again, "pending", "re-queued"));
	ts_restart(&e.srv);
	run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	double t0 = ts_now();
	while (!status_says(&e, again, "success", "passed") && ts_now() - t0 < 30) {
		ts_sleep(0.05);
	}
	cr_assert(status_says(&e, again, "pending", "re-queued: the server stopped while it ran"));
	free(again);
	free(slow);
	stop(&e);
}

/* How many requests the forge stand-in got for sha whose description has needle. */
static size_t statuses_saying(struct env *e, const char *sha, const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < ts_recorder_count(e->rec); i++) {
		json_t *q = ts_recorder_get(e->rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		const char *d = json_string_value(json_object_get(b, "description"));
		n += url && d && strstr(url, sha) && strstr(d, needle);
		json_decref(b);
		json_decref(q);
	}
	return n;
}

/*
 * The forge takes the re-queued status of a stop and never answers (the stand-in holds
 * it: a local stand-in for a forge's status API, as everywhere here), with retry.timeout
 * at 5 minutes: the server still stops on its own, the call under way cut by the 5 s drain
 * (the reporter's own call was not: it waited out retry.timeout), and the status stays in
 * the outbox, not given up, with what went wrong; the next start sends it.
 */
Test(serve, a_status_the_forge_does_not_answer_at_a_stop_waits_for_the_next_start, .timeout = 180)
{
	struct env e = { .dir = tu_tmpdir() };
	cr_assert_geq(asprintf(&e.repo, "%s/repo", e.dir), 0);
	e.main_sha = ts_git_init(e.repo, pipeline);
	e.rec = ts_recorder_start(0);
	char *cfg =
		reload_config(&e, "127.0.0.1:0",
			      "retry: { attempts: 5, backoff: 50ms, timeout: 5m }\n", SECRET_GH);
	ts_start(&e.srv, e.dir, cfg);
	free(cfg);
	char *slow = ts_git_commit(e.repo, "mode", "slow\n");
	long id = push(&e, "d-slow", "main", slow);
	wait_running(&e, id);
	cr_assert(got_status(&e, "pending", "running", 30));

	ts_recorder_hold(e.rec, true);
	/* Not a timing assertion: ts_stop kills the server after 90 s (and the exit status
	 * is then not 0); a call held for retry.timeout would take 300 s. */
	cr_assert_eq(ts_stop(&e.srv, 90), 0, "the server stops on its own");
	cr_assert_geq(statuses_saying(&e, slow, "re-queued"), 1, "the forge got the call");

	char *db_path = tu_strf("%s/data/queue.db", e.dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db,
					"SELECT done, last_error FROM outbox WHERE kind = 0"
					" AND description LIKE 're-queued%'",
					-1, &st, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "the re-queued status is in the outbox");
	cr_assert_eq(sqlite3_column_int(st, 0), 0, "still to send, not given up");
	const char *why = (const char *)sqlite3_column_text(st, 1);
	cr_assert(why && *why, "what went wrong is kept");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(db_path);

	ts_recorder_hold(e.rec, false);
	size_t before = statuses_saying(&e, slow, "re-queued");
	ts_restart(&e.srv);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	double t0 = ts_now();
	while (!status_says(&e, slow, "success", "passed") && ts_now() - t0 < 30) {
		ts_sleep(0.05);
	}
	cr_assert_gt(statuses_saying(&e, slow, "re-queued"), before, "sent at the next start");
	free(slow);
	stop(&e);
}

/* body (a JSON object) padded with spaces before its closing brace to exactly len bytes. */
static char *padded(const char *body, size_t len)
{
	size_t n = strlen(body);
	cr_assert_lt(n, len);
	char *p = malloc(len + 1);
	cr_assert_not_null(p);
	memcpy(p, body, n - 1);
	memset(p + n - 1, ' ', len - n);
	p[len - 1] = '}';
	p[len] = '\0';
	return p;
}

/* limits.max_body is the largest body accepted, not the first refused: a delivery of
 * exactly 64KiB runs, one byte more is a 413 (the test server's max_inflight is 64KiB
 * too, so the one at the cap also fills what may be buffered at once). */
Test(serve, a_body_of_exactly_max_body_is_accepted, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *body = push_body("acme/app", "refs/heads/main", e.main_sha);
	char *at = padded(body, 64 * 1024);
	char *over = padded(body, 64 * 1024 + 1);
	expect(ts_deliver(e.srv.addr, "github", "push", "d-over", SECRET_GH, over), 413,
	       "max_body");
	long id = accepted(ts_deliver(e.srv.addr, "github", "push", "d-at", SECRET_GH, at));
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "passed");
	json_decref(run);
	free(over);
	free(at);
	free(body);
	stop(&e);
}

/* A run directory with the attempt's id that is there already (left by the runs of an
 * earlier queue.db, whose ids started at 1.1 too, or put there) is never written into: its
 * artifacts, logs and outcome would pass for the new attempt's. The attempt fails (exit 4)
 * and what was there stays as it was. */
Test(serve, a_run_directory_that_exists_already_is_not_reused, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *old = tu_strf("%s/data/repos/github-acme+app/runs/1.1", e.dir);
	tu_write(old, "artifacts/test/planted.txt", "not this run's\n");
	tu_write(old, "logs/test.log", "an earlier run's log\n");
	long id = push(&e, "d-old", "main", e.main_sha);
	cr_assert_eq(id, 1);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	cr_expect_eq(json_integer_value(json_object_get(run, "exit_code")), 4);
	json_decref(run);
	char *log = tu_readf("%s/logs/test.log", old);
	cr_expect_str_eq(log, "an earlier run's log\n");
	free(log);
	cr_expect(tu_exists("%s/artifacts/test/planted.txt", old));
	cr_expect_not(tu_exists("%s/outcome.json", old), "written into the old directory");
	cr_expect_not(tu_exists("%s/report.json", old), "written into the old directory");
	cr_expect_not(tu_exists("%s/logs/publish.log", old), "written into the old directory");
	free(old);
	stop(&e);
}

/* What is in a run directory the attempt did not make (it was there already, so the
 * attempt ended without writing into it) is never shown as the run's: not a planted
 * report's stages, blocked gate or findings, not its logs. The run says it has no record. */
Test(serve, a_run_directory_that_exists_already_is_not_shown_as_the_run, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *old = tu_strf("%s/data/repos/github-acme+app/runs/1.1", e.dir);
	tu_write(old, "report.json",
		 "{\"result\": \"blocked\", \"stages\": [{\"name\": \"planted\", \"kind\": "
		 "\"sast\", \"status\": \"blocked\", \"result\": {\"findings\": [{\"rule_id\": "
		 "\"planted-rule\", \"severity\": \"critical\", \"message\": \"planted finding\", "
		 "\"file\": \"a.c\", \"line\": 1, \"fingerprint\": \"f00\"}]}}]}\n");
	tu_write(old, "logs/planted.log", "someone else's log\n");
	tu_write(old, "live.json", "{\"phase\": \"planted-phase\"}\n");
	long id = push(&e, "d-old", "main", e.main_sha);
	cr_assert_eq(id, 1);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	json_decref(run);

	run = ts_run(e.srv.addr, id);
	char *dump = json_dumps(run, 0);
	cr_expect_eq(json_array_size(json_object_get(run, "stages")), 0, "%s", dump);
	cr_expect_eq(json_array_size(json_object_get(run, "blocked_by")), 0, "%s", dump);
	cr_expect(json_is_null(json_object_get(run, "findings_url")), "%s", dump);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(run, "blocking_findings"),
							"critical")),
		     0, "%s", dump);
	cr_expect_null(json_object_get(run, "phase"), "%s", dump);
	cr_expect_str_eq(json_string_value(json_object_get(run, "record")),
			 "no record (the directory was not made by this run)", "%s", dump);
	free(dump);
	json_decref(run);

	expect_page(&e, "/runs/1", "no record (the directory was not made by this run)", true);
	expect_page(&e, "/runs/1", "planted", false);
	char *u = tu_strf("http://%s/api/runs/1/logs/planted", e.srv.addr);
	expect(ts_get(u), 404, "no record (the directory was not made by this run)");
	free(u);
	u = tu_strf("http://%s/api/runs/1/findings", e.srv.addr);
	expect(ts_get(u), 404, "no record (the directory was not made by this run)");
	free(u);
	free(old);
	stop(&e);
}

/* An attempt that cannot take its job's lock (here the lock file cannot be opened: a
 * directory is in its place) ends in error as any other, but writes nothing into a run
 * directory it did not make: one there already keeps only what it had. */
Test(serve, an_attempt_that_cannot_lock_its_job_writes_nothing_into_a_directory_there_already,
     .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *locks = tu_strf("%s/data/locks/1.lock", e.dir);
	tu_write(locks, "not-a-lock", "");
	char *old = tu_strf("%s/data/repos/github-acme+app/runs/1.1", e.dir);
	tu_write(old, "logs/test.log", "an earlier run's log\n");
	long id = push(&e, "d-lock", "main", e.main_sha);
	cr_assert_eq(id, 1);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	cr_expect_eq(json_integer_value(json_object_get(run, "exit_code")), 4);
	json_decref(run);
	cr_expect_not(tu_exists("%s/outcome.json", old), "written into the old directory");
	cr_expect_not(tu_exists("%s/claim.json", old), "written into the old directory");
	char *log = tu_readf("%s/logs/test.log", old);
	cr_expect_str_eq(log, "an earlier run's log\n");
	free(log);
	free(old);
	free(locks);
	stop(&e);
}

/* Without a directory in the way, the attempt that cannot lock its job makes its own and
 * says there why it failed. */
Test(serve, an_attempt_that_cannot_lock_its_job_says_why, .timeout = 120)
{
	struct env e;
	start(&e, NULL, 0);
	char *locks = tu_strf("%s/data/locks/1.lock", e.dir);
	tu_write(locks, "not-a-lock", "");
	long id = push(&e, "d-lock", "main", e.main_sha);
	cr_assert_eq(id, 1);
	json_t *run = ts_wait_run(e.srv.addr, id, 60);
	expect_state(run, "error");
	cr_expect_eq(json_integer_value(json_object_get(run, "exit_code")), 4);
	const char *msg = json_string_value(json_object_get(run, "message"));
	cr_expect(msg && strstr(msg, "job lock"), "%s", msg ? msg : "(no message)");
	cr_expect_null(json_object_get(run, "record"));
	json_decref(run);
	free(locks);
	stop(&e);
}

/* The number of runs of /api/runs in state `state`. */
static size_t runs_in_state(struct env *e, const char *state)
{
	char *url = tu_strf("http://%s/api/runs?limit=500", e->srv.addr);
	struct ts_response r = ts_get(url);
	free(url);
	cr_assert_eq(r.status, 200, "%s", r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	size_t i, n = 0;
	json_t *run;
	json_array_foreach(json_object_get(j, "runs"), i, run)
	{
		n += strcmp(state_of(run), state) == 0;
	}
	json_decref(j);
	ts_response_free(&r);
	return n;
}

/*
 * Every limit on what deliveries can ask for has a cap. The queue has one (it had none: a
 * paused server, or one far behind, queued every signed delivery, and anyone may open pull
 * requests from forks on a public repository): limits.max_queued runs waiting, of them
 * untrusted.max_queued from forks, so that forks cannot fill the queue for the
 * repository's own pushes. A delivery past it is refused with 503 and not remembered, so
 * that the forge's redelivery runs it once there is room; a newer push of a branch with a
 * queued run takes that run's place; a replay is still answered as one. Once the server
 * runs them, at most limits.concurrency runs go at once.
 */
Test(serve, the_queue_and_the_runs_at_once_are_capped, .timeout = 180)
{
	struct env e;
	start_limits(&e, "{ max_body: 64KiB, max_inflight: 64KiB, concurrency: 2, max_queued: 4 }",
		     "paused: true\nuntrusted: { max_queued: 1 }\n", 0);
	/* Runs that last a while, so that more than two at once would be seen. */
	char *sha = ts_git_commit(e.repo, ".runner.yml",
				  "version: 1\nstages:\n  test: { run: sleep 2 }\n");
	ts_sh("git -C '%s' update-ref refs/pull/7/head %s", e.repo, sha);
	long a = push(&e, "q-a", "a", sha);
	long b = push(&e, "q-b", "b", sha);
	char *pr7 = pr_body("someone/fork", sha, "feature", sha);
	long f = accepted(ts_deliver(e.srv.addr, "github", "pull_request", "q-f7", SECRET_GH, pr7));
	json_t *p8 = json_loads(pr7, 0, NULL);
	json_object_set_new(p8, "number", json_integer(8));
	char *pr8 = ts_dump(p8);
	json_decref(p8);
	expect(ts_deliver(e.srv.addr, "github", "pull_request", "q-f8", SECRET_GH, pr8), 503,
	       "untrusted.max_queued");
	long c = push(&e, "q-c", "c", sha);
	char *d_body = push_body("acme/app", "refs/heads/d", sha);
	expect(ts_deliver(e.srv.addr, "github", "push", "q-d", SECRET_GH, d_body), 503,
	       "limits.max_queued");
	/* A replay is answered as one, full queue or not. */
	char *a_body = push_body("acme/app", "refs/heads/a", sha);
	expect(ts_deliver(e.srv.addr, "github", "push", "q-a", SECRET_GH, a_body), 202,
	       "duplicate");
	/* A newer push of branch a takes the place of a's queued run. */
	char *sha2 = ts_git_commit(e.repo, "more", "more");
	char *a2_body = push_body("acme/app", "refs/heads/a", sha2);
	long a2 = accepted(ts_deliver(e.srv.addr, "github", "push", "q-a2", SECRET_GH, a2_body));
	json_t *run = ts_run(e.srv.addr, a);
	expect_state(run, "cancelled");
	json_decref(run);
	size_t n;
	cr_assert_eq(list_runs(&e, "/api/runs", &n), 200);
	cr_assert_eq(n, 5, "only the runs accepted were queued: %zu", n);
	cr_assert_eq(runs_in_state(&e, "queued"), 4);
	wait_log(&e, "\"delivery\":\"q-d\",\"msg\":\"the queue is full (limits.max_queued)", 5);
	wait_log(&e,
		 "\"delivery\":\"q-f8\",\"msg\":\"the queue of pull requests from forks is full",
		 5);
	/* Counted apart from the refused deliveries (a bad signature, a bad request): a full
	 * queue is the server's capacity, not a sender's fault (both were "rejected"). */
	char *metrics = tu_strf("http://%s/metrics", e.srv.addr);
	expect(ts_get(metrics), 200, "runner_webhook_deliveries_total{result=\"queue_full\"} 2\n");
	expect(ts_get(metrics), 200, "runner_webhook_deliveries_total{result=\"rejected\"} 0\n");
	free(metrics);

	/* Resumed: the queue drains, never more than two runs at once. */
	char *cfg = tu_read(e.srv.config);
	const char *at = strstr(cfg, "paused: true");
	cr_assert_not_null(at);
	char *resumed =
		tu_strf("%.*spaused: false%s", (int)(at - cfg), cfg, at + strlen("paused: true"));
	ts_reload(&e.srv, resumed);
	wait_log(&e, "\"event\":\"server.reloaded\"", 10);
	size_t most = 0;
	double t0 = ts_now();
	while (runs_in_state(&e, "queued") + runs_in_state(&e, "running") > 0) {
		size_t now = runs_in_state(&e, "running");
		most = now > most ? now : most;
		cr_assert_lt(ts_now() - t0, 120, "the queue did not drain");
		ts_sleep(0.02);
	}
	cr_assert_leq(most, 2, "%zu runs at once with concurrency 2", most);
	cr_assert_geq(most, 1);
	long ids[] = { b, f, c, a2 };
	for (size_t i = 0; i < 4; i++) {
		json_t *r = ts_wait_run(e.srv.addr, ids[i], 5);
		cr_assert_str_neq(state_of(r), "queued");
		json_decref(r);
	}
	/* The refused delivery, delivered again (the forge's "Redeliver"), runs now. */
	long d = accepted(ts_deliver(e.srv.addr, "github", "push", "q-d", SECRET_GH, d_body));
	run = ts_wait_run(e.srv.addr, d, 60);
	expect_state(run, "passed");
	json_decref(run);
	free(cfg);
	free(resumed);
	free(sha);
	free(sha2);
	free(pr7);
	free(pr8);
	free(d_body);
	free(a_body);
	free(a2_body);
	stop(&e);
}
