/*
 * test-reporter.c - the outbox delivery thread against a real queue database and real
 * HTTP: a blocked run's security notification reaches the configured webhook after
 * retries, statuses arrive in order, and none of it changes the run's result.
 *
 * The notification webhook and the forge status API cannot run here: a local recording
 * server stands in for both (it fails the first requests with 500 to force retries).
 */
#include <criterion/criterion.h>

#include "config.h"
#include "diag.h"
#include "live.h"
#include "reporter.h"
#include "store.h"
#include "testserve.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char notify_body[] = "{\"text\":\":no_entry: Security gate blocked acme/app\","
				  "\"blocks\":[]}";

/* The server's configuration, with the notification target and the forge API on url, and
 * timeout (retry.timeout) for each call. */
static struct server_config *config_at(const char *dir, const char *url, const char *timeout)
{
	char *yaml;
	cr_assert_geq(
		asprintf(&yaml,
			 "data_dir: %s\n"
			 "public_url: http://ci.example\n"
			 "notifications: { security: { url: '%s/hooks/security' } }\n"
			 "retry: { attempts: 5, backoff: 20ms, max_backoff: 100ms, timeout: %s }\n"
			 "repositories:\n"
			 "  - name: acme/app\n"
			 "    forge: github\n"
			 "    secret: reporter-secret-0123456789\n"
			 "    clone_url: /nonexistent\n"
			 "    api: { url: '%s', token: api-token-1234 }\n",
			 dir, url, timeout, url),
		0);
	struct server_config *c = NULL;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(config_load_buffer("server.yml", yaml, strlen(yaml), &c, &dl), 0);
	diag_list_release(&dl);
	free(yaml);
	return c;
}

static struct server_config *reporter_config(const char *dir, struct ts_recorder *rec)
{
	return config_at(dir, ts_recorder_url(rec), "5s");
}

/* A push of acme/app's commit to ref, reporting statuses. */
static struct job_new push_job(const char *delivery, const char *ref, const char *branch,
			       const char *tag)
{
	struct job_new jn = {
		.repo = "acme/app",
		.forge = "github",
		.delivery = delivery,
		.event = "push",
		.ref = ref,
		.branch = branch,
		.tag = tag,
		.sha = "4f2c9d1e0b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
		.base_branch = "",
		.base_sha = "",
		.trusted = true,
		.supersede_key = "",
		.statuses = true,
	};
	/* The body's hash tells deliveries apart (the same body twice is a replay). */
	memcpy(jn.body_sha, delivery, strlen(delivery) < 32 ? strlen(delivery) : 32);
	return jn;
}

/* A queue, its configuration and the recording server, for one test. */
struct fixture {
	char *dir, *db;
	struct ts_recorder *rec;
	struct live *live; /* its configuration */
	struct store *s;
};

/* The recorder fails its first fail_first requests with 500. */
static struct fixture fixture_start(unsigned fail_first)
{
	struct fixture f = { .dir = tu_tmpdir(), .rec = ts_recorder_start(fail_first) };
	f.live = live_new(reporter_config(f.dir, f.rec));
	cr_assert_geq(asprintf(&f.db, "%s/queue.db", f.dir), 0);
	cr_assert_eq(store_open(f.db, &f.s), 0);
	return f;
}

static void fixture_stop(struct fixture *f)
{
	store_close(f->s);
	live_free(f->live);
	ts_recorder_stop(f->rec);
	free(f->db);
	tu_rmdir(f->dir);
	free(f->dir);
}

/* Deliver what the queue holds until the recorder has n calls and nothing more comes. */
static void deliver(struct fixture *f, size_t n)
{
	struct reporter *rp;
	cr_assert_eq(reporter_start(f->live, f->db, &rp), 0);
	cr_assert_geq(ts_recorder_wait(f->rec, n, 30), n);
	ts_sleep(0.2);
	reporter_stop(rp);
	cr_assert_eq(ts_recorder_count(f->rec), n, "each delivered exactly once");
}

Test(reporter, notification_and_statuses_are_delivered_with_retries, .timeout = 60)
{
	struct fixture f = fixture_start(2);
	struct store *s = f.s;
	struct ts_recorder *rec = f.rec;
	struct job_new jn = push_job("d-1", "refs/heads/main", "main", "");
	cr_assert_eq(store_enqueue(s, &jn, 1, 1000), 0);
	struct job j;
	cr_assert_eq(store_claim(s, true, 1001, &j), 1);
	cr_assert_eq(store_finish(s, j.id, 1, JOB_BLOCKED, 3, NULL, notify_body, NULL, 1002), 1);
	job_release(&j);

	/* queued, running, failure, notification: four calls, plus the two refused ones. */
	deliver(&f, 6);

	const char *want[] = { "queued", "queued", "queued", "running", "blocked", NULL };
	for (size_t i = 0; i < 6; i++) {
		json_t *q = ts_recorder_get(rec, i);
		const char *url = json_string_value(json_object_get(q, "url"));
		const char *body = json_string_value(json_object_get(q, "body"));
		if (i < 5) {
			cr_assert_not_null(strstr(url, "/repos/acme/app/statuses/"), "%zu: %s", i,
					   url);
			cr_assert_not_null(strstr(body, want[i]), "%zu: %s", i, body);
		} else {
			cr_assert_str_eq(url, "/hooks/security");
			cr_assert_str_eq(body, notify_body);
			cr_assert_str_eq(json_string_value(json_object_get(q, "content_type")),
					 "application/json");
			cr_assert_null(json_string_value(json_object_get(q, "authorization")),
				       "no forge token sent");
		}
		json_decref(q);
	}
	struct store_counts sc;
	cr_assert_eq(store_counts(s, &sc), 0);
	cr_assert_eq(sc.outbox_pending, 0);
	cr_assert_eq(sc.outbox_failed, 0);
	cr_assert_eq(sc.by_state[JOB_BLOCKED], 1, "the result is untouched");
	fixture_stop(&f);
}

