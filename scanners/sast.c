/*
 * sast.c - evaluating SAST rules on a file: anchors, matches, refinements, regex rules,
 * findings.
 *
 * A file is evaluated as token streams: its own text, then each piece of code embedded in
 * it (a CI file's run: block, a template's ${ }, an f-string's replacement field, a shell
 * $( )), and those embedded in these, outermost first. Embedded code sees the bindings of
 * the code of its language around it (bound-by conditions): a stream that embeds code of
 * its own language leaves its bindings to it (export_bindings()).
 */
#include "sast.h"

#include "filefind.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "banned.h"

struct rmatch {
	uint32_t start, end;
	uint32_t seq; /* the order in which the rule's matches were found */
	uint16_t pat; /* the main pattern's index in the rule */
	bool refused; /* the refinements refused it (step 3 of eval_tokens) */
	struct binds b;
};

struct rmatches {
	struct rmatch *v;
	size_t n, cap;
	bool touched;
	/* Per file (sast_scratch.file), across all its token streams: the rule's matching
	 * budget, and the findings it has reported there. */
	uint32_t file;
	size_t steps_left;
	size_t found;
};

struct occ {
	uint32_t *v;
	size_t n, cap;
};

/*
 * The starts of a refinement pattern's matches: those pattern_starts() gives for its
 * anchors, in order (v). For a pattern whose first element is a metavariable, also by the
 * hash of the token there (by_first: hash << 32 | start, sorted). Computed per rule and
 * token stream when its containing searches have visited its anchors often enough to cost
 * more (visits), and shared by the rule's patterns that have the same (list: the index of
 * the pattern whose arrays hold them).
 */
struct starts {
	uint32_t *v;
	size_t n, cap;
	uint64_t *by_first;
	size_t n_first, cap_first;
	bool valid, first_valid, too_many;
	size_t visits;
	size_t list;
};

/* Starts held per rule and token stream at most (12 bytes each): past it, a pattern's
 * containing matches are looked for from its anchors (at their cost in steps). */
#define STARTS_MAX (1u << 22)

/* Bindings a bound-by condition collects in one token stream, at most: beyond, the rule
 * gives up on the file (it is reported as not evaluated completely). */
#define BOUND_MAX 1024

/* Tokens of the bindings that code embedding other code leaves to it, per file, at most:
 * beyond, the rules that bind more give up on the file. */
#define OUTER_MAX_TOKENS (1u << 20)

/* A binding made by code that embeds other code of its language (a file's top level around
 * its templates, a ${ } around a nested template), which that code sees. */
struct outer_bind {
	uint32_t hash;	 /* of its first token */
	uint32_t tok, n; /* its tokens: [tok, tok + n) of sast_scratch.outer */
};

/* The bindings of a condition that one token stream leaves to the code it embeds. */
struct outer_block {
	uint32_t stream;   /* sast_scratch.stream when it was evaluated */
	uint32_t first, n; /* bset.ov[first, first + n), sorted by hash */
	bool any;	   /* every name (bset.any) */
};

/* The bindings that a bound-by condition's patterns make in the current token stream. */
struct bset {
	uint32_t gen;	/* sast_scratch.gen when computed; another: not computed yet */
	bool computing; /* its patterns are being matched (they do not check it themselves) */
	bool full;	/* BOUND_MAX reached */
	bool any;	/* a pattern without metavariables matched: every name is bound */
	uint32_t (*v)[2];
	size_t n, cap;
	/* Those that token streams of the current file (sast_scratch.file) left to the code
	 * they embed, by stream, in the order they were evaluated. */
	struct outer_bind *ov;
	size_t on, ocap;
	struct outer_block *ob;
	size_t obn, obcap;
	uint32_t ofile;
};

#define LINE_MEMO_STEP 256

/*
 * The line of the last finding, read once for all the findings on it (a thousand a rule):
 * where it starts and ends, its blanks trimmed (for excerpts), and its code points counted
 * every LINE_MEMO_STEP bytes (for columns). Each finding read its line from the start to
 * its column, and whole for its excerpt: on a line of megabytes, minutes.
 */
struct line_memo {
	uint32_t file, line; /* sast_scratch.file and the line it is for (line 0: none) */
	size_t ls, next;     /* where the line starts, and where the next one does */
	size_t le;	     /* where its line end is */
	size_t b, e;	     /* the line without the blanks around it */
	uint32_t *cp;	     /* cp[i]: code points in [ls, ls + i * LINE_MEMO_STEP) */
	size_t cp_cap;
};

/*
 * Starts of a token stream a pattern was tried at, a bit each: the starts that
 * pattern_starts() gives for the anchors of one statement are largely the same (in a file
 * after a bracket that does not close, those of the whole file), and a search from one of
 * them that found nothing finds nothing again for another anchor.
 */
struct startset {
	uint64_t *v;
	size_t cap;	 /* words of v */
	uint32_t lo, hi; /* the words that may be set: [lo, hi) */
};

/*
 * What the collection of a bound-by condition's bindings in a token stream (bound_set())
 * keeps, so that no search of it is made twice: the failures of its patterns' searches
 * (every search fails: collect_accept() records a match and refuses it), and the starts its
 * current pattern was tried at.
 */
struct collecting {
	struct pattern_memo *memo;
	struct startset tried;
};

struct sast_scratch {
	const struct ruleset *rs;
	struct tokens tk;  /* the file */
	struct tokens rtk; /* an embedded region */
	struct occ *occ;   /* per anchor of the current language index */
	size_t n_occ;
	uint32_t *touched_anchors;
	size_t n_touched_anchors, cap_touched_anchors;
	struct rmatches *rm; /* per rule */
	uint32_t *touched_rules;
	size_t n_touched_rules, cap_touched_rules;
	struct occ pat_occ[RULE_MAX_PATTERNS]; /* anchors of the current rule's patterns */
	bool pat_occ_valid[RULE_MAX_PATTERNS];
	struct starts pat_starts[RULE_MAX_PATTERNS]; /* and their starts */
	/* The index of the token stream being evaluated, and the failures of the current
	 * rule's refinements on it (pattern.h). */
	struct pattern_index *pix;
	struct pattern_memo *memo;
	struct startset failed; /* where the current main pattern found nothing (try_start()) */
	/* The bound-by conditions being collected (bound_set()): a condition's patterns can
	 * need another's bindings, so one for each condition at most. */
	struct collecting collecting[RULE_MAX_CONDS];
	size_t n_collecting;
	struct lex_region *queue; /* embedded regions still to scan */
	size_t n_queue, cap_queue;
	struct regex_ctx rx;
	struct sast_file_stats *st;
	bool *gave_up;	     /* per rule: an evaluation on the current file was given up */
	struct bset **bsets; /* per rule, per condition (allocated when first needed) */
	uint32_t gen;	     /* the token stream being evaluated (counts eval_tokens calls) */
	uint32_t stream;     /* its id: 0 the file's own text, q + 1 the queue's q-th region */
	uint32_t *parent;    /* per queued region: the stream it was found in */
	size_t cap_parent;
	/* The streams of its language around it (that it sees the bindings of), innermost
	 * first: the regions it is nested in, the file. */
	uint32_t around[LEX_MAX_NEST + 2];
	size_t n_around;
	uint32_t file;	      /* the file being scanned (counts sast_scan calls) */
	struct tokens outer;  /* the tokens of struct outer_bind (src: the file's text) */
	bool regions_dropped; /* embedded regions beyond the queue's cap, this file */
	/* The blocks of the token stream being evaluated (pattern_blocks()), computed when
	 * first needed: blk_gen is the sast_scratch.gen they are for. */
	uint32_t *blk_in, *blk_close;
	size_t blk_in_cap, blk_close_cap;
	uint32_t blk_gen;
	/* Its bracketed groups (pattern_groups()), likewise: grp_gen is the gen they are for. */
	uint32_t *grp_in;
	size_t grp_in_cap;
	uint32_t grp_gen;
	struct line_memo lm; /* the line of the last finding */
};

/* Evaluations given up on the current file so far (step budgets and regex limits). */
static size_t given_up(const struct sast_scratch *s)
{
	return s->st->budget_exceeded + s->st->regex_limits;
}

struct sast_scratch *sast_scratch_new(const struct ruleset *rs)
{
	struct sast_scratch *s = xcalloc(1, sizeof(*s));
	s->rs = rs;
	tokens_init(&s->tk);
	tokens_init(&s->rtk);
	tokens_init(&s->outer);
	size_t max_anchors = 0;
	for (int l = 1; l < LANG_COUNT; l++) {
		const struct rule_lang_index *ix = ruleset_lang_index(rs, (enum lang)l);
		max_anchors = MAX(max_anchors, ix->n_anchors);
	}
	s->n_occ = max_anchors;
	s->occ = xcalloc(max_anchors ? max_anchors : 1, sizeof(struct occ));
	s->rm = xcalloc(ruleset_count(rs) ? ruleset_count(rs) : 1, sizeof(struct rmatches));
	s->gave_up = xcalloc(ruleset_count(rs) ? ruleset_count(rs) : 1, sizeof(bool));
	s->bsets = xcalloc(ruleset_count(rs) ? ruleset_count(rs) : 1, sizeof(struct bset *));
	s->pix = pattern_index_new();
	s->memo = pattern_memo_new();
	regex_ctx_init(&s->rx);
	return s;
}

