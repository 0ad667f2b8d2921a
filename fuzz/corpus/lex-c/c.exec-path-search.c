#include <unistd.h>

void spawn(char *prog, char **argv)
{
	// ruleid: c.exec-path-search
	execvp(prog, argv);
	// ruleid: c.exec-path-search
	execlp(argv[0], argv[0], NULL);
	// ok: c.exec-path-search
	execvp("ls", argv);
	// ok: c.exec-path-search
	execv("/bin/ls", argv);
}
