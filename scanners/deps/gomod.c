/*
 * gomod.c - go.mod: the modules a Go module requires, after `replace`.
 *
 * The syntax is Go's: directives (`verb args` or `verb ( ... )` blocks), `//` comments,
 * and arguments that may be "-quoted (unquoted as strconv.Unquote does; other quotes are
 * errors, as in the go command). Only module, go, toolchain, godebug, require,
 * exclude, replace, retract, tool and ignore are directives; anything else (or a require
 * without a valid "vX..." version) makes the file malformed, as it does for the go command.
 * Versions are reported without their leading "v" (as OSV's Go records write them).
 * `replace old [version] => new [version]` replaces the required old module (every
 * required version, or only the one named, which wins over a replace of every version),
 * wherever in the file it is written; a replacement by a local path has no version. The `go`
 * directive adds the package "stdlib" at that Go version, so that advisories against the standard
 * library are checked too; a `toolchain` directive with a higher Go version gives that one
 * instead (the go command builds with it).
 *
 * go.sum: from go 1.17 on (module graph pruning), go.mod lists every module of the build,
 * indirect ones marked `// indirect`, and go.sum is not read. Below 1.17, or without a `go`
 * directive (or with one that is not a version), indirect modules are only in go.sum, so the
 * go.sum beside the go.mod is read too, when there is one (it is never a manifest of its own).
 * Its lines are `module version[/go.mod] hash`; only a line without `/go.mod` (the hash of the
 * module's content) means the module was downloaded for the build, and of several such versions
 * of a module the highest (Go's semver order) is taken. A module that go.mod requires (go.mod's
 * version wins) or that replaces one it requires is not added again; one that go.mod replaces
 * (at that version or every version) is not built, and its replacement is added as go.mod's
 * replaced requirements are (go.mod's replace line). Others have the go.sum and the line of the
 * chosen version as their file and line. A version go.mod excludes (`exclude path version`)
 * is never the one chosen. A go.sum that is malformed, or exists but cannot be read
 * (a symbolic link or not a regular file included: the walk follows no links either), makes the
 * go.mod an error: a silent pass is what go.sum is read to avoid.
 */
#include "parsers.h"

#include "diag.h"
#include "hmap.h"
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "banned.h"

#define GOMOD_MAX_TOKENS 16

struct gomod_req {
	const char *path, *version; /* version with its "v" */
	unsigned line;
};

struct gomod_rep {
	const char *old_path, *old_version; /* old_version NULL: every version */
	const char *new_path, *new_version; /* new_version "" for a local path */
	unsigned line;
};

struct gomod {
	struct gomod_req *req;
	size_t n, cap;
	struct gomod_rep *rep;
	size_t n_rep, cap_rep;
	struct gomod_req *exc; /* `exclude path version` */
	size_t n_exc, cap_exc;
	/* Built once the file is read (index_gomod): replaces of every version by old path,
	 * replaces of one version and excludes by path_version_key(). */
	struct hmap *rep_any, *rep_exact, *excluded;
	const char *toolchain; /* the toolchain directive's Go version (go1.22.5: "1.22.5") */
	unsigned toolchain_line;
};

/* A key for path@version that no other pair gives (a path may hold any character). */
static const char *path_version_key(struct dep_ctx *c, const char *path, const char *version)
{
	return dep_printf(c, "%zu:%s%s", strlen(path), path, version);
}

/* Index replace and exclude directives: the last of equals wins, as in the go command. */
static void index_gomod(struct dep_ctx *c, struct gomod *m)
{
	m->rep_any = hmap_new(m->n_rep + 8);
	m->rep_exact = hmap_new(m->n_rep + 8);
	m->excluded = hmap_new(m->n_exc + 8);
	for (size_t i = 0; i < m->n_rep; i++) {
		struct gomod_rep *p = &m->rep[i];
		if (p->old_version) {
			hmap_put(m->rep_exact, path_version_key(c, p->old_path, p->old_version), p);
		} else {
			hmap_put(m->rep_any, p->old_path, p);
		}
	}
	for (size_t i = 0; i < m->n_exc; i++) {
		hmap_put(m->excluded, path_version_key(c, m->exc[i].path, m->exc[i].version),
			 (void *)1);
	}
}