void sast_scratch_free(struct sast_scratch *s)
{
	if (!s) {
		return;
	}
	tokens_release(&s->tk);
	tokens_release(&s->rtk);
	tokens_release(&s->outer);
	free(s->lm.cp);
	for (size_t i = 0; i < s->n_occ; i++) {
		free(s->occ[i].v);
	}
	free(s->occ);
	for (size_t i = 0; i < ruleset_count(s->rs); i++) {
		free(s->rm[i].v);
	}
	free(s->rm);
	for (size_t i = 0; i < ruleset_count(s->rs); i++) {
		for (size_t c = 0; s->bsets[i] && c < ruleset_rule(s->rs, i)->n_conds; c++) {
			free(s->bsets[i][c].v);
			free(s->bsets[i][c].ov);
			free(s->bsets[i][c].ob);
		}
		free(s->bsets[i]);
	}
	free(s->bsets);
	free(s->gave_up);
	free(s->touched_anchors);
	free(s->touched_rules);
	free(s->queue);
	free(s->parent);
	free(s->blk_in);
	free(s->blk_close);
	free(s->grp_in);
	for (size_t i = 0; i < RULE_MAX_PATTERNS; i++) {
		free(s->pat_occ[i].v);
		free(s->pat_starts[i].v);
		free(s->pat_starts[i].by_first);
	}
	pattern_index_free(s->pix);
	pattern_memo_free(s->memo);
	for (size_t i = 0; i < RULE_MAX_CONDS; i++) {
		pattern_memo_free(s->collecting[i].memo);
		free(s->collecting[i].tried.v);
	}
	free(s->failed.v);
	regex_ctx_release(&s->rx);
	free(s);
}

static void occ_push(struct occ *o, uint32_t v)
{
	GROW(o->v, o->cap, o->n + 1);
	o->v[o->n++] = v;
}

/* Room for the starts of t, none of them in the set. */
static void startset_reset(struct startset *ss, const struct tokens *t)
{
	if (ss->lo < ss->hi) {
		memset(ss->v + ss->lo, 0, (ss->hi - ss->lo) * sizeof(uint64_t));
	}
	ss->lo = UINT32_MAX;
	ss->hi = 0;
	size_t words = t->n / 64 + 1;
	if (ss->cap < words) {
		free(ss->v);
		ss->v = xcalloc(words, sizeof(uint64_t));
		ss->cap = words;
	}
}

static bool startset_has(const struct startset *ss, uint32_t start)
{
	return ss->v[start / 64] & (1ull << (start % 64));
}

static void startset_add(struct startset *ss, uint32_t start)
{
	uint32_t w = start / 64;
	ss->v[w] |= 1ull << (start % 64);
	ss->lo = MIN(ss->lo, w);
	ss->hi = MAX(ss->hi, w + 1);
}

/* ---------- conditions ---------- */

struct eval {
	struct sast_scratch *s;
	const struct rule *r;
	uint32_t ri; /* the rule's index in the set */
	const struct tokens *t;
	size_t *steps_left; /* the rule's budget on this token stream, or NULL */
	/* The failures of its refinements remembered (while they are evaluated), or NULL. */
	struct pattern_memo *memo;
};

/* Is token i, in [s, e), a string literal (a constant one)? */
static bool const_string_at(const struct tokens *t, uint32_t s, uint32_t e, uint32_t i)
{
	return i >= s && i < e && t->v[i].kind == TOK_STRING && tok_is_constant(t, &t->v[i]);
}

/*
 * Constants only: numbers and strings, joined by `+` or adjacent, in brackets. In C and C++
 * a name right next to a string literal, `"%" PRIu64 "\n"`, `PREFIX "x"`, is one too: only a
 * macro that stands for a string literal can be there (the strings are joined when the code
 * is compiled), unless it is a call (`_("x")`).
 */
static bool is_literal(const struct tokens *t, uint32_t s, uint32_t e)
{
	bool any = false, c = lang_lexer(t->lang) == LEXER_C;
	for (uint32_t i = s; i < e; i++) {
		const struct token *k = &t->v[i];
		if (tok_is_constant(t, k)) {
			any = true;
			continue;
		}
		if (k->kind == TOK_PUNCT && k->len == 1 &&
		    (t->src[k->off] == '+' || t->src[k->off] == '(' || t->src[k->off] == ')')) {
			continue;
		}
		bool call = i + 1 < e && t->v[i + 1].kind == TOK_PUNCT &&
			    t->src[t->v[i + 1].off] == '(';
		if (c && k->kind == TOK_IDENT && !call &&
		    (const_string_at(t, s, e, i - 1) || const_string_at(t, s, e, i + 1))) {
			continue;
		}
		return false;
	}
	return any;
}

/* Returns 1 match, 0 no match, -1 a limit was hit. */
static int regex_test(struct sast_scratch *s, const pcre2_code *re, const char *text, size_t n)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)text, n, 0, 0, s->rx.md, s->rx.mctx);
	if (rc >= 0) {
		return 1;
	}
	if (rc == PCRE2_ERROR_NOMATCH) {
		return 0;
	}
	if (s->st) {
		s->st->regex_limits++;
	}
	return -1;
}

/* ---------- bound-by conditions ---------- */

/* Is token i a member's name (`x.name`, `x?.name`, C's `p->name`), not a variable? */
static bool member_name(const struct tokens *t, uint32_t i)
{
	if (i == 0 || t->v[i - 1].kind != TOK_PUNCT) {
		return false;
	}
	const struct token *k = &t->v[i - 1];
	const char *s = t->src + k->off;
	return (k->len == 1 && s[0] == '.') ||
	       (k->len == 2 && (memcmp(s, "?.", 2) == 0 ||
				(memcmp(s, "->", 2) == 0 && lang_lexer(t->lang) == LEXER_C)));
}

static bool bset_has(const struct bset *b, const struct tokens *t, uint32_t start, uint32_t end)
{
	for (size_t i = 0; i < b->n; i++) {
		if (binds_same(t, b->v[i][0], b->v[i][1], t, start, end)) {
			return true;
		}
	}
	return false;
}

static int cmp_block_stream(const void *key, const void *el)
{
	uint32_t id = *(const uint32_t *)key, stream = ((const struct outer_block *)el)->stream;
	return id < stream ? -1 : id > stream;
}

/*
 * The next block of bindings of condition ci, from *i on, that the code around the token
 * stream being evaluated left to it (export_bindings()), or NULL: none in a file's own
 * text. Around a nested template's ${ } are the ${ } it is in and the file's top level;
 * not other templates.
 */
static const struct outer_block *outer_next(const struct eval *ev, size_t ci, size_t *i)
{
	const struct sast_scratch *s = ev->s;
	const struct bset *b = s->bsets[ev->ri] ? &s->bsets[ev->ri][ci] : NULL;
	if (!b || b->ofile != s->file) {
		return NULL;
	}
	while (*i < s->n_around && b->obn) {
		/* Blocks are in the order of their streams. */
		uint32_t id = s->around[(*i)++];
		const struct outer_block *o =
			bsearch(&id, b->ob, b->obn, sizeof(b->ob[0]), cmp_block_stream);
		if (o) {
			return o;
		}
	}
	return NULL;
}

/* Does block o hold [start, end) of t (first: only its first token), or every name? */
static bool outer_block_has(const struct sast_scratch *s, const struct bset *b,
			    const struct outer_block *o, const struct tokens *t, uint32_t start,
			    uint32_t end, bool first)
{
	if (o->any) {
		return true;
	}
	uint32_t h = t->v[start].hash;
	size_t lo = o->first, hi = o->first + o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->ov[mid].hash < h) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	for (; lo < o->first + o->n && b->ov[lo].hash == h; lo++) {
		const struct outer_bind *x = &b->ov[lo];
		if (binds_same(&s->outer, x->tok, x->tok + (first ? 1 : x->n), t, start,
			       first ? start + 1 : end)) {
			return true;
		}
	}
	return false;
}

/* Does the code around the token stream bind [start, end) of t (first: a binding that
 * starts with token start) for condition ci? */
static bool outer_has(const struct eval *ev, size_t ci, const struct tokens *t, uint32_t start,
		      uint32_t end, bool first)
{
	size_t i = 0;
	for (const struct outer_block *o; (o = outer_next(ev, ci, &i));) {
		if (outer_block_has(ev->s, &ev->s->bsets[ev->ri][ci], o, t, start, end, first)) {
			return true;
		}
	}
	return false;
}

static bool cond_check(void *ud, int mv, const struct tokens *t, uint32_t start, uint32_t end);

/* What matching a pattern needs within ev: its tokens, its conditions, its step budget. */
static struct pattern_ctx eval_pctx(struct eval *ev, pattern_accept_fn accept, void *accept_ud)
{
	return (struct pattern_ctx){ .t = ev->t,
				     .cond = cond_check,
				     .cond_ud = ev,
				     .accept = accept,
				     .accept_ud = accept_ud,
				     .steps_left = ev->steps_left,
				     .index = ev->s->pix,
				     .memo = ev->memo };
}

struct collect {
	struct eval *ev;
	struct bset *b;
	int mv;
	const struct pattern *p;
	struct collecting *c; /* this collection's alone */
};

/* Every match of a bound-by pattern: record what it binds, and look for more. */
static bool collect_accept(void *ud, const struct binds *bd, uint32_t start, uint32_t end)
{
	struct collect *cl = ud;
	struct bset *b = cl->b;
	(void)start;
	(void)end;
	if (cl->p->mv_used == 0) {
		b->any = true; /* `from subprocess import *`: it binds every name */
		return true;
	}
	if (!(bd->set & (1u << cl->mv)) || b->full ||
	    bset_has(b, cl->ev->t, bd->start[cl->mv], bd->end[cl->mv])) {
		return false;
	}
	if (b->n == BOUND_MAX) {
		b->full = true;
		cl->ev->s->st->budget_exceeded++; /* given up: a binding may be missing */
		return false;
	}
	GROW(b->v, b->cap, b->n + 1);
	b->v[b->n][0] = bd->start[cl->mv];
	b->v[b->n][1] = bd->end[cl->mv];
	b->n++;
	return false;
}

