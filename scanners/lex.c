/*
 * lex.c - what every tokenizer shares: the language table and detection, the token
 * vector, the line table, bracket pairing and token text helpers. The language lexers are
 * in lex_clike.c, lex_python.c, lex_shell.c and lex_yaml.c.
 */
#include "lex.h"

#include "lex_impl.h"
#include "util.h"

#include <strings.h>

#include "banned.h"

struct lang_info {
	const char *name;
	enum lexer lexer;
};

static const struct lang_info langs[LANG_COUNT] = {
	[LANG_NONE] = { "none", LEXER_NONE },
	[LANG_C] = { "c", LEXER_C },
	[LANG_CPP] = { "cpp", LEXER_C },
	[LANG_PYTHON] = { "python", LEXER_PYTHON },
	[LANG_JAVASCRIPT] = { "javascript", LEXER_JS },
	[LANG_TYPESCRIPT] = { "typescript", LEXER_JS },
	[LANG_GO] = { "go", LEXER_GO },
	[LANG_JAVA] = { "java", LEXER_JAVA },
	[LANG_SHELL] = { "shell", LEXER_SHELL },
	[LANG_DOCKERFILE] = { "dockerfile", LEXER_DOCKERFILE },
	[LANG_GITHUB_ACTIONS] = { "github-actions", LEXER_YAML },
	[LANG_GITLAB_CI] = { "gitlab-ci", LEXER_YAML },
};

static const char *const lexer_names[LEXER_COUNT] = {
	"none", "c", "javascript", "go", "java", "python", "shell", "dockerfile", "yaml",
};

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/*
 * The text rewriters below copy the text only from its first change on: *out is made, and
 * buf[0, i) copied into it, the first time (*o is where the copy goes on).
 */
static void rewrite_from(char **out, size_t *o, const char *buf, size_t len, size_t i)
{
	if (!*out) {
		*out = xmalloc(len);
		memcpy(*out, buf, i);
		*o = i;
	}
}

/* The code unit of a Unicode escape whose backslash is at buf[i], or -1; *end is past it. */
static int java_escape(const char *buf, size_t len, size_t i, size_t *end)
{
	size_t j = i + 1;
	while (j < len && buf[j] == 'u') {
		j++;
	}
	if (j == i + 1 || len - j < 4) {
		return -1;
	}
	int v = 0;
	for (size_t k = j; k < j + 4; k++) {
		int d = hex_digit(buf[k]);
		if (d < 0) {
			return -1;
		}
		v = v * 16 + d;
	}
	*end = j + 4;
	return v;
}

/*
 * Characters javac ignores in identifiers (Character.isIdentifierIgnorable): the C0
 * controls that are not blanks or line ends, DEL and C1, and the format characters (Cf)
 * of the Basic Multilingual Plane.
 */
static bool java_ignorable(unsigned v)
{
	return v <= 0x08 || (v >= 0x0E && v <= 0x1B) || (v >= 0x7F && v <= 0x9F) || v == 0xAD ||
	       (v >= 0x600 && v <= 0x605) || v == 0x61C || v == 0x6DD || v == 0x70F ||
	       v == 0x180E || (v >= 0x200B && v <= 0x200F) || (v >= 0x202A && v <= 0x202E) ||
	       (v >= 0x2060 && v <= 0x2064) || (v >= 0x2066 && v <= 0x206F) || v == 0xFEFF ||
	       (v >= 0xFFF9 && v <= 0xFFFB);
}

/* The length of an ignorable character written as UTF-8 (or a raw control) at buf[i], or
 * 0. Tag characters (U+E0001, U+E0020..E007F) are format characters too. */
static size_t java_raw_ignorable(const char *buf, size_t len, size_t i)
{
	const unsigned char *b = (const unsigned char *)buf + i;
	size_t n = len - i;
	if (b[0] < 0x80) {
		return java_ignorable(b[0]) ? 1 : 0;
	}
	if (b[0] >= 0xC2 && b[0] <= 0xDF && n >= 2 && (b[1] & 0xC0) == 0x80) {
		return java_ignorable(((b[0] & 0x1Fu) << 6) | (b[1] & 0x3Fu)) ? 2 : 0;
	}
	if ((b[0] & 0xF0) == 0xE0 && n >= 3 && (b[1] & 0xC0) == 0x80 && (b[2] & 0xC0) == 0x80) {
		unsigned v = ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
		return v >= 0x800 && java_ignorable(v) ? 3 : 0;
	}
	if (b[0] == 0xF3 && n >= 4 && b[1] == 0xA0 && (b[2] == 0x80 || b[2] == 0x81) &&
	    (b[3] & 0xC0) == 0x80) {
		unsigned v = 0xE0000u | ((b[2] & 0x3Fu) << 6) | (b[3] & 0x3Fu);
		return v == 0xE0001 || (v >= 0xE0020 && v <= 0xE007F) ? 4 : 0;
	}
	return 0;
}

