/*
 * pom.c - Maven's pom.xml (read with the small XML reader in xml.c).
 *
 * Packages are the project's <dependencies> and its <dependencyManagement>, named
 * groupId:artifactId. ${name} references are resolved from the file alone: its
 * <properties> (which may refer to each other; the last of a name given twice, as Maven
 * reads them into a java.util.Properties), and project.version, project.groupId,
 * project.artifactId and project.parent.version (also under their pom./bare spellings).
 * A dependency without a version takes it from the dependencyManagement entry of the
 * same name; a managed entry is also a package of its own, as Maven may resolve to it.
 * A version range ("[1.2,2.0)") stands for its lower bound ("0" when it has none) and is
 * marked unpinned. What the file cannot resolve (a property it does not define, usually a
 * parent's, or a missing version) is not guessed: the package keeps the text it has, is
 * marked unresolved with a note, and the scan reports it. The scope is the group.
 */
#include "parsers.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>

#include "banned.h"

#define POM_MAX_EXPANSIONS 16

struct pom {
	const struct xnode *project, *props, *parent;
};

static const char *trimmed(struct dep_ctx *c, const char *s)
{
	if (!s) {
		return NULL;
	}
	while (isspace((unsigned char)*s)) {
		s++;
	}
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1])) {
		n--;
	}
	return dep_strndup(c, s, n);
}

static const char *child_text(struct dep_ctx *c, const struct xnode *n, const char *name)
{
	const struct xnode *ch = xml_child(n, name);
	return ch ? trimmed(c, ch->text) : NULL;
}

/* The last child element named name: of a property given twice, Maven keeps the last. */
static const struct xnode *last_child(const struct xnode *n, const char *name)
{
	const struct xnode *found = NULL;
	for (size_t i = 0; n && i < n->n_children; i++) {
		if (str_eq(n->children[i]->name, name)) {
			found = n->children[i];
		}
	}
	return found;
}

static const char *lookup(struct dep_ctx *c, const struct pom *p, const char *name)
{
	const struct xnode *ch = last_child(p->props, name);
	if (ch) {
		return trimmed(c, ch->text);
	}
	const char *key = name;
	if (str_has_prefix(key, "project.")) {
		key += 8;
	} else if (str_has_prefix(key, "pom.")) {
		key += 4;
	}
	if (str_eq(key, "version") || str_eq(key, "groupId")) {
		const char *v = child_text(c, p->project, key);
		return v ? v : child_text(c, p->parent, key);
	}
	if (str_eq(key, "artifactId")) {
		return child_text(c, p->project, key);
	}
	if (str_eq(key, "parent.version") || str_eq(key, "parent.groupId") ||
	    str_eq(key, "parent.artifactId")) {
		return child_text(c, p->parent, key + 7);
	}
	return NULL;
}

/*
 * Replace every ${name}; *unresolved gets why a reference is left (the first property that
 * is not defined, or one that does not resolve), as a note, or NULL.
 */
static const char *interpolate(struct dep_ctx *c, const struct pom *p, const char *s,
			       const char **unresolved)
{
	const char *missing = NULL;
	*unresolved = NULL;
	for (unsigned round = 0; s && strstr(s, "${") && round < POM_MAX_EXPANSIONS; round++) {
		struct sbuf sb;
		sbuf_init(&sb, 1u << 20);
		const char *q = s;
		bool changed = false;
		for (;;) {
			const char *open = strstr(q, "${");
			const char *close = open ? strchr(open + 2, '}') : NULL;
			if (!open || !close) {
				sbuf_puts(&sb, q);
				break;
			}
			sbuf_append(&sb, q, (size_t)(open - q));
			const char *name = dep_strndup(c, open + 2, (size_t)(close - open - 2));
			const char *v = lookup(c, p, name);
			if (v) {
				sbuf_puts(&sb, v);
				changed = true;
			} else {
				if (!missing) {
					missing = name;
				}
				sbuf_append(&sb, open, (size_t)(close - open + 1));
			}
			q = close + 1;
		}
		s = dep_strdup(c, sb.data ? sb.data : "");
		sbuf_release(&sb);
		if (!changed) {
			break;
		}
	}
	if (missing) {
		*unresolved =
			dep_printf(c, "the property ${%s} is not defined in this file", missing);
	} else if (s && strstr(s, "${")) {
		/* Every name is defined, yet a reference is left: a cycle (or a very long
		 * chain), or a "${" without its "}". */
		const char *open = strstr(s, "${");
		size_t n = strcspn(open + 2, "}");
		if (!open[2 + n]) {
			*unresolved = dep_printf(c, "an unterminated ${ in '%.64s'", s);
		} else {
			*unresolved = dep_printf(c,
						 "the property ${%.*s} does not resolve within %u "
						 "expansions (is it defined in terms of itself?)",
						 (int)n, open + 2, POM_MAX_EXPANSIONS);
		}
	}
	return s;
}

