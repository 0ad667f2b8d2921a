/*
 * osv.c - OSV records: the loader's checks, range evaluation and severity (see osv.h).
 */
#include "osv.h"

#include "cvss.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static bool valid_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > OSV_MAX_ID) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') {
			return false;
		}
	}
	return true;
}

/* An optional member must have the given type when present. */
static bool opt_type(const json_t *o, const char *key, json_type t)
{
	const json_t *v = json_object_get(o, key);
	return !v || json_typeof(v) == t;
}

static int check_strings(const json_t *arr, size_t max, const char *what, char *err, size_t errlen)
{
	if (!arr) {
		return 0;
	}
	if (!json_is_array(arr)) {
		return errf(err, errlen, -EINVAL, "%s is not an array", what);
	}
	if (json_array_size(arr) > max) {
		return errf(err, errlen, -EINVAL, "%s has more than %zu entries", what, max);
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		if (!json_is_string(json_array_get(arr, i))) {
			return errf(err, errlen, -EINVAL, "%s[%zu] is not a string", what, i);
		}
	}
	return 0;
}

static int check_severity(const json_t *sev, const char *where, char *err, size_t errlen)
{
	if (!sev) {
		return 0;
	}
	if (!json_is_array(sev) || json_array_size(sev) > 100) {
		return errf(err, errlen, -EINVAL, "%sseverity is not an array (of at most 100)",
			    where);
	}
	for (size_t i = 0; i < json_array_size(sev); i++) {
		const json_t *s = json_array_get(sev, i);
		if (!json_is_object(s) || !json_is_string(json_object_get(s, "type")) ||
		    !json_is_string(json_object_get(s, "score"))) {
			return errf(err, errlen, -EINVAL,
				    "%sseverity[%zu] needs string type and score", where, i);
		}
	}
	return 0;
}

static int check_affected(const json_t *a, size_t i, char *err, size_t errlen)
{
	if (!json_is_object(a)) {
		return errf(err, errlen, -EINVAL, "affected[%zu] is not an object", i);
	}
	const json_t *pkg = json_object_get(a, "package");
	if (pkg && (!json_is_object(pkg) || !json_is_string(json_object_get(pkg, "ecosystem")) ||
		    !json_is_string(json_object_get(pkg, "name")))) {
		return errf(err, errlen, -EINVAL,
			    "affected[%zu].package needs string ecosystem and name", i);
	}
	const json_t *ranges = json_object_get(a, "ranges");
	if (ranges) {
		if (!json_is_array(ranges) || json_array_size(ranges) > OSV_MAX_RANGES) {
			return errf(err, errlen, -EINVAL,
				    "affected[%zu].ranges is not an array of at most %u", i,
				    OSV_MAX_RANGES);
		}
		for (size_t r = 0; r < json_array_size(ranges); r++) {
			const json_t *rg = json_array_get(ranges, r);
			const json_t *events = json_object_get(rg, "events");
			if (!json_is_object(rg) || !json_is_string(json_object_get(rg, "type")) ||
			    !json_is_array(events)) {
				return errf(err, errlen, -EINVAL,
					    "affected[%zu].ranges[%zu] needs a string type and an "
					    "events array",
					    i, r);
			}
			if (json_array_size(events) > OSV_MAX_EVENTS) {
				return errf(err, errlen, -EINVAL,
					    "affected[%zu].ranges[%zu] has more than %u events", i,
					    r, OSV_MAX_EVENTS);
			}
			/* A range that cannot be evaluated would mean "not affected". */
			const char *type = json_string_value(json_object_get(rg, "type"));
			bool versioned = str_eq(type, "SEMVER") || str_eq(type, "ECOSYSTEM");
			if (!versioned && !str_eq(type, "GIT")) {
				return errf(err, errlen, -EINVAL,
					    "affected[%zu].ranges[%zu].type is not GIT, SEMVER or "
					    "ECOSYSTEM (which are case-sensitive)",
					    i, r);
			}
			size_t introduced = 0;
			for (size_t e = 0; e < json_array_size(events); e++) {
				const json_t *ev = json_array_get(events, e);
				const char *k;
				json_t *v;
				size_t known = 0;
				if (!json_is_object(ev)) {
					return errf(
						err, errlen, -EINVAL,
						"affected[%zu].ranges[%zu].events[%zu] is not an "
						"object",
						i, r, e);
				}
				json_object_foreach((json_t *)ev, k, v)
				{
					if (str_eq(k, "introduced") || str_eq(k, "fixed") ||
					    str_eq(k, "last_affected") || str_eq(k, "limit")) {
						if (!json_is_string(v)) {
							return errf(err, errlen, -EINVAL,
								    "affected[%zu].ranges[%zu]."
								    "events[%zu]."
								    "%s is not a string",
								    i, r, e, k);
						}
						if (versioned && !*json_string_value(v)) {
							return errf(err, errlen, -EINVAL,
								    "affected[%zu].ranges[%zu]."
								    "events[%zu].%s is empty",
								    i, r, e, k);
						}
						if (versioned &&
						    eco_version_too_long(json_string_value(v))) {
							return errf(err, errlen, -EINVAL,
								    "affected[%zu].ranges[%zu]."
								    "events[%zu].%s is longer "
								    "than %u bytes",
								    i, r, e, k, ECO_MAX_VERSION);
						}
						introduced += str_eq(k, "introduced");
						known++;
					}
				}
				if (known != 1) {
					return errf(
						err, errlen, -EINVAL,
						"affected[%zu].ranges[%zu].events[%zu] must have "
						"exactly one of introduced, fixed, last_affected, "
						"limit",
						i, r, e);
				}
			}
			if (versioned && introduced == 0) {
				return errf(err, errlen, -EINVAL,
					    "affected[%zu].ranges[%zu]: a %s range without an "
					    "introduced event",
					    i, r, type);
			}
		}
	}
	char what[64];
	snprintf(what, sizeof(what), "affected[%zu].versions", i);
	if (check_strings(json_object_get(a, "versions"), OSV_MAX_VERSIONS, what, err, errlen) <
	    0) {
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "affected[%zu].", i);
	if (check_severity(json_object_get(a, "severity"), what, err, errlen) < 0) {
		return -EINVAL;
	}
	if (!opt_type(a, "database_specific", JSON_OBJECT) ||
	    !opt_type(a, "ecosystem_specific", JSON_OBJECT)) {
		return errf(err, errlen, -EINVAL,
			    "affected[%zu]: database_specific/ecosystem_specific must "
			    "be objects",
			    i);
	}
	return 0;
}

