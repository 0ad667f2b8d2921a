/*
 * pipeline.c - load and validate a pipeline file into the model of pipeline.h.
 *
 * Validation runs in three passes: (1) the document's shape, key by key, with types and
 * values checked; (2) references between stages (`needs:`) and the graph (self
 * dependencies, cycles); (3) variable references in `env:` and `with:`, which need the
 * full list of names. Errors are collected rather than stopping at the first, except
 * where a later pass would only repeat an earlier error: pass 2 and 3 run only on a
 * document whose shape is valid; pass 3, and the cycle check of pass 2 (on the `needs`
 * entries that are valid), run whatever else pass 2 found.
 */
#include "pipeline.h"

#include "arena.h"
#include "diag.h"
#include "expr.h"
#include "gate.h"
#include "pushgate.h"
#include "hmap.h"
#include "interp.h"
#include "sandboxcfg.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banned.h"

const char *const pipeline_runner_vars[] = {
	"RUNNER_COMMIT_SHA", "RUNNER_COMMIT_SHORT", "RUNNER_BRANCH",	  "RUNNER_TAG",
	"RUNNER_REPO_URL",   "RUNNER_EVENT",	    "RUNNER_RUN_ID",	  "RUNNER_WORKSPACE",
	"RUNNER_PIPELINE",   "RUNNER_STAGE",	    "RUNNER_COMMIT_TIME", NULL,
};

/* RUNNER_DB and XDG_CACHE_HOME locate the advisory database of dependency-scan. */
const char *const pipeline_passthrough_vars[] = {
	"HOME",		"LANG",	     "LC_ALL",	       "TZ", "USER", "LOGNAME",
	"TERM_PROGRAM", "RUNNER_DB", "XDG_CACHE_HOME", NULL,
};

static const char *const top_keys[] = { "version", "name", "env", "defaults", "gate", "stages" };
static const char *const default_keys[] = { "timeout",	     "retry",	"kill-grace",
					    "allow-failure", "sandbox", "shell" };
static const char *const stage_keys[] = {
	"run",
	"uses",
	"with",
	"needs",
	"if",
	"env",
	"timeout",
	"retry",
	"kill-grace",
	"allow-failure",
	"allow-skipped-needs",
	"outputs",
	"secrets",
	"workdir",
	"ungated",
	"sandbox",
	"shell",
};
static const char *const retry_keys[] = { "max", "when" };

struct defaults {
	uint64_t timeout_ms, grace_ms;
	unsigned retry, retry_when;
	bool allow_failure;
	const struct psandbox *sandbox;
	enum stage_shell shell;
};

/* Raw `needs:` entries, resolved once every stage is known. */
struct need_ref {
	const struct ynode *node;
};

struct loader {
	struct pipeline *p;
	struct diag_list *dl;
	const char *file;
	struct defaults def;
	struct need_ref **needs; /* per stage */
	size_t *n_needs;
	const struct ynode **stage_nodes;
};

static void error_at(struct loader *L, unsigned line, unsigned col, const char *hint,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void error_at(struct loader *L, unsigned line, unsigned col, const char *hint,
		     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(L->dl, L->file, line, col, hint, "%s", msg);
}

#define error_node(L, n, hint, ...) error_at((L), (n)->line, (n)->col, (hint), __VA_ARGS__)

/* The byte offset of line:col in the source (col counted in characters, as libyaml
 * counts them), or SIZE_MAX for text that is not UTF-8 (a UTF-16 file). */
static size_t source_offset(const struct pipeline *p, unsigned line, unsigned col)
{
	const unsigned char *s = (const unsigned char *)p->source;
	size_t len = p->source_len, i = 0;
	if (len >= 2 && (s[0] == 0xff || s[0] == 0xfe || s[0] == 0)) {
		return SIZE_MAX;
	}
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
		i = 3;
	}
	for (unsigned l = 1; l < line; l++) {
		const unsigned char *nl = memchr(s + i, '\n', len - i);
		if (!nl) {
			return SIZE_MAX;
		}
		i = (size_t)(nl - s) + 1;
	}
	for (unsigned c = 1; c < col && i < len && s[i] != '\n'; c++) {
		i++;
		while (i < len && (s[i] & 0xc0) == 0x80) {
			i++;
		}
	}
	return i;
}

