/*
 * attack.h - helpers for the escape tests' attack programs.
 *
 * Each attack program runs inside a sandboxed stage (copied into the workspace by the
 * test, built without sanitizers) and tries things a stage must not be able to do. Every
 * attempt prints one line, "ok NAME: what happened" when it was denied the expected way,
 * or "FAIL NAME: what happened" otherwise; the program exits 0 only if every line is ok.
 * The test asserts the specific "ok" lines, so a program that silently skipped an attack
 * fails the test too.
 */
#ifndef RUNNER_ATTACK_H
#define RUNNER_ATTACK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int attack_failures;

static inline const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

/* r is the call's result; it must have failed (-1) with errno `want`. */
static inline void expect_errno(const char *name, long r, int want)
{
	int e = errno;
	if (r == -1 && e == want) {
		printf("ok %s: %s\n", name, errname(e));
	} else {
		printf("FAIL %s: returned %ld, errno %s (wanted %s)\n", name, r,
		       r == -1 ? errname(e) : "-", errname(want));
		attack_failures++;
	}
	fflush(stdout);
}

/* Either of two errnos is a correct denial (for example ENOENT or EACCES). */
static inline void expect_errno2(const char *name, long r, int want1, int want2)
{
	int e = errno;
	if (r == -1 && (e == want1 || e == want2)) {
		printf("ok %s: %s\n", name, errname(e));
	} else {
		printf("FAIL %s: returned %ld, errno %s (wanted %s or %s)\n", name, r,
		       r == -1 ? errname(e) : "-", errname(want1), errname(want2));
		attack_failures++;
	}
	fflush(stdout);
}

static inline void check(const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void check(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s %s: ", ok ? "ok" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	attack_failures += !ok;
}

static inline int attack_done(void)
{
	printf("%s\n", attack_failures ? "ATTACKS SUCCEEDED" : "all attacks denied");
	return attack_failures ? 1 : 0;
}

#endif
