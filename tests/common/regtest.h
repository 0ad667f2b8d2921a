/*
 * regtest.h - test helpers around a real registry: Debian's docker-registry
 * (distribution v2), started on 127.0.0.1 with a port the kernel picks, our own config
 * and a temporary storage directory, and stopped at the end of the test (and killed by
 * the kernel if the test process dies first: PR_SET_PDEATHSIG).
 *
 * Around it, small HTTP pieces the registry cannot play itself, each run in threads of the
 * test process with libmicrohttpd:
 *   - a token endpoint for the registry's `silly` auth (the Bearer flow);
 *   - a fault-injecting proxy in front of the registry (500s, dropped connections, a
 *     wrong Docker-Content-Digest, the registry killed mid-push);
 *   - a "garbage" server that answers every connection with bytes that are not HTTP.
 * Those are stand-ins only for faults a healthy registry does not produce; everything they
 * forward is answered by the real registry.
 *
 * Helpers abort() with a message when something cannot be set up.
 */
#ifndef RUNNER_TESTS_REGTEST_H
#define RUNNER_TESTS_REGTEST_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

struct MHD_Daemon;

enum tr_auth {
	TR_ANON,
	TR_BASIC, /* htpasswd (bcrypt, made with `htpasswd -Bbn`) */
	TR_TOKEN, /* the `silly` access controller, realm = a token endpoint */
};

struct tr_registry {
	pid_t pid;
	char *dir;     /* temporary: config, storage, log */
	char addr[64]; /* "127.0.0.1:PORT" */
	enum tr_auth auth;
};

/* Start a registry. user/pass for TR_BASIC; realm for TR_TOKEN. */
void tr_registry_start(struct tr_registry *r, enum tr_auth auth, const char *user, const char *pass,
		       const char *realm);
/* Start it again on the same storage (a new port) after tr_registry_kill(). */
void tr_registry_restart(struct tr_registry *r);
/* SIGKILL, reap. The storage stays. */
void tr_registry_kill(struct tr_registry *r);
/* Stop and remove everything. Safe to call twice, and on a registry never started. */
void tr_registry_stop(struct tr_registry *r);

/* A token endpoint (GET /token): answers {"token": ..., "expires_in": ...}. */
struct tr_token_server {
	struct MHD_Daemon *d;
	int port;
	char realm[96];		/* "http://127.0.0.1:PORT/token" */
	const char *need_basic; /* when set: the Authorization header it requires */
	const char *token;	/* the token it hands out */
	bool garbage;		/* answer 200 with a body that is not JSON */
	int expires_in;
	pthread_mutex_t lock;
	int requests;
	char last_query[1024];
	char last_auth[512];
};

void tr_token_start(struct tr_token_server *t, const char *token);
void tr_token_stop(struct tr_token_server *t);

enum tr_action {
	TR_FORWARD,
	TR_FAIL_500,
	TR_FAIL_401,	     /* with the proxy's challenge */
	TR_DROP,	     /* close the connection without an answer */
	TR_WRONG_DIGEST,     /* forward, then answer with another Docker-Content-Digest */
	TR_KILL,	     /* kill the registry, then drop the connection */
	TR_KILL_RESTART,     /* kill the registry, start it again (new port), drop */
	TR_GARBAGE_JSON,     /* forward, but replace the body with bytes that are not JSON */
	TR_REDIRECT,	     /* answer 307 to the proxy's redirect_to URL */
	TR_UPLOAD_ELSEWHERE, /* answer an upload's start with 202 and redirect_to as its URL */
};

struct tr_proxy;
/* Decide what to do with request number n (1-based, all methods counted) of method uri. */
typedef enum tr_action (*tr_rule_fn)(struct tr_proxy *p, const char *method, const char *uri,
				     int n);

struct tr_proxy {
	struct MHD_Daemon *d;
	int port;
	char addr[64];
	struct tr_registry *upstream;
	tr_rule_fn rule;
	void *userdata;
	char redirect_to[128];
	char challenge[256]; /* TR_FAIL_401's WWW-Authenticate (default: Basic) */
	pthread_mutex_t lock;
	int requests;
	int counts[16]; /* per action taken */
	/* Restarts happen on a thread that lives as long as the proxy: the registry dies
	 * with the thread that started it (PR_SET_PDEATHSIG), not with a connection's. */
	pthread_t supervisor;
	pthread_cond_t cond;
	int restarts_asked, restarts_done;
	bool stopping;
};

void tr_proxy_start(struct tr_proxy *p, struct tr_registry *upstream, tr_rule_fn rule);
void tr_proxy_stop(struct tr_proxy *p);

/* A TCP server on 127.0.0.1 that answers every connection with non-HTTP bytes. */
struct tr_garbage {
	int fd;
	int port;
	char addr[64];
	pthread_t thread;
	bool running;
	bool trickle; /* tr_trickle_start: a 200 with a long body sent a byte at a time */
	volatile bool stopping;
};

void tr_garbage_start(struct tr_garbage *g);
/* The same server answering "200, 4,000,000 bytes" and then one byte every 200 ms. */
void tr_trickle_start(struct tr_garbage *g);
void tr_garbage_stop(struct tr_garbage *g);

/*
 * skopeo: the digest of ref ("127.0.0.1:P/repo:tag") by `skopeo inspect`, or NULL when
 * it fails (caller frees). creds "user:pass" or NULL.
 */
char *tr_skopeo_digest(const char *ref, const char *creds);
/* `skopeo copy docker://ref oci:dir:copy`; returns the digest in dir/index.json or NULL. */
char *tr_skopeo_copy(const char *ref, const char *creds, const char *dir);

#endif