/* How many bytes UTF-8 takes for the code point in the n hex digits at h. */
static size_t utf8_len_of_hex(const char *h, size_t n)
{
	unsigned long cp = 0;
	for (size_t k = 0; k < n && isxdigit((unsigned char)h[k]); k++) {
		cp = cp * 16 + (unsigned long)(isdigit((unsigned char)h[k])
						       ? h[k] - '0'
						       : (tolower((unsigned char)h[k]) - 'a' + 10));
	}
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/*
 * Position of byte `offset` of a scalar's value: its source is walked from the scalar's
 * start, undoing what the YAML reader did (escapes, '' in single quotes, multibyte
 * characters, line folding: a break and the indentation after it are one space, or as
 * many newlines as there are empty lines; trailing blanks dropped), so that the column
 * (in characters) and line are where the text is. A block scalar gives its start.
 */
static struct pos pos_in_scalar(const struct loader *L, const struct ynode *n, size_t offset)
{
	struct pos p = { n->line, n->col };
	size_t i = n->kind == YNODE_SCALAR && n->scalar.style != YSCALAR_BLOCK
			   ? source_offset(L->p, n->line, n->col)
			   : SIZE_MAX;
	if (i == SIZE_MAX) {
		return p;
	}
	const char *s = L->p->source;
	size_t len = L->p->source_len, d = 0;
	bool dq = n->scalar.style == YSCALAR_QUOTED && i < len && s[i] == '"';
	bool sq = n->scalar.style == YSCALAR_QUOTED && i < len && s[i] == '\'';
	if (dq || sq) {
		i++;
		p.col++;
	}
	while (i < len) {
		char c = s[i];
		if ((dq && c == '"') || (sq && c == '\'' && !(i + 1 < len && s[i + 1] == '\''))) {
			break;
		}
		bool escaped_break =
			dq && c == '\\' && i + 1 < len && (s[i + 1] == '\n' || s[i + 1] == '\r');
		/* At the offset, stop: unless what is here gives nothing of the value (an
		 * escaped break), so that the text at the offset comes after it. */
		if (d >= offset && !escaped_break) {
			break;
		}
		if (c == '\n' || c == '\r' || escaped_break) {
			/* A break, and the empty lines after it: folded. */
			unsigned breaks = 0;
			i += escaped_break;
			while (i < len && (s[i] == '\n' || s[i] == '\r')) {
				breaks += s[i] == '\n';
				size_t k = ++i;
				while (k < len && (s[k] == ' ' || s[k] == '\t')) {
					k++;
				}
				p.line += s[i - 1] == '\n';
				p.col = (unsigned)(k - i) + 1;
				i = k;
				if (!(i < len && (s[i] == '\n' || s[i] == '\r'))) {
					break;
				}
			}
			d += escaped_break ? (breaks > 1 ? breaks - 1 : 0)
			     : breaks > 1  ? breaks - 1
					   : 1;
			continue;
		}
		if (c == ' ' || c == '\t') {
			/* Blanks before a break are dropped. */
			size_t k = i;
			while (k < len && (s[k] == ' ' || s[k] == '\t')) {
				k++;
			}
			if (k < len && (s[k] == '\n' || s[k] == '\r')) {
				p.col += (unsigned)(k - i);
				i = k;
				continue;
			}
			d++;
			i++;
			p.col++;
			continue;
		}
		size_t w = 1, out = 1;
		if (sq && c == '\'') {
			w = 2; /* '' is one quote */
		} else if (dq && c == '\\' && i + 1 < len) {
			char e = s[i + 1];
			w = e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2;
			w = MIN(w, len - i);
			out = e == 'x' || e == 'u' || e == 'U' ? utf8_len_of_hex(s + i + 2, w - 2)
			      : e == 'N' || e == '_'	       ? 2
			      : e == 'L' || e == 'P'	       ? 3
							       : 1;
		} else if ((unsigned char)c >= 0x80) {
			/* One character of several bytes: as many in the value. */
			while (i + w < len && ((unsigned char)s[i + w] & 0xc0) == 0x80) {
				w++;
			}
			out = w;
			d += out;
			i += w;
			p.col++;
			continue;
		}
		d += out;
		i += w;
		p.col += (unsigned)w;
	}
	return p;
}

/* Unknown keys: an error each, with the closest valid key as a hint. */
static void check_keys(struct loader *L, const struct ynode *map, const char *const *keys,
		       size_t nkeys, const char *where)
{
	for (size_t i = 0; i < map->map.n; i++) {
		const struct ynode *k = map->map.v[i].key;
		bool ok = false;
		for (size_t j = 0; j < nkeys && !ok; j++) {
			ok = str_eq(k->scalar.s, keys[j]);
		}
		if (ok) {
			continue;
		}
		const char *near = closest_word(k->scalar.s, keys, nkeys);
		char hint[512];
		if (near) {
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near);
		} else {
			size_t n = (size_t)snprintf(hint, sizeof(hint), "valid keys are: ");
			for (size_t j = 0; j < nkeys && n < sizeof(hint); j++) {
				n += (size_t)snprintf(hint + n, sizeof(hint) - n, "%s%s",
						      j ? ", " : "", keys[j]);
			}
		}
		error_node(L, k, hint, "unknown key '%.100s' in %s", k->scalar.s, where);
	}
}

static bool expect_kind(struct loader *L, const struct ynode *n, enum ynode_kind kind,
			const char *what, const char *hint)
{
	if (n && n->kind == kind && !(kind == YNODE_SCALAR && ynode_is_null(n))) {
		return true;
	}
	const char *want = kind == YNODE_MAP   ? "a mapping"
			   : kind == YNODE_SEQ ? "a sequence"
					       : "a value";
	error_node(L, n, hint, "%s must be %s, not %s", what, want, ynode_type_name(n));
	return false;
}

/* A non-null scalar, as text. */
static const char *get_text(struct loader *L, const struct ynode *n, const char *what)
{
	if (!n || n->kind != YNODE_SCALAR || ynode_is_null(n)) {
		error_node(L, n, NULL, "%s must be a string, not %s", what, ynode_type_name(n));
		return NULL;
	}
	return n->scalar.s;
}

static bool get_bool(struct loader *L, const struct ynode *n, const char *what, bool *out)
{
	if (ynode_bool(n, out) < 0) {
		error_node(L, n, "write true or false", "%s must be a boolean, not %s", what,
			   ynode_type_name(n));
		return false;
	}
	return true;
}

static bool get_duration(struct loader *L, const struct ynode *n, const char *what, uint64_t max,
			 uint64_t *out)
{
	const char *s = ynode_str(n);
	int r = s ? parse_duration(s, max, out) : -EINVAL;
	if (r == -ERANGE) {
		char buf[32];
		error_node(L, n, NULL, "%s '%.60s' is longer than the maximum of %s", what, s,
			   format_duration(max, buf, sizeof(buf)));
		return false;
	}
	if (r < 0 || *out == 0) {
		int64_t i;
		const char *hint =
			"use a number with a unit: 30s, 10m, 1h30m (units: ms, s, m, h, d)";
		if (n && n->kind == YNODE_SCALAR && ynode_int(n, &i) == 0) {
			hint = "add a unit, for example 600s or 10m";
		} else if (r == 0) {
			hint = "a duration must be longer than zero";
		}
		error_node(L, n, hint, "bad duration '%.60s' for %s", s ? s : ynode_type_name(n),
			   what);
		return false;
	}
	return true;
}

/* A number written in quotes ("2", '10'): YAML makes it a string, which a user rarely
 * means; the error says so rather than quoting a value that looks right. */
static bool quoted_number(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || !n->is_str || !n->scalar.s[0]) {
		return false;
	}
	for (const char *c = n->scalar.s; *c; c++) {
		if (*c < '0' || *c > '9') {
			return false;
		}
	}
	return true;
}

static bool get_retry(struct loader *L, const struct ynode *n, unsigned *retry, unsigned *when)
{
	int64_t v;
	const struct ynode *max = n;
	*when = RETRY_ON_FAILURE;
	if (n && n->kind == YNODE_MAP) {
		check_keys(L, n, retry_keys, ARRAY_SIZE(retry_keys), "retry");
		max = ynode_get(n, "max");
		if (!max) {
			error_node(L, n, "write retry: { max: 2, when: [failure, timeout] }",
				   "retry needs a `max` count");
			return false;
		}
		const struct ynode *w = ynode_get(n, "when");
		if (w) {
			if (!expect_kind(L, w, YNODE_SEQ, "retry.when",
					 "write when: [failure] or when: [failure, timeout]")) {
				return false;
			}
			*when = 0;
			for (size_t i = 0; i < w->seq.n; i++) {
				const char *s = ynode_str(w->seq.v[i]);
				if (str_eq(s, "failure")) {
					*when |= RETRY_ON_FAILURE;
				} else if (str_eq(s, "timeout")) {
					*when |= RETRY_ON_TIMEOUT;
				} else {
					error_node(L, w->seq.v[i],
						   "the values are failure and timeout",
						   "unknown retry condition '%.60s'",
						   s ? s : ynode_type_name(w->seq.v[i]));
					return false;
				}
			}
		}
	}
	if (quoted_number(max)) {
		char hint[96];
		snprintf(hint, sizeof(hint), "write the number without quotes: %s: %.20s",
			 max == n ? "retry" : "max", max->scalar.s);
		error_node(L, max, hint, "retry must be a whole number from 0 to %d, not a string",
			   PIPELINE_MAX_RETRY);
		return false;
	}
	if (ynode_int(max, &v) < 0 || v < 0 || v > PIPELINE_MAX_RETRY) {
		error_node(L, max, NULL, "retry must be a whole number from 0 to %d, not %s",
			   PIPELINE_MAX_RETRY,
			   max && max->kind == YNODE_SCALAR ? max->scalar.s : ynode_type_name(max));
		return false;
	}
	*retry = (unsigned)v;
	return true;
}

