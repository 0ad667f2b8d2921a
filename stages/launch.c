/*
 * launch.c - start a stage through the sandbox and collect its outcome.
 *
 * Built-in kinds run as the runner binary in worker mode. Their configuration travels in
 * a sealed memfd on fd 3 (so a worker cannot be handed a half-written config) and their
 * result comes back through a second memfd on fd 4, read once the process has ended.
 */
#include "stage.h"

#include "sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "banned.h"

/* Built with AddressSanitizer (GCC says so with a macro, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define RUNNER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNNER_ASAN 1
#endif
#endif

struct stage_proc {
	struct sandbox_proc *sp;
	int result_fd; /* -1 for scripts */
	bool bash;     /* a script run by `shell: bash` */
};

static int make_config_fd(const char *json)
{
	int fd = memfd_create("runner-stage-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return -errno;
	}
	int r = write_all(fd, json, strlen(json));
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0) {
		r = -errno;
	}
	if (r == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		r = -errno;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * The worker's environment. A sanitizer build of the runner also runs its workers
 * instrumented; LeakSanitizer's exit-time check stops the process's threads with ptrace,
 * which the sandbox's filter denies, and would turn every worker's exit into a failure.
 * Leaks in the kinds' code are found by their in-process tests instead.
 */
static const char **worker_envp(const char *const *envp)
{
	size_t n = 0;
	while (envp[n]) {
		n++;
	}
	const char **v = xcalloc(n + 2, sizeof(char *));
	memcpy(v, envp, n * sizeof(char *));
#if defined(RUNNER_ASAN)
	v[n++] = "ASAN_OPTIONS=detect_leaks=0";
#endif
	v[n] = NULL;
	return v;
}

int stage_launch(const struct stage_launch *l, struct stage_proc **out)
{
	const char *argv_sh[] = { "/bin/sh", "-e", "-c", l->script, NULL };
	/* As GitHub's `shell: bash`: no startup files (the image's or the user's would run
	 * before the script), and a pipeline fails when any of its commands does. */
	const char *argv_bash[] = { "/bin/bash", "--noprofile", "--norc",  "-e", "-o",
				    "pipefail",	 "-c",		l->script, NULL };
	const char *argv_worker[] = { "runner", "__worker", l->kind->name, l->stage_name, NULL };
	_cleanup_close_ int config_fd = -1, result_fd = -1;
	_cleanup_free_ const char **worker_env = NULL;
	struct sandbox_spawn sp = {
		.envp = l->envp,
		.cwd = l->cwd,
		.workspace = l->workspace,
		.mounts = l->mounts,
		.n_mounts = l->n_mounts,
		.exec_fd = -1,
		.stdin_fd = -1,
		.stdout_fd = l->output_fd,
		.stderr_fd = l->output_fd,
	};
	int fds[2];

	if (l->kind->flags & STAGE_KIND_SCRIPT) {
		if (!l->script || (unsigned)l->shell >= STAGE_SHELL_COUNT) {
			return -EINVAL;
		}
		sp.argv = l->shell == STAGE_SHELL_BASH ? argv_bash : argv_sh;
	} else {
		if (!l->kind->run || l->self_exe_fd < 0) {
			return -EINVAL;
		}
		json_t *with = l->with ? json_incref(l->with) : json_object();
		json_t *cfg = json_pack("{s:s, s:s, s:s, s:o, s:O}", "kind", l->kind->name, "stage",
					l->stage_name, "workspace", l->workspace, "with", with,
					"gate", l->gate ? l->gate : json_null());
		char *json = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
		json_decref(cfg);
		if (!json) {
			return -ENOMEM;
		}
		config_fd = make_config_fd(json);
		free(json);
		if (config_fd < 0) {
			return config_fd;
		}
		result_fd = memfd_create("runner-stage-result", MFD_CLOEXEC);
		if (result_fd < 0) {
			return -errno;
		}
		fds[0] = config_fd;
		fds[1] = result_fd;
		sp.argv = argv_worker;
		sp.exec_fd = l->self_exe_fd;
		sp.envp = worker_env = worker_envp(l->envp);
		sp.fds = fds;
		sp.n_fds = 2;
	}

	struct sandbox_proc *proc;
	int r = sandbox_spawn(l->policy, &sp, &proc);
	if (r < 0) {
		return r;
	}
	struct stage_proc *p = xcalloc(1, sizeof(*p));
	p->sp = proc;
	p->result_fd = steal_fd(result_fd);
	p->bash = (l->kind->flags & STAGE_KIND_SCRIPT) && l->shell == STAGE_SHELL_BASH;
	*out = p;
	return 0;
}

int stage_proc_pidfd(const struct stage_proc *p)
{
	return sandbox_proc_pidfd(p->sp);
}

int stage_proc_pid(const struct stage_proc *p)
{
	return (int)sandbox_proc_pid(p->sp);
}

int stage_proc_terminate(struct stage_proc *p)
{
	return sandbox_terminate(p->sp);
}

int stage_proc_kill(struct stage_proc *p)
{
	return sandbox_kill(p->sp);
}

static json_t *read_result(int fd, char *msg, size_t msgsize)
{
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0) {
		return NULL;
	}
	if ((uint64_t)size > STAGE_RESULT_MAX) {
		snprintf(msg, msgsize, "stage result too large (%lld bytes)", (long long)size);
		return NULL;
	}
	char *buf = xmalloc((size_t)size);
	ssize_t n = pread(fd, buf, (size_t)size, 0);
	json_t *j = NULL;
	if (n == size) {
		json_error_t err;
		j = json_loadb(buf, (size_t)size, JSON_REJECT_DUPLICATES, &err);
		if (!j || !json_is_object(j)) {
			snprintf(msg, msgsize, "stage result is not a JSON object");
			json_decref(j);
			j = NULL;
		}
	}
	free(buf);
	return j;
}

int stage_proc_reap(struct stage_proc *p, struct stage_outcome *o)
{
	struct sandbox_result res;
	int r = sandbox_reap(p->sp, &res);
	if (r < 0) {
		return r;
	}
	memset(o, 0, sizeof(*o));
	/* Setup failures say what failed; other endings may say which limit was hit. */
	snprintf(o->message, sizeof(o->message), "%s", res.message);
	switch (res.outcome) {
	case SANDBOX_EXITED:
		o->end = STAGE_END_EXITED;
		o->code = res.code;
		break;
	case SANDBOX_SIGNALED:
		o->end = STAGE_END_SIGNALED;
		o->sig = res.sig;
		break;
	case SANDBOX_SETUP_FAILED:
		o->end = STAGE_END_SETUP;
		if (p->bash && strncmp(res.message, "exec: ", 6) == 0) {
			/* Said plainly: the root (a rootfs image, often) has no bash. */
			snprintf(o->message, sizeof(o->message),
				 "shell: bash: /bin/bash cannot be run in the stage's root "
				 "filesystem (%.120s); install bash there, or use shell: sh",
				 res.message);
		}
		break;
	}
	if (p->result_fd >= 0 && o->end == STAGE_END_EXITED) {
		o->result = read_result(p->result_fd, o->message, sizeof(o->message));
	}
	return 0;
}

void stage_proc_free(struct stage_proc *p)
{
	if (!p) {
		return;
	}
	sandbox_proc_free(p->sp);
	if (p->result_fd >= 0) {
		close(p->result_fd);
	}
	free(p);
}
