/*
 * test-build.c - reproducible image builds: identical inputs give identical bytes (also
 * with other file times, umask, time zone, context location, or on another day: a
 * golden digest); the layer's tar entries as the image spec and reproducibility want
 * them; whiteouts over a base; a base that is a multi-platform index (the platform's
 * image chosen, checked, refused when missing, ambiguous, tampered with or lying about
 * its platform); caps on a base (layers, the tar its layers inflate to); and what the
 * build refuses (sources escaping the context, conflicting destinations, special files, a
 * non-layout output).
 */
#include <criterion/criterion.h>

#include "err.h"
#include "image.h"
#include "layout.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* See golden_digest. */
#define GOLDEN_DIFF_ID	"e1440fbd0f58e41964dfe5128a69e18cc3c1ae272d7de269e154787ac4d4513e"
#define GOLDEN_MANIFEST "c706b0e22eaa6df1c80a3bf3a12a526827ba4c850ec83e98494cb186d8e82e71"

static char *ctx, *outdir;

static void setup(void)
{
	ctx = tu_tmpdir();
	outdir = tu_tmpdir();
	tu_write(ctx, "build/app", "#!/bin/sh\necho app\n");
	char *app;
	cr_assert_geq(asprintf(&app, "%s/build/app", ctx), 0);
	chmod(app, 0700); /* normalised to 0755 in the image */
	free(app);
	tu_write(ctx, "assets/site.css", "body { color: red }\n");
	tu_write(ctx, "assets/img/logo.svg", "<svg/>\n");
	tu_write(ctx, "assets/z-last.txt", "z\n");
	char *link;
	cr_assert_geq(asprintf(&link, "%s/assets/current.css", ctx), 0);
	cr_assert_eq(symlink("site.css", link), 0);
	free(link);
}

static void teardown(void)
{
	tu_rmdir(ctx);
	tu_rmdir(outdir);
	free(ctx);
	free(outdir);
}

TestSuite(build, .init = setup, .fini = teardown);

static const struct oci_add std_adds[] = {
	{ "build/app", "/usr/local/bin/app" },
	{ "assets/", "/srv/assets/" },
};
static const char *const std_ep[] = { "/usr/local/bin/app" };
static const struct oci_kv std_env[] = { { "PORT", "8080" } };
static const struct oci_kv std_labels[] = { { "team", "web" } };

static struct oci_build_spec std_spec(const char *context)
{
	return (struct oci_build_spec){
		.context = context,
		.base = "scratch",
		.base_confined = true,
		.adds = std_adds,
		.n_adds = 2,
		.entrypoint = std_ep,
		.n_entrypoint = 1,
		.set_entrypoint = true,
		.env = std_env,
		.n_env = 1,
		.user = "65532",
		.labels = std_labels,
		.n_labels = 1,
		.platform = "linux/amd64",
		.created = 1700000000,
		.revision = "4f2c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
		.source = "https://git.example.com/acme/webapp",
		.ref_name = "latest",
	};
}

static struct oci_build_result do_build(const struct oci_build_spec *spec, const char *out)
{
	struct oci_build_result res;
	struct oci_err err = { { 0 } };
	int r = oci_build(spec, out, &res, &err);
	cr_assert_eq(r, 0, "build failed: %s", err.msg);
	return res;
}

static char *subdir(const char *name)
{
	char *p;
	cr_assert_geq(asprintf(&p, "%s/%s", outdir, name), 0);
	return p;
}

static json_t *read_blob_json(const char *layout, const char *digest)
{
	char *text = tu_readf("%s/blobs/sha256/%s", layout, digest + 7);
	cr_assert_not_null(text, "blob %s missing", digest);
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	cr_assert_not_null(j);
	free(text);
	return j;
}

