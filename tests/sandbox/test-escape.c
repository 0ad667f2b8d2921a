/*
 * test-escape.c - the escape test suite: attack programs (tests/sandbox/attacks/, built
 * without sanitizers) copied into a workspace and run as pipeline stages through the real
 * `runner run`. Each test asserts the specific denials the attack reports ("ok NAME:
 * ERRNO" lines in the stage log, no "FAIL"), and that the runner stays healthy: the exit
 * code it should have, a complete report, and the other stages of the run unaffected.
 *
 * Stage processes live in their own PID namespaces; the test finds them on the host by a
 * unique argument (tu_pid_matching) when it needs their host pids.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A workspace with the attack programs in it. */
static char *workspace(void)
{
	char *ws = tu_tmpdir();
	const char *dir = getenv("RUNNER_ATTACKS");
	cr_assert_not_null(dir, "RUNNER_ATTACKS is not set");
	static const char *const names[] = { "attack-fs", "attack-proc", "attack-sys", "attack-net",
					     "attack-limits" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *cmd = tu_strf("cp '%s/%s' '%s/%s'", dir, names[i], ws, names[i]);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		free(cmd);
	}
	return ws;
}

static void drop(char *ws)
{
	tu_rmdir(ws);
	free(ws);
}

static char *stage_log(const char *ws, const char *stage)
{
	char *log = tu_readf("%s/.runner/runs/latest/logs/%s.log", ws, stage);
	cr_assert_not_null(log, "no log for stage %s", stage);
	return log;
}

/* Every attack line of the stage is "ok", and each of `want` appears. */
static void assert_denied(const char *ws, const char *stage, const char *const *want)
{
	char *log = stage_log(ws, stage);
	cr_assert_null(strstr(log, "FAIL "), "an attack was not denied in stage %s:\n%s", stage,
		       log);
	for (; *want; want++) {
		char *line = tu_strf("ok %s", *want);
		cr_assert_not_null(strstr(log, line), "missing '%s' in stage %s:\n%s", line, stage,
				   log);
		free(line);
	}
	free(log);
}

static json_t *report(const char *ws)
{
	json_t *rep = tu_latest_report(ws);
	cr_assert_not_null(rep, "the runner wrote no report");
	return rep;
}

/* Run the pipeline to the end; the runner must exit with `status`. */
static void run_expect(const char *ws, const char *yaml, int status)
{
	tu_write(ws, ".runner.yml", yaml);
	struct tu_result r = tu_runner_run(ws, "run", "--no-color", NULL);
	cr_assert_eq(r.status, status, "runner exited %d, not %d\nstdout:\n%s\nstderr:\n%s",
		     r.status, status, r.out, r.err);
	tu_result_free(&r);
}

static const char *stage_message(json_t *rep, const char *name)
{
	json_t *s = tu_report_stage(rep, name);
	return s ? json_string_value(json_object_get(s, "message")) : NULL;
}

/* Start `runner run` in the background; its stdout and stderr go to ws/runner.out. */
static pid_t start_runner(const char *ws)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *out = tu_strf("%s/runner.out", ws);
		int fd = open(out, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || chdir(ws) < 0) {
			_exit(99);
		}
		dup2(fd, 1);
		dup2(fd, 2);
		execl(tu_runner(), "runner", "run", "--no-color", "-j4", NULL);
		_exit(98);
	}
	cr_assert_gt(pid, 0);
	return pid;
}

static int wait_runner(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "the runner died: status 0x%x", st);
	return WEXITSTATUS(st);
}

/* What the background runner printed (for failure messages); static storage. */
static const char *runner_out(const char *ws)
{
	static char buf[16384];
	char *path = tu_strf("%s/runner.out", ws);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0) {
		close(fd);
	}
	free(path);
	return buf;
}

static pid_t wait_pid_matching(const char *marker)
{
	for (int i = 0; i < 1000; i++) {
		int p = tu_pid_matching(marker);
		if (p > 0) {
			return p;
		}
		usleep(10000);
	}
	cr_assert_fail("no process with '%s' appeared", marker);
	return -1;
}

static void write_pid(const char *ws, const char *name, pid_t pid)
{
	char *s = tu_strf("%d\n", (int)pid);
	tu_write(ws, name, s);
	free(s);
}

/* 1. Mounts: the old API, the new one, and remounting a read-only bind. */
Test(escape, mount_calls_are_denied, .timeout = 120)
{
	char *ws = workspace();
	run_expect(ws, "version: 1\nstages:\n  mount:\n    run: ./attack-fs mount\n", 0);
	assert_denied(
		ws, "mount",
		(const char *const[]){
			"mount tmpfs: EPERM", "mount bind: EPERM", "remount /usr read-write: EPERM",
			"umount2 /: EPERM", "pivot_root: EPERM", "chroot: EPERM",
			"open_tree: ENOSYS", "fsopen: ENOSYS", "move_mount: ENOSYS",
			"mount_setattr clear read-only: ENOSYS", "write under /usr: EROFS", NULL });
	drop(ws);
}

/* 2. Namespaces: unshare, clone with namespace flags, setns; clone3 answers ENOSYS. */
Test(escape, namespace_calls_are_denied, .timeout = 120)
{
	char *ws = workspace();
	run_expect(ws, "version: 1\nstages:\n  ns:\n    run: ./attack-proc ns\n", 0);
	assert_denied(ws, "ns",
		      (const char *const[]){
			      "unshare user: EPERM", "clone NEWUSER: EPERM", "clone NEWPID: EPERM",
			      "clone NEWNET: EPERM", "clone NEWUSER with other flags: EPERM",
			      "setns: EPERM", "clone3: ENOSYS", "fork works", NULL });
	drop(ws);
}

