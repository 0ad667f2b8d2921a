/*
 * store.c - the job queue on SQLite.
 *
 * WAL journal with synchronous=FULL: a commit is on disk when sqlite3_step() returns, so
 * the 202 sent after store_enqueue() never promises something a crash can take back.
 * Writers use BEGIN IMMEDIATE (the write lock up front, so no transaction has to be
 * retried half-way) and a busy timeout, which serialises the few writer threads.
 * Statements are prepared once per connection.
 */
#include "store.h"

#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "banned.h"

static const char *const state_names[JOB_STATE_COUNT] = {
	"queued", "running", "passed", "failed", "blocked", "error", "cancelled",
};

const double store_duration_buckets[10] = { 1, 5, 10, 30, 60, 300, 600, 1800, 3600, -1 };

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS jobs("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" repo TEXT NOT NULL, forge TEXT NOT NULL, delivery TEXT NOT NULL, event TEXT NOT NULL,"
	" ref TEXT NOT NULL, branch TEXT NOT NULL, tag TEXT NOT NULL, sha TEXT NOT NULL,"
	" number INTEGER NOT NULL, base_branch TEXT NOT NULL, base_sha TEXT NOT NULL,"
	" trusted INTEGER NOT NULL, supersede_key TEXT NOT NULL,"
	" state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" cancel_requested INTEGER NOT NULL DEFAULT 0, exit_code INTEGER NOT NULL DEFAULT -1,"
	" message TEXT NOT NULL DEFAULT '', run_id TEXT NOT NULL DEFAULT '',"
	" created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,"
	" finished_ms INTEGER NOT NULL DEFAULT 0, statuses INTEGER NOT NULL DEFAULT 1,"
	" before_sha TEXT NOT NULL DEFAULT '', peel INTEGER NOT NULL DEFAULT 0,"
	" tag_object TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);"
	/* Supersession is per repository, and a repository is a forge and a name (acme/app on
	 * GitHub is not acme/app on Gitea). Stores made before that had jobs_supersede on
	 * (repo, supersede_key, state): it is dropped for the index with the forge. */
	"DROP INDEX IF EXISTS jobs_supersede;"
	"CREATE INDEX IF NOT EXISTS jobs_supersede_forge"
	" ON jobs(repo, forge, supersede_key, state);"
	"CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(finished_ms);"
	/* The runs of one commit: its status is theirs together. */
	"CREATE INDEX IF NOT EXISTS jobs_commit ON jobs(sha, forge, repo, event, ref);"
	/* The replay guard. A body is a replay of one delivered to the same repository of the
	 * same forge (repo: '' for those of a store made before, whose run was gone; the index
	 * on the body, forge and repository is made by migrate(), after the column). */
	"CREATE TABLE IF NOT EXISTS deliveries("
	" forge TEXT NOT NULL, delivery TEXT NOT NULL, body_sha BLOB NOT NULL,"
	" job INTEGER NOT NULL, received_ms INTEGER NOT NULL, repo TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY(forge, delivery));"
	"CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries(received_ms);"
	"CREATE TABLE IF NOT EXISTS outbox("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, job INTEGER NOT NULL, kind INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
	" body TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,"
	" next_ms INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '', commit_key TEXT, link_job INTEGER);"
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox(done, next_ms);"
	"CREATE INDEX IF NOT EXISTS outbox_job ON outbox(job, done, id);"
	/* What retention removed, for the counters of /metrics, which must not go down:
	 * state:<name>, finished, duration_sum (s), le:<bucket index>. */
	"CREATE TABLE IF NOT EXISTS pruned(key TEXT PRIMARY KEY, v REAL NOT NULL);";

#define JOB_COLS                                                                             \
	"id, repo, forge, delivery, event, ref, branch, tag, sha, number, base_branch, "     \
	"base_sha, trusted, supersede_key, state, attempts, cancel_requested, exit_code, "   \
	"message, run_id, created_ms, started_ms, finished_ms, statuses, before_sha, peel, " \
	"tag_object"

/*
 * link_job: the run a commit status links to (its target_url), when it is not the row's own
 * job: the run that decided the commit's state (add_status()); NULL otherwise.
 *
 * The commit of a commit status (kind 0, OUTBOX_STATUS), in the outbox row itself:
 * "forge:repo@sha" (a forge has no ':', a SHA no '@'); NULL for other kinds. Written when
 * the row is queued, and filled in for the statuses of a store made before (migrate()).
 */
#define COMMIT_KEY_OF_JOB(id) \
	"(SELECT forge || ':' || repo || '@' || sha FROM jobs WHERE jobs.id = " id ")"

/* An outbox row o waits for the earlier rows of its job, and a commit status for the
 * earlier statuses of its commit: both index lookups (outbox_job, outbox_commit) that stop
 * at the first undone row, whatever the number of runs, refs or rows of the commit. (This
 * used to walk the commit's runs in jobs_commit's (event, ref) order and each run's rows:
 * with thousands of runs of one commit, seconds per query.) */
#define OUTBOX_IN_ORDER                                                             \
	"NOT EXISTS (SELECT 1 FROM outbox p WHERE p.job = o.job AND p.done = 0"     \
	" AND p.id < o.id) AND (o.kind != 0 OR o.commit_key IS NULL OR NOT EXISTS"  \
	" (SELECT 1 FROM outbox p WHERE p.commit_key = o.commit_key AND p.done = 0" \
	" AND p.id < o.id))"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_FIND_DELIVERY,
	ST_INSERT_JOB,
	ST_INSERT_DELIVERY,
	ST_INSERT_OUTBOX,
	ST_SUPERSEDE_QUEUED_LIST,
	ST_INHERIT_BEFORE,
	ST_CANCEL_QUEUED,
	ST_SUPERSEDE_RUNNING,
	ST_CLAIM_PICK,
	ST_CLAIM_PICK_TRUSTED,
	ST_CLAIM_UPDATE,
	ST_GET,
	ST_FINISH,
	ST_SET_SHA,
	ST_RESOLVE,
	ST_REKEY_OUTBOX,
	ST_REQUEUE,
	ST_CANCEL_REQUEST,
	ST_RUNNING,
	ST_RUNNING_CANCEL,
	ST_LIST,
	ST_COUNT_STATES,
	ST_COUNT_QUEUED,
	ST_QUEUED_WITH_KEY,
	ST_COUNT_DURATIONS,
	ST_COUNT_OUTBOX,
	ST_OUTBOX_DUE,
	ST_OUTBOX_UPDATE,
	ST_OUTBOX_NEXT,
	ST_COMMIT_RUNS,
	ST_JOB_STATE,
	ST_PRUNE_PICK,
	ST_PRUNE_JOB,
	ST_PRUNE_JOB_OUTBOX,
	ST_PRUNE_DELIVERIES,
	ST_PRUNE_FACTS,
	ST_PRUNED_ADD,
	ST_PRUNED_ALL,
	ST__COUNT,
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_FIND_DELIVERY] = "SELECT job FROM deliveries WHERE (forge = ?1 AND delivery = ?2)"
			     " OR (body_sha = ?3 AND forge = ?1 AND repo IN (?4, '')) LIMIT 1",
	[ST_INSERT_JOB] = "INSERT INTO jobs(repo, forge, delivery, event, ref, branch, tag, sha,"
			  " number, base_branch, base_sha, trusted, supersede_key, state,"
			  " created_ms, statuses, before_sha, peel)"
			  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,'queued',?,?,?,?)",
	[ST_INSERT_DELIVERY] = "INSERT INTO deliveries(forge, delivery, body_sha, job, received_ms,"
			       " repo) VALUES(?,?,?,?,?,?)",
	[ST_INSERT_OUTBOX] = "INSERT INTO outbox(job, kind, state, description, body, next_ms,"
			     " commit_key, link_job) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
			     " CASE WHEN ?2 = 0 THEN " COMMIT_KEY_OF_JOB("?1") " END, ?7)",
	[ST_SUPERSEDE_QUEUED_LIST] = "SELECT id, statuses FROM jobs WHERE repo = ?1 AND forge = ?4"
				     " AND supersede_key = ?2 AND state = 'queued' AND id < ?3",
	[ST_INHERIT_BEFORE] = "UPDATE jobs SET before_sha = (SELECT o.before_sha FROM jobs o"
			      " WHERE o.state IN ('queued', 'running') AND o.id < ?3"
			      " AND o.repo = ?1 AND o.forge = ?4 AND o.event = 'push'"
			      " AND o.ref = ?2 ORDER BY o.id LIMIT 1) WHERE id = ?3 AND EXISTS"
			      " (SELECT 1 FROM jobs o WHERE o.state IN ('queued', 'running')"
			      " AND o.id < ?3 AND o.repo = ?1 AND o.forge = ?4"
			      " AND o.event = 'push' AND o.ref = ?2)",
	[ST_CANCEL_QUEUED] = "UPDATE jobs SET state = 'cancelled', exit_code = 143, message = ?2,"
			     " finished_ms = ?3 WHERE id = ?1 AND state = 'queued'",
	[ST_SUPERSEDE_RUNNING] = "UPDATE jobs SET cancel_requested = 1, message = ?4"
				 " WHERE repo = ?1 AND forge = ?5 AND supersede_key = ?2"
				 " AND state = 'running' AND id < ?3",
	[ST_CLAIM_PICK] = "SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1",
	[ST_CLAIM_PICK_TRUSTED] = "SELECT id FROM jobs WHERE state = 'queued' AND trusted = 1"
				  " ORDER BY id LIMIT 1",
	[ST_CLAIM_UPDATE] = "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
			    " started_ms = ?2, finished_ms = 0, cancel_requested = 0,"
			    " run_id = id || '.' || (attempts + 1) WHERE id = ?1",
	[ST_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?",
	/* A tag's run found its commit (the payload named the tag object): its statuses go to
	 * the commit, with the commit's other runs. */
	[ST_SET_SHA] = "UPDATE jobs SET tag_object = CASE WHEN sha != ?2 THEN sha"
		       " ELSE tag_object END, sha = ?2, peel = 0 WHERE id = ?1",
	[ST_RESOLVE] = "UPDATE jobs SET tag_object = CASE WHEN sha != ?3 THEN sha"
		       " ELSE tag_object END, sha = ?3, peel = 0"
		       " WHERE id = ?1 AND attempts = ?2 AND state = 'running' AND peel = 1",
	[ST_REKEY_OUTBOX] = "UPDATE outbox SET commit_key = " COMMIT_KEY_OF_JOB(
		"?1") " WHERE job = ?1 AND kind = 0 AND done = 0",
	[ST_FINISH] = "UPDATE jobs SET state = ?3, exit_code = ?4, message = ?5, finished_ms = ?6"
		      " WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
	[ST_REQUEUE] = "UPDATE jobs SET state = 'queued', message = ?3, cancel_requested = 0"
		       " WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
	[ST_CANCEL_REQUEST] = "UPDATE jobs SET cancel_requested = 1, message = ?2"
			      " WHERE id = ?1 AND state = 'running'",
	[ST_RUNNING] = "SELECT " JOB_COLS " FROM jobs WHERE state = 'running' ORDER BY id",
	[ST_RUNNING_CANCEL] = "SELECT " JOB_COLS " FROM jobs WHERE state = 'running'"
			      " AND cancel_requested = 1 ORDER BY id",
	[ST_LIST] = "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?",
	[ST_COUNT_STATES] = "SELECT state, count(*) FROM jobs GROUP BY state",
	/* The queue's length against its caps (jobs_state: the queued rows only). */
	[ST_COUNT_QUEUED] = "SELECT count(*), total(trusted = 0) FROM jobs WHERE state = 'queued'",
	[ST_QUEUED_WITH_KEY] =
		"SELECT 1 FROM jobs WHERE repo = ?1 AND forge = ?2"
		" AND supersede_key = ?3 AND trusted = ?4 AND state = 'queued' LIMIT 1",
	[ST_COUNT_DURATIONS] =
		"SELECT count(*), total(d) / 1000.0,"
		" total(d <= 1000), total(d <= 5000), total(d <= 10000), total(d <= 30000),"
		" total(d <= 60000), total(d <= 300000), total(d <= 600000),"
		" total(d <= 1800000), total(d <= 3600000)"
		" FROM (SELECT finished_ms - started_ms AS d FROM jobs"
		" WHERE finished_ms > 0 AND started_ms > 0)",
	[ST_COUNT_OUTBOX] = "SELECT total(done = 0), total(done = 2) FROM outbox",
	/* In order per job, and commit statuses also in order per commit (all runs of a
	 * commit post to one status context: a later state must not be overwritten by an
	 * earlier one that was retried). */
	[ST_OUTBOX_DUE] = "SELECT o.id, o.job, o.kind, o.state, o.description, o.body, o.attempts,"
			  " o.link_job"
			  " FROM outbox o"
			  " WHERE o.done = 0 AND o.next_ms <= ?1 AND " OUTBOX_IN_ORDER
			  " ORDER BY o.id LIMIT ?2",
	[ST_OUTBOX_UPDATE] = "UPDATE outbox SET done = ?2, attempts = attempts + 1, next_ms = ?3,"
			     " last_error = ?4 WHERE id = ?1",
	[ST_OUTBOX_NEXT] =
		"SELECT min(o.next_ms) FROM outbox o WHERE o.done = 0 AND " OUTBOX_IN_ORDER,
	/* The latest run of each (event, ref) of a job's commit that reports statuses (SQLite
	 * takes the bare columns from the row of max()). */
	[ST_COMMIT_RUNS] = "SELECT max(k.id), k.state, k.ref FROM jobs j JOIN jobs k"
			   " ON k.sha = j.sha AND k.forge = j.forge AND k.repo = j.repo"
			   " WHERE j.id = ?1 AND k.statuses = 1 GROUP BY k.event, k.ref",
	[ST_JOB_STATE] = "SELECT state FROM jobs WHERE id = ?1",
	/* A job with calls still to make is left for a later pass: the reporter needs it. The
	 * latest run of an (event, ref) of a commit that failed, was blocked, ended in error or
	 * was cancelled is kept while it is the latest (ST_COMMIT_RUNS reads it: without it a
	 * later run of another ref would turn the commit green). */
	[ST_PRUNE_PICK] = "SELECT " JOB_COLS " FROM jobs j WHERE finished_ms >= ?2"
			  " AND finished_ms < ?1 AND (finished_ms, id) > (?2, ?3)"
			  " AND state NOT IN ('queued', 'running') AND NOT EXISTS"
			  " (SELECT 1 FROM outbox o WHERE o.job = j.id AND o.done = 0)"
			  " AND NOT (j.statuses = 1 AND j.state IN ('failed', 'blocked', 'error', "
			  "'cancelled')"
			  " AND NOT EXISTS (SELECT 1 FROM jobs l WHERE l.sha = j.sha"
			  " AND l.forge = j.forge AND l.repo = j.repo AND l.event = j.event"
			  " AND l.ref = j.ref AND l.statuses = 1 AND l.id > j.id))"
			  " ORDER BY finished_ms, id LIMIT ?4",
	[ST_PRUNE_JOB] = "DELETE FROM jobs WHERE id = ?1 AND state NOT IN ('queued', 'running')",
	[ST_PRUNE_JOB_OUTBOX] = "DELETE FROM outbox WHERE job = ?1",
	[ST_PRUNE_FACTS] = "SELECT state, started_ms, finished_ms FROM jobs WHERE id = ?1",
	[ST_PRUNED_ADD] = "INSERT INTO pruned(key, v) VALUES(?1, ?2)"
			  " ON CONFLICT(key) DO UPDATE SET v = v + excluded.v",
	[ST_PRUNED_ALL] = "SELECT key, v FROM pruned",
	[ST_PRUNE_DELIVERIES] =
		"DELETE FROM deliveries WHERE rowid IN (SELECT d.rowid FROM deliveries d"
		" WHERE d.received_ms < ?1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = d.job"
		" AND j.state IN ('queued', 'running')) LIMIT ?2)",
};

