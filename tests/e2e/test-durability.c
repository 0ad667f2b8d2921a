/*
 * test-durability.c - 200 signed deliveries while the server is killed with SIGKILL at
 * random moments and started again; at the end every accepted delivery ran exactly once
 * to completion.
 *
 * A sender thread posts the deliveries (paced, so that the kills land while deliveries
 * arrive and while runs go) and sends again, with the same delivery id and body, whatever
 * got no answer (as a forge's redelivery would); an answer of 202 (accepted, or duplicate
 * of one accepted before the answer was lost) means accepted. The main thread kills and
 * restarts the server (port 0: the sender follows the address).
 *
 * "Exactly once to completion", checked from the outside:
 *   - 200 deliveries, 200 distinct runs, each with its delivery's commit, all passed;
 *   - each run has exactly one attempt whose record says passed (attempts the server's
 *     death interrupted say cancelled, or left no report);
 *   - no two attempts of a run overlapped in time (each attempt's stage started after the
 *     previous attempt had ended).
 */
#include <criterion/criterion.h>

#include "testserve.h"
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_DELIVERIES 200
#define SECRET	     "durability-secret-0123456789abcdef"

struct shared {
	pthread_mutex_t mu;
	char addr[64];
	long run_of[N_DELIVERIES]; /* 0: not accepted yet */
	char *body[N_DELIVERIES];
	bool done;
	unsigned retries;
};

static void set_addr(struct shared *sh, const char *addr)
{
	pthread_mutex_lock(&sh->mu);
	snprintf(sh->addr, sizeof(sh->addr), "%s", addr);
	pthread_mutex_unlock(&sh->mu);
}

