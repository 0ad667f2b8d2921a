/*
 * attack-fs.c - escape attempts through the filesystem (escape tests 1, 8, 9, 10, 11).
 *
 *   attack-fs mount            mount, umount2, pivot_root, chroot, the new mount API,
 *                              remounting a read-only bind read-write
 *   attack-fs write            writes outside the workspace and /tmp; /proc/self/exe and
 *                              the supervisor's binary (CVE-2019-5736)
 *   attack-fs read PATH...     host paths that must not be readable (or must not exist)
 *   attack-fs symlink TARGET   a workspace symlink to TARGET (outside) leads nowhere
 *   attack-fs fds              only fds 0-2, no directory fds (CVE-2024-21626)
 */
#include "attack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int do_mount(void)
{
	/* The old API. */
	expect_errno("mount tmpfs", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL), EPERM);
	expect_errno("mount bind", syscall(SYS_mount, "/", "/tmp", NULL, MS_BIND, NULL), EPERM);
	expect_errno("remount /usr read-write",
		     syscall(SYS_mount, NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL), EPERM);
	expect_errno("umount2 /", syscall(SYS_umount2, "/", MNT_DETACH), EPERM);
	expect_errno("umount2 /proc", syscall(SYS_umount2, "/proc", 0), EPERM);
	expect_errno("pivot_root", syscall(SYS_pivot_root, ".", "."), EPERM);
	expect_errno("chroot", syscall(SYS_chroot, "/tmp"), EPERM);
	/* The new API answers "not implemented", so programs take their fallback. */
	expect_errno("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/usr", OPEN_TREE_CLONE),
		     ENOSYS);
	expect_errno("fsopen", syscall(SYS_fsopen, "tmpfs", 0), ENOSYS);
	expect_errno("fsmount", syscall(SYS_fsmount, 0, 0, 0), ENOSYS);
	expect_errno("fsconfig", syscall(SYS_fsconfig, 0, 0, NULL, NULL, 0), ENOSYS);
	expect_errno("fspick", syscall(SYS_fspick, AT_FDCWD, "/", 0), ENOSYS);
	expect_errno("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/usr", AT_FDCWD, "/tmp", 0),
		     ENOSYS);
	struct mount_attr a = { .attr_clr = MOUNT_ATTR_RDONLY };
	expect_errno("mount_setattr clear read-only",
		     syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, &a, sizeof(a)), ENOSYS);
	/* And the read-only bind stays read-only. */
	expect_errno("write under /usr", open("/usr/attack", O_CREAT | O_WRONLY, 0644), EROFS);
	return attack_done();
}

static int do_write(void)
{
	/* An unprivileged stage may meet the permission check (EACCES) before the read-only
	 * mount (EROFS): both are refusals. */
	expect_errno("create /attack", open("/attack", O_CREAT | O_WRONLY, 0644), EROFS);
	expect_errno("create /etc/attack", open("/etc/attack", O_CREAT | O_WRONLY, 0644), EROFS);
	expect_errno2("write /etc/passwd", open("/etc/passwd", O_WRONLY | O_APPEND), EROFS, EACCES);
	expect_errno2("write /usr/bin/env", open("/usr/bin/env", O_WRONLY), EROFS, EACCES);
	expect_errno("create in /dev", open("/dev/attack", O_CREAT | O_WRONLY, 0644), EROFS);
	expect_errno2("write /proc/sys", open("/proc/sys/kernel/hostname", O_WRONLY), EROFS,
		      EACCES);
	int fd = open("/proc/sysrq-trigger", O_WRONLY);
	check("write /proc/sysrq-trigger", fd < 0 && (errno == EROFS || errno == ENOENT), "%s",
	      fd < 0 ? errname(errno) : "opened for writing");
	/* CVE-2019-5736: the process's own binary is busy, the supervisor's is out of
	 * reach (it is the runner binary). */
	expect_errno("write /proc/self/exe", open("/proc/self/exe", O_WRONLY), ETXTBSY);
	expect_errno2("open /proc/1/exe", open("/proc/1/exe", O_PATH), ENOENT, EACCES);
	expect_errno2("write /proc/1/exe", open("/proc/1/exe", O_WRONLY), ENOENT, EACCES);
	const char *runner = getenv("ATTACK_RUNNER_BIN");
	if (runner) {
		expect_errno2("open the runner binary", open(runner, O_WRONLY), ENOENT, EROFS);
	}
	/* What is writable: the workspace and /tmp. */
	fd = open("/tmp/attack-ok", O_CREAT | O_WRONLY, 0644);
	check("/tmp is writable", fd >= 0, "%s", fd >= 0 ? "yes" : errname(errno));
	fd = open("attack-ok", O_CREAT | O_WRONLY, 0644);
	check("the workspace is writable", fd >= 0, "%s", fd >= 0 ? "yes" : errname(errno));
	return attack_done();
}

static int do_read(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char name[512];
		snprintf(name, sizeof(name), "read %s", argv[i]);
		int fd = open(argv[i], O_RDONLY);
		if (fd >= 0) {
			char buf[64] = "";
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			/* An empty file (masked with /dev/null) shows nothing. */
			check(name, n <= 0, "opened, %zd bytes", n);
		} else {
			expect_errno2(name, -1, ENOENT, EACCES);
		}
	}
	return attack_done();
}

static int do_symlink(const char *target)
{
	unlink("escape-link");
	if (symlink(target, "escape-link") < 0) {
		check("make the symlink", 0, "%s", errname(errno));
		return attack_done();
	}
	expect_errno("follow a workspace symlink out", open("escape-link", O_RDONLY), ENOENT);
	unlink("root-link");
	if (symlink("/", "root-link") == 0) {
		expect_errno("root-link/etc/shadow", open("root-link/etc/shadow", O_RDONLY),
			     ENOENT);
		expect_errno("root-link/root", open("root-link/root", O_RDONLY), ENOENT);
	}
	return attack_done();
}

static int do_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int own = d ? dirfd(d) : -1, extra = 0;
	struct dirent *de;
	char seen[256] = "";
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.') {
			continue;
		}
		int fd = atoi(de->d_name);
		if (fd == own) {
			continue;
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			check("no directory fds", 0, "fd %d is a directory", fd);
		}
		strncat(seen, de->d_name, sizeof(seen) - strlen(seen) - 2);
		strcat(seen, " ");
		extra += fd > 2;
	}
	if (d) {
		closedir(d);
	}
	check("only fds 0-2", extra == 0, "open: %s", seen);
	return attack_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "mount")) {
		return do_mount();
	}
	if (!strcmp(cmd, "write")) {
		return do_write();
	}
	if (!strcmp(cmd, "read")) {
		return do_read(argc - 2, argv + 2);
	}
	if (!strcmp(cmd, "symlink") && argc > 2) {
		return do_symlink(argv[2]);
	}
	if (!strcmp(cmd, "fds")) {
		return do_fds();
	}
	fprintf(stderr, "usage: attack-fs mount|write|read PATH...|symlink TARGET|fds\n");
	return 2;
}
