/*
 * test-config.c - the server configuration: defaults, every value checked with a position,
 * secrets required (never "no secret, no check"), secret files and config files that
 * others could read refused, retention periods, access to the read side (a token, or a
 * loopback address, or explicitly public).
 */
#include <criterion/criterion.h>

#include "config.h"
#include "live.h"
#include "slog.h"
#include "diag.h"
#include "testutil.h"
#include "util.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char good[] = "listen: 127.0.0.1:0\n"
			   "data_dir: /tmp/runner-data\n"
			   "repositories:\n"
			   "  - name: acme/webapp\n"
			   "    forge: github\n"
			   "    secret: 0123456789abcdef0123\n"
			   "    clone_url: https://github.com/acme/webapp.git\n";

static int load(const char *text, struct server_config **c, struct diag_list *dl)
{
	diag_list_init(dl, 50);
	return config_load_buffer("server.yml", text, strlen(text), c, dl);
}

static bool has_error(const struct diag_list *dl, const char *needle, unsigned line)
{
	for (size_t i = 0; i < dl->n; i++) {
		if (strstr(dl->v[i].msg, needle) && (line == 0 || dl->v[i].line == line)) {
			return true;
		}
	}
	return false;
}

static void dump(const struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++) {
		fprintf(stderr, "%u:%u: %s\n", dl->v[i].line, dl->v[i].col, dl->v[i].msg);
	}
}

Test(config, minimal_configuration_and_defaults)
{
	struct server_config *c = NULL;
	struct diag_list dl;
	int r = load(good, &c, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(c->listen_host, "127.0.0.1");
	cr_assert_eq(c->listen_port, 0);
	cr_assert_eq(c->max_body, 25u << 20);
	cr_assert_eq(c->concurrency, 2);
	cr_assert_eq(c->max_attempts, 3);
	/* The queue has a cap by default, and forks a smaller one of it. */
	cr_assert_eq(c->max_queued, 1000);
	cr_assert_eq(c->untrusted_max_queued, 100);
	cr_assert(c->supersede);
	cr_assert(c->untrusted_run);
	cr_assert_eq(c->n_repos, 1);
	const struct repo_config *repo = &c->repos[0];
	cr_assert_eq(repo->forge, FORGE_GITHUB);
	cr_assert_str_eq(repo->api_url, "https://api.github.com");
	cr_assert_str_eq(repo->status_context, "runner");
	cr_assert_eq(repo->events, EVENTS_PUSH | EVENTS_TAG | EVENTS_PULL_REQUEST);
	cr_assert_eq(config_find_repo(c, FORGE_GITHUB, "ACME/WebApp"), repo);
	cr_assert_null(config_find_repo(c, FORGE_GITEA, "acme/webapp"));
	config_free(c);
	diag_list_release(&dl);
}

Test(config, full_configuration)
{
	static const char text[] = "listen: '[::1]:8443'\n"
				   "data_dir: /var/lib/runner\n"
				   "public_url: https://ci.example.com\n"
				   "log_level: debug\n"
				   "limits: { max_body: 1MiB, concurrency: 4, jobs_per_run: 3,"
				   " max_attempts: 5, connections: 64, connection_timeout: 5s,"
				   " run_timeout: 30m, min_free: 2GiB }\n"
				   "shutdown_grace: 1m\n"
				   "supersede: false\n"
				   "untrusted: { run: false, concurrency: 2 }\n"
				   "notifications: { security: { url: https://hooks.example/x } }\n"
				   "retry: { attempts: 3, backoff: 200ms, max_backoff: 2s,"
				   " timeout: 3s }\n"
				   "repositories:\n"
				   "  - name: group/sub/project\n"
				   "    forge: gitlab\n"
				   "    secret: a-gitlab-token-long-enough\n"
				   "    clone_url: https://gitlab.example/group/sub/project.git\n"
				   "    events: [push, pull_request]\n"
				   "    pipeline: ci/runner.yml\n"
				   "    credentials: { token: glpat-something-here }\n"
				   "    api: { url: https://gitlab.example, token: glpat-x1234567,"
				   " context: ci/runner }\n"
				   "    secrets: { registry: hunter2-registry }\n";
	struct server_config *c = NULL;
	struct diag_list dl;
	int r = load(text, &c, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(c->listen_host, "::1");
	cr_assert_eq(c->listen_port, 8443);
	cr_assert_eq(c->max_body, 1u << 20);
	cr_assert_eq(c->concurrency, 4);
	cr_assert_eq(c->connection_timeout_ms, 5000);
	cr_assert_eq(c->max_run_ms, 30 * 60000);
	cr_assert_eq(c->min_free, 2ull << 30);
	cr_assert_eq(c->shutdown_grace_ms, 60000);
	cr_assert_not(c->supersede);
	cr_assert_not(c->untrusted_run);
	cr_assert_eq(c->untrusted_concurrency, 2);
	cr_assert_str_eq(c->notify_url, "https://hooks.example/x");
	cr_assert_eq(c->retry_backoff_ms, 200);
	const struct repo_config *repo = &c->repos[0];
	cr_assert_eq(repo->forge, FORGE_GITLAB);
	cr_assert_eq(repo->events, EVENTS_PUSH | EVENTS_PULL_REQUEST);
	cr_assert_str_eq(repo->pipeline, "ci/runner.yml");
	cr_assert_str_eq(repo->token, "glpat-something-here");
	cr_assert_str_eq(repo->status_context, "ci/runner");
	cr_assert_not(repo->supersede, "inherits the server-wide default");
	cr_assert_eq(repo->n_secrets, 1);
	cr_assert_str_eq(repo->secrets[0].name, "registry");
	config_free(c);
	diag_list_release(&dl);
}

/* public_url is what the links in commit statuses and notifications are built on,
 * "<public_url>/runs/<id>": a trailing slash made them "//runs/<id>", which the server does
 * not serve (404 on every "Details" link), and a URL without a scheme is no link. */
Test(config, public_url_is_an_http_url_without_a_trailing_slash)
{
	static const struct {
		const char *value, *want;
	} ok[] = {
		{ "https://ci.example.com/", "https://ci.example.com" },
		{ "http://127.0.0.1:8080//", "http://127.0.0.1:8080" },
		{ "https://example.com/ci/", "https://example.com/ci" },
		{ "https://ci.example.com", "https://ci.example.com" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *text = tu_strf("public_url: %s\n%s", ok[i].value, good);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_assert_eq(load(text, &c, &dl), 0, "%s", ok[i].value);
		cr_assert_str_eq(c->public_url, ok[i].want);
		config_free(c);
		diag_list_release(&dl);
		free(text);
	}
	static const char *const bad[] = { "ci.example.com", "https://", "https:///runs",
					   "ftp://ci.example.com", "/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = tu_strf("public_url: '%s'\n%s", bad[i], good);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_assert_eq(load(text, &c, &dl), -EINVAL, "%s", bad[i]);
		cr_assert(has_error(&dl, "'public_url' must be an http:// or https:// URL", 1),
			  "%s", bad[i]);
		diag_list_release(&dl);
		free(text);
	}
}

Test(config, a_repository_without_a_secret_is_refused)
{
	static const char text[] = "data_dir: /tmp/x\n"
				   "repositories:\n"
				   "  - name: acme/webapp\n"
				   "    forge: github\n"
				   "    clone_url: https://github.com/acme/webapp.git\n"
				   "  - name: acme/short\n"
				   "    forge: gitea\n"
				   "    secret: short\n"
				   "    clone_url: https://gitea.example/acme/short.git\n";
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(text, &c, &dl), -EINVAL);
	cr_assert_null(c);
	cr_assert(has_error(&dl, "has no webhook secret", 3));
	cr_assert(has_error(&dl, "shorter than 16", 8));
	diag_list_release(&dl);
}

Test(config, errors_have_positions_and_hints)
{
	static const char text[] = "listen: localhost\n"
				   "data_dir: /tmp/x\n"
				   "limits: { concurency: 2, max_body: lots }\n"
				   "log_level: loud\n"
				   "repositories:\n"
				   "  - name: ../etc\n"
				   "    forge: bitbucket\n"
				   "    secret: 0123456789abcdef0123\n"
				   "    events: [push, merge]\n"
				   "    pipeline: ../x.yml\n";
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(text, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "is not HOST:PORT", 1));
	cr_assert(has_error(&dl, "unknown key 'concurency'", 3));
	bool hinted = false;
	for (size_t i = 0; i < dl.n; i++) {
		hinted |= dl.v[i].hint && strstr(dl.v[i].hint, "concurrency") != NULL;
	}
	cr_assert(hinted, "a hint names the right key");
	cr_assert(has_error(&dl, "'max_body': invalid size", 3));
	cr_assert(has_error(&dl, "unknown log level", 4));
	cr_assert(has_error(&dl, "invalid repository name", 6));
	cr_assert(has_error(&dl, "unknown forge", 7));
	cr_assert(has_error(&dl, "unknown event 'merge'", 9));
	cr_assert(has_error(&dl, "needs a 'clone_url'", 6));
	cr_assert(has_error(&dl, "without '..'", 10));
	diag_list_release(&dl);
}

Test(config, duplicate_repositories)
{
	char *text;
	cr_assert_geq(asprintf(&text,
			       "%s  - name: ACME/webapp\n"
			       "    forge: github\n"
			       "    secret: 0123456789abcdef0123\n"
			       "    clone_url: https://github.com/acme/webapp.git\n",
			       good),
		      0);
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(text, &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "listed twice", 0));
	diag_list_release(&dl);
	free(text);
}

