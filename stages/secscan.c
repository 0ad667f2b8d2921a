/*
 * secscan.c - configuration, scan, gate and summary of the sast and secrets kinds.
 *
 * The configuration is checked twice: statically when the pipeline is validated (with
 * positions), and again from the interpolated JSON inside the worker (where anything that
 * slipped through, or came from a variable, is an error: fail closed).
 */
#include "secscan.h"

#include "blobpack.h"
#include "diag.h"
#include "gate.h"
#include "scan.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

#define MAX_LIST 1000

static const char *const common_keys[] = {
	"paths",     "rules",	 "default-rules", "exclude", "max-file-size",
	"gitignore", "vendored", "generated",	  "jobs",    "timeout",
};

struct opts {
	json_t *paths, *rules, *exclude, *allow_paths, *allow_regex; /* arrays of strings */
	bool default_rules, gitignore, vendored, generated;
	bool vcs_dirs; /* enter .git, .hg, .svn, .runner (an image's files: secscan_paths) */
	uint64_t max_file_size;
	unsigned jobs;
	uint64_t timeout_ms;
};

static bool key_known(enum rule_kind kind, const char *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(common_keys); i++) {
		if (str_eq(k, common_keys[i])) {
			return true;
		}
	}
	for (const char *const *g = gate_config_keys; *g; g++) {
		if (str_eq(k, *g)) {
			return true;
		}
	}
	return kind == RULE_SECRET && str_eq(k, "allowlist");
}

/* "4M", "512k", "1G", "1048576", "2MiB": bytes, at least 1 and at most 1T. */
static int size_arg(const char *s, uint64_t *out)
{
	int r = parse_size(s, 1ull << 40, true, out);
	return r < 0 ? r : *out == 0 ? -EINVAL : 0;
}

/* ---------- static validation (pipeline load) ---------- */

struct vctx {
	const struct stage_check *chk;
	const char *key;
};

