/*
 * test-views.c - the server's HTML pages, rendered from a job as the store gives it.
 */
#include <criterion/criterion.h>

#include "config.h"
#include "diag.h"
#include "jobrun.h"
#include "record.h"
#include "store.h"
#include "views.h"

#include "testutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAG_OBJECT "1111111111111111111111111111111111111111"
#define COMMIT	   "2222222222222222222222222222222222222222"

static struct job tag_job(bool peel)
{
	struct job j = {
		.id = 7,
		.repo = (char *)"acme/app",
		.forge = (char *)"github",
		.delivery = (char *)"d-7",
		.event = (char *)"push",
		.ref = (char *)"refs/tags/v1",
		.branch = (char *)"",
		.tag = (char *)"v1",
		.peel = peel,
		.base_branch = (char *)"",
		.supersede_key = (char *)"",
		.state = JOB_RUNNING,
		.attempts = 1,
		.exit_code = -1,
		.message = (char *)"",
		.run_id = (char *)"7.1",
		.created_ms = 1,
		.started_ms = 2,
	};
	memcpy(j.sha, peel ? TAG_OBJECT : COMMIT, 41);
	if (!peel) {
		memcpy(j.tag_object, TAG_OBJECT, 41);
	}
	return j;
}

/* While a tag's run has not read its tag, the id the push named (which may be the tag
 * object) is not shown as the run's commit, on the run's page nor in the list of runs;
 * once it has, the commit is, and the tag object beside it. */
Test(views, an_unresolved_tag_shows_no_commit)
{
	struct server_config c = { .data_dir = "/nonexistent" };
	struct job j = tag_job(true);
	char *html = views_run_html(&c, &j);
	cr_assert_not_null(html);
	cr_expect_null(strstr(html, "<th>Commit</th><td><code>" TAG_OBJECT), "%s", html);
	cr_expect_not_null(strstr(html,
				  "<th>Commit</th><td>not resolved yet (the push named "
				  "<code>" TAG_OBJECT "</code>, which may be the tag object)"),
			   "%s", html);
	free(html);
	html = views_index_html(&c, &j, 1, 1);
	cr_assert_not_null(html);
	cr_expect_null(strstr(html, "<code>111111111111</code>"), "%s", html);
	cr_expect_not_null(strstr(html, "not resolved yet"), "%s", html);
	free(html);

	j = tag_job(false);
	html = views_run_html(&c, &j);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(html, "<th>Commit</th><td><code>" COMMIT "</code>"), "%s", html);
	cr_expect_not_null(strstr(html, "<th>Tag object</th><td><code>" TAG_OBJECT "</code>"), "%s",
			   html);
	cr_expect_null(strstr(html, "not resolved yet"), "%s", html);
	free(html);
	html = views_index_html(&c, &j, 1, 1);
	cr_expect_not_null(strstr(html, "<code>222222222222</code>"), "%s", html);
	free(html);
}

/*
 * An attempt whose directory could not be given its claim (here: the file size limit
 * makes the write of claim.json fail) leaves no directory under the run's name: the run's
 * page says it has no record yet, never that its directory was not made by it. Before,
 * the directory was made first and claim.json written into it after, and what stopped the
 * attempt in between (for a few milliseconds on every start) showed the run as having a
 * foreign directory.
 */
Test(views, an_attempt_that_cannot_claim_its_directory_leaves_none, .timeout = 60)
{
	char *data = tu_tmpdir();
	char *spec = tu_strf("{\"data_dir\": \"%s\", \"repo_key\": \"github-acme+app\", "
			     "\"run_id\": \"7.1\", \"job\": 7, \"claimed_ms\": 2, "
			     "\"sha\": \"%s\", \"ref\": \"refs/heads/main\", "
			     "\"event\": \"push\", \"branch\": \"main\"}",
			     data, COMMIT);
	int sfd = memfd_create("spec", 0);
	cr_assert_geq(sfd, 0);
	cr_assert_eq(write(sfd, spec, strlen(spec)), (ssize_t)strlen(spec));
	cr_assert_eq(lseek(sfd, 0, SEEK_SET), 0);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	/* Above the fds the child's layout uses. */
	sfd = fcntl(sfd, F_DUPFD, 10);
	int cfd = fcntl(p[0], F_DUPFD, 10);
	cr_assert(sfd >= 10 && cfd >= 10);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(sfd, JOBRUN_SPEC_FD) < 0 || dup2(cfd, JOBRUN_CANCEL_FD) < 0) {
			_exit(99);
		}
		/* Writing a byte more than this fails with EFBIG (the signal ignored). */
		struct rlimit rl = { 4, 4 };
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0) {
			_exit(98);
		}
		execl(tu_runner(), "runner", "__job", (char *)NULL);
		_exit(97);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 4, "status %d", st);
	char *runs = tu_strf("%s/repos/github-acme+app/runs", data);
	char *dir = tu_strf("%s/7.1", runs);
	cr_expect_eq(jobrun_run_dir_is_own(dir, 7, "7.1", 2), -ENOENT,
		     "the attempt left a directory without its claim");
	DIR *d = opendir(runs);
	cr_assert_not_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		cr_expect(e->d_name[0] == '.' && strncmp(e->d_name, RECORD_NEW_PREFIX, 5) != 0,
			  "left in runs/: %s", e->d_name);
	}
	closedir(d);
	free(dir);
	free(runs);
	close(sfd);
	close(cfd);
	close(p[0]);
	close(p[1]);
	free(spec);
	tu_rmdir(data);
	free(data);
}

