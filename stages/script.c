/*
 * script.c - the `run:` kind: a shell script executed by `/bin/sh -e -c`, or by
 * `/bin/bash --noprofile --norc -e -o pipefail -c` with `shell: bash`. The launcher builds
 * its command line; it has no configuration and no worker-side code.
 */
#include "stage.h"

#include "banned.h"

const struct stage_kind stage_kind_script = {
	.name = "script",
	.summary = "a shell script (run:), executed by /bin/sh -e (or bash, shell: bash)",
	.flags = STAGE_KIND_SCRIPT,
};

const char *stage_shell_name(enum stage_shell sh)
{
	switch (sh) {
	case STAGE_SHELL_SH:
		return "sh";
	case STAGE_SHELL_BASH:
		return "bash";
	case STAGE_SHELL_COUNT:
		break;
	}
	return "?";
}
