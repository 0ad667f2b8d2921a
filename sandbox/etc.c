/*
 * etc.c - the stages' /etc, prepared once per policy (runner side).
 *
 * /etc holds what programs need (users, name resolution, certificates, the dynamic
 * linker's cache, alternatives) next to what no stage may see (password hashes, host
 * keys, credentials of services). Stages get an allowlist of entries. Binding each entry
 * separately would cost a mount per entry per stage, so when a policy is compiled the
 * small files and directories of the allowlist are copied once into a directory, the *view*
 * (removed when the policy is freed, or by a later runner when this one was
 * killed), with symbolic links copied as links and
 * an empty mount point for each directory or file too large to copy. A stage then gets the
 * view, bound read-only, with those few host entries bound into it: a mount or two
 * instead of fifty. The copies are a snapshot taken when the run starts.
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
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

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
	"ssl/certs",
	"ssl/openssl.cnf",
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
	"xdg",
	"ssh/ssh_config",
	"ssh/ssh_config.d",
};

/* What the runner's own binary (a built-in kind's worker) reads of /etc. */
static const char *const etc_minimal[] = {
	"passwd",     "group",	      "hosts",	   "nsswitch.conf", "ld.so.cache",
	"ld.so.conf", "ld.so.conf.d", "localtime", "timezone",	    "os-release",
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

/* A directory of the allowlist copied whole, within a budget; a larger one is bound. */
#define TREE_MAX_ENTRIES 4096
#define TREE_MAX_BYTES	 (8u << 20)
#define TREE_MAX_DEPTH	 8

struct budget {
	size_t entries, bytes;
};

/* Copy the tree at src to dst: directories, regular files, symbolic links as links (they
 * resolve inside the stage's root). Returns 0, -E2BIG when it is over budget (the caller
 * binds it instead), or -errno. What this user cannot read is left out. */
static int copy_tree(const char *src, const char *dst, mode_t mode, struct budget *b, int depth)
{
	if (depth > TREE_MAX_DEPTH) {
		return -E2BIG;
	}
	if (mkdir(dst, mode & 0755) < 0) {
		return -errno;
	}
	DIR *d = opendir(src);
	if (!d) {
		return errno == EACCES ? 0 : -errno;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (str_eq(de->d_name, ".") || str_eq(de->d_name, "..")) {
			continue;
		}
		if (++b->entries > TREE_MAX_ENTRIES) {
			r = -E2BIG;
			break;
		}
		_cleanup_free_ char *s = xasprintf("%s/%s", src, de->d_name);
		_cleanup_free_ char *t = xasprintf("%s/%s", dst, de->d_name);
		struct stat st;
		if (lstat(s, &st) < 0) {
			r = errno == ENOENT ? 0 : -errno;
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(s, target, sizeof(target) - 1);
			if (n < 0) {
				r = -errno;
			} else {
				target[n] = '\0';
				r = symlink(target, t) < 0 ? -errno : 0;
			}
		} else if (S_ISDIR(st.st_mode)) {
			r = copy_tree(s, t, st.st_mode, b, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			b->bytes += (size_t)st.st_size;
			r = st.st_size > (off_t)COPY_MAX || b->bytes > TREE_MAX_BYTES
				    ? -E2BIG
				    : copy_small(s, t, st.st_mode);
		}
	}
	closedir(d);
	return r;
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
	if (S_ISDIR(st.st_mode)) {
		struct budget b = { 0, 0 };
		int r = copy_tree(src, dst, st.st_mode, &b, 0);
		if (r != -E2BIG) {
			return r;
		}
		rm_rf(dst); /* too large to copy: bind it */
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

/* Where the view goes: a tmpfs if this user has one (creating a thousand small files on
 * a disk filesystem takes far longer), else $TMPDIR or /tmp. */
static const char *view_parent(void)
{
	const char *cands[] = { getenv("XDG_RUNTIME_DIR"), "/dev/shm" };
	struct statfs sf;
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (cands[i] && cands[i][0] == '/' && statfs(cands[i], &sf) == 0 &&
		    sf.f_type == TMPFS_MAGIC && access(cands[i], W_OK | X_OK) == 0) {
			return cands[i];
		}
	}
	const char *env = getenv("TMPDIR");
	return env && env[0] == '/' ? env : "/tmp";
}

static int prepare(struct etc_view *v, bool minimal, char *err, size_t errsize)
{
	const char *tmp = view_parent();
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
		return -errno;
	}
	const char *const *names = minimal ? etc_minimal : etc_allow;
	size_t n = minimal ? ARRAY_SIZE(etc_minimal) : ARRAY_SIZE(etc_allow);
	for (size_t i = 0; i < n; i++) {
		int r = prepare_entry(v, names[i]);
		if (r < 0) {
			set_text(err, errsize, "prepare /etc for stages: /etc/%s: %s", names[i],
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

static void release(struct etc_view *v)
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
	free(v);
}

/* One view of each kind per process, shared by its policies (it does not depend on them
 * otherwise): [0] the full one, [1] the minimal one. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct etc_view *shared[2];
static unsigned refs[2];

struct etc_view *etc_view_get(bool minimal, char *err, size_t errsize)
{
	pthread_mutex_lock(&lock);
	struct etc_view *v =
		shared[minimal] && shared[minimal]->owner == getpid() ? shared[minimal] : NULL;
	if (v) {
		refs[minimal]++;
	} else {
		v = xcalloc(1, sizeof(*v));
		if (prepare(v, minimal, err, errsize) < 0) {
			release(v);
			v = NULL;
		} else {
			shared[minimal] = v;
			refs[minimal] = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return v;
}

void etc_view_put(struct etc_view *v)
{
	if (!v) {
		return;
	}
	pthread_mutex_lock(&lock);
	bool last = true;
	for (int k = 0; k < 2; k++) {
		if (v == shared[k]) {
			last = --refs[k] == 0;
			if (last) {
				shared[k] = NULL;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	if (last) {
		release(v);
	}
}
