/*
 * pip.c - requirements.txt (pip's requirements file format).
 *
 * The file is read as pip's preprocess reads it: UTF-8 (after a UTF-8 byte order mark),
 * split with Python's str.splitlines, a line that ends in a backslash joined with the next
 * (join_lines: not a comment line, which ends a continued line instead), then comments
 * (" #..." or "#..." at the start) removed. `-r FILE` includes another
 * file, and so does a constraints file (`-c FILE`: what it pins is installed as soon as
 * anything requires it), in every spelling pip's option parser reads (`-rFILE`,
 * `--requirement=FILE`, `--requirem FILE`...); an include is read relative to the
 * including file, once in a scan (includes may be cyclic, and the walk may find the file
 * too: see dep_mark_read), and one that cannot be read is an error. At most
 * DEPS_MAX_INCLUDES files are read through the includes of one file; an include of a file
 * read already reads nothing and does not count (a constraints file that every file of a
 * set names, a cycle).
 * A URL, VCS URL, path or editable (-e) requirement is named by its #egg= (a URL's; a
 * path's '#' is part of its name, as for pip) or its archive's file name and reported as a
 * direct reference (see url_requirement); an unnamed local directory is the project
 * itself, when it is a project's directory of the scanned tree, and a named local path
 * (an archive, a directory named by #egg= or `name @ file:`) must be there too (see
 * local_path); URL schemes are read in any case. A line is a path when pip takes it for one
 * (looks_like_path): its first word contains a '/' (`wheels/x.whl`, without "./" too),
 * starts with '.' or ends with an archive's suffix; a requirement's name never holds a
 * '/' (an error). Other options are skipped. Environment
 * markers are cut off where pip cuts them (see cut_marker), checked (pipmarker.c) and
 * dropped, and so are per-requirement options (--hash). A requirement's version is
 * V when its specifier pins it: exactly one `==V` or
 * `===V` clause, V a valid PEP 440 version. A lone `>=V` or `~=V` gives V as a lower bound,
 * marked unpinned. Any other specifier (a wildcard `==1.*`, a range, `<`, `!=`, one that
 * does not parse), a direct reference (`name @ URL`) or none gives the placeholder "0.0.0",
 * marked unpinned: never a made-up version that would sort below every real one. A
 * direct reference to a wheel or an sdist whose file name gives the project's name and a
 * valid version (pkg-1.0-py3-none-any.whl, pkg-1.0.tar.gz) has that version, pinned:
 * pip refuses a distribution whose metadata says otherwise. Names
 * are PEP 503-normalised and extras dropped.
 * The same name@version from several files is one package; its groups name the files
 * (without extension) that list it.
 */
#include "parsers.h"

#include "diag.h"
#include "hmap.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

struct pipfile {
	const char *display; /* arena */
	const char *group;   /* the file name without directory and extension */
	const char *dir;     /* directory of the file system path, or NULL */
	size_t file;	     /* an include's index in l->files; SIZE_MAX for the parser's file */
	/* The logical line being read: where its first physical line starts in the file's
	 * text, and that line's number; the end of the text (see at()). */
	const char *from, *text_end;
	unsigned from_line;
};

/* A position in a file as reported: 1-based line and column (0: unknown). */
struct pos {
	unsigned line, col;
};

static struct pos at(const struct pipfile *pf, unsigned line, unsigned col);

