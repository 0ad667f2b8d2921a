/*
 * pull.c - fetching an image pinned by digest into a layout (for a build's `base`).
 *
 * The manifest (and, for an index, the one for the wanted platform) is fetched into
 * memory, capped, and checked against its digest before anything in it is believed; the
 * config and every layer are streamed into the layout and kept only when their digest
 * and size match the manifest. Layers go in parallel on the client's multi handle; a
 * redirect (to a storage backend) is followed by hand, without credentials when it
 * leaves the registry's origin, and never from HTTPS to HTTP.
 */
#include "client.h"

#include "err.h"
#include "index.h"
#include "util.h"

#include <stdio.h>

#include "banned.h"

#define MAX_REDIRECTS 5

void oci_pulled_release(struct oci_pulled *p)
{
	json_decref(p->manifest);
	json_decref(p->config);
	memset(p, 0, sizeof(*p));
}

/* GET url into memory (cap max), following redirects by hand. */
static int get_small(struct oci_client *c, const char *url, const char *accept, size_t max,
		     const char *what, struct oci_xfer *x, struct oci_err *err)
{
	_cleanup_free_ char *cur = xstrdup(url);
	for (int hops = 0;; hops++) {
		xfer_init(x, c, NULL, "GET", cur);
		if (accept) {
			xfer_header(x, accept);
		}
		int r = client_send(c, x, what, err);
		if (r < 0) {
			xfer_release(x);
			return r;
		}
		if (x->status >= 300 && x->status < 400 && x->h_location && hops < MAX_REDIRECTS) {
			char *next = NULL;
			if (oci_resolve_location(cur, x->h_location, strlen(x->h_location), &next) <
				    0 ||
			    !client_location_ok(c, cur, next)) {
				free(next);
				xfer_release(x);
				return oci_errf(err, -EPROTO, "%s: refused redirect", what);
			}
			free(cur);
			cur = next;
			xfer_release(x);
			continue;
		}
		if (x->status != 200) {
			char desc[600];
			xfer_describe(x, desc, sizeof(desc));
			int code = x->status == 401 || x->status == 403 ? -EACCES : -EPROTO;
			xfer_release(x);
			return oci_errf(err, code, "%s: %s", what, desc);
		}
		if (x->body.len > max) {
			xfer_release(x);
			return oci_errf(err, -EPROTO, "%s: larger than %zu bytes", what, max);
		}
		return 0;
	}
}

/* Fetch manifests/<digest> and check it. On success *out holds the parsed document and
 * body/len the exact bytes (heap). */
static int get_manifest(struct oci_client *c, const char *repo, const char *digest, json_t **out,
			char **body, size_t *len, char *media_type, size_t mt_size,
			struct oci_err *err)
{
	char rest[120], what[700];
	snprintf(rest, sizeof(rest), "manifests/%s", digest);
	snprintf(what, sizeof(what), "%s/%s@%s", c->host, repo, digest);
	_cleanup_free_ char *url = client_url(c, repo, rest);
	struct oci_xfer x;
	int r = get_small(c, url, OCI_ACCEPT_MANIFESTS, OCI_MANIFEST_MAX, what, &x, err);
	if (r < 0) {
		return r;
	}
	char actual[OCI_DIGEST_SIZE];
	oci_digest_buffer(x.body.data, x.body.len, actual);
	if (!str_eq(actual, digest)) {
		xfer_release(&x);
		return oci_errf(err, -EPROTO, "%s: the registry sent a manifest with digest %s",
				what, actual);
	}
	json_error_t je;
	json_t *j = json_loadb(x.body.data, x.body.len, JSON_REJECT_DUPLICATES, &je);
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (!mt && x.h_content_type) {
		mt = x.h_content_type;
	}
	if (!json_is_object(j) || !mt || !(oci_mt_is_manifest(mt) || oci_mt_is_index(mt))) {
		json_decref(j);
		xfer_release(&x);
		return oci_errf(err, -EPROTO, "%s: not an image manifest or index", what);
	}
	snprintf(media_type, mt_size, "%s", mt);
	*out = j;
	*len = x.body.len;
	*body = sbuf_steal(&x.body);
	xfer_release(&x);
	return 0;
}

