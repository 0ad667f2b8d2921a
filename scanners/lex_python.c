/*
 * lex_python.c - the Python tokenizer: comments, prefixed strings (r b u f and their
 * pairs, any case), triple-quoted strings, implicit line joining inside brackets,
 * backslash continuations, and the block structure as TOK_EOL (NEWLINE), TOK_INDENT and
 * TOK_DEDENT tokens, so that patterns can say "inside this function".
 *
 * Indentation: tabs advance to the next multiple of 8. A dedent to a level that was never
 * pushed is treated as a dedent to the nearest enclosing level plus an indent (error
 * recovery, never an error). The indentation stack is capped at LEX_MAX_DEPTH levels.
 */
#include "lex_impl.h"
#include "util.h"

#include "banned.h"

static const char *const py_ops[] = {
	"**=", "//=", ">>=", "<<=", "...", "->", ":=", "**", "//", "<<", ">>", "<=",
	">=",  "==",  "!=",  "+=",  "-=",  "*=", "/=", "%=", "&=", "|=", "^=", "@=",
};

static size_t op_len(const struct lexst *L, size_t p)
{
	for (size_t i = 0; i < ARRAY_SIZE(py_ops); i++) {
		size_t n = strlen(py_ops[i]);
		if (p + n <= L->end && memcmp(L->s + p, py_ops[i], n) == 0) {
			return n;
		}
	}
	return 1;
}

/* A string prefix of 1-2 letters from r, b, u, f (any case, not repeated). */
static bool is_prefix(const char *s, size_t n, bool *fstr)
{
	if (n == 0 || n > 2) {
		return false;
	}
	bool seen[26] = { false };
	*fstr = false;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		if (c != 'r' && c != 'b' && c != 'u' && c != 'f') {
			return false;
		}
		if (seen[c - 'a']) {
			return false;
		}
		seen[c - 'a'] = true;
		*fstr |= c == 'f';
	}
	return !(n == 2 && (seen['u' - 'a']));
}

/* A string from q (at the opening quote). Returns its end. */
static size_t scan_string(const struct lexst *L, size_t q, bool *unterminated, bool *has_brace)
{
	char c = L->s[q];
	bool triple = q + 2 < L->end && L->s[q + 1] == c && L->s[q + 2] == c;
	size_t i = q + (triple ? 3 : 1);
	*unterminated = false;
	*has_brace = false;
	while (i < L->end) {
		char d = L->s[i];
		if (d == '\\') {
			i += 2;
			continue;
		}
		if (d == '{') {
			*has_brace = true;
		}
		if (d == c) {
			if (!triple) {
				return i + 1;
			}
			if (i + 2 < L->end && L->s[i + 1] == c && L->s[i + 2] == c) {
				return i + 3;
			}
		}
		if (d == '\n' && !triple) {
			*unterminated = true;
			return i;
		}
		i++;
	}
	*unterminated = true;
	return L->end;
}

/*
 * The replacement fields of an f-string whose body is [b, e): each `{...}` (not `{{`) is
 * an expression, recorded as a region of Python code (with its conversion and format
 * spec, which lex as a few harmless tokens). In the spec (after a top-level `!` or `:`)
 * quotes are text (`{1:'<5}`: fill `'`), and only `{ }` nest (fields in the spec). A
 * field that cannot be read to its end gives up on the file: what follows would go
 * unscanned (tokens->regions_dropped).
 */
static void fstring_regions(struct lexst *L, size_t b, size_t e)
{
	const char *s = L->s;
	for (size_t i = b; i < e; i++) {
		if (s[i] != '{') {
			continue;
		}
		if (i + 1 < e && s[i + 1] == '{') {
			i++;
			continue;
		}
		size_t j = i + 1;
		unsigned depth = 0;
		char quote = 0;
		bool spec = false;
		for (; j < e; j++) {
			char c = s[j];
			if (spec) {
				/* The format spec: text, with nested fields. */
				if (c == '{') {
					depth++;
				} else if (c == '}' && depth) {
					depth--;
				} else if (c == '}') {
					break;
				}
			} else if (quote) {
				if (c == '\\') {
					j++;
				} else if (c == quote) {
					quote = 0;
				}
			} else if (c == '\'' || c == '"') {
				quote = c;
			} else if (c == '(' || c == '[' || c == '{') {
				depth++;
			} else if ((c == ')' || c == ']' || c == '}') && depth) {
				depth--;
			} else if (c == '}') {
				break;
			} else if (!depth &&
				   (c == ':' || (c == '!' && j + 1 < e && s[j + 1] != '='))) {
				spec = true; /* a conversion (!r) or the format spec */
			}
		}
		if (j >= e) {
			L->t->regions_dropped = true; /* not closed in the string: give up */
			return;
		}
		lex_region(L, i + 1, j, LANG_PYTHON);
		i = j;
	}
}

/*
 * A line ends at a line feed, or at a lone carriage return: Python reads source with
 * universal newlines, so code after `# x\r` runs. (A CR before a LF is a blank.)
 */
static bool line_end_at(const struct lexst *L, size_t i)
{
	return L->s[i] == '\n' || (L->s[i] == '\r' && (i + 1 >= L->end || L->s[i + 1] != '\n'));
}

/* The end of the comment at s[p]: its line's end. */
static size_t comment_end(const struct lexst *L, size_t p)
{
	while (p < L->end && !line_end_at(L, p)) {
		p++;
	}
	return p;
}

