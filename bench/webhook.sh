#!/bin/sh
# Benchmarks of `runner serve` on loopback (results: docs/benchmarks.md).
#
#   bench/webhook.sh [BUILD_DIR] [CONNECTIONS] [SECONDS] [RUNS]
#
# 1. Accept-and-enqueue: signed GitHub push deliveries (each unique, so each is verified,
#    parsed, committed to the queue with a full fsync'd commit and answered 202) from
#    bench/webhook-load over CONNECTIONS keep-alive connections for SECONDS. The server
#    is `paused` (it queues and starts no runs), so that only accepting is measured.
#    Targets: >= 2000 deliveries/s, p99 < 20 ms.
# 2. Webhook to first stage: RUNS deliveries one at a time to a running server whose
#    mirror already has the commit; time from sending to the first stage's start.
#    Target: p50 < 100 ms.
#
# Use an optimised build without sanitizers (the default `build/`). Everything runs on
# 127.0.0.1 with free ports, in a temporary directory that is removed afterwards.
set -eu
build=${1:-build}
conns=${2:-32}
secs=${3:-10}
runs=${4:-50}
root=$(cd "$(dirname "$0")/.." && pwd)
runner="$root/$build/runner/runner"
load="$root/$build/bench/webhook-load"
[ -x "$runner" ] && [ -x "$load" ] || { echo "build first: meson compile -C $build" >&2; exit 2; }

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

secret=bench-secret-0123456789abcdef
git -c init.defaultBranch=main init -q "$tmp/repo"
printf 'version: 1\nstages:\n  first: { run: "true" }\n' >"$tmp/repo/.runner.yml"
git -C "$tmp/repo" add -A
git -C "$tmp/repo" -c user.email=b@example.com -c user.name=bench commit -qm bench
sha=$(git -C "$tmp/repo" rev-parse HEAD)

serve() { # $1: extra configuration
	cat >"$tmp/server.yml" <<EOF
listen: 127.0.0.1:0
data_dir: $tmp/data
log_level: warn
supersede: false
limits: { concurrency: 2, connections: 1024, max_queued: 1000000 }
$1
repositories:
  - name: acme/bench
    forge: github
    secret: $secret
    clone_url: $tmp/repo
EOF
	chmod 600 "$tmp/server.yml"
	rm -f "$tmp/address"
	"$runner" serve --config "$tmp/server.yml" --address-file "$tmp/address" 2>>"$tmp/server.log" &
	pid=$!
	i=0
	while [ ! -s "$tmp/address" ]; do
		i=$((i + 1)); [ $i -lt 500 ] || { cat "$tmp/server.log" >&2; exit 1; }
		sleep 0.01
	done
	addr=$(cat "$tmp/address")
}
stop() {
	kill "$pid"; wait "$pid" || true; pid=
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -srm), $(nproc) CPUs; runner $("$runner" --version)"
echo "# accept-and-enqueue: $conns connections, ${secs}s (server paused: no runs)"
serve "paused: true"
"$load" accept "$addr" "$secret" acme/bench "$sha" "$conns" "$secs"
stop
rm -rf "$tmp/data"

echo "# webhook to first stage: $runs runs, one at a time, cached mirror"
serve ""
# Warm the mirror: the first run fetches, the measured ones find the commit there.
"$load" first-stage "$addr" "$secret" acme/bench "$sha" 1 >/dev/null
"$load" first-stage "$addr" "$secret" acme/bench "$sha" "$runs"
stop