static void verr(const struct vctx *v, const struct ynode *n, const char *hint, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

static void verr(const struct vctx *v, const struct ynode *n, const char *hint, const char *fmt,
		 ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(v->chk->dl, v->chk->file, n->line, n->col, hint, "%s in stage '%s'", msg,
		   v->chk->stage_name);
}

static bool interpolated(const char *s)
{
	return s && strstr(s, "${");
}

/* A string or a list of strings; check each with fn. */
static void check_strings(const struct vctx *v, const struct ynode *n,
			  void (*fn)(const struct vctx *v, const struct ynode *item))
{
	if (n->kind == YNODE_SCALAR && ynode_str(n)) {
		if (fn) {
			fn(v, n);
		}
		return;
	}
	if (n->kind != YNODE_SEQ) {
		verr(v, n, "write a string or a list of strings", "`%s` must be a string or a list",
		     v->key);
		return;
	}
	if (n->seq.n > MAX_LIST) {
		verr(v, n, NULL, "`%s` has more than %d entries", v->key, MAX_LIST);
		return;
	}
	for (size_t i = 0; i < n->seq.n; i++) {
		const struct ynode *it = n->seq.v[i];
		if (!ynode_str(it) || !*ynode_str(it)) {
			verr(v, it, NULL, "each entry of `%s` must be a non-empty string", v->key);
		} else if (fn) {
			fn(v, it);
		}
	}
}

static void check_path(const struct vctx *v, const struct ynode *n)
{
	const char *s = ynode_str(n);
	if (!interpolated(s) && !path_is_inside(s)) {
		verr(v, n, "paths are relative to the workspace and stay inside it",
		     "`%s` entry '%.100s' leads outside the workspace", v->key, s);
	}
}

static void check_regex(const struct vctx *v, const struct ynode *n)
{
	const char *s = ynode_str(n);
	if (interpolated(s)) {
		return;
	}
	char err[200];
	size_t off = 0;
	pcre2_code *re = rules_regex_compile(s, err, sizeof(err), &off);
	if (!re) {
		verr(v, n, "the syntax is PCRE2", "invalid regular expression at offset %zu: %s",
		     off, err);
	}
	pcre2_code_free(re);
}

static void check_bool(const struct vctx *v, const struct ynode *n)
{
	bool b;
	if (ynode_bool(n, &b) < 0) {
		verr(v, n, NULL, "`%s` must be true or false", v->key);
	}
}

int secscan_validate(enum rule_kind kind, const struct ynode *with, const struct stage_check *chk)
{
	size_t before = chk->dl->errors;
	if (!with) {
		return 0;
	}
	if (with->kind != YNODE_MAP) {
		diag_error(chk->dl, chk->file, with->line, with->col, NULL,
			   "`with` must be a mapping in stage '%s'", chk->stage_name);
		return -EINVAL;
	}
	const char *names[ARRAY_SIZE(common_keys) + 8];
	size_t nn = 0;
	for (size_t i = 0; i < ARRAY_SIZE(common_keys); i++) {
		names[nn++] = common_keys[i];
	}
	for (const char *const *g = gate_config_keys; *g; g++) {
		names[nn++] = *g;
	}
	if (kind == RULE_SECRET) {
		names[nn++] = "allowlist";
	}
	for (size_t i = 0; i < with->map.n; i++) {
		const struct ynode *k = with->map.v[i].key, *val = with->map.v[i].value;
		struct vctx v = { chk, k->scalar.s };
		if (!key_known(kind, k->scalar.s)) {
			const char *near = closest_word(k->scalar.s, names, nn);
			char hint[160];
			if (near) {
				snprintf(hint, sizeof(hint), "did you mean `%s`?", near);
			} else if (str_eq(k->scalar.s, "allowlist")) {
				snprintf(hint, sizeof(hint),
					 "a sast stage skips files with `exclude`");
			} else {
				snprintf(hint, sizeof(hint),
					 "see docs/pipeline.md, \"Security stages\"");
			}
			verr(&v, k, hint, "unknown key '%.60s' for a %s stage", k->scalar.s,
			     kind == RULE_SAST ? "sast" : "secrets");
			continue;
		}
		const char *s = ynode_str(val);
		if (str_eq(v.key, "paths") || str_eq(v.key, "rules")) {
			check_strings(&v, val, check_path);
		} else if (str_eq(v.key, "exclude")) {
			check_strings(&v, val, NULL);
		} else if (str_eq(v.key, "default-rules") || str_eq(v.key, "gitignore") ||
			   str_eq(v.key, "vendored") || str_eq(v.key, "generated")) {
			check_bool(&v, val);
		} else if (str_eq(v.key, "max-file-size")) {
			uint64_t sz;
			if (!interpolated(s) && size_arg(s, &sz) < 0) {
				verr(&v, val, "e.g. 512k, 4M, 1G, or a number of bytes",
				     "invalid max-file-size '%.40s'", s ? s : ynode_type_name(val));
			}
		} else if (str_eq(v.key, "jobs")) {
			int64_t j;
			if (ynode_int(val, &j) < 0 || j < 1 || j > SCAN_MAX_JOBS) {
				verr(&v, val, NULL, "`jobs` must be a number from 1 to %d",
				     SCAN_MAX_JOBS);
			}
		} else if (str_eq(v.key, "timeout")) {
			uint64_t ms;
			if (!interpolated(s) &&
			    parse_duration(s, 7ull * 24 * 3600 * 1000, &ms) < 0) {
				verr(&v, val, "e.g. 10m or 90s", "invalid timeout '%.40s'",
				     s ? s : ynode_type_name(val));
			}
		} else if (str_eq(v.key, "allowlist")) {
			if (val->kind != YNODE_MAP) {
				verr(&v, val,
				     "allowlist: { paths: [tests/fixtures/*], regexes: [EXAMPLE] }",
				     "`allowlist` must be a mapping");
				continue;
			}
			for (size_t j = 0; j < val->map.n; j++) {
				const struct ynode *ak = val->map.v[j].key,
						   *av = val->map.v[j].value;
				struct vctx va = { chk, ak->scalar.s };
				if (str_eq(ak->scalar.s, "paths")) {
					check_strings(&va, av, NULL);
				} else if (str_eq(ak->scalar.s, "regexes")) {
					check_strings(&va, av, check_regex);
				} else {
					verr(&va, ak, "the keys are paths and regexes",
					     "unknown key '%.60s' in allowlist", ak->scalar.s);
				}
			}
		}
	}
	gate_config_check(with, chk->file, chk->dl);
	return chk->dl->errors > before ? -EINVAL : 0;
}

/* ---------- options from JSON (inside the worker) ---------- */

static int strings(const json_t *v, const char *key, bool inside, json_t **out, char *err,
		   size_t errlen)
{
	*out = json_array();
	if (!v || json_is_null(v)) {
		return 0;
	}
	if (json_is_string(v)) {
		json_array_append(*out, (json_t *)v);
	} else if (json_is_array(v) && json_array_size(v) <= MAX_LIST) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *it = json_array_get(v, i);
			if (!json_is_string(it) || !*json_string_value(it)) {
				return errf(err, errlen, -EINVAL,
					    "`%s` must hold non-empty strings", key);
			}
			json_array_append(*out, (json_t *)it);
		}
	} else {
		return errf(err, errlen, -EINVAL, "`%s` must be a string or a list of strings",
			    key);
	}
	for (size_t i = 0; inside && i < json_array_size(*out); i++) {
		const char *s = json_string_value(json_array_get(*out, i));
		if (!path_is_inside(s)) {
			return errf(err, errlen, -EINVAL,
				    "`%s` entry '%.100s' leads outside the workspace", key, s);
		}
	}
	return 0;
}

