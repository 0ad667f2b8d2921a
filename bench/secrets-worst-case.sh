#!/bin/sh
# Secret scanning on text made to be slow: every line holds a keyword of a rule, so every
# line is matched. The multiline rules (PEM blocks) try from each such line up to 64 KiB
# ahead; the other rules only within their line. And Kubernetes Secret manifests, which
# are parsed as YAML.
#
#   bench/secrets-worst-case.sh [RUNNER...]     default: build/runner/runner
#
# Builds build/ (debugoptimized) when it is missing. Each input is $SIZE bytes (default
# 13 MB, so that the scan's start-up weighs little), one line repeated; each
# runner scans each input $ROUNDS times (default 3) and the median wall time is
# reported as MB/s. Name other runner binaries (an older build) to compare in the same run.
# No target of its own: docs/benchmarks.md compares it with the throughput target
# (>= 100 MB/s on a real tree, two threads; one file here is scanned by one).
#
# INSTRUCTIONS=1: count instructions instead (valgrind's callgrind, once per input and
# runner), which a busy machine does not change: `runner scan test --secrets` on the
# input with a label line first, the engine in the command's own process, its start-up
# included; reported in millions. Use smaller inputs (SIZE=1300000 K8S_SIZE=1300000).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-13000000}
[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
meson compile -C "$ROOT/build" >/dev/null
[ $# -gt 0 ] || set -- "$ROOT/build/runner/runner"
for r in "$@"; do
	[ -x "$r" ] || { echo "not a program: $r" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lines() { # name line [size] [ext]: SIZE (or size) bytes of that line, in input.txt (or .ext)
	mkdir -p "$work/$1"
	awk -v l="$2" -v size="${3:-$SIZE}" 'BEGIN { n = int(size / (length(l) + 1)); for (i = 0; i < n; i++) print l }' \
		>"$work/$1/input.${4:-txt}"
}
lines pem-begin '-----BEGINX'
lines pem-openssh '-----BEGIN OPENSSH PRIVATE KEY----- x'
lines pem-pgp '-----BEGIN PGP PRIVATE KEY BLOCK-----'
lines password 'password = "changeme" # password'
lines aws 'AKIA aws_secret_access_key'
# A container's env value on every line (`value:` is a keyword: the name may follow it),
# and command names without their password option, 100 to a line (two sets): each is
# where a match of secret.cli-password would start, and its search ends at the next one.
lines env-value '          value: Zk8Lp3Qw9Xr2Tm6Y'
lines cli-words "$(awk 'BEGIN { for (i = 0; i < 100; i++) printf "mysql mongo redis-cli htpasswd " }')"
lines cli-logins "$(awk 'BEGIN { for (i = 0; i < 100; i++) printf "az login oc login cf login cf auth sqlcmd ldapsearch smbclient svn skopeo " }')"
# Commands continued over lines: each line a different command of secret.cli-password
# (twelve in turn) with arguments and no password, ending with a backslash, so that each
# command's options are looked for over the 4 lines that continue it (the rule's
# `multiline: 4`), none of which holds the same command.
mkdir -p "$work/cli-continued"
awk -v size="$SIZE" 'BEGIN { split("mysql|mongo|redis-cli|htpasswd -b|az login|sqlcmd|ldapsearch|smbclient|svn|skopeo|docker login|sshpass", c, "|");
	for (i = n = 0; n < size; i++) { l = c[i % 12 + 1]; for (j = 0; j < 30; j++) l = l " --opt value";
		l = l " \\"; print l; n += length(l) + 1 } }' >"$work/cli-continued/input.txt"
# One word of `--user=` 400 times a line: a match of secret.cli-password's `--user
# user:password` may start at each, and reads at most 256 characters of a user from there.
lines cli-user "$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "--user=" }')"
# The same with an expansion after each (`${{ ... }}`, one piece of a user, at most 128
# characters): a start reads at most 256 pieces.
lines cli-user-exp "$(awk 'BEGIN { for (i = 0; i < 40; i++) { printf "--user=${{ "; for (j = 0; j < 120; j++) printf "x"; printf " }}" } }')"
# A flow mapping's name on every line, then its other keys (each a start of
# secret.env-name-value's search for the value).
lines env-flow "$(awk 'BEGIN { printf "env: ["; for (i = 0; i < 20; i++) printf "{name: DB_PASSWORD, a: b, c: d, "; printf "]" }')"
# compose's environment as YAML flow collections (read in YAML files only, so the input
# is one): 40 items of a secret's name a line, each a reference, no value.
lines compose-flowmap "$(awk 'BEGIN { printf "environment: {"; for (i = 0; i < 40; i++) printf " DB_PASSWORD: ${DB_PASSWORD},"; printf " }" }')" "$SIZE" yaml
lines compose-flowseq "$(awk 'BEGIN { printf "environment: ["; for (i = 0; i < 40; i++) printf " DB_PASSWORD=${DB_PASSWORD},"; printf " ]" }')" "$SIZE" yaml
# The same on one line of $SIZE bytes (a minified file): each item holds a keyword, and
# the scan looked for the line's end from each (quadratic in the line's length).
mkdir -p "$work/compose-one-line"
awk -v size="$SIZE" 'BEGIN { printf "environment: {"; for (n = 15; n < size - 40; n += 29) printf " DB_PASSWORD: ${DB_PASSWORD},";
	printf " }\n" }' >"$work/compose-one-line/input.yaml"
# A flow mapping opened and never closed, over lines: every line ends with `,` (so the
# next may hold a key of the { }) and has a keyword; from each line's start the pair is
# looked for over at most 8 line breaks.
lines env-flow-lines 'x: password, a: b, c: d, e: f, g: h, i: j,'
# A flow mapping's name first on every line with a comma after it, and no value: from each
# line's start the value is looked for over its other keys and the line breaks after them.
lines env-flow-names 'name: DB_PASSWORD, a: b, c: d, e: f, g: h'
# Kubernetes Secrets, read as YAML: at most 8 MiB of documents per file are parsed (a
# larger one is reported as not read completely, at once), so these inputs are
# $K8S_SIZE bytes (default 8,000,000), the most that is parsed. One document of
# `kind: Secret` lines; a Secret's data of a value per line (past 10,000 entries the
# file is incomplete); template actions opened and never closed; small tokens in flow
# collections 16 deep, libyaml's slowest.
K8S_SIZE=${K8S_SIZE:-8000000}
lines k8s-kind 'kind: Secret' "$K8S_SIZE"
lines k8s-values '  k: YWJjZGVmZ2hpamtsbW5vcA== # kind: Secret' "$K8S_SIZE"
lines k8s-opens '{{ x # kind: Secret' "$K8S_SIZE"
mkdir -p "$work/k8s-flow"
awk -v size="$K8S_SIZE" 'BEGIN { printf "kind: Secret\nx: "; for (i = 0; i < 16; i++) printf "[";
	n = int(size / 2) - 64; for (i = 0; i < n; i++) printf "a,";
	printf "a"; for (i = 0; i < 16; i++) printf "]"; printf "\n" }' >"$work/k8s-flow/input.txt"

printf '%-14s' input
for r in "$@"; do printf ' %14s' "$(basename "$(dirname "$(dirname "$(dirname "$r")")")")"; done
printf '\n'
for d in "$work"/*/; do
	name=$(basename "$d")
	input=$(ls "$d"input.*)
	bytes=$(wc -c <"$input")
	printf '%-14s' "$name"
	for r in "$@"; do
		if [ -n "${INSTRUCTIONS:-}" ]; then
			{ echo '# ok: secret.jwt'; cat "$input"; } >"$d/labelled.${input##*.}"
			valgrind --tool=callgrind --callgrind-out-file=/dev/null \
				"$r" scan test --secrets "$d/labelled.${input##*.}" 2>&1 >/dev/null |
				awk '/Collected :/ { printf " %10.1fM ins", $NF / 1e6 }'
			continue
		fi
		times=""
		i=0
		while [ "$i" -lt "$ROUNDS" ]; do
			s=$(date +%s%N)
			"$r" scan secrets -C "$d" . >/dev/null 2>&1 || true
			e=$(date +%s%N)
			times="$times $((e - s))"
			i=$((i + 1))
		done
		med=$(printf '%s\n' $times | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
		awk -v b="$bytes" -v t="$med" 'BEGIN { printf " %9.1f MB/s", b / t * 1000 }'
	done
	printf '\n'
done
