/*
 * osvdb.c - the SQLite advisory database: building (directories, JSON files, zip exports
 * read with libarchive), atomic replacement, lookups and status. See osvdb.h.
 */
#include "osvdb.h"

#include "eco.h"
#include "hmap.h"
#include "osv.h"
#include "sbuf.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "banned.h"

char *osvdb_default_path(const char *explicit_path)
{
	if (!str_empty(explicit_path)) {
		return xstrdup(explicit_path);
	}
	const char *env = getenv("RUNNER_DB");
	if (!str_empty(env)) {
		return xstrdup(env);
	}
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (!str_empty(xdg) && xdg[0] == '/') {
		return xasprintf("%s/runner/osv.db", xdg);
	}
	const char *home = getenv("HOME");
	if (!str_empty(home)) {
		return xasprintf("%s/.cache/runner/osv.db", home);
	}
	return NULL;
}

static const char schema_sql[] =
	"PRAGMA user_version = 2;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE sources(id INTEGER PRIMARY KEY, location TEXT NOT NULL UNIQUE,"
	" kind TEXT NOT NULL, imported_at INTEGER NOT NULL, records INTEGER NOT NULL,"
	" etag TEXT, last_modified TEXT);"
	"CREATE TABLE vulns(id TEXT PRIMARY KEY, source INTEGER NOT NULL, modified TEXT,"
	" published TEXT, withdrawn TEXT, summary TEXT, aliases TEXT NOT NULL, raw TEXT NOT NULL);"
	"CREATE TABLE affected(ecosystem TEXT NOT NULL, name TEXT NOT NULL, vuln TEXT NOT NULL,"
	" entry TEXT NOT NULL, versions TEXT, severity INTEGER NOT NULL, score REAL NOT NULL,"
	" sev_source TEXT);"
	/* Every id each source held, whether its copy is the one kept in vulns or not:
	 * what `runner db update` copies for a source that did not change. */
	"CREATE TABLE members(source INTEGER NOT NULL, id TEXT NOT NULL,"
	" PRIMARY KEY(source, id)) WITHOUT ROWID;";

/* ---------- building ---------- */

static void bump_release(void);

struct osvdb_build {
	char *path, *tmp;
	sqlite3 *db;
	sqlite3_stmt *ins_vuln, *ins_aff, *get_mod, *del_aff, *del_vuln, *ins_src, *upd_src,
		*ins_member;
	int64_t source; /* current source row */
	char *source_location;
	bool old_attached; /* the database being replaced, as `old` (osvdb_build_copy_source) */
	bool old_members_checked; /* and it lists what each of its sources held */
	size_t source_records;
	size_t records;
	struct sbuf buf; /* one record's bytes */
};

static int sql_err(struct osvdb_build *b, char *err, size_t errlen, const char *what)
{
	return errf(err, errlen, -EIO, "advisory database %s: %s: %s", b->tmp, what,
		    sqlite3_errmsg(b->db));
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -EIO;
}

int osvdb_build_new(const char *path, struct osvdb_build **out, char *err, size_t errlen)
{
	*out = NULL;
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int r = mkdir_p(dir, 0755);
		if (r < 0) {
			return errf(err, errlen, r, "cannot create %s: %s", dir, strerror(-r));
		}
	}
	struct osvdb_build *b = xcalloc(1, sizeof(*b));
	b->path = xstrdup(path);
	sbuf_init(&b->buf, OSV_MAX_RECORD_BYTES);
	int fd = open_tmp_beside(path, "tmp", O_WRONLY, 0644, &b->tmp);
	if (fd >= 0) {
		tmp_track(b->tmp);
	}
	if (fd < 0) {
		errf(err, errlen, fd, "cannot create a file beside %s: %s", path, strerror(-fd));
		osvdb_build_abort(b);
		return fd;
	}
	close(fd);
	/* 16 KiB pages: a quarter of the page writes of the default 4 KiB when the build is
	 * committed (the import of the full OSV data went from ~19,500 to ~21,500 records/s);
	 * a scan's index lookups are no slower (docs/benchmarks.md). */
	if (sqlite3_open_v2(b->tmp, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(b->db,
			 "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    prepare(b->db,
		    "INSERT INTO vulns(id, source, modified, published, withdrawn, summary, "
		    "aliases, raw) VALUES(?,?,?,?,?,?,?,?)",
		    &b->ins_vuln) < 0 ||
	    prepare(b->db,
		    "INSERT INTO affected(ecosystem, name, vuln, entry, versions, severity, score, "
		    "sev_source) VALUES(?,?,?,?,?,?,?,?)",
		    &b->ins_aff) < 0 ||
	    prepare(b->db, "SELECT modified FROM vulns WHERE id = ?", &b->get_mod) < 0 ||
	    prepare(b->db, "DELETE FROM affected WHERE vuln = ?", &b->del_aff) < 0 ||
	    prepare(b->db, "DELETE FROM vulns WHERE id = ?", &b->del_vuln) < 0 ||
	    prepare(b->db,
		    "INSERT INTO sources(location, kind, imported_at, records, etag, "
		    "last_modified) VALUES(?,?,?,0,?,?)",
		    &b->ins_src) < 0 ||
	    prepare(b->db, "UPDATE sources SET records = ? WHERE id = ?", &b->upd_src) < 0 ||
	    prepare(b->db, "INSERT OR IGNORE INTO members(source, id) VALUES(?,?)",
		    &b->ins_member) < 0) {
		int r = sql_err(b, err, errlen, "cannot create");
		osvdb_build_abort(b);
		return r;
	}
	*out = b;
	return 0;
}