static bool collect_start(void *ud, uint32_t start)
{
	struct collect *cl = ud;
	struct eval *ev = cl->ev;
	/* Tried from another anchor already: the same search, whose bindings are recorded. */
	struct collecting *c = cl->c;
	if (startset_has(&c->tried, start)) {
		return false;
	}
	startset_add(&c->tried, start);
	struct pattern_ctx pc = eval_pctx(ev, collect_accept, cl);
	/* While a condition's bindings are collected it is not checked: a failure then is not
	 * one later, and the rule's memo is not for it. The collection's own memo lets a
	 * search skip the stopping points of its ellipses where a search from an earlier
	 * start found the bindings already (the imports of a file after a bracket that does
	 * not close: each walked the rest of the file). */
	pc.memo = c->memo;
	pc.collects = true;
	pattern_match_at(cl->p, &pc, start, NULL, NULL);
	ev->s->st->budget_exceeded += pc.budget_exceeded;
	return false;
}

static const struct bset *bound_set(struct eval *ev, size_t ci);

/*
 * Does bound-by pattern p of condition ci use another metavariable whose own bound-by
 * condition binds nothing in this token stream, nor in the code around it (`const { ...,
 * $RAW, ... } = $CP` in a file that never requires child_process)? Then it cannot match,
 * and its anchors (`const`) need not be visited.
 */
static bool needs_unbound(struct eval *ev, size_t ci, const struct pattern *p, uint32_t bound_mvs)
{
	const struct rule *r = ev->r;
	if (!(p->mv_used & bound_mvs & ~(1u << r->conds[ci].mv))) {
		return false;
	}
	for (size_t k = 0; k < r->n_conds; k++) {
		const struct rule_cond *c = &r->conds[k];
		if (k == ci || !c->bound_by || c->mv == r->conds[ci].mv ||
		    !(p->mv_used & (1u << c->mv))) {
			continue;
		}
		const struct bset *b = bound_set(ev, k);
		size_t oi = 0;
		if (b && b->n == 0 && !b->full && !b->any && !outer_next(ev, k, &oi)) {
			return true;
		}
	}
	return false;
}

/*
 * The bindings of condition ci's metavariable by its bound-by patterns, everywhere in the
 * token stream: computed once per rule and token stream. NULL while they are being computed
 * (a bound-by pattern binding its own metavariable does not check it).
 */
static const struct bset *bound_set(struct eval *ev, size_t ci)
{
	struct sast_scratch *s = ev->s;
	const struct rule *r = ev->r;
	const struct tokens *t = ev->t;
	if (!s->bsets[ev->ri]) {
		s->bsets[ev->ri] = xcalloc(r->n_conds, sizeof(struct bset));
	}
	struct bset *b = &s->bsets[ev->ri][ci];
	if (b->gen == s->gen) {
		return b->computing ? NULL : b;
	}
	b->gen = s->gen;
	b->computing = true;
	b->full = false;
	b->any = false;
	b->n = 0;
	/* Collections nest at most once per condition (b->computing). */
	struct collecting *cc = &s->collecting[s->n_collecting++];
	if (!cc->memo) {
		cc->memo = pattern_memo_new();
	}
	pattern_memo_clear(cc->memo);
	struct collect cl = { ev, b, r->conds[ci].mv, NULL, cc };
	uint32_t bound_mvs = 0; /* the metavariables that bound-by conditions bind */
	for (size_t k = 0; k < r->n_conds; k++) {
		bound_mvs |= r->conds[k].bound_by ? 1u << r->conds[k].mv : 0;
	}
	enum lexer lx = lang_lexer(t->lang);
	const struct rule_lang_index *ix = ruleset_lang_index(s->rs, t->lang);
	for (size_t pi = 0; pi < r->n_pats; pi++) {
		cl.p = r->pats[pi].by_lexer[lx];
		if (!(r->conds[ci].bound_by & (1ull << pi)) || !cl.p ||
		    needs_unbound(ev, ci, cl.p, bound_mvs)) {
			continue;
		}
		/* Where its anchor occurs: found with the others' in one pass (eval_tokens). */
		int a = ruleset_pattern_anchor(ix, cl.p);
		const struct occ *o = a >= 0 ? &s->occ[a] : NULL;
		startset_reset(&cc->tried, t);
		for (size_t k = 0; o && k < o->n && !b->full && !b->any; k++) {
			pattern_starts(cl.p, t, o->v[k], collect_start, &cl);
		}
	}
	s->n_collecting--;
	b->computing = false;
	return b;
}

static bool cond_check(void *ud, int mv, const struct tokens *t, uint32_t start, uint32_t end)
{
	struct eval *ev = ud;
	const struct rule *r = ev->r;
	for (size_t i = 0; i < r->n_conds; i++) {
		const struct rule_cond *c = &r->conds[i];
		if (c->mv != mv) {
			continue;
		}
		if (c->literal >= 0 && is_literal(t, start, end) != (c->literal == 1)) {
			return false;
		}
		if (c->regex || c->not_regex) {
			const char *text;
			size_t n;
			const struct token *first = &t->v[start], *last = &t->v[end - 1];
			enum lexer lx = lang_lexer(t->lang);
			if (end - start == 1 && first->kind == TOK_STRING && lx != LEXER_SHELL &&
			    lx != LEXER_DOCKERFILE) {
				tok_string_content(t, first, &text, &n);
			} else {
				text = t->src + first->off;
				n = last->off + last->len - first->off;
			}
			if (c->regex && regex_test(ev->s, c->regex, text, n) != 1) {
				return false;
			}
			if (c->not_regex && regex_test(ev->s, c->not_regex, text, n) != 0) {
				return false;
			}
		}
		if (c->bound_by) {
			/* A name the file binds: not a member of something (`re.exec`). */
			if (member_name(t, start)) {
				return false;
			}
			const struct bset *b = bound_set(ev, i);
			if (b && !b->any && !bset_has(b, t, start, end) &&
			    !outer_has(ev, i, t, start, end, false)) {
				return false;
			}
		}
	}
	return true;
}

/* ---------- main matches ---------- */

struct try_ctx {
	struct eval *ev;
	const struct pattern *p;
	uint16_t pat; /* p's index in the rule */
	struct pattern_ctx pc;
	struct rmatches *out;
	bool *gave_up;	 /* the rule's: set when a match is dropped at the cap */
	uint32_t anchor; /* the anchor occurrence the starts are tried for */
	/* Starts where p found nothing, not given up (or NULL): nothing there again. */
	struct startset *failed;
};

/*
 * A start for tc->anchor: match there, record the match, and say whether the search for
 * this anchor is over. It is not over when the match ends before the anchor: that is an
 * earlier occurrence's match, and a later start may hold one for this occurrence (the
 * second call of `cp.exec(a) || cp.exec(b)`, tried from the statement's start).
 */
static bool try_start(void *ud, uint32_t start)
{
	struct try_ctx *tc = ud;
	/* A start already matched by this pattern needs no second look (from another anchor
	 * occurrence). Another pattern's match there does not stand for this one's: the
	 * refinements may refuse the one and keep the other. */
	for (size_t i = tc->out->n; i > 0 && i + 8 > tc->out->n; i--) {
		if (tc->out->v[i - 1].start == start && tc->out->v[i - 1].pat == tc->pat) {
			return tc->out->v[i - 1].end > tc->anchor;
		}
	}
	if (tc->failed && startset_has(tc->failed, start)) {
		return false;
	}
	struct pattern_match m;
	size_t exceeded = tc->pc.budget_exceeded;
	if (!pattern_match_at(tc->p, &tc->pc, start, NULL, &m)) {
		if (tc->failed && tc->pc.budget_exceeded == exceeded) {
			startset_add(tc->failed, start);
		}
		return false;
	}
	if (tc->out->n + tc->out->found >= SAST_MAX_MATCHES_PER_RULE) {
		/* Dropped before its refinements ran: the rule reports the file as not evaluated
		 * completely, or a flood of matches that refinements would remove could push
		 * out one they keep. */
		tc->ev->s->st->truncated++;
		*tc->gave_up = true;
		return true;
	}
	GROW(tc->out->v, tc->out->cap, tc->out->n + 1);
	tc->out->v[tc->out->n] = (struct rmatch){ .start = m.start,
						  .end = m.end,
						  .seq = (uint32_t)tc->out->n,
						  .pat = tc->pat,
						  .b = m.b };
	tc->out->n++;
	return m.end > tc->anchor;
}

/* Rule ri's state on the file being scanned: its budget and findings are the file's, so
 * that a file split into many token streams (templates, $( )) gets no more of either. */
static struct rmatches *rule_state(struct sast_scratch *s, uint32_t ri)
{
	struct rmatches *rm = &s->rm[ri];
	if (rm->file != s->file) {
		rm->file = s->file;
		rm->steps_left = PATTERN_FILE_BUDGET;
		rm->found = 0;
	}
	return rm;
}

static void touch_rule(struct sast_scratch *s, uint32_t ri)
{
	if (!rule_state(s, ri)->touched) {
		s->rm[ri].touched = true;
		GROW(s->touched_rules, s->cap_touched_rules, s->n_touched_rules + 1);
		s->touched_rules[s->n_touched_rules++] = ri;
	}
}

