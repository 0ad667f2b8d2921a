/*
 * rules.h - the rule language (docs/rules.md): SAST rules (token-sequence patterns with
 * refinements and metavariable conditions, or regular expressions) and secret rules
 * (regular expressions with a keyword prefilter and an entropy threshold), loaded from
 * YAML rule packs.
 *
 * A rules file is a mapping {kind: sast|secrets, rules: [...]}; the default packs are
 * compiled into the binary (the .yml files of scanners/rules, embedded at build time), so a scan
 * never depends on files outside the workspace. Users add packs with a `rules:` path.
 *
 * Loading validates everything and reports each problem as a diagnostic with the rules
 * file's line and column (unknown keys with a suggestion, missing keys, bad severities,
 * patterns that do not compile, regular expressions PCRE2 refuses, conditions on
 * metavariables no pattern binds, duplicate ids); a ruleset with any error is unusable.
 * Untrusted input is bounded: file size, YAML depth and node count, rules per set,
 * patterns, conditions and keywords per rule, pattern and regex lengths.
 *
 * A finished ruleset is read-only and shared by the scanning threads.
 */
#ifndef RUNNER_SCANNERS_RULES_H
#define RUNNER_SCANNERS_RULES_H

#include "finding.h"
#include "lex.h"
#include "pattern.h"

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct diag_list;

#define RULES_FILE_MAX	  (4u << 20)
#define RULES_MAX	  10000
#define RULE_MAX_PATTERNS 64
#define RULE_MAX_CONDS	  32
#define RULE_MAX_KEYWORDS 64
#define RULE_REGEX_MAX	  4096
#define RULE_MAX_LINES	  64 /* a multiline rule's `multiline: N` */

enum rule_kind {
	RULE_SAST,
	RULE_SECRET,
};

/* A secret rule that reads a file's structure instead of matching a regex. */
enum rule_structure {
	RULE_STRUCTURE_NONE,
	RULE_STRUCTURE_K8S_SECRET, /* the values of Kubernetes Secret manifests (k8s.h) */
};

/* What a pattern of a rule does. */
enum rule_role {
	ROLE_MAIN,	  /* pattern / pattern-either: what is reported */
	ROLE_NOT,	  /* pattern-not: drop a match where this matches at the same start */
	ROLE_INSIDE,	  /* pattern-inside: keep a match only inside a match of this */
	ROLE_NOT_INSIDE,  /* pattern-not-inside */
	ROLE_IN_FILE,	  /* pattern-in-file: keep only if the file also has this */
	ROLE_NOT_IN_FILE, /* pattern-not-in-file */
	ROLE_BOUND_BY,	  /* a condition's bound-by: what binds the metavariable in the file */
	ROLE_COUNT,
};

/* Where a regex match of a SAST regex rule may start. */
enum rule_where {
	WHERE_CODE,    /* not in a comment */
	WHERE_COMMENT, /* in a comment */
	WHERE_ANY,
};

struct rule_pattern {
	char *src;
	unsigned line, col; /* position in the rules file */
	enum rule_role role;
	/* ROLE_BOUND_BY: the condition (index in conds) it belongs to; ROLE_MAIN: the condition
	 * whose bindings anchor it (a pattern that starts with a metavariable and has no
	 * literal to anchor on), or -1 */
	int cond;
	struct pattern *by_lexer[LEXER_COUNT]; /* compiled for each tokenizer the rule needs */
};

struct rule_cond {
	int mv;	     /* metavariable index */
	int literal; /* -1: no condition; 0: must not be a constant; 1: must be one */
	pcre2_code *regex, *not_regex;
	/* bound-by: the patterns (bits: indexes in rule->pats) of which a match somewhere in the
	 * file must bind the metavariable to the same text; 0: none */
	uint64_t bound_by;
};

struct rule {
	enum rule_kind kind;
	char *id, *title, *message, *fix, *confidence;
	char *help_uri;
	enum severity severity;
	char **cwe;
	size_t n_cwe;
	char *file; /* where it was defined, for messages */
	unsigned line;

