/*
 * root.c - build a stage's root filesystem and pivot into it (child side: runs in the shim
 * after clone, in the stage's new mount namespace, with raw system calls only).
 *
 * The new root is a small tmpfs, assembled on the old /tmp (the stage's own mount
 * namespace, so the host never sees it) and made read-only once complete:
 *
 *   /usr, /bin, /sbin, /lib*   host directories (or symlinks), read-only, nosuid, nodev,
 *                              recursively (mount_setattr AT_RECURSIVE, so submounts too)
 *   /etc                       the allowlist of etc.c: a view prepared once per process
 *                              (entries copied), what is too large bound into it; read-only
 *   -- or, with a rootfs, every top-level entry of that directory, read-only --
 *   /tmp                       a tmpfs capped at the policy's size, nosuid, nodev
 *   /proc                      a new procfs (hidepid=ptraceable) with sensitive entries
 *                              covered: /dev/null over files, an empty read-only tmpfs
 *                              over directories, read-only binds over sys, irq, bus, fs,
 *                              sysrq-trigger
 *   /dev                       a read-only tmpfs with null, zero, full, random, urandom
 *                              (bound from the host, after checking they are those
 *                              devices), a new devpts instance, and links
 *   <workspace>                bound read-write (or read-only) at its own path, nosuid,
 *                              nodev, then the policy's extra paths and the caller's mounts
 *
 * Two ways of mounting, chosen by who controls the path:
 *
 * - In the trees only the shim writes (the new root, its /etc, /tmp, /proc and /dev) mounts
 *   are made with mount(2) on paths relative to the new root, which is the shim's working
 *   directory while it builds. A stage has not started yet, so nothing there can be
 *   redirected; sources are host paths or descriptors (reached through /proc/self/fd,
 *   which resolves to exactly the object the descriptor holds). mount(2) is used rather
 *   than the new mount API because each detached tree of open_tree(OPEN_TREE_CLONE) or
 *   fsmount() costs an anonymous mount namespace to create and tear down: a bind costs
 *   about a quarter as much this way, and a stage makes about thirty of them.
 * - Every path inside the workspace, which a stage controls, is resolved with
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) relative to the
 *   workspace's fd and mounted onto that fd with the new API (a clone whose attributes are
 *   set before it is attached): a symlink planted or swapped in (CVE-2021-30465) makes the
 *   setup fail rather than redirect a mount, and the attributes land on exactly that mount.
 *
 * Sources outside the workspace that a stage could change (the workspace itself, the
 * caller's mounts, a rootfs) are opened before anything is mounted over /tmp, so a
 * workspace under /tmp stays reachable.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "banned.h"

static const char *const host_sys_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"
};

/* /proc entries that tell about or act on the host. */
static const char *const proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
/*
 * Covered with /dev/null: what reads kernel memory or the kernel log, shows other
 * processes of the host (timer_list, sched_debug), the caller's keys, physical pages, or
 * the slab and vmalloc layout. What the kernel already hides from a process without
 * capabilities (kallsyms and modules show zero addresses, iomem and ioports zero ranges)
 * or is harmless host-wide statistics (interrupts, softirqs) stays, so a stage's
 * setup costs a mount for each entry that matters, not for each that exists.
 */
static const char *const proc_mask_files[] = {
	"kcore",      "keys",	     "key-users",    "kmsg",	    "kpagecount",
	"kpageflags", "kpagecgroup", "timer_list",   "sched_debug", "latency_stats",
	"slabinfo",   "vmallocinfo", "pagetypeinfo", "mtrr",	    "page_owner",
};
static const char *const proc_mask_dirs[] = { "acpi",	"scsi", "asound",
					      "driver", "tty",	"dynamic_debug" };

static const char *const devices[] = { "null", "zero", "full", "random", "urandom" };
static const unsigned device_minor[] = { 3, 5, 7, 8, 9 }; /* major 1, "mem" */

/* The host's device nodes are bound into stages: each must be the device it claims to be.
 * A /dev/null that has become a regular file (something renamed a file over it) would
 * otherwise be a file the host and every stage share. */
