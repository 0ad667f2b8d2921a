/*
 * test-util.c - parsing helpers, capped buffers, arena caps, hash map, atomic writes.
 */
#include <criterion/criterion.h>

#include "arena.h"
#include "diag.h"
#include "hmap.h"
#include "sbuf.h"
#include "util.h"

#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

Test(size, units_in_either_case_and_bare_bytes_where_allowed)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = { { "25MiB", 25ull << 20 },
		   { "512K", 512ull << 10 },
		   { "64m", 64ull << 20 },
		   { "2gib", 2ull << 30 },
		   { "4MB", 4ull << 20 },
		   { "1T", 1ull << 40 },
		   { "7B", 7 },
		   { "0K", 0 } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;
		cr_assert_eq(parse_size(ok[i].s, 1ull << 40, false, &v), 0, "%s", ok[i].s);
		cr_assert_eq(v, ok[i].v, "%s", ok[i].s);
	}
	uint64_t v;
	cr_assert_eq(parse_size("100", 1ull << 40, true, &v), 0);
	cr_assert_eq(v, 100);
	cr_assert_eq(parse_size("100", 1ull << 40, false, &v), -EINVAL, "bare: no unit guessed");
	static const char *const bad[] = { "-1",    "1 MiB", "M",   "",	   "12Q",
					   "1MiBB", "1.5G",  "1KM", "1iB", "0x10K" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_size(bad[i], 1ull << 40, true, &v), -EINVAL, "%s", bad[i]);
	}
	cr_assert_eq(parse_size(NULL, 1, true, &v), -EINVAL);
	cr_assert_eq(parse_size("2GiB", 1ull << 30, true, &v), -ERANGE);
	cr_assert_eq(parse_size("1GiB", 1ull << 30, true, &v), 0);
	cr_assert_eq(parse_size("99999999999999999999999", 1ull << 30, true, &v), -ERANGE);
	cr_assert_eq(parse_size("17179869184T", UINT64_MAX, true, &v), -ERANGE, "overflow");
}

