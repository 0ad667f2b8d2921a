/*
 * test-store.c - the durable queue on a real SQLite file: replays, supersession, claiming,
 * attempts, finishing only the current attempt, re-queueing, the outbox and its order,
 * that what was committed survives closing and reopening, and retention (what is pruned,
 * what is kept, batches, run directories and the links planted in them).
 */
#include <criterion/criterion.h>

#include "config.h"
#include "diag.h"
#include "jobrun.h"
#include "retention.h"
#include "store.h"
#include "testutil.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
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
	static char keys[8][80], refs[8][80];
	static int k;
	char *key = keys[k % 8], *ref = refs[k++ % 8];
	snprintf(key, 80, "branch:%s", branch);
	snprintf(ref, 80, "refs/heads/%s", branch);
	struct job_new jn = {
		.repo = "acme/webapp",
		.forge = "github",
		.delivery = delivery,
		.event = "push",
		.ref = ref,
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
	cr_assert_eq(store_finish(s, 1, 2, JOB_PASSED, 0, NULL, NULL, NULL, 3000), 0);
	cr_assert_eq(store_finish(s, 1, 1, JOB_PASSED, 0, NULL, NULL, NULL, 3000), 1);
	cr_assert_eq(store_finish(s, 1, 1, JOB_FAILED, 1, NULL, NULL, NULL, 3000), 0, "only once");
	job_release(&j);
	cr_assert_eq(store_get(s, 1, &j), 1);
	cr_assert_eq(j.state, JOB_PASSED);
	cr_assert_eq(j.finished_ms, 3000);
	job_release(&j);
	cr_assert_eq(store_get(s, 99, &j), 0);
	store_close(s);
}

/* The queue's caps: a job past one is refused (full) and not remembered, a newer push of a
 * branch with a queued job takes its place, and room made by another connection (the
 * dispatcher's claims) is seen: the store counts the queue again when its running total
 * reaches a cap. */
Test(store, the_queue_is_capped)
{
	struct store *s, *d;
	cr_assert_eq(store_open(db, &s), 0);
	cr_assert_eq(store_open(db, &d), 0);
	struct job_new v[4] = { push("c-1", "a", sha_a, "body-c1"),
				push("c-2", "b", sha_a, "body-c2"),
				push("c-3", "c", sha_a, "body-c3"),
				push("c-4", "d", sha_a, "body-c4") };
	for (size_t i = 0; i < 4; i++) {
		v[i].max_queued = 3;
		v[i].max_queued_untrusted = 1;
	}
	v[2].trusted = false; /* a fork's: the untrusted cap too */
	cr_assert_eq(store_enqueue(s, v, 3, 1000), 0);
	cr_assert(!v[0].full && !v[1].full && !v[2].full);
	cr_assert_eq(store_enqueue(s, &v[3], 1, 1001), 0);
	cr_assert(v[3].full, "a fourth job past max_queued 3");
	cr_assert_eq(v[3].job_id, 0);
	/* A newer push of branch a replaces a's queued job: accepted. */
	struct job_new a2 = push("c-5", "a", sha_b, "body-c5");
	a2.max_queued = 3;
	cr_assert_eq(store_enqueue(s, &a2, 1, 1002), 0);
	cr_assert(!a2.full);
	cr_assert_eq(a2.superseded, 1);
	/* Another fork's job: refused by the untrusted cap, with room in the queue. */
	struct job_new f2 = push("c-6", "e", sha_a, "body-c6");
	f2.trusted = false;
	f2.max_queued = 100;
	f2.max_queued_untrusted = 1;
	cr_assert_eq(store_enqueue(s, &f2, 1, 1003), 0);
	cr_assert(f2.full);
	/* The dispatcher claims two jobs on its own connection: once the store counts again,
	 * the refused delivery, sent again with its id, is queued (it was not remembered). */
	struct job j;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(store_claim(d, true, 1100, &j), 1);
		job_release(&j);
	}
	v[3].full = false;
	cr_assert_eq(store_enqueue(s, &v[3], 1, 1002 + 1000), 0);
	cr_assert(!v[3].full, "room made by claims is seen");
	cr_assert(!v[3].duplicate);
	cr_assert_gt(v[3].job_id, 0);
	/* Full again; a clock set back does not keep it full until the clock catches up. */
	struct job_new g = push("c-8", "g", sha_a, "body-c8");
	g.max_queued = 2;
	cr_assert_eq(store_enqueue(s, &g, 1, 2002), 0);
	cr_assert(g.full);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(store_claim(d, true, 1100, &j), 1);
		job_release(&j);
	}
	g.full = false;
	cr_assert_eq(store_enqueue(s, &g, 1, 500), 0);
	cr_assert(!g.full, "a clock set back kept the queue full");
	/* Without caps (0), nothing is refused. */
	struct job_new free_ = push("c-7", "f", sha_a, "body-c7");
	cr_assert_eq(store_enqueue(s, &free_, 1, 2003), 0);
	cr_assert(!free_.full);
	store_close(d);
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

/* A body is a replay of a delivery to the same repository of the same forge only: the same
 * body to another repository, or to a repository of the same name on another forge, is
 * that repository's own delivery (it had the guard answer "duplicate" with the other
 * repository's run, and nothing ran). Within one repository a replay is still one. */
Test(store, a_replay_is_one_of_the_same_forge_and_repository)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new a = push("r-1", "main", sha_a, "same-body");
	cr_assert_eq(store_enqueue(s, &a, 1, 1000), 0);
	cr_assert_not(a.duplicate);
	struct job_new other_repo = push("r-2", "main", sha_a, "same-body");
	other_repo.repo = "acme/other";
	cr_assert_eq(store_enqueue(s, &other_repo, 1, 1001), 0);
	cr_assert_not(other_repo.duplicate, "another repository's delivery is not a replay");
	cr_assert_neq(other_repo.job_id, a.job_id);
	struct job_new other_forge = push("r-3", "main", sha_a, "same-body");
	other_forge.forge = "gitea";
	cr_assert_eq(store_enqueue(s, &other_forge, 1, 1002), 0);
	cr_assert_not(other_forge.duplicate, "another forge's delivery is not a replay");
	/* Replays within each of them still are, by body or by delivery id. */
	struct job_new again = push("r-4", "main", sha_a, "same-body");
	struct job_new again_other = push("r-5", "main", sha_a, "same-body");
	again_other.repo = "acme/other";
	struct job_new again_gitea = push("r-3", "main", sha_a, "another-body");
	again_gitea.forge = "gitea";
	struct job_new batch[3] = { again, again_other, again_gitea };
	cr_assert_eq(store_enqueue(s, batch, 3, 1003), 0);
	cr_assert(batch[0].duplicate);
	cr_assert_eq(batch[0].job_id, a.job_id);
	cr_assert(batch[1].duplicate);
	cr_assert_eq(batch[1].job_id, other_repo.job_id);
	cr_assert(batch[2].duplicate);
	cr_assert_eq(batch[2].job_id, other_forge.job_id);
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

/* acme/app on GitHub and acme/app on Gitea are two repositories: a push to one never
 * cancels the other's runs of the same branch. */
