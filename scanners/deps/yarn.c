/*
 * yarn.c - yarn.lock, both the v1 format and the YAML format of Yarn 2+ ("berry").
 *
 * Which one a file is, is decided as berry decides it: a file whose leading comment lines
 * include `# yarn lockfile v1` is v1, any other is YAML. Both are blocks: an unindented
 * header listing the specifiers that resolved to one package ("a@^1.0.0, a@~1.2.0:"),
 * then fields two spaces in. v1 writes `version "1.2.3"` and `resolved "url"`, its quoted
 * strings being JSON strings (yarn's tokenizer JSON.parses them: escapes are decoded, and
 * one JSON does not read is an error); berry writes `version: 1.2.3` and
 * `resolution: "name@npm:1.2.3"`, and a `__metadata` block that is not a package. Every
 * package block has a version, two spaces in: a block without one there (a YAML block
 * indented otherwise, a value on the next line) is an error rather than an unchecked
 * package. The name comes from berry's resolution (a berry block without one is an
 * error), else from v1's first specifier, where an alias ("alias@npm:real@^1") names the
 * real package. A git dependency's commit comes from the resolution / resolved URL.
 * Deeper-indented lines (dependency lists) are not needed.
 */
#include "parsers.h"

#include "arena.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>

#include "banned.h"

struct block {
	bool v1;
	unsigned line;
	char *spec; /* the first specifier, unquoted */
	char *version;
	char *resolution; /* berry */
	char *resolved;	  /* v1 */
	bool metadata;
};

/* "@scope/name@range" or "name@range" -> the name part. */
static char *spec_name(struct dep_ctx *c, const char *spec)
{
	const char *start = spec;
	const char *p = spec[0] == '@' ? spec + 1 : spec;
	const char *at = strchr(p, '@');
	return dep_strndup(c, start, at ? (size_t)(at - start) : strlen(start));
}

/*
 * The text of a value or key s..s+n, trimmed: in v1, a "-quoted string is a JSON string
 * (it ends at the first '"' not after a single backslash, as yarn's tokenizer has it, and
 * is decoded as JSON.parse would; NULL when that fails); otherwise quotes are removed.
 */
static char *unquote(struct dep_ctx *c, bool v1, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	if (v1 && n && s[0] == '"') {
		size_t i = 1;
		for (; i < n; i++) {
			if (s[i] == '"' && !(s[i - 1] == '\\' && (i < 2 || s[i - 2] != '\\'))) {
				break;
			}
		}
		if (i != n - 1) {
			return NULL; /* unterminated, or text after the string */
		}
		json_error_t jerr;
		json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
		const char *v = json_string_value(j);
		char *out = v && strlen(v) == json_string_length(j) ? dep_strdup(c, v) : NULL;
		json_decref(j);
		return out;
	}
	if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\''))) {
		s++;
		n -= 2;
	}
	return dep_strndup(c, s, n);
}

static int finish(struct dep_ctx *c, struct block *b)
{
	if (!b->spec || b->metadata) {
		return 0;
	}
	if (!b->version) {
		return dep_error(
			c, b->line, 1,
			"'%s' has no version two spaces in (a block indented otherwise, or "
			"a value on the next line, is not read)",
			b->spec);
	}
	const char *name;
	if (b->resolution) {
		name = spec_name(c, b->resolution);
	} else if (!b->v1) {
		return dep_error(c, b->line, 1, "'%s' has no resolution", b->spec);
	} else {
		/* v1: "alias@npm:real@range" names the real package (berry's "name@npm:range"
		 * has its resolution). */
		name = spec_name(c, b->spec);
		const char *rest = b->spec + strlen(name);
		if (str_has_prefix(rest, "@npm:")) {
			name = spec_name(c, rest + 5);
		}
	}
	if (!*name) {
		return dep_error(c, b->line, 1, "cannot tell the package name from '%s'", b->spec);
	}
	struct dep *d = dep_add(c, ECO_NPM, name, b->version ? b->version : "", b->line);
	if (!d) {
		return dep_error(c, b->line, 0, "too many packages");
	}
	d->commit = dep_extract_commit(c, b->resolution ? b->resolution : b->resolved);
	return 0;
}

/* Whether the file is v1, as berry tells (its LEGACY_REGEXP): the comment lines it starts
 * with include "# yarn lockfile v1". */
static bool is_v1(const char *buf, size_t len)
{
	struct lines ln;
	const char *p;
	size_t n;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &p, &n) && n && p[0] == '#') {
		const char *q = p + 1;
		const char *words[] = { "yarn", "lockfile", "v1" };
		bool ok = true;
		for (size_t i = 0; i < ARRAY_SIZE(words) && ok; i++) {
			size_t sp = 0;
			while (q + sp < p + n && isspace((unsigned char)q[sp])) {
				sp++;
			}
			size_t wl = strlen(words[i]);
			ok = sp > 0 && (size_t)(p + n - q - sp) >= wl &&
			     strncasecmp(q + sp, words[i], wl) == 0;
			q += sp + wl;
		}
		if (ok && q == p + n) {
			return true;
		}
	}
	return false;
}

