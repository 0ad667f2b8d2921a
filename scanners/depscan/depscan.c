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

/* The other lines of the lockfile whose entries are the same package (see struct dep). */
static void set_also(struct finding *f, const struct dep *d)
{
	if (!d->n_also) {
		return;
	}
	json_t *lines = json_array();
	for (size_t i = 0; i < d->n_also && i < DEP_MAX_ALSO; i++) {
		json_array_append_new(lines, json_integer(d->also[i]));
	}
	json_object_set_new(f->extra, "also_at", lines);
	if (d->n_also > DEP_MAX_ALSO) {
		json_object_set_new(f->extra, "also_at_count", json_integer((json_int_t)d->n_also));
	}
}

char *depscan_also_text(const struct finding *f)
{
	const json_t *also = json_object_get(f->extra, "also_at");
	size_t n = json_array_size(also);
	if (!n) {
		return NULL;
	}
	struct sbuf sb;
	sbuf_init(&sb, SIZE_MAX / 2);
	sbuf_puts(&sb, "also at lines:");
	for (size_t k = 0; k < n; k++) {
		sbuf_printf(&sb, "%s %lld", k ? "," : "",
			    (long long)json_integer_value(json_array_get(also, k)));
	}
	json_int_t all = json_integer_value(json_object_get(f->extra, "also_at_count"));
	if (all > (json_int_t)n) {
		sbuf_printf(&sb, " (and %lld more)", (long long)(all - (json_int_t)n));
	}
	return sbuf_steal(&sb);
}

/* ---------- matching ---------- */

/* One affected entry of a record for the package being checked. */
struct hit {
	char *vuln;
	json_t *entry; /* ranges, without the versions list */
	bool contains; /* the version is affected by this entry */
	char *fixed;   /* nearest fixed version above it, in this entry */
	int severity;  /* -1 unknown */
	double score;
	char *sev_source;
};

struct scan {
	struct osvdb *db;
	struct depscan_result *r;
	enum severity unknown_severity;
	struct hmap *infos; /* vuln id (key owned by the info) -> struct vinfo * */
	struct vinfo **owned;
	size_t n_owned, cap_owned;
	size_t advisories; /* distinct advisories found */
	/* per package */
	const struct dep *dep;
	struct hit *hits;
	size_t n_hits, cap_hits;
	size_t dep_findings;
	int error;
};

struct vinfo {
	char *id;
	struct osvdb_vinfo v;
	bool counted;
};

static struct vinfo *info(struct scan *s, const char *id)
{
	struct vinfo *vi = hmap_get(s->infos, id);
	if (vi) {
		return vi;
	}
	vi = xcalloc(1, sizeof(*vi));
	vi->id = xstrdup(id);
	if (osvdb_info(s->db, id, &vi->v) < 0) {
		vi->v.aliases = json_array();
	}
	GROW(s->owned, s->cap_owned, s->n_owned + 1);
	s->owned[s->n_owned++] = vi;
	hmap_put(s->infos, vi->id, vi);
	return vi;
}

static int on_hit(void *ud, const struct osvdb_hit *h)
{
	struct scan *s = ud;
	json_error_t jerr;
	json_t *entry = json_loadb(h->entry, h->entry_len, 0, &jerr);
	if (!entry) {
		return -EIO; /* our own importer wrote it: the database is damaged */
	}
	const char *v = s->dep->version;
	char *fixed = NULL;
	bool contains = osv_ranges_contain(entry, s->dep->eco, v, &fixed);
	if (!contains && h->versions) {
		/* The versions list, exact strings (the schema's IncludedInVersions). */
		size_t n = strlen(v);
		char *needle = xmalloc(n + 3);
		needle[0] = '\n';
		memcpy(needle + 1, v, n);
		needle[n + 1] = '\n';
		needle[n + 2] = '\0';
		contains = memmem(h->versions, h->versions_len, needle, n + 2) != NULL;
		free(needle);
	}
	GROW(s->hits, s->cap_hits, s->n_hits + 1);
	s->hits[s->n_hits++] = (struct hit){
		.vuln = xstrdup(h->vuln_id),
		.entry = entry,
		.contains = contains,
		.fixed = fixed,
		.severity = h->severity,
		.score = h->score,
		.sev_source = h->sev_source ? xstrdup(h->sev_source) : NULL,
	};
	return 0;
}

