class Load {
    Object load(InputStream in) throws Exception {
        // ruleid: java.object-input-stream
        ObjectInputStream ois = new ObjectInputStream(in);
        return ois.readObject();
    }
}
