/*
 * config.c - load and check the server configuration.
 *
 * One pass over the YAML tree (base/ydoc) that collects every error it finds. Values that
 * are secrets can be given inline or as `<key>_file: PATH`; files are read here, once,
 * with the same rules as the secrets file of `runner run` (a regular file, yours, mode
 * 0600 or stricter). Relative paths are relative to the configuration file.
 */
#include "config.h"

#include "arena.h"
#include "diag.h"
#include "gate.h"
#include "secrets.h"
#include "util.h"
#include "ydoc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "banned.h"

#define SECRET_FILE_MAX (64u << 10)

struct loader {
	struct server_config *c;
	const char *file;
	char *dir; /* directory of the config file (absolute), for relative paths */
	struct diag_list *dl;
	bool inline_secret;
};

static const char *const forge_names[FORGE_COUNT] = { "github", "gitlab", "gitea" };
static const char *const level_names[] = { "debug", "info", "warn", "error" };

const char *forge_name(enum forge f)
{
	return forge_names[f];
}

int forge_from_name(const char *s, enum forge *out)
{
	for (size_t i = 0; i < FORGE_COUNT; i++) {
		if (str_eq(s, forge_names[i])) {
			*out = (enum forge)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level l)
{
	return level_names[l];
}

/* ---------- typed getters (each reports its own errors) ---------- */

static void err_at(struct loader *L, const struct ynode *n, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err_at(struct loader *L, const struct ynode *n, const char *hint, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(L->dl, L->file, n ? n->line : 0, n ? n->col : 0, hint, "%s", msg);
}

static bool check_keys(struct loader *L, const struct ynode *map, const char *const *keys, size_t n,
		       const char *where)
{
	if (!map) {
		return true;
	}
	if (map->kind != YNODE_MAP) {
		err_at(L, map, NULL, "%s must be a mapping, not %s", where, ynode_type_name(map));
		return false;
	}
	for (size_t i = 0; i < map->map.n; i++) {
		const struct ynode *k = map->map.v[i].key;
		bool known = false;
		for (size_t j = 0; j < n && !known; j++) {
			known = str_eq(k->scalar.s, keys[j]);
		}
		if (!known && ynode_is_null(map->map.v[i].value)) {
			/* A key without a value may be a value written without its key (`api: {
			 * url: U, TOKEN }`): not quoted, it may be a secret. */
			err_at(L, k, "write `key: value`; see docs/server.md",
			       "unknown key without a value in %s", where);
		} else if (!known) {
			/* Quoted only when it is a misspelt key: anything else may be a secret
			 * written in a key's place (`api: { ghp_...: token }`). */
			const char *near = closest_word(k->scalar.s, keys, n);
			char hint[160];
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near ? near : "");
			if (near) {
				err_at(L, k, hint, "unknown key '%.100s' in %s", k->scalar.s,
				       where);
			} else {
				err_at(L, k, "see docs/server.md",
				       "unknown key in %s (not quoted: it may be a value)", where);
			}
		}
	}
	return true;
}

static const char *get_str(struct loader *L, const struct ynode *map, const char *key)
{
	const struct ynode *v = map ? ynode_get(map, key) : NULL;
	if (!v || ynode_is_null(v)) {
		return NULL;
	}
	if (v->kind != YNODE_SCALAR || !*v->scalar.s) {
		err_at(L, v, NULL, "'%s' must be a non-empty string, not %s", key,
		       ynode_type_name(v));
		return NULL;
	}
	return v->scalar.s;
}

static void get_bool(struct loader *L, const struct ynode *map, const char *key, bool *out)
{
	const struct ynode *v = map ? ynode_get(map, key) : NULL;
	if (v && ynode_bool(v, out) < 0) {
		err_at(L, v, "write true or false", "'%s' must be a boolean", key);
	}
}

static void get_uint(struct loader *L, const struct ynode *map, const char *key, unsigned min,
		     unsigned max, unsigned *out)
{
	const struct ynode *v = map ? ynode_get(map, key) : NULL;
	int64_t i;
	if (!v) {
		return;
	}
	if (v->is_str || ynode_int(v, &i) < 0 || i < min || i > max) {
		err_at(L, v, NULL, "'%s' must be a number from %u to %u", key, min, max);
		return;
	}
	*out = (unsigned)i;
}

/*
 * A duration from min_ms to max_ms (the texts say them). Every duration of the server is
 * bounded both ways: 0 (or a few milliseconds) turns most of them into "no limit" or
 * "always fail", and a huge one into "no limit" too. why: the hint, what the bound
 * protects. The error points at the value (file:line:col).
 */
static void get_duration_in(struct loader *L, const struct ynode *map, const char *where,
			    const char *key, uint64_t min_ms, const char *min_text, uint64_t max_ms,
			    const char *max_text, const char *why, uint64_t *out)
{
	const char *s = get_str(L, map, key);
	uint64_t ms;
	if (!s) {
		return;
	}
	const struct ynode *v = ynode_get(map, key);
	if (parse_duration(s, UINT64_MAX / 2, &ms) < 0) {
		err_at(L, v, "write it with a unit: 500ms, 30s, 5m, 2h",
		       "'%s%s': invalid duration '%.40s'", where, key, s);
		return;
	}
	if (ms < min_ms || ms > max_ms) {
		err_at(L, v, why, "'%s%s' must be from %s to %s, not '%.40s'", where, key, min_text,
		       max_text, s);
		return;
	}
	*out = ms;
}

/* A retention period: a duration from min_ms up to CONFIG_RETAIN_MAX_MS, or `off`. */
static void get_retention(struct loader *L, const struct ynode *map, const char *key,
			  uint64_t min_ms, const char *min_text, uint64_t *out)
{
	const char *s = get_str(L, map, key);
	uint64_t ms;
	if (!s) {
		return;
	}
	if (str_eq(s, "off")) {
		*out = 0;
		return;
	}
	if (parse_duration(s, CONFIG_RETAIN_MAX_MS, &ms) < 0 || ms == 0) {
		err_at(L, ynode_get(map, key), "for example 90d, 12h, or off to keep forever",
		       "retention.%s: invalid period '%.40s' (at most 3650d)", key, s);
		return;
	}
	if (ms < min_ms) {
		err_at(L, ynode_get(map, key),
		       str_eq(key, "runs") ? "a run is kept at least a day (or off: for ever)"
					   : "a redelivery whose entry was pruned runs again",
		       "retention.%s: at least %s", key, min_text);
		return;
	}
	*out = ms;
}

static void get_size(struct loader *L, const struct ynode *map, const char *key, uint64_t min,
		     uint64_t max, size_t *out)
{
	const struct ynode *v = map ? ynode_get(map, key) : NULL;
	uint64_t n;
	if (!v) {
		return;
	}
	if (v->kind != YNODE_SCALAR || parse_size(v->scalar.s, max, true, &n) < 0 || n < min ||
	    n == 0) {
		char lo[32];
		if (min >= (1u << 20)) {
			snprintf(lo, sizeof(lo), "%llu MiB", (unsigned long long)(min >> 20));
		} else {
			snprintf(lo, sizeof(lo), "%llu KiB", (unsigned long long)(min >> 10));
		}
		err_at(L, v, "for example 25MiB, 512KiB or a number of bytes",
		       "'%s': invalid size (from %s to %llu MiB)", key, lo,
		       (unsigned long long)(max >> 20));
		return;
	}
	*out = (size_t)n;
}

static const char *abs_path(struct loader *L, const char *p)
{
	if (!p || p[0] == '/') {
		return p;
	}
	return arena_printf(L->c->arena, "%s/%s", L->dir, p);
}

/* Read a secret from a file that only its owner can read. */
static const char *read_secret_file(struct loader *L, const struct ynode *at, const char *path)
{
	/* O_NONBLOCK: a named pipe is refused below, not waited on for a writer. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		err_at(L, at, NULL, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char why[200];
	if (check_private_file(&st, why, sizeof(why)) < 0) {
		char hint[300];
		snprintf(hint, sizeof(hint), "make it yours and run: chmod 600 %s", path);
		err_at(L, at, hint,
		       "refusing %s: a secret file must be a regular file owned by you with mode "
		       "0600 (%s)",
		       path, why);
		return NULL;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_fd_capped(fd, SECRET_FILE_MAX, &buf, &len) < 0) {
		err_at(L, at, NULL, "cannot read %s (at most 64 KiB)", path);
		return NULL;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) {
		buf[--len] = '\0';
	}
	const char *v = arena_strndup(L->c->arena, buf, len);
	explicit_bzero(buf, len);
	if (len == 0 || memchr(v, '\0', len) != NULL) {
		err_at(L, at, NULL, "%s is empty", path);
		return NULL;
	}
	return v;
}

/* `key: value` or `key_file: PATH`, not both. */
static const char *get_secret(struct loader *L, const struct ynode *map, const char *key)
{
	char fkey[64];
	snprintf(fkey, sizeof(fkey), "%s_file", key);
	const char *inl = get_str(L, map, key);
	const char *file = get_str(L, map, fkey);
	if (inl && file) {
		err_at(L, ynode_get(map, fkey), NULL, "give '%s' or '%s', not both", key, fkey);
		return NULL;
	}
	if (inl) {
		L->inline_secret = true;
		return inl;
	}
	if (file) {
		return read_secret_file(L, ynode_get(map, fkey), abs_path(L, file));
	}
	return NULL;
}

/* An end of a rotation: YYYY-MM-DD (through that day, UTC) or YYYY-MM-DDTHH:MM:SSZ, as
 * seconds since the epoch (excluded). */
static int parse_until(const char *s, int64_t *until)
{
	char day[11];
	int64_t d;
	size_t n = s ? strlen(s) : 0;
	if (n != 10 && n != 20) {
		return -EINVAL;
	}
	memcpy(day, s, 10);
	day[10] = '\0';
	if (gate_parse_date(day, &d) < 0) {
		return -EINVAL;
	}
	if (n == 10) {
		*until = (d + 1) * 86400;
		return 0;
	}
	int v[3];
	for (int i = 0; i < 3; i++) {
		const char *p = s + 11 + 3 * i;
		if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9')) {
			return -EINVAL;
		}
		v[i] = (p[0] - '0') * 10 + (p[1] - '0');
	}
	if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || v[0] > 23 ||
	    v[1] > 59 || v[2] > 59) {
		return -EINVAL;
	}
	*until = d * 86400 + v[0] * 3600 + v[1] * 60 + v[2];
	return 0;
}

/* A rotation's previous value: `previous_<key>` (or `previous_<key>_file`) with
 * `previous_<key>_expires`, the one clients may still use, accepted until then. A rotation
 * has an end: the expiry is required and at most CONFIG_MAX_ROTATION_DAYS away; one that
 * has passed is a warning (nothing accepts it any more). what names it in messages ("the
 * webhook secret of 'acme/app'"); current is the value in force (NULL: unset). */
static void load_previous(struct loader *L, const struct ynode *m, const char *key,
			  const char *what, const char *current, struct config_previous *out)
{
	char pkey[64], fkey[64], ekey[64];
	snprintf(pkey, sizeof(pkey), "previous_%s", key);
	snprintf(fkey, sizeof(fkey), "previous_%s_file", key);
	snprintf(ekey, sizeof(ekey), "previous_%s_expires", key);
	const struct ynode *at = ynode_get(m, pkey);
	if (!at) {
		at = ynode_get(m, fkey);
	}
	const struct ynode *exp_at = ynode_get(m, ekey);
	const char *exp = get_str(L, m, ekey);
	const char *prev = get_secret(L, m, pkey);
	if (!at) {
		if (exp_at) {
			err_at(L, exp_at, "remove it, or add the value it ends",
			       "'%s' without a '%s'", ekey, pkey);
		}
		return;
	}
	if (!prev) {
		return; /* said: both forms, or a file that cannot be read */
	}
	int64_t until;
	if (!exp_at) {
		char hint[200];
		snprintf(hint, sizeof(hint),
			 "add %s: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), when every client will "
			 "have the new value",
			 ekey);
		err_at(L, at, hint, "the previous %s needs an end ('%s')", what, ekey);
		return;
	}
	if (!exp || parse_until(exp, &until) < 0) {
		err_at(L, exp_at,
		       "write YYYY-MM-DD (through that day, UTC) or YYYY-MM-DDTHH:MM:SSZ",
		       "invalid '%s'", ekey);
		return;
	}
	if (strlen(prev) < CONFIG_MIN_SECRET) {
		err_at(L, at, NULL, "the previous %s is shorter than %d characters", what,
		       CONFIG_MIN_SECRET);
		return;
	}
	if (!current) {
		err_at(L, at, NULL, "a previous %s without a current one", what);
		return;
	}
	if (strcmp(prev, current) == 0) {
		err_at(L, at, "put the new value in the current key and the old one here",
		       "the previous %s is its current one", what);
		return;
	}
	int64_t now = time(NULL);
	if (until > now + CONFIG_MAX_ROTATION_DAYS * 86400) {
		err_at(L, exp_at, "a rotation takes as long as updating its clients",
		       "'%s' is more than %d days away", ekey, CONFIG_MAX_ROTATION_DAYS);
		return;
	}
	if (until <= now) {
		char hint[120];
		snprintf(hint, sizeof(hint), "remove %s once every client uses the new value",
			 pkey);
		diag_add(L->dl, DIAG_WARNING, L->file, exp_at->line, exp_at->col, hint,
			 "the previous %s expired (%s) and is no longer accepted", what, exp);
	}
	*out = (struct config_previous){ .value = prev, .expires = exp, .until = until };
}

bool config_previous_valid(const struct config_previous *p, int64_t now)
{
	return p->value && now < p->until;
}

/* ---------- sections ---------- */

static void load_listen(struct loader *L, const struct ynode *root)
{
	const char *s = get_str(L, root, "listen");
	struct server_config *c = L->c;
	if (!s) {
		return;
	}
	const char *colon = strrchr(s, ':');
	uint64_t port;
	if (!colon || parse_uint(colon + 1, 65535, &port) < 0) {
		err_at(L, ynode_get(root, "listen"), "for example 127.0.0.1:8080 or [::1]:8080",
		       "listen: '%.100s' is not HOST:PORT", s);
		return;
	}
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		c->listen_host = arena_strndup(c->arena, s + 1, hl - 2);
	} else {
		c->listen_host = arena_strndup(c->arena, s, hl);
	}
	if (!*c->listen_host) {
		c->listen_host = "0.0.0.0";
	}
	c->listen_port = (unsigned)port;
}