Test(store, supersession_stays_within_the_forge)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new gh_running = push("d-1", "main", sha_a, "body-1");
	cr_assert_eq(store_enqueue(s, &gh_running, 1, 1000), 0);
	struct job j;
	cr_assert_eq(store_claim(s, true, 1001, &j), 1);
	cr_assert_eq(j.id, gh_running.job_id);
	job_release(&j);
	/* Queued behind it: another GitHub run of main (which marks the running one). */
	struct job_new gh_queued = push("d-2", "main", sha_a, "body-2");
	cr_assert_eq(store_enqueue(s, &gh_queued, 1, 1002), 0);
	cr_assert_eq(gh_queued.superseded, 1);
	/* Un-mark the running one: what follows must not mark it again. */
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "UPDATE jobs SET cancel_requested = 0, message = ''", NULL,
				  NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);

	struct job_new gt = push("d-3", "main", sha_b, "body-3");
	gt.forge = "gitea";
	cr_assert_eq(store_enqueue(s, &gt, 1, 1003), 0);
	cr_assert_eq(gt.superseded, 0, "a Gitea push supersedes nothing of GitHub's");
	cr_assert_eq(store_get(s, gh_queued.job_id, &j), 1);
	cr_assert_eq(j.state, JOB_QUEUED, "GitHub's queued run of main is not cancelled");
	job_release(&j);
	cr_assert_eq(store_get(s, gh_running.job_id, &j), 1);
	cr_assert_eq(j.state, JOB_RUNNING);
	cr_assert_not(j.cancel_requested, "GitHub's running run of main is not marked");
	job_release(&j);
	/* Within one forge it still works: a second Gitea push cancels the first. */
	struct job_new gt2 = push("d-4", "main", sha_a, "body-4");
	gt2.forge = "gitea";
	cr_assert_eq(store_enqueue(s, &gt2, 1, 1004), 0);
	cr_assert_eq(gt2.superseded, 1, "only Gitea's own queued run");
	cr_assert_eq(store_get(s, gt.job_id, &j), 1);
	cr_assert_eq(j.state, JOB_CANCELLED);
	job_release(&j);
	cr_assert_eq(store_get(s, gh_queued.job_id, &j), 1);
	cr_assert_eq(j.state, JOB_QUEUED);
	job_release(&j);
	store_close(s);
}

/* A store made before supersession took the forge into account had an index without it:
 * opening it replaces that index, and the queries use the new one. */
