/*
 * pattern.h - token-sequence patterns: the matching core of the SAST rule language.
 *
 * A pattern is code in the target language, tokenized by that language's lexer, where
 *   $NAME      a metavariable: binds one expression (a balanced run of tokens that does not
 *              cross `,` `;` an assignment or a line end at its own level, that holds an
 *              arrow function or a conditional only whole, and that is an operand whole:
 *              it neither ends inside an operand of an operator it holds (`flag && cp`
 *              before `.exec`, `a + b` before `* c`) nor holds an operator looser than
 *              the one before it; one word in the shell, Dockerfiles and YAML); a second
 *              $NAME must bind the same text;
 *   ...        an ellipsis: any balanced run of tokens (possibly none). Inside brackets it
 *              stays inside them; at the top level of a pattern it may cross statements and
 *              enter blocks, and leave those an earlier ellipsis entered, but never leaves
 *              the block the match started in (nor, in line-based languages, its line,
 *              unless the pattern itself spans lines);
 *   "..."      any string literal;
 * and everything else must match token for token (whitespace and comments do not count;
 * string literals compare by content, so "sh" matches 'sh').
 *
 * `f(..., x, ...)` matches x as any argument: an ellipsis next to a comma may match nothing
 * together with the comma.
 *
 * Matching is a bounded backtracking search: each attempt has a step budget, and an
 * attempt that exhausts it fails (and is counted) instead of taking unbounded time. A
 * stream's index takes a top-level ellipsis from one stopping point to the next where what
 * follows it can match, and a memo lets a search skip what searches before it found
 * failing (struct pattern_index, struct pattern_memo): the same matches, in fewer steps.
 */
#ifndef RUNNER_SCANNERS_PATTERN_H
#define RUNNER_SCANNERS_PATTERN_H

#include "lex.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAX_BYTES    8192
#define PATTERN_MAX_ELEMENTS 512
#define PATTERN_MAX_MV	     32
/* Steps one attempt (one start position) may take. */
#define PATTERN_STEP_BUDGET 200000
/* Steps one rule may take on one file, all attempts together (pattern_ctx.steps_left). */
#define PATTERN_FILE_BUDGET 4000000
/* Commands a pipeline-stage ellipsis (struct pel.pipe) may stand for: past them an attempt
 * gives up, as past its step budget (the rule reports the file as not evaluated
 * completely: a shell at the end of a longer pipe is not missed). */
#define PATTERN_MAX_PIPE_STAGES 32
/* Anchors weaker than this (`(`, `=`, `.`) would try a pattern at nearly every token. */
#define PATTERN_STRONG_ANCHOR 10

enum pel_kind {
	PEL_TOKEN,	    /* a literal token */
	PEL_STRING,	    /* a string literal, compared by content */
	PEL_STRING_ANY,	    /* "..." */
	PEL_METAVAR,	    /* $X */
	PEL_ELLIPSIS,	    /* ... */
	PEL_ELLIPSIS_COMMA, /* "..., " : nothing, or anything followed by a comma */
	PEL_COMMA_ELLIPSIS, /* ", ..." before a closing bracket: nothing, or a comma and anything */
};

/* A `{ }` group of a pattern whose ellipses reach into the body it matches (languages with
 * braced blocks): its `{`, those ellipses, and its `}`. */
enum pel_body {
	PEL_BODY_NONE,
	PEL_BODY_OPEN,
	PEL_BODY_ELLIPSIS,
	PEL_BODY_CLOSE,
};

