/*
 * diag.c - diagnostics list.
 */
#include "diag.h"

#include "util.h"

#include <stdarg.h>
#include <stdio.h>

void diag_list_init(struct diag_list *dl, size_t max)
{
	memset(dl, 0, sizeof(*dl));
	dl->max = max ? max : 100;
}

void diag_list_release(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++) {
		free(dl->v[i].file);
		free(dl->v[i].msg);
		free(dl->v[i].hint);
	}
	free(dl->v);
	diag_list_init(dl, dl->max);
}

/*
 * msg (heap) with the userinfo of every URL in it replaced by three asterisks
 * (`user:token` in `https://user:token@host/x`): a message quotes what the input
 * said, and a requirement, a remote or a registry URL can carry a credential, which must
 * not reach a terminal, a log or a report. The authority ends at `/`, `?`, `#`, a blank
 * or a quote; its last `@` ends the userinfo.
 */
static char *without_userinfo(char *msg)
{
	if (!strstr(msg, "://")) {
		return msg;
	}
	size_t n = strlen(msg), o = 0;
	char *out = xmalloc(n * 2 + 1); /* "***" is at most 2 bytes longer than "x@"'s "x" */
	for (size_t i = 0; i < n;) {
		if (i + 3 <= n && memcmp(msg + i, "://", 3) == 0) {
			size_t a = i + 3, e = a, at = SIZE_MAX;
			while (e < n && !strchr("/?#'\"` \t\r\n", msg[e])) {
				at = msg[e] == '@' ? e : at;
				e++;
			}
			memcpy(out + o, "://", 3);
			o += 3;
			if (at != SIZE_MAX && at > a) {
				memcpy(out + o, "***", 3);
				o += 3;
				a = at;
			}
			memcpy(out + o, msg + a, e - a);
			o += e - a;
			i = e;
			continue;
		}
		out[o++] = msg[i++];
	}
	out[o] = '\0';
	free(msg);
	return out;
}

void diag_add(struct diag_list *dl, enum diag_level level, const char *file, unsigned line,
	      unsigned col, const char *hint, const char *fmt, ...)
{
	if (level == DIAG_ERROR) {
		dl->errors++;
	}
	if (dl->n >= dl->max) {
		dl->dropped++;
		return;
	}
	GROW(dl->v, dl->cap, dl->n + 1);
	struct diag *d = &dl->v[dl->n++];
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&d->msg, fmt, ap) < 0) {
		d->msg = xstrdup("(message lost: out of memory)");
	}
	va_end(ap);
	d->msg = without_userinfo(d->msg);
	d->level = level;
	d->file = file ? xstrdup(file) : NULL;
	d->line = line;
	d->col = col;
	d->hint = hint ? without_userinfo(xstrdup(hint)) : NULL;
	d->seq = dl->n;
}

static int cmp_diag(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c) {
		return c;
	}
	if (x->line != y->line) {
		return x->line < y->line ? -1 : 1;
	}
	if (x->col != y->col) {
		return x->col < y->col ? -1 : 1;
	}
	/* Keep insertion order for equal positions (qsort is not stable). */
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

void diag_list_sort(struct diag_list *dl)
{
	if (dl->n > 1) {
		qsort(dl->v, dl->n, sizeof(dl->v[0]), cmp_diag);
	}
}

const char *diag_level_name(enum diag_level level)
{
	switch (level) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	case DIAG_NOTE:
		return "note";
	}
	return "error";
}
