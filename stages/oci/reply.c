/*
 * reply.c - parsers for registry replies (see reply.h). Everything here works on
 * (pointer, length) pairs of untrusted bytes and fails closed.
 */
#include "reply.h"

#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>

#include "banned.h"

/* ---------- WWW-Authenticate ---------- */

static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

struct cursor {
	const char *s;
	size_t n, i;
};

static void skip_ws(struct cursor *c)
{
	while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) {
		c->i++;
	}
}

static size_t read_token(struct cursor *c)
{
	size_t start = c->i;
	while (c->i < c->n && is_tchar(c->s[c->i])) {
		c->i++;
	}
	return c->i - start;
}

/* token or quoted-string into out (NUL-terminated). Returns 0, -EINVAL or -E2BIG. */
static int read_value(struct cursor *c, char *out, size_t size)
{
	size_t o = 0;
	if (c->i < c->n && c->s[c->i] == '"') {
		c->i++;
		for (;;) {
			if (c->i >= c->n) {
				return -EINVAL; /* unterminated */
			}
			char ch = c->s[c->i++];
			if (ch == '"') {
				break;
			}
			if (ch == '\\') {
				if (c->i >= c->n) {
					return -EINVAL;
				}
				ch = c->s[c->i++];
			}
			if ((unsigned char)ch < 0x20 && ch != '\t') {
				return -EINVAL;
			}
			if (ch == 0x7f) {
				return -EINVAL;
			}
			if (o + 1 >= size) {
				return -E2BIG;
			}
			out[o++] = ch;
		}
	} else {
		size_t start = c->i;
		/* token68 characters are allowed in unquoted values too ("/" and "="). */
		while (c->i < c->n && (is_tchar(c->s[c->i]) || c->s[c->i] == '/' ||
				       c->s[c->i] == '=' || c->s[c->i] == ':')) {
			c->i++;
		}
		size_t len = c->i - start;
		if (len == 0) {
			return -EINVAL;
		}
		if (len >= size) {
			return -E2BIG;
		}
		memcpy(out, c->s + start, len);
		o = len;
	}
	out[o] = '\0';
	return 0;
}

static bool token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

