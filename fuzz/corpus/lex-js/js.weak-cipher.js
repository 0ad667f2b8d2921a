const crypto = require("crypto");
// ruleid: js.weak-cipher
const c1 = crypto.createCipher("aes-256-cbc", password);
// ruleid: js.weak-cipher
const c2 = crypto.createCipheriv("des-ede3-cbc", key, iv);
// ok: js.weak-cipher
const c3 = crypto.createCipheriv("aes-256-gcm", key, iv);
