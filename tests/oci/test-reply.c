/*
 * test-reply.c - the parsers of registry replies: WWW-Authenticate challenges, token
 * responses, error bodies, Location headers, Retry-After and upload ranges; and where the
 * client lets a Location lead in plain HTTP.
 */
#include <criterion/criterion.h>

#include "client.h"
#include "registry.h"
#include "reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int challenge(const char *h, struct oci_challenge *c)
{
	return oci_parse_challenge(h, strlen(h), c);
}

Test(reply, bearer_challenge_of_docker_distribution)
{
	struct oci_challenge c;
	cr_assert_eq(challenge("Bearer realm=\"https://auth.example.com/token\",service=\"registry."
			       "example.com\",scope=\"repository:acme/app:pull,push\"",
			       &c),
		     0);
	cr_assert_eq(c.scheme, OCI_AUTH_BEARER);
	cr_assert_str_eq(c.realm, "https://auth.example.com/token");
	cr_assert_str_eq(c.service, "registry.example.com");
	cr_assert_str_eq(c.scope, "repository:acme/app:pull,push");
	cr_assert_str_eq(c.error, "");
}

Test(reply, challenge_syntax_variants)
{
	struct oci_challenge c;
	/* Case-insensitive scheme and names, spaces around '=', unquoted tokens, escapes. */
	cr_assert_eq(challenge("bearer  Realm = \"http://127.0.0.1:1/t\" , SERVICE=reg, "
			       "error=\"insufficient_scope\", scope=\"a\\\"b\"",
			       &c),
		     0);
	cr_assert_eq(c.scheme, OCI_AUTH_BEARER);
	cr_assert_str_eq(c.realm, "http://127.0.0.1:1/t");
	cr_assert_str_eq(c.service, "reg");
	cr_assert_str_eq(c.error, "insufficient_scope");
	cr_assert_str_eq(c.scope, "a\"b");
	cr_assert_eq(challenge("Basic realm=\"Registry Realm\"", &c), 0);
	cr_assert_eq(c.scheme, OCI_AUTH_BASIC);
	cr_assert_str_eq(c.realm, "Registry Realm");
	/* Several challenges: Bearer wins whatever the order; unknown schemes are skipped. */
	cr_assert_eq(
		challenge("Negotiate abc==, Basic realm=\"x\", Bearer realm=\"https://a/b\"", &c),
		0);
	cr_assert_eq(c.scheme, OCI_AUTH_BEARER);
	cr_assert_str_eq(c.realm, "https://a/b");
	cr_assert_eq(challenge("Basic realm=\"x\", Digest realm=\"y\", nonce=\"z\"", &c), 0);
	cr_assert_eq(c.scheme, OCI_AUTH_BASIC);
	cr_assert_str_eq(c.realm, "x");
}

Test(reply, bad_challenges_are_refused)
{
	struct oci_challenge c;
	cr_assert_eq(challenge("", &c), -ENOENT);
	cr_assert_eq(challenge("Negotiate abc", &c), -ENOENT);
	cr_assert_eq(challenge("Bearer realm=\"unterminated", &c), -EINVAL);
	cr_assert_eq(challenge("Bearer service=\"x\"", &c), -EINVAL,
		     "a Bearer challenge needs a realm");
	cr_assert_eq(challenge("Bearer realm=\"a\x01b\"", &c), -EINVAL);
	cr_assert_eq(oci_parse_challenge("Bearer realm=\"a\0b\"", 19, &c), -EINVAL);
	cr_assert_eq(challenge("Bearer realm=\"a\r\nX-Evil: 1\"", &c), -EINVAL);
	/* A value longer than its field is refused, not cut. */
	static char big[OCI_REALM_MAX + 200];
	size_t n = OCI_REALM_MAX + 100;
	memcpy(big, "Bearer realm=\"", 14);
	memset(big + 14, 'a', n);
	big[14 + n] = '"';
	big[15 + n] = '\0';
	cr_assert_eq(challenge(big, &c), -E2BIG);
	/* The length is respected: nothing past it is read. */
	const char *h = "Basic realm=\"x\"GARBAGE";
	cr_assert_eq(oci_parse_challenge(h, 15, &c), 0);
	cr_assert_str_eq(c.realm, "x");
}

