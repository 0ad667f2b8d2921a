/*
 * server.h - `runner serve` as a whole: the data directory, the threads (HTTP, committer,
 * dispatcher, reporter), signals and an orderly shutdown.
 *
 * Data directory layout:
 *   server.lock                       one server per data directory (flock)
 *   queue.db, queue.db-wal, -shm      the job queue (store.h)
 *   repos/<key>/mirror.git            bare mirror of the repository
 *   repos/<key>/runs/<job>.<attempt>/ run records (report.json, logs/, live.json,
 *                                     outcome.json)
 *   work/<job>.<attempt>/             workspaces while runs go
 *   locks/<job>.lock                  held by the process running the job
 *
 * SIGTERM or SIGINT: stop accepting connections, finish the requests in progress, let
 * running runs finish until shutdown_grace, then stop them and put them back in the
 * queue; undelivered statuses stay in the outbox. A second signal stops at once (the next
 * start recovers). Returns the process exit code.
 *
 * SIGHUP: read the configuration file again and, if it is valid and changes nothing that
 * needs a restart (config_restart_only), put it in force; requests, turns of the loops
 * and runs already going keep the one they started with. Otherwise the one in force
 * stays, and the log says why.
 */
#ifndef RUNNER_SERVER_SERVER_H
#define RUNNER_SERVER_SERVER_H

struct server_config;

/* Run the server until a stop signal; takes c (freed on return). address_file (may be
 * NULL) receives "HOST:PORT\n" once the server listens (useful with port 0). */
int server_run(struct server_config *c, const char *address_file);

#endif
