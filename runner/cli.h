/*
 * cli.h - the command-line front end. Each command is one function in its own file
 * (cmd_*.c) listed in the table of main.c; they share the helpers below.
 *
 * Exit codes (every command): 0 success; 1 a stage failed; 2 usage or invalid input;
 * 3 blocked by a security gate; 4 internal, sandbox or scanner error.
 */
#ifndef RUNNER_CLI_H
#define RUNNER_CLI_H

#include "gitinfo.h"

#include <stdbool.h>
#include <stdio.h>

struct pipeline;

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_BLOCKED = 3,
	EXIT_INTERNAL = 4,
};

/*
 * The help of a command that has subcommands (cli_help.c): `runner CMD --help` is an
 * overview (each subcommand's synopsis and summary), `runner CMD SUB --help` the
 * subcommand's own usage, description, options and exit codes. Each option's text is
 * written once, in the command's table of options; a subcommand lists the keys of the
 * ones it takes.
 */
struct cli_flag {
	const char *key;  /* what a subcommand's list names it by, e.g. "db" or "format-sarif" */
	const char *left; /* "-o, --output FILE", "--db PATH", "-C DIR" */
	const char *text; /* one paragraph, wrapped when printed; '\n' breaks a line */
};

struct cli_sub {
	const char *name;
	const char *summary;	  /* its line in the overview */
	const char *synopsis;	  /* lines "runner CMD SUB ...", each ending in '\n' */
	const char *about;	  /* what it does: paragraphs, wrapped as written */
	const char *const *flags; /* keys of the command's flags it takes, NULL-terminated */
	const char *exits;	  /* "Exit codes: ...", wrapped as written */
};

struct cli_help {
	const char *name;
	const char *about;	      /* the overview's description */
	const struct cli_flag *flags; /* ends with a NULL key */
	const struct cli_sub *subs;   /* ends with a NULL name */
	const char *exits;	      /* the overview's exit codes */
};

/* The subcommand of h named name, or NULL. */
const struct cli_sub *cli_help_sub(const struct cli_help *h, const char *name);

/* Print `runner NAME SUB --help` (sub non-NULL) or the overview `runner NAME --help`. */
void cli_help_print(FILE *f, const struct cli_help *h, const struct cli_sub *sub);

