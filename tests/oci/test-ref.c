/*
 * test-ref.c - image references and digests.
 */
#include <criterion/criterion.h>

#include "digest.h"
#include "ref.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

Test(ref, full_references)
{
	struct oci_ref r;
	cr_assert_eq(oci_ref_parse("127.0.0.1:5000/acme/webapp:v1.2@sha256:" D64, &r, NULL), 0);
	cr_assert_str_eq(r.host, "127.0.0.1:5000");
	cr_assert_str_eq(r.repo, "acme/webapp");
	cr_assert_str_eq(r.tag, "v1.2");
	cr_assert_str_eq(r.digest, "sha256:" D64);
	cr_assert_eq(oci_ref_parse("localhost/a", &r, NULL), 0);
	cr_assert_str_eq(r.host, "localhost");
	cr_assert_eq(oci_ref_parse("ghcr.io/org/sub/img", &r, NULL), 0);
	cr_assert_str_eq(r.host, "ghcr.io");
	cr_assert_str_eq(r.repo, "org/sub/img");
	cr_assert_str_eq(r.tag, "");
	cr_assert_eq(oci_ref_parse("[::1]:5000/x:latest", &r, NULL), 0);
	cr_assert_str_eq(r.host, "[::1]:5000");
}

Test(ref, docker_hub_defaults)
{
	struct oci_ref r;
	cr_assert_eq(oci_ref_parse("debian:12", &r, NULL), 0);
	cr_assert_str_eq(r.host, "docker.io");
	cr_assert_str_eq(r.repo, "library/debian");
	cr_assert_str_eq(r.tag, "12");
	cr_assert_str_eq(oci_host_endpoint(r.host), "registry-1.docker.io");
	cr_assert_eq(oci_ref_parse("acme/app", &r, NULL), 0);
	cr_assert_str_eq(r.repo, "acme/app");
}

Test(ref, refused_references)
{
	struct oci_ref r;
	const char *why = NULL;
	const char *bad[] = {
		"",
		"Acme/App",	     /* upper case path */
		"host:5000/a/",	     /* empty component */
		"host:99999/a",	     /* port out of range */
		"host:5000/a:",	     /* empty tag */
		"host:5000/a:-x",    /* tag starting with '-' */
		"a@sha256:abc",	     /* short digest */
		"a@sha512:" D64 D64, /* only sha256 */
		"a@sha256:"
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"a..b/c", /* '..' is not a separator */
		"a/b c",
		"-host.com/a",
		"h.com/a__-b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(oci_ref_parse(bad[i], &r, &why), -EINVAL, "%s", bad[i]);
		cr_assert_not_null(why);
	}
	char tag[200];
	memset(tag, 'a', 129);
	tag[129] = '\0';
	char ref[300];
	snprintf(ref, sizeof(ref), "h.io/x:%s", tag);
	cr_assert_eq(oci_ref_parse(ref, &r, NULL), -EINVAL, "tags are at most 128 characters");
}

Test(ref, loopback_hosts)
{
	cr_assert(oci_host_is_loopback("127.0.0.1:5000"));
	cr_assert(oci_host_is_loopback("127.1.2.3"));
	cr_assert(oci_host_is_loopback("localhost:1"));
	cr_assert(oci_host_is_loopback("[::1]:5000"));
	cr_assert_not(oci_host_is_loopback("127.0.0.1.evil.com"));
	cr_assert_not(oci_host_is_loopback("127.0.0.1.2:80"));
	cr_assert_not(oci_host_is_loopback("128.0.0.1"));
	cr_assert_not(oci_host_is_loopback("localhost.evil.com"));
	cr_assert_not(oci_host_is_loopback("127.0.0.256"));
	cr_assert_not(oci_host_is_loopback("[::2]"));
}

Test(ref, digests)
{
	char d[OCI_DIGEST_SIZE];
	cr_assert_eq(oci_digest_buffer("", 0, d), 0);
	cr_assert_str_eq(d,
			 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert(oci_digest_valid(d));
	cr_assert_not(oci_digest_valid("sha256:../../etc/passwd"));
	cr_assert_not(oci_digest_valid("sha256:" D64 "0"));
	cr_assert_not(oci_digest_valid("SHA256:" D64));
	cr_assert_not(oci_digest_valid(NULL));
}
