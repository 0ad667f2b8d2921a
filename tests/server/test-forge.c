/*
 * test-forge.c - commit status requests for GitHub, GitLab and Gitea, sent over real HTTP
 * to a local recording server. A real forge cannot run here: the recording server stands
 * in for the status APIs and checks what they would receive (method, path, token, body).
 */
#include <criterion/criterion.h>

#include "config.h"
#include "forge.h"
#include "testserve.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char sha[] = "4f2c9d1e0b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d";

static struct repo_config repo(enum forge f, const char *name, const char *url)
{
	return (struct repo_config){ .name = name,
				     .forge = f,
				     .api_url = url,
				     .api_token = "tok-123456",
				     .status_context = "runner" };
}

static json_t *send_one(struct ts_recorder *rec, const struct repo_config *r, const char *state,
			const char *desc)
{
	struct forge_request req;
	cr_assert_eq(
		forge_status_request(r, sha, state, desc, "https://ci.example.com/runs/7", &req),
		0);
	char err[128];
	size_t before = ts_recorder_count(rec);
	int code = forge_send(&req, 10000, err, sizeof(err));
	forge_request_release(&req);
	cr_assert_eq(code, 201, "%s", err);
	cr_assert_eq(ts_recorder_count(rec), before + 1);
	return ts_recorder_get(rec, before);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

Test(forge, github_status)
{
	struct ts_recorder *rec = ts_recorder_start(0);
	char *base;
	cr_assert_geq(asprintf(&base, "%s/api/v3/", ts_recorder_url(rec)), 0);
	struct repo_config r = repo(FORGE_GITHUB, "acme/webapp", base);
	json_t *q = send_one(rec, &r, "failure", "blocked by a security gate");
	cr_assert_str_eq(jstr(q, "method"), "POST");
	char *want;
	cr_assert_geq(asprintf(&want, "/api/v3/repos/acme/webapp/statuses/%s", sha), 0);
	cr_assert_str_eq(jstr(q, "url"), want);
	cr_assert_str_eq(jstr(q, "authorization"), "Bearer tok-123456");
	cr_assert_str_eq(jstr(q, "content_type"), "application/json");
	json_t *b = json_loads(jstr(q, "body"), 0, NULL);
	cr_assert_str_eq(jstr(b, "state"), "failure");
	cr_assert_str_eq(jstr(b, "context"), "runner");
	cr_assert_str_eq(jstr(b, "description"), "blocked by a security gate");
	cr_assert_str_eq(jstr(b, "target_url"), "https://ci.example.com/runs/7");
	json_decref(b);
	json_decref(q);
	free(want);
	free(base);
	ts_recorder_stop(rec);
}

Test(forge, gitea_status)
{
	struct ts_recorder *rec = ts_recorder_start(0);
	struct repo_config r = repo(FORGE_GITEA, "acme/webapp", ts_recorder_url(rec));
	json_t *q = send_one(rec, &r, "pending", "running");
	char *want;
	cr_assert_geq(asprintf(&want, "/api/v1/repos/acme/webapp/statuses/%s", sha), 0);
	cr_assert_str_eq(jstr(q, "url"), want);
	cr_assert_str_eq(jstr(q, "authorization"), "token tok-123456");
	json_t *b = json_loads(jstr(q, "body"), 0, NULL);
	cr_assert_str_eq(jstr(b, "state"), "pending");
	json_decref(b);
	json_decref(q);
	free(want);
	ts_recorder_stop(rec);
}

Test(forge, gitlab_status_maps_states)
{
	struct ts_recorder *rec = ts_recorder_start(0);
	struct repo_config r = repo(FORGE_GITLAB, "group/sub/project", ts_recorder_url(rec));
	static const char *const cases[][3] = {
		{ "pending", "queued", "pending" },
		{ "pending", "running", "running" },
		{ "success", "passed", "success" },
		{ "failure", "a stage failed", "failed" },
		{ "error", "cancelled: superseded by run 9", "canceled" },
		{ "error", "error: fetch failed", "failed" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *q = send_one(rec, &r, cases[i][0], cases[i][1]);
		char *want;
		cr_assert_geq(asprintf(&want,
				       "/api/v4/projects/group%%2Fsub%%2Fproject/statuses/%s", sha),
			      0);
		cr_assert_str_eq(jstr(q, "url"), want);
		cr_assert_str_eq(jstr(q, "private_token"), "tok-123456");
		json_t *b = json_loads(jstr(q, "body"), 0, NULL);
		cr_assert_str_eq(jstr(b, "state"), cases[i][2], "%s/%s", cases[i][0], cases[i][1]);
		cr_assert_str_eq(jstr(b, "name"), "runner");
		json_decref(b);
		json_decref(q);
		free(want);
	}
	ts_recorder_stop(rec);
}

Test(forge, no_token_no_request_and_long_descriptions_are_cut)
{
	struct repo_config r = repo(FORGE_GITHUB, "acme/webapp", "http://127.0.0.1:1");
	struct forge_request req;
	r.api_token = NULL;
	cr_assert_eq(forge_status_request(&r, sha, "success", "passed", NULL, &req), -ENOENT);
	r.api_token = "tok";
	char desc[400];
	memset(desc, 'd', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	cr_assert_eq(forge_status_request(&r, sha, "error", desc, NULL, &req), 0);
	json_t *b = json_loads(req.body, 0, NULL);
	cr_assert_leq(strlen(jstr(b, "description")), 140);
	cr_assert_null(json_object_get(b, "target_url"));
	json_decref(b);
	/* Nobody listens on port 1: no response, not a status code. */
	char err[128];
	cr_assert_lt(forge_send(&req, 2000, err, sizeof(err)), 0);
	forge_request_release(&req);
}

struct stopped_call {
	struct forge_request req;
	atomic_bool abort;
	uint64_t timeout_ms;
	int code;
	char err[128];
};

static void *send_stoppable(void *arg)
{
	struct stopped_call *sc = arg;
	sc->code = forge_send_until(&sc->req, sc->timeout_ms, &sc->abort, sc->err, sizeof(sc->err));
	return NULL;
}

/*
 * A call stopped (the server shutting down) or cut off by its timeout after the forge's
 * status line came counts with that status: the forge has taken it, and it is not to be
 * made again. It counted as not made (-ECANCELED, -ETIMEDOUT), and was made again.
 */
Test(forge, a_call_answered_then_stopped_or_timed_out_counts_as_answered, .timeout = 120)
{
	struct ts_halfans *h = ts_halfans_start(201);
	struct repo_config r = repo(FORGE_GITHUB, "acme/app", ts_halfans_url(h));
	/* Stopped: the status line and the headers are read, the end of the body held. */
	struct stopped_call sc = { .timeout_ms = 60000 };
	cr_assert_eq(forge_status_request(&r, sha, "pending", "queued", NULL, &sc.req), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, send_stoppable, &sc), 0);
	cr_assert_eq(ts_halfans_wait_held(h, 1, 60), 1);
	atomic_store(&sc.abort, true);
	pthread_join(t, NULL);
	cr_assert_eq(sc.code, 201, "%d: %s", sc.code, sc.err);
	/* Timed out: the same (the status line comes at once; the timeout is long enough
	 * for it on a busy machine). */
	sc.timeout_ms = 10000;
	atomic_store(&sc.abort, false);
	send_stoppable(&sc);
	cr_assert_eq(sc.code, 201, "%d: %s", sc.code, sc.err);
	cr_assert_eq(ts_halfans_requests(h), 2);
	forge_request_release(&sc.req);
	ts_halfans_stop(h);
}
