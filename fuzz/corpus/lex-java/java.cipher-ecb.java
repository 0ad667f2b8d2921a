class Crypt {
    void c() throws Exception {
        // ruleid: java.cipher-ecb
        Cipher a = Cipher.getInstance("AES");
        // ruleid: java.cipher-ecb
        Cipher b = Cipher.getInstance("AES/ECB/PKCS5Padding");
        // ok: java.cipher-ecb
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        // ok: java.cipher-ecb
        Cipher d = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
    }
}
