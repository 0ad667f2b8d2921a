/*
 * wire.c - a supervisor's instructions (struct child_ctx) as one relocatable block, so
 * that the spawner, a separate small process, can start a confined stage exactly as the
 * runner describes it.
 *
 * The block is written into a memfd and passed to the spawner together with every
 * descriptor the supervisor needs (SCM_RIGHTS); the supervisor maps it privately and reads
 * it in place. It is laid out as the structures themselves: a struct child_ctx at offset 0,
 * then everything it points to, with each pointer replaced by the offset of its target
 * (0 for NULL) and each descriptor by its index in the array passed alongside (-1 for
 * none). Decoding checks every offset, length, count and index against the block and the
 * descriptors received and turns them back into pointers and descriptors; a block that
 * does not check out is refused as a whole. The block comes from the runner that started
 * the spawner, but the decoder trusts nothing it does not check.
 *
 * Encoding runs in the runner; decoding is child side (async-signal-safe: no allocation,
 * the mapping is the only memory it uses).
 */
#include "internal.h"

#include "util.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "banned.h"

#define WIRE_MAX_SIZE (256u << 20) /* far above any argv and environment a stage gets */
#define ALIGN	      8u

/* ---- encoding (runner side) ---- */

struct enc {
	char *buf;
	size_t len, cap;
	int err;
	int *fds; /* descriptors to pass, in index order */
	size_t n_fds;
};

/* Append n bytes (aligned); returns their offset, or 0 after an error. */
static size_t put(struct enc *e, const void *p, size_t n)
{
	size_t off = (e->len + ALIGN - 1) & ~(size_t)(ALIGN - 1), end;
	if (e->err || !size_add(off, n, &end) || end > WIRE_MAX_SIZE) {
		e->err = e->err ? e->err : -E2BIG;
		return 0;
	}
	if (end > e->cap) {
		size_t cap = MAX(end, e->cap * 2);
		e->buf = xrealloc(e->buf, cap);
		e->cap = cap;
	}
	memset(e->buf + e->len, 0, off - e->len);
	if (p) {
		memcpy(e->buf + off, p, n);
	} else {
		memset(e->buf + off, 0, n);
	}
	e->len = end;
	return off;
}

static size_t put_str(struct enc *e, const char *s)
{
	return s ? put(e, s, strlen(s) + 1) : 0;
}

static void set_off(void *slot, size_t off)
{
	uintptr_t v = off;
	memcpy(slot, &v, sizeof(v));
}

/* A descriptor's index in the array passed alongside (-1 stays -1). */
static int put_fd(struct enc *e, int fd)
{
	if (fd < 0) {
		return -1;
	}
	if (e->n_fds >= WIRE_MAX_FDS) {
		e->err = -EMFILE;
		return -1;
	}
	e->fds[e->n_fds] = fd;
	return (int)e->n_fds++;
}

/* A NULL-terminated string array: an array of offsets ending with 0. */
static size_t put_strv(struct enc *e, const char *const *v)
{
	size_t n = 0;
	while (v[n]) {
		n++;
	}
	uintptr_t *offs = xcalloc(n + 1, sizeof(*offs));
	for (size_t i = 0; i < n; i++) {
		offs[i] = put_str(e, v[i]);
	}
	size_t off = put(e, offs, (n + 1) * sizeof(*offs));
	free(offs);
	return off;
}

static size_t put_etc(struct enc *e, const struct etc_view *v)
{
	struct etc_bind *binds = xcalloc(v->n_binds + 1, sizeof(*binds));
	for (size_t i = 0; i < v->n_binds; i++) {
		binds[i] = v->binds[i];
		set_off(&binds[i].name, put_str(e, v->binds[i].name));
		set_off(&binds[i].host, put_str(e, v->binds[i].host));
	}
	struct etc_view w = *v;
	set_off(&w.dir, put_str(e, v->dir));
	set_off(&w.binds, v->n_binds ? put(e, binds, v->n_binds * sizeof(*binds)) : 0);
	free(binds);
	return put(e, &w, sizeof(w));
}

