/*
 * lazy_curl.c - libcurl, loaded when it is first called.
 *
 * libcurl brings thirty libraries (GnuTLS, Kerberos, LDAP, ...) whose loading and
 * relocation cost every start of the runner about 3.6 ms, also the starts that never reach
 * the network: `runner validate`, the git hook, and each built-in stage's worker, a scan's
 * among them. The runner is therefore not linked to it: this file defines the functions of
 * libcurl that the runner calls, each of which loads libcurl.so.4 on the first call (once,
 * for all threads) and calls libcurl's own. When it cannot be loaded, they fail as libcurl
 * does when it cannot start: NULL handles, CURLE_FAILED_INIT, CURLM_INTERNAL_ERROR, so
 * that a push or a download fails with its error, never passes.
 *
 * The variadic setters pass their one argument on by its type, which the option's number
 * says (CURLOPTTYPE_*: a long, an object or a function pointer, a curl_off_t).
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "banned.h"

/* curl.h's type-checking wrappers are macros over these names. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt

#define CURL_SONAME "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	time_t (*getdate)(const char *, const time_t *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
} fn;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(field, name) (*(void **)&fn.field = dlsym(h, name)) != NULL

static void load(void)
{
	void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		return;
	}
	loaded = SYM(global_init, "curl_global_init") &&
		 SYM(global_cleanup, "curl_global_cleanup") && SYM(easy_init, "curl_easy_init") &&
		 SYM(easy_cleanup, "curl_easy_cleanup") && SYM(easy_reset, "curl_easy_reset") &&
		 SYM(easy_perform, "curl_easy_perform") && SYM(easy_setopt, "curl_easy_setopt") &&
		 SYM(easy_getinfo, "curl_easy_getinfo") &&
		 SYM(easy_strerror, "curl_easy_strerror") && SYM(easy_escape, "curl_easy_escape") &&
		 SYM(free, "curl_free") && SYM(slist_append, "curl_slist_append") &&
		 SYM(slist_free_all, "curl_slist_free_all") && SYM(getdate, "curl_getdate") &&
		 SYM(multi_init, "curl_multi_init") && SYM(multi_cleanup, "curl_multi_cleanup") &&
		 SYM(multi_add_handle, "curl_multi_add_handle") &&
		 SYM(multi_remove_handle, "curl_multi_remove_handle") &&
		 SYM(multi_perform, "curl_multi_perform") && SYM(multi_poll, "curl_multi_poll") &&
		 SYM(multi_info_read, "curl_multi_info_read") &&
		 SYM(multi_setopt, "curl_multi_setopt");
	/* The library stays loaded for the process's life (its handles may live as long). */
}

static bool ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

CURLcode curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (ready()) {
		fn.global_cleanup();
	}
}

CURL *curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *curl)
{
	if (curl && ready()) {
		fn.easy_cleanup(curl);
	}
}

void curl_easy_reset(CURL *curl)
{
	if (curl && ready()) {
		fn.easy_reset(curl);
	}
}

CURLcode curl_easy_perform(CURL *curl)
{
	return ready() ? fn.easy_perform(curl) : CURLE_FAILED_INIT;
}

/* Which type an option's one argument has, from its number (curl.h's CURLOPTTYPE_*). */
enum arg_type { ARG_LONG, ARG_POINTER, ARG_FUNCTION, ARG_OFF_T };

static enum arg_type option_arg(long option)
{
	if (option < CURLOPTTYPE_OBJECTPOINT) {
		return ARG_LONG;
	}
	if (option < CURLOPTTYPE_FUNCTIONPOINT) {
		return ARG_POINTER;
	}
	if (option < CURLOPTTYPE_OFF_T) {
		return ARG_FUNCTION;
	}
	if (option < CURLOPTTYPE_BLOB) {
		return ARG_OFF_T;
	}
	return ARG_POINTER; /* a struct curl_blob * */
}

typedef void (*any_function)(void);

/* rc = setter(handle, option, the one argument of ap, read by its type). */
#define SET_BY_TYPE(rc, setter, handle, option, ap)                            \
	do {                                                                   \
		switch (option_arg((long)(option))) {                          \
		case ARG_LONG:                                                 \
			rc = setter(handle, option, va_arg(ap, long));         \
			break;                                                 \
		case ARG_FUNCTION:                                             \
			rc = setter(handle, option, va_arg(ap, any_function)); \
			break;                                                 \
		case ARG_OFF_T:                                                \
			rc = setter(handle, option, va_arg(ap, curl_off_t));   \
			break;                                                 \
		default:                                                       \
			rc = setter(handle, option, va_arg(ap, void *));       \
		}                                                              \
	} while (0)

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	if (!ready()) {
		return CURLE_FAILED_INIT;
	}
	va_list ap;
	va_start(ap, option);
	CURLcode rc;
	SET_BY_TYPE(rc, fn.easy_setopt, curl, option, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	if (!ready()) {
		return CURLE_FAILED_INIT;
	}
	va_list ap;
	va_start(ap, info);
	void *out = va_arg(ap, void *);
	va_end(ap);
	return fn.easy_getinfo(curl, info, out);
}

const char *curl_easy_strerror(CURLcode code)
{
	return ready() ? fn.easy_strerror(code) : "libcurl (" CURL_SONAME ") cannot be loaded";
}

char *curl_easy_escape(CURL *curl, const char *s, int length)
{
	return ready() ? fn.easy_escape(curl, s, length) : NULL;
}

void curl_free(void *p)
{
	if (p && ready()) {
		fn.free(p);
	}
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	return ready() ? fn.slist_append(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list && ready()) {
		fn.slist_free_all(list);
	}
}

time_t curl_getdate(const char *p, const time_t *unused)
{
	return ready() ? fn.getdate(p, unused) : (time_t)-1;
}

CURLM *curl_multi_init(void)
{
	return ready() ? fn.multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
	return ready() ? fn.multi_cleanup(multi) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl)
{
	return ready() ? fn.multi_add_handle(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
	return ready() ? fn.multi_remove_handle(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *multi, int *running)
{
	return ready() ? fn.multi_perform(multi, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
			  int timeout_ms, int *ret)
{
	return ready() ? fn.multi_poll(multi, extra_fds, extra_nfds, timeout_ms, ret)
		       : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
	return ready() ? fn.multi_info_read(multi, msgs_in_queue) : NULL;
}

/* CURLMOPT_* numbers use the same CURLOPTTYPE_* bases. */
CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
	if (!ready()) {
		return CURLM_INTERNAL_ERROR;
	}
	va_list ap;
	va_start(ap, option);
	CURLMcode rc;
	SET_BY_TYPE(rc, fn.multi_setopt, multi, option, ap);
	va_end(ap);
	return rc;
}
