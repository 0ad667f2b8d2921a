/*
 * cmd_image.c - `runner image build` and `runner image push`: the image library
 * (stages/oci) from the command line, for use outside a pipeline and in scripts.
 *
 * Credentials come from the secret store, like a stage's: `--credentials NAME` names a
 * secret (RUNNER_SECRET_<NAME> or the secrets file) holding "user:password". Progress
 * goes to stderr (secrets masked), results to stdout.
 */
#include "cli.h"

#include "diag.h"
#include "err.h"
#include "gitinfo.h"
#include "image.h"
#include "layout.h"
#include "output.h"
#include "ref.h"
#include "registry.h"
#include "secrets.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>

#include "banned.h"

static const struct cli_flag image_flags[] = {
	/* build */
	{ "output", "-o, --output DIR", "the OCI image layout to write (required)" },
	{ "context", "-C, --context DIR",
	  "where --add sources are taken from (default: .); sources may not lead outside it "
	  "through symbolic links" },
	{ "base", "--base BASE",
	  "scratch (default), an OCI layout directory, or a registry image pinned by digest "
	  "(host/name@sha256:...)" },
	{ "add", "--add SRC:DEST",
	  "add a file or directory (DEST absolute; a trailing / means into that directory); "
	  "repeatable" },
	{ "entrypoint", "--entrypoint JSON",
	  "the entrypoint, a JSON array of strings (or one path)" },
	{ "cmd", "--cmd JSON", "the default arguments, likewise" },
	{ "env", "--env NAME=VALUE", "an environment variable of the image; repeatable" },
	{ "user", "--user USER", "the user the image runs as" },
	{ "workdir", "--workdir DIR", "the working directory" },
	{ "label", "--label K=V", "a label of the config; repeatable" },
	{ "annotation", "--annotation K=V", "an annotation of the manifest; repeatable" },
	{ "platform", "--platform OS/ARCH[/VARIANT]",
	  "for scratch images and to choose from a base that is an index (default: this "
	  "machine, e.g. linux/amd64)" },
	{ "created", "--created SECONDS",
	  "the creation time (default: $SOURCE_DATE_EPOCH, else the commit time of the "
	  "context's repository, else 0)" },
	{ "revision", "--revision SHA", "org.opencontainers.image.revision (default: the commit)" },
	{ "source", "--source URL",
	  "org.opencontainers.image.source (default: the URL of the context's remote origin, "
	  "without credentials)" },
	{ "tag", "--tag NAME", "org.opencontainers.image.ref.name in index.json" },
	/* push */
	{ "ref-name", "--ref-name NAME", "the manifest of DIR to push, when it holds several" },
	{ "jobs", "-j, --jobs N", "blobs transferred at once (default 4, at most 16)" },
	{ "retries", "--retries N", "further attempts after a retryable failure (default 4)" },
	{ "chunk-size", "--chunk-size BYTES",
	  "upload blobs larger than this in chunks (default 64 MiB)" },
	{ "debug", "--debug", "print HTTP headers (credentials masked)" },
	/* both */
	{ "credentials", "--credentials NAME",
	  "the secret holding user:password for the registry" },
	{ "secrets", "--secrets FILE", "secrets file (default: ~/.config/runner/secrets.yml)" },
	{ "insecure", "--insecure HOST", "allow plain HTTP to HOST[:PORT] (loopback always may)" },
	{ "json", "--json", "print the result as JSON" },
	{ "quiet", "-q, --quiet", "no progress output" },
	{ NULL, NULL, NULL },
};

static const char *const build_flags[] = {
	"output",   "context",	"base",	   "add",   "entrypoint",  "cmd",
	"env",	    "user",	"workdir", "label", "annotation",  "platform",
	"created",  "revision", "source",  "tag",   "credentials", "secrets",
	"insecure", "json",	"quiet",   NULL,
};

static const char *const push_flags[] = {
	"ref-name", "jobs",	"retries", "chunk-size", "debug", "credentials",
	"secrets",  "insecure", "json",	   "quiet",	 NULL,
};

#define IMAGE_EXITS \
	"Exit codes: 0 done, 1 the push failed, 2 usage or invalid input, 4 internal error.\n"

