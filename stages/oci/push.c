/*
 * push.c - pushing an image from a layout (distribution-spec "push" workflow).
 *
 * Per repository: every blob (config and layers) runs as a small state machine on the
 * client's curl multi handle, at most `jobs` at once:
 *
 *   HEAD blob --200--> done (already there)
 *       \--404--> POST uploads/ [?mount=&from=] --201--> done (mounted)
 *                      \--202 + Location--> PUT ?digest= (whole blob)      --201--> done
 *                                       or  PATCH chunk ... PUT ?digest= --201--> done
 *
 * Every step follows the latest Location (relative or absolute). A retryable failure
 * (connection error, 408, 429, 5xx, a Range that does not match what was sent) DELETEs
 * the upload session and starts the blob again from HEAD after a backoff: an upload is
 * never continued at an offset the registry did not confirm. A 401 gets one
 * re-authentication. Then the manifest goes up by digest, and only when that worked
 * in every repository, the tags: a failure part-way leaves no tag on an incomplete image.
 */
#include "client.h"

#include "err.h"
#include "util.h"

#include <poll.h>
#include <stdio.h>

#include "banned.h"

enum bstate {
	B_HEAD,
	B_POST,
	B_PUT,	  /* monolithic upload */
	B_PATCH,  /* a chunk */
	B_FINAL,  /* closing PUT after chunks */
	B_DELETE, /* dropping a session before a retry */
	B_SLEEP,
	B_DONE,
	B_FAILED,
};

enum bresult {
	R_NONE,
	R_SKIPPED,
	R_MOUNTED,
	R_UPLOADED,
};

struct blob_job {
	struct oci_descriptor d;
	bool layer;
	const char *repo;
	const char *mount_from; /* a repository on the same registry that may hold it */
	enum bstate state;
	enum bresult result;
	unsigned attempt;
	uint64_t wake;	 /* B_SLEEP: monotonic ms */
	char *session;	 /* the current upload URL */
	uint64_t offset; /* bytes the registry confirmed */
	uint64_t sent;	 /* bytes in the request in flight */
	int fd;
	CURL *easy;
	struct oci_xfer x;
	bool in_flight;
	bool counted;  /* its end has been accounted for */
	char why[600]; /* why the last attempt failed */
};

struct push_ctx {
	const struct oci_layout *l;
	struct oci_client *c;
	struct oci_err *err;
	struct oci_push_result *res;
};

/* ---------- one blob ---------- */

static void short_digest(const char *d, char *buf, size_t size)
{
	snprintf(buf, size, "%.19s", d);
}

static void submit(struct push_ctx *p, struct blob_job *j, const char *method, const char *url)
{
	xfer_release(&j->x);
	xfer_init(&j->x, p->c, j->easy, method, url);
	j->x.job = j;
}

static void go(struct push_ctx *p, struct blob_job *j)
{
	xfer_arm(&j->x);
	client_multi_add(p->c, &j->x);
	j->in_flight = true;
}

static char *with_digest(const char *session, const char *digest)
{
	return xasprintf("%s%cdigest=%s", session, strchr(session, '?') ? '&' : '?', digest);
}

static void start_head(struct push_ctx *p, struct blob_job *j)
{
	char rest[200];
	snprintf(rest, sizeof(rest), "blobs/%s", j->d.digest);
	_cleanup_free_ char *url = client_url(p->c, j->repo, rest);
	submit(p, j, "HEAD", url);
	j->state = B_HEAD;
	go(p, j);
}

static void start_post(struct push_ctx *p, struct blob_job *j)
{
	_cleanup_free_ char *url = NULL;
	if (j->layer && j->mount_from && j->attempt == 0) {
		char rest[600];
		snprintf(rest, sizeof(rest), "blobs/uploads/?mount=%s&from=%s", j->d.digest,
			 j->mount_from);
		url = client_url(p->c, j->repo, rest);
	} else {
		url = client_url(p->c, j->repo, "blobs/uploads/");
	}
	submit(p, j, "POST", url);
	j->state = B_POST;
	go(p, j);
}

