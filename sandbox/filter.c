/*
 * filter.c - the seccomp filter, generated with libseccomp once per policy.
 *
 * The filter allows by default and denies what a build has no business doing: changing
 * mounts or namespaces, looking into or controlling other processes, the kernel's keyring,
 * BPF, perf, io_uring, modules, kexec, the clock, swap, accounting, the kernel log, file
 * handles, exotic socket families, and terminal input injection. Denials return an errno
 * (EPERM, or ENOSYS for the new mount API and clone3, so that libc falls back to clone and
 * programs take their "not supported" path); a non-native ABI (i386 via int 0x80, x32) kills
 * the process. The BPF program is exported once here and loaded by the payload with a raw
 * seccomp(2) call, the last step before exec.
 */
#include "internal.h"

#include "util.h"

#include <linux/netlink.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "banned.h"

/* Denied with EPERM. */
static const char *const eperm_calls[] = {
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"unshare",
	"setns",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"kcmp",
	"pidfd_getfd",
	"process_madvise",
	"keyctl",
	"add_key",
	"request_key",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"reboot",
	"swapon",
	"swapoff",
	"acct",
	"quotactl",
	"quotactl_fd",
	"syslog",
	"settimeofday",
	"clock_settime",
	"adjtimex",
	"clock_adjtime",
	"open_by_handle_at",
	"lookup_dcookie",
	"iopl",
	"ioperm",
	"vhangup",
	"uselib",
	"fanotify_init",
	"nfsservctl",
};

/* Denied with ENOSYS: callers treat them as absent and fall back. */
static const char *const enosys_calls[] = {
	"open_tree",
	"move_mount",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	"clone3",
	/* Its mode is inside a structure, which a filter cannot read (setuid below); callers
	 * fall back to openat. */
	"openat2",
};

/* Newer than this libseccomp's tables, x86-64 numbers: fchmodat2 (6.6; glibc falls back to
 * fchmodat), open_tree_attr (6.15). */
static const int enosys_numbers[] = { 452, 467 };

/*
 * The setuid and setgid bits: a stage (root in its sandbox when the runner is) could
 * otherwise leave a setuid-root program in the workspace, which is a directory of the
 * host, nosuid only inside the sandbox. Denied wherever a mode is given: chmod, and the
 * mode of a file being created (a mode without O_CREAT is ignored by the kernel, and libc
 * passes 0 then).
 */
static const struct {
	const char *name;
	unsigned arg;
} mode_args[] = {
	{ "chmod", 1 }, { "fchmod", 1 }, { "fchmodat", 2 }, { "creat", 1 },
	{ "open", 2 },	{ "openat", 3 }, { "mknod", 1 },    { "mknodat", 2 },
};

/* clone(2) flags that create namespaces. CLONE_NEWTIME is not a clone(2) flag (its bit is
 * part of the exit signal there). */
static const uint64_t clone_ns_flags[] = {
	0x00020000, /* CLONE_NEWNS */
	0x02000000, /* CLONE_NEWCGROUP */
	0x04000000, /* CLONE_NEWUTS */
	0x08000000, /* CLONE_NEWIPC */
	0x10000000, /* CLONE_NEWUSER */
	0x20000000, /* CLONE_NEWPID */
	0x40000000, /* CLONE_NEWNET */
};

/* Socket families a stage may use are all below this; every family from it up is refused
 * with one rule (fewer rules, a shorter program to JIT for every stage). */
#define FAMILY_LIMIT (AF_NETLINK + 1)

struct builder {
	scmp_filter_ctx ctx;
	char *err;
	size_t errsize;
	int ret;
};

static void add(struct builder *b, uint32_t action, int nr, const char *what, unsigned n,
		const struct scmp_arg_cmp *cmp)
{
	if (b->ret < 0) {
		return;
	}
	int r = seccomp_rule_add_array(b->ctx, action, nr, n, cmp);
	if (r < 0) {
		snprintf(b->err, b->errsize, "seccomp rule for %s: %s", what, strerror(-r));
		b->ret = r;
	}
}

