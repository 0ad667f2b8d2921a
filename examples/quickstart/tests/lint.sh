#!/bin/sh
# Lint: shell scripts parse, and sources have no trailing whitespace.
set -e
for f in tests/*.sh; do
	sh -n "$f"
	echo "syntax ok: $f"
done
if grep -n '[[:space:]]$' src/*.c; then
	echo "trailing whitespace found"
	exit 1
fi
echo "no trailing whitespace"
