/*
 * sbuf.c - capped growable buffer.
 */
#include "sbuf.h"

#include "util.h"

#include <stdio.h>

void sbuf_init(struct sbuf *sb, size_t max)
{
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->max = max;
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->data);
	sbuf_init(sb, sb->max);
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->data) {
		sb->data[0] = '\0';
	}
}

static int reserve(struct sbuf *sb, size_t extra)
{
	size_t need;
	if (!size_add(sb->len, extra, &need) || need > sb->max) {
		return -E2BIG;
	}
	need++;
	if (need <= sb->cap) {
		return 0;
	}
	size_t ncap = sb->cap ? sb->cap : 64;
	while (ncap < need) {
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	}
	if (ncap > sb->max + 1) {
		ncap = sb->max + 1;
	}
	sb->data = xrealloc(sb->data, ncap);
	sb->cap = ncap;
	return 0;
}

int sbuf_append(struct sbuf *sb, const void *p, size_t n)
{
	int r = reserve(sb, n);
	if (r < 0) {
		return r;
	}
	if (n) {
		memcpy(sb->data + sb->len, p, n);
	}
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

int sbuf_puts(struct sbuf *sb, const char *s)
{
	return sbuf_append(sb, s, strlen(s));
}

int sbuf_putc(struct sbuf *sb, char c)
{
	return sbuf_append(sb, &c, 1);
}

int sbuf_put_escaped(struct sbuf *sb, const char *s, bool quotes)
{
	int r = 0;
	for (const char *p = s; *p && r == 0; p++) {
		switch (*p) {
		case '&':
			r = sbuf_puts(sb, "&amp;");
			break;
		case '<':
			r = sbuf_puts(sb, "&lt;");
			break;
		case '>':
			r = sbuf_puts(sb, "&gt;");
			break;
		case '"':
			r = quotes ? sbuf_puts(sb, "&quot;") : sbuf_putc(sb, *p);
			break;
		case '\'':
			r = quotes ? sbuf_puts(sb, "&#39;") : sbuf_putc(sb, *p);
			break;
		default:
			r = sbuf_putc(sb, *p);
		}
	}
	return r;
}

int sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		return -EINVAL;
	}
	int r = reserve(sb, (size_t)n);
	if (r < 0) {
		return r;
	}
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return r;
}

void sbuf_consume(struct sbuf *sb, size_t n)
{
	if (n >= sb->len) {
		sbuf_reset(sb);
		return;
	}
	memmove(sb->data, sb->data + n, sb->len - n);
	sb->len -= n;
	sb->data[sb->len] = '\0';
}

char *sbuf_steal(struct sbuf *sb)
{
	char *p = sb->data ? sb->data : xstrdup("");
	sbuf_init(sb, sb->max);
	return p;
}