static void start_put(struct push_ctx *p, struct blob_job *j)
{
	_cleanup_free_ char *url = with_digest(j->session, j->d.digest);
	submit(p, j, "PUT", url);
	xfer_header(&j->x, "Content-Type: application/octet-stream");
	xfer_body_file(&j->x, j->fd, 0, j->d.size);
	j->sent = j->d.size;
	j->state = B_PUT;
	go(p, j);
}

static void start_patch(struct push_ctx *p, struct blob_job *j)
{
	uint64_t n = MIN(p->c->chunk, j->d.size - j->offset);
	char range[80];
	submit(p, j, "PATCH", j->session);
	xfer_header(&j->x, "Content-Type: application/octet-stream");
	snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)j->offset,
		 (unsigned long long)(j->offset + n - 1));
	xfer_header(&j->x, range);
	xfer_body_file(&j->x, j->fd, j->offset, n);
	j->sent = n;
	j->state = B_PATCH;
	go(p, j);
}

static void start_final(struct push_ctx *p, struct blob_job *j)
{
	_cleanup_free_ char *url = with_digest(j->session, j->d.digest);
	submit(p, j, "PUT", url);
	xfer_header(&j->x, "Content-Type: application/octet-stream");
	j->state = B_FINAL;
	go(p, j);
}

static void fail(struct blob_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct blob_job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	j->state = B_FAILED;
}

/* A retryable failure: drop the session, then start over after a backoff (or give up). */
static void retry(struct push_ctx *p, struct blob_job *j)
{
	char sd[24];
	short_digest(j->d.digest, sd, sizeof(sd));
	j->attempt++;
	if (j->attempt > p->c->retries) {
		char why[700];
		snprintf(why, sizeof(why), "%s (gave up after %u attempts)", j->why, j->attempt);
		fail(j, "%s", why);
		return;
	}
	uint64_t d = client_backoff_ms(p->c, &j->x, j->attempt);
	client_log(p->c, "blob %s: %s; starting over in %llu ms (attempt %u of %u)", sd, j->why,
		   (unsigned long long)d, j->attempt + 1, p->c->retries + 1);
	j->wake = now_mono_ms() + d;
	j->offset = 0;
	if (j->session) {
		_cleanup_free_ char *url = xstrdup(j->session);
		free(j->session);
		j->session = NULL;
		submit(p, j, "DELETE", url);
		j->state = B_DELETE;
		go(p, j);
		return;
	}
	j->state = B_SLEEP;
}

static bool take_location(struct push_ctx *p, struct blob_job *j)
{
	char *abs = NULL;
	if (!j->x.h_location ||
	    oci_resolve_location(j->x.url, j->x.h_location, strlen(j->x.h_location), &abs) < 0) {
		fail(j, "the registry answered %s without a usable Location", j->x.method);
		return false;
	}
	/* The session must stay with the registry unless its new host is as trusted:
	 * credentials only go to the registry's origin (xfer_arm), and never in clear
	 * text to a host that is neither loopback nor named insecure. */
	if (!client_location_ok(p->c, p->c->base, abs)) {
		free(abs);
		fail(j, "the registry moved the upload to plain HTTP on a host that is neither "
			"loopback nor named insecure; refused");
		return false;
	}
	free(j->session);
	j->session = abs;
	return true;
}

static bool digest_echo_ok(struct blob_job *j)
{
	if (j->x.h_digest && !str_eq(j->x.h_digest, j->d.digest)) {
		char echo[80];
		snprintf(echo, sizeof(echo), "%.75s", j->x.h_digest);
		for (char *q = echo; *q; q++) {
			if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f) {
				*q = '?';
			}
		}
		fail(j, "the registry stored blob %s as %s: refusing to go on", j->d.digest, echo);
		return false;
	}
	return true;
}

/* The registry does not have the blob (or cannot say): upload it, once the file is known to
 * hold it. */
