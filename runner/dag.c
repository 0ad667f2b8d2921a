/*
 * dag.c - graph algorithms over the stage graph.
 */
#include "dag.h"

#include "util.h"

#include "banned.h"

void dag_init(struct dag *d, size_t n, const size_t *n_needs, size_t *const *needs)
{
	size_t edges = 0;
	d->n = n;
	d->need_off = xcalloc(n + 1, sizeof(size_t));
	d->dep_off = xcalloc(n + 1, sizeof(size_t));
	for (size_t v = 0; v < n; v++) {
		d->need_off[v] = edges;
		edges += n_needs[v];
	}
	d->need_off[n] = edges;
	d->need = xcalloc(edges ? edges : 1, sizeof(size_t));
	d->dep = xcalloc(edges ? edges : 1, sizeof(size_t));
	for (size_t v = 0; v < n; v++) {
		if (n_needs[v]) {
			memcpy(d->need + d->need_off[v], needs[v], n_needs[v] * sizeof(size_t));
		}
		for (size_t k = 0; k < n_needs[v]; k++) {
			d->dep_off[needs[v][k] + 1]++;
		}
	}
	for (size_t v = 0; v < n; v++) {
		d->dep_off[v + 1] += d->dep_off[v];
	}
	size_t *fill = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t v = 0; v < n; v++) {
		for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
			size_t u = d->need[k];
			d->dep[d->dep_off[u] + fill[u]++] = v;
		}
	}
	free(fill);
}

void dag_release(struct dag *d)
{
	free(d->need_off);
	free(d->need);
	free(d->dep_off);
	free(d->dep);
	memset(d, 0, sizeof(*d));
}

/* Find one cycle among the nodes left with unmet needs after Kahn's algorithm. */
static void find_cycle(const struct dag *d, const size_t *indeg, size_t **cycle, size_t *len)
{
	size_t n = d->n;
	/* Every remaining node has a remaining need; follow needs until a node repeats. */
	size_t start = 0;
	while (start < n && indeg[start] == 0) {
		start++;
	}
	size_t *seen_at = xcalloc(n, sizeof(size_t)); /* 1-based step of the first visit */
	size_t *path = xcalloc(n + 1, sizeof(size_t));
	size_t steps = 0, v = start;
	while (!seen_at[v]) {
		seen_at[v] = ++steps;
		path[steps - 1] = v;
		size_t next = n;
		for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
			if (indeg[d->need[k]] > 0) {
				next = d->need[k];
				break;
			}
		}
		v = next; /* cannot be n: a node with unmet needs has a need left in the set */
	}
	size_t first = seen_at[v] - 1, clen = steps - first;
	/* Rotate so the cycle starts at its smallest index, for a stable message. */
	size_t min_i = first;
	for (size_t i = first; i < steps; i++) {
		if (path[i] < path[min_i]) {
			min_i = i;
		}
	}
	size_t *c = xcalloc(clen, sizeof(size_t));
	for (size_t i = 0; i < clen; i++) {
		c[i] = path[first + (min_i - first + i) % clen];
	}
	free(seen_at);
	free(path);
	*cycle = c;
	*len = clen;
}

int dag_order(const struct dag *d, size_t *order, size_t **cycle, size_t *cycle_len)
{
	size_t n = d->n, head = 0, tail = 0;
	/* indeg here counts unmet needs. */
	size_t *left = xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t v = 0; v < n; v++) {
		left[v] = d->need_off[v + 1] - d->need_off[v];
		if (left[v] == 0) {
			order[tail++] = v;
		}
	}
	while (head < tail) {
		size_t u = order[head++];
		for (size_t k = d->dep_off[u]; k < d->dep_off[u + 1]; k++) {
			size_t v = d->dep[k];
			if (--left[v] == 0) {
				order[tail++] = v;
			}
		}
	}
	int r = 0;
	if (tail < n) {
		if (cycle) {
			find_cycle(d, left, cycle, cycle_len);
		}
		r = -ELOOP;
	}
	free(left);
	return r;
}

uint64_t dag_remaining(const struct dag *d, const size_t *order, const uint64_t *w, uint64_t *rem)
{
	uint64_t crit = 0;
	for (size_t i = d->n; i-- > 0;) {
		size_t v = order[i];
		uint64_t best = 0;
		for (size_t k = d->dep_off[v]; k < d->dep_off[v + 1]; k++) {
			best = MAX(best, rem[d->dep[k]]);
		}
		rem[v] = w[v] + best;
		crit = MAX(crit, rem[v]);
	}
	return crit;
}

bool *dag_reduce(const struct dag *d, const size_t *order)
{
	size_t n = d->n;
	size_t edges = d->need_off[n];
	if (n > 65536) {
		return NULL;
	}
	size_t words = (n + 63) / 64;
	/* reach[v]: everything v needs, transitively (v excluded). */
	size_t cells = n * words;
	uint64_t *reach = xcalloc(cells > 0 ? cells : 1, sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		size_t v = order[i]; /* needs come first, so their sets are complete */
		uint64_t *rv = reach + v * words;
		for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
			size_t u = d->need[k];
			const uint64_t *ru = reach + u * words;
			for (size_t w = 0; w < words; w++) {
				rv[w] |= ru[w];
			}
			rv[u / 64] |= 1ull << (u % 64);
		}
	}
	/* An edge v -> u is implied when another need of v reaches u: u is in the union of
	 * what v's needs reach (u's own set never holds u, the graph being acyclic). One
	 * union per stage: linear in its needs, not quadratic. */
	bool *keep = xcalloc(edges ? edges : 1, sizeof(bool));
	uint64_t *via = xcalloc(words ? words : 1, sizeof(uint64_t));
	for (size_t v = 0; v < n; v++) {
		memset(via, 0, words * sizeof(uint64_t));
		for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
			const uint64_t *rx = reach + d->need[k] * words;
			for (size_t w = 0; w < words; w++) {
				via[w] |= rx[w];
			}
		}
		for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
			size_t u = d->need[k];
			keep[k] = !(via[u / 64] >> (u % 64) & 1);
		}
	}
	free(via);
	free(reach);
	return keep;
}

void dag_closure(const struct dag *d, const size_t *roots, size_t n_roots, bool *mark)
{
	size_t *stack = xcalloc(d->n ? d->n : 1, sizeof(size_t));
	size_t top = 0;
	for (size_t i = 0; i < n_roots; i++) {
		if (!mark[roots[i]]) {
			mark[roots[i]] = true;
			stack[top++] = roots[i];
		}
	}
	while (top > 0) {
		size_t v = stack[--top];
		for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
			size_t u = d->need[k];
			if (!mark[u]) {
				mark[u] = true;
				stack[top++] = u;
			}
		}
	}
	free(stack);
}