static const struct ydoc_limits berry_limits = {
	.max_depth = 64,
	.max_nodes = 20000000,
};

/* A berry lockfile: YAML, read with base/ydoc (as berry reads it with js-yaml). */
static int parse_berry(struct dep_ctx *c, const char *buf, size_t len)
{
	struct arena *a = arena_new(0);
	struct ynode *root = NULL;
	int r = ydoc_parse(a, c->file, buf, len, &berry_limits, &root, c->dl);
	if (r < 0) {
		arena_free(a);
		return -EINVAL;
	}
	if (root && root->kind != YNODE_MAP) {
		r = dep_error(c, root->line, root->col, "the top level is not a mapping");
	}
	for (size_t i = 0; root && r == 0 && root->kind == YNODE_MAP && i < root->map.n; i++) {
		const struct ypair *pr = &root->map.v[i];
		const char *key = pr->key->scalar.s;
		if (str_eq(key, "__metadata")) {
			continue;
		}
		if (!pr->value || pr->value->kind != YNODE_MAP) {
			r = dep_error(c, pr->key->line, pr->key->col, "'%s' is not a mapping", key);
			break;
		}
		/* The first descriptor of the key ("a@npm:^1.0.0, a@npm:^1.1.0"). */
		size_t k = strcspn(key, ",");
		while (k && isspace((unsigned char)key[k - 1])) {
			k--;
		}
		const char *version = ynode_str(ynode_get(pr->value, "version"));
		const char *resolution = ynode_str(ynode_get(pr->value, "resolution"));
		struct block b = {
			.line = pr->key->line,
			.spec = dep_strndup(c, key, k),
			.version = version ? dep_strdup(c, version) : NULL,
			.resolution = resolution ? dep_strdup(c, resolution) : NULL,
		};
		r = finish(c, &b);
	}
	arena_free(a);
	return r;
}

int parse_yarn_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3; /* a byte order mark, which yarn strips */
		len -= 3;
	}
	bool v1 = is_v1(buf, len);
	if (!v1) {
		return parse_berry(c, buf, len);
	}
	struct block b = { .v1 = v1 };
	struct lines ln;
	const char *p;
	size_t n;
	lines_init(&ln, buf, len);
	while (lines_next(&ln, &p, &n)) {
		unsigned lineno = ln.no;
		if (memchr(p, '\0', n)) {
			return dep_error(c, lineno, 0, "NUL byte");
		}
		size_t indent = 0;
		while (indent < n && p[indent] == ' ') {
			indent++;
		}
		const char *s = p + indent;
		size_t sn = n - indent;
		if (sn == 0 || s[0] == '#') {
			/* blank or comment */
		} else if (indent == 0) {
			int r = finish(c, &b);
			if (r < 0) {
				return r;
			}
			memset(&b, 0, sizeof(b));
			b.v1 = v1;
			if (s[sn - 1] != ':') {
				return dep_error(c, lineno, 1,
						 "expected a package header ending in ':'");
			}
			b.line = lineno;
			/* The first specifier: up to the first ", " outside quotes, or the ':'. */
			size_t k = 0;
			bool q = false;
			for (; k < sn - 1; k++) {
				if (s[k] == '"') {
					q = !q;
				} else if (!q && s[k] == ',') {
					break;
				}
			}
			b.spec = unquote(c, v1, s, k);
			if (!b.spec) {
				return dep_error(c, lineno, 1,
						 "a quoted string JSON does not read");
			}
			b.metadata = str_eq(b.spec, "__metadata");
		} else if (indent == 2 && b.spec) {
			/* key value, key: value, or "key": value */
			size_t k = 0;
			if (s[0] == '"') {
				const char *q = memchr(s + 1, '"', sn - 1);
				k = q ? (size_t)(q - s) + 1 : sn;
			} else {
				while (k < sn && s[k] != ' ' && s[k] != ':') {
					k++;
				}
			}
			char *key = unquote(c, v1, s, k);
			const char *v = s + k;
			size_t vn = sn - k;
			if (vn && *v == ':') {
				v++;
				vn--;
			}
			char *val = vn ? unquote(c, v1, v, vn) : NULL;
			if (!key || (vn && !val)) {
				return dep_error(c, lineno, 3,
						 "a quoted string JSON does not read");
			}
			if (vn == 0 || !*val) {
				/* a nested list follows (dependencies...): not needed */
			} else if (str_eq(key, "version")) {
				b.version = val;
			} else if (str_eq(key, "resolution")) {
				b.resolution = val;
			} else if (str_eq(key, "resolved")) {
				b.resolved = val;
			}
		}
	}
	return finish(c, &b);
}