Test(reply, token_responses)
{
	char *tok;
	int64_t exp;
	const char *b =
		"{\"token\":\"abc.def\",\"expires_in\":300,\"issued_at\":\"2020-01-01T00:00:00Z\"}";
	cr_assert_eq(oci_parse_token(b, strlen(b), &tok, &exp), 0);
	cr_assert_str_eq(tok, "abc.def");
	cr_assert_eq(exp, 300);
	free(tok);
	b = "{\"access_token\":\"xyz\"}";
	cr_assert_eq(oci_parse_token(b, strlen(b), &tok, &exp), 0);
	cr_assert_str_eq(tok, "xyz");
	cr_assert_eq(exp, 60, "the spec's default when absent");
	free(tok);
	b = "{\"token\":\"t\",\"expires_in\":5}";
	cr_assert_eq(oci_parse_token(b, strlen(b), &tok, &exp), 0);
	cr_assert_eq(exp, 60, "shorter lifetimes are raised to 60 s");
	free(tok);
	b = "{\"token\":\"t\",\"expires_in\":99999999}";
	cr_assert_eq(oci_parse_token(b, strlen(b), &tok, &exp), 0);
	cr_assert_eq(exp, 86400);
	free(tok);
	const char *bad[] = { "",
			      "[]",
			      "{}",
			      "{\"token\":\"\"}",
			      "{\"token\":5}",
			      "{\"token\":\"has space\"}",
			      "{\"token\":\"line\\nbreak\"}",
			      "{\"token\":\"nul\\u0000x\"}",
			      "{\"token\":\"a\",\"token\":\"b\"}",
			      "<html>nope</html>" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tok = NULL;
		cr_assert_eq(oci_parse_token(bad[i], strlen(bad[i]), &tok, &exp), -EINVAL, "%s",
			     bad[i]);
		cr_assert_null(tok);
	}
}

Test(reply, error_bodies)
{
	char out[200];
	const char *b =
		"{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to "
		"registry\",\"detail\":{\"x\":1}},{\"code\":\"DENIED\",\"message\":\"no\"}]}";
	cr_assert_eq(oci_parse_errors(b, strlen(b), out, sizeof(out)), 2);
	cr_assert_str_eq(out, "BLOB_UNKNOWN: blob unknown to registry; DENIED: no");
	/* Control characters never reach a terminal through an error message. */
	b = "{\"errors\":[{\"code\":\"X\",\"message\":\"a\\u001b[31mred\\nline\"}]}";
	cr_assert_eq(oci_parse_errors(b, strlen(b), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "X: a?[31mred line");
	/* Cut with "..." when long. */
	char small[24];
	b = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known\"}]}";
	cr_assert_eq(oci_parse_errors(b, strlen(b), small, sizeof(small)), 1);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert(strstr(small, "...") != NULL);
	cr_assert_eq(oci_parse_errors("nope", 4, out, sizeof(out)), -EINVAL);
	cr_assert_eq(oci_parse_errors("{\"errors\":{}}", 13, out, sizeof(out)), -EINVAL);
}

static char *resolve(const char *base, const char *loc)
{
	char *out = NULL;
	int r = oci_resolve_location(base, loc, strlen(loc), &out);
	return r == 0 ? out : NULL;
}

Test(reply, locations_relative_and_absolute)
{
	const char *base = "http://127.0.0.1:5000/v2/acme/app/blobs/uploads/";
	char *u;
	cr_assert_str_eq(u = resolve(base, "/v2/acme/app/blobs/uploads/abc?_state=x%3D"),
			 "http://127.0.0.1:5000/v2/acme/app/blobs/uploads/abc?_state=x%3D");
	free(u);
	cr_assert_str_eq(u = resolve(base, "https://storage.example.com/up/1?sig=2"),
			 "https://storage.example.com/up/1?sig=2");
	free(u);
	cr_assert_str_eq(u = resolve(base, "//other:1/x"), "http://other:1/x");
	free(u);
	cr_assert_str_eq(u = resolve(base, "abc?x=1"),
			 "http://127.0.0.1:5000/v2/acme/app/blobs/uploads/abc?x=1");
	free(u);
	cr_assert_str_eq(u = resolve("http://h/v2/a?q=1/2", "b"), "http://h/v2/b");
	free(u);
	cr_assert_str_eq(u = resolve(base, "/x#frag"), "http://127.0.0.1:5000/x");
	free(u);
	cr_assert_str_eq(u = resolve(base, "HTTPS://Storage.example.com/X"),
			 "https://Storage.example.com/X",
			 "the scheme is lower-cased, nothing else");
	free(u);
	const char *bad[] = { "",
			      "ftp://h/x",
			      "javascript:alert(1)",
			      "http://user:pw@evil/x",
			      "/has space",
			      "/tab\there",
			      "http:///x",
			      "https://",
			      "#only",
			      "/\xc3\xa9",
			      "http://:4/x",
			      "http://h:123456/x",
			      "http://h:1x/x",
			      "http://[]/x",
			      "http://h^x/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_null(resolve(base, bad[i]), "%s", bad[i]);
	}
	cr_assert_null(resolve("not a url", "/x"));
}

Test(reply, origins)
{
	char o[200];
	cr_assert_eq(oci_url_origin("HTTPS://Reg.Example.com/v2/", o, sizeof(o)), 0);
	cr_assert_str_eq(o, "https://reg.example.com:443");
	cr_assert_eq(oci_url_origin("http://127.0.0.1:5000", o, sizeof(o)), 0);
	cr_assert_str_eq(o, "http://127.0.0.1:5000");
	cr_assert_eq(oci_url_origin("http://[::1]/x", o, sizeof(o)), 0);
	cr_assert_str_eq(o, "http://[::1]:80");
	cr_assert(oci_url_same_origin("https://r.io/v2/x", "https://R.IO:443/other"));
	cr_assert_not(oci_url_same_origin("https://r.io/v2/x", "http://r.io/v2/x"));
	cr_assert_not(oci_url_same_origin("https://r.io/", "https://r.io.evil.com/"));
	cr_assert_not(oci_url_same_origin("http://127.0.0.1:5000/", "http://127.0.0.1:5001/"));
}

Test(reply, retry_after_and_ranges)
{
	unsigned s;
	cr_assert_eq(oci_parse_retry_after("7", 0, &s), 0);
	cr_assert_eq(s, 7);
	cr_assert_eq(oci_parse_retry_after("99999999999999999999999", 0, &s), 0);
	cr_assert_eq(s, OCI_RETRY_MAX_S);
	cr_assert_eq(oci_parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480, &s), 0);
	cr_assert_eq(s, 10);
	cr_assert_eq(oci_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 100, &s),
		     0);
	cr_assert_eq(s, 0);
	cr_assert_eq(oci_parse_retry_after("soon", 0, &s), -EINVAL);
	uint64_t last;
	cr_assert_eq(oci_parse_upload_range("0-1023", &last), 0);
	cr_assert_eq(last, 1023);
	cr_assert_eq(oci_parse_upload_range("bytes=0-5", &last), 0);
	cr_assert_eq(last, 5);
	cr_assert_eq(oci_parse_upload_range("5-10", &last), -EINVAL);
	cr_assert_eq(oci_parse_upload_range("0-", &last), -EINVAL);
	cr_assert_eq(oci_parse_upload_range("0-1x", &last), -EINVAL);
}

