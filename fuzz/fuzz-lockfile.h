/*
 * fuzz-lockfile.h - the body shared by the lockfile fuzz targets (fuzz-lock-*.c): each
 * defines FUZZ_FORMAT and includes this. A parser must return packages or an error with a
 * diagnostic naming the file, never crash, hang or leak, and every package it returns must
 * have a name, a version string and a line.
 *
 * Positions. Every diagnostic names one of the input's files, at a position inside it,
 * and every package names one of them, at a line inside it. A text of n line breaks has
 * n + 1 lines: the last one is empty when the text ends with a line break (an empty text
 * is one empty line). A position is inside the text when its line is one of these, 1 to
 * n + 1 (line 0, "the file as a whole", is refused: an error in a lockfile's text has a
 * line), and its column is 0 (not known) or 1 to the line's length in bytes + 1, the
 * column after the last byte being where the line ends (its line break, or the end of
 * the text). Columns that count characters (YAML's, jansson's) are never more than that.
 *
 * The end of the input ("unterminated string", "expected ']'") is at the column after its
 * last byte, which is column 1 of the empty last line when the input ends with a line
 * break. One more place is accepted for it: column 1 of the line after the last when the
 * last has no line break (the input's lines as an editor counts them, + 1), where libyaml
 * reports it (it counts a line break there). Nothing further.
 *
 * The lines are the format's: FUZZ_LINES (default FUZZ_LINES_LF) says which line breaks
 * its readers count, and a position is inside the text when it is by one of them:
 *   FUZZ_LINES_LF    "\n" (a CR before it belongs to the line): JSON, TOML, XML and the
 *                    line-based formats;
 *   FUZZ_LINES_YAML  "\r\n", "\r", "\n", U+0085, U+2028, U+2029, as libyaml counts them
 *                    (YAML in UTF-16, after a byte order mark, is counted in the text
 *                    libyaml decodes);
 *   FUZZ_LINES_PY    Python's str.splitlines, as pip splits a requirements file: those of
 *                    YAML and "\v", "\f", "\x1c"-"\x1e".
 *
 * A target may define FUZZ_PARSE(l, data, size, dl, texts) to parse the input otherwise
 * than as one buffer of FUZZ_FORMAT named "fuzz" (which texts holds when it is called):
 * it then sets texts to the files the input stands for, by their display names. With
 * FUZZ_OTHER_FILES defined, diagnostics and packages may also name files that are not
 * among them (files a scan of a tree reaches): those are not checked.
 */
#include "deps.h"
#include "diag.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_LINES_LF	1u
#define FUZZ_LINES_YAML 2u
#define FUZZ_LINES_PY	4u
#ifndef FUZZ_LINES
#define FUZZ_LINES FUZZ_LINES_LF
#endif

#define FUZZ_MAX_TEXTS 8

struct fuzz_texts {
	struct {
		const char *display;
		const char *buf;
		size_t len;
	} v[FUZZ_MAX_TEXTS];
	size_t n;
};

#ifdef FUZZ_PARSE
static int FUZZ_PARSE(struct dep_list *l, const uint8_t *data, size_t size, struct diag_list *dl,
		      struct fuzz_texts *texts);
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The length of the line break of the set `lines` (one FUZZ_LINES_*) at p, 0 if none. */
static size_t fuzz_line_break(const char *p, const char *end, unsigned lines)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t left = (size_t)(end - p);
	if (u[0] == '\n') {
		return 1;
	}
	if (lines == FUZZ_LINES_LF) {
		return 0;
	}
	if (u[0] == '\r') {
		return left >= 2 && u[1] == '\n' ? 2 : 1;
	}
	if (lines == FUZZ_LINES_PY &&
	    (u[0] == '\v' || u[0] == '\f' || (u[0] >= 0x1c && u[0] <= 0x1e))) {
		return 1;
	}
	if (u[0] == 0xc2 && left >= 2 && u[1] == 0x85) {
		return 2;
	}
	if (u[0] == 0xe2 && left >= 3 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
		return 3;
	}
	return 0;
}

/* Whether line:col (col 0: not known) is inside the text by the line breaks `lines`. */
static bool fuzz_inside_by(const char *buf, size_t len, unsigned lines, unsigned line, unsigned col)
{
	const char *p = buf, *end = buf + len, *start = buf;
	unsigned no = 1;
	while (p < end && no < line) {
		size_t br = fuzz_line_break(p, end, lines);
		p += br ? br : 1;
		if (br) {
			no++;
			start = p;
		}
	}
	if (line == 0 || no != line) {
		/* The end of a text whose last line has no line break, as libyaml reports it:
		 * column 1 of the line after (it counts a break there). */
		return line == no + 1 && p >= end && start < end && col <= 1;
	}
	const char *e = start;
	while (e < end && !fuzz_line_break(e, end, lines)) {
		e++;
	}
	return col <= (size_t)(e - start) + 1;
}

/* Append code point cp to out as UTF-8. */
static size_t fuzz_put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A text with a UTF-16 byte order mark as libyaml reads it: decoded (to UTF-8, heap, in
 * *out), the mark left out; a unit that pairs with none is U+FFFD. false when the text
 * has no such mark. */
