import ast

def calc(expr, model):
    # ruleid: py.eval
    result = eval(expr)
    # ok: py.eval
    two = eval("1 + 1")
    # ok: py.eval
    value = ast.literal_eval(expr)
    # ok: py.eval
    model.eval(expr)
    return result
