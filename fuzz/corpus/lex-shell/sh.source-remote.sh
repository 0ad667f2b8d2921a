#!/bin/bash
# ruleid: sh.source-remote
source <(curl -s https://example.com/env.sh)
# ok: sh.source-remote
source ./env.sh
