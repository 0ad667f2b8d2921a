/*
 * manifest.c - manifests whose project has no lockfile the scan reads.
 *
 * A manifest (package.json, Cargo.toml, pyproject.toml...) names ranges, not what was
 * installed, and the scan does not read it. Beside a lockfile, or in a workspace whose
 * root holds one, its dependencies are read through that lockfile; otherwise they would
 * pass unchecked, so a manifest that declares dependencies and has none is an error that
 * names it and the lockfile to generate. A manifest that declares no dependency (a
 * workspace root's package.json of scripts, a Cargo virtual manifest) is not.
 *
 * Reading a manifest is a look at its text, bounded (MANIFEST_MAX_BYTES, and the scan's
 * byte budget): one that cannot be read, or is larger, is taken to declare dependencies.
 */
#include "arena.h"
#include "diag.h"
#include "parsers.h"
#include "util.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <strings.h>

#include "banned.h"

#define MANIFEST_MAX_BYTES (1u << 20)
/* Workspace patterns of one root that are read (package.json, pnpm-workspace.yaml). */
#define MANIFEST_MAX_GLOBS 256u

enum {
	LOCK_JS = 1u << 0,
	LOCK_CARGO = 1u << 1,
	LOCK_PY = 1u << 2, /* poetry.lock, uv.lock, Pipfile.lock, a requirements file */
	LOCK_UV = 1u << 3,
	LOCK_PIPENV = 1u << 4,
	LOCK_GRADLE = 1u << 5,
	LOCK_GEM = 1u << 6,
	LOCK_COMPOSER = 1u << 7,
	LOCK_PUB = 1u << 8,
	LOCK_MIX = 1u << 9,
	LOCK_NUGET = 1u << 10,
	LOCK_CONAN = 1u << 11,
};

enum mkind {
	M_NONE,
	M_NPM,
	M_CARGO,
	M_PYPROJECT,
	M_PIPFILE,
	M_GRADLE,
	M_GEMFILE,
	M_COMPOSER,
	M_PUBSPEC,
	M_MIX,
	M_NUGET,
	M_CONAN_TXT,
	M_CONAN_PY,
};

static unsigned lock_bit(const char *dname, const char *base)
{
	static const struct {
		const char *name;
		unsigned bits;
	} locks[] = {
		{ "package-lock.json", LOCK_JS },
		{ "npm-shrinkwrap.json", LOCK_JS },
		{ "yarn.lock", LOCK_JS },
		{ "pnpm-lock.yaml", LOCK_JS },
		{ "bun.lock", LOCK_JS },
		/* Refused by the walk on its own (a bun.lock must be beside it): not twice. */
		{ "bun.lockb", LOCK_JS },
		{ "Cargo.lock", LOCK_CARGO },
		{ "poetry.lock", LOCK_PY },
		{ "uv.lock", LOCK_PY | LOCK_UV },
		{ "Pipfile.lock", LOCK_PY | LOCK_PIPENV },
		{ "gradle.lockfile", LOCK_GRADLE },
		{ "buildscript-gradle.lockfile", LOCK_GRADLE },
		{ "Gemfile.lock", LOCK_GEM },
		{ "gems.locked", LOCK_GEM },
		{ "composer.lock", LOCK_COMPOSER },
		{ "pubspec.lock", LOCK_PUB },
		{ "mix.lock", LOCK_MIX },
		{ "packages.lock.json", LOCK_NUGET },
		{ "conan.lock", LOCK_CONAN },
	};
	for (size_t i = 0; i < ARRAY_SIZE(locks); i++) {
		if (str_eq(base, locks[i].name)) {
			return locks[i].bits;
		}
	}
	enum dep_format f;
	if (dep_format_detect_in(dname, base, &f) == 0 && f == DEP_REQUIREMENTS) {
		return LOCK_PY;
	}
	/* requirements/base.txt: the directory of pip's requirements files. */
	if (strcasecmp(base, "requirements") == 0) {
		return LOCK_PY;
	}
	return 0;
}