static int cmp_rmatch(const void *a, const void *b)
{
	const struct rmatch *x = a, *y = b;
	if (x->start != y->start) {
		return x->start < y->start ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---------- refinements ---------- */

/*
 * The refinements of a match: pattern-not at the same start; then pattern-inside (one of
 * them must contain the match), and with the bindings that containing match adds,
 * pattern-not-inside, pattern-in-file and pattern-not-in-file. The containing match is
 * searched by backtracking: its acceptance test runs the rest of the refinements, so a
 * first containing match that fails them does not hide a second one that passes.
 */

struct refine {
	struct eval *ev;
	uint32_t start, end; /* the main match */
	enum lexer lx;
	/* the search in progress */
	const struct pattern *p;
	bool containing;
	bool check_rest; /* an inside match: the rest must hold for its bindings */
	const struct binds *pre;
};

static bool rest_ok(struct refine *rf, const struct binds *b);

static bool accept_refine(void *ud, const struct binds *b, uint32_t start, uint32_t end)
{
	struct refine *rf = ud;
	if (rf->containing && !(start <= rf->start && end >= rf->end)) {
		return false;
	}
	if (rf->check_rest) {
		/* The main match's bindings, and what this match adds. */
		struct binds all = *rf->pre;
		for (int i = 0; i < PATTERN_MAX_MV; i++) {
			if (b->set & (1u << i)) {
				all.start[i] = b->start[i];
				all.end[i] = b->end[i];
				all.set |= 1u << i;
			}
		}
		struct refine inner = *rf;
		return rest_ok(&inner, &all);
	}
	return true;
}

/* The blocks of the token stream being evaluated (sast_scratch.blk_in, blk_close). */
static void stream_blocks(struct sast_scratch *s, const struct tokens *t)
{
	if (s->blk_gen == s->gen && s->blk_in) {
		return;
	}
	GROW(s->blk_in, s->blk_in_cap, t->n + 1);
	GROW(s->blk_close, s->blk_close_cap, t->n + 1);
	pattern_blocks(t, s->blk_in, s->blk_close);
	s->blk_gen = s->gen;
}

/* The bracketed groups of the token stream being evaluated (sast_scratch.grp_in). */
static void stream_groups(struct sast_scratch *s, const struct tokens *t)
{
	if (s->grp_gen == s->gen && s->grp_in) {
		return;
	}
	GROW(s->grp_in, s->grp_in_cap, t->n + 1);
	pattern_groups(t, s->grp_in);
	s->grp_gen = s->gen;
}

/* Where a match started at token i ends at the latest (pattern_blocks()). */
static uint32_t block_end(const struct sast_scratch *s, const struct tokens *t, uint32_t i)
{
	uint32_t b = s->blk_in[i];
	return b == PATTERN_NO_BLOCK ? (uint32_t)t->n : s->blk_close[b];
}

/* A match of rf->p at start: whether there is one, and what its failure depended on. */
static bool refine_try(struct refine *rf, uint32_t start, struct pattern_failure *failure)
{
	struct eval *ev = rf->ev;
	struct pattern_ctx pc = eval_pctx(ev, accept_refine, rf);
	pc.min_end = rf->containing ? rf->end : 0;
	bool ok = pattern_match_at(rf->p, &pc, start, rf->pre, NULL);
	ev->s->st->budget_exceeded += pc.budget_exceeded;
	*failure = pc.failure;
	return ok;
}

static bool refine_start(void *ud, uint32_t start)
{
	struct refine *rf = ud;
	struct eval *ev = rf->ev;
	if (rf->containing && start > rf->start) {
		return false;
	}
	/* A match that starts in a block closed before the main match ends cannot hold it. */
	if (rf->containing && block_end(ev->s, ev->t, start) < rf->end) {
		return false;
	}
	struct pattern_failure failure;
	return refine_try(rf, start, &failure);
}

/*
 * Is the rule's budget spent? Then no search is made (each attempt would be given up at
 * once): given up, and counted once. A search went on through every anchor all the same,
 * for every match left, each attempt counted: on a large file, minutes of that.
 */
static bool out_of_budget(struct eval *ev)
{
	if (ev->steps_left && *ev->steps_left == 0) {
		ev->s->st->budget_exceeded++;
		return true;
	}
	return false;
}

/* A step of the rule's budget, for a start a search skips or tries; false when it is spent
 * (given up, and counted). */
static bool charge(struct eval *ev)
{
	if (out_of_budget(ev)) {
		return false;
	}
	if (ev->steps_left) {
		(*ev->steps_left)--;
	}
	return true;
}

/* The anchor occurrences of refinement pattern pi of the current rule (computed once per
 * rule and token stream). */
static const struct occ *pattern_occurrences(struct sast_scratch *s, const struct tokens *t,
					     size_t pi, const struct pattern *p)
{
	struct occ *o = &s->pat_occ[pi];
	if (!s->pat_occ_valid[pi]) {
		o->n = 0;
		for (uint32_t i = 0; i < t->n; i++) {
			if (pattern_is_anchor(p, t, &t->v[i])) {
				occ_push(o, i);
			}
		}
		s->pat_occ_valid[pi] = true;
	}
	return o;
}

static bool push_start(void *ud, uint32_t start)
{
	struct starts *st = ud;
	GROW(st->v, st->cap, st->n + 1);
	st->v[st->n++] = start;
	return false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The starts of refinement pattern pi of rule r (struct starts), by_first too when asked;
 * NULL past STARTS_MAX. */
static struct starts *pattern_start_list(struct sast_scratch *s, const struct rule *r,
					 const struct tokens *t, size_t pi, const struct pattern *p,
					 bool by_first)
{
	enum lexer lx = lang_lexer(t->lang);
	struct starts *own = &s->pat_starts[pi];
	if (own->too_many) {
		return NULL;
	}
	if (!own->valid) {
		/* Another pattern's, when it has the same; else its own, within STARTS_MAX. */
		own->list = pi;
		size_t held = 0;
		for (size_t j = 0; j < r->n_pats && j < RULE_MAX_PATTERNS; j++) {
			const struct starts *o = &s->pat_starts[j];
			if (j == pi || !o->valid || o->list != j) {
				continue;
			}
			held += o->n;
			if (own->list == pi && r->pats[j].by_lexer[lx] &&
			    pattern_same_starts(r->pats[j].by_lexer[lx], p)) {
				own->list = j;
			}
		}
		if (own->list == pi) {
			const struct occ *o = pattern_occurrences(s, t, pi, p);
			own->n = 0;
			for (size_t k = 0; k < o->n && held + own->n <= STARTS_MAX; k++) {
				pattern_starts(p, t, o->v[k], push_start, own);
			}
			if (held + own->n > STARTS_MAX) {
				own->too_many = true;
				return NULL;
			}
			if (own->n > 1) {
				qsort(own->v, own->n, sizeof(own->v[0]), cmp_u32);
			}
			size_t w = 0;
			for (size_t i = 0; i < own->n; i++) {
				if (w == 0 || own->v[i] != own->v[w - 1]) {
					own->v[w++] = own->v[i];
				}
			}
			own->n = w;
		}
		own->valid = true;
	}
	struct starts *st = &s->pat_starts[own->list];
	if (by_first && !st->first_valid) {
		GROW(st->by_first, st->cap_first, st->n + 1);
		for (size_t i = 0; i < st->n; i++) {
			st->by_first[i] = (uint64_t)t->v[st->v[i]].hash << 32 | st->v[i];
		}
		st->n_first = st->n;
		if (st->n_first > 1) {
			qsort(st->by_first, st->n_first, sizeof(st->by_first[0]), cmp_u64);
		}
		st->first_valid = true;
	}
	return st;
}

/* The first of v[lo, hi) that is key or more. */
static size_t lower_bound_u64(const uint64_t *v, size_t lo, size_t hi, uint64_t key)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < key) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* The first of v[lo, hi) that is more than key. */
static size_t upper_bound_u32(const uint32_t *v, size_t lo, size_t hi, uint32_t key)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= key) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* A run of starts found failing, growing down as a search goes back (struct
 * pattern_memo_run over positions in a list of starts), and the key it is remembered by. */
struct failing {
	struct pattern_memo *memo;
	const struct pattern_memo_key *key;
	bool on;
	struct pattern_memo_run run;
};

/* Positions [lo, hi] failed too, for a match that must end at min_end or later. */
static void failing_add(struct failing *f, size_t lo, size_t hi, uint32_t min_end)
{
	if (f->on && f->run.lo == hi + 1) {
		f->run.lo = (uint32_t)lo;
		f->run.min_end = MAX(f->run.min_end, min_end);
		return;
	}
	f->on = true;
	f->run = (struct pattern_memo_run){ (uint32_t)lo, (uint32_t)hi, min_end, false };
}

/* The run ends here: remember it. */
static void failing_end(struct failing *f)
{
	if (f->on && f->key) {
		pattern_memo_add(f->memo, pattern_memo_key(f->memo, f->key, true), &f->run);
	}
	f->on = false;
}

/*
 * A containing match of pattern pi from its anchors: those at or before the match's start,
 * nearest first, then those after it (a pattern's anchor need not be its first token).
 * Each anchor visited takes a step of the rule's budget when charged (the starts are too
 * many to be held: nothing else bounds these visits), and is counted (struct starts).
 */
static bool containing_by_anchors(struct refine *sub, size_t pi, bool charged)
{
	struct eval *ev = sub->ev;
	struct sast_scratch *s = ev->s;
	const struct tokens *t = ev->t;
	const struct pattern *p = sub->p;
	const struct occ *o = pattern_occurrences(s, t, pi, p);
	struct starts *st = &s->pat_starts[pi];
	size_t split = upper_bound_u32(o->v, 0, o->n, sub->start);
	stream_blocks(s, t);
	for (size_t k = split; k > 0;) {
		if (charged ? !charge(ev) : out_of_budget(ev)) {
			return false;
		}
		st->visits++;
		uint32_t a = o->v[k - 1], b = s->blk_in[a];
		/* An anchor outside the pattern's brackets starts its match in its own block:
		 * when that block closes before the match ends, none of the anchors in it can
		 * start a containing match (a block before the match's, another function's). */
		if (p->anchor_depth == 0 && b != PATTERN_NO_BLOCK && s->blk_close[b] < sub->end) {
			size_t lo = 0, hi = k - 1; /* the anchors up to b: o->v[0, lo) */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (o->v[mid] <= b) {
					lo = mid + 1;
				} else {
					hi = mid;
				}
			}
			k = lo;
			continue;
		}
		if (pattern_starts(p, t, a, refine_start, sub)) {
			return true;
		}
		k--;
	}
	for (size_t k = split; k < o->n; k++) {
		if (charged ? !charge(ev) : out_of_budget(ev)) {
			return false;
		}
		st->visits++;
		if (pattern_starts(p, t, o->v[k], refine_start, sub)) {
			return true;
		}
	}
	return false;
}

