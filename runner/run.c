/*
 * run.c - the pipeline engine: setup, the scheduling event loop, and completion.
 *
 * Stage lifecycle: PENDING -> (all needs finished) -> resolved: SKIPPED, or queued in the
 * ready heap -> RUNNING (launched through stages/ and the sandbox) -> the attempt ends when
 * both its pidfd has fired and its output pipe has reached EOF -> retried, or final:
 * PASSED / FAILED / BLOCKED / ERROR / CANCELLED -> dependents are resolved in turn.
 *
 * Nothing here sleeps or polls: the loop blocks in epoll_wait until a pipe has output, a
 * stage ends, the timerfd reaches the nearest deadline (timeout, kill grace, progress
 * tick) or a cancellation arrives.
 */
#include "run.h"

#include "arena.h"
#include "artifacts.h"
#include "diag.h"
#include "dirpool.h"
#include "expr.h"
#include "output.h"
#include "pushgate.h"
#include "interp.h"
#include "logfile.h"
#include "mask.h"
#include "pipeline.h"
#include "record.h"
#include "sandbox.h"
#include "sandboxcfg.h"
#include "sbuf.h"
#include "secrets.h"
#include "stage.h"
#include "util.h"
#include "ydoc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/timerfd.h>

#include "banned.h"

#define LINE_MAX_BYTES	(64u << 10)
#define READ_CHUNK	(64u << 10)
#define DRAIN_GRACE_MS	5000
#define INTERRUPT_GRACE 3000
#define TICK_MS		1000
#define DISK_CHECK_MS	1000

enum ev_tag {
	EV_PIDFD = 1,
	EV_PIPE = 2,
	EV_TIMER = 3,
	EV_SIGNAL = 4,
	EV_CANCEL = 5,
};

struct kv {
	const char *name;
	char *value;
};

struct kvlist {
	struct kv *v;
	size_t n, cap;
};

struct engine;

/* Runtime state of a running stage. */
struct stage_exec {
	struct engine *e;
	size_t index;
	struct stage_proc *proc;
	int out_fd;
	bool proc_done, pipe_done;
	bool terminating, killed, timed_out, cancelled, disk_low;
	uint64_t start_mono, deadline, kill_at, drain_until;
	struct ctl_filter cf; /* before the masker */
	struct mask_stream *ms;
	struct sbuf line;
};

struct engine {
	struct run *r;
	const struct pipeline *p;
	const struct run_options *o;
	const struct mask *mask;
	const struct run_observer *obs;
	struct run_policies pols;
	struct sandbox_mount mounts[2]; /* the run record hidden, this run's artifacts visible */
	size_t n_mounts;
	char *artifacts;
	int ep, tfd, sfd, self_exe;
	sigset_t old_mask;
	bool signals_blocked;
	size_t *heap, heap_n;
	size_t running;
	size_t running_push; /* of them, push stages: they run alone (loop()) */
	/* Of them, scans and scripts: never side by side (may_start()). */
	size_t running_scans, running_scripts;
	size_t *unmet;
	size_t *done, done_n; /* finished stages whose dependents are not yet resolved */
	struct logfile **logs;
	char **retry_why;	 /* per stage, while its retry waits: why its last attempt failed */
	struct kvlist base_vars; /* RUNNER_* and pipeline env, expanded */
	struct kvlist *stage_env; /* per selected stage: its env, expanded */
	json_t *gate;		  /* the pipeline's `gate:` as JSON, or NULL */
	bool cancelling;
	uint64_t cancel_kill_at;
	uint64_t next_tick;
	struct artifact_budget budget;
	int fatal;		     /* an internal error that ends the loop */
	struct stage_proc **retired; /* ended stages whose supervisors are still to be freed */
	size_t retired_n, retired_cap;
	struct dirpool spare; /* sandboxed stages' outboxes and artifact mount points */
	/* The file systems a stage can fill (the workspace's; the run record's, where its
	 * outbox is), each with the space it keeps free. */
	struct disk_watch {
		const char *path;
		const char *what;
		uint64_t floor;
	} disks[2];
	size_t n_disks;
	uint64_t next_disk_check;
	char disk_msg[300]; /* why running stages were stopped */
};

/* ---------- small helpers ---------- */

static void kv_add(struct kvlist *l, const char *name, const char *value)
{
	GROW(l->v, l->cap, l->n + 1);
	l->v[l->n].name = name;
	l->v[l->n].value = xstrdup(value ? value : "");
	l->n++;
}

static void kv_release(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const char *kv_find(const struct kvlist *l, const char *name)
{
	for (size_t i = l->n; i-- > 0;) {
		if (str_eq(l->v[i].name, name)) {
			return l->v[i].value;
		}
	}
	return NULL;
}

struct lookup_ctx {
	const struct kvlist *a, *b;
	size_t budget;	 /* with_to_json: bytes its expansions may still come to in all */
	const char *why; /* with_to_json: why it failed */
};

static const char *lookup2(void *ud, const char *name)
{
	struct lookup_ctx *c = ud;
	const char *v = c->b ? kv_find(c->b, name) : NULL;
	return v ? v : kv_find(c->a, name);
}

const char *stage_status_name(enum stage_status s)
{
	static const char *const names[] = { "pending", "running", "passed",  "failed",
					     "blocked", "error",   "skipped", "cancelled" };
	return names[s];
}

const char *run_result_name(enum run_result r)
{
	static const char *const names[] = { "passed", "failed", "blocked", "error", "cancelled" };
	return names[r];
}

const char *skip_reason_text(enum skip_reason s)
{
	switch (s) {
	case SKIP_CONDITION:
		return "condition";
	case SKIP_NEEDS_SKIPPED:
		return "needs-skipped";
	case SKIP_NEEDS_FAILED:
		return "needs-failed";
	default:
		return "";
	}
}

static void set_message(struct engine *e, struct stage_run *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_message(struct engine *e, struct stage_run *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
	}
	va_end(ap);
	free(s->message);
	s->message = NULL;
	if (msg) {
		/* As log_note() does: a message can quote names the stage chose. */
		_cleanup_free_ char *masked = mask_redact_str(e->mask, msg);
		_cleanup_free_ char *line = output_clean_line(masked);
		s->message = mask_redact_str(e->mask, line);
	}
	free(msg);
}

/* ---------- the ready heap (scans first, then by priority, then lowest index) ---------- */

static bool is_scan(const struct pstage *def)
{
	return def->kind && (def->kind->flags & STAGE_KIND_SECURITY);
}

static bool is_script(const struct pstage *def)
{
	return def->kind && (def->kind->flags & STAGE_KIND_SCRIPT);
}

static bool heap_before(const struct engine *e, size_t a, size_t b)
{
	bool sa = is_scan(e->r->stages[a].def), sb = is_scan(e->r->stages[b].def);
	if (sa != sb) {
		return sa; /* a ready scan goes first (may_start()) */
	}
	uint64_t pa = e->r->stages[a].priority, pb = e->r->stages[b].priority;
	return pa != pb ? pa > pb : a < b;
}

static void heap_push(struct engine *e, size_t v)
{
	size_t i = e->heap_n++;
	e->heap[i] = v;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_before(e, e->heap[i], e->heap[parent])) {
			break;
		}
		size_t t = e->heap[i];
		e->heap[i] = e->heap[parent];
		e->heap[parent] = t;
		i = parent;
	}
}

static size_t heap_pop(struct engine *e)
{
	size_t top = e->heap[0];
	e->heap[0] = e->heap[--e->heap_n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, rr = l + 1, best = i;
		if (l < e->heap_n && heap_before(e, e->heap[l], e->heap[best])) {
			best = l;
		}
		if (rr < e->heap_n && heap_before(e, e->heap[rr], e->heap[best])) {
			best = rr;
		}
		if (best == i) {
			break;
		}
		size_t t = e->heap[i];
		e->heap[i] = e->heap[best];
		e->heap[best] = t;
		i = best;
	}
	return top;
}

/* ---------- output path: pipe -> mask -> log + lines ---------- */

/*
 * The stage's log, created on its first byte: a stage that prints nothing costs no file
 * (creating hundreds of files is most of the per-stage overhead of tiny stages). A log
 * that cannot be created is remembered and turns the stage into an error: output that
 * should have been recorded was lost.
 */
static struct logfile *stage_log(struct engine *e, size_t i)
{
	struct stage_run *s = &e->r->stages[i];
	if (e->logs[i] || s->log_error) {
		return e->logs[i];
	}
	_cleanup_free_ char *path = xasprintf("%s/%s", e->r->dir, s->log_path);
	int r = logfile_open(path, e->o->log_cap ? e->o->log_cap : LOGFILE_DEFAULT_CAP,
			     &e->logs[i]);
	if (r < 0) {
		s->log_error = -r;
		return NULL;
	}
	s->log_written = true;
	return e->logs[i];
}

static void emit_line(struct stage_exec *x, const char *data, size_t len)
{
	struct engine *e = x->e;
	if (e->obs && e->obs->stage_line) {
		e->obs->stage_line(e->obs->userdata, e->r, x->index, data, len);
	}
}

static void on_masked(void *ud, const char *data, size_t len)
{
	struct stage_exec *x = ud;
	struct engine *e = x->e;
	struct logfile *lf = stage_log(e, x->index);
	struct stage_run *s = &e->r->stages[x->index];
	int w = lf ? logfile_write(lf, data, len) : 0;
	if (w < 0 && !s->log_error) {
		s->log_error =
			-w; /* the stage's end reports it: a log that lost lines is an error */
	}
	/* Split into lines for the observer; a line longer than the cap is cut. */
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if (x->line.len + take > LINE_MAX_BYTES) {
			take = LINE_MAX_BYTES - x->line.len;
			sbuf_append(&x->line, data, take);
			emit_line(x, x->line.data, x->line.len);
			sbuf_reset(&x->line);
			data += take;
			len -= take;
			continue;
		}
		sbuf_append(&x->line, data, take);
		if (!nl) {
			break;
		}
		emit_line(x, x->line.data, x->line.len);
		sbuf_reset(&x->line);
		data += take + 1;
		len -= take + 1;
	}
}

static void flush_output(struct stage_exec *x)
{
	mask_stream_flush(x->ms);
	if (x->line.len) {
		emit_line(x, x->line.data, x->line.len);
		sbuf_reset(&x->line);
	}
}

static void log_note(struct engine *e, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A line of the runner's own in the stage log. It can quote what the stage chose (the name
 * of a file it left in its outbox, a message about its outputs), so it is made one line
 * without control characters or escape sequences (a name holding "\n[runner] a: passed"
 * must not forge a line) and masked before and after (a name holding a secret, also one
 * with a control character in it).
 */
