/*
 * fuzz-lex.h - the body shared by the tokenizer fuzz targets (fuzz-lex-*.c define FUZZ_LANG
 * and include this): arbitrary bytes through a language's tokenizer, as source and as a
 * pattern, then through the whole SAST engine with the default rules. Tokens must lie
 * inside the input in increasing order with symmetric bracket pairs, findings must have
 * valid positions, and nothing may crash, hang or leak. The regions the source embeds (a
 * command substitution, a CI run: block, an f-string's fields) are lexed again as the SAST
 * engine lexes them (lex_run_region(); a Dockerfile's shell regions also as RUN lines):
 * their tokens must lie inside the region, under the same rules.
 */
#ifndef RUNNER_FUZZ_LEX_H
#define RUNNER_FUZZ_LEX_H

#include "diag.h"
#include "lex.h"
#include "rules.h"
#include "sast.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The regions of a file lexed again (of the first this many). */
#define FUZZ_MAX_REGIONS 64

/* The tokens of t lie in [from, to) in increasing order, with symmetric pairs. */
static void check_tokens(const struct tokens *t, size_t from, size_t to)
{
	uint32_t last = (uint32_t)from;
	for (size_t i = 0; i < t->n; i++) {
		const struct token *k = &t->v[i];
		if ((size_t)k->off + k->len > to || k->off < last || k->line == 0) {
			__builtin_trap();
		}
		if (k->pair != TOK_NONE && (k->pair >= t->n || t->v[k->pair].pair != i)) {
			__builtin_trap();
		}
		last = k->off;
	}
	for (size_t i = 0; i < t->n_regions; i++) {
		if (t->regions[i].off < from ||
		    (size_t)t->regions[i].off + t->regions[i].len > to) {
			__builtin_trap();
		}
	}
}

/* Lex the region g of whole as lang, as the SAST engine does, and check its tokens. */
static void check_region(const struct tokens *whole, const struct lex_region *g, enum lang lang)
{
	struct tokens rt;
	tokens_init(&rt);
	int r = lex_run_region(lang, whole, g->off, g->len, &rt);
	if (r == 0) {
		check_tokens(&rt, g->off, (size_t)g->off + g->len);
	} else if (r != -E2BIG && r != -EINVAL) {
		__builtin_trap();
	}
	tokens_release(&rt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ruleset *rs;
	static struct sast_scratch *scratch;
	if (!rs) {
		struct diag_list dl;
		diag_list_init(&dl, 10);
		rs = ruleset_new(RULE_SAST);
		if (ruleset_load_defaults(rs, &dl) < 0) {
			__builtin_trap();
		}
		ruleset_finish(rs, &dl);
		diag_list_release(&dl);
		scratch = sast_scratch_new(rs);
	}
	if (size > (1u << 20)) {
		return 0;
	}
	const char *buf = (const char *)data;
#ifdef FUZZ_EXTRA
	FUZZ_EXTRA(buf, size);
#endif
	struct tokens t;
	tokens_init(&t);
	for (int pattern = 0; pattern < 2; pattern++) {
		int r = lex_run(FUZZ_LANG, buf, size, pattern, &t);
		if (r == 0) {
			check_tokens(&t, 0, size);
			for (size_t i = 0; !pattern && i < t.n_regions && i < FUZZ_MAX_REGIONS;
			     i++) {
				check_region(&t, &t.regions[i], t.regions[i].lang);
				if (FUZZ_LANG == LANG_DOCKERFILE &&
				    t.regions[i].lang == LANG_SHELL) {
					check_region(&t, &t.regions[i], LANG_DOCKERFILE);
				}
			}
		} else if (r != -E2BIG) {
			__builtin_trap();
		}
	}
	tokens_release(&t);
	struct finding_list fl;
	finding_list_init(&fl);
	struct sast_file_stats st = { 0 };
	if (sast_scan(scratch, "fuzz", FUZZ_LANG, buf, size, &fl, &st) == 0) {
		for (size_t i = 0; i < fl.n; i++) {
			const struct finding *f = &fl.v[i];
			if (f->line == 0 || f->end_line < f->line || !f->fingerprint ||
			    !f->message) {
				__builtin_trap();
			}
		}
	}
	finding_list_release(&fl);
	return 0;
}

#endif
