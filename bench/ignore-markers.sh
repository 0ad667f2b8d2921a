#!/bin/sh
# Inline suppressions against the size of a marker's line: a Python file of two lines, a
# runner:ignore comment and below it a line of 1,000 py.eval findings, scanned with the
# default rules (one thread, without the sandbox: the scan's own duration_ms).
#
#   bench/ignore-markers.sh [RUNNER...]     default: build/runner/runner
#
# Cases: "ids" a comment whose id list (py.r0, py.r1, ... and py.eval last) is KB long;
# "reason" py.eval and a reason KB long; "after code" the 1,000 findings, then on the same
# line a comment of 64 ids. SIZES in KB (default 21 111 1024); ROUNDS scans of each (default
# 3; the median). Prints duration_ms, the findings and how many are suppressed.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-21 111 1024}
if [ $# -eq 0 ]; then
	[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
	meson compile -C "$ROOT/build" runner/runner >/dev/null
	set -- "$ROOT/build/runner/runner"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for case in ids reason "after code"; do
	for kb in $SIZES; do
		python3 - "$case" "$work/in.py" "$kb" <<'PY'
import sys
case, out, kb = sys.argv[1], sys.argv[2], int(sys.argv[3])
code = "eval(x); " * 1000
if case == "ids":
    ids, n = [], 0
    while n < kb * 1024:
        ids.append(f"py.r{len(ids)}")
        n += len(ids[-1]) + 2
    text = "# runner:ignore " + ", ".join(ids + ["py.eval"]) + " -- reviewed\n" + code + "\n"
elif case == "reason":
    reason = ("checked " * (kb * 1024 // 8))
    text = "# runner:ignore py.eval -- " + reason + "\n" + code + "\n"
else:
    pad = "x = 1; " * (kb * 1024 // 7)
    ids = ", ".join(f"py.r{i}" for i in range(63))
    text = pad + code + "# runner:ignore " + ids + ", py.eval -- reviewed\n"
open(out, "w").write(text)
PY
		for r in "$@"; do
			i=0
			: >"$work/ms"
			while [ $i -lt "$ROUNDS" ]; do
				"$r" scan sast -C "$work" --no-sandbox -j 1 --fail-on critical \
					--format json -o "$work/out.json" in.py >/dev/null 2>&1 || true
				python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=[x for x in d["findings"] if x["rule_id"]=="py.eval"]; print(d["stats"]["duration_ms"], len(f), sum(1 for x in f if x.get("suppression")))' \
					"$work/out.json" >>"$work/ms"
				i=$((i + 1))
			done
			line=$(sort -n "$work/ms" | sed -n "$(((ROUNDS + 1) / 2))p")
			printf '%s, %s KB, %s: %s ms, py.eval findings %s, suppressed %s\n' "$case" "$kb" \
				"$r" "${line%% *}" "$(echo "$line" | cut -d' ' -f2)" \
				"$(echo "$line" | cut -d' ' -f3)"
		done
	done
done
