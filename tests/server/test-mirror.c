/*
 * test-mirror.c - bare mirrors with libgit2 against real repositories: a local path, and
 * git's own smart HTTP server (git http-backend, run as CGI behind a small HTTP server,
 * ts_githttp in tests/common/testserve.c) that demands HTTP basic authentication, to check
 * token credentials, clear errors when they are wrong or missing, incremental and cached
 * fetches, and cancellation.
 *
 * TLS is not exercised here (libgit2 verifies certificates itself); the credential flow
 * is the same over plain HTTP.
 *
 * SSH: a real SSH server (dropbear, Debian's dropbear-bin), started by the test on
 * 127.0.0.1 for each connection, serving the bare repository through git-upload-pack, to
 * check key credentials and that only the configured host key is accepted.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "mirror.h"
#include "testserve.h"
#include "util.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN "ghs_test-token-0123456789"

/* In a sanitizer build: full stacks for allocations (libgit2 is built without frame
 * pointers), so that tests/lsan.supp can name the libgit2 call in which its SSH transport
 * leaks, and nothing else of libgit2 is excused. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

static const char pipeline[] = "version: 1\nstages:\n  a: { run: \"true\" }\n";

/* ---------- tests ---------- */

struct fx {
	char *dir, *repo, *bare, *mirror, *sha;
};

static struct fx setup_fx(void)
{
	struct fx f;
	f.dir = tu_tmpdir();
	cr_assert_geq(asprintf(&f.repo, "%s/work", f.dir), 0);
	cr_assert_geq(asprintf(&f.bare, "%s/srv/repo.git", f.dir), 0);
	cr_assert_geq(asprintf(&f.mirror, "%s/mirror.git", f.dir), 0);
	f.sha = ts_git_init(f.repo, pipeline);
	ts_sh("git clone -q --bare '%s' '%s'", f.repo, f.bare);
	return f;
}

static void release_fx(struct fx *f)
{
	tu_rmdir(f->dir);
	free(f->dir);
	free(f->repo);
	free(f->bare);
	free(f->mirror);
	free(f->sha);
}

static const char *const main_spec[] = { "+refs/heads/main:refs/heads/main" };

