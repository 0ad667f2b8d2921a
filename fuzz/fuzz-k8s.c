/*
 * fuzz-k8s.c - the Kubernetes Secret reader and its base64 decoder on arbitrary bytes:
 * every value and key must lie within the input, a value's text within its cap, the
 * decoder must stay within the room it is given, and nothing may crash, hang or leak.
 */
#include "k8s.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20)) {
		return 0;
	}
	const char *buf = (const char *)data;
	struct k8s_values v = { 0 };
	if (k8s_read_secrets(buf, size, &v) < 0) {
		return 0;
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct k8s_value *x = &v.v[i];
		if (x->off > size || x->len > size - x->off || x->key_off > size ||
		    x->key_len > size - x->key_off || x->text_len > K8S_MAX_VALUE ||
		    strlen(x->key) > K8S_MAX_KEY) {
			__builtin_trap();
		}
		unsigned char *out = malloc(x->text_len / 4 * 3 + 3);
		size_t n = 0;
		if (out && k8s_base64_decode(x->text, x->text_len, out, &n) == 0 &&
		    n > x->text_len / 4 * 3 + 3) {
			__builtin_trap();
		}
		free(out);
	}
	if (v.bytes > K8S_MAX_TOTAL || v.docs_unparsed > v.docs_parsed) {
		__builtin_trap();
	}
	/* The decoder on the raw input too. */
	unsigned char *out = malloc(size / 4 * 3 + 3);
	size_t n = 0;
	if (out && k8s_base64_decode(buf, size, out, &n) == 0 && n > size / 4 * 3 + 3) {
		__builtin_trap();
	}
	free(out);
	k8s_values_release(&v);
	return 0;
}
