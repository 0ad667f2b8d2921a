/*
 * registry.c - the list of stage kinds. To add a kind, define it in its own file and add
 * it to `kinds` below.
 */
#include "stage.h"

#include "secscan.h"
#include "util.h"

#include <stdio.h>

#include "banned.h"

extern const struct stage_kind stage_kind_dependency_scan;

static const struct stage_kind *const kinds[] = {
	&stage_kind_script,	     &stage_kind_sast,		 &stage_kind_secrets,
	&stage_kind_dependency_scan, &stage_kind_container_push,
};

const struct stage_kind *stage_kind_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (str_eq(kinds[i]->name, name)) {
			return kinds[i];
		}
	}
	return NULL;
}

size_t stage_kind_count(void)
{
	return ARRAY_SIZE(kinds);
}

const struct stage_kind *stage_kind_at(size_t i)
{
	return i < ARRAY_SIZE(kinds) ? kinds[i] : NULL;
}

char *stage_kind_names(char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (kinds[i]->flags & STAGE_KIND_SCRIPT) {
			continue;
		}
		int w = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", kinds[i]->name);
		if (w < 0 || (size_t)w >= size - n) {
			break;
		}
		n += (size_t)w;
	}
	if (n == 0) {
		snprintf(buf, size, "(none yet)");
	}
	return buf;
}
