/*
 * uv.c - uv.lock (TOML), lockfile version 1 (any `revision`: later revisions only add
 * what older readers may ignore, as uv's own versioning says). Every [[package]] names a
 * package with its version and a `source`, an inline table of one of these kinds:
 *
 *   registry   a package from an index, at the version given: reported;
 *   git        a repository at a commit (the URL's fragment): reported with the version
 *              its metadata gives and the commit, as the other lockfiles' git packages;
 *   url        an archive named by URL: reported at its version;
 *   path       a local archive, and directory, a local tree installed as a package:
 *              reported at their version ("" when the file gives none);
 *   editable   a local tree installed editable: the project (path ".") and its
 *              workspace members (named in `[manifest] members`, which uv writes for a
 *              workspace) are the project's own code, not reported; any other (a path
 *              dependency declared `editable = true`) is reported like a directory;
 *   virtual    a project that is not a package: the project's own code, not reported.
 *
 * Names are PEP 503-normalised (uv writes them so already). A package listed twice (the
 * same name at the same version, or commit) is reported once, on its first line. Another
 * lockfile `version` (uv bumps it only for changes older readers must not read), a
 * [[distribution]] of uv's previews, a package without a name, a source or (from an
 * index, a repository or a URL) a version, a source of a kind not listed here, an
 * editable source whose path is not a string and `[manifest] members` that are not an
 * array of strings are errors: a package that is not read must not pass unnoticed.
 */
#include "parsers.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

#define UV_LOCK_VERSION 1

static int check_version(struct dep_ctx *c, const json_t *root, const char *buf, size_t len)
{
	const json_t *v = json_object_get(root, "version");
	unsigned line = toml_root_key_line(buf, len, "version");
	line = line ? line : 1;
	if (!v) {
		return dep_error(c, 1, 0, "no lockfile version (`version = %d`)", UV_LOCK_VERSION);
	}
	if (!json_is_integer(v)) {
		return dep_error(c, line, 0, "the lockfile version is not an integer");
	}
	if (json_integer_value(v) != UV_LOCK_VERSION) {
		return dep_error(c, line, 0,
				 "lockfile version %lld, which runner does not read (it reads "
				 "version %d): a uv.lock of another version may list packages "
				 "where this reader would not look for them",
				 (long long)json_integer_value(v), UV_LOCK_VERSION);
	}
	const json_t *rev = json_object_get(root, "revision");
	if (rev && !(json_is_integer(rev) && json_integer_value(rev) >= 0)) {
		unsigned at = toml_root_key_line(buf, len, "revision");
		return dep_error(c, at ? at : 1, 0,
				 "the lockfile revision is not a non-negative integer");
	}
	if (json_object_get(root, "distribution")) {
		unsigned at = toml_root_key_line(buf, len, "distribution");
		return dep_error(c, at ? at : 1, 0,
				 "[[distribution]] tables of uv's preview format: regenerate the "
				 "file with `uv lock`");
	}
	return 0;
}

enum uv_source {
	UV_REGISTRY,
	UV_GIT,
	UV_URL,
	UV_PATH,
	UV_DIRECTORY,
	UV_EDITABLE,
	UV_VIRTUAL,
};

static const char *const source_kinds[] = {
	[UV_REGISTRY] = "registry",
	[UV_GIT] = "git",
	[UV_URL] = "url",
	[UV_PATH] = "path",
	[UV_DIRECTORY] = "directory",
	[UV_EDITABLE] = "editable",
	[UV_VIRTUAL] = "virtual",
};

/* The kind of a package's source table, or -1 (with the error reported). */
static int source_kind(struct dep_ctx *c, const json_t *src, const char *name, unsigned line)
{
	if (!json_is_object(src)) {
		return dep_error(c, line, 0, "package %s has no source table", name);
	}
	int kind = -1;
	for (size_t i = 0; i < ARRAY_SIZE(source_kinds); i++) {
		if (!json_object_get(src, source_kinds[i])) {
			continue;
		}
		if (kind >= 0) {
			return dep_error(c, line, 0, "package %s has two sources (%s and %s)", name,
					 source_kinds[kind], source_kinds[i]);
		}
		kind = (int)i;
	}
	if (kind < 0) {
		const char *key = NULL, *k;
		json_t *v;
		json_object_foreach((json_t *)src, k, v)
		{
			key = key || str_eq(k, TOML_LINE_KEY) ? key : k;
		}
		return dep_error(c, line, 0,
				 "package %s has a source of a kind runner does not read%s%s", name,
				 key ? ": " : "", key ? key : "");
	}
	return kind;
}

/* The commit a git source pins: its URL's fragment ("...?rev=v1#<sha>"), or NULL. */
static const char *git_commit(struct dep_ctx *c, const char *url)
{
	const char *hash = url ? strrchr(url, '#') : NULL;
	return hash && hash[1] ? dep_strdup(c, hash + 1) : NULL;
}