/*
 * A containing match of pattern pi, by its starts rather than its anchors: each start at
 * or before the match (those pattern_starts() gives for the anchors: the ones
 * containing_by_anchors() tries), nearest first, is tried once, and each takes a step of
 * the rule's budget, tried or skipped. The result is the same; only the steps differ.
 * Skipped at once: a run of starts known to fail (remembered by the searches for the
 * rule's matches before, in its memo), and the starts in a block that closes before the
 * match ends. Where the attempts looked at none of the bindings of the main match, their
 * failures hold for any match that binds the same metavariables; where they looked at
 * some, for a match that binds them to the same texts (key same). A pattern whose first
 * element is a metavariable the main match binds is tried only where that text's first
 * token is.
 */
static bool containing_by_starts(struct refine *sub, size_t pi)
{
	struct eval *ev = sub->ev;
	struct sast_scratch *s = ev->s;
	const struct tokens *t = ev->t;
	const struct pattern *p = sub->p;
	const struct binds *pre = sub->pre;
	uint32_t bound = pre ? pre->set & p->mv_used : 0;
	const struct pel *e0 = &p->el[0];
	bool by_first = e0->kind == PEL_METAVAR && (bound & (1u << e0->mv)) &&
			pre->end[e0->mv] > pre->start[e0->mv];
	struct starts *st = pattern_start_list(s, ev->r, t, pi, p, by_first);
	if (!st) {
		return containing_by_anchors(sub, pi, true);
	}
	size_t lo = 0, hi;
	if (by_first) {
		uint64_t h = (uint64_t)t->v[pre->start[e0->mv]].hash << 32;
		lo = lower_bound_u64(st->by_first, 0, st->n_first, h);
		hi = lower_bound_u64(st->by_first, lo, st->n_first, h | ((uint64_t)sub->start + 1));
	} else {
		hi = upper_bound_u32(st->v, 0, st->n, sub->start);
	}
	stream_blocks(s, t);
	uint32_t slot = PATTERN_MEMO_CALLER_SLOT + by_first;
	struct pattern_memo_key any = { p, slot, 0, bound, 0, t, pre };
	struct pattern_memo_key same = { p, slot, 0, bound, bound, t, pre };
	/* Runs for any binding: not in a list of the starts of one first token. */
	struct failing fa = { ev->memo, by_first ? NULL : &any, false, { 0 } };
	struct failing fs = { ev->memo, &same, false, { 0 } };
	int id_any = by_first ? -1 : pattern_memo_key(ev->memo, &any, false);
	int id_same = pattern_memo_key(ev->memo, &same, false);
	bool found = false;
	for (size_t i = hi; i > lo;) {
		size_t k = i - 1;
		if (!charge(ev)) {
			break;
		}
		struct pattern_memo_run run;
		if (pattern_memo_find(ev->memo, id_any, (uint32_t)k, sub->end, &run)) {
			i = MAX(run.lo, lo);
			failing_add(&fa, i, k, run.min_end);
			failing_add(&fs, i, k, run.min_end);
			continue;
		}
		if (pattern_memo_find(ev->memo, id_same, (uint32_t)k, sub->end, &run)) {
			i = MAX(run.lo, lo);
			failing_end(&fa);
			failing_add(&fs, i, k, run.min_end);
			continue;
		}
		uint32_t start = by_first ? (uint32_t)st->by_first[k] : st->v[k];
		uint32_t b = s->blk_in[start];
		if (b != PATTERN_NO_BLOCK && s->blk_close[b] < sub->end) {
			/* Every start after its block's opener is in it, or in a block in it. */
			i = by_first ? lower_bound_u64(st->by_first, lo, k,
						       (st->by_first[k] & ~0xffffffffull) |
							       (b + 1ull))
				     : upper_bound_u32(st->v, lo, k, b);
			failing_add(&fa, i, k, sub->end);
			failing_add(&fs, i, k, sub->end);
			continue;
		}
		struct pattern_failure f;
		if (refine_try(sub, start, &f)) {
			found = true;
			break;
		}
		if (f.clean && f.needs == 0) {
			failing_add(&fa, k, k, f.min_end);
			failing_add(&fs, k, k, f.min_end);
		} else if (f.clean) {
			failing_end(&fa);
			failing_add(&fs, k, k, f.min_end);
		} else {
			failing_end(&fa);
			failing_end(&fs);
		}
		i = k;
	}
	failing_end(&fa);
	failing_end(&fs);
	return found;
}

/*
 * A match of sub->p anywhere in the file, consistent with sub->pre (pattern-in-file,
 * pattern-not-in-file): it depends on nothing but the pattern and the texts that pre binds
 * to the pattern's metavariables, and is remembered under them in the rule's memo (a key
 * of its own slot, whose run at position 1 says found, at 0 not found), once the search
 * went through without running out of steps. Each match (each call in a function, each
 * binding retried) searched the whole file again: the matches times the file in steps.
 */
static bool in_file_search(struct refine *sub, const struct occ *o)
{
	struct eval *ev = sub->ev;
	const struct tokens *t = ev->t;
	const struct pattern *p = sub->p;
	uint32_t bound = sub->pre ? sub->pre->set & p->mv_used : 0;
	struct pattern_memo_key key = { p,	 PATTERN_MEMO_CALLER_SLOT + 2, 0, bound, bound, t,
					sub->pre };
	int id = pattern_memo_key(ev->memo, &key, false);
	struct pattern_memo_run run;
	for (uint32_t known = 0; known < 2; known++) {
		if (pattern_memo_find(ev->memo, id, known, UINT32_MAX, &run)) {
			return known == 1;
		}
	}
	size_t given_up = ev->s->st->budget_exceeded;
	bool found = false;
	for (size_t k = 0; k < o->n && !found; k++) {
		if (out_of_budget(ev)) {
			return false;
		}
		found = pattern_starts(p, t, o->v[k], refine_start, sub);
	}
	if (ev->s->st->budget_exceeded == given_up) {
		run = (struct pattern_memo_run){ found, found, 0, false };
		pattern_memo_add(ev->memo, pattern_memo_key(ev->memo, &key, true), &run);
	}
	return found;
}

/* Is there a match of pattern pi, consistent with pre, anywhere (or containing the main
 * match)? */
static bool refine_search(struct refine *rf, size_t pi, const struct binds *pre, bool containing,
			  bool check_rest)
{
	const struct tokens *t = rf->ev->t;
	const struct pattern *p = rf->ev->r->pats[pi].by_lexer[rf->lx];
	struct sast_scratch *s = rf->ev->s;
	struct refine sub = *rf;
	sub.p = p;
	sub.pre = pre;
	sub.containing = containing;
	sub.check_rest = check_rest;
	/* A pattern that ends with a `{ }` body after a head of literals: the few starts that
	 * can hold the match, at each level of brackets around it, rather than every anchor
	 * before and after it (each function's parameters before the match's). */
	if (containing && p->tail_head != PATTERN_NO_TAIL) {
		stream_blocks(s, t); /* refine_start() */
		stream_groups(s, t);
		return pattern_tail_starts(p, t, s->grp_in, rf->start, refine_start, &sub);
	}
	const struct occ *o = pattern_occurrences(s, t, pi, p);
	if (!containing) {
		return in_file_search(&sub, o);
	}
	/* Looked for from the anchors often (for match after match, each from every anchor
	 * before it: twice their number, or 8,448 anchors): by the starts, which remember
	 * what they found failing. */
	if (s->pat_starts[pi].visits >= 2 * MIN(o->n, 4096) + 256) {
		return containing_by_starts(&sub, pi);
	}
	return containing_by_anchors(&sub, pi, false);
}

static bool rest_ok(struct refine *rf, const struct binds *b)
{
	const struct rule *r = rf->ev->r;
	bool need_in_file = r->n_role[ROLE_IN_FILE] > 0, in_file = false;
	for (size_t i = 0; i < r->n_pats; i++) {
		const struct pattern *p = r->pats[i].by_lexer[rf->lx];
		if (!p) {
			continue;
		}
		switch (r->pats[i].role) {
		case ROLE_NOT_INSIDE:
			if (refine_search(rf, i, b, true, false)) {
				return false;
			}
			break;
		case ROLE_IN_FILE:
			if (!in_file) {
				in_file = refine_search(rf, i, b, false, false);
			}
			break;
		case ROLE_NOT_IN_FILE:
			if (refine_search(rf, i, b, false, false)) {
				return false;
			}
			break;
		default:
			break;
		}
	}
	return !need_in_file || in_file;
}

static bool keep_match(struct eval *ev, const struct rmatch *m)
{
	const struct rule *r = ev->r;
	struct refine rf = {
		.ev = ev,
		.start = m->start,
		.end = m->end,
		.lx = lang_lexer(ev->t->lang),
	};
	for (size_t i = 0; i < r->n_pats; i++) {
		const struct pattern *p = r->pats[i].by_lexer[rf.lx];
		if (p && r->pats[i].role == ROLE_NOT) {
			struct pattern_ctx pc = eval_pctx(ev, NULL, NULL);
			if (rf.lx == LEXER_DOCKERFILE) {
				/* At the same words, not only at the same RUN. */
				pc.pre_in_place = true;
				pc.memo = NULL;
			}
			bool hit = pattern_match_at(p, &pc, m->start, &m->b, NULL);
			ev->s->st->budget_exceeded += pc.budget_exceeded;
			if (hit) {
				return false;
			}
		}
	}
	if (r->n_role[ROLE_INSIDE] == 0) {
		return rest_ok(&rf, &m->b);
	}
	for (size_t i = 0; i < r->n_pats; i++) {
		const struct pattern *p = r->pats[i].by_lexer[rf.lx];
		if (p && r->pats[i].role == ROLE_INSIDE &&
		    refine_search(&rf, i, &m->b, true, true)) {
			return true;
		}
	}
	return false;
}

