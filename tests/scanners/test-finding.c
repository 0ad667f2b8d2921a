/*
 * test-finding.c - the finding model: severities, fingerprints that ignore line shifts and
 * indentation, the JSON round trip, inline suppressions.
 */
#include <criterion/criterion.h>

#include "finding.h"
#include "lex.h"
#include "util.h"

Test(finding, severities)
{
	enum severity s;
	cr_assert_eq(severity_parse("CRITICAL", &s), 0);
	cr_assert_eq(s, SEVERITY_CRITICAL);
	cr_assert_eq(severity_parse("moderate", &s), 0);
	cr_assert_eq(s, SEVERITY_MEDIUM);
	cr_assert_eq(severity_parse("severe", &s), -EINVAL);
	cr_assert_eq(severity_parse(NULL, &s), -EINVAL);
	cr_assert_str_eq(severity_name(SEVERITY_LOW), "low");
	cr_assert(SEVERITY_CRITICAL > SEVERITY_HIGH && SEVERITY_HIGH > SEVERITY_MEDIUM);
}

static struct finding make(const char *rule, const char *file, unsigned line)
{
	struct finding f = { .kind = FINDING_SAST };
	finding_set(&f.rule_id, rule);
	finding_set(&f.file, file);
	f.line = line;
	return f;
}

Test(finding, fingerprint_ignores_lines_and_indentation)
{
	struct finding a = make("c.strcpy", "src/a.c", 10), b = make("c.strcpy", "src/a.c", 99);
	finding_fingerprint(&a, "strcpy(dst, src);", 17, 0);
	finding_fingerprint(&b, "    strcpy(dst,   src);\n", 24, 0);
	cr_assert_str_eq(a.fingerprint, b.fingerprint);
	cr_assert_eq(strlen(a.fingerprint), 64);
	/* Occurrence, rule, file and content all count. */
	struct finding c = make("c.strcpy", "src/a.c", 10), d = make("c.strcat", "src/a.c", 10);
	struct finding e = make("c.strcpy", "src/b.c", 10), g = make("c.strcpy", "src/a.c", 10);
	finding_fingerprint(&c, "strcpy(dst, src);", 17, 1);
	finding_fingerprint(&d, "strcpy(dst, src);", 17, 0);
	finding_fingerprint(&e, "strcpy(dst, src);", 17, 0);
	finding_fingerprint(&g, "strcpy(dst, other);", 19, 0);
	cr_assert_str_neq(a.fingerprint, c.fingerprint);
	cr_assert_str_neq(a.fingerprint, d.fingerprint);
	cr_assert_str_neq(a.fingerprint, e.fingerprint);
	cr_assert_str_neq(a.fingerprint, g.fingerprint);
	finding_release(&a);
	finding_release(&b);
	finding_release(&c);
	finding_release(&d);
	finding_release(&e);
	finding_release(&g);
}

Test(finding, json_round_trip_keeps_everything)
{
	struct finding f = { .kind = FINDING_DEPENDENCY,
			     .severity = SEVERITY_CRITICAL,
			     .score = 10.0 };
	finding_set(&f.rule_id, "GHSA-jfh8-c2jx-5f7m");
	finding_set(&f.title, "Remote code injection in Log4j");
	finding_add_alias(&f, "CVE-2021-44228");
	finding_add_alias(&f, "CVE-2021-44228");
	finding_add_cwe(&f, "CWE-502");
	finding_set(&f.file, "pom.xml");
	f.line = 12;
	finding_set(&f.fix, "2.15.0");
	f.extra = json_pack("{s:{s:s,s:s}}", "package", "name",
			    "org.apache.logging.log4j:log4j-core", "version", "2.14.1");
	f.suppression = SUPPRESSION_ALLOW;
	f.disposition = DISPOSITION_SUPPRESSED;
	finding_set(&f.suppression_reason, "not reachable");
	finding_set(&f.suppression_expires, "2027-01-01");
	json_t *j = finding_to_json(&f);
	cr_assert_eq(f.n_aliases, 1);
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "package"), "version")),
		"2.14.1");
	struct finding g;
	cr_assert_eq(finding_from_json(j, &g), 0);
	cr_assert_eq(g.kind, FINDING_DEPENDENCY);
	cr_assert_eq(g.severity, SEVERITY_CRITICAL);
	cr_assert_float_eq(g.score, 10.0, 1e-9);
	cr_assert_str_eq(g.rule_id, "GHSA-jfh8-c2jx-5f7m");
	cr_assert_str_eq(g.aliases[0], "CVE-2021-44228");
	cr_assert_str_eq(g.cwe[0], "CWE-502");
	cr_assert_eq(g.line, 12);
	cr_assert_eq(g.suppression, SUPPRESSION_ALLOW);
	cr_assert_eq(g.disposition, DISPOSITION_SUPPRESSED);
	cr_assert_str_eq(g.suppression_expires, "2027-01-01");
	cr_assert_not_null(json_object_get(g.extra, "package"));
	json_t *j2 = finding_to_json(&g);
	cr_assert(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	finding_release(&f);
	finding_release(&g);
}

