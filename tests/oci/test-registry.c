/*
 * test-registry.c - the distribution client against a real registry (Debian's
 * docker-registry, started per test on a free 127.0.0.1 port with its own storage):
 * anonymous, htpasswd Basic, and Bearer (the registry's `silly` auth with a local token
 * endpoint) pushes, chunked uploads, base images pulled by digest and mounted (also a
 * two-platform index, pushed with skopeo, of which the build takes one image; one with
 * too many layers, refused before they are pulled), re-pushes
 * that only ask, and faults: 500s, dropped connections, a registry killed (and restarted)
 * mid-push, a garbage server, a wrong digest echoed back, a redirect towards another
 * host. Every pushed image is checked with skopeo (inspect, and copy back into an OCI
 * directory), comparing digests.
 *
 * The fault proxy and token endpoint are local stand-ins (tests/common/regtest.h) for
 * what a healthy registry does not do; what they forward is answered by the registry.
 */
#include <criterion/criterion.h>

#include "err.h"
#include "image.h"
#include "layout.h"
#include "ref.h"
#include "registry.h"
#include "regtest.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static struct tr_registry reg;
static struct tr_token_server tok;
static struct tr_proxy proxy;
static struct tr_garbage garbage;
static char *work;
static char logbuf[1 << 20];
static size_t loglen;

static void setup(void)
{
	work = tu_tmpdir();
	loglen = 0;
	logbuf[0] = '\0';
}

/* Stopped whatever the test's outcome: Criterion runs .fini after a failed assertion,
 * and the kernel kills the registry if the test process dies (PR_SET_PDEATHSIG). */
static void teardown(void)
{
	tr_proxy_stop(&proxy);
	tr_registry_stop(&reg);
	tr_token_stop(&tok);
	tr_garbage_stop(&garbage);
	tu_rmdir(work);
	free(work);
}

TestSuite(registry, .init = setup, .fini = teardown, .timeout = 120);

static void on_log(void *ud, const char *line)
{
	(void)ud;
	size_t n = strlen(line);
	if (loglen + n + 2 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, n);
		loglen += n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
}

static struct oci_registry_opts opts(void)
{
	return (struct oci_registry_opts){ .log = on_log, .backoff_ms = 20, .retries = 3 };
}

/* Build an image with a file of `size` random bytes (and a small one) into work/name. */
static char *build_image(const char *name, size_t size, const char *base, struct oci_descriptor *d)
{
	char *ctx, *out;
	cr_assert_geq(asprintf(&ctx, "%s/ctx-%s", work, name), 0);
	cr_assert_geq(asprintf(&out, "%s/img-%s", work, name), 0);
	tu_write(ctx, "small.txt", name);
	char *big;
	cr_assert_geq(asprintf(&big, "%s/big.bin", ctx), 0);
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rnd = open("/dev/urandom", O_RDONLY);
	char buf[65536];
	for (size_t left = size; left > 0;) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		cr_assert_eq(read(rnd, buf, n), (ssize_t)n);
		cr_assert_eq(write(fd, buf, n), (ssize_t)n);
		left -= n;
	}
	close(fd);
	close(rnd);
	free(big);
	static const struct oci_add adds[] = { { "small.txt", "/data/small.txt" },
					       { "big.bin", "/data/big.bin" } };
	struct oci_registry_opts ro = opts();
	struct oci_build_spec spec = { .context = ctx,
				       .base = base,
				       .adds = adds,
				       .n_adds = 2,
				       .created = 1,
				       .platform = "linux/amd64",
				       .registry = &ro };
	struct oci_build_result res;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_build(&spec, out, &res, &err), 0, "%s", err.msg);
	*d = res.manifest;
	free(ctx);
	return out;
}

static int push(const char *layout, const char *const *refs, size_t n,
		const struct oci_registry_opts *o, struct oci_push_result *res, struct oci_err *err)
{
	struct oci_layout *l;
	struct oci_descriptor d;
	cr_assert_eq(oci_layout_open(layout, &l, err), 0, "%s", err->msg);
	cr_assert_eq(oci_layout_find(l, NULL, &d, err), 0, "%s", err->msg);
	struct oci_ref *r = calloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(oci_ref_parse(refs[i], &r[i], NULL), 0, "%s", refs[i]);
	}
	int rc = oci_push(l, &d, r, n, o, res, err);
	free(r);
	oci_layout_free(l);
	return rc;
}

static char *ref(const char *addr, const char *repo)
{
	char *s;
	cr_assert_geq(asprintf(&s, "%s/%s", addr, repo), 0);
	return s;
}

/* skopeo sees digest under name, and copies it back with the same digest. */
static void verify(const char *name, const char *creds, const char *digest)
{
	char *d = tr_skopeo_digest(name, creds);
	cr_assert_not_null(d, "skopeo inspect %s failed", name);
	cr_assert_str_eq(d, digest);
	free(d);
	char *dir;
	cr_assert_geq(asprintf(&dir, "%s/copy-%d", work, rand()), 0);
	d = tr_skopeo_copy(name, creds, dir);
	cr_assert_not_null(d, "skopeo copy %s failed", name);
	cr_assert_str_eq(d, digest);
	free(d);
	free(dir);
}

static void assert_absent(const char *name, const char *creds)
{
	char *d = tr_skopeo_digest(name, creds);
	cr_assert_null(d, "%s exists (%s) but must not", name, d ? d : "");
}

