/*
 * k8s.c - Kubernetes Secret manifests: documents, template actions, libyaml events, the
 * values of data and stringData, base64.
 *
 * The reader follows libyaml's events with a stack of frames that know their role (an
 * object, its data or stringData, a List's items, or anything else, skipped); only the
 * first K8S_FRAMES levels are kept, deeper ones are counted (they are never a Secret's).
 * An object's entries wait until its document ends, since `kind` may come after `data`
 * (`kubectl get -o json` sorts the keys); then those of Secrets are kept, the others
 * dropped. Positions are libyaml's character indexes, turned into byte offsets by walking
 * the UTF-8 text forward from the last one asked for (events come in order).
 */
#include "k8s.h"

#include "hmap.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <yaml.h>

#include "banned.h"

#define K8S_FRAMES 64

/* ---------- base64 ---------- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '+') {
		return 62;
	}
	if (c == '/') {
		return 63;
	}
	return -1;
}

int k8s_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t *out_len)
{
	uint32_t acc = 0;
	size_t n = 0, w = 0, pad = 0;
	for (size_t i = 0; i < in_len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			continue;
		}
		if (c == '=') {
			/* Padding ends a group of four: after two or three characters of it. */
			if (pad == 0 && n % 4 < 2) {
				return -EINVAL;
			}
			pad++;
			n++;
			if (pad > 2) {
				return -EINVAL;
			}
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad) {
			return -EINVAL; /* outside the alphabet, or data after the padding */
		}
		acc = acc << 6 | (uint32_t)v;
		n++;
		if (n % 4 == 0) {
			out[w++] = (unsigned char)(acc >> 16);
			out[w++] = (unsigned char)(acc >> 8);
			out[w++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (n % 4 != 0) {
		return -EINVAL; /* unpadded, or a stray character */
	}
	if (pad) {
		/* The last group: 4 - pad characters carry 3 - pad bytes. */
		size_t chars = 4 - pad;
		acc <<= 6 * pad;
		out[w++] = (unsigned char)(acc >> 16);
		if (chars == 3) {
			out[w++] = (unsigned char)(acc >> 8);
		}
	}
	*out_len = w;
	return 0;
}

/* ---------- the prefilter ---------- */

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* Does line[0, s) end with a `kind:` key, as YAML or JSON writes it (quotes, blanks)? */
static bool kind_key_before(const char *line, size_t s)
{
	size_t q = s;
	if (q > 0 && (line[q - 1] == '"' || line[q - 1] == '\'')) {
		q--;
	}
	while (q > 0 && (line[q - 1] == ' ' || line[q - 1] == '\t')) {
		q--;
	}
	if (q == 0 || line[q - 1] != ':') {
		return false;
	}
	q--;
	while (q > 0 && (line[q - 1] == ' ' || line[q - 1] == '\t')) {
		q--;
	}
	if (q > 0 && (line[q - 1] == '"' || line[q - 1] == '\'')) {
		q--;
	}
	return q >= 4 && memcmp(line + q - 4, "kind", 4) == 0 &&
	       (q == 4 || !word_char((unsigned char)line[q - 5]));
}

bool k8s_kind_line(const char *line, size_t len)
{
	for (size_t p = 1; p + 5 <= len; p++) {
		if (memcmp(line + p, "ecret", 5) != 0 || (line[p - 1] | 0x20) != 's') {
			continue;
		}
		size_t s = p - 1, e = p + 5;
		if (e + 9 <= len && memcmp(line + e, "Generator", 9) == 0) {
			e += 9; /* kustomize's SecretGenerator */
		}
		if (e < len && word_char((unsigned char)line[e])) {
			continue;
		}
		if (s >= 6 && memcmp(line + s - 6, "Sealed", 6) == 0) {
			s -= 6;
		}
		if (kind_key_before(line, s)) {
			return true;
		}
	}
	return false;
}

bool k8s_generator_line(const char *line, size_t len)
{
	static const char key[] = "secretGenerator";
	size_t kl = sizeof(key) - 1;
	for (const char *p = line, *e = line + len;
	     (p = memmem(p, (size_t)(e - p), key, kl)) != NULL; p += kl) {
		if (p > line && word_char((unsigned char)p[-1])) {
			continue;
		}
		const char *q = p + kl;
		if (q < e && (*q == '"' || *q == '\'')) {
			q++;
		}
		while (q < e && (*q == ' ' || *q == '\t')) {
			q++;
		}
		if (q < e && *q == ':') {
			return true;
		}
	}
	return false;
}

bool k8s_secret_line(const char *line, size_t len)
{
	return k8s_kind_line(line, len) || k8s_generator_line(line, len);
}

/* Does this line have `kind: ConfigMap` (quotes allowed, as k8s_kind_line)? */
static bool configmap_line(const char *line, size_t len)
{
	static const char kind[] = "ConfigMap";
	size_t kl = sizeof(kind) - 1;
	for (const char *p = line, *e = line + len;
	     (p = memmem(p, (size_t)(e - p), kind, kl)) != NULL; p += kl) {
		if ((p + kl == e || !word_char((unsigned char)p[kl])) &&
		    kind_key_before(line, (size_t)(p - line))) {
			return true;
		}
	}
	return false;
}

/* ---------- one document ---------- */

enum role {
	R_SKIP,
	R_OBJ,	 /* a Kubernetes object: the document's top mapping, or an item */
	R_DATA,	 /* its data */
	R_SDATA, /* its stringData */
	R_ITEMS, /* the top object's items / objects */
	R_SPEC,	 /* its spec */
	R_EDATA, /* a SealedSecret's spec.encryptedData */
	R_BDATA, /* a ConfigMap's binaryData (read for k8s_read_configmaps only) */
	R_GENS,	 /* a kustomization's secretGenerator: a sequence of generators */
	R_GEN,	 /* one generator of it */
	R_LITS,	 /* the literals of a generator, or of a SecretGenerator's configuration */
	R_FILES, /* the files of a generator, or of a SecretGenerator's configuration */
};

enum key_kind {
	K_OTHER,
	K_KIND,
	K_API,
	K_DATA,
	K_SDATA,
	K_ITEMS,
	K_MERGE,
	K_SPEC,
	K_EDATA,
	K_BDATA,
	K_SECGEN,
	K_LITERALS,
	K_FILES,
};

struct obj {
	bool root;
	bool kind_seen, kind_secret, kind_sealed;
	bool kind_configmap;
	bool kind_kustomization; /* Kustomization or Component: may have a secretGenerator */
	bool kind_generator;	 /* a SecretGenerator's configuration: literals at its top */
	bool api_seen, api_v1;
	const char *unread; /* why part of it was not read, or NULL */
};

struct frame {
	enum role role;
	bool is_map, want_key;
	enum key_kind key; /* R_OBJ, R_SPEC, R_GEN: the last key */
	size_t obj;	   /* the object the frame is part of */
	bool gen;	   /* R_LITS, R_FILES: a secretGenerator's (else a SecretGenerator's) */
	/* R_DATA, R_SDATA: the key of the entry whose value comes next */
	bool ekey_ok;
	char *ekey;
	size_t ekey_off, ekey_len;
};

/* A scalar as the reader sees it: its text and where it is written. */
struct sv {
	const char *text;
	size_t len;
	size_t off, end; /* the value's text (slice offsets) */
	bool plain, templated;
};

struct anchor {
	char *name;
	bool scalar;  /* false: a collection, or a scalar not kept */
	struct sv sv; /* text owned */
};

struct pending {
	size_t obj;
	bool gen; /* a literal or file of a kustomization's secretGenerator */
	struct k8s_value v;
};

struct doc {
	struct k8s_values *out;
	bool configmaps;  /* reading ConfigMaps (k8s_read_configmaps), not Secrets */
	const char *text; /* what libyaml reads: the slice, or its masked copy */
	size_t base, n;	  /* the slice in the file */
	const uint8_t *mask;
	size_t cur_chr, cur_byte;
	struct frame fr[K8S_FRAMES];
	size_t depth, deep;
	struct obj *objs;
	size_t n_objs, cap_objs;
	struct pending *pend;
	size_t n_pend, cap_pend;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	struct hmap *anchor_ix; /* name -> index + 1 in anchors */
	size_t bytes;		/* of pending texts and anchors */
	size_t entries;		/* of the file's data and stringData, kept or pending */
	size_t flow_base;	/* the depth where the outermost flow collection starts */
};

/* The byte offset in the slice of libyaml's character index chr. */
static size_t byte_of(struct doc *d, size_t chr)
{
	if (chr < d->cur_chr) {
		d->cur_chr = 0;
		d->cur_byte = 0;
	}
	while (d->cur_chr < chr && d->cur_byte < d->n) {
		d->cur_byte++;
		while (d->cur_byte < d->n && ((unsigned char)d->text[d->cur_byte] & 0xC0) == 0x80) {
			d->cur_byte++;
		}
		d->cur_chr++;
	}
	return d->cur_byte;
}

static bool masked(const struct doc *d, size_t a, size_t b)
{
	if (!d->mask) {
		return false;
	}
	for (size_t i = a; i < b && i < d->n; i++) {
		if (d->mask[i >> 3] & (1u << (i & 7))) {
			return true;
		}
	}
	return false;
}

/* The text of a scalar event: where its value is written, whether a template is in it. */
static void scalar_view(struct doc *d, const yaml_event_t *ev, struct sv *sv)
{
	size_t so = byte_of(d, ev->start_mark.index);
	size_t eo = byte_of(d, ev->end_mark.index);
	if (eo < so) {
		eo = so;
	}
	sv->text = (const char *)ev->data.scalar.value;
	sv->len = ev->data.scalar.length;
	sv->templated = masked(d, so, eo);
	sv->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		if (eo - so >= 2) {
			so++;
			eo--;
		}
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		/* From its indicator (on the key's line: where the value starts, and what a
		 * snippet of that line redacts) to its last character that is not blank. */
		while (eo > so + 1 && (d->text[eo - 1] == ' ' || d->text[eo - 1] == '\t' ||
				       d->text[eo - 1] == '\n' || d->text[eo - 1] == '\r')) {
			eo--;
		}
		break;
	default:
		break;
	}
	sv->off = so;
	sv->end = eo;
}

