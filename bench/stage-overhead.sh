#!/bin/sh
# Benchmark 1: per-stage overhead of `runner run` on 500 no-op stages, at -j1 and -jN,
# against a shell loop running `sh -c true` 500 times, in the same run (hyperfine).
# Target: at most 1 ms per stage above the loop.
#   bench/stage-overhead.sh [RUNNER] [N]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runner=$(realpath "${1:-$here/../build/runner/runner}")
n=${2:-500}
jobs=$(nproc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 "$here/gen-pipeline.py" noop "$n" > "$dir/.runner.yml"
cd "$dir"
hyperfine --warmup 2 --runs 10 --export-json "$dir/result.json" \
	--command-name "sh -c true loop" "i=0; while [ \$i -lt $n ]; do sh -c true; i=\$((i+1)); done" \
	--command-name "runner -j1" "$runner run -j1 --no-color >/dev/null" \
	--command-name "runner -j$jobs" "$runner run -j$jobs --no-color >/dev/null" >&2
python3 - "$dir/result.json" "$n" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
loop = res[0]["mean"]
print(f"{'command':<16} {'mean':>9} {'per stage':>10} {'over loop/stage':>16}")
for r in res:
    print(f"{r['command']:<16} {r['mean']*1000:8.1f}ms {r['mean']/n*1000:9.3f}ms "
          f"{(r['mean']-loop)/n*1000:15.3f}ms")
PY
