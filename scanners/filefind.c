/*
 * filefind.c - excerpts, duplicate numbering and inline suppressions for one file.
 */
#include "filefind.h"

#include "rules.h"
#include "util.h"

#include "banned.h"

char *filefind_excerpt(const char *buf, size_t len, size_t off, size_t max)
{
	if (off > len) {
		off = len;
	}
	/* A lone CR ends the excerpt too: it ends a line for most languages (and would
	 * move the terminal's cursor back over what was printed). */
	size_t b = off;
	while (b > 0 && buf[b - 1] != '\n' && buf[b - 1] != '\r') {
		b--;
	}
	size_t e = off;
	while (e < len && buf[e] != '\n' && buf[e] != '\r') {
		e++;
	}
	while (e > b && (buf[e - 1] == '\r' || buf[e - 1] == ' ' || buf[e - 1] == '\t')) {
		e--;
	}
	while (b < e && b < off && (buf[b] == ' ' || buf[b] == '\t')) {
		b++;
	}
	return filefind_excerpt_span(buf, b, e, max);
}

char *filefind_excerpt_span(const char *buf, size_t b, size_t e, size_t max)
{
	bool cut = false;
	if (e - b > max) {
		/*
		 * Cut at a blank: the part of a word before the cut would be the start of
		 * whatever the word is, a token or a password, which neither the check for
		 * secrets in snippets nor the masking of the pipeline's secrets recognizes
		 * once cut. A word that the cut falls in is left out whole (and a UTF-8
		 * sequence is never cut).
		 */
		e = b + max;
		while (e > b && buf[e] != ' ' && buf[e] != '\t') {
			e--;
		}
		while (e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t')) {
			e--;
		}
		cut = true;
	}
	char *clean = utf8_sanitize(buf + b, e - b);
	if (!cut) {
		return clean;
	}
	char *r = xasprintf("%s...", clean);
	free(clean);
	return r;
}

struct finding *filefind_incomplete(struct finding_list *out, const struct rule *r,
				    enum finding_kind kind, const char *path,
				    const char *file_sha256)
{
	struct finding *f = filefind_add(out, r, kind, path);
	f->line = f->end_line = 1;
	f->column = f->end_column = 1;
	f->message = xasprintf("%s: not evaluated completely on this file: the matcher gave up "
			       "(at its step limit, or past the matches it keeps for a file), so "
			       "a match may be hidden here",
			       f->title ? f->title : r->id);
	finding_set(&f->fix,
		    "simplify the file, or exclude it from the scan if it is known to be safe "
		    "(generated or vendored)");
	f->extra = json_pack("{s:b}", "incomplete", 1);
	finding_fingerprint_file(f, "runner:incomplete", file_sha256);
	return f;
}

static int cmp_pos(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	if (a->line != b->line) {
		return a->line < b->line ? -1 : 1;
	}
	if (a->column != b->column) {
		return a->column < b->column ? -1 : 1;
	}
	return strcmp(a->rule_id ? a->rule_id : "", b->rule_id ? b->rule_id : "");
}

/* A finding of fl->v[first..], in the order of positions, for numbering identical ones. */
struct same {
	const char *rule_id, *fingerprint;
	size_t i;
};

static int cmp_same(const void *pa, const void *pb)
{
	const struct same *a = pa, *b = pb;
	int c = strcmp(a->rule_id, b->rule_id);
	if (c == 0) {
		c = strcmp(a->fingerprint, b->fingerprint);
	}
	return c ? c : a->i < b->i ? -1 : a->i > b->i;
}

size_t filefind_finish(struct finding_list *fl, size_t first, const char *buf, size_t len,
		       const struct tokens *t, unsigned *first_line, size_t *too_many_ids,
		       unsigned *first_too_many_line)
{
	size_t no_reason = 0;
	if (first >= fl->n) {
		return 0;
	}
	qsort(fl->v + first, fl->n - first, sizeof(fl->v[0]), cmp_pos);
	/* Number identical findings (same rule, same fingerprint): the k-th after the first
	 * gets (fingerprint, k). Grouped by sorting, not by comparing every pair: a file can
	 * have a thousand findings per rule. */
	size_t n = 0;
	struct same *v = xcalloc(fl->n - first, sizeof(*v));
	for (size_t i = first; i < fl->n; i++) {
		const struct finding *f = &fl->v[i];
		if (f->rule_id && f->fingerprint) {
			v[n++] = (struct same){ f->rule_id, f->fingerprint, i };
		}
	}
	qsort(v, n, sizeof(*v), cmp_same);
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && str_eq(v[b].rule_id, v[a].rule_id) &&
				str_eq(v[b].fingerprint, v[a].fingerprint);
		     b++) {
		}
		/* The group's own fingerprint is read from v[a] until the last one changes. */
		char base[65];
		snprintf(base, sizeof(base), "%s", v[a].fingerprint);
		for (size_t k = b - a; k-- > 1;) {
			finding_fingerprint(&fl->v[v[a + k].i], base, strlen(base), (unsigned)k);
		}
	}
	free(v);
	struct line_cursor cur = { 0 };
	for (size_t i = first; i < fl->n; i++) {
		struct finding *f = &fl->v[i];
		/* A rule that gave up on the file is about the whole file, not its line 1: a
		 * comment there (which the same file could carry) does not suppress it. */
		if (json_is_true(json_object_get(f->extra, "incomplete"))) {
			continue;
		}
		char *reason = NULL;
		int r = finding_inline_suppression_at(buf, len, t, f->line, f->rule_id, &reason,
						      &cur);
		if (r == 1) {
			f->suppression = SUPPRESSION_INLINE;
			f->disposition = DISPOSITION_SUPPRESSED;
			free(f->suppression_reason);
			f->suppression_reason = reason;
		} else if (r == -E2BIG) {
			if ((*too_many_ids)++ == 0) {
				*first_too_many_line = f->line;
			}
		} else if (r < 0) {
			if (no_reason++ == 0 && first_line) {
				*first_line = f->line;
			}
		}
	}
	line_cursor_release(&cur);
	return no_reason;
}

struct finding *filefind_add(struct finding_list *out, const struct rule *r, enum finding_kind kind,
			     const char *path)
{
	struct finding *f = finding_list_add(out);
	f->kind = kind;
	finding_set(&f->rule_id, r->id);
	finding_set(&f->title, r->title);
	f->severity = r->severity;
	finding_set(&f->confidence, r->confidence);
	for (size_t i = 0; i < r->n_cwe; i++) {
		finding_add_cwe(f, r->cwe[i]);
	}
	finding_set(&f->file, path);
	return f;
}
