/*
 * test-pattern.c - the rule language's matching semantics, through small rules: literal
 * tokens, metavariables (binding expressions, consistency, separators), ellipses (inside
 * brackets, in `{ }` bodies and at the top level), "...", comma-ellipsis arguments, conditions
 * (literal, regex, not-regex), pattern-not, pattern-inside, pattern-not-inside, pattern-in-file,
 * pattern-not-in-file (and the other bindings of a match they refuse), regex rules and
 * `where`, message interpolation, inline suppression, fingerprints, and the step budget that
 * bounds pathological cases.
 */
#include <criterion/criterion.h>

#include "diag.h"
#include "filefind.h"
#include "rules.h"
#include "sast.h"
#include "sbuf.h"
#include "util.h"

#include <stdio.h>

static struct finding_list fl;
static struct sast_file_stats st;

/* Scan src as lang with the given rules (a YAML list body under `rules:`). */
static void scan(enum lang lang, const char *rules, const char *src)
{
	char *doc = xasprintf("kind: sast\nrules:\n%s", rules);
	struct ruleset *rs = ruleset_new(RULE_SAST);
	struct diag_list dl;
	diag_list_init(&dl, 20);
	int r = ruleset_load_buffer(rs, "test.yml", doc, strlen(doc), &dl);
	for (size_t i = 0; i < dl.n; i++) {
		fprintf(stderr, "%u:%u: %s\n", dl.v[i].line, dl.v[i].col, dl.v[i].msg);
	}
	cr_assert_eq(r, 0, "the test rules must load");
	ruleset_finish(rs, &dl);
	struct sast_scratch *s = sast_scratch_new(rs);
	finding_list_release(&fl);
	memset(&st, 0, sizeof(st));
	cr_assert_eq(sast_scan(s, "f", lang, src, strlen(src), &fl, &st), 0);
	sast_scratch_free(s);
	ruleset_free(rs);
	diag_list_release(&dl);
	free(doc);
}

/* The lines of the findings, "3 7" etc. */
static char *lines(void)
{
	static char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < fl.n && n < sizeof(buf) - 16; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u", i ? " " : "", fl.v[i].line);
	}
	return buf;
}

#define RULE(id, lang, body) RULE_M(id, lang, "m", body)
#define RULE_M(id, lang, msg, body) \
	"  - id: " id "\n    languages: [" lang "]\n    severity: high\n    message: " msg "\n" body

Test(pattern, literals_and_metavariables)
{
	scan(LANG_C, RULE("t", "c", "    pattern: strcpy($D, $S)\n"),
	     "strcpy(a, b);\n"
	     "strcpy(u->n[i], f(x, y));\n" /* metavariables bind whole expressions */
	     "strcpy(a);\n"		   /* too few arguments */
	     "strcpy (\n  a ,\n  b ) ;\n"  /* whitespace does not matter */
	     "xstrcpy(a, b);\n");	   /* a different identifier */
	cr_assert_str_eq(lines(), "1 2 4");
	cr_assert_eq(fl.v[2].end_line, 6);
}

Test(pattern, same_metavariable_same_text)
{
	scan(LANG_C, RULE("t", "c", "    pattern: memcpy($A, $A, $N)\n"),
	     "memcpy(x, x, 4);\nmemcpy(x, y, 4);\nmemcpy(p->a, p->a, n);\n");
	cr_assert_str_eq(lines(), "1 3");
}

/* The messages of the findings, one per line, after their lines and (columns) columns:
 * "3:1 cp", or "3 cp". */
static char *findings_text(bool columns)
{
	static char buf[2048];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < fl.n && n < sizeof(buf) - 100; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%u", fl.v[i].line);
		if (columns) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":%u", fl.v[i].column);
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s\n", fl.v[i].message);
	}
	return buf;
}

static char *messages(void)
{
	return findings_text(true);
}

/* The messages by line only: "3 cp". */
static char *bound_texts(void)
{
	return findings_text(false);
}

Test(pattern, metavariables_stop_at_arrows_awaits_and_conditionals)
{
	/* A metavariable before `.exec` binds the object, not a run that starts before an
	 * arrow's `=>`, a conditional's `?` or `:`, or a prefix operator such as `await`. */
	const char *rule = RULE_M("t", "javascript", "$M", "    pattern: $M.exec($C)\n");
	scan(LANG_JAVASCRIPT, rule,
	     "app.get('/', (req, res) => cp.exec(req.query.cmd));\n"
	     "async function f(x) { await cp.exec(x); }\n"
	     "const r = flag ? cp.exec(x) : null;\n"
	     "const s = flag ? null : cp.exec(x);\n"
	     "void cp.exec(x);\n"
	     "const t = typeof cp.exec(x);\n"
	     "function* g() { yield cp.exec(x); }\n"
	     "const u = { run: cp.exec(x) };\n");
	cr_assert_str_eq(messages(),
			 "1:28 cp\n2:29 cp\n3:18 cp\n4:25 cp\n5:6 cp\n6:18 cp\n"
			 "7:23 cp\n8:18 cp\n",
			 "%s", messages());
	/* A whole arrow function, conditional or awaited expression is still one. */
	scan(LANG_JAVASCRIPT, RULE_M("t", "javascript", "$X", "    pattern: $EL.innerHTML = $X\n"),
	     "el.innerHTML = await fetchHtml(u).text;\n"
	     "el.innerHTML = flag ? a : b;\n"
	     "el.innerHTML = x => y.z;\n"
	     "el.innerHTML = void f(g);\n");
	cr_assert_str_eq(messages(),
			 "1:1 await fetchHtml(u).text\n2:1 flag ? a : b\n3:1 x => y.z\n"
			 "4:1 void f(g)\n",
			 "%s", messages());
	/* Python: await and not take a whole chain; a conditional expression and a lambda
	 * are never cut. */
	scan(LANG_PYTHON, RULE_M("t", "python", "$M", "    pattern: $M.system($C)\n"),
	     "async def f(c):\n    await os.system(c)\n"
	     "x = a if c else os.system(d)\n"
	     "y = not os.system(d)\n"
	     "g(key=lambda v: os.system(v))\n");
	cr_assert_str_eq(messages(), "2:11 os\n3:17 os\n4:9 os\n5:17 os\n", "%s", messages());
	/* Java's lambda arrow and conditional; C's conditional (where -> is a member). */
	scan(LANG_JAVA, RULE_M("t", "java", "$R", "    pattern: $R.exec($C)\n"),
	     "list.forEach(c -> rt.exec(c));\nProcess p = ok ? rt.exec(c) : null;\n");
	cr_assert_str_eq(messages(), "1:19 rt\n2:18 rt\n", "%s", messages());
	scan(LANG_C, RULE_M("t", "c", "$S", "    pattern: $S->run($C)\n"),
	     "int r = ok ? s->run(x) : 0;\n");
	cr_assert_str_eq(messages(), "1:14 s\n", "%s", messages());
}

Test(pattern, metavariables_bind_operands_whole)
{
	/* A metavariable before `.exec` binds the operand the call is made on, never a run
	 * that holds an operator joining it to something else: `flag && cp`, `!cp`, `x + cp`. */
	const char *rule = RULE_M("t", "javascript", "$M", "    pattern: $M.exec($C)\n");
	scan(LANG_JAVASCRIPT, rule,
	     "flag && cp.exec(x);\n"
	     "ok || cp.exec(x);\n"
	     "const a = opt ?? cp.exec(x);\n"
	     "!cp.exec(x);\n"
	     "const b = n + cp.exec(x), c = -cp.exec(x);\n"
	     "if (a === cp.exec(x)) {} else if (a instanceof cp.exec(x)) {}\n"
	     "const d = map.delete(k).exec(x);\n"
	     "const e = ok && (a || b).exec(x);\n");
	cr_assert_str_eq(bound_texts(),
			 "1 cp\n2 cp\n3 cp\n4 cp\n5 cp\n5 cp\n6 cp\n6 cp\n7 map.delete(k)\n"
			 "8 (a || b)\n",
			 "%s", bound_texts());
	/* TypeScript: a non-null assertion goes on with its operand; type arguments before a
	 * call are part of it. */
	scan(LANG_TYPESCRIPT, RULE_M("t", "typescript", "$M", "    pattern: $M.exec($C)\n"),
	     "const a = ok && cp!.exec(x);\n"
	     "const b = ok && getShell<Shell>(c).exec(x);\n"
	     "const c = i < shells.exec(x);\n");
	cr_assert_str_eq(bound_texts(), "1 cp!\n2 getShell<Shell>(c)\n3 shells\n", "%s",
			 bound_texts());
	/* Precedence: an operand of a tighter operator is not split, one of a looser operator
	 * is not taken in. */
	scan(LANG_JAVASCRIPT,
	     RULE_M("t", "javascript", "'[$L] [$R]'",
		    "    pattern-either: [ '$L * $R', '$L || $R', '$L ** $R', '$L.d + $R' ]\n"),
	     "v = a + b * c;\n"
	     "v = a * b + c;\n"
	     "v = a && b || c && d;\n"
	     "v = a ** b ** c;\n"
	     "v = a.b + c.d + e;\n");
	cr_assert_str_eq(bound_texts(),
			 "1 [b] [c]\n2 [a] [b]\n3 [a && b] [c && d]\n4 [a] [b ** c]\n5 [c] [e]\n",
			 "%s", bound_texts());
	/* `$Q + $X` still splits a concatenation where the rest of it is. */
	scan(LANG_JAVASCRIPT,
	     RULE_M("t", "javascript", "'[$Q] [$X]'", "    pattern: 'q(\"SELECT \" + $Q + $X)'\n"),
	     "q(\"SELECT \" + a + \" WHERE \" + b * 2);\n");
	cr_assert_str_eq(bound_texts(), "1 [a] [\" WHERE \" + b * 2]\n", "%s", bound_texts());
	/* Python's and, or, not, comparisons (not in, is not), unary minus and unpacking. */
	scan(LANG_PYTHON, RULE_M("t", "python", "$M", "    pattern: $M.system($C)\n"),
	     "flag and os.system(c)\n"
	     "flag or os.system(c)\n"
	     "y = x + os.system(c)\n"
	     "y = x not in os.system(c)\n"
	     "y = x is not os.system(c)\n"
	     "y = not a == os.system(c)\n"
	     "y = -os.system(c)\n"
	     "print(*os.system(c))\n");
	cr_assert_str_eq(bound_texts(), "1 os\n2 os\n3 os\n4 os\n5 os\n6 os\n7 os\n8 os\n", "%s",
			 bound_texts());
	/* C (where `*` and `&` are also prefix operators and `->` a member), Java, Go. */
	scan(LANG_C, RULE_M("t", "c", "$S", "    pattern: $S->run($C)\n"),
	     "int a = ok && s->run(x);\nint b = !s->run(x);\nint c = *p->run(x);\n");
	cr_assert_str_eq(bound_texts(), "1 s\n2 s\n3 p\n", "%s", bound_texts());
	scan(LANG_JAVA, RULE_M("t", "java", "$R", "    pattern: $R.exec($C)\n"),
	     "boolean a = ok && rt.exec(c);\nString b = \"x\" + rt.exec(c);\n");
	cr_assert_str_eq(bound_texts(), "1 rt\n2 rt\n", "%s", bound_texts());
	scan(LANG_GO, RULE_M("t", "go", "$R", "    pattern: $R.Run($C)\n"),
	     "ok := flag && cmd.Run(c)\nx := !cmd.Run(c)\ny := <-ch.Run(c)\n");
	cr_assert_str_eq(bound_texts(), "1 cmd\n2 cmd\n3 ch\n", "%s", bound_texts());
	/* A run never ends at an operator: `const char *` is no argument. */
	scan(LANG_C, RULE_M("t", "c", "$F", "    pattern: fprintf($S, $F, ...)\n"),
	     "int fprintf(FILE *, const char *, ...);\nfprintf(f, fmt);\n");
	cr_assert_str_eq(bound_texts(), "2 fmt\n", "%s", bound_texts());
}

Test(pattern, a_brace_group_before_the_anchor_is_found)
{
	/* The anchor (`require`) follows a `{ }` group: the start of the match is looked for
	 * before that group, not only after it (a `}` otherwise ends a block). */
	const char *rule = RULE_M("t", "javascript", "$X",
				  "    pattern: '{ ..., $X, ... } = require(\"m\")'\n");
	scan(LANG_JAVASCRIPT, rule,
	     "const { a } = require('m');\n"
	     "let {\n  b,\n  c\n} = require(\"m\");\n"
	     "function f() { g(); } x = require('m');\n"
	     "const { d } = require('n');\n");
	cr_assert_str_eq(messages(), "1:7 a\n2:5 b\n", "%s", messages());
	/* A pattern with a block and a top-level ellipsis before its anchor. */
	scan(LANG_JAVASCRIPT,
	     RULE("t", "javascript", "    pattern: '{ ... } ... x = require(\"m\")'\n"),
	     "if (y) { g(); } x = require('m');\n");
	cr_assert_str_eq(lines(), "1");
}