static bool fuzz_utf16(const char *buf, size_t len, char **out, size_t *out_len)
{
	const unsigned char *u = (const unsigned char *)buf;
	if (len < 2 || !((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))) {
		return false;
	}
	bool le = u[0] == 0xff;
	char *o = malloc(len * 2 + 4);
	size_t n = 0;
	for (size_t i = 2; i < len; i += 2) {
		if (i + 1 >= len) {
			n += fuzz_put_utf8(o + n, 0xfffd);
			break;
		}
		uint32_t cp = le ? u[i] | (uint32_t)u[i + 1] << 8 : (uint32_t)u[i] << 8 | u[i + 1];
		if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < len) {
			uint32_t lo = le ? u[i + 2] | (uint32_t)u[i + 3] << 8
					 : (uint32_t)u[i + 2] << 8 | u[i + 3];
			if (lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		n += fuzz_put_utf8(o + n, cp >= 0xd800 && cp < 0xe000 ? 0xfffd : cp);
	}
	*out = o;
	*out_len = n;
	return true;
}

static bool fuzz_inside(const char *buf, size_t len, unsigned line, unsigned col)
{
	for (unsigned lines = 1; lines <= FUZZ_LINES; lines <<= 1) {
		if ((FUZZ_LINES & lines) && fuzz_inside_by(buf, len, lines, line, col)) {
			return true;
		}
	}
	/* YAML in UTF-16 has its lines and columns in the text libyaml decodes. */
	char *text;
	size_t n;
	bool inside = false;
	if ((FUZZ_LINES & FUZZ_LINES_YAML) && fuzz_utf16(buf, len, &text, &n)) {
		inside = fuzz_inside_by(text, n, FUZZ_LINES_YAML, line, col);
		free(text);
	}
	return inside;
}

/* The number of lines of the text: the most by any of the target's line breaks. */
static unsigned fuzz_lines(const char *buf, size_t len)
{
	unsigned most = 1;
	for (unsigned lines = 1; lines <= FUZZ_LINES; lines <<= 1) {
		unsigned n = 1;
		for (const char *p = buf, *end = buf + len; (FUZZ_LINES & lines) && p < end;) {
			size_t br = fuzz_line_break(p, end, lines);
			p += br ? br : 1;
			n += br != 0;
		}
		most = n > most ? n : most;
	}
	return most;
}

/* The text named display, or -1 when none is. */
static int fuzz_text_of(const struct fuzz_texts *t, const char *display)
{
	for (size_t i = 0; display && i < t->n; i++) {
		if (strcmp(t->v[i].display, display) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static void fuzz_fail(const char *what, const char *file, unsigned line, unsigned col,
		      const char *msg)
{
	fprintf(stderr, "fuzz-lockfile: %s outside the input: %s:%u:%u: %s\n", what,
		file ? file : "(no file)", line, col, msg);
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dep_list l;
	struct diag_list dl;
	dep_list_init(&l);
	diag_list_init(&dl, 20);
	struct fuzz_texts texts = { .v = { { "fuzz", (const char *)data, size } }, .n = 1 };
#ifdef FUZZ_PARSE
	int r = FUZZ_PARSE(&l, data, size, &dl, &texts);
#else
	int r = deps_parse_buffer(&l, FUZZ_FORMAT, "fuzz", (const char *)data, size, &dl);
#endif
	if (r < 0 && (dl.errors == 0 || l.n != 0)) {
		__builtin_trap();
	}
	for (size_t i = 0; i < dl.n; i++) {
		const struct diag *g = &dl.v[i];
		int t = fuzz_text_of(&texts, g->file);
#ifdef FUZZ_OTHER_FILES
		bool other = t < 0 && g->file; /* not checked */
#else
		bool other = false;
#endif
		if (!other &&
		    (t < 0 || !fuzz_inside(texts.v[t].buf, texts.v[t].len, g->line, g->col))) {
			fuzz_fail("a diagnostic", g->file, g->line, g->col, g->msg);
		}
	}
	unsigned n_lines[FUZZ_MAX_TEXTS];
	for (size_t t = 0; t < texts.n; t++) {
		n_lines[t] = fuzz_lines(texts.v[t].buf, texts.v[t].len);
	}
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		const struct dep *d = &l.v[i];
		if (!d->name || !d->version || !d->file) {
			__builtin_trap();
		}
		int t = fuzz_text_of(&texts, d->file);
#ifdef FUZZ_OTHER_FILES
		bool other = t < 0; /* not checked */
#else
		bool other = false;
#endif
		if (!other && (t < 0 || d->line < 1 || d->line > n_lines[t])) {
			fuzz_fail("a package", d->file, d->line, 0, d->name);
		}
		/* The other entries of the file that are the same package (deps.h). */
		for (size_t k = 0; !other && k < d->n_also && k < DEP_MAX_ALSO; k++) {
			if (d->also[k] < 1 || d->also[k] > n_lines[t]) {
				fuzz_fail("a package's other entry", d->file, d->also[k], 0,
					  d->name);
			}
		}
	}
	dep_list_release(&l);
	diag_list_release(&dl);
	return 0;
}