Test(finding, malformed_json_is_refused)
{
	struct finding f;
	json_t *j =
		json_pack("{s:s, s:s, s:s}", "kind", "sast", "rule_id", "x", "severity", "huge");
	cr_assert_eq(finding_from_json(j, &f), -EINVAL);
	json_decref(j);
	j = json_pack("{s:s, s:s}", "kind", "virus", "severity", "high");
	cr_assert_eq(finding_from_json(j, &f), -EINVAL);
	json_decref(j);
	j = json_pack("{s:s, s:s, s:s, s:i}", "kind", "sast", "rule_id", "x", "severity", "low",
		      "cwe", 3);
	cr_assert_eq(finding_from_json(j, &f), -EINVAL);
	json_decref(j);
}

Test(finding, inline_suppressions_need_a_reason)
{
	const char *src = "int a;\n"
			  "// runner:ignore c.strcpy -- copying a compile-time constant\n"
			  "strcpy(buf, \"x\");\n"
			  "strcpy(buf, y); /* runner:ignore c.strcpy,c.other -- bounded by the "
			  "check above */\n"
			  "strcpy(buf, z); // runner:ignore c.strcpy\n"
			  "gets(buf); # runner:ignore * -- legacy test fixture\n"
			  "<!-- runner:ignore GHSA-1 -- not reachable -->\n"
			  "<dependency/>\n";
	size_t len = strlen(src);
	char *reason = NULL;
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 3, "c.strcpy", &reason), 1);
	cr_assert_str_eq(reason, "copying a compile-time constant");
	free(reason);
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 4, "c.strcpy", &reason), 1);
	cr_assert_str_eq(reason, "bounded by the check above");
	free(reason);
	/* No reason: refused (and it does not suppress). */
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 5, "c.strcpy", &reason), -EINVAL);
	/* A different rule is not suppressed. */
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 3, "c.gets", &reason), 0);
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 6, "c.gets", &reason), 1);
	free(reason);
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 8, "GHSA-1", &reason), 1);
	cr_assert_str_eq(reason, "not reachable");
	free(reason);
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 1, "c.strcpy", &reason), 0);
	cr_assert_eq(finding_inline_suppression(src, len, NULL, 99, "c.strcpy", &reason), 0);
}

/* Only a comment suppresses: a marker in a string (on the line, or a string on the line
 * above), or glued to other text, does not. */
Test(finding, markers_outside_comments_suppress_nothing)
{
	static const char *const inert[] = {
		"{\"note\": \"runner:ignore * -- not a comment\", \"key\": \"AKIA\"}\n",
		"x = \"runner:ignore * -- in a string\"; strcpy(a, b);\n",
		"x = 1; // xrunner:ignore * -- glued\n",
		"'runner:ignore * -- a string on the line above'\nstrcpy(a, b);\n",
		"s = 'a' 'runner:ignore * -- quoted'\n",
	};
	for (size_t i = 0; i < sizeof(inert) / sizeof(inert[0]); i++) {
		char *reason = NULL;
		unsigned line = strchr(inert[i], '\n')[1] ? 2 : 1;
		cr_assert_eq(finding_inline_suppression(inert[i], strlen(inert[i]), NULL, line,
							"c.strcpy", &reason),
			     0, "%s", inert[i]);
		free(reason);
	}
	static const char *const comments[] = {
		"x = 1 # runner:ignore * -- reviewed\n",
		"x = 1; -- runner:ignore * -- SQL comment\n",
		"x = 1 ; runner:ignore * -- ini comment\n",
		" * runner:ignore * -- block comment\nstrcpy(a, b);\n",
		"/*runner:ignore * -- no space*/ strcpy(a, b);\n",
	};
	for (size_t i = 0; i < sizeof(comments) / sizeof(comments[0]); i++) {
		char *reason = NULL;
		unsigned line = strchr(comments[i], '\n')[1] ? 2 : 1;
		cr_assert_eq(finding_inline_suppression(comments[i], strlen(comments[i]), NULL,
							line, "c.strcpy", &reason),
			     1, "%s", comments[i]);
		free(reason);
	}
}

