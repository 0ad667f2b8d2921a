/*
 * util.c - implementation of the libc-only helpers declared in util.h.
 */
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static _noreturn_ void oom(void)
{
	static const char msg[] = "runner: out of memory\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		oom();
	}
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		oom();
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		oom();
	}
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (!size_mul(n, size, &total)) {
		oom();
	}
	return xrealloc(p, total);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		oom();
	}
	return s;
}

void grow_array(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap) {
		return;
	}
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (!size_mul(ncap, 2, &ncap)) {
			oom();
		}
	}
	*v = xreallocarray(*v, ncap, elem);
	*cap = ncap;
}

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s) {
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			return -EINVAL;
		}
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	if (v > max) {
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t max, bool bare_bytes, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	if (!s || !isdigit((unsigned char)s[0])) {
		return -EINVAL;
	}
	for (; isdigit((unsigned char)s[i]); i++) {
		if (v > (UINT64_MAX - 9) / 10) {
			return -ERANGE;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	static const char units[] = "KMGT";
	const char *u = s + i;
	const char *p = *u ? strchr(units, toupper((unsigned char)*u)) : NULL;
	unsigned shift = 0;
	if (p) {
		shift = 10 * (unsigned)(p - units + 1);
		u++;
		if (strcasecmp(u, "iB") == 0 || strcasecmp(u, "B") == 0) {
			u += strlen(u);
		}
	} else if (strcasecmp(u, "B") == 0) {
		u++;
	} else if (!*u && !bare_bytes) {
		return -EINVAL;
	}
	if (*u) {
		return -EINVAL;
	}
	if (v > (max >> shift)) {
		return -ERANGE;
	}
	*out = v << shift;
	return 0;
}

int parse_duration(const char *s, uint64_t max_ms, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		/* "ms" must be tried before "m". */
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t total = 0;
	const char *p = s;

	if (!s || !*s) {
		return -EINVAL;
	}
	while (*p) {
		uint64_t n = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9') {
			if (n > UINT64_MAX / 10 - 9) {
				return -ERANGE;
			}
			n = n * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (p == start) {
			return -EINVAL;
		}
		size_t i;
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, ul) == 0) {
				p += ul;
				break;
			}
		}
		if (i == ARRAY_SIZE(units)) {
			return -EINVAL;
		}
		uint64_t part;
		if (__builtin_mul_overflow(n, units[i].ms, &part) ||
		    __builtin_add_overflow(total, part, &total)) {
			return -ERANGE;
		}
	}
	if (total > max_ms) {
		return -ERANGE;
	}
	*out = total;
	return 0;
}

char *format_duration(uint64_t ms, char *buf, size_t size)
{
	if (ms < 1000) {
		snprintf(buf, size, "%ums", (unsigned)ms);
	} else if (ms < 60000) {
		snprintf(buf, size, "%u.%us", (unsigned)(ms / 1000), (unsigned)(ms % 1000 / 100));
	} else if (ms < 3600000) {
		snprintf(buf, size, "%um%02us", (unsigned)(ms / 60000),
			 (unsigned)(ms % 60000 / 1000));
	} else {
		snprintf(buf, size, "%uh%02um", (unsigned)(ms / 3600000),
			 (unsigned)(ms % 3600000 / 60000));
	}
	return buf;
}

unsigned edit_distance(const char *a, const char *b, unsigned cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64) {
		return cap + 1;
	}
	if ((la > lb ? la - lb : lb - la) > cap) {
		return cap + 1;
	}
	/* Three rows of the optimal-string-alignment matrix. */
	unsigned rows[3][65];
	unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++) {
		prev[j] = (unsigned)j;
	}
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = MIN(prev[j] + 1, cur[j - 1] + 1);
			v = MIN(v, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
				v = MIN(v, pp[j - 2] + 1);
			}
			cur[j] = v;
		}
		unsigned *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return MIN(prev[lb], cap + 1);
}

const char *closest_word(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	unsigned limit = (unsigned)MAX(1, len / 3);
	unsigned best = limit + 1;
	const char *pick = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = edit_distance(word, candidates[i], limit);
		if (d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	return pick;
}

uint64_t now_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t now_mono_ms(void)
{
	return now_mono_ns() / 1000000u;
}

uint64_t now_real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *format_rfc3339(uint64_t real_ms, char *buf, size_t size)
{
	time_t t = (time_t)(real_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(real_ms % 1000));
	return buf;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_fd_capped(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0) {
			break;
		}
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[n] = '\0';
	*out = buf;
	if (len) {
		*len = n;
	}
	return 0;
}

int read_file_capped(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		return -EFBIG;
	}
	return read_fd_capped(fd, max, out, len);
}

