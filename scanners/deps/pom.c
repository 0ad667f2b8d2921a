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
 * key; a managed entry is also a package of its own, as Maven may resolve to it, but for
 * an import (a BOM), which Maven replaces with what the BOM manages.
 * A version range ("[1.2,2.0)") stands for its lower bound ("0" when it has none) and is
 * marked unpinned. The scope is the group.
 *
 * Parents: a <parent> found in the scanned tree (its relativePath, by default
 * ../pom.xml) whose groupId, artifactId and version are the ones the child names gives
 * the child its properties, its dependencyManagement and its dependencies, as Maven
 * inherits them (the child's own win; the nearest parent first; up to POM_MAX_PARENTS).
 * The inherited dependencies are packages of the child too (they ship with it), on the
 * line of its <parent>. A version a parent manages stays on the child's line, with a
 * note that says which parent manages it and where, as for a BOM. Maven inherits a
 * <dependencyManagement> entry by key and keeps the child's whole: one of the child's
 * without a version manages none, whatever a parent's or an import's of the same key
 * gives (Maven refuses a dependency it leaves without one). What the files cannot
 * resolve (a parent in a repository, a property nobody defines, a missing version, a BOM
 * the scan cannot read) is not guessed: the package keeps the text it has, is marked
 * unresolved with a note, and the scan reports it.
 *
 * BOMs: an import (<type>pom</type><scope>import</scope> in <dependencyManagement>) is
 * read from the scanned tree: the pom.xml whose groupId:artifactId:version it names
 * (the tree's pom.xml files are indexed once per scan, the first time a build imports
 * one). The BOM's effective dependencyManagement, as Maven builds it (its own
 * properties and parents, its own imports, the first of a key winning), manages what
 * neither the module nor its parents manage, the module's imports before its parents',
 * in the order declared. A BOM-managed version stays on the module's line, and its note
 * says which BOM manages it and where. What a BOM the scan cannot read (not in the tree,
 * twice in it, malformed, with profiles, in a cycle, past a cap) might manage is
 * unresolved, from that import on, and the note says which BOM and why. What BOMs give
 * is kept for the scan (struct pom_cache), by coordinates.
 *
 * A local Maven repository (deps_maven_repository) holds the BOMs and parents the tree
 * does not: read from <dir>/<group path>/<artifact>/<version>/<artifact>-<version>.pom
 * where Maven would read a repository (a parent whose relativePath names no file of the
 * tree, or not that parent; a BOM the tree does not hold), never a SNAPSHOT (Maven may
 * use a newer build) nor a path out of the repository. A POM read from it has its
 * parents read from it only.
 *
 * Profiles: which are active the file does not say (-P, the JDK, the OS, properties), and
 * the dependencies of an active one ship. Every build is read: the default one (with the
 * activeByDefault profiles, their properties, dependencies and dependencyManagement),
 * then the project with each other profile on its own (and alone, as Maven builds it when
 * a profile turns the activeByDefault ones off). What only such a build has is reported
 * too, in the group "profile:<id>". Those builds are capped in dependencies read.
 */
#include "parsers.h"

#include "arena.h"
#include "diag.h"
#include "hmap.h"
#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
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
/* BOMs in one chain of imports (a module's own import is the first). */
#define POM_MAX_IMPORT_DEPTH 16u
/* BOM files one scan reads (what each BOM manages is kept for the scan). */
#define POM_MAX_BOMS 1000u
/* Entries the BOMs one scan reads manage, together (an import copies its BOM's). */
#define POM_MAX_BOM_ENTRIES 1000000u

/* A parent POM read from the scanned tree. */
struct pom_parent {
	struct xnode *project;
	const char *gav;     /* groupId:artifactId:version, as its child names it (arena) */
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
	/* The parent not read may be in a repository, where Maven takes it (see
	 * DEP_POM_NOT_FOUND). */
	bool parent_absent;
	/* A BOM's: how notes name it ("the BOM g:a:v"; NULL: "this file"), and its path as
	 * the scan shows it (NULL: the file being parsed). */
	const char *self, *display;
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
 * is not defined, or one that does not resolve), as a note, or NULL; *absent (unless
 * NULL) whether a parent that may define it is one the scan did not find (see
 * DEP_POM_NOT_FOUND).
 */
