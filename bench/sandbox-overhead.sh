#!/bin/sh
# Per-stage sandbox overhead, all measured in the same run (docs/benchmarks.md):
#   - N stages of `true` through `runner run -j1`, sandboxed (default policy: network none)
#   - the same with `sandbox: { network: host }` (what the network namespace costs)
#   - the same with `runner run --no-sandbox`
#   - N runs of `bwrap --unshare-all ... true`
#   - N runs of a bare `sh -c true`
# A runner's per-stage cost is (T(N stages) - T(1 stage)) / (N - 1), so its start-up and
# the run record are not counted. Each figure is the median of ROUNDS rounds.
#
#   bench/sandbox-overhead.sh            N=200 ROUNDS=5 (environment variables)
set -eu
N=${N:-200}
ROUNDS=${ROUNDS:-5}
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v bwrap >/dev/null; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
fi
[ -f build/build.ninja ] || meson setup build -Dtests=false >/dev/null
meson compile -C build >/dev/null
runner=$root/build/runner/runner

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
pipeline() { # count extra-stage-keys
	echo "version: 1"
	echo "stages:"
	i=0
	while [ "$i" -lt "$1" ]; do
		echo "  s$i: { run: \"true\"$2 }"
		i=$((i + 1))
	done
}
pipeline "$N" "" >many.yml
pipeline 1 "" >one.yml
pipeline "$N" ", sandbox: { network: host }" >many-host.yml
pipeline 1 ", sandbox: { network: host }" >one-host.yml

ns() { date +%s%N; }
time_cmd() { # command... -> nanoseconds
	s=$(ns)
	"$@" >/dev/null 2>&1
	e=$(ns)
	echo $((e - s))
}
per_stage() { # many.yml one.yml [runner options] -> microseconds per stage
	many=$1
	one=$2
	shift 2
	a=$(time_cmd "$runner" run -f "$many" -j1 "$@")
	b=$(time_cmd "$runner" run -f "$one" -j1 "$@")
	echo $(((a - b) / (N - 1) / 1000))
}
loop() { # command... -> microseconds per run
	s=$(ns)
	i=0
	while [ "$i" -lt "$N" ]; do
		"$@" >/dev/null 2>&1
		i=$((i + 1))
	done
	e=$(ns)
	echo $(((e - s) / N / 1000))
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

: >sandboxed; : >hostnet; : >nosandbox; : >bwrap; : >bare
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	per_stage many.yml one.yml >>sandboxed
	per_stage many-host.yml one-host.yml >>hostnet
	per_stage many.yml one.yml --no-sandbox >>nosandbox
	loop bwrap --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
		--symlink usr/lib64 /lib64 --proc /proc --dev /dev true >>bwrap
	loop sh -c true >>bare
	r=$((r + 1))
done
s=$(median <sandboxed)
h=$(median <hostnet)
u=$(median <nosandbox)
b=$(median <bwrap)
sh=$(median <bare)
echo "per stage or run, median of $ROUNDS rounds of $N (microseconds), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg):"
printf '  %-44s %6s\n' "runner run (sandboxed, network none)" "$s"
printf '  %-44s %6s\n' "runner run (sandboxed, network host)" "$h"
printf '  %-44s %6s\n' "runner run --no-sandbox" "$u"
printf '  %-44s %6s\n' "bwrap --unshare-all ... true" "$b"
printf '  %-44s %6s\n' "sh -c true" "$sh"
echo "sandbox overhead per stage: $((s - u)) us over --no-sandbox, $((s - sh)) us over sh -c true;"
echo "bwrap's overhead over sh -c true: $((b - sh)) us"
if [ "$(id -u)" -eq 0 ] && command -v cc >/dev/null; then
	cc -O2 -o netns-cost "$root/bench/netns-cost.c"
	echo "network namespace cost ($N processes):"
	./netns-cost "$N" | sed 's/^/  /'
fi
