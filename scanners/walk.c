/*
 * walk.c - recursive directory walk with openat/fdopendir (never following symlinks),
 * .gitignore through libgit2, skip rules and counts.
 */
#include "walk.h"

#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <git2.h>
#include <git2/sys/repository.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

static const char *const skip_names[SKIP_COUNT] = {
	[SKIP_IGNORED] = "ignored",	    [SKIP_EXCLUDED] = "excluded",
	[SKIP_VENDORED] = "vendored",	    [SKIP_GENERATED] = "generated",
	[SKIP_TOO_LARGE] = "too_large",	    [SKIP_SYMLINK] = "symlink",
	[SKIP_SPECIAL] = "special",	    [SKIP_BINARY] = "binary",
	[SKIP_UNSUPPORTED] = "unsupported", [SKIP_ALLOWLISTED] = "allowlisted",
	[SKIP_TOO_COMPLEX] = "too_complex",
};

const char *walk_skip_name(enum walk_skip s)
{
	return (unsigned)s < SKIP_COUNT ? skip_names[s] : "unknown";
}

static const char *const never_enter[] = { ".git", ".hg", ".svn", ".runner", NULL };
static const char *const vendored_dirs[] = {
	"vendor",	 "node_modules", "third_party",
	"third-party",	 "thirdparty",	 "bower_components",
	"jspm_packages", ".venv",	 "site-packages",
	"Pods",		 "Carthage",	 NULL,
};

static bool name_in(const char *name, const char *const *list)
{
	for (; *list; list++) {
		if (strcmp(name, *list) == 0) {
			return true;
		}
	}
	return false;
}

bool walk_generated_name(const char *base)
{
	static const char *const suffixes[] = {
		".min.js",	".min.css",   ".min.mjs", ".pb.go", "_pb2.py",
		"_pb2_grpc.py", ".pb.cc",     ".pb.h",	  ".pb.c",  ".g.dart",
		".designer.cs", "-lock.json", ".lock",	  NULL,
	};
	for (const char *const *s = suffixes; *s; s++) {
		if (str_has_suffix(base, *s)) {
			return true;
		}
	}
	return strstr(base, ".generated.") || strstr(base, "_generated.") ||
	       str_eq(base, "package-lock.json");
}

/*
 * The conventions that mark a file as generated, and nothing looser: a hand-written script
 * whose comment says "DO NOT EDIT" on a server, or a code generator that writes such a
 * header from a string, is scanned.
 *   - Go's (https://go.dev/s/generatedcode): a comment line whose text is
 *     `Code generated ... DO NOT EDIT.`, in the comment syntax of any language: a line
 *     comment (#, //, --, ;) or a line of a block comment (C's, or HTML's <!-- -->; a
 *     leading * in it too);
 *   - Facebook's (Phabricator, Cargo): the word `@generated` in a comment, not quoted.
 * As Go asks, the line belongs to the file's header: comment and blank lines before the
 * first other text (which a string literal holding such a header is). Only whole lines of
 * the first GENERATED_HEAD bytes are read (after a UTF-8 byte order mark).
 */
#define GENERATED_HEAD 1024

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Is this comment text (blanks trimmed) a generated-code marker? */
static bool generated_marker(const char *s, size_t n)
{
	static const char pre[] = "Code generated ", suf[] = " DO NOT EDIT.";
	size_t np = sizeof(pre) - 1, ns = sizeof(suf) - 1;
	if (n >= np + ns && memcmp(s, pre, np) == 0 && memcmp(s + n - ns, suf, ns) == 0) {
		return true;
	}
	static const char mark[] = "@generated";
	size_t nm = sizeof(mark) - 1;
	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), mark, nm)); p += nm) {
		/* A word of its own: not `"@generated"`, `x@generated` or `@generated_by`. */
		char after = p + nm < s + n ? p[nm] : ' ';
		if ((p == s || is_blank(p[-1])) && !isalnum((unsigned char)after) &&
		    !strchr("_-@\"'`", after)) {
			return true;
		}
	}
	return false;
}