static void log_note(struct engine *e, size_t i, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct logfile *lf = n > 0 ? stage_log(e, i) : NULL;
	if (!lf) {
		return;
	}
	_cleanup_free_ char *masked = mask_redact_str(e->mask, buf);
	_cleanup_free_ char *line = output_clean_line(masked);
	_cleanup_free_ char *out = mask_redact_str(e->mask, line);
	size_t len = strlen(out);
	/* After output that did not end its line, the note starts a line of its own: it must
	 * not read as the end of the stage's. */
	if (logfile_midline(lf)) {
		logfile_write(lf, "\n", 1);
	}
	out = xrealloc(out, len + 2);
	memcpy(out + len, "\n", 2);
	logfile_write(lf, out, len + 1);
}

/* ---------- environment ---------- */

/*
 * Variables that change the code or the data files a program loads: the dynamic loader's
 * (glibc ignores the same list in setuid programs), OpenSSL's, the sanitizers', git's and
 * XDG configuration. A built-in stage is the runner itself, judging the workspace: a
 * pipeline `env:` such as LD_LIBRARY_PATH=lib (for its tests) would let the workspace
 * supply the scanner's libraries, and a pull request could then write its own "no
 * findings". Built-in stages do not get them; scripts do.
 */
static bool loader_variable(const char *name)
{
	static const char *const names[] = {
		"GCONV_PATH",	    "GETCONF_DIR",     "GLIBC_TUNABLES",  "HOSTALIASES",
		"LOCALDOMAIN",	    "LOCPATH",	       "NIS_PATH",	  "NLSPATH",
		"RESOLV_HOST_CONF", "RES_OPTIONS",     "TMPDIR",	  "TZDIR",
		"OPENSSL_CONF",	    "OPENSSL_ENGINES", "OPENSSL_MODULES", "SSL_CERT_FILE",
		"SSL_CERT_DIR",	    "CURL_CA_BUNDLE",  "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS",
		"XDG_DATA_HOME",    "XDG_DATA_DIRS",   "XDG_CACHE_HOME",  "HOME",
	};
	static const char *const prefixes[] = { "LD_",	 "MALLOC_", "ASAN_", "UBSAN_",	"LSAN_",
						"MSAN_", "TSAN_",   "GIT_",  "LIBGIT2_" };
	for (size_t k = 0; k < ARRAY_SIZE(prefixes); k++) {
		if (str_has_prefix(name, prefixes[k])) {
			return true;
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		if (str_eq(name, names[k])) {
			return true;
		}
	}
	return false;
}

/* A gate configuration's relative `baseline` made absolute under root (o->gate_root), in
 * place; cfg itself when there is nothing to do. */
static json_t *rebase_baseline(json_t *cfg, const char *root)
{
	const char *bl = json_string_value(json_object_get(cfg, "baseline"));
	if (root && bl && bl[0] != '/') {
		json_object_set_new(cfg, "baseline", json_sprintf("%s/%s", root, bl));
	}
	return cfg;
}

/* Add entry ("NAME=VALUE", heap) to envp, in place of an earlier entry of the same NAME:
 * a program reading its environment sees one value, the last given, whichever way it
 * looks (getenv takes the first of two, a shell the last). */
static void envp_put(char ***envp, size_t *n, size_t *cap, char *entry)
{
	size_t nl = strcspn(entry, "=");
	for (size_t k = 0; k < *n; k++) {
		if (strncmp((*envp)[k], entry, nl + 1) == 0) {
			explicit_bzero((*envp)[k], strlen((*envp)[k]));
			free((*envp)[k]);
			(*envp)[k] = entry;
			return;
		}
	}
	GROW(*envp, *cap, *n + 2);
	(*envp)[(*n)++] = entry;
}

/* host_env: "NAME=VALUE" naming a kind's host input (it replaces a passed-through NAME).
 * for_condition: what the stage's `if:` reads: no secrets, and the pipeline's variables
 * whatever the kind (a built-in does not get those that change what it loads, but a
 * condition on them means what it says). */
static char **build_envp(struct engine *e, size_t i, const char *host_env, bool for_condition)
{
	const struct pstage *def = e->p->stages[i];
	struct sbuf sb;
	size_t n = 0, cap = 0;
	char **envp = NULL;

	sbuf_init(&sb, SIZE_MAX / 2);
#define PUSH(fmt, ...) envp_put(&envp, &n, &cap, xasprintf(fmt, __VA_ARGS__))
	const char *path = getenv("PATH");
	PUSH("PATH=%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	bool confined = e->r->stages[i].sandboxed;
	if (confined) {
		/* The host's home is not in the sandbox; /tmp is the stage's own. */
		PUSH("HOME=%s", "/tmp");
	}
	if (host_env) {
		PUSH("%s", host_env);
	}
	for (size_t k = 0; pipeline_passthrough_vars[k]; k++) {
		const char *name = pipeline_passthrough_vars[k];
		const char *v = getenv(name);
		size_t nl = strlen(name);
		if ((confined && str_eq(name, "HOME")) ||
		    (host_env && strncmp(host_env, name, nl) == 0 && host_env[nl] == '=')) {
			continue;
		}
		if (v) {
			PUSH("%s=%s", name, v);
		}
	}
	PUSH("CI=%s", "true");
	PUSH("RUNNER_ARTIFACTS=%s/artifacts", e->r->dir);
	/* The runner variables and the pipeline's env, then the stage's own. */
	bool builtin = def->kind && !is_script(def) && !for_condition;
	for (size_t k = 0; k < e->base_vars.n; k++) {
		if (!(builtin && loader_variable(e->base_vars.v[k].name))) {
			PUSH("%s=%s", e->base_vars.v[k].name, e->base_vars.v[k].value);
		}
	}
	PUSH("RUNNER_STAGE=%s", def->name);
	const struct kvlist *se = &e->stage_env[i];
	for (size_t k = 0; k < se->n; k++) {
		if (!(builtin && loader_variable(se->v[k].name))) {
			PUSH("%s=%s", se->v[k].name, se->v[k].value);
		}
	}
	for (size_t k = 0; !for_condition && k < def->n_secrets; k++) {
		const char *val = secrets_get(e->o->secrets, def->secrets[k]);
		_cleanup_free_ char *name = xstrdup(def->secrets[k]);
		for (char *c = name; *c; c++) {
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		}
		PUSH("%s=%s", name, val ? val : "");
	}
#undef PUSH
	envp[n] = NULL;
	sbuf_release(&sb);
	return envp;
}

static void free_envp(char **envp)
{
	if (!envp) {
		return;
	}
	for (char **p = envp; *p; p++) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
	free(envp);
}

/* Expand s within lc's budget: a new string, or NULL (lc->why says why). */
static char *expand_within(const char *s, struct lookup_ctx *lc)
{
	char *v = interp_expand(s, lookup2, lc);
	size_t len = v ? strlen(v) : 0;
	if (!v || len > lc->budget) {
		free(v);
		lc->why = "expands to more than 1 MiB in all";
		return NULL;
	}
	lc->budget -= len;
	return v;
}

/* `with:` to JSON, interpolating strings (mapping keys too: an `add:` source may be
 * templated) and typing scalars by the core schema. NULL when its strings expand to more
 * than lc->budget bytes in all (INTERP_MAX each), or two keys of a mapping to the same;
 * lc->why says which. */
static json_t *with_to_json(const struct ynode *n, struct lookup_ctx *lc, unsigned depth)
{
	if (!n || depth > PIPELINE_MAX_DEPTH) {
		return json_null();
	}
	switch (n->kind) {
	case YNODE_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; i < n->map.n; i++) {
			_cleanup_free_ char *key = expand_within(n->map.v[i].key->scalar.s, lc);
			if (key && json_object_get(o, key)) {
				lc->why = "has two keys that expand to the same";
				json_decref(o);
				return NULL;
			}
			json_t *v = key ? with_to_json(n->map.v[i].value, lc, depth + 1) : NULL;
			if (!v) {
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, key, v);
		}
		return o;
	}
	case YNODE_SEQ: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->seq.n; i++) {
			json_t *v = with_to_json(n->seq.v[i], lc, depth + 1);
			if (!v) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, v);
		}
		return a;
	}
	case YNODE_SCALAR:
		break;
	}
	bool b;
	int64_t iv;
	if (ynode_is_null(n)) {
		return json_null();
	}
	if (ynode_bool(n, &b) == 0) {
		return json_boolean(b);
	}
	if (ynode_int(n, &iv) == 0) {
		return json_integer(iv);
	}
	char *s = expand_within(n->scalar.s, lc);
	if (!s) {
		return NULL;
	}
	json_t *j = json_string(s);
	free(s);
	return j ? j : json_null();
}

/* ---------- finishing stages and propagating ---------- */

static void resolve(struct engine *e, size_t v);

static bool is_bad(const struct stage_run *s)
{
	return (s->status == STATUS_FAILED && !s->allowed_failure) || s->status == STATUS_BLOCKED ||
	       s->status == STATUS_ERROR || s->status == STATUS_CANCELLED;
}

static void cancel_all(struct engine *e, uint64_t grace_cap);

/*
 * A stage reached its final status: tell the observer and queue it so its dependents are
 * resolved by propagate(). Going through a queue keeps a long chain of skips from
 * recursing once per stage.
 */
static void finalize(struct engine *e, size_t i)
{
	struct stage_run *s = &e->r->stages[i];
	if (e->logs[i]) {
		s->log_dropped = logfile_dropped(e->logs[i]);
		logfile_close(e->logs[i]);
		e->logs[i] = NULL;
	}
	if (e->obs && e->obs->stage_finished) {
		e->obs->stage_finished(e->obs->userdata, e->r, i);
	}
	e->done[e->done_n++] = i;
	if (is_bad(s) && s->status != STATUS_CANCELLED && e->o->fail_fast && !e->cancelling) {
		cancel_all(e, UINT64_MAX);
	}
}

static void propagate(struct engine *e)
{
	const struct dag *d = &e->p->dag;
	while (e->done_n > 0) {
		size_t i = e->done[--e->done_n];
		for (size_t k = d->dep_off[i]; k < d->dep_off[i + 1]; k++) {
			size_t dep = d->dep[k];
			if (e->r->stages[dep].selected && --e->unmet[dep] == 0) {
				resolve(e, dep);
			}
		}
	}
}

static void skip(struct engine *e, size_t i, enum skip_reason why, const char *need)
{
	struct stage_run *s = &e->r->stages[i];
	s->status = STATUS_SKIPPED;
	s->skip = why;
	s->skip_need = need;
	switch (why) {
	case SKIP_CONDITION:
		set_message(e, s, "`if: %s` is false", s->def->cond_src);
		break;
	case SKIP_NEEDS_SKIPPED:
		set_message(e, s, "it needs '%s', which was skipped", need);
		break;
	case SKIP_NEEDS_FAILED:
		set_message(e, s, "it needs '%s', which did not succeed", need);
		break;
	default:
		break;
	}
	finalize(e, i);
}

