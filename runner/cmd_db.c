/*
 * cmd_db.c - `runner db import|update|status`: build, refresh and inspect the offline
 * advisory database (scanners/osv/osvdb.h) that dependency scans read.
 *
 * Every change builds a complete new database beside the old one and renames it into
 * place, so an interrupted or failed import or update leaves the old database as it was.
 */
#include "cli.h"

#include "dbupdate.h"
#include "osvdb.h"
#include "util.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "banned.h"

static const struct cli_flag db_flags[] = {
	{ "db", "--db PATH",
	  "the database (default: $RUNNER_DB, else $XDG_CACHE_HOME/runner/osv.db, else "
	  "~/.cache/runner/osv.db)" },
	{ "url", "--url URL", "an export to download (repeatable)" },
	{ "timeout", "--timeout DURATION", "give up a download after this long (default 10m)" },
	{ "json", "--json", "print the status as one JSON object" },
	{ NULL, NULL, NULL },
};

static const char *const import_flags[] = { "db", NULL };
static const char *const update_flags[] = { "db", "url", "timeout", NULL };
static const char *const status_flags[] = { "db", "json", NULL };

static const struct cli_sub db_subs[] = {
	{ "import", "build the database from OSV records and osv.dev exports",
	  "runner db import [--db PATH] PATH...\n",
	  "Build the database from directories of OSV JSON records, single JSON files and\n"
	  "osv.dev-style zip exports (<Ecosystem>/all.zip). It replaces the previous database\n"
	  "only when every source was read.\n",
	  import_flags,
	  "Exit codes: 0 done; 2 usage or refused input (a bad record, a malicious archive);\n"
	  "4 an I/O error. The old database is kept whenever the exit code is not 0.\n" },
	{ "update", "download the exports again, only what changed, and rebuild",
	  "runner db update [--db PATH] [--url URL]... [--timeout DURATION]\n",
	  "Download the export URLs again (those of the last update, or each --url; by\n"
	  "default osv.dev's exports for every supported ecosystem), asking only for what\n"
	  "changed, and replace the database atomically.\n",
	  update_flags,
	  "Exit codes: 0 done; 2 usage or refused input (a bad record, a malicious archive);\n"
	  "4 an I/O or download error. The old database is kept whenever the exit code is\n"
	  "not 0.\n" },
	{ "status", "sources, records per ecosystem, build time and age",
	  "runner db status [--db PATH] [--json]\n",
	  "Show the database's sources, its records per ecosystem, when it was built and how\n"
	  "old it is.\n",
	  status_flags,
	  "Exit codes: 0 shown; 2 usage, no database there or one of another format; 4 a\n"
	  "database that cannot be read.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_help cmd_db_help = {
	"db",
	"The offline OSV advisory database that `runner scan deps` and the dependency-scan\n"
	"stage read. Every change builds a complete new database beside the old one and\n"
	"renames it into place.\n",
	db_flags,
	db_subs,
	"Exit codes: 0 done; 2 usage or refused input (a bad record, a malicious archive);\n"
	"4 an I/O or download error. The old database is kept whenever the exit code is not 0.\n",
};

static int db_import(const char *path, int n, char **paths)
{
	struct osvdb_build *b;
	char err[1024];
	uint64_t start = now_mono_ms();
	tmp_cleanup_on_signals(); /* an interrupted import leaves no half-built file */
	int r = osvdb_build_new(path, &b, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "runner: %s\n", err);
		return EXIT_INTERNAL;
	}
	for (int i = 0; i < n; i++) {
		r = osvdb_build_import_path(b, paths[i], err, sizeof(err));
		if (r < 0) {
			osvdb_build_abort(b);
			fprintf(stderr,
				"runner: import failed: %s\n  hint: the database at %s was left as "
				"it was\n",
				err, path);
			return r == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
		}
	}
	size_t records = osvdb_build_records(b);
	r = osvdb_build_commit(b, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr,
			"runner: import failed: %s\n  hint: the database at %s was left as it "
			"was\n",
			err, path);
		return r == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
	}
	uint64_t ms = now_mono_ms() - start;
	printf("imported %zu advisories into %s in %llu ms\n", records, path,
	       (unsigned long long)ms);
	return EXIT_OK;
}