/*
 * Whether an editable package is the project's own code: the project itself (its source
 * path is ".") or a member of its workspace (listed in `[manifest] members`, PEP 503
 * names). members was checked by check_members().
 */
static bool own_editable(const json_t *src, const char *norm, const json_t *members)
{
	if (str_eq(json_string_value(json_object_get(src, "editable")), ".")) {
		return true;
	}
	size_t i;
	json_t *m;
	json_array_foreach(members, i, m)
	{
		char *mn = eco_normalize_name(ECO_PYPI, json_string_value(m));
		bool same = str_eq(mn, norm);
		free(mn);
		if (same) {
			return true;
		}
	}
	return false;
}

/* `[manifest] members`: NULL when there is none, else an array of strings. */
static int check_members(struct dep_ctx *c, const json_t *root, const char *buf, size_t len,
			 const json_t **members)
{
	const json_t *manifest = json_object_get(root, "manifest");
	*members = NULL;
	if (!manifest) {
		return 0;
	}
	unsigned line = (unsigned)json_integer_value(json_object_get(manifest, TOML_LINE_KEY));
	line = line ? line : toml_root_key_line(buf, len, "manifest"); /* not by a header */
	line = line ? line : 1;
	const json_t *m = json_is_object(manifest) ? json_object_get(manifest, "members") : NULL;
	if (!json_is_object(manifest) || (m && !json_is_array(m))) {
		return dep_error(c, line, 0, "[manifest] members is not an array of names");
	}
	size_t i;
	json_t *v;
	json_array_foreach(m, i, v)
	{
		if (!json_is_string(v) || !*json_string_value(v)) {
			return dep_error(c, line, 0, "[manifest] members is not an array of names");
		}
	}
	*members = m;
	return 0;
}

/* A package's table, at its header's line; one that has none (an inline table, in
 * `package = [...]`) at key_line, the line of `package`. */
static int add_package(struct dep_ctx *c, const json_t *pkg, const json_t *members,
		       unsigned key_line)
{
	unsigned line = (unsigned)json_integer_value(json_object_get(pkg, TOML_LINE_KEY));
	line = line ? line : key_line;
	const char *name = json_string_value(json_object_get(pkg, "name"));
	if (!name || !*name) {
		return dep_error(c, line, 0, "a [[package]] without a name");
	}
	const json_t *src = json_object_get(pkg, "source");
	int kind = source_kind(c, src, name, line);
	if (kind < 0) {
		return kind;
	}
	if (kind == UV_EDITABLE && !json_is_string(json_object_get(src, "editable"))) {
		return dep_error(c, line, 0, "package %s: the editable path is not a string", name);
	}
	char *norm = eco_normalize_name(ECO_PYPI, name);
	if (kind == UV_VIRTUAL || (kind == UV_EDITABLE && own_editable(src, norm, members))) {
		free(norm);
		return 0; /* the project, a workspace member */
	}
	const json_t *jv = json_object_get(pkg, "version");
	const char *version = json_string_value(jv);
	if (jv && !version) {
		free(norm);
		return dep_error(c, line, 0, "package %s: the version is not a string", name);
	}
	if (!version && kind != UV_PATH && kind != UV_DIRECTORY && kind != UV_EDITABLE) {
		free(norm);
		return dep_error(c, line, 0, "package %s (from %s) has no version", name,
				 source_kinds[kind]);
	}
	version = version ? version : "";
	const char *commit = NULL;
	if (kind == UV_GIT) {
		commit = git_commit(c, json_string_value(json_object_get(src, "git")));
	}
	const char *key = dep_printf(c, "%s@%s", norm, commit ? commit : version);
	bool added;
	struct dep *d = dep_add_unique(c, key, ECO_PYPI, norm, version, line, &added);
	free(norm);
	if (!d) {
		return dep_error(c, line, 0, "too many packages");
	}
	if (added) {
		d->commit = commit;
	}
	return 0;
}

int parse_uv_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	char err[256];
	unsigned line = 0, col = 0;
	json_t *root = toml_parse(buf, len, &line, &col, err, sizeof(err));
	if (!root) {
		return dep_error(c, line, col, "not valid TOML: %s", err);
	}
	int r = check_version(c, root, buf, len);
	const json_t *members = NULL;
	if (r == 0) {
		r = check_members(c, root, buf, len, &members);
	}
	const json_t *pkgs = json_object_get(root, "package");
	unsigned key_line = pkgs ? toml_root_key_line(buf, len, "package") : 0;
	key_line = key_line ? key_line : 1;
	if (r == 0 && pkgs && !json_is_array(pkgs)) {
		r = dep_error(c, key_line, 0, "\"package\" is not an array of tables");
	}
	size_t i;
	json_t *pkg;
	json_array_foreach(r == 0 ? pkgs : NULL, i, pkg)
	{
		r = add_package(c, pkg, members, key_line);
		if (r < 0) {
			break;
		}
	}
	json_decref(root);
	return r;
}
