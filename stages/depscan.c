/*
 * depscan.c - the `dependency-scan` stage kind: lockfiles and manifests in the workspace
 * against the offline OSV advisory database, through the security gate.
 *
 *   uses: dependency-scan
 *   with:
 *     paths: [.]              # files or directories, inside the workspace (default: .)
 *     db: /var/cache/osv.db   # default: $RUNNER_DB, else $XDG_CACHE_HOME/runner/osv.db,
 *                             #          else ~/.cache/runner/osv.db
 *     max-db-age: 7d          # an older database is an error
 *     unknown-severity: high  # for advisories that give no severity
 *     sbom: true              # write a CycloneDX SBOM into the run record
 *     maven-repository: .m2/repository  # a local Maven repository inside the workspace:
 *                             # BOMs and parent POMs the tree does not hold (none)
 *     fail-on / allow / baseline   # the gate (stages/gate.h)
 *
 * `runner scan deps` and `runner sbom` run this kind's worker too, with keys of their own
 * that validation refuses in a pipeline: max_db_age_s (seconds, 0 for no limit),
 * sbom_result (the SBOM document in the result, as "sbom_document", for the runner to
 * write where it was asked to), sbom_name (the project's name in that SBOM instead of the
 * workspace directory's), sbom_only (`runner sbom` without --db: the lockfiles are read
 * and no database is opened, nor bound; no findings), allow_no_lockfiles (the commands'
 * --allow-no-lockfiles: no lockfile under the paths is a scan of nothing instead of an
 * error; given, true or false, it also makes that error name the commands' remedies
 * instead of the stage's `paths:`) and maven_repository (the commands'
 * --maven-repository: an absolute path, which the runner binds read-only when it lies
 * outside the workspace).
 *
 * Fail closed: a missing, unreadable or stale database, a malformed lockfile, or no
 * lockfile under the paths ends the stage with STAGE_EXIT_ERROR and a summary that names
 * the command that fixes it. Otherwise the findings go through gate_finish(): BLOCKED when
 * one is at or above the threshold and not suppressed, else PASSED. The SBOM is written to
 * $RUNNER_ARTIFACTS/<stage>/sbom.cdx.json (in the run record) and named in the result.
 */
#include "stage.h"

#include "depscan.h"
#include "diag.h"
#include "gate.h"
#include "osvdb.h"
#include "util.h"
#include "ydoc.h"

#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

static const char *const own_keys[] = {
	"paths", "db", "max-db-age", "unknown-severity", "sbom", "maven-repository", NULL
};

static bool interpolated(const struct ynode *n)
{
	const char *s = ynode_str(n);
	return s && strstr(s, "${");
}

static void check_path(const struct ynode *n, const struct stage_check *chk)
{
	const char *s = ynode_str(n);
	if (!s || n->kind != YNODE_SCALAR) {
		diag_error(chk->dl, chk->file, n->line, n->col, "write paths: [., services/api]",
			   "a path must be a string, not %s", ynode_type_name(n));
	} else if (!interpolated(n) && !path_is_inside(s)) {
		diag_error(chk->dl, chk->file, n->line, n->col,
			   "name files or directories relative to the workspace",
			   "path '%.100s' is outside the workspace", s);
	}
}

