class FilteredLoad {
    Object load(InputStream in) throws Exception {
        // ok: java.object-input-stream
        ObjectInputStream ois = new ObjectInputStream(in);
        ois.setObjectInputFilter(ObjectInputFilter.Config.createFilter("com.example.*;!*"));
        return ois.readObject();
    }
}