bool walk_generated_content(const char *head, size_t n)
{
	bool whole = n <= GENERATED_HEAD; /* the file ends within the bytes read */
	n = MIN(n, (size_t)GENERATED_HEAD);
	size_t off = n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	const char *closer = NULL; /* inside a block comment: the text that ends it */
	for (size_t next; off < n; off = next) {
		size_t e = text_line_end(head, n, off, &next);
		if (e == n && !whole) {
			break; /* cut by the limit: not a whole line */
		}
		size_t b = off;
		while (b < e && is_blank(head[b])) {
			b++;
		}
		if (!closer && b == e) {
			continue; /* a blank line */
		}
		const char *t = head + b;
		size_t tn = e - b;
		char rep = '\0';
		if (closer) {
			/* A line of a block comment; a leading `*` is its leader. */
			if (tn && t[0] == '*' && !(tn > 1 && t[1] == '/')) {
				t++;
				tn--;
			}
		} else {
			static const struct {
				const char *open, *close;
			} leaders[] = {
				{ "<!--", "-->" }, { "/*", "*/" }, { "//", NULL },
				{ "--", NULL },	   { "#", NULL },  { ";", NULL },
			};
			size_t k = 0;
			while (k < ARRAY_SIZE(leaders) &&
			       !(tn >= strlen(leaders[k].open) &&
				 memcmp(t, leaders[k].open, strlen(leaders[k].open)) == 0)) {
				k++;
			}
			if (k == ARRAY_SIZE(leaders)) {
				return false; /* code: the header ends here */
			}
			size_t ol = strlen(leaders[k].open);
			rep = leaders[k].open[ol - 1];
			t += ol;
			tn -= ol;
			closer = leaders[k].close;
		}
		bool code_after = false;
		if (closer) {
			const char *c = memmem(t, tn, closer, strlen(closer));
			if (c) {
				/* The comment ends on this line; text after it is code. */
				const char *rest = c + strlen(closer);
				for (; rest < head + e && is_blank(*rest); rest++) {
				}
				code_after = rest < head + e;
				tn = (size_t)(c - t);
				/* `<!-- x --->`, or stars before C's closer: the closer's
				 * first character repeated before it. */
				while (tn && t[tn - 1] == closer[0]) {
					tn--;
				}
				closer = NULL;
			}
		}
		/* `///`, `##`, `;;`, `---`, stars after C's opener: the leader repeated. */
		while (tn && ((rep && t[0] == rep) || is_blank(t[0]))) {
			rep = is_blank(t[0]) ? '\0' : rep;
			t++;
			tn--;
		}
		while (tn && is_blank(t[tn - 1])) {
			tn--;
		}
		if (generated_marker(t, tn)) {
			return true;
		}
		if (code_after) {
			return false;
		}
	}
	return false;
}

struct walker {
	const struct walk_options *o;
	struct walk_result *res;
	git_repository *repo;
	git_index *index;  /* the repository's, when it has one: tracked files are scanned */
	char *repo_prefix; /* root relative to the repository's workdir, "" or "dir/" */
	char *err;
	size_t errlen;
	int r;
};

static int fail(struct walker *w, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct walker *w, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
	w->r = r;
	return r;
}

static bool excluded(const struct walker *w, const char *rel, bool dir)
{
	for (size_t i = 0; i < w->o->n_exclude; i++) {
		if (fnmatch(w->o->exclude[i], rel, 0) == 0) {
			return true;
		}
		if (dir) {
			_cleanup_free_ char *d = xasprintf("%s/", rel);
			if (fnmatch(w->o->exclude[i], d, 0) == 0) {
				return true;
			}
		}
	}
	return false;
}

/* Binary search for the first entry not below rel; for a directory, one must start with
 * "rel/". */
bool walk_listed(const char *const *v, size_t nv, const char *rel, bool dir)
{
	size_t lo = 0, hi = nv, n = strlen(rel);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid], rel) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == nv) {
		return false;
	}
	if (!dir) {
		return strcmp(v[lo], rel) == 0;
	}
	/* Entries "rel/..." sort after "rel" and before "rel0" ('/' < '0'), but "rel-x" or
	 * "rel.c" may come between: search on from there. */
	for (size_t i = lo; i < nv && strncmp(v[i], rel, n) == 0; i++) {
		if (v[i][n] == '/') {
			return true;
		}
	}
	return false;
}

