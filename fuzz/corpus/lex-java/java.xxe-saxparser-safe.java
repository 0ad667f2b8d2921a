class SafeSax {
    void a() throws Exception {
        // ok: java.xxe-saxparser
        SAXParserFactory f = SAXParserFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    }
}
