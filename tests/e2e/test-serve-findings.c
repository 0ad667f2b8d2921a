/*
 * test-serve-findings.c - `GET /api/runs/<id>/findings` end to end: a real server process
 * on 127.0.0.1, a real repository whose pushed commits carry a secret, and real HTTP.
 *
 * What the endpoint must give: every stage's findings with what it takes to act on them
 * (the fingerprint that `history_allow` accepts, the commit and places of a history
 * finding, whether and why one is suppressed), nothing that could be a secret (no snippet,
 * no key, the repository's secrets masked), pages of a bounded size, and an error, never
 * an empty list, for a run without a readable report.
 */
#include <criterion/criterion.h>

#include "testserve.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET_GH "github-webhook-secret-0123456789"
#define DEPLOY	  "deploy-key-value-not-for-forks"
/* A secret of the repository's secrets file. */
#define FILE_SECRET "file-secret-value-0123456789"
#define API_TOKEN   "api-token-0123456789abcdef-findings"
/* Real-looking AWS access key ids (AKIA + 16), written in two parts so that this file
 * does not hold them whole. */
#define KEY_A1 "AKIA"
#define KEY_A2 "Z7QWERTYUIOPASDF"
#define KEY_B1 "AKIA"
#define KEY_B2 "Q2WERTYUIOPASDFZ"
/* Text on a line of code that no secrets rule takes for a secret: a SAST finding's snippet
 * in report.json quotes it, and the API must not. */
#define CANARY "Zebra-Moon-Quartz-4471"

struct env {
	char *dir;
	char *repo;
	char *main_sha;
	struct ts_server srv;
};

static const char pipeline[] = "version: 1\n"
			       "name: app\n"
			       "stages:\n"
			       "  sast: { uses: sast }\n"
			       "  secrets: { uses: secrets }\n";

/* server.yml for acme/app, with extra lines for the repository (history_allow) and
 * for the server (access). */
static char *config(struct env *e, const char *server_extra, const char *repo_extra)
{
	return tu_strf("listen: 127.0.0.1:0\n"
		       "data_dir: %s/data\n"
		       "log_level: debug\n"
		       "shutdown_grace: 200ms\n"
		       "%s"
		       "repositories:\n"
		       "  - name: acme/app\n"
		       "    forge: github\n"
		       "    secret: " SECRET_GH "\n"
		       "    clone_url: %s\n"
		       "    secrets: { deploy_key: " DEPLOY " }\n"
		       "    secrets_file: %s/run-secrets.yml\n"
		       "%s",
		       e->dir, server_extra ? server_extra : "", e->repo, e->dir,
		       repo_extra ? repo_extra : "");
}

static void start(struct env *e, const char *pipe, const char *server_extra, const char *repo_extra)
{
	e->dir = tu_tmpdir();
	e->repo = tu_strf("%s/repo", e->dir);
	e->main_sha = ts_git_init(e->repo, pipe);
	tu_write(e->dir, "run-secrets.yml", "file_key: " FILE_SECRET "\n");
	ts_sh("chmod 600 '%s/run-secrets.yml'", e->dir);
	char *cfg = config(e, server_extra, repo_extra);
	ts_start(&e->srv, e->dir, cfg);
	free(cfg);
}