Test(registry, anonymous_push_then_a_repush_that_only_asks)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	tr_proxy_start(&proxy, &reg, NULL);
	struct oci_descriptor d;
	char *img = build_image("a", 300000, NULL, &d);
	char *t1 = ref(proxy.addr, "acme/app:v1"), *t2 = ref(proxy.addr, "acme/app:latest");
	const char *refs[] = { t1, t2 };
	struct oci_registry_opts o = opts();
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	cr_assert_eq(push(img, refs, 2, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_str_eq(res.digest, d.digest);
	cr_assert_eq(res.uploaded, 2);
	cr_assert_eq(res.n_tagged, 2);
	cr_assert_eq(res.n_pushed, 1);
	oci_push_result_release(&res);
	char *direct1 = ref(reg.addr, "acme/app:v1"), *direct2 = ref(reg.addr, "acme/app:latest");
	verify(direct1, NULL, d.digest);
	verify(direct2, NULL, d.digest);

	/* Again, unchanged: only HEAD requests (and the ping). */
	int before = proxy.requests;
	int writes_before = proxy.counts[TR_FORWARD];
	(void)writes_before;
	cr_assert_eq(push(img, refs, 2, &o, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.skipped, 2);
	cr_assert_eq(res.uploaded, 0);
	cr_assert_eq(proxy.requests - before, 1 + 2 + 1 + 2,
		     "ping, 2 blob HEADs, a manifest HEAD, 2 tag HEADs; got %d",
		     proxy.requests - before);
	oci_push_result_release(&res);
	free(t1);
	free(t2);
	free(direct1);
	free(direct2);
	free(img);
}

static enum tr_action count_patch(struct tr_proxy *p, const char *method, const char *uri, int n)
{
	(void)uri;
	(void)n;
	if (strcmp(method, "PATCH") == 0) {
		__atomic_add_fetch((int *)p->userdata, 1, __ATOMIC_SEQ_CST);
	}
	return TR_FORWARD;
}

Test(registry, large_blobs_go_up_in_chunks)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	int patches = 0;
	proxy.userdata = &patches;
	tr_proxy_start(&proxy, &reg, count_patch);
	struct oci_descriptor d;
	char *img = build_image("c", 200000, NULL, &d);
	char *t = ref(proxy.addr, "acme/chunked:1");
	const char *refs[] = { t };
	struct oci_registry_opts o = opts();
	o.chunk_size = 65536;
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_geq(patches, 4, "200 kB in 64 KiB chunks: %d PATCH requests", patches);
	oci_push_result_release(&res);
	char *direct = ref(reg.addr, "acme/chunked:1");
	verify(direct, NULL, d.digest);
	free(direct);
	free(t);
	free(img);
}

Test(registry, basic_authentication)
{
	tr_registry_start(&reg, TR_BASIC, "ci-bot", "s3cret-Passw0rd", NULL);
	struct oci_descriptor d;
	char *img = build_image("b", 1000, NULL, &d);
	char *t = ref(reg.addr, "acme/private:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };

	/* Without credentials: refused, nothing pushed. */
	struct oci_registry_opts o = opts();
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EACCES);
	cr_assert(strstr(err.msg, "asks for a user name and password"), "%s", err.msg);
	oci_push_result_release(&res);
	/* Wrong password: refused at the ping, before any upload. */
	o.username = "ci-bot";
	o.password = "wrong-password";
	memset(&err, 0, sizeof(err));
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EACCES);
	cr_assert(strstr(err.msg, "refused the credentials"), "%s", err.msg);
	oci_push_result_release(&res);

	o.password = "s3cret-Passw0rd";
	o.debug = true;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s", err.msg);
	oci_push_result_release(&res);
	verify(t, "ci-bot:s3cret-Passw0rd", d.digest);
	/* The debug output shows the headers, but never the secret in any form. */
	cr_assert(strstr(logbuf, "> Authorization: Basic ***"), "%s", logbuf);
	cr_assert_null(strstr(logbuf, "s3cret-Passw0rd"));
	cr_assert_null(strstr(logbuf, "Y2ktYm90OnMzY3JldC1QYXNzdzByZA")); /* base64 */
	free(t);
	free(img);
}

Test(registry, bearer_token_flow)
{
	tr_token_start(&tok, "tok-3f9a1c7e5b2d4a6c8e0f");
	tok.need_basic = "Basic Y2ktYm90OnMzY3JldC1QYXNzdzByZA=="; /* ci-bot:s3cret-Passw0rd */
	tr_registry_start(&reg, TR_TOKEN, NULL, NULL, tok.realm);
	struct oci_descriptor d;
	char *img = build_image("t", 5000, NULL, &d);
	char *t = ref(reg.addr, "acme/tokened:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();

	/* The token service refuses anonymous requests here. */
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EACCES);
	cr_assert(strstr(err.msg, "refused anonymous access"), "%s", err.msg);
	oci_push_result_release(&res);

	o.username = "ci-bot";
	o.password = "s3cret-Passw0rd";
	o.debug = true;
	memset(&err, 0, sizeof(err));
	int before = tok.requests;
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	oci_push_result_release(&res);
	cr_assert_eq(tok.requests - before, 1, "one token, kept for the whole push");
	cr_assert(strstr(tok.last_query, "service=runner-test-registry"), "%s", tok.last_query);
	cr_assert(strstr(tok.last_query, "scope=repository:acme/tokened:pull,push"), "%s",
		  tok.last_query);
	cr_assert(strstr(logbuf, "> Authorization: Bearer ***"), "%s", logbuf);
	cr_assert_null(strstr(logbuf, "tok-3f9a1c7e5b2d4a6c8e0f"), "the token is masked");
	cr_assert_null(strstr(logbuf, "s3cret-Passw0rd"));
	/* skopeo goes through the same token flow (the endpoint wants the same user). */
	verify(t, "ci-bot:s3cret-Passw0rd", d.digest);

	/* A token service answering garbage: a clean failure. */
	tok.garbage = true;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EPROTO);
	cr_assert(strstr(err.msg, "holds no token"), "%s", err.msg);
	oci_push_result_release(&res);
	free(t);
	free(img);
}

