/*
 * test-interp.c - ${NAME} interpolation: checks, escapes, expansion, caps.
 */
#include <criterion/criterion.h>

#include "interp.h"
#include "util.h"

static const char *lookup(void *ud, const char *name)
{
	(void)ud;
	if (str_eq(name, "A")) {
		return "alpha";
	}
	if (str_eq(name, "RUNNER_COMMIT_SHORT")) {
		return "abc1234";
	}
	if (str_eq(name, "BIG")) {
		static char big[600 * 1024];
		memset(big, 'x', sizeof(big) - 1);
		return big;
	}
	return NULL;
}

Test(interp, expands_known_names)
{
	char *s = interp_expand("${A}-${RUNNER_COMMIT_SHORT}!", lookup, NULL);
	cr_assert_str_eq(s, "alpha-abc1234!");
	free(s);
}

Test(interp, escape_and_shell_dollars_are_kept)
{
	char *s = interp_expand("$${A} $A $ ${A}$", lookup, NULL);
	cr_assert_str_eq(s, "${A} $A $ alpha$");
	free(s);
	struct interp_error e;
	cr_assert_eq(interp_check("$${NOT_CHECKED} $HOME", lookup, NULL, &e), 0);
}

Test(interp, unknown_and_malformed_references)
{
	struct interp_error e;
	cr_assert_eq(interp_check("x ${NOPE} y", lookup, NULL, &e), -ENOENT);
	cr_assert_str_eq(e.name, "NOPE");
	cr_assert_eq(e.offset, 2);
	cr_assert_str_eq(e.msg, "unknown variable '${NOPE}'");
	cr_assert_eq(interp_check("${A", lookup, NULL, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "unterminated '${'");
	cr_assert_eq(interp_check("ok ${1A}", lookup, NULL, &e), -EINVAL);
	cr_assert_eq(e.offset, 3);
	cr_assert_eq(interp_check("${A B}", lookup, NULL, &e), -EINVAL);
	cr_assert_eq(interp_check("${}", lookup, NULL, &e), -EINVAL);
}

Test(interp, expansion_is_capped)
{
	char *s = interp_expand("${BIG}${BIG}", lookup, NULL);
	cr_assert_null(s);
	s = interp_expand("${BIG}", lookup, NULL);
	cr_assert_not_null(s);
	free(s);
}
