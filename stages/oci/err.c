/*
 * err.c - failure messages of the oci library.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

#include "banned.h"

int oci_errf(struct oci_err *err, int code, const char *fmt, ...)
{
	if (err && !err->msg[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void oci_err_clear(struct oci_err *err)
{
	if (err) {
		err->msg[0] = '\0';
	}
}
