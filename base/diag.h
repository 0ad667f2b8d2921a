/*
 * diag.h - user-facing diagnostics: a message tied to a file position, with an optional
 * hint. Libraries add diagnostics to a list; only the top level (the CLI, the server)
 * prints them. Positions are 1-based; line 0 means "the file as a whole".
 *
 * A list holds at most max entries so a hostile input cannot make the error report
 * itself unbounded; further errors are counted in `dropped`.
 */
#ifndef RUNNER_BASE_DIAG_H
#define RUNNER_BASE_DIAG_H

#include <stdbool.h>
#include <stddef.h>

enum diag_level {
	DIAG_ERROR,
	DIAG_WARNING,
	DIAG_NOTE,
};

struct diag {
	enum diag_level level;
	char *file; /* may be NULL when there is no file (command-line input) */
	unsigned line, col;
	char *msg;
	char *hint; /* NULL when there is nothing to suggest */
	size_t seq; /* insertion order, keeps sorting stable */
};

struct diag_list {
	struct diag *v;
	size_t n, cap, max;
	size_t errors, dropped;
};

void diag_list_init(struct diag_list *dl, size_t max);
void diag_list_release(struct diag_list *dl);

/* Add a diagnostic. hint may be NULL. The strings are copied. */
void diag_add(struct diag_list *dl, enum diag_level level, const char *file, unsigned line,
	      unsigned col, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
#define diag_error(dl, file, line, col, hint, ...) \
	diag_add((dl), DIAG_ERROR, (file), (line), (col), (hint), __VA_ARGS__)

/* Sort by file, line, column (stable for equal positions). */
void diag_list_sort(struct diag_list *dl);

static inline bool diag_has_errors(const struct diag_list *dl)
{
	return dl->errors > 0;
}

const char *diag_level_name(enum diag_level level);

#endif
