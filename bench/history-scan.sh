#!/bin/sh
# The secrets scan of a whole git history, `runner scan secrets --history HEAD`, on two
# repositories made here: a clone of this repository (its own history), and a history
# generated from /usr/include (bench/gen-history.py: its headers added 20 files a commit,
# then EDITS commits changing 3 of them each).
#
#   bench/history-scan.sh [RUNNER...]     default: build/runner/runner
#
# Builds build/ (debugoptimized) when it is missing. Each runner scans each repository
# $ROUNDS times (default 3), alternating, in a temporary directory under $TMPDIR (default
# /tmp: where the scan writes its blobs); the median wall time and the CPU time (user +
# system, the sandboxed worker included) are reported. Name an older build as well to
# compare in the same run: the findings of every runner must be the same (compared
# sorted, with their places), else the script says so and exits 1. No target of its own:
# docs/benchmarks.md ("The secrets scan of a history") gives the figures and the machine's
# load.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
EDITS=${EDITS:-600}
[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
[ $# -gt 0 ] || { meson compile -C "$ROOT/build" runner/runner >/dev/null; set -- "$ROOT/build/runner/runner"; }
abs=""
for r in "$@"; do
	case $r in /*) ;; *) r=$PWD/$r ;; esac
	[ -x "$r" ] || { echo "not a program: $r" >&2; exit 2; }
	abs="$abs $r"
done
set -- $abs # absolute (each scan runs in its repository), without spaces
command -v perf >/dev/null || { echo "needs perf (linux-perf) for the CPU time" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --no-local "$ROOT" "$work/self"
git init -q -b main "$work/include"
python3 "$ROOT/bench/gen-history.py" /usr/include "$EDITS" 3 20 | git -C "$work/include" fast-import --quiet
git -C "$work/include" gc -q

echo "commit $(git -C "$ROOT" rev-parse --short HEAD); $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg); TMPDIR ${TMPDIR:-/tmp} on $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }')"
echo
echo "| repository | commits | files | MB | runner | wall (median) | CPU (median) |"
echo "|---|---:|---:|---:|---|---:|---:|"
status=0
for repo in self include; do
	dir="$work/$repo"
	i=0
	for r in "$@"; do
		i=$((i + 1))
		: >"$work/times.$i"
	done
	round=0
	while [ "$round" -lt "$ROUNDS" ]; do
		round=$((round + 1))
		i=0
		for r in "$@"; do
			i=$((i + 1))
			# perf stat counts the worker too (a descendant); exit 3: findings block.
			t0=$(date +%s.%N)
			(cd "$dir" && perf stat -x, -e task-clock -o "$work/perf" -- \
				"$r" scan secrets --history HEAD --format json -o "$work/out.$i.json" \
				>/dev/null 2>"$work/err") &&
				rc=0 || rc=$?
			t1=$(date +%s.%N)
			if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
				echo "$r on $repo: exit $rc" >&2
				cat "$work/err" >&2
				exit 1
			fi
			awk -F, '/task-clock/ { cpu = $1 / 1000 } END { printf "%.3f ", cpu }' "$work/perf" >>"$work/times.$i"
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$work/times.$i"
		done
	done
	i=0
	for r in "$@"; do
		i=$((i + 1))
		python3 -c 'import json, sys
for f in sorted(json.dumps(f, sort_keys=True) for f in json.load(open(sys.argv[1]))["findings"]):
    print(f)' "$work/out.$i.json" >"$work/norm.$i"
		stats=$(python3 -c 'import json, sys; h = json.load(open(sys.argv[1]))["history"]; print("| %d | %d | %.1f" % (h["commits"], h["files"], h["bytes"] / 1e6))' "$work/out.$i.json")
		wall=$(awk '{ print $2 }' "$work/times.$i" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		cpu=$(awk '{ print $1 }' "$work/times.$i" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		echo "| $repo $stats | $r | $wall s | $cpu s |"
		if [ "$i" -gt 1 ] && ! cmp -s "$work/norm.1" "$work/norm.$i"; then
			echo "DIFFERENT FINDINGS on $repo: $r against $1" >&2
			status=1
		fi
	done
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
