const serialize = require("node-serialize");
// ruleid: js.unsafe-deserialize
const obj = serialize.unserialize(req.cookies.profile);
// ok: js.unsafe-deserialize
const obj2 = JSON.parse(req.cookies.profile);