void osvdb_build_abort(struct osvdb_build *b)
{
	if (!b) {
		return;
	}
	sqlite3_finalize(b->ins_vuln);
	sqlite3_finalize(b->ins_aff);
	sqlite3_finalize(b->get_mod);
	sqlite3_finalize(b->del_aff);
	sqlite3_finalize(b->del_vuln);
	sqlite3_finalize(b->ins_src);
	sqlite3_finalize(b->upd_src);
	sqlite3_finalize(b->ins_member);
	sqlite3_close(b->db);
	if (b->tmp) {
		unlink(b->tmp);
		tmp_untrack(b->tmp);
	}
	sbuf_release(&b->buf);
	bump_release();
	free(b->tmp);
	free(b->path);
	free(b->source_location);
	free(b);
}

size_t osvdb_build_records(const struct osvdb_build *b)
{
	return b->records;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s) {
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(st, i);
	}
}

static int begin_source(struct osvdb_build *b, const char *location, const char *kind,
			const char *etag, const char *last_modified, char *err, size_t errlen)
{
	free(b->source_location);
	b->source_location = xstrdup(location);
	sqlite3_reset(b->ins_src);
	bind_text(b->ins_src, 1, location);
	bind_text(b->ins_src, 2, kind);
	sqlite3_bind_int64(b->ins_src, 3, (sqlite3_int64)(now_real_ms() / 1000));
	bind_text(b->ins_src, 4, etag);
	bind_text(b->ins_src, 5, last_modified);
	int rc = sqlite3_step(b->ins_src);
	if (rc == SQLITE_CONSTRAINT) {
		return errf(err, errlen, -EINVAL, "%s is named twice", location);
	}
	if (rc != SQLITE_DONE) {
		return sql_err(b, err, errlen, "cannot add a source");
	}
	b->source = sqlite3_last_insert_rowid(b->db);
	b->source_records = 0;
	return 0;
}

static int end_source(struct osvdb_build *b, char *err, size_t errlen)
{
	/* A source without a single record (an export that came back empty, an archive of
	 * other files) would silently drop what it used to hold. */
	if (b->source_records == 0) {
		return errf(err, errlen, -EINVAL,
			    "%s holds no OSV advisory (*.json records): refused, the database in "
			    "place is kept",
			    b->source_location ? b->source_location : "a source");
	}
	sqlite3_reset(b->upd_src);
	sqlite3_bind_int64(b->upd_src, 1, (sqlite3_int64)b->source_records);
	sqlite3_bind_int64(b->upd_src, 2, b->source);
	if (sqlite3_step(b->upd_src) != SQLITE_DONE) {
		return sql_err(b, err, errlen, "cannot update a source");
	}
	return 0;
}

/*
 * The byte spans of the elements of the top-level member `affected` in the record's
 * text, so that each entry can be stored as it was written instead of serialised again
 * (the importer's hot path). Only called on text jansson has accepted; returns the number
 * of spans found, or (size_t)-1 when the text does not have the expected shape (then the
 * caller serialises instead).
 */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
		p++;
	}
	return p;
}

static const char *skip_string(const char *p, const char *end)
{
	/* p at the opening quote */
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

static const char *skip_value(const char *p, const char *end)
{
	p = skip_ws(p, end);
	if (p >= end) {
		return NULL;
	}
	if (*p == '"') {
		return skip_string(p, end);
	}
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
		       *p != '\r' && *p != '\t') {
			p++;
		}
		return p;
	}
	/* A container: count nesting, skipping strings. */
	size_t depth = 0;
	for (; p < end; p++) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (!p) {
				return NULL;
			}
			p--;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0) {
				return p + 1;
			}
		}
	}
	return NULL;
}

struct span {
	const char *p;
	size_t n;
};

static size_t affected_spans(const char *buf, size_t len, struct span *spans, size_t max)
{
	const char *p = skip_ws(buf, buf + len), *end = buf + len;
	if (p >= end || *p != '{') {
		return (size_t)-1;
	}
	p++;
	for (;;) {
		p = skip_ws(p, end);
		if (p >= end || *p != '"') {
			return (size_t)-1;
		}
		const char *k = p + 1;
		p = skip_string(p, end);
		if (!p) {
			return (size_t)-1;
		}
		bool is_aff = (size_t)(p - 1 - k) == 8 && memcmp(k, "affected", 8) == 0;
		p = skip_ws(p, end);
		if (p >= end || *p != ':') {
			return (size_t)-1;
		}
		p = skip_ws(p + 1, end);
		if (is_aff) {
			if (p >= end || *p != '[') {
				return (size_t)-1;
			}
			size_t n = 0;
			p = skip_ws(p + 1, end);
			if (p < end && *p == ']') {
				return 0;
			}
			for (;;) {
				const char *v = skip_ws(p, end);
				const char *ve = skip_value(v, end);
				if (!ve || n >= max) {
					return (size_t)-1;
				}
				spans[n++] = (struct span){ v, (size_t)(ve - v) };
				p = skip_ws(ve, end);
				if (p < end && *p == ',') {
					p++;
					continue;
				}
				return p < end && *p == ']' ? n : (size_t)-1;
			}
		}
		p = skip_value(p, end);
		if (!p) {
			return (size_t)-1;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		return (size_t)-1; /* end of the object without an affected member */
	}
}

/*
 * The text of an affected entry without its "versions" member (stored apart, for a fast
 * membership test), rebuilt from the raw member spans; NULL when the text does not have
 * the expected shape (the caller then serialises).
 */
static char *entry_without_versions(const char *p, size_t len)
{
	const char *end = p + len;
	p = skip_ws(p, end);
	if (p >= end || *p != '{') {
		return NULL;
	}
	struct sbuf sb;
	sbuf_init(&sb, OSV_MAX_RECORD_BYTES);
	sbuf_putc(&sb, '{');
	bool first = true;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		sbuf_putc(&sb, '}');
		return sbuf_steal(&sb);
	}
	for (;;) {
		const char *m = skip_ws(p, end);
		if (m >= end || *m != '"') {
			break;
		}
		const char *k = m + 1;
		const char *ke = skip_string(m, end);
		if (!ke) {
			break;
		}
		bool drop = (size_t)(ke - 1 - k) == 8 && memcmp(k, "versions", 8) == 0;
		const char *q = skip_ws(ke, end);
		if (q >= end || *q != ':') {
			break;
		}
		const char *ve = skip_value(skip_ws(q + 1, end), end);
		if (!ve) {
			break;
		}
		if (!drop) {
			if (!first) {
				sbuf_putc(&sb, ',');
			}
			sbuf_append(&sb, m, (size_t)(ve - m));
			first = false;
		}
		p = skip_ws(ve, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}') {
			sbuf_putc(&sb, '}');
			return sbuf_steal(&sb);
		}
		break;
	}
	sbuf_release(&sb);
	return NULL;
}

