/*
 * bun.c - bun.lock, bun's text lockfile (bun 1.1.39 on, the default from 1.2), versions
 * 0 to 3 ("lockfileVersion"; 1 stopped listing a workspace's dependencies in its entry,
 * 2 and 3 only made bun's own reading stricter and its overrides richer: the packages are
 * written alike). The file is JSONC: JSON with // and block comments and trailing commas,
 * which are blanked out (strings left alone, lines and columns kept) before jansson reads
 * it; a key given twice in an object is an error.
 *
 * Every installed package is a member of "packages": its key is where it is installed
 * ("ms", or "debug/ms" for a copy nested under debug) and its value an array whose first
 * element is "name@resolution", the name the package's own (an alias's key is not):
 *
 *   name@1.2.3                   from the registry: reported at 1.2.3;
 *   name@npm:real@1.2.3          an alias written so: reported as real@1.2.3;
 *   name@github:o/r#sha,
 *   name@git+URL#sha             git: reported without a version, with the commit;
 *   name@https://.../x.tgz       a tarball URL: a registry's (.../name/-/name-1.2.3.tgz)
 *                                reported at its version; any other with the URL as its
 *                                version, as package-lock.json v1 does (the scan reports
 *                                a version that is not a number: nothing passes
 *                                unchecked);
 *   name@file:dir, name@link:dir,
 *   name@./x.tgz                 local code: reported without a version;
 *   name@workspace:dir,
 *   name@root:                   the project and its workspaces: not reported.
 *
 * Copies of one name@version (or name@commit) are reported once, on the first one's
 * line. A lockfileVersion other than 0 to 3, a missing "packages", and an entry that is
 * not such an array are errors. bun's binary bun.lockb is not read (deps.c refuses it
 * when no bun.lock is beside it).
 */
#include "parsers.h"

#include "util.h"

#include "banned.h"

#define BUN_LOCK_MAX_VERSION 3

static bool json_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * buf as JSON (heap, len bytes): comments and trailing commas (a ',' after a value, with
 * only white space and comments before the '}' or ']' that follows) replaced by spaces,
 * line breaks kept. A block comment that is not closed is an error (NULL).
 */
static char *jsonc_to_json(struct dep_ctx *c, const char *buf, size_t len)
{
	char *s = xmalloc(len + 1);
	memcpy(s, buf, len);
	s[len] = '\0';
	size_t comma = SIZE_MAX; /* a comma that may be a trailing one */
	char prev = 0;		 /* the last character of JSON (not space or comment) */
	unsigned line = 1;
	size_t line_start = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '\n') {
			line++;
			line_start = i + 1;
			continue;
		}
		if (ch == '"') {
			for (i++; i < len && s[i] != '"' && s[i] != '\n'; i++) {
				i += s[i] == '\\' && i + 1 < len && s[i + 1] != '\n';
			}
			if (i < len && s[i] == '\n') {
				i--; /* not closed on its line: jansson says so */
			}
			prev = '"';
			comma = SIZE_MAX;
			continue;
		}
		if (ch == '/' && i + 1 < len && s[i + 1] == '/') {
			for (; i < len && s[i] != '\n'; i++) {
				s[i] = ' ';
			}
			i--;
			continue;
		}
		if (ch == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t start = i;
			unsigned start_line = line;
			size_t col = i - line_start + 1;
			for (i += 2; i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'); i++) {
				if (s[i] == '\n') {
					line++;
					line_start = i + 1;
				}
			}
			if (i + 1 >= len) {
				free(s);
				dep_error(c, start_line, (unsigned)col,
					  "a comment that is not closed");
				return NULL;
			}
			for (size_t k = start; k <= i + 1; k++) {
				s[k] = s[k] == '\n' ? '\n' : ' ';
			}
			i++;
			continue;
		}
		if (json_space(ch)) {
			continue;
		}
		if (ch == ',') {
			/* After a value only: ",," and "[," stay, for jansson to refuse. */
			comma = prev && !strchr(",[{:", prev) ? i : SIZE_MAX;
		} else if ((ch == '}' || ch == ']') && comma != SIZE_MAX) {
			s[comma] = ' ';
			comma = SIZE_MAX;
		} else {
			comma = SIZE_MAX;
		}
		prev = ch;
	}
	return s;
}

/* name@rest: the name (arena) and where rest starts; false when s is not so. */
static bool split_spec(struct dep_ctx *c, const char *s, const char **name, const char **rest)
{
	const char *at = strchr(*s == '@' ? s + 1 : s, '@');
	if (!at || at == s || (*s == '@' && !memchr(s, '/', (size_t)(at - s)))) {
		return false;
	}
	*name = dep_strndup(c, s, (size_t)(at - s));
	*rest = at + 1;
	return true;
}

