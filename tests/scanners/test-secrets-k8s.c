/*
 * test-secrets-k8s.c - Kubernetes Secret manifests: the base64 decoder Kubernetes reads
 * data with, the `kind: Secret` line prefilter, the reader (documents, JSON, Lists,
 * positions, templates, aliases, SealedSecrets) and every cap on what a file can make it
 * hold; and the secrets scan over such files: a value at its place with its key, decoded
 * data read by the provider rules (one finding per secret), placeholders and templates
 * not reported and vetoing the generic rules' matches of their base64, values never in
 * clear, and a file past a cap reported as not evaluated completely; kustomize
 * secretGenerators' literals and files, the files read through the scan's reader and
 * reported when they hold a bare credential.
 */
#include "secrets-suite.h"

#include "k8s.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>

/* ---------- base64 ---------- */

static int dec(const char *in, char *out, size_t *n)
{
	unsigned char buf[256];
	int r = k8s_base64_decode(in, strlen(in), buf, n);
	if (r == 0) {
		memcpy(out, buf, *n);
		out[*n] = '\0';
	}
	return r;
}

Test(k8s_base64, decodes_standard_base64_with_its_padding)
{
	char out[256];
	size_t n = 99;
	cr_assert_eq(dec("", out, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(dec("YQ==", out, &n), 0);
	cr_assert_str_eq(out, "a");
	cr_assert_eq(dec("YWI=", out, &n), 0);
	cr_assert_str_eq(out, "ab");
	cr_assert_eq(dec("YWJj", out, &n), 0);
	cr_assert_str_eq(out, "abc");
	cr_assert_eq(dec("c3VwZXJzZWNyZXQxMjM=", out, &n), 0);
	cr_assert_str_eq(out, "supersecret123");
	/* Line breaks and blanks are skipped (a folded or wrapped value). */
	cr_assert_eq(dec(" c3Vw\nZXJz ZWNy\r\nZXQx\tMjM= \n", out, &n), 0);
	cr_assert_str_eq(out, "supersecret123");
	/* Binary: every byte value. */
	cr_assert_eq(dec("AP8+/w==", out, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq((unsigned char)out[0], 0x00);
	cr_assert_eq((unsigned char)out[1], 0xff);
	cr_assert_eq((unsigned char)out[2], 0x3e);
	cr_assert_eq((unsigned char)out[3], 0xff);
}

Test(k8s_base64, refuses_what_kubernetes_would_refuse)
{
	static const char *const bad[] = {
		"YQ",	     /* no padding */
		"YWI",	     /* no padding */
		"Y",	     /* a stray character */
		"YQ=",	     /* short padding */
		"Y===",	     /* too much padding */
		"====",	     /* padding alone */
		"YQ==YQ==",  /* data after the padding */
		"YQ=a",	     /* data after the padding */
		"YW*j",	     /* outside the alphabet */
		"c3Vw-_8=",  /* the URL alphabet */
		"changeme!", /* plain text */
		"c3Vw\x80",  /* not ASCII */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[256];
		size_t n;
		cr_assert_eq(dec(bad[i], out, &n), -EINVAL, "'%s' was decoded", bad[i]);
	}
}

/* ---------- the prefilter ---------- */

Test(k8s_reader, the_kind_line_prefilter)
{
	static const char *const yes[] = {
		"kind: Secret",
		"kind: secret",
		"  kind:   Secret  ",
		"kind: \"Secret\"",
		"kind: 'Secret' # x",
		"\"kind\": \"Secret\",",
		"{\"kind\":\"Secret\"}",
		"- kind: Secret",
		"kind: SealedSecret",
		"kind: SecretGenerator",
		"# kind: Secret (comments pass the prefilter: the parser decides)",
	};
	static const char *const no[] = {
		"kind: ExternalSecret",
		"kind: Secrets",
		"kind: SecretStore",
		"mykind: Secret",
		"kind Secret",
		"kind: Secret-like",
		"secret: kind",
		"kind: Secret.v1",
		"kind: SecretGeneratorList",
		"kind: ConfigMapGenerator",
		"kind:",
		"Secret",
		"",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cr_assert(k8s_kind_line(yes[i], strlen(yes[i])), "'%s'", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cr_assert(!k8s_kind_line(no[i], strlen(no[i])), "'%s'", no[i]);
	}
	static const char *const gen_yes[] = {
		"secretGenerator:",	     "secretGenerator: []", "\"secretGenerator\": [",
		"{\"secretGenerator\" :[]}", "  secretGenerator:",
	};
	static const char *const gen_no[] = {
		"secretGenerator",   "mysecretGenerator:", "configMapGenerator:",
		"secretGenerators:", "- secretGenerator",
	};
	for (size_t i = 0; i < sizeof(gen_yes) / sizeof(gen_yes[0]); i++) {
		cr_assert(k8s_generator_line(gen_yes[i], strlen(gen_yes[i])), "'%s'", gen_yes[i]);
		cr_assert(k8s_secret_line(gen_yes[i], strlen(gen_yes[i])), "'%s'", gen_yes[i]);
	}
	for (size_t i = 0; i < sizeof(gen_no) / sizeof(gen_no[0]); i++) {
		cr_assert(!k8s_generator_line(gen_no[i], strlen(gen_no[i])), "'%s'", gen_no[i]);
	}
}

/* ---------- the reader ---------- */

static struct k8s_values vals;

static void reset_vals(void)
{
	k8s_values_release(&vals);
}

TestSuite(k8s_reader, .fini = reset_vals);

static void rd(const char *text)
{
	k8s_values_release(&vals);
	cr_assert_eq(k8s_read_secrets(text, strlen(text), &vals), 0);
}

static const struct k8s_value *val(const char *key)
{
	for (size_t i = 0; i < vals.n; i++) {
		if (str_eq(vals.v[i].key, key)) {
			return &vals.v[i];
		}
	}
	return NULL;
}

/* The value's text in the file is `want`. */
static void at(const char *text, const char *key, const char *want)
{
	const struct k8s_value *v = val(key);
	cr_assert_not_null(v, "no value for '%s'", key);
	cr_assert_eq(v->len, strlen(want), "'%s': %zu bytes, not %zu", key, v->len, strlen(want));
	cr_assert(memcmp(text + v->off, want, v->len) == 0, "'%s' is at '%.*s'", key, (int)v->len,
		  text + v->off);
}

Test(k8s_reader, values_of_a_secret_with_their_places)
{
	const char *t = "apiVersion: v1\n"
			"kind: Secret\n"
			"metadata:\n  name: x\n  labels: {password: notme}\n"
			"data:\n"
			"  plain: c2VjcmV0\n"
			"  \"quoted\": \"cXVvdGVk\"\n"
			"  single: 'it''s'\n"
			"  é-utf8: w6k=   # a comment\n"
			"stringData:\n"
			"  block: |\n    line one\n    line two\n\n"
			"  folded: >-\n    a\n    b\n"
			"  escaped: \"a\\tb\"\n"
			"  empty: \"\"\n"
			"  nothing:\n"
			"  number: 42\n"
			"  yes-no: true\n"
			"  list: [a, b]\n";
	rd(t);
	cr_assert_null(vals.incomplete);
	cr_assert_eq(vals.n, 7);
	at(t, "plain", "c2VjcmV0");
	at(t, "quoted", "cXVvdGVk");
	at(t, "single", "it''s");
	cr_assert_str_eq(val("single")->text, "it's");
	at(t, "é-utf8", "w6k=");
	at(t, "block", "|\n    line one\n    line two");
	cr_assert_str_eq(val("block")->text, "line one\nline two\n");
	at(t, "folded", ">-\n    a\n    b");
	cr_assert_str_eq(val("folded")->text, "a b");
	at(t, "escaped", "a\\tb");
	cr_assert_str_eq(val("escaped")->text, "a\tb");
	cr_assert_eq(val("plain")->field, K8S_DATA);
	cr_assert_eq(val("block")->field, K8S_STRING_DATA);
	/* The key's place too (a message must know whether it may quote it). */
	const struct k8s_value *q = val("quoted");
	cr_assert_eq(q->key_len, 6);
	cr_assert(memcmp(t + q->key_off, "quoted", 6) == 0);
	/* Not strings: empty, null, numbers, booleans, collections. */
	cr_assert_null(val("empty"));
	cr_assert_null(val("nothing"));
	cr_assert_null(val("number"));
	cr_assert_null(val("yes-no"));
	cr_assert_null(val("list"));
}

Test(k8s_reader, only_secrets_of_the_core_api)
{
	rd("kind: ConfigMap\ndata:\n  a: c2VjcmV0\n---\n"
	   "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n"
	   "    b: AgB0\n  template:\n    data:\n      c: c2VjcmV0\n---\n"
	   "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nspec:\n  data:\n"
	   "  - secretKey: d\n---\n"
	   "apiVersion: v2\nkind: Secret\ndata:\n  e: c2VjcmV0\n---\n"
	   "kind: Secret\ndata:\n  f: c2VjcmV0\n---\n"
	   "apiVersion: v1\nkind: secret\ndata:\n  g: c2VjcmV0\n---\n"
	   "note: 'kind: Secret'\ndata:\n  h: c2VjcmV0\n---\n"
	   "# kind: Secret\nkind: Service\ndata:\n  i: c2VjcmV0\n---\n"
	   "kind: Secret\nmetadata:\n  data:\n    j: c2VjcmV0\n");
	cr_assert_null(vals.incomplete);
	cr_assert_null(val("a"));
	cr_assert_not_null(val("b"));
	cr_assert_eq(val("b")->field, K8S_ENCRYPTED);
	cr_assert_null(val("c"));
	cr_assert_null(val("d"));
	cr_assert_null(val("e"), "apiVersion v2 is not the core API");
	cr_assert_not_null(val("f"), "no apiVersion: still a Secret");
	cr_assert_not_null(val("g"));
	cr_assert_null(val("h"));
	cr_assert_null(val("i"));
	cr_assert_null(val("j"));
	cr_assert_eq(vals.n, 3);
	cr_assert_eq(vals.docs_parsed, 7, "documents without a kind: Secret line are parsed");
}

Test(k8s_reader, json_lists_templates_and_kind_after_data)
{
	const char *json = "{\"apiVersion\":\"v1\",\"data\":{\"pw\":\"c2VjcmV0\",\"e\":\"\"},"
			   "\"kind\":\"Secret\",\"metadata\":{\"name\":\"n\"}}";
	rd(json);
	cr_assert_eq(vals.n, 1);
	at(json, "pw", "c2VjcmV0");
	rd("apiVersion: v1\nkind: List\nitems:\n"
	   "- kind: Secret\n  data:\n    one: c2VjcmV0\n"
	   "- kind: ConfigMap\n  data:\n    two: c2VjcmV0\n"
	   "- data:\n    three: c2VjcmV0\n  kind: Secret\n"
	   "- items:\n  - kind: Secret\n    data:\n      four: c2VjcmV0\n");
	cr_assert_not_null(val("one"));
	cr_assert_null(val("two"));
	cr_assert_not_null(val("three"));
	cr_assert_null(val("four"), "items of an item are no List's");
	rd("kind: Template\nobjects:\n- kind: Secret\n  stringData:\n    five: ${PASSWORD}\n");
	cr_assert_not_null(val("five"));
	/* Template actions: the document parses, and values with one are marked. */
	const char *helm = "{{- if .Values.enabled }}\n"
			   "apiVersion: v1\nkind: Secret\nmetadata:\n"
			   "  name: {{ include \"x\" . }}\n"
			   "  labels:\n    {{- include \"labels\" . | nindent 4 }}\n"
			   "data:\n"
			   "  {{- range $k, $v := .Values.extra }}\n"
			   "  {{ $k }}: {{ $v | b64enc | quote }}\n"
			   "  {{- end }}\n"
			   "  pw: {{ .Values.pw | b64enc }}\n"
			   "  half: prefix{{ .Values.x }}\n"
			   "  {# jinja #}\n"
			   "  lit: c2VjcmV0\n"
			   "{{- end }}\n";
	rd(helm);
	cr_assert_eq(vals.docs_unparsed, 0);
	cr_assert_not_null(val("pw"));
	cr_assert(val("pw")->templated);
	cr_assert(val("half")->templated);
	cr_assert_not_null(val("lit"));
	cr_assert(!val("lit")->templated);
	at(helm, "lit", "c2VjcmV0");
	/* What no masking makes YAML is counted, not read, and does not stop the file. */
	rd("kind: Secret\ndata: [unclosed\n  pw: c2VjcmV0\n---\nkind: Secret\ndata:\n  ok: eA==\n");
	cr_assert_eq(vals.docs_parsed, 2);
	cr_assert_eq(vals.docs_unparsed, 1);
	cr_assert_null(val("pw"));
	cr_assert_not_null(val("ok"));
	cr_assert_null(vals.incomplete);
	/* Unclosed and odd actions do not crash the reader. */
	rd("kind: Secret\ndata:\n  a: {{ .x\n  b: }}{{\n  c: {%\n{#\n");
	rd("{{");
	rd("kind: Secret\n{{");
}

/* kustomize: the literals of a kustomization's secretGenerator, and of a SecretGenerator's
 * configuration; not a configMapGenerator's, nor another kind's. */
Test(k8s_reader, kustomize_secret_generator_literals)
{
	const char *t = "apiVersion: kustomize.config.k8s.io/v1beta1\n"
			"kind: Kustomization\n"
			"configMapGenerator:\n- name: c\n  literals: [CM=Lr5Xq8Wm3Nz6]\n"
			"secretGenerator:\n"
			"- name: a\n"
			"  literals:\n"
			"  - PLAIN=pa=ss\n"
			"  - \"DQ='quoted'\"\n"
			"  - 'SQ=\"x\"'\n"
			"  - \"ESC=a\\tb\"\n"
			"  - NOEQ\n"
			"  - =novalue\n"
			"  - EMPTY=\n"
			"  - EMPTYQ=''\n"
			"  - 42\n"
			"  envs: [a.env]\n"
			"  files: [PW=pw.txt]\n"
			"- name: b\n"
			"  literals: [ \"FLOW=y\" ]\n";
	rd(t);
	cr_assert_null(vals.incomplete);
	cr_assert_eq(vals.n, 6, "%zu values", vals.n);
	cr_assert_null(val("CM"), "a configMapGenerator makes no Secret");
	cr_assert_eq(val("PW")->field, K8S_FILE, "files are not literals");
	cr_assert_eq(val("PLAIN")->field, K8S_LITERAL);
	cr_assert_str_eq(val("PLAIN")->text, "pa=ss", "split at the first '='");
	at(t, "PLAIN", "pa=ss");
	const struct k8s_value *v = val("PLAIN");
	cr_assert_eq(v->key_len, 5);
	cr_assert(memcmp(t + v->key_off, "PLAIN", 5) == 0);
	cr_assert_str_eq(val("DQ")->text, "quoted", "one pair of quotes is removed");
	at(t, "DQ", "quoted");
	cr_assert_str_eq(val("SQ")->text, "x");
	/* Escapes: the value is not written as it reads; the whole scalar is its place. */
	cr_assert_str_eq(val("ESC")->text, "a\tb");
	at(t, "ESC", "ESC=a\\tb");
	cr_assert_str_eq(val("FLOW")->text, "y");
	cr_assert_null(val("NOEQ"));
	cr_assert_null(val("EMPTY"));
	cr_assert_null(val("EMPTYQ"));
	/* Without kind (it is optional), a Component, a generator's configuration. */
	rd("secretGenerator:\n- literals:\n  - A=1x\n");
	cr_assert_not_null(val("A"));
	rd("kind: Component\nsecretGenerator:\n- literals:\n  - A=1x\n");
	cr_assert_not_null(val("A"));
	rd("apiVersion: builtin\nkind: SecretGenerator\nmetadata: {name: s}\nliterals:\n- B=2x\n"
	   "---\nkind: ConfigMapGenerator\nliterals:\n- C=3x\n# secretGenerator: in a comment\n");
	cr_assert_not_null(val("B"));
	cr_assert_null(val("C"));
	/* Not another kind's, nor literals at a kustomization's top. */
	rd("kind: Deployment\nsecretGenerator:\n- literals: [D=4x]\n---\n"
	   "kind: Kustomization\nliterals: [E=5x]\nsecretGenerator: []\n");
	cr_assert_eq(vals.n, 0);
	/* What the reader does not follow there makes the file incomplete. */
	rd("secretGenerator:\n- <<: {literals: [F=6x]}\n");
	cr_assert_not_null(vals.incomplete);
	rd("x: &l [G=7x]\nsecretGenerator:\n- literals: *l\n");
	cr_assert_not_null(vals.incomplete);
	rd("x: &g {literals: [H=8x]}\nsecretGenerator:\n- *g\n");
	cr_assert_not_null(vals.incomplete);
	/* A scalar's alias is read. */
	rd("x: &v I=9x\nsecretGenerator:\n- literals: [*v]\n");
	cr_assert_null(vals.incomplete);
	cr_assert_not_null(val("I"));
}

/* kustomize: the files of a secretGenerator (and of a SecretGenerator's configuration),
 * `[KEY=]PATH` as kustomize reads them, each path at its place; not a
 * configMapGenerator's. */
Test(k8s_reader, kustomize_secret_generator_files)
{
	const char *t = "kind: Kustomization\n"
			"configMapGenerator:\n- name: c\n  files: [cm.txt]\n"
			"secretGenerator:\n"
			"- name: a\n"
			"  files:\n"
			"  - pw.txt\n"
			"  - secrets/api-token.txt\n"
			"  - tls.key=certs/server.key\n"
			"  - \"ESC=a\\tb\"\n"
			"  - =nokey\n"
			"  - nopath=\n"
			"  - a=b=c\n"
			"  - 42\n"
			"  - {x: y}\n"
			"  literals: [L=Lr5Xq8Wm3Nz6]\n";
	rd(t);
	cr_assert_null(vals.incomplete);
	cr_assert_eq(vals.n, 5, "%zu values", vals.n);
	cr_assert_null(val("cm.txt"), "a configMapGenerator makes no Secret");
	const struct k8s_value *v = val("pw.txt");
	cr_assert_not_null(v);
	cr_assert_eq(v->field, K8S_FILE);
	cr_assert_str_eq(v->text, "pw.txt");
	at(t, "pw.txt", "pw.txt");
	v = val("api-token.txt");
	cr_assert_not_null(v, "without '=', the key is the path's last component");
	cr_assert_str_eq(v->text, "secrets/api-token.txt");
	at(t, "api-token.txt", "secrets/api-token.txt");
	v = val("tls.key");
	cr_assert_not_null(v);
	cr_assert_str_eq(v->text, "certs/server.key");
	at(t, "tls.key", "certs/server.key");
	cr_assert_eq(v->key_len, 7);
	cr_assert(memcmp(t + v->key_off, "tls.key", 7) == 0);
	/* Escapes: the path is not written as it reads; the whole scalar is its place. */
	cr_assert_str_eq(val("ESC")->text, "a\tb");
	at(t, "ESC", "ESC=a\\tb");
	cr_assert_eq(val("L")->field, K8S_LITERAL);
	/* A SecretGenerator's configuration, its files at its top; not another kind's. */
	rd("kind: SecretGenerator\nmetadata: {name: s}\nfiles: [pw.txt]\n---\n"
	   "kind: ConfigMapGenerator\nfiles: [cm.txt]\n---\n"
	   "kind: Kustomization\nfiles: [top.txt]\nsecretGenerator: []\n");
	cr_assert_eq(vals.n, 1, "%zu values", vals.n);
	cr_assert_not_null(val("pw.txt"));
	/* An alias to a collection where the files are is not followed, and said so. */
	rd("x: &l [pw.txt]\nsecretGenerator:\n- files: *l\n");
	cr_assert_not_null(vals.incomplete);
	rd("x: &f pw.txt\nsecretGenerator:\n- files: [*f]\n");
	cr_assert_null(vals.incomplete);
	cr_assert_not_null(val("pw.txt"));
}

/* A document that is not YAML is read from its Markdown code blocks, at the file's
 * positions; what is still not YAML is counted. */
Test(k8s_reader, markdown_code_blocks)
{
	const char *md = "# Deploy\n\nCreate it: `kind: Secret`.\n\n"
			 "```yaml\nkind: Secret\ndata:\n  a: eA==\n---\n"
			 "kind: Secret\nstringData:\n  b: Lr5Xq8Wm3Nz6\n```\n\n"
			 "1. Then:\n\n   ~~~~\n   kind: Secret\n   stringData:\n"
			 "     c: Wq8mZ2vLr4Tx\n   ~~~~\n\n"
			 "```\nkind: Secret\nstringData: {d: Kp3Wz7Mn2C}\n";
	rd(md);
	cr_assert_null(vals.incomplete);
	cr_assert_eq(vals.n, 4, "%zu values", vals.n);
	at(md, "a", "eA==");
	at(md, "b", "Lr5Xq8Wm3Nz6");
	at(md, "c", "Wq8mZ2vLr4Tx");
	at(md, "d", "Kp3Wz7Mn2C");
	cr_assert_eq(vals.docs_unparsed, 0, "a `kind: Secret` in prose is no manifest's line");
	/* A manifest's line outside the blocks: counted. */
	rd("Text.\n\nkind: Secret\n\n```\nkind: Secret\nstringData: {b: x}\n```\n");
	cr_assert_not_null(val("b"));
	cr_assert_eq(vals.docs_unparsed, 1);
	cr_assert_eq(vals.first_unparsed, 0);
	/* Every line worth it in a block: nothing left unread. */
	rd("Text.\n\n```\nkind: Secret\nstringData: {b: x}\n```\n");
	cr_assert_not_null(val("b"));
	cr_assert_eq(vals.docs_unparsed, 0);
	/* Tab-indented YAML is not YAML: counted, not read. */
	rd("kind: Secret\ndata:\n\tpassword: eA==\n");
	cr_assert_eq(vals.n, 0);
	cr_assert_eq(vals.docs_parsed, 1);
	cr_assert_eq(vals.docs_unparsed, 1);
	/* A block in a document that is YAML is text: a ConfigMap's README. */
	rd("kind: ConfigMap\ndata:\n  README.md: |\n    ```\n    kind: Secret\n"
	   "    stringData: {e: Lr5Xq8Wm3Nz6}\n    ```\n");
	cr_assert_eq(vals.n, 0);
	cr_assert_eq(vals.docs_unparsed, 0);
	/* Fences: at least three, the same character, closed by as many or more. */
	rd("x: [\n``\nkind: Secret\nstringData: {f: a}\n``\n"
	   "````\nkind: Secret\nstringData: {g: b}\n```\nnot: [yaml\n````\n"
	   "``` a`b\nkind: Secret\nstringData: {h: c}\n```\n");
	cr_assert_null(val("f"));
	cr_assert_null(val("g"), "a block closed by a shorter fence runs on");
	cr_assert_null(val("h"), "a backtick fence's info string has no backtick");
}

/* ConfigMaps' data and binaryData, in the documents that hold one of the offsets asked
 * about only. */
Test(k8s_reader, configmaps_where_asked)
{
	const char *t = "kind: ConfigMap\ndata:\n  a: eA==\nbinaryData:\n  b: eQ==\n---\n"
			"kind: ConfigMap\ndata:\n  c: eg==\n---\n"
			"apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  data: {d: dw==}\n"
			"- kind: Secret\n  data: {e: dg==}\n---\n"
			"apiVersion: v2\nkind: ConfigMap\ndata:\n  f: dQ==\n";
	size_t offs[] = { (size_t)(strstr(t, "eA==") - t), (size_t)(strstr(t, "dw==") - t),
			  (size_t)(strstr(t, "dQ==") - t) };
	k8s_values_release(&vals);
	cr_assert_eq(k8s_read_configmaps(t, strlen(t), offs, 3, &vals), 0);
	cr_assert_eq(vals.n, 3, "%zu values", vals.n);
	cr_assert_eq(val("a")->field, K8S_CONFIGMAP_DATA);
	cr_assert_eq(val("b")->field, K8S_CONFIGMAP_BINARY);
	at(t, "b", "eQ==");
	cr_assert_null(val("c"), "no offset asked about in its document");
	cr_assert_not_null(val("d"));
	cr_assert_null(val("e"), "a Secret is no ConfigMap");
	cr_assert_null(val("f"), "not the core API's");
}

Test(k8s_reader, aliases_merges_and_depth)
{
	rd("kind: Secret\nmetadata:\n  annotations:\n    x: &pw c2VjcmV0\n"
	   "data:\n  a: *pw\n  *pw : eA==\n");
	cr_assert_null(vals.incomplete);
	cr_assert_eq(vals.n, 2);
	cr_assert_str_eq(val("a")->text, "c2VjcmV0");
	cr_assert_not_null(val("c2VjcmV0"));
	/* What the reader does not follow in a Secret makes the file incomplete. */
	rd("base: &b\n  a: c2VjcmV0\n---\nkind: Secret\ndata:\n  <<: {a: c2VjcmV0}\n");
	cr_assert_not_null(vals.incomplete);
	rd("x: &m {a: b}\nkind: Secret\ndata: *m\n");
	cr_assert_not_null(vals.incomplete);
	rd("kind: Secret\ndata:\n  a: *nowhere\n");
	cr_assert_not_null(vals.incomplete);
	/* ... but not in another kind. */
	rd("x: &m {a: b}\nkind: ConfigMap\ndata: *m\nnote: kind: Secret\n");
	cr_assert_null(vals.incomplete);
	/* Deep block nesting is skipped in constant memory. */
	size_t depth = 1000, w = 0;
	char *deep = xcalloc(depth * (depth + 4) + 64, 1);
	w += (size_t)sprintf(deep, "kind: Secret\nx:\n");
	for (size_t i = 1; i <= depth; i++) {
		memset(deep + w, ' ', i);
		w += i;
		w += (size_t)sprintf(deep + w, "a:\n");
	}
	strcpy(deep + w, "data:\n  a: eA==\n");
	rd(deep);
	cr_assert_null(vals.incomplete);
	cr_assert_not_null(val("a"));
	free(deep);
	/* Deep flow nesting would take libyaml quadratic time: the file is incomplete. */
	depth = 100000;
	deep = xcalloc(2 * depth + 64, 1);
	static const char head[] = "kind: Secret\nx: ";
	memcpy(deep, head, sizeof(head) - 1);
	w = sizeof(head) - 1;
	memset(deep + w, '[', depth);
	memset(deep + w + depth, ']', depth);
	strcpy(deep + w + 2 * depth, "\ndata:\n  a: eA==\n");
	rd(deep);
	cr_assert_not_null(vals.incomplete);
	cr_assert(strstr(vals.incomplete, "nested"));
	free(deep);
	/* ... 16 levels are read. */
	rd("kind: Secret\nx: [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]\n"
	   "data: {a: eA==, b: [x]}\n");
	cr_assert_null(vals.incomplete);
	cr_assert_not_null(val("a"));
}

/* ---------- caps ---------- */

struct big {
	char *v;
	size_t n, cap;
};

static void put(struct big *b, const char *s)
{
	size_t l = strlen(s);
	GROW(b->v, b->cap, b->n + l + 1);
	memcpy(b->v + b->n, s, l + 1);
	b->n += l;
}

/* Lines "  k<i>: <value>" for i from 0 to n - 1. */
static void put_entries(struct big *b, int n, const char *value)
{
	for (int i = 0; i < n; i++) {
		char line[64];
		snprintf(line, sizeof(line), "  k%d: %s\n", i, value);
		put(b, line);
	}
}

Test(k8s_reader, caps_make_the_file_incomplete)
{
	struct big b = { 0 };
	/* Documents with a kind: Secret line. */
	for (int i = 0; i <= K8S_MAX_DOCS; i++) {
		put(&b, "kind: Secret\n---\n");
	}
	rd(b.v);
	cr_assert_not_null(vals.incomplete);
	cr_assert(strstr(vals.incomplete, "documents"));
	b.n = 0;
	for (int i = 0; i < K8S_MAX_DOCS; i++) {
		put(&b, "kind: Secret\n---\n");
	}
	for (int i = 0; i < 100; i++) {
		put(&b, "kind: ConfigMap\n---\n"); /* not parsed: not counted */
	}
	rd(b.v);
	cr_assert_null(vals.incomplete);
	/* Bytes of the documents parsed. */
	b.n = 0;
	put(&b, "kind: Secret\nmetadata:\n  x: ");
	GROW(b.v, b.cap, b.n + K8S_MAX_PARSED + 16);
	memset(b.v + b.n, 'a', K8S_MAX_PARSED);
	b.n += K8S_MAX_PARSED;
	put(&b, "\n");
	rd(b.v);
	cr_assert_not_null(vals.incomplete);
	cr_assert(strstr(vals.incomplete, "8 MiB of YAML"), "%s", vals.incomplete);
	/* Entries of the file. */
	b.n = 0;
	put(&b, "kind: Secret\ndata:\n");
	put_entries(&b, K8S_MAX_ENTRIES + 1, "eA==");
	rd(b.v);
	cr_assert_not_null(vals.incomplete);
	cr_assert(strstr(vals.incomplete, "entries"));
	cr_assert_eq(vals.n, K8S_MAX_ENTRIES, "the entries below the cap are kept");
	/* ... which a ConfigMap may have. */
	memcpy(b.v + 6, "Config", 6);
	rd(b.v);
	cr_assert_null(vals.incomplete);
	/* The size of a value. */
	b.n = 0;
	put(&b, "kind: Secret\ndata:\n  big: ");
	GROW(b.v, b.cap, b.n + K8S_MAX_VALUE + 16);
	memset(b.v + b.n, 'A', K8S_MAX_VALUE + 4);
	b.n += K8S_MAX_VALUE + 4;
	put(&b, "\n");
	rd(b.v);
	cr_assert_not_null(vals.incomplete);
	cr_assert(strstr(vals.incomplete, "1 MiB"));
	cr_assert_eq(vals.n, 0);
	/* The values of a file: an alias repeats its anchor's text. */
	b.n = 0;
	put(&b, "kind: Secret\nmetadata:\n  x: &v ");
	GROW(b.v, b.cap, b.n + K8S_MAX_VALUE);
	memset(b.v + b.n, 'A', K8S_MAX_VALUE - 8);
	b.n += K8S_MAX_VALUE - 8;
	put(&b, "\ndata:\n");
	put_entries(&b, 20, "*v");
	rd(b.v);
	cr_assert_not_null(vals.incomplete);
	cr_assert(strstr(vals.incomplete, "16 MiB"));
	cr_assert_leq(vals.bytes, K8S_MAX_TOTAL);
	free(b.v);
}

/* ---------- the scan ---------- */

TestSuite(k8s_scan, .init = setup, .fini = teardown);

static void scan_n(const char *text, size_t len)
{
	finding_list_release(&fl);
	finding_list_init(&fl);
	cr_assert_eq(secrets_scan(sc, "deploy/secret.yaml", text, len, NULL, &fl, NULL), 0);
}

static void scan(const char *text)
{
	scan_n(text, strlen(text));
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = xcalloc(n / 3 * 4 + 8, 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* Scan a Secret whose data holds plain, base64-encoded, under key. */
static void scan_data(const char *key, const char *plain)
{
	char *enc = b64(plain);
	char *text = xasprintf("kind: Secret\ndata:\n  %s: %s\n", key, enc);
	scan(text);
	free(text);
	free(enc);
}

static const struct finding *on_line(unsigned line)
{
	for (size_t i = 0; i < fl.n; i++) {
		if (fl.v[i].line == line) {
			return &fl.v[i];
		}
	}
	return NULL;
}

static size_t count_rule(const char *id)
{
	size_t n = 0;
	for (size_t i = 0; i < fl.n; i++) {
		n += str_eq(fl.v[i].rule_id, id);
	}
	return n;
}

Test(k8s_scan, data_and_string_data_values_are_findings_at_their_place)
{
	const char *pw = "Wq8mZ2vLr4Tx9eKp";
	char *enc = b64(pw);
	char *text = xasprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
			       "type: Opaque\ndata:\n  db-pass: %s\n"
			       "stringData:\n  \"api key\": 'Zk3kq9XnV0aP'\n",
			       enc);
	scan(text);
	cr_assert_eq(fl.n, 2);
	const struct finding *f = on_line(7);
	cr_assert_not_null(f);
	cr_assert_str_eq(f->rule_id, "secret.kubernetes-secret");
	cr_assert_eq(f->severity, SEVERITY_HIGH);
	cr_assert_eq(f->column, 12);
	cr_assert_eq(f->end_column, 12 + strlen(enc));
	char red[64];
	secrets_redact(pw, strlen(pw), red, sizeof(red));
	char *want = xasprintf("Kubernetes Secret value found in data 'db-pass': %s", red);
	cr_assert_str_eq(f->message, want, "%s", f->message);
	char *snip = xasprintf("db-pass: %s", red);
	cr_assert_str_eq(f->snippet, snip);
	free(snip);
	f = on_line(9);
	cr_assert_not_null(f);
	cr_assert_eq(f->column, 15);
	cr_assert_not_null(strstr(f->message, "in stringData 'api?key'"), "%s", f->message);
	never_in_clear(pw);
	never_in_clear(enc);
	never_in_clear("Zk3kq9XnV0aP");
	free(want);
	free(text);
	free(enc);
}

/* A token inside a data value is reported as that token, once, at the value's place;
 * its generic and structural duplicates are not. Two tokens in one value are two. */
Test(k8s_scan, decoded_data_is_read_by_the_provider_rules)
{
	const char *tok = "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo";
	const char *slack = "xoxb-2648129373-4821347891-Rk8Qw3Zp7Lm2Vx9Nt4Bc6Hy1";
	char *one = b64(tok);
	char *conf = xasprintf("github=%s\nslack=%s\n", tok, slack);
	char *two = b64(conf);
	char *text = xasprintf("kind: Secret\ndata:\n  token: %s\n  conf: %s\n", one, two);
	scan(text);
	const struct finding *f = on_line(3);
	cr_assert_not_null(f);
	cr_assert_str_eq(f->rule_id, "secret.github-pat");
	cr_assert_eq(f->severity, SEVERITY_CRITICAL);
	cr_assert_eq(f->column, 10);
	cr_assert_not_null(strstr(f->message, "in data 'token' (base64-decoded): ghp_...(sha256:"),
			   "%s", f->message);
	cr_assert_eq(count_rule("secret.github-pat"), 2);
	cr_assert_eq(count_rule("secret.slack-token"), 1);
	cr_assert_eq(count_rule("secret.kubernetes-secret"), 0);
	cr_assert_eq(count_rule("secret.generic-unquoted-assignment"), 0);
	cr_assert_eq(fl.n, 3);
	/* The two on line 4 differ: each has its own redacted form and fingerprint. */
	const struct finding *a = NULL, *b = NULL;
	for (size_t i = 0; i < fl.n; i++) {
		if (fl.v[i].line == 4) {
			*(a ? &b : &a) = &fl.v[i];
		}
	}
	cr_assert_not_null(b);
	cr_assert_str_neq(a->fingerprint, b->fingerprint);
	never_in_clear(tok);
	never_in_clear(slack);
	never_in_clear(one);
	never_in_clear(two);
	free(text);
	free(two);
	free(conf);
	free(one);
}

/* Placeholders (decoded first), templates, empty values and certificates are not
 * findings, and the generic rules' matches of their base64 go with them. */
Test(k8s_scan, placeholders_are_not_findings)
{
	static const char *const placeholders[] = {
		"changeme",	    "${DB_PASSWORD}",
		"$(DB_PASSWORD)",   "<changeme>",
		"REPLACE_ME",	    "xxx",
		"xxxxxxxxxxxx",	    "{{ .Values.password }}",
		"  changeme\n",	    "your-database-password",
		"CHANGE_ME_PLEASE", "#{DbPassword}#",
		"((db_password))",  "@DB_PASSWORD@",
	};
	for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++) {
		char *enc = b64(placeholders[i]);
		char *text = xasprintf("kind: Secret\ndata:\n  password: %s\n"
				       "stringData:\n  api_token: \"%s\"\n",
				       enc, placeholders[i]);
		scan(text);
		cr_assert_eq(fl.n, 0, "'%s': %zu findings, the first %s: %s", placeholders[i], fl.n,
			     fl.n ? fl.v[0].rule_id : "", fl.n ? fl.v[0].message : "");
		free(text);
		free(enc);
	}
	/* A placeholder to this rule may hold a secret that another rule knows. */
	scan("kind: Secret\nstringData:\n"
	     "  DATABASE_URL: postgres://app:Lr5Xq8Wm3Nz6@db:5432/app?sslmode=${SSL_MODE}\n");
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].rule_id, "secret.database-url-password");
	scan("kind: Secret\ndata:\n  a: \"\"\n  b: \"   \"\n  c:\n  d: {{ .Values.d | b64enc }}\n"
	     "stringData:\n  e: ''\n  f: {{ .Values.f }}\n  g: \"{{ .Values.g | quote }}\"\n");
	cr_assert_eq(fl.n, 0);
	const char *crt =
		"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYk3bX8mN2vQ7pL4rT9zW1xE5cH"
		"8wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n";
	scan_data("ca.crt", crt);
	cr_assert_eq(fl.n, 0, "a certificate was reported: %s", fl.n ? fl.v[0].message : "");
	scan_data("ca.crt", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU");
	cr_assert_eq(fl.n, 0, "a truncated certificate was reported");
	/* A certificate with its key is no certificate alone. */
	char *both = xasprintf("%s-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw"
			       "ggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
			       crt);
	scan_data("bundle.pem", both);
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].rule_id, "secret.private-key");
	free(both);
	/* A real value beside them still is one. */
	scan_data("password", "pX7mQ2vL9tR4");
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].rule_id, "secret.kubernetes-secret");
}

