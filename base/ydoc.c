/*
 * ydoc.c - YAML document tree built from libyaml's event parser.
 *
 * Collections under construction sit on a stack of frames with heap vectors; when a
 * collection ends its items are moved into the arena and its weight and height are
 * computed from its children (an alias contributes the weight of the node it names). The
 * first node whose weight or height passes the limits stops the parse.
 */
#include "ydoc.h"

#include "arena.h"
#include "diag.h"
#include "hmap.h"
#include "util.h"

#include <yaml.h>

#include "banned.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct frame {
	struct ynode *node;
	char *anchor;
	struct ynode **items; /* seq items, or alternating key/value for maps */
	size_t n, cap;
};

struct builder {
	struct arena *arena;
	const char *name;
	const struct ydoc_limits *lim;
	struct diag_list *dl;
	struct frame *stack;
	size_t depth, cap;
	struct hmap *anchors;
	struct ynode *root;
	bool have_root;
	int err;
	const char *buf; /* the text, for the position of an encoding error */
	size_t len;
};

static int fail(struct builder *b, unsigned line, unsigned col, const char *hint, const char *msg)
{
	diag_error(b->dl, b->name, line, col, hint, "%s", msg);
	b->err = -EINVAL;
	return -EINVAL;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, yaml_mark_t mark)
{
	struct ynode *n = arena_alloc(b->arena, sizeof(*n));
	if (!n) {
		b->err = -ENOMEM;
		diag_error(b->dl, b->name, 0, 0, NULL, "document too large (memory cap reached)");
		return NULL;
	}
	n->kind = kind;
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	n->weight = 1;
	return n;
}

/*
 * Check a tag: only the core-schema tags are understood. *name is the tag's short name
 * ("str", "int", ...; "" without a tag, "str" for the non-specific "!"), for the caller to
 * check against the node.
 */
static int check_tag(struct builder *b, const yaml_char_t *tag, yaml_mark_t mark, const char **name)
{
	*name = "";
	if (!tag) {
		return 0;
	}
	const char *t = (const char *)tag;
	if (str_eq(t, "!")) {
		*name = "str";
		return 0;
	}
	if (str_has_prefix(t, TAG_PREFIX)) {
		const char *s = t + strlen(TAG_PREFIX);
		static const char *const known[] = { "str",   "int", "bool", "null",
						     "float", "map", "seq",  "merge" };
		for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
			if (str_eq(s, known[i])) {
				*name = known[i];
				return 0;
			}
		}
	}
	/* The tag's text is not quoted: `secret: !Zq8y...` makes a secret a tag, and errors
	 * reach terminals, logs and run messages. */
	return fail(b, (unsigned)mark.line + 1, (unsigned)mark.column + 1,
		    "quote the value if it is meant as a string; only the standard tags (!!str, "
		    "!!int, !!bool, ...) are understood",
		    "unsupported YAML tag (a value that starts with '!' is read as a tag)");
}

static int check_limits(struct builder *b, struct ynode *n, size_t depth)
{
	if (n->weight > b->lim->max_nodes) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "document too large: more than %zu nodes with aliases expanded",
			 b->lim->max_nodes);
		return fail(b, n->line, n->col,
			    "this looks like an alias bomb (\"billion laughs\"); use fewer aliases",
			    msg);
	}
	if (depth + n->height > b->lim->max_depth) {
		char msg[200];
		snprintf(msg, sizeof(msg), "nesting deeper than %u levels", b->lim->max_depth);
		return fail(b, n->line, n->col, NULL, msg);
	}
	return 0;
}

static void register_anchor(struct builder *b, char *anchor, struct ynode *n)
{
	if (anchor) {
		hmap_put(b->anchors, anchor, n);
	}
}

