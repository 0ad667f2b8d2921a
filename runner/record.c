/*
 * record.c - report.json, junit.xml and durations.json.
 */
#include "record.h"

#include "logfile.h"
#include "pipeline.h"
#include "run.h"
#include "sarif.h"
#include "sbuf.h"
#include "stage.h"
#include "util.h"
#include "walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define DURATIONS_MAX  (4u << 20)
#define JUNIT_LOG_TAIL (64u << 10)
/* All the log text of junit.xml together (the ends of the stages' logs, as written, once
 * in a testcase's outcome and once in <system-out>): a pipeline of thousands of chatty
 * stages made a file of hundreds of MiB, which CI servers refuse or choke on. The logs
 * left out are named in the file, and stay whole in the run record (logs/). */
#define JUNIT_LOG_MAX (8u << 20)

/* Make root, which ignores itself in git. */
static int make_root(const char *root)
{
	int r = mkdir_p(root, 0755);
	if (r < 0) {
		return r;
	}
	_cleanup_free_ char *gi = xasprintf("%s/.gitignore", root);
	struct stat st;
	if (lstat(gi, &st) < 0) {
		write_file_replace(gi, "*\n", 2, 0644);
	}
	return 0;
}

#define LOCK_INFO_MAX 96
#define LOCK_POLL_MS  100

/* What the holder wrote: "<pid> <RFC 3339 start>\n". Anything else (a file being written,
 * one a repository committed) leaves *h unknown, and so does the pid of a process that is
 * gone (a new holder that has not written yet, the file still naming the one before). */
static void read_holder(int fd, struct record_lock_holder *h)
{
	char buf[LOCK_INFO_MAX + 1];
	memset(h, 0, sizeof(*h));
	ssize_t n = pread(fd, buf, LOCK_INFO_MAX, 0);
	if (n <= 0) {
		return;
	}
	buf[n] = '\0';
	char *sp = strchr(buf, ' '), *nl = strchr(buf, '\n');
	uint64_t pid;
	if (!sp || !nl || nl < sp || (size_t)(nl - sp - 1) >= sizeof(h->started)) {
		return;
	}
	*sp = *nl = '\0';
	if (parse_uint(buf, INT32_MAX, &pid) < 0 || pid == 0 ||
	    (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
		return;
	}
	for (const char *c = sp + 1; *c; c++) {
		if (!strchr("0123456789-:.TZ", *c)) {
			return;
		}
	}
	h->pid = (pid_t)pid;
	memcpy(h->started, sp + 1, (size_t)(nl - sp));
}

/* root/lock, opened (made when missing) but not locked: its fd, or -errno; -EINVAL when
 * root or the file is a symbolic link, or the file is no regular file. Neither is followed:
 * both may come from a repository. *st is the file's. */
static int open_lock_file(const char *root, struct stat *st)
{
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		return errno == ENOTDIR || errno == ELOOP ? -EINVAL : -errno;
	}
	int fd = openat(dfd, "lock",
			O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	int err = errno;
	close(dfd);
	if (fd < 0) {
		return err == ELOOP || err == ENXIO || err == EISDIR ? -EINVAL : -err;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int record_lock(const char *root, uint64_t wait_ms, struct record_lock_holder *holder)
{
	memset(holder, 0, sizeof(*holder));
	/* With its .gitignore: a run stopped before its record is made (an unknown --stage)
	 * leaves the lock file, which `git status` is not to show. */
	int r = make_root(root);
	if (r < 0) {
		return r;
	}
	struct stat st;
	int fd = open_lock_file(root, &st);
	if (fd < 0) {
		return fd;
	}
	uint64_t deadline = now_mono_ms() + wait_ms;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		if (err != EWOULDBLOCK && err != EINTR) {
			close(fd);
			return -err;
		}
		uint64_t now = now_mono_ms();
		if (err == EWOULDBLOCK && now >= deadline) {
			read_holder(fd, holder);
			close(fd);
			return -EBUSY;
		}
		uint64_t ms = MIN(deadline - now, (uint64_t)LOCK_POLL_MS);
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* Ours: say who holds it. A file with other names (a hard link a repository cannot
	 * make, but a user might) is not written into. */
	if (st.st_nlink == 1) {
		char started[40], info[LOCK_INFO_MAX];
		format_rfc3339(now_real_ms(), started, sizeof(started));
		int n = snprintf(info, sizeof(info), "%ld %s\n", (long)getpid(), started);
		if (ftruncate(fd, 0) == 0 && n > 0 && (size_t)n < sizeof(info)) {
			ssize_t w = pwrite(fd, info, (size_t)n, 0);
			(void)w; /* only informative */
		}
	}
	return fd;
}

int record_create_run_dir(const char *root, record_id_fn gen, void *userdata, char **id_out)
{
	*id_out = NULL;
	int r = make_root(root);
	if (r < 0) {
		return r;
	}
	_cleanup_free_ char *runs = xasprintf("%s/runs", root);
	if (mkdir(runs, 0755) < 0 && errno != EEXIST) {
		return -errno;
	}
	/* mkdir() is the claim: it fails with EEXIST when another run (or anything else) made
	 * the directory first, so no two runs ever write into one record. */
	for (unsigned k = 0; k < RECORD_ID_TRIES; k++) {
		char *id = gen(userdata);
		_cleanup_free_ char *dir = xasprintf("%s/%s", runs, id);
		if (mkdir(dir, 0755) == 0) {
			*id_out = id;
			return 0;
		}
		int err = errno;
		free(id);
		if (err != EEXIST) {
			return -err;
		}
	}
	return -EEXIST;
}

int record_make_claimed_dir(const char *dir, const char *name, const char *content)
{
	const char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (!*base || str_eq(base, ".") || str_eq(base, "..")) {
		return -EINVAL;
	}
	_cleanup_free_ char *tmp =
		xasprintf("%.*s" RECORD_NEW_PREFIX "%s.XXXXXX", (int)(base - dir), dir, base);
	if (!mkdtemp(tmp)) {
		return -errno;
	}
	/* As mkdir(dir, 0755) made it (mkdtemp makes it 0700). */
	int r = chmod(tmp, 0755) < 0 ? -errno : 0;
	if (r == 0) {
		_cleanup_free_ char *path = xasprintf("%s/%s", tmp, name);
		r = write_file_replace(path, content, strlen(content), 0644); /* synced */
	}
	if (r == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EINVAL || r == -ENOSYS) {
			/* No RENAME_NOREPLACE here: the exclusive mkdir() is the claim, and only
			 * the empty directory it made is replaced. */
			r = mkdir(dir, 0755) < 0 ? -errno : 0;
			if (r == 0 && rename(tmp, dir) < 0) {
				r = -errno;
				rmdir(dir); /* ours, unless another wrote into it (then it stays) */
			}
		}
	}
	if (r < 0) {
		rm_rf(tmp);
	}
	return r;
}

int record_sweep_unclaimed(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d) {
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	}
	int n = 0, err = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, RECORD_NEW_PREFIX, strlen(RECORD_NEW_PREFIX)) != 0) {
			continue;
		}
		_cleanup_free_ char *path = xasprintf("%s/%s", parent, e->d_name);
		int r = rm_rf(path);
		if (r < 0 && err == 0) {
			err = r;
		}
		n += r == 0;
	}
	closedir(d);
	return err < 0 ? err : n;
}