/* Whether go.mod excludes path@version from the build. */
static bool excluded(struct dep_ctx *c, const struct gomod *m, const char *path,
		     const char *version)
{
	return m->n_exc && hmap_get(m->excluded, path_version_key(c, path, version));
}

/*
 * The replace that applies to path@version, or NULL. As in the go command, a replace of
 * that one version wins over one of every version; among equals the last one written.
 */
static const struct gomod_rep *replacement(struct dep_ctx *c, const struct gomod *m,
					   const char *path, const char *version)
{
	if (!m->n_rep) {
		return NULL;
	}
	const struct gomod_rep *exact = hmap_get(m->rep_exact, path_version_key(c, path, version));
	return exact ? exact : hmap_get(m->rep_any, path);
}

static int hexval(char ch)
{
	return isdigit((unsigned char)ch) ? ch - '0'
	       : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
	       : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
					  : -1;
}

/* Append code point cp to o in UTF-8. */
static char *put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/*
 * The text of a "-quoted token (s..e, quotes excluded) as Go's strconv.Unquote reads it:
 * \a \b \f \n \r \t \v \\ \" \xHH \ooo (at most \377) \uXXXX \UXXXXXXXX (a valid code
 * point, not a surrogate); any other escape, and text that is not UTF-8, are errors. NULL
 * on error, with *why set. NUL bytes are refused too (the go command refuses them in
 * every module path and version).
 */
static char *go_unquote(struct dep_ctx *c, const char *s, const char *e, const char **why)
{
	if (!utf8_valid(s, (size_t)(e - s))) {
		*why = "not UTF-8";
		return NULL;
	}
	char *out = dep_strndup(c, s, (size_t)(e - s)), *o = out;
	while (s < e) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		if (e - s < 2) {
			*why = "a backslash at its end";
			return NULL;
		}
		char k = s[1];
		s += 2;
		static const char simple[] = "abfnrtv\\\"", value[] = "\a\b\f\n\r\t\v\\\"";
		const char *sp = strchr(simple, k);
		if (k && sp) {
			*o++ = value[sp - simple];
			continue;
		}
		int digits = k == 'x' ? 2 : k == 'u' ? 4 : k == 'U' ? 8 : 0;
		if (digits) {
			unsigned long v = 0;
			for (int i = 0; i < digits; i++, s++) {
				int h = s < e ? hexval(*s) : -1;
				if (h < 0) {
					*why = "an invalid \\x, \\u or \\U escape";
					return NULL;
				}
				v = v * 16 + (unsigned long)h;
			}
			if (k == 'x') {
				*o++ = (char)v;
			} else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
				*why = "an escape that is not a Unicode code point";
				return NULL;
			} else {
				o = put_utf8(o, v);
			}
			continue;
		}
		if (k >= '0' && k <= '7') {
			unsigned v = (unsigned)(k - '0');
			for (int i = 0; i < 2; i++, s++) {
				if (s >= e || *s < '0' || *s > '7') {
					*why = "an invalid octal escape";
					return NULL;
				}
				v = v * 8 + (unsigned)(*s - '0');
			}
			if (v > 255) {
				*why = "an octal escape above \\377";
				return NULL;
			}
			*o++ = (char)v;
			continue;
		}
		*why = "an unknown escape";
		return NULL;
	}
	if (memchr(out, '\0', (size_t)(o - out))) {
		*why = "a NUL character";
		return NULL;
	}
	*o = '\0';
	return out;
}

/*
 * Split a line into tokens as the go command's go.mod lexer and parseString do; stops at
 * a // comment. A "-quoted token is unquoted (go_unquote); any other token that holds a
 * quote (", ' or `: a `-quoted raw string included, which the go command refuses as
 * "unquoted string cannot contain quote") is an error.
 */