static enum mkind manifest_kind(const char *base)
{
	if (str_eq(base, "package.json")) {
		return M_NPM;
	}
	if (str_eq(base, "Cargo.toml")) {
		return M_CARGO;
	}
	if (str_eq(base, "pyproject.toml")) {
		return M_PYPROJECT;
	}
	if (str_eq(base, "Pipfile")) {
		return M_PIPFILE;
	}
	if (str_eq(base, "build.gradle") || str_eq(base, "build.gradle.kts")) {
		return M_GRADLE;
	}
	if (str_eq(base, "Gemfile") || str_eq(base, "gems.rb")) {
		return M_GEMFILE;
	}
	if (str_eq(base, "composer.json")) {
		return M_COMPOSER;
	}
	if (str_eq(base, "pubspec.yaml")) {
		return M_PUBSPEC;
	}
	if (str_eq(base, "mix.exs")) {
		return M_MIX;
	}
	if (str_has_suffix(base, ".csproj") || str_has_suffix(base, ".fsproj") ||
	    str_has_suffix(base, ".vbproj")) {
		return M_NUGET;
	}
	if (str_eq(base, "conanfile.txt")) {
		return M_CONAN_TXT;
	}
	if (str_eq(base, "conanfile.py")) {
		return M_CONAN_PY;
	}
	return M_NONE;
}

/* The manifest's text (NUL-terminated, heap), or NULL when it cannot be read within the
 * caps: then it is taken to declare dependencies. */
static char *read_manifest(struct dep_list *l, const char *path, size_t *len)
{
	char *buf = NULL;
	if (read_regular_capped(path, MANIFEST_MAX_BYTES, &buf, len) < 0) {
		return NULL;
	}
	if (dep_count_read(l, *len) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---------- does it declare dependencies? ---------- */

static bool json_members(const json_t *doc, const char *key, bool vendor_only)
{
	const json_t *o = json_object_get(doc, key);
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		(void)v;
		/* composer.json: `php`, `ext-json` are the platform, not packages. */
		if (!vendor_only || strchr(k, '/')) {
			return true;
		}
	}
	return false;
}

static bool json_declares(const char *buf, size_t len, enum mkind k)
{
	json_t *doc = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return true; /* not read: fail closed */
	}
	bool r = k == M_COMPOSER ? json_members(doc, "require", true) ||
					   json_members(doc, "require-dev", true)
				 : json_members(doc, "dependencies", false) ||
					   json_members(doc, "devDependencies", false) ||
					   json_members(doc, "optionalDependencies", false);
	json_decref(doc);
	return r;
}

/* The next line of buf from *p: [s, e) without its line break; false at the end. */
static bool next_line(const char **p, const char *end, const char **s, const char **e)
{
	if (*p >= end) {
		return false;
	}
	*s = *p;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*e = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	while (*s < *e && isspace((unsigned char)**s)) {
		(*s)++;
	}
	while (*e > *s && isspace((unsigned char)(*e)[-1])) {
		(*e)--;
	}
	return true;
}

