/*
 * test-docs.c - what README.md and the pages of docs/ show a user, checked with the runner:
 *
 *   - every fenced ```yaml block is classified and, if it is something the runner reads,
 *     given to it: a whole pipeline to `runner validate` (exit 0), a fragment of one to
 *     `runner validate` inside a minimal pipeline, a `runner serve` configuration to
 *     `runner serve --config FILE --check` (its absolute `*_file` and `data_dir` paths moved
 *     under a temporary directory, the files it names created there, mode 0600), a rules
 *     file (or rule entries) to `runner scan test --rules FILE` on no fixtures (the rules
 *     must load: exit 1, every rule id of the block listed);
 *   - every `runner COMMAND [SUBCOMMAND] --flag` on a line of a ```sh, ```console, ```bash
 *     or plain ``` block, in a `# runner ...` comment of a ```yaml block and in an inline
 *     code span of the prose names a command and a subcommand that `runner COMMAND --help`
 *     lists (`runner __NAME`, the internal commands, are not listed), and flags that the
 *     help of what it names lists: `runner COMMAND SUBCOMMAND --help` (each of them for
 *     `sast|secrets`), or, when it names no subcommand, that of one of them (a flag
 *     documented under the wrong subcommand, `db import --json`, is caught);
 *   - every exit code the docs state ("exit N", "exits N", "exit code N") is one of the
 *     codes that `runner COMMAND [SUBCOMMAND] --help` gives when the sentence (or the
 *     command line of a block) names `runner COMMAND [SUBCOMMAND]` before it ("It exits
 *     ..." takes the command of the sentence before), else one of README.md's table,
 *     unless the sentence is about another program whose codes it quotes
 *     (other_programs below); and each command's and subcommand's --help gives codes of
 *     that table.
 *
 * A ```yaml block is classified by its top-level keys: `stages` makes it a whole
 * pipeline, `listen` or `repositories` a server configuration, `rules` a rules file, and
 * only pipeline keys (version, name, env, defaults, gate) a fragment. Any other ```yaml
 * block needs a marker, an HTML comment on the line before the fence (blank lines may
 * come between; Markdown shows nothing of it), which also overrides the classification
 * (and gives any other block a check):
 *
 *   <!-- docs-test: pipeline -->                     a whole pipeline, valid
 *   <!-- docs-test: pipeline-error TEXT -->          a whole pipeline shown as an error:
 *                                                    exit 2, TEXT (if any) in stderr
 *   <!-- docs-test: fragment [NAME[=KIND]]... -->    part of a pipeline: `version: 1` is
 *        added if missing, and a `stages:` line above stage entries (indented lines);
 *        each NAME becomes a stage (`run: "true"`, or `uses: KIND`) for it to need
 *   <!-- docs-test: serve-config -->                 a `runner serve` configuration
 *   <!-- docs-test: rules -->                        a rules file
 *   <!-- docs-test: rule-entries -->                 `- id: ...` entries of a rules file
 *                                                    (loaded without the default packs)
 *   <!-- docs-test: skip (REASON) -->                not checked, and why
 *   <!-- docs-test: validate-stderr [LINE OLD NEW] --> (before any block) exactly what
 *        `runner validate` prints on stderr, exit 2, for the last pipeline above it in the
 *        same file, saved as .runner.yml, with OLD replaced by NEW on its line LINE
 *
 * Files are read under $RUNNER_SOURCE_ROOT. Every check runs the runner on small files
 * (validate, --check, scan test, --help): no stage runs, no network, a few seconds.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind {
	K_UNKNOWN,
	K_PIPELINE,
	K_PIPELINE_ERROR,
	K_FRAGMENT,
	K_SERVE,
	K_RULES,
	K_RULE_ENTRIES,
	K_SKIP,
	K_VALIDATE_STDERR,
	K_BAD_MARKER,
};

struct block {
	char *file;   /* relative to the source root: "README.md", "docs/pipeline.md" */
	int line;     /* the opening fence's line */
	char *lang;   /* the fence's info string: "yaml", "sh", "" */
	char *text;   /* the lines between the fences, each ending in '\n' */
	char *marker; /* the docs-test marker's text after "docs-test:", trimmed; or NULL */
	enum kind kind;
};

/* A paragraph of prose (outside fences), its lines joined with '\n'. */
struct para {
	char *file;
	int line; /* of its first line */
	char *text;
};

#define MAX_BLOCKS 512
#define MAX_PARAS  8192

static struct block blocks[MAX_BLOCKS];
static size_t n_blocks;
static struct para paras[MAX_PARAS];
static size_t n_paras;
static char *tmp;

/* Markers that precede no fence: a typo in the convention must not pass unseen. */
static char *stray_markers[64];
static size_t n_stray;

static char *xstrndup(const char *s, size_t n)
{
	char *r = strndup(s, n);
	cr_assert_not_null(r);
	return r;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	return s;
}

static bool blank_line(const char *s)
{
	return *skip_blanks(s) == '\0';
}

/* The text of a `<!-- docs-test: ... -->` line, trimmed (caller frees), or NULL. */
static char *marker_of(const char *line)
{
	const char *s = skip_blanks(line);
	static const char open[] = "<!-- docs-test:";
	if (strncmp(s, open, sizeof(open) - 1) != 0) {
		return NULL;
	}
	s = skip_blanks(s + sizeof(open) - 1);
	const char *end = strstr(s, "-->");
	if (!end) {
		return NULL;
	}
	while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
		end--;
	}
	return xstrndup(s, (size_t)(end - s));
}

static bool is_fence(const char *line)
{
	const char *s = line;
	int indent = 0;
	while (*s == ' ' && indent < 4) {
		s++;
		indent++;
	}
	return indent < 4 && strncmp(s, "```", 3) == 0;
}

static void add_para(const char *file, int line, char **text)
{
	if (!*text) {
		return;
	}
	cr_assert_lt(n_paras, MAX_PARAS);
	paras[n_paras++] = (struct para){ strdup(file), line, *text };
	*text = NULL;
}

/* A marker that no fence follows (*marker taken and cleared). */
static void stray(const char *rel, int line, char **marker)
{
	if (*marker) {
		cr_assert_lt(n_stray, 64);
		stray_markers[n_stray++] = tu_strf("%s:%d: %s", rel, line, *marker);
		free(*marker);
		*marker = NULL;
	}
}

