/*
 * container_push.c - the `container-push` kind: build an OCI image reproducibly from
 * files of the workspace and push it to a registry.
 *
 *   image:
 *     needs: [test, sast, secrets, deps]
 *     uses: container-push
 *     secrets: [registry]
 *     with:
 *       base: scratch            # or an OCI layout in the workspace, or name@sha256:...
 *       add: { build/app: /usr/local/bin/app, assets/: /srv/assets/ }
 *       entrypoint: [/usr/local/bin/app]
 *       image: 127.0.0.1:5000/acme/webapp
 *       tags: ["${RUNNER_COMMIT_SHORT}", latest]
 *       credentials: registry    # a secret listed in `secrets:`; user:password
 *
 * The image library is stages/oci (shared with `runner image`); this file only maps
 * `with:` onto it, checks `with:` at validation time, and reports the result. The kind
 * carries STAGE_KIND_PUSH: the pipeline loader refuses it unless it sits behind the
 * security stages (or says `ungated:`), and the engine starts it only when every security
 * stage upstream passed (runner/pushgate.c).
 *
 * Credentials: `credentials: NAME` must name a secret the stage lists in `secrets:`, so
 * the stage receives it the ordinary way (as the variable NAME in upper case) and the
 * runner masks it in everything it writes; the oci library masks it again, with the
 * tokens it obtains, in its own progress and debug lines.
 */
#include "secscan.h"
#include "stage.h"

#include "diag.h"
#include "err.h"
#include "image.h"
#include "ref.h"
#include "registry.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "banned.h"

#define MAX_ADDS  256
#define MAX_TAGS  64
#define MAX_ITEMS 256

static const char *const with_keys[] = {
	"base",	       "add",	   "entrypoint",  "cmd",      "env",   "user",
	"workdir",     "labels",   "annotations", "platform", "image", "tags",
	"credentials", "insecure", "source",	  "retries",  "jobs",  "debug",
};

/* ---------- validation (the raw `with:` mapping, with positions) ---------- */

static void err_at(const struct stage_check *chk, const struct ynode *n, const char *hint,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void err_at(const struct stage_check *chk, const struct ynode *n, const char *hint,
		   const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(chk->dl, chk->file, n ? n->line : 0, n ? n->col : 0, hint, "stage '%s': %s",
		   chk->stage_name, msg);
}

/* Values with ${...} are checked at run time, after interpolation. */
static bool templated(const char *s)
{
	return s && strstr(s, "${");
}

static const char *text(const struct stage_check *chk, const struct ynode *n, const char *what)
{
	const char *s = ynode_str(n);
	if (!s || n->kind != YNODE_SCALAR) {
		err_at(chk, n, NULL, "with.%s must be a string, not %s", what, ynode_type_name(n));
		return NULL;
	}
	return s;
}

/*
 * A plain scalar YAML reads as an integer reaches the stage as that number: `007` would
 * become "7", `0x10` "16". Refuse those unless quoted, so a value is what was written.
 */
static void check_verbatim(const struct stage_check *chk, const struct ynode *n, const char *what)
{
	int64_t v;
	char canon[32];
	if (!n || n->kind != YNODE_SCALAR || n->is_str || ynode_int(n, &v) < 0) {
		return;
	}
	snprintf(canon, sizeof(canon), "%lld", (long long)v);
	if (!str_eq(canon, n->scalar.s)) {
		char hint[200];
		snprintf(hint, sizeof(hint), "write \"%.100s\" in quotes", n->scalar.s);
		err_at(chk, n, hint, "with.%s: YAML reads %.100s as the number %lld", what,
		       n->scalar.s, (long long)v);
	}
}

static bool rel_path_ok(const char *s)
{
	if (!*s || s[0] == '/' || strlen(s) > OCI_BUILD_MAX_PATH) {
		return false;
	}
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			return false;
		}
		p += n;
		p += *p == '/';
	}
	return true;
}

static bool env_name_ok(const char *s)
{
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_') || strlen(s) > 128) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			return false;
		}
	}
	return true;
}

