/*
 * scan.c - the thread pool, file reading (read or mmap), content-based skips, and the
 * merge of per-thread findings and statistics.
 */
#include "scan.h"

#include "diag.h"
#include "sast.h"
#include "secrets.h"
#include "util.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "banned.h"

#define BINARY_PROBE 8000

unsigned scan_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0) {
			return (unsigned)n;
		}
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

struct shared {
	const struct scan_options *o;
	const struct walk_result *files;
	int root_fd;
	atomic_size_t next;
	atomic_int stop;
	pthread_mutex_t lock;
	int err;
	char msg[512];
};

struct worker {
	struct shared *sh;
	pthread_t tid;
	struct finding_list findings;
	struct scan_stats st;
	struct sast_scratch *sast;
	struct secrets_scratch *secrets;
	char *buf;
	size_t buf_cap;
};

static void set_error(struct shared *sh, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct shared *sh, int err, const char *fmt, ...)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->err == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(sh->msg, sizeof(sh->msg), fmt, ap);
		va_end(ap);
		sh->err = err;
	}
	pthread_mutex_unlock(&sh->lock);
	atomic_store(&sh->stop, 1);
}

/* Read a file: mapped when large. *mapped says which; the caller releases. */
static int load(struct worker *w, const struct walk_file *f, const char **data, size_t *len,
		bool *mapped)
{
	int fd = openat(w->sh->root_fd, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = errno ? -errno : -EINVAL;
		close(fd);
		return e;
	}
	size_t size = (size_t)st.st_size;
	uint64_t cap = w->sh->o->walk.max_file_size;
	if (cap && size > cap) {
		close(fd);
		return -EFBIG; /* it grew since the walk */
	}
	*mapped = false;
	if (size >= SCAN_MMAP_THRESHOLD) {
		void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			madvise(p, size, MADV_SEQUENTIAL);
			close(fd);
			*data = p;
			*len = size;
			*mapped = true;
			return 0;
		}
	}
	if (size + 1 > w->buf_cap) {
		w->buf_cap = size + 1;
		free(w->buf);
		w->buf = xmalloc(w->buf_cap);
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, w->buf + got, size - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0) {
			break; /* it shrank: scan what is there */
		}
		got += (size_t)n;
	}
	close(fd);
	*data = w->buf;
	*len = got;
	return 0;
}

/* What a file is reported as (heap): its path, or with blob_names its directory. */
static char *reported_as(const struct scan_options *o, const char *path)
{
	const char *slash = o->blob_names ? strrchr(path, '/') : NULL;
	return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(path);
}

static bool allow_listed(const struct scan_options *o, const char *path)
{
	if (o->not_allowed && o->not_allowed(o->not_allowed_ud, path)) {
		return false;
	}
	for (size_t i = 0; i < o->n_allow_paths; i++) {
		if (fnmatch(o->allow_paths[i], path, 0) == 0) {
			return true;
		}
	}
	return false;
}

static int cmp_listed(const void *key, const void *elem)
{
	return strcmp(key, ((const struct walk_file *)elem)->path);
}

/*
 * A file that a file being scanned for secrets names (a kustomization's secretGenerator
 * files; secrets_read_fn): read only when it is one this scan reads itself, listed by the
 * walk (below the root, reached through no link, not ignored or excluded) and not
 * allowlisted, and opened as load() opens it. Anything else is -ENOENT: a file the scan
 * leaves alone is not read through another either.
 */
static int read_listed(void *ud, const char *path, size_t max, char **data, size_t *len)
{
	const struct shared *sh = ud;
	if (!bsearch(path, sh->files->files, sh->files->n, sizeof(*sh->files->files), cmp_listed) ||
	    allow_listed(sh->o, path)) {
		return -ENOENT;
	}
	_cleanup_close_ int fd = openat(sh->root_fd, path,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -ENOENT;
	}
	if ((uint64_t)st.st_size > max) {
		return -EFBIG;
	}
	return read_fd_capped(fd, max, data, len);
}