static size_t put_paths(struct enc *e, const struct policy_path *p, size_t n)
{
	if (!n) {
		return 0;
	}
	struct policy_path *w = xcalloc(n, sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		w[i] = p[i];
		set_off(&w[i].rel, put_str(e, p[i].rel));
	}
	size_t off = put(e, w, n * sizeof(*w));
	free(w);
	return off;
}

static size_t put_mounts(struct enc *e, const struct sandbox_mount *m, size_t n)
{
	if (!n) {
		return 0;
	}
	struct sandbox_mount *w = xcalloc(n, sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		w[i] = m[i];
		set_off(&w[i].path, put_str(e, m[i].path));
		set_off(&w[i].source, put_str(e, m[i].source));
	}
	size_t off = put(e, w, n * sizeof(*w));
	free(w);
	return off;
}

int wire_encode(const struct child_ctx *c, int *blob_fd, int *fds, size_t *n_fds)
{
	struct enc e = { .fds = fds };
	struct child_ctx w = *c;
	if (c->n_fds > SHIM_MAX_FDS || c->n_cg > 2 || c->n_rl > SHIM_MAX_RL ||
	    c->rp.n_paths + c->rp.n_mounts > ROOT_MAX_PATHS) {
		return -EINVAL;
	}
	put(&e, NULL, sizeof(w)); /* the context itself, written last */
	e.fds[e.n_fds++] = -1;	  /* index 0: the block (filled in below) */

	set_off(&w.argv, put_strv(&e, c->argv));
	set_off(&w.envp, put_strv(&e, c->envp));
	set_off(&w.cwd, put_str(&e, c->cwd));
	w.exec_fd = put_fd(&e, c->exec_fd);
	w.stdin_fd = put_fd(&e, c->stdin_fd);
	w.stdout_fd = put_fd(&e, c->stdout_fd);
	w.stderr_fd = put_fd(&e, c->stderr_fd);
	int idx[SHIM_MAX_FDS];
	for (size_t i = 0; i < c->n_fds; i++) {
		idx[i] = put_fd(&e, c->fds[i]);
	}
	set_off(&w.fds, c->n_fds ? put(&e, idx, c->n_fds * sizeof(int)) : 0);
	w.status_fd = put_fd(&e, c->status_fd);
	w.parent_pidfd = -1; /* the spawner's, given to wire_decode() */
	set_off(&w.fail_step, put_str(&e, c->fail_step));
	set_off(&w.filter,
		c->filter_len ? put(&e, c->filter, c->filter_len * sizeof(*c->filter)) : 0);
	for (int i = 0; i < c->n_cg; i++) {
		w.cg_fds[i] = put_fd(&e, c->cg_fds[i]);
	}
	set_off(&w.rp.workspace, put_str(&e, c->rp.workspace));
	set_off(&w.rp.rootfs, put_str(&e, c->rp.rootfs));
	set_off(&w.rp.etc, c->rp.etc ? put_etc(&e, c->rp.etc) : 0);
	set_off(&w.rp.paths, put_paths(&e, c->rp.paths, c->rp.n_paths));
	set_off(&w.rp.mounts, put_mounts(&e, c->rp.mounts, c->rp.n_mounts));
	set_off(&w.rp.stage_root, put_str(&e, c->rp.stage_root));
	if (e.err) {
		free(e.buf);
		return e.err;
	}
	memcpy(e.buf, &w, sizeof(w));

	int fd = memfd_create("runner-stage", MFD_CLOEXEC);
	int r = fd < 0 ? -errno : 0;
	for (size_t done = 0; r == 0 && done < e.len;) {
		ssize_t k = write(fd, e.buf + done, e.len - done);
		if (k < 0 && errno != EINTR) {
			r = -errno;
		}
		done += k > 0 ? (size_t)k : 0;
	}
	/* The block holds the stage's environment (its secrets): nothing of it stays here. */
	explicit_bzero(e.buf, e.len);
	free(e.buf);
	if (r < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return r;
	}
	fds[0] = fd;
	*blob_fd = fd;
	*n_fds = e.n_fds;
	return 0;
}

/* ---- what a warm supervisor is prepared from ---- */

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h = (*h ^ b[i]) * 0x100000001b3ull; /* FNV-1a */
	}
}

