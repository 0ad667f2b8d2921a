/*
 * test-spawn.c - the sandbox entry point: exact environment and fds, exit statuses and
 * signals, setup failures reported as such, and whole-tree termination, under the default
 * (confined) policy and, where the supervision itself is tested, the unconfined one too.
 *
 * Confined stages have their own PID namespace, so their processes are found on the host
 * by a unique argument (tu_pid_matching) rather than by the pids they see.
 */
#include <criterion/criterion.h>

#include "sandbox.h"
#include "util.h"

#include "testutil.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>

static struct sandbox_policy *policy(bool confined)
{
	struct sandbox_policy *pol =
		confined ? sandbox_policy_new() : sandbox_policy_new_unconfined();
	char err[256];
	cr_assert_eq(sandbox_policy_compile(pol, err, sizeof(err)), 0, "%s", err);
	return pol;
}

/* Each test (in a process of its own) gets the default policy, compiled, and a scratch
 * workspace. */
static struct sandbox_policy *the_pol;
static char *the_ws;

static void scratch_init(void)
{
	the_pol = policy(true);
	the_ws = tu_tmpdir();
}

static void scratch_fini(void)
{
	sandbox_policy_free(the_pol);
	tu_rmdir(the_ws);
	free(the_ws);
}

TestSuite(spawn, .init = scratch_init, .fini = scratch_fini);

struct spawned {
	struct sandbox_proc *p;
	int out; /* read end of the payload's stdout+stderr */
};

static struct spawned spawn_sh_in(struct sandbox_policy *pol, const char *script, const char *ws,
				  const char *cwd)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", "ONLY=this", NULL };
	int pfd[2];
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	struct sandbox_spawn a = {
		.argv = argv,
		.envp = envp,
		.cwd = cwd ? cwd : ws,
		.exec_fd = -1,
		.stdin_fd = -1,
		.stdout_fd = pfd[1],
		.stderr_fd = pfd[1],
		.workspace = ws,
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
	struct spawned s = spawn_sh_in(the_pol, "env | sort; exit 42", the_ws, NULL);
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
	struct spawned s = spawn_sh_in(the_pol, "kill -SEGV $$", the_ws, NULL);
	free(read_all(s.out));
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SIGNALED);
	cr_assert_eq(r.sig, SIGSEGV);
	sandbox_proc_free(s.p);
}

Test(spawn, setup_failures_are_not_exit_codes)
{
	char *missing = xasprintf("%s/nonexistent-dir", the_ws);
	struct spawned s = spawn_sh_in(the_pol, "true", the_ws, missing);
	free(read_all(s.out));
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SETUP_FAILED);
	cr_assert_str_eq(r.message, "chdir to the working directory: No such file or directory");
	sandbox_proc_free(s.p);

	const char *argv[] = { "/nonexistent/bin", NULL };
	const char *envp[] = { NULL };
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct sandbox_spawn a = {
		.argv = argv,
		.envp = envp,
		.cwd = the_ws,
		.exec_fd = -1,
		.stdin_fd = -1,
		.stdout_fd = devnull,
		.stderr_fd = devnull,
		.workspace = the_ws,
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(the_pol, &a, &p), 0);
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SETUP_FAILED);
	cr_assert_str_eq(r.message, "exec: No such file or directory");
	sandbox_proc_free(p);
	close(devnull);
	free(missing);
}

