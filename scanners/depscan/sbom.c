/*
 * sbom.c - a CycloneDX 1.5 JSON SBOM of the packages a dependency scan found.
 *
 * One component per distinct package URL (the same package in several lockfiles is one
 * component, with every place it was found as a "runner:location" property), type
 * "library", with group/name/version/purl; the scanned project is the metadata component;
 * findings become "vulnerabilities" with their ratings and the components they affect.
 * serialNumber is a random UUID (version 4) as the specification asks.
 */
#include "depscan.h"

#include "eco.h"
#include "hmap.h"
#include "util.h"

#include <stdio.h>

#include "banned.h"

/* A JSON string of text from a lockfile: never NULL (jansson refuses text that is not
 * UTF-8, which would drop a required field); invalid bytes become U+FFFD. */
static json_t *jstr(const char *t)
{
	char *clean = utf8_sanitize(t ? t : "", t ? strlen(t) : 0);
	json_t *j = json_string(clean);
	free(clean);
	return j;
}

static char *uuid4(void)
{
	unsigned char b[16];
	if (random_bytes(b, sizeof(b)) < 0) {
		memset(b, 0, sizeof(b));
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	char hex[33];
	hex_encode(b, sizeof(b), hex);
	return xasprintf("urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
			 hex + 20);
}

static const char *method_of(double score, const char *source)
{
	(void)score;
	if (str_eq(source, "CVSS_V4")) {
		return "CVSSv4";
	}
	if (str_eq(source, "CVSS_V3")) {
		return "CVSSv31";
	}
	return "other";
}

json_t *depscan_sbom(const struct dep_list *deps, const struct finding_list *fl, const char *name,
		     const char *tool_version)
{
	json_t *bom = json_object();
	char ts[40];
	_cleanup_free_ char *serial = uuid4();
	json_object_set_new(bom, "bomFormat", json_string("CycloneDX"));
	json_object_set_new(bom, "specVersion", json_string("1.5"));
	json_object_set_new(bom, "serialNumber", json_string(serial));
	json_object_set_new(bom, "version", json_integer(1));
	json_t *meta =
		json_pack("{s:s, s:{s:[{s:s, s:s, s:s}]}, s:{s:s, s:s, s:s}}", "timestamp",
			  format_rfc3339(now_real_ms(), ts, sizeof(ts)), "tools", "components",
			  "type", "application", "name", "runner", "version",
			  tool_version ? tool_version : "", "component", "type", "application",
			  "name", name && *name ? name : "project", "bom-ref", "project");
	json_object_set_new(bom, "metadata", meta);
	json_t *components = json_array();
	struct hmap *by_purl = hmap_new(deps->n + 1);
	char **purls = xcalloc(deps->n + 1, sizeof(char *));
	for (size_t i = 0; i < deps->n; i++) {
		const struct dep *d = &deps->v[i];
		purls[i] = depscan_purl(d);
		json_t *c = hmap_get(by_purl, purls[i]);
		if (!c) {
			c = json_object();
			json_object_set_new(c, "type", json_string("library"));
			json_object_set_new(c, "bom-ref", jstr(purls[i]));
			const char *colon = d->eco == ECO_MAVEN ? strchr(d->name, ':') : NULL;
			if (colon) {
				char *g = xstrndup(d->name, (size_t)(colon - d->name));
				json_object_set_new(c, "group", jstr(g));
				json_object_set_new(c, "name", jstr(colon + 1));
				free(g);
			} else {
				json_object_set_new(c, "name", jstr(d->name));
			}
			if (*d->version) {
				json_object_set_new(c, "version", jstr(d->version));
			}
			json_object_set_new(c, "purl", jstr(purls[i]));
			json_object_set_new(c, "properties", json_array());
			json_array_append_new(components, c);
			hmap_put(by_purl, purls[i], c);
		}
		json_t *props = json_object_get(c, "properties");
		_cleanup_free_ char *loc = xasprintf("%s:%u", d->file, d->line);
		json_array_append_new(props, json_pack("{s:s, s:o}", "name", "runner:location",
						       "value", jstr(loc)));
		if (d->groups) {
			json_array_append_new(props,
					      json_pack("{s:s, s:o}", "name", "runner:groups",
							"value", jstr(d->groups)));
		}
		if (d->commit) {
			json_array_append_new(props,
					      json_pack("{s:s, s:s}", "name", "runner:commit",
							"value", d->commit));
		}
		if (d->note) {
			json_array_append_new(props, json_pack("{s:s, s:s}", "name", "runner:note",
							       "value", d->note));
		}
	}
	json_object_set_new(bom, "components", components);
	json_t *vulns = json_array();
	for (size_t i = 0; fl && i < fl->n; i++) {
		const struct finding *f = &fl->v[i];
		const json_t *pkg = json_object_get(f->extra, "package");
		const char *purl = json_string_value(json_object_get(pkg, "purl"));
		const char *src = json_string_value(json_object_get(f->extra, "severity_source"));
		if (f->kind != FINDING_DEPENDENCY || !purl || !src) {
			continue; /* policy findings (unpinned, unresolved) are not advisories */
		}
		json_t *v = json_object();
		json_object_set_new(v, "id", json_string(f->rule_id));
		json_object_set_new(v, "source",
				    json_pack("{s:s, s:s}", "name", "OSV", "url",
					      json_string_value(json_object_get(f->extra, "url"))));
		json_t *rating = json_pack("{s:s, s:s}", "severity", severity_name(f->severity),
					   "method", method_of(f->score, src));
		if (f->score > 0) {
			json_object_set_new(rating, "score", json_real(f->score));
		}
		json_object_set_new(v, "ratings", json_pack("[o]", rating));
		if (f->title) {
			json_object_set_new(v, "description", json_string(f->title));
		}
		if (f->n_aliases) {
			json_t *refs = json_array();
			for (size_t k = 0; k < f->n_aliases; k++) {
				json_array_append_new(refs, json_pack("{s:s, s:{s:s}}", "id",
								      f->aliases[k], "source",
								      "name", "OSV"));
			}
			json_object_set_new(v, "references", refs);
		}
		if (f->fix) {
			json_object_set_new(v, "recommendation", json_string(f->fix));
		}
		json_object_set_new(v, "affects", json_pack("[{s:s}]", "ref", purl));
		json_array_append_new(vulns, v);
	}
	json_object_set_new(bom, "vulnerabilities", vulns);
	for (size_t i = 0; i < deps->n; i++) {
		free(purls[i]);
	}
	free(purls);
	hmap_free(by_purl);
	return bom;
}
