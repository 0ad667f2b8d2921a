/*
 * lex_yaml.c - the tokenizer of CI files written in YAML (GitHub Actions workflows and
 * actions, GitLab CI): not a YAML parser (base/ydoc.h is one), but a lexer that keeps
 * what rules look at and where it is:
 *   - a mapping key is a TOK_IDENT with TOKF_KEY, followed by a `:` TOK_PUNCT;
 *   - a plain scalar is one TOK_IDENT (spaces included: `run: make test` gives `make test`);
 *   - a quoted scalar is a TOK_STRING; a block scalar (| or >) is one TOK_STRING with
 *     TOKF_BLOCK covering its content lines;
 *   - `-` of a block sequence, flow brackets and commas are TOK_PUNCT; a line end outside
 *     flow collections is TOK_EOL; comments, anchors, tags and document markers are dropped.
 * The scripts of `run:` (GitHub) and `script:`, `before_script:`, `after_script:` (GitLab)
 * keys, given as plain or block scalars or sequences of them, are recorded as embedded
 * shell regions, so that shell rules see them.
 */
#include "lex_impl.h"
#include "util.h"

#include "banned.h"

#define YAML_MAX_KEYS 256

struct ykey {
	size_t col;
	size_t off, len;  /* the key's text */
	bool value_below; /* the key's value starts on a later line */
};