static int check_devices(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char path[32] = "/dev/";
		safe_append(path, sizeof(path), devices[i]);
		struct stat st;
		if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			return -errno;
		}
		if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, device_minor[i])) {
			return -ENODEV;
		}
	}
	return 0;
}

/* ---- raw system calls, returning -errno ---- */

static int ret(long r)
{
	return r < 0 ? -errno : (int)r;
}

static int sys_openat2(int dfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve };
	return ret(syscall(SYS_openat2, dfd, path, &how, sizeof(how)));
}

/* A path inside a tree a stage may control: no symlinks, no escaping, no magic links. */
static int open_beneath(int dfd, const char *rel, int flags)
{
	return sys_openat2(dfd, rel, flags,
			   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return ret(syscall(SYS_open_tree, dfd, path, flags | OPEN_TREE_CLOEXEC));
}

static int sys_move_mount(int from, int to)
{
	return ret(syscall(SYS_move_mount, from, "", to, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
}

static int sys_setattr(int fd, bool recursive, uint64_t set, uint64_t clr)
{
	struct mount_attr a = { .attr_set = set, .attr_clr = clr };
	return ret(syscall(SYS_mount_setattr, fd, "",
			   AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)));
}

/* Attributes of the mount at path (relative to the new root, the working directory). */
static int setattr_at(const char *path, bool recursive, uint64_t set, uint64_t clr)
{
	struct mount_attr a = { .attr_set = set, .attr_clr = clr };
	return ret(syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a,
			   sizeof(a)));
}

static int sys_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *data)
{
	return ret(mount(src, dst, type, flags, data));
}

/* "/proc/self/fd/N": a path that resolves to exactly what fd holds. */
static void fd_path(char *buf, size_t size, int fd)
{
	char num[16];
	fmt_uint(num, sizeof(num), (unsigned long)fd);
	safe_copy(buf, size, "/proc/self/fd/");
	safe_append(buf, size, num);
}

/* dir "/" name, relative to the new root. */
static int join(char *buf, size_t size, const char *dir, const char *name)
{
	safe_copy(buf, size, dir);
	int r = safe_append(buf, size, "/");
	return r < 0 ? r : safe_append(buf, size, name);
}

/* A new, detached filesystem instance; options are key=value pairs (or flags). */
static int new_fs(const char *type, const char *const *opts, size_t n, unsigned attrs)
{
	int fs = ret(syscall(SYS_fsopen, type, FSOPEN_CLOEXEC));
	if (fs < 0) {
		return fs;
	}
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0) < 0) {
			int e = -errno;
			close(fs);
			return e;
		}
	}
	int m = -EINVAL;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0) {
		m = ret(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs));
	} else {
		m = -errno;
	}
	close(fs);
	return m;
}

/* Clone the tree at fd, set attributes on the clone, and attach it onto dst (an fd): for
 * paths a stage controls, where the attributes must land on exactly this mount. */
static int bind_onto(int src, uint64_t set, uint64_t clr, int dst)
{
	int t = sys_open_tree(src, "", OPEN_TREE_CLONE | AT_EMPTY_PATH);
	if (t < 0) {
		return t;
	}
	int r = set || clr ? sys_setattr(t, false, set, clr) : 0;
	if (r == 0) {
		r = sys_move_mount(t, dst);
	}
	close(t);
	return r;
}

/* Walk rel (relative, '/'-separated) from dfd without following any symlink, creating
 * missing directories when create is set. Returns an O_PATH fd of the last directory. */
static int walk_dirs(int dfd, const char *rel, bool create)
{
	char comp[NAME_MAX + 1];
	int cur = sys_openat2(dfd, ".", O_PATH | O_DIRECTORY, 0);
	if (cur < 0) {
		return cur;
	}
	const char *p = rel;
	while (*p) {
		while (*p == '/') {
			p++;
		}
		size_t n = 0;
		while (p[n] && p[n] != '/') {
			n++;
		}
		if (n == 0) {
			break;
		}
		if (n > NAME_MAX) {
			close(cur);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		int next = open_beneath(cur, comp, O_PATH | O_DIRECTORY);
		if (next == -ENOENT && create) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
				int e = -errno;
				close(cur);
				return e;
			}
			next = open_beneath(cur, comp, O_PATH | O_DIRECTORY);
		}
		close(cur);
		if (next < 0) {
			return next;
		}
		cur = next;
	}
	return cur;
}

