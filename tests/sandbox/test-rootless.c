/*
 * test-rootless.c - the sandbox for an unprivileged runner: the test drops to uid/gid
 * 65534 (nobody) with a workspace that user owns and runs the real CLI there. Stages get a
 * user namespace of their own (the runner's uid mapped to itself), and the same denials
 * as under root; a limit the host cannot apply for this user (memory: no writable cgroup)
 * makes the stage fail with exit code 4 instead of running without it.
 *
 * Skipped, with the reason, when the kernel does not let unprivileged users create user
 * namespaces, or when the test cannot change its user (not root).
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static int become_nobody(void)
{
	return setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0 ? 0 : -1;
}

/* NULL when an unprivileged user can make a user namespace here, else why not. */
static const char *rootless_unavailable(void)
{
	if (geteuid() != 0) {
		return "the test must start as root to drop to an unprivileged user";
	}
	pid_t p = fork();
	if (p == 0) {
		if (become_nobody() < 0) {
			_exit(2);
		}
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 2) {
		return "cannot switch to uid 65534";
	}
	return WEXITSTATUS(st) == 0
		       ? NULL
		       : "this kernel does not allow unprivileged user namespaces "
			 "(kernel.unprivileged_userns_clone or user.max_user_namespaces)";
}

/* A workspace nobody owns, with the attack programs and a copy of the runner binary (the
 * build directory need not be readable by nobody). */
static char *workspace(void)
{
	char *ws = tu_tmpdir();
	const char *dir = getenv("RUNNER_ATTACKS");
	cr_assert_not_null(dir);
	char *cmd =
		tu_strf("cd '%s' && cp attack-fs attack-proc attack-sys attack-net attack-limits "
			"'%s/' && cp '%s' '%s/runner' && chown -R %d:%d '%s' && chmod 755 '%s'",
			dir, ws, tu_runner(), ws, NOBODY, NOBODY, ws, ws);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
	return ws;
}

/* `./runner ARGS` in ws as nobody; returns the exit status, output in ws/out.txt. */
static int run_as_nobody(const char *ws, const char *const *args)
{
	pid_t p = fork();
	if (p == 0) {
		char *out = tu_strf("%s/out.txt", ws), *home = tu_strf("HOME=%s", ws),
		     *cfg = tu_strf("XDG_CONFIG_HOME=%s/config", ws),
		     *bin = tu_strf("%s/runner", ws);
		int fd = open(out, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || fchown(fd, NOBODY, NOBODY) < 0 || chdir(ws) < 0 ||
		    become_nobody() < 0) {
			_exit(99);
		}
		dup2(fd, 1);
		dup2(fd, 2);
		const char *asan = getenv("ASAN_OPTIONS");
		char *asan_env = tu_strf("ASAN_OPTIONS=%s", asan ? asan : "");
		const char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", home, cfg, asan_env,
				       NULL };
		const char *argv[16] = { bin };
		for (int i = 0; args[i] && i < 14; i++) {
			argv[i + 1] = args[i];
		}
		execve(bin, (char *const *)argv, (char *const *)envp);
		_exit(98);
	}
	int st;
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st), "status 0x%x", st);
	return WEXITSTATUS(st);
}

static char *output(const char *ws)
{
	char *o = tu_readf("%s/out.txt", ws);
	return o ? o : strdup("");
}

static void assert_has(const char *ws, const char *stage, const char *const *want)
{
	char *log = tu_readf("%s/.runner/runs/latest/logs/%s.log", ws, stage);
	cr_assert_not_null(log, "no log for %s", stage);
	cr_assert_null(strstr(log, "FAIL "), "stage %s:\n%s", stage, log);
	for (; *want; want++) {
		cr_assert_not_null(strstr(log, *want), "missing '%s' in stage %s:\n%s", *want,
				   stage, log);
	}
	free(log);
}

