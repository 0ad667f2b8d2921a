/*
 * k8s.h - the values of Kubernetes Secret manifests, for the secrets scan.
 *
 * A Secret holds its credentials in `data` (base64) and `stringData` (plain text), under
 * key names of the author's choosing: no keyword or pattern tells a line-oriented scan
 * that `password: c3VwZXJzZWNyZXQxMjM=` is a secret. This module reads the YAML (or JSON:
 * it is YAML too) of a file and returns the values of the objects that are Secrets, each
 * with its key and its exact place in the file; the secrets scan decides what is a
 * finding (secrets.c).
 *
 * A file is read as a stream of documents split at its `---` and `...` lines, and only
 * the documents that have a `kind: Secret` line or a `secretGenerator:` key
 * (k8s_secret_line) are parsed, each on its own (libyaml): a document that does not
 * parse costs only itself. When one does not, the file's Markdown code blocks (``` and
 * ~~~) that overlap it are read as YAML instead (a README that shows a manifest). A
 * Secret is a mapping
 * with `kind: Secret` (in any case) and `apiVersion: v1` (or none) at the document's top,
 * or an element of the top mapping's `items` (a List, as `kubectl get -o yaml` writes
 * one) or `objects` (an OpenShift Template). `ExternalSecret`, `SopsSecret` and the like
 * are other kinds; a `kind: Secret` inside a string or a comment is no key. The values of
 * a `kind: SealedSecret`'s spec.encryptedData are returned too, as ciphertext (they are
 * meant to be committed: the caller keeps other rules from taking them for secrets).
 *
 * kustomize makes Secrets of the `literals` (`KEY=VALUE`) of the generators in a
 * kustomization's top-level `secretGenerator` (kind Kustomization, Component or none) and
 * of a `kind: SecretGenerator` generator's configuration: their values are returned too
 * (K8S_LITERAL), the key before the first '=', one pair of quotes around the value
 * removed, as kustomize reads them. Their `files` entries (`[KEY=]PATH`) are returned as
 * K8S_FILE, the path as the value: what the file holds is the Secret's value, which the
 * caller reads (secrets.h, secrets_scratch_set_reader). A configMapGenerator makes
 * ConfigMaps: not read.
 *
 * k8s_read_configmaps() reads the `data` and `binaryData` of ConfigMaps the same way, for
 * the caller to judge what other rules found in them.
 *
 * Template actions (`{{ ... }}` of Helm and Go, `{% ... %}` and `{# ... #}` of Jinja) are
 * neutralised in a copy of the document before it is parsed, with the length of the text
 * kept (so positions stay the file's): a line of nothing but actions becomes blank, an
 * action among other text becomes a run of `x`. A value that includes one is marked
 * templated: what it will be is not in the file.
 *
 * Untrusted input is bounded (K8S_MAX_*); past a bound the file's reading is incomplete
 * (values.incomplete says why) and the caller must not pass it.
 */
#ifndef RUNNER_SCANNERS_K8S_H
#define RUNNER_SCANNERS_K8S_H

#include <stdbool.h>
#include <stddef.h>

/* Documents parsed per file (those with a `kind: Secret` line), and their bytes: libyaml
 * reads 20 to 50 MB/s (less with small tokens in deep flow collections). */
#define K8S_MAX_DOCS   10000
#define K8S_MAX_PARSED (8u << 20)
/* Entries of the data and stringData and secretGenerator literals of a file's documents
 * that are parsed. */
#define K8S_MAX_ENTRIES 10000
/* Flow collections ([ ], { }) nested in one another. */
#define K8S_MAX_FLOW 16
/* Bytes of one value as written (the API server takes at most 1 MiB for a whole Secret). */
#define K8S_MAX_VALUE (1u << 20)
/* Bytes of all the values kept for one file (an alias repeats its anchor's text). */
#define K8S_MAX_TOTAL (16u << 20)
/* Bytes that the data values of one file decode to, which the other rules read. */
#define K8S_MAX_DECODED (8u << 20)
/* Anchored scalars remembered per document (for aliases in a Secret). */
#define K8S_MAX_ANCHORS 1024
/* Bytes of a key name kept (Kubernetes allows 253). */
#define K8S_MAX_KEY 256