static const struct cli_sub image_subs[] = {
	{ "build", "build an image reproducibly into an OCI layout directory",
	  "runner image build --output DIR [options]\n",
	  "Build an image reproducibly into the OCI layout DIR (created, or replaced).\n",
	  build_flags,
	  "Exit codes: 0 done, 1 the build failed (a base image that cannot be fetched, an\n"
	  "I/O error), 2 usage or invalid input, 4 internal error.\n" },
	{ "push", "push the image of an OCI layout directory to a registry",
	  "runner image push [options] DIR REF...\n",
	  "Push the image in the OCI layout DIR to each REF (host[:port]/name[:tag]; a REF\n"
	  "without a tag is pushed by digest only). Blobs go first, then the manifest by\n"
	  "digest, then the tags: a push that fails part-way leaves no tag on an incomplete\n"
	  "image.\n",
	  push_flags, IMAGE_EXITS },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_help cmd_image_help = {
	"image",
	"The image library of the container-push stage, outside a pipeline (docs/image.md).\n",
	image_flags,
	image_subs,
	"Exit codes: 0 done, 1 the build or the push failed, 2 usage or invalid input, 4\n"
	"internal error.\n",
};

extern char **environ;

enum {
	OPT_BASE = 256,
	OPT_ADD,
	OPT_ENTRYPOINT,
	OPT_CMD,
	OPT_ENV,
	OPT_USER,
	OPT_WORKDIR,
	OPT_LABEL,
	OPT_ANNOTATION,
	OPT_PLATFORM,
	OPT_CREATED,
	OPT_REVISION,
	OPT_SOURCE,
	OPT_TAG,
	OPT_REF_NAME,
	OPT_RETRIES,
	OPT_CHUNK,
	OPT_DEBUG,
	OPT_CREDENTIALS,
	OPT_SECRETS,
	OPT_INSECURE,
	OPT_JSON,
};

/* What both subcommands share: registry options, credentials, output. */
struct common {
	struct oci_registry_opts ro;
	const char **insecure;
	size_t n_insecure;
	const char *credentials;
	const char *secrets_file;
	struct secret_store *store;
	char *user, *password;
	bool json, quiet;
};

static void on_log(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "%s\n", line);
}

static bool common_option(struct common *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CREDENTIALS:
		c->credentials = arg;
		return true;
	case OPT_SECRETS:
		c->secrets_file = arg;
		return true;
	case OPT_INSECURE:
		c->insecure = xreallocarray(c->insecure, c->n_insecure + 1, sizeof(char *));
		c->insecure[c->n_insecure++] = arg;
		return true;
	case OPT_JSON:
		c->json = true;
		return true;
	case 'q':
		c->quiet = true;
		return true;
	default:
		return false;
	}
}

/* Load the credentials secret, if one is named. Returns EXIT_OK or an exit code. */
static int common_setup(struct common *c, const char *cmd)
{
	c->ro.insecure = c->insecure;
	c->ro.n_insecure = c->n_insecure;
	if (!c->quiet) {
		c->ro.log = on_log;
	}
	if (!c->credentials) {
		return EXIT_OK;
	}
	struct diag_list dl;
	diag_list_init(&dl, 20);
	c->store = secrets_new();
	_cleanup_free_ char *def = secrets_default_path();
	const char *path = c->secrets_file ? c->secrets_file : def;
	if ((path && secrets_load_file(c->store, path, c->secrets_file != NULL, &dl) < 0) ||
	    secrets_load_env(c->store, environ, &dl) < 0) {
		output_diags(stderr, &dl, NULL, 0, cli_color_stderr());
		diag_list_release(&dl);
		return EXIT_USAGE;
	}
	diag_list_release(&dl);
	const char *v = secrets_get(c->store, c->credentials);
	if (!v) {
		return cli_usage_error(cmd,
				       "secret '%s' is not set (set RUNNER_SECRET_%s or add it to "
				       "the secrets file)",
				       c->credentials, c->credentials);
	}
	if (oci_parse_credentials(v, &c->user, &c->password) < 0) {
		return cli_usage_error(cmd, "secret '%s' must be user:password", c->credentials);
	}
	c->ro.username = c->user;
	c->ro.password = c->password;
	return EXIT_OK;
}

