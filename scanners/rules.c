/*
 * rules.c - loading and validating rule packs, and the per-language anchor indexes the
 * SAST engine uses to find candidate positions in one pass over a file's tokens.
 *
 * Every rule is checked completely before it is added; a rule with an error is not added,
 * and the set's loader keeps going to report the other problems too. The caller refuses a
 * set with any error (fail closed: an invalid rules file is a scanner error).
 */
#include "rules.h"

#include "arena.h"
#include "diag.h"
#include "hmap.h"
#include "util.h"
#include "ydoc.h"

#include <dirent.h>
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "banned.h"

#define RULES_DIR_MAX_FILES 1000

struct ruleset {
	enum rule_kind kind;
	struct rule **v;
	size_t n, cap;
	struct hmap *ids;
	struct rule_lang_index idx[LANG_COUNT];
	bool finished;
};

static const char *const role_keys[ROLE_COUNT] = {
	[ROLE_MAIN] = "pattern",
	[ROLE_NOT] = "pattern-not",
	[ROLE_INSIDE] = "pattern-inside",
	[ROLE_NOT_INSIDE] = "pattern-not-inside",
	[ROLE_IN_FILE] = "pattern-in-file",
	[ROLE_NOT_IN_FILE] = "pattern-not-in-file",
	[ROLE_BOUND_BY] = "bound-by",
};

static const char *const sast_keys[] = {
	"id",
	"title",
	"message",
	"severity",
	"confidence",
	"cwe",
	"languages",
	"fix",
	"references",
	"pattern",
	"pattern-either",
	"pattern-not",
	"pattern-inside",
	"pattern-not-inside",
	"pattern-in-file",
	"pattern-not-in-file",
	"conditions",
	"regex",
	"not-regex",
	"where",
	"keywords",
};

static const char *const secret_keys[] = {
	"id",		"title",   "message",	 "severity",  "confidence",
	"cwe",		"fix",	   "references", "regex",     "keywords",
	"secret-group", "entropy", "allow",	 "multiline", "structure",
};

static const char *const cond_keys[] = { "metavariable", "literal", "regex", "not-regex",
					 "bound-by" };

/* ---------- small helpers ---------- */

static pcre2_code *regex_compile(const char *re, uint32_t options, char *err, size_t errlen,
				 size_t *erroff)
{
	int ec = 0;
	PCRE2_SIZE off = 0;
	pcre2_code *code =
		pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, options, &ec, &off, NULL);
	if (!code) {
		PCRE2_UCHAR buf[256];
		pcre2_get_error_message(ec, buf, sizeof(buf));
		errf(err, errlen, 0, "%s", (const char *)buf);
		if (erroff) {
			*erroff = off;
		}
		return NULL;
	}
	/* JIT when the platform (and a sandbox) allows it; the interpreter otherwise. */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

pcre2_code *rules_regex_compile(const char *re, char *err, size_t errlen, size_t *erroff)
{
	return regex_compile(re, 0, err, errlen, erroff);
}

void regex_ctx_init(struct regex_ctx *c)
{
	c->md = pcre2_match_data_create(32, NULL);
	c->mctx = pcre2_match_context_create(NULL);
	c->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (!c->md || !c->mctx) {
		abort();
	}
	pcre2_set_match_limit(c->mctx, RULES_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, RULES_REGEX_DEPTH_LIMIT);
	if (c->jit) {
		pcre2_jit_stack_assign(c->mctx, NULL, c->jit);
	}
}

void regex_ctx_release(struct regex_ctx *c)
{
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	pcre2_jit_stack_free(c->jit);
	memset(c, 0, sizeof(*c));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

static void rule_free(struct rule *r)
{
	if (!r) {
		return;
	}
	free(r->id);
	free(r->title);
	free(r->message);
	free(r->fix);
	free(r->confidence);
	free(r->help_uri);
	free_strv(r->cwe, r->n_cwe);
	free(r->file);
	for (size_t i = 0; i < r->n_pats; i++) {
		free(r->pats[i].src);
		for (int x = 0; x < LEXER_COUNT; x++) {
			pattern_free(r->pats[i].by_lexer[x]);
		}
	}
	free(r->pats);
	for (size_t i = 0; i < r->n_conds; i++) {
		pcre2_code_free(r->conds[i].regex);
		pcre2_code_free(r->conds[i].not_regex);
	}
	free(r->conds);
	mvtab_release(&r->mv);
	pcre2_code_free(r->regex);
	pcre2_code_free(r->not_regex);
	free_strv(r->keywords, r->n_keywords);
	for (size_t i = 0; i < r->n_allow; i++) {
		pcre2_code_free(r->allow[i]);
	}
	free(r->allow);
	free(r);
}

struct ruleset *ruleset_new(enum rule_kind kind)
{
	struct ruleset *rs = xcalloc(1, sizeof(*rs));
	rs->kind = kind;
	rs->ids = hmap_new(256);
	return rs;
}

static void index_release(struct rule_lang_index *ix)
{
	for (size_t i = 0; i < ix->n_anchors; i++) {
		free(ix->anchors[i].uses);
	}
	free(ix->anchors);
	free(ix->table);
	free(ix->regex_rules);
	free(ix->bound_uses);
	memset(ix, 0, sizeof(*ix));
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs) {
		return;
	}
	for (size_t i = 0; i < rs->n; i++) {
		rule_free(rs->v[i]);
	}
	free(rs->v);
	hmap_free(rs->ids);
	for (int l = 0; l < LANG_COUNT; l++) {
		index_release(&rs->idx[l]);
	}
	free(rs);
}

enum rule_kind ruleset_kind(const struct ruleset *rs)
{
	return rs->kind;
}

size_t ruleset_count(const struct ruleset *rs)
{
	return rs->n;
}

const struct rule *ruleset_rule(const struct ruleset *rs, size_t i)
{
	return i < rs->n ? rs->v[i] : NULL;
}

const struct rule *ruleset_find(const struct ruleset *rs, const char *id)
{
	return hmap_get(rs->ids, id);
}

/* ---------- parsing one rule ---------- */