static void hash_str(uint64_t *h, const char *s)
{
	hash_bytes(h, s ? s : "", s ? safe_strlen(s) + 1 : 1);
}

uint64_t wire_policy_key(const struct child_ctx *c)
{
	/* A root filesystem's top-level entries are bound as they are when the stage starts:
	 * no warm supervisor for those. */
	if (!c->confined || c->rp.rootfs || !c->rp.etc) {
		return 0;
	}
	uint64_t h = 0xcbf29ce484222325ull;
	bool flags[4] = { c->userns, c->own_netns, c->rp.ws_ro, root_needs_host(&c->rp) };
	hash_bytes(&h, flags, sizeof(flags));
	hash_str(&h, c->rp.workspace);
	uint64_t ws_id[2] = { c->rp.ws_dev, c->rp.ws_ino };
	hash_bytes(&h, ws_id, sizeof(ws_id));
	hash_str(&h, c->uid_map);
	hash_str(&h, c->gid_map);
	hash_str(&h, c->rp.tmp_opts);
	hash_str(&h, c->rp.stage_root);
	hash_str(&h, c->rp.etc->dir);
	for (size_t i = 0; i < c->rp.etc->n_binds; i++) {
		const struct etc_bind *b = &c->rp.etc->binds[i];
		bool f[2] = { b->dir, b->follow };
		hash_str(&h, b->name);
		hash_str(&h, b->host);
		hash_bytes(&h, f, sizeof(f));
	}
	return h ? h : 1;
}

static bool same_str(const char *a, const char *b)
{
	if (!a || !b) {
		return a == b;
	}
	size_t n = safe_strlen(a);
	return n == safe_strlen(b) && memcmp(a, b, n) == 0;
}

bool wire_same_policy(const struct child_ctx *a, const struct child_ctx *b)
{
	if (a->userns != b->userns || a->own_netns != b->own_netns || a->rp.ws_ro != b->rp.ws_ro ||
	    root_needs_host(&a->rp) != root_needs_host(&b->rp) ||
	    !same_str(a->rp.workspace, b->rp.workspace) || a->rp.ws_dev != b->rp.ws_dev ||
	    a->rp.ws_ino != b->rp.ws_ino || !same_str(a->uid_map, b->uid_map) ||
	    !same_str(a->gid_map, b->gid_map) || !same_str(a->rp.tmp_opts, b->rp.tmp_opts) ||
	    !same_str(a->rp.stage_root, b->rp.stage_root) || a->rp.rootfs || b->rp.rootfs ||
	    !a->rp.etc || !b->rp.etc || !same_str(a->rp.etc->dir, b->rp.etc->dir) ||
	    a->rp.etc->n_binds != b->rp.etc->n_binds) {
		return false;
	}
	for (size_t i = 0; i < a->rp.etc->n_binds; i++) {
		const struct etc_bind *x = &a->rp.etc->binds[i], *y = &b->rp.etc->binds[i];
		if (!same_str(x->name, y->name) || !same_str(x->host, y->host) ||
		    x->dir != y->dir || x->follow != y->follow) {
			return false;
		}
	}
	return true;
}

/* ---- decoding (child side) ---- */

struct blk {
	char *base;
	size_t size;
	const int *fds;
	size_t n_fds;
};

/* The pointer in *slot holds an offset: check that n bytes from there lie in the block
 * (NULL allowed when nullable) and make it a pointer. */
static int reloc(const struct blk *b, void *slot, size_t n, bool nullable)
{
	uintptr_t off;
	memcpy(&off, slot, sizeof(off));
	if (off == 0) {
		return nullable ? 0 : -EBADMSG;
	}
	if (off % ALIGN || off >= b->size || n > b->size - off) {
		return -EBADMSG;
	}
	char *p = b->base + off;
	memcpy(slot, &p, sizeof(p));
	return 0;
}

/* A string: its offset in the block and a terminating NUL before the block ends. */
static int reloc_str(const struct blk *b, void *slot, bool nullable)
{
	uintptr_t off;
	memcpy(&off, slot, sizeof(off));
	if (off == 0) {
		return nullable ? 0 : -EBADMSG;
	}
	if (off >= b->size || !memchr(b->base + off, '\0', b->size - off)) {
		return -EBADMSG;
	}
	char *p = b->base + off;
	memcpy(slot, &p, sizeof(p));
	return 0;
}

