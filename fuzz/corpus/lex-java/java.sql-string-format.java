class Users {
    String q(String name) {
        // ruleid: java.sql-string-format
        String sql = String.format("DELETE FROM users WHERE name = '%s'", name);
        // ok: java.sql-string-format
        String msg = String.format("hello %s", name);
        return sql + msg;
    }
}