struct loader {
	struct ruleset *rs;
	const char *file;
	struct diag_list *dl;
	size_t errors_before;
};

#define ERR(L, node, hint, ...)                                                                   \
	diag_error((L)->dl, (L)->file, (node) ? (node)->line : 0, (node) ? (node)->col : 0, hint, \
		   __VA_ARGS__)

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 100 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]))) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(islower(c) || isdigit(c) || c == '.' || c == '-' || c == '_')) {
			return false;
		}
	}
	return true;
}

static const char *need_str(struct loader *L, const struct ynode *map, const char *key,
			    bool required, const char *hint)
{
	const struct ynode *v = ynode_get(map, key);
	if (!v) {
		if (required) {
			ERR(L, map, hint, "the rule has no `%s`", key);
		}
		return NULL;
	}
	const char *s = ynode_str(v);
	if (!s || !*s) {
		ERR(L, v, hint, "`%s` must be a non-empty string, not %s", key, ynode_type_name(v));
		return NULL;
	}
	return s;
}

/* A string or a list of strings; calls fn for each. Returns the number of items. */
static size_t for_each_str(struct loader *L, const struct ynode *v, const char *key,
			   void (*fn)(struct loader *L, const struct ynode *item, void *ud),
			   void *ud)
{
	if (!v) {
		return 0;
	}
	if (v->kind == YNODE_SCALAR) {
		if (!ynode_str(v)) {
			ERR(L, v, NULL, "`%s` must not be empty", key);
			return 0;
		}
		fn(L, v, ud);
		return 1;
	}
	if (v->kind != YNODE_SEQ) {
		ERR(L, v, NULL, "`%s` must be a string or a list of strings, not %s", key,
		    ynode_type_name(v));
		return 0;
	}
	for (size_t i = 0; i < v->seq.n; i++) {
		const struct ynode *it = v->seq.v[i];
		if (!ynode_str(it)) {
			ERR(L, it, NULL, "each item of `%s` must be a string, not %s", key,
			    ynode_type_name(it));
			continue;
		}
		fn(L, it, ud);
	}
	return v->seq.n;
}

static void check_keys(struct loader *L, const struct ynode *map, const char *const *keys,
		       size_t nk, const char *what)
{
	for (size_t i = 0; i < map->map.n; i++) {
		const struct ynode *k = map->map.v[i].key;
		bool ok = false;
		for (size_t j = 0; j < nk && !ok; j++) {
			ok = str_eq(k->scalar.s, keys[j]);
		}
		if (!ok) {
			const char *near = closest_word(k->scalar.s, keys, nk);
			char hint[120];
			snprintf(hint, sizeof(hint), "did you mean `%s`?", near ? near : "");
			ERR(L, k, near ? hint : "see docs/rules.md for the keys of a rule",
			    "unknown key '%.60s' in %s", k->scalar.s, what);
		}
	}
}

/* A secret rule's regex given as a list of strings (pieces that YAML aliases share
 * between rules): the pieces joined, in buf; NULL with an error if one is no string or
 * the whole would be longer than RULE_REGEX_MAX. */
static const char *join_regex_pieces(struct loader *L, const struct ynode *n, const char *what,
				     char *buf, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < n->seq.n; i++) {
		const char *p = ynode_str(n->seq.v[i]);
		if (!p) {
			ERR(L, n->seq.v[i], NULL, "each piece of %s must be a string, not %s", what,
			    ynode_type_name(n->seq.v[i]));
			return NULL;
		}
		size_t pl = strlen(p);
		if (pl > cap - 1 - len) {
			ERR(L, n, NULL, "%s is longer than %d bytes", what, RULE_REGEX_MAX);
			return NULL;
		}
		memcpy(buf + len, p, pl);
		len += pl;
	}
	buf[len] = '\0';
	return buf;
}

/* options: PCRE2 compile options (PCRE2_USE_OFFSET_LIMIT). pieces: the regex may be a
 * list of strings, joined (a secret rule's). */
static pcre2_code *compile_regex_node(struct loader *L, const struct ynode *n, const char *what,
				      uint32_t options, bool pieces)
{
	char joined[RULE_REGEX_MAX + 2];
	const char *s;
	if (pieces && n->kind == YNODE_SEQ) {
		s = join_regex_pieces(L, n, what, joined, sizeof(joined));
		if (!s) {
			return NULL;
		}
	} else {
		s = ynode_str(n);
	}
	if (!s || !*s) {
		ERR(L, n, NULL, "%s must be a non-empty string", what);
		return NULL;
	}
	if (strlen(s) > RULE_REGEX_MAX) {
		ERR(L, n, NULL, "%s is longer than %d bytes", what, RULE_REGEX_MAX);
		return NULL;
	}
	char err[200];
	size_t off = 0;
	pcre2_code *re = regex_compile(s, options, err, sizeof(err), &off);
	if (!re) {
		ERR(L, n, "the syntax is PCRE2 (Perl-compatible); quote the value in single quotes",
		    "invalid regular expression in %s at offset %zu: %s", what, off, err);
	}
	return re;
}

struct pat_ctx {
	struct rule *r;
	enum rule_role role;
	int cond; /* ROLE_BOUND_BY: the condition's index */
};

static void add_pattern(struct loader *L, const struct ynode *item, void *ud)
{
	struct pat_ctx *pc = ud;
	struct rule *r = pc->r;
	if (r->n_pats >= RULE_MAX_PATTERNS) {
		ERR(L, item, NULL, "a rule has at most %d patterns", RULE_MAX_PATTERNS);
		return;
	}
	r->pats = xreallocarray(r->pats, r->n_pats + 1, sizeof(*r->pats));
	struct rule_pattern *rp = &r->pats[r->n_pats++];
	memset(rp, 0, sizeof(*rp));
	rp->src = xstrdup(ynode_str(item));
	rp->line = item->line;
	rp->col = item->col;
	rp->role = pc->role;
	rp->cond = pc->role == ROLE_BOUND_BY ? pc->cond : -1;
	r->n_role[pc->role]++;
}

