/*
 * cmd_validate.c - `runner validate`: load the pipeline, print every problem.
 */
#include "cli.h"
#include "output.h"

#include "pipeline.h"
#include "util.h"

#include <getopt.h>

#include "banned.h"

const char cmd_validate_usage[] =
	"usage: runner validate [-f FILE] [-C DIR] [-q]\n"
	"\n"
	"Check a pipeline file: YAML syntax, keys and types, stage references, cycles,\n"
	"conditions, variables and stage configurations. Prints every problem as\n"
	"file:line:col: error: message, with a hint.\n"
	"\n"
	"  -f, --file FILE   the pipeline file (default: .runner.yml, then runner.yml)\n"
	"  -C DIR            change to DIR first\n"
	"  -q, --quiet       print nothing when the pipeline is valid\n"
	"\n"
	"Exit codes: 0 valid, 2 invalid (or not found).\n";

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common co = { 0 };
	bool quiet = false;
	int c;
	struct cli_getopt g;
	cli_getopt_init(&g, "validate", "f:C:q");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		default:
			if (cli_common_opt(&co, c, optarg)) {
				break;
			}
			return EXIT_USAGE; /* said */
		}
	}
	int fr = cli_common_finish(&co, "validate", argc, argv);
	if (fr != EXIT_OK) {
		return fr;
	}
	struct pipeline *p;
	int r = cli_load_pipeline(co.file, &p);
	if (r != EXIT_OK) {
		return r;
	}
	if (!quiet) {
		size_t edges = p->dag.need_off[p->n_stages];
		/* The name (and the path) are the file's: no escape sequence of theirs reaches
		 * the terminal. */
		_cleanup_free_ char *path = output_clean_line(p->path);
		_cleanup_free_ char *name = output_clean_line(p->name);
		printf("%s: pipeline '%s' is valid: %zu stage%s, %zu dependenc%s\n", path, name,
		       p->n_stages, p->n_stages == 1 ? "" : "s", edges, edges == 1 ? "y" : "ies");
	}
	pipeline_free(p);
	return EXIT_OK;
}
