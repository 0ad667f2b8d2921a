/*
 * cmd_scan.c - `runner scan SCANNER ...`: run one security scanner outside a pipeline.
 * Each scanner's subcommand lives in its own file (cmd_scan_deps.c, ...); this file only
 * dispatches.
 */
#include "cli.h"

#include "util.h"

#include "banned.h"

const char cmd_scan_usage[] =
	"usage: runner scan deps [--db PATH] [--max-db-age DURATION] [--fail-on LEVEL]\n"
	"                        [--unknown-severity LEVEL] [--baseline FILE]\n"
	"                        [--format text|json] [--sbom FILE] [PATH...]\n"
	"\n"
	"Run a security scanner on files of the working tree.\n"
	"\n"
	"deps: check the lockfiles and manifests under each PATH (default: .) against the\n"
	"offline OSV database (see 'runner db --help'). Directories are walked; node_modules,\n"
	"vendor and .git are skipped.\n"
	"\n"
	"      --db PATH               the advisory database (default: $RUNNER_DB, else\n"
	"                              $XDG_CACHE_HOME/runner/osv.db, else "
	"~/.cache/runner/osv.db)\n"
	"      --max-db-age DURATION   refuse an older database (default 7d; 0 = no limit)\n"
	"      --fail-on LEVEL         block at this severity or above (default high)\n"
	"      --unknown-severity LEVEL  for advisories that give none (default high)\n"
	"      --baseline FILE         findings already known (the JSON of an earlier scan)\n"
	"      --format FORMAT         text (default) or json\n"
	"      --sbom FILE             also write a CycloneDX 1.5 SBOM to FILE\n"
	"\n"
	"Exit codes: 0 passed, 3 blocked by a finding, 4 the scan could not be done (no or\n"
	"stale database, malformed lockfile, no lockfile found), 2 usage.\n";

int cmd_scan(int argc, char **argv)
{
	if (argc < 2) {
		return cli_usage_error("scan", "missing scanner (deps)");
	}
	if (str_eq(argv[1], "deps")) {
		return cmd_scan_deps(argc - 1, argv + 1);
	}
	return cli_usage_error("scan", "unknown scanner '%s' (deps)", argv[1]);
}
