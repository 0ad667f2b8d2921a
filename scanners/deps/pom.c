/*
 * pom.c - Maven's pom.xml (read with the small XML reader in xml.c).
 *
 * Packages are the project's <dependencies> and its <dependencyManagement>, named
 * groupId:artifactId. ${name} references are resolved from the file alone: its
 * <properties> (which may refer to each other; the last of a name given twice, as Maven
 * reads them into a java.util.Properties), and project.version, project.groupId,
 * project.artifactId and project.parent.version (also under their pom./bare spellings).
 * Dependencies are told apart as Maven does, by groupId:artifactId:type:classifier:
 * declared twice in <dependencies>, the last declaration counts, in
 * <dependencyManagement> the first; the same name and version twice is one package. A
 * dependency without a version takes it from the dependencyManagement entry of the same
 * key; a managed entry is also a package of its own, as Maven may resolve to it.
 * A version range ("[1.2,2.0)") stands for its lower bound ("0" when it has none) and is
 * marked unpinned. The scope is the group.
 *
 * Parents: a <parent> found in the scanned tree (its relativePath, by default
 * ../pom.xml) whose groupId, artifactId and version are the ones the child names gives
 * the child its properties, its dependencyManagement and its dependencies, as Maven
 * inherits them (the child's own win; the nearest parent first; up to POM_MAX_PARENTS).
 * The inherited dependencies are packages of the child too (they ship with it), on the
 * line of its <parent>. What the files cannot resolve (a parent in a repository, a
 * property nobody defines, a missing version, an imported BOM) is not guessed: the
 * package keeps the text it has, is marked unresolved with a note, and the scan reports
 * it.
 *
 * Profiles: which are active the file does not say (-P, the JDK, the OS, properties), and
 * the dependencies of an active one ship. Every build is read: the default one (with the
 * activeByDefault profiles, their properties, dependencies and dependencyManagement),
 * then the project with each other profile on its own (and alone, as Maven builds it when
 * a profile turns the activeByDefault ones off). What only such a build has is reported
 * too, in the group "profile:<id>". Those builds are capped in dependencies read.
 */
#include "parsers.h"

#include "hmap.h"
#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "banned.h"

#define POM_MAX_EXPANSIONS 16
/* Parents followed from one file (Maven projects nest a few levels). */
#define POM_MAX_PARENTS 16
/* Dependency declarations read for the builds with a profile, beyond the default one. */
#define POM_MAX_PROFILE_WORK 100000u

/* A parent POM read from the scanned tree. */
struct pom_parent {
	struct xnode *project;
	const char *display; /* its path, as the scan shows it (arena) */
	/* It, or a nearer parent, has profiles that may change what it gives: what comes
	 * from it is unresolved (pom->no_parent says why). */
	bool profiled;
};

