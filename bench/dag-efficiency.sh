#!/bin/sh
# Benchmark 3: a random 200-stage DAG of `sleep` stages (50-300 ms each) run with a large
# -j: wall time over the critical path. Target: <= 1.05.
#   bench/dag-efficiency.sh [RUNNER] [N] [SEED]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runner=$(realpath "${1:-$here/../build/runner/runner}")
n=${2:-200}
seed=${3:-7}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
crit=$(python3 "$here/gen-pipeline.py" sleepdag "$n" "$seed" 2>&1 >"$dir/.runner.yml")
cd "$dir"
for i in 1 2 3; do
	"$runner" run -j 1000 --no-color >/dev/null
	python3 - "$crit" <<'PY'
import json, sys
rep = json.load(open(".runner/runs/latest/report.json"))
crit = float(sys.argv[1])
wall = rep["duration_ms"] / 1000.0
print(f"critical path {crit:.3f}s  wall {wall:.3f}s  ratio {wall/crit:.4f}")
PY
done
