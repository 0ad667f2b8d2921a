/*
 * ruletest.c - labelled fixtures: labels, scans, counts, precision and recall.
 */
#include "ruletest.h"

#include "sast.h"
#include "secrets.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define FIXTURE_MAX  (4u << 20)
#define MAX_FIXTURES 20000

struct label {
	unsigned line;	   /* the labelled line */
	unsigned line_end; /* the last line that continues it (a backslash at the end) */
	bool must_match;
	char *id;
};

struct labels {
	struct label *v;
	size_t n, cap;
};

static void labels_release(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Find "ruleid:" / "ok:" on the line [p, e); add its ids with the line they label. */
static bool parse_label_line(const char *p, const char *e, unsigned target, struct labels *out)
{
	static const struct {
		const char *word;
		bool must_match;
	} kinds[] = { { "ruleid:", true }, { "ok:", false } };
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t wl = strlen(kinds[k].word);
		const char *m = memmem(p, (size_t)(e - p), kinds[k].word, wl);
		if (!m || (m > p && (isalnum((unsigned char)m[-1]) || m[-1] == '_'))) {
			continue;
		}
		/* Only comment text may precede a label. */
		bool only_comment = true;
		for (const char *q = p; q < m; q++) {
			if (!isspace((unsigned char)*q) && !strchr("/*#-;<!{", *q)) {
				only_comment = false;
			}
		}
		if (!only_comment) {
			continue;
		}
		const char *s = m + wl;
		while (s < e) {
			while (s < e && (isspace((unsigned char)*s) || *s == ',')) {
				s++;
			}
			/* The end of the comment the label is in (`<!-- ruleid: x -->`). */
			if ((e - s >= 3 && memcmp(s, "-->", 3) == 0) ||
			    (e - s >= 2 && memcmp(s, "*/", 2) == 0)) {
				break;
			}
			const char *b = s;
			while (s < e && (isalnum((unsigned char)*s) || *s == '.' || *s == '-' ||
					 *s == '_')) {
				s++;
			}
			if (s > b) {
				GROW(out->v, out->cap, out->n + 1);
				out->v[out->n++] = (struct label){
					.line = target,
					.line_end = target,
					.must_match = kinds[k].must_match,
					.id = xstrndup(b, (size_t)(s - b)),
				};
			} else {
				break;
			}
		}
		return true;
	}
	return false;
}

/* Does label l apply to line (its line or one that continues it)? */
static bool labels_line(const struct label *l, unsigned line)
{
	return l->line && l->line <= line && line <= l->line_end;
}

static void parse_labels(const char *buf, size_t len, struct labels *out)
{
	/* Labels on consecutive label lines all apply to the next unlabelled line, and to
	 * the lines that continue it (it ends with a backslash: a shell command over lines,
	 * whose password may be on any of them). */
	size_t pending_from = out->n, cont_from = out->n;
	bool continued = false;
	unsigned line = 1;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		/* Lines as the scanners number them (text_line_end()). */
		size_t next;
		const char *e = buf + text_line_end(buf, len, (size_t)(p - buf), &next);
		if (parse_label_line(p, e, 0, out)) {
			/* target fixed below */
			continued = false;
		} else if (continued) {
			for (size_t i = cont_from; i < pending_from; i++) {
				out->v[i].line_end = line;
			}
			continued = e > p && e[-1] == '\\';
		} else {
			for (size_t i = pending_from; i < out->n; i++) {
				out->v[i].line = out->v[i].line_end = line;
			}
			cont_from = pending_from;
			pending_from = out->n;
			continued = e > p && e[-1] == '\\';
		}
		line++;
		p = buf + next;
	}
	for (size_t i = pending_from; i < out->n; i++) {
		out->v[i].line = out->v[i].line_end = 0; /* a label at the end labels nothing */
	}
}