static void add_cwe(struct loader *L, const struct ynode *item, void *ud)
{
	struct rule *r = ud;
	const char *s = ynode_str(item);
	uint64_t num;
	if (!str_has_prefix(s, "CWE-") || parse_uint(s + 4, 100000, &num) < 0) {
		ERR(L, item, "write CWE ids as CWE-79", "invalid CWE id '%.40s'", s);
		return;
	}
	r->cwe = xreallocarray(r->cwe, r->n_cwe + 1, sizeof(char *));
	r->cwe[r->n_cwe++] = xstrdup(s);
}

static void add_language(struct loader *L, const struct ynode *item, void *ud)
{
	struct rule *r = ud;
	enum lang l;
	if (lang_parse(ynode_str(item), &l) < 0) {
		ERR(L, item,
		    "languages are c, cpp, python, javascript, typescript, go, java, shell, "
		    "dockerfile, github-actions and gitlab-ci",
		    "unknown language '%.40s'", ynode_str(item));
		return;
	}
	r->lang[l] = true;
}

static void add_keyword(struct loader *L, const struct ynode *item, void *ud)
{
	struct rule *r = ud;
	const char *s = ynode_str(item);
	if (r->n_keywords >= RULE_MAX_KEYWORDS) {
		ERR(L, item, NULL, "a rule has at most %d keywords", RULE_MAX_KEYWORDS);
		return;
	}
	if (strlen(s) < 2 || strlen(s) > 64) {
		ERR(L, item, NULL, "a keyword has 2 to 64 characters");
		return;
	}
	char *k = xstrdup(s);
	for (char *p = k; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	r->keywords = xreallocarray(r->keywords, r->n_keywords + 1, sizeof(char *));
	r->keywords[r->n_keywords++] = k;
}

static void add_allow(struct loader *L, const struct ynode *item, void *ud)
{
	struct rule *r = ud;
	pcre2_code *re = compile_regex_node(L, item, "an allow entry", 0, false);
	if (re) {
		r->allow = xreallocarray(r->allow, r->n_allow + 1, sizeof(*r->allow));
		r->allow[r->n_allow++] = re;
	}
}

static void add_reference(struct loader *L, const struct ynode *item, void *ud)
{
	struct rule *r = ud;
	if (!r->help_uri) {
		r->help_uri = xstrdup(ynode_str(item));
	}
	(void)L;
}

/* Line and column in the rules file of an offset in a pattern scalar. */
static void pattern_pos(const struct rule_pattern *rp, const struct ynode *node, size_t off,
			unsigned *line, unsigned *col)
{
	*line = rp->line;
	*col = rp->col;
	if (node && node->scalar.style == YSCALAR_PLAIN && !memchr(rp->src, '\n', off)) {
		*col = rp->col + (unsigned)off;
		return;
	}
	if (node && node->scalar.style == YSCALAR_BLOCK) {
		unsigned nl = 1;
		for (size_t i = 0; i < off && rp->src[i]; i++) {
			nl += rp->src[i] == '\n';
		}
		*line = rp->line + nl;
		*col = 0;
	}
}

static void weak_anchor(struct loader *L, const struct rule *r, const struct rule_pattern *rp)
{
	diag_error(L->dl, L->file, rp->line, rp->col,
		   "name the function or keyword instead of a metavariable (use pattern-either "
		   "for several), or bind the metavariable it starts with in a condition's "
		   "bound-by",
		   "the pattern needs a literal identifier, keyword, string, number or uncommon "
		   "operator to anchor on, in rule '%s'",
		   r->id);
}

/* The scalar at line:col among v and the nodes under it (a few levels: a condition's
 * bound-by list is under conditions). */
static const struct ynode *node_at(const struct ynode *v, unsigned line, unsigned col,
				   unsigned depth)
{
	if (v->kind == YNODE_SCALAR) {
		return v->line == line && v->col == col ? v : NULL;
	}
	if (depth == 0) {
		return NULL;
	}
	size_t n = v->kind == YNODE_SEQ ? v->seq.n : v->kind == YNODE_MAP ? v->map.n : 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *c = v->kind == YNODE_SEQ ? v->seq.v[i] : v->map.v[i].value;
		const struct ynode *f = node_at(c, line, col, depth - 1);
		if (f) {
			return f;
		}
	}
	return NULL;
}

static void compile_patterns(struct loader *L, struct rule *r, const struct ynode *rule_node)
{
	bool need[LEXER_COUNT] = { false };
	for (int l = 1; l < LANG_COUNT; l++) {
		if (r->lang[l]) {
			need[lang_lexer((enum lang)l)] = true;
		}
	}
	for (size_t i = 0; i < r->n_pats; i++) {
		struct rule_pattern *rp = &r->pats[i];
		/* The node, for positions: find it again by its line and column. */
		const struct ynode *node = node_at(rule_node, rp->line, rp->col, 5);
		for (int x = 1; x < LEXER_COUNT; x++) {
			if (!need[x]) {
				continue;
			}
			/* A representative language of this lexer. */
			enum lang lang = LANG_NONE;
			for (int l = 1; l < LANG_COUNT && lang == LANG_NONE; l++) {
				if (r->lang[l] && lang_lexer((enum lang)l) == (enum lexer)x) {
					lang = (enum lang)l;
				}
			}
			struct pattern_error pe;
			if (pattern_compile(rp->src, strlen(rp->src), lang, &r->mv,
					    &rp->by_lexer[x], &pe) < 0) {
				unsigned line, col;
				pattern_pos(rp, node, pe.offset, &line, &col);
				diag_error(L->dl, L->file, line, col,
					   "see docs/rules.md, \"Patterns\"",
					   "%s (as %s) in rule '%s'", pe.msg, lang_name(lang),
					   r->id);
				break;
			}
			/* A pattern the engine looks for through its anchor: a main one (or
			 * one that starts with a metavariable that a bound-by condition
			 * binds: checked with the conditions), and a bound-by one. */
			if ((rp->role == ROLE_BOUND_BY ||
			     (rp->role == ROLE_MAIN &&
			      rp->by_lexer[x]->el[0].kind != PEL_METAVAR)) &&
			    rp->by_lexer[x]->anchor_score < PATTERN_STRONG_ANCHOR) {
				weak_anchor(L, r, rp);
				break;
			}
		}
	}
}

