/*
 * netns-cost.c - what a network namespace costs, for docs/benchmarks.md: a process made
 * with clone(CLONE_NEWNET) against a plain fork, and joining a namespace made ahead of
 * time (setns). The runner makes a stage's namespace ahead of time in a warm supervisor
 * (docs/sandbox.md). Needs root. Prints milliseconds per process.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double spawn_loop(int n, unsigned long flags, const int *join)
{
	double t0 = now_ms();
	for (int i = 0; i < n; i++) {
		long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == 0) {
			if (join && setns(join[i], CLONE_NEWNET) < 0) {
				_exit(1);
			}
			_exit(0);
		}
		if (pid < 0) {
			perror("clone");
			exit(1);
		}
		waitpid((pid_t)pid, NULL, 0);
	}
	return (now_ms() - t0) / n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int *fds = calloc((size_t)n, sizeof(int));
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	double fork_ms = spawn_loop(n, 0, NULL);
	double newnet_ms = spawn_loop(n, CLONE_NEWNET, NULL);
	/* Made ahead of time, as a warm supervisor does while the previous stage runs. */
	double t0 = now_ms();
	for (int i = 0; i < n; i++) {
		if (unshare(CLONE_NEWNET) < 0) {
			perror("unshare");
			return 1;
		}
		fds[i] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		setns(home, CLONE_NEWNET);
	}
	double make_ms = (now_ms() - t0) / n;
	double join_ms = spawn_loop(n, 0, fds);
	printf("fork+exit                     %.3f ms\n", fork_ms);
	printf("clone(CLONE_NEWNET)+exit      %.3f ms  (+%.3f ms)\n", newnet_ms,
	       newnet_ms - fork_ms);
	printf("make a namespace (unshare)    %.3f ms  (done ahead of time, off the stage's "
	       "path)\n",
	       make_ms);
	printf("fork+setns(pooled)+exit       %.3f ms  (+%.3f ms)\n", join_ms, join_ms - fork_ms);
	return 0;
}