/* Where an upload may be moved to in plain HTTP: loopback, or a host named insecure as
 * `--insecure HOST[:PORT]` names it. A registry on a port of its own named with its port
 * (`--insecure 192.0.2.2:34925`, docker-registry's absolute Location) was refused because
 * the Location's port was dropped before the names were compared. */
Test(reply, a_location_in_plain_http_goes_where_insecure_names)
{
	const char *const with_port[] = { "192.0.2.2:34925" };
	struct oci_registry_opts o = { .insecure = with_port, .n_insecure = 1 };
	struct oci_client c = { .o = &o };
	const char *from = "http://192.0.2.2:34925";
	cr_assert(client_location_ok(&c, from, "http://192.0.2.2:34925/v2/a/b/blobs/uploads/x"));
	cr_assert_not(client_location_ok(&c, from, "http://192.0.2.2:8080/v2/a/b/blobs/uploads/x"));
	cr_assert_not(
		client_location_ok(&c, from, "http://192.0.2.3:34925/v2/a/b/blobs/uploads/x"));
	cr_assert(client_location_ok(&c, from, "http://127.0.0.1:5000/up"));
	cr_assert(client_location_ok(&c, from, "https://192.0.2.9/up"));
	/* Never from HTTPS down to HTTP, named insecure or not. */
	cr_assert_not(
		client_location_ok(&c, "https://192.0.2.2:34925", "http://192.0.2.2:34925/u"));
	/* A name without a port also takes a Location to another port of that host. */
	const char *const name_only[] = { "192.0.2.2" };
	o.insecure = name_only;
	cr_assert(client_location_ok(&c, "http://192.0.2.2", "http://192.0.2.2/v2/u"));
	cr_assert(client_location_ok(&c, "http://192.0.2.2", "http://192.0.2.2:34925/v2/u"));
	cr_assert_not(client_location_ok(&c, "http://192.0.2.2", "http://192.0.2.20/v2/u"));
}