static void stop(struct env *e)
{
	ts_client_auth(NULL);
	if (e->srv.pid > 0) {
		cr_assert_eq(ts_stop(&e->srv, 30), 0, "the server stops cleanly on SIGTERM");
	}
	ts_release(&e->srv);
	tu_rmdir(e->dir);
	free(e->dir);
	free(e->repo);
	free(e->main_sha);
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

/* A push of main from before to after, as GitHub sends it: the run's id. */
static long push_range(struct env *e, const char *delivery, const char *before, const char *after)
{
	json_t *p = ts_payload("github/push/with-new-branch.payload.json");
	ts_set(p, "ref", "refs/heads/main");
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

static void expect_state(json_t *run, const char *want)
{
	const char *s = json_string_value(json_object_get(run, "state"));
	char *dump = json_dumps(run, 0);
	cr_assert(s && strcmp(s, want) == 0, "want %s: %s", want, dump ? dump : "(no run)");
	free(dump);
}

/* GET path (with the client's Authorization, ts_client_auth). */
static struct ts_response get(struct env *e, const char *path)
{
	char *url = tu_strf("http://%s%s", e->srv.addr, path);
	struct ts_response r = ts_get(url);
	free(url);
	return r;
}

/* GET path, which must answer 200 with JSON: the JSON (body in *text if not NULL). */
static json_t *get_json(struct env *e, const char *path, char **text)
{
	struct ts_response r = get(e, path);
	cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	cr_assert_not_null(j, "%s: not JSON: %s", path, r.body);
	if (text) {
		*text = r.body;
		r.body = NULL;
	}
	ts_response_free(&r);
	return j;
}

/* GET path, which must answer status with an {"error": ...} holding needle. */
static void expect_error(struct env *e, const char *path, long status, const char *needle)
{
	struct ts_response r = get(e, path);
	cr_assert_eq(r.status, status, "%s: want %ld, got %ld: %s", path, status, r.status, r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	const char *err = json_string_value(json_object_get(j, "error"));
	cr_assert(err && strstr(err, needle), "%s: '%s' not in %s", path, needle, r.body);
	cr_assert_null(json_object_get(j, "findings"), "%s: an error with findings: %s", path,
		       r.body);
	json_decref(j);
	ts_response_free(&r);
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The first finding of stage with rule, or NULL. */
static json_t *finding(json_t *list, const char *stage, const char *rule)
{
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f)
	{
		const char *s = str(f, "stage"), *r = str(f, "rule_id");
		if (s && r && strcmp(s, stage) == 0 && strcmp(r, rule) == 0) {
			return f;
		}
	}
	return NULL;
}

static bool is_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strchr("0123456789abcdef", s[i])) {
			return false;
		}
	}
	return true;
}

/* Every member a finding of the API may have: anything else (the snippet, the redacted
 * form, the entropy, a kind's extra members) is not passed through. */
static void expect_only_safe_members(json_t *f)
{
	static const char *const allowed[] = {
		"stage",       "kind",	      "rule_id",     "severity", "title",	"message",
		"file",	       "line",	      "column",	     "commit",	 "blob",	"places",
		"more_places", "fingerprint", "disposition", "blocking", "suppression",
	};
	const char *k;
	json_t *v;
	json_object_foreach(f, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed) && !ok; i++) {
			ok = strcmp(k, allowed[i]) == 0;
		}
		cr_assert(ok, "member '%s' passed through", k);
	}
}

/*
 * A push whose commits carry an AWS key (in a file whose name has HTML in it), a second
 * key accepted by an inline comment whose reason quotes one of the repository's
 * secrets, and a SAST finding on a line with text no rule takes for a secret: the run is
 * blocked, and its findings are read through the API, every stage's, with what it takes to
 * act on them and nothing of the keys, the snippet or the repository's secret, in pages.
 * The run page lists the blocking ones, escaped. The server log holds no key either.
 */