Test(store, an_older_store_gets_the_supersession_index_with_the_forge)
{
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(
		sqlite3_exec(h,
			     "CREATE TABLE jobs(id INTEGER PRIMARY KEY AUTOINCREMENT,"
			     " repo TEXT NOT NULL, forge TEXT NOT NULL, delivery TEXT NOT NULL,"
			     " event TEXT NOT NULL, ref TEXT NOT NULL, branch TEXT NOT NULL,"
			     " tag TEXT NOT NULL, sha TEXT NOT NULL, number INTEGER NOT NULL,"
			     " base_branch TEXT NOT NULL, base_sha TEXT NOT NULL,"
			     " trusted INTEGER NOT NULL, supersede_key TEXT NOT NULL,"
			     " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
			     " cancel_requested INTEGER NOT NULL DEFAULT 0,"
			     " exit_code INTEGER NOT NULL DEFAULT -1,"
			     " message TEXT NOT NULL DEFAULT '', run_id TEXT NOT NULL DEFAULT '',"
			     " created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,"
			     " finished_ms INTEGER NOT NULL DEFAULT 0,"
			     " statuses INTEGER NOT NULL DEFAULT 1);"
			     "CREATE INDEX jobs_supersede ON jobs(repo, supersede_key, state);"
			     "INSERT INTO jobs(repo, forge, delivery, event, ref, branch, tag, sha,"
			     " number, base_branch, base_sha, trusted, supersede_key, state,"
			     " created_ms) VALUES('acme/webapp', 'github', 'old', 'push',"
			     " 'refs/heads/main', 'main', '', 'x', 0, '', '', 1, 'branch:main',"
			     " 'queued', 1);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(h);
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new gt = push("d-1", "main", sha_a, "body-1");
	gt.forge = "gitea";
	cr_assert_eq(store_enqueue(s, &gt, 1, 1000), 0);
	cr_assert_eq(gt.superseded, 0);
	store_close(s);
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(h,
					"SELECT group_concat(name, ',') FROM (SELECT name FROM"
					" sqlite_master WHERE type = 'index' AND name LIKE"
					" 'jobs_supersede%' ORDER BY name)",
					-1, &st, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "jobs_supersede_forge");
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(h,
					"EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE repo = 'a'"
					" AND forge = 'github' AND supersede_key = 'k'"
					" AND state = 'queued'",
					-1, &st, NULL),
		     SQLITE_OK);
	bool uses = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		uses |= d && strstr(d, "jobs_supersede_forge") != NULL;
	}
	sqlite3_finalize(st);
	cr_assert(uses, "the supersession query uses the index with the forge");
	sqlite3_close(h);
	struct job j;
	cr_assert_eq(store_open(db, &s), 0);
	cr_assert_eq(store_get(s, 1, &j), 1);
	cr_assert_eq(j.state, JOB_QUEUED, "the older store's GitHub run is untouched");
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
	cr_assert_eq(store_requeue(s, j.id, 2, "wrong attempt", NULL, 2500), 0);
	cr_assert_eq(store_requeue(s, j.id, 1, "server stopped", NULL, 2500), 1);
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
	cr_assert_eq(
		store_finish(s, a.job_id, 1, JOB_BLOCKED, 3, NULL, "{\"text\":\"x\"}", NULL, 1002),
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

/* The newest commit status queued for a job: "state|description". */
static char *last_status(int64_t job)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h,
					"SELECT state || '|' || description FROM outbox"
					" WHERE job = ?1 AND kind = 0 ORDER BY id DESC LIMIT 1",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_int64(st, 1, job);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no status for job %lld", (long long)job);
	char *v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void expect_status(int64_t job, const char *want)
{
	_cleanup_free_ char *got = last_status(job);
	cr_assert_str_eq(got, want, "job %lld", (long long)job);
}

static struct job_new on_ref(const char *delivery, const char *ref, const char *sha,
			     const char *body)
{
	struct job_new jn = push(delivery, "", sha, body);
	jn.ref = ref;
	jn.supersede_key = "";
	return jn;
}

static int64_t claim(struct store *s)
{
	struct job j;
	cr_assert_eq(store_claim(s, true, 2000, &j), 1);
	int64_t id = j.id;
	job_release(&j);
	return id;
}

/*
 * All runs of a commit post to one status context: a tag push that failed and a branch
 * push of the same commit that passed later must not leave the commit at success. The
 * latest run of each ref counts; a re-run of the failed ref can clear it.
 */
Test(store, a_commit_status_is_the_worst_of_the_latest_run_of_each_ref)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new branch = on_ref("d-1", "refs/heads/main", sha_a, "body-1");
	struct job_new tag = on_ref("d-2", "refs/tags/v1", sha_a, "body-2");
	struct job_new other = on_ref("d-3", "refs/heads/main", sha_b, "body-3");
	cr_assert_eq(store_enqueue(s, &branch, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &tag, 1, 1001), 0);
	cr_assert_eq(store_enqueue(s, &other, 1, 1002), 0);
	expect_status(tag.job_id, "pending|queued");
	cr_assert_eq(claim(s), branch.job_id);
	cr_assert_eq(claim(s), tag.job_id);
	cr_assert_eq(claim(s), other.job_id);
	cr_assert_eq(store_finish(s, tag.job_id, 1, JOB_FAILED, 1, NULL, NULL, NULL, 3000), 1);
	expect_status(tag.job_id, "failure|a stage failed");
	/* The branch passes after: the commit stays failed, and says why. */
	cr_assert_eq(store_finish(s, branch.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, 3001), 1);
	expect_status(branch.job_id, "failure|run 2 for refs/tags/v1 failed (this run: passed)");
	/* Another commit is not affected. */
	cr_assert_eq(store_finish(s, other.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, 3002), 1);
	expect_status(other.job_id, "success|passed");

	/* A new run of another ref does not hide the failure while it is queued or running. */
	struct job_new dev = on_ref("d-4", "refs/heads/dev", sha_a, "body-4");
	cr_assert_eq(store_enqueue(s, &dev, 1, 4000), 0);
	expect_status(dev.job_id, "failure|run 2 for refs/tags/v1 failed (this run: queued)");
	cr_assert_eq(claim(s), dev.job_id);
	expect_status(dev.job_id, "failure|run 2 for refs/tags/v1 failed (this run: running)");
	/* An error of another ref is not hidden either, and a failure outranks it. */
	cr_assert_eq(store_finish(s, dev.job_id, 1, JOB_ERROR, 4, "boom", NULL, NULL, 4001), 1);
	expect_status(dev.job_id, "failure|run 2 for refs/tags/v1 failed (this run: error: boom)");

	/* The tag runs again: its new run replaces its failure (pending while it runs), but
	 * the error of dev stays. */
	struct job_new tag2 = on_ref("d-5", "refs/tags/v1", sha_a, "body-5");
	cr_assert_eq(store_enqueue(s, &tag2, 1, 5000), 0);
	expect_status(tag2.job_id,
		      "error|run 4 for refs/heads/dev ended in error (this run: queued)");
	cr_assert_eq(claim(s), tag2.job_id);
	cr_assert_eq(store_finish(s, tag2.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, 5001), 1);
	expect_status(tag2.job_id,
		      "error|run 4 for refs/heads/dev ended in error (this run: passed)");
	/* dev runs again and passes: every ref's latest run passed, so the commit passes. */
	struct job_new dev2 = on_ref("d-6", "refs/heads/dev", sha_a, "body-6");
	cr_assert_eq(store_enqueue(s, &dev2, 1, 6000), 0);
	expect_status(dev2.job_id, "pending|queued");
	cr_assert_eq(claim(s), dev2.job_id);
	expect_status(dev2.job_id, "pending|running");
	cr_assert_eq(store_finish(s, dev2.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, 6001), 1);
	expect_status(dev2.job_id, "success|passed");

	/* Blocked counts as failed; a pull request is a ref of its own. */
	struct job_new pr = on_ref("d-7", "refs/pull/7/head", sha_a, "body-7");
	pr.event = "pull_request";
	cr_assert_eq(store_enqueue(s, &pr, 1, 7000), 0);
	cr_assert_eq(claim(s), pr.job_id);
	cr_assert_eq(store_finish(s, pr.job_id, 1, JOB_BLOCKED, 3, NULL, NULL, NULL, 7001), 1);
	expect_status(pr.job_id, "failure|blocked by a security gate");
	struct job_new main2 = on_ref("d-8", "refs/heads/main", sha_a, "body-8");
	cr_assert_eq(store_enqueue(s, &main2, 1, 8000), 0);
	cr_assert_eq(claim(s), main2.job_id);
	cr_assert_eq(store_finish(s, main2.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, 8001), 1);
	expect_status(main2.job_id, "failure|run 7 for refs/pull/7/head was blocked by a "
				    "security gate (this run: passed)");
	store_close(s);
}

/* Statuses of one commit go out in the order they were queued, across runs: one being
 * retried holds back the later ones of its commit (which would be overwritten by it), and
 * nothing of another commit. */
static int64_t count_statuses(int64_t job)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h,
					"SELECT count(*) FROM outbox WHERE job = ?1 AND kind = 0",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_int64(st, 1, job);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/*
 * A tag push that names its tag object (peel): a forge takes statuses on commits only, so
 * the run posts none until it knows its commit (store_resolve(), once its process has
 * fetched and peeled the tag): not queued, not running, not re-queued. Then it posts
 * `pending` to the commit, as one of the commit's runs (a branch's failure shows through),
 * and keeps the tag object's id; its end goes to the commit too.
 */
Test(store, a_tag_object_run_holds_its_statuses_until_it_knows_its_commit)
{
	static const char tag_obj[] = "7777777777777777777777777777777777777777";
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new br = on_ref("d-1", "refs/heads/main", sha_a, "body-1");
	cr_assert_eq(store_enqueue(s, &br, 1, 1000), 0);
	cr_assert_eq(claim(s), br.job_id);
	cr_assert_eq(store_finish(s, br.job_id, 1, JOB_FAILED, 1, NULL, NULL, NULL, 1001), 1);

	struct job_new tag = on_ref("d-2", "refs/tags/v1", tag_obj, "body-2");
	tag.tag = "v1";
	tag.peel = true;
	cr_assert_eq(store_enqueue(s, &tag, 1, 2000), 0);
	cr_assert_eq(count_statuses(tag.job_id), 0, "no queued status to the tag object");
	cr_assert_eq(claim(s), tag.job_id);
	cr_assert_eq(count_statuses(tag.job_id), 0, "no running status to the tag object");
	cr_assert_eq(store_requeue(s, tag.job_id, 1, "the server stopped", NULL, 2001), 1);
	cr_assert_eq(count_statuses(tag.job_id), 0, "no re-queued status to the tag object");
	cr_assert_eq(claim(s), tag.job_id);

	cr_assert_eq(store_resolve(s, tag.job_id, 1, sha_a, 3000), 0, "not the current attempt");
	cr_assert_eq(count_statuses(tag.job_id), 0);
	cr_assert_eq(store_resolve(s, tag.job_id, 2, sha_a, 3000), 1);
	cr_assert_eq(store_resolve(s, tag.job_id, 2, sha_a, 3001), 0, "once");
	cr_assert_eq(count_statuses(tag.job_id), 1);
	expect_status(tag.job_id, "failure|run 1 for refs/heads/main failed (this run: running)");
	struct job j;
	cr_assert_eq(store_get(s, tag.job_id, &j), 1);
	cr_assert_str_eq(j.sha, sha_a);
	cr_assert_str_eq(j.tag_object, tag_obj);
	cr_assert_not(j.peel);
	job_release(&j);

	cr_assert_eq(store_finish(s, tag.job_id, 2, JOB_PASSED, 0, NULL, NULL, sha_a, 4000), 1);
	expect_status(tag.job_id, "failure|run 1 for refs/heads/main failed (this run: passed)");
	cr_assert_eq(store_get(s, tag.job_id, &j), 1);
	cr_assert_str_eq(j.sha, sha_a);
	cr_assert_str_eq(j.tag_object, tag_obj, "kept");
	job_release(&j);

	/* A run that ends before it knows its commit (its fetch failed) posts its end to
	 * the id it was given, as before: it may well be a commit (a lightweight tag). */
	struct job_new lw = on_ref("d-3", "refs/tags/v2", sha_b, "body-3");
	lw.tag = "v2";
	lw.peel = true;
	cr_assert_eq(store_enqueue(s, &lw, 1, 5000), 0);
	cr_assert_eq(claim(s), lw.job_id);
	cr_assert_eq(store_finish(s, lw.job_id, 1, JOB_ERROR, 4, "fetch failed", NULL, NULL, 5001),
		     1);
	expect_status(lw.job_id, "error|error: fetch failed");
	cr_assert_eq(store_get(s, lw.job_id, &j), 1);
	cr_assert_str_eq(j.sha, sha_b);
	cr_assert_str_eq(j.tag_object, "");
	job_release(&j);
	store_close(s);
}

Test(store, statuses_of_one_commit_are_delivered_in_order)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new tag = on_ref("d-1", "refs/tags/v1", sha_a, "body-1");
	struct job_new branch = on_ref("d-2", "refs/heads/main", sha_a, "body-2");
	struct job_new other = on_ref("d-3", "refs/heads/main", sha_b, "body-3");
	cr_assert_eq(store_enqueue(s, &tag, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &branch, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &other, 1, 1000), 0);
	struct outbox_item *v;
	size_t n;
	cr_assert_eq(store_outbox_due(s, 5000, 10, &v, &n), 0);
	cr_assert_eq(n, 2, "one per commit");
	cr_assert_eq(v[0].job, tag.job_id);
	cr_assert_eq(v[1].job, other.job_id);
	/* The tag's status fails and is retried later: the branch's waits for it. */
	cr_assert_eq(store_outbox_update(s, v[0].id, false, false, "HTTP 502", 9000), 0);
	cr_assert_eq(store_outbox_update(s, v[1].id, true, false, "", 5000), 0);
	outbox_items_free(v, n);
	cr_assert_eq(store_outbox_due(s, 5000, 10, &v, &n), 0);
	cr_assert_eq(n, 0, "the branch's status waits for the tag's");
	outbox_items_free(v, n);
	cr_assert_eq(store_outbox_next_due(s), 9000);
	cr_assert_eq(store_outbox_due(s, 9000, 10, &v, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].job, tag.job_id);
	cr_assert_eq(store_outbox_update(s, v[0].id, true, false, "", 9000), 0);
	outbox_items_free(v, n);
	cr_assert_eq(store_outbox_due(s, 9000, 10, &v, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].job, branch.job_id);
	/* Given up counts as done: it holds nothing back. */
	cr_assert_eq(store_outbox_update(s, v[0].id, true, true, "HTTP 404", 9000), 0);
	outbox_items_free(v, n);
	cr_assert_eq(store_outbox_next_due(s), -1);
	store_close(s);
}