static int tokenize(struct dep_ctx *c, const char *s, const char *end, unsigned lineno,
		    const char **tok, size_t *ntok)
{
	*ntok = 0;
	while (s < end) {
		while (s < end && isspace((unsigned char)*s)) {
			s++;
		}
		if (s >= end || (end - s >= 2 && s[0] == '/' && s[1] == '/')) {
			break;
		}
		if (*ntok >= GOMOD_MAX_TOKENS) {
			return dep_error(c, lineno, 0, "too many words on one line");
		}
		if (*s == '"') {
			const char *e = s + 1;
			while (e < end && *e != '"') {
				e += (*e == '\\' && e + 1 < end) ? 2 : 1;
			}
			if (e >= end) {
				return dep_error(c, lineno, 0, "unterminated quoted string");
			}
			const char *why = NULL;
			char *t = go_unquote(c, s + 1, e, &why);
			if (!t) {
				return dep_error(c, lineno, 0, "invalid quoted string %.*s: %s",
						 (int)(e + 1 - s), s, why);
			}
			tok[(*ntok)++] = t;
			s = e + 1;
		} else {
			const char *e = s;
			while (e < end && !isspace((unsigned char)*e) &&
			       !(end - e >= 2 && e[0] == '/' && e[1] == '/')) {
				e++;
			}
			if (memchr(s, '\'', (size_t)(e - s)) || memchr(s, '`', (size_t)(e - s)) ||
			    memchr(s, '"', (size_t)(e - s))) {
				return dep_error(c, lineno, 0,
						 "%.*s: an unquoted string cannot contain a quote "
						 "(only \"...\" strings are read)",
						 (int)(e - s), s);
			}
			tok[(*ntok)++] = dep_strndup(c, s, (size_t)(e - s));
			s = e;
		}
	}
	return 0;
}

static bool valid_version(const char *v)
{
	return v[0] == 'v' && isdigit((unsigned char)v[1]);
}

static bool local_path(const char *p)
{
	return str_has_prefix(p, "./") || str_has_prefix(p, "../") || p[0] == '/' ||
	       str_eq(p, ".") || str_eq(p, "..");
}

static int directive(struct dep_ctx *c, struct gomod *m, const char *verb, const char **tok,
		     size_t n, unsigned lineno, const char **go_version, unsigned *go_line)
{
	if (str_eq(verb, "require")) {
		if (n < 2 || !valid_version(tok[1])) {
			return dep_error(c, lineno, 0, "require needs a module path and a version");
		}
		GROW(m->req, m->cap, m->n + 1);
		m->req[m->n++] =
			(struct gomod_req){ .path = tok[0], .version = tok[1], .line = lineno };
		return 0;
	}
	if (str_eq(verb, "replace")) {
		/* old [version] => new [version] */
		size_t arrow = 0;
		while (arrow < n && !str_eq(tok[arrow], "=>")) {
			arrow++;
		}
		if (arrow == 0 || arrow > 2 || arrow + 1 >= n || n - arrow - 1 > 2) {
			return dep_error(c, lineno, 0,
					 "replace needs 'old [version] => new [version]'");
		}
		const char *old_path = tok[0], *old_version = arrow == 2 ? tok[1] : NULL;
		const char *new_path = tok[arrow + 1];
		const char *new_version = n - arrow - 1 == 2 ? tok[arrow + 2] : "";
		if (!local_path(new_path) && !valid_version(new_version)) {
			return dep_error(c, lineno, 0, "replacement module %s needs a version",
					 new_path);
		}
		/* Applied once the whole file is read: a replace may come before its require. */
		GROW(m->rep, m->cap_rep, m->n_rep + 1);
		m->rep[m->n_rep++] = (struct gomod_rep){ .old_path = old_path,
							 .old_version = old_version,
							 .new_path = new_path,
							 .new_version = new_version,
							 .line = lineno };
		return 0;
	}
	if (str_eq(verb, "go")) {
		if (n != 1) {
			return dep_error(c, lineno, 0, "go needs one version");
		}
		*go_version = tok[0];
		*go_line = lineno;
		return 0;
	}
	if (str_eq(verb, "exclude")) {
		if (n != 2 || !valid_version(tok[1])) {
			return dep_error(c, lineno, 0, "exclude needs a module path and a version");
		}
		GROW(m->exc, m->cap_exc, m->n_exc + 1);
		m->exc[m->n_exc++] =
			(struct gomod_req){ .path = tok[0], .version = tok[1], .line = lineno };
		return 0;
	}
	if (str_eq(verb, "toolchain")) {
		if (n != 1) {
			return dep_error(c, lineno, 0, "toolchain needs one name");
		}
		/* goV, maybe with a custom suffix (go1.22.5-corp) or "+auto"; "default" or
		 * another name says no version. */
		if (str_has_prefix(tok[0], "go") && isdigit((unsigned char)tok[0][2])) {
			m->toolchain = dep_strndup(c, tok[0], 2 + strcspn(tok[0] + 2, "-+"));
			m->toolchain_line = lineno;
		}
		return 0;
	}
	static const char *const others[] = { "module", "godebug", "retract", "tool", "ignore" };
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		if (str_eq(verb, others[i])) {
			return 0;
		}
	}
	return dep_error(c, lineno, 1, "unknown directive '%s'", verb);
}