static int boolean(const json_t *with, const char *key, bool def, bool *out, char *err,
		   size_t errlen)
{
	const json_t *v = json_object_get(with, key);
	*out = def;
	if (!v || json_is_null(v)) {
		return 0;
	}
	if (!json_is_boolean(v)) {
		return errf(err, errlen, -EINVAL, "`%s` must be true or false", key);
	}
	*out = json_is_true(v);
	return 0;
}

static void opts_release(struct opts *o)
{
	json_decref(o->paths);
	json_decref(o->rules);
	json_decref(o->exclude);
	json_decref(o->allow_paths);
	json_decref(o->allow_regex);
	memset(o, 0, sizeof(*o));
}

static int parse_opts(enum rule_kind kind, const json_t *with, bool cli, struct opts *o, char *err,
		      size_t errlen)
{
	memset(o, 0, sizeof(*o));
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)with, k, v)
	{
		/* rules_root, nothing_ok, blob_names and blob_pack are the runner's, never a
		 * pipeline's (validation refuses them). */
		if (!key_known(kind, k) && !str_eq(k, "rules_root") && !str_eq(k, "nothing_ok") &&
		    !str_eq(k, "blob_names") && !str_eq(k, "blob_pack")) {
			return errf(err, errlen, -EINVAL, "unknown key '%.60s'", k);
		}
	}
	int r = strings(json_object_get(with, "paths"), "paths", !cli, &o->paths, err, errlen);
	if (r == 0) {
		r = strings(json_object_get(with, "rules"), "rules", !cli, &o->rules, err, errlen);
	}
	if (r == 0) {
		r = strings(json_object_get(with, "exclude"), "exclude", false, &o->exclude, err,
			    errlen);
	}
	const json_t *al = json_object_get(with, "allowlist");
	if (r == 0 && al && !json_is_object(al)) {
		errf(err, errlen, 0, "`allowlist` must be a mapping");
		r = -EINVAL;
	}
	if (r == 0) {
		r = strings(json_object_get(al, "paths"), "allowlist.paths", false, &o->allow_paths,
			    err, errlen);
	}
	if (r == 0) {
		r = strings(json_object_get(al, "regexes"), "allowlist.regexes", false,
			    &o->allow_regex, err, errlen);
	}
	if (r == 0) {
		r = boolean(with, "default-rules", true, &o->default_rules, err, errlen);
	}
	if (r == 0) {
		r = boolean(with, "gitignore", true, &o->gitignore, err, errlen);
	}
	if (r == 0) {
		r = boolean(with, "vendored", false, &o->vendored, err, errlen);
	}
	if (r == 0) {
		/* Secrets are scanned in generated files too: a bundle (*.min.js) or a rendered
		 * manifest ("DO NOT EDIT") is where a key ends up, and the scan is cheap. */
		r = boolean(with, "generated", kind == RULE_SECRET, &o->generated, err, errlen);
	}
	if (r < 0) {
		return r;
	}
	o->max_file_size =
		kind == RULE_SECRET ? SCAN_SECRETS_MAX_FILE_SIZE : SCAN_DEFAULT_MAX_FILE_SIZE;
	const json_t *mfs = json_object_get(with, "max-file-size");
	if (json_is_integer(mfs) && json_integer_value(mfs) > 0) {
		o->max_file_size = (uint64_t)json_integer_value(mfs);
	} else if (mfs && !json_is_null(mfs) &&
		   size_arg(json_string_value(mfs), &o->max_file_size) < 0) {
		return errf(err, errlen, -EINVAL, "invalid max-file-size");
	}
	const json_t *jobs = json_object_get(with, "jobs");
	if (jobs && !json_is_null(jobs)) {
		json_int_t j = json_integer_value(jobs);
		if (!json_is_integer(jobs) || j < 1 || j > SCAN_MAX_JOBS) {
			return errf(err, errlen, -EINVAL, "`jobs` must be a number from 1 to %d",
				    SCAN_MAX_JOBS);
		}
		o->jobs = (unsigned)j;
	}
	const json_t *to = json_object_get(with, "timeout");
	if (to && !json_is_null(to) &&
	    parse_duration(json_string_value(to), 7ull * 24 * 3600 * 1000, &o->timeout_ms) < 0) {
		return errf(err, errlen, -EINVAL, "invalid timeout");
	}
	return 0;
}