/* The one integer a query of the store's file gives. */
static int64_t sql_int(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* Every undone outbox row, in order: the job of each. */
static size_t due_jobs(struct store *s, int64_t *jobs, size_t max)
{
	struct outbox_item *v;
	size_t n;
	cr_assert_eq(store_outbox_due(s, INT64_MAX, max, &v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		jobs[i] = v[i].job;
	}
	outbox_items_free(v, n);
	return n;
}

/* Deliver (done) the first due row of job. */
static void deliver_first_of(struct store *s, int64_t job)
{
	struct outbox_item *v;
	size_t n;
	cr_assert_eq(store_outbox_due(s, INT64_MAX, 1000, &v, &n), 0);
	size_t i = 0;
	while (i < n && v[i].job != job) {
		i++;
	}
	cr_assert_lt(i, n, "no due row of job %lld", (long long)job);
	cr_assert_eq(store_outbox_update(s, v[i].id, true, false, "", 0), 0);
	outbox_items_free(v, n);
}

/*
 * Many runs of one commit with refs in the reverse order of their ids (the order that made
 * the search for a status's earlier statuses walk every run: seconds per query at 8000):
 * still one status of the commit at a time, in the order queued, and the search is an
 * index lookup on the outbox's commit key.
 */
Test(store, statuses_of_one_commit_stay_in_order_whatever_the_refs)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	enum { N = 300 };
	static int64_t ids[N];
	for (int i = 0; i < N; i++) {
		char d[32], ref[64], body[32];
		snprintf(d, sizeof(d), "rev-%d", i);
		snprintf(ref, sizeof(ref), "refs/heads/r%05d", N - i);
		snprintf(body, sizeof(body), "rev-body-%d", i);
		struct job_new jn = on_ref(d, ref, sha_a, body);
		cr_assert_eq(store_enqueue(s, &jn, 1, 1000), 0);
		ids[i] = jn.job_id;
	}
	struct job_new other = on_ref("rev-other", "refs/heads/main", sha_b, "rev-other-body");
	cr_assert_eq(store_enqueue(s, &other, 1, 1000), 0);
	int64_t jobs[4];
	for (int i = 0; i < N; i++) {
		size_t n = due_jobs(s, jobs, 4);
		bool other_due = false;
		size_t mine = 0;
		for (size_t k = 0; k < n; k++) {
			other_due |= jobs[k] == other.job_id;
			mine += jobs[k] != other.job_id;
		}
		cr_assert_eq(mine, 1, "one status of the commit at a time (step %d)", i);
		cr_assert_eq(jobs[0], ids[i], "in the order queued (step %d)", i);
		if (i == 0) {
			cr_assert(other_due, "another commit is not held back");
		}
		deliver_first_of(s, ids[i]);
	}
	store_close(s);
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h,
					"EXPLAIN QUERY PLAN SELECT 1 FROM outbox o WHERE NOT EXISTS"
					" (SELECT 1 FROM outbox p WHERE p.commit_key = o.commit_key"
					" AND p.done = 0 AND p.id < o.id)",
					-1, &st, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(h));
	bool uses = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		uses |= d && strstr(d, "INDEX outbox_commit (commit_key=? AND done=? AND");
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	cr_assert(uses, "the search for earlier statuses of the commit is an index lookup");
}

/* A store made before the outbox had its commit key (and its link_job): the columns and
 * the index are added when it is opened, the key filled in for the statuses already
 * queued, whose order still holds. */
Test(store, an_older_outbox_gets_its_commit_key)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new tag = on_ref("m-1", "refs/tags/v1", sha_a, "m-body-1");
	struct job_new branch = on_ref("m-2", "refs/heads/main", sha_a, "m-body-2");
	struct job_new other = on_ref("m-3", "refs/heads/main", sha_b, "m-body-3");
	cr_assert_eq(store_enqueue(s, &tag, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &branch, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &other, 1, 1000), 0);
	store_close(s);
	/* Back to the outbox of before: no commit_key, no outbox_commit. */
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h,
				  "DROP INDEX outbox_commit;"
				  "ALTER TABLE outbox DROP COLUMN commit_key;"
				  "ALTER TABLE outbox DROP COLUMN link_job;",
				  NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
	cr_assert_eq(sql_int("SELECT count(*) FROM pragma_table_info('outbox')"
			     " WHERE name = 'commit_key'"),
		     0);
	cr_assert_eq(store_open(db, &s), 0);
	/* Opened again (the server has more than one connection): nothing breaks. */
	struct store *s2;
	cr_assert_eq(store_open(db, &s2), 0);
	store_close(s2);
	cr_assert_eq(sql_int("SELECT count(*) FROM outbox WHERE kind = 0 AND commit_key ="
			     " 'github:acme/webapp@1111111111111111111111111111111111111111'"),
		     2);
	cr_assert_eq(sql_int("SELECT count(*) FROM outbox WHERE kind = 0 AND commit_key ="
			     " 'github:acme/webapp@2222222222222222222222222222222222222222'"),
		     1);
	cr_assert_eq(sql_int("SELECT count(*) FROM outbox WHERE commit_key IS NULL"), 0);
	/* Statuses queued before link their own run, as they did. */
	cr_assert_eq(sql_int("SELECT count(*) FROM outbox WHERE link_job IS NULL"), 3);
	cr_assert_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
			     " name = 'outbox_commit'"),
		     1);
	int64_t jobs[8];
	size_t n = due_jobs(s, jobs, 8);
	cr_assert_eq(n, 2, "one per commit");
	cr_assert_eq(jobs[0], tag.job_id);
	cr_assert_eq(jobs[1], other.job_id);
	deliver_first_of(s, tag.job_id);
	n = due_jobs(s, jobs, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(jobs[0], branch.job_id);
	/* A status queued after the migration has its key too, and waits its turn. */
	cr_assert_eq(claim(s), tag.job_id);
	n = due_jobs(s, jobs, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(jobs[0], branch.job_id, "the tag's running status waits for the branch's");
	store_close(s);
}

/* The jobs of a queue made before the history scan get before_sha, empty: they are scanned
 * as new refs are. A job queued after keeps its own. */
Test(store, an_older_queue_gets_before_sha)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new old = push("h-1", "main", sha_a, "h-body-1");
	old.before_sha = sha_b;
	cr_assert_eq(store_enqueue(s, &old, 1, 1000), 0);
	store_close(s);
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "ALTER TABLE jobs DROP COLUMN before_sha;", NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
	cr_assert_eq(store_open(db, &s), 0);
	struct store *s2;
	cr_assert_eq(store_open(db, &s2), 0, "opened again: nothing breaks");
	store_close(s2);
	struct job j;
	cr_assert_eq(store_get(s, old.job_id, &j), 1);
	cr_assert_str_eq(j.before_sha, "");
	cr_assert_str_eq(j.sha, sha_a);
	job_release(&j);
	struct job_new next = push("h-2", "dev", sha_b, "h-body-2");
	next.before_sha = sha_a;
	cr_assert_eq(store_enqueue(s, &next, 1, 1001), 0);
	cr_assert_eq(store_claim(s, true, 1002, &j), 1);
	cr_assert_eq(j.id, old.job_id);
	job_release(&j);
	cr_assert_eq(store_claim(s, true, 1003, &j), 1);
	cr_assert_eq(j.id, next.job_id);
	cr_assert_str_eq(j.before_sha, sha_a);
	job_release(&j);
	store_close(s);
}

/* A store made before the replay guard took the repository into account: its deliveries
 * get the repository of their run, and the index on the body with the forge and the
 * repository. One whose run is gone (retention) cannot be told apart: its body stays a
 * replay for every repository of its forge, as it was. */