static const char *group_of(struct dep_ctx *c, const char *display)
{
	const char *base = strrchr(display, '/');
	base = base ? base + 1 : display;
	const char *dot = strrchr(base, '.');
	return dep_strndup(c, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

static char *normalize_name(struct dep_ctx *c, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	const char *br = memchr(s, '[', n);
	if (br) {
		n = (size_t)(br - s);
	}
	char *tmp = dep_strndup(c, s, n);
	char *norm = eco_normalize_name(ECO_PYPI, tmp);
	char *out = dep_strdup(c, norm);
	free(norm);
	return out;
}

/* What a version specifier says of the version that is installed. */
struct spec {
	const char *version; /* the pinned version or lower bound, else "0.0.0" */
	const char *note;    /* why it is not a pin (NULL when it is) */
};

static char *trim_copy(struct dep_ctx *c, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	return dep_strndup(c, s, n);
}

/*
 * Read a PEP 440 specifier: comma-separated clauses "<op> <version>". It pins V when
 * exactly one clause is `==V` or `===V` and V is a valid PEP 440 version (no wildcard):
 * the other clauses can only be met by V, or nothing installs. Otherwise a `>=V` or `~=V`
 * clause, or a prefix `==V.*`, gives the lower bound V, which is checked (the least
 * version the specifier allows: advisories that affect it are found) and marked
 * unpinned. Anything else (only `<`, `!=`, clauses that do not parse) says nothing of
 * the version: "0.0.0", as for a requirement without one.
 */
static struct spec read_specifier(struct dep_ctx *c, const char *s)
{
	/* Longer operators first: "===" before "==", "<=" before "<". */
	static const char *const ops[] = { "===", "==", "!=", "<=", ">=", "~=", "<", ">" };
	const char *exact = NULL, *lower = NULL, *lower_op = NULL;
	size_t clauses = 0, exacts = 0;
	bool bad = false;
	for (const char *p = s; !bad; p++) {
		size_t n = strcspn(p, ",");
		const char *clause = trim_copy(c, p, n);
		const char *op = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(ops) && !op; i++) {
			op = str_has_prefix(clause, ops[i]) ? ops[i] : NULL;
		}
		const char *v =
			op ? trim_copy(c, clause + strlen(op), strlen(clause + strlen(op))) : "";
		bool valid = *v && pep440_is_valid(v);
		clauses++;
		if (!op || !*v) {
			bad = true;
		} else if (str_eq(op, "==") || str_eq(op, "===")) {
			exacts++;
			exact = valid ? v : NULL;
			size_t vl = strlen(v);
			if (!valid && str_eq(op, "==") && vl > 2 && str_has_suffix(v, ".*")) {
				const char *prefix = dep_strndup(c, v, vl - 2);
				if (pep440_is_valid(prefix)) {
					lower = prefix;
					lower_op = "==";
				}
			}
		} else if (str_eq(op, ">=") || str_eq(op, "~=")) {
			lower = valid ? v : NULL;
			lower_op = op;
		}
		p += n;
		if (!*p) {
			break;
		}
	}
	if (!bad && exacts == 1 && exact) {
		return (struct spec){ exact, NULL };
	}
	if (!bad && lower) {
		return (struct spec){
			lower, clauses == 1 && !str_eq(lower_op, "==")
				       ? dep_printf(c, "only a lower bound (%s %s) is given",
						    lower_op, lower)
				       : dep_printf(c,
						    "the specifier '%s' does not pin a version "
						    "(checked at its least, %s)",
						    s, lower)
		};
	}
	return (struct spec){ "0.0.0",
			      dep_printf(c, "the specifier '%s' does not pin a version", s) };
}

static int add_package(struct dep_ctx *c, const struct pipfile *pf, const char *name,
		       struct spec sp, unsigned lineno, unsigned col);
static struct spec archive_spec(struct dep_ctx *c, const char *path, const char *name,
				const char *note);
static int local_file_url(struct dep_ctx *c, const struct pipfile *pf, const char *url,
			  unsigned lineno, unsigned col);

/* A requirement (not a URL, nor a path) at column col of its line. */
static int add_requirement(struct dep_ctx *c, const struct pipfile *pf, const char *line,
			   unsigned lineno, unsigned col)
{
	/* name[extras], then a specifier (in parentheses, as setuptools allows, or not) or
	 * "@ URL", then maybe per-requirement options (--hash=...). */
	size_t len = strlen(line);
	for (const char *o = line; (o = strchr(o, '-')); o++) {
		if (o > line && isspace((unsigned char)o[-1])) {
			len = (size_t)(o - line);
			break;
		}
	}
	size_t name_len = strcspn(line, "=<>!~@");
	name_len = name_len < len ? name_len : len;
	const char *rest = trim_copy(c, line + name_len, len - name_len);
	while (name_len &&
	       (isspace((unsigned char)line[name_len - 1]) || line[name_len - 1] == '(')) {
		name_len--;
	}
	const char *name = normalize_name(c, line, name_len);
	if (!*name) {
		return 0;
	}
	if (memchr(line, '/', name_len)) {
		/* A path (looks_like_path) is never read as a name: "wheels/x.whl" is no
		 * project, and reported as one it would match no advisory. */
		struct pos w = at(pf, lineno, col);
		return dep_error(c, w.line, w.col, "'%s' is not a project name",
				 trim_copy(c, line, name_len));
	}
	struct spec sp = { "0.0.0", "no version is pinned" };
	size_t rest_len = strlen(rest);
	if (*rest == '@') {
		const char *at = strchr(line, '@');
		const char *url = at + 1 + strspn(at + 1, " \t");
		int r = local_file_url(c, pf, dep_strndup(c, url, strcspn(url, " \t")), lineno,
				       col + (unsigned)(url - line));
		if (r < 0) {
			return r;
		}
		url = dep_strndup(c, url, strcspn(url, "#?; \t"));
		sp = archive_spec(c, url, name, "a direct reference (name @ URL) pins no version");
	} else if (rest_len) {
		sp = read_specifier(c, rest[rest_len - 1] == ')' ? trim_copy(c, rest, rest_len - 1)
								 : rest);
	}
	return add_package(c, pf, name, sp, lineno, col);
}

/* Add the requirement at column col of the logical line lineno. */
static int add_package(struct dep_ctx *c, const struct pipfile *pf, const char *name,
		       struct spec sp, unsigned lineno, unsigned col)
{
	const char *key = dep_printf(c, "%s@%s", name, sp.version);
	bool added;
	struct dep *d = dep_add_unique(c, key, ECO_PYPI, name, sp.version, lineno, &added);
	if (!d) {
		struct pos w = at(pf, lineno, col);
		return dep_error(c, w.line, w.col, "too many packages");
	}
	if (added) {
		d->file = pf->display;
		if (pf->file != SIZE_MAX) {
			c->l->files[pf->file].packages++;
		}
		if (sp.note) {
			d->flags |= DEP_UNPINNED;
			d->note = sp.note;
		}
	}
	dep_add_group(c, d, pf->group);
	return 0;
}

/* Whether word is a URL pip installs from (its is_url: http, https, file, ftp and the VCS
 * schemes git, git+..., hg+..., svn, svn+..., bzr+...). */
static bool is_url(const char *word)
{
	size_t n =
		strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	char scheme[32];
	if (n == 0 || word[n] != ':' || n >= sizeof(scheme)) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		scheme[i] = (char)tolower((unsigned char)word[i]);
	}
	scheme[n] = '\0';
	static const char *const plain[] = { "http", "https", "file", "ftp", "git", "svn" };
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		if (str_eq(scheme, plain[i])) {
			return true;
		}
	}
	return str_has_prefix(scheme, "git+") || str_has_prefix(scheme, "hg+") ||
	       str_has_prefix(scheme, "svn+") || str_has_prefix(scheme, "bzr+");
}

/* The `egg=` of a URL's fragment (pip's [#&]egg=([^&]*)), in the arena; NULL when none. */
static const char *egg_of(struct dep_ctx *c, const char *url)
{
	const char *frag = strchr(url, '#');
	for (const char *p = frag; p; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, "egg=", 4) == 0) {
			return dep_strndup(c, p + 5, strcspn(p + 5, "&"));
		}
	}
	return NULL;
}

/* The archive suffix of a file name, in lower case, or NULL. In any case, as pip's
 * is_archive_file compares it (`x.WHL`, `x.Tar.Gz`): one that did not count would make
 * the line a project named after the path, or a directory of the project's own. */
static const char *archive_suffix(const char *file)
{
	static const char *const suffixes[] = { ".whl",	   ".tar.gz",	".tgz", ".tar.bz2",
						".tbz",	   ".tar.xz",	".txz", ".tlz",
						".tar.lz", ".tar.lzma", ".tar", ".zip" };
	size_t n = strlen(file);
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t k = strlen(suffixes[i]);
		if (n >= k && strcasecmp(file + n - k, suffixes[i]) == 0) {
			return suffixes[i];
		}
	}
	return NULL;
}

/* A path without the extras pip's _strip_extras takes off its end ("x.whl[a,b]" ->
 * "x.whl"), in the arena. */
static const char *strip_extras(struct dep_ctx *c, const char *path)
{
	size_t n = strlen(path);
	const char *open = n > 2 && path[n - 1] == ']' ? strrchr(path, '[') : NULL;
	if (!open || open == path || open + 2 > path + n - 1 || strchr(open, ']') != path + n - 1) {
		return path;
	}
	return dep_strndup(c, path, (size_t)(open - path));
}

