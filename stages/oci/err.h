/*
 * err.h - how the oci library explains a failure. Functions return -errno like every
 * module of the runner; those that can fail for reasons a user must understand (a
 * registry's reply, a missing file, a refused path) also fill a struct oci_err with one
 * line of text. The library never prints: the caller decides where the text goes.
 */
#ifndef RUNNER_OCI_ERR_H
#define RUNNER_OCI_ERR_H

struct oci_err {
	char msg[768];
};

/* Format the message (only when none is set yet, so the first cause wins) and return
 * code, which must be a negative errno. err may be NULL. */
int oci_errf(struct oci_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear the message. */
void oci_err_clear(struct oci_err *err);

#endif