static bool text_eq(const struct sv *sv, const char *s)
{
	return sv->len == strlen(s) && memcmp(sv->text, s, sv->len) == 0;
}

static bool text_eq_ci(const struct sv *sv, const char *s)
{
	if (sv->len != strlen(s)) {
		return false;
	}
	for (size_t i = 0; i < sv->len; i++) {
		if ((sv->text[i] | 0x20) != (s[i] | 0x20)) {
			return false;
		}
	}
	return true;
}

/* Advance *s past decimal digits (up to e); how many. */
static size_t skip_digits(const char **s, const char *e)
{
	size_t n = 0;
	while (*s < e && **s >= '0' && **s <= '9') {
		(*s)++;
		n++;
	}
	return n;
}

/* A plain scalar that the YAML core schema reads as null, a boolean or a number: not the
 * string a Secret's value must be. */
static bool plain_non_string(const struct sv *sv)
{
	static const char *const words[] = { "~",    "null",  "Null",  "NULL",	"true",
					     "True", "TRUE",  "false", "False", "FALSE",
					     ".inf", "-.inf", "+.inf", ".Inf",	"-.Inf",
					     ".INF", "-.INF", ".nan",  ".NaN",	".NAN" };
	if (!sv->plain) {
		return false;
	}
	if (sv->len == 0) {
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (text_eq(sv, words[i])) {
			return true;
		}
	}
	/* Numbers: [-+] digits [. digits] [e[-+]digits], 0x.., 0o.. */
	const char *s = sv->text, *e = sv->text + sv->len;
	if (sv->len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		for (const char *q = s + 2; q < e; q++) {
			if (!((*q >= '0' && *q <= '9') ||
			      (s[1] == 'x' && ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'f')))) {
				return false;
			}
		}
		return true;
	}
	if (s < e && (*s == '-' || *s == '+')) {
		s++;
	}
	size_t digits = skip_digits(&s, e);
	if (s < e && *s == '.') {
		s++;
		digits += skip_digits(&s, e);
	}
	if (digits && s < e && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < e && (*s == '-' || *s == '+')) {
			s++;
		}
		if (!skip_digits(&s, e)) {
			return false;
		}
	}
	return digits && s == e;
}

