/*
 * output.c - terminal, plain and JSON-lines output of a run, and diagnostics.
 */
#include "output.h"

#include "diag.h"
#include "mask.h"
#include "pipeline.h"
#include "util.h"

#include <jansson.h>
#include <string.h>

#include "banned.h"

#define C_RESET "\033[0m"
#define C_BOLD	"\033[1m"
#define C_DIM	"\033[2m"
#define C_RED	"\033[31m"
#define C_GREEN "\033[32m"
#define C_YEL	"\033[33m"
#define C_CYAN	"\033[36m"

static const char *const stage_colors[] = { "\033[36m", "\033[35m", "\033[34m",
					    "\033[33m", "\033[32m", "\033[96m" };

struct output {
	FILE *f;
	enum output_mode mode;
	bool color;
	bool progress_shown;
	unsigned width; /* of the stage-name column */
	struct run_observer obs;
	uint64_t started_mono;
};

static const char *col(const struct output *o, const char *c)
{
	return o->color ? c : "";
}

size_t output_sanitize(const char *in, size_t len, char *out, bool keep_color)
{
	size_t o = 0;
	/* What a terminal shows of a line with carriage returns: the text after the last. */
	for (size_t i = len; i-- > 0;) {
		if (in[i] == '\r' && i + 1 < len) {
			in += i + 1;
			len -= i + 1;
			break;
		}
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == 0x1b) {
			/* CSI: ESC [ params final. Keep only SGR ('m'), if asked to. */
			if (i + 1 < len && in[i + 1] == '[') {
				size_t j = i + 2;
				while (j < len &&
				       ((in[j] >= '0' && in[j] <= '9') || in[j] == ';')) {
					j++;
				}
				if (j < len && in[j] == 'm' && keep_color) {
					memcpy(out + o, in + i, j - i + 1);
					o += j - i + 1;
				}
				/* Skip any other CSI up to its final byte. */
				while (j < len && !((unsigned char)in[j] >= 0x40 &&
						    (unsigned char)in[j] <= 0x7e)) {
					j++;
				}
				i = j;
				continue;
			}
			if (i + 1 < len && in[i + 1] == ']') {
				/* OSC: up to BEL or ESC \ */
				size_t j = i + 2;
				while (j < len && in[j] != '\a' &&
				       !(in[j] == 0x1b && j + 1 < len && in[j + 1] == '\\')) {
					j++;
				}
				i = (j < len && in[j] == 0x1b) ? j + 1 : j;
				continue;
			}
			i++; /* a two-byte escape */
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			continue;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

enum { CF_TEXT, CF_ESC, CF_CSI, CF_OSC, CF_OSC_ESC, CF_C2 };

/* Longer sequences than this end (what follows is text again): an unterminated one must
 * not swallow the rest of a stage's output. */
#define CF_SEQ_MAX 4096

size_t ctl_filter_run(struct ctl_filter *f, const char *in, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (f->state != CF_TEXT && ++f->seq_len > CF_SEQ_MAX) {
			f->state = CF_TEXT;
		}
		/* A line break ends a sequence, and is kept: an unterminated sequence (an ESC ]
		 * that a file name or a package's name put in a line) hides no later line. */
		if ((c == '\n' || c == '\r') && f->state != CF_TEXT && f->state != CF_C2) {
			f->state = CF_TEXT;
		}
		switch (f->state) {
		case CF_ESC:
			f->state = c == '[' ? CF_CSI : c == ']' ? CF_OSC : CF_TEXT;
			continue;
		case CF_CSI:
			if (c >= 0x40 && c <= 0x7e) {
				f->state = CF_TEXT;
			}
			continue;
		case CF_OSC:
			f->state = c == '\a' ? CF_TEXT : c == 0x1b ? CF_OSC_ESC : CF_OSC;
			continue;
		case CF_OSC_ESC:
			f->state = c == '\\' ? CF_TEXT : CF_OSC;
			continue;
		case CF_C2:
			/* U+0080..U+009F, the C1 controls (0x9b is CSI to some terminals). */
			f->state = CF_TEXT;
			if (c >= 0x80 && c <= 0x9f) {
				continue;
			}
			out[o++] = (char)0xc2;
			break;
		default:
			break;
		}
		if (f->cr) {
			f->cr = false;
			if (c != '\n') {
				out[o++] = '\n';
			}
		}
		if (c == 0x1b) {
			f->state = CF_ESC;
			f->seq_len = 0;
		} else if (c == 0xc2) {
			f->state = CF_C2;
			f->seq_len = 0;
		} else if (c == '\r') {
			f->cr = true;
		} else if (c >= 0x20 ? c != 0x7f : c == '\t' || c == '\n') {
			out[o++] = (char)c;
		}
	}
	return o;
}

/* A stage's message (which can quote what a stage or a file name holds) as it may reach a
 * terminal: no control characters, no escape sequences. At most size - 1 bytes. */
static const char *clean_message(const char *msg, char *buf, size_t size)
{
	size_t n = strnlen(msg, size - 1);
	size_t k = output_sanitize(msg, n, buf, false);
	buf[k] = '\0';
	return buf;
}

static void clear_progress(struct output *o)
{
	if (o->progress_shown) {
		fputs("\r\033[K", o->f);
		o->progress_shown = false;
	}
}

static void emit_json(struct output *o, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s) {
		fputs(s, o->f);
		fputc('\n', o->f);
		free(s);
	}
	output_flush(o->f);
}