/* Split one Markdown file into fenced blocks and paragraphs of prose. */
static void load_doc(const char *root, const char *rel)
{
	char *path = tu_strf("%s/%s", root, rel);
	char *all = tu_read(path);
	cr_assert_not_null(all, "cannot read %s", path);
	free(path);

	char *marker = NULL;
	int marker_line = 0;
	struct block *open_b = NULL;
	char *ptext = NULL; /* the paragraph being read */
	size_t plen = 0;
	int pline = 0;
	int ln = 0;
	/* strsep keeps empty lines, which end paragraphs. */
	for (char *rest = all, *line; (line = strsep(&rest, "\n")) != NULL;) {
		ln++;
		if (open_b) {
			if (is_fence(line)) {
				open_b = NULL;
				continue;
			}
			size_t have = strlen(open_b->text), add = strlen(line);
			open_b->text = realloc(open_b->text, have + add + 2);
			cr_assert_not_null(open_b->text);
			memcpy(open_b->text + have, line, add);
			open_b->text[have + add] = '\n';
			open_b->text[have + add + 1] = '\0';
			continue;
		}
		if (is_fence(line)) {
			add_para(rel, pline, &ptext);
			cr_assert_lt(n_blocks, MAX_BLOCKS);
			open_b = &blocks[n_blocks++];
			const char *info = skip_blanks(line) + 3;
			open_b->file = strdup(rel);
			open_b->line = ln;
			open_b->lang = xstrndup(info, strcspn(info, " \t{"));
			open_b->text = calloc(1, 1);
			open_b->marker = marker; /* taken */
			open_b->kind = K_UNKNOWN;
			marker = NULL;
			continue;
		}
		char *m = marker_of(line);
		if (m) {
			add_para(rel, pline, &ptext);
			stray(rel, marker_line, &marker);
			marker = m;
			marker_line = ln;
			continue;
		}
		if (blank_line(line)) {
			add_para(rel, pline, &ptext);
			continue;
		}
		stray(rel, marker_line, &marker); /* prose between a marker and a fence */
		if (!ptext) {
			ptext = strdup(line);
			plen = strlen(ptext);
			pline = ln;
		} else {
			size_t add = strlen(line);
			ptext = realloc(ptext, plen + add + 2);
			cr_assert_not_null(ptext);
			ptext[plen] = '\n';
			memcpy(ptext + plen + 1, line, add + 1);
			plen += add + 1;
		}
	}
	cr_assert_null(open_b, "%s: a fence is not closed", rel);
	add_para(rel, pline, &ptext);
	stray(rel, marker_line, &marker);
	free(all);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *source_root(void)
{
	const char *root = getenv("RUNNER_SOURCE_ROOT");
	cr_assert(root && *root, "RUNNER_SOURCE_ROOT is not set");
	return root;
}

/* README.md and docs/NAME.md, in name order. */
static void load_docs(void)
{
	const char *root = source_root();
	load_doc(root, "README.md");
	char *docs = tu_strf("%s/docs", root);
	DIR *d = opendir(docs);
	cr_assert_not_null(d, "cannot open %s", docs);
	char *names[64];
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		size_t l = strlen(e->d_name);
		if (l > 3 && strcmp(e->d_name + l - 3, ".md") == 0) {
			cr_assert_lt(n, 64);
			names[n++] = tu_strf("docs/%s", e->d_name);
		}
	}
	closedir(d);
	free(docs);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		load_doc(root, names[i]);
		free(names[i]);
	}
}

/* ---------- classification ---------- */

/* The marker's first word, in a static buffer; its arguments start at *args. */
static const char *marker_word(const char *marker, const char **args)
{
	static char word[32];
	size_t l = strcspn(marker, " \t");
	if (l >= sizeof(word)) {
		l = sizeof(word) - 1;
	}
	memcpy(word, marker, l);
	word[l] = '\0';
	if (args) {
		*args = skip_blanks(marker + l);
	}
	return word;
}

/* Whether the YAML text has the top-level key (a line `key:` at column 0). */
static bool top_key(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		if (strncmp(l, key, kl) == 0 && l[kl] == ':') {
			return true;
		}
		if (!strchr(l, '\n')) {
			break;
		}
	}
	return false;
}

/* Every top-level key of the text is one of keys (and there is one). */
static bool only_top_keys(const char *text, const char *const *keys)
{
	bool any = false;
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		if (ll > 0 && l[0] != ' ' && l[0] != '#' && l[0] != '\t') {
			size_t kl = strcspn(l, ":\n");
			bool ok = false;
			for (size_t i = 0; keys[i]; i++) {
				ok = ok || (strlen(keys[i]) == kl && strncmp(l, keys[i], kl) == 0);
			}
			if (!ok) {
				return false;
			}
			any = true;
		}
		if (!nl) {
			break;
		}
		l = nl + 1;
	}
	return any;
}

static enum kind kind_of_marker(const char *marker)
{
	static const struct {
		const char *word;
		enum kind kind;
	} words[] = {
		{ "pipeline", K_PIPELINE }, { "pipeline-error", K_PIPELINE_ERROR },
		{ "fragment", K_FRAGMENT }, { "serve-config", K_SERVE },
		{ "rules", K_RULES },	    { "rule-entries", K_RULE_ENTRIES },
		{ "skip", K_SKIP },	    { "validate-stderr", K_VALIDATE_STDERR },
	};
	const char *args;
	const char *w = marker_word(marker, &args);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(w, words[i].word) == 0) {
			/* A skip says why: `skip (the reason)`. */
			if (words[i].kind == K_SKIP && (args[0] != '(' || strlen(args) < 4)) {
				return K_BAD_MARKER;
			}
			return words[i].kind;
		}
	}
	return K_BAD_MARKER;
}

static void classify(void)
{
	static const char *const fragment_keys[] = { "version",	 "name", "env",
						     "defaults", "gate", NULL };
	for (size_t i = 0; i < n_blocks; i++) {
		struct block *b = &blocks[i];
		if (b->marker) {
			b->kind = kind_of_marker(b->marker);
		} else if (strcmp(b->lang, "yaml") != 0) {
			b->kind = K_SKIP; /* not YAML, and nothing asked */
		} else if (top_key(b->text, "stages")) {
			b->kind = K_PIPELINE;
		} else if (top_key(b->text, "listen") || top_key(b->text, "repositories")) {
			b->kind = K_SERVE;
		} else if (top_key(b->text, "rules")) {
			b->kind = K_RULES;
		} else if (only_top_keys(b->text, fragment_keys)) {
			b->kind = K_FRAGMENT;
		} else {
			b->kind = K_UNKNOWN;
		}
	}
}

static void setup(void)
{
	tmp = tu_tmpdir();
	load_docs();
	classify();
}

