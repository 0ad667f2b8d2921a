/*
 * deps.c - the lockfile front end: formats and file names, the package list, parsing a
 * file or buffer with the right parser, walking directories, and the helpers the parsers
 * share (parsers.h).
 */
#include "deps.h"

#include "arena.h"
#include "diag.h"
#include "hmap.h"
#include "parsers.h"
#include "sbuf.h"
#include "util.h"
#include "walk.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "banned.h"

static const struct {
	const char *name;
	int (*parse)(struct dep_ctx *c, const char *buf, size_t len);
} formats[DEP_FORMAT_COUNT] = {
	[DEP_NPM_LOCK] = { "npm", parse_npm_lock },
	[DEP_YARN_LOCK] = { "yarn", parse_yarn_lock },
	[DEP_PNPM_LOCK] = { "pnpm", parse_pnpm_lock },
	[DEP_REQUIREMENTS] = { "pip", parse_requirements },
	[DEP_POETRY_LOCK] = { "poetry", parse_poetry_lock },
	[DEP_PIPFILE_LOCK] = { "pipenv", parse_pipfile_lock },
	[DEP_GO_MOD] = { "go", parse_go_mod },
	[DEP_CARGO_LOCK] = { "cargo", parse_cargo_lock },
	[DEP_GEMFILE_LOCK] = { "bundler", parse_gemfile_lock },
	[DEP_COMPOSER_LOCK] = { "composer", parse_composer_lock },
	[DEP_POM_XML] = { "maven", parse_pom_xml },
	[DEP_GRADLE_LOCK] = { "gradle", parse_gradle_lock },
	[DEP_NUGET_LOCK] = { "nuget", parse_nuget_lock },
	[DEP_CONAN_LOCK] = { "conan", parse_conan_lock },
	[DEP_PUBSPEC_LOCK] = { "pub", parse_pubspec_lock },
	[DEP_MIX_LOCK] = { "mix", parse_mix_lock },
	[DEP_UV_LOCK] = { "uv", parse_uv_lock },
	[DEP_BUN_LOCK] = { "bun", parse_bun_lock },
};

const char *dep_format_name(enum dep_format f)
{
	return (unsigned)f < DEP_FORMAT_COUNT ? formats[f].name : "unknown";
}

