import ssl

def ctx():
    # ruleid: py.ssl-unverified
    a = ssl._create_unverified_context()
    b = ssl.create_default_context()
    # ruleid: py.ssl-unverified
    b.check_hostname = False
    # ok: py.ssl-unverified
    c = ssl.create_default_context()
    return a, b, c
