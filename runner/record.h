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
 *   <root>/runs/latest             symlink to the newest run (the one started last)
 *   <root>/runs/.new-<id>.XXXXXX   a directory being built (record_make_claimed_dir())
 *   <root>/runs/.latest-started    "<ms> <id>": when the run latest points at started
 *   <root>/lock                    flock()ed by the run writing the record (record_lock),
 *                                  or only around the update of durations.json and latest
 *                                  (record_write), by runs that share root (the server's)
 *
 * Files are written atomically (temporary file, fsync, rename): a reader never sees half
 * a report, and an interrupted run still leaves a complete one.
 */
#ifndef RUNNER_RECORD_H
#define RUNNER_RECORD_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

struct pipeline;
struct run;

/* The schema report.json declares (docs/report.md). */
#define RECORD_REPORT_SCHEMA "runner.report/v1"

/* Who holds a record root's lock, as it wrote into the lock file: pid 0 when unknown. */
struct record_lock_holder {
	pid_t pid;
	char started[40]; /* RFC 3339, "" when unknown */
};

/*
 * Take the lock of the record root (root/lock; root and the file are made when missing),
 * for one run at a time per record root, and so per workspace: an flock() on the returned
 * descriptor, which is close-on-exec (no stage inherits it) and which the kernel releases
 * when it is closed or its process ends, however it ends: a killed runner leaves no stale
 * lock. The holder writes its pid and start time into the file for whoever finds it
 * taken. wait_ms: how long to wait for a taken lock (0: not at all; polled, so a lock
 * released meanwhile is taken within a fraction of a second).
 *
 * Returns the descriptor (the caller closes it when its run is over) or -errno: -EBUSY
 * when another process holds the lock (*holder says who, as far as known), -EINVAL when
 * root/lock is not a regular file (a symbolic link or a FIFO a repository committed: it is
 * neither followed nor replaced).
 */
int record_lock(const char *root, uint64_t wait_ms, struct record_lock_holder *holder);

/* "another run (pid N, started at T)", as far as *h tells: for messages (free it). */
char *record_lock_holder_text(const struct record_lock_holder *h);

/* How many run ids record_create_run_dir() tries before it gives up. */
#define RECORD_ID_TRIES 16

/* Returns a new heap string, a run id (one path component), for record_create_run_dir(). */
typedef char *(*record_id_fn)(void *userdata);

/*
 * Pick a run id and create its directory, root/runs/<id>, which must not exist yet: an id
 * (from gen) whose directory exists is replaced by the next one gen gives, up to
 * RECORD_ID_TRIES ids. root and root/runs are made when missing.
 *
 * Returns 0 with the id in *id_out (OUT: owned by the caller), or -errno with *id_out NULL:
 * -EEXIST when every id tried had its directory already.
 */
int record_create_run_dir(const char *root, record_id_fn gen, void *userdata, char **id_out);

/* The start of the temporary names under which record_make_claimed_dir() builds a
 * directory. No run id starts so (runs/latest and runs/.latest-started neither), and
 * nothing that finds runs takes such a directory for one: the server finds a run's
 * directory from its run id, never by listing runs/. */
#define RECORD_NEW_PREFIX ".new-"

/*
 * Make the directory dir (mode 0755), which must not exist, holding from the moment it
 * exists the file dir/name (mode 0644) with content: it is built as
 * <parent>/RECORD_NEW_PREFIX<base>.XXXXXX beside it, the file written and synced, and then
 * moved into place with renameat2(RENAME_NOREPLACE). Whoever looks at dir sees either
 * nothing or the directory with its file, never the one without the other.
 *
 * On a filesystem without RENAME_NOREPLACE (EINVAL; ENOSYS on a kernel before 3.15) dir is
 * claimed with an exclusive mkdir() instead, and the built directory replaces that empty
 * one with rename(): still nothing but the claimant's directory ever takes the name, but
 * for that moment it is seen empty.
 *
 * Returns 0, -EEXIST when dir exists (it is left as it is), or another -errno. On an error
 * nothing is left behind but what dir was before; a process that dies before the end
 * leaves only the temporary directory, which record_sweep_unclaimed() removes.
 */
int record_make_claimed_dir(const char *dir, const char *name, const char *content);

/* Remove the temporary directories record_make_claimed_dir() left in parent (processes
 * that died before their directory took its name), with what is in them. Only for a
 * parent where no such process is under way. Returns how many were removed (0 when parent
 * does not exist), or the first -errno. */
int record_sweep_unclaimed(const char *parent);

/* Create the run directory when missing (and logs/ in it). Returns 0 or -errno. */
int record_prepare(const char *root, const char *run_dir);

/* Write report (an object of docs/report.md) to run_dir/report.json, atomically. Returns 0
 * or -errno. */
int record_write_report(const char *run_dir, const json_t *report);

/* How long a run that does not hold its record root's lock waits for it by default to
 * update the files the root's runs share (record_write): the updates of other such runs
 * take milliseconds; a `runner run` started by hand in the root's directory holds it for
 * its whole run. */
#define RECORD_SHARED_WAIT_MS (60u * 1000)

/* Write the SARIF logs, report.json, junit.xml, durations and the latest link. The last two
 * are shared by the runs of root: a run that does not hold root's lock for its whole run
 * (r->lock_fd < 0, the server's) takes it while it updates them, waiting for it up to
 * r->shared_wait_ms (0: RECORD_SHARED_WAIT_MS; waiting, it says so on stderr). Returns 0
 * or -errno: -EBUSY when the lock was still held after that, the durations and the latest
 * link left as they were and the rest of the record complete. *why, when why is not NULL,
 * is then a message (OUT: heap) naming the holder; NULL otherwise. */
int record_write(const struct run *r, const char *root, char **why);

/* The part of record_write() that is the run's own: the SARIF logs, report.json and
 * junit.xml of r->dir (written again when the rest failed, to say so). 0 or -errno. */
int record_write_run_files(const struct run *r);

/* Fill w[i] with the last recorded duration of stage i in ms (1 when unknown). */
void record_read_durations(const char *root, const struct pipeline *p, uint64_t *w);

/* junit.xml for a run (heap string). */
char *record_junit(const struct run *r);

#endif
