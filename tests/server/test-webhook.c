/*
 * test-webhook.c - signature verification (GitHub's documented test vector, Gitea, GitLab)
 * and payload parsing of the real example payloads in tests/fixtures/webhooks.
 */
#include <criterion/criterion.h>

#include "testutil.h"
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char vector_secret[] = "It's a Secret to Everybody";
static const char vector_body[] = "Hello, World!";
static const char vector_sig[] =
	"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

static char *fixture(const char *rel, size_t *len)
{
	char *p;
	cr_assert_geq(asprintf(&p, "webhooks/%s", rel), 0);
	char *path = tu_fixture(p);
	char *s = tu_read(path);
	cr_assert_not_null(s, "%s", path);
	*len = strlen(s);
	free(p);
	free(path);
	return s;
}

static int parse_fixture(enum forge f, const char *event, const char *rel, struct hook_event *ev)
{
	size_t len;
	char err[256];
	char *body = fixture(rel, &len);
	int r = webhook_parse(f, event, body, len, ev, err, sizeof(err));
	free(body);
	return r;
}

Test(webhook, github_documented_test_vector)
{
	/* https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries */
	cr_assert(webhook_verify(FORGE_GITHUB, vector_sig, vector_body, strlen(vector_body),
				 vector_secret));
	char hex[65];
	webhook_hmac_hex(vector_secret, vector_body, strlen(vector_body), hex);
	cr_assert_str_eq(hex, vector_sig + 7);
	/* Upper-case hex is the same digest. */
	char upper[80];
	snprintf(upper, sizeof(upper), "sha256=%s", hex);
	for (char *p = upper + 7; *p; p++) {
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	}
	cr_assert(webhook_verify(FORGE_GITHUB, upper, vector_body, strlen(vector_body),
				 vector_secret));
}

Test(webhook, github_signature_refusals)
{
	size_t n = strlen(vector_body);
	/* Wrong secret, changed body, missing header, wrong or missing prefix, truncated or
	 * extended digest, non-hex, empty secret. */
	cr_assert_not(webhook_verify(FORGE_GITHUB, vector_sig, vector_body, n, "It's a secret"));
	cr_assert_not(webhook_verify(FORGE_GITHUB, vector_sig, "Hello, World?", n, vector_secret));
	cr_assert_not(webhook_verify(FORGE_GITHUB, NULL, vector_body, n, vector_secret));
	cr_assert_not(webhook_verify(FORGE_GITHUB, vector_sig + 7, vector_body, n, vector_secret));
	char sha1[100];
	snprintf(sha1, sizeof(sha1), "sha1=%s", vector_sig + 7);
	cr_assert_not(webhook_verify(FORGE_GITHUB, sha1, vector_body, n, vector_secret));
	char cut[100];
	snprintf(cut, sizeof(cut), "%.*s", (int)strlen(vector_sig) - 2, vector_sig);
	cr_assert_not(webhook_verify(FORGE_GITHUB, cut, vector_body, n, vector_secret));
	char longer[100];
	snprintf(longer, sizeof(longer), "%s00", vector_sig);
	cr_assert_not(webhook_verify(FORGE_GITHUB, longer, vector_body, n, vector_secret));
	char nonhex[100];
	snprintf(nonhex, sizeof(nonhex), "%s", vector_sig);
	nonhex[10] = 'g';
	cr_assert_not(webhook_verify(FORGE_GITHUB, nonhex, vector_body, n, vector_secret));
	cr_assert_not(webhook_verify(FORGE_GITHUB, vector_sig, vector_body, n, ""));
	cr_assert_not(webhook_verify(FORGE_GITHUB, vector_sig, vector_body, n, NULL));
}

Test(webhook, gitea_signature_is_bare_hex)
{
	size_t n = strlen(vector_body);
	cr_assert(webhook_verify(FORGE_GITEA, vector_sig + 7, vector_body, n, vector_secret));
	/* GitHub's prefixed form is not Gitea's header format. */
	cr_assert_not(webhook_verify(FORGE_GITEA, vector_sig, vector_body, n, vector_secret));
	cr_assert_not(webhook_verify(FORGE_GITEA, vector_sig + 7, vector_body, n, "other secret"));
}

Test(webhook, gitlab_token)
{
	cr_assert(webhook_verify(FORGE_GITLAB, "a-token-of-some-length", "{}", 2,
				 "a-token-of-some-length"));
	cr_assert_not(webhook_verify(FORGE_GITLAB, "a-token-of-some-lengtH", "{}", 2,
				     "a-token-of-some-length"));
	cr_assert_not(webhook_verify(FORGE_GITLAB, "a-token", "{}", 2, "a-token-of-some-length"));
	cr_assert_not(webhook_verify(FORGE_GITLAB, "", "{}", 2, "a-token-of-some-length"));
	cr_assert_not(webhook_verify(FORGE_GITLAB, NULL, "{}", 2, "a-token-of-some-length"));
	/* No secret configured never means "no check". */
	cr_assert_not(webhook_verify(FORGE_GITLAB, "", "{}", 2, ""));
}

