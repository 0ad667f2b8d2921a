/*
 * hmap.h - a string-keyed hash map (open addressing, linear probing) for lookups by
 * name: stages, variables, anchors. Keys are borrowed, not copied: they must outlive
 * the map (they usually live in the same arena). The hash is seeded per map so that
 * crafted names cannot be precomputed to collide.
 */
#ifndef RUNNER_BASE_HMAP_H
#define RUNNER_BASE_HMAP_H

#include <stddef.h>

struct hmap;

struct hmap *hmap_new(size_t expected);
void hmap_free(struct hmap *m);

/* Insert or replace. Returns 1 if the key was new, 0 if replaced. */
int hmap_put(struct hmap *m, const char *key, void *value);
/* Returns the value, or NULL when absent. */
void *hmap_get(const struct hmap *m, const char *key);
size_t hmap_count(const struct hmap *m);

#endif
