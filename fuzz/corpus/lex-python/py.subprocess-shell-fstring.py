# Calls in an f-string's replacement fields, with subprocess or os (or their functions)
# imported by the code around the f-string.
import subprocess as sp
from subprocess import check_output
from os import system as s


def report(cmd, name, c):
    # ruleid: py.subprocess-shell
    print(f"out: {sp.run(cmd, shell=True)}")
    # ruleid: py.subprocess-shell
    msg = f"{check_output('ls ' + name, shell=True)!r:>20}"
    # ruleid: py.os-system
    print(f"status {s(cmd)}")
    # ok: py.subprocess-shell
    print(f"{sp.run(['ls', name])}")
    # ok: py.subprocess-shell
    print(f"{c.run(cmd, shell=True)}")
    # ok: py.os-system
    print(f"{c.system(cmd)}")
    return msg
