/*
 * ruletest.h - checking rules against labelled fixtures.
 *
 * A fixture is a source file whose comments label the line after them:
 *     // ruleid: c.strcpy        this line must be reported by c.strcpy
 *     // ok: c.strcpy            this line must not be
 * (any comment syntax: the labels are found as text; several ids may be given, separated
 * by commas). A fixture is scanned with the whole ruleset, as the language of the file when
 * the rule covers it, else as the rule's first language (so CI YAML fixtures need not live
 * under .github/workflows). For each rule, a finding on a `ruleid` line is a true positive,
 * a `ruleid` line without one a false negative, any other finding of the rule in the
 * fixture a false positive, an `ok` line without one a true negative.
 *
 * Every rule of the set must have at least one `ruleid` and one `ok` line somewhere in the
 * fixtures (a must-match and a must-not-match case). A secrets fixture may name other files
 * (a kustomization's secretGenerator files): those among the fixtures are read for it.
 */
#ifndef RUNNER_SCANNERS_RULETEST_H
#define RUNNER_SCANNERS_RULETEST_H

#include "rules.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ruletest_rule {
	const struct rule *rule;
	size_t tp, fp, fn, tn;
	size_t must_match, must_not_match; /* labelled lines */
	char *first_problem;		   /* "file:line: ..." of the first FP/FN, or NULL */
};

struct ruletest_report {
	struct ruletest_rule *rules; /* one per rule of the set, in set order */
	size_t n;
	size_t files;
};

/*
 * Scan every file under the given paths (files or directories, recursively). Returns 0,
 * or -errno with err filled (an unreadable fixture, a label naming an unknown rule).
 */
int ruletest_run(const struct ruleset *rs, const char *const *paths, size_t n_paths,
		 struct ruletest_report *rep, char *err, size_t errlen);
void ruletest_report_release(struct ruletest_report *rep);

/* Does every rule have both kinds of fixture and no false positive or negative? */
bool ruletest_ok(const struct ruletest_report *rep);

/* {rules: [{id, languages, tp, fp, fn, tn, ...}], languages: {lang: {tp, fp, fn, tn,
 * precision, recall}}, total: {...}} */
json_t *ruletest_json(const struct ruletest_report *rep);

#endif
