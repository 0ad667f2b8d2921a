/*
 * testutil.h - helpers shared by the test suites: temporary directories, files, running
 * the runner binary and reading its run record.
 */
#ifndef RUNNER_TESTUTIL_H
#define RUNNER_TESTUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A fresh directory under $TMPDIR (or /tmp). Caller frees the string; tu_rmdir removes. */
char *tu_tmpdir(void);
void tu_rmdir(const char *dir);

/* A formatted string (asprintf that never fails). Caller frees. */
char *tu_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Now + seconds in UTC, as YYYY-MM-DD or (with_time) YYYY-MM-DDTHH:MM:SSZ. Caller frees. */
char *tu_utc(long long seconds, bool with_time);

/* Write content to dir/name (creating parent directories). */
void tu_write(const char *dir, const char *name, const char *content);
/* Read a whole file; NULL if it cannot be read. Caller frees. */
char *tu_read(const char *path);
char *tu_readf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool tu_exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct tu_result {
	int status; /* exit code, or 128+signal */
	char *out;
	char *err;
};

/*
 * Run argv (argv[0] a path) in cwd with env (NULL: inherit) and wait, capturing stdout
 * and stderr. Gives up with SIGKILL after timeout_s seconds (status then 137).
 */
struct tu_result tu_run(const char *cwd, const char *const *argv, const char *const *env,
			double timeout_s);
void tu_result_free(struct tu_result *r);

/* Path of the runner binary under test ($RUNNER_BIN). */
const char *tu_runner(void);
/* Path of a fixture file under tests/fixtures ($RUNNER_FIXTURES). Caller frees. */
char *tu_fixture(const char *rel);

/*
 * Validate a SARIF file against the SARIF 2.1.0 schema (tests/fixtures/sarif) with
 * Debian's python3-jsonschema. Returns NULL when valid, else the validator's complaint
 * (caller frees).
 */
char *tu_sarif_problem(const char *path);
/* The same for a CycloneDX 1.5 JSON SBOM (schema in tests/fixtures/cyclonedx). */
char *tu_cyclonedx_problem(const char *path);

/* Run `runner ARGS...` in cwd (varargs end with NULL). */
struct tu_result tu_runner_run(const char *cwd, ...) __attribute__((sentinel));

/* The report.json of the latest run in dir/.runner. Caller decrefs. */
json_t *tu_latest_report(const char *dir);
/* The stage object named name in a report, or NULL. Borrowed. */
json_t *tu_report_stage(json_t *report, const char *name);
/* The "status" string of stage name in a report ("" if absent). */
const char *tu_stage_status(json_t *report, const char *name);

/*
 * How many live (not zombie) processes on the host have `needle` as whole words in their
 * command line (arguments joined by spaces). Stage processes run in their own PID namespaces, so
 * the pids they report are not the host's: tests find them by a unique argument instead.
 */
int tu_procs_matching(const char *needle);
/* The host pid of the first live process whose command line contains needle, or -1. */
int tu_pid_matching(const char *needle);
/* The host pid of a built-in kind's worker (`runner __worker KIND NAME`) whose working
 * directory (its workspace, bound at its own path) is dir, waiting up to timeout_s for
 * one to appear; -1 if none does. */
int tu_worker_in(const char *dir, double timeout_s);
/* Write content to dir/name and take a write lease on it (SIGIO ignored): a process that
 * opens the file (a scan's worker reading it) waits until the returned descriptor is
 * closed, for a test to look at it meanwhile. Returns the descriptor, or -1. */
int tu_lease(const char *dir, const char *name, const char *content);
/* The value of key ("Seccomp:") in a /proc/PID/status text ("" if absent; a static buffer). */
const char *tu_status_field(const char *status, const char *key);

#endif