Test(webhook, github_push_new_branch)
{
	struct hook_event ev;
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "push", "github/push/with-new-branch.payload.json",
				   &ev),
		     0);
	cr_assert_eq(ev.kind, HOOK_PUSH);
	cr_assert_str_eq(ev.repo, "Codertocat/Hello-World");
	cr_assert_str_eq(ev.ref, "refs/heads/master");
	cr_assert_str_eq(ev.branch, "master");
	cr_assert_str_eq(ev.sha, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
	cr_assert_str_eq(ev.before, "", "a new branch (all zeros): no old tip");
	cr_assert(webhook_repo_matches(&ev, "codertocat/hello-world"));
	cr_assert_not(webhook_repo_matches(&ev, "Codertocat/Other"));
	hook_event_release(&ev);
}

Test(webhook, github_deleted_tags_are_ignored)
{
	static const char *const files[] = { "payload.json", "1.payload.json",
					     "with-installation.payload.json",
					     "with-organization.payload.json" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		struct hook_event ev;
		snprintf(rel, sizeof(rel), "github/push/%s", files[i]);
		cr_assert_eq(parse_fixture(FORGE_GITHUB, "push", rel, &ev), 0, "%s", rel);
		cr_assert_eq(ev.kind, HOOK_IGNORED, "%s", rel);
		cr_assert_not_null(strstr(ev.reason, "deleted"), "%s: %s", rel, ev.reason);
		hook_event_release(&ev);
	}
}

Test(webhook, github_pull_requests)
{
	struct hook_event ev;
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "pull_request",
				   "github/pull_request/opened.payload.json", &ev),
		     0);
	cr_assert_eq(ev.kind, HOOK_PULL_REQUEST);
	cr_assert_eq(ev.number, 2);
	cr_assert_str_eq(ev.sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
	cr_assert_str_eq(ev.ref, "refs/pull/2/head");
	cr_assert_str_eq(ev.branch, "changes");
	cr_assert_str_eq(ev.base_branch, "master");
	cr_assert_str_eq(ev.base_sha, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
	cr_assert_not(ev.fork, "head and base are the same repository");
	hook_event_release(&ev);

	cr_assert_eq(parse_fixture(FORGE_GITHUB, "pull_request",
				   "github/pull_request/synchronize.payload.json", &ev),
		     0);
	cr_assert_eq(ev.kind, HOOK_PULL_REQUEST);
	hook_event_release(&ev);
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "pull_request",
				   "github/pull_request/opened.with-null-body.json", &ev),
		     0);
	cr_assert_eq(ev.kind, HOOK_PULL_REQUEST);
	hook_event_release(&ev);
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "pull_request",
				   "github/pull_request/closed.payload.json", &ev),
		     0);
	cr_assert_eq(ev.kind, HOOK_IGNORED);
	cr_assert_not_null(strstr(ev.reason, "closed"));
	hook_event_release(&ev);
}

/* A reason quotes the payload or a header, cut to a length: it stays valid UTF-8 (it goes
 * into the JSON reply, which otherwise could not be built and the sender got no answer). */