/* ---------- go.sum ---------- */

#define GOSUM_FIELDS 3

struct sum_mod {
	const char *path, *version; /* version with its "v" */
	unsigned line;
};

/* Whether go.mod's `go` directive makes go.mod the whole build list (go 1.17 and later). */
static bool go_mod_complete(const char *go_version)
{
	return go_version && isdigit((unsigned char)go_version[0]) &&
	       semver_compare(go_version, "1.17") >= 0;
}

static int parse_go_sum(struct dep_ctx *c, const struct gomod *m, const char *mod_file,
			const char *buf, size_t len)
{
	/* The paths go.mod gives packages for: required ones and their replacements. */
	struct hmap *in_mod = hmap_new(m->n * 2 + 8);
	for (size_t i = 0; i < m->n; i++) {
		const struct gomod_rep *p = replacement(c, m, m->req[i].path, m->req[i].version);
		hmap_put(in_mod, m->req[i].path, (void *)1);
		if (p) {
			hmap_put(in_mod, p->new_path, (void *)1);
		}
	}
	struct hmap *index = hmap_new(64); /* module path -> 1 + its index in mods */
	struct sum_mod *mods = NULL;
	size_t n_mods = 0, cap_mods = 0;
	struct lines ln;
	const char *s;
	size_t n;
	int r = 0;
	lines_init(&ln, buf, len);
	while (r == 0 && lines_next(&ln, &s, &n)) {
		if (memchr(s, '\0', n)) {
			r = dep_error(c, ln.no, 0, "NUL byte");
			break;
		}
		/* Fields as the go command splits them: runs of white space. */
		const char *f[GOSUM_FIELDS + 1];
		size_t fl[GOSUM_FIELDS + 1], nf = 0;
		for (const char *p = s, *end = s + n; p < end && nf <= GOSUM_FIELDS;) {
			while (p < end && isspace((unsigned char)*p)) {
				p++;
			}
			const char *e = p;
			while (e < end && !isspace((unsigned char)*e)) {
				e++;
			}
			if (e > p) {
				f[nf] = p;
				fl[nf++] = (size_t)(e - p);
			}
			p = e;
		}
		if (nf == 0) {
			continue;
		}
		if (nf != GOSUM_FIELDS) {
			r = dep_error(c, ln.no, 0, "a go.sum line is 'module version hash'");
			break;
		}
		const char *path = dep_strndup(c, f[0], fl[0]);
		char *version = dep_strndup(c, f[1], fl[1]);
		const char *hash = dep_strndup(c, f[2], fl[2]);
		size_t vn = fl[1];
		bool go_mod_only = vn > 7 && str_eq(version + vn - 7, "/go.mod");
		if (go_mod_only) {
			version[vn - 7] = '\0';
		}
		if (!valid_version(version)) {
			r = dep_error(c, ln.no, 0, "'%s' is not a module version", version);
			break;
		}
		const char *colon = strchr(hash, ':');
		if (!colon || colon == hash || !colon[1]) {
			r = dep_error(c, ln.no, 0, "'%s' is not a hash (h1:...)", hash);
			break;
		}
		if (go_mod_only) {
			continue; /* only its go.mod was read, for the module graph: not built */
		}
		if (excluded(c, m, path, version)) {
			continue; /* go.mod's exclude: the go command skips it for a higher one */
		}
		uintptr_t at = (uintptr_t)hmap_get(index, path);
		if (at == 0) {
			GROW(mods, cap_mods, n_mods + 1);
			mods[n_mods++] = (struct sum_mod){ path, version, ln.no };
			hmap_put(index, path, (void *)(uintptr_t)n_mods);
		} else if (semver_compare(version, mods[at - 1].version) > 0) {
			mods[at - 1].version = version;
			mods[at - 1].line = ln.no;
		}
	}
	/*
	 * A module go.mod replaces is not built: its replacement is, and is reported as go.mod
	 * reports a required module's (at the replace line; a local path without a version).
	 * The replacement's own go.sum entries then add nothing more.
	 */
	const char *sum_file = c->file;
	c->file = mod_file;
	for (size_t i = 0; i < n_mods && r == 0; i++) {
		const struct sum_mod *q = &mods[i];
		const struct gomod_rep *p = replacement(c, m, q->path, q->version);
		if (!p || hmap_get(in_mod, q->path)) {
			continue;
		}
		hmap_put(in_mod, p->new_path, (void *)1);
		const char *v = p->new_version[0] == 'v' ? p->new_version + 1 : p->new_version;
		bool added;
		if (!dep_add_unique(c, dep_printf(c, "%s@%s", p->new_path, v), ECO_GO, p->new_path,
				    v, p->line, &added)) {
			r = dep_error(c, p->line, 0, "too many packages");
		}
	}
	c->file = sum_file;
	for (size_t i = 0; i < n_mods && r == 0; i++) {
		const struct sum_mod *q = &mods[i];
		if (hmap_get(in_mod, q->path) || replacement(c, m, q->path, q->version)) {
			continue;
		}
		const char *v = q->version + 1;
		bool added;
		if (!dep_add_unique(c, dep_printf(c, "%s@%s", q->path, v), ECO_GO, q->path, v,
				    q->line, &added)) {
			r = dep_error(c, q->line, 0, "too many packages");
		}
	}
	free(mods);
	hmap_free(index);
	hmap_free(in_mod);
	return r;
}