Test(registry, base_pulled_by_digest_and_mounted)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	struct oci_descriptor bd, d;
	char *base = build_image("base", 50000, NULL, &bd);
	char *bt = ref(reg.addr, "acme/base:1");
	const char *brefs[] = { bt };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	cr_assert_eq(push(base, brefs, 1, &o, &res, &err), 0, "%s", err.msg);
	oci_push_result_release(&res);

	char *pinned;
	cr_assert_geq(asprintf(&pinned, "%s/acme/base@%s", reg.addr, bd.digest), 0);
	char *img = build_image("derived", 1000, pinned, &d);
	char *t = ref(reg.addr, "acme/derived:1");
	const char *refs[] = { t };
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_eq(res.mounted, 1, "the base layer is mounted, not uploaded:\n%s", logbuf);
	cr_assert_eq(res.uploaded, 2, "the new layer and the config");
	oci_push_result_release(&res);
	verify(t, NULL, d.digest);
	/* A base pinned to a digest the registry does not have: a clean failure. */
	char *missing;
	cr_assert_geq(asprintf(&missing, "%s/acme/base@sha256:%064d", reg.addr, 0), 0);
	struct oci_build_spec spec = {
		.context = work, .base = missing, .created = 1, .registry = &o
	};
	struct oci_build_result br;
	char *out;
	cr_assert_geq(asprintf(&out, "%s/missing", work), 0);
	memset(&err, 0, sizeof(err));
	cr_assert_lt(oci_build(&spec, out, &br, &err), 0);
	cr_assert(strstr(err.msg, "MANIFEST_UNKNOWN") || strstr(err.msg, "404"), "%s", err.msg);
	free(out);
	free(missing);
	free(pinned);
	free(bt);
	free(t);
	free(base);
	free(img);
}

static enum tr_action one_401_mid_push(struct tr_proxy *p, const char *method, const char *uri,
				       int n)
{
	(void)uri;
	(void)n;
	return strcmp(method, "POST") == 0 && p->counts[TR_FAIL_401] == 0 ? TR_FAIL_401
									  : TR_FORWARD;
}

Test(registry, a_401_mid_push_gets_one_fresh_token)
{
	tr_token_start(&tok, "tok-mid-push-0123456789");
	tr_registry_start(&reg, TR_TOKEN, NULL, NULL, tok.realm);
	tr_proxy_start(&proxy, &reg, one_401_mid_push);
	struct oci_descriptor d;
	char *img = build_image("m", 2000, NULL, &d);
	char *t = ref(proxy.addr, "acme/midpush:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.jobs = 1;
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	oci_push_result_release(&res);
	cr_assert_eq(proxy.counts[TR_FAIL_401], 1);
	cr_assert_eq(tok.requests, 2, "the first token, and one more after the 401");
	char *direct = ref(reg.addr, "acme/midpush:1");
	verify(direct, NULL, d.digest);
	free(direct);
	free(t);
	free(img);
}

static enum tr_action fail_first_two_posts(struct tr_proxy *p, const char *method, const char *uri,
					   int n)
{
	(void)uri;
	(void)n;
	if (strcmp(method, "POST") == 0 && p->counts[TR_FAIL_500] < 2) {
		return TR_FAIL_500;
	}
	if (strcmp(method, "HEAD") == 0 && p->counts[TR_DROP] < 1) {
		return TR_DROP;
	}
	return TR_FORWARD;
}

Test(registry, server_errors_and_dropped_connections_are_retried)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	tr_proxy_start(&proxy, &reg, fail_first_two_posts);
	struct oci_descriptor d;
	char *img = build_image("r", 10000, NULL, &d);
	char *t = ref(proxy.addr, "acme/retry:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	oci_push_result_release(&res);
	cr_assert_eq(proxy.counts[TR_FAIL_500], 2);
	cr_assert_eq(proxy.counts[TR_DROP], 1);
	cr_assert(strstr(logbuf, "HTTP 500: UNKNOWN: injected fault"), "%s", logbuf);
	char *direct = ref(reg.addr, "acme/retry:1");
	verify(direct, NULL, d.digest);
	free(direct);
	free(t);
	free(img);
}

static enum tr_action always_500_on_put(struct tr_proxy *p, const char *method, const char *uri,
					int n)
{
	(void)n;
	if (strcmp(method, "DELETE") == 0) {
		__atomic_add_fetch((int *)p->userdata, 1, __ATOMIC_SEQ_CST);
	}
	return strcmp(method, "PUT") == 0 && strstr(uri, "/blobs/") ? TR_FAIL_500 : TR_FORWARD;
}

Test(registry, persistent_errors_fail_cleanly_without_a_tag)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	int deletes = 0;
	proxy.userdata = &deletes;
	tr_proxy_start(&proxy, &reg, always_500_on_put);
	struct oci_descriptor d;
	char *img = build_image("p", 1000, NULL, &d);
	char *t = ref(proxy.addr, "acme/broken:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.retries = 2;
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EIO);
	cr_assert(strstr(err.msg, "gave up after 3 attempts"), "%s", err.msg);
	cr_assert_eq(res.n_tagged, 0);
	/* Each failed upload session was deleted before the blob started over. */
	cr_assert_geq(deletes, 2, "%d DELETE requests", deletes);
	oci_push_result_release(&res);
	char *direct = ref(reg.addr, "acme/broken:1");
	assert_absent(direct, NULL);
	free(direct);
	free(t);
	free(img);
}