int oci_parse_challenge(const char *h, size_t len, struct oci_challenge *out)
{
	struct cursor c = { h, len, 0 };
	struct oci_challenge cur, best;
	bool have_best = false;
	memset(out, 0, sizeof(*out));
	memset(&best, 0, sizeof(best));
	for (size_t k = 0; k < len; k++) {
		if (h[k] == '\0' || h[k] == '\r' || h[k] == '\n') {
			return -EINVAL;
		}
	}
	for (;;) {
		while (c.i < c.n && (c.s[c.i] == ' ' || c.s[c.i] == '\t' || c.s[c.i] == ',')) {
			c.i++;
		}
		if (c.i >= c.n) {
			break;
		}
		const char *scheme = c.s + c.i;
		size_t sl = read_token(&c);
		if (sl == 0) {
			return -EINVAL;
		}
		memset(&cur, 0, sizeof(cur));
		if (token_is(scheme, sl, "Bearer")) {
			cur.scheme = OCI_AUTH_BEARER;
		} else if (token_is(scheme, sl, "Basic")) {
			cur.scheme = OCI_AUTH_BASIC;
		}
		/* auth-params: name BWS "=" BWS value, separated by commas; a token not followed
		 * by "=" starts the next challenge (or is a token68, which we do not use). */
		bool first = true;
		for (;;) {
			size_t save = c.i;
			skip_ws(&c);
			if (!first) {
				if (c.i >= c.n || c.s[c.i] != ',') {
					c.i = save;
					break;
				}
				c.i++;
				while (c.i < c.n &&
				       (c.s[c.i] == ' ' || c.s[c.i] == '\t' || c.s[c.i] == ',')) {
					c.i++;
				}
			}
			size_t name_at = c.i;
			const char *name = c.s + c.i;
			size_t nl = read_token(&c);
			skip_ws(&c);
			if (nl == 0 || c.i >= c.n || c.s[c.i] != '=') {
				if (first && nl > 0) {
					/* A token68 right after the scheme: skip it. */
					c.i = name_at;
					while (c.i < c.n && c.s[c.i] != ',' && c.s[c.i] != ' ') {
						c.i++;
					}
					first = false;
					continue;
				}
				c.i = first ? name_at : save;
				break;
			}
			c.i++; /* '=' */
			skip_ws(&c);
			char small[8];
			char *dst = small;
			size_t dsize = sizeof(small);
			bool keep = true;
			if (token_is(name, nl, "realm")) {
				dst = cur.realm, dsize = sizeof(cur.realm);
			} else if (token_is(name, nl, "service")) {
				dst = cur.service, dsize = sizeof(cur.service);
			} else if (token_is(name, nl, "scope")) {
				dst = cur.scope, dsize = sizeof(cur.scope);
			} else if (token_is(name, nl, "error")) {
				dst = cur.error, dsize = sizeof(cur.error);
			} else {
				keep = false;
			}
			if (keep) {
				int r = read_value(&c, dst, dsize);
				if (r < 0) {
					return r;
				}
			} else {
				/* An unknown parameter: parse and drop its value whatever its size.
				 */
				char *tmp = xmalloc(len + 1);
				int r = read_value(&c, tmp, len + 1);
				free(tmp);
				if (r < 0) {
					return r;
				}
			}
			first = false;
		}
		if (cur.scheme == OCI_AUTH_BEARER &&
		    (!have_best || best.scheme != OCI_AUTH_BEARER)) {
			best = cur;
			have_best = true;
		} else if (cur.scheme == OCI_AUTH_BASIC && !have_best) {
			best = cur;
			have_best = true;
		}
	}
	if (!have_best) {
		return -ENOENT;
	}
	if (best.scheme == OCI_AUTH_BEARER && !best.realm[0]) {
		return -EINVAL; /* a Bearer challenge without a realm cannot be answered */
	}
	*out = best;
	return 0;
}

/* ---------- token responses ---------- */

int oci_parse_token(const char *body, size_t len, char **token, int64_t *expires_in)
{
	json_error_t err;
	*token = NULL;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return -EINVAL;
	}
	json_t *t = json_object_get(j, "token");
	if (!json_is_string(t) || json_string_length(t) == 0) {
		t = json_object_get(j, "access_token");
	}
	int r = -EINVAL;
	if (json_is_string(t)) {
		const char *s = json_string_value(t);
		size_t n = json_string_length(t);
		bool ok = n > 0 && n <= OCI_TOKEN_MAX && strlen(s) == n;
		for (size_t i = 0; ok && i < n; i++) {
			ok = s[i] > 0x20 && s[i] < 0x7f;
		}
		if (ok) {
			int64_t exp = 60;
			json_t *e = json_object_get(j, "expires_in");
			if (json_is_integer(e) && json_integer_value(e) > 60) {
				exp = MIN((int64_t)json_integer_value(e), (int64_t)86400);
			}
			*token = xstrndup(s, n);
			*expires_in = exp;
			r = 0;
		}
	}
	json_decref(j);
	return r;
}

/* ---------- error bodies ---------- */

static void put_clean(struct cursor *o, char *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->i + 1 < o->n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[o->i++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch
							: (ch == '\n' || ch == '\t' ? ' ' : '?');
	}
	out[o->i] = '\0';
}