Test(build, same_inputs_same_bytes)
{
	struct oci_build_spec spec = std_spec(ctx);
	char *a = subdir("a"), *b = subdir("b"), *c = subdir("c");
	struct oci_build_result r1 = do_build(&spec, a);

	/* Other file times, another umask and time zone, a copy of the context elsewhere. */
	char *cmd;
	cr_assert_geq(asprintf(&cmd,
			       "touch -d '2001-02-03 04:05:06' '%s/build/app' '%s/assets/site.css'",
			       ctx, ctx),
		      0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	umask(077);
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	struct oci_build_result r2 = do_build(&spec, b);
	char *ctx2 = tu_tmpdir();
	cr_assert_geq(asprintf(&cmd, "cp -a '%s/.' '%s/'", ctx, ctx2), 0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	spec.context = ctx2;
	struct oci_build_result r3 = do_build(&spec, c);

	cr_assert_str_eq(r1.manifest.digest, r2.manifest.digest);
	cr_assert_str_eq(r1.manifest.digest, r3.manifest.digest);
	cr_assert_str_eq(r1.layer.digest, r3.layer.digest);
	cr_assert_str_eq(r1.diff_id, r3.diff_id);
	char *i1 = tu_readf("%s/index.json", a), *i3 = tu_readf("%s/index.json", c);
	cr_assert_str_eq(i1, i3);
	free(i1);
	free(i3);
	/* A different input gives a different image. */
	spec.created = 1700000001;
	struct oci_build_result r4 = do_build(&spec, c);
	cr_assert_str_neq(r1.manifest.digest, r4.manifest.digest);
	tu_rmdir(ctx2);
	free(ctx2);
	free(a);
	free(b);
	free(c);
}

/* A source named by its absolute path (inside the context) gives the same image as the
 * same source named relative to the context: the config's history names it relative, so
 * neither the host's paths nor where the checkout lives end up in the image. */
Test(build, absolute_sources_are_recorded_relative_to_the_context)
{
	char *a = subdir("abs-a"), *b = subdir("abs-b");
	struct oci_add rel[] = { { "build/app", "/usr/local/bin/app" } };
	struct oci_build_spec spec = { .context = ctx, .adds = rel, .n_adds = 1, .created = 1 };
	struct oci_build_result r1 = do_build(&spec, a);
	char *absolute = tu_strf("%s/build/app", ctx);
	struct oci_add abs[] = { { absolute, "/usr/local/bin/app" } };
	spec.adds = abs;
	struct oci_build_result r2 = do_build(&spec, b);
	cr_assert_str_eq(r1.config.digest, r2.config.digest);
	cr_assert_str_eq(r1.manifest.digest, r2.manifest.digest);
	free(absolute);
	free(a);
	free(b);
}

/*
 * The digest these inputs had when this test was written (November 2026, Debian 12's
 * libarchive 3.6.2 and zlib 1.2.13): a build on any later day must give the same bytes.
 */
Test(build, golden_digest)
{
	char *g = tu_tmpdir();
	tu_write(g, "bin/hello", "hello, world\n");
	tu_write(g, "share/doc/README", "reproducible\n");
	char *p;
	cr_assert_geq(asprintf(&p, "%s/bin/hello", g), 0);
	chmod(p, 0755);
	free(p);
	static const struct oci_add adds[] = { { "bin/hello", "/usr/bin/hello" },
					       { "share/", "/usr/share/" } };
	static const char *const ep[] = { "/usr/bin/hello" };
	struct oci_build_spec spec = {
		.context = g,
		.adds = adds,
		.n_adds = 2,
		.entrypoint = ep,
		.n_entrypoint = 1,
		.set_entrypoint = true,
		.platform = "linux/amd64",
		.created = 1600000000,
	};
	char *out = subdir("golden");
	struct oci_build_result r = do_build(&spec, out);
	cr_assert_str_eq(r.diff_id, "sha256:" GOLDEN_DIFF_ID, "the tar bytes changed: %s",
			 r.diff_id);
	cr_assert_str_eq(r.manifest.digest, "sha256:" GOLDEN_MANIFEST,
			 "the image bytes changed: %s", r.manifest.digest);
	tu_rmdir(g);
	free(g);
	free(out);
}

struct tar_entry {
	char path[512];
	unsigned type, mode;
	long uid, gid;
	char uname[64];
	time_t mtime;
	bool atime, ctime;
	int xattrs;
	char link[256];
	long size;
};

static size_t read_layer(const char *layout, const char *digest, struct tar_entry *v, size_t max)
{
	char *path;
	cr_assert_geq(asprintf(&path, "%s/blobs/sha256/%s", layout, digest + 7), 0);
	/* gzip header: no timestamp (bytes 4..7), no file name flag. */
	FILE *f = fopen(path, "rb");
	unsigned char hdr[10];
	cr_assert_eq(fread(hdr, 1, 10, f), 10);
	fclose(f);
	cr_assert_eq(hdr[0], 0x1f);
	cr_assert_eq(hdr[1], 0x8b);
	cr_assert_eq(hdr[3] & 0x08, 0, "no file name in the gzip header");
	cr_assert_eq(hdr[4] | hdr[5] | hdr[6] | hdr[7], 0, "no timestamp in the gzip header");
	/* Names as the layer has them, in UTF-8: read in C.UTF-8 (the test runs in "C"). */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	cr_assert_not_null(utf8);
	locale_t old = uselocale(utf8);
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	cr_assert_eq(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	struct archive_entry *e;
	size_t n = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK && n < max) {
		struct tar_entry *t = &v[n++];
		snprintf(t->path, sizeof(t->path), "%s", archive_entry_pathname(e));
		t->type = archive_entry_filetype(e);
		t->mode = archive_entry_perm(e);
		t->uid = archive_entry_uid(e);
		t->gid = archive_entry_gid(e);
		snprintf(t->uname, sizeof(t->uname), "%s",
			 archive_entry_uname(e) ? archive_entry_uname(e) : "");
		t->mtime = archive_entry_mtime(e);
		t->atime = archive_entry_atime_is_set(e);
		t->ctime = archive_entry_ctime_is_set(e);
		t->xattrs = archive_entry_xattr_count(e);
		t->size = archive_entry_size(e);
		snprintf(t->link, sizeof(t->link), "%s",
			 archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
	}
	archive_read_free(a);
	uselocale(old);
	freelocale(utf8);
	free(path);
	return n;
}

static const struct tar_entry *find(const struct tar_entry *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].path, path) == 0) {
			return &v[i];
		}
	}
	return NULL;
}

static const struct tar_entry *must(const struct tar_entry *v, size_t n, const char *path)
{
	const struct tar_entry *e = find(v, n, path);
	cr_assert_not_null(e, "no entry %s in the layer", path);
	if (!e) {
		abort();
	}
	return e;
}

Test(build, layer_entries_are_normalised_and_sorted)
{
	struct oci_build_spec spec = std_spec(ctx);
	char *a = subdir("a");
	struct oci_build_result r = do_build(&spec, a);
	struct tar_entry v[64];
	size_t n = read_layer(a, r.layer.digest, v, 64);
	const char *want[] = { "srv/",
			       "srv/assets/",
			       "srv/assets/current.css",
			       "srv/assets/img/",
			       "srv/assets/img/logo.svg",
			       "srv/assets/site.css",
			       "srv/assets/z-last.txt",
			       "usr/",
			       "usr/local/",
			       "usr/local/bin/",
			       "usr/local/bin/app" };
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]), "%zu entries", n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(v[i].path, want[i], "entry %zu", i);
		cr_assert_eq(v[i].uid, 0);
		cr_assert_eq(v[i].gid, 0);
		cr_assert_str_eq(v[i].uname, "", "no user names");
		cr_assert_eq(v[i].mtime, 1700000000);
		cr_assert_not(v[i].atime);
		cr_assert_not(v[i].ctime);
		cr_assert_eq(v[i].xattrs, 0);
	}
	cr_assert_eq(must(v, n, "usr/local/bin/app")->mode, 0755);
	cr_assert_eq(must(v, n, "srv/assets/site.css")->mode, 0644);
	cr_assert_eq(must(v, n, "srv/")->mode, 0755);
	const struct tar_entry *l = must(v, n, "srv/assets/current.css");
	cr_assert_eq(l->type, AE_IFLNK);
	cr_assert_str_eq(l->link, "site.css");
	cr_assert_eq(must(v, n, "usr/local/bin/app")->size, 19);

	/* The DiffID is the SHA-256 of the uncompressed tar. */
	char *cmd;
	cr_assert_geq(
		asprintf(&cmd, "gzip -dc '%s/blobs/sha256/%s' | sha256sum", a, r.layer.digest + 7),
		0);
	FILE *p = popen(cmd, "r");
	char sum[80] = "";
	cr_assert_not_null(fgets(sum, sizeof(sum), p));
	pclose(p);
	free(cmd);
	cr_assert_eq(strncmp(sum, r.diff_id + 7, 64), 0, "%s vs %s", sum, r.diff_id);
	free(a);
}