static size_t new_obj(struct doc *d, bool root)
{
	GROW(d->objs, d->cap_objs, d->n_objs + 1);
	d->objs[d->n_objs] = (struct obj){ .root = root };
	return d->n_objs++;
}

static void unread(struct doc *d, size_t obj, const char *why)
{
	if (!d->objs[obj].unread) {
		d->objs[obj].unread = why;
	}
}

static const struct anchor *find_anchor(const struct doc *d, const char *name)
{
	uintptr_t i = d->anchor_ix ? (uintptr_t)hmap_get(d->anchor_ix, name) : 0;
	return i ? &d->anchors[i - 1] : NULL;
}

static void add_anchor(struct doc *d, const yaml_char_t *name, const struct sv *sv)
{
	if (!name || d->n_anchors >= K8S_MAX_ANCHORS) {
		return; /* an alias to it finds nothing: not followed, and said so */
	}
	GROW(d->anchors, d->cap_anchors, d->n_anchors + 1);
	struct anchor *a = &d->anchors[d->n_anchors++];
	*a = (struct anchor){ .name = xstrdup((const char *)name) };
	if (!d->anchor_ix) {
		d->anchor_ix = hmap_new(16);
	}
	/* The latest definition wins: an anchor may be redefined. */
	hmap_put(d->anchor_ix, a->name, (void *)(uintptr_t)d->n_anchors);
	if (sv && sv->len <= K8S_MAX_VALUE && d->out->bytes + d->bytes + sv->len <= K8S_MAX_TOTAL) {
		a->scalar = true;
		a->sv = *sv;
		char *t = xmalloc(sv->len + 1);
		memcpy(t, sv->text, sv->len);
		t[sv->len] = '\0';
		a->sv.text = t;
		d->bytes += sv->len;
	}
}

/* The kind of a key of the mapping in frame f. */
static enum key_kind key_kind(const struct doc *d, const struct frame *f, const struct sv *sv)
{
	bool root = d->objs[f->obj].root;
	if (f->role == R_SPEC) {
		return text_eq(sv, "encryptedData") ? K_EDATA : K_OTHER;
	}
	if (f->role == R_GEN) {
		return text_eq(sv, "literals")		? K_LITERALS
		       : text_eq(sv, "files")		? K_FILES
		       : sv->plain && text_eq(sv, "<<") ? K_MERGE
							: K_OTHER;
	}
	if (d->configmaps && text_eq(sv, "binaryData")) {
		return K_BDATA;
	}
	if (root && text_eq(sv, "secretGenerator")) {
		return K_SECGEN;
	}
	if (root && text_eq(sv, "literals")) {
		return K_LITERALS;
	}
	if (root && text_eq(sv, "files")) {
		return K_FILES;
	}
	if (text_eq(sv, "spec")) {
		return K_SPEC;
	}
	if (text_eq(sv, "kind")) {
		return K_KIND;
	}
	if (text_eq(sv, "apiVersion")) {
		return K_API;
	}
	if (text_eq(sv, "data")) {
		return K_DATA;
	}
	if (text_eq(sv, "stringData")) {
		return K_SDATA;
	}
	if (root && (text_eq(sv, "items") || text_eq(sv, "objects"))) {
		return K_ITEMS;
	}
	if (sv->plain && text_eq(sv, "<<")) {
		return K_MERGE;
	}
	return K_OTHER;
}

static struct frame *top(struct doc *d)
{
	return d->depth && !d->deep ? &d->fr[d->depth - 1] : NULL;
}

/* A node of the current collection is complete: a mapping's next node is a key again. */
static void node_done(struct doc *d)
{
	struct frame *f = top(d);
	if (f && f->is_map) {
		f->want_key = !f->want_key;
	}
}

/* Keep a value of the object f is part of, its key's text key (kl bytes) at
 * [key_off, key_off + key_len) in the slice, the value's place sv's. */
static void keep_value(struct doc *d, const struct frame *f, enum k8s_field field, const char *key,
		       size_t kl, size_t key_off, size_t key_len, const struct sv *sv)
{
	if (d->entries >= K8S_MAX_ENTRIES) {
		unread(d, f->obj,
		       "more than 10000 entries in the Secrets' data and stringData and the "
		       "secretGenerator literals of the file");
		return;
	}
	d->entries++;
	if (sv->end - sv->off > K8S_MAX_VALUE || sv->len > K8S_MAX_VALUE) {
		unread(d, f->obj, "a Secret value larger than 1 MiB");
		return;
	}
	if (d->out->bytes + d->bytes + sv->len > K8S_MAX_TOTAL) {
		unread(d, f->obj, "more than 16 MiB of Secret values in the file");
		return;
	}
	GROW(d->pend, d->cap_pend, d->n_pend + 1);
	struct pending *p = &d->pend[d->n_pend++];
	char *t = xmalloc(sv->len + 1);
	memcpy(t, sv->text, sv->len);
	t[sv->len] = '\0';
	d->bytes += sv->len;
	*p = (struct pending){
		.obj = f->obj,
		.gen = f->gen,
		.v = { .field = field,
		       .key = xstrndup(key, MIN(kl, (size_t)K8S_MAX_KEY)),
		       .key_off = d->base + key_off,
		       .key_len = key_len,
		       .off = d->base + sv->off,
		       .len = sv->end - sv->off,
		       .text = t,
		       .text_len = sv->len,
		       .templated = sv->templated },
	};
}

