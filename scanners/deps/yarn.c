/*
 * yarn.c - yarn.lock, both the v1 format of yarn 1 ("classic") and the YAML format of
 * Yarn 2+ ("berry").
 *
 * A file is read as yarn 1 reads it (src/lockfile/parse.js, 1.22): with its own tokenizer
 * and parser, whether or not it has the `# yarn lockfile v1` comment (only a comment to
 * it), and as YAML when that parser refuses the file. read_v1 is a port of that parser,
 * its quirks included ("\n\n" is one line break; it stops at an indented line where a
 * package's header belongs). Berry writes YAML that yarn 1's parser always refuses (its
 * `__metadata` key is no token of it), so both are read as they read them. Nothing yarn
 * 1 would leave unread passes: where its parser stops and ignores the rest of the file
 * (whose packages it then resolves again, at versions the file does not say), where a
 * comment swallows the lines a lone CR breaks, a lockfile of a later version, and a merge
 * conflict (which yarn 1 resolves by merging the two sides) are errors here.
 *
 * v1's quoted strings are JSON strings: one ends at the first '"' not after a single
 * backslash (`\"` is inside, `\\"` ends it), as yarn's tokenizer has it, and is decoded as
 * JSON.parse decodes it; one JSON does not read is a token yarn's parser refuses. Every
 * top-level entry is a package: its header lists the specifiers that resolved to it
 * ("a@^1.0.0, a@~1.2.0:"; a specifier given again later names the later entry, and an
 * entry no specifier names any more is dropped, as yarn keeps the last), and its block has
 * a `version`; berry's also a `resolution` (berry writes a `__metadata` block, which is
 * not a package). A YAML file without `__metadata` is yarn 1's, read through its
 * fallback: v1's fields. An entry without a version (or a berry one without a resolution)
 * is an error rather than an unchecked package. The name comes from berry's resolution,
 * else from the first specifier, where an alias ("alias@npm:real@^1") names the real
 * package. A git dependency's commit comes from the resolution / resolved URL. Nested
 * blocks (dependencies) are read, not used.
 */
#include "parsers.h"

#include "arena.h"
#include "diag.h"
#include "hmap.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>

#include "banned.h"

/* Nesting of yarn 1's blocks (a package's is 2 deep, its dependencies 3). */
#define V1_MAX_DEPTH 64

struct block {
	bool v1;
	unsigned line;
	const char *spec; /* the first specifier */
	const char *version;
	const char *resolution; /* berry */
	const char *resolved;	/* v1 */
	bool metadata;
	bool not_block;	      /* a value, not a package's block */
	unsigned keys;	      /* v1: its keys that no later entry took (none: yarn drops it) */
	bool version_not_str; /* a version that is no string (a number, a block...) */
};

/* "@scope/name@range" or "name@range" -> the name part. */
static char *spec_name(struct dep_ctx *c, const char *spec)
{
	const char *start = spec;
	const char *p = spec[0] == '@' ? spec + 1 : spec;
	const char *at = strchr(p, '@');
	return dep_strndup(c, start, at ? (size_t)(at - start) : strlen(start));
}