struct walkctx {
	char **files;
	size_t n, cap;
	int err;
	char *msg;
	size_t msglen;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(struct walkctx *w, const char *path, unsigned depth)
{
	struct stat st;
	if (w->err || depth > 32) {
		return;
	}
	if (stat(path, &st) < 0) {
		w->err = -errno;
		snprintf(w->msg, w->msglen, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (w->n >= MAX_FIXTURES) {
			w->err = -E2BIG;
			snprintf(w->msg, w->msglen, "more than %d fixtures", MAX_FIXTURES);
			return;
		}
		GROW(w->files, w->cap, w->n + 1);
		w->files[w->n++] = xstrdup(path);
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		w->err = -errno;
		snprintf(w->msg, w->msglen, "cannot list %s: %s", path, strerror(errno));
		return;
	}
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || str_eq(de->d_name, "..") ||
					     str_eq(de->d_name, ".git"))) {
			continue;
		}
		if (str_eq(de->d_name, "README.md") || str_eq(de->d_name, "LICENSE")) {
			continue;
		}
		GROW(names, cap, n + 1);
		names[n++] = xasprintf("%s/%s", path, de->d_name);
	}
	closedir(d);
	if (n > 1) {
		qsort(names, n, sizeof(char *), cmp_str);
	}
	for (size_t i = 0; i < n; i++) {
		collect(w, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

/* The fixtures collected, sorted: the files a fixture may name (secrets_read_fn). */
struct listed {
	char **v;
	size_t n;
};

static int cmp_key_str(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* A file a fixture names (a kustomization's secretGenerator files), read when it is one of
 * the fixtures and a regular file reached through no link, as the scan would read it. */
static int read_fixture(void *ud, const char *path, size_t max, char **data, size_t *len)
{
	const struct listed *l = ud;
	if (!bsearch(path, l->v, l->n, sizeof(*l->v), cmp_key_str)) {
		return -ENOENT;
	}
	int r = read_regular_capped(path, max, data, len);
	return r == -EINVAL ? -ENOENT : r;
}

static size_t rule_index(const struct ruleset *rs, const char *id)
{
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		if (str_eq(ruleset_rule(rs, i)->id, id)) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void problem(struct ruletest_rule *rr, const char *file, unsigned line, const char *what)
{
	if (!rr->first_problem) {
		rr->first_problem = xasprintf("%s:%u: %s", file, line, what);
	}
}

/*
 * The language to scan a fixture as for rule r: the file's own when r applies to it, or to
 * the shell code a Dockerfile embeds (a shell rule's label in a Dockerfile speaks of the
 * Dockerfile as a scan reads it: its RUN lines' command substitutions are shell, a COPY
 * heredoc's text is not); else r's first language.
 */
static enum lang fixture_lang(const struct rule *r, const char *path, const char *buf, size_t len)
{
	enum lang l = lang_detect(path, buf, MIN(len, (size_t)256));
	if (l != LANG_NONE && (r->lang[l] || (l == LANG_DOCKERFILE && r->lang[LANG_SHELL]))) {
		return l;
	}
	for (int k = 1; k < LANG_COUNT; k++) {
		if (r->lang[k]) {
			return (enum lang)k;
		}
	}
	return LANG_NONE;
}

int ruletest_run(const struct ruleset *rs, const char *const *paths, size_t n_paths,
		 struct ruletest_report *rep, char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	rep->n = ruleset_count(rs);
	rep->rules = xcalloc(rep->n ? rep->n : 1, sizeof(*rep->rules));
	for (size_t i = 0; i < rep->n; i++) {
		rep->rules[i].rule = ruleset_rule(rs, i);
	}
	struct walkctx w = { .msg = err, .msglen = errlen };
	for (size_t i = 0; i < n_paths; i++) {
		collect(&w, paths[i], 0);
	}
	bool sast = ruleset_kind(rs) == RULE_SAST;
	struct sast_scratch *ss = sast ? sast_scratch_new(rs) : NULL;
	struct secrets_scratch *sec = sast ? NULL : secrets_scratch_new(rs);
	struct listed listed = { xcalloc(w.n ? w.n : 1, sizeof(*w.files)), w.n };
	if (listed.n) {
		memcpy(listed.v, w.files, w.n * sizeof(*w.files));
	}
	if (listed.n > 1) {
		qsort(listed.v, listed.n, sizeof(*listed.v), cmp_str);
	}
	if (sec) {
		secrets_scratch_set_reader(sec, read_fixture, &listed);
	}
	for (size_t fi = 0; fi < w.n && w.err == 0; fi++) {
		const char *path = w.files[fi];
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		int r = read_file_capped(path, FIXTURE_MAX, &buf, &len);
		if (r < 0) {
			w.err = r;
			errf(err, errlen, 0, "cannot read %s: %s", path, strerror(-r));
			break;
		}
		struct labels lb = { 0 };
		parse_labels(buf, len, &lb);
		if (lb.n == 0) {
			labels_release(&lb);
			continue;
		}
		rep->files++;
		/* The rules this fixture speaks about, and the languages to scan it as. */
		bool scanned[LANG_COUNT] = { false };
		struct finding_list fl;
		finding_list_init(&fl);
		for (size_t i = 0; i < lb.n && w.err == 0; i++) {
			size_t ri = rule_index(rs, lb.v[i].id);
			if (ri == SIZE_MAX) {
				/* Labels of the other kind's rules (sast vs secrets) are not ours.
				 */
				bool other = str_has_prefix(lb.v[i].id, "secret.") == sast;
				if (!other) {
					w.err = -EINVAL;
					errf(err, errlen, 0, "%s: label for an unknown rule '%s'",
					     path, lb.v[i].id);
				}
				continue;
			}
			if (sast) {
				enum lang l = fixture_lang(ruleset_rule(rs, ri), path, buf, len);
				if (l != LANG_NONE && !scanned[l]) {
					scanned[l] = true;
					sast_scan(ss, path, l, buf, len, &fl, NULL);
				}
			} else if (!scanned[0]) {
				scanned[0] = true;
				secrets_scan(sec, path, buf, len, NULL, &fl, NULL);
			}
		}
		/* Compare, rule by rule. */
		for (size_t i = 0; i < lb.n; i++) {
			size_t ri = rule_index(rs, lb.v[i].id);
			if (ri == SIZE_MAX || lb.v[i].line == 0) {
				continue;
			}
			struct ruletest_rule *rr = &rep->rules[ri];
			bool found = false;
			for (size_t k = 0; k < fl.n && !found; k++) {
				found = labels_line(&lb.v[i], fl.v[k].line) &&
					str_eq(fl.v[k].rule_id, lb.v[i].id);
			}
			if (lb.v[i].must_match) {
				rr->must_match++;
				if (found) {
					rr->tp++;
				} else {
					rr->fn++;
					problem(rr, path, lb.v[i].line,
						"expected a finding, got none");
				}
			} else {
				rr->must_not_match++;
				if (!found) {
					rr->tn++;
				}
			}
		}
		/* Every finding of a labelled rule that is not on one of its ruleid lines. */
		for (size_t k = 0; k < fl.n; k++) {
			size_t ri = rule_index(rs, fl.v[k].rule_id);
			bool labelled_rule = false, expected = false;
			for (size_t i = 0; i < lb.n; i++) {
				if (str_eq(lb.v[i].id, fl.v[k].rule_id)) {
					labelled_rule = true;
					expected |= lb.v[i].must_match &&
						    labels_line(&lb.v[i], fl.v[k].line);
				}
			}
			if (ri != SIZE_MAX && labelled_rule && !expected) {
				rep->rules[ri].fp++;
				problem(&rep->rules[ri], path, fl.v[k].line, "unexpected finding");
			}
		}
		finding_list_release(&fl);
		labels_release(&lb);
	}
	sast_scratch_free(ss);
	secrets_scratch_free(sec);
	free(listed.v);
	for (size_t i = 0; i < w.n; i++) {
		free(w.files[i]);
	}
	free(w.files);
	if (w.err) {
		ruletest_report_release(rep);
		return w.err;
	}
	return 0;
}

void ruletest_report_release(struct ruletest_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->rules[i].first_problem);
	}
	free(rep->rules);
	memset(rep, 0, sizeof(*rep));
}

bool ruletest_ok(const struct ruletest_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct ruletest_rule *r = &rep->rules[i];
		if (r->fp || r->fn || !r->must_match || !r->must_not_match) {
			return false;
		}
	}
	return true;
}

static json_t *counts_json(size_t tp, size_t fp, size_t fn, size_t tn)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "tp", (json_int_t)tp, "fp", (json_int_t)fp,
			      "fn", (json_int_t)fn, "tn", (json_int_t)tn);
	json_object_set_new(o, "precision",
			    tp + fp ? json_real((double)tp / (double)(tp + fp)) : json_null());
	json_object_set_new(o, "recall",
			    tp + fn ? json_real((double)tp / (double)(tp + fn)) : json_null());
	return o;
}