static const char *envp_lookup(void *ud, const char *name)
{
	size_t nl = strlen(name);
	for (char **p = ud; *p; p++) {
		if (strncmp(*p, name, nl) == 0 && (*p)[nl] == '=') {
			return *p + nl + 1;
		}
	}
	return NULL;
}

static void free_envp(char **envp);
static void stage_fail_now(struct engine *e, size_t i, enum stage_status st, const char *msg);

/* Whether stage v's `if:` is false (1), true (0), or cannot be evaluated (-E2BIG). `env.`
 * sees the stage's environment as it will get it (CI, RUNNER_STAGE, what is passed
 * through...), but for its secrets. */
static int condition_false(struct engine *e, size_t v)
{
	const struct pstage *def = e->r->stages[v].def;
	if (!def->cond) {
		return 0;
	}
	char **envp = build_envp(e, v, NULL, true);
	struct expr_vars vars = {
		.branch = e->r->git.branch,
		.tag = e->r->git.tag,
		.event = e->r->event,
		.commit = e->r->git.commit,
		.env = envp_lookup,
		.userdata = envp,
	};
	int r = expr_eval(def->cond, &vars);
	free_envp(envp);
	return r < 0 ? r : !r;
}

/* The `if:` of stage v decides: false skips it, one that cannot be evaluated fails it.
 * Returns true when the stage goes no further. */
static bool condition_stops(struct engine *e, size_t v)
{
	int c = condition_false(e, v);
	if (c > 0) {
		skip(e, v, SKIP_CONDITION, NULL);
	} else if (c < 0) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "its if: cannot be evaluated: a glob match of more than %u million steps "
			 "(the pattern's length times the text's)",
			 GLOB_MAX_CELLS >> 20);
		stage_fail_now(e, v, STATUS_ERROR, msg);
	}
	return c != 0;
}

/* All needs of v have finished: decide whether it runs. */
static void resolve(struct engine *e, size_t v)
{
	struct stage_run *s = &e->r->stages[v];
	const struct pstage *def = s->def;
	if (e->cancelling) {
		/* A script or scan that needs a stage that failed, was blocked or ended in an
		 * error is skipped for that reason, as it would be without the cancellation
		 * (--fail-fast cancels when that very stage failed). A push keeps its own
		 * verdicts (below), so it is cancelled. */
		for (size_t k = 0; k < def->n_needs && !(def->kind->flags & STAGE_KIND_PUSH); k++) {
			const struct stage_run *n = &e->r->stages[def->needs[k]];
			if ((is_bad(n) && n->status != STATUS_CANCELLED) ||
			    (n->status == STATUS_SKIPPED && n->skip == SKIP_NEEDS_FAILED)) {
				skip(e, v, SKIP_NEEDS_FAILED, n->def->name);
				return;
			}
		}
		s->status = STATUS_CANCELLED;
		set_message(e, s, "cancelled before it started");
		finalize(e, v);
		return;
	}
	/* A push starts only when every security stage before it passed (runner/pushgate.h);
	 * otherwise it is blocked, not merely skipped. Its own `if:` still comes first. */
	if (def->kind->flags & STAGE_KIND_PUSH) {
		if (condition_stops(e, v)) {
			return;
		}
		char msg[400];
		enum pushgate_verdict g =
			pushgate_upstream(e->p, e->r->stages, v, msg, sizeof(msg));
		if (g != PUSHGATE_OPEN) {
			stage_fail_now(e, v, g == PUSHGATE_ERROR ? STATUS_ERROR : STATUS_BLOCKED,
				       msg);
			return;
		}
	}
	for (size_t k = 0; k < def->n_needs; k++) {
		const struct stage_run *n = &e->r->stages[def->needs[k]];
		if (is_bad(n) || (n->status == STATUS_SKIPPED && n->skip == SKIP_NEEDS_FAILED)) {
			skip(e, v, SKIP_NEEDS_FAILED, n->def->name);
			return;
		}
	}
	for (size_t k = 0; k < def->n_needs; k++) {
		const struct stage_run *n = &e->r->stages[def->needs[k]];
		if (n->status == STATUS_SKIPPED && !def->allow_skipped_needs) {
			skip(e, v, SKIP_NEEDS_SKIPPED, n->def->name);
			return;
		}
	}
	if (condition_stops(e, v)) {
		return;
	}
	heap_push(e, v);
}

/* ---------- launching ---------- */