Test(spawn, invalid_arguments_are_refused)
{
	struct sandbox_spawn a = { .exec_fd = -1, .stdout_fd = 1, .stderr_fd = 2 };
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(the_pol, &a, &p), -EINVAL);
	/* A confined spawn needs a workspace, and a working directory inside it. */
	const char *argv[] = { "/bin/true", NULL };
	const char *envp[] = { NULL };
	struct sandbox_spawn b = { .argv = argv,
				   .envp = envp,
				   .cwd = "/tmp",
				   .exec_fd = -1,
				   .stdin_fd = -1,
				   .stdout_fd = 1,
				   .stderr_fd = 2 };
	cr_assert_eq(sandbox_spawn(the_pol, &b, &p), -EINVAL);
	b.workspace = "/srv/the_ws";
	cr_assert_eq(sandbox_spawn(the_pol, &b, &p), -EINVAL, "cwd outside the workspace");
	b.cwd = "/srv/the_ws/../etc";
	cr_assert_eq(sandbox_spawn(the_pol, &b, &p), -EINVAL, "cwd with ..");
	b.cwd = "/proc/self/fd/3";
	b.workspace = "/proc/self/fd";
	cr_assert_eq(sandbox_spawn(the_pol, &b, &p), -EINVAL, "workspace in /proc");
	/* An uncompiled policy is refused. */
	struct sandbox_policy *raw = sandbox_policy_new();
	cr_assert_eq(sandbox_spawn(raw, &a, &p), -EINVAL);
	sandbox_policy_free(raw);
}

