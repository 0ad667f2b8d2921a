/*
 * fuzz-base-layer.c - a base image's layer is untrusted (it comes from a registry): the
 * build reads it (libarchive, any compression) to learn which paths an `add` replaces,
 * and must then either build or refuse, never crash, hang or leak. The input is used as
 * the only layer of a base layout; the build adds a file and a directory over it.
 *
 * The same input is then the base's image index (index.json naming it as one, as skopeo
 * copy --all writes a layout): choosing a platform's manifest from an untrusted index
 * must fail cleanly or pick an entry, never crash. (A choice only goes on to a build when
 * the input names a manifest of the layout by digest, which a seed cannot know; the
 * choosing is what is fuzzed here.)
 */
#include "err.h"
#include "image.h"
#include "layout.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	if (!f) {
		abort();
	}
	fputs(text, f);
	fclose(f);
}

static void cleanup(void)
{
	rm_rf(root);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/fuzz-base-layer-XXXXXX");
	if (!mkdtemp(root)) {
		abort();
	}
	atexit(cleanup);
	char path[256];
	snprintf(path, sizeof(path), "%s/dir", root);
	mkdir(path, 0755);
	put("file", "new file\n");
	put("dir/inner", "inner\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0]) {
		setup();
	}
	char base[128], out[128];
	snprintf(base, sizeof(base), "%s/base", root);
	snprintf(out, sizeof(out), "%s/out", root);
	struct oci_err err = { { 0 } };
	struct oci_layout *l;
	if (oci_layout_init(base, &l, &err) < 0) {
		abort();
	}
	struct oci_descriptor layer, cfg, man;
	if (oci_layout_put_blob(l, data, size, &layer) < 0) {
		abort();
	}
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}",
		 layer.digest);
	oci_layout_put_blob(l, text, strlen(text), &cfg);
	snprintf(text, sizeof(text),
		 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":%llu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":"
		 "\"%s\",\"size\":%llu}]}",
		 OCI_MT_MANIFEST, OCI_MT_CONFIG, cfg.digest, (unsigned long long)cfg.size,
		 OCI_MT_LAYER_GZIP, layer.digest, (unsigned long long)layer.size);
	oci_layout_put_blob(l, text, strlen(text), &man);
	snprintf(man.media_type, sizeof(man.media_type), "%s", OCI_MT_MANIFEST);
	oci_layout_write_index(l, &man, NULL, &err);
	oci_layout_free(l);

	static const struct oci_add adds[] = {
		{ "file", "/etc/passwd" },
		{ "file", "/usr/bin/" },
		{ "dir/", "/srv/www/" },
		{ "dir/", "/opt/" },
	};
	struct oci_build_spec spec = {
		.context = root,
		.base = "base",
		.base_confined = true,
		.adds = adds,
		.n_adds = sizeof(adds) / sizeof(adds[0]),
		.created = 1,
	};
	struct oci_build_result res;
	memset(&err, 0, sizeof(err));
	int r = oci_build(&spec, out, &res, &err);
	if (r < 0 && !err.msg[0]) {
		__builtin_trap(); /* a refusal always says why */
	}

	/* The input as an image index; the manifest built above is in the layout too. */
	if (oci_layout_open(base, &l, &err) < 0) {
		abort();
	}
	snprintf(layer.media_type, sizeof(layer.media_type), "%s", OCI_MT_INDEX);
	oci_layout_write_index(l, &layer, NULL, &err);
	oci_layout_free(l);
	rm_rf(out);
	spec.platform = "linux/arm64/v8";
	memset(&err, 0, sizeof(err));
	r = oci_build(&spec, out, &res, &err);
	if (r < 0 && !err.msg[0]) {
		__builtin_trap();
	}
	/* The next input starts from nothing (and the disk does not fill up). */
	rm_rf(base);
	rm_rf(out);
	return 0;
}