/* 3. The runner and a sibling stage: no ptrace, no memory access, not even visible. */
Test(escape, other_processes_are_out_of_reach, .timeout = 120)
{
	char *ws = workspace();
	char *marker = tu_strf("300.%d", (int)getpid());
	char *yaml =
		tu_strf("version: 1\nstages:\n"
			"  sibling:\n    timeout: 60s\n    run: |\n"
			"      sleep %s &\n"
			"      while [ ! -e attack.done ]; do sleep 0.05; done\n"
			"      kill $!\n"
			"  attack:\n    timeout: 60s\n    run: |\n"
			"      rc=0\n"
			"      ./attack-proc peers runner.hostpid sibling.hostpid %s || rc=$?\n"
			"      touch attack.done\n"
			"      exit $rc\n",
			marker, marker);
	tu_write(ws, ".runner.yml", yaml);
	pid_t runner = start_runner(ws);
	write_pid(ws, "runner.hostpid", runner);
	write_pid(ws, "sibling.hostpid", wait_pid_matching(marker));
	cr_assert_eq(wait_runner(runner), 0, "%s", runner_out(ws));
	assert_denied(
		ws, "attack",
		(const char *const[]){
			"got the host pids", "ptrace attach the runner: EPERM",
			"ptrace seize the runner: EPERM", "process_vm_readv the runner: EPERM",
			"process_vm_writev the runner: EPERM", "kcmp with the runner: EPERM",
			"pidfd_open the runner: ESRCH", "ptrace attach the sibling: EPERM",
			"process_vm_readv the sibling: EPERM", "kcmp with the sibling: EPERM",
			"pidfd_getfd: EPERM", "/proc/1 is hidden: ENOENT",
			"the sibling stage is not in /proc", "the runner is not in /proc", NULL });
	json_t *rep = report(ws);
	cr_assert_str_eq(tu_stage_status(rep, "sibling"), "passed");
	json_decref(rep);
	free(yaml);
	free(marker);
	drop(ws);
}

/* 4. kill(-1, SIGKILL) and killing the runner's pid reach nothing outside the stage. */
Test(escape, kill_reaches_only_the_stage, .timeout = 120)
{
	char *ws = workspace();
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n"
		 "  sibling:\n    timeout: 60s\n    run: |\n"
		 "      touch sibling.up\n"
		 "      while [ ! -e kill.sent ]; do sleep 0.05; done\n"
		 "      sleep 0.5\n"
		 "      echo sibling survived\n"
		 "  attack:\n    timeout: 60s\n    run: |\n"
		 "      while [ ! -e sibling.up ]; do sleep 0.05; done\n"
		 "      touch kill.sent\n"
		 "      ./attack-proc kill runner.hostpid\n"
		 "  after:\n    needs: [sibling]\n    run: echo the runner goes on\n");
	pid_t runner = start_runner(ws);
	write_pid(ws, "runner.hostpid", runner);
	/* One stage failed (its own processes were killed): exit 1, not a crash. */
	cr_assert_eq(wait_runner(runner), 1, "%s", runner_out(ws));
	char *log = stage_log(ws, "attack");
	cr_assert_not_null(strstr(log, "ok kill the runner's pid: ESRCH"), "%s", log);
	cr_assert_not_null(strstr(log, "ok the supervisor survives SIGKILL from inside"), "%s",
			   log);
	cr_assert_not_null(strstr(log, "about to kill(-1, SIGKILL)"), "%s", log);
	cr_assert_null(strstr(log, "still alive after kill(-1)"), "%s", log);
	cr_assert_null(strstr(log, "FAIL "), "%s", log);
	free(log);
	json_t *rep = report(ws);
	cr_assert_str_eq(tu_stage_status(rep, "attack"), "failed");
	cr_assert_str_eq(tu_stage_status(rep, "sibling"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "after"), "passed");
	json_decref(rep);
	char *sib = stage_log(ws, "sibling");
	cr_assert_not_null(strstr(sib, "sibling survived"));
	free(sib);
	drop(ws);
}

/* 5. Terminal injection, with and without bits above 32; no terminal at all. */
Test(escape, terminal_injection_is_denied, .timeout = 120)
{
	char *ws = workspace();
	run_expect(ws, "version: 1\nstages:\n  tty:\n    run: ./attack-sys tty\n", 0);
	assert_denied(ws, "tty",
		      (const char *const[]){
			      "TIOCSTI on fd 0: EPERM", "TIOCSTI on fd 1: EPERM",
			      "TIOCSTI on fd 2: EPERM", "TIOCSTI | 1 << 32 on fd 0: EPERM",
			      "TIOCLINUX on fd 2: EPERM", "TIOCLINUX | 1 << 33 on fd 1: EPERM",
			      "open /dev/tty", "no controlling terminal", NULL });
	drop(ws);
}

/* 6. The kernel's dangerous interfaces. */
Test(escape, dangerous_system_calls_are_denied, .timeout = 120)
{
	char *ws = workspace();
	run_expect(ws, "version: 1\nstages:\n  calls:\n    run: ./attack-sys calls\n", 0);
	assert_denied(ws, "calls",
		      (const char *const[]){
			      "keyctl: EPERM", "add_key: EPERM", "bpf: EPERM",
			      "perf_event_open: EPERM", "userfaultfd: EPERM", "kexec_load: EPERM",
			      "init_module: EPERM", "io_uring_setup: EPERM",
			      "personality(READ_IMPLIES_EXEC): EPERM",
			      "personality(READ_IMPLIES_EXEC | 1 << 32): EPERM",
			      "personality query allowed", "reboot: EPERM", "clock_settime: EPERM",
			      "swapon: EPERM", "syslog: EPERM", NULL });
	drop(ws);
}

/* 7. Foreign ABIs kill the process. */
Test(escape, foreign_abis_are_killed, .timeout = 120)
{
	char *ws = workspace();
	run_expect(ws, "version: 1\nstages:\n  abi:\n    run: ./attack-sys abi\n", 0);
	assert_denied(ws, "abi",
		      (const char *const[]){ "int 0x80 kills the process",
					     "an x32 system call kills the process", NULL });
	drop(ws);
}