Test(spawn, extra_fds_arrive_at_3_and_nothing_else)
{
	int data[2], out[2];
	cr_assert_eq(pipe2(data, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	int leak = open("/etc/hostname", O_RDONLY); /* deliberately not close-on-exec */
	cr_assert_eq(write(data[1], "payload-on-3", 12), 12);
	close(data[1]);
	/* ls in a subshell: the listed shell holds no pipe of its own meanwhile. */
	const char *argv[] = { "/bin/sh", "-c",
			       "cat <&3; echo; (ls /proc/$$/fd > fds); sort -n fds | tr '\\n' ' '",
			       NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	int fds[] = { data[0] };
	struct sandbox_spawn a = {
		.argv = argv,
		.envp = envp,
		.cwd = the_ws,
		.exec_fd = -1,
		.stdin_fd = -1,
		.stdout_fd = out[1],
		.stderr_fd = out[1],
		.fds = fds,
		.n_fds = 1,
		.workspace = the_ws,
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(the_pol, &a, &p), 0);
	close(out[1]);
	close(data[0]);
	char *txt = read_all(out[0]);
	cr_assert_str_eq(txt, "payload-on-3\n0 1 2 3 ");
	free(txt);
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.code, 0);
	sandbox_proc_free(p);
	close(leak);
}

static void wait_for_file(const char *path)
{
	for (int i = 0; i < 300 && !tu_exists("%s", path); i++) {
		usleep(10000);
	}
	cr_assert(tu_exists("%s", path), "%s never appeared", path);
}

static void terminate_then_kill(bool confined)
{
	struct sandbox_policy *pol = policy(confined);
	char *dir = tu_tmpdir();
	char *cm = xasprintf("100.%d1", (int)getpid()), *dm = xasprintf("100.%d2", (int)getpid());
	char *script = xasprintf("cd %s; trap '' TERM; "
				 "sh -c 'trap \"\" TERM; touch child.up; exec sleep %s' & "
				 "setsid sh -c 'touch daemon.up; trap \"\" TERM; exec sleep %s' & "
				 "while :; do sleep 0.05; done",
				 dir, cm, dm);
	struct spawned s = spawn_sh_in(pol, script, dir, NULL);
	char *cp = xasprintf("%s/child.up", dir), *dp = xasprintf("%s/daemon.up", dir);
	wait_for_file(cp);
	wait_for_file(dp);
	usleep(50000);
	cr_assert_eq(tu_procs_matching(cm), 1);
	cr_assert_eq(tu_procs_matching(dm), 1);
	cr_assert_eq(sandbox_terminate(s.p), 0);
	usleep(200000);
	struct sandbox_result r;
	cr_assert_eq(sandbox_reap(s.p, &r), -EAGAIN, "everything ignores SIGTERM");
	cr_assert_eq(sandbox_kill(s.p), 0);
	cr_assert_eq(sandbox_wait(s.p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SIGNALED);
	cr_assert_eq(r.sig, SIGKILL);
	cr_assert_eq(tu_procs_matching(cm), 0, "the child survived");
	cr_assert_eq(tu_procs_matching(dm), 0, "the daemon survived");
	free(read_all(s.out));
	sandbox_proc_free(s.p);
	sandbox_policy_free(pol);
	tu_rmdir(dir);
	free(dir);
	free(script);
	free(cp);
	free(dp);
	free(cm);
	free(dm);
}

Test(spawn, terminate_then_kill_reaches_every_descendant)
{
	terminate_then_kill(true);
}

Test(spawn, terminate_then_kill_reaches_every_descendant_unconfined)
{
	terminate_then_kill(false);
}

static void tree_dies_with_parent(bool confined)
{
	/* A child process stands in for the runner; it is killed with SIGKILL. */
	char *dir = tu_tmpdir();
	char *marker = xasprintf("100.%d%d", (int)getpid(), confined);
	char *upfile = xasprintf("%s/daemon.up", dir);
	pid_t runner = fork();
	if (runner == 0) {
		struct sandbox_policy *pol =
			confined ? sandbox_policy_new() : sandbox_policy_new_unconfined();
		char err[256];
		if (sandbox_policy_compile(pol, err, sizeof(err)) < 0) {
			_exit(1);
		}
		char *script = xasprintf("setsid sh -c 'touch %s; exec sleep %s' & sleep 100",
					 upfile, marker);
		const char *argv[] = { "/bin/sh", "-c", script, NULL };
		const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
		int devnull = open("/dev/null", O_WRONLY);
		struct sandbox_spawn a = {
			.argv = argv,
			.envp = envp,
			.cwd = dir,
			.exec_fd = -1,
			.stdin_fd = -1,
			.stdout_fd = devnull,
			.stderr_fd = devnull,
			.workspace = dir,
		};
		struct sandbox_proc *p;
		if (sandbox_spawn(pol, &a, &p) < 0) {
			_exit(1);
		}
		pause();
		_exit(0);
	}
	wait_for_file(upfile);
	usleep(50000);
	cr_assert_eq(tu_procs_matching(marker), 1);
	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	for (int i = 0; i < 200 && tu_procs_matching(marker); i++) {
		usleep(10000);
	}
	cr_assert_eq(tu_procs_matching(marker), 0, "a daemon outlived the killed runner");
	tu_rmdir(dir);
	free(dir);
	free(upfile);
	free(marker);
}

Test(spawn, the_tree_dies_when_the_parent_is_killed)
{
	tree_dies_with_parent(true);
}

Test(spawn, the_tree_dies_when_the_parent_is_killed_unconfined)
{
	tree_dies_with_parent(false);
}

Test(spawn, no_zombies_are_left)
{
	for (int i = 0; i < 20; i++) {
		struct spawned s = spawn_sh_in(the_pol, "sleep 0.01 & true", the_ws, NULL);
		free(read_all(s.out));
		struct sandbox_result r;
		cr_assert_eq(sandbox_wait(s.p, &r), 0);
		sandbox_proc_free(s.p);
	}
	/* This process has no children left. */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

/*
 * Built-in kinds run as the runner binary itself, executed from an fd opened before the
 * stage's root was built (the binary is not in that root), with their configuration on fd
 * 3 and a result fd on 4. Here the sanitizer-instrumented runner runs that way under the
 * full policy: it starts, reads fd 3, and answers as a worker would.
 */
Test(spawn, the_runner_binary_runs_as_a_worker_inside)
{
	int exe = open(tu_runner(), O_PATH | O_CLOEXEC);
	cr_assert_geq(exe, 0);
	int cfg = memfd_create("config", MFD_CLOEXEC), res = memfd_create("result", MFD_CLOEXEC);
	char *json = xasprintf("{\"kind\":\"no-such-kind\",\"stage\":\"s\",\"workspace\":\"%s\","
			       "\"with\":{}}",
			       the_ws);
	cr_assert_eq(write(cfg, json, strlen(json)), (ssize_t)strlen(json));
	lseek(cfg, 0, SEEK_SET);
	/* LeakSanitizer's exit check needs ptrace, which the filter denies (the launcher
	 * sets the same for workers of a sanitizer build). */
	const char *envp[] = { "ASAN_OPTIONS=detect_leaks=0", NULL };
	const char *argv[] = { "runner", "__worker", "no-such-kind", "s", NULL };
	int out[2];
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	int fds[] = { cfg, res };
	struct sandbox_spawn a = {
		.argv = argv,
		.envp = envp,
		.cwd = the_ws,
		.exec_fd = exe,
		.stdin_fd = -1,
		.stdout_fd = out[1],
		.stderr_fd = out[1],
		.fds = fds,
		.n_fds = 2,
		.workspace = the_ws,
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(the_pol, &a, &p), 0);
	close(out[1]);
	char *txt = read_all(out[0]);
	struct sandbox_result r;
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_EXITED, "%s %s", r.message, txt);
	cr_assert_eq(r.code, 4, "%s", txt);
	cr_assert_not_null(strstr(txt, "names no runnable kind"), "%s", txt);
	free(txt);
	sandbox_proc_free(p);

	const char *vargv[] = { "runner", "--version", NULL };
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	struct sandbox_spawn v = {
		.argv = vargv,
		.envp = envp,
		.cwd = the_ws,
		.exec_fd = exe,
		.stdin_fd = -1,
		.stdout_fd = out[1],
		.stderr_fd = out[1],
		.workspace = the_ws,
	};
	cr_assert_eq(sandbox_spawn(the_pol, &v, &p), 0);
	close(out[1]);
	txt = read_all(out[0]);
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_EXITED);
	cr_assert_eq(r.code, 0, "%s", txt);
	cr_assert_eq(strncmp(txt, "runner ", 7), 0, "%s", txt);
	free(txt);
	sandbox_proc_free(p);
	free(json);
	close(cfg);
	close(res);
	close(exe);
}

/* An enforced policy combined with a requested one keeps the stricter of each setting. */
Test(spawn, policies_combine_to_the_stricter)
{
	struct sandbox_policy *enf = sandbox_policy_new(), *req = sandbox_policy_new();
	cr_assert_eq(sandbox_policy_set_limit(enf, SANDBOX_LIMIT_MEMORY, 512u << 20), 0);
	cr_assert_eq(sandbox_policy_set_workspace_readonly(enf, true), 0);
	cr_assert_eq(sandbox_policy_forbid_rootfs(enf), 0);
	cr_assert_eq(sandbox_policy_set_network(req, SANDBOX_NET_HOST), 0);
	cr_assert_eq(sandbox_policy_set_limit(req, SANDBOX_LIMIT_MEMORY, 2ull << 30), 0);
	cr_assert_eq(sandbox_policy_set_limit(req, SANDBOX_LIMIT_PIDS, 64), 0);
	cr_assert_eq(sandbox_policy_add_path(req, "build", true), 0);
	cr_assert_eq(sandbox_policy_add_path(req, ".git", false), 0);
	const char *err;
	struct sandbox_policy *both = sandbox_policy_stricter(enf, req, &err);
	cr_assert_not_null(both, "%s", err);
	bool required;
	cr_assert_eq(sandbox_policy_network(both), SANDBOX_NET_NONE, "host needs both to agree");
	cr_assert_eq(sandbox_policy_limit(both, SANDBOX_LIMIT_MEMORY, &required), 512u << 20);
	cr_assert(required);
	cr_assert_eq(sandbox_policy_limit(both, SANDBOX_LIMIT_PIDS, NULL), 64);
	cr_assert(sandbox_policy_workspace_readonly(both));
	bool w;
	cr_assert_str_eq(sandbox_policy_path(both, 0, &w), ".git");
	cr_assert_not(w);
	cr_assert_null(sandbox_policy_path(both, 1, NULL), "a writable path loosened the policy");
	cr_assert(sandbox_policy_confined(both));
	sandbox_policy_free(both);

	/* An unconfined request does not unconfine an enforced policy. */
	struct sandbox_policy *loose = sandbox_policy_new_unconfined();
	both = sandbox_policy_stricter(enf, loose, &err);
	cr_assert(sandbox_policy_confined(both));
	cr_assert_eq(sandbox_policy_network(both), SANDBOX_NET_NONE);
	sandbox_policy_free(both);
	sandbox_policy_free(loose);

	/* A rootfs the enforced policy forbids is refused, not ignored. */
	cr_assert_eq(sandbox_policy_set_rootfs(req, "/srv/rootfs"), 0);
	cr_assert_null(sandbox_policy_stricter(enf, req, &err));
	cr_assert_not_null(strstr(err, "root filesystem"));

	/* Compiling makes a policy immutable. */
	char buf[256];
	cr_assert_eq(sandbox_policy_compile(enf, buf, sizeof(buf)), 0, "%s", buf);
	cr_assert_eq(sandbox_policy_set_network(enf, SANDBOX_NET_HOST), -EINVAL);
	cr_assert_eq(sandbox_policy_add_path(req, "../up", false), -EINVAL);
	cr_assert_eq(sandbox_policy_add_path(req, "/abs", false), -EINVAL);
	sandbox_policy_free(enf);
	sandbox_policy_free(req);
}

/* The host's device nodes are bound into stages; one that is not what it claims to be
 * (a regular file renamed over /dev/null) fails the setup. Tried in a private mount
 * namespace of this test, where a file is bound over /dev/null. */
Test(spawn, a_host_dev_null_that_is_a_file_fails_the_setup)
{
	if (geteuid() != 0) {
		cr_skip_test("needs root to make a private mount namespace");
	}
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	char *dir = tu_tmpdir();
	tu_write(dir, "fake-null", "shared with the host\n");
	char *fake = xasprintf("%s/fake-null", dir);
	cr_assert_eq(mount(fake, "/dev/null", NULL, MS_BIND, NULL), 0);
	int out = open(fake, O_WRONLY | O_CLOEXEC);
	const char *argv[] = { "/bin/true", NULL };
	const char *envp[] = { NULL };
	struct sandbox_spawn a = { .argv = argv,
				   .envp = envp,
				   .cwd = dir,
				   .exec_fd = -1,
				   .stdin_fd = -1,
				   .stdout_fd = out,
				   .stderr_fd = out,
				   .workspace = dir };
	struct sandbox_proc *p;
	struct sandbox_result r;
	cr_assert_eq(sandbox_spawn(the_pol, &a, &p), 0);
	cr_assert_eq(sandbox_wait(p, &r), 0);
	cr_assert_eq(r.outcome, SANDBOX_SETUP_FAILED);
	cr_assert_not_null(strstr(r.message, "/dev/null"), "%s", r.message);
	cr_assert_not_null(strstr(r.message, "No such device"), "%s", r.message);
	sandbox_proc_free(p);
	close(out);
	umount2("/dev/null", MNT_DETACH);
	tu_rmdir(dir);
	free(fake);
	free(dir);
}

Test(spawn, a_payload_can_be_executed_from_an_fd)
{
	/* Built-in kinds run as the runner binary, executed from an O_PATH fd of
	 * /proc/self/exe: the fd must survive until the exec, and not beyond. */
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
		.cwd = the_ws,
		.exec_fd = exe,
		.stdin_fd = -1,
		.stdout_fd = out[1],
		.stderr_fd = out[1],
		.workspace = the_ws,
	};
	struct sandbox_proc *p;
	cr_assert_eq(sandbox_spawn(the_pol, &a, &p), 0);
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
}