char *lex_java_unescape(const char *buf, size_t len, size_t *out_len)
{
	char *out = NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t ign = buf[i] == '\\' ? 0 : java_raw_ignorable(buf, len, i);
		if (buf[i] != '\\' && !ign) {
			if (out) {
				out[o++] = buf[i];
			}
			i++;
			continue;
		}
		size_t j = i, end = i + ign;
		int v = -1;
		bool drop = ign > 0;
		if (!ign) {
			/* A run of backslashes: the last one is eligible when the run is odd. */
			while (j < len && buf[j] == '\\') {
				j++;
			}
			v = (j - i) % 2 ? java_escape(buf, len, j - 1, &end) : -1;
			drop = v >= 0 && java_ignorable((unsigned)v);
			if (v >= 0x80 && !drop) {
				v = -1; /* other characters stay written as escapes */
			}
		}
		if (v >= 0 || drop) {
			rewrite_from(&out, &o, buf, len, i);
		}
		if (out) {
			size_t keep = ign ? 0 : v >= 0 ? j - 1 - i : j - i;
			memcpy(out + o, buf + i, keep);
			o += keep;
			if (v >= 0 && !drop) {
				out[o++] = v == '\n' || v == '\r' ? LEX_JAVA_LINE_END : (char)v;
			}
		}
		i = ign ? end : v >= 0 ? end : j;
	}
	if (out) {
		*out_len = o;
	}
	return out;
}

/*
 * YAML as its parsers read it (libyaml, YamlDotNet, go-yaml): a lone CR, NEL, U+2028 and
 * U+2029 break lines as LF does. A lone CR becomes LF (the lines are the same); the others
 * become LF too, and count as lines from there on.
 */
static char *yaml_breaks(const char *buf, size_t len, size_t *out_len)
{
	char *out = NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		const unsigned char *b = (const unsigned char *)buf + i;
		size_t n = 0;
		if (b[0] == '\r' && (i + 1 >= len || b[1] != '\n')) {
			n = 1;
		} else if (b[0] == 0xC2 && i + 1 < len && b[1] == 0x85) {
			n = 2;
		} else if (b[0] == 0xE2 && i + 2 < len && b[1] == 0x80 &&
			   (b[2] == 0xA8 || b[2] == 0xA9)) {
			n = 3;
		}
		if (n) {
			rewrite_from(&out, &o, buf, len, i);
		}
		if (out) {
			out[o++] = n ? '\n' : buf[i];
		}
		i += n ? n : 1;
	}
	if (out) {
		*out_len = o;
	}
	return out;
}

/*
 * The ASCII identifier character of a JavaScript escape at s[i] (`\u0065`, `\u{65}`), or
 * -1; *end is past it.
 */
static int js_ident_escape(const char *s, size_t len, size_t i, size_t *end)
{
	if (i + 2 >= len || s[i] != '\\' || s[i + 1] != 'u') {
		return -1;
	}
	unsigned v = 0;
	size_t j = i + 2;
	if (s[j] == '{') {
		size_t k = ++j;
		while (j < len && j - k < 8 && hex_digit(s[j]) >= 0) {
			v = v * 16 + (unsigned)hex_digit(s[j++]);
		}
		if (j == k || j >= len || s[j] != '}') {
			return -1;
		}
		j++;
	} else {
		if (len - j < 4) {
			return -1;
		}
		for (size_t k = j; k < j + 4; k++) {
			if (hex_digit(s[k]) < 0) {
				return -1;
			}
			v = v * 16 + (unsigned)hex_digit(s[k]);
		}
		j += 4;
	}
	if (v >= 0x80 || !(isalnum((int)v) || v == '_' || v == '$')) {
		return -1;
	}
	*end = j;
	return (int)v;
}

/*
 * JavaScript identifiers written with escapes (`\u0065val` is `eval`): outside strings,
 * templates, regular expressions and comments, a backslash can only begin one. The text
 * is tokenized once to find them (a backslash token is code), and those of ASCII
 * identifier characters are written as the characters.
 */
static char *js_ident_escapes(enum lang lang, unsigned flags, const char *buf, size_t len,
			      size_t *out_len)
{
	if (!memmem(buf, len, "\\u", 2)) {
		return NULL;
	}
	struct tokens t;
	tokens_init(&t);
	char *out = NULL;
	size_t o = 0, from = 0;
	if (lex_run(lang, buf, len, flags & ~LEX_PATTERN, &t) == 0) {
		for (size_t k = 0; k < t.n; k++) {
			const struct token *tk = &t.v[k];
			size_t end;
			int v;
			if (tk->kind != TOK_PUNCT || tk->len != 1 || buf[tk->off] != '\\' ||
			    (v = js_ident_escape(buf, len, tk->off, &end)) < 0) {
				continue;
			}
			if (!out) {
				out = xmalloc(len);
			}
			memcpy(out + o, buf + from, tk->off - from);
			o += tk->off - from;
			out[o++] = (char)v;
			from = end;
		}
	}
	tokens_release(&t);
	if (out) {
		memcpy(out + o, buf + from, len - from);
		*out_len = o + len - from;
	}
	return out;
}

