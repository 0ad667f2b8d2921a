/*
 * depscan.c - lockfiles against the advisory database (see depscan.h).
 */
#include "depscan.h"

#include "eco.h"
#include "hmap.h"
#include "osv.h"
#include "osvdb.h"
#include "sbuf.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

static int set_err(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

void depscan_result_init(struct depscan_result *r)
{
	memset(r, 0, sizeof(*r));
	dep_list_init(&r->deps);
	finding_list_init(&r->findings);
	diag_list_init(&r->diags, 100);
}

void depscan_result_release(struct depscan_result *r)
{
	dep_list_release(&r->deps);
	finding_list_release(&r->findings);
	diag_list_release(&r->diags);
	json_decref(r->stats);
	memset(r, 0, sizeof(*r));
}

/* ---------- package URLs ---------- */

static void purl_escape(struct sbuf *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_' || *p == '~' ||
		    (keep_slash && *p == '/')) {
			sbuf_putc(sb, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			sbuf_append(sb, e, 3);
		}
	}
}

char *depscan_purl(const struct dep *d)
{
	struct sbuf sb;
	sbuf_init(&sb, SIZE_MAX / 2);
	sbuf_printf(&sb, "pkg:%s/", eco_purl_type(d->eco));
	const char *name = d->name;
	char *owned = NULL;
	switch (d->eco) {
	case ECO_MAVEN: {
		/* group:artifact -> group/artifact */
		const char *colon = strchr(name, ':');
		if (colon) {
			char *g = xstrndup(name, (size_t)(colon - name));
			purl_escape(&sb, g, false);
			free(g);
			sbuf_putc(&sb, '/');
			purl_escape(&sb, colon + 1, false);
		} else {
			purl_escape(&sb, name, false);
		}
		break;
	}
	case ECO_NPM:
	case ECO_PACKAGIST:
	case ECO_GO:
		/* Namespaces: "@scope/name", "vendor/name", module paths. */
		purl_escape(&sb, name, true);
		break;
	case ECO_PYPI:
		owned = eco_normalize_name(ECO_PYPI, name);
		purl_escape(&sb, owned, false);
		break;
	default:
		purl_escape(&sb, name, false);
		break;
	}
	free(owned);
	if (d->version && *d->version) {
		sbuf_putc(&sb, '@');
		if (d->eco == ECO_GO && !str_eq(d->name, "stdlib") && d->version[0] != 'v') {
			sbuf_putc(&sb, 'v');
		}
		purl_escape(&sb, d->version, false);
	}
	return sbuf_steal(&sb);
}

/* ---------- matching ---------- */

struct scan {
	struct osvdb *db;
	struct depscan_result *r;
	enum severity unknown_severity;
	struct hmap *records; /* id -> json_t* (cached records) */
	json_t **owned;	      /* records to release */
	size_t n_owned, cap_owned;
	size_t advisories; /* distinct advisories found */
	struct hmap *seen_adv;
	/* per package */
	const struct dep *dep;
	size_t dep_findings;
	int error;
};

static json_t *record(struct scan *s, const char *id)
{
	json_t *rec = hmap_get(s->records, id);
	if (rec) {
		return rec;
	}
	rec = osvdb_record(s->db, id);
	if (!rec) {
		return NULL;
	}
	GROW(s->owned, s->cap_owned, s->n_owned + 1);
	s->owned[s->n_owned++] = rec;
	hmap_put(s->records, json_string_value(json_object_get(rec, "id")), rec);
	return rec;
}