static const char *status_color(const struct output *o, const struct stage_run *s)
{
	switch (s->status) {
	case STATUS_PASSED:
		return col(o, C_GREEN);
	case STATUS_FAILED:
		return s->allowed_failure ? col(o, C_YEL) : col(o, C_RED);
	case STATUS_BLOCKED:
	case STATUS_ERROR:
		return col(o, C_RED);
	default:
		return col(o, C_DIM);
	}
}

static const char *status_text(const struct stage_run *s)
{
	if (s->status == STATUS_FAILED && s->allowed_failure) {
		return "failed (allowed)";
	}
	return stage_status_name(s->status);
}

static uint64_t stage_duration(const struct stage_run *s)
{
	uint64_t d = 0;
	for (unsigned k = 0; k < s->n_attempts; k++) {
		d += s->attempts[k].duration_ms;
	}
	return d;
}

static void on_started(void *ud, const struct run *r)
{
	struct output *o = ud;
	o->started_mono = now_mono_ms();
	for (size_t i = 0; i < r->n_stages; i++) {
		if (r->stages[i].selected) {
			o->width = MAX(o->width, (unsigned)strlen(r->stages[i].def->name));
		}
	}
	o->width = MIN(o->width, 24u);
	if (o->mode == OUTPUT_JSON) {
		emit_json(o, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "event", "run_started",
				       "run_id", r->id, "pipeline", r->pipeline->name, "record",
				       r->dir, "stages", (int)r->n_selected, "jobs", (int)r->jobs));
		return;
	}
	/* The pipeline's name is the file's: no escape sequence of it reaches the terminal. */
	_cleanup_free_ char *name = output_clean_line(r->pipeline->name);
	fprintf(o->f, "%s==> %s%s: %zu stage%s, -j%u, run %s%s\n", col(o, C_BOLD), name,
		col(o, C_RESET), r->n_selected, r->n_selected == 1 ? "" : "s", r->jobs, r->id, "");
	output_flush(o->f);
}

static void on_stage_started(void *ud, const struct run *r, size_t i, unsigned attempt)
{
	struct output *o = ud;
	const char *name = r->stages[i].def->name;
	if (o->mode == OUTPUT_JSON) {
		emit_json(o, json_pack("{s:s, s:s, s:i}", "event", "stage_started", "stage", name,
				       "attempt", (int)attempt));
		return;
	}
	clear_progress(o);
	const char *sc = col(o, stage_colors[i % ARRAY_SIZE(stage_colors)]);
	if (attempt > 1) {
		fprintf(o->f, "%s%-*s%s | %s-- started (attempt %u)%s\n", sc, (int)o->width, name,
			col(o, C_RESET), col(o, C_DIM), attempt, col(o, C_RESET));
	} else {
		fprintf(o->f, "%s%-*s%s | %s-- started%s\n", sc, (int)o->width, name,
			col(o, C_RESET), col(o, C_DIM), col(o, C_RESET));
	}
	output_flush(o->f);
}

