// ruleid: js.new-function
const f = new Function("a", "b", body);
// ok: js.new-function
const g = (a, b) => a + b;
