/*
 * filefind.h - what the SAST and secrets engines do alike to the findings of one file:
 * the source excerpt, numbering identical findings so that their fingerprints differ yet
 * stay stable, and honouring inline `runner:ignore RULE -- reason` comments.
 */
#ifndef RUNNER_SCANNERS_FILEFIND_H
#define RUNNER_SCANNERS_FILEFIND_H

#include "finding.h"

#include <stddef.h>

#define FILEFIND_EXCERPT_MAX 240

struct rule;

/* A new finding of out for rule r in path: kind, rule id, title, severity, confidence and
 * CWEs filled in from the rule; the caller adds the location and the rest. */
struct finding *filefind_add(struct finding_list *out, const struct rule *r, enum finding_kind kind,
			     const char *path);

/*
 * A finding of rule r in path saying that the rule could not be evaluated completely on
 * the file: some of its match attempts reached the step limit of the pattern matcher or
 * PCRE2's match limits and were given up, so a match may be hidden there. It carries the
 * rule's own severity (the worst a hidden match could be) and points at the file's first
 * line; the gate treats it as any finding of the rule. Nothing is silently passed: a file
 * crafted to exhaust the matcher blocks as a match of the rule would. Its fingerprint
 * covers the file's content (file_sha256: finding_fingerprint_file()), so accepting it in a
 * baseline accepts that content only.
 */
struct finding *filefind_incomplete(struct finding_list *out, const struct rule *r,
				    enum finding_kind kind, const char *path,
				    const char *file_sha256);

/*
 * The line of buf that contains offset off (lines end at LF, CRLF or a lone CR), without
 * its line end and surrounding blanks,
 * as valid UTF-8. A line longer than max bytes is cut at the last blank within them and
 * "..." appended: the word the cut would split is left out whole. Caller frees.
 */
char *filefind_excerpt(const char *buf, size_t len, size_t off, size_t max);
/* The excerpt of [b, e) of buf, a line without its line end and blanks, cut as
 * filefind_excerpt() cuts it: what it costs does not depend on the line's length. */
char *filefind_excerpt_span(const char *buf, size_t b, size_t e, size_t max);

/*
 * Finish the findings fl->v[first..] of one file (buf): sort them by position, give the
 * k-th finding with the same rule and fingerprint as an earlier one the fingerprint of
 * (its fingerprint, k), and mark inline suppressions. Returns how many findings a
 * runner:ignore comment named without a reason (it does not suppress them); *first_line
 * gets the line of the first of them. *too_many_ids gets how many findings were under a
 * runner:ignore comment of more ids than FINDING_IGNORE_MAX_IDS or
 * FINDING_IGNORE_MAX_ID_BYTES allow (it suppresses nothing), *first_too_many_line the line
 * of the first. t: buf's tokens (lex_run() of it), or NULL for plain text
 * (finding_inline_suppression()).
 */
size_t filefind_finish(struct finding_list *fl, size_t first, const char *buf, size_t len,
		       const struct tokens *t, unsigned *first_line, size_t *too_many_ids,
		       unsigned *first_too_many_line);

#endif
