class SafeParse {
    Document parse(InputStream in) throws Exception {
        // ok: java.xxe-documentbuilder
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(in);
    }
}
