/*
 * main.c - `runner`: command dispatch, --version and --help.
 */
#include "cli.h"

#include "diag.h"
#include "output.h"
#include "pipeline.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "banned.h"

static const struct command commands[] = {
	{ "run", "run the pipeline in this working tree", cmd_run_usage, NULL, cmd_run, false },
	{ "validate", "check a pipeline file and report every problem", cmd_validate_usage, NULL,
	  cmd_validate, false },
	{ "graph", "print the stage graph (dot, mermaid or json)", cmd_graph_usage, NULL, cmd_graph,
	  false },
	{ "hook", "install or remove the git pre-push hook", NULL, &cmd_hook_help, cmd_hook,
	  false },
	{ "serve", "the self-hosted runner: signed webhooks in, runs and statuses out",
	  cmd_serve_usage, NULL, cmd_serve, false },
	{ "__job", "internal: one run of the server", "", NULL, cmd_job, true },
	{ "db", "import, update or inspect the offline advisory database", NULL, &cmd_db_help,
	  cmd_db, false },
	{ "scan", "run a security scan (sast, secrets, deps) outside a pipeline", NULL,
	  &cmd_scan_help, cmd_scan, false },
	{ "sbom", "write a CycloneDX SBOM of the project's dependencies", cmd_sbom_usage, NULL,
	  cmd_sbom, false },
	{ "image", "build an OCI image reproducibly, push one to a registry", NULL, &cmd_image_help,
	  cmd_image, false },
	{ "sandbox", "check what the stage sandbox gives on this host", NULL, &cmd_sandbox_help,
	  cmd_sandbox, false },
	{ "__worker", "internal: run a built-in stage kind", "", NULL, cmd_worker, true },
};

/* The help of c: of its subcommand sub when it has that one, else the command's. */
static void print_command_help(FILE *f, const struct command *c, const char *sub)
{
	if (!c->help) {
		output_text(f, c->usage);
		return;
	}
	cli_help_print(f, c->help, sub ? cli_help_sub(c->help, sub) : NULL);
}

/* The subcommand a help topic ("scan deps", from cli_getopt) names for command name, or
 * NULL. */
static const char *topic_sub(const char *name, const char *topic)
{
	size_t n = strlen(name);
	if (!topic || strncmp(topic, name, n) != 0 || topic[n] != ' ') {
		return NULL;
	}
	return topic + n + 1;
}

static void print_help(FILE *f)
{
	fprintf(f, "usage: runner [--version] [--help] <command> [<args>]\n\n"
		   "A CI/CD pipeline runner whose security gates fail closed.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!commands[i].hidden) {
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
		}
	}
	fprintf(f, "\nRun 'runner <command> --help' for the options of a command.\n"
		   "Exit codes: 0 success, 1 a stage failed, 2 usage or invalid input,\n"
		   "            3 blocked by a security gate, 4 internal error.\n");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("runner: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd) {
		fprintf(stderr, "  hint: see 'runner %s --help'\n", cmd);
	} else {
		fprintf(stderr, "  hint: see 'runner --help'\n");
	}
	return EXIT_USAGE;
}

bool cli_common_opt(struct cli_common *co, int c, const char *arg)
{
	if (c == 'f') {
		co->file = arg;
	} else if (c == 'C') {
		co->dir = arg;
	} else {
		return false;
	}
	return true;
}

int cli_common_finish(const struct cli_common *co, const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	if (co->dir && chdir(co->dir) < 0) {
		return cli_usage_error(cmd, "cannot change to %s: %s", co->dir, strerror(errno));
	}
	return EXIT_OK;
}

bool cli_color_stderr(void)
{
	bool color;
	output_detect(stderr, false, false, &color);
	return color;
}