static bool starts(const char *s, const char *e, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

/* A TOML array value from v (just after `=`) to its closing `]`, across lines: does it
 * hold a string? */
static bool toml_array_has_string(const char *v, const char *end)
{
	int depth = 0;
	for (const char *p = v; p < end; p++) {
		if (*p == '"' || *p == '\'') {
			return true;
		}
		if (*p == '#') {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl : end - 1;
		} else if (*p == '[') {
			depth++;
		} else if (*p == ']' && --depth <= 0) {
			return false;
		} else if (depth == 0 && *p == '\n') {
			return false; /* `dependencies = x`: not an array, nothing read */
		}
	}
	return false;
}

/*
 * TOML manifests, line by line: Cargo.toml, pyproject.toml, Pipfile. A key in a table
 * whose name ends in `dependencies` (Cargo's, poetry's) or that is one dependency's
 * (`[dependencies.serde]`), pyproject's `[project] dependencies` and
 * `[project.optional-dependencies]`/`[dependency-groups]` arrays that hold a string,
 * and a Pipfile's packages.
 */
static bool toml_declares(const char *buf, size_t len, enum mkind k)
{
	const char *p = buf, *end = buf + len, *s, *e;
	char table[256] = "";
	while (next_line(&p, end, &s, &e)) {
		if (s == e || *s == '#') {
			continue;
		}
		const char *b = s + 1 + (s + 1 < e && s[1] == '[');
		/* A table header; not an array's line (`[1, 2],`, `["a"]`) inside a value. */
		if (*s == '[' && b < e && (isalpha((unsigned char)*b) || *b == '_')) {
			const char *c = memchr(b, ']', (size_t)(e - b));
			size_t n = c ? (size_t)(c - b) : 0;
			snprintf(table, sizeof(table), "%.*s", (int)MIN(n, sizeof(table) - 1), b);
			/* (Quoted keys, `target.'cfg(unix)'.dependencies`, are kept as written.) */
			if (k == M_CARGO &&
			    (str_has_prefix(table, "dependencies.") ||
			     strstr(table, ".dependencies.") || strstr(table, "-dependencies."))) {
				return true;
			}
			if (k == M_PYPROJECT && str_has_prefix(table, "tool.poetry.") &&
			    strstr(table, "dependencies.")) {
				return true;
			}
			continue;
		}
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (!eq) {
			continue;
		}
		const char *ke = eq;
		while (ke > s && isspace((unsigned char)ke[-1])) {
			ke--;
		}
		size_t kn = (size_t)(ke - s);
		switch (k) {
		case M_CARGO:
			if (str_has_suffix(table, "dependencies") ||
			    (kn == 12 && !*table && memcmp(s, "dependencies", 12) == 0)) {
				return true;
			}
			break;
		case M_PIPFILE:
			if (*table && !str_eq(table, "source") && !str_eq(table, "requires") &&
			    !str_eq(table, "scripts") && !str_eq(table, "pipenv")) {
				return true;
			}
			break;
		case M_PYPROJECT:
			if (str_has_prefix(table, "tool.poetry") &&
			    str_has_suffix(table, "dependencies")) {
				if (!(kn == 6 && memcmp(s, "python", 6) == 0)) {
					return true;
				}
			} else if ((str_eq(table, "project") && kn == 12 &&
				    memcmp(s, "dependencies", 12) == 0) ||
				   str_eq(table, "project.optional-dependencies") ||
				   str_eq(table, "dependency-groups")) {
				if (toml_array_has_string(eq + 1, end)) {
					return true;
				}
			}
			break;
		default:
			break;
		}
	}
	return false;
}

/*
 * build.gradle(.kts): a `dependencies { ... }` block with anything in it, of the project
 * itself: at the top, or in `buildscript` (its classpath) or `allprojects` (which the
 * project is one of). One in `subprojects { }` or `project(':x') { }` is another
 * project's, which has its own lockfile.
 */
static bool gradle_declares(const char *buf, size_t len)
{
	const char *end = buf + len;
	unsigned depth = 0;
	unsigned watch = 0; /* the depth of the project's dependencies block we are in, or 0 */
	bool own = true;    /* the block at depth 1 is the project's own */
	const char *word = NULL;
	size_t word_len = 0;
	for (const char *p = buf; p < end; p++) {
		if (p + 1 < end && p[0] == '/' && (p[1] == '/' || p[1] == '*')) {
			const char *stop = p[1] == '/'
						   ? memchr(p, '\n', (size_t)(end - p))
						   : memmem(p + 2, (size_t)(end - p - 2), "*/", 2);
			p = stop ? stop + (p[1] == '*') : end - 1;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			continue;
		}
		if (*p == '}') {
			watch = watch == depth ? 0 : watch;
			depth -= depth > 0;
			word = NULL;
			continue;
		}
		if (watch && depth >= watch) {
			return true; /* anything in the block */
		}
		if (*p == '"' || *p == '\'') {
			const char *q = p + 1;
			while (q < end && *q != *p && *q != '\n') {
				q += *q == '\\' ? 2 : 1;
			}
			p = q < end ? q : end - 1;
			word = NULL;
		} else if (isalnum((unsigned char)*p) || *p == '_') {
			const char *w = p;
			while (p + 1 < end && (isalnum((unsigned char)p[1]) || p[1] == '_')) {
				p++;
			}
			word = w;
			word_len = (size_t)(p + 1 - w);
		} else if (*p == '{') {
			bool deps = word && word_len == 12 && memcmp(word, "dependencies", 12) == 0;
			if (depth == 0) {
				own = word && word_len == 11 &&
				      (memcmp(word, "buildscript", 11) == 0 ||
				       memcmp(word, "allprojects", 11) == 0);
			}
			depth++;
			if (deps && !watch && (depth == 1 || (depth == 2 && own))) {
				watch = depth;
			}
			word = NULL;
		} else {
			word = NULL;
		}
	}
	return false;
}

/* Gemfile, gems.rb: a `gem` line, or `gemspec` (the gemspec's dependencies). */
static bool gemfile_declares(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *s, *e;
	while (next_line(&p, end, &s, &e)) {
		if (starts(s, e, "gemspec") || (starts(s, e, "gem") && e - s > 3 &&
						(isspace((unsigned char)s[3]) || s[3] == '('))) {
			return true;
		}
	}
	return false;
}

/* pubspec.yaml: an entry under the top-level dependencies: or dev_dependencies:. */
static bool pubspec_declares(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	bool in = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *s = p;
		p = nl ? nl + 1 : end;
		bool top = s < e && !isspace((unsigned char)*s);
		const char *t = s;
		while (t < e && isspace((unsigned char)*t)) {
			t++;
		}
		if (t == e || *t == '#') {
			continue;
		}
		if (top) {
			in = starts(s, e, "dependencies:") || starts(s, e, "dev_dependencies:");
		} else if (in) {
			return true;
		}
	}
	return false;
}

