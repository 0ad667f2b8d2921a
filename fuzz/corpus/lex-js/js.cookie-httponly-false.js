res.cookie("sid", sid, {
  // ruleid: js.cookie-httponly-false
  httpOnly: false,
  secure: true,
});
res.cookie("sid2", sid, {
  // ok: js.cookie-httponly-false
  httpOnly: true,
});
