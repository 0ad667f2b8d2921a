/*
 * cmd_hook.c - `runner hook install|uninstall`: a git pre-push hook that runs the pipeline
 * on exactly what is being pushed.
 *
 * The hook reads git's pre-push lines (<local ref> <local sha> <remote ref> <remote sha>),
 * skips deletions, scans every commit each ref pushes for secrets (`runner scan secrets
 * --history`: <remote sha>..<local sha>, or, when the remote's sha is zeros or not in this
 * repository, <local sha> without what the remote's tracking refs reach) and then runs
 * `runner run --rev <local sha> --wait <wait>` on the tip (a run of this clone's working tree
 * that holds its lock, another push's, is waited for up to <wait>, 30m unless install's
 * --wait says otherwise); the first scan or run that fails or blocks stops the push with
 * its exit code. The fields are
 * taken from the end of the line: <local ref> is what the user typed (`HEAD^{/fix it}`)
 * and may hold spaces; the other three cannot. A line that does not end in a commit id, a
 * ref and a commit id stops the push. The hook file carries a
 * marker line: a hook without it belongs to someone else and is never overwritten or
 * removed unless --force is given (the old hook is then kept as pre-push.runner-backup).
 */
#include "cli.h"

#include "sbuf.h"
#include "util.h"

#include <getopt.h>
#include <git2.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define HOOK_MARKER "# runner-managed pre-push hook"
#define HOOK_MAX    (1u << 20)

/* How long the hook's run waits for another run of the working tree (another push's):
 * by default, and at most (as `runner run --wait`). */
#define HOOK_WAIT_DEFAULT "30m"
#define HOOK_WAIT_MAX_MS  (24ull * 3600 * 1000)

static const struct cli_flag hook_flags[] = {
	{ "C", "-C DIR", "the repository (default: the current directory)" },
	{ "f", "-f, --file FILE", "the pipeline file, relative to the repository root" },
	{ "max-commits", "--max-commits N", "a push of more commits is stopped (default 10000)" },
	{ "wait", "--wait DURATION",
	  "how long a push waits for another push's run (or a `runner run`) of this working "
	  "tree to end before it is stopped (default " HOOK_WAIT_DEFAULT ", at most 24h; 0s: "
	  "not at all)" },
	{ "force-install", "--force",
	  "replace a pre-push hook that runner did not write (the old one is kept as "
	  "pre-push.runner-backup)" },
	{ "force-uninstall", "--force", "remove a pre-push hook that runner did not write" },
	{ NULL, NULL, NULL },
};

static const char *const install_flags[] = {
	"C", "f", "max-commits", "wait", "force-install", NULL
};
static const char *const uninstall_flags[] = { "C", "force-uninstall", NULL };

#define HOOK_EXITS \
	"Exit codes: 0 done, 2 not a repository or a foreign hook is in the way, 4 internal.\n"

static const struct cli_sub hook_subs[] = {
	{ "install", "make `git push` scan and run the pipeline on what it pushes",
	  "runner hook install [-C DIR] [-f FILE] [--max-commits N] [--wait DURATION]\n"
	  "                    [--force]\n",
	  "Install a git pre-push hook that, for every pushed ref, scans each commit the\n"
	  "remote does not have yet for secrets (`runner scan secrets --history`), then runs\n"
	  "`runner run --rev <sha>` on the commit at its tip, and stops the push when a secret\n"
	  "is found, a stage fails or a security gate blocks. Runs of one working tree go\n"
	  "one at a time: a push while another push's run (or a `runner run`) holds the\n"
	  "workspace waits for it, up to --wait. Skip it once with `git push --no-verify`.\n",
	  install_flags, HOOK_EXITS },
	{ "uninstall", "remove the hook `runner hook install` wrote",
	  "runner hook uninstall [-C DIR] [--force]\n",
	  "Remove the pre-push hook that `runner hook install` wrote; one that runner did not\n"
	  "write is left in place unless --force is given.\n",
	  uninstall_flags, HOOK_EXITS },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_help cmd_hook_help = {
	"hook",
	"The git pre-push hook: `git push` scans what it pushes for secrets and runs the\n"
	"pipeline on it, and is stopped when a secret is found, a stage fails or a security\n"
	"gate blocks.\n",
	hook_flags,
	hook_subs,
	HOOK_EXITS,
};

/* Single-quote s for /bin/sh. */
static void sh_quote(struct sbuf *sb, const char *s)
{
	sbuf_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'') {
			sbuf_puts(sb, "'\\''");
		} else {
			sbuf_putc(sb, *s);
		}
	}
	sbuf_putc(sb, '\'');
}

