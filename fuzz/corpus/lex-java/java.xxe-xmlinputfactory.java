class Stax {
    void a() {
        // ruleid: java.xxe-xmlinputfactory
        XMLInputFactory f = XMLInputFactory.newInstance();
    }
}
