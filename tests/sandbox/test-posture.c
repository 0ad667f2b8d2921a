/*
 * test-posture.c - a running stage inspected from the outside (in the manner of gVisor's
 * bootposture_test): its /proc/<pid>/status, namespace links, fds, resource limits,
 * cgroup limits, mounts and root, compared with the policy the pipeline asked for. The
 * stage is found on the host by a unique argument; the runner is then interrupted.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The value after `key` on its line of a /proc file ("" when absent). Static storage. */
static const char *field(const char *text, const char *key)
{
	static char val[256];
	val[0] = '\0';
	const char *p = strstr(text, key);
	if (p) {
		p += strlen(key);
		p += strspn(p, " \t");
		size_t n = strcspn(p, "\n");
		n = n < sizeof(val) - 1 ? n : sizeof(val) - 1;
		memcpy(val, p, n);
		val[n] = '\0';
	}
	return val;
}

static char *ns_link(const char *pid, const char *ns)
{
	char path[64], buf[128];
	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, ns);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0, "%s", path);
	buf[n] = '\0';
	return strdup(buf);
}

/* The host directory of the stage's cgroup for a v1 controller (or v2 when controller is
 * ""), from /proc/<pid>/cgroup; NULL when it has none. */
static char *cgroup_dir(const char *cgroups, const char *controller)
{
	for (const char *line = cgroups; line && *line;) {
		const char *c1 = strchr(line, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		const char *nl = strchr(line, '\n');
		if (c2) {
			size_t cl = (size_t)(c2 - c1 - 1);
			bool match = *controller ? (cl == strlen(controller) &&
						    !strncmp(c1 + 1, controller, cl))
						 : cl == 0;
			if (match) {
				int len = (int)((nl ? nl : c2 + strlen(c2)) - (c2 + 1));
				return *controller ? tu_strf("/sys/fs/cgroup/%s%.*s", controller,
							     len, c2 + 1)
						   : tu_strf("/sys/fs/cgroup%.*s", len, c2 + 1);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

Test(posture, a_running_stage_matches_its_policy, .timeout = 120)
{
	char *ws = tu_tmpdir();
	char *marker = tu_strf("500.%d", (int)getpid());
	char *yaml =
		tu_strf("version: 1\nstages:\n  held:\n"
			"    sandbox: { memory: 256M, pids: 100, cpu-time: 10m, tmp-size: 32M }\n"
			"    run: exec sleep %s\n",
			marker);
	tu_write(ws, ".runner.yml", yaml);
	pid_t runner = fork();
	if (runner == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (chdir(ws) < 0) {
			_exit(99);
		}
		execl(tu_runner(), "runner", "run", NULL);
		_exit(98);
	}
	int hp = -1;
	for (int i = 0; i < 1000 && hp < 0; i++) {
		hp = tu_pid_matching(marker);
		usleep(10000);
	}
	cr_assert_gt(hp, 0, "the stage never started");
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", hp);

	/* Credentials, no_new_privs, seccomp, pid namespace. */
	char *status = tu_readf("/proc/%s/status", pid);
	cr_assert_not_null(status);
	static const char *const zero[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };
	for (size_t i = 0; i < 5; i++) {
		cr_assert_str_eq(field(status, zero[i]), "0000000000000000", "%s", zero[i]);
	}
	cr_assert_str_eq(field(status, "NoNewPrivs:"), "1");
	cr_assert_str_eq(field(status, "Seccomp:"), "2");
	cr_assert_str_eq(field(status, "Seccomp_filters:"), "1");
	const char *nspid = field(status, "NSpid:");
	char *tab = strchr(nspid, '\t');
	cr_assert_not_null(tab, "not in a PID namespace: NSpid %s", nspid);
	cr_assert_eq(atoi(tab + 1), 2, "the payload is pid 2 behind the supervisor: %s", nspid);
	char want_uid[64];
	snprintf(want_uid, sizeof(want_uid), "%d\t%d\t%d\t%d", (int)geteuid(), (int)geteuid(),
		 (int)geteuid(), (int)geteuid());
	cr_assert_str_eq(field(status, "Uid:"), want_uid);

	/* Namespaces: all new; the user namespace only when not root. */
	static const char *const fresh[] = { "mnt", "pid", "net", "ipc", "uts", "cgroup" };
	for (size_t i = 0; i < 6; i++) {
		char *a = ns_link(pid, fresh[i]), *b = ns_link("self", fresh[i]);
		cr_assert_str_neq(a, b, "%s namespace shared with the host", fresh[i]);
		free(a);
		free(b);
	}
	char *ua = ns_link(pid, "user"), *ub = ns_link("self", "user");
	if (geteuid() == 0) {
		cr_assert_str_eq(ua, ub);
	} else {
		cr_assert_str_neq(ua, ub);
	}
	free(ua);
	free(ub);

	/* Exactly fds 0, 1, 2: /dev/null and the output pipe. */
	char *fddir = tu_strf("/proc/%s/fd", pid);
	DIR *d = opendir(fddir);
	cr_assert_not_null(d);
	struct dirent *de;
	int count = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.') {
			continue;
		}
		cr_assert(atoi(de->d_name) <= 2, "fd %s is open", de->d_name);
		count++;
	}
	closedir(d);
	cr_assert_eq(count, 3);
	char link[256];
	char *fd0 = tu_strf("%s/0", fddir), *fd1 = tu_strf("%s/1", fddir);
	ssize_t n = readlink(fd0, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	cr_assert_str_eq(link, "/dev/null");
	n = readlink(fd1, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	cr_assert_eq(strncmp(link, "pipe:", 5), 0, "%s", link);

	/* Resource limits. */
	char *limits = tu_readf("/proc/%s/limits", pid);
	cr_assert_not_null(limits);
	cr_assert_not_null(strstr(limits, "Max core file size        0                    0"), "%s",
			   limits);
	cr_assert_not_null(strstr(limits, "Max cpu time              600                  605"),
			   "%s", limits);
	cr_assert_not_null(strstr(limits, "Max open files            4096                 4096"),
			   "%s", limits);
	cr_assert_not_null(
		strstr(limits, "Max file size             17179869184          17179869184"), "%s",
		limits);

	/* cgroup limits, where the host gives cgroups to this user. */
	char *cg = tu_readf("/proc/%s/cgroup", pid);
	cr_assert_not_null(cg);
	char *mem = cgroup_dir(cg, "memory"), *pids = cgroup_dir(cg, "pids");
	char *v2 = mem ? NULL : cgroup_dir(cg, "");
	if (mem && pids && strstr(mem, "/runner-")) {
		char *ml = tu_readf("%s/memory.limit_in_bytes", mem),
		     *pm = tu_readf("%s/pids.max", pids);
		cr_assert_str_eq(ml, "268435456\n");
		cr_assert_str_eq(pm, "100\n");
		free(ml);
		free(pm);
	} else if (v2 && strstr(v2, "/runner-")) {
		char *ml = tu_readf("%s/memory.max", v2), *pm = tu_readf("%s/pids.max", v2);
		cr_assert_str_eq(ml, "268435456\n");
		cr_assert_str_eq(pm, "100\n");
		free(ml);
		free(pm);
	} else {
		cr_assert_neq(geteuid(), 0, "root has cgroups here, but the stage is in none:\n%s",
			      cg);
	}

	/* Its root: read-only, with no host secrets and the workspace at its own path. */
	char *mi = tu_readf("/proc/%s/mountinfo", pid);
	cr_assert_not_null(mi);
	cr_assert_not_null(strstr(mi, " / / ro,"), "the root is not read-only:\n%s", mi);
	cr_assert_not_null(strstr(mi, " /proc rw,nosuid,nodev,noexec"), "%s", mi);
	cr_assert_not_null(strstr(mi, "hidepid=ptraceable"), "%s", mi);
	cr_assert_not_null(strstr(mi, " /tmp rw,nosuid,nodev"), "%s", mi);
	cr_assert_not_null(strstr(mi, "size=32768k"), "the /tmp cap is not applied:\n%s", mi);
	cr_assert_not_null(strstr(mi, " /usr ro,nosuid,nodev"), "%s", mi);
	cr_assert(!tu_exists("/proc/%s/root/etc/shadow", pid), "/etc/shadow is in the sandbox");
	cr_assert(!tu_exists("/proc/%s/root/root", pid), "/root is in the sandbox");
	cr_assert(tu_exists("/proc/%s/root/usr/bin/env", pid));
	cr_assert(tu_exists("/proc/%s/root%s/.runner.yml", pid, ws), "the workspace is missing");

	/* The runner is interrupted: the stage goes, and so do its cgroups. */
	kill(runner, SIGTERM);
	int st;
	cr_assert_eq(waitpid(runner, &st, 0), runner);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status 0x%x", st);
	cr_assert_eq(tu_procs_matching(marker), 0);
	if (mem && strstr(mem, "/runner-")) {
		cr_assert(!tu_exists("%s", mem), "%s was not removed", mem);
		cr_assert(!tu_exists("%s", pids), "%s was not removed", pids);
	}
	free(mem);
	free(pids);
	free(v2);
	free(mi);
	free(cg);
	free(limits);
	free(fd0);
	free(fd1);
	free(fddir);
	free(status);
	free(yaml);
	free(marker);
	tu_rmdir(ws);
	free(ws);
}