/* Attach a finished node to its parent frame, or make it the root. */
static int attach(struct builder *b, struct ynode *n)
{
	if (check_limits(b, n, b->depth) < 0) {
		return -EINVAL;
	}
	if (b->depth == 0) {
		b->root = n;
		b->have_root = true;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == YNODE_MAP && f->n % 2 == 0 && n->kind != YNODE_SCALAR) {
		return fail(b, n->line, n->col, "write the key as a plain string",
			    "mapping keys must be scalars");
	}
	GROW(f->items, f->cap, f->n + 1);
	f->items[f->n++] = n;
	return 0;
}

static char *anchor_copy(struct builder *b, const yaml_char_t *anchor)
{
	return anchor ? arena_strdup(b->arena, (const char *)anchor) : NULL;
}

/* A tag on a node of the wrong kind (`!!seq` on a mapping, `!!int` on a list). */
static int tag_mismatch(struct builder *b, yaml_mark_t mark, const char *name, const char *what)
{
	char msg[120];
	snprintf(msg, sizeof(msg), "the tag !!%s does not fit %s", name, what);
	return fail(b, (unsigned)mark.line + 1, (unsigned)mark.column + 1,
		    "remove the tag, or change the value to what it says", msg);
}

static int push(struct builder *b, enum ynode_kind kind, const yaml_event_t *ev,
		const yaml_char_t *anchor, const yaml_char_t *tag)
{
	const char *tag_name;
	if (check_tag(b, tag, ev->start_mark, &tag_name) < 0) {
		return -EINVAL;
	}
	if (*tag_name && !str_eq(tag_name, kind == YNODE_MAP ? "map" : "seq")) {
		return tag_mismatch(b, ev->start_mark, tag_name,
				    kind == YNODE_MAP ? "a mapping" : "a sequence");
	}
	if (b->depth + 1 > b->lim->max_depth) {
		char msg[100];
		snprintf(msg, sizeof(msg), "nesting deeper than %u levels", b->lim->max_depth);
		return fail(b, (unsigned)ev->start_mark.line + 1,
			    (unsigned)ev->start_mark.column + 1, NULL, msg);
	}
	struct ynode *n = new_node(b, kind, ev->start_mark);
	if (!n) {
		return -ENOMEM;
	}
	GROW(b->stack, b->cap, b->depth + 1);
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = anchor_copy(b, anchor);
	return 0;
}

static size_t sat_add(size_t a, size_t b)
{
	size_t r;
	return size_add(a, b, &r) ? r : SIZE_MAX;
}

/* The plain key `<<` (or `!!merge <<`); `!!str <<` and `"<<"` are ordinary keys. */
static bool is_merge_key(const struct ynode *k)
{
	return k->kind == YNODE_SCALAR && k->scalar.style == YSCALAR_PLAIN && !k->is_str &&
	       str_eq(k->scalar.s, "<<");
}

static bool map_has(struct ypair *v, size_t n, struct hmap *index, const char *key)
{
	if (index) {
		return hmap_get(index, key) != NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (str_eq(v[i].key->scalar.s, key)) {
			return true;
		}
	}
	return false;
}

/* Key k repeats o. Quoted unless the document's keys may be secrets (unquoted_keys). */
static int duplicate_key(struct builder *b, const struct ynode *k, const struct ynode *o)
{
	char msg[300];
	if (b->lim->unquoted_keys) {
		snprintf(msg, sizeof(msg), "duplicate key (first defined at line %u, column %u)",
			 o->line, o->col);
	} else {
		snprintf(msg, sizeof(msg), "duplicate key '%.200s' (first defined at line %u)",
			 k->scalar.s, o->line);
	}
	return fail(b, k->line, k->col, "remove one of the two entries", msg);
}

