/*
 * fuzz-secrets.c - secret detection with the default rules on arbitrary bytes: findings
 * must have valid positions and redacted snippets within the input's bounds, and nothing
 * may crash, hang or leak. The first byte (not consumed) picks the file's name, as the
 * rules read some text differently in YAML, source code and Lisp files.
 */
#include "diag.h"
#include "rules.h"
#include "secrets.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ruleset *rs;
	static struct secrets_scratch *scratch;
	if (!rs) {
		struct diag_list dl;
		diag_list_init(&dl, 10);
		rs = ruleset_new(RULE_SECRET);
		if (ruleset_load_defaults(rs, &dl) < 0) {
			__builtin_trap();
		}
		ruleset_finish(rs, &dl);
		diag_list_release(&dl);
		scratch = secrets_scratch_new(rs);
	}
	if (size > (1u << 20)) {
		return 0;
	}
	static const char *const names[] = { "fuzz", "f.yml", "f.py", "f.clj", "f.el", "f.tcl" };
	const char *name = names[size > 0 ? data[0] % (sizeof(names) / sizeof(names[0])) : 0];
	struct finding_list fl;
	finding_list_init(&fl);
	secrets_scan(scratch, name, (const char *)data, size, NULL, &fl, NULL);
	for (size_t i = 0; i < fl.n; i++) {
		const struct finding *f = &fl.v[i];
		/* A file a rule gave up on is reported whole: no secret to redact, no line to
		 * quote. */
		bool incomplete = json_is_true(json_object_get(f->extra, "incomplete"));
		if (f->line == 0 || f->end_line < f->line || !f->fingerprint ||
		    (!incomplete && (!f->snippet || (!strstr(f->message, "(sha256:") &&
						     !strstr(f->message, "...(short)"))))) {
			__builtin_trap();
		}
	}
	finding_list_release(&fl);
	return 0;
}