/* Whether the '.' at p ends a sentence: followed by a blank or the end, and not the end
 * of an abbreviation with a dot inside it ("e.g.", "i.e.") or of a single letter. */
static bool sentence_end(const char *start, const char *p)
{
	if (p[1] && !isspace((unsigned char)p[1])) {
		return false;
	}
	const char *w = p;
	while (w > start && !isspace((unsigned char)w[-1])) {
		w--;
	}
	return p - w > 1 && !memchr(w, '.', (size_t)(p - w));
}

char *osv_title_of(const json_t *rec)
{
	const char *summary = json_string_value(json_object_get(rec, "summary"));
	const char *text = summary && *summary ? summary : NULL;
	bool details = false;
	if (!text) {
		text = json_string_value(json_object_get(rec, "details"));
		details = true;
	}
	if (!text) {
		return NULL;
	}
	/* Headings first in the details ("# Impact") say nothing of this advisory. */
	while (details) {
		while (isspace((unsigned char)*text)) {
			text++;
		}
		if (*text != '#') {
			break;
		}
		const char *nl = strchr(text, '\n');
		text = nl ? nl : text + strlen(text);
	}
	char out[OSV_MAX_TITLE + 4];
	size_t n = 0, blank = 0;
	bool cut = false;
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool space = isspace(c) || c < 0x20 || c == 0x7f;
		if (details && c == '\n' && p[1] == '\n') {
			break; /* the end of the first paragraph */
		}
		if (space) {
			if (n && out[n - 1] != ' ') {
				blank = n;
				out[n++] = ' ';
			}
		} else {
			out[n++] = (char)c;
		}
		if (n >= OSV_MAX_TITLE) {
			cut = *(p + 1) != '\0';
			break;
		}
		if (details && c == '.' && sentence_end(text, p)) {
			break;
		}
	}
	if (cut) {
		n = blank ? blank : n;
		/* Never leave half a UTF-8 character (only possible without a blank). */
		while (n && ((unsigned char)out[n - 1] & 0xc0) == 0x80) {
			n--;
		}
		if (n && ((unsigned char)out[n - 1] & 0xc0) == 0xc0) {
			n--;
		}
		memcpy(out + n, "...", 3);
		n += 3;
	}
	while (n && out[n - 1] == ' ') {
		n--;
	}
	out[n] = '\0';
	return n ? xstrdup(out) : NULL;
}

