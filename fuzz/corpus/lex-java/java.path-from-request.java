class Download {
    void get(HttpServletRequest request) {
        // ruleid: java.path-from-request
        File f = new File("/srv/files", request.getParameter("name"));
        // ok: java.path-from-request
        File g = new File("/srv/files", "index.html");
    }
}