/*
 * The project name a distribution's file name gives, when it gives one unambiguously: a
 * wheel, name-version(-build)?-python-abi-platform.whl, and an sdist with one '-' between
 * its name and a valid PEP 440 version (name-1.0.tar.gz). NULL otherwise. *version
 * receives the version it gives (NULL when it is not a valid PEP 440 version): pip
 * refuses a distribution whose metadata says another name or version than its file name.
 */
static const char *name_of_file(struct dep_ctx *c, const char *file, const char **version)
{
	char *f = dep_strdup(c, file);
	const char *suffix = archive_suffix(f);
	*version = NULL;
	if (!suffix) {
		return NULL;
	}
	f[strlen(f) - strlen(suffix)] = '\0';
	size_t dashes = 0;
	for (const char *p = f; *p; p++) {
		dashes += *p == '-';
	}
	char *dash = strchr(f, '-');
	if (!dash || dash == f) {
		return NULL;
	}
	if (str_eq(suffix, ".whl") ? dashes != 4 && dashes != 5
				   : dashes != 1 || !pep440_is_valid(dash + 1)) {
		return NULL;
	}
	*dash = '\0';
	const char *v = dep_strndup(c, dash + 1, strcspn(dash + 1, "-"));
	*version = pep440_is_valid(v) ? v : NULL;
	return f;
}

/*
 * What a direct reference's archive (its URL or path, without fragment or query) says of
 * the version that installs: the version its file name gives, pinned, when the file name
 * names project `name` (normalised); else the placeholder, unpinned, with `note`.
 */
static struct spec archive_spec(struct dep_ctx *c, const char *path, const char *name,
				const char *note)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *version;
	const char *file_name = name_of_file(c, base, &version);
	if (file_name && version &&
	    str_eq(normalize_name(c, file_name, strlen(file_name)),
		   normalize_name(c, name, strlen(name)))) {
		return (struct spec){ version, NULL };
	}
	return (struct spec){ "0.0.0", note };
}

/* Whether s is a project name (PEP 508: letters, digits, '.', '_', '-', starting and
 * ending with a letter or digit), maybe with extras ("[a,b]") after it. */
static bool valid_name(const char *s)
{
	size_t n = strcspn(s, "[");
	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i])) {
			return false;
		}
	}
	return !s[n] || (s[strlen(s) - 1] == ']' && !strchr(s + n + 1, '['));
}

/* What a local path must be: a project's directory, or a distribution's archive. */
enum local_kind {
	LOCAL_PROJECT,
	LOCAL_ARCHIVE,
};

/* Where a local path was looked for, from worst to best. */
enum local_found {
	LOCAL_MISSING_OUTSIDE, /* nothing there, and the place is outside the scanned tree */
	LOCAL_MISSING,	       /* nothing there, inside the tree */
	LOCAL_WRONG_KIND,      /* a project: a file or a device; an archive: anything but a file */
	LOCAL_NOT_PROJECT,     /* a directory without setup.py or pyproject.toml */
	LOCAL_OUTSIDE,	       /* there, but it is (or a link leads) outside the tree */
	LOCAL_FOUND,	       /* a project's directory; an archive's regular file */
};

/* Whether the absolute path abs, its "." and ".." components taken as written, lies in
 * the directory root (absolute, without such components) or is root. */
static bool lexically_inside(const char *root, const char *abs)
{
	_cleanup_free_ char *norm = xmalloc(strlen(abs) + 2);
	size_t n = 0;
	for (const char *p = abs; *p;) {
		while (*p == '/') {
			p++;
		}
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n && norm[n - 1] != '/') {
				n--;
			}
			n -= n ? 1 : 0;
		} else if (len && !(len == 1 && p[0] == '.')) {
			norm[n++] = '/';
			memcpy(norm + n, p, len);
			n += len;
		}
		p += len;
	}
	norm[n] = '\0';
	size_t rl = strlen(root);
	if (str_eq(root, "/")) {
		return true;
	}
	return strncmp(norm, root, rl) == 0 && (norm[rl] == '/' || norm[rl] == '\0');
}

/*
 * Whether a symbolic link on the way to the absolute path, which cannot be resolved,
 * leads out of root (as written: to an absolute path elsewhere, or through ".."). In the
 * stage sandbox what lies outside the tree is not there at all: such a link is dangling,
 * and it is the way out that is wrong, not a missing directory.
 */
static bool link_leads_outside(const char *root, const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *slash = p; slash;) {
		slash = strchr(slash + 1, '/');
		if (slash) {
			*slash = '\0';
		}
		struct stat st;
		if (lstat(p, &st) < 0) {
			return false;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			if (n <= 0) {
				return false;
			}
			target[n] = '\0';
			/* p/../target: the target beside the link, as written */
			_cleanup_free_ char *to = target[0] == '/'
							  ? xstrdup(target)
							  : xasprintf("%s/../%s", p, target);
			if (!lexically_inside(root, to)) {
				return true;
			}
		}
		if (slash) {
			*slash = '/';
		}
	}
	return false;
}

/* What is at the absolute path: a project's directory inside the scanned tree (with a
 * setup.py or a pyproject.toml, as pip's is_installable_dir asks) or an archive's regular
 * file there, as kind asks, or why not. */
static enum local_found look_for(const struct dep_ctx *c, const char *path, enum local_kind kind)
{
	const char *root = c->l->root;
	_cleanup_free_ char *real = dep_realpath_inside(c, path);
	if (!real) {
		if (errno == EXDEV) {
			return LOCAL_OUTSIDE;
		}
		if (!root) {
			return LOCAL_MISSING;
		}
		if (!lexically_inside(root, path)) {
			return LOCAL_MISSING_OUTSIDE;
		}
		return link_leads_outside(root, path) ? LOCAL_OUTSIDE : LOCAL_MISSING;
	}
	struct stat st;
	if (kind == LOCAL_ARCHIVE) {
		return stat(real, &st) == 0 && S_ISREG(st.st_mode) ? LOCAL_FOUND : LOCAL_WRONG_KIND;
	}
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		return LOCAL_WRONG_KIND;
	}
	static const char *const marks[] = { "setup.py", "pyproject.toml" };
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		_cleanup_free_ char *mark = xasprintf("%s/%s", real, marks[i]);
		if (stat(mark, &st) == 0 && S_ISREG(st.st_mode)) {
			return LOCAL_FOUND;
		}
	}
	return LOCAL_NOT_PROJECT;
}