static int finish(struct dep_ctx *c, const struct block *b)
{
	if (!b->spec || b->metadata) {
		return 0;
	}
	if (b->not_block) {
		return dep_error(c, b->line, 1, "'%s' is a value, not a package's block", b->spec);
	}
	if (b->version_not_str) {
		return dep_error(c, b->line, 1, "'%s' has a version that is not a string", b->spec);
	}
	if (!b->version) {
		return dep_error(c, b->line, 1, "'%s' has no version", b->spec);
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
	struct dep *d = dep_add(c, ECO_NPM, name, b->version, b->line);
	if (!d) {
		return dep_error(c, b->line, 0, "too many packages");
	}
	d->commit = dep_extract_commit(c, b->resolution ? b->resolution : b->resolved);
	return 0;
}

/* ---------- yarn 1's parser ---------- */

enum ytype { Y_STRING, Y_NUMBER, Y_BOOL, Y_COLON, Y_COMMA, Y_NEWLINE, Y_INDENT, Y_EOF, Y_INVALID };

struct ytoken {
	enum ytype type;
	unsigned line, col;
	const char *s; /* Y_STRING, Y_NUMBER: the text as written (a string's quotes too) */
	size_t n;
	unsigned indent; /* Y_INDENT: spaces / 2 */
};

struct v1 {
	struct dep_ctx *c;
	const char *p, *end, *line_start;
	unsigned line;
	bool last_newline;
	struct ytoken tok;
	unsigned depth;
	struct block *blocks; /* heap */
	size_t n_blocks, cap_blocks;
	struct hmap *owner; /* a top-level key -> 1 + the index of the last block it names */
	/* Why yarn 1's parser refuses the file, and where; NULL while it reads it. fatal: an
	 * error whatever else might read the file. */
	const char *err;
	unsigned err_line, err_col;
	bool fatal;
};

static bool fail(struct v1 *v, const char *why)
{
	if (!v->err) {
		v->err = why;
		v->err_line = v->tok.line;
		v->err_col = v->tok.col;
	}
	return false;
}

/* A quoted string's text decoded as JSON.parse decodes it, in the arena; NULL when JSON
 * does not read it (or it holds a NUL). */
static const char *decode(struct dep_ctx *c, const char *s, size_t n)
{
	json_error_t jerr;
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
	const char *v = json_string_value(j);
	const char *out = v && strlen(v) == json_string_length(j) ? dep_strdup(c, v) : NULL;
	json_decref(j);
	return out;
}

/* A Y_STRING's value, in the arena (a quoted one decodes: lex checked that it does). */
static const char *text(struct v1 *v, const struct ytoken *t)
{
	return t->s[0] == '"' ? decode(v->c, t->s, t->n) : dep_strndup(v->c, t->s, t->n);
}

/* Whether a comment's text, trimmed, is "yarn lockfile vN" with N above 1, the
 * LOCKFILE_VERSION of yarn 1 (which refuses such a file). */
static bool newer_lockfile(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	static const char word[] = "yarn lockfile v";
	size_t wl = sizeof(word) - 1;
	if (n <= wl || strncmp(s, word, wl) != 0) {
		return false;
	}
	for (size_t i = wl; i < n; i++) {
		if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	/* The number, its leading zeros aside: more than one digit, or a digit above 1. */
	while (n - wl > 1 && s[wl] == '0') {
		wl++;
	}
	return n - wl > 1 || s[wl] > '1';
}

/* The next token that is not a comment, into v->tok (yarn's tokenise and Parser.next). */
static bool lex(struct v1 *v)
{
	for (;;) {
		const char *p = v->p;
		struct ytoken t = { .line = v->line, .col = 1 + (unsigned)(p - v->line_start) };
		size_t chop = 1;
		if (p >= v->end) {
			t.type = Y_EOF;
			v->tok = t;
			return true;
		}
		bool newline = false;
		if (*p == '\n' || *p == '\r') {
			/* One token for "\r\n", and, as yarn has it, for "\n\n" too: a blank line
			 * is no line of its own then. Lines are counted as editors count them. */
			chop = p + 1 < v->end && p[1] == '\n' ? 2 : 1;
			t.type = Y_NEWLINE;
			newline = *p == '\n' || chop == 2;
			for (size_t i = 0; i < chop; i++) {
				if (p[i] == '\n') {
					v->line++;
					v->line_start = p + i + 1;
				}
			}
		} else if (*p == '#') {
			/* To the next "\n": a lone "\r" does not end it. */
			const char *nl = memchr(p, '\n', (size_t)(v->end - p));
			const char *e = nl ? nl : v->end;
			v->tok = t;
			if (newer_lockfile(p + 1, (size_t)(e - p - 1))) {
				v->fatal = true;
				return fail(v, "a lockfile of a later version than yarn 1 reads");
			}
			const char *cr = memchr(p, '\r', (size_t)(e - p));
			if (cr && cr + 1 < e) {
				v->fatal = true;
				return fail(v, "a comment yarn 1 reads up to the next LF, over the "
					       "lines a lone CR breaks: it reads none of them");
			}
			v->p = e;
			v->last_newline = false;
			continue;
		} else if (*p == ' ') {
			if (!v->last_newline) {
				v->p++;
				v->last_newline = false;
				continue;
			}
			chop = 0;
			while (p + chop < v->end && p[chop] == ' ') {
				chop++;
			}
			if (chop % 2) {
				v->tok = t;
				return fail(v, "an odd number of spaces (yarn 1 indents by two)");
			}
			t.type = Y_INDENT;
			t.indent = (unsigned)(chop / 2);
		} else if (*p == '"') {
			size_t left = (size_t)(v->end - p), i = 1;
			for (; i < left; i++) {
				if (p[i] == '"' &&
				    !(p[i - 1] == '\\' && (i < 2 || p[i - 2] != '\\'))) {
					i++;
					break;
				}
			}
			chop = i;
			t.type = memchr(p, '\0', chop) || !decode(v->c, p, chop) ? Y_INVALID
										 : Y_STRING;
			t.s = p;
			t.n = chop;
		} else if (isdigit((unsigned char)*p)) {
			chop = 0;
			while (p + chop < v->end && isdigit((unsigned char)p[chop])) {
				chop++;
			}
			t.type = Y_NUMBER;
			t.s = p;
			t.n = chop;
		} else if ((size_t)(v->end - p) >= 4 && strncmp(p, "true", 4) == 0) {
			t.type = Y_BOOL;
			chop = 4;
		} else if ((size_t)(v->end - p) >= 5 && strncmp(p, "false", 5) == 0) {
			t.type = Y_BOOL;
			chop = 5;
		} else if (*p == ':') {
			t.type = Y_COLON;
		} else if (*p == ',') {
			t.type = Y_COMMA;
		} else if (isalpha((unsigned char)*p) || *p == '/' || *p == '.' || *p == '-') {
			chop = 0;
			while (p + chop < v->end && !strchr(": \n\r,", p[chop])) {
				chop++;
			}
			t.type = memchr(p, '\0', chop) ? Y_INVALID : Y_STRING;
			t.s = p;
			t.n = chop;
		} else {
			t.type = Y_INVALID;
		}
		v->last_newline = newline;
		v->p = p + chop;
		v->tok = t;
		return true;
	}
}

static bool is_value(const struct ytoken *t)
{
	return t->type == Y_STRING || t->type == Y_NUMBER || t->type == Y_BOOL;
}

/* Add a top-level entry, named by keys[0..n): as yarn's `obj[key] = value`, a key given
 * again later names the later entry, and an entry none of whose keys still name it is
 * dropped. */
static void add_block(struct v1 *v, struct block b, const struct ytoken *keys, size_t n)
{
	GROW(v->blocks, v->cap_blocks, v->n_blocks + 1);
	size_t self = v->n_blocks++;
	v->blocks[self] = b;
	if (!v->owner) {
		v->owner = hmap_new(64);
	}
	for (size_t i = 0; i < n; i++) {
		const char *key = i == 0 ? b.spec : text(v, &keys[i]);
		uintptr_t prev = (uintptr_t)hmap_get(v->owner, key);
		if (prev) {
			v->blocks[prev - 1].keys--;
		}
		hmap_put(v->owner, key, (void *)(uintptr_t)(self + 1));
		v->blocks[self].keys++;
	}
}

/* What key = value (tokens; value NULL: a block) says of the package block b. */
static void field(struct v1 *v, struct block *b, const struct ytoken *key_tok,
		  const struct ytoken *value)
{
	/* Most keys are unquoted words: compared as written, without a copy. */
	const char *key = key_tok->s[0] == '"' ? text(v, key_tok) : NULL;
	size_t kn = key ? strlen(key) : key_tok->n;
	const char *k = key ? key : key_tok->s;
	const char **slot = NULL;
	if (kn == 7 && memcmp(k, "version", 7) == 0) {
		slot = &b->version;
	} else if (kn == 8 && memcmp(k, "resolved", 8) == 0) {
		slot = &b->resolved;
	} else if (kn == 10 && memcmp(k, "resolution", 10) == 0) {
		slot = &b->resolution;
	}
	if (!slot) {
		return;
	}
	bool str = value && value->type == Y_STRING;
	*slot = str ? text(v, value) : NULL; /* the last one given, as yarn keeps it */
	if (slot == &b->version) {
		b->version_not_str = !str;
	}
}

/*
 * yarn 1's Parser.parse(indent), step for step: keys (one, or several with commas), then
 * a value, or a ':' and a block one level in. indent 0 is the file: each of its entries
 * is a package (added to v->blocks); at indent 1, b is the package whose fields are read.
 * Returns false when yarn's parser throws (v->err says why).
 */
static bool parse(struct v1 *v, unsigned indent, struct block *b)
{
	if (++v->depth > V1_MAX_DEPTH) {
		return fail(v, "blocks nested too deep");
	}
	struct ytoken *keys = NULL; /* decoded when they are needed */
	size_t cap = 0;
	bool ok = true;
	for (;;) {
		const struct ytoken t = v->tok;
		if (t.type == Y_NEWLINE) {
			if (!(ok = lex(v))) {
				break;
			}
			if (!indent) {
				continue;
			}
			if (v->tok.type != Y_INDENT || v->tok.indent != indent) {
				break; /* a level down */
			}
			if (!(ok = lex(v))) {
				break;
			}
		} else if (t.type == Y_INDENT) {
			if (t.indent != indent) {
				break;
			}
			if (!(ok = lex(v))) {
				break;
			}
		} else if (t.type == Y_EOF) {
			break;
		} else if (t.type == Y_STRING) {
			size_t n = 0;
			struct ytoken first = t;
			for (;;) {
				if (v->tok.n == 2 && v->tok.s[0] == '"') {
					ok = fail(v, "an empty key"); /* "": yarn's invariant */
					break;
				}
				GROW(keys, cap, n + 1);
				keys[n++] = v->tok;
				if (!(ok = lex(v)) || v->tok.type != Y_COMMA) {
					break;
				}
				if (!(ok = lex(v))) {
					break;
				}
				if (v->tok.type != Y_STRING) {
					ok = fail(v, "expected a string after ','");
					break;
				}
			}
			if (!ok) {
				break;
			}
			bool colon = v->tok.type == Y_COLON;
			if (colon && !(ok = lex(v))) {
				break;
			}
			if (is_value(&v->tok)) {
				if (indent == 0) {
					struct block value = {
						.v1 = true,
						.line = first.line,
						.spec = text(v, &keys[0]),
						.not_block = true,
					};
					add_block(v, value, keys, n);
				}
				for (size_t i = 0; b && i < n; i++) {
					field(v, b, &keys[i], &v->tok);
				}
				if (!(ok = lex(v))) {
					break;
				}
			} else if (colon) {
				struct block pkg = { .v1 = true, .line = first.line };
				if (indent == 0) {
					pkg.spec = text(v, &keys[0]);
					pkg.metadata = str_eq(pkg.spec, "__metadata");
				}
				if (!(ok = parse(v, indent + 1, indent == 0 ? &pkg : NULL))) {
					break;
				}
				if (indent == 0) {
					add_block(v, pkg, keys, n);
				}
				for (size_t i = 0; b && i < n; i++) {
					field(v, b, &keys[i], NULL);
				}
				if (indent && v->tok.type != Y_INDENT) {
					break;
				}
			} else {
				ok = fail(v, "a key without a value");
				break;
			}
		} else {
			ok = fail(v, t.type == Y_INVALID ? "a token yarn 1 does not read (a quoted "
							   "string JSON does not read, a tab...)"
							 : "a key expected");
			break;
		}
	}
	free(keys);
	v->depth--;
	return ok;
}

/*
 * Read the file as yarn 1's parser does. Returns 1 with its packages added (or an error
 * about what it read, as for any file), 0 when yarn's parser refuses the file (nothing
 * added; v->err says why), or -EINVAL.
 */
static int read_v1(struct dep_ctx *c, struct v1 *v, const char *buf, size_t len)
{
	*v = (struct v1){ .c = c, .p = buf, .end = buf + len, .line_start = buf, .line = 1 };
	bool ok = lex(v) && parse(v, 0, NULL);
	int r = ok ? 1 : 0;
	if (ok && v->tok.type != Y_EOF) {
		r = dep_error(c, v->tok.line, v->tok.col,
			      "yarn 1 stops reading the file here, an indented line where a "
			      "package's header belongs, and resolves what follows again");
	}
	for (size_t i = 0; r == 1 && i < v->n_blocks; i++) {
		if (v->blocks[i].keys && finish(c, &v->blocks[i]) < 0) {
			r = -EINVAL;
		}
	}
	free(v->blocks);
	v->blocks = NULL;
	hmap_free(v->owner);
	v->owner = NULL;
	return r;
}

/* ---------- YAML: berry's lockfiles, and yarn 1's fallback ---------- */

static const struct ydoc_limits berry_limits = {
	.max_depth = 64,
	.max_nodes = 20000000,
};

/*
 * The file as YAML (read with base/ydoc, as the yarns read it with js-yaml). A berry
 * lockfile has a `__metadata` entry (not a package) and a resolution in every block; one
 * without is yarn 1's, read by its fallback. failed (may be NULL) is why yarn 1's parser
 * refused the file, said with the YAML error when YAML does not read it either.
 */
static int read_yaml(struct dep_ctx *c, const char *buf, size_t len, const struct v1 *failed)
{
	struct arena *a = arena_new(0);
	struct ynode *root = NULL;
	struct diag_list yl;
	diag_list_init(&yl, 20);
	int r = ydoc_parse(a, c->file, buf, len, &berry_limits, &root, &yl);
	if (r < 0) {
		for (size_t i = 0; i < yl.n; i++) {
			if (failed && i == 0) {
				diag_error(c->dl, yl.v[i].file, yl.v[i].line, yl.v[i].col,
					   yl.v[i].hint,
					   "%s (nor does yarn 1's format read it: line %u, column "
					   "%u: %s)",
					   yl.v[i].msg, failed->err_line, failed->err_col,
					   failed->err);
			} else {
				diag_error(c->dl, yl.v[i].file, yl.v[i].line, yl.v[i].col,
					   yl.v[i].hint, "%s", yl.v[i].msg);
			}
		}
		diag_list_release(&yl);
		arena_free(a);
		return -EINVAL;
	}
	diag_list_release(&yl);
	if (root && root->kind != YNODE_MAP) {
		r = dep_error(c, root->line, root->col, "the top level is not a mapping");
	}
	bool berry = root && root->kind == YNODE_MAP && ynode_get(root, "__metadata");
	for (size_t i = 0; root && r == 0 && root->kind == YNODE_MAP && i < root->map.n; i++) {
		const struct ypair *pr = &root->map.v[i];
		const char *key = pr->key->scalar.s;
		if (berry && str_eq(key, "__metadata")) {
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
		const struct ynode *version = ynode_get(pr->value, "version");
		const char *resolution = ynode_str(ynode_get(pr->value, "resolution"));
		const char *resolved = ynode_str(ynode_get(pr->value, "resolved"));
		struct block b = {
			.v1 = !berry,
			.line = pr->key->line,
			.spec = dep_strndup(c, key, k),
			.version = ynode_str(version) ? dep_strdup(c, ynode_str(version)) : NULL,
			.version_not_str = version && !ynode_str(version),
			.resolution = resolution ? dep_strdup(c, resolution) : NULL,
			.resolved = resolved ? dep_strdup(c, resolved) : NULL,
		};
		r = finish(c, &b);
	}
	arena_free(a);
	return r;
}

int parse_yarn_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	/* YAML reads the file whole: libyaml drops a byte order mark itself, and reads what
	 * follows it as UTF-8 (stripped here, bytes that start like UTF-16's would be read
	 * as UTF-16 text, at positions that are nowhere in the file). */
	const char *whole = buf;
	size_t whole_len = len;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3; /* a byte order mark, which yarn strips */
		len -= 3;
	}
	/* yarn 1 merges the two sides of a conflict, which no one has reviewed. */
	if (memmem(buf, len, "<<<<<<<", 7) && memmem(buf, len, "=======", 7) &&
	    memmem(buf, len, ">>>>>>>", 7)) {
		const char *at = memmem(buf, len, "<<<<<<<", 7);
		return dep_error(c, text_line(buf, len, (size_t)(at - buf)), 1,
				 "the file holds a merge conflict (<<<<<<<, =======, >>>>>>>): "
				 "resolve it (yarn install does) and commit the result");
	}
	struct v1 v;
	int r = read_v1(c, &v, buf, len);
	if (r != 0) {
		return r < 0 ? r : 0;
	}
	if (v.fatal) {
		return dep_error(c, v.err_line, v.err_col, "%s", v.err);
	}
	return read_yaml(c, whole, whole_len, &v);
}
