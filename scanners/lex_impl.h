/*
 * lex_impl.h - private to the tokenizers (lex*.c): the lexing state and the helpers every
 * language's lexer shares. Not part of the scanners' public interface.
 *
 * A lexer scans s[pos, end) and appends tokens with lex_push(), which keeps them in
 * increasing offset order and computes their line from a cursor into the line table. It
 * stops at the first error (L->err < 0), which only the token cap can cause.
 */
#ifndef RUNNER_SCANNERS_LEX_IMPL_H
#define RUNNER_SCANNERS_LEX_IMPL_H

#include "lex.h"

#include <ctype.h>

struct lexst {
	struct tokens *t;
	const char *s; /* the whole buffer */
	size_t len;
	size_t pos, end; /* the range being lexed */
	bool pattern;
	enum lang lang;
	size_t line_cur; /* index into t->line_off: the line of the last token pushed */
	int err;
};

/* Append a token; returns its index or TOK_NONE (cap reached: L->err = -E2BIG). */
uint32_t lex_push(struct lexst *L, enum tok_kind kind, size_t off, size_t len, unsigned flags);
void lex_comment(struct lexst *L, size_t off, size_t end);
void lex_region(struct lexst *L, size_t off, size_t end, enum lang lang);

/* The last token pushed (by this lexer run), or NULL. */
static inline struct token *lex_last(struct lexst *L)
{
	return L->t->n ? &L->t->v[L->t->n - 1] : NULL;
}

static inline bool lex_is_ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static inline bool lex_is_ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Past one blank (space, tab, CR, FF, VT, NUL) or backslash-newline at s[i]; i if none. */
static inline size_t lex_skip_blank(const struct lexst *L, size_t i)
{
	char c = L->s[i];
	if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\0') {
		return i + 1;
	}
	if (c == '\\' && i + 1 < L->end && (L->s[i + 1] == '\n' || L->s[i + 1] == '\r')) {
		return L->s[i + 1] == '\r' && i + 2 < L->end && L->s[i + 2] == '\n' ? i + 3 : i + 2;
	}
	return i;
}

/* Pattern syntax: `$NAME` as one identifier at s[p]; returns its end or p. */
size_t lex_metavar_end(const struct lexst *L, size_t p);

/* The language lexers. Each scans L->s[L->pos, L->end). */
void lex_clike(struct lexst *L, enum lexer family);
void lex_python(struct lexst *L);
void lex_shell(struct lexst *L);
void lex_dockerfile(struct lexst *L);
/* A Dockerfile's command substitution (lex_run_region()): shell commands, each line a RUN
 * of its own (an empty TOKF_IMPLIED token stands for the keyword), as a RUN heredoc's body
 * that a shell runs is read, so that `RUN ...` patterns match in it. */
void lex_dockerfile_commands(struct lexst *L);
void lex_yaml(struct lexst *L);

/*
 * Shell words over s[from, to): the shell lexer's body, also used for Dockerfile
 * instructions. In dockerfile mode a newline is a line continuation (the Dockerfile lexer
 * has already found where the instruction ends), comment lines are skipped, and `cont` is
 * the escape character (\ or `).
 */
void lex_shell_range(struct lexst *L, size_t from, size_t to, bool dockerfile, char cont);

#endif