Test(webhook, ignore_reasons_stay_valid_utf8)
{
	size_t len;
	char *body = fixture("github/pull_request/closed.payload.json", &len);
	json_t *root = json_loadb(body, len, 0, NULL);
	free(body);
	cr_assert_not_null(root);
	/* 39 ASCII letters and a two-byte character: a 40-byte cut halves it. */
	json_object_set_new(root, "action",
			    json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"));
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	struct hook_event ev;
	char err[256];
	cr_assert_eq(
		webhook_parse(FORGE_GITHUB, "pull_request", s, strlen(s), &ev, err, sizeof(err)), 0,
		"%s", err);
	free(s);
	cr_assert_eq(ev.kind, HOOK_IGNORED);
	json_t *j = json_pack("{s:s}", "reason", ev.reason);
	cr_assert_not_null(j, "not UTF-8: %s", ev.reason);
	json_decref(j);
	hook_event_release(&ev);
	/* An event name (a header) that is not UTF-8 at all. */
	cr_assert_eq(webhook_parse(FORGE_GITHUB, "ev\xff\xfent", "{}", 2, &ev, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(ev.kind, HOOK_IGNORED);
	j = json_pack("{s:s}", "reason", ev.reason);
	cr_assert_not_null(j, "not UTF-8: %s", ev.reason);
	json_decref(j);
	hook_event_release(&ev);
}

Test(webhook, github_fork_pull_request_is_untrusted)
{
	size_t len;
	char *body = fixture("github/pull_request/opened.payload.json", &len);
	json_t *j = json_loads(body, 0, NULL);
	free(body);
	json_t *head_repo = json_object_get(
		json_object_get(json_object_get(j, "pull_request"), "head"), "repo");
	json_object_set_new(head_repo, "full_name", json_string("mallory/Hello-World"));
	char *s = json_dumps(j, 0);
	struct hook_event ev;
	char err[256];
	cr_assert_eq(
		webhook_parse(FORGE_GITHUB, "pull_request", s, strlen(s), &ev, err, sizeof(err)),
		0);
	cr_assert(ev.fork);
	cr_assert_str_eq(ev.head_repo, "mallory/Hello-World");
	hook_event_release(&ev);
	/* A deleted fork (head.repo null) is untrusted too. */
	json_object_set_new(json_object_get(json_object_get(j, "pull_request"), "head"), "repo",
			    json_null());
	free(s);
	s = json_dumps(j, 0);
	cr_assert_eq(
		webhook_parse(FORGE_GITHUB, "pull_request", s, strlen(s), &ev, err, sizeof(err)),
		0);
	cr_assert(ev.fork);
	hook_event_release(&ev);
	free(s);
	json_decref(j);
}

Test(webhook, ping_and_other_events)
{
	struct hook_event ev;
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "ping", "github/ping/payload.json", &ev), 0);
	cr_assert_eq(ev.kind, HOOK_PING);
	hook_event_release(&ev);
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "ping",
				   "github/ping/with-organization.payload.json", &ev),
		     0);
	cr_assert_eq(ev.kind, HOOK_PING);
	hook_event_release(&ev);
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "create", "github/create/payload.json", &ev), 0);
	cr_assert_eq(ev.kind, HOOK_IGNORED);
	cr_assert_not_null(strstr(ev.reason, "create"));
	hook_event_release(&ev);
	cr_assert_eq(parse_fixture(FORGE_GITHUB, "delete", "github/delete/payload.json", &ev), 0);
	cr_assert_eq(ev.kind, HOOK_IGNORED);
	hook_event_release(&ev);
}

