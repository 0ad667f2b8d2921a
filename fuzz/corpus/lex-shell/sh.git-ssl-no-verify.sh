#!/bin/sh
# ruleid: sh.git-ssl-no-verify
export GIT_SSL_NO_VERIFY=1
# ruleid: sh.git-ssl-no-verify
git config --global http.sslVerify false
# ok: sh.git-ssl-no-verify
git config --global http.sslCAInfo /etc/ssl/ca.pem