/* The value of an entry of a data, stringData, encryptedData or binaryData mapping. */
static void add_entry(struct doc *d, struct frame *f, const struct sv *sv)
{
	if (!f->ekey_ok || plain_non_string(sv) || sv->len == 0) {
		return;
	}
	enum k8s_field field;
	if (d->configmaps) {
		if (f->role != R_DATA && f->role != R_BDATA) {
			return;
		}
		field = f->role == R_DATA ? K8S_CONFIGMAP_DATA : K8S_CONFIGMAP_BINARY;
	} else {
		field = f->role == R_DATA    ? K8S_DATA
			: f->role == R_SDATA ? K8S_STRING_DATA
					     : K8S_ENCRYPTED;
	}
	const char *key = f->ekey ? f->ekey : "";
	keep_value(d, f, field, key, strlen(key), f->ekey_off, f->ekey_len, sv);
}

/*
 * A literal of a secretGenerator, `KEY=VALUE`, read as kustomize reads it: split at the
 * first '=' (none, or one first, and kustomize makes no Secret of it), one pair of the same
 * quotes around the value removed. The key and the value are where they are written when
 * the scalar's text is written as it reads (no escapes, no folded lines); else both are
 * the whole scalar.
 */
static void add_literal(struct doc *d, struct frame *f, const struct sv *sv)
{
	if (d->configmaps || plain_non_string(sv)) {
		return;
	}
	const char *eq = memchr(sv->text, '=', sv->len);
	if (!eq || eq == sv->text) {
		return;
	}
	size_t kl = (size_t)(eq - sv->text), q = 0;
	struct sv val = *sv;
	val.text = eq + 1;
	val.len = sv->len - kl - 1;
	if (val.len >= 2 && (val.text[0] == '"' || val.text[0] == '\'') &&
	    val.text[val.len - 1] == val.text[0]) {
		q = 1;
		val.text++;
		val.len -= 2;
	}
	if (val.len == 0) {
		return;
	}
	size_t key_len = sv->end - sv->off;
	if (key_len == sv->len && memcmp(d->text + sv->off, sv->text, sv->len) == 0) {
		key_len = kl;
		val.off = sv->off + kl + 1 + q;
		val.end = val.off + val.len;
	}
	keep_value(d, f, K8S_LITERAL, sv->text, kl, sv->off, key_len, &val);
}

/*
 * A file of a secretGenerator, `[KEY=]PATH`, read as kustomize reads it: without '=', the
 * key is the path's last component; with one '=' neither first nor last, the key is before
 * it and the path after it; anything else kustomize refuses. The path is the value, where
 * it is written when the scalar's text is written as it reads; else the whole scalar.
 */
static void add_file(struct doc *d, struct frame *f, const struct sv *sv)
{
	if (d->configmaps || plain_non_string(sv) || memchr(sv->text, '\0', sv->len)) {
		return;
	}
	const char *eq = memchr(sv->text, '=', sv->len);
	struct sv val = *sv;
	const char *key = sv->text;
	size_t kl = 0, key_len = sv->end - sv->off;
	bool as_written = key_len == sv->len && memcmp(d->text + sv->off, sv->text, sv->len) == 0;
	if (eq) {
		kl = (size_t)(eq - sv->text);
		val.text = eq + 1;
		val.len = sv->len - kl - 1;
		if (kl == 0 || val.len == 0 || memchr(val.text, '=', val.len)) {
			return;
		}
		if (as_written) {
			key_len = kl;
			val.off = sv->off + kl + 1;
			val.end = val.off + val.len;
		}
	} else {
		const char *slash = sv->text + sv->len;
		while (slash > sv->text && slash[-1] != '/') {
			slash--;
		}
		key = slash;
		kl = (size_t)(sv->text + sv->len - slash);
	}
	keep_value(d, f, K8S_FILE, key, kl, sv->off, key_len, &val);
}

static bool entry_role(enum role r)
{
	return r == R_DATA || r == R_SDATA || r == R_EDATA || r == R_BDATA;
}

/* A frame whose keys the reader tells apart (key_kind). */
static bool keyed_role(enum role r)
{
	return r == R_OBJ || r == R_SPEC || r == R_GEN;
}

