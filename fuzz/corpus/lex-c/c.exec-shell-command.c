#include <unistd.h>

void shell(const char *cmd)
{
	// ruleid: c.exec-shell-command
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	// ok: c.exec-shell-command
	execl("/bin/sh", "sh", "-c", "echo hi", (char *)NULL);
	// ok: c.exec-shell-command
	execl("/usr/bin/env", "env", "-c", cmd, (char *)NULL);
}
