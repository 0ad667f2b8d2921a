class Ping {
    void ping(String host) throws Exception {
        // ruleid: java.runtime-exec
        Runtime.getRuntime().exec("ping -c 1 " + host);
        // ok: java.runtime-exec
        Runtime.getRuntime().exec("uptime");
        // ok: java.runtime-exec
        Runtime.getRuntime().exec(new String[] {"ping", "-c", "1", host});
    }
}
