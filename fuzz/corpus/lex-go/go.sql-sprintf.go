package main

import "fmt"

func find(db *sql.DB, name string) {
	// ruleid: go.sql-sprintf
	q := fmt.Sprintf("SELECT * FROM users WHERE name = '%s'", name)
	db.Query(q)
	// ok: go.sql-sprintf
	db.Query("SELECT * FROM users WHERE name = $1", name)
	// ok: go.sql-sprintf
	msg := fmt.Sprintf("hello %s", name)
}
