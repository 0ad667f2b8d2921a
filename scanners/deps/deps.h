/*
 * deps.h - lockfiles and manifests: which packages, at which versions, a project uses.
 *
 * One parser per format (one file each in scanners/deps/), all behind this header. Each
 * package gets its ecosystem, its name as the ecosystem's advisories spell it (PyPI names
 * PEP 503-normalised, Maven as groupId:artifactId, npm with its @scope), its version ("" when
 * the file does not pin one, e.g. a git or path dependency), the file and the 1-based line
 * it is declared on, and, where the file says so, a git commit and dependency groups.
 *
 * Conventions shared with the OSV scanner's parsers (and the conformance goldens in
 * tests/fixtures/lockfiles): a requirements.txt line without `==`, `>=` or `~=` gets version
 * "0.0.0" and is marked unpinned; go.mod adds a `stdlib` package for its `go` directive and
 * applies `replace` (and below go 1.17 adds the modules of the go.sum beside it, see
 * gomod.c); pom.xml interpolates ${property} from the file and includes
 * dependencyManagement, a version range gives its lower bound, and a version that cannot be
 * resolved is kept as written and marked unresolved (reported, never guessed).
 *
 * Files are untrusted: every parser is bounded (file size, nesting, counts) and a file it
 * cannot read is an error with the file's name and, where known, its line: the caller
 * (the dependency scan) then fails closed. Parsers never print.
 */
#ifndef RUNNER_SCANNERS_DEPS_H
#define RUNNER_SCANNERS_DEPS_H

#include "eco.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct diag_list;
struct hmap;
struct pom_cache;

#define DEPS_MAX_FILE_BYTES   (64u << 20)
#define DEPS_MAX_PACKAGES     2000000u
#define DEPS_MAX_LOCKFILES    10000u
#define DEPS_MAX_WALK_DEPTH   64u
#define DEPS_MAX_WALK_ENTRIES 500000u
/* Files the -r / -c includes of one requirements file read, in all (directly or through
 * other includes); an include of a file the scan read already reads nothing and does not
 * count. */
#define DEPS_MAX_INCLUDES 100u
/* Local paths (directories `-e .`, `./libs/x`; archives `wheels/x-1.0-py3-none-any.whl`)
 * one requirements file and its includes name, each looked for in every directory from
 * the file's up to the top of the scanned tree. */
#define DEPS_MAX_LOCAL_PROJECTS 1000u
/* Bytes one scan reads, lockfiles and the files they name (includes, parents, BOMs and the
 * pom.xml files looked through for them, go.sum). */
#define DEPS_MAX_SCAN_BYTES (4ull << 30)

enum dep_format {
	DEP_NPM_LOCK,	   /* package-lock.json, npm-shrinkwrap.json (v1, v2, v3) */
	DEP_YARN_LOCK,	   /* yarn.lock (v1 and berry) */
	DEP_PNPM_LOCK,	   /* pnpm-lock.yaml */
	DEP_REQUIREMENTS,  /* *requirements*.txt, *.txt in requirements/ (any case) */
	DEP_POETRY_LOCK,   /* poetry.lock */
	DEP_PIPFILE_LOCK,  /* Pipfile.lock */
	DEP_GO_MOD,	   /* go.mod */
	DEP_CARGO_LOCK,	   /* Cargo.lock */
	DEP_GEMFILE_LOCK,  /* Gemfile.lock, gems.locked */
	DEP_COMPOSER_LOCK, /* composer.lock */
	DEP_POM_XML,	   /* pom.xml */
	DEP_GRADLE_LOCK,   /* gradle.lockfile */
	DEP_NUGET_LOCK,	   /* packages.lock.json */
	DEP_CONAN_LOCK,	   /* conan.lock */
	DEP_PUBSPEC_LOCK,  /* pubspec.lock */
	DEP_MIX_LOCK,	   /* mix.lock */
	DEP_UV_LOCK,	   /* uv.lock */
	DEP_BUN_LOCK,	   /* bun.lock (the text lockfile; bun.lockb is refused) */
	DEP_FORMAT_COUNT,
};

/* Flags of a package. */
enum {
	DEP_UNPINNED = 1u << 0,	  /* the file gives a range or nothing, not an exact version */
	DEP_UNRESOLVED = 1u << 1, /* the version refers to something the file does not define */
	/* With DEP_UNRESOLVED: what it refers to may be in a POM that Maven takes from a
	 * repository (a parent, a BOM), which the scan found neither in the tree nor in a
	 * local Maven repository (deps_maven_repository: none, or it does not hold it). */
	DEP_POM_NOT_FOUND = 1u << 2,
};

struct dep {
	enum eco eco;
	const char *name;
	const char *version; /* "" when unknown */
	const char *commit;  /* git commit, or NULL */
	const char *file;    /* as the caller named it */
	unsigned line;	     /* 1-based; 0 when unknown */
	const char *groups;  /* comma-separated dependency groups ("dev", "optional"...), or NULL */
	unsigned flags;
	const char *note; /* why unpinned/unresolved, for reports */
	enum dep_format format;
	/* Other lines of the file whose entries are this package (same ecosystem, name,
	 * version and commit: yarn 1's alias block beside the plain one), in order, at most
	 * DEP_MAX_ALSO of them (arena); n_also counts them all. */
	const unsigned *also;
	size_t n_also;
};

#define DEP_MAX_ALSO 8u

