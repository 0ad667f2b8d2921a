/*
 * cmd_sandbox.c - `runner sandbox check`: what the sandbox gives on this host.
 *
 * Prints each protection (namespaces, seccomp, cgroups, limits) with whether this host
 * provides it, starts one confined process to prove the whole setup works, and, when a
 * pipeline is given or found, says which stages ask for something this host cannot give
 * (those stages would fail to start, exit 4, rather than run with less).
 */
#include "cli.h"

#include "pipeline.h"
#include "sandbox.h"
#include "sandboxcfg.h"
#include "util.h"

#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "banned.h"

static const struct cli_flag sandbox_flags[] = {
	{ "f", "-f, --file FILE",
	  "the pipeline file (default: .runner.yml or runner.yml, if present)" },
	{ "C", "-C DIR", "change to DIR first" },
	{ "json", "--json", "print one JSON object" },
	{ NULL, NULL, NULL },
};

static const char *const check_flags[] = { "f", "C", "json", NULL };

#define SANDBOX_EXITS                                                                          \
	"Exit codes: 0 stages can run confined here; 4 something essential is missing, or a\n" \
	"stage asks for a protection this host cannot give; 2 usage or invalid pipeline.\n"

static const struct cli_sub sandbox_subs[] = {
	{ "check", "what the stage sandbox gives on this host",
	  "runner sandbox check [-f FILE] [-C DIR] [--json]\n",
	  "Report what the stage sandbox gives on this host: user, mount, PID, IPC, UTS,\n"
	  "cgroup and network namespaces, the seccomp filter, cgroup memory and pids limits,\n"
	  "resource limits; start one confined process to check the whole setup; and list the\n"
	  "stages of the pipeline (if there is one) whose sandbox settings this host cannot\n"
	  "apply.\n",
	  check_flags, SANDBOX_EXITS },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_help cmd_sandbox_help = {
	"sandbox",
	"The sandbox every stage, and every scan of `runner scan`, runs in (docs/sandbox.md).\n",
	sandbox_flags,
	sandbox_subs,
	SANDBOX_EXITS,
};

#define MAX_ITEMS 32

int cmd_sandbox(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common co = { 0 };
	bool json = false;
	int c;
	if (argc < 2 || !str_eq(argv[1], "check")) {
		return cli_usage_error("sandbox", "the sandbox command is `runner sandbox check`");
	}
	argc--;
	argv++;
	struct cli_getopt g;
	cli_getopt_init(&g, "sandbox check", "f:C:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		default:
			if (cli_common_opt(&co, c, optarg)) {
				break;
			}
			return EXIT_USAGE; /* said */
		}
	}
	int fr = cli_common_finish(&co, "sandbox check", argc, argv);
	if (fr != EXIT_OK) {
		return fr;
	}

	struct pipeline *p = NULL;
	struct stat st;
	if (co.file || stat(".runner.yml", &st) == 0 || stat("runner.yml", &st) == 0) {
		int r = cli_load_pipeline(co.file, &p);
		if (r != EXIT_OK) {
			return r;
		}
	}

	struct sandbox_posture_item items[MAX_ITEMS];
	size_t n = sandbox_posture(items, MAX_ITEMS);
	bool ok = true;
	json_t *out = json_object(), *jitems = json_array(), *jstages = json_array();
	if (!json) {
		printf("sandbox on this host (running as %s):\n",
		       geteuid() == 0 ? "root" : "an unprivileged user");
	}
	for (size_t i = 0; i < n; i++) {
		ok &= items[i].available || !items[i].essential;
		if (json) {
			json_array_append_new(
				jitems,
				json_pack("{s:s, s:b, s:b, s:s}", "name", items[i].name,
					  "available", (int)items[i].available, "essential",
					  (int)items[i].essential, "detail", items[i].detail));
		} else {
			printf("  %-24s %-11s %s\n", items[i].name,
			       items[i].available   ? "yes"
			       : items[i].essential ? "MISSING"
						    : "no",
			       items[i].detail);
		}
	}
	if (p) {
		bool *selected = xcalloc(p->n_stages + 1, sizeof(bool));
		for (size_t i = 0; i < p->n_stages; i++) {
			selected[i] = true;
		}
		struct run_policies rp;
		run_policies_build(&rp, p, selected, NULL, false);
		free(selected);
		size_t bad = 0;
		for (size_t i = 0; i < p->n_stages; i++) {
			const char *err = rp.err[rp.of_stage[i]];
			const struct sandbox_policy *pol = rp.v[rp.of_stage[i]];
			bool host = pol && sandbox_policy_network(pol) == SANDBOX_NET_HOST;
			if (json) {
				json_array_append_new(jstages,
						      json_pack("{s:s, s:s, s:s?}", "name",
								p->stages[i]->name, "network",
								host ? "host" : "none",
								"unavailable", err));
			} else if (err) {
				if (!bad++) {
					printf("\nstages this host cannot confine as asked:\n");
				}
				printf("  %-24s %s\n", p->stages[i]->name, err);
			}
		}
		if (!json && !bad) {
			printf("\nevery stage of %s can run with the sandbox it asks for\n",
			       p->path);
		}
		ok &= bad == 0;
		run_policies_release(&rp);
	}
	if (json) {
		json_object_set_new(out, "ok", json_boolean(ok));
		json_object_set_new(out, "items", jitems);
		json_object_set_new(out, "stages", jstages);
		char *s = json_dumps(out, JSON_INDENT(2));
		printf("%s\n", s ? s : "{}");
		free(s);
	} else {
		json_decref(jitems);
		json_decref(jstages);
		printf("\n%s\n",
		       ok ? "stages run confined on this host"
			  : "stages cannot run confined as asked on this host (they would "
			    "fail with exit code 4)");
	}
	json_decref(out);
	pipeline_free(p);
	return ok ? EXIT_OK : EXIT_INTERNAL;
}