/* ---------- the run ---------- */

static int fail(struct stage_worker *w, json_t *stats, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct stage_worker *w, json_t *stats, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char *clean = utf8_sanitize(msg, strlen(msg));
	_cleanup_free_ char *summary = xasprintf("error: %s", clean);
	json_object_set_new(w->result, "summary", json_string(summary));
	json_object_set_new(w->result, "error", json_string(clean));
	json_object_set_new(w->result, "findings", json_array());
	if (stats) {
		json_object_set(w->result, "stats", stats);
	}
	free(clean);
	return STAGE_EXIT_ERROR;
}

/* The first few diagnostics as one line. */
static void diags_text(const struct diag_list *dl, char *out, size_t n)
{
	size_t w = 0;
	out[0] = '\0';
	for (size_t i = 0; i < dl->n && i < 3 && w < n; i++) {
		const struct diag *d = &dl->v[i];
		int k = snprintf(out + w, n - w, "%s%s:%u:%u: %s", i ? "; " : "",
				 d->file ? d->file : "", d->line, d->col, d->msg);
		if (k < 0) {
			break;
		}
		w += (size_t)k;
	}
	if (dl->n > 3 && w < n) {
		snprintf(out + w, n - w, "; and %zu more", dl->n - 3);
	}
}

static const char *kind_word(enum rule_kind kind)
{
	return kind == RULE_SAST ? "sast" : "secrets";
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The list of an export's files (NUL-terminated paths from the commit's root): those
 * below prefix, without it, sorted; *buf holds them. 0 or -errno. */
static int load_tracked(const char *path, const char *prefix, char **buf, const char ***out,
			size_t *n)
{
	size_t len = 0, pl = prefix ? strlen(prefix) : 0;
	int r = read_file_capped(path, (size_t)1 << 30, buf, &len);
	if (r < 0) {
		return r;
	}
	size_t count = 0;
	for (size_t i = 0; i < len; i++) {
		count += (*buf)[i] == '\0';
	}
	*out = xcalloc(count + 1, sizeof(char *));
	for (size_t i = 0; i < len;) {
		const char *p = *buf + i;
		size_t l = strnlen(p, len - i);
		if (l == len - i) {
			break; /* no NUL: not one of ours */
		}
		if (l > pl && (!pl || strncmp(p, prefix, pl) == 0)) {
			(*out)[(*n)++] = p + pl;
		}
		i += l + 1;
	}
	qsort(*out, *n, sizeof(char *), cmp_cstr);
	return 0;
}

/* The secrets allowlist's paths do not cover what a fork's pull request changed: it chose
 * where its files lie. */
static bool changed_by_fork(const void *ud, const char *path)
{
	return gate_policy_changed(ud, path);
}

/* The scan itself, with o (released here), of root (NULL: the workspace); nothing_ok: a
 * scan that sees no file it can read passes (what an image carries may be binaries alone). */
