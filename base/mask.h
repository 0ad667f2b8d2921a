/*
 * mask.h - secret masking for everything the runner writes: live output, stage logs,
 * reports. A mask holds the secret values; each value is registered together with the
 * forms in which it commonly reappears in output:
 *
 *   - the value itself, and without a trailing newline;
 *   - every line of a multi-line value (PEM keys get re-wrapped and re-indented), and the
 *     value with CRLF line ends;
 *   - its JSON/C-escaped form (newline as \n, quotes and backslashes escaped), also with
 *     '/' as \/ (PHP) and non-ASCII as \uXXXX (Python's json.dumps);
 *   - its percent-encoded forms (upper and lower case hex, form encoding with '+', and
 *     with '/' left as it is, like Python's urllib.parse.quote);
 *   - its base64 encodings (standard and URL alphabets) at each of the three byte
 *     alignments it can have inside a longer base64 stream, also wrapped into lines
 *     (76 or 64 columns, CRLF, indented: see mask.c);
 *   - for a value with blanks in it: with its blanks collapsed to one space (as a SAST
 *     message quotes code); its first words followed by "...", and "..." followed by its
 *     last words (as the scanners quote text cut short at a blank; at least
 *     MASK_MIN_SECRET and at most 240 bytes of it).
 *
 * Every byte of every occurrence is masked, also where occurrences overlap (one secret
 * inside another, its prefix or suffix, or the end of one the start of the next): each
 * stretch of overlapping occurrences is replaced by one "***", and occurrences that only
 * touch by two. The stream interface masks data that arrives in arbitrary pieces and gives
 * the same result whatever the pieces: bytes that could be the start of a secret, or of a
 * longer secret that a complete shorter one begins, are held back (less than the most text a
 * match can cover) until the next write rules that out or the flush.
 */
#ifndef RUNNER_BASE_MASK_H
#define RUNNER_BASE_MASK_H

#include <stdbool.h>
#include <stddef.h>

#define MASK_REPLACEMENT "***"
#define MASK_MIN_SECRET	 4 /* shorter values cannot be masked without wrecking output */
#define MASK_MAX_SECRET	 65536

struct mask;

struct mask *mask_new(void);
void mask_free(struct mask *m);

/*
 * Register a secret value. Returns 0, -EINVAL if it is shorter than MASK_MIN_SECRET
 * bytes (after trimming surrounding whitespace) or -E2BIG above MASK_MAX_SECRET.
 */
int mask_add(struct mask *m, const char *value, size_t len);
size_t mask_count(const struct mask *m);
/* How many forms the mask looks for, all secrets together (its size). */
size_t mask_forms(const struct mask *m);

/* Mask a complete buffer. Returns a new heap string (caller frees); *outlen may be NULL. */
char *mask_redact(const struct mask *m, const char *s, size_t len, size_t *outlen);
/* Convenience for NUL-terminated strings; NULL in gives NULL out. m may be NULL. */
char *mask_redact_str(const struct mask *m, const char *s);
/* s redacted, then cut to at most max bytes on a character boundary (*cut says whether
 * it was), as valid UTF-8: masked before it is cut, since a cut could leave the start of
 * a secret that the mask would no longer recognise. Caller frees. */
char *mask_redact_cut(const struct mask *m, const char *s, size_t max, bool *cut);

typedef void (*mask_emit_fn)(void *userdata, const char *data, size_t len);

struct mask_stream;

/* m may be NULL (no secrets): data then passes through unchanged. m must outlive s. */
struct mask_stream *mask_stream_new(const struct mask *m, mask_emit_fn emit, void *userdata);
void mask_stream_write(struct mask_stream *s, const char *data, size_t len);
/* Emit everything still held back. The stream can be written to again afterwards. */
void mask_stream_flush(struct mask_stream *s);
void mask_stream_free(struct mask_stream *s);

#endif
