/*
 * test-record.c - the run record on disk: a run's directory is its own (claimed with an
 * exclusive mkdir, a taken id drawn again), and the files runs of one record root share
 * (durations.json, runs/latest) are updated under the root's lock.
 */
#include <criterion/criterion.h>

#include "record.h"
#include "util.h"

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

struct ids {
	const char *const *v; /* the ids to hand out, in turn; the last one for ever */
	size_t n, next;
};

static char *next_id(void *userdata)
{
	struct ids *ids = userdata;
	size_t k = ids->next < ids->n ? ids->next : ids->n - 1;
	ids->next++;
	return xstrdup(ids->v[k]);
}

Test(record, run_dir_is_new)
{
	char *root = tu_tmpdir();
	const char *v[] = { "20261128-004000-abcdef" };
	struct ids ids = { v, 1, 0 };
	char *id = NULL;
	cr_assert_eq(record_create_run_dir(root, next_id, &ids, &id), 0);
	cr_assert_str_eq(id, v[0]);
	cr_expect(tu_exists("%s/runs/%s", root, id));
	cr_expect(tu_exists("%s/.gitignore", root));
	free(id);
	tu_rmdir(root);
	free(root);
}

/* An id whose directory exists (another run's, which drew the same second and bits) is
 * never written into: the next id is drawn, and what the other run wrote stays its own. */
Test(record, existing_run_dir_draws_another_id)
{
	char *root = tu_tmpdir();
	tu_write(root, "runs/20261128-004000-abcdef/report.json", "{\"theirs\": true}\n");
	const char *v[] = { "20261128-004000-abcdef", "20261128-004000-123456" };
	struct ids ids = { v, 2, 0 };
	char *id = NULL;
	cr_assert_eq(record_create_run_dir(root, next_id, &ids, &id), 0);
	cr_expect_str_eq(id, "20261128-004000-123456");
	cr_expect_eq(ids.next, 2);
	char *theirs = tu_readf("%s/runs/20261128-004000-abcdef/report.json", root);
	cr_expect_str_eq(theirs, "{\"theirs\": true}\n");
	free(theirs);
	free(id);
	tu_rmdir(root);
	free(root);
}

/* Bounded: an id source that only gives taken ids is given up on, with -EEXIST. */
Test(record, taken_ids_give_up)
{
	char *root = tu_tmpdir();
	tu_write(root, "runs/same/report.json", "{}\n");
	const char *v[] = { "same" };
	struct ids ids = { v, 1, 0 };
	char *id = (char *)"unset";
	cr_assert_eq(record_create_run_dir(root, next_id, &ids, &id), -EEXIST);
	cr_expect_null(id);
	cr_expect_eq(ids.next, RECORD_ID_TRIES);
	tu_rmdir(root);
	free(root);
}
