/*
 * scanbox.c - a built-in scan kind's worker started outside a run, in the sandbox (see
 * scanbox.h): the paths it reads outside its root bound read-only, the worker started
 * through stage_launch() as a pipeline's stage is, its result read back.
 */
#include "scanbox.h"

#include "gate.h"
#include "sandbox.h"
#include "stage.h"
#include "util.h"
#include "walk.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

/* What of a worker's output is quoted when it ends without a result. */
#define OUTPUT_QUOTE (2u << 10)

/* What follows dir in path ("" for dir itself), or NULL when path is not dir or below it.
 * Both canonical. */
static const char *below(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/') {
		return path[0] == '/' ? path + 1 : NULL;
	}
	if (strncmp(path, dir, n) != 0 || (path[n] != '/' && path[n] != '\0')) {
		return NULL;
	}
	return path[n] ? path + n + 1 : path + n;
}

void scanbox_init(struct scanbox *sb, const char *root, bool unconfined)
{
	memset(sb, 0, sizeof(*sb));
	sb->root = root;
	sb->unconfined = unconfined;
	sb->cancel_fd = -1;
}

void scanbox_release(struct scanbox *sb)
{
	for (size_t i = 0; i < sb->n_binds; i++) {
		free(sb->binds[i]);
	}
	if (sb->copies) {
		rm_rf(sb->copies);
		tmp_untrack(sb->copies);
		free(sb->copies);
	}
	memset(sb, 0, sizeof(*sb));
}

/* Bind real (canonical) read-only at its own path, unless the root or a bound directory
 * holds it already. */
static int bind(struct scanbox *sb, const char *real, char *err, size_t errlen)
{
	if (below(sb->root, real)) {
		return 0;
	}
	for (size_t i = 0; i < sb->n_binds; i++) {
		if (below(sb->binds[i], real)) {
			return 0;
		}
	}
	if (below("/proc", real) || below("/dev", real) || below("/sys", real)) {
		return errf(
			err, errlen, -EXDEV,
			"%s cannot be bound into the sandbox (nothing under /proc, /dev or /sys "
			"can): give a file",
			real);
	}
	if (sb->n_binds == SCANBOX_MAX_BINDS) {
		return errf(err, errlen, -E2BIG,
			    "more than %d paths outside %s to bind into the sandbox",
			    SCANBOX_MAX_BINDS, sb->root);
	}
	sb->binds[sb->n_binds++] = xstrdup(real);
	return 0;
}

int scanbox_path(const struct scanbox *sb, const char *arg, char **out, char *err, size_t errlen)
{
	char real[PATH_MAX];
	*out = NULL;
	if (!realpath(arg, real)) {
		int e = errno;
		if (path_is_inside(arg)) {
			*out = xstrdup(arg);
			return 0;
		}
		return errf(err, errlen, -e, "cannot read %s: %s", arg, strerror(e));
	}
	const char *rel = below(sb->root, real);
	if (!rel) {
		return errf(
			err, errlen, -EXDEV,
			"%s is outside the scanned tree %s: scan from a directory that holds it "
			"(cd there, or -C DIR)",
			arg, sb->root);
	}
	*out = xstrdup(path_is_inside(arg) ? arg : *rel ? rel : ".");
	return 0;
}

/* The content of the pipe at path, copied to sb->copies + its absolute path (so that
 * messages about it still name it), bound read-only; *out names the copy. */
static int copy_pipe(struct scanbox *sb, const char *path, char **out, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int r = read_file_capped(path, SCANBOX_PIPE_MAX, &data, &len);
	if (r < 0) {
		return errf(err, errlen, r, "cannot read %s: %s", path,
			    r == -EFBIG ? "it gives more than 64 MiB" : strerror(-r));
	}
	_cleanup_free_ char *base = NULL;
	if (!sb->copies) {
		sb->copies = tmp_dir_tracked("runner-input");
	}
	if (!sb->copies || !(base = realpath(sb->copies, NULL))) {
		r = -errno;
		errf(err, errlen, 0, "cannot make a copy of %s in %s: %s", path, tmp_dir_parent(),
		     strerror(-r));
		free(data);
		return r;
	}
	_cleanup_free_ char *abs = NULL;
	if (path[0] != '/') {
		char cwd[PATH_MAX];
		abs = getcwd(cwd, sizeof(cwd)) ? xasprintf("%s/%s", cwd, path) : NULL;
	}
	char *copy = xasprintf("%s%s", base, abs ? abs : path[0] == '/' ? path : "/input");
	_cleanup_free_ char *parent = xstrdup(copy);
	*strrchr(parent, '/') = '\0';
	r = mkdir_p(parent, 0700);
	if (r == 0) {
		r = write_file_atomic(copy, data, len, 0600);
	}
	free(data);
	if (r < 0) {
		errf(err, errlen, 0, "cannot make a copy of %s: %s", path, strerror(-r));
		free(copy);
		return r;
	}
	r = bind(sb, copy, err, errlen);
	if (r < 0) {
		free(copy);
		return r;
	}
	*out = copy;
	return 0;
}