/* A scalar (or an alias to one) in the current position. */
static void on_scalar(struct doc *d, const struct sv *sv)
{
	struct frame *f = top(d);
	if (!f || f->role == R_SKIP) {
		return;
	}
	if (!f->is_map) {
		if (f->role == R_LITS) {
			add_literal(d, f, sv);
		} else if (f->role == R_FILES) {
			add_file(d, f, sv);
		}
		return;
	}
	if (f->want_key) {
		if (keyed_role(f->role)) {
			f->key = key_kind(d, f, sv);
		} else if (entry_role(f->role)) {
			free(f->ekey);
			f->ekey = xstrndup(sv->text, MIN(sv->len, (size_t)K8S_MAX_KEY));
			f->ekey_off = sv->off;
			f->ekey_len = sv->end - sv->off;
			f->ekey_ok = true;
			if (sv->plain && text_eq(sv, "<<")) {
				unread(d, f->obj,
				       "a merge key (<<) in a Secret's data or stringData");
				f->ekey_ok = false;
			}
		}
		return;
	}
	if (f->role == R_OBJ) {
		struct obj *o = &d->objs[f->obj];
		if (f->key == K_KIND) {
			o->kind_seen = true;
			o->kind_secret |= text_eq_ci(sv, "Secret");
			o->kind_sealed |= text_eq(sv, "SealedSecret");
			o->kind_configmap |= text_eq(sv, "ConfigMap");
			o->kind_kustomization |=
				text_eq(sv, "Kustomization") || text_eq(sv, "Component");
			o->kind_generator |= text_eq(sv, "SecretGenerator");
		} else if (f->key == K_API) {
			o->api_seen = true;
			o->api_v1 = text_eq(sv, "v1");
		} else if (f->key == K_MERGE) {
			unread(d, f->obj, "a merge key (<<) in an object that may be a Secret");
		}
	} else if (f->role == R_GEN && f->key == K_MERGE) {
		unread(d, f->obj, "a merge key (<<) in a secretGenerator");
	} else if (entry_role(f->role)) {
		add_entry(d, f, sv);
	}
}

/* An alias: a scalar's is read as the scalar; anything else where a Secret's content
 * would be is not followed. */
static void on_alias(struct doc *d, const char *name)
{
	const struct anchor *a = find_anchor(d, name);
	if (a && a->scalar) {
		on_scalar(d, &a->sv);
		return;
	}
	struct frame *f = top(d);
	if (!f || f->role == R_SKIP) {
		return;
	}
	if (!f->is_map) {
		if (f->role == R_GENS || f->role == R_LITS || f->role == R_FILES) {
			unread(d, f->obj,
			       "an alias in a secretGenerator to an anchor not followed");
		}
		return;
	}
	if (f->want_key) {
		if (keyed_role(f->role)) {
			f->key = K_OTHER;
		} else {
			f->ekey_ok = false;
		}
		return;
	}
	if (f->role == R_OBJ && f->key != K_OTHER && f->key != K_API && f->key != K_SPEC) {
		unread(d, f->obj, "an alias where a Secret's kind, data or stringData is");
	} else if (f->role == R_GEN && f->key != K_OTHER) {
		unread(d, f->obj, "an alias where a secretGenerator's literals or files are");
	} else if ((f->role == R_DATA || f->role == R_SDATA) && f->ekey_ok && !a) {
		unread(d, f->obj, "an alias in a Secret to an anchor not followed");
	}
}

/* The role of a collection that starts as the value of the last key of frame f (an
 * R_OBJ or R_GEN mapping), or R_SKIP. */
static enum role value_role(struct doc *d, struct frame *f, bool is_map)
{
	static const struct {
		enum key_kind key;
		enum role map, seq; /* as a mapping, as a sequence */
	} roles[] = {
		{ K_DATA, R_DATA, R_SKIP },	{ K_SDATA, R_SDATA, R_SKIP },
		{ K_BDATA, R_BDATA, R_SKIP },	{ K_ITEMS, R_SKIP, R_ITEMS },
		{ K_SPEC, R_SPEC, R_SKIP },	{ K_SECGEN, R_SKIP, R_GENS },
		{ K_LITERALS, R_SKIP, R_LITS }, { K_FILES, R_SKIP, R_FILES },
	};
	if (f->key == K_MERGE) {
		unread(d, f->obj,
		       f->role == R_GEN ? "a merge key (<<) in a secretGenerator"
					: "a merge key (<<) in an object that may be a Secret");
		return R_SKIP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		if (roles[i].key == f->key) {
			return is_map ? roles[i].map : roles[i].seq;
		}
	}
	return R_SKIP;
}

static void on_start(struct doc *d, bool is_map)
{
	if (d->deep || d->depth == K8S_FRAMES) {
		d->deep++;
		return;
	}
	enum role role = R_SKIP;
	size_t obj = 0;
	struct frame *f = d->depth ? &d->fr[d->depth - 1] : NULL;
	if (!f) {
		if (is_map) {
			role = R_OBJ;
			obj = new_obj(d, true);
		}
	} else if (f->role == R_SKIP) {
		/* skipped */
	} else if (f->is_map && f->want_key) {
		/* A collection as a key: not one the reader looks for. */
		if (keyed_role(f->role)) {
			f->key = K_OTHER;
		} else {
			f->ekey_ok = false;
		}
	} else if (f->is_map && (f->role == R_OBJ || f->role == R_GEN)) {
		role = value_role(d, f, is_map);
		obj = f->obj;
	} else if (f->is_map && f->role == R_SPEC && is_map && f->key == K_EDATA) {
		role = R_EDATA;
		obj = f->obj;
	} else if (!f->is_map && f->role == R_ITEMS && is_map) {
		role = R_OBJ;
		obj = new_obj(d, false);
	} else if (!f->is_map && f->role == R_GENS && is_map) {
		role = R_GEN;
		obj = f->obj;
	}
	d->fr[d->depth++] = (struct frame){ .role = role,
					    .is_map = is_map,
					    .want_key = true,
					    .obj = obj,
					    .gen = f && f->role == R_GEN };
}

static void on_end(struct doc *d)
{
	if (d->deep) {
		d->deep--;
	} else if (d->depth) {
		free(d->fr[--d->depth].ekey);
	}
	node_done(d);
}

