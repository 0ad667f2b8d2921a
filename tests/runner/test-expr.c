/*
 * test-expr.c - `if:` conditions: parsing, errors with positions, evaluation, globs.
 */
#include <criterion/criterion.h>

#include "arena.h"
#include "expr.h"
#include "sbuf.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *env_lookup(void *ud, const char *name)
{
	(void)ud;
	if (str_eq(name, "DEPLOY")) {
		return "yes";
	}
	if (str_eq(name, "EMPTY")) {
		return "";
	}
	return NULL;
}

static bool eval(const char *src, const char *branch, const char *event)
{
	struct arena *a = arena_new(0);
	struct expr *e;
	struct expr_error err;
	int r = expr_parse(a, src, &e, &err);
	cr_assert_eq(r, 0, "'%s': %s", src, err.msg);
	struct expr_vars v = {
		.branch = branch,
		.tag = "",
		.event = event,
		.commit = "0123abc",
		.env = env_lookup,
	};
	bool res = expr_eval(e, &v);
	arena_free(a);
	return res;
}

static void parse_error(const char *src, size_t offset, const char *msg_part)
{
	struct arena *a = arena_new(0);
	struct expr *e;
	struct expr_error err;
	cr_assert_eq(expr_parse(a, src, &e, &err), -EINVAL, "'%s' parsed", src);
	cr_assert_not_null(strstr(err.msg, msg_part), "'%s': '%s' lacks '%s'", src, err.msg,
			   msg_part);
	cr_assert_eq(err.offset, offset, "'%s': offset %zu, expected %zu", src, err.offset, offset);
	arena_free(a);
}

Test(expr, comparisons_and_logic)
{
	cr_assert(eval("branch == \"main\"", "main", "push"));
	cr_assert_not(eval("branch == \"main\"", "dev", "push"));
	cr_assert(eval("branch == \"main\" && event != \"pull_request\"", "main", "push"));
	cr_assert_not(
		eval("branch == \"main\" && event != \"pull_request\"", "main", "pull_request"));
	cr_assert(eval("branch == 'dev' || event == 'push'", "main", "push"));
	cr_assert(eval("!(branch == 'dev')", "main", "push"));
	/* `!` applies to the whole comparison: !(branch == ''). */
	cr_assert(eval("!branch == ''", "main", "push"));
	cr_assert_not(eval("!branch == ''", "", "push"));
	cr_assert(eval("(branch == 'a' || branch == 'b') && !(event == 'x')", "b", "y"));
	cr_assert_not(eval("false", "main", "push"));
	cr_assert(eval("true", "main", "push"));
}

Test(expr, precedence_and_binds_tighter_than_or)
{
	/* a || b && c  ==  a || (b && c) */
	cr_assert(eval("branch == 'main' || branch == 'x' && event == 'never'", "main", "push"));
	cr_assert_not(
		eval("(branch == 'main' || branch == 'x') && event == 'never'", "main", "push"));
}

Test(expr, strings_alone_are_truthy_when_not_empty)
{
	cr_assert(eval("branch", "main", "push"));
	cr_assert_not(eval("branch", "", "push"));
	cr_assert(eval("env.DEPLOY", "", ""));
	cr_assert_not(eval("env.EMPTY", "", ""));
	cr_assert_not(eval("env.UNSET", "", ""));
	cr_assert(eval("env.DEPLOY == 'yes' && commit != ''", "", ""));
}

