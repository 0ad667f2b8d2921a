/*
 * test-store.c - the durable queue on a real SQLite file: replays, supersession, claiming,
 * attempts, finishing only the current attempt, re-queueing, the outbox and its order,
 * and that what was committed survives closing and reopening.
 */
#include <criterion/criterion.h>

#include "store.h"
#include "testutil.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static char *db;

static void setup(void)
{
	dir = tu_tmpdir();
	cr_assert_geq(asprintf(&db, "%s/queue.db", dir), 0);
}

static void teardown(void)
{
	tu_rmdir(dir);
	free(dir);
	free(db);
}

TestSuite(store, .init = setup, .fini = teardown);

static struct job_new push(const char *delivery, const char *branch, const char *sha,
			   const char *body)
{
	static char keys[8][80];
	static int k;
	char *key = keys[k++ % 8];
	snprintf(key, 80, "branch:%s", branch);
	struct job_new jn = {
		.repo = "acme/webapp",
		.forge = "github",
		.delivery = delivery,
		.event = "push",
		.ref = "refs/heads/main",
		.branch = branch,
		.tag = "",
		.sha = sha,
		.base_branch = "",
		.base_sha = "",
		.trusted = true,
		.supersede_key = key,
		.statuses = true,
	};
	/* The body hash: distinct bodies, distinct hashes. */
	memset(jn.body_sha, 0, sizeof(jn.body_sha));
	memcpy(jn.body_sha, body, strlen(body) < 32 ? strlen(body) : 32);
	return jn;
}

static const char sha_a[] = "1111111111111111111111111111111111111111";
static const char sha_b[] = "2222222222222222222222222222222222222222";

Test(store, enqueue_claim_finish_and_reopen)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new jn = push("d-1", "main", sha_a, "body-1");
	cr_assert_eq(store_enqueue(s, &jn, 1, 1000), 0);
	cr_assert_eq(jn.job_id, 1);
	cr_assert_not(jn.duplicate);
	store_close(s);

	/* Committed means on disk: a new connection sees it. */
	cr_assert_eq(store_open(db, &s), 0);
	struct job j;
	cr_assert_eq(store_claim(s, true, 2000, &j), 1);
	cr_assert_eq(j.id, 1);
	cr_assert_eq(j.state, JOB_RUNNING);
	cr_assert_eq(j.attempts, 1);
	cr_assert_str_eq(j.run_id, "1.1");
	cr_assert_str_eq(j.sha, sha_a);
	cr_assert_str_eq(j.branch, "main");
	cr_assert_eq(j.started_ms, 2000);
	struct job none;
	cr_assert_eq(store_claim(s, true, 2000, &none), 0, "nothing else is queued");
	/* Only the current attempt can finish the job. */
	cr_assert_eq(store_finish(s, 1, 2, JOB_PASSED, 0, NULL, NULL, 3000), 0);
	cr_assert_eq(store_finish(s, 1, 1, JOB_PASSED, 0, NULL, NULL, 3000), 1);
	cr_assert_eq(store_finish(s, 1, 1, JOB_FAILED, 1, NULL, NULL, 3000), 0, "only once");
	job_release(&j);
	cr_assert_eq(store_get(s, 1, &j), 1);
	cr_assert_eq(j.state, JOB_PASSED);
	cr_assert_eq(j.finished_ms, 3000);
	job_release(&j);
	cr_assert_eq(store_get(s, 99, &j), 0);
	store_close(s);
}

