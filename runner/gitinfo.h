/*
 * gitinfo.h - what the repository says about the workspace: commit, branch, tag, commit
 * time, the public URL of its remote `origin`. A directory outside any repository is fine:
 * everything is empty.
 */
#ifndef RUNNER_GITINFO_H
#define RUNNER_GITINFO_H

#include <stdint.h>

struct git_info {
	char commit[41]; /* full hex SHA-1 (or empty) */
	char commit_short[8];
	char *branch;	     /* heap; "" when detached or no repository */
	char *tag;	     /* heap; a tag pointing at HEAD, "" if none */
	int64_t commit_time; /* seconds since the epoch, 0 if unknown */
	char *repo_url;	     /* heap; url_public() of the remote `origin`, "" if none */
};

/* Fill *gi from the repository containing dir. Returns 0 (also outside git) or -errno. */
int git_info_read(const char *dir, struct git_info *gi);
/*
 * Fill *gi for one commit (full hex id) of the repository containing repo_dir: its id,
 * time and a tag pointing at it; the branch is the one given (NULL: ""). Used when the
 * workspace is an export, not a repository (`runner run --rev`, the server). Returns 0,
 * -EINVAL (bad id) or -ENOENT (no repository); *gi is usable either way.
 */
int git_info_for_commit(const char *repo_dir, const char *commit, const char *branch,
			struct git_info *gi);
void git_info_release(struct git_info *gi);

#endif
