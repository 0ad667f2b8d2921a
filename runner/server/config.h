/*
 * config.h - the configuration of `runner serve` (a YAML file; docs/server.md).
 *
 * Loading checks everything it can before the server starts, and collects every problem
 * with file:line:col: unknown keys (with a hint), types, durations, sizes, listen address,
 * and the rules that keep the server safe:
 *   - every repository has a webhook secret (inline or in a file); there is no "no secret,
 *     no check" mode, and secrets shorter than CONFIG_MIN_SECRET are refused;
 *   - a config file holding secrets inline, and every secret file it names, must not be
 *     readable by group or others (like the secrets file of `runner run`);
 *   - repository names are unique per forge (the payload names the repository);
 *   - the read side (API, pages, metrics) is not served to the network without a token:
 *     a `listen` address that is not loopback needs access.token (or token_file), unless
 *     access.public says, explicitly, that anyone who reaches the port may read run logs.
 *
 * The model lives in the config's arena; secret values are wiped by config_free().
 */
#ifndef RUNNER_SERVER_CONFIG_H
#define RUNNER_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct diag_list;

#define CONFIG_MAX_BYTES  (4u << 20)
#define CONFIG_MIN_SECRET 16
/* The longest a webhook secret rotation may last (previous_secret_expires), in days. */
#define CONFIG_MAX_ROTATION_DAYS 90
#define CONFIG_MAX_REPOS	 10000
/* Retention bounds. A delivery whose replay-guard entry is pruned runs again if it is
 * redelivered, so entries are kept at least as long as GitHub lets its users redeliver
 * (3 days on github.com, 7 on GitHub Enterprise Server). */
#define CONFIG_RETAIN_DEFAULT_MS	(90ull * 86400000)
#define CONFIG_RETAIN_DELIVERIES_MIN_MS (7ull * 86400000)
#define CONFIG_RETAIN_RUNS_MIN_MS	(86400000ull)
#define CONFIG_RETAIN_MAX_MS		(3650ull * 86400000)
/* Other bounds (docs/server.md, "Bounds"): no value may turn a protection off. */
#define CONFIG_MAX_BODY_MIN	     (1ull << 10)
#define CONFIG_MAX_BODY_MAX	     (1ull << 30)
#define CONFIG_MAX_INFLIGHT_MAX	     (16ull << 30)
#define CONFIG_HTTP_TIMEOUT_MIN_MS   1000ull
#define CONFIG_HTTP_TIMEOUT_MAX_MS   (5ull * 60000)
#define CONFIG_SHUTDOWN_GRACE_MAX_MS 3600000ull
#define CONFIG_MAX_QUEUED_MAX	     1000000u

enum forge {
	FORGE_GITHUB,
	FORGE_GITLAB,
	FORGE_GITEA,
};
#define FORGE_COUNT 3

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
};

/* Which events of a repository run pipelines. */
enum repo_events {
	EVENTS_PUSH = 1u << 0,	       /* pushes to branches */
	EVENTS_TAG = 1u << 1,	       /* pushed tags */
	EVENTS_PULL_REQUEST = 1u << 2, /* pull / merge requests */
};

/* A secret's value before a rotation, accepted until `until` (seconds since the epoch,
 * excluded), as `expires` says it in the file. value NULL: no rotation. */
struct config_previous {
	const char *value, *expires;
	int64_t until;
};

struct config_secret {
	const char *name, *value;
};

/* An accepted finding of the history scan (stages/gate.h's allow entry, without a path). */
struct config_allow {
	const char *id, *fingerprint; /* one of them */
	const char *reason, *expires;
};

struct repo_config {
	const char *name; /* as the forge spells it: owner/name, group/subgroup/project */
	const char *key;  /* file-system safe and unique: the data directory's name for it */
	enum forge forge;
	const char *secret; /* webhook secret (GitHub, Gitea) or token (GitLab) */
	/* During a rotation, the secret before `secret`, which the forge may still sign with. */
	struct config_previous previous_secret;
	const char *clone_url; /* never taken from payloads */
	const char *pipeline;  /* path in the repository; NULL: .runner.yml, then runner.yml */
	unsigned events;
	/* Fetch credentials: an HTTPS token (user + token), or an SSH key. */
	const char *username;
	const char *token;
	const char *ssh_key, *ssh_public_key, *ssh_passphrase;
	const char *ssh_host_key; /* "SHA256:..." fingerprint; required for SSH clone URLs */
	/* Commit statuses. api_url NULL: the forge's public default (GitHub, GitLab). */
	const char *api_url;
	const char *api_token;
	const char *status_context;
	/* Secrets for the pipelines of trusted events: inline ones and a secrets file (read
	 * again by each run; checked once at load). */
	struct config_secret *secrets;
	size_t n_secrets;
	const char *secrets_file;
	/* `history_allow`: findings of push history scans accepted (docs/server.md). */
	struct config_allow *history_allow;
	size_t n_history_allow;
	bool supersede;
};

