/*
 * mirror.c - bare mirrors and incremental fetches with libgit2.
 *
 * Credentials are offered once: libgit2 asks again after a rejected attempt, and a second
 * answer with the same secret would only loop, so the second request fails the fetch
 * with a clear "authentication failed".
 */
#include "mirror.h"

#include "diag.h"
#include "gitexport.h"
#include "sbuf.h"
#include "util.h"

#include <fcntl.h>
#include <git2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "banned.h"

struct fetch_ctx {
	const struct mirror_auth *auth;
	int cancel_fd;
	unsigned cred_calls;
	bool cancelled;
	bool no_credentials;
};

char *mirror_redact_url(const char *url)
{
	return text_mask_userinfo(url);
}

/* s with every occurrence of needle (not empty) replaced by with. */
static char *replace_all(const char *s, const char *needle, const char *with)
{
	struct sbuf sb;
	size_t nl = strlen(needle);
	sbuf_init(&sb, 1u << 16); /* messages: longer is cut */
	for (const char *p = s, *q; *p; p = q + nl) {
		q = strstr(p, needle);
		if (!q) {
			sbuf_puts(&sb, p);
			break;
		}
		sbuf_printf(&sb, "%.*s%s", (int)(q - p), p, with);
	}
	return sbuf_steal(&sb);
}