int read_regular_capped(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd =
		open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		return errno == ELOOP ? -EINVAL : -errno;
	}
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		return -EFBIG;
	}
	return read_fd_capped(fd, max, out, len);
}

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			bool into_special)
{
	_cleanup_free_ char *tmp = NULL;
	unsigned char rnd[6];
	char hex[13];
	struct stat st;
	if (into_special && stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* A device or FIFO (-o /dev/null, /dev/stdout): write into it, never replace it. */
		int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			return -errno;
		}
		int r = write_all(fd, data, len);
		if (close(fd) < 0 && r == 0) {
			r = -errno;
		}
		return r;
	}
	int r = random_bytes(rnd, sizeof(rnd));
	if (r < 0) {
		return r;
	}
	hex_encode(rnd, sizeof(rnd), hex);
	tmp = xasprintf("%s.tmp-%s", path, hex);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		return -errno;
	}
	r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
	}
	return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, true);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, false);
}

int check_private_file(const struct stat *st, char *why, size_t n)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, n, "it is not a regular file");
		return -EINVAL;
	}
	if (st->st_uid != geteuid()) {
		snprintf(why, n, "it is owned by uid %u, not by you (uid %u)", (unsigned)st->st_uid,
			 (unsigned)geteuid());
		return -EPERM;
	}
	if (st->st_mode & 077) {
		snprintf(why, n, "its mode is %04o; others could read it",
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	/* Usually only the last component is missing, or none: one system call then. */
	if (mkdir(path, mode) == 0 || errno == EEXIST) {
		return 0;
	}
	if (errno != ENOENT) {
		return -errno;
	}
	_cleanup_free_ char *p = xstrdup(path);
	size_t len = strlen(p);
	while (len > 1 && p[len - 1] == '/') {
		p[--len] = '\0';
	}
	for (char *s = p + 1; *s; s++) {
		if (*s != '/') {
			continue;
		}
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			return -errno;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

static int rm_rf_at(int parent, const char *name, int depth)
{
	if (depth > 256) {
		return -ELOOP;
	}
	if (unlinkat(parent, name, 0) == 0) {
		return 0;
	}
	if (errno == ENOENT) {
		return 0;
	}
	if (errno != EISDIR && errno != EPERM) {
		return -errno;
	}
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (str_eq(de->d_name, ".") || str_eq(de->d_name, "..")) {
			continue;
		}
		int q = rm_rf_at(fd, de->d_name, depth + 1);
		if (q < 0 && r == 0) {
			r = q;
		}
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && r == 0) {
		r = -errno;
	}
	return r;
}

int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, 0);
}

int random_bytes(void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int fd_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		return -errno;
	}
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) < 0) {
		return -errno;
	}
	return 0;
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80) {
		return p[0] ? 1 : 0;
	}
	size_t len;
	uint32_t cp, min;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n) {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return len;
}

size_t text_line_end(const char *s, size_t len, size_t off, size_t *next)
{
	/* Two memchr passes: far faster than a byte loop on long text. */
	const char *nl = off < len ? memchr(s + off, '\n', len - off) : NULL;
	size_t e = nl ? (size_t)(nl - s) : len;
	const char *cr = off < e ? memchr(s + off, '\r', e - off) : NULL;
	size_t i = cr ? (size_t)(cr - s) : e;
	if (next) {
		*next = i >= len ? len
				 : i + (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n' ? 2 : 1);
	}
	return i;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (!n) {
			return false;
		}
		i += n;
	}
	return true;
}

char *utf8_sanitize(const char *s, size_t len)
{
	size_t cap;
	if (!size_mul(len, 3, &cap) || !size_add(cap, 1, &cap)) {
		abort();
	}
	char *out = xmalloc(cap);
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

bool path_is_inside(const char *p)
{
	if (!p || !*p || p[0] == '/') {
		return false;
	}
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			return false;
		}
		if (!e) {
			break;
		}
		s = e + 1;
	}
	return true;
}

int open_tmp_beside(const char *path, const char *tag, int flags, mode_t mode, char **tmp)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		unsigned char rnd[6];
		char hex[13];
		if (random_bytes(rnd, sizeof(rnd)) < 0) {
			return -EIO;
		}
		hex_encode(rnd, sizeof(rnd), hex);
		char *name = xasprintf("%s.%s-%s", path, tag, hex);
		int fd = open(name, flags | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0) {
			*tmp = name;
			return fd;
		}
		int e = -errno;
		free(name);
		if (e != -EEXIST) {
			return e;
		}
	}
	return -EEXIST;
}