Test(webhook, gitlab_push_and_merge_request)
{
	struct hook_event ev;
	cr_assert_eq(parse_fixture(FORGE_GITLAB, "Push Hook", "gitlab/push.json", &ev), 0);
	cr_assert_eq(ev.kind, HOOK_PUSH);
	cr_assert_str_eq(ev.repo, "mike/diaspora");
	cr_assert_str_eq(ev.branch, "master");
	cr_assert_str_eq(ev.sha, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
	cr_assert_str_eq(ev.before, "95790bf891e76fee5e1747ab589903a6a1f80f22");
	hook_event_release(&ev);
	cr_assert_eq(
		parse_fixture(FORGE_GITLAB, "Merge Request Hook", "gitlab/merge_request.json", &ev),
		0);
	cr_assert_eq(ev.kind, HOOK_PULL_REQUEST);
	cr_assert_eq(ev.number, 1);
	cr_assert_str_eq(ev.ref, "refs/merge-requests/1/head");
	cr_assert_str_eq(ev.branch, "ms-viewport");
	cr_assert_str_eq(ev.base_branch, "master");
	cr_assert_str_eq(ev.sha, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
	cr_assert_not(ev.fork, "source and target project ids are equal");
	hook_event_release(&ev);
}

Test(webhook, malformed_and_hostile_bodies)
{
	struct hook_event ev;
	char err[256];
	static const char *const bad[] = {
		"",
		"{",
		"[1,2]",
		"{\"ref\": \"refs/heads/main\"}",
		"{\"ref\": \"refs/heads/main\", \"after\": \"abc\", \"repository\": "
		"{\"full_name\": \"a/b\"}}",
		"{\"ref\": \"refs/heads/ma..in\", \"after\": "
		"\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", \"repository\": "
		"{\"full_name\": \"a/b\"}}",
		"{\"ref\": \"refs/heads/-x\", \"after\": "
		"\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", "
		"\"repository\": {\"full_name\": \"a/b\"}}",
		"{\"ref\": \"refs/heads/a\\u0000b\", \"after\": "
		"\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", \"repository\": "
		"{\"full_name\": \"a/b\"}}",
		"{\"ref\": \"refs/heads/main\", \"ref\": \"refs/heads/other\"}",
		"{\"ref\": \"refs/heads/x\", \"after\": "
		"\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", "
		"\"repository\": {\"full_name\": 7}}",
		/* An old tip that is not a commit id would scan the wrong range. */
		"{\"ref\": \"refs/heads/x\", \"before\": \"HEAD~3\", \"after\": "
		"\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", "
		"\"repository\": {\"full_name\": \"a/b\"}}",
		"{\"ref\": \"refs/heads/x\", \"before\": 7, \"after\": "
		"\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", "
		"\"repository\": {\"full_name\": \"a/b\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(webhook_parse(FORGE_GITHUB, "push", bad[i], strlen(bad[i]), &ev, err,
					   sizeof(err)),
			     -EINVAL, "accepted: %s", bad[i]);
		cr_assert_neq(err[0], '\0');
	}
	/* A missing event header is an error too. */
	cr_assert_eq(webhook_parse(FORGE_GITHUB, NULL, "{}", 2, &ev, err, sizeof(err)), -EINVAL);
	/* Upper-case commit ids are normalised. */
	const char *up = "{\"ref\": \"refs/tags/v1.0\", \"after\": "
			 "\"6113728F27AE82C7B1A177C8D03F9E96E0ADF246\", \"repository\": "
			 "{\"full_name\": \"a/b\"}}";
	cr_assert_eq(webhook_parse(FORGE_GITEA, "push", up, strlen(up), &ev, err, sizeof(err)), 0);
	cr_assert_eq(ev.kind, HOOK_TAG);
	cr_assert_str_eq(ev.tag, "v1.0");
	cr_assert_str_eq(ev.sha, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
	cr_assert_str_eq(ev.before, "", "none sent");
	hook_event_release(&ev);
}

Test(webhook, github_push_keeps_the_old_tip)
{
	struct hook_event ev;
	char err[256];
	/* GitHub's push to an existing branch: the new-branch example with an old tip. */
	size_t len;
	char *body = fixture("github/push/with-new-branch.payload.json", &len);
	char *zeros = strstr(body, "\"before\": \"0000000000000000000000000000000000000000\"");
	cr_assert_not_null(zeros);
	memcpy(zeros + 11, "95790bf891e76fee5e1747ab589903a6a1f80f22", 40);
	cr_assert_eq(webhook_parse(FORGE_GITHUB, "push", body, len, &ev, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(ev.kind, HOOK_PUSH);
	cr_assert_str_eq(ev.before, "95790bf891e76fee5e1747ab589903a6a1f80f22");
	hook_event_release(&ev);
	free(body);
	/* Gitea's push has GitHub's shape: `before` too, upper case normalised. */
	const char *tea = "{\"ref\": \"refs/heads/main\", \"before\": "
			  "\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\", \"after\": "
			  "\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\", \"repository\": "
			  "{\"full_name\": \"a/b\"}}";
	cr_assert_eq(webhook_parse(FORGE_GITEA, "push", tea, strlen(tea), &ev, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(ev.before, "abcdef0123456789abcdef0123456789abcdef01");
	hook_event_release(&ev);
}

Test(webhook, annotated_tags_run_their_commit)
{
	/* `after` is the tag object for an annotated tag; the commit is elsewhere. */
	const char *gh = "{\"ref\": \"refs/tags/v2\", \"after\": "
			 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"head_commit\": {\"id\": "
			 "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}, \"repository\": "
			 "{\"full_name\": \"a/b\"}}";
	struct hook_event ev;
	char err[256];
	cr_assert_eq(webhook_parse(FORGE_GITHUB, "push", gh, strlen(gh), &ev, err, sizeof(err)), 0);
	cr_assert_eq(ev.kind, HOOK_TAG);
	cr_assert_str_eq(ev.sha, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	hook_event_release(&ev);
	const char *gl =
		"{\"object_kind\": \"tag_push\", \"ref\": \"refs/tags/v2\", "
		"\"after\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"checkout_sha\": "
		"\"cccccccccccccccccccccccccccccccccccccccc\", \"project\": "
		"{\"path_with_namespace\": \"g/p\"}}";
	cr_assert_eq(
		webhook_parse(FORGE_GITLAB, "Tag Push Hook", gl, strlen(gl), &ev, err, sizeof(err)),
		0);
	cr_assert_eq(ev.kind, HOOK_TAG);
	cr_assert_str_eq(ev.sha, "cccccccccccccccccccccccccccccccccccccccc");
	hook_event_release(&ev);
	/* Branch pushes run `after`, whatever head_commit says. */
	const char *br = "{\"ref\": \"refs/heads/x\", \"after\": "
			 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"head_commit\": {\"id\": "
			 "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}, \"repository\": "
			 "{\"full_name\": \"a/b\"}}";
	cr_assert_eq(webhook_parse(FORGE_GITHUB, "push", br, strlen(br), &ev, err, sizeof(err)), 0);
	cr_assert_str_eq(ev.sha, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	hook_event_release(&ev);
}