Test(build, config_manifest_and_index)
{
	struct oci_build_spec spec = std_spec(ctx);
	char *a = subdir("a");
	struct oci_build_result r = do_build(&spec, a);
	json_t *cfg = read_blob_json(a, r.config.digest);
	json_t *c = json_object_get(cfg, "config");
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "architecture")), "amd64");
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "os")), "linux");
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "created")),
			 "2023-11-14T22:13:20Z");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Entrypoint"), 0)),
			 "/usr/local/bin/app");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Env"), 0)),
			 "PORT=8080");
	cr_assert_str_eq(json_string_value(json_object_get(c, "User")), "65532");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "Labels"), "team")),
			 "web");
	json_t *rootfs = json_object_get(cfg, "rootfs");
	cr_assert_str_eq(json_string_value(json_object_get(rootfs, "type")), "layers");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(rootfs, "diff_ids"), 0)),
			 r.diff_id);
	json_t *h = json_array_get(json_object_get(cfg, "history"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(h, "created")), "2023-11-14T22:13:20Z");
	json_decref(cfg);

	json_t *m = read_blob_json(a, r.manifest.digest);
	cr_assert_eq(json_integer_value(json_object_get(m, "schemaVersion")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(m, "mediaType")), OCI_MT_MANIFEST);
	json_t *ann = json_object_get(m, "annotations");
	cr_assert_str_eq(
		json_string_value(json_object_get(ann, "org.opencontainers.image.created")),
		"2023-11-14T22:13:20Z");
	cr_assert_str_eq(
		json_string_value(json_object_get(ann, "org.opencontainers.image.revision")),
		"4f2c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "org.opencontainers.image.source")),
			 "https://git.example.com/acme/webapp");
	cr_assert_null(json_object_get(ann, "org.opencontainers.image.base.digest"), "scratch");
	json_t *layer = json_array_get(json_object_get(m, "layers"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(layer, "mediaType")), OCI_MT_LAYER_GZIP);
	json_decref(m);

	char *idx = tu_readf("%s/index.json", a);
	cr_assert(strstr(idx, r.manifest.digest));
	cr_assert(strstr(idx, "\"org.opencontainers.image.ref.name\":\"latest\""));
	free(idx);
	char *lay = tu_readf("%s/oci-layout", a);
	cr_assert_str_eq(lay, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(lay);
	free(a);
}

Test(build, whiteouts_where_an_add_replaces_base_content)
{
	/* The base has /srv/assets/ (a directory), /opt/tool (a directory) and /etc/conf
	 * (a file); the new image replaces all three and adds /etc/new. */
	tu_write(ctx, "base/opt/tool/bin", "x\n");
	tu_write(ctx, "base/etc/conf", "old\n");
	static const struct oci_add base_adds[] = { { "assets/", "/srv/assets/" },
						    { "base/opt/", "/opt/" },
						    { "base/etc/", "/etc/" } };
	struct oci_build_spec bs = { .context = ctx,
				     .adds = base_adds,
				     .n_adds = 3,
				     .created = 1,
				     .platform = "linux/amd64" };
	char *basedir;
	cr_assert_geq(asprintf(&basedir, "%s/baseimg", ctx), 0);
	struct oci_build_result br = do_build(&bs, basedir);

	tu_write(ctx, "new/only.txt", "new\n");
	tu_write(ctx, "newconf/a", "a\n");
	tu_write(ctx, "tool", "a file now\n");
	tu_write(ctx, "etcnew", "n\n");
	static const struct oci_add adds[] = { { "new/", "/srv/assets/" },
					       { "tool", "/opt/tool" },
					       { "newconf/", "/etc/conf/" },
					       { "etcnew", "/etc/new" } };
	struct oci_build_spec spec = { .context = ctx,
				       .base = "baseimg",
				       .base_confined = true,
				       .adds = adds,
				       .n_adds = 4,
				       .created = 2 };
	char *a = subdir("a");
	struct oci_build_result r = do_build(&spec, a);
	cr_assert_eq(r.base_layers, 1);
	cr_assert_eq(r.whiteouts, 3);
	cr_assert_str_eq(r.base_digest, br.manifest.digest);
	struct tar_entry v[64];
	size_t n = read_layer(a, r.layer.digest, v, 64);
	cr_assert_not_null(find(v, n, "srv/assets/.wh..wh..opq"), "opaque: dir replaces dir");
	cr_assert_not_null(find(v, n, "opt/.wh.tool"), "file replaces dir");
	cr_assert_not_null(find(v, n, "etc/.wh.conf"), "dir replaces file");
	cr_assert_null(find(v, n, "etc/.wh.new"), "nothing to hide");
	/* Whiteouts come before their siblings, the opaque marker first in its directory. */
	size_t iwh = 0, itool = 0, iopq = 0, inew = 0;
	for (size_t i = 0; i < n; i++) {
		iwh = strcmp(v[i].path, "opt/.wh.tool") == 0 ? i : iwh;
		itool = strcmp(v[i].path, "opt/tool") == 0 ? i : itool;
		iopq = strcmp(v[i].path, "srv/assets/.wh..wh..opq") == 0 ? i : iopq;
		inew = strcmp(v[i].path, "srv/assets/only.txt") == 0 ? i : inew;
	}
	cr_assert_lt(iwh, itool);
	cr_assert_lt(iopq, inew);
	/* The base's layer is reused as it is, and the base is named in the manifest. */
	json_t *m = read_blob_json(a, r.manifest.digest);
	json_t *layers = json_object_get(m, "layers");
	cr_assert_eq(json_array_size(layers), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(layers, 0), "digest")),
			 br.layer.digest);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "annotations"),
							   "org.opencontainers.image.base.digest")),
			 br.manifest.digest);
	json_decref(m);
	json_t *cfg = read_blob_json(a, r.config.digest);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids")),
		     2);
	cr_assert_eq(json_array_size(json_object_get(cfg, "history")), 2);
	json_decref(cfg);
	free(basedir);
	free(a);
}

static int build_err(const struct oci_build_spec *spec, const char *out, char *msg, size_t size)
{
	struct oci_build_result res;
	struct oci_err err = { { 0 } };
	int r = oci_build(spec, out, &res, &err);
	snprintf(msg, size, "%s", err.msg);
	return r;
}

Test(build, sources_may_not_escape_the_context)
{
	char msg[800];
	char *p;
	/* A symbolic link to a directory outside, used as a path component. */
	cr_assert_geq(asprintf(&p, "%s/etc-link", ctx), 0);
	cr_assert_eq(symlink("/etc", p), 0);
	free(p);
	struct oci_add a1[] = { { "etc-link/passwd", "/x" } };
	struct oci_build_spec spec = { .context = ctx, .adds = a1, .n_adds = 1 };
	char *out = subdir("o");
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EPERM);
	cr_assert(strstr(msg, "leads outside the workspace"), "%s", msg);
	/* A symbolic link to a file outside, as the source itself. */
	cr_assert_geq(asprintf(&p, "%s/passwd", ctx), 0);
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	free(p);
	struct oci_add a2[] = { { "passwd", "/x" } };
	spec.adds = a2;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EPERM);
	/* "..". */
	struct oci_add a3[] = { { "../../etc/passwd", "/x" } };
	spec.adds = a3;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EPERM);
	/* The message says where the source leads, and no link that is not there. */
	cr_assert(strstr(msg, "/etc/passwd"), "%s", msg);
	cr_assert_not(strstr(msg, "symbolic link"), "%s", msg);
	/* Nothing was written for the refused builds. */
	cr_assert_not(tu_exists("%s/index.json", out));
	/* A link inside the context is fine, and a link inside an added directory is stored
	 * as a link, never followed, even when it points outside. */
	cr_assert_geq(asprintf(&p, "%s/assets/outside", ctx), 0);
	cr_assert_eq(symlink("/etc/shadow", p), 0);
	free(p);
	cr_assert_geq(asprintf(&p, "%s/app-link", ctx), 0);
	cr_assert_eq(symlink("build/app", p), 0);
	free(p);
	struct oci_add a4[] = { { "app-link", "/bin/app" }, { "assets/", "/srv/" } };
	spec.adds = a4;
	spec.n_adds = 2;
	struct oci_build_result r = do_build(&spec, out);
	struct tar_entry v[64];
	size_t n = read_layer(out, r.layer.digest, v, 64);
	const struct tar_entry *l = must(v, n, "srv/outside");
	cr_assert_eq(l->type, AE_IFLNK);
	cr_assert_str_eq(l->link, "/etc/shadow");
	cr_assert_eq(l->size, 0);
	cr_assert_eq(must(v, n, "bin/app")->type, AE_IFREG);
	free(out);
}

