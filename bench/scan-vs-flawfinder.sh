#!/bin/sh
# SAST and secret-scanning throughput on a large real C tree, against flawfinder on the
# same files in the same run, with both hit counts side by side.
#
#   bench/scan-vs-flawfinder.sh [SUBTREE...]      default: fs (of linux-source-6.1)
#
# Needs the Debian packages flawfinder and linux-source-6.1 (installed when missing, as
# root or through sudo) and builds build/ (debugoptimized) when it is missing. The tree is
# extracted once to $BENCH_DIR (default /tmp/runner-bench). Each tool runs $ROUNDS times
# (default 3); the median wall time and its CPU time (user + system) are reported.
# Throughput is the bytes of C source (*.c, *.h) of the tree divided by the time; the
# runner's own byte count is also shown (it also reads the tree's shell and Python files).
# RUNNER=PATH times another runner binary (the build is still made).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/runner-bench}
ROUNDS=${ROUNDS:-3}
SUBTREES=${*:-fs}
RUNNER=${RUNNER:-$ROOT/build/runner/runner} # another build's binary to compare with

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
for p in flawfinder linux-source-6.1; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		$sudo apt-get install -y -qq "$p" >/dev/null
done
[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
meson compile -C "$ROOT/build" >/dev/null

mkdir -p "$WORK"
cd "$WORK"
paths=""
for s in $SUBTREES; do
	[ -d "linux-source-6.1/$s" ] || tar xJf /usr/src/linux-source-6.1.tar.xz "linux-source-6.1/$s"
	paths="$paths linux-source-6.1/$s"
done
# The same files for both: C sources only, so flawfinder and the runner read one tree.
csrc=$(find $paths -type f \( -name '*.c' -o -name '*.h' \) | wc -l)
cbytes=$(find $paths -type f \( -name '*.c' -o -name '*.h' \) -print0 | xargs -0 cat | wc -c)

# time CMD...: prints "wall cpu" of one run, the command's output discarded: the wall time
# until the command exits, and the CPU time (user + system) of every process it started,
# also of those that outlive it or are not its children (the runner's scans run in the
# stage sandbox, whose supervisors a double-forked spawner starts: GNU time, which counts
# the children the command waited for, would miss them). A child subreaper waits for all.
timeit() {
	python3 - "$@" <<'PY' || true
import ctypes, os, resource, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - t
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.3f} {ru.ru_utime + ru.ru_stime:.3f}")
PY
}
median() { sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
bench() {
	name=$1; shift
	: > "$WORK/.runs"
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		timeit "$@" >> "$WORK/.runs"
		i=$((i + 1))
	done
	median < "$WORK/.runs" > "$WORK/.$name"
}

bench flawfinder flawfinder --quiet --dataonly --csv $paths
flawfinder --quiet --dataonly --csv $paths > "$WORK/flawfinder.csv" 2>/dev/null || true
bench sast "$RUNNER" scan sast $paths --fail-on critical --format json -o "$WORK/sast.json"
bench secrets "$RUNNER" scan secrets $paths --fail-on critical --format json -o "$WORK/secrets.json"

python3 - "$WORK" "$cbytes" "$csrc" "$(nproc)" "$SUBTREES" <<'PY'
import csv, collections, json, sys
work, cbytes, cfiles, cpus, subtrees = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def t(name):
    wall, cpu = open(f"{work}/.{name}").read().split()
    return float(wall), float(cpu)
ff = list(csv.DictReader(open(f"{work}/flawfinder.csv", newline="", errors="replace")))
sast = json.load(open(f"{work}/sast.json"))
sec = json.load(open(f"{work}/secrets.json"))
mb = cbytes / 1e6
print(f"tree: linux-source-6.1/{{{subtrees}}}: {cfiles} C files, {mb:.1f} MB of C source; {cpus} CPUs")
print()
print(f"{'tool':<22}{'wall s':>8}{'cpu s':>8}{'MB/s wall':>11}{'MB/s cpu':>10}{'hits':>7}")
rows = [("flawfinder", "flawfinder", len(ff)), ("runner scan sast", "sast", len(sast["findings"])),
        ("runner scan secrets", "secrets", len(sec["findings"]))]
for label, name, hits in rows:
    wall, cpu = t(name)
    print(f"{label:<22}{wall:8.2f}{cpu:8.2f}{mb / wall:11.1f}{mb / cpu:10.1f}{hits:7d}")
fw, fc = t("flawfinder")
sw, sc = t("sast")
print()
print(f"sast vs flawfinder: {fw / sw:.1f}x the throughput (wall), {fc / sc:.1f}x per CPU second")
st = sast["stats"]
print(f"runner sast read {st['files_scanned']} files, {st['bytes_scanned'] / 1e6:.1f} MB "
      f"({st['languages']}), skipped {st['files_skipped']} ({ {k: v for k, v in st['skipped'].items() if v} })")
print()
lv = collections.Counter(r["Level"] for r in ff)
print("flawfinder hits by level:", dict(sorted(lv.items())))
print("flawfinder hits by function (top 12):",
      collections.Counter(r["Name"] for r in ff).most_common(12))
rules = collections.Counter(f["rule_id"] for f in sast["findings"])
print("runner findings by rule:", rules.most_common())
sev = collections.Counter(f["severity"] for f in sast["findings"])
print("runner findings by severity:", dict(sev))
ffl = {(r["File"], int(r["Line"])) for r in ff}
rl = {(f["file"], f["line"]) for f in sast["findings"]}
print(f"same file:line in both: {len(ffl & rl)} (of {len(rl)} runner findings)")
print("secret findings by rule:", collections.Counter(f["rule_id"] for f in sec["findings"]).most_common())
PY