/* One build of the project: the project and the profiles active in it. */
struct pom {
	const struct xnode *project, *props, *parent;
	const struct xnode *const *profiles; /* in document order */
	size_t n_profiles;
	const struct pom_parent *parents; /* the nearest first */
	size_t n_parents;
	const char *no_parent; /* why a <parent> was not read (a note), or NULL */
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
	/* An active profile's properties override the project's (the last profile first). */
	const struct xnode *ch = NULL;
	for (size_t i = p->n_profiles; i-- > 0 && !ch;) {
		ch = last_child(xml_child(p->profiles[i], "properties"), name);
	}
	ch = ch ? ch : last_child(p->props, name);
	/* Then the parents' (the nearest first): Maven interpolates the inherited model. */
	for (size_t i = 0; i < p->n_parents && !ch && !p->parents[i].profiled; i++) {
		ch = last_child(xml_child(p->parents[i].project, "properties"), name);
	}
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
		*unresolved = dep_printf(c, "the property ${%s} is not defined in this file%s%s",
					 missing, p->n_parents ? " or its parents" : "",
					 p->no_parent ? p->no_parent : "");
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

/* The lower bound of a version range, or the version itself. LATEST and RELEASE (Maven 2's
 * metaversions) allow any version: lower bound 0. */
static const char *lower_bound(struct dep_ctx *c, const char *v, bool *range)
{
	if (str_eq(v, "LATEST") || str_eq(v, "RELEASE")) {
		*range = true;
		return "0";
	}
	*range = v[0] == '[' || v[0] == '(';
	const char *s = *range ? v + 1 : v;
	size_t n = strcspn(s, ",)]");
	const char *out = trimmed(c, dep_strndup(c, s, n));
	if (*range && (!out || !*out)) {
		return "0";
	}
	return out;
}

/* A dependency, or a managed one, as a build of the project sees it. */
struct pom_dep {
	const char *key;     /* groupId:artifactId:type:classifier, which Maven tells apart */
	const char *name;    /* groupId:artifactId */
	const char *version; /* resolved, or the text that is not; NULL: no <version> */
	const char *note;    /* why unresolved or unpinned */
	const char *missing; /* why groupId or artifactId is unresolved, or NULL */
	const char *scope;
	unsigned line, flags;
	size_t list; /* which list declared it */
};

struct pom_deps {
	struct pom_dep *v;
	size_t n, cap;
	struct hmap *index; /* key -> position + 1 */
};

static void pom_deps_append(struct pom_deps *l, const struct pom_dep *e)
{
	if (!l->index) {
		l->index = hmap_new(16);
	}
	GROW(l->v, l->cap, l->n + 1);
	l->v[l->n++] = *e;
	hmap_put(l->index, e->key, (void *)(uintptr_t)l->n);
}

static void pom_deps_release(struct pom_deps *l)
{
	free(l->v);
	hmap_free(l->index);
}

static struct pom_dep *pom_deps_find(const struct pom_deps *l, const char *key)
{
	void *i = l->index ? hmap_get(l->index, key) : NULL;
	return i ? &l->v[(uintptr_t)i - 1] : NULL;
}

/* Give e the version text v (interpolated), or mark why it is unresolved. */
static void set_version(struct dep_ctx *c, struct pom_dep *e, const char *v, const char *missing)
{
	if (!missing && !*v) {
		/* Maven fails such a build: nothing to check, which must not pass unnoticed. */
		missing = "an empty <version>";
	}
	if (missing) {
		e->version = v;
		e->flags = DEP_UNRESOLVED;
		e->note = missing;
		return;
	}
	bool range;
	e->version = lower_bound(c, v, &range);
	e->flags = range ? DEP_UNPINNED : 0;
	e->note = range ? dep_printf(c, "version range %s", v) : NULL;
}

static int read_dependency(struct dep_ctx *c, const struct pom *p, const struct xnode *dep,
			   struct pom_dep *e)
{
	const char *miss1, *miss2, *miss3, *ignored;
	const char *group = interpolate(c, p, child_text(c, dep, "groupId"), &miss1);
	const char *artifact = interpolate(c, p, child_text(c, dep, "artifactId"), &miss2);
	if (!group || !*group || !artifact || !*artifact) {
		return dep_error(c, dep->line, 0, "a <dependency> without groupId or artifactId");
	}
	const char *type = interpolate(c, p, child_text(c, dep, "type"), &ignored);
	const char *classifier = interpolate(c, p, child_text(c, dep, "classifier"), &ignored);
	const struct xnode *vnode = xml_child(dep, "version");
	*e = (struct pom_dep){
		.key = dep_printf(c, "%s:%s:%s:%s", group, artifact, type && *type ? type : "jar",
				  classifier ? classifier : ""),
		.name = dep_printf(c, "%s:%s", group, artifact),
		.missing = miss1 ? miss1 : miss2,
		.scope = child_text(c, dep, "scope"),
		.line = vnode ? vnode->line : dep->line,
	};
	if (vnode) {
		const char *v = interpolate(c, p, trimmed(c, vnode->text), &miss3);
		set_version(c, e, v, e->missing ? e->missing : miss3);
	}
	return 0;
}

/* The next <dependency> element of deps from *i on, or NULL at the end. */
static const struct xnode *next_dependency(const struct xnode *deps, size_t *i)
{
	while (deps && *i < deps->n_children) {
		const struct xnode *d = deps->children[(*i)++];
		if (str_eq(d->name, "dependency")) {
			return d;
		}
	}
	return NULL;
}

/*
 * Add the <dependency> elements of deps (list number `list`) to out. Of two with the same
 * key, Maven keeps the last in <dependencies> (`last_wins`) and the first in
 * <dependencyManagement>.
 */
static int read_list(struct dep_ctx *c, const struct pom *p, const struct xnode *deps, size_t list,
		     bool last_wins, struct pom_deps *out)
{
	const struct xnode *dn;
	for (size_t i = 0; (dn = next_dependency(deps, &i));) {
		struct pom_dep e;
		int r = read_dependency(c, p, dn, &e);
		if (r < 0) {
			return r;
		}
		e.list = list;
		struct pom_dep *old = pom_deps_find(out, e.key);
		if (old) {
			if (last_wins || old->list != list) {
				*old = e;
			}
			continue;
		}
		pom_deps_append(out, &e);
	}
	return 0;
}

/*
 * What the parents' lists (their <dependencies>, or with `managed` those of their
 * <dependencyManagement>) add to a build: the entries whose key neither `own` nor the
 * result has yet (the child's own win, then the nearest parent's). Interpolated with the
 * child's model, as Maven does after inheriting. `at_line`, when not 0, is the line they
 * are reported on.
 */
static int read_inherited(struct dep_ctx *c, const struct pom *p, bool managed,
			  const struct pom_deps *own, unsigned at_line, struct pom_deps *out)
{
	for (size_t k = 0; k < p->n_parents; k++) {
		const struct xnode *proj = p->parents[k].project;
		/* The parent's own lists; a profiled parent's profiles too, whose entries the
		 * child may get as well (unresolved, as all such a parent gives). */
		const struct xnode *profiles =
			p->parents[k].profiled ? xml_child(proj, "profiles") : NULL;
		size_t n_src = 1 + (profiles ? profiles->n_children : 0);
		for (size_t src = 0; src < n_src; src++) {
			const struct xnode *from = src ? profiles->children[src - 1] : proj;
			if (src && !str_eq(from->name, "profile")) {
				continue;
			}
			const struct xnode *deps =
				managed ? xml_child(xml_child(from, "dependencyManagement"),
						    "dependencies")
					: xml_child(from, "dependencies");
			const struct xnode *dn;
			for (size_t i = 0; (dn = next_dependency(deps, &i));) {
				struct pom_dep e;
				int r = read_dependency(c, p, dn, &e);
				if (r < 0) {
					return r;
				}
				if (p->parents[k].profiled) {
					e.missing = dep_printf(c, "from the parent POM %s%s",
							       p->parents[k].display, p->no_parent);
				}
				/* Of two in one parent's <dependencies>, the last counts, as in its
				 * own build; a nearer file's entry (or the child's) wins over it.
				 */
				e.list = SIZE_MAX - k;
				struct pom_dep *old = pom_deps_find(out, e.key);
				/* (The child's own entries are in own, which may be out itself:
				 * their lists are the child's, below the parents'.) */
				bool childs =
					own != out ? pom_deps_find(own, e.key) != NULL
						   : old && old->list < SIZE_MAX - POM_MAX_PARENTS;
				if (childs || (old && (managed || old->list != e.list))) {
					continue;
				}
				if (at_line) {
					e.line = at_line;
				}
				if (!managed && !e.note) {
					e.note = dep_printf(c, "inherited from the parent POM %s",
							    p->parents[k].display);
				}
				if (old) {
					*old = e;
				} else {
					pom_deps_append(out, &e);
				}
			}
		}
	}
	return 0;
}

/*
 * Add a package of a build. `profile`, for a build with a profile active, is given to a
 * package the default build does not have (the first `default_end` of the list are its).
 */
static int add_package(struct dep_ctx *c, const struct pom_dep *e, const char *profile,
		       size_t default_end)
{
	const char *version = e->version ? e->version : "";
	const char *key = dep_printf(c, "%s\n%s\n%u", e->name, version, e->flags);
	bool added;
	struct dep *d = dep_add_unique(c, key, ECO_MAVEN, e->name, version, e->line, &added);
	if (!d) {
		return dep_error(c, e->line, 0, "too many packages");
	}
	if (added) {
		d->flags = e->flags;
		d->note = e->note;
	}
	if (e->scope && *e->scope) {
		dep_add_group(c, d, e->scope);
	}
	if (profile && (size_t)(d - c->l->v) >= default_end) {
		dep_add_group(c, d, profile);
	}
	return 0;
}

/*
 * The packages of a build: its dependencies, those without a version taking the managed
 * one of the same key, never one that is written, even when it cannot be resolved here
 * (a parent's property, which Maven uses: the managed version is not); and the managed
 * entries no dependency has the key of, as Maven may resolve to them.
 */
static int add_build(struct dep_ctx *c, const struct pom *p, const char *profile,
		     size_t default_end)
{
	struct pom_deps deps = { 0 }, managed = { 0 }, inherited = { 0 };
	int r = 0;
	/* The project's lists, then each active profile's, which override them. */
	for (size_t i = 0; i <= p->n_profiles && r == 0; i++) {
		const struct xnode *src = i == 0 ? p->project : p->profiles[i - 1];
		r = read_list(c, p, xml_child(src, "dependencies"), i, true, &deps);
		if (r == 0) {
			r = read_list(
				c, p,
				xml_child(xml_child(src, "dependencyManagement"), "dependencies"),
				i, false, &managed);
		}
	}
	/* The parents' dependencies (on the line of <parent>), then their managed entries,
	 * which only give versions: they are the parents' own packages. */
	if (r == 0 && p->n_parents) {
		r = read_inherited(c, p, false, &deps, p->parent->line, &deps);
	}
	if (r == 0 && p->n_parents) {
		r = read_inherited(c, p, true, &managed, 0, &inherited);
	}
	const char *missing_version =
		p->no_parent   ? dep_printf(c, "no version in this file%s", p->no_parent)
		: p->n_parents ? "no version in this file or its parents (from a BOM they import?)"
			       : "no version in this file (inherited from a parent POM or a BOM?)";
	for (size_t i = 0; i < deps.n && r == 0; i++) {
		struct pom_dep *e = &deps.v[i];
		const struct pom_dep *m = e->version ? NULL : pom_deps_find(&managed, e->key);
		const struct pom_dep *im =
			e->version || m ? NULL : pom_deps_find(&inherited, e->key);
		if (m && m->version) {
			e->version = m->version;
			e->flags = m->flags;
			e->note = m->note;
			e->line = m->line;
			e->scope = e->scope ? e->scope : m->scope;
		} else if (im && im->version) {
			/* (Its line is in the parent: the package stays on this file's.) */
			e->version = im->version;
			e->flags = im->flags;
			e->note = im->note;
			e->missing = e->missing ? e->missing : im->missing;
			e->scope = e->scope ? e->scope : im->scope;
		}
		if (!e->version) {
			e->flags = DEP_UNRESOLVED;
			e->note = missing_version;
		} else if (e->missing) {
			e->flags = DEP_UNRESOLVED;
			e->note = e->missing;
		}
		r = add_package(c, e, profile, default_end);
	}
	for (size_t i = 0; i < managed.n && r == 0; i++) {
		struct pom_dep *m = &managed.v[i];
		if (pom_deps_find(&deps, m->key)) {
			continue;
		}
		const struct pom_dep *im = m->version ? NULL : pom_deps_find(&inherited, m->key);
		if (im && im->version) {
			m->version = im->version;
			m->flags = im->flags;
			m->note = im->note;
		}
		if (!m->version) {
			m->flags = DEP_UNRESOLVED;
			m->note = missing_version;
		}
		r = add_package(c, m, profile, default_end);
	}
	pom_deps_release(&deps);
	pom_deps_release(&managed);
	pom_deps_release(&inherited);
	return r;
}

/* How many <dependency> elements a profile (or the project) declares itself. */
static size_t declared(const struct xnode *n)
{
	const struct xnode *lists[] = {
		xml_child(n, "dependencies"),
		xml_child(xml_child(n, "dependencyManagement"), "dependencies"),
	};
	size_t k = 0;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		k += lists[i] ? lists[i]->n_children : 0;
	}
	return k;
}