Test(store, replays_are_acknowledged_not_queued)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new a = push("d-1", "main", sha_a, "body-1");
	cr_assert_eq(store_enqueue(s, &a, 1, 1000), 0);
	/* Same delivery id, or the same body under a new delivery id: both are replays. */
	struct job_new again = push("d-1", "main", sha_a, "body-1");
	struct job_new replayed = push("d-other", "main", sha_a, "body-1");
	struct job_new batch[2] = { again, replayed };
	cr_assert_eq(store_enqueue(s, batch, 2, 1001), 0);
	cr_assert(batch[0].duplicate);
	cr_assert(batch[1].duplicate);
	cr_assert_eq(batch[0].job_id, a.job_id);
	cr_assert_eq(batch[1].job_id, a.job_id);
	/* Duplicates inside one batch too. */
	struct job_new two[2] = { push("d-2", "dev", sha_b, "body-2"),
				  push("d-2", "dev", sha_b, "body-2") };
	cr_assert_eq(store_enqueue(s, two, 2, 1002), 0);
	cr_assert_not(two[0].duplicate);
	cr_assert(two[1].duplicate);
	struct store_counts sc;
	cr_assert_eq(store_counts(s, &sc), 0);
	cr_assert_eq(sc.by_state[JOB_QUEUED], 2);
	store_close(s);
}

Test(store, a_newer_push_supersedes_older_runs_of_the_branch)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new a = push("d-1", "main", sha_a, "body-1");
	struct job_new b = push("d-2", "main", sha_b, "body-2");
	struct job_new other = push("d-3", "dev", sha_b, "body-3");
	cr_assert_eq(store_enqueue(s, &a, 1, 1000), 0);
	struct job j;
	cr_assert_eq(store_claim(s, true, 1001, &j), 1); /* a is running */
	job_release(&j);
	cr_assert_eq(store_enqueue(s, &b, 1, 1002), 0);
	cr_assert_eq(b.superseded, 1, "the running run of main is marked");
	cr_assert_eq(store_enqueue(s, &other, 1, 1003), 0);
	cr_assert_eq(other.superseded, 0, "another branch is not touched");
	struct job *v;
	size_t n;
	cr_assert_eq(store_running(s, true, &v, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].id, a.job_id);
	cr_assert(v[0].cancel_requested);
	cr_assert_not_null(strstr(v[0].message, "superseded by run 2"));
	jobs_free(v, n);
	/* A third push cancels the queued second one outright. */
	struct job_new c = push("d-4", "main", sha_a, "body-4");
	cr_assert_eq(store_enqueue(s, &c, 1, 1004), 0);
	cr_assert_eq(store_get(s, b.job_id, &j), 1);
	cr_assert_eq(j.state, JOB_CANCELLED);
	cr_assert_str_eq(j.message, "superseded by run 4");
	job_release(&j);
	/* An empty supersede key never supersedes (tags, or supersede: false). */
	struct job_new t = push("d-5", "main", sha_b, "body-5");
	t.supersede_key = "";
	cr_assert_eq(store_enqueue(s, &t, 1, 1005), 0);
	cr_assert_eq(t.superseded, 0);
	cr_assert_eq(store_get(s, c.job_id, &j), 1);
	cr_assert_eq(j.state, JOB_QUEUED);
	job_release(&j);
	store_close(s);
}

Test(store, untrusted_jobs_can_be_held_back_and_requeue_keeps_attempts)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new fork = push("d-1", "feature", sha_a, "body-1");
	fork.trusted = false;
	fork.event = "pull_request";
	struct job_new own = push("d-2", "main", sha_b, "body-2");
	cr_assert_eq(store_enqueue(s, &fork, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &own, 1, 1001), 0);
	struct job j;
	cr_assert_eq(store_claim(s, false, 1002, &j), 1);
	cr_assert_eq(j.id, own.job_id, "the untrusted job is skipped when its limit is reached");
	job_release(&j);
	cr_assert_eq(store_claim(s, true, 1003, &j), 1);
	cr_assert_eq(j.id, fork.job_id);
	cr_assert_not(j.trusted);
	cr_assert_eq(store_requeue(s, j.id, 2, "wrong attempt"), 0);
	cr_assert_eq(store_requeue(s, j.id, 1, "server stopped"), 1);
	job_release(&j);
	cr_assert_eq(store_claim(s, true, 1004, &j), 1);
	cr_assert_eq(j.id, fork.job_id);
	cr_assert_eq(j.attempts, 2);
	cr_assert_str_eq(j.run_id, "1.2");
	job_release(&j);
	store_close(s);
}

