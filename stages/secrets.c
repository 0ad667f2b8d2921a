/*
 * secrets.c - the `secrets` kind: secret detection in the workspace's files (provider
 * tokens, private keys, credentials); secrets are reported redacted, never in clear.
 */
#include "secscan.h"

#include <stdio.h>

#include "banned.h"

#define LOG_FINDINGS 500

static int secrets_validate(const struct ynode *with, const struct stage_check *chk)
{
	return secscan_validate(RULE_SECRET, with, chk);
}

static int secrets_run(struct stage_worker *w)
{
	int code = secscan_run(RULE_SECRET, w);
	secscan_print_text(stdout, "secrets", w->result, LOG_FINDINGS);
	return code;
}

const struct stage_kind stage_kind_secrets = {
	.name = "secrets",
	.summary = "secret detection (tokens, keys, passwords), reported redacted; reports into "
		   "the gate",
	.flags = STAGE_KIND_SECURITY,
	.validate = secrets_validate,
	.run = secrets_run,
};
