/*
 * fuzz-lex.h - the body shared by the tokenizer fuzz targets (fuzz-lex-*.c define FUZZ_LANG
 * and include this): arbitrary bytes through a language's tokenizer, as source and as a
 * pattern, then through the whole SAST engine with the default rules. Tokens must lie
 * inside the input in increasing order with symmetric bracket pairs, findings must have
 * valid positions, and nothing may crash, hang or leak.
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

static void check_tokens(const struct tokens *t, size_t size)
{
	uint32_t last = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct token *k = &t->v[i];
		if ((size_t)k->off + k->len > size || k->off < last || k->line == 0) {
			__builtin_trap();
		}
		if (k->pair != TOK_NONE && (k->pair >= t->n || t->v[k->pair].pair != i)) {
			__builtin_trap();
		}
		last = k->off;
	}
	for (size_t i = 0; i < t->n_regions; i++) {
		if ((size_t)t->regions[i].off + t->regions[i].len > size) {
			__builtin_trap();
		}
	}
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
			check_tokens(&t, size);
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
