#!/bin/sh
# SAST on flat database scripts (no functions): a connection, then N execute() calls at
# the top level, as seed and migration scripts are written, with three real injections
# among them (one built at once, one in steps, one aliased). py.sql-built-then-executed
# looks for its pattern-inside (`$Q = $S` / `...` / `$C.$F($Q, ...)` and the others of its
# list) around every call, from every assignment before it: docs/rules.md, "Limits".
#
#   bench/sast-flat-script.sh [RUNNER...]     default: build/runner/runner
#
# Three ways of writing the queries (STYLES, default all): mixed (literal queries, and two
# variables assigned again for each query), shared (one variable, `sql`, for every query),
# own (a variable of its own for each query); N in COUNTS (default 30 100 1000 5000). Each
# runner scans each script ROUNDS times (default 3): the median wall time of the command,
# the scan's own duration (stats.duration_ms, of that run), the lines reported by the rule
# (the injections are expected: printed after "want") and whether the rule reported the
# file as not evaluated completely ("INCOMPLETE", with "cap" when matches past the 1,000
# a rule keeps per file were dropped: findings_truncated). Name other runner binaries (an
# older build) to compare in the same run. Builds build/ (debugoptimized) when it is
# missing.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
STYLES=${STYLES:-mixed shared own}
COUNTS=${COUNTS:-30 100 1000 5000}
[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
meson compile -C "$ROOT/build" >/dev/null
[ $# -gt 0 ] || set -- "$ROOT/build/runner/runner"
runners=""
for r in "$@"; do
	[ -x "$r" ] || { echo "not a program: $r" >&2; exit 2; }
	runners="$runners $(cd "$(dirname "$r")" && pwd)/$(basename "$r")" # the scans cd
done
set -- $runners

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for style in $STYLES; do
	for n in $COUNTS; do
		mkdir -p "$work/$style-$n"
		python3 - "$n" "$style" >"$work/$style-$n/seed.py" 2>"$work/$style-$n/want" <<'PY'
import sys

n, style = int(sys.argv[1]), sys.argv[2]
out = ["import os", "import sys", "import psycopg2", "",
       'conn = psycopg2.connect(os.environ["DATABASE_URL"])', "cur = conn.cursor()",
       'name = sys.argv[1] if len(sys.argv) > 1 else "demo"', ""]
w = out.append
want = []
injections = {n // 4: 0, n // 2: 1, 3 * n // 4: 2}
for i in range(n):
    if i in injections:
        k = injections[i]
        if k == 0:
            w(f'q{i} = "SELECT id FROM accounts WHERE name = \'" + name + "\'"')
            w(f"cur.execute(q{i})")
        elif k == 1:
            w(f'q{i} = "SELECT id FROM accounts WHERE 1 = 1"')
            w(f'q{i} += " AND owner = \'" + name + "\'"')
            w(f"cur.execute(q{i})")
        else:
            w(f'q{i} = f"DELETE FROM sessions WHERE name = \'{{name}}\'"')
            w(f"stmt = q{i}")
            w("cur.execute(stmt)")
        want.append(len(out))
    elif style == "shared":
        w('sql = "INSERT INTO t%d (a, b) VALUES (%%s, %%s)"' % i)
        w(f'cur.execute(sql, ("a{i}", {i}))')
    elif style == "own":
        w(f'q{i} = "INSERT INTO t{i} (a, b) VALUES (%s, %s)"')
        w(f'cur.execute(q{i}, ("a{i}", {i}))')
    elif i % 5 == 0:
        w(f'cur.execute("CREATE TABLE IF NOT EXISTS t{i} (id serial PRIMARY KEY, a text)")')
    elif i % 5 in (1, 2):
        w(f'cur.execute("INSERT INTO t{i - i % 5} (a, b) VALUES (%s, %s)", ("r{i}", {i}))')
    elif i % 5 == 3:
        w(f'sql = "INSERT INTO t{i - 3} (a, b) VALUES (%s, %s)"')
        w(f'cur.execute(sql, ("x{i}", {i}))')
    else:
        w(f'upd = "UPDATE t{i - 4} SET b = b + 1 WHERE a = %s"')
        w(f'cur.executemany(upd, [("r{i}",), ("x{i}",)])')
out += ["", "conn.commit()", "conn.close()"]
print("\n".join(out))
print(" ".join(map(str, want)), file=sys.stderr)
PY
	done
done

median() { sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
k=0
for r in "$@"; do
	k=$((k + 1))
	echo "runner $k: $r"
done
printf '%-6s %-7s %6s %9s %9s  %s\n' runner style N "wall ms" "scan ms" "py.sql-built-then-executed"
k=0
for r in "$@"; do
	k=$((k + 1))
	for style in $STYLES; do
		for n in $COUNTS; do
			d="$work/$style-$n"
			: >"$work/times"
			i=0
			while [ $i -lt "$ROUNDS" ]; do
				rm -f "$work/out.json"
				t0=$(date +%s%N)
				(cd "$d" && "$r" scan sast . --format json --fail-on critical \
					-o "$work/out.json" 2>/dev/null) || true
				t1=$(date +%s%N)
				echo $(((t1 - t0) / 1000000)) >>"$work/times"
				i=$((i + 1))
			done
			python3 - "$work/out.json" "$(cat "$d/want")" "$(median <"$work/times")" \
				"$k" "$style" "$n" <<'PY'
import json, sys

report, want, wall, runner, style, n = sys.argv[1:7]
try:
    d = json.load(open(report))
except OSError:
    print(f"{runner:<6} {style:<7} {n:>6}  the scan failed")
    sys.exit(0)
mine = [f for f in d["findings"] if f["rule_id"] == "py.sql-built-then-executed"]
lines = " ".join(str(f["line"]) for f in mine if not f.get("incomplete"))
given_up = any(f.get("incomplete") for f in mine)
note = ""
if given_up:
    note = "  INCOMPLETE" + (" (cap)" if d["stats"]["findings_truncated"] else "")
print(f"{runner:<6} {style:<7} {n:>6} {wall:>9} {d['stats']['duration_ms']:>9}  "
      f"[{lines}] want [{want}]{note}")
PY
		done
	done
done
