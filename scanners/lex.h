/*
 * lex.h - the source tokenizers of the SAST engine: one per language family, so that rules
 * match code and not comments, and see string literals as single tokens they can look
 * inside on purpose (a metavariable condition), never by accident.
 *
 * Languages and their tokenizers:
 *   c, cpp                  the C family lexer (comments, "..", '..', raw strings, #lines)
 *   javascript, typescript  the JS lexer (template literals with nested ${}, regex literals,
 *                           JSX; none in .ts files)
 *   go                      (raw `strings`, runes)
 *   java                    (text blocks """..""", char literals)
 *   python                  (prefixed and triple-quoted strings, f-strings as 3.12 reads
 *                           them, NEWLINE, INDENT/DEDENT)
 *   shell                   one token per shell word; |, ;, && ... ; heredocs
 *   dockerfile              instruction + shell words of each logical line; the lines of a
 *                           RUN heredoc a shell runs as RUNs of their own (TOKF_IMPLIED)
 *   github-actions, gitlab-ci  YAML: keys, scalars (block scalars as one token); the
 *                              scripts of run:/script: keys are listed as embedded shell
 *
 * Guarantees, whatever the input (NUL bytes, invalid UTF-8, unterminated strings or
 * comments, deep nesting, huge lines): the tokenizer terminates in time linear in the
 * input, never reads outside [buf, buf+len), and produces tokens whose ranges lie inside
 * the input in increasing order. Brackets are paired (tok.pair) when they balance; an
 * unbalanced bracket has pair == TOK_NONE. Nesting deeper than LEX_MAX_DEPTH is not paired.
 * Token counts are capped (LEX_MAX_TOKENS): a file that needs more returns -E2BIG.
 *
 * A pattern is tokenized by the same lexer with pattern syntax on ($X metavariables, `...`).
 */
#ifndef RUNNER_SCANNERS_LEX_H
#define RUNNER_SCANNERS_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lang {
	LANG_NONE = 0,
	LANG_C,
	LANG_CPP,
	LANG_PYTHON,
	LANG_JAVASCRIPT,
	LANG_TYPESCRIPT,
	LANG_GO,
	LANG_JAVA,
	LANG_SHELL,
	LANG_DOCKERFILE,
	LANG_GITHUB_ACTIONS,
	LANG_GITLAB_CI,
	LANG_COUNT,
};

/* The tokenizer a language uses. Patterns of one rule are compiled once per lexer. */
enum lexer {
	LEXER_NONE = 0,
	LEXER_C,
	LEXER_JS,
	LEXER_GO,
	LEXER_JAVA,
	LEXER_PYTHON,
	LEXER_SHELL,
	LEXER_DOCKERFILE,
	LEXER_YAML,
	LEXER_COUNT,
};

const char *lang_name(enum lang l);
/* Returns 0 and the language, or -EINVAL for an unknown name. */
int lang_parse(const char *name, enum lang *out);
enum lexer lang_lexer(enum lang l);
const char *lexer_name(enum lexer x);

/*
 * The interpreter a `#!` first line of head names (UTF-8 BOM allowed): the last path
 * component of its first word, or of env's first operand (`#!/usr/bin/env -S perl -w`:
 * "perl"). False when there is none or it does not fit in outlen.
 */
bool lex_shebang_interpreter(const char *head, size_t n, char *out, size_t outlen);

/*
 * Detect the language of a file from its workspace-relative path and, for files without a
 * telling name, its first line (#! shebang). head may be NULL. Returns LANG_NONE when the
 * file is not source code the SAST engine knows.
 */
enum lang lang_detect(const char *path, const char *head, size_t head_len);

enum tok_kind {
	TOK_IDENT,  /* identifiers, keywords; shell and YAML plain words */
	TOK_NUMBER, /* numbers and character literals */
	TOK_STRING, /* string literals, quoted/expanded shell words, quoted/block YAML scalars */
	TOK_PUNCT,  /* operators and brackets */
	TOK_EOL,    /* end of a logical line (python, shell, dockerfile, YAML) */
	TOK_INDENT, /* python: a deeper block starts (pairs with TOK_DEDENT) */
	TOK_DEDENT,
};

