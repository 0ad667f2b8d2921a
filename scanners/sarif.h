/*
 * sarif.h - findings as a SARIF 2.1.0 log (the OASIS Static Analysis Results Interchange
 * Format), for code-scanning dashboards: one run, the rules that fired with their
 * security-severity, CWE tags and help, and one result per finding with its location
 * (repository-relative URI under %SRCROOT%, region with a snippet), its fingerprint as a
 * partialFingerprint, and its suppression (inline, allow entry, baseline).
 *
 * Works for every finding kind (SAST, secrets, dependencies); the CLI (`--format sarif`)
 * and the run record (sarif/<stage>.sarif) both use it.
 */
#ifndef RUNNER_SCANNERS_SARIF_H
#define RUNNER_SCANNERS_SARIF_H

#include "finding.h"

#include <jansson.h>
#include <stdbool.h>

struct sarif_run_info {
	const char *tool_version;  /* the runner's version */
	const char *category;	   /* automationDetails.id, e.g. "sast/" or "<pipeline>/<stage>/" */
	const char *uri_prefix;	   /* prepended to finding files: the workspace's place in the
				    * repository ("" or "dir/"); NULL = "" */
	const char *srcroot;	   /* absolute path of the repository (or workspace); may be NULL */
	bool execution_successful; /* false: the scan failed; error_message says why */
	const char *error_message;
	const char *warning_message; /* a warning about the run itself, or NULL */
};

/* The SARIF log (a new reference). Findings are not modified. */
json_t *sarif_from_findings(const struct finding_list *fl, const struct sarif_run_info *ri);

/* Same, from the JSON form of findings (a stage result's "findings"); NULL is no findings.
 * Entries that are not valid findings are left out. */
json_t *sarif_from_findings_json(const json_t *findings, const struct sarif_run_info *ri);

/* The security-severity SARIF consumers sort by: the CVSS score when there is one, else a
 * value inside the severity's band (critical 9.5, high 8.0, medium 5.5, low 3.0, info 0). */
double sarif_security_severity(const struct finding *f);

#endif
