/*
 * artifacts.c - copy outputs into the run record (copy_file_range, which reflinks or
 * copies in the kernel where the file system allows).
 */
#include "artifacts.h"

#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

static int copy_file(int sfd, int dfd, uint64_t size)
{
	uint64_t left = size;
	while (left > 0) {
		ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, (size_t)MIN(left, 1ull << 30), 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EXDEV || errno == ENOSYS || errno == EINVAL) {
				/* Fall back to read/write. */
				char buf[65536];
				ssize_t r = 0;
				while (left > 0 &&
				       (r = read(sfd, buf, (size_t)MIN(left, sizeof(buf)))) > 0) {
					int w = write_all(dfd, buf, (size_t)r);
					if (w < 0) {
						return w;
					}
					left -= (uint64_t)r; /* never past the size counted */
				}
				return r < 0 ? -errno : 0;
			}
			return -errno;
		}
		if (n == 0) {
			break; /* file shrank while copying */
		}
		left -= (uint64_t)n;
	}
	return 0;
}

static int copy_at(int sdir, const char *name, int ddir, struct artifact_budget *b, int depth,
		   char *msg, size_t msgsize)
{
	struct stat st;
	if (depth > 64) {
		snprintf(msg, msgsize, "directory nesting deeper than 64 levels");
		return -ELOOP;
	}
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (b->skip && S_ISDIR(st.st_mode) && st.st_dev == b->skip_dev &&
	    st.st_ino == b->skip_ino) {
		return 0; /* the run record: never an output */
	}
	if (b->entries_left == 0) {
		snprintf(msg, msgsize, "more than %d files in outputs", ARTIFACTS_MAX_ENTRIES);
		return -E2BIG;
	}
	b->entries_left--;
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0) {
			return -errno;
		}
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0) {
			return -errno;
		}
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > b->bytes_left) {
			snprintf(msg, msgsize, "outputs larger than %llu bytes",
				 (unsigned long long)ARTIFACTS_MAX_BYTES);
			return -EFBIG;
		}
		b->bytes_left -= (uint64_t)st.st_size;
		/* Non-blocking, and checked again once open: a FIFO swapped in since the look
		 * above would otherwise block the runner. */
		_cleanup_close_ int sfd =
			openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat ost;
		if (sfd < 0 || fstat(sfd, &ost) < 0) {
			return -errno;
		}
		if (!S_ISREG(ost.st_mode)) {
			snprintf(msg, msgsize, "'%s' changed while it was copied", name);
			return -EINVAL;
		}
		/* The permission bits only: a stage (which may run as root in its sandbox) must
		 * not leave a setuid or setgid file in the run record on the host. */
		_cleanup_close_ int dfd = openat(
			ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
		if (dfd < 0) {
			return -errno;
		}
		return copy_file(sfd, dfd, (uint64_t)st.st_size);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(ddir, name, 0755) < 0 && errno != EEXIST) {
			return -errno;
		}
		_cleanup_close_ int s2 =
			openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d2 =
			openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0 || d2 < 0) {
			return -errno;
		}
		int s3 = dup(s2);
		DIR *d = s3 >= 0 ? fdopendir(s3) : NULL;
		if (!d) {
			if (s3 >= 0) {
				close(s3);
			}
			return -errno;
		}
		int r = 0;
		struct dirent *de;
		while (r == 0 && (de = readdir(d))) {
			if (str_eq(de->d_name, ".") || str_eq(de->d_name, "..")) {
				continue;
			}
			r = copy_at(s2, de->d_name, d2, b, depth + 1, msg, msgsize);
		}
		closedir(d);
		return r;
	}
	/* Devices, sockets, fifos are not artifacts. */
	snprintf(msg, msgsize, "'%s' is not a file, directory or symlink", name);
	return -EINVAL;
}

/*
 * The directory rel (components separated by '/') below the directory dfd, made where
 * missing; no component may be a symbolic link. What the record holds already came from
 * stages (an outbox keeps a stage's symbolic links as links): following one would write
 * wherever a stage pointed it, as the runner's user. Returns a descriptor, or -errno.
 */
static int open_dest_dir(int dfd, const char *rel)
{
	_cleanup_free_ char *copy = xstrdup(rel);
	int cur = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	char *save, *comp = strtok_r(copy, "/", &save);
	while (comp && cur >= 0) {
		if (str_eq(comp, ".")) {
			comp = strtok_r(NULL, "/", &save);
			continue;
		}
		if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(cur);
			return -e;
		}
		int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(cur);
		if (next < 0) {
			return e == ELOOP || e == ENOTDIR ? -ENOTDIR : -e;
		}
		cur = next;
		comp = strtok_r(NULL, "/", &save);
	}
	return cur < 0 ? -errno : cur;
}

int artifacts_copy(const char *workspace, const char *rel, const char *dest_root,
		   struct artifact_budget *budget, char *msg, size_t msgsize)
{
	msg[0] = '\0';
	_cleanup_free_ char *relcopy = xstrdup(rel);
	size_t len = strlen(relcopy);
	while (len > 1 && relcopy[len - 1] == '/') {
		relcopy[--len] = '\0';
	}
	char *slash = strrchr(relcopy, '/');
	const char *base = slash ? slash + 1 : relcopy;
	const char *parent = slash ? (*slash = '\0', relcopy) : ".";

	/* The same parent below the destination (the walk below cuts `parent` up). */
	_cleanup_free_ char *dest_rel = xstrdup(str_eq(parent, ".") ? "" : parent);
	/* Resolve the parent inside the workspace without following symlinks out of it. */
	_cleanup_close_ int ws = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ws < 0) {
		return -errno;
	}
	int sdir = ws;
	_cleanup_close_ int walk = -1;
	if (!str_eq(parent, ".")) {
		walk = dup(ws);
		char *save, *comp = parent[0] ? strtok_r((char *)parent, "/", &save) : NULL;
		while (comp && walk >= 0) {
			int next =
				openat(walk, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(walk);
			walk = next;
			comp = strtok_r(NULL, "/", &save);
		}
		if (walk < 0) {
			snprintf(msg, msgsize, "a parent directory is missing or is a symlink");
			return errno == ENOENT ? -ENOENT : -errno;
		}
		sdir = walk;
	}
	struct stat st;
	if (fstatat(sdir, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	int r = mkdir_p(dest_root, 0755);
	if (r < 0) {
		return r;
	}
	_cleanup_close_ int droot = open(dest_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (droot < 0) {
		return -errno;
	}
	_cleanup_close_ int ddir = open_dest_dir(droot, dest_rel);
	if (ddir < 0) {
		if (ddir == -ENOTDIR) {
			snprintf(msg, msgsize,
				 "a directory on the way to '%s' in the record is a symbolic link "
				 "or "
				 "a file (the stage's own artifacts made it)",
				 rel);
		}
		return ddir;
	}
	return copy_at(sdir, base, ddir, budget, 0, msg, msgsize);
}