static void check_string_list(const struct stage_check *chk, const struct ynode *n,
			      const char *what)
{
	if (n->kind != YNODE_SEQ) {
		char hint[200];
		snprintf(hint, sizeof(hint), "write %s: [/usr/local/bin/app, --flag]", what);
		err_at(chk, n, hint, "with.%s must be a list of strings, not %s", what,
		       ynode_type_name(n));
		return;
	}
	if (n->seq.n > MAX_ITEMS) {
		err_at(chk, n, NULL, "with.%s has more than %d entries", what, MAX_ITEMS);
		return;
	}
	for (size_t i = 0; i < n->seq.n; i++) {
		text(chk, n->seq.v[i], what);
		check_verbatim(chk, n->seq.v[i], what);
	}
}

static void check_string_map(const struct stage_check *chk, const struct ynode *n, const char *what,
			     bool env_names)
{
	if (n->kind != YNODE_MAP) {
		char hint[200];
		snprintf(hint, sizeof(hint), "write %s: { NAME: value }", what);
		err_at(chk, n, hint, "with.%s must be a mapping, not %s", what, ynode_type_name(n));
		return;
	}
	if (n->map.n > MAX_ITEMS) {
		err_at(chk, n, NULL, "with.%s has more than %d entries", what, MAX_ITEMS);
		return;
	}
	for (size_t i = 0; i < n->map.n; i++) {
		const struct ynode *k = n->map.v[i].key, *v = n->map.v[i].value;
		if (env_names && !env_name_ok(k->scalar.s)) {
			err_at(chk, k, "use letters, digits and '_', not starting with a digit",
			       "'%.100s' is not a valid environment variable name", k->scalar.s);
		}
		if (!v || v->kind != YNODE_SCALAR || ynode_is_null(v)) {
			err_at(chk, v ? v : k, "quote the value; an empty value is written \"\"",
			       "with.%s.%.100s must be a string, not %s", what, k->scalar.s,
			       ynode_type_name(v));
		}
		check_verbatim(chk, v, what);
	}
}

static void check_base(const struct stage_check *chk, const struct ynode *n)
{
	const char *s = text(chk, n, "base");
	if (!s || templated(s) || str_eq(s, "scratch")) {
		return;
	}
	if (strchr(s, '@')) {
		struct oci_ref ref;
		const char *why;
		if (oci_ref_parse(s, &ref, &why) < 0) {
			err_at(chk, n, NULL, "base '%.200s' is not a valid image reference: %s", s,
			       why);
		}
		return;
	}
	if (strchr(s, ':')) {
		err_at(chk, n, "pin the base by digest: name@sha256:<digest> (a tag can move)",
		       "base '%.200s' looks like an image reference without a digest", s);
		return;
	}
	if (!rel_path_ok(s)) {
		err_at(chk, n,
		       "use scratch, a directory of the workspace holding an OCI layout, or "
		       "name@sha256:<digest>",
		       "base '%.200s' must be a path inside the workspace", s);
	}
}

static void check_add(const struct stage_check *chk, const struct ynode *n)
{
	if (n->kind != YNODE_MAP) {
		err_at(chk, n,
		       "write add: { build/app: /usr/local/bin/app, assets/: /srv/assets/ }",
		       "with.add must be a mapping from workspace paths to image paths, not %s",
		       ynode_type_name(n));
		return;
	}
	if (n->map.n > MAX_ADDS) {
		err_at(chk, n, NULL, "with.add has more than %d entries", MAX_ADDS);
		return;
	}
	for (size_t i = 0; i < n->map.n; i++) {
		const struct ynode *k = n->map.v[i].key, *v = n->map.v[i].value;
		if (!templated(k->scalar.s) && !rel_path_ok(k->scalar.s)) {
			err_at(chk, k, "sources are paths relative to the workspace, without '..'",
			       "add source '%.200s' is outside the workspace", k->scalar.s);
		}
		const char *dest = text(chk, v, "add");
		if (dest && !templated(dest) && !oci_dest_valid(dest)) {
			err_at(chk, v,
			       "write an absolute path in the image, like /usr/local/bin/app (a "
			       "trailing / means into that directory)",
			       "add destination '%.200s' is not a valid absolute path", dest);
		}
	}
}

static void check_image(const struct stage_check *chk, const struct ynode *n)
{
	const char *s = text(chk, n, "image");
	struct oci_ref ref;
	const char *why;
	if (!s || templated(s)) {
		return;
	}
	if (oci_ref_parse(s, &ref, &why) < 0) {
		err_at(chk, n, "write host[:port]/name, like 127.0.0.1:5000/acme/webapp",
		       "image '%.200s' is not a valid image name: %s", s, why);
	} else if (ref.tag[0] || ref.digest[0]) {
		err_at(chk, n, "name the repository in `image:` and list tags in `tags:`",
		       "image '%.200s' must not carry a tag or digest", s);
	}
}

