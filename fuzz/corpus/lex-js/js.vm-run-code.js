const vm = require("vm");
// ruleid: js.vm-run-code
vm.runInNewContext(userCode, sandbox);
// ok: js.vm-run-code
vm.runInNewContext("1 + 1", sandbox);