static void doc_reset(struct doc *d)
{
	for (size_t i = 0; i < d->n_pend; i++) {
		free(d->pend[i].v.key);
		free(d->pend[i].v.text);
	}
	for (size_t i = 0; i < d->n_anchors; i++) {
		free(d->anchors[i].name);
		if (d->anchors[i].scalar) {
			free((char *)d->anchors[i].sv.text);
		}
	}
	while (d->depth) {
		free(d->fr[--d->depth].ekey);
	}
	hmap_free(d->anchor_ix);
	d->anchor_ix = NULL;
	d->deep = 0;
	d->flow_base = SIZE_MAX;
	d->n_pend = d->n_anchors = d->n_objs = 0;
	d->bytes = 0;
}

static void doc_release(struct doc *d)
{
	doc_reset(d);
	free(d->pend);
	free(d->anchors);
	free(d->objs);
}

static bool is_secret(const struct obj *o)
{
	return o->kind_secret && (!o->api_seen || o->api_v1);
}

/* Is a pending value one of what the reader returns? */
static bool wanted(const struct doc *d, const struct pending *p)
{
	const struct obj *o = &d->objs[p->obj];
	switch (p->v.field) {
	case K8S_ENCRYPTED:
		return o->kind_sealed;
	case K8S_LITERAL:
	case K8S_FILE:
		/* kind is optional in a kustomization. */
		return p->gen ? o->kind_kustomization || !o->kind_seen : o->kind_generator;
	case K8S_CONFIGMAP_DATA:
	case K8S_CONFIGMAP_BINARY:
		return o->kind_configmap && (!o->api_seen || o->api_v1);
	default:
		return is_secret(o);
	}
}

/* A document ended: keep the values of its Secrets (or ConfigMaps). */
static void doc_finish(struct doc *d)
{
	struct k8s_values *out = d->out;
	for (size_t i = 0; i < d->n_objs; i++) {
		const struct obj *o = &d->objs[i];
		bool may_hold =
			is_secret(o) || o->kind_kustomization || o->kind_generator || !o->kind_seen;
		if (may_hold && o->unread && !out->incomplete) {
			out->incomplete = o->unread;
		}
	}
	for (size_t i = 0; i < d->n_pend; i++) {
		struct pending *p = &d->pend[i];
		if (!wanted(d, p)) {
			continue;
		}
		GROW(out->v, out->cap, out->n + 1);
		out->v[out->n++] = p->v;
		out->bytes += p->v.text_len;
		p->v.key = NULL;
		p->v.text = NULL;
	}
	doc_reset(d);
}

static yaml_char_t *anchor_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* Parse one document slice. Returns 0, -EINVAL when it is not YAML, -E2BIG when its
 * flow collections nest deeper than K8S_MAX_FLOW. */
