/*
 * depscan.h - the dependency scan: lockfiles (deps.h) against the offline OSV database
 * (osvdb.h), giving one finding per vulnerable package occurrence and advisory, and a
 * CycloneDX 1.5 SBOM of every package found.
 *
 * Fail closed: a missing, unreadable or too old database, a malformed lockfile, or no
 * lockfile at all under the paths that were given is an error (depscan_run returns < 0
 * with a message that says what to run to fix it); the caller turns it into exit 4 /
 * STAGE_EXIT_ERROR, never into a pass.
 *
 * Findings (kind FINDING_DEPENDENCY): rule_id is the advisory id, aliases its aliases,
 * title its summary, severity from database_specific.severity or the CVSS vector (see
 * osv_severity_of), else the unknown-severity policy (default high), the worst over the
 * record's entries for the package that contain the version; file:line is where the
 * package is declared; fix names the nearest fixed version and all fixed versions; extra
 * carries {package: {ecosystem, name, version, purl}, fixed_versions, nearest_fixed,
 * severity_source, url}. Packages whose version the file does not give exactly are
 * findings too, so that they cannot pass unnoticed: "unresolved-version" (a pom.xml
 * version the file cannot resolve; high) and "unpinned-requirement" (a requirements.txt
 * line that pins no version: none, a wildcard, a range; medium). Packages with no version
 * at all (git and path dependencies) are counted as unchecked.
 */
#ifndef RUNNER_SCANNERS_DEPSCAN_H
#define RUNNER_SCANNERS_DEPSCAN_H

#include "deps.h"
#include "diag.h"
#include "finding.h"

#include <jansson.h>
#include <stdint.h>

#define DEPSCAN_DEFAULT_MAX_AGE_S (7 * 24 * 3600)
/* More findings than this is an error (-E2BIG), not a list: no real tree has as many, and a
 * lockfile of thousands of copies of a package at old versions (a hostile one, in a pull
 * request) made a scan run for minutes and then die of its memory limit. */
#define DEPSCAN_MAX_FINDINGS 20000

struct depscan_opts {
	const char *db_path;		/* the database (see osvdb_default_path) */
	uint64_t max_age_s;		/* refuse an older database; 0 = no limit */
	enum severity unknown_severity; /* for advisories without a severity */
	const char *root;		/* stripped from displayed paths (the workspace), or NULL */
	const char *const *paths;	/* files or directories to scan */
	size_t n_paths;
	const struct deps_walk_opts *walk; /* what the walk may not skip, or NULL */
	int64_t now;			   /* seconds since 1970; 0 = the clock */
	/* No lockfile under the paths is a scan of nothing (0 lockfiles, no finding) instead
	 * of the error -ENODATA: `--allow-no-lockfiles` of `runner scan deps`. */
	bool allow_no_lockfiles;
	/* What to do about no lockfile, for its error (NULL: a pipeline stage's advice). */
	const char *no_lockfile_todo;
};

struct depscan_result {
	struct dep_list deps;
	struct finding_list findings;
	struct diag_list diags; /* lockfile errors, with file:line */
	json_t *stats;		/* {lockfiles, packages, checked, unchecked, vulnerable_packages,
				    advisories, db: {path, updated_at, age_seconds}} */
};

void depscan_result_init(struct depscan_result *r);
void depscan_result_release(struct depscan_result *r);

/*
 * Run the scan. Returns 0, or < 0 with err set to a one-line reason that includes the
 * command that fixes it (`runner db update`, ...); r->diags then holds any lockfile errors.
 * -ENOENT/-EACCES/-EINVAL/-ESTALE: database missing/unreadable/not ours/too old;
 * -EBADMSG: a malformed lockfile; -ENODATA: no lockfile found; -E2BIG: more than
 * DEPSCAN_MAX_FINDINGS findings.
 */
int depscan_run(const struct depscan_opts *o, struct depscan_result *r, char *err, size_t errlen);

/*
 * The first lockfile error of a scan (dl, as deps_scan_paths left it) as one line, for the
 * reason of a failed scan: where it is (FILE:LINE:COLUMN: as far as it is known; FILE:
 * alone when the error has no line and its message does not name the file), the message
 * and its hint in parentheses. `fallback` when dl holds no error. `runner scan deps`, the
 * stage and `runner sbom` say it alike.
 */
void depscan_error_text(const struct diag_list *dl, const char *fallback, char *out, size_t outlen);

/*
 * The reason of a scan that found no lockfile (its error, -ENODATA) into out: the paths it
 * looked under (shown relative to root, which may be NULL) and todo, what to do about it
 * (NULL: a pipeline stage's advice, `paths:`). `runner scan deps`, `runner sbom` and the
 * stage say it alike.
 */
void depscan_no_lockfile_text(const char *const *paths, size_t n, const char *root,
			      const char *todo, char *out, size_t outlen);

/*
 * "also at lines: 10, 12 (and 3 more)": the other lines of the lockfile whose entries are
 * the finding's package (its also_at and also_at_count), as `runner scan deps` and the
 * stage's log print them under the finding. Heap; NULL when the finding has none.
 */
char *depscan_also_text(const struct finding *f);

/* The package URL of a package (heap string). */
char *depscan_purl(const struct dep *d);

/*
 * A CycloneDX 1.5 JSON document: one component per distinct package (by purl), with where
 * it was found as properties, and the findings as vulnerabilities (fl may be NULL).
 * `name` names the scanned project, tool_version the runner's version.
 */
json_t *depscan_sbom(const struct dep_list *deps, const struct finding_list *fl, const char *name,
		     const char *tool_version);

#endif