/* A numeric loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z). Names, even
 * "localhost", are not: what they resolve to is not the configuration's to promise. */
static bool is_loopback(const char *host)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, host, a) == 1) {
		return a[0] == 127;
	}
	if (inet_pton(AF_INET6, host, a) != 1) {
		return false;
	}
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char one[16] = { [15] = 1 };
	return memcmp(a, one, 16) == 0 || (memcmp(a, v4mapped, 12) == 0 && a[12] == 127);
}

/* access: who may read runs, logs and metrics. */
static void load_access(struct loader *L, const struct ynode *root)
{
	static const char *const keys[] = { "token",
					    "token_file",
					    "previous_token",
					    "previous_token_file",
					    "previous_token_expires",
					    "public",
					    "public_metrics" };
	struct server_config *c = L->c;
	const struct ynode *ac = ynode_get(root, "access");
	if (check_keys(L, ac, keys, ARRAY_SIZE(keys), "access") && ac) {
		c->access_token = get_secret(L, ac, "token");
		get_bool(L, ac, "public", &c->access_public);
		get_bool(L, ac, "public_metrics", &c->public_metrics);
		const struct ynode *tn = ynode_get(ac, "token") ? ynode_get(ac, "token")
								: ynode_get(ac, "token_file");
		if (c->access_token && strlen(c->access_token) < CONFIG_MIN_SECRET) {
			err_at(L, tn, "generate one: openssl rand -hex 32",
			       "the access token is shorter than %d characters", CONFIG_MIN_SECRET);
		}
		load_previous(L, ac, "token", "access token", c->access_token,
			      &c->previous_access_token);
		if (c->access_token && c->access_public) {
			err_at(L, ynode_get(ac, "public"),
			       "remove `public: true` to require the token",
			       "access: give a token or `public: true`, not both");
		}
	}
	if (c->access_token || c->access_public || !c->listen_host || is_loopback(c->listen_host)) {
		return;
	}
	const struct ynode *at = ynode_get(root, "listen") ? ynode_get(root, "listen") : root;
	err_at(L, at,
	       "set access.token_file (openssl rand -hex 32), listen on 127.0.0.1 behind a "
	       "proxy, or set access.public: true if anyone who reaches the port may read "
	       "run logs",
	       "listen: '%.100s' is not a loopback address and no access token is set: the "
	       "API, pages and logs would be open to the network",
	       c->listen_host);
}

