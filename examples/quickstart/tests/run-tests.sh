#!/bin/sh
# Unit tests for wc: each case is input, expected count.
set -e
bin=$1
fail=0
check() {
	got=$(printf '%s' "$1" | "$bin")
	if [ "$got" = "$2" ]; then
		echo "ok   '$1' -> $got"
	else
		echo "FAIL '$1' -> $got (expected $2)"
		fail=1
	fi
}
check "" 0
check "one" 1
check "one two  three" 3
check "  leading and trailing  " 3
check "tabs	and
newlines" 3
exit $fail