/* What does not decode is still reported, as written; what decodes to bytes that are no
 * text is reported without being read by the other rules. */
Test(k8s_scan, undecodable_and_binary_values_fail_closed)
{
	scan("kind: Secret\ndata:\n  password: hunter2-not-base64\n  bin: AP8+/wABAgMEBQYH\n");
	cr_assert_eq(fl.n, 2);
	const struct finding *f = on_line(3);
	cr_assert_not_null(f);
	cr_assert_not_null(strstr(f->message, "in data 'password' (not valid base64): "), "%s",
			   f->message);
	cr_assert_not_null(on_line(4));
	never_in_clear("hunter2-not-base64");
	never_in_clear("AP8+/wABAgMEBQYH");
}

/* A SealedSecret's ciphertext is meant to be committed: the generic rule's match of it
 * goes. A value in clear written there is no ciphertext and stays what the rules say. */
Test(k8s_scan, sealed_secrets_are_not_findings)
{
	unsigned char raw[120];
	for (size_t i = 0; i < sizeof(raw); i++) {
		raw[i] = (unsigned char)(i * 97 + 13);
	}
	char ct[256];
	EVP_EncodeBlock((unsigned char *)ct, raw, sizeof(raw));
	char *text = xasprintf("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
			       "spec:\n  encryptedData:\n    password: %s\n",
			       ct);
	scan(text);
	cr_assert_eq(fl.n, 0, "%s: %s", fl.n ? fl.v[0].rule_id : "", fl.n ? fl.v[0].message : "");
	/* Without kind: SealedSecret, the generic rule reports the same line. */
	memcpy(strstr(text, "SealedSecret"), "SealedSecreX", 12);
	scan(text);
	cr_assert_eq(count_rule("secret.generic-unquoted-assignment"), 1);
	free(text);
	scan("kind: SealedSecret\nspec:\n  encryptedData:\n    password: Lr5Xq8Wm3Nz6Kp\n");
	cr_assert_eq(count_rule("secret.generic-unquoted-assignment"), 1);
}

