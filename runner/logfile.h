/*
 * logfile.h - a stage log on disk with a size cap that keeps the tail: when the file
 * would pass the cap, its older half is dropped and a marker line says how many bytes
 * went. The newest output (where failures are) always survives.
 */
#ifndef RUNNER_LOGFILE_H
#define RUNNER_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGFILE_DEFAULT_CAP (16u << 20)

struct logfile;

/* Create (truncate) path. cap >= 4096. Returns 0 or -errno. */
int logfile_open(const char *path, size_t cap, struct logfile **out);
/* Append data; trims when the cap is passed. Returns 0 or -errno. */
int logfile_write(struct logfile *lf, const char *data, size_t len);
/* Whether the log ends inside a line (its last byte is not a line break). */
bool logfile_midline(const struct logfile *lf);
/* Bytes dropped so far. */
uint64_t logfile_dropped(const struct logfile *lf);
/* Read up to max bytes from the end of the log (for reports). Caller frees. */
char *logfile_tail(const struct logfile *lf, size_t max);
void logfile_close(struct logfile *lf);

#endif