Test(rootless, stages_are_confined_for_an_unprivileged_runner, .timeout = 180)
{
	const char *why = rootless_unavailable();
	if (why) {
		cr_skip_test("rootless sandbox not tested: %s", why);
	}
	char *ws = workspace();
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	cr_assert(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 4) == 0 &&
		  getsockname(s, (struct sockaddr *)&a, &al) == 0);
	char *yaml = tu_strf(
		"version: 1\nstages:\n"
		"  who:\n    run: |\n"
		"      test \"$(id -u)\" = %d\n"
		"      grep -q '%d *%d *1' /proc/self/uid_map\n"
		"      touch made-by-stage\n"
		"      echo ok who: uid %d mapped to itself\n"
		"  caps:\n    run: ./attack-proc caps\n"
		"  ns:\n    run: ./attack-proc ns\n"
		"  mount:\n    run: ./attack-fs mount\n"
		"  write:\n    run: ./attack-fs write\n"
		"  net:\n    run: ./attack-net none %d\n"
		"  forkbomb:\n    sandbox: { pids: 32 }\n    run: ./attack-limits forkbomb\n",
		NOBODY, NOBODY, NOBODY, NOBODY, ntohs(a.sin_port));
	tu_write(ws, ".runner.yml", yaml);
	int st = run_as_nobody(ws, (const char *const[]){ "run", "--no-color", NULL });
	char *out = output(ws);
	cr_assert_eq(st, 0, "runner as nobody exited %d:\n%s", st, out);
	free(out);
	assert_has(ws, "who", (const char *const[]){ "ok who", NULL });
	assert_has(ws, "caps",
		   (const char *const[]){ "ok CapEff:: 0", "ok CapBnd:: 0", "ok NoNewPrivs: 1",
					  "ok Seccomp: 2", NULL });
	assert_has(ws, "ns",
		   (const char *const[]){ "ok unshare user: EPERM", "ok clone3: ENOSYS", NULL });
	assert_has(ws, "mount",
		   (const char *const[]){ "ok mount tmpfs: EPERM", "ok open_tree: ENOSYS", NULL });
	assert_has(ws, "write",
		   (const char *const[]){ "ok create /attack: EROFS",
					  "ok the workspace is writable", NULL });
	assert_has(ws, "net",
		   (const char *const[]){
			   "ok only lo", "ok connect to the host's listener: ECONNREFUSED", NULL });
	/* Without a cgroup, the pids limit is RLIMIT_NPROC in the stage's own user namespace:
	 * still per stage, still stops the bomb. */
	assert_has(ws, "forkbomb", (const char *const[]){ "ok the fork bomb is stopped", NULL });
	struct stat sb;
	char *made = tu_strf("%s/made-by-stage", ws);
	cr_assert_eq(stat(made, &sb), 0);
	cr_assert_eq(sb.st_uid, NOBODY, "files the stage makes belong to the runner's user");
	free(made);
	close(s);

	/* A limit this user's host cannot enforce fails the stage (exit 4), never runs it. */
	tu_write(ws, ".runner.yml",
		 "version: 1\nstages:\n  big:\n    sandbox: { memory: 64M }\n    run: echo ran\n");
	st = run_as_nobody(ws, (const char *const[]){ "run", "--no-color", NULL });
	out = output(ws);
	if (!strstr(out, "cgroup")) {
		/* This user does have a writable memory cgroup: then the limit simply works. */
		cr_assert_eq(st, 0, "%s", out);
	} else {
		cr_assert_eq(st, 4, "%s", out);
		cr_assert_not_null(strstr(out, "sandbox: memory limit"), "%s", out);
		cr_assert_null(strstr(out, "big | ran"), "the stage ran without its limit:\n%s",
			       out);
	}
	free(out);

	/* The posture report works for this user too. */
	st = run_as_nobody(ws, (const char *const[]){ "sandbox", "check", NULL });
	out = output(ws);
	cr_assert_neq(st, 0, "the pipeline asks for a memory limit this user cannot have:\n%s",
		      out);
	cr_assert_not_null(strstr(out, "user namespace           yes"), "%s", out);
	cr_assert_not_null(strstr(out, "confined stage           yes"), "%s", out);
	free(out);
	tu_write(ws, ".runner.yml", "version: 1\nstages:\n  a:\n    run: \"true\"\n");
	st = run_as_nobody(ws, (const char *const[]){ "sandbox", "check", NULL });
	out = output(ws);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	free(yaml);
	tu_rmdir(ws);
	free(ws);
}
