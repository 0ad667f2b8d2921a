class AllHosts implements HostnameVerifier {
    // ruleid: java.hostname-verifier-all
    public boolean verify(String hostname, SSLSession session) { return true; }
}

class SomeHosts implements HostnameVerifier {
    // ok: java.hostname-verifier-all
    public boolean verify(String hostname, SSLSession session) { return hostname.endsWith(".example.com"); }
}