/* conanfile.txt: a line in [requires], [tool_requires], [build_requires],
 * [test_requires]. */
static bool conan_txt_declares(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *s, *e;
	bool in = false;
	while (next_line(&p, end, &s, &e)) {
		if (s == e || *s == '#') {
			continue;
		}
		if (*s == '[') {
			in = starts(s, e, "[requires]") || starts(s, e, "[tool_requires]") ||
			     starts(s, e, "[build_requires]") || starts(s, e, "[test_requires]");
		} else if (in) {
			return true;
		}
	}
	return false;
}

static bool declares(enum mkind k, const char *buf, size_t len)
{
	switch (k) {
	case M_NPM:
	case M_COMPOSER:
		return json_declares(buf, len, k);
	case M_CARGO:
	case M_PYPROJECT:
	case M_PIPFILE:
		return toml_declares(buf, len, k);
	case M_GRADLE:
		return gradle_declares(buf, len);
	case M_GEMFILE:
		return gemfile_declares(buf, len);
	case M_PUBSPEC:
		return pubspec_declares(buf, len);
	case M_MIX:
		return memmem(buf, len, "{:", 2) != NULL; /* {:plug, "~> 1.0"} */
	case M_NUGET:
		return memmem(buf, len, "<PackageReference", 17) != NULL;
	case M_CONAN_TXT:
		return conan_txt_declares(buf, len);
	case M_CONAN_PY:
		return memmem(buf, len, "requires", 8) != NULL;
	case M_NONE:
		break;
	}
	return false;
}

/* ---------- workspaces ---------- */

static void add_glob(struct deps_dir *d, struct dep_list *l, const char *g, size_t n)
{
	while (n && (g[n - 1] == '/')) {
		n--;
	}
	while (n >= 2 && g[0] == '.' && g[1] == '/') {
		g += 2;
		n -= 2;
	}
	if (!n || d->n_globs >= MANIFEST_MAX_GLOBS) {
		return;
	}
	GROW(d->globs, d->cap_globs, d->n_globs + 1);
	d->globs[d->n_globs] = arena_strndup(l->arena, g, n);
	if (!d->globs[d->n_globs]) {
		abort();
	}
	d->n_globs++;
}

/* package.json's `workspaces` (npm, yarn, bun): an array, or yarn 1's {packages: [...]}. */
static void npm_workspaces(struct deps_dir *d, struct dep_list *l, const char *path)
{
	size_t len;
	_cleanup_free_ char *buf = read_manifest(l, path, &len);
	json_t *doc = buf ? json_loadb(buf, len, 0, NULL) : NULL;
	const json_t *ws = json_object_get(doc, "workspaces");
	if (json_is_object(ws)) {
		ws = json_object_get(ws, "packages");
	}
	size_t i;
	const json_t *v;
	json_array_foreach((json_t *)ws, i, v)
	{
		if (json_is_string(v)) {
			add_glob(d, l, json_string_value(v), json_string_length(v));
		}
	}
	json_decref(doc);
}