int dep_format_parse(const char *name, enum dep_format *out)
{
	for (unsigned i = 0; i < DEP_FORMAT_COUNT; i++) {
		if (str_eq(name, formats[i].name)) {
			*out = (enum dep_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * pip's requirements files go by many names, which pip itself does not care about: any
 * *.txt whose name says "requirements" (requirements.txt, requirements-dev.txt,
 * dev-requirements.txt, test-requirements.txt) and any *.txt directly inside a directory
 * named requirements (requirements/base.txt, requirements/production.txt, as
 * cookiecutter-django lays them out). dir is the name of the directory the file is in,
 * NULL when unknown.
 *
 * In any case (Requirements.txt, requirements-DEV.txt, REQUIREMENTS/base.TXT): pip reads
 * whatever path it is given, these names are a convention people type, and on the
 * case-insensitive file systems of macOS and Windows any case works and is committed so.
 * A requirements file that the scan passed over would let its packages pass unchecked.
 * (The other lockfiles keep the one name their tools write and read: below.)
 */
static bool requirements_file(const char *dir, const char *base)
{
	size_t n = strlen(base);
	return n >= 4 && strcasecmp(base + n - 4, ".txt") == 0 &&
	       (strcasestr(base, "requirements") || (dir && strcasecmp(dir, "requirements") == 0));
}

/* The format of the file base in the directory named dir (NULL: unknown), or -ENOENT.
 * Lockfiles other than pip's are matched in the case their tools give them: npm, yarn,
 * Cargo, Bundler, the go command... write these names and read no other on Linux
 * (`Cargo.lock`, never `cargo.lock`), so a file in another case is not theirs. */
static int detect_in(const char *dir, const char *base, enum dep_format *out)
{
	static const struct {
		const char *pattern;
		enum dep_format f;
	} names[] = {
		{ "package-lock.json", DEP_NPM_LOCK },
		{ "npm-shrinkwrap.json", DEP_NPM_LOCK },
		{ "yarn.lock", DEP_YARN_LOCK },
		{ "pnpm-lock.yaml", DEP_PNPM_LOCK },
		{ "poetry.lock", DEP_POETRY_LOCK },
		{ "Pipfile.lock", DEP_PIPFILE_LOCK },
		{ "go.mod", DEP_GO_MOD },
		{ "Cargo.lock", DEP_CARGO_LOCK },
		{ "Gemfile.lock", DEP_GEMFILE_LOCK },
		{ "gems.locked", DEP_GEMFILE_LOCK },
		{ "composer.lock", DEP_COMPOSER_LOCK },
		{ "pom.xml", DEP_POM_XML },
		{ "gradle.lockfile", DEP_GRADLE_LOCK },
		{ "buildscript-gradle.lockfile", DEP_GRADLE_LOCK },
		{ "packages.lock.json", DEP_NUGET_LOCK },
		{ "conan.lock", DEP_CONAN_LOCK },
		{ "pubspec.lock", DEP_PUBSPEC_LOCK },
		{ "mix.lock", DEP_MIX_LOCK },
		{ "uv.lock", DEP_UV_LOCK },
		{ "bun.lock", DEP_BUN_LOCK },
	};
	if (requirements_file(dir, base)) {
		*out = DEP_REQUIREMENTS;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (fnmatch(names[i].pattern, base, 0) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -ENOENT;
}

int dep_format_detect_in(const char *dir, const char *base, enum dep_format *out)
{
	return detect_in(dir, base, out);
}

int dep_format_detect(const char *filename, enum dep_format *out)
{
	const char *base = strrchr(filename, '/');
	if (!base) {
		return detect_in(NULL, filename, out);
	}
	const char *dir = base;
	while (dir > filename && dir[-1] != '/') {
		dir--;
	}
	_cleanup_free_ char *dname = xstrndup(dir, (size_t)(base - dir));
	return detect_in(dname, base + 1, out);
}

/*
 * The name of the directory at path as detect_in() reads it: its last component as
 * written, or, when that says nothing ("", "." or "..": the current directory, its
 * parent, the root), the last component of its real path. Heap; NULL when it has none.
 */
static char *dir_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	if (*last && !str_eq(last, ".") && !str_eq(last, "..")) {
		return xstrdup(last);
	}
	_cleanup_free_ char *real = realpath(*path ? path : ".", NULL);
	const char *rs = real ? strrchr(real, '/') : NULL;
	return rs && rs[1] ? xstrdup(rs + 1) : NULL;
}

/* The format of the file at path: by its name and the name of its directory (see
 * dir_name), or -ENOENT. */
static int detect_path(const char *path, enum dep_format *out)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir =
		slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	_cleanup_free_ char *dname = dir_name(dir);
	return detect_in(dname, slash ? slash + 1 : path, out);
}

void dep_list_init(struct dep_list *l)
{
	memset(l, 0, sizeof(*l));
	l->arena = arena_new(0);
	if (!l->arena) {
		abort();
	}
}

void dep_list_release(struct dep_list *l)
{
	hmap_free(l->read);
	pom_cache_free(l->maven);
	arena_free(l->arena);
	free(l->v);
	free(l->files);
	memset(l, 0, sizeof(*l));
}

int deps_maven_repository(struct dep_list *l, const char *dir)
{
	_cleanup_free_ char *real = realpath(dir, NULL);
	struct stat st;
	if (!real || stat(real, &st) < 0) {
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		return -ENOTDIR;
	}
	l->maven_repo = arena_strdup(l->arena, real);
	if (!l->maven_repo) {
		abort();
	}
	return 0;
}

/* ---------- helpers for the parsers ---------- */

char *dep_strdup(struct dep_ctx *c, const char *s)
{
	char *p = arena_strdup(c->l->arena, s ? s : "");
	if (!p) {
		abort();
	}
	return p;
}

char *dep_strndup(struct dep_ctx *c, const char *s, size_t n)
{
	char *p = arena_strndup(c->l->arena, s, n);
	if (!p) {
		abort();
	}
	return p;
}

char *dep_printf(struct dep_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(c->l->arena, fmt, ap);
	va_end(ap);
	if (!p) {
		abort();
	}
	return p;
}

bool dep_mark_read(struct dep_list *l, const char *real)
{
	if (!l->read) {
		l->read = hmap_new(16);
	}
	if (hmap_get(l->read, real)) {
		return false;
	}
	char *key = arena_strdup(l->arena, real);
	if (!key) {
		abort();
	}
	hmap_put(l->read, key, (void *)1);
	return true;
}

size_t dep_file_add(struct dep_ctx *c, const char *display)
{
	struct dep_list *l = c->l;
	GROW(l->files, l->cap_files, l->n_files + 1);
	l->files[l->n_files] = (struct dep_file){ display, c->format, 0 };
	return l->n_files++;
}

int dep_count_read(struct dep_list *l, size_t len)
{
	if (len > DEPS_MAX_SCAN_BYTES - MIN(l->bytes_read, DEPS_MAX_SCAN_BYTES)) {
		return -E2BIG;
	}
	l->bytes_read += len;
	return 0;
}

char *dep_realpath_inside(const struct dep_ctx *c, const char *path)
{
	char *real = realpath(path, NULL);
	if (!real) {
		return NULL;
	}
	const char *root = c->l->root;
	size_t rl = root ? strlen(root) : 0;
	if (root && !(strncmp(real, root, rl) == 0 &&
		      (real[rl] == '/' || real[rl] == '\0' || (rl == 1 && root[0] == '/')))) {
		free(real);
		errno = EXDEV;
		return NULL;
	}
	return real;
}

int dep_error(struct dep_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(c->dl, c->file, line, col,
		   "fix the file, or regenerate it with its package manager",
		   "malformed %s file: %s", dep_format_name(c->format), msg);
	return -EINVAL;
}

/* s with the userinfo of a URL in it (`https://user:token@host/...`, a lockfile's tarball
 * or git source given as its version) replaced by "***", so that a registry credential
 * goes into no report, SBOM or purl. */
static char *without_userinfo(struct dep_ctx *c, const char *s)
{
	_cleanup_free_ char *m = text_mask_userinfo(s);
	return dep_strdup(c, m);
}

struct dep *dep_add(struct dep_ctx *c, enum eco e, const char *name, const char *version,
		    unsigned line)
{
	struct dep_list *l = c->l;
	if (l->n >= DEPS_MAX_PACKAGES) {
		return NULL;
	}
	GROW(l->v, l->cap, l->n + 1);
	struct dep *d = &l->v[l->n++];
	memset(d, 0, sizeof(*d));
	d->eco = e;
	d->name = without_userinfo(c, name);
	d->version = without_userinfo(c, version);
	d->file = c->file;
	d->line = line;
	d->format = c->format;
	return d;
}

struct dep *dep_add_unique(struct dep_ctx *c, const char *key, enum eco e, const char *name,
			   const char *version, unsigned line, bool *added)
{
	if (!c->seen) {
		c->seen = hmap_new(64);
	}
	void *idx = hmap_get(c->seen, key);
	if (idx) {
		*added = false;
		return &c->l->v[(size_t)(uintptr_t)idx - 1];
	}
	struct dep *d = dep_add(c, e, name, version, line);
	*added = d != NULL;
	if (d) {
		hmap_put(c->seen, dep_strdup(c, key), (void *)(uintptr_t)c->l->n);
	}
	return d;
}

void dep_add_group(struct dep_ctx *c, struct dep *d, const char *group)
{
	if (!group || !*group) {
		return;
	}
	/* Groups are few and short: rebuild the sorted, comma-separated list. */
	const char *parts[32];
	size_t n = 0;
	char *copy = d->groups ? dep_strdup(c, d->groups) : NULL;
	for (char *p = copy, *save = NULL; p; p = save) {
		save = strchr(p, ',');
		if (save) {
			*save++ = '\0';
		}
		if (n < ARRAY_SIZE(parts) && *p) {
			parts[n++] = p;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (str_eq(parts[i], group)) {
			return;
		}
	}
	if (n < ARRAY_SIZE(parts)) {
		parts[n++] = group;
	}
	for (size_t i = 1; i < n; i++) {
		for (size_t k = i; k > 0 && strcmp(parts[k - 1], parts[k]) > 0; k--) {
			const char *t = parts[k];
			parts[k] = parts[k - 1];
			parts[k - 1] = t;
		}
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		total += strlen(parts[i]) + 1;
	}
	char *out = arena_alloc(c->l->arena, total + 1);
	if (!out) {
		abort();
	}
	for (size_t i = 0, k = 0; i < n; i++) {
		size_t m = strlen(parts[i]);
		memcpy(out + k, parts[i], m);
		k += m;
		out[k++] = i + 1 < n ? ',' : '\0';
	}
	d->groups = out;
}

unsigned text_line(const char *buf, size_t len, size_t off)
{
	unsigned line = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		line += buf[i] == '\n';
	}
	return line;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
		p++;
	}
	return p;
}

void jpos_init(struct jpos *j, const char *buf, size_t len)
{
	j->buf = buf;
	j->len = len;
	j->pos = 0;
	j->ix = NULL;
}

/*
 * The index of a JSON text, built at the first lookup in one pass: every string literal,
 * decoded, in a chain of the literals that a lookup would take for the same thing, in
 * document order: "K" + the first character of the value ('{', '[', '"', else 'o') + a
 * member's name; "V" + length + name + value for a member whose value is a string; "S" +
 * a string that is not a member's name. A lookup moves along its chains (never back: the
 * cursor only moves forward), so that all lookups of a file take linear time together
 * with the pass, and compares decoded text, so that a name written with escapes
 * ("\u0061") is found like one without.
 */
struct jtok {
	size_t off;  /* the literal's opening quote */
	size_t post; /* where the cursor goes: a member's value, or after a string */
	unsigned line;
	uint32_t next; /* the chain's next token, or JNONE */
};

struct jchain {
	uint32_t cur;	      /* the first token at or after the cursor, or JNONE */
	uint32_t tail;	      /* while building */
	unsigned line_before; /* the line of the last token before the cursor, 0 if none */
};

#define JNONE UINT32_MAX

struct jindex {
	struct arena *arena; /* chain names */
	struct hmap *chains; /* name -> 1 + index in v */
	struct jchain *v;
	size_t n, cap;
	struct jtok *tok;
	size_t n_tok, cap_tok;
	struct sbuf name, text; /* scratch */
};

/* Decode the JSON string literal body s..s+n into sb (appended); escapes as JSON has them
 * (the text was checked by jansson before). */
static void json_unescape(struct sbuf *sb, const char *s, size_t n)
{
	const char *e = s + n;
	while (s < e) {
		const char *bs = memchr(s, '\\', (size_t)(e - s));
		if (!bs) {
			sbuf_append(sb, s, (size_t)(e - s));
			return;
		}
		sbuf_append(sb, s, (size_t)(bs - s));
		s = bs + 1;
		if (s >= e) {
			return;
		}
		char k = *s++;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *f = strchr(from, k);
		if (k != 'u') {
			if (k && f) {
				sbuf_append(sb, &to[f - from], 1);
			}
			continue;
		}
		unsigned long cp = 0;
		for (int i = 0; i < 4 && s < e; i++, s++) {
			cp = cp * 16 + (unsigned long)(isdigit((unsigned char)*s)
							       ? *s - '0'
							       : (*s | 0x20) - 'a' + 10);
		}
		if (cp >= 0xd800 && cp < 0xdc00 && e - s >= 6 && s[0] == '\\' && s[1] == 'u') {
			unsigned long lo = 0;
			for (int i = 2; i < 6; i++) {
				lo = lo * 16 + (unsigned long)(isdigit((unsigned char)s[i])
								       ? s[i] - '0'
								       : (s[i] | 0x20) - 'a' + 10);
			}
			if (lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
		}
		char u[4];
		size_t un;
		if (cp < 0x80) {
			u[0] = (char)cp, un = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), un = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f)), un = 3;
		} else {
			u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f));
			un = 4;
		}
		sbuf_append(sb, u, un);
	}
}