static enum tr_action wrong_manifest_digest(struct tr_proxy *p, const char *method, const char *uri,
					    int n)
{
	(void)p;
	(void)n;
	return strcmp(method, "PUT") == 0 && strstr(uri, "/manifests/sha256:") ? TR_WRONG_DIGEST
									       : TR_FORWARD;
}

static enum tr_action wrong_blob_digest(struct tr_proxy *p, const char *method, const char *uri,
					int n)
{
	(void)p;
	(void)n;
	return strcmp(method, "PUT") == 0 && strstr(uri, "/blobs/uploads/") ? TR_WRONG_DIGEST
									    : TR_FORWARD;
}

Test(registry, a_wrong_digest_echoed_back_stops_before_any_tag)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	tr_proxy_start(&proxy, &reg, wrong_manifest_digest);
	struct oci_descriptor d;
	char *img = build_image("w", 1000, NULL, &d);
	char *t = ref(proxy.addr, "acme/echo:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EPROTO);
	cr_assert(strstr(err.msg, "stored the manifest as sha256:0000"), "%s", err.msg);
	oci_push_result_release(&res);
	char *direct = ref(reg.addr, "acme/echo:1");
	assert_absent(direct, NULL);
	tr_proxy_stop(&proxy);

	tr_proxy_start(&proxy, &reg, wrong_blob_digest);
	free(t);
	t = ref(proxy.addr, "acme/echo2:1");
	refs[0] = t;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EPROTO);
	cr_assert(strstr(err.msg, "stored blob"), "%s", err.msg);
	oci_push_result_release(&res);
	free(direct);
	direct = ref(reg.addr, "acme/echo2:1");
	assert_absent(direct, NULL);
	free(direct);
	free(t);
	free(img);
}

static enum tr_action kill_at_first_patch(struct tr_proxy *p, const char *method, const char *uri,
					  int n)
{
	(void)uri;
	(void)n;
	if (strcmp(method, "PATCH") == 0 && p->counts[TR_KILL] + p->counts[TR_KILL_RESTART] == 0) {
		return *(enum tr_action *)p->userdata;
	}
	return TR_FORWARD;
}

Test(registry, registry_killed_mid_push_leaves_no_tag)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	enum tr_action act = TR_KILL;
	proxy.userdata = &act;
	tr_proxy_start(&proxy, &reg, kill_at_first_patch);
	struct oci_descriptor d;
	char *img = build_image("k", 300000, NULL, &d);
	char *t = ref(proxy.addr, "acme/killed:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.chunk_size = 65536;
	o.retries = 2;
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), -EIO, "%s", err.msg);
	cr_assert_eq(proxy.counts[TR_KILL], 1);
	cr_assert_eq(res.n_tagged, 0);
	oci_push_result_release(&res);
	/* Back up on the same storage: the tag does not exist. */
	tr_proxy_stop(&proxy);
	tr_registry_restart(&reg);
	char *direct = ref(reg.addr, "acme/killed:1");
	assert_absent(direct, NULL);
	free(direct);
	free(t);
	free(img);
}

Test(registry, registry_restarted_mid_push_the_retry_succeeds)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	enum tr_action act = TR_KILL_RESTART;
	proxy.userdata = &act;
	tr_proxy_start(&proxy, &reg, kill_at_first_patch);
	struct oci_descriptor d;
	char *img = build_image("k2", 300000, NULL, &d);
	char *t = ref(proxy.addr, "acme/restarted:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.chunk_size = 65536;
	/*
	 * The client's own retry budget (4 retries from 500 ms), not the tests' quick one: a
	 * registry restarted on a busy machine answers 500s for a moment after it is up.
	 */
	o.backoff_ms = 0;
	o.retries = 0;
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_eq(proxy.counts[TR_KILL_RESTART], 1);
	/*
	 * Which retry path recovers depends on timing: when the killed PATCH travelled on a
	 * reused keep-alive connection, libcurl itself re-sends it on a fresh connection
	 * (nothing had been answered); otherwise our client starts the blob over ("starting
	 * over" in the log). Either way the image must be complete in the real registry.
	 */
	oci_push_result_release(&res);
	char *direct = ref(reg.addr, "acme/restarted:1");
	verify(direct, NULL, d.digest);
	free(direct);
	free(t);
	free(img);
}

/*
 * A registry killed while it committed a blob can be left with the blob's link in the
 * repository empty: HEAD then answers 500 for good ("invalid checksum digest format"), and
 * the push retried its HEAD until it gave up. An upload writes the link again, so on a
 * server error HEAD is followed by an upload. (What a restart under load left behind in
 * registry_restarted_mid_push_the_retry_succeeds, 2 runs in 20; here made on purpose.)
 */
