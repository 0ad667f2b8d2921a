/*
 * dag.h - the stage graph: nodes are stage indices, an edge v -> u means "v needs u".
 *
 * Adjacency is stored in compressed rows (CSR) in both directions. All algorithms are
 * iterative (no recursion), linear in nodes + edges except the transitive reduction,
 * which uses one reachability bitset per node (n^2/8 bytes: 12.5 MB at 10,000 stages) and
 * is only computed for `runner graph`.
 */
#ifndef RUNNER_DAG_H
#define RUNNER_DAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dag {
	size_t n;
	size_t *need_off, *need; /* needs of v: need[need_off[v] .. need_off[v+1]) */
	size_t *dep_off, *dep;	 /* dependents of v: dep[dep_off[v] .. dep_off[v+1]) */
};

/* Build from per-node need lists. Duplicate edges must already be removed. */
void dag_init(struct dag *d, size_t n, const size_t *n_needs, size_t *const *needs);
void dag_release(struct dag *d);

/*
 * Topological order, needs before dependents (order has n entries; ties keep index
 * order). Returns 0, or -ELOOP with *cycle (heap, caller frees) set to the nodes of one
 * cycle in "needs" direction, starting at its smallest index: c0 needs c1 ... needs c0.
 */
int dag_order(const struct dag *d, size_t *order, size_t **cycle, size_t *cycle_len);

/*
 * Longest remaining path: rem[v] = w[v] + max(rem[dependent]) over v's dependents.
 * order must come from dag_order. Returns the critical-path length (max over rem).
 */
uint64_t dag_remaining(const struct dag *d, const size_t *order, const uint64_t *w, uint64_t *rem);

/*
 * Transitive reduction: keep[e] for every need edge e (indexing d->need) is false when the
 * edge is implied by a longer path. Returns a heap array (caller frees) or NULL if n is too
 * large for the bitsets (more than 65,536 nodes).
 */
bool *dag_reduce(const struct dag *d, const size_t *order);

/* Mark v and everything it needs, transitively. */
void dag_closure(const struct dag *d, const size_t *roots, size_t n_roots, bool *mark);

#endif