static void stage_error(struct engine *e, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void stage_fail_now(struct engine *e, size_t i, enum stage_status st, const char *msg)
{
	struct stage_run *s = &e->r->stages[i];
	s->status = st;
	set_message(e, s, "%s", msg);
	log_note(e, i, "[runner] %s\n", s->message ? s->message : msg);
	finalize(e, i);
}

static void stage_error(struct engine *e, size_t i, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stage_fail_now(e, i, STATUS_ERROR, msg);
}

static int epoll_add(int ep, int fd, enum ev_tag tag, size_t index)
{
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = ((uint64_t)tag << 32) | (uint64_t)index,
	};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The working directory must exist and stay inside the workspace. */
static int stage_cwd(struct engine *e, size_t i, char **out, char *msg, size_t msgsize)
{
	const struct pstage *def = e->p->stages[i];
	if (str_eq(def->workdir, ".")) {
		*out = xstrdup(e->p->dir);
		return 0;
	}
	_cleanup_free_ char *joined = xasprintf("%s/%s", e->p->dir, def->workdir);
	_cleanup_free_ char *real = realpath(joined, NULL);
	_cleanup_free_ char *ws = realpath(e->p->dir, NULL);
	if (!real || !ws) {
		snprintf(msg, msgsize, "workdir '%s' does not exist", def->workdir);
		return -ENOENT;
	}
	size_t wl = strlen(ws);
	if (strncmp(real, ws, wl) != 0 || (real[wl] != '/' && real[wl] != '\0')) {
		snprintf(msg, msgsize,
			 "workdir '%s' leads outside the workspace (through a symlink)",
			 def->workdir);
		return -EPERM;
	}
	*out = steal_ptr(real);
	return 0;
}

/* ---------- free space ---------- */

static void format_size(uint64_t n, char *buf, size_t size)
{
	if (n >= (1ull << 40)) {
		snprintf(buf, size, "%.1f TiB", (double)n / (double)(1ull << 40));
	} else if (n >= (1ull << 30)) {
		snprintf(buf, size, "%.1f GiB", (double)n / (double)(1ull << 30));
	} else {
		snprintf(buf, size, "%llu MiB", (unsigned long long)(n >> 20));
	}
}

/* Whether a watched file system has less free than its floor; if so, why, in msg. */
static bool disk_low(struct engine *e, char *msg, size_t size)
{
	for (size_t k = 0; k < e->n_disks; k++) {
		struct statvfs sv;
		if (statvfs(e->disks[k].path, &sv) < 0) {
			continue; /* as before the check existed; the writes will tell */
		}
		uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
		if (avail < e->disks[k].floor) {
			char a[32], f[32];
			format_size(avail, a, sizeof(a));
			format_size(e->disks[k].floor, f, sizeof(f));
			snprintf(msg, size,
				 "the file system of the %s has %s free, less than the %s it "
				 "keeps free (min-free)",
				 e->disks[k].what, a, f);
			return true;
		}
	}
	return false;
}

/* Every second while stages run: below a floor, every running stage is stopped (any of
 * them may be the one writing) before the host's disk fills. */
static void check_disks(struct engine *e, uint64_t now)
{
	if (e->running == 0 || now < e->next_disk_check) {
		return;
	}
	e->next_disk_check = now + DISK_CHECK_MS;
	char *msg = e->disk_msg;
	if (!disk_low(e, msg, sizeof(e->disk_msg))) {
		return;
	}
	for (size_t i = 0; i < e->r->n_stages; i++) {
		struct stage_exec *x = e->r->stages[i].exec;
		if (!x || x->proc_done || x->terminating) {
			continue;
		}
		x->disk_low = true;
		x->terminating = true;
		stage_proc_terminate(x->proc);
		x->kill_at = now + e->p->stages[i]->kill_grace_ms;
		log_note(e, i, "[runner] %s: sending SIGTERM to every process\n", msg);
	}
}

/* Watch the file systems of the workspace and of the run record (once when they are the
 * same one). By path, each time: a descriptor held open here would be one more that a
 * stage's `workdir` through /proc/self/fd could name. */
static void setup_disks(struct engine *e)
{
	const char *dirs[2] = { e->p->dir, e->r->dir };
	const char *what[2] = { "workspace", "run record" };
	dev_t seen = 0;
	if (e->o->min_free == RUN_MIN_FREE_OFF) {
		return;
	}
	for (size_t k = 0; k < 2; k++) {
		struct stat st;
		struct statvfs sv;
		if (stat(dirs[k], &st) < 0 || statvfs(dirs[k], &sv) < 0 ||
		    (k > 0 && st.st_dev == seen)) {
			continue;
		}
		seen = st.st_dev;
		uint64_t floor = e->o->min_free;
		if (floor == 0) {
			uint64_t total = (uint64_t)sv.f_blocks * sv.f_frsize;
			floor = MIN(RUN_MIN_FREE_DEFAULT, total / 20);
		}
		e->disks[e->n_disks++] = (struct disk_watch){ dirs[k], what[k], floor };
	}
}

/*
 * A push stage (STAGE_KIND_PUSH) runs alone: it starts once every other stage has ended,
 * and nothing starts while it runs. It scans the files it will put into the image, then
 * reads them again to build it; a stage running beside it (one it does not need) could
 * otherwise write a secret into them between the two, or change them under the build.
 */
static bool is_push(const struct pstage *def)
{
	return def->kind && (def->kind->flags & STAGE_KIND_PUSH);
}

/*
 * Whether the stage at the top of the ready heap may start now.
 *
 * A scan (STAGE_KIND_SECURITY) and a script never run side by side. Scripts share the
 * workspace read-write, and the code they run is the change being judged: beside a scan,
 * a test could move a file with a key or a vulnerable lockfile out of the way for the
 * scan's few seconds and put it back, and the gate would pass. So a ready scan goes to the
 * top of the heap, no script starts while one is ready or running, and a scan starts once
 * the scripts running have ended. A scan that needs nothing therefore runs before any
 * script, on the workspace as the run found it; a scan that needs stages sees what every
 * stage that ran before it left (docs/pipeline.md).
 */
static bool may_start(const struct engine *e)
{
	if (e->running_push > 0) {
		return false;
	}
	const struct pstage *top = e->r->stages[e->heap[0]].def;
	if (is_push(top)) {
		return e->running == 0;
	}
	if (is_scan(top)) {
		return e->running_scripts == 0;
	}
	return !is_script(top) || e->running_scans == 0;
}

static void launch(struct engine *e, size_t i)
{
	struct stage_run *s = &e->r->stages[i];
	const struct pstage *def = s->def;
	char msg[300];
	unsigned attempt = s->n_attempts + 1;

	if (attempt > 1) {
		log_note(e, i, "[runner] attempt %u of %u\n", attempt, def->retry + 1);
	}
	free(e->retry_why[i]);
	e->retry_why[i] = NULL;

	size_t pk = e->pols.of_stage[i];
	if (pk == SIZE_MAX || !e->pols.v[pk] || e->pols.err[pk]) {
		stage_error(e, i, "sandbox: %s",
			    pk != SIZE_MAX && e->pols.err[pk] ? e->pols.err[pk] : "no policy");
		return;
	}
	if (disk_low(e, msg, sizeof(msg))) {
		stage_error(e, i, "not started: %s", msg);
		return;
	}
	_cleanup_free_ char *cwd = NULL;
	if (stage_cwd(e, i, &cwd, msg, sizeof(msg)) < 0) {
		/* A script that cannot start fails as a script does (allow-failure applies); a
		 * built-in stage (a scanner, a push) that cannot run is an error. */
		if (!is_script(def)) {
			stage_error(e, i, "%s", msg);
			return;
		}
		s->allowed_failure = def->allow_failure;
		stage_fail_now(e, i, STATUS_FAILED, msg);
		return;
	}

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		stage_error(e, i, "cannot create the output pipe: %s", strerror(errno));
		return;
	}
	fd_set_nonblock(pfd[0], true);

	json_t *with = NULL;
	if (!is_script(def)) {
		struct lookup_ctx lc = { &e->base_vars, &e->stage_env[i], INTERP_MAX };
		with = def->with ? with_to_json(def->with, &lc, 0) : json_object();
		if (with) {
			rebase_baseline(with, e->o->gate_root);
			if (e->o->gate_root && json_object_get(with, "rules")) {
				json_object_set_new(with, "rules_root",
						    json_string(e->o->gate_root));
			}
		}
		if (!with) {
			close(pfd[0]);
			close(pfd[1]);
			stage_error(e, i, "its with: %s", lc.why ? lc.why : "cannot be expanded");
			return;
		}
	}
	/* A kind's input from the host (its advisory database), bound read-only; and the
	 * stage's outbox, bound writable over its directory of the run's artifacts. */
	_cleanup_free_ char *host_file = NULL, *host_env = NULL, *outbox = NULL, *own_art = NULL;
	struct sandbox_mount mounts[6];
	size_t n_mounts = e->n_mounts;
	memcpy(mounts, e->mounts, e->n_mounts * sizeof(mounts[0]));
	if (s->sandboxed) {
		struct stat hst;
		host_file = def->kind->host_file ? def->kind->host_file(with, e->p->dir) : NULL;
		if (host_file && stat(host_file, &hst) == 0 && S_ISREG(hst.st_mode)) {
			mounts[n_mounts++] =
				(struct sandbox_mount){ .path = host_file, .source = host_file };
		}
		if (host_file && def->kind->host_file_env) {
			host_env = xasprintf("%s=%s", def->kind->host_file_env, host_file);
		}
		if (e->o->gate_root && !is_script(def) && stat(e->o->gate_root, &hst) == 0 &&
		    S_ISDIR(hst.st_mode)) {
			mounts[n_mounts++] = (struct sandbox_mount){ .path = e->o->gate_root,
								     .source = e->o->gate_root };
		}
		if (e->o->tracked_list && !is_script(def) && stat(e->o->tracked_list, &hst) == 0 &&
		    S_ISREG(hst.st_mode)) {
			mounts[n_mounts++] = (struct sandbox_mount){ .path = e->o->tracked_list,
								     .source = e->o->tracked_list };
		}
		outbox = xasprintf("%s/outbox/%s", e->r->dir, def->name);
		own_art = xasprintf("%s/%s", e->artifacts, def->name);
		rm_rf(outbox);
		if (dirpool_take(&e->spare, outbox) < 0 || dirpool_take(&e->spare, own_art) < 0) {
			close(pfd[0]);
			close(pfd[1]);
			json_decref(with);
			stage_error(e, i, "cannot prepare the stage's artifacts directory: %s",
				    strerror(errno));
			return;
		}
		mounts[n_mounts++] = (struct sandbox_mount){ .path = own_art,
							     .source = outbox,
							     .writable = true };
	}
	char **envp = build_envp(e, i, host_env, false);
	struct stage_launch l = {
		.kind = def->kind,
		.stage_name = def->name,
		.script = def->script,
		.shell = def->shell,
		.with = with,
		.gate = e->gate,
		.envp = (const char *const *)envp,
		.workspace = e->p->dir,
		.cwd = cwd,
		.output_fd = pfd[1],
		.self_exe_fd = e->self_exe,
		.policy = e->pols.v[pk],
		.mounts = mounts,
		.n_mounts = n_mounts,
	};
	struct stage_proc *proc = NULL;
	int r = stage_launch(&l, &proc);
	close(pfd[1]);
	free_envp(envp);
	json_decref(with);
	if (r < 0) {
		close(pfd[0]);
		stage_error(e, i, "could not start the stage: %s", strerror(-r));
		return;
	}

	struct stage_exec *x = xcalloc(1, sizeof(*x));
	x->e = e;
	x->index = i;
	x->proc = proc;
	x->out_fd = pfd[0];
	x->start_mono = now_mono_ms();
	x->deadline = x->start_mono + def->timeout_ms;
	x->ms = mask_stream_new(e->mask, on_masked, x);
	sbuf_init(&x->line, LINE_MAX_BYTES + 1);
	s->exec = x;
	s->status = STATUS_RUNNING;
	s->attempts = xreallocarray(s->attempts, attempt, sizeof(struct attempt));
	s->attempts[attempt - 1] = (struct attempt){
		.started_ms = now_real_ms(),
		.exit_code = -1,
	};
	s->n_attempts = attempt;
	e->running++;
	e->running_push += is_push(def);
	e->running_scans += is_scan(def);
	e->running_scripts += is_script(def);

	if (epoll_add(e->ep, stage_proc_pidfd(proc), EV_PIDFD, i) < 0 ||
	    epoll_add(e->ep, x->out_fd, EV_PIPE, i) < 0) {
		e->fatal = -errno;
	}
	if (e->obs && e->obs->stage_started) {
		e->obs->stage_started(e->obs->userdata, e->r, i, attempt);
	}
	if (def->ungated && attempt == 1) {
		/* Said loudly, in the live output and the log; the report records it too. */
		_cleanup_free_ char *note = xasprintf(
			"[runner] WARNING: stage '%s' pushes WITHOUT the security gates (sast, "
			"secrets, dependency-scan): ungated: %s",
			def->name, def->ungated);
		_cleanup_free_ char *masked = mask_redact_str(e->mask, note);
		log_note(e, i, "%s\n", masked);
		if (e->obs && e->obs->stage_line) {
			e->obs->stage_line(e->obs->userdata, e->r, i, masked, strlen(masked));
		}
	}
}

/* ---------- completing an attempt ---------- */

static void collect_outputs(struct engine *e, size_t i)
{
	struct stage_run *s = &e->r->stages[i];
	const struct pstage *def = s->def;
	_cleanup_free_ char *dest = xasprintf("%s/artifacts/%s", e->r->dir, def->name);
	for (size_t k = 0; k < def->n_outputs; k++) {
		char msg[256];
		int r = artifacts_copy(e->p->dir, def->outputs[k], dest, &e->budget, msg,
				       sizeof(msg));
		if (r == -ENOENT) {
			s->status = STATUS_FAILED;
			set_message(e, s, "declared output '%s' was not produced", def->outputs[k]);
			return;
		}
		if (r < 0) {
			s->status = STATUS_FAILED;
			set_message(e, s, "cannot keep output '%s': %s", def->outputs[k],
				    msg[0] ? msg : strerror(-r));
			return;
		}
	}
}

/* Mask every string of a result object, in place. */
/* The masked copy of a string or a too deeply nested value: a masked string that is not
 * valid UTF-8 (a secret cut at a multi-byte character) cannot be a JSON string, and an
 * unmasked one must not stay: it becomes "***", and so does what is nested too deep to
 * walk. NULL: keep v and walk into it. */
/*
 * What a sandboxed stage wrote under $RUNNER_ARTIFACTS/$RUNNER_STAGE went to its outbox
 * (its own directory of the run's artifacts is otherwise read-only): copy it into the
 * record with the outputs' copier, which treats it as untrusted (symlinks kept as links,
 * never followed; the run's budget applies), then drop the outbox.
 */
static void collect_outbox(struct engine *e, size_t i)
{
	const struct pstage *def = e->p->stages[i];
	if (!e->r->stages[i].sandboxed) {
		return;
	}
	_cleanup_free_ char *outbox = xasprintf("%s/outbox/%s", e->r->dir, def->name);
	if (dirpool_give(&e->spare, outbox) || rmdir(outbox) == 0) {
		return; /* it was empty: nothing to keep (most stages) */
	}
	_cleanup_free_ char *dest = xasprintf("%s/%s", e->artifacts, def->name);
	DIR *d = opendir(outbox);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char msg[256];
		if (str_eq(de->d_name, ".") || str_eq(de->d_name, "..")) {
			continue;
		}
		int r = artifacts_copy(outbox, de->d_name, dest, &e->budget, msg, sizeof(msg));
		if (r < 0) {
			log_note(e, i, "[runner] cannot keep artifact '%s': %s\n", de->d_name,
				 msg[0] ? msg : strerror(-r));
		}
	}
	if (d) {
		closedir(d);
	}
	rm_rf(outbox);
}