/* 8. Host files, the run record, another workspace, the runner's environment. */
Test(escape, host_files_and_secrets_are_out_of_reach, .timeout = 120)
{
	char *ws = workspace();
	char *other = tu_tmpdir();
	tu_write(other, "secret.txt", "other-workspace-secret\n");
	char *yaml =
		tu_strf("version: 1\nstages:\n"
			"  read:\n    run: |\n"
			"      ./attack-fs read /etc/shadow /etc/gshadow /root /root/.ssh/id_rsa "
			"%s/secret.txt "
			"%s \"$RUNNER_WORKSPACE/.runner/.gitignore\" "
			"\"$RUNNER_WORKSPACE/.runner/runs/$RUNNER_RUN_ID/logs/read.log\" "
			"/proc/1/environ /proc/1/cmdline /proc/kcore /proc/keys /proc/kmsg "
			"/sys/kernel/notes /etc/ssh/ssh_host_ed25519_key /etc/ssl/private "
			"/etc/ssl/private/ssl-cert-snakeoil.key /etc/apt/auth.conf.d\n"
			"      ./attack-fs read \"/proc/$(cat runner.hostpid)/environ\" "
			"\"/proc/$(cat runner.hostpid)/cmdline\"\n"
			"      if grep -rl topsecret-never-give[n] /proc/*/environ "
			"/proc/*/cmdline 2>/dev/null; "
			"then echo 'FAIL secret found'; exit 1; fi\n"
			"      if env | grep -q topsecret-never-give[n]; then echo 'FAIL secret "
			"in env'; exit 1; fi\n"
			"      echo 'ok the unrequested secret is nowhere'\n",
			other, other);
	tu_write(ws, ".runner.yml", yaml);
	/* The runner has a secret in its environment that this stage did not ask for. */
	setenv("RUNNER_SECRET_UNASKED", "topsecret-never-given", 1);
	pid_t runner = start_runner(ws);
	write_pid(ws, "runner.hostpid", runner);
	int st = wait_runner(runner);
	unsetenv("RUNNER_SECRET_UNASKED");
	cr_assert_eq(st, 0, "%s", runner_out(ws));
	char *sec = tu_strf("read %s/secret.txt: ENOENT", other);
	char *oth = tu_strf("read %s: ENOENT", other);
	char *rp = tu_strf("read /proc/%d/environ: ENOENT", (int)runner);
	assert_denied(ws, "read",
		      (const char *const[]){ "read /etc/shadow: ENOENT", "read /root: ENOENT", sec,
					     oth, "read /proc/1/environ: ENOENT", rp,
					     "the unrequested secret is nowhere", NULL });
	char *log = stage_log(ws, "read");
	cr_assert(strstr(log, "/.runner/.gitignore: ENOENT") &&
			  strstr(log, "/logs/read.log: ENOENT"),
		  "the run record is visible:\n%s", log);
	free(log);
	free(sec);
	free(oth);
	free(rp);
	free(yaml);
	tu_rmdir(other);
	free(other);
	drop(ws);
}

/* 9. Writes outside the workspace and /tmp; the binaries (CVE-2019-5736). */
Test(escape, writes_outside_the_workspace_fail, .timeout = 120)
{
	char *ws = workspace();
	char *yaml =
		tu_strf("version: 1\nstages:\n  write:\n    env: { ATTACK_RUNNER_BIN: \"%s\" }\n"
			"    run: ./attack-fs write\n",
			tu_runner());
	run_expect(ws, yaml, 0);
	assert_denied(
		ws, "write",
		(const char *const[]){ "create /attack: EROFS", "create /etc/attack: EROFS",
				       "write /etc/passwd: EROFS", "write /usr/bin/env: EROFS",
				       "write /proc/sys: EROFS", "write /proc/sysrq-trigger",
				       "write /proc/self/exe: ETXTBSY", "open /proc/1/exe",
				       "write /proc/1/exe", "open the runner binary: ENOENT",
				       "/tmp is writable", "the workspace is writable", NULL });
	free(yaml);
	drop(ws);
}

/* 9b. The device nodes a stage gets (and /dev/null over the masked /proc files) are the
 * host's: a stage running as root, which owns them, could change their mode or times on
 * the host (chmod 000 /dev/null would break every other user of the host). They are
 * read-only mounts: writing to the devices works, changing the nodes does not. The host's
 * modes are put back whatever happens, so a failing run cannot break the machine. */
Test(escape, the_hosts_device_nodes_cannot_be_changed, .timeout = 120)
{
	static const char *const nodes[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					     "/dev/urandom" };
	struct stat before[5];
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(stat(nodes[i], &before[i]), 0);
	}
	char *ws = workspace();
	run_expect(ws,
		   "version: 1\nstages:\n  dev:\n    run: |\n"
		   "      for f in /dev/null /dev/zero /dev/full /dev/random /dev/urandom "
		   "/proc/kcore /proc/keys /proc/kmsg; do\n"
		   "        [ -e \"$f\" ] || continue\n"
		   "        if chmod 0600 \"$f\" 2>/dev/null; then echo \"FAIL chmod $f\"; "
		   "else echo \"ok chmod $f\"; fi\n"
		   "        if touch -m -d @946684800 \"$f\" 2>/dev/null; then echo \"FAIL touch "
		   "$f\"; else echo \"ok touch $f\"; fi\n"
		   "      done\n"
		   "      echo x > /dev/null && echo 'ok write /dev/null'\n"
		   "      head -c 1 /dev/urandom > /dev/null && echo 'ok read /dev/urandom'\n"
		   "      grep -q ' /dev/pts .*max=256' /proc/self/mountinfo && echo 'ok ptys "
		   "capped'\n",
		   0);
	for (size_t i = 0; i < 5; i++) {
		struct stat now;
		cr_assert_eq(stat(nodes[i], &now), 0);
		if ((now.st_mode & 07777) != (before[i].st_mode & 07777)) {
			chmod(nodes[i], before[i].st_mode & 07777);
		}
		cr_expect_eq(now.st_mode & 07777, before[i].st_mode & 07777, "%s changed",
			     nodes[i]);
		cr_expect_eq(now.st_mtime, before[i].st_mtime, "%s touched", nodes[i]);
	}
	assert_denied(ws, "dev",
		      (const char *const[]){ "chmod /dev/null", "touch /dev/null",
					     "chmod /dev/full", "chmod /proc/keys",
					     "write /dev/null", "read /dev/urandom", "ptys capped",
					     NULL });
	drop(ws);
}

