#include <openssl/sha.h>

void digest(const unsigned char *d, size_t n, unsigned char *out)
{
	// ruleid: c.weak-hash-sha1
	SHA1(d, n, out);
	// ok: c.weak-hash-sha1
	SHA256(d, n, out);
}