Test(config, files_that_others_can_read_are_refused)
{
	char *dir = tu_tmpdir();
	char *path, *secret;
	cr_assert_geq(asprintf(&path, "%s/server.yml", dir), 0);
	cr_assert_geq(asprintf(&secret, "%s/hook.secret", dir), 0);
	struct server_config *c = NULL;
	struct diag_list dl;

	/* Inline secrets in a world-readable file. */
	tu_write(dir, "server.yml", good);
	chmod(path, 0644);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EPERM);
	cr_assert(has_error(&dl, "holds secrets", 0));
	diag_list_release(&dl);
	chmod(path, 0600);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), 0);
	config_free(c);
	diag_list_release(&dl);

	/* With another error in it: both are said at once (the mode was said only once the
	 * rest was valid, a second round for whoever fixes a configuration). */
	char *typo = tu_strf("%sretyr: { attempts: 3 }\n", good);
	tu_write(dir, "server.yml", typo);
	free(typo);
	chmod(path, 0644);
	diag_list_init(&dl, 20);
	cr_assert_lt(config_load(path, &c, &dl), 0);
	cr_assert_null(c);
	dump(&dl);
	cr_assert(has_error(&dl, "unknown key 'retyr'", 0));
	cr_assert(has_error(&dl, "holds secrets", 0));
	diag_list_release(&dl);

	/* A secret file: the config may then be readable, the secret file may not. */
	tu_write(dir, "hook.secret", "0123456789abcdef0123-from-a-file\n");
	chmod(secret, 0644);
	tu_write(dir, "server.yml",
		 "data_dir: data\n"
		 "repositories:\n"
		 "  - name: acme/webapp\n"
		 "    forge: gitea\n"
		 "    secret_file: hook.secret\n"
		 "    clone_url: /srv/git/webapp.git\n");
	chmod(path, 0644);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "a secret file must be", 5));
	diag_list_release(&dl);
	chmod(secret, 0600);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), 0);
	cr_assert_str_eq(c->repos[0].secret, "0123456789abcdef0123-from-a-file");
	char *data;
	cr_assert_geq(asprintf(&data, "%s/data", dir), 0);
	cr_assert_str_eq(c->data_dir, data, "relative to the configuration file");
	config_free(c);
	diag_list_release(&dl);
	free(data);
	free(path);
	free(secret);
	tu_rmdir(dir);
	free(dir);
}

/* A secret file that cannot be used is one error, at its key: the repository does name its
 * secret, so "has no webhook secret" on top of it sent the reader to the wrong line. */
Test(config, an_unusable_secret_file_is_reported_once)
{
	char *dir = tu_tmpdir();
	char *secret;
	cr_assert_geq(asprintf(&secret, "%s/hook.secret", dir), 0);
	static const char text[] = "data_dir: data\n"
				   "repositories:\n"
				   "  - name: acme/webapp\n"
				   "    forge: gitea\n"
				   "    secret_file: hook.secret\n"
				   "    clone_url: /srv/git/webapp.git\n";
	tu_write(dir, "server.yml", text);
	char *path;
	cr_assert_geq(asprintf(&path, "%s/server.yml", dir), 0);
	struct server_config *c = NULL;
	struct diag_list dl;

	/* Missing. */
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "cannot read", 5));
	cr_assert_not(has_error(&dl, "has no webhook secret", 0));
	cr_assert_eq(dl.errors, 1);
	diag_list_release(&dl);

	/* Readable by others. */
	tu_write(dir, "hook.secret", "0123456789abcdef0123-from-a-file\n");
	chmod(secret, 0644);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "a secret file must be", 5));
	cr_assert_not(has_error(&dl, "has no webhook secret", 0));
	cr_assert_eq(dl.errors, 1);
	diag_list_release(&dl);

	/* Empty. */
	tu_write(dir, "hook.secret", "\n");
	chmod(secret, 0600);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "is empty", 5));
	cr_assert_not(has_error(&dl, "has no webhook secret", 0));
	cr_assert_eq(dl.errors, 1);
	diag_list_release(&dl);
	free(path);
	free(secret);
	tu_rmdir(dir);
	free(dir);
}

/* Named pipes, as the configuration or as a secret file, are refused at once: opening one
 * must not wait for a writer (a start or a reload would hang). */
Test(config, named_pipes_are_refused_without_waiting, .timeout = 20)
{
	char *dir = tu_tmpdir();
	char *path, *secret;
	cr_assert_geq(asprintf(&path, "%s/server.yml", dir), 0);
	cr_assert_geq(asprintf(&secret, "%s/hook.secret", dir), 0);
	cr_assert_eq(mkfifo(secret, 0600), 0);
	tu_write(dir, "server.yml",
		 "data_dir: data\n"
		 "repositories:\n"
		 "  - name: acme/webapp\n"
		 "    forge: gitea\n"
		 "    secret_file: hook.secret\n"
		 "    clone_url: /srv/git/webapp.git\n");
	struct server_config *c = NULL;
	struct diag_list dl;
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "it is not a regular file", 5));
	diag_list_release(&dl);

	unlink(path);
	cr_assert_eq(mkfifo(path, 0600), 0);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "not a regular file", 0));
	diag_list_release(&dl);
	unlink(path);
	unlink(secret);
	free(path);
	free(secret);
	tu_rmdir(dir);
	free(dir);
}

/* Credentials in a clone URL must read the same to every parser: a '/', '?', '#' or
 * '@' in them, or an '@' after the host, is refused (it would be taken for part of the
 * host or path, and shown wherever the URL is shown); percent-encoded, they are fine. The
 * error does not quote the URL. */