struct yst {
	struct lexst *L;
	struct ykey keys[YAML_MAX_KEYS];
	size_t n_keys;
	size_t line_begin; /* offset of the current line's first byte */
	size_t flow;	   /* flow collection depth */
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool script_key(const struct yst *Y, const char *k, size_t n)
{
	if (Y->L->lang == LANG_GITHUB_ACTIONS) {
		return n == 3 && memcmp(k, "run", 3) == 0;
	}
	return (n == 6 && memcmp(k, "script", 6) == 0) ||
	       (n == 13 && memcmp(k, "before_script", 13) == 0) ||
	       (n == 12 && memcmp(k, "after_script", 12) == 0);
}

/* The key that governs a value at the current position: the key just before it on this
 * line, else the innermost key above whose value is below it. */
static const struct ykey *governing_key(struct yst *Y, size_t col, bool same_line_key)
{
	if (same_line_key && Y->n_keys) {
		return &Y->keys[Y->n_keys - 1];
	}
	for (size_t i = Y->n_keys; i > 0; i--) {
		const struct ykey *k = &Y->keys[i - 1];
		if (k->col <= col && k->value_below) {
			return k;
		}
		if (k->col <= col) {
			return NULL;
		}
	}
	return NULL;
}

static void push_key(struct yst *Y, size_t col, size_t off, size_t len)
{
	while (Y->n_keys && Y->keys[Y->n_keys - 1].col >= col) {
		Y->n_keys--;
	}
	if (Y->n_keys < YAML_MAX_KEYS) {
		Y->keys[Y->n_keys++] = (struct ykey){ col, off, len, false };
	}
}

/* colon is the offset of the ':' after the key just pushed: is its value on a later line? */
static void mark_value_below(struct yst *Y, size_t colon)
{
	const char *s = Y->L->s;
	size_t k = colon + 1, to = Y->L->end;
	while (k < to && blank(s[k])) {
		k++;
	}
	if (Y->n_keys && (k >= to || s[k] == '\n' || s[k] == '#')) {
		Y->keys[Y->n_keys - 1].value_below = true;
	}
}

static void eol(struct yst *Y, size_t at)
{
	struct token *last = lex_last(Y->L);
	if (Y->flow == 0 && last && last->kind != TOK_EOL) {
		lex_push(Y->L, TOK_EOL, at, 1, 0);
	}
}

/* Was the last token a `:` after a key on this line? */
static bool after_key(struct yst *Y)
{
	const struct tokens *t = Y->L->t;
	return t->n >= 2 && t->v[t->n - 1].kind == TOK_PUNCT &&
	       Y->L->s[t->v[t->n - 1].off] == ':' && (t->v[t->n - 2].flags & TOKF_KEY) &&
	       t->v[t->n - 1].off >= Y->line_begin;
}

static void value_region(struct yst *Y, size_t off, size_t end, size_t col, bool same_line_key)
{
	const struct ykey *k = governing_key(Y, col, same_line_key);
	if (k && script_key(Y, Y->L->s + k->off, k->len)) {
		lex_region(Y->L, off, end, LANG_SHELL);
	}
}

static size_t col_of(const struct yst *Y, size_t off)
{
	return off - Y->line_begin;
}

void lex_yaml(struct lexst *L)
{
	struct yst Y = { .L = L };
	const char *s = L->s;
	size_t i = L->pos, to = L->end;
	bool line_start = true;
	size_t indent = 0;
	while (i < to && L->err == 0) {
		if (line_start) {
			Y.line_begin = i;
			size_t j = i;
			while (j < to && s[j] == ' ') {
				j++;
			}
			indent = j - i;
			line_start = false;
			/* Document markers. */
			if (indent == 0 && i + 3 <= to &&
			    (memcmp(s + i, "---", 3) == 0 || memcmp(s + i, "...", 3) == 0) &&
			    (i + 3 == to || blank(s[i + 3]) || s[i + 3] == '\n')) {
				const char *nl = memchr(s + i, '\n', to - i);
				i = nl ? (size_t)(nl - s) : to;
				continue;
			}
			i = j;
			continue;
		}
		char c = s[i];
		if (c == '\n') {
			eol(&Y, i);
			i++;
			line_start = true;
			continue;
		}
		if (blank(c) || c == '\0') {
			i++;
			continue;
		}
		if (c == '#' && (i == Y.line_begin || blank(s[i - 1]))) {
			const char *nl = memchr(s + i, '\n', to - i);
			size_t end = nl ? (size_t)(nl - s) : to;
			lex_comment(L, i, end);
			i = end;
			continue;
		}
		if (c == '-' && Y.flow == 0 &&
		    (i + 1 == to || blank(s[i + 1]) || s[i + 1] == '\n')) {
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
			continue;
		}
		if (c == '?' && (i + 1 == to || blank(s[i + 1]))) {
			i++;
			continue;
		}
		if (c == '[' || c == '{') {
			Y.flow++;
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
			continue;
		}
		if (c == ']' || c == '}') {
			if (Y.flow) {
				Y.flow--;
			}
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
			continue;
		}
		if (c == ',' && Y.flow) {
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
			continue;
		}
		if (c == ':' && (i + 1 == to || blank(s[i + 1]) || s[i + 1] == '\n' || Y.flow)) {
			lex_push(L, TOK_PUNCT, i, 1, 0);
			i++;
			continue;
		}
		if ((c == '&' || c == '!') && !L->pattern) {
			/* An anchor or a tag: dropped. */
			while (i < to && !blank(s[i]) && s[i] != '\n') {
				i++;
			}
			continue;
		}
		bool same_line_key = after_key(&Y);
		size_t col = col_of(&Y, i);
		if ((c == '|' || c == '>') && Y.flow == 0) {
			/* A block scalar: indicators, then content lines more indented than the
			 * parent (the key of this value, or this line). */
			size_t parent = indent;
			if (same_line_key) {
				parent = L->t->v[L->t->n - 2].off - Y.line_begin;
			}
			const char *nl = memchr(s + i, '\n', to - i);
			size_t header_end = nl ? (size_t)(nl - s) : to;
			for (size_t k = i + 1; k < header_end; k++) {
				if (s[k] == '#' && blank(s[k - 1])) {
					lex_comment(L, k, header_end);
					break;
				}
			}
			size_t p = nl ? header_end + 1 : to;
			size_t content = p, content_end = p;
			while (p < to) {
				const char *e = memchr(s + p, '\n', to - p);
				size_t le = e ? (size_t)(e - s) : to;
				size_t q = p;
				while (q < le && s[q] == ' ') {
					q++;
				}
				bool is_blank_line = true;
				for (size_t r = q; r < le; r++) {
					if (!blank(s[r])) {
						is_blank_line = false;
						break;
					}
				}
				if (!is_blank_line && q - p <= parent) {
					break;
				}
				if (!is_blank_line) {
					content_end = le;
				}
				p = e ? le + 1 : to;
			}
			if (content_end > content) {
				lex_push(L, TOK_STRING, content, content_end - content, TOKF_BLOCK);
				value_region(&Y, content, content_end, col, same_line_key);
			}
			/* The line ends after the block (its tokens come before). */
			eol(&Y, content_end > content ? content_end : header_end);
			/* Continue at the first line after the block. */
			i = content_end > content ? content_end : header_end;
			if (i < to && s[i] == '\n') {
				i++;
			}
			line_start = true;
			continue;
		}
		if (c == '"' || c == '\'') {
			size_t j = i + 1;
			bool u = true;
			while (j < to) {
				if (c == '"' && s[j] == '\\') {
					j += 2;
					continue;
				}
				if (s[j] == c) {
					if (c == '\'' && j + 1 < to && s[j + 1] == '\'') {
						j += 2;
						continue;
					}
					u = false;
					j++;
					break;
				}
				j++;
			}
			if (j > to) {
				j = to;
			}
			/* A key when a ':' follows. */
			size_t k = j;
			while (k < to && blank(s[k])) {
				k++;
			}
			bool key = !u && k < to && s[k] == ':' &&
				   (k + 1 == to || blank(s[k + 1]) || s[k + 1] == '\n' || Y.flow);
			lex_push(L, TOK_STRING, i, j - i,
				 (u ? TOKF_UNTERMINATED : 0) | (key ? TOKF_KEY : 0));
			if (key) {
				push_key(&Y, col, i + 1, j >= i + 2 ? j - i - 2 : 0);
				mark_value_below(&Y, k);
			}
			/* Count the lines a multi-line scalar spanned. */
			for (size_t r = i; r < j; r++) {
				if (s[r] == '\n') {
					Y.line_begin = r + 1;
				}
			}
			i = j;
			continue;
		}
		/* A plain scalar: up to ": ", " #", the line end, and in flow context ,[]{}. */
		size_t j = i;
		while (j < to && s[j] != '\n') {
			if (s[j] == ':' &&
			    (j + 1 == to || blank(s[j + 1]) || s[j + 1] == '\n' ||
			     (Y.flow && (s[j + 1] == ',' || s[j + 1] == ']' || s[j + 1] == '}')))) {
				break;
			}
			if (s[j] == '#' && j > i && blank(s[j - 1])) {
				break;
			}
			if (Y.flow && (s[j] == ',' || s[j] == '[' || s[j] == ']' || s[j] == '{' ||
				       s[j] == '}')) {
				break;
			}
			j++;
		}
		size_t e = j;
		while (e > i && blank(s[e - 1])) {
			e--;
		}
		if (e == i) {
			i = j > i ? j : i + 1;
			continue;
		}
		bool key = j < to && s[j] == ':';
		lex_push(L, TOK_IDENT, i, e - i, key ? TOKF_KEY : 0);
		if (key) {
			push_key(&Y, col, i, e - i);
		} else {
			value_region(&Y, i, e, col, same_line_key);
		}
		i = j;
		if (key) {
			mark_value_below(&Y, j);
		}
	}
	struct token *last = lex_last(L);
	if (last && last->kind != TOK_EOL) {
		lex_push(L, TOK_EOL, to, 0, 0);
	}
}
