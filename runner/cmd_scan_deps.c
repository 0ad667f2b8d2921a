/*
 * cmd_scan_deps.c - `runner scan deps PATH...`: the dependency scan of a pipeline's
 * dependency-scan stage, from the command line. Lockfiles under PATH (directories are
 * walked) are checked against the offline advisory database, findings go through the
 * same gate (fail-on, baseline), and the result is text or JSON.
 *
 * Exit codes: 0 nothing at or above the threshold; 3 blocked by a finding; 4 the scan
 * could not be done (no database, a stale one, a malformed lockfile, no lockfile found);
 * 2 usage.
 */
#include "cli.h"

#include "depscan.h"
#include "gate.h"
#include "osvdb.h"
#include "output.h"
#include "sbuf.h"
#include "stage.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>

#include "banned.h"

static void print_text(const struct depscan_result *r, const struct gate_outcome *o,
		       const struct gate_policy *p)
{
	for (size_t i = 0; i < r->findings.n; i++) {
		const struct finding *f = &r->findings.v[i];
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
		sbuf_printf(&sb, "%s %s %s%s\n", f->n_aliases ? ")" : "", name1, version1,
			    f->disposition == DISPOSITION_SUPPRESSED ? " [suppressed]"
			    : f->disposition == DISPOSITION_BELOW    ? ""
								     : " [blocking]");
		if (f->title) {
			_cleanup_free_ char *title = str_one_line(f->title);
			sbuf_printf(&sb, "    %s\n", title);
		}
		if (f->fix) {
			_cleanup_free_ char *fix = str_one_line(f->fix);
			sbuf_printf(&sb, "    fix: %s\n", fix);
		}
		_cleanup_free_ char *clean = output_clean(sb.data);
		fputs(clean ? clean : "", stdout);
		sbuf_release(&sb);
	}
	const json_t *st = r->stats;
	printf("scanned %lld lockfile%s, %lld packages (%lld checked): %lld vulnerable package%s, "
	       "%lld advisor%s\n",
	       (long long)json_integer_value(json_object_get(st, "lockfiles")),
	       json_integer_value(json_object_get(st, "lockfiles")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(st, "packages")),
	       (long long)json_integer_value(json_object_get(st, "checked")),
	       (long long)json_integer_value(json_object_get(st, "vulnerable_packages")),
	       json_integer_value(json_object_get(st, "vulnerable_packages")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(st, "advisories")),
	       json_integer_value(json_object_get(st, "advisories")) == 1 ? "y" : "ies");
	if (o->blocking) {
		printf("blocked: %zu finding%s at or above %s\n", o->blocking,
		       o->blocking == 1 ? "" : "s", severity_name(p->fail_on));
	} else {
		printf("passed: no finding at or above %s\n", severity_name(p->fail_on));
	}
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
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *format = "text", *baseline = NULL, *sbom = NULL;
	uint64_t max_age_ms = DEPSCAN_DEFAULT_MAX_AGE_S * 1000ull;
	enum severity fail_on = SEVERITY_HIGH, unknown = SEVERITY_HIGH;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
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
		default:
			return cli_usage_error("scan deps", "invalid option");
		}
	}
	if (!str_eq(format, "text") && !str_eq(format, "json")) {
		return cli_usage_error("scan deps", "unknown format '%s' (text or json)", format);
	}
	const char *dot[] = { "." };
	const char *const *paths = optind < argc ? (const char *const *)argv + optind : dot;
	size_t n_paths = optind < argc ? (size_t)(argc - optind) : 1;
	struct gate_policy pol;
	gate_policy_init(&pol);
	pol.fail_on = fail_on;
	char err[1024];
	if (baseline && gate_policy_load_baseline(&pol, baseline, err, sizeof(err)) < 0) {
		gate_policy_release(&pol);
		return cli_usage_error("scan deps", "%s", err);
	}
	_cleanup_free_ char *dbpath = osvdb_default_path(db);
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct depscan_opts o = {
		.db_path = dbpath,
		.max_age_s = max_age_ms / 1000,
		.unknown_severity = unknown,
		.root = cwd,
		.paths = paths,
		.n_paths = n_paths,
	};
	struct depscan_result r;
	depscan_result_init(&r);
	int rc = depscan_run(&o, &r, err, sizeof(err));
	if (rc < 0) {
		_cleanup_free_ char *e1 = str_one_line(err);
		fprintf(stderr, "runner: dependency scan failed: %s\n", e1);
		for (size_t i = 1; i < r.diags.n && i < 20; i++) {
			const struct diag *d = &r.diags.v[i];
			_cleanup_free_ char *file = str_one_line(d->file ? d->file : "?");
			_cleanup_free_ char *msg = str_one_line(d->msg);
			fprintf(stderr, "  %s:%u: %s\n", file, d->line, msg);
		}
		depscan_result_release(&r);
		gate_policy_release(&pol);
		return EXIT_INTERNAL;
	}
	struct gate_outcome out;
	int code = gate_apply(&pol, &r.findings, gate_today(), &out);
	if (sbom) {
		const char *base = strrchr(cwd ? cwd : "project", '/');
		json_t *doc = depscan_sbom(&r.deps, &r.findings, base ? base + 1 : "project",
					   RUNNER_VERSION);
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(doc);
		int w = text ? write_file_atomic(sbom, text, strlen(text), 0644) : -ENOMEM;
		free(text);
		if (w < 0) {
			fprintf(stderr, "runner: cannot write %s: %s\n", sbom, strerror(-w));
			code = EXIT_INTERNAL;
		}
	}
	if (str_eq(format, "json")) {
		json_t *doc =
			json_pack("{s:o, s:O*, s:o}", "findings", finding_list_to_json(&r.findings),
				  "stats", r.stats, "gate", gate_outcome_json(&pol, &out));
		char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (!text) {
			/* Never an empty report that a reader would take for "no findings". */
			fprintf(stderr, "runner: cannot write the JSON report\n");
			code = EXIT_INTERNAL;
		} else {
			puts(text);
		}
		free(text);
		json_decref(doc);
	} else {
		print_text(&r, &out, &pol);
	}
	gate_outcome_release(&out);
	depscan_result_release(&r);
	gate_policy_release(&pol);
	if (code == EXIT_INTERNAL) {
		return code;
	}
	return code == STAGE_EXIT_BLOCKED ? EXIT_BLOCKED : EXIT_OK;
}
