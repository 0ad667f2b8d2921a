#!/bin/sh
# Benchmark 2: `runner validate` on a generated 10,000-stage DAG: wall time (hyperfine)
# and peak RSS (GNU time). Targets: <= 150 ms, <= 64 MiB.
#   bench/dag-validate.sh [RUNNER] [N]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runner=$(realpath "${1:-$here/../build/runner/runner}")
n=${2:-10000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 "$here/gen-pipeline.py" dag "$n" 42 > "$dir/.runner.yml"
echo "pipeline: $n stages, $(wc -c < "$dir/.runner.yml") bytes, $(grep -c needs "$dir/.runner.yml") stages with needs"
cd "$dir"
hyperfine --warmup 3 --runs 20 "$runner validate -q" >&2
/usr/bin/time -f "peak RSS: %M KiB" "$runner" validate -q
hyperfine --warmup 1 --runs 5 "$runner graph --format json >/dev/null" >&2