Test(store, older_deliveries_get_their_repository)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new a = push("o-1", "main", sha_a, "o-body-1");
	cr_assert_eq(store_enqueue(s, &a, 1, 1000), 0);
	store_close(s);
	/* Back to the deliveries of before: no repository, the index on the body alone. */
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(
		sqlite3_exec(h,
			     "DROP INDEX deliveries_body_repo;"
			     "ALTER TABLE deliveries DROP COLUMN repo;"
			     "CREATE INDEX deliveries_body ON deliveries(body_sha);"
			     "INSERT INTO deliveries(forge, delivery, body_sha, job, received_ms)"
			     " VALUES('github', 'o-gone',"
			     " x'6f2d626f64792d676f6e65000000000000000000000000000000000000000000',"
			     " 999, 1000);",
			     NULL, NULL, NULL),
		SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
	cr_assert_eq(store_open(db, &s), 0);
	struct store *s2;
	cr_assert_eq(store_open(db, &s2), 0, "opened again: nothing breaks");
	store_close(s2);
	cr_assert_eq(sql_int("SELECT count(*) FROM deliveries WHERE delivery = 'o-1' AND"
			     " repo = 'acme/webapp'"),
		     1);
	cr_assert_eq(sql_int("SELECT count(*) FROM deliveries WHERE delivery = 'o-gone' AND"
			     " repo = ''"),
		     1);
	cr_assert_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
			     " name = 'deliveries_body'"),
		     0);
	cr_assert_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
			     " name = 'deliveries_body_repo'"),
		     1);
	struct job_new replay = push("o-2", "main", sha_a, "o-body-1");
	struct job_new other = push("o-3", "main", sha_a, "o-body-1");
	other.repo = "acme/other";
	struct job_new gone = push("o-4", "main", sha_a, "o-body-gone");
	gone.repo = "acme/other";
	struct job_new batch[3] = { replay, other, gone };
	cr_assert_eq(store_enqueue(s, batch, 3, 2000), 0);
	cr_assert(batch[0].duplicate);
	cr_assert_eq(batch[0].job_id, a.job_id);
	cr_assert_not(batch[1].duplicate, "another repository's delivery is not a replay");
	cr_assert(batch[2].duplicate, "a delivery of unknown repository stays a replay");
	store_close(s);
}

/* A push of a ref with older ones still queued or running takes the oldest one's old tip:
 * the commits the cancelled runs would have scanned are not left out, and without
 * supersession two first pushes of a ref get the same base whichever is scanned first. */
Test(store, a_superseding_push_takes_the_oldest_old_tip)
{
	static const char sha_c[] = "3333333333333333333333333333333333333333";
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new a = push("s-1", "main", sha_b, "s-body-1");
	a.before_sha = sha_a;
	struct job_new b = push("s-2", "main", sha_c, "s-body-2");
	b.before_sha = sha_b;
	cr_assert_eq(store_enqueue(s, &a, 1, 1000), 0);
	cr_assert_eq(store_enqueue(s, &b, 1, 1001), 0);
	struct job j;
	cr_assert_eq(store_get(s, b.job_id, &j), 1);
	cr_assert_str_eq(j.before_sha, sha_a, "a was queued: b scans from a's old tip");
	job_release(&j);
	/* Another branch, or a push with nothing to supersede, keeps its own. */
	struct job_new d = push("s-3", "dev", sha_c, "s-body-3");
	d.before_sha = sha_b;
	cr_assert_eq(store_enqueue(s, &d, 1, 1002), 0);
	cr_assert_eq(store_get(s, d.job_id, &j), 1);
	cr_assert_str_eq(j.before_sha, sha_b);
	job_release(&j);
	/* Without supersession (no key): the same, and nothing is cancelled. */
	struct job_new e = push("s-4", "dev", sha_a, "s-body-4");
	e.before_sha = sha_c;
	e.supersede_key = "";
	cr_assert_eq(store_enqueue(s, &e, 1, 1003), 0);
	cr_assert_eq(store_get(s, e.job_id, &j), 1);
	cr_assert_str_eq(j.before_sha, sha_b, "d is queued: e takes d's old tip");
	job_release(&j);
	cr_assert_eq(store_get(s, d.job_id, &j), 1);
	cr_assert_str_eq(job_state_name(j.state), "queued");
	job_release(&j);
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
	cr_assert_eq(store_finish(s, j.id, 1, JOB_FAILED, 1, NULL, NULL, NULL, 4500), 1);
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

/* ---------- retention ---------- */

#define DAY_MS (86400000ll)
static const int64_t now_ms = 400 * DAY_MS;
static const int64_t old_t = 400 * DAY_MS - 91 * DAY_MS; /* past the default 90d */
static const int64_t new_t = 400 * DAY_MS - 1 * DAY_MS;

/* A job of repo that was queued at t_queued and then reached st at t (all at t_queued
 * when st is queued). Run jobs in order: store_claim() takes the oldest queued job, so
 * jobs left queued are made last. */
static int64_t job_at(struct store *s, const char *repo, enum job_state st, int64_t t_queued,
		      int64_t t)
{
	static int seq;
	char d[32], body[32];
	seq++;
	snprintf(d, sizeof(d), "ret-%d", seq);
	snprintf(body, sizeof(body), "ret-body-%d", seq);
	struct job_new jn = push(d, "main", sha_a, body);
	jn.repo = repo;
	jn.supersede_key = "";
	cr_assert_eq(store_enqueue(s, &jn, 1, t_queued), 0);
	if (st != JOB_QUEUED) {
		struct job j;
		cr_assert_eq(store_claim(s, true, t_queued, &j), 1);
		cr_assert_eq(j.id, jn.job_id, "no other job may be queued");
		job_release(&j);
	}
	if (job_state_final(st)) {
		cr_assert_eq(store_finish(s, jn.job_id, 1, st, 0, NULL, NULL, NULL, t), 1);
	}
	return jn.job_id;
}

/* Give up every outbox row (done = 2): delivered or not, nothing holds a job back. */
static void settle_outbox(struct store *s)
{
	for (;;) {
		struct outbox_item *v;
		size_t n;
		cr_assert_eq(store_outbox_due(s, INT64_MAX, 1000, &v, &n), 0);
		for (size_t i = 0; i < n; i++) {
			cr_assert_eq(store_outbox_update(s, v[i].id, true, true, "test", 0), 0);
		}
		outbox_items_free(v, n);
		if (n == 0) {
			return;
		}
	}
}

static int64_t count_rows(const char *sql, int64_t arg)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_bind_int64(st, 1, arg);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static bool job_exists(struct store *s, int64_t id)
{
	struct job j;
	int r = store_get(s, id, &j);
	cr_assert_geq(r, 0);
	if (r == 1) {
		job_release(&j);
	}
	return r == 1;
}

static struct server_config *retention_config(const char *extra)
{
	char *text = tu_strf("data_dir: %s/data\n%s"
			     "repositories:\n"
			     "  - name: acme/webapp\n"
			     "    forge: github\n"
			     "    secret: 0123456789abcdef0123\n"
			     "    clone_url: https://github.com/acme/webapp.git\n",
			     dir, extra);
	struct diag_list dl;
	struct server_config *c = NULL;
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load_buffer("server.yml", text, strlen(text), &c, &dl), 0);
	diag_list_release(&dl);
	free(text);
	return c;
}

/* A whole pass; returns how many steps it took. */
static unsigned prune_all(struct store *s, const struct server_config *c, size_t batch,
			  struct retention_pass *p)
{
	unsigned steps = 0;
	int r;
	retention_begin(p, c, now_ms);
	do {
		r = retention_step(p, s, c, batch);
		cr_assert_geq(r, 0);
		cr_assert_lt(++steps, 1000);
	} while (r > 0);
	return steps;
}