/* The bound-by patterns of the conditions, added before the patterns are compiled (they
 * bind metavariables that other conditions may test). */
static void add_bound_by(struct loader *L, struct rule *r, const struct ynode *v)
{
	if (!v || v->kind != YNODE_SEQ) {
		return;
	}
	for (size_t i = 0; i < v->seq.n && i < RULE_MAX_CONDS; i++) {
		const struct ynode *c = v->seq.v[i];
		const struct ynode *b = c->kind == YNODE_MAP ? ynode_get(c, "bound-by") : NULL;
		if (b) {
			struct pat_ctx pc = { r, ROLE_BOUND_BY, (int)i };
			for_each_str(L, b, "bound-by", add_pattern, &pc);
		}
	}
}

/*
 * After the conditions: a bound-by pattern binds its condition's metavariable; a main
 * pattern without a literal to anchor on starts with a metavariable that a bound-by
 * condition binds (it is tried where the names that condition's patterns bind occur).
 */
static void check_bound_by(struct loader *L, struct rule *r)
{
	for (size_t i = 0; i < r->n_pats; i++) {
		struct rule_pattern *rp = &r->pats[i];
		for (int x = 1; x < LEXER_COUNT; x++) {
			const struct pattern *p = rp->by_lexer[x];
			if (!p) {
				continue;
			}
			/* One without any metavariable binds every name when it matches
			 * (`from subprocess import *`); one with others must bind this one. */
			if (rp->role == ROLE_BOUND_BY && p->mv_used &&
			    !(p->mv_used & (1u << r->conds[rp->cond].mv))) {
				diag_error(
					L->dl, L->file, rp->line, rp->col,
					"a bound-by pattern says where the metavariable gets its "
					"value",
					"the bound-by pattern does not bind %s, in rule '%s'",
					r->mv.name[r->conds[rp->cond].mv], r->id);
				return;
			}
			if (rp->role != ROLE_MAIN || p->anchor_score >= PATTERN_STRONG_ANCHOR ||
			    rp->cond >= 0) {
				continue;
			}
			for (size_t k = 0; k < r->n_conds && rp->cond < 0; k++) {
				if (r->conds[k].bound_by && r->conds[k].mv == p->el[0].mv) {
					rp->cond = (int)k;
				}
			}
			if (rp->cond < 0) {
				weak_anchor(L, r, rp);
				return;
			}
		}
	}
}

static void parse_conditions(struct loader *L, struct rule *r, const struct ynode *v)
{
	if (!v) {
		return;
	}
	if (v->kind != YNODE_SEQ) {
		ERR(L, v, "write conditions: [ { metavariable: $X, literal: false } ]",
		    "`conditions` must be a list, not %s", ynode_type_name(v));
		return;
	}
	if (v->seq.n > RULE_MAX_CONDS) {
		ERR(L, v, NULL, "a rule has at most %d conditions", RULE_MAX_CONDS);
		return;
	}
	r->conds = xcalloc(v->seq.n ? v->seq.n : 1, sizeof(*r->conds));
	for (size_t i = 0; i < v->seq.n; i++) {
		const struct ynode *c = v->seq.v[i];
		if (c->kind != YNODE_MAP) {
			ERR(L, c, NULL, "a condition must be a mapping, not %s",
			    ynode_type_name(c));
			continue;
		}
		check_keys(L, c, cond_keys, ARRAY_SIZE(cond_keys), "a condition");
		const struct ynode *mvn = ynode_get(c, "metavariable");
		const char *name = ynode_str(mvn);
		struct rule_cond *rc = &r->conds[r->n_conds];
		rc->literal = -1;
		rc->mv = name ? mvtab_find(&r->mv, name, strlen(name)) : -1;
		if (!name) {
			ERR(L, c, "name it: metavariable: $X",
			    "a condition needs a `metavariable`");
			continue;
		}
		if (rc->mv < 0) {
			ERR(L, mvn, "a condition can only test a metavariable that a pattern binds",
			    "no pattern of rule '%s' has the metavariable %.40s", r->id, name);
			continue;
		}
		const struct ynode *lit = ynode_get(c, "literal");
		if (lit) {
			bool b;
			if (ynode_bool(lit, &b) < 0) {
				ERR(L, lit, NULL, "`literal` must be true or false");
			} else {
				rc->literal = b;
			}
		}
		const struct ynode *re = ynode_get(c, "regex"), *nre = ynode_get(c, "not-regex");
		if (re) {
			rc->regex = compile_regex_node(L, re, "`regex`", 0, false);
		}
		if (nre) {
			rc->not_regex = compile_regex_node(L, nre, "`not-regex`", 0, false);
		}
		for (size_t k = 0; k < r->n_pats; k++) {
			if (r->pats[k].role == ROLE_BOUND_BY && r->pats[k].cond == (int)i) {
				rc->bound_by |= 1ull << k;
				r->pats[k].cond = (int)r->n_conds;
			}
		}
		if (!lit && !re && !nre && !rc->bound_by) {
			ERR(L, c,
			    "add literal:, regex: or not-regex:", "the condition tests nothing");
		}
		r->n_conds++;
	}
}

