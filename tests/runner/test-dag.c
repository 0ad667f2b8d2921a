/*
 * test-dag.c - topological order, cycle paths, remaining critical path, transitive
 * reduction, closures.
 */
#include <criterion/criterion.h>

#include "dag.h"
#include "util.h"

/* Build a dag from an edge list "v needs u" given as pairs. */
static void build(struct dag *d, size_t n, const size_t (*edges)[2], size_t ne)
{
	size_t *cnt = xcalloc(n, sizeof(size_t)), *fill = xcalloc(n, sizeof(size_t));
	size_t **needs = xcalloc(n, sizeof(size_t *));
	for (size_t k = 0; k < ne; k++) {
		cnt[edges[k][0]]++;
	}
	for (size_t i = 0; i < n; i++) {
		needs[i] = xcalloc(cnt[i] + 1, sizeof(size_t));
	}
	for (size_t k = 0; k < ne; k++) {
		size_t v = edges[k][0];
		needs[v][fill[v]++] = edges[k][1];
	}
	dag_init(d, n, cnt, needs);
	for (size_t i = 0; i < n; i++) {
		free(needs[i]);
	}
	free(needs);
	free(cnt);
	free(fill);
}

static size_t pos(const size_t *order, size_t n, size_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (order[i] == v) {
			return i;
		}
	}
	return SIZE_MAX;
}

Test(dag, order_puts_needs_first)
{
	/* 0 <- 1 <- 3, 0 <- 2 <- 3, 4 alone */
	static const size_t e[][2] = { { 1, 0 }, { 2, 0 }, { 3, 1 }, { 3, 2 } };
	struct dag d;
	build(&d, 5, e, 4);
	size_t order[5];
	cr_assert_eq(dag_order(&d, order, NULL, NULL), 0);
	for (size_t k = 0; k < 4; k++) {
		cr_assert_lt(pos(order, 5, e[k][1]), pos(order, 5, e[k][0]));
	}
	dag_release(&d);
}

Test(dag, cycle_path_starts_at_smallest_index)
{
	/* 0 -> 1 (0 needs 1), 1 -> 2, 2 -> 0; 3 needs 0 (outside the cycle) */
	static const size_t e[][2] = { { 1, 2 }, { 2, 0 }, { 0, 1 }, { 3, 0 } };
	struct dag d;
	build(&d, 4, e, 4);
	size_t order[4], *cycle = NULL, len = 0;
	cr_assert_eq(dag_order(&d, order, &cycle, &len), -ELOOP);
	cr_assert_eq(len, 3);
	cr_assert_eq(cycle[0], 0);
	cr_assert_eq(cycle[1], 1);
	cr_assert_eq(cycle[2], 2);
	free(cycle);
	dag_release(&d);
}

Test(dag, remaining_path_and_critical_path)
{
	/* a(0)=3 -> b(1)=5 -> d(3)=1 ; a -> c(2)=1 -> d */
	static const size_t e[][2] = { { 1, 0 }, { 2, 0 }, { 3, 1 }, { 3, 2 } };
	struct dag d;
	build(&d, 4, e, 4);
	size_t order[4];
	uint64_t w[4] = { 3, 5, 1, 1 }, rem[4];
	cr_assert_eq(dag_order(&d, order, NULL, NULL), 0);
	cr_assert_eq(dag_remaining(&d, order, w, rem), 9);
	cr_assert_eq(rem[0], 9);
	cr_assert_eq(rem[1], 6);
	cr_assert_eq(rem[2], 2);
	cr_assert_eq(rem[3], 1);
	dag_release(&d);
}

