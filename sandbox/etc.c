/*
 * etc.c - the stages' /etc, prepared once per policy (runner side).
 *
 * /etc holds what programs need (users, name resolution, certificates, the dynamic
 * linker's cache, alternatives) next to what no stage may see (password hashes, host
 * keys, credentials of services). Stages get an allowlist of entries. Binding each entry
 * separately would cost a mount per entry per stage, so when a policy is compiled the
 * small files of the allowlist are copied once into a private directory, the *view*
 * (removed when the policy is freed, or by a later runner when this one was
 * killed), with symbolic links copied as links and
 * an empty mount point for each directory (and each file too large to copy). A stage then
 * gets the view, bound read-only, with the host's directories bound into it: a handful of
 * mounts instead of fifty. The copies are a snapshot taken when the run starts.
 *
 * A symbolic link that stays in /usr or /etc (or is relative) is copied as a link and
 * resolves inside the stage's root; one that points elsewhere (a resolv.conf managed under
 * /run) is followed; one into /proc, /sys or /dev is left out. A file this user cannot
 * read is left out, as a bind would have shown nothing of it either.
 */
#include "internal.h"

#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define COPY_MAX (1u << 20) /* files up to this size are copied into the view */

/* /etc entries a build may need; nothing that holds a credential or a private key. */
static const char *const etc_allow[] = {
	"passwd",
	"group",
	"hosts",
	"hostname",
	"resolv.conf",
	"nsswitch.conf",
	"host.conf",
	"gai.conf",
	"services",
	"protocols",
	"networks",
	"rpc",
	"localtime",
	"timezone",
	"ld.so.cache",
	"ld.so.conf",
	"ld.so.conf.d",
	"os-release",
	"debian_version",
	"lsb-release",
	"issue",
	"alternatives",
	"ssl",
	"ca-certificates",
	"ca-certificates.conf",
	"mime.types",
	"magic",
	"magic.mime",
	"shells",
	"profile",
	"profile.d",
	"bash.bashrc",
	"inputrc",
	"environment",
	"locale.alias",
	"locale.conf",
	"locale.gen",
	"default",
	"gitconfig",
	"mtab",
	"terminfo",
	"fonts",
	"perl",
	"python3",
	"python3.11",
	"pip.conf",
	"npmrc",
	"wgetrc",
	"java-17-openjdk",
	"dpkg",
	"apt",
	"xdg",
	"ssh/ssh_config",
	"ssh/ssh_config.d",
};

static int copy_small(const char *src, const char *dst, mode_t mode)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_capped(src, COPY_MAX, &buf, &len);
	if (r < 0) {
		return r == -EACCES ? 0 : r;
	}
	int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0755);
	if (fd < 0) {
		return -errno;
	}
	r = write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	return r;
}

static void add_bind(struct etc_view *v, const char *name, const char *host, bool dir, bool follow)
{
	v->binds = xreallocarray(v->binds, v->n_binds + 1, sizeof(*v->binds));
	v->binds[v->n_binds++] = (struct etc_bind){
		.name = xstrdup(name), .host = xstrdup(host), .dir = dir, .follow = follow
	};
}

/* One entry of the allowlist into the view. */
static int prepare_entry(struct etc_view *v, const char *name)
{
	_cleanup_free_ char *src = xasprintf("/etc/%s", name);
	_cleanup_free_ char *dst = xasprintf("%s/%s", v->dir, name);
	struct stat st;
	if (lstat(src, &st) < 0) {
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	}
	const char *slash = strrchr(name, '/');
	if (slash) {
		_cleanup_free_ char *parent =
			xasprintf("%s/%.*s", v->dir, (int)(slash - name), name);
		int r = mkdir_p(parent, 0755);
		if (r < 0) {
			return r;
		}
	}
	bool follow = false;
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0) {
			return -errno;
		}
		target[n] = '\0';
		if (target[0] != '/' || str_has_prefix(target, "/usr/") ||
		    str_has_prefix(target, "/etc/")) {
			return symlink(target, dst) < 0 ? -errno : 0;
		}
		if (str_has_prefix(target, "/proc") || str_has_prefix(target, "/sys") ||
		    str_has_prefix(target, "/dev") || stat(src, &st) < 0) {
			return 0;
		}
		follow = true;
	}
	if (S_ISREG(st.st_mode) && st.st_size <= (off_t)COPY_MAX) {
		return copy_small(src, dst, st.st_mode);
	}
	if (S_ISREG(st.st_mode)) {
		int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0) {
			return -errno;
		}
		close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) < 0) {
			return -errno;
		}
	} else {
		return 0;
	}
	add_bind(v, name, src, S_ISDIR(st.st_mode), follow);
	return 0;
}

/* Views left behind by runners that were killed: runner-etc-<pid>-*, pid gone, ours. */
static void remove_stale(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid = 0, n = 0;
		if (sscanf(de->d_name, "runner-etc-%d-%n", &pid, &n) != 1 || n == 0 || pid <= 0) {
			continue;
		}
		struct stat st;
		_cleanup_free_ char *path = xasprintf("%s/%s", tmp, de->d_name);
		if (kill(pid, 0) < 0 && errno == ESRCH && lstat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
			rm_rf(path);
		}
	}
	if (d) {
		closedir(d);
	}
}

int etc_prepare(struct etc_view *v, char *err, size_t errsize)
{
	const char *env = getenv("TMPDIR");
	const char *tmp = env && env[0] == '/' ? env : "/tmp";
	memset(v, 0, sizeof(*v));
	remove_stale(tmp);
	v->dir = xasprintf("%s/runner-etc-%d-XXXXXX", tmp, (int)getpid());
	if (!mkdtemp(v->dir)) {
		int e = -errno;
		set_text(err, errsize, "prepare /etc for stages: cannot create %s: %s", v->dir,
			 strerror(errno));
		free(v->dir);
		v->dir = NULL;
		return e;
	}
	v->owner = getpid();
	/* It becomes the stages' /etc: as readable as the host's (its entries are copies of
	 * world-readable files); writable by nobody but its owner, whom no stage can be on
	 * the host's side of the mount. */
	if (chmod(v->dir, 0755) < 0) {
		int e = -errno;
		etc_release(v);
		return e;
	}
	for (size_t i = 0; i < ARRAY_SIZE(etc_allow); i++) {
		int r = prepare_entry(v, etc_allow[i]);
		if (r < 0) {
			set_text(err, errsize, "prepare /etc for stages: /etc/%s: %s", etc_allow[i],
				 strerror(-r));
			etc_release(v);
			return r;
		}
	}
	return 0;
}

void etc_release(struct etc_view *v)
{
	if (v->dir && v->owner == getpid()) {
		rm_rf(v->dir);
	}
	for (size_t i = 0; i < v->n_binds; i++) {
		free(v->binds[i].name);
		free(v->binds[i].host);
	}
	free(v->binds);
	free(v->dir);
	memset(v, 0, sizeof(*v));
}
