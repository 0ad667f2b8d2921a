#!/bin/sh
# ruleid: sh.chmod-world-writable
chmod 777 /srv/app
# ruleid: sh.chmod-world-writable
chmod -R o+w /srv/data
# ok: sh.chmod-world-writable
chmod 755 /srv/app
# ok: sh.chmod-world-writable
chmod u+x run.sh
