/*
 * test-mask.c - secret masking: whole values, values split across writes at every
 * position, base64 at every alignment, percent-encoding, whitespace and multi-line
 * values, secrets that nest in or overlap each other (against a brute-force reference, at
 * every split), and no masking of what is not a secret.
 */
#include <criterion/criterion.h>

#include "mask.h"
#include "sbuf.h"
#include "util.h"

#include <ctype.h>
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

/*
 * The scanners quote text cut short at a blank, with "..." after it: a value with blanks
 * can appear as its first words. Those are masked too, as the text has them and with
 * blanks collapsed (SAST messages), in a stream split anywhere; other text with the same
 * first words and no "..." stays.
 */
Test(mask, first_words_of_a_value_cut_short)
{
	struct mask *m = one("correct horse\tbattery  staple");
	char *r = mask_redact_str(m, "os.system runs \"mysql -p correct horse\tbattery... through");
	cr_assert_str_eq(r, "os.system runs \"mysql -p *** through");
	free(r);
	r = mask_redact_str(m, "runs \"mysql -p correct horse battery... through");
	cr_assert_str_eq(r, "runs \"mysql -p *** through");
	free(r);
	r = mask_redact_str(m, "snippet: pw = correct horse...");
	cr_assert_str_eq(r, "snippet: pw = ***");
	free(r);
	/* Quoted whole with its blanks collapsed, as a SAST message quotes code. */
	r = mask_redact_str(m, "runs y + \"correct horse battery staple\" through");
	cr_assert_str_eq(r, "runs y + \"***\" through");
	free(r);
	/* Cut anywhere within 240 bytes, however many words come first. */
	struct sbuf many;
	sbuf_init(&many, 4096);
	for (int i = 0; i < 90; i++) {
		char wd[4] = { (char)('a' + i / 10), (char)('a' + i % 10), ' ', '\0' };
		sbuf_puts(&many, wd);
	}
	struct mask *mm = one(many.data);
	for (size_t cut = 4; cut < 240; cut++) {
		if (many.data[cut] != ' ') {
			continue;
		}
		char *q = xasprintf("x \"%.*s...", (int)cut, many.data);
		char *o = mask_redact_str(mm, q);
		cr_assert_str_eq(o, "x \"***", "cut at %zu: %s", cut, o);
		free(o);
		free(q);
	}
	mask_free(mm);
	sbuf_release(&many);
	/* A quote whose start is cut: "..." and the last words. */
	r = mask_redact_str(m, "snippet: ...battery  staple # the db");
	cr_assert_str_eq(r, "snippet: *** # the db");
	free(r);
	/* Fewer than MASK_MIN_SECRET bytes of the value, or no "...": left alone. */
	struct mask *m2 = one("abc defgh ijk");
	r = mask_redact_str(m2, "abc... and abc defgh and");
	cr_assert_str_eq(r, "abc... and abc defgh and");
	free(r);
	r = mask_redact_str(m2, "x abc defgh...");
	cr_assert_str_eq(r, "x ***");
	free(r);
	mask_free(m2);
	const char *text = "quote: correct horse battery... end";
	for (size_t cut = 0; cut <= strlen(text); cut++) {
		struct collect c;
		sbuf_init(&c.sb, 4096);
		struct mask_stream *s = mask_stream_new(m, collect, &c);
		mask_stream_write(s, text, cut);
		mask_stream_write(s, text + cut, strlen(text) - cut);
		mask_stream_flush(s);
		cr_assert_str_eq(c.sb.data, "quote: *** end", "cut at %zu: '%s'", cut, c.sb.data);
		mask_stream_free(s);
		sbuf_release(&c.sb);
	}
	mask_free(m);
}

/*
 * The first- and last-words forms stay few whatever the value: at most 1024 of each kind for
 * a value and its lines together, none longer than the longest quote a scanner makes (240
 * bytes). A 64 KiB value
 * of 200 lines of 100 words each would otherwise add 128 per line, and every form added is
 * compared with those before it.
 */