int oci_parse_errors(const char *body, size_t len, char *out, size_t size)
{
	json_error_t err;
	if (size == 0) {
		return -EINVAL;
	}
	out[0] = '\0';
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	json_t *errs = json_is_object(j) ? json_object_get(j, "errors") : NULL;
	if (!json_is_array(errs)) {
		json_decref(j);
		return -EINVAL;
	}
	/* Leave room for "..." when the text does not fit. */
	struct cursor o = { NULL, size > 4 ? size - 3 : size, 0 };
	size_t count = 0;
	bool cut = false;
	for (size_t i = 0; i < json_array_size(errs); i++) {
		json_t *e = json_array_get(errs, i);
		if (!json_is_object(e)) {
			continue;
		}
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (!code && !msg) {
			continue;
		}
		size_t need = (count ? 2 : 0) + (code ? strlen(code) : 0) + (code && msg ? 2 : 0) +
			      (msg ? strlen(msg) : 0);
		if (o.i + need >= o.n) {
			cut = true;
		}
		if (count) {
			put_clean(&o, out, "; ", 2);
		}
		if (code) {
			put_clean(&o, out, code, strlen(code));
		}
		if (code && msg) {
			put_clean(&o, out, ": ", 2);
		}
		if (msg) {
			put_clean(&o, out, msg, strlen(msg));
		}
		count++;
		if (cut) {
			break;
		}
	}
	if (cut && size > 4) {
		memcpy(out + o.i, "...", 4);
	}
	json_decref(j);
	return (int)MIN(count, (size_t)INT32_MAX);
}

/* ---------- URLs ---------- */

/* host[:port], host a name or an IPv4 address or [IPv6], port 1 to 5 digits. */
static bool authority_valid(const char *a, size_t n)
{
	size_t i = 0;
	if (n > 0 && a[0] == '[') {
		while (i < n && a[i] != ']') {
			if (i > 0 && !isxdigit((unsigned char)a[i]) && a[i] != ':' && a[i] != '.') {
				return false;
			}
			i++;
		}
		if (i >= n || i == 1) {
			return false;
		}
		i++;
	} else {
		while (i < n && a[i] != ':') {
			if (!isalnum((unsigned char)a[i]) && a[i] != '.' && a[i] != '-' &&
			    a[i] != '_') {
				return false;
			}
			i++;
		}
		if (i == 0) {
			return false;
		}
	}
	if (i == n) {
		return true;
	}
	if (a[i] != ':' || n - i - 1 == 0 || n - i - 1 > 5) {
		return false;
	}
	for (i++; i < n; i++) {
		if (!isdigit((unsigned char)a[i])) {
			return false;
		}
	}
	return true;
}

/* Length of "scheme://authority" at the start of an absolute URL, or 0. */
static size_t origin_len(const char *u, size_t n, bool *https)
{
	size_t skip;
	if (n >= 7 && strncasecmp(u, "http://", 7) == 0) {
		skip = 7;
		*https = false;
	} else if (n >= 8 && strncasecmp(u, "https://", 8) == 0) {
		skip = 8;
		*https = true;
	} else {
		return 0;
	}
	size_t i = skip;
	while (i < n && u[i] != '/' && u[i] != '?' && u[i] != '#') {
		if (u[i] == '@' || u[i] == '\\') {
			return 0; /* user information, or a backslash some parsers treat as '/' */
		}
		i++;
	}
	return authority_valid(u + skip, i - skip) ? i : 0;
}

static bool visible_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