Test(registry, a_blob_whose_link_the_registry_lost_is_uploaded_again)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	struct oci_descriptor d;
	char *img = build_image("lost", 50000, NULL, &d);
	char *t = ref(reg.addr, "acme/lost:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	oci_push_result_release(&res);
	/* Empty every layer link of the repository, as a kill between truncating and
	 * writing one leaves it. */
	char *cmd;
	cr_assert_geq(asprintf(&cmd,
			       "find '%s/data' -path '*/repositories/acme/lost/_layers/*' "
			       "-name link -exec truncate -s 0 {} + -print | grep -c link",
			       reg.dir),
		      0);
	FILE *f = popen(cmd, "r");
	int n = 0;
	cr_assert_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	free(cmd);
	cr_assert_geq(n, 2, "the layers and the config have links");
	loglen = 0;
	logbuf[0] = '\0';
	memset(&err, 0, sizeof(err));
	cr_assert_eq(push(img, refs, 1, &o, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_eq(res.uploaded, (size_t)n, "%zu of %d uploaded again\n%s", res.uploaded, n,
		     logbuf);
	cr_assert_not_null(strstr(logbuf, "HEAD: HTTP 500; uploading it"), "%s", logbuf);
	oci_push_result_release(&res);
	verify(t, NULL, d.digest);
	free(t);
	free(img);
}

Test(registry, a_garbage_server_is_a_clean_failure)
{
	tr_garbage_start(&garbage);
	struct oci_descriptor d;
	char *img = build_image("g", 1000, NULL, &d);
	char *t = ref(garbage.addr, "acme/garbage:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.retries = 1;
	int r = push(img, refs, 1, &o, &res, &err);
	cr_assert(r == -EIO || r == -EPROTO, "%d: %s", r, err.msg);
	cr_assert(strstr(err.msg, garbage.addr), "%s", err.msg);
	oci_push_result_release(&res);
	free(t);
	free(img);
}

static enum tr_action redirect_blob_get(struct tr_proxy *p, const char *method, const char *uri,
					int n)
{
	(void)p;
	(void)n;
	return strcmp(method, "GET") == 0 && strstr(uri, "/blobs/sha256:") ? TR_REDIRECT
									   : TR_FORWARD;
}

Test(registry, no_credentials_follow_a_redirect_to_another_host)
{
	tr_registry_start(&reg, TR_BASIC, "ci-bot", "s3cret-Passw0rd", NULL);
	tr_token_start(&tok, "unused-token-value");
	/* The stand-in for a storage backend records what it is sent. */
	snprintf(proxy.redirect_to, sizeof(proxy.redirect_to), "http://127.0.0.1:%d/blob",
		 tok.port);
	tr_proxy_start(&proxy, &reg, redirect_blob_get);
	struct oci_descriptor bd, d;
	char *base = build_image("rb", 1000, NULL, &bd);
	char *bt = ref(reg.addr, "acme/base:1");
	const char *brefs[] = { bt };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.username = "ci-bot";
	o.password = "s3cret-Passw0rd";
	cr_assert_eq(push(base, brefs, 1, &o, &res, &err), 0, "%s", err.msg);
	oci_push_result_release(&res);
	/* Pull it as a base through the proxy: the config GET is redirected elsewhere. */
	char *pinned;
	cr_assert_geq(asprintf(&pinned, "%s/acme/base@%s", proxy.addr, bd.digest), 0);
	struct oci_build_spec spec = {
		.context = work, .base = pinned, .created = 1, .registry = &o
	};
	struct oci_build_result br;
	char *out;
	cr_assert_geq(asprintf(&out, "%s/pulled", work), 0);
	cr_assert_lt(oci_build(&spec, out, &br, &err), 0, "the stand-in has no blobs");
	cr_assert_geq(tok.requests, 1, "the redirect was followed");
	cr_assert_str_eq(tok.last_auth, "", "credentials went to another host: %s", tok.last_auth);
	(void)d;
	free(out);
	free(pinned);
	free(bt);
	free(base);
}

static enum tr_action always_401(struct tr_proxy *p, const char *method, const char *uri, int n)
{
	(void)p;
	(void)method;
	(void)uri;
	(void)n;
	return TR_FAIL_401;
}

/* A refused connection is not a reason to try plain HTTP (only a TLS-level failure is,
 * for a loopback or insecure registry): nothing is listening there either way. */
Test(registry, a_refused_connection_does_not_fall_back_to_plain_http)
{
	struct oci_descriptor d;
	char *img = build_image("nc", 100, NULL, &d);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s); /* a port nothing listens on */
	char *t;
	cr_assert_geq(asprintf(&t, "127.0.0.1:%d/acme/nc:1", ntohs(sa.sin_port)), 0);
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.retries = 0;
	cr_assert_lt(push(img, refs, 1, &o, &res, &err), 0);
	oci_push_result_release(&res);
	cr_assert_null(strstr(logbuf, "using plain HTTP"), "%s", logbuf);
	free(t);
	free(img);
}

static enum tr_action upload_elsewhere(struct tr_proxy *p, const char *method, const char *uri,
				       int n)
{
	(void)p;
	(void)n;
	return strcmp(method, "POST") == 0 && strstr(uri, "/blobs/uploads/") ? TR_UPLOAD_ELSEWHERE
									     : TR_FORWARD;
}

/* A registry that asks for no credentials sends an upload to another host, and that host
 * answers 401 with a challenge of its own: it is not followed, and neither the
 * credentials nor a token request go to the realm it names. Only the registry's own
 * challenges are taken. */
Test(registry, a_challenge_from_another_host_gets_no_credentials)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	tr_token_start(&tok, "unused-token-value");
	static struct tr_proxy other;
	tr_proxy_start(&other, &reg, always_401);
	snprintf(other.challenge, sizeof(other.challenge),
		 "Bearer realm=\"%s\",service=\"storage\"", tok.realm);
	snprintf(proxy.redirect_to, sizeof(proxy.redirect_to), "http://%s/upload/1", other.addr);
	tr_proxy_start(&proxy, &reg, upload_elsewhere);
	struct oci_descriptor d;
	char *img = build_image("rc", 1000, NULL, &d);
	char *t = ref(proxy.addr, "acme/up:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.username = "ci-bot";
	o.password = "s3cret-Passw0rd";
	o.retries = 0;
	cr_assert_lt(push(img, refs, 1, &o, &res, &err), 0, "the other host refuses everything");
	oci_push_result_release(&res);
	cr_assert_geq(other.counts[TR_FAIL_401], 1, "the upload went there");
	cr_assert_eq(tok.requests, 0, "a token was asked for with '%s'", tok.last_auth);
	cr_assert(strstr(err.msg, "not the registry"), "%s\n%s\nother: %d requests", err.msg,
		  logbuf, other.requests);
	tr_proxy_stop(&other);
	free(t);
	free(img);
}

/* A scratch image for platform with one small file, in work/img-<name>. */
static char *platform_image(const char *name, const char *platform, struct oci_build_result *res)
{
	char *ctx, *out;
	cr_assert_geq(asprintf(&ctx, "%s/ctx-%s", work, name), 0);
	cr_assert_geq(asprintf(&out, "%s/img-%s", work, name), 0);
	tu_write(ctx, "arch.txt", platform);
	static const struct oci_add adds[] = { { "arch.txt", "/etc/arch.txt" } };
	struct oci_build_spec spec = {
		.context = ctx, .adds = adds, .n_adds = 1, .created = 1, .platform = platform
	};
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_build(&spec, out, res, &err), 0, "%s", err.msg);
	free(ctx);
	return out;
}

static void add_entry(json_t *ms, const struct oci_layout *dst, const char *src_dir,
		      const struct oci_build_result *r, const char *os, const char *arch,
		      const char *variant)
{
	struct oci_layout *src;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_open(src_dir, &src, &err), 0, "%s", err.msg);
	const char *digests[] = { r->manifest.digest, r->config.digest, r->layer.digest };
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(oci_layout_copy_blob((struct oci_layout *)dst, src, digests[i], &err),
			     0, "%s", err.msg);
	}
	oci_layout_free(src);
	json_t *e = oci_descriptor_json(&r->manifest);
	json_t *pl = json_pack("{s:s, s:s}", "os", os, "architecture", arch);
	if (variant) {
		json_object_set_new(pl, "variant", json_string(variant));
	}
	json_object_set_new(e, "platform", pl);
	json_array_append_new(ms, e);
}