Test(findings, a_blocked_runs_findings_are_read_through_the_api, .timeout = 180)
{
	struct env e = { 0 };
	start(&e, pipeline, "access: { token: " API_TOKEN " }\n", NULL);
	ts_client_auth("Bearer " API_TOKEN);
	char *line = tu_strf("aws_access_key_id = %s%s\n", KEY_A1, KEY_A2);
	char *with_key = ts_git_commit(e.repo, "config/a<b>.txt", line);
	char *fixture =
		tu_strf("aws_access_key_id = %s%s  # runner:ignore secret.aws-access-key-id -- "
			"made up, like " DEPLOY " and " FILE_SECRET "\n",
			KEY_B1, KEY_B2);
	free(ts_git_commit(e.repo, "tests/fixture.txt", fixture));
	char *tip = ts_git_commit(e.repo, "app.py",
				  "import requests\n"
				  "requests.get(URL, verify=False)  # " CANARY "\n");
	long id = push_range(&e, "delivery-findings-1", e.main_sha, tip);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "blocked");
	char *want_url = tu_strf("/api/runs/%ld/findings", id);
	cr_assert_str_eq(str(run, "findings_url"), want_url, "the run links its findings");
	json_decref(run);

	/* The report holds what the API must not pass on, the snippet with the canary; the
	 * repository's secrets that the history scan's suppression reason quotes are masked
	 * there as in every stage's result (and again by the API: below). */
	char *rpath = ts_sh_out("ls '%s'/data/repos/*/runs/*/report.json", e.dir);
	char *report = tu_read(rpath);
	cr_assert_not_null(strstr(report, CANARY), "the snippet is in the report");
	cr_assert_null(strstr(report, DEPLOY), "a secret in the report: %s", report);
	cr_assert_null(strstr(report, FILE_SECRET), "a secret in the report: %s", report);

	char *text;
	json_t *page = get_json(&e, want_url, &text);
	cr_assert_null(strstr(text, KEY_A1 KEY_A2), "a key in the findings: %s", text);
	cr_assert_null(strstr(text, KEY_B1 KEY_B2), "a key in the findings: %s", text);
	cr_assert_null(strstr(text, KEY_A2), "a key in the findings: %s", text);
	cr_assert_null(strstr(text, CANARY), "a snippet in the findings: %s", text);
	cr_assert_null(strstr(text, DEPLOY), "a secret in the findings: %s", text);
	cr_assert_null(strstr(text, FILE_SECRET), "a secret in the findings: %s", text);
	cr_assert_eq(json_integer_value(json_object_get(page, "run")), id);
	cr_assert_str_eq(str(page, "state"), "blocked");
	json_t *all = json_object_get(page, "findings");
	size_t total = json_array_size(all);
	cr_assert_eq(json_integer_value(json_object_get(page, "total")), (json_int_t)total, "%s",
		     text);
	cr_assert_geq(total, 5, "%s", text);
	cr_assert_eq(json_integer_value(json_object_get(page, "offset")), 0);
	cr_assert_eq(json_integer_value(json_object_get(page, "limit")), 100, "the default");
	cr_assert(json_is_null(json_object_get(page, "next")), "one page: %s", text);
	size_t i;
	json_t *f;
	json_array_foreach(all, i, f)
	{
		expect_only_safe_members(f);
	}

	/* The history scan's finding: the commit that brought the key, where, and the
	 * fingerprint to accept it by. */
	json_t *h = finding(all, "secrets-history", "secret.aws-access-key-id");
	cr_assert_not_null(h, "%s", text);
	cr_assert_str_eq(str(h, "kind"), "secret");
	cr_assert_str_eq(str(h, "severity"), "critical");
	cr_assert_str_eq(str(h, "file"), "config/a<b>.txt");
	cr_assert_eq(json_integer_value(json_object_get(h, "line")), 1);
	cr_assert_str_eq(str(h, "commit"), with_key);
	cr_assert(is_hex(str(h, "blob"), 40), "%s", text);
	cr_assert(is_hex(str(h, "fingerprint"), 64), "%s", text);
	cr_assert_str_eq(str(h, "disposition"), "blocking");
	cr_assert(json_is_true(json_object_get(h, "blocking")));
	cr_assert_null(json_object_get(h, "suppression"));
	cr_assert_not_null(strstr(str(h, "message"), "AKIA...(sha256:"), "redacted: %s", text);
	json_t *place = json_array_get(json_object_get(h, "places"), 0);
	cr_assert_str_eq(str(place, "commit"), with_key);
	cr_assert_str_eq(str(place, "path"), "config/a<b>.txt");
	/* The fingerprint is the report's. */
	cr_assert_not_null(strstr(report, str(h, "fingerprint")));

	/* The accepted fixture: suppressed, why, and the repository's secret masked in the
	 * reason (the history scan's report does not mask it). */
	json_t *sup = NULL;
	json_array_foreach(all, i, f)
	{
		if (strcmp(str(f, "stage"), "secrets-history") == 0 &&
		    strcmp(str(f, "file"), "tests/fixture.txt") == 0) {
			sup = f;
		}
	}
	cr_assert_not_null(sup, "%s", text);
	cr_assert_str_eq(str(sup, "disposition"), "suppressed");
	cr_assert(json_is_false(json_object_get(sup, "blocking")));
	json_t *why = json_object_get(sup, "suppression");
	cr_assert_str_eq(str(why, "kind"), "inline");
	cr_assert_str_eq(str(why, "reason"), "made up, like *** and ***");

	/* The pipeline's stages: the secrets scan of the tip, and the SAST finding. */
	json_t *s = finding(all, "secrets", "secret.aws-access-key-id");
	cr_assert_not_null(s, "%s", text);
	cr_assert_null(json_object_get(s, "commit"), "a tree scan's finding has no commit");
	json_t *sast = finding(all, "sast", "py.requests-verify-disabled");
	cr_assert_not_null(sast, "%s", text);
	cr_assert_str_eq(str(sast, "file"), "app.py");
	cr_assert_eq(json_integer_value(json_object_get(sast, "line")), 2);
	cr_assert_str_eq(str(sast, "severity"), "high");
	cr_assert(is_hex(str(sast, "fingerprint"), 64));

	/* Pages of one, followed by `next`, give the same findings in the same order. */
	char *path = tu_strf("%s?limit=1", want_url);
	for (i = 0; path; i++) {
		json_t *p = get_json(&e, path, NULL);
		json_t *one = json_object_get(p, "findings");
		cr_assert_eq(json_array_size(one), 1, "%s", path);
		cr_assert(json_equal(json_array_get(one, 0), json_array_get(all, i)), "%s", path);
		cr_assert_eq(json_integer_value(json_object_get(p, "total")), (json_int_t)total);
		cr_assert_eq(json_integer_value(json_object_get(p, "offset")), (json_int_t)i);
		cr_assert_eq(json_integer_value(json_object_get(p, "limit")), 1);
		free(path);
		const char *next = str(p, "next");
		path = next ? strdup(next) : NULL;
		if (path) {
			char *want = tu_strf("%s?offset=%zu&limit=1", want_url, i + 1);
			cr_assert_str_eq(path, want);
			free(want);
		}
		json_decref(p);
	}
	cr_assert_eq(i, total, "every page was followed");
	/* Past the end: an empty page, that says how many there are. */
	path = tu_strf("%s?offset=%zu", want_url, total);
	json_t *p = get_json(&e, path, NULL);
	cr_assert_eq(json_array_size(json_object_get(p, "findings")), 0);
	cr_assert_eq(json_integer_value(json_object_get(p, "total")), (json_int_t)total);
	cr_assert(json_is_null(json_object_get(p, "next")));
	json_decref(p);
	free(path);
	/* A limit above the largest page is the largest page; what is not a count is 400. */
	path = tu_strf("%s?limit=100000", want_url);
	p = get_json(&e, path, NULL);
	cr_assert_eq(json_integer_value(json_object_get(p, "limit")), 500);
	json_decref(p);
	free(path);
	static const char *const bad[] = { "?limit=0", "?limit=x", "?offset=-1",
					   "?limit=", "?offset=1e3" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
		path = tu_strf("%s%s", want_url, bad[k]);
		expect_error(&e, path, 400, "must be");
		free(path);
	}

	/* The run page lists the blocking findings, escaped, with their fingerprints. */
	char *page_path = tu_strf("/runs/%ld", id);
	struct ts_response html = get(&e, page_path);
	cr_assert_eq(html.status, 200);
	cr_assert_not_null(strstr(html.body, "Blocking findings"), "%s", html.body);
	cr_assert_not_null(strstr(html.body, "config/a&lt;b&gt;.txt"), "%s", html.body);
	cr_assert_null(strstr(html.body, "a<b>"), "unescaped: %s", html.body);
	cr_assert_not_null(strstr(html.body, "py.requests-verify-disabled"), "%s", html.body);
	cr_assert_not_null(strstr(html.body, str(h, "fingerprint")), "%s", html.body);
	char *short_commit = tu_strf("%.12s:config", with_key);
	cr_assert_not_null(strstr(html.body, short_commit), "%s", html.body);
	free(short_commit);
	cr_assert_null(strstr(html.body, KEY_A2), "%s", html.body);
	cr_assert_null(strstr(html.body, CANARY), "%s", html.body);
	cr_assert_null(strstr(html.body, DEPLOY), "%s", html.body);
	cr_assert_null(strstr(html.body, FILE_SECRET), "%s", html.body);
	cr_assert_null(strstr(html.body, "tests/fixture.txt"), "not blocking: %s", html.body);
	cr_assert_not_null(strstr(html.body, want_url), "links the JSON: %s", html.body);
	ts_response_free(&html);

	/* Without its report the run has no findings to show: an error, never an empty
	 * list. A report that cannot be read is the server's error. */
	char *moved = tu_strf("%s.moved", rpath);
	cr_assert_eq(rename(rpath, moved), 0);
	expect_error(&e, want_url, 404, "no report");
	tu_write(e.dir, "broken.json", "{\"stages\": [{\"name\": \"sast\", \"result\": ");
	char *broken = tu_strf("%s/broken.json", e.dir);
	cr_assert_eq(rename(broken, rpath), 0);
	expect_error(&e, want_url, 500, "cannot be read");
	tu_write(e.dir, "broken.json",
		 "{\"stages\": [{\"name\": \"sast\", \"result\": {\"findings\": {}}}]}\n");
	cr_assert_eq(rename(broken, rpath), 0);
	expect_error(&e, want_url, 500, "cannot be read");
	tu_write(e.dir, "broken.json",
		 "{\"stages\": [{\"name\": \"sast\", \"result\": {\"findings\": [3]}}]}\n");
	cr_assert_eq(rename(broken, rpath), 0);
	expect_error(&e, want_url, 500, "cannot be read");
	/* A report that holds the repository's secrets (written before the history scan's
	 * result was masked): the API masks them again. */
	tu_write(e.dir, "broken.json",
		 "{\"stages\": [{\"name\": \"secrets-history\", \"status\": \"passed\", "
		 "\"message\": \"stopped at " API_TOKEN "\", "
		 "\"result\": {\"summary\": \"1 finding, like " FILE_SECRET "\", "
		 "\"findings\": [{\"rule_id\": \"secret.x\", \"message\": "
		 "\"a " DEPLOY "\", \"suppression\": {\"kind\": \"inline\", \"reason\": "
		 "\"made up, like " FILE_SECRET "\"}}]}}]}\n");
	cr_assert_eq(rename(broken, rpath), 0);
	char *old_text;
	json_decref(get_json(&e, want_url, &old_text));
	cr_assert_null(strstr(old_text, DEPLOY), "a secret in the findings: %s", old_text);
	cr_assert_null(strstr(old_text, FILE_SECRET), "a secret in the findings: %s", old_text);
	cr_assert_not_null(strstr(old_text, "made up, like ***"), "%s", old_text);
	free(old_text);
	/* The run and its page show the stage's message and summary masked the same way. */
	char *run_path = tu_strf("/api/runs/%ld", id);
	json_t *old_run = get_json(&e, run_path, &old_text);
	json_t *old_stage = json_array_get(json_object_get(old_run, "stages"), 0);
	cr_assert_str_eq(str(old_stage, "message"), "stopped at ***", "%s", old_text);
	cr_assert_str_eq(str(old_stage, "summary"), "1 finding, like ***", "%s", old_text);
	cr_assert_null(strstr(old_text, API_TOKEN), "a credential in the run: %s", old_text);
	cr_assert_null(strstr(old_text, FILE_SECRET), "a secret in the run: %s", old_text);
	json_decref(old_run);
	free(old_text);
	html = get(&e, page_path);
	cr_assert_eq(html.status, 200);
	cr_assert_not_null(strstr(html.body, "1 finding, like ***"), "%s", html.body);
	cr_assert_null(strstr(html.body, API_TOKEN), "a credential on the page: %s", html.body);
	cr_assert_null(strstr(html.body, FILE_SECRET), "a secret on the page: %s", html.body);
	ts_response_free(&html);
	/* Not masked, not shown: the secrets file cannot be read. */
	ts_sh("chmod 644 '%s/run-secrets.yml'", e.dir);
	old_run = get_json(&e, run_path, &old_text);
	old_stage = json_array_get(json_object_get(old_run, "stages"), 0);
	cr_assert_not_null(strstr(str(old_stage, "message"), "not shown"), "%s", old_text);
	cr_assert_null(json_object_get(old_stage, "summary"), "%s", old_text);
	cr_assert_null(strstr(old_text, API_TOKEN), "a credential in the run: %s", old_text);
	json_decref(old_run);
	free(old_text);
	ts_sh("chmod 600 '%s/run-secrets.yml'", e.dir);
	free(run_path);
	cr_assert_eq(rename(moved, rpath), 0);
	json_decref(get_json(&e, want_url, NULL));
	/* A secrets file that cannot be read: nothing is shown unmasked. */
	ts_sh("chmod 644 '%s/run-secrets.yml'", e.dir);
	expect_error(&e, want_url, 500, "secrets file");
	html = get(&e, page_path);
	cr_assert_eq(html.status, 200);
	cr_assert_not_null(strstr(html.body, "Not shown"), "%s", html.body);
	cr_assert_null(strstr(html.body, str(h, "fingerprint")), "%s", html.body);
	ts_response_free(&html);
	ts_sh("chmod 600 '%s/run-secrets.yml'", e.dir);
	/* An unknown run, and the token. */
	expect_error(&e, "/api/runs/999/findings", 404, "no such run");
	ts_client_auth(NULL);
	struct ts_response r = get(&e, want_url);
	cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
	cr_assert_null(strstr(r.body, "findings\""));
	ts_response_free(&r);

	cr_assert_eq(ts_stop(&e.srv, 30), 0);
	e.srv.pid = 0;
	char *log = tu_read(e.srv.log);
	cr_assert_null(strstr(log, KEY_A2), "a key in the server log: %s", log);
	cr_assert_null(strstr(log, KEY_B2), "a key in the server log: %s", log);
	cr_assert_null(strstr(log, CANARY), "a snippet in the server log: %s", log);
	cr_assert_null(strstr(log, DEPLOY), "a secret in the server log: %s", log);
	cr_assert_null(strstr(log, FILE_SECRET), "a secret in the server log: %s", log);
	free(log);
	free(page_path);
	free(broken);
	free(moved);
	json_decref(page);
	free(text);
	free(report);
	free(rpath);
	free(want_url);
	free(tip);
	free(fixture);
	free(with_key);
	free(line);
	stop(&e);
}