static bool valid_stage_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0])) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') {
			return false;
		}
	}
	return true;
}

static bool valid_env_name(const char *s)
{
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			return false;
		}
	}
	return strlen(s) <= INTERP_NAME_MAX;
}

static bool valid_secret_name(const char *s)
{
	if (!*s || strlen(s) > 64 || !isalpha((unsigned char)s[0])) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			return false;
		}
	}
	return true;
}

/* A relative path that stays inside the workspace: no '/', '..' or NUL tricks. */
static bool valid_rel_path(const char *s)
{
	if (!*s || s[0] == '/' || strlen(s) > PATH_MAX / 2) {
		return false;
	}
	const char *p = s;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			return false;
		}
		p += n;
		while (*p == '/') {
			p++;
		}
	}
	return true;
}

const char *pipeline_secret_env(struct arena *a, const char *secret)
{
	char *s = arena_strdup(a, secret);
	if (s) {
		for (char *p = s; *p; p++) {
			*p = (char)toupper((unsigned char)*p);
		}
	}
	return s;
}

static bool load_env(struct loader *L, const struct ynode *n, const char *where, struct pvar **out,
		     size_t *count)
{
	if (!expect_kind(L, n, YNODE_MAP, where, "write env: { NAME: value }")) {
		return false;
	}
	if (n->map.n > PIPELINE_MAX_LIST) {
		error_node(L, n, NULL, "%s has more than %d entries", where, PIPELINE_MAX_LIST);
		return false;
	}
	struct pvar *v = arena_alloc_array(L->p->arena, n->map.n ? n->map.n : 1, sizeof(*v));
	if (!v) {
		error_node(L, n, NULL, "pipeline too large (memory cap reached)");
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < n->map.n; i++) {
		const struct ynode *k = n->map.v[i].key, *val = n->map.v[i].value;
		if (!valid_env_name(k->scalar.s)) {
			error_node(L, k, "use letters, digits and '_', not starting with a digit",
				   "invalid environment variable name '%.100s'", k->scalar.s);
			ok = false;
			continue;
		}
		if (str_has_prefix(k->scalar.s, "RUNNER_")) {
			error_node(L, k, "choose another name; the runner sets RUNNER_* itself",
				   "environment variable names starting with RUNNER_ are reserved");
			ok = false;
			continue;
		}
		if (!val || val->kind != YNODE_SCALAR || ynode_is_null(val)) {
			error_node(L, val ? val : k,
				   "quote the value; an empty value is written \"\"",
				   "value of %s must be a string, not %s", k->scalar.s,
				   ynode_type_name(val));
			ok = false;
			continue;
		}
		v[i].name = k->scalar.s;
		v[i].value = val->scalar.s;
		v[i].pos = (struct pos){ val->line, val->col };
	}
	*out = v;
	*count = n->map.n;
	return ok;
}

static const char **load_str_list(struct loader *L, const struct ynode *n, const char *what,
				  const char *hint, size_t *count)
{
	if (!expect_kind(L, n, YNODE_SEQ, what, hint)) {
		return NULL;
	}
	if (n->seq.n > PIPELINE_MAX_LIST) {
		error_node(L, n, NULL, "%s has more than %d entries", what, PIPELINE_MAX_LIST);
		return NULL;
	}
	const char **v = arena_alloc_array(L->p->arena, n->seq.n ? n->seq.n : 1, sizeof(char *));
	if (!v) {
		return NULL;
	}
	for (size_t i = 0; i < n->seq.n; i++) {
		v[i] = get_text(L, n->seq.v[i], what);
		if (!v[i]) {
			return NULL;
		}
		for (size_t j = 0; j < i; j++) {
			if (str_eq(v[i], v[j])) {
				error_node(L, n->seq.v[i], "remove the repeated entry",
					   "'%.100s' is listed twice in %s", v[i], what);
				return NULL;
			}
		}
	}
	*count = n->seq.n;
	return v;
}

/* `shell:`: one of the names stage_shell_name() knows, nothing else (a path would be looked
 * up nowhere the sandbox could promise). */
static bool get_shell(struct loader *L, const struct ynode *n, enum stage_shell *out)
{
	const char *s = get_text(L, n, "shell");
	if (!s) {
		return false;
	}
	for (int i = 0; i < STAGE_SHELL_COUNT; i++) {
		if (str_eq(s, stage_shell_name((enum stage_shell)i))) {
			*out = (enum stage_shell)i;
			return true;
		}
	}
	error_node(L, n, "shell is one of: sh, bash", "unknown shell '%.100s'", s);
	return false;
}

static void load_defaults(struct loader *L, const struct ynode *n)
{
	if (!expect_kind(L, n, YNODE_MAP, "defaults",
			 "write defaults: { timeout: 10m, retry: 0 }")) {
		return;
	}
	check_keys(L, n, default_keys, ARRAY_SIZE(default_keys), "defaults");
	const struct ynode *v;
	if ((v = ynode_get(n, "timeout"))) {
		get_duration(L, v, "defaults.timeout", PIPELINE_MAX_TIMEOUT, &L->def.timeout_ms);
	}
	if ((v = ynode_get(n, "kill-grace"))) {
		get_duration(L, v, "defaults.kill-grace", 600000, &L->def.grace_ms);
	}
	if ((v = ynode_get(n, "retry"))) {
		get_retry(L, v, &L->def.retry, &L->def.retry_when);
	}
	if ((v = ynode_get(n, "allow-failure"))) {
		get_bool(L, v, "defaults.allow-failure", &L->def.allow_failure);
	}
	if ((v = ynode_get(n, "sandbox"))) {
		psandbox_load(L->p->arena, L->file, v, NULL, &L->def.sandbox, L->dl);
	}
	if ((v = ynode_get(n, "shell"))) {
		get_shell(L, v, &L->def.shell);
	}
}

/* Nothing but blanks and line breaks. */
static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