/* The queue is counted again at most this often while it is at a cap (queue_full()). */
#define QUEUE_RECOUNT_MS 1000

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	/* The queue's length for its caps, without a count per delivery: counted once, then
	 * one more for each job this connection queues. Runs leave the queue on other
	 * connections (the dispatcher's), so this is at least the length (requeued runs aside,
	 * which were queued once already); it is counted again when it reaches a cap. */
	bool queued_known;
	int64_t queued, queued_untrusted, queued_counted_ms;
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT ? state_names[s] : "unknown";
}

int job_state_from_name(const char *s, enum job_state *out)
{
	for (size_t i = 0; i < JOB_STATE_COUNT; i++) {
		if (str_eq(s, state_names[i])) {
			*out = (enum job_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool job_state_final(enum job_state s)
{
	return s != JOB_QUEUED && s != JOB_RUNNING;
}

static int sql_err(int rc)
{
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY
	       : rc == SQLITE_NOMEM			? -ENOMEM
							: -EIO;
}

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Run a statement that returns no rows. */
static int exec_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sql_err(rc);
}

static int begin(struct store *s)
{
	return exec_stmt(stmt(s, ST_BEGIN));
}

static int commit(struct store *s)
{
	int r = exec_stmt(stmt(s, ST_COMMIT));
	if (r < 0) {
		exec_stmt(stmt(s, ST_ROLLBACK));
	}
	return r;
}

static void rollback(struct store *s)
{
	exec_stmt(stmt(s, ST_ROLLBACK));
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

/*
 * Writers hold the lock for one short transaction. SQLite's default busy handler backs
 * off up to 100 ms per try, which turns brief contention into long tails; short sleeps
 * instead (0.1 ms, then 1 ms), for up to about 20 s in all.
 */
static int on_busy(void *ud, int count)
{
	(void)ud;
	if (count >= 20000) {
		return 0;
	}
	struct timespec ts = { 0, count < 100 ? 100000 : 1000000 };
	nanosleep(&ts, NULL);
	return 1;
}

/* Whether the table has the column: *present, and SQLITE_OK or an error. */
static int table_has(sqlite3 *db, const char *table, const char *column, bool *present)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
		db, "SELECT count(*) FROM pragma_table_info(?2) WHERE name = ?1", -1, &st, NULL);
	*present = false;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, column, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		*present = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Bring a store made by an earlier version up to date, in one write transaction (another
 * connection may be opening it too): the outbox's commit_key column, filled in for its
 * commit statuses, and its index; its link_job column (NULL: statuses queued before link
 * their own run, as they did); the jobs' before_sha column ('': the pushes queued before
 * are scanned as new refs are, without an old tip); their peel and tag_object columns (0
 * and '': runs queued before posted their statuses to the id they were given); the
 * deliveries' repo column, taken from their run ('' when it is gone: such a body stays a
 * replay for every repository of its forge), and the index of the replay guard with it.
 */
static int migrate(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	bool present = false;
	rc = table_has(db, "outbox", "link_job", &present);
	if (rc == SQLITE_OK && !present) {
		rc = sqlite3_exec(db, "ALTER TABLE outbox ADD COLUMN link_job INTEGER;", NULL, NULL,
				  NULL);
	}
	if (rc == SQLITE_OK) {
		rc = table_has(db, "jobs", "before_sha", &present);
	}
	if (rc == SQLITE_OK && !present) {
		rc = sqlite3_exec(
			db, "ALTER TABLE jobs ADD COLUMN before_sha TEXT NOT NULL DEFAULT '';",
			NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = table_has(db, "jobs", "peel", &present);
	}
	if (rc == SQLITE_OK && !present) {
		rc = sqlite3_exec(
			db,
			"ALTER TABLE jobs ADD COLUMN peel INTEGER NOT NULL DEFAULT 0;"
			"ALTER TABLE jobs ADD COLUMN tag_object TEXT NOT NULL DEFAULT '';",
			NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = table_has(db, "outbox", "commit_key", &present);
	}
	if (rc == SQLITE_OK && !present) {
		rc = sqlite3_exec(db,
				  "ALTER TABLE outbox ADD COLUMN commit_key TEXT;"
				  "UPDATE outbox SET commit_key = " COMMIT_KEY_OF_JOB(
					  "outbox.job") " WHERE kind = 0;",
				  NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = table_has(db, "deliveries", "repo", &present);
	}
	if (rc == SQLITE_OK && !present) {
		rc = sqlite3_exec(db,
				  "ALTER TABLE deliveries ADD COLUMN repo TEXT NOT NULL DEFAULT '';"
				  "UPDATE deliveries SET repo = coalesce((SELECT j.repo FROM jobs j"
				  " WHERE j.id = deliveries.job), '');",
				  NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(db,
				  "DROP INDEX IF EXISTS deliveries_body;"
				  "CREATE INDEX IF NOT EXISTS deliveries_body_repo"
				  " ON deliveries(body_sha, forge, repo);",
				  NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(db,
				  "CREATE INDEX IF NOT EXISTS outbox_commit"
				  " ON outbox(commit_key, done, id);"
				  "COMMIT",
				  NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

int store_open(const char *path, struct store **out)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	*out = NULL;
	if (rc != SQLITE_OK) {
		store_close(s);
		return -EIO;
	}
	sqlite3_busy_handler(s->db, on_busy, NULL);
	char *err = NULL;
	rc = sqlite3_exec(s->db,
			  "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			  " PRAGMA foreign_keys = ON;",
			  NULL, NULL, &err);
	sqlite3_free(err);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(s->db, schema, NULL, NULL, &err);
		sqlite3_free(err);
	}
	if (rc == SQLITE_OK) {
		rc = migrate(s->db);
	}
	for (size_t i = 0; rc == SQLITE_OK && i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->st[i], NULL);
	}
	if (rc != SQLITE_OK) {
		int e = sql_err(rc);
		store_close(s);
		return e;
	}
	*out = s;
	return 0;
}

void store_set_autocheckpoint(struct store *s, bool on)
{
	sqlite3_wal_autocheckpoint(s->db, on ? 1000 : 0);
}

int store_checkpoint(struct store *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sql_err(rc);
}

void store_close(struct store *s)
{
	if (!s) {
		return;
	}
	for (size_t i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(s->st[i]);
	}
	sqlite3_close(s->db);
	free(s);
}

/* Queue a call for job; a status links to run `link` (0: the job's own). */
static int add_outbox(struct store *s, int64_t job, enum outbox_kind kind, const char *state,
		      const char *desc, const char *body, int64_t link, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_INSERT_OUTBOX);
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, (int)kind);
	bind_text(st, 3, state);
	bind_text(st, 4, desc);
	bind_text(st, 5, body);
	sqlite3_bind_int64(st, 6, now);
	if (link > 0 && link != job) {
		sqlite3_bind_int64(st, 7, link);
	} else {
		sqlite3_bind_null(st, 7);
	}
	return exec_stmt(st);
}

/*
 * Commit statuses. All runs of a commit post to one context (the repository's
 * api.context), so the state posted is not one run's but the commit's: the worst of the
 * latest run of each (event, ref) of the commit. A ref's newer run replaces its older ones
 * (a re-run can clear its own failure); another ref's failure stays until that ref runs
 * again: failure (failed, blocked) > error (error, cancelled) > pending (queued, running) >
 * success.
 */
enum status_rank { RANK_SUCCESS, RANK_PENDING, RANK_ERROR, RANK_FAILURE };

static const char *const rank_states[] = { "success", "pending", "error", "failure" };

static enum status_rank status_rank(enum job_state st)
{
	switch (st) {
	case JOB_PASSED:
		return RANK_SUCCESS;
	case JOB_QUEUED:
	case JOB_RUNNING:
		return RANK_PENDING;
	case JOB_FAILED:
	case JOB_BLOCKED:
		return RANK_FAILURE;
	default:
		return RANK_ERROR;
	}
}

static const char *state_words(enum job_state st)
{
	switch (st) {
	case JOB_QUEUED:
		return "is queued";
	case JOB_RUNNING:
		return "is running";
	case JOB_PASSED:
		return "passed";
	case JOB_FAILED:
		return "failed";
	case JOB_BLOCKED:
		return "was blocked by a security gate";
	case JOB_CANCELLED:
		return "was cancelled";
	default:
		return "ended in error";
	}
}

static enum job_state col_state(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	enum job_state js;
	return job_state_from_name(t ? (const char *)t : "", &js) == 0 ? js : JOB_ERROR;
}

/* Queue the commit status for a change of job id, whose own description is own_desc (in
 * the transaction of the change, which it reads). */
static int add_status(struct store *s, int64_t id, const char *own_desc, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_JOB_STATE);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	enum job_state own = rc == SQLITE_ROW ? col_state(st, 0) : JOB_ERROR;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		return rc == SQLITE_DONE ? -ENOENT : sql_err(rc);
	}
	enum status_rank worst = status_rank(own);
	bool own_latest = false;
	int64_t by = 0;
	enum job_state by_state = own;
	char by_ref[96] = "";
	st = stmt(s, ST_COMMIT_RUNS);
	sqlite3_bind_int64(st, 1, id);
	/* The run that decides: the worst; at equal rank this job, else the newest. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t k = sqlite3_column_int64(st, 0);
		enum job_state ks = col_state(st, 1);
		enum status_rank r = status_rank(ks);
		own_latest |= k == id;
		if (k != id && (by == 0 || r > status_rank(by_state) ||
				(r == status_rank(by_state) && k > by))) {
			by = k;
			by_state = ks;
			const unsigned char *ref = sqlite3_column_text(st, 2);
			snprintf(by_ref, sizeof(by_ref), "%s", ref ? (const char *)ref : "");
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return sql_err(rc);
	}
	/* This job counts only while it is the latest run of its ref. */
	if (!own_latest) {
		worst = by ? status_rank(by_state) : worst;
	} else if (by && status_rank(by_state) > worst) {
		worst = status_rank(by_state);
	}
	if ((own_latest && worst == status_rank(own)) || !by) {
		return add_outbox(s, id, OUTBOX_STATUS, rank_states[worst], own_desc, NULL, 0, now);
	}
	char desc[256];
	snprintf(desc, sizeof(desc), "run %lld for %s %s (this run: %.120s)", (long long)by, by_ref,
		 state_words(by_state), own_desc);
	/* The status says another run decided it: it links to that run. */
	return add_outbox(s, id, OUTBOX_STATUS, rank_states[worst], desc, NULL, by, now);
}

/* Cancel older queued jobs of the same repository (forge and name) and key; mark running
 * ones. */
static int supersede(struct store *s, struct job_new *it, int64_t now)
{
	char why[96], desc[112];
	snprintf(why, sizeof(why), "superseded by run %lld", (long long)it->job_id);
	snprintf(desc, sizeof(desc), "cancelled: %s", why);
	sqlite3_stmt *st = stmt(s, ST_SUPERSEDE_QUEUED_LIST);
	bind_text(st, 1, it->repo);
	bind_text(st, 2, it->supersede_key);
	sqlite3_bind_int64(st, 3, it->job_id);
	bind_text(st, 4, it->forge);
	int64_t ids[64];
	bool statuses[64];
	size_t n = 0;
	int rc;
	/* Older queued jobs of one key are few (each new one cancels the ones before it);
	 * collect a bounded number per pass and loop. */
	for (;;) {
		n = 0;
		while (n < ARRAY_SIZE(ids) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			statuses[n] = sqlite3_column_int(st, 1) != 0;
			ids[n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_reset(st);
		if (n == 0) {
			break;
		}
		for (size_t i = 0; i < n; i++) {
			sqlite3_stmt *up = stmt(s, ST_CANCEL_QUEUED);
			sqlite3_bind_int64(up, 1, ids[i]);
			bind_text(up, 2, why);
			sqlite3_bind_int64(up, 3, now);
			int r = exec_stmt(up);
			if (r == 0 && statuses[i]) {
				r = add_status(s, ids[i], desc, now);
			}
			if (r < 0) {
				return r;
			}
			it->superseded++;
		}
	}
	st = stmt(s, ST_SUPERSEDE_RUNNING);
	bind_text(st, 1, it->repo);
	bind_text(st, 2, it->supersede_key);
	sqlite3_bind_int64(st, 3, it->job_id);
	bind_text(st, 4, why);
	bind_text(st, 5, it->forge);
	int r = exec_stmt(st);
	if (r == 0) {
		it->superseded += (unsigned)sqlite3_changes(s->db);
	}
	return r;
}

static bool over_cap(const struct store *s, const struct job_new *it)
{
	return (it->max_queued && s->queued >= it->max_queued) ||
	       (!it->trusted && it->max_queued_untrusted &&
		s->queued_untrusted >= it->max_queued_untrusted);
}

/* Whether the queue is at the cap that applies to it: as many jobs queued as
 * it->max_queued (untrusted ones as it->max_queued_untrusted, for an untrusted job), and it
 * supersedes none of them (a newer push to a branch with a queued run takes that run's
 * place, so the queue does not grow). Counting is an index scan of the queued jobs: it is
 * done when the running total says a cap is reached, at most once a QUEUE_RECOUNT_MS (a
 * flood at a full queue is refused without one each). Returns 1, 0, or -errno. */
static int queue_full(struct store *s, const struct job_new *it, int64_t now)
{
	if (!it->max_queued && !it->max_queued_untrusted) {
		return 0;
	}
	/* now is the wall clock: one set back counts again too. */
	if (!s->queued_known ||
	    (over_cap(s, it) &&
	     (now - s->queued_counted_ms >= QUEUE_RECOUNT_MS || now < s->queued_counted_ms))) {
		sqlite3_stmt *st = stmt(s, ST_COUNT_QUEUED);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			return sql_err(rc);
		}
		s->queued = sqlite3_column_int64(st, 0);
		s->queued_untrusted = (int64_t)sqlite3_column_double(st, 1);
		sqlite3_reset(st);
		s->queued_known = true;
		s->queued_counted_ms = now;
	}
	if (!over_cap(s, it) || str_empty(it->supersede_key)) {
		return over_cap(s, it);
	}
	sqlite3_stmt *st = stmt(s, ST_QUEUED_WITH_KEY);
	bind_text(st, 1, it->repo);
	bind_text(st, 2, it->forge);
	bind_text(st, 3, it->supersede_key);
	sqlite3_bind_int(st, 4, it->trusted);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		return sql_err(rc);
	}
	return rc == SQLITE_DONE;
}

static int enqueue_one(struct store *s, struct job_new *it, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_FIND_DELIVERY);
	bind_text(st, 1, it->forge);
	bind_text(st, 2, it->delivery);
	sqlite3_bind_blob(st, 3, it->body_sha, sizeof(it->body_sha), SQLITE_TRANSIENT);
	bind_text(st, 4, it->repo);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		it->duplicate = true;
		it->job_id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return sql_err(rc);
	}
	/* Refused, and not remembered as delivered: the forge's redelivery runs it. */
	int full = queue_full(s, it, now);
	if (full != 0) {
		it->full = full > 0;
		return full < 0 ? full : 0;
	}
	s->queued++;
	s->queued_untrusted += !it->trusted;
	st = stmt(s, ST_INSERT_JOB);
	bind_text(st, 1, it->repo);
	bind_text(st, 2, it->forge);
	bind_text(st, 3, it->delivery);
	bind_text(st, 4, it->event);
	bind_text(st, 5, it->ref);
	bind_text(st, 6, it->branch);
	bind_text(st, 7, it->tag);
	bind_text(st, 8, it->sha);
	sqlite3_bind_int64(st, 9, it->number);
	bind_text(st, 10, it->base_branch);
	bind_text(st, 11, it->base_sha);
	sqlite3_bind_int(st, 12, it->trusted);
	bind_text(st, 13, it->supersede_key);
	sqlite3_bind_int64(st, 14, now);
	sqlite3_bind_int(st, 15, it->statuses);
	bind_text(st, 16, it->before_sha);
	sqlite3_bind_int(st, 17, it->peel);
	int r = exec_stmt(st);
	if (r < 0) {
		return r;
	}
	it->job_id = sqlite3_last_insert_rowid(s->db);
	st = stmt(s, ST_INSERT_DELIVERY);
	bind_text(st, 1, it->forge);
	bind_text(st, 2, it->delivery);
	sqlite3_bind_blob(st, 3, it->body_sha, sizeof(it->body_sha), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, it->job_id);
	sqlite3_bind_int64(st, 5, now);
	bind_text(st, 6, it->repo);
	if ((r = exec_stmt(st)) < 0 ||
	    (it->statuses && !it->peel && (r = add_status(s, it->job_id, "queued", now)) < 0)) {
		return r;
	}
	/* The pushes of the ref still queued or running brought commits that are in the
	 * forge's history too: this run takes the oldest one's old tip. It matters for the
	 * ref's first history scan, whose before becomes the ref's base (mirror.h): one
	 * superseded here may be stopped before its scan ends, and without supersession two
	 * first pushes may be scanned in either order. Later scans reach back to what passed
	 * whatever before says. */
	if (str_eq(it->event, "push")) {
		st = stmt(s, ST_INHERIT_BEFORE);
		bind_text(st, 1, it->repo);
		bind_text(st, 2, it->ref);
		sqlite3_bind_int64(st, 3, it->job_id);
		bind_text(st, 4, it->forge);
		if ((r = exec_stmt(st)) < 0) {
			return r;
		}
	}
	if (!str_empty(it->supersede_key)) {
		return supersede(s, it, now);
	}
	return 0;
}