/* In a file the lexer read, a marker counts in its comments only, and a file may have none
 * (its empty list of comments was sorted from a null pointer: UBSan, found by replaying
 * fuzz-lex-c's corpus). */
Test(finding, markers_in_a_tokenized_file)
{
	static const struct {
		const char *src;
		int want;
	} c[] = {
		{ "strcpy(d, s); m = \"runner:ignore c.strcpy -- in a string\";\n", 0 },
		{ "strcpy(d, s); /* runner:ignore c.strcpy -- reviewed */\n", 1 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct tokens t;
		tokens_init(&t);
		cr_assert_eq(lex_run(LANG_C, c[i].src, strlen(c[i].src), false, &t), 0);
		char *reason = NULL;
		cr_assert_eq(finding_inline_suppression(c[i].src, strlen(c[i].src), &t, 1,
							"c.strcpy", &reason),
			     c[i].want, "%s", c[i].src);
		free(reason);
		tokens_release(&t);
	}
}

/* Every finding a marker covers keeps its own copy of the reason: a reason of megabytes
 * above a line of a thousand findings held gigabytes (900 MB for a 919 KB file, found
 * probing fuzz-lex-js's inputs at scale). A reason is kept to its first
 * FINDING_REASON_MAX bytes, cut before a UTF-8 sequence. */
Test(finding, a_long_reason_is_kept_short)
{
	size_t n = 1 << 20;
	char *src = xmalloc(n + 64);
	int w = snprintf(src, n + 64, "// runner:ignore * -- ");
	for (size_t i = (size_t)w; i < n; i += 2) {
		memcpy(src + i, "\xc3\xa9", 2);
	}
	memcpy(src + n, "\nstrcpy(a, b);\n", 16);
	char *reason = NULL;
	cr_assert_eq(finding_inline_suppression(src, n + 15, NULL, 2, "c.strcpy", &reason), 1);
	size_t len = strlen(reason);
	cr_assert_leq(len, FINDING_REASON_MAX + 3, "%zu bytes", len);
	cr_assert_geq(len, FINDING_REASON_MAX - 3 + 3);
	cr_assert_str_eq(reason + len - 3, "...");
	cr_assert_eq(memcmp(reason, "\xc3\xa9\xc3\xa9", 4), 0);
	cr_assert_eq((len - 3) % 2, 0, "no UTF-8 sequence is cut");
	free(reason);
	free(src);
}

/* A file read as plain text (the secrets scan): a marker counts only after a comment opener
 * at the start of the line or after a blank outside quotes. */
Test(finding, plain_text_markers_in_strings_suppress_nothing)
{
	static const char *const inert[] = {
		"{\"key\": \"AKIAZ7Q3MFXR2LHQ5KTB\", \"note\": \"# runner:ignore * -- vendor "
		"sample values\"}\n",
		"strcpy(buf, argv[1]); puts(\"# runner:ignore * -- x y z\");\n",
		"x = \" # runner:ignore * -- a blank inside the quotes\"\n",
		"x = \"a\\\" # runner:ignore * -- an escaped quote\"\n",
		"x = 'it''s # runner:ignore * -- doubled quotes'\n",
		"x = `# runner:ignore * -- template`\n",
		"x = 1;# runner:ignore * -- glued to code\n",
		"x = a % b; y = c * runner:ignore * -- not an opener\n",
		"x = 1 # runner:ignore * -- a comment after code\nstrcpy(a, b);\n",
	};
	for (size_t i = 0; i < sizeof(inert) / sizeof(inert[0]); i++) {
		char *reason = NULL;
		unsigned line = strchr(inert[i], '\n')[1] ? 2 : 1;
		cr_assert_eq(finding_inline_suppression(inert[i], strlen(inert[i]), NULL, line,
							"c.strcpy", &reason),
			     0, "%s", inert[i]);
		free(reason);
	}
	static const char *const comments[] = {
		"x = 'it' # runner:ignore * -- quotes closed before the comment\n",
		"x = \"a\\\\\" # runner:ignore * -- an escaped backslash\n",
		"\t/** runner:ignore * -- a doc comment */\n",
		"/// runner:ignore * -- a doc comment\n",
		"  ## runner:ignore * -- above the line\nstrcpy(a, b);\n",
	};
	for (size_t i = 0; i < sizeof(comments) / sizeof(comments[0]); i++) {
		char *reason = NULL;
		unsigned line = strchr(comments[i], '\n')[1] ? 2 : 1;
		cr_assert_eq(finding_inline_suppression(comments[i], strlen(comments[i]), NULL,
							line, "c.strcpy", &reason),
			     1, "%s", comments[i]);
		free(reason);
	}
}

/* Lines end at LF, CRLF or a lone CR, as the scanners number them: in a file with CR line
 * ends, a marker speaks for its own line (and the next) only. */
Test(finding, markers_cover_their_own_line_whatever_the_line_ends)
{
	const char *cr = "strcpy(a, b);\rint x;\r// runner:ignore * -- three lines down\r"
			 "strcpy(c, d);\r";
	char *reason = NULL;
	cr_assert_eq(finding_inline_suppression(cr, strlen(cr), NULL, 1, "c.strcpy", &reason), 0);
	cr_assert_eq(finding_inline_suppression(cr, strlen(cr), NULL, 2, "c.strcpy", &reason), 0);
	cr_assert_eq(finding_inline_suppression(cr, strlen(cr), NULL, 4, "c.strcpy", &reason), 1);
	cr_assert_str_eq(reason, "three lines down");
	free(reason);
	reason = NULL;
	const char *crlf = "strcpy(a, b);\r\n// runner:ignore * -- the next line\r\nstrcpy(c, d);";
	cr_assert_eq(finding_inline_suppression(crlf, strlen(crlf), NULL, 1, "c.strcpy", &reason),
		     0);
	cr_assert_eq(finding_inline_suppression(crlf, strlen(crlf), NULL, 3, "c.strcpy", &reason),
		     1);
	cr_assert_str_eq(reason, "the next line");
	free(reason);
	reason = NULL;
	const char *mixed = "a\r\rstrcpy(a, b); # runner:ignore * -- on line three\n";
	cr_assert_eq(finding_inline_suppression(mixed, strlen(mixed), NULL, 1, "c.strcpy", &reason),
		     0);
	cr_assert_eq(finding_inline_suppression(mixed, strlen(mixed), NULL, 3, "c.strcpy", &reason),
		     1);
	free(reason);
}

/* A marker of n ids, t0 .. t(n-1), and a reason, on a line of its own above a line of code;
 * pad: bytes added to the last id's name. */
static char *ids_marker(size_t n, size_t pad)
{
	size_t cap = n * 8 + pad + 128, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "// runner:ignore");
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "%s t%zu", i ? "," : "", i);
	}
	memset(src + w, 'x', pad);
	w += pad;
	snprintf(src + w, cap - w, " -- reviewed in review 7\nstrcpy(a, b);\n");
	return src;
}

