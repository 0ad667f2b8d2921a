import os

def ls(d):
    # ruleid: py.os-popen
    return os.popen("ls %s" % d).read()

def uptime():
    # ok: py.os-popen
    return os.popen("uptime").read()
