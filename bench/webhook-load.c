/*
 * webhook-load.c - load generator for `runner serve` (bench/webhook.sh drives it).
 *
 *   webhook-load accept  ADDR SECRET REPO SHA CONNECTIONS SECONDS
 *       Closed loop over CONNECTIONS keep-alive connections: each sends a signed GitHub
 *       push delivery (unique delivery id and body, so each one is accepted and queued),
 *       waits for the answer, sends the next. Prints deliveries/s and the latency
 *       distribution of accept-and-enqueue (request sent -> 202 read), and the status codes.
 *
 *   webhook-load first-stage  ADDR SECRET REPO SHA COUNT
 *       One delivery at a time on an idle server: time from sending it to the start of the
 *       run's first stage (the stage's started_at in the run record), for a repository
 *       whose mirror already has the commit.
 *
 * Plain sockets and epoll, no library but libcrypto (HMAC) and jansson (API answers).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define MAX_CONN 1024
#define BUF	 65536

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int64_t now_real_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct sockaddr_in parse_addr(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, "bad address %s\n", addr);
		exit(2);
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	inet_pton(AF_INET, host, &sa.sin_addr);
	sa.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	return sa;
}

static int connect_to(const struct sockaddr_in *sa, bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("connect");
		exit(1);
	}
	if (nonblock) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	return fd;
}

/* A signed request for delivery number n. */
static size_t make_request(char *out, size_t cap, const char *addr, const char *secret,
			   const char *repo, const char *sha, uint64_t n, const char *tag)
{
	char body[1024];
	int bl = snprintf(body, sizeof(body),
			  "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\","
			  "\"created\":false,\"deleted\":false,\"forced\":false,"
			  "\"repository\":{\"full_name\":\"%s\"},\"bench\":{\"run\":\"%s\","
			  "\"n\":%llu}}",
			  sha, sha, repo, tag, (unsigned long long)n);
	unsigned char mac[32];
	unsigned int ml = sizeof(mac);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)body, (size_t)bl, mac,
	     &ml);
	char hex[65];
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	}
	int hl = snprintf(out, cap,
			  "POST /hooks/github HTTP/1.1\r\nHost: %s\r\n"
			  "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
			  "X-GitHub-Delivery: bench-%s-%llu\r\nX-Hub-Signature-256: sha256=%s\r\n"
			  "Content-Length: %d\r\n\r\n%s",
			  addr, tag, (unsigned long long)n, hex, bl, body);
	return (size_t)hl;
}

/* Parse one complete response in buf[0..len): returns its length (0: incomplete). */
static size_t response_len(const char *buf, size_t len, int *status, const char **body)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end) {
		return 0;
	}
	size_t hdr = (size_t)(end - buf) + 4;
	const char *cl = memmem(buf, hdr, "Content-Length:", 15);
	if (!cl) {
		cl = memmem(buf, hdr, "content-length:", 15);
	}
	size_t blen = cl ? strtoul(cl + 15, NULL, 10) : 0;
	if (len < hdr + blen) {
		return 0;
	}
	*status = (int)strtol(buf + 9, NULL, 10);
	if (body) {
		*body = buf + hdr;
	}
	return hdr + blen;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
	if (n == 0) {
		return 0;
	}
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

struct conn {
	int fd;
	char out[4096];
	size_t out_len, out_off;
	char in[BUF];
	size_t in_len;
	uint64_t sent_at;
};

static int accept_bench(const char *addr, const char *secret, const char *repo, const char *sha,
			int nconn, double seconds)
{
	struct sockaddr_in sa = parse_addr(addr);
	struct conn *c = calloc((size_t)nconn, sizeof(*c));
	int ep = epoll_create1(0);
	size_t cap = 1 << 20, n = 0;
	uint64_t *lat = malloc(cap * sizeof(uint64_t));
	uint64_t seq = 0, codes[6] = { 0 };
	char tag[32];
	snprintf(tag, sizeof(tag), "%lld", (long long)now_real_ms());
	for (int i = 0; i < nconn; i++) {
		c[i].fd = connect_to(&sa, true);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
		c[i].out_len = make_request(c[i].out, sizeof(c[i].out), addr, secret, repo, sha,
					    seq++, tag);
		c[i].sent_at = now_ns();
	}
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(seconds * 1e9);
	bool stopping = false;
	int open_conns = nconn;
	while (open_conns > 0) {
		struct epoll_event evs[64];
		int ne = epoll_wait(ep, evs, 64, 100);
		if (now_ns() >= deadline) {
			stopping = true;
		}
		for (int k = 0; k < ne; k++) {
			struct conn *x = &c[evs[k].data.u32];
			if (x->fd < 0) {
				continue;
			}
			if ((evs[k].events & EPOLLOUT) && x->out_off < x->out_len) {
				ssize_t w =
					write(x->fd, x->out + x->out_off, x->out_len - x->out_off);
				if (w > 0) {
					x->out_off += (size_t)w;
				}
			}
			if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t r = read(x->fd, x->in + x->in_len, BUF - x->in_len);
				if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
					fprintf(stderr, "connection closed by the server\n");
					close(x->fd);
					x->fd = -1;
					open_conns--;
					continue;
				}
				if (r > 0) {
					x->in_len += (size_t)r;
				}
				int status;
				size_t l = response_len(x->in, x->in_len, &status, NULL);
				if (l) {
					uint64_t d = now_ns() - x->sent_at;
					if (n == cap) {
						cap *= 2;
						lat = realloc(lat, cap * sizeof(uint64_t));
					}
					lat[n++] = d;
					codes[status == 202   ? 0
					      : status == 401 ? 1
					      : status == 400 ? 2
					      : status == 503 ? 3
					      : status == 200 ? 4
							      : 5]++;
					memmove(x->in, x->in + l, x->in_len - l);
					x->in_len -= l;
					if (stopping) {
						close(x->fd);
						x->fd = -1;
						open_conns--;
						continue;
					}
					x->out_len = make_request(x->out, sizeof(x->out), addr,
								  secret, repo, sha, seq++, tag);
					x->out_off = 0;
					x->sent_at = now_ns();
					ssize_t w = write(x->fd, x->out, x->out_len);
					if (w > 0) {
						x->out_off = (size_t)w;
					}
				}
			}
		}
	}
	double el = (double)(now_ns() - t0) / 1e9;
	qsort(lat, n, sizeof(uint64_t), cmp_u64);
	printf("{\"mode\":\"accept\",\"connections\":%d,\"seconds\":%.2f,\"requests\":%zu,"
	       "\"per_second\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"status_202\":%llu,\"status_401\":%llu,\"status_400\":%llu,"
	       "\"status_503\":%llu,\"status_other\":%llu}\n",
	       nconn, el, n, (double)n / el, pct(lat, n, 0.5), pct(lat, n, 0.9), pct(lat, n, 0.99),
	       pct(lat, n, 1.0), (unsigned long long)codes[0], (unsigned long long)codes[1],
	       (unsigned long long)codes[2], (unsigned long long)codes[3],
	       (unsigned long long)(codes[4] + codes[5]));
	free(lat);
	free(c);
	return codes[0] == n ? 0 : 1;
}

