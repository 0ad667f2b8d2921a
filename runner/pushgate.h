/*
 * pushgate.h - the security gate in front of stages that publish (kinds with
 * STAGE_KIND_PUSH, such as container-push), enforced twice:
 *
 *   1. when a pipeline is loaded: a push stage must depend, directly or through other
 *      stages, on at least one stage of each of the kinds in pushgate_required_kinds
 *      (sast, secrets, dependency-scan), unless it carries `ungated: "<reason>"`;
 *      `ungated` is refused on stages that do not push; and a push stage's registry
 *      credentials (`with: credentials: NAME`) may be given to no stage that does not
 *      push with them;
 *   2. when the run reaches a push stage: every security stage upstream (kinds with
 *      STAGE_KIND_SECURITY) must have PASSED: not failed (even if allowed to), not
 *      blocked, not skipped, not errored or cancelled. Otherwise the push is not
 *      attempted: it is blocked (exit 3), or an error (exit 4) when a scanner errored.
 *
 * The required kinds are checked by name, so the check works (and names what is
 * missing) before those kinds exist in this build.
 */
#ifndef RUNNER_PUSHGATE_H
#define RUNNER_PUSHGATE_H

#include <stddef.h>

struct diag_list;
struct pipeline;
struct stage_run;
struct ynode;

/* The kinds a push stage must sit behind (NULL-terminated). */
extern const char *const pushgate_required_kinds[];

/*
 * Check every push stage of p (stage_nodes[i] is the YAML mapping of stage i, for
 * positions; NULL: stage positions only). Adds an error to dl for each violation.
 */
void pushgate_validate(const struct pipeline *p, const struct ynode *const *stage_nodes,
		       struct diag_list *dl);

enum pushgate_verdict {
	PUSHGATE_OPEN,	  /* every security stage upstream passed */
	PUSHGATE_BLOCKED, /* one failed, was blocked, skipped or cancelled */
	PUSHGATE_ERROR,	  /* one errored */
};

/*
 * Whether push stage `stage` may start, given the statuses so far (stages[] indexed like
 * p->stages). When it may not, msg (size bytes) names the upstream stage and why.
 */
enum pushgate_verdict pushgate_upstream(const struct pipeline *p, const struct stage_run *stages,
					size_t stage, char *msg, size_t size);

#endif