/* "\nv1\nv2\n": the listed versions, for a membership test with memmem. */
static char *versions_text(const json_t *versions)
{
	size_t n = json_array_size(versions);
	if (n == 0) {
		return NULL;
	}
	struct sbuf sb;
	sbuf_init(&sb, OSV_MAX_RECORD_BYTES);
	sbuf_putc(&sb, '\n');
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_array_get(versions, i));
		if (v && !strchr(v, '\n')) {
			sbuf_puts(&sb, v);
			sbuf_putc(&sb, '\n');
		}
	}
	return sbuf_steal(&sb);
}

/* Compact JSON text of v in a heap buffer of ours (not jansson's allocator). */
static char *dump_json(const json_t *v)
{
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
	char *out = xmalloc(n + 1);
	if (json_dumpb(v, out, n, JSON_COMPACT) != n) {
		n = 0;
	}
	out[n] = '\0';
	return out;
}

/* Store one record (raw bytes buf/len, parsed rec). */
static int store_record(struct osvdb_build *b, const char *buf, size_t len, const json_t *rec,
			char *err, size_t errlen)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	const char *modified = json_string_value(json_object_get(rec, "modified"));
	/* The source holds the id even when another source's copy is the one kept: should
	 * that source drop it, an update that copies this one unchanged keeps it. */
	sqlite3_reset(b->ins_member);
	sqlite3_bind_int64(b->ins_member, 1, b->source);
	sqlite3_bind_text(b->ins_member, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(b->ins_member);
	sqlite3_reset(b->ins_member);
	if (rc != SQLITE_DONE) {
		return sql_err(b, err, errlen, "cannot list a record");
	}
	/* The same id from another source: the later `modified` wins. */
	sqlite3_reset(b->get_mod);
	sqlite3_bind_text(b->get_mod, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(b->get_mod);
	bool replacing = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(b->get_mod, 0);
		if (old && modified && strcmp(modified, old) <= 0) {
			sqlite3_reset(b->get_mod);
			b->source_records++;
			return 0;
		}
		sqlite3_reset(b->get_mod);
		sqlite3_reset(b->del_aff);
		sqlite3_bind_text(b->del_aff, 1, id, -1, SQLITE_STATIC);
		sqlite3_reset(b->del_vuln);
		sqlite3_bind_text(b->del_vuln, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(b->del_aff) != SQLITE_DONE ||
		    sqlite3_step(b->del_vuln) != SQLITE_DONE) {
			return sql_err(b, err, errlen, "cannot replace a record");
		}
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(b->get_mod);
		return sql_err(b, err, errlen, "cannot look up a record");
	} else {
		sqlite3_reset(b->get_mod);
	}
	json_t *aliases = json_object_get(rec, "aliases");
	char *alias_text = aliases ? dump_json(aliases) : NULL;
	sqlite3_stmt *st = b->ins_vuln;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b->source);
	bind_text(st, 3, modified);
	bind_text(st, 4, json_string_value(json_object_get(rec, "published")));
	bind_text(st, 5, json_string_value(json_object_get(rec, "withdrawn")));
	_cleanup_free_ char *title = osv_title_of(rec);
	bind_text(st, 6, title);
	sqlite3_bind_text(st, 7, alias_text ? alias_text : "[]", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, buf, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	free(alias_text);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return sql_err(b, err, errlen, "cannot store a record");
	}
	const json_t *aff = json_object_get(rec, "affected");
	size_t n_aff = json_array_size(aff);
	struct span *spans = n_aff ? xcalloc(n_aff, sizeof(*spans)) : NULL;
	if (n_aff && affected_spans(buf, len, spans, n_aff) != n_aff) {
		free(spans);
		spans = NULL;
	}
	for (size_t i = 0; i < n_aff; i++) {
		const json_t *a = json_array_get(aff, i);
		const json_t *pkg = json_object_get(a, "package");
		const char *ecosystem = json_string_value(json_object_get(pkg, "ecosystem"));
		const char *name = json_string_value(json_object_get(pkg, "name"));
		if (!ecosystem || !name) {
			continue; /* a GIT-only entry: nothing to look a package up by */
		}
		enum eco e;
		char *norm =
			eco_parse(ecosystem, &e) == 0 ? eco_normalize_name(e, name) : xstrdup(name);
		char *entry = spans ? entry_without_versions(spans[i].p, spans[i].n) : NULL;
		if (!entry) {
			json_t *copy = json_copy((json_t *)a);
			json_object_del(copy, "versions");
			entry = dump_json(copy);
			json_decref(copy);
		}
		char *versions = versions_text(json_object_get(a, "versions"));
		struct osv_severity sev;
		osv_severity_of(rec, a, &sev);
		st = b->ins_aff;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, ecosystem, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, norm, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, entry, -1, SQLITE_STATIC);
		bind_text(st, 5, versions);
		sqlite3_bind_int(st, 6, sev.known ? (int)sev.level : -1);
		sqlite3_bind_double(st, 7, sev.score);
		bind_text(st, 8, sev.source);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		free(entry);
		free(versions);
		free(norm);
		if (rc != SQLITE_DONE) {
			free(spans);
			return sql_err(b, err, errlen, "cannot index a record");
		}
	}
	free(spans);
	b->records += !replacing; /* distinct ids */
	b->source_records++;
	return 0;
}

