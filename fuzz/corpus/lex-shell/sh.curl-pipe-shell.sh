#!/bin/sh
set -e
# ruleid: sh.curl-pipe-shell
curl -fsSL https://get.example.com/install.sh | sh
# ruleid: sh.curl-pipe-shell
wget -qO- https://get.example.com/i.sh | sudo bash -s -- --yes
# ruleid: sh.curl-pipe-shell
bash -c "$(curl -fsSL https://get.example.com/i.sh)"
# ok: sh.curl-pipe-shell
curl -fsSLo install.sh https://get.example.com/install.sh
# ok: sh.curl-pipe-shell
curl -s https://api.example.com/v1 | jq .name
