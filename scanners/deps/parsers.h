/*
 * parsers.h - private to scanners/deps: what every format parser shares (the parse
 * context, adding packages, errors, locating lines in JSON text, git commits in URLs)
 * and the parsers themselves. Not a public header: users include deps.h.
 */
#ifndef RUNNER_SCANNERS_DEPS_PARSERS_H
#define RUNNER_SCANNERS_DEPS_PARSERS_H

#include "deps.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct hmap;

struct dep_ctx {
	struct dep_list *l;
	struct diag_list *dl;
	const char *file; /* display name (arena) */
	const char *path; /* file system path, for includes; NULL for buffers */
	enum dep_format format;
	size_t first;	   /* index of this file's first package in l->v */
	struct hmap *seen; /* dedup keys of this file (see dep_add_unique) */
	struct hmap *aux;  /* for a parser's own use (keys in the arena); freed after */
	unsigned includes; /* requirements.txt includes followed so far */
	/* go.mod's go.sum given as a buffer (deps_parse_go_buffers), instead of read beside
	 * path; sum_display is NULL otherwise. */
	const char *sum_display, *sum;
	size_t sum_len;
};

/* Add a package (strings are copied into the arena). Returns it, or NULL past the cap. */
struct dep *dep_add(struct dep_ctx *c, enum eco e, const char *name, const char *version,
		    unsigned line);
/* The same, unless a package with the same key was added from this file before; then the
 * earlier one is returned (and *added is false). */
struct dep *dep_add_unique(struct dep_ctx *c, const char *key, enum eco e, const char *name,
			   const char *version, unsigned line, bool *added);

/* Add a comma-separated group to a package's groups, keeping them sorted and unique. */
void dep_add_group(struct dep_ctx *c, struct dep *d, const char *group);

