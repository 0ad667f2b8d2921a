/*
 * sast.h - the SAST engine: evaluate a ruleset on one file.
 *
 * One pass over the file's tokens finds every occurrence of every pattern anchor of the
 * file's language (a hash lookup per token); only there are patterns tried. Matches are
 * then refined (pattern-not, -inside, -not-inside, -in-file, -not-in-file), and regex rules
 * run over the text. Scripts embedded in CI YAML (run:, script:) are tokenized as shell and
 * get the shell rules too; code embedded in code (a template's ${ }, an f-string's fields, a
 * $( )) is scanned as code, and sees the bound-by bindings of the code around it.
 *
 * Findings carry the workspace-relative path, the position (1-based line, column in code
 * points; end_column one past the last character, as in SARIF), the rule's message with
 * metavariables replaced by what they bound, the source line as the snippet, a fingerprint
 * that ignores line shifts, and inline `runner:ignore RULE -- reason` suppressions.
 *
 * A scratch object holds one thread's reusable state; a ruleset is shared read-only.
 */
#ifndef RUNNER_SCANNERS_SAST_H
#define RUNNER_SCANNERS_SAST_H

#include "finding.h"
#include "lex.h"
#include "rules.h"

#include <stddef.h>

/* At most this many findings of one rule in one file (the rest are counted). */
#define SAST_MAX_MATCHES_PER_RULE 1000

struct sast_scratch;

struct sast_file_stats {
	size_t tokens;
	size_t budget_exceeded; /* match attempts that ran out of steps (given up, counted) */
	size_t regex_limits;	/* regex matches that hit PCRE2's limits */
	size_t truncated;	/* matches beyond SAST_MAX_MATCHES_PER_RULE */
	size_t no_reason;	/* findings under a runner:ignore comment without a reason */
	unsigned first_no_reason_line;
	size_t too_many_ids; /* findings under a runner:ignore comment of too many ids */
	unsigned first_too_many_ids_line;
	/* Pattern matching steps the rules took on the file, all together (each rule at most
	 * PATTERN_FILE_BUDGET): the work, counted the same way on any machine (tests, bench). */
	size_t steps;
};

struct sast_scratch *sast_scratch_new(const struct ruleset *rs);
void sast_scratch_free(struct sast_scratch *s);

/*
 * Scan buf (len bytes) as lang, reported as path. Findings are appended to out. Returns 0,
 * or -E2BIG when the file has more tokens than the lexer allows (the caller counts it as
 * skipped), or -EINVAL for a language without a tokenizer.
 */
int sast_scan(struct sast_scratch *s, const char *path, enum lang lang, const char *buf, size_t len,
	      struct finding_list *out, struct sast_file_stats *st);

#endif