static void upload_missing(struct push_ctx *p, struct blob_job *j)
{
	if (!oci_fd_matches(j->fd, j->d.size, j->d.digest)) {
		/* Before it is uploaded or mounted, the file must hold exactly the blob it
		 * names: a layout's file may hold other bytes of the right size (a hard link to
		 * a host file, a damaged or crafted layout). */
		fail(j,
		     "the layout's file for blob %s does not hold it (other bytes of the same "
		     "size); nothing of it was sent or mounted",
		     j->d.digest);
		return;
	}
	start_post(p, j);
}

static void on_done(struct push_ctx *p, struct blob_job *j)
{
	struct oci_xfer *x = &j->x;
	char desc[600];
	if (x->cc == CURLE_OK && x->status == 401 && !x->auth_retried) {
		struct oci_err e = { { 0 } };
		if (client_reauth(p->c, x, &e) < 0) {
			fail(j, "%s", e.msg);
			return;
		}
		/* The same request again, once, with the new credentials. */
		xfer_reset_response(x);
		x->auth_retried = true;
		go(p, j);
		return;
	}
	if (j->state == B_DELETE) {
		j->state = B_SLEEP; /* whatever the answer: the session is gone or will expire */
		return;
	}
	if (j->state == B_HEAD && x->cc == CURLE_OK && x->status >= 500 && x->status <= 599) {
		/* A server error on HEAD says nothing of the blob: upload it, which is
		 * harmless if it is there. A registry killed while it committed a blob can be
		 * left with an empty link file, on which HEAD answers 500 for good
		 * (distribution: "invalid checksum digest format") and an upload writes the
		 * link again. If the registry is down, the upload fails and is retried. */
		char sd[24];
		short_digest(j->d.digest, sd, sizeof(sd));
		client_log(p->c, "blob %s: HEAD: HTTP %ld; uploading it", sd, x->status);
		upload_missing(p, j);
		return;
	}
	if (x->cc != CURLE_OK || xfer_retryable(x)) {
		xfer_describe(x, desc, sizeof(desc));
		snprintf(j->why, sizeof(j->why), "%s: %.580s", x->method, desc);
		if (xfer_retryable(x)) {
			retry(p, j);
		} else {
			fail(j, "%s", j->why);
		}
		return;
	}
	long s = x->status;
	switch (j->state) {
	case B_HEAD:
		if (s == 200) {
			j->result = R_SKIPPED;
			j->state = B_DONE;
		} else if (s == 404) {
			upload_missing(p, j);
		} else {
			xfer_describe(x, desc, sizeof(desc));
			fail(j, "HEAD: %s", desc);
		}
		return;
	case B_POST:
		if (s == 201) {
			if (digest_echo_ok(j)) {
				j->result = R_MOUNTED;
				j->state = B_DONE;
			}
			return;
		}
		if (s == 202) {
			if (!take_location(p, j)) {
				return;
			}
			if (j->d.size > p->c->chunk) {
				j->offset = 0;
				start_patch(p, j);
			} else {
				start_put(p, j);
			}
			return;
		}
		xfer_describe(x, desc, sizeof(desc));
		fail(j, "starting the upload: %s", desc);
		return;
	case B_PUT:
	case B_FINAL:
		if (s == 201) {
			if (digest_echo_ok(j)) {
				free(j->session);
				j->session = NULL;
				j->result = R_UPLOADED;
				j->state = B_DONE;
				p->res->bytes_uploaded += j->d.size;
			}
			return;
		}
		xfer_describe(x, desc, sizeof(desc));
		if (s == 400 || s == 416) {
			/* A digest or range the registry did not accept: start over cleanly. */
			snprintf(j->why, sizeof(j->why), "PUT: %.580s", desc);
			retry(p, j);
			return;
		}
		fail(j, "finishing the upload: %s", desc);
		return;
	case B_PATCH: {
		uint64_t last;
		if (s == 202) {
			if (!x->h_range || oci_parse_upload_range(x->h_range, &last) < 0 ||
			    last != j->offset + j->sent - 1) {
				snprintf(
					j->why, sizeof(j->why),
					"the registry confirmed a different range (%.40s) than was "
					"sent (0-%llu)",
					x->h_range ? x->h_range : "none",
					(unsigned long long)(j->offset + j->sent - 1));
				retry(p, j);
				return;
			}
			if (!take_location(p, j)) {
				return;
			}
			j->offset += j->sent;
			if (j->offset == j->d.size) {
				start_final(p, j);
			} else {
				start_patch(p, j);
			}
			return;
		}
		xfer_describe(x, desc, sizeof(desc));
		snprintf(j->why, sizeof(j->why), "PATCH: %.580s", desc);
		if (s == 416) {
			retry(p, j);
		} else {
			fail(j, "%s", j->why);
		}
		return;
	}
	default:
		fail(j, "internal error: unexpected state");
		return;
	}
}

