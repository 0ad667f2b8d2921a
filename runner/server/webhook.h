/*
 * webhook.h - webhook deliveries from GitHub, GitLab and Gitea: signature verification and
 * payload parsing. No I/O, no state: the HTTP layer hands over headers and the raw body.
 *
 * Verification comes first and works on the raw bytes, before any parsing:
 *   GitHub  X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(secret, body)
 *   Gitea   X-Gitea-Signature:   hex HMAC-SHA256(secret, body)
 *   GitLab  X-Gitlab-Token:      the secret itself
 * Comparisons take the same time whatever the bytes (CRYPTO_memcmp over fixed-size
 * digests; GitLab tokens are compared through their SHA-256 so that lengths leak
 * nothing either). An empty or missing secret never verifies.
 *
 * Parsing turns a verified body into a struct hook_event: what to run (push to a branch, a
 * tag, a pull/merge request), or why the delivery is ignored. Ids taken from payloads are
 * checked to be full 40-digit hex commit ids; names are checked for length and characters
 * before they go anywhere near a ref name or a file name.
 */
#ifndef RUNNER_SERVER_WEBHOOK_H
#define RUNNER_SERVER_WEBHOOK_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#define WEBHOOK_MAX_NAME 255 /* branch, tag, repository names */

enum hook_kind {
	HOOK_IGNORED, /* valid, but nothing to run: reason says why */
	HOOK_PING,
	HOOK_PUSH, /* a branch */
	HOOK_TAG,
	HOOK_PULL_REQUEST,
};

struct hook_event {
	enum hook_kind kind;
	char reason[160];     /* HOOK_IGNORED: why */
	char *repo;	      /* repository full name (base repository for pull requests) */
	char *ref;	      /* refs/heads/x, refs/tags/v1, refs/pull/7/head, ... */
	char *branch;	      /* push: the branch; pull request: the source branch */
	char *tag;	      /* tag pushes */
	char sha[41];	      /* the commit to run */
	bool peel;	      /* tag push: sha is `after`, which may be the tag object */
	char before[41];      /* push: the ref's old tip; "" when new (all zeros) or not sent */
	unsigned long number; /* pull/merge request number (GitLab: iid) */
	char *base_branch;    /* pull request: target branch */
	char base_sha[41];    /* pull request: target commit when the payload has it, else "" */
	char *head_repo;      /* pull request: where the head lives ("" when unknown/deleted) */
	bool fork;	      /* head repository differs from the base: untrusted */
	char *action;	      /* pull request action as sent */
};

/* Header names per forge. */
const char *webhook_event_header(enum forge f);
const char *webhook_signature_header(enum forge f);
/* Delivery-id headers, in order of preference, NULL-terminated. */
const char *const *webhook_delivery_headers(enum forge f);

/*
 * Verify a delivery against one secret. signature is the header's value (NULL when the
 * header is missing). Returns true only for a match.
 */
bool webhook_verify(enum forge f, const char *signature, const char *body, size_t len,
		    const char *secret);

/* Hex HMAC-SHA256 of body (65 bytes out), for tests and the benchmark client. */
void webhook_hmac_hex(const char *secret, const char *body, size_t len, char out[65]);

/*
 * Parse a verified body. event is the event header's value. Returns 0 with *ev filled
 * (kind HOOK_IGNORED with a reason for events that are not run), or -EINVAL for a body
 * that is not JSON or lacks what its event requires; err says why.
 */
int webhook_parse(enum forge f, const char *event, const char *body, size_t len,
		  struct hook_event *ev, char *err, size_t errsize);
void hook_event_release(struct hook_event *ev);

/* A repository name as sent by the forge, for matching against the configuration. */
bool webhook_repo_matches(const struct hook_event *ev, const char *name);

#endif
