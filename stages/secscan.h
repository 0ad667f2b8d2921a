/*
 * secscan.h - what the `sast` and `secrets` stage kinds and `runner scan sast|secrets`
 * share: the configuration keys (the stage's `with:`, or the CLI's flags turned into the
 * same object), the scan, the gate, the result object and its human summary.
 *
 * Configuration (docs/pipeline.md, "Security stages"):
 *   paths          a path or a list, relative to the workspace (default ".")
 *   rules          a rules file or directory (or a list), added to the default packs
 *   default-rules  false: only the rules of `rules`
 *   exclude        globs of workspace-relative paths not to scan
 *   max-file-size  bytes (or 512k, 4M, 1G): larger files are skipped (default 4M)
 *   gitignore      false: scan files .gitignore excludes too (default true)
 *   vendored, generated   true: scan vendored / generated files too (default false)
 *   jobs           threads (default: the CPUs)
 *   timeout        the scan's own deadline (a duration); passing it is an error
 *   allowlist      secrets only: {paths: [globs], regexes: [PCRE2]} for test fixtures
 *   fail-on, allow, baseline   the gate (stages/gate.h)
 * and two keys only the runner sets (a pipeline's validation refuses them): rules_root
 * (where relative `rules` are read: a fork's base branch) and nothing_ok (true: a scan
 * that finds no text file passes; the files a range of commits brings, runner/histscan.h).
 *
 * Fail closed: an invalid configuration, an unreadable path, invalid rules, a scan error,
 * the deadline, or nothing scanned at all makes the result an error (STAGE_EXIT_ERROR) with
 * the reason in "summary"; there is no configuration in which an error passes.
 */
#ifndef RUNNER_STAGES_SECSCAN_H
#define RUNNER_STAGES_SECSCAN_H

#include "rules.h"
#include "stage.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

extern const struct stage_kind stage_kind_sast;
extern const struct stage_kind stage_kind_secrets;

/* Check a sast/secrets `with:` mapping (positions in diagnostics). Returns 0 or -EINVAL. */
int secscan_validate(enum rule_kind kind, const struct ynode *with, const struct stage_check *chk);

/*
 * Run a scan of the given kind for w (workspace, with, gate) and fill w->result with
 * {summary, findings, gate, stats} (or {summary, error, findings: [], stats?} on error).
 * Prints nothing. Returns STAGE_EXIT_PASSED, STAGE_EXIT_BLOCKED or STAGE_EXIT_ERROR.
 */
int secscan_run(enum rule_kind kind, struct stage_worker *w);

/*
 * Scan what an image is about to carry for secrets (container-push, before it builds): the
 * files under paths (workspace-relative), all of them (ignored, vendored and generated
 * files too: what the repository's secrets scan skips can still be copied into an image),
 * with the default secrets rules and the pipeline's gate. result (an object) gets what
 * secscan_run() puts in a stage's. A scan that finds no text file (a binary alone) passes.
 * Returns STAGE_EXIT_PASSED, STAGE_EXIT_BLOCKED or STAGE_EXIT_ERROR.
 */
int secscan_paths(struct stage_worker *w, const char *const *paths, size_t n, json_t *result);

/*
 * The human summary of a result: one block per finding (file:line:col, severity, rule,
 * message, CWE, the source line, the fix), then the counts and the verdict. At most
 * max_findings findings are printed (0: all).
 */
void secscan_print_text(FILE *f, const char *what, const json_t *result, size_t max_findings);

#endif
