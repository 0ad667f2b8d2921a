/*
 * netns.c - a stage's network namespace, made or recycled (child side).
 *
 * Making a network namespace and tearing it down is the largest single cost of a
 * sandboxed stage (about 0.8 ms of kernel work, docs/benchmarks.md), and with network
 * `none` every such namespace is the same: `lo`, up, and nothing else. So a namespace a
 * stage left exactly as it found it is handed on to a later stage instead of being torn
 * down and made again. What "exactly" means is what the stage could have changed without
 * privileges (it has no capabilities, and /proc/sys is read-only):
 *
 *   - traffic: every packet a stage sends in its namespace goes through `lo`, whose
 *     counters (/proc/net/dev) count it; TCP and UDP state (connections in TIME_WAIT,
 *     metrics, route exceptions, ICMP errors) comes only from packets;
 *   - sockets that outlive their processes: TCP, UDP, UDP-Lite, raw and fragment queues in
 *     use (sockstat, sockstat6: the per-namespace fields only), and Unix sockets (all of
 *     them are listed in /proc/net/unix, one held in flight by a descriptor cycle too);
 *   - IPv6 flow labels, which linger after their socket is closed (ip6_flowlabel).
 *
 * Those files are read right after the namespace is made (the baseline) and again once the
 * stage has ended and every one of its processes is gone; only byte-identical contents let
 * the namespace be reused. Anything else (a file that cannot be read, one larger than the
 * snapshot holds, a stage that connected anywhere) and the namespace is torn down as
 * before. It is only ever recycled as root without a user namespace (a namespace owned by
 * one stage's user namespace could not be joined from another's), only between the
 * supervisors of one spawner (one runner process: one run), and only once its stage has
 * ended, so two stages never share one at the same time.
 *
 * The spawner keeps the returned namespaces (spawner-main.c) and gives one, with its
 * baseline, to the next warm supervisor it prepares, which joins it with setns() instead of
 * making one.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "banned.h"

static const char *const snap_files[] = { "dev", "sockstat", "sockstat6", "unix", "ip6_flowlabel" };

/* Fields of sockstat that count every namespace (orphans, allocated sockets, memory): the
 * number after these words is left out. "sockets: used" is per namespace but drops only
 * after an RCU grace period, so a socket closed a moment ago still counts: left out too (the
 * families a stage may open are all counted per protocol or listed). */
static bool global_field(const char *w, size_t n)
{
	static const char *const words[] = { "orphan", "alloc", "mem", "used" };
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (n == safe_strlen(words[i]) && !memcmp(w, words[i], n)) {
			return true;
		}
	}
	return false;
}

/* Keep the words of buf[0..n), but the value after a global field's name; returns the new
 * length. */
static size_t strip_global(char *buf, size_t n)
{
	size_t out = 0, i = 0;
	bool skip = false;
	while (i < n) {
		size_t start = i;
		while (i < n && buf[i] != ' ' && buf[i] != '\n') {
			i++;
		}
		size_t len = i - start;
		bool drop = skip && len > 0;
		skip = len > 0 && global_field(buf + start, len);
		if (!drop) {
			memmove(buf + out, buf + start, len);
			out += len;
		}
		if (i < n) {
			buf[out++] = buf[i++]; /* the separator */
		}
	}
	return out;
}

int netns_snapshot(int netdir, struct netns_snap *s)
{
	s->len = 0;
	for (size_t f = 0; f < ARRAY_SIZE(snap_files); f++) {
		int fd = openat(netdir, snap_files[f], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			return -errno;
		}
		size_t start = s->len;
		for (;;) {
			if (s->len == sizeof(s->data)) {
				close(fd);
				return -E2BIG;
			}
			ssize_t k = read(fd, s->data + s->len, sizeof(s->data) - s->len);
			if (k < 0 && errno == EINTR) {
				continue;
			}
			if (k < 0) {
				int e = errno;
				close(fd);
				return -e;
			}
			if (k == 0) {
				break;
			}
			s->len += (size_t)k;
		}
		close(fd);
		if (!strcmp(snap_files[f], "sockstat")) {
			s->len = start + strip_global(s->data + start, s->len - start);
		}
		if (s->len == sizeof(s->data)) {
			return -E2BIG;
		}
		s->data[s->len++] = '\0'; /* between files */
	}
	return 0;
}