/* Read the go.sum beside the go.mod (c->path), or the one given as a buffer. */
static int read_go_sum(struct dep_ctx *c, const struct gomod *m)
{
	const char *display = c->sum_display;
	char *buf = NULL;
	size_t len = 0;
	int r;
	if (display) {
		if (!c->sum) {
			return 0;
		}
		buf = xmalloc(c->sum_len + 1);
		memcpy(buf, c->sum, c->sum_len);
		len = c->sum_len;
	} else {
		if (!c->path) {
			return 0; /* parsing a buffer: nothing is beside it */
		}
		const char *slash = strrchr(c->path, '/');
		_cleanup_free_ char *path =
			slash ? xasprintf("%.*s/go.sum", (int)(slash - c->path), c->path)
			      : xstrdup("go.sum");
		const char *dslash = strrchr(c->file, '/');
		display = dslash ? dep_printf(c, "%.*s/go.sum", (int)(dslash - c->file), c->file)
				 : "go.sum";
		/* No links (as the walk), and never block on a FIFO named go.sum. */
		_cleanup_close_ int fd =
			open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
		struct stat st;
		if (fd < 0 && errno == ENOENT) {
			return 0;
		}
		if (fd < 0 || fstat(fd, &st) < 0) {
			r = -errno;
		} else if (!S_ISREG(st.st_mode)) {
			r = -EINVAL;
		} else if ((uint64_t)st.st_size > DEPS_MAX_FILE_BYTES) {
			r = -EFBIG;
		} else {
			r = read_fd_capped(fd, DEPS_MAX_FILE_BYTES, &buf, &len);
			if (r == 0 && dep_count_read(c->l, len) < 0) {
				r = -E2BIG;
			}
		}
		if (r < 0) {
			const char *why = r == -ELOOP	 ? "it is a symbolic link"
					  : r == -EINVAL ? "it is not a regular file"
					  : r == -EFBIG	 ? "it is larger than the 64 MiB cap"
					  : r == -E2BIG	 ? "the scan has read more than its 4 GiB"
							 : strerror(-r);
			diag_error(
				c->dl, display, 0, 0,
				"below go 1.17 the indirect modules are only in go.sum: make it a "
				"regular file, or raise the go directive to 1.17 or later "
				"(go mod tidy -go=1.17)",
				"cannot read %s: %s", display, why);
			free(buf);
			return -EINVAL;
		}
	}
	/* Errors and packages name the go.sum, with its lines. */
	const char *file = c->file;
	c->file = display;
	r = parse_go_sum(c, m, file, buf, len);
	c->file = file;
	free(buf);
	return r;
}