enum tok_flags {
	TOKF_INTERP = 1u << 0,	     /* a string that interpolates (f"", `${}`, "$x", heredoc) */
	TOKF_EXPANSION = 1u << 1,    /* shell: the word has an unquoted expansion ($x, $(..)) */
	TOKF_UNTERMINATED = 1u << 2, /* a string or comment the input ended inside of */
	TOKF_KEY = 1u << 3,	     /* YAML: a mapping key */
	TOKF_BLOCK = 1u << 4,	     /* YAML: a block scalar (| or >) */
	TOKF_REGEX = 1u << 5,	     /* JS: a regex literal */
	TOKF_OPEN = 1u << 6,	     /* an opening bracket ( [ { or INDENT */
	TOKF_CLOSE = 1u << 7,	     /* a closing bracket ) ] } or DEDENT */
	TOKF_STMT_END = 1u << 8,     /* Go, JS: a line break after this token ends a statement */
	/* Dockerfile: an empty token that stands for `RUN` at the start of a line of a RUN
	 * heredoc that a shell runs: each such line reads as a RUN of its own
	 * (tok_text_eq(), its hash and the rules' anchors take it for `RUN`). */
	TOKF_IMPLIED = 1u << 9,
};

#define TOK_NONE UINT32_MAX

struct token {
	uint32_t off, len; /* byte range in the source */
	uint32_t line;	   /* 1-based line of the first byte */
	uint32_t pair;	   /* index of the matching bracket, or TOK_NONE */
	uint32_t hash;	   /* hash of the token's text (case-folded in dockerfile) */
	uint16_t flags;	   /* enum tok_flags */
	uint16_t depth;	   /* bracket nesting depth (capped) */
	uint8_t kind;	   /* enum tok_kind */
};

/* A part of the file written in another language (a YAML run: script is shell), or code
 * inside a string (a JS template's ${ }, a shell $( )). */
struct lex_region {
	uint32_t off, len;
	enum lang lang;
	uint32_t nest; /* 0: a region of the file's own text; n + 1: one found in a region of n */
};

struct tokens {
	struct token *v;
	size_t n, cap;
	uint32_t *line_off; /* byte offset of each line start; line_off[0] is line 1 */
	size_t n_lines, lines_cap;
	bool lines_borrowed; /* line_off belongs to another tokens (lex_run_region) */
	struct lex_region *regions;
	size_t n_regions, regions_cap;
	bool regions_dropped; /* more than LEX_MAX_REGIONS: the rest were not recorded */
	uint64_t jsx_steps;   /* bytes the JSX reader looked at (capped: lex_clike.c) */
	uint64_t regex_steps; /* bytes read for regex literals that did not close (capped) */
	/* Comment ranges, for regex rules that must (not) match inside comments. */
	uint32_t (*comments)[2];
	size_t n_comments, comments_cap;
	const char *src;
	size_t len;
	enum lang lang;
	bool pattern; /* tokenized as a pattern ($X, ...) */
	bool no_jsx;  /* LEX_NO_JSX: a TypeScript file other than .tsx */
};

#define LEX_MAX_TOKENS	(16u << 20)
#define LEX_MAX_DEPTH	1000
#define LEX_MAX_REGIONS (1u << 16)
/* Regions nested deeper than this (a template in a template's ${ }, 33 times) are not read,
 * and the file counts as not evaluated completely: each level is lexed again with all it
 * holds, so the cap bounds the time to LEX_MAX_NEST times the text. */
#define LEX_MAX_NEST 32

void tokens_init(struct tokens *t);
void tokens_release(struct tokens *t);

/* How lex_run() reads a text. */
enum lex_run_flags {
	LEX_PATTERN = 1u << 0, /* a pattern: `$NAME` is one identifier token in every language */
	LEX_NO_JSX = 1u << 1,  /* JavaScript read without JSX (lex_path_flags()) */
};

/*
 * Tokenize buf (len bytes, need not be NUL-terminated) as language lang into t (which is
 * reset first), as flags (enum lex_run_flags) say. buf must outlive t. Returns 0, -E2BIG
 * (too many tokens, or len >= 4 GiB) or -EINVAL (LANG_NONE).
 */
int lex_run(enum lang lang, const char *buf, size_t len, unsigned flags, struct tokens *t);

/*
 * The flags a file at path is read with: TypeScript files other than .tsx (.ts, .mts, .cts)
 * hold no JSX, so LEX_NO_JSX: there `<T>x` is a type assertion and `<T>(x) => x` a generic
 * function, whatever text follows them.
 */
unsigned lex_path_flags(enum lang lang, const char *path);

/*
 * Tokenize the part [off, off+rlen) of whole's buffer as lang (a shell script embedded in a
 * YAML file, a command substitution): offsets and lines are those of the whole buffer,
 * whose line table t borrows (whole must outlive t's use), and whole's flags hold. Shell
 * regions (a CI run: block, a command substitution), Python ones (an f-string's replacement
 * fields) and JavaScript ones (a template's ${ }) are supported, and Dockerfile ones: a
 * command substitution of a Dockerfile read as RUN lines (each line's first token an
 * implied RUN), for the rules of Dockerfiles.
 */