static void teardown(void)
{
	for (size_t i = 0; i < n_blocks; i++) {
		free(blocks[i].file);
		free(blocks[i].lang);
		free(blocks[i].text);
		free(blocks[i].marker);
	}
	for (size_t i = 0; i < n_paras; i++) {
		free(paras[i].file);
		free(paras[i].text);
	}
	for (size_t i = 0; i < n_stray; i++) {
		free(stray_markers[i]);
	}
	n_blocks = n_paras = n_stray = 0;
	tu_rmdir(tmp);
	free(tmp);
}

TestSuite(docs, .init = setup, .fini = teardown, .timeout = 120);

static size_t count_kind(enum kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		n += blocks[i].kind == k;
	}
	return n;
}

/*
 * Every ```yaml block is something the test knows, every marker is one of the convention
 * and stands before a fence; and the reading found what the docs hold (a reader that
 * finds nothing must not pass).
 */
Test(docs, every_yaml_block_is_classified)
{
	for (size_t i = 0; i < n_blocks; i++) {
		const struct block *b = &blocks[i];
		cr_expect(b->kind != K_UNKNOWN,
			  "%s:%d: a ```yaml block that is neither a pipeline (`stages:`), a "
			  "fragment of one, a server configuration nor a rules file: say what it "
			  "is with <!-- docs-test: KIND --> before it (tests/e2e/test-docs.c)",
			  b->file, b->line);
		cr_expect(b->kind != K_BAD_MARKER,
			  "%s:%d: unknown docs-test marker '%s' (skip needs a reason in "
			  "parentheses; the words are in tests/e2e/test-docs.c)",
			  b->file, b->line, b->marker);
	}
	for (size_t i = 0; i < n_stray; i++) {
		cr_expect(false, "%s: a docs-test marker that no fence follows", stray_markers[i]);
	}
	cr_expect_geq(n_blocks, 40, "only %zu fenced blocks found", n_blocks);
	cr_expect_geq(count_kind(K_PIPELINE), 5, "pipelines found: %zu", count_kind(K_PIPELINE));
	cr_expect_geq(count_kind(K_FRAGMENT), 3, "fragments found: %zu", count_kind(K_FRAGMENT));
	cr_expect_geq(count_kind(K_SERVE), 1);
	cr_expect_geq(count_kind(K_RULES), 2);
	cr_expect_geq(count_kind(K_VALIDATE_STDERR), 1);
	cr_expect_geq(n_paras, 500, "only %zu paragraphs found", n_paras);
}

/* ---------- pipelines ---------- */

/* A fresh directory under tmp for one check. Caller frees. */
static char *workdir(const char *what, size_t i)
{
	char *d = tu_strf("%s/%s-%zu", tmp, what, i);
	cr_assert_eq(mkdir(d, 0700), 0, "mkdir %s", d);
	return d;
}

/* `runner validate` on text saved as DIR/.runner.yml. */
static struct tu_result validate_text(const char *what, size_t i, const char *text)
{
	char *d = workdir(what, i);
	tu_write(d, ".runner.yml", text);
	struct tu_result r = tu_runner_run(d, "validate", NULL);
	free(d);
	return r;
}

Test(docs, pipelines_validate)
{
	size_t checked = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct block *b = &blocks[i];
		if (b->kind != K_PIPELINE && b->kind != K_PIPELINE_ERROR) {
			continue;
		}
		struct tu_result r = validate_text("pipeline", i, b->text);
		if (b->kind == K_PIPELINE) {
			cr_expect_eq(r.status, 0,
				     "%s:%d: the pipeline does not validate (exit %d):\n%s%s\n%s",
				     b->file, b->line, r.status, r.out, r.err, b->text);
		} else {
			const char *want;
			marker_word(b->marker, &want);
			cr_expect_eq(r.status, 2, "%s:%d: an invalid pipeline, but exit %d:\n%s%s",
				     b->file, b->line, r.status, r.out, r.err);
			cr_expect(!*want || strstr(r.err, want),
				  "%s:%d: expected '%s' in what validate says:\n%s", b->file,
				  b->line, want, r.err);
		}
		tu_result_free(&r);
		checked++;
	}
	cr_expect_geq(checked, 5);
}

/*
 * The last pipeline above block `at` in its file, with OLD replaced by NEW on line LINE
 * when args say so. Caller frees; NULL when there is none (said).
 */
static char *edited_pipeline(size_t at, const char *args)
{
	const struct block *b = &blocks[at], *p = NULL;
	for (size_t j = at; j-- > 0 && strcmp(blocks[j].file, b->file) == 0;) {
		if (blocks[j].kind == K_PIPELINE || blocks[j].kind == K_PIPELINE_ERROR) {
			p = &blocks[j];
			break;
		}
	}
	if (!p) {
		cr_expect(false, "%s:%d: validate-stderr, but no pipeline above it", b->file,
			  b->line);
		return NULL;
	}
	char *text = strdup(p->text);
	if (!*args) {
		return text;
	}
	char old[128], new[128];
	int line;
	if (sscanf(args, "%d %127s %127s", &line, old, new) != 3 || line < 1) {
		cr_expect(false, "%s:%d: validate-stderr takes LINE OLD NEW, not '%s'", b->file,
			  b->line, args);
		free(text);
		return NULL;
	}
	char *l = text;
	for (int k = 1; k < line && l; k++) {
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	char *nl = l ? strchr(l, '\n') : NULL;
	char *hit = l ? strstr(l, old) : NULL;
	if (!hit || (nl && hit > nl)) {
		cr_expect(false, "%s:%d: no '%s' on line %d of the pipeline at %s:%d", b->file,
			  b->line, old, line, p->file, p->line);
		free(text);
		return NULL;
	}
	char *out = tu_strf("%.*s%s%s", (int)(hit - text), text, new, hit + strlen(old));
	free(text);
	return out;
}

/* An error shown in the docs is exactly what `runner validate` says. */
Test(docs, validate_output_is_what_validate_prints)
{
	size_t checked = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct block *b = &blocks[i];
		if (b->kind != K_VALIDATE_STDERR) {
			continue;
		}
		const char *args;
		marker_word(b->marker, &args);
		char *text = edited_pipeline(i, args);
		if (!text) {
			continue;
		}
		struct tu_result r = validate_text("stderr", i, text);
		cr_expect_eq(r.status, 2, "%s:%d: validate exits %d, not 2:\n%s%s", b->file,
			     b->line, r.status, r.out, r.err);
		cr_expect_str_eq(r.err, b->text,
				 "%s:%d: the docs show\n%s\nbut validate prints\n%s", b->file,
				 b->line, b->text, r.err);
		tu_result_free(&r);
		free(text);
		checked++;
	}
	cr_expect_geq(checked, 1);
}

