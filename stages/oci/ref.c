/*
 * ref.c - parsing image references (see ref.h for the grammar).
 */
#include "ref.h"

#include "util.h"

#include <ctype.h>
#include <stdio.h>

#include "banned.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: alnum+ (separator alnum+)*, separator = [._] | __ | -+ */
static bool component_valid(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1])) {
		return false;
	}
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		if (s[i] == '.') {
			j++;
		} else if (s[i] == '_') {
			j++;
			if (j < n && s[j] == '_') {
				j++;
			}
		} else if (s[i] == '-') {
			while (j < n && s[j] == '-') {
				j++;
			}
		} else {
			return false;
		}
		if (j >= n || !is_lower_alnum(s[j])) {
			return false;
		}
		i = j;
	}
	return true;
}

bool oci_repo_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > OCI_NAME_MAX) {
		return false;
	}
	const char *p = s;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_valid(p, n)) {
			return false;
		}
		if (!slash) {
			return true;
		}
		p = slash + 1;
	}
}

bool oci_tag_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > OCI_TAG_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool word = isalnum((unsigned char)c) || c == '_';
		if (!(word || (i > 0 && (c == '.' || c == '-')))) {
			return false;
		}
	}
	return true;
}

/* domain-component ('.' domain-component)* [':' port], or "[v6]" [':' port]. */
static bool host_valid(const char *s, size_t n)
{
	size_t i = 0, end = n;
	const char *colon = NULL;
	if (n == 0 || n > OCI_NAME_MAX) {
		return false;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1) {
			return false;
		}
		for (const char *p = s + 1; p < close; p++) {
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.') {
				return false;
			}
		}
		i = (size_t)(close - s) + 1;
		if (i == n) {
			return true;
		}
		colon = s + i;
		if (*colon != ':') {
			return false;
		}
	} else {
		for (size_t k = 0; k < n; k++) {
			if (s[k] == ':') {
				colon = s + k;
				break;
			}
		}
		end = colon ? (size_t)(colon - s) : n;
		/* Components of letters, digits and inner dashes, separated by single dots. */
		size_t start = 0;
		for (size_t k = 0; k <= end; k++) {
			if (k == end || s[k] == '.') {
				size_t len = k - start;
				if (len == 0 || s[start] == '-' || s[k - 1] == '-') {
					return false;
				}
				for (size_t m = start; m < k; m++) {
					if (!isalnum((unsigned char)s[m]) && s[m] != '-') {
						return false;
					}
				}
				start = k + 1;
			}
		}
	}
	if (colon) {
		const char *port = colon + 1;
		size_t plen = n - (size_t)(port - s);
		if (plen == 0 || plen > 5) {
			return false;
		}
		unsigned v = 0;
		for (size_t k = 0; k < plen; k++) {
			if (!isdigit((unsigned char)port[k])) {
				return false;
			}
			v = v * 10 + (unsigned)(port[k] - '0');
		}
		if (v == 0 || v > 65535) {
			return false;
		}
	}
	return true;
}

int oci_ref_parse(const char *s, struct oci_ref *out, const char **why)
{
	static const char *dummy;
	if (!why) {
		why = &dummy;
	}
	memset(out, 0, sizeof(*out));
	size_t len = s ? strlen(s) : 0;
	if (len == 0) {
		*why = "the reference is empty";
		return -EINVAL;
	}
	if (len > 2 * OCI_NAME_MAX + OCI_TAG_MAX + OCI_DIGEST_LEN) {
		*why = "the reference is too long";
		return -EINVAL;
	}
	_cleanup_free_ char *buf = xstrdup(s);
	char *at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (!oci_digest_valid(at + 1)) {
			*why = "the digest must be sha256: and 64 lower-case hex digits";
			return -EINVAL;
		}
		memcpy(out->digest, at + 1, OCI_DIGEST_SIZE);
	}
	/* A tag is after the last ':' that comes after the last '/'. */
	char *slash = strrchr(buf, '/');
	char *colon = strrchr(slash ? slash : buf, ':');
	if (colon) {
		*colon = '\0';
		if (!oci_tag_valid(colon + 1)) {
			*why = "a tag is 1 to 128 letters, digits, '_', '.' and '-', not starting "
			       "with "
			       "'.' or '-'";
			return -EINVAL;
		}
		memcpy(out->tag, colon + 1, strlen(colon + 1) + 1);
	}
	char *first = strchr(buf, '/');
	const char *host = "docker.io", *path = buf;
	bool hub = true;
	if (first) {
		size_t hl = (size_t)(first - buf);
		bool is_host = memchr(buf, '.', hl) || memchr(buf, ':', hl) ||
			       (hl == 9 && memcmp(buf, "localhost", 9) == 0);
		for (size_t k = 0; k < hl && !is_host; k++) {
			is_host = isupper((unsigned char)buf[k]);
		}
		if (is_host) {
			*first = '\0';
			host = buf;
			path = first + 1;
			hub = false;
			if (!host_valid(host, hl)) {
				*why = "the registry host is not a valid host[:port]";
				return -EINVAL;
			}
		}
	}
	if (!oci_repo_valid(path)) {
		*why = "a repository is lower-case letters and digits, separated by '/', '.', "
		       "'_', '__' or dashes";
		return -EINVAL;
	}
	int n;
	if (hub && !strchr(path, '/')) {
		n = snprintf(out->repo, sizeof(out->repo), "library/%s", path);
	} else {
		n = snprintf(out->repo, sizeof(out->repo), "%s", path);
	}
	if (n < 0 || (size_t)n >= sizeof(out->repo) ||
	    strlen(host) + 1 + (size_t)n > OCI_NAME_MAX) {
		*why = "the name is longer than 255 characters";
		return -EINVAL;
	}
	snprintf(out->host, sizeof(out->host), "%s", host);
	return 0;
}

bool oci_host_is_loopback(const char *host)
{
	size_t n = strlen(host);
	const char *colon = NULL;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		return close && (size_t)(close - host) == 4 && memcmp(host, "[::1]", 5) == 0;
	}
	colon = strchr(host, ':');
	if (colon) {
		n = (size_t)(colon - host);
	}
	if (n == 9 && memcmp(host, "localhost", 9) == 0) {
		return true;
	}
	/* 127.a.b.c with four decimal octets. */
	if (n < 9 || memcmp(host, "127.", 4) != 0) {
		return false;
	}
	unsigned parts = 1, digits = 0, v = 0;
	for (size_t i = 4; i < n; i++) {
		if (host[i] == '.') {
			if (digits == 0) {
				return false;
			}
			parts++;
			digits = 0;
			v = 0;
		} else if (isdigit((unsigned char)host[i]) && digits < 3) {
			v = v * 10 + (unsigned)(host[i] - '0');
			digits++;
			if (v > 255) {
				return false;
			}
		} else {
			return false;
		}
	}
	return parts == 3 && digits > 0; /* the three octets after "127." */
}

const char *oci_host_endpoint(const char *host)
{
	return str_eq(host, "docker.io") ? "registry-1.docker.io" : host;
}

char *oci_ref_name(const struct oci_ref *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", r->host, r->repo);
	return buf;
}