static void load_stage(struct loader *L, struct pstage *s, const struct ynode *n)
{
	char where[128];
	const struct ynode *v;
	snprintf(where, sizeof(where), "stage '%s'", s->name);

	s->timeout_ms = L->def.timeout_ms;
	s->kill_grace_ms = L->def.grace_ms;
	s->retry = L->def.retry;
	s->retry_when = L->def.retry_when;
	s->allow_failure = L->def.allow_failure;
	s->workdir = ".";
	s->sandbox = L->def.sandbox;
	s->shell = L->def.shell;

	if (!n || ynode_is_null(n)) {
		error_at(L, s->pos.line, s->pos.col, "give it `run: <script>` or `uses: <kind>`",
			 "stage '%s' is empty", s->name);
		return;
	}
	if (n->kind != YNODE_MAP) {
		error_node(L, n,
			   "write the stage as a mapping: `run: make` on the next line, indented",
			   "stage '%s' must be a mapping, not %s", s->name, ynode_type_name(n));
		return;
	}
	check_keys(L, n, stage_keys, ARRAY_SIZE(stage_keys), where);

	const struct ynode *run = ynode_get(n, "run"), *uses = ynode_get(n, "uses");
	const struct ynode *with = ynode_get(n, "with");
	if (run && uses) {
		error_node(L, uses, "split it into two stages",
			   "stage '%s' has both `run:` and `uses:`", s->name);
	} else if (run) {
		s->kind = &stage_kind_script;
		if (run->kind == YNODE_SCALAR && (ynode_is_null(run) || blank(run->scalar.s))) {
			/* `run:` left empty, or a `run: |` whose lines went elsewhere: a script
			 * with no command would pass having done nothing. */
			error_node(L, run,
				   "write the commands after `run:`, or a block: `run: |`, then "
				   "one command per line, indented",
				   "stage '%s' has an empty `run:` script", s->name);
		} else if (run->kind == YNODE_SEQ) {
			error_node(L, run,
				   "write the commands as one block: `run: |`, then one command "
				   "per line, indented",
				   "run must be a string, not a sequence");
		} else {
			s->script = get_text(L, run, "run");
		}
		if (with) {
			error_node(L, with, "`with:` configures a `uses:` kind; remove it",
				   "stage '%s' has `with:` but no `uses:`", s->name);
		}
		if ((v = ynode_get(n, "shell"))) {
			get_shell(L, v, &s->shell);
		}
	} else if (uses) {
		if ((v = ynode_get(n, "shell"))) {
			/* A built-in kind is the runner's own code: no shell runs it. */
			error_node(L, v, "`shell:` applies to `run:` scripts; remove it",
				   "stage '%s' has `shell:` but no `run:`", s->name);
		}
		const char *kname = get_text(L, uses, "uses");
		const struct stage_kind *k = kname ? stage_kind_find(kname) : NULL;
		if (kname && (!k || (k->flags & STAGE_KIND_SCRIPT))) {
			const char *names[64];
			size_t nn = 0;
			for (size_t i = 0; i < stage_kind_count() && nn < ARRAY_SIZE(names); i++) {
				if (!(stage_kind_at(i)->flags & STAGE_KIND_SCRIPT)) {
					names[nn++] = stage_kind_at(i)->name;
				}
			}
			const char *near = closest_word(kname, names, nn);
			char hint[600], known[400];
			snprintf(hint, sizeof(hint), "%s%s%sknown kinds: %s",
				 near ? "did you mean `" : "", near ? near : "", near ? "`? " : "",
				 stage_kind_names(known, sizeof(known)));
			error_node(L, uses, hint, "unknown stage kind '%.100s'", kname);
		} else if (k) {
			s->kind = k;
			if (with && !ynode_is_null(with) &&
			    !expect_kind(L, with, YNODE_MAP, "with",
					 "write with: { key: value }")) {
				with = NULL;
			}
			s->with = ynode_is_null(with) ? NULL : with;
			if (k->validate) {
				struct stage_check chk = {
					.file = L->file,
					.stage_name = s->name,
					.stage = n,
					.dl = L->dl,
				};
				k->validate(s->with, &chk);
			}
		}
	} else {
		error_node(L, n, "add `run: <script>` or `uses: <kind>`",
			   "stage '%s' has neither `run:` nor `uses:`", s->name);
	}

	if ((v = ynode_get(n, "needs"))) {
		if (v->kind == YNODE_SCALAR && !ynode_is_null(v)) {
			/* `needs: build`, as GitHub Actions accepts: a list of one name, checked
			 * as one (the entry's position is the value's). */
			L->needs[s->index] =
				arena_alloc_array(L->p->arena, 1, sizeof(struct need_ref));
			if (L->needs[s->index]) {
				L->needs[s->index][0].node = v;
				L->n_needs[s->index] = 1;
			}
		} else if (expect_kind(L, v, YNODE_SEQ, "needs",
				       "write needs: build, or needs: [build, test]")) {
			if (v->seq.n > PIPELINE_MAX_STAGES) {
				error_node(L, v, NULL, "needs has more than %d entries",
					   PIPELINE_MAX_STAGES);
			} else {
				L->needs[s->index] =
					arena_alloc_array(L->p->arena, v->seq.n ? v->seq.n : 1,
							  sizeof(struct need_ref));
				if (L->needs[s->index]) {
					for (size_t i = 0; i < v->seq.n; i++) {
						L->needs[s->index][i].node = v->seq.v[i];
					}
					L->n_needs[s->index] = v->seq.n;
				}
			}
		}
	}
	if ((v = ynode_get(n, "if"))) {
		const char *src = get_text(L, v, "if");
		if (src) {
			struct expr_error ee;
			if (expr_parse(L->p->arena, src, &s->cond, &ee) < 0) {
				struct pos p = pos_in_scalar(L, v, ee.offset);
				error_at(L, p.line, p.col, ee.hint, "invalid condition: %s",
					 ee.msg);
			}
			s->cond_src = src;
		}
	}
	if ((v = ynode_get(n, "env"))) {
		load_env(L, v, "env", &s->env, &s->n_env);
	}
	if ((v = ynode_get(n, "timeout"))) {
		get_duration(L, v, "timeout", PIPELINE_MAX_TIMEOUT, &s->timeout_ms);
	}
	if ((v = ynode_get(n, "kill-grace"))) {
		get_duration(L, v, "kill-grace", 600000, &s->kill_grace_ms);
	}
	if ((v = ynode_get(n, "retry"))) {
		get_retry(L, v, &s->retry, &s->retry_when);
	}
	if ((v = ynode_get(n, "allow-failure"))) {
		get_bool(L, v, "allow-failure", &s->allow_failure);
	}
	if ((v = ynode_get(n, "allow-skipped-needs"))) {
		get_bool(L, v, "allow-skipped-needs", &s->allow_skipped_needs);
	}
	if ((v = ynode_get(n, "outputs"))) {
		s->outputs = load_str_list(L, v, "outputs", "write outputs: [build/app, dist/]",
					   &s->n_outputs);
		for (size_t i = 0; s->outputs && i < s->n_outputs; i++) {
			if (!valid_rel_path(s->outputs[i])) {
				error_node(
					L, v->seq.v[i],
					"outputs are paths relative to the workspace, without '..'",
					"output '%.100s' is outside the workspace", s->outputs[i]);
			}
		}
	}
	if ((v = ynode_get(n, "secrets"))) {
		s->secrets = load_str_list(L, v, "secrets", "write secrets: [registry, npm_token]",
					   &s->n_secrets);
		for (size_t i = 0; s->secrets && i < s->n_secrets; i++) {
			if (!valid_secret_name(s->secrets[i])) {
				error_node(L, v->seq.v[i],
					   "use letters, digits and '_', starting with a letter",
					   "invalid secret name '%.100s'", s->secrets[i]);
				continue;
			}
			const char *envname = pipeline_secret_env(L->p->arena, s->secrets[i]);
			for (size_t j = 0; envname && j < s->n_env; j++) {
				if (s->env[j].name && str_eq(s->env[j].name, envname)) {
					error_node(L, v->seq.v[i], "rename the env entry",
						   "secret '%s' is given to the stage as %s, which "
						   "`env:` also sets",
						   s->secrets[i], envname);
				}
			}
			for (size_t j = 0; envname && j < L->p->n_env; j++) {
				if (L->p->env[j].name && str_eq(L->p->env[j].name, envname)) {
					error_node(L, v->seq.v[i], "rename the env entry",
						   "secret '%s' is given to the stage as %s, which "
						   "the "
						   "pipeline's `env:` also sets",
						   s->secrets[i], envname);
				}
			}
		}
	}
	if ((v = ynode_get(n, "ungated"))) {
		const char *u = get_text(L, v, "ungated");
		size_t blank = u ? strspn(u, " \t\n") : 0;
		if (u && !u[blank]) {
			error_node(L, v,
				   "write ungated: \"<why this stage may push without the gates>\"",
				   "`ungated:` needs a reason");
		} else {
			s->ungated = u;
		}
	}
	if ((v = ynode_get(n, "sandbox"))) {
		psandbox_load(L->p->arena, L->file, v, L->def.sandbox, &s->sandbox, L->dl);
		/* A built-in kind is the runner's own code: with a root filesystem its loader
		 * and libraries would come from there (a workspace directory, say), and the
		 * scanner could say whatever they make it say. */
		const struct ynode *rootfs = ynode_get(v, "rootfs");
		if (rootfs && s->kind && !(s->kind->flags & STAGE_KIND_SCRIPT)) {
			error_node(
				L, rootfs,
				"remove it: built-in stages run on the host's system directories",
				"a `uses: %s` stage cannot have a sandbox.rootfs (the runner's "
				"own code would load its libraries from there)",
				s->kind->name);
		}
	}
	if ((v = ynode_get(n, "workdir"))) {
		const char *w = get_text(L, v, "workdir");
		if (w && !valid_rel_path(w)) {
			error_node(L, v, "use a directory relative to the workspace, without '..'",
				   "workdir '%.100s' is outside the workspace", w);
		} else if (w) {
			s->workdir = w;
		}
	}
}