struct layer_job {
	struct oci_descriptor d;
	char *url;
	struct oci_blob_writer *w;
	struct oci_xfer x;
	CURL *easy;
	unsigned attempt, hops;
	uint64_t wake;
	bool in_flight, done, failed;
	char why[600];
};

static void layer_start(struct oci_client *c, struct oci_layout *l, struct layer_job *j)
{
	xfer_release(&j->x);
	oci_blob_abort(j->w);
	j->w = NULL;
	if (oci_blob_begin(l, &j->w) < 0) {
		snprintf(j->why, sizeof(j->why), "cannot write into the layout");
		j->failed = true;
		return;
	}
	xfer_init(&j->x, c, j->easy, "GET", j->url);
	j->x.sink = j->w;
	j->x.sink_max = j->d.size;
	j->x.job = j;
	xfer_arm(&j->x);
	client_multi_add(c, &j->x);
	j->in_flight = true;
}

static void layer_done(struct oci_client *c, struct oci_layout *l, struct layer_job *j,
		       const char *first_url)
{
	struct oci_xfer *x = &j->x;
	if (x->cc == CURLE_OK && x->status == 401 && !x->auth_retried) {
		struct oci_err e = { { 0 } };
		if (client_reauth(c, x, &e) < 0) {
			snprintf(j->why, sizeof(j->why), "%.590s", e.msg);
			j->failed = true;
			return;
		}
		layer_start(c, l, j);
		j->x.auth_retried = true;
		return;
	}
	if (x->cc == CURLE_OK && x->status >= 300 && x->status < 400 && x->h_location) {
		char *next = NULL;
		if (j->hops++ >= MAX_REDIRECTS ||
		    oci_resolve_location(j->url, x->h_location, strlen(x->h_location), &next) < 0 ||
		    !client_location_ok(c, j->url, next)) {
			free(next);
			snprintf(j->why, sizeof(j->why), "refused redirect");
			j->failed = true;
			return;
		}
		free(j->url);
		j->url = next;
		layer_start(c, l, j);
		return;
	}
	if (x->cc == CURLE_OK && x->status == 200 && j->x.sink_n == j->d.size) {
		struct oci_descriptor got;
		struct oci_blob_writer *w = j->w;
		j->w = NULL;
		int r = oci_blob_commit(w, j->d.digest, &got);
		if (r == 0) {
			j->done = true;
			return;
		}
		snprintf(j->why, sizeof(j->why), "the content does not match its digest");
		j->failed = true;
		return;
	}
	char desc[600];
	xfer_describe(x, desc, sizeof(desc));
	if (x->cc == CURLE_WRITE_ERROR && x->body_too_big) {
		snprintf(j->why, sizeof(j->why), "larger than the manifest says (%llu bytes)",
			 (unsigned long long)j->d.size);
		j->failed = true;
		return;
	}
	snprintf(j->why, sizeof(j->why), "%s", desc);
	if ((xfer_retryable(x) || (x->cc == CURLE_OK && x->status == 200)) &&
	    j->attempt++ < c->retries) {
		j->wake = now_mono_ms() + client_backoff_ms(c, x, j->attempt);
		free(j->url);
		j->url = xstrdup(first_url);
		j->hops = 0;
		return;
	}
	j->failed = true;
}