static void *sender(void *arg)
{
	struct shared *sh = arg;
	size_t accepted = 0;
	while (accepted < N_DELIVERIES) {
		for (int i = 0; i < N_DELIVERIES; i++) {
			if (sh->run_of[i]) {
				continue;
			}
			char addr[64], id[32];
			pthread_mutex_lock(&sh->mu);
			snprintf(addr, sizeof(addr), "%s", sh->addr);
			pthread_mutex_unlock(&sh->mu);
			snprintf(id, sizeof(id), "delivery-%03d", i);
			struct ts_response r =
				ts_deliver(addr, "github", "push", id, SECRET, sh->body[i]);
			if (r.status == 202) {
				json_t *j = json_loads(r.body, 0, NULL);
				sh->run_of[i] =
					(long)json_integer_value(json_object_get(j, "run_id"));
				json_decref(j);
				accepted++;
				ts_sleep(0.02); /* pace: kills land while deliveries arrive */
			} else {
				/* No answer (killed, restarting) or 503: send it again later. */
				__atomic_add_fetch(&sh->retries, 1, __ATOMIC_RELAXED);
				ts_sleep(0.01);
			}
			ts_response_free(&r);
		}
	}
	__atomic_store_n(&sh->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static double rnd(double lo, double hi)
{
	return lo + (hi - lo) * ((double)rand() / RAND_MAX);
}

/* Milliseconds since the epoch from an RFC 3339 time with milliseconds (UTC). */
static int64_t parse_ms(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

Test(durability, kill_9_at_random_moments_loses_nothing_and_runs_nothing_twice, .timeout = 600)
{
	unsigned seed = (unsigned)time(NULL);
	srand(seed);
	cr_log_info("seed %u", seed);
	char *dir = tu_tmpdir();
	char *repo;
	cr_assert_geq(asprintf(&repo, "%s/repo", dir), 0);
	char *sha = ts_git_init(repo, "version: 1\n"
				      "stages:\n"
				      "  work:\n"
				      "    run: |\n"
				      "      echo \"start $(date +%s%N)\"\n"
				      "      sleep 0.1\n"
				      "      echo \"end $(date +%s%N)\"\n");
	char *cfg;
	cr_assert_geq(asprintf(&cfg,
			       "listen: 127.0.0.1:0\n"
			       "data_dir: %s/data\n"
			       "log_level: warn\n"
			       "supersede: false\n"
			       "limits: { concurrency: 4, max_attempts: 50 }\n"
			       "repositories:\n"
			       "  - name: acme/app\n"
			       "    forge: github\n"
			       "    secret: " SECRET "\n"
			       "    clone_url: %s\n",
			       dir, repo),
		      0);
	struct shared sh = { .mu = PTHREAD_MUTEX_INITIALIZER };
	for (int i = 0; i < N_DELIVERIES; i++) {
		json_t *p = ts_payload("github/push/with-new-branch.payload.json");
		ts_set(p, "ref", "refs/heads/main");
		ts_set(p, "after", sha);
		ts_set(p, "repository.full_name", "acme/app");
		json_object_set_new(p, "test_sequence", json_integer(i)); /* distinct bodies */
		sh.body[i] = ts_dump(p);
		json_decref(p);
	}
	struct ts_server srv;
	ts_start(&srv, dir, cfg);
	set_addr(&sh, srv.addr);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, sender, &sh), 0);

	/* Kill while deliveries arrive, then while the runs go. */
	unsigned kills = 0, kills_after = 0;
	for (;;) {
		bool done = __atomic_load_n(&sh.done, __ATOMIC_ACQUIRE);
		if (done && kills_after >= 6) {
			break;
		}
		ts_sleep(rnd(0.1, 0.7));
		ts_kill(&srv);
		kills++;
		kills_after += done;
		ts_restart(&srv);
		set_addr(&sh, srv.addr);
	}
	pthread_join(th, NULL);
	cr_log_info("%u kills, %u resends", kills, sh.retries);

	/* Let everything finish. */
	char *url;
	cr_assert_geq(asprintf(&url, "http://%s/api/runs?limit=500", srv.addr), 0);
	json_t *runs = NULL;
	double t0 = ts_now();
	for (;;) {
		struct ts_response r = ts_get(url);
		json_decref(runs);
		json_t *root = json_loads(r.body, 0, NULL);
		runs = json_incref(json_object_get(root, "runs"));
		json_decref(root);
		ts_response_free(&r);
		size_t fin = 0;
		size_t i;
		json_t *run;
		json_array_foreach(runs, i, run)
		{
			const char *st = json_string_value(json_object_get(run, "state"));
			fin += st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0;
		}
		if (fin == json_array_size(runs) && fin >= N_DELIVERIES) {
			break;
		}
		cr_assert_lt(ts_now() - t0, 300, "runs did not finish: %zu of %zu", fin,
			     json_array_size(runs));
		ts_sleep(0.2);
	}
	cr_assert_eq(json_array_size(runs), N_DELIVERIES, "one run per accepted delivery");

	/* Each delivery: its own run, with its commit, passed. */
	bool seen[N_DELIVERIES + 1] = { false };
	unsigned multi = 0;
	for (int i = 0; i < N_DELIVERIES; i++) {
		long id = sh.run_of[i];
		cr_assert(id >= 1 && id <= N_DELIVERIES, "delivery %d: run %ld", i, id);
		cr_assert_not(seen[id], "two deliveries share run %ld", id);
		seen[id] = true;
		json_t *run = json_array_get(runs, (size_t)(N_DELIVERIES - id)); /* newest first */
		cr_assert_eq(json_integer_value(json_object_get(run, "id")), id);
		cr_assert_str_eq(json_string_value(json_object_get(run, "state")), "passed",
				 "run %ld: %s", id, json_dumps(run, 0));
		cr_assert_str_eq(json_string_value(json_object_get(run, "sha")), sha);
		char want[32];
		snprintf(want, sizeof(want), "delivery-%03d", i);
		cr_assert_str_eq(json_string_value(json_object_get(run, "delivery")), want);

		/* Exactly one attempt completed; attempts never overlapped. */
		long attempts = (long)json_integer_value(json_object_get(run, "attempts"));
		multi += attempts > 1;
		int passed = 0;
		int64_t prev_end = 0;
		for (long a = 1; a <= attempts; a++) {
			char *rd;
			cr_assert_geq(asprintf(&rd, "%s/data/repos/github-acme+app/runs/%ld.%ld",
					       dir, id, a),
				      0);
			char *rep = tu_readf("%s/report.json", rd);
			char *log = tu_readf("%s/logs/work.log", rd);
			json_t *report = rep ? json_loads(rep, 0, NULL) : NULL;
			const char *result = json_string_value(json_object_get(report, "result"));
			passed += result && strcmp(result, "passed") == 0;
			if (result) {
				cr_assert(strcmp(result, "passed") == 0 ||
						  strcmp(result, "cancelled") == 0,
					  "run %ld attempt %ld: %s", id, a, result);
			}
			const char *st = log ? strstr(log, "start ") : NULL;
			if (st) {
				int64_t start_ms = strtoll(st + 6, NULL, 10) / 1000000;
				cr_assert_geq(
					start_ms, prev_end,
					"run %ld: attempt %ld started before attempt %ld ended", id,
					a, a - 1);
			}
			int64_t end =
				parse_ms(json_string_value(json_object_get(report, "finished_at")));
			if (end > 0) {
				prev_end = end;
			}
			json_decref(report);
			free(rep);
			free(log);
			free(rd);
		}
		cr_assert_eq(passed, 1, "run %ld completed %d times over %ld attempts", id, passed,
			     attempts);
	}
	cr_log_info("%u of %d runs needed more than one attempt", multi, N_DELIVERIES);
	cr_assert_eq(ts_stop(&srv, 30), 0);

	json_decref(runs);
	for (int i = 0; i < N_DELIVERIES; i++) {
		free(sh.body[i]);
	}
	ts_release(&srv);
	free(url);
	free(cfg);
	free(sha);
	free(repo);
	tu_rmdir(dir);
	free(dir);
}
