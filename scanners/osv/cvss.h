/*
 * cvss.h - CVSS base scores computed from vector strings: v3.0/v3.1 (the specification's
 * formulas, with v3.1's Roundup) and v4.0 (the specification's MacroVector lookup and
 * interpolation by severity distance).
 *
 * Vectors are untrusted text: they are parsed strictly (the version prefix, every base
 * metric exactly once with a defined value, known metrics only, no duplicates) and
 * anything else is refused with -EINVAL rather than guessed at. Only the base score is
 * computed; temporal, threat, environmental and supplemental metrics are accepted and,
 * for v4.0, applied as the specification says (Not Defined values take their defaults).
 */
#ifndef RUNNER_SCANNERS_CVSS_H
#define RUNNER_SCANNERS_CVSS_H

#include "finding.h"

/* Base score (0.0 - 10.0) of a "CVSS:3.0/..." or "CVSS:3.1/..." vector. 0 or -EINVAL. */
int cvss3_base_score(const char *vector, double *score);
/* Base score of a "CVSS:4.0/..." vector. 0 or -EINVAL. */
int cvss4_base_score(const char *vector, double *score);
/* Either version, chosen by the prefix. 0 or -EINVAL. */
int cvss_base_score(const char *vector, double *score);

/*
 * The qualitative rating: critical >= 9.0 > high >= 7.0 > medium >= 4.0 > low > 0.0;
 * a score of 0.0 ("None") is info.
 */
enum severity cvss_severity(double score);

#endif
