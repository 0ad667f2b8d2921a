#include <stdlib.h>

void make(struct session *s)
{
	// ruleid: c.rand-for-secret
	s->token = rand();
	// ruleid: c.rand-for-secret
	unsigned nonce = random() % 65536;
	// ok: c.rand-for-secret
	int dice = rand() % 6;
	// ok: c.rand-for-secret
	getrandom(&s->key, sizeof(s->key), 0);
}
