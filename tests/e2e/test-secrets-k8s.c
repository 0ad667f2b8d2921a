/*
 * test-secrets-k8s.c - a Kubernetes Secret committed to a git repository stops a
 * `runner run` pipeline at its secrets stage (exit 3, the push never starts), each value
 * reported at its file:line with its key; and no value, neither as written (base64) nor
 * decoded, reaches the run's output, its logs or any file of its record. A kustomization's
 * secretGenerator file holding a password blocks `runner scan secrets` in its sandbox.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = calloc(1, n / 3 * 4 + 8);
	cr_assert_not_null(out);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static void git(const char *dir, const char *a, const char *b, const char *c)
{
	const char *argv[] = {
		"/usr/bin/git", "-c", "user.email=t@example.com", "-c", "user.name=t", a, b, c, NULL
	};
	struct tu_result r = tu_run(dir, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "git %s: %s%s", a, r.out, r.err);
	tu_result_free(&r);
}

static void lacks(const char *where, const char *hay, const char *needle)
{
	cr_assert_null(strstr(hay, needle), "'%s' is in %s:\n%s", needle, where, hay);
}

/* Every regular file under dir holds none of the needles. Returns how many were read. */
static size_t none_in_tree(const char *dir, const char *const *needles, size_t n)
{
	size_t files = 0;
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		char *p = tu_strf("%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			files += none_in_tree(p, needles, n);
		} else if (S_ISREG(st.st_mode)) {
			char *t = tu_read(p);
			cr_assert_not_null(t, "%s", p);
			for (size_t i = 0; i < n; i++) {
				lacks(p, t, needles[i]);
			}
			free(t);
			files++;
		}
		free(p);
	}
	closedir(d);
	return files;
}

Test(secrets_k8s, a_committed_secret_blocks_the_pipeline_and_stays_secret, .timeout = 120)
{
	const char *pw = "Qm7Lx2Vp9Tz4Wk8R";
	const char *login = "Hd3Rt8Xw5Nq2Lc6V";
	const char *tok = "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo";
	char *pw64 = b64(pw), *tok64 = b64(tok);
	char *dir = tu_tmpdir();
	tu_write(dir, ".runner.yml",
		 "version: 1\nname: app\nstages:\n"
		 "  secrets:\n    uses: secrets\n"
		 "  push:\n    needs: [secrets]\n    run: touch pushed\n");
	char *manifest = tu_strf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"
				 "data:\n  LOG_LEVEL: info\n---\n"
				 "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n"
				 "type: Opaque\ndata:\n  db-creds: %s\n  gh: %s\n"
				 "stringData:\n  login: %s\n  fallback: ${LOGIN}\n",
				 pw64, tok64, login);
	tu_write(dir, "deploy/k8s/secret.yaml", manifest);
	git(dir, "init", "-q", ".");
	git(dir, "add", "-A", ".");
	git(dir, "commit", "-qm", "deploy manifests");

	struct tu_result r = tu_runner_run(dir, "run", "--no-color", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert(!tu_exists("%s/pushed", dir), "the push must not start");
	/* Each value at its place, with its key; the token as what it is. */
	cr_assert_not_null(strstr(r.out, "deploy/k8s/secret.yaml:14:13: high "
					 "secret.kubernetes-secret"),
			   "%s", r.out);
	cr_assert_not_null(strstr(r.out, "in data 'db-creds'"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "deploy/k8s/secret.yaml:15:7: critical secret.github-pat"),
			   "%s", r.out);
	cr_assert_not_null(strstr(r.out, "deploy/k8s/secret.yaml:17:10: high "
					 "secret.kubernetes-secret"),
			   "%s", r.out);
	cr_assert_null(strstr(r.out, "secret.yaml:18:"), "a placeholder was reported:\n%s", r.out);
	const char *needles[] = { pw, pw64, login, tok, tok64 };
	size_t nn = sizeof(needles) / sizeof(needles[0]);
	for (size_t i = 0; i < nn; i++) {
		lacks("the output", r.out, needles[i]);
		lacks("the errors", r.err, needles[i]);
	}
	tu_result_free(&r);
	json_t *rep = tu_latest_report(dir);
	cr_assert_str_eq(tu_stage_status(rep, "secrets"), "blocked");
	cr_assert_str_eq(tu_stage_status(rep, "push"), "skipped");
	json_decref(rep);
	/* Nothing of the run's record holds a value: report, JUnit, SARIF, logs, ... */
	char *record = tu_strf("%s/.runner", dir);
	size_t files = none_in_tree(record, needles, nn);
	cr_assert_geq(files, 4, "the record has %zu files", files);
	char *sarif = tu_readf("%s/.runner/runs/latest/sarif/secrets.sarif", dir);
	cr_assert_not_null(sarif);
	cr_assert_not_null(strstr(sarif, "secret.kubernetes-secret"));
	free(sarif);
	free(record);
	free(manifest);
	tu_rmdir(dir);
	free(dir);
	free(pw64);
	free(tok64);
}

/* A kustomization's secretGenerator file that holds a bare password, committed, blocks
 * `runner scan secrets` (in its sandbox, where the file is read through the scan's own
 * list of files): reported at the entry that names it, the password never printed. A file
 * .gitignore hides and git does not track is no part of the scan, and is not read through
 * the kustomization either. */
Test(secrets_k8s, a_secret_generator_file_blocks_the_scan_and_stays_secret, .timeout = 120)
{
	const char *pw = "Kx7Vq2Lm9Tz4Wr8N";
	const char *local = "Hd3Rt8Xw5Nq2Lc6V";
	char *dir = tu_tmpdir();
	tu_write(dir, "deploy/overlays/prod/kustomization.yaml",
		 "apiVersion: kustomize.config.k8s.io/v1beta1\n"
		 "kind: Kustomization\n"
		 "secretGenerator:\n"
		 "  - name: db\n"
		 "    files:\n"
		 "      - password=db-password.txt\n"
		 "      - local-password.txt\n");
	char *content = tu_strf("%s\n", pw);
	tu_write(dir, "deploy/overlays/prod/db-password.txt", content);
	free(content);
	content = tu_strf("%s\n", local);
	tu_write(dir, "deploy/overlays/prod/local-password.txt", content);
	free(content);
	tu_write(dir, ".gitignore", "local-password.txt\n");
	git(dir, "init", "-q", ".");
	git(dir, "add", "-A", ".");
	git(dir, "commit", "-qm", "prod overlay");

	struct tu_result r = tu_runner_run(dir, "scan", "secrets", NULL);
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "deploy/overlays/prod/kustomization.yaml:6:18: high "
					 "secret.kubernetes-secret"),
			   "%s", r.out);
	cr_assert_not_null(strstr(r.out, "in secretGenerator file 'db-password.txt'"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "| - password=db-password.txt\n"),
			   "the line names the file:\n%s", r.out);
	cr_assert_null(strstr(r.out, "kustomization.yaml:7:"), "an ignored file was read:\n%s",
		       r.out);
	lacks("the output", r.out, pw);
	lacks("the errors", r.err, pw);
	lacks("the output", r.out, local);
	tu_result_free(&r);
	tu_rmdir(dir);
	free(dir);
}
