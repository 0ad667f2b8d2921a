/*
 * hmap.c - open-addressing string map. The load factor stays at or below 1/2.
 */
#include "hmap.h"

#include "util.h"

struct slot {
	const char *key;
	void *value;
	uint64_t hash;
};

struct hmap {
	struct slot *slots;
	size_t mask, count;
	uint64_t seed;
};

static uint64_t hash_str(const char *s, uint64_t seed)
{
	/* FNV-1a over the bytes, then a 64-bit finaliser (from splitmix64). */
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

struct hmap *hmap_new(size_t expected)
{
	struct hmap *m = xcalloc(1, sizeof(*m));
	size_t n = 16;
	while (n < expected * 2) {
		n *= 2;
	}
	m->slots = xcalloc(n, sizeof(struct slot));
	m->mask = n - 1;
	if (random_bytes(&m->seed, sizeof(m->seed)) < 0) {
		m->seed = (uint64_t)now_mono_ns();
	}
	return m;
}

void hmap_free(struct hmap *m)
{
	if (!m) {
		return;
	}
	free(m->slots);
	free(m);
}

static struct slot *find(const struct hmap *m, const char *key, uint64_t h)
{
	for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
		struct slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && strcmp(s->key, key) == 0)) {
			return s;
		}
	}
}

static void grow(struct hmap *m)
{
	size_t n = (m->mask + 1) * 2;
	struct slot *old = m->slots;
	size_t oldn = m->mask + 1;
	m->slots = xcalloc(n, sizeof(struct slot));
	m->mask = n - 1;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].key) {
			*find(m, old[i].key, old[i].hash) = old[i];
		}
	}
	free(old);
}

int hmap_put(struct hmap *m, const char *key, void *value)
{
	if ((m->count + 1) * 2 > m->mask + 1) {
		grow(m);
	}
	uint64_t h = hash_str(key, m->seed);
	struct slot *s = find(m, key, h);
	if (s->key) {
		s->value = value;
		return 0;
	}
	s->key = key;
	s->hash = h;
	s->value = value;
	m->count++;
	return 1;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct slot *s = find(m, key, hash_str(key, m->seed));
	return s->key ? s->value : NULL;
}

size_t hmap_count(const struct hmap *m)
{
	return m->count;
}
