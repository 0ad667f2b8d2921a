const crypto = require("crypto");
// ruleid: js.weak-hash
const h = crypto.createHash("md5").update(data).digest("hex");
// ok: js.weak-hash
const g = crypto.createHash("sha256").update(data).digest("hex");