/* The end (closing quote) of the string literal that opens at buf[i], or len. */
static size_t literal_end(const char *buf, size_t len, size_t i, bool *escaped)
{
	*escaped = false;
	for (i++; i < len && buf[i] != '"'; i++) {
		if (buf[i] == '\\') {
			*escaped = true;
			i++;
		}
	}
	return i < len ? i : len;
}

/* The decoded body of the literal buf[i..end] into ix->text (reset). */
static void literal_text(struct jindex *ix, const char *buf, size_t i, size_t end, bool escaped)
{
	sbuf_reset(&ix->text);
	if (escaped) {
		json_unescape(&ix->text, buf + i + 1, end - i - 1);
	} else {
		sbuf_append(&ix->text, buf + i + 1, end - i - 1);
	}
}

/* The chain named ix->name, created when create; NULL when there is none. */
static struct jchain *jchain_of(struct jindex *ix, bool create)
{
	const char *name = ix->name.data ? ix->name.data : "";
	if (strlen(name) != ix->name.len) {
		return NULL; /* a NUL in the text: no lookup can name it */
	}
	uintptr_t at = (uintptr_t)hmap_get(ix->chains, name);
	if (at) {
		return &ix->v[at - 1];
	}
	if (!create) {
		return NULL;
	}
	char *key = arena_strdup(ix->arena, name);
	if (!key) {
		abort();
	}
	GROW(ix->v, ix->cap, ix->n + 1);
	ix->v[ix->n] = (struct jchain){ .cur = JNONE, .tail = JNONE };
	hmap_put(ix->chains, key, (void *)(uintptr_t)++ix->n);
	return &ix->v[ix->n - 1];
}

static void jchain_add(struct jindex *ix, size_t off, size_t post, unsigned line)
{
	struct jchain *ch = jchain_of(ix, true);
	if (!ch || ix->n_tok >= JNONE) {
		return;
	}
	GROW(ix->tok, ix->cap_tok, ix->n_tok + 1);
	uint32_t t = (uint32_t)ix->n_tok++;
	ix->tok[t] = (struct jtok){ off, post, line, JNONE };
	if (ch->tail == JNONE) {
		ch->cur = t;
	} else {
		ix->tok[ch->tail].next = t;
	}
	ch->tail = t;
}

static char value_class(char ch)
{
	return ch == '{' || ch == '[' || ch == '"' ? ch : 'o';
}

