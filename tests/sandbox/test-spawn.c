/*
 * test-spawn.c - the sandbox entry point: exact environment and fds, exit statuses and
 * signals, setup failures reported as such, and whole-tree termination.
 */
#include <criterion/criterion.h>

#include "sandbox.h"
#include "util.h"

#include "testutil.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

struct spawned {
	struct sandbox_proc *p;
	int out; /* read end of the payload's stdout+stderr */
};

static struct spawned spawn_sh(const char *script, const char *cwd)
{
	static struct sandbox_policy *pol;
	if (!pol) {
		pol = sandbox_policy_new();
	}
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", "ONLY=this", NULL };
	int pfd[2];
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	struct sandbox_spawn a = {
		.argv = argv,
		.envp = envp,
		.cwd = cwd ? cwd : "/",
		.exec_fd = -1,
		.stdin_fd = -1,
		.stdout_fd = pfd[1],
		.stderr_fd = pfd[1],
	};
	struct spawned s;
	cr_assert_eq(sandbox_spawn(pol, &a, &s.p), 0);
	close(pfd[1]);
	s.out = pfd[0];
	return s;
}

static char *read_all(int fd)
{
	char *buf;
	size_t len;
	cr_assert_eq(read_fd_capped(fd, 1 << 20, &buf, &len), 0);
	close(fd);
	return buf;
}

Test(spawn, exact_environment_and_exit_code)
{
	struct spawned s = spawn_sh("env | sort; exit 42", NULL);
	char *out = read_all(s.out);
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_EXITED);
	cr_assert_eq(r.code, 42);
	/* Only what was passed (sh adds PWD itself). */
	cr_assert_not_null(strstr(out, "ONLY=this\n"));
	cr_assert_not_null(strstr(out, "PATH=/usr/bin:/bin\n"));
	cr_assert_null(strstr(out, "HOME="), "%s", out);
	free(out);
	sandbox_proc_free(s.p);
}

Test(spawn, signal_is_reported)
{
	struct spawned s = spawn_sh("kill -SEGV $$", NULL);
	free(read_all(s.out));
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SIGNALED);
	cr_assert_eq(r.sig, SIGSEGV);
	sandbox_proc_free(s.p);
}

Test(spawn, setup_failures_are_not_exit_codes)
{
	struct spawned s = spawn_sh("true", "/nonexistent-dir");
	free(read_all(s.out));
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SETUP_FAILED);
	cr_assert_str_eq(r.message, "chdir to the working directory: No such file or directory");
	sandbox_proc_free(s.p);

	struct sandbox_policy *pol = sandbox_policy_new();
	const char *argv[] = { "/nonexistent/bin", NULL };
	const char *envp[] = { NULL };
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct sandbox_spawn a = {
		.argv = argv, .envp = envp, .cwd = "/", .exec_fd = -1, .stdin_fd = -1,
		.stdout_fd = devnull, .stderr_fd = devnull,
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(pol, &a, &p), 0);
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SETUP_FAILED);
	cr_assert_str_eq(r.message, "exec: No such file or directory");
	sandbox_proc_free(p);
	sandbox_policy_free(pol);
	close(devnull);
}

Test(spawn, invalid_arguments_are_refused)
{
	struct sandbox_policy *pol = sandbox_policy_new();
	struct sandbox_spawn a = { .exec_fd = -1, .stdout_fd = 1, .stderr_fd = 2 };
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(pol, &a, &p), -EINVAL);
	sandbox_policy_free(pol);
}