bool walk_must_scan(const struct walk_options *o, const char *rel, bool dir)
{
	return walk_listed(o->must_scan, o->n_must_scan, rel, dir);
}

/*
 * Is p tracked by the index: a file at any stage (one in a merge conflict too), a
 * directory holding one, or anything inside a submodule (a gitlink entry above it: the
 * submodule's files are its own repository's, which the superproject's rules do not
 * govern)?
 */
static bool in_index(git_index *index, const char *p, bool dir)
{
	size_t pos;
	if (dir && git_index_find_prefix(&pos, index, p) == 0) {
		return true;
	}
	for (int stage = 0; !dir && stage <= 3; stage++) {
		if (git_index_get_bypath(index, p, stage)) {
			return true;
		}
	}
	_cleanup_free_ char *up = xstrdup(p);
	size_t n = strlen(up);
	while (n > 0 && up[n - 1] == '/') {
		up[--n] = '\0';
	}
	for (char *slash; (slash = strrchr(up, '/'));) {
		*slash = '\0';
		const git_index_entry *e = git_index_get_bypath(index, up, 0);
		if (e && e->mode == GIT_FILEMODE_COMMIT) {
			return true;
		}
	}
	return false;
}

/* Ignored by .gitignore and not tracked: a file in the index (added with --force, or
 * before the rule) is committed all the same, and is scanned; a directory is entered when
 * the index has a file below it. The repository's .gitignore is its authors' to write: it
 * must not hide what they commit. */
static bool ignored(struct walker *w, const char *rel, bool dir)
{
	if (!w->repo) {
		return false;
	}
	_cleanup_free_ char *p = xasprintf("%s%s%s", w->repo_prefix, rel, dir ? "/" : "");
	int ign = 0;
	if (git_ignore_path_is_ignored(&ign, w->repo, p) < 0 || ign != 1) {
		return false;
	}
	if (w->index && in_index(w->index, p, dir)) {
		return false; /* tracked */
	}
	return !walk_listed(w->o->tracked, w->o->n_tracked, rel, dir);
}

static void add_file(struct walker *w, const char *rel, uint64_t size)
{
	struct walk_result *res = w->res;
	if (res->n >= WALK_MAX_FILES) {
		fail(w, -E2BIG, "more than %d files to scan; narrow the paths or exclude some",
		     WALK_MAX_FILES);
		return;
	}
	GROW(res->files, res->cap, res->n + 1);
	res->files[res->n++] = (struct walk_file){ xstrdup(rel), size };
}

/* A file above the size cap: counted, and listed when the caller wants to know. */
static void too_large(struct walker *w, const char *rel, uint64_t size)
{
	struct walk_result *res = w->res;
	res->skipped[SKIP_TOO_LARGE]++;
	if (!w->o->keep_too_large) {
		return;
	}
	if (res->n_large >= WALK_MAX_FILES) {
		fail(w, -E2BIG, "more than %d files to scan; narrow the paths or exclude some",
		     WALK_MAX_FILES);
		return;
	}
	GROW(res->large, res->cap_large, res->n_large + 1);
	res->large[res->n_large++] = (struct walk_file){ xstrdup(rel), size };
}

/* A file of the walk; inherit: the reason its directory would have been skipped for (0:
 * none), which applies to it unless it is one that must be scanned. */