json_t *ruletest_json(const struct ruletest_report *rep)
{
	json_t *rules = json_array();
	size_t lt[LANG_COUNT][4] = { { 0 } };
	size_t lr[LANG_COUNT] = { 0 };
	size_t t[4] = { 0 };
	for (size_t i = 0; i < rep->n; i++) {
		const struct ruletest_rule *r = &rep->rules[i];
		json_t *o = counts_json(r->tp, r->fp, r->fn, r->tn);
		json_object_set_new(o, "id", json_string(r->rule->id));
		json_t *langs = json_array();
		/* A rule counts for its first language (c for [c, cpp]). */
		int first = 0;
		for (int l = 1; l < LANG_COUNT; l++) {
			if (r->rule->lang[l]) {
				json_array_append_new(langs, json_string(lang_name((enum lang)l)));
				if (!first) {
					first = l;
				}
			}
		}
		json_object_set_new(o, "languages", langs);
		json_object_set_new(o, "must_match", json_integer((json_int_t)r->must_match));
		json_object_set_new(o, "must_not_match",
				    json_integer((json_int_t)r->must_not_match));
		if (r->first_problem) {
			json_object_set_new(o, "problem", json_string(r->first_problem));
		}
		json_array_append_new(rules, o);
		size_t c[4] = { r->tp, r->fp, r->fn, r->tn };
		for (int k = 0; k < 4; k++) {
			lt[first][k] += c[k];
			t[k] += c[k];
		}
		lr[first]++;
	}
	json_t *langs = json_object();
	for (int l = 0; l < LANG_COUNT; l++) {
		if (lr[l]) {
			json_t *o = counts_json(lt[l][0], lt[l][1], lt[l][2], lt[l][3]);
			json_object_set_new(o, "rules", json_integer((json_int_t)lr[l]));
			json_object_set_new(langs, l ? lang_name((enum lang)l) : "secrets", o);
		}
	}
	json_t *total = counts_json(t[0], t[1], t[2], t[3]);
	json_object_set_new(total, "rules", json_integer((json_int_t)rep->n));
	json_object_set_new(total, "fixtures", json_integer((json_int_t)rep->files));
	return json_pack("{s:o, s:o, s:o}", "rules", rules, "languages", langs, "total", total);
}