static void attempt_done(struct engine *e, size_t i)
{
	struct stage_run *s = &e->r->stages[i];
	struct stage_exec *x = s->exec;
	const struct pstage *def = s->def;
	struct attempt *a = &s->attempts[s->n_attempts - 1];
	struct stage_outcome o;

	flush_output(x);
	int r = stage_proc_reap(x->proc, &o);
	if (r < 0) {
		memset(&o, 0, sizeof(o));
		o.end = STAGE_END_SETUP;
		snprintf(o.message, sizeof(o.message), "cannot collect the stage: %s",
			 strerror(-r));
	}
	a->finished_ms = now_real_ms();
	a->duration_ms = now_mono_ms() - x->start_mono;
	a->timed_out = x->timed_out;
	if (o.end == STAGE_END_EXITED) {
		a->exit_code = o.code;
	} else if (o.end == STAGE_END_SIGNALED) {
		a->sig = o.sig;
	}
	bool cancelled = x->cancelled, stopped_low = x->disk_low;

	epoll_ctl(e->ep, EPOLL_CTL_DEL, stage_proc_pidfd(x->proc), NULL);
	/* Freed after the next stages are launched: the supervisor may still be tearing the
	 * stage's namespaces down (its processes are all gone), and that need not delay them. */
	GROW(e->retired, e->retired_cap, e->retired_n + 1);
	e->retired[e->retired_n++] = x->proc;
	mask_stream_free(x->ms);
	sbuf_release(&x->line);
	if (x->out_fd >= 0) {
		close(x->out_fd);
	}
	free(x);
	s->exec = NULL;
	e->running--;
	e->running_push -= is_push(def);
	e->running_scans -= is_scan(def);
	e->running_scripts -= is_script(def);

	collect_outbox(e, i);
	json_decref(s->result);
	s->result = o.result;
	secrets_mask_json(e->mask, s->result);

	bool builtin = !is_script(def);
	bool retryable = false;
	char buf[32];
	if (o.end == STAGE_END_SETUP) {
		s->status = STATUS_ERROR;
		set_message(e, s, "could not start: %s", o.message);
	} else if (cancelled) {
		s->status = STATUS_CANCELLED;
		set_message(e, s, "cancelled while running");
	} else if (stopped_low) {
		/* As a timeout: a scan that was stopped has not shown the code is clean. */
		s->status = (def->kind->flags & STAGE_KIND_SECURITY) ? STATUS_ERROR : STATUS_FAILED;
		set_message(e, s, "stopped: %s", e->disk_msg);
	} else if (a->timed_out) {
		/* A security scan that did not finish has not shown the code is clean. */
		s->status = (def->kind->flags & STAGE_KIND_SECURITY) ? STATUS_ERROR : STATUS_FAILED;
		set_message(e, s, "timed out after %s",
			    format_duration(def->timeout_ms, buf, sizeof(buf)));
		retryable = def->retry_when & RETRY_ON_TIMEOUT;
	} else if (o.end == STAGE_END_SIGNALED) {
		s->status = builtin ? STATUS_ERROR : STATUS_FAILED;
		set_message(e, s, "killed by signal %d (%s)%s%s", o.sig, strsignal(o.sig),
			    o.message[0] ? ": " : "", o.message);
		retryable = !builtin && (def->retry_when & RETRY_ON_FAILURE);
	} else if (!builtin) {
		s->status = o.code == 0 ? STATUS_PASSED : STATUS_FAILED;
		if (o.code != 0) {
			set_message(e, s, "exit code %d%s%s", o.code, o.message[0] ? ": " : "",
				    o.message);
			retryable = def->retry_when & RETRY_ON_FAILURE;
		}
	} else if (!s->result) {
		/* A built-in kind that ends without a result did not do its job. */
		s->status = STATUS_ERROR;
		set_message(e, s, "the %s stage ended (exit code %d) without a result%s%s",
			    def->kind->name, o.code, o.message[0] ? ": " : "", o.message);
	} else {
		switch (o.code) {
		case STAGE_EXIT_PASSED:
			s->status = STATUS_PASSED;
			break;
		case STAGE_EXIT_FAILED:
			s->status = STATUS_FAILED;
			retryable = def->retry_when & RETRY_ON_FAILURE;
			break;
		case STAGE_EXIT_BLOCKED:
			s->status = STATUS_BLOCKED;
			break;
		default:
			s->status = STATUS_ERROR;
			break;
		}
		/* The message says why a stage did not pass (docs/report.md); a pass's summary
		 * stays in its result. */
		const char *summary = json_string_value(json_object_get(s->result, "summary"));
		if (s->status == STATUS_PASSED) {
			free(s->message);
			s->message = NULL;
		} else if (summary) {
			set_message(e, s, "%s", summary);
		} else {
			set_message(e, s, "exit code %d", o.code);
		}
	}

	if (s->log_error) {
		s->status = STATUS_ERROR;
		set_message(e, s, "cannot write the stage log: %s", strerror(s->log_error));
		retryable = false;
	}
	if (s->status == STATUS_FAILED && retryable && s->n_attempts <= def->retry &&
	    !e->cancelling) {
		log_note(e, i, "[runner] attempt %u failed (%s); retrying\n", s->n_attempts,
			 s->message ? s->message : "");
		/* What the failed attempt kept is not the stage's result: the next attempt starts
		 * with none, and with no message (its own, if any, comes with its end). */
		if (s->sandboxed) {
			_cleanup_free_ char *own_art = xasprintf("%s/%s", e->artifacts, def->name);
			rm_rf(own_art);
		}
		char *failed_msg = s->message;
		s->message = NULL;
		s->status = STATUS_PENDING;
		heap_push(e, i);
		if (e->obs && e->obs->stage_line) {
			char note[300];
			int n = snprintf(note, sizeof(note),
					 "[runner] attempt %u failed (%s); retrying", s->n_attempts,
					 failed_msg ? failed_msg : "");
			e->obs->stage_line(e->obs->userdata, e->r, i, note,
					   (size_t)MIN(n, (int)sizeof(note) - 1));
		}
		/* Kept for a cancellation that comes while the retry waits (cancel_all()). */
		free(e->retry_why[i]);
		e->retry_why[i] = failed_msg;
		return;
	}
	if (s->status == STATUS_PASSED && def->n_outputs) {
		collect_outputs(e, i);
	}
	if (s->sandboxed) {
		/* Its directory of the run's artifacts, made for its outbox, stays only if
		 * something was kept in it. */
		_cleanup_free_ char *own_art = xasprintf("%s/%s", e->artifacts, def->name);
		dirpool_give(&e->spare, own_art);
	}
	if (s->status == STATUS_FAILED && def->allow_failure) {
		s->allowed_failure = true;
	}
	/* A pass has no message; the log still says how a built-in kind passed (its result,
	 * masked already, as one clean line). */
	const char *passed_as = json_string_value(json_object_get(s->result, "summary"));
	_cleanup_free_ char *pass_note = !s->message && s->status == STATUS_PASSED && passed_as
						 ? output_clean_line(passed_as)
						 : NULL;
	const char *note = s->message ? s->message : pass_note;
	if (note) {
		/* A gate's summary says its outcome already ("blocked: 2 findings ..."). */
		const char *st = stage_status_name(s->status);
		size_t n = strlen(st);
		bool said = strncmp(note, st, n) == 0 && note[n] == ':';
		log_note(e, i, "[runner] %s%s%s\n", said ? "" : st, said ? "" : ": ", note);
	}
	finalize(e, i);
}

static void maybe_done(struct engine *e, size_t i)
{
	struct stage_exec *x = e->r->stages[i].exec;
	if (x && x->proc_done && x->pipe_done) {
		attempt_done(e, i);
	}
}

static void read_pipe(struct engine *e, size_t i)
{
	struct stage_exec *x = e->r->stages[i].exec;
	char buf[READ_CHUNK], clean[2 * READ_CHUNK];
	for (int rounds = 0; rounds < 4; rounds++) {
		ssize_t n = read(x->out_fd, buf, sizeof(buf));
		if (n > 0) {
			mask_stream_write(x->ms, clean,
					  ctl_filter_run(&x->cf, buf, (size_t)n, clean));
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		/* EOF (or an error, treated alike): the stage closed its output. */
		epoll_ctl(e->ep, EPOLL_CTL_DEL, x->out_fd, NULL);
		close(x->out_fd);
		x->out_fd = -1;
		x->pipe_done = true;
		maybe_done(e, i);
		return;
	}
}

/* ---------- cancellation and deadlines ---------- */

static void cancel_all(struct engine *e, uint64_t grace_cap)
{
	uint64_t now = now_mono_ms();
	e->cancelling = true;
	/* Stages waiting in the ready heap never start (again). One that waits for its retry
	 * did run, and its attempt failed: that is said, not that it never started. */
	while (e->heap_n > 0) {
		size_t v = heap_pop(e);
		struct stage_run *s = &e->r->stages[v];
		s->status = STATUS_CANCELLED;
		if (s->n_attempts > 0) {
			set_message(e, s, "cancelled while waiting to retry; attempt %u failed: %s",
				    s->n_attempts, e->retry_why[v] ? e->retry_why[v] : "?");
			log_note(e, v, "[runner] %s\n", s->message);
		} else {
			set_message(e, s, "cancelled before it started");
		}
		finalize(e, v);
	}
	for (size_t i = 0; i < e->r->n_stages; i++) {
		struct stage_exec *x = e->r->stages[i].exec;
		if (!x || x->proc_done) {
			continue;
		}
		/* A stage already being stopped for its timeout or the disk keeps that reason
		 * (a security scan stopped so is an error, not a cancellation). */
		x->cancelled = !x->timed_out && !x->disk_low;
		if (!x->terminating) {
			x->terminating = true;
			stage_proc_terminate(x->proc);
			x->kill_at = now + MIN(e->p->stages[i]->kill_grace_ms, grace_cap);
		} else {
			x->kill_at = MIN(x->kill_at, now + grace_cap);
		}
	}
}

static void check_deadlines(struct engine *e)
{
	uint64_t now = now_mono_ms();
	for (size_t i = 0; i < e->r->n_stages; i++) {
		struct stage_exec *x = e->r->stages[i].exec;
		if (!x) {
			continue;
		}
		if (!x->proc_done && !x->terminating && now >= x->deadline) {
			x->timed_out = true;
			x->terminating = true;
			stage_proc_terminate(x->proc);
			x->kill_at = now + e->p->stages[i]->kill_grace_ms;
			log_note(e, i, "[runner] timeout: sending SIGTERM to every process\n");
		}
		if (!x->proc_done && x->terminating && !x->killed && now >= x->kill_at) {
			x->killed = true;
			stage_proc_kill(x->proc);
			log_note(e, i, "[runner] grace period over: sending SIGKILL\n");
		}
		if (x->proc_done && !x->pipe_done && now >= x->drain_until) {
			/* Nothing of the stage is alive; whatever holds the pipe is not ours. */
			epoll_ctl(e->ep, EPOLL_CTL_DEL, x->out_fd, NULL);
			close(x->out_fd);
			x->out_fd = -1;
			x->pipe_done = true;
			maybe_done(e, i);
		}
	}
}

static void arm_timer(struct engine *e)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < e->r->n_stages; i++) {
		struct stage_exec *x = e->r->stages[i].exec;
		if (!x) {
			continue;
		}
		if (!x->proc_done) {
			next = MIN(next, x->terminating ? (x->killed ? UINT64_MAX : x->kill_at)
							: x->deadline);
		} else if (!x->pipe_done) {
			next = MIN(next, x->drain_until);
		}
	}
	if (e->obs && e->obs->want_ticks && e->obs->tick) {
		next = MIN(next, e->next_tick);
	}
	if (e->n_disks && e->running) {
		next = MIN(next, MAX(e->next_disk_check, now_mono_ms() + 1));
	}
	struct itimerspec its = { 0 };
	if (next != UINT64_MAX) {
		next = MAX(next, 1);
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000L;
	}
	timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_interrupt(struct engine *e, int sig)
{
	if (!e->r->signal) {
		e->r->signal = sig;
		cancel_all(e, INTERRUPT_GRACE);
		return;
	}
	/* A second interrupt: no more grace. */
	for (size_t i = 0; i < e->r->n_stages; i++) {
		struct stage_exec *x = e->r->stages[i].exec;
		if (x && !x->proc_done && !x->killed) {
			x->killed = true;
			stage_proc_kill(x->proc);
		}
	}
}

