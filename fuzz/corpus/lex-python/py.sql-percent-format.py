def find(cur, name):
    # ruleid: py.sql-percent-format
    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    # ok: py.sql-percent-format
    cur.execute("SELECT * FROM users WHERE name = %s", (name,))
    # ok: py.sql-percent-format
    log.info("found %s" % name)
