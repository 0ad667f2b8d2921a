class Xslt {
    void a() {
        // ruleid: java.xxe-transformer
        TransformerFactory t = TransformerFactory.newInstance();
    }
}