static int pull_layers(struct oci_client *c, const char *repo, struct oci_layout *l,
		       const struct oci_descriptor *ds, size_t n, struct oci_err *err)
{
	struct layer_job *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	char **first = xcalloc(n ? n : 1, sizeof(char *));
	size_t next = 0, active = 0, ended = 0;
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		char rest[120];
		snprintf(rest, sizeof(rest), "blobs/%s", ds[i].digest);
		jobs[i].d = ds[i];
		first[i] = client_url(c, repo, rest);
		jobs[i].url = xstrdup(first[i]);
		jobs[i].easy = curl_easy_init();
		jobs[i].x.fd = -1;
		if (oci_layout_has_blob(l, ds[i].digest, ds[i].size)) {
			jobs[i].done = true;
		}
	}
	struct layer_job *failed = NULL;
	while (ended < n && !failed) {
		uint64_t now = now_mono_ms();
		while (next < n && active < c->jobs) {
			struct layer_job *j = &jobs[next++];
			if (!j->done) {
				layer_start(c, l, j);
				active++;
			} else {
				ended++;
			}
		}
		for (size_t i = 0; i < next; i++) {
			struct layer_job *j = &jobs[i];
			if (!j->in_flight && !j->done && !j->failed && j->wake && now >= j->wake) {
				j->wake = 0;
				layer_start(c, l, j);
			}
		}
		struct oci_xfer *x;
		while ((x = client_multi_done(c))) {
			struct layer_job *j = x->job;
			j->in_flight = false;
			layer_done(c, l, j, first[j - jobs]);
			if (j->done || j->failed) {
				active--;
				ended++;
				if (j->failed) {
					failed = j;
				} else {
					char size[32];
					client_log(c, "%s/%s: layer %.19s (%s) fetched", c->host,
						   repo, j->d.digest,
						   format_bytes(j->d.size, size, sizeof(size)));
				}
			}
		}
		int timeout = 1000;
		now = now_mono_ms();
		for (size_t i = 0; i < next; i++) {
			if (jobs[i].wake) {
				timeout = (int)MIN((uint64_t)timeout,
						   jobs[i].wake > now ? jobs[i].wake - now : 0);
			}
		}
		if (ended < n && !failed) {
			client_multi_wait(c, timeout);
		}
	}
	if (failed) {
		r = oci_errf(err, strstr(failed->why, "digest") ? -EPROTO : -EIO,
			     "%s/%s: layer %s: %s", c->host, repo, failed->d.digest, failed->why);
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].in_flight) {
			curl_multi_remove_handle(c->multi, jobs[i].easy);
		}
		xfer_release(&jobs[i].x);
		oci_blob_abort(jobs[i].w);
		if (jobs[i].easy) {
			curl_easy_cleanup(jobs[i].easy);
		}
		free(jobs[i].url);
		free(first[i]);
	}
	free(first);
	free(jobs);
	return r;
}