/* One blocking request on a fresh connection; returns the body (heap) and status. */
static char *http(const struct sockaddr_in *sa, const char *req, size_t len, int *status)
{
	int fd = connect_to(sa, false);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, req + off, len - off);
		if (w <= 0) {
			break;
		}
		off += (size_t)w;
	}
	static char buf[1 << 22];
	size_t got = 0;
	const char *body = NULL;
	size_t l = 0;
	while (!(l = response_len(buf, got, status, &body))) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - got - 1);
		if (r <= 0) {
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (!l) {
		*status = 0;
		return strdup("");
	}
	return strndup(body, l - (size_t)(body - buf));
}

static int64_t parse_ms(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static int first_stage_bench(const char *addr, const char *secret, const char *repo,
			     const char *sha, int count)
{
	struct sockaddr_in sa = parse_addr(addr);
	uint64_t *lat = calloc((size_t)count, sizeof(uint64_t));
	char tag[32];
	snprintf(tag, sizeof(tag), "fs%lld", (long long)now_real_ms());
	int done = 0;
	for (int i = 0; i < count; i++) {
		char req[4096];
		size_t len =
			make_request(req, sizeof(req), addr, secret, repo, sha, (uint64_t)i, tag);
		int status;
		int64_t sent = now_real_ms();
		char *b = http(&sa, req, len, &status);
		json_t *j = json_loads(b, 0, NULL);
		long id = (long)json_integer_value(json_object_get(j, "run_id"));
		json_decref(j);
		free(b);
		if (status != 202 || id <= 0) {
			fprintf(stderr, "delivery %d: status %d\n", i, status);
			continue;
		}
		/* Wait for the run to finish, then read its first stage's start. */
		for (int tries = 0; tries < 6000; tries++) {
			char get[256];
			int gl = snprintf(get, sizeof(get),
					  "GET /api/runs/%ld HTTP/1.1\r\nHost: %s\r\n"
					  "Connection: close\r\n\r\n",
					  id, addr);
			char *rb = http(&sa, get, (size_t)gl, &status);
			json_t *run = json_loads(rb, 0, NULL);
			free(rb);
			const char *state = json_string_value(json_object_get(run, "state"));
			if (state && strcmp(state, "queued") != 0 &&
			    strcmp(state, "running") != 0) {
				json_t *st = json_array_get(json_object_get(run, "stages"), 0);
				int64_t started = parse_ms(
					json_string_value(json_object_get(st, "started_at")));
				if (started > 0) {
					lat[done++] = (uint64_t)(started - sent) * 1000000u;
				} else {
					fprintf(stderr, "run %ld: %s, no stage start\n", id, state);
				}
				json_decref(run);
				break;
			}
			json_decref(run);
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
	}
	qsort(lat, (size_t)done, sizeof(uint64_t), cmp_u64);
	printf("{\"mode\":\"first-stage\",\"runs\":%d,\"p50_ms\":%.0f,\"p90_ms\":%.0f,"
	       "\"min_ms\":%.0f,\"max_ms\":%.0f}\n",
	       done, pct(lat, (size_t)done, 0.5), pct(lat, (size_t)done, 0.9),
	       pct(lat, (size_t)done, 0.0), pct(lat, (size_t)done, 1.0));
	free(lat);
	return done == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[1], "accept") == 0) {
		int nc = (int)strtol(argv[6], NULL, 10);
		if (nc < 1 || nc > MAX_CONN) {
			fprintf(stderr, "connections: 1 to %d\n", MAX_CONN);
			return 2;
		}
		return accept_bench(argv[2], argv[3], argv[4], argv[5], nc, strtod(argv[7], NULL));
	}
	if (argc == 7 && strcmp(argv[1], "first-stage") == 0) {
		return first_stage_bench(argv[2], argv[3], argv[4], argv[5],
					 (int)strtol(argv[6], NULL, 10));
	}
	fprintf(stderr, "usage: webhook-load accept ADDR SECRET REPO SHA CONNECTIONS SECONDS\n"
			"       webhook-load first-stage ADDR SECRET REPO SHA COUNT\n");
	return 2;
}