static void consider_file(struct walker *w, const char *rel, const char *base,
			  const struct stat *st, int inherit)
{
	struct walk_result *res = w->res;
	if (S_ISLNK(st->st_mode)) {
		res->skipped[SKIP_SYMLINK]++;
		return;
	}
	if (!S_ISREG(st->st_mode)) {
		res->skipped[SKIP_SPECIAL]++;
		return;
	}
	bool must = walk_must_scan(w->o, rel, false);
	if (inherit && !must) {
		res->skipped[inherit]++;
		return;
	}
	if (!must && excluded(w, rel, false)) {
		res->skipped[SKIP_EXCLUDED]++;
		return;
	}
	if (!must && ignored(w, rel, false)) {
		res->skipped[SKIP_IGNORED]++;
		return;
	}
	if (!must && !w->o->scan_generated && walk_generated_name(base)) {
		res->skipped[SKIP_GENERATED]++;
		return;
	}
	if (w->o->max_file_size && (uint64_t)st->st_size > w->o->max_file_size) {
		too_large(w, rel, (uint64_t)st->st_size);
		return;
	}
	add_file(w, rel, (uint64_t)st->st_size);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct walk_file *)a)->path, ((const struct walk_file *)b)->path);
}

/* Sort by path and drop repeats; returns the new count. */
static size_t sort_unique(struct walk_file *v, size_t n)
{
	if (n < 2) {
		return n;
	}
	qsort(v, n, sizeof(v[0]), cmp_file);
	size_t k = 1;
	for (size_t i = 1; i < n; i++) {
		if (str_eq(v[i].path, v[k - 1].path)) {
			free(v[i].path);
		} else {
			v[k++] = v[i];
		}
	}
	return k;
}

/* Walk the directory open at dfd, whose root-relative path is rel ("" for the root). */
static void walk_dir(struct walker *w, int dfd, const char *rel, unsigned depth, int inherit)
{
	if (depth > WALK_MAX_DEPTH) {
		fail(w, -ELOOP, "%s: directories nested deeper than %d levels", rel,
		     WALK_MAX_DEPTH);
		close(dfd);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		fail(w, -errno, "cannot list %s: %s", *rel ? rel : ".", strerror(errno));
		close(dfd);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (str_eq(de->d_name, ".") || str_eq(de->d_name, "..")) {
			continue;
		}
		GROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	if (errno) {
		fail(w, -errno, "cannot list %s: %s", *rel ? rel : ".", strerror(errno));
	}
	if (n > 1) {
		qsort(names, n, sizeof(char *), cmp_str);
	}
	for (size_t i = 0; i < n && w->r == 0; i++) {
		const char *name = names[i];
		_cleanup_free_ char *child = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			fail(w, -errno, "cannot read %s: %s", child, strerror(errno));
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			consider_file(w, child, name, &st, inherit);
			continue;
		}
		if (!w->o->enter_vcs && name_in(name, never_enter)) {
			continue;
		}
		int skip = inherit;
		if (!skip && !w->o->scan_vendored && name_in(name, vendored_dirs)) {
			skip = SKIP_VENDORED;
		} else if (!skip && excluded(w, child, true)) {
			skip = SKIP_EXCLUDED;
		} else if (!skip && ignored(w, child, true)) {
			skip = SKIP_IGNORED;
		}
		/* A directory skipped as a whole is entered only for the files in it that must
		 * be scanned. */
		if (skip && !walk_must_scan(w->o, child, true)) {
			w->res->skipped[skip]++;
			continue;
		}
		int cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			fail(w, -errno, "cannot open %s: %s", child, strerror(errno));
			break;
		}
		walk_dir(w, cfd, child, depth + 1, skip);
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	closedir(d);
}

/*
 * libgit2's settings are global to the process: the walk changes them for its own use and
 * puts them back, so that nothing else in the process (the run's git information, a
 * server's next run) sees ownership checks disabled.
 */
static const int config_levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_GLOBAL,
				     GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_PROGRAMDATA };

struct git_settings {
	int owner_validation;
	char *search_path[ARRAY_SIZE(config_levels)];
};

static void settings_isolate(struct git_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->owner_validation = 1;
	git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &s->owner_validation);
	for (size_t i = 0; i < ARRAY_SIZE(config_levels); i++) {
		git_buf b = { 0 };
		if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, config_levels[i], &b) == 0 && b.ptr) {
			s->search_path[i] = xstrdup(b.ptr);
		}
		git_buf_dispose(&b);
		/* Only the repository's own files count: no system, global or XDG configuration
		 * (and so no global excludes file), the same result on every machine. */
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, config_levels[i], "");
	}
	/* Only ignore rules are read, from a tree we were asked to scan. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

static void settings_restore(struct git_settings *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_levels); i++) {
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, config_levels[i], s->search_path[i]);
		free(s->search_path[i]);
	}
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, s->owner_validation);
}

/* The non-bare repository whose working tree holds root: opened at git_dir when given,
 * else looked for from root upwards; *top_len is the length of its top's path. NULL if
 * none. */