static void common_release(struct common *c)
{
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
	}
	free(c->user);
	free(c->password);
	free(c->insecure);
	secrets_free(c->store);
}

/* Exit code for an error of the oci library. */
static int exit_for(int r)
{
	switch (r) {
	case -ENOMEM:
		return EXIT_INTERNAL;
	case -EINVAL:
	case -EPERM:
	case -ENOTEMPTY:
	case -ENAMETOOLONG:
	case -E2BIG:
	case -ELOOP:
	case -EILSEQ:
	case -ENOENT:
		return EXIT_USAGE;
	default:
		return EXIT_FAILED;
	}
}

static const struct option common_opts[] = {
	{ "credentials", required_argument, NULL, OPT_CREDENTIALS },
	{ "secrets", required_argument, NULL, OPT_SECRETS },
	{ "insecure", required_argument, NULL, OPT_INSECURE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
};

/* A subcommand's options followed by the common ones, NULL-terminated, into out. */
static void merge_options(const struct option *own, size_t n, struct option *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		out[k++] = own[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(common_opts) && k + 1 < cap; i++) {
		out[k++] = common_opts[i];
	}
	out[k] = (struct option){ 0 };
}

/* A JSON array of strings, or one plain string, into a NULL-free vector. */
static int parse_argv(const char *s, json_t **keep, const char ***v, size_t *n)
{
	json_error_t e;
	json_t *j = s[0] == '[' ? json_loads(s, JSON_REJECT_DUPLICATES, &e) : json_pack("[s]", s);
	if (!json_is_array(j)) {
		json_decref(j);
		return -EINVAL;
	}
	*v = xcalloc(json_array_size(j) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(j); i++) {
		(*v)[i] = json_string_value(json_array_get(j, i));
		if (!(*v)[i]) {
			json_decref(j);
			free(*v);
			*v = NULL;
			return -EINVAL;
		}
	}
	*n = json_array_size(j);
	*keep = j;
	return 0;
}

/* NAME=VALUE into a growing kv list. */
static bool push_kv(struct oci_kv **v, size_t *n, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		return false;
	}
	*eq = '\0';
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct oci_kv){ arg, eq + 1 };
	return true;
}