int record_prepare(const char *root, const char *run_dir)
{
	int r = make_root(root);
	if (r < 0) {
		return r;
	}
	_cleanup_free_ char *logs = xasprintf("%s/logs", run_dir);
	return mkdir_p(logs, 0755);
}

static json_t *time_json(uint64_t ms)
{
	char buf[40];
	return ms ? json_string(format_rfc3339(ms, buf, sizeof(buf))) : json_null();
}

/* Security stages that ran get a SARIF log of their findings (or of their failure). */
static bool has_sarif(const struct stage_run *s)
{
	return s->def->kind && (s->def->kind->flags & STAGE_KIND_SECURITY) && s->n_attempts &&
	       s->status != STATUS_CANCELLED;
}

static int write_sarif(const struct run *r)
{
	char *prefix = NULL, *top = NULL;
	int ret = 0;
	for (size_t k = 0; k < r->n_stages && ret == 0; k++) {
		const struct stage_run *s = &r->stages[k];
		if (!s->selected || !has_sarif(s)) {
			continue;
		}
		if (!prefix && walk_repo_prefix(r->pipeline->dir, &prefix, &top) < 0) {
			prefix = xstrdup("");
			top = xstrdup(r->pipeline->dir);
		}
		_cleanup_free_ char *dir = xasprintf("%s/sarif", r->dir);
		_cleanup_free_ char *path = xasprintf("%s/%s.sarif", dir, s->def->name);
		_cleanup_free_ char *category =
			xasprintf("%s/%s/", r->pipeline->name, s->def->name);
		const char *err = json_string_value(json_object_get(s->result, "error"));
		struct sarif_run_info ri = {
			.tool_version = RUNNER_VERSION,
			.category = category,
			.uri_prefix = prefix,
			.srcroot = top,
			.execution_successful =
				s->status == STATUS_PASSED || s->status == STATUS_BLOCKED,
			.error_message = err ? err : s->message,
		};
		json_t *log = sarif_from_findings_json(json_object_get(s->result, "findings"), &ri);
		char *text = json_dumps(log, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(log);
		ret = text ? mkdir_p(dir, 0755) : -ENOMEM;
		if (ret == 0) {
			ret = write_file_atomic(path, text, strlen(text), 0644);
		}
		free(text);
	}
	free(prefix);
	free(top);
	return ret;
}

static json_t *stage_json(const struct run *r, const struct stage_run *s)
{
	const struct pstage *d = s->def;
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "kind", json_string(d->kind ? d->kind->name : "script"));
	json_object_set_new(o, "status", json_string(stage_status_name(s->status)));
	if (s->status == STATUS_SKIPPED) {
		json_object_set_new(o, "skip_reason", json_string(skip_reason_text(s->skip)));
	}
	json_object_set_new(o, "allowed_failure", json_boolean(s->allowed_failure));
	json_object_set_new(o, "message", s->message ? json_string(s->message) : json_null());
	json_t *needs = json_array();
	for (size_t k = 0; k < d->n_needs; k++) {
		json_array_append_new(needs, json_string(r->pipeline->stages[d->needs[k]]->name));
	}
	json_object_set_new(o, "needs", needs);

	const struct attempt *last = s->n_attempts ? &s->attempts[s->n_attempts - 1] : NULL;
	json_object_set_new(o, "exit_code",
			    last && last->exit_code >= 0 ? json_integer(last->exit_code)
							 : json_null());
	json_object_set_new(o, "signal", last && last->sig ? json_integer(last->sig) : json_null());
	json_object_set_new(o, "timed_out", json_boolean(last && last->timed_out));
	json_object_set_new(o, "started_at",
			    time_json(s->n_attempts ? s->attempts[0].started_ms : 0));
	json_object_set_new(o, "finished_at", time_json(last ? last->finished_ms : 0));
	uint64_t total = 0;
	json_t *atts = json_array();
	for (unsigned k = 0; k < s->n_attempts; k++) {
		const struct attempt *a = &s->attempts[k];
		total += a->duration_ms;
		json_array_append_new(
			atts,
			json_pack("{s:i, s:o, s:o, s:I, s:o, s:o, s:b}", "number", (int)k + 1,
				  "started_at", time_json(a->started_ms), "finished_at",
				  time_json(a->finished_ms), "duration_ms",
				  (json_int_t)a->duration_ms, "exit_code",
				  a->exit_code >= 0 ? json_integer(a->exit_code) : json_null(),
				  "signal", a->sig ? json_integer(a->sig) : json_null(),
				  "timed_out", (int)a->timed_out));
	}
	json_object_set_new(o, "duration_ms", json_integer((json_int_t)total));
	json_object_set_new(o, "attempts", atts);
	json_object_set_new(o, "log", s->log_written ? json_string(s->log_path) : json_null());
	json_object_set_new(o, "log_bytes_dropped", json_integer((json_int_t)s->log_dropped));
	json_t *outs = json_array();
	for (size_t k = 0; k < d->n_outputs; k++) {
		json_array_append_new(outs, json_string(d->outputs[k]));
	}
	json_object_set_new(o, "outputs", outs);
	json_t *secrets = json_array();
	for (size_t k = 0; k < d->n_secrets; k++) {
		json_array_append_new(secrets, json_string(d->secrets[k]));
	}
	json_object_set_new(o, "secrets", secrets);
	if (d->ungated) {
		json_object_set_new(o, "ungated", json_string(d->ungated));
	}
	if (!d->kind || (d->kind->flags & STAGE_KIND_SCRIPT)) {
		json_object_set_new(o, "shell", json_string(stage_shell_name(d->shell)));
	}
	json_object_set_new(o, "sandbox",
			    json_pack("{s:b, s:s}", "enabled", (int)s->sandboxed, "network",
				      s->network_host || !s->sandboxed ? "host" : "none"));
	if (s->result) {
		json_object_set(o, "result", s->result);
	}
	if (has_sarif(s)) {
		_cleanup_free_ char *sp = xasprintf("sarif/%s.sarif", d->name);
		json_object_set_new(o, "sarif", json_string(sp));
	}
	return o;
}

