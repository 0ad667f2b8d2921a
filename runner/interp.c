/*
 * interp.c - `${NAME}` interpolation.
 */
#include "interp.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>

#include "banned.h"

/* Length of the name at p (after "${"), or 0 when it is not a valid name. */
static size_t name_len(const char *p)
{
	size_t n = 0;
	if (!(isalpha((unsigned char)p[0]) || p[0] == '_')) {
		return 0;
	}
	while (isalnum((unsigned char)p[n]) || p[n] == '_') {
		n++;
	}
	return n;
}

bool interp_needed(const char *s)
{
	return strstr(s, "${") != NULL;
}

int interp_check(const char *s, interp_lookup_fn lookup, void *userdata, struct interp_error *err)
{
	memset(err, 0, sizeof(*err));
	for (const char *p = s; *p; p++) {
		if (p[0] != '$') {
			continue;
		}
		if (p[1] == '$' && p[2] == '{') {
			p += 2;
			continue;
		}
		if (p[1] != '{') {
			continue;
		}
		size_t n = name_len(p + 2);
		err->offset = (size_t)(p - s);
		if (n == 0 || p[2 + n] != '}') {
			const char *close = strchr(p + 2, '}');
			if (!close) {
				snprintf(err->msg, sizeof(err->msg), "unterminated '${'");
			} else {
				snprintf(err->msg, sizeof(err->msg),
					 "invalid variable reference '%.*s'",
					 (int)MIN((size_t)(close - p + 1), 100), p);
			}
			return -EINVAL;
		}
		if (n >= sizeof(err->name)) {
			snprintf(err->msg, sizeof(err->msg), "variable name too long");
			return -EINVAL;
		}
		memcpy(err->name, p + 2, n);
		err->name[n] = '\0';
		if (!lookup(userdata, err->name)) {
			snprintf(err->msg, sizeof(err->msg), "unknown variable '${%s}'", err->name);
			return -ENOENT;
		}
		p += 2 + n;
	}
	return 0;
}

char *interp_expand(const char *s, interp_lookup_fn lookup, void *userdata)
{
	struct sbuf out;
	int r = 0;
	sbuf_init(&out, INTERP_MAX);
	for (const char *p = s; *p && r == 0; p++) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			r = sbuf_puts(&out, "${");
			p += 2;
			continue;
		}
		if (p[0] == '$' && p[1] == '{') {
			size_t n = name_len(p + 2);
			if (n && n <= INTERP_NAME_MAX && p[2 + n] == '}') {
				char name[INTERP_NAME_MAX + 1];
				memcpy(name, p + 2, n);
				name[n] = '\0';
				const char *v = lookup(userdata, name);
				r = sbuf_puts(&out, v ? v : "");
				p += 2 + n;
				continue;
			}
		}
		r = sbuf_putc(&out, *p);
	}
	if (r < 0) {
		sbuf_release(&out);
		return NULL;
	}
	return sbuf_steal(&out);
}