Test(mask, first_words_forms_are_capped)
{
	struct sbuf v;
	sbuf_init(&v, 1 << 20);
	for (int l = 0; l < 200; l++) {
		char first[16];
		snprintf(first, sizeof(first), "w%03d", l);
		for (int w = 0; w < 100; w++) {
			sbuf_puts(&v, w ? " ab" : first);
		}
		sbuf_puts(&v, "\n");
	}
	struct mask *plain = mask_new(), *blanks = mask_new();
	char *u = xstrdup(v.data);
	for (char *c = u; *c; c++) {
		*c = *c == ' ' ? '_' : *c;
	}
	cr_assert_eq(mask_add(plain, u, strlen(u)), 0);
	cr_assert_eq(mask_add(blanks, v.data, v.len), 0);
	/* Blanks have forms of their own (`+`, `%20`): a few per line. */
	cr_assert_leq(mask_forms(blanks), mask_forms(plain) + 3 * 1024 + 3 * 200,
		      "%zu forms, %zu without blanks", mask_forms(blanks), mask_forms(plain));
	/* Past 240 bytes, no first-words form. */
	char *text = xasprintf("x %.*s... y", 250, v.data);
	char *r = mask_redact_str(blanks, text);
	cr_assert_str_eq(r, text);
	free(r);
	free(text);
	free(u);
	sbuf_release(&v);
	mask_free(plain);
	mask_free(blanks);
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

/* enc broken into lines of `width` columns, each ending in `eol` and the next starting
 * with `indent`, as `base64`, openssl and a PEM block in YAML print it. */
static char *wrap_lines(const char *enc, size_t width, const char *eol, const char *indent)
{
	struct sbuf sb;
	sbuf_init(&sb, 1 << 20);
	sbuf_puts(&sb, indent);
	for (size_t i = 0, n = strlen(enc); i < n; i += width) {
		if (i) {
			sbuf_puts(&sb, eol);
			sbuf_puts(&sb, indent);
		}
		sbuf_append(&sb, enc + i, n - i < width ? n - i : width);
	}
	sbuf_puts(&sb, eol);
	return sbuf_steal(&sb);
}

static char *unwrap(const char *s)
{
	char *out = xstrdup(s);
	size_t o = 0;
	for (const char *p = s; *p; p++) {
		if (*p != '\n' && *p != '\r' && *p != ' ') {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return out;
}

static char *redact_by_bytes(const struct mask *m, const char *text)
{
	struct collect c;
	sbuf_init(&c.sb, 1 << 20);
	struct mask_stream *s = mask_stream_new(m, collect, &c);
	for (const char *p = text; *p; p++) {
		mask_stream_write(s, p, 1);
	}
	mask_stream_flush(s);
	mask_stream_free(s);
	return sbuf_steal(&c.sb);
}

Test(mask, base64_wrapped_into_lines)
{
	/* 120 bytes: its encoding spans two lines or more at any width. */
	const char *secret =
		"-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
		"AAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDxyz";
	size_t slen = strlen(secret);
	struct mask *m = one(secret);
	static const struct {
		size_t width;
		const char *eol, *indent;
	} styles[] = {
		{ 76, "\n", "" }, { 64, "\n", "" }, { 76, "\r\n", "" }, { 64, "\n", "    " }
	};
	for (size_t st = 0; st < ARRAY_SIZE(styles); st++) {
		for (size_t pre = 0; pre < 80; pre++) {
			char plain[512];
			snprintf(plain, sizeof(plain), "%.*s%s tail of the file", (int)pre,
				 "################################################################"
				 "################",
				 secret);
			char *enc = b64(plain, strlen(plain), false);
			char *text = wrap_lines(enc, styles[st].width, styles[st].eol,
						styles[st].indent);
			char *r = mask_redact_str(m, text);
			char *bytes = redact_by_bytes(m, text);
			cr_assert_str_eq(bytes, r, "style %zu pre=%zu: written byte by byte", st,
					 pre);
			char *flat = unwrap(r);
			/* No 4 characters in a row made only of the secret's bits survive, on a
			 * line or across a line break. */
			size_t first = (pre * 8 + 5) / 6, end = ((pre + slen) * 8) / 6;
			for (size_t k = first; k + 4 <= end; k++) {
				char window[5];
				memcpy(window, enc + k, 4);
				window[4] = '\0';
				cr_assert_null(strstr(flat, window),
					       "style %zu pre=%zu: '%s' left in\n%s", st, pre,
					       window, r);
			}
			cr_assert_not_null(strstr(r, MASK_REPLACEMENT));
			free(flat);
			free(bytes);
			free(r);
			free(text);
			free(enc);
		}
	}
	mask_free(m);
}

Test(mask, base64_wrapped_leaves_other_lines_alone)
{
	const char *secret = "hunter2-hunter2-hunter2-hunter2-hunter2-hunter2-hunter2-hunter2";
	struct mask *m = one(secret);
	/* Other data wrapped the same way, and the secret's encoding broken where no tool
	 * breaks it: after 65 blanks of indentation, or twice within 16 characters. */
	char *other = b64("nothing to hide in these bytes, nothing at all, nothing to see here", 68,
			  false);
	char *text = wrap_lines(other, 64, "\n", "");
	char *r = mask_redact_str(m, text);
	cr_assert_str_eq(r, text);
	free(r);
	free(text);
	char *enc = b64(secret, strlen(secret), false);
	char *core = xstrndup(enc, 80); /* all the secret's own */
	char far[512], close[256];
	snprintf(far, sizeof(far), "%.40s\n%65s%s", core, "", core + 40);
	snprintf(close, sizeof(close), "%.30s\n%.10s\n%s", core, core + 30, core + 40);
	char *f = mask_redact_str(m, far), *c = mask_redact_str(m, close);
	cr_assert_null(strstr(f, MASK_REPLACEMENT), "%s", f);
	cr_assert_null(strstr(c, MASK_REPLACEMENT), "%s", c);
	/* Streamed, blanks after a line break are held back only while they could still be
	 * the indentation before the rest of it. */
	char *fb = redact_by_bytes(m, far);
	cr_assert_str_eq(fb, far);
	free(fb);
	free(f);
	free(c);
	free(core);
	free(enc);
	free(other);
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

/*
 * Several secrets whose occurrences touch: one the prefix, the suffix or the middle of
 * another, or the end of one the start of another. What the masker writes is checked
 * against a reference worked out the slow way, for the whole text at once, for every
 * split of it into two and into three writes, and byte by byte.
 */

/*
 * The reference: mark every byte of every occurrence of every secret, and which pairs of
 * neighbouring bytes lie inside one occurrence. Each stretch of marked bytes held together
 * that way is one ***; occurrences that only touch stay two.
 */
static char *reference(const char *const *secrets, const char *text, size_t **chunk_end)
{
	size_t len = strlen(text);
	bool *marked = xcalloc(len + 1, sizeof(bool));
	bool *joined = xcalloc(len + 1, sizeof(bool)); /* joined[p]: p-1 and p in one */
	for (const char *const *sec = secrets; *sec; sec++) {
		size_t sl = strlen(*sec);
		for (size_t i = 0; i + sl <= len; i++) {
			if (memcmp(text + i, *sec, sl) != 0) {
				continue;
			}
			for (size_t p = i; p < i + sl; p++) {
				marked[p] = true;
				if (p > i) {
					joined[p] = true;
				}
			}
		}
	}
	struct sbuf out;
	sbuf_init(&out, SIZE_MAX / 2);
	/* (*chunk_end)[p]: how much output the bytes before p make. */
	*chunk_end = xcalloc(len + 1, sizeof(size_t));
	for (size_t p = 0; p < len; p++) {
		(*chunk_end)[p] = out.len;
		if (!marked[p]) {
			sbuf_putc(&out, text[p]);
		} else if (p == 0 || !marked[p - 1] || !joined[p]) {
			sbuf_puts(&out, MASK_REPLACEMENT);
		}
	}
	(*chunk_end)[len] = out.len;
	sbuf_putc(&out, '\0');
	free(marked);
	free(joined);
	return sbuf_steal(&out);
}

/* An upper bound on the longest form mask_add registers for these secrets. */
static size_t longest_form(const char *const *secrets)
{
	size_t most = 0;
	for (const char *const *sec = secrets; *sec; sec++) {
		size_t sl = strlen(*sec), pct = 0;
		for (const char *p = *sec; *p; p++) {
			pct += isalnum((unsigned char)*p) || strchr("-._~", *p) ? 1 : 3;
		}
		size_t b64len = (sl + 2) * 8 / 6;
		size_t form = pct > b64len ? pct : b64len;
		most = form > most ? form : most;
	}
	return most;
}

struct split_check {
	const struct mask *m;
	const char *text;
	const char *want;
	const size_t *chunk_end;
	size_t hold_max;
};

/* Write text in pieces ending at cuts[0..ncuts), checking what comes out as it goes. */
static void stream_in_pieces(const struct split_check *k, const size_t *cuts, size_t ncuts)
{
	struct collect c;
	sbuf_init(&c.sb, 4096);
	struct mask_stream *s = mask_stream_new(k->m, collect, &c);
	size_t at = 0;
	for (size_t j = 0; j < ncuts; j++) {
		mask_stream_write(s, k->text + at, cuts[j] - at);
		at = cuts[j];
		/* Out promptly: at most hold_max bytes of input held back. */
		size_t owed = at > k->hold_max ? k->chunk_end[at - k->hold_max] : 0;
		cr_assert_geq(c.sb.len, owed, "'%s' cut at %zu: only '%.*s' out", k->text, at,
			      (int)c.sb.len, c.sb.data ? c.sb.data : "");
		cr_assert(c.sb.len <= strlen(k->want) &&
				  (!c.sb.len || memcmp(c.sb.data, k->want, c.sb.len) == 0),
			  "'%s' cut at %zu: '%.*s' out, want '%s'", k->text, at, (int)c.sb.len,
			  c.sb.data ? c.sb.data : "", k->want);
	}
	mask_stream_flush(s);
	const char *got = c.sb.data ? c.sb.data : "";
	cr_assert_str_eq(got, k->want, "'%s' in %zu writes ending at %zu, %zu: '%s'", k->text,
			 ncuts, cuts[0], ncuts > 1 ? cuts[1] : 0, got);
	mask_stream_free(s);
	sbuf_release(&c.sb);
}

static void check_every_split(const char *const *secrets, const char *const *texts)
{
	struct mask *m = mask_new();
	for (const char *const *sec = secrets; *sec; sec++) {
		cr_assert_eq(mask_add(m, *sec, strlen(*sec)), 0);
	}
	for (const char *const *t = texts; *t; t++) {
		struct split_check k = { .m = m, .text = *t };
		size_t *chunk_end;
		char *want = reference(secrets, *t, &chunk_end);
		k.want = want;
		k.chunk_end = chunk_end;
		k.hold_max = longest_form(secrets) - 1;
		size_t len = strlen(*t);

		char *r = mask_redact_str(m, *t);
		cr_assert_str_eq(r, want, "'%s' masked whole: '%s'", *t, r);
		free(r);
		for (size_t a = 0; a <= len; a++) {
			size_t two[] = { a, len };
			stream_in_pieces(&k, two, 2);
			for (size_t b = a; b <= len; b++) {
				size_t three[] = { a, b, len };
				stream_in_pieces(&k, three, 3);
			}
		}
		size_t *bytes = xcalloc(len + 1, sizeof(size_t));
		for (size_t i = 0; i < len; i++) {
			bytes[i] = i + 1;
		}
		stream_in_pieces(&k, bytes, len);
		free(bytes);
		free(chunk_end);
		free(want);
	}
	mask_free(m);
}

Test(mask, one_secret_the_prefix_of_another_at_every_split)
{
	const char *secrets[] = { "deploybot", "deploybot:password123", NULL };
	const char *texts[] = { "deploybot:password123", "login deploybot:password123 ok\n",
				"deploybot:password12 deploybot\n",
				"deploybot:deploybot:password123\n", NULL };
	check_every_split(secrets, texts);
}

Test(mask, one_secret_the_suffix_of_another_at_every_split)
{
	const char *secrets[] = { "password123", "deploybot:password123", NULL };
	const char *texts[] = { "deploybot:password123", "x password123 deploybot:password123 y",
				"deploybot:passwordpassword123\n", NULL };
	check_every_split(secrets, texts);
}

Test(mask, one_secret_inside_another_at_every_split)
{
	const char *secrets[] = { "middle1", "top-middle1-bottom", NULL };
	const char *texts[] = { "top-middle1-bottom", "top-middle1-bottomiddle1",
				"xmiddle1top-middle1-botto", NULL };
	check_every_split(secrets, texts);
}

Test(mask, secrets_that_overlap_at_every_split)
{
	/* The end of one is the start of the other. */
	const char *secrets[] = { "abcXYZ", "XYZdef", NULL };
	const char *texts[] = { "abcXYZdef", "[abcXYZdef] [XYZdef] [abcXYZ]", "abcXYZdefXYZdef\n",
				"abcabcXYZdeXYZdef", NULL };
	check_every_split(secrets, texts);
	const char *longer[] = { "abcXYZ", "YZdefghij", NULL };
	const char *ltexts[] = { "abcXYZdefghij", "abcXYZdefghi abcXYZdefghij", NULL };
	check_every_split(longer, ltexts);
}

Test(mask, a_chain_of_overlapping_secrets_at_every_split)
{
	const char *secrets[] = { "one-two", "two-three", "three-four", NULL };
	const char *texts[] = { "one-two-three-four", "<one-two-three-fou>", NULL };
	check_every_split(secrets, texts);
}

Test(mask, a_secret_overlapping_itself_at_every_split)
{
	const char *abab[] = { "abab", NULL };
	const char *atexts[] = { "abababab x ababa", NULL };
	check_every_split(abab, atexts);
	const char *aaaa[] = { "aaaa", NULL };
	const char *texts[] = { "aaaaaaa aaa", NULL };
	check_every_split(aaaa, texts);
}

Test(mask, secrets_side_by_side_stay_two)
{
	const char *secrets[] = { "tokA1", "tokB2", NULL };
	const char *texts[] = { "tokA1tokB2", "tokA1tokA1 tokB2", NULL };
	check_every_split(secrets, texts);
	struct mask *m = mask_new();
	cr_assert_eq(mask_add(m, "tokA1", 5), 0);
	cr_assert_eq(mask_add(m, "tokB2", 5), 0);
	char *r = mask_redact_str(m, "tokA1tokB2");
	cr_assert_str_eq(r, "******");
	free(r);
	mask_free(m);
}

Test(mask, the_longer_secret_is_held_back_until_it_cannot_follow)
{
	/* registry_user=deploybot, registry=deploybot:password123: the user is printed,
	 * then the rest of the password in a second write. */
	struct mask *m = mask_new();
	cr_assert_eq(mask_add(m, "deploybot", 9), 0);
	cr_assert_eq(mask_add(m, "deploybot:password123", 21), 0);
	struct collect c;
	sbuf_init(&c.sb, 4096);
	struct mask_stream *s = mask_stream_new(m, collect, &c);
	mask_stream_write(s, "deploybot:", 10);
	cr_assert_eq(c.sb.len, 0, "'%.*s' out", (int)c.sb.len, c.sb.data);
	mask_stream_write(s, "password123\n", 12);
	cr_assert_str_eq(c.sb.data, "***\n");
	/* The user alone is masked as soon as what follows rules the password out. */
	mask_stream_write(s, "user deploybot:", 15);
	cr_assert_str_eq(c.sb.data, "***\nuser ");
	mask_stream_write(s, "x\n", 2);
	cr_assert_str_eq(c.sb.data, "***\nuser ***:x\n");
	mask_stream_write(s, "deploybot\n", 10);
	cr_assert_str_eq(c.sb.data, "***\nuser ***:x\n***\n");
	mask_stream_free(s);
	sbuf_release(&c.sb);
	mask_free(m);
}

static unsigned next_random(unsigned long *seed)
{
	*seed = *seed * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)(*seed >> 33);
}

Test(mask, random_secrets_over_two_letters_at_every_split)
{
	/* Two letters make secrets that overlap, nest and repeat in every way. A fixed seed:
	 * the same cases every run. */
	unsigned long seed = 12345;
	for (int round = 0; round < 300; round++) {
		char sec[3][MASK_MIN_SECRET + 4];
		const char *secrets[4] = { NULL };
		size_t nsec = 1 + (size_t)round % 3;
		for (size_t j = 0; j < nsec; j++) {
			size_t sl = MASK_MIN_SECRET + next_random(&seed) % 4;
			for (size_t p = 0; p < sl; p++) {
				sec[j][p] = "ab"[next_random(&seed) & 1];
			}
			sec[j][sl] = '\0';
			secrets[j] = sec[j];
		}
		char text[24];
		for (size_t p = 0; p + 1 < sizeof(text); p++) {
			text[p] = "ab"[next_random(&seed) & 1];
		}
		text[sizeof(text) - 1] = '\0';
		const char *texts[] = { text, NULL };
		check_every_split(secrets, texts);
	}
}

/* The encodings common libraries produce: Python's urllib.parse.quote (which leaves '/'),
 * PHP's json_encode ('/' as \/), Python's json.dumps (non-ASCII as \uXXXX, beyond the BMP
 * as a surrogate pair), and both at once. */
Test(mask, library_encodings_of_slashes_and_non_ascii)
{
	struct mask *m = one("p@ss/w0rd+x y");
	assert_hidden(m, "url=p%40ss/w0rd%2Bx%20y", "w0rd");
	assert_hidden(m, "url=p%40ss/w0rd%2bx%20y", "w0rd");
	assert_hidden(m, "{\"pw\": \"p@ss\\/w0rd+x y\"}", "w0rd");
	mask_free(m);
	m = one("pa\"ss\\w\xc3\xb6rd1/\xf0\x9f\x94\x91");
	assert_hidden(m, "{\"pw\": \"pa\\\"ss\\\\w\\u00f6rd1/\\ud83d\\udd11\"}", "rd1");
	assert_hidden(m, "{\"pw\": \"pa\\\"ss\\\\w\\u00f6rd1\\/\\ud83d\\udd11\"}", "rd1");
	assert_hidden(m, "{\"pw\": \"pa\\\"ss\\\\w\xc3\xb6rd1\\/\xf0\x9f\x94\x91\"}", "rd1");
	mask_free(m);
	/* Go's encoding/json escapes &, < and > by default. */
	m = one("hunter2&<more>");
	assert_hidden(m, "{\"pw\":\"hunter2\\u0026\\u003cmore\\u003e\"}", "hunter2");
	mask_free(m);
}