static int add_entry(struct dep_ctx *c, const char *key, const json_t *v, unsigned line)
{
	const char *spec = json_string_value(json_array_get(v, 0));
	if (!json_is_array(v) || !spec) {
		return dep_error(
			c, line, 0,
			"packages[\"%s\"] is not an array that starts with \"name@version\"", key);
	}
	const char *name, *res;
	if (!split_spec(c, spec, &name, &res) || !*res) {
		return dep_error(c, line, 0, "packages[\"%s\"]: \"%s\" is not name@version", key,
				 spec);
	}
	if (str_has_prefix(res, "npm:") && !split_spec(c, res + 4, &name, &res)) {
		return dep_error(c, line, 0,
				 "packages[\"%s\"]: the alias \"%s\" is not npm:name@version", key,
				 spec);
	}
	const char *version = res, *commit = NULL, *tarball;
	if (str_has_prefix(res, "workspace:") || str_has_prefix(res, "root:")) {
		return 0; /* the project and its workspaces */
	}
	if (str_has_prefix(res, "git+") || str_has_prefix(res, "github:")) {
		const char *hash = strrchr(res, '#');
		commit = hash && hash[1] ? dep_strdup(c, hash + 1) : NULL;
		version = "";
	} else if ((tarball = dep_npm_tarball_version(c, name, res))) {
		version = tarball;
	} else if (str_has_prefix(res, "file:") || str_has_prefix(res, "link:") ||
		   (!strstr(res, "://") &&
		    (str_has_suffix(res, ".tgz") || str_has_suffix(res, ".tar.gz")))) {
		version = "";
	}
	const char *k = dep_printf(c, "%s@%s", name, commit ? commit : version);
	bool added;
	struct dep *d = dep_add_unique(c, k, ECO_NPM, name, version, line, &added);
	if (!d) {
		return dep_error(c, line, 0, "too many packages");
	}
	if (added) {
		d->commit = commit;
	}
	return 0;
}

/* Past the array or object that opens at t[i] (the text is valid JSON by now). */
static size_t value_end(const char *t, size_t len, size_t i)
{
	size_t depth = 0;
	for (; i < len; i++) {
		if (t[i] == '"') {
			for (i++; i < len && t[i] != '"'; i++) {
				i += t[i] == '\\';
			}
		} else if (t[i] == '[' || t[i] == '{') {
			depth++;
		} else if ((t[i] == ']' || t[i] == '}') && --depth == 0) {
			return i + 1;
		}
	}
	return len;
}

/* The line of the top-level member key (a lookup of its own), or 0. */
static unsigned member_line(const char *text, size_t len, const char *key)
{
	struct jpos jp;
	jpos_init(&jp, text, len);
	unsigned line = jpos_key(&jp, key, 0);
	jpos_release(&jp);
	return line;
}

static int check_version(struct dep_ctx *c, const json_t *root, const char *text, size_t len)
{
	const json_t *v = json_object_get(root, "lockfileVersion");
	if (!v) {
		return dep_error(c, 1, 1, "no lockfileVersion");
	}
	json_int_t n = json_integer_value(v);
	if (!json_is_integer(v) || n < 0 || n > BUN_LOCK_MAX_VERSION) {
		char what[64];
		if (json_is_integer(v)) {
			snprintf(what, sizeof(what), "%lld", (long long)n);
		} else {
			snprintf(what, sizeof(what), "that is not an integer");
		}
		return dep_error(c, member_line(text, len, "lockfileVersion"), 0,
				 "lockfileVersion %s, which runner does not read (it reads 0 to "
				 "%d): a bun.lock of another version may list packages where this "
				 "reader would not look for them",
				 what, BUN_LOCK_MAX_VERSION);
	}
	return 0;
}

int parse_bun_lock(struct dep_ctx *c, const char *buf, size_t len)
{
	_cleanup_free_ char *text = jsonc_to_json(c, buf, len);
	if (!text) {
		return -EINVAL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		return dep_error(c, jerr.line > 0 ? (unsigned)jerr.line : 0,
				 jerr.column > 0 ? (unsigned)jerr.column : 0, "not valid JSON: %s",
				 jerr.text);
	}
	int r = json_is_object(root) ? check_version(c, root, text, len)
				     : dep_error(c, 1, 1, "the top level is not an object");
	const json_t *packages = json_object_get(root, "packages");
	if (r == 0 && !json_is_object(packages)) {
		r = dep_error(
			c, packages ? member_line(text, len, "packages") : 1, packages ? 0 : 1,
			packages ? "\"packages\" is not an object" : "no \"packages\" object");
	}
	struct jpos jp;
	jpos_init(&jp, text, len);
	if (r == 0) {
		jpos_key(&jp, "packages", '{');
	}
	const char *key;
	json_t *v;
	json_object_foreach(r == 0 ? (json_t *)packages : NULL, key, v)
	{
		size_t at = jp.pos;
		unsigned line = jpos_key(&jp, key, 0);
		if (jp.pos != at && jp.pos < len && (text[jp.pos] == '[' || text[jp.pos] == '{')) {
			/* Past the entry: a member of its info object ("os": [...]) is not
			 * taken for the package named so after it. */
			jp.pos = value_end(text, len, jp.pos);
		}
		r = add_entry(c, key, v, line);
		if (r < 0) {
			break;
		}
	}
	jpos_release(&jp);
	json_decref(root);
	return r;
}