/*
 * The workflow docs/server.md describes for a finding of the history that is not a
 * secret: the blocked run's findings give its fingerprint, an entry of `history_allow`
 * with it accepts it (a reload), and the branch's next push passes, the finding shown as
 * suppressed with the entry's reason and expiry.
 */
Test(findings, the_fingerprint_a_blocked_run_shows_accepts_its_finding, .timeout = 180)
{
	struct env e = { 0 };
	start(&e, "version: 1\nstages:\n  test: { run: 'true' }\n", NULL, NULL);
	char *line = tu_strf("aws_access_key_id = %s%s\n", KEY_A1, KEY_A2);
	char *with_key = ts_git_commit(e.repo, "tests/fixture.txt", line);
	ts_sh("cd '%s' && git rm -q tests/fixture.txt && git -c user.name=t -c user.email=t@t "
	      "commit -qm 'remove the key'",
	      e.repo);
	char *tip = ts_sh_out("git -C '%s' rev-parse HEAD", e.repo);
	long id = push_range(&e, "delivery-fp-1", e.main_sha, tip);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "blocked");
	json_decref(run);

	char *path = tu_strf("/api/runs/%ld/findings", id);
	char *text;
	json_t *page = get_json(&e, path, &text);
	json_t *all = json_object_get(page, "findings");
	cr_assert_eq(json_array_size(all), 1, "%s", text);
	json_t *f = json_array_get(all, 0);
	cr_assert_str_eq(str(f, "stage"), "secrets-history");
	cr_assert_str_eq(str(f, "commit"), with_key);
	cr_assert_str_eq(str(f, "disposition"), "blocking");
	char *fp = strdup(str(f, "fingerprint"));
	cr_assert(is_hex(fp, 64), "%s", text);

	char *allow = tu_strf("    history_allow:\n"
			      "      - fingerprint: %s\n"
			      "        reason: a made-up key in a test fixture\n"
			      "        expires: 2099-12-31\n",
			      fp);
	char *cfg = config(&e, NULL, allow);
	ts_reload(&e.srv, cfg);
	free(cfg);
	/* The reload is in force once the log says so. */
	ts_wait_log(&e.srv, "\"event\":\"server.reloaded\"", 1, 30);
	char *next = ts_git_commit(e.repo, "README", "an app\n");
	long id2 = push_range(&e, "delivery-fp-2", tip, next);
	run = ts_wait_run(e.srv.addr, id2, 120);
	expect_state(run, "passed");
	json_decref(run);
	free(path);
	path = tu_strf("/api/runs/%ld/findings", id2);
	json_t *page2 = get_json(&e, path, NULL);
	json_t *g = json_array_get(json_object_get(page2, "findings"), 0);
	cr_assert_eq(json_array_size(json_object_get(page2, "findings")), 1);
	cr_assert_str_eq(str(g, "fingerprint"), fp);
	cr_assert_str_eq(str(g, "disposition"), "suppressed");
	cr_assert(json_is_false(json_object_get(g, "blocking")));
	json_t *why = json_object_get(g, "suppression");
	cr_assert_str_eq(str(why, "kind"), "allow");
	cr_assert_str_eq(str(why, "reason"), "a made-up key in a test fixture");
	cr_assert_str_eq(str(why, "expires"), "2099-12-31");
	json_decref(page2);
	free(next);
	free(allow);
	free(fp);
	free(text);
	json_decref(page);
	free(path);
	free(tip);
	free(with_key);
	free(line);
	stop(&e);
}

