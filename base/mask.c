/*
 * mask.c - multi-pattern search and replace for secret values.
 *
 * Patterns are indexed by their first byte. A scan tries, at each position, the patterns
 * that start with that byte; the match there that covers the most text covers every other. Every
 * byte that some match covers is masked, whichever secret it belongs to: matches are found at every
 * position, also inside and overlapping earlier ones, and the bytes they cover together become one
 * "***" (matches that only touch stay separate). The streaming variant keeps back the tail from the
 * first position that is a proper prefix of some pattern (a match may still start there, or a
 * shorter match there may still grow into a longer one) and remembers how far a match already found
 * reaches into it; output that holds no partial secret is passed on immediately.
 */
#include "mask.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>

struct pattern {
	char *s;
	size_t len;
	bool wrap; /* base64: may be broken into lines (wrap_span) */
};

/*
 * Base64 is often printed wrapped: 76 columns (GNU base64, MIME, Python's encodebytes), 64
 * (openssl, PEM), with CRLF (MIME) or indented (a PEM block in YAML). A base64 form also
 * matches with line breaks inside it: "\n" or "\r\n" followed by at most WRAP_INDENT blanks,
 * the first anywhere after its first character (where the secret's encoding starts within
 * a line is arbitrary) and each further one at least WRAP_LINE characters after the last
 * (no tool wraps base64 narrower). The line breaks are masked with it. That bounds what a
 * match can span, and so what a stream holds back: wrap_span().
 */
#define WRAP_LINE   16
#define WRAP_INDENT 64

static size_t wrap_span(size_t len)
{
	return len + (1 + (len - 1) / WRAP_LINE) * (2 + WRAP_INDENT);
}

struct mask {
	struct pattern *pats;
	size_t n, cap;
	size_t secrets;
	/* For each first byte: indices into pats, sorted by decreasing length. */
	size_t *by_byte[256];
	size_t n_by_byte[256];
	size_t maxspan; /* the most text a match can cover */
	int dirty;
};

struct mask *mask_new(void)
{
	return xcalloc(1, sizeof(struct mask));
}

void mask_free(struct mask *m)
{
	if (!m) {
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		free(m->pats[i].s);
	}
	for (size_t b = 0; b < 256; b++) {
		free(m->by_byte[b]);
	}
	free(m->pats);
	free(m);
}

size_t mask_forms(const struct mask *m)
{
	return m ? m->n : 0;
}

size_t mask_count(const struct mask *m)
{
	return m ? m->secrets : 0;
}

static void add_pattern_as(struct mask *m, const char *s, size_t len, bool wrap)
{
	/* Very short derived forms would mask unrelated text; the raw value is checked
	 * against MASK_MIN_SECRET by the caller. */
	if (len < MASK_MIN_SECRET) {
		return;
	}
	size_t span = wrap ? wrap_span(len) : len;
	if (span > m->maxspan) {
		m->maxspan = span;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (m->pats[i].len == len && memcmp(m->pats[i].s, s, len) == 0) {
			m->pats[i].wrap |= wrap;
			return;
		}
	}
	GROW(m->pats, m->cap, m->n + 1);
	m->pats[m->n].s = xstrndup(s, len);
	m->pats[m->n].len = len;
	m->pats[m->n].wrap = wrap;
	m->n++;
	m->dirty = 1;
}

