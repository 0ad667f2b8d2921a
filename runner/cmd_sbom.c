/*
 * cmd_sbom.c - `runner sbom [PATH...]`: a CycloneDX 1.5 JSON SBOM of every package in the
 * lockfiles and manifests under PATH (default: .). With --db, the advisories that affect
 * them are included as vulnerabilities.
 */
#include "cli.h"

#include "depscan.h"
#include "osvdb.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>

#include "banned.h"

const char cmd_sbom_usage[] =
	"usage: runner sbom [--output FILE] [--name NAME] [--db PATH] [PATH...]\n"
	"\n"
	"Write a CycloneDX 1.5 JSON SBOM of the packages in the lockfiles and manifests under\n"
	"each PATH (default: .) to standard output or FILE.\n"
	"\n"
	"  -o, --output FILE   write to FILE (atomically) instead of standard output\n"
	"      --name NAME     the project's name (default: the directory's name)\n"
	"      --db PATH       also list the advisories that affect the packages\n"
	"\n"
	"Exit codes: 0 written; 4 a lockfile could not be read (or the database, with --db); 2 "
	"usage.\n";

int cmd_sbom(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *name = NULL, *db = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		default:
			return cli_usage_error("sbom", "invalid option");
		}
	}
	const char *dot[] = { "." };
	const char *const *paths = optind < argc ? (const char *const *)argv + optind : dot;
	size_t n_paths = optind < argc ? (size_t)(argc - optind) : 1;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct depscan_result r;
	depscan_result_init(&r);
	char err[1024];
	int rc;
	if (db) {
		struct depscan_opts o = {
			.db_path = db,
			.unknown_severity = SEVERITY_HIGH,
			.root = cwd,
			.paths = paths,
			.n_paths = n_paths,
		};
		rc = depscan_run(&o, &r, err, sizeof(err));
	} else {
		rc = deps_scan_paths(&r.deps, cwd, paths, n_paths, &r.diags);
		if (rc < 0) {
			snprintf(err, sizeof(err), "%s",
				 r.diags.n ? r.diags.v[0].msg : "cannot read");
		}
	}
	if (rc < 0) {
		fprintf(stderr, "runner: %s\n", err);
		depscan_result_release(&r);
		return EXIT_INTERNAL;
	}
	if (!name) {
		const char *base = cwd ? strrchr(cwd, '/') : NULL;
		name = base && base[1] ? base + 1 : "project";
	}
	json_t *doc = depscan_sbom(&r.deps, db ? &r.findings : NULL, name, RUNNER_VERSION);
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	depscan_result_release(&r);
	int code = EXIT_OK;
	if (!text) {
		code = EXIT_INTERNAL;
	} else if (output) {
		int w = write_file_atomic(output, text, strlen(text), 0644);
		if (w < 0) {
			fprintf(stderr, "runner: cannot write %s: %s\n", output, strerror(-w));
			code = EXIT_INTERNAL;
		}
	} else {
		puts(text);
	}
	free(text);
	return code;
}