/*
 * Python applies NFKC to identifiers: `ｅｖａｌ(x)` (fullwidth) is `eval(x)`. The fullwidth
 * forms of letters, digits and `_` are written as ASCII (they cannot open or close a
 * string, so the text's structure stays).
 */
static char *python_fullwidth(const char *buf, size_t len, size_t *out_len)
{
	char *out = NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		const unsigned char *b = (const unsigned char *)buf + i;
		int v = -1;
		if (b[0] == 0xEF && i + 2 < len && (b[1] == 0xBC || b[1] == 0xBD)) {
			unsigned cp = 0xF000u | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
			if ((b[2] & 0xC0) == 0x80 &&
			    ((cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
			     (cp >= 0xFF41 && cp <= 0xFF5A) || cp == 0xFF3F)) {
				v = (int)(cp - 0xFF00 + 0x20);
			}
		}
		if (v >= 0) {
			rewrite_from(&out, &o, buf, len, i);
		}
		if (out) {
			out[o++] = v >= 0 ? (char)v : buf[i];
		}
		i += v >= 0 ? 3 : 1;
	}
	if (out) {
		*out_len = o;
	}
	return out;
}

bool lex_python_foreign_coding(const char *buf, size_t len)
{
	/* PEP 263: a comment on line 1 or 2 matching coding[:=]NAME. */
	size_t off = 0;
	for (int line = 0; line < 2 && off < len; line++) {
		size_t next;
		size_t e = text_line_end(buf, len, off, &next);
		const char *l = buf + off;
		size_t n = e - off, k = 0;
		while (k < n && (l[k] == ' ' || l[k] == '\t' || l[k] == '\f')) {
			k++;
		}
		if (k < n && l[k] == '#') {
			for (size_t j = k; j + 7 < n; j++) {
				if (memcmp(l + j, "coding", 6) == 0 &&
				    (l[j + 6] == ':' || l[j + 6] == '=')) {
					size_t a = j + 7;
					while (a < n && (l[a] == ' ' || l[a] == '\t')) {
						a++;
					}
					char name[32];
					size_t m = 0;
					while (a < n && m + 1 < sizeof(name) &&
					       (isalnum((unsigned char)l[a]) ||
						strchr("-_.", l[a]))) {
						name[m++] = (char)tolower((unsigned char)l[a++]);
					}
					name[m] = '\0';
					for (size_t q = 0; q < m; q++) {
						name[q] = name[q] == '_' ? '-' : name[q];
					}
					static const char *const ok[] = {
						"utf-8",      "utf8",	 "utf-8-sig", "ascii",
						"us-ascii",   "latin-1", "latin1",    "iso-8859-1",
						"iso8859-1",  "l1",	 "cp1252",    "iso-8859-15",
						"utf-8-unix",
					};
					for (size_t q = 0; q < ARRAY_SIZE(ok); q++) {
						if (strcmp(name, ok[q]) == 0) {
							return false;
						}
					}
					return m > 0;
				}
			}
		}
		if (next <= off) {
			break;
		}
		off = next;
	}
	return false;
}

char *lex_prepare(enum lang lang, unsigned flags, const char *buf, size_t len, size_t *out_len)
{
	switch (lang_lexer(lang)) {
	case LEXER_JAVA:
		return lex_java_unescape(buf, len, out_len);
	case LEXER_YAML:
		return yaml_breaks(buf, len, out_len);
	case LEXER_JS:
		return js_ident_escapes(lang, flags, buf, len, out_len);
	case LEXER_PYTHON:
		return python_fullwidth(buf, len, out_len);
	default:
		return NULL;
	}
}

const char *lang_name(enum lang l)
{
	return (unsigned)l < LANG_COUNT ? langs[l].name : "none";
}

int lang_parse(const char *name, enum lang *out)
{
	static const struct {
		const char *alias;
		enum lang lang;
	} aliases[] = {
		{ "c++", LANG_CPP },	       { "js", LANG_JAVASCRIPT }, { "ts", LANG_TYPESCRIPT },
		{ "py", LANG_PYTHON },	       { "sh", LANG_SHELL },	  { "bash", LANG_SHELL },
		{ "docker", LANG_DOCKERFILE }, { "golang", LANG_GO },
	};
	for (int i = 1; name && i < LANG_COUNT; i++) {
		if (strcasecmp(name, langs[i].name) == 0) {
			*out = (enum lang)i;
			return 0;
		}
	}
	for (size_t i = 0; name && i < ARRAY_SIZE(aliases); i++) {
		if (strcasecmp(name, aliases[i].alias) == 0) {
			*out = aliases[i].lang;
			return 0;
		}
	}
	return -EINVAL;
}

enum lexer lang_lexer(enum lang l)
{
	return (unsigned)l < LANG_COUNT ? langs[l].lexer : LEXER_NONE;
}

const char *lexer_name(enum lexer x)
{
	return (unsigned)x < LEXER_COUNT ? lexer_names[x] : "none";
}

