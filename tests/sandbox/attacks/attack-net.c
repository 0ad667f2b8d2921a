/*
 * attack-net.c - the network (escape test 14).
 *
 *   attack-net none PORT   only lo exists and is up; the test's listener on the host's
 *                          127.0.0.1:PORT is unreachable; AF_PACKET, AF_VSOCK, AF_ALG,
 *                          AF_NETLINK and raw IP sockets are refused, and socketpair()
 *                          of any family but AF_UNIX
 *   attack-net host PORT   the listener is reachable (network: host), netlink route works
 *
 * Network namespaces handed on from stage to stage (sandbox/netns.c):
 *   attack-net timewait FILE   a TCP connection over lo whose accepting side closes first,
 *                              leaving a socket in TIME_WAIT on the port written to FILE
 *   attack-net udp             a UDP datagram over lo (to a port nobody listens on)
 *   attack-net fresh FILE      nothing of an earlier stage in this namespace: no packet
 *                              through lo, no socket in TIME_WAIT, and the port in FILE
 *                              (if there) can be bound without SO_REUSEADDR
 */
#include "attack.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

static int connect_port(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(s, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static int interfaces(char *names, size_t size)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	int n = 0;
	names[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon) {
			continue;
		}
		*colon = '\0';
		char *name = line + strspn(line, " ");
		strncat(names, name, size - strlen(names) - 2);
		strcat(names, " ");
		n++;
	}
	if (f) {
		fclose(f);
	}
	return n;
}

static int do_none(int port)
{
	char names[512];
	int n = interfaces(names, sizeof(names));
	check("only lo", n == 1 && !strcmp(names, "lo "), "%s", names);
	expect_errno("connect to the host's listener", connect_port(port), ECONNREFUSED);
	/* Our own loopback works. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	int ok = bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 1) == 0 &&
		 getsockname(s, (struct sockaddr *)&a, &al) == 0 &&
		 connect_port(ntohs(a.sin_port)) == 0;
	check("own loopback works", ok, "%s", ok ? "connected" : errname(errno));
	close(s);
	expect_errno("AF_PACKET", socket(AF_PACKET, SOCK_RAW, 0), EPERM);
	expect_errno("AF_VSOCK", socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
	expect_errno("AF_ALG", socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM);
	expect_errno("AF_NETLINK route", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), EPERM);
	expect_errno("AF_NETLINK audit", socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EPERM);
	int sv[2];
	int pr = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	check("socketpair AF_UNIX", pr == 0, "%s", pr == 0 ? "made" : errname(errno));
	expect_errno("socketpair AF_VSOCK", socketpair(AF_VSOCK, SOCK_STREAM, 0, sv), EPERM);
	expect_errno("socketpair AF_NETLINK", socketpair(AF_NETLINK, SOCK_RAW, 0, sv), EPERM);
	expect_errno("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv), EPERM);
	expect_errno("socketpair AF_TIPC", socketpair(30, SOCK_SEQPACKET, 0, sv), EPERM);
	expect_errno("raw AF_INET", socket(AF_INET, SOCK_RAW, 1), EPERM);
	expect_errno("raw AF_INET6", socket(AF_INET6, SOCK_RAW, 58), EPERM);
	expect_errno("AF_KEY", socket(15, SOCK_RAW, 2), EPERM);
	expect_errno("AF_BLUETOOTH", socket(31, SOCK_STREAM, 0), EPERM);
	return attack_done();
}

static int do_host(int port)
{
	check("connect to the host's listener", connect_port(port) == 0, "%s",
	      errno ? errname(errno) : "connected");
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	check("netlink route with network host", s >= 0, "%s", s >= 0 ? "allowed" : errname(errno));
	expect_errno("netlink audit with network host", socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT),
		     EPERM);
	expect_errno("AF_PACKET with network host", socket(AF_PACKET, SOCK_RAW, 0), EPERM);
	int sv[2];
	expect_errno("socketpair AF_NETLINK with network host",
		     socketpair(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, sv), EPERM);
	return attack_done();
}

/* lo's packet counters (received, sent), from /proc/net/dev. */
static int lo_packets(unsigned long long *rx, unsigned long long *tx)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof(line), f)) {
		/* Received: bytes packets errs drop fifo frame compressed multicast; sent:
		 * bytes packets ... */
		unsigned long long v[10];
		if (sscanf(line, " lo: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 10) {
			*rx = v[1];
			*tx = v[9];
			found = 1;
		}
	}
	if (f) {
		fclose(f);
	}
	return found;
}

/* The number after `word` on /proc/net/sockstat's TCP line, or -1. */
static long tcp_stat(const char *word)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	char line[512];
	long v = -1;
	while (f && fgets(line, sizeof(line), f)) {
		char *w = strncmp(line, "TCP:", 4) ? NULL : strstr(line, word);
		if (w) {
			v = atol(w + strlen(word));
		}
	}
	if (f) {
		fclose(f);
	}
	return v;
}

static int do_timewait(const char *file)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	int ok = bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0 &&
		 getsockname(l, (struct sockaddr *)&a, &al) == 0;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ok = ok && connect(c, (struct sockaddr *)&a, sizeof(a)) == 0;
	int s = ok ? accept(l, NULL, NULL) : -1;
	ok = ok && s >= 0;
	if (ok) {
		close(s); /* the accepting side first: its socket, on the port, stays in TIME_WAIT
			   */
		char byte;
		ok = read(c, &byte, 1) == 0; /* its FIN arrived */
	}
	close(c);
	close(l);
	FILE *f = fopen(file, "w");
	ok = ok && f && fprintf(f, "%d\n", ntohs(a.sin_port)) > 0;
	if (f) {
		fclose(f);
	}
	long tw = tcp_stat(" tw ");
	check("connection left in TIME_WAIT", ok && tw >= 1, "port %d, tw %ld", ntohs(a.sin_port),
	      tw);
	return attack_done();
}

static int do_udp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ssize_t n = sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	close(s);
	check("datagram sent over lo", n == 1, "%s", n == 1 ? "sent" : errname(errno));
	return attack_done();
}

static int do_fresh(const char *file)
{
	unsigned long long rx = 0, tx = 0;
	int found = lo_packets(&rx, &tx);
	check("no packet through lo before this stage", found && rx == 0 && tx == 0,
	      "lo %s, %llu received, %llu sent", found ? "found" : "missing", rx, tx);
	long tw = tcp_stat(" tw ");
	check("no connection in TIME_WAIT", tw == 0, "tw %ld", tw);
	FILE *f = fopen(file, "r");
	int port = 0;
	if (f) {
		if (fscanf(f, "%d", &port) != 1) {
			port = 0;
		}
		fclose(f);
	}
	if (port > 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int r = bind(s, (struct sockaddr *)&a, sizeof(a));
		check("bind the earlier stage's port", r == 0, "port %d: %s", port,
		      r == 0 ? "bound" : errname(errno));
		close(s);
	}
	return attack_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 2 ? argv[1] : "";
	if (!strcmp(cmd, "none")) {
		return do_none(atoi(argv[2]));
	}
	if (!strcmp(cmd, "host")) {
		return do_host(atoi(argv[2]));
	}
	if (!strcmp(cmd, "timewait")) {
		return do_timewait(argv[2]);
	}
	if (!strcmp(cmd, "fresh")) {
		return do_fresh(argv[2]);
	}
	if (argc > 1 && !strcmp(argv[1], "udp")) {
		return do_udp();
	}
	fprintf(stderr, "usage: attack-net none|host PORT | timewait|fresh FILE | udp\n");
	return 2;
}
