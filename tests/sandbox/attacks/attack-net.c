/*
 * attack-net.c - the network (escape test 14).
 *
 *   attack-net none PORT   only lo exists and is up; the test's listener on the host's
 *                          127.0.0.1:PORT is unreachable; AF_PACKET, AF_VSOCK, AF_ALG,
 *                          AF_NETLINK and raw IP sockets are refused, and socketpair()
 *                          of any family but AF_UNIX
 *   attack-net host PORT   the listener is reachable (network: host), netlink route works
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
	fprintf(stderr, "usage: attack-net none|host PORT\n");
	return 2;
}
