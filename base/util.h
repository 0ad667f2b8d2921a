/*
 * util.h - small helpers shared by every module: cleanup attributes, array sizes, checked
 * arithmetic, string and number parsing, file-descriptor helpers.
 *
 * This is the bottom of the dependency graph: it depends on libc alone and never prints.
 * Functions that can fail return an int: >= 0 on success, -errno on failure.
 */
#ifndef RUNNER_BASE_UTIL_H
#define RUNNER_BASE_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_     __attribute__((noreturn))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Take ownership of a pointer or fd out of a cleanup-managed variable. */
#define steal_ptr(p)                            \
	({                                      \
		__typeof__(p) steal_tmp_ = (p); \
		(p) = NULL;                     \
		steal_tmp_;                     \
	})
#define steal_fd(fd)                   \
	({                             \
		int steal_tmp_ = (fd); \
		(fd) = -1;             \
		steal_tmp_;            \
	})

/* Overflow-checked size arithmetic: return false when the result does not fit. */
static inline bool size_mul(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}
static inline bool size_add(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

static inline bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}
static inline bool str_empty(const char *s)
{
	return !s || !*s;
}
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* malloc-family wrappers that abort on exhaustion: used only for small, bounded sizes
 * where there is no sensible recovery (the caps on untrusted input keep sizes bounded). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Grow *v (of *cap elements of size elem) so that it holds at least need elements. */
void grow_array(void **v, size_t *cap, size_t need, size_t elem);
#define GROW(v, cap, need) grow_array((void **)&(v), &(cap), (need), sizeof(*(v)))

/*
 * Parse a decimal unsigned integer that must span the whole string, without sign or
 * whitespace. Returns 0, -EINVAL (not a number) or -ERANGE (above max).
 */
int parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * Parse a duration: one or more <number><unit> groups with units ms, s, m, h, d
 * ("90s", "1h30m", "500ms"). A bare number is refused so that units are never guessed.
 * Returns 0 and milliseconds in *out, -EINVAL or -ERANGE (above max_ms).
 */
int parse_duration(const char *s, uint64_t max_ms, uint64_t *out);

/*
 * Parse a size: a number with a binary unit K, M, G or T, optionally followed by "iB" or
 * "B", in any case ("512K", "64m", "2GiB", "4MB": all powers of 1024), or with "B" for
 * bytes. A bare number means bytes when bare_bytes, else it is refused (so that a
 * memory limit of "512" is not taken as 512 bytes). Returns 0, -EINVAL, or -ERANGE (above
 * max).
 */
int parse_size(const char *s, uint64_t max, bool bare_bytes, uint64_t *out);

/* Format milliseconds compactly ("850ms", "1.2s", "3m04s", "1h02m"). Returns buf. */
char *format_duration(uint64_t ms, char *buf, size_t size);

/* Damerau-Levenshtein (optimal string alignment) distance, capped at cap+1. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);

/*
 * Pick the candidate closest to word, if it is close enough to be a plausible typo
 * (distance <= max(1, len/3)). Returns NULL otherwise.
 */
const char *closest_word(const char *word, const char *const *candidates, size_t n);

/* Monotonic and wall clocks, in milliseconds / nanoseconds. */
uint64_t now_mono_ms(void);
uint64_t now_mono_ns(void);
uint64_t now_real_ms(void);

/* Format a wall-clock time (ms since epoch) as RFC 3339 UTC with milliseconds. */
char *format_rfc3339(uint64_t real_ms, char *buf, size_t size);

/* Write all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);

/*
 * Read a whole file (or the rest of an fd) into a NUL-terminated heap buffer, refusing
 * files larger than max bytes with -EFBIG. *out is owned by the caller.
 */
int read_fd_capped(int fd, size_t max, char **out, size_t *len);
int read_file_capped(const char *path, size_t max, char **out, size_t *len);
/* The same for a file that must be a regular one, not reached through a symbolic link
 * (-EINVAL otherwise; a FIFO does not block): for files a repository can hold. */
int read_regular_capped(const char *path, size_t max, char **out, size_t *len);

/*
 * Write a file atomically: a temporary file in the same directory, fsync, rename.
 * A reader sees either the old or the new content, never a half-written file. When path
 * is an existing device or FIFO (/dev/null, /dev/stdout), data is written into it instead:
 * it is never replaced by a regular file.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same, but whatever is at path (a symbolic link to a device, a FIFO) is replaced,
 * never written into: for files a repository can hold. */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Whether a file (st: its fstat) may hold secrets: a regular file, owned by this process's
 * effective user, that nobody else may read or write (no group or other permission bits).
 * Returns 0, -EINVAL (not a regular file) or -EPERM, with why (n bytes) saying what is
 * wrong: "it is not a regular file", "it is owned by uid 1000, not by you (uid 0)", "its
 * mode is 0644; others could read it".
 */
int check_private_file(const struct stat *st, char *why, size_t n);

/* mkdir -p with the given mode for created components. */
int mkdir_p(const char *path, mode_t mode);

/* Remove a directory tree (does not follow symlinks). Missing path is success. */
int rm_rf(const char *path);

