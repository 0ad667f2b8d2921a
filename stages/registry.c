/*
 * registry.c - the list of stage kinds. To add a kind, define it in its own file and add
 * it to `kinds` below.
 */
#include "stage.h"

#include "secscan.h"
#include "util.h"

#include "banned.h"

static const struct stage_kind *const kinds[] = {
	&stage_kind_script,
	&stage_kind_sast,
	&stage_kind_secrets,
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

const char *stage_kind_names(void)
{
	static char buf[512];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (kinds[i]->flags & STAGE_KIND_SCRIPT) {
			continue;
		}
		int w = snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "", kinds[i]->name);
		if (w < 0 || (size_t)w >= sizeof(buf) - n) {
			break;
		}
		n += (size_t)w;
	}
	if (n == 0) {
		snprintf(buf, sizeof(buf), "(none yet)");
	}
	return buf;
}