static int finish_map(struct builder *b, struct frame *f)
{
	struct ynode *n = f->node;
	size_t npairs = f->n / 2, merged_extra = 0;
	struct hmap *index = npairs > 8 ? hmap_new(npairs) : NULL;
	int r = 0;

	/* Explicit keys first: duplicates are errors, a second merge key too (YAML takes
	 * one, with a list of mappings: `<<: [*a, *b]`). */
	const struct ynode *merge = NULL;
	for (size_t i = 0; i < npairs; i++) {
		struct ynode *k = f->items[2 * i];
		if (is_merge_key(k)) {
			struct ynode *v = f->items[2 * i + 1];
			if (merge) {
				r = fail(b, k->line, k->col,
					 "merge several mappings with one key: <<: [*a, *b]",
					 "a second merge key (<<) in one mapping");
				goto out;
			}
			merge = k;
			if (v->kind == YNODE_MAP) {
				merged_extra += v->map.n;
			} else if (v->kind == YNODE_SEQ) {
				for (size_t j = 0; j < v->seq.n; j++) {
					if (v->seq.v[j]->kind != YNODE_MAP) {
						r = fail(b, k->line, k->col, NULL,
							 "a merge key (<<) takes mappings only");
						goto out;
					}
					merged_extra += v->seq.v[j]->map.n;
				}
			} else {
				r = fail(b, k->line, k->col, NULL,
					 "a merge key (<<) takes a mapping or a list of mappings");
				goto out;
			}
			continue;
		}
		for (size_t j = 0; j < i && !index; j++) {
			struct ynode *o = f->items[2 * j];
			if (str_eq(o->scalar.s, k->scalar.s) && !is_merge_key(o)) {
				r = duplicate_key(b, k, o);
				goto out;
			}
		}
		if (index) {
			struct ynode *o = hmap_get(index, k->scalar.s);
			if (o) {
				r = duplicate_key(b, k, o);
				goto out;
			}
			hmap_put(index, k->scalar.s, k);
		}
	}

	size_t cap = npairs + merged_extra;
	struct ypair *v = arena_alloc_array(b->arena, cap ? cap : 1, sizeof(*v));
	if (!v) {
		r = b->err = -ENOMEM;
		diag_error(b->dl, b->name, 0, 0, NULL, "document too large (memory cap reached)");
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < npairs; i++) {
		if (!is_merge_key(f->items[2 * i])) {
			v[m].key = f->items[2 * i];
			v[m].value = f->items[2 * i + 1];
			m++;
		}
	}
	/* Then merged keys, which never override explicit ones; earlier sources win. */
	for (size_t i = 0; i < npairs; i++) {
		if (!is_merge_key(f->items[2 * i])) {
			continue;
		}
		struct ynode *src = f->items[2 * i + 1];
		size_t nsrc = src->kind == YNODE_MAP ? 1 : src->seq.n;
		for (size_t s = 0; s < nsrc; s++) {
			struct ynode *mp = src->kind == YNODE_MAP ? src : src->seq.v[s];
			for (size_t j = 0; j < mp->map.n; j++) {
				const char *key = mp->map.v[j].key->scalar.s;
				if (map_has(v, m, index, key)) {
					continue;
				}
				v[m++] = mp->map.v[j];
				if (index) {
					hmap_put(index, key, mp->map.v[j].key);
				}
			}
		}
	}
	n->map.v = v;
	n->map.n = m;
	for (size_t i = 0; i < m; i++) {
		n->weight = sat_add(n->weight, sat_add(v[i].key->weight, v[i].value->weight));
		n->height = MAX(n->height, v[i].value->height + 1);
	}
out:
	hmap_free(index);
	return r;
}

static int pop(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct ynode *n = f->node;
	int r = 0;
	if (n->kind == YNODE_SEQ) {
		n->seq.v = arena_alloc_array(b->arena, f->n ? f->n : 1, sizeof(struct ynode *));
		if (!n->seq.v) {
			r = b->err = -ENOMEM;
			diag_error(b->dl, b->name, 0, 0, NULL,
				   "document too large (memory cap reached)");
		} else {
			if (f->n) {
				memcpy(n->seq.v, f->items, f->n * sizeof(struct ynode *));
			}
			n->seq.n = f->n;
			n->height = f->n ? 1 : 0;
			for (size_t i = 0; i < f->n; i++) {
				n->weight = sat_add(n->weight, f->items[i]->weight);
				n->height = MAX(n->height, f->items[i]->height + 1);
			}
		}
	} else {
		r = finish_map(b, f);
	}
	char *anchor = f->anchor;
	free(f->items);
	b->depth--;
	if (r < 0) {
		return r;
	}
	r = attach(b, n);
	if (r == 0) {
		register_anchor(b, anchor, n);
	}
	return r;
}