/* Add the counts both engines keep for a file to the thread's statistics. */
static void file_stats(struct worker *w, const char *path, size_t regex_limits, size_t truncated,
		       size_t no_reason, unsigned first_no_reason_line, size_t too_many_ids,
		       unsigned first_too_many_ids_line)
{
	w->st.regex_limits += regex_limits;
	w->st.truncated += truncated;
	if (no_reason && !w->st.no_reason) {
		snprintf(w->st.first_no_reason, sizeof(w->st.first_no_reason), "%s:%u", path,
			 first_no_reason_line);
	}
	w->st.no_reason += no_reason;
	if (too_many_ids && !w->st.too_many_ids) {
		snprintf(w->st.first_too_many_ids, sizeof(w->st.first_too_many_ids), "%s:%u", path,
			 first_too_many_ids_line);
	}
	w->st.too_many_ids += too_many_ids;
}

/*
 * UTF-16 text (a byte order mark first: Windows tools write PowerShell scripts, .reg and
 * some config files so) has a NUL in every other byte and would be skipped as binary: it
 * is converted to UTF-8 for the secrets scan, line for line (a newline stays a newline),
 * unpaired surrogates becoming U+FFFD. Returns a heap buffer (*out_len) or NULL when data
 * is not UTF-16 with a mark.
 */
