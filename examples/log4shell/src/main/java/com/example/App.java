package com.example;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/** Greets whoever is named on the command line, and logs it (which is the problem). */
public final class App {
    private static final Logger LOG = LogManager.getLogger(App.class);

    private App() {
    }

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "world";
        LOG.info("greeting {}", name);
        System.out.println("Hello, " + name + "!");
    }
}