Test(mirror, local_fetch_is_incremental_and_cached, .timeout = 60)
{
	struct fx f = setup_fx();
	struct diag_list dl;
	bool fetched;
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     0);
	cr_assert(fetched);
	/* The commit is there: nothing to fetch. */
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     0);
	cr_assert_not(fetched);
	/* A new commit: fetched, and the ref follows. */
	char *second = ts_git_commit(f.repo, "x.txt", "x\n");
	ts_sh("git -C '%s' push -q '%s' main", f.repo, f.bare);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, second, -1, &fetched, &dl),
		     0);
	cr_assert(fetched);
	char head[41];
	cr_assert_eq(mirror_resolve(f.mirror, "refs/heads/main", head), 0);
	cr_assert_str_eq(head, second);
	/* A commit the remote does not have. */
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL,
				 "0123456789abcdef0123456789abcdef01234567", -1, &fetched, &dl),
		     -ENOENT);
	cr_assert_not_null(strstr(dl.v[dl.n - 1].msg, "does not exist"));
	/* A remote that is not there. */
	cr_assert_eq(mirror_sync(f.mirror, "/nonexistent/repo.git", main_spec, 1, NULL,
				 "0123456789abcdef0123456789abcdef01234568", -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(strstr(dl.v[dl.n - 1].msg, "cannot fetch"));
	diag_list_release(&dl);
	free(second);
	release_fx(&f);
}

/*
 * A tag object the mirror cannot read (a damaged object, an I/O error) is the server's
 * problem, -EIO (the run exits 4), not the invalid input a tag of a tree is (-EINVAL, exit
 * 2). The tag's loose object is replaced by another one's: its header still says "tag",
 * its content neither parses as a tag nor hashes to its name.
 */
Test(mirror, an_unreadable_tag_object_is_an_error_not_invalid_input, .timeout = 60)
{
	struct fx f = setup_fx();
	ts_sh("git -C '%s' -c user.name=t -c user.email=t@example.com tag -a v1 -m 'a tag' main",
	      f.bare);
	ts_sh("git -C '%s' -c user.name=t -c user.email=t@example.com tag -a t-tree -m 'a tree' "
	      "'main^{tree}'",
	      f.bare);
	char *tag = ts_sh_out("git -C '%s' rev-parse v1", f.bare);
	char *tree_tag = ts_sh_out("git -C '%s' rev-parse t-tree", f.bare);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	char out[41];
	cr_assert_eq(mirror_peel(f.bare, tag, out, &dl), 0);
	cr_assert_str_eq(out, f.sha);
	cr_assert_eq(mirror_peel(f.bare, tree_tag, out, &dl), -EINVAL);

	char *bad = ts_sh_out("printf 'not a tag\\n' | git -C '%s' hash-object -t tag --literally "
			      "-w --stdin",
			      f.bare);
	ts_sh("cd '%s/objects' && chmod u+w '%.2s/%s' && cp '%.2s/%s' '%.2s/%s'", f.bare, tag,
	      tag + 2, bad, bad + 2, tag, tag + 2);
	cr_assert_eq(mirror_peel(f.bare, tag, out, &dl), -EIO);
	cr_expect(strstr(dl.v[dl.n - 1].msg, "cannot read tag"), "%s", dl.v[dl.n - 1].msg);
	/* A missing object stays what it is. */
	ts_sh("rm -f '%s/objects/%.2s/%s'", f.bare, tag, tag + 2);
	cr_assert_eq(mirror_peel(f.bare, tag, out, &dl), -ENOENT);
	diag_list_release(&dl);
	free(bad);
	free(tag);
	free(tree_tag);
	release_fx(&f);
}

/* An object whose header cannot be read (a loose object that is not zlib data: a damaged
 * disk, a truncated write) is the mirror's fault too, -EIO (exit 4), not a missing object
 * (-ENOENT) nor invalid input (-EINVAL). The run's sha itself and an object a tag points
 * to alike. */
Test(mirror, an_unreadable_object_header_is_an_error, .timeout = 60)
{
	struct fx f = setup_fx();
	ts_sh("git -C '%s' -c user.name=t -c user.email=t@example.com tag -a v1 -m 'a tag' main",
	      f.bare);
	char *tag = ts_sh_out("git -C '%s' rev-parse v1", f.bare);
	struct diag_list dl;
	diag_list_init(&dl, 10);
	char out[41];
	cr_assert_eq(mirror_peel(f.bare, tag, out, &dl), 0);
	cr_assert_str_eq(out, f.sha);

	/* The commit the tag points to, damaged: the second step's header. */
	ts_sh("cd '%s/objects' && chmod u+w '%.2s/%s' && printf 'not zlib data at all' > "
	      "'%.2s/%s'",
	      f.bare, f.sha, f.sha + 2, f.sha, f.sha + 2);
	char *want = tu_strf("cannot read object %.12s of the mirror %s", f.sha, f.bare);
	cr_assert_eq(mirror_peel(f.bare, tag, out, &dl), -EIO);
	cr_expect(strstr(dl.v[dl.n - 1].msg, want), "%s", dl.v[dl.n - 1].msg);
	/* The sha the run was given, damaged: the first step's. */
	cr_assert_eq(mirror_peel(f.bare, f.sha, out, &dl), -EIO);
	cr_expect(strstr(dl.v[dl.n - 1].msg, want), "%s", dl.v[dl.n - 1].msg);
	free(want);
	diag_list_release(&dl);
	free(tag);
	release_fx(&f);
}

/* A scanned tip is kept under MIRROR_SCANNED_PREFIX, moved by the next mark; a name that
 * is not a full ref, or a commit id that is not one, is refused and marks nothing. */
Test(mirror, a_scanned_tip_is_marked_under_its_prefix, .timeout = 60)
{
	struct fx f = setup_fx();
	struct diag_list dl;
	bool fetched;
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     0);
	char *second = ts_git_commit(f.repo, "x.txt", "x\n");
	ts_sh("git -C '%s' push -q '%s' main", f.repo, f.bare);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, second, -1, &fetched, &dl),
		     0);
	char tip[41];
	cr_assert_eq(mirror_mark_scanned(f.mirror, "refs/heads/main", f.sha, -1, &dl), 0);
	cr_assert_eq(mirror_resolve(f.mirror, MIRROR_SCANNED_PREFIX "heads/main", tip), 0);
	cr_assert_str_eq(tip, f.sha);
	cr_assert_eq(mirror_mark_scanned(f.mirror, "refs/heads/main", second, -1, &dl), 0);
	cr_assert_eq(mirror_resolve(f.mirror, MIRROR_SCANNED_PREFIX "heads/main", tip), 0);
	cr_assert_str_eq(tip, second);
	cr_assert_eq(dl.n, 0);
	cr_assert_eq(mirror_mark_scanned(f.mirror, "main", second, -1, &dl), -EINVAL);
	cr_assert_eq(mirror_mark_scanned(f.mirror, "refs/heads/x", "not-a-commit", -1, &dl), -EIO);
	cr_assert_eq(dl.n, 2);
	cr_assert_eq(mirror_resolve(f.mirror, MIRROR_SCANNED_PREFIX "heads/x", tip), -ENOENT);
	cr_assert_eq(mirror_resolve(f.mirror, "refs/runner/scanned/main", tip), -ENOENT);
	diag_list_release(&dl);
	free(second);
	release_fx(&f);
}