/* Put j (compact JSON) into the layout as a blob of media type mt; *d describes it. */
static void put_json(struct oci_layout *l, const json_t *j, const char *mt,
		     struct oci_descriptor *d)
{
	char *text = json_dumps(j, JSON_COMPACT);
	cr_assert_eq(oci_layout_put_blob(l, text, strlen(text), d), 0);
	free(text);
	snprintf(d->media_type, sizeof(d->media_type), "%s", mt);
}

/* Copy the image (all: the index) of the layout at dir to repo_tag of the test registry,
 * as it is, with skopeo. */
static void skopeo_put(const char *dir, const char *repo_tag, bool all)
{
	char *src, *dst;
	cr_assert_geq(asprintf(&src, "oci:%s", dir), 0);
	cr_assert_geq(asprintf(&dst, "docker://%s/%s", reg.addr, repo_tag), 0);
	const char *argv[9];
	size_t n = 0;
	argv[n++] = "/usr/bin/skopeo";
	argv[n++] = "copy";
	if (all) {
		argv[n++] = "--all";
	}
	argv[n++] = "--preserve-digests";
	argv[n++] = "--dest-tls-verify=false";
	argv[n++] = "-q";
	argv[n++] = src;
	argv[n++] = dst;
	argv[n] = NULL;
	struct tu_result sr = tu_run(NULL, argv, NULL, 120);
	cr_assert_eq(sr.status, 0, "skopeo copy: %s", sr.err);
	tu_result_free(&sr);
	free(src);
	free(dst);
}

