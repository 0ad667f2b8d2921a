#include <openssl/evp.h>

void setup(EVP_CIPHER_CTX *c, const unsigned char *k)
{
	// ruleid: c.weak-cipher
	EVP_EncryptInit_ex(c, EVP_des_cbc(), NULL, k, NULL);
	// ruleid: c.weak-cipher
	EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k, NULL);
	// ok: c.weak-cipher
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, iv);
}
