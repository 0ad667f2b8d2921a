import hashlib

def store(password, data):
    # ruleid: py.weak-password-hash
    h = hashlib.md5(password.encode()).hexdigest()
    # ruleid: py.weak-password-hash
    g = hashlib.new("sha1", password)
    # ok: py.weak-password-hash
    k = hashlib.scrypt(password.encode(), salt=b"x", n=16384, r=8, p=1)
    # ok: py.weak-password-hash
    d = hashlib.sha256(data).hexdigest()
