/*
 * gate.c - threshold, suppressions and the decision for each finding.
 */
#include "gate.h"

#include "diag.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include <fnmatch.h>
#include <stdio.h>
#include <time.h>

#include "banned.h"

const char *const gate_config_keys[] = { "fail-on", "allow", "baseline", NULL };

static const char *const allow_keys[] = { "id", "fingerprint", "path", "reason", "expires" };

int gate_parse_date(const char *s, int64_t *days)
{
	/* Exactly YYYY-MM-DD: ten characters, digits but for the two dashes (no sign, no
	 * blank, which sscanf's %d would take). */
	if (!s || strlen(s) != 10) {
		return -EINVAL;
	}
	for (size_t i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9')) {
			return -EINVAL;
		}
	}
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap)) {
		return -EINVAL;
	}
	/* Days from civil (proleptic Gregorian). */
	int yy = y - (m <= 2);
	int era = yy / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*days = (int64_t)era * 146097 + doe - 719468;
	return 0;
}

int64_t gate_today(void)
{
	/* No override: a variable that moves "today" would also extend every suppression. */
	return (int64_t)(time(NULL) / 86400);
}

static void check_allow_entry(const struct ynode *e, const char *file, bool paths,
			      struct diag_list *dl)
{
	if (e->kind != YNODE_MAP) {
		diag_error(dl, file, e->line, e->col,
			   "write - { id: CVE-2021-44228, reason: \"...\", expires: 2027-01-31 }",
			   "an allow entry must be a mapping, not %s", ynode_type_name(e));
		return;
	}
	for (size_t i = 0; i < e->map.n; i++) {
		const struct ynode *k = e->map.v[i].key;
		bool ok = false;
		for (size_t j = 0; j < ARRAY_SIZE(allow_keys) && !ok; j++) {
			ok = str_eq(k->scalar.s, allow_keys[j]);
		}
		if (!ok) {
			const char *near =
				closest_word(k->scalar.s, allow_keys, ARRAY_SIZE(allow_keys));
			char hint[100];
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near ? near : "");
			diag_error(dl, file, k->line, k->col,
				   near ? hint : "keys are id, fingerprint, path, reason, expires",
				   "unknown key '%.60s' in an allow entry", k->scalar.s);
		}
	}
	const struct ynode *id = ynode_get(e, "id"), *fp = ynode_get(e, "fingerprint");
	if ((!ynode_str(id) && !ynode_str(fp)) || (id && fp)) {
		diag_error(dl, file, e->line, e->col,
			   "name the finding by `id` (rule or CVE) or `fingerprint`",
			   "an allow entry needs exactly one of `id` and `fingerprint`");
	}
	/* A path that is not a glob (a list, a mapping, null, a number) would otherwise be
	 * read as no path at all: every file. */
	const struct ynode *path = ynode_get(e, "path");
	if (path && !paths) {
		diag_error(
			dl, file, path->line, path->col,
			"name the finding by its fingerprint (each place it was found shares it)",
			"these allow entries take no path");
	} else if (path && (!str_eq(ynode_type_name(path), "a string") || !*path->scalar.s)) {
		diag_error(dl, file, path->line, path->col,
			   "write one glob as a string, e.g. path: \"src/legacy/**\"",
			   "an allow entry's path must be a glob, not %s",
			   str_eq(ynode_type_name(path), "a string") ? "an empty string"
								     : ynode_type_name(path));
	}
	const struct ynode *reason = ynode_get(e, "reason");
	const char *r = ynode_str(reason);
	if (!r || strlen(r) < 3) {
		diag_error(
			dl, file, reason ? reason->line : e->line, reason ? reason->col : e->col,
			"say why this finding is acceptable, e.g. reason: \"not reachable: ...\"",
			"an allow entry needs a reason");
	}
	const struct ynode *exp = ynode_get(e, "expires");
	int64_t day;
	if (!exp) {
		diag_error(dl, file, e->line, e->col,
			   "add expires: YYYY-MM-DD; suppressions are reviewed when they expire",
			   "an allow entry needs an expiry date");
	} else if (gate_parse_date(ynode_str(exp), &day) < 0) {
		diag_error(dl, file, exp->line, exp->col, "write the date as YYYY-MM-DD",
			   "invalid expiry date '%.40s'",
			   exp->kind == YNODE_SCALAR ? exp->scalar.s : ynode_type_name(exp));
	}
}

