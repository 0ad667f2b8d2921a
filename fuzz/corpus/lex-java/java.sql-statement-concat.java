class Users {
    void find(Connection c, String name) throws Exception {
        Statement st = c.createStatement();
        // ruleid: java.sql-statement-concat
        st.executeQuery("SELECT * FROM users WHERE name = '" + name + "'");
        // ok: java.sql-statement-concat
        PreparedStatement ps = c.prepareStatement("SELECT * FROM users WHERE name = ?");
        // ok: java.sql-statement-concat
        log.info("SELECT done for " + name);
    }
}