/* 10a. A symlink in the workspace leads into the sandbox's root, not the host's. */
Test(escape, workspace_symlinks_lead_nowhere, .timeout = 120)
{
	char *ws = workspace();
	char *outside = tu_tmpdir();
	tu_write(outside, "host-secret", "host secret\n");
	char *yaml = tu_strf(
		"version: 1\nstages:\n  link:\n    run: ./attack-fs symlink %s/host-secret\n",
		outside);
	run_expect(ws, yaml, 0);
	assert_denied(ws, "link",
		      (const char *const[]){ "follow a workspace symlink out: ENOENT",
					     "root-link/etc/shadow: ENOENT", NULL });
	free(yaml);
	tu_rmdir(outside);
	free(outside);
	drop(ws);
}

/* 10b. A symlink planted where a mount goes makes the stage fail, never mount elsewhere. */
Test(escape, symlinked_mount_destination_fails_closed, .timeout = 120)
{
	char *ws = workspace();
	char *prot = tu_strf("%s/protected", ws);
	cr_assert_eq(symlink("/", prot), 0);
	free(prot);
	run_expect(ws,
		   "version: 1\nstages:\n  guarded:\n    sandbox: { read-only: [protected] }\n"
		   "    run: ls protected/etc\n",
		   4);
	json_t *rep = report(ws);
	cr_assert_str_eq(tu_stage_status(rep, "guarded"), "error");
	const char *msg = stage_message(rep, "guarded");
	cr_assert(msg && strstr(msg, "read-only path") && strstr(msg, "symbolic links"), "%s",
		  msg ? msg : "(none)");
	json_decref(rep);
	drop(ws);
}

/* 10b, raced: the destination is swapped between a directory and a symlink to / while
 * stages start. Each start either fails closed or mounts the real directory. */
Test(escape, swapped_mount_destination_never_redirects, .timeout = 300)
{
	char *ws = workspace();
	char *prot = tu_strf("%s/protected", ws), *dir = tu_strf("%s/real", ws),
	     *lnk = tu_strf("%s/link", ws);
	cr_assert_eq(mkdir(dir, 0755), 0);
	tu_write(dir, "marker", "the real directory\n");
	cr_assert_eq(symlink("/", lnk), 0);
	cr_assert_eq(symlink("real", prot), 0);
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n  guarded:\n    sandbox: { read-only: [protected] }\n"
		 "    run: |\n"
		 "      if [ -e protected/usr ] || [ -e protected/etc/passwd ]; then\n"
		 "        echo 'FAIL the mount followed the symlink'; exit 1; fi\n"
		 "      test -e protected/marker\n"
		 "      ! touch protected/x 2>/dev/null\n");
	pid_t swapper = fork();
	if (swapper == 0) {
		/* Swap atomically: rename a prepared directory or symlink over the name. */
		char *tmpd = tu_strf("%s/swap-d", ws), *tmpl = tu_strf("%s/swap-l", ws);
		for (int i = 0;; i++) {
			if (i % 2) {
				mkdir(tmpd, 0755);
				tu_write(tmpd, "marker", "the real directory\n");
				rename(tmpd, prot);
			} else {
				symlink("/", tmpl);
				rename(tmpl, prot);
			}
			usleep(200);
		}
	}
	int passed = 0, refused = 0;
	for (int i = 0; i < 20; i++) {
		struct tu_result r = tu_runner_run(ws, "run", "--no-color", NULL);
		cr_assert(r.status == 0 || r.status == 4, "run %d exited %d:\n%s", i, r.status,
			  r.out);
		passed += r.status == 0;
		refused += r.status == 4;
		tu_result_free(&r);
	}
	kill(swapper, SIGKILL);
	waitpid(swapper, NULL, 0);
	cr_assert_eq(passed + refused, 20);
	free(prot);
	free(dir);
	free(lnk);
	drop(ws);
}

/* 11. fd hygiene: an fd the runner inherited stays out; no /proc/self/fd working dirs. */
Test(escape, only_the_stage_fds_arrive, .timeout = 120)
{
	char *ws = workspace();
	tu_write(ws, "secret-file", "do not pass me on\n");
	tu_write(ws, ".runner.yml", "version: 1\nstages:\n  fds:\n    run: exec ./attack-fs fds\n");
	/* The runner inherits an open secret file (and a directory) without close-on-exec. */
	char *sf = tu_strf("%s/secret-file", ws);
	int secret = open(sf, O_RDONLY);
	free(sf);
	int dirfd = open(ws, O_RDONLY | O_DIRECTORY);
	cr_assert(secret >= 0 && dirfd >= 0);
	pid_t runner = start_runner(ws);
	close(secret);
	close(dirfd);
	cr_assert_eq(wait_runner(runner), 0, "%s", runner_out(ws));
	assert_denied(ws, "fds", (const char *const[]){ "only fds 0-2", NULL });

	/* A working directory through /proc/self/fd (CVE-2024-21626) is refused. */
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n  a:\n    workdir: /proc/self/fd/3\n    run: pwd\n");
	struct tu_result r = tu_runner_run(ws, "validate", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "outside the workspace"), "%s", r.err);
	tu_result_free(&r);
	char *fdlink = tu_strf("%s/fdlink", ws);
	cr_assert_eq(symlink("/proc/self/fd/3", fdlink), 0);
	free(fdlink);
	run_expect(ws, "version: 1\nstages:\n  a:\n    workdir: fdlink\n    run: pwd\n", 1);
	json_t *rep = report(ws);
	const char *msg = stage_message(rep, "a");
	cr_assert(msg && strstr(msg, "workdir 'fdlink'") &&
			  (strstr(msg, "outside the workspace") || strstr(msg, "does not exist")),
		  "%s", msg ? msg : "(none)");
	json_decref(rep);
	drop(ws);
}

/* 12. No capabilities, no_new_privs, seccomp; a setuid-root binary gains nothing. */
/* 12b. A stage, root in its sandbox, cannot leave a setuid or setgid program in the
 * workspace (a directory of the host, where it would be setuid root): chmod with either
 * bit, a file created with one, and openat2 (whose mode a filter cannot see) are denied. */
