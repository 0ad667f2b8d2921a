/*
 * cmd_run.c - `runner run`: run the pipeline of this working tree.
 *
 * The run holds the lock of the workspace's run record (run_options.lock) until its record
 * is complete: a second run of the workspace meanwhile exits 4 before it starts, or waits
 * up to --wait for the first to end.
 */
#include "cli.h"

#include "diag.h"
#include "gitexport.h"
#include "output.h"
#include "pipeline.h"
#include "run.h"
#include "secrets.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>

#include "banned.h"

const char cmd_run_usage[] =
	"usage: runner run [-f FILE] [-C DIR] [-j N] [--stage NAME]... [--fail-fast]\n"
	"                  [--json] [--no-color] [--event EVENT] [--branch BRANCH]\n"
	"                  [--secrets FILE] [--env NAME=VALUE]... [--rev REV]\n"
	"                  [--min-free SIZE] [--no-sandbox] [--wait DURATION]\n"
	"\n"
	"Run the pipeline in its directory (the workspace) and write a run record under\n"
	".runner/runs/<run-id>/ (report.json, junit.xml, one log per stage). Runs of one\n"
	"workspace go one at a time: while another holds .runner/lock, a run does not\n"
	"start (exit 4) unless --wait lets it wait.\n"
	"\n"
	"  -f, --file FILE     the pipeline file (default: .runner.yml, then runner.yml)\n"
	"  -C DIR              change to DIR first\n"
	"  -j, --jobs N        run at most N stages at once (default: number of CPUs)\n"
	"      --stage NAME    run only NAME and the stages it needs (repeatable)\n"
	"      --fail-fast     cancel running stages after the first failure\n"
	"      --json          print JSON lines (events) instead of text\n"
	"      --no-color      no colours or progress line\n"
	"      --event EVENT   the event seen by `if:` conditions (default: local)\n"
	"      --branch NAME   the branch seen by `if:` conditions (default: from git)\n"
	"      --secrets FILE  secrets file (default: ~/.config/runner/secrets.yml;\n"
	"                      must be mode 0600 and yours); RUNNER_SECRET_<NAME> also works\n"
	"      --rev REV       run on the tree of commit REV (exported to a temporary\n"
	"                      workspace), not on the working tree; -f is then relative to\n"
	"                      the repository root\n"
	"      --env NAME=VALUE  set the pipeline's env entry NAME to VALUE for this run\n"
	"                      (NAME must be declared in the pipeline's env; repeatable)\n"
	"      --min-free SIZE keep SIZE free on the file systems of the workspace and the\n"
	"                      run record: stages are stopped below it (default: 1G, or\n"
	"                      5% of a smaller file system; 0: no floor)\n"
	"      --no-sandbox    run stages WITHOUT isolation: for local debugging only; the\n"
	"                      run is marked in its report (see docs/sandbox.md)\n"
	"      --wait DURATION when another run is using the workspace, wait up to\n"
	"                      DURATION (such as 30s or 10m; at most 24h) for it to end\n"
	"\n"
	"Exit codes: 0 passed, 1 a stage failed, 2 usage or invalid pipeline,\n"
	"3 blocked by a security gate, 4 internal error or another run using the workspace,\n"
	"129/130/143 interrupted (SIGHUP, SIGINT, SIGTERM).\n";

/* The longest --wait: a day. */
#define RUN_WAIT_MAX_MS (24ull * 3600 * 1000)

extern char **environ;

static void say_waiting(const char *holder)
{
	fprintf(stderr, "runner: %s is using this workspace; waiting for it to end\n", holder);
}

/* Whether the directory of file (relative, in the current directory: an exported commit)
 * lies inside it once its symbolic links are followed: the commit chooses its links, and
 * the pipeline and the workspace must be the commit's own. */
