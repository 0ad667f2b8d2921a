/*
 * cmd_scan_deps.c - `runner scan deps PATH...`: the dependency scan of a pipeline's
 * dependency-scan stage, from the command line. Lockfiles under PATH (directories are
 * walked) are checked against the offline advisory database, findings go through the
 * same gate (fail-on, baseline), and the result is text or JSON.
 *
 * The scan is the dependency-scan kind's worker, in the stage sandbox (runner/scanbox.h):
 * the current directory (or -C DIR) is its read-only workspace, every PATH lies inside
 * it, and the database, a baseline and a Maven repository outside it are bound
 * read-only; this process writes the report and the SBOM from the worker's result.
 *
 * Exit codes: 0 nothing at or above the threshold; 3 blocked by a finding; 4 the scan
 * could not be done (no database, a stale one, a malformed lockfile, no lockfile found, a
 * sandbox that cannot start); 2 usage.
 */
#include "cli.h"
#include "scanbox.h"

#include "depscan.h"
#include "gate.h"
#include "osvdb.h"
#include "output.h"
#include "sbuf.h"
#include "stage.h"
#include "util.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

/*
 * One finding in three to four lines: where, how bad, which advisory (or rule), the package
 * and the gate's decision; then what it says beyond that line: an advisory's summary (its
 * message only repeats the first line), or the message of a finding that is not an
 * advisory (`unresolved-version`, `unpinned-requirement`: why the version is not known,
 * which parent or BOM, and which advisory makes it as severe as it is); then where the
 * version comes from (the package's version_note: a parent or BOM that manages it, a
 * range), unless that line said it already; the other lines of the lockfile whose
 * entries are the same package (also_at); then the fix.
 */
static void print_text(const struct finding_list *fl, const json_t *st, json_int_t blocking,
		       enum severity fail_on)
{
	for (size_t i = 0; i < fl->n; i++) {
		const struct finding *f = &fl->v[i];
		const json_t *pkg = json_object_get(f->extra, "package");
		/* Names come from lockfiles and advisories: each is printed on one line, its
		 * line breaks and control characters escaped (a name cannot forge a line, or
		 * start an escape sequence that hides the rest), and no escape sequence reaches
		 * the terminal, as in the other scans' text. */
		struct sbuf sb;
		sbuf_init(&sb, SIZE_MAX / 2);
		_cleanup_free_ char *file = str_one_line(f->file ? f->file : "?");
		_cleanup_free_ char *id = str_one_line(f->rule_id);
		sbuf_printf(&sb, "%s:%u: %s %s", file, f->line, severity_name(f->severity), id);
		for (size_t k = 0; k < f->n_aliases; k++) {
			_cleanup_free_ char *alias = str_one_line(f->aliases[k]);
			sbuf_printf(&sb, "%s%s", k ? ", " : " (", alias);
		}
		const char *name = json_string_value(json_object_get(pkg, "name"));
		const char *version = json_string_value(json_object_get(pkg, "version"));
		_cleanup_free_ char *name1 = str_one_line(name ? name : "?");
		_cleanup_free_ char *version1 = str_one_line(version ? version : "?");
		/* (A package without a version, as an unresolved one may be: its name alone.) */
		sbuf_printf(&sb, "%s %s%s%s%s\n", f->n_aliases ? ")" : "", name1,
			    *version1 ? " " : "", version1,
			    f->disposition == DISPOSITION_SUPPRESSED ? " [suppressed]"
			    : f->disposition == DISPOSITION_BELOW    ? ""
								     : " [blocking]");
		/* An advisory's finding has its page (url); the others are the scan's own. */
		bool advisory = json_object_get(f->extra, "url") != NULL;
		const char *says = advisory || !f->message ? f->title : f->message;
		/* Without the package the first line names ("name (Maven): why"). */
		const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
		_cleanup_free_ char *named =
			name && eco ? xasprintf("%s (%s): ", name, eco) : xstrdup("");
		if (says && *named && str_has_prefix(says, named) && says[strlen(named)]) {
			says += strlen(named);
		}
		if (says) {
			_cleanup_free_ char *says1 = str_one_line(says);
			sbuf_printf(&sb, "    %s\n", says1);
		}
		const char *note = json_string_value(json_object_get(f->extra, "version_note"));
		if (note && *note && !(says && strstr(says, note))) {
			_cleanup_free_ char *note1 = str_one_line(note);
			sbuf_printf(&sb, "    version: %s\n", note1);
		}
		/* Other entries of the lockfile that are the same package (one finding). */
		_cleanup_free_ char *also = depscan_also_text(f);
		if (also) {
			sbuf_printf(&sb, "    %s\n", also);
		}
		if (f->fix) {
			_cleanup_free_ char *fix = str_one_line(f->fix);
			sbuf_printf(&sb, "    fix: %s\n", fix);
		}
		_cleanup_free_ char *clean = output_clean(sb.data);
		fputs(clean ? clean : "", stdout);
		sbuf_release(&sb);
	}
	printf("scanned %lld lockfile%s, %lld package%s (%lld checked): %lld vulnerable package%s, "
	       "%lld advisor%s\n",
	       (long long)json_integer_value(json_object_get(st, "lockfiles")),
	       json_integer_value(json_object_get(st, "lockfiles")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(st, "packages")),
	       json_integer_value(json_object_get(st, "packages")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(st, "checked")),
	       (long long)json_integer_value(json_object_get(st, "vulnerable_packages")),
	       json_integer_value(json_object_get(st, "vulnerable_packages")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(st, "advisories")),
	       json_integer_value(json_object_get(st, "advisories")) == 1 ? "y" : "ies");
	if (blocking) {
		printf("blocked: %lld finding%s at or above %s\n", (long long)blocking,
		       blocking == 1 ? "" : "s", severity_name(fail_on));
	} else {
		printf("passed: no finding at or above %s\n", severity_name(fail_on));
	}
}