static char *hook_script(const char *runner, const char *file, uint64_t max_commits,
			 const char *wait)
{
	struct sbuf sb;
	sbuf_init(&sb, HOOK_MAX);
	sbuf_puts(&sb,
		  "#!/bin/sh\n" HOOK_MARKER "\n"
		  "# Written by `runner hook install`; remove it with `runner hook uninstall`.\n"
		  "# Scans every commit a ref pushes for secrets (runner scan secrets --history),\n"
		  "# runs the pipeline on its tip (runner run --rev), and stops the push when a\n"
		  "# secret is found, a stage fails or a security gate blocks.\n"
		  "# Skip once with: git push --no-verify\n"
		  "runner=");
	sh_quote(&sb, runner);
	/* Not whatever `runner` comes first on PATH: another program of that name exiting 0
	 * would let every push through untested. */
	sbuf_puts(&sb, "\nif [ ! -x \"$runner\" ]; then\n"
		       "\techo \"runner: pre-push: $runner is gone; run 'runner hook install "
		       "--force' again (or push once with --no-verify)\" >&2\n"
		       "\texit 1\n"
		       "fi\n");
	if (file) {
		sbuf_puts(&sb, "file=");
		sh_quote(&sb, file);
		sbuf_puts(&sb, "\n");
	}
	if (max_commits) {
		sbuf_printf(&sb, "max_commits=%llu\n", (unsigned long long)max_commits);
	}
	/* Another push's run holds the working tree's lock: wait for it, not stop this push. */
	sbuf_puts(&sb, "wait=");
	sh_quote(&sb, wait);
	sbuf_puts(&sb, "\n");
	sbuf_puts(&sb,
		  "remote_name=$1\n"
		  "status=0\n"
		  "while IFS= read -r line; do\n"
		  "\t# From the end: the local ref is as typed, and may hold spaces.\n"
		  "\trest=$line\n"
		  "\tremote_sha=${rest##* }; rest=${rest% *}\n"
		  "\tremote_ref=${rest##* }; rest=${rest% *}\n"
		  "\tlocal_sha=${rest##* }\n"
		  "\tcase \"${#local_sha}:${#remote_sha}\" in 40:40 | 64:64) ;; *) status=1 ;; "
		  "esac\n"
		  "\tcase \"$local_sha$remote_sha\" in *[!0-9a-f]*) status=1 ;; esac\n"
		  "\tcase \"$remote_ref\" in refs/*) ;; *) status=1 ;; esac\n"
		  "\tif [ \"$status\" -ne 0 ]; then\n"
		  "\t\techo \"runner: pre-push: cannot read git's line: $line\" >&2\n"
		  "\t\tbreak\n"
		  "\tfi\n"
		  "\tcase \"$local_sha\" in *[!0]*) ;; *) continue ;; esac # a deletion\n"
		  "\t# Every commit the remote lacks: those since its old tip when this\n"
		  "\t# repository has it, else those no tracking ref of the remote reaches.\n"
		  "\trange=\n"
		  "\tcase \"$remote_sha\" in *[!0]*)\n"
		  "\t\tif git cat-file -e \"$remote_sha^{commit}\" 2>/dev/null; then\n"
		  "\t\t\trange=$remote_sha..$local_sha\n"
		  "\t\tfi ;;\n"
		  "\tesac\n"
		  "\tif [ -n \"$range\" ]; then\n"
		  "\t\tset -- --history \"$range\"\n"
		  "\telse\n"
		  "\t\tset -- --history \"$local_sha\" --not-remote \"$remote_name\"\n"
		  "\tfi\n");
	if (max_commits) {
		sbuf_puts(&sb, "\tset -- \"$@\" --max-commits \"$max_commits\"\n");
	}
	sbuf_puts(
		&sb,
		"\techo \"runner: pre-push: scanning the commits of $remote_ref for secrets\" >&2\n"
		"\t\"$runner\" scan secrets \"$@\" </dev/null >&2 || status=$?\n"
		"\tif [ \"$status\" -ne 0 ]; then\n"
		"\t\techo \"runner: pre-push: $remote_ref not pushed (exit $status)\" >&2\n"
		"\t\tbreak\n"
		"\tfi\n"
		"\tcase \"$remote_ref\" in\n"
		"\trefs/heads/*) set -- --branch \"${remote_ref#refs/heads/}\" ;;\n"
		"\t*) set -- ;;\n"
		"\tesac\n");
	if (file) {
		sbuf_puts(&sb, "\tset -- \"$@\" -f \"$file\"\n");
	}
	sbuf_puts(&sb, "\techo \"runner: pre-push: testing $local_sha ($remote_ref)\" >&2\n"
		       "\t\"$runner\" run --rev \"$local_sha\" --event push --no-color "
		       "--wait \"$wait\" \"$@\" "
		       "</dev/null >&2 || status=$?\n"
		       "\tif [ \"$status\" -ne 0 ]; then\n"
		       "\t\techo \"runner: pre-push: $remote_ref not pushed (exit $status)\" >&2\n"
		       "\t\tbreak\n"
		       "\tfi\n"
		       "done\n"
		       "exit \"$status\"\n");
	return sbuf_steal(&sb);
}

