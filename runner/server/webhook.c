/*
 * webhook.c - signature verification and payload parsing for GitHub, GitLab and Gitea.
 *
 * The parser reads only the fields it needs, checks each one's type, and copies strings
 * out of the JSON tree after checking them (length caps, no control characters, git
 * ref-name rules for branches and tags, full hex ids for commits). Anything else about a
 * payload is ignored. jansson's own depth limit and the HTTP body cap bound the tree.
 */
#include "webhook.h"

#include "util.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <strings.h>

#include "banned.h"

static const char *const zero_sha = "0000000000000000000000000000000000000000";

const char *webhook_event_header(enum forge f)
{
	static const char *const h[FORGE_COUNT] = { "X-GitHub-Event", "X-Gitlab-Event",
						    "X-Gitea-Event" };
	return h[f];
}

const char *webhook_signature_header(enum forge f)
{
	static const char *const h[FORGE_COUNT] = { "X-Hub-Signature-256", "X-Gitlab-Token",
						    "X-Gitea-Signature" };
	return h[f];
}

const char *const *webhook_delivery_headers(enum forge f)
{
	static const char *const gh[] = { "X-GitHub-Delivery", NULL };
	static const char *const gl[] = { "X-Gitlab-Webhook-UUID", "Idempotency-Key",
					  "X-Gitlab-Event-UUID", NULL };
	static const char *const gt[] = { "X-Gitea-Delivery", NULL };
	return f == FORGE_GITHUB ? gh : f == FORGE_GITLAB ? gl : gt;
}

/* ---------- verification ---------- */

static void hmac_sha256(const char *secret, const char *body, size_t len,
			unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned int n = SHA256_DIGEST_LENGTH;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, out,
		  &n)) {
		/* Cannot happen with valid arguments; make sure nothing can match. */
		random_bytes(out, SHA256_DIGEST_LENGTH);
	}
}

void webhook_hmac_hex(const char *secret, const char *body, size_t len, char out[65])
{
	unsigned char mac[SHA256_DIGEST_LENGTH];
	hmac_sha256(secret, body, len, mac);
	hex_encode(mac, sizeof(mac), out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Decode exactly 64 hex digits (the rest of the string must be empty). */
static bool decode_digest(const char *hex, unsigned char out[SHA256_DIGEST_LENGTH])
{
	for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		int hi = hexval(hex[2 * i]);
		int lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (lo < 0) {
			return false;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * SHA256_DIGEST_LENGTH] == '\0';
}

bool webhook_verify(enum forge f, const char *signature, const char *body, size_t len,
		    const char *secret)
{
	unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
	if (str_empty(secret) || !signature) {
		return false;
	}
	if (f == FORGE_GITLAB) {
		/* The token is the secret: compare digests so that neither content nor length
		 * shows in the timing. */
		SHA256((const unsigned char *)signature, strlen(signature), got);
		SHA256((const unsigned char *)secret, strlen(secret), want);
		return CRYPTO_memcmp(got, want, sizeof(want)) == 0;
	}
	const char *hex = signature;
	if (f == FORGE_GITHUB) {
		if (strncmp(signature, "sha256=", 7) != 0) {
			return false;
		}
		hex += 7;
	}
	if (!decode_digest(hex, got)) {
		return false;
	}
	hmac_sha256(secret, body, len, want);
	return CRYPTO_memcmp(got, want, sizeof(want)) == 0;
}

/* ---------- parsing helpers ---------- */

struct parse {
	char *err;
	size_t errsize;
	int ret;
};

static int fail(struct parse *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parse *P, const char *fmt, ...)
{
	if (P->ret == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(P->err, P->errsize, fmt, ap);
		va_end(ap);
		P->ret = -EINVAL;
	}
	return -EINVAL;
}

/* Walk a dotted path of object keys. */
static json_t *jget(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key) || !json_is_object(o)) {
			return NULL;
		}
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

static bool printable_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max) {
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			return false;
		}
	}
	return true;
}

