/*
 * pipeline.h - the pipeline model (format version 1) and its loader.
 *
 * A pipeline file is parsed with libyaml into an arena-owned document, then checked and
 * turned into this model in one pass that collects every error it can (each with
 * file:line:col and, where one helps, a hint). A model that loads without errors is valid:
 * stage references resolve, the graph has no cycle, every `if:` parses, every `${NAME}`
 * names a known variable, and every built-in kind accepted its `with:`.
 *
 * The model, its strings and the YAML nodes it points into (`with:`) all live in the
 * pipeline's arena and are released by pipeline_free().
 */
#ifndef RUNNER_PIPELINE_H
#define RUNNER_PIPELINE_H

#include "dag.h"
#include "stage.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct diag_list;
struct expr;
struct hmap;
struct ynode;
struct stage_kind;
struct psandbox;

/* Caps on untrusted input. */
#define PIPELINE_MAX_BYTES   (8u << 20)
#define PIPELINE_MAX_DEPTH   64
#define PIPELINE_MAX_NODES   2000000
#define PIPELINE_MAX_STAGES  10000
#define PIPELINE_MAX_EDGES   1000000
#define PIPELINE_MAX_TIMEOUT (7ull * 24 * 3600 * 1000)
#define PIPELINE_MAX_RETRY   10
#define PIPELINE_MAX_LIST    256 /* outputs, secrets, env entries per stage */

#define PIPELINE_DEFAULT_TIMEOUT_MS (3600ull * 1000)
#define PIPELINE_DEFAULT_GRACE_MS   (10ull * 1000)

struct pos {
	unsigned line, col;
};

struct pvar {
	const char *name;
	const char *value; /* raw, may contain ${...} */
	struct pos pos;
};

enum retry_when {
	RETRY_ON_FAILURE = 1u << 0,
	RETRY_ON_TIMEOUT = 1u << 1,
};

struct pstage {
	const char *name;
	struct pos pos;
	size_t index;
	const struct stage_kind *kind;
	const char *script;	  /* run: (script kind) */
	const struct ynode *with; /* uses: kinds; NULL when absent */
	size_t *needs;		  /* indices of needed stages */
	size_t n_needs;
	struct expr *cond; /* NULL: always */
	const char *cond_src;
	struct pvar *env;
	size_t n_env;
	uint64_t timeout_ms, kill_grace_ms;
	unsigned retry, retry_when;
	bool allow_failure, allow_skipped_needs;
	const char **outputs;
	size_t n_outputs;
	const char **secrets; /* secret names */
	size_t n_secrets;
	const char *workdir; /* relative to the workspace; "." by default */
	const char *ungated; /* push stages: why they may skip the security gates, or NULL */
	const struct psandbox *sandbox; /* `sandbox:` over `defaults.sandbox`; NULL: none */
	enum stage_shell shell;		/* script stages: what runs `run:` (stages/stage.h) */
};

struct pipeline {
	struct arena *arena;
	const char *path;   /* as given, for diagnostics */
	const char *dir;    /* absolute directory of the file: the workspace */
	const char *source; /* file contents (for excerpts in diagnostics) */
	size_t source_len;
	const char *name;
	struct pvar *env;
	size_t n_env;
	const struct ynode *gate; /* top-level `gate:` (checked by gate_config_check), or NULL */
	struct pstage **stages;	  /* file order */
	size_t n_stages;
	struct hmap *by_name;
	struct dag dag;
	size_t *order; /* topological order */
};

/* Names of the runner variables available to ${...} (NULL-terminated). RUNNER_STAGE is a
 * stage's own: not in the pipeline's env, nor in `gate:`. */
extern const char *const pipeline_runner_vars[];
/* The variables of the runner's own environment a stage gets (NULL-terminated). */
extern const char *const pipeline_passthrough_vars[];

/*
 * Load and validate the pipeline in file `path`. Returns 0 with *out set, or a negative
 * errno with diagnostics in dl (-EINVAL: the pipeline is invalid; other: I/O).
 */
int pipeline_load_file(const char *path, struct pipeline **out, struct diag_list *dl);

/*
 * Read a pipeline file as pipeline_load_file() does: a regular file only (a FIFO would hang
 * the runner), and a symbolic link only as long as it stays inside the file's directory
 * (-EXDEV otherwise: a link to a host file would make that file's text the pipeline, and
 * its lines the error messages). *dir (when dir is not NULL): the absolute directory, which
 * is the workspace. Returns 0, -EFBIG, -EINVAL (not a regular file) or another -errno.
 */
int pipeline_read_file(const char *path, char **buf, size_t *len, char **dir);

/* The same from memory; name is used in diagnostics, dir is the workspace. */
int pipeline_load_buffer(const char *name, const char *dir, const char *buf, size_t len,
			 struct pipeline **out, struct diag_list *dl);

void pipeline_free(struct pipeline *p);

struct pstage *pipeline_find(const struct pipeline *p, const char *name);

/* Secret name -> environment variable name ("npm_token" -> "NPM_TOKEN"), in arena. */
const char *pipeline_secret_env(struct arena *a, const char *secret);

#endif