static int parse_doc(struct doc *d)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	if (!yaml_parser_initialize(&parser)) {
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)d->text, d->n);
	d->cur_chr = d->cur_byte = 0;
	int r = 0;
	for (bool done = false; !done;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			r = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		struct sv sv;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			doc_reset(d);
			break;
		case YAML_DOCUMENT_END_EVENT:
			doc_finish(d);
			break;
		case YAML_SCALAR_EVENT:
			scalar_view(d, &ev, &sv);
			add_anchor(d, anchor_of(&ev), &sv);
			on_scalar(d, &sv);
			node_done(d);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(d, (const char *)ev.data.alias.anchor);
			node_done(d);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			/* libyaml's scanner works through every open flow level at each
			 * token: nesting them deep makes a document take quadratic time. */
			bool flow =
				ev.type == YAML_MAPPING_START_EVENT
					? ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
					: ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
			size_t depth = d->depth + d->deep;
			if (flow && d->flow_base == SIZE_MAX) {
				d->flow_base = depth;
			}
			if (d->flow_base != SIZE_MAX && depth + 1 - d->flow_base > K8S_MAX_FLOW) {
				r = -E2BIG;
				done = true;
				break;
			}
			add_anchor(d, anchor_of(&ev), NULL);
			on_start(d, ev.type == YAML_MAPPING_START_EVENT);
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(d);
			if (d->flow_base != SIZE_MAX && d->depth + d->deep <= d->flow_base) {
				d->flow_base = SIZE_MAX;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	doc_reset(d); /* what a broken document held is not kept */
	return r;
}

/* ---------- templates ---------- */

/*
 * A copy of t (n bytes) with its template actions neutralised, and the bitmap of the
 * bytes that were in one; NULL when it has none. Actions run from `{{` (`{%`, `{#`) to
 * the matching close, or to the end of the line when there is none.
 */
static char *mask_templates(const char *t, size_t n, uint8_t **bits)
{
	*bits = NULL;
	if (!t || n < 2 ||
	    (!memmem(t, n, "{{", 2) && !memmem(t, n, "{%", 2) && !memmem(t, n, "{#", 2))) {
		return NULL;
	}
	uint8_t *m = xcalloc(n / 8 + 1, 1);
	/* Where the search for each kind of close last failed: none after it either (a
	 * file of opens without closes would otherwise take quadratic time). */
	size_t none_from[3] = { SIZE_MAX, SIZE_MAX, SIZE_MAX };
	for (size_t i = 0; i + 1 < n;) {
		char c = t[i + 1];
		if (t[i] != '{' || (c != '{' && c != '%' && c != '#')) {
			i++;
			continue;
		}
		const char close[2] = { c == '{' ? '}' : c, '}' };
		int kind = c == '{' ? 0 : c == '%' ? 1 : 2;
		const char *e =
			i >= none_from[kind] ? NULL : memmem(t + i + 2, n - i - 2, close, 2);
		if (!e && none_from[kind] == SIZE_MAX) {
			none_from[kind] = i;
		}
		size_t j;
		if (e) {
			j = (size_t)(e - t) + 2;
		} else {
			const char *nl = memchr(t + i, '\n', n - i);
			j = nl ? (size_t)(nl - t) : n;
		}
		for (size_t k = i; k < j; k++) {
			m[k >> 3] |= (uint8_t)(1u << (k & 7));
		}
		i = j;
	}
	char *copy = xmalloc(n);
	memcpy(copy, t, n);
	/* Line by line: blank when nothing but actions and blanks is on it, else `x`. */
	for (size_t ls = 0; ls < n;) {
		size_t le = ls;
		while (le < n && t[le] != '\n') {
			le++;
		}
		bool only = true;
		for (size_t k = ls; k < le && only; k++) {
			bool in = m[k >> 3] & (1u << (k & 7));
			only = in || t[k] == ' ' || t[k] == '\t' || t[k] == '\r';
		}
		for (size_t k = ls; k < le; k++) {
			if ((m[k >> 3] & (1u << (k & 7))) && t[k] != '\r') {
				copy[k] = only ? ' ' : 'x';
			}
		}
		ls = le + 1;
	}
	*bits = m;
	return copy;
}

/* ---------- the file ---------- */

/* Does [p, p + n) start with a document marker line (`---` or `...`)? */
static bool marker_line(const char *p, size_t n, char c)
{
	return n >= 3 && p[0] == c && p[1] == c && p[2] == c &&
	       (n == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\r' || p[3] == '\n');
}

/* Does a line of [t, t + n) that holds needle satisfy fn? */
static bool has_line(const char *t, size_t n, const char *needle,
		     bool (*fn)(const char *line, size_t len))
{
	size_t nl_len = strlen(needle);
	for (size_t ls = 0; ls < n;) {
		const char *nl = memchr(t + ls, '\n', n - ls);
		size_t le = nl ? (size_t)(nl - t) : n;
		if (memmem(t + ls, le - ls, needle, nl_len) && fn(t + ls, le - ls)) {
			return true;
		}
		ls = le + 1;
	}
	return false;
}

/* The end of the document that starts at ds: the next `---` line, or past the next `...`
 * line, or to. */
static size_t doc_end(const char *buf, size_t ds, size_t to)
{
	bool first = true;
	for (size_t ls = ds; ls < to;) {
		const char *nl = memchr(buf + ls, '\n', to - ls);
		size_t next = nl ? (size_t)(nl - buf) + 1 : to;
		if (!first && marker_line(buf + ls, to - ls, '-')) {
			return ls;
		}
		if (marker_line(buf + ls, to - ls, '.')) {
			return next;
		}
		first = false;
		ls = next;
	}
	return to;
}

/* A range of the file. */
struct extent {
	size_t off, end;
};

struct reader {
	struct doc d;
	const char *buf;
	size_t len;
	const size_t *at; /* k8s_read_configmaps: a document must hold one of these */
	size_t n_at;
	struct extent *failed; /* documents of the file that are not YAML */
	size_t n_failed, cap_failed;
	struct extent *fenced; /* fenced blocks whose documents were all read */
	size_t n_fenced, cap_fenced;
	bool stop; /* past a cap, or out of memory */
	int err;
};

/* Does [from, to) hold one of rd->at (sorted)? */
static bool holds_at(const struct reader *rd, size_t from, size_t to)
{
	size_t lo = 0, hi = rd->n_at;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rd->at[mid] < from) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < rd->n_at && rd->at[lo] < to;
}

static bool worth_parsing(const struct reader *rd, size_t ds, size_t de)
{
	const char *t = rd->buf + ds;
	size_t n = de - ds;
	if (rd->d.configmaps) {
		return holds_at(rd, ds, de) && memmem(t, n, "ConfigMap", 9) &&
		       has_line(t, n, "ConfigMap", configmap_line);
	}
	return memmem(t, n, "ecret", 5) && has_line(t, n, "ecret", k8s_secret_line);
}

/* Parse the documents of [from, to) that are worth it. Returns whether they all were YAML;
 * top: the file's own documents (the failed ones are kept, for read_fences). */
static bool read_region(struct reader *rd, size_t from, size_t to, bool top)
{
	struct k8s_values *out = rd->d.out;
	bool all = true;
	for (size_t ds = from, de; ds < to && !rd->stop; ds = de) {
		de = doc_end(rd->buf, ds, to);
		if (!worth_parsing(rd, ds, de)) {
			continue;
		}
		if (out->docs_parsed >= K8S_MAX_DOCS) {
			out->incomplete = "more than 10000 YAML documents with a kind: Secret line";
			rd->stop = true;
			break;
		}
		if (de - ds > K8S_MAX_PARSED - out->parsed) {
			out->incomplete =
				"more than 8 MiB of YAML documents with a kind: Secret line";
			rd->stop = true;
			break;
		}
		out->docs_parsed++;
		out->parsed += de - ds;
		uint8_t *bits;
		char *copy = mask_templates(rd->buf + ds, de - ds, &bits);
		rd->d.text = copy ? copy : rd->buf + ds;
		rd->d.mask = bits;
		rd->d.base = ds;
		rd->d.n = de - ds;
		int r = parse_doc(&rd->d);
		if (r == -EINVAL) {
			all = false;
			if (top) {
				GROW(rd->failed, rd->cap_failed, rd->n_failed + 1);
				rd->failed[rd->n_failed++] = (struct extent){ ds, de };
			}
		} else if (r == -E2BIG && !out->incomplete) {
			out->incomplete = "flow collections ([ ], { }) nested more than 16 deep";
		} else if (r == -ENOMEM) {
			rd->err = r;
			rd->stop = true;
		}
		free(copy);
		free(bits);
	}
	return all;
}

/* The length of the Markdown code fence that line [p, p + n) opens (blanks, then at least
 * three backticks or tildes; a backtick fence's info string has none), its character in
 * *c; 0 if it opens none. */
static size_t fence_open(const char *p, size_t n, char *c)
{
	size_t i = 0, k;
	while (i < n && (p[i] == ' ' || p[i] == '\t')) {
		i++;
	}
	if (i == n || (p[i] != '`' && p[i] != '~')) {
		return 0;
	}
	for (k = i; k < n && p[k] == p[i]; k++) {
	}
	if (k - i < 3 || (p[i] == '`' && memchr(p + k, '`', n - k))) {
		return 0;
	}
	*c = p[i];
	return k - i;
}

/* Does line [p, p + n) close a fence of at least flen characters c? */
static bool fence_close(const char *p, size_t n, char c, size_t flen)
{
	size_t i = 0, k;
	while (i < n && (p[i] == ' ' || p[i] == '\t')) {
		i++;
	}
	for (k = i; k < n && p[k] == c; k++) {
	}
	if (k - i < flen) {
		return false;
	}
	while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) {
		k++;
	}
	return k == n;
}

