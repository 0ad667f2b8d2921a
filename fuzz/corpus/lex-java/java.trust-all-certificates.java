class TrustAll implements X509TrustManager {
    public void checkClientTrusted(X509Certificate[] chain, String type) { }
    // ruleid: java.trust-all-certificates
    public void checkServerTrusted(X509Certificate[] chain, String type) { }
    public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
}

class Checking implements X509TrustManager {
    // ok: java.trust-all-certificates
    public void checkServerTrusted(X509Certificate[] chain, String type) throws CertificateException {
        delegate.checkServerTrusted(chain, type);
    }
}