static unsigned parse_events(struct loader *L, const struct ynode *v)
{
	static const char *const names[] = { "push", "tag", "pull_request" };
	unsigned ev = 0;
	if (v->kind != YNODE_SEQ) {
		err_at(L, v, "for example [push, tag, pull_request]", "'events' must be a list");
		return 0;
	}
	for (size_t i = 0; i < v->seq.n; i++) {
		const char *s = ynode_str(v->seq.v[i]);
		size_t k = 0;
		while (k < ARRAY_SIZE(names) && !str_eq(s, names[k])) {
			k++;
		}
		if (k == ARRAY_SIZE(names)) {
			err_at(L, v->seq.v[i], "use push, tag or pull_request",
			       "unknown event '%.40s'", s ? s : "");
			continue;
		}
		ev |= 1u << k;
	}
	return ev;
}

static bool valid_repo_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || !strchr(s, '/')) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("-_./", *p)) {
			return false;
		}
		if (p[0] == '.' && p[1] == '.') {
			return false;
		}
	}
	return true;
}

/* ssh://host/path or scp-like user@host:path (not a local path, not another scheme). */
/* Whether a URL's user name and password read the same to every parser (ours, which end
 * the userinfo at the last '@' before the first '/', and libgit2's and curl's): none of
 * '/', '?', '#' or a second '@' in them, and no '@' after the host, where a '/' in a
 * password would otherwise put it. */
static bool userinfo_unambiguous(const char *u)
{
	const char *sep = strstr(u, "://");
	if (!sep) {
		return true;
	}
	const char *auth = sep + 3;
	size_t al = strcspn(auth, "/");
	if (strchr(auth + al, '@')) {
		return false;
	}
	const char *at = memchr(auth, '@', al);
	if (!at) {
		return true;
	}
	size_t ul = (size_t)(at - auth);
	return !memchr(at + 1, '@', al - ul - 1) && !memchr(auth, '?', ul) &&
	       !memchr(auth, '#', ul);
}