static void add_finding(struct scan *s, const json_t *rec, const json_t *aff, const char *fixed)
{
	const struct dep *d = s->dep;
	const char *id = json_string_value(json_object_get(rec, "id"));
	/* One finding per advisory and package occurrence, however many entries match. */
	for (size_t i = s->r->findings.n - s->dep_findings; i < s->r->findings.n; i++) {
		if (str_eq(s->r->findings.v[i].rule_id, id)) {
			return;
		}
	}
	struct finding *f = finding_list_add(&s->r->findings);
	s->dep_findings++;
	if (!hmap_get(s->seen_adv, id)) {
		hmap_put(s->seen_adv, id, (void *)1);
		s->advisories++;
	}
	f->kind = FINDING_DEPENDENCY;
	finding_set(&f->rule_id, id);
	const char *summary = json_string_value(json_object_get(rec, "summary"));
	finding_set(&f->title, summary && *summary ? summary : id);
	const json_t *aliases = json_object_get(rec, "aliases");
	for (size_t i = 0; i < json_array_size(aliases); i++) {
		finding_add_alias(f, json_string_value(json_array_get(aliases, i)));
	}
	struct osv_severity sev;
	osv_severity_of(rec, aff, &sev);
	f->severity = sev.known ? sev.level : s->unknown_severity;
	f->score = sev.score;
	finding_set(&f->confidence, "high");
	finding_set(&f->file, d->file);
	f->line = d->line;
	f->column = 0;
	/* Fixed versions: of every entry of this record for the package. */
	json_t *fixed_versions = json_array();
	const json_t *all = json_object_get(rec, "affected");
	_cleanup_free_ char *norm = eco_normalize_name(d->eco, d->name);
	for (size_t i = 0; i < json_array_size(all); i++) {
		const json_t *a = json_array_get(all, i);
		const json_t *pkg = json_object_get(a, "package");
		const char *ename = json_string_value(json_object_get(pkg, "name"));
		const char *eeco = json_string_value(json_object_get(pkg, "ecosystem"));
		if (!str_eq(eeco, eco_name(d->eco)) || !ename) {
			continue;
		}
		_cleanup_free_ char *en = eco_normalize_name(d->eco, ename);
		if (str_eq(en, norm)) {
			osv_affected_fixed_versions(a, fixed_versions);
		}
	}
	struct sbuf sb;
	sbuf_init(&sb, 1u << 16);
	size_t nfixed = json_array_size(fixed_versions);
	if (fixed) {
		sbuf_printf(&sb, "upgrade %s to %s or later", d->name, fixed);
	} else if (nfixed) {
		sbuf_printf(&sb, "no fixed version above %s is known for this range", d->version);
	} else {
		sbuf_puts(&sb, "no fixed version is known: remove the dependency or mitigate");
	}
	for (size_t i = 0; i < nfixed; i++) {
		sbuf_printf(&sb, "%s%s", i == 0 ? " (fixed in: " : ", ",
			    json_string_value(json_array_get(fixed_versions, i)));
	}
	if (nfixed) {
		sbuf_putc(&sb, ')');
	}
	finding_set(&f->fix, sb.data);
	sbuf_reset(&sb);
	sbuf_printf(&sb, "%s %s (%s) is affected by %s", d->name, d->version, eco_name(d->eco), id);
	for (size_t i = 0; i < f->n_aliases; i++) {
		sbuf_printf(&sb, "%s%s", i == 0 ? " (" : ", ", f->aliases[i]);
	}
	if (f->n_aliases) {
		sbuf_putc(&sb, ')');
	}
	if (summary && *summary) {
		sbuf_printf(&sb, ": %s", summary);
	}
	finding_set(&f->message, sb.data);
	sbuf_release(&sb);
	_cleanup_free_ char *purl = depscan_purl(d);
	_cleanup_free_ char *content = xasprintf("%s|%s|%s", eco_name(d->eco), d->name, d->version);
	finding_fingerprint(f, content, strlen(content), 0);
	f->extra = json_pack("{s:{s:s, s:s, s:s, s:s}, s:o, s:o, s:s, s:s}", "package", "ecosystem",
			     eco_name(d->eco), "name", d->name, "version", d->version, "purl", purl,
			     "fixed_versions", fixed_versions, "nearest_fixed",
			     fixed ? json_string(fixed) : json_null(), "severity_source",
			     sev.known ? sev.source : "unknown-severity policy", "url", "");
	_cleanup_free_ char *url = xasprintf("https://osv.dev/vulnerability/%s", id);
	json_object_set_new(f->extra, "url", json_string(url));
	if (d->flags & DEP_UNPINNED) {
		json_object_set_new(f->extra, "version_note", json_string(d->note ? d->note : ""));
	}
}

static int on_hit(void *ud, const struct osvdb_hit *h)
{
	struct scan *s = ud;
	json_error_t jerr;
	json_t *aff = json_loadb(h->entry, h->entry_len, 0, &jerr);
	if (!aff) {
		return 0; /* stored by our own importer after checks: cannot happen */
	}
	char *fixed = NULL;
	if (osv_affected_contains(aff, s->dep->eco, s->dep->version, &fixed)) {
		json_t *rec = record(s, h->vuln_id);
		if (rec && !json_object_get(rec, "withdrawn")) {
			/* The entry of the record itself (for its severity). */
			add_finding(s, rec, aff, fixed);
		}
	}
	free(fixed);
	json_decref(aff);
	return 0;
}

static void policy_finding(struct scan *s, const struct dep *d, const char *rule, const char *title,
			   enum severity sev, const char *fix)
{
	struct finding *f = finding_list_add(&s->r->findings);
	f->kind = FINDING_DEPENDENCY;
	finding_set(&f->rule_id, rule);
	finding_set(&f->title, title);
	f->severity = sev;
	finding_set(&f->confidence, "high");
	finding_set(&f->file, d->file);
	f->line = d->line;
	_cleanup_free_ char *msg =
		xasprintf("%s (%s): %s", d->name, eco_name(d->eco), d->note ? d->note : title);
	finding_set(&f->message, msg);
	finding_set(&f->fix, fix);
	_cleanup_free_ char *content = xasprintf("%s|%s|%s", eco_name(d->eco), d->name, d->version);
	finding_fingerprint(f, content, strlen(content), 0);
	_cleanup_free_ char *purl = depscan_purl(d);
	f->extra = json_pack("{s:{s:s, s:s, s:s, s:s}}", "package", "ecosystem", eco_name(d->eco),
			     "name", d->name, "version", d->version, "purl", purl);
}

