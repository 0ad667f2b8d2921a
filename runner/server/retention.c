/*
 * retention.c - prune old finished runs and replay-guard entries, in batches.
 *
 * Run directories are found from the job row the way the rest of the server finds them
 * (jobrun_run_dir() under the repository's key), for every attempt the row counts, and
 * removed with rm_rf(), which never follows a symbolic link: a link planted in a run
 * directory is removed as a link, and what it points to is left alone.
 */
#include "retention.h"

#include "config.h"
#include "jobrun.h"
#include "store.h"
#include "util.h"

#include <stdio.h>

#include <unistd.h>

#include "banned.h"

void retention_begin(struct retention_pass *p, const struct server_config *c, int64_t now_ms)
{
	memset(p, 0, sizeof(*p));
	/* A period longer than the clock's reading (a clock far off) prunes nothing. */
	if (c->retain_runs_ms && (uint64_t)now_ms > c->retain_runs_ms) {
		p->runs_before_ms = now_ms - (int64_t)c->retain_runs_ms;
	}
	if (c->retain_deliveries_ms && (uint64_t)now_ms > c->retain_deliveries_ms) {
		p->deliveries_before_ms = now_ms - (int64_t)c->retain_deliveries_ms;
	}
	p->runs_done = p->runs_before_ms == 0;
	p->deliveries_done = p->deliveries_before_ms == 0;
}

/*
 * The repository's key: the configured one (the name matches case-insensitively), or, for
 * a repository no longer configured, the one it had (the key depends only on the forge
 * and the name), so that its runs do not stay on disk forever. NULL if the forge is
 * unknown.
 */
static char *repo_key_of(const struct server_config *c, const struct job *j)
{
	enum forge f;
	if (forge_from_name(j->forge, &f) < 0) {
		return NULL;
	}
	const struct repo_config *r = config_find_repo(c, f, j->repo);
	return r ? xstrdup(r->key) : config_repo_key(f, j->repo);
}

static bool repo_configured(const struct server_config *c, const struct job *j)
{
	enum forge f;
	return forge_from_name(j->forge, &f) == 0 && config_find_repo(c, f, j->repo);
}

/* Remove the run directories (and kept workspaces) of every attempt of j. Returns 0 or
 * -errno. */
static int remove_run_dirs(const struct server_config *c, const struct job *j)
{
	_cleanup_free_ char *key = repo_key_of(c, j);
	if (!key) {
		return -EINVAL;
	}
	int r = 0;
	for (unsigned a = 1; a <= j->attempts; a++) {
		/* The run id of an attempt, as store_claim() writes it. */
		char run_id[48];
		snprintf(run_id, sizeof(run_id), "%lld.%u", (long long)j->id, a);
		_cleanup_free_ char *dir = jobrun_run_dir(c->data_dir, key, run_id);
		/* And its workspace, if keep_failed_workspaces kept it. */
		_cleanup_free_ char *ws = jobrun_workspace(c->data_dir, run_id);
		/* And the list of its files beside it (left by a run that was killed). */
		_cleanup_free_ char *files = xasprintf("%s.files", ws);
		int q = rm_rf(dir);
		int w = rm_rf(ws);
		if (unlink(files) < 0 && errno != ENOENT && w == 0) {
			w = -errno;
		}
		if (q < 0 && r == 0) {
			r = q;
		}
		if (w < 0 && r == 0) {
			r = w;
		}
	}
	return r;
}

/*
 * Whether runs/latest of j's repository points at one of j's attempts ("<id>.<attempt>").
 * Such a run is the newest of its repository: a configured repository keeps it, row and
 * directory, for as long as latest points at it, so that latest never points nowhere;
 * the next run moves latest on, and the pass after that prunes it.
 */
static bool is_latest(const struct server_config *c, const struct job *j, const char *key)
{
	_cleanup_free_ char *latest = xasprintf("%s/repos/%s/runs/latest", c->data_dir, key);
	char target[64];
	ssize_t n = readlink(latest, target, sizeof(target) - 1);
	if (n <= 0) {
		return false;
	}
	target[n] = '\0';
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%lld.", (long long)j->id);
	return strncmp(target, prefix, strlen(prefix)) == 0;
}

/* A repository no longer configured has no next run: its latest goes with its run, with
 * what says when that run started. */
static void remove_latest(const struct server_config *c, const char *key)
{
	_cleanup_free_ char *latest = xasprintf("%s/repos/%s/runs/latest", c->data_dir, key);
	_cleanup_free_ char *info = xasprintf("%s/repos/%s/runs/.latest-started", c->data_dir, key);
	unlink(latest);
	unlink(info);
}

static int prune_runs(struct retention_pass *p, struct store *s, const struct server_config *c,
		      size_t batch)
{
	struct job *v;
	size_t n;
	int r = store_prune_pick(s, p->runs_before_ms, p->cursor_ms, p->cursor_id, batch, &v, &n);
	if (r < 0) {
		return r;
	}
	int64_t *ids = xcalloc(n ? n : 1, sizeof(*ids));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		p->cursor_ms = v[i].finished_ms;
		p->cursor_id = v[i].id;
		_cleanup_free_ char *key = repo_key_of(c, &v[i]);
		bool latest = key && is_latest(c, &v[i], key);
		if (latest && repo_configured(c, &v[i])) {
			p->latest_kept++;
			continue;
		}
		int q = remove_run_dirs(c, &v[i]);
		if (q == 0 && latest) {
			remove_latest(c, key);
		}
		if (q < 0) {
			/* Keep the row: it is how the next pass finds the directory again. */
			p->kept++;
			if (p->dir_error == 0) {
				p->dir_error = q;
			}
			continue;
		}
		ids[k++] = v[i].id;
	}
	r = k ? store_prune_jobs(s, ids, k) : 0;
	free(ids);
	jobs_free(v, n);
	if (r < 0) {
		return r;
	}
	p->runs += (uint64_t)r;
	p->runs_done = n < batch;
	return 0;
}

int retention_step(struct retention_pass *p, struct store *s, const struct server_config *c,
		   size_t batch)
{
	int r = 0;
	if (batch == 0) {
		batch = RETENTION_BATCH;
	}
	if (!p->runs_done) {
		r = prune_runs(p, s, c, batch);
	}
	if (r == 0 && !p->deliveries_done) {
		r = store_prune_deliveries(s, p->deliveries_before_ms, batch);
		if (r >= 0) {
			p->deliveries += (uint64_t)r;
			p->deliveries_done = (size_t)r < batch;
			r = 0;
		}
	}
	if (r < 0) {
		p->error = r;
		p->runs_done = p->deliveries_done = true;
		return r;
	}
	return p->runs_done && p->deliveries_done ? 0 : 1;
}
