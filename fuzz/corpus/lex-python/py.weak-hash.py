import hashlib

def etag(body, password):
    # ruleid: py.weak-hash
    return hashlib.md5(body).hexdigest()

def cache_key(body):
    # ok: py.weak-hash
    return hashlib.md5(body, usedforsecurity=False).hexdigest()

def strong(body):
    # ok: py.weak-hash
    return hashlib.sha256(body).hexdigest()