/* A NULL-terminated array of string offsets. */
static int reloc_strv(const struct blk *b, void *slot)
{
	uintptr_t off;
	memcpy(&off, slot, sizeof(off));
	if (off == 0 || off % ALIGN || off >= b->size) {
		return -EBADMSG;
	}
	size_t max = (b->size - off) / sizeof(uintptr_t);
	char *arr = b->base + off;
	for (size_t i = 0;; i++) {
		if (i >= max) {
			return -EBADMSG;
		}
		uintptr_t v;
		memcpy(&v, arr + i * sizeof(v), sizeof(v));
		if (v == 0) {
			break;
		}
		int r = reloc_str(b, arr + i * sizeof(v), false);
		if (r < 0) {
			return r;
		}
	}
	memcpy(slot, &arr, sizeof(arr));
	return 0;
}

/* A descriptor index: the descriptor received at that index (-1 stays -1). Decoding for
 * the policy alone (no descriptors), every descriptor is -1. */
static int fd_at(const struct blk *b, int *fd, bool optional)
{
	if (!b->fds || (*fd == -1 && optional)) {
		*fd = -1;
		return 0;
	}
	if (*fd <= 0 || (size_t)*fd >= b->n_fds) { /* index 0 is the block itself */
		return -EBADMSG;
	}
	*fd = b->fds[*fd];
	return 0;
}

static int decode_root(const struct blk *b, struct root_plan *rp)
{
	int r = reloc_str(b, &rp->workspace, false);
	if (r == 0) {
		r = reloc_str(b, &rp->rootfs, true);
	}
	if (r == 0) {
		r = reloc_str(b, &rp->stage_root, false);
	}
	if (r == 0 && !rp->rootfs) {
		r = reloc(b, &rp->etc, sizeof(struct etc_view), false);
	}
	if (r == 0 && rp->rootfs) {
		rp->etc = NULL;
	}
	if (r == 0 && rp->etc) {
		struct etc_view *v = (struct etc_view *)(uintptr_t)rp->etc;
		r = reloc_str(b, &v->dir, false);
		if (r == 0 && v->n_binds > b->size / sizeof(struct etc_bind)) {
			r = -EBADMSG;
		}
		if (r == 0) {
			r = reloc(b, &v->binds, v->n_binds * sizeof(struct etc_bind),
				  v->n_binds == 0);
		}
		for (size_t i = 0; r == 0 && i < v->n_binds; i++) {
			r = reloc_str(b, &v->binds[i].name, false);
			if (r == 0) {
				r = reloc_str(b, &v->binds[i].host, false);
			}
		}
	}
	if (r == 0 && rp->n_paths + rp->n_mounts > ROOT_MAX_PATHS) {
		r = -EBADMSG;
	}
	if (r == 0) {
		r = reloc(b, &rp->paths, rp->n_paths * sizeof(struct policy_path),
			  rp->n_paths == 0);
	}
	for (size_t i = 0; r == 0 && i < rp->n_paths; i++) {
		r = reloc_str(b, (void *)&rp->paths[i].rel, false);
	}
	if (r == 0) {
		r = reloc(b, &rp->mounts, rp->n_mounts * sizeof(struct sandbox_mount),
			  rp->n_mounts == 0);
	}
	for (size_t i = 0; r == 0 && i < rp->n_mounts; i++) {
		struct sandbox_mount *m = (struct sandbox_mount *)(uintptr_t)&rp->mounts[i];
		r = reloc_str(b, &m->path, false);
		if (r == 0) {
			r = reloc_str(b, &m->source, true);
		}
	}
	if (r == 0 && !memchr(rp->tmp_opts, '\0', sizeof(rp->tmp_opts))) {
		r = -EBADMSG;
	}
	return r;
}