static void free_retired(struct engine *e)
{
	for (size_t i = 0; i < e->retired_n; i++) {
		stage_proc_free(e->retired[i]);
	}
	e->retired_n = 0;
}

static void loop(struct engine *e)
{
	struct epoll_event evs[64];
	unsigned jobs = e->r->jobs;
	for (;;) {
		propagate(e);
		while (!e->cancelling && e->heap_n > 0 && e->running < jobs && !e->fatal &&
		       may_start(e)) {
			launch(e, heap_pop(e));
			propagate(e);
		}
		free_retired(e);
		if (e->running == 0 && (e->heap_n == 0 || e->cancelling)) {
			break;
		}
		if (e->fatal) {
			cancel_all(e, 0);
		}
		arm_timer(e);
		int n = epoll_wait(e->ep, evs, ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			e->fatal = -errno;
			cancel_all(e, 0);
			continue;
		}
		for (int k = 0; k < n; k++) {
			enum ev_tag tag = (enum ev_tag)(evs[k].data.u64 >> 32);
			size_t i = (size_t)(evs[k].data.u64 & 0xffffffffu);
			switch (tag) {
			case EV_PIPE:
				if (e->r->stages[i].exec && e->r->stages[i].exec->out_fd >= 0) {
					read_pipe(e, i);
				}
				break;
			case EV_PIDFD: {
				struct stage_exec *x = e->r->stages[i].exec;
				if (x && !x->proc_done) {
					x->proc_done = true;
					x->drain_until = now_mono_ms() + DRAIN_GRACE_MS;
					epoll_ctl(e->ep, EPOLL_CTL_DEL, stage_proc_pidfd(x->proc),
						  NULL);
					maybe_done(e, i);
				}
				break;
			}
			case EV_TIMER: {
				uint64_t exp;
				ssize_t rd = read(e->tfd, &exp, sizeof(exp));
				(void)rd;
				break;
			}
			case EV_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(e->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					on_interrupt(e, (int)si.ssi_signo);
				}
				break;
			}
			case EV_CANCEL: {
				uint64_t v;
				ssize_t rd = read(e->o->cancel_fd, &v, sizeof(v));
				(void)rd;
				on_interrupt(e, SIGTERM);
				break;
			}
			}
		}
		check_deadlines(e);
		uint64_t now = now_mono_ms();
		check_disks(e, now);
		if (e->obs && e->obs->want_ticks && e->obs->tick && now >= e->next_tick) {
			e->next_tick = now + TICK_MS;
			e->obs->tick(e->obs->userdata, e->r);
		}
	}
}

/* ---------- setup ---------- */

/* A run id: the second it starts at and 24 random bits. Two runs may draw the same one:
 * record_create_run_dir() draws again when the id's directory exists. */
static char *make_run_id(void *unused)
{
	(void)unused;
	unsigned char rnd[3];
	char hex[7];
	char ts[32];
	time_t t = (time_t)(now_real_ms() / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	if (random_bytes(rnd, sizeof(rnd)) < 0) {
		memset(rnd, 0, sizeof(rnd));
	}
	hex_encode(rnd, sizeof(rnd), hex);
	return xasprintf("%s-%s", ts, hex);
}

static int select_stages(struct engine *e, struct diag_list *dl)
{
	const struct pipeline *p = e->p;
	struct run *r = e->r;
	if (!e->o->n_only) {
		for (size_t i = 0; i < p->n_stages; i++) {
			r->stages[i].selected = r->stages[i].requested = true;
		}
		return 0;
	}
	size_t *roots = xcalloc(e->o->n_only, sizeof(size_t));
	bool *mark = xcalloc(p->n_stages, sizeof(bool));
	int ret = 0;
	const char **names = xcalloc(p->n_stages, sizeof(char *));
	for (size_t i = 0; i < p->n_stages; i++) {
		names[i] = p->stages[i]->name;
	}
	for (size_t k = 0; k < e->o->n_only; k++) {
		struct pstage *s = pipeline_find(p, e->o->only[k]);
		if (!s) {
			const char *near = closest_word(e->o->only[k], names, p->n_stages);
			char hint[200];
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near ? near : "");
			diag_error(dl, NULL, 0, 0, near ? hint : "`runner graph` lists the stages",
				   "--stage %s: no such stage in %s", e->o->only[k], p->path);
			ret = -EINVAL;
			continue;
		}
		roots[k] = s->index;
	}
	if (ret == 0) {
		dag_closure(&p->dag, roots, e->o->n_only, mark);
		for (size_t i = 0; i < p->n_stages; i++) {
			r->stages[i].selected = mark[i];
		}
		for (size_t k = 0; k < e->o->n_only; k++) {
			r->stages[roots[k]].requested = true;
		}
	}
	free(names);
	free(mark);
	free(roots);
	return ret;
}

static void set_runner_vars(struct engine *e)
{
	struct run *r = e->r;
	const char *branch = e->o->branch ? e->o->branch : r->git.branch;
	if (e->o->branch) {
		free(r->git.branch);
		r->git.branch = xstrdup(e->o->branch);
	}
	kv_add(&e->base_vars, "RUNNER_COMMIT_SHA", r->git.commit);
	kv_add(&e->base_vars, "RUNNER_COMMIT_SHORT", r->git.commit_short);
	kv_add(&e->base_vars, "RUNNER_BRANCH", branch);
	kv_add(&e->base_vars, "RUNNER_TAG", r->git.tag);
	kv_add(&e->base_vars, "RUNNER_REPO_URL", r->git.repo_url);
	kv_add(&e->base_vars, "RUNNER_EVENT", r->event);
	kv_add(&e->base_vars, "RUNNER_RUN_ID", r->id);
	kv_add(&e->base_vars, "RUNNER_WORKSPACE", e->p->dir);
	kv_add(&e->base_vars, "RUNNER_PIPELINE", e->p->name);
	char ctime[24] = "";
	if (r->git.commit_time > 0) {
		snprintf(ctime, sizeof(ctime), "%lld", (long long)r->git.commit_time);
	}
	kv_add(&e->base_vars, "RUNNER_COMMIT_TIME", ctime);
}

/* What expanded `env:` values may come to: a stage's environment in all (the pipeline's
 * and its own; an exec refuses a much larger one anyway), and every stage's together, so
 * that a small pipeline of ${A}${A}... cannot make the runner hold gigabytes. */
#define ENV_STAGE_MAX INTERP_MAX
#define ENV_TOTAL_MAX (64u << 20)

/* Expand `env:` values; the pipeline's once, each selected stage's on top. Then check that
 * each stage's `with:` expands within its cap, before anything runs. */
static int expand_env(struct engine *e, struct diag_list *dl)
{
	const struct pipeline *p = e->p;
	size_t base = 0, total = 0;
	for (size_t k = 0; k < p->n_env; k++) {
		const char *given = NULL;
		size_t nl = strlen(p->env[k].name);
		for (size_t o = 0; o < e->o->n_env_overrides; o++) {
			const char *ov = e->o->env_overrides[o];
			if (strncmp(ov, p->env[k].name, nl) == 0 && ov[nl] == '=') {
				given = ov + nl + 1;
			}
		}
		if (given) {
			kv_add(&e->base_vars, p->env[k].name, given);
			continue;
		}
		struct lookup_ctx lc = { &e->base_vars, NULL, 0 };
		char *v = interp_expand(p->env[k].value, lookup2, &lc);
		base += v ? strlen(v) : 0;
		if (!v) {
			diag_error(dl, p->path, p->env[k].pos.line, p->env[k].pos.col, NULL,
				   "env %s expands to more than %u bytes", p->env[k].name,
				   INTERP_MAX);
			return -EINVAL;
		}
		if (base > ENV_STAGE_MAX) {
			diag_error(dl, p->path, p->env[k].pos.line, p->env[k].pos.col, NULL,
				   "the pipeline's env expands to more than %u bytes in all",
				   ENV_STAGE_MAX);
			free(v);
			return -EINVAL;
		}
		kv_add(&e->base_vars, p->env[k].name, v);
		free(v);
	}
	total = base;
	for (size_t i = 0; i < p->n_stages; i++) {
		const struct pstage *s = p->stages[i];
		if (!e->r->stages[i].selected) {
			continue;
		}
		size_t own = base;
		/* The stage's own runner variable, for its env and with: (the environment gets
		 * it anyway). */
		kv_add(&e->stage_env[i], "RUNNER_STAGE", s->name);
		for (size_t k = 0; k < s->n_env; k++) {
			struct lookup_ctx lc = { &e->base_vars, &e->stage_env[i], 0 };
			char *v = interp_expand(s->env[k].value, lookup2, &lc);
			size_t len = v ? strlen(v) : 0;
			own += len;
			total += len;
			if (!v || own > ENV_STAGE_MAX || total > ENV_TOTAL_MAX) {
				if (!v) {
					diag_error(dl, p->path, s->env[k].pos.line,
						   s->env[k].pos.col, NULL,
						   "env %s expands to more than %u bytes",
						   s->env[k].name, INTERP_MAX);
				} else if (own > ENV_STAGE_MAX) {
					diag_error(dl, p->path, s->env[k].pos.line,
						   s->env[k].pos.col, NULL,
						   "the environment of stage '%s' expands to more "
						   "than "
						   "%u bytes in all",
						   s->name, ENV_STAGE_MAX);
				} else {
					diag_error(
						dl, p->path, s->env[k].pos.line, s->env[k].pos.col,
						NULL,
						"the stages' environments expand to more than %u "
						"bytes in all",
						ENV_TOTAL_MAX);
				}
				free(v);
				return -EINVAL;
			}
			kv_add(&e->stage_env[i], s->env[k].name, v);
			free(v);
		}
		if (s->with && s->kind && !is_script(s)) {
			struct lookup_ctx lc = { &e->base_vars, &e->stage_env[i], INTERP_MAX };
			json_t *w = with_to_json(s->with, &lc, 0);
			if (!w) {
				diag_error(dl, p->path, s->with->line, s->with->col, NULL,
					   "the with: of stage '%s' %s", s->name,
					   lc.why ? lc.why : "cannot be expanded");
				return -EINVAL;
			}
			json_decref(w);
		}
	}
	return 0;
}

