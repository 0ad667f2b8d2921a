#!/bin/sh
# Per-stage sandbox overhead, all measured in the same run (docs/benchmarks.md):
#   - N stages of `true` through `runner run -j1`, sandboxed (default policy: network none)
#   - the same with `sandbox: { network: host }` (what the network namespace costs)
#   - the same with `runner run --no-sandbox`
#   - N runs of `bwrap --unshare-all ... true`
#   - N runs of a bare `sh -c true`
# A runner's per-stage cost is (T(N stages) - T(1 stage)) / (N - 1), so its start-up and
# the run record are not counted. Each figure is the median of ROUNDS rounds, in wall time
# and in CPU time.
#
#   bench/sandbox-overhead.sh            N=200 ROUNDS=5 (environment variables)
#
# STAGE='sleep 0.005' runs that command instead of `true` everywhere (in bwrap as
# `sh -c STAGE`, like the stage and the loop): a stage long enough for the sandbox's work
# ahead of time (the next stage's namespaces) to finish meanwhile, so that what remains is
# the time on the stage's own path.
set -eu
N=${N:-200}
ROUNDS=${ROUNDS:-5}
STAGE=${STAGE:-true}
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
		echo "  s$i: { run: \"$STAGE\"$2 }"
		i=$((i + 1))
	done
}
pipeline "$N" "" >many.yml
pipeline 1 "" >one.yml
pipeline "$N" ", sandbox: { network: host }" >many-host.yml
pipeline 1 ", sandbox: { network: host }" >one-host.yml

# Wall time and CPU time. CPU time is the busy time of all CPUs during the command, read
# from /proc/stat: the process, everything it started (also the sandbox's spawner and
# supervisors, which are not the runner's children and so escape getrusage), and kernel
# work done on their behalf in worker threads (tearing down a network namespace). It is
# only meaningful on an otherwise quiet machine; it is what a busy machine's scheduling
# distorts least.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
tick_us=$((1000000 / $(getconf CLK_TCK)))
measure() { # command... -> "wall_ns cpu_us"
	b=$(busy_ticks)
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	e=$(date +%s%N)
	a=$(busy_ticks)
	echo "$((e - s)) $(((a - b) * tick_us))"
}
per_stage() { # out-prefix many.yml one.yml [runner options]: microseconds per stage
	out=$1
	many=$2
	one=$3
	shift 3
	set -- $(measure "$runner" run -f "$many" -j1 "$@") $(measure "$runner" run -f "$one" -j1 "$@")
	echo $((($1 - $3) / (N - 1) / 1000)) >>"$out.wall"
	echo $((($2 - $4) / (N - 1))) >>"$out.cpu"
}
loop() { # out-prefix command...: microseconds per run
	out=$1
	shift
	printf '%s\n' "$*" >cmd.txt
	set -- $(measure sh -c 'i=0; while [ $i -lt '"$N"' ]; do '"$(cat cmd.txt)"' >/dev/null 2>&1; i=$((i+1)); done')
	echo $(($1 / N / 1000)) >>"$out.wall"
	echo $(($2 / N)) >>"$out.cpu"
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

: >sandboxed.wall
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	per_stage sandboxed many.yml one.yml
	per_stage hostnet many-host.yml one-host.yml
	per_stage nosandbox many.yml one.yml --no-sandbox
	if [ "$STAGE" = true ]; then
		loop bwrap bwrap --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin \
			--symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev true
	else
		loop bwrap bwrap --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin \
			--symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev \
			sh -c "'$STAGE'"
	fi
	loop bare sh -c "'$STAGE'"
	r=$((r + 1))
done
echo "per stage or run, median of $ROUNDS rounds of $N, in microseconds ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '  %-40s %8s %8s\n' "" "wall" "cpu"
for m in "sandboxed:runner run (sandboxed, network none)" \
	"hostnet:runner run (sandboxed, network host)" \
	"nosandbox:runner run --no-sandbox" \
	"bwrap:bwrap --unshare-all ... $STAGE" \
	"bare:sh -c '$STAGE'"; do
	key=${m%%:*}
	printf '  %-40s %8s %8s\n' "${m#*:}" "$(median <"$key.wall")" "$(median <"$key.cpu")"
done
sw=$(median <sandboxed.wall)
sc=$(median <sandboxed.cpu)
uw=$(median <nosandbox.wall)
uc=$(median <nosandbox.cpu)
bw=$(median <bwrap.wall)
bc=$(median <bwrap.cpu)
hw=$(median <bare.wall)
hc=$(median <bare.cpu)
echo "sandbox overhead per stage (sandboxed - --no-sandbox): wall $((sw - uw)) us, cpu $((sc - uc)) us"
echo "bwrap overhead (bwrap - bare sh -c):                   wall $((bw - hw)) us, cpu $((bc - hc)) us"
echo "sandboxed stage over bare fork/exec (sandboxed - bare sh -c): wall $((sw - hw)) us, cpu $((sc - hc)) us"
echo "  as a share of bwrap's overhead: wall $(((sw - hw) * 100 / (bw - hw)))%, cpu $(((sc - hc) * 100 / (bc - hc)))% (target: <= 25%, and <= 2000 us)"
if [ "$(id -u)" -eq 0 ] && command -v cc >/dev/null; then
	cc -O2 -o netns-cost "$root/bench/netns-cost.c"
	echo "network namespace cost ($N processes):"
	./netns-cost "$N" | sed 's/^/  /'
fi
