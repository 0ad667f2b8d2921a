/*
 * test-secrets.c - the secret store: sources, precedence, names, file permission checks.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "mask.h"
#include "secrets.h"
#include "util.h"

#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

Test(secrets, environment_source_and_case_insensitive_names)
{
	struct secret_store *s = secrets_new();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	char *envp[] = { "PATH=/bin", "RUNNER_SECRET_NPM_TOKEN=npm_abcdef123", "RUNNER_SECRETX=no",
			 NULL };
	cr_assert_eq(secrets_load_env(s, envp, &dl), 0);
	cr_assert_eq(secrets_count(s), 1);
	cr_assert_str_eq(secrets_get(s, "npm_token"), "npm_abcdef123");
	cr_assert_str_eq(secrets_get(s, "NPM_TOKEN"), "npm_abcdef123");
	cr_assert_null(secrets_get(s, "other"));
	char *m = mask_redact_str(secrets_mask(s), "x npm_abcdef123 y");
	cr_assert_str_eq(m, "x *** y");
	free(m);
	diag_list_release(&dl);
	secrets_free(s);
}

Test(secrets, file_then_environment_overrides)
{
	char *dir = tu_tmpdir();
	tu_write(dir, "s.yml", "registry: from-the-file\nother: |\n  multi\n  line value\n");
	char *path = xasprintf("%s/s.yml", dir);
	chmod(path, 0600);
	struct secret_store *s = secrets_new();
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, path, true, &dl), 0);
	cr_assert_str_eq(secrets_get(s, "registry"), "from-the-file");
	cr_assert_str_eq(secrets_get(s, "other"), "multi\nline value\n");
	char *envp[] = { "RUNNER_SECRET_REGISTRY=from-the-env", NULL };
	cr_assert_eq(secrets_load_env(s, envp, &dl), 0);
	cr_assert_str_eq(secrets_get(s, "registry"), "from-the-env");
	/* Both values stay masked: the old one may already be in some output. */
	char *m = mask_redact_str(secrets_mask(s), "from-the-file from-the-env line value");
	cr_assert_str_eq(m, "*** *** ***");
	free(m);
	diag_list_release(&dl);
	secrets_free(s);
	free(path);
	tu_rmdir(dir);
	free(dir);
}

