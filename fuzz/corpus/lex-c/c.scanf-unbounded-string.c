#include <stdio.h>

void ask(void)
{
	char name[32];
	int age;
	// ruleid: c.scanf-unbounded-string
	scanf("%s", name);
	// ruleid: c.scanf-unbounded-string
	scanf("%d %[^\n]", &age, name);
	// ok: c.scanf-unbounded-string
	scanf("%31s", name);
	// ok: c.scanf-unbounded-string
	scanf("%d", &age);
}
