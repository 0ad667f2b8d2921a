/*
 * lex_python.c - the Python tokenizer: comments, prefixed strings (r b u f t and their
 * pairs, any case), triple-quoted strings, f-strings as Python 3.12 reads them (their
 * fields' expressions are regions of code), implicit line joining inside brackets,
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

/*
 * A string prefix of 1-2 letters from r, b, u, f, t (any case, not repeated): *fstr for
 * an f-string or a t-string (Python 3.14's templates read the same), *raw for r.
 */
static bool is_prefix(const char *s, size_t n, bool *fstr, bool *raw)
{
	if (n == 0 || n > 2) {
		return false;
	}
	bool seen[26] = { false };
	*fstr = false;
	*raw = false;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		if (c != 'r' && c != 'b' && c != 'u' && c != 'f' && c != 't') {
			return false;
		}
		if (seen[c - 'a']) {
			return false;
		}
		seen[c - 'a'] = true;
		*fstr |= c == 'f' || c == 't';
		*raw |= c == 'r';
	}
	return !(n == 2 && (seen['u' - 'a']));
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

/* A string from q (at the opening quote), not an f-string. Returns its end. */
static size_t scan_string(const struct lexst *L, size_t q, bool *unterminated)
{
	char c = L->s[q];
	bool triple = q + 2 < L->end && L->s[q + 1] == c && L->s[q + 2] == c;
	size_t i = q + (triple ? 3 : 1);
	*unterminated = false;
	while (i < L->end) {
		char d = L->s[i];
		if (d == '\\') {
			i += 2;
			continue;
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
 * F-strings as Python 3.12 reads them (PEP 701): a replacement field's expression is code,
 * tokenized as code, so it may hold any string, one in the f-string's own quotes and
 * f-strings among them (`f"{f"{eval(x)}"}"`), comments, and line breaks (in a one-line
 * f-string too). Before 3.12 such text was a syntax error, so this reading is the only
 * one under which it runs. The format spec (after a `:` at the expression's level) is
 * text with nested fields; a quote other than the f-string's is text there (`{1:'<5}`).
 *
 * The f-string the lexer meets records each expression of its fields (the spec's fields
 * too) as a region of Python code; f-strings nested in an expression are only read to
 * their end here, and record theirs when the region is lexed. Nesting deeper than
 * FSTRING_MAX_DEPTH (f-strings in fields, fields in specs), or a field that cannot be read
 * to its end, gives up: the file counts as not evaluated completely (regions_dropped) and
 * the string is read to its first closing quote, as before 3.12. Every level re-reads
 * what it holds once, so the cap also bounds the time (to FSTRING_MAX_DEPTH times the
 * text); after a failure no f-string of the file is read this way again, so that failures
 * that read to the end of the file cannot add up.
 */
#define FSTRING_MAX_DEPTH 16

struct fstr {
	struct lexst *L;
	unsigned fields; /* fields of the outermost f-string */
};

static size_t fstring_body(struct fstr *F, size_t i, char quote, bool triple, bool raw,
			   unsigned level, bool emit, bool *unterminated);

/* Does the f-string's closing quote (one or three) start at i? */
static bool fstring_quote_at(const struct lexst *L, size_t i, char quote, bool triple)
{
	return L->s[i] == quote &&
	       (!triple || (i + 2 < L->end && L->s[i + 1] == quote && L->s[i + 2] == quote));
}

/*
 * A backslash at i in an f-string's text: past what it escapes. A brace after it is still
 * a brace (`\{x}` has a field); `\N{NAME}` is a character, not a field (except in a raw
 * string); a line break after it is text.
 */
static size_t fstring_escape_end(const struct lexst *L, size_t i, bool raw)
{
	const char *s = L->s;
	if (i + 1 >= L->end) {
		return L->end;
	}
	char c = s[i + 1];
	if (c == '{' || c == '}') {
		return i + 1;
	}
	if (c == '\r' && i + 2 < L->end && s[i + 2] == '\n') {
		return i + 3;
	}
	if (c == 'N' && !raw && i + 2 < L->end && s[i + 2] == '{') {
		size_t j = i + 3;
		while (j < L->end && (isalnum((unsigned char)s[j]) || s[j] == ' ' || s[j] == '-')) {
			j++;
		}
		return j < L->end && s[j] == '}' ? j + 1 : j;
	}
	return i + 2;
}

/*
 * A string inside a field's expression, from q (at its opening quote): its end, or 0 when
 * it cannot be read (unterminated, nested too deeply).
 */
static size_t fstring_inner_string(struct fstr *F, size_t q, bool fstr, bool raw, unsigned level)
{
	const struct lexst *L = F->L;
	bool unterminated;
	size_t e;
	if (!fstr) {
		e = scan_string(L, q, &unterminated);
	} else {
		char c = L->s[q];
		bool triple = q + 2 < L->end && L->s[q + 1] == c && L->s[q + 2] == c;
		e = fstring_body(F, q + (triple ? 3 : 1), c, triple, raw, level + 1, false,
				 &unterminated);
	}
	return e && !unterminated ? e : 0;
}

/*
 * A replacement field from p (at its `{`): the expression, to a `:` or `}` at its bracket
 * level, then the format spec to the `}`. With emit, the expression and those of the
 * spec's fields are recorded as regions. Returns the end (past the `}`), or 0.
 */
static size_t fstring_field(struct fstr *F, size_t p, char quote, bool triple, bool raw,
			    unsigned level, bool emit)
{
	struct lexst *L = F->L;
	const char *s = L->s;
	if (level >= FSTRING_MAX_DEPTH) {
		return 0;
	}
	size_t i = p + 1, from = p + 1;
	for (;;) {
		/* The expression: code, to a `:` or `}` at its bracket level. */
		unsigned depth = 0;
		for (;;) {
			if (i >= L->end) {
				return 0;
			}
			unsigned char c = (unsigned char)s[i];
			if (c == '#') {
				i = comment_end(L, i);
			} else if (c == '\'' || c == '"') {
				if (!(i = fstring_inner_string(F, i, false, false, level))) {
					return 0;
				}
			} else if (lex_is_ident_char(c)) {
				size_t j = i + 1;
				while (j < L->end && lex_is_ident_char((unsigned char)s[j])) {
					j++;
				}
				bool fstr, r;
				if (j < L->end && (s[j] == '"' || s[j] == '\'') &&
				    is_prefix(s + i, j - i, &fstr, &r)) {
					if (!(j = fstring_inner_string(F, j, fstr, r, level))) {
						return 0;
					}
				}
				i = j;
			} else if (c == '(' || c == '[' || c == '{') {
				depth++;
				i++;
			} else if ((c == ')' || c == ']' || c == '}') && depth) {
				depth--;
				i++;
			} else if (c == '}' || (c == ':' && !depth)) {
				break;
			} else {
				i++;
			}
		}
		if (emit) {
			lex_region(L, from, i, LANG_PYTHON);
		}
		if (s[i] == '}') {
			return i + 1;
		}
		/* The format spec: text and nested fields, in the f-string's quotes, to the `}`;
		 * in a one-line f-string a line break ends it, and what follows is code again
		 * (as CPython 3.12.7 reads `f"{x:>9` + LF + `}"`). */
		i++;
		while (i < L->end && !fstring_quote_at(L, i, quote, triple) &&
		       (triple || !line_end_at(L, i)) && s[i] != '}') {
			if (s[i] == '\\') {
				i = fstring_escape_end(L, i, raw);
			} else if (s[i] != '{') {
				i++;
			} else if (!(i = fstring_field(F, i, quote, triple, raw, level + 1,
						       emit))) {
				return 0;
			}
		}
		if (i >= L->end || fstring_quote_at(L, i, quote, triple)) {
			return 0;
		}
		if (s[i] == '}') {
			return i + 1;
		}
		from = i; /* a line break: code again */
	}
}

/*
 * The body of an f-string from i (past its opening quotes) to its closing quotes: returns
 * the end (past them; at the line's end, unterminated, for a one-line string whose line
 * ends first), or 0 when a field cannot be read.
 */
static size_t fstring_body(struct fstr *F, size_t i, char quote, bool triple, bool raw,
			   unsigned level, bool emit, bool *unterminated)
{
	const struct lexst *L = F->L;
	const char *s = L->s;
	*unterminated = false;
	while (i < L->end) {
		char c = s[i];
		if (fstring_quote_at(L, i, quote, triple)) {
			return i + (triple ? 3 : 1);
		}
		if (!triple && line_end_at(L, i)) {
			*unterminated = true;
			return i;
		}
		if (c == '\\') {
			i = fstring_escape_end(L, i, raw);
		} else if (c == '{' && i + 1 < L->end && s[i + 1] == '{') {
			i += 2;
		} else if (c == '{') {
			if (!(i = fstring_field(F, i, quote, triple, raw, level, emit))) {
				return 0;
			}
			F->fields += level == 0;
		} else {
			i++;
		}
	}
	*unterminated = true;
	return L->end;
}

/*
 * An f-string from q (at its opening quote): its end, *unterminated, and whether it has
 * replacement fields (*fields). With emit, its fields' expressions are recorded as regions.
 */
static size_t scan_fstring(struct lexst *L, size_t q, bool raw, bool emit, bool *unterminated,
			   bool *fields)
{
	char c = L->s[q];
	bool triple = q + 2 < L->end && L->s[q + 1] == c && L->s[q + 2] == c;
	size_t e = 0;
	struct fstr F = { .L = L };
	if (!L->t->regions_dropped) {
		size_t regions = L->t->n_regions;
		e = fstring_body(&F, q + (triple ? 3 : 1), c, triple, raw, 0, emit, unterminated);
		if (!e) {
			L->t->n_regions = regions; /* what was recorded before the failure */
			L->t->regions_dropped = true;
		}
	}
	if (!e) {
		e = scan_string(L, q, unterminated);
		F.fields = 1; /* not known */
	}
	*fields = F.fields > 0;
	return e;
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
		bool unterminated;
		if (lex_is_ident_start(c)) {
			size_t j = i + 1;
			while (j < L->end && lex_is_ident_char((unsigned char)L->s[j])) {
				j++;
			}
			bool fstr, raw;
			if (j < L->end && (L->s[j] == '"' || L->s[j] == '\'') &&
			    is_prefix(L->s + i, j - i, &fstr, &raw)) {
				bool fields = false;
				size_t e = fstr ? scan_fstring(L, j, raw, !L->pattern,
							       &unterminated, &fields)
						: scan_string(L, j, &unterminated);
				lex_push(L, TOK_STRING, i, e - i,
					 (unterminated ? TOKF_UNTERMINATED : 0) |
						 (fields ? TOKF_INTERP : 0));
				i = e;
				continue;
			}
			lex_push(L, TOK_IDENT, i, j - i, 0);
			i = j;
			continue;
		}
		if (c == '"' || c == '\'') {
			size_t e = scan_string(L, i, &unterminated);
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