static char *utf16_to_utf8(const char *data, size_t len, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)data;
	bool le = len >= 2 && p[0] == 0xFF && p[1] == 0xFE;
	bool be = len >= 2 && p[0] == 0xFE && p[1] == 0xFF;
	if (!le && !be) {
		return NULL;
	}
	size_t units = (len - 2) / 2;
	char *out = xmalloc(units * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < units; i++) {
		const unsigned char *u = p + 2 + 2 * i;
		uint32_t c = le ? (uint32_t)(u[0] | u[1] << 8) : (uint32_t)(u[0] << 8 | u[1]);
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
			const unsigned char *v = u + 2;
			uint32_t d =
				le ? (uint32_t)(v[0] | v[1] << 8) : (uint32_t)(v[0] << 8 | v[1]);
			if (d >= 0xDC00 && d <= 0xDFFF) {
				c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
				i++;
			}
		}
		if (c >= 0xD800 && c <= 0xDFFF) {
			c = 0xFFFD;
		}
		if (c == 0) {
			c = 0xFFFD; /* no NUL in what is scanned */
		}
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xC0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xE0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | c >> 18);
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static void scan_one(struct worker *w, const struct walk_file *f)
{
	const struct scan_options *o = w->sh->o;
	bool sast = ruleset_kind(o->rules) == RULE_SAST;
	enum lang lang = LANG_NONE;
	const char *base = strrchr(f->path, '/');
	base = base ? base + 1 : f->path;
	if (sast) {
		lang = lang_detect(f->path, NULL, 0);
		if (lang == LANG_NONE && strchr(base, '.') && !str_has_suffix(base, ".in")) {
			w->st.skipped[SKIP_UNSUPPORTED]++;
			return;
		}
	} else if (allow_listed(o, f->path)) {
		w->st.skipped[SKIP_ALLOWLISTED]++;
		return;
	}
	const char *data = NULL;
	size_t len = 0;
	bool mapped = false;
	int r = load(w, f, &data, &len, &mapped);
	if (r < 0) {
		set_error(w->sh, r, "cannot read %s: %s", f->path, strerror(-r));
		return;
	}
	_cleanup_free_ char *utf8 = NULL;
	if (!sast) {
		size_t ulen = 0;
		utf8 = utf16_to_utf8(data, len, &ulen);
		if (utf8) {
			if (mapped) {
				munmap((void *)data, len);
				mapped = false;
			}
			data = utf8;
			len = ulen;
		}
	}
	if (memchr(data, '\0', MIN(len, (size_t)BINARY_PROBE))) {
		w->st.skipped[SKIP_BINARY]++;
		goto out;
	}
	if (!o->walk.scan_generated && walk_generated_content(data, len) &&
	    !walk_must_scan(&o->walk, f->path, false)) {
		w->st.skipped[SKIP_GENERATED]++;
		goto out;
	}
	if (sast && lang == LANG_NONE) {
		lang = lang_detect(f->path, data, MIN(len, (size_t)256));
		if (lang == LANG_NONE) {
			w->st.skipped[SKIP_UNSUPPORTED]++;
			goto out;
		}
	}
	if (sast) {
		struct sast_file_stats fs = { 0 };
		r = sast_scan(w->sast, f->path, lang, data, len, &w->findings, &fs);
		if (r == -E2BIG) {
			w->st.skipped[SKIP_TOO_COMPLEX]++;
			goto out;
		}
		if (r < 0) {
			set_error(w->sh, r, "cannot scan %s: %s", f->path, strerror(-r));
			goto out;
		}
		w->st.by_lang[lang]++;
		w->st.tokens += fs.tokens;
		w->st.budget_exceeded += fs.budget_exceeded;
		file_stats(w, f->path, fs.regex_limits, fs.truncated, fs.no_reason,
			   fs.first_no_reason_line, fs.too_many_ids, fs.first_too_many_ids_line);
	} else {
		struct secrets_file_stats fs = { 0 };
		struct secrets_allowlist al = { o->allow_regex, o->n_allow_regex };
		_cleanup_free_ char *as = reported_as(o, f->path);
		secrets_scan_named(w->secrets, as, f->path, data, len, &al, &w->findings, &fs);
		file_stats(w, as, fs.regex_limits, fs.truncated, fs.no_reason,
			   fs.first_no_reason_line, fs.too_many_ids, fs.first_too_many_ids_line);
		if (fs.k8s_unparsed && !w->st.k8s_unparsed) {
			snprintf(w->st.first_k8s_unparsed, sizeof(w->st.first_k8s_unparsed),
				 "%s:%u", as, fs.first_k8s_unparsed_line);
		}
		w->st.k8s_unparsed += fs.k8s_unparsed;
	}
	w->st.files_scanned++;
	w->st.bytes_scanned += len;
	if (w->findings.n > SCAN_MAX_FINDINGS) {
		set_error(w->sh, -E2BIG, "more than %d findings: refusing to go on",
			  SCAN_MAX_FINDINGS);
	}
out:
	if (mapped) {
		munmap((void *)data, len);
	}
}

/* The most severe of the rules: what a file none of them was run on could hide. */
static enum severity worst_severity(const struct ruleset *rs)
{
	enum severity worst = SEVERITY_HIGH;
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		worst = MAX(worst, ruleset_rule(rs, i)->severity);
	}
	return worst;
}

/*
 * Secrets: a file above the size cap is not read, and a secret in it must not pass for
 * that (padding a file past the cap would hide a key). Binary and generated files are
 * skipped as they would be at any size (by their first bytes); any other is reported as a
 * finding at the severity of the most severe rule, unless its path is allowlisted. Returns
 * 0 or -errno (a file that cannot be read is an error, as in the scan itself).
 */
/* SHA-256 of a file's bytes, hex, read in pieces (a file too large to scan can be any
 * size). 0 or -errno. */
static int hash_file(int root_fd, const char *path, char out[65])
{
	int fd = openat(root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx) {
		abort();
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	enum { CHUNK = 1 << 20 };
	char *buf = xmalloc(CHUNK);
	int r = 0;
	for (;;) {
		ssize_t k = read(fd, buf, CHUNK);
		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			r = k < 0 ? -errno : 0;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)k);
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	if (r == 0) {
		hex_encode(md, sizeof(md), out);
	}
	return r;
}