static void report(struct push_ctx *p, const struct blob_job *j)
{
	char sd[24], size[32];
	short_digest(j->d.digest, sd, sizeof(sd));
	format_bytes(j->d.size, size, sizeof(size));
	static const char *const how[] = { "", "already there", "mounted from ", "uploaded" };
	client_log(p->c, "%s/%s: blob %s (%s): %s%s", p->c->host, j->repo, sd, size, how[j->result],
		   j->result == R_MOUNTED ? j->mount_from : "");
	p->res->blobs++;
	p->res->skipped += j->result == R_SKIPPED;
	p->res->mounted += j->result == R_MOUNTED;
	p->res->uploaded += j->result == R_UPLOADED;
}

/* Run every blob job to the end; the first failure cancels the rest. */
static int run_jobs(struct push_ctx *p, struct blob_job *jobs, size_t n)
{
	struct oci_client *c = p->c;
	size_t next = 0, finished = 0, active = 0;
	struct blob_job *failed = NULL;
	while (finished < n) {
		uint64_t now = now_mono_ms();
		while (!failed && next < n && active < c->jobs) {
			start_head(p, &jobs[next++]);
			active++;
		}
		for (size_t i = 0; i < next; i++) {
			struct blob_job *j = &jobs[i];
			if (j->state == B_SLEEP && !failed && now >= j->wake) {
				start_head(p, j);
			}
		}
		struct oci_xfer *x;
		while ((x = client_multi_done(c))) {
			struct blob_job *j = x->job;
			j->in_flight = false;
			if (failed) {
				j->state = B_FAILED;
			} else {
				on_done(p, j);
			}
		}
		/* Account for jobs that reached an end. */
		for (size_t i = 0; i < next; i++) {
			struct blob_job *j = &jobs[i];
			if (j->in_flight || j->counted) {
				continue;
			}
			if (j->state == B_DONE) {
				report(p, j);
			} else if (j->state == B_FAILED) {
				failed = failed ? failed : j;
			} else if (!(failed && j->state == B_SLEEP)) {
				continue;
			}
			j->counted = true;
			finished++;
			active--;
		}
		if (failed && next < n) {
			finished += n - next; /* never started */
			next = n;
		}
		if (finished >= n) {
			break;
		}
		/* Sleep until a transfer moves or a backoff ends. */
		int timeout = 1000;
		now = now_mono_ms();
		for (size_t i = 0; i < next; i++) {
			if (jobs[i].state == B_SLEEP && !jobs[i].counted) {
				uint64_t w = jobs[i].wake > now ? jobs[i].wake - now : 0;
				timeout = (int)MIN((uint64_t)timeout, w);
			}
		}
		client_multi_wait(c, timeout);
	}
	if (failed) {
		char sd[24];
		short_digest(failed->d.digest, sd, sizeof(sd));
		/* Upload sessions of blobs that did not finish are dropped, best effort. */
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].session) {
				struct oci_xfer x;
				xfer_init(&x, c, NULL, "DELETE", jobs[i].session);
				struct oci_err ignore = { { 0 } };
				unsigned saved = c->retries;
				c->retries = 0;
				client_send(c, &x, "DELETE", &ignore);
				c->retries = saved;
				xfer_release(&x);
			}
		}
		int code = strstr(failed->why, "refused the credentials") ||
					   strstr(failed->why, "refused anonymous") ||
					   strstr(failed->why, "asks for a user name")
				   ? -EACCES
			   : strstr(failed->why, "stored blob") || strstr(failed->why, "Location")
				   ? -EPROTO
				   : -EIO;
		return oci_errf(p->err, code, "%s/%s: blob %s: %s", c->host, failed->repo, sd,
				failed->why);
	}
	return 0;
}