static int check_secrets(struct engine *e, struct diag_list *dl)
{
	int ret = 0;
	for (size_t i = 0; i < e->p->n_stages; i++) {
		const struct pstage *s = e->p->stages[i];
		if (!e->r->stages[i].selected) {
			continue;
		}
		for (size_t k = 0; k < s->n_secrets; k++) {
			if (!secrets_get(e->o->secrets, s->secrets[k])) {
				char hint[300];
				snprintf(hint, sizeof(hint),
					 "set RUNNER_SECRET_%s, or add `%s: ...` to the secrets "
					 "file "
					 "(--secrets FILE)",
					 pipeline_secret_env(e->p->arena, s->secrets[k]),
					 s->secrets[k]);
				diag_error(dl, e->p->path, s->pos.line, s->pos.col, hint,
					   "stage '%s' needs secret '%s', which is not set",
					   s->name, s->secrets[k]);
				ret = -EINVAL;
			}
		}
	}
	return ret;
}

static void compute_priorities(struct engine *e)
{
	const struct pipeline *p = e->p;
	uint64_t *w = xcalloc(p->n_stages, sizeof(uint64_t));
	uint64_t *rem = xcalloc(p->n_stages, sizeof(uint64_t));
	record_read_durations(e->o->record_root, p, w);
	dag_remaining(&p->dag, p->order, w, rem);
	for (size_t i = 0; i < p->n_stages; i++) {
		e->r->stages[i].priority = rem[i];
	}
	free(w);
	free(rem);
}

static void determine_result(struct run *r)
{
	bool error = false, blocked = false, failed = false;
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct stage_run *s = &r->stages[i];
		if (!s->selected) {
			continue;
		}
		error |= s->status == STATUS_ERROR;
		blocked |= s->status == STATUS_BLOCKED;
		failed |= s->status == STATUS_FAILED && !s->allowed_failure;
	}
	if (r->signal) {
		r->result = RESULT_CANCELLED;
		r->exit_code = 128 + r->signal;
	} else if (error) {
		r->result = RESULT_ERROR;
		r->exit_code = 4;
	} else if (blocked) {
		r->result = RESULT_BLOCKED;
		r->exit_code = 3;
	} else if (failed) {
		r->result = RESULT_FAILED;
		r->exit_code = 1;
	} else {
		r->result = RESULT_PASSED;
		r->exit_code = 0;
	}
}

static int setup_loop_fds(struct engine *e)
{
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (e->ep < 0 || e->tfd < 0) {
		return -errno;
	}
	if (epoll_add(e->ep, e->tfd, EV_TIMER, 0) < 0) {
		return -errno;
	}
	if (e->o->handle_signals) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		/* A closed terminal too: the run stops in order (its record written, a --rev
		 * export removed) instead of dying where it stands. */
		sigaddset(&set, SIGHUP);
		if (sigprocmask(SIG_BLOCK, &set, &e->old_mask) < 0) {
			return -errno;
		}
		e->signals_blocked = true;
		e->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (e->sfd < 0 || epoll_add(e->ep, e->sfd, EV_SIGNAL, 0) < 0) {
			return -errno;
		}
	}
	if (e->o->cancel_fd >= 0 && epoll_add(e->ep, e->o->cancel_fd, EV_CANCEL, 0) < 0) {
		return -errno;
	}
	e->self_exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if (e->self_exe < 0) {
		return -errno;
	}
	return 0;
}

/*
 * One compiled policy per distinct sandbox configuration, and the mounts every stage
 * gets: the run record (when it lies in the workspace) hidden, except this run's
 * artifacts, which dependents read.
 */
/* The mount a path is on: its mount id, or (a kernel without STATX_MNT_ID) its device. */
static int mount_of(const char *path, uint64_t *id)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0) {
		return -errno;
	}
	*id = (sx.stx_mask & STATX_MNT_ID)
		      ? sx.stx_mnt_id
		      : ((uint64_t)sx.stx_dev_major << 32 | sx.stx_dev_minor) | 1ull << 63;
	return 0;
}

/*
 * A sandboxed stage sees the workspace without the mounts below it (a stage must not reach
 * what the host mounted there). A run record inside the workspace on a mount of its own (a
 * tmpfs at .runner) would be out of the stages' reach: said here, not as a stage that
 * cannot start.
 */
static int check_record_mount(struct engine *e, struct diag_list *dl)
{
	bool sandboxed = false;
	for (size_t i = 0; i < e->p->n_stages; i++) {
		sandboxed |= e->r->stages[i].selected && e->r->stages[i].sandboxed;
	}
	uint64_t ws, rec;
	if (!sandboxed || mount_of(e->p->dir, &ws) < 0 || mount_of(e->artifacts, &rec) < 0 ||
	    ws == rec) {
		return 0;
	}
	diag_error(dl, NULL, 0, 0,
		   "unmount it, or mount the whole workspace instead (runner run --no-sandbox "
		   "for debugging only)",
		   "the run record %s is on a mount of its own inside the workspace %s: "
		   "sandboxed stages see the workspace without the mounts below it, so they "
		   "could not reach the record",
		   e->o->record_root, e->p->dir);
	return -EXDEV;
}

static int setup_sandbox(struct engine *e, struct diag_list *dl)
{
	struct run *r = e->r;
	bool *selected = xcalloc(e->p->n_stages + 1, sizeof(bool));
	for (size_t i = 0; i < e->p->n_stages; i++) {
		selected[i] = r->stages[i].selected;
	}
	run_policies_build(&e->pols, e->p, selected, e->o->policy, e->o->no_sandbox);
	free(selected);
	for (size_t i = 0; i < e->p->n_stages; i++) {
		size_t k = e->pols.of_stage[i];
		const struct sandbox_policy *pol = k != SIZE_MAX ? e->pols.v[k] : NULL;
		r->stages[i].sandboxed = !pol || sandbox_policy_confined(pol);
		r->stages[i].network_host = pol && sandbox_policy_network(pol) == SANDBOX_NET_HOST;
	}
	e->artifacts = xasprintf("%s/artifacts", r->dir);
	_cleanup_free_ char *outboxes = xasprintf("%s/outbox", r->dir);
	dirpool_init(&e->spare, outboxes);
	int ret = mkdir_p(e->artifacts, 0755);
	if (ret < 0) {
		diag_error(dl, NULL, 0, 0, NULL, "cannot create %s: %s", e->artifacts,
			   strerror(-ret));
		return ret;
	}
	_cleanup_free_ char *root = realpath(e->o->record_root, NULL);
	size_t wl = strlen(e->p->dir);
	if (root && strncmp(root, e->p->dir, wl) == 0 && root[wl] == '/') {
		ret = check_record_mount(e, dl);
		if (ret < 0) {
			return ret;
		}
		e->mounts[e->n_mounts++] = (struct sandbox_mount){ .path = e->o->record_root };
	}
	e->mounts[e->n_mounts++] =
		(struct sandbox_mount){ .path = e->artifacts, .source = e->artifacts };
	return 0;
}

static void engine_release(struct engine *e)
{
	if (e->ep >= 0) {
		close(e->ep);
	}
	if (e->tfd >= 0) {
		close(e->tfd);
	}
	if (e->sfd >= 0) {
		close(e->sfd);
	}
	if (e->self_exe >= 0) {
		close(e->self_exe);
	}
	if (e->signals_blocked) {
		/* Drop interrupts that arrived while they were blocked, then restore the mask:
		 * the run already handled them. */
		sigprocmask(SIG_SETMASK, &e->old_mask, NULL);
	}
	for (size_t i = 0; e->logs && i < e->p->n_stages; i++) {
		logfile_close(e->logs[i]);
	}
	free(e->logs);
	for (size_t i = 0; e->retry_why && i < e->p->n_stages; i++) {
		free(e->retry_why[i]);
	}
	free(e->retry_why);
	kv_release(&e->base_vars);
	for (size_t i = 0; e->stage_env && i < e->p->n_stages; i++) {
		kv_release(&e->stage_env[i]);
	}
	free(e->stage_env);
	json_decref(e->gate);
	free(e->heap);
	free(e->unmet);
	free(e->done);
	free_retired(e);
	free(e->retired);
	run_policies_release(&e->pols);
	free(e->artifacts);
	/* The spares wait in the record's outbox directory, which every stage's outbox has
	 * left by now: once they are gone, so is it (rmdir: only when empty). */
	_cleanup_free_ char *spares = e->spare.dir ? xstrdup(e->spare.dir) : NULL;
	dirpool_release(&e->spare);
	if (spares) {
		rmdir(spares);
	}
}

/*
 * The scans' view of an exported workspace: the list of the commit's files (bound into the
 * built-in stages) and where the workspace lies in the commit ("svc/" for a pipeline in
 * svc/), or, without a list, that .gitignore is not to be read at all.
 */
static void set_tracked(struct engine *e, json_t *gate)
{
	const struct run_options *o = e->o;
	_cleanup_free_ char *root = o->tracked_root ? realpath(o->tracked_root, NULL) : NULL;
	_cleanup_free_ char *ws = realpath(e->p->dir, NULL);
	size_t n = root ? strlen(root) : 0;
	bool inside = root && ws && strncmp(ws, root, n) == 0 && (ws[n] == '/' || ws[n] == '\0');
	if (o->tracked_unknown || !o->tracked_list || !inside) {
		json_object_set_new(gate, "tracked_unknown", json_true());
		return;
	}
	_cleanup_free_ char *prefix = ws[n] ? xasprintf("%s/", ws + n + 1) : xstrdup("");
	json_t *list = json_string(o->tracked_list), *pre = json_string(prefix);
	if (!list || !pre) {
		/* Not UTF-8: not to be said in JSON; without the list, .gitignore is not read. */
		json_decref(list);
		json_decref(pre);
		json_object_set_new(gate, "tracked_unknown", json_true());
		return;
	}
	json_object_set_new(gate, "tracked_list", list);
	json_object_set_new(gate, "tracked_prefix", pre);
}

/* The record goes to <root>/runs/<id>: root and root/runs, where they exist, must be
 * directories themselves. A repository can commit `.runner` (or `.runner/runs`) as a
 * symbolic link, which would send the record (stage logs included) wherever it points. */
static int check_record_root(const char *root, struct diag_list *dl)
{
	_cleanup_free_ char *runs = xasprintf("%s/runs", root);
	const char *const paths[] = { root, runs };
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct stat st;
		if (lstat(paths[i], &st) == 0 && !S_ISDIR(st.st_mode)) {
			diag_error(dl, NULL, 0, 0, "remove it; the runner makes the directory",
				   "%s is not a directory (%s): the run record is not written "
				   "through it",
				   paths[i], S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
			return -EINVAL;
		}
	}
	return 0;
}

