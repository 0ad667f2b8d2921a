/*
 * attack-sys.c - dangerous system calls, foreign ABIs and terminal injection (escape tests
 * 5, 6, 7).
 *
 *   attack-sys calls     keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd,
 *                        kexec_load, init_module, finit_module, io_uring_setup,
 *                        personality(READ_IMPLIES_EXEC), reboot, clock_settime, settimeofday,
 *                        swapon, syslog, acct, open_by_handle_at
 *   attack-sys abi       a system call through int 0x80 (i386) and an x32 system call: the
 *                        process is killed (each tried in a child)
 *   attack-sys tty       TIOCSTI and TIOCLINUX on fds 0-2, also with bits above 32;
 *                        /dev/tty is not there
 *   attack-sys setuid-create  files created with a setuid or setgid mode (open, openat,
 *                        creat, mknod, through raw system calls: no libc help), fchmod and
 *                        fchmodat with those bits; openat2, whose mode a filter cannot read
 */
#include "attack.h"

#include <fcntl.h>
#include <linux/reboot.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int do_calls(void)
{
	expect_errno("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM);
	expect_errno("add_key", syscall(SYS_add_key, "user", "attack", "x", 1, -3), EPERM);
	expect_errno("request_key", syscall(SYS_request_key, "user", "attack", NULL, -3), EPERM);
	expect_errno("bpf", syscall(SYS_bpf, 0, NULL, 0), EPERM);
	expect_errno("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
	expect_errno("userfaultfd", syscall(SYS_userfaultfd, 0), EPERM);
	expect_errno("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
	expect_errno("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0), EPERM);
	expect_errno("init_module", syscall(SYS_init_module, "", 0, ""), EPERM);
	expect_errno("finit_module", syscall(SYS_finit_module, 0, "", 0), EPERM);
	expect_errno("delete_module", syscall(SYS_delete_module, "loop", 0), EPERM);
	char params[120] = { 0 };
	expect_errno("io_uring_setup", syscall(SYS_io_uring_setup, 4, params), EPERM);
	expect_errno("personality(READ_IMPLIES_EXEC)", personality(READ_IMPLIES_EXEC), EPERM);
	expect_errno("personality(ADDR_NO_RANDOMIZE)", personality(ADDR_NO_RANDOMIZE), EPERM);
	/* The kernel reads 32 bits: high bits must not smuggle a persona past the filter. */
	expect_errno("personality(READ_IMPLIES_EXEC | 1 << 32)",
		     syscall(SYS_personality, (1ul << 32) | READ_IMPLIES_EXEC), EPERM);
	check("personality query allowed", personality(0xffffffff) == 0, "persona %d",
	      personality(0xffffffff));
	check("personality(PER_LINUX) allowed", personality(PER_LINUX) == 0, "ok");
	expect_errno("reboot",
		     syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			     LINUX_REBOOT_CMD_CAD_OFF, NULL),
		     EPERM);
	struct timespec ts = { 1, 0 };
	expect_errno("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts), EPERM);
	expect_errno("settimeofday", syscall(SYS_settimeofday, NULL, NULL), EPERM);
	expect_errno("adjtimex", syscall(SYS_adjtimex, NULL), EPERM);
	expect_errno("swapon", syscall(SYS_swapon, "/tmp/swap", 0), EPERM);
	expect_errno("swapoff", syscall(SYS_swapoff, "/tmp/swap"), EPERM);
	expect_errno("syslog", syscall(SYS_syslog, 3 /* READ_ALL */, params, sizeof(params)),
		     EPERM);
	expect_errno("acct", syscall(SYS_acct, NULL), EPERM);
	expect_errno("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0), EPERM);
	expect_errno("quotactl", syscall(SYS_quotactl, 0, NULL, 0, NULL), EPERM);
	expect_errno("iopl", syscall(SYS_iopl, 3), EPERM);
	return attack_done();
}

static int in_child(void (*fn)(void))
{
	pid_t p = fork();
	if (p == 0) {
		fn();
		_exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return st;
}

static void int80(void)
{
	long ret = 20; /* getpid on i386 */
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
}

static void x32(void)
{
	syscall(0x40000000 | 39); /* getpid, x32 numbering */
}

static int do_abi(void)
{
	int st = in_child(int80);
	check("int 0x80 kills the process", WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	      "status 0x%x%s", st,
	      WIFSIGNALED(st) ? (WTERMSIG(st) == SIGSYS ? " (SIGSYS)" : "") : "");
	st = in_child(x32);
	check("an x32 system call kills the process", WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	      "status 0x%x", st);
	return attack_done();
}

static int do_tty(void)
{
	char c = 'x';
	for (int fd = 0; fd <= 2; fd++) {
		char name[64];
		snprintf(name, sizeof(name), "TIOCSTI on fd %d", fd);
		expect_errno(name, ioctl(fd, TIOCSTI, &c), EPERM);
		snprintf(name, sizeof(name), "TIOCSTI | 1 << 32 on fd %d", fd);
		expect_errno(name, syscall(SYS_ioctl, fd, (1ul << 32) | TIOCSTI, &c), EPERM);
		char sub = 2;
		snprintf(name, sizeof(name), "TIOCLINUX on fd %d", fd);
		expect_errno(name, ioctl(fd, TIOCLINUX, &sub), EPERM);
		snprintf(name, sizeof(name), "TIOCLINUX | 1 << 33 on fd %d", fd);
		expect_errno(name, syscall(SYS_ioctl, fd, (1ul << 33) | TIOCLINUX, &sub), EPERM);
	}
	expect_errno2("open /dev/tty", open("/dev/tty", O_RDWR), ENOENT, ENXIO);
	expect_errno("open /dev/console", open("/dev/console", O_RDWR), ENOENT);
	check("no controlling terminal", getsid(0) != -1 && tcgetpgrp(0) == -1, "sid %d",
	      (int)getsid(0));
	return attack_done();
}

static int do_setuid_create(void)
{
	expect_errno("open with a setuid mode",
		     syscall(SYS_open, "suid-open", O_CREAT | O_WRONLY, 04755), EPERM);
	expect_errno("openat with a setgid mode",
		     syscall(SYS_openat, AT_FDCWD, "sgid-openat", O_CREAT | O_WRONLY, 02755),
		     EPERM);
	expect_errno("creat with a setuid mode", syscall(SYS_creat, "suid-creat", 04700), EPERM);
	expect_errno("mknod of a setuid file", syscall(SYS_mknod, "suid-mknod", S_IFREG | 04755, 0),
		     EPERM);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "plain", O_CREAT | O_WRONLY, 0755);
	check("a plain file can be made", fd >= 0, "errno %d", errno);
	expect_errno("fchmod setuid", syscall(SYS_fchmod, fd, 04755), EPERM);
	expect_errno("fchmodat setgid", syscall(SYS_fchmodat, AT_FDCWD, "plain", 02755), EPERM);
	/* The high bits of the mode do not hide the setuid bit. */
	expect_errno("fchmod setuid with high bits", syscall(SYS_fchmod, fd, (1ul << 40) | 04755),
		     EPERM);
	struct {
		unsigned long long flags, mode, resolve;
	} how = { O_CREAT | O_WRONLY, 04755, 0 };
	expect_errno("openat2",
		     syscall(437 /* openat2 */, AT_FDCWD, "suid-openat2", &how, sizeof(how)),
		     ENOSYS);
	close(fd);
	return attack_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "calls")) {
		return do_calls();
	}
	if (!strcmp(cmd, "abi")) {
		return do_abi();
	}
	if (!strcmp(cmd, "tty")) {
		return do_tty();
	}
	if (!strcmp(cmd, "setuid-create")) {
		return do_setuid_create();
	}
	fprintf(stderr, "usage: attack-sys calls|abi|tty|setuid-create\n");
	return 2;
}