static void on_stage_line(void *ud, const struct run *r, size_t i, const char *line, size_t len)
{
	struct output *o = ud;
	const char *name = r->stages[i].def->name;
	if (o->mode == OUTPUT_JSON) {
		char *clean = utf8_sanitize(line, len);
		emit_json(o, json_pack("{s:s, s:s, s:s}", "event", "log", "stage", name, "line",
				       clean));
		free(clean);
		return;
	}
	char *buf = xmalloc(len + 1);
	size_t n = output_sanitize(line, len, buf, o->color);
	clear_progress(o);
	fprintf(o->f, "%s%-*s%s | ", col(o, stage_colors[i % ARRAY_SIZE(stage_colors)]),
		(int)o->width, name, col(o, C_RESET));
	fwrite(buf, 1, n, o->f);
	fputs(o->color && memchr(buf, 0x1b, n) ? C_RESET "\n" : "\n", o->f);
	free(buf);
	if (o->mode == OUTPUT_PLAIN) {
		output_flush(o->f);
	}
}

static void on_stage_finished(void *ud, const struct run *r, size_t i)
{
	struct output *o = ud;
	const struct stage_run *s = &r->stages[i];
	char dur[32];
	format_duration(stage_duration(s), dur, sizeof(dur));
	if (o->mode == OUTPUT_JSON) {
		json_t *j =
			json_pack("{s:s, s:s, s:s, s:b, s:I, s:i}", "event", "stage_finished",
				  "stage", s->def->name, "status", stage_status_name(s->status),
				  "allowed_failure", (int)s->allowed_failure, "duration_ms",
				  (json_int_t)stage_duration(s), "attempts", (int)s->n_attempts);
		if (s->message) {
			json_object_set_new(j, "message", json_string(s->message));
		}
		emit_json(o, j);
		return;
	}
	clear_progress(o);
	fprintf(o->f, "%s%-*s%s | %s-- %s%s", col(o, stage_colors[i % ARRAY_SIZE(stage_colors)]),
		(int)o->width, s->def->name, col(o, C_RESET), status_color(o, s), status_text(s),
		col(o, C_RESET));
	if (s->n_attempts) {
		fprintf(o->f, " in %s", dur);
	}
	if (s->message && s->status != STATUS_PASSED) {
		char clean[1024];
		fprintf(o->f, " (%s)", clean_message(s->message, clean, sizeof(clean)));
	}
	fputc('\n', o->f);
	output_flush(o->f);
}

static void on_tick(void *ud, const struct run *r)
{
	struct output *o = ud;
	if (o->mode != OUTPUT_TTY) {
		return;
	}
	unsigned done = 0, failed = 0, running = 0;
	char line[400];
	size_t n = 0;
	uint64_t now = now_mono_ms();
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct stage_run *s = &r->stages[i];
		if (!s->selected) {
			continue;
		}
		if (s->status == STATUS_RUNNING) {
			running++;
		} else if (s->status != STATUS_PENDING) {
			done++;
			failed += s->status == STATUS_FAILED || s->status == STATUS_ERROR ||
				  s->status == STATUS_BLOCKED;
		}
	}
	char el[32];
	n += (size_t)snprintf(line + n, sizeof(line) - n, "[%s] %u/%zu done, %u running",
			      format_duration(now - o->started_mono, el, sizeof(el)), done,
			      r->n_selected, running);
	if (failed) {
		n += (size_t)snprintf(line + n, sizeof(line) - n, ", %u failed", failed);
	}
	/* Running stages with how long they have been running, as many as fit. */
	for (size_t i = 0; i < r->n_stages && n < 110; i++) {
		const struct stage_run *s = &r->stages[i];
		if (s->status == STATUS_RUNNING && s->n_attempts) {
			uint64_t started = s->attempts[s->n_attempts - 1].started_ms;
			uint64_t wall = now_real_ms();
			char d[32];
			n += (size_t)snprintf(
				line + n, sizeof(line) - n, "%s%s %s", " | ", s->def->name,
				format_duration(wall > started ? wall - started : 0, d, sizeof(d)));
		}
	}
	if (n > 120) {
		memcpy(line + 117, "...", 4);
	}
	fprintf(o->f, "\r\033[K%s%s%s", col(o, C_DIM), line, col(o, C_RESET));
	o->progress_shown = true;
	output_flush(o->f);
}

struct output *output_new(FILE *out, enum output_mode mode, bool color)
{
	struct output *o = xcalloc(1, sizeof(*o));
	o->f = out;
	o->mode = mode;
	o->color = color && mode == OUTPUT_TTY;
	o->obs = (struct run_observer){
		.userdata = o,
		.started = on_started,
		.stage_started = on_stage_started,
		.stage_line = on_stage_line,
		.stage_finished = on_stage_finished,
		.tick = on_tick,
		.want_ticks = mode == OUTPUT_TTY,
	};
	return o;
}