static struct jindex *jindex_build(const char *buf, size_t len)
{
	struct jindex *ix = xcalloc(1, sizeof(*ix));
	ix->arena = arena_new(0);
	ix->chains = hmap_new(1024);
	if (!ix->arena) {
		abort();
	}
	sbuf_init(&ix->name, SIZE_MAX / 2);
	sbuf_init(&ix->text, SIZE_MAX / 2);
	unsigned line = 1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			line++;
			continue;
		}
		if (buf[i] != '"') {
			continue;
		}
		bool escaped;
		size_t end = literal_end(buf, len, i, &escaped);
		if (end >= len) {
			break;
		}
		literal_text(ix, buf, i, end, escaped);
		const char *q = skip_ws(buf + end + 1, buf + len);
		if (q < buf + len && *q == ':') {
			const char *v = skip_ws(q + 1, buf + len);
			size_t vo = (size_t)(v - buf);
			sbuf_reset(&ix->name);
			sbuf_printf(&ix->name, "K%c", v < buf + len ? value_class(*v) : 'o');
			sbuf_append(&ix->name, ix->text.data, ix->text.len);
			jchain_add(ix, i, vo, line);
			if (v < buf + len && *v == '"') {
				sbuf_reset(&ix->name);
				sbuf_printf(&ix->name, "V%zu:", ix->text.len);
				sbuf_append(&ix->name, ix->text.data, ix->text.len);
				bool vesc;
				size_t vend = literal_end(buf, len, vo, &vesc);
				if (vend < len) {
					literal_text(ix, buf, vo, vend, vesc);
					sbuf_append(&ix->name, ix->text.data, ix->text.len);
					jchain_add(ix, i, vo, line);
				}
			}
		} else {
			sbuf_reset(&ix->name);
			sbuf_puts(&ix->name, "S");
			sbuf_append(&ix->name, ix->text.data, ix->text.len);
			jchain_add(ix, i, end + 1, line);
		}
		i = end;
	}
	return ix;
}

void jpos_release(struct jpos *j)
{
	struct jindex *ix = j->ix;
	if (!ix) {
		return;
	}
	arena_free(ix->arena);
	hmap_free(ix->chains);
	free(ix->v);
	free(ix->tok);
	sbuf_release(&ix->name);
	sbuf_release(&ix->text);
	free(ix);
	j->ix = NULL;
}

/* Move the chain to the cursor; its first token at or after it, or JNONE. */
static uint32_t jchain_seek(struct jindex *ix, struct jchain *ch, size_t pos)
{
	while (ch->cur != JNONE && ix->tok[ch->cur].off < pos) {
		ch->line_before = ix->tok[ch->cur].line;
		ch->cur = ix->tok[ch->cur].next;
	}
	return ch->cur;
}

/*
 * The next token of the chains named by the NUL-separated list `names` (n of them), from
 * the cursor: move the cursor past it and return its line. None: the line of the last
 * one before the cursor (0 when there is none either), and the cursor stays.
 */
static unsigned jpos_lookup(struct jpos *j, const char *prefix, size_t n_classes,
			    const char *classes, const char *key, const char *value)
{
	if (!j->ix) {
		j->ix = jindex_build(j->buf, j->len);
	}
	struct jindex *ix = j->ix;
	uint32_t best = JNONE;
	unsigned before = 0;
	for (size_t k = 0; k < n_classes; k++) {
		sbuf_reset(&ix->name);
		if (value) {
			sbuf_printf(&ix->name, "V%zu:%s%s", strlen(key), key, value);
		} else if (classes) {
			sbuf_printf(&ix->name, "%s%c%s", prefix, classes[k], key);
		} else {
			sbuf_printf(&ix->name, "%s%s", prefix, key);
		}
		struct jchain *ch = jchain_of(ix, false);
		if (!ch) {
			continue;
		}
		uint32_t t = jchain_seek(ix, ch, j->pos);
		if (t != JNONE && (best == JNONE || ix->tok[t].off < ix->tok[best].off)) {
			best = t;
		}
		before = MAX(before, ch->line_before);
	}
	if (best == JNONE) {
		return before;
	}
	j->pos = ix->tok[best].post;
	return ix->tok[best].line;
}

unsigned jpos_key(struct jpos *j, const char *key, char opener)
{
	if (!opener) {
		return jpos_lookup(j, "K", 4, "{[\"o", key, NULL);
	}
	char cls = value_class(opener);
	return jpos_lookup(j, "K", 1, &cls, key, NULL);
}

unsigned jpos_key_value(struct jpos *j, const char *key, const char *value)
{
	return jpos_lookup(j, NULL, 1, NULL, key, value);
}

unsigned jpos_string(struct jpos *j, const char *value)
{
	return jpos_lookup(j, "S", 1, NULL, value, NULL);
}

char jpos_opener(const json_t *v)
{
	return json_is_object(v) ? '{' : json_is_array(v) ? '[' : json_is_string(v) ? '"' : 'o';
}

/* Past the white space at b[i], counting its lines. */
static size_t json_ws(const char *b, size_t len, size_t i, unsigned *line)
{
	for (; i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'); i++) {
		*line += b[i] == '\n';
	}
	return i;
}

/* Past the value that starts at b[i] (valid JSON), counting its lines. */
static size_t json_skip(const char *b, size_t len, size_t i, unsigned *line)
{
	size_t depth = 0;
	for (; i < len; i++) {
		if (b[i] == '"') {
			/* A string holds no raw line break. */
			for (i++; i < len && b[i] != '"'; i++) {
				i += b[i] == '\\';
			}
			if (depth == 0) {
				return i < len ? i + 1 : len;
			}
		} else if (b[i] == '[' || b[i] == '{') {
			depth++;
		} else if (depth && (b[i] == ']' || b[i] == '}')) {
			if (--depth == 0) {
				return i + 1;
			}
		} else if (depth) {
			*line += b[i] == '\n';
		} else if (strchr(",:]} \t\r\n", b[i])) {
			return i; /* the end of a number, true, false or null */
		}
	}
	return len;
}

