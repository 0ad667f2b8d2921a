#!/usr/bin/tclsh
set ::cfg(password) "Xq9vT2mLr8sKw4Zp"
dict set cfg db main password "kx93nfpq2lmz8vrtQ"
set d [dict create user ops api_key "Gx4Tm7pq2Lz8vRtW"]
set urlparts(pwd) "anonymous@localhost.localdomain"