int wire_decode(int blob_fd, const int *fds, size_t n_fds, int parent_pidfd,
		const struct child_ctx **out)
{
	struct stat st;
	if (fstat(blob_fd, &st) < 0) {
		return -errno;
	}
	if (st.st_size < (off_t)sizeof(struct child_ctx) || st.st_size > (off_t)WIRE_MAX_SIZE) {
		return -EBADMSG;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, blob_fd, 0);
	if (m == MAP_FAILED) {
		return -errno;
	}
	struct blk b = { m, (size_t)st.st_size, fds, n_fds };
	struct child_ctx *c = m;
	int r = c->n_fds <= SHIM_MAX_FDS && c->n_cg >= 0 && c->n_cg <= 2 &&
				c->n_rl <= SHIM_MAX_RL && c->confined
			? 0
			: -EBADMSG;
	if (r == 0) {
		r = reloc_strv(&b, &c->argv);
	}
	if (r == 0) {
		r = reloc_strv(&b, &c->envp);
	}
	if (r == 0) {
		r = reloc_str(&b, &c->cwd, false);
	}
	if (r == 0) {
		r = reloc_str(&b, &c->fail_step, true);
	}
	if (r == 0) {
		r = reloc(&b, &c->fds, c->n_fds * sizeof(int), c->n_fds == 0);
	}
	for (size_t i = 0; r == 0 && i < c->n_fds; i++) {
		r = fd_at(&b, (int *)(uintptr_t)&c->fds[i], false);
	}
	if (r == 0) {
		r = reloc(&b, &c->filter, c->filter_len * sizeof(*c->filter), false);
	}
	if (r == 0) {
		r = fd_at(&b, &c->exec_fd, true);
	}
	if (r == 0) {
		r = fd_at(&b, &c->stdin_fd, true);
	}
	if (r == 0) {
		r = fd_at(&b, &c->stdout_fd, false);
	}
	if (r == 0) {
		r = fd_at(&b, &c->stderr_fd, false);
	}
	if (r == 0) {
		r = fd_at(&b, &c->status_fd, false);
	}
	for (int i = 0; r == 0 && i < c->n_cg; i++) {
		r = fd_at(&b, &c->cg_fds[i], false);
	}
	if (r == 0 && (!memchr(c->uid_map, '\0', sizeof(c->uid_map)) ||
		       !memchr(c->gid_map, '\0', sizeof(c->gid_map)))) {
		r = -EBADMSG;
	}
	if (r == 0) {
		r = decode_root(&b, &c->rp);
	}
	if (r < 0) {
		munmap(m, b.size);
		return r;
	}
	if (!fds) {
		/* Decoded for its policy alone: the stage's command line and environment (its
		 * secrets) are not kept. */
		for (const char *const *v = c->envp; *v; v++) {
			explicit_bzero((char *)(uintptr_t)*v, safe_strlen(*v));
		}
		for (const char *const *v = c->argv; *v; v++) {
			explicit_bzero((char *)(uintptr_t)*v, safe_strlen(*v));
		}
		c->argv = c->envp = NULL;
	}
	c->parent_pidfd = parent_pidfd;
	*out = c;
	return 0;
}

/* ---- descriptor passing ---- */

int wire_send_fds(int s, const void *data, size_t len, const int *fds, size_t n_fds, int flags)
{
	if (n_fds > WIRE_PASS_MAX_FDS) {
		return -EINVAL;
	}
	struct iovec iov = { (void *)(uintptr_t)data, len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_PASS_MAX_FDS)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n_fds) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *cm = &u.align; /* CMSG_FIRSTHDR(&msg), never NULL here */
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	ssize_t r;
	do {
		r = sendmsg(s, &msg, MSG_NOSIGNAL | flags);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : (size_t)r == len ? 0 : -EIO;
}

ssize_t wire_recv_fds(int s, void *data, size_t len, int *fds, size_t max_fds, size_t *n_fds,
		      bool *trunc)
{
	struct iovec iov = { data, len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_PASS_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do {
		n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	*n_fds = 0;
	*trunc = false;
	if (n < 0) {
		return -errno;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*n_fds < max_fds) {
				fds[(*n_fds)++] = fd;
			} else {
				close(fd);
			}
		}
	}
	*trunc = msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC);
	return n;
}
