/*
 * gomod.c - go.mod: the modules a Go module requires, after `replace`.
 *
 * The syntax is Go's: directives (`verb args` or `verb ( ... )` blocks), `//` comments,
 * and arguments that may be quoted. Only module, go, toolchain, godebug, require,
 * exclude, replace, retract, tool and ignore are directives; anything else (or a require
 * without a valid "vX..." version) makes the file malformed, as it does for the go command.
 * Versions are reported without their leading "v" (as OSV's Go records write them).
 * `replace old [version] => new [version]` replaces the required old module (every
 * required version, or only the one named, which wins over a replace of every version),
 * wherever in the file it is written; a replacement by a local path has no version. The `go`
 * directive adds the package "stdlib" at that Go version, so that advisories against the standard
 * library are checked too. A go.sum is not needed: go.mod lists every module of the build (Go 1.17+
 * module graph pruning).
 */
#include "parsers.h"

#include "hmap.h"
#include "util.h"

#include <ctype.h>

#include "banned.h"

#define GOMOD_MAX_TOKENS 16

struct gomod_req {
	const char *path, *version; /* version with its "v" */
	unsigned line;
};

struct gomod_rep {
	const char *old_path, *old_version; /* old_version NULL: every version */
	const char *new_path, *new_version; /* new_version "" for a local path */
	unsigned line;
};

struct gomod {
	struct gomod_req *req;
	size_t n, cap;
	struct gomod_rep *rep;
	size_t n_rep, cap_rep;
};

/*
 * The replace that applies to path@version, or NULL. As in the go command, a replace of
 * that one version wins over one of every version; among equals the last one written.
 */
static const struct gomod_rep *replacement(const struct gomod *m, const char *path,
					   const char *version)
{
	const struct gomod_rep *any = NULL, *exact = NULL;
	for (size_t i = 0; i < m->n_rep; i++) {
		const struct gomod_rep *p = &m->rep[i];
		if (!str_eq(p->old_path, path)) {
			continue;
		}
		if (!p->old_version) {
			any = p;
		} else if (str_eq(p->old_version, version)) {
			exact = p;
		}
	}
	return exact ? exact : any;
}