static bool active_by_default(struct dep_ctx *c, const struct xnode *profile)
{
	const char *v = child_text(c, xml_child(profile, "activation"), "activeByDefault");
	return v && strcasecmp(v, "true") == 0;
}

/*
 * Every build the file can make with its profiles (see the top of the file): the default
 * one, the project alone when a profile can turn the activeByDefault ones off, and the
 * project with each other profile that can change something.
 */
static int add_builds(struct dep_ctx *c, struct pom *p)
{
	const struct xnode *profiles = xml_child(p->project, "profiles");
	size_t n = profiles ? profiles->n_children : 0;
	const struct xnode **defaults = xcalloc(n + 1, sizeof(*defaults));
	const struct xnode **others = xcalloc(n + 1, sizeof(*others));
	size_t n_defaults = 0, n_others = 0;
	for (size_t i = 0; i < n; i++) {
		const struct xnode *pr = profiles->children[i];
		if (!str_eq(pr->name, "profile")) {
			continue;
		}
		if (active_by_default(c, pr)) {
			defaults[n_defaults++] = pr;
		} else {
			others[n_others++] = pr;
		}
	}
	p->profiles = defaults;
	p->n_profiles = n_defaults;
	int r = add_build(c, p, NULL, 0);
	size_t default_end = c->l->n;
	/* The other builds, within a budget: each reads the project's lists again. */
	size_t work = 0, base = declared(p->project);
	/* Each build reads the parents' lists again too. */
	for (size_t i = 0; i < p->n_parents; i++) {
		const struct xnode *pp = p->parents[i].project;
		base += declared(pp);
		const struct xnode *profs =
			p->parents[i].profiled ? xml_child(pp, "profiles") : NULL;
		for (size_t k = 0; profs && k < profs->n_children; k++) {
			base += declared(profs->children[k]);
		}
	}
	if (r == 0 && n_defaults && n_others) {
		p->n_profiles = 0;
		work += base;
		r = add_build(c, p, NULL, default_end);
	}
	for (size_t i = 0; i < n_others && r == 0; i++) {
		const struct xnode *pr = others[i];
		if (!xml_child(pr, "dependencies") && !xml_child(pr, "dependencyManagement") &&
		    !xml_child(pr, "properties")) {
			continue; /* a build of the project alone (plugins, repositories...) */
		}
		work += base + declared(pr) + 1;
		if (work > POM_MAX_PROFILE_WORK) {
			r = dep_error(
				c, pr->line, 0,
				"too many profiles to read: their builds exceed %u dependency "
				"declarations",
				POM_MAX_PROFILE_WORK);
			break;
		}
		const char *id = child_text(c, pr, "id");
		p->profiles = &others[i];
		p->n_profiles = 1;
		r = add_build(c, p, dep_printf(c, "profile:%s", id && *id ? id : "default"),
			      default_end);
	}
	free(defaults);
	free(others);
	return r;
}