int oci_pull(const struct oci_ref *ref, const char *platform, struct oci_layout *l,
	     const struct oci_registry_opts *o, struct oci_pulled *out, struct oci_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!ref->digest[0]) {
		return oci_errf(err, -EINVAL, "%s/%s: a base image must be pinned by digest",
				ref->host, ref->repo);
	}
	char scope[OCI_NAME_MAX + 32];
	snprintf(scope, sizeof(scope), "repository:%s:pull", ref->repo);
	const char *scopes[] = { scope };
	struct oci_client c;
	int r = client_open(&c, ref->host, scopes, 1, o, err);
	json_t *m = NULL;
	char *body = NULL;
	size_t len = 0;
	char mt[256];
	char digest[OCI_DIGEST_SIZE];
	memcpy(digest, ref->digest, OCI_DIGEST_SIZE);
	if (r == 0) {
		r = get_manifest(&c, ref->repo, digest, &m, &body, &len, mt, sizeof(mt), err);
	}
	if (r == 0 && oci_mt_is_index(mt)) {
		struct oci_descriptor d;
		char what[700];
		snprintf(what, sizeof(what), "%s/%s@%s", ref->host, ref->repo, ref->digest);
		r = oci_index_select(m, platform, &d, what, err);
		json_decref(m);
		m = NULL;
		free(body);
		body = NULL;
		if (r == 0) {
			memcpy(digest, d.digest, OCI_DIGEST_SIZE);
			r = get_manifest(&c, ref->repo, digest, &m, &body, &len, mt, sizeof(mt),
					 err);
			out->from_index = r == 0;
			/* The entry said "manifest" of this size; the document must agree. */
			if (r == 0 && !oci_mt_is_manifest(mt)) {
				r = oci_errf(err, -EPROTO, "%s: the index points at another index",
					     what);
			}
			if (r == 0 && len != d.size) {
				r = oci_errf(err, -EPROTO,
					     "%s: manifest %s is not the size the index says", what,
					     digest);
			}
		}
	}
	struct oci_descriptor cfg;
	json_t *layers = NULL;
	if (r == 0) {
		layers = json_object_get(m, "layers");
		if (oci_descriptor_parse(json_object_get(m, "config"), &cfg) < 0 ||
		    !json_is_array(layers) || cfg.size > OCI_CONFIG_MAX) {
			r = oci_errf(err, -EPROTO, "%s/%s@%s: not a valid image manifest",
				     ref->host, ref->repo, digest);
		}
	}
	struct oci_descriptor *ds = NULL;
	size_t n = 0;
	if (r == 0) {
		ds = xcalloc(json_array_size(layers) + 1, sizeof(*ds));
		for (size_t i = 0; r == 0 && i < json_array_size(layers); i++) {
			if (oci_descriptor_parse(json_array_get(layers, i), &ds[n]) < 0) {
				r = oci_errf(err, -EPROTO, "%s/%s@%s: bad layer descriptor",
					     ref->host, ref->repo, digest);
			}
			n++;
		}
	}
	if (r == 0) {
		char what[700];
		snprintf(what, sizeof(what), "%s/%s@%s", ref->host, ref->repo, digest);
		r = oci_layers_check(ds, n, what, err);
	}
	/* The config, in memory and in the layout. */
	if (r == 0) {
		char rest[120], what[700];
		snprintf(rest, sizeof(rest), "blobs/%s", cfg.digest);
		snprintf(what, sizeof(what), "%s/%s: config %s", ref->host, ref->repo, cfg.digest);
		_cleanup_free_ char *url = client_url(&c, ref->repo, rest);
		struct oci_xfer x;
		r = get_small(&c, url, NULL, OCI_CONFIG_MAX, what, &x, err);
		if (r == 0) {
			struct oci_descriptor got;
			char actual[OCI_DIGEST_SIZE];
			oci_digest_buffer(x.body.data, x.body.len, actual);
			json_error_t je;
			if (!str_eq(actual, cfg.digest) || x.body.len != cfg.size) {
				r = oci_errf(err, -EPROTO, "%s: does not match its digest", what);
			} else if (!(out->config = json_loadb(x.body.data, x.body.len,
							      JSON_REJECT_DUPLICATES, &je)) ||
				   !json_is_object(out->config)) {
				r = oci_errf(err, -EPROTO, "%s: not a JSON object", what);
			} else {
				r = oci_layout_put_blob(l, x.body.data, x.body.len, &got);
			}
			xfer_release(&x);
		}
	}
	if (r == 0) {
		r = pull_layers(&c, ref->repo, l, ds, n, err);
	}
	if (r == 0) {
		struct oci_descriptor got;
		r = oci_layout_put_blob(l, body, len, &got);
		snprintf(out->desc.media_type, sizeof(out->desc.media_type), "%s", mt);
		memcpy(out->desc.digest, digest, OCI_DIGEST_SIZE);
		out->desc.size = len;
		out->manifest = json_incref(m);
	}
	free(ds);
	free(body);
	json_decref(m);
	client_close(&c);
	if (r < 0) {
		oci_pulled_release(out);
	}
	return r;
}
