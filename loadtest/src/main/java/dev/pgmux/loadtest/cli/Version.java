package dev.pgmux.loadtest.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** This build's version, from a resource Maven fills in; what {@code --version} prints. */
final class Version implements IVersionProvider {
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

    @Override
    public String[] getVersion() {
        return new String[] {"pgmux-loadtest " + get()};
    }
}
