import marshal

def load(blob):
    # ruleid: py.marshal-load
    code = marshal.loads(blob)
    # ok: py.marshal-load
    raw = marshal.dumps(code)