/*
 * While a record is parsed and stored, jansson allocates from a bump allocator that is
 * emptied after each record: parsing is the importer's hot path, and the record's values
 * all die together. Only the importer's own thread uses jansson while it is installed,
 * and every value made in between is released before it is uninstalled.
 */
struct bump_chunk {
	struct bump_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static struct bump_chunk *bump_head;

static void *bump_malloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!bump_head || bump_head->cap - bump_head->used < n) {
		size_t cap = MAX(n, (size_t)1 << 20);
		struct bump_chunk *c = malloc(sizeof(*c) + cap);
		if (!c) {
			return NULL;
		}
		c->next = bump_head;
		c->used = 0;
		c->cap = cap;
		bump_head = c;
	}
	void *p = (char *)bump_head->data + bump_head->used;
	bump_head->used += n;
	return p;
}

static void bump_free(void *p)
{
	(void)p;
}

/* Empty the allocator, keeping one chunk for the next record. */
static void bump_reset(void)
{
	while (bump_head && bump_head->next) {
		struct bump_chunk *n = bump_head->next;
		free(bump_head);
		bump_head = n;
	}
	if (bump_head) {
		bump_head->used = 0;
	}
}

static void bump_release(void)
{
	bump_reset();
	free(bump_head);
	bump_head = NULL;
}

/* Parse, check and store the record in buf; `where` names it for messages. */
static int import_buffer(struct osvdb_build *b, const char *buf, size_t len, const char *where,
			 char *err, size_t errlen)
{
	json_t *rec;
	char msg[512];
	json_malloc_t saved_malloc;
	json_free_t saved_free;
	json_get_alloc_funcs(&saved_malloc, &saved_free);
	json_set_alloc_funcs(bump_malloc, bump_free);
	int r = osv_record_load(buf, len, &rec, msg, sizeof(msg));
	if (r == 0) {
		r = store_record(b, buf, len, rec, err, errlen);
		json_decref(rec);
	} else {
		errf(err, errlen, -EINVAL, "%s: %s", where, msg);
	}
	json_set_alloc_funcs(saved_malloc, saved_free);
	bump_reset();
	return r;
}

static int import_file(struct osvdb_build *b, int dirfd, const char *name, const char *display,
		       char *err, size_t errlen)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = -errno;
		return errf(err, errlen, e, "%s: %s", display, strerror(-e));
	}
	char *data = NULL;
	size_t len = 0;
	int r = read_fd_capped(fd, OSV_MAX_RECORD_BYTES, &data, &len);
	close(fd);
	if (r == -EFBIG) {
		return errf(err, errlen, -EINVAL, "%s: larger than %u bytes", display,
			    OSV_MAX_RECORD_BYTES);
	}
	if (r < 0) {
		return errf(err, errlen, r, "%s: %s", display, strerror(-r));
	}
	r = import_buffer(b, data, len, display, err, errlen);
	free(data);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int import_dir(struct osvdb_build *b, int dfd, const char *display, unsigned depth,
		      char *err, size_t errlen)
{
	if (depth > OSV_DIR_MAX_DEPTH) {
		return errf(err, errlen, -EINVAL, "%s: nested more than %u levels deep", display,
			    OSV_DIR_MAX_DEPTH);
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = -errno;
		close(dfd);
		return errf(err, errlen, e, "%s: %s", display, strerror(-e));
	}
	/* Sorted, so that imports are reproducible. */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.') {
			continue;
		}
		GROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	if (n > 1) {
		qsort(names, n, sizeof(names[0]), cmp_names);
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct stat st;
		_cleanup_free_ char *sub = xasprintf("%s/%s", display, names[i]);
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errf(err, errlen, -errno, "%s: %s", sub, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), names[i],
					O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			r = fd < 0 ? errf(err, errlen, -errno, "%s: %s", sub, strerror(errno))
				   : import_dir(b, fd, sub, depth + 1, err, errlen);
		} else if (S_ISREG(st.st_mode) && str_has_suffix(names[i], ".json")) {
			r = import_file(b, dirfd(d), names[i], sub, err, errlen);
		}
		/* Other files (READMEs, licences) and symbolic links are not records. */
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	closedir(d);
	return r;
}

/* Is an archive path safe: relative, no "..", no drive letters or backslashes? */
static bool safe_entry_path(const char *p)
{
	return path_is_inside(p) && !strchr(p, '\\') && !strchr(p, ':');
}