static void load_stages(struct loader *L, const struct ynode *n)
{
	struct pipeline *p = L->p;
	if (n->kind == YNODE_SEQ) {
		error_node(L, n, "write stages as a mapping: `stages:` then `build: { run: make }`",
			   "stages must be a mapping from stage names to stages, not a sequence");
		return;
	}
	if (!expect_kind(L, n, YNODE_MAP, "stages", NULL)) {
		return;
	}
	size_t count = 0;
	for (size_t i = 0; i < n->map.n; i++) {
		count += n->map.v[i].key->scalar.s[0] != '.';
	}
	if (count == 0) {
		error_node(L, n, "add at least one stage", "the pipeline has no stages");
		return;
	}
	if (count > PIPELINE_MAX_STAGES) {
		error_node(L, n, NULL, "too many stages: %zu (the limit is %d)", count,
			   PIPELINE_MAX_STAGES);
		return;
	}
	p->stages = arena_alloc_array(p->arena, count, sizeof(struct pstage *));
	L->needs = xcalloc(count, sizeof(struct need_ref *));
	L->n_needs = xcalloc(count, sizeof(size_t));
	L->stage_nodes = xcalloc(count, sizeof(struct ynode *));
	p->by_name = hmap_new(count);
	if (!p->stages) {
		error_node(L, n, NULL, "pipeline too large (memory cap reached)");
		return;
	}
	for (size_t i = 0; i < n->map.n; i++) {
		const struct ynode *k = n->map.v[i].key;
		const char *name = k->scalar.s;
		if (name[0] == '.') {
			continue; /* a hidden template, only there to be merged with `<<:` */
		}
		if (!valid_stage_name(name)) {
			error_node(L, k,
				   "use letters, digits, '-' and '_' (at most 64), starting with a "
				   "letter or digit",
				   "invalid stage name '%.100s'", name);
			continue;
		}
		struct pstage *s = arena_alloc(p->arena, sizeof(*s));
		if (!s) {
			error_node(L, k, NULL, "pipeline too large (memory cap reached)");
			return;
		}
		s->name = name;
		s->pos = (struct pos){ k->line, k->col };
		s->index = p->n_stages;
		p->stages[p->n_stages++] = s;
		L->stage_nodes[s->index] = n->map.v[i].value;
		hmap_put(p->by_name, name, s);
	}
	for (size_t i = 0; i < p->n_stages; i++) {
		load_stage(L, p->stages[i], L->stage_nodes[i]);
	}
}