/* A failed scan on stderr: what failed and its reason, then the lockfile errors after the
 * first (which the reason already says). */
static void print_error(const char *what, const json_t *result, const char *err)
{
	const char *summary = json_string_value(json_object_get(result, "summary"));
	if (!err) {
		err = summary && str_has_prefix(summary, "error: ") ? summary + 7 : summary;
	}
	_cleanup_free_ char *e1 = str_one_line(err ? err : "the scan failed");
	fprintf(stderr, "runner: %s failed: %s\n", what, e1);
	const json_t *errors = json_object_get(result, "errors");
	for (size_t i = 1; i < json_array_size(errors) && i < 20; i++) {
		const json_t *d = json_array_get(errors, i);
		const char *f = json_string_value(json_object_get(d, "file"));
		const char *m = json_string_value(json_object_get(d, "message"));
		_cleanup_free_ char *file = str_one_line(f && *f ? f : "?");
		_cleanup_free_ char *msg = str_one_line(m ? m : "");
		fprintf(stderr, "  %s:%lld: %s\n", file,
			(long long)json_integer_value(json_object_get(d, "line")), msg);
	}
}

bool cli_deps_found_none(const json_t *result)
{
	const json_t *n = json_object_get(json_object_get(result, "stats"), "lockfiles");
	return json_is_integer(n) && json_integer_value(n) == 0;
}