static void clear_hits(struct scan *s)
{
	for (size_t i = 0; i < s->n_hits; i++) {
		free(s->hits[i].vuln);
		json_decref(s->hits[i].entry);
		free(s->hits[i].fixed);
		free(s->hits[i].sev_source);
	}
	s->n_hits = 0;
}

/* Sort a JSON array of version strings in the ecosystem's order. */
static void sort_versions(json_t *arr, enum vscheme sch)
{
	size_t n = json_array_size(arr);
	for (size_t i = 1; i < n; i++) {
		for (size_t k = i; k > 0; k--) {
			const char *a = json_string_value(json_array_get(arr, k - 1));
			const char *b = json_string_value(json_array_get(arr, k));
			if (vers_compare(sch, a, b) <= 0) {
				break;
			}
			json_t *t = json_incref(json_array_get(arr, k - 1));
			json_array_set(arr, k - 1, json_array_get(arr, k));
			json_array_set_new(arr, k, t);
		}
	}
}

/*
 * One finding for the advisory of hits[first] (its first hit), for the entries of it that
 * contain the version. Its severity and score
 * are the highest of those entries' (an entry without a severity counts as the
 * unknown-severity policy's level); its fixed versions are those of every entry of the
 * record for the package, and the nearest fixed version is one that leaves every
 * containing entry (none when one of them has no fixed version above the version).
 */
