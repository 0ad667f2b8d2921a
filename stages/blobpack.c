/*
 * blobpack.c - the blobs of a history scan as one file (see blobpack.h): appended by the
 * runner, checked and unpacked by the worker, which trusts nothing in it it has not
 * checked (a malformed pack is an error, never a partial scan).
 */
#include "blobpack.h"

#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

#define MAGIC "runner-blobpack 1\n"

static bool name_ok(const char *name, size_t n)
{
	return n > 0 && n <= NAME_MAX && !memchr(name, '/', n) && !(n == 1 && name[0] == '.') &&
	       !(n == 2 && name[0] == '.' && name[1] == '.');
}

static bool id_ok(const char *id, size_t n)
{
	if (n != 40) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

int blobpack_add(int fd, uint64_t *at, const char *id, const char *const *names, size_t n,
		 const void *data, uint64_t size)
{
	char head[96];
	if (!id_ok(id, strlen(id)) || n == 0 || n > BLOBPACK_MAX_NAMES) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(names[i], strlen(names[i]))) {
			return -EINVAL;
		}
	}
	int r = 0;
	if (*at == 0) {
		r = write_all(fd, MAGIC, strlen(MAGIC));
		*at += strlen(MAGIC);
	}
	int k = snprintf(head, sizeof(head), "%s %llu %zu\n", id, (unsigned long long)size, n);
	if (r == 0) {
		r = write_all(fd, head, (size_t)k);
		*at += (uint64_t)k;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = write_all(fd, names[i], strlen(names[i]) + 1);
		*at += strlen(names[i]) + 1;
	}
	if (r == 0) {
		r = write_all(fd, data, (size_t)size);
		*at += size;
	}
	return r;
}

/* A decimal number of at most 19 digits from p (up to end) ending at stop; *p past it. */
static bool number(const char **p, const char *end, char stop, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	while (s < end && *s >= '0' && *s <= '9' && s - *p < 19) {
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (s == *p || s >= end || *s != stop || (s - *p > 1 && **p == '0')) {
		return false;
	}
	*p = s + 1;
	*out = v;
	return true;
}

int blobpack_write_blob(const char *dest, const char *id, const char *const *names, size_t n,
			const void *data, uint64_t size, char *err, size_t errlen)
{
	_cleanup_free_ char *sub = xasprintf("%s/%.2s", dest, id);
	_cleanup_free_ char *dir = xasprintf("%s/%s", sub, id + 2);
	_cleanup_free_ char *first = NULL;
	if ((mkdir(sub, 0755) < 0 && errno != EEXIST) || mkdir(dir, 0755) < 0) {
		int e = errno;
		return errf(err, errlen, e == EEXIST ? -EBADMSG : -e, "cannot write blob %s: %s",
			    id, e == EEXIST ? "it is in the pack twice" : strerror(e));
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
		int r;
		if (first) {
			r = link(first, path) < 0 ? -errno : 0;
		} else {
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				      0644);
			r = fd < 0 ? -errno : write_all(fd, data, (size_t)size);
			if (fd >= 0 && close(fd) < 0 && r == 0) {
				r = -errno;
			}
			first = path;
			path = NULL;
		}
		if (r < 0) {
			return errf(err, errlen, r == -EEXIST ? -EBADMSG : r,
				    "cannot write blob %s as %s: %s", id, names[i],
				    r == -EEXIST ? "the name is given twice" : strerror(-r));
		}
	}
	return 0;
}

long blobpack_unpack(const char *path, const char *dest, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO is refused below, not waited on for a writer. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		return errf(err, errlen, -e, "cannot read the blobs %s: %s", path, strerror(e));
	}
	size_t len = (size_t)st.st_size;
	if (!S_ISREG(st.st_mode) || len < strlen(MAGIC)) {
		return errf(err, errlen, -EBADMSG, "%s is not a pack of blobs", path);
	}
	char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		int e = errno;
		return errf(err, errlen, -e, "cannot read the blobs %s: %s", path, strerror(e));
	}
	const char *p = map, *end = map + len;
	long n_blobs = 0;
	int r = 0;
	bool said = false; /* err says what went wrong */
	if (memcmp(p, MAGIC, strlen(MAGIC)) != 0) {
		r = -EBADMSG;
	}
	p += strlen(MAGIC);
	while (r == 0 && p < end) {
		const char *names[BLOBPACK_MAX_NAMES];
		char id[41];
		uint64_t size = 0, n = 0;
		if (end - p < 42 || !id_ok(p, 40) || p[40] != ' ') {
			r = -EBADMSG;
			break;
		}
		memcpy(id, p, 40);
		id[40] = '\0';
		p += 41;
		if (!number(&p, end, ' ', &size) || !number(&p, end, '\n', &n) || n == 0 ||
		    n > BLOBPACK_MAX_NAMES) {
			r = -EBADMSG;
			break;
		}
		for (size_t i = 0; r == 0 && i < n; i++) {
			const char *nul = memchr(p, '\0', (size_t)(end - p));
			if (!nul || !name_ok(p, (size_t)(nul - p))) {
				r = -EBADMSG;
				break;
			}
			names[i] = p;
			p = nul + 1;
		}
		if (r < 0 || size > (uint64_t)(end - p)) {
			r = -EBADMSG;
			break;
		}
		r = blobpack_write_blob(dest, id, names, (size_t)n, p, size, err, errlen);
		said = r < 0;
		p += size;
		n_blobs++;
	}
	if (r < 0 && !said) {
		errf(err, errlen, 0, "%s is not a pack of blobs (at byte %zu)", path,
		     (size_t)(p - map));
	}
	munmap(map, len);
	return r < 0 ? r : n_blobs;
}