static void add_named(struct builder *b, uint32_t action, const char *name, unsigned n,
		      const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		return; /* not a system call on this architecture */
	}
	add(b, action, nr, name, n, cmp);
}

static void add_socket_rules(struct builder *b, enum sandbox_network net)
{
	bool allowed[FAMILY_LIMIT] = { false };
	allowed[AF_UNIX] = allowed[AF_INET] = allowed[AF_INET6] = true;
	/* Host networking needs routing information (getaddrinfo with AI_ADDRCONFIG, ip);
	 * without a network there is nothing to ask the kernel about. */
	allowed[AF_NETLINK] = net == SANDBOX_NET_HOST;
	for (int fam = 0; fam < FAMILY_LIMIT; fam++) {
		if (!allowed[fam]) {
			struct scmp_arg_cmp c = SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)fam);
			add_named(b, SCMP_ACT_ERRNO(EPERM), "socket", 1, &c);
		}
	}
	/* Compared on all 64 bits: a family with high bits set is refused too. */
	struct scmp_arg_cmp ge = SCMP_A0_64(SCMP_CMP_GE, FAMILY_LIMIT);
	add_named(b, SCMP_ACT_ERRNO(EPERM), "socket", 1, &ge);
	if (net == SANDBOX_NET_HOST) {
		struct scmp_arg_cmp nl[] = { SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK),
					     SCMP_A2_32(SCMP_CMP_NE, NETLINK_ROUTE) };
		add_named(b, SCMP_ACT_ERRNO(EPERM), "socket", 2, nl);
	}
	/* socketpair() makes its sockets with the family's own code before it finds that
	 * the family has no pairs (EOPNOTSUPP): every family but AF_UNIX is refused, so that
	 * it reaches no code socket() keeps out (vsock, netlink, and module loading for a
	 * family that is not loaded). */
	struct scmp_arg_cmp pair = SCMP_A0_32(SCMP_CMP_NE, AF_UNIX);
	add_named(b, SCMP_ACT_ERRNO(EPERM), "socketpair", 1, &pair);
	/* Raw and packet sockets of the IP families (they also need CAP_NET_RAW). */
	static const int ip_fams[] = { AF_INET, AF_INET6 };
	static const int raw_types[] = { SOCK_RAW, SOCK_PACKET };
	for (size_t f = 0; f < ARRAY_SIZE(ip_fams); f++) {
		for (size_t t = 0; t < ARRAY_SIZE(raw_types); t++) {
			struct scmp_arg_cmp c[] = {
				SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)ip_fams[f]),
				SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, (uint32_t)raw_types[t]),
			};
			add_named(b, SCMP_ACT_ERRNO(EPERM), "socket", 2, c);
		}
	}
}

