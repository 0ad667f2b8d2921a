/*
 * reporter.c - the outbox delivery thread.
 */
#include "reporter.h"

#include "config.h"
#include "forge.h"
#include "live.h"
#include "slog.h"
#include "store.h"
#include "util.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include "banned.h"

#define BATCH 16
/* At a stop, what is due is sent for at most this long (a re-queued run's status tells the
 * forge while the server is down); what is left waits in the outbox for the next start. */
#define DRAIN_MS 5000
/* A call is not started in the drain with less time than this left (a call cut short
 * would count as an attempt). */
#define DRAIN_MIN_CALL_MS 1000

struct reporter {
	struct live *live;
	const struct server_config *c; /* for one turn of the loop (live.h) */
	struct store *store;
	pthread_t thread;
	int wake_fd;
	atomic_bool stop;
};

static uint64_t backoff_ms(const struct server_config *c, unsigned attempts)
{
	uint64_t b = c->retry_backoff_ms;
	for (unsigned i = 0; i < attempts && b < c->retry_max_backoff_ms; i++) {
		b *= 2;
	}
	b = MIN(b, c->retry_max_backoff_ms);
	uint32_t rnd = 0;
	random_bytes(&rnd, sizeof(rnd));
	return b + (b / 2 ? rnd % (b / 2 + 1) : 0); /* jitter: up to half again */
}

/* Build the request for an item. Returns 0, or -ENOENT when there is nothing to send. */
static int build(struct reporter *rp, const struct outbox_item *it, const struct job *j,
		 struct forge_request *req, const char **why)
{
	const struct server_config *c = rp->c;
	enum forge f;
	const struct repo_config *r =
		forge_from_name(j->forge, &f) == 0 ? config_find_repo(c, f, j->repo) : NULL;
	if (it->kind == OUTBOX_NOTIFY) {
		if (!c->notify_url) {
			*why = "no security notification target is configured";
			return -ENOENT;
		}
		forge_json_request(c->notify_url, it->body, req);
		return 0;
	}
	if (!r) {
		*why = "the repository is no longer configured";
		return -ENOENT;
	}
	/* The run that decided the commit's state, which the description names. */
	int64_t link = it->link_job > 0 ? it->link_job : j->id;
	_cleanup_free_ char *target =
		c->public_url ? xasprintf("%s/runs/%lld", c->public_url, (long long)link) : NULL;
	if (forge_status_request(r, j->sha, it->state, it->description, target, req) < 0) {
		*why = "no API token is configured for the repository";
		return -ENOENT;
	}
	return 0;
}

/* Send one item. Returns false when it is to be tried again later. abort (NULL: none) ends
 * the call where it is: one the forge had not answered yet is as if it had not been made
 * (the item stays as it was); one it had answered counts with its answer (forge.h). */
static bool deliver(struct reporter *rp, const struct outbox_item *it, uint64_t timeout_ms,
		    const atomic_bool *abort)
{
	const struct server_config *c = rp->c;
	struct job j;
	struct forge_request req;
	const char *why = NULL;
	int64_t now = (int64_t)now_real_ms();
	if (store_get(rp->store, it->job, &j) != 1) {
		store_outbox_update(rp->store, it->id, true, true, "no such job", now);
		return true;
	}
	struct slog_ctx ctx = { .run = j.id, .repo = j.repo, .delivery = j.delivery };
	const char *what = it->kind == OUTBOX_NOTIFY ? "security notification" : "commit status";
	if (build(rp, it, &j, &req, &why) < 0) {
		/* Not configured: done, and said once at debug level (notifications: warn). */
		store_outbox_update(rp->store, it->id, true, false, why, now);
		slog(it->kind == OUTBOX_NOTIFY ? LOG_WARN : LOG_DEBUG, "outbox.skipped", &ctx, NULL,
		     "%s not sent: %s", what, why);
		job_release(&j);
		return true;
	}
	char err[160];
	int code = forge_send_until(&req, timeout_ms, abort, err, sizeof(err));
	forge_request_release(&req);
	if (code == -ECANCELED) {
		job_release(&j);
		return false;
	}
	bool ok = code >= 200 && code < 300;
	bool permanent = code >= 400 && code < 500 && code != 408 && code != 429;
	bool last = it->attempts + 1 >= c->retry_attempts;
	if (ok) {
		store_outbox_update(rp->store, it->id, true, false, "", now);
		slog(LOG_DEBUG, "outbox.sent", &ctx, NULL, "%s %s sent", what,
		     it->kind == OUTBOX_STATUS ? it->state : "");
	} else if (permanent || last) {
		store_outbox_update(rp->store, it->id, true, true, err, now);
		slog(LOG_WARN, "outbox.failed", &ctx,
		     json_pack("{s:i}", "attempts", it->attempts + 1),
		     "%s given up after %u attempt(s): %s (the run's result stands)", what,
		     it->attempts + 1, err);
	} else {
		uint64_t wait = backoff_ms(c, it->attempts);
		store_outbox_update(rp->store, it->id, false, false, err, now + (int64_t)wait);
		slog(LOG_INFO, "outbox.retry", &ctx,
		     json_pack("{s:i}", "attempts", it->attempts + 1),
		     "%s failed (%s); retrying in %llu ms", what, err, (unsigned long long)wait);
	}
	job_release(&j);
	return ok || permanent || last;
}