static int image_build(int argc, char **argv)
{
	static struct option opts[64];
	static const struct option own[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "context", required_argument, NULL, 'C' },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "add", required_argument, NULL, OPT_ADD },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "cmd", required_argument, NULL, OPT_CMD },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "user", required_argument, NULL, OPT_USER },
		{ "workdir", required_argument, NULL, OPT_WORKDIR },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "annotation", required_argument, NULL, OPT_ANNOTATION },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "created", required_argument, NULL, OPT_CREATED },
		{ "revision", required_argument, NULL, OPT_REVISION },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "tag", required_argument, NULL, OPT_TAG },
	};
	merge_options(own, ARRAY_SIZE(own), opts, ARRAY_SIZE(opts));

	struct common cm = { 0 };
	struct oci_build_spec spec = { .context = ".", .created = -1 };
	struct oci_add *adds = NULL;
	struct oci_kv *env = NULL, *labels = NULL, *annotations = NULL;
	json_t *ep_keep = NULL, *cmd_keep = NULL;
	const char **ep = NULL, **cmdv = NULL;
	const char *output = NULL;
	int ret = EXIT_OK, c;
	uint64_t created;
	struct cli_getopt g;
	cli_getopt_init(&g, "image build", "o:C:q");
	while (ret == EXIT_OK && (c = cli_getopt(&g, argc, argv, opts)) != -1) {
		if (common_option(&cm, c, optarg)) {
			continue;
		}
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'C':
			spec.context = optarg;
			break;
		case OPT_BASE:
			spec.base = optarg;
			break;
		case OPT_ADD: {
			/* SRC:DEST where DEST is absolute: split at the last ":/". */
			char *sep = NULL;
			for (char *p = strstr(optarg, ":/"); p; p = strstr(p + 1, ":/")) {
				sep = p;
			}
			if (!sep || sep == optarg) {
				ret = cli_usage_error("image build",
						      "--add takes SRC:DEST with DEST absolute, "
						      "not '%s'",
						      optarg);
				break;
			}
			*sep = '\0';
			adds = xreallocarray(adds, spec.n_adds + 1, sizeof(*adds));
			adds[spec.n_adds++] = (struct oci_add){ optarg, sep + 1 };
			break;
		}
		case OPT_ENTRYPOINT:
			free(ep);
			json_decref(ep_keep);
			if (parse_argv(optarg, &ep_keep, &ep, &spec.n_entrypoint) < 0) {
				ret = cli_usage_error("image build",
						      "--entrypoint takes a JSON array of "
						      "strings or one path");
			}
			spec.set_entrypoint = true;
			break;
		case OPT_CMD:
			free(cmdv);
			json_decref(cmd_keep);
			if (parse_argv(optarg, &cmd_keep, &cmdv, &spec.n_cmd) < 0) {
				ret = cli_usage_error("image build",
						      "--cmd takes a JSON array of strings or "
						      "one string");
			}
			spec.set_cmd = true;
			break;
		case OPT_ENV:
			if (!push_kv(&env, &spec.n_env, optarg)) {
				ret = cli_usage_error("image build", "--env takes NAME=VALUE");
			}
			break;
		case OPT_USER:
			spec.user = optarg;
			break;
		case OPT_WORKDIR:
			spec.workdir = optarg;
			break;
		case OPT_LABEL:
			if (!push_kv(&labels, &spec.n_labels, optarg)) {
				ret = cli_usage_error("image build", "--label takes KEY=VALUE");
			}
			break;
		case OPT_ANNOTATION:
			if (!push_kv(&annotations, &spec.n_annotations, optarg)) {
				ret = cli_usage_error("image build",
						      "--annotation takes KEY=VALUE");
			}
			break;
		case OPT_PLATFORM:
			spec.platform = optarg;
			if (!oci_platform_valid(optarg)) {
				ret = cli_usage_error("image build",
						      "--platform takes OS/ARCH[/VARIANT], "
						      "like linux/amd64");
			}
			break;
		case OPT_CREATED:
			if (parse_uint(optarg, INT64_MAX, &created) < 0) {
				ret = cli_usage_error("image build",
						      "--created takes seconds since 1970");
			}
			spec.created = (int64_t)created;
			break;
		case OPT_REVISION:
			spec.revision = optarg;
			break;
		case OPT_SOURCE:
			spec.source = optarg;
			break;
		case OPT_TAG:
			spec.ref_name = optarg;
			break;
		default:
			ret = EXIT_USAGE; /* said */
			break;
		}
	}
	if (ret == EXIT_OK && !output) {
		ret = cli_usage_error("image build", "image build needs --output DIR");
	}
	if (ret == EXIT_OK && optind < argc) {
		ret = cli_usage_error("image build", "unexpected argument '%s'", argv[optind]);
	}
	for (size_t i = 0; ret == EXIT_OK && i < spec.n_adds; i++) {
		if (!oci_dest_valid(adds[i].dest)) {
			ret = cli_usage_error(
				"image build",
				"--add %s:%s: the destination must be an absolute path "
				"without '.', '..' or .wh.* components",
				adds[i].src, adds[i].dest);
		}
	}
	if (ret == EXIT_OK) {
		ret = common_setup(&cm, "image build");
	}
	struct git_info gi = { 0 };
	if (ret == EXIT_OK) {
		git_info_read(spec.context, &gi);
		const char *sde = getenv("SOURCE_DATE_EPOCH");
		if (spec.created < 0 && sde && *sde) {
			if (parse_uint(sde, INT64_MAX, &created) < 0) {
				ret = cli_usage_error("image build",
						      "SOURCE_DATE_EPOCH is not a number of "
						      "seconds");
			}
			spec.created = (int64_t)created;
		}
		if (spec.created < 0) {
			spec.created = gi.commit_time > 0 ? gi.commit_time : 0;
		}
		if (!spec.revision && gi.commit[0]) {
			spec.revision = gi.commit;
		}
		if (!spec.source && *gi.repo_url) {
			spec.source = gi.repo_url;
		}
	}
	if (ret == EXIT_OK) {
		spec.adds = adds;
		spec.entrypoint = ep;
		spec.cmd = cmdv;
		spec.env = env;
		spec.labels = labels;
		spec.annotations = annotations;
		spec.registry = &cm.ro;
		struct oci_build_result res;
		struct oci_err err = { { 0 } };
		int r = oci_build(&spec, output, &res, &err);
		if (r < 0) {
			fprintf(stderr, "runner: image build failed: %s\n",
				err.msg[0] ? err.msg : strerror(-r));
			ret = exit_for(r);
		} else if (cm.json) {
			json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "layout", output,
					      "digest", res.manifest.digest, "config",
					      res.config.digest, "entries", (json_int_t)res.entries,
					      "base_layers", (json_int_t)res.base_layers);
			if (res.has_layer) {
				json_object_set_new(j, "layer", json_string(res.layer.digest));
				json_object_set_new(j, "diff_id", json_string(res.diff_id));
			}
			if (res.base_digest[0]) {
				json_object_set_new(j, "base_digest", json_string(res.base_digest));
			}
			if (res.base_manifest[0] && !str_eq(res.base_manifest, res.base_digest)) {
				json_object_set_new(j, "base_manifest",
						    json_string(res.base_manifest));
			}
			char *text = json_dumps(j, JSON_COMPACT);
			printf("%s\n", text ? text : "{}");
			free(text);
			json_decref(j);
		} else {
			printf("%s %s\n", output, res.manifest.digest);
			if (!cm.quiet) {
				fprintf(stderr,
					"built %s: %zu %s in the new layer (%zu %s) on %zu %s\n",
					output, res.entries, res.entries == 1 ? "entry" : "entries",
					res.whiteouts,
					res.whiteouts == 1 ? "whiteout" : "whiteouts",
					res.base_layers,
					res.base_layers == 1 ? "base layer" : "base layers");
			}
		}
	}
	git_info_release(&gi);
	free(adds);
	free(env);
	free(labels);
	free(annotations);
	free(ep);
	free(cmdv);
	json_decref(ep_keep);
	json_decref(cmd_keep);
	common_release(&cm);
	return ret;
}