Test(config, clone_url_credentials_must_be_unambiguous)
{
	static const char *const refused[] = {
		"http://user:Pa/SECRET@127.0.0.1:1/acme/a.git",
		"https://user:tok3n@SECRETPART@example.com/acme/a.git",
		"https://user:Pa?SECRET@example.com/acme/a.git",
		"https://user:Pa#SECRET@example.com/acme/a.git",
		"https://example.com/acme/a@b.git",
	};
	static const char *const accepted[] = {
		"https://example.com/acme/a.git",
		"https://user:Pa%2FSECRET%40x@example.com/acme/a.git",
		"https://oauth2:glpat-abc_DEF-123@gitlab.example/group/sub/p.git",
		"http://127.0.0.1:8080/acme/a.git",
	};
	for (size_t i = 0; i < ARRAY_SIZE(refused) + ARRAY_SIZE(accepted); i++) {
		bool ok = i >= ARRAY_SIZE(refused);
		const char *url = ok ? accepted[i - ARRAY_SIZE(refused)] : refused[i];
		char *text;
		cr_assert_geq(asprintf(&text,
				       "data_dir: /tmp/x\n"
				       "repositories:\n"
				       "  - name: acme/webapp\n"
				       "    forge: gitea\n"
				       "    secret: 0123456789abcdef0123\n"
				       "    clone_url: '%s'\n",
				       url),
			      0);
		struct server_config *c = NULL;
		struct diag_list dl;
		int r = load(text, &c, &dl);
		if (ok) {
			dump(&dl);
			cr_assert_eq(r, 0, "%s", url);
			config_free(c);
		} else {
			cr_assert_eq(r, -EINVAL, "%s", url);
			cr_assert(has_error(&dl, "cannot be read one way only", 6), "%s", url);
			for (size_t k = 0; k < dl.n; k++) {
				cr_assert_null(strstr(dl.v[k].msg, "SECRET"), "%s", dl.v[k].msg);
			}
		}
		diag_list_release(&dl);
		free(text);
	}
}

/* A clone URL without encryption (http://, git://) never carries credentials to a host
 * that is not a loopback address: a token in the URL or in `credentials` would be readable
 * on the way. The error is at clone_url, does not quote it, and --check exits 2. Without
 * credentials it is allowed, with a warning; on a loopback address (or the name localhost),
 * credentials too. */
