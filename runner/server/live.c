/*
 * live.c - the configuration in force and the replaced ones still in use (live.h).
 *
 * A short list under one mutex: a configuration is replaced by a reload, a few times a
 * day at most, and the units that hold one are short (a request, a turn of a loop), so
 * the list holds the current configuration and, for a moment, the one before it.
 */
#include "live.h"

#include "config.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>

#include "banned.h"

struct held {
	struct server_config *c;
	unsigned long users;
};

struct live {
	pthread_mutex_t mu;
	struct held *v; /* v[0]: the one in force; then replaced ones still in use */
	size_t n, cap;
	uint64_t generation;
};

struct live *live_new(struct server_config *c)
{
	struct live *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	GROW(l->v, l->cap, 1);
	l->v[0] = (struct held){ .c = c };
	l->n = 1;
	return l;
}

void live_free(struct live *l)
{
	if (!l) {
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		config_free(l->v[i].c);
	}
	pthread_mutex_destroy(&l->mu);
	free(l->v);
	free(l);
}

const struct server_config *live_get(struct live *l)
{
	pthread_mutex_lock(&l->mu);
	l->v[0].users++;
	const struct server_config *c = l->v[0].c;
	pthread_mutex_unlock(&l->mu);
	return c;
}

void live_put(struct live *l, const struct server_config *c)
{
	struct server_config *unused = NULL;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].c != c) {
			continue;
		}
		if (--l->v[i].users == 0 && i > 0) {
			unused = l->v[i].c;
			l->v[i] = l->v[--l->n];
		}
		break;
	}
	pthread_mutex_unlock(&l->mu);
	config_free(unused); /* outside the lock: it wipes the secrets */
}

void live_replace(struct live *l, struct server_config *next)
{
	struct server_config *unused = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->v[0].users == 0) {
		unused = l->v[0].c;
	} else {
		GROW(l->v, l->cap, l->n + 1);
		l->v[l->n++] = l->v[0];
	}
	l->v[0] = (struct held){ .c = next };
	l->generation++;
	pthread_mutex_unlock(&l->mu);
	config_free(unused);
}

uint64_t live_generation(struct live *l)
{
	pthread_mutex_lock(&l->mu);
	uint64_t g = l->generation;
	pthread_mutex_unlock(&l->mu);
	return g;
}
