/*
 * gate.h - the security gate every security stage reports into.
 *
 * Policy: a threshold (`fail-on`, default high) and suppressions. Unsuppressed findings at
 * or above the threshold block: the stage is BLOCKED (exit 3) and nothing behind it (the
 * container push) starts. Suppressions are
 *   - inline `runner:ignore RULE -- reason` comments (found by the scanners; a reason is
 *     required),
 *   - `allow` entries (by rule/advisory id or alias, or by fingerprint; optionally limited
 *     to a path glob) with a mandatory reason and expiry date: an expired entry stops
 *     suppressing and the result says so,
 *   - a baseline: fingerprints of known findings, so a legacy codebase can adopt the gate
 *     by blocking only new ones.
 *
 * The pipeline's top-level `gate:` mapping applies to every security stage; a stage's own
 * `with:` may set `fail-on` (which wins) and add `allow` entries and a `baseline`.
 * Configuration errors are validation errors (file:line:col). The gate never turns an
 * error into a pass: scanner errors are the kinds' to report as STAGE_EXIT_ERROR.
 */
#ifndef RUNNER_STAGES_GATE_H
#define RUNNER_STAGES_GATE_H

#include "finding.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct diag_list;
struct ynode;

#define GATE_MAX_ALLOW	  1000
#define GATE_MAX_BASELINE 100000

struct gate_allow {
	char *id;	   /* rule or advisory id, matched against rule_id and aliases */
	char *fingerprint; /* or an exact fingerprint */
	char *path;	   /* optional glob on the finding's file */
	char *reason;
	char expires[11];    /* YYYY-MM-DD, inclusive */
	int64_t expires_day; /* days since 1970-01-01 */
};

struct gate_policy {
	enum severity fail_on;
	struct gate_allow *allow;
	size_t n_allow;
	char **baseline; /* sorted fingerprints */
	size_t n_baseline;
	/* A fork's pull request (set by the runner, not by pipelines: the gate JSON's
	 * "changed_files", an array of paths, or "changed_files_all": true): inline
	 * suppressions in these files are not honoured, since the pull request wrote them,
	 * nor allow entries that name a path. */
	char **changed; /* sorted */
	size_t n_changed;
	bool changed_all;
};

/* Whether file is one a fork's pull request changed (always false for other runs). Path
 * globs of allow entries and of the secrets allowlist do not cover such files either. */
bool gate_policy_changed(const struct gate_policy *p, const char *file);

struct gate_outcome {
	size_t blocking, suppressed, below;
	json_t *notes; /* array of strings: expired entries, inline ignores without reasons... */
};

/*
 * Check the gate keys of a mapping (the top-level `gate:`, or a security stage's `with:`).
 * Keys other than fail-on, allow and baseline are ignored here (the kind checks them).
 * Returns 0 or -EINVAL with diagnostics.
 */
int gate_config_check(const struct ynode *map, const char *file, struct diag_list *dl);

/*
 * Check a sequence of allow entries (key names it in messages): each names a finding by
 * id or fingerprint, with a reason and an expiry date; a path glob when paths, else none.
 * NULL is no entries. Returns 0 or -EINVAL with diagnostics.
 */
int gate_allow_check(const struct ynode *allow, const char *key, const char *file, bool paths,
		     struct diag_list *dl);

/* The keys gate_config_check() understands, NULL-terminated (for the kinds' key tables). */
extern const char *const gate_config_keys[];

void gate_policy_init(struct gate_policy *p);
void gate_policy_release(struct gate_policy *p);

/*
 * Apply a configuration object (pipeline `gate`, then the stage's `with`): fail-on
 * replaces, allow entries and baseline add. baseline paths are relative to workspace.
 * Returns 0 or -EINVAL with a message in err.
 */
int gate_policy_add_json(struct gate_policy *p, const json_t *cfg, const char *workspace, char *err,
			 size_t errlen);

/*
 * Load a baseline file: a JSON array of findings, an object {"findings": [...]} (what
 * `runner scan --format json` writes), or {"fingerprints": [...]}.
 */
int gate_policy_load_baseline(struct gate_policy *p, const char *path, char *err, size_t errlen);

/*
 * Decide every finding's disposition. Findings already suppressed inline stay suppressed.
 * today is days since 1970-01-01 (UTC). Returns STAGE_EXIT_BLOCKED when anything blocks,
 * else STAGE_EXIT_PASSED; *out gets counts and notes (release with gate_outcome_release).
 */
int gate_apply(const struct gate_policy *p, struct finding_list *fl, int64_t today,
	       struct gate_outcome *out);
void gate_outcome_release(struct gate_outcome *o);

/* The "gate" member of a stage result: {fail_on, blocking, suppressed, below_threshold, notes}. */
json_t *gate_outcome_json(const struct gate_policy *p, const struct gate_outcome *o);

struct stage_worker;

/* The policy of a worker: the pipeline's `gate`, then the stage's `with`. */
int gate_policy_for_worker(struct gate_policy *p, const struct stage_worker *w, char *err,
			   size_t errlen);

/*
 * The common end of every security kind: sort the findings, apply the gate, and fill the
 * worker's result with {summary, findings, gate, stats}. Returns STAGE_EXIT_BLOCKED or
 * STAGE_EXIT_PASSED. (Errors are the kind's to return before calling this.)
 */
int gate_finish(struct stage_worker *w, const struct gate_policy *p, struct finding_list *fl,
		json_t *stats);

/* Today, in days since 1970-01-01 UTC, from the system clock (deliberately no override). */
int64_t gate_today(void);

/*
 * Does the glob pat (an allow entry's path) match the workspace-relative path? '*', '?'
 * and [...] match within one component, never across '/'; a component of just two stars
 * matches any number of whole components, none included (src, two stars and x.c, joined by slashes,
 * match src/x.c and src/a/b/x.c).
 */
bool gate_path_glob(const char *pat, const char *path);

/* Parse YYYY-MM-DD into days since 1970-01-01; -EINVAL if not a real date. */
int gate_parse_date(const char *s, int64_t *days);

#endif
