/*
 * finding.h - the one finding model shared by every security scanner (SAST, secrets,
 * dependencies) and by the gate, the reports and the server's notifications.
 *
 * A finding says what rule matched where, how severe it is and how sure we are. Its
 * fingerprint identifies it across runs independently of line numbers (what baselines and
 * allow entries by fingerprint rely on). Snippets are redacted by the scanner before they
 * are stored: for secrets, a finding never carries the secret itself.
 *
 * The JSON form (finding_to_json) is the contract with report.json, SARIF conversion and
 * the server: {kind, rule_id, title, severity, score?, confidence, cwe[], file, line,
 * column, end_line, end_column, message, snippet, fingerprint, fix, aliases[],
 * disposition, suppression?, ...extra}.
 */
#ifndef RUNNER_SCANNERS_FINDING_H
#define RUNNER_SCANNERS_FINDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum severity {
	SEVERITY_INFO,
	SEVERITY_LOW,
	SEVERITY_MEDIUM,
	SEVERITY_HIGH,
	SEVERITY_CRITICAL,
};

/* "info", "low", "medium", "high", "critical" (case-insensitive; "moderate" = medium). */
int severity_parse(const char *s, enum severity *out);
const char *severity_name(enum severity s);

enum finding_kind {
	FINDING_SAST,
	FINDING_SECRET,
	FINDING_DEPENDENCY,
};

const char *finding_kind_name(enum finding_kind k);
int finding_kind_parse(const char *s, enum finding_kind *out);

/* What the gate decided about a finding. */
enum finding_disposition {
	DISPOSITION_BLOCKING,	/* at or above the threshold and not suppressed */
	DISPOSITION_SUPPRESSED, /* inline comment, allow entry or baseline */
	DISPOSITION_BELOW,	/* below the threshold */
};

enum suppression_kind {
	SUPPRESSION_NONE,
	SUPPRESSION_INLINE,   /* runner:ignore RULE -- reason, in the source */
	SUPPRESSION_ALLOW,    /* a gate.allow entry (reason + expiry) */
	SUPPRESSION_BASELINE, /* fingerprint listed in a baseline file */
};

/* "none", "inline", "allow", "baseline": the name report.json gives a suppression's kind. */
const char *suppression_kind_name(enum suppression_kind k);

struct finding {
	enum finding_kind kind;
	char *rule_id; /* rule id, or advisory id (GHSA-..., PYSEC-..., GO-...) */
	char *title;   /* short rule name / advisory summary */
	enum severity severity;
	double score;	  /* CVSS base score; 0 when none */
	char *confidence; /* "high", "medium", "low" */
	char **cwe;	  /* "CWE-78", ... */
	size_t n_cwe;
	char **aliases; /* other ids of the same issue (CVE-..., GHSA-...) */
	size_t n_aliases;
	char *file;				     /* workspace-relative path */
	unsigned line, column, end_line, end_column; /* 1-based; 0 = unknown */
	char *message;
	char *snippet;	   /* redacted */
	char *fingerprint; /* lower-case hex */
	char *fix;	   /* how to fix (a hint, or the fixed versions) */
	json_t *extra;	   /* kind-specific members merged into the JSON form; may be NULL */

	/* Set by the gate (or by the scanner for inline suppressions). */
	enum finding_disposition disposition;
	enum suppression_kind suppression;
	char *suppression_reason;
	char *suppression_expires; /* YYYY-MM-DD for allow entries */
};

struct finding_list {
	struct finding *v;
	size_t n, cap;
};

void finding_list_init(struct finding_list *fl);
void finding_list_release(struct finding_list *fl);
/* Append a zeroed finding (owned by the list) and return it. */
struct finding *finding_list_add(struct finding_list *fl);
/* Sort by file, line, column, rule (stable output). */
void finding_list_sort(struct finding_list *fl);

/* Release the strings of one finding (the list does this for its own). */
void finding_release(struct finding *f);

/* Helpers that copy their arguments. */
void finding_set(char **field, const char *value);
void finding_add_cwe(struct finding *f, const char *cwe);
void finding_add_alias(struct finding *f, const char *alias);

/* The finding's first CVE alias (`CVE-YYYY-N...`, checked character by character), or NULL
 * when its rule id is itself a CVE or it has none: the id people search for. */
const char *finding_cve_alias(const struct finding *f);

/*
 * Compute a stable fingerprint: SHA-256 over kind, rule, file and `content` (the matched
 * text or the package coordinates) without its whitespace, plus `occurrence` (the
 * how-manieth identical match in the file). Line numbers are not part of it.
 */
