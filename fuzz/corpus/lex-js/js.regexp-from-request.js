app.get("/s", (req, res) => {
  // ruleid: js.regexp-from-request
  const re = new RegExp(req.query.q);
  // ok: js.regexp-from-request
  const re2 = new RegExp("^[a-z]+$");
});