static bool looks_float(const char *s);

/* Whether scalar n, read as a plain scalar, is what the core-schema tag `name` says. */
static bool scalar_fits_tag(const struct ynode *n, const char *name)
{
	struct ynode plain = *n;
	plain.is_str = false;
	bool b;
	int64_t i;
	if (str_eq(name, "int")) {
		return ynode_int(&plain, &i) != -EINVAL;
	}
	if (str_eq(name, "float")) {
		return ynode_int(&plain, &i) != -EINVAL || looks_float(n->scalar.s);
	}
	if (str_eq(name, "bool")) {
		return ynode_bool(&plain, &b) == 0;
	}
	if (str_eq(name, "null")) {
		return ynode_is_null(&plain);
	}
	/* merge: the plain key `<<` only. */
	return n->scalar.style == YSCALAR_PLAIN && str_eq(n->scalar.s, "<<");
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *tag_name;
	if (check_tag(b, ev->data.scalar.tag, ev->start_mark, &tag_name) < 0) {
		return -EINVAL;
	}
	if (str_eq(tag_name, "map") || str_eq(tag_name, "seq")) {
		return tag_mismatch(b, ev->start_mark, tag_name, "a scalar");
	}
	bool is_str = str_eq(tag_name, "str");
	const char *val = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (memchr(val, '\0', len)) {
		return fail(b, (unsigned)ev->start_mark.line + 1,
			    (unsigned)ev->start_mark.column + 1, NULL,
			    "string contains a NUL character");
	}
	struct ynode *n = new_node(b, YNODE_SCALAR, ev->start_mark);
	if (!n) {
		return -ENOMEM;
	}
	n->scalar.s = arena_strndup(b->arena, val, len);
	if (!n->scalar.s) {
		b->err = -ENOMEM;
		diag_error(b->dl, b->name, 0, 0, NULL, "document too large (memory cap reached)");
		return -ENOMEM;
	}
	n->scalar.len = len;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->scalar.style = YSCALAR_QUOTED;
		is_str = true;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		n->scalar.style = YSCALAR_BLOCK;
		is_str = true;
		break;
	default:
		n->scalar.style = YSCALAR_PLAIN;
	}
	n->is_str = is_str;
	/* A value tagged !!int, !!float, !!bool or !!null is one, quoted or not (`!!int "5"`
	 * is 5), and must read as one: `!!int main` was taken for the string. The value is not
	 * quoted in the error (it may be a secret). */
	if (*tag_name && !str_eq(tag_name, "str")) {
		if (!scalar_fits_tag(n, tag_name)) {
			return tag_mismatch(b, ev->start_mark, tag_name, "this value");
		}
		n->is_str = false;
	}
	int r = attach(b, n);
	if (r == 0) {
		register_anchor(b, anchor_copy(b, ev->data.scalar.anchor), n);
	}
	return r;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ynode *n = hmap_get(b->anchors, name);
	if (!n) {
		/* libyaml does not check this; an anchor still being built is also absent. The
		 * name is not quoted: `secret: *Zq8y...` makes a secret an alias. */
		return fail(
			b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
			"quote the value if it is meant as a string; an alias must refer to an "
			"anchor (&name) defined earlier, outside itself",
			"unknown or recursive alias (a value that starts with '*' is read as an "
			"alias)");
	}
	return attach(b, n);
}

/*
 * A hint for the syntax errors people meet first, or NULL. It never quotes the text (in a
 * secrets file it would be a secret). LINE is 0-based.
 */