int osv_record_check(const json_t *rec, char *err, size_t errlen)
{
	if (!json_is_object(rec)) {
		return errf(err, errlen, -EINVAL, "the record is not a JSON object");
	}
	const char *id = json_string_value(json_object_get(rec, "id"));
	if (!valid_id(id)) {
		return errf(err, errlen, -EINVAL,
			    "the record has no valid \"id\" (letters, digits, - _ . :)");
	}
	static const char *const strings[] = { "modified", "published", "withdrawn",
					       "summary",  "details",	"schema_version" };
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		if (!opt_type(rec, strings[i], JSON_STRING)) {
			return errf(err, errlen, -EINVAL, "%s: \"%s\" is not a string", id,
				    strings[i]);
		}
	}
	char sub[OSV_MAX_ID + 64];
	if (check_strings(json_object_get(rec, "aliases"), OSV_MAX_ALIASES, "aliases", sub,
			  sizeof(sub)) < 0 ||
	    check_strings(json_object_get(rec, "related"), OSV_MAX_ALIASES, "related", sub,
			  sizeof(sub)) < 0 ||
	    check_severity(json_object_get(rec, "severity"), "", sub, sizeof(sub)) < 0) {
		return errf(err, errlen, -EINVAL, "%s: %s", id, sub);
	}
	if (!opt_type(rec, "database_specific", JSON_OBJECT)) {
		return errf(err, errlen, -EINVAL, "%s: database_specific is not an object", id);
	}
	const json_t *aff = json_object_get(rec, "affected");
	if (aff) {
		if (!json_is_array(aff) || json_array_size(aff) > OSV_MAX_AFFECTED) {
			return errf(err, errlen, -EINVAL,
				    "%s: affected is not an array of at most %u", id,
				    OSV_MAX_AFFECTED);
		}
		char msg[256];
		for (size_t i = 0; i < json_array_size(aff); i++) {
			if (check_affected(json_array_get(aff, i), i, msg, sizeof(msg)) < 0) {
				return errf(err, errlen, -EINVAL, "%s: %s", id, msg);
			}
		}
	}
	return 0;
}

int osv_record_load(const char *buf, size_t len, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (len > OSV_MAX_RECORD_BYTES) {
		return errf(err, errlen, -EINVAL, "the record is larger than %u bytes",
			    OSV_MAX_RECORD_BYTES);
	}
	json_error_t jerr;
	json_t *rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		return errf(err, errlen, -EINVAL, "not valid JSON (line %d, column %d: %s)",
			    jerr.line, jerr.column, jerr.text);
	}
	int r = osv_record_check(rec, err, errlen);
	if (r < 0) {
		json_decref(rec);
		return r;
	}
	*out = rec;
	return 0;
}

/* ---------- matching ---------- */

enum ev_kind { EV_FIXED, EV_LAST_AFFECTED, EV_INTRODUCED, EV_LIMIT };

struct event {
	enum ev_kind kind;
	const char *v;
};

static int cmp_event(const void *pa, const void *pb, void *arg)
{
	const struct event *a = pa, *b = pb;
	enum vscheme s = *(const enum vscheme *)arg;
	bool a0 = a->kind == EV_INTRODUCED && str_eq(a->v, "0");
	bool b0 = b->kind == EV_INTRODUCED && str_eq(b->v, "0");
	int c;
	if (a0 || b0) {
		c = a0 == b0 ? 0 : a0 ? -1 : 1;
	} else {
		c = vers_compare(s, a->v, b->v);
	}
	if (c == 0) {
		/* At the same version what closes one interval comes before what opens the
		 * next ("fixed 3.1" then "introduced 3.1": 3.1 is in the second). */
		c = a->kind < b->kind ? -1 : a->kind > b->kind;
	}
	return c;
}

/*
 * Sort events by cmp_event with a merge sort: version orders are not transitive on every
 * odd input (neither are the reference implementations'), and a merge sort stays within
 * its buffers whatever the comparator answers.
 */