/* An empty file to mount a file onto, in a tree only the shim writes. */
static int make_file(int dfd, const char *name)
{
	return mknodat(dfd, name, S_IFREG | 0444, 0) < 0 && errno != EEXIST ? -errno : 0;
}

static int make_dir(int dfd, const char *name, mode_t mode)
{
	return mkdirat(dfd, name, mode) < 0 && errno != EEXIST ? -errno : 0;
}

/* Bind the object src (an O_PATH fd) at dst, relative to the new root: recursively for a
 * directory. dst must exist. */
static int bind_fd(int src, bool dir, const char *dst)
{
	char from[32];
	fd_path(from, sizeof(from), src);
	return sys_mount(from, dst, NULL, MS_BIND | (dir ? MS_REC : 0), NULL);
}

/* Place (dfd, path) at dst, relative to the new root: a directory or a file bound there
 * with the attributes attrs (recursively), or a copy of a symlink (which then resolves
 * inside the new root). The object is opened first and bound through its descriptor, so
 * what was looked at is what gets bound. Absent: nothing to do. */
static int place_entry(int dfd, const char *path, const char *dst, uint64_t attrs)
{
	int src = sys_openat2(dfd, path, O_PATH | O_NOFOLLOW, 0);
	if (src < 0) {
		return src == -ENOENT ? 0 : src;
	}
	struct stat st;
	int r = fstat(src, &st) < 0 ? -errno : 0;
	if (r == 0 && S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(src, "", target, sizeof(target) - 1);
		if (n < 0) {
			r = -errno;
		} else {
			target[n] = '\0';
			r = symlinkat(target, AT_FDCWD, dst) < 0 && errno != EEXIST ? -errno : 0;
		}
	} else if (r == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		bool dir = S_ISDIR(st.st_mode);
		r = dir ? make_dir(AT_FDCWD, dst, 0755) : make_file(AT_FDCWD, dst);
		if (r == 0) {
			r = bind_fd(src, dir, dst);
		}
		if (r == 0) {
			r = setattr_at(dst, dir, attrs, 0);
		}
	}
	close(src);
	return r;
}

static const uint64_t ro_attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

/* /etc: the view prepared once per policy (etc.c), bound read-only, with the host's
 * directories (and large files) of the allowlist bound into it. */
static int build_etc(const struct root_plan *rp, int view, const char **step)
{
	*step = "populate /etc";
	int r = make_dir(AT_FDCWD, "etc", 0755);
	if (r == 0) {
		r = bind_fd(view, false, "etc");
	}
	for (size_t i = 0; r == 0 && i < rp->etc->n_binds; i++) {
		const struct etc_bind *b = &rp->etc->binds[i];
		char dst[PATH_MAX];
		r = join(dst, sizeof(dst), "etc", b->name);
		int src = r < 0 ? r
				: sys_openat2(AT_FDCWD, b->host,
					      O_PATH | (b->follow ? 0 : O_NOFOLLOW), 0);
		/* Gone from the host since the view was made: leave the mount point empty. */
		r = src == -ENOENT ? 0 : src < 0 ? src : bind_fd(src, b->dir, dst);
		if (src >= 0) {
			close(src);
		}
	}
	/* One call makes the view and everything bound into it read-only, nosuid, nodev. */
	return r < 0 ? r : setattr_at("etc", true, ro_attrs, 0);
}

/* Call fn(name, ud) for each entry of the directory dfd but "." and "..", until it returns
 * non-zero (returned) or the entries end (0); -errno if reading fails. */