/*
 * The matcher gives one binding per pattern and start: the first it finds. When the
 * refinements refuse it, the same pattern may still match at that start with other
 * bindings (`spawn(cmd, o2, opts)`: `$OPTS` is `o2` first, which pattern-inside refuses,
 * then `opts`). retry_match() matches the pattern there again with the refinements as its
 * acceptance test, so that the search backtracks into the next binding until one is kept.
 * The refused binding is not refined twice; nor is one that lies inside the finding
 * reported before on its line (it would not be reported).
 */
struct retry {
	struct eval *ev;
	const struct rmatch *refused;
	uint32_t kept_end, kept_line; /* the last finding's end and line (kept_end 0: none) */
	struct rmatch kept;	      /* OUT */
};

static bool same_binding(const struct rmatch *m, const struct binds *b, uint32_t end)
{
	if (m->end != end || m->b.set != b->set) {
		return false;
	}
	for (int i = 0; i < PATTERN_MAX_MV; i++) {
		if ((b->set & (1u << i)) &&
		    (m->b.start[i] != b->start[i] || m->b.end[i] != b->end[i])) {
			return false;
		}
	}
	return true;
}

static bool accept_retry(void *ud, const struct binds *b, uint32_t start, uint32_t end)
{
	struct retry *rt = ud;
	const struct tokens *t = rt->ev->t;
	if (same_binding(rt->refused, b, end) ||
	    (rt->kept_end && end <= rt->kept_end && t->v[start].line == rt->kept_line)) {
		return false;
	}
	struct rmatch m = *rt->refused;
	m.end = end;
	m.b = *b;
	if (!keep_match(rt->ev, &m)) {
		return false;
	}
	rt->kept = m;
	return true;
}

/* Another match of refused's pattern at its start that the refinements keep, in *out. */
static bool retry_match(struct eval *ev, const struct rmatch *refused, uint32_t kept_end,
			uint32_t kept_line, struct rmatch *out)
{
	const struct pattern *p = ev->r->pats[refused->pat].by_lexer[lang_lexer(ev->t->lang)];
	struct retry rt = {
		.ev = ev, .refused = refused, .kept_end = kept_end, .kept_line = kept_line
	};
	struct pattern_ctx pc = eval_pctx(ev, accept_retry, &rt);
	bool ok = pattern_match_at(p, &pc, refused->start, NULL, NULL);
	ev->s->st->budget_exceeded += pc.budget_exceeded;
	if (ok) {
		*out = rt.kept;
	}
	return ok;
}

/* ---------- findings ---------- */

#define QUOTE_MAX 60

/* The rule's message with $NAME replaced by what NAME bound (shortened, one line). */
static char *interpolate(const struct rule *r, const struct tokens *t, const struct binds *b)
{
	struct sbuf_lite {
		char *d;
		size_t n, cap;
	} o = { NULL, 0, 0 };
	const char *m = r->message;
#define PUT(ptr, len)                              \
	do {                                       \
		GROW(o.d, o.cap, o.n + (len) + 1); \
		memcpy(o.d + o.n, (ptr), (len));   \
		o.n += (len);                      \
	} while (0)
	for (size_t i = 0; m[i];) {
		if (m[i] == '$' && (isupper((unsigned char)m[i + 1]) || m[i + 1] == '_')) {
			size_t j = i + 1;
			while (isupper((unsigned char)m[j]) || isdigit((unsigned char)m[j]) ||
			       m[j] == '_') {
				j++;
			}
			int mv = mvtab_find(&r->mv, m + i, j - i);
			if (mv >= 0 && (b->set & (1u << mv))) {
				const char *s;
				size_t n;
				binds_text(t, b, mv, &s, &n);
				/*
				 * Blanks collapsed to one space, at most QUOTE_MAX bytes. A
				 * longer text is cut at a space, and the word the cut would
				 * split is left out whole: its start could be the start of a
				 * token or a password, which neither the check for secrets in
				 * messages nor the masking of the pipeline's secrets
				 * recognizes once cut.
				 */
				char q[QUOTE_MAX];
				size_t w = 0;
				bool space = false, cut = false;
				for (size_t k = 0; k < n; k++) {
					char c = s[k];
					if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
						space = true;
						continue;
					}
					if (w + (space && w) + 1 > sizeof(q)) {
						cut = true;
						break;
					}
					if (space && w) {
						q[w++] = ' ';
					}
					space = false;
					q[w++] = c;
				}
				if (cut && !space) {
					/* c continues the word q ends with: leave that word out. */
					while (w > 0 && q[w - 1] != ' ') {
						w--;
					}
				}
				while (w > 0 && q[w - 1] == ' ') {
					w--;
				}
				PUT(q, w);
				if (cut) {
					PUT("...", 3);
				}
				i = j;
				continue;
			}
		}
		PUT(m + i, 1);
		i++;
	}
	PUT("", 1);
#undef PUT
	char *clean = utf8_sanitize(o.d, strlen(o.d));
	free(o.d);
	return clean;
}

static bool is_utf8_start(char c)
{
	return ((unsigned char)c & 0xC0) != 0x80;
}

/* The line memo of s at `line` of t (the file's lines: a region's tokens borrow them). */
static struct line_memo *memo_line(struct sast_scratch *s, const struct tokens *t, uint32_t line)
{
	struct line_memo *m = &s->lm;
	if (m->file == s->file && m->line == line) {
		return m;
	}
	m->file = s->file;
	m->line = line;
	m->ls = t->n_lines ? t->line_off[line - 1] : 0;
	m->next = line < t->n_lines ? t->line_off[line] : t->len;
	/* Every CR and LF ends a line (text_line_end()): those before the next are its end. */
	for (m->le = m->next;
	     m->le > m->ls && (t->src[m->le - 1] == '\n' || t->src[m->le - 1] == '\r'); m->le--) {
	}
	for (m->e = m->le; m->e > m->ls && (t->src[m->e - 1] == ' ' || t->src[m->e - 1] == '\t');
	     m->e--) {
	}
	for (m->b = m->ls; m->b < m->e && (t->src[m->b] == ' ' || t->src[m->b] == '\t'); m->b++) {
	}
	size_t n = (m->next - m->ls) / LINE_MEMO_STEP + 1;
	GROW(m->cp, m->cp_cap, n);
	uint32_t cp = 0;
	for (size_t i = 0, p = m->ls; i < n; i++) {
		m->cp[i] = cp;
		for (size_t q = MIN(p + LINE_MEMO_STEP, m->next); p < q; p++) {
			cp += is_utf8_start(t->src[p]);
		}
	}
	return m;
}

/* tokens_column_of(t, off), from the line memo. */
static uint32_t column_of(struct sast_scratch *s, const struct tokens *t, uint32_t off)
{
	uint32_t line = tokens_line_of(t, off);
	if (off >= t->len) {
		return tokens_column_of(t, off);
	}
	struct line_memo *m = memo_line(s, t, line);
	size_t i = (off - m->ls) / LINE_MEMO_STEP;
	uint32_t col = 1 + m->cp[i];
	for (size_t p = m->ls + i * LINE_MEMO_STEP; p < off; p++) {
		col += is_utf8_start(t->src[p]);
	}
	return col;
}

/* filefind_excerpt(t's text, off), from the line memo. */
static char *excerpt_of(struct sast_scratch *s, const struct tokens *t, uint32_t off)
{
	struct line_memo *m = memo_line(s, t, tokens_line_of(t, off));
	if (off > m->le || off >= t->len) {
		/* At the LF of a CRLF, or at the end: the excerpt of nothing, found at once. */
		return filefind_excerpt(t->src, t->len, off, FILEFIND_EXCERPT_MAX);
	}
	return filefind_excerpt_span(t->src, MIN(m->b, (size_t)off), m->e, FILEFIND_EXCERPT_MAX);
}

static void add_finding(struct eval *ev, const char *path, uint32_t off, uint32_t end_off,
			const struct binds *b, struct finding_list *out)
{
	const struct rule *r = ev->r;
	const struct tokens *t = ev->t;
	struct finding *f = filefind_add(out, r, FINDING_SAST, path);
	f->line = tokens_line_of(t, off);
	f->column = column_of(ev->s, t, off);
	uint32_t last = end_off > off ? end_off - 1 : off;
	f->end_line = tokens_line_of(t, last);
	f->end_column = column_of(ev->s, t, last) + 1;
	static const struct binds none;
	f->message = interpolate(r, t, b ? b : &none);
	f->snippet = excerpt_of(ev->s, t, off);
	if (r->fix) {
		finding_set(&f->fix, r->fix);
	}
	finding_fingerprint(f, t->src + off, end_off - off, 0);
}

/* ---------- one token stream ---------- */

static void eval_regex_rules(struct sast_scratch *s, const struct rule_lang_index *ix,
			     const struct tokens *t, size_t from, size_t to, const char *path,
			     struct finding_list *out)
{
	for (size_t k = 0; k < ix->n_regex_rules; k++) {
		const struct rule *r = ruleset_rule(s->rs, ix->regex_rules[k]);
		struct eval ev = { .s = s, .r = r, .ri = ix->regex_rules[k], .t = t };
		size_t before = given_up(s);
		if (r->n_keywords) {
			bool any = false;
			for (size_t w = 0; w < r->n_keywords && !any; w++) {
				size_t kl = strlen(r->keywords[w]);
				for (size_t i = from; i + kl <= to && !any; i++) {
					any = strncasecmp(t->src + i, r->keywords[w], kl) == 0;
				}
			}
			if (!any) {
				continue;
			}
		}
		/* Code embedded in code of its own language (a template's ${ }) was searched
		 * already as part of the text around it, where it is no comment: only a rule
		 * for comments has something to find in it again. */
		if (s->n_around > 0 && r->where != WHERE_COMMENT) {
			continue;
		}
		struct rmatches *rm = rule_state(s, ix->regex_rules[k]);
		size_t pos = from;
		while (pos <= to) {
			int rc = pcre2_match(r->regex, (PCRE2_SPTR)t->src, to, pos, 0, s->rx.md,
					     s->rx.mctx);
			if (rc < 0) {
				if (rc != PCRE2_ERROR_NOMATCH) {
					s->st->regex_limits++;
				}
				break;
			}
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->rx.md);
			size_t ms = ov[0], me = ov[1];
			pos = me > ms ? me : ms + 1;
			bool in_comment = tokens_in_comment(t, (uint32_t)ms);
			if ((r->where == WHERE_CODE && in_comment) ||
			    (r->where == WHERE_COMMENT && !in_comment)) {
				continue;
			}
			if (r->not_regex &&
			    regex_test(s, r->not_regex, t->src + ms, me - ms) != 0) {
				continue;
			}
			if (rm->found >= SAST_MAX_MATCHES_PER_RULE) {
				/* Counted, and given up on, as the matches of patterns past the
				 * cap are: the matches kept may all be suppressed (runner:ignore)
				 * or accepted in a baseline, and this one not. */
				s->st->truncated++;
				s->gave_up[ix->regex_rules[k]] = true;
				continue;
			}
			add_finding(&ev, path, (uint32_t)ms, (uint32_t)MAX(me, ms + 1), NULL, out);
			rm->found++;
		}
		s->gave_up[ix->regex_rules[k]] |= given_up(s) != before;
	}
}

