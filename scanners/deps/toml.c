/*
 * toml.c - a small, strict TOML reader for the lockfiles that use TOML (Cargo.lock,
 * poetry.lock, uv.lock): it turns a document into a jansson object tree.
 *
 * What it reads: comments; bare, quoted and dotted keys; [table] and [[array of tables]]
 * headers (dotted, reopening the last element of an array of tables); basic, literal and
 * multi-line strings with every escape TOML defines; integers (decimal, hex, octal,
 * binary, with underscores), floats, inf/nan, booleans; arrays (over several lines, with
 * comments and a trailing comma) and inline tables. Dates and times are kept as strings.
 * Defining a key twice is an error, as TOML says. Every table opened by a header gets a
 * member TOML_LINE_KEY with its 1-based line, so that parsers can report lines.
 *
 * Bounds: nesting of arrays and inline tables is capped (TOML_MAX_DEPTH); everything else
 * is bounded by the input, which the caller caps.
 */
#include "parsers.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

#define TOML_MAX_DEPTH 64

struct tp {
	const char *p, *end, *line_start;
	unsigned line;
	char *err;
	size_t errlen;
	unsigned err_line, err_col;
	bool failed;
};

static void terr(struct tp *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void terr(struct tp *t, const char *fmt, ...)
{
	if (t->failed) {
		return;
	}
	t->failed = true;
	t->err_line = t->line;
	t->err_col = (unsigned)(t->p - t->line_start) + 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err, t->errlen, fmt, ap);
	va_end(ap);
}

static void newline(struct tp *t)
{
	/* t->p is at '\n' */
	t->p++;
	t->line++;
	t->line_start = t->p;
}

static void skip_ws(struct tp *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t')) {
		t->p++;
	}
}

static void skip_comment(struct tp *t)
{
	if (t->p < t->end && *t->p == '#') {
		while (t->p < t->end && *t->p != '\n') {
			t->p++;
		}
	}
}

/* Whitespace, comments and newlines (inside arrays, and between statements). */
static void skip_all(struct tp *t)
{
	for (;;) {
		skip_ws(t);
		skip_comment(t);
		if (t->p < t->end && *t->p == '\r' && t->p + 1 < t->end && t->p[1] == '\n') {
			t->p++;
		}
		if (t->p < t->end && *t->p == '\n') {
			newline(t);
			continue;
		}
		return;
	}
}

static bool bare_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static void put_utf8(struct sbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	sbuf_append(sb, b, n);
}

