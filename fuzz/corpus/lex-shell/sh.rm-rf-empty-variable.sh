#!/bin/sh
# ruleid: sh.rm-rf-empty-variable
rm -rf "$STEAMROOT/"*
# ok: sh.rm-rf-empty-variable
rm -rf "${STEAMROOT:?}/"*
# ok: sh.rm-rf-empty-variable
rm -rf "$STEAMROOT"
