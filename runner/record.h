/*
 * record.h - the run record on disk:
 *
 *   <root>/.gitignore              "*" (the record never ends up in git)
 *   <root>/durations.json          last duration of each stage, for critical paths
 *   <root>/runs/<id>/report.json   the report (docs/report.md)
 *   <root>/runs/<id>/junit.xml     one testcase per stage
 *   <root>/runs/<id>/sarif/<stage>.sarif  findings of each security stage (SARIF 2.1.0)
 *   <root>/runs/<id>/logs/<stage>.log
 *   <root>/runs/<id>/artifacts/<stage>/...
 *   <root>/runs/latest             symlink to the newest run
 *
 * Files are written atomically (temporary file, fsync, rename): a reader never sees half
 * a report, and an interrupted run still leaves a complete one.
 */
#ifndef RUNNER_RECORD_H
#define RUNNER_RECORD_H

#include <jansson.h>
#include <stdint.h>

struct pipeline;
struct run;

/* The schema report.json declares (docs/report.md). */
#define RECORD_REPORT_SCHEMA "runner.report/v1"

/* Create the run directory (and logs/ in it). Returns 0 or -errno. */
int record_prepare(const char *root, const char *run_dir);

/* Write report (an object of docs/report.md) to run_dir/report.json, atomically. Returns 0
 * or -errno. */
int record_write_report(const char *run_dir, const json_t *report);

/* Write the SARIF logs, report.json, junit.xml, durations and the latest link. Returns 0 or
 * -errno. */
int record_write(const struct run *r, const char *root);

/* Fill w[i] with the last recorded duration of stage i in ms (1 when unknown). */
void record_read_durations(const char *root, const struct pipeline *p, uint64_t *w);

/* junit.xml for a run (heap string). */
char *record_junit(const struct run *r);

#endif
