/*
 * cmd_graph.c - `runner graph`: the stage graph after transitive reduction, as Graphviz
 * dot, Mermaid, or JSON (which also lists every declared need and the critical path).
 */
#include "cli.h"

#include "dag.h"
#include "pipeline.h"
#include "record.h"
#include "stage.h"
#include "util.h"

#include <getopt.h>
#include <jansson.h>

#include "banned.h"

const char cmd_graph_usage[] =
	"usage: runner graph [-f FILE] [-C DIR] [--format dot|mermaid|json]\n"
	"\n"
	"Print the stage graph. Edges implied by longer paths are left out (transitive\n"
	"reduction); an edge points from a stage to the stages that need it. Mermaid\n"
	"nodes are s0, s1, ... labelled with the stage's name and kind (a name such as\n"
	"`end` or `a--b` is not a valid Mermaid id).\n"
	"\n"
	"  -f, --file FILE      the pipeline file (default: .runner.yml, then runner.yml)\n"
	"  -C DIR               change to DIR first\n"
	"      --format FORMAT  dot (default), mermaid or json\n";

/* A DOT string; a newline is written as the escape `\n` (a centred line break), so
 * that each statement stays on one line for line-oriented tools. */
static void quote_dot(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '\n') {
			fputs("\\n", stdout);
			continue;
		}
		if (*s == '"' || *s == '\\') {
			putchar('\\');
		}
		putchar(*s);
	}
	putchar('"');
}

int cmd_graph(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common co = { 0 };
	const char *format = "dot";
	int c;
	struct cli_getopt g;
	cli_getopt_init(&g, "graph", "f:C:");
	while ((c = cli_getopt(&g, argc, argv, opts)) != -1) {
		switch (c) {
		case 'F':
			format = optarg;
			break;
		default:
			if (cli_common_opt(&co, c, optarg)) {
				break;
			}
			return EXIT_USAGE; /* said */
		}
	}
	if (!str_eq(format, "dot") && !str_eq(format, "mermaid") && !str_eq(format, "json")) {
		return cli_usage_error("graph", "unknown format '%s' (dot, mermaid or json)",
				       format);
	}
	int fr = cli_common_finish(&co, "graph", argc, argv);
	if (fr != EXIT_OK) {
		return fr;
	}
	struct pipeline *p;
	int r = cli_load_pipeline(co.file, &p);
	if (r != EXIT_OK) {
		return r;
	}
	const struct dag *d = &p->dag;
	bool *keep = dag_reduce(d, p->order);
	if (!keep) {
		fprintf(stderr, "runner: the graph is too large to reduce\n");
		pipeline_free(p);
		return EXIT_INTERNAL;
	}
	if (str_eq(format, "dot")) {
		printf("digraph ");
		quote_dot(p->name);
		printf(" {\n  rankdir=LR;\n  node [shape=box];\n");
		for (size_t i = 0; i < p->n_stages; i++) {
			printf("  ");
			quote_dot(p->stages[i]->name);
			printf(" [label=");
			_cleanup_free_ char *label =
				xasprintf("%s\n(%s)", p->stages[i]->name, p->stages[i]->kind->name);
			quote_dot(label);
			printf("];\n");
		}
		for (size_t v = 0; v < p->n_stages; v++) {
			for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
				if (keep[k]) {
					printf("  ");
					quote_dot(p->stages[d->need[k]]->name);
					printf(" -> ");
					quote_dot(p->stages[v]->name);
					printf(";\n");
				}
			}
		}
		printf("}\n");
	} else if (str_eq(format, "mermaid")) {
		/*
		 * Node ids are s<index>, the name goes in the label: a stage name
		 * ([A-Za-z0-9_-]) is not always a Mermaid id: `end`, `graph`, `style`,
		 * `class`... are keywords, and `a--b` reads as the start of an edge.
		 */
		printf("flowchart LR\n");
		for (size_t i = 0; i < p->n_stages; i++) {
			printf("  s%zu[\"%s (%s)\"]\n", i, p->stages[i]->name,
			       p->stages[i]->kind->name);
		}
		for (size_t v = 0; v < p->n_stages; v++) {
			for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
				if (keep[k]) {
					printf("  s%zu --> s%zu\n", (size_t)d->need[k], v);
				}
			}
		}
	} else {
		uint64_t *w = xcalloc(p->n_stages, sizeof(uint64_t));
		uint64_t *rem = xcalloc(p->n_stages, sizeof(uint64_t));
		_cleanup_free_ char *root = xasprintf("%s/.runner", p->dir);
		record_read_durations(root, p, w);
		uint64_t crit = dag_remaining(d, p->order, w, rem);
		json_t *j = json_object();
		json_t *nodes = json_array(), *edges = json_array();
		json_object_set_new(j, "pipeline", json_string(p->name));
		for (size_t i = 0; i < p->n_stages; i++) {
			json_t *needs = json_array();
			for (size_t k = 0; k < p->stages[i]->n_needs; k++) {
				json_array_append_new(
					needs,
					json_string(p->stages[p->stages[i]->needs[k]]->name));
			}
			json_array_append_new(
				nodes, json_pack("{s:s, s:s, s:o, s:I}", "name", p->stages[i]->name,
						 "kind", p->stages[i]->kind->name, "needs", needs,
						 "remaining_path", (json_int_t)rem[i]));
		}
		for (size_t v = 0; v < p->n_stages; v++) {
			for (size_t k = d->need_off[v]; k < d->need_off[v + 1]; k++) {
				if (keep[k]) {
					json_array_append_new(edges,
							      json_pack("{s:s, s:s}", "from",
									p->stages[d->need[k]]->name,
									"to", p->stages[v]->name));
				}
			}
		}
		json_t *order = json_array();
		for (size_t i = 0; i < p->n_stages; i++) {
			json_array_append_new(order, json_string(p->stages[p->order[i]]->name));
		}
		json_object_set_new(j, "stages", nodes);
		json_object_set_new(j, "edges", edges);
		json_object_set_new(j, "order", order);
		json_object_set_new(j, "critical_path", json_integer((json_int_t)crit));
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s ? s : "{}");
		free(s);
		json_decref(j);
		free(w);
		free(rem);
	}
	free(keep);
	pipeline_free(p);
	return EXIT_OK;
}