int store_enqueue(struct store *s, struct job_new *items, size_t n, int64_t now_ms)
{
	int r = begin(s);
	for (size_t i = 0; i < n; i++) {
		items[i].job_id = 0;
		items[i].duplicate = false;
		items[i].full = false;
		items[i].superseded = 0;
		items[i].error = 0;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = enqueue_one(s, &items[i], now_ms);
	}
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	for (size_t i = 0; r < 0 && i < n; i++) {
		items[i].error = r;
	}
	return r;
}

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return xstrdup(t ? (const char *)t : "");
}

static void col_sha(sqlite3_stmt *st, int i, char out[41])
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, 41, "%s", t ? (const char *)t : "");
}

static void row_to_job(sqlite3_stmt *st, struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->repo = col_str(st, 1);
	j->forge = col_str(st, 2);
	j->delivery = col_str(st, 3);
	j->event = col_str(st, 4);
	j->ref = col_str(st, 5);
	j->branch = col_str(st, 6);
	j->tag = col_str(st, 7);
	col_sha(st, 8, j->sha);
	j->number = sqlite3_column_int64(st, 9);
	j->base_branch = col_str(st, 10);
	col_sha(st, 11, j->base_sha);
	j->trusted = sqlite3_column_int(st, 12) != 0;
	j->supersede_key = col_str(st, 13);
	const unsigned char *state = sqlite3_column_text(st, 14);
	if (job_state_from_name(state ? (const char *)state : "", &j->state) < 0) {
		j->state = JOB_ERROR;
	}
	j->attempts = (unsigned)sqlite3_column_int(st, 15);
	j->cancel_requested = sqlite3_column_int(st, 16) != 0;
	j->exit_code = sqlite3_column_int(st, 17);
	j->message = col_str(st, 18);
	j->run_id = col_str(st, 19);
	j->created_ms = sqlite3_column_int64(st, 20);
	j->started_ms = sqlite3_column_int64(st, 21);
	j->finished_ms = sqlite3_column_int64(st, 22);
	j->statuses = sqlite3_column_int(st, 23) != 0;
	col_sha(st, 24, j->before_sha);
	j->peel = sqlite3_column_int(st, 25) != 0;
	col_sha(st, 26, j->tag_object);
}

