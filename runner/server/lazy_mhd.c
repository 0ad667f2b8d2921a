/*
 * lazy_mhd.c - libmicrohttpd, loaded when `runner serve` first calls it.
 *
 * Only the server needs an HTTP server, and libmicrohttpd brings GnuTLS and its libraries:
 * the runner is not linked to it (see base/lazy_curl.c for why that matters at every start).
 * These are the functions of libmicrohttpd that the server calls; each loads
 * libmicrohttpd.so.12 on the first call (once, for all threads) and calls its own. When it
 * cannot be loaded, starting the daemon fails (NULL), and so does `runner serve`.
 *
 * The information getters are variadic, but none of the kinds the server asks for takes a
 * further argument; the daemon's options go on as a va_list (MHD_start_daemon_va).
 */
#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "banned.h"

#define MHD_SONAME "libmicrohttpd.so.12"

static struct {
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
							    enum MHD_ResponseMemoryMode);
	struct MHD_Response *(*create_response_from_fd)(size_t, int);
	void (*destroy_response)(struct MHD_Response *);
	const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *,
							       enum MHD_ConnectionInfoType, ...);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType,
						       ...);
	const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind,
					       const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int,
					  struct MHD_Response *);
	MHD_socket (*quiesce_daemon)(struct MHD_Daemon *);
	struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback,
					      void *, MHD_AccessHandlerCallback, void *, va_list);
	void (*stop_daemon)(struct MHD_Daemon *);
} fn;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(field, name) (*(void **)&fn.field = dlsym(h, name)) != NULL

static void load(void)
{
	void *h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		return;
	}
	loaded = SYM(add_response_header, "MHD_add_response_header") &&
		 SYM(create_response_from_buffer, "MHD_create_response_from_buffer") &&
		 SYM(create_response_from_fd, "MHD_create_response_from_fd") &&
		 SYM(destroy_response, "MHD_destroy_response") &&
		 SYM(get_connection_info, "MHD_get_connection_info") &&
		 SYM(get_daemon_info, "MHD_get_daemon_info") &&
		 SYM(lookup_connection_value, "MHD_lookup_connection_value") &&
		 SYM(queue_response, "MHD_queue_response") &&
		 SYM(quiesce_daemon, "MHD_quiesce_daemon") &&
		 SYM(start_daemon_va, "MHD_start_daemon_va") && SYM(stop_daemon, "MHD_stop_daemon");
}

static bool ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	if (!ready()) {
		return NULL;
	}
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = fn.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
	if (ready()) {
		fn.stop_daemon(daemon);
	}
}

MHD_socket MHD_quiesce_daemon(struct MHD_Daemon *daemon)
{
	return ready() ? fn.quiesce_daemon(daemon) : MHD_INVALID_SOCKET;
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
						enum MHD_DaemonInfoType info_type, ...)
{
	return ready() ? fn.get_daemon_info(daemon, info_type) : NULL;
}

const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
							enum MHD_ConnectionInfoType info_type, ...)
{
	return ready() ? fn.get_connection_info(connection, info_type) : NULL;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
					const char *key)
{
	return ready() ? fn.lookup_connection_value(connection, kind, key) : NULL;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	return ready() ? fn.create_response_from_buffer(size, buffer, mode) : NULL;
}

struct MHD_Response *MHD_create_response_from_fd(size_t size, int fd)
{
	return ready() ? fn.create_response_from_fd(size, fd) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
					const char *content)
{
	return ready() ? fn.add_response_header(response, header, content) : MHD_NO;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
				   struct MHD_Response *response)
{
	return ready() ? fn.queue_response(connection, status_code, response) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *response)
{
	if (response && ready()) {
		fn.destroy_response(response);
	}
}
