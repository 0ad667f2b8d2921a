app.get("/go", (req, res) => {
  // ruleid: js.open-redirect
  res.redirect(req.query.next);
});
app.get("/home", (req, res) => {
  // ok: js.open-redirect
  res.redirect("/dashboard");
});
