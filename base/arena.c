/*
 * arena.c - chunked bump allocator. Chunks grow geometrically up to 1 MiB; a request
 * larger than half a chunk gets a chunk of its own so small allocations keep packing.
 */
#include "arena.h"

#include "util.h"

#include <stdio.h>

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct chunk *head;
	size_t next_size;
	size_t total, max;
};

struct arena *arena_new(size_t max_bytes)
{
	struct arena *a = calloc(1, sizeof(*a));
	if (!a) {
		return NULL;
	}
	a->next_size = 4096;
	a->max = max_bytes;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a) {
		return;
	}
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size == 0) {
		size = 16;
	}
	if (a->max && (size > a->max || a->total > a->max - size)) {
		return NULL;
	}
	struct chunk *c = a->head;
	if (!c || c->size - c->used < size) {
		size_t csize = a->next_size;
		if (size > csize / 2) {
			csize = size;
		} else if (a->next_size < (1u << 20)) {
			a->next_size *= 2;
		}
		struct chunk *n = malloc(sizeof(*n) + csize);
		if (!n) {
			return NULL;
		}
		n->size = csize;
		n->used = 0;
		if (c && size == csize) {
			/* A dedicated chunk goes behind the head so the head keeps its free space.
			 */
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			a->head = n;
		}
		c = n;
	}
	void *p = c->data + c->used;
	c->used += size;
	a->total += size;
	memset(p, 0, size);
	return p;
}

void *arena_alloc_array(struct arena *a, size_t n, size_t size)
{
	size_t total;
	if (!size_mul(n, size, &total)) {
		return NULL;
	}
	return arena_alloc(a, total);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		return NULL;
	}
	char *p = arena_alloc(a, (size_t)n + 1);
	if (p) {
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	}
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