Test(pattern, ellipsis_and_comma_ellipsis)
{
	scan(LANG_PYTHON,
	     RULE("t", "python", "    pattern: subprocess.run(..., shell=True, ...)\n"),
	     "subprocess.run(cmd, shell=True)\n"
	     "subprocess.run(shell=True)\n"
	     "subprocess.run(a, b, shell=True, check=True)\n"
	     "subprocess.run(cmd, shell=False)\n"
	     "subprocess.run(f(shell=True))\n"); /* not an argument of run */
	cr_assert_str_eq(lines(), "1 2 3");
	scan(LANG_C, RULE("t", "c", "    pattern: f(...)\n"), "f();\nf(1, (2, 3));\ng(f);\n");
	cr_assert_str_eq(lines(), "1 2");
	scan(LANG_JAVASCRIPT, RULE("t", "javascript", "    pattern: x(\"...\")\n"),
	     "x('a');\nx(`b`);\nx(c);\n");
	cr_assert_str_eq(lines(), "1 2");
}

Test(pattern, top_level_ellipsis_stays_in_its_block)
{
	const char *rule = RULE("t", "c", "    pattern: lock($L); ... unlock($L);\n");
	scan(LANG_C, rule,
	     "void a(void) { lock(m); if (x) { work(); } unlock(m); }\n"
	     "void b(void) { lock(m); }\n"
	     "void c(void) { unlock(m); }\n"
	     "void d(void) { lock(m); unlock(n); }\n");
	cr_assert_str_eq(lines(), "1");
}

/* In the shell, an ellipsis among a command's words stays in that command: it stops at
 * `;`, `&`, `&&`, `||`, `|`, `|&`, `;;`, a subshell's brackets and a line end, and steps
 * over redirections; the pattern's own separator after it still matches. One on a line of
 * its own stands for any commands. */
Test(pattern, a_shell_ellipsis_stays_in_its_command)
{
	const char *rule = RULE("t", "shell",
				"    pattern: rm ... -rf ... $V\n"
				"    conditions:\n"
				"      - metavariable: $V\n"
				"        regex: '^\\$'\n");
	scan(LANG_SHELL, rule,
	     "rm -rf $a\n"				   /* 1 */
	     "rm -rf x; echo $b\n"			   /* 2: another command's */
	     "rm -rf x && echo $b\n"			   /* 3 */
	     "rm -rf x || echo $b\n"			   /* 4 */
	     "rm -rf x | tee $b\n"			   /* 5 */
	     "rm -rf x & wait $b\n"			   /* 6 */
	     "rm -rf x |& tee $b\n"			   /* 7 */
	     "(rm -rf x) >$b\n"				   /* 8 */
	     "case y in y) rm -rf x;; *) echo $b;; esac\n" /* 9 */
	     "rm -rf x 2>&1 $c\n"    /* 10: a redirection is the command's own */
	     "true; rm -rf $d\n"     /* 11: a command after a separator is one */
	     "rm -rf x \\\n  $e\n"); /* 12: a continued line is one command */
	cr_assert_str_eq(lines(), "1 10 11 12", "%s", lines());
	rule = RULE("t", "shell", "    pattern: curl ... | $SH\n");
	scan(LANG_SHELL, rule,
	     "curl -fsSL https://x | sh\n"
	     "curl -o k https://x && cat k | sudo\n"
	     "curl https://x | tee log | sh\n");
	cr_assert_str_eq(lines(), "1 3", "%s", lines());
	rule = RULE("t", "shell", "    pattern: curl ... | ... | $SH\n");
	scan(LANG_SHELL, rule, "curl https://x | tee log | sh\ncurl https://x | sh\n");
	cr_assert_str_eq(lines(), "1", "%s", lines());
	/* On a line of its own: any commands between two. */
	rule = RULE("t", "shell",
		    "    pattern: |\n"
		    "      cd $D\n"
		    "      ...\n"
		    "      rm -rf $D\n");
	scan(LANG_SHELL, rule, "cd $x\ntrue; false && echo y\nrm -rf $x\n");
	cr_assert_str_eq(lines(), "1", "%s", lines());
}

/*
 * An ellipsis that is a stage of a pipe of its own (`curl ... | ... | $SH`) stands for any
 * commands joined by pipes between the download and the shell (`| sed s/x/y/ | tr -d x |`),
 * not for commands after another separator; past PATTERN_MAX_PIPE_STAGES commands the
 * attempt gives up and the rule reports the file as not evaluated completely.
 */
Test(pattern, a_pipe_stage_ellipsis_stands_for_the_commands_between)
{
	const char *rule = RULE("t", "shell",
				"    pattern: curl ... | ... | $SH\n"
				"    conditions:\n"
				"      - metavariable: $SH\n"
				"        regex: '^(sh|bash)$'\n");
	scan(LANG_SHELL, rule,
	     "curl https://x | sed s/a/b/ | tr -d x | sh\n"		 /* 1 */
	     "curl https://x | sed 1d |& tail -n 2 | grep -v y | bash\n" /* 2 */
	     "curl https://x | sed s/a/b/ > f\n"			 /* 3: no shell */
	     "curl -o f https://x && cat f | sed 1d | sh\n"		 /* 4: after && */
	     "curl https://x | sed 1d; cat f | tr a b | sh\n"		 /* 5: after ; */
	     "curl https://x | sed 1d || tr a b | sh\n"			 /* 6: after || */
	     "curl https://x | sed 1d\ncat f | sh\n"			 /* 7, 8 */
	     "curl https://x | sed 1d | sh -c 'cat > f'\n");		 /* 9 */
	cr_assert_str_eq(lines(), "1 2 9", "%s", lines());
	cr_assert_eq(st.budget_exceeded, 0);
	/* 32 commands between: followed; 33: given up, not passed. */
	for (size_t n = 32; n <= 33; n++) {
		struct sbuf b;
		sbuf_init(&b, 4096);
		sbuf_puts(&b, "curl https://x");
		for (size_t i = 0; i < n; i++) {
			sbuf_puts(&b, " | cat");
		}
		sbuf_puts(&b, " | sh\n");
		scan(LANG_SHELL, rule, b.data);
		cr_assert_eq(fl.n, 1);
		if (n == 32) {
			cr_assert_eq(st.budget_exceeded, 0);
			cr_assert_not(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
		} else {
			cr_assert_gt(st.budget_exceeded, 0);
			cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
		}
		sbuf_release(&b);
	}
}

/* In a Dockerfile, an ellipsis among a command's words of a RUN stays in that command
 * too; the one right after the instruction stands for any commands before (a RUN line
 * of `&&`-joined commands: `chmod ... $MODE` took the uid of a useradd after it). */
Test(pattern, a_dockerfile_ellipsis_stays_in_its_command)
{
	const char *rule = RULE("t", "dockerfile",
				"    pattern: RUN ... chmod ... $MODE\n"
				"    conditions:\n"
				"      - metavariable: $MODE\n"
				"        regex: '^[0-7]*[2367]$'\n");
	scan(LANG_DOCKERFILE, rule,
	     "FROM debian:12\n"
	     "RUN chmod 777 /a\n"				  /* 2 */
	     "RUN chmod 755 /e && useradd -u 1002 app\n"	  /* 3: useradd's */
	     "RUN chmod +x /e; echo 1003\n"			  /* 4 */
	     "RUN chmod 644 /e | tee 1006\n"			  /* 5 */
	     "RUN mkdir /d && chmod 1777 /d\n"			  /* 6: any command's */
	     "RUN apt-get update \\\n    && chmod -R 0777 /srv\n" /* 7 */
	     "run chmod 2>/dev/null 1777 /t\n");		  /* 9 */
	cr_assert_str_eq(lines(), "2 6 7 9", "%s", lines());
	/* A download piped into a shell: the pipe right after the download's words. */
	rule = RULE("t", "dockerfile", "    pattern: RUN ... curl ... | $SH\n");
	scan(LANG_DOCKERFILE, rule,
	     "RUN curl -fsSLo /tmp/i.sh https://x && sha256sum -c s && cat /tmp/d | sh\n"
	     "RUN apt-get update && curl -fsSL https://x | sh\n"
	     "RUN curl -o f https://x > f && sh other.sh\n");
	cr_assert_str_eq(lines(), "2", "%s", lines());
	/* Other instructions: an ellipsis after the instruction, as before. */
	scan(LANG_DOCKERFILE, RULE("t", "dockerfile", "    pattern: EXPOSE ... $P\n"),
	     "EXPOSE 80 22\n");
	cr_assert_str_eq(messages(), "1:1 m\n", "%s", messages());
}

/*
 * In a Dockerfile every `RUN ...` pattern starts at the RUN, so a pattern-not "at the same
 * place" also takes the metavariables the match bound at the same words: the `sh -c` of
 * one download did not hide the `| sh` of another after an `&&` on the same line.
 */
Test(pattern, a_dockerfile_pattern_not_takes_the_words_the_match_bound)
{
	const char *rule = RULE("t", "dockerfile",
				"    pattern: RUN ... curl ... | $SH\n"
				"    pattern-not: RUN ... curl ... | $SH $ARG\n"
				"    conditions:\n"
				"      - metavariable: $ARG\n"
				"        regex: '^-c$'\n");
	scan(LANG_DOCKERFILE, rule,
	     "RUN curl https://a | sh -c 'echo' && curl https://b | sh\n" /* 1: the second */
	     "RUN curl https://b | sh && curl https://a | sh -c 'echo'\n" /* 2: the first */
	     "RUN curl https://a | sh -c 'echo' && curl https://b | sh -c x\n"
	     "RUN curl https://a | sh -c 'echo'\n");
	cr_assert_str_eq(lines(), "1 2", "%s", lines());
	/* A line of thousands of `sh -c` downloads before a `| sh`: the pattern-not's walk to
	 * each binding's words may run out of steps, and then the file is reported, never
	 * passed. */
	size_t n = 3000, cap = n * 40 + 64, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "RUN true");
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, " && curl https://a/%zu | sh -c x", i);
	}
	snprintf(src + w, cap - w, " && curl https://b | sh\n");
	scan(LANG_DOCKERFILE, rule, src);
	cr_assert_geq(fl.n, 1, "the line is reported");
	cr_assert_eq(fl.v[0].line, 1);
	free(src);
}

/*
 * A RUN heredoc whose body a shell runs (none named, sh or bash after the delimiter, a
 * shebang of a shell) holds the RUN's commands: each line of the body is read as a RUN of
 * its own, reported on its line. A body that is a file's content (COPY), another program's
 * input (`<<EOF python3`, `python3 <<EOF`, cat's) or runs under another interpreter
 * (`#!/usr/bin/env python3`) is not.
 */
Test(pattern, a_dockerfile_heredoc_run_by_a_shell_holds_the_commands)
{
	const char *rule = RULE("t", "dockerfile",
				"    pattern: RUN ... chmod ... $MODE\n"
				"    conditions:\n"
				"      - metavariable: $MODE\n"
				"        regex: '^[0-7]*[2367]$'\n");
	scan(LANG_DOCKERFILE, rule,
	     "FROM debian:12\n"
	     "RUN <<EOF\n"
	     "set -eux\n"
	     "chmod 777 /a\n"			     /* 4 */
	     "chmod 755 /b && useradd -u 1002 app\n" /* useradd's */
	     "EOF\n"
	     "RUN <<-EOT bash\n"
	     "\tmkdir /d; chmod 1777 /d\n" /* 8 */
	     "EOT\n"
	     "RUN --mount=type=cache,target=/c <<'EOF'\n"
	     "chmod -R \\\n  0777 /srv\n" /* 11 */
	     "EOF\n"
	     "RUN <<A cat > /f && <<B sh -e\n"
	     "chmod 777 /not-run\n"
	     "A\n"
	     "chmod 0666 /run\n" /* 17 */
	     "B\n"
	     "COPY <<EOF /s.sh\n"
	     "chmod 777 /copied\n"
	     "EOF\n"
	     "RUN <<EOF python3\n"
	     "chmod 777 /py\n"
	     "EOF\n"
	     "RUN python3 <<EOF\n"
	     "chmod 777 /py\n"
	     "EOF\n"
	     "RUN <<EOF\n"
	     "#!/usr/bin/env python3\n"
	     "chmod 777 /py\n"
	     "EOF\n"
	     "RUN <<EOF\n"
	     "#!/bin/bash\n"
	     "chmod 777 /sh\n" /* 34 */
	     "EOF\n"
	     "RUN <<EOF > /etc/x.conf\n"
	     "chmod 777 /conf\n"
	     "EOF\n"
	     "RUN <<-EOF\n"
	     "\t#!/usr/bin/env python3\n"
	     "\tchmod 777 /py\n"
	     "EOF\n"
	     "RUN chmod 777 /after\n"); /* 43 */
	cr_assert_str_eq(lines(), "4 8 11 17 34 43", "%s", lines());
	/* Two on one body, each on its line; the pipe of its own command. */
	rule = RULE("t", "dockerfile", "    pattern: RUN ... curl ... | $SH\n");
	scan(LANG_DOCKERFILE, rule,
	     "RUN <<EOF\n"
	     "curl -fsSLo /tmp/i.sh https://x\n"
	     "cat /tmp/d | sh\n"
	     "curl -fsSL https://x | sh\n" /* 4 */
	     "wget -qO- https://y | sh\n"
	     "curl -fsSL https://z \\\n  | bash\n" /* 6 */
	     "EOF\n");
	cr_assert_str_eq(lines(), "4 6", "%s", lines());
	/* Delimiters as the shell reads them: with a dot, escaped, after a blank. */
	scan(LANG_DOCKERFILE, rule,
	     "COPY <<robots.txt /srv/\ncurl https://x | sh\nrobots.txt\n"
	     "RUN <<\\EOF\ncurl https://x | sh\nEOF\n" /* 5 */
	     "RUN << EOF\ncurl https://x | sh\nEOF\n"  /* 8 */
	     "RUN curl https://x | sh\n");	       /* 10 */
	cr_assert_str_eq(lines(), "5 8 10", "%s", lines());
	/* A body without its delimiter up to the end of the file. */
	scan(LANG_DOCKERFILE, rule, "RUN <<EOF\nls\ncurl https://x | sh\n");
	cr_assert_str_eq(lines(), "3", "%s", lines());
}