void output_free(struct output *o)
{
	free(o);
}

const struct run_observer *output_observer(struct output *o)
{
	return &o->obs;
}

/* Every stage asked for (named by --stage, else every stage) was skipped: nothing passed. */
static bool nothing_asked_ran(const struct run *r)
{
	bool any = false;
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct stage_run *s = &r->stages[i];
		if (s->requested) {
			if (s->status != STATUS_SKIPPED) {
				return false;
			}
			any = true;
		}
	}
	return any;
}

void output_summary(struct output *o, const struct run *r)
{
	if (o->mode == OUTPUT_JSON) {
		_cleanup_free_ char *report = xasprintf("%s/report.json", r->dir);
		json_t *j =
			json_pack("{s:s, s:s, s:i, s:I, s:s}", "event", "run_finished", "result",
				  run_result_name(r->result), "exit_code", r->exit_code,
				  "duration_ms", (json_int_t)r->duration_ms, "report", report);
		if (r->record_error) {
			json_object_set_new(j, "record_error", json_string(r->record_error));
		}
		emit_json(o, j);
		return;
	}
	clear_progress(o);
	unsigned w = 5;
	for (size_t i = 0; i < r->n_stages; i++) {
		if (r->stages[i].selected) {
			w = MAX(w, (unsigned)strlen(r->stages[i].def->name));
		}
	}
	fprintf(o->f, "\n%s%-*s  %-16s  %8s  %s%s\n", col(o, C_BOLD), (int)w, "STAGE", "STATUS",
		"DURATION", "DETAILS", col(o, C_RESET));
	for (size_t k = 0; k < r->pipeline->n_stages; k++) {
		const struct stage_run *s = &r->stages[k];
		if (!s->selected) {
			continue;
		}
		char dur[32] = "-";
		if (s->n_attempts) {
			format_duration(stage_duration(s), dur, sizeof(dur));
		}
		char details[300] = "";
		size_t dn = 0;
		if (s->n_attempts > 1) {
			dn += (size_t)snprintf(details, sizeof(details), "%u attempts; ",
					       s->n_attempts);
		}
		if (s->message && s->status != STATUS_PASSED && dn < sizeof(details)) {
			clean_message(s->message, details + dn, sizeof(details) - dn);
		} else if (dn >= 2) {
			details[dn - 2] = '\0';
		}
		fprintf(o->f, "%-*s  %s%-16s%s  %8s  %s\n", (int)w, s->def->name,
			status_color(o, s), status_text(s), col(o, C_RESET), dur, details);
	}
	char total[32];
	const char *rc = r->result == RESULT_PASSED ? col(o, C_GREEN) : col(o, C_RED);
	const char *word = run_result_name(r->result);
	if (r->result == RESULT_PASSED && nothing_asked_ran(r)) {
		/* `runner run --stage deploy` whose deploy was skipped did not pass it. */
		rc = col(o, C_DIM);
		word = "skipped";
	}
	/* The record's path and an error about it name the workspace's directories. */
	_cleanup_free_ char *dir = output_clean_line(r->dir);
	fprintf(o->f, "\n%s%s%s in %s (exit %d); record: %s\n", rc, word, col(o, C_RESET),
		format_duration(r->duration_ms, total, sizeof(total)), r->exit_code, dir);
	if (r->record_error) {
		_cleanup_free_ char *err = output_clean_line(r->record_error);
		fprintf(o->f, "%serror:%s %s\n", col(o, C_RED), col(o, C_RESET), err);
	}
	output_flush(o->f);
}

enum output_mode output_detect(FILE *out, bool json, bool no_color, bool *color)
{
	const char *ci = getenv("CI");
	bool in_ci = ci && *ci && !str_eq(ci, "false") && !str_eq(ci, "0");
	const char *nc = getenv("NO_COLOR");
	bool tty = isatty(fileno(out)) && !in_ci;
	*color = tty && !no_color && !(nc && *nc);
	if (json) {
		return OUTPUT_JSON;
	}
	return tty ? OUTPUT_TTY : OUTPUT_PLAIN;
}

/* The text of line `line` (1-based) of source. */
static const char *source_line(const char *src, size_t len, unsigned line, size_t *out_len)
{
	const char *p = src, *end = src + len;
	for (unsigned l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			return NULL;
		}
		p = nl + 1;
	}
	if (p >= end) {
		return NULL;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*out_len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	return p;
}