struct pel {
	uint8_t kind;	   /* enum pel_kind */
	uint8_t tok_kind;  /* PEL_TOKEN: the token kind to match */
	uint8_t mv;	   /* PEL_METAVAR: the metavariable's index in the rule's table */
	uint8_t top;	   /* PEL_ELLIPSIS: at the top level of the pattern */
	uint8_t body;	   /* enum pel_body: the role in a `{ }` body with deep ellipses */
	uint8_t cmd;	   /* PEL_ELLIPSIS, shell: among a command's words, it stays in that
			    * command (never past `;` `&` `&&` `||` `|` `|&` `;;` `(` `)` or a
			    * line end); one on a line of its own stands for commands. A
			    * Dockerfile's likewise, but for one right after the instruction */
	uint8_t pipe;	   /* PEL_ELLIPSIS, shell (cmd): a pipeline's stage of its own
			    * (`curl ... | ... | $SH`): any commands joined by `|` or `|&`, up
			    * to PATTERN_MAX_PIPE_STAGES of them */
	uint8_t instr;	   /* PEL_TOKEN, Dockerfile: an instruction (a pattern line's first word)
			    * matches only an instruction, not a RUN's word (instruction_at()) */
	uint16_t open;	   /* PEL_BODY_ELLIPSIS, PEL_BODY_CLOSE: the body's `{` element */
	uint32_t off, len; /* the element's text in the pattern source */
	uint32_t hash;
	/* The metavariables used: by this element and those before it; by the elements after
	 * it up to the next top-level ellipsis (seg_end: its index, or n); by all after it.
	 * What a failed search from here depended on (struct pattern_memo). */
	uint32_t used_upto, seg_used, rest_used;
	uint16_t seg_end;
};

struct pattern {
	struct pel *el;
	size_t n;
	char *src; /* the pattern text (owned); element texts point into it */
	enum lang lang;
	size_t anchor;	       /* element index of the anchor (the most selective literal) */
	bool lead_fixed;       /* every element before the anchor is exactly one token */
	unsigned anchor_depth; /* brackets of the pattern around the anchor */
	unsigned lead_braces;  /* `{ }` groups of the pattern before the anchor, outside those */
	unsigned
		anchor_score; /* how selective the anchor is (PATTERN_STRONG_ANCHOR and up: good) */
	bool multiline;	      /* has a line end at its top level */
	bool block_edges;     /* has a token that opens or closes a block (`{`, `}`, indents) */
	uint32_t mv_used;     /* bitmask of the metavariables it uses */
	/* The `{` element (PEL_BODY_OPEN) of the `{ }` body that ends the pattern, whose `}` is
	 * where a match ends; PATTERN_NO_TAIL when it ends otherwise. */
	size_t tail_body;
	/* When every element before that body at the pattern's top level is a literal: how
	 * many tokens and bracketed groups they are (`(... $X, ...) { ... }`: 1), so that where
	 * the body starts follows from where a match starts; else PATTERN_NO_TAIL. */
	size_t tail_head;
};

#define PATTERN_NO_TAIL SIZE_MAX

/* The metavariable names of a rule; patterns refer to them by index. */
struct mvtab {
	char *name[PATTERN_MAX_MV];
	size_t n;
};

struct pattern_error {
	size_t offset; /* byte offset in the pattern text */
	char msg[200];
};

/*
 * Compile src (len bytes) for lang. Metavariables are looked up in (and added to) mv.
 * Returns 0, or -EINVAL with *err filled (empty, unbalanced, no literal token to anchor on,
 * too long, too many metavariables).
 */
int pattern_compile(const char *src, size_t len, enum lang lang, struct mvtab *mv,
		    struct pattern **out, struct pattern_error *err);
void pattern_free(struct pattern *p);
void mvtab_release(struct mvtab *mv);
/* Index of name in mv, or -1. */
int mvtab_find(const struct mvtab *mv, const char *name, size_t len);

/* The anchor element's text, kind (TOK_*), and whether it is a string compared by content. */
void pattern_anchor(const struct pattern *p, const char **text, size_t *len, uint8_t *tok_kind);

/* Bindings: token ranges [start, end) in the file's tokens, by metavariable index. */
struct binds {
	uint32_t start[PATTERN_MAX_MV], end[PATTERN_MAX_MV];
	uint32_t set; /* bit i: metavariable i is bound */
};

/* Condition on a metavariable, checked as soon as it is bound. Returns whether it holds. */
typedef bool (*pattern_cond_fn)(void *userdata, int mv, const struct tokens *t, uint32_t start,
				uint32_t end);
/* Final acceptance of a match [start, end) with its bindings. */
typedef bool (*pattern_accept_fn)(void *userdata, const struct binds *b, uint32_t start,
				  uint32_t end);

struct pattern_match {
	uint32_t start, end; /* token range */
	struct binds b;
};