/* A string starting at t->p (a quote); the text goes to sb. */
static bool parse_string(struct tp *t, struct sbuf *sb, bool allow_multi)
{
	char q = *t->p;
	bool multi = allow_multi && t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q;
	t->p += multi ? 3 : 1;
	if (multi) {
		/* A newline right after the opening delimiter is trimmed. */
		if (t->p < t->end && *t->p == '\r' && t->p + 1 < t->end && t->p[1] == '\n') {
			t->p++;
		}
		if (t->p < t->end && *t->p == '\n') {
			newline(t);
		}
	}
	for (;;) {
		if (t->p >= t->end) {
			terr(t, "unterminated string");
			return false;
		}
		char c = *t->p;
		if (c == q) {
			if (!multi) {
				t->p++;
				return true;
			}
			if (t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q) {
				/* Up to two more quotes may belong to the content. */
				size_t extra = 0;
				while (t->end - t->p >= 4 + (ptrdiff_t)extra &&
				       t->p[3 + extra] == q && extra < 2) {
					extra++;
				}
				sbuf_append(sb, t->p, extra);
				t->p += 3 + extra;
				return true;
			}
			sbuf_putc(sb, c);
			t->p++;
			continue;
		}
		if (c == '\n') {
			if (!multi) {
				terr(t, "newline in a string");
				return false;
			}
			sbuf_putc(sb, '\n');
			newline(t);
			continue;
		}
		if (c == '\0') {
			terr(t, "NUL byte in a string");
			return false;
		}
		if (c == '\\' && q == '"') {
			t->p++;
			if (t->p >= t->end) {
				terr(t, "unterminated escape");
				return false;
			}
			char e = *t->p;
			if (multi && (e == ' ' || e == '\t' || e == '\n' || e == '\r')) {
				/* A line-ending backslash trims the whitespace that follows. */
				const char *s = t->p;
				while (s < t->end && (*s == ' ' || *s == '\t' || *s == '\r')) {
					s++;
				}
				if (s >= t->end || *s != '\n') {
					terr(t, "invalid escape");
					return false;
				}
				t->p = s;
				while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' ||
							 *t->p == '\n' || *t->p == '\r')) {
					if (*t->p == '\n') {
						newline(t);
					} else {
						t->p++;
					}
				}
				continue;
			}
			uint32_t cp = 0;
			int hex = 0;
			switch (e) {
			case 'b':
				sbuf_putc(sb, '\b');
				break;
			case 't':
				sbuf_putc(sb, '\t');
				break;
			case 'n':
				sbuf_putc(sb, '\n');
				break;
			case 'f':
				sbuf_putc(sb, '\f');
				break;
			case 'r':
				sbuf_putc(sb, '\r');
				break;
			case 'e':
				sbuf_putc(sb, '\x1b');
				break;
			case '"':
				sbuf_putc(sb, '"');
				break;
			case '\\':
				sbuf_putc(sb, '\\');
				break;
			case 'u':
				hex = 4;
				break;
			case 'U':
				hex = 8;
				break;
			default:
				terr(t, "invalid escape '\\%c'", e);
				return false;
			}
			t->p++;
			if (hex) {
				for (int i = 0; i < hex; i++) {
					if (t->p >= t->end || !isxdigit((unsigned char)*t->p)) {
						terr(t, "invalid unicode escape");
						return false;
					}
					char h = (char)tolower((unsigned char)*t->p++);
					cp = cp * 16 + (uint32_t)(isdigit((unsigned char)h)
									  ? h - '0'
									  : h - 'a' + 10);
				}
				if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) {
					terr(t, "invalid unicode escape");
					return false;
				}
				put_utf8(sb, cp);
			}
			continue;
		}
		sbuf_putc(sb, c);
		t->p++;
	}
}

/* One key segment: bare or quoted. Returns a heap string or NULL. */
static char *parse_key_part(struct tp *t)
{
	skip_ws(t);
	if (t->p < t->end && (*t->p == '"' || *t->p == '\'')) {
		struct sbuf sb;
		sbuf_init(&sb, DEPS_MAX_FILE_BYTES);
		if (!parse_string(t, &sb, false)) {
			sbuf_release(&sb);
			return NULL;
		}
		if (memchr(sb.data ? sb.data : "", '\0', sb.len)) {
			sbuf_release(&sb);
			terr(t, "NUL in a key");
			return NULL;
		}
		char *k = sbuf_steal(&sb);
		return k;
	}
	const char *s = t->p;
	while (t->p < t->end && bare_key_char(*t->p)) {
		t->p++;
	}
	if (t->p == s) {
		terr(t, "expected a key");
		return NULL;
	}
	return xstrndup(s, (size_t)(t->p - s));
}

/* A dotted key: parts into keys[], at most max. Returns the count, 0 on error. */
static size_t parse_key(struct tp *t, char **keys, size_t max)
{
	size_t n = 0;
	for (;;) {
		if (n >= max) {
			terr(t, "key with too many parts");
			goto fail;
		}
		keys[n] = parse_key_part(t);
		if (!keys[n]) {
			goto fail;
		}
		n++;
		skip_ws(t);
		if (t->p < t->end && *t->p == '.') {
			t->p++;
			continue;
		}
		return n;
	}
fail:
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
	}
	return 0;
}

static json_t *parse_value(struct tp *t, unsigned depth);