/* An instruction of a pattern (its first word, or one after a line end) matches an
 * instruction, not a word of a RUN's commands that reads the same in another case: `git
 * remote add origin URL` is no ADD, `env TOKEN=x make` no ENV, in a RUN line or its
 * heredoc. A heredoc's lines are RUNs, ONBUILD's trigger is an instruction. Words after the
 * instruction match anywhere. */
Test(pattern, a_dockerfile_instruction_matches_only_as_an_instruction)
{
	const char *rule = RULE("t", "dockerfile",
				"    pattern: ADD ... $SRC\n"
				"    conditions:\n"
				"      - metavariable: $SRC\n"
				"        regex: '^https://'\n");
	scan(LANG_DOCKERFILE, rule,
	     "FROM debian:12\n"
	     "RUN git remote add origin https://git.example.com/x\n"
	     "add https://example.com/f.tgz /f.tgz\n" /* 3 */
	     "RUN <<EOF\n"
	     "git remote add origin https://git.example.com/y\n"
	     "EOF\n"
	     "ONBUILD ADD https://example.com/g /g\n"); /* 7: ONBUILD's instruction */
	cr_assert_str_eq(lines(), "3 7", "%s", lines());
	scan(LANG_DOCKERFILE, RULE("t", "dockerfile", "    pattern: USER $U\n"),
	     "RUN echo user root\nUSER root\nRUN <<EOF\nuser root\nEOF\n");
	cr_assert_str_eq(lines(), "2", "%s", lines());
	scan(LANG_DOCKERFILE, RULE("t", "dockerfile", "    pattern: RUN ... sudo ...\n"),
	     "RUN echo run sudo\nRUN <<EOF\necho hi\nsudo true\n"
	     "cat > /f <<'X'\nsudo in a file\nX\nsudo make install\nEOF\n");
	cr_assert_str_eq(lines(), "1 4 8", "%s", lines());
}

/* RUN heredocs a file cannot make costly: a body of a megabyte without its delimiter up
 * to the end of the file, thousands of heredocs, more on one line than are kept. The
 * matching stays within a few steps a token and gives nothing up. */
Test(pattern, dockerfile_heredocs_stay_linear)
{
	const char *rule = RULE("t", "dockerfile",
				"    pattern: RUN ... chmod ... $MODE\n"
				"    conditions:\n"
				"      - metavariable: $MODE\n"
				"        regex: '^[0-7]*[2367]$'\n");
	size_t cap = (1u << 20) + 4096, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "FROM debian:12\nRUN <<EOF\n");
	while (w + 64 < (1u << 20)) {
		w += (size_t)snprintf(src + w, cap - w, "chmod 755 /a && ls -l /srv | sort\n");
	}
	snprintf(src + w, cap - w, "chmod 777 /last\n");
	scan(LANG_DOCKERFILE, rule, src);
	cr_assert_eq(fl.n, 1, "%zu", fl.n);
	cr_assert_eq(st.budget_exceeded, 0);
	cr_assert_leq(st.steps, 8 * st.tokens, "%zu steps, %zu tokens", st.steps, st.tokens);
	/* Thousands of heredocs, each its own RUN. */
	w = 0;
	for (int i = 0; w + 64 < cap && i < 20000; i++) {
		w += (size_t)snprintf(src + w, cap - w, "RUN <<E%d\nchmod 755 /x\nE%d\n", i, i);
	}
	scan(LANG_DOCKERFILE, rule, src);
	cr_assert_eq(fl.n, 0, "%zu", fl.n);
	cr_assert_leq(st.steps, 8 * st.tokens, "%zu steps, %zu tokens", st.steps, st.tokens);
	/* Thousands on one line: the first ones are read, the rest are words. */
	w = (size_t)snprintf(src, cap, "RUN ");
	for (int i = 0; w + 64 < cap && i < 5000; i++) {
		w += (size_t)snprintf(src + w, cap - w, "<<E%d ", i);
	}
	w += (size_t)snprintf(src + w, cap - w, "sh\n");
	for (int i = 0; w + 64 < cap && i < 5000; i++) {
		w += (size_t)snprintf(src + w, cap - w, "chmod 777 /%d\nE%d\n", i, i);
	}
	scan(LANG_DOCKERFILE, rule, src);
	cr_assert_eq(st.budget_exceeded, 0);
	cr_assert_leq(st.steps, 8 * st.tokens, "%zu steps, %zu tokens", st.steps, st.tokens);
	free(src);
}

/* An ellipsis in a pattern's `{ }` reaches into the blocks and brackets inside the body it
 * matches, and a later one comes back out of them; none leaves that body, and the
 * pattern's `}` is the body's own. */
Test(pattern, an_ellipsis_in_braces_reaches_into_the_body)
{
	const char *rule = RULE("t", "c", "    pattern: void f(void) { ... unlock($L); ... }\n");
	scan(LANG_C, rule,
	     "void f(void) { lock(m); unlock(m); }\n"		      /* directly in the body */
	     "void f(void) { if (x) { while (y) { unlock(m); } } }\n" /* blocks down */
	     "void f(void) { if ((n = unlock(m)) < 0) return; }\n"    /* in brackets */
	     "void f(void) { lock(m); }\n"			      /* none in the body */
	     "void f(void) { x = ({ unlock(m); 1; }); }\n");	      /* in a block in brackets */
	cr_assert_str_eq(lines(), "1 2 5");
	/* A call, not a statement, in brackets: the statement pattern needs its `;`. */
	rule = RULE("t", "c", "    pattern: void f(void) { ... unlock($L) ... }\n");
	scan(LANG_C, rule,
	     "void f(void) { if ((n = unlock(m)) < 0) return; }\n"
	     "void f(void) { lock(m); }\n"
	     "void f(void) {\n  lock(m);\n}\nvoid f(void) { unlock(m); }\n"); /* not out */
	cr_assert_str_eq(lines(), "1 6");
	/* Two steps: the second from where the first was, deeper or back out, in the body. */
	rule = RULE("t", "c", "    pattern: void f(void) { ... lock($L); ... unlock($L); ... }\n");
	scan(LANG_C, rule,
	     "void f(void) { if (x) { lock(m); } work(); unlock(m); }\n"
	     "void f(void) { lock(m); for (;;) { if (y) unlock(m); } }\n"
	     "void f(void) { unlock(m); lock(m); }\n" /* the wrong order */
	     "void f(void) { lock(m); }\nvoid f(void) { unlock(m); }\n");
	cr_assert_str_eq(lines(), "1 2");
	/* The pattern's `}` closes the body, not a block inside it. */
	rule = RULE("t", "c", "    pattern: void f(void) { ... unlock($L); }\n");
	scan(LANG_C, rule,
	     "void f(void) { lock(m); unlock(m); }\n"
	     "void f(void) { if (x) { unlock(m); } }\n"
	     "void f(void) { if (x) { unlock(m); } work(); }\n");
	cr_assert_str_eq(lines(), "1");
}

/* A pattern of several lines, with "..." on a line of its own between them: any
 * statements or none, in the same block or one inside it, never out of it. */
Test(pattern, ellipsis_line_between_statements)
{
	const char *rule = RULE("t", "python",
				"    pattern: |\n"
				"      $Q = make()\n"
				"      ...\n"
				"      cur.execute($Q)\n");
	scan(LANG_PYTHON, rule,
	     "def a():\n"
	     "    q = make()\n" /* 2: the next statement */
	     "    cur.execute(q)\n"
	     "def b():\n"
	     "    q = make()\n" /* 5: two statements and a block later */
	     "    log(q)\n"
	     "    if q:\n"
	     "        rows = cur.execute(q).all()\n"
	     "def c():\n"
	     "    q = make()\n" /* 10: another function's call is not reached */
	     "def d():\n"
	     "    cur.execute(q)\n"
	     "    p = make()\n" /* 13: not the same name */
	     "    cur.execute(q)\n");
	cr_assert_str_eq(lines(), "2 5");
	/* As a refinement, with nothing but "=" to anchor on before the "...": the call,
	 * inside a stretch from an assignment to the name it passes. */
	scan(LANG_PYTHON,
	     RULE("t", "python",
		  "    pattern: cur.execute($Q)\n"
		  "    pattern-inside: |\n"
		  "      $Q = $S\n"
		  "      ...\n"
		  "      cur.execute($Q)\n"),
	     "def a():\n    q = make()\n    x = 1\n    cur.execute(q)\n    cur.execute(r)\n");
	cr_assert_str_eq(lines(), "4");
	/* Two "..." lines: the second may leave the block the first entered (out of the `if`
	 * where q was appended to, back to the call), never the block the match started in. */
	scan(LANG_PYTHON,
	     RULE("t", "python",
		  "    pattern: |\n"
		  "      $Q = make()\n"
		  "      ...\n"
		  "      $Q += $T\n"
		  "      ...\n"
		  "      cur.execute($Q)\n"),
	     "def a(x):\n"
	     "    q = make()\n" /* 2 */
	     "    if x:\n"
	     "        q += x\n"
	     "    cur.execute(q)\n"
	     "def b(x):\n"
	     "    if x:\n"
	     "        q = make()\n" /* 8: the call is outside the block the match starts in */
	     "        q += x\n"
	     "    cur.execute(q)\n");
	cr_assert_str_eq(lines(), "2");
	scan(LANG_JAVASCRIPT,
	     RULE("t", "javascript", "    pattern: q = make(); ... q += $T; ... run(q);\n"),
	     "function a(x) { q = make(); if (x) { q += x; } run(q); }\n"
	     "function b(x) { if (x) { q = make(); q += x; } run(q); }\n");
	cr_assert_str_eq(lines(), "1");
}

Test(pattern, conditions)
{
	const char *rule = RULE("t", "c",
				"    pattern: system($CMD)\n"
				"    conditions:\n"
				"      - metavariable: $CMD\n"
				"        literal: false\n"
				"        not-regex: '^safe_'\n");
	scan(LANG_C, rule,
	     "system(cmd);\nsystem(\"ls\");\nsystem(\"a\" \"b\");\nsystem(safe_cmd);\n");
	cr_assert_str_eq(lines(), "1");
	/* In C a name next to a string literal is a macro that stands for one (the strings
	 * are joined when compiling); a call is not. */
	scan(LANG_C, rule,
	     "system(\"rm -rf \" TMPDIR \"/x\");\nsystem(TOOL \" -v\");\n"
	     "system(\"ls \" name(x));\nsystem(\"ls \" + x);\nsystem(a b);\n");
	cr_assert_str_eq(lines(), "3 4 5", "%s", lines());
	/* A regex sees a string's content, without quotes. */
	scan(LANG_GO,
	     RULE("t", "go",
		  "    pattern: exec.Command($SH, \"-c\", $X)\n"
		  "    conditions:\n      - metavariable: $SH\n        regex: '^(ba)?sh$'\n"),
	     "exec.Command(\"sh\", \"-c\", x)\nexec.Command(\"zsh\", \"-c\", x)\n");
	cr_assert_str_eq(lines(), "1");
}

Test(pattern, refinements)
{
	scan(LANG_C,
	     RULE("t", "c", "    pattern: strcpy($D, $S)\n    pattern-not: strcpy($D, \"...\")\n"),
	     "strcpy(a, \"x\");\nstrcpy(a, b);\n");
	cr_assert_str_eq(lines(), "2");
	/* pattern-inside: containment, with the metavariables of both agreeing. */
	scan(LANG_C,
	     RULE("t", "c", "    pattern: free($P)\n    pattern-inside: 'if (done) { ... }'\n"),
	     "if (done) { free(p); }\nfree(q);\nif (other) { free(r); }\n");
	cr_assert_str_eq(lines(), "1");
	scan(LANG_C,
	     RULE("t", "c",
		  "    pattern: use($P)\n    pattern-not-inside: check($P); ... use($P)\n"),
	     "void f(void) { check(a); use(a); }\nvoid g(void) { check(a); use(b); }\n");
	cr_assert_str_eq(lines(), "2");
	/* in-file and not-in-file, with bindings. */
	const char *rule = RULE("t", "c",
				"    pattern: handler_body($H)\n"
				"    pattern-in-file: register($H)\n"
				"    pattern-not-in-file: unregister($H)\n");
	scan(LANG_C, rule,
	     "handler_body(a);\nhandler_body(b);\nhandler_body(c);\n"
	     "register(a);\nregister(c);\nunregister(c);\n");
	cr_assert_str_eq(lines(), "1");
}

