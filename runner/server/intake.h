/*
 * intake.h - group commit of accepted deliveries.
 *
 * HTTP threads hand their delivery to intake_submit() and wait; one committer thread
 * takes everything that is waiting and commits it in one transaction (store_enqueue), then
 * wakes the waiters. Under load many deliveries share one fsync; alone, a delivery waits
 * for exactly one commit. A delivery is answered 202 only after its commit returned.
 */
#ifndef RUNNER_SERVER_INTAKE_H
#define RUNNER_SERVER_INTAKE_H

#include "store.h"

struct intake;

/* Start the committer on its own connection to db_path. The wake fds (eventfds, or -1:
 * the dispatcher's and the reporter's) are written after each commit that queued or
 * superseded something. */
int intake_start(const char *db_path, int wake_fd, int wake_fd2, struct intake **out);

/* Commit item (blocks until done). Returns 0 (results in item) or -errno. */
int intake_submit(struct intake *in, struct job_new *item);

/* Finish what is waiting, stop the thread, release. Accepts NULL. */
void intake_stop(struct intake *in);

#endif