unsigned jpos_element_line(const struct jpos *j, size_t open, size_t index)
{
	const char *b = j->buf;
	size_t len = j->len;
	if (open >= len || (b[open] != '[' && b[open] != '{')) {
		return 0;
	}
	bool object = b[open] == '{';
	unsigned line = text_line(b, len, open);
	size_t i = open + 1;
	for (size_t k = 0;; k++) {
		i = json_ws(b, len, i, &line);
		if (i >= len || b[i] == ']' || b[i] == '}') {
			return 0;
		}
		if (k == index) {
			return line;
		}
		if (object) {
			i = json_ws(b, len, json_skip(b, len, i, &line), &line);
			i = json_ws(b, len, i < len && b[i] == ':' ? i + 1 : i, &line);
		}
		i = json_ws(b, len, json_skip(b, len, i, &line), &line);
		if (i >= len || b[i] != ',') {
			return 0;
		}
		i++;
	}
}

json_t *dep_json_load(struct dep_ctx *c, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, 0, &jerr);
	if (!j) {
		dep_error(c, jerr.line > 0 ? (unsigned)jerr.line : 0,
			  jerr.column > 0 ? (unsigned)jerr.column : 0, "not valid JSON: %s",
			  jerr.text);
	}
	return j;
}

int dep_json_sections(struct dep_ctx *c, const char *buf, size_t len, const char *prod,
		      const char *dev, json_section_fn fn)
{
	json_t *root = dep_json_load(c, buf, len);
	if (!root) {
		return -EINVAL;
	}
	struct jpos jp;
	jpos_init(&jp, buf, len);
	int r = json_is_object(root) ? 0 : dep_error(c, 1, 1, "the top level is not an object");
	if (r == 0) {
		r = fn(c, root, prod, NULL, &jp);
	}
	if (r == 0) {
		r = fn(c, root, dev, "dev", &jp);
	}
	jpos_release(&jp);
	json_decref(root);
	return r;
}

/* ---------- git commits in resolution strings ---------- */

static const char *const commit_patterns[] = {
	/* ssh://, git://, git+ssh://, git+https:// ...#sha */
	"(?:^|.+@)(?:git(?:\\+(?:ssh|https))?|ssh)://.+#(\\w+)$",
	/* https://....git#sha */
	"(?:^|.+@)https://.+\\.git#(\\w+)$",
	"https://codeload\\.github\\.com(?:/[\\w.-]+){2}/tar\\.gz/(\\w+)$",
	".+#commit[:=](\\w+)$",
	/* github:, gitlab:, bitbucket: shorthands */
	"^(?:github|gitlab|bitbucket):.+#(\\w+)$",
};

static pcre2_code *commit_re[ARRAY_SIZE(commit_patterns)];
static pcre2_match_context *commit_mctx;

static const char *host_fragment(struct dep_ctx *c, const char *s)
{
	/* scheme://[user@]host[:port]/path[?query][#fragment] for the big git hosts */
	const char *sep = strstr(s, "://");
	if (!sep) {
		return NULL;
	}
	const char *host = sep + 3;
	const char *host_end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(host_end - host));
	if (at) {
		host = at + 1;
	}
	size_t hn = (size_t)(host_end - host);
	static const char *const hosts[] = { "bitbucket.org", "github.com", "gitlab.com" };
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(hosts) && !known; i++) {
		known = strlen(hosts[i]) == hn && memcmp(host, hosts[i], hn) == 0;
	}
	if (!known) {
		return NULL;
	}
	const char *q = strchr(host_end, '?');
	const char *frag = strchr(host_end, '#');
	if (q && (!frag || q < frag)) {
		const char *qend = frag ? frag : q + strlen(q);
		for (const char *p = q + 1; p < qend;) {
			const char *amp = memchr(p, '&', (size_t)(qend - p));
			const char *pe = amp ? amp : qend;
			if (pe - p > 4 && strncmp(p, "ref=", 4) == 0) {
				return dep_strndup(c, p + 4, (size_t)(pe - p - 4));
			}
			p = pe + 1;
		}
	}
	return frag && frag[1] ? dep_strdup(c, frag + 1) : NULL;
}

const char *dep_extract_commit(struct dep_ctx *c, const char *s)
{
	if (!s || !*s) {
		return NULL;
	}
	if (!commit_mctx) {
		commit_mctx = pcre2_match_context_create(NULL);
		pcre2_set_match_limit(commit_mctx, 100000);
		for (size_t i = 0; i < ARRAY_SIZE(commit_patterns); i++) {
			int ec;
			PCRE2_SIZE eo;
			commit_re[i] = pcre2_compile((PCRE2_SPTR)commit_patterns[i],
						     PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
			if (!commit_re[i]) {
				abort();
			}
		}
	}
	size_t n = strlen(s);
	for (size_t i = 0; i < ARRAY_SIZE(commit_re); i++) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(commit_re[i], NULL);
		int rc = pcre2_match(commit_re[i], (PCRE2_SPTR)s, n, 0, 0, md, commit_mctx);
		const char *out = NULL;
		if (rc >= 2) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			out = dep_strndup(c, s + ov[2], ov[3] - ov[2]);
		}
		pcre2_match_data_free(md);
		if (out) {
			return out;
		}
	}
	return host_fragment(c, s);
}

const char *dep_npm_tarball_version(struct dep_ctx *c, const char *name, const char *url)
{
	const char *rest = str_has_prefix(url, "https://")  ? url + 8
			   : str_has_prefix(url, "http://") ? url + 7
							    : NULL;
	const char *path = rest ? strchr(rest, '/') : NULL;
	if (!path || strpbrk(url, "?#") || !str_has_suffix(url, ".tgz")) {
		return NULL;
	}
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	_cleanup_free_ char *dir = xasprintf("/%s/-/%s-", name, base);
	const char *at = strstr(path, dir);
	/* The last such part: the file name follows it, with no '/' in between. */
	for (const char *next = at; next; next = strstr(at + 1, dir)) {
		at = next;
	}
	if (!at) {
		return NULL;
	}
	const char *v = at + strlen(dir);
	size_t vlen = strlen(v) - strlen(".tgz");
	if (vlen == 0 || !(*v >= '0' && *v <= '9') || memchr(v, '/', vlen)) {
		return NULL;
	}
	return dep_strndup(c, v, vlen);
}

/* ---------- parsing files ---------- */

/* Merge the groups of a copy into the package kept: a copy in no group makes it a
 * production dependency (none), as npm's parser merges its copies. */
