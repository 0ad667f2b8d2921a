/*
 * mirror.h - one bare mirror per repository under the server's data directory, fetched
 * incrementally with libgit2.
 *
 * mirror_sync() makes sure a commit is in the mirror: when it is there already (a cached
 * repository: the usual case for a re-run or a second event on the same commit) nothing
 * is fetched; otherwise the given refs are fetched from the configured URL (never one from
 * a payload) with the configured credentials, and the commit must be there afterwards.
 * Concurrent syncs of one mirror are serialised with a lock file next to it. A fetch can
 * be cancelled through an fd that becomes readable.
 */
#ifndef RUNNER_SERVER_MIRROR_H
#define RUNNER_SERVER_MIRROR_H

#include <stdbool.h>
#include <stddef.h>

struct diag_list;

struct mirror_auth {
	const char *username; /* HTTPS user name for the token */
	const char *token;
	const char *ssh_key, *ssh_public_key, *ssh_passphrase;
	const char *ssh_host_key; /* "SHA256:<base64>": the only SSH host key accepted */
};

/*
 * Whether an SSH host key's SHA-256 digest is the configured fingerprint ("SHA256:" and
 * unpadded base64, as ssh-keygen -l prints it). actual (at least 60 bytes) receives the
 * key's fingerprint in that form, for messages.
 */
bool mirror_host_key_matches(const char *configured, const unsigned char sha256[32], char *actual,
			     size_t size);

/*
 * Ensure commit `want` (full hex id) is in the bare mirror at path (created when missing),
 * fetching refspecs ("+refs/x:refs/x") from url if it is not (want NULL: always fetch). *fetched
 * says whether a fetch happened. Returns 0; -ENOENT when the commit is not there after the fetch;
 * -EINVAL when want is there but is a tree or a blob (a lightweight tag of one; a tag object
 * is let through, for mirror_peel()); -ECANCELED; -EIO when the fetch failed (a diagnostic says
 * why, with credentials removed from URLs).
 */
int mirror_sync(const char *path, const char *url, const char *const *refspecs, size_t n_refspecs,
		const struct mirror_auth *auth, const char *want, int cancel_fd, bool *fetched,
		struct diag_list *dl);

/*
 * Where the mirror marks what a history scan covered: ref R's tip, once every commit it
 * brought was scanned and passed, is kept as MIRROR_SCANNED_PREFIX + R without "refs/"
 * (refs/runner/scanned/heads/main). A new ref's scan leaves out what these reach, and
 * nothing else: a ref that was only fetched (its scan still running, failed or blocked,
 * or a pull request's base) hides nothing.
 */
#define MIRROR_SCANNED_PREFIX "refs/runner/scanned/"

/* Mark commit sha (full hex id) as the scanned tip of ref (refs/heads/main), under the
 * mirror's lock. Returns 0, -ECANCELED, or -EIO/-EINVAL with a diagnostic. */
int mirror_mark_scanned(const char *path, const char *ref, const char *sha, int cancel_fd,
			struct diag_list *dl);

/*
 * What a ref's history scan may leave out besides MIRROR_SCANNED_PREFIX: the ref's old tip
 * when this server first scanned a push of it (MIRROR_BASE_PREFIX + R: the history it had
 * before the server watched it, trusted as it was before). MIRROR_SEEN_PREFIX + R marks
 * that a push of R has been scanned, or has started to be, whatever came of it: a later
 * push's `before` (a tip whose scan may have been blocked, have failed or never ended) is
 * then not trusted, and the range reaches back to what passed.
 */
#define MIRROR_BASE_PREFIX "refs/runner/base/"
#define MIRROR_SEEN_PREFIX "refs/runner/seen/"

/*
 * Start the history scan of a push of ref (refs/heads/main) from before (its old tip, a
 * full hex id, or NULL/"" for a new ref) to sha, under the mirror's lock: the first time
 * the server scans ref (neither seen nor scanned yet), a before the mirror has becomes the
 * ref's base; ref is marked seen at sha. base (41 bytes) receives the ref's base (or
 * this push's before when that is an ancestor of the base: a first push scanned after
 * the one that followed it), or "" when it has none. Returns 0, -ECANCELED, or -EIO/-EINVAL with a
 * diagnostic: the caller fails closed (without the mark, a blocked push's commits would be trusted
 * by the next).
 */
int mirror_begin_scan(const char *path, const char *ref, const char *before, const char *sha,
		      int cancel_fd, char base[41], struct diag_list *dl);

/* Resolve a ref of the mirror (refs/heads/main) to a commit id (41 bytes). Returns 0 or -ENOENT. */
int mirror_resolve(const char *path, const char *ref, char out[41]);

/*
 * The commit that sha (full hex id, in the mirror) is, or points to through tag objects
 * (an annotated tag, a tag of a tag: at most MIRROR_MAX_TAG_CHAIN of them, each at most
 * MIRROR_MAX_TAG_BYTES), into out (41 bytes). Returns 0; -ENOENT when an object is
 * missing; -EINVAL when it ends at a tree or a blob, or a cap is passed; -EIO when the
 * mirror cannot be opened or an object cannot be read (damaged, an I/O error). A
 * diagnostic says which.
 */
#define MIRROR_MAX_TAG_CHAIN 16u
#define MIRROR_MAX_TAG_BYTES (16u << 20)
int mirror_peel(const char *path, const char *sha, char out[41], struct diag_list *dl);

/* url with any user:password@ part replaced by "***@", for messages. Caller frees. */
char *mirror_redact_url(const char *url);
/* text (a message, which may quote url: libgit2 does for a URL it cannot parse) with url
 * replaced by its redacted form and its password, decoded or as written, by "***". */
char *mirror_redact_text(const char *text, const char *url);

#endif
