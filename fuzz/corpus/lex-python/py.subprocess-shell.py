import subprocess
from subprocess import check_output

def run(cmd, name):
    # ruleid: py.subprocess-shell
    subprocess.run(cmd, shell=True)
    # ruleid: py.subprocess-shell
    subprocess.Popen("ls " + name, shell=True, stdout=subprocess.PIPE)
    # ruleid: py.subprocess-shell
    check_output(cmd, shell=True)
    # ok: py.subprocess-shell
    subprocess.run(["ls", "-l", name])
    # ok: py.subprocess-shell
    subprocess.run(cmd, shell=False)