Test(registry, a_two_platform_base_index_pinned_by_digest)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	/* Two platform images and an index of both, pushed as they are with skopeo (the
	 * push of this library pushes images, not indexes). */
	struct oci_build_result ra, rb;
	char *pa = platform_image("amd64", "linux/amd64", &ra);
	char *pb = platform_image("arm64", "linux/arm64/v8", &rb);
	char *multi;
	cr_assert_geq(asprintf(&multi, "%s/multi", work), 0);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_init(multi, &l, &err), 0, "%s", err.msg);
	json_t *ms = json_array();
	add_entry(ms, l, pa, &ra, "linux", "amd64", NULL);
	add_entry(ms, l, pb, &rb, "linux", "arm64", "v8");
	json_t *idx = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
				"manifests", ms);
	struct oci_descriptor id;
	put_json(l, idx, OCI_MT_INDEX, &id);
	json_decref(idx);
	cr_assert_eq(oci_layout_write_index(l, &id, NULL, &err), 0, "%s", err.msg);
	oci_layout_free(l);
	skopeo_put(multi, "acme/multi:1", true);
	char *mt = ref(reg.addr, "acme/multi:1");
	char *got = tr_skopeo_digest(mt, NULL);
	cr_assert_not_null(got);
	cr_assert_str_eq(got, id.digest, "the registry holds the index as it was");
	free(got);

	/* Built on it by digest for arm64, pushed, and checked with skopeo. */
	char *pinned;
	cr_assert_geq(asprintf(&pinned, "%s/acme/multi@%s", reg.addr, id.digest), 0);
	char *ctx, *out;
	cr_assert_geq(asprintf(&ctx, "%s/ctx-derived", work), 0);
	cr_assert_geq(asprintf(&out, "%s/img-derived", work), 0);
	tu_write(ctx, "app", "app\n");
	static const struct oci_add adds[] = { { "app", "/usr/bin/app" } };
	struct oci_registry_opts o = opts();
	struct oci_build_spec spec = { .context = ctx,
				       .base = pinned,
				       .adds = adds,
				       .n_adds = 1,
				       .created = 1,
				       .platform = "linux/arm64/v8",
				       .registry = &o };
	struct oci_build_result res;
	cr_assert_eq(oci_build(&spec, out, &res, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_str_eq(res.base_digest, id.digest, "the pinned index is the base's digest");
	cr_assert_str_eq(res.base_manifest, rb.manifest.digest, "the arm64 image is the base");
	char *t = ref(reg.addr, "acme/derived:arm64");
	const char *refs[] = { t };
	struct oci_push_result pr;
	cr_assert_eq(push(out, refs, 1, &o, &pr, &err), 0, "%s\n%s", err.msg, logbuf);
	cr_assert_eq(pr.mounted, 1, "the base layer is mounted:\n%s", logbuf);
	oci_push_result_release(&pr);
	verify(t, NULL, res.manifest.digest);
	/* What skopeo sees of the pushed image: arm64, and the index named as the base. */
	char *dref;
	cr_assert_geq(asprintf(&dref, "docker://%s", t), 0);
	const char *iargv[] = { "/usr/bin/skopeo", "inspect", "--tls-verify=false",
				"--raw",	   dref,      NULL };
	struct tu_result sr = tu_run(NULL, iargv, NULL, 120);
	cr_assert_eq(sr.status, 0, "skopeo inspect: %s", sr.err);
	json_error_t je;
	json_t *man = json_loads(sr.out, 0, &je);
	cr_assert_not_null(man, "%s", sr.out);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(man, "annotations"),
							   "org.opencontainers.image.base.digest")),
			 id.digest);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(man, "layers"), 0), "digest")),
			 rb.layer.digest);
	json_decref(man);
	tu_result_free(&sr);
	const char *cargv[] = { "/usr/bin/skopeo", "inspect", "--tls-verify=false",
				"--config",	   dref,      NULL };
	sr = tu_run(NULL, cargv, NULL, 120);
	cr_assert_eq(sr.status, 0, "skopeo inspect --config: %s", sr.err);
	json_t *cfg = json_loads(sr.out, 0, &je);
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "architecture")), "arm64");
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "variant")), "v8");
	json_decref(cfg);
	tu_result_free(&sr);

	/* A platform the index does not have: refused, naming those it has. */
	spec.platform = "linux/s390x";
	char *out2;
	cr_assert_geq(asprintf(&out2, "%s/img-none", work), 0);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(oci_build(&spec, out2, &res, &err), -ENOENT, "%s", err.msg);
	cr_assert(strstr(err.msg, "(it has: linux/amd64, linux/arm64/v8)"), "%s", err.msg);
	free(out2);
	free(dref);
	free(t);
	free(ctx);
	free(out);
	free(pinned);
	free(mt);
	free(multi);
	free(pa);
	free(pb);
}

/* A layout's blob file that holds other bytes of the right size (here overwritten; a hard
 * link to a host file does the same) is neither uploaded nor mounted: the push stops
 * before anything of it is sent, and no tag appears. */
Test(registry, a_blob_file_with_other_bytes_is_not_sent)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	struct oci_descriptor d;
	char *img = build_image("tampered", 200000, NULL, &d);
	char *mpath = tu_strf("%s/blobs/sha256/%s", img, d.digest + 7);
	char *mtext = tu_read(mpath);
	cr_assert_not_null(mtext);
	json_t *m = json_loads(mtext, 0, NULL);
	cr_assert_not_null(m);
	json_t *layers = json_object_get(m, "layers");
	const char *layer = json_string_value(
		json_object_get(json_array_get(layers, json_array_size(layers) - 1), "digest"));
	char *lpath = tu_strf("%s/blobs/sha256/%s", img, layer + 7);
	struct stat st;
	cr_assert_eq(stat(lpath, &st), 0);
	char *other = calloc(1, (size_t)st.st_size);
	cr_assert_not_null(other);
	memset(other, 'x', (size_t)st.st_size);
	int fd = open(lpath, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, other, (size_t)st.st_size), st.st_size);
	close(fd);
	char *t = ref(reg.addr, "acme/tampered:v1");
	const char *refs[] = { t };
	struct oci_registry_opts o = opts();
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	cr_assert_lt(push(img, refs, 1, &o, &res, &err), 0, "the tampered layout was pushed");
	cr_assert_not_null(strstr(err.msg, "does not hold it"), "%s", err.msg);
	oci_push_result_release(&res);
	assert_absent(t, NULL);
	json_decref(m);
	free(other);
	free(lpath);
	free(mtext);
	free(mpath);
	free(t);
	free(img);
}