	/* SAST */
	bool lang[LANG_COUNT];
	struct mvtab mv;
	struct rule_pattern *pats;
	size_t n_pats;
	size_t n_role[ROLE_COUNT];
	struct rule_cond *conds;
	size_t n_conds;
	/* SAST regex rules and secret rules */
	pcre2_code *regex, *not_regex;
	enum rule_where where;
	char **keywords; /* lower case; a file (secrets: a line) must contain one */
	size_t n_keywords;
	/* secrets; a secret rule's regex may make these callouts: (?C"yaml"), which the scan
	 * lets go on in a YAML file's text (a name ending in .yaml or .yml) and fails
	 * elsewhere, (?C"code"), which goes on in a source file of a language where an
	 * unquoted `a.b` is a member access (secrets.h) and fails elsewhere, (?C"lisp"),
	 * which goes on in a Lisp's source file (Clojure, Emacs Lisp, Scheme, ...) and fails
	 * elsewhere, and, in a Lisp's source file, (?C"lisp-let"), which goes on where a form
	 * is directly in a let's binding list, (?C"lisp-let-head"), which goes on where it is
	 * in a let after its head (and name), before its binding list, and (?C"lisp-pair"),
	 * which goes on unless it is in a cond's or case's clauses (secrets.c): the loader
	 * refuses any other. */
	unsigned secret_group; /* capture group holding the secret (0: the whole match) */
	double entropy;	       /* minimum Shannon entropy in bits per character; 0: none */
	bool multiline;	       /* may span lines (PEM blocks) */
	unsigned max_lines;    /* multiline: at most this many lines past the first; 0: any */
	pcre2_code **allow;    /* a secret matching one of these is not reported */
	size_t n_allow;
	enum rule_structure structure; /* found by reading a format, not by its regex */
};

struct ruleset;

struct ruleset *ruleset_new(enum rule_kind kind);
void ruleset_free(struct ruleset *rs);
enum rule_kind ruleset_kind(const struct ruleset *rs);

/*
 * Load the packs compiled into the binary (those of the ruleset's kind). Returns 0 or
 * -EINVAL with diagnostics (which would be a build defect: the test suite loads them).
 */
int ruleset_load_defaults(struct ruleset *rs, struct diag_list *dl);

/*
 * Load a rules file, or every *.yml / *.yaml file of a directory (sorted by name, not
 * recursive). Files of the other kind are skipped. Returns 0, or -EINVAL with diagnostics,
 * or -errno when the path cannot be read (also as a diagnostic). A directory without rules
 * files of this kind is an error.
 */
int ruleset_load_path(struct ruleset *rs, const char *path, struct diag_list *dl);

/* Load one rules document from memory; name is used in diagnostics. */
int ruleset_load_buffer(struct ruleset *rs, const char *name, const char *buf, size_t len,
			struct diag_list *dl);

/* Check the whole set and build its indexes. Returns 0 or -EINVAL with diagnostics. */
int ruleset_finish(struct ruleset *rs, struct diag_list *dl);

size_t ruleset_count(const struct ruleset *rs);
const struct rule *ruleset_rule(const struct ruleset *rs, size_t i);
const struct rule *ruleset_find(const struct ruleset *rs, const char *id);

/* ---- for the engines (after ruleset_finish) ---- */

/* The anchor of one pattern of one rule, for the per-language index. */
struct rule_anchor_use {
	uint32_t rule;	  /* index in the set */
	uint16_t pattern; /* index in rule->pats */
};

struct rule_anchor {
	uint32_t hash;
	uint8_t tok_kind; /* TOK_IDENT, TOK_STRING, TOK_PUNCT, TOK_NUMBER */
	const char *text;
	size_t len;
	struct rule_anchor_use *uses;
	size_t n_uses;
};

/* The rules of one language: its pattern anchors (a hash table; the anchors of main and of
 * bound-by patterns) and regex rules. */
struct rule_lang_index {
	struct rule_anchor *anchors;
	size_t n_anchors;
	uint32_t *table;       /* open addressing: anchor index + 1, 0 empty */
	uint64_t bloom[1024];  /* a bit per (hash mod 65536) of every anchor: a quick "no" */
	size_t table_size;     /* a power of two */
	uint32_t *regex_rules; /* SAST regex rules for this language */
	size_t n_regex_rules;
	/* Patterns anchored on what a bound-by condition binds (rule_pattern.cond) */
	struct rule_anchor_use *bound_uses;
	size_t n_bound_uses;
	size_t n_rules; /* rules that apply to this language */
};

const struct rule_lang_index *ruleset_lang_index(const struct ruleset *rs, enum lang l);

/* The anchor index of p, a main or bound-by pattern of a rule of this language, or -1. */
int ruleset_pattern_anchor(const struct rule_lang_index *ix, const struct pattern *p);

/* The anchor index for a token (kind and text), or -1. */
int ruleset_anchor_lookup(const struct rule_lang_index *ix, const struct tokens *t,
			  const struct token *k);

/* The rule packs compiled into the binary. */
struct rules_pack {
	const char *name; /* e.g. "c.yml" */
	const char *data;
	size_t len;
};
extern const struct rules_pack rules_builtin_packs[];
extern const size_t rules_builtin_count;

/* Compile a regular expression as the rules do (PCRE2, JIT when available). */
pcre2_code *rules_regex_compile(const char *re, char *err, size_t errlen, size_t *erroff);

/* One thread's PCRE2 matching state, with the engines' limits on match steps and depth. */
struct regex_ctx {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
};

#define RULES_REGEX_MATCH_LIMIT 5000000
#define RULES_REGEX_DEPTH_LIMIT 10000

void regex_ctx_init(struct regex_ctx *c);
void regex_ctx_release(struct regex_ctx *c);

#endif