static int import_archive(struct osvdb_build *b, struct archive *a, const char *display, char *err,
			  size_t errlen)
{
	struct archive_entry *ent;
	uint64_t total = 0;
	size_t entries = 0;
	int r = 0;
	for (;;) {
		int ar = archive_read_next_header(a, &ent);
		if (ar == ARCHIVE_EOF) {
			break;
		}
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			return errf(err, errlen, -EINVAL, "%s: not a readable zip archive: %s",
				    display, archive_error_string(a));
		}
		const char *path = archive_entry_pathname(ent);
		if (++entries > OSV_ZIP_MAX_ENTRIES) {
			return errf(err, errlen, -EINVAL, "%s: more than %u entries: refused",
				    display, OSV_ZIP_MAX_ENTRIES);
		}
		if (!safe_entry_path(path)) {
			return errf(err, errlen, -EINVAL,
				    "%s: entry '%s' has an unsafe path (absolute or with ..): "
				    "refusing the archive",
				    display, path ? path : "");
		}
		mode_t type = archive_entry_filetype(ent);
		if (type == AE_IFLNK || archive_entry_hardlink(ent) || archive_entry_symlink(ent)) {
			return errf(err, errlen, -EINVAL,
				    "%s: entry '%s' is a link: refusing the archive", display,
				    path);
		}
		if (type == AE_IFDIR) {
			continue;
		}
		if (type != AE_IFREG) {
			return errf(err, errlen, -EINVAL,
				    "%s: entry '%s' is not a regular file: refusing the archive",
				    display, path);
		}
		if (archive_entry_size_is_set(ent) &&
		    archive_entry_size(ent) > (la_int64_t)OSV_MAX_RECORD_BYTES) {
			return errf(err, errlen, -EINVAL,
				    "%s: entry '%s' expands to %lld bytes, more than a record may "
				    "have (%u): refusing a possible zip bomb",
				    display, path, (long long)archive_entry_size(ent),
				    OSV_MAX_RECORD_BYTES);
		}
		if (!str_has_suffix(path, ".json")) {
			archive_read_data_skip(a);
			continue;
		}
		/* Stream the entry into a capped buffer: the declared size is not trusted. */
		sbuf_reset(&b->buf);
		char chunk[65536];
		for (;;) {
			la_ssize_t got = archive_read_data(a, chunk, sizeof(chunk));
			if (got == 0) {
				break;
			}
			if (got < 0) {
				return errf(err, errlen, -EINVAL, "%s: entry '%s': %s", display,
					    path, archive_error_string(a));
			}
			total += (uint64_t)got;
			if (total > OSV_ZIP_MAX_TOTAL ||
			    sbuf_append(&b->buf, chunk, (size_t)got) < 0) {
				return errf(err, errlen, -EINVAL,
					    "%s: entry '%s' expands beyond %s: refusing a "
					    "possible zip bomb",
					    display, path,
					    total > OSV_ZIP_MAX_TOTAL ? "the archive cap"
								      : "the record cap");
			}
		}
		_cleanup_free_ char *where = xasprintf("%s!%s", display, path);
		r = import_buffer(b, b->buf.data ? b->buf.data : "", b->buf.len, where, err,
				  errlen);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static struct archive *zip_reader(void)
{
	struct archive *a = archive_read_new();
	if (!a) {
		abort();
	}
	archive_read_support_format_zip(a);
	archive_read_support_filter_none(a);
	return a;
}

int osvdb_build_import_zip_fd(struct osvdb_build *b, int fd, const char *location, const char *etag,
			      const char *last_modified, char *err, size_t errlen)
{
	int r = begin_source(b, location, "zip", etag, last_modified, err, errlen);
	if (r < 0) {
		return r;
	}
	struct archive *a = zip_reader();
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		r = errf(err, errlen, -EINVAL, "%s: not a readable zip archive: %s", location,
			 archive_error_string(a));
	} else {
		r = import_archive(b, a, location, err, errlen);
	}
	archive_read_free(a);
	return r < 0 ? r : end_source(b, err, errlen);
}

int osvdb_build_import_path(struct osvdb_build *b, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = -errno;
		return errf(err, errlen, e, "%s: %s", path, strerror(-e));
	}
	_cleanup_free_ char *abs = realpath(path, NULL);
	const char *location = abs ? abs : path;
	int r;
	if (S_ISDIR(st.st_mode)) {
		r = begin_source(b, location, "dir", NULL, NULL, err, errlen);
		if (r < 0) {
			return r;
		}
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int e = -errno;
			return errf(err, errlen, e, "%s: %s", path, strerror(-e));
		}
		r = import_dir(b, fd, path, 0, err, errlen);
	} else if (S_ISREG(st.st_mode) && str_has_suffix(path, ".json")) {
		r = begin_source(b, location, "file", NULL, NULL, err, errlen);
		if (r < 0) {
			return r;
		}
		r = import_file(b, AT_FDCWD, path, path, err, errlen);
	} else if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = -errno;
			return errf(err, errlen, e, "%s: %s", path, strerror(-e));
		}
		r = osvdb_build_import_zip_fd(b, fd, location, NULL, NULL, err, errlen);
		close(fd);
		return r;
	} else {
		return errf(err, errlen, -EINVAL,
			    "%s: neither a directory, a JSON file nor a zip export", path);
	}
	return r < 0 ? r : end_source(b, err, errlen);
}

/* Whether the SQL query (one row, one integer column) answers 1. */
static bool query_true(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	bool yes = prepare(db, sql, &st) == 0 && sqlite3_step(st) == SQLITE_ROW &&
		   sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	return yes;
}

/*
 * Whether the database `schema` of db lists every id each of its sources held (members),
 * consistently with the kept copies: a database built before the table was added (by an
 * older runner, same format) does not, and one whose lists were damaged is not trusted
 * either. A kept copy whose source does not list it, or a listed id without a kept copy,
 * would make a copy of the source lose the id.
 */
static bool members_complete(sqlite3 *db, const char *schema)
{
	_cleanup_free_ char *table =
		xasprintf("SELECT EXISTS (SELECT 1 FROM %s.sqlite_master WHERE type = 'table'"
			  " AND name = 'members')",
			  schema);
	_cleanup_free_ char *unlisted = xasprintf(
		"SELECT NOT EXISTS (SELECT 1 FROM %s.vulns v WHERE NOT EXISTS"
		" (SELECT 1 FROM %s.members m WHERE m.source = v.source AND m.id = v.id))",
		schema, schema);
	_cleanup_free_ char *unkept =
		xasprintf("SELECT NOT EXISTS (SELECT 1 FROM %s.members m WHERE NOT EXISTS"
			  " (SELECT 1 FROM %s.vulns v WHERE v.id = m.id))",
			  schema, schema);
	return query_true(db, table) && query_true(db, unlisted) && query_true(db, unkept);
}

