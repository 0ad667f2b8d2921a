/*
 * live.h - the configuration in force, replaced whole by a reload (SIGHUP).
 *
 * A thread takes the configuration for one unit of work (an HTTP request, a turn of the
 * dispatcher's or the reporter's loop) and gives it back when the unit is done: every
 * pointer into it (a repository, a secret) stays valid until then, and one unit never
 * sees half of one configuration and half of another. A configuration that has been
 * replaced is freed (its secrets wiped) when its last user gives it back.
 */
#ifndef RUNNER_SERVER_LIVE_H
#define RUNNER_SERVER_LIVE_H

#include <stdint.h>

struct server_config;
struct live;

/* Takes c (freed by live_free, or when it is replaced and no longer used). */
struct live *live_new(struct server_config *c);
/* Frees the live configuration; every taken one must have been given back. */
void live_free(struct live *l);

/* The configuration in force, kept alive until live_put. */
const struct server_config *live_get(struct live *l);
void live_put(struct live *l, const struct server_config *c);

/* Put next in force (taking it); units already going keep the one they took. */
void live_replace(struct live *l, struct server_config *next);
/* How many times the configuration has been replaced. */
uint64_t live_generation(struct live *l);

#endif
