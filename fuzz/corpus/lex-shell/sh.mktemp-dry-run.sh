#!/bin/sh
# ruleid: sh.mktemp-dry-run
f=$(mktemp -u)
# ok: sh.mktemp-dry-run
g=$(mktemp)