int lex_run_region(enum lang lang, const struct tokens *whole, size_t off, size_t rlen,
		   struct tokens *t);

/*
 * Java source as javac reads it: the Unicode escapes (\uXXXX, \uuXXXX...) of ASCII
 * characters translated first, so that `\u0022` closes a string, `\u002a\u002f` a comment and
 * `\u0065xec` is `exec`; the characters javac ignores in identifiers (C0 controls other than
 * blanks and line ends, DEL, C1, format characters such as U+00AD and U+200B), raw or
 * escaped, are dropped. An escape of LF or CR becomes LEX_JAVA_LINE_END, a line end for
 * the Java lexer that is not counted as a line, so that line numbers stay the file's. A backslash
 * begins an escape only after an even number of backslashes, and a translated backslash
 * begins none. Returns a new buffer (*out, *out_len; caller frees) when something was
 * translated, NULL when the text has no such escape.
 */
char *lex_java_unescape(const char *buf, size_t len, size_t *out_len);

/*
 * The text as lang's compiler or parser reads it, where that differs from the bytes: Java
 * through lex_java_unescape(); YAML with a lone CR, NEL, U+2028 and U+2029 as line breaks
 * (LF); JavaScript with identifiers' escapes of ASCII characters decoded (`\u0065val`);
 * Python with fullwidth letters, digits and `_` as ASCII (NFKC: `ｅｖａｌ` is `eval`). Returns a
 * new buffer (*out_len; caller frees), or NULL when the text is read as it is. flags are
 * those the text will be tokenized with (lex_path_flags()). Scans tokenize, match and read
 * suppressions in that text.
 */
char *lex_prepare(enum lang lang, unsigned flags, const char *buf, size_t len, size_t *out_len);
/* Does a Python file declare (PEP 263) an encoding other than UTF-8, ASCII or Latin-1 (a
 * `utf-7` file runs what its bytes do not show)? */
bool lex_python_foreign_coding(const char *buf, size_t len);
#define LEX_JAVA_LINE_END '\x1e'

/*
 * The length of the UTF-8 byte order mark buf starts with (3), or 0. The scans read a
 * text after it (sast_scan(), secrets_scan(), the shebang lang_detect() reads): the
 * first token starts after it, and the columns of line 1 count from there.
 */
size_t lex_bom_len(const char *buf, size_t len);

/* Line (1-based) of a byte offset, and the 1-based column in code points. */
uint32_t tokens_line_of(const struct tokens *t, uint32_t off);
uint32_t tokens_column_of(const struct tokens *t, uint32_t off);

/* Is off inside a comment? */
bool tokens_in_comment(const struct tokens *t, uint32_t off);
/*
 * The comments of a file (lex_run(), not a pattern) and of the scripts it embeds, its
 * regions lexed once each, LEX_MAX_NEST levels deep (a region that does not lex adds
 * none): ranges sorted by where they start, overlapping ones merged. Inline suppressions
 * (finding_inline_suppression()) ask here for each marker: once collected, a question
 * costs a binary search (asking the file's tokens again for each marker relexed a region
 * each time, and a line of thousands of markers and findings took minutes).
 */
struct lex_comments {
	uint32_t (*v)[2];
	size_t n, cap;
};
/* Collect t's comments into c (released first). -ENOENT when t is NULL or a pattern. */
int lex_comments_collect(const struct tokens *t, struct lex_comments *c);
/* Is off in one of c's comments? 1 and its range [*start, *end), or 0. */
int lex_comments_find(const struct lex_comments *c, size_t off, size_t *start, size_t *end);
void lex_comments_release(struct lex_comments *c);

/* Index of the token containing off, or TOK_NONE. */
uint32_t tokens_find(const struct tokens *t, uint32_t off);

/* Does a token's text equal s (n bytes)? Case-insensitive for dockerfile instructions. */
bool tok_text_eq(const struct tokens *t, const struct token *k, const char *s, size_t n);

/*
 * The content of a string token without quotes, prefixes and delimiters (the raw text of
 * a shell word or YAML scalar). Sets *s and *n. For other tokens, the token text.
 */
void tok_string_content(const struct tokens *t, const struct token *k, const char **s, size_t *n);

/* A constant: a number, or a string/word that neither interpolates nor expands. */
bool tok_is_constant(const struct tokens *t, const struct token *k);

/* The hash used for token text (FNV-1a; folded to lower case when icase). */
uint32_t lex_hash(const char *s, size_t n, bool icase);

#endif
