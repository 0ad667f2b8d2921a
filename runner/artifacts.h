/*
 * artifacts.h - copy a stage's declared outputs out of the workspace into the run
 * record, so dependents and later readers see exactly what the stage produced.
 *
 * Paths are relative to the workspace. A symlink is copied as a symlink (its target is
 * never followed), so an output cannot smuggle files from outside the workspace into the
 * record. Total bytes and entries are capped.
 */
#ifndef RUNNER_ARTIFACTS_H
#define RUNNER_ARTIFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARTIFACTS_MAX_BYTES   (4ull << 30)
#define ARTIFACTS_MAX_ENTRIES 100000

struct artifact_budget {
	uint64_t bytes_left;
	size_t entries_left;
	/* A directory never copied (the run record, when it lies in the workspace: an output
	 * of `.` would copy the record into itself): its device and inode, when skip. */
	bool skip;
	dev_t skip_dev;
	ino_t skip_ino;
};

/*
 * Copy workspace/rel to dest_root/rel. Returns 0; -ENOENT when the output does not exist;
 * -EFBIG/-E2BIG when the budget runs out; other -errno on I/O errors. msg gets a
 * human-readable reason on failure.
 */
int artifacts_copy(const char *workspace, const char *rel, const char *dest_root,
		   struct artifact_budget *budget, char *msg, size_t msgsize);

#endif
