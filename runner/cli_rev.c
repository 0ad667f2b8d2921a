/*
 * cli_rev.c - `runner run --rev REV`: run the pipeline on a commit, not on the working
 * tree. The commit's tree is exported (and verified) into a fresh temporary directory,
 * which becomes the workspace; the run record still goes to the working tree's .runner/
 * so that the user finds it where `runner run` puts it. The temporary workspace is
 * removed afterwards, also when SIGINT, SIGTERM or SIGHUP ends the process first.
 */
#include "cli.h"

#include "diag.h"
#include "gitexport.h"
#include "output.h"
#include "util.h"

#include <git2.h>
#include <stdio.h>
#include <unistd.h>

#include "banned.h"

/* The branch a revision stands for: itself if it is a local branch, else the current
 * branch when HEAD is that very commit, else none. */
static char *branch_of(const char *dir, const char *rev, const char *commit)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	char *branch = NULL;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		goto out;
	}
	const char *name = str_has_prefix(rev, "refs/heads/") ? rev + 11 : rev;
	if (git_branch_lookup(&ref, repo, name, GIT_BRANCH_LOCAL) == 0) {
		branch = xstrdup(name);
		goto out;
	}
	if (git_repository_head(&ref, repo) == 0 && git_reference_is_branch(ref)) {
		git_object *obj = NULL;
		char hex[41];
		if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
			git_oid_tostr(hex, sizeof(hex), git_object_id(obj));
			if (str_eq(hex, commit)) {
				branch = xstrdup(git_reference_shorthand(ref));
			}
			git_object_free(obj);
		}
	}
out:
	git_reference_free(ref);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return branch;
}

int cli_rev_prepare(const char *rev, const char *branch, struct rev_workspace *ws)
{
	struct diag_list dl;
	char commit[41];
	_cleanup_free_ char *workdir = NULL, *derived = NULL;
	memset(ws, 0, sizeof(*ws));
	diag_list_init(&dl, 10);
	int ret = EXIT_OK;
	if (gitexport_resolve(".", rev, commit, &workdir, &dl) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	/* Absolute (the list of its files beside it is bound into the scans by its path), and
	 * tracked: an interrupt while the commit is written out (a large one takes a while)
	 * must not leave the copy behind. Once stages run, the run's own handling stops them
	 * first. */
	ws->dir = tmp_dir_tracked("runner-rev");
	if (!ws->dir) {
		diag_error(&dl, NULL, 0, 0, "set TMPDIR to a writable directory",
			   "cannot create a temporary workspace: %s", strerror(errno));
		ret = EXIT_INTERNAL;
		goto out;
	}
	if (!workdir) {
		workdir = realpath(".", NULL); /* a bare repository */
	}
	int r = workdir ? gitexport_commit(workdir, commit, ws->dir, &dl) : -errno;
	if (r < 0) {
		ret = r == -ENOENT || r == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
		goto out;
	}
	/* Beside the workspace, not in it. Failing to list the files reads no .gitignore: more
	 * is scanned, not less. */
	ws->tracked_list = xasprintf("%s.files", ws->dir);
	tmp_track(ws->tracked_list);
	ws->tracked_unknown = gitexport_write_file_list(workdir, commit, ws->tracked_list) < 0;
	derived = branch ? NULL : branch_of(".", rev, commit);
	git_info_for_commit(".", commit, branch ? branch : derived, &ws->git);
	ws->record_root = xasprintf("%s/.runner", workdir);
out:
	if (dl.n) {
		output_diags(stderr, &dl, NULL, 0, cli_color_stderr());
	}
	diag_list_release(&dl);
	return ret;
}

void cli_rev_release(struct rev_workspace *ws)
{
	if (ws->dir) {
		rm_rf(ws->dir);
		tmp_untrack(ws->dir);
	}
	free(ws->dir);
	free(ws->record_root);
	if (ws->tracked_list) {
		unlink(ws->tracked_list);
		tmp_untrack(ws->tracked_list);
	}
	free(ws->tracked_list);
	git_info_release(&ws->git);
	memset(ws, 0, sizeof(*ws));
}