size_t lex_bom_len(const char *buf, size_t len)
{
	return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

bool lex_shebang_interpreter(const char *head, size_t n, char *out, size_t outlen)
{
	if (head) {
		size_t bom = lex_bom_len(head, n);
		head += bom;
		n -= bom;
	}
	if (!head || n < 3 || head[0] != '#' || head[1] != '!' || !outlen) {
		return false;
	}
	const char *nl = memchr(head, '\n', n);
	size_t l = nl ? (size_t)(nl - head) : n;
	/* The interpreter: the last path component of the first word, or env's argument
	 * (after its options: env -S perl -w). */
	char line[256];
	size_t m = MIN(l, sizeof(line) - 1);
	memcpy(line, head, m);
	line[m] = '\0';
	char *p = line + 2;
	for (int words = 0; words < 3; words++) {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		char *w = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
			p++;
		}
		char save = *p;
		*p = '\0';
		const char *base = strrchr(w, '/');
		base = base ? base + 1 : w;
		if (strcmp(base, "env") != 0 && base[0] != '-') {
			if (!*base || strlen(base) >= outlen) {
				return false;
			}
			memcpy(out, base, strlen(base) + 1);
			return true;
		}
		*p = save;
		if (!save) {
			break;
		}
	}
	return false;
}

static enum lang lang_of_shebang(const char *head, size_t n)
{
	char base[64];
	if (!lex_shebang_interpreter(head, n, base, sizeof(base))) {
		return LANG_NONE;
	}
	static const struct {
		const char *word;
		enum lang lang;
	} interps[] = {
		{ "sh", LANG_SHELL },	       { "bash", LANG_SHELL },
		{ "dash", LANG_SHELL },	       { "ksh", LANG_SHELL },
		{ "zsh", LANG_SHELL },	       { "ash", LANG_SHELL },
		{ "python", LANG_PYTHON },     { "python3", LANG_PYTHON },
		{ "python2", LANG_PYTHON },    { "node", LANG_JAVASCRIPT },
		{ "nodejs", LANG_JAVASCRIPT },
	};
	for (size_t i = 0; i < ARRAY_SIZE(interps); i++) {
		if (strcmp(base, interps[i].word) == 0) {
			return interps[i].lang;
		}
	}
	return strncmp(base, "python3.", 8) == 0 ? LANG_PYTHON : LANG_NONE;
}

unsigned lex_path_flags(enum lang lang, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	bool tsx = n > 4 && strcmp(base + n - 4, ".tsx") == 0;
	return lang == LANG_TYPESCRIPT && !tsx ? LEX_NO_JSX : 0;
}

enum lang lang_detect(const char *path, const char *head, size_t head_len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	const char *ext = dot && dot != base ? dot + 1 : NULL;

	if (strcmp(base, "Dockerfile") == 0 || strcmp(base, "Containerfile") == 0 ||
	    strncmp(base, "Dockerfile.", 11) == 0 || strncmp(base, "Containerfile.", 14) == 0 ||
	    (ext && (strcasecmp(ext, "dockerfile") == 0 || strcmp(ext, "containerfile") == 0))) {
		return LANG_DOCKERFILE;
	}
	if (ext && (strcmp(ext, "yml") == 0 || strcmp(ext, "yaml") == 0)) {
		if (strcmp(base, ".gitlab-ci.yml") == 0 || str_has_suffix(base, ".gitlab-ci.yml") ||
		    strcmp(base, ".gitlab-ci.yaml") == 0) {
			return LANG_GITLAB_CI;
		}
		if (strstr(path, ".github/workflows/") == path ||
		    strstr(path, "/.github/workflows/") ||
		    ((strcmp(base, "action.yml") == 0 || strcmp(base, "action.yaml") == 0))) {
			return LANG_GITHUB_ACTIONS;
		}
		return LANG_NONE;
	}
	static const struct {
		const char *ext;
		enum lang lang;
	} exts[] = {
		{ "c", LANG_C },
		{ "h", LANG_C },
		{ "cc", LANG_CPP },
		{ "cpp", LANG_CPP },
		{ "cxx", LANG_CPP },
		{ "c++", LANG_CPP },
		{ "hpp", LANG_CPP },
		{ "hh", LANG_CPP },
		{ "hxx", LANG_CPP },
		{ "h++", LANG_CPP },
		{ "ino", LANG_CPP },
		{ "py", LANG_PYTHON },
		{ "pyw", LANG_PYTHON },
		{ "js", LANG_JAVASCRIPT },
		{ "mjs", LANG_JAVASCRIPT },
		{ "cjs", LANG_JAVASCRIPT },
		{ "jsx", LANG_JAVASCRIPT },
		{ "ts", LANG_TYPESCRIPT },
		{ "tsx", LANG_TYPESCRIPT },
		{ "mts", LANG_TYPESCRIPT },
		{ "cts", LANG_TYPESCRIPT },
		{ "go", LANG_GO },
		{ "java", LANG_JAVA },
		{ "sh", LANG_SHELL },
		{ "bash", LANG_SHELL },
		{ "ksh", LANG_SHELL },
		{ "zsh", LANG_SHELL },
		{ "bats", LANG_SHELL },
	};
	if (ext) {
		for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
			if (strcmp(ext, exts[i].ext) == 0) {
				return exts[i].lang;
			}
		}
		/* Files with another extension are not source we know, shebang or not. */
		if (strcmp(ext, "in") != 0) {
			return LANG_NONE;
		}
	}
	return lang_of_shebang(head, head_len);
}