/* The record root's lock (run_options.lock): the descriptor, or -errno said in dl. */
static int take_lock(const struct run_options *o, struct diag_list *dl)
{
	struct record_lock_holder h;
	int fd = record_lock(o->record_root, 0, &h);
	if (fd == -EBUSY && o->lock_wait_ms) {
		if (o->lock_waiting) {
			_cleanup_free_ char *who = record_lock_holder_text(&h);
			o->lock_waiting(who);
		}
		fd = record_lock(o->record_root, o->lock_wait_ms, &h);
	}
	if (fd >= 0) {
		return fd;
	}
	if (fd == -EBUSY) {
		_cleanup_free_ char *who = record_lock_holder_text(&h);
		char waited[32];
		diag_error(dl, NULL, 0, 0,
			   o->lock_wait_ms ? "wait for it to end, or wait longer with --wait"
					   : "wait for it to end, or let this run wait for it with "
					     "--wait DURATION",
			   "%s is using this workspace%s%s (it holds the lock %s/lock): runs of "
			   "one workspace go one at a time",
			   who, o->lock_wait_ms ? " after waiting " : "",
			   o->lock_wait_ms
				   ? format_duration(o->lock_wait_ms, waited, sizeof(waited))
				   : "",
			   o->record_root);
	} else if (fd == -EINVAL) {
		diag_error(dl, NULL, 0, 0, "remove it; the runner makes the file",
			   "%s/lock is not a regular file: the run record's lock is neither "
			   "followed nor replaced",
			   o->record_root);
	} else {
		diag_error(dl, NULL, 0, 0, "check that the workspace is writable",
			   "cannot lock the run record %s: %s", o->record_root, strerror(-fd));
	}
	return fd;
}

int run_pipeline(const struct pipeline *p, const struct run_options *o, struct run **out,
		 struct diag_list *dl)
{
	struct run_options opts = *o;
	_cleanup_free_ char *default_root = NULL;
	if (!opts.record_root) {
		default_root = xasprintf("%s/.runner", p->dir);
		opts.record_root = default_root;
	}
	*out = NULL;
	if (check_record_root(opts.record_root, dl) < 0) {
		return -EINVAL;
	}
	/* Before anything of the record is read (durations) or made (the run's directory). */
	int lock_fd = o->lock ? take_lock(&opts, dl) : -1;
	if (lock_fd < 0 && o->lock) {
		return lock_fd;
	}
	struct run *r = xcalloc(1, sizeof(*r));
	r->lock_fd = lock_fd;
	r->shared_wait_ms = o->shared_wait_ms;
	struct engine e = {
		.r = r,
		.p = p,
		.o = &opts,
		.mask = secrets_mask(o->secrets),
		.obs = o->observer,
		.ep = -1,
		.tfd = -1,
		.sfd = -1,
		.self_exe = -1,
		.budget = { ARTIFACTS_MAX_BYTES, ARTIFACTS_MAX_ENTRIES },
	};
	int ret = 0;

	*out = NULL;
	r->pipeline = p;
	/* The run's directory is claimed before anything uses its id (RUNNER_RUN_ID): two
	 * runs never share one. The server names its runs itself (job and attempt) and has
	 * made the directory already. */
	bool claimed = false;
	if (o->run_id) {
		r->id = xstrdup(o->run_id);
	} else {
		int cr = record_create_run_dir(opts.record_root, make_run_id, NULL, &r->id);
		if (cr < 0) {
			if (cr == -EEXIST) {
				diag_error(
					dl, NULL, 0, 0,
					"remove old runs from the record, or start the run again",
					"cannot create the run record in %s/runs: the directories "
					"of "
					"the %u run ids drawn all exist already",
					opts.record_root, (unsigned)RECORD_ID_TRIES);
			} else {
				diag_error(dl, NULL, 0, 0, "check that the workspace is writable",
					   "cannot create the run record in %s/runs: %s",
					   opts.record_root, strerror(-cr));
			}
			engine_release(&e);
			run_free(r);
			return cr == -EINVAL ? -EIO : cr; /* not the pipeline's fault: exit 4 */
		}
		claimed = true;
	}
	r->dir = xasprintf("%s/runs/%s", opts.record_root, r->id);
	r->record_root = xstrdup(opts.record_root);
	r->event = o->event ? o->event : "local";
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	r->jobs = o->jobs ? o->jobs : (unsigned)MAX(ncpu, 1);
	r->fail_fast = o->fail_fast;
	r->n_stages = p->n_stages;
	r->stages = xcalloc(p->n_stages, sizeof(struct stage_run));
	for (size_t i = 0; i < p->n_stages; i++) {
		r->stages[i].def = p->stages[i];
		r->stages[i].log_path = xasprintf("logs/%s.log", p->stages[i]->name);
	}
	if (o->git) {
		r->git = *o->git;
		r->git.branch = xstrdup(o->git->branch ? o->git->branch : "");
		r->git.tag = xstrdup(o->git->tag ? o->git->tag : "");
		r->git.repo_url = xstrdup(o->git->repo_url ? o->git->repo_url : "");
	} else {
		git_info_read(p->dir, &r->git);
	}

	r->no_sandbox = o->no_sandbox;
	e.logs = xcalloc(p->n_stages, sizeof(struct logfile *));
	e.retry_why = xcalloc(p->n_stages, sizeof(char *));
	e.stage_env = xcalloc(p->n_stages, sizeof(struct kvlist));
	e.heap = xcalloc(p->n_stages, sizeof(size_t));
	e.unmet = xcalloc(p->n_stages, sizeof(size_t));
	e.done = xcalloc(p->n_stages, sizeof(size_t));

	ret = select_stages(&e, dl);
	if (ret == 0) {
		set_runner_vars(&e);
		ret = expand_env(&e, dl);
	}
	if (ret == 0) {
		ret = check_secrets(&e, dl);
	}
	if (ret == 0) {
		ret = record_prepare(opts.record_root, r->dir);
		if (ret < 0) {
			diag_error(dl, NULL, 0, 0, "check that the workspace is writable",
				   "cannot create the run record %s: %s", r->dir, strerror(-ret));
		}
	}
	if (ret == 0) {
		struct stat rst;
		if (stat(opts.record_root, &rst) == 0) {
			e.budget.skip = true;
			e.budget.skip_dev = rst.st_dev;
			e.budget.skip_ino = rst.st_ino;
		}
		setup_disks(&e);
		ret = setup_loop_fds(&e);
		if (ret < 0) {
			diag_error(dl, NULL, 0, 0, NULL, "cannot set up the event loop: %s",
				   strerror(-ret));
		}
	}
	if (ret == 0) {
		ret = setup_sandbox(&e, dl);
	}
	if (ret == 0 && p->gate) {
		struct lookup_ctx lc = { &e.base_vars, NULL, INTERP_MAX };
		e.gate = rebase_baseline(with_to_json(p->gate, &lc, 0), o->gate_root);
		if (!e.gate) {
			diag_error(dl, p->path, p->gate->line, p->gate->col, NULL, "gate: %s",
				   lc.why ? lc.why : "cannot be expanded");
			ret = -EINVAL;
		}
	}
	if (ret < 0) {
		engine_release(&e);
		if (claimed) {
			/* A run that did not start leaves no record (rmdir: only what is empty,
			 * as the directories it made are until a stage starts). */
			static const char *const made[] = { "logs", "artifacts" };
			for (size_t i = 0; i < ARRAY_SIZE(made); i++) {
				_cleanup_free_ char *d = xasprintf("%s/%s", r->dir, made[i]);
				rmdir(d);
			}
			rmdir(r->dir);
		}
		run_free(r);
		return ret;
	}

	if (o->tracked_list || o->tracked_unknown) {
		if (!e.gate) {
			e.gate = json_object();
		}
		set_tracked(&e, e.gate);
	}
	if (o->n_changed_files || o->changed_all) {
		if (!e.gate) {
			e.gate = json_object();
		}
		json_t *cf = json_array();
		bool all = o->changed_all;
		for (size_t k = 0; k < o->n_changed_files; k++) {
			json_t *path = json_string(o->changed_files[k]);
			all |= !path; /* not UTF-8: no file's suppressions are trusted */
			json_array_append_new(cf, path);
		}
		json_object_set_new(e.gate, "changed_files", cf);
		json_object_set_new(e.gate, "changed_files_all", json_boolean(all));
	}
	compute_priorities(&e);
	r->started_ms = now_real_ms();
	uint64_t mono0 = now_mono_ms();
	e.next_tick = mono0 + TICK_MS;
	for (size_t i = 0; i < p->n_stages; i++) {
		size_t v = p->order[i];
		if (!r->stages[v].selected) {
			continue;
		}
		r->n_selected++;
		for (size_t k = 0; k < p->stages[v]->n_needs; k++) {
			e.unmet[v] += r->stages[p->stages[v]->needs[k]].selected;
		}
	}
	if (e.obs && e.obs->started) {
		e.obs->started(e.obs->userdata, r);
	}
	for (size_t i = 0; i < p->n_stages; i++) {
		size_t v = p->order[i];
		if (r->stages[v].selected && e.unmet[v] == 0 &&
		    r->stages[v].status == STATUS_PENDING) {
			resolve(&e, v);
		}
	}
	loop(&e);
	r->finished_ms = now_real_ms();
	r->duration_ms = now_mono_ms() - mono0;
	determine_result(r);
	if (e.fatal) {
		r->result = RESULT_ERROR;
		r->exit_code = 4;
	}
	char *why = NULL;
	int wr = record_write(r, opts.record_root, &why);
	if (wr < 0) {
		/* An error, which outranks a block or a failure (only a cancellation stays). */
		r->record_error =
			why ? why : xasprintf("cannot write the run record: %s", strerror(-wr));
		if (r->result != RESULT_CANCELLED) {
			r->result = RESULT_ERROR;
			r->exit_code = 4;
		}
		/* The run's own files may have been written before the failure (the wait for
		 * the files runs share ran out): they must not say "passed" for a run that
		 * exits 4. Written again with the error; the shared files are left alone. */
		if (!r->error) {
			r->error = xstrdup(r->record_error);
		}
		(void)record_write_run_files(r);
	}
	engine_release(&e);
	*out = r;
	return 0;
}

void run_free(struct run *r)
{
	if (!r) {
		return;
	}
	for (size_t i = 0; i < r->n_stages; i++) {
		free(r->stages[i].attempts);
		free(r->stages[i].message);
		free(r->stages[i].log_path);
		json_decref(r->stages[i].result);
	}
	free(r->stages);
	git_info_release(&r->git);
	free(r->id);
	free(r->dir);
	free(r->record_error);
	free(r->record_root);
	free(r->error);
	if (r->lock_fd >= 0) {
		close(r->lock_fd); /* the lock ends with the last word of the record */
	}
	free(r);
}

int run_set_error(struct run *r, const char *msg)
{
	free(r->error);
	r->error = xstrdup(msg);
	if (r->result != RESULT_CANCELLED) {
		r->result = RESULT_ERROR;
		r->exit_code = 4;
	}
	return record_write(r, r->record_root, NULL);
}