/* A kustomize secretGenerator's literal is a Secret's value: reported at the value, with
 * its key; placeholders are not. */
Test(k8s_scan, secret_generator_literals_are_findings)
{
	const char *text = "kind: Kustomization\n"
			   "secretGenerator:\n"
			   "- name: db\n"
			   "  literals:\n"
			   "  - DB_PASSWORD=Wq8mZ2vLr4Tx9eKp\n"
			   "  - API_TOKEN=${API_TOKEN}\n"
			   "  - SMTP_PASSWORD=changeme\n"
			   "  - GH=ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\n"
			   "configMapGenerator:\n"
			   "- name: settings\n"
			   "  literals: [SESSION_SECRET_NAME=Lr5Xq8Wm3Nz6]\n";
	scan(text);
	cr_assert_eq(fl.n, 2, "%zu findings", fl.n);
	const struct finding *f = on_line(5);
	cr_assert_not_null(f);
	cr_assert_str_eq(f->rule_id, "secret.kubernetes-secret");
	cr_assert_eq(f->column, 17);
	cr_assert_eq(f->end_column, 33);
	char red[64];
	secrets_redact("Wq8mZ2vLr4Tx9eKp", 16, red, sizeof(red));
	char *want = xasprintf(
		"Kubernetes Secret value found in secretGenerator literal 'DB_PASSWORD': %s", red);
	cr_assert_str_eq(f->message, want, "%s", f->message);
	free(want);
	f = on_line(8);
	cr_assert_not_null(f);
	cr_assert_str_eq(f->rule_id, "secret.github-pat", "the provider rule reports its token");
	never_in_clear("Wq8mZ2vLr4Tx9eKp");
}