Test(escape, no_setuid_files_can_be_made, .timeout = 120)
{
	char *ws = workspace();
	run_expect(
		ws,
		"version: 1\nstages:\n  suid:\n    run: |\n"
		"      echo x > f\n"
		"      chmod 4755 f 2>/dev/null && echo 'FAIL chmod u+s' || echo 'ok chmod u+s'\n"
		"      chmod 2755 f 2>/dev/null && echo 'FAIL chmod g+s' || echo 'ok chmod g+s'\n"
		"      install -m 6755 f g 2>/dev/null && echo 'FAIL install' || echo 'ok "
		"install'\n"
		"      chmod 0755 f && echo 'ok chmod 755 works'\n"
		"      ./attack-sys setuid-create\n",
		0);
	assert_denied(ws, "suid",
		      (const char *const[]){ "chmod u+s", "chmod g+s", "install", "chmod 755 works",
					     "open with a setuid mode: EPERM", "openat2: ENOSYS",
					     NULL });
	struct stat st;
	char *f = tu_strf("%s/f", ws);
	cr_assert_eq(stat(f, &st), 0);
	cr_assert_eq(st.st_mode & (S_ISUID | S_ISGID), 0u);
	free(f);
	drop(ws);
}

Test(escape, no_privileges_even_through_setuid, .timeout = 120)
{
	char *ws = workspace();
	char *cmd = tu_strf("cp '%s/attack-proc' '%s/attack-proc-setuid' && chmod 4755 "
			    "'%s/attack-proc-setuid'",
			    ws, ws, ws);
	cr_assert_eq(system(cmd), 0);
	run_expect(ws, "version: 1\nstages:\n  caps:\n    run: ./attack-proc caps --setuid-child\n",
		   0);
	assert_denied(ws, "caps",
		      (const char *const[]){ "CapInh:: 0", "CapPrm:: 0", "CapEff:: 0", "CapBnd:: 0",
					     "CapAmb:: 0", "NoNewPrivs: 1", "Seccomp: 2",
					     "a setuid-root binary gains nothing", NULL });
	free(cmd);
	drop(ws);
}

/* 13. Fork bomb, memory bomb, a full /tmp, CPU spins: each stops at its limit while the
 * runner and another stage go on. */
Test(escape, resource_limits_hold, .timeout = 300)
{
	char *ws = workspace();
	run_expect(
		ws,
		"version: 1\nstages:\n"
		"  steady:\n    run: |\n"
		"      i=0; while [ $i -lt 20 ]; do i=$((i+1)); sleep 0.1; done\n"
		"      echo steady to the end\n"
		"  forkbomb:\n    sandbox: { pids: 64 }\n    run: ./attack-limits forkbomb\n"
		"  membomb:\n    sandbox: { memory: 64M }\n    run: ./attack-limits memory 512\n"
		"  tmpfill:\n    sandbox: { tmp-size: 8M }\n    run: ./attack-limits tmpfill\n"
		"  spin:\n    timeout: 1s\n    kill-grace: 1s\n    run: ./attack-limits spin\n"
		"  cputime:\n    sandbox: { cpu-time: 1s }\n    run: exec ./attack-limits spin\n",
		1);
	assert_denied(ws, "forkbomb", (const char *const[]){ "the fork bomb is stopped", NULL });
	char *log = stage_log(ws, "forkbomb");
	const char *f = strstr(log, "forked ");
	cr_assert(f && atoi(f + 7) > 0 && atoi(f + 7) < 64, "%s", log);
	free(log);
	assert_denied(ws, "tmpfill", (const char *const[]){ "/tmp fills up", NULL });
	log = stage_log(ws, "tmpfill");
	const char *t = strstr(log, "tmp bytes ");
	cr_assert(t && atoll(t + 10) <= (8ll << 20) && atoll(t + 10) > (4ll << 20), "%s", log);
	free(log);
	json_t *rep = report(ws);
	cr_assert_str_eq(tu_stage_status(rep, "steady"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "forkbomb"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "tmpfill"), "passed");
	cr_assert_str_eq(tu_stage_status(rep, "membomb"), "failed");
	const char *mm = stage_message(rep, "membomb");
	cr_assert(mm && strstr(mm, "memory limit"), "%s", mm ? mm : "(none)");
	cr_assert_str_eq(tu_stage_status(rep, "spin"), "failed");
	cr_assert(json_is_true(json_object_get(tu_report_stage(rep, "spin"), "timed_out")));
	cr_assert_str_eq(tu_stage_status(rep, "cputime"), "failed");
	json_t *sig = json_object_get(tu_report_stage(rep, "cputime"), "signal");
	cr_assert(json_integer_value(sig) == SIGXCPU || json_integer_value(sig) == SIGKILL,
		  "cpu-time ended by signal %lld", (long long)json_integer_value(sig));
	json_decref(rep);
	drop(ws);
}

static int listen_local(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 16), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return s;
}

/* 14. Network none: only lo, the host's 127.0.0.1 unreachable, exotic sockets refused;
 * network host (opt-in) reaches the same listener, which proves the test. */
Test(escape, network_none_isolates, .timeout = 120)
{
	char *ws = workspace();
	int port;
	int s = listen_local(&port);
	char *yaml =
		tu_strf("version: 1\nstages:\n"
			"  none:\n    run: ./attack-net none %d\n"
			"  host:\n    sandbox: { network: host }\n    run: ./attack-net host %d\n",
			port, port);
	run_expect(ws, yaml, 0);
	assert_denied(
		ws, "none",
		(const char *const[]){ "only lo", "connect to the host's listener: ECONNREFUSED",
				       "own loopback works", "AF_PACKET: EPERM", "AF_VSOCK: EPERM",
				       "AF_ALG: EPERM", "AF_NETLINK route: EPERM",
				       "raw AF_INET: EPERM", "raw AF_INET6: EPERM", NULL });
	assert_denied(ws, "host",
		      (const char *const[]){ "connect to the host's listener",
					     "AF_PACKET with network host: EPERM",
					     "host TCP Fast Open key hidden",
					     "host IPv6 stable secrets hidden", NULL });
	json_t *rep = report(ws);
	json_t *none = json_object_get(tu_report_stage(rep, "none"), "sandbox");
	json_t *host = json_object_get(tu_report_stage(rep, "host"), "sandbox");
	cr_assert_str_eq(json_string_value(json_object_get(none, "network")), "none");
	cr_assert_str_eq(json_string_value(json_object_get(host, "network")), "host");
	cr_assert(json_is_true(json_object_get(none, "enabled")));
	json_decref(rep);
	close(s);
	free(yaml);
	drop(ws);
}