static int get_locked(struct store *s, int64_t id, struct job *out)
{
	sqlite3_stmt *st = stmt(s, ST_GET);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		row_to_job(st, out);
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = sql_err(rc);
	}
	sqlite3_reset(st);
	return r;
}

int store_get(struct store *s, int64_t id, struct job *out)
{
	return get_locked(s, id, out);
}

int store_claim(struct store *s, bool allow_untrusted, int64_t now_ms, struct job *job)
{
	memset(job, 0, sizeof(*job)); /* released below only when get_locked() filled it */
	int r = begin(s);
	if (r < 0) {
		return r;
	}
	sqlite3_stmt *st = stmt(s, allow_untrusted ? ST_CLAIM_PICK : ST_CLAIM_PICK_TRUSTED);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		rollback(s);
		return rc == SQLITE_DONE ? 0 : sql_err(rc);
	}
	st = stmt(s, ST_CLAIM_UPDATE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	r = exec_stmt(st);
	if (r == 0) {
		r = get_locked(s, id, job);
		r = r == 1 ? 0 : r < 0 ? r : -EIO;
	}
	/* A tag object's run says nothing until it knows its commit (store_resolve()). */
	if (r == 0 && job->statuses && !job->peel) {
		r = add_status(s, id, "running", now_ms);
	}
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	if (r < 0) {
		job_release(job); /* what get_locked() filled, if anything */
		memset(job, 0, sizeof(*job));
		return r;
	}
	return 1;
}