#define TMP_TRACK_MAX 32
static const char *volatile tracked_tmp[TMP_TRACK_MAX];
static volatile bool tracked_is_dir[TMP_TRACK_MAX];

static void track(const char *path, bool dir)
{
	for (size_t i = 0; i < TMP_TRACK_MAX; i++) {
		if (!tracked_tmp[i]) {
			tracked_is_dir[i] = dir;
			tracked_tmp[i] = path;
			return;
		}
	}
}

void tmp_track(const char *path)
{
	track(path, false);
}

void tmp_track_dir(const char *path)
{
	track(path, true);
}

/* What is in the directory fd (closed here), removed with async-signal-safe calls only:
 * getdents64 and unlinkat, one 4 KiB buffer per level. */
static void empty_dir_signal_safe(int fd, unsigned depth)
{
	char buf[4096];
	long n;
	while (depth < 256 && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		bool removed = false;
		for (long off = 0; off < n;) {
			const struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (const void *)(buf + off);
			off += de->reclen;
			const char *nm = de->name;
			if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2]))) {
				continue;
			}
			if (unlinkat(fd, nm, 0) == 0) {
				removed = true;
				continue;
			}
			int sub = openat(fd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				empty_dir_signal_safe(sub, depth + 1);
				removed |= unlinkat(fd, nm, AT_REMOVEDIR) == 0;
			}
		}
		if (removed) {
			lseek(fd, 0, SEEK_SET); /* read again what is left */
		}
	}
	close(fd);
}

void tmp_untrack(const char *path)
{
	for (size_t i = 0; i < TMP_TRACK_MAX; i++) {
		if (tracked_tmp[i] == path) {
			tracked_tmp[i] = NULL;
		}
	}
}

static void tmp_on_signal(int sig)
{
	char journal[PATH_MAX];
	for (size_t i = 0; i < TMP_TRACK_MAX; i++) {
		const char *p = tracked_tmp[i];
		if (!p) {
			continue;
		}
		if (tracked_is_dir[i]) {
			int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				empty_dir_signal_safe(fd, 0);
			}
			rmdir(p);
			continue;
		}
		unlink(p);
		size_t n = strlen(p);
		if (n + sizeof("-journal") <= sizeof(journal)) {
			memcpy(journal, p, n);
			memcpy(journal + n, "-journal", sizeof("-journal"));
			unlink(journal);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *tmp_dir_parent(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

char *tmp_dir_tracked(const char *prefix)
{
	char *dir = xasprintf("%s/%s-XXXXXX", tmp_dir_parent(), prefix);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	tmp_cleanup_on_signals();
	bool made = mkdtemp(dir) != NULL;
	int made_errno = errno;
	if (made) {
		tmp_track_dir(dir);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!made) {
		free(dir);
		errno = made_errno;
		return NULL;
	}
	return dir;
}

void tmp_cleanup_on_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
			continue; /* ignored by the caller (nohup, a background job): still so */
		}
		struct sigaction sa = { .sa_handler = tmp_on_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

int errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (err && errlen && vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
		snprintf(err, errlen, "(message lost: out of memory)");
	}
	va_end(ap);
	if (msg) {
		/* Masked whole, then cut: a cut first could leave a credential's start
		 * without the '@' that marks it. */
		char *m = text_mask_userinfo(msg);
		snprintf(err, errlen, "%s", m);
		free(m);
		free(msg);
	}
	return code;
}

static bool url_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/*
 * host (n bytes) is a host name, or in a URL (url) a bracketed IPv6 literal, optionally
 * followed by ":PORT" (digits).
 */
static bool url_host_ok(const char *host, size_t n, bool url)
{
	size_t i = 0;
	if (url && n > 0 && host[0] == '[') {
		for (i = 1; i < n && host[i] != ']'; i++) {
			char c = host[i];
			if (!url_name_char(c) && c != ':' && c != '%') {
				return false;
			}
		}
		if (i >= n || i == 1) {
			return false;
		}
		i++;
	} else {
		while (i < n && url_name_char(host[i])) {
			i++;
		}
		if (i == 0) {
			return false;
		}
	}
	if (i == n) {
		return true;
	}
	if (!url || host[i] != ':' || i + 1 == n) {
		return false;
	}
	for (i++; i < n; i++) {
		if (host[i] < '0' || host[i] > '9') {
			return false;
		}
	}
	return true;
}

/* Percent-decode n bytes of s into a new string ("%zz" is kept as it is). */
static char *percent_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' };
			out[w++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[w++] = s[i];
		}
	}
	out[w] = '\0';
	return out;
}