static git_repository *repo_holding(const char *root, const char *git_dir, size_t *top_len)
{
	git_repository *repo = NULL;
	int r = git_dir ? git_repository_open(&repo, git_dir)
			: git_repository_open_ext(&repo, root, 0, NULL);
	if (r == 0 && !git_repository_is_bare(repo)) {
		const char *wd = git_repository_workdir(repo);
		char real_wd[PATH_MAX];
		if (wd && realpath(wd, real_wd)) {
			size_t n = strlen(real_wd);
			if (strncmp(root, real_wd, n) == 0 && (root[n] == '/' || root[n] == '\0')) {
				*top_len = n;
				return repo;
			}
		}
	}
	git_repository_free(repo);
	return NULL;
}

/* The repository whose ignore rules apply, and root's place in its working tree. */
static void open_repo(struct walker *w, const char *root)
{
	size_t n;
	git_repository *repo = repo_holding(root, w->o->git_dir, &n);
	/* Without an index (and without `tracked`), nothing says what .gitignore must not
	 * hide: where the caller asks, .gitignore is then not read at all. */
	bool need_index = w->o->gitignore_needs_index && !w->o->tracked;
	if (repo) {
		if (git_repository_index(&w->index, repo) < 0) {
			w->index = NULL;
			if (need_index) {
				git_repository_free(repo);
				return; /* an index that cannot be read */
			}
		}
		w->repo = repo;
		w->repo_prefix = root[n] ? xasprintf("%s/", root + n + 1) : xstrdup("");
		return;
	}
	/* Not in a repository: a repository without storage, whose working tree is root,
	 * reads the tree's .gitignore files, unless an index is needed. */
	if (need_index) {
		return;
	}
	if (git_repository_new(&repo) == 0 && git_repository_set_workdir(repo, root, 0) == 0) {
		w->repo = repo;
		w->repo_prefix = xstrdup("");
		return;
	}
	git_repository_free(repo);
}

int walk_run(const struct walk_options *o, struct walk_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	struct walker w = { .o = o, .res = res, .err = err, .errlen = errlen };
	char root[PATH_MAX];
	if (!o->root || !realpath(o->root, root)) {
		return errf(err, errlen, -ENOENT, "cannot read the scan root %s: %s",
			    o->root ? o->root : "(none)", strerror(errno));
	}
	struct git_settings saved;
	if (!o->no_gitignore) {
		git_libgit2_init();
		settings_isolate(&saved);
		open_repo(&w, root);
	}
	const char *dot = ".";
	const char *const *paths = o->n_paths ? o->paths : &dot;
	size_t np = o->n_paths ? o->n_paths : 1;
	size_t rl = strlen(root);
	for (size_t i = 0; i < np && w.r == 0; i++) {
		const char *p = paths[i];
		_cleanup_free_ char *full = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", root, p);
		char real[PATH_MAX];
		if (!realpath(full, real)) {
			fail(&w, -errno, "cannot read %s: %s", p, strerror(errno));
			break;
		}
		if (strncmp(real, root, rl) != 0 ||
		    (real[rl] != '/' && real[rl] != '\0' && rl > 1)) {
			fail(&w, -EXDEV, "%s is outside the scanned tree %s", p, root);
			break;
		}
		const char *rel = real[rl] == '/' ? real + rl + 1 : real + rl;
		if (rl == 1) {
			rel = real + 1; /* root is "/" */
		}
		struct stat st;
		if (stat(real, &st) < 0) {
			fail(&w, -errno, "cannot read %s: %s", p, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				fail(&w, -errno, "cannot open %s: %s", p, strerror(errno));
				break;
			}
			walk_dir(&w, fd, rel, 0, 0);
		} else {
			/* A file named explicitly is scanned even when ignored or vendored, but not
			 * when it is too large, special or excluded. */
			const char *base = strrchr(rel, '/');
			base = base ? base + 1 : rel;
			if (!S_ISREG(st.st_mode)) {
				res->skipped[SKIP_SPECIAL]++;
			} else if (excluded(&w, rel, false)) {
				res->skipped[SKIP_EXCLUDED]++;
			} else if (o->max_file_size && (uint64_t)st.st_size > o->max_file_size) {
				too_large(&w, rel, (uint64_t)st.st_size);
			} else {
				(void)base;
				add_file(&w, rel, (uint64_t)st.st_size);
			}
		}
	}
	git_index_free(w.index);
	if (w.repo) {
		git_repository_free(w.repo);
	}
	free(w.repo_prefix);
	if (!o->no_gitignore) {
		settings_restore(&saved);
		git_libgit2_shutdown();
	}
	if (w.r < 0) {
		walk_result_release(res);
		return w.r;
	}
	/* The same file named twice (a path and its parent) is scanned once. */
	res->n = sort_unique(res->files, res->n);
	res->n_large = sort_unique(res->large, res->n_large);
	return 0;
}