int oci_resolve_location(const char *base, const char *loc, size_t len, char **out)
{
	bool bhttps, lhttps;
	size_t bn = strlen(base);
	size_t bo = origin_len(base, bn, &bhttps);
	*out = NULL;
	if (!bo || len == 0 || len > OCI_URL_MAX || !visible_ascii(loc, len)) {
		return -EINVAL;
	}
	/* Drop a fragment: it is never sent. */
	const char *hash = memchr(loc, '#', len);
	if (hash) {
		len = (size_t)(hash - loc);
		if (len == 0) {
			return -EINVAL;
		}
	}
	char *res = NULL;
	if (origin_len(loc, len, &lhttps)) {
		res = xstrndup(loc, len);
	} else if (len >= 2 && loc[0] == '/' && loc[1] == '/') {
		/* Scheme-relative: keep the base's scheme. */
		const char *scheme = bhttps ? "https:" : "http:";
		res = xasprintf("%s%.*s", scheme, (int)len, loc);
		if (!origin_len(res, strlen(res), &lhttps)) {
			free(res);
			return -EINVAL;
		}
	} else if (loc[0] == '/') {
		res = xasprintf("%.*s%.*s", (int)bo, base, (int)len, loc);
	} else {
		/* A relative reference: only plain paths (a scheme like "ftp:" is refused). */
		for (size_t i = 0; i < len && loc[i] != '/' && loc[i] != '?'; i++) {
			if (loc[i] == ':') {
				return -EINVAL;
			}
		}
		/* Relative to the base's directory (up to its last '/', before any query). */
		size_t q = bo;
		while (q < bn && base[q] != '?' && base[q] != '#') {
			q++;
		}
		size_t dir = q;
		while (dir > bo && base[dir - 1] != '/') {
			dir--;
		}
		if (dir == bo) {
			res = xasprintf("%.*s/%.*s", (int)bo, base, (int)len, loc);
		} else {
			res = xasprintf("%.*s%.*s", (int)dir, base, (int)len, loc);
		}
	}
	if (strlen(res) > OCI_URL_MAX) {
		free(res);
		return -EINVAL;
	}
	/* The scheme in lower case ("HTTP://" is the same URL). */
	for (char *p = res; *p && *p != ':'; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	*out = res;
	return 0;
}

int oci_url_origin(const char *url, char *out, size_t size)
{
	bool https;
	size_t n = strlen(url);
	size_t o = origin_len(url, n, &https);
	if (!o) {
		return -EINVAL;
	}
	size_t skip = https ? 8 : 7;
	const char *host = url + skip;
	size_t hl = o - skip;
	/* Is there a port? The last ':' after any IPv6 literal's ']'. */
	const char *close = memchr(host, ']', hl);
	const char *from = close ? close : host;
	const char *colon = memchr(from, ':', hl - (size_t)(from - host));
	int w;
	if (colon) {
		w = snprintf(out, size, "%s://%.*s", https ? "https" : "http", (int)hl, host);
	} else {
		w = snprintf(out, size, "%s://%.*s:%s", https ? "https" : "http", (int)hl, host,
			     https ? "443" : "80");
	}
	if (w < 0 || (size_t)w >= size) {
		return -EINVAL;
	}
	for (char *p = out; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	return 0;
}

bool oci_url_same_origin(const char *a, const char *b)
{
	char oa[512], ob[512];
	return oci_url_origin(a, oa, sizeof(oa)) == 0 && oci_url_origin(b, ob, sizeof(ob)) == 0 &&
	       strcmp(oa, ob) == 0;
}

/* ---------- Retry-After, Range ---------- */

int oci_parse_retry_after(const char *v, int64_t now, unsigned *seconds)
{
	uint64_t s;
	while (*v == ' ' || *v == '\t') {
		v++;
	}
	if (!*v || strlen(v) > 64) {
		return -EINVAL;
	}
	int r = parse_uint(v, UINT64_MAX, &s);
	if (r == -ERANGE) {
		s = OCI_RETRY_MAX_S;
	} else if (r < 0) {
		time_t t = curl_getdate(v, NULL);
		if (t == (time_t)-1) {
			return -EINVAL;
		}
		s = (int64_t)t > now ? (uint64_t)((int64_t)t - now) : 0;
	}
	*seconds = (unsigned)MIN(s, (uint64_t)OCI_RETRY_MAX_S);
	return 0;
}

int oci_parse_upload_range(const char *v, uint64_t *last)
{
	if (strncmp(v, "bytes=", 6) == 0) {
		v += 6;
	}
	if (v[0] != '0' || v[1] != '-') {
		return -EINVAL;
	}
	return parse_uint(v + 2, UINT64_MAX / 2, last) < 0 ? -EINVAL : 0;
}