/*
 * A main pattern that starts with a metavariable a bound-by condition binds, and has no
 * literal to anchor on (`$FN($CMD, ...)`): tried where the first token of a binding the
 * condition's patterns make (here, or in the code around) occurs as a name (not a member:
 * `re.exec`); at every name when one of them, without metavariables, matched (`from
 * subprocess import *`).
 */
static void try_bound_anchors(struct sast_scratch *s, const struct tokens *t,
			      const struct rule_anchor_use *use)
{
	const struct rule *r = ruleset_rule(s->rs, use->rule);
	const struct rule_pattern *rp = &r->pats[use->pattern];
	const struct pattern *p = rp->by_lexer[lang_lexer(t->lang)];
	if (!p) {
		return;
	}
	touch_rule(s, use->rule);
	struct eval ev = {
		.s = s, .r = r, .ri = use->rule, .t = t, .steps_left = &s->rm[use->rule].steps_left
	};
	size_t before = given_up(s);
	size_t ci = (size_t)rp->cond, oi = 0;
	const struct bset *b = bound_set(&ev, ci);
	bool outer = false, any = b && b->any;
	for (const struct outer_block *o; b && (o = outer_next(&ev, ci, &oi));) {
		outer = true;
		any |= o->any;
	}
	if (b && (b->n || any || outer)) {
		struct try_ctx tc = {
			.ev = &ev,
			.p = p,
			.pat = use->pattern,
			.pc = eval_pctx(&ev, NULL, NULL),
			.out = &s->rm[use->rule],
			.gave_up = &s->gave_up[use->rule],
		};
		uint32_t *h = xcalloc(b->n ? b->n : 1, sizeof(uint32_t));
		for (size_t i = 0; i < b->n; i++) {
			h[i] = t->v[b->v[i][0]].hash;
		}
		qsort(h, b->n, sizeof(uint32_t), cmp_u32);
		for (uint32_t i = 0; i < t->n; i++) {
			const struct token *k = &t->v[i];
			if (member_name(t, i)) {
				continue;
			}
			if (any) {
				/* Every name is bound (`from subprocess import *`). */
				if (k->kind == TOK_IDENT) {
					tc.anchor = i;
					try_start(&tc, i);
				}
				continue;
			}
			bool bound = false;
			if (bsearch(&k->hash, h, b->n, sizeof(uint32_t), cmp_u32)) {
				for (size_t j = 0; j < b->n && !bound; j++) {
					const struct token *f = &t->v[b->v[j][0]];
					bound = f->kind == k->kind && f->hash == k->hash &&
						binds_same(t, b->v[j][0], b->v[j][0] + 1, t, i,
							   i + 1);
				}
			}
			if (bound || (outer && outer_has(&ev, ci, t, i, i + 1, true))) {
				tc.anchor = i;
				try_start(&tc, i);
			}
		}
		free(h);
		s->st->budget_exceeded += tc.pc.budget_exceeded;
	}
	s->gave_up[use->rule] |= given_up(s) != before;
}

/* Does a rule have a bound-by condition? */
static bool has_bound_by(const struct rule *r)
{
	for (size_t ci = 0; ci < r->n_conds; ci++) {
		if (r->conds[ci].bound_by) {
			return true;
		}
	}
	return false;
}