static int depscan_validate(const struct ynode *with, const struct stage_check *chk)
{
	size_t before = chk->dl->errors;
	if (!with) {
		return 0;
	}
	for (size_t i = 0; i < with->map.n; i++) {
		const struct ypair *pr = &with->map.v[i];
		const char *k = pr->key->scalar.s;
		bool known = false;
		for (size_t j = 0; own_keys[j] && !known; j++) {
			known = str_eq(k, own_keys[j]);
		}
		for (size_t j = 0; gate_config_keys[j] && !known; j++) {
			known = str_eq(k, gate_config_keys[j]);
		}
		if (!known) {
			const char *all[16];
			size_t n = 0;
			for (size_t j = 0; own_keys[j] && n < ARRAY_SIZE(all); j++) {
				all[n++] = own_keys[j];
			}
			for (size_t j = 0; gate_config_keys[j] && n < ARRAY_SIZE(all); j++) {
				all[n++] = gate_config_keys[j];
			}
			const char *near = closest_word(k, all, n);
			char hint[128];
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near ? near : "");
			diag_error(chk->dl, chk->file, pr->key->line, pr->key->col,
				   near ? hint : NULL,
				   "unknown key '%.60s' in the with: of dependency-scan stage '%s'",
				   k, chk->stage_name);
		}
	}
	const struct ynode *paths = ynode_get(with, "paths");
	if (paths) {
		if (paths->kind == YNODE_SEQ) {
			if (paths->seq.n == 0) {
				diag_error(chk->dl, chk->file, paths->line, paths->col,
					   "leave paths out to scan the whole workspace",
					   "paths is empty");
			}
			for (size_t i = 0; i < paths->seq.n; i++) {
				check_path(paths->seq.v[i], chk);
			}
		} else {
			check_path(paths, chk);
		}
	}
	const struct ynode *db = ynode_get(with, "db");
	if (db && (db->kind != YNODE_SCALAR || !ynode_str(db) || !*ynode_str(db))) {
		diag_error(chk->dl, chk->file, db->line, db->col, "write db: /path/to/osv.db",
			   "db must be a path, not %s", ynode_type_name(db));
	}
	const struct ynode *age = ynode_get(with, "max-db-age");
	uint64_t ms;
	if (age && !interpolated(age) &&
	    (!ynode_str(age) || parse_duration(ynode_str(age), 3650ull * 86400 * 1000, &ms) < 0 ||
	     ms < 1000)) {
		diag_error(chk->dl, chk->file, age->line, age->col,
			   "a duration of at least 1s, such as 7d, 36h or 90m",
			   "invalid max-db-age '%.40s'", ynode_str(age) ? ynode_str(age) : "");
	}
	const struct ynode *us = ynode_get(with, "unknown-severity");
	enum severity sev;
	if (us && !interpolated(us) && severity_parse(ynode_str(us), &sev) < 0) {
		diag_error(chk->dl, chk->file, us->line, us->col,
			   "the levels are critical, high, medium, low and info",
			   "invalid unknown-severity '%.40s'", ynode_str(us) ? ynode_str(us) : "");
	}
	const struct ynode *repo = ynode_get(with, "maven-repository");
	if (repo && (repo->kind != YNODE_SCALAR || str_empty(ynode_str(repo)))) {
		diag_error(chk->dl, chk->file, repo->line, repo->col,
			   "write maven-repository: .m2/repository",
			   "maven-repository must be a path, not %s", ynode_type_name(repo));
	} else if (repo && !interpolated(repo) && !path_is_inside(ynode_str(repo))) {
		/* The stage reads the workspace only: a repository elsewhere is not there. */
		diag_error(chk->dl, chk->file, repo->line, repo->col,
			   "name a directory inside the workspace, where the build keeps its "
			   "repository (mvn -Dmaven.repo.local=.m2/repository)",
			   "maven-repository '%.100s' is outside the workspace", ynode_str(repo));
	}
	const struct ynode *sb = ynode_get(with, "sbom");
	bool b;
	if (sb && ynode_bool(sb, &b) < 0) {
		diag_error(chk->dl, chk->file, sb->line, sb->col, "write sbom: true or sbom: false",
			   "sbom must be a boolean");
	}
	gate_config_check(with, chk->file, chk->dl);
	return chk->dl->errors > before ? -EINVAL : 0;
}

/* "dependency-scan: " and s on one line. */
static void put_line(const char *s)
{
	fputs("dependency-scan: ", stdout);
	fput_one_line(stdout, s);
	fputc('\n', stdout);
}

/* The findings as the gate left them, one line each (the names in it are the lockfile's:
 * one line, so that none can forge another), with what the gate decided and, unless the
 * finding is suppressed, how to fix it. */
