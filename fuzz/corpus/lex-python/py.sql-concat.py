def find(cur, name):
    # ruleid: py.sql-concat
    cur.execute("SELECT * FROM users WHERE name = '" + name + "'")
    # ok: py.sql-concat
    cur.execute("SELECT * FROM users " + "ORDER BY name")