static int each_entry(int dfd, int (*fn)(const char *name, void *ud), void *ud)
{
	char buf[4096];
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (n <= 0) {
			return n < 0 ? -errno : 0;
		}
		for (long off = 0; off < n;) {
			struct dirent64_raw {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (struct dirent64_raw *)(void *)(buf + off);
			off += d->reclen;
			if (str_eq(d->name, ".") || str_eq(d->name, "..")) {
				continue;
			}
			int r = fn(d->name, ud);
			if (r) {
				return r;
			}
		}
	}
}

/* A top-level entry of a configured root filesystem, bound read-only; not the ones made
 * here. */
static int place_top_entry(const char *nm, void *ud)
{
	if (str_eq(nm, "proc") || str_eq(nm, "dev") || str_eq(nm, "tmp") || str_eq(nm, "sys")) {
		return 0;
	}
	int rootfs_fd = *(const int *)ud;
	return place_entry(rootfs_fd, nm, nm, ro_attrs);
}

static int build_system(const struct root_plan *rp, int rootfs_fd, int view, const char **step)
{
	if (rootfs_fd < 0) {
		*step = "bind the host's system directories";
		for (size_t i = 0; i < ARRAY_SIZE(host_sys_dirs); i++) {
			char src[16] = "/";
			safe_append(src, sizeof(src), host_sys_dirs[i]);
			int r = place_entry(AT_FDCWD, src, host_sys_dirs[i], ro_attrs);
			if (r < 0) {
				return r;
			}
		}
		return build_etc(rp, view, step);
	}
	/* A configured root filesystem: every top-level entry but the ones made here. */
	*step = "bind the root filesystem";
	return each_entry(rootfs_fd, place_top_entry, &rootfs_fd);
}

/* /dev/null, read-only, over a file of the new /proc (null_ro: such a mount to bind, or ""
 * for the first one, which is then made read-only and its path kept there). An entry this
 * kernel does not have is skipped. */
static int cover_file(const char *path, char *null_ro, size_t size)
{
	const uint64_t ro =
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	int r = sys_mount(null_ro[0] ? null_ro : "/dev/null", path, NULL, MS_BIND, NULL);
	if (r == 0 && !null_ro[0]) {
		r = setattr_at(path, false, ro, 0);
		safe_copy(null_ro, size, path);
	}
	return r == -ENOENT ? 0 : r;
}

struct cover_ctx {
	char *null_ro;
	size_t size;
};

static int cover_stable_secret(const char *ifname, void *ud)
{
	struct cover_ctx *cc = ud;
	char dir[96], path[128];
	if (join(dir, sizeof(dir), "proc/sys/net/ipv6/conf", ifname) < 0 ||
	    join(path, sizeof(path), dir, "stable_secret") < 0) {
		return -ENAMETOOLONG;
	}
	return cover_file(path, cc->null_ro, cc->size);
}