Test(config, plain_http_clone_urls_carry_no_credentials_off_loopback)
{
	static const struct {
		const char *url, *cred;
		int want; /* 0 accepted, 1 accepted with a warning, -1 refused */
	} cases[] = {
		{ "http://x-access-token:SECRET-tok@git.example.com/acme/a.git", "", -1 },
		{ "http://SECRET-tok@git.example.com/acme/a.git", "", -1 },
		{ "HTTP://git.example.com/acme/a.git", "    credentials: { token: SECRET-tok }\n",
		  -1 },
		{ "git://git.example.com/acme/a.git", "    credentials: { token: SECRET-tok }\n",
		  -1 },
		{ "git://u:SECRET-tok@10.0.0.7/acme/a.git", "", -1 },
		/* a name is not a promise, but for localhost itself (RFC 6761, /etc/hosts):
		 * not a name under it, not localhost. (which a resolver may send to DNS) */
		{ "http://u:SECRET-tok@127.0.0.1.nip.io/acme/a.git", "", -1 },
		{ "http://u:SECRET-tok@localhost.example.com/acme/a.git", "", -1 },
		{ "http://u:SECRET-tok@git.localhost/acme/a.git", "", -1 },
		{ "http://u:SECRET-tok@localhost./acme/a.git", "", -1 },
		{ "http://u:SECRET-tok@localhostx/acme/a.git", "", -1 },
		{ "http://u:SECRET-tok@localhost:8080/acme/a.git", "", 0 },
		{ "git://u:SECRET-tok@LocalHost/acme/a.git", "", 0 },
		{ "http://localhost/acme/a.git", "    credentials: { token: SECRET-tok }\n", 0 },
		{ "http://u:SECRET-tok@[::1]:8080/acme/a.git", "", 0 },
		{ "http://u:SECRET-tok@[::1]/acme/a.git", "", 0 },
		{ "http://u:SECRET-tok@[::ffff:127.0.0.1]/acme/a.git", "", 0 },
		{ "http://u:SECRET-tok@[::2]/acme/a.git", "", -1 },
		{ "http://git.example.com/acme/a.git", "", 1 },
		{ "git://git.example.com/acme/a.git", "", 1 },
		{ "http://u:SECRET-tok@127.0.0.1:8080/acme/a.git", "", 0 },
		{ "http://u:SECRET-tok@127.7.0.1/acme/a.git", "", 0 },
		{ "http://[::1]:8080/acme/a.git", "    credentials: { token: SECRET-tok }\n", 0 },
		{ "http://127.0.0.1:8080/acme/a.git", "", 0 },
		{ "https://u:SECRET-tok@git.example.com/acme/a.git", "", 0 },
		{ "https://git.example.com/acme/a.git", "    credentials: { token: SECRET-tok }\n",
		  0 },
		{ "/srv/git/a.git", "", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text;
		cr_assert_geq(asprintf(&text,
				       "data_dir: /tmp/x\n"
				       "repositories:\n"
				       "  - name: acme/webapp\n"
				       "    forge: gitea\n"
				       "    secret: 0123456789abcdef0123\n"
				       "    clone_url: '%s'\n"
				       "%s",
				       cases[i].url, cases[i].cred),
			      0);
		struct server_config *c = NULL;
		struct diag_list dl;
		int r = load(text, &c, &dl);
		size_t warnings = 0;
		for (size_t k = 0; k < dl.n; k++) {
			cr_assert_null(strstr(dl.v[k].msg, "SECRET"), "%s", dl.v[k].msg);
			warnings += dl.v[k].level == DIAG_WARNING &&
				    strstr(dl.v[k].msg, "without encryption") && dl.v[k].line == 6;
		}
		if (cases[i].want < 0) {
			cr_assert_eq(r, -EINVAL, "%s", cases[i].url);
			cr_assert(has_error(&dl, "would be sent without encryption", 6), "%s",
				  cases[i].url);
			bool hint = false;
			for (size_t k = 0; k < dl.n; k++) {
				hint |= dl.v[k].hint && strstr(dl.v[k].hint, "https://");
			}
			cr_assert(hint, "%s", cases[i].url);
		} else {
			dump(&dl);
			cr_assert_eq(r, 0, "%s", cases[i].url);
			cr_assert_eq(warnings, (size_t)cases[i].want, "%s", cases[i].url);
			config_free(c);
		}
		diag_list_release(&dl);
		free(text);
	}
}

Test(config, ssh_needs_a_known_host_key)
{
	static const char *const urls[] = { "ssh://git@example.com/acme/webapp.git",
					    "git@example.com:acme/webapp.git" };
	for (size_t i = 0; i < 2; i++) {
		char *text;
		cr_assert_geq(asprintf(&text,
				       "data_dir: /tmp/x\n"
				       "repositories:\n"
				       "  - name: acme/webapp\n"
				       "    forge: gitea\n"
				       "    secret: 0123456789abcdef0123\n"
				       "    clone_url: %s\n",
				       urls[i]),
			      0);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_assert_eq(load(text, &c, &dl), -EINVAL, "%s", urls[i]);
		cr_assert(has_error(&dl, "no host key is configured", 3));
		diag_list_release(&dl);
		free(text);
	}
	static const char ok[] =
		"data_dir: /tmp/x\n"
		"repositories:\n"
		"  - name: acme/webapp\n"
		"    forge: gitea\n"
		"    secret: 0123456789abcdef0123\n"
		"    clone_url: git@example.com:acme/webapp.git\n"
		"    credentials:\n"
		"      ssh_key: /etc/runner/id_ed25519\n"
		"      ssh_public_key: /etc/runner/id_ed25519.pub\n"
		"      ssh_host_key: SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";
	struct server_config *c = NULL;
	struct diag_list dl;
	int r = load(ok, &c, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(c->repos[0].ssh_key, "/etc/runner/id_ed25519");
	config_free(c);
	diag_list_release(&dl);
}

Test(config, retention)
{
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(good, &c, &dl), 0);
	cr_assert_eq(c->retain_runs_ms, 90ull * 86400000, "90 days by default");
	cr_assert_eq(c->retain_deliveries_ms, 90ull * 86400000);
	config_free(c);
	diag_list_release(&dl);

	_cleanup_free_ char *custom =
		tu_strf("%sretention:\n  runs: 30d12h\n  deliveries: off\n", good);
	cr_assert_eq(load(custom, &c, &dl), 0);
	dump(&dl);
	cr_assert_eq(c->retain_runs_ms, 30ull * 86400000 + 12 * 3600000);
	cr_assert_eq(c->retain_deliveries_ms, 0, "off: kept forever");
	config_free(c);
	diag_list_release(&dl);

	static const char bad[] = "data_dir: /tmp/x\n"
				  "retention:\n"
				  "  runs: 90\n"
				  "  deliveries: 1d\n"
				  "  deliverys: 9d\n"
				  "repositories:\n"
				  "  - name: acme/webapp\n"
				  "    forge: github\n"
				  "    secret: 0123456789abcdef0123\n"
				  "    clone_url: https://github.com/acme/webapp.git\n";
	cr_assert_eq(load(bad, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "retention.runs: invalid period '90'", 3), "a bare number");
	cr_assert(has_error(&dl, "retention.deliveries: at least 7d", 4));
	cr_assert(has_error(&dl, "unknown key 'deliverys' in retention", 5));
	bool positioned = false;
	for (size_t i = 0; i < dl.n; i++) {
		positioned |= dl.v[i].line == 3 && dl.v[i].col == 9 && dl.v[i].hint &&
			      strstr(dl.v[i].hint, "off") != NULL;
	}
	cr_assert(positioned, "the error points at the value, and the hint says `off`");
	diag_list_release(&dl);

	static const char zero[] = "data_dir: /tmp/x\n"
				   "retention: { runs: 0s, deliveries: 3651d }\n"
				   "repositories:\n"
				   "  - name: acme/webapp\n"
				   "    forge: github\n"
				   "    secret: 0123456789abcdef0123\n"
				   "    clone_url: https://github.com/acme/webapp.git\n";
	cr_assert_eq(load(zero, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert(has_error(&dl, "retention.runs: invalid period '0s'", 2));
	cr_assert(has_error(&dl, "retention.deliveries: invalid period '3651d'", 2));
	diag_list_release(&dl);
}

/* run_timeout: 0s would turn every run's time limit off; under 1s is refused, as
 * request_timeout is, with the value's position. */
Test(config, run_timeout_is_at_least_a_second)
{
	static const char *const bad[] = { "0s", "0ms", "999ms", "0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_free_ char *text = tu_strf("limits:\n  run_timeout: %s\n%s", bad[i], good);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_assert_eq(load(text, &c, &dl), -EINVAL, "run_timeout: %s accepted", bad[i]);
		dump(&dl);
		bool positioned = false;
		for (size_t k = 0; k < dl.n; k++) {
			positioned |= strstr(dl.v[k].msg, "limits.run_timeout'") &&
				      dl.v[k].line == 2 && dl.v[k].col == 16;
		}
		cr_assert(positioned, "run_timeout: %s: the error points at the value", bad[i]);
		diag_list_release(&dl);
	}
	_cleanup_free_ char *ok = tu_strf("limits: { run_timeout: 1s }\n%s", good);
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(ok, &c, &dl), 0);
	cr_assert_eq(c->max_run_ms, 1000);
	config_free(c);
	diag_list_release(&dl);
}

/* A secret written as a tag or an alias, or without its key: the errors say where, and
 * never quote the text (a secret, in this file). */
Test(config, secrets_are_not_quoted_in_errors)
{
	static const char *const repo_lines[] = {
		"    secret: !Zq8yT3kP9wLmN2vB5xR7\n",
		"    secret: *Zq8yT3kP9wLmN2vB5xR7\n",
		"    secret: 0123456789abcdef0123\n    api: { url: 'http://x', "
		"Zq8yT3kP9wLmN2vB5xR7 }\n",
		"    secret: 0123456789abcdef0123\n    secrets: { Zq8yT3kP9wLmN2vB5xR7 }\n",
		"    secret: 0123456789abcdef0123\n    credentials: { token: "
		"!!Zq8yT3kP9wLmN2vB5xR7 }\n",
	};
	for (size_t i = 0; i < sizeof(repo_lines) / sizeof(repo_lines[0]); i++) {
		_cleanup_free_ char *text =
			tu_strf("data_dir: /tmp/x\n"
				"repositories:\n"
				"  - name: acme/webapp\n"
				"    forge: github\n"
				"    clone_url: https://github.com/acme/webapp.git\n"
				"%s",
				repo_lines[i]);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_assert_eq(load(text, &c, &dl), -EINVAL, "%s", text);
		dump(&dl);
		cr_assert_geq(dl.n, 1);
		for (size_t k = 0; k < dl.n; k++) {
			cr_assert_null(strstr(dl.v[k].msg, "Zq8y"), "quoted: %s", dl.v[k].msg);
			cr_assert(!dl.v[k].hint || !strstr(dl.v[k].hint, "Zq8y"), "%s",
				  dl.v[k].hint);
		}
		cr_assert_geq(dl.v[0].line, 6, "%s: at line %u", dl.v[0].msg, dl.v[0].line);
		diag_list_release(&dl);
	}
}

/* A secret in a key's place (name and value swapped, a duplicate, an unknown key of a
 * secret-bearing mapping): never quoted, the position given; a valid name is still
 * named. */
Test(config, a_secret_in_a_key_position_is_not_quoted)
{
	static const struct {
		const char *lines;
		unsigned line, col;
		const char *needle;
	} cases[] = {
		{ "    secrets: { sk-live-4f9a8b7c6d5e: DEPLOY_KEY }\n", 7, 16,
		  "invalid secret name (not quoted" },
		{ "    secrets:\n      sk-live-4f9a8b7c6d5e: DEPLOY_KEY\n", 8, 7,
		  "invalid secret name (not quoted" },
		{ "    secrets:\n      A: value-one\n      sk-live-4f9a8b7c6d5e: DEPLOY_KEY\n"
		  "      sk-live-4f9a8b7c6d5e: DEPLOY_KEY\n",
		  10, 7, "duplicate key (first defined at line 9, column 7)" },
		{ "    api: { url: 'http://x', sk-live-4f9a8b7c6d5e: token }\n", 7, 29,
		  "unknown key in api (not quoted" },
		{ "    credentials: { sk-live-4f9a8b7c6d5e: username }\n", 7, 20,
		  "unknown key in credentials (not quoted" },
		{ "    sk-live-4f9a8b7c6d5e: secret\n", 7, 5, "unknown key in a repository" },
		{ "    secrets: { DEPLOY_KEY: [sk-live-4f9a8b7c6d5e] }\n", 7, 28,
		  "invalid value for secret 'DEPLOY_KEY'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_free_ char *text =
			tu_strf("data_dir: /tmp/x\n"
				"repositories:\n"
				"  - name: acme/webapp\n"
				"    forge: github\n"
				"    clone_url: https://github.com/acme/webapp.git\n"
				"    secret: 0123456789abcdef0123\n"
				"%s",
				cases[i].lines);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_expect_eq(load(text, &c, &dl), -EINVAL, "%s", text);
		bool found = false;
		for (size_t k = 0; k < dl.n; k++) {
			cr_expect_null(strstr(dl.v[k].msg, "sk-live"), "quoted: %s", dl.v[k].msg);
			cr_expect(!dl.v[k].hint || !strstr(dl.v[k].hint, "sk-live"), "%s",
				  dl.v[k].hint);
			found |= strstr(dl.v[k].msg, cases[i].needle) &&
				 dl.v[k].line == cases[i].line && dl.v[k].col == cases[i].col;
		}
		if (!found) {
			dump(&dl);
		}
		cr_expect(found, "%s: no '%s' at %u:%u", cases[i].lines, cases[i].needle,
			  cases[i].line, cases[i].col);
		config_free(c);
		diag_list_release(&dl);
	}
}

/* good, listening elsewhere, with extra top-level text. */
static char *with_listen(const char *listen, const char *extra)
{
	char *text;
	const char *rest = good + strlen("listen: 127.0.0.1:0\n");
	cr_assert_geq(asprintf(&text, "listen: %s\n%s%s", listen, extra, rest), 0);
	return text;
}

static int load_listen(const char *listen, const char *extra, struct server_config **c,
		       struct diag_list *dl)
{
	char *text = with_listen(listen, extra);
	int r = load(text, c, dl);
	free(text);
	return r;
}

Test(config, loopback_addresses_need_no_token)
{
	static const char *const loopback[] = { "127.0.0.1:8080", "127.1.2.3:80", "'[::1]:8080'",
						"'[::ffff:127.0.0.1]:8080'" };
	for (size_t i = 0; i < sizeof(loopback) / sizeof(*loopback); i++) {
		struct server_config *c = NULL;
		struct diag_list dl;
		int r = load_listen(loopback[i], "", &c, &dl);
		dump(&dl);
		cr_assert_eq(r, 0, "%s", loopback[i]);
		cr_assert_null(c->access_token);
		cr_assert(!c->access_public);
		cr_assert(!c->public_metrics);
		config_free(c);
		diag_list_release(&dl);
	}
}

Test(config, the_network_without_a_token_is_refused)
{
	/* Any address, a host name (even localhost: a name promises nothing), no host. */
	static const char *const open[] = { "0.0.0.0:8080", "192.0.2.10:8080", "'[::]:8080'",
					    "localhost:8080", "':8080'" };
	for (size_t i = 0; i < sizeof(open) / sizeof(*open); i++) {
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_assert_eq(load_listen(open[i], "", &c, &dl), -EINVAL, "%s", open[i]);
		cr_assert(has_error(&dl, "is not a loopback address and no access token is set", 1),
			  "%s", open[i]);
		bool hinted = false;
		for (size_t k = 0; k < dl.n; k++) {
			hinted |= dl.v[k].hint && strstr(dl.v[k].hint, "access.token_file") &&
				  dl.v[k].col > 0;
		}
		cr_assert(hinted, "the error is positioned and says how to set a token");
		diag_list_release(&dl);
	}
	/* Said explicitly: allowed. */
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load_listen("0.0.0.0:8080", "access: { public: true }\n", &c, &dl), 0);
	cr_assert(c->access_public);
	cr_assert_null(c->access_token);
	config_free(c);
	diag_list_release(&dl);
	/* public: false is not a way around it. */
	cr_assert_eq(load_listen("0.0.0.0:8080", "access: { public: false }\n", &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "not a loopback address", 1));
	diag_list_release(&dl);
}

Test(config, access_token_inline)
{
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(
		load_listen("0.0.0.0:8080",
			    "access: { token: api-token-0123456789abcdef, public_metrics: true }\n",
			    &c, &dl),
		0);
	cr_assert_str_eq(c->access_token, "api-token-0123456789abcdef");
	cr_assert(c->public_metrics);
	config_free(c);
	diag_list_release(&dl);

	cr_assert_eq(load_listen("0.0.0.0:8080", "access:\n  token: short\n", &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "access token is shorter than 16", 3));
	diag_list_release(&dl);

	cr_assert_eq(load_listen("127.0.0.1:0",
				 "access:\n  token: api-token-0123456789abcdef\n  public: true\n",
				 &c, &dl),
		     -EINVAL);
	cr_assert(has_error(&dl, "not both", 4));
	diag_list_release(&dl);

	cr_assert_eq(load_listen("127.0.0.1:0", "access: { tokn: x }\n", &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "unknown key 'tokn' in access", 2));
	diag_list_release(&dl);
}

Test(config, access_token_file_must_be_private)
{
	char *dir = tu_tmpdir();
	char *path, *tok;
	cr_assert_geq(asprintf(&path, "%s/server.yml", dir), 0);
	cr_assert_geq(asprintf(&tok, "%s/api-token", dir), 0);
	struct server_config *c = NULL;
	struct diag_list dl;
	tu_write(dir, "api-token", "api-token-from-a-file-0123456789\n");
	tu_write(dir, "server.yml",
		 "listen: 0.0.0.0:8080\n"
		 "data_dir: data\n"
		 "access:\n"
		 "  token_file: api-token\n"
		 "repositories:\n"
		 "  - name: acme/webapp\n"
		 "    forge: gitea\n"
		 "    secret_file: api-token\n"
		 "    clone_url: /srv/git/webapp.git\n");
	chmod(path, 0644); /* no inline secrets: the configuration itself may be readable */

	chmod(tok, 0644);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "a secret file must be", 4));
	diag_list_release(&dl);

	chmod(tok, 0640);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "a secret file must be", 4));
	diag_list_release(&dl);

	chmod(tok, 0600);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), 0);
	cr_assert_str_eq(c->access_token, "api-token-from-a-file-0123456789");
	config_free(c);
	diag_list_release(&dl);

	chmod(tok, 0400);
	diag_list_init(&dl, 20);
	cr_assert_eq(config_load(path, &c, &dl), 0, "stricter than 0600 is fine");
	config_free(c);
	diag_list_release(&dl);

	/* Someone else's file: refused (testable where the test may give files away). */
	if (geteuid() == 0) {
		cr_assert_eq(chown(tok, 65534, 65534), 0);
		diag_list_init(&dl, 20);
		cr_assert_eq(config_load(path, &c, &dl), -EINVAL);
		cr_assert(has_error(&dl, "a secret file must be", 4));
		diag_list_release(&dl);
	}
	free(path);
	free(tok);
	tu_rmdir(dir);
	free(dir);
}

