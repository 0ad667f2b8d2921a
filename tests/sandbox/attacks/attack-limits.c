/*
 * attack-limits.c - exhausting resources, and outliving the stage (escape tests 13, 15).
 *
 *   attack-limits forkbomb        fork until the pids limit stops it; report how far
 *   attack-limits memory MB       allocate and touch MB mebibytes (the memory limit kills)
 *   attack-limits tmpfill         write /tmp until it is full; report how much fitted
 *   attack-limits spin            burn CPU forever (the timeout or cpu-time stops it)
 *   attack-limits daemon MARKER   double-fork a daemon that ignores SIGTERM and runs
 *                                 `sleep MARKER`, then return at once
 */
#include "attack.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int do_forkbomb(void)
{
	static pid_t kids[1 << 16];
	int made = 0, err = 0;
	while (made < (int)(sizeof(kids) / sizeof(kids[0]))) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			err = errno;
			break;
		}
		kids[made++] = p;
	}
	check("the fork bomb is stopped", err == EAGAIN, "%d processes, then %s", made,
	      err ? errname(err) : "no error");
	printf("forked %d\n", made);
	for (int i = 0; i < made; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	return attack_done();
}

static int do_memory(long mb)
{
	size_t size = (size_t)mb << 20;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		check("map", 0, "%s", errname(errno));
		return attack_done();
	}
	for (size_t off = 0; off < size; off += 4096) {
		p[off] = 1;
		if (off % (16u << 20) == 0) {
			printf("touched %zu MiB\n", off >> 20);
		}
	}
	check("the memory limit stops the bomb", 0, "touched all %ld MiB", mb);
	return attack_done();
}

static int do_tmpfill(void)
{
	int fd = open("/tmp/fill", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	static char buf[1 << 16];
	memset(buf, 'x', sizeof(buf));
	long long total = 0;
	int err = 0;
	for (;;) {
		ssize_t n = write(fd, buf, sizeof(buf));
		if (n < 0) {
			err = errno;
			break;
		}
		total += n;
		if (total > (4ll << 30)) {
			break;
		}
	}
	check("/tmp fills up", err == ENOSPC, "%lld bytes, then %s", total,
	      err ? errname(err) : "-");
	printf("tmp bytes %lld\n", total);
	return attack_done();
}

static _Noreturn void do_spin(void)
{
	printf("spinning\n");
	fflush(stdout);
	volatile unsigned long x = 0;
	for (;;) {
		x++;
	}
}

static int do_daemon(const char *marker)
{
	pid_t p = fork();
	if (p == 0) {
		setsid();
		if (fork() == 0) {
			signal(SIGTERM, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			int fd = open("daemon.up", O_CREAT | O_WRONLY, 0644);
			close(fd);
			execlp("sleep", "sleep", marker, NULL);
			_exit(127);
		}
		_exit(0);
	}
	waitpid(p, NULL, 0);
	for (int i = 0; i < 300 && access("daemon.up", F_OK) < 0; i++) {
		usleep(10000);
	}
	check("the daemon started", access("daemon.up", F_OK) == 0, "daemon.up");
	return attack_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "forkbomb")) {
		return do_forkbomb();
	}
	if (!strcmp(cmd, "memory") && argc > 2) {
		return do_memory(atol(argv[2]));
	}
	if (!strcmp(cmd, "tmpfill")) {
		return do_tmpfill();
	}
	if (!strcmp(cmd, "spin")) {
		do_spin();
	}
	if (!strcmp(cmd, "daemon") && argc > 2) {
		return do_daemon(argv[2]);
	}
	fprintf(stderr, "usage: attack-limits forkbomb|memory MB|tmpfill|spin|daemon MARKER\n");
	return 2;
}