/* The project's coordinate `what` (groupId, version), or its parent's, as the text says. */
static const char *coordinate(struct dep_ctx *c, const struct xnode *project, const char *what)
{
	const char *v = child_text(c, project, what);
	return v ? v : child_text(c, xml_child(project, "parent"), what);
}

/*
 * Read the parents of project (whose file is at path) from the scanned tree into
 * out[0..*n): each where its child's relativePath says, when it names the coordinates the
 * child gives. Sets *why (a note) when a <parent> is left unread. Never an error: what is
 * not read leaves the child's references unresolved.
 */
static void read_parents(struct dep_ctx *c, const struct xnode *project, const char *path,
			 struct pom_parent *out, size_t *n, const char **why)
{
	*n = 0;
	*why = NULL;
	_cleanup_free_ char *file = path ? xstrdup(path) : NULL;
	const char *seen[POM_MAX_PARENTS + 1];
	size_t n_seen = 0;
	_cleanup_free_ char *self = path ? realpath(path, NULL) : NULL;
	if (self) {
		seen[n_seen++] = self;
	}
	while (file && project) {
		const struct xnode *parent = xml_child(project, "parent");
		if (!parent) {
			return;
		}
		const char *g = child_text(c, parent, "groupId");
		const char *a = child_text(c, parent, "artifactId");
		const char *v = child_text(c, parent, "version");
		const char *gav = dep_printf(c, "%s:%s:%s", g ? g : "?", a ? a : "?", v ? v : "?");
		if (*n >= POM_MAX_PARENTS) {
			*why = dep_printf(c, " (more than %u parent POMs: %s not read)",
					  POM_MAX_PARENTS, gav);
			return;
		}
		const struct xnode *rp = xml_child(parent, "relativePath");
		const char *rel = rp ? trimmed(c, rp->text) : "../pom.xml";
		if (!rel || !*rel) {
			*why = dep_printf(c, " (its parent POM %s is not in the scanned tree)",
					  gav);
			return;
		}
		char *slash = strrchr(file, '/');
		_cleanup_free_ char *dir =
			slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
		_cleanup_free_ char *cand =
			rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", dir, rel);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
			char *f = xasprintf("%s/pom.xml", cand);
			free(cand);
			cand = f;
		}
		_cleanup_free_ char *real = dep_realpath_inside(c, cand);
		if (!real) {
			*why = dep_printf(c, " (its parent POM %s is not in the scanned tree: %s)",
					  gav, errno == EXDEV ? "outside it" : strerror(errno));
			return;
		}
		for (size_t i = 0; i < n_seen; i++) {
			if (str_eq(seen[i], real)) {
				*why = dep_printf(c, " (the parent POMs form a cycle at %s)", gav);
				return;
			}
		}
		char *buf = NULL;
		size_t len = 0;
		char err[256];
		unsigned line = 0, col = 0;
		int rr = read_file_capped(real, DEPS_MAX_FILE_BYTES, &buf, &len);
		if (rr == 0 && dep_count_read(c->l, len) < 0) {
			free(buf);
			*why = dep_printf(
				c, " (the scan has read too much to read its parent POM %s)", gav);
			return;
		}
		struct xnode *root =
			rr == 0 ? xml_parse(buf, len, &line, &col, err, sizeof(err)) : NULL;
		free(buf);
		/* Maven takes the file only when it is the parent named; else from a
		 * repository, which the scan cannot read. */
		const char *pg = root ? coordinate(c, root, "groupId") : NULL;
		const char *pa = root ? child_text(c, root, "artifactId") : NULL;
		const char *pv = root ? coordinate(c, root, "version") : NULL;
		if (!root || !str_eq(root->name, "project") || !g || !a || !v || !pg || !pa ||
		    !pv || !str_eq(g, pg) || !str_eq(a, pa) || !str_eq(v, pv)) {
			xml_free(root);
			*why = dep_printf(c, " (its parent POM %s is not the one at %s)", gav, rel);
			return;
		}
		/* Which of a parent's profiles are active its file does not say (-P, the JDK,
		 * activeByDefault unless another is on...), and they change what the child
		 * inherits: what such a parent (and those above it) gives is unresolved, its
		 * dependencies included, never taken as written. */
		bool profiled = *n && out[*n - 1].profiled;
		const struct xnode *profiles = xml_child(root, "profiles");
		for (size_t i = 0; !profiled && profiles && i < profiles->n_children; i++) {
			const struct xnode *pr = profiles->children[i];
			if (str_eq(pr->name, "profile") &&
			    (xml_child(pr, "properties") || xml_child(pr, "dependencies") ||
			     xml_child(pr, "dependencyManagement"))) {
				profiled = true;
				*why = dep_printf(
					c,
					" (its parent POM %s has profiles that change what "
					"it gives, which the scan does not choose among)",
					gav);
			}
		}
		const char *root_dir = c->l->root;
		size_t rl = root_dir ? strlen(root_dir) : 0;
		const char *shown = rl && strncmp(real, root_dir, rl) == 0 && real[rl] == '/'
					    ? real + rl + 1
					    : real;
		seen[n_seen++] = dep_strdup(c, real);
		out[*n].project = root;
		out[*n].display = dep_strdup(c, shown);
		out[*n].profiled = profiled;
		(*n)++;
		project = root;
		free(file);
		file = xstrdup(real);
	}
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
	struct pom_parent parents[POM_MAX_PARENTS];
	struct pom p = {
		.project = root,
		.props = xml_child(root, "properties"),
		.parent = xml_child(root, "parent"),
		.parents = parents,
	};
	read_parents(c, root, c->path, parents, &p.n_parents, &p.no_parent);
	int r = add_builds(c, &p);
	for (size_t i = 0; i < p.n_parents; i++) {
		xml_free(parents[i].project);
	}
	xml_free(root);
	return r;
}
