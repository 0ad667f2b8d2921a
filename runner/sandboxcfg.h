/*
 * sandboxcfg.h - the `sandbox:` block of a pipeline (in `defaults:` and in each stage):
 * parsing and validation with positions, and turning it into a sandbox policy.
 *
 * A stage's block is merged key by key over the one in `defaults:` (a key the stage sets
 * replaces the default's whole value, lists included). Unset keys keep the sandbox's
 * defaults (docs/sandbox.md). Limits set here are required: a host that cannot apply one
 * fails the stage rather than run it with less.
 */
#ifndef RUNNER_SANDBOXCFG_H
#define RUNNER_SANDBOXCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct diag_list;
struct ynode;
struct sandbox_policy;

#define SANDBOXCFG_MAX_PATHS 32
#define SANDBOXCFG_MAX_BYTES (1ull << 40) /* memory and tmp-size: 1 TiB */
#define SANDBOXCFG_MAX_PIDS  65536

struct psandbox {
	unsigned line, col;    /* of the block */
	int network;	       /* -1 unset, 0 none, 1 host */
	uint64_t memory, tmp;  /* bytes; 0 unset */
	uint64_t pids;	       /* 0 unset */
	uint64_t cpu_s;	       /* CPU seconds per process; 0 unset */
	int workspace_ro;      /* -1 unset, 0 read-write, 1 read-only */
	const char **ro, **rw; /* workspace-relative paths */
	size_t n_ro, n_rw;
	bool has_ro, has_rw;
	const char *rootfs; /* absolute, or relative to the workspace; NULL unset */
};

/*
 * Parse a `sandbox:` mapping into *out (allocated in the arena), on top of base (the
 * defaults' block, or NULL). Errors go to dl with positions in file. Returns 0 or -EINVAL.
 */
int psandbox_load(struct arena *a, const char *file, const struct ynode *n,
		  const struct psandbox *base, const struct psandbox **out, struct diag_list *dl);

/*
 * Apply a block to a policy (uncompiled). workspace resolves a relative rootfs. Returns 0
 * or -errno with a message in err.
 */
int psandbox_apply(const struct psandbox *ps, const char *workspace, struct sandbox_policy *pol,
		   char *err, size_t errsize);

/*
 * The compiled policies of a run: one per distinct configuration (the seccomp filter is
 * generated once per policy, not per stage). A stage whose policy could not be built or
 * compiled has err set; it must not start.
 */
struct run_policies {
	struct sandbox_policy **v;
	char **err; /* per policy: why it cannot be used, or NULL */
	size_t n;
	size_t *of_stage; /* per pipeline stage: index into v; SIZE_MAX: not selected */
};

struct pipeline;

/*
 * Build and compile the policy of every selected stage: with no_sandbox, the unconfined
 * policy for all; otherwise the stage's `sandbox:` block over the defaults, combined with
 * `enforced` (if not NULL) so that the stricter of the two wins.
 */
void run_policies_build(struct run_policies *rp, const struct pipeline *p, const bool *selected,
			const struct sandbox_policy *enforced, bool no_sandbox);
void run_policies_release(struct run_policies *rp);

#endif