/*
 * No duration, size or count may turn a protection off: retry.timeout 0s was libcurl's "no
 * timeout" (one forge that never answers held every status and the shutdown), 1ms failed
 * every call; connection_timeout 0s was libmicrohttpd's; retry.backoff 0s retried in a
 * burst. Each bad value is refused at its position (file:line:col), and the bounds
 * themselves are accepted.
 */
Test(config, every_duration_and_size_is_bounded_both_ways)
{
	static const struct {
		const char *yaml, *needle;
		unsigned col;
	} bad[] = {
		{ "retry:\n  timeout: 0s\n", "'retry.timeout' must be from 1s to 5m", 12 },
		{ "retry:\n  timeout: 1ms\n", "'retry.timeout' must be from 1s to 5m", 12 },
		{ "retry:\n  timeout: 999ms\n", "'retry.timeout'", 12 },
		{ "retry:\n  timeout: 6m\n", "'retry.timeout'", 12 },
		{ "retry:\n  timeout: 24h\n", "'retry.timeout'", 12 },
		{ "retry:\n  backoff: 0s\n", "'retry.backoff' must be from 10ms to 1h", 12 },
		{ "retry:\n  backoff: 2h\n", "'retry.backoff'", 12 },
		{ "retry:\n  max_backoff: 0s\n", "'retry.max_backoff'", 16 },
		{ "retry:\n  max_backoff: 2d\n", "'retry.max_backoff'", 16 },
		{ "retry:\n  max_backoff: 1s\n  backoff: 2s\n", "must not be shorter", 16 },
		{ "limits:\n  connection_timeout: 0s\n", "'limits.connection_timeout'", 23 },
		{ "limits:\n  connection_timeout: 500ms\n", "'limits.connection_timeout'", 23 },
		{ "limits:\n  connection_timeout: 2h\n", "'limits.connection_timeout'", 23 },
		{ "limits:\n  request_timeout: 0s\n", "'limits.request_timeout'", 20 },
		{ "limits:\n  request_timeout: 2h\n", "'limits.request_timeout'", 20 },
		{ "limits:\n  run_timeout: 8d\n", "'limits.run_timeout'", 16 },
		{ "# grace\nshutdown_grace: 2h\n", "'shutdown_grace' must be from 0s to 1h", 17 },
		{ "limits:\n  max_body: 1\n", "'max_body': invalid size (from 1 KiB", 13 },
		{ "limits:\n  max_body: 2GiB\n", "'max_body': invalid size", 13 },
		{ "limits:\n  max_inflight: 0\n", "'max_inflight': invalid size", 17 },
		{ "limits:\n  max_inflight: 1TiB\n", "'max_inflight': invalid size", 17 },
		{ "limits:\n  min_free: 1\n", "'min_free': invalid size (from 1 MiB", 13 },
		{ "retry:\n  attempts: 0\n", "'attempts' must be a number from 1", 13 },
		{ "limits:\n  max_queued: 0\n", "'max_queued' must be a number from 1 to 1000000",
		  15 },
		{ "limits:\n  max_queued: 1000001\n", "'max_queued' must be a number from 1", 15 },
		{ "untrusted:\n  max_queued: 0\n", "'max_queued' must be a number from 1", 15 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_free_ char *text = tu_strf("%s%s", bad[i].yaml, good);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_expect_eq(load(text, &c, &dl), -EINVAL, "accepted: %s", bad[i].yaml);
		bool positioned = false;
		for (size_t k = 0; k < dl.n; k++) {
			positioned |= strstr(dl.v[k].msg, bad[i].needle) && dl.v[k].line == 2 &&
				      dl.v[k].col == bad[i].col;
		}
		if (!positioned) {
			dump(&dl);
		}
		cr_expect(positioned, "%s: no error '%s' at 2:%u", bad[i].yaml, bad[i].needle,
			  bad[i].col);
		config_free(c);
		diag_list_release(&dl);
	}
	static const char bounds[] =
		"limits: { max_body: 1KiB, max_inflight: 16GiB, connection_timeout: 1s,"
		" request_timeout: 1h, run_timeout: 7d, min_free: 1MiB, max_queued: 1000000 }\n"
		"untrusted: { max_queued: 1 }\n"
		"shutdown_grace: 0s\n"
		"retry: { attempts: 1, backoff: 10ms, max_backoff: 1d, timeout: 1s }\n";
	_cleanup_free_ char *text = tu_strf("%s%s", bounds, good);
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(text, &c, &dl), 0);
	cr_assert_eq(c->http_timeout_ms, 1000);
	cr_assert_eq(c->connection_timeout_ms, 1000);
	cr_assert_eq(c->retry_backoff_ms, 10);
	cr_assert_eq(c->max_inflight, 16ull << 30);
	cr_assert_eq(c->max_queued, 1000000);
	cr_assert_eq(c->untrusted_max_queued, 1);
	config_free(c);
	diag_list_release(&dl);
	/* A backoff above the default max_backoff (1m) raises it rather than being capped. */
	_cleanup_free_ char *up = tu_strf("retry: { backoff: 5m, timeout: 5m }\n%s", good);
	cr_assert_eq(load(up, &c, &dl), 0);
	cr_assert_eq(c->retry_backoff_ms, 300000);
	cr_assert_eq(c->retry_max_backoff_ms, 300000);
	cr_assert_eq(c->http_timeout_ms, 300000);
	config_free(c);
	diag_list_release(&dl);
}

