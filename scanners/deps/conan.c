/*
 * conan.c - conan.lock. Conan 2 lock files (version 0.5) list references in "requires",
 * "build_requires" and "python_requires" (the groups); Conan 1 lock files (0.1 - 0.4)
 * have a graph of nodes under graph_lock.nodes, each with a "ref" (or, before 0.4, a
 * "pref"). A reference reads name/version[@user[/channel]][#recipe-revision]
 * [:package-id[#package-revision]][%timestamp]. The consumer's own conanfile (a node with
 * a "path") and references without a name are not dependencies.
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

/* Name and version of a reference; false when it has no name. */
static bool parse_ref(struct dep_ctx *c, const char *ref, const char **name, const char **version)
{
	size_t n = strcspn(ref, "%:#@");
	const char *slash = memchr(ref, '/', n);
	if (!slash) {
		return false;
	}
	*name = dep_strndup(c, ref, (size_t)(slash - ref));
	*version = dep_strndup(c, slash + 1, n - (size_t)(slash - ref) - 1);
	return **name != '\0';
}

static int add_ref(struct dep_ctx *c, const char *ref, const char *group, unsigned line)
{
	const char *name, *version;
	if (!parse_ref(c, ref, &name, &version)) {
		return 0;
	}
	struct dep *d = dep_add(c, ECO_CONAN, name, version, line);
	if (!d) {
		return dep_error(c, line, 0, "too many packages");
	}
	dep_add_group(c, d, group);
	return 0;
}

static int parse_v2(struct dep_ctx *c, const json_t *root, struct jpos *jp)
{
	static const struct {
		const char *key, *group;
	} lists[] = {
		{ "requires", "requires" },
		{ "build_requires", "build-requires" },
		{ "python_requires", "python-requires" },
	};
	for (size_t k = 0; k < ARRAY_SIZE(lists); k++) {
		const json_t *arr = json_object_get(root, lists[k].key);
		if (!arr || json_is_null(arr)) {
			continue;
		}
		if (!json_is_array(arr)) {
			return dep_error(c, jpos_key(jp, lists[k].key, jpos_opener(arr)), 0,
					 "\"%s\" is not an array", lists[k].key);
		}
		size_t from = jp->pos;
		unsigned list_line = jpos_key(jp, lists[k].key, '[');
		/* The array's '[', where the lookup moved the cursor when it found it. */
		size_t open = jp->pos != from ? jp->pos : SIZE_MAX;
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		{
			const char *ref = json_string_value(v);
			if (!ref) {
				unsigned at = jpos_element_line(jp, open, i);
				return dep_error(c, at ? at : list_line, 0,
						 "%s[%zu] is not a string", lists[k].key, i);
			}
			int r = add_ref(c, ref, lists[k].group, jpos_string(jp, ref));
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

static int parse_v1(struct dep_ctx *c, const json_t *nodes, struct jpos *jp)
{
	if (!json_is_object(nodes)) {
		jpos_key(jp, "graph_lock", '{');
		return dep_error(c, jpos_key(jp, "nodes", jpos_opener(nodes)), 0,
				 "graph_lock.nodes is not an object");
	}
	const char *id;
	json_t *node;
	json_object_foreach((json_t *)nodes, id, node)
	{
		if (!json_is_object(node)) {
			return dep_error(c, jpos_key(jp, id, jpos_opener(node)), 0,
					 "node \"%s\" is not an object", id);
		}
		const char *path = json_string_value(json_object_get(node, "path"));
		if (path && *path) {
			continue; /* the consumer's conanfile */
		}
		const char *key = "pref";
		const char *ref = json_string_value(json_object_get(node, "pref"));
		if (!ref || !*ref) {
			key = "ref";
			ref = json_string_value(json_object_get(node, "ref"));
		}
		if (!ref || !*ref) {
			continue;
		}
		int r = add_ref(c, ref, NULL, jpos_key_value(jp, key, ref));
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

int parse_conan_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	json_t *root = dep_json_load(c, buf, len);
	if (!root) {
		return -EINVAL;
	}
	struct jpos jp;
	jpos_init(&jp, buf, len);
	int r;
	const json_t *nodes = json_object_get(json_object_get(root, "graph_lock"), "nodes");
	if (!json_is_object(root)) {
		r = dep_error(c, 1, 1, "the top level is not an object");
	} else if (nodes) {
		r = parse_v1(c, nodes, &jp);
	} else {
		r = parse_v2(c, root, &jp);
	}
	jpos_release(&jp);
	json_decref(root);
	return r;
}
