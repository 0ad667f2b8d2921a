async function find(db: Db, id: string) {
  // ruleid: js.sql-template
  await db.query(`SELECT * FROM users WHERE id = ${id}`);
  // ok: js.sql-template
  await db.query(`SELECT * FROM users WHERE id = $1`, [id]);
  // ok: js.sql-template
  await db.query(sql`SELECT * FROM users WHERE id = ${id}`);
}
