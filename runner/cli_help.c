/*
 * cli_help.c - the help of the commands that have subcommands (cli.h, struct cli_help):
 * `runner CMD --help`, the overview, and `runner CMD SUB --help`, one subcommand's usage,
 * description, options and exit codes, as git, cargo and docker give them.
 *
 * An option's text is written once, in its command's table; each subcommand names the
 * options it takes, and its help lists those alone, in its own order. Option texts are
 * one paragraph each, wrapped here to the width of a terminal (80 columns) beside the
 * column of option names, which is as wide as the longest name the help lists (long
 * names past it put their text on the next line). When one of the listed options has a
 * short form (`-o, --output FILE`), the long-only ones are indented to line up with the
 * long forms, as GNU tools print them.
 */
#include "cli.h"

#include "util.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

#define HELP_COLUMNS   80
#define HELP_MAX_NAMES 26 /* the widest column of option names */

const struct cli_sub *cli_help_sub(const struct cli_help *h, const char *name)
{
	for (const struct cli_sub *s = h->subs; s->name; s++) {
		if (str_eq(s->name, name)) {
			return s;
		}
	}
	return NULL;
}

static const struct cli_flag *flag_of(const struct cli_help *h, const char *key)
{
	for (const struct cli_flag *fl = h->flags; fl->key; fl++) {
		if (str_eq(fl->key, key)) {
			return fl;
		}
	}
	return NULL;
}

/* A short option and a long one: "-o, --output FILE". */
static bool short_and_long(const char *left)
{
	return left[0] == '-' && left[1] != '-' && str_has_prefix(left + 2, ", --");
}

/* The text from column col to the width of the terminal, each further line indented
 * to col; a '\n' of the text breaks the line there. */
static void print_wrapped(FILE *f, const char *text, size_t col)
{
	size_t width = HELP_COLUMNS > col + 20 ? HELP_COLUMNS - col : 20, used = 0;
	for (const char *p = text; *p;) {
		if (*p == '\n') {
			fprintf(f, "\n%*s", (int)col, "");
			used = 0;
			p++;
			continue;
		}
		if (*p == ' ') {
			p++;
			continue;
		}
		size_t n = strcspn(p, " \n");
		if (used > 0 && used + 1 + n > width) {
			fprintf(f, "\n%*s", (int)col, "");
			used = 0;
		}
		fprintf(f, "%s%.*s", used ? " " : "", (int)n, p);
		used += (used ? 1 : 0) + n;
		p += n;
	}
	fputc('\n', f);
}

/* The synopsis lines after "usage: ", the later ones lined up under the first. */
static void print_synopsis(FILE *f, const char *synopsis, bool *first)
{
	for (const char *p = synopsis; *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(f, "%s%.*s\n", *first ? "usage: " : "       ", (int)n, p);
		*first = false;
		p += n + (p[n] == '\n');
	}
}

static void print_flags(FILE *f, const struct cli_help *h, const struct cli_sub *sub)
{
	size_t width = 0;
	bool shorts = false;
	for (const char *const *k = sub->flags; *k; k++) {
		const struct cli_flag *fl = flag_of(h, *k);
		if (fl) {
			shorts = shorts || short_and_long(fl->left);
		}
	}
	for (const char *const *k = sub->flags; *k; k++) {
		const struct cli_flag *fl = flag_of(h, *k);
		size_t n = fl ? strlen(fl->left) + (shorts && fl->left[1] == '-' ? 4 : 0) : 0;
		if (n > width && n <= HELP_MAX_NAMES - 2) {
			width = n;
		}
	}
	width += 2;
	for (const char *const *k = sub->flags; *k; k++) {
		const struct cli_flag *fl = flag_of(h, *k);
		if (!fl) {
			continue; /* a key without its entry: the e2e tests see it missing */
		}
		const char *pad = shorts && fl->left[1] == '-' ? "    " : "";
		size_t n = strlen(pad) + strlen(fl->left);
		fprintf(f, "  %s%s", pad, fl->left);
		if (n + 2 > width) {
			fprintf(f, "\n%*s", (int)(2 + width), "");
		} else {
			fprintf(f, "%*s", (int)(width - n), "");
		}
		print_wrapped(f, fl->text, 2 + width);
	}
}

void cli_help_print(FILE *f, const struct cli_help *h, const struct cli_sub *sub)
{
	bool first = true;
	if (sub) {
		print_synopsis(f, sub->synopsis, &first);
		fprintf(f, "\n%s", sub->about);
		if (sub->flags[0]) {
			fputs("\nOptions:\n", f);
			print_flags(f, h, sub);
		}
		fprintf(f, "\n%s", sub->exits);
		fprintf(f,
			"\n'runner %s --help' gives the overview of every 'runner %s' "
			"subcommand.\n",
			h->name, h->name);
		return;
	}
	size_t width = 0;
	for (const struct cli_sub *s = h->subs; s->name; s++) {
		print_synopsis(f, s->synopsis, &first);
		width = strlen(s->name) > width ? strlen(s->name) : width;
	}
	fprintf(f, "\n%s\nSubcommands:\n", h->about);
	for (const struct cli_sub *s = h->subs; s->name; s++) {
		fprintf(f, "  %-*s  ", (int)width, s->name);
		print_wrapped(f, s->summary, 4 + width);
	}
	fprintf(f,
		"\nRun 'runner %s SUBCOMMAND --help' for a subcommand's options and exit "
		"codes.\n\n",
		h->name);
	fputs(h->exits, f);
}