char *mirror_redact_text(const char *text, const char *url)
{
	_cleanup_free_ char *safe = mirror_redact_url(url);
	char *out = replace_all(text, url, safe);
	_cleanup_free_ char *cred = url_credential(url);
	if (cred && *cred) {
		char *t = replace_all(out, cred, "***");
		free(out);
		out = t;
	}
	/* The credential as written in the URL, percent-encoded or not. */
	const char *sep = strstr(url, "://");
	const char *at = sep ? strrchr(sep + 3, '@') : NULL;
	const char *colon = at ? memchr(sep + 3, ':', (size_t)(at - sep - 3)) : NULL;
	if (colon && at > colon + 1) {
		_cleanup_free_ char *raw = xstrndup(colon + 1, (size_t)(at - colon - 1));
		char *t = replace_all(out, raw, "***");
		free(out);
		out = t;
	}
	return out;
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

static bool cancel_pending(int fd)
{
	if (fd < 0) {
		return false;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

static int cred_cb(git_credential **out, const char *url, const char *user_from_url,
		   unsigned int allowed, void *payload)
{
	struct fetch_ctx *fc = payload;
	const struct mirror_auth *a = fc->auth;
	(void)url;
	if (fc->cred_calls++ > 0) {
		git_error_set_str(GIT_ERROR_NET, "authentication failed with the configured "
						 "credentials");
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && a && a->ssh_key) {
		return git_credential_ssh_key_new(out, user_from_url ? user_from_url : "git",
						  a->ssh_public_key, a->ssh_key, a->ssh_passphrase);
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && a && a->token) {
		return git_credential_userpass_plaintext_new(out,
							     a->username     ? a->username
							     : user_from_url ? user_from_url
									     : "git",
							     a->token);
	}
	fc->no_credentials = true;
	git_error_set_str(GIT_ERROR_NET, "the remote asks for credentials and none are "
					 "configured for it");
	return GIT_EAUTH;
}

bool mirror_host_key_matches(const char *configured, const unsigned char sha256[32], char *actual,
			     size_t size)
{
	unsigned char b64[64];
	int n = EVP_EncodeBlock(b64, sha256, 32);
	while (n > 0 && b64[n - 1] == '=') {
		n--;
	}
	snprintf(actual, size, "SHA256:%.*s", n, (const char *)b64);
	if (!configured) {
		return false;
	}
	size_t cl = strlen(configured);
	while (cl > 0 && configured[cl - 1] == '=') {
		cl--;
	}
	size_t al = strlen(actual);
	return cl == al && CRYPTO_memcmp(configured, actual, al) == 0;
}

/* HTTPS: libgit2's own verdict stands. SSH: only the configured host key is accepted
 * (libgit2 would otherwise trust any key). */
static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct fetch_ctx *fc = payload;
	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
		return GIT_PASSTHROUGH;
	}
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	char actual[80];
	if (!(hk->type & GIT_CERT_SSH_SHA256)) {
		git_error_set_str(GIT_ERROR_SSH, "the SSH host key has no SHA-256 fingerprint");
		return GIT_ECERTIFICATE;
	}
	if (!mirror_host_key_matches(fc->auth ? fc->auth->ssh_host_key : NULL, hk->hash_sha256,
				     actual, sizeof(actual))) {
		char msg[300];
		snprintf(msg, sizeof(msg),
			 "the SSH host key of %s (%s) is not the configured ssh_host_key", host,
			 actual);
		git_error_set_str(GIT_ERROR_SSH, msg);
		return GIT_ECERTIFICATE;
	}
	return 0;
}

static int progress_cb(const git_indexer_progress *stats, void *payload)
{
	struct fetch_ctx *fc = payload;
	(void)stats;
	if (cancel_pending(fc->cancel_fd)) {
		fc->cancelled = true;
		return -1;
	}
	return 0;
}

static int sideband_cb(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return progress_cb(NULL, payload);
}

/* From the object's header: a commit need not be inflated to know it is there. A tag
 * object counts too: a tag push names one (GitHub's `after` of an annotated tag), which
 * mirror_peel() takes to its commit once it is fetched. */
static bool has_commit(git_repository *repo, const char *want)
{
	git_oid oid;
	return git_oid_fromstr(&oid, want) == 0 &&
	       (gitexport_object_fits(repo, &oid, GIT_OBJECT_COMMIT, SIZE_MAX) ||
		gitexport_object_fits(repo, &oid, GIT_OBJECT_TAG, SIZE_MAX));
}

/* The mirror's lock file, locked: its fd, or -ECANCELED, or another error (said in dl). */
static int lock_mirror(const char *path, int cancel_fd, struct diag_list *dl)
{
	_cleanup_free_ char *lp = xasprintf("%s.lock", path);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int e = fd < 0 ? -errno : 0;
	while (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || cancel_pending(cancel_fd)) {
			e = errno == EWOULDBLOCK ? -ECANCELED : -errno;
			close(fd);
			fd = -1;
			break;
		}
		struct pollfd p = { .fd = cancel_fd, .events = POLLIN };
		poll(&p, cancel_fd >= 0 ? 1 : 0, 50);
	}
	if (fd < 0 && e != -ECANCELED) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot lock the mirror %s: %s", path,
			   strerror(-e));
	}
	return fd < 0 ? e : fd;
}

/* What a tag may point to, for messages. */
static const char *kind_name(git_object_t t)
{
	switch (t) {
	case GIT_OBJECT_TREE:
		return "a tree";
	case GIT_OBJECT_BLOB:
		return "a blob";
	case GIT_OBJECT_TAG:
		return "a tag";
	default:
		return "an object of an unknown kind";
	}
}

/*
 * After a fetch, want is not a commit (nor a tag object): -ENOENT when the mirror lacks it
 * (the ref moved), or -EINVAL with a diagnostic when it is a tree or a blob, as a
 * lightweight tag can name (`git tag t HEAD^{tree}`): that is no force push, and nothing
 * can run it. spec is the refspec fetched ("+refs/tags/t:refs/tags/t").
 */