static void check_tags(const struct stage_check *chk, const struct ynode *n)
{
	if (n->kind != YNODE_SEQ) {
		err_at(chk, n, "write tags: [latest, \"${RUNNER_COMMIT_SHORT}\"]",
		       "with.tags must be a list, not %s", ynode_type_name(n));
		return;
	}
	if (n->seq.n > MAX_TAGS) {
		err_at(chk, n, NULL, "with.tags has more than %d entries", MAX_TAGS);
		return;
	}
	for (size_t i = 0; i < n->seq.n; i++) {
		const char *t = text(chk, n->seq.v[i], "tags");
		check_verbatim(chk, n->seq.v[i], "tags");
		if (t && !templated(t) && !oci_tag_valid(t)) {
			err_at(chk, n->seq.v[i],
			       "a tag is 1 to 128 letters, digits, '_', '.' and '-', not starting "
			       "with '.' or '-'",
			       "'%.200s' is not a valid tag", t);
		}
	}
}

static void check_credentials(const struct stage_check *chk, const struct ynode *n)
{
	const char *name = text(chk, n, "credentials");
	if (!name) {
		return;
	}
	const struct ynode *secrets = ynode_get(chk->stage, "secrets");
	bool listed = false;
	for (size_t i = 0; secrets && secrets->kind == YNODE_SEQ && i < secrets->seq.n; i++) {
		listed |= str_eq(ynode_str(secrets->seq.v[i]), name);
	}
	if (!listed) {
		char hint[300];
		snprintf(hint, sizeof(hint),
			 "add `secrets: [%.100s]` to the stage: a stage receives only the secrets "
			 "it "
			 "lists",
			 name);
		err_at(chk, n, hint, "credentials '%.100s' is not one of the stage's secrets",
		       name);
	}
}

static void check_int(const struct stage_check *chk, const struct ynode *n, const char *what,
		      int64_t lo, int64_t hi)
{
	int64_t v;
	if (ynode_int(n, &v) < 0 || v < lo || v > hi) {
		err_at(chk, n, NULL, "with.%s must be a whole number from %lld to %lld", what,
		       (long long)lo, (long long)hi);
	}
}