char *dep_strdup(struct dep_ctx *c, const char *s);
char *dep_strndup(struct dep_ctx *c, const char *s, size_t n);
char *dep_printf(struct dep_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The real path of path when it lies inside the scanned tree (l->root; anywhere when the
 * scan has none): another file a lockfile names (an include, a parent POM) is the
 * repository's to name, and what it reads ends up in the report and the SBOM. Heap, or
 * NULL with errno set (EXDEV: outside the tree). */
char *dep_realpath_inside(const struct dep_ctx *c, const char *path);

/* Note that the file at real path real is read: false when it was already (then it is
 * not to be read again). */
bool dep_mark_read(struct dep_list *l, const char *real);

/* Record a file the parser reads besides its own (a requirements.txt include) in
 * l->files; returns its index, whose packages count the parser keeps. The parser's own
 * file is recorded before it, with the packages not counted there; all are dropped when
 * the parse fails. */
size_t dep_file_add(struct dep_ctx *c, const char *display);

/*
 * Whether a walk of the tree passes over the directory `name` (unless told to enter it):
 * installed packages (node_modules), vendored copies (vendor), hidden directories, and a
 * Maven module's build output (target, when `pom_beside`: the directory holds a pom.xml),
 * where a build copies the module's pom.xml (target/classes/META-INF/maven/...). The
 * lockfile walk and pom.c's index of the tree's pom.xml files skip the same.
 */
bool deps_skipped_dir(const char *name, bool pom_beside);

/* Count len bytes the scan read: 0, or -E2BIG past DEPS_MAX_SCAN_BYTES. */
int dep_count_read(struct dep_list *l, size_t len);

/* Report a malformed file at line:col (0 = unknown). Returns -EINVAL. */
int dep_error(struct dep_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The 1-based line of byte offset off in buf. */
unsigned text_line(const char *buf, size_t len, size_t off);

/*
 * Finding lines in JSON text that jansson parsed (jansson keeps no positions). Lookups
 * go forward from a cursor, in document order, which is the order parsers visit values;
 * names and values are compared decoded (escapes as written do not matter). The text is
 * indexed at the first lookup, in one pass, and every lookup only moves forward in the
 * index: all of a file's lookups take linear time together (jpos_release frees it).
 */
struct jindex;

struct jpos {
	const char *buf;
	size_t len;
	size_t pos; /* search from here */
	struct jindex *ix;
};

void jpos_init(struct jpos *j, const char *buf, size_t len);
void jpos_release(struct jpos *j);
/*
 * Find the next member named key whose value starts with `opener` ('{', '[', '"', or 0
 * for any), move the cursor past it and return its line. When there is none after the
 * cursor: the line of the last one before it (an estimate), or 0 when there is none at
 * all; the cursor stays.
 */
unsigned jpos_key(struct jpos *j, const char *key, char opener);
/* The opener jpos_key takes to find a member whose value is v: '{', '[', '"', or 'o' for
 * any other value (a number, true, false, null). */
char jpos_opener(const json_t *v);

/*
 * The line of element `index` of the array that opens at byte `open` of the text (where
 * jpos_key leaves the cursor when it finds a member whose value is an array), or of its
 * member `index` (the line of its name) when an object opens there; 0 when neither opens
 * there or it has fewer elements. A lookup of its own: the cursor stays.
 */
unsigned jpos_element_line(const struct jpos *j, size_t open, size_t index);

/* Find the next member `key` whose value is the string `value`; like jpos_key. */
unsigned jpos_key_value(struct jpos *j, const char *key, const char *value);

/* Find the next string value (not a member's name) equal to value; like jpos_key. */
unsigned jpos_string(struct jpos *j, const char *value);

/* Line by line: the next line without its newline (and a trailing CR). */
struct lines {
	const char *p, *end;
	unsigned no; /* 1-based number of the line last returned */
};

static inline void lines_init(struct lines *l, const char *buf, size_t len)
{
	l->p = buf;
	l->end = buf + len;
	l->no = 0;
}

static inline bool lines_next(struct lines *l, const char **s, size_t *n)
{
	if (l->p >= l->end) {
		return false;
	}
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	const char *le = nl ? nl : l->end;
	*s = l->p;
	*n = (size_t)(le - l->p);
	if (*n && (*s)[*n - 1] == '\r') {
		(*n)--;
	}
	l->p = nl ? nl + 1 : l->end;
	l->no++;
	return true;
}

/* A JSON lockfile of two sections: the production one, then the dev one. */
typedef int (*json_section_fn)(struct dep_ctx *c, const json_t *root, const char *section,
			       const char *group, struct jpos *jp);
int dep_json_sections(struct dep_ctx *c, const char *buf, size_t len, const char *prod,
		      const char *dev, json_section_fn fn);

/* Parse JSON with jansson; on failure add a diagnostic with jansson's position. */
json_t *dep_json_load(struct dep_ctx *c, const char *buf, size_t len);

/*
 * The git commit a resolution URL or spec pins (git+ssh://...#sha, github:user/repo#sha,
 * codeload tarballs, ...#commit=sha, ?ref=...), in the arena; NULL when there is none.
 */
const char *dep_extract_commit(struct dep_ctx *c, const char *resolution);

/*
 * The version in an npm registry tarball URL of package name: the registry lays its
 * tarballs out as http(s)://HOST[/PREFIX]/NAME/-/BASENAME-VERSION.tgz (BASENAME: name
 * without its scope), and publishing checks the package's own name and version against
 * them. VERSION must start with a digit. NULL for any other URL (a query or a fragment,
 * another package's path, a tarball elsewhere): its version is not known.
 */
const char *dep_npm_tarball_version(struct dep_ctx *c, const char *name, const char *url);

/*
 * TOML (toml.c): the document as a JSON object tree; tables opened by a header carry
 * their line in the member TOML_LINE_KEY. NULL on error, with line, column and message.
 */
#define TOML_LINE_KEY "\x01line"
json_t *toml_parse(const char *buf, size_t len, unsigned *line, unsigned *col, char *err,
		   size_t errlen);
/* The first line that defines the top-level key `key` of a TOML text toml_parse has read:
 * `key = ...` or `key.sub = ...` before the first table header, or a header of it
 * (`[key]`, `[[key]]`, `[key.sub]`...), the key bare or quoted without escapes. 0 when
 * there is none. */
unsigned toml_root_key_line(const char *buf, size_t len, const char *key);

/*
 * XML (xml.c): elements with their concatenated text and line; attributes are checked
 * and dropped; DOCTYPEs and non-predefined entities are refused.
 */
#define XML_MAX_DEPTH 256
#define XML_MAX_NODES 2000000u

struct xnode {
	char *name;
	char *text;
	unsigned line;
	struct xnode **children;
	size_t n_children;
};

struct xnode *xml_parse(const char *buf, size_t len, unsigned *line, unsigned *col, char *err,
			size_t errlen);
void xml_free(struct xnode *root);
/* The first child element named name, or NULL. */
const struct xnode *xml_child(const struct xnode *n, const char *name);

/* Add every [[package]] (name, version, line) of a TOML lockfile; `each` may add more. */
int toml_each_package(struct dep_ctx *c, const char *buf, size_t len, enum eco e,
		      void (*each)(struct dep_ctx *c, const json_t *pkg, struct dep *d));

/* Free what pom.c keeps for a scan (dep_list.maven); NULL is fine. */
void pom_cache_free(struct pom_cache *pc);

/* Whether the n bytes at s are a PEP 508 environment marker as pip reads one (the text
 * after a requirement's ';'; pipmarker.c). */
bool pip_marker_valid(const char *s, size_t n);

/* The parsers. Each returns 0 or -EINVAL (with a diagnostic). */
int parse_npm_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_yarn_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_pnpm_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_requirements(struct dep_ctx *c, const char *buf, size_t len);
int parse_poetry_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_pipfile_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_go_mod(struct dep_ctx *c, const char *buf, size_t len);
int parse_cargo_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_gemfile_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_composer_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_pom_xml(struct dep_ctx *c, const char *buf, size_t len);
int parse_gradle_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_nuget_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_conan_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_pubspec_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_mix_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_uv_lock(struct dep_ctx *c, const char *buf, size_t len);
int parse_bun_lock(struct dep_ctx *c, const char *buf, size_t len);

/* What the directory walk knows of a directory for the manifests below it (manifest.c):
 * the lockfiles in it and whether it is a workspace's root. */
struct deps_dir {
	const struct deps_dir *up; /* the directory above, NULL at the top of a walk */
	const char *path;	   /* as walked */
	unsigned locks;		   /* the kinds of lockfile in it */
	bool cargo_ws;		   /* Cargo.toml has [workspace] */
	/* Its [workspace] exclude paths (arena): crates below them are not its members. */
	const char **cargo_excl;
	size_t n_cargo_excl, cap_cargo_excl;
	bool uv_ws; /* pyproject.toml has [tool.uv.workspace] */
	/* With a JS lockfile: package.json's workspaces, pnpm-workspace.yaml's packages (arena). */
	const char **globs;
	size_t n_globs, cap_globs;
};

/* Enter the directory at path (its name dname, NULL when unknown), whose entries are names:
 * note its lockfiles and workspaces. deps_dir_release() frees what it holds. */
void deps_dir_enter(struct deps_dir *d, const struct deps_dir *up, struct dep_list *l,
		    const char *path, const char *dname, char *const *names, size_t n);
void deps_dir_release(struct deps_dir *d);

/* The file at path (named base, shown as disp) in the directory d: when it is a manifest
 * that declares dependencies and no lockfile the scan reads locks its project, an error
 * (in dl) that names it and the lockfile to generate, -EINVAL; else 0. */
int deps_check_manifest(const struct deps_dir *d, struct dep_list *l, const char *path,
			const char *base, const char *disp, struct diag_list *dl);

/* dep_format_detect() for the file base in the directory named dir (NULL: unknown). */
int dep_format_detect_in(const char *dir, const char *base, enum dep_format *out);

#endif