static int build_proc(bool host_net, const char **step)
{
	*step = "mount /proc";
	int r = make_dir(AT_FDCWD, "proc", 0555);
	if (r == 0) {
		r = sys_mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			      "hidepid=ptraceable");
	}
	/* Nothing of this procfs is the stage's yet: its names are looked up plainly. An
	 * entry this kernel does not have is skipped. */
	const uint64_t ro =
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	char path[64];
	*step = "cover /proc entries";
	for (size_t i = 0; i < ARRAY_SIZE(proc_readonly) && r >= 0; i++) {
		join(path, sizeof(path), "proc", proc_readonly[i]);
		r = sys_mount(path, path, NULL, MS_BIND | MS_REC, NULL);
		if (r == 0) {
			r = setattr_at(path, true, ro, 0);
		}
		r = r == -ENOENT ? 0 : r;
	}
	/* /dev/null over files: empty to read, and writes go nowhere. Read-only, so that the
	 * host's node cannot be changed through it (chmod, times): bound once and made
	 * read-only, then that mount is bound over the others (a bind keeps its source
	 * mount's attributes). */
	char null_ro[64] = "";
	for (size_t i = 0; i < ARRAY_SIZE(proc_mask_files) && r >= 0; i++) {
		join(path, sizeof(path), "proc", proc_mask_files[i]);
		r = cover_file(path, null_ro, sizeof(null_ro));
	}
	/* With the host's network, its secrets that /proc/sys shows uid 0 (mode 0600) without
	 * any capability: the TCP Fast Open key (cookies for the host's servers could be
	 * made) and each interface's IPv6 stable-privacy secret. A stage's own network
	 * namespace has its own. */
	if (host_net && r >= 0) {
		r = cover_file("proc/sys/net/ipv4/tcp_fastopen_key", null_ro, sizeof(null_ro));
		int conf = open("proc/sys/net/ipv6/conf", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (r >= 0 && conf >= 0) {
			struct cover_ctx cc = { null_ro, sizeof(null_ro) };
			r = each_entry(conf, cover_stable_secret, &cc);
		}
		if (conf >= 0) {
			close(conf);
		}
	}
	/* One empty read-only tmpfs, mounted over the first directory and bound over the
	 * others. */
	char empty[64] = "";
	for (size_t i = 0; i < ARRAY_SIZE(proc_mask_dirs) && r >= 0; i++) {
		join(path, sizeof(path), "proc", proc_mask_dirs[i]);
		if (!empty[0]) {
			r = sys_mount("tmpfs", path, "tmpfs",
				      MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				      "size=4k,mode=0555");
			if (r == 0) {
				safe_copy(empty, sizeof(empty), path);
			}
		} else {
			r = sys_mount(empty, path, NULL, MS_BIND, NULL);
		}
		r = r == -ENOENT ? 0 : r;
	}
	return r < 0 ? r : 0;
}

static int build_dev(const char **step)
{
	*step = "populate /dev";
	int r = make_dir(AT_FDCWD, "dev", 0755);
	if (r == 0) {
		r = sys_mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755");
	}
	static const char *const links[][2] = {
		{ "dev/ptmx", "pts/ptmx" },	     { "dev/fd", "/proc/self/fd" },
		{ "dev/stdin", "/proc/self/fd/0" },  { "dev/stdout", "/proc/self/fd/1" },
		{ "dev/stderr", "/proc/self/fd/2" }, { "dev/shm", "/tmp" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links) && r == 0; i++) {
		r = symlinkat(links[i][1], AT_FDCWD, links[i][0]) < 0 ? -errno : 0;
	}
	if (r == 0) {
		r = make_dir(AT_FDCWD, "dev/pts", 0755);
	}
	/* Device nodes bound from the host (no mknod in a user namespace); not nodev, and
	 * read-only: a device opens for writing all the same, but the host's node (which a
	 * stage running as root owns) cannot be changed through it (chmod, chown, times). */
	for (size_t i = 0; i < ARRAY_SIZE(devices) && r == 0; i++) {
		char src[32] = "/dev/";
		safe_append(src, sizeof(src), devices[i]);
		r = make_file(AT_FDCWD, src + 1);
		if (r == 0) {
			r = sys_mount(src, src + 1, NULL, MS_BIND, NULL);
		}
		if (r == 0) {
			r = setattr_at(src + 1, false, MOUNT_ATTR_RDONLY, 0);
		}
	}
	/* nosuid and noexec on the tmpfs and every device (the tmpfs alone becomes read-only
	 * once the host's tree, which is mounted in it meanwhile, has gone: root_finish()). */
	if (r == 0) {
		r = setattr_at("dev", true, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
	}
	if (r == 0) {
		*step = "mount /dev/pts";
		r = sys_mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			      "ptmxmode=0666,mode=0620,max=256");
	}
	return r;
}

/* The part of an absolute path below the workspace ("" for the workspace itself). */
static const char *below(const char *ws, const char *path)
{
	size_t n = safe_strlen(ws);
	if (strncmp(path, ws, n) != 0 || (path[n] != '/' && path[n] != '\0')) {
		return NULL;
	}
	path += n;
	while (*path == '/') {
		path++;
	}
	return path;
}

/* A file to mount a file onto at rel (made, with its directories, in the new root).
 * Returns an O_PATH fd of it. */