/* A registry on loopback that sends its upload to a plain-HTTP host that is neither
 * loopback nor named insecure (192.0.2.2, a documentation address) is not followed: no
 * image data goes there in clear text. */
Test(registry, an_upload_moved_to_a_plain_http_host_is_refused)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	snprintf(proxy.redirect_to, sizeof(proxy.redirect_to), "http://192.0.2.2:18084/up/1");
	tr_proxy_start(&proxy, &reg, upload_elsewhere);
	struct oci_descriptor d;
	char *img = build_image("plain", 1000, NULL, &d);
	char *t = ref(proxy.addr, "acme/plain:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.retries = 0;
	cr_assert_lt(push(img, refs, 1, &o, &res, &err), 0);
	cr_assert(strstr(err.msg, "neither loopback nor named insecure"), "%s", err.msg);
	oci_push_result_release(&res);
	free(t);
	free(img);
}

/* A registry that answers a small request (here the ping) with a long body sent a byte at
 * a time never stalls long enough for the stall limit; the whole request's time limit
 * ends it. */
Test(registry, a_registry_trickling_a_small_reply_is_given_up_on, .timeout = 120)
{
	tr_trickle_start(&garbage);
	struct oci_descriptor d;
	char *img = build_image("trickle", 1000, NULL, &d);
	char *t = ref(garbage.addr, "acme/slow:1");
	const char *refs[] = { t };
	struct oci_push_result res;
	struct oci_err err = { { 0 } };
	struct oci_registry_opts o = opts();
	o.retries = OCI_NO_RETRIES;
	o.small_timeout_s = 2;
	cr_assert_lt(push(img, refs, 1, &o, &res, &err), 0, "the push did not fail");
	cr_assert(strstr(err.msg, "imed out") || strstr(err.msg, "timeout"), "%s", err.msg);
	oci_push_result_release(&res);
	tr_garbage_stop(&garbage);
	free(t);
	free(img);
}

Test(registry, a_base_with_too_many_layers_is_refused_before_its_layers_are_pulled)
{
	tr_registry_start(&reg, TR_ANON, NULL, NULL, NULL);
	/* An image whose one layer is listed 257 times, pushed as it is with skopeo. */
	struct oci_descriptor bd;
	char *base = build_image("base", 1000, NULL, &bd);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_open(base, &l, &err), 0, "%s", err.msg);
	char *text;
	size_t len;
	cr_assert_eq(oci_layout_read_blob(l, bd.digest, OCI_MANIFEST_MAX, &text, &len, &err), 0,
		     "%s", err.msg);
	json_t *m = json_loadb(text, len, 0, NULL);
	free(text);
	json_t *cfgd = json_object_get(m, "config");
	cr_assert_eq(oci_layout_read_blob(l, json_string_value(json_object_get(cfgd, "digest")),
					  OCI_CONFIG_MAX, &text, &len, &err),
		     0, "%s", err.msg);
	json_t *cfg = json_loadb(text, len, 0, NULL);
	free(text);
	json_t *layers = json_object_get(m, "layers");
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	json_t *layer = json_array_get(layers, 0), *id = json_array_get(ids, 0);
	for (int i = 1; i < OCI_LAYERS_MAX + 1; i++) {
		json_array_append(layers, layer);
		json_array_append(ids, id);
	}
	struct oci_descriptor cd, md;
	put_json(l, cfg, OCI_MT_CONFIG, &cd);
	json_object_set_new(cfgd, "digest", json_string(cd.digest));
	json_object_set_new(cfgd, "size", json_integer((json_int_t)cd.size));
	put_json(l, m, OCI_MT_MANIFEST, &md);
	cr_assert_eq(oci_layout_write_index(l, &md, NULL, &err), 0, "%s", err.msg);
	oci_layout_free(l);
	char *layer_digest = strdup(json_string_value(json_object_get(layer, "digest")));
	json_decref(m);
	json_decref(cfg);
	skopeo_put(base, "acme/layers:1", false);
	/* Our push of the same layout refuses it: nothing goes up. */
	char *t = ref(reg.addr, "acme/layers-ours:1");
	const char *refs[] = { t };
	struct oci_push_result pr;
	struct oci_registry_opts po = opts();
	cr_assert_eq(push(base, refs, 1, &po, &pr, &err), -E2BIG, "%s", err.msg);
	cr_assert(strstr(err.msg, "257 layers"), "%s", err.msg);
	oci_push_result_release(&pr);
	assert_absent(t, NULL);
	free(t);
	memset(&err, 0, sizeof(err));

	char *pinned, *out;
	cr_assert_geq(asprintf(&pinned, "%s/acme/layers@%s", reg.addr, md.digest), 0);
	cr_assert_geq(asprintf(&out, "%s/img-derived", work), 0);
	struct oci_registry_opts o = opts();
	struct oci_build_spec spec = {
		.context = work, .base = pinned, .created = 1, .registry = &o
	};
	struct oci_build_result br;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(oci_build(&spec, out, &br, &err), -E2BIG, "%s", err.msg);
	cr_assert(strstr(err.msg, "257 layers"), "%s", err.msg);
	char *blob;
	cr_assert_geq(asprintf(&blob, "%s/blobs/sha256/%s", out, layer_digest + 7), 0);
	cr_assert_neq(access(blob, F_OK), 0, "the layer was not pulled");
	free(blob);
	free(out);
	free(pinned);
	free(layer_digest);
	free(base);
}
