#include <openssl/evp.h>
#include <openssl/md5.h>

void digest(const unsigned char *d, size_t n, unsigned char *out)
{
	// ruleid: c.weak-hash-md5
	MD5(d, n, out);
	// ruleid: c.weak-hash-md5
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	// ok: c.weak-hash-md5
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
}