Test(pattern, bound_by_conditions)
{
	/* $CP must be a name that `$CP = require($M)` binds somewhere in the file (with $M's
	 * own condition holding); a member of the same name (`foo.a`) is not that name. */
	const char *rule = RULE_M("t", "javascript", "$CP",
				  "    pattern: $CP.exec($C)\n"
				  "    conditions:\n"
				  "      - metavariable: $M\n"
				  "        regex: ^m$\n"
				  "      - metavariable: $CP\n"
				  "        bound-by: $CP = require($M)\n");
	scan(LANG_JAVASCRIPT, rule,
	     "const a = require('m'), b = other(), d = require('n');\n"
	     "a.exec(x);\nb.exec(y);\nfoo.a.exec(z);\nthis.c.exec(z);\nd.exec(z);\n"
	     "this.c = require('m');\n");
	cr_assert_str_eq(messages(), "2:1 a\n5:1 this.c\n", "%s", messages());
	/* A pattern with no literal to anchor on starts with a bound-by metavariable: it is
	 * tried where the names bound occur. A bound-by pattern may use other bound-by
	 * metavariables; each of them binds several names (all matches count). */
	rule = RULE_M("t", "javascript", "$FN",
		      "    pattern: $FN($C)\n"
		      "    conditions:\n"
		      "      - metavariable: $FN\n"
		      "        bound-by:\n"
		      "          - 'import { ..., exec as $FN, ... } from \"m\"'\n"
		      "          - '{ ..., $FN, ... } = require(\"m\")'\n"
		      "          - $FN = promisify($RAW)\n"
		      "      - metavariable: $RAW\n"
		      "        bound-by: '{ ..., $RAW, ... } = require(\"m2\")'\n");
	scan(LANG_JAVASCRIPT, rule,
	     "import { exec as run, spawn } from 'm';\n"
	     "const { x1, x2 } = require('m');\n"
	     "const { raw } = require('m2');\n"
	     "const p = promisify(raw), q = promisify(nope);\n"
	     "run(c);\nre.run(c);\nother(c);\nspawn(c);\n"
	     "x1(c);\nx2(c);\np(c);\nq(c);\nraw(c);\n");
	cr_assert_str_eq(messages(), "5:1 run\n9:1 x1\n10:1 x2\n11:1 p\n", "%s", messages());
	/* Nothing bound, nothing tried. */
	scan(LANG_JAVASCRIPT, rule, "run(c);\nexec(c);\n");
	cr_assert_eq(fl.n, 0);
	/* More bindings than are kept: the rule gives up on the file, which is not passed. */
	size_t n = 1100;
	char *src = xmalloc(n * 8 + 64);
	size_t w = (size_t)sprintf(src, "const {");
	for (size_t i = 0; i < n; i++) {
		w += (size_t)sprintf(src + w, " a%zu,", i);
	}
	sprintf(src + w, " z } = require('m');\n");
	scan(LANG_JAVASCRIPT, rule, src);
	cr_assert_eq(fl.n, 1);
	cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
	free(src);
}

/* Code embedded in code of its language (a template's ${ }, an f-string's replacement field,
 * a shell $( )) sees the bindings of the code around it: of the file's top level, and of the
 * ${ } or $( ) a nested one is in; not a name nothing around it binds. */
Test(pattern, embedded_code_sees_the_bindings_around_it)
{
	const char *rule = RULE("t", "javascript",
				"    pattern-either: [ '$CP.exec($C)', '$FN($C)' ]\n"
				"    conditions:\n"
				"      - metavariable: $CP\n"
				"        bound-by: $CP = require(\"m\")\n"
				"      - metavariable: $FN\n"
				"        bound-by: 'const { ..., $FN, ... } = $CP'\n");
	scan(LANG_JAVASCRIPT, rule,
	     "const cp = require('m');\n"
	     "const s = `${cp.exec(a)}`;\n"
	     "const t = `${`${cp.exec(b)}`}`;\n"
	     "const u = `${(() => { const { run } = cp; return `${run(c)}`; })()}`;\n"
	     "const v = `${(() => { const c2 = require('m'); return `${c2.exec(d)}`; })()}`;\n"
	     "const w = `${other.exec(e)} ${run2(f)}`;\n");
	cr_assert_str_eq(lines(), "2 3 4 5", "%s", lines());
	/* Python: an f-string's fields see the file's imports (`import *` binds every name). */
	rule = RULE_M("t", "python", "$F",
		      "    pattern-either: [ '$SP.run($C)', '$F($C)' ]\n"
		      "    conditions:\n"
		      "      - metavariable: $SP\n"
		      "        bound-by: import subprocess as $SP\n"
		      "      - metavariable: $F\n"
		      "        bound-by: from os import *\n");
	scan(LANG_PYTHON, rule,
	     "import subprocess as sp\nx = f\"{sp.run(a)}\"\ny = f\"{c.run(b)}\"\n");
	cr_assert_str_eq(lines(), "2", "%s", lines());
	scan(LANG_PYTHON, rule, "from os import *\nx = f\"{f'{system(a)}'}\"\n");
	cr_assert_str_eq(lines(), "2", "%s", lines());
	/* The shell: a $( ) sees the functions of its script, also in a CI file's run: block
	 * (not another block's). */
	rule = RULE_M("t", "shell", "$F",
		      "    pattern: $F \"$1\"\n"
		      "    conditions:\n"
		      "      - metavariable: $F\n"
		      "        bound-by: function $F\n");
	scan(LANG_SHELL, rule,
	     "function run_it { eval \"$@\"; }\nout=\"$(run_it \"$1\")\"\n"
	     "x=$(echo $(run_it \"$1\"))\ny=$(other \"$1\")\n");
	cr_assert_str_eq(lines(), "2 3", "%s", lines());
	scan(LANG_GITHUB_ACTIONS, rule,
	     "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
	     "      - run: |\n          function run_it { eval \"$@\"; }\n"
	     "          out=\"$(run_it \"$1\")\"\n"
	     "      - run: out=\"$(run_it \"$1\")\"\n");
	cr_assert_str_eq(lines(), "8", "%s", lines());
}

/* The patterns of a rule that match at one start are each refined: one refused (here by
 * pattern-not-inside, with what it binds) does not hide another that is kept; when several
 * are kept, that is one finding, the first pattern's. */
Test(pattern, a_refused_match_does_not_hide_another_at_its_start)
{
	const char *rule = RULE_M("t", "python", "$CMD",
				  "    pattern-either:\n"
				  "      - os.system($PREFIX + $CMD)\n"
				  "      - os.system($CMD)\n"
				  "    pattern-not-inside: |\n"
				  "        $CMD = shlex.quote(...)\n"
				  "        ...\n"
				  "        os.system(...)\n");
	scan(LANG_PYTHON, rule,
	     "def f(prefix, user):\n"
	     "    user = shlex.quote(user)\n"
	     "    os.system(prefix + user)\n"
	     "def g(user):\n"
	     "    user = shlex.quote(user)\n"
	     "    os.system(user)\n"
	     "def h(a, b):\n"
	     "    os.system(a + b)\n");
	cr_assert_str_eq(bound_texts(), "3 prefix + user\n8 b\n", "%s", bound_texts());
}

/* One pattern may match at one start with several bindings: the refinements refusing the
 * first one found do not hide a later one that they keep. `sink(a, b)` binds $X to `a`
 * first, which pattern-not-inside refuses (`a` was cleaned before); `b` is reported. */
Test(pattern, a_refused_binding_does_not_hide_another_of_the_same_pattern)
{
	const char *rule = RULE_M("t", "python", "$X",
				  "    pattern: sink(..., $X, ...)\n"
				  "    pattern-not-inside: |\n"
				  "        $X = clean(...)\n"
				  "        ...\n"
				  "        sink(...)\n");
	scan(LANG_PYTHON, rule,
	     "def f(a, b):\n"
	     "    a = clean(a)\n"
	     "    sink(a, b)\n"
	     "def g(a, b):\n"
	     "    a = clean(a)\n"
	     "    b = clean(b)\n"
	     "    sink(a, b)\n"
	     "def h(a, b):\n"
	     "    sink(a, b)\n");
	cr_assert_str_eq(bound_texts(), "3 b\n9 a\n", "%s", bound_texts());
	/* pattern-inside and pattern-in-file take part the same way: the first argument is
	 * set in another function, the second in this one. */
	rule = RULE_M("t", "javascript", "$O",
		      "    pattern: run(..., $O, ...)\n"
		      "    pattern-inside: |\n"
		      "        $O = { shell: true }\n"
		      "        ...\n"
		      "        run(...)\n"
		      "    pattern-not-in-file: forget($O)\n");
	scan(LANG_JAVASCRIPT, rule,
	     "function a() { const o1 = { shell: true }; }\n"
	     "function b() { const o2 = { shell: true }; run(o1, o2); }\n"
	     "function c() { const o3 = { shell: true }; const o4 = { shell: true };\n"
	     "  run(o3, o4); }\n"
	     "forget(o3);\n"
	     "function d() { run(o1, o2); }\n");
	cr_assert_str_eq(bound_texts(), "2 o2\n4 o4\n", "%s", bound_texts());
}

Test(pattern, other_bindings_tried_past_the_budget_are_not_passed)
{
	/* 800 bindings of $X, each refused after a look at the 3,000 assignments before the
	 * call, each of which compares its value with the binding: the rule's budget runs out
	 * on the way, and the file is reported as not evaluated completely rather than
	 * passed. */
	const char *rule = RULE_M("t", "python", "$X",
				  "    pattern: sink(..., $X, ...)\n"
				  "    pattern-inside: |\n"
				  "        $Y = $X\n"
				  "        ...\n"
				  "        sink(...)\n"
				  "    conditions:\n"
				  "      - metavariable: $Y\n"
				  "        regex: ^a\n");
	size_t na = 3000, nx = 800, cap = na * 24 + nx * 8 + 64, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "def f():\n");
	for (size_t i = 0; i < na; i++) {
		w += (size_t)snprintf(src + w, cap - w, "    a%zu = g()\n", i);
	}
	w += (size_t)snprintf(src + w, cap - w, "    sink(");
	for (size_t i = 0; i < nx; i++) {
		w += (size_t)snprintf(src + w, cap - w, "%sa%zu", i ? ", " : "", i);
	}
	snprintf(src + w, cap - w, ")\n");
	scan(LANG_PYTHON, rule, src);
	fprintf(stderr, "BUDGET_EXCEEDED %zu\n", st.budget_exceeded);
	cr_assert_gt(st.budget_exceeded, 0);
	cr_assert_eq(fl.n, 1);
	cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
	free(src);
}

Test(pattern, a_match_inside_another_on_its_line_is_one_finding)
{
	/* `cp.exec(x)` matches both alternatives, the second inside the first: one finding.
	 * Two calls on a line are two; a match inside another on a later line is its own. */
	scan(LANG_JAVASCRIPT,
	     RULE("t", "javascript", "    pattern-either: [ 'cp.exec($X)', 'exec($X)' ]\n"),
	     "cp.exec(a);\ncp.exec(a); exec(b);\nf(cp.exec(g(\n  exec(c))));\n");
	cr_assert_str_eq(lines(), "1 2 2 3 4");
}

Test(pattern, every_match_in_a_statement_is_found)
{
	/* The second call of a statement is tried from the statement's start too: a match of
	 * the first call there does not end the search for the second. Not when the first is
	 * refined away (pattern-not) either. */
	const char *rule = RULE_M("t", "javascript", "$M:$C",
				  "    pattern: $M.exec($C)\n"
				  "    pattern-not: re.exec($C)\n");
	scan(LANG_JAVASCRIPT, rule,
	     "const r = cp.exec(a) + cp.exec(b);\n"
	     "if (re.exec(s) || cp.exec(c)) {}\n"
	     "f(x && cp.exec(d), y || re.exec(e) || cp.exec(g));\n");
	cr_assert_str_eq(messages(), "1:11 cp:a\n1:24 cp:b\n2:19 cp:c\n3:8 cp:d\n3:39 cp:g\n", "%s",
			 messages());
}

Test(pattern, regex_rules_and_where)
{
	const char *rule = RULE("t", "c", "    regex: 'TODO\\(security\\)'\n    where: comment\n");
	scan(LANG_C, rule, "// TODO(security): check\nputs(\"TODO(security)\");\n");
	cr_assert_str_eq(lines(), "1");
	scan(LANG_C, RULE("t", "c", "    regex: 'magic_[0-9]+'\n"), "/* magic_1 */ int magic_2;\n");
	cr_assert_str_eq(lines(), "1");
	cr_assert_eq(fl.v[0].column, 19, "the code match, not the comment");
}