/* A run that has not finished has no findings yet: an error that says so, not an empty
 * list that reads as "nothing found". */
Test(findings, a_run_not_finished_has_no_findings_yet, .timeout = 60)
{
	struct env e = { 0 };
	start(&e, pipeline, "paused: true\n", NULL);
	long id = push_range(&e, "delivery-queued-1", "0000000000000000000000000000000000000000",
			     e.main_sha);
	char *path = tu_strf("/api/runs/%ld/findings", id);
	expect_error(&e, path, 409, "not finished");
	json_t *run = ts_run(e.srv.addr, id);
	expect_state(run, "queued");
	cr_assert(json_is_null(json_object_get(run, "findings_url")), "no report: no link");
	json_decref(run);
	free(path);
	stop(&e);
}

/* A push whose pipeline cannot start after its history scan found a secret: the run is an
 * error, and what the scan found is still in its report, so that the API lists it and its
 * fingerprint can be accepted. */
Test(findings, a_run_whose_pipeline_cannot_start_keeps_its_history_findings, .timeout = 180)
{
	struct env e = { 0 };
	start(&e, "version: 1\nstages:\n  test: { run: 'true' }\n", NULL, NULL);
	char *line = tu_strf("aws_access_key_id = %s%s\n", KEY_A1, KEY_A2);
	char *with_key = ts_git_commit(e.repo, "tests/fixture.txt", line);
	char *tip = ts_git_commit(e.repo, ".runner.yml", "version: 1\nstages: [ unclosed\n");
	long id = push_range(&e, "delivery-early-1", e.main_sha, tip);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "error");
	cr_assert(json_is_string(json_object_get(run, "findings_url")), "the run has a report");
	json_decref(run);

	char *path = tu_strf("/api/runs/%ld/findings", id);
	char *text;
	json_t *page = get_json(&e, path, &text);
	json_t *all = json_object_get(page, "findings");
	cr_assert_eq(json_array_size(all), 1, "%s", text);
	json_t *f = json_array_get(all, 0);
	cr_assert_str_eq(str(f, "stage"), "secrets-history");
	cr_assert_str_eq(str(f, "rule_id"), "secret.aws-access-key-id", "%s", text);
	cr_assert_str_eq(str(f, "commit"), with_key);
	cr_assert_str_eq(str(f, "disposition"), "blocking");
	cr_assert(is_hex(str(f, "fingerprint"), 64), "%s", text);
	cr_assert_null(strstr(text, KEY_A2), "no key in the answer: %s", text);

	/* The run page shows it with the pipeline's error. */
	char *page_path = tu_strf("/runs/%ld", id);
	struct ts_response r = get(&e, page_path);
	cr_assert_eq(r.status, 200, "%ld", r.status);
	cr_assert_not_null(strstr(r.body, str(f, "fingerprint")), "%s", r.body);
	ts_response_free(&r);
	free(page_path);
	free(text);
	json_decref(page);
	free(path);
	free(tip);
	free(with_key);
	free(line);
	stop(&e);
}

