/*
 * test-ydoc.c - the YAML document loader: positions, typed scalars, duplicate keys, merge
 * keys, the alias-bomb and depth caps, refused constructs, and the yaml-test-suite corpus.
 */
#include <criterion/criterion.h>

#include "arena.h"
#include "diag.h"
#include "util.h"
#include "ydoc.h"

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static const struct ydoc_limits lim = { .max_depth = 64, .max_nodes = 100000 };

struct parsed {
	struct arena *a;
	struct diag_list dl;
	struct ynode *root;
	int r;
};

static struct parsed parse(const char *text)
{
	struct parsed p;
	p.a = arena_new(64u << 20);
	diag_list_init(&p.dl, 20);
	p.r = ydoc_parse(p.a, "t.yml", text, strlen(text), &lim, &p.root, &p.dl);
	return p;
}

static void release(struct parsed *p)
{
	diag_list_release(&p->dl);
	arena_free(p->a);
}

static void expect_error(const char *text, unsigned line, unsigned col, const char *msg_part)
{
	struct parsed p = parse(text);
	cr_assert_lt(p.r, 0, "accepted: %s", text);
	cr_assert_geq(p.dl.n, 1);
	cr_assert_not_null(strstr(p.dl.v[0].msg, msg_part), "message '%s' lacks '%s'",
			   p.dl.v[0].msg, msg_part);
	cr_assert_eq(p.dl.v[0].line, line, "line %u, expected %u (%s)", p.dl.v[0].line, line,
		     p.dl.v[0].msg);
	cr_assert_eq(p.dl.v[0].col, col, "col %u, expected %u (%s)", p.dl.v[0].col, col,
		     p.dl.v[0].msg);
	release(&p);
}

Test(ydoc, positions_of_keys_and_values)
{
	struct parsed p = parse("a: 1\nb:\n  c: [x, 'y']\n");
	cr_assert_eq(p.r, 0);
	const struct ypair *b = ynode_pair(p.root, "b");
	cr_assert_eq(b->key->line, 2);
	cr_assert_eq(b->key->col, 1);
	const struct ynode *c = ynode_get(b->value, "c");
	cr_assert_eq(c->kind, YNODE_SEQ);
	cr_assert_eq(c->line, 3);
	cr_assert_eq(c->col, 6);
	cr_assert_eq(c->seq.v[1]->col, 10);
	cr_assert(c->seq.v[1]->is_str);
	release(&p);
}

Test(ydoc, core_schema_scalars)
{
	struct parsed p =
		parse("t: true\nf: False\nn: ~\ne:\ni: -42\nh: 0x1F\ns: 'true'\nno: no\n");
	cr_assert_eq(p.r, 0);
	bool b;
	int64_t i;
	cr_assert_eq(ynode_bool(ynode_get(p.root, "t"), &b), 0);
	cr_assert(b);
	cr_assert_eq(ynode_bool(ynode_get(p.root, "f"), &b), 0);
	cr_assert_not(b);
	cr_assert(ynode_is_null(ynode_get(p.root, "n")));
	cr_assert(ynode_is_null(ynode_get(p.root, "e")));
	cr_assert_eq(ynode_int(ynode_get(p.root, "i"), &i), 0);
	cr_assert_eq(i, -42);
	cr_assert_eq(ynode_int(ynode_get(p.root, "h"), &i), 0);
	cr_assert_eq(i, 31);
	/* Quoted text is a string; YAML 1.1 "no" is a string too. */
	cr_assert_neq(ynode_bool(ynode_get(p.root, "s"), &b), 0);
	cr_assert_neq(ynode_bool(ynode_get(p.root, "no"), &b), 0);
	cr_assert_str_eq(ynode_type_name(ynode_get(p.root, "no")), "a string");
	cr_assert_str_eq(ynode_type_name(ynode_get(p.root, "i")), "a number");
	release(&p);
}

Test(ydoc, integer_overflow_is_an_error_not_a_wrap)
{
	struct parsed p = parse("i: 99999999999999999999\n");
	int64_t i;
	cr_assert_eq(p.r, 0);
	cr_assert_eq(ynode_int(ynode_get(p.root, "i"), &i), -ERANGE);
	release(&p);
}