/* pnpm-workspace.yaml's `packages:` list, as pnpm writes it: `  - 'packages/<glob>'`, quoted or
 * not, a comment after it. */
static void pnpm_workspaces(struct deps_dir *d, struct dep_list *l, const char *path)
{
	size_t len;
	_cleanup_free_ char *buf = read_manifest(l, path, &len);
	if (!buf) {
		return;
	}
	const char *p = buf, *end = buf + len;
	bool in = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s = p;
		p = nl ? nl + 1 : end;
		if (s < e && !isspace((unsigned char)*s) && *s != '-' && *s != '#') {
			in = starts(s, e, "packages:");
			continue;
		}
		while (s < e && isspace((unsigned char)*s)) {
			s++;
		}
		if (!in || s >= e || *s != '-') {
			continue;
		}
		for (s++; s < e && isspace((unsigned char)*s); s++) {
		}
		if (s >= e) {
			continue;
		}
		if (*s == '"' || *s == '\'') {
			/* Quoted: up to its closing quote (a comment may follow). */
			const char *q = memchr(s + 1, *s, (size_t)(e - s - 1));
			if (!q) {
				continue;
			}
			s++;
			e = q;
		} else {
			const char *hash = memchr(s, '#', (size_t)(e - s));
			e = hash ? hash : e;
			while (e > s && isspace((unsigned char)e[-1])) {
				e--;
			}
		}
		add_glob(d, l, s, (size_t)(e - s));
	}
}

/* Does the text at path hold the line `line` (a TOML table header)? */
static bool has_line(struct dep_list *l, const char *path, const char *line)
{
	size_t len;
	_cleanup_free_ char *buf = read_manifest(l, path, &len);
	if (!buf) {
		return false;
	}
	const char *p = buf, *end = buf + len, *s, *e;
	while (next_line(&p, end, &s, &e)) {
		if ((size_t)(e - s) == strlen(line) && memcmp(s, line, strlen(line)) == 0) {
			return true;
		}
	}
	return false;
}

/* Cargo.toml's [workspace] (d->cargo_ws) and the paths of its `exclude = [...]` (on one line
 * or several), as written: "a", "./tools/b/". A workspace whose exclude cannot be read
 * whole (past MANIFEST_MAX_GLOBS paths) has none of its crates taken as members. */
static void cargo_workspace(struct deps_dir *d, struct dep_list *l, const char *path)
{
	size_t len;
	_cleanup_free_ char *buf = read_manifest(l, path, &len);
	if (!buf) {
		return;
	}
	const char *p = buf, *end = buf + len, *s, *e;
	bool in_ws = false, in_excl = false;
	while (next_line(&p, end, &s, &e)) {
		if (!in_excl && s < e && *s == '[') {
			in_ws = starts(s, e, "[workspace]");
			d->cargo_ws |= in_ws;
			continue;
		}
		if (!in_ws) {
			continue;
		}
		if (!in_excl) {
			while (s < e && isspace((unsigned char)*s)) {
				s++;
			}
			if (!starts(s, e, "exclude")) {
				continue;
			}
			const char *eq = s + strlen("exclude");
			while (eq < e && (*eq == ' ' || *eq == '\t')) {
				eq++;
			}
			if (eq >= e || *eq != '=') {
				continue; /* another key (`excluded`) */
			}
			const char *br = eq ? memchr(eq, '[', (size_t)(e - eq)) : NULL;
			if (!br) {
				continue;
			}
			s = br + 1;
			in_excl = true;
		}
		/* The quoted paths of the array, to its `]` (a `#` comment ends the line). */
		while (s < e && in_excl) {
			if (*s == '"' || *s == '\'') {
				const char *q = memchr(s + 1, *s, (size_t)(e - s - 1));
				if (!q) {
					break;
				}
				const char *g = s + 1;
				size_t n = (size_t)(q - g);
				while (n >= 2 && g[0] == '.' && g[1] == '/') {
					g += 2, n -= 2;
				}
				while (n && g[n - 1] == '/') {
					n--;
				}
				if (d->n_cargo_excl >= MANIFEST_MAX_GLOBS) {
					d->cargo_ws =
						false; /* fail closed: no member is locked by it */
					return;
				}
				if (n) {
					GROW(d->cargo_excl, d->cap_cargo_excl, d->n_cargo_excl + 1);
					d->cargo_excl[d->n_cargo_excl] =
						arena_strndup(l->arena, g, n);
					if (!d->cargo_excl[d->n_cargo_excl]) {
						abort();
					}
					d->n_cargo_excl++;
				}
				s = q + 1;
			} else if (*s == ']') {
				in_excl = false;
			} else if (*s == '#') {
				break;
			} else {
				s++;
			}
		}
	}
}