/* The files the reader below holds: a path, what it reads (content, or size bytes of
 * lines), or an error. It keeps the paths it was asked for. */
struct fake_file {
	const char *path;
	const char *content;
	int err;
	size_t size;
};

static const struct fake_file *fake;
static size_t n_fake;
static char asked[300][128];
static size_t n_asked;

static int fake_read(void *ud, const char *path, size_t max, char **data, size_t *len)
{
	cr_assert_eq(ud, &fake);
	if (n_asked < sizeof(asked) / sizeof(asked[0])) {
		snprintf(asked[n_asked++], sizeof(asked[0]), "%s", path);
	}
	for (size_t i = 0; i < n_fake; i++) {
		const struct fake_file *f = &fake[i];
		if (!str_eq(f->path, path)) {
			continue;
		}
		if (f->err) {
			return f->err;
		}
		size_t n = f->content ? strlen(f->content) : f->size;
		if (n > max) {
			return -EFBIG;
		}
		*data = xmalloc(n + 1);
		for (size_t k = 0; k < n; k++) {
			(*data)[k] = f->content ? f->content[k] : "Qz7Lw3Xk9Rv2Tn5\n"[k % 16];
		}
		(*data)[n] = '\0';
		*len = n;
		return 0;
	}
	return -ENOENT;
}