static void sort_events(struct event *ev, size_t n, enum vscheme s)
{
	if (n < 2) {
		return;
	}
	struct event *tmp = xcalloc(n, sizeof(*tmp));
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = MIN(lo + width, n), hi = MIN(lo + 2 * width, n);
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				tmp[k++] = cmp_event(&ev[j], &ev[i], &s) < 0 ? ev[j++] : ev[i++];
			}
			while (i < mid) {
				tmp[k++] = ev[i++];
			}
			while (j < hi) {
				tmp[k++] = ev[j++];
			}
		}
		memcpy(ev, tmp, n * sizeof(*ev));
	}
	free(tmp);
}

/* How a range is read at scan time. */
enum range_kind {
	RANGE_VERSIONED, /* SEMVER or ECOSYSTEM, evaluated against the version */
	RANGE_GIT,	 /* commit hashes: not evaluated (the versions list covers them) */
	RANGE_UNKNOWN,	 /* cannot be evaluated: counts as affecting every version */
};

/*
 * The loader refuses a range it cannot evaluate, but a database may hold records it did
 * not check (one built before it did, or damaged): at scan time such a range is not
 * skipped, which would read as "not affected", but contains every version (fail closed).
 * Unknown: a type other than GIT, SEMVER or ECOSYSTEM; a SEMVER or ECOSYSTEM range without
 * an introduced event, or with an event whose version is not a non-empty string.
 */
static enum range_kind range_scheme(const json_t *range, enum eco e, enum vscheme *s)
{
	const char *type = json_string_value(json_object_get(range, "type"));
	if (str_eq(type, "GIT")) {
		return RANGE_GIT;
	}
	if (str_eq(type, "SEMVER")) {
		*s = VSCHEME_SEMVER;
	} else if (str_eq(type, "ECOSYSTEM")) {
		*s = eco_scheme(e);
	} else {
		return RANGE_UNKNOWN;
	}
	static const char *const kinds[] = { "introduced", "fixed", "last_affected", "limit" };
	const json_t *events = json_object_get(range, "events");
	bool introduced = false;
	for (size_t i = 0; i < json_array_size(events); i++) {
		const json_t *o = json_array_get(events, i);
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
			const json_t *v = json_object_get(o, kinds[k]);
			if (!v) {
				continue;
			}
			if (!json_is_string(v) || !*json_string_value(v)) {
				return RANGE_UNKNOWN;
			}
			introduced |= k == 0;
		}
	}
	return introduced ? RANGE_VERSIONED : RANGE_UNKNOWN;
}

static size_t collect_events(const json_t *range, struct event *ev)
{
	const json_t *events = json_object_get(range, "events");
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(events); i++) {
		const json_t *o = json_array_get(events, i);
		const char *v;
		if ((v = json_string_value(json_object_get(o, "introduced")))) {
			ev[n++] = (struct event){ EV_INTRODUCED, v };
		} else if ((v = json_string_value(json_object_get(o, "fixed")))) {
			ev[n++] = (struct event){ EV_FIXED, v };
		} else if ((v = json_string_value(json_object_get(o, "last_affected")))) {
			ev[n++] = (struct event){ EV_LAST_AFFECTED, v };
		} else if ((v = json_string_value(json_object_get(o, "limit")))) {
			ev[n++] = (struct event){ EV_LIMIT, v };
		}
	}
	return n;
}

