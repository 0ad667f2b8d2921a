/*
 * ydoc.h - load one YAML document into an arena-owned tree of nodes that remember their
 * position, for configuration files whose errors must point at file:line:col.
 *
 * Untrusted input is bounded: nesting depth, and the number of nodes the document would
 * have with every alias expanded (an alias is stored as a shared pointer, never copied,
 * so an alias bomb is refused after O(events) work and O(size) memory). Recursive aliases,
 * duplicate mapping keys, non-scalar keys, NUL characters in scalars, unknown tags and
 * multi-document streams are errors. YAML 1.1 merge keys (`<<: *base`) are applied,
 * because CI files written for other runners use them.
 *
 * Scalars keep their text; the typed getters resolve it with the YAML 1.2 core schema
 * (so `no` is a string, not false).
 */
#ifndef RUNNER_BASE_YDOC_H
#define RUNNER_BASE_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct diag_list;

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

enum yscalar_style {
	YSCALAR_PLAIN,
	YSCALAR_QUOTED, /* single or double quoted */
	YSCALAR_BLOCK,	/* literal | or folded > */
};

struct ynode;

struct ypair {
	struct ynode *key; /* always a scalar */
	struct ynode *value;
};

struct ynode {
	enum ynode_kind kind;
	unsigned line, col; /* 1-based position of the node's first character */
	unsigned height;    /* nesting levels below this node, aliases expanded */
	size_t weight;	    /* nodes in this subtree, aliases expanded */
	bool is_str;	    /* quoted, block, or tagged !!str: never a number/bool/null */
	union {
		struct {
			const char *s; /* NUL-terminated; contains no NUL */
			size_t len;
			enum yscalar_style style;
		} scalar;
		struct {
			struct ynode **v;
			size_t n;
		} seq;
		struct {
			struct ypair *v;
			size_t n;
		} map;
	};
};

struct ydoc_limits {
	unsigned max_depth; /* nesting of collections, aliases expanded */
	size_t max_nodes;   /* nodes with aliases expanded */
	/* Never quote a key in an error (a duplicate key is named by its position only): for
	 * documents where a key may be a secret written in the wrong place (a secrets file,
	 * the server configuration). */
	bool unquoted_keys;
};

/*
 * Parse buf (len bytes) as one YAML document. name is used in diagnostics. On success
 * *root is the document's root node, or NULL for an empty document. Nodes live in arena.
 * Returns 0, or -EINVAL with errors added to dl (-ENOMEM when the arena is exhausted).
 */
int ydoc_parse(struct arena *arena, const char *name, const char *buf, size_t len,
	       const struct ydoc_limits *limits, struct ynode **root, struct diag_list *dl);

/* Value for key in a mapping, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* Pair for key in a mapping (to reach the key's position), or NULL. */
const struct ypair *ynode_pair(const struct ynode *map, const char *key);

bool ynode_is_null(const struct ynode *n);
/* Core-schema booleans: true/True/TRUE/false/False/FALSE. Returns 0 or -EINVAL. */
int ynode_bool(const struct ynode *n, bool *out);
/* Core-schema integers (decimal, 0x, 0o, optional sign). Returns 0, -EINVAL, -ERANGE. */
int ynode_int(const struct ynode *n, int64_t *out);
/* The text of a scalar that is not null, or NULL for anything else. */
const char *ynode_str(const struct ynode *n);
/* "a mapping", "a sequence", "a string", "a number", "a boolean" or "null", for messages. */
const char *ynode_type_name(const struct ynode *n);

#endif
