def run(code, ns):
    # ruleid: py.exec
    exec(code, ns)
    # ok: py.exec
    exec("x = 1", ns)