/* The fragment in a minimal pipeline, as the marker's NAME[=KIND] words ask. Caller frees. */
static char *wrap_fragment(const struct block *b)
{
	const char *args = "";
	if (b->marker) {
		marker_word(b->marker, &args);
	}
	/* The stages the fragment needs, one line each. */
	char *stubs = strdup("");
	char *words = strdup(args);
	char *save = NULL;
	for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(w, '=');
		char *line = eq ? tu_strf("  %.*s: { uses: %s }\n", (int)(eq - w), w, eq + 1)
				: tu_strf("  %s: { run: \"true\" }\n", w);
		char *s = tu_strf("%s%s", stubs, line);
		free(stubs);
		free(line);
		stubs = s;
	}
	free(words);

	const char *first = b->text;
	while (*first == '\n' || *first == '#') { /* the first line of content */
		first = strchr(first, '\n');
		first = first ? first + 1 : "";
	}
	const char *version = top_key(b->text, "version") ? "" : "version: 1\n";
	char *out;
	if (*first == ' ') { /* stage entries */
		out = tu_strf("%sstages:\n%s%s", version, stubs, b->text);
	} else if (top_key(b->text, "stages")) { /* the stubs go right after `stages:` */
		const char *at = b->text;
		while (strncmp(at, "stages:", 7) != 0) {
			at = strchr(at, '\n') + 1;
		}
		const char *after = strchr(at, '\n');
		after = after ? after + 1 : at + strlen(at);
		out = tu_strf("%s%.*s%s%s", version, (int)(after - b->text), b->text, stubs, after);
	} else {
		out = tu_strf("%s%sstages:\n%s", version, b->text,
			      *stubs ? stubs : "  docs-test: { run: \"true\" }\n");
	}
	free(stubs);
	return out;
}

Test(docs, fragments_validate_in_a_minimal_pipeline)
{
	size_t checked = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct block *b = &blocks[i];
		if (b->kind != K_FRAGMENT) {
			continue;
		}
		char *text = wrap_fragment(b);
		struct tu_result r = validate_text("fragment", i, text);
		cr_expect_eq(r.status, 0,
			     "%s:%d: the fragment does not validate (exit %d):\n%s%s\nas:\n%s",
			     b->file, b->line, r.status, r.out, r.err, text);
		tu_result_free(&r);
		free(text);
		checked++;
	}
	cr_expect_geq(checked, 3);
}

/* ---------- server configurations ---------- */

/* What a file the configuration names holds: a stand-in of the right shape. */
static const char *file_content(const char *key)
{
	if (strcmp(key, "secrets_file") == 0) {
		return "docs_test: \"a-value-for-the-docs-test\"\n";
	}
	if (strcmp(key, "url_file") == 0) {
		return "https://hooks.example.com/services/docs-test\n";
	}
	return "docs-test-0123456789abcdef0123456789\n"; /* a token, secret or passphrase */
}

/*
 * The configuration with every absolute path of a `*_file` key or `data_dir` moved under
 * root, and the files those keys name created there (mode 0600). Caller frees.
 */
static char *relocate_config(const char *text, const char *root)
{
	char *out = strdup("");
	const char *l = text;
	while (*l) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l + 1) : strlen(l);
		char *line = xstrndup(l, ll);
		l += ll;
		const char *k = skip_blanks(line);
		if (k[0] == '-' && k[1] == ' ') {
			k = skip_blanks(k + 2);
		}
		size_t kl = strcspn(k, ": \t\n#");
		const char *colon = k + kl;
		bool is_file = kl > 5 && strncmp(k + kl - 5, "_file", 5) == 0;
		bool is_dir = kl == 8 && strncmp(k, "data_dir", 8) == 0;
		if (*k != '#' && *colon == ':' && (is_file || is_dir)) {
			const char *v = skip_blanks(colon + 1);
			if (*v == '/') {
				size_t vl = strcspn(v, " \t\n#");
				char *key = xstrndup(k, kl), *path = xstrndup(v, vl);
				if (is_file) {
					char *abs = tu_strf("%s%s", root, path);
					tu_write(root, path + 1, file_content(key));
					cr_assert_eq(chmod(abs, 0600), 0, "chmod %s", abs);
					free(abs);
				}
				char *moved = tu_strf("%.*s%s%s", (int)(v - line), line, root, v);
				free(line);
				line = moved;
				free(key);
				free(path);
			}
		}
		char *s = tu_strf("%s%s", out, line);
		free(out);
		free(line);
		out = s;
	}
	return out;
}

Test(docs, serve_configurations_check)
{
	size_t checked = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct block *b = &blocks[i];
		if (b->kind != K_SERVE) {
			continue;
		}
		char *root = workdir("serve", i);
		char *text = relocate_config(b->text, root);
		tu_write(root, "server.yml", text);
		char *cfg = tu_strf("%s/server.yml", root);
		/* It may hold secrets inline, so it is held to their rule. */
		cr_assert_eq(chmod(cfg, 0600), 0);
		struct tu_result r = tu_runner_run(root, "serve", "--config", cfg, "--check", NULL);
		cr_expect_eq(r.status, 0,
			     "%s:%d: `runner serve --check` refuses the configuration (exit %d) "
			     "(line numbers count from the line after the fence):\n%s%s",
			     b->file, b->line, r.status, r.out, r.err);
		tu_result_free(&r);
		free(cfg);
		free(text);
		free(root);
		checked++;
	}
	cr_expect_geq(checked, 1);
}

/* ---------- rules ---------- */