Test(expr, glob_matching)
{
	cr_assert(eval("branch =~ \"release/*\"", "release/1.2", "push"));
	cr_assert_not(eval("branch =~ \"release/*\"", "release/1.2/hotfix", "push"));
	cr_assert(eval("branch =~ \"release/**\"", "release/1.2/hotfix", "push"));
	cr_assert(eval("branch !~ \"feature/*\"", "main", "push"));
	cr_assert(glob_match("v[0-9]*", "v12"));
	cr_assert_not(glob_match("v[0-9]*", "vx"));
	cr_assert(glob_match("a?c", "abc"));
	cr_assert_not(glob_match("a?c", "a/c"));
	cr_assert(glob_match("*", ""));
	cr_assert(glob_match("**/x", "a/b/x"));
	cr_assert(glob_match("[!a]b", "cb"));
	cr_assert_not(glob_match("[!a]b", "ab"));
	cr_assert(glob_match("a\\*", "a*"));
	cr_assert_not(glob_match("a\\*", "ab"));
	/* '**' and '*' together: the '**' may take more than the first try. */
	cr_assert(glob_match("**/*.c", "x/y.c/z.c"));
	cr_assert(glob_match("**/z.c", "x/y.c/z.c"));
	cr_assert(glob_match("src/**/test_*.py", "src/a/b/test_x.py"));
	cr_assert_not(glob_match("src/**/test_*.py", "src/a/b/test_x/y.py"));
	cr_assert(glob_match("**-*", "a/b-c/d-e"));
	cr_assert_not(glob_match("*.c", "x/y.c"));
	cr_assert(glob_match("[a-", "[a-"), "an unterminated class is literal");
}

Test(expr, glob_is_not_exponential)
{
	/* A pathological pattern returns quickly (no recursion). */
	char s[201];
	memset(s, 'a', 200);
	s[200] = '\0';
	cr_assert_not(glob_match("*a*a*a*a*a*a*a*a*a*a*a*b", s));
}

Test(expr, errors_have_offsets_and_hints)
{
	parse_error("branch = 'main'", 7, "unexpected '='");
	parse_error("brnch == 'main'", 0, "unknown variable 'brnch'");
	parse_error("branch == 'main", 10, "unterminated string");
	parse_error("(branch == 'a'", 14, "expected ')'");
	parse_error("branch == 'a' & event == 'b'", 14, "unexpected '&'");
	parse_error("branch == 'a' event", 14, "unexpected text");
	parse_error("", 0, "condition ends");
	parse_error("env.A-B == 'x'", 5, "invalid character");
	parse_error("(branch == 'a') == 'b'", 16, "needs a string on its left");
	/* A word after a comparison is most likely a string left unquoted. */
	struct arena *qa = arena_new(0);
	struct expr *qe;
	struct expr_error qerr;
	cr_assert_eq(expr_parse(qa, "branch == main", &qe, &qerr), -EINVAL);
	cr_assert_str_eq(qerr.msg, "unknown variable 'main'");
	cr_assert_eq(qerr.offset, 10);
	cr_assert_str_eq(qerr.hint, "a string is written in quotes: \"main\"");
	cr_assert_eq(expr_parse(qa, "event != tags && tag == ''", &qe, &qerr), -EINVAL);
	cr_assert_str_eq(qerr.hint, "a string is written in quotes: \"tags\"");
	/* On the left, a misspelt variable is still what it looks like. */
	cr_assert_eq(expr_parse(qa, "brnch == 'main'", &qe, &qerr), -EINVAL);
	cr_assert_str_eq(qerr.hint, "did you mean `branch`?");
	/* As it is inside brackets on the right of a comparison. */
	cr_assert_eq(expr_parse(qa, "branch == (brnch == 'main')", &qe, &qerr), -EINVAL);
	cr_assert_eq(qerr.offset, 11);
	cr_assert_str_eq(qerr.hint, "did you mean `branch`?");
	arena_free(qa);
	struct arena *a = arena_new(0);
	struct expr *e;
	struct expr_error err;
	cr_assert_eq(expr_parse(a, "brnch == 'x'", &e, &err), -EINVAL);
	cr_assert_str_eq(err.hint, "did you mean `branch`?");
	arena_free(a);
}