static int report_too_large(const struct scan_options *o, int root_fd,
			    const struct walk_result *files, struct finding_list *out,
			    struct scan_stats *st, char *err, size_t errlen)
{
	char head[BINARY_PROBE];
	for (size_t i = 0; i < files->n_large; i++) {
		const struct walk_file *lf = &files->large[i];
		if (allow_listed(o, lf->path)) {
			st->skipped[SKIP_TOO_LARGE]--;
			st->skipped[SKIP_ALLOWLISTED]++;
			continue;
		}
		enum walk_skip reason = SKIP_TOO_LARGE;
		size_t n = 0;
		int fd = openat(root_fd, lf->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		int e = fd < 0 ? errno : 0;
		while (fd >= 0 && n < sizeof(head)) {
			ssize_t k = read(fd, head + n, sizeof(head) - n);
			if (k < 0 && errno == EINTR) {
				continue;
			}
			if (k <= 0) {
				e = k < 0 ? errno : 0;
				break;
			}
			n += (size_t)k;
		}
		if (fd >= 0) {
			close(fd);
		}
		if (e) {
			return errf(err, errlen, -e, "cannot read %s: %s", lf->path, strerror(e));
		}
		if (memchr(head, '\0', n)) {
			reason = SKIP_BINARY;
		} else if (!o->walk.scan_generated && walk_generated_content(head, n) &&
			   !walk_must_scan(&o->walk, lf->path, false)) {
			reason = SKIP_GENERATED;
		}
		if (reason != SKIP_TOO_LARGE) {
			st->skipped[SKIP_TOO_LARGE]--;
			st->skipped[reason]++;
			continue;
		}
		/* Its fingerprint covers its content: accepting it accepts these bytes only. */
		char sha[65];
		int hr = hash_file(root_fd, lf->path, sha);
		if (hr < 0) {
			return errf(err, errlen, hr, "cannot read %s: %s", lf->path, strerror(-hr));
		}
		struct finding *f = finding_list_add(out);
		f->kind = FINDING_SECRET;
		finding_set(&f->rule_id, SCAN_TOO_LARGE_RULE);
		finding_set(&f->title, "File too large to scan for secrets");
		f->severity = worst_severity(o->rules);
		finding_set(&f->confidence, "high");
		f->file = reported_as(o, lf->path);
		f->line = f->end_line = 1;
		f->column = f->end_column = 1;
		f->message = xasprintf(
			"this file (%llu bytes) is larger than the secrets scan "
			"reads (max-file-size %llu bytes), so it was not scanned and "
			"a secret in it would pass unseen",
			(unsigned long long)lf->size, (unsigned long long)o->walk.max_file_size);
		finding_set(&f->fix, "raise the stage's max-file-size, or, if the file is known "
				     "to hold no secret, exclude it or list it in the allowlist's "
				     "paths");
		f->extra = json_pack("{s:b,s:I}", "too_large", 1, "size", (json_int_t)lf->size);
		finding_fingerprint_file(f, "runner:too-large", sha);
	}
	return 0;
}

/* Whether text, quoted from the file at path, holds something the default secrets rules
 * find (read as that file's text: some forms are read in a YAML file only). */
static bool holds_secret(struct secrets_scratch *sc, const char *path, const char *text)
{
	if (!text || !*text) {
		return false;
	}
	struct finding_list fl;
	finding_list_init(&fl);
	struct secrets_file_stats fs = { 0 };
	secrets_scan(sc, path && *path ? path : "snippet", text, strlen(text), NULL, &fl, &fs);
	bool found = fl.n > 0;
	finding_list_release(&fl);
	return found;
}

/*
 * A SAST finding quotes the code it matched (the snippet, and the rule's message through
 * its metavariables): when that holds a secret (a token on the line of a `verify=False`),
 * it is withheld there, so that the secret does not travel into reports, SARIF, logs and
 * notifications through the SAST stage. The secrets stage reports it in its own, redacted
 * form. Returns 0 or -errno (the default secrets rules would not load).
 */
static int withhold_secrets(struct finding_list *fl, size_t first)
{
	struct ruleset *rs = ruleset_new(RULE_SECRET);
	struct diag_list dl;
	diag_list_init(&dl, 4);
	int r = ruleset_load_defaults(rs, &dl);
	if (r == 0) {
		ruleset_finish(rs, &dl);
		r = dl.errors ? -EINVAL : 0;
	}
	diag_list_release(&dl);
	struct secrets_scratch *sc = r == 0 ? secrets_scratch_new(rs) : NULL;
	for (size_t i = first; sc && i < fl->n; i++) {
		struct finding *f = &fl->v[i];
		if (holds_secret(sc, f->file, f->snippet)) {
			finding_set(&f->snippet, "(withheld: the line holds a secret; see the "
						 "secrets scan)");
		}
		if (holds_secret(sc, f->file, f->message)) {
			char *m = xasprintf("%s (the matched text is withheld: it holds a secret)",
					    f->title	 ? f->title
					    : f->rule_id ? f->rule_id
							 : "");
			free(f->message);
			f->message = m;
		}
	}
	secrets_scratch_free(sc);
	ruleset_free(rs);
	return r;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	const struct scan_options *o = sh->o;
	while (!atomic_load(&sh->stop)) {
		size_t i = atomic_fetch_add(&sh->next, 1);
		if (i >= sh->files->n) {
			break;
		}
		if (o->deadline_ms && now_mono_ms() > o->deadline_ms) {
			set_error(sh, -ETIMEDOUT,
				  "the scan did not finish in time (%zu of %zu files done)", i,
				  sh->files->n);
			break;
		}
		scan_one(w, &sh->files->files[i]);
	}
	return NULL;
}

static int cmp_file_fingerprint(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	return c ? c
		 : strcmp(x->fingerprint ? x->fingerprint : "",
			  y->fingerprint ? y->fingerprint : "");
}

/* With blob_names, content read under two names finds what both read alike twice: of the
 * findings out[first..] with the same file (the blob) and fingerprint (the same rule, match
 * and occurrence), one is kept. */
static void drop_repeats(struct finding_list *out, size_t first)
{
	if (out->n - first < 2) {
		return;
	}
	qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_file_fingerprint);
	size_t w = first + 1;
	for (size_t i = first + 1; i < out->n; i++) {
		if (out->v[i].fingerprint &&
		    cmp_file_fingerprint(&out->v[i], &out->v[w - 1]) == 0) {
			finding_release(&out->v[i]);
		} else {
			out->v[w++] = out->v[i];
		}
	}
	out->n = w;
}