Test(docs, rules_files_load)
{
	size_t checked = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct block *b = &blocks[i];
		if (b->kind != K_RULES && b->kind != K_RULE_ENTRIES) {
			continue;
		}
		char *d = workdir("rules", i);
		char *fixtures = tu_strf("%s/no-fixtures", d);
		cr_assert_eq(mkdir(fixtures, 0700), 0);
		char *text = b->kind == K_RULES ? strdup(b->text) : tu_strf("rules:\n%s", b->text);
		tu_write(d, "rules.yml", text);
		bool secrets =
			strstr(text, "\nkind: secrets") || !strncmp(text, "kind: secrets", 13);
		const char *argv[12];
		size_t n = 0;
		argv[n++] = tu_runner();
		argv[n++] = "scan";
		argv[n++] = "test";
		argv[n++] = "--format=json";
		argv[n++] = "--rules=rules.yml";
		if (secrets) {
			argv[n++] = "--secrets";
		}
		/* Entries may show a default rule: its id would be taken. */
		if (b->kind == K_RULE_ENTRIES) {
			argv[n++] = "--no-default-rules";
		}
		argv[n++] = "no-fixtures";
		argv[n] = NULL;
		struct tu_result r = tu_run(d, argv, NULL, 120);
		/* 1: the rules loaded, and have no fixtures; 4 would be rules that do not. */
		cr_expect_eq(r.status, 1, "%s:%d: the rules do not load (exit %d):\n%s", b->file,
			     b->line, r.status, r.err);
		json_t *j = json_loads(r.out, 0, NULL);
		json_t *rules = json_object_get(j, "rules");
		for (const char *l = text; (l = strstr(l, "- id: ")) != NULL;) {
			l += 6;
			size_t il = strcspn(l, " \t\n#");
			bool found = false;
			size_t k;
			json_t *rule;
			json_array_foreach(rules, k, rule)
			{
				const char *id = json_string_value(json_object_get(rule, "id"));
				found = found || (id && strlen(id) == il && !strncmp(id, l, il));
			}
			cr_expect(found, "%s:%d: rule '%.*s' was not loaded:\n%s", b->file, b->line,
				  (int)il, l, r.err);
		}
		json_decref(j);
		tu_result_free(&r);
		free(text);
		free(fixtures);
		free(d);
		checked++;
	}
	cr_expect_geq(checked, 3);
}

/* ---------- commands, flags and exit codes ---------- */

#define MAX_CMDS  64
#define MAX_FLAGS 96
#define MAX_SUBS  8
#define MAX_CODES 16

/* A command, or a subcommand (named "db import"), as its --help describes it. */
struct cmdinfo {
	char *name;
	char *flags[MAX_FLAGS];
	size_t n_flags;
	char *subs[MAX_SUBS];
	size_t n_subs;
	int codes[MAX_CODES]; /* what its --help says it exits with */
	size_t n_codes;
};

static struct cmdinfo cmds[MAX_CMDS];
static size_t n_cmds;
static struct cmdinfo global; /* `runner --help`: --version, --help */
static int table[MAX_CODES];  /* README.md's exit codes */
static size_t n_table;

static bool has_str(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

static bool has_code(const int *v, size_t n, int c)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == c) {
			return true;
		}
	}
	return false;
}

static void add_flag(struct cmdinfo *c, const char *f, size_t l)
{
	char *s = xstrndup(f, l);
	if (has_str(c->flags, c->n_flags, s)) {
		free(s);
		return;
	}
	cr_assert_lt(c->n_flags, MAX_FLAGS, "%s: too many flags", c->name);
	c->flags[c->n_flags++] = s;
}

static void add_code(int *v, size_t *n, int c)
{
	if (!has_code(v, *n, c)) {
		cr_assert_lt(*n, MAX_CODES);
		v[(*n)++] = c;
	}
}

/*
 * What a help text names: its flags (`-x`, `--name`, `--[no-]name` as both), its
 * subcommands (the words after `runner NAME` in it: `sast|secrets`), and its exit codes
 * (the numbers that open the clauses after "exit codes:", to the end of the paragraph).
 */
static void read_help(struct cmdinfo *c, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p != '-' || (p > help && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))) {
			continue;
		}
		if (p[1] == '-') {
			const char *n = p + 2;
			bool no = strncmp(n, "[no-]", 5) == 0;
			if (no) {
				n += 5;
			}
			size_t l = 0;
			while (isalnum((unsigned char)n[l]) || n[l] == '-') {
				l++;
			}
			if (l > 0 && isalpha((unsigned char)n[0])) {
				char *f = tu_strf("--%.*s", (int)l, n);
				add_flag(c, f, strlen(f));
				free(f);
				if (no) {
					f = tu_strf("--no-%.*s", (int)l, n);
					add_flag(c, f, strlen(f));
					free(f);
				}
			}
		} else if (isalpha((unsigned char)p[1]) && !isalnum((unsigned char)p[2])) {
			add_flag(c, p, 2);
		}
	}
	if (c != &global) {
		char *pre = tu_strf("runner %s ", c->name);
		for (const char *p = help; (p = strstr(p, pre)) != NULL;) {
			p += strlen(pre);
			size_t l = strspn(p, "abcdefghijklmnopqrstuvwxyz|");
			if (l == 0 || !strchr(" \n", p[l])) {
				continue;
			}
			char *words = xstrndup(p, l), *save = NULL;
			for (char *w = strtok_r(words, "|", &save); w;
			     w = strtok_r(NULL, "|", &save)) {
				if (!has_str(c->subs, c->n_subs, w)) {
					cr_assert_lt(c->n_subs, MAX_SUBS);
					c->subs[c->n_subs++] = strdup(w);
				}
			}
			free(words);
		}
		free(pre);
	}
	for (const char *p = help; (p = strcasestr(p, "exit codes:")) != NULL;) {
		p += strlen("exit codes:");
		const char *end = strstr(p, "\n\n");
		if (!end) {
			end = p + strlen(p);
		}
		for (const char *q = p; q < end; q++) {
			bool starts = q == p || strchr(" \n/", q[-1]);
			if (!starts || !isdigit((unsigned char)*q)) {
				continue;
			}
			char *e;
			long v = strtol(q, &e, 10);
			if (e < end && strchr(" /,;.", *e)) {
				add_code(c->codes, &c->n_codes, (int)v);
			}
			q = e - 1;
		}
	}
}

/* `runner [CMD [SUB]] --help`. */
static char *help_of(const char *cmd, const char *sub)
{
	struct tu_result r = sub   ? tu_runner_run(NULL, cmd, sub, "--help", NULL)
			     : cmd ? tu_runner_run(NULL, cmd, "--help", NULL)
				   : tu_runner_run(NULL, "--help", NULL);
	cr_assert_eq(r.status, 0, "runner %s %s --help: exit %d\n%s", cmd ? cmd : "",
		     sub ? sub : "", r.status, r.err);
	free(r.err);
	return r.out;
}

/* README.md's table of exit codes: the rows after `| code | meaning |`. */
static void read_table(void)
{
	char *path = tu_strf("%s/README.md", source_root());
	char *readme = tu_read(path);
	cr_assert_not_null(readme);
	const char *p = strstr(readme, "| code | meaning |");
	cr_assert_not_null(p, "README.md has no table of exit codes");
	for (p = strchr(p, '\n') + 1; *p == '|'; p = strchr(p, '\n') + 1) {
		const char *cell = p + 1, *end = strchr(cell, '|');
		for (const char *q = cell; end && q < end; q++) {
			if (isdigit((unsigned char)*q)) {
				char *e;
				add_code(table, &n_table, (int)strtol(q, &e, 10));
				q = e - 1;
			}
		}
		if (!strchr(p, '\n')) {
			break;
		}
	}
	free(readme);
	free(path);
	cr_assert_geq(n_table, 5, "README.md's table of exit codes was not read");
}