/* ---------- the token vector ---------- */

void tokens_init(struct tokens *t)
{
	memset(t, 0, sizeof(*t));
}

void tokens_release(struct tokens *t)
{
	free(t->v);
	if (!t->lines_borrowed) {
		free(t->line_off);
	}
	free(t->regions);
	free(t->comments);
	tokens_init(t);
}

/* ASCII upper case to lower case in each byte of w. */
static uint64_t lower8(uint64_t w)
{
	unsigned char b[8];
	memcpy(b, &w, 8);
	for (size_t i = 0; i < 8; i++) {
		if (b[i] >= 'A' && b[i] <= 'Z') {
			b[i] = (unsigned char)(b[i] + 32);
		}
	}
	memcpy(&w, b, 8);
	return w;
}

static uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xFF51AFD7ED558CCDull;
	return h ^ (h >> 33);
}

uint32_t lex_hash(const char *s, size_t n, bool icase)
{
	/* Eight bytes at a time: most tokens are short, and this runs for every token. The
	 * copies are of a constant size (inlined): a copy of n bytes was a call to memcpy for
	 * every token, most of this function's time. The last bytes are read one by one into
	 * the low end of a word, as that copy into a zeroed word did: the same hash. */
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = hash_mix(h, icase ? lower8(w) : w);
	}
	if (n > 0) {
		uint64_t w = 0;
		for (size_t i = 0; i < n; i++) {
			w |= (uint64_t)(unsigned char)s[i] << (8 * i);
		}
		h = hash_mix(h, icase ? lower8(w) : w);
	}
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t lex_push(struct lexst *L, enum tok_kind kind, size_t off, size_t len, unsigned flags)
{
	struct tokens *t = L->t;
	if (L->err < 0) {
		return TOK_NONE;
	}
	if (t->n >= LEX_MAX_TOKENS) {
		L->err = -E2BIG;
		return TOK_NONE;
	}
	if (off > L->len) {
		off = L->len;
	}
	if (len > L->len - off) {
		len = L->len - off;
	}
	if (t->n >= t->cap) {
		/* Most source has a token per 4 to 8 bytes: start near that. */
		GROW(t->v, t->cap, MAX(t->n + 1, MIN(L->len / 6 + 16, (size_t)LEX_MAX_TOKENS)));
	}
	while (L->line_cur + 1 < t->n_lines && t->line_off[L->line_cur + 1] <= off) {
		L->line_cur++;
	}
	struct token *k = &t->v[t->n];
	k->off = (uint32_t)off;
	k->len = (uint32_t)len;
	k->line = (uint32_t)L->line_cur + 1;
	k->pair = TOK_NONE;
	k->kind = (uint8_t)kind;
	k->flags = (uint16_t)flags;
	k->depth = 0;
	k->hash = 0;
	return (uint32_t)t->n++;
}

void lex_comment(struct lexst *L, size_t off, size_t end)
{
	struct tokens *t = L->t;
	if (end <= off || t->n_comments >= LEX_MAX_TOKENS) {
		return;
	}
	GROW(t->comments, t->comments_cap, t->n_comments + 1);
	t->comments[t->n_comments][0] = (uint32_t)off;
	t->comments[t->n_comments][1] = (uint32_t)end;
	t->n_comments++;
}

void lex_region(struct lexst *L, size_t off, size_t end, enum lang lang)
{
	struct tokens *t = L->t;
	if (end <= off) {
		return;
	}
	/* A region around the last ones recorded (a shell $( ), recorded after the
	 * substitutions inside it) replaces them: they are found again when it is lexed, and
	 * reading them at every level would cost time quadratic in the nesting. */
	while (t->n_regions > 0) {
		const struct lex_region *last = &t->regions[t->n_regions - 1];
		if (last->lang != lang || last->off < off || last->off + last->len > end) {
			break;
		}
		t->n_regions--;
	}
	if (t->n_regions >= LEX_MAX_REGIONS) {
		t->regions_dropped = true;
		return;
	}
	GROW(t->regions, t->regions_cap, t->n_regions + 1);
	t->regions[t->n_regions++] =
		(struct lex_region){ (uint32_t)off, (uint32_t)(end - off), lang };
}

size_t lex_metavar_end(const struct lexst *L, size_t p)
{
	if (!L->pattern || p + 1 >= L->end || L->s[p] != '$' ||
	    !(isupper((unsigned char)L->s[p + 1]) || L->s[p + 1] == '_')) {
		return p;
	}
	size_t q = p + 1;
	while (q < L->end && (isupper((unsigned char)L->s[q]) || isdigit((unsigned char)L->s[q]) ||
			      L->s[q] == '_')) {
		q++;
	}
	/* "$X" must not run into lower-case letters: $Xyz is not a metavariable. */
	if (q < L->end && lex_is_ident_char((unsigned char)L->s[q])) {
		return p;
	}
	return q;
}