int gate_allow_check(const struct ynode *allow, const char *key, const char *file, bool paths,
		     struct diag_list *dl)
{
	size_t before = dl->errors;
	if (!allow) {
		return 0;
	}
	if (allow->kind != YNODE_SEQ) {
		char hint[80];
		snprintf(hint, sizeof(hint), "write %s: as a list of entries", key);
		diag_error(dl, file, allow->line, allow->col, hint, "%s must be a sequence, not %s",
			   key, ynode_type_name(allow));
	} else if (allow->seq.n > GATE_MAX_ALLOW) {
		diag_error(dl, file, allow->line, allow->col, NULL, "more than %d %s entries",
			   GATE_MAX_ALLOW, key);
	} else {
		for (size_t i = 0; i < allow->seq.n; i++) {
			check_allow_entry(allow->seq.v[i], file, paths, dl);
		}
	}
	return dl->errors > before ? -EINVAL : 0;
}

int gate_config_check(const struct ynode *map, const char *file, struct diag_list *dl)
{
	size_t before = dl->errors;
	if (!map) {
		return 0;
	}
	if (map->kind != YNODE_MAP) {
		diag_error(dl, file, map->line, map->col, "write gate: { fail-on: high }",
			   "the gate configuration must be a mapping, not %s",
			   ynode_type_name(map));
		return -EINVAL;
	}
	const struct ynode *fo = ynode_get(map, "fail-on");
	enum severity sev;
	if (fo && severity_parse(ynode_str(fo), &sev) < 0) {
		diag_error(dl, file, fo->line, fo->col,
			   "the levels are critical, high, medium, low and info",
			   "invalid fail-on level '%.40s'",
			   fo->kind == YNODE_SCALAR ? fo->scalar.s : ynode_type_name(fo));
	}
	gate_allow_check(ynode_get(map, "allow"), "allow", file, true, dl);
	const struct ynode *bl = ynode_get(map, "baseline");
	if (bl && !ynode_str(bl)) {
		diag_error(dl, file, bl->line, bl->col,
			   "name a file written by `runner scan --format json`",
			   "baseline must be a path, not %s", ynode_type_name(bl));
	}
	return dl->errors > before ? -EINVAL : 0;
}

void gate_policy_init(struct gate_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->fail_on = SEVERITY_HIGH;
}

void gate_policy_release(struct gate_policy *p)
{
	for (size_t i = 0; i < p->n_allow; i++) {
		free(p->allow[i].id);
		free(p->allow[i].fingerprint);
		free(p->allow[i].path);
		free(p->allow[i].reason);
	}
	free(p->allow);
	for (size_t i = 0; i < p->n_baseline; i++) {
		free(p->baseline[i]);
	}
	free(p->baseline);
	for (size_t i = 0; i < p->n_changed; i++) {
		free(p->changed[i]);
	}
	free(p->changed);
	gate_policy_init(p);
}

static char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? xstrdup(s) : NULL;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_fingerprint(struct gate_policy *p, const char *fp)
{
	if (p->n_baseline >= GATE_MAX_BASELINE) {
		return -E2BIG;
	}
	p->baseline = xreallocarray(p->baseline, p->n_baseline + 1, sizeof(char *));
	p->baseline[p->n_baseline++] = xstrdup(fp);
	return 0;
}