/*
 * The first scan of a ref keeps its old tip as the ref's base, and later scans keep it:
 * their `before` may be a tip whose scan was blocked. A new ref, or one an earlier scan
 * passed (a server before seen marks), gets no base; once seen, a ref never gets one.
 */
Test(mirror, only_the_first_scan_of_a_ref_takes_its_old_tip_as_its_base, .timeout = 60)
{
	struct fx f = setup_fx();
	struct diag_list dl;
	bool fetched;
	diag_list_init(&dl, 10);
	char *second = ts_git_commit(f.repo, "x.txt", "x\n");
	ts_sh("git -C '%s' push -q '%s' main", f.repo, f.bare);
	cr_assert_eq(mirror_sync(f.mirror, f.bare, main_spec, 1, NULL, second, -1, &fetched, &dl),
		     0);
	char base[41], tip[41];
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/main", f.sha, second, -1, base, &dl),
		     0);
	cr_assert_str_eq(base, f.sha, "the history main had when it was first scanned");
	cr_assert_eq(mirror_resolve(f.mirror, MIRROR_SEEN_PREFIX "heads/main", tip), 0);
	cr_assert_str_eq(tip, second);
	/* Blocked, say: the next push's before is second, which must not become the base. */
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/main", second, second, -1, base, &dl),
		     0);
	cr_assert_str_eq(base, f.sha);
	cr_assert_eq(mirror_resolve(f.mirror, MIRROR_BASE_PREFIX "heads/main", tip), 0);
	cr_assert_str_eq(tip, f.sha);

	/* Two first pushes scanned out of order: the later one's before (second) became the
	 * base; the earlier one's own before, below it, leaves out less. */
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/race", second, second, -1, base, &dl),
		     0);
	cr_assert_str_eq(base, second);
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/race", f.sha, second, -1, base, &dl),
		     0);
	cr_assert_str_eq(base, f.sha, "the earlier push's commits are scanned");

	/* A new ref: no base, then or later. */
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/new", NULL, f.sha, -1, base, &dl), 0);
	cr_assert_str_eq(base, "");
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/new", f.sha, second, -1, base, &dl),
		     0);
	cr_assert_str_eq(base, "", "a seen ref's before is not trusted");
	/* Scanned and passed, but never marked seen: what passed bounds it, not before. */
	cr_assert_eq(mirror_mark_scanned(f.mirror, "refs/heads/old", f.sha, -1, &dl), 0);
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/heads/old", second, second, -1, base, &dl),
		     0);
	cr_assert_str_eq(base, "");
	/* A before the mirror lacks is no base. */
	cr_assert_eq(mirror_begin_scan(f.mirror, "refs/tags/v1",
				       "0123456789abcdef0123456789abcdef01234567", second, -1, base,
				       &dl),
		     0);
	cr_assert_str_eq(base, "");
	cr_assert_eq(dl.n, 0);
	cr_assert_eq(mirror_begin_scan(f.mirror, "main", NULL, second, -1, base, &dl), -EINVAL);
	cr_assert_eq(
		mirror_begin_scan(f.mirror, "refs/heads/x", NULL, "not-a-commit", -1, base, &dl),
		-EIO);
	cr_assert_eq(dl.n, 2);
	cr_assert_eq(mirror_resolve(f.mirror, MIRROR_SEEN_PREFIX "heads/x", tip), -ENOENT);
	diag_list_release(&dl);
	free(second);
	release_fx(&f);
}

