#!/bin/sh
# ruleid: sh.apt-unauthenticated
apt-get install -y --allow-unauthenticated curl
# ok: sh.apt-unauthenticated
apt-get install -y --no-install-recommends curl