int osvdb_build_copy_source(struct osvdb_build *b, const char *old_path, const char *location,
			    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int r = 0, rc;
	/* Attached once for the whole build (it cannot be detached inside its transaction,
	 * and every unchanged source comes from the same file): the connection's close drops
	 * it. */
	if (!b->old_attached) {
		if (prepare(b->db, "ATTACH DATABASE ? AS old", &st) < 0) {
			return sql_err(b, err, errlen, "cannot attach the old database");
		}
		sqlite3_bind_text(st, 1, old_path, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			return sql_err(b, err, errlen, "cannot attach the old database");
		}
		b->old_attached = true;
	}
	/* Only from a database of this format: an older one may hold records today's loader
	 * refuses, which a copy would carry over unchecked. */
	sqlite3_stmt *sch = NULL;
	bool current =
		prepare(b->db, "SELECT value FROM old.meta WHERE key = 'schema'", &sch) == 0 &&
		sqlite3_step(sch) == SQLITE_ROW &&
		str_eq((const char *)sqlite3_column_text(sch, 0), OSVDB_SCHEMA);
	sqlite3_finalize(sch);
	if (!current) {
		return errf(err, errlen, -EINVAL,
			    "%s is not an advisory database of format %s: its records are not "
			    "copied (rebuild it with 'runner db update' or 'runner db import "
			    "PATH...')",
			    old_path, OSVDB_SCHEMA);
	}
	/* Nor from one that does not list every id each source held: copied by its kept
	 * copies alone, an id another source's copy overrode would be lost when that source
	 * drops it. */
	if (!b->old_members_checked) {
		if (!members_complete(b->db, "old")) {
			return errf(
				err, errlen, -EINVAL,
				"%s does not list the advisories each of its sources held (built "
				"by an older runner, or damaged): its records are not copied "
				"(rebuild it with 'runner db update' or 'runner db import "
				"PATH...')",
				old_path);
		}
		b->old_members_checked = true;
	}
	sqlite3_stmt *src = NULL;
	if (prepare(b->db,
		    "SELECT id, kind, etag, last_modified FROM old.sources WHERE location = ?",
		    &src) < 0) {
		r = sql_err(b, err, errlen, "cannot read the old database");
		goto out;
	}
	sqlite3_bind_text(src, 1, location, -1, SQLITE_STATIC);
	if (sqlite3_step(src) != SQLITE_ROW) {
		r = errf(err, errlen, -ENOENT, "the old database has no source %s", location);
		goto out;
	}
	int64_t old_id = sqlite3_column_int64(src, 0);
	r = begin_source(b, location, (const char *)sqlite3_column_text(src, 1),
			 (const char *)sqlite3_column_text(src, 2),
			 (const char *)sqlite3_column_text(src, 3), err, errlen);
	if (r < 0) {
		goto out;
	}
	sqlite3_stmt *cp = NULL;
	/*
	 * Every id the source held (members), not only those whose kept copy came from it:
	 * the kept copy of each is taken, whichever source supplied it (none is later), so
	 * that an id stays while one source that holds it is unchanged, even when the source
	 * whose copy was kept has dropped it. The same id from another source: the later
	 * `modified` wins, as on import. Kept copies later than the ones already built
	 * replace them (the first two steps), then the rest are copied (the fourth counts
	 * them, the replaced ones among them counted once already) and the list with them.
	 */
	static const char *const steps[] = {
		"DELETE FROM main.affected WHERE vuln IN (SELECT m.id FROM old.members s"
		" JOIN old.vulns v ON v.id = s.id JOIN main.vulns m ON m.id = s.id"
		" WHERE s.source = ?1 AND v.modified > m.modified);",
		"DELETE FROM main.vulns WHERE id IN (SELECT m.id FROM old.members s"
		" JOIN old.vulns v ON v.id = s.id JOIN main.vulns m ON m.id = s.id"
		" WHERE s.source = ?1 AND v.modified > m.modified);",
		"INSERT INTO main.affected SELECT a.* FROM old.affected a"
		" WHERE a.vuln IN (SELECT id FROM old.members WHERE source = ?1)"
		" AND a.vuln NOT IN (SELECT id FROM main.vulns);",
		("INSERT OR IGNORE INTO main.vulns SELECT v.id, ?2, v.modified, v.published,"
		 " v.withdrawn, v.summary, v.aliases, v.raw FROM old.members s"
		 " JOIN old.vulns v ON v.id = s.id WHERE s.source = ?1"),
		"INSERT INTO main.members(source, id) SELECT ?2, id FROM old.members"
		" WHERE source = ?1",
	};
	size_t copied = 0, replaced = 0;
	for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
		if (prepare(b->db, steps[k], &cp) < 0) {
			r = sql_err(b, err, errlen, "cannot copy records");
			goto out;
		}
		sqlite3_bind_int64(cp, 1, old_id);
		if (k >= 3) {
			sqlite3_bind_int64(cp, 2, b->source);
		}
		rc = sqlite3_step(cp);
		sqlite3_finalize(cp);
		cp = NULL;
		if (rc != SQLITE_DONE) {
			r = sql_err(b, err, errlen, "cannot copy records");
			goto out;
		}
		if (k == 1) {
			replaced = (size_t)sqlite3_changes(b->db);
		} else if (k == 3) {
			copied = (size_t)sqlite3_changes(b->db);
		}
	}
	b->records += copied - MIN(copied, replaced); /* distinct ids */
	/* What the source held when it was read, as the old database recorded it (its
	 * records that another source's later copy overrode were counted, not stored). */
	b->source_records = 0;
	if (prepare(b->db, "SELECT records FROM old.sources WHERE id = ?1", &cp) < 0) {
		r = sql_err(b, err, errlen, "cannot copy records");
		goto out;
	}
	sqlite3_bind_int64(cp, 1, old_id);
	if (sqlite3_step(cp) == SQLITE_ROW) {
		b->source_records = (size_t)sqlite3_column_int64(cp, 0);
	}
	sqlite3_finalize(cp);
	r = end_source(b, err, errlen);
out:
	sqlite3_finalize(src);
	return r;
}