json_t *run_report_json(const struct run *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "schema", json_string(RECORD_REPORT_SCHEMA));
	json_object_set_new(o, "run_id", json_string(r->id));
	json_object_set_new(o, "runner_version", json_string(RUNNER_VERSION));
	json_object_set_new(
		o, "pipeline",
		json_pack("{s:s, s:s}", "name", r->pipeline->name, "file", r->pipeline->path));
	json_object_set_new(o, "workspace", json_string(r->pipeline->dir));
	json_object_set_new(o, "git",
			    json_pack("{s:s, s:s, s:s}", "commit", r->git.commit, "branch",
				      r->git.branch ? r->git.branch : "", "tag",
				      r->git.tag ? r->git.tag : ""));
	json_object_set_new(o, "event", json_string(r->event));
	json_object_set_new(o, "result", json_string(run_result_name(r->result)));
	json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	json_object_set_new(o, "signal", r->signal ? json_integer(r->signal) : json_null());
	if (r->error) {
		json_object_set_new(o, "error", json_string(r->error));
	}
	json_object_set_new(o, "started_at", time_json(r->started_ms));
	json_object_set_new(o, "finished_at", time_json(r->finished_ms));
	json_object_set_new(o, "duration_ms", json_integer((json_int_t)r->duration_ms));
	json_object_set_new(o, "options",
			    json_pack("{s:i, s:b, s:b}", "jobs", (int)r->jobs, "fail_fast",
				      (int)r->fail_fast, "no_sandbox", (int)r->no_sandbox));
	if (r->no_sandbox) {
		json_object_set_new(o, "warning",
				    json_string("--no-sandbox: every stage ran without isolation "
						"(local debugging only; not a valid CI result)"));
	}
	json_t *stages = json_array();
	unsigned counts[8] = { 0 };
	unsigned allowed = 0;
	for (size_t k = 0; k < r->pipeline->n_stages; k++) {
		/* Stages in file order; unselected stages (--stage) are not part of the run. */
		const struct stage_run *s = &r->stages[k];
		if (!s->selected) {
			continue;
		}
		counts[s->status]++;
		allowed += s->allowed_failure;
		json_array_append_new(stages, stage_json(r, s));
	}
	json_object_set_new(o, "stages", stages);
	json_t *sum = json_object();
	for (int st = STATUS_PASSED; st <= STATUS_CANCELLED; st++) {
		json_object_set_new(sum, stage_status_name((enum stage_status)st),
				    json_integer(counts[st]));
	}
	json_object_set_new(sum, "allowed_failures", json_integer(allowed));
	json_object_set_new(o, "summary", sum);
	return o;
}