int gate_policy_load_baseline(struct gate_policy *p, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		return errf(err, errlen, -EINVAL, "cannot read the baseline %s: %s", path, je.text);
	}
	const json_t *arr = json_is_array(j) ? j : json_object_get(j, "findings");
	const json_t *fps = json_is_object(j) ? json_object_get(j, "fingerprints") : NULL;
	int r = 0;
	if (json_is_array(fps)) {
		for (size_t i = 0; r == 0 && i < json_array_size(fps); i++) {
			const char *s = json_string_value(json_array_get(fps, i));
			r = s ? add_fingerprint(p, s) : -EINVAL;
		}
	} else if (json_is_array(arr)) {
		for (size_t i = 0; r == 0 && i < json_array_size(arr); i++) {
			const char *s = json_string_value(
				json_object_get(json_array_get(arr, i), "fingerprint"));
			r = s ? add_fingerprint(p, s) : -EINVAL;
		}
	} else {
		r = -EINVAL;
	}
	json_decref(j);
	if (r < 0) {
		return errf(
			err, errlen, -EINVAL, "the baseline %s is not a findings file (%s)", path,
			r == -E2BIG ? "too many entries" : "expected findings with fingerprints");
	}
	qsort(p->baseline, p->n_baseline, sizeof(char *), cmp_strp);
	return 0;
}

int gate_policy_add_json(struct gate_policy *p, const json_t *cfg, const char *workspace, char *err,
			 size_t errlen)
{
	if (!cfg || json_is_null(cfg)) {
		return 0;
	}
	if (!json_is_object(cfg)) {
		return errf(err, errlen, -EINVAL, "the gate configuration is not an object");
	}
	const json_t *fo = json_object_get(cfg, "fail-on");
	if (fo && severity_parse(json_string_value(fo), &p->fail_on) < 0) {
		return errf(err, errlen, -EINVAL, "invalid fail-on level");
	}
	const json_t *allow = json_object_get(cfg, "allow");
	for (size_t i = 0; i < json_array_size(allow); i++) {
		const json_t *e = json_array_get(allow, i);
		struct gate_allow a = { 0 };
		a.id = jstr(e, "id");
		a.fingerprint = jstr(e, "fingerprint");
		a.path = jstr(e, "path");
		a.reason = jstr(e, "reason");
		/* A path that is there but not a glob (or that came to nothing) is not "every
		 * file". */
		bool bad_path = json_object_get(e, "path") && (!a.path || !*a.path);
		const char *exp = json_string_value(json_object_get(e, "expires"));
		/* (After interpolation: `reason: ${WHY}` may have come to nothing.) */
		if (bad_path || (!a.id == !a.fingerprint) || (a.id && !*a.id) ||
		    (a.fingerprint && !*a.fingerprint) || !a.reason || strlen(a.reason) < 3 ||
		    !exp || gate_parse_date(exp, &a.expires_day) < 0 ||
		    p->n_allow >= GATE_MAX_ALLOW) {
			/* Validation refused these already; a config that bypassed it fails closed.
			 */
			free(a.id);
			free(a.fingerprint);
			free(a.path);
			free(a.reason);
			return errf(err, errlen, -EINVAL, "invalid allow entry %zu", i + 1);
		}
		snprintf(a.expires, sizeof(a.expires), "%s", exp);
		p->allow = xreallocarray(p->allow, p->n_allow + 1, sizeof(*p->allow));
		p->allow[p->n_allow++] = a;
	}
	if (json_is_true(json_object_get(cfg, "changed_files_all"))) {
		p->changed_all = true;
	}
	const json_t *changed = json_object_get(cfg, "changed_files");
	for (size_t i = 0; i < json_array_size(changed); i++) {
		const char *path = json_string_value(json_array_get(changed, i));
		if (path) {
			p->changed = xreallocarray(p->changed, p->n_changed + 1, sizeof(char *));
			p->changed[p->n_changed++] = xstrdup(path);
		}
	}
	if (p->n_changed) {
		qsort(p->changed, p->n_changed, sizeof(char *), cmp_strp);
	}
	const char *bl = json_string_value(json_object_get(cfg, "baseline"));
	if (bl) {
		_cleanup_free_ char *path = bl[0] == '/' || !workspace
						    ? xstrdup(bl)
						    : xasprintf("%s/%s", workspace, bl);
		return gate_policy_load_baseline(p, path, err, errlen);
	}
	return 0;
}