void deps_dir_enter(struct deps_dir *d, const struct deps_dir *up, struct dep_list *l,
		    const char *path, const char *dname, char *const *names, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->up = up;
	d->path = path;
	for (size_t i = 0; i < n; i++) {
		d->locks |= lock_bit(dname, names[i]);
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", path, names[i]);
		if ((d->locks & LOCK_JS) && str_eq(names[i], "package.json")) {
			npm_workspaces(d, l, sub);
		} else if ((d->locks & LOCK_JS) && str_eq(names[i], "pnpm-workspace.yaml")) {
			pnpm_workspaces(d, l, sub);
		} else if (str_eq(names[i], "Cargo.toml")) {
			cargo_workspace(d, l, sub);
		} else if (str_eq(names[i], "pyproject.toml")) {
			d->uv_ws = has_line(l, sub, "[tool.uv.workspace]");
		}
	}
}

void deps_dir_release(struct deps_dir *d)
{
	free(d->globs);
	d->globs = NULL;
	free(d->cargo_excl);
	d->cargo_excl = NULL;
}

/* dir relative to the ancestor a (NULL when it is not below it). */
static const char *below(const struct deps_dir *a, const char *dir)
{
	size_t n = strlen(a->path);
	if (strncmp(dir, a->path, n) == 0 && dir[n] == '/') {
		return dir + n + 1;
	}
	return NULL;
}

static bool glob_match(const char *g, const char *rel)
{
	if (strstr(g, "**")) {
		/* A `**` pattern: any depth (fnmatch's `*` crosses `/` without FNM_PATHNAME). */
		return fnmatch(g, rel, 0) == 0;
	}
	return fnmatch(g, rel, FNM_PATHNAME) == 0;
}

/* A member of a JS workspace whose root (an ancestor) holds a lockfile: its `workspaces`
 * (or pnpm-workspace.yaml's packages) name the directory, and no `!` pattern excludes it. */
static bool js_member(const struct deps_dir *d)
{
	for (const struct deps_dir *a = d->up; a; a = a->up) {
		const char *rel = (a->locks & LOCK_JS) ? below(a, d->path) : NULL;
		if (!rel) {
			continue;
		}
		bool in = false;
		for (size_t i = 0; i < a->n_globs; i++) {
			const char *g = a->globs[i];
			if (g[0] == '!' && glob_match(g + 1, rel)) {
				in = false;
				break;
			}
			in = in || (g[0] != '!' && glob_match(g, rel));
		}
		if (in) {
			return true;
		}
	}
	return false;
}

static const struct deps_dir *ancestor_with(const struct deps_dir *d, unsigned lock)
{
	for (const struct deps_dir *a = d->up; a; a = a->up) {
		if (a->locks & lock) {
			return a;
		}
	}
	return NULL;
}