/* XML text: escape markup, drop characters XML 1.0 cannot carry. Stage output is any
 * bytes (and a log tail may start inside a character): it is made valid UTF-8 first, and
 * U+FFFE and U+FFFF, which XML does not allow either, become '?'. */
static void xml_escape(struct sbuf *sb, const char *s)
{
	_cleanup_free_ char *u = utf8_sanitize(s, strlen(s));
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
			sbuf_putc(sb, '?');
			p += 2;
			continue;
		}
		switch (*p) {
		case '&':
			sbuf_puts(sb, "&amp;");
			break;
		case '<':
			sbuf_puts(sb, "&lt;");
			break;
		case '>':
			sbuf_puts(sb, "&gt;");
			break;
		case '"':
			sbuf_puts(sb, "&quot;");
			break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') {
				sbuf_putc(sb, '?');
			} else {
				sbuf_putc(sb, (char)*p);
			}
		}
	}
}

/*
 * How a stage reads in JUnit, as CI servers (Jenkins, GitLab) show it: the element that
 * says how its testcase ended, or NULL for a pass; *type (when type is not NULL) the value
 * of its `type` attribute, or NULL for none.
 *
 * An allowed failure is a <failure> (type `allowed-failure`): written as a pass, it would
 * vanish from every test view, while the run's own result stays what `allow-failure` made
 * it. A stage stopped while it ran did not finish: an <error> (type `cancelled`), as is one
 * cancelled while its retry waited (an attempt ran and failed; the message says so). One
 * that never ran (skipped, cancelled before it started, left pending) is <skipped>, whose
 * message says why; the schemas CI servers read give <skipped> only a message, no type.
 * Only a stage that passed is a pass: any other status (one that is not final, which the
 * engine never leaves when it writes the record) is an <error> of that status's type.
 */
static const char *junit_outcome(const struct stage_run *s, const char **type)
{
	const char *elem = NULL, *t = NULL;
	switch (s->status) {
	case STATUS_FAILED:
		elem = "failure";
		t = s->allowed_failure ? "allowed-failure" : "failed";
		break;
	case STATUS_ERROR:
	case STATUS_BLOCKED:
		elem = "error";
		t = stage_status_name(s->status);
		break;
	case STATUS_CANCELLED:
		if (s->n_attempts > 0) {
			elem = "error";
			t = "cancelled";
		} else {
			elem = "skipped";
		}
		break;
	case STATUS_SKIPPED:
	case STATUS_PENDING:
		elem = "skipped";
		break;
	case STATUS_PASSED:
		break;
	default:
		/* No final status (a stage written down while it ran): it did not pass. */
		elem = "error";
		t = stage_status_name(s->status);
		break;
	}
	if (type) {
		*type = t;
	}
	return elem;
}