/* Pass 2: resolve `needs:` names, then check the graph. STAGES is the `stages:` mapping. */
static void resolve_needs(struct loader *L, const struct ynode *stages)
{
	struct pipeline *p = L->p;
	size_t edges = 0;
	const char **names = xcalloc(p->n_stages ? p->n_stages : 1, sizeof(char *));
	/* Which stages the stage at hand already needs: a repeat is found in constant time
	 * (a stage may list thousands). Cleared after each stage. */
	bool *listed = xcalloc(p->n_stages ? p->n_stages : 1, sizeof(bool));
	for (size_t i = 0; i < p->n_stages; i++) {
		names[i] = p->stages[i]->name;
	}
	for (size_t i = 0; i < p->n_stages; i++) {
		struct pstage *s = p->stages[i];
		size_t n = L->n_needs[i];
		if (!n) {
			continue;
		}
		s->needs = arena_alloc_array(p->arena, n, sizeof(size_t));
		if (!s->needs) {
			break;
		}
		for (size_t k = 0; k < n; k++) {
			const struct ynode *ref = L->needs[i][k].node;
			const char *name = ynode_str(ref);
			if (!name || ref->kind != YNODE_SCALAR) {
				error_node(L, ref, "write needs: [build, test]",
					   "needs entries must be stage names, not %s",
					   ynode_type_name(ref));
				continue;
			}
			struct pstage *t = hmap_get(p->by_name, name);
			if (!t && name[0] != '.' && ynode_pair(stages, name)) {
				continue; /* a stage whose name was refused (its own error) */
			}
			if (!t) {
				/* A suggestion costs a comparison with every stage: only for the
				 * errors that will be shown. Never the stage itself, which cannot
				 * need itself: it is left out of the list for the search, the
				 * others keeping their file order (the first of equally close names
				 * wins). */
				const char *near = NULL;
				if (L->dl->n < L->dl->max) {
					memmove(&names[i], &names[i + 1],
						(p->n_stages - i - 1) * sizeof(*names));
					near = closest_word(name, names, p->n_stages - 1);
					memmove(&names[i + 1], &names[i],
						(p->n_stages - i - 1) * sizeof(*names));
					names[i] = s->name;
				}
				char hint[200];
				snprintf(hint, sizeof(hint), "did you mean `%s`?",
					 near ? near : "");
				error_node(
					L, ref, near ? hint : "needs lists names of other stages",
					"stage '%s' needs unknown stage '%.100s'", s->name, name);
				continue;
			}
			if (t == s) {
				error_node(L, ref, "remove it from needs",
					   "stage '%s' needs itself", s->name);
				continue;
			}
			if (listed[t->index]) {
				error_node(L, ref, "remove the repeated entry",
					   "'%s' is listed twice in the needs of stage '%s'", name,
					   s->name);
				continue;
			}
			s->needs[s->n_needs++] = t->index;
			listed[t->index] = true;
		}
		for (size_t j = 0; j < s->n_needs; j++) {
			listed[s->needs[j]] = false;
		}
		edges += s->n_needs;
	}
	free(listed);
	free(names);
	if (edges > PIPELINE_MAX_EDGES) {
		error_at(L, 0, 0, NULL, "too many dependencies: %zu (the limit is %d)", edges,
			 PIPELINE_MAX_EDGES);
		return;
	}
	/* The graph of the valid entries, even when others were refused above: a cycle
	 * among them is one whatever the others say, and is reported with them rather than
	 * after they are fixed. */

	size_t *n_needs = xcalloc(p->n_stages, sizeof(size_t));
	size_t **needs = xcalloc(p->n_stages, sizeof(size_t *));
	for (size_t i = 0; i < p->n_stages; i++) {
		n_needs[i] = p->stages[i]->n_needs;
		needs[i] = p->stages[i]->needs;
	}
	dag_init(&p->dag, p->n_stages, n_needs, needs);
	free(n_needs);
	free(needs);
	p->order = arena_alloc_array(p->arena, p->n_stages, sizeof(size_t));
	size_t *cycle = NULL, clen = 0;
	if (p->order && dag_order(&p->dag, p->order, &cycle, &clen) == -ELOOP) {
		char path[1024];
		size_t used = 0;
		path[0] = '\0';
		for (size_t i = 0; i <= clen && used < sizeof(path); i++) {
			used += (size_t)snprintf(path + used, sizeof(path) - used, "%s%s",
						 i ? " -> " : "", p->stages[cycle[i % clen]]->name);
		}
		/* Point at the `needs:` entry of the first stage that closes onto the next. */
		struct pstage *first = p->stages[cycle[0]];
		const struct ynode *at = NULL;
		for (size_t k = 0; k < L->n_needs[first->index]; k++) {
			if (str_eq(ynode_str(L->needs[first->index][k].node),
				   p->stages[cycle[clen > 1 ? 1 : 0]]->name)) {
				at = L->needs[first->index][k].node;
			}
		}
		error_at(L, at ? at->line : first->pos.line, at ? at->col : first->pos.col,
			 "remove one of these needs to break the cycle", "dependency cycle: %s",
			 path);
		free(cycle);
	}
}

/* Pass 3: ${NAME} references. */
struct scope {
	struct hmap *names;
	const char **list; /* the same names, for suggestions */
	size_t n, cap;
};

static void scope_add(struct scope *sc, const char *name)
{
	if (hmap_put(sc->names, name, (void *)name) == 1) {
		GROW(sc->list, sc->cap, sc->n + 1);
		sc->list[sc->n++] = name;
	}
}

/* The runner variables, and the pipeline's env when p is given: what a stage's env and
 * with: see (in_stage), or the pipeline's env and gate: (without RUNNER_STAGE). */
static void scope_init(struct scope *sc, const struct pipeline *p, bool in_stage)
{
	memset(sc, 0, sizeof(*sc));
	sc->names = hmap_new(32);
	for (size_t i = 0; pipeline_runner_vars[i]; i++) {
		if (in_stage || !str_eq(pipeline_runner_vars[i], "RUNNER_STAGE")) {
			scope_add(sc, pipeline_runner_vars[i]);
		}
	}
	for (size_t k = 0; p && k < p->n_env; k++) {
		if (p->env[k].name) {
			scope_add(sc, p->env[k].name);
		}
	}
}

static void scope_release(struct scope *sc)
{
	hmap_free(sc->names);
	free(sc->list);
}

static const char *scope_lookup(void *ud, const char *name)
{
	struct scope *sc = ud;
	return hmap_get(sc->names, name) ? "" : NULL;
}

static void check_template(struct loader *L, struct scope *sc, const struct ynode *n, const char *s)
{
	struct interp_error ie;
	if (interp_check(s, scope_lookup, sc, &ie) == 0) {
		return;
	}
	struct pos p = pos_in_scalar(L, n, ie.offset);
	const char *hint = "write $${ for a literal ${";
	char buf[200];
	if (str_eq(ie.name, "RUNNER_STAGE")) {
		hint = "RUNNER_STAGE is a stage's own: use it in a stage's env or with:";
	} else if (ie.name[0]) {
		const char *near = closest_word(ie.name, sc->list, sc->n);
		if (near) {
			snprintf(buf, sizeof(buf), "did you mean `${%s}`?", near);
			hint = buf;
		} else {
			hint = "variables are the pipeline's env, the stage's env entries defined "
			       "before this one, and the RUNNER_* variables";
		}
	}
	error_at(L, p.line, p.col, hint, "%s", ie.msg);
}