static json_t *parse_array(struct tp *t, unsigned depth)
{
	t->p++; /* [ */
	json_t *a = json_array();
	for (;;) {
		skip_all(t);
		if (t->p >= t->end) {
			terr(t, "unterminated array");
			break;
		}
		if (*t->p == ']') {
			t->p++;
			return a;
		}
		json_t *v = parse_value(t, depth + 1);
		if (!v) {
			break;
		}
		json_array_append_new(a, v);
		skip_all(t);
		if (t->p < t->end && *t->p == ',') {
			t->p++;
			continue;
		}
		if (t->p < t->end && *t->p == ']') {
			t->p++;
			return a;
		}
		terr(t, "expected ',' or ']' in an array");
		break;
	}
	json_decref(a);
	return NULL;
}

/* Set keys[0..n-1] = v under tbl, creating intermediate tables. Takes v. */
static bool set_dotted(struct tp *t, json_t *tbl, char **keys, size_t n, json_t *v)
{
	for (size_t i = 0; i + 1 < n; i++) {
		json_t *sub = json_object_get(tbl, keys[i]);
		if (!sub) {
			sub = json_object();
			json_object_set_new(tbl, keys[i], sub);
		} else if (!json_is_object(sub)) {
			terr(t, "'%s' is already defined as a value", keys[i]);
			json_decref(v);
			return false;
		}
		tbl = sub;
	}
	if (json_object_get(tbl, keys[n - 1])) {
		terr(t, "'%s' is defined twice", keys[n - 1]);
		json_decref(v);
		return false;
	}
	json_object_set_new(tbl, keys[n - 1], v);
	return true;
}

static json_t *parse_inline_table(struct tp *t, unsigned depth)
{
	t->p++; /* { */
	json_t *o = json_object();
	skip_all(t);
	if (t->p < t->end && *t->p == '}') {
		t->p++;
		return o;
	}
	for (;;) {
		char *keys[16];
		skip_all(t);
		size_t n = parse_key(t, keys, ARRAY_SIZE(keys));
		if (!n) {
			break;
		}
		skip_ws(t);
		bool ok = false;
		if (t->p < t->end && *t->p == '=') {
			t->p++;
			skip_ws(t);
			json_t *v = parse_value(t, depth + 1);
			ok = v && set_dotted(t, o, keys, n, v);
		} else {
			terr(t, "expected '=' after a key");
		}
		for (size_t i = 0; i < n; i++) {
			free(keys[i]);
		}
		if (!ok) {
			break;
		}
		skip_all(t);
		if (t->p < t->end && *t->p == ',') {
			t->p++;
			continue;
		}
		if (t->p < t->end && *t->p == '}') {
			t->p++;
			return o;
		}
		terr(t, "expected ',' or '}' in an inline table");
		break;
	}
	json_decref(o);
	return NULL;
}