static int put_meta(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	if (prepare(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st) < 0) {
		return -EIO;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Whether the vulns table of db has a row (false too when it cannot be read). */
static bool has_records(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool any = sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM vulns)", -1, &st, NULL) ==
			   SQLITE_OK &&
		   sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	return any;
}

int osvdb_build_commit(struct osvdb_build *b, char *err, size_t errlen)
{
	/* A database without a single advisory would pass every dependency: sources that
	 * yield none (a directory of YAML files, an empty export) are an error, and the
	 * database in place is kept. */
	if (!has_records(b->db)) {
		errf(err, errlen, 0,
		     "the sources hold no OSV advisory (*.json records): refusing to make an "
		     "empty advisory database, which would let every dependency pass");
		osvdb_build_abort(b);
		return -EINVAL;
	}
	char now[32];
	snprintf(now, sizeof(now), "%llu", (unsigned long long)(now_real_ms() / 1000));
	if (put_meta(b->db, "schema", OSVDB_SCHEMA) < 0 || put_meta(b->db, "built_at", now) < 0 ||
	    put_meta(b->db, "updated_at", now) < 0 ||
	    sqlite3_exec(b->db,
			 "CREATE INDEX affected_pkg ON affected(ecosystem, name);"
			 "COMMIT;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		int r = sql_err(b, err, errlen, "cannot finish");
		osvdb_build_abort(b);
		return r;
	}
	sqlite3_finalize(b->ins_vuln);
	sqlite3_finalize(b->ins_aff);
	sqlite3_finalize(b->get_mod);
	sqlite3_finalize(b->del_aff);
	sqlite3_finalize(b->del_vuln);
	sqlite3_finalize(b->ins_src);
	sqlite3_finalize(b->upd_src);
	sqlite3_finalize(b->ins_member);
	b->ins_vuln = b->ins_aff = b->get_mod = b->del_aff = b->del_vuln = b->ins_src = b->upd_src =
		b->ins_member = NULL;
	if (sqlite3_close(b->db) != SQLITE_OK) {
		int r = sql_err(b, err, errlen, "cannot close");
		osvdb_build_abort(b);
		return r;
	}
	b->db = NULL;
	/* Durable before it becomes visible. */
	int fd = open(b->tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0 || rename(b->tmp, b->path) < 0) {
		int e = -errno;
		if (fd >= 0) {
			close(fd);
		}
		errf(err, errlen, e, "cannot put %s in place: %s", b->path, strerror(-e));
		osvdb_build_abort(b);
		return e;
	}
	close(fd);
	_cleanup_free_ char *dir = xstrdup(b->path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = slash == dir ? '/' : '\0';
		if (slash == dir) {
			slash[1] = '\0';
		}
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	tmp_untrack(b->tmp);
	free(b->tmp);
	b->tmp = NULL;
	osvdb_build_abort(b);
	return 0;
}

/* ---------- reading ---------- */

struct osvdb {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *lookup, *record, *info;
	int64_t built_at, updated_at;
};

void osvdb_close(struct osvdb *db)
{
	if (!db) {
		return;
	}
	sqlite3_finalize(db->lookup);
	sqlite3_finalize(db->record);
	sqlite3_finalize(db->info);
	if (db->db && !sqlite3_get_autocommit(db->db)) {
		sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db->db);
	free(db->path);
	free(db);
}

static char *get_meta(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st;
	if (prepare(db, "SELECT value FROM meta WHERE key = ?", &st) < 0) {
		return NULL;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return v;
}

json_t *osvdb_other_format_sources(const char *path)
{
	sqlite3 *db = NULL;
	json_t *out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	_cleanup_free_ char *schema = get_meta(db, "schema");
	sqlite3_stmt *st = NULL;
	if (schema && !str_eq(schema, OSVDB_SCHEMA) &&
	    str_has_prefix(schema, OSVDB_SCHEMA_PREFIX) &&
	    prepare(db, "SELECT location FROM sources ORDER BY id", &st) == 0) {
		out = json_array();
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *loc = (const char *)sqlite3_column_text(st, 0);
			if (loc) {
				json_array_append_new(out, json_string(loc));
			}
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

int osvdb_open(const char *path, struct osvdb **out, char *err, size_t errlen)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = -errno;
		return errf(err, errlen, e, "%s: %s", path, strerror(-e));
	}
	if (!S_ISREG(st.st_mode)) {
		return errf(err, errlen, -EINVAL, "%s: not a file", path);
	}
	if (access(path, R_OK) < 0) {
		int e = -errno;
		return errf(err, errlen, e, "%s: %s", path, strerror(-e));
	}
	struct osvdb *db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		int r = errf(err, errlen, -EIO, "%s: cannot open: %s", path,
			     sqlite3_errmsg(db->db));
		osvdb_close(db);
		return r;
	}
	_cleanup_free_ char *schema = get_meta(db->db, "schema");
	if (schema && !str_eq(schema, OSVDB_SCHEMA) &&
	    str_has_prefix(schema, OSVDB_SCHEMA_PREFIX)) {
		/* Another format of ours: an older one may hold records today's loader
		 * refuses (ranges the scan cannot evaluate). Never read it. */
		bool plain = strlen(schema) <= 32;
		for (const char *c = schema; plain && *c; c++) {
			plain = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
				*c == '/' || *c == '.';
		}
		int r = errf(err, errlen, -EINVAL,
			     "%s: an advisory database of another format (%s; this runner reads "
			     "%s): rebuild it with 'runner db update' or 'runner db import "
			     "PATH...'",
			     path, plain ? schema : "?", OSVDB_SCHEMA);
		osvdb_close(db);
		return r;
	}
	_cleanup_free_ char *built = get_meta(db->db, "built_at");
	_cleanup_free_ char *updated = get_meta(db->db, "updated_at");
	uint64_t b = 0, u = 0;
	if (!schema || !str_eq(schema, OSVDB_SCHEMA) || !built || !updated ||
	    parse_uint(built, INT64_MAX, &b) < 0 || parse_uint(updated, INT64_MAX, &u) < 0 ||
	    prepare(db->db,
		    "SELECT vuln, entry, versions, severity, score, sev_source FROM affected "
		    "WHERE ecosystem = ? AND name = ?",
		    &db->lookup) < 0 ||
	    prepare(db->db, "SELECT raw FROM vulns WHERE id = ?", &db->record) < 0 ||
	    prepare(db->db, "SELECT summary, aliases, withdrawn FROM vulns WHERE id = ?",
		    &db->info) < 0) {
		int r = errf(err, errlen, -EINVAL,
			     "%s: not an advisory database of this runner (schema %s expected)",
			     path, OSVDB_SCHEMA);
		osvdb_close(db);
		return r;
	}
	db->built_at = (int64_t)b;
	db->updated_at = (int64_t)u;
	/*
	 * One read transaction for the life of the handle: a consistent snapshot, and one
	 * shared lock instead of a lock and unlock per lookup. Pages are read through mmap.
	 */
	sqlite3_exec(db->db, "PRAGMA mmap_size=1073741824; BEGIN", NULL, NULL, NULL);
	*out = db;
	return 0;
}

int64_t osvdb_updated_at(const struct osvdb *db)
{
	return db->updated_at;
}

bool osvdb_is_empty(struct osvdb *db)
{
	return !has_records(db->db);
}

bool osvdb_lists_members(struct osvdb *db)
{
	return members_complete(db->db, "main");
}

int osvdb_lookup(struct osvdb *db, const char *ecosystem, const char *name,
		 int (*cb)(void *ud, const struct osvdb_hit *hit), void *ud)
{
	sqlite3_stmt *st = db->lookup;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, ecosystem, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct osvdb_hit h = {
			.vuln_id = (const char *)sqlite3_column_text(st, 0),
			.entry = (const char *)sqlite3_column_text(st, 1),
			.entry_len = (size_t)sqlite3_column_bytes(st, 1),
			.versions = (const char *)sqlite3_column_text(st, 2),
			.versions_len = (size_t)sqlite3_column_bytes(st, 2),
			.severity = sqlite3_column_int(st, 3),
			.score = sqlite3_column_double(st, 4),
			.sev_source = (const char *)sqlite3_column_text(st, 5),
		};
		if (!h.vuln_id || !h.entry) {
			continue;
		}
		r = cb(ud, &h);
		if (r < 0) {
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

json_t *osvdb_record(struct osvdb *db, const char *id)
{
	sqlite3_stmt *st = db->record;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	json_t *rec = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *raw = (const char *)sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		if (raw) {
			json_error_t jerr;
			rec = json_loadb(raw, (size_t)n, 0, &jerr);
		}
	}
	sqlite3_reset(st);
	return rec;
}

int osvdb_info(struct osvdb *db, const char *id, struct osvdb_vinfo *out)
{
	sqlite3_stmt *st = db->info;
	memset(out, 0, sizeof(*out));
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *summary = (const char *)sqlite3_column_text(st, 0);
		const char *aliases = (const char *)sqlite3_column_text(st, 1);
		out->summary = summary ? xstrdup(summary) : NULL;
		json_error_t jerr;
		out->aliases = aliases ? json_loads(aliases, 0, &jerr) : NULL;
		if (!json_is_array(out->aliases)) {
			json_decref(out->aliases);
			out->aliases = json_array();
		}
		out->withdrawn = sqlite3_column_type(st, 2) != SQLITE_NULL;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW && !out->summary) {
		/* A database imported before titles were taken from the details (the
		 * schema is the same): from the record, as an import now stores it. */
		json_t *rec = osvdb_record(db, id);
		out->summary = rec ? osv_title_of(rec) : NULL;
		json_decref(rec);
	}
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

void osvdb_vinfo_release(struct osvdb_vinfo *v)
{
	free(v->summary);
	json_decref(v->aliases);
	memset(v, 0, sizeof(*v));
}

static json_t *time_json(int64_t secs)
{
	char buf[40];
	return json_string(format_rfc3339((uint64_t)secs * 1000, buf, sizeof(buf)));
}

json_t *osvdb_status(struct osvdb *db)
{
	json_t *o = json_object();
	json_object_set_new(o, "path", json_string(db->path));
	json_object_set_new(o, "schema", json_string(OSVDB_SCHEMA));
	json_object_set_new(o, "built_at", time_json(db->built_at));
	json_object_set_new(o, "updated_at", time_json(db->updated_at));
	int64_t now = (int64_t)(now_real_ms() / 1000);
	json_object_set_new(o, "age_seconds", json_integer(now - db->updated_at));
	sqlite3_stmt *st;
	json_int_t records = 0, withdrawn = 0;
	if (prepare(db->db, "SELECT COUNT(*), COUNT(withdrawn) FROM vulns", &st) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			records = sqlite3_column_int64(st, 0);
			withdrawn = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "records", json_integer(records));
	json_object_set_new(o, "withdrawn", json_integer(withdrawn));
	json_t *sources = json_array();
	if (prepare(db->db,
		    "SELECT location, kind, records, imported_at, etag, last_modified FROM sources "
		    "ORDER BY id",
		    &st) == 0) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *s = json_object();
			json_object_set_new(s, "location",
					    json_string((const char *)sqlite3_column_text(st, 0)));
			json_object_set_new(s, "kind",
					    json_string((const char *)sqlite3_column_text(st, 1)));
			json_object_set_new(s, "records",
					    json_integer(sqlite3_column_int64(st, 2)));
			json_object_set_new(s, "imported_at",
					    time_json(sqlite3_column_int64(st, 3)));
			const char *etag = (const char *)sqlite3_column_text(st, 4);
			const char *lm = (const char *)sqlite3_column_text(st, 5);
			json_object_set_new(s, "etag", etag ? json_string(etag) : json_null());
			json_object_set_new(s, "last_modified", lm ? json_string(lm) : json_null());
			json_array_append_new(sources, s);
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "sources", sources);
	json_t *ecos = json_object();
	if (prepare(db->db,
		    "SELECT ecosystem, COUNT(DISTINCT vuln) FROM affected GROUP BY ecosystem "
		    "ORDER BY ecosystem",
		    &st) == 0) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *e = (const char *)sqlite3_column_text(st, 0);
			if (e) {
				json_object_set_new(ecos, e,
						    json_integer(sqlite3_column_int64(st, 1)));
			}
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "ecosystems", ecos);
	return o;
}
