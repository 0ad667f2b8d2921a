/*
 * cmd_sbom.c - `runner sbom [PATH...]`: a CycloneDX 1.5 JSON SBOM of every package in the
 * lockfiles and manifests under PATH (default: .). With --db, the advisories that affect
 * them are included as vulnerabilities.
 *
 * The lockfiles are untrusted: they are read by the dependency-scan kind's worker in the
 * stage sandbox, as `runner scan deps` reads them (runner/cmd_scan_deps.c, cli_deps_scan):
 * the current directory (or -C DIR) is its read-only workspace, every PATH lies inside it,
 * the database (with --db only) is bound read-only; this process writes the SBOM from the
 * worker's result.
 */
#include "cli.h"
#include "scanbox.h"

#include "finding.h"
#include "util.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

#include "banned.h"

const char cmd_sbom_usage[] =
	"usage: runner sbom [--output FILE] [--name NAME] [--db PATH] [-C DIR] [--no-sandbox]\n"
	"                   [--allow-no-lockfiles] [--maven-repository DIR] [PATH...]\n"
	"\n"
	"Write a CycloneDX 1.5 JSON SBOM of the packages in the lockfiles and manifests under\n"
	"each PATH (default: .) to standard output or FILE. The lockfiles are read in the stage\n"
	"sandbox, the current directory its read-only workspace: every PATH must be inside it.\n"
	"\n"
	"  -o, --output FILE   write to FILE (atomically) instead of standard output\n"
	"      --name NAME     the project's name (default: the directory's name)\n"
	"      --db PATH       also list the advisories that affect the packages\n"
	"  -C DIR              read from DIR (paths are relative to it and must be inside)\n"
	"      --no-sandbox    read the lockfiles WITHOUT isolation (debugging only; marked)\n"
	"      --allow-no-lockfiles  write an SBOM without any package when no lockfile is\n"
	"                      found (said on stderr), instead of failing\n"
	"      --maven-repository DIR  read BOMs and parent POMs the tree does not hold from\n"
	"                      this local Maven repository (e.g. ~/.m2/repository)\n"
	"\n"
	"Exit codes: 0 written; 4 no lockfile found (as for 'runner scan deps'), a lockfile\n"
	"that cannot be read (the message says where: file:line:column) or, with --db, a\n"
	"database that cannot be, or the sandbox could not start; 2 usage (also a PATH\n"
	"outside the directory).\n";

int cmd_sbom(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "db", required_argument, NULL, 'd' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "allow-no-lockfiles", no_argument, NULL, 'E' },
		{ "maven-repository", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *name = NULL, *db = NULL, *dir = NULL, *repo = NULL;
	bool no_sandbox = false, allow_none = false;
	int c;
	struct cli_getopt g;
	cli_getopt_init(&g, "sbom", "o:C:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
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
		case 'C':
			dir = optarg;
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
		default:
			return EXIT_USAGE; /* said */
		}
	}
	json_t *name_j = name ? json_string(name) : NULL;
	if (name && !name_j) {
		return cli_usage_error("sbom", "the --name is not UTF-8");
	}
	if (dir && chdir(dir) < 0) {
		json_decref(name_j);
		return cli_usage_error("sbom", "cannot change to %s: %s", dir, strerror(errno));
	}
	char root[PATH_MAX];
	if (!realpath(".", root)) {
		fprintf(stderr, "runner: cannot tell the current directory: %s\n", strerror(errno));
		json_decref(name_j);
		return EXIT_INTERNAL;
	}
	if (no_sandbox) {
		cli_scan_warn_unconfined();
	}
	/* Without --db, no database is opened: the packages only. With it, any age will do
	 * (an SBOM lists what was known), and no finding blocks. */
	json_t *with = json_pack("{s:b, s:b, s:b, s:I, s:s, s:b}", "sbom", 0, "sbom_result", 1,
				 "sbom_only", db == NULL, "max_db_age_s", (json_int_t)0,
				 "unknown-severity", severity_name(SEVERITY_HIGH),
				 "allow_no_lockfiles", allow_none);
	if (name_j) {
		json_object_set_new(with, "sbom_name", name_j);
	}
	struct scanbox sb;
	scanbox_init(&sb, root, no_sandbox);
	const struct cli_deps d = {
		.cmd = "sbom",
		.what = "sbom",
		.paths = argv + optind,
		.n_paths = (size_t)(argc - optind),
		.use_db = db != NULL,
		.db = db,
		.maven_repository = repo,
	};
	json_t *result = NULL;
	int code;
	int ret = cli_deps_scan(&sb, &d, with, &result, &code);
	char *text = ret == EXIT_OK ? cli_deps_sbom_text(result, no_sandbox) : NULL;
	if (ret == EXIT_OK && !text) {
		fprintf(stderr, "runner: sbom failed: the scan returned no SBOM\n");
		ret = EXIT_INTERNAL;
	}
	if (text && cli_deps_found_none(result)) {
		fprintf(stderr, "runner: no lockfile or manifest found: the SBOM lists no package "
				"(--allow-no-lockfiles)\n");
	}
	if (text && output) {
		int w = write_file_atomic(output, text, strlen(text), 0644);
		if (w < 0) {
			fprintf(stderr, "runner: cannot write %s: %s\n", output, strerror(-w));
			ret = EXIT_INTERNAL;
		}
	} else if (text) {
		puts(text);
	}
	free(text);
	json_decref(result);
	json_decref(with);
	scanbox_release(&sb);
	return ret;
}