/*
 * A URL fetched without encryption: http:// or git:// (any case). *has_userinfo says whether
 * it carries a user name or password (an http user name can be a token), host (at most
 * size bytes) receives its host, without the brackets of an IPv6 address.
 */
static bool is_plain_url(const char *u, bool *has_userinfo, char *host, size_t size)
{
	size_t scheme = strncasecmp(u, "http://", 7) == 0  ? 7
			: strncasecmp(u, "git://", 6) == 0 ? 6
							   : 0;
	if (!scheme) {
		return false;
	}
	const char *auth = u + scheme;
	size_t al = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + al; p++) {
		at = *p == '@' ? p : at;
	}
	*has_userinfo = at != NULL;
	const char *h = at ? at + 1 : auth;
	size_t hl = (size_t)(auth + al - h);
	if (hl > 0 && h[0] == '[') {
		const char *close = memchr(h, ']', hl);
		hl = close ? (size_t)(close - h - 1) : 0;
		h++;
	} else {
		const char *colon = memchr(h, ':', hl);
		hl = colon ? (size_t)(colon - h) : hl;
	}
	snprintf(host, size, "%.*s", (int)MIN(hl, size - 1), h);
	return true;
}

/*
 * The host of a plain clone URL that credentials may be sent to: a loopback address, or the
 * name `localhost` itself (any case), which is what git and curl users write for a server
 * on this machine. RFC 6761 reserves it for loopback, and the system resolver answers it
 * from /etc/hosts (curl does not even ask); other names, `*.localhost` and `localhost.`
 * too, are not taken: a resolver that sends them to DNS can be told anything.
 */
static bool is_local_host(const char *host)
{
	return is_loopback(host) || strcasecmp(host, "localhost") == 0;
}

/*
 * A clone URL without encryption (http://, git://) to a host that is not a loopback
 * address (numeric as for `listen`, or the name localhost: is_local_host()) must not carry
 * credentials, in the URL or in `credentials`: they would be readable by anyone on the path.
 * Without them it is allowed, with a warning: what runs is still checked against the commit id of
 * the signed webhook, but the code is readable on the way. Not quoted: the URL holds the
 * credentials.
 */
static void check_plain_url(struct loader *L, const struct ynode *m, const struct repo_config *r)
{
	bool userinfo = false;
	char host[256];
	if (!r->clone_url || !is_plain_url(r->clone_url, &userinfo, host, sizeof(host)) ||
	    is_local_host(host)) {
		return;
	}
	const char *scheme = strncasecmp(r->clone_url, "git://", 6) == 0 ? "git://" : "http://";
	const struct ynode *at = ynode_get(m, "clone_url");
	if (userinfo || r->token) {
		err_at(L, at,
		       "use https:// (or ssh:// with credentials.ssh_host_key); a plain URL may "
		       "carry credentials only to a loopback address (127.0.0.1, [::1], localhost)",
		       "the credentials of '%s' would be sent without encryption: its clone_url "
		       "is %s to a host that is not a loopback address",
		       r->name ? r->name : "?", scheme);
		return;
	}
	diag_add(L->dl, DIAG_WARNING, L->file, at->line, at->col,
		 "use https:// if the host offers it",
		 "'%s' is fetched without encryption (%s): its code is readable on the way (what "
		 "runs is still checked against the commit id of the signed webhook)",
		 r->name ? r->name : "?", scheme);
}

static bool is_ssh_url(const char *u)
{
	if (str_has_prefix(u, "ssh://") || str_has_prefix(u, "git+ssh://") ||
	    str_has_prefix(u, "ssh+git://")) {
		return true;
	}
	const char *colon = strchr(u, ':');
	const char *slash = strchr(u, '/');
	return u[0] != '/' && colon && !strstr(u, "://") && (!slash || colon < slash);
}

char *config_repo_key(enum forge f, const char *name)
{
	char *k = xasprintf("%s-%s", forge_name(f), name);
	for (char *p = k; *p; p++) {
		if (*p == '/') {
			*p = '+';
		}
	}
	return k;
}

static const char *repo_key(struct arena *a, enum forge f, const char *name)
{
	_cleanup_free_ char *k = config_repo_key(f, name);
	return arena_strdup(a, k);
}

static void load_secrets(struct loader *L, struct repo_config *r, const struct ynode *m)
{
	const struct ynode *sec = ynode_get(m, "secrets");
	const char *sfile = get_str(L, m, "secrets_file");
	/* A scratch store checks names and values the way runs will use them. */
	struct secret_store *check = secrets_new();
	if (sec && sec->kind != YNODE_MAP) {
		err_at(L, sec, NULL, "'secrets' must be a mapping of names to values");
	} else if (sec) {
		r->secrets = arena_alloc_array(L->c->arena, sec->map.n + 1, sizeof(*r->secrets));
		for (size_t i = 0; i < sec->map.n; i++) {
			const struct ynode *k = sec->map.v[i].key, *v = sec->map.v[i].value;
			const char *val = ynode_str(v);
			L->inline_secret = true;
			if (ynode_is_null(v)) {
				/* Not quoted: a name without a value may be a value without its
				 * name. */
				err_at(L, k, "write `NAME: value`", "a secret without a value");
				continue;
			}
			if (!secrets_valid_name(k->scalar.s)) {
				/* Not quoted: it may be the value, written as the name. */
				err_at(L, k,
				       "write `NAME: value`; a name has letters, digits and '_', "
				       "starting with a letter",
				       "invalid secret name (not quoted: it may be a value)");
				continue;
			}
			if (!val || secrets_put(check, k->scalar.s, val, L->file) < 0) {
				err_at(L, v ? v : k,
				       "a value must be a string of 4 characters or more",
				       "invalid value for secret '%.64s'", k->scalar.s);
				continue;
			}
			r->secrets[r->n_secrets++] = (struct config_secret){ k->scalar.s, val };
		}
	}
	if (sfile) {
		r->secrets_file = abs_path(L, sfile);
		secrets_load_file(check, r->secrets_file, true, L->dl);
	}
	secrets_free(check);
}

/* Findings of the history scan accepted by whoever runs the server (gate.h's allow
 * entries, without paths). */
