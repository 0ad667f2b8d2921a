import tarfile

def unpack(path, dest):
    with tarfile.open(path) as tar:
        # ruleid: py.tar-extractall
        tar.extractall(dest)
        # ok: py.tar-extractall
        tar.extractall(dest, filter="data")
