/*
 * attack-net.c - the network (escape test 14).
 *
 *   attack-net none PORT   only lo exists and is up; the test's listener on the host's
 *                          127.0.0.1:PORT is unreachable; AF_PACKET, AF_VSOCK, AF_ALG,
 *                          AF_NETLINK and raw IP sockets are refused, and socketpair()
 *                          of any family but AF_UNIX
 *   attack-net host PORT   the listener is reachable (network: host), netlink route works;
 *                          the host's TCP Fast Open key and IPv6 stable secrets (mode 0600
 *                          in /proc/sys, readable by uid 0) are not
 *
 * Every stage's network namespace is new (traces an earlier stage leaves, some of which no
 * /proc file shows, must not reach a later one):
 *   attack-net timewait FILE   a TCP connection over lo whose accepting side closes first,
 *                              leaving a socket in TIME_WAIT on the port written to FILE
 *   attack-net traces          datagrams to unroutable IPv4 and IPv6 addresses (counted,
 *                              no packet sent, so lo's counters stay); multicast groups
 *                              joined on lo (the kernel's reports go out after the process
 *                              has exited)
 *   attack-net fresh FILE      nothing of an earlier stage here: no packet through lo, no
 *                              socket in TIME_WAIT, no unroutable datagram counted, and
 *                              the port in FILE (if there) can be bound without SO_REUSEADDR
 */
#include "attack.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
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

/* Bytes read from the start of path: -1 (errno set) if it cannot be opened or read. */
static ssize_t read_some(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	int e = errno;
	if (fd >= 0) {
		close(fd);
	}
	errno = e;
	return n;
}

static int do_host(int port)
{
	/* The host's network secrets that /proc/sys shows uid 0 (mode 0600): covered. */
	ssize_t n = read_some("/proc/sys/net/ipv4/tcp_fastopen_key");
	check("host TCP Fast Open key hidden", n <= 0, "%s",
	      n > 0    ? "read"
	      : n == 0 ? "empty"
		       : errname(errno));
	DIR *conf = opendir("/proc/sys/net/ipv6/conf");
	int n_if = 0, readable = 0;
	for (struct dirent *d; conf && (d = readdir(conf));) {
		if (d->d_name[0] == '.') {
			continue;
		}
		char path[512];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/stable_secret", d->d_name);
		n_if++;
		readable += read_some(path) > 0;
	}
	if (conf) {
		closedir(conf);
	}
	check("host IPv6 stable secrets hidden", n_if > 0 && readable == 0,
	      "%d interfaces, %d readable", n_if, readable);

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

/* The value of counter `name` in /proc/net/snmp (table `table`, e.g. "Ip") or, with table
 * NULL, /proc/net/snmp6 (one "name value" per line); -1 if not found. */
static long long snmp_counter(const char *table, const char *name)
{
	FILE *f = fopen(table ? "/proc/net/snmp" : "/proc/net/snmp6", "r");
	char head[4096], line[4096];
	long long v = -1;
	size_t tl = table ? strlen(table) : 0;
	while (f && fgets(head, sizeof(head), f)) {
		if (!table) {
			char n[128];
			long long x;
			if (sscanf(head, "%127s %lld", n, &x) == 2 && !strcmp(n, name)) {
				v = x;
			}
			continue;
		}
		/* Two lines per table: the names, then the values. */
		if (strncmp(head, table, tl) || head[tl] != ':' || !fgets(line, sizeof(line), f)) {
			continue;
		}
		char *sn, *sv;
		char *n = strtok_r(head + tl + 1, " \n", &sn);
		char *x = strtok_r(line + tl + 1, " \n", &sv);
		for (; n && x; n = strtok_r(NULL, " \n", &sn), x = strtok_r(NULL, " \n", &sv)) {
			if (!strcmp(n, name)) {
				v = atoll(x);
			}
		}
	}
	if (f) {
		fclose(f);
	}
	return v;
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

static int do_traces(void)
{
	/* No route: nothing is sent, a counter moves. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	for (int i = 0; i < 42; i++) {
		sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	}
	check("unroutable IPv4 datagrams counted", snmp_counter("Ip", "OutNoRoutes") >= 42,
	      "Ip OutNoRoutes %lld", snmp_counter("Ip", "OutNoRoutes"));
	/* Multicast groups on lo: the kernel reports them, also after this process ends. */
	struct ip_mreq m4 = { .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };
	inet_pton(AF_INET, "239.1.2.3", &m4.imr_multiaddr);
	int j4 = setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof(m4));
	check("IPv4 multicast group joined on lo", j4 == 0, "%s",
	      j4 == 0 ? "joined" : errname(errno));
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	sendto(s6, "x", 1, 0, (struct sockaddr *)&a6, sizeof(a6));
	struct ipv6_mreq m6 = { .ipv6mr_interface = 1 /* lo */ };
	inet_pton(AF_INET6, "ff05::1:3", &m6.ipv6mr_multiaddr);
	int j6 = setsockopt(s6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6));
	check("IPv6 multicast group joined on lo", j6 == 0, "%s",
	      j6 == 0 ? "joined" : errname(errno));
	close(s6);
	close(s);
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
	long long v4 = snmp_counter("Ip", "OutNoRoutes"), v6 = snmp_counter(NULL, "Ip6OutNoRoutes");
	check("no unroutable datagram counted", v4 == 0 && v6 == 0,
	      "Ip OutNoRoutes %lld, Ip6OutNoRoutes %lld", v4, v6);
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
	if (argc > 1 && !strcmp(argv[1], "traces")) {
		return do_traces();
	}
	fprintf(stderr, "usage: attack-net none|host PORT | timewait|fresh FILE | traces\n");
	return 2;
}
