function calc(expr, model) {
  // ruleid: js.eval
  const r = eval(expr);
  // ok: js.eval
  const two = eval("1 + 1");
  // ok: js.eval
  model.eval(expr);
  // ok: js.eval
  const s = "eval(expr)";
  return r;
}
