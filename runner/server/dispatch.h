/*
 * dispatch.h - the dispatcher: the one thread that starts runs, watches them and records
 * how they ended.
 *
 * It claims queued jobs while fewer than `concurrency` runs are going (untrusted ones
 * also limited to `untrusted.concurrency`), starts each attempt as a `runner __job` child
 * process (see jobrun.h), passes cancellation requests on (superseded runs), and when a
 * child ends records its outcome in the store. Being one long-lived thread matters:
 * child processes and their stage supervisors are tied to it.
 *
 * Recovery, when the server starts: jobs the store says are running belong to a server
 * that died. Each one's lock is taken first (so its old process, which cancels itself
 * when it sees the server gone, has really ended); then an attempt that had finished is
 * adopted as it is, one that had not is queued again, or ends in error once it has used
 * max_attempts. Nothing accepted is lost and no job runs twice at the same time.
 *
 * Retention: at start and then hourly, old finished runs and replay-guard entries are
 * pruned (retention.h), one batch per turn of the loop.
 *
 * Shutdown: no new runs; running ones may finish until the grace deadline, then they are
 * told to stop and go back to the queue.
 */
#ifndef RUNNER_SERVER_DISPATCH_H
#define RUNNER_SERVER_DISPATCH_H

#include <stdint.h>

struct dispatcher;
struct live;

/* Start the thread. self_exe is the runner binary; reporter_wake (an eventfd or -1) is
 * poked when outbox rows were added. Each turn of its loop uses the configuration in
 * force when the turn began (live.h): limits, pause, repositories for the runs it starts;
 * a run that has started keeps the settings it was started with. */
int dispatcher_start(struct live *live, const char *db_path, const char *self_exe,
		     int reporter_wake, struct dispatcher **out);

/* The eventfd that wakes the dispatcher (new jobs, cancellations). */
int dispatcher_wake_fd(const struct dispatcher *d);

/* Runs going now. */
unsigned dispatcher_running(const struct dispatcher *d);

/* Finished runs removed by retention since the server started (see retention.h). */
uint64_t dispatcher_pruned_runs(const struct dispatcher *d);

/* Stop: no new runs, grace for running ones, then stop them and re-queue. Blocks until
 * every child has ended; releases d. Accepts NULL. */
void dispatcher_stop(struct dispatcher *d, uint64_t grace_ms);

#endif