static struct rule *parse_sast_rule(struct loader *L, const struct ynode *n, struct rule *r)
{
	check_keys(L, n, sast_keys, ARRAY_SIZE(sast_keys), "a SAST rule");
	const struct ynode *langs = ynode_get(n, "languages");
	if (!langs) {
		ERR(L, n, "e.g. languages: [c, cpp]", "rule '%s' has no `languages`", r->id);
	} else if (for_each_str(L, langs, "languages", add_language, r) == 0) {
		ERR(L, langs, NULL, "rule '%s' names no language", r->id);
	}
	const struct ynode *pat = ynode_get(n, "pattern"), *either = ynode_get(n, "pattern-either");
	const struct ynode *re = ynode_get(n, "regex");
	int forms = !!pat + !!either + !!re;
	if (forms != 1) {
		ERR(L, n, "a SAST rule has exactly one of pattern, pattern-either and regex",
		    forms ? "rule '%s' has more than one of pattern, pattern-either, regex"
			  : "rule '%s' has no pattern",
		    r->id);
	}
	struct pat_ctx pc = { r, ROLE_MAIN };
	if (pat) {
		if (pat->kind != YNODE_SCALAR) {
			ERR(L, pat, "use pattern-either for alternatives",
			    "`pattern` must be a string, not %s", ynode_type_name(pat));
		} else {
			for_each_str(L, pat, "pattern", add_pattern, &pc);
		}
	}
	if (either) {
		if (either->kind != YNODE_SEQ || either->seq.n == 0) {
			ERR(L, either, NULL, "`pattern-either` must be a non-empty list");
		} else {
			for_each_str(L, either, "pattern-either", add_pattern, &pc);
		}
	}
	for (int role = ROLE_NOT; role <= ROLE_NOT_IN_FILE; role++) {
		const struct ynode *v = ynode_get(n, role_keys[role]);
		pc.role = (enum rule_role)role;
		for_each_str(L, v, role_keys[role], add_pattern, &pc);
		if (v && re) {
			ERR(L, v, NULL, "`%s` refines patterns; a regex rule has none",
			    role_keys[role]);
		}
	}
	if (re) {
		r->regex = compile_regex_node(L, re, "`regex`", 0, false);
		const struct ynode *nre = ynode_get(n, "not-regex");
		if (nre) {
			r->not_regex = compile_regex_node(L, nre, "`not-regex`", 0, false);
		}
		const struct ynode *w = ynode_get(n, "where");
		if (w) {
			const char *ws = ynode_str(w);
			if (str_eq(ws, "code")) {
				r->where = WHERE_CODE;
			} else if (str_eq(ws, "comment")) {
				r->where = WHERE_COMMENT;
			} else if (str_eq(ws, "any")) {
				r->where = WHERE_ANY;
			} else {
				ERR(L, w, "code, comment or any", "invalid `where` '%.40s'",
				    ws ? ws : ynode_type_name(w));
			}
		}
		for_each_str(L, ynode_get(n, "keywords"), "keywords", add_keyword, r);
		if (ynode_get(n, "conditions")) {
			ERR(L, ynode_get(n, "conditions"), NULL,
			    "conditions test metavariables; a regex rule has none");
		}
	} else {
		if (ynode_get(n, "not-regex") || ynode_get(n, "where") ||
		    ynode_get(n, "keywords")) {
			ERR(L, n, NULL, "not-regex, where and keywords belong to regex rules");
		}
		add_bound_by(L, r, ynode_get(n, "conditions"));
		if (L->dl->errors == L->errors_before) {
			compile_patterns(L, r, n);
		}
		if (L->dl->errors == L->errors_before) {
			parse_conditions(L, r, ynode_get(n, "conditions"));
		}
		if (L->dl->errors == L->errors_before) {
			check_bound_by(L, r);
		}
		/* Every $NAME of the message must be bound by a pattern. */
		for (const char *m = r->message; L->dl->errors == L->errors_before && *m; m++) {
			if (m[0] != '$' || !(isupper((unsigned char)m[1]) || m[1] == '_')) {
				continue;
			}
			size_t k = 1;
			while (isupper((unsigned char)m[k]) || isdigit((unsigned char)m[k]) ||
			       m[k] == '_') {
				k++;
			}
			if (mvtab_find(&r->mv, m, k) < 0) {
				ERR(L, ynode_get(n, "message"),
				    "a message can only name metavariables its patterns bind",
				    "the message of rule '%s' names %.*s, which no pattern binds",
				    r->id, (int)k, m);
			}
			m += k - 1;
		}
	}
	return r;
}

/* A callout a secret rule's regex makes: (?C"yaml"), (?C"code") and (?C"lisp") are the ones the
 * scan answers (rules.h). Returns 0 for them; otherwise 1, which ends the enumeration, with the
 * callout written to ud (64 bytes) for the message. */
static int check_callout(pcre2_callout_enumerate_block *b, void *ud)
{
	static const char *const known[] = { "yaml",	 "code",	  "lisp",
					     "lisp-let", "lisp-let-head", "lisp-pair" };
	for (size_t i = 0; b->callout_string && i < ARRAY_SIZE(known); i++) {
		if (b->callout_string_length == strlen(known[i]) &&
		    memcmp(b->callout_string, known[i], b->callout_string_length) == 0) {
			return 0;
		}
	}
	if (b->callout_string) {
		/* The opening delimiter is the byte before the string; `{` closes with `}`. */
		char open = (char)b->callout_string[-1];
		snprintf(ud, 64, "(?C%c%.*s%c)", open,
			 (int)MIN(b->callout_string_length, (PCRE2_SIZE)40), b->callout_string,
			 open == '{' ? '}' : open);
	} else {
		snprintf(ud, 64, "(?C%u)", b->callout_number);
	}
	return 1;
}