/* A lockfile that was read: one the scan found or was given, or a file one of them
 * includes (requirements.txt -r/-c). packages counts those first listed in it. */
struct dep_file {
	const char *path;
	enum dep_format format;
	size_t packages;
};

struct dep_list {
	struct arena *arena; /* owns every string */
	struct dep *v;
	size_t n, cap;
	struct dep_file *files;
	size_t n_files, cap_files;
	/* The tree a scan covers (real path, in the arena; deps_scan_paths sets it): files a
	 * lockfile includes (requirements.txt -r/-c) must lie inside it. NULL: not checked. */
	const char *root;
	uint64_t bytes_read; /* against DEPS_MAX_SCAN_BYTES */
	/* The real paths of the files read (keys in the arena): each is read once, however
	 * often the scan reaches it (found by its name, named again, included). */
	struct hmap *read;
	/* What pom.c knows for the whole scan: the tree's pom.xml files by coordinates, and
	 * the BOMs read so far (freed with the list). */
	struct pom_cache *maven;
	/* A local Maven repository (real path, in the arena; deps_maven_repository sets it):
	 * BOMs and parent POMs that the scanned tree does not hold are read from it. NULL:
	 * none. */
	const char *maven_repo;
};

void dep_list_init(struct dep_list *l);
void dep_list_release(struct dep_list *l);

/*
 * Read the BOMs and parent POMs that pom.xml files name and the scanned tree does not
 * hold from the local Maven repository dir, as Maven lays it out
 * (<dir>/<group path>/<artifact>/<version>/<artifact>-<version>.pom): what Maven
 * downloaded there, or installed. Nothing is fetched. Returns 0, or -errno when dir
 * cannot be resolved, -ENOTDIR when it is not a directory.
 */
int deps_maven_repository(struct dep_list *l, const char *dir);

/* The format's short name ("npm", "yarn", "pip", "maven"...), and the reverse. */
const char *dep_format_name(enum dep_format f);
int dep_format_parse(const char *name, enum dep_format *out);

/* The format of a file by its name (the last path component) and, for pip's requirements
 * files (any *.txt directly inside a directory named requirements), the name of its
 * directory as filename writes it; -ENOENT when it has none. */
int dep_format_detect(const char *filename, enum dep_format *out);

/*
 * Parse one file. `display` is the name used in the results and messages (e.g. the path
 * relative to the workspace). requirements.txt includes (-r, -c) are read relative to the
 * file. Entries of the file that resolve to the same ecosystem, name, version and commit
 * (and flags and note) are one package, at the first one's line, with the groups of all.
 * A file l has read already (this one, or one that an earlier file included) is
 * not read again: 0, and nothing is added. Returns 0, or -EINVAL (malformed; a
 * diagnostic naming the file is added), or -errno (unreadable; diagnostic added too).
 */
int deps_parse_file(struct dep_list *l, const char *path, const char *display, enum dep_format f,
		    struct diag_list *dl);

/* Parse a buffer (no includes are followed, no go.sum is read). Same returns as
 * deps_parse_file(). */
int deps_parse_buffer(struct dep_list *l, enum dep_format f, const char *display, const char *buf,
		      size_t len, struct diag_list *dl);

/*
 * A go.mod and its go.sum as buffers (sum NULL: there is none), as deps_parse_file() reads
 * a go.mod and the go.sum beside it; sum_display names the go.sum in results and
 * messages. For tests and fuzzing. Same returns as deps_parse_file().
 */
int deps_parse_go_buffers(struct dep_list *l, const char *display, const char *mod, size_t mod_len,
			  const char *sum_display, const char *sum, size_t sum_len,
			  struct diag_list *dl);

/* What a directory walk may not skip. */
struct deps_walk_opts {
	/* Root-relative paths, sorted: read (and the directories above them entered) whatever
	 * the skips say, the rest of a skipped directory staying skipped. What a fork's pull
	 * request changed, since it chose where its files lie. */
	const char *const *must_scan;
	size_t n_must_scan;
	/* Enter node_modules, vendor, dot-directories (but .git, .hg, .svn and .runner) and
	 * a Maven module's target (beside a pom.xml): a fork's run whose changes could not
	 * be listed. */
	bool enter_skipped;
};

/*
 * Find and parse every lockfile under each path (a directory is walked, skipping
 * node_modules, vendor, .git and other dot-directories, and target beside a pom.xml (a
 * Maven module's build output, where the build copies its pom.xml) unless wo says
 * otherwise, without following symbolic links: one with a lockfile's name, or a
 * lockfile's name that is not a regular file, is an error; a file is parsed by its name). A
 * manifest the walk meets (package.json, Cargo.toml, pyproject.toml...) that declares
 * dependencies and has no lockfile the scan reads, beside it or at its workspace's root, is
 * an error too (manifest.c): its dependencies would pass unchecked. `root`
 * (may be NULL) is stripped from the front of displayed paths, which must_scan is compared with. wo
 * may be NULL. Returns 0 or the first error (every error is in dl); the number of lockfiles read is
 * l->n_files.
 */
int deps_scan_paths_opts(struct dep_list *l, const char *root, const char *const *paths, size_t n,
			 const struct deps_walk_opts *wo, struct diag_list *dl);
/* deps_scan_paths_opts with the default skips. */
int deps_scan_paths(struct dep_list *l, const char *root, const char *const *paths, size_t n,
		    struct diag_list *dl);

#endif
