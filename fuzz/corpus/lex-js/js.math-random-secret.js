// ruleid: js.math-random-secret
const sessionToken = Math.random().toString(36).slice(2);
// ok: js.math-random-secret
const jitter = Math.random() * 100;
// ok: js.math-random-secret
const apiKey = crypto.randomBytes(32).toString("hex");
