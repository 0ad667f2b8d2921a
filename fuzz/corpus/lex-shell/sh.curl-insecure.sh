#!/bin/sh
# ruleid: sh.curl-insecure
curl -fsSLk https://internal.example.com/a.tgz -o a.tgz
# ruleid: sh.curl-insecure
wget --no-check-certificate https://internal.example.com/a.tgz
# ok: sh.curl-insecure
curl -fsSL --cacert ca.pem https://internal.example.com/a.tgz -o a.tgz
