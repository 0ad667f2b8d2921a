/*
 * forge.h - outgoing calls to the forges and the notification webhook: the commit status
 * APIs of GitHub, GitLab and Gitea (request building, no I/O), and one HTTP POST with
 * libcurl (the only I/O here).
 *
 *   GitHub  POST {api}/repos/{owner}/{repo}/statuses/{sha}        Authorization: Bearer
 *   Gitea   POST {api}/api/v1/repos/{owner}/{repo}/statuses/{sha} Authorization: token
 *   GitLab  POST {api}/api/v4/projects/{url-encoded path}/statuses/{sha}  PRIVATE-TOKEN
 *
 * Status states are given in GitHub's words (pending, success, failure, error) and
 * mapped to each forge's own (GitLab: running, failed, canceled).
 */
#ifndef RUNNER_SERVER_FORGE_H
#define RUNNER_SERVER_FORGE_H

#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FORGE_MAX_HEADERS 6

struct forge_request {
	char *url;
	char *body;
	char *headers[FORGE_MAX_HEADERS]; /* "Name: value", NULL-terminated */
};

/*
 * Build the commit status request for repository r. target_url may be NULL. Returns 0,
 * or -ENOENT when the repository has no API token (statuses are then not sent).
 */
int forge_status_request(const struct repo_config *r, const char *sha, const char *state,
			 const char *description, const char *target_url,
			 struct forge_request *out);

/* A POST of a JSON body to url (the security notification). */
void forge_json_request(const char *url, const char *body, struct forge_request *out);

void forge_request_release(struct forge_request *req);

/*
 * Send req (POST). Returns the final HTTP status (200 to 999) as soon as it came, also when
 * the rest of the answer did not (the call was stopped, timed out or cut after it: the
 * forge has taken the call, which is not to be made again), or -errno when no answer came
 * (connection refused, timeout; -EPROTO: no final status); err gets a short reason. Never
 * logs the URL's secrets.
 */
int forge_send(const struct forge_request *req, uint64_t timeout_ms, char *err, size_t errsize);
/* The same, abandoned as soon as *abort is true (checked at least once a second, as libcurl
 * calls its progress function): -ECANCELED when no final status had come by then, else
 * that status. */
int forge_send_until(const struct forge_request *req, uint64_t timeout_ms, const atomic_bool *abort,
		     char *err, size_t errsize);

#endif