static int stdout_errno;

static int note_error(FILE *f, int e)
{
	if (f == stdout && !stdout_errno) {
		stdout_errno = e;
	}
	return -e;
}

int output_flush(FILE *f)
{
	errno = 0;
	if (fflush(f) != 0 || ferror(f)) {
		return note_error(f, errno ? errno : EIO);
	}
	return 0;
}

int output_write(FILE *f, const void *buf, size_t len)
{
	errno = 0;
	if (fwrite(buf, 1, len, f) < len) {
		int e = errno ? errno : EIO;
		fflush(f);
		return note_error(f, e);
	}
	return output_flush(f);
}

int output_text(FILE *f, const char *s)
{
	return output_write(f, s, strlen(s));
}

int output_stdout_errno(void)
{
	return stdout_errno;
}

char *output_clean(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *out = xmalloc(2 * n + 1);
	struct ctl_filter cf = { 0 };
	n = ctl_filter_run(&cf, s ? s : "", n, out);
	out[n] = '\0';
	return out;
}

char *output_clean_line(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *out = xmalloc(n + 1);
	output_sanitize(s ? s : "", n, out, false);
	return out;
}

/* The secrets diagnostics are masked with (output_mask_diags). */
static const struct mask *diags_mask;

void output_mask_diags(const struct mask *m)
{
	diags_mask = m;
}

/* s cleaned for the terminal, masked first (NULL in, NULL out). */
static char *diag_clean(const char *s)
{
	if (!s) {
		return NULL;
	}
	_cleanup_free_ char *masked = diags_mask ? mask_redact_str(diags_mask, s) : NULL;
	return output_clean(masked ? masked : s);
}

void output_diags(FILE *f, struct diag_list *dl, const char *source, size_t source_len, bool color)
{
	diag_list_sort(dl);
	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];
		const char *lc = d->level == DIAG_ERROR	    ? C_RED
				 : d->level == DIAG_WARNING ? C_YEL
							    : C_CYAN;
		if (color) {
			fputs(C_BOLD, f);
		}
		/* What a pipeline or a workspace holds (a stage's name, a file's) is quoted in
		 * these: no escape sequence of theirs reaches the terminal. */
		_cleanup_free_ char *file = diag_clean(d->file);
		_cleanup_free_ char *msg = diag_clean(d->msg);
		_cleanup_free_ char *hint = diag_clean(d->hint);
		if (file && d->line) {
			fprintf(f, "%s:%u:%u: ", file, d->line, d->col);
		} else if (file) {
			fprintf(f, "%s: ", file);
		} else {
			fputs("runner: ", f);
		}
		fprintf(f, "%s%s:%s %s%s\n", color ? lc : "", diag_level_name(d->level),
			color ? C_RESET C_BOLD : "", msg, color ? C_RESET : "");
		size_t ll;
		const char *l =
			source && d->line ? source_line(source, source_len, d->line, &ll) : NULL;
		/* A line that quotes a secret is shown masked, without the caret, whose column
		 * the masking moved. */
		_cleanup_free_ char *masked = NULL;
		size_t ml = ll;
		if (l && ll < 300 && diags_mask) {
			masked = mask_redact(diags_mask, l, ll, &ml);
			if (ml == ll && memcmp(masked, l, ll) == 0) {
				free(masked);
				masked = NULL;
			}
		}
		if (l && ll < 300) {
			char *clean = xmalloc(ml + 1);
			/* Tabs become spaces so the caret lines up. */
			size_t n = output_sanitize(masked ? masked : l, ml, clean, false);
			for (size_t k = 0; k < n; k++) {
				clean[k] = clean[k] == '\t' ? ' ' : clean[k];
			}
			fprintf(f, "%5u | %s\n", d->line, clean);
			if (!masked) {
				fputs("      | ", f);
				for (unsigned c = 1; c < d->col && c <= n; c++) {
					fputc(' ', f);
				}
				fprintf(f, "%s^%s\n", color ? C_GREEN : "", color ? C_RESET : "");
			}
			free(clean);
		}
		if (hint) {
			fprintf(f, "  %shint:%s %s\n", color ? C_CYAN : "", color ? C_RESET : "",
				hint);
		}
	}
	if (dl->dropped) {
		fprintf(f, "runner: %zu more problem%s not shown\n", dl->dropped,
			dl->dropped == 1 ? "" : "s");
	}
}