/* The rules of git check-ref-format for one branch or tag name. */
static bool valid_ref_name(const char *s)
{
	size_t n = strlen(s);
	if (!printable_name(s, WEBHOOK_MAX_NAME) || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' ||
	    s[n - 1] == '.' || str_has_suffix(s, ".lock") || strstr(s, "..") || strstr(s, "//") ||
	    strstr(s, "@{") || strstr(s, "/.") || s[0] == '.' || str_eq(s, "@")) {
		return false;
	}
	return strpbrk(s, " ~^:?*[\\") == NULL;
}

static char *get_name(struct parse *P, json_t *root, const char *path, bool required)
{
	json_t *v = jget(root, path);
	if (!v || json_is_null(v)) {
		if (required) {
			fail(P, "'%s' is missing", path);
		}
		return NULL;
	}
	if (!json_is_string(v) || !printable_name(json_string_value(v), WEBHOOK_MAX_NAME) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		fail(P, "'%s' is not a valid name", path);
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

static bool get_sha(struct parse *P, json_t *root, const char *path, char out[41])
{
	json_t *v = jget(root, path);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	out[0] = '\0';
	if (!s || strlen(s) != 40 || strspn(s, "0123456789abcdefABCDEF") != 40) {
		fail(P, "'%s' is not a full commit id", path);
		return false;
	}
	for (size_t i = 0; i < 40; i++) {
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	}
	out[40] = '\0';
	return true;
}

static void ignore(struct hook_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ignore(struct hook_event *ev, const char *fmt, ...)
{
	va_list ap;
	ev->kind = HOOK_IGNORED;
	va_start(ap, fmt);
	vsnprintf(ev->reason, sizeof(ev->reason), fmt, ap);
	va_end(ap);
	/* The reason quotes the payload and headers, cut to a length: it goes into a JSON
	 * reply, which must stay valid UTF-8 (a character cut in half, or bytes that were
	 * never UTF-8, become U+FFFD), or there would be no reply at all. */
	char *clean = utf8_sanitize(ev->reason, strlen(ev->reason));
	size_t n = strlen(clean);
	if (n >= sizeof(ev->reason)) {
		n = sizeof(ev->reason) - 1;
		while (n > 0 && ((unsigned char)clean[n] & 0xC0) == 0x80) {
			n--; /* not the last character cut in half */
		}
	}
	memcpy(ev->reason, clean, n);
	ev->reason[n] = '\0';
	free(clean);
}

/* A push: refs/heads/X or refs/tags/X at `after`, unless deleted. */
static void parse_push(struct parse *P, json_t *root, const char *repo_path, struct hook_event *ev)
{
	ev->repo = get_name(P, root, repo_path, true);
	ev->ref = get_name(P, root, "ref", true);
	if (P->ret) {
		return;
	}
	json_t *deleted = json_object_get(root, "deleted");
	json_t *after = json_object_get(root, "after");
	if (json_is_true(deleted) ||
	    (json_is_string(after) && str_eq(json_string_value(after), zero_sha))) {
		ignore(ev, "%s was deleted: nothing to run", ev->ref);
		return;
	}
	/* An annotated tag's `after` is the tag object: for tags the commit is checkout_sha
	 * (GitLab) or head_commit.id (GitHub, Gitea) when the payload has them. */
	const char *commit_path = "after";
	if (str_has_prefix(ev->ref, "refs/tags/")) {
		char probe[41], perr[8];
		struct parse Q = { .err = perr, .errsize = sizeof(perr) };
		if (get_sha(&Q, root, "checkout_sha", probe)) {
			commit_path = "checkout_sha";
		} else if ((Q.ret = 0, get_sha(&Q, root, "head_commit.id", probe))) {
			commit_path = "head_commit.id";
		}
	}
	if (!get_sha(P, root, commit_path, ev->sha)) {
		return;
	}
	ev->peel = str_has_prefix(ev->ref, "refs/tags/") && str_eq(commit_path, "after");
	/* The ref's old tip (GitHub, GitLab and Gitea all send `before`). All zeros (a new
	 * ref) or none: "". The history scan trusts it only the first time the server scans
	 * the ref (mirror.h, MIRROR_BASE_PREFIX); after that, the range reaches back to what
	 * earlier passing scans covered (MIRROR_SCANNED_PREFIX). */
	json_t *before = json_object_get(root, "before");
	if (before && !json_is_null(before) &&
	    !(json_is_string(before) && str_eq(json_string_value(before), zero_sha)) &&
	    !get_sha(P, root, "before", ev->before)) {
		return;
	}
	const char *name;
	if (str_has_prefix(ev->ref, "refs/heads/")) {
		name = ev->ref + 11;
		ev->kind = HOOK_PUSH;
		ev->branch = xstrdup(name);
	} else if (str_has_prefix(ev->ref, "refs/tags/")) {
		name = ev->ref + 10;
		ev->kind = HOOK_TAG;
		ev->tag = xstrdup(name);
	} else {
		ignore(ev, "pushes to %.100s are not run (only branches and tags)", ev->ref);
		return;
	}
	if (!valid_ref_name(name)) {
		fail(P, "'ref' is not a valid branch or tag name");
	}
}

/* GitHub and Gitea pull requests share their shape. */
static void parse_pull_request(struct parse *P, json_t *root, enum forge f, struct hook_event *ev)
{
	static const char *const run_actions[] = { "opened", "synchronize", "synchronized",
						   "reopened" };
	ev->action = get_name(P, root, "action", true);
	ev->repo = get_name(P, root, "repository.full_name", true);
	if (P->ret) {
		return;
	}
	bool run = false;
	for (size_t i = 0; i < ARRAY_SIZE(run_actions); i++) {
		run |= str_eq(ev->action, run_actions[i]);
	}
	if (!run) {
		ignore(ev, "pull request action '%.40s' is not run", ev->action);
		return;
	}
	json_t *num = json_object_get(root, "number");
	if (!json_is_integer(num) || json_integer_value(num) <= 0) {
		fail(P, "'number' is not a pull request number");
		return;
	}
	ev->number = (unsigned long)json_integer_value(num);
	ev->branch = get_name(P, root, "pull_request.head.ref", true);
	ev->base_branch = get_name(P, root, "pull_request.base.ref", true);
	if (!get_sha(P, root, "pull_request.head.sha", ev->sha) || P->ret) {
		return;
	}
	if (jget(root, "pull_request.base.sha")) {
		get_sha(P, root, "pull_request.base.sha", ev->base_sha);
	}
	/* A deleted fork has a null head repository: untrusted all the same. */
	ev->head_repo = get_name(P, root, "pull_request.head.repo.full_name", false);
	char *base_repo = get_name(P, root, "pull_request.base.repo.full_name", false);
	if (!ev->head_repo) {
		ev->head_repo = xstrdup("");
	}
	ev->fork = !base_repo || strcasecmp(ev->head_repo, base_repo) != 0 ||
		   strcasecmp(base_repo, ev->repo) != 0;
	free(base_repo);
	if (!valid_ref_name(ev->branch) || !valid_ref_name(ev->base_branch)) {
		fail(P, "the pull request's branches are not valid branch names");
		return;
	}
	ev->ref = xasprintf("refs/pull/%lu/head", ev->number);
	ev->kind = HOOK_PULL_REQUEST;
	(void)f;
}

static void parse_merge_request(struct parse *P, json_t *root, struct hook_event *ev)
{
	ev->repo = get_name(P, root, "project.path_with_namespace", true);
	ev->action = get_name(P, root, "object_attributes.action", true);
	if (P->ret) {
		return;
	}
	bool update_with_commits = str_eq(ev->action, "update") &&
				   json_is_string(jget(root, "object_attributes.oldrev"));
	if (!str_eq(ev->action, "open") && !str_eq(ev->action, "reopen") && !update_with_commits) {
		ignore(ev, "merge request action '%.40s'%s is not run", ev->action,
		       str_eq(ev->action, "update") ? " without new commits" : "");
		return;
	}
	json_t *iid = jget(root, "object_attributes.iid");
	if (!json_is_integer(iid) || json_integer_value(iid) <= 0) {
		fail(P, "'object_attributes.iid' is not a merge request number");
		return;
	}
	ev->number = (unsigned long)json_integer_value(iid);
	ev->branch = get_name(P, root, "object_attributes.source_branch", true);
	ev->base_branch = get_name(P, root, "object_attributes.target_branch", true);
	if (!get_sha(P, root, "object_attributes.last_commit.id", ev->sha) || P->ret) {
		return;
	}
	json_t *src = jget(root, "object_attributes.source_project_id");
	json_t *dst = jget(root, "object_attributes.target_project_id");
	ev->head_repo = get_name(P, root, "object_attributes.source.path_with_namespace", false);
	if (!ev->head_repo) {
		ev->head_repo = xstrdup("");
	}
	ev->fork = !json_is_integer(src) || !json_is_integer(dst) ||
		   json_integer_value(src) != json_integer_value(dst);
	if (!valid_ref_name(ev->branch) || !valid_ref_name(ev->base_branch)) {
		fail(P, "the merge request's branches are not valid branch names");
		return;
	}
	ev->ref = xasprintf("refs/merge-requests/%lu/head", ev->number);
	ev->kind = HOOK_PULL_REQUEST;
}

int webhook_parse(enum forge f, const char *event, const char *body, size_t len,
		  struct hook_event *ev, char *err, size_t errsize)
{
	struct parse P = { .err = err, .errsize = errsize };
	json_error_t jerr;
	memset(ev, 0, sizeof(*ev));
	if (errsize) {
		err[0] = '\0';
	}
	if (str_empty(event)) {
		return fail(&P, "the %s header is missing", webhook_event_header(f));
	}
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		return fail(&P, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(&P, "the body is not a JSON object");
	}
	if (f == FORGE_GITLAB) {
		json_t *kind = json_object_get(root, "object_kind");
		const char *k = json_string_value(kind);
		k = k ? k : "";
		if (str_eq(k, "push") || str_eq(k, "tag_push")) {
			parse_push(&P, root, "project.path_with_namespace", ev);
		} else if (str_eq(k, "merge_request")) {
			parse_merge_request(&P, root, ev);
		} else {
			ev->repo = get_name(&P, root, "project.path_with_namespace", false);
			P.ret = 0;
			ignore(ev, "GitLab event '%.60s' is not run", *k ? k : event);
		}
	} else if (str_eq(event, "ping")) {
		ev->kind = HOOK_PING;
		ev->repo = get_name(&P, root, "repository.full_name", false);
		P.ret = 0; /* a ping without a repository (organisation hooks) is fine */
	} else if (str_eq(event, "push")) {
		parse_push(&P, root, "repository.full_name", ev);
	} else if (str_eq(event, "pull_request") || str_eq(event, "pull_request_sync")) {
		parse_pull_request(&P, root, f, ev);
	} else {
		/* Named when there is a repository, so that it is checked like any other. */
		ev->repo = get_name(&P, root, "repository.full_name", false);
		P.ret = 0;
		ignore(ev, "%s event '%.60s' is not run", forge_name(f), event);
	}
	json_decref(root);
	if (P.ret < 0) {
		hook_event_release(ev);
	}
	return P.ret;
}

void hook_event_release(struct hook_event *ev)
{
	free(ev->repo);
	free(ev->ref);
	free(ev->branch);
	free(ev->tag);
	free(ev->base_branch);
	free(ev->head_repo);
	free(ev->action);
	memset(ev, 0, sizeof(*ev));
}

bool webhook_repo_matches(const struct hook_event *ev, const char *name)
{
	return ev->repo && name && strcasecmp(ev->repo, name) == 0;
}
