/*
 * sbuf.h - a growable byte buffer with a hard cap set when it is initialised, in the
 * manner of curl's dynbuf. Input can grow a buffer only up to its cap; an append that
 * would pass it fails with -E2BIG and leaves the buffer as it was.
 *
 * The data is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef RUNNER_BASE_SBUF_H
#define RUNNER_BASE_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *data;
	size_t len, cap, max;
};

void sbuf_init(struct sbuf *sb, size_t max);
void sbuf_release(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
int sbuf_append(struct sbuf *sb, const void *p, size_t n);
int sbuf_puts(struct sbuf *sb, const char *s);
int sbuf_putc(struct sbuf *sb, char c);
int sbuf_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/*
 * Append s with the markup characters & < > escaped as entities (and " ' too when
 * quotes is set: HTML attributes). For HTML pages and Slack's mrkdwn. Returns 0 or -E2BIG.
 */
int sbuf_put_escaped(struct sbuf *sb, const char *s, bool quotes);
/* Drop the first n bytes. */
void sbuf_consume(struct sbuf *sb, size_t n);
/* Hand the heap buffer to the caller (never NULL) and reset sb. */
char *sbuf_steal(struct sbuf *sb);

#endif
