const child_process = require("child_process");
const { exec } = require("child_process");

function run(dir, re, s) {
  // ruleid: js.child-process-exec
  child_process.exec("ls " + dir, cb);
  // ruleid: js.child-process-exec
  exec(`tar xf ${dir}/a.tar`);
  // ok: js.child-process-exec
  exec("ls -l", cb);
  // ok: js.child-process-exec
  const m = re.exec(s);
  // ok: js.child-process-exec
  child_process.execFile("ls", [dir]);
}