static void print_findings(const struct finding_list *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		const struct finding *f = &fl->v[i];
		fputs("dependency-scan: ", stdout);
		fput_one_line(stdout, f->file);
		printf(":%u: %s ", f->line, severity_name(f->severity));
		fput_one_line(stdout, f->rule_id);
		fputs(": ", stdout);
		fput_one_line(stdout, f->message);
		if (f->disposition == DISPOSITION_SUPPRESSED) {
			printf(" (suppressed, %s: ", suppression_kind_name(f->suppression));
			fput_one_line(stdout, f->suppression_reason ? f->suppression_reason : "");
			fputc(')', stdout);
		} else if (f->disposition == DISPOSITION_BELOW) {
			fputs(" (below the threshold)", stdout);
		}
		fputc('\n', stdout);
		/* Where the version comes from (a parent or a BOM that manages it), unless the
		 * message says so already, as `runner scan deps` prints it. */
		const char *note = json_string_value(json_object_get(f->extra, "version_note"));
		if (note && *note && !(f->message && strstr(f->message, note))) {
			fputs("dependency-scan:     version: ", stdout);
			fput_one_line(stdout, note);
			fputc('\n', stdout);
		}
		/* The other lines of the lockfile whose entries are the same package. */
		_cleanup_free_ char *also = depscan_also_text(f);
		if (also) {
			printf("dependency-scan:     %s\n", also);
		}
		if (f->fix && *f->fix && f->disposition != DISPOSITION_SUPPRESSED) {
			fputs("dependency-scan:     fix: ", stdout);
			fput_one_line(stdout, f->fix);
			fputc('\n', stdout);
		}
	}
}

static int fail(struct stage_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct stage_worker *w, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	_cleanup_free_ char *summary = xasprintf("error: %s", msg);
	json_object_set_new(w->result, "summary", json_string(summary));
	put_line(msg);
	return STAGE_EXIT_ERROR;
}

/* The SBOM of the scan, named sbom_name or after the workspace's directory. */
static json_t *sbom_doc(const struct stage_worker *w, const struct depscan_result *r)
{
	const char *name = json_string_value(json_object_get(w->with, "sbom_name"));
	const char *base = strrchr(w->workspace, '/');
	return depscan_sbom(&r->deps, &r->findings,
			    name	      ? name
			    : base && base[1] ? base + 1
					      : "project",
			    RUNNER_VERSION);
}

/* The SBOM into the run record; returns its path relative to the run directory. */
static int write_sbom(struct stage_worker *w, const struct depscan_result *r, char **rel)
{
	const char *art = getenv("RUNNER_ARTIFACTS");
	if (str_empty(art)) {
		return -ENOENT;
	}
	_cleanup_free_ char *dir = xasprintf("%s/%s", art, w->stage_name);
	int e = mkdir_p(dir, 0755);
	if (e < 0) {
		return e;
	}
	json_t *doc = sbom_doc(w, r);
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text) {
		return -ENOMEM;
	}
	_cleanup_free_ char *path = xasprintf("%s/sbom.cdx.json", dir);
	e = write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	if (e == 0) {
		*rel = xasprintf("artifacts/%s/sbom.cdx.json", w->stage_name);
	}
	return e;
}

/*
 * The local Maven repository the scan reads BOMs and parents from: `maven-repository:`
 * (inside the workspace, links included), or the runner's maven_repository (absolute,
 * bound read-only). 0, or the stage's error.
 */
static int maven_repository(struct stage_worker *w, struct dep_list *l)
{
	const json_t *in = json_object_get(w->with, "maven-repository");
	const json_t *abs = json_object_get(w->with, "maven_repository");
	const char *rel = json_string_value(in);
	if ((in && (str_empty(rel) || !path_is_inside(rel))) || (abs && !json_is_string(abs))) {
		return fail(w, "maven-repository '%s' is not a directory inside the workspace",
			    rel ? rel : "?");
	}
	if (!in && !abs) {
		return 0;
	}
	_cleanup_free_ char *path =
		in ? xasprintf("%s/%s", w->workspace, rel) : xstrdup(json_string_value(abs));
	_cleanup_free_ char *real = realpath(path, NULL);
	_cleanup_free_ char *top = realpath(w->workspace, NULL);
	size_t tl = top ? strlen(top) : 0;
	if (in && real && !(top && strncmp(real, top, tl) == 0 && (!real[tl] || real[tl] == '/'))) {
		return fail(w, "maven-repository '%s' leads out of the workspace", rel);
	}
	int e = deps_maven_repository(l, path);
	if (e < 0) {
		return fail(w, "the Maven repository %s cannot be read: %s", in ? rel : path,
			    e == -ENOTDIR ? "it is not a directory" : strerror(-e));
	}
	return 0;
}