static void build_lines(struct tokens *t)
{
	if (t->lines_borrowed) {
		t->line_off = NULL;
		t->lines_cap = 0;
		t->lines_borrowed = false;
	}
	t->n_lines = 0;
	if (t->lines_cap == 0) {
		t->lines_cap = 64;
		t->line_off = xreallocarray(t->line_off, t->lines_cap, sizeof(uint32_t));
	}
	t->line_off[t->n_lines++] = 0;
	/* Lines end at LF, CRLF or a lone CR (text_line_end(), as the other scanners count). */
	for (size_t off = 0, next; off < t->len; off = next) {
		text_line_end(t->src, t->len, off, &next);
		if (next >= t->len && !text_is_line_end(t->src, t->len, next - 1)) {
			break; /* the last line, without a line end */
		}
		if (t->n_lines == t->lines_cap) {
			t->lines_cap *= 2;
			t->line_off = xreallocarray(t->line_off, t->lines_cap, sizeof(uint32_t));
		}
		t->line_off[t->n_lines++] = (uint32_t)next;
	}
}

static bool is_open(const struct tokens *t, const struct token *k, char *close)
{
	if (k->kind == TOK_INDENT) {
		*close = 'D';
		return true;
	}
	if (k->kind != TOK_PUNCT || k->len != 1) {
		return false;
	}
	switch (t->src[k->off]) {
	case '(':
		*close = ')';
		return true;
	case '[':
		*close = ']';
		return true;
	case '{':
		*close = '}';
		return true;
	default:
		return false;
	}
}

static bool is_close(const struct tokens *t, const struct token *k, char *which)
{
	if (k->kind == TOK_DEDENT) {
		*which = 'D';
		return true;
	}
	if (k->kind != TOK_PUNCT || k->len != 1) {
		return false;
	}
	char c = t->src[k->off];
	if (c == ')' || c == ']' || c == '}') {
		*which = c;
		return true;
	}
	return false;
}

/*
 * Pair brackets with a stack. A closer that does not match the top pairs with the nearest
 * matching opener below it when there is one (the openers in between stay unpaired, as
 * after a missing closer); otherwise it stays unpaired.
 */
static void pair_brackets(struct tokens *t)
{
	uint32_t stack[LEX_MAX_DEPTH];
	char want[LEX_MAX_DEPTH];
	size_t sp = 0, overflow = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct token *k = &t->v[i];
		char c;
		size_t depth = sp + overflow;
		k->depth = (uint16_t)MIN(depth, (size_t)UINT16_MAX);
		if (is_open(t, k, &c)) {
			k->flags |= TOKF_OPEN;
			if (sp < LEX_MAX_DEPTH) {
				stack[sp] = (uint32_t)i;
				want[sp] = c;
				sp++;
			} else {
				overflow++;
			}
		} else if (is_close(t, k, &c)) {
			k->flags |= TOKF_CLOSE;
			if (overflow) {
				overflow--;
				continue;
			}
			size_t j = sp;
			while (j > 0 && want[j - 1] != c && sp - j < 8) {
				j--;
			}
			if (j > 0 && want[j - 1] == c) {
				uint32_t o = stack[j - 1];
				t->v[o].pair = (uint32_t)i;
				k->pair = o;
				sp = j - 1;
				k->depth = (uint16_t)MIN(sp, (size_t)UINT16_MAX);
			}
		}
	}
}

static void hash_tokens(struct tokens *t)
{
	bool icase = t->lang == LANG_DOCKERFILE;
	for (size_t i = 0; i < t->n; i++) {
		struct token *k = &t->v[i];
		const char *s;
		size_t n;
		if (k->kind == TOK_STRING) {
			tok_string_content(t, k, &s, &n);
			k->hash = lex_hash(s, n, false) ^ 0x5bd1e995u;
		} else if (k->flags & TOKF_IMPLIED) {
			k->hash = lex_hash("RUN", 3, icase); /* the instruction it stands for */
		} else {
			k->hash = lex_hash(t->src + k->off, k->len, icase && k->kind == TOK_IDENT);
		}
	}
}

static void tokens_reset(struct tokens *t, enum lang lang, const char *buf, size_t len,
			 unsigned flags)
{
	t->n = 0;
	t->n_regions = 0;
	t->regions_dropped = false;
	t->jsx_steps = 0;
	t->regex_steps = 0;
	t->n_comments = 0;
	t->src = buf;
	t->len = len;
	t->lang = lang;
	t->pattern = flags & LEX_PATTERN;
	t->no_jsx = flags & LEX_NO_JSX;
}

/* Run the lexer of lang over [from, to) and finish the tokens; region: a part of a file
 * (lex_run_region()), which a Dockerfile's is shell commands. */
