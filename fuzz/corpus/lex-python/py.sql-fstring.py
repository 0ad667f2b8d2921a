def find(cur, uid):
    # ruleid: py.sql-fstring
    cur.execute(f"SELECT name FROM t WHERE id = {uid}")
    # ok: py.sql-fstring
    cur.execute("SELECT name FROM t WHERE id = ?", (uid,))
    # ok: py.sql-fstring
    cur.execute(f"SELECT name FROM t")
