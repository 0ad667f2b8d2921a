/*
 * osvdb.h - the offline advisory database: OSV records indexed in SQLite.
 *
 * A database is built whole into a temporary file next to its final path and renamed
 * over it when complete (osvdb_build_commit), so a reader sees the old database or the
 * new one, never a mix, and a failed import or update leaves the old one intact. Sources
 * are directories of OSV JSON files (walked recursively; only *.json files count), single
 * JSON files, and osv.dev-style zip exports (`<Ecosystem>/all.zip`), read entry by entry
 * with libarchive, streamed, never extracted to disk.
 *
 * Zip exports are untrusted: an archive with a symbolic or hard link, an entry whose path
 * is absolute or climbs out with "..", an entry that expands beyond the record cap, more
 * expanded bytes in all than OSV_ZIP_MAX_TOTAL or more entries than OSV_ZIP_MAX_ENTRIES is
 * refused as a whole. Every record must pass osv_record_check(); one that does not fails
 * the import (naming the file or entry), because a database that silently lacks records
 * would pass what it should block.
 *
 * Layout: meta (schema, built_at, updated_at), sources (location, kind, records, ETag,
 * Last-Modified), vulns (id, summary, aliases, dates, the raw record as imported) and
 * affected (ecosystem, normalised package name, vulnerability id, the affected[] entry
 * without its versions list, the list apart as text, and the severity computed at import),
 * indexed by (ecosystem, name): a scan reads no whole record. When an id appears in several sources
 * the record with the later `modified` wins, and is stored once; members lists every id each
 * source held (the kept copy or not), so that copying an unchanged source keeps all of its ids.
 */
#ifndef RUNNER_SCANNERS_OSVDB_H
#define RUNNER_SCANNERS_OSVDB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The database format. 2: the loader refuses ranges it cannot evaluate (a database of
 * format 1 may hold them, and is refused: it is rebuilt from its sources).
 */
#define OSVDB_SCHEMA	    "runner-osv/2"
#define OSVDB_SCHEMA_PREFIX "runner-osv/"
#define OSV_ZIP_MAX_TOTAL   (8ull << 30)
#define OSV_ZIP_MAX_ENTRIES 2000000u
#define OSV_DIR_MAX_DEPTH   16

/*
 * The database path: `explicit` if given, else $RUNNER_DB, else
 * $XDG_CACHE_HOME/runner/osv.db, else $HOME/.cache/runner/osv.db. Heap string, or NULL
 * when none can be determined (no HOME).
 */
char *osvdb_default_path(const char *explicit_path);

/* ---------- building ---------- */

struct osvdb_build;

/* Start building a database that will replace `path`. Returns 0 or -errno with err set. */
int osvdb_build_new(const char *path, struct osvdb_build **out, char *err, size_t errlen);

/*
 * Import a directory, a zip export or a JSON file. -EINVAL for refused input (a bad
 * record, a malicious or corrupt archive), other -errno for I/O errors; err says which
 * file or entry and why.
 */
int osvdb_build_import_path(struct osvdb_build *b, const char *path, char *err, size_t errlen);

/* Import a zip export from an open, seekable fd; location (a URL) names the source. */
int osvdb_build_import_zip_fd(struct osvdb_build *b, int fd, const char *location, const char *etag,
			      const char *last_modified, char *err, size_t errlen);

/*
 * Copy one source (by location) from an existing database: every id it held, each as the
 * kept copy of the old database (whichever source supplied it), unless the build holds a
 * copy with a later or equal `modified`. -EINVAL when the old database is of another format
 * or does not list what its sources held (osvdb_lists_members).
 */
int osvdb_build_copy_source(struct osvdb_build *b, const char *old_path, const char *location,
			    char *err, size_t errlen);

/* Distinct advisories (ids) imported so far. */
size_t osvdb_build_records(const struct osvdb_build *b);

/* Finish: index, write metadata, fsync, rename over the final path. Frees b. */
int osvdb_build_commit(struct osvdb_build *b, char *err, size_t errlen);
/* Give up: remove the temporary file. Frees b; accepts NULL. */
void osvdb_build_abort(struct osvdb_build *b);

/* ---------- reading ---------- */

struct osvdb;

/*
 * The source locations (a JSON array of strings, in import order) of a database of another
 * format of ours (meta schema "runner-osv/N" other than OSVDB_SCHEMA), which osvdb_open
 * refuses: what `runner db update` downloads again to rebuild it. NULL when path is not
 * such a database.
 */
json_t *osvdb_other_format_sources(const char *path);

/*
 * Open a database read-only and check its schema. -ENOENT when it does not exist,
 * -EINVAL when it is not a database of ours (or is corrupt) or one of another format (an
 * older one may hold records the loader now refuses: it must be rebuilt), other -errno
 * otherwise.
 */
int osvdb_open(const char *path, struct osvdb **out, char *err, size_t errlen);
/* Whether it holds no advisory at all (or cannot be read): a scan must not use it. */
bool osvdb_is_empty(struct osvdb *db);
/*
 * Whether it lists every id each of its sources held (the members table, consistent with
 * the kept copies): false for a database built by an older runner of the same format (or
 * a damaged one), which osvdb_build_copy_source refuses: `runner db update` downloads its
 * exports afresh instead.
 */
bool osvdb_lists_members(struct osvdb *db);
void osvdb_close(struct osvdb *db);

/* When the data was last brought up to date (import or update), in seconds since 1970. */
int64_t osvdb_updated_at(const struct osvdb *db);

/*
 * Status: {path, schema, built_at, updated_at, records, withdrawn, sources: [{location,
 * kind, records, imported_at, etag, last_modified}], ecosystems: {name: records}}.
 */
json_t *osvdb_status(struct osvdb *db);

/* One candidate: a record that has an affected entry for the package. Borrowed strings. */
struct osvdb_hit {
	const char *vuln_id;
	const char *entry; /* the affected[] entry without "versions", JSON text */
	size_t entry_len;
	const char *versions; /* its "versions" as "\nv1\nv2\n", or NULL */
	size_t versions_len;
	int severity;		/* enum severity of the record for this entry, -1 unknown */
	double score;		/* CVSS base score, 0 when none */
	const char *sev_source; /* see struct osv_severity, or NULL */
};

/*
 * Call cb for every affected entry indexed under (ecosystem, normalised name); cb returns
 * < 0 to stop with that error. Returns 0 or -errno.
 */
int osvdb_lookup(struct osvdb *db, const char *ecosystem, const char *name,
		 int (*cb)(void *ud, const struct osvdb_hit *hit), void *ud);

/* The raw record of id (caller decrefs), or NULL. */
json_t *osvdb_record(struct osvdb *db, const char *id);

/* What a finding needs of a record, without parsing it. */
struct osvdb_vinfo {
	char *summary;	 /* or NULL */
	json_t *aliases; /* array of strings */
	bool withdrawn;
};
/* Returns 0, -ENOENT or -EIO. Release with osvdb_vinfo_release(). */
int osvdb_info(struct osvdb *db, const char *id, struct osvdb_vinfo *out);
void osvdb_vinfo_release(struct osvdb_vinfo *v);

#endif