static int image_push(int argc, char **argv)
{
	static struct option opts[32];
	static const struct option own[] = {
		{ "ref-name", required_argument, NULL, OPT_REF_NAME },
		{ "jobs", required_argument, NULL, 'j' },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "chunk-size", required_argument, NULL, OPT_CHUNK },
		{ "debug", no_argument, NULL, OPT_DEBUG },
	};
	merge_options(own, ARRAY_SIZE(own), opts, ARRAY_SIZE(opts));

	struct common cm = { 0 };
	const char *ref_name = NULL;
	int ret = EXIT_OK, c;
	uint64_t v;
	struct cli_getopt g;
	cli_getopt_init(&g, "image push", "j:q");
	while (ret == EXIT_OK && (c = cli_getopt(&g, argc, argv, opts)) != -1) {
		if (common_option(&cm, c, optarg)) {
			continue;
		}
		switch (c) {
		case OPT_REF_NAME:
			ref_name = optarg;
			break;
		case 'j':
			if (parse_uint(optarg, OCI_JOBS_MAX, &v) < 0 || v == 0) {
				ret = cli_usage_error("image push",
						      "-j takes a number from 1 to %d",
						      OCI_JOBS_MAX);
			}
			cm.ro.jobs = (unsigned)v;
			break;
		case OPT_RETRIES:
			if (parse_uint(optarg, 20, &v) < 0) {
				ret = cli_usage_error("image push",
						      "--retries takes a number from 0 to 20");
			}
			cm.ro.retries = v ? (unsigned)v : OCI_NO_RETRIES;
			break;
		case OPT_CHUNK:
			if (parse_uint(optarg, OCI_BLOB_MAX, &v) < 0 || v < 4096) {
				ret = cli_usage_error("image push",
						      "--chunk-size takes a number of bytes of "
						      "at least 4096");
			}
			cm.ro.chunk_size = v;
			break;
		case OPT_DEBUG:
			cm.ro.debug = true;
			break;
		default:
			ret = EXIT_USAGE; /* said */
			break;
		}
	}
	if (ret == EXIT_OK && argc - optind < 2) {
		ret = cli_usage_error("image push",
				      "image push needs a layout directory and at least "
				      "one reference");
	}
	size_t n_refs = ret == EXIT_OK ? (size_t)(argc - optind - 1) : 0;
	struct oci_ref *refs = xcalloc(n_refs ? n_refs : 1, sizeof(*refs));
	for (size_t i = 0; ret == EXIT_OK && i < n_refs; i++) {
		const char *why;
		if (oci_ref_parse(argv[optind + 1 + (int)i], &refs[i], &why) < 0) {
			ret = cli_usage_error("image push", "'%s' is not an image reference: %s",
					      argv[optind + 1 + (int)i], why);
		} else if (refs[i].digest[0]) {
			ret = cli_usage_error("image push",
					      "'%s': push to a name or name:tag; the digest "
					      "comes from the image",
					      argv[optind + 1 + (int)i]);
		}
	}
	/* One set of credentials is for one registry: sent to several, each would get the
	 * others' password. */
	for (size_t i = 1; ret == EXIT_OK && cm.credentials && i < n_refs; i++) {
		if (strcasecmp(refs[i].host, refs[0].host) != 0) {
			ret = cli_usage_error(
				"image push",
				"--credentials %s would go to %s and to %s: push to one "
				"registry per command",
				cm.credentials, refs[0].host, refs[i].host);
		}
	}
	if (ret == EXIT_OK) {
		ret = common_setup(&cm, "image push");
	}
	if (ret == EXIT_OK) {
		struct oci_err err = { { 0 } };
		struct oci_layout *l = NULL;
		struct oci_descriptor d;
		struct oci_push_result res = { { 0 } };
		int r = oci_layout_open(argv[optind], &l, &err);
		if (r == 0) {
			r = oci_layout_find(l, ref_name, &d, &err);
		}
		if (r < 0) {
			fprintf(stderr, "runner: %s\n", err.msg);
			ret = EXIT_USAGE;
		} else {
			r = oci_push(l, &d, refs, n_refs, &cm.ro, &res, &err);
			if (r < 0) {
				fprintf(stderr, "runner: push failed: %s\n", err.msg);
				ret = exit_for(r) == EXIT_USAGE ? EXIT_USAGE : EXIT_FAILED;
				if (r == -ENOMEM) {
					ret = EXIT_INTERNAL;
				}
			} else if (cm.json) {
				json_t *pushed = json_array(), *tagged = json_array();
				for (size_t i = 0; i < res.n_pushed; i++) {
					json_array_append_new(pushed, json_string(res.pushed[i]));
				}
				for (size_t i = 0; i < res.n_tagged; i++) {
					json_array_append_new(tagged, json_string(res.tagged[i]));
				}
				json_t *j = json_pack(
					"{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "digest",
					res.digest, "pushed", pushed, "tagged", tagged, "blobs",
					(json_int_t)res.blobs, "skipped", (json_int_t)res.skipped,
					"mounted", (json_int_t)res.mounted, "uploaded",
					(json_int_t)res.uploaded, "bytes_uploaded",
					(json_int_t)res.bytes_uploaded);
				char *text = json_dumps(j, JSON_COMPACT);
				printf("%s\n", text ? text : "{}");
				free(text);
				json_decref(j);
			} else {
				for (size_t i = 0; i < res.n_pushed; i++) {
					printf("%s\n", res.pushed[i]);
				}
				for (size_t i = 0; i < res.n_tagged; i++) {
					printf("%s\n", res.tagged[i]);
				}
			}
		}
		oci_push_result_release(&res);
		oci_layout_free(l);
	}
	free(refs);
	common_release(&cm);
	return ret;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2) {
		return cli_usage_error("image", "image needs a subcommand: build or push");
	}
	if (str_eq(argv[1], "build")) {
		return image_build(argc - 1, argv + 1);
	}
	if (str_eq(argv[1], "push")) {
		return image_push(argc - 1, argv + 1);
	}
	return cli_usage_error("image", "unknown subcommand '%s' (build or push)", argv[1]);
}