/* The directories an add needs on its way are the base's when it has them (not rewritten
 * as 0755 root, which changed /tmp's 1777 and a home directory's owner), and an add below
 * something that is not a directory in the base (merged /usr's /bin -> usr/bin) is refused:
 * a directory written there would replace the link and everything it led to. */
Test(build, parents_the_base_has_stay_the_bases)
{
	tu_write(ctx, "basefs/usr/bin/sh", "#!/bin/true\n");
	tu_write(ctx, "basefs/srv/www/index.html", "hi\n");
	char *link = tu_strf("%s/basefs/bin", ctx);
	cr_assert_eq(symlink("usr/bin", link), 0);
	free(link);
	static const struct oci_add base_adds[] = { { "basefs/", "/" } };
	struct oci_build_spec bs = { .context = ctx,
				     .adds = base_adds,
				     .n_adds = 1,
				     .created = 1,
				     .platform = "linux/amd64" };
	char *basedir = tu_strf("%s/baseimg2", ctx);
	do_build(&bs, basedir);
	tu_write(ctx, "tool", "t\n");
	static const struct oci_add below_link[] = { { "tool", "/bin/tool" } };
	struct oci_build_spec spec = { .context = ctx,
				       .base = "baseimg2",
				       .base_confined = true,
				       .adds = below_link,
				       .n_adds = 1,
				       .created = 2 };
	char msg[800];
	char *o1 = subdir("p1");
	cr_assert_eq(build_err(&spec, o1, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "/bin is not a directory in the base image"), "%s", msg);
	static const struct oci_add below_dir[] = { { "tool", "/srv/www/tool" } };
	spec.adds = below_dir;
	char *o2 = subdir("p2");
	struct oci_build_result r = do_build(&spec, o2);
	struct tar_entry v[16];
	size_t n = read_layer(o2, r.layer.digest, v, 16);
	cr_assert_not_null(find(v, n, "srv/www/tool"));
	cr_assert_null(find(v, n, "srv"), "the base's /srv is left as it is");
	cr_assert_null(find(v, n, "srv/www"), "the base's /srv/www is left as it is");
	free(o1);
	free(o2);
	free(basedir);
}

Test(build, refused_inputs)
{
	char msg[800];
	char *out = subdir("o");
	struct oci_build_spec spec = { .context = ctx };
	/* The same path from two sources. */
	struct oci_add dup[] = { { "build/app", "/x" }, { "assets/site.css", "/x" } };
	spec.adds = dup;
	spec.n_adds = 2;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "/x"), "%s", msg);
	/* A file where another add needs a directory. */
	struct oci_add clash[] = { { "build/app", "/opt" }, { "assets/", "/opt/assets/" } };
	spec.adds = clash;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	/* Bad destinations. */
	const char *bad[] = { "relative", "/a/../b", "/a/./b", "//a", "/a/.wh.x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct oci_add one[] = { { "build/app", bad[i] } };
		spec.adds = one;
		spec.n_adds = 1;
		msg[0] = '\0';
		cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL, "%s", bad[i]);
		cr_assert_not(oci_dest_valid(bad[i]));
	}
	/* A single file whose own name is a whiteout's, added into a directory (which keeps
	 * the source's name): it would hide the base's file, or the whole directory. */
	static const char *const wh[] = { ".wh.passwd", ".wh..wh..opq" };
	for (size_t i = 0; i < 2; i++) {
		char *src = tu_strf("%s/%s", ctx, wh[i]);
		tu_write(ctx, wh[i], "x\n");
		struct oci_add one[] = { { wh[i], "/etc/" } };
		spec.adds = one;
		spec.n_adds = 1;
		msg[0] = '\0';
		cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL, "%s", wh[i]);
		cr_assert(strstr(msg, "whiteout"), "%s", msg);
		unlink(src);
		free(src);
	}
	/* A FIFO inside an added directory. */
	char *fifo;
	cr_assert_geq(asprintf(&fifo, "%s/assets/pipe", ctx), 0);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	struct oci_add f[] = { { "assets/", "/srv/" } };
	spec.adds = f;
	spec.n_adds = 1;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "not a regular file"), "%s", msg);
	unlink(fifo);
	free(fifo);
	/* A missing source. */
	struct oci_add missing[] = { { "nope", "/x" } };
	spec.adds = missing;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "does not exist"), "%s", msg);
	/* An output directory that is neither empty nor a layout. */
	struct oci_add ok[] = { { "build/app", "/x" } };
	spec.adds = ok;
	tu_write(out, "precious.txt", "keep me\n");
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -ENOTEMPTY, "%s", msg);
	cr_assert_not(tu_exists("%s/oci-layout", out));
	/* A layout whose blobs directory is a symbolic link: nothing is written through it. */
	char *lo = subdir("linked");
	char *elsewhere = subdir("elsewhere");
	tu_write(lo, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	char *blobs = tu_strf("%s/blobs", lo);
	cr_assert_eq(symlink(elsewhere, blobs), 0);
	char *shadir = tu_strf("%s/sha256", elsewhere);
	tu_write(elsewhere, "sha256/.keep", "");
	cr_assert_lt(build_err(&spec, lo, msg, sizeof(msg)), 0);
	DIR *dd = opendir(shadir);
	cr_assert_not_null(dd);
	struct dirent *de;
	while ((de = readdir(dd))) {
		cr_assert(de->d_name[0] == '.', "a blob went through the link: %s", de->d_name);
	}
	closedir(dd);
	free(shadir);
	free(blobs);
	free(elsewhere);
	free(lo);
	/* A base given as a tag is not pinned. */
	spec.base = "127.0.0.1:5000/base@latest";
	char *out2 = subdir("o2");
	cr_assert_eq(build_err(&spec, out2, msg, sizeof(msg)), -EINVAL);
	/* A base layout outside the context, when confined. */
	spec.base = "/";
	spec.base_confined = true;
	cr_assert_lt(build_err(&spec, out2, msg, sizeof(msg)), 0);
	free(out);
	free(out2);
}

/* A conflict found after directories two adds share were merged (both files land in
 * /opt): the build is refused, and each entry collected so far is freed once (this
 * aborted with a double free, from `runner image build` too). */
