/*
 * osv.h - OSV advisory records (https://ossf.github.io/osv-schema/): loading and checking
 * untrusted records, deciding whether a package version is affected, and their severity.
 *
 * Matching follows the OSV schema's evaluation: a version is affected by an `affected[]`
 * entry when it is listed in `versions`, or when any SEMVER or ECOSYSTEM range contains
 * it. A range's events are sorted by version (`introduced: "0"` first; at one version a
 * closing event before an opening one) and walked: an `introduced` at or below the version
 * opens the range, a `fixed` at or below it closes it, a `last_affected` below it closes
 * it; `limit` events bound the range from above (the version must be below one of them).
 * A range whose events describe overlapping intervals (which the sorted walk would let
 * close each other) also contains what one of its intervals, read in written order as
 * osv.dev expands ranges into `versions`, contains. GIT ranges (commit hashes) cannot be
 * evaluated against a version and are skipped, and evaluation continues with the other
 * ranges. SEMVER ranges compare with SemVer, ECOSYSTEM ranges with the ecosystem's order.
 *
 * Records are untrusted: the loader checks types and bounds every count, and everything
 * else here only reads what the loader accepted. It refuses ranges that could not be
 * evaluated and would read as "not affected": a type other than GIT, SEMVER or ECOSYSTEM,
 * a SEMVER or ECOSYSTEM range without an introduced event or with an empty version.
 */
#ifndef RUNNER_SCANNERS_OSV_H
#define RUNNER_SCANNERS_OSV_H

#include "eco.h"
#include "finding.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define OSV_MAX_RECORD_BYTES (8u << 20)
#define OSV_MAX_ID	     256
#define OSV_MAX_AFFECTED     10000
#define OSV_MAX_RANGES	     1000
#define OSV_MAX_EVENTS	     10000
#define OSV_MAX_VERSIONS     200000
#define OSV_MAX_ALIASES	     1000

/*
 * Parse and check one record (JSON text). On success *out is the record (caller decrefs).
 * Returns 0, or -EINVAL with a message in err (what is wrong and where in the record).
 */
int osv_record_load(const char *buf, size_t len, json_t **out, char *err, size_t errlen);

/*
 * A record's title, as a finding shows it (caller frees; NULL when it has neither): its
 * "summary", else the first sentence of its "details" (PyPI's PYSEC records have no
 * summary): leading markdown headings skipped, whitespace and control characters
 * collapsed to one space, cut at a blank before OSV_MAX_TITLE bytes with "...".
 */
#define OSV_MAX_TITLE 160
char *osv_title_of(const json_t *rec);

/* Check an already parsed record (what osv_record_load does after parsing). */
int osv_record_check(const json_t *rec, char *err, size_t errlen);

/*
 * Does the affected entry `aff` cover `version` of a package of ecosystem `e`? Returns
 * true or false. When nearest_fixed is given it receives (heap) the smallest `fixed`
 * version above `version` in the ranges that contain it, or NULL.
 */
bool osv_affected_contains(const json_t *aff, enum eco e, const char *version,
			   char **nearest_fixed);

/* Only the entry's ranges (not its versions list); like osv_affected_contains. */
bool osv_ranges_contain(const json_t *aff, enum eco e, const char *version, char **nearest_fixed);

/*
 * Whether the entry affects some version at or above lower (a requirement's least allowed
 * version; "0" or NULL: any version): an interval that is open, or that ends (fixed, or
 * last_affected) above it, or a listed version at or above it. limit events are ignored,
 * which can only say yes more often. For requirements that allow more than one version.
 */
bool osv_affected_at_or_above(const json_t *aff, enum eco e, const char *lower);

/* Append the entry's `fixed` versions (from SEMVER/ECOSYSTEM ranges) to a JSON array,
 * without duplicates. */
void osv_affected_fixed_versions(const json_t *aff, json_t *array);

/* The severity of a record for one affected entry. */
struct osv_severity {
	bool known;
	enum severity level;
	double score;	    /* CVSS base score, 0 when none could be computed */
	const char *source; /* "database_specific", "CVSS_V3", "CVSS_V4" or NULL */
};

/*
 * database_specific.severity (of the entry, else of the record) when present; else the
 * highest base score of the entry's, else the record's, CVSS_V3/CVSS_V4 vectors, rated
 * by cvss_severity(). The score is filled from the vectors whenever one parses, also
 * when the level comes from database_specific. known = false when there is neither.
 */
void osv_severity_of(const json_t *rec, const json_t *aff, struct osv_severity *out);

#endif