static const char *interpolate(struct dep_ctx *c, const struct pom *p, const char *s,
			       const char **unresolved, bool *absent)
{
	const char *missing = NULL;
	*unresolved = NULL;
	if (absent) {
		*absent = false;
	}
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
		*unresolved = dep_printf(c, "the property ${%s} is not defined in %s%s%s", missing,
					 p->self ? p->self : "this file",
					 p->n_parents ? " or its parents" : "",
					 p->no_parent ? p->no_parent : "");
		if (absent) {
			*absent = p->no_parent && p->parent_absent;
		}
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

/* The lower bound of a version range, or the version itself (also `[1.0]`, exactly 1.0,
 * which is no range). LATEST and RELEASE (Maven 2's metaversions, which Maven 3 still
 * resolves to the newest version or release) allow any version: lower bound 0. */
static const char *lower_bound(struct dep_ctx *c, const char *v, bool *range)
{
	if (str_eq(v, "LATEST") || str_eq(v, "RELEASE")) {
		*range = true;
		return "0";
	}
	*range = v[0] == '[' || v[0] == '(';
	const char *s = *range ? v + 1 : v;
	size_t n = strcspn(s, ",)]");
	/* `[1.0]`: Maven's hard requirement of exactly that version (one set, no comma). */
	if (v[0] == '[' && s[n] == ']' && s[n + 1] == '\0') {
		const char *exact = trimmed(c, dep_strndup(c, s, n));
		if (exact && *exact) {
			*range = false;
			return exact;
		}
	}
	const char *out = trimmed(c, dep_strndup(c, s, n));
	if (*range && (!out || !*out)) {
		return "0";
	}
	return out;
}

/* A dependency, or a managed one, as a build of the project sees it. */
struct pom_dep {
	const char *key;	/* groupId:artifactId:type:classifier, which Maven tells apart */
	const char *name;	/* groupId:artifactId */
	const char *version;	/* resolved, or the text that is not; NULL: no <version> */
	const char *note;	/* why unresolved or unpinned */
	const char *missing;	/* why groupId or artifactId is unresolved, or NULL */
	unsigned missing_flags; /* DEP_POM_NOT_FOUND, when it applies to missing */
	const char *scope;
	const char *type; /* "jar" when not given */
	unsigned line, flags;
	size_t list; /* which list declared it */
	/* A managed entry of a BOM: the BOM that manages it (groupId:artifactId:version) and
	 * the file its line is in (the BOM's, or one of its parents'). */
	const char *bom, *where;
	/* An entry of a parent's lists: that parent (groupId:artifactId:version). */
	const char *parent;
	/* A dependency of a parent's: the clause that says so ("inherited from the parent POM
	 * pom.xml"), which its note starts with wherever its version comes from. */
	const char *inherited;
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

/* A BOM as the scan read it: Maven's effective dependencyManagement of it (its own
 * entries, its parents', then its imports', the first of a key winning), without its
 * import entries, which Maven removes once imported. */
struct pom_bom {
	const char *gav;
	struct pom_deps managed;
	/* Why what it does not list may still be managed by it: a clause that names the BOM
	 * the scan could not read, and why; NULL when the list is whole. */
	const char *fail;
	unsigned height; /* the longest chain of imports from it, itself included */
	bool building;	 /* being read: an import of it now closes a cycle */
	/* fail is a cap's, which depends on where the BOM is imported: not kept. */
	bool capped;
	/* fail names a POM the scan did not find (see DEP_POM_NOT_FOUND). */
	bool absent;
};

/* An import as a build (or a BOM) sees it. */
struct bom_use {
	const char *gav;	   /* groupId:artifactId:version, as the import names it */
	const struct pom_bom *bom; /* what it manages, or NULL: nothing known */
	const char *fail;	   /* why more may be managed by it (see pom_bom), or NULL */
	unsigned height;
	bool capped;
	bool absent; /* fail names a POM the scan did not find (see DEP_POM_NOT_FOUND) */
};

static bool is_import(const struct pom_dep *e);
static size_t collect_imports(struct dep_ctx *c, const struct pom_deps *own,
			      const struct pom_deps *inherited, struct bom_use **out);
static bool from_boms(struct dep_ctx *c, const struct pom *p, const struct bom_use *imports,
		      size_t n, struct pom_dep *e, const struct bom_use **why);

/* Give e the version text v (interpolated), or mark why it is unresolved (`absent`:
 * DEP_POM_NOT_FOUND or 0, for `missing`). */
static void set_version(struct dep_ctx *c, struct pom_dep *e, const char *v, const char *missing,
			unsigned absent)
{
	if (!missing && !*v) {
		/* Maven fails such a build: nothing to check, which must not pass unnoticed. */
		missing = "an empty <version>";
		absent = 0;
	}
	if (missing) {
		e->version = v;
		e->flags = DEP_UNRESOLVED | absent;
		e->note = missing;
		return;
	}
	bool range;
	e->version = lower_bound(c, v, &range);
	e->flags = range ? DEP_UNPINNED : 0;
	/* LATEST and RELEASE are no range: Maven (3.8, deprecated but still read) resolves
	 * them from the repositories' metadata when it builds, to the newest version (a
	 * snapshot too) or the newest release. */
	e->note = !range		 ? NULL
		  : str_eq(v, "RELEASE") ? "RELEASE: Maven resolves it to the newest release at "
					   "build time, so any version may be built"
		  : str_eq(v, "LATEST")	 ? "LATEST: Maven resolves it to the newest version (a "
					   "snapshot too) at build time, so any version may be built"
					 : dep_printf(c, "version range %s", v);
}

static int read_dependency(struct dep_ctx *c, const struct pom *p, const struct xnode *dep,
			   struct pom_dep *e)
{
	const char *miss1, *miss2, *miss3, *ignored;
	bool abs1, abs2, abs3;
	const char *group = interpolate(c, p, child_text(c, dep, "groupId"), &miss1, &abs1);
	const char *artifact = interpolate(c, p, child_text(c, dep, "artifactId"), &miss2, &abs2);
	if (!group || !*group || !artifact || !*artifact) {
		return dep_error(c, dep->line, 0, "a <dependency> without groupId or artifactId");
	}
	const char *type = interpolate(c, p, child_text(c, dep, "type"), &ignored, NULL);
	const char *classifier =
		interpolate(c, p, child_text(c, dep, "classifier"), &ignored, NULL);
	const struct xnode *vnode = xml_child(dep, "version");
	*e = (struct pom_dep){
		.key = dep_printf(c, "%s:%s:%s:%s", group, artifact, type && *type ? type : "jar",
				  classifier ? classifier : ""),
		.name = dep_printf(c, "%s:%s", group, artifact),
		.missing = miss1 ? miss1 : miss2,
		.missing_flags = (miss1 ? abs1 : abs2) ? DEP_POM_NOT_FOUND : 0,
		.scope = child_text(c, dep, "scope"),
		.type = type && *type ? type : "jar",
		.line = vnode ? vnode->line : dep->line,
		.where = p->display,
	};
	if (vnode) {
		const char *v = interpolate(c, p, trimmed(c, vnode->text), &miss3, &abs3);
		set_version(c, e, v, e->missing ? e->missing : miss3,
			    e->missing ? e->missing_flags
			    : abs3     ? DEP_POM_NOT_FOUND
				       : 0);
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

/* How notes name the parent POM k parents above the module (0: its own parent), `what`
 * being its coordinates or "POM <path>": "the parent X", or "the ancestor X (3 levels up)"
 * (a parent's parent is no parent of the module's). */
static const char *ancestor(struct dep_ctx *c, size_t k, const char *what)
{
	return k == 0 ? dep_printf(c, "the parent %s", what)
		      : dep_printf(c, "the ancestor %s (%zu levels up)", what, k + 1);
}

/* How read_parents()'s notes name the parent POM gav it reads k parents above the module:
 * "its parent POM X", or "its ancestor X (3 levels up)". */
static const char *its_parent(struct dep_ctx *c, size_t k, const char *gav)
{
	return k == 0 ? dep_printf(c, "its parent POM %s", gav)
		      : dep_printf(c, "its ancestor %s (%zu levels up)", gav, k + 1);
}

/*
 * What the parents' lists (their <dependencies>, or with `managed` those of their
 * <dependencyManagement>) add to a build: the entries whose key neither `own` nor the
 * result has yet (the child's own win, then the nearest parent's). Interpolated with the
 * child's model, as Maven does after inheriting. `at_line`, when not 0, is the line they
 * are reported on. `shadowed`, when not NULL, gets the first entry of each key that the
 * child's own entry of that key takes the place of (Maven keeps the child's whole).
 */
static int read_inherited(struct dep_ctx *c, const struct pom *p, bool managed,
			  const struct pom_deps *own, unsigned at_line, struct pom_deps *out,
			  struct pom_deps *shadowed)
{
	for (size_t k = 0; k < p->n_parents; k++) {
		const struct xnode *proj = p->parents[k].project;
		/* The parent's own lists; a profiled parent's profiles too, whose entries the
		 * child may get as well (unresolved, as all such a parent gives). */
		const struct xnode *profiles =
			p->parents[k].profiled ? xml_child(proj, "profiles") : NULL;
		size_t n_src = 1 + (profiles ? profiles->n_children : 0);
		/* How notes name it: "the parent POM pom.xml", or an ancestor. */
		const char *pom = ancestor(c, k, dep_printf(c, "POM %s", p->parents[k].display));
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
				if (!managed) {
					e.inherited = dep_printf(c, "inherited from %s", pom);
				}
				if (p->parents[k].profiled) {
					e.missing =
						dep_printf(c, "%s%s",
							   managed ? dep_printf(c, "from %s", pom)
								   : e.inherited,
							   p->no_parent);
					e.missing_flags = p->parent_absent ? DEP_POM_NOT_FOUND : 0;
				}
				e.where = p->parents[k].display;
				e.parent = p->parents[k].gav;
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
				if (childs && shadowed && !pom_deps_find(shadowed, e.key)) {
					pom_deps_append(shadowed, &e);
				}
				if (childs || (old && (managed || old->list != e.list))) {
					continue;
				}
				if (at_line) {
					e.line = at_line;
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

/* The managed entry of key in l, or NULL: an import manages no artifact of its own key. */
static const struct pom_dep *managed_entry(const struct pom_deps *l, const char *key)
{
	const struct pom_dep *m = pom_deps_find(l, key);
	return m && !is_import(m) ? m : NULL;
}

/* The note of a version that the managed entry im of a parent (or an ancestor) gives:
 * where (as a BOM's does), after the entry's own note (a range's). */
static const char *parent_managed(struct dep_ctx *c, const struct pom_dep *im)
{
	const char *place =
		dep_printf(c, "managed by %s at %s:%u",
			   ancestor(c, SIZE_MAX - im->list, im->parent), im->where, im->line);
	return im->note ? dep_printf(c, "%s (%s)", im->note, place) : place;
}

/*
 * Of a managed entry of the module's own without a version: the clause, after `lead`,
 * that names the parent's entry of its key it takes the place of (from shadowed, see
 * read_inherited) and the version that one gives, or "" when no parent has one. Maven
 * inherits dependencyManagement by key and keeps the child's entry whole, version or not
 * (no field of the parent's is merged into it), so a parent's version never fills it.
 */
static const char *replaced(struct dep_ctx *c, const struct pom_deps *shadowed, const char *key,
			    const char *lead)
{
	const struct pom_dep *s = managed_entry(shadowed, key);
	if (!s) {
		return "";
	}
	const char *version = !s->version || s->missing || (s->flags & DEP_UNRESOLVED) ? ""
			      : s->note ? dep_printf(c, " (%s)", s->note)
					: dep_printf(c, " (version %s)", s->version);
	return dep_printf(c,
			  "%s replaces the one of %s at %s:%u%s whole, as Maven inherits "
			  "dependencyManagement",
			  lead, ancestor(c, SIZE_MAX - s->list, s->parent), s->where, s->line,
			  version);
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
 * entries no dependency has the key of, as Maven may resolve to them. A managed entry of
 * the build's own without a version gives none, and no parent's or import's entry of its
 * key does either (Maven keeps the child's entry whole): unresolved, saying so.
 */
static int add_build(struct dep_ctx *c, const struct pom *p, const char *profile,
		     size_t default_end)
{
	/* (shadowed: the parents' managed entries the module's own take the place of.) */
	struct pom_deps deps = { 0 }, managed = { 0 }, inherited = { 0 }, shadowed = { 0 };
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
		r = read_inherited(c, p, false, &deps, p->parent->line, &deps, NULL);
	}
	if (r == 0 && p->n_parents) {
		r = read_inherited(c, p, true, &managed, 0, &inherited, &shadowed);
	}
	/* The imports of the build: its own, then its parents', in the order declared. */
	struct bom_use *imports = NULL;
	size_t n_imports = r == 0 ? collect_imports(c, &managed, &inherited, &imports) : 0;
	const char *missing_version =
		p->no_parent   ? dep_printf(c, "no version in this file%s", p->no_parent)
		: n_imports    ? p->n_parents
					 ? "no version in this file, its parents or the BOMs imported"
					 : "no version in this file or the BOMs it imports"
		: p->n_parents ? "no version in this file or its parents (from a BOM they import?)"
			       : "no version in this file (inherited from a parent POM or a BOM?)";
	/* (What the parent not read says is in these notes.) */
	unsigned parent_absent = p->no_parent && p->parent_absent ? DEP_POM_NOT_FOUND : 0;
	for (size_t i = 0; i < deps.n && r == 0; i++) {
		struct pom_dep *e = &deps.v[i];
		/* (An import is no managed entry: Maven replaces it with what its BOM manages.) */
		const struct pom_dep *m = e->version ? NULL : managed_entry(&managed, e->key);
		const struct pom_dep *im =
			e->version || m ? NULL : managed_entry(&inherited, e->key);
		if (m && m->version) {
			/* On the line of the entry, where this file sets the version; of a
			 * dependency a parent declares, the note says so (below) and where. */
			e->version = m->version;
			e->flags = m->flags;
			e->note = m->note;
			e->line = m->line;
			e->scope = e->scope ? e->scope : m->scope;
			if (e->inherited) {
				const char *place =
					dep_printf(c, "managed by this file at line %u", m->line);
				e->note =
					m->note ? dep_printf(c, "%s (%s)", m->note, place) : place;
			}
		} else if (im && im->version) {
			/* (Its line is in the parent: the package stays on this file's, and the
			 * note says where.) */
			e->version = im->version;
			e->flags = im->flags;
			e->note = parent_managed(c, im);
			if (!e->missing) {
				e->missing = im->missing;
				e->missing_flags = im->missing_flags;
			}
			e->scope = e->scope ? e->scope : im->scope;
		}
		/* Imports manage only what neither the build nor its parents do. */
		const struct bom_use *why = NULL;
		if (!e->version && !m && !im && n_imports) {
			from_boms(c, p, imports, n_imports, e, &why);
		}
		if (!e->version && m) {
			/* Its own entry has none: it takes the place of a parent's and an
			 * import's, so no parent, BOM or repository would give one, and Maven
			 * refuses the build. */
			e->flags = DEP_UNRESOLVED;
			e->note = dep_printf(
				c,
				"no version: this file's dependencyManagement lists it "
				"without one (line %u)%s: Maven refuses a dependency "
				"without a version",
				m->line, replaced(c, &shadowed, e->key, ", and that entry"));
		} else if (!e->version) {
			e->flags = DEP_UNRESOLVED | parent_absent;
			e->note = missing_version;
			if (why) {
				e->flags |= why->absent ? DEP_POM_NOT_FOUND : 0;
				e->note = dep_printf(c,
						     "no version in this file%s%s, and it may come "
						     "from a BOM the scan cannot read: %s",
						     p->n_parents ? " or its parents" : "",
						     p->no_parent ? p->no_parent : "", why->fail);
			}
		} else if (e->missing) {
			e->flags = DEP_UNRESOLVED | e->missing_flags;
			e->note = e->missing;
		}
		/* A parent's dependency says so first, wherever its version comes from. */
		if (e->inherited && !(e->note && str_has_prefix(e->note, e->inherited))) {
			e->note = e->note ? dep_printf(c, "%s, %s", e->inherited, e->note)
					  : e->inherited;
		}
		r = add_package(c, e, profile, default_end);
	}
	for (size_t i = 0; i < managed.n && r == 0; i++) {
		struct pom_dep *m = &managed.v[i];
		/* An import is not a package: Maven replaces it with what its BOM manages, and
		 * the BOM (a POM, no code) is no dependency of the module. What it manages is
		 * the BOM's own packages, in its own pom.xml. */
		if (pom_deps_find(&deps, m->key) || is_import(m)) {
			continue;
		}
		/* Without a version it manages none: no parent's, BOM's or repository's
		 * fills it (see replaced()). */
		if (!m->version) {
			m->flags = DEP_UNRESOLVED;
			m->note = dep_printf(c, "managed without a version in this file%s",
					     replaced(c, &shadowed, m->key, ", an entry that"));
		}
		r = add_package(c, m, profile, default_end);
	}
	free(imports);
	pom_deps_release(&deps);
	pom_deps_release(&managed);
	pom_deps_release(&inherited);
	pom_deps_release(&shadowed);
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

/* Whether the version is a SNAPSHOT (Maven's: it ends with SNAPSHOT, or is a timestamped
 * one, 1.0-20240101.120000-1). */
static bool snapshot(const char *v)
{
	size_t n = strlen(v);
	if (n >= 8 && strcmp(v + n - 8, "SNAPSHOT") == 0) {
		return true;
	}
	/* -YYYYMMDD.HHMMSS-N */
	const char *dash = strrchr(v, '-');
	if (!dash || dash == v || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1)) {
		return false;
	}
	const char *p = dash;
	while (p > v && p[-1] != '-') {
		p--;
	}
	return p > v && dash - p == 15 && p[8] == '.' && strspn(p, "0123456789") == 8 &&
	       strspn(p + 9, "0123456789") == 6;
}

/* Whether s can be one component of a path in the repository. */
static bool path_component(const char *s, size_t n)
{
	return n && memchr(s, '/', n) == NULL && !(n == 1 && s[0] == '.') &&
	       !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* Why the scan does not read group:artifact:version from a Maven repository (a clause),
 * or NULL: it would. */
static const char *repo_refusal(const char *group, const char *artifact, const char *version)
{
	bool ok = *group && path_component(artifact, strlen(artifact)) &&
		  path_component(version, strlen(version));
	for (const char *g = group; ok && *g;) {
		size_t n = strcspn(g, ".");
		ok = path_component(g, n);
		g += n;
		if (*g == '.') {
			g++;
			ok = ok && *g;
		}
	}
	if (!ok) {
		return "its coordinates do not name a file of the Maven repository";
	}
	if (snapshot(version)) {
		/* Maven fetches newer builds of a SNAPSHOT: the repository's may be older. */
		return "a SNAPSHOT, of which the Maven repository may hold an older build than "
		       "the build's";
	}
	return NULL;
}

/*
 * The POM of group:artifact:version in the local Maven repository the scan was given, as
 * Maven lays it out (<dir>/<group, its dots as slashes>/<artifact>/<version>/
 * <artifact>-<version>.pom): its real path (heap), which must lie inside the repository.
 * NULL when there is no repository, or with *why (a clause) when it is not there or the
 * scan does not read it.
 */
static char *repo_file(struct dep_ctx *c, const char *group, const char *artifact,
		       const char *version, const char **why)
{
	const char *repo = c->l->maven_repo;
	*why = NULL;
	if (!repo) {
		return NULL;
	}
	*why = repo_refusal(group, artifact, version);
	if (*why) {
		return NULL;
	}
	_cleanup_free_ char *dir = xstrdup(group);
	for (char *q = dir; *q; q++) {
		*q = *q == '.' ? '/' : *q;
	}
	_cleanup_free_ char *path =
		xasprintf("%s/%s/%s/%s/%s-%s.pom", repo, dir, artifact, version, artifact, version);
	char *real = realpath(path, NULL);
	size_t rl = strlen(repo);
	if (!real || strncmp(real, repo, rl) != 0 || real[rl] != '/') {
		*why = real ? "its file in the Maven repository leads out of it" : NULL;
		free(real);
		return NULL;
	}
	return real;
}

/* The path of real (a file the scan read) as the scan shows it: relative to the scanned
 * tree when inside it, else as it is (a file of a Maven repository outside it). */
static const char *shown_path(struct dep_ctx *c, const char *real)
{
	const char *root = c->l->root;
	size_t rl = root ? strlen(root) : 0;
	return dep_strdup(c, rl && strncmp(real, root, rl) == 0 && real[rl] == '/' ? real + rl + 1
										   : real);
}

/* The Maven repository as notes name it. */
static const char *repo_shown(struct dep_ctx *c)
{
	return c->l->maven_repo ? shown_path(c, c->l->maven_repo) : NULL;
}

static const char *tree_hint(struct dep_ctx *c, const char *g, const char *a, const char *v,
			     const char *child, const char *not_this);

/*
 * Read the parents of project (whose file is at path) into out[0..*n): each where its
 * child's relativePath says in the scanned tree, when it names the coordinates the child
 * gives, else (as Maven does) from the local Maven repository the scan was given, if
 * any. A POM read from the repository (from_repo: project itself) takes its parents from
 * the repository only, as Maven reads them. Sets *why (a note) when a <parent> is left
 * unread, and *absent when that parent is one Maven takes from a repository which the
 * scan did not find there (it has none, or that one does not hold it). Never an error:
 * what is not read leaves the child's references unresolved.
 */
static void read_parents(struct dep_ctx *c, const struct xnode *project, const char *path,
			 bool from_repo, struct pom_parent *out, size_t *n, const char **why,
			 bool *absent)
{
	*n = 0;
	*why = NULL;
	*absent = false;
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
		/* The notes below name it as the module's parent or its ancestor. */
		const char *its = its_parent(c, *n, gav);
		if (*n >= POM_MAX_PARENTS) {
			*why = dep_printf(c, " (more than %u parent POMs: %s not read)",
					  POM_MAX_PARENTS, gav);
			return;
		}
		/* Where the tree has it (relativePath), or why not (*why's form). */
		_cleanup_free_ char *real = NULL;
		const char *miss = NULL;
		const struct xnode *rp = xml_child(parent, "relativePath");
		const char *rel = rp ? trimmed(c, rp->text) : "../pom.xml";
		if (from_repo) {
			/* Looked for in the repository below. */
		} else if (!rel || !*rel) {
			miss = dep_printf(c, " (%s is not in the scanned tree)", its);
		} else {
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
			real = dep_realpath_inside(c, cand);
			if (!real && errno == EXDEV) {
				/* Maven would read that file if it is the parent: the scan cannot
				 * tell, nor take the repository's in its place. */
				*why = dep_printf(c, " (%s is not in the scanned tree: outside it)",
						  its);
				return;
			}
			if (!real) {
				int e = errno;
				const char *hint = tree_hint(c, g, a, v, file, NULL);
				miss = *hint ? dep_printf(c, " (%s is not at %s%s)", its, rel, hint)
					     : dep_printf(c, " (%s is not in the scanned tree: %s)",
							  its, strerror(e));
			}
		}
		struct xnode *root = NULL;
		bool repo = from_repo, not_found = false;
		/* The tree's file, then the repository's, each when it is the parent named. */
		for (int attempt = 0; attempt < 2 && !root; attempt++) {
			if (attempt == 1) {
				const char *rwhy = NULL;
				free(real);
				real = g && a && v && c->l->maven_repo
					       ? repo_file(c, g, a, v, &rwhy)
					       : NULL;
				/* Where Maven would take it, a repository may hold it. */
				not_found = !real && g && a && v &&
					    !(c->l->maven_repo ? rwhy : repo_refusal(g, a, v));
				if (!real) {
					if (c->l->maven_repo) {
						miss = dep_printf(
							c,
							" (%s is not in %sthe Maven "
							"repository %s%s%s)",
							its,
							from_repo ? ""
								  : "the scanned tree, nor in ",
							repo_shown(c), rwhy ? ": " : "",
							rwhy ? rwhy : "");
					}
					break;
				}
				repo = true;
			}
			if (!real) {
				continue;
			}
			for (size_t i = 0; i < n_seen; i++) {
				if (str_eq(seen[i], real)) {
					*why = dep_printf(
						c, " (the parent POMs form a cycle at %s)", gav);
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
				*why = dep_printf(c, " (the scan has read too much to read %s)",
						  its);
				return;
			}
			root = rr == 0 ? xml_parse(buf, len, &line, &col, err, sizeof(err)) : NULL;
			free(buf);
			/* Maven takes the file only when it is the parent named. */
			const char *pg = root ? coordinate(c, root, "groupId") : NULL;
			const char *pa = root ? child_text(c, root, "artifactId") : NULL;
			const char *pv = root ? coordinate(c, root, "version") : NULL;
			if (!root || !str_eq(root->name, "project") || !g || !a || !v || !pg ||
			    !pa || !pv || !str_eq(g, pg) || !str_eq(a, pa) || !str_eq(v, pv)) {
				xml_free(root);
				root = NULL;
				miss = dep_printf(c, " (%s is not the one at %s%s)", its,
						  repo ? shown_path(c, real) : rel,
						  repo ? "" : tree_hint(c, g, a, v, file, real));
				if (repo) {
					break;
				}
			}
		}
		if (!root) {
			*why = miss ? miss : dep_printf(c, " (%s is not read)", its);
			*absent = not_found;
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
					" (%s has profiles that change what it gives, which "
					"the scan does not choose among)",
					its);
			}
		}
		seen[n_seen++] = dep_strdup(c, real);
		out[*n].project = root;
		out[*n].gav = gav;
		out[*n].display = shown_path(c, real);
		out[*n].profiled = profiled;
		(*n)++;
		project = root;
		from_repo = repo;
		free(file);
		file = xstrdup(real);
	}
}

/* ---------- imported BOMs ---------- */

/* A pom.xml of the scanned tree, indexed by its groupId:artifactId. */
struct pom_file {
	const char *path;    /* on the file system (arena) */
	const char *display; /* relative to the tree (arena) */
	struct pom_file *next;
};

/* The files of one groupId:artifactId, in the order of the walk. */
struct pom_files {
	struct pom_file *head, *tail;
};

struct pom_cache {
	struct hmap *boms; /* groupId:artifactId:version -> struct pom_bom *, the last read */
	struct pom_bom **all;
	size_t n_all, cap_all;
	struct hmap *tree; /* groupId:artifactId -> struct pom_files * */
	bool indexed;
	/* Why the index may lack a pom.xml of the tree (a cap), or NULL; a pom.xml the index
	 * could not read, and how many. */
	const char *index_note, *unreadable;
	size_t n_unreadable, files, entries_seen;
	unsigned reads;	    /* BOM files read */
	size_t bom_entries; /* entries the BOMs read manage, together */
};

void pom_cache_free(struct pom_cache *pc)
{
	if (!pc) {
		return;
	}
	for (size_t i = 0; i < pc->n_all; i++) {
		pom_deps_release(&pc->all[i]->managed);
		free(pc->all[i]);
	}
	free(pc->all);
	hmap_free(pc->boms);
	hmap_free(pc->tree);
	free(pc);
}

static struct pom_cache *cache_of(struct dep_ctx *c)
{
	if (!c->l->maven) {
		c->l->maven = xcalloc(1, sizeof(*c->l->maven));
		c->l->maven->boms = hmap_new(16);
		c->l->maven->tree = hmap_new(64);
	}
	return c->l->maven;
}

static bool is_import(const struct pom_dep *e)
{
	return str_eq(e->type, "pom") && e->scope && str_eq(e->scope, "import");
}

/* Index the pom.xml at path by its groupId:artifactId (as the file alone gives them). */
static void index_file(struct dep_ctx *c, struct pom_cache *pc, const char *path,
		       const char *display)
{
	char *buf = NULL;
	size_t len = 0;
	if (read_file_capped(path, DEPS_MAX_FILE_BYTES, &buf, &len) < 0) {
		pc->unreadable = pc->unreadable ? pc->unreadable : dep_strdup(c, display);
		pc->n_unreadable++;
		return;
	}
	if (dep_count_read(c->l, len) < 0) {
		free(buf);
		pc->index_note = "the scan has read too much to look through all of it";
		return;
	}
	char err[256];
	unsigned line, col;
	struct xnode *root = xml_parse(buf, len, &line, &col, err, sizeof(err));
	free(buf);
	if (!root || !str_eq(root->name, "project")) {
		xml_free(root);
		pc->unreadable = pc->unreadable ? pc->unreadable : dep_strdup(c, display);
		pc->n_unreadable++;
		return;
	}
	struct pom fp = {
		.project = root,
		.props = xml_child(root, "properties"),
		.parent = xml_child(root, "parent"),
	};
	const char *miss;
	const char *g = interpolate(c, &fp, coordinate(c, root, "groupId"), &miss, NULL);
	const char *a = interpolate(c, &fp, child_text(c, root, "artifactId"), &miss, NULL);
	xml_free(root);
	if (!g || !a) {
		return;
	}
	const char *key = dep_printf(c, "%s:%s", g, a);
	struct pom_file *f = arena_alloc(c->l->arena, sizeof(*f));
	if (!f) {
		abort();
	}
	f->path = dep_strdup(c, path);
	f->display = dep_strdup(c, display);
	struct pom_files *list = hmap_get(pc->tree, key);
	if (!list) {
		list = arena_alloc(c->l->arena, sizeof(*list));
		if (!list) {
			abort();
		}
		list->head = f;
		hmap_put(pc->tree, key, list);
	} else {
		list->tail->next = f;
	}
	list->tail = f;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index the pom.xml files below dir (rel: its path in the tree, NULL for the top), as
 * the scan's walk finds lockfiles: sorted, without node_modules, vendor, dot-directories
 * and a module's target (deps_skipped_dir), without following symbolic links, within its
 * caps. */
static void index_dir(struct dep_ctx *c, struct pom_cache *pc, const char *dir, const char *rel,
		      unsigned depth)
{
	if (depth > DEPS_MAX_WALK_DEPTH) {
		pc->index_note = "its directories nest too deep to look through all of it";
		return;
	}
	DIR *d = opendir(dir);
	if (!d) {
		pc->index_note = pc->index_note ? pc->index_note
						: dep_printf(c, "%s cannot be read: %s",
							     rel ? rel : ".", strerror(errno));
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (deps_skipped_dir(name, false)) {
			continue;
		}
		if (++pc->entries_seen > DEPS_MAX_WALK_ENTRIES) {
			pc->index_note = "it has too many entries to look through all of it";
			break;
		}
		GROW(names, cap, n + 1);
		names[n++] = xstrdup(name);
	}
	closedir(d);
	if (n > 1) {
		qsort(names, n, sizeof(*names), cmp_str);
	}
	const char *pom = "pom.xml";
	bool pom_beside = n && bsearch(&pom, names, n, sizeof(*names), cmp_str) != NULL;
	for (size_t i = 0; i < n; i++) {
		if (deps_skipped_dir(names[i], pom_beside)) {
			free(names[i]);
			continue;
		}
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, names[i]);
		_cleanup_free_ char *sub_rel =
			rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		struct stat st;
		if (!pc->index_note && lstat(sub, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				index_dir(c, pc, sub, sub_rel, depth + 1);
			} else if (S_ISREG(st.st_mode) && str_eq(names[i], "pom.xml")) {
				if (++pc->files > DEPS_MAX_LOCKFILES) {
					pc->index_note = "it has too many pom.xml files to look "
							 "through all of them";
				} else {
					index_file(c, pc, sub, sub_rel);
				}
			}
		}
		free(names[i]);
	}
	free(names);
}

/* The path from the directory `from` to the file `to`, both absolute. */
static const char *relative_to(struct dep_ctx *c, const char *from, const char *to)
{
	size_t i = 0, common = 0;
	for (; from[i] && from[i] == to[i]; i++) {
		if (from[i] == '/') {
			common = i + 1;
		}
	}
	if (!from[i] && to[i] == '/') {
		common = i + 1; /* to lies below from */
	}
	struct sbuf sb;
	sbuf_init(&sb, 1u << 16);
	for (const char *p = common <= strlen(from) ? from + common : ""; *p;) {
		sbuf_puts(&sb, "../");
		p += strcspn(p, "/");
		p += *p == '/';
	}
	sbuf_puts(&sb, to + common);
	const char *out = dep_strdup(c, sb.data ? sb.data : "");
	sbuf_release(&sb);
	return out;
}

/*
 * Where the scanned tree holds the parent g:a:v that a <parent> does not find at its
 * relativePath (child: the file of the <parent>; not_this: the real path of the file
 * found there, which is not it, or NULL): "; the tree has it at ..., but ...: set
 * <relativePath>...", or "". Maven takes a parent from its relativePath (../pom.xml by
 * default), else from a repository, never from elsewhere in the tree: a module in
 * modules/core/ of a project whose root pom.xml is its parent needs ../../pom.xml.
 */
static const char *tree_hint(struct dep_ctx *c, const char *g, const char *a, const char *v,
			     const char *child, const char *not_this)
{
	if (!g || !a || !v || !c->l->root) {
		return "";
	}
	struct pom_cache *pc = cache_of(c);
	if (!pc->indexed) {
		pc->indexed = true;
		index_dir(c, pc, c->l->root, NULL, 0);
	}
	const struct pom_files *files = hmap_get(pc->tree, dep_printf(c, "%s:%s", g, a));
	_cleanup_free_ char *child_real = child ? realpath(child, NULL) : NULL;
	for (const struct pom_file *f = files ? files->head : NULL; f && child_real; f = f->next) {
		_cleanup_free_ char *real = realpath(f->path, NULL);
		if (!real || (not_this && str_eq(real, not_this)) || str_eq(real, child_real)) {
			continue;
		}
		char *buf = NULL;
		size_t len = 0;
		if (read_file_capped(real, DEPS_MAX_FILE_BYTES, &buf, &len) < 0 ||
		    dep_count_read(c->l, len) < 0) {
			free(buf);
			return "";
		}
		char err[256];
		unsigned line, col;
		struct xnode *root = xml_parse(buf, len, &line, &col, err, sizeof(err));
		free(buf);
		const char *pv = root ? coordinate(c, root, "version") : NULL;
		bool same = pv && str_eq(pv, v);
		xml_free(root);
		if (!same) {
			continue;
		}
		char *slash = strrchr(child_real, '/');
		*slash = '\0';
		return dep_printf(c,
				  "; the tree has it at %s, but Maven reads a parent where "
				  "<relativePath> says (by default ../pom.xml), else from a "
				  "repository: set <relativePath>%s</relativePath> in <parent>",
				  f->display, relative_to(c, child_real, real));
	}
	return "";
}

/* A POM file read for a BOM, with its parents. */
struct pom_model {
	struct xnode *root;
	struct pom_parent parents[POM_MAX_PARENTS];
	size_t n_parents;
	const char *no_parent;
	bool parent_absent;
	char *buf; /* the file's bytes: two files that are the same BOM must be the same */
	size_t len;
	const char *display;
};

static void model_free(struct pom_model *m)
{
	if (!m) {
		return;
	}
	for (size_t i = 0; i < m->n_parents; i++) {
		xml_free(m->parents[i].project);
	}
	xml_free(m->root);
	free(m->buf);
	free(m);
}

/* The build of a BOM's model: no profile is active (a BOM with profiles that matter is
 * refused before it is read). */
static struct pom model_pom(const struct pom_model *m, const char *self)
{
	return (struct pom){
		.project = m->root,
		.props = xml_child(m->root, "properties"),
		.parent = xml_child(m->root, "parent"),
		.parents = m->parents,
		.n_parents = m->n_parents,
		.no_parent = m->no_parent,
		.parent_absent = m->parent_absent,
		.self = self,
		.display = m->display,
	};
}

/*
 * Read the file f into a model, with its parents (from the repository only when
 * from_repo: f is a file of it): NULL when it cannot be read or is not a POM (*fail says
 * so when the scan's budget is the reason).
 */
static struct pom_model *model_load(struct dep_ctx *c, const struct pom_file *f, const char *gav,
				    bool from_repo, const char **fail)
{
	struct pom_model *m = xcalloc(1, sizeof(*m));
	m->display = f->display;
	if (read_file_capped(f->path, DEPS_MAX_FILE_BYTES, &m->buf, &m->len) < 0) {
		model_free(m);
		return NULL;
	}
	if (dep_count_read(c->l, m->len) < 0) {
		*fail = dep_printf(c, "the BOM %s is not read: the scan has read too much", gav);
		model_free(m);
		return NULL;
	}
	char err[256];
	unsigned line, col;
	m->root = xml_parse(m->buf, m->len, &line, &col, err, sizeof(err));
	if (!m->root || !str_eq(m->root->name, "project")) {
		model_free(m);
		return NULL;
	}
	read_parents(c, m->root, f->path, from_repo, m->parents, &m->n_parents, &m->no_parent,
		     &m->parent_absent);
	return m;
}

/* A coordinate of the model (groupId, artifactId, version) as Maven reads it: its own or
 * its parent's, interpolated. NULL when it has none. */
static const char *model_coordinate(struct dep_ctx *c, const struct pom_model *m, const char *what)
{
	struct pom fp = model_pom(m, NULL);
	const char *miss;
	return interpolate(c, &fp,
			   str_eq(what, "artifactId") ? child_text(c, m->root, what)
						      : coordinate(c, m->root, what),
			   &miss, NULL);
}

/* Whether the model is group:artifact:version. */
static bool model_is(struct dep_ctx *c, const struct pom_model *m, const char *group,
		     const char *artifact, const char *version)
{
	const char *g = model_coordinate(c, m, "groupId");
	const char *a = model_coordinate(c, m, "artifactId");
	const char *v = model_coordinate(c, m, "version");
	return g && a && v && str_eq(g, group) && str_eq(a, artifact) && str_eq(v, version);
}

/* Copy what `from` manages and `to` does not into `to` (the first of a key wins); a
 * clause when the scan's cap on BOM entries stops it. */
static const char *bom_merge(struct dep_ctx *c, struct pom_cache *pc, struct pom_bom *to,
			     const struct pom_bom *from)
{
	for (size_t k = 0; k < from->managed.n; k++) {
		const struct pom_dep *x = &from->managed.v[k];
		if (pom_deps_find(&to->managed, x->key)) {
			continue;
		}
		if (++pc->bom_entries > POM_MAX_BOM_ENTRIES) {
			return dep_printf(c,
					  "the BOM %s is not read whole: the BOMs of the scan "
					  "manage more than %u entries",
					  from->gav, POM_MAX_BOM_ENTRIES);
		}
		pom_deps_append(&to->managed, x);
	}
	return NULL;
}

static struct bom_use import_of(struct dep_ctx *c, const struct pom_dep *e, unsigned depth);

/* What the BOM b (its file read into m) manages, into b: see pom_bom. */
static void bom_manage(struct dep_ctx *c, struct pom_cache *pc, struct pom_bom *b,
		       const struct pom_model *m, unsigned depth)
{
	const struct xnode *profiles = xml_child(m->root, "profiles");
	for (size_t i = 0; profiles && i < profiles->n_children; i++) {
		const struct xnode *pr = profiles->children[i];
		if (str_eq(pr->name, "profile") &&
		    (xml_child(pr, "properties") || xml_child(pr, "dependencyManagement"))) {
			b->fail = dep_printf(c,
					     "the BOM %s has profiles that change what it manages, "
					     "which the scan does not choose among",
					     b->gav);
			return;
		}
	}
	struct pom bp = model_pom(m, dep_printf(c, "the BOM %s", b->gav));
	struct pom_deps all = { 0 };
	/* A BOM that cannot be read is a reason of its importer's notes, not an error of
	 * the importer's file. */
	struct diag_list scratch, *dl = c->dl;
	diag_list_init(&scratch, 4);
	c->dl = &scratch;
	int r = read_list(c, &bp,
			  xml_child(xml_child(m->root, "dependencyManagement"), "dependencies"), 0,
			  false, &all);
	if (r == 0 && bp.n_parents) {
		r = read_inherited(c, &bp, true, &all, 0, &all, NULL);
	}
	c->dl = dl;
	if (r < 0) {
		const struct diag *d = scratch.n ? &scratch.v[0] : NULL;
		const char *msg = d ? d->msg : "it cannot be read";
		const char *colon = strstr(msg, " file: ");
		b->fail = dep_printf(c, "the BOM %s cannot be read: %s:%u: %s", b->gav, m->display,
				     d ? d->line : 0, colon ? colon + 7 : msg);
		diag_list_release(&scratch);
		pom_deps_release(&all);
		return;
	}
	diag_list_release(&scratch);
	b->height = 1;
	/* Its own entries and its parents', which win over every import. */
	for (size_t i = 0; i < all.n && !b->fail; i++) {
		struct pom_dep x = all.v[i];
		if (is_import(&x)) {
			continue;
		}
		if (++pc->bom_entries > POM_MAX_BOM_ENTRIES) {
			b->fail = dep_printf(c,
					     "the BOM %s is not read whole: the BOMs of the scan "
					     "manage more than %u entries",
					     b->gav, POM_MAX_BOM_ENTRIES);
			b->capped = true;
			break;
		}
		x.bom = b->gav;
		pom_deps_append(&b->managed, &x);
	}
	/* A parent the scan does not read would come before the imports. */
	if (!b->fail && m->no_parent) {
		b->fail = dep_printf(c, "the BOM %s is not read whole%s", b->gav, m->no_parent);
		b->absent = m->parent_absent;
	}
	/* Then its imports, in order: own, then its parents'. */
	for (size_t i = 0; i < all.n && !b->fail; i++) {
		const struct pom_dep *e = &all.v[i];
		if (!is_import(e)) {
			continue;
		}
		struct bom_use u = import_of(c, e, depth + 1);
		b->height = MAX(b->height, 1 + u.height);
		b->capped |= u.capped;
		const char *fail = u.bom ? bom_merge(c, pc, b, u.bom) : NULL;
		if (fail) {
			b->capped = true;
		}
		fail = fail ? fail : u.fail;
		if (fail) {
			b->fail = dep_printf(c, "%s, imported by %s", fail, b->gav);
			b->absent = fail == u.fail && u.absent;
		}
	}
	pom_deps_release(&all);
}

/*
 * The BOM name:version, imported `depth` imports down from a module: read from the tree
 * once per scan (cycles, the depth and the number of BOMs read capped).
 */
static struct bom_use bom_get(struct dep_ctx *c, const char *name, const char *version,
			      unsigned depth)
{
	struct pom_cache *pc = cache_of(c);
	const char *gav = dep_printf(c, "%s:%s", name, version);
	struct bom_use u = { .gav = gav };
	struct pom_bom *b = hmap_get(pc->boms, gav);
	if (b && b->building) {
		u.fail = dep_printf(c, "the BOM imports form a cycle at %s", gav);
		return u;
	}
	if (b && !b->capped && depth - 1 + b->height <= POM_MAX_IMPORT_DEPTH) {
		return (struct bom_use){ gav, b, b->fail, b->height, false, b->absent };
	}
	u.capped = true;
	if (depth - 1 + (b && !b->capped ? b->height : 1) > POM_MAX_IMPORT_DEPTH) {
		u.fail = dep_printf(c, "the imports of BOMs nest more than %u levels deep (at %s)",
				    POM_MAX_IMPORT_DEPTH, gav);
		return u;
	}
	if (pc->reads >= POM_MAX_BOMS) {
		u.fail = dep_printf(c, "the BOM %s is not read: the scan has read %u BOMs, its cap",
				    gav, POM_MAX_BOMS);
		return u;
	}
	pc->reads++;
	if (!pc->indexed) {
		pc->indexed = true;
		if (c->l->root) {
			index_dir(c, pc, c->l->root, NULL, 0);
		}
	}
	b = xcalloc(1, sizeof(*b));
	b->gav = gav;
	b->building = true;
	GROW(pc->all, pc->cap_all, pc->n_all + 1);
	pc->all[pc->n_all++] = b;
	hmap_put(pc->boms, gav, b);
	/* The pom.xml files of the tree with that groupId:artifactId whose version is the
	 * one named: one, or copies of it (a build copies a module's pom.xml under
	 * classes/META-INF/maven/ of its build directory, which the index passes over when it
	 * is Maven's default target/, but not when the pom.xml names another). */
	const struct pom_files *files = hmap_get(pc->tree, name);
	struct pom_model *chosen = NULL;
	for (const struct pom_file *f = files ? files->head : NULL; f && !b->fail; f = f->next) {
		struct pom_model *m = model_load(c, f, gav, false, &b->fail);
		if (!m) {
			continue;
		}
		const char *v = model_coordinate(c, m, "version");
		if (!v || !str_eq(v, version) ||
		    (chosen && chosen->len == m->len && memcmp(chosen->buf, m->buf, m->len) == 0)) {
			model_free(m);
		} else if (chosen) {
			b->fail = dep_printf(
				c,
				"the BOM %s is in the scanned tree twice, with different "
				"contents: %s, %s",
				gav, chosen->display, m->display);
			model_free(m);
		} else {
			chosen = m;
		}
	}
	/* Else Maven's local repository, when the scan was given one. */
	const char *repo_why = NULL;
	if (!b->fail && !chosen && c->l->maven_repo) {
		const char *colon = strchr(name, ':');
		_cleanup_free_ char *group = xstrndup(name, (size_t)(colon - name));
		_cleanup_free_ char *path = repo_file(c, group, colon + 1, version, &repo_why);
		struct pom_file f = { .path = path, .display = path ? shown_path(c, path) : NULL };
		chosen = path ? model_load(c, &f, gav, true, &b->fail) : NULL;
		if (chosen && !model_is(c, chosen, group, colon + 1, version)) {
			model_free(chosen);
			chosen = NULL;
			b->fail = dep_printf(c, "the BOM %s is not the POM at %s", gav, f.display);
		} else if (path && !chosen && !b->fail) {
			b->fail = dep_printf(c, "the BOM %s cannot be read: %s is not a POM", gav,
					     f.display);
		}
	}
	if (!b->fail && !chosen) {
		const char *more = pc->index_note ? dep_printf(c, " (%s)", pc->index_note) : "";
		if (c->l->maven_repo) {
			more = dep_printf(c, "%s, nor in the Maven repository %s%s%s", more,
					  repo_shown(c), repo_why ? ": " : "",
					  repo_why ? repo_why : "");
		}
		if (pc->n_unreadable) {
			more = dep_printf(c,
					  "%s (%zu pom.xml file%s of it could not be read: %s%s)",
					  more, pc->n_unreadable, pc->n_unreadable > 1 ? "s" : "",
					  pc->unreadable, pc->n_unreadable > 1 ? ", ..." : "");
		}
		b->fail = dep_printf(c, "the BOM %s is not in the scanned tree%s", gav, more);
		/* Maven takes it from a repository, which may hold it. */
		const char *colon = strchr(name, ':');
		_cleanup_free_ char *group = xstrndup(name, (size_t)(colon - name));
		b->absent =
			!(c->l->maven_repo ? repo_why : repo_refusal(group, colon + 1, version));
	}
	if (!b->fail) {
		bom_manage(c, pc, b, chosen, depth);
	}
	model_free(chosen);
	b->building = false;
	return (struct bom_use){ gav, b, b->fail, b->height, b->capped, b->absent };
}

/* The import e (an entry of a dependencyManagement), as the scan reads it at `depth`. */
static struct bom_use import_of(struct dep_ctx *c, const struct pom_dep *e, unsigned depth)
{
	const char *unresolved = e->missing		     ? e->missing
				 : !e->version		     ? "it has no <version>"
				 : e->flags & DEP_UNRESOLVED ? e->note
							     : NULL;
	if (unresolved) {
		unsigned absent = e->missing	? e->missing_flags
				  : !e->version ? 0
						: e->flags & DEP_POM_NOT_FOUND;
		return (struct bom_use){
			.gav = e->name,
			.fail = dep_printf(c, "the version of the BOM %s:%s is not resolved: %s",
					   e->name, e->version ? e->version : "", unresolved),
			.absent = absent != 0,
		};
	}
	if (e->flags & DEP_UNPINNED) {
		/* Which version Maven takes depends on the repository's. */
		return (struct bom_use){
			.gav = e->name,
			.fail = dep_printf(
				c,
				"the BOM %s is imported at a %s, which the scan does not "
				"resolve",
				e->name, e->note),
		};
	}
	return bom_get(c, e->name, e->version, depth);
}

/*
 * The imports among own's entries, then among inherited's, in order, each as the scan
 * reads it (a module's own imports are at depth 1), into *out (heap). Returns how many.
 */
static size_t collect_imports(struct dep_ctx *c, const struct pom_deps *own,
			      const struct pom_deps *inherited, struct bom_use **out)
{
	const struct pom_deps *lists[] = { own, inherited };
	size_t n = 0, cap = 0;
	*out = NULL;
	for (size_t k = 0; k < ARRAY_SIZE(lists); k++) {
		for (size_t i = 0; i < lists[k]->n; i++) {
			if (is_import(&lists[k]->v[i])) {
				GROW(*out, cap, n + 1);
				(*out)[n++] = import_of(c, &lists[k]->v[i], 1);
			}
		}
	}
	return n;
}

/*
 * Give e, a dependency without a version that neither its file nor its parents manage,
 * the version the first of the imports that manages it gives, with a note that says where.
 * false when none does; *why is then the import that still might (a BOM the scan cannot
 * read: its fail says why), or NULL.
 */
static bool from_boms(struct dep_ctx *c, const struct pom *p, const struct bom_use *imports,
		      size_t n, struct pom_dep *e, const struct bom_use **why)
{
	*why = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct pom_dep *b =
			imports[i].bom ? pom_deps_find(&imports[i].bom->managed, e->key) : NULL;
		if (!b) {
			if (imports[i].fail) {
				*why = &imports[i];
				return false;
			}
			continue;
		}
		const char *place = dep_printf(c, "the BOM %s at %s:%u", b->bom, b->where, b->line);
		if (!str_eq(b->bom, imports[i].gav)) {
			place = dep_printf(c, "%s (imported through %s)", place, imports[i].gav);
		}
		e->scope = e->scope ? e->scope : b->scope;
		if (!e->missing) {
			e->missing = b->missing;
			e->missing_flags = b->missing_flags;
		}
		if (!b->version) {
			e->version = "";
			e->flags = DEP_UNRESOLVED;
			e->note = dep_printf(c, "managed without a version by %s", place);
		} else {
			e->version = b->version;
			e->flags = b->flags;
			e->note = b->note ? dep_printf(c, "%s (managed by %s)", b->note, place)
					  : dep_printf(c, "managed by %s", place);
		}
		if (p->no_parent) {
			/* Its parents' dependencyManagement would win over the import. */
			e->flags = DEP_UNRESOLVED | (p->parent_absent ? DEP_POM_NOT_FOUND : 0);
			e->note =
				dep_printf(c,
					   "managed by %s, but its parents' dependencyManagement, "
					   "which wins over it, is not read%s",
					   place, p->no_parent);
		}
		return true;
	}
	return false;
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
	read_parents(c, root, c->path, false, parents, &p.n_parents, &p.no_parent,
		     &p.parent_absent);
	int r = add_builds(c, &p);
	for (size_t i = 0; i < p.n_parents; i++) {
		xml_free(parents[i].project);
	}
	xml_free(root);
	return r;
}