static void load_history_allow(struct loader *L, struct repo_config *r, const struct ynode *m)
{
	const struct ynode *ha = ynode_get(m, "history_allow");
	if (!ha || gate_allow_check(ha, "history_allow", L->file, false, L->dl) < 0) {
		return;
	}
	r->history_allow = arena_alloc_array(L->c->arena, ha->seq.n + 1, sizeof(*r->history_allow));
	for (size_t i = 0; i < ha->seq.n; i++) {
		const struct ynode *e = ha->seq.v[i];
		r->history_allow[i] = (struct config_allow){
			.id = ynode_str(ynode_get(e, "id")),
			.fingerprint = ynode_str(ynode_get(e, "fingerprint")),
			.reason = ynode_str(ynode_get(e, "reason")),
			.expires = ynode_str(ynode_get(e, "expires")),
		};
		/* Valid, and broad: every finding of the rule, in every commit, until it
		 * expires, also a real key pushed tomorrow. */
		const struct ynode *id = ynode_get(e, "id");
		if (id) {
			diag_add(
				L->dl, DIAG_WARNING, L->file, id->line, id->col,
				"accept the findings one by one, by the fingerprint a blocked run "
				"gives",
				"this history_allow entry of '%s' accepts every finding of rule "
				"'%.100s' in every commit until it expires, a key pushed later too",
				r->name, ynode_str(id));
		}
	}
	r->n_history_allow = ha->seq.n;
}

size_t repo_webhook_secrets(const struct repo_config *r, int64_t now, const char *out[2])
{
	size_t n = 0;
	out[n++] = r->secret;
	if (config_previous_valid(&r->previous_secret, now)) {
		out[n++] = r->previous_secret.value;
	}
	return n;
}

/* public_url: the links of statuses and notifications are "<public_url>/runs/<id>", so it
 * is an http(s) URL with a host, kept without trailing slashes ("//runs/<id>" is not a page
 * of the server). Not quoted in errors: it may carry a user name and password. */
static void load_public_url(struct loader *L, const struct ynode *root)
{
	const char *u = get_str(L, root, "public_url");
	if (!u) {
		return;
	}
	size_t n = strlen(u);
	while (n > 0 && u[n - 1] == '/') {
		n--;
	}
	size_t scheme = strncasecmp(u, "https://", 8) == 0  ? 8
			: strncasecmp(u, "http://", 7) == 0 ? 7
							    : 0;
	if (!scheme || n <= scheme || u[scheme] == '/') {
		err_at(L, ynode_get(root, "public_url"),
		       "the address the server's pages are reached at, e.g. https://ci.example.com",
		       "'public_url' must be an http:// or https:// URL with a host");
		return;
	}
	L->c->public_url = arena_strndup(L->c->arena, u, n);
}

static void load_repo(struct loader *L, const struct ynode *m, struct repo_config *r)
{
	static const char *const keys[] = { "name",
					    "forge",
					    "secret",
					    "secret_file",
					    "previous_secret",
					    "previous_secret_file",
					    "previous_secret_expires",
					    "clone_url",
					    "pipeline",
					    "events",
					    "supersede",
					    "credentials",
					    "api",
					    "secrets",
					    "secrets_file",
					    "history_allow" };
	static const char *const cred_keys[] = {
		"username",	  "token",	    "token_file",	   "ssh_key",
		"ssh_public_key", "ssh_passphrase", "ssh_passphrase_file", "ssh_host_key"
	};
	static const char *const api_keys[] = { "url", "token", "token_file", "context" };
	struct server_config *c = L->c;
	if (!check_keys(L, m, keys, ARRAY_SIZE(keys), "a repository")) {
		return;
	}
	r->supersede = c->supersede;
	r->events = EVENTS_PUSH | EVENTS_TAG | EVENTS_PULL_REQUEST;
	r->name = get_str(L, m, "name");
	if (!r->name) {
		err_at(L, m, "the repository as the forge names it, e.g. acme/webapp",
		       "a repository needs a 'name'");
	} else if (!valid_repo_name(r->name)) {
		err_at(L, ynode_get(m, "name"), "for example acme/webapp or group/subgroup/project",
		       "invalid repository name '%.100s'", r->name);
	}
	const char *forge = get_str(L, m, "forge");
	if (!forge || forge_from_name(forge, &r->forge) < 0) {
		err_at(L, forge ? ynode_get(m, "forge") : m, "use github, gitlab or gitea",
		       forge ? "unknown forge '%.40s'" : "a repository needs a 'forge'%.0s",
		       forge ? forge : "");
	}
	r->key = repo_key(c->arena, r->forge, r->name ? r->name : "");
	size_t errors = L->dl->errors;
	r->secret = get_secret(L, m, "secret");
	if (!r->secret && L->dl->errors > errors) {
		/* Said at the key (a secret file missing, empty or readable by others): the
		 * repository does name a secret, and "has no webhook secret" on top of it
		 * sent the reader to the wrong line. */
	} else if (!r->secret) {
		err_at(L, m,
		       "set `secret` or `secret_file`: the same value as in the forge's webhook",
		       "repository '%s' has no webhook secret; deliveries for it would be refused",
		       r->name ? r->name : "?");
	} else if (strlen(r->secret) < CONFIG_MIN_SECRET) {
		err_at(L,
		       ynode_get(m, "secret") ? ynode_get(m, "secret")
					      : ynode_get(m, "secret_file"),
		       "generate one: openssl rand -hex 32",
		       "the webhook secret of '%s' is shorter than %d characters",
		       r->name ? r->name : "?", CONFIG_MIN_SECRET);
	}
	char what[200];
	snprintf(what, sizeof(what), "webhook secret of '%.100s'", r->name ? r->name : "?");
	load_previous(L, m, "secret", what, r->secret, &r->previous_secret);
	r->clone_url = get_str(L, m, "clone_url");
	if (!r->clone_url) {
		err_at(L, m, "the URL the server fetches from (payloads are not trusted for it)",
		       "repository '%s' needs a 'clone_url'", r->name ? r->name : "?");
	} else if (!userinfo_unambiguous(r->clone_url)) {
		/* Not quoted: it holds a password. */
		err_at(L, ynode_get(m, "clone_url"),
		       "percent-encode '/', '?', '#' and '@' in the user name and password (%2F, "
		       "%3F, %23, %40), and '@' in the path (%40)",
		       "the clone_url of '%s' cannot be read one way only: its credentials could "
		       "be taken for part of the host or path (and shown where the URL is shown)",
		       r->name ? r->name : "?");
	}
	r->pipeline = get_str(L, m, "pipeline");
	if (r->pipeline && (r->pipeline[0] == '/' || strstr(r->pipeline, ".."))) {
		err_at(L, ynode_get(m, "pipeline"), NULL,
		       "'pipeline' is a path inside the repository, without '..'");
	}
	const struct ynode *ev = ynode_get(m, "events");
	if (ev) {
		r->events = parse_events(L, ev);
	}
	get_bool(L, m, "supersede", &r->supersede);
	const struct ynode *cred = ynode_get(m, "credentials");
	if (check_keys(L, cred, cred_keys, ARRAY_SIZE(cred_keys), "credentials") && cred) {
		r->username = get_str(L, cred, "username");
		r->token = get_secret(L, cred, "token");
		r->ssh_key = abs_path(L, get_str(L, cred, "ssh_key"));
		r->ssh_public_key = abs_path(L, get_str(L, cred, "ssh_public_key"));
		r->ssh_passphrase = get_secret(L, cred, "ssh_passphrase");
		r->ssh_host_key = get_str(L, cred, "ssh_host_key");
		if (r->token && r->ssh_key) {
			err_at(L, cred, NULL, "give an HTTPS token or an SSH key, not both");
		}
		if (r->ssh_host_key && (!str_has_prefix(r->ssh_host_key, "SHA256:") ||
					strlen(r->ssh_host_key) < 7 + 43)) {
			err_at(L, ynode_get(cred, "ssh_host_key"),
			       "as `ssh-keyscan HOST | ssh-keygen -lf -` prints it",
			       "ssh_host_key must be a SHA256:... fingerprint");
		}
	}
	check_plain_url(L, m, r);
	/* SSH without a known host key would trust whoever answers: refuse it. */
	if (r->clone_url && is_ssh_url(r->clone_url) && !r->ssh_host_key) {
		err_at(L, m, "set credentials.ssh_host_key to the server's SHA256 fingerprint",
		       "repository '%s' is fetched over SSH but no host key is configured",
		       r->name ? r->name : "?");
	}
	const struct ynode *api = ynode_get(m, "api");
	if (check_keys(L, api, api_keys, ARRAY_SIZE(api_keys), "api") && api) {
		r->api_url = get_str(L, api, "url");
		r->api_token = get_secret(L, api, "token");
		r->status_context = get_str(L, api, "context");
	}
	if (!r->api_url) {
		r->api_url = r->forge == FORGE_GITHUB	? "https://api.github.com"
			     : r->forge == FORGE_GITLAB ? "https://gitlab.com"
							: NULL;
	}
	if (!r->status_context) {
		r->status_context = "runner";
	}
	load_secrets(L, r, m);
	load_history_allow(L, r, m);
}

