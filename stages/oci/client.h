/*
 * client.h - private to the oci library: one registry's HTTP session (push.c, pull.c).
 *
 * A client talks to one registry host. It finds the scheme (HTTPS, or HTTP where that is
 * allowed), learns from the /v2/ ping how to authenticate, keeps the Bearer token for the
 * session's scopes until it expires, and runs requests either one at a time (a reused easy
 * handle: connections are kept) or many at once through a curl multi handle (the blob
 * transfers; its connection pool holds at most `jobs` connections to the registry).
 *
 * A request is a struct oci_xfer: the method, URL and body going out, and the status,
 * selected headers and a capped body (or a blob sink) coming back.
 */
#ifndef RUNNER_OCI_CLIENT_H
#define RUNNER_OCI_CLIENT_H

#include "layout.h"
#include "registry.h"
#include "reply.h"

#include "sbuf.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

struct oci_err;
struct mask;

/* Small replies (manifests, errors, tokens) are read into memory up to this size. */
#define OCI_REPLY_MAX  OCI_MANIFEST_MAX
#define OCI_HEADER_MAX (16u << 10)

#define OCI_ACCEPT_MANIFESTS \
	"Accept: " OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " DOCKER_MT_MANIFEST ", " DOCKER_MT_LIST

struct oci_xfer {
	struct oci_client *c;
	CURL *easy;
	struct curl_slist *headers;	 /* the request's own */
	struct curl_slist *sent_headers; /* with credentials, as last armed */
	char *url;
	const char *method;
	/* request body: memory, or a range of a file */
	const char *mem;
	size_t mem_len;
	int fd;
	uint64_t off, len, pos;
	bool has_body;
	/* response */
	CURLcode cc;
	long status;
	char errbuf[CURL_ERROR_SIZE];
	struct sbuf body;
	bool body_too_big;
	struct oci_blob_writer *sink; /* GET of a blob: streamed here, at most sink_max bytes */
	uint64_t sink_max, sink_n;
	char *h_location, *h_digest, *h_auth, *h_range, *h_retry_after, *h_content_type;
	bool auth_retried;
	bool no_auth; /* never send credentials, never re-authenticate (the ping) */
	void *job;    /* the owner, for the multi loop */
};

struct oci_client {
	unsigned small_s; /* whole-request timeout of requests without a blob */
	const struct oci_registry_opts *o;
	char host[OCI_NAME_MAX + 1];
	char base[OCI_NAME_MAX + 16]; /* "https://host:port" */
	bool http_allowed;
	CURL *sync;   /* for requests made one at a time */
	CURLM *multi; /* for the parallel blob transfers */
	struct mask *mask;
	/* authentication */
	enum oci_auth_scheme scheme;
	char *basic;			/* base64 of user:password */
	struct oci_challenge challenge; /* the Bearer challenge of the ping */
	char **scopes;
	size_t n_scopes;
	char *token;
	uint64_t token_expires; /* monotonic ms */
	unsigned jobs, retries, backoff_ms, stall_s;
	uint64_t chunk;
};

/* Open a session with host: find the scheme, ping /v2/, authenticate for scopes (e.g.
 * "repository:acme/app:pull,push"). Returns 0 or -errno with err set. */
int client_open(struct oci_client *c, const char *host, const char *const *scopes, size_t n_scopes,
		const struct oci_registry_opts *o, struct oci_err *err);
void client_close(struct oci_client *c);

/* Emit a log line (printf-style, masked). */
void client_log(struct oci_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepare x for `method url` on easy (the sync handle when NULL). Accept and
 * Content-Type may be NULL; the Authorization header is added when url is the
 * registry's own origin. */
void xfer_init(struct oci_xfer *x, struct oci_client *c, CURL *easy, const char *method,
	       const char *url);
void xfer_header(struct oci_xfer *x, const char *line);
void xfer_body_mem(struct oci_xfer *x, const char *data, size_t len);
void xfer_body_file(struct oci_xfer *x, int fd, uint64_t off, uint64_t len);
/* Finish setting up (auth header, body callbacks); call before performing. */
void xfer_arm(struct oci_xfer *x);
/* Reset the response part so that the same request can be sent again. */
void xfer_reset_response(struct oci_xfer *x);
void xfer_release(struct oci_xfer *x);

/*
 * Perform x on the sync handle, with the retry policy: a 401 leads to one
 * re-authentication; connection errors, 408, 429 and 5xx are retried with backoff. The
 * final response is left in x. Returns 0 when a response arrived (whatever its status),
 * or -EIO (no response) with err set.
 */
int client_send(struct oci_client *c, struct oci_xfer *x, const char *what, struct oci_err *err);

/* Add x (armed) to the multi handle; it comes back from client_multi_done(). */
void client_multi_add(struct oci_client *c, struct oci_xfer *x);
/*
 * Let the multi handle work, then hand out the transfers that ended, one per call: the
 * handle is removed, x->cc and x->status are set. NULL when no other one has ended.
 * Call client_multi_wait() when it returns NULL.
 */
struct oci_xfer *client_multi_done(struct oci_client *c);
/* Wait for activity on the transfers, at most timeout_ms. */
void client_multi_wait(struct oci_client *c, int timeout_ms);

/* Whether the outcome of x may be retried (connection trouble, 408, 429, 5xx). */
bool xfer_retryable(const struct oci_xfer *x);
/* Delay before attempt number `attempt` (1-based) of a retry, honouring Retry-After. */
uint64_t client_backoff_ms(const struct oci_client *c, const struct oci_xfer *x, unsigned attempt);

/*
 * After a 401 on x: re-authenticate from its challenge (a new token; a scope the
 * registry asks for is added). Returns 0 when the request may be sent again, or
 * -EACCES with err set.
 */
int client_reauth(struct oci_client *c, const struct oci_xfer *x, struct oci_err *err);

/* A one-line description of a failed response: status and the registry's error text. */
void xfer_describe(const struct oci_xfer *x, char *buf, size_t size);

/* "https://host/v2/<repo>/<rest>" (heap). */
char *client_url(const struct oci_client *c, const char *repo, const char *rest);

/* Whether a registry may send a transfer from URL `from` on to `to` (a Location: a
 * redirect, an upload session): never from HTTPS to plain HTTP, and plain HTTP only to a
 * host that is loopback or named insecure (image data is not sent in clear text to a host
 * the user did not name). */
bool client_location_ok(const struct oci_client *c, const char *from, const char *to);

/* Human-readable size ("12.3 MiB"). */
char *format_bytes(uint64_t n, char *buf, size_t size);

#endif