Test(mirror, https_token_credentials, .timeout = 60)
{
	struct fx f = setup_fx();
	char *root;
	cr_assert_geq(asprintf(&root, "%s/srv", f.dir), 0);
	struct ts_githttp *g = ts_githttp_start(root, "x-access-token", TOKEN);
	struct diag_list dl;
	bool fetched;

	/* No credentials configured: refused, and the message says what to do. */
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, g->url, main_spec, 1, NULL, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(strstr(dl.v[0].msg, "cannot fetch"), "%s", dl.v[0].msg);
	cr_assert_not_null(dl.v[0].hint);
	cr_assert_not_null(strstr(dl.v[0].hint, "credentials"));
	diag_list_release(&dl);

	/* A wrong token: refused once, not retried in a loop. */
	struct mirror_auth bad = { .username = "x-access-token", .token = "ghs_wrong-token" };
	diag_list_init(&dl, 10);
	unsigned before = g->refused;
	cr_assert_eq(mirror_sync(f.mirror, g->url, main_spec, 1, &bad, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_lt(g->refused - before, 5, "credentials are offered once");
	cr_assert_null(strstr(dl.v[0].msg, "ghs_wrong-token"), "no token in messages");
	diag_list_release(&dl);

	/* The right token: fetched over smart HTTP. */
	struct mirror_auth good = { .username = "x-access-token", .token = TOKEN };
	diag_list_init(&dl, 10);
	int r = mirror_sync(f.mirror, g->url, main_spec, 1, &good, f.sha, -1, &fetched, &dl);
	cr_assert_eq(r, 0, "%s", dl.n ? dl.v[0].msg : "");
	cr_assert(fetched);
	char head[41];
	cr_assert_eq(mirror_resolve(f.mirror, "refs/heads/main", head), 0);
	cr_assert_str_eq(head, f.sha);
	diag_list_release(&dl);

	/* Cancelled: a readable cancel fd stops a fetch that has to transfer something. */
	char *second = ts_git_commit(f.repo, "y.txt", "y\n");
	ts_sh("git -C '%s' push -q '%s' main", f.repo, f.bare);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	close(p[1]); /* end of file: readable */
	diag_list_init(&dl, 10);
	r = mirror_sync(f.mirror, g->url, main_spec, 1, &good, second, p[0], &fetched, &dl);
	cr_assert_eq(r, -ECANCELED, "%d %s", r, dl.n ? dl.v[0].msg : "");
	close(p[0]);
	diag_list_release(&dl);

	char *red = mirror_redact_url("https://user:pa55@example.com/x.git");
	cr_assert_str_eq(red, "https://***@example.com/x.git");
	free(red);
	red = mirror_redact_url("https://example.com/a@b");
	cr_assert_str_eq(red, "https://example.com/a@b");
	free(red);
	/* An '@' in the password: the userinfo ends at the last one before the host. */
	red = mirror_redact_url("https://user:tok3n@SECRET@example.com/x.git");
	cr_assert_str_eq(red, "https://***@example.com/x.git");
	free(red);
	/* libgit2 quotes a URL it cannot parse: neither it nor the password, decoded or as
	 * written, gets through. */
	const char *u = "https://user:pa%2Fss%40SECRET@example.com/x.git";
	char *text = xasprintf("malformed URL '%s'; password pa/ss@SECRET", u);
	red = mirror_redact_text(text, u);
	cr_assert_null(strstr(red, "SECRET"), "%s", red);
	cr_assert_not_null(strstr(red, "https://***@example.com/x.git"), "%s", red);
	free(red);
	free(text);
	free(second);
	ts_githttp_stop(g);
	free(root);
	release_fx(&f);
}

Test(mirror, ssh_host_keys_must_be_the_configured_one)
{
	/* SSH over libgit2 1.5 trusts any host key unless told otherwise: the configured
	 * fingerprint is the only one accepted (the comparison itself, here; against a real
	 * server in mirror::ssh_key_credentials_and_the_configured_host_key). */
	unsigned char digest[32];
	for (int i = 0; i < 32; i++) {
		digest[i] = (unsigned char)i;
	}
	char actual[80];
	const char *fp = "SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	cr_assert(mirror_host_key_matches(fp, digest, actual, sizeof(actual)));
	cr_assert_str_eq(actual, fp);
	cr_assert(mirror_host_key_matches("SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
					  digest, actual, sizeof(actual)),
		  "base64 padding does not matter");
	digest[31] ^= 1;
	cr_assert_not(mirror_host_key_matches(fp, digest, actual, sizeof(actual)));
	cr_assert_not(mirror_host_key_matches(NULL, digest, actual, sizeof(actual)),
		      "no configured key: nothing is trusted");
}

/* ---------- an SSH server: dropbear, one process per connection ---------- */

struct sshd {
	pid_t pid; /* the accepting process; dropbear processes are in its process group */
	int port;
	char *hostkey, *fingerprint, *log;
};

/*
 * Start dropbear (inetd mode, one process per connection accepted here, so no port is
 * picked and then raced for; it logs to syslog only in that mode, and the log file gets
 * what fails before it runs) for the user the test runs as, root: its home is replaced by `home` in
 * a mount namespace of the server's own, so it reads this test's authorized_keys and the real home
 * is untouched.
 */
static struct sshd sshd_start(const char *dir, const char *home)
{
	struct sshd d = { 0 };
	cr_assert_geq(asprintf(&d.hostkey, "%s/ssh_host_ed25519_key", dir), 0);
	cr_assert_geq(asprintf(&d.log, "%s/dropbear.log", dir), 0);
	ts_sh("dropbearkey -t ed25519 -f '%s' >/dev/null 2>&1", d.hostkey);
	d.fingerprint =
		ts_sh_out("dropbearkey -y -f '%s' | sed -n 's/^Fingerprint: //p'", d.hostkey);
	cr_assert(strncmp(d.fingerprint, "SHA256:", 7) == 0, "%s", d.fingerprint);
	const struct passwd *pw = getpwuid(geteuid());
	cr_assert_not_null(pw);
	char *pw_dir = strdup(pw->pw_dir);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 8), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
	d.port = ntohs(a.sin_port);
	int logfd = open(d.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(logfd, 0);
	pid_t parent = getpid();
	d.pid = fork();
	cr_assert_geq(d.pid, 0);
	if (d.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		if (getppid() != parent) {
			_exit(1);
		}
		for (;;) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0) {
				continue;
			}
			if (fork() == 0) {
				if (unshare(CLONE_NEWNS) < 0 ||
				    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
				    mount(home, pw_dir, NULL, MS_BIND, NULL) < 0) {
					dprintf(logfd, "mount namespace: %s\n", strerror(errno));
					_exit(126);
				}
				dup2(c, 0);
				dup2(c, 1);
				dup2(logfd, 2);
				execl("/usr/sbin/dropbear", "dropbear", "-i", "-s", "-r", d.hostkey,
				      (char *)NULL);
				dprintf(logfd, "exec dropbear: %s\n", strerror(errno));
				_exit(127);
			}
			close(c);
			while (waitpid(-1, NULL, WNOHANG) > 0) {
			}
		}
	}
	setpgid(d.pid, d.pid);
	close(lfd);
	close(logfd);
	free(pw_dir);
	return d;
}

