import json
import pickle

def load(blob, fp):
    # ruleid: py.pickle-load
    obj = pickle.loads(blob)
    # ruleid: py.pickle-load
    other = pickle.load(fp)
    # ok: py.pickle-load
    data = json.loads(blob)
    # ok: py.pickle-load
    out = pickle.dumps(data)
    return obj, other