Test(store, outbox_keeps_order_per_job_and_retries)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new a = push("d-1", "main", sha_a, "body-1");
	cr_assert_eq(store_enqueue(s, &a, 1, 1000), 0); /* status: pending (queued) */
	struct job j;
	cr_assert_eq(store_claim(s, true, 1001, &j), 1); /* status: pending (running) */
	job_release(&j);
	cr_assert_eq(store_finish(s, a.job_id, 1, JOB_BLOCKED, 3, NULL, "{\"text\":\"x\"}", 1002),
		     1);
	struct outbox_item *v;
	size_t n;
	cr_assert_eq(store_outbox_due(s, 5000, 10, &v, &n), 0);
	cr_assert_eq(n, 1, "one at a time per job");
	cr_assert_str_eq(v[0].state, "pending");
	cr_assert_str_eq(v[0].description, "queued");
	/* It failed: retry later; the next one waits for it. */
	cr_assert_eq(store_outbox_update(s, v[0].id, false, false, "HTTP 500", 9000), 0);
	outbox_items_free(v, n);
	cr_assert_eq(store_outbox_due(s, 5000, 10, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_outbox_next_due(s), 9000);
	cr_assert_eq(store_outbox_due(s, 9000, 10, &v, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].attempts, 1);
	cr_assert_eq(store_outbox_update(s, v[0].id, true, false, "", 9000), 0);
	outbox_items_free(v, n);
	const char *want[][2] = { { "pending", "running" },
				  { "failure", "blocked by a security gate" } };
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(store_outbox_due(s, 9000, 10, &v, &n), 0);
		cr_assert_eq(n, 1);
		cr_assert_eq(v[0].kind, OUTBOX_STATUS);
		cr_assert_str_eq(v[0].state, want[i][0]);
		cr_assert_str_eq(v[0].description, want[i][1]);
		cr_assert_eq(store_outbox_update(s, v[0].id, true, false, "", 9000), 0);
		outbox_items_free(v, n);
	}
	cr_assert_eq(store_outbox_due(s, 9000, 10, &v, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].kind, OUTBOX_NOTIFY);
	cr_assert_str_eq(v[0].body, "{\"text\":\"x\"}");
	/* Given up: counted as failed, and the job's result is untouched. */
	cr_assert_eq(store_outbox_update(s, v[0].id, true, true, "HTTP 500", 9000), 0);
	outbox_items_free(v, n);
	struct store_counts sc;
	cr_assert_eq(store_counts(s, &sc), 0);
	cr_assert_eq(sc.outbox_pending, 0);
	cr_assert_eq(sc.outbox_failed, 1);
	cr_assert_eq(sc.by_state[JOB_BLOCKED], 1);
	cr_assert_eq(store_outbox_next_due(s), -1);
	store_close(s);
}

Test(store, list_and_counts)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	for (int i = 0; i < 5; i++) {
		char d[16], body[16], br[16];
		snprintf(d, sizeof(d), "d-%d", i);
		snprintf(body, sizeof(body), "body-%d", i);
		snprintf(br, sizeof(br), "b%d", i);
		struct job_new jn = push(d, br, sha_a, body);
		cr_assert_eq(store_enqueue(s, &jn, 1, 1000 + i), 0);
	}
	struct job j;
	cr_assert_eq(store_claim(s, true, 2000, &j), 1);
	cr_assert_eq(store_finish(s, j.id, 1, JOB_FAILED, 1, NULL, NULL, 4500), 1);
	job_release(&j);
	struct job *v;
	size_t n;
	cr_assert_eq(store_list(s, 3, &v, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(v[0].id, 5, "newest first");
	jobs_free(v, n);
	struct store_counts sc;
	cr_assert_eq(store_counts(s, &sc), 0);
	cr_assert_eq(sc.by_state[JOB_QUEUED], 4);
	cr_assert_eq(sc.by_state[JOB_FAILED], 1);
	cr_assert_eq(sc.finished, 1);
	cr_assert_float_eq(sc.duration_sum_s, 2.5, 1e-9);
	cr_assert_eq(sc.buckets[0], 0, "2.5 s is not <= 1 s");
	cr_assert_eq(sc.buckets[1], 1, "2.5 s is <= 5 s");
	store_close(s);
}