Test(dag, transitive_reduction_drops_implied_edges)
{
	/* 2 needs 1 and 0; 1 needs 0: the edge 2->0 is implied. */
	static const size_t e[][2] = { { 1, 0 }, { 2, 1 }, { 2, 0 } };
	struct dag d;
	build(&d, 3, e, 3);
	size_t order[3];
	cr_assert_eq(dag_order(&d, order, NULL, NULL), 0);
	bool *keep = dag_reduce(&d, order);
	/* edge indices: need list of 1 = [0] (idx 0); of 2 = [1, 0] (idx 1, 2) */
	cr_assert(keep[0]);
	cr_assert(keep[1]);
	cr_assert_not(keep[2]);
	free(keep);
	dag_release(&d);
}

Test(dag, closure_marks_everything_needed)
{
	static const size_t e[][2] = { { 1, 0 }, { 2, 1 }, { 4, 3 } };
	struct dag d;
	build(&d, 5, e, 3);
	bool mark[5] = { false };
	size_t root = 2;
	dag_closure(&d, &root, 1, mark);
	cr_assert(mark[0] && mark[1] && mark[2]);
	cr_assert_not(mark[3] || mark[4]);
	dag_release(&d);
}

Test(dag, long_chain_is_handled_iteratively)
{
	size_t n = 20000;
	size_t(*e)[2] = xcalloc(n, sizeof(*e));
	for (size_t i = 1; i < n; i++) {
		e[i - 1][0] = i;
		e[i - 1][1] = i - 1;
	}
	struct dag d;
	build(&d, n, (const size_t(*)[2])e, n - 1);
	size_t *order = xcalloc(n, sizeof(size_t));
	uint64_t *w = xcalloc(n, sizeof(uint64_t)), *rem = xcalloc(n, sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		w[i] = 1;
	}
	cr_assert_eq(dag_order(&d, order, NULL, NULL), 0);
	cr_assert_eq(dag_remaining(&d, order, w, rem), n);
	free(order);
	free(w);
	free(rem);
	free(e);
	dag_release(&d);
}

/* Whether t is reachable from s through the needs (a plain search: the oracle). */
static bool reaches(const struct dag *d, size_t s, size_t t, bool *seen)
{
	if (s == t) {
		return true;
	}
	if (seen[s]) {
		return false;
	}
	seen[s] = true;
	for (size_t k = d->need_off[s]; k < d->need_off[s + 1]; k++) {
		if (reaches(d, d->need[k], t, seen)) {
			return true;
		}
	}
	return false;
}

/* The reduction against a plain search on random graphs: an edge v -> u is dropped
 * exactly when another need of v reaches u (it computes one union per stage now, not a
 * pass over the needs for each need). */
Test(dag, transitive_reduction_matches_a_plain_search)
{
	srand(7);
	for (int round = 0; round < 50; round++) {
		size_t n = 2 + (size_t)(rand() % 70), m = 0;
		size_t(*e)[2] = xcalloc(n * n, sizeof(*e));
		for (size_t v = 1; v < n; v++) {
			for (size_t u = 0; u < v; u++) {
				if (rand() % 4 == 0) {
					e[m][0] = v;
					e[m][1] = u;
					m++;
				}
			}
		}
		struct dag d;
		build(&d, n, (const size_t(*)[2])e, m);
		size_t *order = xcalloc(n, sizeof(size_t));
		cr_assert_eq(dag_order(&d, order, NULL, NULL), 0);
		bool *keep = dag_reduce(&d, order);
		bool *seen = xcalloc(n, sizeof(bool));
		for (size_t v = 0; v < n; v++) {
			for (size_t k = d.need_off[v]; k < d.need_off[v + 1]; k++) {
				bool implied = false;
				for (size_t j = d.need_off[v]; j < d.need_off[v + 1] && !implied;
				     j++) {
					if (j != k) {
						memset(seen, 0, n * sizeof(bool));
						implied = reaches(&d, d.need[j], d.need[k], seen);
					}
				}
				cr_assert_eq(keep[k], !implied, "round %d: edge %zu -> %zu", round,
					     v, d.need[k]);
			}
		}
		free(seen);
		free(keep);
		free(order);
		free(e);
		dag_release(&d);
	}
}