static struct rule *parse_secret_rule(struct loader *L, const struct ynode *n, struct rule *r)
{
	check_keys(L, n, secret_keys, ARRAY_SIZE(secret_keys), "a secret rule");
	/* true: a match may reach SECRETS_MULTILINE_MAX bytes past its line; a number: that
	 * many lines past it (within those bytes). */
	const struct ynode *ml = ynode_get(n, "multiline");
	int64_t lines = 0;
	if (ml && ynode_bool(ml, &r->multiline) < 0) {
		if (ynode_int(ml, &lines) < 0 || lines < 1 || lines > RULE_MAX_LINES) {
			ERR(L, ml, NULL,
			    "`multiline` must be true, false or a number of lines from 1 to %d",
			    RULE_MAX_LINES);
		} else {
			r->multiline = true;
			r->max_lines = (unsigned)lines;
		}
	}
	const struct ynode *re = ynode_get(n, "regex");
	const struct ynode *st = ynode_get(n, "structure");
	if (st) {
		/* The scanner reads the format itself; the rule gives what to report, and its
		 * keywords the lines that make a file worth reading. */
		if (!str_eq(ynode_str(st) ? ynode_str(st) : "", "kubernetes-secret")) {
			ERR(L, st, "the one structure known is kubernetes-secret",
			    "unknown structure '%.40s'", ynode_str(st) ? ynode_str(st) : "");
		}
		r->structure = RULE_STRUCTURE_K8S_SECRET;
		static const char *const not_with[] = { "regex", "secret-group", "entropy",
							"multiline" };
		for (size_t i = 0; i < ARRAY_SIZE(not_with); i++) {
			if (ynode_get(n, not_with[i])) {
				ERR(L, ynode_get(n, not_with[i]), NULL,
				    "a rule with `structure` has no `%s`", not_with[i]);
			}
		}
	} else if (!re) {
		ERR(L, n, NULL, "secret rule '%s' has no `regex`", r->id);
	} else {
		/* A multiline match must start on the line that has the keyword, although the
		 * text it is tried on reaches beyond it: the scan sets an offset limit. */
		r->regex = compile_regex_node(L, re, "`regex`",
					      r->multiline ? PCRE2_USE_OFFSET_LIMIT : 0, true);
		char callout[64] = "";
		if (r->regex && pcre2_callout_enumerate(r->regex, check_callout, callout) > 0) {
			ERR(L, re,
			    "a secret rule's regex may ask whether the file is YAML, (?C\"yaml\"), "
			    "source code, (?C\"code\"), or a Lisp's, (?C\"lisp\"), and in a Lisp's "
			    "whether a form is a let's binding, (?C\"lisp-let\"), in a let's head, "
			    "(?C\"lisp-let-head\"), or no cond's clause, (?C\"lisp-pair\")",
			    "unknown callout %s in `regex`", callout);
		}
	}
	const struct ynode *kw = ynode_get(n, "keywords");
	if (for_each_str(L, kw, "keywords", add_keyword, r) == 0) {
		ERR(L, kw ? kw : n,
		    "keywords make the scan fast: a line is only matched when it "
		    "contains one (case-insensitive)",
		    "secret rule '%s' needs `keywords`", r->id);
	}
	const struct ynode *g = ynode_get(n, "secret-group");
	int64_t gi = 0;
	if (g && (ynode_int(g, &gi) < 0 || gi < 0 || gi > 20)) {
		ERR(L, g, NULL, "`secret-group` must be a capture group number from 0 to 20");
	}
	r->secret_group = (unsigned)gi;
	if (r->regex && g) {
		uint32_t groups = 0;
		pcre2_pattern_info(r->regex, PCRE2_INFO_CAPTURECOUNT, &groups);
		if (gi > (int64_t)groups) {
			ERR(L, g, NULL, "the regex has only %u capture groups", groups);
		}
	} else if (r->regex) {
		uint32_t groups = 0;
		pcre2_pattern_info(r->regex, PCRE2_INFO_CAPTURECOUNT, &groups);
		r->secret_group = groups >= 1 ? 1 : 0;
	}
	const struct ynode *e = ynode_get(n, "entropy");
	if (e) {
		const char *es = ynode_str(e);
		char *end = NULL;
		double d = es ? strtod(es, &end) : -1;
		if (!es || !end || *end || d < 0 || d > 8) {
			ERR(L, e, NULL,
			    "`entropy` must be a number from 0 to 8 (bits per character)");
		} else {
			r->entropy = d;
		}
	}
	for_each_str(L, ynode_get(n, "allow"), "allow", add_allow, r);
	return r;
}

static void parse_rule(struct loader *L, const struct ynode *n)
{
	if (n->kind != YNODE_MAP) {
		ERR(L, n, NULL, "a rule must be a mapping, not %s", ynode_type_name(n));
		return;
	}
	L->errors_before = L->dl->errors;
	struct rule *r = xcalloc(1, sizeof(*r));
	r->kind = L->rs->kind;
	r->file = xstrdup(L->file);
	r->line = n->line;
	const char *id = need_str(L, n, "id", true, "e.g. id: c.strcpy");
	if (id && !valid_id(id)) {
		ERR(L, ynode_get(n, "id"), "ids are lower case letters, digits, '.', '-' and '_'",
		    "invalid rule id '%.60s'", id);
	}
	r->id = xstrdup(id ? id : "?");
	const char *title = need_str(L, n, "title", false, NULL);
	const char *msg = need_str(L, n, "message", r->kind == RULE_SAST,
				   "say what is wrong and why, in a sentence");
	r->title = xstrdup(title ? title : r->id);
	r->message = xstrdup(msg ? msg : r->title);
	const char *fix = need_str(L, n, "fix", false, NULL);
	r->fix = fix ? xstrdup(fix) : NULL;
	const struct ynode *sev = ynode_get(n, "severity");
	if (!sev) {
		ERR(L, n, "critical, high, medium, low or info", "rule '%s' has no `severity`",
		    r->id);
	} else if (severity_parse(ynode_str(sev), &r->severity) < 0) {
		ERR(L, sev, "critical, high, medium, low or info", "invalid severity '%.40s'",
		    ynode_str(sev) ? ynode_str(sev) : ynode_type_name(sev));
	}
	const struct ynode *conf = ynode_get(n, "confidence");
	const char *cs = conf ? ynode_str(conf) : "medium";
	if (!str_eq(cs, "high") && !str_eq(cs, "medium") && !str_eq(cs, "low")) {
		ERR(L, conf, "high, medium or low", "invalid confidence '%.40s'",
		    cs ? cs : ynode_type_name(conf));
	}
	r->confidence = xstrdup(cs ? cs : "medium");
	for_each_str(L, ynode_get(n, "cwe"), "cwe", add_cwe, r);
	for_each_str(L, ynode_get(n, "references"), "references", add_reference, r);
	if (r->kind == RULE_SECRET && r->n_cwe == 0) {
		r->cwe = xcalloc(1, sizeof(char *));
		r->cwe[r->n_cwe++] = xstrdup("CWE-798");
	}
	if (r->kind == RULE_SAST) {
		parse_sast_rule(L, n, r);
	} else {
		parse_secret_rule(L, n, r);
	}
	if (L->dl->errors > L->errors_before) {
		rule_free(r);
		return;
	}
	const struct rule *dup = hmap_get(L->rs->ids, r->id);
	if (dup) {
		char hint[300];
		snprintf(hint, sizeof(hint), "the first is at %s:%u; rule ids must be unique",
			 dup->file, dup->line);
		ERR(L, ynode_get(n, "id"), hint, "duplicate rule id '%s'", r->id);
		rule_free(r);
		return;
	}
	if (L->rs->n >= RULES_MAX) {
		ERR(L, n, NULL, "more than %d rules", RULES_MAX);
		rule_free(r);
		return;
	}
	GROW(L->rs->v, L->rs->cap, L->rs->n + 1);
	L->rs->v[L->rs->n++] = r;
	hmap_put(L->rs->ids, r->id, r);
}