static const char *syntax_hint(const struct builder *b, const char *problem, size_t line)
{
	if (!problem) {
		return NULL;
	}
	if (strcmp(problem, "mapping values are not allowed in this context") == 0) {
		return "a plain value cannot hold `: `: put the value in quotes, or write it as a "
		       "block (`key: |`, then the text on the next lines, indented)";
	}
	if (strcmp(problem, "found character that cannot start any token") == 0 ||
	    strstr(problem, "tab")) {
		/* A tab among the blanks that open the line. */
		const char *s = b->buf, *end = b->buf + b->len;
		for (size_t l = 0; l < line && s < end; l++) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			s = nl ? nl + 1 : end;
		}
		for (; s < end && (*s == ' ' || *s == '\t'); s++) {
			if (*s == '\t') {
				return "YAML indents with spaces, not tabs: replace the tab on "
				       "this "
				       "line";
			}
		}
	}
	return NULL;
}

static void syntax_error(struct builder *b, yaml_parser_t *p)
{
	char msg[400];
	yaml_mark_t mark = p->problem_mark;
	if (p->context) {
		snprintf(msg, sizeof(msg), "YAML syntax error: %s %s", p->problem, p->context);
	} else {
		snprintf(msg, sizeof(msg), "YAML syntax error: %s",
			 p->problem ? p->problem : "invalid document");
	}
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a line: counted here as libyaml counts
		 * lines and columns, in the characters of the text before the offset (read as
		 * UTF-8, or as UTF-16 after its byte order mark; a byte order mark is no
		 * character of line 1). A line ends at LF, CR LF, a CR alone, U+0085, U+2028
		 * and U+2029. */
		const unsigned char *u = (const unsigned char *)b->buf;
		size_t off = p->problem_offset, end = off < b->len ? off : b->len;
		bool utf16 = b->len >= 2 &&
			     ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff));
		bool le = utf16 && u[0] == 0xff;
		size_t width = utf16 ? 2 : 1;
		unsigned line = 1, col = 1;
		size_t i = utf16						   ? 2
			   : b->len >= 3 && memcmp(b->buf, "\xef\xbb\xbf", 3) == 0 ? 3
										   : 0;
		for (; i + width <= end; i += width) {
			/* A character (a UTF-16 code unit, or a UTF-8 one's first byte). */
			uint32_t c = !utf16 ? u[i]
				     : le   ? u[i] | (uint32_t)u[i + 1] << 8
					    : (uint32_t)u[i] << 8 | u[i + 1];
			uint32_t next = i + 2 * width <= b->len
						? (!utf16 ? u[i + 1]
						   : le	  ? u[i + 2] | (uint32_t)u[i + 3] << 8
							  : (uint32_t)u[i + 2] << 8 | u[i + 3])
						: 0;
			bool brk = c == '\n' || (c == '\r' && next != '\n');
			if (utf16) {
				brk = brk || c == 0x85 || c == 0x2028 || c == 0x2029;
			} else if (c == 0xc2 && next == 0x85) {
				brk = true;
			} else if (c == 0xe2 && next == 0x80 && i + 2 < b->len &&
				   (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
				brk = true;
			}
			if (brk) {
				line++;
				col = 1;
			} else if (c != '\r' &&
				   (utf16 ? c < 0xdc00 || c >= 0xe000 : (c & 0xc0) != 0x80)) {
				col++;
			}
		}
		snprintf(msg, sizeof(msg), "invalid text at byte %zu: %s", off,
			 p->problem ? p->problem : "bad encoding");
		fail(b, line, col, "the file must be UTF-8 text without control characters", msg);
		return;
	}
	fail(b, (unsigned)mark.line + 1, (unsigned)mark.column + 1,
	     syntax_hint(b, p->problem, (size_t)mark.line), msg);
}