static int not_a_commit(git_repository *repo, const char *want, const char *spec,
			struct diag_list *dl)
{
	git_odb *odb = NULL;
	git_oid oid;
	size_t size;
	git_object_t t = GIT_OBJECT_INVALID;
	bool there = git_oid_fromstr(&oid, want) == 0 && git_repository_odb(&odb, repo) == 0 &&
		     git_odb_read_header(&size, &t, odb, &oid) == 0;
	git_odb_free(odb);
	if (!there) {
		return -ENOENT;
	}
	spec += *spec == '+';
	size_t len = strcspn(spec, ":");
	const char *what = str_has_prefix(spec, "refs/tags/")	 ? "tag"
			   : str_has_prefix(spec, "refs/heads/") ? "branch"
								 : "ref";
	size_t skip = str_eq(what, "tag") ? 10 : str_eq(what, "branch") ? 11 : 0;
	diag_error(dl, NULL, 0, 0, "only a commit, or an annotated tag of one, can be run",
		   "%s %.*s names %s (%.12s), not a commit", what, (int)(len - MIN(skip, len)),
		   spec + MIN(skip, len), kind_name(t), want);
	return -EINVAL;
}

int mirror_sync(const char *path, const char *url, const char *const *refspecs, size_t n_refspecs,
		const struct mirror_auth *auth, const char *want, int cancel_fd, bool *fetched,
		struct diag_list *dl)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	_cleanup_free_ char *safe_url = mirror_redact_url(url);
	int ret = 0;
	*fetched = false;
	_cleanup_close_ int lock = lock_mirror(path, cancel_fd, dl);
	if (lock < 0) {
		return lock;
	}
	git_libgit2_init();
	if (git_repository_open_bare(&repo, path) < 0 && git_repository_init(&repo, path, 1) < 0) {
		diag_error(dl, NULL, 0, 0, "check that the data directory is writable",
			   "cannot create the mirror %s: %s", path, git_msg());
		ret = -EIO;
		goto out;
	}
	if (want && has_commit(repo, want)) {
		goto out; /* cached */
	}
	/* Anonymous, without url.*.insteadOf rewriting: the configured URL is the one used,
	 * whatever a git configuration on the host says (and libgit2 1.5 leaks in that
	 * lookup). */
	git_remote_create_options ro = GIT_REMOTE_CREATE_OPTIONS_INIT;
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &ro) < 0) {
		_cleanup_free_ char *why = mirror_redact_text(git_msg(), url);
		diag_error(dl, NULL, 0, 0, NULL, "invalid clone URL %s: %s", safe_url, why);
		ret = -EIO;
		goto out;
	}
	struct fetch_ctx fc = { .auth = auth, .cancel_fd = cancel_fd };
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.certificate_check = cert_cb;
	fo.callbacks.transfer_progress = progress_cb;
	fo.callbacks.sideband_progress = sideband_cb;
	fo.callbacks.payload = &fc;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	git_strarray specs = { .strings = (char **)refspecs, .count = n_refspecs };
	*fetched = true;
	if (git_remote_fetch(remote, &specs, &fo, "runner: fetch") < 0) {
		if (fc.cancelled) {
			ret = -ECANCELED;
			goto out;
		}
		_cleanup_free_ char *why = mirror_redact_text(git_msg(), url);
		diag_error(dl, NULL, 0, 0,
			   fc.no_credentials ? "configure credentials for the repository" : NULL,
			   "cannot fetch %s from %s: %s", n_refspecs ? refspecs[0] : "", safe_url,
			   why);
		ret = -EIO;
		goto out;
	}
	if (want && !has_commit(repo, want)) {
		ret = not_a_commit(repo, want, n_refspecs ? refspecs[0] : "", dl);
	}
	if (ret == -ENOENT) {
		diag_error(dl, NULL, 0, 0,
			   "the ref may have moved (a force push) since the event was sent",
			   "commit %s does not exist in %s after fetching %s", want, safe_url,
			   n_refspecs ? refspecs[0] : "");
	}
out:
	git_remote_free(remote);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/* prefix + ref without "refs/" (refs/heads/main under refs/runner/scanned/). */
static char *marker_name(const char *prefix, const char *ref)
{
	return xasprintf("%s%s", prefix, ref + strlen("refs/"));
}

/* Whether ref name exists: 1, 0, or -EIO when it cannot be read. */
static int ref_exists(git_repository *repo, const char *name)
{
	git_oid oid;
	int r = git_reference_name_to_id(&oid, repo, name);
	return r == 0 ? 1 : r == GIT_ENOTFOUND ? 0 : -EIO;
}