Test(store, retention_prunes_exactly_the_old_finished_runs)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct server_config *c = retention_config("");
	static const enum job_state finals[] = { JOB_PASSED, JOB_FAILED, JOB_BLOCKED, JOB_ERROR,
						 JOB_CANCELLED };
	int64_t old_ids[5], new_ids[5];
	for (size_t i = 0; i < 5; i++) {
		old_ids[i] = job_at(s, "acme/webapp", finals[i], old_t, old_t);
		new_ids[i] = job_at(s, "acme/webapp", finals[i], new_t, new_t);
	}
	/* Queued long ago, finished recently: the run is kept, its delivery is not. */
	int64_t late = job_at(s, "acme/webapp", JOB_PASSED, old_t, new_t);
	int64_t old_running = job_at(s, "acme/webapp", JOB_RUNNING, old_t, old_t);
	settle_outbox(s);
	/* Finished long ago but a status is still to be sent: the reporter needs the row. */
	int64_t pending = job_at(s, "acme/webapp", JOB_FAILED, old_t, old_t);
	int64_t old_queued = job_at(s, "acme/webapp", JOB_QUEUED, old_t, old_t);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_gt(count_rows("SELECT count(*) FROM outbox WHERE job = ?", old_ids[i]),
			     0);
	}

	struct store_counts before, after;
	cr_assert_eq(store_counts(s, &before), 0);
	struct retention_pass p;
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_assert_eq(p.runs, 5);
	cr_assert_eq(p.kept, 0);
	cr_assert_eq(p.error, 0);
	/* The counters of /metrics do not go down: what was pruned still counts, also after
	 * the database is opened again. */
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(store_counts(s, &after), 0);
		for (int st = 0; st < JOB_STATE_COUNT; st++) {
			cr_assert_eq(after.by_state[st], before.by_state[st], "%s",
				     job_state_name((enum job_state)st));
		}
		cr_assert_eq(after.finished, before.finished);
		cr_assert_gt(before.finished, 5);
		cr_assert_float_eq(after.duration_sum_s, before.duration_sum_s, 1e-6);
		for (int b = 0; b < 10; b++) {
			cr_assert_eq(after.buckets[b], before.buckets[b], "bucket %d", b);
		}
		if (k == 0) {
			store_close(s);
			cr_assert_eq(store_open(db, &s), 0);
		}
	}
	for (size_t i = 0; i < 5; i++) {
		cr_assert_not(job_exists(s, old_ids[i]), "old %s run pruned",
			      job_state_name(finals[i]));
		cr_assert_eq(count_rows("SELECT count(*) FROM outbox WHERE job = ?", old_ids[i]), 0,
			     "its outbox rows too");
		cr_assert(job_exists(s, new_ids[i]), "recent %s run kept",
			  job_state_name(finals[i]));
		cr_assert_gt(count_rows("SELECT count(*) FROM outbox WHERE job = ?", new_ids[i]),
			     0);
	}
	cr_assert(job_exists(s, late));
	cr_assert(job_exists(s, old_running));
	cr_assert(job_exists(s, old_queued));
	cr_assert(job_exists(s, pending));
	cr_assert_gt(count_rows("SELECT count(*) FROM outbox WHERE job = ?", pending), 0);

	/* Replay guard: old entries of finished or pruned jobs go (the five pruned, `late`,
	 * `pending`), those of the queued and running jobs and the recent ones stay. */
	cr_assert_eq(p.deliveries, 7);
	cr_assert_eq(count_rows("SELECT count(*) FROM deliveries WHERE job = ?", late), 0);
	cr_assert_eq(count_rows("SELECT count(*) FROM deliveries WHERE job = ?", old_running), 1);
	cr_assert_eq(count_rows("SELECT count(*) FROM deliveries WHERE job = ?", old_queued), 1);
	cr_assert_eq(count_rows("SELECT count(*) FROM deliveries WHERE job = ?", pending), 0);
	cr_assert_eq(count_rows("SELECT count(*) FROM deliveries WHERE received_ms >= ?", new_t),
		     5);
	/* A pruned delivery is no longer a duplicate; a kept one still is. */
	struct job_new again = push("ret-1", "main", sha_a, "other body 1");
	again.supersede_key = "";
	cr_assert_eq(store_enqueue(s, &again, 1, now_ms), 0);
	cr_assert_not(again.duplicate);
	struct job_new kept = push("ret-2", "main", sha_a, "other body 2");
	cr_assert_eq(store_enqueue(s, &kept, 1, now_ms), 0);
	cr_assert(kept.duplicate);
	store_close(s);
	config_free(c);
}

Test(store, retention_works_in_batches)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct server_config *c = retention_config("");
	int64_t ids[11];
	/* Finished in an order other than their ids', some at the same time: a pass walks
	 * them by (finished_ms, id) and must see each once. */
	for (size_t i = 0; i < 11; i++) {
		ids[i] = job_at(s, "acme/webapp", i % 2 ? JOB_FAILED : JOB_PASSED, old_t - 20000,
				old_t - (int64_t)(i / 2) * 1000);
	}
	int64_t recent = job_at(s, "acme/webapp", JOB_PASSED, new_t, new_t);
	settle_outbox(s);

	struct retention_pass p;
	/* 11 runs and 11 deliveries in batches of 4: 4 + 4 + 3, the last one short. */
	unsigned steps = prune_all(s, c, 4, &p);
	cr_assert_eq(steps, 3);
	cr_assert_eq(p.runs, 11);
	cr_assert_eq(p.deliveries, 11);
	for (size_t i = 0; i < 11; i++) {
		cr_assert_not(job_exists(s, ids[i]));
	}
	cr_assert(job_exists(s, recent));
	cr_assert_eq(count_rows("SELECT count(*) FROM jobs WHERE id > ?", 0), 1);
	cr_assert_eq(count_rows("SELECT count(*) FROM deliveries WHERE job > ?", 0), 1);

	/* Exactly one batch's worth: the full batch is followed by an empty one. */
	for (size_t i = 0; i < 4; i++) {
		ids[i] = job_at(s, "acme/webapp", JOB_PASSED, old_t, old_t);
	}
	settle_outbox(s);
	steps = prune_all(s, c, 4, &p);
	cr_assert_eq(steps, 2);
	cr_assert_eq(p.runs, 4);

	/* Nothing left: one step, nothing pruned; `off` prunes nothing at all. */
	cr_assert_eq(prune_all(s, c, 4, &p), 1);
	cr_assert_eq(p.runs + p.deliveries, 0);
	config_free(c);
	c = retention_config("retention:\n  runs: off\n  deliveries: off\n");
	for (size_t i = 0; i < 3; i++) {
		ids[i] = job_at(s, "acme/webapp", JOB_PASSED, 1, 1);
	}
	settle_outbox(s);
	cr_assert_eq(prune_all(s, c, 4, &p), 1);
	cr_assert_eq(p.runs + p.deliveries, 0);
	cr_assert(job_exists(s, ids[0]));
	store_close(s);
	config_free(c);
}

/* A job of sha on ref that reached st at t (queued and claimed at t - 1000). */
static int64_t ref_job_at(struct store *s, const char *sha, const char *ref, enum job_state st,
			  int64_t t)
{
	static int seq;
	char d[32], body[32];
	seq++;
	snprintf(d, sizeof(d), "keep-%d", seq);
	snprintf(body, sizeof(body), "keep-body-%d", seq);
	struct job_new jn = on_ref(d, ref, sha, body);
	cr_assert_eq(store_enqueue(s, &jn, 1, t - 1000), 0);
	cr_assert_eq(claim(s), jn.job_id);
	cr_assert_eq(store_finish(s, jn.job_id, 1, st, 0, NULL, NULL, NULL, t), 1);
	return jn.job_id;
}

/*
 * A commit's status is the worst of the latest run of each (event, ref) (commit 529bda3).
 * Pruning the failed latest run of one ref used to turn the commit green at the next run
 * of another ref: the latest run of an (event, ref) of a commit that failed, was blocked
 * or ended in error is kept past the retention period, until a later run of the same
 * (event, ref) exists; passed and cancelled runs, and earlier runs, are pruned.
 */
