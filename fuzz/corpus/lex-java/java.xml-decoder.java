class Beans {
    Object load(InputStream in) {
        // ruleid: java.xml-decoder
        XMLDecoder d = new XMLDecoder(in);
        // ok: java.xml-decoder
        XMLEncoder e = new XMLEncoder(out);
        return d.readObject();
    }
}
