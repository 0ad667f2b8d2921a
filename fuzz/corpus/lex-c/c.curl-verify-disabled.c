#include <curl/curl.h>

void fetch(CURL *c)
{
	// ruleid: c.curl-verify-disabled
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	// ruleid: c.curl-verify-disabled
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0);
	// ok: c.curl-verify-disabled
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	// ok: c.curl-verify-disabled
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L);
}