char *cli_deps_sbom_text(const json_t *result, bool unconfined)
{
	json_t *doc = json_deep_copy(json_object_get(result, "sbom_document"));
	if (!json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	if (unconfined) {
		/* In the document's metadata, where CycloneDX allows a property of our own. */
		json_t *meta = json_object_get(doc, "metadata");
		json_object_set_new(meta, "properties",
				    json_pack("[{s:s, s:s}]", "name", "runner:no-sandbox", "value",
					      "the scanner ran without isolation (debugging only; "
					      "not a valid result)"));
	}
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return text;
}

/* The worker's SBOM document to path. */
static int write_sbom(const char *path, const json_t *result, bool unconfined)
{
	char *text = cli_deps_sbom_text(result, unconfined);
	int w = text ? write_file_atomic(path, text, strlen(text), 0644) : -EINVAL;
	free(text);
	if (w < 0) {
		fprintf(stderr, "runner: cannot write %s: %s\n", path,
			w == -EINVAL ? "the scan returned no SBOM" : strerror(-w));
	}
	return w;
}

/* The PATHs into with's paths as the worker takes them; one it cannot take is a usage
 * error (-EINVAL, said). */
static int scan_paths(struct scanbox *sb, json_t *with, const char *cmd, char *const *paths,
		      size_t n_paths, char *err, size_t errlen)
{
	if (n_paths) {
		json_object_set_new(with, "paths", json_array());
	}
	for (size_t i = 0; i < n_paths; i++) {
		_cleanup_free_ char *p = NULL;
		json_t *j = NULL;
		if (scanbox_path(sb, paths[i], &p, err, errlen) < 0 || !(j = json_string(p))) {
			if (p) {
				_cleanup_free_ char *shown =
					utf8_sanitize(paths[i], strlen(paths[i]));
				errf(err, errlen, 0, "the path %s is not UTF-8", shown);
			}
			cli_usage_error(cmd, "%s", err);
			return -EINVAL;
		}
		json_array_append_new(json_object_get(with, "paths"), j);
	}
	return 0;
}

/* The database as an absolute path, canonical when it exists, in *db_abs: the kind's host
 * file, bound read-only at that path and named in the worker's RUNNER_DB, as for a
 * pipeline's stage (not in with:, which JSON holds: a path need not be UTF-8). */
static int scan_db(struct scanbox *sb, const char *db, char **db_abs, char *err, size_t errlen)
{
	_cleanup_free_ char *dbpath = osvdb_default_path(db);
	if (!dbpath) {
		return errf(err, errlen, -ENOENT,
			    "no advisory database is configured: give --db, set RUNNER_DB "
			    "or HOME, then run 'runner db update'");
	}
	char real[PATH_MAX];
	*db_abs = realpath(dbpath, real) ? xstrdup(real)
		  : dbpath[0] == '/'	 ? xstrdup(dbpath)
					 : xasprintf("%s/%s", sb->root, dbpath);
	sb->host_file = *db_abs;
	return 0;
}

int cli_deps_scan(struct scanbox *sb, const struct cli_deps *d, json_t *with, json_t **result,
		  int *code)
{
	char err[PATH_MAX + 400];
	_cleanup_free_ char *db_abs = NULL;
	*result = NULL;
	*code = STAGE_EXIT_ERROR;
	int r = scan_paths(sb, with, d->cmd, d->paths, d->n_paths, err, sizeof(err));
	if (r == -EINVAL) {
		return EXIT_USAGE; /* said */
	}
	if (r == 0 && d->use_db) {
		r = scan_db(sb, d->db, &db_abs, err, sizeof(err));
	}
	if (r == 0 && d->baseline) {
		_cleanup_free_ char *bl = NULL;
		r = scanbox_baseline(sb, d->baseline, &bl, err, sizeof(err));
		if (r == -EBADMSG) {
			/* Not a baseline: a usage error. */
			cli_usage_error("scan deps", "%s", err);
			return EXIT_USAGE;
		}
		if (r == 0) {
			json_object_set_new(with, "baseline", json_string(bl));
		}
	}
	if (r == 0 && d->maven_repository) {
		/* A directory: bound read-only at its own path when outside the root, and named
		 * in with: as an absolute path (the worker reads BOMs and parents there). */
		_cleanup_free_ char *repo = NULL;
		struct stat st;
		json_t *j = NULL;
		r = scanbox_input(sb, d->maven_repository, &repo, err, sizeof(err));
		if (r == 0 && (stat(repo, &st) < 0 || !S_ISDIR(st.st_mode))) {
			errf(err, sizeof(err), 0, "the Maven repository %s is not a directory",
			     d->maven_repository);
			r = -ENOTDIR;
		} else if (r == 0 && !(j = json_string(repo))) {
			errf(err, sizeof(err), 0, "the path %s is not UTF-8", repo);
			r = -EINVAL;
		}
		if (r == -ENOENT || r == -EACCES || r == -ENOTDIR || r == -ELOOP || r == -EINVAL) {
			cli_usage_error(d->cmd, "--maven-repository: %s", err);
			return EXIT_USAGE;
		}
		if (r == 0) {
			json_object_set_new(with, "maven_repository", j);
		}
	}
	if (r == 0) {
		*code = scanbox_run(sb, "dependency-scan", "scan", with, NULL, result, err,
				    sizeof(err));
	}
	sb->host_file = NULL; /* db_abs */
	if (!*result || *code == STAGE_EXIT_ERROR) {
		print_error(d->what, *result, *result ? NULL : err);
		json_decref(*result);
		*result = NULL;
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

int cmd_scan_deps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "max-db-age", required_argument, NULL, 'a' },
		{ "fail-on", required_argument, NULL, 'f' },
		{ "unknown-severity", required_argument, NULL, 'u' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'F' },
		{ "sbom", required_argument, NULL, 's' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "allow-no-lockfiles", no_argument, NULL, 'E' },
		{ "maven-repository", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *format = "text", *baseline = NULL, *sbom = NULL, *dir = NULL;
	const char *repo = NULL;
	uint64_t max_age_ms = DEPSCAN_DEFAULT_MAX_AGE_S * 1000ull;
	enum severity fail_on = SEVERITY_HIGH, unknown = SEVERITY_HIGH;
	bool no_sandbox = false, allow_none = false;
	int c;
	struct cli_getopt g;
	cli_getopt_init(&g, "scan deps", "C:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'a':
			if (str_eq(optarg, "0")) {
				max_age_ms = 0;
			} else if (parse_duration(optarg, 3650ull * 86400 * 1000, &max_age_ms) <
					   0 ||
				   max_age_ms < 1000) {
				/* Below a second it would be 0 seconds: no limit at all. */
				return cli_usage_error(
					"scan deps",
					"invalid --max-db-age '%s' (e.g. 7d; at least "
					"1s, or 0 for no limit)",
					optarg);
			}
			break;
		case 'f':
			if (severity_parse(optarg, &fail_on) < 0) {
				return cli_usage_error("scan deps", "invalid --fail-on '%s'",
						       optarg);
			}
			break;
		case 'u':
			if (severity_parse(optarg, &unknown) < 0) {
				return cli_usage_error("scan deps",
						       "invalid --unknown-severity '%s'", optarg);
			}
			break;
		case 'b':
			baseline = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case 's':
			sbom = optarg;
			break;
		case 'N':
			no_sandbox = true;
			break;
		case 'E':
			allow_none = true;
			break;
		case 'm':
			repo = optarg;
			break;
		case 'C':
			dir = optarg;
			break;
		default:
			return EXIT_USAGE; /* said */
		}
	}
	if (!str_eq(format, "text") && !str_eq(format, "json")) {
		return cli_usage_error("scan deps", "unknown format '%s' (text or json)", format);
	}
	/* As `runner scan` and `runner sbom` take it: the tree, and what the other options
	 * name relative to it (--db, --baseline, --sbom, --maven-repository). */
	if (dir && chdir(dir) < 0) {
		return cli_usage_error("scan deps", "cannot change to %s: %s", dir,
				       strerror(errno));
	}
	char root[PATH_MAX];
	if (!realpath(".", root)) {
		fprintf(stderr, "runner: cannot tell the current directory: %s\n", strerror(errno));
		return EXIT_INTERNAL;
	}
	if (no_sandbox) {
		cli_scan_warn_unconfined();
	}
	struct scanbox sb;
	scanbox_init(&sb, root, no_sandbox);
	json_t *with = json_pack("{s:s, s:s, s:I, s:b, s:b, s:b}", "fail-on",
				 severity_name(fail_on), "unknown-severity", severity_name(unknown),
				 "max_db_age_s", (json_int_t)(max_age_ms / 1000), "sbom", 0,
				 "sbom_result", sbom != NULL, "allow_no_lockfiles", allow_none);
	const struct cli_deps d = {
		.cmd = "scan deps",
		.what = "dependency scan",
		.paths = argv + optind,
		.n_paths = (size_t)(argc - optind),
		.use_db = true,
		.db = db,
		.baseline = baseline,
		.maven_repository = repo,
	};
	json_t *result = NULL;
	int code;
	int ret = cli_deps_scan(&sb, &d, with, &result, &code);
	if (ret != EXIT_OK) {
		goto out;
	}
	ret = EXIT_INTERNAL;
	struct finding_list fl;
	finding_list_init(&fl);
	const json_t *stats = json_object_get(result, "stats");
	const json_t *gate = json_object_get(result, "gate");
	if (finding_list_from_json(json_object_get(result, "findings"), &fl) < 0 ||
	    !json_is_object(stats) || !json_is_object(gate)) {
		/* Never a report that a reader would take for "no findings". */
		fprintf(stderr, "runner: dependency scan failed: the scan's result is not one\n");
		finding_list_release(&fl);
		goto out;
	}
	ret = code == STAGE_EXIT_BLOCKED ? EXIT_BLOCKED : EXIT_OK;
	if (cli_deps_found_none(result)) {
		fprintf(stderr, "runner: no lockfile or manifest found: nothing was checked "
				"(--allow-no-lockfiles)\n");
	}
	if (sbom && write_sbom(sbom, result, no_sandbox) < 0) {
		ret = EXIT_INTERNAL;
	}
	if (str_eq(format, "json")) {
		json_t *doc = json_pack("{s:O, s:O, s:O}", "findings",
					json_object_get(result, "findings"), "stats", stats, "gate",
					gate);
		if (no_sandbox) {
			cli_scan_mark_unconfined(doc);
		}
		char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (!text) {
			/* Never an empty report that a reader would take for "no findings". */
			fprintf(stderr, "runner: cannot write the JSON report\n");
			ret = EXIT_INTERNAL;
		} else {
			puts(text);
		}
		free(text);
		json_decref(doc);
	} else {
		print_text(&fl, stats, json_integer_value(json_object_get(gate, "blocking")),
			   fail_on);
	}
	finding_list_release(&fl);
out:
	json_decref(result);
	json_decref(with);
	scanbox_release(&sb);
	return ret;
}