Test(pattern, messages_suppressions_fingerprints)
{
	const char *rule = "  - id: t\n    languages: [c]\n    severity: high\n"
			   "    message: copies $S into $D\n    pattern: strcpy($D, $S)\n";
	const char *src = "strcpy(buf,\n       argv[1]);\n"
			  "// runner:ignore t -- reviewed: argv[1] is bounded by the caller\n"
			  "strcpy(x, y);\n"
			  "strcpy(z, w); // runner:ignore t\n"
			  "   strcpy(buf,  argv[1]);\n";
	scan(LANG_C, rule, src);
	cr_assert_eq(fl.n, 4);
	cr_assert_str_eq(fl.v[0].message, "copies argv[1] into buf");
	cr_assert_str_eq(fl.v[0].snippet, "strcpy(buf,");
	cr_assert_eq(fl.v[1].suppression, SUPPRESSION_INLINE);
	cr_assert_str_eq(fl.v[1].suppression_reason, "reviewed: argv[1] is bounded by the caller");
	cr_assert_eq(fl.v[2].suppression, SUPPRESSION_NONE, "no reason, no suppression");
	cr_assert_eq(st.no_reason, 1);
	/* The same code twice: different fingerprints, independent of lines and layout. */
	cr_assert_str_neq(fl.v[0].fingerprint, fl.v[3].fingerprint);
	char *first = xstrdup(fl.v[0].fingerprint), *second = xstrdup(fl.v[3].fingerprint);
	scan(LANG_C, rule, "\n\n\nstrcpy(buf, argv[1]);\nstrcpy(buf, argv[1]);\n");
	cr_assert_str_eq(fl.v[0].fingerprint, first);
	cr_assert_str_eq(fl.v[1].fingerprint, second);
	free(first);
	free(second);
}

/*
 * A line of many markers outside comments, many templates and many findings, the marker
 * that counts in a comment at its end: each finding read every marker again, and each
 * marker looked through every template's ${ } (900 findings x 150,000 markers x 900
 * regions: hours, found by fuzz-lex-js). The line is read once: the comment's marker
 * suppresses them all, those in code none, and a comment in a ${ } is a comment too.
 */
Test(pattern, a_line_of_markers_and_findings_is_read_once)
{
	const char *rule = RULE("t", "javascript", "    pattern: eval($X)\n");
	struct sbuf b;
	sbuf_init(&b, 4 << 20);
	for (int i = 0; i < 900; i++) {
		sbuf_puts(&b, "a = `${eval(c)}`; ");
	}
	for (int i = 0; i < 150000; i++) {
		sbuf_puts(&b, "runner:ignore ");
	}
	cr_assert_geq(sbuf_puts(&b,
				"// runner:ignore t -- reviewed in review 12\n"
				"b = `${eval(d) /* runner:ignore t -- reviewed in review 13 */}`;\n"
				"c = `${eval(e)}` + 'runner:ignore t -- not a comment';\n"),
		      0);
	scan(LANG_JAVASCRIPT, rule, b.data);
	sbuf_release(&b);
	cr_assert_eq(fl.n, 902, "%zu findings", fl.n);
	for (size_t i = 0; i < 900; i++) {
		cr_assert_eq(fl.v[i].line, 1);
		cr_assert_eq(fl.v[i].suppression, SUPPRESSION_INLINE, "finding %zu", i);
		cr_assert_str_eq(fl.v[i].suppression_reason, "reviewed in review 12");
	}
	cr_assert_eq(fl.v[900].line, 2);
	cr_assert_eq(fl.v[900].suppression, SUPPRESSION_INLINE);
	cr_assert_str_eq(fl.v[900].suppression_reason, "reviewed in review 13");
	cr_assert_eq(fl.v[901].line, 3);
	cr_assert_eq(fl.v[901].suppression, SUPPRESSION_NONE);
}

/* A line of a thousand findings of rule t under a comment that names n ids (t last). */
static void many_under_one_marker(size_t n)
{
	struct sbuf b;
	sbuf_init(&b, 1 << 20);
	sbuf_puts(&b, "// runner:ignore");
	for (size_t i = 1; i < n; i++) {
		sbuf_printf(&b, " r%zu,", i);
	}
	sbuf_puts(&b, " t -- reviewed in review 14\n");
	for (int i = 0; i < 1000; i++) {
		sbuf_puts(&b, "eval(c); ");
	}
	cr_assert_geq(sbuf_puts(&b, "\n"), 0);
	scan(LANG_JAVASCRIPT, RULE("t", "javascript", "    pattern: eval($X)\n"), b.data);
	sbuf_release(&b);
	cr_assert_eq(fl.n, SAST_MAX_MATCHES_PER_RULE, "%zu findings", fl.n);
}

/*
 * The findings under a marker are all suppressed by it, up to FINDING_IGNORE_MAX_IDS ids;
 * under one of more, none is, and each is counted apart from those a marker without a
 * reason left (the scan's note says which).
 */
Test(pattern, a_marker_of_too_many_ids_suppresses_none_of_its_findings)
{
	many_under_one_marker(FINDING_IGNORE_MAX_IDS);
	for (size_t i = 0; i < fl.n; i++) {
		cr_assert_eq(fl.v[i].suppression, SUPPRESSION_INLINE, "finding %zu", i);
		cr_assert_str_eq(fl.v[i].suppression_reason, "reviewed in review 14");
	}
	cr_assert_eq(st.too_many_ids, 0);
	many_under_one_marker(FINDING_IGNORE_MAX_IDS + 1);
	for (size_t i = 0; i < fl.n; i++) {
		cr_assert_eq(fl.v[i].suppression, SUPPRESSION_NONE, "finding %zu", i);
	}
	cr_assert_eq(st.too_many_ids, SAST_MAX_MATCHES_PER_RULE, "%zu", st.too_many_ids);
	cr_assert_eq(st.first_too_many_ids_line, 2);
	cr_assert_eq(st.no_reason, 0);
}

/*
 * A thousand findings a rule at the end of a line of megabytes: each counted its column
 * from the line's start and read the line whole for its excerpt (20 rules on an 8 MiB
 * line: hours; a 930 KB line of three rules' findings took 11 s, found by fuzz-lex-js).
 * The line is read once; columns count code points all the same, and every finding quotes
 * the line's start.
 */
Test(pattern, findings_on_a_long_line_read_it_once)
{
	struct sbuf rules, src;
	sbuf_init(&rules, 1 << 20);
	for (int i = 0; i < 20; i++) {
		sbuf_printf(&rules,
			    "  - id: t%d\n    languages: [javascript]\n"
			    "    severity: high\n    message: m\n    pattern: eval($X)\n",
			    i);
	}
	sbuf_init(&src, 16 << 20);
	sbuf_puts(&src, "/* ");
	size_t pad = 4u << 20; /* "\xc3\xa9 ": 2 code points, 3 bytes */
	for (size_t i = 0; i < pad / 2; i++) {
		sbuf_puts(&src, "\xc3\xa9 ");
	}
	sbuf_puts(&src, "*/ ");
	for (int i = 0; i < 1000; i++) {
		sbuf_puts(&src, "eval(c); ");
	}
	cr_assert_geq(sbuf_puts(&src, "\n"), 0);
	scan(LANG_JAVASCRIPT, rules.data, src.data);
	sbuf_release(&rules);
	sbuf_release(&src);
	cr_assert_eq(fl.n, 20000, "%zu findings", fl.n);
	uint32_t before = 3 + (uint32_t)pad + 3; /* the code points before the first eval */
	for (size_t i = 0; i < fl.n; i++) {
		const struct finding *f = &fl.v[i];
		uint32_t k = (uint32_t)(i / 20); /* sorted by column, then rule */
		cr_assert_eq(f->line, 1);
		cr_assert_eq(f->column, before + 9 * k + 1, "finding %zu: %u", i, f->column);
		cr_assert_eq(f->end_column, before + 9 * k + 8, "finding %zu", i);
		cr_assert_str_eq(f->snippet, fl.v[0].snippet);
	}
	cr_assert(strncmp(fl.v[0].snippet, "/* \xc3\xa9 \xc3\xa9 ", 9) == 0, "%s", fl.v[0].snippet);
	cr_assert(strlen(fl.v[0].snippet) <= FILEFIND_EXCERPT_MAX + 3);
	cr_assert(strstr(fl.v[0].snippet, "...") != NULL);
}

Test(pattern, step_budget_bounds_pathological_patterns)
{
	/* Many ellipses over a long flat token run: the search gives up, counted, quickly. */
	const char *rule = RULE("t", "c", "    pattern: a(...) ... a(...) ... a(...) ... zzz\n");
	size_t n = 20000;
	char *src = xmalloc(n * 5 + 16);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(src + w, "a(x);", 5);
		w += 5;
	}
	src[w] = '\0';
	uint64_t t0 = now_mono_ms();
	scan(LANG_C, rule, src);
	cr_assert_gt(st.budget_exceeded, 0);
	cr_assert_lt(now_mono_ms() - t0, 10000);
	/* Given up is not passed: the rule reports the file as not evaluated completely, at its
	 * own severity, once. */
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].rule_id, "t");
	cr_assert_eq(fl.v[0].severity, SEVERITY_HIGH);
	cr_assert_eq(fl.v[0].line, 1);
	cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
	cr_assert_not_null(strstr(fl.v[0].message, "not evaluated completely"));
	cr_assert_not_null(fl.v[0].fingerprint);
	/* It is about the whole file: a suppression comment on line 1 (which the same file
	 * could carry) does not suppress it. */
	const char marker[] = "// runner:ignore t -- reviewed\n";
	char *marked = xmalloc(sizeof(marker) + w + 1);
	memcpy(marked, marker, sizeof(marker) - 1);
	memcpy(marked + sizeof(marker) - 1, src, w + 1);
	scan(LANG_C, rule, marked);
	cr_assert_eq(fl.n, 1);
	cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
	cr_assert_eq(fl.v[0].suppression, SUPPRESSION_NONE);
	free(marked);
	free(src);
}

/* n JavaScript lines `const sK = `${BODY}`;`: n token streams besides the file's own. */
static char *templates(size_t n, const char *body)
{
	size_t bl = strlen(body), cap = n * (bl + 40) + 1, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "const s%zu = `${", i);
		memcpy(src + w, body, bl);
		w += bl;
		w += (size_t)snprintf(src + w, cap - w, "}`;\n");
	}
	src[w] = '\0';
	return src;
}

static bool incomplete(const struct finding *f)
{
	return json_is_true(json_object_get(f->extra, "incomplete"));
}

/*
 * A thousand matches that the refinements or a `runner:ignore` marker take out, then a
 * real one: the cap of matches a rule keeps for a file is reached before the real one, so
 * the rule reports the file as not evaluated completely (fails closed) rather than pass it.
 * A pattern rule did; a regex rule only counted the match past the cap in the notes, and
 * the real one was not reported (1,000 suppressed, or accepted in a baseline, hid it).
 */
Test(pattern, a_real_match_past_the_cap_of_harmless_ones_is_not_passed)
{
	struct sbuf b;
	sbuf_init(&b, 1 << 20);
	for (size_t i = 0; i < SAST_MAX_MATCHES_PER_RULE; i++) {
		sbuf_puts(&b, "eval(\"k\")\n");
	}
	cr_assert_geq(sbuf_puts(&b, "eval(x)\n"), 0);
	scan(LANG_PYTHON,
	     RULE("p", "python", "    pattern: eval($X)\n    pattern-not: eval(\"...\")\n"),
	     b.data);
	cr_assert_eq(fl.n, 1, "%zu findings", fl.n);
	cr_assert(incomplete(&fl.v[0]));
	sbuf_release(&b);
	/* A regex rule whose first 1,000 matches are suppressed inline. */
	sbuf_init(&b, 1 << 20);
	for (size_t i = 0; i < SAST_MAX_MATCHES_PER_RULE; i++) {
		sbuf_puts(&b, "bad(1)  # runner:ignore r -- reviewed in review 15\n");
	}
	cr_assert_geq(sbuf_puts(&b, "bad(2)\n"), 0);
	scan(LANG_PYTHON, RULE("r", "python", "    regex: 'bad\\('\n"), b.data);
	sbuf_release(&b);
	size_t inc = 0, open = 0;
	for (size_t i = 0; i < fl.n; i++) {
		inc += incomplete(&fl.v[i]);
		open += !incomplete(&fl.v[i]) && fl.v[i].suppression == SUPPRESSION_NONE;
	}
	cr_assert_eq(inc, 1, "%zu findings, %zu incomplete", fl.n, inc);
	cr_assert_eq(open, 0);
	cr_assert_eq(st.truncated, 1);
}

