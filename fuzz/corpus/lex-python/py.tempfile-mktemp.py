import tempfile

def scratch():
    # ruleid: py.tempfile-mktemp
    path = tempfile.mktemp()
    # ok: py.tempfile-mktemp
    fd, path2 = tempfile.mkstemp()
    return path