static void merge_groups(struct dep_ctx *c, struct dep *keep, const struct dep *copy)
{
	if (!keep->groups || !copy->groups) {
		keep->groups = NULL;
		return;
	}
	_cleanup_free_ char *g = xstrdup(copy->groups);
	for (char *p = g, *save = NULL; p; p = save) {
		save = strchr(p, ',');
		if (save) {
			*save++ = '\0';
		}
		dep_add_group(c, keep, p);
	}
}

/* Note another line of the package kept (the first DEP_MAX_ALSO, all counted). */
static void add_also(struct dep_ctx *c, struct dep *keep, unsigned line)
{
	if (keep->n_also < DEP_MAX_ALSO) {
		unsigned *v = arena_alloc(c->l->arena, (keep->n_also + 1) * sizeof(*v));
		if (!v) {
			abort();
		}
		if (keep->n_also) {
			memcpy(v, keep->also, keep->n_also * sizeof(*v));
		}
		v[keep->n_also] = line;
		keep->also = v;
	}
	keep->n_also++;
}

/*
 * One package per (ecosystem, name, version, commit) of the file just parsed: entries of
 * a lockfile that resolve to the same package (yarn 1's `string-width-cjs@npm:string-
 * width@^4.2.0` block beside `string-width@^4.1.0`'s, pnpm's copies of a package for two
 * sets of peers, a Gemfile.lock's platform variants, conan's host and build contexts)
 * would each give the same findings. The first is kept, with the groups of all and the
 * lines of the others (also); copies
 * that differ in what the scan reports of them (flags, note) are kept apart. Only the
 * file's own packages: those of files it includes are theirs (and counted as theirs).
 */
static void dedupe_file(struct dep_ctx *c)
{
	struct dep_list *l = c->l;
	size_t n = l->n - c->first;
	if (n < 2) {
		return;
	}
	struct hmap *seen = hmap_new(n);
	char **keys = xcalloc(n, sizeof(*keys));
	size_t out = c->first;
	for (size_t i = c->first; i < l->n; i++) {
		struct dep *d = &l->v[i];
		if (d->file != c->file) {
			l->v[out++] = *d;
			continue;
		}
		const char *commit = d->commit ? d->commit : "", *note = d->note ? d->note : "";
		char *k = xasprintf("%d:%u:%zu:%s%zu:%s%zu:%s%zu:%s", (int)d->eco, d->flags,
				    strlen(d->name), d->name, strlen(d->version), d->version,
				    strlen(commit), commit, strlen(note), note);
		void *at = hmap_get(seen, k);
		if (at) {
			struct dep *keep = &l->v[(size_t)(uintptr_t)at - 1];
			merge_groups(c, keep, d);
			add_also(c, keep, d->line);
			free(k);
			continue;
		}
		keys[i - c->first] = k;
		l->v[out] = *d;
		hmap_put(seen, k, (void *)(uintptr_t)(out + 1));
		out++;
	}
	l->n = out;
	hmap_free(seen);
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
	}
	free(keys);
}

/* Run the parser of c->format (c has its list, file, path...) and record the file. */
static int run_parser(struct dep_ctx *c, const char *buf, size_t len)
{
	struct dep_list *l = c->l;
	enum dep_format f = c->format;
	if ((unsigned)f >= DEP_FORMAT_COUNT) {
		return -EINVAL;
	}
	size_t first_file = l->n_files;
	int r = formats[f].parse(c, buf, len);
	hmap_free(c->seen);
	hmap_free(c->aux);
	if (r == 0 && l->n >= DEPS_MAX_PACKAGES) {
		r = dep_error(c, 0, 0, "more than %u packages", DEPS_MAX_PACKAGES);
	}
	if (r < 0) {
		/* A file that fails contributes nothing: no half-parsed package lists (nor the
		 * files it included). */
		l->n = c->first;
		l->n_files = first_file;
		return r;
	}
	dedupe_file(c);
	/* The file itself, before the files it included (dep_file_add), with the packages
	 * first listed in it. */
	size_t own = l->n - c->first;
	for (size_t i = first_file; i < l->n_files; i++) {
		own -= l->files[i].packages;
	}
	GROW(l->files, l->cap_files, l->n_files + 1);
	memmove(&l->files[first_file + 1], &l->files[first_file],
		(l->n_files - first_file) * sizeof(*l->files));
	l->files[first_file] = (struct dep_file){ c->file, f, own };
	l->n_files++;
	return 0;
}

/* A parser's context for the file `display` of format f, adding to l. */
static struct dep_ctx new_ctx(struct dep_list *l, enum dep_format f, const char *display,
			      struct diag_list *dl)
{
	struct dep_ctx c = {
		.l = l,
		.dl = dl,
		.format = f,
		.first = l->n,
	};
	c.file = dep_strdup(&c, display);
	return c;
}

static int parse_with(struct dep_list *l, enum dep_format f, const char *display, const char *path,
		      const char *buf, size_t len, struct diag_list *dl)
{
	struct dep_ctx c = new_ctx(l, f, display, dl);
	c.path = path ? dep_strdup(&c, path) : NULL;
	return run_parser(&c, buf, len);
}

int deps_parse_buffer(struct dep_list *l, enum dep_format f, const char *display, const char *buf,
		      size_t len, struct diag_list *dl)
{
	return parse_with(l, f, display, NULL, buf, len, dl);
}

int deps_parse_go_buffers(struct dep_list *l, const char *display, const char *mod, size_t mod_len,
			  const char *sum_display, const char *sum, size_t sum_len,
			  struct diag_list *dl)
{
	struct dep_ctx c = new_ctx(l, DEP_GO_MOD, display, dl);
	c.sum_display = dep_strdup(&c, sum_display ? sum_display : "go.sum");
	c.sum = sum;
	c.sum_len = sum ? sum_len : 0;
	return run_parser(&c, mod, mod_len);
}