void walk_result_release(struct walk_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->files[i].path);
	}
	for (size_t i = 0; i < res->n_large; i++) {
		free(res->large[i].path);
	}
	free(res->files);
	free(res->large);
	memset(res, 0, sizeof(*res));
}

static bool has_dot_git(const char *dir)
{
	_cleanup_free_ char *p = xasprintf("%s/.git", dir);
	struct stat st;
	return lstat(p, &st) == 0;
}

/* A directory of a repository, canonical and without a trailing slash; NULL if it cannot
 * be resolved. */
static char *repo_dir(const char *path)
{
	return path ? realpath(path, NULL) : NULL;
}

int walk_repo_find(const char *root, char **top, char **git_dir, char **common_dir)
{
	struct git_settings saved;
	size_t n;
	*top = *git_dir = *common_dir = NULL;
	/* No .git entry at root or above: no repository (libgit2's start-up, which reads
	 * the system's certificates, is not needed to say so). */
	_cleanup_free_ char *prefix = NULL, *probe_top = NULL;
	if (walk_repo_prefix(root, &prefix, &probe_top) < 0 || !has_dot_git(probe_top)) {
		return -ENOENT;
	}
	git_libgit2_init();
	settings_isolate(&saved);
	git_repository *repo = repo_holding(root, NULL, &n);
	if (repo) {
		*top = xstrndup(root, n);
		*git_dir = repo_dir(git_repository_path(repo));
		*common_dir = repo_dir(git_repository_commondir(repo));
	}
	git_repository_free(repo);
	settings_restore(&saved);
	git_libgit2_shutdown();
	if (!*git_dir || !*common_dir) {
		free(*top);
		free(*git_dir);
		free(*common_dir);
		*top = *git_dir = *common_dir = NULL;
		return -ENOENT;
	}
	return 0;
}

int walk_repo_prefix(const char *dir, char **prefix, char **top)
{
	char real[PATH_MAX];
	*prefix = NULL;
	*top = NULL;
	if (!realpath(dir, real)) {
		return -errno;
	}
	/* The nearest directory with a .git entry (a directory, or a file for worktrees and
	 * submodules). Plain file system checks: no library state to change. */
	size_t n = strlen(real);
	char probe[PATH_MAX];
	while (n > 0) {
		snprintf(probe, sizeof(probe), "%.*s/.git", (int)n, real);
		struct stat st;
		if (lstat(probe, &st) == 0) {
			*top = xstrndup(real, n);
			*prefix = real[n] ? xasprintf("%s/", real + n + 1) : xstrdup("");
			return 0;
		}
		while (n > 0 && real[n - 1] != '/') {
			n--;
		}
		if (n > 0) {
			n--; /* drop the slash */
		}
	}
	*top = xstrdup(real);
	*prefix = xstrdup("");
	return 0;
}