int ruleset_load_buffer(struct ruleset *rs, const char *name, const char *buf, size_t len,
			struct diag_list *dl)
{
	size_t before = dl->errors;
	if (rs->finished) {
		return -EINVAL;
	}
	if (len > RULES_FILE_MAX) {
		diag_error(dl, name, 0, 0, NULL, "the rules file is larger than %u bytes",
			   RULES_FILE_MAX);
		return -EINVAL;
	}
	struct arena *a = arena_new(64u << 20);
	struct ydoc_limits lim = { .max_depth = 32, .max_nodes = 500000 };
	struct ynode *root = NULL;
	int r = ydoc_parse(a, name, buf, len, &lim, &root, dl);
	if (r < 0) {
		arena_free(a);
		return -EINVAL;
	}
	struct loader L = { rs, name, dl, 0 };
	static const char *const top[] = { "kind", "rules" };
	if (!root || root->kind != YNODE_MAP) {
		diag_error(dl, name, root ? root->line : 1, root ? root->col : 1,
			   "a rules file is a mapping: kind: sast, rules: [...]",
			   "the rules file is not a mapping");
		arena_free(a);
		return -EINVAL;
	}
	check_keys(&L, root, top, ARRAY_SIZE(top), "a rules file");
	const struct ynode *kind = ynode_get(root, "kind");
	const char *ks = kind ? ynode_str(kind) : "sast";
	enum rule_kind k = RULE_SAST;
	if (str_eq(ks, "secrets")) {
		k = RULE_SECRET;
	} else if (!str_eq(ks, "sast")) {
		ERR(&L, kind, "sast or secrets", "invalid rules kind '%.40s'",
		    ks ? ks : ynode_type_name(kind));
	}
	const struct ynode *rules = ynode_get(root, "rules");
	if (!rules || rules->kind != YNODE_SEQ) {
		ERR(&L, rules ? rules : root, NULL, "`rules` must be a list of rules");
	} else if (k == rs->kind && dl->errors == before) {
		for (size_t i = 0; i < rules->seq.n; i++) {
			parse_rule(&L, rules->seq.v[i]);
		}
	}
	arena_free(a);
	return dl->errors > before ? -EINVAL : 0;
}

static int load_file(struct ruleset *rs, const char *path, size_t *loaded, struct diag_list *dl)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_file_capped(path, RULES_FILE_MAX, &buf, &len);
	if (r < 0) {
		diag_error(dl, path, 0, 0, NULL, "cannot read the rules file: %s",
			   r == -EFBIG ? "it is too large" : strerror(-r));
		return r;
	}
	size_t before = rs->n;
	r = ruleset_load_buffer(rs, path, buf, len, dl);
	*loaded += rs->n - before;
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ruleset_load_path(struct ruleset *rs, const char *path, struct diag_list *dl)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		diag_error(dl, path, 0, 0, "give a rules file or a directory of them",
			   "cannot read the rules: %s", strerror(e));
		return -e;
	}
	size_t loaded = 0;
	if (!S_ISDIR(st.st_mode)) {
		int r = load_file(rs, path, &loaded, dl);
		if (r == 0 && loaded == 0) {
			diag_error(dl, path, 0, 0, NULL, "the file has no %s rules",
				   rs->kind == RULE_SAST ? "sast" : "secrets");
			return -EINVAL;
		}
		return r;
	}
	DIR *d = opendir(path);
	if (!d) {
		int e = errno;
		diag_error(dl, path, 0, 0, NULL, "cannot read the rules directory: %s",
			   strerror(e));
		return -e;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    !(str_has_suffix(de->d_name, ".yml") || str_has_suffix(de->d_name, ".yaml"))) {
			continue;
		}
		if (n >= RULES_DIR_MAX_FILES) {
			diag_error(dl, path, 0, 0, NULL, "more than %d rules files",
				   RULES_DIR_MAX_FILES);
			r = -EINVAL;
			break;
		}
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = xasprintf("%s/%s", path, de->d_name);
	}
	closedir(d);
	if (n) {
		qsort(names, n, sizeof(char *), cmp_name);
	}
	for (size_t i = 0; i < n; i++) {
		int rr = load_file(rs, names[i], &loaded, dl);
		if (rr < 0 && r == 0) {
			r = rr;
		}
		free(names[i]);
	}
	free(names);
	if (r == 0 && loaded == 0) {
		diag_error(dl, path, 0, 0, "rules files end in .yml or .yaml",
			   "the directory has no %s rules",
			   rs->kind == RULE_SAST ? "sast" : "secrets");
		return -EINVAL;
	}
	return r;
}

int ruleset_load_defaults(struct ruleset *rs, struct diag_list *dl)
{
	int r = 0;
	for (size_t i = 0; i < rules_builtin_count; i++) {
		_cleanup_free_ char *name = xasprintf("builtin:%s", rules_builtin_packs[i].name);
		if (ruleset_load_buffer(rs, name, rules_builtin_packs[i].data,
					rules_builtin_packs[i].len, dl) < 0) {
			r = -EINVAL;
		}
	}
	return r;
}

/* ---------- indexes ---------- */

static uint32_t anchor_key_hash(uint8_t kind, uint32_t h)
{
	return h * 2654435761u + kind;
}

