package dev.pgmux.loadtest.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** This build's version, from a resource Maven fills in. */
final class Version {
    private Version() {}

    static String get() {
        try (InputStream in = Version.class.getResourceAsStream("/pgmux-loadtest.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "dev");
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "dev";
    }
}