/*
 * A marker names at most FINDING_IGNORE_MAX_IDS ids in at most FINDING_IGNORE_MAX_ID_BYTES:
 * one beyond either suppresses nothing, for any rule, and says why (-E2BIG, not the
 * -EINVAL of a marker without a reason). Each finding compared its rule with every id of
 * its line's marker again: a megabyte of ids above a line of a thousand findings took 12 s.
 */
Test(finding, a_marker_of_too_many_ids_suppresses_nothing)
{
	char *reason = NULL;
	char *src = ids_marker(FINDING_IGNORE_MAX_IDS, 0);
	cr_assert_eq(finding_inline_suppression(src, strlen(src), NULL, 2, "t63", &reason), 1);
	cr_assert_str_eq(reason, "reviewed in review 7");
	free(reason);
	reason = NULL;
	cr_assert_eq(finding_inline_suppression(src, strlen(src), NULL, 2, "t64", &reason), 0);
	free(src);
	src = ids_marker(FINDING_IGNORE_MAX_IDS + 1, 0);
	for (size_t i = 0; i <= FINDING_IGNORE_MAX_IDS + 1; i++) {
		char id[16];
		snprintf(id, sizeof(id), "t%zu", i);
		cr_assert_eq(finding_inline_suppression(src, strlen(src), NULL, 2, id, &reason),
			     -E2BIG, "%s", id);
		cr_assert_null(reason);
	}
	free(src);
	/* The ids' bytes: "t0, t1" and the last one's padding, from the first id to "--". */
	src = ids_marker(2, FINDING_IGNORE_MAX_ID_BYTES - 7);
	size_t last = strlen("t1") + FINDING_IGNORE_MAX_ID_BYTES - 7;
	char *id = xmalloc(last + 1);
	memcpy(id, "t1", 2);
	memset(id + 2, 'x', last - 2);
	id[last] = '\0';
	cr_assert_eq(finding_inline_suppression(src, strlen(src), NULL, 2, id, &reason), 1);
	free(reason);
	reason = NULL;
	free(src);
	src = ids_marker(2, FINDING_IGNORE_MAX_ID_BYTES - 6);
	cr_assert_eq(finding_inline_suppression(src, strlen(src), NULL, 2, "t0", &reason), -E2BIG);
	cr_assert_null(reason);
	free(src);
	free(id);
}