/* 14, continued. Every stage's network namespace is new: after a stage that left a
 * connection in TIME_WAIT, and one that left traces no /proc file lists all of (datagrams
 * counted without a packet, multicast groups whose reports the kernel sends after the
 * stage has ended), every later stage finds no packet counted on lo, no TIME_WAIT, no
 * unroutable datagram counted, and the port free. (Handing a namespace on when its stage
 * seemed to leave it untouched was tried: docs/benchmarks.md says why it was dropped.) */
Test(escape, every_stage_gets_a_fresh_network_namespace, .timeout = 120)
{
	char *ws = workspace();
	enum { N = 10, TIMEWAIT = 1, TRACES = 4 };
	char *yaml = tu_strf("version: 1\nstages:\n");
	for (int i = 0; i < N; i++) {
		const char *what = i == TIMEWAIT
					   ? "./attack-net fresh port && ./attack-net timewait port"
				   : i == TRACES ? "./attack-net fresh port && ./attack-net traces"
						 : "./attack-net fresh port";
		char *needs = i ? tu_strf(", needs: [s%d]", i - 1) : tu_strf("%s", "");
		char *next = tu_strf("%s  s%d: { run: \"%s\"%s }\n", yaml, i, what, needs);
		free(yaml);
		free(needs);
		yaml = next;
	}
	tu_write(ws, ".runner.yml", yaml);
	struct tu_result r = tu_runner_run(ws, "run", "--no-color", "-j1", NULL);
	cr_assert_eq(r.status, 0, "runner exited %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out,
		     r.err);
	tu_result_free(&r);
	assert_denied(ws, "s1", (const char *const[]){ "connection left in TIME_WAIT", NULL });
	assert_denied(ws, "s4",
		      (const char *const[]){ "unroutable IPv4 datagrams counted",
					     "IPv4 multicast group joined on lo",
					     "IPv6 multicast group joined on lo", NULL });
	for (int i = 0; i < N; i++) {
		char *name = tu_strf("s%d", i);
		assert_denied(ws, name,
			      (const char *const[]){ "no packet through lo before this stage",
						     "no connection in TIME_WAIT",
						     "no unroutable datagram counted", NULL });
		if (i > TIMEWAIT) {
			assert_denied(
				ws, name,
				(const char *const[]){ "bind the earlier stage's port", NULL });
		}
		free(name);
	}
	free(yaml);
	drop(ws);
}

/* The code a built-in stage runs is the runner's own: the pipeline's `env:` cannot preload
 * a library into it (a shared object whose constructor writes "no findings" to the
 * worker's result pipe), and its sandbox cannot have a root filesystem (whose loader and
 * libraries would be the workspace's). A script stage still gets LD_* variables. */
Test(escape, a_built_in_stage_runs_only_the_runners_code, .timeout = 120)
{
	char *ws = workspace();
	const char *dir = getenv("RUNNER_ATTACKS");
	char *cmd = tu_strf("cp '%s/fake-result.so' '%s/fake-result.so'", dir, ws);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
	tu_write(ws, "src/conf.env", "aws_key=AKIAQ3RZ7TWL5MXK4PHD\n");
	char *yaml = tu_strf("version: 1\n"
			     "env: { LD_PRELOAD: %s/fake-result.so, LD_BIND_NOW: \"1\" }\n"
			     "stages:\n"
			     "  secrets:\n    uses: secrets\n    with: { paths: [src] }\n",
			     ws);
	run_expect(ws, yaml, 3);
	json_t *rep = report(ws);
	json_t *st = tu_report_stage(rep, "secrets");
	cr_assert_str_eq(json_string_value(json_object_get(st, "status")), "blocked");
	json_decref(rep);
	free(yaml);
	/* Scripts keep their environment. */
	run_expect(ws,
		   "version: 1\nenv: { LD_BIND_NOW: \"1\" }\nstages:\n"
		   "  s: { run: 'test \"$LD_BIND_NOW\" = 1' }\n",
		   0);
	/* A root filesystem on a built-in stage is refused, with its place. */
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n  secrets:\n    uses: secrets\n"
		 "    sandbox: { rootfs: src }\n");
	struct tu_result r = tu_runner_run(ws, "validate", NULL);
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, ".runner.yml:5:"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "cannot have a sandbox.rootfs"), "%s", r.err);
	tu_result_free(&r);
	drop(ws);
}

/* A stage's outbox keeps its symbolic links as links; an output copied afterwards to a
 * path through one must not follow it (the runner, root, would create files wherever the
 * stage pointed it, outside the sandbox). */
Test(escape, an_artifact_link_cannot_redirect_the_record, .timeout = 120)
{
	char *ws = workspace();
	char *victim = tu_tmpdir();
	char *yaml = tu_strf("version: 1\nstages:\n  evil:\n    run: |\n"
			     "      ln -s %s \"$RUNNER_ARTIFACTS/$RUNNER_STAGE/link\"\n"
			     "      mkdir -p link && echo pwned > link/planted.txt\n"
			     "    outputs: [link/planted.txt]\n",
			     victim);
	run_expect(ws, yaml, 1);
	cr_assert_not(tu_exists("%s/planted.txt", victim), "the runner wrote through the link");
	json_t *rep = report(ws);
	cr_assert_not_null(strstr(stage_message(rep, "evil"), "symbolic link"), "%s",
			   stage_message(rep, "evil"));
	json_decref(rep);
	free(yaml);
	tu_rmdir(victim);
	free(victim);
	drop(ws);
}

