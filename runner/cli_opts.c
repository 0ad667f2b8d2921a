/*
 * cli_opts.c - the option parsing every command shares (cli.h, cli_getopt): GNU style,
 * the same way for all of them. Options and operands come in any order (`runner scan deps
 * . --format json`, as git, curl and most GNU tools take them), `--` ends the options (so
 * that a path named `--x` can follow it), long options take `--name value`, `--name=value`
 * or any unambiguous prefix, short ones may be clustered (`-qo FILE`).
 *
 * It is getopt_long() in its in-order mode (an optstring that starts with '-'), in which
 * every operand is returned as it comes, whatever POSIXLY_CORRECT says: glibc's default
 * mode permutes too, but stops at the first operand when that variable is set, and the
 * same command line must mean the same everywhere. Each operand is moved, as it comes,
 * to the front of argv (after argv[0]), behind the operands before it: only entries
 * getopt has read are moved, and getopt keeps no pointer to an entry of argv, only to the
 * text of the one it is in. At the end the operands are rotated behind the options, so
 * that, as with getopt's permutation, argv[optind..argc) are all the operands, in the
 * order given (those after `--` last, where they were).
 *
 * getopt's own messages are off (opterr = 0, and ':' first for a missing value): a usage
 * error is said once, as every other one is, with cli_usage_error().
 *
 * `--help` and `-h` ask for the command's help where getopt reads them as options, as git
 * and GNU tools take them: not as the value of an option that takes one (`--name --help`
 * names "--help", `-o -h` writes to "-h"), not after `--`, and not after a usage error
 * that ends the reading first. `-h` is a short option of every command for that (none
 * has one of its own); `--help` is not a long option of theirs, so that it is no prefix
 * either (`--h` stays --history's), and it is told from the unknown ones.
 */
#include "cli.h"

#include "util.h"

#include <getopt.h>
#include <stdio.h>

#include "banned.h"

static bool help_requested;
static const char *help_topic;

bool cli_help_requested(void)
{
	return help_requested;
}

const char *cli_help_topic(void)
{
	return help_topic;
}

void cli_help_set_topic(const char *cmd)
{
	help_topic = cmd;
}

void cli_getopt_init(struct cli_getopt *g, const char *cmd, const char *shortopts)
{
	g->cmd = cmd;
	g->n_operands = 0;
	snprintf(g->optstring, sizeof(g->optstring), "-:%sh", shortopts ? shortopts : "");
	optind = 0; /* glibc: start over, and read the optstring's mode again */
	opterr = 0;
}

static void reverse(char **v, int n)
{
	for (int i = 0, k = n - 1; i < k; i++, k--) {
		char *t = v[i];
		v[i] = v[k];
		v[k] = t;
	}
}

/* The long options the word `--name[=value]` names: exactly, or by prefix. Returns how
 * many match (an exact match counts alone), *match the first. */
static int long_matches(const struct option *longopts, const char *word,
			const struct option **match)
{
	const char *name = word + 2;
	size_t n = strcspn(name, "=");
	int count = 0;
	*match = NULL;
	for (const struct option *o = longopts; o && o->name; o++) {
		if (strncmp(o->name, name, n) != 0) {
			continue;
		}
		if (strlen(o->name) == n) {
			*match = o;
			return 1;
		}
		*match = count ? *match : o;
		count++;
	}
	return count;
}

/* Say what is wrong with the option getopt refused (c is '?' or ':'). */
static void refused(const struct cli_getopt *g, int c, int argc, char **argv,
		    const struct option *longopts, int at)
{
	/* argv[at] is the word getopt was reading: optind before the call (getopt does not
	 * permute here, the optstring starts with '-'). optind - 1 is not: inside a cluster
	 * of short options (`-Zq`), optind stays on the cluster until its last letter, so
	 * argv[optind - 1] is the word before it, which may be a `--x=y`. */
	const char *word = at > 0 && at < argc ? argv[at] : "";
	bool is_long = str_has_prefix(word, "--") && word[2] != '\0';
	if (!is_long) {
		if (c == ':') {
			cli_usage_error(g->cmd, "option '-%c' needs a value", optopt);
		} else if (optopt > ' ' && optopt < 127) {
			cli_usage_error(g->cmd, "unknown option '-%c'", optopt);
		} else {
			cli_usage_error(g->cmd, "unknown option '%s'", word);
		}
		return;
	}
	size_t n = strcspn(word, "=");
	const struct option *o;
	int count = long_matches(longopts, word, &o);
	if (c == ':') {
		cli_usage_error(g->cmd, "option '--%s' needs a value", o ? o->name : word + 2);
	} else if (count == 1 && word[n] == '=') {
		cli_usage_error(g->cmd, "option '--%s' takes no value", o->name);
	} else if (count > 1) {
		char names[512] = "";
		size_t used = 0;
		for (const struct option *m = longopts; m->name && used < sizeof(names); m++) {
			if (strncmp(m->name, word + 2, n - 2) == 0) {
				int k = snprintf(names + used, sizeof(names) - used, "%s--%s",
						 used ? ", " : "", m->name);
				used += k > 0 ? (size_t)k : 0;
			}
		}
		cli_usage_error(g->cmd, "option '%.*s' is ambiguous: it begins %s", (int)n, word,
				names);
	} else {
		cli_usage_error(g->cmd, "unknown option '%.*s'", (int)n, word);
	}
}

int cli_getopt(struct cli_getopt *g, int argc, char **argv, const struct option *longopts)
{
	for (;;) {
		int at = optind > 0 ? optind : 1;
		int c = getopt_long(argc, argv, g->optstring, longopts, NULL);
		if (c == 1) {
			/* An operand, argv[optind - 1]: behind the operands before it. */
			int i = optind - 1, w = 1 + g->n_operands;
			char *operand = argv[i];
			memmove(&argv[w + 1], &argv[w], (size_t)(i - w) * sizeof(*argv));
			argv[w] = operand;
			g->n_operands++;
			continue;
		}
		if (c == -1) {
			/* argv[1..1+n) operands, then the options up to optind: the operands
			 * behind them, before those that followed `--`. */
			int n = g->n_operands, opts_end = optind;
			reverse(argv + 1, n);
			reverse(argv + 1 + n, opts_end - 1 - n);
			reverse(argv + 1, opts_end - 1);
			optind = opts_end - n;
			g->n_operands = 0;
			return -1;
		}
		/* An unknown long option has advanced optind past its word, and getopt sets
		 * optopt to 0 for it. */
		if (c == 'h' || (c == '?' && optopt == 0 && optind > 0 && optind <= argc &&
				 str_eq(argv[optind - 1], "--help"))) {
			help_requested = true;
			help_topic = g->cmd;
			return '?';
		}
		if (c == '?' && optopt == 0 && optind > 0 && optind <= argc &&
		    str_has_prefix(argv[optind - 1], "--help=")) {
			cli_usage_error(g->cmd, "option '--help' takes no value");
			return '?';
		}
		if (c == '?' || c == ':') {
			refused(g, c, argc, argv, longopts, at);
			return '?';
		}
		return c;
	}
}