static int scan_with(enum rule_kind kind, struct stage_worker *w, const char *root, struct opts o,
		     bool nothing_ok)
{
	char err[1000] = "";
	struct gate_policy policy;
	if (gate_policy_for_worker(&policy, w, err, sizeof(err)) < 0) {
		gate_policy_release(&policy);
		opts_release(&o);
		return fail(w, NULL, "invalid gate configuration: %s", err);
	}
	int code = STAGE_EXIT_ERROR;
	struct ruleset *rs = ruleset_new(kind);
	struct diag_list dl;
	diag_list_init(&dl, 20);
	pcre2_code **allow = NULL;
	size_t n_allow = 0;
	struct finding_list fl;
	finding_list_init(&fl);
	const char **paths = NULL, **exclude = NULL, **allow_paths = NULL, **tracked = NULL;
	char *tracked_buf = NULL;

	int r = 0;
	if (o.default_rules) {
		r = ruleset_load_defaults(rs, &dl);
	}
	/* The runner may name another directory for relative rule paths: a fork's run takes
	 * the base branch's rule packs, not the pull request's; `runner scan` names "/" (its
	 * rules may lie outside the tree it scans). */
	const char *rules_root = json_string_value(json_object_get(w->with, "rules_root"));
	const char *base = rules_root ? rules_root : w->workspace;
	for (size_t i = 0; r == 0 && i < json_array_size(o.rules); i++) {
		const char *p = json_string_value(json_array_get(o.rules, i));
		_cleanup_free_ char *full =
			p[0] == '/' ? xstrdup(p)
				    : xasprintf("%s%s%s", base,
						str_has_suffix(base, "/") ? "" : "/", p);
		r = ruleset_load_path(rs, full, &dl);
	}
	if (r < 0 || dl.errors) {
		char d[900];
		diags_text(&dl, d, sizeof(d));
		code = fail(w, NULL, "invalid rules: %s", d);
		goto out;
	}
	ruleset_finish(rs, &dl);
	if (ruleset_count(rs) == 0) {
		code = fail(w, NULL,
			    "no %s rules to scan with (default-rules is false and `rules` "
			    "gives none)",
			    kind_word(kind));
		goto out;
	}
	for (size_t i = 0; i < json_array_size(o.allow_regex); i++) {
		size_t off;
		pcre2_code *re =
			rules_regex_compile(json_string_value(json_array_get(o.allow_regex, i)),
					    err, sizeof(err), &off);
		if (!re) {
			code = fail(w, NULL, "invalid allowlist regex %zu: %s", i + 1, err);
			goto out;
		}
		allow = xreallocarray(allow, n_allow + 1, sizeof(*allow));
		allow[n_allow++] = re;
	}
	size_t np = json_array_size(o.paths), ne = json_array_size(o.exclude),
	       nap = json_array_size(o.allow_paths);
	paths = xcalloc(np + 1, sizeof(char *));
	exclude = xcalloc(ne + 1, sizeof(char *));
	allow_paths = xcalloc(nap + 1, sizeof(char *));
	for (size_t i = 0; i < np; i++) {
		paths[i] = json_string_value(json_array_get(o.paths, i));
	}
	for (size_t i = 0; i < ne; i++) {
		exclude[i] = json_string_value(json_array_get(o.exclude, i));
	}
	for (size_t i = 0; i < nap; i++) {
		allow_paths[i] = json_string_value(json_array_get(o.allow_paths, i));
	}
	/* An exported commit's files (its workspace has no index to say they are tracked):
	 * read whatever .gitignore says. Without the list, .gitignore is not read at all. */
	size_t nti = 0;
	bool no_list = json_is_true(json_object_get(w->gate, "tracked_unknown"));
	const char *tl = json_string_value(json_object_get(w->gate, "tracked_list"));
	if (tl && load_tracked(tl, json_string_value(json_object_get(w->gate, "tracked_prefix")),
			       &tracked_buf, &tracked, &nti) < 0) {
		no_list = true;
	}
	struct scan_options so = {
		.rules = rs,
		.walk = {
			.root = root ? root : w->workspace,
			.paths = paths,
			.n_paths = np,
			.exclude = exclude,
			.n_exclude = ne,
			.max_file_size = o.max_file_size,
			.no_gitignore = !o.gitignore || no_list,
			.scan_vendored = o.vendored,
			.scan_generated = o.generated,
			.enter_vcs = o.vcs_dirs,
			.tracked = tracked,
			.n_tracked = nti,
			.must_scan = (const char *const *)policy.changed,
			.n_must_scan = policy.n_changed,
			.git_dir = json_string_value(json_object_get(w->gate, "git_dir")),
		},
		.jobs = o.jobs,
		.deadline_ms = o.timeout_ms ? now_mono_ms() + o.timeout_ms : 0,
		.allow_paths = allow_paths,
		.n_allow_paths = nap,
		.not_allowed = changed_by_fork,
		.not_allowed_ud = &policy,
		.allow_regex = allow,
		.n_allow_regex = n_allow,
		/* A history scan's blobs (runner/histscan.c), never a pipeline's. */
		.blob_names = json_is_true(json_object_get(w->with, "blob_names")),
	};
	if (policy.changed_all) {
		/* A fork's run whose changes could not be listed: any file may be one of them,
		 * so none is exempted by where it lies or what it looks like. */
		so.walk.n_exclude = 0;
		so.walk.scan_vendored = true;
		so.walk.scan_generated = true;
		so.walk.no_gitignore = true;
	}
	struct scan_stats st;
	r = scan_run(&so, &fl, &st, err, sizeof(err));
	json_t *stats = scan_stats_json(&st);
	if (r < 0) {
		code = fail(w, stats, "%s scan failed: %s", kind_word(kind), err);
		json_decref(stats);
		goto out;
	}
	if (st.files_scanned == 0 && !nothing_ok) {
		size_t skipped = 0;
		for (int k = 0; k < SKIP_COUNT; k++) {
			skipped += st.skipped[k];
		}
		code = fail(w, stats,
			    "nothing was scanned: the paths hold no file the %s scan could read "
			    "(%zu skipped); a scan that sees nothing cannot pass",
			    kind_word(kind), skipped);
		json_decref(stats);
		goto out;
	}
	code = gate_finish(w, &policy, &fl, stats);
	json_decref(stats);
out:
	free(paths);
	free(exclude);
	free(allow_paths);
	free(tracked);
	free(tracked_buf);
	for (size_t i = 0; i < n_allow; i++) {
		pcre2_code_free(allow[i]);
	}
	free(allow);
	finding_list_release(&fl);
	diag_list_release(&dl);
	ruleset_free(rs);
	gate_policy_release(&policy);
	opts_release(&o);
	return code;
}

