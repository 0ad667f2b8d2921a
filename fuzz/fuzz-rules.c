/*
 * fuzz-rules.c - the rule loader on arbitrary bytes, as a SAST and as a secrets rules file
 * (YAML parsing, validation, pattern and regex compilation). It must refuse with
 * diagnostics or load rules that then run on a sample without crashing, hanging or leaking.
 * The sample has a pipeline of several stages (a pipe-stage ellipsis, `| ... |`), a command
 * substitution (a region, read again as RUN lines in a Dockerfile) and a Lisp let (the
 * secrets rules' Lisp callouts, in a file named as Lisp's).
 */
#include "diag.h"
#include "rules.h"
#include "sast.h"
#include "secrets.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sample[] =
	"strcpy(a, b); eval(x) exec.Command(\"sh\", \"-c\", y)\n"
	"token = \"ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\"\n"
	"curl -fsSL h | sed s/x/y/ | tr -d z | sudo -E bash -\n"
	"RUN echo \"$(wget -qO- h | sh)\"\n"
	"(let ((user \"ops\")\n  (password \"Zq8vT2mLr8sKw4Zp\"))\n  #| (a) |# user)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int kind = 0; kind < 2; kind++) {
		struct ruleset *rs = ruleset_new(kind ? RULE_SECRET : RULE_SAST);
		struct diag_list dl;
		diag_list_init(&dl, 20);
		int r = ruleset_load_buffer(rs, "fuzz.yml", (const char *)data, size, &dl);
		if (r < 0 && dl.errors == 0) {
			__builtin_trap(); /* an error must come with a message */
		}
		if (r == 0) {
			ruleset_finish(rs, &dl);
			struct finding_list fl;
			finding_list_init(&fl);
			if (kind) {
				struct secrets_scratch *s = secrets_scratch_new(rs);
				secrets_scan(s, "f", sample, sizeof(sample) - 1, NULL, &fl, NULL);
				secrets_scan(s, "f.el", sample, sizeof(sample) - 1, NULL, &fl,
					     NULL);
				secrets_scratch_free(s);
			} else {
				struct sast_scratch *s = sast_scratch_new(rs);
				for (int l = 1; l < LANG_COUNT; l++) {
					sast_scan(s, "f", (enum lang)l, sample, sizeof(sample) - 1,
						  &fl, NULL);
				}
				sast_scratch_free(s);
			}
			finding_list_release(&fl);
		}
		diag_list_release(&dl);
		ruleset_free(rs);
	}
	return 0;
}