Test(build, a_conflict_below_a_shared_directory_is_refused)
{
	char msg[800];
	char *out = subdir("o");
	struct oci_add dup[] = { { "build/app", "/opt/x" }, { "assets/site.css", "/opt/x" } };
	struct oci_build_spec spec = { .context = ctx, .adds = dup, .n_adds = 2 };
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "/opt/x"), "%s", msg);
	/* A directory's file where another add puts a file of its own. */
	struct oci_add into[] = { { "assets/", "/srv/" }, { "build/app", "/srv/site.css" } };
	spec.adds = into;
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "/srv/site.css"), "%s", msg);
	free(out);
}

/* A registry base given by tag, as docs/image.md says, is refused because a tag can
 * move; the message says so rather than that no such directory exists. */
Test(build, a_registry_base_by_tag_is_refused_as_not_pinned)
{
	char msg[800];
	char *out = subdir("o");
	static const char *const tagged[] = { "127.0.0.1:5000/acme/base:1", "debian:12",
					      "registry.example.com/library/debian" };
	for (size_t i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++) {
		struct oci_build_spec spec = { .context = ctx, .base = tagged[i] };
		msg[0] = '\0';
		cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL, "%s", tagged[i]);
		cr_assert(strstr(msg, "pinned by digest"), "%s: %s", tagged[i], msg);
	}
	/* A layout directory that does not exist is still named as one. */
	struct oci_build_spec spec = { .context = ctx, .base = "no-such-layout" };
	cr_assert_eq(build_err(&spec, out, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "No such file or directory"), "%s", msg);
	cr_assert_not(strstr(msg, "pinned"), "%s", msg);
	free(out);
}

Test(build, rebuild_into_the_same_layout)
{
	struct oci_build_spec spec = std_spec(ctx);
	char *a = subdir("a");
	struct oci_build_result r1 = do_build(&spec, a);
	struct oci_build_result r2 = do_build(&spec, a);
	cr_assert_str_eq(r1.manifest.digest, r2.manifest.digest);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_open(a, &l, &err), 0, "%s", err.msg);
	struct oci_descriptor d;
	cr_assert_eq(oci_layout_find(l, NULL, &d, &err), 0, "%s", err.msg);
	cr_assert_str_eq(d.digest, r1.manifest.digest);
	cr_assert_eq(oci_layout_find(l, "latest", &d, &err), 0);
	cr_assert_eq(oci_layout_find(l, "other", &d, &err), -ENOENT);
	oci_layout_free(l);
	/* A blob already there with the right name and size but other bytes (planted, or
	 * damaged) is not taken for the real one: the rebuild writes it again. */
	char *blob = tu_strf("%s/blobs/sha256/%s", a, r1.layer.digest + strlen("sha256:"));
	FILE *f = fopen(blob, "r+");
	cr_assert_not_null(f);
	cr_assert_eq(fputc('X', f) == EOF, 0);
	fclose(f);
	cr_assert_eq(oci_layout_open(a, &l, &err), 0, "%s", err.msg);
	cr_assert_not(oci_layout_has_blob(l, r1.layer.digest, r1.layer.size), "damaged");
	oci_layout_free(l);
	do_build(&spec, a);
	cr_assert_eq(oci_layout_open(a, &l, &err), 0, "%s", err.msg);
	cr_assert(oci_layout_has_blob(l, r1.layer.digest, r1.layer.size), "written again");
	oci_layout_free(l);
	free(blob);
	free(a);
}

/* ---------- a base that is an image index ---------- */

struct multi {
	struct oci_build_result amd64, arm64;
	struct oci_descriptor att, index; /* the attestation manifest, the index blob */
};

/* An index entry for d with a platform ("os/arch[/variant]"; NULL: none). */
static json_t *entry(const struct oci_descriptor *d, const char *platform)
{
	json_t *e = oci_descriptor_json(d);
	if (platform) {
		char p[64];
		snprintf(p, sizeof(p), "%s", platform);
		char *arch = strchr(p, '/'), *variant;
		*arch++ = '\0';
		if ((variant = strchr(arch, '/'))) {
			*variant++ = '\0';
		}
		json_t *pl = json_pack("{s:s, s:s}", "os", p, "architecture", arch);
		if (variant) {
			json_object_set_new(pl, "variant", json_string(variant));
		}
		json_object_set_new(e, "platform", pl);
	}
	return e;
}

static json_t *index_of(json_t *manifests)
{
	return json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
			 "manifests", manifests);
}

static void put_text(struct oci_layout *l, json_t *j, const char *mt, struct oci_descriptor *d)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_eq(oci_layout_put_blob(l, text, strlen(text), d), 0);
	snprintf(d->media_type, sizeof(d->media_type), "%s", mt);
	free(text);
	json_decref(j);
}

static void copy_image(struct oci_layout *dst, const char *src_dir,
		       const struct oci_build_result *r)
{
	struct oci_layout *src;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_open(src_dir, &src, &err), 0, "%s", err.msg);
	cr_assert_eq(oci_layout_copy_blob(dst, src, r->manifest.digest, &err), 0, "%s", err.msg);
	cr_assert_eq(oci_layout_copy_blob(dst, src, r->config.digest, &err), 0, "%s", err.msg);
	cr_assert_eq(oci_layout_copy_blob(dst, src, r->layer.digest, &err), 0, "%s", err.msg);
	oci_layout_free(src);
}

/*
 * ctx/multi: a layout whose index.json names one index (as skopeo copy --all writes it)
 * with linux/amd64, linux/arm64/v8 and an attestation (unknown/unknown); with flat, the
 * three are listed in index.json itself.
 */
static struct multi make_multi(bool flat)
{
	struct multi mu;
	char *pa = subdir("p-amd64"), *pb = subdir("p-arm64"), *dir;
	struct oci_build_spec spec = std_spec(ctx);
	mu.amd64 = do_build(&spec, pa);
	spec.platform = "linux/arm64/v8";
	mu.arm64 = do_build(&spec, pb);
	cr_assert_geq(asprintf(&dir, "%s/multi", ctx), 0);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_init(dir, &l, &err), 0, "%s", err.msg);
	copy_image(l, pa, &mu.amd64);
	copy_image(l, pb, &mu.arm64);
	/* An attestation manifest as buildx pushes them: an image manifest, no platform. */
	struct oci_descriptor acfg;
	put_text(l, json_object(), OCI_MT_CONFIG, &acfg);
	put_text(l,
		 json_pack("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType",
			   OCI_MT_MANIFEST, "config", oci_descriptor_json(&acfg), "layers"),
		 OCI_MT_MANIFEST, &mu.att);
	json_t *ms = json_pack("[o, o, o]", entry(&mu.amd64.manifest, "linux/amd64"),
			       entry(&mu.arm64.manifest, "linux/arm64/v8"),
			       entry(&mu.att, "unknown/unknown"));
	if (flat) {
		json_t *idx = index_of(ms);
		char *text = json_dumps(idx, JSON_COMPACT);
		tu_write(dir, "index.json", text);
		free(text);
		json_decref(idx);
		memset(&mu.index, 0, sizeof(mu.index));
	} else {
		put_text(l, index_of(ms), OCI_MT_INDEX, &mu.index);
		cr_assert_eq(oci_layout_write_index(l, &mu.index, NULL, &err), 0, "%s", err.msg);
	}
	oci_layout_free(l);
	free(pa);
	free(pb);
	free(dir);
	return mu;
}