/* ---------- manifests ---------- */

/* HEAD manifests/<reference>: whether it exists with our digest. */
static bool manifest_present(struct push_ctx *p, const char *repo, const char *reference,
			     const char *digest)
{
	char rest[300];
	snprintf(rest, sizeof(rest), "manifests/%s", reference);
	_cleanup_free_ char *url = client_url(p->c, repo, rest);
	struct oci_xfer x;
	xfer_init(&x, p->c, NULL, "HEAD", url);
	xfer_header(&x, OCI_ACCEPT_MANIFESTS);
	struct oci_err ignore = { { 0 } };
	bool ok = client_send(p->c, &x, "HEAD manifest", &ignore) == 0 && x.status == 200 &&
		  str_eq(x.h_digest, digest);
	xfer_release(&x);
	return ok;
}

static int put_manifest(struct push_ctx *p, const char *repo, const char *reference,
			const char *body, size_t len, const char *media_type, const char *digest)
{
	char rest[300], what[600], ct[300];
	snprintf(rest, sizeof(rest), "manifests/%s", reference);
	snprintf(what, sizeof(what), "%s/%s: manifest %s", p->c->host, repo, reference);
	_cleanup_free_ char *url = client_url(p->c, repo, rest);
	struct oci_xfer x;
	xfer_init(&x, p->c, NULL, "PUT", url);
	snprintf(ct, sizeof(ct), "Content-Type: %s", media_type);
	xfer_header(&x, ct);
	xfer_body_mem(&x, body, len);
	int r = client_send(p->c, &x, what, p->err);
	if (r == 0 && x.status != 201) {
		char desc[600];
		xfer_describe(&x, desc, sizeof(desc));
		r = oci_errf(p->err, x.status == 401 || x.status == 403 ? -EACCES : -EPROTO,
			     "%s: %s", what, desc);
	}
	if (r == 0 && x.h_digest && !str_eq(x.h_digest, digest)) {
		r = oci_errf(p->err, -EPROTO,
			     "%s: the registry stored the manifest as %.80s, not %s: refusing to "
			     "go on",
			     what, x.h_digest, digest);
	}
	xfer_release(&x);
	return r;
}

/* ---------- the whole push ---------- */

void oci_push_result_release(struct oci_push_result *r)
{
	for (size_t i = 0; i < r->n_pushed; i++) {
		free(r->pushed[i]);
	}
	for (size_t i = 0; i < r->n_tagged; i++) {
		free(r->tagged[i]);
	}
	free(r->pushed);
	free(r->tagged);
	memset(r, 0, sizeof(*r));
}

struct repo_target {
	const char *host;
	const char *repo;
	const char *mount_from;
};

static int push_blobs(struct push_ctx *p, const struct repo_target *t,
		      const struct oci_descriptor *blobs, size_t n, size_t n_config)
{
	struct blob_job *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		struct blob_job *j = &jobs[i];
		j->d = blobs[i];
		j->layer = i >= n_config;
		j->repo = t->repo;
		j->mount_from = t->mount_from;
		j->fd = -1;
		j->easy = curl_easy_init();
		uint64_t size;
		int fd = oci_layout_open_blob(p->l, j->d.digest, &size);
		if (!j->easy) {
			r = oci_errf(p->err, -ENOMEM, "cannot set up libcurl");
		} else if (fd < 0 || size != j->d.size) {
			r = oci_errf(p->err, -EINVAL,
				     "%s: blob %s is missing or has the wrong size; the image is "
				     "incomplete, nothing was pushed",
				     oci_layout_dir(p->l), j->d.digest);
		}
		if (fd >= 0) {
			j->fd = fd;
		}
	}
	if (r == 0) {
		r = run_jobs(p, jobs, n);
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].in_flight) {
			curl_multi_remove_handle(p->c->multi, jobs[i].easy);
		}
		xfer_release(&jobs[i].x);
		if (jobs[i].easy) {
			curl_easy_cleanup(jobs[i].easy);
		}
		if (jobs[i].fd >= 0) {
			close(jobs[i].fd);
		}
		free(jobs[i].session);
	}
	free(jobs);
	return r;
}

