class Ldap {
    void find(DirContext ctx, String user) throws Exception {
        // ruleid: java.ldap-injection
        ctx.search("ou=people", "(uid=" + user + ")", controls);
        // ok: java.ldap-injection
        ctx.search("ou=people", "(uid={0})", new Object[] {user}, controls);
    }
}