static bool rev_file_inside(const char *file)
{
	_cleanup_free_ char *dir = xstrdup(file);
	char *slash = strrchr(dir, '/');
	if (!slash) {
		return true;
	}
	*slash = '\0';
	_cleanup_free_ char *real = realpath(dir, NULL);
	if (!real) {
		return errno == ENOENT || errno == ENOTDIR; /* missing: said when it is loaded */
	}
	_cleanup_free_ char *root = realpath(".", NULL);
	size_t n = root ? strlen(root) : 0;
	return root && strncmp(real, root, n) == 0 && (real[n] == '/' || !real[n]);
}

/*
 * A workspace below its repository's root (a pipeline in a subdirectory): the sandbox shows
 * the scans the workspace, not the .git above it, so the index's list of tracked files is
 * written for them (a force-added file stays scanned whatever .gitignore says), into a
 * fresh temporary directory *tmpdir. Sets ro's tracked_* fields; nothing for a workspace
 * that is not in a repository or holds its .git directory itself.
 */
static void index_list_for(const char *ws, struct run_options *ro, char **tmpdir, char **list,
			   char **root)
{
	struct stat st;
	_cleanup_free_ char *dotgit = xasprintf("%s/.git", ws);
	if (lstat(dotgit, &st) == 0 && S_ISDIR(st.st_mode)) {
		return; /* (a .git file, of a worktree, leads outside the workspace) */
	}
	/* Where no stage can write: an absolute TMPDIR (else /tmp; script stages get a /tmp
	 * of their own), not inside the workspace (then no list: .gitignore is not read). */
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *real_ws = realpath(ws, NULL);
	_cleanup_free_ char *base = realpath(tmp && tmp[0] == '/' ? tmp : "/tmp", NULL);
	size_t n = real_ws ? strlen(real_ws) : 0;
	if (!real_ws || !base ||
	    (strncmp(base, real_ws, n) == 0 && (base[n] == '/' || base[n] == '\0'))) {
		ro->tracked_unknown = true;
		return;
	}
	*tmpdir = xasprintf("%s/runner-index-XXXXXX", base);
	if (!mkdtemp(*tmpdir)) {
		free(*tmpdir);
		*tmpdir = NULL;
		ro->tracked_unknown = true;
		return;
	}
	*list = xasprintf("%s/files", *tmpdir);
	int r = gitexport_write_index_list(ws, *list, root);
	if (r == 0) {
		ro->tracked_list = *list;
		ro->tracked_root = *root;
	} else if (r != -ENOENT) {
		ro->tracked_unknown = true; /* .gitignore is then not read at all */
	}
	if (r < 0) {
		/* Not needed through the run (nor left behind if the runner is killed). */
		rm_rf(*tmpdir);
		free(*tmpdir);
		*tmpdir = NULL;
	}
}