/* The Ant schema's timestamp: an xs:dateTime restricted to YYYY-MM-DDTHH:MM:SS, without
 * fraction or zone. It is UTC, as every time the record holds. */
static const char *junit_timestamp(uint64_t real_ms, char *buf, size_t size)
{
	time_t t = (time_t)(real_ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, size, "1970-01-01T00:00:00");
	}
	return buf;
}

/* The end of stage s's log (its last JUNIT_LOG_TAIL bytes), or NULL when the stage printed
 * nothing or its log cannot be read. */
static char *junit_log_tail(const struct run *r, const struct stage_run *s)
{
	if (!s->log_written) {
		return NULL;
	}
	_cleanup_free_ char *path = xasprintf("%s/%s", r->dir, s->log_path);
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return NULL;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)JUNIT_LOG_TAIL ? size - (off_t)JUNIT_LOG_TAIL : 0;
	if (size < 0 || lseek(fd, from, SEEK_SET) < 0 ||
	    read_fd_capped(fd, JUNIT_LOG_TAIL, &buf, &len) < 0 || len == 0) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/* Whether s has nothing but blanks, which the schema's xs:token collapses to nothing. */
static bool junit_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

static void junit_property(struct sbuf *sb, const char *name, const char *value)
{
	sbuf_printf(sb, "      <property name=\"%s\" value=\"", name);
	xml_escape(sb, value ? value : "");
	sbuf_puts(sb, "\"/>\n");
}

/* Whether the outcome element of s's testcase carries the end of its log as its text (a
 * <failure> or <error>: a stage that ran and did not pass). */
static bool junit_outcome_has_log(const struct stage_run *s)
{
	const char *elem = junit_outcome(s, NULL);
	return elem && !str_eq(elem, "skipped");
}

/*
 * The ends of the stages' logs that junit.xml holds, escaped as written: text[k] for stage
 * k, NULL when it printed nothing or its log is left out (left_out[k], *n_left_out).
 * Together they stay within JUNIT_LOG_MAX bytes, counting each as often as it is written.
 * The stages that did not pass go first (their log says why, in their testcase and in
 * GitLab's and Jenkins' views of it), then the others, each in file order; a log that
 * does not fit in what is left is left out whole, and a later, shorter one may still fit.
 */
static void junit_pick_logs(const struct run *r, char **text, bool *left_out, size_t *n_left_out)
{
	size_t used = 0;
	*n_left_out = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < r->n_stages; k++) {
			const struct stage_run *s = &r->stages[k];
			bool twice = junit_outcome_has_log(s);
			if (!s->selected || twice != (pass == 0)) {
				continue;
			}
			_cleanup_free_ char *tail = junit_log_tail(r, s);
			if (!tail) {
				continue;
			}
			struct sbuf esc;
			sbuf_init(&esc, SIZE_MAX / 2);
			xml_escape(&esc, tail);
			/* Its part of <system-out>: a heading with its name and a last newline. */
			size_t cost = esc.len * (twice ? 2 : 1) + strlen(s->def->name) * 6 + 16;
			if (cost > JUNIT_LOG_MAX - used) {
				sbuf_release(&esc);
				left_out[k] = true;
				(*n_left_out)++;
				continue;
			}
			used += cost;
			text[k] = sbuf_steal(&esc);
		}
	}
}

/* The line that names the stages whose logs junit.xml leaves out, escaped. */
static void junit_left_out_line(struct sbuf *sb, const struct run *r, const bool *left_out,
				size_t n_left_out)
{
	sbuf_printf(sb, "log of stage%s ", n_left_out == 1 ? "" : "s");
	size_t said = 0;
	for (size_t k = 0; k < r->n_stages; k++) {
		if (left_out[k]) {
			sbuf_puts(sb, said++ ? ", " : "");
			xml_escape(sb, r->stages[k].def->name);
		}
	}
	sbuf_printf(sb,
		    " left out: junit.xml log cap of %u MiB reached; see the run record "
		    "(logs/)\n",
		    JUNIT_LOG_MAX >> 20);
}