static void load_commands(void)
{
	char *main_help = help_of(NULL, NULL);
	global.name = strdup("");
	const char *usage = main_help, *nl = strchr(main_help, '\n');
	char *first = xstrndup(usage, nl ? (size_t)(nl - usage) : strlen(usage));
	read_help(&global, first); /* the usage line: --version, --help */
	free(first);
	const char *p = strstr(main_help, "Commands:\n");
	cr_assert_not_null(p, "runner --help lists no commands:\n%s", main_help);
	for (p = strchr(p, '\n') + 1; strncmp(p, "  ", 2) == 0; p = strchr(p, '\n') + 1) {
		const char *w = skip_blanks(p);
		size_t l = strcspn(w, " \n");
		cr_assert_lt(n_cmds, MAX_CMDS);
		struct cmdinfo *c = &cmds[n_cmds++];
		c->name = xstrndup(w, l);
		char *help = help_of(c->name, NULL);
		read_help(c, help);
		free(help);
		/* Each subcommand's own help: "db import". */
		for (size_t k = 0; k < c->n_subs; k++) {
			cr_assert_lt(n_cmds, MAX_CMDS);
			struct cmdinfo *sc = &cmds[n_cmds++];
			sc->name = tu_strf("%s %s", c->name, c->subs[k]);
			help = help_of(c->name, c->subs[k]);
			read_help(sc, help);
			free(help);
		}
	}
	free(main_help);
	cr_assert_geq(n_cmds, 20, "runner --help: only %zu commands and subcommands read", n_cmds);
	read_table();
}

static void free_commands(void)
{
	for (size_t i = 0; i <= n_cmds; i++) {
		struct cmdinfo *c = i < n_cmds ? &cmds[i] : &global;
		for (size_t k = 0; k < c->n_flags; k++) {
			free(c->flags[k]);
		}
		for (size_t k = 0; k < c->n_subs; k++) {
			free(c->subs[k]);
		}
		free(c->name);
		memset(c, 0, sizeof(*c));
	}
	n_cmds = n_table = 0;
}

static struct cmdinfo *cmd_named(const char *name)
{
	for (size_t i = 0; i < n_cmds; i++) {
		if (strcmp(cmds[i].name, name) == 0) {
			return &cmds[i];
		}
	}
	return NULL;
}

/* "exit N", "exits N", "exit code N" at p (p at the "e"): N, or -1. *len: its length. */
static int exit_phrase(const char *start, const char *p, size_t *len)
{
	if (p > start && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) {
		return -1;
	}
	const char *q;
	if (!strncasecmp(p, "exits ", 6)) {
		q = p + 6;
	} else if (!strncasecmp(p, "exit code ", 10)) {
		q = p + 10;
	} else if (!strncasecmp(p, "exit ", 5)) {
		q = p + 5;
	} else {
		return -1;
	}
	if (!isdigit((unsigned char)*q)) {
		return -1;
	}
	char *e;
	long v = strtol(q, &e, 10);
	if (isalnum((unsigned char)*e)) {
		return -1;
	}
	*len = (size_t)(e - p);
	return (int)v;
}

/* Programs whose exit codes the docs quote for comparison: a sentence that names one
 * (and no runner command) may give codes the runner does not have. */
static const char *const other_programs[] = { "osv-scanner", NULL };

/* An exit code the docs state, for cmd (NULL: none named) in a sentence. */
static void check_code(const char *where, int code, const struct cmdinfo *cmd, const char *sentence)
{
	if (cmd && cmd->n_codes > 0) {
		cr_expect(has_code(cmd->codes, cmd->n_codes, code),
			  "%s: exit %d for `runner %s`, which `runner %s --help` does not give:\n"
			  "  %s",
			  where, code, cmd->name, cmd->name, sentence);
		return;
	}
	if (has_code(table, n_table, code)) {
		return;
	}
	if (!cmd) {
		for (size_t i = 0; other_programs[i]; i++) {
			if (strstr(sentence, other_programs[i])) {
				return;
			}
		}
	}
	cr_expect(false, "%s: exit %d is not an exit code of README.md's table:\n  %s", where, code,
		  sentence);
}

/* Whether c's help lists flag (or `runner --help` does: --help, --version). */
static bool takes(const struct cmdinfo *c, const char *flag)
{
	return has_str(c->flags, c->n_flags, flag) || has_str(global.flags, global.n_flags, flag);
}

/* The subcommand sub of c, as its own help describes it. */
static const struct cmdinfo *sub_named(const struct cmdinfo *c, const char *sub)
{
	char *name = tu_strf("%s %s", c->name, sub);
	const struct cmdinfo *sc = cmd_named(name);
	free(name);
	return sc;
}

/* Add a line to *problems (a list of what is wrong, NULL while nothing is). */
static void problem(char **problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(char **problems, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&line, fmt, ap), 0);
	va_end(ap);
	char *all = tu_strf("%s%s%s", *problems ? *problems : "", *problems ? "\n" : "", line);
	free(*problems);
	free(line);
	*problems = all;
}

/*
 * One `runner ...` the docs show (a command line or an inline code span): its command and
 * subcommand must exist, and each flag must be one the help of what it names lists: the
 * subcommand's (each one's, for `sast|secrets`), or, without a subcommand, the command's
 * or one of its subcommands'. Returns the command, or the subcommand when it names one
 * (NULL if none is named); *problems gets what is wrong (caller frees), or NULL.
 */