/*
 * A document that is not YAML may be Markdown that shows a manifest in a code block (a
 * README, a runbook): the fenced blocks of the file (``` or ~~~, as CommonMark reads them;
 * one never closed runs to the end) that overlap such a document and have a line worth it
 * are read as YAML streams of their own, at the file's positions.
 */
static void read_fences(struct reader *rd)
{
	const char *buf = rd->buf;
	size_t len = rd->len, fi = 0;
	for (size_t ls = 0; ls < len && !rd->stop;) {
		const char *nl = memchr(buf + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - buf) : len, next = nl ? le + 1 : len;
		char c = 0;
		size_t flen = fence_open(buf + ls, le - ls, &c);
		if (!flen) {
			ls = next;
			continue;
		}
		size_t cs = next, ce = len, after = len;
		for (size_t p = cs; p < len;) {
			const char *pn = memchr(buf + p, '\n', len - p);
			size_t pe = pn ? (size_t)(pn - buf) : len;
			if (fence_close(buf + p, pe - p, c, flen)) {
				ce = p;
				after = pn ? pe + 1 : len;
				break;
			}
			p = pn ? pe + 1 : len;
		}
		while (fi < rd->n_failed && rd->failed[fi].end <= cs) {
			fi++;
		}
		if (fi < rd->n_failed && rd->failed[fi].off < ce && cs < ce &&
		    has_line(buf + cs, ce - cs, "ecret", k8s_secret_line) &&
		    read_region(rd, cs, ce, false)) {
			GROW(rd->fenced, rd->cap_fenced, rd->n_fenced + 1);
			rd->fenced[rd->n_fenced++] = (struct extent){ cs, ce };
		}
		ls = after;
	}
}

/* Is offset off in one of the fenced blocks read (sorted, disjoint)? */
static bool in_fenced(const struct reader *rd, size_t off)
{
	size_t lo = 0, hi = rd->n_fenced;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rd->fenced[mid].end <= off) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < rd->n_fenced && rd->fenced[lo].off <= off;
}

/* Does the line start (blanks, a sequence's `- ` and a quote aside) with a `kind` or
 * `secretGenerator` key: a manifest's line rather than one that names one in a comment,
 * a string or prose? */
static bool key_first(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '-' || line[i] == '{' ||
			   line[i] == '"' || line[i] == '\'')) {
		i++;
	}
	return (len - i >= 4 && memcmp(line + i, "kind", 4) == 0) ||
	       (len - i >= 15 && memcmp(line + i, "secretGenerator", 15) == 0);
}

/* The documents that are not YAML and that the reader did not read from code blocks
 * either: those with a manifest's line (key_first) outside the blocks read. */
static void count_unread(struct reader *rd)
{
	struct k8s_values *out = rd->d.out;
	for (size_t i = 0; i < rd->n_failed; i++) {
		const struct extent *x = &rd->failed[i];
		bool unread = false;
		for (size_t ls = x->off; ls < x->end && !unread;) {
			const char *nl = memchr(rd->buf + ls, '\n', x->end - ls);
			size_t le = nl ? (size_t)(nl - rd->buf) : x->end;
			unread = memmem(rd->buf + ls, le - ls, "ecret", 5) &&
				 k8s_secret_line(rd->buf + ls, le - ls) &&
				 key_first(rd->buf + ls, le - ls) && !in_fenced(rd, ls);
			ls = le + 1;
		}
		if (unread && !out->docs_unparsed++) {
			out->first_unparsed = x->off;
		}
	}
}

static void reader_release(struct reader *rd)
{
	doc_release(&rd->d);
	free(rd->failed);
	free(rd->fenced);
}

int k8s_read_secrets(const char *buf, size_t len, struct k8s_values *out)
{
	if (!buf || !len) {
		return 0;
	}
	struct reader rd = { .d = { .out = out, .flow_base = SIZE_MAX }, .buf = buf, .len = len };
	read_region(&rd, 0, len, true);
	if (rd.n_failed && !rd.stop) {
		read_fences(&rd);
	}
	count_unread(&rd);
	reader_release(&rd);
	return rd.err;
}

int k8s_read_configmaps(const char *buf, size_t len, const size_t *at, size_t n_at,
			struct k8s_values *out)
{
	if (!buf || !len || !n_at) {
		return 0;
	}
	struct reader rd = { .d = { .out = out, .flow_base = SIZE_MAX, .configmaps = true },
			     .buf = buf,
			     .len = len,
			     .at = at,
			     .n_at = n_at };
	read_region(&rd, 0, len, false);
	reader_release(&rd);
	return rd.err;
}

void k8s_values_release(struct k8s_values *vals)
{
	for (size_t i = 0; i < vals->n; i++) {
		free(vals->v[i].key);
		free(vals->v[i].text);
	}
	free(vals->v);
	memset(vals, 0, sizeof(*vals));
}