Test(pattern, the_step_budget_is_the_files_however_many_streams_it_has)
{
	/* Each template's ${ } is a token stream of its own, and each had a budget of its own:
	 * 200 of them took 200 files' worth of steps without giving up. */
	const char *rule =
		RULE("t", "javascript", "    pattern: a(...) ... a(...) ... a(...) ... zzz\n");
	char *calls = xmalloc(40 * 6);
	calls[0] = '\0';
	for (size_t i = 0; i < 40; i++) {
		strcat(calls, i ? ", a(x)" : "a(x)");
	}
	char *one = templates(1, calls), *many = templates(200, calls);
	scan(LANG_JAVASCRIPT, rule, one);
	cr_assert_eq(st.budget_exceeded, 0, "one template is within the budget");
	cr_assert_eq(fl.n, 0);
	scan(LANG_JAVASCRIPT, rule, many);
	cr_assert_gt(st.budget_exceeded, 0);
	cr_assert_eq(fl.n, 1);
	cr_assert(incomplete(&fl.v[0]));
	free(one);
	free(many);
	free(calls);
}

Test(pattern, the_findings_cap_is_the_files_however_many_streams_it_has)
{
	/* 1,500 templates with one match each: 1,000 findings, the rest counted, and the rule
	 * reports the file as not evaluated completely (each stream had a cap of its own:
	 * 32,768 of them gave as many findings, numbered in quadratic time). */
	char *src = templates(SAST_MAX_MATCHES_PER_RULE + 500, "eval(x)");
	scan(LANG_JAVASCRIPT, RULE("t", "javascript", "    pattern: eval($X)\n"), src);
	size_t found = 0, inc = 0;
	for (size_t i = 0; i < fl.n; i++) {
		inc += incomplete(&fl.v[i]);
		found += !incomplete(&fl.v[i]);
	}
	cr_assert_eq(found, SAST_MAX_MATCHES_PER_RULE);
	cr_assert_eq(inc, 1);
	cr_assert_geq(st.truncated, 500);
	/* Identical findings are numbered by position: the second gets (the first's, 1), and
	 * every fingerprint differs. */
	const struct finding *a = &fl.v[incomplete(&fl.v[0])], *b = a + 1;
	cr_assert_lt(a->line, b->line);
	struct finding g = { .kind = b->kind, .rule_id = b->rule_id, .file = b->file };
	finding_fingerprint(&g, a->fingerprint, strlen(a->fingerprint), 1);
	cr_assert_str_eq(g.fingerprint, b->fingerprint);
	free(g.fingerprint);
	for (size_t i = 0; i < fl.n; i++) {
		for (size_t j = i + 1; j < fl.n; j++) {
			cr_assert_str_neq(fl.v[i].fingerprint, fl.v[j].fingerprint, "%zu %zu", i,
					  j);
		}
	}
	free(src);
	/* A regex rule's findings are capped per file too, the rest counted, and the rule
	 * reports the file as not evaluated completely (the matches kept may be suppressed). */
	src = templates(SAST_MAX_MATCHES_PER_RULE + 500, "evil(x)");
	scan(LANG_JAVASCRIPT, RULE("r", "javascript", "    regex: 'evil\\('\n    where: any\n"),
	     src);
	cr_assert_eq(fl.n, SAST_MAX_MATCHES_PER_RULE + 1);
	cr_assert(incomplete(&fl.v[0]));
	cr_assert_eq(st.truncated, 500, "the rest are counted: %zu", st.truncated);
	free(src);
	/* Once each: a template's code is also part of the text around it, and was reported
	 * from both. */
	scan(LANG_JAVASCRIPT, RULE("r", "javascript", "    regex: 'evil\\('\n    where: any\n"),
	     "const s = `${evil(x)}`;\nconst t = `${/* evil( */ 1}`;\n");
	cr_assert_str_eq(lines(), "1 2", "%s", lines());
	scan(LANG_JAVASCRIPT, RULE("c", "javascript", "    regex: 'evil\\('\n    where: comment\n"),
	     "const s = `${evil(x)}`;\nconst t = `${/* evil( */ 1}`;\n");
	cr_assert_str_eq(lines(), "2", "%s", lines());
}

Test(pattern, an_element_among_thousands_is_tried_in_linear_steps)
{
	/* `{ ..., $X, ... }` tries $X at every element; what follows it, `, ... }`, goes
	 * straight to the group's closer instead of walking the rest of the elements each time
	 * (which took the square of their number in steps: the rule gave up, and reported the
	 * file as not evaluated completely). */
	const char *rule =
		RULE_M("t", "javascript", "$X", "    pattern: 'g({ ..., $X, ... }, \"needle\")'\n");
	size_t n = 3000;
	char *src = xmalloc(n * 8 + 64);
	size_t w = (size_t)sprintf(src, "g({");
	for (size_t i = 0; i < n; i++) {
		w += (size_t)sprintf(src + w, "a%zu, ", i);
	}
	sprintf(src + w, "b: [c, d] }, \"other\");\ng({ e, f }, 'needle');\n");
	scan(LANG_JAVASCRIPT, rule, src);
	cr_assert_eq(st.budget_exceeded, 0);
	cr_assert_str_eq(messages(), "2:1 e\n", "%s", messages());
	free(src);
}

/* Python after an unclosed bracket at the top (a file that does not parse; the fuzzer's):
 * with `from subprocess import a, b` on each of n lines. Its steps on the rule of
 * py.subprocess-shell's shape. */
static size_t bound_by_walk_steps(size_t n)
{
	const char *rule = RULE_M("t", "python", "$FN",
				  "    pattern: $FN(..., shell=True, ...)\n"
				  "    conditions:\n"
				  "      - metavariable: $FN\n"
				  "        bound-by: from subprocess import ..., $FN\n");
	size_t cap = n * 48 + 64, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "x = (\n");
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w,
				      "from subprocess import check_output, run\n");
	}
	snprintf(src + w, cap - w, ")\nrun(cmd, shell=True)\n");
	scan(LANG_PYTHON, rule, src);
	free(src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu lines: %zu given up", n, st.budget_exceeded);
	char want[32];
	snprintf(want, sizeof(want), "%zu", n + 3);
	cr_assert_str_eq(lines(), want, "%zu lines: %s", n, lines());
	return st.steps;
}

Test(pattern, bound_by_bindings_are_collected_in_linear_steps)
{
	/* Inside brackets no line ends: the top-level ellipsis of each import's match walked
	 * every token after it (up to ELLIPSIS_MAX_TOKENS), trying $FN at every comma, and
	 * every walk was made again from the next import, though the bindings it offered
	 * were all collected already: the square of the lines in steps (2,000 lines took the
	 * rule's budget, and the file was reported as not evaluated completely). Twice the
	 * lines take twice the steps, not four times. */
	size_t a = bound_by_walk_steps(1000), b = bound_by_walk_steps(2000);
	cr_assert_gt(a, 0);
	cr_assert_leq(b * 10, a * 22, "1,000 lines: %zu steps; 2,000 lines: %zu", a, b);
}

/* n copies of: a line of f-strings (nested fields, format specs, a field in a spec, `{{`),
 * a dict whose `{` never closes (in_group: in a call's brackets, `g({)`), `from os import
 * path, system` and a call of system. Each copy is one block deeper than the one before.
 * Its steps on the rule of py.os-system's imported-name shape. */
static size_t open_block_fstring_steps(size_t n, bool in_group)
{
	const char *rule = RULE_M("t", "python", "$SYS",
				  "    pattern: $SYS($CMD)\n"
				  "    conditions:\n"
				  "      - metavariable: $SYS\n"
				  "        regex: '^system$'\n"
				  "        bound-by: from os import ..., $SYS\n");
	const char *copy =
		in_group ? "s = f\"{a:{b}}\" + g({)\nfrom os import path, system\nsystem(cmd)\n"
			 : "s = f\"{a!r:>{w}} {b[i]:{f}^{w}.{p}f} {{x}} {f'{c:%Y}'}\" {\n"
			   "from os import path, system\n"
			   "system(cmd)\n";
	size_t cl = strlen(copy), cap = n * cl + 1, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		memcpy(src + w, copy, cl);
		w += cl;
	}
	src[w] = '\0';
	scan(LANG_PYTHON, rule, src);
	free(src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu copies: %zu given up", n, st.budget_exceeded);
	cr_assert_eq(fl.n, n, "%zu copies: %zu findings", n, fl.n);
	return st.steps;
}

Test(pattern, walks_in_blocks_that_never_close_are_remembered_across_levels)
{
	/* The memo of a top-level ellipsis's walk was keyed by the block level it stays in:
	 * each copy's import walked to the end of the file again, one level deeper than the
	 * one before, and found what the one before had found failing (64 KB of such copies
	 * took every rule's budget, and the file was reported as not evaluated completely).
	 * A level that never closes is the same as any other that never does: twice the
	 * copies take twice the steps, not four times. */
	for (int g = 0; g < 2; g++) {
		size_t a = open_block_fstring_steps(200, g), b = open_block_fstring_steps(400, g);
		cr_assert_gt(a, 0);
		cr_assert_leq(b * 10, a * 22, "%s: 200 copies: %zu steps; 400 copies: %zu",
			      g ? "in a group" : "open", a, b);
	}
}

Test(pattern, the_starts_a_statements_anchors_share_are_tried_once)
{
	/* A pattern that starts with a metavariable is tried from every token of the
	 * statement before its anchor, bracketed groups included; for each anchor of the
	 * statement again, though a search that found nothing from a start finds nothing for
	 * another anchor: 20 calls after a group of 4,000 elements took 80,000 searches, 60
	 * assignments 240,000 (in a file after a bracket that does not close, the anchors of
	 * the whole file share the statement). Each start is tried once. */
	size_t n = 4000, cap = n * 3 + 2048, w = 0;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w, "x = [g(");
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "a, ");
	}
	size_t group = w;
	for (int i = 0; i < 20; i++) {
		w += (size_t)snprintf(src + w, cap - w, ") k.run(");
	}
	snprintf(src + w, cap - w, ")]\n");
	scan(LANG_PYTHON, RULE_M("t", "python", "$O", "    pattern: $O.run(...)\n"), src);
	cr_assert_eq(fl.n, 20, "%zu", fl.n);
	cr_assert_leq(st.steps, 8 * st.tokens, "%zu steps, %zu tokens", st.steps, st.tokens);
	/* The same for the starts of a bound-by condition's pattern. */
	w = group + (size_t)snprintf(src + group, cap - group, ")");
	for (int i = 0; i < 60; i++) {
		w += (size_t)snprintf(src + w, cap - w, " subprocess.run");
	}
	snprintf(src + w, cap - w, "]\ny = subprocess.run\ny(c, shell=True)\n");
	scan(LANG_PYTHON,
	     RULE_M("t", "python", "$FN",
		    "    pattern: $FN(..., shell=True, ...)\n"
		    "    conditions:\n"
		    "      - metavariable: $FN\n"
		    "        bound-by: $FN = subprocess.$F\n"),
	     src);
	cr_assert_str_eq(messages(), "3:1 y\n", "%s", messages());
	cr_assert_leq(st.steps, 8 * st.tokens, "%zu steps, %zu tokens", st.steps, st.tokens);
	free(src);
}

Test(pattern, a_lead_metavariable_is_not_tried_after_the_literal_it_needs)
{
	/* `$FN = $SP.run` (py.subprocess-shell's bound-by patterns: seven of them) was tried
	 * from every token of the statement before `run`, and from each the metavariable's
	 * every end was tried for the `=`: 20 lines of `xN = a0 + a1 + ... + a199 + sp.run`
	 * took 172,868 steps, 21 a token. `$FN` binds a token at least, so a start is only
	 * worth trying before the last `=` ahead of `run`. */
	size_t cap = 20 * 2048 + 64, w = 0;
	char *src = xmalloc(cap);
	for (int j = 0; j < 20; j++) {
		w += (size_t)snprintf(src + w, cap - w, "x%d = a0", j);
		for (int i = 1; i < 200; i++) {
			w += (size_t)snprintf(src + w, cap - w, " + a%d", i);
		}
		w += (size_t)snprintf(src + w, cap - w, " + sp.run\n");
	}
	snprintf(src + w, cap - w, "r = sp.run\n");
	scan(LANG_PYTHON, RULE_M("t", "python", "$FN $SP", "    pattern: $FN = $SP.run\n"), src);
	free(src);
	cr_assert_str_eq(messages(), "21:1 r sp\n", "%s", messages());
	cr_assert_leq(st.steps * 10, st.tokens, "%zu steps, %zu tokens", st.steps, st.tokens);
}

Test(pattern, a_regex_rule_that_hits_its_match_limit_is_not_passed)
{
	/* Nested quantifiers over a long run that never matches: PCRE2's match limit. */
	const char *rule = RULE("r", "c", "    regex: '(a+)+$'\n    where: any\n");
	size_t n = 100000;
	char *src = xmalloc(n + 16);
	memset(src, 'a', n);
	memcpy(src + n, "!;\n", 4);
	scan(LANG_C, rule, src);
	cr_assert_gt(st.regex_limits, 0);
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].rule_id, "r");
	cr_assert(json_is_true(json_object_get(fl.v[0].extra, "incomplete")));
	free(src);
}