int store_finish(struct store *s, int64_t id, unsigned attempt, enum job_state state, int exit_code,
		 const char *message, const char *notify_body, const char *peeled, int64_t now_ms)
{
	int r = begin(s);
	if (r < 0) {
		return r;
	}
	sqlite3_stmt *st = stmt(s, ST_FINISH);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)attempt);
	bind_text(st, 3, job_state_name(state));
	sqlite3_bind_int(st, 4, exit_code);
	bind_text(st, 5, message);
	sqlite3_bind_int64(st, 6, now_ms);
	r = exec_stmt(st);
	int changed = r == 0 ? sqlite3_changes(s->db) : 0;
	if (r == 0 && changed && !str_empty(peeled)) {
		st = stmt(s, ST_SET_SHA);
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, peeled);
		r = exec_stmt(st);
		if (r == 0) {
			st = stmt(s, ST_REKEY_OUTBOX);
			sqlite3_bind_int64(st, 1, id);
			r = exec_stmt(st);
		}
	}
	struct job j = { 0 };
	if (r == 0 && changed) {
		r = get_locked(s, id, &j);
		r = r == 1 ? 0 : r < 0 ? r : -EIO;
	}
	if (r == 0 && changed && !j.statuses && notify_body) {
		r = add_outbox(s, id, OUTBOX_NOTIFY, "", "", notify_body, 0, now_ms);
	} else if (r == 0 && changed && j.statuses) {
		char desc[160];
		switch (state) {
		case JOB_PASSED:
			snprintf(desc, sizeof(desc), "passed%s%.120s",
				 str_empty(message) ? "" : "; ", message ? message : "");
			break;
		case JOB_FAILED:
			snprintf(desc, sizeof(desc), "a stage failed");
			break;
		case JOB_BLOCKED:
			snprintf(desc, sizeof(desc), "blocked by a security gate");
			break;
		default:
			snprintf(desc, sizeof(desc), "%s%s%.120s", job_state_name(state),
				 str_empty(message) ? "" : ": ", message ? message : "");
			break;
		}
		r = add_status(s, id, desc, now_ms);
		if (r == 0 && notify_body) {
			r = add_outbox(s, id, OUTBOX_NOTIFY, "", "", notify_body, 0, now_ms);
		}
	}
	job_release(&j);
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	return r < 0 ? r : changed ? 1 : 0;
}

