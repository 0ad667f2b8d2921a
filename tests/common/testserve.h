/*
 * testserve.h - helpers for the tests of `runner serve`: a real server process on
 * 127.0.0.1 (free port, stopped at the end, killed with the test process if it dies), an
 * HTTP client, signed deliveries, real git repositories made with the git command, and a
 * small recording HTTP server that stands in for the forge status APIs and the
 * notification webhook (no real forge can run here), one that answers and holds the end
 * of its answer, and git's own smart HTTP server behind HTTP basic authentication, to
 * fetch from over HTTP with credentials.
 */
#ifndef RUNNER_TESTSERVE_H
#define RUNNER_TESTSERVE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- the server process ---- */

struct ts_server {
	pid_t pid;
	char *dir;    /* holds server.yml, the address file and the log */
	char *config; /* path of server.yml */
	char *addr;   /* HOST:PORT */
	char *log;    /* path of the server's stderr */
};

/* Write config (YAML) to dir/server.yml (mode 0600) and start `runner serve` on it; wait
 * until it listens. Fails the test if it does not. */
void ts_start(struct ts_server *s, const char *dir, const char *config);
/* Replace dir/server.yml with config (mode 0600, renamed into place) and send SIGHUP. */
void ts_reload(struct ts_server *s, const char *config);
/* How many times needle is in the server's log. */
size_t ts_log_count(const struct ts_server *s, const char *needle);
/* Wait until the server's log has needle exactly n times (fails after timeout_s, or
 * when it has more). */
void ts_wait_log(const struct ts_server *s, const char *needle, size_t n, double timeout_s);
/* Start again with the same configuration (after ts_kill). */
void ts_restart(struct ts_server *s);
/* SIGTERM and wait (SIGKILL after timeout_s). Returns the exit status. */
int ts_stop(struct ts_server *s, double timeout_s);
/* The same with signal sig instead of SIGTERM. */
int ts_stop_with(struct ts_server *s, int sig, double timeout_s);
/* SIGKILL and reap. */
void ts_kill(struct ts_server *s);
void ts_release(struct ts_server *s);

/* ---- HTTP client ---- */

struct ts_response {
	long status; /* 0: no response */
	char *body;
};

struct ts_response ts_post(const char *url, const char *const *headers, const char *body,
			   size_t len);
struct ts_response ts_get(const char *url);
/* GET with request headers ("Name: value"; NULL-terminated); the response's header lines
 * go to *resp_headers (caller frees) unless it is NULL. */
struct ts_response ts_get_with(const char *url, const char *const *headers, char **resp_headers);
/* An Authorization header value that ts_get, ts_run and ts_wait_run send from now on
 * (NULL: none). Deliveries never send it. */
void ts_client_auth(const char *authorization);
void ts_response_free(struct ts_response *r);

/* POST a GitHub/Gitea/GitLab delivery to http://addr/hooks/<forge>, signed with secret
 * (NULL: unsigned); forge may be "github/owner/name" (the per-repository URL). */
struct ts_response ts_deliver(const char *addr, const char *forge, const char *event,
			      const char *delivery, const char *secret, const char *body);

/* GET http://addr/api/runs/<id> until its state is final (or the timeout): the run. */
json_t *ts_wait_run(const char *addr, long id, double timeout_s);
/* GET http://addr/api/runs/<id> once. */
json_t *ts_run(const char *addr, long id);

/* ---- payloads ---- */

/* Load tests/fixtures/webhooks/<rel> as JSON. */
json_t *ts_payload(const char *rel);
/* Set a string at a dotted path of objects (creating objects on the way). */
void ts_set(json_t *root, const char *path, const char *value);
char *ts_dump(json_t *root);

/* ---- git ---- */

/* Run a shell command line with printf-style arguments; fails the test on non-zero. */
void ts_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Output of a shell command (trimmed). Caller frees. */
char *ts_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A new repository at path with one commit holding .runner.yml = pipeline; returns its sha. */
char *ts_git_init(const char *path, const char *pipeline);
/* Write file (relative) with content, commit on the current branch; returns the sha. */
char *ts_git_commit(const char *repo, const char *file, const char *content);

/* ---- recording HTTP server (stand-in for forge APIs and the notification webhook) ---- */

struct ts_recorder;

/* Listen on 127.0.0.1 (free port); the first fail_first requests get 500, then 201. */
struct ts_recorder *ts_recorder_start(unsigned fail_first);
const char *ts_recorder_url(struct ts_recorder *r);
size_t ts_recorder_count(struct ts_recorder *r);
/* Request i: {"method","url","body","authorization","private_token"}. Caller decrefs. */
json_t *ts_recorder_get(struct ts_recorder *r, size_t i);
/* Wait until at least n requests arrived (or the timeout). Returns the count. */
size_t ts_recorder_wait(struct ts_recorder *r, size_t n, double timeout_s);
/* hold: requests are recorded but not answered until it is released (a forge that takes a
 * call and never answers); false: they are answered again, the held ones at once. */
void ts_recorder_hold(struct ts_recorder *r, bool hold);
void ts_recorder_stop(struct ts_recorder *r);

/* ---- a server that answers and then holds the rest of its answer ---- */

struct ts_halfans;

/*
 * Listen on 127.0.0.1 (free port). Each request (one per connection) is read whole, then
 * answered with the status line of code and headers with a Content-Length, and of the
 * body all but its last byte, which is held until ts_halfans_stop: a forge that has taken
 * the call and said so, whose answer has not ended yet. The body sent before the hold is
 * larger than the kernel's socket buffers can hold, so that once it is all written the
 * client has read the status line and the headers (no timing: byte counts).
 */
struct ts_halfans *ts_halfans_start(unsigned code);
const char *ts_halfans_url(struct ts_halfans *h);
/* Requests read so far. */
unsigned ts_halfans_requests(struct ts_halfans *h);
/* Wait until n answers are held (their headers read by the client), or the timeout.
 * Returns how many are. */
unsigned ts_halfans_wait_held(struct ts_halfans *h, unsigned n, double timeout_s);
void ts_halfans_stop(struct ts_halfans *h);

/* ---- git smart HTTP: git http-backend (CGI) behind HTTP basic authentication ---- */

struct MHD_Daemon;

struct ts_githttp {
	struct MHD_Daemon *d;
	char *root;		    /* GIT_PROJECT_ROOT */
	char auth[400];		    /* the Authorization header it wants */
	char url[128];		    /* http://127.0.0.1:PORT/repo.git */
	unsigned requests, refused; /* under mu */
	pthread_mutex_t mu;
};

/* Serve the repositories under root (GIT_PROJECT_ROOT) on 127.0.0.1 (free port) to
 * requests with HTTP basic credentials user:token only; anything else gets 401 with
 * WWW-Authenticate: Basic. */
struct ts_githttp *ts_githttp_start(const char *root, const char *user, const char *token);
void ts_githttp_stop(struct ts_githttp *g);

double ts_now(void);
void ts_sleep(double s);

#endif