/* A build of one add on ctx/<base> for platform. */
static struct oci_build_spec spec_on(const char *base, const struct oci_add *add,
				     const char *platform)
{
	return (struct oci_build_spec){ .context = ctx,
					.base = base,
					.base_confined = true,
					.adds = add,
					.n_adds = 1,
					.platform = platform,
					.created = 1 };
}

static const struct oci_add multi_adds[] = { { "assets/site.css", "/srv/site.css" } };

static struct oci_build_spec multi_spec(const char *platform)
{
	return spec_on("multi", multi_adds, platform);
}

static void assert_based_on(const char *layout, const struct oci_build_result *r,
			    const char *pinned, const struct oci_build_result *base,
			    const char *arch, const char *variant)
{
	cr_assert_str_eq(r->base_digest, pinned);
	cr_assert_str_eq(r->base_manifest, base->manifest.digest);
	json_t *m = read_blob_json(layout, r->manifest.digest);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "annotations"),
							   "org.opencontainers.image.base.digest")),
			 pinned);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(m, "layers"), 0), "digest")),
			 base->layer.digest);
	json_decref(m);
	json_t *cfg = read_blob_json(layout, r->config.digest);
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "os")), "linux");
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "architecture")), arch);
	if (variant) {
		cr_assert_str_eq(json_string_value(json_object_get(cfg, "variant")), variant);
	} else {
		cr_assert_null(json_object_get(cfg, "variant"));
	}
	json_decref(cfg);
}

Test(build, a_base_index_gives_the_platform_asked_for)
{
	struct multi mu = make_multi(false);
	char *a = subdir("a"), *b = subdir("b"), *c = subdir("c"), *d = subdir("d");

	/* No platform: this machine's (linux/amd64 where the tests run; else said so). */
	struct oci_build_spec spec = multi_spec(NULL);
	if (strcmp(oci_host_platform(), "linux/amd64") == 0) {
		struct oci_build_result r = do_build(&spec, a);
		assert_based_on(a, &r, mu.index.digest, &mu.amd64, "amd64", NULL);
	}
	spec.platform = "linux/amd64";
	struct oci_build_result ra = do_build(&spec, a);
	assert_based_on(a, &ra, mu.index.digest, &mu.amd64, "amd64", NULL);

	spec.platform = "linux/arm64/v8";
	struct oci_build_result r1 = do_build(&spec, b);
	assert_based_on(b, &r1, mu.index.digest, &mu.arm64, "arm64", "v8");
	/* Same inputs, same bytes; and arm64 means arm64/v8. */
	spec.platform = "linux/arm64";
	struct oci_build_result r2 = do_build(&spec, c);
	cr_assert_str_eq(r1.manifest.digest, r2.manifest.digest);
	cr_assert_str_neq(r1.manifest.digest, ra.manifest.digest);

	/* No image for the platform: refused, naming what there is (not the attestation). */
	char msg[1024];
	spec.platform = "linux/s390x";
	cr_assert_eq(build_err(&spec, d, msg, sizeof(msg)), -ENOENT, "%s", msg);
	cr_assert(strstr(msg, "no image for linux/s390x"), "%s", msg);
	cr_assert(strstr(msg, "(it has: linux/amd64, linux/arm64/v8)"), "%s", msg);
	cr_assert_null(strstr(msg, "unknown"), "%s", msg);
	spec.platform = "linux/amd64/v3";
	cr_assert_eq(build_err(&spec, d, msg, sizeof(msg)), -ENOENT, "%s", msg);
	spec.platform = "unknown/unknown";
	cr_assert_eq(build_err(&spec, d, msg, sizeof(msg)), -ENOENT, "%s", msg);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A base that is one image is used whatever its platform when none is asked for, and must
 * be for the platform asked for when one is. */
Test(build, a_single_image_base_must_be_for_the_platform_asked_for)
{
	char *base, *a = subdir("a"), *b = subdir("b"), *c = subdir("c");
	cr_assert_geq(asprintf(&base, "%s/single", ctx), 0);
	struct oci_build_spec spec = std_spec(ctx);
	spec.platform = "linux/arm64/v8";
	do_build(&spec, base);
	spec = multi_spec(NULL);
	spec.base = "single";
	struct oci_build_result r = do_build(&spec, a);
	json_t *cfg = read_blob_json(a, r.config.digest);
	cr_assert_str_eq(json_string_value(json_object_get(cfg, "architecture")), "arm64");
	json_decref(cfg);
	spec.platform = "linux/arm64";
	do_build(&spec, b);
	char msg[1024];
	spec.platform = "linux/amd64";
	cr_assert_eq(build_err(&spec, c, msg, sizeof(msg)), -EINVAL, "%s", msg);
	cr_assert(strstr(msg, "is an image for linux/arm64, not for linux/amd64 as asked"), "%s",
		  msg);
	free(base);
	free(a);
	free(b);
	free(c);
}

Test(build, platforms_listed_in_index_json_itself)
{
	struct multi mu = make_multi(true);
	char *a = subdir("a");
	struct oci_build_spec spec = multi_spec("linux/arm64/v8");
	struct oci_build_result r = do_build(&spec, a);
	/* index.json is no blob: what is pinned is the manifest chosen. */
	assert_based_on(a, &r, mu.arm64.manifest.digest, &mu.arm64, "arm64", "v8");
	free(a);
}

Test(build, a_tampered_chosen_manifest_is_refused)
{
	struct multi mu = make_multi(false);
	char *a = subdir("a"), *b = subdir("b");
	char msg[1024];
	/* Same size, other bytes: only the digest can tell. */
	char *blob;
	cr_assert_geq(
		asprintf(&blob, "%s/multi/blobs/sha256/%s", ctx, mu.amd64.manifest.digest + 7), 0);
	char *text = tu_readf("%s", blob);
	char *p = strstr(text, "\"schemaVersion\":2");
	cr_assert_not_null(p);
	p[strlen("\"schemaVersion\":")] = '3';
	FILE *f = fopen(blob, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	struct oci_build_spec spec = multi_spec("linux/amd64");
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EBADMSG, "%s", msg);
	cr_assert(strstr(msg, mu.amd64.manifest.digest), "%s", msg);
	/* The other platform's image is untouched and still builds. */
	spec.platform = "linux/arm64/v8";
	do_build(&spec, b);
	/* A tampered index is refused before anything in it is believed. */
	char *idx;
	cr_assert_geq(asprintf(&idx, "%s/multi/blobs/sha256/%s", ctx, mu.index.digest + 7), 0);
	f = fopen(idx, "a");
	cr_assert_not_null(f);
	fputs(" ", f);
	fclose(f);
	cr_assert_lt(build_err(&spec, a, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, mu.index.digest), "%s", msg);
	free(idx);
	free(text);
	free(blob);
	free(a);
	free(b);
}

/* Replace ctx/multi's index blob (and index.json) with one listing ms. */
static void reindex(json_t *ms)
{
	char *dir;
	cr_assert_geq(asprintf(&dir, "%s/multi", ctx), 0);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_open(dir, &l, &err), 0, "%s", err.msg);
	struct oci_descriptor d;
	put_text(l, index_of(ms), OCI_MT_INDEX, &d);
	cr_assert_eq(oci_layout_write_index(l, &d, NULL, &err), 0, "%s", err.msg);
	oci_layout_free(l);
	free(dir);
}

