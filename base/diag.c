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
	/* A message quotes what the input said, and a requirement, a remote or a registry
	 * URL can carry a credential. */
	char *raw = d->msg;
	d->msg = text_mask_userinfo(raw);
	free(raw);
	d->level = level;
	d->file = file ? xstrdup(file) : NULL;
	d->line = line;
	d->col = col;
	d->hint = hint ? text_mask_userinfo(hint) : NULL;
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