/*
 * A report.json larger than the server reads (64 MiB; a pipeline of many scan stages can
 * write one) is not taken for a run without a report: the run's page says plainly that the
 * report is too large to show and names the file, the gate is not shown as clear (it
 * showed "—" for a blocked run, and no stages), and the API says the same.
 */
Test(views, a_report_too_large_to_show_is_said_so, .timeout = 60)
{
	char *data = tu_tmpdir();
	char *yaml = tu_strf("data_dir: %s\n"
			     "repositories:\n"
			     "  - name: acme/app\n"
			     "    forge: github\n"
			     "    secret: views-secret-0123456789\n"
			     "    clone_url: /nonexistent\n",
			     data);
	struct server_config *c = NULL;
	struct diag_list dl;
	diag_list_init(&dl, 10);
	cr_assert_eq(config_load_buffer("server.yml", yaml, strlen(yaml), &c, &dl), 0);
	diag_list_release(&dl);
	const struct repo_config *r = config_find_repo(c, FORGE_GITHUB, "acme/app");
	cr_assert_not_null(r);
	char *dir = jobrun_run_dir(data, r->key, "7.1");
	cr_assert_eq(mkdir_p(dir, 0700), 0);
	tu_write(dir, JOBRUN_CLAIM_FILE, "{\"job\":7,\"run_id\":\"7.1\",\"claimed_ms\":2}");
	/* What the run showed while it went: not what it ended with. */
	tu_write(dir, "live.json",
		 "{\"phase\":\"stages\",\"stages\":[{\"name\":\"lint\",\"status\":\"running\"}]}");
	/* Just over the cap (sparse: nothing is written). */
	char *path = tu_strf("%s/report.json", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "{\"stages\":[", 11), 11);
	cr_assert_eq(ftruncate(fd, (off_t)(64u << 20) + 1), 0);
	close(fd);
	struct job j = tag_job(false);
	j.ref = (char *)"refs/heads/main";
	j.branch = (char *)"main";
	j.tag = (char *)"";
	j.tag_object[0] = '\0';
	j.state = JOB_BLOCKED;
	j.exit_code = 3;
	j.finished_ms = 3;
	char *rel = tu_strf("repos/%s/runs/7.1/report.json", r->key);

	char *html = views_run_html(c, &j);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(html, "too large to show"), "%s", html);
	cr_expect_not_null(strstr(html, rel), "the file is named: %s", html);
	cr_expect_null(strstr(html, "<span class=\"muted\">—</span>"), "no clear gate: %s", html);
	cr_expect_null(strstr(html, "lint"), "no stages of live.json: %s", html);
	free(html);

	json_t *o = views_run_json(c, &j, true);
	const char *why = json_string_value(json_object_get(o, "report_error"));
	cr_assert_not_null(why, "the API says it too");
	cr_expect_not_null(strstr(why, "too large to show"), "%s", why);
	cr_expect_not_null(strstr(why, rel), "%s", why);
	cr_expect_eq(json_array_size(json_object_get(o, "stages")), 0);
	json_decref(o);

	unsigned status = 0;
	o = views_findings_json(c, &j, NULL, NULL, &status);
	cr_expect_eq(status, 500);
	why = json_string_value(json_object_get(o, "error"));
	cr_assert_not_null(why);
	cr_expect_not_null(strstr(why, "too large to show"), "%s", why);
	json_decref(o);

	free(rel);
	free(path);
	free(dir);
	config_free(c);
	free(yaml);
	tu_rmdir(data);
	free(data);
}

/* Deliveries refused because the queue is full have their own label on /metrics: they are
 * not counted with the refused ones (a bad signature, a bad request). */
Test(views, metrics_count_queue_full_refusals_apart)
{
	struct store_counts sc = { 0 };
	struct http_stats hs = { 0 };
	hs.deliveries[VIEWS_DELIVERY_REJECTED] = 3;
	hs.deliveries[VIEWS_DELIVERY_QUEUE_FULL] = 5;
	char *m = views_metrics(&sc, &hs, 0, 0);
	cr_assert_not_null(strstr(m, "runner_webhook_deliveries_total{result=\"rejected\"} 3\n"),
			   "%s", m);
	cr_assert_not_null(strstr(m, "runner_webhook_deliveries_total{result=\"queue_full\"} 5\n"),
			   "%s", m);
	free(m);
}