static bool id_matches(const struct gate_allow *a, const struct finding *f)
{
	if (a->fingerprint) {
		return f->fingerprint && str_eq(a->fingerprint, f->fingerprint);
	}
	if (f->rule_id && str_eq(a->id, f->rule_id)) {
		return true;
	}
	for (size_t i = 0; i < f->n_aliases; i++) {
		if (str_eq(a->id, f->aliases[i])) {
			return true;
		}
	}
	return false;
}

/* Split s (a heap copy, modified) at '/' into its components; returns their count. */
static size_t split_path(char *s, char ***out)
{
	size_t n = 1;
	for (const char *p = s; *p; p++) {
		n += *p == '/';
	}
	char **v = xreallocarray(NULL, n, sizeof(char *));
	size_t k = 0;
	v[k++] = s;
	for (char *p = s; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			v[k++] = p + 1;
		}
	}
	*out = v;
	return k;
}

bool gate_path_glob(const char *pat, const char *path)
{
	char *ps = xstrdup(pat), *fs = xstrdup(path);
	char **pc, **fc;
	size_t np = split_path(ps, &pc), nf = split_path(fs, &fc);
	/* ok[j]: the components of pat so far match the first j components of path. */
	bool *ok = xcalloc(nf + 1, sizeof(bool)), *nx = xcalloc(nf + 1, sizeof(bool));
	ok[0] = true;
	for (size_t i = 0; i < np; i++) {
		bool any = str_eq(pc[i], "**");
		for (size_t j = 0; j <= nf; j++) {
			if (any) {
				nx[j] = ok[j] || (j > 0 && nx[j - 1]);
			} else {
				nx[j] = j > 0 && ok[j - 1] && fnmatch(pc[i], fc[j - 1], 0) == 0;
			}
		}
		bool *t = ok;
		ok = nx;
		nx = t;
	}
	bool m = ok[nf];
	free(ok);
	free(nx);
	free(pc);
	free(fc);
	free(ps);
	free(fs);
	return m;
}

static bool path_matches(const struct gate_allow *a, const struct finding *f)
{
	return !a->path || (f->file && gate_path_glob(a->path, f->file));
}

static void note(struct gate_outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct gate_outcome *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < json_array_size(o->notes); i++) {
		if (str_eq(json_string_value(json_array_get(o->notes, i)), buf)) {
			return;
		}
	}
	json_array_append_new(o->notes, json_string(buf));
}

bool gate_policy_changed(const struct gate_policy *p, const char *file)
{
	return p->changed_all ||
	       (file && p->n_changed &&
		bsearch(&file, p->changed, p->n_changed, sizeof(char *), cmp_strp));
}

