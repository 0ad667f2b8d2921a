/*
 * attack-proc.c - escape attempts through processes and namespaces (escape tests 2, 3, 4,
 * 12).
 *
 *   attack-proc ns                  unshare, clone with namespace flags, setns, clone3
 *   attack-proc peers RUNNER SIBLING MARKER
 *                                   ptrace, process_vm_readv, kcmp, pidfd_getfd against
 *                                   the runner's and a sibling stage's host pids (read
 *                                   from the files RUNNER and SIBLING); neither the runner
 *                                   nor the sibling (MARKER in its command line) is in /proc
 *   attack-proc kill RUNNER         kill(-1, SIGKILL) and kill(runner's host pid)
 *   attack-proc caps [--setuid-child]
 *                                   no capabilities, no_new_privs, seccomp mode 2; a setuid
 *                                   binary gains nothing
 */
#include "attack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int do_ns(void)
{
	expect_errno("unshare user", unshare(CLONE_NEWUSER), EPERM);
	expect_errno("unshare mount", unshare(CLONE_NEWNS), EPERM);
	expect_errno("unshare net", unshare(CLONE_NEWNET), EPERM);
	static const struct {
		const char *name;
		unsigned long flag;
	} flags[] = {
		{ "clone NEWUSER", CLONE_NEWUSER },	{ "clone NEWPID", CLONE_NEWPID },
		{ "clone NEWNS", CLONE_NEWNS },		{ "clone NEWNET", CLONE_NEWNET },
		{ "clone NEWIPC", CLONE_NEWIPC },	{ "clone NEWUTS", CLONE_NEWUTS },
		{ "clone NEWCGROUP", CLONE_NEWCGROUP },
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		long r = syscall(SYS_clone, flags[i].flag | SIGCHLD, NULL, NULL, NULL, 0);
		if (r == 0) {
			_exit(0);
		}
		if (r > 0) {
			waitpid((pid_t)r, NULL, 0);
		}
		expect_errno(flags[i].name, r, EPERM);
	}
	/* The flag hidden among harmless ones, and above bit 31. */
	long r = syscall(SYS_clone, CLONE_NEWUSER | CLONE_FILES | SIGCHLD | (1ul << 40), NULL, NULL,
			 NULL, 0);
	if (r == 0) {
		_exit(0);
	}
	expect_errno("clone NEWUSER with other flags", r, EPERM);
	int fd = open("/proc/self/ns/net", O_RDONLY);
	expect_errno("setns", setns(fd, 0), EPERM);
	struct {
		unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack,
			stack_size, tls;
	} args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0) {
		_exit(0);
	}
	expect_errno("clone3", r, ENOSYS);
	/* A plain fork still works (libc falls back from clone3 to clone). */
	pid_t p = fork();
	if (p == 0) {
		_exit(7);
	}
	int st = 0;
	check("fork works", p > 0 && waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 7, "pid %d", p);
	return attack_done();
}

static pid_t read_pid(const char *path)
{
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		long v = 0;
		if (f && fscanf(f, "%ld", &v) == 1 && v > 0) {
			fclose(f);
			return (pid_t)v;
		}
		if (f) {
			fclose(f);
		}
		usleep(10000);
	}
	return -1;
}

/* Whether any process in /proc has needle in its command line. */
static int visible(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9') {
			continue;
		}
		char path[300], buf[4096];
		snprintf(path, sizeof(path), "/proc/%.256s/cmdline", de->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			continue;
		}
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i++) {
			buf[i] = buf[i] ? buf[i] : ' ';
		}
		buf[n > 0 ? n : 0] = '\0';
		found |= strstr(buf, needle) != NULL;
	}
	if (d) {
		closedir(d);
	}
	return found;
}