Test(secrets, file_must_be_private_and_well_formed)
{
	char *dir = tu_tmpdir();
	char *path = xasprintf("%s/s.yml", dir);
	struct diag_list dl;
	struct secret_store *s = secrets_new();

	tu_write(dir, "s.yml", "a: value-one\n");
	chmod(path, 0640);
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, path, true, &dl), -EPERM);
	cr_assert_str_eq(dl.v[0].msg,
			 "refusing the secrets file: its mode is 0640; others could read it");
	diag_list_release(&dl);

	chmod(path, 0600);
	tu_write(dir, "s.yml", "- a\n- b\n");
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, path, true, &dl), -EINVAL);
	cr_assert_str_eq(dl.v[0].msg, "the secrets file must be a mapping of names to values");
	diag_list_release(&dl);

	tu_write(dir, "s.yml", "short: abc\n");
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, path, true, &dl), -EINVAL);
	cr_assert_str_eq(dl.v[0].msg,
			 "secret 'short' is shorter than 4 characters and cannot be masked");
	cr_assert_eq(dl.v[0].line, 1);
	diag_list_release(&dl);

	tu_write(dir, "s.yml", "bad-name: abcdef\n");
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, path, true, &dl), -EINVAL);
	cr_assert_str_eq(dl.v[0].msg, "invalid secret name (not quoted: it may be a value)");
	cr_assert_eq(dl.v[0].line, 1);
	cr_assert_eq(dl.v[0].col, 1);
	diag_list_release(&dl);

	/* Name and value swapped: the secret is in the key's place, and is never quoted,
	 * neither as an invalid name, nor as a duplicate key, nor with a value that is not a
	 * string; the position (file:line:col) says where. */
	static const struct {
		const char *text;
		unsigned line, col;
	} swapped[] = {
		{ "sk-live-4f9a8b7c6d5e: DEPLOY_KEY\n", 1, 1 },
		{ "A: value-one\nsk-live-4f9a8b7c6d5e: DEPLOY_KEY\n", 2, 1 },
		{ "A: value-one\nsk-live-4f9a8b7c6d5e: DEPLOY_KEY\nsk-live-4f9a8b7c6d5e: X\n", 3,
		  1 },
		{ "A: value-one\nB: value-two\nB: value-3\n", 3, 1 },
		{ "sk-live-4f9a8b7c6d5e: [DEPLOY_KEY]\n", 1, 1 },
		{ "A: value-one\nsk-live-4f9a8b7c6d5e: { a: b }\n", 2, 1 },
	};
	for (size_t i = 0; i < sizeof(swapped) / sizeof(swapped[0]); i++) {
		tu_write(dir, "s.yml", swapped[i].text);
		diag_list_init(&dl, 10);
		cr_expect_eq(secrets_load_file(s, path, true, &dl), -EINVAL, "%s", swapped[i].text);
		cr_assert_geq(dl.n, 1);
		cr_expect_null(strstr(dl.v[0].msg, "sk-live"), "quoted: %s", dl.v[0].msg);
		cr_expect(!dl.v[0].hint || !strstr(dl.v[0].hint, "sk-live"), "%s", dl.v[0].hint);
		cr_expect_str_eq(dl.v[0].file, path);
		cr_expect_eq(dl.v[0].line, swapped[i].line, "%s: %s", swapped[i].text, dl.v[0].msg);
		cr_expect_eq(dl.v[0].col, swapped[i].col, "%s: %s", swapped[i].text, dl.v[0].msg);
		diag_list_release(&dl);
	}
	/* Nor from the environment. */
	char *env[] = { "RUNNER_SECRET_sk-live-4f9a8b7c6d5e=DEPLOY_KEY", NULL };
	diag_list_init(&dl, 10);
	cr_expect_eq(secrets_load_env(s, env, &dl), -EINVAL);
	cr_assert_eq(dl.n, 1);
	cr_expect_null(strstr(dl.v[0].msg, "sk-live"), "%s", dl.v[0].msg);
	cr_expect_null(strstr(dl.v[0].file, "sk-live"), "%s", dl.v[0].file);
	diag_list_release(&dl);

	/* A value written without its name, or as a tag or an alias: said where, not quoted. */
	static const char *const unquoted[] = { "{ a: value-one, Zq8yT3kP9wLmN2vB5xR7 }\n",
						"a: value-one\nZq8yT3kP9wLmN2vB5xR7:\n",
						"a: !Zq8yT3kP9wLmN2vB5xR7\n",
						"a: *Zq8yT3kP9wLmN2vB5xR7\n" };
	for (size_t i = 0; i < sizeof(unquoted) / sizeof(unquoted[0]); i++) {
		tu_write(dir, "s.yml", unquoted[i]);
		diag_list_init(&dl, 10);
		cr_assert_eq(secrets_load_file(s, path, true, &dl), -EINVAL, "%s", unquoted[i]);
		cr_assert_geq(dl.n, 1);
		cr_assert_gt(dl.v[0].line, 0, "%s", dl.v[0].msg);
		cr_assert_null(strstr(dl.v[0].msg, "Zq8y"), "quoted: %s", dl.v[0].msg);
		cr_assert(!dl.v[0].hint || !strstr(dl.v[0].hint, "Zq8y"), "%s", dl.v[0].hint);
		diag_list_release(&dl);
	}

	/* A missing default file is fine; a missing named one is not. */
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, "/nonexistent/s.yml", false, &dl), 0);
	cr_assert_eq(secrets_load_file(s, "/nonexistent/s.yml", true, &dl), -ENOENT);
	diag_list_release(&dl);
	secrets_free(s);
	free(path);
	tu_rmdir(dir);
	free(dir);
}

/* A named pipe is refused at once: it is not a regular file, and opening it must not wait
 * for a writer (runner run --secrets, and runner serve's secrets_file, would hang). */
Test(secrets, a_fifo_is_refused_without_waiting_for_a_writer, .timeout = 20)
{
	char *dir = tu_tmpdir();
	char *path = xasprintf("%s/s.yml", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	struct diag_list dl;
	struct secret_store *s = secrets_new();
	diag_list_init(&dl, 10);
	cr_assert_eq(secrets_load_file(s, path, true, &dl), -EINVAL);
	cr_assert_str_eq(dl.v[0].msg, "refusing the secrets file: it is not a regular file");
	diag_list_release(&dl);
	secrets_free(s);
	unlink(path);
	tu_rmdir(dir);
	free(path);
	free(dir);
}
