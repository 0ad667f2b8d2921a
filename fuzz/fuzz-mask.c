/*
 * fuzz-mask.c - the secret masker (base/mask.c): masking a stream, written in pieces of
 * any size, gives exactly what masking the whole text at once gives, and no secret is
 * left in either.
 *
 * Input: the first byte says how many secrets (1-4); each is a length byte (4-12) and
 * that many bytes, read as the letters a, b, c and blanks; the rest is the text, read as
 * a, b, c, blanks, dots and newlines, with its bytes also choosing where the writes split.
 * A small alphabet makes overlapping, nested and repeated secrets common, and a secret's
 * first words followed by "..." (a form the mask also hides) likely. The text holds no
 * '*', so a secret found in the output can only be one left unmasked.
 */
#include "mask.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	char *buf;
	size_t len, cap;
};

static void emit(void *ud, const char *d, size_t n)
{
	struct sink *s = ud;
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (!s->buf) {
			abort();
		}
	}
	memcpy(s->buf + s->len, d, n);
	s->len += n;
}

static bool contains(const char *h, size_t hn, const char *n, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++) {
		if (memcmp(h + i, n, nn) == 0) {
			return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 4096) {
		return 0;
	}
	size_t p = 0;
	unsigned nsec = (unsigned)(data[p++] % 4) + 1;
	char secrets[4][13];
	size_t slen[4];
	struct mask *m = mask_new();
	unsigned added = 0;
	for (unsigned k = 0; k < nsec && p < size; k++) {
		size_t n = (size_t)(data[p++] % 9) + 4;
		if (p + n > size) {
			break;
		}
		for (size_t i = 0; i < n; i++) {
			secrets[added][i] = "abc "[data[p + i] % 4];
		}
		p += n;
		if (mask_add(m, secrets[added], n) == 0) {
			slen[added++] = n;
		}
	}
	size_t tn = size - p;
	char *text = malloc(tn + 1);
	if (!text) {
		abort();
	}
	for (size_t i = 0; i < tn; i++) {
		text[i] = "abc .\n"[data[p + i] % 6];
	}
	size_t wl = 0;
	char *whole = mask_redact(m, text, tn, &wl);
	struct sink s = { 0 };
	struct mask_stream *ms = mask_stream_new(m, emit, &s);
	for (size_t i = 0; i < tn;) {
		size_t n = (size_t)(data[p + i] % 7) + 1;
		n = n > tn - i ? tn - i : n;
		mask_stream_write(ms, text + i, n);
		i += n;
	}
	mask_stream_flush(ms);
	if (s.len != wl || (wl && memcmp(s.buf, whole, wl) != 0)) {
		__builtin_trap(); /* where the writes split changed the result */
	}
	for (unsigned k = 0; k < added; k++) {
		if (contains(whole, wl, secrets[k], slen[k])) {
			__builtin_trap(); /* a secret got through */
		}
	}
	mask_stream_free(ms);
	mask_free(m);
	free(s.buf);
	free(whole);
	free(text);
	return 0;
}