/*
 * junit.xml, valid against the Ant JUnit schema (windyroad's JUnit.xsd; docs/report.md
 * says what it asks): in <testsuites>, each <testsuite> has an `id` (from 0) and a
 * `package`, a `hostname`, and its children in the order <properties>, <testcase>s,
 * <system-out>, <system-err>. A <testcase> holds nothing but its outcome, so the end of a
 * stage's log goes into the outcome's text (what GitLab shows of a failed test, Jenkins as
 * its stack trace) and, for every stage that printed something, into the suite's
 * <system-out> (Jenkins shows it for a testcase that has none of its own), within
 * JUNIT_LOG_MAX bytes in all (junit_pick_logs()): <system-out> names the stages whose logs
 * are left out, and their outcomes say where their logs are.
 */
char *record_junit(const struct run *r)
{
	struct sbuf sb;
	unsigned tests = 0, failures = 0, errors = 0, skipped = 0;
	sbuf_init(&sb, SIZE_MAX / 2);
	for (size_t k = 0; k < r->n_stages; k++) {
		const struct stage_run *s = &r->stages[k];
		if (!s->selected) {
			continue;
		}
		tests++;
		const char *elem = junit_outcome(s, NULL);
		failures += elem && str_eq(elem, "failure");
		errors += elem && str_eq(elem, "error");
		skipped += elem && str_eq(elem, "skipped");
	}
	const char *name = junit_blank(r->pipeline->name) ? "pipeline" : r->pipeline->name;
	char host[256], ts[40], code[16];
	if (gethostname(host, sizeof(host)) < 0) {
		host[0] = '\0';
	}
	host[sizeof(host) - 1] = '\0';
	sbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	sbuf_puts(&sb, "  <testsuite name=\"");
	xml_escape(&sb, name);
	sbuf_printf(&sb,
		    "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" "
		    "time=\"%.3f\" timestamp=\"%s\" id=\"0\" package=\"",
		    tests, failures, errors, skipped, (double)r->duration_ms / 1000.0,
		    junit_timestamp(r->started_ms, ts, sizeof(ts)));
	xml_escape(&sb, name);
	sbuf_puts(&sb, "\" hostname=\"");
	xml_escape(&sb, junit_blank(host) ? "localhost" : host);
	sbuf_puts(&sb, "\">\n");
	/* The run's own outcome, as report.json gives it: a run can be an error (exit 4) with
	 * every stage passed. */
	snprintf(code, sizeof(code), "%d", r->exit_code);
	sbuf_puts(&sb, "    <properties>\n");
	junit_property(&sb, "run_id", r->id);
	junit_property(&sb, "result", run_result_name(r->result));
	junit_property(&sb, "exit_code", code);
	junit_property(&sb, "runner_version", RUNNER_VERSION);
	junit_property(&sb, "event", r->event);
	junit_property(&sb, "commit", r->git.commit);
	junit_property(&sb, "branch", r->git.branch);
	junit_property(&sb, "tag", r->git.tag);
	sbuf_puts(&sb, "    </properties>\n");
	char **text = xcalloc(r->n_stages ? r->n_stages : 1, sizeof(*text));
	bool *left_out = xcalloc(r->n_stages ? r->n_stages : 1, sizeof(*left_out));
	size_t n_left_out;
	junit_pick_logs(r, text, left_out, &n_left_out);
	struct sbuf out;
	sbuf_init(&out, SIZE_MAX / 2);
	if (n_left_out) {
		junit_left_out_line(&out, r, left_out, n_left_out);
	}
	for (size_t k = 0; k < r->n_stages; k++) {
		const struct stage_run *s = &r->stages[k];
		if (!s->selected) {
			continue;
		}
		uint64_t dur = 0;
		for (unsigned a = 0; a < s->n_attempts; a++) {
			dur += s->attempts[a].duration_ms;
		}
		const char *tail = text[k];
		if (tail) {
			/* "==> name <==", as tail(1) heads each file's part. */
			sbuf_puts(&out, "==&gt; ");
			xml_escape(&out, s->def->name);
			sbuf_puts(&out, " &lt;==\n");
			sbuf_puts(&out, tail);
			if (tail[0] && tail[strlen(tail) - 1] != '\n') {
				sbuf_putc(&out, '\n');
			}
		}
		sbuf_puts(&sb, "    <testcase classname=\"");
		xml_escape(&sb, name);
		sbuf_puts(&sb, "\" name=\"");
		xml_escape(&sb, s->def->name);
		sbuf_printf(&sb, "\" time=\"%.3f\"", (double)dur / 1000.0);
		const char *type = NULL;
		const char *elem = junit_outcome(s, &type);
		if (!elem) {
			sbuf_puts(&sb, "/>\n");
			continue;
		}
		sbuf_printf(&sb, ">\n      <%s message=\"", elem);
		if (s->status == STATUS_FAILED && s->allowed_failure) {
			sbuf_puts(&sb, "allowed to fail: ");
		}
		xml_escape(&sb, s->message ? s->message : "");
		sbuf_putc(&sb, '"');
		if (type) {
			sbuf_printf(&sb, " type=\"%s\"", type);
		}
		if (tail && !str_eq(elem, "skipped")) {
			sbuf_putc(&sb, '>');
			sbuf_puts(&sb, tail);
			sbuf_printf(&sb, "</%s>\n", elem);
		} else if (left_out[k] && !str_eq(elem, "skipped")) {
			sbuf_printf(&sb, ">log left out: junit.xml log cap of %u MiB reached; see ",
				    JUNIT_LOG_MAX >> 20);
			xml_escape(&sb, s->log_path);
			sbuf_printf(&sb, " in the run record</%s>\n", elem);
		} else {
			sbuf_puts(&sb, "/>\n");
		}
		sbuf_puts(&sb, "    </testcase>\n");
	}
	for (size_t k = 0; k < r->n_stages; k++) {
		free(text[k]);
	}
	free(text);
	free(left_out);
	_cleanup_free_ char *outs = sbuf_steal(&out);
	sbuf_puts(&sb, "    <system-out>");
	sbuf_puts(&sb, outs);
	sbuf_puts(&sb, "</system-out>\n    <system-err>");
	if (r->error) {
		xml_escape(&sb, r->error);
		sbuf_putc(&sb, '\n');
	}
	sbuf_puts(&sb, "</system-err>\n  </testsuite>\n</testsuites>\n");
	return sbuf_steal(&sb);
}