static void add_finding(struct scan *s, size_t first)
{
	const struct dep *d = s->dep;
	const char *id = s->hits[first].vuln;
	struct vinfo *vi = info(s, id);
	if (vi->v.withdrawn) {
		return;
	}
	json_t *fixed_versions = json_array();
	const char *nearest = NULL;
	bool unfixed = false;
	enum vscheme sch = eco_scheme(d->eco);
	const struct hit *worst = NULL;
	enum severity level = SEVERITY_INFO;
	double score = 0;
	for (size_t i = first; i < s->n_hits; i++) {
		const struct hit *o = &s->hits[i];
		if (!str_eq(o->vuln, id)) {
			continue;
		}
		osv_affected_fixed_versions(o->entry, fixed_versions);
		if (!o->contains) {
			continue;
		}
		if (!o->fixed) {
			unfixed = true;
		} else if (!nearest || vers_compare(sch, o->fixed, nearest) > 0) {
			nearest = o->fixed;
		}
		enum severity l =
			o->severity >= 0 ? (enum severity)o->severity : s->unknown_severity;
		/* The highest level; of equal ones, a known severity over the policy's. */
		if (!worst || l > level ||
		    (l == level && worst->severity < 0 && o->severity >= 0)) {
			worst = o;
			level = l;
		}
		score = MAX(score, o->score);
	}
	if (unfixed) {
		nearest = NULL;
	}
	sort_versions(fixed_versions, sch);
	struct finding *f = finding_list_add(&s->r->findings);
	s->dep_findings++;
	if (!vi->counted) {
		vi->counted = true;
		s->advisories++;
	}
	f->kind = FINDING_DEPENDENCY;
	finding_set(&f->rule_id, id);
	const char *summary = vi->v.summary;
	finding_set(&f->title, summary && *summary ? summary : id);
	for (size_t i = 0; i < json_array_size(vi->v.aliases); i++) {
		const char *al = json_string_value(json_array_get(vi->v.aliases, i));
		if (al) {
			finding_add_alias(f, al);
		}
	}
	bool known = worst->severity >= 0;
	f->severity = level;
	f->score = score;
	finding_set(&f->confidence, "high");
	finding_set(&f->file, d->file);
	f->line = d->line;
	struct sbuf sb;
	sbuf_init(&sb, 1u << 16);
	size_t nfixed = json_array_size(fixed_versions);
	if (nearest) {
		sbuf_printf(&sb, "upgrade %s to %s or later", d->name, nearest);
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
	_cleanup_free_ char *url = xasprintf("https://osv.dev/vulnerability/%s", id);
	f->extra = json_pack("{s:{s:s, s:s, s:s, s:s}, s:o, s:o, s:s, s:s}", "package", "ecosystem",
			     eco_name(d->eco), "name", d->name, "version", d->version, "purl", purl,
			     "fixed_versions", fixed_versions, "nearest_fixed",
			     nearest ? json_string(nearest) : json_null(), "severity_source",
			     known && worst->sev_source ? worst->sev_source
							: "unknown-severity policy",
			     "url", url);
	/* Where the version comes from, when the lockfile does not say it on the line: a
	 * range's, or one a parent POM or a BOM manages (the BOM's file and line). */
	if (d->note || (d->flags & DEP_UNPINNED)) {
		json_object_set_new(f->extra, "version_note", json_string(d->note ? d->note : ""));
	}
	set_also(f, d);
}

/* Check one package: every advisory with an entry that contains its version. */
static int check_package(struct scan *s, const struct dep *d)
{
	s->dep = d;
	s->dep_findings = 0;
	clear_hits(s);
	_cleanup_free_ char *norm = eco_normalize_name(d->eco, d->name);
	int r = osvdb_lookup(s->db, eco_name(d->eco), norm, on_hit, s);
	if (r < 0) {
		return r;
	}
	/* One finding per record with an entry that contains the version, from all of that
	 * record's entries (the database does not return them in any particular order). */
	for (size_t i = 0; i < s->n_hits; i++) {
		bool seen = false, contains = false;
		for (size_t k = 0; k < i && !seen; k++) {
			seen = str_eq(s->hits[k].vuln, s->hits[i].vuln);
		}
		for (size_t k = i; k < s->n_hits && !seen && !contains; k++) {
			contains = s->hits[k].contains && str_eq(s->hits[k].vuln, s->hits[i].vuln);
		}
		if (!seen && contains) {
			add_finding(s, i);
		}
	}
	return 0;
}

/*
 * A package whose version is not known (unresolved, unpinned) might be any version: its
 * finding is at least `sev`, and as severe as the worst advisory of any version of the
 * package (an unresolved log4j-core is as bad as CVE-2021-44228 for the gate, so a
 * `fail-on: critical` does not let it through). Returns 0 or -errno (the database).
 */
static int policy_finding(struct scan *s, const struct dep *d, const char *rule, const char *title,
			  enum severity sev, const char *fix, const char *lower)
{
	s->dep = d;
	clear_hits(s);
	_cleanup_free_ char *norm = eco_normalize_name(d->eco, d->name);
	int r = osvdb_lookup(s->db, eco_name(d->eco), norm, on_hit, s);
	if (r < 0) {
		return r;
	}
	const char *worst_id = NULL;
	for (size_t i = 0; i < s->n_hits; i++) {
		/* A requirement with a least version: only advisories that reach above it. */
		if (lower && !osv_affected_at_or_above(s->hits[i].entry, d->eco, lower)) {
			continue;
		}
		enum severity hs = s->hits[i].severity >= 0 ? (enum severity)s->hits[i].severity
							    : s->unknown_severity;
		/* The worst, and of equally bad ones the least id: the message must not depend
		 * on the database's order. */
		if (hs > sev || (hs == sev && worst_id && strcmp(s->hits[i].vuln, worst_id) < 0)) {
			sev = hs;
			worst_id = s->hits[i].vuln;
		}
	}
	struct finding *f = finding_list_add(&s->r->findings);
	f->kind = FINDING_DEPENDENCY;
	finding_set(&f->rule_id, rule);
	finding_set(&f->title, title);
	f->severity = sev;
	finding_set(&f->confidence, "high");
	finding_set(&f->file, d->file);
	f->line = d->line;
	_cleanup_free_ char *msg =
		worst_id ? xasprintf("%s (%s): %s; some version of it has advisory %s (%s)",
				     d->name, eco_name(d->eco), d->note ? d->note : title, worst_id,
				     severity_name(sev))
			 : xasprintf("%s (%s): %s", d->name, eco_name(d->eco),
				     d->note ? d->note : title);
	finding_set(&f->message, msg);
	finding_set(&f->fix, fix);
	/* The severity is part of what a baseline or an allow entry accepts: one taken while
	 * an unpinned package was medium must not hide it once an advisory makes it critical
	 * (a package whose version is unknown gets no finding per advisory to show that). */
	_cleanup_free_ char *content =
		xasprintf("%s|%s|%s|%s", eco_name(d->eco), d->name, d->version, severity_name(sev));
	finding_fingerprint(f, content, strlen(content), 0);
	_cleanup_free_ char *purl = depscan_purl(d);
	f->extra = json_pack("{s:{s:s, s:s, s:s, s:s}}", "package", "ecosystem", eco_name(d->eco),
			     "name", d->name, "version", d->version, "purl", purl);
	/* The package's note, as an advisory's finding has it: why the version is not known
	 * (which property, parent POM or BOM), or the range. */
	if (d->note || (d->flags & DEP_UNPINNED)) {
		json_object_set_new(f->extra, "version_note", json_string(d->note ? d->note : ""));
	}
	set_also(f, d);
	clear_hits(s);
	return 0;
}

/*
 * The fix of an unresolved version: pin it, or scan the effective POM; and where the version
 * depends on a parent POM or BOM that Maven takes from a repository and the scan did not
 * find, let the scan read it from a local Maven repository (`--maven-repository`, the
 * stage's `maven-repository:`), or, when it was given one that does not hold it, have a
 * build put it there.
 */
static const char *unresolved_fix(const struct dep_list *l, const struct dep *d)
{
	if (d->eco == ECO_NPM) {
		/* A dependency a package bundles, which pnpm-lock.yaml names without a version. */
		return "check the version of the copy the package bundles (its "
		       "node_modules/<name>/package.json) and allow this finding with it, or lock "
		       "the project with npm, yarn or bun, whose lockfiles record bundled versions";
	}
	if (!(d->flags & DEP_POM_NOT_FOUND)) {
		return "pin the version in this file (or scan the effective POM, e.g. from `mvn "
		       "help:effective-pom`)";
	}
	if (!l->maven_repo) {
		return "pin the version in this file, or give the scan the local Maven repository "
		       "that holds the parent POM or BOM it names (`--maven-repository "
		       "~/.m2/repository`, or the stage's `maven-repository:`), or scan the "
		       "effective POM (e.g. from `mvn help:effective-pom`)";
	}
	return "pin the version in this file, or build the project with the Maven repository the "
	       "scan reads as its local repository first (`mvn -Dmaven.repo.local=DIR validate` "
	       "downloads the parent POM or BOM it names there), or scan the effective POM (e.g. "
	       "from `mvn help:effective-pom`)";
}

void depscan_no_lockfile_text(const char *const *paths, size_t n, const char *root,
			      const char *todo, char *out, size_t outlen)
{
	struct sbuf sb;
	sbuf_init(&sb, 4096);
	size_t rl = root ? strlen(root) : 0;
	for (size_t i = 0; i < n && i < 8; i++) {
		/* As the scan shows paths: relative to the workspace ("." for itself). */
		const char *p = paths[i];
		if (rl && strncmp(p, root, rl) == 0 && (p[rl] == '/' || !p[rl])) {
			p += rl;
			while (*p == '/') {
				p++;
			}
		}
		size_t len = strlen(p);
		while (len > 2 && p[len - 1] == '.' && p[len - 2] == '/') {
			len -= 2; /* "sub/." */
		}
		sbuf_printf(&sb, "%s%.*s", i ? ", " : "", (int)(len ? len : 1), len ? p : ".");
	}
	if (n > 8) {
		sbuf_puts(&sb, ", ...");
	}
	snprintf(out, outlen, "no lockfile or manifest found under %s: %s",
		 sb.data && *sb.data ? sb.data : ".",
		 todo ? todo
		      : "point `paths:` at the project's package-lock.json, pom.xml, go.mod, "
			"requirements.txt... (or remove the dependency-scan stage)");
	sbuf_release(&sb);
}

void depscan_error_text(const struct diag_list *dl, const char *fallback, char *out, size_t outlen)
{
	const struct diag *d = NULL;
	for (size_t i = 0; dl && i < dl->n && !d; i++) {
		d = dl->v[i].level == DIAG_ERROR ? &dl->v[i] : NULL;
	}
	if (!d) {
		snprintf(out, outlen, "%s", fallback);
		return;
	}
	struct sbuf sb;
	sbuf_init(&sb, SIZE_MAX / 2);
	const char *file = d->file && *d->file ? d->file : NULL;
	if (file && d->line) {
		sbuf_printf(&sb, "%s:%u:", file, d->line);
		if (d->col) {
			sbuf_printf(&sb, "%u:", d->col);
		}
		sbuf_puts(&sb, " ");
	} else if (file && !strstr(d->msg, file)) {
		sbuf_printf(&sb, "%s: ", file);
	}
	sbuf_puts(&sb, d->msg);
	if (d->hint) {
		sbuf_printf(&sb, " (%s)", d->hint);
	}
	snprintf(out, outlen, "%s", sb.data ? sb.data : "");
	sbuf_release(&sb);
}

int depscan_run(const struct depscan_opts *o, struct depscan_result *r, char *err, size_t errlen)
{
	int64_t now = o->now ? o->now : (int64_t)(now_real_ms() / 1000);
	/* The database first: without it nothing can pass. */
	if (str_empty(o->db_path)) {
		return errf(err, errlen, -ENOENT,
			    "no advisory database is configured: set `db:`, RUNNER_DB or HOME, "
			    "then run 'runner db update'");
	}
	struct osvdb *db;
	char dberr[512];
	int rc = osvdb_open(o->db_path, &db, dberr, sizeof(dberr));
	if (rc == -ENOENT) {
		return errf(err, errlen, rc,
			    "no advisory database at %s: run 'runner db update' (or 'runner db "
			    "import PATH...' for offline exports)",
			    o->db_path);
	}
	if (rc < 0) {
		/* (A database of another format says already how to rebuild it.) */
		return errf(err, errlen, rc == -EINVAL ? -EINVAL : -EACCES,
			    "the advisory database cannot be used (%s)%s", dberr,
			    strstr(dberr, "rebuild") ? ""
						     : ": run 'runner db update' to rebuild it");
	}
	if (osvdb_is_empty(db)) {
		osvdb_close(db);
		return errf(
			err, errlen, -EINVAL,
			"the advisory database at %s holds no advisory, so every dependency "
			"would pass: run 'runner db update' (or 'runner db import PATH...' with "
			"OSV JSON exports)",
			o->db_path);
	}
	int64_t age = now - osvdb_updated_at(db);
	if (o->max_age_s && age > (int64_t)o->max_age_s) {
		char a[32], m[32];
		format_duration((uint64_t)age * 1000, a, sizeof(a));
		format_duration(o->max_age_s * 1000, m, sizeof(m));
		osvdb_close(db);
		return errf(err, errlen, -ESTALE,
			    "the advisory database at %s is %s old, older than max-db-age %s: "
			    "run 'runner db update'",
			    o->db_path, a, m);
	}
	/* The lockfiles. */
	rc = deps_scan_paths_opts(&r->deps, o->root, o->paths, o->n_paths, o->walk, &r->diags);
	if (rc < 0) {
		osvdb_close(db);
		/* The first error, where it is, with its hint (what to do about it). */
		depscan_error_text(&r->diags, "cannot read the lockfiles", err, errlen);
		return -EBADMSG;
	}
	if (r->deps.n_files == 0 && !o->allow_no_lockfiles) {
		osvdb_close(db);
		depscan_no_lockfile_text(o->paths, o->n_paths, o->root, o->no_lockfile_todo, err,
					 errlen);
		return -ENODATA;
	}
	/* An ecosystem the lockfiles use and the database holds no advisory for: every
	 * package of it would pass unchecked (a database imported from PyPI's exports alone,
	 * a project with a package-lock.json too). */
	bool used[ECO_COUNT] = { false };
	for (size_t i = 0; i < r->deps.n; i++) {
		if ((unsigned)r->deps.v[i].eco < ECO_COUNT) {
			used[r->deps.v[i].eco] = true;
		}
	}
	json_t *status = osvdb_status(db);
	const json_t *ecos = json_object_get(status, "ecosystems");
	for (int e = 0; e < ECO_COUNT; e++) {
		if (used[e] && json_integer_value(json_object_get(ecos, eco_name(e))) <= 0) {
			json_decref(status);
			osvdb_close(db);
			return errf(
				err, errlen, -EINVAL,
				"the advisory database at %s holds no advisory for %s, so "
				"every %s dependency would pass: import or update %s's "
				"advisories ('runner db update --url .../%s/all.zip', or 'runner "
				"db import PATH...')",
				o->db_path, eco_name(e), eco_name(e), eco_name(e), eco_name(e));
		}
	}
	json_decref(status);
	struct scan s = {
		.db = db,
		.r = r,
		.unknown_severity = o->unknown_severity,
		.infos = hmap_new(64),
	};
	size_t checked = 0, unchecked = 0, vulnerable = 0;
	size_t done;
	for (done = 0; done < r->deps.n && s.error == 0 && r->findings.n <= DEPSCAN_MAX_FINDINGS;
	     done++) {
		const struct dep *d = &r->deps.v[done];
		if (d->flags & DEP_UNRESOLVED) {
			s.error = policy_finding(&s, d, "unresolved-version",
						 "version not resolved from the file",
						 SEVERITY_HIGH, unresolved_fix(&r->deps, d), NULL);
			continue;
		}
		if (d->flags & DEP_UNPINNED) {
			/* A range (or no version) installs whatever is newest within it: as severe
			 * as the worst advisory of a version it allows; and checked at its least
			 * version below, when it has one. */
			bool none = str_eq(d->version, "0.0.0") || str_eq(d->version, "0") ||
				    !*d->version;
			s.error = policy_finding(
				&s, d, "unpinned-requirement",
				none ? "requirement without a version"
				     : "requirement that allows more than one version",
				SEVERITY_MEDIUM,
				"pin it (name==version, or the lockfile's exact version), e.g. "
				"with "
				"pip-compile, pip freeze or the build's dependency lock",
				none ? NULL : d->version);
			if (none || s.error) {
				continue;
			}
		}
		if (!*d->version) {
			unchecked++;
			continue;
		}
		/* A version that is not one of its ecosystem's (not PEP 440; a URL or a word
		 * where npm wants a number) sorts below every real one, where only advisories
		 * from version 0 would reach it: not checked as if it were that low, but
		 * reported like one the file does not resolve. */
		if (!(d->flags & DEP_UNPINNED) && !eco_version_understood(d->eco, d->version)) {
			bool py = d->eco == ECO_PYPI;
			s.error = policy_finding(
				&s, d, "unresolved-version",
				eco_version_too_long(d->version)
					? "version not understood (too long to be one)"
				: py ? "version not understood (not PEP 440)"
				     : "version not understood (not a version of its registry)",
				SEVERITY_HIGH,
				py ? "pin a released version of the package (name==version)"
				   : "lock a released version of the package from its registry",
				NULL);
			continue;
		}
		checked++;
		int lr = check_package(&s, d);
		if (lr < 0) {
			s.error = lr;
		}
		vulnerable += s.dep_findings > 0;
	}
	_cleanup_free_ char *db_shown = utf8_sanitize(o->db_path, strlen(o->db_path));
	r->stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:{s:s, s:I}}", "lockfiles",
			     (json_int_t)r->deps.n_files, "packages", (json_int_t)r->deps.n,
			     "checked", (json_int_t)checked, "unchecked", (json_int_t)unchecked,
			     "vulnerable_packages", (json_int_t)vulnerable, "advisories",
			     (json_int_t)s.advisories, "db", "path", db_shown, "age_seconds",
			     (json_int_t)age);
	clear_hits(&s);
	free(s.hits);
	for (size_t i = 0; i < s.n_owned; i++) {
		osvdb_vinfo_release(&s.owned[i]->v);
		free(s.owned[i]->id);
		free(s.owned[i]);
	}
	free(s.owned);
	hmap_free(s.infos);
	osvdb_close(db);
	if (s.error) {
		return errf(err, errlen, -EIO,
			    "reading the advisory database failed: run 'runner db update' to "
			    "rebuild it");
	}
	if (r->findings.n > DEPSCAN_MAX_FINDINGS) {
		return errf(err, errlen, -E2BIG,
			    "more than %d findings (after %zu of %zu packages): refused, as a "
			    "lockfile that is broken or built to slow the scan down; scan its "
			    "parts separately",
			    DEPSCAN_MAX_FINDINGS, done, r->deps.n);
	}
	finding_list_sort(&r->findings);
	return 0;
}