static const struct cmdinfo *mention_problems(const char *mention, char **problems)
{
	*problems = NULL;
	char *s = strdup(mention);
	for (char *q = s; *q; q++) {
		if (*q == '\n' || *q == '\t') {
			*q = ' ';
		}
	}
	char *save = NULL;
	char *tok = strtok_r(s, " ", &save); /* "runner" */
	tok = strtok_r(NULL, " ", &save);
	const struct cmdinfo *c = NULL;
	if (!tok || strncmp(tok, "__", 2) == 0) { /* internal: runner __worker, __job */
		free(s);
		return NULL;
	}
	if (tok[0] != '-') {
		c = cmd_named(tok);
		if (!c) {
			problem(problems, "`runner %s` is not a command of `runner --help`", tok);
			free(s);
			return NULL;
		}
		tok = strtok_r(NULL, " ", &save);
	}
	bool want_sub = c && c->n_subs > 0;
	const struct cmdinfo *named[MAX_SUBS]; /* the subcommands it names */
	size_t n_named = 0;
	const struct cmdinfo *ret = c;
	for (; tok; tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "--") == 0 || strcmp(tok, "&&") == 0 || strcmp(tok, "||") == 0 ||
		    strcmp(tok, ";") == 0 || tok[0] == '>' || (tok[0] == '<' && tok[1] == '(')) {
			break; /* operands follow, or another command */
		}
		if (strcmp(tok, "|") == 0) { /* `runner db import ... | db update ...` */
			char *next = strtok_r(NULL, " ", &save);
			if (!next || !c || strcmp(next, c->name) != 0) {
				break; /* a pipe into another program */
			}
			want_sub = c->n_subs > 0;
			n_named = 0;
			ret = c;
			continue;
		}
		if (want_sub) {
			want_sub = false;
			if (strspn(tok, "abcdefghijklmnopqrstuvwxyz|") == strlen(tok)) {
				char *save2 = NULL;
				for (char *w = strtok_r(tok, "|", &save2); w;
				     w = strtok_r(NULL, "|", &save2)) {
					const struct cmdinfo *sc = sub_named(c, w);
					if (!has_str(c->subs, c->n_subs, w) || !sc) {
						problem(problems,
							"`runner %s %s`: no such subcommand in "
							"`runner %s --help`",
							c->name, w, c->name);
					} else if (n_named < MAX_SUBS) {
						named[n_named++] = sc;
					}
				}
				ret = n_named == 1 ? named[0] : c;
				continue;
			}
		}
		/* A flag, as the docs write it: [--name VALUE]..., --name=VALUE, -j1. */
		char *f = tok + strspn(tok, "[(");
		if (f[0] != '-' || !isalpha((unsigned char)f[f[1] == '-' ? 2 : 1])) {
			continue;
		}
		size_t l = f[1] == '-' ? 2 + strspn(f + 2, "abcdefghijklmnopqrstuvwxyz0123456789-")
				       : 2;
		while (l > 2 && f[l - 1] == '-') {
			l--;
		}
		char *flag = xstrndup(f, l);
		if (n_named > 0) {
			for (size_t k = 0; k < n_named; k++) {
				if (!takes(named[k], flag)) {
					problem(problems,
						"`%s` is not an option of `runner %s --help`", flag,
						named[k]->name);
				}
			}
		} else if (c && c->n_subs > 0) {
			bool any = takes(c, flag);
			for (size_t k = 0; !any && k < c->n_subs; k++) {
				const struct cmdinfo *sc = sub_named(c, c->subs[k]);
				any = sc && takes(sc, flag);
			}
			if (!any) {
				problem(problems,
					"`%s` is an option of no `runner %s SUBCOMMAND --help`",
					flag, c->name);
			}
		} else if (!takes(c ? c : &global, flag)) {
			problem(problems, "`%s` is not an option of `runner %s --help`", flag,
				c ? c->name : "");
		}
		free(flag);
	}
	free(s);
	return ret;
}

/* A mention of the docs, at where: what mention_problems() finds wrong is a failure. */
static const struct cmdinfo *check_mention(const char *where, const char *mention)
{
	char *problems;
	const struct cmdinfo *c = mention_problems(mention, &problems);
	cr_expect_null(problems, "%s: %s\n  in: %s", where, problems, mention);
	free(problems);
	return c;
}

static bool shell_block(const struct block *b)
{
	return !strcmp(b->lang, "sh") || !strcmp(b->lang, "console") || !strcmp(b->lang, "bash") ||
	       !strcmp(b->lang, "shell") || !*b->lang;
}

/*
 * The command lines of a block: in a shell or plain block, lines that start with
 * `runner ` (or `$ runner `), with the lines that continue them (after a trailing `\`, or
 * indented and opening with `[` or `-`, as a usage synopsis goes on); in a YAML block, a
 * comment `# runner ...`. Calls fn(where, line) for each; the line keeps its comment or
 * description, which may state an exit code.
 */
static size_t block_commands(const struct block *b,
			     void (*fn)(const char *where, const char *line, void *ctx), void *ctx)
{
	size_t n = 0;
	char *text = strdup(b->text);
	char *lines[4096];
	size_t nl = 0;
	for (char *rest = text, *l; (l = strsep(&rest, "\n")) != NULL && nl < 4096;) {
		lines[nl++] = l;
	}
	for (size_t i = 0; i < nl && !shell_block(b); i++) {
		/* A comment of a YAML block: `# runner run --env NAME=VALUE`. */
		const char *c = strstr(lines[i], "# runner ");
		if (c) {
			char *where = tu_strf("%s:%d", b->file, b->line + 1 + (int)i);
			fn(where, c + 2, ctx);
			free(where);
			n++;
		}
	}
	for (size_t i = 0; i < nl && shell_block(b); i++) {
		const char *l = skip_blanks(lines[i]);
		if (!strncmp(l, "$ ", 2)) {
			l = skip_blanks(l + 2);
		}
		if (strncmp(l, "runner ", 7) != 0) {
			continue;
		}
		char *joined = strdup(l);
		size_t j = i;
		for (;;) {
			size_t jl = strlen(joined);
			bool slash = jl > 0 && joined[jl - 1] == '\\';
			const char *next = j + 1 < nl ? lines[j + 1] : NULL;
			bool cont = next && (next[0] == ' ' || next[0] == '\t') &&
				    strchr("[-", *skip_blanks(next));
			if (!next || !(slash || cont)) {
				break;
			}
			if (slash) {
				joined[jl - 1] = ' ';
			}
			char *s = tu_strf("%s %s", joined, skip_blanks(next));
			free(joined);
			joined = s;
			j++;
		}
		char *where = tu_strf("%s:%d", b->file, b->line + 1 + (int)i);
		fn(where, joined, ctx);
		free(where);
		free(joined);
		i = j;
		n++;
	}
	free(text);
	return n;
}

/* A command line of a block: the command; then its exit codes, in its comment too. */
static void check_command_line(const char *where, const char *line, void *ctx)
{
	(void)ctx;
	/* A shell comment is not part of the command (a plain block's description is). */
	char *cmd = strdup(line);
	char *hash = strstr(cmd, " #");
	if (hash) {
		*hash = '\0';
	}
	const struct cmdinfo *c = check_mention(where, cmd);
	free(cmd);
	for (const char *p = line; *p; p++) {
		size_t len;
		int code = exit_phrase(line, p, &len);
		if (code >= 0) {
			check_code(where, code, c, line);
			p += len - 1;
		}
	}
}