void record_read_durations(const char *root, const struct pipeline *p, uint64_t *w)
{
	for (size_t i = 0; i < p->n_stages; i++) {
		w[i] = 1;
	}
	_cleanup_free_ char *path = xasprintf("%s/durations.json", root);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_regular_capped(path, DURATIONS_MAX, &buf, &len) < 0) {
		return;
	}
	json_error_t err;
	json_t *j = json_loadb(buf, len, 0, &err);
	if (!json_is_object(j)) {
		json_decref(j);
		return; /* a damaged cache only costs scheduling quality */
	}
	for (size_t i = 0; i < p->n_stages; i++) {
		json_t *v = json_object_get(j, p->stages[i]->name);
		if (json_is_integer(v) && json_integer_value(v) > 0) {
			w[i] = (uint64_t)json_integer_value(v);
		}
	}
	json_decref(j);
}

char *record_lock_holder_text(const struct record_lock_holder *h)
{
	if (!h->pid) {
		return xstrdup("another run");
	}
	if (!h->started[0]) {
		return xasprintf("another run (pid %ld)", (long)h->pid);
	}
	return xasprintf("another run (pid %ld, started at %s)", (long)h->pid, h->started);
}

/* root/lock, locked for the update of the files runs share: its fd, or -errno. It is
 * waited for, up to wait_ms: another run's update lets go within milliseconds, but a
 * `runner run` using this root (started by hand in the server's repos/<key>) holds it for
 * its whole run, and this run is not to hang on it unseen: -EBUSY then, with *why naming
 * the holder. */
static int lock_shared(const char *root, uint64_t wait_ms, char **why)
{
	struct record_lock_holder h;
	int fd = record_lock(root, 0, &h);
	if (fd == -EBUSY) {
		char waited[32];
		_cleanup_free_ char *who = record_lock_holder_text(&h);
		format_duration(wait_ms, waited, sizeof(waited));
		fprintf(stderr,
			"runner: %s holds %s/lock; waiting up to %s to update durations.json and "
			"runs/latest\n",
			who, root, waited);
		fd = record_lock(root, wait_ms, &h);
		if (fd == -EBUSY && why) {
			free(who);
			who = record_lock_holder_text(&h);
			*why = xasprintf("the run record is written, but durations.json and "
					 "runs/latest of %s are not updated: %s held the lock "
					 "%s/lock for longer than %s",
					 root, who, root, waited);
		}
	}
	return fd;
}

static int write_durations(const struct run *r, const char *root)
{
	_cleanup_free_ char *path = xasprintf("%s/durations.json", root);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	json_t *j = NULL;
	if (read_regular_capped(path, DURATIONS_MAX, &buf, &len) == 0) {
		json_error_t err;
		j = json_loadb(buf, len, 0, &err);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct stage_run *s = &r->stages[i];
		if (s->status == STATUS_PASSED && s->n_attempts) {
			uint64_t d = s->attempts[s->n_attempts - 1].duration_ms;
			json_object_set_new(j, s->def->name, json_integer((json_int_t)MAX(d, 1)));
		}
	}
	char *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!out) {
		return -ENOMEM;
	}
	/* What is there is replaced, never written into: the repository may hold a
	 * .runner/durations.json that is a link to a device or a FIFO. */
	int rr =
		strlen(out) <= DURATIONS_MAX ? write_file_replace(path, out, strlen(out), 0644) : 0;
	free(out);
	return rr;
}