/* The hooks directory of the repository at dir (core.hooksPath respected). */
static int hooks_dir(const char *dir, char **out)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf buf = { 0 };
	int ret = 0;
	*out = NULL;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		ret = -ENOENT;
		goto out;
	}
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_path(&buf, cfg, "core.hooksPath") == 0) {
		/* As git takes it: relative to where hooks run, the working tree, or the git
		 * directory of a bare repository. Empty, git looks for "/pre-push". */
		const char *base = git_repository_workdir(repo);
		if (!base) {
			base = git_repository_path(repo);
		}
		if (!buf.size) {
			ret = -EINVAL;
		} else if (buf.ptr[0] == '/') {
			*out = xstrdup(buf.ptr);
		} else {
			*out = xasprintf("%s%s", base, buf.ptr);
		}
	} else if (git_repository_item_path(&buf, repo, GIT_REPOSITORY_ITEM_HOOKS) == 0) {
		*out = xstrdup(buf.ptr);
	} else {
		ret = -ENOENT;
	}
out:
	git_buf_dispose(&buf);
	git_config_free(cfg);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/* The pipeline the hook will look for: -f FILE, else .runner.yml, then runner.yml (as
 * `runner run` does) at the repository's root. Warn when HEAD lacks it: every push of a
 * commit without one is stopped (exit 2), which should not come as a surprise. Only a
 * warning: the pipeline may be committed next. */
static void warn_without_pipeline(const char *dir, const char *file)
{
	static const char *const defaults[] = { ".runner.yml", "runner.yml" };
	const char *const *names = file ? &file : defaults;
	size_t n = file ? 1 : 2;
	const char *work;
	bool unborn;
	git_repository *repo = NULL;
	git_object *tree = NULL;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		goto out;
	}
	unborn = git_revparse_single(&tree, repo, "HEAD^{tree}") < 0;
	work = git_repository_workdir(repo);
	bool in_head = false;
	const char *in_work = NULL;
	for (size_t i = 0; i < n; i++) {
		git_tree_entry *e = NULL;
		if (!unborn && git_tree_entry_bypath(&e, (git_tree *)tree, names[i]) == 0) {
			in_head |= git_tree_entry_type(e) == GIT_OBJECT_BLOB;
			git_tree_entry_free(e);
		}
		_cleanup_free_ char *p = work ? xasprintf("%s%s", work, names[i]) : NULL;
		if (p && !in_work && access(p, F_OK) == 0) {
			in_work = names[i];
		}
	}
	if (in_head) {
		goto out;
	} else if (in_work) {
		fprintf(stderr,
			"runner: warning: %s is not committed yet: a push of a commit without it "
			"is stopped\n"
			"  hint: commit it before you push\n",
			in_work);
	} else if (file) {
		fprintf(stderr,
			"runner: warning: neither HEAD nor the working tree has %s: every push "
			"is stopped until the pushed commit has it\n"
			"  hint: commit it, or install with -f naming the pipeline file\n",
			file);
	} else {
		fprintf(stderr,
			"runner: warning: neither HEAD nor the working tree has a pipeline "
			"(.runner.yml or runner.yml): every push is stopped until the pushed "
			"commit has one\n"
			"  hint: commit one, or install with -f FILE naming yours\n");
	}
