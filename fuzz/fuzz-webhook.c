/*
 * fuzz-webhook.c - webhook verification and payload parsing on arbitrary deliveries.
 *
 * Input layout: byte 0 picks the forge and the event header; the bytes up to the first
 * newline are the signature header; the rest is the body. Verification must never accept
 * a signature that is not the body's HMAC (and must accept the right one); parsing must
 * return an error or an event whose fields keep their promises (full commit ids, a ref for
 * what runs, a reason for what is ignored), and never crash, hang or leak.
 */
#include "webhook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[] = { "push",	       "pull_request",	    "ping",
				      "create",	       "Push Hook",	    "Merge Request Hook",
				      "Tag Push Hook", "pull_request_sync", "" };
static const char secret[] = "fuzzing-secret-0123456789";

static void check_sha(const char *s)
{
	if (strlen(s) != 40 || strspn(s, "0123456789abcdef") != 40) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	enum forge f = (enum forge)(data[0] % FORGE_COUNT);
	const char *event = events[(data[0] / FORGE_COUNT) % (sizeof(events) / sizeof(events[0]))];
	const char *rest = (const char *)data + 1;
	size_t n = size - 1;
	const char *nl = memchr(rest, '\n', n);
	size_t siglen = nl ? (size_t)(nl - rest) : 0;
	char *sig = malloc(siglen + 1);
	memcpy(sig, rest, siglen);
	sig[siglen] = '\0';
	const char *body = nl ? nl + 1 : rest;
	size_t len = nl ? n - siglen - 1 : n;

	/* The right signature verifies; a random one does only if it is the right one. */
	char hex[65], want[80];
	webhook_hmac_hex(secret, body, len, hex);
	snprintf(want, sizeof(want), "%s%s", f == FORGE_GITHUB ? "sha256=" : "",
		 f == FORGE_GITLAB ? secret : hex);
	if (!webhook_verify(f, want, body, len, secret)) {
		__builtin_trap();
	}
	if (webhook_verify(f, sig, body, len, secret) && strcasecmp(sig, want) != 0) {
		__builtin_trap();
	}
	if (webhook_verify(f, sig, body, len, "")) {
		__builtin_trap();
	}

	struct hook_event ev;
	char err[256];
	int r = webhook_parse(f, event, body, len, &ev, err, sizeof(err));
	if (r < 0 && !err[0]) {
		__builtin_trap(); /* an error says why */
	}
	if (r == 0) {
		switch (ev.kind) {
		case HOOK_PUSH:
			check_sha(ev.sha);
			if (!ev.branch || !ev.ref || !ev.repo) {
				__builtin_trap();
			}
			break;
		case HOOK_TAG:
			check_sha(ev.sha);
			if (!ev.tag || !ev.ref || !ev.repo) {
				__builtin_trap();
			}
			break;
		case HOOK_PULL_REQUEST:
			check_sha(ev.sha);
			if (!ev.ref || !ev.branch || !ev.base_branch || !ev.repo ||
			    ev.number == 0 || !ev.head_repo) {
				__builtin_trap();
			}
			break;
		case HOOK_IGNORED:
			if (!ev.reason[0]) {
				__builtin_trap();
			}
			break;
		case HOOK_PING:
			break;
		}
		hook_event_release(&ev);
	}
	free(sig);
	return 0;
}