Test(pattern, a_containing_match_is_looked_for_in_the_blocks_around_the_match)
{
	/* pattern-inside anchored on `=`: each use() looked for a containing match from every
	 * assignment before it, in every function before its own, where none can start (the
	 * ellipsis never leaves the block it starts in): 400 functions of 10 assignments took
	 * the rule's budget, and the file was reported as not evaluated completely. */
	const char *rule = RULE_M("t", "python", "$X",
				  "    pattern: use($X)\n"
				  "    pattern-inside: |\n"
				  "        $Y = $S\n"
				  "        ...\n"
				  "        use($X)\n"
				  "    conditions:\n"
				  "      - metavariable: $S\n"
				  "        regex: ^tainted\n");
	size_t n = 400, cap = n * 400 + 256, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "def f%zu(c):\n", i);
		for (int j = 0; j < 10; j++) {
			w += (size_t)snprintf(src + w, cap - w, "    a%d = g(c, %d)\n", j, j);
		}
		w += (size_t)snprintf(src + w, cap - w, "    use(c)\n");
	}
	w += (size_t)snprintf(src + w, cap - w,
			      "def last(c):\n    d = tainted(c)\n    if c:\n        use(c)\n");
	scan(LANG_PYTHON, rule, src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu", st.budget_exceeded);
	cr_assert_str_eq(bound_texts(), "4804 c\n", "%s", bound_texts());
	free(src);
}

Test(pattern, a_metavariable_does_not_run_through_function_bodies)
{
	/* pattern-inside `void $H(int $SIG) { ... }` anchors on `void`: from each function
	 * before the call, $H's run went on through the function's body and the functions after
	 * it (nothing at a file's top level stops it), each end a step: 400 functions before
	 * 400 calls took the rule's budget, and the file was reported as not evaluated
	 * completely. A call's `{ }` body is no expression's part; a compound literal or a
	 * lambda still is. */
	const char *rule = RULE("t", "c",
				"    pattern: printf(...)\n"
				"    pattern-inside: void $H(int $SIG) { ... }\n");
	size_t n = 400, cap = n * 64 + 128, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w,
				      "void p%zu(const char *s)\n{\n\tprintf(s);\n}\n", i);
	}
	snprintf(src + w, cap - w, "void on_sig(int sig)\n{\n\tprintf(\"x\");\n}\n");
	scan(LANG_C, rule, src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu", st.budget_exceeded);
	cr_assert_str_eq(lines(), "1603", "%s", lines());
	free(src);
	scan(LANG_CPP, RULE_M("t", "cpp", "$X", "    pattern: g($X)\n"),
	     "void f(void) { g((struct p){ 1, 2 }.x); g([](int a) { return a; }(1)); }\n");
	cr_assert_str_eq(bound_texts(), "1 (struct p){ 1, 2 }.x\n1 [](int a) { return a; }(1)\n",
			 "%s", bound_texts());
}

Test(pattern, a_body_closed_before_the_match_is_not_walked)
{
	/* pattern-not-inside `void $F(...) { ... guard($X); ... }` anchors on `void`: each
	 * use() looked for a containing match from every function before its own, and walked
	 * that function's body before its end showed that it closes before the call. 300
	 * functions of 40 statements before 300 calls took the rule's budget. */
	const char *rule = RULE_M("t", "c", "$X",
				  "    pattern: use($X)\n"
				  "    pattern-not-inside: void $F(...) { ... guard($X); ... }\n");
	size_t n = 300, cap = n * 700 + 256, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "void f%zu(int c)\n{\n", i);
		for (int j = 0; j < 40; j++) {
			w += (size_t)snprintf(src + w, cap - w, "\tc += %d;\n", j);
		}
		w += (size_t)snprintf(src + w, cap - w, "}\n");
	}
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "void u%zu(int c)\n{\n\tuse(c);\n}\n", i);
	}
	snprintf(src + w, cap - w, "void g(int d)\n{\n\tguard(d);\n\tuse(d);\n}\n");
	scan(LANG_C, rule, src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu", st.budget_exceeded);
	cr_assert_eq(fl.n, n, "%zu", fl.n);
	free(src);
}

Test(pattern, a_containing_body_is_looked_for_around_the_match)
{
	/* A pattern that ends with a `{ }` body after literals, `(... $X, ..., int $N, ...) {
	 * ... }`, anchors on `int`: each use() tried every `int` before it, in every function
	 * before its own, for each of the patterns. 500 functions, then 500 calls, with 8 such
	 * patterns took the rule's budget. The starts that can hold the match are the few
	 * around it, at each level of its brackets. */
	char rule[2048];
	size_t r =
		(size_t)snprintf(rule, sizeof(rule), "%s",
				 RULE("t", "c", "    pattern: use($X)\n    pattern-not-inside:\n"));
	for (int k = 1; k <= 8; k++) {
		r += (size_t)snprintf(
			rule + r, sizeof(rule) - r,
			"      - (... $X, ..., int $N, ...) { ... guard%d($X, $N) ... }\n", k);
	}
	size_t n = 500, cap = n * 96 + 256, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w,
				      "void w%zu(int c, int n, int z)\n{\n\tguard%zu(c, n);\n}\n",
				      i, i % 8 + 1);
	}
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "void u%zu(int c)\n{\n\tuse(c);\n}\n", i);
	}
	snprintf(src + w, cap - w,
		 "void g(int d, int m)\n{\n\tif (m) {\n\t\tguard8(d, m);\n\t\tuse(d);\n\t}\n}\n");
	scan(LANG_C, rule, src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu", st.budget_exceeded);
	cr_assert_eq(fl.n, n, "%zu", fl.n);
	free(src);
	/* Blocks down from the body, and in the part before it. */
	scan(LANG_C,
	     RULE("t", "c", "    pattern: use($P)\n    pattern-inside: 'if ($C) { ... }'\n"),
	     "if (done) {\n while (p) { if (q) { use(p); } }\n}\nuse(q);\n"
	     "if (done && use(r)) {\n}\nif (other) { use(s); }\n");
	cr_assert_str_eq(lines(), "2 5 7", "%s", lines());
}

/* Scan src as lang with the default rule packs. */
static void scan_defaults(enum lang lang, const char *src)
{
	struct ruleset *rs = ruleset_new(RULE_SAST);
	struct diag_list dl;
	diag_list_init(&dl, 20);
	cr_assert_eq(ruleset_load_defaults(rs, &dl), 0);
	ruleset_finish(rs, &dl);
	struct sast_scratch *s = sast_scratch_new(rs);
	finding_list_release(&fl);
	memset(&st, 0, sizeof(st));
	cr_assert_eq(sast_scan(s, "f", lang, src, strlen(src), &fl, &st), 0);
	sast_scratch_free(s);
	ruleset_free(rs);
	diag_list_release(&dl);
}

/* text, its @ replaced by i, at src + *w (cap bytes in all). */
static void put_numbered(char *src, size_t cap, size_t *w, const char *text, size_t i)
{
	for (const char *c = text; *c; c++) {
		if (*c == '@') {
			*w += (size_t)snprintf(src + *w, cap - *w, "%zu", i);
		} else if (*w + 1 < cap) {
			src[(*w)++] = *c;
			src[*w] = '\0';
		}
	}
}

/* n wrappers (their @: their number), then n functions with a call each, with the default
 * packs: every rule evaluated completely, and the n calls reported by rule id. */
static void expect_wrappers_then_calls(size_t n, const char *wrapper, const char *call,
				       const char *id)
{
	size_t cap = n * (strlen(wrapper) + strlen(call) + 16) + 64, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		put_numbered(src, cap, &w, wrapper, i);
	}
	for (size_t i = 0; i < n; i++) {
		put_numbered(src, cap, &w, call, i);
	}
	scan_defaults(LANG_C, src);
	cr_assert_eq(st.budget_exceeded, 0, "%s: %zu", id, st.budget_exceeded);
	size_t found = 0;
	for (size_t i = 0; i < fl.n; i++) {
		cr_assert_not(json_is_true(json_object_get(fl.v[i].extra, "incomplete")), "%s",
			      fl.v[i].rule_id);
		found += str_eq(fl.v[i].rule_id, id);
	}
	cr_assert_eq(found, n, "%s: %zu", id, found);
	free(src);
}

Test(pattern, printf_wrappers_before_the_calls_are_evaluated_completely)
{
	/* c.printf-format-string's pattern-not-inside `(... $FMT, ..., va_list $AP, ...) {
	 * ... vprintf($FMT, $AP) ... }` anchors on `va_list`, in brackets: each printf(fmt)
	 * looked for a containing match from the parameter list of every wrapper before it,
	 * and matched it before its body's end showed that it closes before the call. 400
	 * wrappers then 400 calls took the rule's budget, and the file was reported as not
	 * evaluated completely. */
	expect_wrappers_then_calls(400,
				   "int w@(const char *fmt, va_list ap)\n"
				   "{\n\treturn vprintf(fmt, ap);\n}\n",
				   "void p@(const char *fmt)\n{\n\tprintf(fmt);\n}\n",
				   "c.printf-format-string");
	/* c.err-format-string's 16 such patterns (4 for each v function), each tried from the
	 * parameters and the va_list of every wrapper before the call, took its budget too. */
	expect_wrappers_then_calls(400,
				   "void w@(const char *fmt, va_list ap)\n{\n\tva_list aq;\n"
				   "\tva_copy(aq, ap);\n\tvwarnx(fmt, aq);\n\tva_end(aq);\n}\n",
				   "void p@(const char *fmt)\n{\n\twarnx(fmt);\n}\n",
				   "c.err-format-string");
}

Test(pattern, an_ellipsis_before_a_bound_metavariable_takes_a_step_a_token)
{
	/* `...` then `$F`, bound already: each token the ellipsis passes is looked at once
	 * (the first of $F's tokens is not there), not once more as the start of $F. 900
	 * files opened took twice the steps and the rule's budget. */
	const char *rule = RULE_M("t", "python", "$F",
				  "    pattern: |\n"
				  "        $F = open($P)\n"
				  "        ...\n"
				  "        $F.write($D)\n");
	size_t n = 900, cap = n * 32 + 64, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		w += (size_t)snprintf(src + w, cap - w, "f%zu = open(p%zu)\n", i, i);
	}
	snprintf(src + w, cap - w, "f3.write(d)\n");
	scan(LANG_PYTHON, rule, src);
	cr_assert_eq(st.budget_exceeded, 0, "%zu", st.budget_exceeded);
	cr_assert_str_eq(bound_texts(), "4 f3\n", "%s", bound_texts());
	free(src);
}

Test(pattern, no_search_is_made_past_the_rules_budget)
{
	/* Each sink() looks for `$Y = $X` before it, from every assignment, and each attempt
	 * compares the value with its own binding: the rule's budget runs out after a few
	 * hundred calls. The searches for the calls after them went on all the same, each of
	 * their attempts given up at once and counted: with 225,000 assignments before 1,000
	 * calls (a 4 MiB script), that took six minutes to report the file as not evaluated
	 * completely (4,403,773 attempts given up here). Now a search stops where the budget
	 * ran out: given up once for each call, and once more for the retry of its other
	 * bindings. */
	const char *rule = RULE_M("t", "python", "$X",
				  "    pattern: sink($X)\n"
				  "    pattern-inside: |\n"
				  "        $Y = $X\n"
				  "        ...\n"
				  "        sink($X)\n"
				  "    conditions:\n"
				  "      - metavariable: $Y\n"
				  "        regex: ^a\n");
	size_t na = 3000, nx = SAST_MAX_MATCHES_PER_RULE, cap = na * 24 + nx * 16, w = 0;
	char *src = xmalloc(cap);
	for (size_t i = 0; i < na; i++) {
		w += (size_t)snprintf(src + w, cap - w, "a%zu = g()\n", i);
	}
	for (size_t i = 0; i < nx; i++) {
		w += (size_t)snprintf(src + w, cap - w, "sink(a%zu)\n", i);
	}
	scan(LANG_PYTHON, rule, src);
	cr_assert_eq(fl.n, 1);
	cr_assert(incomplete(&fl.v[0]));
	cr_assert_gt(st.budget_exceeded, 0);
	cr_assert_leq(st.budget_exceeded, 2 * nx, "%zu", st.budget_exceeded);
	free(src);
}

/* How the queries of flat_sql_script() are written. */
enum sql_style {
	SQL_MIXED,  /* literal queries, and two variables assigned again for each query */
	SQL_SHARED, /* one variable, `sql`, assigned a query before each call */
	SQL_OWN,    /* a variable of its own for each query */
	SQL_STYLES,
};

/*
 * A database seed script as they are written, flat (no functions): a connection, then n
 * execute() calls at its top level, with parameters, and three real injections among them
 * (one built at once, one in steps, one aliased), whose execute() lines go to inj[].
 */