Test(private_file, only_a_regular_file_of_ours_that_nobody_else_may_read)
{
	char *dir = tu_tmpdir();
	char path[4096];
	snprintf(path, sizeof(path), "%s/secret", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	struct stat st;
	char why[200];
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(check_private_file(&st, why, sizeof(why)), 0);
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(check_private_file(&st, why, sizeof(why)), -EPERM);
	cr_assert_str_eq(why, "its mode is 0640; others could read it");
	cr_assert_eq(chmod(path, 0602), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(check_private_file(&st, why, sizeof(why)), -EPERM, "writable by others");
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(check_private_file(&st, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "it is not a regular file");
	cr_assert_eq(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 65534, 65534), 0);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(check_private_file(&st, why, sizeof(why)), -EPERM);
		cr_assert_str_eq(why, "it is owned by uid 65534, not by you (uid 0)");
	}
	tu_rmdir(dir);
	free(dir);
}

Test(duration, accepts_units_and_combinations)
{
	uint64_t ms;
	cr_assert_eq(parse_duration("500ms", UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 500);
	cr_assert_eq(parse_duration("90s", UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(parse_duration("10m", UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 600000);
	cr_assert_eq(parse_duration("1h30m", UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 5400000);
	cr_assert_eq(parse_duration("1d", UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 86400000);
}

Test(duration, refuses_bare_numbers_and_garbage)
{
	uint64_t ms;
	cr_assert_eq(parse_duration("600", UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(parse_duration("", UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(parse_duration("10 m", UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(parse_duration("m", UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(parse_duration("1.5h", UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(parse_duration("-1s", UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(parse_duration("5y", UINT64_MAX, &ms), -EINVAL);
}

Test(duration, overflow_and_cap)
{
	uint64_t ms;
	cr_assert_eq(parse_duration("99999999999999999999999d", UINT64_MAX, &ms), -ERANGE);
	cr_assert_eq(parse_duration("2h", 3600000, &ms), -ERANGE);
	cr_assert_eq(parse_duration("1h", 3600000, &ms), 0);
}

Test(duration, formats_compactly)
{
	char b[32];
	cr_assert_str_eq(format_duration(850, b, sizeof(b)), "850ms");
	cr_assert_str_eq(format_duration(1234, b, sizeof(b)), "1.2s");
	cr_assert_str_eq(format_duration(184000, b, sizeof(b)), "3m04s");
	cr_assert_str_eq(format_duration(3720000, b, sizeof(b)), "1h02m");
}

Test(uint, parses_whole_string_only)
{
	uint64_t v;
	cr_assert_eq(parse_uint("42", 100, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(parse_uint("101", 100, &v), -ERANGE);
	cr_assert_eq(parse_uint("4x", 100, &v), -EINVAL);
	cr_assert_eq(parse_uint("", 100, &v), -EINVAL);
	cr_assert_eq(parse_uint("+4", 100, &v), -EINVAL);
	cr_assert_eq(parse_uint("18446744073709551616", UINT64_MAX, &v), -ERANGE);
}

Test(words, edit_distance_and_suggestions)
{
	cr_assert_eq(edit_distance("needs", "needs", 3), 0);
	cr_assert_eq(edit_distance("need", "needs", 3), 1);
	cr_assert_eq(edit_distance("nedes", "needs", 3), 1); /* transposition */
	cr_assert_eq(edit_distance("abc", "xyz", 2), 3);     /* capped at cap+1 */
	static const char *const keys[] = { "run", "uses", "needs", "timeout", "retry" };
	cr_assert_str_eq(closest_word("need", keys, 5), "needs");
	cr_assert_str_eq(closest_word("timout", keys, 5), "timeout");
	cr_assert_null(closest_word("banana", keys, 5));
}

Test(sbuf, refuses_growth_past_its_cap)
{
	struct sbuf sb;
	sbuf_init(&sb, 8);
	cr_assert_eq(sbuf_puts(&sb, "12345678"), 0);
	cr_assert_eq(sbuf_putc(&sb, '9'), -E2BIG);
	cr_assert_eq(sb.len, 8);
	cr_assert_str_eq(sb.data, "12345678");
	sbuf_consume(&sb, 3);
	cr_assert_str_eq(sb.data, "45678");
	cr_assert_eq(sbuf_printf(&sb, "%s", "abcd"), -E2BIG);
	cr_assert_eq(sbuf_printf(&sb, "%d", 7), 0);
	cr_assert_str_eq(sb.data, "456787");
	sbuf_release(&sb);
}

Test(sbuf, escapes_markup)
{
	struct sbuf sb;
	sbuf_init(&sb, 1024);
	cr_assert_eq(sbuf_put_escaped(&sb, "<a href=\"x\">Tom & 'Jerry'</a>", true), 0);
	cr_assert_str_eq(sb.data,
			 "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
	sbuf_reset(&sb);
	cr_assert_eq(sbuf_put_escaped(&sb, "\"a\" <b> & 'c'", false), 0);
	cr_assert_str_eq(sb.data, "\"a\" &lt;b&gt; &amp; 'c'");
	sbuf_release(&sb);
	sbuf_init(&sb, 8);
	cr_assert_eq(sbuf_put_escaped(&sb, "<<<", false), -E2BIG, "the cap holds");
	sbuf_release(&sb);
}

Test(arena, cap_returns_null_instead_of_growing)
{
	struct arena *a = arena_new(1024);
	cr_assert_not_null(arena_alloc(a, 512));
	cr_assert_null(arena_alloc(a, 1024));
	cr_assert_not_null(arena_alloc(a, 256));
	cr_assert_leq(arena_used(a), 1024);
	char *s = arena_printf(a, "%s-%d", "x", 5);
	cr_assert_str_eq(s, "x-5");
	arena_free(a);
	arena_free(NULL);
}

Test(arena, memory_is_zeroed_and_aligned)
{
	struct arena *a = arena_new(0);
	for (int i = 1; i < 200; i++) {
		unsigned char *p = arena_alloc(a, (size_t)i * 37);
		cr_assert_eq((uintptr_t)p % 16, 0);
		for (int k = 0; k < i * 37; k++) {
			cr_assert_eq(p[k], 0);
		}
		memset(p, 0xff, (size_t)i * 37);
	}
	arena_free(a);
}

Test(hmap, put_get_replace_and_grow)
{
	struct hmap *m = hmap_new(2);
	char keys[2000][16];
	for (int i = 0; i < 2000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		cr_assert_eq(hmap_put(m, keys[i], (void *)(intptr_t)(i + 1)), 1);
	}
	cr_assert_eq(hmap_count(m), 2000);
	for (int i = 0; i < 2000; i++) {
		cr_assert_eq((intptr_t)hmap_get(m, keys[i]), i + 1);
	}
	cr_assert_null(hmap_get(m, "absent"));
	cr_assert_eq(hmap_put(m, keys[5], (void *)7), 0);
	cr_assert_eq((intptr_t)hmap_get(m, "k5"), 7);
	hmap_free(m);
}

Test(files, atomic_write_replaces_whole_file)
{
	char dir[] = "/tmp/runner-util-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *path = xasprintf("%s/f.json", dir);
	cr_assert_eq(write_file_atomic(path, "one", 3, 0644), 0);
	cr_assert_eq(write_file_atomic(path, "two!", 4, 0644), 0);
	char *buf;
	size_t len;
	cr_assert_eq(read_file_capped(path, 100, &buf, &len), 0);
	cr_assert_eq(len, 4);
	cr_assert_str_eq(buf, "two!");
	free(buf);
	cr_assert_eq(read_file_capped(path, 3, &buf, &len), -EFBIG);
	/* No temporary files are left behind. */
	char *sub = xasprintf("%s/a/b/c", dir);
	cr_assert_eq(mkdir_p(sub, 0755), 0);
	cr_assert_eq(rm_rf(dir), 0);
	struct stat st;
	cr_assert_neq(stat(dir, &st), 0);
	free(sub);
	free(path);
}

/* `runner scan sast -o /dev/null` must not replace /dev/null with a regular file. */
Test(files, atomic_write_into_a_fifo_writes_through)
{
	char dir[] = "/tmp/runner-util-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *path = xasprintf("%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(rd, 0);
	cr_assert_eq(write_file_atomic(path, "data", 4, 0644), 0);
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode), "the FIFO was replaced");
	char buf[8];
	cr_assert_eq(read(rd, buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "data", 4), 0);
	close(rd);
	cr_assert_eq(rm_rf(dir), 0);
	free(path);
}

Test(utf8, sanitize_replaces_invalid_sequences)
{
	char *s = utf8_sanitize("a\xff"
				"b\xc3\xa9"
				"c\xed\xa0\x80",
				9);
	cr_assert_str_eq(s, "a\xef\xbf\xbd"
			    "b\xc3\xa9"
			    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	char nul[] = { 'x', 0, 'y' };
	s = utf8_sanitize(nul, 3);
	cr_assert_str_eq(s, "x\xef\xbf\xbdy");
	free(s);
}

static void check_url(const char *in, const char *want)
{
	char *got = url_public(in);
	cr_assert_str_eq(got, want, "url_public(%s)", in ? in : "NULL");
	free(got);
}

static void cred_is(const char *in, const char *want)
{
	char *got = url_credential(in);
	if (want) {
		cr_assert_not_null(got, "url_credential(%s)", in);
		cr_assert_str_eq(got, want, "url_credential(%s)", in);
	} else {
		cr_assert_null(got, "url_credential(%s) = %s", in ? in : "NULL", got);
	}
	free(got);
}

Test(url_credential, the_password_or_a_token_as_user_name)
{
	cred_is("https://x-access-token:ghs_0123456789abcdef@github.com/acme/app.git",
		"ghs_0123456789abcdef");
	cred_is("https://oauth2:glpat-AbC%40d%2Fe@gitlab.example/a/b", "glpat-AbC@d/e");
	cred_is("http://u:p@ss@127.0.0.1:8080/r.git", "p@ss");
	cred_is("https://ghp_tokenAsUserName0123@github.com/a/b", "ghp_tokenAsUserName0123");
	cred_is("HTTPS://tok@host/x", "tok");
	cred_is("https://user:@host/x", "user");
	cred_is("ssh://git@github.com/acme/app.git", NULL); /* a user name, no secret */
	cred_is("ssh://git:hunter22@host/x", "hunter22");
	cred_is("git@github.com:acme/app.git", NULL);
	cred_is("https://github.com/acme/app.git", NULL);
	cred_is("https://host/path@with-at", NULL); /* after the first '/': not userinfo */
	cred_is("/srv/git/app.git", NULL);
	cred_is("https://a:%zz@host/x", "%zz");
	cred_is(NULL, NULL);
}

Test(url_public, https_loses_its_userinfo_and_keeps_the_rest)
{
	check_url("https://user:s3cret@example.com/acme/app.git",
		  "https://example.com/acme/app.git");
	check_url("https://ghp_token@github.com/acme/app", "https://github.com/acme/app");
	check_url("https://x-access-token:t@github.com:8443/a/b.git",
		  "https://github.com:8443/a/b.git");
	check_url("http://example.com/a/b.git", "http://example.com/a/b.git");
	check_url("https://example.com", "https://example.com");
	check_url("HTTPS://Example.COM/App.git", "HTTPS://Example.COM/App.git");
	check_url("https://[::1]:8080/app.git", "https://[::1]:8080/app.git");
	check_url("git://example.com/app.git", "git://example.com/app.git");
	/* A '?' or '#' inside the password does not end the userinfo early. */
	check_url("https://u:pa?ss@example.com/app.git", "https://example.com/app.git");
	check_url("https://u:pa#ss@example.com/app.git", "https://example.com/app.git");
	check_url("https://u:a@b@example.com/app.git", "https://example.com/app.git");
	/* Queries and fragments may carry tokens: dropped. */
	check_url("https://example.com/app.git?token=abc#frag", "https://example.com/app.git");
}

Test(url_public, ssh_and_scp_like_become_ssh_urls_without_user)
{
	check_url("ssh://git@example.com/acme/app.git", "ssh://example.com/acme/app.git");
	check_url("ssh://git:pw@example.com:2222/app.git", "ssh://example.com:2222/app.git");
	check_url("git+ssh://git@example.com/app.git", "git+ssh://example.com/app.git");
	check_url("git@github.com:org/repo.git", "ssh://github.com/org/repo.git");
	check_url("github.com:org/repo", "ssh://github.com/org/repo");
	check_url("git@example.com:/srv/git/app.git", "ssh://example.com/srv/git/app.git");
}

Test(url_public, local_repositories_have_no_public_url)
{
	check_url(NULL, "");
	check_url("", "");
	check_url("/srv/git/app.git", "");
	check_url("./app", "");
	check_url("../app.git", "");
	check_url("app", "");
	check_url("file:///srv/git/app.git", "");
	check_url("FILE://host/srv/app.git", "");
	check_url("dir/with:colon", "");
}

Test(url_public, odd_inputs_fail_closed)
{
	/* A password with an unencoded '/' or ':' leaves an '@' in the path: nothing. */
	check_url("https://user:ab/cd@example.com/app.git", "");
	check_url("user:tok@example.com:app.git", "");
	check_url("https://user:s3cret@/app", "");
	check_url("https://user:pass/app", ""); /* not a port */
	check_url("https://host:/app", "");
	check_url("https://[::1/app", "");
	check_url("://example.com/app", "");
	check_url("1http://example.com/app", "");
	check_url("ht@tp://example.com/app", "");
	check_url("https://exa mple.com/app", "");
	check_url("https://example.com/app\n", "");
	check_url("https://example.com/a\x7f", "");
	check_url("https://ex%41mple.com/app", "");
	check_url("git@host:", "");
	check_url("@:x", "");
	check_url("ext::sh -c id", "");
}

Test(url_public, very_long_input_is_capped)
{
	size_t n = URL_PUBLIC_MAX + 100;
	char *u = xmalloc(n + 1);
	memset(u, 'a', n);
	memcpy(u, "https://example.com/", 20);
	u[n] = '\0';
	check_url(u, "");
	u[URL_PUBLIC_MAX] = '\0';
	char *got = url_public(u);
	cr_assert_str_eq(got, u);
	free(got);
	free(u);
}

Test(diag, a_urls_userinfo_never_reaches_a_message)
{
	struct diag_list dl;
	diag_list_init(&dl, 10);
	diag_error(
		&dl, "f", 1, 1, "see 'https://u:hint-secret@h/x'",
		"cannot tell the name from 'git+https://deploy:ghp_Secret1@github.com/o/r.git#x', "
		"nor 'ssh://git@host:22/r', nor \"http://a@b@c?q\"; https://host/p@v stays");
	cr_assert_str_eq(dl.v[0].msg,
			 "cannot tell the name from 'git+https://***@github.com/o/r.git#x', nor "
			 "'ssh://***@host:22/r', nor \"http://***@c?q\"; https://host/p@v stays");
	cr_assert_str_eq(dl.v[0].hint, "see 'https://***@h/x'");
	diag_error(&dl, NULL, 0, 0, NULL, "no URL: a@b, x:// y, ://@");
	cr_assert_str_eq(dl.v[1].msg, "no URL: a@b, x:// y, ://@");
	/* A '?' or '#' in the password does not end the userinfo. */
	diag_error(&dl, NULL, 0, 0, NULL, "cannot fetch https://u:pa?SECRET#x@h/r.git");
	cr_assert_str_eq(dl.v[2].msg, "cannot fetch https://***@h/r.git");
	diag_list_release(&dl);
}

/* What every message path uses (diagnostics, errf, the server's log, dependency names). */
Test(text_mask_userinfo, every_urls_userinfo_is_masked_wherever_it_ends)
{
	static const char *const cases[][2] = {
		{ "plain text, a@b, ://@, x:// y", "plain text, a@b, ://@, x:// y" },
		{ "https://host/p@v", "https://host/p@v" },
		/* A '?' or '#' inside the password: the userinfo ends at the last '@' before
		 * the first '/' (as url_credential() reads it), not at the '?'. */
		{ "fetch https://u:pa?ss@host/r failed", "fetch https://***@host/r failed" },
		{ "https://u:p#w@host", "https://***@host" },
		{ "https://u:a@b@host/x and git+ssh://git@h:22/y",
		  "https://***@host/x and git+ssh://***@h:22/y" },
		/* A blank, a quote, a backtick or a control character ends the authority. */
		{ "'http://a:b@c'x@y", "'http://***@c'x@y" },
		{ "`https://t0k@h` and https://h\tu@v", "`https://***@h` and https://h\tu@v" },
		/* A query with an '@' and no path: masked, more rather than less. */
		{ "https://h?to=a@b", "https://***@b" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *m = text_mask_userinfo(cases[i][0]);
		cr_assert_str_eq(m, cases[i][1], "case %zu", i);
		free(m);
	}
	char *m = text_mask_userinfo(NULL);
	cr_assert_str_eq(m, "");
	free(m);
}

Test(errf, a_message_is_masked_before_it_is_cut)
{
	char err[40];
	int r = errf(err, sizeof(err), -5, "cannot push to %s: %s",
		     "https://user:SECRET@registry.example/v2/", "refused");
	cr_assert_eq(r, -5);
	cr_assert_str_eq(err, "cannot push to https://***@registry.exa");
	/* Cut inside the userinfo: without masking first, the start of the credential
	 * would be what fits. */
	char tiny[24];
	errf(tiny, sizeof(tiny), 0, "remote https://user:SECRETSECRET@h/x");
	cr_assert_null(strstr(tiny, "SECRET"), "%s", tiny);
	cr_assert_str_eq(tiny, "remote https://***@h/x");
	errf(NULL, 0, 0, "nothing %s", "written");
}
