/*
 * ref.h - image references: `host[:port]/path[:tag][@sha256:...]`, by the grammar of the
 * distribution project (lower-case path components joined by `.`, `_`, `__` or dashes;
 * tags of at most 128 word characters, dots and dashes; at most 255 characters of name).
 *
 * A first component counts as the registry host when it contains a `.` or a `:`, or is
 * `localhost`; otherwise the host is docker.io (and a single component gets `library/`),
 * as Docker does. References come from pipeline files, the command line and registry
 * replies; parsing never reads past the string and never accepts what the grammar does
 * not, so the parts can be put into URLs without escaping.
 */
#ifndef RUNNER_OCI_REF_H
#define RUNNER_OCI_REF_H

#include "digest.h"

#include <stdbool.h>
#include <stddef.h>

#define OCI_NAME_MAX 255
#define OCI_TAG_MAX  128

struct oci_ref {
	char host[OCI_NAME_MAX + 1];  /* "127.0.0.1:5000", "ghcr.io", "docker.io" */
	char repo[OCI_NAME_MAX + 1];  /* "acme/webapp" */
	char tag[OCI_TAG_MAX + 1];    /* "" when absent */
	char digest[OCI_DIGEST_SIZE]; /* "" when absent */
};

/*
 * Parse s into *out. Returns 0, or -EINVAL with *why (static text) saying what is wrong.
 */
int oci_ref_parse(const char *s, struct oci_ref *out, const char **why);

/* Whether s is a valid repository path ("acme/webapp") / tag. */
bool oci_repo_valid(const char *s);
bool oci_tag_valid(const char *s);

/*
 * Whether host (with an optional port) is this machine: localhost, 127.0.0.0/8 or [::1].
 * Only such registries, and ones the user names as insecure, may be reached over plain
 * HTTP.
 */
bool oci_host_is_loopback(const char *host);

/* The host to connect to: registry-1.docker.io for docker.io, else host itself. */
const char *oci_host_endpoint(const char *host);

/* "host/repo" into buf (at least 2 * OCI_NAME_MAX + 2 bytes). Returns buf. */
char *oci_ref_name(const struct oci_ref *r, char *buf, size_t size);

#endif
