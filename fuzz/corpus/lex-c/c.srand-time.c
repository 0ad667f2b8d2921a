#include <stdlib.h>
#include <time.h>

void seed(unsigned s)
{
	// ruleid: c.srand-time
	srand(time(NULL));
	// ok: c.srand-time
	srand(s);
}