/* retention.runs: 1ms was accepted, and pruned runs minutes old (a failed one turned its
 * commit green, see test-store.c); at least a day. */
Test(config, retention_runs_is_at_least_a_day)
{
	static const char *const bad[] = { "1ms", "1s", "1h", "23h59m" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_free_ char *text = tu_strf("retention:\n  runs: %s\n%s", bad[i], good);
		struct server_config *c = NULL;
		struct diag_list dl;
		cr_expect_eq(load(text, &c, &dl), -EINVAL, "runs: %s accepted", bad[i]);
		bool positioned = false;
		for (size_t k = 0; k < dl.n; k++) {
			positioned |= strstr(dl.v[k].msg, "retention.runs: at least 1d") &&
				      dl.v[k].line == 2 && dl.v[k].col == 9;
		}
		cr_expect(positioned, "runs: %s: no error at 2:9", bad[i]);
		config_free(c);
		diag_list_release(&dl);
	}
	_cleanup_free_ char *ok = tu_strf("retention: { runs: 1d }\n%s", good);
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(ok, &c, &dl), 0);
	cr_assert_eq(c->retain_runs_ms, 86400000);
	config_free(c);
	diag_list_release(&dl);
}

/* Findings of the history scan accepted by the server's operator: gate allow entries, by
 * id or fingerprint, each with a reason and an expiry date, and no path (the history has
 * commits and paths, not one tree's files). */
Test(config, history_allow_entries_are_checked)
{
	char *text = tu_strf("%s"
			     "    history_allow:\n"
			     "      - fingerprint: 0f1e2d3c\n"
			     "        reason: a test key, revoked\n"
			     "        expires: 2027-01-31\n"
			     "      - id: secret.generic-api-key\n"
			     "        reason: the fixtures' made-up keys\n"
			     "        expires: 2027-02-28\n",
			     good);
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(text, &c, &dl), 0);
	cr_assert_eq(c->repos[0].n_history_allow, 2);
	cr_assert_str_eq(c->repos[0].history_allow[0].fingerprint, "0f1e2d3c");
	cr_assert_null(c->repos[0].history_allow[0].id);
	cr_assert_str_eq(c->repos[0].history_allow[1].id, "secret.generic-api-key");
	cr_assert_str_eq(c->repos[0].history_allow[1].expires, "2027-02-28");
	/* An entry by rule is valid, and said to be broad; one by fingerprint is not. */
	cr_assert_eq(dl.n, 1);
	cr_assert_eq(dl.v[0].level, DIAG_WARNING);
	cr_assert_eq(dl.v[0].line, 12);
	cr_assert_not_null(strstr(dl.v[0].msg, "every finding of rule 'secret.generic-api-key'"),
			   "%s", dl.v[0].msg);
	cr_assert_not_null(strstr(dl.v[0].msg, "in every commit"), "%s", dl.v[0].msg);
	config_free(c);
	diag_list_release(&dl);
	free(text);

	text = tu_strf("%s"
		       "    history_allow:\n"
		       "      - fingerprint: 0f1e2d3c\n"
		       "        path: tests/*\n"
		       "        reason: a test key\n"
		       "        expires: 2027-01-31\n"
		       "      - id: secret.generic-api-key\n"
		       "        expires: 2027-02-30\n"
		       "      - { fingerprint: aa, id: bb, reason: both, expires: 2027-01-01 }\n",
		       good);
	c = NULL;
	cr_assert_eq(load(text, &c, &dl), -EINVAL);
	dump(&dl);
	cr_assert_null(c);
	cr_assert(has_error(&dl, "take no path", 10));
	cr_assert(has_error(&dl, "needs a reason", 13));
	cr_assert(has_error(&dl, "invalid expiry date", 14));
	cr_assert(has_error(&dl, "exactly one of `id` and `fingerprint`", 15));
	diag_list_release(&dl);
	free(text);

	text = tu_strf("%s    history_allow: { fingerprint: 0f1e2d3c }\n", good);
	cr_assert_eq(load(text, &c, &dl), -EINVAL);
	cr_assert(has_error(&dl, "history_allow must be a sequence", 8));
	diag_list_release(&dl);
	free(text);
}