/* Run job_new to its end with state st; returns its id. */
static int64_t run_to(struct store *s, struct job_new *jn, enum job_state st, int exit_code,
		      int64_t t)
{
	cr_assert_eq(store_enqueue(s, jn, 1, t), 0);
	struct job j;
	cr_assert_eq(store_claim(s, true, t + 1, &j), 1);
	cr_assert_eq(j.id, jn->job_id);
	cr_assert_eq(store_finish(s, j.id, 1, st, exit_code, NULL, NULL, NULL, t + 2), 1);
	job_release(&j);
	return jn->job_id;
}

/* A status that another run decided (the commit's tag was blocked, then its branch passed)
 * links to that run, which its description names, not to the run that posted it. */
Test(reporter, a_status_decided_by_another_run_links_to_that_run, .timeout = 60)
{
	struct fixture f = fixture_start(0);
	struct job_new tag = push_job("d-tag", "refs/tags/v1", "", "v1");
	struct job_new main = push_job("d-main", "refs/heads/main", "main", "");
	int64_t tag_id = run_to(f.s, &tag, JOB_BLOCKED, 3, 1000);
	run_to(f.s, &main, JOB_PASSED, 0, 2000);
	/* Three statuses each: queued, running, the end. */
	deliver(&f, 6);
	for (size_t i = 0; i < 6; i++) {
		json_t *q = ts_recorder_get(f.rec, i);
		json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
		cr_assert_not_null(b);
		const char *state = json_string_value(json_object_get(b, "state"));
		const char *desc = json_string_value(json_object_get(b, "description"));
		const char *target = json_string_value(json_object_get(b, "target_url"));
		cr_assert_not_null(state);
		cr_assert_not_null(desc);
		cr_assert_not_null(target);
		/* The tag's run posts its own statuses; each of the branch's run is a failure
		 * decided by the tag's run, so all six link to the tag's run. */
		char want[64];
		snprintf(want, sizeof(want), "http://ci.example/runs/%lld", (long long)tag_id);
		if (i >= 3) {
			cr_assert_str_eq(state, "failure", "%zu: %s", i, desc);
			char run[32];
			snprintf(run, sizeof(run), "run %lld ", (long long)tag_id);
			cr_assert_not_null(strstr(desc, run), "%zu: %s", i, desc);
		}
		cr_assert_str_eq(target, want, "%zu: %s (%s)", i, target, desc);
		json_decref(b);
		json_decref(q);
	}
	fixture_stop(&f);
}

/*
 * A call the forge has answered is sent, whatever happens to the rest of its answer: the
 * server stopping while the forge's answer (201, its headers read) had not ended counted
 * it as not made, and the drain at the stop, or the next start, sent it again (a
 * re-queued run's pending status twice; a security notification could reach Slack twice).
 * Here the forge holds the end of its answer until the test ends; the status is sent once,
 * and the next start sends only what came after.
 */
Test(reporter, a_call_answered_before_a_stop_is_not_sent_again, .timeout = 120)
{
	struct ts_halfans *h = ts_halfans_start(201);
	struct ts_recorder *rec = ts_recorder_start(0);
	char *dir = tu_tmpdir();
	char *db;
	cr_assert_geq(asprintf(&db, "%s/queue.db", dir), 0);
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new first = push_job("h-1", "refs/heads/main", "main", "");
	cr_assert_eq(store_enqueue(s, &first, 1, 1000), 0);

	/* Time enough to read what the forge sends before it holds the rest (tens of MiB:
	 * testserve.h), on a busy machine. */
	struct live *held = live_new(config_at(dir, ts_halfans_url(h), "2m"));
	struct reporter *rp;
	cr_assert_eq(reporter_start(held, db, &rp), 0);
	cr_assert_eq(ts_halfans_wait_held(h, 1, 60), 1, "the forge answered the queued status");
	reporter_stop(rp);
	cr_assert_eq(ts_halfans_requests(h), 1, "the answered status was sent again at the stop");
	struct store_counts sc;
	cr_assert_eq(store_counts(s, &sc), 0);
	cr_assert_eq(sc.outbox_pending, 0, "the answered status is still to be sent");
	cr_assert_eq(sc.outbox_failed, 0);

	/* The next start: only the status queued since is sent (in order: the one before
	 * would have gone first). */
	struct job_new second = push_job("h-2", "refs/heads/dev", "dev", "");
	cr_assert_eq(store_enqueue(s, &second, 1, 2000), 0);
	struct live *again = live_new(reporter_config(dir, rec));
	cr_assert_eq(reporter_start(again, db, &rp), 0);
	cr_assert_geq(ts_recorder_wait(rec, 1, 30), 1);
	reporter_stop(rp); /* sends what is due before it returns */
	cr_assert_eq(ts_recorder_count(rec), 1, "one status after the restart");
	json_t *q = ts_recorder_get(rec, 0);
	json_t *b = json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
	char want[64];
	snprintf(want, sizeof(want), "http://ci.example/runs/%lld", (long long)second.job_id);
	cr_assert_str_eq(json_string_value(json_object_get(b, "target_url")), want,
			 "the status of the run queued since");
	json_decref(b);
	json_decref(q);
	cr_assert_eq(ts_halfans_requests(h), 1);

	store_close(s);
	live_free(held);
	live_free(again);
	ts_recorder_stop(rec);
	ts_halfans_stop(h);
	tu_rmdir(dir);
	free(dir);
	free(db);
}
