/*
 * logfile.c - tail-keeping log file. Trimming moves the newest half of the cap to the
 * front of the file, so the work per byte written is constant on average.
 */
#include "logfile.h"

#include "util.h"

#include <fcntl.h>
#include <stdio.h>

#include "banned.h"

struct logfile {
	int fd;
	size_t cap;
	uint64_t size;	  /* bytes in the file */
	uint64_t dropped; /* bytes removed by trimming */
	bool midline;	  /* the last byte written was not a line break */
};

int logfile_open(const char *path, size_t cap, struct logfile **out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		return -errno;
	}
	struct logfile *lf = xcalloc(1, sizeof(*lf));
	lf->fd = fd;
	lf->cap = MAX(cap, (size_t)4096);
	*out = lf;
	return 0;
}

static int trim(struct logfile *lf)
{
	size_t keep = lf->cap / 2;
	uint64_t from = lf->size - keep;
	char marker[128];
	int mlen = snprintf(marker, sizeof(marker),
			    "[runner: log over its size cap; %llu earlier bytes dropped]\n",
			    (unsigned long long)(lf->dropped + from));
	char *buf = xmalloc(keep);
	ssize_t n = pread(lf->fd, buf, keep, (off_t)from);
	if (n != (ssize_t)keep) {
		free(buf);
		return n < 0 ? -errno : -EIO;
	}
	/* Skip the first marker of an earlier trim, and start the kept part at a line. */
	char *start = buf, *end = buf + keep;
	char *nl = memchr(start, '\n', (size_t)(end - start));
	if (nl && nl - start < 4096) {
		start = nl + 1;
	}
	size_t klen = (size_t)(end - start);
	int r = 0;
	if (pwrite(lf->fd, marker, (size_t)mlen, 0) != mlen ||
	    pwrite(lf->fd, start, klen, mlen) != (ssize_t)klen) {
		r = -EIO;
	}
	if (r == 0 && ftruncate(lf->fd, (off_t)(mlen + klen)) < 0) {
		r = -errno;
	}
	lf->dropped += from + (uint64_t)(start - buf);
	lf->size = (uint64_t)mlen + klen;
	free(buf);
	return r;
}

int logfile_write(struct logfile *lf, const char *data, size_t len)
{
	if (len > lf->cap / 2) {
		/* Only the end of an oversized write can survive anyway. */
		lf->dropped += len - lf->cap / 2;
		data += len - lf->cap / 2;
		len = lf->cap / 2;
	}
	ssize_t w = pwrite(lf->fd, data, len, (off_t)lf->size);
	if (w != (ssize_t)len) {
		return w < 0 ? -errno : -ENOSPC;
	}
	lf->size += len;
	if (len) {
		lf->midline = data[len - 1] != '\n';
	}
	if (lf->size > lf->cap) {
		return trim(lf);
	}
	return 0;
}

bool logfile_midline(const struct logfile *lf)
{
	return lf->midline;
}

uint64_t logfile_dropped(const struct logfile *lf)
{
	return lf->dropped;
}

char *logfile_tail(const struct logfile *lf, size_t max)
{
	size_t n = (size_t)MIN((uint64_t)max, lf->size);
	char *buf = xmalloc(n + 1);
	ssize_t r = pread(lf->fd, buf, n, (off_t)(lf->size - n));
	buf[r > 0 ? (size_t)r : 0] = '\0';
	return buf;
}

void logfile_close(struct logfile *lf)
{
	if (!lf) {
		return;
	}
	close(lf->fd);
	free(lf);
}
