class Calc {
    Object calc(String expr) throws Exception {
        ScriptEngine engine = new ScriptEngineManager().getEngineByName("js");
        // ruleid: java.script-engine-eval
        Object r = engine.eval(expr);
        // ok: java.script-engine-eval
        Object two = engine.eval("1 + 1");
        return r;
    }
}
