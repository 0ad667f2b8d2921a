/*
 * cmd_worker.c - `runner __worker KIND STAGE`: the process a built-in stage kind runs in,
 * started by the runner through the sandbox. Not for people to call.
 */
#include "cli.h"

#include "stage.h"

#include "banned.h"

int cmd_worker(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return stage_worker_main();
}