int gate_apply(const struct gate_policy *p, struct finding_list *fl, int64_t today,
	       struct gate_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->notes = json_array();
	for (size_t i = 0; i < fl->n; i++) {
		struct finding *f = &fl->v[i];
		bool changed = gate_policy_changed(p, f->file);
		if (f->suppression == SUPPRESSION_INLINE && changed) {
			note(out, "inline suppressions in files a pull request from a fork changed "
				  "are not honoured");
		} else if (f->suppression == SUPPRESSION_INLINE) {
			f->disposition = DISPOSITION_SUPPRESSED;
			out->suppressed++;
			continue;
		}
		f->suppression = SUPPRESSION_NONE;
		if (f->severity < p->fail_on) {
			f->disposition = DISPOSITION_BELOW;
			out->below++;
			continue;
		}
		if (f->fingerprint && p->n_baseline &&
		    bsearch(&f->fingerprint, p->baseline, p->n_baseline, sizeof(char *),
			    cmp_strp)) {
			f->disposition = DISPOSITION_SUPPRESSED;
			f->suppression = SUPPRESSION_BASELINE;
			finding_set(&f->suppression_reason, "in the baseline");
			out->suppressed++;
			continue;
		}
		const struct gate_allow *hit = NULL;
		for (size_t k = 0; k < p->n_allow && !hit; k++) {
			const struct gate_allow *a = &p->allow[k];
			if (!id_matches(a, f) || !path_matches(a, f)) {
				continue;
			}
			if (a->path && changed) {
				/* The pull request chose where its file lies. */
				note(out, "allow entries for a path do not cover files a pull "
					  "request from a fork changed");
				continue;
			}
			if (a->expires_day < today) {
				note(out,
				     "the allow entry for %s expired on %s and no longer "
				     "suppresses",
				     a->id ? a->id : a->fingerprint, a->expires);
				continue;
			}
			hit = a;
		}
		if (hit) {
			f->disposition = DISPOSITION_SUPPRESSED;
			f->suppression = SUPPRESSION_ALLOW;
			finding_set(&f->suppression_reason, hit->reason);
			finding_set(&f->suppression_expires, hit->expires);
			out->suppressed++;
			continue;
		}
		f->disposition = DISPOSITION_BLOCKING;
		out->blocking++;
	}
	return out->blocking ? STAGE_EXIT_BLOCKED : STAGE_EXIT_PASSED;
}

void gate_outcome_release(struct gate_outcome *o)
{
	json_decref(o->notes);
	o->notes = NULL;
}

json_t *gate_outcome_json(const struct gate_policy *p, const struct gate_outcome *o)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:I}", "fail_on", severity_name(p->fail_on),
			      "blocking", (json_int_t)o->blocking, "suppressed",
			      (json_int_t)o->suppressed, "below_threshold", (json_int_t)o->below);
	json_object_set_new(j, "notes", o->notes ? json_incref(o->notes) : json_array());
	return j;
}

int gate_policy_for_worker(struct gate_policy *p, const struct stage_worker *w, char *err,
			   size_t errlen)
{
	gate_policy_init(p);
	int r = gate_policy_add_json(p, w->gate, w->workspace, err, errlen);
	if (r == 0) {
		r = gate_policy_add_json(p, w->with, w->workspace, err, errlen);
	}
	return r;
}

int gate_finish(struct stage_worker *w, const struct gate_policy *p, struct finding_list *fl,
		json_t *stats)
{
	struct gate_outcome o;
	finding_list_sort(fl);
	int code = gate_apply(p, fl, gate_today(), &o);
	char summary[512];
	size_t n = 0;
	const struct finding *first = NULL;
	for (size_t i = 0; i < fl->n && !first; i++) {
		if (fl->v[i].disposition == DISPOSITION_BLOCKING) {
			first = &fl->v[i];
		}
	}
	if (o.blocking) {
		const char *cve = first ? finding_cve_alias(first) : NULL;
		n = (size_t)snprintf(summary, sizeof(summary),
				     "blocked: %zu finding%s at or above %s (%s%s%s%s)", o.blocking,
				     o.blocking == 1 ? "" : "s", severity_name(p->fail_on),
				     first && first->rule_id ? first->rule_id : "?",
				     cve ? " aka " : "", cve ? cve : "",
				     o.blocking > 1 ? ", ..." : "");
	} else {
		n = (size_t)snprintf(summary, sizeof(summary), "passed: no finding at or above %s",
				     severity_name(p->fail_on));
	}
	if (o.suppressed && n < sizeof(summary)) {
		n += (size_t)snprintf(summary + n, sizeof(summary) - n, "; %zu suppressed",
				      o.suppressed);
	}
	if (o.below && n < sizeof(summary)) {
		snprintf(summary + n, sizeof(summary) - n, "; %zu below the threshold", o.below);
	}
	json_object_set_new(w->result, "summary", json_string(summary));
	json_object_set_new(w->result, "findings", finding_list_to_json(fl));
	json_object_set_new(w->result, "gate", gate_outcome_json(p, &o));
	if (stats) {
		json_object_set(w->result, "stats", stats);
	}
	gate_outcome_release(&o);
	return code;
}
