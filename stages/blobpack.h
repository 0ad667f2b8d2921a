/*
 * blobpack.h - the blobs of a history scan as one file: written by the runner
 * (runner/histscan.c), unpacked by the secrets worker into its own /tmp (a tmpfs in the
 * sandbox) before it scans them.
 *
 * Creating, then removing, one directory and one file per blob on a disk filesystem costs
 * far more than scanning them; one file written in sequence does not. The worker lays the
 * blobs out as githistory_write() does (runner/githistory.h): dest/ab/cdef.../NAME, the
 * first name a file, the others hard links to it.
 *
 * The format, for the runner's own use: the line "runner-blobpack 1\n", then for each
 * blob the line "<40 hex digits> <size> <names>\n", that many names, each ended by a
 * NUL (one path component: not empty, ".", "..", longer than NAME_MAX, nor holding '/'),
 * and size bytes of content. Anything else, a blob id given twice, or a pack that ends
 * early or goes on after its last blob, is an error: nothing is scanned.
 */
#ifndef RUNNER_STAGES_BLOBPACK_H
#define RUNNER_STAGES_BLOBPACK_H

#include <stddef.h>
#include <stdint.h>

/* Names of one blob in a pack, at most (as many as a history remembers places). */
#define BLOBPACK_MAX_NAMES 8

/* Append one blob to the pack open on fd (the header first, when at is 0: *at counts the
 * bytes written). Returns 0 or -errno (-EINVAL for a name the format cannot hold). */
int blobpack_add(int fd, uint64_t *at, const char *id, const char *const *names, size_t n,
		 const void *data, uint64_t size);

/*
 * Write one blob's files: dest/ab/cdef.../NAME for its first name, the others hard links
 * to it (ab/ must not hold cdef... yet). Returns 0, or -errno with a message in err
 * (-EBADMSG: the blob's directory or a name exists already).
 */
int blobpack_write_blob(const char *dest, const char *id, const char *const *names, size_t n,
			const void *data, uint64_t size, char *err, size_t errlen);

/*
 * Unpack the pack at path into dest (an existing empty directory). Returns the number of
 * blobs written, or -errno with a message in err (-EBADMSG: not a pack as above).
 */
long blobpack_unpack(const char *path, const char *dest, char *err, size_t errlen);

#endif