/*
 * What a pattern_match_at() that found nothing depended on: clean when it was not given up
 * and never got to the end of the pattern (the acceptance test, or the start), so that it
 * fails again from the same start with any acceptance test; needs, the metavariables of
 * pre it compared (with others bound the same, it fails again); min_end, 0 or the
 * pattern_ctx.min_end it was refused by (with that one or a later, it fails again).
 */
struct pattern_failure {
	bool clean;
	uint32_t needs;
	uint32_t min_end;
};

struct pattern_index;
struct pattern_memo;

struct pattern_ctx {
	const struct tokens *t;
	pattern_cond_fn cond; /* may be NULL */
	void *cond_ud;
	pattern_accept_fn accept; /* may be NULL: accept everything */
	void *accept_ud;
	size_t *steps_left; /* shared budget of several attempts (decremented); NULL: none */
	/* Where a match must end at the earliest (a token index; 0: anywhere): a pattern that
	 * ends with a `{ }` body gives up on a body that closes before it without walking it,
	 * and a match that ends before it is refused before the acceptance test. */
	uint32_t min_end;
	/* t's index and the failures remembered on it (may be NULL): the same matches, in
	 * fewer steps. */
	struct pattern_index *index;
	struct pattern_memo *memo;
	/* accept records each match it is given and refuses it, the same for every match
	 * (a bound-by condition collecting what its patterns bind): a search whose matches it
	 * refused fails again, each match offered again already, and is remembered in memo as
	 * failing (otherwise a search that got as far as accept is not). */
	bool collects;
	/* The first use in p of each metavariable that pre binds must be at the very tokens pre
	 * bound it to, not only the same text (a Dockerfile's pattern-not: every `RUN ...`
	 * starts at the RUN, and the words bound tell one command from another). Not with
	 * memo: what it remembers holds for texts. */
	bool pre_in_place;
	size_t budget_exceeded;		/* OUT: attempts that ran out of steps */
	struct pattern_failure failure; /* OUT: after an attempt that found nothing */
};

/*
 * Match p at token start. pre holds bindings that must be respected (their metavariables
 * must match the same text here). On success fills *m and returns true.
 */
bool pattern_match_at(const struct pattern *p, struct pattern_ctx *c, uint32_t start,
		      const struct binds *pre, struct pattern_match *m);

/*
 * The start positions to try for an occurrence of p's anchor at token a: calls fn for each,
 * leftmost first, until fn returns true. Returns whether one did.
 */
bool pattern_starts(const struct pattern *p, const struct tokens *t, uint32_t a,
		    bool (*fn)(void *ud, uint32_t start), void *ud);

/* No block (pattern_blocks()). */
#define PATTERN_NO_BLOCK UINT32_MAX

/*
 * The blocks that a top-level ellipsis never leaves (`{ }` groups, indented blocks): for
 * each token i of t, in[i] is the opener of the innermost block it is in (PATTERN_NO_BLOCK:
 * none; an opener and its closer are in the block around), and for each opener o, close[o]
 * is its closer (t->n when it has none). A match started at token s in a block ends at
 * close[in[s]] at the latest (its end, exclusive, is at most that index): a pattern's `{ }`
 * balance, and its INDENTs come before their DEDENTs (its first line sets its base
 * indentation). in and close hold t->n entries each.
 */
void pattern_blocks(const struct tokens *t, uint32_t *in, uint32_t *close);

/*
 * The bracketed groups of t: in[i] is the opener of the innermost group token i is in (an
 * opener and its closer are in the group around), TOK_NONE at the top level. Unpaired
 * brackets open no group. in holds t->n entries.
 */
void pattern_groups(const struct tokens *t, uint32_t *in);

/*
 * The start positions to try for a match of p that holds token x, when p ends with a `{ }`
 * body after a head of literals (p->tail_head != PATTERN_NO_TAIL). Such a match is, at the
 * level of its start, the head's tail_head tokens and groups and then the body, so x is in
 * one of them: at each level of brackets around x, from x's own outwards, the token or
 * group there that holds x and the tail_head ones before it, nearest first. Calls fn for
 * each where p's first element matches, until it returns true; returns whether one did.
 * in: pattern_groups().
 */