/* Is the project of the manifest (of kind k, text buf) locked by a file the scan reads? */
static bool locked(const struct deps_dir *d, enum mkind k, const char *buf, size_t len)
{
	switch (k) {
	case M_NPM:
		return (d->locks & LOCK_JS) || js_member(d);
	case M_CARGO:
		if (d->locks & LOCK_CARGO) {
			return true;
		}
		/* A member's Cargo.lock is its workspace's: the nearest [workspace] above, unless
		 * its `exclude` names the crate's directory or one above it (Cargo's prefix match):
		 * such a crate is a project of its own. */
		for (const struct deps_dir *a = d->up; a; a = a->up) {
			if (!a->cargo_ws) {
				continue;
			}
			const char *rel = below(a, d->path);
			for (size_t i = 0; rel && i < a->n_cargo_excl; i++) {
				size_t n = strlen(a->cargo_excl[i]);
				if (strncmp(rel, a->cargo_excl[i], n) == 0 &&
				    (rel[n] == '\0' || rel[n] == '/')) {
					return false;
				}
			}
			return (a->locks & LOCK_CARGO) != 0;
		}
		return false;
	case M_PYPROJECT:
		if (d->locks & LOCK_PY) {
			return true;
		}
		for (const struct deps_dir *a = d->up; a; a = a->up) {
			if (a->uv_ws) {
				return (a->locks & LOCK_UV) != 0;
			}
		}
		return false;
	case M_PIPFILE:
		return d->locks & LOCK_PIPENV;
	case M_GRADLE:
		return d->locks & LOCK_GRADLE;
	case M_GEMFILE:
		return d->locks & LOCK_GEM;
	case M_COMPOSER:
		return d->locks & LOCK_COMPOSER;
	case M_PUBSPEC:
		/* A pub workspace's member (`resolution: workspace`) is locked at its root. */
		return (d->locks & LOCK_PUB) ||
		       (buf && memmem(buf, len, "resolution: workspace", 21) &&
			ancestor_with(d, LOCK_PUB));
	case M_MIX:
		/* An umbrella's app names the umbrella's mix.lock (`lockfile: "../../mix.lock"`).
		 */
		return (d->locks & LOCK_MIX) ||
		       (buf && memmem(buf, len, "lockfile:", 9) && ancestor_with(d, LOCK_MIX));
	case M_NUGET:
		return d->locks & LOCK_NUGET;
	case M_CONAN_TXT:
	case M_CONAN_PY:
		return d->locks & LOCK_CONAN;
	case M_NONE:
		break;
	}
	return true;
}

static const char *todo(enum mkind k)
{
	switch (k) {
	case M_NPM:
		return "generate its lockfile (`npm install --package-lock-only`, or yarn's, "
		       "pnpm's or bun's) and commit it, or list its directory in the "
		       "`workspaces` of the workspace root that holds the lockfile";
	case M_CARGO:
		return "generate Cargo.lock (`cargo generate-lockfile`) and commit it, or make the "
		       "crate a member of the workspace that holds one";
	case M_PYPROJECT:
		return "lock it (`uv lock`, `poetry lock`, or a requirements.txt from "
		       "`pip-compile`) and commit the lockfile";
	case M_PIPFILE:
		return "generate Pipfile.lock (`pipenv lock`) and commit it";
	case M_GRADLE:
		return "turn on dependency locking and write gradle.lockfile beside it (`gradle "
		       "dependencies --write-locks`), and commit it";
	case M_GEMFILE:
		return "generate Gemfile.lock (`bundle lock`) and commit it";
	case M_COMPOSER:
		return "generate composer.lock (`composer update --no-install`) and commit it";
	case M_PUBSPEC:
		return "generate pubspec.lock (`dart pub get`) and commit it";
	case M_MIX:
		return "generate mix.lock (`mix deps.get`) and commit it";
	case M_NUGET:
		return "set RestorePackagesWithLockFile to true, run `dotnet restore` and commit "
		       "packages.lock.json";
	case M_CONAN_TXT:
	case M_CONAN_PY:
		return "generate conan.lock (`conan lock create .`) and commit it";
	case M_NONE:
		break;
	}
	return "";
}

int deps_check_manifest(const struct deps_dir *d, struct dep_list *l, const char *path,
			const char *base, const char *disp, struct diag_list *dl)
{
	enum mkind k = manifest_kind(base);
	if (k == M_NONE || locked(d, k, NULL, 0)) {
		return 0;
	}
	size_t len = 0;
	_cleanup_free_ char *buf = read_manifest(l, path, &len);
	if (buf && (!declares(k, buf, len) || locked(d, k, buf, len))) {
		return 0;
	}
	diag_error(dl, disp, 0, 0, todo(k),
		   "%s %s and there is no lockfile for it that the scan reads: its "
		   "dependencies would pass unchecked",
		   disp,
		   buf ? "declares dependencies"
		       : "cannot be read (taken to declare dependencies)");
	return -EINVAL;
}