static int lex_finish(struct tokens *t, size_t from, size_t to, size_t line_cur, bool region)
{
	struct lexst L = {
		.t = t,
		.s = t->src,
		.len = t->len,
		.pos = from,
		.end = to,
		.pattern = t->pattern,
		.lang = t->lang,
		.line_cur = line_cur,
	};
	switch (lang_lexer(t->lang)) {
	case LEXER_C:
	case LEXER_JS:
	case LEXER_GO:
	case LEXER_JAVA:
		lex_clike(&L, lang_lexer(t->lang));
		break;
	case LEXER_PYTHON:
		lex_python(&L);
		break;
	case LEXER_SHELL:
		lex_shell(&L);
		break;
	case LEXER_DOCKERFILE:
		if (region) {
			lex_dockerfile_commands(&L);
		} else {
			lex_dockerfile(&L);
		}
		break;
	case LEXER_YAML:
		lex_yaml(&L);
		break;
	default:
		return -EINVAL;
	}
	if (L.err < 0) {
		return L.err;
	}
	pair_brackets(t);
	hash_tokens(t);
	return 0;
}

int lex_run(enum lang lang, const char *buf, size_t len, unsigned flags, struct tokens *t)
{
	tokens_reset(t, lang, buf, len, flags);
	if (len >= UINT32_MAX) {
		return -E2BIG;
	}
	if (lang_lexer(lang) == LEXER_NONE) {
		return -EINVAL;
	}
	build_lines(t);
	return lex_finish(t, 0, len, 0, false);
}

int lex_run_region(enum lang lang, const struct tokens *whole, size_t off, size_t rlen,
		   struct tokens *t)
{
	tokens_reset(t, lang, whole->src, whole->len, whole->no_jsx ? LEX_NO_JSX : 0);
	if (off > t->len || rlen > t->len - off) {
		return -E2BIG;
	}
	enum lexer lx = lang_lexer(lang);
	if (lx != LEXER_SHELL && lx != LEXER_PYTHON && lx != LEXER_JS && lx != LEXER_DOCKERFILE) {
		return -EINVAL;
	}
	if (!t->lines_borrowed) {
		free(t->line_off);
	}
	t->line_off = whole->line_off;
	t->n_lines = whole->n_lines;
	t->lines_cap = whole->n_lines;
	t->lines_borrowed = true;
	return lex_finish(t, off, off + rlen, tokens_line_of(t, (uint32_t)off) - 1, true);
}

uint32_t tokens_line_of(const struct tokens *t, uint32_t off)
{
	size_t lo = 0, hi = t->n_lines;
	if (hi == 0) {
		return 1;
	}
	/* The last line start <= off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->line_off[mid] <= off) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return (uint32_t)lo + 1;
}

uint32_t tokens_column_of(const struct tokens *t, uint32_t off)
{
	uint32_t line = tokens_line_of(t, off);
	uint32_t start = t->n_lines ? t->line_off[line - 1] : 0;
	uint32_t col = 1;
	for (uint32_t i = start; i < off && i < t->len; i++) {
		/* Count code points: every byte that is not a UTF-8 continuation byte. */
		if (((unsigned char)t->src[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	return col;
}

bool tokens_in_comment(const struct tokens *t, uint32_t off)
{
	size_t lo = 0, hi = t->n_comments;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->comments[mid][1] <= off) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < t->n_comments && t->comments[lo][0] <= off && off < t->comments[lo][1];
}

static void comments_add(struct lex_comments *c, const struct tokens *t)
{
	if (t->n_comments == 0) {
		return;
	}
	GROW(c->v, c->cap, c->n + t->n_comments);
	memcpy(c->v + c->n, t->comments, t->n_comments * sizeof(c->v[0]));
	c->n += t->n_comments;
}

static int cmp_range(const void *pa, const void *pb)
{
	const uint32_t *a = pa, *b = pb;
	return a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1];
}

int lex_comments_collect(const struct tokens *t, struct lex_comments *c)
{
	lex_comments_release(c);
	if (!t || t->pattern) {
		return -ENOENT;
	}
	comments_add(c, t);
	/* The regions of each level, lexed once each: those of the file, then those found
	 * in them, and so on. Each level's regions lie inside the last one's, so a level
	 * costs at most the text. */
	struct lex_region *level = NULL, *next = NULL;
	size_t n = 0, cap = 0, n_next = 0, next_cap = 0;
	if (t->n_regions > 0) {
		GROW(level, cap, t->n_regions);
		memcpy(level, t->regions, t->n_regions * sizeof(level[0]));
		n = t->n_regions;
	}
	struct tokens sub;
	tokens_init(&sub);
	for (unsigned depth = 0; depth <= LEX_MAX_NEST && n > 0; depth++) {
		n_next = 0;
		for (size_t i = 0; i < n; i++) {
			if (lex_run_region(level[i].lang, t, level[i].off, level[i].len, &sub) <
			    0) {
				continue; /* not known to be a comment: it is not one */
			}
			comments_add(c, &sub);
			if (sub.n_regions > 0) {
				GROW(next, next_cap, n_next + sub.n_regions);
				memcpy(next + n_next, sub.regions, sub.n_regions * sizeof(next[0]));
				n_next += sub.n_regions;
			}
		}
		struct lex_region *swap = level;
		level = next;
		next = swap;
		size_t swap_cap = cap;
		cap = next_cap;
		next_cap = swap_cap;
		n = n_next;
	}
	tokens_release(&sub);
	free(level);
	free(next);
	if (c->n == 0) {
		return 0;
	}
	qsort(c->v, c->n, sizeof(c->v[0]), cmp_range);
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (k > 0 && c->v[i][0] < c->v[k - 1][1]) {
			c->v[k - 1][1] = MAX(c->v[k - 1][1], c->v[i][1]);
		} else {
			c->v[k][0] = c->v[i][0];
			c->v[k][1] = c->v[i][1];
			k++;
		}
	}
	c->n = k;
	return 0;
}

