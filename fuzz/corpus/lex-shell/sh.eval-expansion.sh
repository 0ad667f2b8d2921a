#!/bin/bash
# ruleid: sh.eval-expansion
eval "$1"
# ruleid: sh.eval-expansion
eval $CMD
# ok: sh.eval-expansion
eval "$(ssh-agent -s)"
# ok: sh.eval-expansion
eval set -- foo