/* Split a line into tokens (quoted strings unquoted); stops at a // comment. */
static int tokenize(struct dep_ctx *c, const char *s, const char *end, unsigned lineno,
		    const char **tok, size_t *ntok)
{
	*ntok = 0;
	while (s < end) {
		while (s < end && isspace((unsigned char)*s)) {
			s++;
		}
		if (s >= end || (end - s >= 2 && s[0] == '/' && s[1] == '/')) {
			break;
		}
		if (*ntok >= GOMOD_MAX_TOKENS) {
			return dep_error(c, lineno, 0, "too many words on one line");
		}
		if (*s == '"' || *s == '`') {
			char q = *s;
			const char *e = s + 1;
			while (e < end && *e != q) {
				e += (*e == '\\' && q == '"' && e + 1 < end) ? 2 : 1;
			}
			if (e >= end) {
				return dep_error(c, lineno, 0, "unterminated quoted string");
			}
			tok[(*ntok)++] = dep_strndup(c, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else {
			const char *e = s;
			while (e < end && !isspace((unsigned char)*e) &&
			       !(end - e >= 2 && e[0] == '/' && e[1] == '/')) {
				e++;
			}
			tok[(*ntok)++] = dep_strndup(c, s, (size_t)(e - s));
			s = e;
		}
	}
	return 0;
}

static bool valid_version(const char *v)
{
	return v[0] == 'v' && isdigit((unsigned char)v[1]);
}

static bool local_path(const char *p)
{
	return str_has_prefix(p, "./") || str_has_prefix(p, "../") || p[0] == '/' ||
	       str_eq(p, ".") || str_eq(p, "..");
}

static int directive(struct dep_ctx *c, struct gomod *m, const char *verb, const char **tok,
		     size_t n, unsigned lineno, const char **go_version, unsigned *go_line)
{
	if (str_eq(verb, "require")) {
		if (n < 2 || !valid_version(tok[1])) {
			return dep_error(c, lineno, 0, "require needs a module path and a version");
		}
		GROW(m->req, m->cap, m->n + 1);
		m->req[m->n++] =
			(struct gomod_req){ .path = tok[0], .version = tok[1], .line = lineno };
		return 0;
	}
	if (str_eq(verb, "replace")) {
		/* old [version] => new [version] */
		size_t arrow = 0;
		while (arrow < n && !str_eq(tok[arrow], "=>")) {
			arrow++;
		}
		if (arrow == 0 || arrow > 2 || arrow + 1 >= n || n - arrow - 1 > 2) {
			return dep_error(c, lineno, 0,
					 "replace needs 'old [version] => new [version]'");
		}
		const char *old_path = tok[0], *old_version = arrow == 2 ? tok[1] : NULL;
		const char *new_path = tok[arrow + 1];
		const char *new_version = n - arrow - 1 == 2 ? tok[arrow + 2] : "";
		if (!local_path(new_path) && !valid_version(new_version)) {
			return dep_error(c, lineno, 0, "replacement module %s needs a version",
					 new_path);
		}
		/* Applied once the whole file is read: a replace may come before its require. */
		GROW(m->rep, m->cap_rep, m->n_rep + 1);
		m->rep[m->n_rep++] = (struct gomod_rep){ .old_path = old_path,
							 .old_version = old_version,
							 .new_path = new_path,
							 .new_version = new_version,
							 .line = lineno };
		return 0;
	}
	if (str_eq(verb, "go")) {
		if (n != 1) {
			return dep_error(c, lineno, 0, "go needs one version");
		}
		*go_version = tok[0];
		*go_line = lineno;
		return 0;
	}
	static const char *const others[] = { "module",	 "toolchain", "godebug", "exclude",
					      "retract", "tool",      "ignore" };
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		if (str_eq(verb, others[i])) {
			return 0;
		}
	}
	return dep_error(c, lineno, 1, "unknown directive '%s'", verb);
}

int parse_go_mod(struct dep_ctx *c, const char *buf, size_t len)
{
	struct gomod m = { 0 };
	const char *block = NULL; /* verb of an open ( block */
	const char *go_version = NULL;
	unsigned go_line = 0, lineno = 0, block_line = 0;
	const char *end = buf + len;
	int r = 0;
	for (const char *p = buf; p < end && r == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *tok[GOMOD_MAX_TOKENS];
		size_t n;
		if (memchr(p, '\0', (size_t)(le - p))) {
			r = dep_error(c, lineno, 0, "NUL byte");
			break;
		}
		r = tokenize(c, p, le, lineno, tok, &n);
		p = nl ? nl + 1 : end;
		if (r < 0 || n == 0) {
			continue;
		}
		if (block) {
			if (n == 1 && str_eq(tok[0], ")")) {
				block = NULL;
				continue;
			}
			r = directive(c, &m, block, tok, n, lineno, &go_version, &go_line);
			continue;
		}
		if (n == 2 && str_eq(tok[1], "(")) {
			block = tok[0];
			block_line = lineno;
			/* Check the verb now, so an unknown one is reported at its line. */
			static const char *const known[] = { "module",	"go",	   "toolchain",
							     "godebug", "require", "exclude",
							     "replace", "retract", "tool",
							     "ignore" };
			bool ok = false;
			for (size_t i = 0; i < ARRAY_SIZE(known) && !ok; i++) {
				ok = str_eq(block, known[i]);
			}
			if (!ok) {
				r = dep_error(c, lineno, 1, "unknown directive '%s'", block);
			}
			continue;
		}
		r = directive(c, &m, tok[0], tok + 1, n - 1, lineno, &go_version, &go_line);
	}
	if (r == 0 && block) {
		r = dep_error(c, block_line, 0, "'%s (' is never closed", block);
	}
	for (size_t i = 0; i < m.n && r == 0; i++) {
		const struct gomod_req *q = &m.req[i];
		const struct gomod_rep *p = replacement(&m, q->path, q->version);
		const char *path = p ? p->new_path : q->path;
		const char *v = p ? p->new_version : q->version;
		unsigned line = p ? p->line : q->line;
		if (*v == 'v') {
			v++;
		}
		bool added;
		if (!dep_add_unique(c, dep_printf(c, "%s@%s", path, v), ECO_GO, path, v, line,
				    &added)) {
			r = dep_error(c, line, 0, "too many packages");
		}
	}
	if (r == 0 && go_version) {
		bool added;
		if (!dep_add_unique(c, dep_printf(c, "stdlib@%s", go_version), ECO_GO, "stdlib",
				    go_version, go_line, &added)) {
			r = dep_error(c, go_line, 0, "too many packages");
		}
	}
	free(m.req);
	free(m.rep);
	return r;
}