/*
 * A line of a thousand findings under a marker with a long reason, itself above a long
 * line of findings: each finding found its line's end and the line above's again, and
 * parsed the marker again (the ids, the "--" after them): the findings times the lines'
 * length. A marker is read once for all the findings it covers.
 */
Test(finding, a_marker_is_read_once_for_the_findings_it_covers)
{
	size_t n = 200000, cap = 2 * n + 1024, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "// runner:ignore t1, t2 -- ");
	for (size_t i = 0; i < n / 8; i++) {
		w += (size_t)snprintf(src + w, cap - w, "checked ");
	}
	w += (size_t)snprintf(src + w, cap - w, "\n");
	for (size_t i = 0; i < n / 16; i++) {
		w += (size_t)snprintf(src + w, cap - w, "strcpy(a, b);   ");
	}
	w += (size_t)snprintf(src + w, cap - w, "// runner:ignore t3 -- reviewed twice\n");
	struct line_cursor c = { 0 };
	for (unsigned line = 1; line <= 2; line++) {
		for (int i = 0; i < 1000; i++) {
			static const char *const id[] = { "t1", "t3", "t4" };
			static const int want[2][3] = { { 1, 0, 0 }, { 1, 1, 0 } };
			char *reason = NULL;
			int k = i % 3;
			cr_assert_eq(finding_inline_suppression_at(src, w, NULL, line, id[k],
								   &reason, &c),
				     want[line - 1][k], "line %u, %s", line, id[k]);
			if (line == 2 && k == 1) {
				cr_assert_str_eq(reason, "reviewed twice");
			} else if (k == 0) {
				cr_assert_eq(strlen(reason), FINDING_REASON_MAX + 3);
			}
			free(reason);
		}
	}
	cr_assert_leq(c.scanned, 3 * w, "%zu bytes read for %zu of text", c.scanned, w);
	line_cursor_release(&c);
	free(src);
}

Test(finding, the_cve_alias_is_a_well_formed_cve_id)
{
	struct finding f = { .rule_id = (char *)"GHSA-jfh8-c2jx-5f7m" };
	cr_assert_null(finding_cve_alias(&f));
	char *bad[] = { "CVE-2021-44228\n(forged)", "CVE-21-44228",    "CVE-2021-442",
			"cve-2021-44228",	    "CVE-2021-44228 ", "PYSEC-2021-1" };
	f.aliases = bad;
	f.n_aliases = sizeof(bad) / sizeof(bad[0]);
	cr_assert_null(finding_cve_alias(&f));
	char *good[] = { "PYSEC-2021-1", "CVE-2021-44228", "CVE-2021-45046" };
	f.aliases = good;
	f.n_aliases = 3;
	cr_assert_str_eq(finding_cve_alias(&f), "CVE-2021-44228");
	/* An advisory that is itself a CVE needs no alias. */
	f.rule_id = (char *)"CVE-2021-44228";
	cr_assert_null(finding_cve_alias(&f));
}