/* Numbers, booleans, dates. */
static json_t *parse_scalar(struct tp *t)
{
	const char *s = t->p;
	while (t->p < t->end && (isalnum((unsigned char)*t->p) || strchr("+-_.:", *t->p))) {
		t->p++;
	}
	/* A date followed by " HH:MM..." */
	if (t->p - s == 10 && t->end - t->p > 3 && t->p[0] == ' ' &&
	    isdigit((unsigned char)t->p[1]) && s[4] == '-') {
		t->p++;
		while (t->p < t->end && (isalnum((unsigned char)*t->p) || strchr("+-_.:", *t->p))) {
			t->p++;
		}
	}
	size_t n = (size_t)(t->p - s);
	if (n == 0) {
		terr(t, "expected a value");
		return NULL;
	}
	char *tok = xstrndup(s, n);
	json_t *v = NULL;
	if (str_eq(tok, "true") || str_eq(tok, "false")) {
		v = json_boolean(tok[0] == 't');
	} else if (str_eq(tok, "inf") || str_eq(tok, "+inf") || str_eq(tok, "-inf") ||
		   str_eq(tok, "nan") || str_eq(tok, "+nan") || str_eq(tok, "-nan")) {
		/* JSON has no infinities: keep the text. */
		v = json_string(tok);
	} else if (n >= 10 && isdigit((unsigned char)tok[0]) && (tok[4] == '-' || tok[2] == ':')) {
		v = json_string(tok); /* a date or time */
	} else {
		/* Integers and floats, underscores only between digits. */
		char clean[128];
		size_t k = 0;
		bool ok = n < sizeof(clean);
		for (size_t i = 0; ok && i < n; i++) {
			if (tok[i] == '_') {
				ok = i > 0 && i + 1 < n && isalnum((unsigned char)tok[i - 1]) &&
				     isalnum((unsigned char)tok[i + 1]);
			} else {
				clean[k++] = tok[i];
			}
		}
		clean[k] = '\0';
		char *endp = NULL;
		if (ok && k > 2 && clean[0] == '0' && strchr("xob", clean[1])) {
			int base = clean[1] == 'x' ? 16 : clean[1] == 'o' ? 8 : 2;
			errno = 0;
			long long ll = strtoll(clean + 2, &endp, base);
			if (errno == 0 && endp && *endp == '\0') {
				v = json_integer(ll);
			}
		} else if (ok && strpbrk(clean, ".eE") && !strpbrk(clean, "xX")) {
			errno = 0;
			double d = strtod(clean, &endp);
			if (errno == 0 && endp && *endp == '\0' && isfinite(d)) {
				v = json_real(d);
			}
		} else if (ok) {
			errno = 0;
			long long ll = strtoll(clean, &endp, 10);
			if (errno == 0 && endp && *endp == '\0' && k > 0) {
				v = json_integer(ll);
			}
		}
	}
	if (!v) {
		t->p = s;
		terr(t, "invalid value '%s'", tok);
	}
	free(tok);
	return v;
}

static json_t *parse_value(struct tp *t, unsigned depth)
{
	if (depth > TOML_MAX_DEPTH) {
		terr(t, "values nested more than %u levels deep", TOML_MAX_DEPTH);
		return NULL;
	}
	if (t->p >= t->end) {
		terr(t, "expected a value");
		return NULL;
	}
	char c = *t->p;
	if (c == '"' || c == '\'') {
		struct sbuf sb;
		sbuf_init(&sb, DEPS_MAX_FILE_BYTES);
		if (!parse_string(t, &sb, true)) {
			sbuf_release(&sb);
			return NULL;
		}
		json_t *v = json_stringn(sb.data ? sb.data : "", sb.len);
		sbuf_release(&sb);
		if (!v) {
			terr(t, "a string that is not valid UTF-8");
		}
		return v;
	}
	if (c == '[') {
		return parse_array(t, depth);
	}
	if (c == '{') {
		return parse_inline_table(t, depth);
	}
	return parse_scalar(t);
}

/* Navigate to (creating) the table of a header; arrays of tables open their last element. */
static json_t *open_table(struct tp *t, json_t *root, char **keys, size_t n, bool array)
{
	json_t *tbl = root;
	for (size_t i = 0; i < n; i++) {
		json_t *sub = json_object_get(tbl, keys[i]);
		bool last = i + 1 == n;
		if (last && array) {
			if (!sub) {
				sub = json_array();
				json_object_set_new(tbl, keys[i], sub);
			} else if (!json_is_array(sub)) {
				terr(t, "'%s' is not an array of tables", keys[i]);
				return NULL;
			}
			json_t *o = json_object();
			json_array_append_new(sub, o);
			return o;
		}
		if (!sub) {
			sub = json_object();
			json_object_set_new(tbl, keys[i], sub);
		} else if (json_is_array(sub)) {
			size_t k = json_array_size(sub);
			sub = k ? json_array_get(sub, k - 1) : NULL;
			if (!json_is_object(sub)) {
				terr(t, "'%s' is not a table", keys[i]);
				return NULL;
			}
		} else if (!json_is_object(sub)) {
			terr(t, "'%s' is already defined as a value", keys[i]);
			return NULL;
		}
		tbl = sub;
	}
	return tbl;
}