int deps_parse_file(struct dep_list *l, const char *path, const char *display, enum dep_format f,
		    struct diag_list *dl)
{
	/* Once: a file named twice, or found by a walk after a file read before included it
	 * (or the other way round), would list its packages, and their findings, twice. */
	_cleanup_free_ char *real = realpath(path, NULL);
	if (real && !dep_mark_read(l, real)) {
		return 0;
	}
	char *buf = NULL;
	size_t len = 0;
	int r = read_file_capped(path, DEPS_MAX_FILE_BYTES, &buf, &len);
	if (r == -EFBIG) {
		diag_error(dl, display, 0, 0, NULL, "%s is larger than %u MiB: refused", display,
			   DEPS_MAX_FILE_BYTES >> 20);
		return -EINVAL;
	}
	if (r == 0 && dep_count_read(l, len) < 0) {
		free(buf);
		diag_error(dl, display, 0, 0, NULL,
			   "%s: the scan has read more than %llu GiB of lockfiles: refused",
			   display, DEPS_MAX_SCAN_BYTES >> 30);
		return -E2BIG;
	}
	if (r < 0) {
		diag_error(dl, display, 0, 0, NULL, "cannot read %s: %s", display, strerror(-r));
		return r;
	}
	r = parse_with(l, f, display, path, buf, len, dl);
	free(buf);
	return r;
}

/* ---------- walking directories ---------- */

struct walk {
	struct dep_list *l;
	struct diag_list *dl;
	const char *root;
	const struct deps_walk_opts *o; /* never NULL */
	size_t entries;
	int first_error;
};

static const char *display_path(const struct walk *w, const char *path)
{
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/') {
			path++;
		}
	}
	size_t n = w->root ? strlen(w->root) : 0;
	if (n && strncmp(path, w->root, n) == 0 && (path[n] == '/' || path[n] == '\0')) {
		path += n;
		while (*path == '/') {
			path++;
		}
		return *path ? path : ".";
	}
	return path;
}

static void note_error(struct walk *w, int r)
{
	if (r < 0 && w->first_error == 0) {
		w->first_error = r;
	}
}

static bool vcs_dir(const char *name)
{
	return str_eq(name, ".git") || str_eq(name, ".hg") || str_eq(name, ".svn") ||
	       str_eq(name, ".runner");
}

bool deps_skipped_dir(const char *name, bool pom_beside)
{
	/* Maven's default <build><directory> is ${project.basedir}/target. A pom.xml that sets
	 * another is not read for it: target/ is passed over all the same, and the other
	 * directory is walked like any other (the copies a build leaves there are read, and
	 * their findings reported again: noise, nothing missed). A file the scan reads must
	 * not choose what the scan leaves out: `<directory>frontend</directory>` would hide
	 * frontend's lockfiles. */
	return name[0] == '.' || str_eq(name, "node_modules") || str_eq(name, "vendor") ||
	       (pom_beside && str_eq(name, "target"));
}