int scan_run(const struct scan_options *o, struct finding_list *out, struct scan_stats *st,
	     char *err, size_t errlen)
{
	uint64_t t0 = now_mono_ms();
	size_t first_out = out->n;
	memset(st, 0, sizeof(*st));
	st->rules = ruleset_count(o->rules);
	struct walk_result files;
	struct walk_options wo = o->walk;
	wo.keep_too_large = ruleset_kind(o->rules) == RULE_SECRET;
	/* A secrets scan of a tree without an index (and without an export's list) does not
	 * read .gitignore: a key committed with --force lies where .gitignore points. */
	wo.gitignore_needs_index |= ruleset_kind(o->rules) == RULE_SECRET;
	int r = walk_run(&wo, &files, err, errlen);
	if (r < 0) {
		return r;
	}
	for (int k = 0; k < SKIP_COUNT; k++) {
		st->skipped[k] = files.skipped[k];
	}
	struct shared sh = { .o = o, .files = &files, .root_fd = -1 };
	pthread_mutex_init(&sh.lock, NULL);
	sh.root_fd = open(o->walk.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sh.root_fd < 0) {
		int e = errno;
		errf(err, errlen, 0, "cannot open %s: %s", o->walk.root, strerror(e));
		walk_result_release(&files);
		return -e;
	}
	r = report_too_large(o, sh.root_fd, &files, out, st, err, errlen);
	if (r < 0) {
		close(sh.root_fd);
		pthread_mutex_destroy(&sh.lock);
		walk_result_release(&files);
		return r;
	}
	unsigned jobs = o->jobs ? o->jobs : scan_cpus();
	jobs = MIN(jobs, (unsigned)SCAN_MAX_JOBS);
	if (files.n < jobs) {
		jobs = files.n ? (unsigned)files.n : 1;
	}
	struct worker *ws = xcalloc(jobs, sizeof(*ws));
	unsigned started = 0;
	for (unsigned i = 0; i < jobs; i++) {
		struct worker *w = &ws[i];
		w->sh = &sh;
		finding_list_init(&w->findings);
		if (ruleset_kind(o->rules) == RULE_SAST) {
			w->sast = sast_scratch_new(o->rules);
		} else {
			w->secrets = secrets_scratch_new(o->rules);
			secrets_scratch_set_reader(w->secrets, read_listed, &sh);
		}
	}
	/* The first worker runs on this thread. */
	for (unsigned i = 1; i < jobs; i++) {
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			break;
		}
		started++;
	}
	worker_main(&ws[0]);
	for (unsigned i = 1; i <= started; i++) {
		pthread_join(ws[i].tid, NULL);
	}
	st->threads = started + 1;
	for (unsigned i = 0; i < jobs; i++) {
		struct worker *w = &ws[i];
		st->files_scanned += w->st.files_scanned;
		st->bytes_scanned += w->st.bytes_scanned;
		for (int k = 0; k < SKIP_COUNT; k++) {
			st->skipped[k] += w->st.skipped[k];
		}
		for (int l = 0; l < LANG_COUNT; l++) {
			st->by_lang[l] += w->st.by_lang[l];
		}
		st->tokens += w->st.tokens;
		st->budget_exceeded += w->st.budget_exceeded;
		st->regex_limits += w->st.regex_limits;
		st->truncated += w->st.truncated;
		if (w->st.no_reason && !st->no_reason) {
			snprintf(st->first_no_reason, sizeof(st->first_no_reason), "%s",
				 w->st.first_no_reason);
		}
		st->no_reason += w->st.no_reason;
		if (w->st.too_many_ids && !st->too_many_ids) {
			snprintf(st->first_too_many_ids, sizeof(st->first_too_many_ids), "%s",
				 w->st.first_too_many_ids);
		}
		st->too_many_ids += w->st.too_many_ids;
		if (w->st.k8s_unparsed && !st->k8s_unparsed) {
			snprintf(st->first_k8s_unparsed, sizeof(st->first_k8s_unparsed), "%s",
				 w->st.first_k8s_unparsed);
		}
		st->k8s_unparsed += w->st.k8s_unparsed;
		for (size_t k = 0; k < w->findings.n; k++) {
			*finding_list_add(out) = w->findings.v[k];
		}
		free(w->findings.v);
		sast_scratch_free(w->sast);
		secrets_scratch_free(w->secrets);
		free(w->buf);
	}
	free(ws);
	close(sh.root_fd);
	pthread_mutex_destroy(&sh.lock);
	walk_result_release(&files);
	if (o->blob_names) {
		drop_repeats(out, first_out);
	}
	if (!sh.err && ruleset_kind(o->rules) == RULE_SAST && out->n > first_out) {
		r = withhold_secrets(out, first_out);
		if (r < 0) {
			sh.err = r;
			snprintf(sh.msg, sizeof(sh.msg), "cannot load the secrets rules");
		}
	}
	st->duration_ms = now_mono_ms() - t0;
	if (sh.err) {
		return errf(err, errlen, sh.err, "%s", sh.msg);
	}
	return 0;
}