/* The lower bound of a version range, or the version itself. */
static const char *lower_bound(struct dep_ctx *c, const char *v, bool *range)
{
	*range = v[0] == '[' || v[0] == '(';
	const char *s = *range ? v + 1 : v;
	size_t n = strcspn(s, ",)]");
	const char *out = trimmed(c, dep_strndup(c, s, n));
	if (*range && !*out) {
		return "0";
	}
	return out;
}

struct pom_entry {
	struct dep *d;
	bool explicit_version;
};

static int add_dependency(struct dep_ctx *c, const struct pom *p, const struct xnode *dep,
			  bool managed, struct pom_entry **tab, size_t *n, size_t *cap)
{
	const char *miss1, *miss2, *miss3;
	const char *group = interpolate(c, p, child_text(c, dep, "groupId"), &miss1);
	const char *artifact = interpolate(c, p, child_text(c, dep, "artifactId"), &miss2);
	const struct xnode *vnode = xml_child(dep, "version");
	const char *raw = vnode ? trimmed(c, vnode->text) : NULL;
	const char *version = raw ? interpolate(c, p, raw, &miss3) : NULL;
	if (!raw) {
		miss3 = NULL;
	}
	if (!group || !*group || !artifact || !*artifact) {
		return dep_error(c, dep->line, 0, "a <dependency> without groupId or artifactId");
	}
	const char *name = dep_printf(c, "%s:%s", group, artifact);
	unsigned line = vnode ? vnode->line : dep->line;
	/* The same name again: a managed version fills in a missing one, never one that is
	 * written, even when it cannot be resolved here (it is a parent's property, which
	 * Maven uses: the managed version is not). */
	for (size_t i = 0; i < *n; i++) {
		struct pom_entry *e = &(*tab)[i];
		if (!str_eq(e->d->name, name)) {
			continue;
		}
		if (!e->explicit_version && version && !miss3) {
			bool range;
			e->d->version = lower_bound(c, version, &range);
			e->d->flags = range ? DEP_UNPINNED : 0;
			e->d->note = range ? dep_printf(c, "version range %s", version) : NULL;
			e->d->line = line;
			e->explicit_version = true;
		}
		return 0;
	}
	struct dep *d = dep_add(c, ECO_MAVEN, name, "", line);
	if (!d) {
		return dep_error(c, line, 0, "too many packages");
	}
	GROW(*tab, *cap, *n + 1);
	(*tab)[(*n)++] = (struct pom_entry){ d, raw != NULL };
	const char *missing = miss1 ? miss1 : miss2 ? miss2 : miss3;
	if (!missing && version && !*version) {
		/* Maven fails such a build: nothing to check, which must not pass unnoticed. */
		missing = "an empty <version>";
	}
	if (!version) {
		d->flags |= DEP_UNRESOLVED;
		d->note = "no version in this file (inherited from a parent POM or a BOM?)";
	} else if (missing) {
		d->version = version;
		d->flags |= DEP_UNRESOLVED;
		d->note = missing;
	} else {
		bool range;
		d->version = lower_bound(c, version, &range);
		if (range) {
			d->flags |= DEP_UNPINNED;
			d->note = dep_printf(c, "version range %s", version);
		}
	}
	const char *scope = child_text(c, dep, "scope");
	if (scope && *scope) {
		dep_add_group(c, d, scope);
	}
	(void)managed;
	return 0;
}

static int add_list(struct dep_ctx *c, const struct pom *p, const struct xnode *deps, bool managed,
		    struct pom_entry **tab, size_t *n, size_t *cap)
{
	for (size_t i = 0; deps && i < deps->n_children; i++) {
		const struct xnode *d = deps->children[i];
		if (!str_eq(d->name, "dependency")) {
			continue;
		}
		int r = add_dependency(c, p, d, managed, tab, n, cap);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

int parse_pom_xml(struct dep_ctx *c, const char *buf, size_t len)
{
	char err[256];
	unsigned line = 0, col = 0;
	struct xnode *root = xml_parse(buf, len, &line, &col, err, sizeof(err));
	if (!root) {
		return dep_error(c, line, col, "%s", err);
	}
	if (!str_eq(root->name, "project")) {
		unsigned l = root->line;
		char *name = xstrdup(root->name);
		xml_free(root);
		int r = dep_error(c, l, 1, "the root element is <%s>, not <project>", name);
		free(name);
		return r;
	}
	struct pom p = {
		.project = root,
		.props = xml_child(root, "properties"),
		.parent = xml_child(root, "parent"),
	};
	struct pom_entry *tab = NULL;
	size_t n = 0, cap = 0;
	int r = add_list(c, &p, xml_child(root, "dependencies"), false, &tab, &n, &cap);
	if (r == 0) {
		r = add_list(c, &p,
			     xml_child(xml_child(root, "dependencyManagement"), "dependencies"),
			     true, &tab, &n, &cap);
	}
	free(tab);
	xml_free(root);
	return r;
}