/* A directory the walk does not enter unless told to (deps_skipped_dir). */
static bool skipped_dir(const struct walk *w, const char *name, bool pom_beside)
{
	return !w->o->enter_skipped && deps_skipped_dir(name, pom_beside);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * bun's binary lockfile, which runner does not read: bun reads the text bun.lock instead
 * when both are there (so does the scan), but one alone would leave every package of the
 * project unchecked.
 */
#define BUN_LOCKB "bun.lockb"

static void refuse_bun_lockb(struct diag_list *dl, const char *disp)
{
	diag_error(dl, disp, 0, 0, "once bun.lock is committed, bun.lockb can be deleted",
		   "%s is bun's binary lockfile, which runner cannot read, and there is no "
		   "bun.lock beside it: commit the text lockfile bun.lock (bun 1.2 and later "
		   "write it by default, older ones with `bun install --save-text-lockfile`)",
		   disp);
}

/* only_listed: inside a skipped directory, entered for the must_scan entries below it.
 * vendored: inside a directory the walk skips by default (node_modules, vendor, a dot
 * directory, a Maven module's target), entered all the same: the packages installed or
 * copied there are not projects, and their manifests are not looked at. */
static void walk_dir(struct walk *w, const char *path, unsigned depth, bool only_listed,
		     const struct deps_dir *up, bool vendored)
{
	if (depth > DEPS_MAX_WALK_DEPTH) {
		diag_error(w->dl, display_path(w, path), 0, 0, NULL,
			   "directories nested deeper than %u levels: not scanned",
			   DEPS_MAX_WALK_DEPTH);
		note_error(w, -ELOOP);
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		diag_error(w->dl, display_path(w, path), 0, 0, NULL, "cannot read directory: %s",
			   strerror(errno));
		note_error(w, -errno);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (str_eq(de->d_name, ".") || str_eq(de->d_name, "..")) {
			continue;
		}
		if (++w->entries > DEPS_MAX_WALK_ENTRIES) {
			break;
		}
		GROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	/* Sorted, for stable output. */
	if (n > 1) {
		qsort(names, n, sizeof(*names), cmp_names);
	}
	const char *text_lock = "bun.lock";
	/* (An empty directory has no names to search: NULL is no array for bsearch.) */
	bool bun_lock = n && bsearch(&text_lock, names, n, sizeof(*names), cmp_names) != NULL;
	/* A Maven module: its target/ is the build's output. */
	const char *pom = "pom.xml";
	bool pom_beside = n && bsearch(&pom, names, n, sizeof(*names), cmp_names) != NULL;
	_cleanup_free_ char *dname = dir_name(path); /* requirements/base.txt */
	/* Its lockfiles and workspaces, for the manifests in it and below it. */
	struct deps_dir here;
	deps_dir_enter(&here, up, w->l, path, dname, names, vendored ? 0 : n);
	for (size_t i = 0; i < n; i++) {
		char *sub = xasprintf("%s/%s", path, names[i]);
		struct stat st;
		if (lstat(sub, &st) == 0) {
			const char *rel = display_path(w, sub);
			if (!S_ISDIR(st.st_mode) && str_eq(names[i], BUN_LOCKB) && !bun_lock &&
			    (!only_listed ||
			     walk_listed(w->o->must_scan, w->o->n_must_scan, rel, false))) {
				refuse_bun_lockb(w->dl, rel);
				note_error(w, -EINVAL);
			}
			if (S_ISDIR(st.st_mode)) {
				bool skip = only_listed || skipped_dir(w, names[i], pom_beside);
				if (vcs_dir(names[i])) {
					/* never entered */
				} else if (!skip || walk_listed(w->o->must_scan, w->o->n_must_scan,
								rel, true)) {
					walk_dir(w, sub, depth + 1, skip, &here,
						 vendored ||
							 deps_skipped_dir(names[i], pom_beside));
				}
			} else if (!S_ISREG(st.st_mode)) {
				/* A lockfile's name that is a link (or a FIFO...): not followed,
				 * never silently passed over either. */
				enum dep_format f;
				if ((!only_listed ||
				     walk_listed(w->o->must_scan, w->o->n_must_scan, rel, false)) &&
				    detect_in(dname, names[i], &f) == 0) {
					diag_error(
						w->dl, rel, 0, 0,
						"replace it with the file it stands for, or name "
						"that file",
						"%s is %s: lockfiles are read only as regular "
						"files",
						rel,
						S_ISLNK(st.st_mode) ? "a symbolic link"
								    : "not a regular file");
					note_error(w, -EINVAL);
				} else if (!vendored) {
					/* A manifest's name that is a link: not read, so taken to
					 * declare dependencies, unless a lockfile gives them. */
					note_error(w, deps_check_manifest(&here, w->l, sub,
									  names[i], rel, w->dl));
				}
			} else {
				enum dep_format f;
				if ((!only_listed ||
				     walk_listed(w->o->must_scan, w->o->n_must_scan, rel, false)) &&
				    detect_in(dname, names[i], &f) == 0) {
					if (w->l->n_files >= DEPS_MAX_LOCKFILES) {
						diag_error(w->dl, display_path(w, sub), 0, 0, NULL,
							   "more than %u lockfiles: refused",
							   DEPS_MAX_LOCKFILES);
						note_error(w, -E2BIG);
					} else {
						note_error(w, deps_parse_file(w->l, sub,
									      display_path(w, sub),
									      f, w->dl));
					}
				} else if (!vendored) {
					/* A manifest whose dependencies no lockfile gives. */
					note_error(w, deps_check_manifest(&here, w->l, sub,
									  names[i], rel, w->dl));
				}
			}
		}
		free(sub);
		free(names[i]);
	}
	free(names);
	deps_dir_release(&here);
	if (w->entries > DEPS_MAX_WALK_ENTRIES) {
		diag_error(w->dl, display_path(w, path), 0, 0, NULL,
			   "more than %u directory entries: the scan stopped",
			   DEPS_MAX_WALK_ENTRIES);
		note_error(w, -E2BIG);
	}
}

/* p without empty and "." components ("./svc//go.mod" -> "svc/go.mod"): the names a scan
 * reports are compared with others (a fork's changed files), byte for byte. Heap. */
static char *clean_path(const char *p)
{
	char *out = xmalloc(strlen(p) + 2);
	size_t o = 0;
	if (*p == '/') {
		out[o++] = '/';
	}
	while (*p) {
		while (*p == '/') {
			p++;
		}
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len && !(len == 1 && p[0] == '.')) {
			if (o && out[o - 1] != '/') {
				out[o++] = '/';
			}
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	if (o == 0) {
		out[o++] = '.';
	}
	out[o] = '\0';
	return out;
}

int deps_scan_paths(struct dep_list *l, const char *root, const char *const *given, size_t n,
		    struct diag_list *dl)
{
	return deps_scan_paths_opts(l, root, given, n, NULL, dl);
}

int deps_scan_paths_opts(struct dep_list *l, const char *root, const char *const *given, size_t n,
			 const struct deps_walk_opts *wo, struct diag_list *dl)
{
	static const struct deps_walk_opts defaults;
	_cleanup_free_ char *clean_root = root ? clean_path(root) : NULL;
	struct walk w = { .l = l, .dl = dl, .root = clean_root, .o = wo ? wo : &defaults };
	_cleanup_free_ char *real_root = root ? realpath(root, NULL) : NULL;
	if (real_root) {
		l->root = arena_strdup(l->arena, real_root);
	}
	char **paths = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		paths[i] = clean_path(given[i]);
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		const char *disp = display_path(&w, paths[i]);
		if (stat(paths[i], &st) < 0) {
			diag_error(dl, disp, 0, 0, NULL, "cannot scan %s: %s", disp,
				   strerror(errno));
			note_error(&w, -errno);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk_dir(&w, paths[i], 0, false, NULL, false);
			continue;
		}
		enum dep_format f;
		const char *base = strrchr(paths[i], '/');
		if (str_eq(base ? base + 1 : paths[i], "go.sum")) {
			/* Not a manifest of its own: it only completes the go.mod beside it. */
			diag_error(
				dl, disp, 0, 0,
				"name the go.mod beside it, or the directory: its go.sum is read "
				"with it when the go directive is below 1.17",
				"%s is read through its go.mod, not on its own", disp);
			note_error(&w, -EINVAL);
			continue;
		}
		if (str_eq(base ? base + 1 : paths[i], BUN_LOCKB)) {
			char *text_lock = xasprintf(
				"%.*sbun.lock", base ? (int)(base + 1 - paths[i]) : 0, paths[i]);
			struct stat tl;
			if (lstat(text_lock, &tl) == 0) {
				diag_error(
					dl, disp, 0, 0,
					"name the bun.lock beside it, or the directory",
					"%s is bun's binary lockfile, which runner does not read "
					"(bun reads the bun.lock beside it)",
					disp);
			} else {
				refuse_bun_lockb(dl, disp);
			}
			free(text_lock);
			note_error(&w, -EINVAL);
			continue;
		}
		if (detect_path(paths[i], &f) < 0) {
			diag_error(
				dl, disp, 0, 0,
				"name a lockfile (package-lock.json, yarn.lock, pnpm-lock.yaml, "
				"requirements.txt, poetry.lock, Pipfile.lock, go.mod, Cargo.lock, "
				"Gemfile.lock, composer.lock, pom.xml, gradle.lockfile, "
				"packages.lock.json, conan.lock, pubspec.lock, mix.lock, uv.lock, "
				"bun.lock) or a directory",
				"%s is not a lockfile or manifest that runner reads", disp);
			note_error(&w, -EINVAL);
			continue;
		}
		note_error(&w, deps_parse_file(l, paths[i], disp, f, dl));
	}
	for (size_t i = 0; i < n; i++) {
		free(paths[i]);
	}
	free(paths);
	return w.first_error;
}
