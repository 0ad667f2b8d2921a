/*
 * worker.c - the worker side of built-in stage kinds (`runner __worker KIND STAGE`).
 *
 * fd 3 holds the configuration {"kind", "stage", "workspace", "with"}; the kind's result
 * object is written to fd 4 when run() returns. Human-readable progress goes to stdout,
 * which the runner captures into the stage log.
 */
#include "stage.h"

#include "util.h"

#include <stdio.h>

#include "banned.h"

#define CONFIG_FD  3
#define RESULT_FD  4
#define CONFIG_MAX (16u << 20)

static int fail(const char *msg)
{
	fprintf(stderr, "runner worker: %s\n", msg);
	return STAGE_EXIT_ERROR;
}

int stage_worker_main(void)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_fd_capped(CONFIG_FD, CONFIG_MAX, &buf, &len) < 0) {
		return fail("cannot read the stage configuration (fd 3)");
	}
	json_error_t jerr;
	json_t *cfg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!cfg || !json_is_object(cfg)) {
		json_decref(cfg);
		return fail("the stage configuration is not a JSON object");
	}
	const char *kind_name = json_string_value(json_object_get(cfg, "kind"));
	const char *stage = json_string_value(json_object_get(cfg, "stage"));
	const char *workspace = json_string_value(json_object_get(cfg, "workspace"));
	json_t *with = json_object_get(cfg, "with");
	json_t *gate = json_object_get(cfg, "gate");
	const struct stage_kind *kind = kind_name ? stage_kind_find(kind_name) : NULL;
	if (!kind || !kind->run || !stage || !workspace || (with && !json_is_object(with))) {
		json_decref(cfg);
		return fail("the stage configuration names no runnable kind");
	}
	struct stage_worker w = {
		.stage_name = stage,
		.workspace = workspace,
		.with = with ? with : json_object(),
		.gate = json_is_object(gate) ? gate : NULL,
		.result = json_object(),
	};
	if (!with) {
		json_object_set_new(cfg, "with", w.with);
	}
	int code = kind->run(&w);
	if (code != STAGE_EXIT_PASSED && code != STAGE_EXIT_FAILED && code != STAGE_EXIT_BLOCKED) {
		code = STAGE_EXIT_ERROR;
	}
	char *out = json_dumps(w.result, JSON_COMPACT);
	if (!out || write_all(RESULT_FD, out, strlen(out)) < 0) {
		code = fail("cannot write the stage result (fd 4)");
	}
	free(out);
	json_decref(w.result);
	json_decref(cfg);
	fflush(stdout);
	return code;
}