static int depscan_run_stage(struct stage_worker *w)
{
	char err[1024];
	struct gate_policy pol;
	if (gate_policy_for_worker(&pol, w, err, sizeof(err)) < 0) {
		gate_policy_release(&pol);
		return fail(w, "invalid gate configuration: %s", err);
	}
	/* Configuration (already validated; interpolated values are checked again here). */
	const json_t *paths_j = json_object_get(w->with, "paths");
	size_t n_paths = json_is_array(paths_j) ? json_array_size(paths_j) : 1;
	char **paths = xcalloc(n_paths ? n_paths : 1, sizeof(char *));
	int code = 0;
	for (size_t i = 0; i < n_paths; i++) {
		const char *p = json_is_array(paths_j)
					? json_string_value(json_array_get(paths_j, i))
				: paths_j ? json_string_value(paths_j)
					  : ".";
		if (!p || !path_is_inside(p)) {
			code = fail(w, "path '%s' is not inside the workspace", p ? p : "?");
			n_paths = i;
			break;
		}
		paths[i] = xasprintf("%s/%s", w->workspace, p);
	}
	const char *db_with = json_string_value(json_object_get(w->with, "db"));
	_cleanup_free_ char *db_rel = db_with && db_with[0] != '/' && *db_with
					      ? xasprintf("%s/%s", w->workspace, db_with)
					      : NULL;
	_cleanup_free_ char *db = osvdb_default_path(db_rel ? db_rel : db_with);
	uint64_t age_ms = DEPSCAN_DEFAULT_MAX_AGE_S * 1000ull;
	const char *age = json_string_value(json_object_get(w->with, "max-db-age"));
	/* `runner scan deps --max-db-age` gives seconds, 0 for no limit (runner-only keys:
	 * validation refuses them in a pipeline, as it refuses sbom_result). */
	const json_t *age_s = json_object_get(w->with, "max_db_age_s");
	if (age_s) {
		json_int_t v = json_integer_value(age_s);
		if (!json_is_integer(age_s) || v < 0 || v > 3650ll * 86400) {
			code = code ? code : fail(w, "invalid max_db_age_s");
		} else {
			age_ms = (uint64_t)v * 1000;
		}
	} else if (!code && age &&
		   (parse_duration(age, 3650ull * 86400 * 1000, &age_ms) < 0 || age_ms < 1000)) {
		/* Below a second it would be 0 seconds, which depscan reads as no limit. */
		code = fail(w, "invalid max-db-age '%s' (at least 1s)", age);
	}
	enum severity unknown = SEVERITY_HIGH;
	const char *us = json_string_value(json_object_get(w->with, "unknown-severity"));
	if (!code && us && severity_parse(us, &unknown) < 0) {
		code = fail(w, "invalid unknown-severity '%s'", us);
	}
	const json_t *sbom_j = json_object_get(w->with, "sbom");
	/* `runner scan deps --sbom FILE`: the SBOM goes back in the result, for the runner to
	 * write; there is no run record. */
	bool sbom_result = json_is_true(json_object_get(w->with, "sbom_result"));
	bool want_sbom = !json_is_false(sbom_j) && !sbom_result;
	/* `runner sbom` without --db: the packages only. */
	bool sbom_only = json_is_true(json_object_get(w->with, "sbom_only"));
	const json_t *allow_none = json_object_get(w->with, "allow_no_lockfiles");
	const char *todo = allow_none ? "name the project's lockfiles or their directory "
					"(package-lock.json, pom.xml, go.mod, "
					"requirements.txt...), or give --allow-no-lockfiles "
					"when a tree without any is expected"
				      : NULL;
	struct depscan_result r;
	depscan_result_init(&r);
	if (code == 0) {
		code = maven_repository(w, &r.deps);
	}
	if (code == 0) {
		/* A fork's changed lockfiles are read wherever they lie (vendor/, a
		 * dot-directory): the pull request chose the place. */
		struct deps_walk_opts wo = {
			.must_scan = (const char *const *)pol.changed,
			.n_must_scan = pol.n_changed,
			.enter_skipped = pol.changed_all,
		};
		struct depscan_opts o = {
			.db_path = db,
			.max_age_s = age_ms / 1000,
			.unknown_severity = unknown,
			.root = w->workspace,
			.paths = (const char *const *)paths,
			.n_paths = n_paths,
			.walk = &wo,
			.allow_no_lockfiles = json_is_true(allow_none),
			.no_lockfile_todo = todo,
		};
		int rc;
		if (sbom_only) {
			rc = deps_scan_paths_opts(&r.deps, w->workspace, o.paths, o.n_paths, &wo,
						  &r.diags);
			/* As depscan_run says it: where, what, and what to do. */
			depscan_error_text(&r.diags, "cannot read the lockfiles", err, sizeof(err));
			if (rc == 0 && r.deps.n_files == 0 && !o.allow_no_lockfiles) {
				/* An SBOM of nothing because nothing was found would pass an
				 * inventory that went wrong unnoticed: as the scan, an error. */
				depscan_no_lockfile_text(o.paths, o.n_paths, o.root, todo, err,
							 sizeof(err));
				rc = -ENODATA;
			}
			r.stats = json_pack("{s:I, s:I}", "lockfiles", (json_int_t)r.deps.n_files,
					    "packages", (json_int_t)r.deps.n);
		} else {
			fputs("dependency-scan: database ", stdout);
			fput_one_line(stdout, db ? db : "(none)");
			fputc('\n', stdout);
			fflush(stdout);
			rc = depscan_run(&o, &r, err, sizeof(err));
		}
		if (rc < 0) {
			json_t *errs = json_array();
			for (size_t i = 0; i < r.diags.n; i++) {
				const struct diag *d = &r.diags.v[i];
				json_array_append_new(errs,
						      json_pack("{s:s, s:i, s:i, s:s}", "file",
								d->file ? d->file : "", "line",
								(int)d->line, "column", (int)d->col,
								"message", d->msg));
			}
			json_object_set_new(w->result, "errors", errs);
			code = fail(w, "%s", err);
		}
	}
	if (code == 0) {
		for (size_t i = 0; i < r.deps.n_files; i++) {
			fputs("dependency-scan: ", stdout);
			fput_one_line(stdout, r.deps.files[i].path);
			printf(" (%s): %zu package%s\n", dep_format_name(r.deps.files[i].format),
			       r.deps.files[i].packages, r.deps.files[i].packages == 1 ? "" : "s");
		}
		if (sbom_result) {
			json_object_set_new(w->result, "sbom_document", sbom_doc(w, &r));
		} else if (want_sbom) {
			char *rel = NULL;
			int e = write_sbom(w, &r, &rel);
			if (e < 0) {
				code = fail(w, "cannot write the SBOM into the run record: %s",
					    strerror(-e));
			} else {
				json_object_set_new(w->result, "sbom",
						    json_pack("{s:s, s:s, s:I}", "path", rel,
							      "format", "CycloneDX 1.5",
							      "components", (json_int_t)r.deps.n));
				free(rel);
			}
		}
	}
	if (code == 0) {
		code = gate_finish(w, &pol, &r.findings, r.stats);
		print_findings(&r.findings);
		put_line(json_string_value(json_object_get(w->result, "summary")));
	}
	depscan_result_release(&r);
	for (size_t i = 0; i < n_paths; i++) {
		free(paths[i]);
	}
	free(paths);
	gate_policy_release(&pol);
	fflush(stdout);
	return code;
}

/* Runner side: the database the worker will open, as an absolute path (the sandbox binds
 * it read-only at that path, and RUNNER_DB names it for the worker). */
static char *depscan_host_file(json_t *with, const char *workspace)
{
	if (json_is_true(json_object_get(with, "sbom_only"))) {
		return NULL; /* no database */
	}
	const char *db_with = json_string_value(json_object_get(with, "db"));
	if (db_with && *db_with && db_with[0] != '/') {
		return xasprintf("%s/%s", workspace, db_with); /* relative to the workspace */
	}
	return osvdb_default_path(db_with);
}

const struct stage_kind stage_kind_dependency_scan = {
	.name = "dependency-scan",
	.summary = "lockfiles and manifests against the offline OSV database, through the gate",
	.flags = STAGE_KIND_SECURITY,
	.validate = depscan_validate,
	.run = depscan_run_stage,
	.host_file = depscan_host_file,
	.host_file_env = "RUNNER_DB",
};
