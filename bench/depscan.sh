#!/bin/sh
# Dependency-scan benchmark (results and how to read them: docs/benchmarks.md).
#
#   bench/depscan.sh [RUNNER] [OSV_DIR]
#
#   RUNNER   the runner binary (default: build/runner/runner, built with buildtype=release
#            or debugoptimized, not the ASan build)
#   OSV_DIR  the OSV data to import (default: ../shared/data/osv, i.e. /work/shared/data/osv)
#
# It measures
#   1. `runner db import OSV_DIR` into a fresh database: advisories per second (best and
#      median of 5), and peak RSS;
#   2. `runner scan deps` of bench/data/requirements-2000.txt (2,100 real PyPI packages,
#      141 of them pinned to versions with advisories) against that database, warm: wall
#      time per scan (best and median of 20) and peak RSS;
#   3. the range oracle over all of OSV_DIR (tests/scanners/test-osv with
#      RUNNER_OSV_ORACLE_DIR), which must report 0 disagreements.
set -eu
cd "$(dirname "$0")/.."
RUNNER=${1:-build/runner/runner}
OSV=${2:-../shared/data/osv}
[ -d "$OSV" ] || OSV=/work/shared/data/osv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
DB=$TMP/osv.db
LOCK=bench/data/requirements-2000.txt

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

records=$(find "$OSV" -name '*.json' | wc -l)
echo "import: $records OSV records from $OSV"
: > "$TMP/import.ms"
for i in 1 2 3 4 5; do
	rm -f "$DB"
	t0=$(ms)
	"$RUNNER" db import --db "$DB" "$OSV" > /dev/null
	t1=$(ms)
	echo $((t1 - t0)) >> "$TMP/import.ms"
done
best=$(sort -n "$TMP/import.ms" | head -1)
med=$(median < "$TMP/import.ms")
echo "  wall ms (5 runs): $(tr '\n' ' ' < "$TMP/import.ms")"
echo "  best: $best ms = $((records * 1000 / best)) advisories/s; median: $med ms = $((records * 1000 / med)) advisories/s"
rm -f "$DB"
/usr/bin/time -f "  peak RSS: %M KiB" "$RUNNER" db import --db "$DB" "$OSV" > /dev/null

echo "scan: $(grep -c '==' "$LOCK") packages in $LOCK"
"$RUNNER" scan deps --db "$DB" --fail-on critical "$LOCK" > "$TMP/scan.txt" || true
tail -2 "$TMP/scan.txt" | sed 's/^/  /'
: > "$TMP/scan.ms"
for i in $(seq 20); do
	t0=$(ms)
	"$RUNNER" scan deps --db "$DB" --format json "$LOCK" > /dev/null || true
	t1=$(ms)
	echo $((t1 - t0)) >> "$TMP/scan.ms"
done
echo "  wall ms per scan, warm (20 runs): best $(sort -n "$TMP/scan.ms" | head -1), median $(median < "$TMP/scan.ms")"
/usr/bin/time -f "  peak RSS: %M KiB" "$RUNNER" scan deps --db "$DB" --format json "$LOCK" > /dev/null || true

TEST=$(dirname "$RUNNER")/../tests/test-scanners-osv
if [ -x "$TEST" ]; then
	echo "range oracle over $OSV:"
	RUNNER_OSV_ORACLE_DIR=$OSV RUNNER_FIXTURES=tests/fixtures "$TEST" --filter 'osv/range_oracle' --verbose 2>&1 |
		grep -E 'range oracle|PASS|FAIL' | sed 's/^/  /'
fi