/* The server's log quotes remotes and the errors of libgit2 and curl: whatever a message
 * or an extra field says, no URL's credential is written. */
static struct server_config *loaded(const char *listen, const char *extra)
{
	struct server_config *c = NULL;
	struct diag_list dl;
	int r = load_listen(listen, extra, &c, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	diag_list_release(&dl);
	return c;
}

/* good[] with the repository's secret lines replaced by `lines` (indented by 4). */
static char *with_secret_lines(const char *lines)
{
	char *t;
	cr_assert_geq(asprintf(&t,
			       "listen: 127.0.0.1:0\n"
			       "data_dir: /tmp/runner-data\n"
			       "repositories:\n"
			       "  - name: acme/webapp\n"
			       "    forge: github\n"
			       "    clone_url: https://github.com/acme/webapp.git\n"
			       "%s",
			       lines),
		      0);
	return t;
}

Test(config, a_previous_webhook_secret_is_accepted_until_its_end)
{
	static const char cur[] = "new-secret-0123456789";
	static const char old[] = "old-secret-9876543210";
	char *in_an_hour = tu_utc(3600, true);
	char *lines;
	cr_assert_geq(asprintf(&lines,
			       "    secret: %s\n"
			       "    previous_secret: %s\n"
			       "    previous_secret_expires: %s\n",
			       cur, old, in_an_hour),
		      0);
	char *text = with_secret_lines(lines);
	struct server_config *c = NULL;
	struct diag_list dl;
	int r = load(text, &c, &dl);
	dump(&dl);
	cr_assert_eq(r, 0);
	cr_assert_eq(dl.n, 0);
	const struct repo_config *repo = &c->repos[0];
	cr_assert_str_eq(repo->previous_secret.value, old);
	cr_assert_str_eq(repo->previous_secret.expires, in_an_hour);
	const char *s[2];
	int64_t now = time(NULL);
	cr_assert_eq(repo_webhook_secrets(repo, now, s), 2);
	cr_assert_str_eq(s[0], cur);
	cr_assert_str_eq(s[1], old);
	/* The end is excluded: an hour from now, to the second. */
	cr_assert_eq(repo_webhook_secrets(repo, repo->previous_secret.until - 1, s), 2);
	cr_assert_eq(repo_webhook_secrets(repo, repo->previous_secret.until, s), 1);
	cr_assert_str_eq(s[0], cur);
	cr_assert(repo->previous_secret.until >= now + 3599 &&
		  repo->previous_secret.until <= now + 3601);
	config_free(c);
	diag_list_release(&dl);
	free(text);
	free(lines);

	/* A date is through that day (UTC). */
	char *today = tu_utc(0, false);
	cr_assert_geq(asprintf(&lines,
			       "    secret: %s\n"
			       "    previous_secret: %s\n"
			       "    previous_secret_expires: %s\n",
			       cur, old, today),
		      0);
	text = with_secret_lines(lines);
	cr_assert_eq(load(text, &c, &dl), 0);
	cr_assert_eq(c->repos[0].previous_secret.until % 86400, 0);
	cr_assert_gt(c->repos[0].previous_secret.until, now);
	cr_assert_leq(c->repos[0].previous_secret.until, now + 86400);
	config_free(c);
	diag_list_release(&dl);
	free(text);
	free(lines);
	free(today);
	free(in_an_hour);
}

Test(config, a_previous_webhook_secret_needs_a_near_end)
{
	static const char cur[] = "new-secret-0123456789";
	char *yesterday = tu_utc(-86400, false);
	char *far = tu_utc(91LL * 86400, false);
	char *near = tu_utc(89LL * 86400, false);
	struct {
		const char *prev, *expires; /* NULL: the key is absent */
		const char *error;	    /* NULL: valid */
		unsigned line;
	} cases[] = {
		{ "old-secret-9876543210", NULL, "needs an end ('previous_secret_expires')", 8 },
		{ NULL, near, "'previous_secret_expires' without a 'previous_secret'", 8 },
		{ "old-secret-9876543210", "tomorrow", "invalid 'previous_secret_expires'", 9 },
		{ "old-secret-9876543210", "2026-02-30", "invalid 'previous_secret_expires'", 9 },
		{ "old-secret-9876543210", "2026-12-01T24:00:00Z",
		  "invalid 'previous_secret_expires'", 9 },
		{ "old-secret-9876543210", "2026-12-01 10:00:00",
		  "invalid 'previous_secret_expires'", 9 },
		{ "old-secret-9876543210", far, "more than 90 days away", 9 },
		{ "old-secret", near, "shorter than 16 characters", 8 },
		{ cur, near, "is its current one", 8 },
		{ "old-secret-9876543210", near, NULL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *lines;
		cr_assert_geq(asprintf(&lines, "    secret: %s\n%s%s%s%s%s%s", cur,
				       cases[i].prev ? "    previous_secret: " : "",
				       cases[i].prev ? cases[i].prev : "",
				       cases[i].prev ? "\n" : "",
				       cases[i].expires ? "    previous_secret_expires: " : "",
				       cases[i].expires ? cases[i].expires : "",
				       cases[i].expires ? "\n" : ""),
			      0);
		char *text = with_secret_lines(lines);
		struct server_config *c = NULL;
		struct diag_list dl;
		int r = load(text, &c, &dl);
		if (cases[i].error) {
			dump(&dl);
			cr_assert_eq(r, -EINVAL, "case %zu", i);
			cr_assert(has_error(&dl, cases[i].error, cases[i].line), "case %zu: %s", i,
				  cases[i].error);
			for (size_t k = 0; k < dl.n; k++) {
				cr_assert_null(strstr(dl.v[k].msg, "9876543210"),
					       "a secret quoted");
			}
		} else {
			cr_assert_eq(r, 0, "case %zu", i);
			config_free(c);
		}
		diag_list_release(&dl);
		free(text);
		free(lines);
	}

	/* One that has ended is valid, said as a warning, and accepted no more. */
	char *lines;
	cr_assert_geq(asprintf(&lines,
			       "    secret: %s\n"
			       "    previous_secret: old-secret-9876543210\n"
			       "    previous_secret_expires: %s\n",
			       cur, yesterday),
		      0);
	char *text = with_secret_lines(lines);
	struct server_config *c = NULL;
	struct diag_list dl;
	cr_assert_eq(load(text, &c, &dl), 0);
	cr_assert_eq(dl.n, 1);
	cr_assert_eq(dl.v[0].level, DIAG_WARNING);
	cr_assert_eq(dl.v[0].line, 9);
	cr_assert_not_null(strstr(dl.v[0].msg, "expired"), "%s", dl.v[0].msg);
	const char *s[2];
	cr_assert_eq(repo_webhook_secrets(&c->repos[0], time(NULL), s), 1);
	cr_assert_str_eq(s[0], cur);
	config_free(c);
	diag_list_release(&dl);
	free(text);
	free(lines);
	free(yesterday);
	free(far);
	free(near);
}

Test(config, a_previous_access_token_needs_a_current_one_and_an_end)
{
	char *near = tu_utc(86400, false);
	struct {
		const char *access; /* then previous_token_expires: near when `end` */
		bool end;
		const char *error;
		unsigned line;
	} cases[] = {
		{ "  previous_token: previous-token-0123456789\n", false, "needs an end", 4 },
		{ "  previous_token: previous-token-0123456789\n", true,
		  "a previous access token without a current one", 4 },
		{ "  token: current-token-0123456789\n  previous_token: current-token-0123456789\n",
		  true, "the previous access token is its current one", 5 },
		{ "  token: current-token-0123456789\n  previous_token: "
		  "previous-token-0123456789\n",
		  true, NULL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text;
		cr_assert_geq(asprintf(&text,
				       "listen: 127.0.0.1:0\n"
				       "data_dir: /tmp/d\n"
				       "access:\n"
				       "%s%s%s%s"
				       "repositories:\n"
				       "  - name: acme/webapp\n"
				       "    forge: github\n"
				       "    secret: 0123456789abcdef0123\n"
				       "    clone_url: https://github.com/acme/webapp.git\n",
				       cases[i].access,
				       cases[i].end ? "  previous_token_expires: " : "",
				       cases[i].end ? near : "", cases[i].end ? "\n" : ""),
			      0);
		struct server_config *c = NULL;
		struct diag_list dl;
		int r = load(text, &c, &dl);
		dump(&dl);
		if (cases[i].error) {
			cr_assert_eq(r, -EINVAL, "case %zu", i);
			cr_assert(has_error(&dl, cases[i].error, cases[i].line), "case %zu", i);
		} else {
			cr_assert_eq(r, 0, "case %zu", i);
			cr_assert_str_eq(c->previous_access_token.value,
					 "previous-token-0123456789");
			cr_assert(config_previous_valid(&c->previous_access_token, time(NULL)));
			cr_assert_not(config_previous_valid(&c->previous_access_token,
							    c->previous_access_token.until));
			config_free(c);
		}
		diag_list_release(&dl);
		free(text);
	}
	free(near);
}

Test(config, a_reload_names_what_takes_a_restart)
{
	struct server_config *a = loaded("127.0.0.1:0", "limits: { concurrency: 2 }\n");
	/* What the loops and requests read each time may change. */
	struct server_config *b =
		loaded("127.0.0.1:0", "limits: { concurrency: 5, max_attempts: 2 }\n"
				      "paused: true\nlog_level: debug\n"
				      "access: { token: 0123456789abcdef-token }\n");
	char keys[256] = "x";
	cr_assert_eq(config_restart_only(a, b, keys, sizeof(keys)), 0);
	cr_assert_str_eq(keys, "");
	config_free(b);
	/* What is set when the server starts listening may not. */
	b = loaded("127.0.0.1:8080",
		   "limits: { concurrency: 2, max_body: 1MiB, request_timeout: 5s }\n");
	cr_assert_eq(config_restart_only(a, b, keys, sizeof(keys)), 3);
	cr_assert_str_eq(keys, "listen, limits.max_body, limits.request_timeout");
	/* A short buffer gets the keys that fit whole, never more; the count stays right. */
	char small[12];
	cr_assert_eq(config_restart_only(a, b, small, sizeof(small)), 3);
	cr_assert_str_eq(small, "listen");
	config_free(b);
	b = loaded("127.0.0.1:0",
		   "limits: { concurrency: 2, connections: 10, connections_per_ip: 2,\n"
		   "  connection_timeout: 3s, max_inflight: 2MiB }\n");
	cr_assert_eq(config_restart_only(a, b, keys, sizeof(keys)), 4);
	cr_assert_str_eq(keys, "limits.max_inflight, limits.connections, "
			       "limits.connections_per_ip, limits.connection_timeout");
	config_free(b);
	config_free(a);
}

Test(live, a_replaced_configuration_lives_until_its_last_user_is_done)
{
	struct server_config *a = loaded("127.0.0.1:0", "");
	struct server_config *b = loaded("127.0.0.1:0", "paused: true\n");
	struct server_config *c = loaded("127.0.0.1:0", "log_level: warn\n");
	struct live *l = live_new(a);
	const struct server_config *g1 = live_get(l), *g2 = live_get(l);
	cr_assert_eq(g1, a);
	cr_assert_eq(live_generation(l), 0);
	live_replace(l, b);
	cr_assert_eq(live_generation(l), 1);
	const struct server_config *g3 = live_get(l);
	cr_assert_eq(g3, b, "new users get the new one");
	/* The old one is still whole for its users (ASan would see a use after free). */
	live_put(l, g1);
	cr_assert_str_eq(g2->repos[0].secret, "0123456789abcdef0123");
	cr_assert_not(g2->paused);
	live_put(l, g2); /* its last user: freed */
	/* b is replaced while nobody but g3 uses it, then c while nobody uses b. */
	live_replace(l, c);
	cr_assert(g3->paused);
	live_put(l, g3);
	const struct server_config *g4 = live_get(l);
	cr_assert_eq(g4, c);
	cr_assert_eq(g4->log_level, LOG_WARN);
	live_put(l, g4);
	/* Replaced with no user at all: freed at once; the last one with the live set. */
	live_replace(l, loaded("127.0.0.1:0", ""));
	cr_assert_eq(live_generation(l), 3);
	live_free(l);
}

Test(slog, no_urls_credential_reaches_the_log)
{
	char path[] = "/tmp/slog-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	slog_set_fd(fd);
	json_t *extra = json_pack("{s:s, s:{s:s}, s:[s], s:i}", "url",
				  "https://deploy:ghp_SECRET1@forge.example/o/r.git", "inner",
				  "remote", "ssh://git:SECRET2@host:22/r", "list",
				  "git+https://x:SECRET4@h/p", "n", 3);
	slog(LOG_ERROR, "fetch.failed", &(struct slog_ctx){ .run = 7 }, extra,
	     "cannot fetch 'https://u:pa?SECRET3#x@host/r': %s", "refused");
	/* A message longer than the cap is masked before it is cut. */
	char *pad = xmalloc(2100);
	memset(pad, 'p', 2030);
	pad[2030] = '\0';
	slog(LOG_ERROR, "fetch.failed", NULL, NULL, "%s https://u:SECRET5@host/r", pad);
	free(pad);
	slog_set_fd(2);
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_null(strstr(buf, "SECRET"), "%s", buf);
	json_t *o = json_loadb(buf, (size_t)(strchr(buf, '\n') - buf), 0, NULL);
	cr_assert_not_null(o, "%s", buf);
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")),
			 "cannot fetch 'https://***@host/r': refused");
	cr_assert_str_eq(json_string_value(json_object_get(o, "url")),
			 "https://***@forge.example/o/r.git");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "inner"), "remote")),
			 "ssh://***@host:22/r");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "list"), 0)),
			 "git+https://***@h/p");
	cr_assert_eq(json_integer_value(json_object_get(o, "n")), 3);
	cr_assert_eq(json_integer_value(json_object_get(o, "run_id")), 7);
	json_decref(o);
}
