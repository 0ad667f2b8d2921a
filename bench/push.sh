#!/bin/sh
# Push benchmark: a 200 MiB image (several layers of random content) pushed from an OCI
# layout to a local docker-registry with `runner image push` and with
# `skopeo copy oci:DIR docker://...`, in the same run; then re-pushes of the unchanged
# image (target: <= 100 ms).
#
#   bench/push.sh [ROUNDS]        (default 3; needs build/runner/runner, docker-registry,
#                                  skopeo; prints a Markdown table)
#
# Every cold push goes to a registry started for it alone (fresh storage), so neither tool
# can reuse blobs pushed by an earlier round or by the other tool. Numbers depend on the
# machine and its load: docs/benchmarks.md says where they were taken.
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-3}
runner=${RUNNER:-$PWD/build/runner/runner}
layers=5
layer_mib=40
repushes=10

tmp=$(mktemp -d)
reg_pid=""
stop_registry() {
	if [ -n "$reg_pid" ]; then
		kill "$reg_pid" 2>/dev/null || true
		wait "$reg_pid" 2>/dev/null || true
		reg_pid=""
	fi
}
cleanup() {
	status=$?
	stop_registry
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_registry NAME: a registry with fresh storage; sets $addr.
start_registry() {
	d="$tmp/reg-$1"
	mkdir -p "$d/data"
	cat >"$d/config.yml" <<CONFIG
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
http:
  addr: 127.0.0.1:0
  secret: bench
CONFIG
	/usr/bin/docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
	reg_pid=$!
	addr=""
	for _ in $(seq 1 100); do
		addr=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$d/log" | head -n 1)
		[ -n "$addr" ] && return 0
		sleep 0.1
	done
	echo "registry did not start" >&2
	cat "$d/log" >&2
	exit 1
}

now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }

# The image: layer i is built on the layout of layer i-1.
echo "building a $((layers * layer_mib)) MiB image ($layers layers of random bytes)..." >&2
mkdir -p "$tmp/ctx"
base=scratch
for i in $(seq 1 $layers); do
	head -c $((layer_mib * 1024 * 1024)) /dev/urandom >"$tmp/ctx/blob$i.bin"
	"$runner" image build -q -C "$tmp/ctx" --base "$base" --output "$tmp/img$i" \
		--add "blob$i.bin:/data/blob$i.bin" --created 0 >/dev/null
	base="$tmp/img$i"
	rm -f "$tmp/ctx/blob$i.bin"
done
image="$tmp/img$layers"
size=$(du -sbL "$image/blobs" | cut -f1)

echo "| round | runner image push | skopeo copy |"
echo "|---|---|---|"
rt=0
st=0
for r in $(seq 1 "$rounds"); do
	start_registry "runner-$r"
	t=$(now_ns)
	"$runner" image push -q "$image" "$addr/bench/app:1" >/dev/null
	a=$(ms_since "$t")
	stop_registry
	start_registry "skopeo-$r"
	t=$(now_ns)
	skopeo copy -q --dest-tls-verify=false "oci:$image" "docker://$addr/bench/app:1" >/dev/null
	b=$(ms_since "$t")
	stop_registry
	rt=$((rt + a))
	st=$((st + b))
	echo "| $r | $a ms ($((size * 1000 / a / 1048576)) MiB/s) | $b ms ($((size * 1000 / b / 1048576)) MiB/s) |"
done
echo "| mean | $((rt / rounds)) ms ($((size * 1000 * rounds / rt / 1048576)) MiB/s) | $((st / rounds)) ms ($((size * 1000 * rounds / st / 1048576)) MiB/s) |"

# Re-pushing the unchanged image: every blob and the tag are already there.
start_registry repush
"$runner" image push -q "$image" "$addr/bench/app:1" >/dev/null
echo
echo "| re-push of the unchanged image | runner image push | skopeo copy |"
echo "|---|---|---|"
min=999999
max=0
sum=0
smin=999999
ssum=0
for _ in $(seq 1 $repushes); do
	t=$(now_ns)
	"$runner" image push -q "$image" "$addr/bench/app:1" >/dev/null
	a=$(ms_since "$t")
	sum=$((sum + a))
	[ "$a" -lt "$min" ] && min=$a
	[ "$a" -gt "$max" ] && max=$a
	t=$(now_ns)
	skopeo copy -q --dest-tls-verify=false "oci:$image" "docker://$addr/bench/app:1" >/dev/null
	b=$(ms_since "$t")
	ssum=$((ssum + b))
	[ "$b" -lt "$smin" ] && smin=$b
done
echo "| mean of $repushes (min, max) | $((sum / repushes)) ms ($min, $max) | $((ssum / repushes)) ms (min $smin) |"
echo
echo "image: $layers layers, $size bytes of blobs; $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
