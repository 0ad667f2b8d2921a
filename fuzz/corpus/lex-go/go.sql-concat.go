package main

func find(db *sql.DB, ctx context.Context, id string) {
	// ruleid: go.sql-concat
	db.Query("SELECT * FROM users WHERE id = " + id)
	// ruleid: go.sql-concat
	db.ExecContext(ctx, "DELETE FROM users WHERE id = "+id)
	// ok: go.sql-concat
	db.Query("SELECT * FROM users WHERE id = $1", id)
}