static void add_pattern(struct mask *m, const char *s, size_t len)
{
	add_pattern_as(m, s, len, false);
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Base64 of the value as it appears inside a longer stream, at byte offset `align` (0-2)
 * within a 3-byte group: encode align filler bytes + value, then keep only the characters
 * whose 6 bits come entirely from the value.
 */
static void add_base64(struct mask *m, const char *v, size_t len, size_t align, const char *alpha)
{
	size_t total = align + len;
	unsigned char *in = xcalloc(total, 1);
	memcpy(in + align, v, len);
	size_t nchars = (total * 8) / 6; /* characters fully covered by input bits */
	char *out = xmalloc(nchars + 1);
	for (size_t k = 0; k < nchars; k++) {
		size_t bit = k * 6, byte = bit / 8, shift = bit % 8;
		unsigned w = (unsigned)in[byte] << 8;
		if (byte + 1 < total) {
			w |= in[byte + 1];
		}
		out[k] = alpha[(w >> (10 - shift)) & 63];
	}
	/* First character fully determined by value bits: ceil(8*align/6). */
	size_t first = (align * 8 + 5) / 6;
	if (nchars > first && nchars - first >= 6) {
		add_pattern_as(m, out + first, nchars - first, true);
	}
	free(out);
	free(in);
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encoding: every byte but the unreserved ones (and '/' with keep_slash, as
 * Python's urllib.parse.quote leaves it); form: a space as '+'. */
static void add_percent(struct mask *m, const char *v, size_t len, bool lower, bool form,
			bool keep_slash)
{
	struct sbuf sb;
	sbuf_init(&sb, 3 * MASK_MAX_SECRET + 1);
	const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			sbuf_putc(&sb, (char)c);
		} else if (form && c == ' ') {
			sbuf_putc(&sb, '+');
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			sbuf_append(&sb, e, 3);
		}
	}
	add_pattern(m, sb.data, sb.len);
	sbuf_release(&sb);
}

/* The code point of the UTF-8 sequence at v[*i] (advancing *i past it), or -1 for a byte
 * that does not start a valid one. */
static long utf8_next(const char *v, size_t len, size_t *i)
{
	unsigned char c = (unsigned char)v[*i];
	size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
	if (n == 0 || *i + n > len) {
		return -1;
	}
	long cp = c & (0x7f >> n);
	for (size_t k = 1; k < n; k++) {
		unsigned char d = (unsigned char)v[*i + k];
		if ((d & 0xc0) != 0x80) {
			return -1;
		}
		cp = cp << 6 | (d & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp < 0xe000)) {
		return -1;
	}
	*i += n - 1;
	return cp;
}

/* JSON string escaping; slash: '/' as "\/" (PHP's json_encode); ascii: every non-ASCII
 * character as \uXXXX, beyond the BMP as a surrogate pair (Python's json.dumps); html:
 * '&', '<', '>' as \u0026, \u003c, \u003e (Go's encoding/json). */
static void add_escaped(struct mask *m, const char *v, size_t len, bool slash, bool ascii,
			bool html)
{
	struct sbuf sb;
	sbuf_init(&sb, 12 * MASK_MAX_SECRET + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		long cp;
		if (ascii && c >= 0x80 && (cp = utf8_next(v, len, &i)) >= 0) {
			if (cp >= 0x10000) {
				cp -= 0x10000;
				sbuf_printf(&sb, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
					    0xdc00 + (cp & 0x3ff));
			} else {
				sbuf_printf(&sb, "\\u%04lx", cp);
			}
			continue;
		}
		if (html && (c == '&' || c == '<' || c == '>')) {
			sbuf_printf(&sb, "\\u%04x", c);
			continue;
		}
		if (slash && c == '/') {
			sbuf_puts(&sb, "\\/");
			continue;
		}
		switch (c) {
		case '\n':
			sbuf_puts(&sb, "\\n");
			break;
		case '\r':
			sbuf_puts(&sb, "\\r");
			break;
		case '\t':
			sbuf_puts(&sb, "\\t");
			break;
		case '"':
			sbuf_puts(&sb, "\\\"");
			break;
		case '\\':
			sbuf_puts(&sb, "\\\\");
			break;
		default:
			if (c < 0x20) {
				sbuf_printf(&sb, "\\u%04x", c);
			} else {
				sbuf_putc(&sb, (char)c);
			}
		}
	}
	add_pattern(m, sb.data, sb.len);
	sbuf_release(&sb);
}

static void add_forms(struct mask *m, const char *v, size_t len)
{
	add_pattern(m, v, len);
	add_escaped(m, v, len, false, false, false);
	bool has_slash = memchr(v, '/', len) != NULL, has_8bit = false, has_html = false;
	for (size_t i = 0; i < len; i++) {
		has_8bit |= (unsigned char)v[i] >= 0x80;
		has_html |= v[i] == '&' || v[i] == '<' || v[i] == '>';
	}
	if (has_slash) {
		add_escaped(m, v, len, true, false, false);
	}
	if (has_8bit) {
		add_escaped(m, v, len, false, true, false);
		if (has_slash) {
			add_escaped(m, v, len, true, true, false);
		}
	}
	if (has_html) {
		add_escaped(m, v, len, false, false, true);
	}
	add_percent(m, v, len, false, false, false);
	add_percent(m, v, len, true, false, false);
	add_percent(m, v, len, false, true, false);
	if (has_slash) {
		add_percent(m, v, len, false, false, true);
		add_percent(m, v, len, true, false, true);
	}
	for (size_t align = 0; align < 3; align++) {
		add_base64(m, v, len, align, b64_std);
		add_base64(m, v, len, align, b64_url);
	}
}

static bool is_blank_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Where the runner's scanners quote text they cut it short at a blank, and mark the cut
 * with "...": a value with blanks in it can then appear as its first words followed by
 * "..." (a SAST message or snippet, a secrets snippet), or as "..." and its last words (a
 * secrets snippet whose start is cut). Those forms are registered for each blank that
 * ends or starts a word, with at least MASK_MIN_SECRET and at most MASK_MAX_CUT_QUOTE
 * bytes (the longest quote a scanner makes) of the value or of one of its lines: the
 * first words as the text has them and with blanks collapsed to one space (as the SAST
 * messages quote), the last words as the text has them; and the whole value (or line)
 * with its blanks collapsed, as a SAST message quotes it uncut. A line has at most 120
 * places to cut within 240 bytes, so every one of them is registered, up to
 * MASK_MAX_CUT_FORMS of each kind for a value, lines included (budget).
 */
#define MASK_MAX_CUT_FORMS 1024
#define MASK_MAX_CUT_QUOTE 240

struct cut_budget {
	size_t first, collapsed, last;
};

static void add_cut_forms(struct mask *m, const char *v, size_t full, struct cut_budget *budget)
{
	size_t len = full > MASK_MAX_CUT_QUOTE + 1 ? MASK_MAX_CUT_QUOTE + 1 : full;
	char *buf = xmalloc(len + 4);
	for (size_t i = MASK_MIN_SECRET; i < len && budget->first; i++) {
		if (is_blank_byte(v[i]) && !is_blank_byte(v[i - 1])) {
			memcpy(buf, v, i);
			memcpy(buf + i, "...", 3);
			add_pattern(m, buf, i + 3);
			budget->first--;
		}
	}
	size_t w = 0;
	bool space = false;
	for (size_t i = 0; i < len && budget->collapsed; i++) {
		if (is_blank_byte(v[i])) {
			space = true;
			continue;
		}
		if (space && w) {
			if (w >= MASK_MIN_SECRET) {
				memcpy(buf + w, "...", 3);
				add_pattern(m, buf, w + 3);
				budget->collapsed--;
			}
			buf[w++] = ' ';
		}
		space = false;
		buf[w++] = v[i];
	}
	if (len == full && budget->collapsed) {
		add_pattern(m, buf, w); /* the whole of it, blanks collapsed */
		budget->collapsed--;
	}
	for (size_t i = full - len; i + 1 < full && budget->last; i++) {
		size_t n = full - i - 1;
		if (is_blank_byte(v[i]) && !is_blank_byte(v[i + 1]) && n >= MASK_MIN_SECRET) {
			memcpy(buf, "...", 3);
			memcpy(buf + 3, v + i + 1, n);
			add_pattern(m, buf, n + 3);
			budget->last--;
		}
	}
	free(buf);
}

int mask_add(struct mask *m, const char *value, size_t len)
{
	const char *s = value, *e = value + len;
	while (s < e && isspace((unsigned char)*s)) {
		s++;
	}
	while (e > s && isspace((unsigned char)e[-1])) {
		e--;
	}
	if ((size_t)(e - s) < MASK_MIN_SECRET) {
		return -EINVAL;
	}
	if (len > MASK_MAX_SECRET) {
		return -E2BIG;
	}
	m->secrets++;
	add_forms(m, value, len);
	if ((size_t)(e - s) != len) {
		add_forms(m, s, (size_t)(e - s));
	}
	struct cut_budget cut_budget = { MASK_MAX_CUT_FORMS, MASK_MAX_CUT_FORMS,
					 MASK_MAX_CUT_FORMS };
	add_cut_forms(m, s, (size_t)(e - s), &cut_budget);
	if (memchr(s, '\n', (size_t)(e - s))) {
		/* CRLF variant, and every line on its own (trimmed). */
		struct sbuf crlf;
		sbuf_init(&crlf, 2 * MASK_MAX_SECRET);
		for (const char *p = s; p < e; p++) {
			if (*p == '\n' && (p == s || p[-1] != '\r')) {
				sbuf_putc(&crlf, '\r');
			}
			sbuf_putc(&crlf, *p);
		}
		add_pattern(m, crlf.data, crlf.len);
		sbuf_release(&crlf);
		const char *line = s;
		while (line < e) {
			const char *nl = memchr(line, '\n', (size_t)(e - line));
			const char *le = nl ? nl : e;
			const char *a = line, *b = le;
			while (a < b && isspace((unsigned char)*a)) {
				a++;
			}
			while (b > a && isspace((unsigned char)b[-1])) {
				b--;
			}
			add_forms(m, a, (size_t)(b - a));
			add_cut_forms(m, a, (size_t)(b - a), &cut_budget);
			line = nl ? nl + 1 : e;
		}
	}
	return 0;
}

static int cmp_len_desc(const void *a, const void *b, void *ctx)
{
	const struct mask *m = ctx;
	size_t x = m->pats[*(const size_t *)a].len, y = m->pats[*(const size_t *)b].len;
	return x > y ? -1 : (x < y);
}

static void build_index(struct mask *m)
{
	if (!m->dirty) {
		return;
	}
	for (size_t b = 0; b < 256; b++) {
		free(m->by_byte[b]);
		m->by_byte[b] = NULL;
		m->n_by_byte[b] = 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		m->n_by_byte[(unsigned char)m->pats[i].s[0]]++;
	}
	for (size_t b = 0; b < 256; b++) {
		if (m->n_by_byte[b]) {
			m->by_byte[b] = xcalloc(m->n_by_byte[b], sizeof(size_t));
			m->n_by_byte[b] = 0;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		unsigned char b = (unsigned char)m->pats[i].s[0];
		m->by_byte[b][m->n_by_byte[b]++] = i;
	}
	for (size_t b = 0; b < 256; b++) {
		if (m->n_by_byte[b] > 1) {
			qsort_r(m->by_byte[b], m->n_by_byte[b], sizeof(size_t), cmp_len_desc, m);
		}
	}
	m->dirty = 0;
}

enum fit { FIT_NONE, FIT_PREFIX, FIT_MATCH };

/* How a wrapped base64 form fits p[0..avail): FIT_MATCH with *span the text it covers, line
 * breaks included; FIT_PREFIX if all of p[0..avail) is the start of such a match. */
static enum fit fit_wrapped(const struct pattern *pat, const char *p, size_t avail, size_t *span)
{
	size_t i = 0, k = 0, line = WRAP_LINE; /* line: characters since the last break */
	while (k < pat->len) {
		if (i == avail) {
			return FIT_PREFIX;
		}
		if (p[i] == pat->s[k]) {
			i++, k++, line++;
			continue;
		}
		if (k == 0 || line < WRAP_LINE) {
			return FIT_NONE;
		}
		size_t j = i + (p[i] == '\r');
		if (j == avail) {
			return FIT_PREFIX;
		}
		if (p[j] != '\n') {
			return FIT_NONE;
		}
		j++;
		for (size_t blanks = 0;
		     j < avail && blanks < WRAP_INDENT && (p[j] == ' ' || p[j] == '\t'); blanks++) {
			j++;
		}
		if (j == avail) {
			return FIT_PREFIX;
		}
		i = j, line = 0;
	}
	*span = i;
	return FIT_MATCH;
}

static enum fit fit(const struct pattern *pat, const char *p, size_t avail, size_t *span)
{
	if (pat->wrap) {
		return fit_wrapped(pat, p, avail, span);
	}
	if (pat->len > avail) {
		return memcmp(pat->s, p, avail) == 0 ? FIT_PREFIX : FIT_NONE;
	}
	*span = pat->len;
	return memcmp(pat->s, p, pat->len) == 0 ? FIT_MATCH : FIT_NONE;
}

/* How much text the patterns matching entirely at p (avail bytes) cover, at most, or 0. */
static size_t match_at(const struct mask *m, const char *p, size_t avail)
{
	unsigned char b = (unsigned char)*p;
	size_t most = 0, span;
	for (size_t k = 0; k < m->n_by_byte[b]; k++) {
		const struct pattern *pat = &m->pats[m->by_byte[b][k]];
		if (!pat->wrap) {
			if (pat->len <= avail && pat->len > most &&
			    memcmp(pat->s, p, pat->len) == 0) {
				most = pat->len;
			}
		} else if (fit_wrapped(pat, p, avail, &span) == FIT_MATCH && span > most) {
			most = span;
		}
	}
	return most;
}

/* Is p[0..avail) a proper prefix of some match? */
static bool prefix_at(const struct mask *m, const char *p, size_t avail)
{
	unsigned char b = (unsigned char)*p;
	size_t span;
	for (size_t k = 0; k < m->n_by_byte[b]; k++) {
		if (fit(&m->pats[m->by_byte[b][k]], p, avail, &span) == FIT_PREFIX) {
			return true;
		}
	}
	return false;
}

/*
 * Mask buf[0..len) into out. *cover is how many bytes at the start of buf a match found
 * before it already covers; on return, how many bytes past the returned position one does.
 * When `final` is false, stop at the first tail position where a match may still start or
 * grow, and return how many input bytes were consumed (the rest must be scanned again with
 * what follows).
 */
static size_t scan(const struct mask *m, const char *buf, size_t len, bool final, size_t *cover,
		   struct sbuf *out)
{
	size_t i = 0, run = 0, reach = *cover; /* reach: end of the bytes masked so far */
	for (; i < len; i++) {
		if (!final && len - i < m->maxspan && prefix_at(m, buf + i, len - i)) {
			break;
		}
		size_t ml = match_at(m, buf + i, len - i);
		if (ml && i >= reach) {
			/* A match that overlaps no earlier one: a new stretch of masked bytes. */
			sbuf_append(out, buf + run, i - run);
			sbuf_puts(out, MASK_REPLACEMENT);
		}
		if (i + ml > reach) {
			reach = i + ml;
		}
		if (i < reach) {
			run = i + 1;
		}
	}
	sbuf_append(out, buf + run, i - run);
	*cover = reach > i ? reach - i : 0;
	return i;
}

char *mask_redact(const struct mask *m, const char *s, size_t len, size_t *outlen)
{
	struct sbuf out;
	sbuf_init(&out, SIZE_MAX / 2);
	if (!m || m->n == 0) {
		sbuf_append(&out, s, len);
	} else {
		build_index((struct mask *)m);
		size_t cover = 0;
		scan(m, s, len, true, &cover, &out);
	}
	if (outlen) {
		*outlen = out.len;
	}
	return sbuf_steal(&out);
}

char *mask_redact_str(const struct mask *m, const char *s)
{
	return s ? mask_redact(m, s, strlen(s), NULL) : NULL;
}

struct mask_stream {
	const struct mask *m;
	mask_emit_fn emit;
	void *ud;
	struct sbuf pending, out;
	size_t cover; /* bytes at the start of pending that a match already masks */
};

struct mask_stream *mask_stream_new(const struct mask *m, mask_emit_fn emit, void *userdata)
{
	struct mask_stream *s = xcalloc(1, sizeof(*s));
	s->m = (m && m->n) ? m : NULL;
	if (s->m) {
		build_index((struct mask *)m);
	}
	s->emit = emit;
	s->ud = userdata;
	sbuf_init(&s->pending, SIZE_MAX / 2);
	sbuf_init(&s->out, SIZE_MAX / 2);
	return s;
}

void mask_stream_write(struct mask_stream *s, const char *data, size_t len)
{
	if (!s->m) {
		if (len) {
			s->emit(s->ud, data, len);
		}
		return;
	}
	const char *buf = data;
	size_t n = len;
	if (s->pending.len) {
		sbuf_append(&s->pending, data, len);
		buf = s->pending.data;
		n = s->pending.len;
	}
	sbuf_reset(&s->out);
	size_t used = scan(s->m, buf, n, false, &s->cover, &s->out);
	if (s->out.len) {
		s->emit(s->ud, s->out.data, s->out.len);
	}
	if (buf == s->pending.data) {
		sbuf_consume(&s->pending, used);
	} else if (used < n) {
		sbuf_append(&s->pending, buf + used, n - used);
	}
}

void mask_stream_flush(struct mask_stream *s)
{
	if (!s->m || !s->pending.len) {
		return;
	}
	sbuf_reset(&s->out);
	scan(s->m, s->pending.data, s->pending.len, true, &s->cover, &s->out);
	sbuf_reset(&s->pending);
	s->cover = 0;
	if (s->out.len) {
		s->emit(s->ud, s->out.data, s->out.len);
	}
}

void mask_stream_free(struct mask_stream *s)
{
	if (!s) {
		return;
	}
	sbuf_release(&s->pending);
	sbuf_release(&s->out);
	free(s);
}

char *mask_redact_cut(const struct mask *m, const char *s, size_t max, bool *cut)
{
	_cleanup_free_ char *masked = mask_redact_str(m, s);
	size_t len = strlen(masked);
	*cut = len > max;
	if (*cut) {
		len = max;
		while (len > 0 && ((unsigned char)masked[len] & 0xc0) == 0x80) {
			len--;
		}
	}
	return utf8_sanitize(masked, len);
}