enum k8s_field {
	K8S_DATA,	      /* base64 */
	K8S_STRING_DATA,      /* plain text */
	K8S_ENCRYPTED,	      /* a SealedSecret's spec.encryptedData: ciphertext, in base64 */
	K8S_LITERAL,	      /* a kustomize secretGenerator's literal: plain text */
	K8S_FILE,	      /* a secretGenerator's file: text is its path, as written */
	K8S_CONFIGMAP_DATA,   /* k8s_read_configmaps: a ConfigMap's data (plain text) */
	K8S_CONFIGMAP_BINARY, /* ... and its binaryData (base64) */
};

struct k8s_value {
	enum k8s_field field;
	char *key;		 /* the key as YAML reads it, at most K8S_MAX_KEY bytes */
	size_t key_off, key_len; /* the key's text in the file */
	size_t off, len;	 /* the value's text in the file: inside its quotes; a block
				    scalar from its indicator (| or >); a literal's after its
				    '=' (and quotes), a file's path after its `KEY=`, or the
				    whole scalar when it has escapes or folded lines (its key
				    too) */
	char *text;		 /* the value as YAML reads it (NUL-terminated, may hold NULs) */
	size_t text_len;
	bool templated; /* the value, as written, holds a template action */
};

struct k8s_values {
	struct k8s_value *v;
	size_t n, cap;
	/* Why part of the file was not read (a cap, a construct the reader does not follow
	 * inside a Secret), or NULL: a Secret may be hidden there. */
	const char *incomplete;
	size_t docs_parsed;    /* documents with a `kind: Secret` line that were parsed */
	size_t docs_unparsed;  /* of those, the ones that are not YAML (even with templates
				  neutralised), with a line that starts with the `kind` or
				  `secretGenerator` key, not read from code blocks */
	size_t first_unparsed; /* the offset of the first of them */
	size_t bytes;	       /* of the values' text, for K8S_MAX_TOTAL */
	size_t parsed;	       /* bytes of the documents parsed, for K8S_MAX_PARSED */
};

/* Does this line (without its line end) have `kind: Secret`, `kind: SealedSecret` or
 * `kind: SecretGenerator` (quotes, case and JSON's `"kind":"secret"` allowed)? A
 * prefilter: ExternalSecret and `kind: Secrets` do not count. */
bool k8s_kind_line(const char *line, size_t len);

/* Does this line have a `secretGenerator:` key (quoted or not)? */
bool k8s_generator_line(const char *line, size_t len);

/* Either: a line that makes its document worth reading. */
bool k8s_secret_line(const char *line, size_t len);

/*
 * Read the Secrets of buf (len bytes of UTF-8 text, without a byte order mark) into
 * out, which must be zeroed (or released) before. Returns 0 (out->incomplete says whether
 * all was read) or -ENOMEM.
 */
int k8s_read_secrets(const char *buf, size_t len, struct k8s_values *out);

/*
 * Read the data and binaryData values of the ConfigMaps (apiVersion v1 or none) in the
 * documents of buf that hold one of the n_at offsets at (sorted) and a `kind: ConfigMap`
 * line, as K8S_CONFIGMAP_DATA and K8S_CONFIGMAP_BINARY. The same caps apply; past one,
 * what is left is not read (out->incomplete says why). Returns 0 or -ENOMEM.
 */
int k8s_read_configmaps(const char *buf, size_t len, const size_t *at, size_t n_at,
			struct k8s_values *out);
void k8s_values_release(struct k8s_values *vals);

/*
 * Decode standard base64 (RFC 4648 section 4, with its padding) as Kubernetes reads a
 * Secret's data: blanks and line breaks are skipped; any other character outside the
 * alphabet, a missing or misplaced '=' or a stray last character is an error. out must
 * have room for in_len / 4 * 3 + 3 bytes. Returns 0 and *out_len, or -EINVAL.
 */
int k8s_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t *out_len);

#endif
