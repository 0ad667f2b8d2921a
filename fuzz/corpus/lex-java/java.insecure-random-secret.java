class Tokens {
    void t() {
        // ruleid: java.insecure-random-secret
        long sessionToken = new Random().nextLong();
        // ok: java.insecure-random-secret
        int dice = new Random().nextInt(6);
        // ok: java.insecure-random-secret
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
    }
}
