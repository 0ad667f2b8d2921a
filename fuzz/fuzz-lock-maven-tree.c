/*
 * fuzz-lock-maven-tree.c - a pom.xml read from a tree, as a scan reads it (see
 * fuzz-lockfile.h): the input is app/m/pom.xml of a small multi-module project made once
 * in a temporary directory, scanned with app as the scanned tree. What a buffer does not
 * reach is reached: its parent (app/pom.xml, which imports a BOM), BOMs in the tree
 * (one with a parent of its own that imports another, one that imports itself, two
 * different files of the same coordinates, one with profiles), and the input itself,
 * which the index of the tree's pom.xml files holds too (it may import itself), and a
 * local Maven repository outside the tree (m2/: a BOM, a parent with a parent of its own,
 * a SNAPSHOT, a link out of it), which coordinates the input writes name files of. The
 * tree is removed at exit. Positions are checked in the input; the other files of the
 * tree (which the scan does not list packages of) are not.
 */
#define FUZZ_FORMAT DEP_POM_XML
#define FUZZ_PARSE  parse_tree
#define FUZZ_OTHER_FILES
#include "fuzz-lockfile.h"

#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *top, *app, *file, *m2;

static void remove_tree(void)
{
	rm_rf(top);
}

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", top, rel);
	_cleanup_free_ char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0 || write_file_atomic(path, text, strlen(text), 0644) < 0) {
		abort();
	}
}

#define MANAGED(deps) \
	"<dependencyManagement><dependencies>" deps "</dependencies></dependencyManagement>"
#define DEP(g, a, v)                                                                    \
	"<dependency><groupId>" g "</groupId><artifactId>" a "</artifactId><version>" v \
	"</version></dependency>\n"
#define IMPORT(g, a, v)                                                                 \
	"<dependency><groupId>" g "</groupId><artifactId>" a "</artifactId><version>" v \
	"</version><type>pom</type><scope>import</scope></dependency>\n"

static void make_tree(void)
{
	char tmpl[] = "/tmp/fuzz-maven-tree-XXXXXX";
	if (!mkdtemp(tmpl)) {
		abort();
	}
	top = xstrdup(tmpl);
	app = xasprintf("%s/app", top);
	file = xasprintf("%s/m/pom.xml", app);
	put("app/pom.xml", "<project><groupId>g</groupId><artifactId>parent</artifactId>"
			   "<version>1</version><properties><bom.version>1</bom.version>"
			   "</properties>" MANAGED(IMPORT("g", "bom", "${bom.version}") DEP(
				   "j", "junit", "4.12")) "</project>\n");
	put("app/build/pom.xml",
	    "<project><groupId>g</groupId><artifactId>build</artifactId>"
	    "<version>1</version><properties><log4j.version>2.14.1"
	    "</log4j.version></properties>" MANAGED(IMPORT("g", "inner", "1")) "</project>\n");
	put("app/bom/pom.xml",
	    "<project><parent><groupId>g</groupId><artifactId>build</artifactId><version>1"
	    "</version><relativePath>../build</relativePath></parent><artifactId>bom</artifactId>"
	    "\n" MANAGED(DEP("org.apache.logging.log4j", "log4j-core", "${log4j.version}")
				 IMPORT("g", "cycle", "1")) "</project>\n");
	put("app/inner/pom.xml", "<project><groupId>g</groupId><artifactId>inner</artifactId>"
				 "<version>1</version>" MANAGED(DEP("a", "b", "[1.0,2.0)") DEP(
					 "c", "d", "${nowhere}")) "</project>\n");
	put("app/cycle/pom.xml", "<project><groupId>g</groupId><artifactId>cycle</artifactId>"
				 "<version>1</version>" MANAGED(IMPORT("g", "cycle", "1") DEP(
					 "e", "f", "1")) "</project>\n");
	put("app/twin/a/pom.xml",
	    "<project><groupId>g</groupId><artifactId>twin</artifactId>"
	    "<version>1</version>" MANAGED(DEP("a", "b", "1")) "</project>\n");
	put("app/twin/b/pom.xml",
	    "<project><groupId>g</groupId><artifactId>twin</artifactId>"
	    "<version>1</version>" MANAGED(DEP("a", "b", "2")) "</project>\n");
	put("app/profiled/pom.xml",
	    "<project><groupId>g</groupId><artifactId>profiled</artifactId><version>1</"
	    "version>" MANAGED(
		    DEP("a", "b", "1")) "<profiles><profile><id>p</id><properties><x>1</x>"
					"</properties></profile></profiles></project>\n");
	put("app/m/pom.xml", "<project/>\n");
	m2 = xasprintf("%s/m2", top);
	put("m2/org/example/repo-bom/2.0/repo-bom-2.0.pom",
	    "<project><groupId>org.example</groupId><artifactId>repo-bom</artifactId><version>2.0"
	    "</version>" MANAGED(DEP("a", "b", "3") IMPORT("g", "bom", "1")
					 IMPORT("org.example", "repo-bom", "2.0")) "</project>\n");
	put("m2/org/example/repo-parent/1/repo-parent-1.pom",
	    "<project><parent><groupId>org.example</groupId><artifactId>repo-root</artifactId>"
	    "<version>1</version></parent><artifactId>repo-parent</artifactId>" MANAGED(
		    DEP("c", "d", "${v}")) "</project>\n");
	put("m2/org/example/repo-root/1/repo-root-1.pom",
	    "<project><groupId>org.example</groupId><artifactId>repo-root</artifactId><version>1"
	    "</version><properties><v>4</v></properties></project>\n");
	put("m2/org/example/snap/1-SNAPSHOT/snap-1-SNAPSHOT.pom",
	    "<project><groupId>org.example</groupId><artifactId>snap</artifactId><version>"
	    "1-SNAPSHOT</version></project>\n");
	put("outside.pom", "<project><groupId>org.example</groupId><artifactId>out</artifactId>"
			   "<version>1</version></project>\n");
	_cleanup_free_ char *out_dir = xasprintf("%s/org/example/out/1", m2);
	_cleanup_free_ char *link = xasprintf("%s/out-1.pom", out_dir);
	if (mkdir_p(out_dir, 0755) < 0 || symlink("../../../../../outside.pom", link) < 0) {
		abort();
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
		.v = { { "m/pom.xml", (const char *)data, size } },
		.n = 1,
	};
	const char *paths[] = { file };
	if (deps_maven_repository(l, m2) < 0) {
		abort();
	}
	return deps_scan_paths(l, app, paths, 1, dl);
}
