import os
import stat

# ruleid: py.chmod-permissive
os.chmod("/srv/data", 0o777)
# ok: py.chmod-permissive
os.chmod("/srv/data", 0o750)