void lex_python(struct lexst *L)
{
	uint32_t indents[LEX_MAX_DEPTH];
	size_t ni = 1;
	indents[0] = 0;
	size_t depth = 0;	/* open ( [ { */
	bool line_start = true; /* at the start of a logical line */
	bool have_tokens = false;
	size_t i = L->pos;

	while (i < L->end && L->err == 0) {
		if (line_start && depth == 0) {
			/* Measure the indentation of this physical line. */
			uint32_t col = 0;
			size_t j = i;
			while (j < L->end) {
				char c = L->s[j];
				if (c == ' ') {
					col++;
				} else if (c == '\t') {
					col = (col / 8 + 1) * 8;
				} else if (c == '\f') {
					col = 0;
				} else {
					break;
				}
				if (col > 1000000) {
					col = 1000000;
				}
				j++;
			}
			/* Blank and comment-only lines do not count. */
			if (j >= L->end || L->s[j] == '\n' || L->s[j] == '\r' || L->s[j] == '#') {
				if (j < L->end && L->s[j] == '#') {
					size_t end = comment_end(L, j);
					lex_comment(L, j, end);
					j = end;
				}
				while (j < L->end && !line_end_at(L, j)) {
					j++;
				}
				i = j < L->end ? j + 1 : j;
				continue;
			}
			if (!L->pattern || have_tokens) {
				if (col > indents[ni - 1]) {
					if (ni < LEX_MAX_DEPTH) {
						indents[ni++] = col;
						lex_push(L, TOK_INDENT, j, 0, 0);
					}
				} else {
					while (ni > 1 && col < indents[ni - 1]) {
						ni--;
						lex_push(L, TOK_DEDENT, j, 0, 0);
					}
					if (col > indents[ni - 1] && ni < LEX_MAX_DEPTH) {
						indents[ni++] = col;
						lex_push(L, TOK_INDENT, j, 0, 0);
					}
				}
			} else {
				/* A pattern's first line sets the base indentation. */
				indents[0] = col;
			}
			line_start = false;
			i = j;
			continue;
		}
		unsigned char c = (unsigned char)L->s[i];
		if (line_end_at(L, i)) {
			if (depth == 0) {
				struct token *last = lex_last(L);
				if (have_tokens && last && last->kind != TOK_EOL) {
					lex_push(L, TOK_EOL, i, 1, 0);
				}
				line_start = true;
			}
			i++;
			continue;
		}
		size_t nb = lex_skip_blank(L, i);
		if (nb > i) {
			i = nb; /* a blank, or a line continuation */
			continue;
		}
		if (c == '#') {
			size_t end = comment_end(L, i);
			lex_comment(L, i, end);
			i = end;
			continue;
		}
		have_tokens = true;
		size_t mv = lex_metavar_end(L, i);
		if (mv > i) {
			lex_push(L, TOK_IDENT, i, mv - i, 0);
			i = mv;
			continue;
		}
		bool unterminated, brace;
		if (lex_is_ident_start(c)) {
			size_t j = i + 1;
			while (j < L->end && lex_is_ident_char((unsigned char)L->s[j])) {
				j++;
			}
			bool fstr;
			if (j < L->end && (L->s[j] == '"' || L->s[j] == '\'') &&
			    is_prefix(L->s + i, j - i, &fstr)) {
				size_t e = scan_string(L, j, &unterminated, &brace);
				lex_push(L, TOK_STRING, i, e - i,
					 (unterminated ? TOKF_UNTERMINATED : 0) |
						 (fstr && brace ? TOKF_INTERP : 0));
				if (fstr && brace && !L->pattern) {
					/* The body, between the quotes (one or three). */
					size_t q = e - j >= 6 && L->s[j + 1] == L->s[j] &&
								   L->s[j + 2] == L->s[j]
							   ? 3
							   : 1;
					size_t body_end = unterminated ? e : e - q;
					fstring_regions(L, j + q,
							body_end > j + q ? body_end : j + q);
				}
				i = e;
				continue;
			}
			lex_push(L, TOK_IDENT, i, j - i, 0);
			i = j;
			continue;
		}
		if (c == '"' || c == '\'') {
			size_t e = scan_string(L, i, &unterminated, &brace);
			lex_push(L, TOK_STRING, i, e - i, unterminated ? TOKF_UNTERMINATED : 0);
			i = e;
			continue;
		}
		if (isdigit(c) ||
		    (c == '.' && i + 1 < L->end && isdigit((unsigned char)L->s[i + 1]))) {
			size_t j = i + 1;
			while (j < L->end) {
				unsigned char d = (unsigned char)L->s[j];
				if (isalnum(d) || d == '_' || d == '.') {
					j++;
				} else if ((d == '+' || d == '-') &&
					   (L->s[j - 1] == 'e' || L->s[j - 1] == 'E')) {
					j++;
				} else {
					break;
				}
			}
			lex_push(L, TOK_NUMBER, i, j - i, 0);
			i = j;
			continue;
		}
		size_t n = op_len(L, i);
		if (n == 1 && (c == '(' || c == '[' || c == '{')) {
			depth++;
		} else if (n == 1 && (c == ')' || c == ']' || c == '}') && depth > 0) {
			depth--;
		}
		lex_push(L, TOK_PUNCT, i, n, 0);
		i += n;
	}
	struct token *last = lex_last(L);
	if (have_tokens && last && last->kind != TOK_EOL && last->kind != TOK_DEDENT) {
		lex_push(L, TOK_EOL, L->end, 0, 0);
	}
	while (ni > 1) {
		ni--;
		lex_push(L, TOK_DEDENT, L->end, 0, 0);
	}
}