/* The server is stopping: send what is due, for at most DRAIN_MS, each call within it. A
 * call that fails ends it (the forge is not answering; a retry here would only spend the
 * item's attempts): the rest is sent at the next start. */
static void drain(struct reporter *rp)
{
	uint64_t end = now_mono_ms() + DRAIN_MS;
	rp->c = live_get(rp->live);
	bool more = true;
	while (more) {
		struct outbox_item *items;
		size_t n = 0;
		if (store_outbox_due(rp->store, (int64_t)now_real_ms(), BATCH, &items, &n) < 0) {
			break;
		}
		more = n > 0;
		for (size_t i = 0; i < n && more; i++) {
			uint64_t now = now_mono_ms();
			more = now + DRAIN_MIN_CALL_MS <= end;
			if (more) {
				more = deliver(rp, &items[i],
					       MIN(rp->c->http_timeout_ms, end - now), NULL);
			}
		}
		outbox_items_free(items, n);
	}
	live_put(rp->live, rp->c);
	rp->c = NULL;
}

static void *loop(void *arg)
{
	struct reporter *rp = arg;
	while (!atomic_load(&rp->stop)) {
		struct outbox_item *items;
		size_t n = 0;
		if (store_outbox_due(rp->store, (int64_t)now_real_ms(), BATCH, &items, &n) == 0) {
			rp->c = live_get(rp->live);
			/* A stop abandons the call under way (its timeout is retry.timeout,
			 * up to 5 minutes): the drain sends it again, within its own bound,
			 * unless the forge had answered it already. */
			for (size_t i = 0; i < n && !atomic_load(&rp->stop); i++) {
				deliver(rp, &items[i], rp->c->http_timeout_ms, &rp->stop);
			}
			live_put(rp->live, rp->c);
			rp->c = NULL;
			outbox_items_free(items, n);
		}
		if (n == BATCH) {
			continue;
		}
		int64_t next = store_outbox_next_due(rp->store);
		int64_t now = (int64_t)now_real_ms();
		int timeout = next < 0 ? 1000 : (int)MAX(0, MIN(next - now, 1000));
		if (n > 0 && timeout == 0) {
			continue;
		}
		struct pollfd p = { .fd = rp->wake_fd, .events = POLLIN };
		if (poll(&p, 1, MAX(timeout, 5)) > 0) {
			uint64_t x;
			ssize_t r = read(rp->wake_fd, &x, sizeof(x));
			(void)r;
		}
	}
	drain(rp);
	return NULL;
}

int reporter_start(struct live *live, const char *db_path, struct reporter **out)
{
	struct reporter *rp = xcalloc(1, sizeof(*rp));
	rp->live = live;
	rp->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int r = rp->wake_fd < 0 ? -errno : store_open(db_path, &rp->store);
	if (r == 0) {
		r = -pthread_create(&rp->thread, NULL, loop, rp);
	}
	if (r < 0) {
		store_close(rp->store);
		if (rp->wake_fd >= 0) {
			close(rp->wake_fd);
		}
		free(rp);
		return r;
	}
	*out = rp;
	return 0;
}

int reporter_wake_fd(const struct reporter *r)
{
	return r->wake_fd;
}

void reporter_stop(struct reporter *rp)
{
	if (!rp) {
		return;
	}
	atomic_store(&rp->stop, true);
	uint64_t one = 1;
	ssize_t w = write(rp->wake_fd, &one, sizeof(one));
	(void)w;
	pthread_join(rp->thread, NULL);
	store_close(rp->store);
	close(rp->wake_fd);
	free(rp);
}