/* A run's message goes to the forge's commit status, which anyone who sees the commit
 * reads. An error that quotes the pipeline quotes whatever is there, a repository secret
 * included (here a key of the pipeline): masked, in the run and in the log. */
Test(findings, a_runs_message_does_not_quote_a_repository_secret, .timeout = 120)
{
	struct env e = { 0 };
	start(&e, "version: 1\nstages:\n  test: { run: 'true' }\n", NULL, NULL);
	char *tip = ts_git_commit(e.repo, ".runner.yml",
				  "version: 1\nstages:\n  test: { run: 'true', " DEPLOY ": 1 }\n");
	long id = push_range(&e, "delivery-message-1", e.main_sha, tip);
	json_t *run = ts_wait_run(e.srv.addr, id, 120);
	expect_state(run, "error");
	char *dump = json_dumps(run, 0);
	const char *msg = str(run, "message");
	cr_assert(msg && strstr(msg, "unknown key"), "the error is shown: %s", dump);
	cr_assert_null(strstr(dump, DEPLOY), "the secret is not: %s", dump);
	char *log = tu_read(e.srv.log);
	cr_assert_null(strstr(log, DEPLOY), "nor in the log");
	free(log);
	free(dump);
	json_decref(run);
	free(tip);
	stop(&e);
}
