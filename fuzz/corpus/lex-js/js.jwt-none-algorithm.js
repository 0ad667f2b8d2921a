// ruleid: js.jwt-none-algorithm
jwt.verify(token, key, { algorithms: ["HS256", "none"] });
// ok: js.jwt-none-algorithm
jwt.verify(token, key, { algorithms: ["RS256"] });