static int set_marker(git_repository *repo, const char *prefix, const char *ref, const git_oid *oid,
		      const char *why)
{
	_cleanup_free_ char *name = marker_name(prefix, ref);
	git_reference *out = NULL;
	int r = git_reference_create(&out, repo, name, oid, 1, why);
	git_reference_free(out);
	return r < 0 ? -EIO : 0;
}

static bool full_ref(const char *ref, const char *what, struct diag_list *dl)
{
	if (!str_has_prefix(ref, "refs/")) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot %s %s: not a full ref name", what, ref);
		return false;
	}
	return true;
}

int mirror_mark_scanned(const char *path, const char *ref, const char *sha, int cancel_fd,
			struct diag_list *dl)
{
	if (!full_ref(ref, "mark as scanned", dl)) {
		return -EINVAL;
	}
	_cleanup_close_ int lock = lock_mirror(path, cancel_fd, dl);
	if (lock < 0) {
		return lock;
	}
	git_repository *repo = NULL;
	git_oid oid;
	int ret = 0;
	git_libgit2_init();
	if (git_oid_fromstr(&oid, sha) < 0 || git_repository_open_bare(&repo, path) < 0 ||
	    set_marker(repo, MIRROR_SCANNED_PREFIX, ref, &oid, "runner: history scanned") < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot mark %s as scanned in %s: %s", sha, path,
			   git_msg());
		ret = -EIO;
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

int mirror_begin_scan(const char *path, const char *ref, const char *before, const char *sha,
		      int cancel_fd, char base[41], struct diag_list *dl)
{
	base[0] = '\0';
	if (!full_ref(ref, "scan the history of", dl)) {
		return -EINVAL;
	}
	_cleanup_close_ int lock = lock_mirror(path, cancel_fd, dl);
	if (lock < 0) {
		return lock;
	}
	git_repository *repo = NULL;
	git_oid tip, old, b;
	_cleanup_free_ char *seen = marker_name(MIRROR_SEEN_PREFIX, ref);
	_cleanup_free_ char *scanned = marker_name(MIRROR_SCANNED_PREFIX, ref);
	_cleanup_free_ char *based = marker_name(MIRROR_BASE_PREFIX, ref);
	int ret = -EIO;
	git_libgit2_init();
	if (git_oid_fromstr(&tip, sha) < 0 || git_repository_open_bare(&repo, path) < 0) {
		goto out;
	}
	int was_seen = ref_exists(repo, seen), was_scanned = ref_exists(repo, scanned);
	if (was_seen < 0 || was_scanned < 0) {
		goto out;
	}
	/* The first scan of the ref: its old tip is the history it had before the server
	 * watched it. Once seen, a push's before may be a tip that never passed. */
	if (!was_seen && !was_scanned && before && *before && has_commit(repo, before) &&
	    (git_oid_fromstr(&old, before) < 0 ||
	     set_marker(repo, MIRROR_BASE_PREFIX, ref, &old,
			"runner: the history before the server scanned it") < 0)) {
		goto out;
	}
	if (set_marker(repo, MIRROR_SEEN_PREFIX, ref, &tip, "runner: history scan started") < 0) {
		goto out;
	}
	int has_base = git_reference_name_to_id(&b, repo, based);
	if (has_base != 0 && has_base != GIT_ENOTFOUND) {
		goto out;
	}
	/* Two first pushes of the ref scanned out of order (no supersede): the later one's
	 * before, which the earlier one brought, became the base. The earlier one's own
	 * before, below it, leaves out less. */
	if (has_base == 0 && before && *before && git_oid_fromstr(&old, before) == 0 &&
	    !git_oid_equal(&old, &b) && has_commit(repo, before) &&
	    git_graph_descendant_of(repo, &b, &old) == 1) {
		b = old;
	}
	if (has_base == 0) {
		git_oid_tostr(base, 41, &b);
	}
	ret = 0;
out:
	if (ret < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot mark the history scan of %s in %s: %s",
			   ref, path, git_msg());
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

int mirror_resolve(const char *path, const char *ref, char out[41])
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	int ret = -ENOENT;
	git_libgit2_init();
	if (git_repository_open_bare(&repo, path) == 0 &&
	    git_revparse_single(&obj, repo, ref) == 0) {
		git_object *c = NULL;
		if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) == 0) {
			git_oid_tostr(out, 41, git_object_id(c));
			git_object_free(c);
			ret = 0;
		}
	}
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