static void check_with(struct loader *L, struct scope *sc, const struct ynode *n, unsigned depth)
{
	if (!n || depth > PIPELINE_MAX_DEPTH) {
		return;
	}
	switch (n->kind) {
	case YNODE_SCALAR:
		if (interp_needed(n->scalar.s)) {
			check_template(L, sc, n, n->scalar.s);
		}
		break;
	case YNODE_SEQ:
		for (size_t i = 0; i < n->seq.n; i++) {
			check_with(L, sc, n->seq.v[i], depth + 1);
		}
		break;
	case YNODE_MAP:
		for (size_t i = 0; i < n->map.n; i++) {
			/* Keys are expanded too (an `add:` source may be templated). */
			check_with(L, sc, n->map.v[i].key, depth + 1);
			check_with(L, sc, n->map.v[i].value, depth + 1);
		}
		break;
	}
}

struct cond_check {
	struct loader *L;
	const struct ynode *node; /* the `if:` scalar */
	const struct pstage *s;
	struct scope *sc;
};

/* An env.NAME of an `if:` must be something the stage's environment can hold; a secret is
 * not shown to conditions. */
static void check_cond_name(void *ud, const char *name, size_t off)
{
	struct cond_check *cc = ud;
	struct pos p = pos_in_scalar(cc->L, cc->node, off);
	/* A secret first: the stage gets it in place of a variable of the same name (CI, a
	 * variable passed through), which the condition would read instead. */
	for (size_t i = 0; i < cc->s->n_secrets; i++) {
		/* As the stage gets it: the secret's name in upper case. */
		const char *sn = cc->s->secrets[i];
		size_t k = 0;
		while (sn[k] && name[k] && toupper((unsigned char)sn[k]) == name[k]) {
			k++;
		}
		if (!sn[k] && !name[k]) {
			error_at(cc->L, p.line, p.col,
				 "decide on a variable of the pipeline's env instead",
				 "env.%s is a secret of the stage: conditions do not see secrets",
				 name);
			return;
		}
	}
	if (hmap_get(cc->sc->names, name) || str_eq(name, "CI") ||
	    str_eq(name, "RUNNER_ARTIFACTS") || str_eq(name, "PATH")) {
		return;
	}
	for (size_t i = 0; pipeline_passthrough_vars[i]; i++) {
		if (str_eq(name, pipeline_passthrough_vars[i])) {
			return;
		}
	}
	const char *near = closest_word(name, cc->sc->list, cc->sc->n);
	char hint[200];
	snprintf(hint, sizeof(hint), "did you mean `env.%s`?", near ? near : "");
	error_at(cc->L, p.line, p.col,
		 near ? hint
		      : "conditions see the pipeline's env, the stage's env, the RUNNER_* "
			"variables, CI and the variables passed through (docs/pipeline.md)",
		 "env.%s is not in the stage's environment: the condition would always see \"\"",
		 name);
}

/*
 * A warning at the first `$NAME` of an env value: only `${NAME}` is replaced, and the value
 * reaches the stage as it is, never through a shell, so `PATH: "$HOME/bin:$PATH"` (which
 * GitLab CI expands) would give the stage a PATH of those very characters. `$${` (a
 * literal `${`) and a `$` before anything but a name's first character are left alone.
 */
static void warn_shell_variable(struct loader *L, const struct ynode *n, const char *name,
				const char *s)
{
	for (const char *c = s; (c = strchr(c, '$')); c++) {
		if (c[1] == '$' && c[2] == '{') {
			c += 2;
			continue;
		}
		if (!(c[1] == '_' || (c[1] >= 'A' && c[1] <= 'Z') ||
		      (c[1] >= 'a' && c[1] <= 'z'))) {
			continue;
		}
		size_t len =
			1 + strspn(c + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789_");
		struct pos p = pos_in_scalar(L, n, (size_t)(c - s));
		int vl = (int)MIN(len, 64);
		char hint[320];
		snprintf(hint, sizeof(hint),
			 "${NAME} expands the pipeline's env and the RUNNER_* variables; for the "
			 "shell's, set it in the script: export %.64s=\"%.*s/...\"",
			 name, vl, c);
		diag_add(L->dl, DIAG_WARNING, L->file, p.line, p.col, hint,
			 "%.*s is not expanded in an env value: the stage gets it as written", vl,
			 c);
		return;
	}
}

static void check_env_list(struct loader *L, struct scope *sc, const struct pvar *v, size_t n,
			   const struct ynode *map)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].name) {
			continue;
		}
		if (interp_needed(v[i].value)) {
			check_template(L, sc, ynode_get(map, v[i].name), v[i].value);
		}
		warn_shell_variable(L, ynode_get(map, v[i].name), v[i].name, v[i].value);
		scope_add(sc, v[i].name);
	}
}

static void check_references(struct loader *L, const struct ynode *root)
{
	struct pipeline *p = L->p;
	struct scope sc;
	/* Pipeline env entries may use the runner variables and the entries before them. */
	scope_init(&sc, NULL, false);
	check_env_list(L, &sc, p->env, p->n_env, ynode_get(root, "env"));
	scope_release(&sc);
	/* The gate is expanded with the pipeline's env, once for the run. */
	if (p->gate) {
		scope_init(&sc, p, false);
		check_with(L, &sc, p->gate, 0);
		scope_release(&sc);
	}
	for (size_t i = 0; i < p->n_stages; i++) {
		struct pstage *s = p->stages[i];
		if (!s->n_env && !s->with && !s->cond) {
			continue;
		}
		scope_init(&sc, p, true);
		check_env_list(L, &sc, s->env, s->n_env, ynode_get(L->stage_nodes[i], "env"));
		check_with(L, &sc, s->with, 0);
		if (s->cond) {
			struct cond_check cc = { L, ynode_get(L->stage_nodes[i], "if"), s, &sc };
			expr_each_env(s->cond, check_cond_name, &cc);
		}
		scope_release(&sc);
	}
}