#define LATEST_INFO_MAX 128

/* Whether runs/latest is to point at r: the newest run of root, the one that started last,
 * whatever run ends last. Runs of a `runner run`, which holds root's lock for its whole
 * run, go one at a time: each is the newest. Runs that share root and go at once (the
 * server's) are not: one that started earlier (an older push's, a slower fetch) and ends
 * later leaves latest where it is. runs/.latest-started says when the run latest points at
 * started ("<ms> <id>"); when it says nothing of that run (it is missing or names another),
 * r is the newest. */
static bool is_newest(const struct run *r, const char *root)
{
	if (r->lock_fd >= 0) {
		return true;
	}
	_cleanup_free_ char *latest = xasprintf("%s/runs/latest", root);
	_cleanup_free_ char *info = xasprintf("%s/runs/.latest-started", root);
	_cleanup_free_ char *buf = NULL;
	char target[LATEST_INFO_MAX];
	size_t len;
	ssize_t n = readlink(latest, target, sizeof(target) - 1);
	if (n <= 0 || read_regular_capped(info, LATEST_INFO_MAX, &buf, &len) < 0) {
		return true;
	}
	target[n] = '\0';
	char *sp = strchr(buf, ' '), *nl = strchr(buf, '\n');
	uint64_t ms;
	if (!sp || !nl || nl < sp) {
		return true;
	}
	*sp = *nl = '\0';
	if (parse_uint(buf, UINT64_MAX, &ms) < 0 || !str_eq(sp + 1, target)) {
		return true;
	}
	return r->started_ms >= ms;
}

/* runs/latest -> r's id, replaced atomically, when r is the newest run (is_newest()). */
static void write_latest(const struct run *r, const char *root)
{
	if (!is_newest(r, root)) {
		return;
	}
	_cleanup_free_ char *info = xasprintf("%s/runs/.latest-started", root);
	_cleanup_free_ char *text =
		xasprintf("%llu %s\n", (unsigned long long)r->started_ms, r->id);
	if (strlen(text) < LATEST_INFO_MAX) {
		write_file_replace(info, text, strlen(text), 0644);
	}
	_cleanup_free_ char *tmp = xasprintf("%s/runs/.latest-%s", root, r->id);
	_cleanup_free_ char *latest = xasprintf("%s/runs/latest", root);
	unlink(tmp);
	if (symlink(r->id, tmp) == 0 && rename(tmp, latest) < 0) {
		unlink(tmp);
	}
}

int record_write_report(const char *run_dir, const json_t *report)
{
	char *json = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!json) {
		return -ENOMEM;
	}
	_cleanup_free_ char *path = xasprintf("%s/report.json", run_dir);
	size_t len = strlen(json);
	json = xrealloc(json, len + 2);
	json[len] = '\n';
	json[len + 1] = '\0';
	int r = write_file_atomic(path, json, len + 1, 0644);
	free(json);
	return r;
}

int record_write_run_files(const struct run *r)
{
	int sr = write_sarif(r);
	if (sr < 0) {
		return sr;
	}
	json_t *rep = run_report_json(r);
	int ret = record_write_report(r->dir, rep);
	json_decref(rep);
	if (ret < 0) {
		return ret;
	}
	_cleanup_free_ char *junit = record_junit(r);
	_cleanup_free_ char *jpath = xasprintf("%s/junit.xml", r->dir);
	return write_file_atomic(jpath, junit, strlen(junit), 0644);
}

int record_write(const struct run *r, const char *root, char **why)
{
	if (why) {
		*why = NULL;
	}
	int ret = record_write_run_files(r);
	if (ret < 0) {
		return ret;
	}
	/* What runs of this root share is updated by one at a time: durations.json is read,
	 * changed and written back, and another run's update in between would be lost. A run
	 * that holds the lock already (`runner run`) has it for its whole run; others (the
	 * server's, whose runs of one repository go at once) take it for this update only. */
	int lock = r->lock_fd >= 0 ? -1
				   : lock_shared(root,
						 r->shared_wait_ms ? r->shared_wait_ms
								   : RECORD_SHARED_WAIT_MS,
						 why);
	if (lock < 0 && r->lock_fd < 0) {
		return lock;
	}
	write_durations(r, root);
	write_latest(r, root);
	if (lock >= 0) {
		close(lock);
	}
	return 0;
}
