/*
 * fuzz-pipeline.c - the pipeline loader (YAML parsing, validation, expressions,
 * interpolation checks, graph checks) on arbitrary bytes. It must return an error or a
 * model, never crash, hang or leak.
 */
#include "diag.h"
#include "pipeline.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl;
	struct pipeline *p = NULL;
	diag_list_init(&dl, 20);
	int r = pipeline_load_buffer("fuzz.yml", "/ws", (const char *)data, size, &p, &dl);
	if (r == 0 && !p) {
		__builtin_trap();
	}
	if (r < 0 && (p || dl.errors == 0)) {
		/* An error must come with a message. */
		__builtin_trap();
	}
	pipeline_free(p);
	diag_list_release(&dl);
	return 0;
}