Test(store, retention_keeps_the_latest_failed_run_of_each_ref)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct server_config *c = retention_config("");
	int64_t tag_fail = ref_job_at(s, sha_a, "refs/tags/v1", JOB_FAILED, old_t);
	int64_t pr_blocked = ref_job_at(s, sha_a, "refs/pull/7/head", JOB_BLOCKED, old_t + 1);
	int64_t dev_old = ref_job_at(s, sha_a, "refs/heads/dev", JOB_ERROR, old_t + 2);
	int64_t dev_new = ref_job_at(s, sha_a, "refs/heads/dev", JOB_ERROR, old_t + 3);
	int64_t main_pass = ref_job_at(s, sha_a, "refs/heads/main", JOB_PASSED, old_t + 4);
	int64_t rel_cancel = ref_job_at(s, sha_a, "refs/heads/rel", JOB_CANCELLED, old_t + 5);
	int64_t other_fail = ref_job_at(s, sha_b, "refs/heads/main", JOB_FAILED, old_t + 6);
	int64_t fixed_fail = ref_job_at(s, sha_b, "refs/heads/fix", JOB_FAILED, old_t + 7);
	int64_t fixed_pass = ref_job_at(s, sha_b, "refs/heads/fix", JOB_PASSED, old_t + 8);
	settle_outbox(s);
	struct retention_pass p;
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_assert_eq(p.error, 0);
	cr_expect(job_exists(s, tag_fail), "the failed latest run of the tag is kept");
	cr_expect(job_exists(s, pr_blocked), "the blocked latest run of the pull request is kept");
	cr_expect(job_exists(s, dev_new), "the latest run of dev (error) is kept");
	cr_expect(job_exists(s, rel_cancel), "the cancelled latest run of rel is kept");
	cr_expect(job_exists(s, other_fail), "another commit's failed run is kept");
	cr_expect_not(job_exists(s, dev_old), "an earlier run of dev is pruned");
	cr_expect_not(job_exists(s, main_pass), "a passed run is pruned");
	cr_expect_not(job_exists(s, fixed_fail), "a failed run of a ref that ran again is pruned");
	cr_expect_not(job_exists(s, fixed_pass), "and the passed run after it too");
	cr_expect_eq(p.runs, 4);

	/* The commit's next run (another ref, passed) still reports the failure. */
	struct job_new next = on_ref("keep-next", "refs/heads/main", sha_a, "keep-next-body");
	cr_assert_eq(store_enqueue(s, &next, 1, now_ms), 0);
	cr_assert_eq(claim(s), next.job_id);
	cr_assert_eq(store_finish(s, next.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, now_ms), 1);
	_cleanup_free_ char *st = last_status(next.job_id);
	cr_expect(strncmp(st, "failure|", 8) == 0, "the commit turned green: %s", st);

	/* Once the tag, the pull request, dev and rel ran again (and passed), their old runs
	 * go at the next pass past the period, and the commit is green. */
	ref_job_at(s, sha_a, "refs/tags/v1", JOB_PASSED, now_ms + 1);
	ref_job_at(s, sha_a, "refs/pull/7/head", JOB_PASSED, now_ms + 2);
	ref_job_at(s, sha_a, "refs/heads/rel", JOB_PASSED, now_ms + 3);
	int64_t last = ref_job_at(s, sha_a, "refs/heads/dev", JOB_PASSED, now_ms + 4);
	expect_status(last, "success|passed");
	settle_outbox(s);
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_expect_not(job_exists(s, tag_fail));
	cr_expect_not(job_exists(s, pr_blocked));
	cr_expect_not(job_exists(s, dev_new));
	cr_expect_not(job_exists(s, rel_cancel));
	cr_expect(job_exists(s, other_fail));
	store_close(s);
	config_free(c);
}

/* Make the run directory of attempt `attempt` of job id, with a file in it. */
static char *make_run_dir(const char *data_dir, const char *key, int64_t id, unsigned attempt)
{
	char run_id[48];
	snprintf(run_id, sizeof(run_id), "%lld.%u", (long long)id, attempt);
	char *d = jobrun_run_dir(data_dir, key, run_id);
	tu_write(d, "logs/build.log", "log\n");
	tu_write(d, "outcome.json", "{}\n");
	return d;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

Test(store, retention_removes_the_run_directories_of_pruned_runs_only)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct server_config *c = retention_config("");
	const char *dd = c->data_dir;
	const char *key = c->repos[0].key;

	/* An old run with two attempts (the first one re-queued after a crash). */
	int64_t two = job_at(s, "acme/webapp", JOB_RUNNING, old_t, old_t);
	cr_assert_eq(store_requeue(s, two, 1, "crash", NULL, old_t), 1);
	struct job j;
	cr_assert_eq(store_claim(s, true, old_t, &j), 1);
	job_release(&j);
	cr_assert_eq(store_finish(s, two, 2, JOB_PASSED, 0, NULL, NULL, NULL, old_t), 1);
	int64_t recent = job_at(s, "acme/webapp", JOB_FAILED, new_t, new_t);
	int64_t running = job_at(s, "acme/webapp", JOB_RUNNING, old_t, old_t);
	/* A repository that was removed from the configuration: its runs go too. */
	int64_t gone = job_at(s, "acme/gone", JOB_PASSED, old_t, old_t);
	settle_outbox(s);

	_cleanup_free_ char *two_1 = make_run_dir(dd, key, two, 1);
	_cleanup_free_ char *two_2 = make_run_dir(dd, key, two, 2);
	_cleanup_free_ char *recent_1 = make_run_dir(dd, key, recent, 1);
	_cleanup_free_ char *running_1 = make_run_dir(dd, key, running, 1);
	_cleanup_free_ char *gone_key = config_repo_key(FORGE_GITHUB, "acme/gone");
	cr_assert_str_eq(gone_key, "github-acme+gone");
	_cleanup_free_ char *gone_1 = make_run_dir(dd, gone_key, gone, 1);

	/* A failed attempt's workspace kept by keep_failed_workspaces, and a running one's. */
	_cleanup_free_ char *id_two_1 = tu_strf("%lld.1", (long long)two);
	_cleanup_free_ char *id_running = tu_strf("%lld.1", (long long)running);
	_cleanup_free_ char *ws_two_1 = jobrun_workspace(dd, id_two_1);
	_cleanup_free_ char *ws_running = jobrun_workspace(dd, id_running);
	tu_write(ws_two_1, "src/main.c", "int main(void) { return 1; }\n");
	tu_write(ws_running, "src/main.c", "int main(void) { return 0; }\n");

	/* Links planted in a pruned run's directory, to a file and a directory outside. */
	tu_write(dir, "outside/precious", "keep me\n");
	_cleanup_free_ char *outside = tu_strf("%s/outside", dir);
	_cleanup_free_ char *precious = tu_strf("%s/outside/precious", dir);
	_cleanup_free_ char *l1 = tu_strf("%s/escape-dir", two_2);
	_cleanup_free_ char *l2 = tu_strf("%s/logs/escape-file", two_2);
	cr_assert_eq(symlink(outside, l1), 0);
	cr_assert_eq(symlink(precious, l2), 0);

	struct retention_pass p;
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_assert_eq(p.runs, 2);
	cr_assert_eq(p.kept, 0);
	cr_assert_not(job_exists(s, two));
	cr_assert_not(job_exists(s, gone));
	cr_assert_not(is_dir(two_1), "every attempt's directory is removed");
	cr_assert_not(is_dir(two_2));
	cr_assert_not(is_dir(gone_1));
	cr_assert(is_dir(recent_1), "a run that is kept keeps its directory");
	cr_assert(is_dir(running_1), "a running job's directory is never touched");
	cr_assert_not(is_dir(ws_two_1), "a kept workspace goes with its run");
	cr_assert(is_dir(ws_running), "a running job's workspace is never touched");
	_cleanup_free_ char *kept_log = tu_strf("%s/logs/build.log", running_1);
	cr_assert(tu_exists("%s", kept_log));
	_cleanup_free_ char *content = tu_read(precious);
	cr_assert_str_eq(content, "keep me\n", "the links' targets are untouched");
	cr_assert(is_dir(outside));
	store_close(s);
	config_free(c);
}

Test(store, retention_keeps_a_run_whose_directory_cannot_be_found)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct server_config *c = retention_config("");
	/* A forge this server does not know: no key, so no directory to remove. Keeping
	 * the row (and saying so) is better than leaving files nothing points to. */
	struct job_new jn = push("odd-1", "main", sha_a, "odd body");
	jn.forge = "bitbucket";
	jn.supersede_key = "";
	cr_assert_eq(store_enqueue(s, &jn, 1, old_t), 0);
	struct job j;
	cr_assert_eq(store_claim(s, true, old_t, &j), 1);
	job_release(&j);
	cr_assert_eq(store_finish(s, jn.job_id, 1, JOB_PASSED, 0, NULL, NULL, NULL, old_t), 1);
	settle_outbox(s);
	struct retention_pass p;
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_assert_eq(p.runs, 0);
	cr_assert_eq(p.kept, 1);
	cr_assert_eq(p.dir_error, -EINVAL);
	cr_assert(job_exists(s, jn.job_id));
	store_close(s);
	config_free(c);
}