int ydoc_parse(struct arena *arena, const char *name, const char *buf, size_t len,
	       const struct ydoc_limits *limits, struct ynode **root, struct diag_list *dl)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct builder b = {
		.arena = arena,
		.name = name,
		.lim = limits,
		.dl = dl,
		.anchors = hmap_new(16),
		.buf = buf,
		.len = len,
	};
	int docs = 0;
	bool done = false;

	*root = NULL;
	if (!yaml_parser_initialize(&parser)) {
		hmap_free(b.anchors);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && b.err == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&b, &parser);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				fail(&b, (unsigned)ev.start_mark.line + 1,
				     (unsigned)ev.start_mark.column + 1,
				     "remove the '---' separator and everything after it",
				     "expected a single YAML document, found a second one");
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			push(&b, YNODE_SEQ, &ev, ev.data.sequence_start.anchor,
			     ev.data.sequence_start.tag);
			break;
		case YAML_MAPPING_START_EVENT:
			push(&b, YNODE_MAP, &ev, ev.data.mapping_start.anchor,
			     ev.data.mapping_start.tag);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			pop(&b);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&b, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	while (b.depth > 0) {
		free(b.stack[--b.depth].items);
	}
	free(b.stack);
	yaml_parser_delete(&parser);
	hmap_free(b.anchors);
	if (b.err == 0 && !done) {
		b.err = -EINVAL;
	}
	if (b.err < 0) {
		return b.err;
	}
	/* A document that is only "~" or "null" counts as empty. */
	*root = b.root && !ynode_is_null(b.root) ? b.root : NULL;
	return 0;
}

const struct ypair *ynode_pair(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP) {
		return NULL;
	}
	for (size_t i = 0; i < map->map.n; i++) {
		if (str_eq(map->map.v[i].key->scalar.s, key)) {
			return &map->map.v[i];
		}
	}
	return NULL;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	const struct ypair *p = ynode_pair(map, key);
	return p ? p->value : NULL;
}

bool ynode_is_null(const struct ynode *n)
{
	if (!n) {
		return true;
	}
	if (n->kind != YNODE_SCALAR || n->is_str) {
		return false;
	}
	const char *s = n->scalar.s;
	return !*s || str_eq(s, "~") || str_eq(s, "null") || str_eq(s, "Null") || str_eq(s, "NULL");
}

int ynode_bool(const struct ynode *n, bool *out)
{
	if (!n || n->kind != YNODE_SCALAR || n->is_str) {
		return -EINVAL;
	}
	const char *s = n->scalar.s;
	if (str_eq(s, "true") || str_eq(s, "True") || str_eq(s, "TRUE")) {
		*out = true;
		return 0;
	}
	if (str_eq(s, "false") || str_eq(s, "False") || str_eq(s, "FALSE")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

int ynode_int(const struct ynode *n, int64_t *out)
{
	if (!n || n->kind != YNODE_SCALAR || n->is_str) {
		return -EINVAL;
	}
	const char *s = n->scalar.s;
	bool neg = false;
	int base = 10;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		s += 2;
	}
	if (!*s) {
		return -EINVAL;
	}
	uint64_t v = 0;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9') {
			d = *s - '0';
		} else if (base == 16 && *s >= 'a' && *s <= 'f') {
			d = *s - 'a' + 10;
		} else if (base == 16 && *s >= 'A' && *s <= 'F') {
			d = *s - 'A' + 10;
		} else {
			return -EINVAL;
		}
		if (d >= base) {
			return -EINVAL;
		}
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
			return -ERANGE;
		}
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
		return -ERANGE;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

const char *ynode_str(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || ynode_is_null(n)) {
		return NULL;
	}
	return n->scalar.s;
}

static bool looks_float(const char *s)
{
	char *end;
	if (!*s) {
		return false;
	}
	if (str_eq(s, ".inf") || str_eq(s, "-.inf") || str_eq(s, ".nan") || str_eq(s, ".NaN")) {
		return true;
	}
	strtod(s, &end);
	return *end == '\0' &&
	       (s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9'));
}

const char *ynode_type_name(const struct ynode *n)
{
	if (!n) {
		return "nothing";
	}
	switch (n->kind) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a sequence";
	case YNODE_SCALAR:
		break;
	}
	if (ynode_is_null(n)) {
		return "null";
	}
	bool b;
	int64_t i;
	if (ynode_bool(n, &b) == 0) {
		return "a boolean";
	}
	if (!n->is_str && (ynode_int(n, &i) != -EINVAL || looks_float(n->scalar.s))) {
		return "a number";
	}
	return "a string";
}
