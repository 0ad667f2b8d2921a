/*
 * fuzz-osv-record.c - the OSV record loader on arbitrary bytes, and, for records it
 * accepts, matching (every affected entry against the versions it names) and severity:
 * loading must give a record or an error message, and what it accepts must be safe to
 * evaluate.
 */
#include "eco.h"
#include "osv.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = NULL;
	char err[256] = "";
	int r = osv_record_load((const char *)data, size, &rec, err, sizeof(err));
	if (r < 0) {
		if (!err[0] || rec) {
			__builtin_trap();
		}
		return 0;
	}
	char *title = osv_title_of(rec);
	if (title && (strlen(title) > OSV_MAX_TITLE + 3 || !title[0])) {
		__builtin_trap();
	}
	free(title);
	const json_t *aff = json_object_get(rec, "affected");
	for (size_t i = 0; i < json_array_size(aff); i++) {
		const json_t *a = json_array_get(aff, i);
		struct osv_severity sev;
		osv_severity_of(rec, a, &sev);
		enum eco e = (enum eco)(i % ECO_COUNT);
		const json_t *versions = json_object_get(a, "versions");
		for (size_t k = 0; k < json_array_size(versions) && k < 16; k++) {
			char *fixed = NULL;
			osv_affected_contains(a, e, json_string_value(json_array_get(versions, k)),
					      &fixed);
			free(fixed);
		}
		osv_affected_contains(a, e, "1.0.0", NULL);
		json_t *fv = json_array();
		osv_affected_fixed_versions(a, fv);
		json_decref(fv);
	}
	json_decref(rec);
	return 0;
}
