/*
 * script.c - the `run:` kind: a shell script executed by `/bin/sh -e -c`. The launcher
 * builds its command line; it has no configuration and no worker-side code.
 */
#include "stage.h"

#include "banned.h"

const struct stage_kind stage_kind_script = {
	.name = "script",
	.summary = "a shell script (run:), executed by /bin/sh -e",
	.flags = STAGE_KIND_SCRIPT,
};