static int do_peers(const char *runner_file, const char *sibling_file, const char *marker)
{
	pid_t targets[2] = { read_pid(runner_file), read_pid(sibling_file) };
	const char *names[2] = { "runner", "sibling" };
	check("got the host pids", targets[0] > 0 && targets[1] > 0, "runner %d, sibling %d",
	      targets[0], targets[1]);
	for (int i = 0; i < 2; i++) {
		char name[96];
		pid_t t = targets[i];
		snprintf(name, sizeof(name), "ptrace attach the %s", names[i]);
		expect_errno(name, ptrace(PTRACE_ATTACH, t, NULL, NULL), EPERM);
		snprintf(name, sizeof(name), "ptrace seize the %s", names[i]);
		expect_errno(name, ptrace(PTRACE_SEIZE, t, NULL, NULL), EPERM);
		char buf[16];
		struct iovec local = { buf, sizeof(buf) },
			     remote = { (void *)0x400000, sizeof(buf) };
		snprintf(name, sizeof(name), "process_vm_readv the %s", names[i]);
		expect_errno(name, process_vm_readv(t, &local, 1, &remote, 1, 0), EPERM);
		snprintf(name, sizeof(name), "process_vm_writev the %s", names[i]);
		expect_errno(name, process_vm_writev(t, &local, 1, &remote, 1, 0), EPERM);
		snprintf(name, sizeof(name), "kcmp with the %s", names[i]);
		expect_errno(name, syscall(SYS_kcmp, getpid(), t, 0, 0, 0), EPERM);
		snprintf(name, sizeof(name), "pidfd_open the %s", names[i]);
		expect_errno(name, syscall(SYS_pidfd_open, t, 0), ESRCH);
	}
	/* Even a pidfd of ourselves yields no fds. */
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	expect_errno("pidfd_getfd", syscall(SYS_pidfd_getfd, self, 0, 0), EPERM);
	/* The supervisor (pid 1) is a copy of the runner: hidden, and its memory closed. */
	expect_errno2("ptrace the supervisor", ptrace(PTRACE_ATTACH, 1, NULL, NULL), EPERM, ESRCH);
	expect_errno("/proc/1 is hidden", open("/proc/1/status", O_RDONLY), ENOENT);
	char sleeper[128];
	snprintf(sleeper, sizeof(sleeper), "sleep %s", marker);
	check("the sibling stage is not in /proc", !visible(sleeper), "%s", sleeper);
	check("the runner is not in /proc", !visible("runner run"), "runner run");
	return attack_done();
}

static int do_kill(const char *runner_file)
{
	pid_t runner = read_pid(runner_file);
	check("got the runner's host pid", runner > 0, "%d", runner);
	/* In this namespace that number is nobody (or one of ours, never the runner). */
	expect_errno("kill the runner's pid", kill(runner, SIGKILL), ESRCH);
	/* The supervisor is pid 1 here: signals from inside its namespace do not move it,
	 * not even the ones the runner uses to stop the stage, nor forged ones. */
	static const int sigs[] = { SIGKILL, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		kill(1, sigs[i]);
	}
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR2;
	si.si_code = SI_QUEUE;
	si.si_pid = 0;
	syscall(SYS_rt_sigqueueinfo, 1, SIGUSR2, &si);
	usleep(200000);
	check("the supervisor survives SIGKILL from inside", kill(1, 0) == 0, "pid 1 %s",
	      kill(1, 0) == 0 ? "alive" : errname(errno));
	/* What kill(-1) reaches: only this stage. Report first, it ends us. */
	printf("about to kill(-1, SIGKILL)\n");
	attack_done();
	fflush(stdout);
	kill(-1, SIGKILL);
	sleep(5);
	printf("still alive after kill(-1)\n");
	return 0;
}

static int do_caps(int setuid_child)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int seen = 0;
	while (f && fgets(line, sizeof(line), f)) {
		static const char *const zero[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
						    "CapAmb:" };
		for (size_t i = 0; i < 5; i++) {
			if (!strncmp(line, zero[i], strlen(zero[i]))) {
				unsigned long long v = strtoull(line + strlen(zero[i]), NULL, 16);
				check(zero[i], v == 0, "%llx", v);
				seen++;
			}
		}
		if (!strncmp(line, "NoNewPrivs:", 11)) {
			check("NoNewPrivs", atoi(line + 11) == 1, "%d", atoi(line + 11));
			seen++;
		}
		if (!strncmp(line, "Seccomp:", 8)) {
			check("Seccomp", atoi(line + 8) == 2, "%d", atoi(line + 8));
			seen++;
		}
	}
	check("status fields found", seen == 7, "%d of 7", seen);
	if (f) {
		fclose(f);
	}
	if (setuid_child) {
		/* This binary, copied setuid-root into the workspace by the test. */
		uid_t before = geteuid();
		pid_t p = fork();
		if (p == 0) {
			execl("./attack-proc-setuid", "attack-proc-setuid", "caps", NULL);
			_exit(127);
		}
		int st = 0;
		waitpid(p, &st, 0);
		check("a setuid-root binary gains nothing", WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "child exit %d (euid before %d)", WEXITSTATUS(st), (int)before);
		printf("euid %d\n", (int)geteuid());
	}
	return attack_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "ns")) {
		return do_ns();
	}
	if (!strcmp(cmd, "peers") && argc > 4) {
		return do_peers(argv[2], argv[3], argv[4]);
	}
	if (!strcmp(cmd, "kill") && argc > 2) {
		return do_kill(argv[2]);
	}
	if (!strcmp(cmd, "caps")) {
		return do_caps(argc > 2 && !strcmp(argv[2], "--setuid-child"));
	}
	fprintf(stderr, "usage: attack-proc ns|peers R S M|kill R|caps [--setuid-child]\n");
	return 2;
}
