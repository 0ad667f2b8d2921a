/*
 * reply.h - parsers for what a registry (or its token service) sends back. All of it is
 * untrusted: these functions take a length, never read past it, refuse rather than
 * truncate a value that does not fit, and are fuzzed (fuzz/fuzz-www-authenticate.c,
 * fuzz-token.c, fuzz-registry-error.c, fuzz-location.c).
 *
 *   - WWW-Authenticate challenges (RFC 7235): the Bearer or Basic challenge and its
 *     realm, service, scope and error parameters;
 *   - token responses of the Bearer flow ({"token" | "access_token", "expires_in"});
 *   - JSON error bodies ({"errors": [{"code", "message", "detail"}]}) as one line of text;
 *   - Location headers, resolved against the request URL into an absolute http(s) URL;
 *   - Retry-After (seconds or an HTTP date) and the Range header of upload sessions.
 */
#ifndef RUNNER_OCI_REPLY_H
#define RUNNER_OCI_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on values taken from replies. */
#define OCI_REALM_MAX	2048
#define OCI_SERVICE_MAX 512
#define OCI_SCOPE_MAX	2048
#define OCI_TOKEN_MAX	(64u << 10)
#define OCI_URL_MAX	8192
#define OCI_RETRY_MAX_S 300

enum oci_auth_scheme {
	OCI_AUTH_NONE,
	OCI_AUTH_BASIC,
	OCI_AUTH_BEARER,
};

struct oci_challenge {
	enum oci_auth_scheme scheme;
	char realm[OCI_REALM_MAX];
	char service[OCI_SERVICE_MAX];
	char scope[OCI_SCOPE_MAX];
	char error[128]; /* e.g. "insufficient_scope", "invalid_token" */
};

/*
 * Parse a WWW-Authenticate header value (len bytes). When it holds several challenges, a
 * Bearer challenge wins over Basic; other schemes are ignored. Returns 0, -ENOENT (no
 * Basic or Bearer challenge), -EINVAL (malformed) or -E2BIG (a value over its cap).
 */
int oci_parse_challenge(const char *h, size_t len, struct oci_challenge *out);

/*
 * Parse a token response. *token (heap, caller frees) is a non-empty string of visible
 * ASCII at most OCI_TOKEN_MAX bytes long; *expires_in is in seconds (60 when absent or
 * smaller, at most one day). Returns 0 or -EINVAL.
 */
int oci_parse_token(const char *body, size_t len, char **token, int64_t *expires_in);

/*
 * Turn a registry error body into one line ("NAME_UNKNOWN: repository name not known to
 * registry; ..."), printable ASCII only, at most size - 1 bytes (cut with "..."). Returns
 * the number of errors found, or -EINVAL when the body is not such a document.
 */
int oci_parse_errors(const char *body, size_t len, char *out, size_t size);

/*
 * Resolve a Location header (len bytes) against the absolute URL base. The result is an
 * absolute http or https URL of visible ASCII without user information or fragment, at
 * most OCI_URL_MAX bytes. *out is heap (caller frees). Returns 0 or -EINVAL.
 */
int oci_resolve_location(const char *base, const char *loc, size_t len, char **out);

/* "scheme://host[:port]" of an absolute URL, with the default port made explicit and the
 * scheme and host lower-cased. Returns 0 or -EINVAL. */
int oci_url_origin(const char *url, char *out, size_t size);
bool oci_url_same_origin(const char *a, const char *b);

/*
 * Retry-After: delta seconds or an HTTP date (relative to now, seconds since the epoch).
 * *seconds is capped at OCI_RETRY_MAX_S. Returns 0 or -EINVAL.
 */
int oci_parse_retry_after(const char *v, int64_t now, unsigned *seconds);

/* Range header of an upload session, "0-<last byte>" (some registries write "bytes=0-N").
 * Returns 0 with *last set, or -EINVAL. */
int oci_parse_upload_range(const char *v, uint64_t *last);

#endif
