/*
 * cmd_serve.c - `runner serve`: the self-hosted runner (webhooks in, runs, statuses out),
 * and `runner __job`, the process the server starts for each run attempt.
 */
#include "cli.h"

#include "config.h"
#include "diag.h"
#include "jobrun.h"
#include "output.h"
#include "server.h"
#include "slog.h"
#include "util.h"

#include <getopt.h>

#include "banned.h"

const char cmd_serve_usage[] =
	"usage: runner serve --config FILE [--check] [--address-file FILE]\n"
	"\n"
	"Run pipelines for signed webhook deliveries from GitHub, GitLab and Gitea, with a\n"
	"durable queue, and report back with commit statuses (docs/server.md).\n"
	"\n"
	"  -c, --config FILE        the server configuration (YAML)\n"
	"      --check              check the configuration and exit\n"
	"      --address-file FILE  write HOST:PORT there once listening (with port 0)\n"
	"\n"
	"Logs are JSON lines on stderr. SIGTERM or SIGINT stops it in order; SIGHUP reloads\n"
	"the configuration (docs/server.md).\n"
	"Exit codes: 0 stopped, 2 invalid configuration, 4 could not start.\n";

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "address-file", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *address_file = NULL;
	bool check = false;
	int c;
	struct cli_getopt g;
	cli_getopt_init(&g, "serve", "c:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'a':
			address_file = optarg;
			break;
		default:
			return EXIT_USAGE; /* said */
		}
	}
	if (optind < argc) {
		return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	}
	if (!config) {
		return cli_usage_error("serve", "--config FILE is required");
	}
	struct diag_list dl;
	struct server_config *cfg = NULL;
	diag_list_init(&dl, 50);
	int r = config_load(config, &cfg, &dl);
	if (r < 0) {
		/* file:line:col and the message, without the line itself: the server's
		 * configuration holds webhook secrets, tokens and URLs with passwords, and an
		 * error about one of them (or a line next to it) must not print it. */
		output_diags(stderr, &dl, NULL, 0, cli_color_stderr());
		diag_list_release(&dl);
		return r == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	output_diags(stderr, &dl, NULL, 0, cli_color_stderr()); /* warnings, if any */
	diag_list_release(&dl);
	if (check) {
		printf("%s: valid: %zu repositories, data in %s\n", config, cfg->n_repos,
		       cfg->data_dir);
		config_free(cfg);
		return EXIT_OK;
	}
	slog_set_level(cfg->log_level);
	return server_run(cfg, address_file); /* takes cfg */
}

int cmd_job(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return jobrun_main();
}
