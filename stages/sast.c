/*
 * sast.c - the `sast` kind: static analysis of the workspace's source code with the
 * default rule packs and the stage's own rules (stages/secscan.h, docs/rules.md).
 */
#include "secscan.h"

#include <stdio.h>

#include "banned.h"

/* Findings printed to the stage log; the report holds them all. */
#define LOG_FINDINGS 500

static int sast_validate(const struct ynode *with, const struct stage_check *chk)
{
	return secscan_validate(RULE_SAST, with, chk);
}

static int sast_run(struct stage_worker *w)
{
	int code = secscan_run(RULE_SAST, w);
	secscan_print_text(stdout, "sast", w->result, LOG_FINDINGS);
	return code;
}

const struct stage_kind stage_kind_sast = {
	.name = "sast",
	.summary = "static analysis of the source code (rules in YAML); reports into the gate",
	.flags = STAGE_KIND_SECURITY,
	.validate = sast_validate,
	.run = sast_run,
};
