/*
 * index.c - choosing one platform's image from an image index (see index.h).
 */
#include "index.h"

#include "err.h"
#include "sbuf.h"
#include "util.h"

#include <stdio.h>

#include "banned.h"

struct platform {
	char os[65], arch[65], variant[65];
};

/* The variant a platform means when it names none (as containerd and docker do). */
static const char *default_variant(const char *arch)
{
	if (str_eq(arch, "arm64")) {
		return "v8";
	}
	if (str_eq(arch, "arm")) {
		return "v7";
	}
	return "";
}

static void split(const char *s, struct platform *p)
{
	char buf[sizeof(p->os) + sizeof(p->arch) + sizeof(p->variant)];
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	memset(p, 0, sizeof(*p));
	char *arch = strchr(buf, '/'), *variant = NULL;
	if (arch) {
		*arch++ = '\0';
		if ((variant = strchr(arch, '/'))) {
			*variant++ = '\0';
		}
	}
	/* Valid platforms are at most 64 characters in all (oci_platform_valid). */
	snprintf(p->os, sizeof(p->os), "%.64s", buf);
	snprintf(p->arch, sizeof(p->arch), "%.64s", arch ? arch : "");
	snprintf(p->variant, sizeof(p->variant), "%.64s",
		 variant && *variant ? variant : default_variant(p->arch));
}

static bool variant_eq(const struct platform *want, const char *arch, const char *variant)
{
	return str_eq(want->variant, variant && *variant ? variant : default_variant(arch));
}

int oci_index_select(const json_t *index, const char *platform, struct oci_descriptor *d,
		     const char *what, struct oci_err *err)
{
	struct platform want;
	split(platform, &want);
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_object(index) || !json_is_array(ms)) {
		return oci_errf(err, -EINVAL, "%s: not an image index", what);
	}
	if (json_array_size(ms) > OCI_INDEX_MAX) {
		return oci_errf(err, -EINVAL, "%s: the index has %zu entries (at most %d)", what,
				json_array_size(ms), OCI_INDEX_MAX);
	}
	struct sbuf avail;
	sbuf_init(&avail, 400);
	size_t found = 0;
	bool more = false;
	int r = 0;
	for (size_t i = 0; i < json_array_size(ms) && r == 0; i++) {
		json_t *m = json_array_get(ms, i);
		struct oci_descriptor cand;
		if (oci_descriptor_parse(m, &cand) < 0) {
			r = oci_errf(err, -EINVAL, "%s: index entry %zu is not a valid descriptor",
				     what, i);
			break;
		}
		if (oci_mt_is_index(cand.media_type)) {
			r = oci_errf(err, -EINVAL,
				     "%s: index entry %zu is itself an index (nested indexes are "
				     "not followed); pin the inner index or a manifest",
				     what, i);
			break;
		}
		json_t *pl = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		const char *variant = json_string_value(json_object_get(pl, "variant"));
		if (!oci_mt_is_manifest(cand.media_type) || !os || !arch || !*os || !*arch ||
		    str_eq(os, "unknown") || str_eq(arch, "unknown")) {
			continue; /* attestations, artifacts: never a base */
		}
		/* What there is, for the message (which has room for a few dozen). */
		if (!more &&
		    sbuf_printf(&avail, "%s%.64s/%.64s%s%.64s", avail.len ? ", " : "", os, arch,
				variant && *variant ? "/" : "", variant ? variant : "") < 0) {
			more = true;
		}
		if (str_eq(os, want.os) && str_eq(arch, want.arch) &&
		    variant_eq(&want, arch, variant)) {
			if (found++ == 0) {
				*d = cand;
			}
		}
	}
	if (r == 0 && found != 1) {
		r = oci_errf(err, found ? -EINVAL : -ENOENT,
			     "%s: the index has %s image for %s (it has: %s%s)", what,
			     found ? "more than one" : "no", platform,
			     avail.len ? avail.data : "no platform images", more ? ", ..." : "");
	}
	sbuf_release(&avail);
	if (r < 0) {
		memset(d, 0, sizeof(*d));
	}
	return r;
}

bool oci_config_is_platform(const json_t *config, const char *platform)
{
	struct platform want;
	split(platform, &want);
	const char *os = json_string_value(json_object_get(config, "os"));
	const char *arch = json_string_value(json_object_get(config, "architecture"));
	const char *variant = json_string_value(json_object_get(config, "variant"));
	return str_eq(os, want.os) && str_eq(arch, want.arch) &&
	       (!variant || !*variant || variant_eq(&want, arch, variant));
}