int store_resolve(struct store *s, int64_t id, unsigned attempt, const char *sha, int64_t now_ms)
{
	int r = begin(s);
	if (r < 0) {
		return r;
	}
	sqlite3_stmt *st = stmt(s, ST_RESOLVE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)attempt);
	bind_text(st, 3, sha);
	r = exec_stmt(st);
	int changed = r == 0 ? sqlite3_changes(s->db) : 0;
	struct job j = { 0 };
	if (r == 0 && changed) {
		r = get_locked(s, id, &j);
		r = r == 1 ? 0 : r < 0 ? r : -EIO;
	}
	if (r == 0 && changed && j.statuses) {
		r = add_status(s, id, "running", now_ms);
	}
	job_release(&j);
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	return r < 0 ? r : changed ? 1 : 0;
}

int store_requeue(struct store *s, int64_t id, unsigned attempt, const char *why,
		  const char *status_desc, int64_t now_ms)
{
	int r = begin(s);
	if (r < 0) {
		return r;
	}
	sqlite3_stmt *st = stmt(s, ST_REQUEUE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)attempt);
	bind_text(st, 3, why);
	r = exec_stmt(st);
	int changed = r == 0 ? sqlite3_changes(s->db) : 0;
	struct job j = { 0 };
	if (r == 0 && changed) {
		r = get_locked(s, id, &j);
		r = r == 1 ? 0 : r < 0 ? r : -EIO;
	}
	/* The forge showed the run as running: it says that it waits again (queued). */
	if (r == 0 && changed && j.statuses && !j.peel) {
		r = add_status(s, id, status_desc ? status_desc : why, now_ms);
	}
	job_release(&j);
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	return r < 0 ? r : changed ? 1 : 0;
}