/* Fill buf with random bytes (getrandom). */
int random_bytes(void *buf, size_t len);

/*
 * s (NULL: nothing) on one line, for text a file or a lockfile supplies: line breaks
 * written as \n and \r, other control characters (ESC, whose unterminated sequence would
 * hide what follows) as \xNN; a tab stays. It can neither forge nor hide a line.
 */
void fput_one_line(FILE *f, const char *s);
/* The same, as a new string (caller frees). */
char *str_one_line(const char *s);

/* Lower-case hex encoding of len bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

/*
 * Copy s (len bytes) to a new heap string that is valid UTF-8: invalid sequences and NUL
 * bytes become U+FFFD. Needed wherever untrusted text goes into JSON.
 */
char *utf8_sanitize(const char *s, size_t len);

/* Whether s (len bytes) is valid UTF-8 without NUL bytes. */
bool utf8_valid(const char *s, size_t len);

/*
 * Lines of text end at LF, CRLF or a lone CR, for every scanner's line numbers alike. The
 * end of the line that starts at or contains off (the offset of its CR or LF, or len), and
 * in *next (may be NULL) where the next line starts (len when there is none).
 */
size_t text_line_end(const char *s, size_t len, size_t off, size_t *next);
/* Whether s[i] ends a line: an LF, or a CR not followed by an LF. */
static inline bool text_is_line_end(const char *s, size_t len, size_t i)
{
	return s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'));
}

/*
 * Is p a relative path that stays inside its base: not empty, not absolute, no ".."
 * component? (Symbolic links are the caller's concern.)
 */
bool path_is_inside(const char *p);

/*
 * Create a new file next to `path`, named "<path>.<tag>-<random>", exclusively, with mode
 * and open flags (O_CREAT | O_EXCL | O_CLOEXEC are added). Returns the fd and the heap
 * name in *tmp, or -errno.
 */
int open_tmp_beside(const char *path, const char *tag, int flags, mode_t mode, char **tmp);

/*
 * Temporary files that a fatal signal (SIGINT, SIGTERM, SIGHUP) must not leave behind:
 * tmp_track() remembers path (and its SQLite journal, path + "-journal") until
 * tmp_untrack(); tmp_cleanup_on_signals() installs handlers that remove them and then die
 * of the signal as before (a signal the process ignores stays ignored). The path must stay
 * valid while tracked. At most 32 at once.
 */
void tmp_track(const char *path);
/* The same for a directory the handler removes with what is in it (no links followed,
 * at most 256 levels deep). */
void tmp_track_dir(const char *path);
void tmp_untrack(const char *path);
void tmp_cleanup_on_signals(void);
/*
 * A new private directory $TMPDIR/<prefix>-XXXXXX (TMPDIR if absolute, else /tmp), tracked
 * with the handlers installed: the signals wait while it is made and tracked, so that the
 * handler never removes a name mkdtemp is still trying (another's directory). Returns it
 * (heap; tmp_untrack() it once removed), or NULL with errno set.
 */
char *tmp_dir_tracked(const char *prefix);
/* The directory tmp_dir_tracked() makes its directories in. */
const char *tmp_dir_parent(void);

/* Format a message into err (errlen bytes) and return code: for `return errf(...)`. */
int errf(char *err, size_t errlen, int code, const char *fmt, ...) _printf_(4, 5);

/*
 * The public form of a repository URL, for `org.opencontainers.image.source` and
 * RUNNER_REPO_URL: a new heap string, "" when there is none. Credentials never survive:
 * - `scheme://[userinfo@]host[:port]/path` keeps scheme, host, port and path, as given
 *   (a trailing `.git` too); the userinfo, query and fragment are dropped;
 * - scp-like `[user@]host:path` becomes `ssh://host/path` (the user dropped);
 * - `file://` URLs, local paths, and anything longer than URL_PUBLIC_MAX, with control
 *   characters or spaces, an unusual host, or an `@` in the path (a password with an
 *   unencoded `/` or `:` would leave one there) give "": fail closed.
 */
#define URL_PUBLIC_MAX 2048
char *url_public(const char *url);

/*
 * The credential in a URL's userinfo (`scheme://user:password@host/...`), percent-decoded,
 * to be masked wherever it might show: the password, or for http(s) without one the user
 * (a token given as the user name). A new heap string, or NULL when there is none.
 */
char *url_credential(const char *url);

/*
 * text (may be NULL: "") as a new heap string with the userinfo of every URL in it
 * replaced by three asterisks (`https://user:token@host/x` keeps `https://` and `@host/x`), for
 * anything that quotes input or a URL into a message: a remote, a registry or a requirement can
 * carry a credential, which must reach no terminal, log or report. A URL's authority runs
 * from its `://` to the first `/`, blank, control character, quote or backtick; the last
 * `@` in it ends the userinfo, as url_credential() reads it (a `?`, `#` or `@` inside a
 * password does not end it early). When in doubt, more is masked, never less.
 */
char *text_mask_userinfo(const char *text);

/* Set or clear O_NONBLOCK. */
int fd_set_nonblock(int fd, bool on);

#endif