void finding_fingerprint(struct finding *f, const char *content, size_t len, unsigned occurrence);

/*
 * The fingerprint of a finding about a whole file (`tag` says which kind: a file too large
 * to read, one a rule gave up on): over the tag and `file_sha256`, the SHA-256 of the
 * file's bytes (hex), so that a baseline or allow entry naming it covers that content
 * only: a file changed since is reported again.
 */
void finding_fingerprint_file(struct finding *f, const char *tag, const char *file_sha256);

/* SHA-256 of data, lower-case hex (65 bytes with the NUL). */
void finding_sha256_hex(const void *data, size_t len, char out[65]);

json_t *finding_to_json(const struct finding *f);
/* Parse the JSON form (unknown members go to extra). Returns 0 or -EINVAL. */
int finding_from_json(const json_t *j, struct finding *f);
json_t *finding_list_to_json(const struct finding_list *fl);
int finding_list_from_json(const json_t *arr, struct finding_list *fl);

struct tokens;
struct lex_comments;

/*
 * Inline suppressions: look at line `line` of text, and the line before it when that line is
 * only a comment, for `runner:ignore ID[,ID...] -- reason`. Returns 1 and a heap copy of the reason
 * when it names rule_id (or "*"); 0 when there is none; -EINVAL when there is one for this
 * rule without a reason (which does not suppress: a reason is required); -E2BIG when the
 * marker names more ids than the caps below allow (it suppresses nothing). t is the file's
 * tokens (lex_run() of text), where only a comment token holds a marker, or NULL for plain
 * text (the rule for plain text applies).
 */
int finding_inline_suppression(const char *text, size_t len, const struct tokens *t, unsigned line,
			       const char *rule_id, char **reason);
/*
 * A marker names at most FINDING_IGNORE_MAX_IDS ids, in at most FINDING_IGNORE_MAX_ID_BYTES
 * bytes from its first id to its "--" (or to the end of its comment): a marker beyond
 * either suppresses nothing, for any rule, and finding_inline_suppression() returns -E2BIG
 * for every finding it would cover. A line breaks a few rules; a reviewer reads a list of
 * dozens at most; and each finding is looked up in the list once (a megabyte of ids above
 * a line of a thousand findings took 12 s).
 */
#define FINDING_IGNORE_MAX_IDS	    64
#define FINDING_IGNORE_MAX_ID_BYTES 4096
/* A reason longer than this is kept to its first FINDING_REASON_MAX bytes (cut before a
 * UTF-8 sequence) and "...": every finding a marker covers keeps its own copy. */
#define FINDING_REASON_MAX 1024

/* A marker as read once for all the findings it covers (struct line_cursor). */
struct line_marker {
	bool known;
	size_t ls;  /* where its line starts */
	size_t m;   /* the marker's offset; SIZE_MAX: none in a comment on the line */
	size_t end; /* where its comment or the line ends */
	/* 1: its ids are read; 0: it names none; -E2BIG: more than the caps allow. */
	int state;
	size_t n_ids;
	struct {
		size_t off;
		size_t len;
	} ids[FINDING_IGNORE_MAX_IDS];
	size_t reason, reason_end; /* the reason after "--", trimmed; SIZE_MAX: no "--" */
};

/* Where finding_inline_suppression_at() found a line last: a file's findings, asked in the
 * order of their lines, are looked up in one pass over the text, each line's marker read
 * once (found, its ids and reason parsed) for all the findings on it, and the file's
 * comments collected once. Zeroed: none yet; line_cursor_release() when done with the
 * file. */
struct line_cursor {
	unsigned line; /* 0: none */
	size_t off;    /* where that line starts */
	size_t prev;   /* where the line before it starts, or SIZE_MAX */
	/* The marker read last on a finding's line ([0]) and on a line before one ([1]). */
	struct line_marker read[2];
	struct lex_comments *comments; /* the file's, once a marker was seen (t not NULL) */
	bool plain;		       /* t is NULL or a pattern: the plain-text rule */
	/* Bytes of text read for the markers (lines' ends found, markers parsed): what the
	 * file's suppressions cost, counted the same way on any machine (tests). */
	size_t scanned;
};

/* finding_inline_suppression(), walking from *c when line is at or after c's line (and
 * leaving c at line). Same text and tokens, same results. */
int finding_inline_suppression_at(const char *text, size_t len, const struct tokens *t,
				  unsigned line, const char *rule_id, char **reason,
				  struct line_cursor *c);
void line_cursor_release(struct line_cursor *c);

#endif