/* The repository named by the manifest's base.name annotation, when it lives on host. */
static const char *mount_source(const json_t *manifest, const char *host, const char *repo,
				struct oci_ref *scratch)
{
	const char *base = json_string_value(json_object_get(
		json_object_get(manifest, "annotations"), "org.opencontainers.image.base.name"));
	if (!base || oci_ref_parse(base, scratch, NULL) < 0 || !str_eq(scratch->host, host) ||
	    str_eq(scratch->repo, repo)) {
		return NULL;
	}
	return scratch->repo;
}

int oci_push(const struct oci_layout *l, const struct oci_descriptor *manifest,
	     const struct oci_ref *refs, size_t n_refs, const struct oci_registry_opts *o,
	     struct oci_push_result *res, struct oci_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!oci_mt_is_manifest(manifest->media_type)) {
		return oci_errf(err, -EINVAL, "%s is not an image manifest (%s)", manifest->digest,
				manifest->media_type);
	}
	_cleanup_free_ char *body = NULL;
	size_t len;
	int r = oci_layout_read_blob(l, manifest->digest, OCI_MANIFEST_MAX, &body, &len, err);
	if (r < 0) {
		return r;
	}
	json_error_t je;
	json_t *m = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	struct oci_descriptor *blobs = NULL;
	size_t n_blobs = 0;
	json_t *layers = json_object_get(m, "layers");
	if (!json_is_object(m) || !json_is_array(layers)) {
		json_decref(m);
		return oci_errf(err, -EINVAL, "manifest %s is not an image manifest",
				manifest->digest);
	}
	if (json_array_size(layers) > OCI_LAYERS_MAX) {
		size_t n = json_array_size(layers);
		json_decref(m);
		return oci_errf(err, -E2BIG, "manifest %s has %zu layers, more than the %d allowed",
				manifest->digest, n, OCI_LAYERS_MAX);
	}
	blobs = xcalloc(json_array_size(layers) + 1, sizeof(*blobs));
	if (oci_descriptor_parse(json_object_get(m, "config"), &blobs[0]) < 0) {
		r = oci_errf(err, -EINVAL, "manifest %s: bad config descriptor", manifest->digest);
	}
	n_blobs = 1;
	for (size_t i = 0; r == 0 && i < json_array_size(layers); i++) {
		struct oci_descriptor d;
		if (oci_descriptor_parse(json_array_get(layers, i), &d) < 0) {
			r = oci_errf(err, -EINVAL, "manifest %s: bad layer descriptor %zu",
				     manifest->digest, i);
			break;
		}
		bool dup = false;
		for (size_t k = 0; k < n_blobs; k++) {
			dup |= str_eq(blobs[k].digest, d.digest);
		}
		if (!dup) {
			blobs[n_blobs++] = d;
		}
	}
	if (r == 0) {
		/* What is uploaded: each distinct layer once. */
		r = oci_layers_check(blobs + 1, n_blobs - 1, manifest->digest, err);
	}
	memcpy(res->digest, manifest->digest, OCI_DIGEST_SIZE);

	/* One session per registry, kept for both phases. */
	const char **hosts = xcalloc(n_refs ? n_refs : 1, sizeof(char *));
	struct oci_client *clients = xcalloc(n_refs ? n_refs : 1, sizeof(*clients));
	size_t n_hosts = 0;
	struct oci_ref base_ref;
	for (size_t i = 0; r == 0 && i < n_refs; i++) {
		bool known = false;
		for (size_t h = 0; h < n_hosts; h++) {
			known |= str_eq(hosts[h], refs[i].host);
		}
		if (known) {
			continue;
		}
		/* Scopes: push to each repository of this registry, pull from a mount source. */
		char **scopes = NULL;
		size_t n_scopes = 0;
		for (size_t k = i; k < n_refs; k++) {
			if (!str_eq(refs[k].host, refs[i].host)) {
				continue;
			}
			scopes = xreallocarray(scopes, n_scopes + 2, sizeof(char *));
			scopes[n_scopes++] = xasprintf("repository:%s:pull,push", refs[k].repo);
			const char *src = mount_source(m, refs[i].host, refs[k].repo, &base_ref);
			if (src) {
				scopes[n_scopes++] = xasprintf("repository:%s:pull", src);
			}
		}
		hosts[n_hosts] = refs[i].host;
		r = client_open(&clients[n_hosts], refs[i].host, (const char *const *)scopes,
				n_scopes, o, err);
		n_hosts++;
		for (size_t k = 0; k < n_scopes; k++) {
			free(scopes[k]);
		}
		free(scopes);
	}

	/* Phase 1: in each repository, the blobs, then the manifest by digest. */
	for (size_t k = 0; r == 0 && k < n_refs; k++) {
		size_t h = 0;
		while (!str_eq(hosts[h], refs[k].host)) {
			h++;
		}
		bool seen = false;
		for (size_t q = 0; q < k; q++) {
			seen |= str_eq(refs[q].host, refs[k].host) &&
				str_eq(refs[q].repo, refs[k].repo);
		}
		if (seen) {
			continue;
		}
		struct push_ctx p = { l, &clients[h], err, res };
		struct repo_target t = { refs[k].host, refs[k].repo,
					 mount_source(m, refs[k].host, refs[k].repo, &base_ref) };
		r = push_blobs(&p, &t, blobs, n_blobs, 1);
		if (r == 0 &&
		    !manifest_present(&p, refs[k].repo, manifest->digest, manifest->digest)) {
			r = put_manifest(&p, refs[k].repo, manifest->digest, body, len,
					 manifest->media_type, manifest->digest);
		}
		if (r == 0) {
			res->pushed = xreallocarray(res->pushed, res->n_pushed + 1, sizeof(char *));
			res->pushed[res->n_pushed++] =
				xasprintf("%s/%s@%s", refs[k].host, refs[k].repo, manifest->digest);
			client_log(p.c, "%s/%s@%s: manifest pushed", refs[k].host, refs[k].repo,
				   manifest->digest);
		}
	}

	/* Phase 2: the tags, now that the image is complete in every repository. */
	for (size_t k = 0; r == 0 && k < n_refs; k++) {
		if (!refs[k].tag[0]) {
			continue;
		}
		size_t h = 0;
		while (!str_eq(hosts[h], refs[k].host)) {
			h++;
		}
		struct push_ctx p = { l, &clients[h], err, res };
		if (!manifest_present(&p, refs[k].repo, refs[k].tag, manifest->digest)) {
			r = put_manifest(&p, refs[k].repo, refs[k].tag, body, len,
					 manifest->media_type, manifest->digest);
		}
		if (r == 0) {
			res->tagged = xreallocarray(res->tagged, res->n_tagged + 1, sizeof(char *));
			res->tagged[res->n_tagged++] =
				xasprintf("%s/%s:%s", refs[k].host, refs[k].repo, refs[k].tag);
			client_log(p.c, "%s/%s:%s -> %s", refs[k].host, refs[k].repo, refs[k].tag,
				   manifest->digest);
		}
	}
	for (size_t h = 0; h < n_hosts; h++) {
		client_close(&clients[h]);
	}
	free(clients);
	free(hosts);
	free(blobs);
	json_decref(m);
	return r;
}