Test(ydoc, duplicate_keys)
{
	expect_error("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first defined at line 1)");
	/* Also in a large mapping (the hashed path). */
	char buf[4096];
	size_t n = 0;
	for (int i = 0; i < 40; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "k%d: %d\n", i, i);
	}
	snprintf(buf + n, sizeof(buf) - n, "k7: again\n");
	expect_error(buf, 41, 1, "duplicate key 'k7'");
}

/* With unquoted_keys (secrets files, the server configuration, where a key may be a secret
 * written in the wrong place), a duplicate key is named by its position only, in a small
 * mapping and in a large (hashed) one. */
Test(ydoc, unquoted_keys_are_never_in_duplicate_key_errors)
{
	static const struct ydoc_limits quiet = { .max_depth = 8,
						  .max_nodes = 1000,
						  .unquoted_keys = true };
	char big[4096];
	size_t n = 0;
	for (int i = 0; i < 40; i++) {
		n += (size_t)snprintf(big + n, sizeof(big) - n, "k%d: %d\n", i, i);
	}
	snprintf(big + n, sizeof(big) - n, "sk-live-4f9a8b7c6d5e: X\nsk-live-4f9a8b7c6d5e: Y\n");
	const struct {
		const char *text;
		unsigned line, col;
		const char *first;
	} cases[] = {
		{ "A: 1\nsk-live-4f9a8b7c6d5e: DEPLOY_KEY\nsk-live-4f9a8b7c6d5e: OTHER\n", 3, 1,
		  "first defined at line 2, column 1" },
		{ "r:\n  secrets: { sk-live-4f9a8b7c6d5e: A, sk-live-4f9a8b7c6d5e: B }\n", 2, 39,
		  "first defined at line 2, column 14" },
		{ big, 42, 1, "first defined at line 41, column 1" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct arena *a = arena_new(1u << 20);
		struct diag_list dl;
		struct ynode *root;
		diag_list_init(&dl, 20);
		cr_assert_lt(ydoc_parse(a, "s.yml", cases[i].text, strlen(cases[i].text), &quiet,
					&root, &dl),
			     0);
		cr_assert_eq(dl.n, 1);
		cr_expect(strstr(dl.v[0].msg, "duplicate key (") &&
				  strstr(dl.v[0].msg, cases[i].first),
			  "%s", dl.v[0].msg);
		cr_expect_null(strstr(dl.v[0].msg, "sk-live"), "%s", dl.v[0].msg);
		cr_expect_null(strstr(dl.v[0].msg, "'"), "%s", dl.v[0].msg);
		cr_expect_eq(dl.v[0].line, cases[i].line, "%s", dl.v[0].msg);
		cr_expect_eq(dl.v[0].col, cases[i].col, "%s", dl.v[0].msg);
		diag_list_release(&dl);
		arena_free(a);
	}
}

Test(ydoc, merge_keys_explicit_wins)
{
	struct parsed p = parse("base: &b { x: 1, y: 2 }\n"
				"other: &o { z: 3, x: 9 }\n"
				"m:\n  <<: [*b, *o]\n  y: 20\n");
	cr_assert_eq(p.r, 0, "%s", p.dl.n ? p.dl.v[0].msg : "");
	const struct ynode *m = ynode_get(p.root, "m");
	cr_assert_eq(m->map.n, 3);
	cr_assert_str_eq(ynode_str(ynode_get(m, "x")), "1");  /* first source wins */
	cr_assert_str_eq(ynode_str(ynode_get(m, "y")), "20"); /* explicit wins */
	cr_assert_str_eq(ynode_str(ynode_get(m, "z")), "3");
	cr_assert_null(ynode_get(m, "<<"));
	release(&p);
}

Test(ydoc, merge_key_needs_mappings)
{
	expect_error("a: &a [1]\nb:\n  <<: *a\n", 3, 3, "merge key");
}

/* One merge key per mapping (YAML's merge type takes a list for several): a second one was
 * accepted and merged. A quoted or !!str `<<` is an ordinary key; !!merge is the merge key. */
Test(ydoc, merge_key_once_per_mapping)
{
	expect_error("a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  z: 3\n  <<: *b\n", 6, 3,
		     "a second merge key");
	struct parsed p = parse("a: &a {x: 1}\n"
				"b: {\"<<\": 1, z: 2}\n"
				"c: {!!str <<: 1}\n"
				"d: {!!merge <<: *a}\n");
	cr_assert_eq(p.r, 0, "%s", p.dl.n ? p.dl.v[0].msg : "");
	cr_assert_str_eq(ynode_str(ynode_get(ynode_get(p.root, "b"), "<<")), "1");
	cr_assert_str_eq(ynode_str(ynode_get(ynode_get(p.root, "c"), "<<")), "1");
	const struct ynode *d = ynode_get(p.root, "d");
	cr_assert_str_eq(ynode_str(ynode_get(d, "x")), "1");
	cr_assert_null(ynode_get(d, "<<"));
	release(&p);
}

/* A core-schema tag must fit its node: `!!int main` was read as the string "main", and
 * `!!seq` on a mapping was ignored. A value that fits is of the tag's type, quoted or not.
 * The value is not quoted in the message. */
Test(ydoc, core_tags_must_fit_their_node)
{
	expect_error("a: !!int main\n", 1, 4, "the tag !!int does not fit this value");
	expect_error("a: !!bool yes\n", 1, 4, "!!bool does not fit");
	expect_error("a: !!null 0\n", 1, 4, "!!null does not fit");
	expect_error("a: !!float x1\n", 1, 4, "!!float does not fit");
	expect_error("a: !!seq x\n", 1, 4, "!!seq does not fit a scalar");
	expect_error("a: !!map [1]\n", 1, 4, "!!map does not fit a sequence");
	expect_error("a: !!seq {b: 1}\n", 1, 4, "!!seq does not fit a mapping");
	expect_error("a: !!str [1]\n", 1, 4, "!!str does not fit a sequence");
	expect_error("a: !!int |\n  5\n", 1, 4, "!!int does not fit");
	expect_error("!!merge x: 1\n", 1, 1, "!!merge does not fit");
	struct parsed p =
		parse("a: !!int \"5\"\nb: !!str 5\nc: !!null ''\nd: !!float 1\n"
		      "e: !!bool 'true'\nf: !!float -.5e3\ng: !!map {x: 1}\nh: !!seq [1]\n"
		      "i: ! 7\n");
	cr_assert_eq(p.r, 0, "%s", p.dl.n ? p.dl.v[0].msg : "");
	int64_t v;
	cr_assert_eq(ynode_int(ynode_get(p.root, "a"), &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_str_eq(ynode_type_name(ynode_get(p.root, "b")), "a string");
	cr_assert(ynode_is_null(ynode_get(p.root, "c")));
	cr_assert_str_eq(ynode_type_name(ynode_get(p.root, "d")), "a number");
	bool b;
	cr_assert_eq(ynode_bool(ynode_get(p.root, "e"), &b), 0);
	cr_assert(b);
	cr_assert_str_eq(ynode_type_name(ynode_get(p.root, "f")), "a number");
	cr_assert_str_eq(ynode_type_name(ynode_get(p.root, "i")), "a string");
	release(&p);
}

Test(ydoc, billion_laughs_is_refused_fast_with_little_memory)
{
	const char *bomb =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	struct parsed p = parse(bomb);
	cr_assert_lt(p.r, 0);
	cr_assert_not_null(strstr(p.dl.v[0].msg, "aliases expanded"), "%s", p.dl.v[0].msg);
	cr_assert_not_null(strstr(p.dl.v[0].hint, "alias bomb"));
	/* The tree is never expanded: the arena holds a few kilobytes, not gigabytes. */
	cr_assert_lt(arena_used(p.a), 64 * 1024);
	release(&p);
}

Test(ydoc, recursive_and_unknown_aliases)
{
	expect_error("a: &x [1, *x]\n", 1, 11, "unknown or recursive alias");
	expect_error("a: *nope\n", 1, 4, "unknown or recursive alias");
}

/* An unquoted value starting with '!' or '*' is a tag or an alias: in a configuration or a
 * secrets file that value is often a secret. Errors say what and where, never the text. */
Test(ydoc, tags_and_aliases_are_not_quoted_in_errors)
{
	static const struct {
		const char *text;
		unsigned line, col;
		const char *what;
	} cases[] = {
		{ "secret: !Zq8yT3kP9wLmN2vB5xR7\n", 1, 9, "unsupported YAML tag" },
		{ "a: 1\nsecret: !!Zq8yT3kP9wLmN2vB5xR7\n", 2, 9, "unsupported YAML tag" },
		{ "secret: !Zq8yT3kP9wLmN2vB5xR7 tail\n", 1, 9, "unsupported YAML tag" },
		{ "k: [!Zq8yT3kP9wLmN2vB5xR7 x]\n", 1, 5, "unsupported YAML tag" },
		{ "secret: *Zq8yT3kP9wLmN2vB5xR7\n", 1, 9, "unknown or recursive alias" },
		{ "a: &Zq8yT3kP9wLmN2vB5xR7 [*Zq8yT3kP9wLmN2vB5xR7]\n", 1, 27,
		  "unknown or recursive alias" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p = parse(cases[i].text);
		cr_assert_lt(p.r, 0, "accepted: %s", cases[i].text);
		cr_assert_eq(p.dl.n, 1);
		const struct diag *d = &p.dl.v[0];
		cr_assert_not_null(strstr(d->msg, cases[i].what), "%s", d->msg);
		cr_assert_null(strstr(d->msg, "Zq8y"), "the text is quoted: %s", d->msg);
		cr_assert_null(strstr(d->hint, "Zq8y"), "the text is quoted: %s", d->hint);
		cr_assert_not_null(strstr(d->hint, "quote the value"), "%s", d->hint);
		cr_assert_str_eq(d->file, "t.yml");
		cr_assert_eq(d->line, cases[i].line, "%s: line %u", cases[i].text, d->line);
		cr_assert_eq(d->col, cases[i].col, "%s: col %u", cases[i].text, d->col);
		release(&p);
	}
}

Test(ydoc, nesting_depth_cap_also_through_aliases)
{
	char deep[512];
	size_t n = 0;
	for (int i = 0; i < 70; i++) {
		deep[n++] = '[';
	}
	for (int i = 0; i < 70; i++) {
		deep[n++] = ']';
	}
	deep[n] = '\0';
	expect_error(deep, 1, 65, "nesting deeper than 64");
	/* 40 levels aliased under 40 levels: each part is fine, together too deep. */
	char buf[1024];
	n = (size_t)snprintf(buf, sizeof(buf), "a: &a ");
	for (int i = 0; i < 40; i++) {
		buf[n++] = '[';
	}
	for (int i = 0; i < 40; i++) {
		buf[n++] = ']';
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\nb: ");
	for (int i = 0; i < 40; i++) {
		buf[n++] = '[';
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "*a");
	for (int i = 0; i < 40; i++) {
		buf[n++] = ']';
	}
	buf[n] = '\0';
	struct parsed p = parse(buf);
	cr_assert_lt(p.r, 0);
	cr_assert_not_null(strstr(p.dl.v[0].msg, "nesting deeper"));
	release(&p);
}

Test(ydoc, refused_constructs)
{
	expect_error("? [a]\n: b\n", 1, 3, "mapping keys must be scalars");
	expect_error("a: !custom x\n", 1, 4, "unsupported YAML tag");
	expect_error("a: 1\n---\nb: 2\n", 2, 1, "expected a single YAML document");
	expect_error("a: \"x\\0y\"\n", 1, 4, "NUL character");
}

Test(ydoc, syntax_errors_have_positions)
{
	expect_error("a: [1, 2\nb: 3\n", 2, 2, "YAML syntax error");
	expect_error("a:\n  - b\n c: d\n", 3, 2, "YAML syntax error");
}

/* The two syntax errors a pipeline's author meets first get a hint on what to write. */
static void expect_hint(const char *text, const char *hint)
{
	struct parsed p = parse(text);
	cr_assert_lt(p.r, 0, "accepted: %s", text);
	cr_assert_geq(p.dl.n, 1);
	cr_assert_not_null(p.dl.v[0].hint, "'%s' has no hint", p.dl.v[0].msg);
	cr_assert_str_eq(p.dl.v[0].hint, hint);
	release(&p);
}

Test(ydoc, common_syntax_errors_have_hints)
{
	/* A tab in the indentation, as an editor may insert. */
	expect_hint("stages:\n  build:\n\trun: make\n",
		    "YAML indents with spaces, not tabs: replace the tab on this line");
	expect_hint("stages:\n  build:\n  \t run: make\n",
		    "YAML indents with spaces, not tabs: replace the tab on this line");
	/* ": " inside a plain value, as in a command. */
	expect_hint("stages:\n  a:\n    run: echo a: b\n",
		    "a plain value cannot hold `: `: put the value in quotes, or write it as a "
		    "block (`key: |`, then the text on the next lines, indented)");
}

Test(ydoc, invalid_utf8_is_refused)
{
	struct parsed p = parse("a: \xff\xfe\n");
	cr_assert_lt(p.r, 0);
	cr_assert_not_null(strstr(p.dl.v[0].msg, "invalid text"), "%s", p.dl.v[0].msg);
	release(&p);
}

Test(ydoc, empty_documents)
{
	struct parsed p = parse("");
	cr_assert_eq(p.r, 0);
	cr_assert_null(p.root);
	release(&p);
	p = parse("# only a comment\n~\n");
	cr_assert_eq(p.r, 0);
	cr_assert_null(p.root);
	release(&p);
}

/*
 * libyaml accepts these cases that the YAML 1.2 suite marks invalid (comments without a
 * space, lenient indentation of flow and quoted scalars). The list is pinned so a change
 * in libyaml, or in our loader, shows up here; the pipeline loader still rejects them all.
 */
static const char *const libyaml_accepts[] = {
	"SU5Z", "9C9N", "9JBA", "MUS6-00", "DK95-01",  "S98Z",
	"CVW2", "G5U8", "QB6E", "X4QW",	   "Y79Y-003", "YJV2",
};

static bool known_lenient(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(libyaml_accepts); i++) {
		if (str_eq(id, libyaml_accepts[i])) {
			return true;
		}
	}
	return false;
}

Test(ydoc, yaml_test_suite_errors_are_clean_and_nothing_crashes, .timeout = 120)
{
	char *dir = tu_fixture("yaml-test-suite");
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "no fixtures at %s", dir);
	struct dirent *de;
	unsigned cases = 0, errors = 0, rejected = 0, lenient = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !tu_exists("%s/%s/in.yaml", dir, de->d_name)) {
			continue;
		}
		char *text = tu_readf("%s/%s/in.yaml", dir, de->d_name);
		bool is_error = tu_exists("%s/%s/error", dir, de->d_name);
		struct arena *a = arena_new(64u << 20);
		struct diag_list dl;
		diag_list_init(&dl, 10);
		struct ynode *root;
		int r = ydoc_parse(a, de->d_name, text, strlen(text), &lim, &root, &dl);
		cases++;
		if (r < 0) {
			/* A clean error: at least one message, with a position inside the text. */
			cr_assert_geq(dl.n, 1, "%s: error without a message", de->d_name);
			cr_assert(dl.v[0].msg[0], "%s: empty message", de->d_name);
			unsigned lines = 1;
			for (const char *c = text; *c; c++) {
				lines += *c == '\n';
			}
			cr_assert_leq(dl.v[0].line, lines + 1, "%s: line %u past the end",
				      de->d_name, dl.v[0].line);
		}
		if (is_error) {
			errors++;
			if (r < 0) {
				rejected++;
			} else {
				cr_assert(known_lenient(de->d_name),
					  "%s is invalid YAML and was accepted", de->d_name);
				lenient++;
			}
		}
		diag_list_release(&dl);
		arena_free(a);
		free(text);
	}
	closedir(d);
	free(dir);
	cr_assert_eq(cases, 402);
	cr_assert_eq(errors, 94);
	cr_assert_eq(lenient, ARRAY_SIZE(libyaml_accepts));
	cr_assert_eq(rejected, 94 - ARRAY_SIZE(libyaml_accepts));
}
