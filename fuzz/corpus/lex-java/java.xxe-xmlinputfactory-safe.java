class SafeStax {
    void a() {
        // ok: java.xxe-xmlinputfactory
        XMLInputFactory f = XMLInputFactory.newFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    }
}
