class Run {
    void run(String cmd) throws Exception {
        // ruleid: java.processbuilder-shell
        new ProcessBuilder("sh", "-c", "tar xf " + cmd).start();
        // ok: java.processbuilder-shell
        new ProcessBuilder("tar", "xf", cmd).start();
    }
}