int store_request_cancel(struct store *s, int64_t id, const char *why)
{
	sqlite3_stmt *st = stmt(s, ST_CANCEL_REQUEST);
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, why);
	int r = exec_stmt(st);
	return r < 0 ? r : sqlite3_changes(s->db) ? 1 : 0;
}

static int collect_jobs(sqlite3_stmt *st, struct job **out, size_t *n)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(*out, cap, *n + 1);
		row_to_job(st, &(*out)[*n]);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		jobs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return sql_err(rc);
	}
	return 0;
}

int store_running(struct store *s, bool only_cancel_requested, struct job **out, size_t *n)
{
	return collect_jobs(stmt(s, only_cancel_requested ? ST_RUNNING_CANCEL : ST_RUNNING), out,
			    n);
}

int store_list(struct store *s, size_t limit, struct job **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_LIST);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
	return collect_jobs(st, out, n);
}

int store_counts(struct store *s, struct store_counts *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = stmt(s, ST_COUNT_STATES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum job_state js;
		const unsigned char *name = sqlite3_column_text(st, 0);
		if (job_state_from_name(name ? (const char *)name : "", &js) == 0) {
			out->by_state[js] = (uint64_t)sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return sql_err(rc);
	}
	st = stmt(s, ST_COUNT_DURATIONS);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->finished = (uint64_t)sqlite3_column_int64(st, 0);
		out->duration_sum_s = sqlite3_column_double(st, 1);
		for (int i = 0; i < 9; i++) {
			out->buckets[i] = (uint64_t)sqlite3_column_double(st, 2 + i);
		}
		out->buckets[9] = out->finished;
	}
	sqlite3_reset(st);
	/* Counters do not go down when retention prunes runs: what it removed is added. */
	st = stmt(s, ST_PRUNED_ALL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		double v = sqlite3_column_double(st, 1);
		enum job_state js;
		if (!key) {
			continue;
		} else if (str_has_prefix(key, "state:") &&
			   job_state_from_name(key + 6, &js) == 0) {
			out->by_state[js] += (uint64_t)v;
		} else if (str_eq(key, "finished")) {
			out->finished += (uint64_t)v;
		} else if (str_eq(key, "duration_sum")) {
			out->duration_sum_s += v;
		} else if (str_has_prefix(key, "le:") && key[3] >= '0' && key[3] <= '8' &&
			   !key[4]) {
			out->buckets[key[3] - '0'] += (uint64_t)v;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return sql_err(rc);
	}
	out->buckets[9] = out->finished;
	st = stmt(s, ST_COUNT_OUTBOX);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->outbox_pending = (uint64_t)sqlite3_column_double(st, 0);
		out->outbox_failed = (uint64_t)sqlite3_column_double(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(rc);
}

void job_release(struct job *j)
{
	if (!j) {
		return;
	}
	free(j->repo);
	free(j->forge);
	free(j->delivery);
	free(j->event);
	free(j->ref);
	free(j->branch);
	free(j->tag);
	free(j->base_branch);
	free(j->supersede_key);
	free(j->message);
	free(j->run_id);
	memset(j, 0, sizeof(*j));
}

void jobs_free(struct job *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		job_release(&v[i]);
	}
	free(v);
}

int store_outbox_due(struct store *s, int64_t now_ms, size_t max, struct outbox_item **out,
		     size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_DUE);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(*out, cap, *n + 1);
		struct outbox_item *it = &(*out)[(*n)++];
		it->id = sqlite3_column_int64(st, 0);
		it->job = sqlite3_column_int64(st, 1);
		it->kind =
			sqlite3_column_int(st, 2) == OUTBOX_NOTIFY ? OUTBOX_NOTIFY : OUTBOX_STATUS;
		it->state = col_str(st, 3);
		it->description = col_str(st, 4);
		it->body = col_str(st, 5);
		it->attempts = (unsigned)sqlite3_column_int(st, 6);
		it->link_job = sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		outbox_items_free(*out, *n);
		*out = NULL;
		*n = 0;
		return sql_err(rc);
	}
	return 0;
}

