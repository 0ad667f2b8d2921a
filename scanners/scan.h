/*
 * scan.h - a whole scan: walk the paths, then scan the files in parallel with the SAST or
 * the secrets engine, and collect findings and statistics.
 *
 * Threads: one per CPU the process may run on (sched_getaffinity), or `jobs`. Each thread
 * takes the next file, reads it (memory-mapped when it is large), skips it when it is
 * binary or generated (by content), and scans it with its own engine scratch; findings are
 * merged at the end. A file that cannot be read, or the deadline passing, stops the scan
 * with an error: a partial result is never returned as complete. A secrets scan reports
 * each text file above the size cap, which it does not read, as a finding
 * (SCAN_TOO_LARGE_RULE) rather than let it pass unread. The secrets engine may read a file
 * that a scanned one names (a kustomization's secretGenerator files, secrets.h) only when
 * it is one of the files this scan reads itself (listed by the walk, not allowlisted).
 */
#ifndef RUNNER_SCANNERS_SCAN_H
#define RUNNER_SCANNERS_SCAN_H

#include "finding.h"
#include "lex.h"
#include "rules.h"
#include "walk.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_DEFAULT_MAX_FILE_SIZE (4u << 20)
/* Secrets are looked for in larger files too (a bundled JavaScript file is often above
 * 4 MiB, and a key in it ships with it); the scan reads at a few hundred MB/s. */
#define SCAN_SECRETS_MAX_FILE_SIZE (64u << 20)
#define SCAN_MMAP_THRESHOLD	   (64u << 10)
#define SCAN_MAX_JOBS		   256
/* Findings of one scan, at most (then the scan is an error: something is badly wrong). */
#define SCAN_MAX_FINDINGS 200000
/* The finding a secrets scan reports for a text file above its size cap (scan.c). */
#define SCAN_TOO_LARGE_RULE "secret.file-too-large"

struct scan_options {
	const struct ruleset *rules; /* its kind says which engine runs */
	struct walk_options walk;
	unsigned jobs;	      /* 0: the CPUs this process may use */
	uint64_t deadline_ms; /* monotonic (now_mono_ms); 0: none */
	/* secrets */
	const char *const *allow_paths; /* globs: files not scanned for secrets */
	size_t n_allow_paths;
	/* Files the globs do not cover however they match (a fork's changes); NULL: none. */
	bool (*not_allowed)(const void *ud, const char *path);
	const void *not_allowed_ud;
	pcre2_code *const *allow_regex; /* secrets matching one are not reported */
	size_t n_allow_regex;
	/* secrets: every file is DIR/NAME, one of the names of the content DIR stands for (a
	 * history scan's blob, ab/cdef...): read as NAME says (YAML, code, ...), reported as
	 * DIR, so that its findings and their fingerprints are the same under any name. */
	bool blob_names;
};

struct scan_stats {
	size_t files_scanned;
	uint64_t bytes_scanned;
	size_t skipped[SKIP_COUNT];
	size_t by_lang[LANG_COUNT];
	size_t tokens;
	size_t budget_exceeded;	      /* pattern attempts given up (step budget) */
	size_t regex_limits;	      /* regex evaluations given up (PCRE2 limits) */
	size_t truncated;	      /* findings beyond the per-file caps */
	size_t no_reason;	      /* findings under a runner:ignore comment without a reason */
	char first_no_reason[300];    /* file:line of the first */
	size_t too_many_ids;	      /* findings under a runner:ignore of too many ids (ditto) */
	char first_too_many_ids[300]; /* file:line of the first */
	size_t k8s_unparsed;	      /* secrets: Kubernetes documents that are not YAML */
	char first_k8s_unparsed[300]; /* file:line of the first */
	size_t rules;
	unsigned threads;
	uint64_t duration_ms;
};

/*
 * Run a scan. Findings are appended to out (unsorted). Returns 0, or -errno with a message
 * in err (an unreadable path or file, the deadline, too many findings).
 */
int scan_run(const struct scan_options *o, struct finding_list *out, struct scan_stats *st,
	     char *err, size_t errlen);

/* The statistics as JSON: {files_scanned, bytes_scanned, skipped: {reason: n}, ...}. */
json_t *scan_stats_json(const struct scan_stats *st);

/* The CPUs this process may run on (at least 1). */
unsigned scan_cpus(void);

#endif