static int db_status(const char *path, bool as_json)
{
	struct osvdb *db;
	char err[1024];
	int r = osvdb_open(path, &db, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "runner: no usable advisory database: %s\n", err);
		fprintf(stderr, "  hint: build one with 'runner db update' (downloads osv.dev "
				"exports) or 'runner db import PATH...'\n");
		return r == -ENOENT || r == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
	}
	json_t *st = osvdb_status(db);
	osvdb_close(db);
	if (as_json) {
		char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s ? s : "{}");
		free(s);
		json_decref(st);
		return EXIT_OK;
	}
	json_int_t age = json_integer_value(json_object_get(st, "age_seconds"));
	char dur[32];
	printf("database:  %s (%s)\n", json_string_value(json_object_get(st, "path")),
	       json_string_value(json_object_get(st, "schema")));
	printf("built:     %s\n", json_string_value(json_object_get(st, "built_at")));
	printf("updated:   %s (%s ago)\n", json_string_value(json_object_get(st, "updated_at")),
	       format_duration((uint64_t)(age > 0 ? age : 0) * 1000, dur, sizeof(dur)));
	printf("records:   %lld (%lld withdrawn)\n",
	       (long long)json_integer_value(json_object_get(st, "records")),
	       (long long)json_integer_value(json_object_get(st, "withdrawn")));
	printf("ecosystems:\n");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(st, "ecosystems"), k, v)
	{
		printf("  %-14s %lld\n", k, (long long)json_integer_value(v));
	}
	printf("sources:\n");
	size_t i;
	json_array_foreach(json_object_get(st, "sources"), i, v)
	{
		printf("  %s (%s, %lld records, imported %s)\n",
		       json_string_value(json_object_get(v, "location")),
		       json_string_value(json_object_get(v, "kind")),
		       (long long)json_integer_value(json_object_get(v, "records")),
		       json_string_value(json_object_get(v, "imported_at")));
	}
	json_decref(st);
	return EXIT_OK;
}

int cmd_db(int argc, char **argv)
{
	static const struct option import_opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option update_opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option status_opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	/* Each subcommand reads its own options (those its help lists) and names itself in
	 * usage errors, so that their hint is to its own help. */
	static const struct {
		const char *name, *cmd;
		const struct option *opts;
	} subs[] = {
		{ "import", "db import", import_opts },
		{ "update", "db update", update_opts },
		{ "status", "db status", status_opts },
	};
	if (argc < 2) {
		return cli_usage_error("db", "missing subcommand (import, update or status)");
	}
	const char *sub = argv[1], *cmd = NULL;
	const struct option *opts = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		if (str_eq(sub, subs[i].name)) {
			cmd = subs[i].cmd;
			opts = subs[i].opts;
		}
	}
	if (!cmd) {
		return cli_usage_error("db", "unknown subcommand '%s' (import, update or status)",
				       sub);
	}
	const char *db = NULL;
	bool as_json = false;
	const char **urls = NULL;
	size_t n_urls = 0, cap = 0;
	uint64_t timeout_ms = 10 * 60 * 1000;
	int c;
	/* The options and operands after the subcommand's word. */
	argc--;
	argv++;
	struct cli_getopt g;
	cli_getopt_init(&g, cmd, "");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'u':
			GROW(urls, cap, n_urls + 1);
			urls[n_urls++] = optarg;
			break;
		case 't':
			if (parse_duration(optarg, 24ull * 3600 * 1000, &timeout_ms) < 0) {
				free(urls);
				return cli_usage_error(
					cmd, "invalid --timeout '%s' (e.g. 90s, 10m)", optarg);
			}
			break;
		case 'j':
			as_json = true;
			break;
		default:
			free(urls);
			return EXIT_USAGE; /* said */
		}
	}
	_cleanup_free_ char *path = osvdb_default_path(db);
	int r;
	if (!path) {
		free(urls);
		return cli_usage_error(cmd, "no database path: set --db, RUNNER_DB or HOME");
	}
	if (str_eq(sub, "import")) {
		if (optind >= argc) {
			free(urls);
			return cli_usage_error(cmd, "import needs at least one PATH");
		}
		r = db_import(path, argc - optind, argv + optind);
	} else if (str_eq(sub, "status")) {
		if (optind < argc) {
			free(urls);
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		}
		r = db_status(path, as_json);
	} else {
		if (optind < argc) {
			free(urls);
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		}
		struct dbupdate_result res;
		char err[1024];
		tmp_cleanup_on_signals(); /* nor an interrupted download */
		r = dbupdate_run(path, urls, n_urls, timeout_ms, &res, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr,
				"runner: update failed: %s\n  hint: the database at %s was left as "
				"it was\n",
				err, path);
			r = r == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
		} else {
			if (res.unlisted) {
				printf("%s did not list the advisories each of its exports held "
				       "(built by an older runner): rebuilt from its sources\n",
				       path);
			} else if (res.rebuilt) {
				printf("%s was of an older format: rebuilt from its sources\n",
				       path);
			}
			printf("updated %s: %zu source%s downloaded, %zu unchanged, %zu "
			       "advisories\n",
			       path, res.downloaded, res.downloaded == 1 ? "" : "s", res.unchanged,
			       res.records);
			r = EXIT_OK;
		}
	}
	free(urls);
	return r;
}