static int validate(const struct ynode *with, const struct stage_check *chk)
{
	size_t before = chk->dl->errors;
	if (!with) {
		err_at(chk, chk->stage, "add `with: { image: host/name, add: { ... } }`",
		       "container-push needs `with:` naming at least the `image`");
		return -EINVAL;
	}
	for (size_t i = 0; i < with->map.n; i++) {
		const struct ynode *k = with->map.v[i].key, *v = with->map.v[i].value;
		const char *key = k->scalar.s;
		bool known = false;
		for (size_t j = 0; j < ARRAY_SIZE(with_keys) && !known; j++) {
			known = str_eq(key, with_keys[j]);
		}
		if (!known) {
			const char *near = closest_word(key, with_keys, ARRAY_SIZE(with_keys));
			char hint[700];
			if (near) {
				snprintf(hint, sizeof(hint), "did you mean `%s`?", near);
			} else {
				size_t n = (size_t)snprintf(hint, sizeof(hint), "valid keys are: ");
				for (size_t j = 0; j < ARRAY_SIZE(with_keys) && n < sizeof(hint);
				     j++) {
					n += (size_t)snprintf(hint + n, sizeof(hint) - n, "%s%s",
							      j ? ", " : "", with_keys[j]);
				}
			}
			err_at(chk, k, hint, "unknown key '%.100s' in with", key);
			continue;
		}
		if (!v || ynode_is_null(v)) {
			err_at(chk, v ? v : k, NULL, "with.%s has no value", key);
			continue;
		}
		if (str_eq(key, "base")) {
			check_base(chk, v);
		} else if (str_eq(key, "add")) {
			check_add(chk, v);
		} else if (str_eq(key, "entrypoint") || str_eq(key, "cmd")) {
			check_string_list(chk, v, key);
		} else if (str_eq(key, "env")) {
			check_string_map(chk, v, key, true);
		} else if (str_eq(key, "labels") || str_eq(key, "annotations")) {
			check_string_map(chk, v, key, false);
		} else if (str_eq(key, "user") || str_eq(key, "source")) {
			if (v->kind != YNODE_SCALAR) {
				err_at(chk, v, NULL, "with.%s must be a string, not %s", key,
				       ynode_type_name(v));
			}
			check_verbatim(chk, v, key);
		} else if (str_eq(key, "workdir")) {
			const char *w = text(chk, v, key);
			if (w && !templated(w) && w[0] != '/') {
				err_at(chk, v, "write an absolute path, like /srv",
				       "with.workdir "
				       "must be absolute");
			}
		} else if (str_eq(key, "platform")) {
			const char *p = text(chk, v, key);
			if (p && !templated(p) && !oci_platform_valid(p)) {
				err_at(chk, v, "write os/arch or os/arch/variant, like linux/amd64",
				       "platform '%.100s' is not valid", p);
			}
		} else if (str_eq(key, "image")) {
			check_image(chk, v);
		} else if (str_eq(key, "tags")) {
			check_tags(chk, v);
		} else if (str_eq(key, "credentials")) {
			check_credentials(chk, v);
		} else if (str_eq(key, "insecure") || str_eq(key, "debug")) {
			bool b;
			if (ynode_bool(v, &b) < 0) {
				err_at(chk, v, "write true or false",
				       "with.%s must be a boolean, not %s", key,
				       ynode_type_name(v));
			}
		} else if (str_eq(key, "retries")) {
			check_int(chk, v, key, 0, 20);
		} else if (str_eq(key, "jobs")) {
			check_int(chk, v, key, 1, OCI_JOBS_MAX);
		}
	}
	if (!ynode_get(with, "image")) {
		err_at(chk, with, "add `image: host[:port]/name`",
		       "container-push needs `image:`, the repository to push to");
	}
	return chk->dl->errors > before ? -EINVAL : 0;
}

/* ---------- run (inside the worker; `with:` is interpolated JSON) ---------- */

struct push_run {
	struct stage_worker *w;
	json_t *keep; /* strings made from numbers live here */
	struct oci_add *adds;
	size_t n_adds;
	const char **ep, **cmd;
	struct oci_kv *env, *labels, *annotations;
	char *user, *password;
	char *source; /* the repository's URL when `source:` is not given */
	struct oci_ref *refs;
	size_t n_refs;
	json_t *tags;
};

static void on_log(void *ud, const char *line)
{
	(void)ud;
	printf("%s\n", line);
	fflush(stdout);
}

/* A scalar as text: strings as they are, numbers and booleans written out. */
static const char *scalar_text(struct push_run *pr, json_t *v)
{
	if (json_is_string(v)) {
		return json_string_value(v);
	}
	char buf[64];
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
	} else {
		return NULL;
	}
	json_t *s = json_string(buf);
	json_array_append_new(pr->keep, s);
	return json_string_value(s);
}

static int string_vector(struct push_run *pr, json_t *a, const char ***out, size_t *n)
{
	*out = xcalloc(json_array_size(a) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(a); i++) {
		(*out)[i] = scalar_text(pr, json_array_get(a, i));
		if (!(*out)[i]) {
			return -EINVAL;
		}
	}
	*n = json_array_size(a);
	return 0;
}

static int kv_vector(struct push_run *pr, json_t *o, struct oci_kv **out, size_t *n)
{
	const char *k;
	json_t *v;
	*out = xcalloc(json_object_size(o) + 1, sizeof(**out));
	*n = 0;
	json_object_foreach(o, k, v)
	{
		const char *s = scalar_text(pr, v);
		if (!s) {
			return -EINVAL;
		}
		(*out)[(*n)++] = (struct oci_kv){ k, s };
	}
	return 0;
}

