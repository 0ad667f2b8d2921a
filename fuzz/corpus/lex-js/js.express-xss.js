app.get("/hello", (req, res) => {
  // ruleid: js.express-xss
  res.send("<h1>Hello " + req.query.name + "</h1>");
  // ok: js.express-xss
  res.send("<h1>Hello</h1>");
});