int cmd_run(int argc, char **argv)
{
	enum {
		OPT_STAGE = 256,
		OPT_JSON,
		OPT_NO_COLOR,
		OPT_FAIL_FAST,
		OPT_EVENT,
		OPT_BRANCH,
		OPT_SECRETS,
		OPT_REV,
		OPT_ENV,
		OPT_NO_SANDBOX,
		OPT_MIN_FREE,
		OPT_WAIT,
	};
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "fail-fast", no_argument, NULL, OPT_FAIL_FAST },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "branch", required_argument, NULL, OPT_BRANCH },
		{ "secrets", required_argument, NULL, OPT_SECRETS },
		{ "rev", required_argument, NULL, OPT_REV },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		{ "min-free", required_argument, NULL, OPT_MIN_FREE },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *dir = NULL, *secrets_file = NULL, *rev = NULL;
	struct rev_workspace ws = { 0 };
	struct run_options ro = {
		.cancel_fd = -1,
		.handle_signals = true,
		.lock = true,
		.lock_waiting = say_waiting,
	};
	bool json = false, no_color = false;
	const char **only = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_only = 0;
	const char **envs = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_envs = 0;
	int c, ret = EXIT_OK;
	uint64_t jobs;

	struct cli_getopt g;
	cli_getopt_init(&g, "run", "f:C:j:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'C':
			dir = optarg;
			break;
		case 'j':
			if (parse_uint(optarg, 1024, &jobs) < 0 || jobs == 0) {
				free(envs);
				free(only);
				return cli_usage_error("run",
						       "-j takes a number from 1 to 1024, not '%s'",
						       optarg);
			}
			ro.jobs = (unsigned)jobs;
			break;
		case OPT_STAGE:
			only[n_only++] = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_NO_COLOR:
			no_color = true;
			break;
		case OPT_FAIL_FAST:
			ro.fail_fast = true;
			break;
		case OPT_EVENT:
			ro.event = optarg;
			break;
		case OPT_BRANCH:
			ro.branch = optarg;
			break;
		case OPT_SECRETS:
			secrets_file = optarg;
			break;
		case OPT_REV:
			rev = optarg;
			break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				free(only);
				free(envs);
				return cli_usage_error("run", "--env takes NAME=VALUE, not '%s'",
						       optarg);
			}
			envs[n_envs++] = optarg;
			break;
		case OPT_NO_SANDBOX:
			ro.no_sandbox = true;
			break;
		case OPT_MIN_FREE: {
			uint64_t v;
			if (parse_size(optarg, 1ull << 50, true, &v) < 0) {
				free(envs);
				free(only);
				return cli_usage_error(
					"run",
					"--min-free takes a size such as 512M or 2G, not '%s'",
					optarg);
			}
			ro.min_free = v ? v : RUN_MIN_FREE_OFF;
			break;
		}
		case OPT_WAIT:
			if (parse_duration(optarg, RUN_WAIT_MAX_MS, &ro.lock_wait_ms) < 0) {
				free(envs);
				free(only);
				return cli_usage_error(
					"run",
					"--wait takes a duration such as 30s or 10m (at "
					"most 24h), not '%s'",
					optarg);
			}
			break;
		default:
			free(envs);
			free(only);
			return EXIT_USAGE; /* said */
		}
	}
	if (optind < argc) {
		free(envs);
		free(only);
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	}
	if (dir && chdir(dir) < 0) {
		free(envs);
		free(only);
		return cli_usage_error("run", "cannot change to %s: %s", dir, strerror(errno));
	}

	struct pipeline *p = NULL;
	struct secret_store *secrets = secrets_new();
	struct output *out = NULL;
	struct run *r = NULL;
	struct diag_list dl;
	_cleanup_free_ char *default_secrets = NULL, *abs_secrets = NULL;
	char *index_tmp = NULL, *index_list = NULL, *index_root = NULL;
	diag_list_init(&dl, 50);

	if (rev) {
		if (file && !path_is_inside(file)) {
			ret = cli_usage_error("run", "with --rev, -f names a file of the commit: "
						     "give a path relative to the repository root, "
						     "without '..'");
			goto out;
		}
		if (secrets_file && secrets_file[0] != '/') {
			secrets_file = abs_secrets = realpath(secrets_file, NULL);
			if (!abs_secrets) {
				ret = cli_usage_error("run", "--secrets: %s", strerror(errno));
				goto out;
			}
		}
		ret = cli_rev_prepare(rev, ro.branch, &ws);
		if (ret != EXIT_OK) {
			goto out;
		}
		if (chdir(ws.dir) < 0) {
			ret = EXIT_INTERNAL;
			goto out;
		}
		if (!file && access(".runner.yml", F_OK) < 0 && access("runner.yml", F_OK) < 0) {
			/* cli_load_pipeline() would say "in this directory": the directory is
			 * the commit's export, which the user never sees. */
			fprintf(stderr,
				"runner: no pipeline file: commit %s (%s) has neither .runner.yml "
				"nor runner.yml at its root\n"
				"  hint: commit one (see docs/pipeline.md), or name another file "
				"of "
				"the commit with -f FILE (for the pre-push hook: runner hook "
				"install "
				"--force -f FILE); git push --no-verify skips the hook once\n",
				ws.git.commit_short, rev);
			ret = EXIT_USAGE;
			goto out;
		}
		if (file && !rev_file_inside(file)) {
			ret = cli_usage_error("run",
					      "with --rev, -f %s leads out of the commit (through "
					      "a symbolic link in the commit)",
					      file);
			goto out;
		}
		ro.record_root = ws.record_root;
		ro.git = &ws.git;
		ro.tracked_list = ws.tracked_unknown ? NULL : ws.tracked_list;
		ro.tracked_root = ws.dir;
		ro.tracked_unknown = ws.tracked_unknown;
	}
	default_secrets = secrets_default_path();
	const char *spath = secrets_file ? secrets_file : default_secrets;
	if ((spath && secrets_load_file(secrets, spath, secrets_file != NULL, &dl) < 0) ||
	    secrets_load_env(secrets, environ, &dl) < 0) {
		output_diags(stderr, &dl, NULL, 0, cli_color_stderr());
		ret = EXIT_USAGE;
		goto out;
	}
	/* A pipeline's error quotes the pipeline, which may hold a secret's value. */
	output_mask_diags(secrets_mask(secrets));
	ret = cli_load_pipeline(file, &p);
	if (ret != EXIT_OK) {
		goto out;
	}
	if (!rev) {
		index_list_for(p->dir, &ro, &index_tmp, &index_list, &index_root);
	}
	for (size_t k = 0; k < n_envs; k++) {
		size_t nl = (size_t)(strchr(envs[k], '=') - envs[k]);
		bool declared = false;
		for (size_t i = 0; i < p->n_env && !declared; i++) {
			declared = strlen(p->env[i].name) == nl &&
				   strncmp(p->env[i].name, envs[k], nl) == 0;
		}
		if (!declared) {
			ret = cli_usage_error(
				"run",
				"--env %.*s: the pipeline's env has no entry %.*s (only "
				"declared names can be set)",
				(int)nl, envs[k], (int)nl, envs[k]);
			goto out;
		}
	}
	ro.env_overrides = envs;
	ro.n_env_overrides = n_envs;

	if (ro.no_sandbox) {
		fprintf(stderr, "runner: WARNING: --no-sandbox: stages run WITHOUT isolation: no "
				"namespaces, no\n"
				"runner: WARNING: seccomp filter, no limits; a stage can read and "
				"change anything\n"
				"runner: WARNING: you can. For local debugging only; the report is "
				"marked.\n");
	}
	bool color;
	enum output_mode mode = output_detect(stdout, json, no_color, &color);
	out = output_new(stdout, mode, color);
	ro.only = only;
	ro.n_only = n_only;
	ro.secrets = secrets;
	ro.observer = output_observer(out);
	int rr = run_pipeline(p, &ro, &r, &dl);
	if (rr < 0) {
		output_diags(stderr, &dl, p->source, p->source_len, cli_color_stderr());
		ret = rr == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
		goto out;
	}
	output_summary(out, r);
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* main() says so on stderr and exits 4; the record must not say "passed". */
		int err = output_stdout_errno() ? output_stdout_errno() : errno ? errno : EIO;
		_cleanup_free_ char *msg = xasprintf("cannot write the output: %s", strerror(err));
		run_set_error(r, msg);
	}
	ret = r->exit_code;
out:
	run_free(r);
	output_free(out);
	output_mask_diags(NULL);
	secrets_free(secrets);
	pipeline_free(p);
	diag_list_release(&dl);
	cli_rev_release(&ws);
	if (index_tmp) {
		rm_rf(index_tmp);
	}
	free(index_tmp);
	free(index_list);
	free(index_root);
	free(only);
	free(envs);
	return ret;
}