static void sshd_stop(struct sshd *d)
{
	kill(-d->pid, SIGKILL);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	free(d->hostkey);
	free(d->fingerprint);
	free(d->log);
}

/* A client key pair made with dropbear's tools, the private key in OpenSSH's format. */
static void make_key(const char *dir, const char *name, char **key, char **pub)
{
	cr_assert_geq(asprintf(key, "%s/%s", dir, name), 0);
	cr_assert_geq(asprintf(pub, "%s/%s.pub", dir, name), 0);
	ts_sh("dropbearkey -t ed25519 -f '%s.db' >/dev/null 2>&1 && "
	      "dropbearconvert dropbear openssh '%s.db' '%s' >/dev/null 2>&1 && "
	      "dropbearkey -y -f '%s.db' | grep '^ssh-ed25519 ' > '%s' && chmod 600 '%s'",
	      *key, *key, *key, *key, *pub, *key);
}

Test(mirror, ssh_key_credentials_and_the_configured_host_key, .timeout = 60)
{
	if (geteuid() != 0) {
		/* The server's user must read this test's authorized_keys without the test
		 * touching a real home: that takes a mount namespace, so root. CI runs as root. */
		cr_skip_test("the SSH server needs root for its mount namespace");
	}
	struct fx f = setup_fx();
	char *home, *key, *pub, *other, *other_pub, *url, *wrong_fp;
	cr_assert_geq(asprintf(&home, "%s/home", f.dir), 0);
	ts_sh("mkdir -p '%s/.ssh' && chmod 700 '%s' '%s/.ssh'", home, home, home);
	make_key(f.dir, "id_ed25519", &key, &pub);
	make_key(f.dir, "other_ed25519", &other, &other_pub);
	ts_sh("cp '%s' '%s/.ssh/authorized_keys' && chmod 600 '%s/.ssh/authorized_keys'", pub, home,
	      home);
	struct sshd d = sshd_start(f.dir, home);
	const struct passwd *pw = getpwuid(geteuid());
	cr_assert_geq(asprintf(&url, "ssh://%s@127.0.0.1:%d%s", pw->pw_name, d.port, f.bare), 0);
	/* Another key's fingerprint: the server's must not be accepted in its place. */
	wrong_fp = ts_sh_out("dropbearkey -y -f '%s.db' | sed -n 's/^Fingerprint: //p'", other);
	struct diag_list dl;
	bool fetched;

	/* Not the configured host key: refused before any credential is offered. */
	struct mirror_auth wrong_host = { .ssh_key = key,
					  .ssh_public_key = pub,
					  .ssh_host_key = wrong_fp };
	diag_list_init(&dl, 10);
	cr_assert_eq(
		mirror_sync(f.mirror, url, main_spec, 1, &wrong_host, f.sha, -1, &fetched, &dl),
		-EIO);
	char *log = tu_read(d.log);
	cr_assert_not_null(strstr(dl.v[0].msg, "is not the configured ssh_host_key"),
			   "%s\ndropbear:\n%s", dl.v[0].msg, log ? log : "");
	free(log);
	cr_assert_not_null(strstr(dl.v[0].msg, d.fingerprint), "the server's key is named: %s",
			   dl.v[0].msg);
	diag_list_release(&dl);

	/* The right host, no key configured: refused, and the hint says what to do. */
	struct mirror_auth no_key = { .ssh_host_key = d.fingerprint };
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, url, main_spec, 1, &no_key, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(dl.v[0].hint);
	cr_assert_not_null(strstr(dl.v[0].hint, "credentials"), "%s", dl.v[0].hint);
	diag_list_release(&dl);

	/* A key the server does not know: refused once. */
	struct mirror_auth unknown = { .ssh_key = other,
				       .ssh_public_key = other_pub,
				       .ssh_host_key = d.fingerprint };
	diag_list_init(&dl, 10);
	cr_assert_eq(mirror_sync(f.mirror, url, main_spec, 1, &unknown, f.sha, -1, &fetched, &dl),
		     -EIO);
	cr_assert_not_null(strstr(dl.v[0].msg, "cannot fetch"), "%s", dl.v[0].msg);
	diag_list_release(&dl);
	char head[41];
	cr_assert_neq(mirror_resolve(f.mirror, "refs/heads/main", head), 0, "nothing fetched yet");

	/* The right key and host key: fetched over SSH, the exact commit. */
	struct mirror_auth good = { .ssh_key = key,
				    .ssh_public_key = pub,
				    .ssh_host_key = d.fingerprint };
	diag_list_init(&dl, 10);
	int r = mirror_sync(f.mirror, url, main_spec, 1, &good, f.sha, -1, &fetched, &dl);
	log = tu_read(d.log);
	cr_assert_eq(r, 0, "%s\ndropbear:\n%s", dl.n ? dl.v[0].msg : "", log ? log : "");
	cr_assert(fetched);
	cr_assert_eq(mirror_resolve(f.mirror, "refs/heads/main", head), 0);
	cr_assert_str_eq(head, f.sha);
	diag_list_release(&dl);
	free(log);

	sshd_stop(&d);
	free(home);
	free(key);
	free(pub);
	free(other);
	free(other_pub);
	free(url);
	free(wrong_fp);
	release_fx(&f);
}