struct command {
	const char *name;
	const char *summary;
	const char *usage;	     /* the text of `runner NAME --help`, or NULL: */
	const struct cli_help *help; /* a command with subcommands */
	int (*fn)(int argc, char **argv);
	bool hidden;
};

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_hook(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_job(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_scan_deps(int argc, char **argv);
int cmd_sbom(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);

extern const char cmd_run_usage[];
extern const char cmd_validate_usage[];
extern const char cmd_graph_usage[];
extern const char cmd_serve_usage[];
extern const char cmd_sbom_usage[];
extern const struct cli_help cmd_hook_help;
extern const struct cli_help cmd_db_help;
extern const struct cli_help cmd_scan_help;
extern const struct cli_help cmd_image_help;
extern const struct cli_help cmd_sandbox_help;

/*
 * A command's options (cli_opts.c), GNU style for every command: options and operands in
 * any order, whatever POSIXLY_CORRECT says; `--` ends the options; long options by
 * unambiguous prefix and as --name=value. cli_getopt_init() starts (shortopts as for
 * getopt, without a leading '+', '-' or ':'; cmd names the command in usage errors, e.g.
 * "scan deps"), then cli_getopt() is getopt_long() on argv (argv[0] the command's own
 * word): the next option, optarg set; -1 when there is none left, and then
 * argv[optind..argc) are the operands in the order given. An unknown or ambiguous
 * option, a value for one that takes none, or a missing value is said on stderr (a usage
 * error, with the hint) and returns '?': the caller returns EXIT_USAGE. So does `--help`
 * or `-h` read as an option (not as an option's value, nor after `--`), without a word:
 * cli_help_requested() is then true, and main() prints the help of cmd, exit 0: a
 * subcommand's own ("scan deps") when cmd names one, else the command's.
 * cli_help_topic() is that cmd; a command whose subcommand is known only after some
 * operands (hook) may name it with cli_help_set_topic() before it returns.
 * shortopts must not hold 'h', nor a long option's val be 'h'.
 */
struct cli_getopt {
	const char *cmd;
	int n_operands; /* moved to argv[1..] so far */
	char optstring[64];
};
struct option;
void cli_getopt_init(struct cli_getopt *g, const char *cmd, const char *shortopts);
int cli_getopt(struct cli_getopt *g, int argc, char **argv, const struct option *longopts);
bool cli_help_requested(void);
const char *cli_help_topic(void);
void cli_help_set_topic(const char *cmd);

/* Print "runner: <msg>" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Find and load the pipeline: `file` if given, else .runner.yml then runner.yml in the
 * current directory. Prints diagnostics. Returns 0, EXIT_USAGE (invalid pipeline / not
 * found) or EXIT_INTERNAL.
 */
int cli_load_pipeline(const char *file, struct pipeline **out);

/*
 * `runner run --rev REV` (cli_rev.c): export REV of the repository around the current
 * directory into a fresh temporary workspace. Prints diagnostics. Returns EXIT_OK,
 * EXIT_USAGE (no such revision) or EXIT_INTERNAL. cli_rev_release() removes the workspace.
 */
struct rev_workspace {
	char *dir;	   /* the temporary workspace (absolute) */
	char *record_root; /* <working tree>/.runner */
	struct git_info git;
	char *tracked_list; /* <dir>.files: the commit's files (run_options.tracked_list) */
	bool tracked_unknown;
};
int cli_rev_prepare(const char *rev, const char *branch, struct rev_workspace *ws);
void cli_rev_release(struct rev_workspace *ws);

/*
 * Write a security scan's result (a stage result object) as text, json or sarif, to
 * output (a file, written atomically) or stdout; `what` names the scan ("sast", ...), root
 * is the scanned tree (for repository-relative SARIF URIs). code is the scan's STAGE_EXIT_*;
 * returns the command's exit code (0, 3 or 4).
 */
struct json_t;
int cli_scan_output(const char *what, const char *root, struct json_t *result, int code,
		    const char *format, const char *output);

/* `runner scan --no-sandbox`: the warning on stderr before the scan, and the marker in a
 * result ("no_sandbox": true and a "warning", which the SARIF log carries too). */
void cli_scan_warn_unconfined(void);
void cli_scan_mark_unconfined(struct json_t *result);

/* `runner scan deps` and `runner sbom` (runner/cmd_scan_deps.c): the dependency-scan kind's
 * worker on a scanbox's root. */
struct cli_deps {
	const char *cmd;    /* for usage errors: "scan deps", "sbom" */
	const char *what;   /* for the error: "<what> failed: ..." */
	char *const *paths; /* the PATH arguments (none: the root) */
	size_t n_paths;
	bool use_db; /* the advisory database db (NULL: the default) is bound */
	const char *db;
	const char *baseline; /* or NULL */
	/* --maven-repository DIR, or NULL: bound read-only when outside the root. */
	const char *maven_repository;
};

/*
 * Run the worker with with (the kind's settings; the paths and the baseline are added)
 * in sb. Returns EXIT_OK with *result the worker's result (caller decrefs) and *code its
 * STAGE_EXIT_PASSED or STAGE_EXIT_BLOCKED; else EXIT_USAGE (a PATH outside the root) or
 * EXIT_INTERNAL (the scan failed, or its sandbox could not start), said on stderr.
 */
struct scanbox;
int cli_deps_scan(struct scanbox *sb, const struct cli_deps *d, struct json_t *with,
		  struct json_t **result, int *code);

/* Whether a worker's result says that no lockfile was found (its stats count none): what
 * --allow-no-lockfiles lets pass, and the commands say on stderr. */
bool cli_deps_found_none(const struct json_t *result);

/* The SBOM document of a worker's result ("sbom_document") as JSON text (caller frees),
 * marked in its metadata's properties when the worker ran unconfined; NULL if there is
 * none. */
char *cli_deps_sbom_text(const struct json_t *result, bool unconfined);

/* The options every pipeline command shares: -f FILE and -C DIR. */
struct cli_common {
	const char *file;
	const char *dir;
};

/* Take getopt's option c if it is -f or -C. Returns true when it was one of them. */
bool cli_common_opt(struct cli_common *co, int c, const char *arg);

/*
 * After the option loop: refuse leftover arguments and change to -C DIR. Returns EXIT_OK
 * or EXIT_USAGE (with the message printed).
 */
int cli_common_finish(const struct cli_common *co, const char *cmd, int argc, char **argv);

/* Whether stderr gets colour. */
bool cli_color_stderr(void);

#endif