int depscan_run(const struct depscan_opts *o, struct depscan_result *r, char *err, size_t errlen)
{
	int64_t now = o->now ? o->now : (int64_t)(now_real_ms() / 1000);
	/* The database first: without it nothing can pass. */
	if (str_empty(o->db_path)) {
		return set_err(err, errlen, -ENOENT,
			       "no advisory database is configured: set `db:`, RUNNER_DB or HOME, "
			       "then run 'runner db update'");
	}
	struct osvdb *db;
	char dberr[512];
	int rc = osvdb_open(o->db_path, &db, dberr, sizeof(dberr));
	if (rc == -ENOENT) {
		return set_err(err, errlen, rc,
			       "no advisory database at %s: run 'runner db update' (or 'runner db "
			       "import PATH...' for offline exports)",
			       o->db_path);
	}
	if (rc < 0) {
		return set_err(err, errlen, rc == -EINVAL ? -EINVAL : -EACCES,
			       "the advisory database cannot be used (%s): run 'runner db update' "
			       "to rebuild it",
			       dberr);
	}
	int64_t age = now - osvdb_updated_at(db);
	if (o->max_age_s && age > (int64_t)o->max_age_s) {
		char a[32], m[32];
		format_duration((uint64_t)age * 1000, a, sizeof(a));
		format_duration(o->max_age_s * 1000, m, sizeof(m));
		osvdb_close(db);
		return set_err(err, errlen, -ESTALE,
			       "the advisory database at %s is %s old, older than max-db-age %s: "
			       "run 'runner db update'",
			       o->db_path, a, m);
	}
	/* The lockfiles. */
	rc = deps_scan_paths(&r->deps, o->root, o->paths, o->n_paths, &r->diags);
	if (rc < 0) {
		osvdb_close(db);
		const struct diag *d = r->diags.n ? &r->diags.v[0] : NULL;
		if (d && d->line) {
			return set_err(err, errlen, -EBADMSG, "%s:%u: %s", d->file ? d->file : "?",
				       d->line, d->msg);
		}
		return set_err(err, errlen, -EBADMSG, "%s",
			       d ? d->msg : "cannot read the lockfiles");
	}
	if (r->deps.n_files == 0) {
		osvdb_close(db);
		struct sbuf sb;
		sbuf_init(&sb, 4096);
		for (size_t i = 0; i < o->n_paths && i < 8; i++) {
			sbuf_printf(&sb, "%s%s", i ? ", " : "", o->paths[i]);
		}
		set_err(err, errlen, -ENODATA,
			"no lockfile or manifest found under %s: point `paths:` at the project's "
			"package-lock.json, pom.xml, go.mod, requirements.txt... (or remove the "
			"dependency-scan stage)",
			sb.data ? sb.data : ".");
		sbuf_release(&sb);
		return -ENODATA;
	}
	struct scan s = {
		.db = db,
		.r = r,
		.unknown_severity = o->unknown_severity,
		.records = hmap_new(64),
		.seen_adv = hmap_new(64),
	};
	size_t checked = 0, unchecked = 0, vulnerable = 0;
	for (size_t i = 0; i < r->deps.n && s.error == 0; i++) {
		const struct dep *d = &r->deps.v[i];
		if (d->flags & DEP_UNRESOLVED) {
			policy_finding(&s, d, "unresolved-version",
				       "version not resolved from the file", SEVERITY_HIGH,
				       "pin the version in this file (or scan the effective POM, "
				       "e.g. from `mvn help:effective-pom`)");
			continue;
		}
		if ((d->flags & DEP_UNPINNED) && d->eco == ECO_PYPI &&
		    str_eq(d->version, "0.0.0")) {
			policy_finding(
				&s, d, "unpinned-requirement", "requirement without a version",
				SEVERITY_MEDIUM,
				"pin it (name==version), e.g. with pip-compile or pip freeze");
			continue;
		}
		if (!*d->version) {
			unchecked++;
			continue;
		}
		checked++;
		s.dep = d;
		s.dep_findings = 0;
		_cleanup_free_ char *norm = eco_normalize_name(d->eco, d->name);
		int lr = osvdb_lookup(db, eco_name(d->eco), norm, on_hit, &s);
		if (lr < 0) {
			s.error = lr;
		}
		vulnerable += s.dep_findings > 0;
	}
	r->stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:{s:s, s:I}}", "lockfiles",
			     (json_int_t)r->deps.n_files, "packages", (json_int_t)r->deps.n,
			     "checked", (json_int_t)checked, "unchecked", (json_int_t)unchecked,
			     "vulnerable_packages", (json_int_t)vulnerable, "advisories",
			     (json_int_t)s.advisories, "db", "path", o->db_path, "age_seconds",
			     (json_int_t)age);
	for (size_t i = 0; i < s.n_owned; i++) {
		json_decref(s.owned[i]);
	}
	free(s.owned);
	hmap_free(s.records);
	hmap_free(s.seen_adv);
	osvdb_close(db);
	if (s.error) {
		return set_err(err, errlen, -EIO,
			       "reading the advisory database failed: run 'runner db update' to "
			       "rebuild it");
	}
	finding_list_sort(&r->findings);
	return 0;
}