static void scan_files(const char *path, const char *text, const struct fake_file *files, size_t n)
{
	fake = files;
	n_fake = n;
	n_asked = 0;
	secrets_scratch_set_reader(sc, fake_read, &fake);
	finding_list_release(&fl);
	finding_list_init(&fl);
	cr_assert_eq(secrets_scan(sc, path, text, strlen(text), NULL, &fl, NULL), 0);
}

static bool was_asked(const char *path)
{
	for (size_t i = 0; i < n_asked; i++) {
		if (str_eq(asked[i], path)) {
			return true;
		}
	}
	return false;
}

/* A secretGenerator's file that holds a bare credential is its Secret's value: reported
 * at the entry that names it, the path in the message, the value never in clear. */
Test(k8s_scan, secret_generator_files_holding_a_credential_are_findings)
{
	static const struct fake_file files[] = {
		{ "deploy/db-password.txt", "s3cr3tP4ss-Kq9w\n", 0, 0 },
		{ "deploy/secrets/api-token.txt", "\xef\xbb\xbf  Tz8Qm3Wx6Lp2Rk9Vn4Hb \r\n", 0, 0 },
	};
	const char *text = "kind: Kustomization\n"
			   "secretGenerator:\n"
			   "- name: db\n"
			   "  files:\n"
			   "  - db-password.txt\n"
			   "  - token=./secrets//api-token.txt\n";
	scan_files("deploy/kustomization.yaml", text, files, 2);
	cr_assert_eq(fl.n, 2, "%zu findings", fl.n);
	const struct finding *f = on_line(5);
	cr_assert_not_null(f);
	cr_assert_str_eq(f->rule_id, "secret.kubernetes-secret");
	cr_assert_eq(f->column, 5);
	cr_assert_eq(f->end_column, 5 + strlen("db-password.txt"));
	char red[64];
	secrets_redact("s3cr3tP4ss-Kq9w", 15, red, sizeof(red));
	char *want = xasprintf(
		"Kubernetes Secret value found in secretGenerator file 'db-password.txt': %s", red);
	cr_assert_str_eq(f->message, want, "%s", f->message);
	cr_assert_str_eq(f->snippet, "- db-password.txt", "the entry is no secret: %s", f->snippet);
	free(want);
	f = on_line(6);
	cr_assert_not_null(f);
	cr_assert_eq(f->column, 11, "at the path, after its key");
	cr_assert_not_null(strstr(f->message, "file './secrets//api-token.txt'"), "%s", f->message);
	cr_assert(was_asked("deploy/secrets/api-token.txt"), "asked for %s", asked[1]);
	never_in_clear("s3cr3tP4ss-Kq9w");
	never_in_clear("Tz8Qm3Wx6Lp2Rk9Vn4Hb");
	/* Without a reader (the default), nothing is read. */
	secrets_scratch_set_reader(sc, NULL, NULL);
	finding_list_release(&fl);
	finding_list_init(&fl);
	cr_assert_eq(
		secrets_scan(sc, "deploy/kustomization.yaml", text, strlen(text), NULL, &fl, NULL),
		0);
	cr_assert_eq(fl.n, 0);
	/* A scanned file at the top: the path is the entry's. */
	scan_files("kustomization.yaml", text,
		   (const struct fake_file[]){ { "db-password.txt", "s3cr3tP4ss-Kq9w", 0, 0 } }, 1);
	cr_assert_eq(fl.n, 1);
	cr_assert(was_asked("db-password.txt"));
}