/* Does one range contain version? On success *fixed is the first fixed event above it. */
static bool range_contains(const json_t *range, enum vscheme s, const char *version,
			   const char **fixed)
{
	const json_t *events = json_object_get(range, "events");
	size_t total = json_array_size(events);
	*fixed = NULL;
	if (total == 0) {
		return false;
	}
	struct event *ev = xcalloc(total, sizeof(*ev));
	size_t n = collect_events(range, ev);
	/* limit events: the version must be below at least one of them ("*" is no limit). */
	bool has_limit = false, below_limit = false;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind == EV_LIMIT) {
			has_limit = true;
			if (str_eq(ev[i].v, "*") || vers_compare(s, version, ev[i].v) < 0) {
				below_limit = true;
			}
		}
	}
	bool affected = false;
	if (!has_limit || below_limit) {
		/*
		 * The intervals as written: each introduced with the fixed or last_affected
		 * that follows it. This is how osv.dev expands ranges into `versions`, and it
		 * keeps overlapping intervals written into one events array (which the
		 * sorted walk below would let close each other).
		 */
		const char *open = NULL;
		for (size_t i = 0; i < n && !affected; i++) {
			switch (ev[i].kind) {
			case EV_INTRODUCED:
				open = ev[i].v;
				break;
			case EV_FIXED:
			case EV_LAST_AFFECTED:
				if (open &&
				    (str_eq(open, "0") || vers_compare(s, version, open) >= 0)) {
					int c = vers_compare(s, version, ev[i].v);
					affected = ev[i].kind == EV_FIXED ? c < 0 : c <= 0;
					if (affected && ev[i].kind == EV_FIXED) {
						*fixed = ev[i].v;
					}
				}
				open = NULL;
				break;
			case EV_LIMIT:
				break;
			}
		}
		if (!affected && open &&
		    (str_eq(open, "0") || vers_compare(s, version, open) >= 0)) {
			affected = true;
		}
		/* The schema's evaluation: the events sorted by version, walked in order. */
		if (!affected) {
			sort_events(ev, n, s);
			for (size_t i = 0; i < n; i++) {
				switch (ev[i].kind) {
				case EV_INTRODUCED:
					if (str_eq(ev[i].v, "0") ||
					    vers_compare(s, version, ev[i].v) >= 0) {
						affected = true;
					}
					break;
				case EV_FIXED:
					if (vers_compare(s, version, ev[i].v) >= 0) {
						affected = false;
					} else if (affected && !*fixed) {
						*fixed = ev[i].v;
					}
					break;
				case EV_LAST_AFFECTED:
					if (vers_compare(s, version, ev[i].v) > 0) {
						affected = false;
					}
					break;
				case EV_LIMIT:
					break;
				}
			}
		}
	}
	if (!affected) {
		*fixed = NULL;
	}
	free(ev);
	return affected;
}

bool osv_ranges_contain(const json_t *aff, enum eco e, const char *version, char **nearest_fixed)
{
	bool hit = false;
	const char *best = NULL;
	enum vscheme best_scheme = eco_scheme(e);
	if (nearest_fixed) {
		*nearest_fixed = NULL;
	}
	if (!version || !*version) {
		return false;
	}
	const json_t *ranges = json_object_get(aff, "ranges");
	for (size_t i = 0; i < json_array_size(ranges); i++) {
		const json_t *range = json_array_get(ranges, i);
		enum vscheme s;
		const char *fixed;
		enum range_kind kind = range_scheme(range, e, &s);
		if (kind == RANGE_UNKNOWN) {
			hit = true; /* fail closed: see range_scheme */
			continue;
		}
		if (kind == RANGE_GIT) {
			continue;
		}
		if (range_contains(range, s, version, &fixed)) {
			hit = true;
			if (fixed && (!best || vers_compare(best_scheme, fixed, best) < 0)) {
				best = fixed;
				best_scheme = s;
			}
		}
	}
	if (hit && nearest_fixed && best) {
		*nearest_fixed = xstrdup(best);
	}
	return hit;
}

bool osv_affected_at_or_above(const json_t *aff, enum eco e, const char *lower)
{
	bool any = !lower || !*lower || str_eq(lower, "0") || str_eq(lower, "0.0.0");
	const json_t *ranges = json_object_get(aff, "ranges");
	for (size_t i = 0; i < json_array_size(ranges); i++) {
		const json_t *range = json_array_get(ranges, i);
		enum vscheme s;
		enum range_kind kind = range_scheme(range, e, &s);
		if (kind == RANGE_UNKNOWN) {
			return true; /* fail closed: see range_scheme */
		}
		if (kind == RANGE_GIT) {
			continue;
		}
		const json_t *events = json_object_get(range, "events");
		size_t total = json_array_size(events);
		if (total == 0) {
			continue;
		}
		struct event *ev = xcalloc(total, sizeof(*ev));
		size_t n = collect_events(range, ev);
		bool open = false, hit = false;
		for (size_t k = 0; k < n && !hit; k++) {
			switch (ev[k].kind) {
			case EV_INTRODUCED:
				open = true;
				break;
			case EV_FIXED:
				hit = open && (any || vers_compare(s, ev[k].v, lower) > 0);
				open = false;
				break;
			case EV_LAST_AFFECTED:
				hit = open && (any || vers_compare(s, ev[k].v, lower) >= 0);
				open = false;
				break;
			case EV_LIMIT:
				break;
			}
		}
		free(ev);
		if (hit || open) {
			return true;
		}
	}
	const json_t *versions = json_object_get(aff, "versions");
	for (size_t i = 0; i < json_array_size(versions); i++) {
		const char *v = json_string_value(json_array_get(versions, i));
		if (v && (any || vers_compare(eco_scheme(e), v, lower) >= 0)) {
			return true;
		}
	}
	return false;
}