Test(spawn, extra_fds_arrive_at_3_and_nothing_else)
{
	struct sandbox_policy *pol = sandbox_policy_new();
	int data[2], out[2];
	cr_assert_eq(pipe2(data, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	int leak = open("/dev/null", O_RDONLY); /* deliberately not close-on-exec */
	write(data[1], "payload-on-3", 12);
	close(data[1]);
	/* ls lists its own fds (4 is the directory it reads), not the shell's: those
	 * include, for a moment, the pipes the shell is setting up. */
	const char *argv[] = { "/bin/sh", "-c",
			       "cat <&3; echo; ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	int fds[] = { data[0] };
	struct sandbox_spawn a = {
		.argv = argv, .envp = envp, .cwd = "/", .exec_fd = -1, .stdin_fd = -1,
		.stdout_fd = out[1], .stderr_fd = out[1], .fds = fds, .n_fds = 1,
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(pol, &a, &p), 0);
	close(out[1]);
	close(data[0]);
	char *txt = read_all(out[0]);
	cr_assert_str_eq(txt, "payload-on-3\n0 1 2 3 4 ");
	free(txt);
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.code, 0);
	sandbox_proc_free(p);
	sandbox_policy_free(pol);
	close(leak);
}

static bool alive(pid_t pid)
{
	/* A zombie counts as dead. */
	char *stat = tu_readf("/proc/%d/stat", (int)pid);
	bool a = stat && !strstr(stat, ") Z ");
	free(stat);
	return a;
}

static pid_t read_pid(const char *path)
{
	for (int i = 0; i < 200; i++) {
		char *s = tu_read(path);
		if (s && *s) {
			pid_t p = (pid_t)strtol(s, NULL, 10);
			free(s);
			return p;
		}
		free(s);
		usleep(10000);
	}
	cr_assert_fail("no pid in %s", path);
	return -1;
}

Test(spawn, terminate_then_kill_reaches_every_descendant)
{
	char *dir = tu_tmpdir();
	char *script = xasprintf("cd %s; trap '' TERM; "
				 "sh -c 'trap \"\" TERM; echo $$ > child.pid; exec sleep 100' & "
				 "setsid sh -c 'echo $$ > daemon.pid; trap \"\" TERM; exec sleep 100' & "
				 "while :; do sleep 0.05; done",
				 dir);
	struct spawned s = spawn_sh(script, NULL);
	char *cp = xasprintf("%s/child.pid", dir), *dp = xasprintf("%s/daemon.pid", dir);
	pid_t child = read_pid(cp), daemon = read_pid(dp);
	cr_assert(alive(child) && alive(daemon));
	cr_assert_eq(sandbox_terminate(s.p), 0);
	usleep(200000);
	struct sandbox_result r;
	cr_assert_eq(sandbox_reap(s.p, &r), -EAGAIN, "everything ignores SIGTERM");
	cr_assert_eq(sandbox_kill(s.p), 0);
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SIGNALED);
	cr_assert_eq(r.sig, SIGKILL);
	cr_assert_not(alive(child));
	cr_assert_not(alive(daemon));
	free(read_all(s.out));
	sandbox_proc_free(s.p);
	tu_rmdir(dir);
	free(dir);
	free(script);
	free(cp);
	free(dp);
}

Test(spawn, the_tree_dies_when_the_parent_is_killed)
{
	/* A child process stands in for the runner; it is killed with SIGKILL. */
	char *dir = tu_tmpdir();
	char *pidfile = xasprintf("%s/daemon.pid", dir);
	pid_t runner = fork();
	if (runner == 0) {
		struct sandbox_policy *pol = sandbox_policy_new();
		char *script = xasprintf("setsid sh -c 'echo $$ > %s; exec sleep 100' & sleep 100",
					 pidfile);
		const char *argv[] = { "/bin/sh", "-c", script, NULL };
		const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
		int devnull = open("/dev/null", O_WRONLY);
		struct sandbox_spawn a = {
			.argv = argv, .envp = envp, .cwd = "/", .exec_fd = -1, .stdin_fd = -1,
			.stdout_fd = devnull, .stderr_fd = devnull,
		};
		struct sandbox_proc *p;
		if (sandbox_spawn(pol, &a, &p) < 0) {
			_exit(1);
		}
		pause();
		_exit(0);
	}
	pid_t daemon = read_pid(pidfile);
	cr_assert(alive(daemon));
	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	for (int i = 0; i < 200 && alive(daemon); i++) {
		usleep(10000);
	}
	cr_assert_not(alive(daemon), "a daemon outlived the killed runner");
	tu_rmdir(dir);
	free(dir);
	free(pidfile);
}

Test(spawn, no_zombies_are_left)
{
	for (int i = 0; i < 20; i++) {
		struct spawned s = spawn_sh("sleep 0.01 & true", NULL);
		free(read_all(s.out));
		struct sandbox_result r;
		cr_assert_eq(sandbox_wait(s.p, &r), 0);
		sandbox_proc_free(s.p);
	}
	/* This process has no children left. */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

Test(spawn, a_payload_can_be_executed_from_an_fd)
{
	/* Built-in kinds run as the runner binary, executed from an O_PATH fd of
	 * /proc/self/exe: the fd must survive until the exec, and not beyond. */
	struct sandbox_policy *pol = sandbox_policy_new();
	int out[2];
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	int exe = open("/bin/sh", O_PATH | O_CLOEXEC);
	cr_assert_geq(exe, 0);
	const char *argv[] = { "sh", "-c",
			       "echo from-fd; ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct sandbox_spawn a = {
		.argv = argv,
		.envp = envp,
		.cwd = "/",
		.exec_fd = exe,
		.stdin_fd = -1,
		.stdout_fd = out[1],
		.stderr_fd = out[1],
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(pol, &a, &p), 0);
	close(out[1]);
	close(exe);
	char *txt = read_all(out[0]);
	cr_assert_str_eq(txt, "from-fd\n0 1 2 3 ", "the exec fd must not leak into the payload");
	free(txt);
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_EXITED);
	cr_assert_eq(r.code, 0);
	sandbox_proc_free(p);
	sandbox_policy_free(pol);
}
