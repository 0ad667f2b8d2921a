class SafeXslt {
    void a() {
        // ok: java.xxe-transformer
        TransformerFactory t = TransformerFactory.newInstance();
        t.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    }
}