int cli_load_pipeline(const char *file, struct pipeline **out)
{
	struct diag_list dl;
	const char *path = file;
	struct stat st;
	if (!path) {
		if (stat(".runner.yml", &st) == 0) {
			path = ".runner.yml";
		} else if (stat("runner.yml", &st) == 0) {
			path = "runner.yml";
		} else {
			fprintf(stderr, "runner: no pipeline file: neither .runner.yml nor "
					"runner.yml exists "
					"in this directory\n"
					"  hint: create one (see docs/pipeline.md), or name it "
					"with -f FILE\n");
			return EXIT_USAGE;
		}
	}
	diag_list_init(&dl, 50);
	int r = pipeline_load_file(path, out, &dl);
	if (r < 0) {
		_cleanup_free_ char *src = NULL;
		size_t len = 0;
		pipeline_read_file(path, &src, &len, NULL);
		output_diags(stderr, &dl, src, len, cli_color_stderr());
		diag_list_release(&dl);
		/* An unreadable or unusable file is invalid input too, not an internal error. */
		return r == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	/* Warnings: the file is valid, but something in it is likely not what was meant. */
	output_diags(stderr, &dl, (*out)->source, (*out)->source_len, cli_color_stderr());
	diag_list_release(&dl);
	return EXIT_OK;
}

/* A command's exit code, once its standard output is known to be written: output that
 * could not be written (a full disk, /dev/full) is an error (exit 4), which outranks a
 * pass, a failed stage and a block alike; a usage error or an interruption keeps its
 * code. The message gives the write's own errno (ENOSPC), not a guess. */
static int finish_stdout(int code)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno ? errno : output_stdout_errno() ? output_stdout_errno() : EIO;
		fprintf(stderr, "runner: cannot write the output: %s\n", strerror(e));
		return code == EXIT_OK || code == EXIT_FAILED || code == EXIT_BLOCKED
			       ? EXIT_INTERNAL
			       : code;
	}
	return code;
}

/* Every command's output, --version and --help too, goes through finish_stdout(): text that
 * could not be written is exit 4, never 0. */
int main(int argc, char **argv)
{
	/* Output to a closed pipe (runner run | head) must not kill the runner. */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (str_eq(cmd, "--version") || str_eq(cmd, "-V")) {
		printf("runner %s\n", RUNNER_VERSION);
		return finish_stdout(EXIT_OK);
	}
	if (str_eq(cmd, "--help") || str_eq(cmd, "-h")) {
		print_help(stdout);
		return finish_stdout(EXIT_OK);
	}
	if (str_eq(cmd, "help")) {
		if (argc < 3) {
			print_help(stdout);
			return finish_stdout(EXIT_OK);
		}
		cmd = argv[2];
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
			if (!str_eq(commands[i].name, cmd) || commands[i].hidden) {
				continue;
			}
			/* `runner help db import`: the subcommand's help. */
			const char *sub = argc > 3 ? argv[3] : NULL;
			if (sub && (!commands[i].help || !cli_help_sub(commands[i].help, sub))) {
				return cli_usage_error(cmd, "'runner %s' has no subcommand '%s'",
						       cmd, sub);
			}
			print_command_help(stdout, &commands[i], sub);
			return finish_stdout(EXIT_OK);
		}
		return cli_usage_error(NULL, "unknown command '%s'", cmd);
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (str_eq(commands[i].name, cmd)) {
			/* --help right after the command (`runner scan --help`, before a
			 * subcommand's word: the overview), or wherever the command's options
			 * read it as an option (cli_getopt: never as an option's value, nor
			 * after `--`): the help of the subcommand they are read for. */
			bool first = !commands[i].hidden && argc > 2 &&
				     (str_eq(argv[2], "--help") || str_eq(argv[2], "-h"));
			int code = first ? EXIT_OK : commands[i].fn(argc - 1, argv + 1);
			if (!commands[i].hidden && (first || cli_help_requested())) {
				print_command_help(stdout, &commands[i],
						   first ? NULL : topic_sub(cmd, cli_help_topic()));
				return finish_stdout(EXIT_OK);
			}
			return finish_stdout(code);
		}
	}
	const char *names[ARRAY_SIZE(commands)];
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!commands[i].hidden) {
			names[n++] = commands[i].name;
		}
	}
	const char *near = closest_word(cmd, names, n);
	if (near) {
		fprintf(stderr, "runner: unknown command '%s'\n  hint: did you mean 'runner %s'?\n",
			cmd, near);
		return EXIT_USAGE;
	}
	return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
