/*
 * test-views.c - the server's HTML pages, rendered from a job as the store gives it.
 */
#include <criterion/criterion.h>

#include "config.h"
#include "store.h"
#include "views.h"

#include <stdlib.h>
#include <string.h>

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