/* A file: URL's path, percent-decoded, in the arena; NULL when it is not a local path
 * (another host than localhost) or decodes to a NUL byte. */
static const char *file_url_path(struct dep_ctx *c, const char *url)
{
	const char *p = url + 5; /* "file:", in any case */
	if (p[0] == '/' && p[1] == '/') {
		size_t host = strcspn(p + 2, "/");
		if (host && !(host == 9 && strncasecmp(p + 2, "localhost", 9) == 0)) {
			return NULL;
		}
		p += 2 + host;
	}
	char *out = dep_strdup(c, p), *o = out;
	for (; *p; p++) {
		if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char hex[3] = { p[1], p[2], '\0' };
			*o = (char)strtol(hex, NULL, 16);
			if (!*o++) {
				return NULL;
			}
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/*
 * A local path that pip installs: a directory, as a project (`.`, `src/mypkg`,
 * `./libs/x`, `-e ../shared/pkg`, a file: URL, also one named by its `#egg=`), or a
 * distribution's archive (`wheels/six-1.16.0-py2.py3-none-any.whl`, `dist/pkg-1.0.tar.gz`,
 * `pkg @ file:///...`), as kind says. A project's directory (setup.py or pyproject.toml)
 * of the scanned tree is the project's own code, not a package from an index; an
 * archive's file there is what its name says. pip reads such a path relative to the
 * directory it runs in, not to the requirements file (pypa/pip#8765), and fails when
 * there is nothing of that kind there: the file's directory and each directory above it,
 * up to the top of the scanned tree, are where it may run. A path that is nothing of its
 * kind in any of them (missing, a file for a project, a directory for an archive, an empty
 * directory, an environment variable the scan cannot know), or that lies or leads (a
 * symbolic link, an absolute path, `..`) outside the tree, is an error: its code, and
 * whatever it requires, would pass unseen (outside the tree, an archive is not the one
 * the scan can see, whatever its name says). `where` is the path as written (a file: URL's
 * path, decoded, or NULL when it names another host). A buffer has no directory to look
 * in: its local paths are not checked.
 */
static int local_path(struct dep_ctx *c, const struct pipfile *pf, const char *word,
		      const char *where, enum local_kind kind, unsigned lineno, unsigned col)
{
	const char *what = kind == LOCAL_ARCHIVE ? "archive" : "project";
	if (!pf->dir) {
		return 0;
	}
	if (!where || !*where) {
		struct pos w = at(pf, lineno, col);
		diag_error(c->dl, c->file, w.line, w.col,
			   kind == LOCAL_ARCHIVE
				   ? "name a file of the project, relative to where pip runs"
				   : "name a directory of the project, relative to where pip runs",
			   "'%s' names no local %s", word,
			   kind == LOCAL_ARCHIVE ? "file" : "directory");
		return -EINVAL;
	}
	if (strstr(where, "${")) {
		struct pos w = at(pf, lineno, col);
		diag_error(c->dl, c->file, w.line, w.col,
			   "name the path without the variable, relative to where pip runs",
			   "the local %s '%s' names an environment variable, whose value the "
			   "scan cannot know",
			   what, word);
		return -EINVAL;
	}
	/* Each place once in a file and its includes: a line repeated costs no look-up, and
	 * the places are capped (each takes a look-up per directory up to the top). */
	if (!c->aux) {
		c->aux = hmap_new(16);
	}
	/* no line holds a \n */
	const char *key =
		dep_printf(c, "%s\n%c%s", pf->dir, kind == LOCAL_ARCHIVE ? 'a' : 'p', where);
	uintptr_t known = (uintptr_t)hmap_get(c->aux, key);
	if (!known && hmap_count(c->aux) >= DEPS_MAX_LOCAL_PROJECTS) {
		struct pos w = at(pf, lineno, col);
		return dep_error(c, w.line, w.col, "more than %u local projects and archives",
				 DEPS_MAX_LOCAL_PROJECTS);
	}
	enum local_found found = known ? (enum local_found)(known - 1) : LOCAL_MISSING_OUTSIDE;
	if (known) {
		/* looked up before */
	} else if (where[0] == '/') {
		found = look_for(c, where, kind);
	} else {
		const char *root = c->l->root;
		_cleanup_free_ char *dir = xstrdup(pf->dir);
		for (;;) {
			_cleanup_free_ char *path =
				xasprintf("%s/%s", str_eq(dir, "/") ? "" : dir, where);
			enum local_found f = look_for(c, path, kind);
			found = f > found ? f : found;
			char *slash = strrchr(dir, '/');
			if (found == LOCAL_FOUND || !root || str_eq(dir, root) || !slash ||
			    !lexically_inside(root, dir)) {
				break;
			}
			slash[slash == dir] = '\0'; /* the directory above ("/" at the top) */
		}
	}
	if (!known) {
		hmap_put(c->aux, key, (void *)(uintptr_t)(found + 1));
	}
	static const char outside[] = "lies outside the scanned tree: what it installs cannot "
				      "be checked",
			  inside[] = "keep the project's code inside the scanned tree, or name the "
				     "package (NAME==VERSION)";
	static const struct {
		const char *what, *hint;
	} said[2][LOCAL_FOUND] = {
		[LOCAL_PROJECT] = {
			[LOCAL_MISSING_OUTSIDE] = { outside, inside },
			[LOCAL_OUTSIDE] = { outside, inside },
			[LOCAL_MISSING] = { "does not exist: there is no such directory beside its "
					    "requirements file or above it in the scanned tree, and "
					    "pip fails on it",
					    "pip reads the path relative to the directory it runs in: "
					    "correct it, or name the package (NAME==VERSION)" },
			[LOCAL_WRONG_KIND] = { "is not a directory: pip installs a path that is a "
					       "project's directory or an archive",
					       "name the project's directory, or the package "
					       "(NAME==VERSION)" },
			[LOCAL_NOT_PROJECT] = { "is a directory without setup.py or pyproject.toml, "
						"which pip cannot install",
						"commit the project (a submodule not checked out is "
						"empty), or name the package (NAME==VERSION)" },
		},
		[LOCAL_ARCHIVE] = {
			[LOCAL_MISSING_OUTSIDE] = { outside, inside },
			[LOCAL_OUTSIDE] = { outside, inside },
			[LOCAL_MISSING] = { "does not exist: there is no such file beside its "
					    "requirements file or above it in the scanned tree, and "
					    "pip fails on it",
					    "pip reads the path relative to the directory it runs in: "
					    "correct it, commit the archive, or name the package "
					    "(NAME==VERSION)" },
			[LOCAL_WRONG_KIND] = { "is not a file: pip installs an archive's path from "
					       "a wheel or an sdist",
					       "name the archive's file, or the package "
					       "(NAME==VERSION)" },
		},
	};
	if (found == LOCAL_FOUND) {
		return 0;
	}
	/* `./pkg#egg=x`: pip looks for a directory of that name, '#' and all. */
	const char *hint =
		found == LOCAL_MISSING && strchr(where, '#')
			? "pip takes a path's '#...' as part of its name (a path has no "
			  "#egg=): name the directory alone, or the package (NAME==VERSION)"
			: said[kind][found].hint;
	struct pos w = at(pf, lineno, col);
	diag_error(c->dl, c->file, w.line, w.col, hint, "the local %s '%s' %s", what, word,
		   said[kind][found].what);
	return -EINVAL;
}

/*
 * A requirement given as a URL, a VCS URL or a path (with -e: editable): pip installs it,
 * named by its `#egg=` or, for an archive, by what its file name says. It is reported like
 * a `name @ URL` reference: the version an archive's file name gives, else the placeholder
 * version, unpinned. A local directory (`.`, `./pkg`, `-e .`, a file: URL) without an
 * `#egg=` is the project's own code, when it is one (local_path): nothing to report.
 * Anything else whose name cannot be told (a VCS or remote URL without `#egg=`, an archive
 * whose file name says no name) is an error: pip installs it, and a scan that skipped it
 * would pass whatever it is. URL schemes are read in any case (RFC 3986): `File:`,
 * `GIT+HTTPS:`.
 */
static int url_requirement(struct dep_ctx *c, const struct pipfile *pf, const char *word,
			   bool editable, unsigned lineno, unsigned col)
{
	bool url = is_url(word);
	bool file_url = url && strncasecmp(word, "file:", 5) == 0;
	/* A path is a file's name as written: pip reads its '#' and '?' as part of it (it
	 * looks for a directory `pkg#egg=x`), and only a URL has a fragment (#egg=) and a
	 * query. */
	const char *name = url ? egg_of(c, word) : NULL;
	const char *path = url ? dep_strndup(c, word, strcspn(word, "#?"))
			       : strip_extras(c, word); /* ./pkg-1.0-py3-none-any.whl[socks] */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	bool archive = archive_suffix(base) != NULL;
	if (!name && archive) {
		const char *version;
		name = name_of_file(c, base, &version);
	}
	if (name && !valid_name(name)) {
		struct pos w = at(pf, lineno, col);
		return dep_error(c, w.line, w.col, "'%s': '%s' is not a project name", word, name);
	}
	if (!name && !archive && (!url || file_url)) {
		return local_path(c, pf, word, file_url ? file_url_path(c, path) : path,
				  LOCAL_PROJECT, lineno, col);
	}
	if (!name) {
		struct pos w = at(pf, lineno, col);
		diag_error(c->dl, c->file, w.line, w.col,
			   "add '#egg=NAME' to the URL, or write the line as 'NAME @ URL'",
			   "malformed pip file: cannot tell the name of the package pip installs "
			   "from '%s'",
			   word);
		return -EINVAL;
	}
	/* Named, and local: there, as the unnamed ones must be. */
	if (!url || file_url) {
		int r = local_path(c, pf, word, file_url ? file_url_path(c, path) : path,
				   archive ? LOCAL_ARCHIVE : LOCAL_PROJECT, lineno, col);
		if (r < 0) {
			return r;
		}
	}
	struct spec sp = archive_spec(c, path, name,
				      editable ? "an editable requirement (-e URL) pins no version"
					       : "a direct reference (a URL) pins no version");
	return add_package(c, pf, normalize_name(c, name, strlen(name)), sp, lineno, col);
}

/* The URL of a `name @ URL`, when it is a file: URL: its path must be there as an
 * unnamed one's must (local_path), an archive's file or a project's directory. */
static int local_file_url(struct dep_ctx *c, const struct pipfile *pf, const char *url,
			  unsigned lineno, unsigned col)
{
	if (!is_url(url) || strncasecmp(url, "file:", 5) != 0) {
		return 0;
	}
	const char *raw = dep_strndup(c, url, strcspn(url, "#?"));
	const char *base = strrchr(raw, '/');
	bool archive = archive_suffix(base ? base + 1 : raw) != NULL;
	return local_path(c, pf, url, file_url_path(c, raw),
			  archive ? LOCAL_ARCHIVE : LOCAL_PROJECT, lineno, col);
}

static int parse_one(struct dep_ctx *c, struct pipfile *pf, const char *buf, size_t len);

static int include_file(struct dep_ctx *c, const struct pipfile *pf, const char *arg,
			unsigned lineno, unsigned col)
{
	if (!pf->dir) {
		return 0; /* parsing a buffer: includes are not followed */
	}
	_cleanup_free_ char *path = arg[0] == '/' ? xstrdup(arg) : xasprintf("%s/%s", pf->dir, arg);
	/* Inside the scanned tree only. */
	_cleanup_free_ char *real = dep_realpath_inside(c, path);
	if (!real && errno == EXDEV) {
		struct pos w = at(pf, lineno, col);
		diag_error(c->dl, pf->display, w.line, w.col, NULL,
			   "the included requirements file %s lies outside the scanned tree", arg);
		return -EINVAL;
	}
	if (!real) {
		int err = errno;
		struct pos w = at(pf, lineno, col);
		diag_error(c->dl, pf->display, w.line, w.col, NULL,
			   "cannot read the included requirements file %s: %s", arg, strerror(err));
		return -EINVAL;
	}
	/* Each file once in a scan: includes may be cyclic, and a file this one includes may
	 * also be found by its name (requirements/base.txt), named, or included by another
	 * file the scan reads: its packages are listed once, on its own lines, whichever
	 * way the scan reached it first. */
	if (!dep_mark_read(c->l, real)) {
		return 0;
	}
	if (++c->includes > DEPS_MAX_INCLUDES) {
		struct pos w = at(pf, lineno, col);
		return dep_error(c, w.line, w.col, "more than %u included requirement files",
				 DEPS_MAX_INCLUDES);
	}
	char *buf = NULL;
	size_t len = 0;
	int r = read_file_capped(real, DEPS_MAX_FILE_BYTES, &buf, &len);
	if (r == 0 && dep_count_read(c->l, len) < 0) {
		free(buf);
		buf = NULL;
		r = -E2BIG;
	}
	if (r < 0) {
		struct pos w = at(pf, lineno, col);
		diag_error(c->dl, pf->display, w.line, w.col, NULL,
			   "cannot read the included requirements file %s: %s", arg,
			   r == -E2BIG ? "the scan has read more than its 4 GiB" : strerror(-r));
		return -EINVAL;
	}
	/* Displayed as a walk of the tree displays it (its real path, inside the tree: the
	 * same name however the include spells it, `./base.txt` or `../requirements/base.txt`);
	 * outside a scan of a tree, relative to the including file's display name. */
	const char *root = c->l->root;
	size_t rl = root ? strlen(root) : 0;
	const char *display = NULL;
	if (root && strncmp(real, root, rl) == 0 && real[rl] == '/' && real[rl + 1]) {
		display = dep_strdup(c, real + rl + 1);
	} else if (root && str_eq(root, "/") && real[1]) {
		display = dep_strdup(c, real + 1);
	} else {
		const char *slash = strrchr(pf->display, '/');
		display = slash ? dep_printf(c, "%.*s/%s", (int)(slash - pf->display), pf->display,
					     arg)
				: dep_strdup(c, arg);
	}
	struct pipfile sub = {
		.display = display,
		.dir = dep_strdup(c, real),
		.file = dep_file_add(c, display),
	};
	char *dslash = strrchr((char *)sub.dir, '/');
	if (dslash && dslash != sub.dir) {
		*dslash = '\0';
	}
	sub.group = group_of(c, sub.display);
	/* Its errors are its own, at its own lines. */
	const char *including = c->file;
	c->file = sub.display;
	r = parse_one(c, &sub, buf, len);
	c->file = including;
	free(buf);
	return r;
}

/* Whether the word (as shlex reads it, no escapes) goes on past p, a quote opened in it
 * being *quote (0: none). */
static bool in_word(const char *p, char quote)
{
	return *p && (quote || !isspace((unsigned char)*p));
}

/* Whether the character at p is text of the word rather than a quote that opens or closes
 * (updating *quote). */
static bool word_text(const char *p, char *quote)
{
	if (*quote && *p == *quote) {
		*quote = 0;
		return false;
	}
	if (!*quote && (*p == '"' || *p == '\'')) {
		*quote = *p;
		return false;
	}
	return true;
}

/*
 * The next word of an option line (as shlex splits it, quotes removed; no escapes), in
 * the arena; NULL at the end. *start (may be NULL) receives where it starts in the line.
 */
static const char *next_word(struct dep_ctx *c, const char **s, const char **start)
{
	const char *p = *s;
	while (isspace((unsigned char)*p)) {
		p++;
	}
	if (start) {
		*start = p;
	}
	if (!*p) {
		*s = p;
		return NULL;
	}
	char *w = dep_strdup(c, p), *o = w;
	char quote = 0;
	for (; in_word(p, quote); p++) {
		if (word_text(p, &quote)) {
			*o++ = *p;
		}
	}
	*o = '\0';
	*s = p;
	return w;
}

/* Where the k-th character of the word (0-based, quotes removed) that starts at raw lies
 * in the line, as an offset from raw: the quotes next_word removed take columns too.
 * Past the word's last character, the end of the word. */
static size_t word_offset(const char *raw, size_t k)
{
	const char *p = raw;
	char quote = 0;
	for (; in_word(p, quote); p++) {
		if (word_text(p, &quote) && k-- == 0) {
			break;
		}
	}
	return (size_t)(p - raw);
}

/* Whether the long option --word names `option`: pip's parser (optparse) takes any prefix
 * of at least `unique` characters, the shortest that no other option of its shares. */
static bool long_option(const char *word, size_t n, const char *option, size_t unique)
{
	return n >= unique && n <= strlen(option) && strncmp(word, option, n) == 0;
}

/*
 * Follow the files an option line includes, spelt as pip reads them: -r FILE, -rFILE,
 * --requirement FILE, --requirement=FILE (or an unambiguous prefix: --requirem), and
 * the same for constraints files (-c, --constraint, --cons). Every one on the line is
 * followed (pip takes the first): their packages are reported either way. Other options
 * include nothing.
 */
static int include_options(struct dep_ctx *c, const struct pipfile *pf, const char *line,
			   unsigned lineno, unsigned col)
{
	const char *p = line;
	const char *start;
	for (const char *w; (w = next_word(c, &p, &start));) {
		unsigned wcol = col + (unsigned)(start - line), acol;
		const char *arg = NULL;
		bool include = false, editable = false;
		if (w[0] == '-' && (w[1] == 'r' || w[1] == 'c' || w[1] == 'e')) {
			include = w[1] != 'e';
			editable = w[1] == 'e';
			arg = w[2] ? w + 2 : NULL;
		} else if (str_has_prefix(w, "--")) {
			size_t n = strcspn(w + 2, "=");
			include = long_option(w + 2, n, "requirement", 8) ||
				  long_option(w + 2, n, "constraint", 4);
			editable = long_option(w + 2, n, "editable", 2);
			arg = w[2 + n] == '=' ? w + 3 + n : NULL;
		}
		if (!include && !editable) {
			continue;
		}
		/* The column of the argument's first character as the file has it. */
		if (arg) {
			acol = wcol + (unsigned)word_offset(start, (size_t)(arg - w));
		} else {
			arg = next_word(c, &p, &start);
			acol = col + (unsigned)(start - line) + (unsigned)word_offset(start, 0);
		}
		if (!arg || !*arg) {
			struct pos wp = at(pf, lineno, wcol);
			return dep_error(c, wp.line, wp.col, "'%s' names no %s", w,
					 editable ? "project" : "file");
		}
		int r = editable ? url_requirement(c, pf, arg, true, lineno, acol)
				 : include_file(c, pf, arg, lineno, acol);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/*
 * The length of the line break at p, 0 when there is none: pip splits a file with
 * Python's str.splitlines, which breaks lines at \n, \r, \r\n, \v, \f, \x1c-\x1e,
 * U+0085, U+2028 and U+2029 (the file is UTF-8, checked before).
 */
static size_t line_break(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t left = (size_t)(end - p);
	if (u[0] == '\r') {
		return left >= 2 && u[1] == '\n' ? 2 : 1;
	}
	if (u[0] == '\n' || u[0] == '\v' || u[0] == '\f' || (u[0] >= 0x1c && u[0] <= 0x1e)) {
		return 1;
	}
	if (u[0] == 0xc2 && left >= 2 && u[1] == 0x85) {
		return 2;
	}
	if (u[0] == 0xe2 && left >= 3 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
		return 3;
	}
	return 0;
}

/* The length of the white space character (as Python's \s and str.strip see it) that
 * starts at p, 0 when there is none. */
static size_t space_at(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t left = (size_t)(end - p);
	if (!left) {
		return 0;
	}
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r') || (u[0] >= 0x1c && u[0] <= 0x1f)) {
		return 1;
	}
	if (u[0] == 0xc2 && left >= 2 && (u[1] == 0x85 || u[1] == 0xa0)) {
		return 2;
	}
	if (left >= 3 && ((u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) ||
			  (u[0] == 0xe2 && u[1] == 0x80 &&
			   (u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf)) ||
			  (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) ||
			  (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80))) {
		return 3;
	}
	return 0;
}

/* The length of the white space character that ends at e (after start), 0 when none. */
static size_t space_before(const char *start, const char *e)
{
	for (size_t k = 1; k <= 3 && (size_t)(e - start) >= k; k++) {
		if (space_at(e - k, e) == k) {
			return k;
		}
	}
	return 0;
}

/* pip's COMMENT_RE, `(^|\s+)#.*$`, matched at the start: a line whose first character
 * after white space is '#'. */
static bool comment_line(const char *s, const char *end)
{
	for (size_t k; (k = space_at(s, end));) {
		s += k;
	}
	return s < end && *s == '#';
}

/* Cut a logical line (NUL-terminated, n bytes) as pip's ignore_comments does: drop a '#'
 * at the start or after white space and what follows, then strip white space. */
static char *without_comment(char *line, size_t n)
{
	char *end = line + n;
	for (char *h = line; (h = memchr(h, '#', (size_t)(end - h))); h++) {
		if (h == line || space_before(line, h)) {
			*h = '\0';
			end = h;
			break;
		}
	}
	for (size_t k; (k = space_at(line, end));) {
		line += k;
	}
	for (size_t k; end > line && (k = space_before(line, end));) {
		end -= k;
	}
	*end = '\0';
	return line;
}

/*
 * Whether the first word of a requirement line names a path, as pip's
 * parse_req_from_line tells: it contains a path separator or starts with '.', or it ends
 * with an archive's suffix, extras aside (`wheels/Django-2.2-py3-none-any.whl`,
 * `dist/urllib3-1.24.1.tar.gz`, also without a directory). A PEP 508 `name@URL`, whose
 * part before the '@' does not look like a path, is a requirement, whatever its URL.
 */
static bool looks_like_path(struct dep_ctx *c, const char *word)
{
	const char *at = strchr(word, '@');
	if (word[0] == '.' || memchr(word, '/', at ? (size_t)(at - word) : strlen(word))) {
		return true;
	}
	return !at && archive_suffix(strip_extras(c, word)) != NULL;
}

/*
 * Cut a requirement line (not an option line) at its environment marker, as pip's
 * parse_req_from_line does: at the first "; " when the line is a URL (a URL may hold a
 * ';': https://host/p;v=1/pkg-1.0.tar.gz), else at the first ';', also inside the URL
 * of a `name @ URL` (pip takes the URL up to it). What follows, up to the options
 * (--hash...), must be a marker (or nothing), or pip refuses the file: so does the scan.
 */
static int cut_marker(struct dep_ctx *c, const struct pipfile *pf, char *line, unsigned lineno,
		      unsigned col)
{
	/* Only in the requirement, before its options: pip's break_args_options ends it at
	 * the first word (split at spaces) that starts with '-'. */
	const char *opts = strstr(line, " -");
	char *args_end = line + (opts ? (size_t)(opts - line) : strlen(line));
	char saved = *args_end;
	*args_end = '\0';
	char *semi = is_url(line) ? strstr(line, "; ") : strchr(line, ';');
	*args_end = saved;
	if (!semi) {
		return 0;
	}
	*semi = '\0';
	const char *m = semi + 1;
	const char *end = args_end;
	for (size_t k; (k = space_at(m, end));) {
		m += k;
	}
	for (size_t k; end > m && (k = space_before(m, end));) {
		end -= k;
	}
	if (m == end || pip_marker_valid(m, (size_t)(end - m))) {
		return 0;
	}
	/* Not quoted in the message: it may be the rest of a URL, credentials and all. */
	struct pos w = at(pf, lineno, col + (unsigned)(m - line));
	diag_error(c->dl, c->file, w.line, w.col,
		   "pip cuts a requirement at its first ';' (a URL line at its first '; '): a "
		   "URL that holds a ';' goes on a line of its own (URL ; MARKER), or with the "
		   "';' written %3B",
		   "malformed pip file: what follows the ';' is not an environment marker, and "
		   "pip refuses the file");
	return -EINVAL;
}

/* A logical line, without comments; col is the column its first character has. */
static int parse_line(struct dep_ctx *c, const struct pipfile *pf, char *line, unsigned lineno,
		      unsigned col)
{
	/* An option line is split into words as pip's shlex splits it: a ';' is part of a
	 * word (`-e git+https://host/p;v=1#egg=x`); a marker there is no option. */
	if (line[0] != '-') {
		int r = cut_marker(c, pf, line, lineno, col);
		if (r < 0) {
			return r;
		}
	}
	size_t n = strlen(line);
	while (n && isspace((unsigned char)line[n - 1])) {
		line[--n] = '\0';
	}
	if (n == 0) {
		return 0;
	}
	if (line[0] == '-') {
		return include_options(c, pf, line, lineno, col);
	}
	const char *p = line;
	const char *word = next_word(c, &p, NULL);
	if (word && (is_url(word) || looks_like_path(c, word))) {
		return url_requirement(c, pf, word, false, lineno, col);
	}
	return add_requirement(c, pf, line, lineno, col);
}

/* One physical line of a requirements file, and what it gives its logical line. */
struct physical {
	const char *p, *le; /* the line, without its line break */
	const char *next;   /* the line after it */
	const char *s, *e;  /* what it adds to its logical line */
	bool comment;	    /* a comment line: never continued, it ends a continued line */
	bool continued;	    /* it ends in a backslash: the next line continues it */
};

/* The physical line at p, as pip's join_lines sees it: a line that ends in a backslash
 * (not a comment line) is continued, and the backslashes at both ends of it are dropped
 * (line.strip("\\")). */
static void physical_line(const char *p, const char *end, struct physical *ph)
{
	const char *le = p;
	size_t br = 0;
	while (le < end && !(br = line_break(le, end))) {
		le++;
	}
	ph->p = p;
	ph->le = le;
	ph->next = le + br;
	ph->comment = comment_line(p, le);
	ph->continued = !ph->comment && le > p && le[-1] == '\\';
	ph->s = p;
	ph->e = le;
	if (ph->continued) {
		while (ph->s < le && *ph->s == '\\') {
			ph->s++;
		}
		while (ph->e > ph->s && ph->e[-1] == '\\') {
			ph->e--;
		}
	}
}

/*
 * Where byte off of the logical line whose first physical line starts at start (line
 * number first) lies in the file: its physical line and 1-based column, counted in bytes
 * as every column of this parser, found by joining the lines again as parse_one joined
 * them. The " " put before a comment line that ends a continued line is at column 1 of
 * that line; an offset past the end is past the end of the last line.
 */
static struct pos physical_position(const char *start, const char *end, unsigned first, size_t off)
{
	size_t done = 0; /* bytes of the logical line before this physical line's */
	struct physical ph;
	for (const char *p = start;; p = ph.next, first++) {
		physical_line(p, end, &ph);
		if (p != start && ph.comment) {
			if (off == done) {
				return (struct pos){ first, 1 };
			}
			done++;
		}
		size_t n = (size_t)(ph.e - ph.s);
		if (off < done + n || !ph.continued || ph.next >= end) {
			return (struct pos){ first,
					     1 + (unsigned)((size_t)(ph.s - ph.p) + off - done) };
		}
		done += n;
	}
}

/*
 * The position to report for column col (1-based, 0: unknown) of the logical line that
 * starts on line `line`: where that character is in the file, on whichever physical line
 * of a continued line it is (the columns the parse counts are the joined line's). Line
 * and column as given when the column is unknown or the line is not the one being read.
 * It joins the line again, in time linear in its length: it is called where an error is
 * reported (which ends the parse), never on the way there.
 */
static struct pos at(const struct pipfile *pf, unsigned line, unsigned col)
{
	if (!col || !pf->from || line != pf->from_line) {
		return (struct pos){ line, col };
	}
	return physical_position(pf->from, pf->text_end, line, col - 1);
}

/* A growing logical line. */
struct logical {
	char *s;
	size_t n, cap;
	unsigned first;	   /* its first physical line, 0 when empty */
	const char *start; /* where that line starts */
};

static void logical_add(struct logical *acc, const char *s, size_t n)
{
	GROW(acc->s, acc->cap, acc->n + n + 1);
	memcpy(acc->s + acc->n, s, n);
	acc->n += n;
	acc->s[acc->n] = '\0';
}

static int logical_done(struct dep_ctx *c, struct pipfile *pf, struct logical *acc)
{
	unsigned first = acc->first;
	acc->first = 0;
	logical_add(acc, "", 0);
	size_t n = acc->n;
	acc->n = 0;
	if (strlen(acc->s) != n) {
		return dep_error(c, first, 0, "NUL byte");
	}
	/* The positions the parse of the line reports are translated from it (at()). */
	pf->from = acc->start;
	pf->from_line = first;
	char *line = without_comment(acc->s, n);
	int r = parse_line(c, pf, line, first, 1 + (unsigned)(line - acc->s));
	pf->from = NULL;
	return r;
}

/*
 * Read a requirements file as pip's preprocess does: decode it (UTF-8, after a UTF-8
 * byte order mark; anything else is an error), split it with str.splitlines, join the
 * lines that end in a backslash with the next (join_lines: the backslashes at both ends
 * of such a line are dropped, and a comment line is never continued: it ends a
 * continued line instead), drop comments. Positions are reported where they are in the
 * file (its physical lines; columns in bytes, after a byte order mark).
 */
static int parse_one(struct dep_ctx *c, struct pipfile *pf, const char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)buf;
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		buf += 3;
		len -= 3;
	} else if (len >= 2 &&
		   ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff) ||
		    (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xfe && u[3] == 0xff))) {
		return dep_error(c, 1, 1,
				 "a UTF-16 or UTF-32 byte order mark: the scan reads UTF-8 "
				 "requirements files only (save it as UTF-8)");
	}
	const char *end = buf + len;
	pf->text_end = end;
	unsigned lineno = 0;
	struct logical acc = { 0 };
	struct physical ph;
	int r = 0;
	for (const char *p = buf; p < end && r == 0; p = ph.next) {
		physical_line(p, end, &ph);
		lineno++;
		size_t n = (size_t)(ph.le - p);
		if (memchr(p, '\0', n)) {
			r = dep_error(c, lineno, 0, "NUL byte");
			break;
		}
		/* pip decodes with the locale's encoding, where other bytes may break lines. */
		if (!utf8_valid(p, n)) {
			r = dep_error(
				c, lineno, 0,
				"not UTF-8 text: the scan reads UTF-8 requirements files only "
				"(save it as UTF-8)");
			break;
		}
		if (!acc.first) {
			acc.first = lineno;
			acc.start = p;
		} else if (ph.comment) {
			logical_add(&acc, " ", 1); /* ends the continued line */
		}
		logical_add(&acc, ph.s, (size_t)(ph.e - ph.s));
		if (!ph.continued) {
			r = logical_done(c, pf, &acc);
		}
	}
	if (r == 0 && acc.first) {
		r = logical_done(c, pf, &acc);
	}
	free(acc.s);
	return r;
}

int parse_requirements(struct dep_ctx *c, const char *buf, size_t len)
{
	struct pipfile pf = { .display = c->file, .group = group_of(c, c->file), .file = SIZE_MAX };
	_cleanup_free_ char *real = c->path ? realpath(c->path, NULL) : NULL;
	if (real) {
		char *slash = strrchr(real, '/');
		pf.dir = dep_strndup(c, real, slash && slash != real ? (size_t)(slash - real) : 1);
		dep_mark_read(c->l, real); /* deps_parse_file did, unless realpath failed then */
	}
	return parse_one(c, &pf, buf, len);
}
