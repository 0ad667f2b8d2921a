/*
 * histscan.h - the secrets scan of what a range of commits brings into a repository's
 * history (`runner scan secrets --history`, the pre-push hook), not only of its tip.
 *
 * The blobs the range's commits add or change (runner/githistory.h: each blob once,
 * however many commits bring it) are written into a private temporary directory and
 * scanned by the `secrets` kind in its sandboxed worker, as a pipeline's
 * secrets stage is: the same default rules, redaction, inline `runner:ignore` comments
 * (the blob's own) and gate. Each finding is then mapped back to the commits and paths
 * that brought its blob. Every file is scanned: .gitignore, the vendored and generated
 * heuristics do not apply (a secret in a committed node_modules/ is in the history all the
 * same). The pipeline's own settings (its `gate:`, a secrets stage's allowlist or
 * baseline) are not read: which commit's pipeline would say so is itself in question;
 * only what the caller passes applies.
 *
 * Fail closed: a cap (commits, files, bytes), an object that cannot be read, a sandbox
 * that cannot be set up, a worker that ends without a result, or a finding that maps to
 * no blob makes the result an error; the range is never scanned in part.
 */
#ifndef RUNNER_HISTSCAN_H
#define RUNNER_HISTSCAN_H

#include "githistory.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct diag_list;

/*
 * How the blobs reach the worker. Up to HISTSCAN_PACK_MAX (their bytes plus
 * HISTSCAN_PACK_PER_BLOB for each: a tmpfs gives a file and a directory a page each, and
 * rounds a file up to pages), as one file (stages/blobpack.h) that the worker unpacks
 * into its own /tmp, a tmpfs of 1 GiB whose pages count against its memory: creating and
 * removing a file and directories per blob on a disk filesystem took most of a scan's
 * time. Above, as a tree of files in the private directory (githistory_write()), read
 * where it lies. Either way the worker scans the same names, and the findings are the same.
 */
#define HISTSCAN_PACK_MAX      (256ull << 20)
#define HISTSCAN_PACK_PER_BLOB (12u << 10)

struct histscan_options {
	struct githistory_range range;
	struct githistory_limits limits;
	/* The scan's own settings, as a secrets stage's `with:` takes them (fail-on, allowlist
	 * regexes, max-file-size, jobs, timeout); borrowed, may be NULL. */
	json_t *with;
	/* Globs (fnmatch, as the secrets scan's allowlist paths): a commit's file at a
	 * matching path is not scanned. */
	const char *const *skip_paths;
	size_t n_skip_paths;
	/* --no-sandbox: the worker runs unconfined (runner/scanbox.h), for debugging only. */
	bool unconfined;
	/* Readable: stop the scan (the server's cancel, its run_timeout). Only a descriptor
	 * above 0 is one: 0, what an initialiser leaves, is none. */
	int cancel_fd;
};

/*
 * Scan o->range of the repository containing dir. Fills result as the secrets kind does
 * ({summary, findings, gate, stats} or {summary, error, findings}), plus "history"
 * ({tip, base, not_remote, commits, shallow, files, bytes}: shallow, when the range stops at
 * shallow boundaries, counts them, and a note says so); each finding's "file" is the path of
 * the first place its blob was found at, with "commit" (that place's commit), "blob" and
 * "places" ([{commit, path}], at most GITHISTORY_MAX_PLACES; "more_places" counts the
 * rest). Returns STAGE_EXIT_PASSED, STAGE_EXIT_BLOCKED or STAGE_EXIT_ERROR; or -ENOENT
 * when dir is not in a repository or a revision names no commit (diagnostics in dl: a
 * usage error); or -ECANCELED when o->cancel_fd stopped it (result then holds nothing to
 * act on).
 */
int histscan_run(const char *dir, const struct histscan_options *o, json_t *result,
		 struct diag_list *dl);

#endif
