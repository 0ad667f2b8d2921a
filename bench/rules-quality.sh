#!/bin/sh
# Precision and recall of the default rule packs on their labelled fixtures
# (tests/fixtures/rules, docs/rules.md "Testing rules"), per language, SAST and secrets.
#   bench/rules-quality.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$ROOT/build/build.ninja" ] || meson setup "$ROOT/build" >/dev/null
meson compile -C "$ROOT/build" >/dev/null
cd "$ROOT"
status=0
./build/runner/runner scan test tests/fixtures/rules || status=$?
echo
./build/runner/runner scan test --secrets tests/fixtures/rules || status=$?
exit $status