static int file_point(int root, const char *rel)
{
	char dir[PATH_MAX];
	safe_copy(dir, sizeof(dir), rel);
	char *slash = NULL;
	for (char *c = dir; *c; c++) {
		if (*c == '/') {
			slash = c;
		}
	}
	const char *name = rel;
	int d;
	if (slash) {
		*slash = '\0';
		name = rel + (slash - dir) + 1;
		d = walk_dirs(root, dir, true);
	} else {
		d = sys_openat2(root, ".", O_PATH | O_DIRECTORY, 0);
	}
	if (d < 0) {
		return d;
	}
	int r = make_file(d, name);
	int t = r < 0 ? r : open_beneath(d, name, O_PATH);
	close(d);
	return t;
}

/* The workspace itself, at its own path: its mount point is made in the new root (or its
 * /tmp), which only the shim has written. */
static int bind_workspace(const struct root_plan *rp, int ws_src, const char **step)
{
	*step = "bind the workspace";
	const char *at = rp->workspace + 1;
	int dst = walk_dirs(AT_FDCWD, at, true);
	if (dst < 0) {
		return dst;
	}
	close(dst);
	uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (rp->ws_ro ? MOUNT_ATTR_RDONLY : 0);
	int r = bind_fd(ws_src, false, at);
	return r < 0 ? r : setattr_at(at, false, attrs, 0);
}

/* In the bound workspace (ws), the policy's paths (shallowest first), then the caller's
 * mounts. */