/* Whether s (n bytes) starts with key, bare or quoted, then white space and one of
 * `ends`. */
static bool key_then(const char *s, size_t n, const char *key, const char *ends)
{
	size_t kl = strlen(key), i = 0;
	char q = n && (s[0] == '"' || s[0] == '\'') ? s[0] : 0;
	i += q != 0;
	if (n - i < kl || memcmp(s + i, key, kl) != 0) {
		return false;
	}
	i += kl;
	if (q) {
		if (i >= n || s[i] != q) {
			return false;
		}
		i++;
	} else if (i < n && bare_key_char(s[i])) {
		return false;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t')) {
		i++;
	}
	return i < n && strchr(ends, s[i]) && s[i];
}

unsigned toml_root_key_line(const char *buf, size_t len, const char *key)
{
	bool root = true; /* before the first table header */
	const char *end = buf + len;
	unsigned no = 0;
	for (const char *p = buf; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		no++;
		while (p < le && (*p == ' ' || *p == '\t')) {
			p++;
		}
		size_t n = (size_t)(le - p);
		if (n && *p == '[') {
			size_t skip = n >= 2 && p[1] == '[' ? 2 : 1;
			while (skip < n && (p[skip] == ' ' || p[skip] == '\t')) {
				skip++;
			}
			if (key_then(p + skip, n - skip, key, "].")) {
				return no;
			}
			root = false;
		} else if (root && key_then(p, n, key, "=.")) {
			return no;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

json_t *toml_parse(const char *buf, size_t len, unsigned *line, unsigned *col, char *err,
		   size_t errlen)
{
	struct tp t = { .p = buf,
			.end = buf + len,
			.line_start = buf,
			.line = 1,
			.err = err,
			.errlen = errlen };
	json_t *root = json_object();
	json_t *cur = root;
	/* A UTF-8 byte order mark is allowed. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		t.p += 3;
	}
	while (!t.failed) {
		skip_all(&t);
		if (t.p >= t.end) {
			break;
		}
		char *keys[16];
		size_t n;
		unsigned hdr_line = t.line;
		if (*t.p == '[') {
			bool array = t.end - t.p >= 2 && t.p[1] == '[';
			t.p += array ? 2 : 1;
			n = parse_key(&t, keys, ARRAY_SIZE(keys));
			if (!n) {
				break;
			}
			skip_ws(&t);
			if (t.end - t.p < (array ? 2 : 1) || *t.p != ']' ||
			    (array && t.p[1] != ']')) {
				terr(&t, "expected '%s' to end the table header",
				     array ? "]]" : "]");
			} else {
				t.p += array ? 2 : 1;
				cur = open_table(&t, root, keys, n, array);
				if (cur) {
					json_object_set_new(cur, TOML_LINE_KEY,
							    json_integer(hdr_line));
				}
			}
			for (size_t i = 0; i < n; i++) {
				free(keys[i]);
			}
			if (!cur) {
				break;
			}
		} else {
			n = parse_key(&t, keys, ARRAY_SIZE(keys));
			if (!n) {
				break;
			}
			skip_ws(&t);
			if (t.p >= t.end || *t.p != '=') {
				terr(&t, "expected '=' after a key");
			} else {
				t.p++;
				skip_ws(&t);
				json_t *v = parse_value(&t, 0);
				if (v) {
					set_dotted(&t, cur, keys, n, v);
				}
			}
			for (size_t i = 0; i < n; i++) {
				free(keys[i]);
			}
		}
		if (t.failed) {
			break;
		}
		skip_ws(&t);
		skip_comment(&t);
		if (t.p < t.end && *t.p == '\r' && t.p + 1 < t.end && t.p[1] == '\n') {
			t.p++;
		}
		if (t.p < t.end && *t.p != '\n') {
			terr(&t, "unexpected text after a value");
		}
	}
	if (t.failed) {
		*line = t.err_line;
		*col = t.err_col;
		json_decref(root);
		return NULL;
	}
	return root;
}