static char *flat_sql_script(size_t n, enum sql_style style, unsigned inj[3])
{
	size_t cap = n * 160 + 1024, w = 0;
	unsigned line = 5;
	char *src = xmalloc(cap);
	w += (size_t)snprintf(src + w, cap - w,
			      "import sys\nimport psycopg2\nconn = psycopg2.connect(sys.argv[1])\n"
			      "cur = conn.cursor()\nname = sys.argv[2]\n");
	for (size_t i = 0, k = 0; i < n; i++) {
		const char *q;
		if (k < 3 && i == (k + 1) * n / 4) {
			static const char *const injections[] = {
				"inj_a = \"SELECT id FROM accounts WHERE name = '\" + name + "
				"\"'\"\n"
				"cur.execute(inj_a)\n",
				"inj_b = \"SELECT id FROM accounts WHERE 1 = 1\"\n"
				"inj_b += \" AND owner = '\" + name + \"'\"\n"
				"cur.execute(inj_b)\n",
				"inj_c = f\"DELETE FROM sessions WHERE name = '{name}'\"\n"
				"stmt = inj_c\n"
				"cur.execute(stmt)\n",
			};
			static const unsigned lines[] = { 2, 3, 3 };
			q = injections[k];
			line += lines[k];
			inj[k++] = line;
		} else if (style == SQL_SHARED) {
			q = "sql = \"INSERT INTO t@ (a, b) VALUES (%s, %s)\"\n"
			    "cur.execute(sql, (\"a@\", @))\n";
			line += 2;
		} else if (style == SQL_OWN) {
			q = "q@ = \"INSERT INTO t@ (a, b) VALUES (%s, %s)\"\n"
			    "cur.execute(q@, (\"a@\", @))\n";
			line += 2;
		} else if (i % 4 == 0) {
			q = "cur.execute(\"CREATE TABLE IF NOT EXISTS t@ (id serial, a text, b "
			    "int)\")\n";
			line++;
		} else if (i % 4 == 1) {
			q = "cur.execute(\"INSERT INTO t@ (a, b) VALUES (%s, %s)\", (\"a@\", @))\n";
			line++;
		} else if (i % 4 == 2) {
			q = "sql = \"INSERT INTO t@ (a, b) VALUES (%s, %s)\"\n"
			    "cur.execute(sql, (\"x@\", @))\n";
			line += 2;
		} else {
			q = "upd = \"UPDATE t@ SET b = b + 1 WHERE a = %s\"\n"
			    "cur.executemany(upd, [(\"a@\",), (\"x@\",)])\n";
			line += 2;
		}
		put_numbered(src, cap, &w, q, i);
	}
	w += (size_t)snprintf(src + w, cap - w, "conn.commit()\n");
	return src;
}

Test(pattern, a_flat_script_of_a_thousand_queries_is_evaluated_completely)
{
	/* py.sql-built-then-executed's pattern-inside `$Q = $S` / `...` / `$C.$F($Q, ...)`
	 * (and the others of its list) looked for a containing match from every assignment
	 * before each execute(), and walked the rest of the block from each one that holds
	 * SQL: at a file's top level, the whole rest of the file, again for every call. About
	 * 70 calls took the rule's budget, and the file was reported as not evaluated
	 * completely, at the rule's severity: a plain seed script blocked the pipeline, and
	 * the injections in it were not reported. */
	for (enum sql_style style = 0; style < SQL_STYLES; style++) {
		unsigned inj[3];
		char *src = flat_sql_script(SAST_MAX_MATCHES_PER_RULE, style, inj);
		scan_defaults(LANG_PYTHON, src);
		cr_assert_eq(st.budget_exceeded, 0, "style %d: %zu", style, st.budget_exceeded);
		char want[64], got[64] = "";
		snprintf(want, sizeof(want), "%u %u %u", inj[0], inj[1], inj[2]);
		for (size_t i = 0, w = 0; i < fl.n; i++) {
			cr_assert_not(incomplete(&fl.v[i]), "style %d: %s", style, fl.v[i].rule_id);
			if (str_eq(fl.v[i].rule_id, "py.sql-built-then-executed")) {
				w += (size_t)snprintf(got + w, sizeof(got) - w, "%s%u",
						      w ? " " : "", fl.v[i].line);
			}
		}
		cr_assert_str_eq(got, want, "style %d", style);
		free(src);
	}
}

Test(pattern, the_memo_of_failures_is_capped)
{
	/* Runs of positions under a key: joined when they touch, each valid for a match held
	 * to its min_end or a later one; keyed by the texts of the bindings, not where they
	 * are. */
	struct tokens t;
	tokens_init(&t);
	const char *src = "a = b\nb = a\na = c\n";
	cr_assert_eq(lex_run(LANG_PYTHON, src, strlen(src), 0, &t), 0);
	struct binds b1 = { .set = 1 }, b2 = { .set = 1 }, b3 = { .set = 1 };
	b1.start[0] = 0, b1.end[0] = 1; /* a */
	b2.start[0] = 8, b2.end[0] = 9; /* the second a */
	b3.start[0] = 2, b3.end[0] = 3; /* b */
	cr_assert(tok_text_eq(&t, &t.v[8], "a", 1) && tok_text_eq(&t, &t.v[2], "b", 1));
	struct pattern_memo *m = pattern_memo_new();
	struct pattern_memo_key k = { &t, 1, 0, 1, 1, &t, &b1 };
	cr_assert_eq(pattern_memo_key(m, &k, false), -1);
	int id = pattern_memo_key(m, &k, true);
	cr_assert_geq(id, 0);
	pattern_memo_add(m, id, &(struct pattern_memo_run){ 10, 20, 0, false });
	pattern_memo_add(m, id, &(struct pattern_memo_run){ 21, 30, 7, true });
	pattern_memo_add(m, id, &(struct pattern_memo_run){ 40, 50, 0, false });
	struct pattern_memo_run r;
	k.b = &b2;
	cr_assert_eq(pattern_memo_key(m, &k, false), id, "the same text elsewhere");
	cr_assert(pattern_memo_find(m, id, 15, 7, &r));
	cr_assert(r.lo == 10 && r.hi == 30 && r.min_end == 7 && r.terminal);
	cr_assert_not(pattern_memo_find(m, id, 15, 6, &r), "held to an earlier end");
	cr_assert_not(pattern_memo_find(m, id, 35, 100, &r));
	cr_assert(pattern_memo_find(m, id, 50, 0, &r) && r.lo == 40);
	k.b = &b3;
	cr_assert_eq(pattern_memo_key(m, &k, false), -1, "another text");
	/* At most PATTERN_MEMO_MAX_KEY_RUNS runs a key: the others are forgotten. */
	for (uint32_t i = 0; i < 2 * PATTERN_MEMO_MAX_KEY_RUNS; i++) {
		pattern_memo_add(m, id, &(struct pattern_memo_run){ 100 + 3 * i, 101 + 3 * i });
	}
	size_t held = 0;
	for (uint32_t i = 0; i < 2 * PATTERN_MEMO_MAX_KEY_RUNS; i++) {
		held += pattern_memo_find(m, id, 100 + 3 * i, 0, &r);
	}
	cr_assert_eq(held, PATTERN_MEMO_MAX_KEY_RUNS - 2);
	/* At most PATTERN_MEMO_MAX_KEYS keys. */
	size_t keys = 1;
	for (uint32_t slot = 2; slot < 2 * PATTERN_MEMO_MAX_KEYS; slot++) {
		struct pattern_memo_key o = { &t, slot, 0, 0, 0, &t, &b1 };
		keys += pattern_memo_key(m, &o, true) >= 0;
	}
	cr_assert_eq(keys, PATTERN_MEMO_MAX_KEYS);
	/* About one rule on one stream: cleared for the next, and another stream's keys are
	 * not taken until it is. */
	pattern_memo_clear(m);
	k.b = &b1;
	cr_assert_eq(pattern_memo_key(m, &k, false), -1);
	struct tokens u = t;
	struct pattern_memo_key other = { &t, 1, 0, 1, 1, &u, &b1 };
	cr_assert_geq(pattern_memo_key(m, &k, true), 0);
	cr_assert_eq(pattern_memo_key(m, &other, true), -1);
	pattern_memo_free(m);
	tokens_release(&t);
}

struct draining {
	size_t *steps_left;
	size_t calls;
};

/* An acceptance test that matches other patterns on the shared budget (as refinements do),
 * and refuses. */
static bool accept_draining(void *ud, const struct binds *b, uint32_t start, uint32_t end)
{
	struct draining *d = ud;
	(void)b;
	(void)start;
	(void)end;
	d->calls++;
	*d->steps_left -= MIN(*d->steps_left, 1000);
	return false;
}

Test(pattern, what_the_acceptance_test_takes_counts_against_the_attempt)
{
	/* 60 bindings of $X, each refused by a test that takes 1,000 steps of a shared budget
	 * of 3,000: once it is gone, the attempt gives up (counted) rather than go on to
	 * the other 57 bindings on steps it no longer has. */
	struct mvtab mv = { 0 };
	struct pattern *p;
	struct pattern_error pe;
	cr_assert_eq(pattern_compile("f(..., $X, ...)", 15, LANG_C, &mv, &p, &pe), 0);
	char src[1024] = "f(a0";
	for (int i = 1; i < 60; i++) {
		snprintf(src + strlen(src), sizeof(src) - strlen(src), ", a%d", i);
	}
	strcat(src, ");\n");
	struct tokens t;
	tokens_init(&t);
	cr_assert_eq(lex_run(LANG_C, src, strlen(src), 0, &t), 0);
	size_t left = 3000;
	struct draining d = { &left, 0 };
	struct pattern_ctx pc = {
		.t = &t, .accept = accept_draining, .accept_ud = &d, .steps_left = &left
	};
	cr_assert_not(pattern_match_at(p, &pc, 0, NULL, NULL));
	cr_assert_eq(d.calls, 3, "%zu", d.calls);
	cr_assert_eq(pc.budget_exceeded, 1);
	cr_assert_eq(left, 0);
	tokens_release(&t);
	pattern_free(p);
	mvtab_release(&mv);
}

Test(pattern, compile_errors)
{
	struct mvtab mv = { 0 };
	struct pattern *p;
	struct pattern_error pe;
	cr_assert_eq(pattern_compile("f(a", 3, LANG_C, &mv, &p, &pe), -EINVAL);
	cr_assert(strstr(pe.msg, "unbalanced"));
	cr_assert_eq(pattern_compile("$X ...", 6, LANG_C, &mv, &p, &pe), -EINVAL);
	cr_assert_eq(pattern_compile("", 0, LANG_C, &mv, &p, &pe), -EINVAL);
	cr_assert_eq(pattern_compile("f(..., $X)", 10, LANG_C, &mv, &p, &pe), 0);
	cr_assert_eq(mv.n, 1);
	pattern_free(p);
	mvtab_release(&mv);
}

static void fini(void)
{
	finding_list_release(&fl);
}

TestSuite(pattern, .fini = fini);

/* The shape of c.signal-handler-unsafe-call, on its fixture repeated to kb KB: its steps. */
static size_t signal_handler_steps(size_t kb)
{
	const char *rule = RULE("t", "c",
				"    pattern-either:\n"
				"      - printf(...)\n"
				"      - malloc(...)\n"
				"      - free(...)\n"
				"    pattern-inside:\n"
				"      - void $H(int $SIG) { ... }\n"
				"      - void $H(int $SIG, siginfo_t *$INFO, void *$CTX) { ... }\n"
				"    pattern-in-file:\n"
				"      - signal($SIGNO, $H)\n");
	static const char unit[] =
		"static volatile sig_atomic_t stop;\n"
		"static void on_term(int sig)\n{\n"
		"\tprintf(\"got signal %d\\n\", sig);\n\tstop = 1;\n}\n"
		"static void on_int(int sig)\n{\n"
		"\tstop = 1;\n\twrite(2, \"bye\\n\", 4);\n}\n"
		"static void not_a_handler(int n)\n{\n\tprintf(\"%d\\n\", n);\n}\n"
		"int main(void)\n{\n"
		"\tsignal(SIGTERM, on_term);\n\tsignal(SIGINT, on_int);\n"
		"\tnot_a_handler(3);\n\tprintf(\"running\\n\");\n\treturn 0;\n}\n";
	size_t n = kb * 1024 / (sizeof(unit) - 1);
	struct sbuf b;
	sbuf_init(&b, 1 << 22);
	for (size_t i = 0; i < n; i++) {
		sbuf_puts(&b, unit);
	}
	cr_assert_geq(sbuf_puts(&b, ""), 0);
	scan(LANG_C, rule, b.data);
	sbuf_release(&b);
	cr_assert_eq(st.budget_exceeded, 0, "%zu KB: %zu given up", kb, st.budget_exceeded);
	cr_assert_eq(fl.n, n, "%zu KB: %zu findings for %zu handlers", kb, fl.n, n);
	for (size_t i = 0; i < fl.n; i++) {
		cr_assert_eq(fl.v[i].line, 4 + 23 * i, "%zu KB: finding %zu", kb, i);
	}
	return st.steps;
}

Test(pattern, a_pattern_in_file_is_searched_once_per_binding)
{
	/* Each match in a function (each printf) looked for `signal($SIGNO, $H)` through the
	 * whole file again, with $H the function's name: for a function that is no handler
	 * (not found, every signal() call tried), or for a handler set up at the end of the
	 * file, the matches times the file in steps (16, 64, 128 KB of the rule's fixture took
	 * 13,727, 180,872 and 695,855 steps). A search is made once per text of $H. */
	size_t a = signal_handler_steps(32), b = signal_handler_steps(64);
	cr_assert_gt(a, 0);
	cr_assert_leq(b * 10, a * 22, "32 KB: %zu steps; 64 KB: %zu", a, b);
}