int lex_comments_find(const struct lex_comments *c, size_t off, size_t *start, size_t *end)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->v[mid][1] <= off) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo < c->n && c->v[lo][0] <= off && off < c->v[lo][1]) {
		*start = c->v[lo][0];
		*end = c->v[lo][1];
		return 1;
	}
	return 0;
}

void lex_comments_release(struct lex_comments *c)
{
	free(c->v);
	*c = (struct lex_comments){ 0 };
}

uint32_t tokens_find(const struct tokens *t, uint32_t off)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].off + t->v[mid].len <= off) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo < t->n && t->v[lo].off <= off && off < t->v[lo].off + t->v[lo].len) {
		return (uint32_t)lo;
	}
	return TOK_NONE;
}

bool tok_text_eq(const struct tokens *t, const struct token *k, const char *s, size_t n)
{
	if (k->flags & TOKF_IMPLIED) {
		return n == 3 && strncasecmp(s, "RUN", 3) == 0; /* the instruction it stands for */
	}
	if (k->len != n) {
		return false;
	}
	if (t->lang == LANG_DOCKERFILE && k->kind == TOK_IDENT) {
		return strncasecmp(t->src + k->off, s, n) == 0;
	}
	return memcmp(t->src + k->off, s, n) == 0;
}

void tok_string_content(const struct tokens *t, const struct token *k, const char **s, size_t *n)
{
	const char *p = t->src + k->off;
	size_t len = k->len;
	*s = p;
	*n = len;
	if (k->kind != TOK_STRING || (k->flags & TOKF_BLOCK)) {
		return;
	}
	enum lexer lx = lang_lexer(t->lang);
	if (lx == LEXER_SHELL || lx == LEXER_DOCKERFILE) {
		/* A shell word: strip one level of surrounding quotes when the whole word is
		 * quoted. */
		if (len >= 2 && (p[0] == '"' || p[0] == '\'') && p[len - 1] == p[0]) {
			*s = p + 1;
			*n = len - 2;
		}
		return;
	}
	/* Skip a prefix (L, u8, r, f, b, R...), then the opening quote run. */
	size_t i = 0;
	while (i < len && i < 3 && isalnum((unsigned char)p[i])) {
		i++;
	}
	if (i < len && (p[i] == '"' || p[i] == '\'' || p[i] == '`' || p[i] == '/')) {
		char q = p[i];
		size_t qn = 1;
		if (q != '/' && i + 2 < len && p[i + 1] == q && p[i + 2] == q) {
			qn = 3;
		}
		size_t b = i + qn;
		size_t e = len;
		if (k->flags & TOKF_UNTERMINATED) {
			*s = p + b;
			*n = len > b ? len - b : 0;
			return;
		}
		if (q == '/') {
			/* A regex literal: up to the last '/', flags after it are dropped. */
			while (e > b && p[e - 1] != '/') {
				e--;
			}
			e = e > b ? e - 1 : b;
		} else {
			e = len >= qn ? len - qn : 0;
		}
		if (i > 0 && (p[i - 1] == 'R') && q == '"' && lx == LEXER_C) {
			/* C++ raw string R"delim( ... )delim" */
			const char *open = memchr(p + b, '(', len - b);
			const char *close = NULL;
			for (size_t j = len; j > b; j--) {
				if (p[j - 1] == ')') {
					close = p + j - 1;
					break;
				}
			}
			if (open && close && close > open) {
				*s = open + 1;
				*n = (size_t)(close - open - 1);
				return;
			}
		}
		if (e < b) {
			e = b;
		}
		*s = p + b;
		*n = e - b;
	}
}

bool tok_is_constant(const struct tokens *t, const struct token *k)
{
	enum lexer lx = lang_lexer(t->lang);
	switch (k->kind) {
	case TOK_NUMBER:
		return true;
	case TOK_STRING:
		return !(k->flags & (TOKF_INTERP | TOKF_EXPANSION));
	case TOK_IDENT:
		/* Plain words are text in the shell, Dockerfiles and YAML. */
		return lx == LEXER_SHELL || lx == LEXER_DOCKERFILE || lx == LEXER_YAML;
	default:
		return false;
	}
}