static int finish(struct stage_worker *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int finish(struct stage_worker *w, int code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%s\n", msg);
	fflush(stdout);
	json_object_set_new(w->result, "summary", json_string(msg));
	return code;
}

/* The creation time: SOURCE_DATE_EPOCH when the stage has it, else the commit time. */
static int64_t creation_time(void)
{
	const char *names[] = { "SOURCE_DATE_EPOCH", "RUNNER_COMMIT_TIME" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		uint64_t v;
		const char *s = getenv(names[i]);
		if (s && *s && parse_uint(s, INT64_MAX, &v) == 0) {
			return (int64_t)v;
		}
	}
	return 0;
}

static void push_run_release(struct push_run *pr)
{
	free(pr->adds);
	free(pr->ep);
	free(pr->cmd);
	free(pr->env);
	free(pr->labels);
	free(pr->annotations);
	free(pr->refs);
	free(pr->source);
	if (pr->password) {
		explicit_bzero(pr->password, strlen(pr->password));
	}
	free(pr->user);
	free(pr->password);
	json_decref(pr->keep);
	json_decref(pr->tags);
}

static int run(struct stage_worker *w)
{
	json_t *with = w->with;
	struct push_run pr = { .w = w, .keep = json_array(), .tags = json_array() };
	struct oci_build_spec spec = {
		.context = w->workspace,
		.base_confined = true,
		.created = creation_time(),
	};
	struct oci_registry_opts ro = { .log = on_log };
	int code = STAGE_EXIT_PASSED;
	const char *s;
	json_t *v;

	/* Where to push: image + tags. */
	const char *image = json_string_value(json_object_get(with, "image"));
	struct oci_ref target;
	const char *why = "it is missing";
	if (!image || oci_ref_parse(image, &target, &why) < 0 || target.tag[0] ||
	    target.digest[0]) {
		push_run_release(&pr);
		return finish(w, STAGE_EXIT_FAILED, "image '%s' is not a repository name: %s",
			      image ? image : "",
			      target.tag[0] || target.digest[0] ? "it carries a tag or digest"
								: why);
	}
	char name[2 * OCI_NAME_MAX + 2];
	oci_ref_name(&target, name, sizeof(name));
	json_object_set_new(w->result, "image", json_string(name));
	json_t *tags = json_object_get(with, "tags");
	pr.refs = xcalloc(json_array_size(tags) + 1, sizeof(*pr.refs));
	pr.refs[pr.n_refs++] = target; /* by digest */
	for (size_t i = 0; i < json_array_size(tags); i++) {
		const char *t = scalar_text(&pr, json_array_get(tags, i));
		if (!t || !*t) {
			printf("note: tag %zu is empty after interpolation; skipped\n", i + 1);
			continue;
		}
		if (!oci_tag_valid(t)) {
			push_run_release(&pr);
			return finish(w, STAGE_EXIT_FAILED, "tag '%s' is not a valid tag", t);
		}
		struct oci_ref r = target;
		snprintf(r.tag, sizeof(r.tag), "%s", t);
		bool dup = false;
		for (size_t k = 1; k < pr.n_refs; k++) {
			dup |= str_eq(pr.refs[k].tag, t);
		}
		if (!dup) {
			pr.refs[pr.n_refs++] = r;
		}
	}

	/* What to build. */
	spec.base = json_string_value(json_object_get(with, "base"));
	json_t *add = json_object_get(with, "add");
	pr.adds = xcalloc(json_object_size(add) + 1, sizeof(*pr.adds));
	const char *k;
	json_object_foreach(add, k, v)
	{
		if (!(s = json_string_value(v))) {
			push_run_release(&pr);
			return finish(w, STAGE_EXIT_FAILED,
				      "add %s: the destination is not a string", k);
		}
		pr.adds[pr.n_adds++] = (struct oci_add){ k, s };
	}
	spec.adds = pr.adds;
	spec.n_adds = pr.n_adds;
	int bad = 0;
	if ((v = json_object_get(with, "entrypoint"))) {
		bad |= string_vector(&pr, v, &pr.ep, &spec.n_entrypoint);
		spec.entrypoint = pr.ep;
		spec.set_entrypoint = true;
	}
	if ((v = json_object_get(with, "cmd"))) {
		bad |= string_vector(&pr, v, &pr.cmd, &spec.n_cmd);
		spec.cmd = pr.cmd;
		spec.set_cmd = true;
	}
	if ((v = json_object_get(with, "env"))) {
		bad |= kv_vector(&pr, v, &pr.env, &spec.n_env);
		spec.env = pr.env;
	}
	if ((v = json_object_get(with, "labels"))) {
		bad |= kv_vector(&pr, v, &pr.labels, &spec.n_labels);
		spec.labels = pr.labels;
	}
	if ((v = json_object_get(with, "annotations"))) {
		bad |= kv_vector(&pr, v, &pr.annotations, &spec.n_annotations);
		spec.annotations = pr.annotations;
	}
	if ((v = json_object_get(with, "user"))) {
		spec.user = scalar_text(&pr, v);
	}
	spec.workdir = json_string_value(json_object_get(with, "workdir"));
	spec.platform = json_string_value(json_object_get(with, "platform"));
	/* `source:` wins (an empty one means none); else the repository's public URL. */
	if (json_object_get(with, "source")) {
		spec.source = json_string_value(json_object_get(with, "source"));
	} else {
		pr.source = url_public(getenv("RUNNER_REPO_URL"));
		spec.source = pr.source;
	}
	s = getenv("RUNNER_COMMIT_SHA");
	spec.revision = s && *s ? s : NULL;
	if (bad) {
		push_run_release(&pr);
		return finish(w, STAGE_EXIT_FAILED,
			      "with: entrypoint, cmd, env, labels and "
			      "annotations take text values");
	}

	/* How to reach the registry. */
	const char *cred = json_string_value(json_object_get(with, "credentials"));
	if (cred) {
		char var[80];
		size_t n = 0;
		for (; cred[n] && n + 1 < sizeof(var); n++) {
			var[n] = (char)toupper((unsigned char)cred[n]);
		}
		var[n] = '\0';
		const char *value = getenv(var);
		if (!value || oci_parse_credentials(value, &pr.user, &pr.password) < 0) {
			push_run_release(&pr);
			return finish(w, STAGE_EXIT_ERROR,
				      "credentials: secret '%s' is %s (it must be user:password)",
				      cred, value ? "malformed" : "not in the stage's environment");
		}
		ro.username = pr.user;
		ro.password = pr.password;
	}
	const char *insecure[1] = { target.host };
	if (json_is_true(json_object_get(with, "insecure"))) {
		ro.insecure = insecure;
		ro.n_insecure = 1;
	}
	if (json_is_integer(v = json_object_get(with, "retries"))) {
		ro.retries =
			json_integer_value(v) ? (unsigned)json_integer_value(v) : OCI_NO_RETRIES;
	}
	if (json_is_integer(v = json_object_get(with, "jobs"))) {
		ro.jobs = (unsigned)json_integer_value(v);
	}
	ro.debug = json_is_true(json_object_get(with, "debug"));
	/* The credentials belong to the target registry: a base image on another registry is
	 * pulled anonymously, so they are never offered to a host they are not for. */
	struct oci_registry_opts base_ro = ro;
	struct oci_ref base_ref;
	if (spec.base && strchr(spec.base, '@') && oci_ref_parse(spec.base, &base_ref, NULL) == 0 &&
	    !str_eq(base_ref.host, target.host)) {
		base_ro.username = NULL;
		base_ro.password = NULL;
		base_ro.insecure = NULL;
		base_ro.n_insecure = 0;
	}
	spec.registry = &base_ro;

	/* What the image will carry is scanned for secrets first, every file of it: one the
	 * repository's secrets scan never saw (ignored, generated, a build output, a `.env`)
	 * must not leave in a pushed image. */
	const char **srcs = xcalloc(pr.n_adds + 1, sizeof(*srcs));
	size_t n_srcs = 0;
	for (size_t i = 0; i < pr.n_adds; i++) {
		/* A source that is not there is the build's to report (the stage fails). */
		struct stat st;
		_cleanup_free_ char *full =
			pr.adds[i].src[0] == '/' ? xstrdup(pr.adds[i].src)
						 : xasprintf("%s/%s", w->workspace, pr.adds[i].src);
		if (lstat(full, &st) == 0) {
			srcs[n_srcs++] = pr.adds[i].src;
		}
	}
	json_t *cs = json_object();
	int sc = n_srcs ? secscan_paths(w, srcs, n_srcs, cs) : STAGE_EXIT_PASSED;
	free(srcs);
	const char *cs_summary = json_string_value(json_object_get(cs, "summary"));
	char cs_msg[600];
	snprintf(cs_msg, sizeof(cs_msg), "%s", cs_summary ? cs_summary : "");
	json_object_set_new(w->result, "content_scan", cs);
	if (sc != STAGE_EXIT_PASSED) {
		push_run_release(&pr);
		return finish(w, sc,
			      sc == STAGE_EXIT_BLOCKED
				      ? "not pushed: the image's files hold secrets (%s)"
				      : "not pushed: its files could not be scanned "
					"for secrets (%s)",
			      cs_msg);
	}

	/* Build into a private directory, push, clean up. */
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *dir = xasprintf("%s/runner-image-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		push_run_release(&pr);
		return finish(w, STAGE_EXIT_ERROR, "cannot create a build directory: %s",
			      strerror(errno));
	}
	struct oci_build_result br;
	struct oci_err err = { { 0 } };
	int r = oci_build(&spec, dir, &br, &err);
	if (r < 0) {
		code = finish(w, r == -ENOMEM ? STAGE_EXIT_ERROR : STAGE_EXIT_FAILED,
			      "image build failed: %s", err.msg);
	} else {
		printf("built %s: %zu entries in the new layer, %zu base layers\n",
		       br.manifest.digest, br.entries, br.base_layers);
		json_object_set_new(w->result, "digest", json_string(br.manifest.digest));
		json_object_set_new(w->result, "config", json_string(br.config.digest));
		if (br.has_layer) {
			json_object_set_new(w->result, "layer", json_string(br.layer.digest));
		}
		if (br.base_digest[0]) {
			json_object_set_new(w->result, "base_digest", json_string(br.base_digest));
		}
		if (br.base_manifest[0] && !str_eq(br.base_manifest, br.base_digest)) {
			/* The base was an index: say which of its images was taken. */
			printf("base %s: chose %s for %s\n", br.base_digest, br.base_manifest,
			       spec.platform ? spec.platform : oci_host_platform());
			json_object_set_new(w->result, "base_manifest",
					    json_string(br.base_manifest));
		}
		struct oci_layout *l = NULL;
		struct oci_push_result res = { { 0 } };
		r = oci_layout_open(dir, &l, &err);
		if (r == 0) {
			r = oci_push(l, &br.manifest, pr.refs, pr.n_refs, &ro, &res, &err);
		}
		/* What is in the registries, also after a failure part-way: the manifests by
		 * digest, and the tags moved before a later one failed. */
		json_t *pushed = json_array(), *tagged = json_array();
		for (size_t i = 0; i < res.n_pushed; i++) {
			json_array_append_new(pushed, json_string(res.pushed[i]));
		}
		for (size_t i = 0; i < res.n_tagged; i++) {
			json_array_append_new(tagged, json_string(res.tagged[i]));
		}
		json_object_set_new(w->result, "pushed", pushed);
		json_object_set_new(w->result, "tags", tagged);
		if (r < 0 && res.n_tagged) {
			code = finish(w, r == -ENOMEM ? STAGE_EXIT_ERROR : STAGE_EXIT_FAILED,
				      "push failed after %zu of the tags were moved (%s%s): %s",
				      res.n_tagged, res.tagged[0], res.n_tagged > 1 ? ", ..." : "",
				      err.msg);
		} else if (r < 0) {
			code = finish(w, r == -ENOMEM ? STAGE_EXIT_ERROR : STAGE_EXIT_FAILED,
				      "push failed (no tag was moved): %s", err.msg);
		} else {
			json_object_set_new(w->result, "blobs",
					    json_pack("{s:I, s:I, s:I, s:I}", "total",
						      (json_int_t)res.blobs, "skipped",
						      (json_int_t)res.skipped, "mounted",
						      (json_int_t)res.mounted, "uploaded",
						      (json_int_t)res.uploaded));
			json_object_set_new(w->result, "bytes_uploaded",
					    json_integer((json_int_t)res.bytes_uploaded));
			code = finish(w, STAGE_EXIT_PASSED, "pushed %s@%s (%zu tag%s)", name,
				      br.manifest.digest, res.n_tagged,
				      res.n_tagged == 1 ? "" : "s");
		}
		oci_push_result_release(&res);
		oci_layout_free(l);
	}
	rm_rf(dir);
	push_run_release(&pr);
	return code;
}

const struct stage_kind stage_kind_container_push = {
	.name = "container-push",
	.summary = "build an OCI image reproducibly and push it to a registry",
	.flags = STAGE_KIND_PUSH | STAGE_KIND_NETWORK, /* it talks to a registry */
	.validate = validate,
	.run = run,
};