/* The length of the code span that opens at p (a run of n backticks), closing run
 * included; 0 if it does not close. *n: the run's length. */
static size_t code_span(const char *p, size_t *n)
{
	*n = strspn(p, "`");
	for (const char *q = p + *n; (q = strchr(q, '`')) != NULL;) {
		size_t m = strspn(q, "`");
		if (m == *n) {
			return (size_t)(q + m - p);
		}
		q += m;
	}
	return 0;
}

/* "file:line" of the character p of a paragraph. Caller frees. */
static char *para_where(const struct para *pa, const char *p)
{
	int line = pa->line;
	for (const char *q = pa->text; q < p; q++) {
		line += *q == '\n';
	}
	return tu_strf("%s:%d", pa->file, line);
}

/*
 * A paragraph, sentence by sentence: each inline `runner ...` span is checked as a
 * command, and each exit code stated is checked against the command the sentence named
 * last before it.
 */
static size_t check_paragraph(const struct para *pa)
{
	size_t mentions = 0;
	const char *t = pa->text, *sentence = t;
	const struct cmdinfo *last = NULL, *prev = NULL; /* this sentence's, the previous one's */
	bool it = false;
	for (const char *p = t; *p; p++) {
		if (p == sentence) {
			const char *s = p;
			while (*s == ' ' || *s == '\n') {
				s++;
			}
			it = strncmp(s, "It", 2) == 0 && (s[2] == ' ' || s[2] == '\n');
		}
		size_t n, len;
		int code;
		if (*p == '`' && (len = code_span(p, &n)) > 0) {
			const char *in = p + n;
			size_t il = len - 2 * n;
			while (il > 0 && *in == ' ') { /* `` `x` `` */
				in++;
				il--;
			}
			if (il > 7 && !strncmp(in, "runner ", 7)) {
				char *m = xstrndup(in, il), *where = para_where(pa, p);
				const struct cmdinfo *c = check_mention(where, m);
				last = c ? c : last;
				free(where);
				free(m);
				mentions++;
			}
			p += len - 1;
		} else if ((code = exit_phrase(t, p, &len)) >= 0) {
			const char *end = strstr(p, ". ");
			char *s = xstrndup(sentence,
					   (size_t)((end ? end : p + strlen(p)) - sentence));
			for (char *q = s; *q; q++) {
				*q = *q == '\n' ? ' ' : *q;
			}
			char *where = para_where(pa, p);
			check_code(where, code, last ? last : it ? prev : NULL, s);
			free(where);
			free(s);
			p += len - 1;
		} else if (*p == '.' && (p[1] == ' ' || p[1] == '\n')) {
			sentence = p + 1;
			prev = last;
			last = NULL;
		}
	}
	return mentions;
}

Test(docs, commands_flags_and_exit_codes_exist)
{
	load_commands();
	size_t lines = 0, spans = 0;
	for (size_t i = 0; i < n_blocks; i++) {
		if (shell_block(&blocks[i]) || !strcmp(blocks[i].lang, "yaml")) {
			lines += block_commands(&blocks[i], check_command_line, NULL);
		}
	}
	for (size_t i = 0; i < n_paras; i++) {
		spans += check_paragraph(&paras[i]);
	}
	cr_expect_geq(lines, 20, "only %zu command lines in the docs' blocks", lines);
	cr_expect_geq(spans, 100, "only %zu `runner ...` spans in the docs' prose", spans);
	free_commands();
}

/* Each command's --help gives codes of README.md's table, and the table what the
 * commands give. */
Test(docs, help_exit_codes_are_in_the_readme_table)
{
	load_commands();
	for (size_t i = 0; i < n_cmds; i++) {
		for (size_t k = 0; k < cmds[i].n_codes; k++) {
			cr_expect(has_code(table, n_table, cmds[i].codes[k]),
				  "`runner %s --help` gives exit %d, which README.md's table "
				  "does not",
				  cmds[i].name, cmds[i].codes[k]);
		}
	}
	cr_expect(cmd_named("run") && cmd_named("run")->n_codes >= 5,
		  "the exit codes of `runner run --help` were not read");
	free_commands();
}

/* The check of flags above, on mentions planted for it: a flag documented under the
 * wrong subcommand is caught, one under the right one passes. */
Test(docs, a_flag_is_checked_against_the_subcommand_named)
{
	load_commands();
	static const struct {
		const char *mention;
		bool ok;
	} cases[] = {
		{ "runner db import --json advisories/", false },
		{ "runner db import --url URL advisories/", false },
		{ "runner db status --json", true },
		{ "runner db update --url URL --timeout 5m", true },
		{ "runner db import PATH... | db update [--url URL]... | db status [--json]",
		  true },
		{ "runner db import PATH... | db status [--url URL]", false },
		{ "runner scan deps --allow-regex RE", false },
		{ "runner scan deps --maven-repository ~/.m2/repository .", true },
		{ "runner scan secrets --allow-regex RE", true },
		{ "runner scan sast|secrets --allow-regex RE", false },
		{ "runner scan sast|secrets [PATH...] [--format json] [--fail-on LEVEL]", true },
		{ "runner scan --maven-repository DIR", true },
		{ "runner scan --no-such-flag", false },
		{ "runner hook uninstall --max-commits 5", false },
		{ "runner hook install --max-commits 5", true },
		{ "runner image push --entrypoint x DIR REF", false },
		{ "runner sandbox check --json", true },
		{ "runner db export", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *problems;
		mention_problems(cases[i].mention, &problems);
		if (cases[i].ok) {
			cr_expect_null(problems, "%s: %s", cases[i].mention, problems);
		} else {
			cr_expect_not_null(problems, "%s: passes", cases[i].mention);
		}
		free(problems);
	}
	/* The command line names the subcommand whose exit codes a sentence checks. */
	char *problems;
	const struct cmdinfo *c = mention_problems("runner scan test --secrets x", &problems);
	cr_expect(c && strcmp(c->name, "scan test") == 0, "%s", c ? c->name : "(none)");
	cr_expect(c && has_code(c->codes, c->n_codes, 1), "scan test --help gives no exit 1");
	free(problems);
	c = mention_problems("runner scan deps .", &problems);
	cr_expect(c && !has_code(c->codes, c->n_codes, 1), "scan deps --help gives exit 1");
	free(problems);
	free_commands();
}