/* 15. A double-forked daemon that ignores SIGTERM dies when its stage ends ... */
Test(escape, daemons_die_with_their_stage, .timeout = 120)
{
	char *ws = workspace();
	char *marker = tu_strf("400.%d", (int)getpid());
	char *yaml = tu_strf("version: 1\nstages:\n  daemon:\n    run: ./attack-limits daemon %s\n"
			     "  later:\n    needs: [daemon]\n    run: sleep 0.2\n",
			     marker);
	run_expect(ws, yaml, 0);
	assert_denied(ws, "daemon", (const char *const[]){ "the daemon started", NULL });
	cr_assert_eq(tu_procs_matching(marker), 0, "the daemon outlived its stage");
	free(yaml);
	free(marker);
	drop(ws);
}

/* ... and when the runner is killed with SIGKILL. */
Test(escape, daemons_die_with_a_killed_runner, .timeout = 120)
{
	char *ws = workspace();
	char *marker = tu_strf("401.%d", (int)getpid()), *busy = tu_strf("402.%d", (int)getpid());
	char *yaml = tu_strf("version: 1\nstages:\n  daemon:\n    run: |\n"
			     "      ./attack-limits daemon %s\n"
			     "      trap '' TERM\n"
			     "      sleep %s\n",
			     marker, busy);
	tu_write(ws, ".runner.yml", yaml);
	pid_t runner = start_runner(ws);
	wait_pid_matching(marker);
	wait_pid_matching(busy);
	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	for (int i = 0; i < 300 && (tu_procs_matching(marker) || tu_procs_matching(busy)); i++) {
		usleep(10000);
	}
	cr_assert_eq(tu_procs_matching(marker), 0, "the daemon outlived the runner");
	cr_assert_eq(tu_procs_matching(busy), 0, "the stage outlived the runner");
	free(yaml);
	free(marker);
	free(busy);
	drop(ws);
}

/* --no-sandbox is loud: a warning on stderr, and the report says so for the run and for
 * every stage. */
Test(escape, no_sandbox_is_loud_and_marked, .timeout = 120)
{
	char *ws = workspace();
	tu_write(
		ws, ".runner.yml",
		"version: 1\nstages:\n  a:\n    run: test -e /proc/1/cmdline && echo unconfined\n");
	struct tu_result r = tu_runner_run(ws, "run", "--no-color", "--no-sandbox", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.err, "WARNING: --no-sandbox"), "%s", r.err);
	tu_result_free(&r);
	json_t *rep = report(ws);
	cr_assert(json_is_true(json_object_get(json_object_get(rep, "options"), "no_sandbox")));
	cr_assert_not_null(
		strstr(json_string_value(json_object_get(rep, "warning")), "without isolation"));
	json_t *sb = json_object_get(tu_report_stage(rep, "a"), "sandbox");
	cr_assert(json_is_false(json_object_get(sb, "enabled")));
	json_decref(rep);
	/* And without the flag, the same stage is confined: pid 1 is hidden from it. */
	run_expect(ws, "version: 1\nstages:\n  a:\n    run: test ! -e /proc/1/cmdline\n", 0);
	rep = report(ws);
	cr_assert(json_is_false(json_object_get(json_object_get(rep, "options"), "no_sandbox")));
	cr_assert_null(json_object_get(rep, "warning"));
	sb = json_object_get(tu_report_stage(rep, "a"), "sandbox");
	cr_assert(json_is_true(json_object_get(sb, "enabled")));
	json_decref(rep);
	drop(ws);
}

/* A configured root filesystem replaces the host's /usr and /etc; a missing one fails the
 * stage rather than falling back to the host's. */
Test(escape, rootfs_replaces_the_host_root, .timeout = 120)
{
	char *ws = workspace();
	char *cmd =
		tu_strf("cd '%s' && mkdir -p rootfs/bin rootfs/lib/x86_64-linux-gnu rootfs/lib64 "
			"rootfs/etc && cp -L /bin/sh rootfs/bin/sh && "
			"cp -L /lib/x86_64-linux-gnu/libc.so.6 rootfs/lib/x86_64-linux-gnu/ && "
			"cp -L /lib64/ld-linux-x86-64.so.2 rootfs/lib64/ && "
			"echo image > rootfs/etc/flavour",
			ws);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	run_expect(ws,
		   "version: 1\nstages:\n  img:\n    sandbox: { rootfs: rootfs }\n    run: |\n"
		   "      test ! -e /usr/bin/env\n"
		   "      read f < /etc/flavour; test \"$f\" = image\n"
		   "      echo ok > /tmp/x\n"
		   "      echo rootfs-ok\n",
		   0);
	char *log = stage_log(ws, "img");
	cr_assert_not_null(strstr(log, "rootfs-ok"), "%s", log);
	free(log);
	run_expect(ws,
		   "version: 1\nstages:\n  img:\n    sandbox: { rootfs: /nonexistent/rootfs }\n"
		   "    run: echo ran\n",
		   4);
	json_t *rep = report(ws);
	const char *msg = stage_message(rep, "img");
	cr_assert(msg && strstr(msg, "open the root filesystem"), "%s", msg ? msg : "(none)");
	json_decref(rep);
	/* The host's root is never a rootfs, however it is spelt, nor reached through a
	 * symbolic link (one committed in the workspace, say): the stage does not run. */
	char *link = tu_strf("%s/hostroot", ws);
	cr_assert_eq(symlink("/", link), 0);
	static const char *const host[] = { "//", "/usr/..", "hostroot", "rootfs/../hostroot" };
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		char *yaml =
			tu_strf("version: 1\nstages:\n  img:\n    sandbox: { rootfs: \"%s\" }\n"
				"    run: cat /etc/shadow\n",
				host[i]);
		tu_write(ws, ".runner.yml", yaml);
		struct tu_result r = tu_runner_run(ws, "run", "--no-color", NULL);
		cr_assert(r.status == 4 || r.status == 2, "%s: exit %d\n%s%s", host[i], r.status,
			  r.out, r.err);
		cr_assert_null(strstr(r.out, "SHADOW-WAS-READ"), "%s: the host's /etc/shadow:\n%s",
			       host[i], r.out);
		tu_result_free(&r);
		free(yaml);
	}
	free(link);
	free(cmd);
	drop(ws);
}