int mirror_peel(const char *path, const char *sha, char out[41], struct diag_list *dl)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	git_oid oid;
	int ret = 0;
	git_libgit2_init();
	if (git_oid_fromstr(&oid, sha) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "%s is not a commit id", sha);
		ret = -EINVAL;
		goto out;
	}
	if (git_repository_open_bare(&repo, path) < 0 || git_repository_odb(&odb, repo) < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot open the mirror %s: %s", path, git_msg());
		ret = -EIO;
		goto out;
	}
	/* Each step reads one object's header; only tags, at most MIRROR_MAX_TAG_BYTES, are
	 * inflated. A chain longer than MIRROR_MAX_TAG_CHAIN is refused rather than walked. */
	for (unsigned depth = 0;; depth++) {
		char id[41];
		git_oid_tostr(id, sizeof(id), &oid);
		size_t size;
		git_object_t t;
		int gr = git_odb_read_header(&size, &t, odb, &oid);
		if (gr == GIT_ENOTFOUND) {
			diag_error(dl, NULL, 0, 0, NULL, "%s %.12s is not in the mirror %s",
				   depth ? "the object the tag points to," : "object", id, path);
			ret = -ENOENT;
			break;
		}
		if (gr < 0) {
			/* A damaged object or an I/O error: the mirror's fault, not the ref's. */
			diag_error(dl, NULL, 0, 0, NULL,
				   "cannot read object %.12s of the mirror %s: %s", id, path,
				   git_msg());
			ret = -EIO;
			break;
		}
		if (t == GIT_OBJECT_COMMIT) {
			git_oid_tostr(out, 41, &oid);
			break;
		}
		if (t != GIT_OBJECT_TAG) {
			if (depth) {
				diag_error(dl, NULL, 0, 0, "only a tag of a commit can be run",
					   "tag %.12s points to %s, not a commit", sha,
					   kind_name(t));
			} else {
				diag_error(dl, NULL, 0, 0, "only a tag of a commit can be run",
					   "object %.12s is %s, not a commit", id, kind_name(t));
			}
			ret = -EINVAL;
			break;
		}
		if (depth >= MIRROR_MAX_TAG_CHAIN) {
			diag_error(dl, NULL, 0, 0, NULL,
				   "tag %.12s is a chain of more than %u tags: not followed", sha,
				   MIRROR_MAX_TAG_CHAIN);
			ret = -EINVAL;
			break;
		}
		git_tag *tag = NULL;
		if (size > MIRROR_MAX_TAG_BYTES) {
			diag_error(dl, NULL, 0, 0, NULL,
				   "cannot read tag %.12s: larger than 16 MiB", id);
			ret = -EINVAL;
			break;
		}
		/* The header said tag: an object that then cannot be read whole or parsed is
		 * damaged (or the disk failed), an internal error as a failed read is, not the
		 * invalid input a tag of a tree is. */
		if (git_tag_lookup(&tag, repo, &oid) < 0) {
			diag_error(dl, NULL, 0, 0, NULL,
				   "cannot read tag %.12s of the mirror %s: %s", id, path,
				   git_msg());
			ret = -EIO;
			break;
		}
		git_oid_cpy(&oid, git_tag_target_id(tag));
		git_tag_free(tag);
	}
out:
	git_odb_free(odb);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}
