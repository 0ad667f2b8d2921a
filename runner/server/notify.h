/*
 * notify.h - the security notification sent when a gate blocks a run: a JSON body that
 * Slack-compatible incoming webhooks accept (`text` for every client, `blocks` for Slack's
 * layout), built from the run's report.json and nothing else.
 *
 * What goes in: repository, commit, ref, pipeline name, a link to the run, and the
 * blocking findings of the blocked stages (kind, rule, severity, file:line, message),
 * most severe first, at most NOTIFY_MAX_FINDINGS of them. Messages come already redacted
 * from the scanners; on top of that every string is masked with the repository's
 * secrets, cut to a bounded length, and escaped for Slack's mrkdwn. Logs, snippets and
 * anything else in the report never go in.
 */
#ifndef RUNNER_SERVER_NOTIFY_H
#define RUNNER_SERVER_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct mask;

#define NOTIFY_MAX_FINDINGS 20

struct notify_ctx {
	const char *repo;
	const char *sha;
	const char *ref;
	int64_t run;		 /* the run (job) id */
	const char *run_url;	 /* may be NULL */
	const struct mask *mask; /* may be NULL */
};

/*
 * Build the notification for a blocked run. Returns a heap JSON string, or NULL when the
 * report has no blocked stage (nothing to say).
 */
char *notify_security_body(const json_t *report, const struct notify_ctx *ctx);

/* Count of blocking findings by severity (critical, high, medium, low, info) of a report. */
void notify_count_findings(const json_t *report, uint64_t counts[5]);

/* Whether finding f of stage st (objects of report.json) is one of the blocking findings
 * that notify_count_findings counts and the notification lists. */
bool notify_finding_blocks(const json_t *st, const json_t *f);

#endif
