// Calls in a template literal's ${ }, with the module or its functions bound by the code
// around the template (and, for a template nested in a ${ }, by that ${ }'s code).
const cp = require("child_process");
const { execSync } = require("node:child_process");
const run = promisify(cp.exec);
const re = /x/;

function build(cmd, name) {
  // ruleid: js.child-process-exec
  const out = `${cp.exec(cmd)}`;
  // ruleid: js.child-process-exec
  log(`result: ${execSync("tar xf " + name)}`);
  // ruleid: js.child-process-exec
  const nested = `a ${`b ${run(cmd)}`}`;
  // ruleid: js.child-process-exec
  const inner = `${(() => { const c2 = require("child_process"); return `${c2.exec(cmd)}`; })()}`;
  // ok: js.child-process-exec
  const lit = `${cp.exec("ls -l")}`;
  // ok: js.child-process-exec
  const m = `${re.exec(name)}`;
  // ok: js.child-process-exec
  const other = `${db.exec(cmd)}`;
  return [out, nested, inner, lit, m, other];
}
