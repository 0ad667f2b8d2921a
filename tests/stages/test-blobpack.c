/*
 * test-blobpack.c - the blobs of a history scan as one file: written, unpacked as a tree
 * (each blob under each of its names, the others links to the first), and every pack that
 * is not exactly one refused whole.
 */
#include <criterion/criterion.h>

#include "blobpack.h"
#include "util.h"

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_A "0123456789abcdef0123456789abcdef01234567"
#define ID_B "89abcdef0123456789abcdef0123456789abcdef"

/* A file of n bytes of data in a new directory; *dir gets the directory. */
static char *raw(char **dir, const char *data, size_t n)
{
	*dir = tu_tmpdir();
	char *path = tu_strf("%s/blobs.pack", *dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_all(fd, data, n), 0);
	close(fd);
	return path;
}

Test(blobpack, written_and_unpacked)
{
	char *dir = tu_tmpdir(), *dest = tu_tmpdir();
	char *path = tu_strf("%s/blobs.pack", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	uint64_t at = 0;
	const char *names_a[] = { "a.txt", "b.yml" }, *names_b[] = { "blob" };
	cr_assert_eq(blobpack_add(fd, &at, ID_A, names_a, 2, "one\n", 4), 0);
	cr_assert_eq(blobpack_add(fd, &at, ID_B, names_b, 1, "x\0y", 3), 0);
	/* Nothing the format cannot hold is written. */
	const char *bad[] = { "..", "a/b", "" };
	for (size_t i = 0; i < 3; i++) {
		cr_expect_eq(blobpack_add(fd, &at, ID_B, &bad[i], 1, "", 0), -EINVAL, "%s", bad[i]);
	}
	cr_expect_eq(blobpack_add(fd, &at, "ABC", names_b, 1, "", 0), -EINVAL);
	close(fd);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq((uint64_t)st.st_size, at);
	char err[300] = "";
	cr_assert_eq(blobpack_unpack(path, dest, err, sizeof(err)), 2, "%s", err);
	char *a = tu_readf("%s/01/%s/a.txt", dest, ID_A + 2);
	cr_expect_str_eq(a, "one\n");
	struct stat s1, s2;
	char *p1 = tu_strf("%s/01/%s/a.txt", dest, ID_A + 2),
	     *p2 = tu_strf("%s/01/%s/b.yml", dest, ID_A + 2),
	     *p3 = tu_strf("%s/89/%s/blob", dest, ID_B + 2);
	cr_assert_eq(stat(p1, &s1), 0);
	cr_assert_eq(stat(p2, &s2), 0);
	cr_expect_eq(s1.st_ino, s2.st_ino, "the second name is a link");
	cr_assert_eq(stat(p3, &s1), 0);
	cr_expect_eq(s1.st_size, 3, "bytes as they are, NUL included");
	free(p1);
	free(p2);
	free(p3);
	free(a);
	free(path);
	tu_rmdir(dir);
	tu_rmdir(dest);
	free(dir);
	free(dest);
}

#define HEAD "runner-blobpack 1\n"
#define PACK(s)                  \
	{                        \
		s, sizeof(s) - 1 \
	}

Test(blobpack, anything_but_a_pack_is_refused)
{
	static const struct {
		const char *data;
		size_t n;
	} cases[] = {
		PACK(""),
		PACK("runner-blobpack 2\n"),
		PACK(HEAD "0123\n"),
		PACK(HEAD ID_A " 4 1\na.txt\0one"), /* ends early */
		PACK(HEAD ID_A " 3 1\na.txt\0one"
			       "x"),					/* goes on after its end */
		PACK(HEAD ID_A " 3 1\n..\0one"),			/* not a name */
		PACK(HEAD ID_A " 3 1\na/b\0one"),			/* not one component */
		PACK(HEAD ID_A " 3 1\n\0one"),				/* empty */
		PACK(HEAD ID_A " 3 0\none"),				/* no name */
		PACK(HEAD ID_A " 3 9\na\0b\0c\0d\0e\0f\0g\0h\0i\0one"), /* too many names */
		PACK(HEAD ID_A " 3 2\na\0a\0one"),			/* a name twice */
		PACK(HEAD ID_A " 03 1\na\0one"),			/* not as written */
		PACK(HEAD ID_A " -3 1\na\0one"),
		PACK(HEAD ID_A " 99999999999999999999 1\na\0one"),
		PACK(HEAD "0123456789ABCDEF0123456789abcdef01234567 3 1\na\0one"),
		PACK(HEAD ID_A " 3 1\na\0one" ID_A " 3 1\nb\0two"), /* a blob twice */
		PACK("runner-blob"),				    /* shorter than its header */
		PACK(HEAD ID_A " 3 1\n.\0one"),			    /* not a name */
		PACK(HEAD ID_A " 3 1\n../../../x\0one"),	    /* out of the directory */
		PACK(HEAD ID_A " 3 1\nabc"),			    /* a name with no NUL */
		PACK(HEAD ID_A " 3 9999999999999999999\na\0one"),   /* a huge count */
		PACK(HEAD ID_A " 18446744073709551 1\na\0one"),	    /* beyond the file */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir, *dest = tu_tmpdir();
		char *path = raw(&dir, cases[i].data, cases[i].n);
		char err[300] = "";
		long r = blobpack_unpack(path, dest, err, sizeof(err));
		cr_expect_eq(r, -EBADMSG, "case %zu: %ld (%s)", i, r, err);
		cr_expect(strstr(err, "blobs.pack") || strstr(err, "twice"), "case %zu: %s", i,
			  err);
		free(path);
		tu_rmdir(dir);
		tu_rmdir(dest);
		free(dir);
		free(dest);
	}
	char *dest;
	/* A name that is not one component is refused as read, never left to the file
	 * system (where `.` would fail as a name given twice, and `..` as a directory). */
	static const char *const names[] = { ".", "..", "../../../x", "a/b", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *dir, *data = tu_strf(HEAD ID_A " 3 1\n%s", names[i]);
		size_t n = strlen(data) + 1;
		data = realloc(data, n + 3);
		memcpy(data + n, "one", 3);
		char *path = raw(&dir, data, n + 3), err[300] = "";
		dest = tu_tmpdir();
		cr_expect_eq(blobpack_unpack(path, dest, err, sizeof(err)), -EBADMSG, "%s", err);
		cr_expect(strstr(err, "is not a pack of blobs"), "'%s': %s", names[i], err);
		free(data);
		free(path);
		tu_rmdir(dir);
		tu_rmdir(dest);
		free(dir);
		free(dest);
	}
	/* A pack that is not a regular file, or not there. */
	char err[300] = "";
	dest = tu_tmpdir();
	cr_expect_eq(blobpack_unpack(dest, dest, err, sizeof(err)), -EBADMSG, "%s", err);
	cr_expect_eq(blobpack_unpack("/nonexistent/blobs.pack", dest, err, sizeof(err)), -ENOENT);
	tu_rmdir(dest);
	free(dest);
}

/* A pack that is a FIFO or a directory is refused at once: opening a FIFO for reading
 * would wait for a writer that never comes, until the stage's timeout. */
Test(blobpack, a_fifo_or_a_directory_is_refused_without_waiting, .timeout = 20)
{
	char *dir = tu_tmpdir(), *dest = tu_tmpdir();
	char *fifo = xasprintf("%s/blobs.pack", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	char err[300] = "";
	long r = blobpack_unpack(fifo, dest, err, sizeof(err));
	cr_expect_eq(r, -EBADMSG, "fifo: %ld (%s)", r, err);
	cr_expect(strstr(err, "not a pack of blobs"), "fifo: %s", err);
	r = blobpack_unpack(dir, dest, err, sizeof(err));
	cr_expect_eq(r, -EBADMSG, "directory: %ld (%s)", r, err);
	free(fifo);
	tu_rmdir(dir);
	tu_rmdir(dest);
	free(dir);
	free(dest);
}