int scanbox_input(struct scanbox *sb, const char *path, char **out, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
		return copy_pipe(sb, path, out, err, errlen);
	}
	*out = realpath(path, NULL);
	if (!*out) {
		int e = errno;
		return errf(err, errlen, -e, "cannot read %s: %s", path, strerror(e));
	}
	int r = bind(sb, *out, err, errlen);
	if (r < 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

int scanbox_baseline(struct scanbox *sb, const char *path, char **out, char *err, size_t errlen)
{
	int r = scanbox_input(sb, path, out, err, errlen);
	if (r == -ENOENT || r == -EACCES || r == -ENOTDIR || r == -ELOOP || r == -EFBIG) {
		return -EBADMSG; /* a file given that cannot be read: invalid input */
	}
	if (r < 0) {
		return r;
	}
	struct gate_policy gp;
	gate_policy_init(&gp);
	r = gate_policy_load_baseline(&gp, *out, err, errlen);
	gate_policy_release(&gp);
	const char *at = r < 0 ? strstr(err, *out) : NULL;
	if (at) {
		/* Named as given, not as resolved (or copied). */
		_cleanup_free_ char *msg =
			xasprintf("%.*s%s%s", (int)(at - err), err, path, at + strlen(*out));
		errf(err, errlen, 0, "%s", msg);
	}
	if (r < 0) {
		free(*out);
		*out = NULL;
		return -EBADMSG;
	}
	return 0;
}

/* The .gitignore files of the directories from top down to the root's parent. */
static int bind_ignore_files(struct scanbox *sb, const char *top, char *err, size_t errlen)
{
	size_t n = strlen(top), len = strlen(sb->root);
	int r = 0;
	while (r == 0 && n < len) {
		_cleanup_free_ char *file =
			xasprintf("%.*s/.gitignore", n == 1 ? 0 : (int)n, sb->root);
		struct stat st;
		if (lstat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			r = bind(sb, file, err, errlen);
		}
		n++;
		while (n < len && sb->root[n] != '/') {
			n++;
		}
	}
	return r;
}

int scanbox_repository(struct scanbox *sb, json_t *gate, char *err, size_t errlen)
{
	/* A .git directory in the root: the worker finds the repository there itself. */
	_cleanup_free_ char *dot_git = xasprintf("%s/.git", sb->root);
	struct stat st;
	if (lstat(dot_git, &st) == 0 && S_ISDIR(st.st_mode)) {
		return 0;
	}
	char *top, *git_dir, *common_dir;
	if (walk_repo_find(sb->root, &top, &git_dir, &common_dir) < 0) {
		return 0;
	}
	int r = 0;
	if (!below(sb->root, git_dir) || !below(sb->root, common_dir)) {
		r = bind(sb, git_dir, err, errlen);
		if (r == 0) {
			r = bind(sb, common_dir, err, errlen);
		}
		if (r == 0) {
			r = bind_ignore_files(sb, top, err, errlen);
		}
		if (r == 0) {
			json_object_set_new(gate, "git_dir", json_string(git_dir));
		}
	}
	free(top);
	free(git_dir);
	free(common_dir);
	return r;
}

int scanbox_fail(json_t *result, const char *msg)
{
	_cleanup_free_ char *clean = utf8_sanitize(msg, strlen(msg));
	_cleanup_free_ char *summary = xasprintf("error: %s", clean);
	json_object_set_new(result, "summary", json_string(summary));
	json_object_set_new(result, "error", json_string(clean));
	json_object_set_new(result, "findings", json_array());
	return STAGE_EXIT_ERROR;
}

/* The first bytes of what the worker printed, on one line. */
static char *output_quote(int fd)
{
	char buf[OUTPUT_QUOTE + 1];
	ssize_t n = pread(fd, buf, OUTPUT_QUOTE, 0);
	if (n <= 0) {
		return xstrdup("no output");
	}
	buf[n] = '\0';
	_cleanup_free_ char *clean = utf8_sanitize(buf, (size_t)n);
	return str_one_line(clean);
}

int scanbox_run(struct scanbox *sb, const char *kind_name, const char *stage_name, json_t *with,
		json_t *gate, json_t **out, char *err, size_t errlen)
{
	const struct stage_kind *kind = stage_kind_find(kind_name);
	struct sandbox_policy *pol =
		sb->unconfined ? sandbox_policy_new_unconfined() : sandbox_policy_new();
	struct sandbox_mount mounts[SCANBOX_MAX_BINDS + 1];
	size_t n_mounts = 0;
	struct stage_proc *proc = NULL;
	struct stage_outcome oc = { 0 };
	_cleanup_close_ int self = -1, output = -1;
	_cleanup_free_ char *path_env = NULL, *host_file = NULL, *host_env = NULL, *quote = NULL;
	char cerr[256];
	int code = STAGE_EXIT_ERROR;
	*out = NULL;
	/* One worker, then the process ends: no supervisor prepared for a next one, and the
	 * small /etc (a build's tools are not run). */
	if (!kind ||
	    (!sb->unconfined && (sandbox_policy_set_workspace_readonly(pol, true) < 0 ||
				 sandbox_policy_set_oneshot(pol, true) < 0)) ||
	    sandbox_policy_compile(pol, cerr, sizeof(cerr)) < 0) {
		errf(err, errlen, 0, "the sandbox cannot be set up: %s",
		     kind ? cerr : "no such scan kind");
		goto out;
	}
	if (!sb->unconfined && (str_eq(sb->root, "/") || below("/proc", sb->root) ||
				below("/dev", sb->root) || below("/sys", sb->root))) {
		errf(err, errlen, 0,
		     "the sandbox cannot take %s as the scan's workspace (not /, nor anything "
		     "under /proc, /dev or /sys): scan from another directory",
		     sb->root);
		goto out;
	}
	/* As the engine does for a stage: the kind's host input, then the scan's own. */
	host_file = sb->host_file     ? xstrdup(sb->host_file)
		    : kind->host_file ? kind->host_file(with, sb->root)
				      : NULL;
	struct stat hst;
	if (host_file && stat(host_file, &hst) == 0 && S_ISREG(hst.st_mode)) {
		mounts[n_mounts++] =
			(struct sandbox_mount){ .path = host_file, .source = host_file };
	}
	if (host_file && kind->host_file_env) {
		host_env = xasprintf("%s=%s", kind->host_file_env, host_file);
	}
	for (size_t i = 0; i < sb->n_binds; i++) {
		mounts[n_mounts++] =
			(struct sandbox_mount){ .path = sb->binds[i], .source = sb->binds[i] };
	}
	self = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	output = memfd_create("runner-scan-output", MFD_CLOEXEC);
	if (self < 0 || output < 0) {
		errf(err, errlen, 0, "cannot prepare the scan: %s", strerror(errno));
		goto out;
	}
	const char *path = getenv("PATH");
	path_env = xasprintf("PATH=%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	const char *const envp[] = { path_env, "HOME=/tmp", host_env, NULL };
	struct stage_launch l = {
		.kind = kind,
		.stage_name = stage_name,
		.with = with,
		.gate = gate,
		.envp = envp,
		.workspace = sb->root,
		.cwd = sb->root,
		.output_fd = output,
		.self_exe_fd = self,
		.policy = pol,
		.mounts = sb->unconfined ? NULL : mounts,
		.n_mounts = sb->unconfined ? 0 : n_mounts,
	};
	int r = stage_launch(&l, &proc);
	if (r < 0) {
		errf(err, errlen, 0,
		     "could not start the scan in the sandbox: %s (runner sandbox check says "
		     "what this host lacks)",
		     strerror(-r));
		goto out;
	}
	struct pollfd pfd[2] = { { .fd = stage_proc_pidfd(proc), .events = POLLIN },
				 { .fd = sb->cancel_fd, .events = POLLIN } };
	while ((r = stage_proc_reap(proc, &oc)) == -EAGAIN) {
		/* Once cancelled, only the worker's end is waited for (the kill is sure). */
		if (poll(pfd, sb->cancel_fd >= 0 && !sb->cancelled ? 2 : 1, -1) < 0 &&
		    errno != EINTR) {
			r = -errno;
			break;
		}
		if (!sb->cancelled && sb->cancel_fd >= 0 && (pfd[1].revents & POLLIN)) {
			sb->cancelled = true;
			stage_proc_kill(proc);
		}
	}
	if (r < 0) {
		errf(err, errlen, 0, "cannot wait for the scan: %s", strerror(-r));
		goto out;
	}
	if (sb->cancelled) {
		errf(err, errlen, 0, "cancelled");
		goto out;
	}
	if (oc.end == STAGE_END_EXITED && oc.result &&
	    (oc.code == STAGE_EXIT_PASSED || oc.code == STAGE_EXIT_BLOCKED ||
	     oc.code == STAGE_EXIT_ERROR)) {
		code = oc.code;
		*out = oc.result;
		oc.result = NULL;
		goto out;
	}
	quote = output_quote(output);
	if (oc.end == STAGE_END_SETUP) {
		errf(err, errlen, 0,
		     "the sandbox could not start the scan: %s (runner sandbox check says what "
		     "this host lacks)",
		     oc.message);
	} else if (oc.end == STAGE_END_SIGNALED) {
		errf(err, errlen, 0, "the scan was killed by signal %d%s%s (%s)", oc.sig,
		     oc.message[0] ? ": " : "", oc.message, quote);
	} else {
		errf(err, errlen, 0, "the scan ended with exit code %d and %s (%s)", oc.code,
		     oc.result ? "an unexpected code" : "no result", quote);
	}
out:
	json_decref(oc.result);
	stage_proc_free(proc);
	sandbox_policy_free(pol);
	return code;
}