bool pattern_tail_starts(const struct pattern *p, const struct tokens *t, const uint32_t *in,
			 uint32_t x, bool (*fn)(void *ud, uint32_t start), void *ud);

/*
 * A token stream's index: where each token text occurs, and where its lines and blocks end.
 * A top-level ellipsis looks up with it the next token the element after it can match
 * (a literal, or a metavariable bound already), rather than step over every token. It is
 * built for a stream when its ellipses have walked as many tokens as it has (one whose
 * patterns walk little never pays for it): 20 bytes a token. The matches are the same with
 * it or without it; only the steps differ.
 */
struct pattern_index *pattern_index_new(void);
void pattern_index_free(struct pattern_index *x);
/* The stream is t from now on (indexed when its walks call for it). */
void pattern_index_reset(struct pattern_index *x, const struct tokens *t);
/* Has it been built for t? */
bool pattern_index_built(const struct pattern_index *x, const struct tokens *t);

/*
 * Failures remembered, so that a search that failed is not made again: runs of positions
 * (of tokens, or of a caller's list of starts) from each of which a search failed, under a
 * key that holds what the searches depended on: which search (tag, slot: a pattern and its
 * element), the block level they stayed in (base), which metavariables were bound (bound)
 * and the texts of those they compared (texts, of bound). A run holds for any search under
 * an equal key that must end at its min_end or later (struct pattern_failure). A memo is
 * about one rule's conditions on one token stream: cleared for another. It is capped
 * (PATTERN_MEMO_MAX_*): past a cap nothing more is remembered, and searches are made
 * again, at their cost in steps.
 */
#define PATTERN_MEMO_MAX_KEYS	     65536
#define PATTERN_MEMO_MAX_RUNS	     (1u << 18)
#define PATTERN_MEMO_MAX_KEY_RUNS    256
#define PATTERN_MEMO_MAX_BOUND_TEXTS (1u << 18)
/* Slots for callers (pattern_match_at() uses 0 .. 2 * PATTERN_MAX_ELEMENTS). */
#define PATTERN_MEMO_CALLER_SLOT (2 * PATTERN_MAX_ELEMENTS)

struct pattern_memo_key {
	const void *tag;
	uint32_t slot;
	int32_t base;
	uint32_t bound, texts; /* texts: a subset of bound, whose texts in b count */
	const struct tokens *t;
	const struct binds *b;
};

struct pattern_memo_run {
	uint32_t lo, hi; /* positions, both included */
	uint32_t min_end;
	bool terminal; /* a walk stops at hi: none goes on past it */
};

struct pattern_memo *pattern_memo_new(void);
void pattern_memo_free(struct pattern_memo *m);
void pattern_memo_clear(struct pattern_memo *m);
/* The key's id, or -1 when it has none (and create is false, or a cap is reached). Ids
 * stay valid until the memo is cleared. */
int pattern_memo_key(struct pattern_memo *m, const struct pattern_memo_key *k, bool create);
/* The run of key id that holds position x and is valid for min_end, into *run. */
bool pattern_memo_find(const struct pattern_memo *m, int id, uint32_t x, uint32_t min_end,
		       struct pattern_memo_run *run);
/* Remember run for key id (joined with the runs it overlaps or touches). */
void pattern_memo_add(struct pattern_memo *m, int id, const struct pattern_memo_run *run);

/* Do pattern_starts() and pattern_is_anchor() give the same for p and q (their anchors and
 * what stands before them are alike)? */
bool pattern_same_starts(const struct pattern *p, const struct pattern *q);

/* Is token k of t an occurrence of p's anchor? */
bool pattern_is_anchor(const struct pattern *p, const struct tokens *t, const struct token *k);

/* The text of a binding: from its first token's start to its last token's end. */
void binds_text(const struct tokens *t, const struct binds *b, int mv, const char **s, size_t *n);

/* Do two bindings (in possibly different token streams) have the same tokens? */
bool binds_same(const struct tokens *ta, uint32_t sa, uint32_t ea, const struct tokens *tb,
		uint32_t sb, uint32_t eb);

#endif
