/*
 * output.h - what `runner run` shows while it works and at the end, and how diagnostics
 * are printed. Three modes:
 *
 *   tty    stage-prefixed lines in colour, a one-line progress display redrawn about once
 *          a second, a summary table;
 *   plain  the same lines without colour or progress line (not a terminal, CI=true,
 *          --no-color or NO_COLOR);
 *   json   one JSON object per line (run_started, stage_started, log, stage_finished,
 *          run_finished) on stdout, for tools.
 *
 * Stage output is untrusted: control characters and escape sequences other than colour
 * (SGR) are removed before they reach the terminal, and colour too in plain mode.
 */
#ifndef RUNNER_OUTPUT_H
#define RUNNER_OUTPUT_H

#include "run.h"

#include <stdbool.h>
#include <stdio.h>

struct diag_list;
struct mask;

enum output_mode {
	OUTPUT_TTY,
	OUTPUT_PLAIN,
	OUTPUT_JSON,
};

struct output;

struct output *output_new(FILE *out, enum output_mode mode, bool color);
void output_free(struct output *o);

/* The observer to pass to run_pipeline(). */
const struct run_observer *output_observer(struct output *o);

/* Final summary (tty/plain: a table; json: the run_finished event). */
void output_summary(struct output *o, const struct run *r);

/* Pick the mode for this process: tty when out is a terminal and CI is not set. */
enum output_mode output_detect(FILE *out, bool json, bool no_color, bool *color);

/*
 * Print diagnostics as `file:line:col: error: message`, with the source line and a caret
 * when source is given, and `hint:` lines. Sorted by position first.
 */
void output_diags(FILE *f, struct diag_list *dl, const char *source, size_t source_len, bool color);

/* Mask the secrets of m (or none: NULL) in what output_diags prints from now on: messages,
 * hints, file names and source lines (m must outlive the calls). */
void output_mask_diags(const struct mask *m);

/* Remove control characters and non-SGR escapes (and SGR too when !keep_color). */
size_t output_sanitize(const char *in, size_t len, char *out, bool keep_color);

/*
 * A stage's output on its way to the secret masker, as a stream: escape sequences (CSI,
 * OSC, two-byte) and control characters but tab and newline removed, a carriage return
 * not followed by a newline made a newline. A sequence ends at a line break (which is
 * kept) or after 4096 bytes: an unterminated one hides nothing past its line. A secret
 * cut by an escape sequence or a control character would pass the masker in two pieces
 * and be shown whole once they are removed (on a terminal, by `less -R`, by the
 * sanitising of the live output); so they go first. A sequence may span calls. out holds
 * at least 2 * len bytes; returns its length.
 */
struct ctl_filter {
	unsigned char state;
	bool cr;
	unsigned seq_len;
};
size_t ctl_filter_run(struct ctl_filter *f, const char *in, size_t len, char *out);

/* A NUL-terminated text made fit for a terminal the same way (heap; s may be NULL). */
char *output_clean(const char *s);

/* Text from a pipeline or a file (a pipeline's name, a path, an error) for one line of a
 * terminal: control characters (line breaks too) and escape sequences removed (heap; s
 * may be NULL). */
char *output_clean_line(const char *s);

/*
 * fflush(f), and fwrite(buf, len) then fflush(f), remembering for standard output why a
 * write failed (its errno, which stdio does not keep): output_stdout_errno() gives the
 * first such errno, or 0. They return 0 or -errno.
 */
int output_flush(FILE *f);
int output_write(FILE *f, const void *buf, size_t len);
/* output_write() of a string (a usage text: whatever its length, a failed write keeps its
 * errno, which stdio's own flush of a full buffer would lose). */
int output_text(FILE *f, const char *s);
int output_stdout_errno(void);

#endif
