/*
 * secrets.h - secret detection: provider tokens (AWS, GitHub, GitLab, Slack, Stripe, ...),
 * private keys, JWTs, credentials in URLs, and generic `password = "..."` assignments.
 *
 * Speed comes from the keywords of the rules: one pass over the file looks up every byte
 * pair in a table of keyword prefixes; a rule's regular expression only runs on a line
 * where one of its keywords occurs (case-insensitively), at most once per line. Multiline
 * rules (PEM blocks) match from anywhere on that line to at most SECRETS_MULTILINE_MAX
 * past its end (and, for a rule that gives a number of lines, no further than that many
 * lines past it).
 *
 * The secret never leaves this module in clear: a finding carries its redacted form
 * (secrets_redact: the first 4 characters and a short SHA-256), its snippet has every
 * secret found on the line replaced by the redacted form, and its fingerprint is computed
 * from the redacted form. A candidate is dropped when its entropy is below the rule's
 * threshold, when it matches one of the rule's allow patterns, or one of the scan's
 * allowlist regexes (test fixtures, placeholders).
 *
 * A rule with `structure: kubernetes-secret` is not matched line by line: a file with a
 * `kind: Secret` line is read as YAML (k8s.h) and each value of its Secrets that is not a
 * placeholder or a template is a span of the rule, at the value's text; what a data
 * value decodes to is read by the other rules, whose secrets are reported at the value
 * (one finding per secret: the structural span gives way to theirs). A data value that is
 * no secret takes the less than highly confident matches of its base64 with it.
 *
 * A kustomize secretGenerator's `files` name files whose content is a Secret's value: a
 * file that holds nothing but a password says nothing of what it is, and no line rule
 * reports it where it is. When the caller gives a reader (secrets_scratch_set_reader),
 * each such file below the kustomization's directory is read through it, and one whose
 * content is a bare credential (one token, no placeholder, no other rule's secret: see
 * k8s_file_value in secrets.c) is a span of the rule at the entry that names it. This
 * module opens no file itself.
 */
#ifndef RUNNER_SCANNERS_SECRETS_H
#define RUNNER_SCANNERS_SECRETS_H

#include "finding.h"
#include "rules.h"

#include <stddef.h>

/* How far past its first line a multiline secret (a PEM block) may reach. */
#define SECRETS_MULTILINE_MAX (64u << 10)
/* Findings per file (beyond: counted, not reported). */
#define SECRETS_MAX_PER_FILE 1000

struct secrets_scratch;

struct secrets_allowlist {
	pcre2_code *const *regex; /* a secret (or its whole match) matching one is ignored */
	size_t n;
};

struct secrets_file_stats {
	size_t regex_limits;
	size_t allowlisted; /* candidates dropped by an allowlist or a rule's allow entry */
	size_t low_entropy;
	size_t truncated;
	size_t no_reason;
	unsigned first_no_reason_line;
	size_t too_many_ids; /* findings under a runner:ignore comment of too many ids */
	unsigned first_too_many_ids_line;
	/* Documents with a `kind: Secret` line (or a secretGenerator) that are not YAML and
	 * not read from code blocks: the Kubernetes rule did not read them, the line rules
	 * did. */
	size_t k8s_unparsed;
	unsigned first_k8s_unparsed_line;
};

/* A secretGenerator's file larger than this holds no bare value (the line rules read it
 * where it is); the files of one scanned file are read up to SECRETS_MAX_FILES_READ bytes
 * in all, beyond which the Kubernetes rule reports it as not evaluated completely. */
#define SECRETS_MAX_FILE_VALUE (64u << 10)
#define SECRETS_MAX_FILES_READ (8u << 20)

/* rs must be a RULE_SECRET set. */
struct secrets_scratch *secrets_scratch_new(const struct ruleset *rs);
void secrets_scratch_free(struct secrets_scratch *s);

/*
 * Reads a file of the scan for the file being scanned. path is the file's path as the scan
 * names its files: the scanned file's directory (as its path gives it) joined with a
 * relative path without `.`, `..` or empty components. Returns 0 with *data (heap,
 * NUL-terminated, owned by the caller) and *len; -ENOENT when the file is none the scan
 * reads (missing, no regular file, reached through a link, ignored, excluded,
 * allowlisted); -EFBIG when it holds more than max bytes; another -errno when it cannot be
 * read (the rule then reports the scanned file as not evaluated completely).
 */
typedef int (*secrets_read_fn)(void *ud, const char *path, size_t max, char **data, size_t *len);

/* Read the files a scanned file names through fn (NULL: none is read, the default). */
void secrets_scratch_set_reader(struct secrets_scratch *s, secrets_read_fn fn, void *ud);

/* Scan buf (len bytes), reported as path; findings are appended to out. Returns 0. */
int secrets_scan(struct secrets_scratch *s, const char *path, const char *buf, size_t len,
		 const struct secrets_allowlist *al, struct finding_list *out,
		 struct secrets_file_stats *st);

/* The same, buf read as the file's name says (YAML, code, ...), and reported as path: the
 * content of a history's blob, one of whose names is name. */
int secrets_scan_named(struct secrets_scratch *s, const char *path, const char *name,
		       const char *buf, size_t len, const struct secrets_allowlist *al,
		       struct finding_list *out, struct secrets_file_stats *st);

/* Shannon entropy of s in bits per character. */
double secrets_entropy(const char *s, size_t n);

/*
 * The redacted form of a secret: its first 4 characters (fewer for a short secret: at
 * most a quarter of it), "...", and the first 8 hex digits of its SHA-256, e.g.
 * "AKIA...(sha256:9f86d081)"; a secret shorter than REDACT_HASH_MIN bytes gets
 * "(short)" instead of the hash, which would give it away. Written to out
 * (NUL-terminated, truncated to outlen).
 */
#define REDACT_HASH_MIN 16
void secrets_redact(const char *secret, size_t n, char *out, size_t outlen);

#endif