int secscan_run(enum rule_kind kind, struct stage_worker *w)
{
	char err[1000] = "";
	struct opts o;
	bool cli = w->stage_name == NULL;
	if (parse_opts(kind, w->with, cli, &o, err, sizeof(err)) < 0) {
		opts_release(&o);
		return fail(w, NULL, "invalid %s configuration: %s", kind_word(kind), err);
	}
	/* The runner's scan of the files a range of commits brings (runner/histscan.c): those
	 * may be binaries alone, and no file at all was missed for that. */
	bool nothing_ok = !cli && json_is_true(json_object_get(w->with, "nothing_ok"));
	const char *pack = cli ? NULL : json_string_value(json_object_get(w->with, "blob_pack"));
	if (!pack) {
		return scan_with(kind, w, NULL, o, nothing_ok);
	}
	/* Its blobs as one file of the workspace (stages/blobpack.h): laid out in a private
	 * directory of this process's /tmp (the sandbox's tmpfs) and scanned there. */
	_cleanup_free_ char *file = xasprintf("%s/%s", w->workspace, pack);
	char *dir = path_is_inside(pack) ? tmp_dir_tracked("runner-blobs") : NULL;
	if (!dir) {
		int e = errno;
		opts_release(&o);
		return fail(w, NULL, "cannot unpack the blobs %s: %s", pack,
			    path_is_inside(pack) ? strerror(e) : "not a path inside the workspace");
	}
	long n = blobpack_unpack(file, dir, err, sizeof(err));
	int code = n < 0 ? fail(w, NULL, "%s", err) : scan_with(kind, w, dir, o, nothing_ok);
	if (n < 0) {
		opts_release(&o);
	}
	rm_rf(dir);
	tmp_untrack(dir);
	free(dir);
	return code;
}

int secscan_paths(struct stage_worker *w, const char *const *paths, size_t n, json_t *result)
{
	struct opts o = {
		.paths = json_array(),
		.default_rules = true,
		.gitignore = false,
		.vendored = true,
		.generated = true,
		.vcs_dirs = true, /* the build copies a .git directory like any other */
		.max_file_size = SCAN_SECRETS_MAX_FILE_SIZE,
	};
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(o.paths, json_string(paths[i]));
	}
	/* The gate is the pipeline's (no stage settings of its own); the result is result. */
	json_t *none = json_object();
	struct stage_worker sw = { w->stage_name, w->workspace, none, w->gate, result };
	int code = scan_with(RULE_SECRET, &sw, NULL, o, true);
	json_decref(none);
	return code;
}

