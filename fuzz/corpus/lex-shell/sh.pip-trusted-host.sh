#!/bin/sh
# ruleid: sh.pip-trusted-host
pip install --trusted-host pypi.internal -r requirements.txt
# ok: sh.pip-trusted-host
pip install -r requirements.txt
