const { spawn } = require("child_process");

// ruleid: js.child-process-shell-option
spawn(cmd, args, { cwd: dir, shell: true });
// ok: js.child-process-shell-option
spawn("ls", ["-l"], { cwd: dir });