Test(expr, nesting_is_bounded)
{
	char buf[300];
	memset(buf, '(', 200);
	buf[200] = '\0';
	parse_error(buf, 64, "nested too deeply");
	memset(buf, '!', 200);
	snprintf(buf + 200, 100, "branch");
	parse_error(buf, 64, "nested too deeply");
}

/* A chain of && and || is a tree as deep as it is long: 1024 operators are read and
 * evaluated, the 1025th is an error at its place (400,000 of them overflowed the stack,
 * in the parser's walk over `env.` names and in evaluation). */
Test(expr, operator_chains_are_bounded)
{
	const char *ops[] = { " && ", " || " };
	for (size_t k = 0; k < 2; k++) {
		struct sbuf sb;
		sbuf_init(&sb, 1 << 20);
		sbuf_puts(&sb, "true");
		for (int i = 0; i < 1024; i++) {
			sbuf_puts(&sb, ops[k]);
			sbuf_puts(&sb, i == 1023 && k == 0 ? "false" : "true");
		}
		cr_assert_eq(eval(sb.data, "main", "push"), k == 1, "%s", ops[k]);
		size_t at = sb.len + 1;
		sbuf_puts(&sb, ops[k]);
		sbuf_puts(&sb, "true");
		parse_error(sb.data, at, "more than 1024 && and || operators");
		sbuf_release(&sb);
	}
	/* Mixed, and inside parentheses: the count is the condition's. */
	struct sbuf sb;
	sbuf_init(&sb, 1 << 20);
	for (int i = 0; i < 600; i++) {
		sbuf_puts(&sb, "(true || false) && ");
	}
	sbuf_puts(&sb, "true");
	struct arena *a = arena_new(0);
	struct expr *e;
	struct expr_error err;
	cr_assert_eq(expr_parse(a, sb.data, &e, &err), -EINVAL);
	cr_assert(strstr(err.msg, "more than 1024"), "%s", err.msg);
	arena_free(a);
	sbuf_release(&sb);
}

static char *big_a;  /* 'a' x 9000 */
static char *big_ab; /* 'a' x 9000 then "b" */

static const char *big_lookup(void *ud, const char *name)
{
	(void)ud;
	return str_eq(name, "P") ? big_a : str_eq(name, "S") ? big_ab : NULL;
}

static int eval_big(const char *src)
{
	struct arena *a = arena_new(0);
	struct expr *e;
	struct expr_error err;
	cr_assert_eq(expr_parse(a, src, &e, &err), 0, "'%s': %s", src, err.msg);
	struct expr_vars v = {
		.branch = "", .tag = "", .event = "", .commit = "", .env = big_lookup
	};
	int r = expr_eval(e, &v);
	arena_free(a);
	return r;
}

/* Both sides of =~ may come from env: (about 1 MiB each after interpolation); a match
 * whose pattern length times subject length passes GLOB_MAX_CELLS is an error, never a
 * verdict (it took minutes, with the runner deaf to signals); logic short-circuits past
 * it as usual. */
Test(expr, a_glob_too_large_to_match_is_an_error)
{
	big_a = xmalloc(9001);
	memset(big_a, 'a', 9000);
	big_a[9000] = '\0';
	big_ab = xasprintf("%sb", big_a);
	cr_assert_eq(glob_match(big_a, big_ab), -E2BIG);
	cr_assert_eq(glob_match("a*b", big_ab), 1, "a small pattern on a long text is fine");
	cr_assert_eq(eval_big("env.S =~ env.P"), -E2BIG);
	cr_assert_eq(eval_big("env.S !~ env.P"), -E2BIG);
	cr_assert_eq(eval_big("!(env.S =~ env.P)"), -E2BIG);
	cr_assert_eq(eval_big("env.S =~ env.P || true"), -E2BIG);
	cr_assert_eq(eval_big("true || env.S =~ env.P"), 1);
	cr_assert_eq(eval_big("false && env.S =~ env.P"), 0);
	free(big_a);
	free(big_ab);
}