struct server_config {
	struct arena *arena;
	const char *path;
	const char *listen_host;
	unsigned listen_port;	/* 0: any free port */
	const char *data_dir;	/* absolute */
	const char *public_url; /* base of links in statuses and notifications; may be NULL */
	enum log_level log_level;
	size_t max_body;
	size_t max_inflight;   /* request bodies buffered at once, all connections together */
	unsigned concurrency;  /* runs at once, all repositories together */
	unsigned jobs_per_run; /* stages at once within one run */
	unsigned max_attempts; /* starts of one job, counting restarts after a crash */
	unsigned max_queued;   /* runs waiting in the queue, all repositories together */
	unsigned max_connections;
	unsigned max_connections_per_ip; /* default: max_connections / 4, at least 1 */
	uint64_t connection_timeout_ms;
	uint64_t request_timeout_ms; /* whole requests, idle or not */
	uint64_t shutdown_grace_ms;
	uint64_t max_run_ms; /* a run is cancelled after this long */
	size_t min_free;     /* kept free under workspaces and records; 0: run.h's default */
	bool supersede;	     /* default for repositories */
	bool paused;	     /* accept and queue deliveries, start no runs (maintenance) */
	bool keep_failed_workspaces;
	/* Pull requests from forks. */
	bool untrusted_run;
	unsigned untrusted_concurrency; /* untrusted runs at once */
	unsigned untrusted_max_queued;	/* untrusted runs waiting in the queue */
	/* Security notifications (Slack-compatible incoming webhook). */
	const char *notify_url;
	/* Retries of outgoing calls (statuses, notifications). */
	unsigned retry_attempts;
	uint64_t retry_backoff_ms, retry_max_backoff_ms, http_timeout_ms;
	/* Retention (0: kept forever): finished runs (rows, outbox rows, run directories), and
	 * replay-guard entries whose run is finished or gone. */
	uint64_t retain_runs_ms, retain_deliveries_ms;
	/* The read side (access:). With a token, every GET but /healthz needs it (Bearer, or
	 * Basic with the token as password); without one, it is open: allowed on a loopback
	 * address, or elsewhere only with access.public. */
	const char *access_token;		      /* NULL: none */
	struct config_previous previous_access_token; /* during a rotation */
	bool access_public;
	bool public_metrics; /* /metrics without the token */
	struct repo_config *repos;
	size_t n_repos;
};

/*
 * Load and check the configuration. Returns 0 with *out set, or a negative errno with
 * diagnostics (-EINVAL: invalid; -EPERM: unsafe permissions; other: I/O).
 */
int config_load(const char *path, struct server_config **out, struct diag_list *dl);
/* The same from memory (tests, fuzzing); permission checks apply only to named files. */
int config_load_buffer(const char *name, const char *buf, size_t len, struct server_config **out,
		       struct diag_list *dl);
void config_free(struct server_config *c);

/*
 * What a reload cannot change, because it is set when the server starts listening or
 * opens its data: the keys (as the file spells them, comma-separated, into buf; those that
 * do not fit are left out) whose values differ between a and b. Returns how many differ.
 */
unsigned config_restart_only(const struct server_config *a, const struct server_config *b,
			     char *buf, size_t size);

/* Whether a rotation's previous value is accepted at `now`. */
bool config_previous_valid(const struct config_previous *p, int64_t now);

/* The secrets a delivery for r may be signed with at `now`: its secret, then its previous
 * one while the rotation lasts. Returns how many were stored in out (1 or 2). */
size_t repo_webhook_secrets(const struct repo_config *r, int64_t now, const char *out[2]);

/* The repository of that forge and name (case-insensitive), or NULL. */
const struct repo_config *config_find_repo(const struct server_config *c, enum forge f,
					   const char *name);

const char *forge_name(enum forge f);
int forge_from_name(const char *s, enum forge *out);
const char *log_level_name(enum log_level l);

/*
 * The data directory's name for a repository of that forge ("github-acme+webapp"): one
 * path component, whatever the name. Heap string.
 */
char *config_repo_key(enum forge f, const char *name);

#endif