/* Only a file below the kustomization's directory is asked for: not an absolute path, a
 * `..`, a URL; and what is no bare credential is not reported: a file of several lines
 * or words (a public key), a name, a number, a word, a URL, a path, a placeholder, and a
 * token another rule knows (it reports it where the file is, which the scan reads). */
Test(k8s_scan, secret_generator_files_that_are_no_bare_credential)
{
	static const struct fake_file files[] = {
		{ "k/multi.txt", "Tz8Qm3Wx6Lp2Rk9V\nLr5Xq8Wm3Nz6Kp2\n", 0, 0 },
		{ "k/id_ed25519.pub",
		  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7pQm3Wx6Lp2Rk9Vn4HbTz8Qm3Wx6 ci\n", 0, 0 },
		{ "k/user.txt", "app_user\n", 0, 0 },
		{ "k/host.txt", "db.internal.example\n", 0, 0 },
		{ "k/account.txt", "123456789012\n", 0, 0 },
		{ "k/date.txt", "2024-05-01\n", 0, 0 },
		{ "k/word.txt", "production\n", 0, 0 },
		{ "k/short.txt", "Xq9v2Lk\n", 0, 0 },
		{ "k/same.txt", "abababababababab\n", 0, 0 },
		{ "k/url.txt", "https://vault.example.com/v1/secret\n", 0, 0 },
		{ "k/path.txt", "/run/secrets/db-password\n", 0, 0 },
		{ "k/placeholder.txt", "${DB_PASSWORD}\n", 0, 0 },
		{ "k/changeme.txt", "CHANGE_ME_PLEASE\n", 0, 0 },
		{ "k/github.txt", "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo\n", 0, 0 },
		{ "k/binary.txt", "Tz8Qm3\xff\xfeWx6Lp2", 0, 0 },
		{ "k/empty.txt", "", 0, 0 },
		{ "outside.txt", "Vx7Nq2Lk9Rz4Wm6P", 0, 0 },
		{ "/etc/pw.txt", "Vx7Nq2Lk9Rz4Wm6P", 0, 0 },
		{ "k/big.txt", NULL, 0, SECRETS_MAX_FILE_VALUE + 1 },
	};
	const char *text =
		"secretGenerator:\n"
		"- name: db\n"
		"  files: [multi.txt, id_ed25519.pub, user.txt, host.txt, account.txt,\n"
		"    date.txt, word.txt, short.txt, same.txt, url.txt, path.txt,\n"
		"    placeholder.txt, changeme.txt, github.txt, binary.txt, empty.txt,\n"
		"    ../outside.txt, /etc/pw.txt, a/../outside.txt, big.txt,\n"
		"    'https://example.com/pw.txt', \"x{{ .Values.pw }}\", missing.txt]\n";
	scan_files("k/kustomization.yaml", text, files, sizeof(files) / sizeof(files[0]));
	for (size_t i = 0; i < fl.n; i++) {
		cr_assert_fail("%s:%u: %s", fl.v[i].rule_id, fl.v[i].line, fl.v[i].message);
	}
	cr_assert(was_asked("k/user.txt"));
	cr_assert(was_asked("k/missing.txt"));
	for (size_t i = 0; i < n_asked; i++) {
		cr_assert(str_has_prefix(asked[i], "k/") && !strstr(asked[i], ".."), "asked for %s",
			  asked[i]);
		cr_assert(!strstr(asked[i], "example.com") && !strstr(asked[i], "Values"),
			  "asked for %s", asked[i]);
	}
	cr_assert_eq(n_asked, 18, "%zu asked", n_asked);
}

/* A file the reader cannot read, and more than SECRETS_MAX_FILES_READ bytes of files, make
 * the kustomization not evaluated completely: a Secret's value may be there. */
Test(k8s_scan, secret_generator_files_past_a_cap_or_unreadable_are_incomplete)
{
	static const struct fake_file io[] = { { "k/pw.txt", NULL, -EIO, 0 } };
	scan_files("k/kustomization.yaml", "secretGenerator:\n- files: [pw.txt]\n", io, 1);
	cr_assert_eq(fl.n, 1);
	cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
	cr_assert_str_eq(fl.v[0].rule_id, "secret.kubernetes-secret");
	cr_assert_not_null(strstr(fl.v[0].message, "could not be read"), "%s", fl.v[0].message);
	static const struct fake_file big[] = {
		{ "k/big.txt", NULL, 0, SECRETS_MAX_FILE_VALUE },
		{ "k/pw.txt", "s3cr3tP4ss-Kq9w", 0, 0 },
	};
	struct sbuf_lite {
		char *v;
		size_t n, cap;
	} b = { 0 };
	size_t reads = SECRETS_MAX_FILES_READ / SECRETS_MAX_FILE_VALUE;
	const char *head = "secretGenerator:\n- files:\n  - pw.txt\n";
	GROW(b.v, b.cap, strlen(head) + (reads + 1) * 14 + 1);
	b.n = (size_t)snprintf(b.v, b.cap, "%s", head);
	for (size_t i = 0; i < reads; i++) {
		b.n += (size_t)snprintf(b.v + b.n, b.cap - b.n, "  - big.txt\n");
	}
	scan_files("k/kustomization.yaml", b.v, big, 2);
	cr_assert_eq(fl.n, 1, "at the cap, not past it: %zu", fl.n);
	cr_assert_not_null(on_line(3));
	b.n += (size_t)snprintf(b.v + b.n, b.cap - b.n, "  - big.txt\n");
	scan_files("k/kustomization.yaml", b.v, big, 2);
	cr_assert_eq(fl.n, 2, "%zu findings", fl.n);
	const struct finding *inc = on_line(1);
	cr_assert_not_null(inc);
	cr_assert(json_is_true(json_object_get(inc->extra, "incomplete")));
	cr_assert_not_null(strstr(inc->message, "8 MiB"), "%s", inc->message);
	cr_assert_not_null(on_line(3), "what was read before is still reported");
	cr_assert_eq(n_asked, reads + 1, "nothing is read past the cap: %zu", n_asked);
	free(b.v);
}

/* A key that holds a secret is not quoted in the message. */
Test(k8s_scan, a_key_that_is_a_secret_is_not_quoted)
{
	const char *tok = "ghp_R8tA3kPq7ZxW1mNv5LcJ2hYs9dFg4BeT6uQo";
	char *text = xasprintf("kind: Secret\nstringData:\n  %s: Lr5Xq8Wm3Nz6\n"
			       "  long-%0100d: Lr5Xq8Wm3Nz6\n",
			       tok, 7);
	scan(text);
	never_in_clear(tok);
	const struct finding *f = on_line(4);
	cr_assert_not_null(f);
	cr_assert_lt(strlen(f->message), 200, "%s", f->message);
	free(text);
}

/* Positions count as the other rules' do: after a byte order mark, in code points, CRLF
 * and lone CR line ends. */
Test(k8s_scan, positions_with_bom_crlf_and_utf8)
{
	const char text[] = "\xef\xbb\xbfkind: Secret\r\nmetadata: {name: \"\xc3\xa9\"}\r\n"
			    "stringData: {\"\xc3\xa9\xc3\xa9\": Lr5Xq8Wm3Nz6}\r\n";
	scan_n(text, sizeof(text) - 1);
	cr_assert_eq(fl.n, 1);
	cr_assert_eq(fl.v[0].line, 3);
	cr_assert_eq(fl.v[0].column, 20);
	cr_assert_eq(fl.v[0].end_column, 32);
}

/* Past a cap, the file is reported under the rule as not evaluated completely, with the
 * reason; what was read before is still reported. */
Test(k8s_scan, a_file_past_a_cap_is_incomplete)
{
	struct big b = { 0 };
	put(&b, "kind: Secret\ndata:\n  first: TGI1WHE4V20zTno2\n");
	put_entries(&b, K8S_MAX_ENTRIES, "Y2hhbmdlbWU="); /* changeme */
	scan(b.v);
	cr_assert_eq(fl.n, 2);
	const struct finding *inc = on_line(1);
	cr_assert_not_null(inc);
	cr_assert(json_is_true(json_object_get(inc->extra, "incomplete")));
	cr_assert_str_eq(inc->rule_id, "secret.kubernetes-secret");
	cr_assert_not_null(strstr(inc->message, "more than 10000 entries"), "%s", inc->message);
	cr_assert_not_null(on_line(3));
	/* Decoded bytes: an anchor of 3/4 MiB decoded, its alias the value of 12 entries. */
	b.n = 0;
	put(&b, "kind: Secret\nmetadata:\n  x: &v ");
	size_t chunk = 1000000; /* base64 characters, a multiple of 4 */
	GROW(b.v, b.cap, b.n + chunk + 2);
	for (size_t k = 0; k < chunk; k++) {
		b.v[b.n + k] = "QUJD"[k % 4];
	}
	b.n += chunk;
	put(&b, "\ndata:\n");
	put_entries(&b, 12, "*v");
	scan(b.v);
	bool incomplete = false;
	for (size_t i = 0; i < fl.n; i++) {
		incomplete |= json_is_true(json_object_get(fl.v[i].extra, "incomplete")) &&
			      strstr(fl.v[i].message, "decoded") != NULL;
	}
	cr_assert(incomplete, "the decoded cap was not reported");
	free(b.v);
}

/* ---------- the rule ---------- */

static int load(const char *doc, struct diag_list *dl)
{
	struct ruleset *own = ruleset_new(RULE_SECRET);
	int r = ruleset_load_buffer(own, "t.yml", doc, strlen(doc), dl);
	if (r == 0) {
		r = ruleset_finish(own, dl);
	}
	ruleset_free(own);
	return r;
}

/* A rule with `structure` has keywords and no regex; the one structure known is
 * kubernetes-secret. */
Test(k8s_rule, structure_rules_are_checked)
{
	static const char head[] = "kind: secrets\nrules:\n  - id: t.k\n    severity: high\n"
				   "    message: m\n    keywords: [secret]\n";
	static const char *const bad[] = {
		"    structure: helm-values\n",
		"    structure: kubernetes-secret\n    regex: 'x'\n",
		"    structure: kubernetes-secret\n    entropy: 3\n",
		"    structure: kubernetes-secret\n    multiline: true\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct diag_list dl;
		diag_list_init(&dl, 10);
		char *doc = xasprintf("%s%s", head, bad[i]);
		cr_assert_eq(load(doc, &dl), -EINVAL, "%s", doc);
		free(doc);
		diag_list_release(&dl);
	}
	struct diag_list dl;
	diag_list_init(&dl, 10);
	char *doc = xasprintf("%s    structure: kubernetes-secret\n    allow: ['^x+$']\n", head);
	cr_assert_eq(load(doc, &dl), 0);
	free(doc);
	doc = xasprintf("kind: secrets\nrules:\n  - id: t.k\n    severity: high\n"
			"    message: m\n    structure: kubernetes-secret\n");
	cr_assert_eq(load(doc, &dl), -EINVAL, "keywords are needed");
	free(doc);
	diag_list_release(&dl);
}

/* A pack of its own: the rule's allow entries are its placeholders, and its severity is
 * what the gate sees. */
Test(k8s_rule, a_pack_of_ones_own)
{
	const char *doc = "kind: secrets\nrules:\n  - id: team.k8s\n    severity: critical\n"
			  "    message: Secret value\n    keywords: [secret]\n"
			  "    structure: kubernetes-secret\n    allow: ['^dev-']\n";
	struct diag_list dl;
	diag_list_init(&dl, 10);
	struct ruleset *own = ruleset_new(RULE_SECRET);
	cr_assert_eq(ruleset_load_buffer(own, "t.yml", doc, strlen(doc), &dl) ||
			     ruleset_finish(own, &dl),
		     0, "the pack does not load");
	diag_list_release(&dl);
	struct secrets_scratch *s = secrets_scratch_new(own);
	struct finding_list out;
	finding_list_init(&out);
	const char *text = "kind: Secret\nstringData:\n  a: dev-only\n  b: Lr5Xq8Wm3Nz6\n";
	cr_assert_eq(secrets_scan(s, "s.yaml", text, strlen(text), NULL, &out, NULL), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.v[0].rule_id, "team.k8s");
	cr_assert_eq(out.v[0].severity, SEVERITY_CRITICAL);
	cr_assert_eq(out.v[0].line, 4);
	cr_assert_not_null(strstr(out.v[0].message, "Secret value in stringData 'b': "));
	finding_list_release(&out);
	secrets_scratch_free(s);
	ruleset_free(own);
}
