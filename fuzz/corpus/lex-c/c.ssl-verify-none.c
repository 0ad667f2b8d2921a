#include <openssl/ssl.h>

void tls(SSL_CTX *ctx)
{
	// ruleid: c.ssl-verify-none
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	// ok: c.ssl-verify-none
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}
