#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	// ruleid: c.signal-handler-unsafe-call
	printf("got signal %d\n", sig);
	stop = 1;
}

static void on_int(int sig)
{
	stop = 1;
	// ok: c.signal-handler-unsafe-call
	write(2, "bye\n", 4);
}

static void not_a_handler(int n)
{
	// ok: c.signal-handler-unsafe-call
	printf("%d\n", n);
}

int main(void)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_int);
	not_a_handler(3);
	// ok: c.signal-handler-unsafe-call
	printf("running\n");
	return 0;
}