out:
	git_object_free(tree);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

/* Whether a hook is ours: it starts as hook_script() writes it (a foreign hook that merely
 * mentions the marker somewhere is not). */
static bool hook_is_ours(const char *text)
{
	return str_has_prefix(text, "#!/bin/sh\n" HOOK_MARKER "\n");
}

/* A backup name for a foreign hook that does not replace an earlier backup. */
static char *backup_name(const char *path)
{
	char *b = xasprintf("%s.runner-backup", path);
	for (int i = 2; access(b, F_OK) == 0 || errno != ENOENT; i++) {
		free(b);
		if (i > 99) {
			return NULL;
		}
		b = xasprintf("%s.runner-backup.%d", path, i);
	}
	return b;
}

/* Whether path is a symbolic link (one whose target is missing included): never ours. */
static bool is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int hook_install(const char *repo_dir, const char *path, const char *file,
			uint64_t max_commits, const char *wait, bool force)
{
	_cleanup_free_ char *old = NULL;
	size_t len = 0;
	bool link = is_link(path);
	int r = link ? 0 : read_file_capped(path, HOOK_MAX, &old, &len);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "runner: cannot read %s: %s\n", path, strerror(-r));
		return EXIT_INTERNAL;
	}
	if (r == 0 && (link || !hook_is_ours(old))) {
		if (!force) {
			fprintf(stderr,
				"runner: %s exists and was not written by runner\n"
				"  hint: call runner from it yourself, or use --force to replace "
				"it "
				"(it is kept as pre-push.runner-backup)\n",
				path);
			return EXIT_USAGE;
		}
		/* An earlier backup (of another foreign hook) is kept too. */
		_cleanup_free_ char *backup = backup_name(path);
		if (!backup) {
			fprintf(stderr, "runner: too many backups of %s already\n", path);
			return EXIT_INTERNAL;
		}
		if (rename(path, backup) < 0) {
			fprintf(stderr, "runner: cannot keep the old hook as %s: %s\n", backup,
				strerror(errno));
			return EXIT_INTERNAL;
		}
		fprintf(stderr, "runner: the old hook is now %s\n", backup);
	}
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "runner: cannot find the runner binary: %s\n", strerror(errno));
		return EXIT_INTERNAL;
	}
	self[n] = '\0';
	_cleanup_free_ char *script = hook_script(self, file, max_commits, wait);
	_cleanup_free_ char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if ((r = mkdir_p(dir, 0755)) < 0 ||
	    (r = write_file_atomic(path, script, strlen(script), 0755)) < 0) {
		fprintf(stderr, "runner: cannot write %s: %s\n", path, strerror(-r));
		return EXIT_INTERNAL;
	}
	printf("installed %s\n", path);
	warn_without_pipeline(repo_dir, file);
	return EXIT_OK;
}

static int hook_uninstall(const char *path, bool force)
{
	_cleanup_free_ char *old = NULL;
	size_t len = 0;
	bool link = is_link(path);
	int r = link ? 0 : read_file_capped(path, HOOK_MAX, &old, &len);
	if (r == -ENOENT) {
		printf("no pre-push hook in %s\n", path);
		return EXIT_OK;
	}
	if (r < 0) {
		fprintf(stderr, "runner: cannot read %s: %s\n", path, strerror(-r));
		return EXIT_INTERNAL;
	}
	if ((link || !hook_is_ours(old)) && !force) {
		fprintf(stderr,
			"runner: %s was not written by runner; leaving it alone\n"
			"  hint: use --force to remove it anyway\n",
			path);
		return EXIT_USAGE;
	}
	if (unlink(path) < 0) {
		fprintf(stderr, "runner: cannot remove %s: %s\n", path, strerror(errno));
		return EXIT_INTERNAL;
	}
	printf("removed %s\n", path);
	return EXIT_OK;
}

