/*
 * index.h - choosing one platform's image from an image index (OCI image index or Docker
 * manifest list), for a build's base.
 *
 * Most published base images are indexes with one manifest per platform, often beside
 * attestation manifests (platform unknown/unknown). The choice is strict, so that a base
 * never silently becomes another platform's image:
 *   - os and architecture must be equal; variants are compared after the usual
 *     defaults (arm64 means arm64/v8, arm means arm/v7), and none means none;
 *   - exactly one image manifest must match: none, or several, is an error naming the
 *     platforms the index offers;
 *   - an entry that is itself an index is refused (nested indexes are not followed), an
 *     entry that is not a valid descriptor is refused, and an index of more than
 *     OCI_INDEX_MAX entries is refused;
 *   - entries without a platform, with os or architecture "unknown" (attestations), or of
 *     another media type (artifacts, signatures) are never chosen.
 * The caller still fetches the chosen manifest and checks it against its digest.
 */
#ifndef RUNNER_OCI_INDEX_H
#define RUNNER_OCI_INDEX_H

#include "layout.h"

#include <jansson.h>

struct oci_err;

/* Most entries an index may have (real ones have a few dozen at most). */
#define OCI_INDEX_MAX 256

/*
 * From the parsed index `index`, the descriptor of the image manifest for platform
 * "os/arch[/variant]" into *d. what names the index in messages. Returns 0, -ENOENT (no
 * match), -EINVAL (several matches, or a malformed or oversized index) with err saying
 * which platforms there are.
 */
int oci_index_select(const json_t *index, const char *platform, struct oci_descriptor *d,
		     const char *what, struct oci_err *err);

/*
 * Whether the config `config` (an image config object) is for platform: os and
 * architecture equal, and variant (with the defaults above) when the config names one.
 */
bool oci_config_is_platform(const json_t *config, const char *platform);

#endif