/* This supervisor's part. */
static struct {
	int given;    /* a clean namespace from the spawner, or -1 */
	int ret;      /* the spawner's socket to return ours on, or -1 */
	int mine;     /* ours, once made or joined */
	int netdir;   /* /proc/self/net of the host's /proc, opened before the root is changed */
	bool enabled; /* mine is recyclable and base holds its state */
	struct netns_snap given_base, base, now;
} nr = { -1, -1, -1, -1, false, { 0, { 0 } }, { 0, { 0 } }, { 0, { 0 } } };

void netns_recycle_setup(int given, const struct netns_snap *given_base, int ret)
{
	nr.given = given;
	nr.ret = ret;
	if (given >= 0) {
		nr.given_base.len = given_base->len;
		memcpy(nr.given_base.data, given_base->data, given_base->len);
	}
}

/* Bring up lo in a network namespace this process is in. */
static int loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		return -errno;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	safe_copy(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	r = r < 0 ? -errno : 0;
	close(s);
	return r;
}

/* A namespace this supervisor was given but does not use goes back to the pool. */
static void give_back(void)
{
	if (nr.given >= 0) {
		wire_send_fds(nr.ret, nr.given_base.data, nr.given_base.len, &nr.given, 1,
			      MSG_DONTWAIT);
		close(nr.given);
		nr.given = -1;
	}
}

static void stop_recycling(void)
{
	if (nr.mine >= 0) {
		close(nr.mine);
	}
	if (nr.netdir >= 0) {
		close(nr.netdir);
	}
	nr.mine = nr.netdir = -1;
	nr.enabled = false;
}

int netns_enter(const struct child_ctx *c, const char **step)
{
	bool recycle = c->own_netns && !c->userns && nr.ret >= 0;
	if (!recycle) {
		give_back();
	}
	if (!c->own_netns) {
		return 0;
	}
	bool joined = false;
	if (recycle && nr.given >= 0) {
		joined = setns(nr.given, CLONE_NEWNET) == 0;
		close(nr.given);
		nr.given = -1;
	}
	if (!joined) {
		*step = "create the network namespace";
		if (unshare(CLONE_NEWNET) < 0) {
			return -errno;
		}
		*step = "bring up the loopback interface";
		int r = loopback_up();
		if (r < 0) {
			return r;
		}
	}
	if (!recycle) {
		return 0;
	}
	nr.mine = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nr.netdir = open("/proc/self/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nr.mine < 0 || nr.netdir < 0) {
		stop_recycling();
		return 0;
	}
	if (joined) {
		nr.base.len = nr.given_base.len;
		memcpy(nr.base.data, nr.given_base.data, nr.base.len);
		nr.enabled = true;
	} else {
		nr.enabled = netns_snapshot(nr.netdir, &nr.base) == 0;
	}
	if (!nr.enabled) {
		stop_recycling();
	}
	return 0;
}

size_t netns_keep_fds(int *fds)
{
	size_t n = 0;
	if (nr.enabled) {
		fds[n++] = nr.mine;
		fds[n++] = nr.netdir;
		fds[n++] = nr.ret;
	}
	return n;
}

void netns_return(void)
{
	if (!nr.enabled) {
		return;
	}
	if (netns_snapshot(nr.netdir, &nr.now) == 0 && nr.now.len == nr.base.len &&
	    !memcmp(nr.now.data, nr.base.data, nr.base.len)) {
		wire_send_fds(nr.ret, nr.base.data, nr.base.len, &nr.mine, 1, MSG_DONTWAIT);
	}
	stop_recycling();
}
