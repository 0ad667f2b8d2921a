#!/bin/sh
# ruleid: sh.rm-rf-unquoted
rm -rf $BUILD_DIR
# ruleid: sh.rm-rf-unquoted
rm -f -r $dir/cache
# ok: sh.rm-rf-unquoted
rm -rf "$BUILD_DIR"
# ok: sh.rm-rf-unquoted
rm -f $tmpfile
