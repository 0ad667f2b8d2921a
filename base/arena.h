/*
 * arena.h - a bump allocator for objects that live and die together (a pipeline model,
 * a YAML document, a request). Allocation is cheap; everything is released at once by
 * arena_free(). Allocations are 16-byte aligned and zero-filled.
 *
 * An arena can be given a byte cap: once the total reaches it, allocations return NULL,
 * so untrusted input cannot grow an arena without bound.
 */
#ifndef RUNNER_BASE_ARENA_H
#define RUNNER_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* Create an arena. max_bytes == 0 means no cap. Returns NULL only on exhaustion. */
struct arena *arena_new(size_t max_bytes);
/* Release the arena and every allocation made from it. Accepts NULL. */
void arena_free(struct arena *a);

/* Zero-filled allocation, or NULL when the cap would be exceeded. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_alloc_array(struct arena *a, size_t n, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Bytes handed out so far (for tests and statistics). */
size_t arena_used(const struct arena *a);

#endif
