#!/bin/sh
# SAST work against file size: each seed repeated to 32, 64, ... KB, scanned with the
# default rules, one thread, without the sandbox (the scan's own time). Work that grows
# faster than the file shows as a ratio above 2 between one size and the next, then as
# rules given up (match_budget_exceeded: the file is reported as not evaluated completely).
#
#   bench/sast-scaling.sh [RUNNER...]     default: build/runner/runner
#
# SEEDS: the files to repeat (default: a Python module after a bracket that does not close,
# made here, as the fuzzer's inputs that grew with the square of their size are; a line of
# f-strings (nested fields, format specs) and a `{` that does not close, so that each copy
# is a block deeper, with an import and a call of os.system; and the Python fuzz seeds of
# fuzz/corpus/lex-python together); SIZES in KB (default 32 64 128 256
# 512); ROUNDS scans of each (default 3; the median of the scan's duration_ms). Prints, per
# seed, runner and size: duration_ms, its ratio to the size before, the attempts given up,
# the findings. Without a RUNNER, builds build/ (debugoptimized) and uses its runner.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-32 64 128 256 512}
if [ $# -eq 0 ]; then
	[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
	meson compile -C "$ROOT/build" runner/runner >/dev/null
	set -- "$ROOT/build/runner/runner"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${SEEDS:-}" ]; then
	{
		printf 'import os\nx = (\n'
		printf 'from subprocess import check_output, run\n'
		printf 'import subprocess as sp, os\n'
		printf 'def f(cmd, name):\n    sp.run(cmd, shell=True)\n    os.system("ls " + name)\n'
	} >"$work/unclosed.py"
	{
		printf 's = f"{a!r:>{w}} {b[i]:{f}^{w}.{p}f} {{x}} {f'"'"'{c:%%Y}'"'"'}" {\n'
		printf 'from os import path, system\nsystem(cmd)\n'
	} >"$work/fstrings.py"
	cat "$ROOT"/fuzz/corpus/lex-python/*.py >"$work/seeds.py"
	SEEDS="$work/unclosed.py $work/fstrings.py $work/seeds.py"
fi
for seed in $SEEDS; do
	for r in "$@"; do
		prev=""
		for kb in $SIZES; do
			python3 - "$seed" "$work/in.py" "$kb" <<'PY'
import sys
seed, out, kb = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(seed, "rb").read().rstrip(b"\n") + b"\n"
buf = (data * (kb * 1024 // len(data) + 1))[: kb * 1024]
open(out, "wb").write(buf.rsplit(b"\n", 1)[0] + b"\n")
PY
			i=0
			: >"$work/ms"
			while [ $i -lt "$ROUNDS" ]; do
				"$r" scan sast -C "$work" --no-sandbox -j 1 --fail-on critical \
					--format json -o "$work/out.json" in.py >/dev/null 2>&1 || true
				python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["stats"]; print(s["duration_ms"], s["match_budget_exceeded"], len(d["findings"]))' \
					"$work/out.json" >>"$work/ms"
				i=$((i + 1))
			done
			line=$(sort -n "$work/ms" | sed -n "$(((ROUNDS + 1) / 2))p")
			ms=${line%% *}
			ratio=$(if [ -n "$prev" ] && [ "$prev" -gt 0 ]; then
				python3 -c "print(f'{$ms/$prev:.2f}')"
			else echo -; fi)
			printf '%s %s %4s KB: %6s ms (x%s), given up %s, findings %s\n' \
				"$(basename "$seed")" "$r" "$kb" "$ms" "$ratio" \
				"$(echo "$line" | cut -d' ' -f2)" "$(echo "$line" | cut -d' ' -f3)"
			prev=$ms
		done
	done
done
