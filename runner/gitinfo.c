/*
 * gitinfo.c - commit, branch, tag and origin URL of the workspace, read with libgit2.
 */
#include "gitinfo.h"

#include "gitexport.h"

#include "util.h"

#include <git2.h>
#include <stdio.h>

#include "banned.h"

struct tag_search {
	git_repository *repo;
	git_odb *odb;
	const git_oid *head;
	char *best;
};

/* Annotated tags larger than this, and chains of tags longer, are not followed. */
#define TAG_OBJECT_MAX (64u << 10)
#define TAG_CHAIN_MAX  8

/*
 * Whether the tag at oid leads to the commit head. Only object headers are read and tag
 * objects parsed: a tag may point at anything, a blob of gigabytes of zeros included
 * (a few megabytes in the repository), which looking it up would inflate whole.
 */
static bool tag_leads_to(git_repository *repo, git_odb *odb, const git_oid *oid,
			 const git_oid *head)
{
	git_oid cur = *oid;
	for (int depth = 0; depth < TAG_CHAIN_MAX; depth++) {
		size_t size;
		git_object_t type;
		if (git_odb_read_header(&size, &type, odb, &cur) < 0) {
			return false;
		}
		if (type == GIT_OBJECT_COMMIT) {
			return git_oid_equal(&cur, head);
		}
		if (type != GIT_OBJECT_TAG || size > TAG_OBJECT_MAX) {
			return false;
		}
		git_tag *tag = NULL;
		if (git_tag_lookup(&tag, repo, &cur) < 0) {
			return false;
		}
		git_oid_cpy(&cur, git_tag_target_id(tag));
		git_tag_free(tag);
	}
	return false;
}

static int on_tag(const char *name, git_oid *oid, void *payload)
{
	struct tag_search *ts = payload;
	if (tag_leads_to(ts->repo, ts->odb, oid, ts->head)) {
		const char *short_name = str_has_prefix(name, "refs/tags/") ? name + 10 : name;
		/* Deterministic choice among several tags: the greatest name. */
		if (!ts->best || strcmp(short_name, ts->best) > 0) {
			free(ts->best);
			ts->best = xstrdup(short_name);
		}
	}
	return 0;
}

/* Commit id, time and tag of oid. */
static void fill_commit(git_repository *repo, const git_oid *oid, struct git_info *gi)
{
	git_commit *commit = NULL;
	git_oid_tostr(gi->commit, sizeof(gi->commit), oid);
	memcpy(gi->commit_short, gi->commit, 7);
	gi->commit_short[7] = '\0';
	if (gitexport_object_fits(repo, oid, GIT_OBJECT_COMMIT, GITEXPORT_MAX_COMMIT_BYTES) &&
	    git_commit_lookup(&commit, repo, oid) == 0) {
		gi->commit_time = (int64_t)git_commit_time(commit);
		git_commit_free(commit);
	}
	struct tag_search ts = { .repo = repo, .head = oid };
	if (git_repository_odb(&ts.odb, repo) == 0) {
		git_tag_foreach(repo, on_tag, &ts);
		git_odb_free(ts.odb);
	}
	if (ts.best) {
		free(gi->tag);
		gi->tag = ts.best;
	}
}

/*
 * The public form of remote.origin.url (credentials never kept), or "". Read from the
 * configuration as written: a git_remote lookup would apply url.*.insteadOf, whose lookup
 * leaks in libgit2 1.5 (see mirror.c).
 */
static void fill_repo_url(git_repository *repo, struct git_info *gi)
{
	git_config *cfg = NULL;
	const char *url = NULL;
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		return;
	}
	if (git_config_get_string(&url, cfg, "remote.origin.url") == 0) {
		free(gi->repo_url);
		gi->repo_url = url_public(url);
	}
	git_config_free(cfg);
}

int git_info_for_commit(const char *repo_dir, const char *commit, const char *branch,
			struct git_info *gi)
{
	git_repository *repo = NULL;
	git_oid oid;
	memset(gi, 0, sizeof(*gi));
	gi->branch = xstrdup(branch ? branch : "");
	gi->tag = xstrdup("");
	gi->repo_url = xstrdup("");
	if (git_oid_fromstr(&oid, commit) < 0) {
		return -EINVAL;
	}
	git_libgit2_init();
	int r = git_repository_open_ext(&repo, repo_dir, 0, NULL);
	if (r == 0) {
		fill_commit(repo, &oid, gi);
		fill_repo_url(repo, gi);
		git_repository_free(repo);
	}
	git_libgit2_shutdown();
	return r < 0 ? -ENOENT : 0;
}

int git_info_read(const char *dir, struct git_info *gi)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	memset(gi, 0, sizeof(*gi));
	gi->branch = xstrdup("");
	gi->tag = xstrdup("");
	gi->repo_url = xstrdup("");
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		git_libgit2_shutdown();
		return 0; /* not a repository */
	}
	int r = git_repository_head(&head, repo);
	if (r == GIT_EUNBORNBRANCH) {
		/* A new repository: the branch exists by name, without commits. */
		git_reference *sym = NULL;
		if (git_reference_lookup(&sym, repo, "HEAD") == 0) {
			const char *target = git_reference_symbolic_target(sym);
			if (target && str_has_prefix(target, "refs/heads/")) {
				free(gi->branch);
				gi->branch = xstrdup(target + 11);
			}
			git_reference_free(sym);
		}
	} else if (r == 0) {
		if (git_reference_is_branch(head)) {
			free(gi->branch);
			gi->branch = xstrdup(git_reference_shorthand(head));
		}
		git_object *obj = NULL;
		if (git_reference_peel(&obj, head, GIT_OBJECT_COMMIT) == 0) {
			fill_commit(repo, git_object_id(obj), gi);
			git_object_free(obj);
		}
		git_reference_free(head);
	}
	fill_repo_url(repo, gi);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return 0;
}

void git_info_release(struct git_info *gi)
{
	free(gi->branch);
	free(gi->tag);
	free(gi->repo_url);
	gi->branch = gi->tag = gi->repo_url = NULL;
}