json_t *scan_stats_json(const struct scan_stats *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "files_scanned", json_integer((json_int_t)st->files_scanned));
	json_object_set_new(o, "bytes_scanned", json_integer((json_int_t)st->bytes_scanned));
	json_t *sk = json_object();
	size_t total = 0;
	for (int k = 0; k < SKIP_COUNT; k++) {
		json_object_set_new(sk, walk_skip_name((enum walk_skip)k),
				    json_integer((json_int_t)st->skipped[k]));
		total += st->skipped[k];
	}
	json_object_set_new(o, "files_skipped", json_integer((json_int_t)total));
	json_object_set_new(o, "skipped", sk);
	json_t *langs = json_object();
	for (int l = 1; l < LANG_COUNT; l++) {
		if (st->by_lang[l]) {
			json_object_set_new(langs, lang_name((enum lang)l),
					    json_integer((json_int_t)st->by_lang[l]));
		}
	}
	json_object_set_new(o, "languages", langs);
	json_object_set_new(o, "rules", json_integer((json_int_t)st->rules));
	json_object_set_new(o, "threads", json_integer(st->threads));
	json_object_set_new(o, "duration_ms", json_integer((json_int_t)st->duration_ms));
	json_object_set_new(o, "match_budget_exceeded",
			    json_integer((json_int_t)st->budget_exceeded));
	json_object_set_new(o, "regex_limits", json_integer((json_int_t)st->regex_limits));
	json_object_set_new(o, "findings_truncated", json_integer((json_int_t)st->truncated));
	json_object_set_new(o, "kubernetes_not_yaml", json_integer((json_int_t)st->k8s_unparsed));
	json_t *notes = json_array();
	if (st->no_reason) {
		char buf[600];
		snprintf(buf, sizeof(buf),
			 "%zu finding%s under a runner:ignore comment without a reason (first at "
			 "%s) %s not suppressed: write `runner:ignore RULE -- reason`",
			 st->no_reason, st->no_reason == 1 ? "" : "s", st->first_no_reason,
			 st->no_reason == 1 ? "was" : "were");
		json_array_append_new(notes, json_string(buf));
	}
	if (st->too_many_ids) {
		char buf[600];
		snprintf(buf, sizeof(buf),
			 "%zu finding%s under a runner:ignore comment of more than %d ids or %d "
			 "bytes of them (first at %s) %s not suppressed: such a comment suppresses "
			 "nothing; name at most %d rules in one",
			 st->too_many_ids, st->too_many_ids == 1 ? "" : "s", FINDING_IGNORE_MAX_IDS,
			 FINDING_IGNORE_MAX_ID_BYTES, st->first_too_many_ids,
			 st->too_many_ids == 1 ? "was" : "were", FINDING_IGNORE_MAX_IDS);
		json_array_append_new(notes, json_string(buf));
	}
	if (st->budget_exceeded || st->regex_limits) {
		char buf[300];
		snprintf(buf, sizeof(buf),
			 "%zu pattern and %zu regex evaluations hit their step limits and were "
			 "given up (each rule that gave up on a file reports it as a finding)",
			 st->budget_exceeded, st->regex_limits);
		json_array_append_new(notes, json_string(buf));
	}
	if (st->k8s_unparsed) {
		char buf[600];
		snprintf(buf, sizeof(buf),
			 "%zu document%s with a kind: Secret line (first at %s) %s not YAML: "
			 "the Kubernetes Secret rule did not read %s (the line rules did)",
			 st->k8s_unparsed, st->k8s_unparsed == 1 ? "" : "s", st->first_k8s_unparsed,
			 st->k8s_unparsed == 1 ? "is" : "are",
			 st->k8s_unparsed == 1 ? "it" : "them");
		json_array_append_new(notes, json_string(buf));
	}
	if (st->truncated) {
		char buf[200];
		snprintf(buf, sizeof(buf),
			 "%zu findings beyond the per-file caps were not reported", st->truncated);
		json_array_append_new(notes, json_string(buf));
	}
	json_object_set_new(o, "notes", notes);
	return o;
}
