class Sax {
    void a() throws Exception {
        // ruleid: java.xxe-saxparser
        SAXParserFactory f = SAXParserFactory.newInstance();
    }
}
