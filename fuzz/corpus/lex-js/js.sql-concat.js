async function find(db, id) {
  // ruleid: js.sql-concat
  await db.query("SELECT * FROM users WHERE id = " + id);
  // ok: js.sql-concat
  await db.query("SELECT * FROM users WHERE id = ?", [id]);
  // ok: js.sql-concat
  await db.query("SELECT * FROM users " + "ORDER BY id");
}
