/*
 * finding.c - the finding model: lists, fingerprints, JSON form, inline suppressions.
 */
#include "finding.h"

#include "lex.h"
#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <strings.h>

#include "banned.h"

static const char *const severity_names[] = { "info", "low", "medium", "high", "critical" };

int severity_parse(const char *s, enum severity *out)
{
	if (!s) {
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(severity_names); i++) {
		if (strcasecmp(s, severity_names[i]) == 0) {
			*out = (enum severity)i;
			return 0;
		}
	}
	if (strcasecmp(s, "moderate") == 0) {
		*out = SEVERITY_MEDIUM;
		return 0;
	}
	return -EINVAL;
}

const char *severity_name(enum severity s)
{
	return (unsigned)s < ARRAY_SIZE(severity_names) ? severity_names[s] : "unknown";
}

static const char *const kind_names[] = { "sast", "secret", "dependency" };

const char *finding_kind_name(enum finding_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "unknown";
}

int finding_kind_parse(const char *s, enum finding_kind *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(kind_names); i++) {
		if (str_eq(s, kind_names[i])) {
			*out = (enum finding_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

void finding_list_init(struct finding_list *fl)
{
	memset(fl, 0, sizeof(*fl));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

void finding_release(struct finding *f)
{
	free(f->rule_id);
	free(f->title);
	free(f->confidence);
	free_strv(f->cwe, f->n_cwe);
	free_strv(f->aliases, f->n_aliases);
	free(f->file);
	free(f->message);
	free(f->snippet);
	free(f->fingerprint);
	free(f->fix);
	json_decref(f->extra);
	free(f->suppression_reason);
	free(f->suppression_expires);
	memset(f, 0, sizeof(*f));
}

void finding_list_release(struct finding_list *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		finding_release(&fl->v[i]);
	}
	free(fl->v);
	finding_list_init(fl);
}

struct finding *finding_list_add(struct finding_list *fl)
{
	GROW(fl->v, fl->cap, fl->n + 1);
	struct finding *f = &fl->v[fl->n++];
	memset(f, 0, sizeof(*f));
	return f;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_finding(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	int c = cmp_str(a->file, b->file);
	if (c) {
		return c;
	}
	if (a->line != b->line) {
		return a->line < b->line ? -1 : 1;
	}
	if (a->column != b->column) {
		return a->column < b->column ? -1 : 1;
	}
	c = cmp_str(a->rule_id, b->rule_id);
	return c ? c : cmp_str(a->fingerprint, b->fingerprint);
}

void finding_list_sort(struct finding_list *fl)
{
	if (fl->n > 1) {
		qsort(fl->v, fl->n, sizeof(fl->v[0]), cmp_finding);
	}
}

void finding_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

static void strv_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++) {
		if (str_eq((*v)[i], s)) {
			return;
		}
	}
	*v = xreallocarray(*v, *n + 1, sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
}

void finding_add_cwe(struct finding *f, const char *cwe)
{
	strv_add(&f->cwe, &f->n_cwe, cwe);
}

void finding_add_alias(struct finding *f, const char *alias)
{
	strv_add(&f->aliases, &f->n_aliases, alias);
}

static bool is_cve_id(const char *s)
{
	/* CVE-, four digits, -, then 4 to 19 digits (the CVE ID syntax). */
	if (!s || strncmp(s, "CVE-", 4) != 0) {
		return false;
	}
	size_t i = 4, d = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		d++;
	}
	if (d != 4 || s[i++] != '-') {
		return false;
	}
	for (d = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		d++;
	}
	return s[i] == '\0' && d >= 4 && d <= 19;
}

const char *finding_cve_alias(const struct finding *f)
{
	if (f->rule_id && strncmp(f->rule_id, "CVE-", 4) == 0) {
		return NULL;
	}
	for (size_t i = 0; i < f->n_aliases; i++) {
		if (is_cve_id(f->aliases[i])) {
			return f->aliases[i];
		}
	}
	return NULL;
}

void finding_fingerprint(struct finding *f, const char *content, size_t len, unsigned occurrence)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int mdlen = 0;
	char occ[16];
	const char *kind = finding_kind_name(f->kind);
	if (!ctx) {
		abort();
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, kind, strlen(kind) + 1);
	EVP_DigestUpdate(ctx, f->rule_id ? f->rule_id : "",
			 strlen(f->rule_id ? f->rule_id : "") + 1);
	EVP_DigestUpdate(ctx, f->file ? f->file : "", strlen(f->file ? f->file : "") + 1);
	/* Leave whitespace out so re-indenting or re-formatting keeps the fingerprint. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)content[i];
		if (!isspace(c)) {
			EVP_DigestUpdate(ctx, &c, 1);
		}
	}
	int n = snprintf(occ, sizeof(occ), "#%u", occurrence);
	EVP_DigestUpdate(ctx, "\0", 1);
	EVP_DigestUpdate(ctx, occ, (size_t)n);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	free(f->fingerprint);
	f->fingerprint = xmalloc(2 * sizeof(md) + 1);
	hex_encode(md, sizeof(md), f->fingerprint);
}

void finding_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx) {
		abort();
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, data, len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex_encode(md, sizeof(md), out);
}

void finding_fingerprint_file(struct finding *f, const char *tag, const char *file_sha256)
{
	char *content = xasprintf("%s:%s", tag, file_sha256);
	finding_fingerprint(f, content, strlen(content), 0);
	free(content);
}

static const char *const disposition_names[] = { "blocking", "suppressed", "below-threshold" };
static const char *const suppression_names[] = { "none", "inline", "allow", "baseline" };

const char *suppression_kind_name(enum suppression_kind k)
{
	return (size_t)k < ARRAY_SIZE(suppression_names) ? suppression_names[k] : "?";
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_string(v[i]));
	}
	return a;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v) {
		char *clean = utf8_sanitize(v, strlen(v));
		json_object_set_new(o, key, json_string(clean));
		free(clean);
	}
}

json_t *finding_to_json(const struct finding *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(finding_kind_name(f->kind)));
	set_str(o, "rule_id", f->rule_id);
	set_str(o, "title", f->title);
	json_object_set_new(o, "severity", json_string(severity_name(f->severity)));
	if (f->score > 0) {
		json_object_set_new(o, "score", json_real(f->score));
	}
	set_str(o, "confidence", f->confidence);
	json_object_set_new(o, "cwe", strv_json(f->cwe, f->n_cwe));
	set_str(o, "file", f->file);
	json_object_set_new(o, "line", json_integer(f->line));
	json_object_set_new(o, "column", json_integer(f->column));
	json_object_set_new(o, "end_line", json_integer(f->end_line));
	json_object_set_new(o, "end_column", json_integer(f->end_column));
	set_str(o, "message", f->message);
	set_str(o, "snippet", f->snippet);
	set_str(o, "fingerprint", f->fingerprint);
	set_str(o, "fix", f->fix);
	json_object_set_new(o, "aliases", strv_json(f->aliases, f->n_aliases));
	json_object_set_new(o, "disposition", json_string(disposition_names[f->disposition]));
	if (f->suppression != SUPPRESSION_NONE) {
		json_t *s = json_object();
		json_object_set_new(s, "kind", json_string(suppression_names[f->suppression]));
		set_str(s, "reason", f->suppression_reason);
		set_str(s, "expires", f->suppression_expires);
		json_object_set_new(o, "suppression", s);
	}
	if (json_is_object(f->extra)) {
		const char *k;
		json_t *v;
		json_object_foreach(f->extra, k, v)
		{
			if (!json_object_get(o, k)) {
				json_object_set(o, k, v);
			}
		}
	}
	return o;
}

static char *get_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

static unsigned get_uint(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));
	return v > 0 && v < (json_int_t)UINT32_MAX ? (unsigned)v : 0;
}

static int get_strv(const json_t *o, const char *key, char ***v, size_t *n)
{
	const json_t *a = json_object_get(o, key);
	if (!a) {
		return 0;
	}
	if (!json_is_array(a)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s) {
			return -EINVAL;
		}
		strv_add(v, n, s);
	}
	return 0;
}

static int lookup_name(const char *s, const char *const *names, size_t n, int *out)
{
	for (size_t i = 0; s && i < n; i++) {
		if (str_eq(s, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

int finding_from_json(const json_t *j, struct finding *f)
{
	static const char *const known[] = {
		"kind",	      "rule_id",    "title",	   "severity",	  "score",
		"confidence", "cwe",	    "file",	   "line",	  "column",
		"end_line",   "end_column", "message",	   "snippet",	  "fingerprint",
		"fix",	      "aliases",    "disposition", "suppression",
	};
	memset(f, 0, sizeof(*f));
	if (!json_is_object(j)) {
		return -EINVAL;
	}
	if (finding_kind_parse(json_string_value(json_object_get(j, "kind")), &f->kind) < 0 ||
	    severity_parse(json_string_value(json_object_get(j, "severity")), &f->severity) < 0 ||
	    !json_is_string(json_object_get(j, "rule_id"))) {
		return -EINVAL;
	}
	f->rule_id = get_str(j, "rule_id");
	f->title = get_str(j, "title");
	f->score = json_number_value(json_object_get(j, "score"));
	f->confidence = get_str(j, "confidence");
	f->file = get_str(j, "file");
	f->line = get_uint(j, "line");
	f->column = get_uint(j, "column");
	f->end_line = get_uint(j, "end_line");
	f->end_column = get_uint(j, "end_column");
	f->message = get_str(j, "message");
	f->snippet = get_str(j, "snippet");
	f->fingerprint = get_str(j, "fingerprint");
	f->fix = get_str(j, "fix");
	int d = 0;
	if (json_object_get(j, "disposition") &&
	    lookup_name(json_string_value(json_object_get(j, "disposition")), disposition_names,
			ARRAY_SIZE(disposition_names), &d) < 0) {
		finding_release(f);
		return -EINVAL;
	}
	f->disposition = (enum finding_disposition)d;
	const json_t *s = json_object_get(j, "suppression");
	if (json_is_object(s)) {
		int k = 0;
		if (lookup_name(json_string_value(json_object_get(s, "kind")), suppression_names,
				ARRAY_SIZE(suppression_names), &k) < 0) {
			finding_release(f);
			return -EINVAL;
		}
		f->suppression = (enum suppression_kind)k;
		f->suppression_reason = get_str(s, "reason");
		f->suppression_expires = get_str(s, "expires");
	}
	if (get_strv(j, "cwe", &f->cwe, &f->n_cwe) < 0 ||
	    get_strv(j, "aliases", &f->aliases, &f->n_aliases) < 0) {
		finding_release(f);
		return -EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v)
	{
		bool is_known = false;
		for (size_t i = 0; i < ARRAY_SIZE(known) && !is_known; i++) {
			is_known = str_eq(k, known[i]);
		}
		if (!is_known) {
			if (!f->extra) {
				f->extra = json_object();
			}
			json_object_set(f->extra, k, v);
		}
	}
	return 0;
}

json_t *finding_list_to_json(const struct finding_list *fl)
{
	json_t *a = json_array();
	for (size_t i = 0; i < fl->n; i++) {
		json_array_append_new(a, finding_to_json(&fl->v[i]));
	}
	return a;
}

int finding_list_from_json(const json_t *arr, struct finding_list *fl)
{
	if (!json_is_array(arr)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		struct finding f;
		if (finding_from_json(json_array_get(arr, i), &f) < 0) {
			return -EINVAL;
		}
		*finding_list_add(fl) = f;
	}
	return 0;
}

static const char marker[] = "runner:ignore";

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Is o[0..n) a comment opener: '#', two slashes, slash-star, two dashes, '<!--', ';', '%'
 * (each repeated, as doc comments do: three slashes, slash and two stars; or two slashes or
 * slash-star and '!'), or with at_line_start a block comment's continuing '*'? */
static bool is_opener(const char *o, size_t n, bool at_line_start)
{
	size_t k = 0;
	if (n >= 2 && o[0] == '/' && (o[1] == '/' || o[1] == '*')) {
		if (n == 3 && o[2] == '!') {
			return true;
		}
		for (k = 2; k < n && o[k] == o[1]; k++) {
		}
		return k == n;
	}
	if (n == 4 && memcmp(o, "<!--", 4) == 0) {
		return true;
	}
	if (!strchr("#-;%*", o[0]) || (o[0] == '-' && n < 2) || (o[0] == '*' && !at_line_start)) {
		return false;
	}
	for (k = 1; k < n && o[k] == o[0]; k++) {
	}
	return k == n;
}

/*
 * Without the file's tokens (a file the secrets scan reads as plain text): is the marker at
 * m, on the line [ls, le), clearly in a comment? What comes just before it (blanks aside)
 * must be a comment opener, which stands at the start of the line (after blanks) or after
 * a blank outside quotes. Quotes are followed along the line with backslash escapes; a
 * quote left open (an apostrophe in prose included) makes the marker count as quoted: in
 * doubt, it suppresses nothing. With own_line, only a comment at the start of the line.
 */
static bool in_comment_plain(const char *ls, const char *m, bool own_line)
{
	const char *b = m;
	while (b > ls && is_blank(b[-1])) {
		b--;
	}
	const char *o = b;
	while (o > ls && strchr("#/*-;%<!", o[-1])) {
		o--;
	}
	if (o == b) {
		return false;
	}
	const char *q = ls;
	while (q < o && is_blank(*q)) {
		q++;
	}
	bool at_start = q == o;
	if (!is_opener(o, (size_t)(b - o), at_start)) {
		return false;
	}
	if (at_start) {
		return true;
	}
	if (own_line || !is_blank(o[-1])) {
		return false;
	}
	char quote = 0;
	for (q = ls; q < o; q++) {
		if (*q == '\\') {
			q++;
		} else if (!quote && (*q == '"' || *q == '\'' || *q == '`')) {
			quote = *q;
		} else if (*q == quote) {
			quote = 0;
		}
	}
	return quote == 0 && q == o;
}

/*
 * Is the marker at m, on the line [ls, le) of text, in a comment? For a file the lexer
 * tokenized (t), only a comment of the file or of a script it embeds counts (c->comments,
 * collected on the first marker), and *cend gets where the comment (or the line) ends;
 * for others, in_comment_plain(). With own_line, the line must hold nothing but comments.
 */
static bool in_comment(const struct tokens *t, struct line_cursor *c, const char *text,
		       const char *ls, const char *le, const char *m, bool own_line,
		       const char **cend)
{
	size_t cs, ce;
	*cend = le;
	if (!c->plain && !c->comments) {
		c->comments = xcalloc(1, sizeof(*c->comments));
		c->plain = lex_comments_collect(t, c->comments) < 0;
	}
	if (c->plain || (size_t)(m - text) >= t->len) {
		return in_comment_plain(ls, m, own_line);
	}
	if (lex_comments_find(c->comments, (size_t)(m - text), &cs, &ce) != 1) {
		return false;
	}
	if (text + ce < le) {
		*cend = text + ce;
	}
	for (const char *q = ls; own_line && q < le;) {
		if (isspace((unsigned char)*q)) {
			q++;
		} else if (lex_comments_find(c->comments, (size_t)(q - text), &cs, &ce) == 1) {
			q = text + ce;
		} else {
			return false;
		}
	}
	return true;
}

/*
 * Read the ids and the reason of the marker mk once, for all the findings it covers: the
 * ids run from the first after the marker up to "--" or the end of its comment, at most
 * FINDING_IGNORE_MAX_IDS of them in FINDING_IGNORE_MAX_ID_BYTES (else -E2BIG, and none is
 * kept: a marker beyond the caps suppresses nothing); the reason follows "--", without a
 * comment closer and surrounding space.
 */
static void marker_parse(struct line_cursor *c, struct line_marker *mk, const char *text)
{
	mk->state = 0;
	mk->n_ids = 0;
	mk->reason = mk->reason_end = SIZE_MAX;
	if (mk->m == SIZE_MAX) {
		return;
	}
	const char *s = text + mk->m + sizeof(marker) - 1, *end = text + mk->end;
	if (s >= end || !isspace((unsigned char)*s)) {
		return;
	}
	const char *blanks = s;
	while (s < end && isspace((unsigned char)*s)) {
		s++;
	}
	/* A "--" within the cap, or the end of the comment within it. */
	size_t room = MIN((size_t)(end - s), (size_t)FINDING_IGNORE_MAX_ID_BYTES + 2);
	c->scanned += (size_t)(s - blanks) + room;
	const char *dash = memmem(s, room, "--", 2);
	const char *ids_end = dash ? dash : end;
	if (ids_end - s > FINDING_IGNORE_MAX_ID_BYTES) {
		mk->state = -E2BIG;
		return;
	}
	for (const char *id = s; id < ids_end;) {
		const char *e = id;
		while (e < ids_end && *e != ',' && !isspace((unsigned char)*e)) {
			e++;
		}
		if (e > id) {
			if (mk->n_ids == FINDING_IGNORE_MAX_IDS) {
				mk->state = -E2BIG;
				mk->n_ids = 0;
				return;
			}
			mk->ids[mk->n_ids].off = (size_t)(id - text);
			mk->ids[mk->n_ids].len = (size_t)(e - id);
			mk->n_ids++;
		}
		id = e;
		while (id < ids_end && (*id == ',' || isspace((unsigned char)*id))) {
			id++;
		}
	}
	mk->state = 1;
	if (!dash) {
		return;
	}
	const char *r = dash + 2, *re = end;
	while (r < re && isspace((unsigned char)*r)) {
		r++;
	}
	/* Drop a comment closer and trailing space. */
	static const char *const closers[] = { "*/", "-->", "#}" };
	for (size_t i = 0; i < ARRAY_SIZE(closers); i++) {
		size_t cl = strlen(closers[i]);
		const char *x = re;
		while (x > r && isspace((unsigned char)x[-1])) {
			x--;
		}
		if ((size_t)(x - r) >= cl && memcmp(x - cl, closers[i], cl) == 0) {
			re = x - cl;
		}
	}
	while (re > r && isspace((unsigned char)re[-1])) {
		re--;
	}
	mk->reason = (size_t)(r - text);
	mk->reason_end = (size_t)(re - text);
}

/*
 * The marker on the line that starts at ls: the first one in a comment, its ids and its
 * reason. Read once per line for all the findings on it (slot `which` of the cursor: 0
 * for the finding's line, 1 for the line before it, read with own_line_only): a line can
 * hold thousands of markers and findings, and a marker's comment megabytes.
 */
static const struct line_marker *marker_read(const struct tokens *t, struct line_cursor *c,
					     int which, const char *text, size_t len, size_t ls,
					     bool own_line_only)
{
	struct line_marker *mk = &c->read[which];
	if (mk->known && mk->ls == ls) {
		return mk;
	}
	size_t le_off = text_line_end(text, len, ls, NULL);
	c->scanned += le_off - ls;
	const char *m = NULL, *lp = text + ls, *le = text + le_off, *end = le;
	for (const char *p = lp; p < le;) {
		m = memmem(p, (size_t)(le - p), marker, sizeof(marker) - 1);
		if (!m || in_comment(t, c, text, lp, le, m, own_line_only, &end)) {
			break;
		}
		p = m + 1;
	}
	mk->known = true;
	mk->ls = ls;
	mk->m = m ? (size_t)(m - text) : SIZE_MAX;
	mk->end = (size_t)(end - text);
	marker_parse(c, mk, text);
	return mk;
}

/*
 * Does a comment on the line that starts at ls suppress rule_id? See the header. With
 * own_line_only, the marker counts only on a line that holds nothing but the comment (a
 * comment above the code); a comment after code on a line speaks for that line alone. The
 * first marker on the line that is in a comment is the one read.
 */
static int parse_ignore(const struct tokens *t, struct line_cursor *c, int which, const char *text,
			size_t len, size_t ls, const char *rule_id, bool own_line_only,
			char **reason)
{
	const struct line_marker *mk = marker_read(t, c, which, text, len, ls, own_line_only);
	if (mk->state <= 0) {
		return mk->state;
	}
	bool named = false;
	size_t rl = strlen(rule_id);
	for (size_t i = 0; i < mk->n_ids && !named; i++) {
		const char *id = text + mk->ids[i].off;
		size_t n = mk->ids[i].len;
		named = (n == 1 && *id == '*') || (n == rl && memcmp(id, rule_id, n) == 0);
	}
	if (!named) {
		return 0;
	}
	if (mk->reason == SIZE_MAX || mk->reason_end - mk->reason < 3) {
		return -EINVAL; /* a reason of a word or two at least */
	}
	const char *r = text + mk->reason;
	size_t n = mk->reason_end - mk->reason;
	if (n <= FINDING_REASON_MAX) {
		*reason = xstrndup(r, n);
		return 1;
	}
	/* Each finding keeps a copy: a long reason is kept short, not cut in a character. */
	for (n = FINDING_REASON_MAX; n > 0 && ((unsigned char)r[n] & 0xC0) == 0x80; n--) {
	}
	*reason = xasprintf("%.*s...", (int)n, r);
	return 1;
}

int finding_inline_suppression(const char *text, size_t len, const struct tokens *t, unsigned line,
			       const char *rule_id, char **reason)
{
	struct line_cursor c = { 0 };
	int r = finding_inline_suppression_at(text, len, t, line, rule_id, reason, &c);
	line_cursor_release(&c);
	return r;
}

void line_cursor_release(struct line_cursor *c)
{
	if (c->comments) {
		lex_comments_release(c->comments);
		free(c->comments);
	}
	*c = (struct line_cursor){ 0 };
}

int finding_inline_suppression_at(const char *text, size_t len, const struct tokens *t,
				  unsigned line, const char *rule_id, char **reason,
				  struct line_cursor *c)
{
	if (line == 0 || !rule_id) {
		return 0;
	}
	/* Find the start of line-1 and line; lines end at LF, CRLF or a lone CR, as the
	 * scanners number them. From the cursor when it is not past the line. */
	unsigned l = 1;
	size_t off = 0, next = 0, cur = SIZE_MAX, prev = SIZE_MAX, before = SIZE_MAX;
	if (c->line && c->line <= line && c->off <= len) {
		l = c->line;
		off = c->off;
		before = c->prev;
	}
	for (; off <= len; l++, before = off, off = next) {
		if (l == line) {
			cur = off;
			prev = before;
			c->line = line;
			c->off = cur;
			c->prev = prev;
			break;
		}
		text_line_end(text, len, off, &next);
		if (next >= len && (off == len || !text_is_line_end(text, len, next - 1))) {
			break; /* that was the last line */
		}
	}
	if (cur == SIZE_MAX && l + 1 == line) {
		prev = off; /* the last line is the one before line (as before the cursor) */
	}
	int best = 0;
	const size_t lines[2] = { cur, prev };
	for (size_t i = 0; i < 2; i++) {
		if (lines[i] == SIZE_MAX) {
			continue;
		}
		int r = parse_ignore(t, c, (int)i, text, len, lines[i], rule_id, i == 1, reason);
		if (r == 1) {
			return 1;
		}
		if (r < 0) {
			best = r;
		}
	}
	return best;
}
