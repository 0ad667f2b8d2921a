class Crypt {
    void c() throws Exception {
        // ruleid: java.weak-cipher
        Cipher a = Cipher.getInstance("DES/CBC/PKCS5Padding");
        // ok: java.weak-cipher
        Cipher b = Cipher.getInstance("AES/GCM/NoPadding");
    }
}