int parse_go_mod(struct dep_ctx *c, const char *buf, size_t len)
{
	struct gomod m = { 0 };
	const char *block = NULL; /* verb of an open ( block */
	const char *go_version = NULL;
	unsigned go_line = 0, lineno = 0, block_line = 0;
	const char *end = buf + len;
	int r = 0;
	for (const char *p = buf; p < end && r == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *tok[GOMOD_MAX_TOKENS];
		size_t n;
		if (memchr(p, '\0', (size_t)(le - p))) {
			r = dep_error(c, lineno, 0, "NUL byte");
			break;
		}
		r = tokenize(c, p, le, lineno, tok, &n);
		p = nl ? nl + 1 : end;
		if (r < 0 || n == 0) {
			continue;
		}
		if (block) {
			if (n == 1 && str_eq(tok[0], ")")) {
				block = NULL;
				continue;
			}
			r = directive(c, &m, block, tok, n, lineno, &go_version, &go_line);
			continue;
		}
		if (n == 2 && str_eq(tok[1], "(")) {
			block = tok[0];
			block_line = lineno;
			/* Check the verb now, so an unknown one is reported at its line. */
			static const char *const known[] = { "module",	"go",	   "toolchain",
							     "godebug", "require", "exclude",
							     "replace", "retract", "tool",
							     "ignore" };
			bool ok = false;
			for (size_t i = 0; i < ARRAY_SIZE(known) && !ok; i++) {
				ok = str_eq(block, known[i]);
			}
			if (!ok) {
				r = dep_error(c, lineno, 1, "unknown directive '%s'", block);
			}
			continue;
		}
		r = directive(c, &m, tok[0], tok + 1, n - 1, lineno, &go_version, &go_line);
	}
	if (r == 0 && block) {
		r = dep_error(c, block_line, 0, "'%s (' is never closed", block);
	}
	if (r == 0) {
		index_gomod(c, &m);
	}
	for (size_t i = 0; i < m.n && r == 0; i++) {
		const struct gomod_req *q = &m.req[i];
		const struct gomod_rep *p = replacement(c, &m, q->path, q->version);
		const char *path = p ? p->new_path : q->path;
		const char *v = p ? p->new_version : q->version;
		unsigned line = p ? p->line : q->line;
		if (*v == 'v') {
			v++;
		}
		bool added;
		if (!dep_add_unique(c, dep_printf(c, "%s@%s", path, v), ECO_GO, path, v, line,
				    &added)) {
			r = dep_error(c, line, 0, "too many packages");
		}
	}
	/* The standard library is at least the go line's version, and at least the
	 * toolchain's: the go command switches to that toolchain when the local one is
	 * older (GOTOOLCHAIN=auto, the default). */
	const char *std_version = go_version;
	if (r == 0 && m.toolchain) {
		_cleanup_free_ char *tc = eco_go_version(m.toolchain);
		_cleanup_free_ char *go = go_version ? eco_go_version(go_version) : NULL;
		if (!go || eco_compare(ECO_GO, tc, go) > 0) {
			std_version = m.toolchain;
			go_line = m.toolchain_line;
		}
	}
	if (r == 0 && std_version) {
		bool added;
		_cleanup_free_ char *stdlib = eco_go_version(std_version);
		if (!dep_add_unique(c, dep_printf(c, "stdlib@%s", stdlib), ECO_GO, "stdlib", stdlib,
				    go_line, &added)) {
			r = dep_error(c, go_line, 0, "too many packages");
		}
	}
	if (r == 0 && !go_mod_complete(go_version)) {
		r = read_go_sum(c, &m);
	}
	free(m.req);
	free(m.rep);
	free(m.exc);
	hmap_free(m.rep_any);
	hmap_free(m.rep_exact);
	hmap_free(m.excluded);
	return r;
}