/* The repository's .git is read-only unless a stage asks for it: a planted hook would run
 * on the host, outside any sandbox, at the next `git commit`. */
Test(escape, git_hooks_cannot_be_planted, .timeout = 120)
{
	char *ws = workspace();
	char *hooks = tu_strf("%s/.git/hooks", ws);
	char *cmd = tu_strf("mkdir -p '%s'", hooks);
	cr_assert_eq(system(cmd), 0);
	run_expect(
		ws,
		"version: 1\nstages:\n  plant:\n    run: |\n"
		"      if echo evil > .git/hooks/pre-commit; then echo 'FAIL planted'; exit 1; fi\n"
		"      echo 'ok .git is read-only'\n"
		"      echo build > built\n",
		0);
	assert_denied(ws, "plant", (const char *const[]){ ".git is read-only", NULL });
	cr_assert(!tu_exists("%s/pre-commit", hooks));
	cr_assert(tu_exists("%s/built", ws), "the rest of the workspace stays writable");
	run_expect(ws,
		   "version: 1\nstages:\n  tag:\n    sandbox: { read-write: [.git] }\n"
		   "    run: echo ok > .git/hooks/allowed\n",
		   0);
	cr_assert(tu_exists("%s/allowed", hooks));
	free(cmd);
	free(hooks);
	drop(ws);
	/* A worktree's (or submodule's) .git is a file naming the git directory: a stage must
	 * not point it at a directory of its own (with a core.fsmonitor that runs on the
	 * host at the next `git status`). */
	ws = workspace();
	tu_write(ws, ".git", "gitdir: /srv/repo/.git/worktrees/ws\n");
	run_expect(ws,
		   "version: 1\nstages:\n  point:\n    run: |\n"
		   "      mkdir -p evil\n"
		   "      if echo 'gitdir: evil' > .git; then echo 'FAIL .git rewritten'; exit 1; "
		   "fi\n"
		   "      if mv .git gone 2>/dev/null; then echo 'FAIL .git moved'; exit 1; fi\n"
		   "      echo 'ok .git file is read-only'\n",
		   0);
	assert_denied(ws, "point", (const char *const[]){ ".git file is read-only", NULL });
	char *gitfile = tu_readf("%s/.git", ws);
	cr_assert_str_eq(gitfile, "gitdir: /srv/repo/.git/worktrees/ws\n");
	free(gitfile);
	drop(ws);
	/* A .git that is a symbolic link cannot be made read-only: the stage does not run. */
	ws = workspace();
	char *link = tu_strf("%s/.git", ws);
	cr_assert_eq(symlink("elsewhere", link), 0);
	run_expect(ws, "version: 1\nstages:\n  point:\n    run: echo ran\n", 4);
	free(link);
	drop(ws);
}

/* The posture report: what this host gives, and which stages ask for more. */
Test(escape, sandbox_check_reports_the_host, .timeout = 120)
{
	char *ws = workspace();
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n  a: { run: \"true\" }\n"
		 "  b: { run: \"true\", sandbox: { network: host, memory: 1G } }\n");
	struct tu_result r = tu_runner_run(ws, "sandbox", "check", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_not_null(strstr(r.out, "pid namespace            yes"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "seccomp filter           yes"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "confined stage           yes"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "every stage of .runner.yml can run"), "%s", r.out);
	tu_result_free(&r);
	r = tu_runner_run(ws, "sandbox", "check", "--json", NULL);
	cr_assert_eq(r.status, 0);
	json_error_t err;
	json_t *j = json_loads(r.out, 0, &err);
	cr_assert_not_null(j, "%s", err.text);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_t *stages = json_object_get(j, "stages");
	cr_assert_eq(json_array_size(stages), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(stages, 1), "network")),
			 "host");
	json_decref(j);
	tu_result_free(&r);
	r = tu_runner_run(ws, "sandbox", NULL);
	cr_assert_eq(r.status, 2);
	tu_result_free(&r);
	drop(ws);
}

/* A stage may leave files in the record under $RUNNER_ARTIFACTS/$RUNNER_STAGE (a writable
 * outbox, copied in afterwards like outputs: links stay links); the rest of the record,
 * another stage's artifacts included, stays read-only. */
Test(escape, a_stage_writes_only_its_own_artifacts, .timeout = 120)
{
	char *ws = workspace();
	run_expect(ws,
		   "version: 1\nstages:\n"
		   "  first:\n    run: echo one > \"$RUNNER_ARTIFACTS/first/one.txt\"\n"
		   "  second:\n    needs: [first]\n    run: |\n"
		   "      out=\"$RUNNER_ARTIFACTS/$RUNNER_STAGE\"\n"
		   "      echo report > \"$out/report.json\"\n"
		   "      ln -s /etc/passwd \"$out/passwd\"\n"
		   "      if echo x > \"$RUNNER_ARTIFACTS/first/evil\"; then echo 'FAIL wrote "
		   "first'; exit 1; fi\n"
		   "      if echo x > \"$RUNNER_ARTIFACTS/evil\"; then echo 'FAIL wrote the "
		   "record'; exit 1; fi\n"
		   "      cat \"$RUNNER_ARTIFACTS/first/one.txt\"\n",
		   0);
	char *one = tu_readf("%s/.runner/runs/latest/artifacts/first/one.txt", ws);
	char *rep = tu_readf("%s/.runner/runs/latest/artifacts/second/report.json", ws);
	cr_assert_str_eq(one, "one\n");
	cr_assert_str_eq(rep, "report\n");
	char *link = tu_strf("%s/.runner/runs/latest/artifacts/second/passwd", ws);
	struct stat st;
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode), "a link the stage made stays a link");
	cr_assert(!tu_exists("%s/.runner/runs/latest/artifacts/first/evil", ws));
	cr_assert(!tu_exists("%s/.runner/runs/latest/outbox", ws) ||
		  !tu_exists("%s/.runner/runs/latest/outbox/second", ws));
	char *log = stage_log(ws, "second");
	cr_assert_null(strstr(log, "FAIL"), "%s", log);
	free(log);
	free(one);
	free(rep);
	free(link);
	drop(ws);
}
