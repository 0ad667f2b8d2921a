/*
 * test-mask.c - secret masking: whole values, values split across writes at every
 * position, base64 at every alignment, percent-encoding, whitespace and multi-line
 * values, and no masking of what is not a secret.
 */
#include <criterion/criterion.h>

#include "mask.h"
#include "sbuf.h"
#include "util.h"

#include <stdio.h>

static char *b64(const char *in, size_t len, bool url)
{
	const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xcalloc(len * 2 + 8, 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < len) {
			v |= (unsigned char)in[i + 1] << 8;
		}
		if (i + 2 < len) {
			v |= (unsigned char)in[i + 2];
		}
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = i + 1 < len ? a[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? a[v & 63] : '=';
	}
	return out;
}

static struct mask *one(const char *secret)
{
	struct mask *m = mask_new();
	cr_assert_eq(mask_add(m, secret, strlen(secret)), 0);
	return m;
}

static void assert_hidden(const struct mask *m, const char *text, const char *secret_part)
{
	char *r = mask_redact_str(m, text);
	cr_assert_null(strstr(r, secret_part), "'%s' still in '%s'", secret_part, r);
	cr_assert_not_null(strstr(r, MASK_REPLACEMENT), "nothing masked in '%s'", r);
	free(r);
}

Test(mask, plain_value_everywhere_in_a_line)
{
	struct mask *m = one("hunter2-very-secret");
	char *r = mask_redact_str(m, "token=hunter2-very-secret and again hunter2-very-secret.");
	cr_assert_str_eq(r, "token=*** and again ***.");
	free(r);
	mask_free(m);
}

Test(mask, leaves_other_text_alone)
{
	struct mask *m = one("hunter2-very-secret");
	const char *text = "hunter2-very-secre hunter2 very secret xhunter2-very-secreT";
	char *r = mask_redact_str(m, text);
	cr_assert_str_eq(r, text);
	free(r);
	mask_free(m);
}

Test(mask, refuses_values_too_short_to_mask)
{
	struct mask *m = mask_new();
	cr_assert_eq(mask_add(m, "abc", 3), -EINVAL);
	cr_assert_eq(mask_add(m, "  ab \n", 6), -EINVAL);
	cr_assert_eq(mask_count(m), 0);
	mask_free(m);
}

struct collect {
	struct sbuf sb;
};

static void collect(void *ud, const char *data, size_t len)
{
	struct collect *c = ud;
	sbuf_append(&c->sb, data, len);
}

Test(mask, value_split_across_two_writes_at_every_position)
{
	const char *secret = "s3cr3t-Value-42";
	struct mask *m = one(secret);
	char text[128];
	snprintf(text, sizeof(text), "before %s after", secret);
	size_t len = strlen(text);
	for (size_t cut = 0; cut <= len; cut++) {
		struct collect c;
		sbuf_init(&c.sb, 4096);
		struct mask_stream *s = mask_stream_new(m, collect, &c);
		mask_stream_write(s, text, cut);
		mask_stream_write(s, text + cut, len - cut);
		mask_stream_flush(s);
		cr_assert_str_eq(c.sb.data, "before *** after", "cut at %zu: '%s'", cut, c.sb.data);
		mask_stream_free(s);
		sbuf_release(&c.sb);
	}
	mask_free(m);
}

Test(mask, value_split_into_single_bytes)
{
	const char *secret = "ghp_abcdefghijklmnop";
	struct mask *m = one(secret);
	const char *text = "x ghp_abcdefghijklmnop y ghp_abcdefghijklmno z";
	struct collect c;
	sbuf_init(&c.sb, 4096);
	struct mask_stream *s = mask_stream_new(m, collect, &c);
	for (const char *p = text; *p; p++) {
		mask_stream_write(s, p, 1);
	}
	mask_stream_flush(s);
	cr_assert_str_eq(c.sb.data, "x *** y ghp_abcdefghijklmno z");
	mask_stream_free(s);
	sbuf_release(&c.sb);
	mask_free(m);
}

Test(mask, stream_passes_text_without_secret_prefix_at_once)
{
	struct mask *m = one("TOPSECRETVALUE");
	struct collect c;
	sbuf_init(&c.sb, 4096);
	struct mask_stream *s = mask_stream_new(m, collect, &c);
	mask_stream_write(s, "progress 10%\n", 13);
	/* Nothing here could start the secret, so nothing is held back. */
	cr_assert_str_eq(c.sb.data, "progress 10%\n");
	mask_stream_write(s, "TOPSEC", 6);
	cr_assert_str_eq(c.sb.data, "progress 10%\n");
	mask_stream_write(s, "RET!", 4);
	cr_assert_str_eq(c.sb.data, "progress 10%\nTOPSECRET!");
	mask_stream_free(s);
	sbuf_release(&c.sb);
	mask_free(m);
}