Test(build, index_refusals)
{
	struct multi mu = make_multi(false);
	char *a = subdir("a");
	char msg[1024];
	struct oci_build_spec spec = multi_spec("linux/amd64");

	/* Two images for one platform: which one is not ours to guess. */
	reindex(json_pack("[o, o]", entry(&mu.amd64.manifest, "linux/amd64"),
			  entry(&mu.arm64.manifest, "linux/amd64")));
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EINVAL, "%s", msg);
	cr_assert(strstr(msg, "more than one image for linux/amd64"), "%s", msg);

	/* An entry that says arm64 but leads to an amd64 config. */
	reindex(json_pack("[o]", entry(&mu.amd64.manifest, "linux/arm64/v8")));
	spec.platform = "linux/arm64/v8";
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EINVAL, "%s", msg);
	cr_assert(strstr(msg, "config is for linux/amd64"), "%s", msg);
	spec.platform = "linux/amd64";

	/* A nested index is not followed. */
	reindex(json_pack("[o]", entry(&mu.index, "linux/amd64")));
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EINVAL, "%s", msg);
	cr_assert(strstr(msg, "nested"), "%s", msg);

	/* A malformed entry fails the whole index, even beside a good one. */
	json_t *bad = entry(&mu.arm64.manifest, "linux/arm64/v8");
	json_object_set_new(bad, "digest", json_string("sha256:nothex"));
	reindex(json_pack("[o, o]", entry(&mu.amd64.manifest, "linux/amd64"), bad));
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EINVAL, "%s", msg);
	cr_assert(strstr(msg, "not a valid descriptor"), "%s", msg);

	/* More entries than OCI_INDEX_MAX. */
	json_t *many = json_array();
	for (int i = 0; i < 257; i++) {
		json_array_append_new(many, entry(&mu.att, "unknown/unknown"));
	}
	json_array_append_new(many, entry(&mu.amd64.manifest, "linux/amd64"));
	reindex(many);
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EINVAL, "%s", msg);
	cr_assert(strstr(msg, "at most 256"), "%s", msg);
	free(a);
}

/* ---------- caps on what a base brings ---------- */

/*
 * ctx/<name>: a layout with one linux/amd64 image whose layers are `layer` repeated
 * `times` times (an uncompressed tar: its digest is its diff_id).
 */
static void make_base(const char *name, const struct oci_descriptor *layer, size_t times)
{
	char *dir;
	cr_assert_geq(asprintf(&dir, "%s/%s", ctx, name), 0);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_init(dir, &l, &err), 0, "%s", err.msg);
	json_t *ids = json_array(), *layers = json_array();
	for (size_t i = 0; i < times; i++) {
		json_array_append_new(ids, json_string(layer->digest));
		json_array_append_new(layers, oci_descriptor_json(layer));
	}
	struct oci_descriptor cfg, man;
	put_text(l,
		 json_pack("{s:s, s:s, s:{s:s, s:o}}", "architecture", "amd64", "os", "linux",
			   "rootfs", "type", "layers", "diff_ids", ids),
		 OCI_MT_CONFIG, &cfg);
	put_text(l,
		 json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
			   "config", oci_descriptor_json(&cfg), "layers", layers),
		 OCI_MT_MANIFEST, &man);
	cr_assert_eq(oci_layout_write_index(l, &man, NULL, &err), 0, "%s", err.msg);
	oci_layout_free(l);
	free(dir);
}

/* An uncompressed tar layer with srv/ and one file srv/big of `size` zero bytes. */
static struct oci_descriptor put_tar_layer(const char *name, size_t size)
{
	size_t cap = size + (64u << 10), used = 0;
	char *buf = calloc(1, cap);
	cr_assert_not_null(buf);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	cr_assert_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "srv/");
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0755);
	cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
	archive_entry_clear(e);
	archive_entry_set_pathname(e, "srv/big");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
	char *zeros = calloc(1, size ? size : 1);
	cr_assert_eq(archive_write_data(a, zeros, size), (la_ssize_t)size);
	free(zeros);
	archive_entry_free(e);
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	char *dir;
	cr_assert_geq(asprintf(&dir, "%s/%s", ctx, name), 0);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_init(dir, &l, &err), 0, "%s", err.msg);
	struct oci_descriptor d;
	cr_assert_eq(oci_layout_put_blob(l, buf, used, &d), 0);
	snprintf(d.media_type, sizeof(d.media_type), "%s", OCI_MT_LAYER);
	oci_layout_free(l);
	free(dir);
	free(buf);
	return d;
}

/* A ustar header block for name, of size bytes and type t ('0', 'x', '5'...). */
static void ustar_header(char blk[512], const char *name, size_t size, char t)
{
	memset(blk, 0, 512);
	snprintf(blk, 100, "%s", name);
	snprintf(blk + 100, 8, "%07o", 0644);
	snprintf(blk + 108, 8, "%07o", 0);
	snprintf(blk + 116, 8, "%07o", 0);
	snprintf(blk + 124, 12, "%011zo", size);
	snprintf(blk + 136, 12, "%011o", 0);
	blk[156] = t;
	memcpy(blk + 257, "ustar", 6);
	memcpy(blk + 263, "00", 2);
	memset(blk + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < 512; i++) {
		sum += (unsigned char)blk[i];
	}
	snprintf(blk + 148, 8, "%06o", sum);
}

/* Append data (size bytes) to f, padded to whole blocks. */
static void put_blocks(FILE *f, const void *data, size_t size)
{
	static const char zeros[512];
	cr_assert_eq(fwrite(data, 1, size, f), size);
	cr_assert_eq(fwrite(zeros, 1, (512 - size % 512) % 512, f), (512 - size % 512) % 512);
}

static const struct oci_add srv_adds[] = { { "assets/", "/srv/" } };

static struct oci_build_spec base_spec(const char *base)
{
	return spec_on(base, srv_adds, "linux/amd64");
}

