/*
 * pipmarker.c - whether the text after a requirement's ';' is an environment marker
 * (PEP 508), as pip reads one.
 *
 * pip cuts a requirement line at its first ';' (a URL line at its first "; ") and parses
 * what follows as a marker; when that fails it refuses the whole file ("Invalid marker").
 * A `name @ URL` whose URL holds a ';' is such a line: pip takes the URL up to the ';',
 * and the rest for a marker. A reader that dropped whatever follows the ';' would report a
 * package pip never installs from that file, and read what pip refuses.
 *
 * The grammar is what the markers of pip's vendored packaging accept, old (21, pyparsing)
 * and new (22 and later) together: a marker is a disjunction (`or`) of conjunctions
 * (`and`) of comparisons `VALUE OP VALUE`, or of markers in parentheses; a VALUE is a
 * quoted string ('...' or "...", with neither escapes nor the quote inside) or one of the
 * environment's variables; OP is a version comparison (===, ==, !=, <=, >=, ~=, <, >),
 * `in` or `not in`. Blanks (space, tab) separate tokens anywhere. It checks, it does not
 * evaluate: every marker is taken to hold (the scan reports what any environment
 * installs). Parentheses nest at most MAX_DEPTH deep; deeper is refused.
 */
#include "parsers.h"

#include "util.h"

#include <ctype.h>

#include "banned.h"

#define MAX_DEPTH 64

struct marker {
	const char *p, *end;
	unsigned depth;
};

static void blanks(struct marker *m)
{
	while (m->p < m->end && (*m->p == ' ' || *m->p == '\t')) {
		m->p++;
	}
}

/* Whether word (a keyword or a variable) is next and ends there (no letter, digit, '_'
 * or '.' follows it); consumes it then. */
static bool word(struct marker *m, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(m->end - m->p) < n || strncmp(m->p, w, n) != 0) {
		return false;
	}
	const char *after = m->p + n;
	if (after < m->end && (isalnum((unsigned char)*after) || *after == '_' || *after == '.')) {
		return false;
	}
	m->p = after;
	return true;
}

static bool value(struct marker *m)
{
	/* Every spelling either packaging reads: the dotted ones are the old names. */
	static const char *const vars[] = {
		"python_version",
		"python_full_version",
		"os_name",
		"os.name",
		"sys_platform",
		"sys.platform",
		"platform_release",
		"platform_system",
		"platform_version",
		"platform.version",
		"platform_machine",
		"platform.machine",
		"platform_python_implementation",
		"platform.python_implementation",
		"python_implementation",
		"implementation_name",
		"implementation_version",
		"extra",
		"extras",
		"dependency_groups",
	};
	blanks(m);
	if (m->p < m->end && (*m->p == '"' || *m->p == '\'')) {
		const char *close = memchr(m->p + 1, *m->p, (size_t)(m->end - m->p - 1));
		if (!close) {
			return false;
		}
		m->p = close + 1;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		if (word(m, vars[i])) {
			return true;
		}
	}
	return false;
}

static bool op(struct marker *m)
{
	/* Longer first: "===" before "==", "<=" before "<". */
	static const char *const cmp[] = { "===", "==", "!=", "<=", ">=", "~=", "<", ">" };
	blanks(m);
	for (size_t i = 0; i < ARRAY_SIZE(cmp); i++) {
		size_t n = strlen(cmp[i]);
		if ((size_t)(m->end - m->p) >= n && strncmp(m->p, cmp[i], n) == 0) {
			m->p += n;
			return true;
		}
	}
	if (word(m, "in")) {
		return true;
	}
	const char *start = m->p;
	if (word(m, "not")) {
		const char *before = m->p;
		blanks(m);
		if (m->p > before && word(m, "in")) {
			return true;
		}
	}
	m->p = start;
	return false;
}

static bool disjunction(struct marker *m);

static bool atom(struct marker *m)
{
	blanks(m);
	if (m->p < m->end && *m->p == '(') {
		if (++m->depth > MAX_DEPTH) {
			return false;
		}
		m->p++;
		if (!disjunction(m)) {
			return false;
		}
		blanks(m);
		if (m->p >= m->end || *m->p != ')') {
			return false;
		}
		m->p++;
		m->depth--;
		return true;
	}
	return value(m) && op(m) && value(m);
}

/* item, then more items each after the keyword op ("and", "or"). */
static bool chain(struct marker *m, const char *op, bool (*item)(struct marker *m))
{
	if (!item(m)) {
		return false;
	}
	for (;;) {
		blanks(m);
		if (!word(m, op)) {
			return true;
		}
		if (!item(m)) {
			return false;
		}
	}
}

static bool conjunction(struct marker *m)
{
	return chain(m, "and", atom);
}

static bool disjunction(struct marker *m)
{
	return chain(m, "or", conjunction);
}

bool pip_marker_valid(const char *s, size_t n)
{
	struct marker m = { s, s + n, 0 };
	if (!disjunction(&m)) {
		return false;
	}
	blanks(&m);
	return m.p == m.end;
}