Test(mask, base64_at_every_alignment_and_both_alphabets)
{
	const char *secret = "AKIAIOSFODNN7EXAMPLE-key/with+chars";
	size_t slen = strlen(secret);
	struct mask *m = one(secret);
	for (int url = 0; url < 2; url++) {
		for (size_t pre = 0; pre < 6; pre++) {
			char plain[256];
			snprintf(plain, sizeof(plain), "%.*suser:%s:tail", (int)pre, "######",
				 secret);
			size_t start = pre + 5; /* byte offset of the secret */
			char *enc = b64(plain, strlen(plain), url);
			char *r = mask_redact_str(m, enc);
			cr_assert_not_null(strstr(r, MASK_REPLACEMENT), "pre=%zu url=%d: %s", pre,
					   url, r);
			/* Characters made only of the secret's bits: no 4 of them in a row survive.
			 */
			size_t first = (start * 8 + 5) / 6, end = ((start + slen) * 8) / 6;
			for (size_t k = first; k + 4 <= end; k++) {
				char window[5];
				memcpy(window, enc + k, 4);
				window[4] = '\0';
				cr_assert_null(strstr(r, window), "pre=%zu url=%d: '%s' left in %s",
					       pre, url, window, r);
			}
			free(r);
			free(enc);
		}
	}
	mask_free(m);
}

Test(mask, base64_of_a_basic_auth_header)
{
	/* What curl -v or a registry client would print. */
	struct mask *m = one("p4ssw0rd!");
	char *enc = b64("robot:p4ssw0rd!", 15, false);
	char line[200];
	snprintf(line, sizeof(line), "Authorization: Basic %s", enc);
	char *r = mask_redact_str(m, line);
	cr_assert_not_null(strstr(r, MASK_REPLACEMENT), "%s", r);
	/* What is left cannot be decoded back into the password. */
	cr_assert_null(strstr(r, "cDRzc3cwcmQh"));
	free(r);
	free(enc);
	mask_free(m);
}

Test(mask, url_encoded_forms)
{
	struct mask *m = one("p@ss word/+=&x");
	assert_hidden(m, "https://u:p%40ss%20word%2F%2B%3D%26x@host/", "p%40ss");
	assert_hidden(m, "https://u:p%40ss%20word%2f%2b%3d%26x@host/", "p%40ss");
	assert_hidden(m, "password=p%40ss+word%2F%2B%3D%26x&next=1", "p%40ss");
	mask_free(m);
}

Test(mask, values_with_whitespace)
{
	struct mask *m = one("correct horse battery staple");
	assert_hidden(m, "pw: correct horse battery staple", "horse battery");
	assert_hidden(m, "json: {\"pw\":\"correct horse battery staple\"}", "horse battery");
	mask_free(m);
}

Test(mask, multi_line_values_whole_per_line_crlf_and_escaped)
{
	const char *key = "-----BEGIN PRIVATE KEY-----\n"
			  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
			  "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
			  "-----END PRIVATE KEY-----\n";
	struct mask *m = one(key);
	/* As printed, and then each line on its own (re-indented by a tool). */
	assert_hidden(m, key, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
	assert_hidden(m, "    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", "MIIEvQ");
	assert_hidden(m, "line: BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj", "BKcwgg");
	/* With CRLF line ends and JSON-escaped. */
	assert_hidden(m,
		      "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n"
		      "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\r\n-----END PRIVATE KEY-----\r\n",
		      "MIIEvQ");
	assert_hidden(m,
		      "{\"key\":\"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n"
		      "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\\n-----END PRIVATE KEY-----\\n\"}",
		      "MIIEvQ");
	mask_free(m);
}

Test(mask, several_secrets_longest_match_wins)
{
	struct mask *m = mask_new();
	cr_assert_eq(mask_add(m, "abcd1234", 8), 0);
	cr_assert_eq(mask_add(m, "abcd1234efgh", 12), 0);
	char *r = mask_redact_str(m, "[abcd1234efgh] [abcd1234]");
	cr_assert_str_eq(r, "[***] [***]");
	free(r);
	cr_assert_eq(mask_count(m), 2);
	mask_free(m);
}

Test(mask, no_secrets_means_passthrough)
{
	char *r = mask_redact_str(NULL, "anything");
	cr_assert_str_eq(r, "anything");
	free(r);
	struct collect c;
	sbuf_init(&c.sb, 100);
	struct mask_stream *s = mask_stream_new(NULL, collect, &c);
	mask_stream_write(s, "abc", 3);
	mask_stream_flush(s);
	cr_assert_str_eq(c.sb.data, "abc");
	mask_stream_free(s);
	sbuf_release(&c.sb);
}