static int find_anchor(const struct rule_lang_index *ix, uint8_t kind, uint32_t hash,
		       const char *text, size_t len, bool icase)
{
	if (!ix->table_size) {
		return -1;
	}
	uint32_t b = anchor_key_hash(kind, hash) & 0xffff;
	if (!(ix->bloom[b >> 6] & (1ull << (b & 63)))) {
		return -1;
	}
	size_t mask = ix->table_size - 1;
	for (size_t i = anchor_key_hash(kind, hash) & mask;; i = (i + 1) & mask) {
		uint32_t v = ix->table[i];
		if (v == 0) {
			return -1;
		}
		const struct rule_anchor *a = &ix->anchors[v - 1];
		if (a->tok_kind == kind && a->hash == hash && a->len == len &&
		    (icase ? strncasecmp(a->text, text, len) == 0
			   : memcmp(a->text, text, len) == 0)) {
			return (int)(v - 1);
		}
	}
}

static void build_index(struct ruleset *rs, enum lang l)
{
	struct rule_lang_index *ix = &rs->idx[l];
	enum lexer lx = lang_lexer(l);
	bool icase = l == LANG_DOCKERFILE;
	size_t cap = 0;
	for (size_t ri = 0; ri < rs->n; ri++) {
		const struct rule *r = rs->v[ri];
		if (!r->lang[l]) {
			continue;
		}
		ix->n_rules++;
		if (r->regex) {
			ix->regex_rules = xreallocarray(ix->regex_rules, ix->n_regex_rules + 1,
							sizeof(uint32_t));
			ix->regex_rules[ix->n_regex_rules++] = (uint32_t)ri;
			continue;
		}
		for (size_t pi = 0; pi < r->n_pats; pi++) {
			if (r->pats[pi].role != ROLE_MAIN && r->pats[pi].role != ROLE_BOUND_BY) {
				continue;
			}
			const struct pattern *p = r->pats[pi].by_lexer[lx];
			if (!p) {
				continue;
			}
			if (r->pats[pi].role == ROLE_MAIN && r->pats[pi].cond >= 0) {
				ix->bound_uses = xreallocarray(ix->bound_uses, ix->n_bound_uses + 1,
							       sizeof(*ix->bound_uses));
				ix->bound_uses[ix->n_bound_uses++] =
					(struct rule_anchor_use){ (uint32_t)ri, (uint16_t)pi };
				continue;
			}
			const char *text;
			size_t len;
			uint8_t kind;
			pattern_anchor(p, &text, &len, &kind);
			uint32_t h = p->el[p->anchor].hash;
			int found = -1;
			for (size_t k = 0; k < ix->n_anchors && found < 0; k++) {
				const struct rule_anchor *a = &ix->anchors[k];
				if (a->tok_kind == kind && a->hash == h && a->len == len &&
				    memcmp(a->text, text, len) == 0) {
					found = (int)k;
				}
			}
			if (found < 0) {
				GROW(ix->anchors, cap, ix->n_anchors + 1);
				ix->anchors[ix->n_anchors] = (struct rule_anchor){
					.hash = h, .tok_kind = kind, .text = text, .len = len
				};
				found = (int)ix->n_anchors++;
			}
			struct rule_anchor *a = &ix->anchors[found];
			a->uses = xreallocarray(a->uses, a->n_uses + 1, sizeof(*a->uses));
			a->uses[a->n_uses++] =
				(struct rule_anchor_use){ (uint32_t)ri, (uint16_t)pi };
		}
	}
	size_t ts = 16;
	while (ts < ix->n_anchors * 4) {
		ts *= 2;
	}
	ix->table_size = ts;
	ix->table = xcalloc(ts, sizeof(uint32_t));
	for (size_t k = 0; k < ix->n_anchors; k++) {
		const struct rule_anchor *a = &ix->anchors[k];
		uint32_t b = anchor_key_hash(a->tok_kind, a->hash) & 0xffff;
		ix->bloom[b >> 6] |= 1ull << (b & 63);
		size_t i = anchor_key_hash(a->tok_kind, a->hash) & (ts - 1);
		while (ix->table[i]) {
			i = (i + 1) & (ts - 1);
		}
		ix->table[i] = (uint32_t)k + 1;
	}
	(void)icase;
}

int ruleset_finish(struct ruleset *rs, struct diag_list *dl)
{
	(void)dl;
	if (rs->finished) {
		return 0;
	}
	if (rs->kind == RULE_SAST) {
		for (int l = 1; l < LANG_COUNT; l++) {
			build_index(rs, (enum lang)l);
		}
	}
	rs->finished = true;
	return 0;
}

const struct rule_lang_index *ruleset_lang_index(const struct ruleset *rs, enum lang l)
{
	return (unsigned)l < LANG_COUNT ? &rs->idx[l] : NULL;
}

int ruleset_pattern_anchor(const struct rule_lang_index *ix, const struct pattern *p)
{
	const char *text;
	size_t len;
	uint8_t kind;
	pattern_anchor(p, &text, &len, &kind);
	return find_anchor(ix, kind, p->el[p->anchor].hash, text, len, false);
}

int ruleset_anchor_lookup(const struct rule_lang_index *ix, const struct tokens *t,
			  const struct token *k)
{
	bool icase = t->lang == LANG_DOCKERFILE;
	enum lexer lx = lang_lexer(t->lang);
	if (k->flags & TOKF_IMPLIED) {
		/* A line of a RUN heredoc: the instruction it stands for. */
		return find_anchor(ix, TOK_IDENT, k->hash, "RUN", 3, icase);
	}
	switch (k->kind) {
	case TOK_IDENT:
	case TOK_PUNCT:
	case TOK_NUMBER:
		return find_anchor(ix, k->kind, k->hash, t->src + k->off, k->len,
				   icase && k->kind == TOK_IDENT);
	case TOK_STRING: {
		const char *s;
		size_t n;
		tok_string_content(t, k, &s, &n);
		int a = find_anchor(ix, TOK_STRING, k->hash, s, n, false);
		if (a < 0 && (lx == LEXER_SHELL || lx == LEXER_DOCKERFILE || lx == LEXER_YAML) &&
		    tok_is_constant(t, k)) {
			/* A quoted word stands for the word. */
			a = find_anchor(ix, TOK_IDENT, lex_hash(s, n, icase), s, n, icase);
		}
		return a;
	}
	default:
		return -1;
	}
}