char *url_credential(const char *url)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	if (!sep) {
		return NULL;
	}
	const char *auth = sep + 3;
	size_t al = strcspn(auth, "/");
	const char *at = NULL;
	for (size_t i = 0; i < al; i++) {
		if (auth[i] == '@') {
			at = auth + i;
		}
	}
	if (!at) {
		return NULL;
	}
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon && at > colon + 1) {
		return percent_decode(colon + 1, (size_t)(at - colon - 1));
	}
	size_t sl = (size_t)(sep - url);
	bool http = (sl == 4 && strncasecmp(url, "http", 4) == 0) ||
		    (sl == 5 && strncasecmp(url, "https", 5) == 0);
	size_t ul = (size_t)((colon ? colon : at) - auth);
	return http && ul > 0 ? percent_decode(auth, ul) : NULL;
}

char *text_mask_userinfo(const char *text)
{
	if (!text) {
		return xstrdup("");
	}
	if (!strstr(text, "://")) {
		return xstrdup(text);
	}
	size_t n = strlen(text), o = 0;
	char *out = xmalloc(n * 2 + 1); /* "***" is at most 2 bytes longer than "x@"'s "x" */
	for (size_t i = 0; i < n;) {
		if (i + 3 > n || memcmp(text + i, "://", 3) != 0) {
			out[o++] = text[i++];
			continue;
		}
		size_t a = i + 3, e = a, at = SIZE_MAX;
		while (e < n && (unsigned char)text[e] > ' ' && text[e] != 0x7f &&
		       !strchr("/'\"`", text[e])) {
			at = text[e] == '@' ? e : at;
			e++;
		}
		memcpy(out + o, "://", 3);
		o += 3;
		if (at != SIZE_MAX && at > a) {
			memcpy(out + o, "***", 3);
			o += 3;
			a = at;
		}
		memcpy(out + o, text + a, e - a);
		o += e - a;
		i = e;
	}
	out[o] = '\0';
	return out;
}

char *url_public(const char *url)
{
	if (!url) {
		return xstrdup("");
	}
	size_t len = strnlen(url, URL_PUBLIC_MAX + 1);
	if (len == 0 || len > URL_PUBLIC_MAX) {
		return xstrdup("");
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= ' ' || c == 0x7f) {
			return xstrdup("");
		}
	}
	const char *sep = strstr(url, "://");
	if (sep) {
		size_t sl = (size_t)(sep - url);
		bool scheme_ok = sl > 0 && ((url[0] >= 'a' && url[0] <= 'z') ||
					    (url[0] >= 'A' && url[0] <= 'Z'));
		for (size_t i = 0; i < sl && scheme_ok; i++) {
			char c = url[i];
			scheme_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
		}
		if (!scheme_ok || (sl == 4 && strncasecmp(url, "file", 4) == 0)) {
			return xstrdup("");
		}
		/* The userinfo ends at the last '@' before the first '/': a '?' or '#' in a
		 * password does not end it early. */
		const char *auth = sep + 3;
		size_t al = strcspn(auth, "/");
		const char *host = auth;
		for (size_t i = 0; i < al; i++) {
			if (auth[i] == '@') {
				host = auth + i + 1;
			}
		}
		size_t hl = strcspn(host, "/?#");
		const char *rest = host + hl;
		size_t rl = strcspn(rest, "?#");
		if (!url_host_ok(host, hl, true) || memchr(rest, '@', rl)) {
			return xstrdup("");
		}
		return xasprintf("%.*s://%.*s%.*s", (int)sl, url, (int)hl, host, (int)rl, rest);
	}
	/* scp-like: a ':' before any '/', with a host before it. */
	const char *colon = strchr(url, ':');
	const char *slash = strchr(url, '/');
	if (!colon || (slash && slash < colon) || url[0] == '/') {
		return xstrdup(""); /* a local path */
	}
	const char *host = url;
	for (const char *p = url; p < colon; p++) {
		if (*p == '@') {
			host = p + 1;
		}
	}
	size_t hl = (size_t)(colon - host);
	const char *path = colon + 1;
	while (*path == '/') {
		path++;
	}
	if (!url_host_ok(host, hl, false) || strchr(path, '@') || !*path) {
		return xstrdup("");
	}
	return xasprintf("ssh://%.*s/%s", (int)hl, host, path);
}

void fput_one_line(FILE *f, const char *s)
{
	_cleanup_free_ char *o = str_one_line(s);
	fputs(o, f);
}

char *str_one_line(const char *s)
{
	size_t n = s ? strlen(s) : 0, o = 0;
	char *out = xmalloc(4 * n + 1);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : 'r';
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}
