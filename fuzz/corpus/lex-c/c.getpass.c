#include <unistd.h>

void login(void)
{
	// ruleid: c.getpass
	char *pw = getpass("Password: ");
	// ok: c.getpass
	char *pw2 = read_password_noecho();
}
