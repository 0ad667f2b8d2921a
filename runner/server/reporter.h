/*
 * reporter.h - delivers the outbox: commit statuses and security notifications.
 *
 * One thread takes due outbox rows (oldest first, one at a time per job so that a
 * job's statuses arrive in order), sends each, and records the outcome. Failures are
 * retried with exponential backoff and jitter up to `retry.attempts`; a permanent HTTP
 * error (4xx other than 408 and 429) is not retried. Nothing here ever changes a run's
 * result: the outbox is written after the result is, and only read here.
 */
#ifndef RUNNER_SERVER_REPORTER_H
#define RUNNER_SERVER_REPORTER_H

struct live;
struct reporter;

/* Each batch is sent with the configuration in force when it was taken (live.h). */
int reporter_start(struct live *live, const char *db_path, struct reporter **out);
/* The eventfd that wakes the reporter (new outbox rows). */
int reporter_wake_fd(const struct reporter *r);
/* Stop after the call in progress and a last pass over what is due (at most 5 s, each
 * call within it: a re-queued run's status reaches the forge before the server is down);
 * undelivered rows stay for the next start. */
void reporter_stop(struct reporter *r);

#endif
