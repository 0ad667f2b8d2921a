class Parse {
    Document parse(InputStream in) throws Exception {
        // ruleid: java.xxe-documentbuilder
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        return f.newDocumentBuilder().parse(in);
    }
}