static int cmp_outer_bind(const void *a, const void *b)
{
	const struct outer_bind *x = a, *y = b;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Leave the bindings of b, made in t, to the code t embeds (a block of b's). */
static void outer_add(struct sast_scratch *s, struct bset *b, const struct tokens *t)
{
	if (b->ofile != s->file) {
		b->ofile = s->file;
		b->on = b->obn = 0;
	}
	if (!b->n && !b->any) {
		return;
	}
	struct outer_block o = { .stream = s->stream, .first = (uint32_t)b->on, .any = b->any };
	for (size_t k = 0; k < b->n && !b->any; k++) {
		uint32_t start = b->v[k][0], n = b->v[k][1] - start;
		if (s->outer.n + n > OUTER_MAX_TOKENS) {
			/* Given up: a binding the embedded code sees is missing. */
			s->st->budget_exceeded++;
			break;
		}
		s->outer.src = t->src;
		GROW(s->outer.v, s->outer.cap, s->outer.n + n);
		memcpy(s->outer.v + s->outer.n, t->v + start, n * sizeof(struct token));
		GROW(b->ov, b->ocap, b->on + 1);
		b->ov[b->on++] = (struct outer_bind){ t->v[start].hash, (uint32_t)s->outer.n, n };
		s->outer.n += n;
		o.n++;
	}
	if (o.n > 1) {
		qsort(b->ov + o.first, o.n, sizeof(b->ov[0]), cmp_outer_bind);
	}
	GROW(b->ob, b->obcap, b->obn + 1);
	b->ob[b->obn++] = o;
}

/*
 * t embeds code of its own language (a template's ${ }, an f-string's replacement field, a
 * $( )): leave it the bindings of every bound-by condition for that language as t makes
 * them, as a reader sees a module required at the top of the file in a template's ${ }.
 * Those of the code around t are left to it already.
 */
static void export_bindings(struct sast_scratch *s, const struct tokens *t)
{
	for (uint32_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		const struct rule *r = ruleset_rule(s->rs, ri);
		if (!r->lang[t->lang] || !has_bound_by(r)) {
			continue;
		}
		touch_rule(s, ri);
		struct eval ev = {
			.s = s, .r = r, .ri = ri, .t = t, .steps_left = &s->rm[ri].steps_left
		};
		size_t before = given_up(s);
		for (size_t ci = 0; ci < r->n_conds; ci++) {
			if (r->conds[ci].bound_by && bound_set(&ev, ci)) {
				outer_add(s, &s->bsets[ri][ci], t);
			}
		}
		s->gave_up[ri] |= given_up(s) != before;
	}
}

/* Does t embed code of its own language? */
static bool embeds_own_language(const struct tokens *t)
{
	for (size_t i = 0; i < t->n_regions; i++) {
		if (t->regions[i].lang == t->lang) {
			return true;
		}
	}
	return false;
}

/* Token stream id (0: the file's text; q + 1: the queue's q-th region) is evaluated next:
 * the streams around it of its language (sast_scratch.around). */
static void set_stream(struct sast_scratch *s, uint32_t id, enum lang lang)
{
	s->stream = id;
	s->n_around = 0;
	while (id > 0) {
		id = s->parent[id - 1];
		enum lang l = id ? s->queue[id - 1].lang : s->tk.lang;
		if (l == lang && s->n_around < ARRAY_SIZE(s->around)) {
			s->around[s->n_around++] = id;
		}
	}
}

static void eval_tokens(struct sast_scratch *s, const struct tokens *t, const char *path,
			size_t from, size_t to, struct finding_list *out)
{
	const struct rule_lang_index *ix = ruleset_lang_index(s->rs, t->lang);
	if (!ix || ix->n_rules == 0) {
		return;
	}
	enum lexer lx = lang_lexer(t->lang);
	s->gen++;
	pattern_index_reset(s->pix, t);
	/* 1. Anchor occurrences. */
	s->n_touched_anchors = 0;
	if (ix->n_anchors) {
		for (uint32_t i = 0; i < t->n; i++) {
			int a = ruleset_anchor_lookup(ix, t, &t->v[i]);
			if (a < 0) {
				continue;
			}
			if (s->occ[a].n == 0) {
				GROW(s->touched_anchors, s->cap_touched_anchors,
				     s->n_touched_anchors + 1);
				s->touched_anchors[s->n_touched_anchors++] = (uint32_t)a;
			}
			occ_push(&s->occ[a], i);
		}
	}
	/* 2. Main matches, per rule. */
	s->n_touched_rules = 0;
	for (size_t k = 0; k < s->n_touched_anchors; k++) {
		const struct rule_anchor *an = &ix->anchors[s->touched_anchors[k]];
		struct occ *o = &s->occ[s->touched_anchors[k]];
		for (size_t u = 0; u < an->n_uses; u++) {
			const struct rule *r = ruleset_rule(s->rs, an->uses[u].rule);
			if (r->pats[an->uses[u].pattern].role != ROLE_MAIN) {
				continue; /* a bound-by pattern's: bound_set() looks at it */
			}
			const struct pattern *p = r->pats[an->uses[u].pattern].by_lexer[lx];
			struct eval ev = { .s = s,
					   .r = r,
					   .ri = an->uses[u].rule,
					   .t = t,
					   .steps_left = &s->rm[an->uses[u].rule].steps_left };
			struct try_ctx tc = {
				.ev = &ev,
				.p = p,
				.pat = an->uses[u].pattern,
				.pc = eval_pctx(&ev, NULL, NULL),
				.out = &s->rm[an->uses[u].rule],
				.gave_up = &s->gave_up[an->uses[u].rule],
				.failed = &s->failed,
			};
			startset_reset(&s->failed, t);
			touch_rule(s, an->uses[u].rule);
			size_t before = given_up(s);
			for (size_t j = 0; j < o->n; j++) {
				tc.anchor = o->v[j];
				pattern_starts(p, t, o->v[j], try_start, &tc);
			}
			s->st->budget_exceeded += tc.pc.budget_exceeded;
			s->gave_up[an->uses[u].rule] |= given_up(s) != before;
		}
	}
	for (size_t k = 0; k < ix->n_bound_uses; k++) {
		try_bound_anchors(s, t, &ix->bound_uses[k]);
	}
	/* While the anchor occurrences are known: what the code t embeds will need. */
	if (embeds_own_language(t)) {
		export_bindings(s, t);
	}
	/* 3. Refinements and findings. */
	for (size_t k = 0; k < s->n_touched_rules; k++) {
		uint32_t ri = s->touched_rules[k];
		struct rmatches *rm = &s->rm[ri];
		const struct rule *r = ruleset_rule(s->rs, ri);
		struct eval ev = { .s = s,
				   .r = r,
				   .ri = ri,
				   .t = t,
				   .steps_left = &rm->steps_left,
				   .memo = s->memo };
		memset(s->pat_occ_valid, 0, sizeof(s->pat_occ_valid));
		for (size_t i = 0; i < r->n_pats && i < RULE_MAX_PATTERNS; i++) {
			s->pat_starts[i].valid = s->pat_starts[i].first_valid = false;
			s->pat_starts[i].too_many = false;
			s->pat_starts[i].visits = 0;
		}
		pattern_memo_clear(s->memo);
		if (rm->n > 1) {
			qsort(rm->v, rm->n, sizeof(rm->v[0]), cmp_rmatch);
		}
		/*
		 * One finding per reported match, and none for a match inside a reported one
		 * that starts on its line (`cp.exec(x)` matches both `cp.exec($X)` and
		 * `exec($X)`: one call, one finding). A match the refinements reject does not
		 * hide the others at its start, other patterns' with other bindings: the first
		 * one kept, in the order they were found, is reported. When they refuse every
		 * match at a start, each refused pattern is matched there again, in the same
		 * order, for a binding they keep (retry_match()).
		 */
		uint32_t kept_end = 0, kept_line = 0;
		size_t before = given_up(s);
		for (size_t i = 0, j; i < rm->n; i = j) {
			uint32_t start = rm->v[i].start;
			const struct rmatch *keep = NULL;
			struct rmatch alt;
			for (j = i; j < rm->n && rm->v[j].start == start; j++) {
				struct rmatch *m = &rm->v[j];
				m->refused = false;
				if (keep || (kept_end && m->end <= kept_end &&
					     t->v[m->start].line == kept_line)) {
					continue;
				}
				if (keep_match(&ev, m)) {
					keep = m;
				} else {
					m->refused = true;
				}
			}
			for (size_t x = i; x < j && !keep; x++) {
				bool again = false; /* the same pattern's, refused already */
				for (size_t y = i; y < x && !again; y++) {
					again = rm->v[y].refused && rm->v[y].pat == rm->v[x].pat;
				}
				if (rm->v[x].refused && !again &&
				    retry_match(&ev, &rm->v[x], kept_end, kept_line, &alt)) {
					keep = &alt;
				}
			}
			if (!keep) {
				continue;
			}
			kept_end = keep->end;
			kept_line = t->v[keep->start].line;
			const struct token *a = &t->v[keep->start], *b = &t->v[keep->end - 1];
			add_finding(&ev, path, a->off, b->off + b->len, &keep->b, out);
			rm->found++;
		}
		s->gave_up[ri] |= given_up(s) != before;
		rm->n = 0;
		rm->touched = false;
	}
	/* The anchor occurrences were needed up to here (bound-by patterns). */
	for (size_t k = 0; k < s->n_touched_anchors; k++) {
		s->occ[s->touched_anchors[k]].n = 0;
	}
	/* 4. Regex rules. */
	eval_regex_rules(s, ix, t, from, to, path, out);
}

/* Queue region g, found in token stream parent (set_stream()). */
static void queue_region(struct sast_scratch *s, const struct lex_region *g, uint32_t nest,
			 uint32_t parent)
{
	if (s->n_queue < LEX_MAX_REGIONS && nest <= LEX_MAX_NEST) {
		GROW(s->queue, s->cap_queue, s->n_queue + 1);
		GROW(s->parent, s->cap_parent, s->n_queue + 1);
		s->parent[s->n_queue] = parent;
		s->queue[s->n_queue] = *g;
		s->queue[s->n_queue++].nest = nest;
	} else {
		s->regions_dropped = true;
	}
}

int sast_scan(struct sast_scratch *s, const char *path, enum lang lang, const char *buf, size_t len,
	      struct finding_list *out, struct sast_file_stats *st)
{
	static struct sast_file_stats dummy;
	s->st = st ? st : &dummy;
	if (++s->file == 0) {
		s->file = 1; /* 0 is no file's (struct rmatches, struct bset) */
	}
	s->outer.n = 0;
	s->lm.line = 0; /* no line of this file read yet */
	size_t first = out->n;
	memset(s->gave_up, 0, ruleset_count(s->rs) * sizeof(bool));
	s->regions_dropped = false;
	/* A UTF-8 byte order mark is no part of the code, in any language: glued to the first
	 * token it would hide it from every rule. The text starts after it, and so do the
	 * columns of line 1. */
	size_t bom = lex_bom_len(buf, len);
	buf += bom;
	len -= bom;
	/* A Python file in another encoding (PEP 263: `utf-7`) runs what its bytes do not
	 * show: it counts as not evaluated completely. */
	if (lang == LANG_PYTHON && lex_python_foreign_coding(buf, len)) {
		s->regions_dropped = true;
	}
	/* The text as the language reads it (Java's escapes, YAML's line breaks): everything
	 * below, suppressions included, reads that. */
	size_t plen = 0;
	unsigned flags = lex_path_flags(lang, path);
	_cleanup_free_ char *prepared = lex_prepare(lang, flags, buf, len, &plen);
	if (prepared) {
		buf = prepared;
		len = plen;
	}
	int r = lex_run(lang, buf, len, flags, &s->tk);
	if (r < 0) {
		return r;
	}
	s->st->tokens += s->tk.n;
	set_stream(s, 0, lang);
	eval_tokens(s, &s->tk, path, 0, len, out);
	/* Embedded scripts (CI run: blocks, command substitutions), and those they embed. A
	 * Dockerfile's command substitutions are read twice: as shell for the shell rules, and
	 * as RUN lines for the Dockerfile's (each copy's own substitutions as itself). */
	s->n_queue = 0;
	for (size_t i = 0; i < s->tk.n_regions; i++) {
		queue_region(s, &s->tk.regions[i], 0, 0);
		if (lang == LANG_DOCKERFILE && s->tk.regions[i].lang == LANG_SHELL) {
			struct lex_region g = s->tk.regions[i];
			g.lang = LANG_DOCKERFILE;
			queue_region(s, &g, 0, 0);
		}
	}
	for (size_t q = 0; q < s->n_queue; q++) {
		struct lex_region g = s->queue[q];
		if (lex_run_region(g.lang, &s->tk, g.off, g.len, &s->rtk) < 0) {
			continue;
		}
		s->st->tokens += s->rtk.n;
		s->regions_dropped |= s->rtk.regions_dropped;
		for (size_t i = 0; i < s->rtk.n_regions; i++) {
			struct lex_region sub = s->rtk.regions[i];
			if (g.lang == LANG_DOCKERFILE && sub.lang == LANG_SHELL) {
				sub.lang = LANG_DOCKERFILE;
			}
			queue_region(s, &sub, g.nest + 1, (uint32_t)q + 1);
		}
		set_stream(s, (uint32_t)q + 1, g.lang);
		eval_tokens(s, &s->rtk, path, g.off, g.off + g.len, out);
	}
	/* Embedded scripts beyond what is kept (command substitutions, run: blocks) were not
	 * analysed: every rule is taken to have given up on the file, so the most severe of
	 * them reports it, rather than the file passing. */
	if (s->regions_dropped || s->tk.regions_dropped) {
		/* The most severe rule for the file's language or a language it embeds (a
		 * shell rule for a CI file's run: blocks); any rule when none is. */
		size_t worst = SIZE_MAX;
		for (int pass = 0; pass < 2 && worst == SIZE_MAX; pass++) {
			for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
				const struct rule *ru = ruleset_rule(s->rs, (uint32_t)ri);
				if (pass == 0 && !ru->lang[lang] && !ru->lang[LANG_SHELL]) {
					continue;
				}
				if (worst == SIZE_MAX ||
				    ru->severity > ruleset_rule(s->rs, (uint32_t)worst)->severity) {
					worst = ri;
				}
			}
		}
		if (worst != SIZE_MAX) {
			s->gave_up[worst] = true;
		}
	}
	/* A rule that gave up on the file may hide a match there: it is not passed. */
	char sha[65] = "";
	for (size_t ri = 0; ri < ruleset_count(s->rs); ri++) {
		if (s->rm[ri].file == s->file) {
			s->st->steps += PATTERN_FILE_BUDGET - s->rm[ri].steps_left;
		}
		if (s->gave_up[ri]) {
			if (!sha[0]) {
				finding_sha256_hex(buf, len, sha);
			}
			filefind_incomplete(out, ruleset_rule(s->rs, (uint32_t)ri), FINDING_SAST,
					    path, sha);
		}
	}
	s->st->no_reason +=
		filefind_finish(out, first, buf, len, &s->tk, &s->st->first_no_reason_line,
				&s->st->too_many_ids, &s->st->first_too_many_ids_line);
	return 0;
}