bool osv_affected_contains(const json_t *aff, enum eco e, const char *version, char **nearest_fixed)
{
	if (nearest_fixed) {
		*nearest_fixed = NULL;
	}
	if (!version || !*version) {
		return false;
	}
	if (osv_ranges_contain(aff, e, version, nearest_fixed)) {
		return true;
	}
	/* The versions list: exact strings, as the schema's IncludedInVersions says. */
	const json_t *versions = json_object_get(aff, "versions");
	for (size_t i = 0; i < json_array_size(versions); i++) {
		if (str_eq(json_string_value(json_array_get(versions, i)), version)) {
			return true;
		}
	}
	return false;
}

void osv_affected_fixed_versions(const json_t *aff, json_t *array)
{
	const json_t *ranges = json_object_get(aff, "ranges");
	for (size_t i = 0; i < json_array_size(ranges); i++) {
		const json_t *range = json_array_get(ranges, i);
		const char *type = json_string_value(json_object_get(range, "type"));
		if (!str_eq(type, "SEMVER") && !str_eq(type, "ECOSYSTEM")) {
			continue;
		}
		const json_t *events = json_object_get(range, "events");
		for (size_t k = 0; k < json_array_size(events); k++) {
			const char *v = json_string_value(
				json_object_get(json_array_get(events, k), "fixed"));
			if (!v) {
				continue;
			}
			bool dup = false;
			for (size_t j = 0; j < json_array_size(array) && !dup; j++) {
				dup = str_eq(json_string_value(json_array_get(array, j)), v);
			}
			if (!dup) {
				json_array_append_new(array, json_string(v));
			}
		}
	}
}

/* ---------- severity ---------- */

static void cvss_from(const json_t *sev, struct osv_severity *out)
{
	for (size_t i = 0; i < json_array_size(sev); i++) {
		const json_t *s = json_array_get(sev, i);
		const char *type = json_string_value(json_object_get(s, "type"));
		const char *vec = json_string_value(json_object_get(s, "score"));
		double score;
		if (!type || !vec) {
			continue;
		}
		int r;
		if (str_eq(type, "CVSS_V3")) {
			r = cvss3_base_score(vec, &score);
		} else if (str_eq(type, "CVSS_V4")) {
			r = cvss4_base_score(vec, &score);
		} else {
			continue;
		}
		if (r == 0 && (!out->source || score > out->score)) {
			out->score = score;
			out->source = str_eq(type, "CVSS_V3") ? "CVSS_V3" : "CVSS_V4";
		}
	}
}

void osv_severity_of(const json_t *rec, const json_t *aff, struct osv_severity *out)
{
	memset(out, 0, sizeof(*out));
	const char *db = NULL;
	if (aff) {
		db = json_string_value(
			json_object_get(json_object_get(aff, "database_specific"), "severity"));
	}
	if (!db) {
		db = json_string_value(
			json_object_get(json_object_get(rec, "database_specific"), "severity"));
	}
	enum severity level;
	if (db && severity_parse(db, &level) == 0) {
		out->known = true;
		out->level = level;
		out->source = "database_specific";
	}
	/* CVSS vectors: the entry's own, else the record's. */
	const json_t *sev = aff ? json_object_get(aff, "severity") : NULL;
	struct osv_severity c = { 0 };
	cvss_from(sev, &c);
	if (!c.source) {
		cvss_from(json_object_get(rec, "severity"), &c);
	}
	if (c.source) {
		out->score = c.score;
		if (!out->known) {
			out->known = true;
			out->level = cvss_severity(c.score);
			out->source = c.source;
		}
	}
}
