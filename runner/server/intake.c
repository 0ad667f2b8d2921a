/*
 * intake.c - the committer thread (group commit).
 *
 * Waiters are linked into a list under one mutex; the committer swaps the whole list out,
 * copies the items into an array, commits, copies the results back and signals. A waiter
 * owns its node on its stack and leaves only after `done` is set.
 */
#include "intake.h"

#include "util.h"

#include <pthread.h>
#include <stdio.h>

#include "banned.h"

#define BATCH_MAX 512

struct waiter {
	struct job_new *item;
	struct waiter *next;
	bool done;
	int result;
};

struct intake {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work; /* something to commit, or stop */
	pthread_cond_t done; /* a batch was committed */
	struct waiter *head, *tail;
	bool stop;
	int wake_fd[2];
};

static void *committer(void *arg)
{
	struct intake *in = arg;
	struct job_new *batch = xcalloc(BATCH_MAX, sizeof(*batch));
	struct waiter *ws[BATCH_MAX];
	pthread_mutex_lock(&in->mu);
	for (;;) {
		while (!in->head && !in->stop) {
			pthread_cond_wait(&in->work, &in->mu);
		}
		if (!in->head && in->stop) {
			break;
		}
		size_t n = 0;
		while (in->head && n < BATCH_MAX) {
			ws[n] = in->head;
			in->head = in->head->next;
			batch[n] = *ws[n]->item;
			n++;
		}
		if (!in->head) {
			in->tail = NULL;
		}
		pthread_mutex_unlock(&in->mu);

		int r = store_enqueue(in->store, batch, n, (int64_t)now_real_ms());
		bool wake = false;
		for (size_t i = 0; i < n; i++) {
			wake |= r == 0 && !batch[i].full &&
				(!batch[i].duplicate || batch[i].superseded);
		}
		for (size_t k = 0; wake && k < 2; k++) {
			uint64_t one = 1;
			if (in->wake_fd[k] >= 0) {
				ssize_t w = write(in->wake_fd[k], &one, sizeof(one));
				(void)w;
			}
		}

		pthread_mutex_lock(&in->mu);
		for (size_t i = 0; i < n; i++) {
			*ws[i]->item = batch[i];
			ws[i]->result = r;
			ws[i]->done = true;
		}
		pthread_cond_broadcast(&in->done);
	}
	pthread_mutex_unlock(&in->mu);
	free(batch);
	return NULL;
}

int intake_start(const char *db_path, int wake_fd, int wake_fd2, struct intake **out)
{
	struct intake *in = xcalloc(1, sizeof(*in));
	int r = store_open(db_path, &in->store);
	if (r < 0) {
		free(in);
		return r;
	}
	/* Checkpoints are the dispatcher's job, off the path of every 202. */
	store_set_autocheckpoint(in->store, false);
	in->wake_fd[0] = wake_fd;
	in->wake_fd[1] = wake_fd2;
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->work, NULL);
	pthread_cond_init(&in->done, NULL);
	r = -pthread_create(&in->thread, NULL, committer, in);
	if (r < 0) {
		store_close(in->store);
		free(in);
		return r;
	}
	*out = in;
	return 0;
}

int intake_submit(struct intake *in, struct job_new *item)
{
	struct waiter w = { .item = item };
	pthread_mutex_lock(&in->mu);
	if (in->stop) {
		pthread_mutex_unlock(&in->mu);
		return -ESHUTDOWN;
	}
	if (in->tail) {
		in->tail->next = &w;
	} else {
		in->head = &w;
	}
	in->tail = &w;
	pthread_cond_signal(&in->work);
	while (!w.done) {
		pthread_cond_wait(&in->done, &in->mu);
	}
	pthread_mutex_unlock(&in->mu);
	return w.result;
}

void intake_stop(struct intake *in)
{
	if (!in) {
		return;
	}
	pthread_mutex_lock(&in->mu);
	in->stop = true;
	pthread_cond_signal(&in->work);
	pthread_mutex_unlock(&in->mu);
	pthread_join(in->thread, NULL);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->work);
	pthread_cond_destroy(&in->done);
	store_close(in->store);
	free(in);
}
