def find(cur, uid):
    # ruleid: py.sql-str-format
    cur.execute("DELETE FROM t WHERE id = {}".format(uid))
    # ok: py.sql-str-format
    cur.execute("DELETE FROM t WHERE id = ?", (uid,))