Test(build, a_base_with_too_many_layers_is_refused)
{
	char *a = subdir("a");
	char msg[1024];
	struct oci_descriptor layer = put_tar_layer("many", 16);
	/* As many as an image may have with the new layer: built (the one layer reused 255
	 * times), and the image can be a base in turn. */
	make_base("many", &layer, OCI_LAYERS_MAX - 1);
	struct oci_build_spec spec = base_spec("many");
	struct oci_build_result r = do_build(&spec, a);
	cr_assert_eq(r.base_layers, OCI_LAYERS_MAX - 1);
	/* A base as large as allowed, but no room for the new layer: refused before any
	 * layer is read (the image built could not be built on, nor pushed). */
	make_base("many", &layer, OCI_LAYERS_MAX);
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -E2BIG, "%s", msg);
	cr_assert(strstr(msg, "the image built") && strstr(msg, "257 layers"), "%s", msg);
	/* One more in the base: refused as the base. */
	make_base("many", &layer, OCI_LAYERS_MAX + 1);
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -E2BIG, "%s", msg);
	cr_assert(strstr(msg, "the base image has 257 layers"), "%s", msg);
	free(a);
}

Test(build, a_base_whose_layers_inflate_past_the_cap_is_refused)
{
	char *a = subdir("a");
	char msg[1024];
	struct oci_descriptor layer = put_tar_layer("big", 3u << 20);
	make_base("big", &layer, 2);
	struct oci_build_spec spec = base_spec("big");
	/* Both layers are read to learn that /srv is a directory the add replaces. */
	spec.max_base_tar = 8u << 20;
	struct oci_build_result r = do_build(&spec, a);
	cr_assert_eq(r.whiteouts, 1, "srv/.wh..wh..opq");
	/* A cap below the two layers' tar: refused, in the second layer. */
	spec.max_base_tar = 5u << 20;
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -E2BIG, "%s", msg);
	cr_assert(strstr(msg, "more than 5242880 bytes of tar"), "%s", msg);
	/* Below one layer's: refused in the first. */
	spec.max_base_tar = 1u << 20;
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -E2BIG, "%s", msg);
	cr_assert(strstr(msg, layer.digest), "%s", msg);
	free(a);
}

/* Names are UTF-8 in the layer whatever the caller's locale (this test process runs in
 * "C", where libarchive could not convert them); a name that is not UTF-8 is refused. */
Test(build, utf8_names_in_any_locale)
{
	tu_write(ctx, "intl/caf\xc3\xa9.txt", "x\n");
	char *link;
	cr_assert_geq(asprintf(&link, "%s/intl/\xe6\x97\xa5\xe6\x9c\xac", ctx), 0);
	cr_assert_eq(symlink("caf\xc3\xa9.txt", link), 0);
	free(link);
	static const struct oci_add adds[] = { { "intl/", "/srv/" } };
	struct oci_build_spec spec = spec_on("scratch", adds, "linux/amd64");
	char *a = subdir("a");
	struct oci_build_result r = do_build(&spec, a);
	struct tar_entry v[8];
	size_t n = read_layer(a, r.layer.digest, v, 8);
	cr_assert_eq(n, 3);
	cr_assert_not_null(find(v, n, "srv/caf\xc3\xa9.txt"));
	const struct tar_entry *l = find(v, n, "srv/\xe6\x97\xa5\xe6\x9c\xac");
	cr_assert_not_null(l);
	cr_assert_str_eq(l->link, "caf\xc3\xa9.txt");
	/* The same bytes whatever the locale asked for outside. */
	struct oci_build_result again = do_build(&spec, a);
	cr_assert_str_eq(again.manifest.digest, r.manifest.digest);

	tu_write(ctx, "bad/x\xff", "x\n");
	static const struct oci_add bad[] = { { "bad/", "/srv/" } };
	spec.adds = bad;
	char msg[1024];
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -EILSEQ, "%s", msg);
	cr_assert(strstr(msg, "is not UTF-8"), "%s", msg);
	free(a);
}

/*
 * A layer whose one entry is a GNU sparse file (pax format 1.0) with a sparse map of 1.5
 * million entries, 6 MiB: libarchive reads the whole map, keeping every entry, within the one
 * call that reads the header. Under the cap on all the tar, but one call may read 4 MiB at
 * most: refused, where it used to be read to its end (and a longer map, to any memory).
 */
Test(build, a_sparse_map_without_end_is_refused)
{
	char *dir = tu_strf("%s/sparse", ctx);
	struct oci_layout *l;
	struct oci_err err = { { 0 } };
	cr_assert_eq(oci_layout_init(dir, &l, &err), 0, "%s", err.msg);
	char *tmp = tu_strf("%s/sparse.tar", ctx);
	FILE *f = fopen(tmp, "w+b");
	cr_assert_not_null(f);
	char blk[512];
	ustar_header(blk, "srv/", 0, '5');
	put_blocks(f, blk, 512);
	static const char pax[] = "22 GNU.sparse.major=1\n"
				  "22 GNU.sparse.minor=0\n"
				  "25 GNU.sparse.name=srv/x\n"
				  "25 GNU.sparse.realsize=0\n";
	ustar_header(blk, "srv/PaxHeaders/x", sizeof(pax) - 1, 'x');
	put_blocks(f, blk, 512);
	put_blocks(f, pax, sizeof(pax) - 1);
	const size_t n = 1500000;
	static const char entry[] = "0\n0\n";
	char count[32];
	int cl = snprintf(count, sizeof(count), "%zu\n", n);
	/* The map fills whole blocks, which the entry's size counts. */
	size_t size = (size_t)cl + n * (sizeof(entry) - 1);
	size_t padded = size + (512 - size % 512) % 512;
	ustar_header(blk, "srv/GNUSparseFile.0/x", padded, '0');
	put_blocks(f, blk, 512);
	cr_assert_eq(fwrite(count, 1, (size_t)cl, f), (size_t)cl);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(fwrite(entry, 1, sizeof(entry) - 1, f), sizeof(entry) - 1);
	}
	static const char end[1024]; /* the map's padding (< 512), then two zero blocks */
	cr_assert_eq(fwrite(end, 1, padded - size, f), padded - size);
	cr_assert_eq(fwrite(end, 1, sizeof(end), f), sizeof(end));
	long len = ftell(f);
	cr_assert_gt(len, 0);
	char *data = malloc((size_t)len);
	rewind(f);
	cr_assert_eq(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	struct oci_descriptor layer;
	cr_assert_eq(oci_layout_put_blob(l, data, (size_t)len, &layer), 0);
	snprintf(layer.media_type, sizeof(layer.media_type), "%s", OCI_MT_LAYER);
	oci_layout_free(l);
	free(data);
	make_base("sparse", &layer, 1);
	struct oci_build_spec spec = base_spec("sparse");
	char *a = subdir("a");
	char msg[1024];
	cr_assert_eq(build_err(&spec, a, msg, sizeof(msg)), -E2BIG, "%s", msg);
	cr_assert(strstr(msg, "one tar header takes more than 4 MiB"), "%s", msg);
	free(a);
	free(tmp);
	free(dir);
}