int store_outbox_update(struct store *s, int64_t id, bool done, bool failed, const char *error,
			int64_t next_ms)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_UPDATE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, failed ? 2 : done ? 1 : 0);
	sqlite3_bind_int64(st, 3, next_ms);
	bind_text(st, 4, error);
	return exec_stmt(st);
}

int64_t store_outbox_next_due(struct store *s)
{
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_NEXT);
	int64_t v = -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		v = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return v;
}

int store_prune_pick(struct store *s, int64_t finished_before_ms, int64_t after_ms,
		     int64_t after_id, size_t max, struct job **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, ST_PRUNE_PICK);
	sqlite3_bind_int64(st, 1, finished_before_ms);
	/* Jobs that never finished have finished_ms 0: always start past them. */
	sqlite3_bind_int64(st, 2, after_ms > 0 ? after_ms : 1);
	sqlite3_bind_int64(st, 3, after_ms > 0 ? after_id : 0);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	return collect_jobs(st, out, n);
}

static int pruned_add(struct store *s, const char *key, double v)
{
	sqlite3_stmt *st = stmt(s, ST_PRUNED_ADD);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, v);
	return exec_stmt(st);
}

/* What a job about to be pruned adds to the pruned totals. */
struct prune_facts {
	char state[16];
	int64_t started_ms, finished_ms;
};

static int prune_facts(struct store *s, int64_t id, struct prune_facts *f)
{
	sqlite3_stmt *st = stmt(s, ST_PRUNE_FACTS);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	memset(f, 0, sizeof(*f));
	if (rc == SQLITE_ROW) {
		const unsigned char *state = sqlite3_column_text(st, 0);
		snprintf(f->state, sizeof(f->state), "%s", state ? (const char *)state : "");
		f->started_ms = sqlite3_column_int64(st, 1);
		f->finished_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(rc);
}

/* Add a pruned job to the totals (in the pruning transaction). */
static int pruned_count(struct store *s, const struct prune_facts *f)
{
	char key[48];
	snprintf(key, sizeof(key), "state:%s", f->state);
	int r = pruned_add(s, key, 1);
	if (r == 0 && f->started_ms > 0 && f->finished_ms > 0) {
		double d = (double)(f->finished_ms - f->started_ms) / 1000.0;
		r = pruned_add(s, "finished", 1);
		if (r == 0) {
			r = pruned_add(s, "duration_sum", d);
		}
		for (int b = 0; r == 0 && b < 9; b++) {
			snprintf(key, sizeof(key), "le:%d", b);
			r = d <= store_duration_buckets[b] ? pruned_add(s, key, 1) : 0;
		}
	}
	return r;
}

int store_prune_jobs(struct store *s, const int64_t *ids, size_t n)
{
	int r = begin(s);
	int deleted = 0;
	if (r < 0) {
		return r;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct prune_facts f;
		r = prune_facts(s, ids[i], &f);
		sqlite3_stmt *st = stmt(s, ST_PRUNE_JOB);
		sqlite3_bind_int64(st, 1, ids[i]);
		r = r < 0 ? r : exec_stmt(st);
		if (r == 0 && sqlite3_changes(s->db) > 0) {
			deleted++;
			st = stmt(s, ST_PRUNE_JOB_OUTBOX);
			sqlite3_bind_int64(st, 1, ids[i]);
			r = exec_stmt(st);
			if (r == 0) {
				r = pruned_count(s, &f);
			}
		}
	}
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	return r < 0 ? r : deleted;
}

int store_prune_deliveries(struct store *s, int64_t received_before_ms, size_t max)
{
	int r = begin(s);
	if (r < 0) {
		return r;
	}
	sqlite3_stmt *st = stmt(s, ST_PRUNE_DELIVERIES);
	sqlite3_bind_int64(st, 1, received_before_ms);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	r = exec_stmt(st);
	int deleted = r == 0 ? sqlite3_changes(s->db) : 0;
	if (r == 0) {
		r = commit(s);
	} else {
		rollback(s);
	}
	return r < 0 ? r : deleted;
}

void outbox_items_free(struct outbox_item *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].state);
		free(v[i].description);
		free(v[i].body);
	}
	free(v);
}