int filter_build(const struct sandbox_policy *pol, struct sock_filter **out, unsigned short *len,
		 char *err, size_t errsize)
{
	struct builder b = { .err = err, .errsize = errsize };
	*out = NULL;
	*len = 0;
	b.ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!b.ctx) {
		return errf(err, errsize, -ENOMEM,
			    "seccomp: cannot initialise the filter (libseccomp)");
	}
	/* Only the native ABI: a system call through int 0x80 (i386) arrives with another
	 * architecture, an x32 call with bit 30 set in its number; both kill the process. */
	int r = seccomp_attr_set(b.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0) {
		r = seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_NNP, 0);
	}
	/* A binary tree over the system call numbers instead of a linear chain: the kernel
	 * checks the program once per system call number when it loads it (to find the
	 * calls it may allow without running the filter), and every call the stage makes
	 * runs it, so a shorter path per number makes both cheaper. The decisions are the
	 * same; a libseccomp without the attribute keeps the chain. */
	if (r == 0) {
		seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	}
	if (r < 0) {
		errf(err, errsize, 0, "seccomp: cannot set filter attributes: %s", strerror(-r));
		seccomp_release(b.ctx);
		return r;
	}

	for (size_t i = 0; i < ARRAY_SIZE(eperm_calls); i++) {
		add_named(&b, SCMP_ACT_ERRNO(EPERM), eperm_calls[i], 0, NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(enosys_calls); i++) {
		add_named(&b, SCMP_ACT_ERRNO(ENOSYS), enosys_calls[i], 0, NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(enosys_numbers); i++) {
		add(&b, SCMP_ACT_ERRNO(ENOSYS), enosys_numbers[i], "a new mount call", 0, NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(clone_ns_flags); i++) {
		struct scmp_arg_cmp c =
			SCMP_A0_64(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]);
		add_named(&b, SCMP_ACT_ERRNO(EPERM), "clone", 1, &c);
	}
	/* Terminal injection. The kernel reads the request as 32 bits, so compare only those
	 * (a mask of the low 32 bits; libseccomp's "_32" comparisons still require the high
	 * bits to be zero): a request with high bits set must not slip past. */
	static const uint32_t bad_ioctls[] = { TIOCSTI, TIOCLINUX };
	for (size_t i = 0; i < ARRAY_SIZE(bad_ioctls); i++) {
		struct scmp_arg_cmp c = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, bad_ioctls[i]);
		add_named(&b, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &c);
	}
	/*
	 * personality(2): only PER_LINUX (0) and the query 0xffffffff. libseccomp allows one
	 * comparison per argument in a rule, so "neither all zeros nor all ones" is written as
	 * 32 rules: a 32-bit value that is neither has some bit i set with bit i+1 (cyclically)
	 * clear, and every such value matches the rule for that i. The masks ignore the high
	 * 32 bits, which the kernel ignores too.
	 */
	for (unsigned i = 0; i < 32; i++) {
		uint32_t bit = 1u << i, next = 1u << ((i + 1) % 32);
		struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_MASKED_EQ, bit | next, bit);
		add_named(&b, SCMP_ACT_ERRNO(EPERM), "personality", 1, &c);
	}
	static const uint64_t special_bits[] = { 04000 /* S_ISUID */, 02000 /* S_ISGID */ };
	for (size_t i = 0; i < ARRAY_SIZE(mode_args); i++) {
		for (size_t k = 0; k < ARRAY_SIZE(special_bits); k++) {
			struct scmp_arg_cmp c = SCMP_CMP(mode_args[i].arg, SCMP_CMP_MASKED_EQ,
							 special_bits[k], special_bits[k]);
			add_named(&b, SCMP_ACT_ERRNO(EPERM), mode_args[i].name, 1, &c);
		}
	}
	add_socket_rules(&b, pol->net);
	if (b.ret < 0) {
		seccomp_release(b.ctx);
		return b.ret;
	}

	/* Export the program once; every spawn loads this copy. */
	int fd = memfd_create("runner-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		errf(err, errsize, 0, "seccomp: memfd_create: %s", strerror(errno));
		seccomp_release(b.ctx);
		return r;
	}
	r = seccomp_export_bpf(b.ctx, fd);
	seccomp_release(b.ctx);
	if (r < 0) {
		errf(err, errsize, 0, "seccomp: cannot export the filter: %s", strerror(-r));
		close(fd);
		return r;
	}
	char *buf = NULL;
	size_t n = 0;
	r = lseek(fd, 0, SEEK_SET) < 0 ? -errno : read_fd_capped(fd, 64u << 10, &buf, &n);
	close(fd);
	if (r < 0 || n == 0 || n % sizeof(struct sock_filter) != 0 ||
	    n / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		free(buf);
		return errf(err, errsize, r < 0 ? r : -EINVAL,
			    "seccomp: the exported filter is unusable");
	}
	*out = (struct sock_filter *)(void *)buf;
	*len = (unsigned short)(n / sizeof(struct sock_filter));
	return 0;
}
