/*
 * fuzz-lock-pip-tree.c - a requirements file read from a tree, as a scan reads it (see
 * fuzz-lockfile.h): the input is app/sub/requirements.txt of a small tree made once in a
 * temporary directory, scanned with app as the scanned tree. What a buffer does not reach
 * is reached: includes (-r/-c, of the file itself, of a file beside it, outside the tree),
 * and the local paths' look-ups (src/pkg, wheels/six-1.16.0-py2.py3-none-any.whl, file:
 * URLs, `..`, absolute paths, a symbolic link out of the tree, one into a loop). The tree is
 * removed at exit. Positions are checked in the input and in the base.txt beside it; the
 * other files an include reaches (the tree's own, which list no package) are not.
 */
#define FUZZ_FORMAT DEP_REQUIREMENTS
#define FUZZ_LINES  FUZZ_LINES_PY
#define FUZZ_PARSE  parse_tree
#define FUZZ_OTHER_FILES
#include "fuzz-lockfile.h"

#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *top, *app, *file;

#define BASE_TXT "six==1.16.0\n-e ../pkg\n"

static void remove_tree(void)
{
	rm_rf(top);
}

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", top, rel);
	if (write_file_atomic(path, text, strlen(text), 0644) < 0) {
		abort();
	}
}

static void make_tree(void)
{
	char tmpl[] = "/tmp/fuzz-pip-tree-XXXXXX";
	if (!mkdtemp(tmpl)) {
		abort();
	}
	top = xstrdup(tmpl);
	app = xasprintf("%s/app", top);
	file = xasprintf("%s/sub/requirements.txt", app);
	static const char *const dirs[] = { "app/sub", "app/pkg", "app/empty", "app/wheels",
					    "outside" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", top, dirs[i]);
		if (mkdir_p(d, 0755) < 0) {
			abort();
		}
	}
	put("app/pkg/setup.py", "");
	put("app/wheels/six-1.16.0-py2.py3-none-any.whl", "");
	put("outside/setup.py", "");
	put("outside/pkg-1.0.tar.gz", "");
	put("outside/leak.txt", "leaked==1.0\n");
	put("app/sub/base.txt", BASE_TXT);
	static const char *const links[][2] = { { "app/out", "../outside" },
						{ "app/loop", "loop" },
						{ "app/dangling", "/nonexistent/x" } };
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		_cleanup_free_ char *l = xasprintf("%s/%s", top, links[i][0]);
		if (symlink(links[i][1], l) < 0) {
			abort();
		}
	}
	atexit(remove_tree);
}

static int parse_tree(struct dep_list *l, const uint8_t *data, size_t size, struct diag_list *dl,
		      struct fuzz_texts *texts)
{
	if (!top) {
		make_tree();
	}
	if (write_file_atomic(file, data, size, 0644) < 0) {
		abort();
	}
	*texts = (struct fuzz_texts){
		.v = { { "sub/requirements.txt", (const char *)data, size },
		       { "sub/base.txt", BASE_TXT, strlen(BASE_TXT) } },
		.n = 2,
	};
	const char *paths[] = { file };
	return deps_scan_paths(l, app, paths, 1, dl);
}
