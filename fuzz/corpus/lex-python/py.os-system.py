import os

def clean(path):
    # ruleid: py.os-system
    os.system("rm -rf " + path)
    # ruleid: py.os-system
    os.system(f"rm -rf {path}")
    # ok: py.os-system
    os.system("clear")