static void load_root(struct loader *L, const struct ynode *root)
{
	struct pipeline *p = L->p;
	if (!root) {
		error_at(L, 1, 1, "start with `version: 1` and a `stages:` mapping",
			 "the pipeline file is empty");
		return;
	}
	if (root->kind != YNODE_MAP) {
		error_node(L, root, "start with `version: 1` and a `stages:` mapping",
			   "the pipeline must be a mapping, not %s", ynode_type_name(root));
		return;
	}
	/* Keys starting with "x-" or "." are free-form extension fields (anchors live there). */
	for (size_t i = 0; i < root->map.n; i++) {
		const struct ynode *k = root->map.v[i].key;
		bool ok = k->scalar.s[0] == '.' || str_has_prefix(k->scalar.s, "x-");
		for (size_t j = 0; j < ARRAY_SIZE(top_keys) && !ok; j++) {
			ok = str_eq(k->scalar.s, top_keys[j]);
		}
		if (!ok) {
			const char *near =
				closest_word(k->scalar.s, top_keys, ARRAY_SIZE(top_keys));
			char hint[200];
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near ? near : "");
			error_node(L, k,
				   near ? hint
					: "top-level keys are version, name, env, defaults, gate "
					  "and stages "
					  "(and x-* for your own anchors)",
				   "unknown key '%.100s' at the top level", k->scalar.s);
		}
	}
	const struct ypair *vp = ynode_pair(root, "version");
	int64_t version;
	if (!vp) {
		error_at(L, root->line, root->col, "add `version: 1` at the top of the file",
			 "missing `version`");
	} else if (quoted_number(vp->value) && str_eq(vp->value->scalar.s, "1")) {
		error_node(L, vp->value, "write the number without quotes: version: 1",
			   "version must be the number 1, not a string");
	} else if (ynode_int(vp->value, &version) < 0 || version != 1) {
		error_node(L, vp->value, "this runner reads `version: 1`",
			   "unsupported pipeline version '%.40s'",
			   vp->value->kind == YNODE_SCALAR ? vp->value->scalar.s
							   : ynode_type_name(vp->value));
	}
	const struct ynode *v;
	if ((v = ynode_get(root, "name"))) {
		p->name = get_text(L, v, "name");
	}
	if (!p->name) {
		p->name = "pipeline";
	}
	if ((v = ynode_get(root, "env"))) {
		load_env(L, v, "env", &p->env, &p->n_env);
	}
	if ((v = ynode_get(root, "defaults"))) {
		load_defaults(L, v);
	}
	if ((v = ynode_get(root, "gate"))) {
		const char *const *k;
		size_t nk = 0;
		for (k = gate_config_keys; *k; k++) {
			nk++;
		}
		if (v->kind == YNODE_MAP) {
			check_keys(L, v, gate_config_keys, nk, "gate");
		}
		if (gate_config_check(v, L->file, L->dl) == 0) {
			p->gate = v;
		}
	}
	v = ynode_get(root, "stages");
	if (!v) {
		error_at(L, root->line, root->col, "add a `stages:` mapping",
			 "the pipeline has no `stages`");
		return;
	}
	if (ynode_is_null(v)) {
		error_node(L, v, "add at least one stage", "the pipeline has no stages");
		return;
	}
	load_stages(L, v);
	/* The needs are checked even when a stage's other keys were refused, so that
	 * validation reports every problem at once; references (pass 3) are not, since an
	 * entry refused there would make every use of it look unknown. */
	bool loaded = !diag_has_errors(L->dl);
	if (p->n_stages && L->needs) {
		resolve_needs(L, v);
	}
	if (!loaded) {
		return;
	}
	/* Variable references do not depend on the graph: checked whatever pass 2 found. The
	 * push gate's checks need a valid graph. */
	if (!diag_has_errors(L->dl)) {
		pushgate_validate(p, L->stage_nodes, L->dl);
	}
	check_references(L, root);
}

int pipeline_load_buffer(const char *name, const char *dir, const char *buf, size_t len,
			 struct pipeline **out, struct diag_list *dl)
{
	static const struct ydoc_limits limits = {
		.max_depth = PIPELINE_MAX_DEPTH,
		.max_nodes = PIPELINE_MAX_NODES,
	};
	*out = NULL;
	if (len > PIPELINE_MAX_BYTES) {
		diag_error(dl, name, 0, 0, "split the pipeline or remove generated content",
			   "pipeline file too large: %zu bytes (the limit is %u)", len,
			   PIPELINE_MAX_BYTES);
		return -EFBIG;
	}
	struct pipeline *p = xcalloc(1, sizeof(*p));
	/* Memory for the document and model: generous, but bounded. */
	p->arena = arena_new(512u << 20);
	if (!p->arena) {
		free(p);
		return -ENOMEM;
	}
	p->path = arena_strdup(p->arena, name);
	p->dir = arena_strdup(p->arena, dir);
	p->source = arena_strndup(p->arena, buf, len);
	p->source_len = len;

	struct loader L = {
		.p = p,
		.dl = dl,
		.file = name,
		.def = {
			.timeout_ms = PIPELINE_DEFAULT_TIMEOUT_MS,
			.grace_ms = PIPELINE_DEFAULT_GRACE_MS,
			.retry_when = RETRY_ON_FAILURE,
		},
	};
	struct ynode *root;
	size_t before = dl->errors;
	int r = ydoc_parse(p->arena, name, buf, len, &limits, &root, dl);
	if (r == 0) {
		load_root(&L, root);
		r = dl->errors > before ? -EINVAL : 0;
	}
	free(L.needs);
	free(L.n_needs);
	free(L.stage_nodes);
	if (r < 0) {
		pipeline_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int pipeline_read_file(const char *path, char **buf, size_t *len, char **dir)
{
	*buf = NULL;
	*len = 0;
	if (dir) {
		*dir = NULL;
	}
	_cleanup_free_ char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *d = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : copy;
	if (slash && slash != copy) {
		*slash = '\0';
	}
	_cleanup_close_ int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		return -errno;
	}
	struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, dfd, base, &how, sizeof(how));
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > PIPELINE_MAX_BYTES) {
		return -EFBIG;
	}
	int r = read_fd_capped(fd, PIPELINE_MAX_BYTES, buf, len);
	if (r == 0 && dir) {
		*dir = realpath(d, NULL);
		if (!*dir) {
			r = -errno;
			free(*buf);
			*buf = NULL;
		}
	}
	return r;
}

int pipeline_load_file(const char *path, struct pipeline **out, struct diag_list *dl)
{
	_cleanup_free_ char *buf = NULL, *dir = NULL;
	size_t len;
	*out = NULL;
	int r = pipeline_read_file(path, &buf, &len, &dir);
	if (r == -EFBIG) {
		diag_error(dl, path, 0, 0, "split the pipeline or remove generated content",
			   "pipeline file too large (the limit is %u bytes)", PIPELINE_MAX_BYTES);
		return r;
	}
	if (r < 0) {
		diag_error(dl, path, 0, 0,
			   r == -EXDEV ? "keep the pipeline file inside the directory it is in"
				       : NULL,
			   "cannot read the pipeline file: %s",
			   r == -EXDEV	  ? "it is a symbolic link that leads out of its directory"
			   : r == -EINVAL ? "not a regular file"
					  : strerror(-r));
		return r;
	}
	return pipeline_load_buffer(path, dir, buf, len, out, dl);
}

void pipeline_free(struct pipeline *p)
{
	if (!p) {
		return;
	}
	hmap_free(p->by_name);
	dag_release(&p->dag);
	arena_free(p->arena);
	free(p);
}

struct pstage *pipeline_find(const struct pipeline *p, const char *name)
{
	return p->by_name ? hmap_get(p->by_name, name) : NULL;
}
