/*
 * posture.c - what this host gives the sandbox, for `runner sandbox check`.
 *
 * Each check runs in a short-lived child (namespaces are tried by creating them), and the
 * last one starts a real confined process with the default policy in a scratch workspace,
 * so the report says both what is available piece by piece and whether the whole setup
 * works here.
 */
#include "internal.h"

#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "banned.h"

static void item(struct sandbox_posture_item *items, size_t max, size_t *n, const char *name,
		 bool ok, bool essential, const char *detail)
{
	if (*n >= max) {
		return;
	}
	struct sandbox_posture_item *it = &items[(*n)++];
	set_text(it->name, sizeof(it->name), "%s", name);
	it->available = ok;
	it->essential = essential;
	set_text(it->detail, sizeof(it->detail), "%s", detail);
}

/* Create namespaces with the given flags in a child; 0 or -errno. */
static int try_clone(unsigned long flags)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		return -errno;
	}
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0) {
		_exit(0);
	}
	int e = pid < 0 ? -errno : 0;
	close(p[0]);
	close(p[1]);
	if (pid > 0) {
		waitpid((pid_t)pid, NULL, 0);
	}
	return e;
}

size_t sandbox_posture(struct sandbox_posture_item *items, size_t max)
{
	size_t n = 0;
	char buf[160];
	bool root = geteuid() == 0;
	unsigned long user = root ? 0 : CLONE_NEWUSER;

	int r = try_clone(CLONE_NEWUSER);
	set_text(buf, sizeof(buf), "%s%s", r == 0 ? "available" : strerror(-r),
		 root ? " (not needed: running as root)" : " (needed: not running as root)");
	item(items, max, &n, "user namespace", r == 0, !root, buf);

	static const struct {
		const char *name;
		unsigned long flag;
	} ns[] = {
		{ "mount namespace", CLONE_NEWNS },	 { "pid namespace", CLONE_NEWPID },
		{ "ipc namespace", CLONE_NEWIPC },	 { "uts namespace", CLONE_NEWUTS },
		{ "cgroup namespace", CLONE_NEWCGROUP }, { "network namespace", CLONE_NEWNET },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		r = try_clone(ns[i].flag | user);
		item(items, max, &n, ns[i].name, r == 0, true, r == 0 ? "available" : strerror(-r));
	}

	r = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	struct sandbox_policy *pol = sandbox_policy_new();
	char err[256] = "";
	int cr = sandbox_policy_compile(pol, err, sizeof(err));
	set_text(buf, sizeof(buf), "%s",
		 r < 0 ? "the kernel has no seccomp"
		 : cr == -EOPNOTSUPP || cr == 0
			 ? "filter compiled (libseccomp), x86-64 only: i386 and x32 are killed"
			 : err);
	item(items, max, &n, "seccomp filter", r >= 0 && pol->filter, true, buf);

	const struct cgroup_host *cg = &pol->cg;
	set_text(buf, sizeof(buf), "%s",
		 cg->memory_ok ? (cg->version == 2 ? cg->unified : cg->memory) : cg->why);
	item(items, max, &n, "memory limit (cgroup)", cg->memory_ok, false, buf);
	if (cg->pids_ok) {
		set_text(buf, sizeof(buf), "%s", cg->version == 2 ? cg->unified : cg->pids);
	} else if (!root) {
		set_text(buf, sizeof(buf),
			 "RLIMIT_NPROC, counted in the stage's own user namespace");
	} else {
		set_text(buf, sizeof(buf), "%s", cg->why);
	}
	item(items, max, &n, "pids limit", cg->pids_ok || !root, false, buf);
	item(items, max, &n, "rlimits", true, true, "core 0, nofile, fsize, cpu");
	/* The whole thing: a confined /bin/sh in a scratch workspace. */
	/* A scratch workspace wherever this user may make one. */
	char ws[PATH_MAX] = "";
	const char *env = getenv("TMPDIR");
	const char *run = getenv("XDG_RUNTIME_DIR");
	const char *dirs[] = { env && env[0] == '/' ? env : "/tmp", "/tmp",
			       run && run[0] == '/' ? run : "/tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !ws[0]; i++) {
		set_text(ws, sizeof(ws), "%s/runner-posture-XXXXXX", dirs[i]);
		if (!mkdtemp(ws)) {
			ws[0] = '\0';
		}
	}
	struct sandbox_result res = { .outcome = SANDBOX_SETUP_FAILED };
	set_text(res.message, sizeof(res.message), "%s", err[0] ? err : "could not start");
	if (pol->compiled && ws[0]) {
		const char *argv[] = { "/bin/sh", "-c", "exit 0", NULL };
		const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		struct sandbox_spawn a = { .argv = argv,
					   .envp = envp,
					   .cwd = ws,
					   .exec_fd = -1,
					   .stdin_fd = -1,
					   .stdout_fd = devnull,
					   .stderr_fd = devnull,
					   .workspace = ws };
		struct sandbox_proc *p;
		if (devnull >= 0 && sandbox_spawn(pol, &a, &p) == 0) {
			sandbox_wait(p, &res);
			sandbox_proc_free(p);
		}
		if (devnull >= 0) {
			close(devnull);
		}
		rmdir(ws);
	}
	bool ok = res.outcome == SANDBOX_EXITED && res.code == 0;
	item(items, max, &n, "confined stage", ok, true,
	     ok ? "a confined process starts with the default policy" : res.message);
	sandbox_policy_free(pol);
	return n;
}