int cmd_hook(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'F' },
		{ "file", required_argument, NULL, 'f' },
		{ "max-commits", required_argument, NULL, 'M' },
		{ "wait", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".", *file = NULL, *wait = NULL;
	uint64_t max_commits = 0;
	bool force = false;
	int c;
	/* The action is an operand, most often the first word: then usage errors name it,
	 * for their hint to be its help. */
	const char *cmd = argc > 1 && str_eq(argv[1], "install")     ? "hook install"
			  : argc > 1 && str_eq(argv[1], "uninstall") ? "hook uninstall"
								     : "hook";
	struct cli_getopt g;
	cli_getopt_init(&g, cmd, "C:f:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'C':
			dir = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'F':
			force = true;
			break;
		case 'M':
			if (parse_uint(optarg, 10000000, &max_commits) < 0 || max_commits == 0) {
				return cli_usage_error(cmd,
						       "--max-commits takes a number from 1 to "
						       "10000000");
			}
			break;
		case 'W': {
			uint64_t ms;
			if (parse_duration(optarg, HOOK_WAIT_MAX_MS, &ms) < 0) {
				return cli_usage_error(cmd,
						       "--wait takes a duration such as 30s or "
						       "10m (at most 24h), not '%s'",
						       optarg);
			}
			wait = optarg;
			break;
		}
		default:
			/* --help after the action (`runner hook -C DIR install --help`): its
			 * help. The operands read so far are argv[1..]. */
			for (int i = 1; cli_help_requested() && i <= g.n_operands; i++) {
				if (str_eq(argv[i], "install") || str_eq(argv[i], "uninstall")) {
					cli_help_set_topic(str_eq(argv[i], "install")
								   ? "hook install"
								   : "hook uninstall");
					break;
				}
			}
			return EXIT_USAGE; /* said */
		}
	}
	if (optind != argc - 1) {
		return cli_usage_error(cmd, "say `install` or `uninstall`");
	}
	const char *action = argv[optind];
	if (!str_eq(action, "install") && !str_eq(action, "uninstall")) {
		return cli_usage_error(cmd, "unknown action '%s' (install or uninstall)", action);
	}
	if (max_commits && str_eq(action, "uninstall")) {
		return cli_usage_error(cmd, "--max-commits is for install");
	}
	if (wait && str_eq(action, "uninstall")) {
		return cli_usage_error(cmd, "--wait is for install");
	}
	if (file && (!path_is_inside(file) || str_eq(action, "uninstall"))) {
		return cli_usage_error(cmd, "-f takes a path relative to the repository root "
					    "(without '..'), for install");
	}
	_cleanup_free_ char *hooks = NULL;
	int hr = hooks_dir(dir, &hooks);
	if (hr == -EINVAL) {
		fprintf(stderr, "runner: core.hooksPath is set but empty: git would look for "
				"/pre-push\n"
				"  hint: unset it (git config --unset core.hooksPath) or give it a "
				"directory\n");
		return EXIT_USAGE;
	}
	if (hr < 0) {
		fprintf(stderr,
			"runner: %s is not inside a git repository\n"
			"  hint: run it in the repository, or use -C DIR\n",
			dir);
		return EXIT_USAGE;
	}
	size_t n = strlen(hooks);
	while (n > 1 && hooks[n - 1] == '/') {
		hooks[--n] = '\0';
	}
	_cleanup_free_ char *path = xasprintf("%s/pre-push", hooks);
	return str_eq(action, "install") ? hook_install(dir, path, file, max_commits,
							wait ? wait : HOOK_WAIT_DEFAULT, force)
					 : hook_uninstall(path, force);
}