static void load_repos(struct loader *L, const struct ynode *root)
{
	struct server_config *c = L->c;
	const struct ynode *rs = ynode_get(root, "repositories");
	if (!rs || rs->kind != YNODE_SEQ || rs->seq.n == 0) {
		err_at(L, rs ? rs : root, "list the repositories this server runs pipelines for",
		       "'repositories' must be a non-empty list");
		return;
	}
	if (rs->seq.n > CONFIG_MAX_REPOS) {
		err_at(L, rs, NULL, "at most %d repositories", CONFIG_MAX_REPOS);
		return;
	}
	c->repos = arena_alloc_array(c->arena, rs->seq.n, sizeof(struct repo_config));
	if (!c->repos) {
		err_at(L, rs, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < rs->seq.n; i++) {
		load_repo(L, rs->seq.v[i], &c->repos[c->n_repos]);
		const struct repo_config *r = &c->repos[c->n_repos];
		c->n_repos++;
		for (size_t k = 0; r->name && k + 1 < c->n_repos; k++) {
			if (c->repos[k].forge == r->forge && c->repos[k].name &&
			    strcasecmp(c->repos[k].name, r->name) == 0) {
				err_at(L, rs->seq.v[i], NULL,
				       "repository '%s' (%s) is listed twice", r->name,
				       forge_name(r->forge));
			}
		}
	}
}

static void load_root(struct loader *L, const struct ynode *root)
{
	static const char *const keys[] = {
		"listen",    "data_dir",       "public_url",	"log_level",
		"limits",    "shutdown_grace", "supersede",	"keep_failed_workspaces",
		"paused",    "untrusted",      "notifications", "retry",
		"retention", "access",	       "repositories"
	};
	static const char *const limit_keys[] = {
		"max_body",	      "max_inflight",	 "concurrency", "jobs_per_run",
		"max_attempts",	      "max_queued",	 "connections", "connections_per_ip",
		"connection_timeout", "request_timeout", "run_timeout", "min_free"
	};
	static const char *const untrusted_keys[] = { "run", "concurrency", "max_queued" };
	static const char *const notify_keys[] = { "security" };
	static const char *const sec_keys[] = { "url", "url_file" };
	static const char *const retry_keys[] = { "attempts", "backoff", "max_backoff", "timeout" };
	static const char *const retention_keys[] = { "runs", "deliveries" };
	struct server_config *c = L->c;
	if (!root || root->kind != YNODE_MAP) {
		err_at(L, root, "see docs/server.md for an example",
		       "the configuration must be a mapping");
		return;
	}
	check_keys(L, root, keys, ARRAY_SIZE(keys), "the configuration");
	load_listen(L, root);
	const char *dd = get_str(L, root, "data_dir");
	if (!dd) {
		err_at(L, root, "where the queue, mirrors and run records live",
		       "'data_dir' is required");
	} else {
		c->data_dir = abs_path(L, dd);
	}
	load_public_url(L, root);
	const char *lvl = get_str(L, root, "log_level");
	if (lvl) {
		size_t k = 0;
		while (k < ARRAY_SIZE(level_names) && !str_eq(lvl, level_names[k])) {
			k++;
		}
		if (k == ARRAY_SIZE(level_names)) {
			err_at(L, ynode_get(root, "log_level"), "use debug, info, warn or error",
			       "unknown log level '%.40s'", lvl);
		} else {
			c->log_level = (enum log_level)k;
		}
	}
	const struct ynode *lim = ynode_get(root, "limits");
	if (check_keys(L, lim, limit_keys, ARRAY_SIZE(limit_keys), "limits") && lim) {
		get_size(L, lim, "max_body", CONFIG_MAX_BODY_MIN, CONFIG_MAX_BODY_MAX,
			 &c->max_body);
		get_size(L, lim, "max_inflight", CONFIG_MAX_BODY_MIN, CONFIG_MAX_INFLIGHT_MAX,
			 &c->max_inflight);
		get_uint(L, lim, "concurrency", 1, 1024, &c->concurrency);
		get_uint(L, lim, "jobs_per_run", 1, 1024, &c->jobs_per_run);
		get_uint(L, lim, "max_attempts", 1, 100, &c->max_attempts);
		get_uint(L, lim, "max_queued", 1, CONFIG_MAX_QUEUED_MAX, &c->max_queued);
		get_uint(L, lim, "connections", 1, 100000, &c->max_connections);
		c->max_connections_per_ip = MAX(1u, c->max_connections / 4);
		get_uint(L, lim, "connections_per_ip", 1, 100000, &c->max_connections_per_ip);
		/* 0 is libmicrohttpd's "no timeout": an idle connection would stay for ever. */
		get_duration_in(L, lim, "limits.", "connection_timeout", 1000, "1s", 3600000, "1h",
				"idle connections are closed after it (the default is 30s)",
				&c->connection_timeout_ms);
		get_duration_in(L, lim, "limits.", "request_timeout", 1000, "1s", 3600000, "1h",
				"give a whole request at least 1s (the default is 60s)",
				&c->request_timeout_ms);
		/* 0 would turn the limit off: a run could hold a slot for ever. */
		get_duration_in(L, lim, "limits.", "run_timeout", 1000, "1s", 7ull * 86400000, "7d",
				"give a run at least 1s (the default is 6h); there is no way to "
				"turn the limit off",
				&c->max_run_ms);
		get_size(L, lim, "min_free", 1ull << 20, 1ull << 50, &c->min_free);
	}
	get_duration_in(L, root, "", "shutdown_grace", 0, "0s", CONFIG_SHUTDOWN_GRACE_MAX_MS, "1h",
			"running runs are stopped after it (the default is 30s)",
			&c->shutdown_grace_ms);
	get_bool(L, root, "supersede", &c->supersede);
	get_bool(L, root, "keep_failed_workspaces", &c->keep_failed_workspaces);
	get_bool(L, root, "paused", &c->paused);
	const struct ynode *un = ynode_get(root, "untrusted");
	if (check_keys(L, un, untrusted_keys, ARRAY_SIZE(untrusted_keys), "untrusted") && un) {
		get_bool(L, un, "run", &c->untrusted_run);
		get_uint(L, un, "concurrency", 1, 1024, &c->untrusted_concurrency);
		get_uint(L, un, "max_queued", 1, CONFIG_MAX_QUEUED_MAX, &c->untrusted_max_queued);
	}
	const struct ynode *no = ynode_get(root, "notifications");
	if (check_keys(L, no, notify_keys, ARRAY_SIZE(notify_keys), "notifications") && no) {
		const struct ynode *sec = ynode_get(no, "security");
		if (check_keys(L, sec, sec_keys, ARRAY_SIZE(sec_keys), "notifications.security") &&
		    sec) {
			c->notify_url = get_secret(L, sec, "url");
		}
	}
	const struct ynode *re = ynode_get(root, "retry");
	if (check_keys(L, re, retry_keys, ARRAY_SIZE(retry_keys), "retry") && re) {
		get_uint(L, re, "attempts", 1, 100, &c->retry_attempts);
		/* 0 would retry a failing forge at once, every attempt in a burst. */
		get_duration_in(L, re, "retry.", "backoff", 10, "10ms", 3600000, "1h",
				"the wait before the first retry, doubled each time (the default "
				"is 1s)",
				&c->retry_backoff_ms);
		get_duration_in(L, re, "retry.", "max_backoff", 10, "10ms", 86400000, "1d",
				"the longest wait between retries (the default is 1m)",
				&c->retry_max_backoff_ms);
		if (c->retry_max_backoff_ms < c->retry_backoff_ms) {
			if (ynode_get(re, "max_backoff")) {
				err_at(L, ynode_get(re, "max_backoff"),
				       "it caps the doubled backoff",
				       "'retry.max_backoff' must not be shorter than "
				       "'retry.backoff'");
			} else {
				c->retry_max_backoff_ms = c->retry_backoff_ms;
			}
		}
		/* 0 is libcurl's "no timeout": one forge that never answers would hold every
		 * status and notification, and the shutdown, for ever; 1ms fails every call. */
		get_duration_in(L, re, "retry.", "timeout", CONFIG_HTTP_TIMEOUT_MIN_MS, "1s",
				CONFIG_HTTP_TIMEOUT_MAX_MS, "5m",
				"each status or notification call gives up after it (the default "
				"is 10s); there is no way to turn it off",
				&c->http_timeout_ms);
	}
	const struct ynode *ret = ynode_get(root, "retention");
	if (check_keys(L, ret, retention_keys, ARRAY_SIZE(retention_keys), "retention") && ret) {
		get_retention(L, ret, "runs", CONFIG_RETAIN_RUNS_MIN_MS, "1d", &c->retain_runs_ms);
		get_retention(L, ret, "deliveries", CONFIG_RETAIN_DELIVERIES_MIN_MS, "7d",
			      &c->retain_deliveries_ms);
	}
	load_access(L, root);
	load_repos(L, root);
}

static void set_defaults(struct server_config *c)
{
	c->listen_host = "127.0.0.1";
	c->listen_port = 8080;
	c->log_level = LOG_INFO;
	c->max_body = 25u << 20;
	c->concurrency = 2;
	c->jobs_per_run = 2;
	c->max_attempts = 3;
	c->max_queued = 1000;
	c->max_connections = 256;
	c->max_connections_per_ip = 64;
	c->connection_timeout_ms = 30000;
	c->request_timeout_ms = 60000;
	c->shutdown_grace_ms = 30000;
	c->max_run_ms = 6ull * 3600000;
	c->supersede = true;
	c->untrusted_run = true;
	c->untrusted_concurrency = 1;
	c->untrusted_max_queued = 100;
	c->retry_attempts = 5;
	c->retry_backoff_ms = 1000;
	c->retry_max_backoff_ms = 60000;
	c->http_timeout_ms = 10000;
	c->retain_runs_ms = CONFIG_RETAIN_DEFAULT_MS;
	c->retain_deliveries_ms = CONFIG_RETAIN_DEFAULT_MS;
}

static int load(struct loader *L, const char *buf, size_t len, struct server_config **out)
{
	/* Keys are never quoted in ydoc's errors: a secret may be written in a key's place. */
	static const struct ydoc_limits lim = { .max_depth = 16,
						.max_nodes = 200000,
						.unquoted_keys = true };
	struct server_config *c = L->c;
	struct ynode *root = NULL;
	int r = ydoc_parse(c->arena, L->file, buf, len, &lim, &root, L->dl);
	if (r == 0) {
		set_defaults(c);
		load_root(L, root);
		if (c->max_inflight == 0) {
			c->max_inflight = MAX((size_t)256 << 20, 4 * c->max_body);
		}
		if (c->max_inflight < c->max_body) {
			c->max_inflight = c->max_body; /* one delivery of the largest size fits */
		}
		if (c->retry_max_backoff_ms < c->retry_backoff_ms) {
			c->retry_max_backoff_ms = c->retry_backoff_ms;
		}
	}
	if (r == 0 && diag_has_errors(L->dl)) {
		r = -EINVAL;
	}
	if (r < 0) {
		config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

static struct server_config *config_new(const char *file)
{
	struct arena *a = arena_new(64u << 20);
	struct server_config *c = arena_alloc(a, sizeof(*c));
	c->arena = a;
	c->path = arena_strdup(a, file);
	return c;
}

int config_load_buffer(const char *name, const char *buf, size_t len, struct server_config **out,
		       struct diag_list *dl)
{
	char cwd[4096];
	struct loader L = { .c = config_new(name), .file = name, .dl = dl };
	L.dir = xstrdup(getcwd(cwd, sizeof(cwd)) ? cwd : "/");
	int r = load(&L, buf, len, out);
	free(L.dir);
	return r;
}

int config_load(const char *path, struct server_config **out, struct diag_list *dl)
{
	/* O_NONBLOCK: not a regular file is refused below, a named pipe included, without
	 * waiting for a writer (a reload would hang). */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	*out = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;
		diag_error(dl, path, 0, 0, NULL, "cannot open the configuration: %s", strerror(-e));
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(dl, path, 0, 0, NULL, "the configuration is not a regular file");
		return -EINVAL;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_fd_capped(fd, CONFIG_MAX_BYTES, &buf, &len);
	if (r < 0) {
		diag_error(dl, path, 0, 0, NULL, "cannot read the configuration: %s",
			   r == -EFBIG ? "larger than 4 MiB" : strerror(-r));
		return r;
	}
	_cleanup_free_ char *abs = realpath(path, NULL);
	struct loader L = { .c = config_new(path), .file = path, .dl = dl };
	L.dir = xstrdup(abs ? abs : path);
	char *slash = strrchr(L.dir, '/');
	if (slash) {
		*slash = '\0';
	}
	if (!*L.dir) {
		free(L.dir);
		L.dir = xstrdup("/");
	}
	r = load(&L, buf, len, out);
	free(L.dir);
	explicit_bzero(buf, len);
	/* Said with the other problems, if any, not in a second round once they are fixed. */
	if ((r == 0 || r == -EINVAL) && L.inline_secret &&
	    ((st.st_mode & 077) || st.st_uid != geteuid())) {
		char hint[300];
		snprintf(hint, sizeof(hint),
			 "run: chmod 600 %s, or move the secrets into *_file entries", path);
		diag_error(dl, path, 0, 0, hint,
			   "refusing the configuration: it holds secrets and its mode is %04o "
			   "(or it is not yours); others could read them",
			   (unsigned)(st.st_mode & 07777));
		if (r == 0) {
			config_free(*out);
			*out = NULL;
			r = -EPERM;
		}
	}
	return r;
}

const struct repo_config *config_find_repo(const struct server_config *c, enum forge f,
					   const char *name)
{
	for (size_t i = 0; name && i < c->n_repos; i++) {
		if (c->repos[i].forge == f && strcasecmp(c->repos[i].name, name) == 0) {
			return &c->repos[i];
		}
	}
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

unsigned config_restart_only(const struct server_config *a, const struct server_config *b,
			     char *buf, size_t size)
{
	const struct {
		const char *key;
		bool same;
	} v[] = {
		{ "listen",
		  same_str(a->listen_host, b->listen_host) && a->listen_port == b->listen_port },
		{ "data_dir", same_str(a->data_dir, b->data_dir) },
		{ "limits.max_body", a->max_body == b->max_body },
		{ "limits.max_inflight", a->max_inflight == b->max_inflight },
		{ "limits.connections", a->max_connections == b->max_connections },
		{ "limits.connections_per_ip",
		  a->max_connections_per_ip == b->max_connections_per_ip },
		{ "limits.connection_timeout",
		  a->connection_timeout_ms == b->connection_timeout_ms },
		{ "limits.request_timeout", a->request_timeout_ms == b->request_timeout_ms },
	};
	unsigned n = 0;
	if (size) {
		buf[0] = '\0';
	}
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		if (!v[i].same) {
			/* Whole keys only: one that does not fit is left out, not cut. */
			size_t len = size ? strlen(buf) : 0;
			size_t need = (n ? 2 : 0) + strlen(v[i].key);
			if (len + need < size) {
				snprintf(buf + len, size - len, "%s%s", n ? ", " : "", v[i].key);
			}
			n++;
		}
	}
	return n;
}

void config_free(struct server_config *c)
{
	if (!c) {
		return;
	}
	for (size_t i = 0; i < c->n_repos; i++) {
		struct repo_config *r = &c->repos[i];
		/* Wipe secret values held in the arena. */
		for (size_t k = 0; k < r->n_secrets; k++) {
			explicit_bzero((char *)r->secrets[k].value, strlen(r->secrets[k].value));
		}
		const char *vals[] = { r->secret, r->previous_secret.value, r->token,
				       r->ssh_passphrase, r->api_token };
		for (size_t k = 0; k < ARRAY_SIZE(vals); k++) {
			if (vals[k]) {
				explicit_bzero((char *)vals[k], strlen(vals[k]));
			}
		}
	}
	if (c->notify_url) {
		explicit_bzero((char *)c->notify_url, strlen(c->notify_url));
	}
	if (c->access_token) {
		explicit_bzero((char *)c->access_token, strlen(c->access_token));
	}
	if (c->previous_access_token.value) {
		explicit_bzero((char *)c->previous_access_token.value,
			       strlen(c->previous_access_token.value));
	}
	arena_free(c->arena);
}