/* ---------- the human summary ---------- */

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_int_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void print_size(FILE *f, json_int_t b)
{
	if (b >= (1 << 20)) {
		fprintf(f, "%.1f MiB", (double)b / (1 << 20));
	} else if (b >= 1024) {
		fprintf(f, "%.1f KiB", (double)b / 1024);
	} else {
		fprintf(f, "%lld bytes", (long long)b);
	}
}

void secscan_print_text(FILE *f, const char *what, const json_t *result, size_t max_findings)
{
	const json_t *stats = json_object_get(result, "stats");
	if (json_is_object(stats)) {
		fprintf(f, "%s: %lld file%s scanned (", what,
			(long long)jint(stats, "files_scanned"),
			jint(stats, "files_scanned") == 1 ? "" : "s");
		print_size(f, jint(stats, "bytes_scanned"));
		fprintf(f, ") with %lld rules in %.2fs", (long long)jint(stats, "rules"),
			(double)jint(stats, "duration_ms") / 1000.0);
		json_int_t skipped = jint(stats, "files_skipped");
		if (skipped) {
			fprintf(f, "; %lld skipped (", (long long)skipped);
			const char *k;
			json_t *v;
			bool first = true;
			json_object_foreach(json_object_get(stats, "skipped"), k, v)
			{
				if (json_integer_value(v)) {
					fprintf(f, "%s%s %lld", first ? "" : ", ", k,
						(long long)json_integer_value(v));
					first = false;
				}
			}
			fprintf(f, ")");
		}
		fprintf(f, "\n");
	}
	const json_t *findings = json_object_get(result, "findings");
	size_t shown = 0;
	for (size_t i = 0; i < json_array_size(findings); i++) {
		const json_t *fj = json_array_get(findings, i);
		if (max_findings && shown >= max_findings) {
			fprintf(f, "... and %zu more findings (all are in the report)\n",
				json_array_size(findings) - shown);
			break;
		}
		shown++;
		/* One finding, one line: a file name or message cannot forge another. */
		fput_one_line(f, jstr(fj, "file"));
		fprintf(f, ":%lld:%lld: %s %s: ", (long long)jint(fj, "line"),
			(long long)jint(fj, "column"), jstr(fj, "severity"), jstr(fj, "rule_id"));
		fput_one_line(f, jstr(fj, "message"));
		const json_t *cwe = json_object_get(fj, "cwe");
		for (size_t k = 0; k < json_array_size(cwe); k++) {
			fprintf(f, "%s%s%s", k ? ", " : " [",
				json_string_value(json_array_get(cwe, k)),
				k + 1 == json_array_size(cwe) ? "]" : "");
		}
		const char *disp = jstr(fj, "disposition");
		const json_t *sup = json_object_get(fj, "suppression");
		if (str_eq(disp, "suppressed") && sup) {
			/* The reason is the source's or the pipeline's: one line too. */
			fprintf(f, " (suppressed, %s: ", jstr(sup, "kind"));
			fput_one_line(f, jstr(sup, "reason"));
			fputc(')', f);
		} else if (str_eq(disp, "below-threshold")) {
			fprintf(f, " (below the threshold)");
		}
		fprintf(f, "\n");
		const char *snip = jstr(fj, "snippet");
		if (*snip) {
			fprintf(f, "%6lld | ", (long long)jint(fj, "line"));
			fput_one_line(f, snip);
			fputc('\n', f);
		}
		const char *fix = jstr(fj, "fix");
		if (*fix && !str_eq(disp, "suppressed")) {
			fputs("       fix: ", f);
			fput_one_line(f, fix);
			fputc('\n', f);
		}
	}
	const json_t *notes = json_object_get(stats, "notes");
	for (size_t i = 0; i < json_array_size(notes); i++) {
		fputs("note: ", f);
		fput_one_line(f, json_string_value(json_array_get(notes, i)));
		fputc('\n', f);
	}
	const json_t *gnotes = json_object_get(json_object_get(result, "gate"), "notes");
	for (size_t i = 0; i < json_array_size(gnotes); i++) {
		fputs("note: ", f);
		fput_one_line(f, json_string_value(json_array_get(gnotes, i)));
		fputc('\n', f);
	}
	fprintf(f, "%s\n", jstr(result, "summary"));
	fflush(f);
}