static int build_workspace(const struct root_plan *rp, int root, int ws, const int *msrc,
			   const bool *msrc_file, const char **step)
{
	int r = 0;
	for (size_t i = 0; i < rp->n_paths && r == 0; i++) {
		const struct policy_path *pp = &rp->paths[i];
		*step = pp->writable ? "bind a read-write path of the workspace"
				     : "bind a read-only path of the workspace";
		int t = open_beneath(ws, pp->rel, O_PATH);
		if (t < 0) {
			r = t;
			break;
		}
		uint64_t set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		r = bind_onto(t, set | (pp->writable ? 0 : MOUNT_ATTR_RDONLY),
			      pp->writable ? MOUNT_ATTR_RDONLY : 0, t);
		close(t);
	}
	for (size_t i = 0; i < rp->n_mounts && r == 0; i++) {
		const struct sandbox_mount *m = &rp->mounts[i];
		const char *rel = below(rp->workspace, m->path);
		*step = m->source ? "bind a runner path" : "hide a runner directory";
		if (!rel && !m->source) {
			continue; /* outside the workspace there is nothing of the host to hide */
		}
		/* Inside the workspace the stage controls the path: resolve it beneath the
		 * workspace (it must exist); elsewhere it is made in the new root, which only we
		 * write. */
		int t;
		if (rel) {
			t = open_beneath(ws, rel, O_PATH | (msrc_file[i] ? 0 : O_DIRECTORY));
		} else if (msrc_file[i]) {
			t = file_point(root, m->path + 1);
		} else {
			t = walk_dirs(root, m->path + 1, true);
		}
		if (t == -ENOENT && !m->source) {
			continue; /* nothing there to hide */
		}
		if (t < 0) {
			r = t;
			break;
		}
		if (m->source) {
			uint64_t set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				       (m->writable ? 0 : MOUNT_ATTR_RDONLY);
			r = bind_onto(msrc[i], set, m->writable ? MOUNT_ATTR_RDONLY : 0, t);
			close(t);
			continue;
		}
		/* An empty directory, with the mount points later mounts below it need: a
		 * file for a file (the advisory database kept in the run record's directory),
		 * a directory otherwise. */
		static const char *const opts[] = { "size", "4k", "mode", "0755" };
		int h = new_fs("tmpfs", opts, 4, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		r = h;
		for (size_t k = i + 1; k < rp->n_mounts && h >= 0; k++) {
			const char *sub = below(m->path, rp->mounts[k].path);
			if (sub && *sub) {
				int d = msrc_file[k] ? file_point(h, sub) : walk_dirs(h, sub, true);
				r = d;
				if (d < 0) {
					break;
				}
				close(d);
			}
		}
		if (r >= 0) {
			r = sys_setattr(h, false, MOUNT_ATTR_RDONLY, 0);
		}
		if (r >= 0) {
			r = sys_move_mount(h, t);
		}
		if (h >= 0) {
			close(h);
		}
		close(t);
	}
	return r;
}

/* The host's tree, from the moment the new root is pivoted into until the stage's own
 * mounts are made from it: under /dev, where no workspace or caller's mount may lie
 * (sandbox.c refuses them), so nothing of a stage's can collide with it. */
#define HOST_DIR "dev/.host"

bool root_needs_host(const struct root_plan *rp)
{
	for (size_t i = 0; i < rp->n_mounts; i++) {
		if (rp->mounts[i].source && !below(rp->workspace, rp->mounts[i].source)) {
			return true;
		}
	}
	return false;
}

/* Detach the host's tree (an RCU grace period: off the stage's path when it can be). */
static int drop_host(const char **step)
{
	*step = "detach the host's tree";
	if (umount2("/" HOST_DIR, MNT_DETACH) < 0 || rmdir("/" HOST_DIR) < 0) {
		return -errno;
	}
	return 0;
}

int root_prepare(const struct root_plan *rp, bool host_net, const char **step)
{
	int r, root = -1, rootfs = -1, view = -1, ws_src = -1;

	*step = "make mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		return -errno;
	}
	/* Open the sources first: the new root is assembled over /tmp, which may hold them. */
	*step = "open the workspace";
	ws_src = sys_openat2(AT_FDCWD, rp->workspace, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	if (ws_src < 0) {
		return ws_src;
	}
	struct stat ws_st;
	r = fstat(ws_src, &ws_st) < 0 ? -errno : 0;
	if (r == 0 &&
	    ((uint64_t)ws_st.st_dev != rp->ws_dev || (uint64_t)ws_st.st_ino != rp->ws_ino)) {
		r = -ESTALE; /* replaced since the runner looked */
	}
	if (r < 0) {
		goto out;
	}
	if (!rp->rootfs) {
		*step = "open the /etc view";
		view = sys_openat2(AT_FDCWD, rp->etc->dir, O_PATH | O_DIRECTORY,
				   RESOLVE_NO_SYMLINKS);
		if (view < 0) {
			r = view;
			goto out;
		}
	} else {
		/* Without following a symbolic link anywhere (one committed in the workspace
		 * could point at /), and never the host's own root, however it is spelt
		 * (//, /usr/..): compared by device and inode. */
		*step = "open the root filesystem (no symbolic links)";
		rootfs = sys_openat2(AT_FDCWD, rp->rootfs, O_RDONLY | O_DIRECTORY,
				     RESOLVE_NO_SYMLINKS);
		if (rootfs < 0) {
			r = rootfs;
			goto out;
		}
		struct stat rst, hst;
		*step = "check that the root filesystem is not the host's root";
		if (fstat(rootfs, &rst) < 0 || stat("/", &hst) < 0) {
			r = -errno;
			goto out;
		}
		if (rst.st_dev == hst.st_dev && rst.st_ino == hst.st_ino) {
			r = -EPERM;
			goto out;
		}
	}
	*step = "check the host's /dev/null, zero, full, random, urandom";
	r = check_devices();
	if (r < 0) {
		goto out;
	}
	*step = "mount the new root";
	int at = sys_openat2(AT_FDCWD, rp->stage_root, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	if (at < 0) {
		r = at;
		goto out;
	}
	char at_path[32];
	fd_path(at_path, sizeof(at_path), at);
	r = sys_mount("tmpfs", at_path, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755");
	close(at);
	/* The same path now leads into the new tmpfs; everything below is made relative to it. */
	root = r < 0 ? r
		     : sys_openat2(AT_FDCWD, rp->stage_root, O_PATH | O_DIRECTORY,
				   RESOLVE_NO_SYMLINKS);
	r = root < 0 ? root : fchdir(root) < 0 ? -errno : 0;
	if (r < 0) {
		goto out;
	}

	r = build_system(rp, rootfs, view, step);
	if (r == 0) {
		*step = "mount /tmp";
		r = make_dir(AT_FDCWD, "tmp", 01777);
		if (r == 0) {
			r = sys_mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, rp->tmp_opts);
		}
	}
	if (r == 0) {
		r = build_proc(host_net, step);
	}
	if (r == 0) {
		r = build_dev(step);
	}
	/* The workspace directory itself: every stage of the run has the same; what is inside
	 * it, which stages control, is looked at only when the stage starts (root_finish). */
	if (r == 0) {
		r = bind_workspace(rp, ws_src, step);
	}
	if (r < 0) {
		goto out;
	}
	/* Into the new root. The host's tree stays reachable below it only when a source of
	 * the caller's mounts lies outside the workspace. */
	*step = "pivot_root";
	r = make_dir(AT_FDCWD, HOST_DIR, 0700);
	if (r == 0 && (syscall(SYS_pivot_root, ".", HOST_DIR) < 0 || chdir("/") < 0)) {
		r = -errno;
	}
	if (r == 0 && !root_needs_host(rp)) {
		r = drop_host(step);
	}
out:
	if (ws_src >= 0) {
		close(ws_src);
	}
	if (rootfs >= 0) {
		close(rootfs);
	}
	if (view >= 0) {
		close(view);
	}
	if (root >= 0) {
		close(root);
	}
	return r < 0 ? r : 0;
}

int root_finish(const struct root_plan *rp, const char **step)
{
	int r, root = -1, host = -1, ws = -1;
	int msrc[ROOT_MAX_PATHS];
	bool msrc_file[ROOT_MAX_PATHS];
	size_t n_msrc = 0;
	bool with_host = root_needs_host(rp);

	*step = "open the workspace";
	root = sys_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY, 0);
	ws = root < 0 ? root : walk_dirs(root, rp->workspace + 1, false);
	if (ws < 0) {
		r = ws;
		goto out;
	}
	if (with_host) {
		host = sys_openat2(AT_FDCWD, "/" HOST_DIR, O_PATH | O_DIRECTORY,
				   RESOLVE_NO_SYMLINKS);
		if (host < 0) {
			r = host;
			goto out;
		}
	}
	/* The caller's sources: inside the workspace, looked up beneath it as any path a
	 * stage controls; elsewhere, in the host's tree. */
	*step = "open a runner path";
	for (size_t i = 0; i < rp->n_mounts; i++) {
		msrc[i] = -1;
		msrc_file[i] = false;
		const char *src = rp->mounts[i].source;
		if (src) {
			struct stat st;
			const char *rel = below(rp->workspace, src);
			msrc[i] = rel ? open_beneath(ws, *rel ? rel : ".", O_PATH)
				      : sys_openat2(host, src + 1, O_PATH, RESOLVE_NO_SYMLINKS);
			r = msrc[i] < 0 ? msrc[i] : fstat(msrc[i], &st) < 0 ? -errno : 0;
			if (r == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
				r = -EINVAL;
			}
			if (r < 0) {
				n_msrc = i + (msrc[i] >= 0);
				goto out;
			}
			msrc_file[i] = S_ISREG(st.st_mode);
		}
	}
	n_msrc = rp->n_mounts;

	r = build_workspace(rp, root, ws, msrc, msrc_file, step);
	if (r == 0 && with_host) {
		r = drop_host(step);
	}
	if (r < 0) {
		goto out;
	}
	*step = "make the root read-only";
	r = setattr_at("/dev", false, MOUNT_ATTR_RDONLY, 0);
	if (r == 0) {
		r = setattr_at("/", false, MOUNT_ATTR_RDONLY, 0);
	}
out:
	for (size_t i = 0; i < n_msrc; i++) {
		if (msrc[i] >= 0) {
			close(msrc[i]);
		}
	}
	if (ws >= 0) {
		close(ws);
	}
	if (root >= 0) {
		close(root);
	}
	if (host >= 0) {
		close(host);
	}
	return r < 0 ? r : 0;
}