/* An attempt's outcome names the claim it belongs to (the job's started_ms, in its spec):
 * a run directory that outlived a reset queue holds an outcome.json of an earlier job with
 * the same run id, which must never be taken for the new attempt's result (its process
 * may die without writing one: that is an error, not the old "passed"). */
Test(store, an_outcome_of_another_claim_is_not_taken)
{
	char *run = xasprintf("%s/runs/1.1", dir);
	struct job_outcome o;
	cr_assert_eq(jobrun_read_outcome(run, 1000, &o), -ENOENT);
	tu_write(run, "outcome.json",
		 "{\"state\":\"passed\",\"exit_code\":0,\"interrupted\":false,"
		 "\"claimed_ms\":1000}");
	cr_assert_eq(jobrun_read_outcome(run, 2000, &o), -ESTALE);
	cr_assert_eq(jobrun_read_outcome(run, 1000, &o), 0);
	cr_assert_eq(o.state, JOB_PASSED);
	job_outcome_release(&o);
	/* Written before outcomes named their claim: not taken either. */
	tu_write(run, "outcome.json", "{\"state\":\"passed\",\"exit_code\":0}");
	cr_assert_eq(jobrun_read_outcome(run, 1000, &o), -ESTALE);
	free(run);

	/* The spec hands the claim to the attempt. */
	struct job j = { .id = 1, .attempts = 1, .started_ms = 123456, .trusted = true };
	j.run_id = (char *)"1.1";
	struct repo_config r = { .name = "acme/app",
				 .key = "github-acme+app",
				 .forge = FORGE_GITHUB };
	struct server_config c = { .data_dir = dir };
	json_t *spec = jobrun_spec(&c, &r, &j);
	cr_assert_eq(json_integer_value(json_object_get(spec, "claimed_ms")), 123456);
	json_decref(spec);
}

/* A claim whose update fails (here a trigger refuses it, as a full disk or an I/O error
 * would) is an error, rolled back, and leaves the caller's job empty: the dispatcher
 * releases nothing it did not get. The job stays queued. */
Test(store, a_failed_claim_leaves_nothing_to_release)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct job_new jn = push("d-1", "main", sha_a, "body-1");
	cr_assert_eq(store_enqueue(s, &jn, 1, 1000), 0);
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h,
				  "CREATE TRIGGER refuse BEFORE UPDATE ON jobs "
				  "BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	struct job j;
	memset(&j, 0xAB, sizeof(j)); /* what an uninitialised variable may hold */
	cr_assert_lt(store_claim(s, true, 2000, &j), 0);
	cr_assert_null(j.repo);
	cr_assert_null(j.run_id);
	job_release(&j);
	cr_assert_eq(sqlite3_exec(h, "DROP TRIGGER refuse", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	cr_assert_eq(store_claim(s, true, 2001, &j), 1, "still queued");
	cr_assert_eq(j.id, 1);
	job_release(&j);
	store_close(s);
}

/* runs/latest points at the newest run of a repository, whatever its age: retention keeps
 * that run (row and directory) while it does, so that latest never points nowhere; once a
 * later run moves latest on, the next pass prunes it. A repository no longer configured has
 * no later run: its last run goes, and its latest with it. */
Test(store, retention_keeps_the_run_runs_latest_points_at)
{
	struct store *s;
	cr_assert_eq(store_open(db, &s), 0);
	struct server_config *c = retention_config("");
	const char *dd = c->data_dir;
	const char *key = c->repos[0].key;
	int64_t older = job_at(s, "acme/webapp", JOB_PASSED, old_t, old_t);
	int64_t last = job_at(s, "acme/webapp", JOB_PASSED, old_t, old_t);
	int64_t gone = job_at(s, "acme/gone", JOB_PASSED, old_t, old_t);
	settle_outbox(s);
	_cleanup_free_ char *older_1 = make_run_dir(dd, key, older, 1);
	_cleanup_free_ char *last_1 = make_run_dir(dd, key, last, 1);
	_cleanup_free_ char *gone_key = config_repo_key(FORGE_GITHUB, "acme/gone");
	_cleanup_free_ char *gone_1 = make_run_dir(dd, gone_key, gone, 1);
	_cleanup_free_ char *latest = tu_strf("%s/repos/%s/runs/latest", dd, key);
	_cleanup_free_ char *gone_latest = tu_strf("%s/repos/%s/runs/latest", dd, gone_key);
	_cleanup_free_ char *gone_info = tu_strf("%s/repos/%s/runs/.latest-started", dd, gone_key);
	_cleanup_free_ char *last_id = tu_strf("%lld.1", (long long)last);
	_cleanup_free_ char *gone_id = tu_strf("%lld.1", (long long)gone);
	cr_assert_eq(symlink(last_id, latest), 0);
	cr_assert_eq(symlink(gone_id, gone_latest), 0);
	_cleanup_free_ char *gone_runs = tu_strf("%s/repos/%s/runs", dd, gone_key);
	tu_write(gone_runs, ".latest-started", "1 x\n");

	struct retention_pass p;
	struct stat st;
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_expect_eq(p.runs, 2);
	cr_expect_eq(p.kept, 0);
	cr_expect_eq(p.latest_kept, 1);
	cr_expect_not(job_exists(s, older));
	cr_expect_not(is_dir(older_1));
	cr_expect(job_exists(s, last), "the run latest points at is kept");
	cr_expect(is_dir(last_1));
	cr_expect_eq(stat(latest, &st), 0, "runs/latest points nowhere");
	cr_expect_not(job_exists(s, gone));
	cr_expect_not(is_dir(gone_1));
	cr_expect_neq(lstat(gone_latest, &st), 0, "a dangling latest is left");
	cr_expect_neq(lstat(gone_info, &st), 0);

	/* A later run moves latest on: the pass after prunes the old one. */
	cr_assert_eq(unlink(latest), 0);
	cr_assert_eq(symlink("999.1", latest), 0);
	prune_all(s, c, RETENTION_BATCH, &p);
	cr_expect_eq(p.runs, 1);
	cr_expect_eq(p.latest_kept, 0);
	cr_expect_not(job_exists(s, last));
	cr_expect_not(is_dir(last_1));
	store_close(s);
	config_free(c);
}

/* A run directory is an attempt's record when the claim the attempt wrote first into it
 * names the job, the run id and the claim time; one from before claim files existed, when
 * its outcome names the claim. Anything else (an earlier queue.db's run of the same id, a
 * planted directory or link) is not the attempt's. */
Test(store, a_run_directory_is_the_attempts_only_if_it_claimed_it)
{
	char *run = xasprintf("%s/runs/1.1", dir);
	cr_assert_eq(jobrun_run_dir_is_own(run, 1, "1.1", 1000), -ENOENT);
	tu_write(run, "report.json", "{}\n");
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.1", 1000), -ESTALE, "no claim, no outcome");
	tu_write(run, "outcome.json",
		 "{\"state\":\"passed\",\"exit_code\":0,\"interrupted\":false,"
		 "\"claimed_ms\":2000}");
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.1", 1000), -ESTALE,
		     "another claim's outcome");
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.1", 2000), 0, "a record from before claims");
	tu_write(run, JOBRUN_CLAIM_FILE, "{\"job\":1,\"run_id\":\"1.1\",\"claimed_ms\":1000}");
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.1", 1000), 0);
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.1", 2000), -ESTALE,
		     "a claim of another attempt: its outcome does not make it this one's");
	cr_expect_eq(jobrun_run_dir_is_own(run, 2, "1.1", 1000), -ESTALE);
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.2", 1000), -ESTALE);
	tu_write(run, JOBRUN_CLAIM_FILE, "not json");
	cr_expect_eq(jobrun_run_dir_is_own(run, 1, "1.1", 1000), -ESTALE);
	char *link = xasprintf("%s/runs/1.2", dir);
	cr_assert_eq(symlink(run, link), 0);
	tu_write(run, JOBRUN_CLAIM_FILE, "{\"job\":1,\"run_id\":\"1.2\",\"claimed_ms\":1000}");
	cr_expect_eq(jobrun_run_dir_is_own(link, 1, "1.2", 1000), -ESTALE, "a link is not made");
	free(link);
	free(run);
}
